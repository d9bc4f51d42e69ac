package resp

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/node"
	"github.com/cached/cached/node/origin"
)

// fakeREST is an httptest REST origin at /items/{id} that counts calls.
type fakeREST struct {
	srv *httptest.Server

	mu     sync.Mutex // guards the fields below
	values map[string]string
	gets   int
	puts   []string // "id=value" in arrival order
	dels   []string
	down   bool          // answer 503 to everything
	refuse string        // answer 500 to PUT/DELETE of this id
	hold   chan struct{} // GETs wait for it to close, when set
}

func newFakeREST(t testing.TB) *fakeREST {
	f := &fakeREST{values: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeREST) serve(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/items/")
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	hold := f.hold
	if f.down {
		f.mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	switch r.Method {
	case http.MethodGet:
		f.gets++
		v, ok := f.values[id]
		f.mu.Unlock()
		if hold != nil {
			<-hold
		}
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		io.WriteString(w, v)
		return
	case http.MethodPut, http.MethodDelete:
		if id == f.refuse {
			f.mu.Unlock()
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		if r.Method == http.MethodPut {
			f.values[id] = string(body)
			f.puts = append(f.puts, id+"="+string(body))
		} else {
			delete(f.values, id)
			f.dels = append(f.dels, id)
		}
	}
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeREST) set(id, v string) {
	f.mu.Lock()
	f.values[id] = v
	f.mu.Unlock()
}

func (f *fakeREST) getCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets
}

func (f *fakeREST) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func (f *fakeREST) putsSeen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.puts...)
}

// newEngine returns an engine with the "items" origin at f for rules.
func newEngine(t testing.TB, f *fakeREST, edit func(*origin.Config), rules ...origin.Rule) *origin.Engine {
	t.Helper()
	h, err := origin.NewHTTP(origin.HTTPConfig{URL: f.srv.URL + "/items/{id}", MaxBody: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	cfg := origin.DefaultConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Rules = rules
	cfg.Breaker = origin.BreakerConfig{Failures: 3, Cooldown: 50 * time.Millisecond}
	cfg.Queue.RetryMin, cfg.Queue.RetryMax = 5*time.Millisecond, 20*time.Millisecond
	if edit != nil {
		edit(&cfg)
	}
	e, err := origin.New(cfg, map[string]origin.Origin{"items": h})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func itemRule(mode origin.Mode) origin.Rule {
	return origin.Rule{Pattern: "item:*", Origin: "items", Mode: mode, TTL: time.Minute, Jitter: 0.1, NegativeTTL: time.Minute, Timeout: 2 * time.Second}
}

// startOriginServer starts a single node whose origins are e.
func startOriginServer(t testing.TB, e *origin.Engine) (*testServer, *redis.Client) {
	ts := startServer(t, func(_ *node.Config, c *Config) { c.Origins = e })
	rc := redis.NewClient(&redis.Options{Addr: ts.addr})
	t.Cleanup(func() { rc.Close() })
	return ts, rc
}

// TestOriginMissStormCluster sends 1,000 concurrent GETs of one missing
// key over the three nodes of a cluster: the key's owner loads it once.
func TestOriginMissStormCluster(t *testing.T) {
	f := newFakeREST(t)
	f.set("42", "answer")
	hold := make(chan struct{})
	f.hold = hold // every GET waits until all clients have sent theirs
	tc := startClusterWith(t, 3, nil, func(_ string, c *Config) {
		c.Origins = newEngine(t, f, nil, itemRule(origin.ReadThrough))
	})
	tc.waitSettled() // no slot changes hands during the storm
	nodes := tc.live()
	const clients, each = 100, 10
	var wg sync.WaitGroup
	var sent atomic.Int32
	errs := make(chan error, clients*each)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc := redis.NewClient(&redis.Options{Addr: nodes[i%len(nodes)].addr, PoolSize: 1, ReadTimeout: 30 * time.Second})
			defer rc.Close()
			for range each {
				sent.Add(1)
				v, err := rc.Get(t.Context(), "item:42").Result()
				if err == nil && v != "answer" {
					err = fmt.Errorf("got %q", v)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	checkFor(t, 10*time.Second, func() error {
		if n := sent.Load(); n < clients {
			return fmt.Errorf("%d GETs sent", n)
		}
		return nil
	})
	close(hold)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := f.getCount(); n != 1 {
		t.Fatalf("origin called %d times, want 1", n)
	}
}

func TestOriginNegativeCache(t *testing.T) {
	f := newFakeREST(t)
	_, rc := startOriginServer(t, newEngine(t, f, nil, itemRule(origin.ReadThrough)))
	for range 3 {
		if err := rc.Get(t.Context(), "item:none").Err(); !errors.Is(err, redis.Nil) {
			t.Fatalf("GET of an absent item: %v, want nil", err)
		}
	}
	if n := f.getCount(); n != 1 {
		t.Fatalf("origin called %d times for an absent item, want 1 (negative-cached)", n)
	}
	// A key no rule matches never reaches the origin.
	if err := rc.Get(t.Context(), "other:1").Err(); !errors.Is(err, redis.Nil) {
		t.Fatal(err)
	}
	if n := f.getCount(); n != 1 {
		t.Fatalf("origin called for a key of no rule")
	}
}

func TestOriginBreaker(t *testing.T) {
	f := newFakeREST(t)
	f.set("1", "one")
	e := newEngine(t, f, nil, itemRule(origin.ReadThrough))
	_, rc := startOriginServer(t, e)
	f.setDown(true)
	for i := range 3 {
		err := rc.Get(t.Context(), "item:1").Err()
		if err == nil || !strings.HasPrefix(err.Error(), "ERR origin GET: status 503") {
			t.Fatalf("GET %d with the origin down: %v", i, err)
		}
	}
	// Open: no more calls reach the origin until the cooldown passes.
	calls := f.getCount()
	err := rc.Get(t.Context(), "item:1").Err()
	if err == nil || err.Error() != "ERR origin unavailable: circuit breaker open" {
		t.Fatalf("GET with the breaker open: %v", err)
	}
	if got := f.getCount(); got != calls {
		t.Fatalf("origin called with the breaker open")
	}
	if st := e.Stats(); st.Origins[0].Breaker != origin.BreakerOpen {
		t.Fatalf("breaker %v, want open", st.Origins[0].Breaker)
	}
	f.setDown(false)
	checkFor(t, 5*time.Second, func() error {
		v, err := rc.Get(t.Context(), "item:1").Result()
		if err != nil || v != "one" {
			return fmt.Errorf("GET after the origin came back: %q, %v", v, err)
		}
		return nil
	})
	if st := e.Stats(); st.Origins[0].Breaker != origin.BreakerClosed {
		t.Fatalf("breaker %v after a success, want closed", st.Origins[0].Breaker)
	}
	info, err := rc.Do(t.Context(), "CACHED", "ORIGINS").Slice()
	if err != nil || len(info) != 1 {
		t.Fatalf("CACHED ORIGINS: %v, %v", info, err)
	}
	if s := rc.Info(t.Context(), "origins").Val(); !strings.Contains(s, "origin0:name=items,breaker=closed") {
		t.Fatalf("INFO origins:\n%s", s)
	}
}

func TestOriginWriteThrough(t *testing.T) {
	f := newFakeREST(t)
	ts, rc := startOriginServer(t, newEngine(t, f, nil, itemRule(origin.WriteThrough)))
	ctx := t.Context()
	if err := rc.Set(ctx, "item:1", "v1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got := f.putsSeen(); len(got) != 1 || got[0] != "1=v1" {
		t.Fatalf("origin PUTs %v", got)
	}
	if v := rc.Get(ctx, "item:1").Val(); v != "v1" {
		t.Fatalf("cache holds %q", v)
	}
	// Refused by the origin: the client sees it, the cache is unchanged.
	f.mu.Lock()
	f.refuse = "1"
	f.mu.Unlock()
	err := rc.Set(ctx, "item:1", "v2", 0).Err()
	if err == nil || !strings.Contains(err.Error(), "ERR origin PUT: status 500") {
		t.Fatalf("refused SET: %v", err)
	}
	if v, _, _ := ts.node.Get([]byte("item:1")); string(v) != "v1" {
		t.Fatalf("cache changed to %q by a refused write", v)
	}
	if err := rc.Del(ctx, "item:1").Err(); err == nil {
		t.Fatal("refused DEL succeeded")
	}
	if !ts.node.Exists([]byte("item:1")) {
		t.Fatal("refused DEL removed the key")
	}
	f.mu.Lock()
	f.refuse = ""
	f.mu.Unlock()
	if n := rc.Del(ctx, "item:1").Val(); n != 1 {
		t.Fatalf("DEL: %d", n)
	}
	if ts.node.Exists([]byte("item:1")) || len(f.dels) != 1 {
		t.Fatalf("DEL: cache %v, origin deletes %v", ts.node.Exists([]byte("item:1")), f.dels)
	}
	// SETEX, GETDEL and UNLINK reach the origin too.
	if err := rc.SetEx(ctx, "item:4", "four", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if v := rc.GetDel(ctx, "item:4").Val(); v != "four" {
		t.Fatalf("GETDEL: %q", v)
	}
	if err := rc.Set(ctx, "item:5", "five", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n := rc.Unlink(ctx, "item:5", "plain").Val(); n != 1 {
		t.Fatalf("UNLINK: %d", n)
	}
	f.mu.Lock()
	puts, dels := fmt.Sprint(f.puts), fmt.Sprint(f.dels)
	f.mu.Unlock()
	if puts != "[1=v1 4=four 5=five]" || dels != "[1 4 5]" {
		t.Fatalf("origin PUTs %s, DELETEs %s", puts, dels)
	}
	// Writes that would bypass the origin are refused.
	for _, args := range [][]any{{"INCR", "item:2"}, {"APPEND", "item:2", "x"}, {"SET", "item:2", "x", "NX"}, {"MSET", "item:2", "x", "a", "b"}} {
		if err := rc.Do(ctx, args...).Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR origin") {
			t.Errorf("%v: %v, want an origin refusal", args, err)
		}
	}
	pipe := rc.TxPipeline()
	pipe.Set(ctx, "item:3", "x", 0)
	if _, err := pipe.Exec(ctx); err == nil {
		t.Error("SET of a write-through key inside MULTI succeeded")
	}
}

func TestOriginWriteBehindRestart(t *testing.T) {
	f := newFakeREST(t)
	dir := t.TempDir()
	withDir := func(c *origin.Config) { c.Queue.Dir = dir }
	f.setDown(true)
	e := newEngine(t, f, withDir, itemRule(origin.WriteBehind))
	ts, rc := startOriginServer(t, e)
	ctx := t.Context()
	for _, v := range []string{"a", "b", "c"} {
		if err := rc.Set(ctx, "item:7", v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rc.Set(ctx, "item:8", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v := rc.Get(ctx, "item:7").Val(); v != "c" {
		t.Fatalf("cache holds %q", v)
	}
	checkFor(t, 5*time.Second, func() error {
		if st := e.Stats(); st.Queue.Retries < 2 || st.Queue.Depth != 2 {
			return fmt.Errorf("queue %+v, want depth 2 (coalesced) and retries", st.Queue)
		}
		return nil
	})
	// Restart with the origin back: the queue is replayed and delivered.
	ts.srv.Close()
	ts.node.Close()
	f.setDown(false)
	e2 := newEngine(t, f, withDir, itemRule(origin.WriteBehind))
	if d := e2.Stats().Queue.Depth; d != 2 {
		t.Fatalf("replayed depth %d, want 2", d)
	}
	startOriginServer(t, e2)
	checkFor(t, 5*time.Second, func() error {
		if got := f.putsSeen(); len(got) != 2 || got[0] != "7=c" || got[1] != "8=x" {
			return fmt.Errorf("origin PUTs %v, want [7=c 8=x]", got)
		}
		if d := e2.Stats().Queue.Depth; d != 0 {
			return fmt.Errorf("depth %d", d)
		}
		return nil
	})
}

// TestOriginServeStale serves a key past its TTL while one background
// load refreshes it.
func TestOriginServeStale(t *testing.T) {
	f := newFakeREST(t)
	f.set("1", "v1")
	rule := origin.Rule{Pattern: "item:*", Origin: "items", Mode: origin.ReadThrough, TTL: 10 * time.Second, StaleTTL: 10 * time.Second, Timeout: 2 * time.Second}
	e := newEngine(t, f, func(c *origin.Config) { c.ServeStale = true }, rule)
	ts, rc := startOriginServer(t, e)
	ctx := t.Context()
	if v := rc.Get(ctx, "item:1").Val(); v != "v1" {
		t.Fatalf("first GET: %q", v)
	}
	if ttl := rc.PTTL(ctx, "item:1").Val(); ttl <= 10*time.Second || ttl > 20*time.Second {
		t.Fatalf("stored for %v, want ttl + stale-ttl", ttl)
	}
	f.set("1", "v2")
	ts.clock.Advance(5 * time.Second)
	if v := rc.Get(ctx, "item:1").Val(); v != "v1" || f.getCount() != 1 {
		t.Fatalf("fresh GET: %q after %d loads", v, f.getCount())
	}
	ts.clock.Advance(7 * time.Second) // past the TTL, within stale-ttl
	if v := rc.Get(ctx, "item:1").Val(); v != "v1" {
		t.Fatalf("stale GET: %q, want the stale value at once", v)
	}
	checkFor(t, 5*time.Second, func() error {
		if v := rc.Get(ctx, "item:1").Val(); v != "v2" {
			return fmt.Errorf("GET after the refresh: %q", v)
		}
		return nil
	})
	if n := f.getCount(); n != 2 {
		t.Fatalf("origin called %d times, want 2", n)
	}
}

// TestOriginMGetCluster loads the missing keys of an MGET whose keys span
// the slots of every node, including those the receiving node owns.
func TestOriginMGetCluster(t *testing.T) {
	f := newFakeREST(t)
	var keys []string
	var want []any
	for i := range 20 {
		id := fmt.Sprint(i)
		f.set(id, "v"+id)
		keys = append(keys, "item:"+id)
		want = append(want, "v"+id)
	}
	keys = append(keys, "item:none", "plain")
	want = append(want, nil, nil)
	tc := startClusterWith(t, 3, nil, func(_ string, c *Config) {
		c.Origins = newEngine(t, f, nil, itemRule(origin.ReadThrough))
	})
	tc.waitSettled()
	rc := redis.NewClient(&redis.Options{Addr: tc.live()[0].addr, ReadTimeout: 30 * time.Second})
	defer rc.Close()
	got, err := rc.MGet(t.Context(), keys...).Result()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("MGET: %v, want %v", got, want)
	}
	if n := f.getCount(); n != 21 {
		t.Fatalf("origin called %d times, want 21", n)
	}
}
