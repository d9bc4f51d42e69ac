package resp

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cached/cached/node"
)

// infoLines returns the "key:value" lines of an INFO section, by key.
func infoLines(t *testing.T, r *rawConn, section string) map[string]string {
	t.Helper()
	r.do("INFO", section)
	out := map[string]string{}
	for line := range strings.Lines(connBulk(t, r.reply())) {
		line = strings.TrimSuffix(line, "\r\n")
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			out[k] = v
		}
	}
	return out
}

// statFields parses "a=1,b=2" into a map.
func statFields(v string) map[string]string {
	out := map[string]string{}
	for f := range strings.SplitSeq(v, ",") {
		k, val, _ := strings.Cut(f, "=")
		out[k] = val
	}
	return out
}

var cmdstatFormat = regexp.MustCompile(`^calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=\d+,failed_calls=\d+$`)

func TestCommandStats(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.raw(t)
	r.expect("+OK\r\n", "CONFIG", "RESETSTAT")
	for range 7 {
		r.expect("+OK\r\n", "SET", "k", "v")
	}
	for range 3 {
		r.expect("$1\r\nv\r\n", "GET", "k")
	}
	r.expect("-ERR wrong number of arguments for 'get' command\r\n", "GET")
	r.expect("-ERR wrong number of arguments for 'get' command\r\n", "GET", "a", "b")
	r.expect("-ERR unknown command 'NOSUCH', with args beginning with: \r\n", "NOSUCH")
	r.expect("-ERR value is not an integer or out of range\r\n", "INCR", "k")
	r.expect("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "LPUSH", "k", "x")
	r.do("CONFIG", "NOSUCH")
	r.reply()
	// Queued commands count when EXEC runs them, EXEC and MULTI count once.
	r.expect("+OK\r\n", "MULTI")
	r.expect("+QUEUED\r\n", "SET", "k", "v")
	r.expect("+QUEUED\r\n", "INCR", "k")
	r.expect("*2\r\n+OK\r\n-ERR value is not an integer or out of range\r\n", "EXEC")

	stats := infoLines(t, r, "commandstats")
	want := map[string]map[string]string{
		"cmdstat_set":              {"calls": "8", "rejected_calls": "0", "failed_calls": "0"},
		"cmdstat_get":              {"calls": "3", "rejected_calls": "2", "failed_calls": "0"},
		"cmdstat_incr":             {"calls": "2", "rejected_calls": "0", "failed_calls": "2"},
		"cmdstat_lpush":            {"calls": "1", "rejected_calls": "0", "failed_calls": "1"},
		"cmdstat_multi":            {"calls": "1", "rejected_calls": "0", "failed_calls": "0"},
		"cmdstat_exec":             {"calls": "1", "rejected_calls": "0", "failed_calls": "0"},
		"cmdstat_config|resetstat": {"calls": "1", "rejected_calls": "0", "failed_calls": "0"},
	}
	if len(stats) != len(want) {
		t.Errorf("commandstats has %d lines, want %d: %v", len(stats), len(want), stats)
	}
	for k, fields := range want {
		v, ok := stats[k]
		if !ok {
			t.Errorf("no %s in %v", k, stats)
			continue
		}
		if !cmdstatFormat.MatchString(v) {
			t.Errorf("%s:%s is not in Redis's format", k, v)
		}
		got := statFields(v)
		for f, w := range fields {
			if got[f] != w {
				t.Errorf("%s %s = %s, want %s", k, f, got[f], w)
			}
		}
	}

	errs := infoLines(t, r, "errorstats")
	wantErrs := map[string]string{"errorstat_ERR": "count=6", "errorstat_WRONGTYPE": "count=1"}
	if len(errs) != len(wantErrs) {
		t.Errorf("errorstats = %v, want %v", errs, wantErrs)
	}
	for k, v := range wantErrs {
		if errs[k] != v {
			t.Errorf("%s = %q, want %q", k, errs[k], v)
		}
	}

	if got := infoLines(t, r, "stats")["total_error_replies"]; got != "7" {
		t.Errorf("total_error_replies = %q, want 7", got)
	}

	lat := infoLines(t, r, "latencystats")
	latFormat := regexp.MustCompile(`^p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$`)
	for _, name := range []string{"set", "get", "incr"} {
		if v := lat["latency_percentiles_usec_"+name]; !latFormat.MatchString(v) {
			t.Errorf("latency_percentiles_usec_%s = %q", name, v)
		}
	}
	if _, ok := lat["latency_percentiles_usec_nosuch"]; ok {
		t.Error("an unknown command has latency percentiles")
	}

	r.expect("+OK\r\n", "CONFIG", "RESETSTAT")
	stats = infoLines(t, r, "commandstats")
	if len(stats) != 1 || statFields(stats["cmdstat_config|resetstat"])["calls"] != "1" {
		t.Errorf("after CONFIG RESETSTAT: %v, want only config|resetstat's own call", stats)
	}
	if errs := infoLines(t, r, "errorstats"); len(errs) != 0 {
		t.Errorf("errorstats after CONFIG RESETSTAT: %v", errs)
	}
}

func TestCommandStatsRejected(t *testing.T) {
	ts := startServer(t, func(_ *node.Config, c *Config) { c.RequirePass = "secret" })
	r := ts.raw(t)
	r.expect("-NOAUTH Authentication required.\r\n", "GET", "k")
	r.expect("+OK\r\n", "AUTH", "secret")
	stats := infoLines(t, r, "commandstats")
	if got := statFields(stats["cmdstat_get"]); got["calls"] != "0" || got["rejected_calls"] != "1" {
		t.Errorf("cmdstat_get = %q, want one rejected call", stats["cmdstat_get"])
	}
	if got := infoLines(t, r, "errorstats")["errorstat_NOAUTH"]; got != "count=1" {
		t.Errorf("errorstat_NOAUTH = %q", got)
	}
}

func TestCommandStatsSubcommands(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.raw(t)
	r.do("CLIENT", "ID")
	r.reply()
	r.do("CLIENT", "NOSUCH")
	r.reply()
	stats := infoLines(t, r, "commandstats")
	if got := statFields(stats["cmdstat_client|id"]); got["calls"] != "1" {
		t.Errorf("cmdstat_client|id = %q", stats["cmdstat_client|id"])
	}
	if v, ok := stats["cmdstat_client"]; ok {
		t.Errorf("an unknown subcommand counts for its container: cmdstat_client:%s", v)
	}
}

// TestScratchErrorReply: a reply assembled on a client of no server (a
// split command's merged reply) may hold an error.
func TestScratchErrorReply(t *testing.T) {
	got := mergeSplit("mget", 1, 2, func(int) ([]byte, []int, error) { return nil, nil, errors.New("unreachable") }, 1)
	if want := "-" + msgTryAgain + "\r\n"; string(got) != want {
		t.Errorf("merged reply %q, want %q", got, want)
	}
}

// TestErrorStatsLimit: errorstats tracks at most maxErrorCodes codes, as
// Redis does; total_error_replies counts every error.
func TestErrorStatsLimit(t *testing.T) {
	e := errorStats{counts: map[string]*atomic.Uint64{}}
	for i := range maxErrorCodes + 72 {
		e.add("CODE" + strconv.Itoa(i))
	}
	e.add("CODE0")
	snap := e.snapshot()
	if len(snap) != maxErrorCodes || e.total.Load() != maxErrorCodes+73 {
		t.Fatalf("%d codes, %d errors; want %d codes, %d errors", len(snap), e.total.Load(), maxErrorCodes, maxErrorCodes+73)
	}
	for _, c := range snap {
		if want := uint64(1) + uint64(boolInt(c.Code == "CODE0")); c.Count != want {
			t.Errorf("%s = %d, want %d", c.Code, c.Count, want)
		}
	}
}
