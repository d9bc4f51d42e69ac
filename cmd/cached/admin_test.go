package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cached/cached/node"
)

// runProc is one run of the whole program in this test process.
type runProc struct {
	port, admin, gossip string
	peer                string // the peer port, when clustered
	cancel              context.CancelFunc
	done                chan error
}

// startRun starts run with args plus free client, peer and admin ports
// (and a gossip port when clustered).
func startRun(t *testing.T, clustered bool, args ...string) *runProc {
	t.Helper()
	return startRunLogging(t, io.Discard, clustered, args...)
}

// startRunLogging is startRun with the program's log written to logs.
func startRunLogging(t *testing.T, logs io.Writer, clustered bool, args ...string) *runProc {
	t.Helper()
	p := &runProc{port: strconv.Itoa(freePort(t)), admin: strconv.Itoa(freePort(t)), done: make(chan error, 1)}
	args = append([]string{"--port", p.port, "--admin-port", p.admin, "--grpc-port", "0"}, args...)
	if clustered {
		p.gossip, p.peer = strconv.Itoa(freePort(t)), strconv.Itoa(freePort(t))
		args = append(args, "--cluster-enabled", "yes", "--gossip-port", p.gossip, "--peer-port", p.peer)
	}
	var ctx context.Context
	ctx, p.cancel = context.WithCancel(context.Background())
	go func() { p.done <- run(ctx, args, env(), logs) }()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop cancels the run and waits for it; later calls do nothing.
func (p *runProc) stop(t *testing.T) {
	t.Helper()
	if p.done == nil {
		return
	}
	p.cancel()
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("run returned %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Error("run did not stop")
	}
	p.done = nil
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// get returns the status and body of an admin endpoint, or 0 if the
// server does not answer.
func (p *runProc) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := httpClient.Get("http://127.0.0.1:" + p.admin + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// waitStatus polls path until it answers status.
func (p *runProc) waitStatus(t *testing.T, path string, status int, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, body := p.get(t, path)
		if code == status {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %q, want %d", path, code, body, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scrape returns the samples of /metrics by series ("name" or
// `name{label="value",...}` as exposed).
func (p *runProc) scrape(t *testing.T) map[string]float64 {
	t.Helper()
	body := p.waitStatus(t, "/metrics", http.StatusOK, 5*time.Second)
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func TestAdminSingleNode(t *testing.T) {
	p := startRun(t, false, "--maxmemory", "64mb")
	p.waitStatus(t, "/healthz", http.StatusOK, 5*time.Second)
	p.waitStatus(t, "/readyz", http.StatusOK, 5*time.Second)
	c := dialRESP(t, p.port)
	before := p.scrape(t)
	const keys = 100
	for i := range keys {
		if got := c.do(t, "SET k"+strconv.Itoa(i)+" v"); got != "+OK" {
			t.Fatalf("SET: %q", got)
		}
	}
	c.do(t, "EXPIRE k0 1000")
	c.do(t, "GET k1")
	c.do(t, "GET k2")
	c.do(t, "GET missing")
	m := p.scrape(t)
	for _, tt := range []struct {
		series string
		want   float64
	}{
		{"cached_keys", keys},
		{"cached_keys_volatile", 1},
		{"cached_memory_max_bytes", 64 << 20},
		{"cached_connected_clients", 1},
		{"cached_ready", 1},
		{`cached_build_info{goversion="` + goVersion(m) + `",version="dev"}`, 1},
	} {
		if got, ok := m[tt.series]; !ok || got != tt.want {
			t.Errorf("%s = %v (present %v), want %v", tt.series, got, ok, tt.want)
		}
	}
	for _, tt := range []struct {
		series  string
		atLeast float64
	}{
		{"cached_keyspace_hits_total", 2},
		{"cached_keyspace_misses_total", 1},
		{"cached_memory_used_bytes", keys * 8},
	} {
		if got := m[tt.series] - before[tt.series]; got < tt.atLeast {
			t.Errorf("%s moved by %v, want at least %v", tt.series, got, tt.atLeast)
		}
	}
	for _, name := range []string{"cached_expired_keys_total", "cached_evicted_keys_total", "go_goroutines",
		"go_memstats_heap_inuse_bytes", "process_resident_memory_bytes", "process_cpu_seconds_total"} {
		if _, ok := m[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	for series := range m {
		if strings.HasPrefix(series, "cached_cluster_") {
			t.Errorf("cluster metric %s on a single node", series)
		}
	}
	if code, body := p.get(t, "/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("/debug/pprof/: %d %.80q", code, body)
	}
	if code, _ := p.get(t, "/nope"); code != http.StatusNotFound {
		t.Errorf("/nope: %d, want 404", code)
	}
	p.stop(t)
	if code, _ := p.get(t, "/healthz"); code != 0 {
		t.Errorf("/healthz after stop: %d, want no server", code)
	}
}

// goVersion returns the goversion label of cached_build_info.
func goVersion(m map[string]float64) string {
	for series := range m {
		if rest, ok := strings.CutPrefix(series, `cached_build_info{goversion="`); ok {
			return rest[:strings.IndexByte(rest, '"')]
		}
	}
	return ""
}

// TestAdminReadyzCluster: a node of a cluster that needs two members is
// live but not ready alone, and ready once a second node has joined.
func TestAdminReadyzCluster(t *testing.T) {
	a := startRun(t, true, "--node-name", "a", "--min-members", "2")
	a.waitStatus(t, "/healthz", http.StatusOK, 10*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		// "not serving" until JoinCluster returns, then min-members.
		code, body := a.get(t, "/readyz")
		if code != http.StatusServiceUnavailable {
			t.Fatalf("/readyz alone: %d %q, want 503", code, body)
		}
		if strings.Contains(body, "min-members") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz alone: %q, want it to name min-members", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m := a.scrape(t); m["cached_ready"] != 0 || m["cached_cluster_ready"] != 0 || m["cached_cluster_members"] != 1 {
		t.Errorf("alone: ready %v cluster_ready %v members %v, want 0 0 1",
			m["cached_ready"], m["cached_cluster_ready"], m["cached_cluster_members"])
	}
	b := startRun(t, true, "--node-name", "b", "--min-members", "2", "--join", "127.0.0.1:"+a.gossip)
	// Empty slots may count as importing until loadGrace has passed (the
	// grace starts at the first probe that finds the rest ready): probe
	// both nodes in turn.
	deadline = time.Now().Add(loadGrace + 15*time.Second)
	for {
		codeA, bodyA := a.get(t, "/readyz")
		codeB, bodyB := b.get(t, "/readyz")
		if codeA == http.StatusOK && codeB == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz with two members: a %d %q, b %d %q; want 200", codeA, bodyA, codeB, bodyB)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c := dialRESP(t, a.port)
	for i := range 50 {
		if got := c.do(t, "SET k"+strconv.Itoa(i)+" v"); got != "+OK" {
			t.Fatalf("SET: %q", got)
		}
	}
	// Replication is asynchronous: poll until both copies count.
	deadline = time.Now().Add(10 * time.Second)
	for {
		ma, mb := a.scrape(t), b.scrape(t)
		ok := ma["cached_keys"] == 50 && mb["cached_keys"] == 50
		for _, m := range []map[string]float64{ma, mb} {
			ok = ok && m["cached_ready"] == 1 && m["cached_cluster_ready"] == 1 && m["cached_cluster_members"] == 2 &&
				m[`cached_cluster_slots{role="primary"}`] > 0 && m[`cached_cluster_slots{role="replica"}`] > 0
			for _, name := range []string{"cached_cluster_slots_importing", "cached_cluster_slots_to_hand_off",
				"cached_cluster_keys_handed_off_total", "cached_cluster_records_replicated_total",
				"cached_cluster_replication_errors_total", "cached_cluster_replication_lag_changes", "cached_cluster_leaving"} {
				_, has := m[name]
				ok = ok && has
			}
		}
		if ok && ma["cached_cluster_records_replicated_total"]+mb["cached_cluster_records_replicated_total"] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster metrics did not settle:\na: %v\nb: %v", ma, mb)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.stop(t)
	a.stop(t)
}

// fakeNode is a clusterNode whose state the test sets.
type fakeNode struct {
	clustered, ready bool
	view             *node.View
}

func (f *fakeNode) Clustered() bool                 { return f.clustered }
func (f *fakeNode) Ready() bool                     { return f.ready }
func (f *fakeNode) View() *node.View                { return f.view }
func (f *fakeNode) ClusterStats() node.ClusterStats { return node.ClusterStats{} }

func TestReadiness(t *testing.T) {
	tests := []struct {
		name    string
		node    fakeNode
		serving bool
		want    bool
		why     string
	}{
		{"single node starting", fakeNode{}, false, false, "not serving"},
		{"single node serving", fakeNode{}, true, true, ""},
		{"cluster not joined", fakeNode{clustered: true}, true, false, "not joined"},
		{"cluster shutting down", fakeNode{clustered: true, ready: true}, false, false, "not serving"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReadiness(&tt.node)
			r.serving.Store(tt.serving)
			ok, why := r.check()
			if ok != tt.want || !strings.Contains(why, tt.why) {
				t.Errorf("check() = %v %q, want %v %q", ok, why, tt.want, tt.why)
			}
		})
	}
}

// TestSlotsLoaded: readiness waits for imported slots, at most loadGrace,
// and once loaded stays loaded while slots move later.
func TestSlotsLoaded(t *testing.T) {
	now := time.Unix(1000, 0)
	r := newReadiness(&fakeNode{})
	r.now = func() time.Time { return now }
	steps := []struct {
		after     time.Duration
		importing int
		want      bool
	}{
		{0, 10, false},
		{loadGrace / 2, 3, false},
		{loadGrace/2 + time.Second, 3, true}, // grace over
		{time.Second, 500, true},             // latched
	}
	r2 := newReadiness(&fakeNode{})
	r2.now = r.now
	for i, s := range steps {
		now = now.Add(s.after)
		if got := r.slotsLoaded(s.importing); got != s.want {
			t.Errorf("step %d: slotsLoaded(%d) = %v, want %v", i, s.importing, got, s.want)
		}
	}
	if !r2.slotsLoaded(0) {
		t.Error("nothing importing: not loaded")
	}
}

func TestLoadConfigAdminPort(t *testing.T) {
	tests := []struct {
		args []string
		env  func(string) (string, bool)
		want string
	}{
		{nil, env(), "127.0.0.1:9121"},
		{[]string{"--admin-port", "0"}, env(), ""},
		{[]string{"--bind", "0.0.0.0"}, env("CACHED_ADMIN_PORT", "9200"), "0.0.0.0:9200"},
	}
	for _, tt := range tests {
		c, err := loadConfig(tt.args, tt.env, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if c.adminAddr != tt.want {
			t.Errorf("%v: admin addr %q, want %q", tt.args, c.adminAddr, tt.want)
		}
	}
	if _, err := loadConfig([]string{"--admin-port", "65536"}, env(), io.Discard); err == nil || !strings.Contains(err.Error(), "invalid admin-port") {
		t.Errorf("admin-port 65536: %v", err)
	}
}

// TestAdminPersistenceMetrics checks the persistence series of a node with
// a data directory.
func TestAdminPersistenceMetrics(t *testing.T) {
	p := startRun(t, false, "--dir", t.TempDir(), "--save", "")
	p.waitStatus(t, "/readyz", http.StatusOK, 5*time.Second)
	c := dialRESP(t, p.port)
	for i := range 50 {
		c.do(t, "SET k"+strconv.Itoa(i)+" v")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		m := p.scrape(t)
		if m["cached_persistence_log_bytes"] > 0 && m["cached_persistence_changes_since_save"] == 50 {
			if m["cached_persistence_last_write_ok"] != 1 || m["cached_persistence_saving"] != 0 {
				t.Fatalf("persistence series: %v", m)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log never grew: %v", m)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := c.do(t, "SAVE"); got != "+OK" {
		t.Fatalf("SAVE: %q", got)
	}
	if m := p.scrape(t); m["cached_persistence_changes_since_save"] != 0 || m["cached_persistence_last_save_ok"] != 1 {
		t.Fatalf("after SAVE: %v", m)
	}
}
