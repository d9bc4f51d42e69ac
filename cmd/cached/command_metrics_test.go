package main

import (
	"bufio"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// metricFamilies returns the "# TYPE" of every cached_* family of /metrics.
func (p *runProc) metricFamilies(t *testing.T) map[string]string {
	t.Helper()
	body := p.waitStatus(t, "/metrics", http.StatusOK, 5*time.Second)
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 4 && f[1] == "TYPE" && strings.HasPrefix(f[2], "cached_") {
			out[f[2]] = f[3]
		}
	}
	return out
}

var seriesLabels = regexp.MustCompile(`^(\w+)\{(.*)\}$`)

// labelNames returns the label names of a series, in order.
func labelNames(series string) []string {
	m := seriesLabels.FindStringSubmatch(series)
	if m == nil {
		return nil
	}
	var out []string
	for pair := range strings.SplitSeq(m[2], ",") {
		out = append(out, pair[:strings.IndexByte(pair, '=')])
	}
	return out
}

func TestCommandMetrics(t *testing.T) {
	p := startRun(t, false)
	p.waitStatus(t, "/readyz", http.StatusOK, 5*time.Second)
	c := dialRESP(t, p.port)
	for range 7 {
		if got := c.do(t, "SET k v"); got != "+OK" {
			t.Fatalf("SET: %q", got)
		}
	}
	for range 3 {
		if got := c.do(t, "GET k"); got != "v" {
			t.Fatalf("GET: %q", got)
		}
	}
	for _, cmd := range []string{"GET", "GET a b", "NOSUCH x"} {
		if got := c.do(t, cmd); !strings.HasPrefix(got, "-ERR") {
			t.Fatalf("%s: %q, want an error", cmd, got)
		}
	}
	m := p.scrape(t)
	for _, tt := range []struct {
		series string
		want   float64
	}{
		{`cached_commands_total{command="set",result="ok"}`, 7},
		{`cached_commands_total{command="set",result="error"}`, 0},
		{`cached_commands_total{command="set",result="rejected"}`, 0},
		{`cached_commands_total{command="get",result="ok"}`, 3},
		{`cached_commands_total{command="get",result="error"}`, 0},
		{`cached_commands_total{command="get",result="rejected"}`, 2},
		{`cached_command_duration_seconds_count{command="set"}`, 7},
		{`cached_command_duration_seconds_bucket{command="set",le="+Inf"}`, 7},
		{`cached_command_duration_seconds_count{command="get"}`, 3},
		{`cached_command_duration_seconds_bucket{command="get",le="+Inf"}`, 3},
		{`cached_error_replies_total{code="ERR"}`, 3},
		{`cached_forwarded_requests_total{result="ok"}`, 0},
		{`cached_forwarded_requests_total{result="error"}`, 0},
	} {
		if got, ok := m[tt.series]; !ok || got != tt.want {
			t.Errorf("%s = %v (present %v), want %v", tt.series, got, ok, tt.want)
		}
	}
	if _, ok := m[`cached_command_duration_seconds_sum{command="set"}`]; !ok {
		t.Error("no cached_command_duration_seconds_sum for set")
	}
	// Only the commands that ran or were refused have series; an unknown
	// command has none (it is an ERR error reply).
	buckets := 0
	var commands []string
	for series := range m {
		name, _, _ := strings.Cut(series, "{")
		switch name {
		case "cached_commands_total":
			if got := labelNames(series); !slices.Equal(got, []string{"command", "result"}) {
				t.Errorf("%s: labels %v", series, got)
			}
			cmd := series[strings.Index(series, `command="`)+9:]
			cmd = cmd[:strings.IndexByte(cmd, '"')]
			if !slices.Contains(commands, cmd) {
				commands = append(commands, cmd)
			}
		case "cached_command_duration_seconds_bucket":
			if got := labelNames(series); !slices.Equal(got, []string{"command", "le"}) {
				t.Errorf("%s: labels %v", series, got)
			}
			if strings.Contains(series, `command="set"`) {
				buckets++
			}
		}
	}
	slices.Sort(commands)
	if !slices.Equal(commands, []string{"get", "set"}) {
		t.Errorf("commands with series %v, want get and set", commands)
	}
	if buckets < 20 {
		t.Errorf("%d histogram buckets for set, want the power-of-two bounds from 1µs", buckets)
	}
	if _, ok := m[`cached_command_duration_seconds_bucket{command="set",le="1e-06"}`]; !ok {
		t.Error("no 1µs bucket")
	}

	families := p.metricFamilies(t)
	want := map[string]string{
		"cached_build_info": "gauge", "cached_ready": "gauge", "cached_keys": "gauge", "cached_keys_volatile": "gauge",
		"cached_memory_used_bytes": "gauge", "cached_memory_max_bytes": "gauge", "cached_connected_clients": "gauge",
		"cached_keyspace_hits_total": "counter", "cached_keyspace_misses_total": "counter",
		"cached_expired_keys_total": "counter", "cached_evicted_keys_total": "counter",
		"cached_commands_total": "counter", "cached_command_duration_seconds": "histogram",
		"cached_error_replies_total": "counter", "cached_forwarded_requests_total": "counter",
	}
	for name, typ := range want {
		if families[name] != typ {
			t.Errorf("family %s: type %q, want %s", name, families[name], typ)
		}
	}
	for name, typ := range families {
		if _, ok := want[name]; !ok {
			t.Errorf("family %s (%s) is not in this test's list: add it", name, typ)
		}
		if (typ == "counter") != strings.HasSuffix(name, "_total") {
			t.Errorf("family %s is a %s: counters, and only they, end in _total", name, typ)
		}
		if typ == "histogram" && !strings.HasSuffix(name, "_seconds") && !strings.HasSuffix(name, "_bytes") {
			t.Errorf("histogram %s has no unit suffix", name)
		}
	}
}
