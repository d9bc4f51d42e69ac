package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/client"
	"github.com/cached/cached/node"
	"github.com/cached/cached/protocol/grpc/grpctest"
	"github.com/cached/cached/ring"
)

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newClient(t testing.TB, cfg client.Config) *client.Client {
	t.Helper()
	c, err := client.New(ctxT(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type profile struct {
	Name string `json:"name"`
	Age  int    `json:"age"`
}

// TestCalls runs the typed calls against a single node and a cluster.
func TestCalls(t *testing.T) {
	for _, clustered := range []bool{false, true} {
		t.Run(map[bool]string{false: "single", true: "cluster"}[clustered], func(t *testing.T) {
			var addrs []string
			if clustered {
				addrs = grpctest.StartCluster(t, 3, nil).Addrs()
			} else {
				addrs = []string{grpctest.StartSingle(t, nil).Addr()}
			}
			c := newClient(t, client.Config{Addrs: addrs})
			if c.Clustered() != clustered {
				t.Fatalf("Clustered() = %v", c.Clustered())
			}
			ctx := ctxT(t)
			if _, err := c.Get(ctx, "missing"); !errors.Is(err, client.ErrNotFound) {
				t.Fatalf("Get missing: %v", err)
			}
			if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
				t.Fatal(err)
			}
			if v, err := c.Get(ctx, "k"); err != nil || string(v) != "v" {
				t.Fatalf("Get = %q, %v", v, err)
			}
			if ttl := c.Redis().PTTL(ctx, "k").Val(); ttl <= 59*time.Second {
				t.Fatalf("ttl %v", ttl)
			}
			if ok, err := c.SetNX(ctx, "k", []byte("w"), 0); err != nil || ok {
				t.Fatalf("SetNX existing = %v, %v", ok, err)
			}
			if ok, err := c.SetNX(ctx, "nx", []byte("w"), 0); err != nil || !ok {
				t.Fatalf("SetNX new = %v, %v", ok, err)
			}
			for want := int64(1); want <= 3; want++ {
				if v, err := c.Incr(ctx, "counter"); err != nil || v != want {
					t.Fatalf("Incr = %d, %v", v, err)
				}
			}
			if ok, err := c.Expire(ctx, "counter", time.Minute); err != nil || !ok {
				t.Fatalf("Expire = %v, %v", ok, err)
			}
			// MSet/MGet over many slots.
			items := map[string][]byte{"empty": {}}
			var keys []string
			for i := range 40 {
				k := fmt.Sprintf("m:%d", i)
				items[k] = []byte(k)
				keys = append(keys, k)
			}
			if err := c.MSet(ctx, items, 0); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, "absent", "empty")
			vals, err := c.MGet(ctx, keys...)
			if err != nil {
				t.Fatal(err)
			}
			for i, k := range keys[:40] {
				if string(vals[i]) != k {
					t.Fatalf("MGet %s = %q", k, vals[i])
				}
			}
			if vals[40] != nil || vals[41] == nil || len(vals[41]) != 0 {
				t.Fatalf("MGet absent/empty = %q %q", vals[40], vals[41])
			}
			if n, err := c.Delete(ctx, append(keys[:10:10], "absent")...); err != nil || n != 10 {
				t.Fatalf("Delete = %d, %v", n, err)
			}
			// JSON helpers.
			if err := client.SetJSON(ctx, c, "user:1", profile{"Ada", 36}, 0); err != nil {
				t.Fatal(err)
			}
			p, err := client.GetJSON[profile](ctx, c, "user:1")
			if err != nil || p != (profile{"Ada", 36}) {
				t.Fatalf("GetJSON = %+v, %v", p, err)
			}
			if _, err := client.GetJSON[profile](ctx, c, "user:2"); !errors.Is(err, client.ErrNotFound) {
				t.Fatalf("GetJSON missing: %v", err)
			}
			if _, err := client.GetJSON[profile](ctx, c, "k"); err == nil {
				t.Fatal("GetJSON of a non-JSON value did not fail")
			}
		})
	}
}

// TestClusterRouting: the client sends each key straight to its primary:
// no node forwards anything.
func TestClusterRouting(t *testing.T) {
	tc := grpctest.StartCluster(t, 3, nil)
	var calls atomic.Int64
	c := newClient(t, client.Config{Addrs: tc.Addrs()[:1], Hooks: client.Hooks{Call: func(client.CallInfo) { calls.Add(1) }}})
	ctx := ctxT(t)
	v := tc.Nodes[0].Node.View()
	byAddr := map[string]*grpctest.Node{}
	for _, tn := range tc.Nodes {
		byAddr[tn.Addr()] = tn
	}
	for i := range 30 {
		key := fmt.Sprintf("route:%d", i)
		if err := c.Set(ctx, key, []byte("x"), 0); err != nil {
			t.Fatal(err)
		}
		primary := v.Primary(ring.SlotString(key))
		if _, ok, _ := byAddr[primary.RESP].Node.Get([]byte(key)); !ok {
			t.Fatalf("%s not on its primary %s", key, primary.Name)
		}
	}
	if _, err := c.MGet(ctx, "route:1", "route:2", "route:3", "route:4"); err != nil {
		t.Fatal(err)
	}
	for _, tn := range tc.Nodes {
		if n := forwarded(t, tn); n != 0 {
			t.Fatalf("%s forwarded %d commands: the client did not route to owners", tn.Name, n)
		}
	}
	if calls.Load() != 31 {
		t.Fatalf("Call hook ran %d times, want 31", calls.Load())
	}
}

// forwarded returns a node's cluster_keys_forwarded (INFO cluster).
func forwarded(t *testing.T, tn *grpctest.Node) int64 {
	t.Helper()
	rc := redis.NewClient(&redis.Options{Addr: tn.Addr()})
	defer rc.Close()
	info, err := rc.Info(ctxT(t), "cluster").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "cluster_keys_forwarded:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatalf("no cluster_keys_forwarded in INFO: %q", info)
	return 0
}

// TestNodeLoss: with two copies of each slot, calls keep working once
// gossip has marked a killed node dead, and after a node joins again.
func TestNodeLoss(t *testing.T) {
	tc := grpctest.StartCluster(t, 3, func(c *node.ClusterConfig) { c.Replicas = 2 })
	c := newClient(t, client.Config{Addrs: tc.Addrs(), Refresh: 100 * time.Millisecond})
	ctx := ctxT(t)
	items := map[string][]byte{}
	var keys []string
	for i := range 100 {
		k := fmt.Sprintf("loss:%d", i)
		items[k] = []byte(k)
		keys = append(keys, k)
	}
	if err := c.MSet(ctx, items, 0); err != nil {
		t.Fatal(err)
	}
	tc.WaitSettled(t)
	start := time.Now()
	tc.Nodes[2].Stop()
	tc.WaitMembers(t, 2)
	t.Logf("gossip marked the node dead after %v", time.Since(start))
	check := func() {
		t.Helper()
		for _, k := range keys {
			v, err := c.Get(ctx, k)
			if err != nil || string(v) != k {
				t.Fatalf("Get %s = %q, %v", k, v, err)
			}
		}
		vals, err := c.MGet(ctx, keys...)
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range keys {
			if string(vals[i]) != k {
				t.Fatalf("MGet %s = %q", k, vals[i])
			}
		}
		if err := c.Set(ctx, "after", []byte("1"), 0); err != nil {
			t.Fatal(err)
		}
	}
	start = time.Now()
	check()
	t.Logf("calls after the loss took %v", time.Since(start))
	// Recovery: a replacement node joins; its slots
	// move to it and the client follows.
	cc := node.DefaultClusterConfig()
	cc.NodeName, cc.GossipAddr, cc.Profile = "node4", "127.0.0.1:0", "local"
	cc.JoinRetry, cc.Settle, cc.Join = 100*time.Millisecond, 50*time.Millisecond, []string{tc.Nodes[0].Node.Gossip()}
	back := grpctest.Start(t, "node4", node.DefaultConfig(), &cc)
	tc.Nodes = append(tc.Nodes, back)
	start = time.Now()
	tc.WaitMembers(t, 3)
	tc.WaitSettled(t)
	t.Logf("rejoin settled after %v", time.Since(start))
	ctx = ctxT(t) // the join may have used up most of the first one on a busy machine
	start = time.Now()
	check()
	t.Logf("calls after the rejoin took %v", time.Since(start))
	// Once the slot map is refreshed, the client goes to the new owners
	// directly: no node forwards.
	grpctest.CheckFor(t, 10*time.Second, func() error {
		before := map[string]int64{}
		for _, tn := range tc.Live() {
			before[tn.Name] = forwarded(t, tn)
		}
		for _, k := range keys {
			if _, err := c.Get(ctx, k); err != nil {
				return err
			}
		}
		for _, tn := range tc.Live() {
			if n := forwarded(t, tn) - before[tn.Name]; n > 0 {
				return fmt.Errorf("%s forwarded %d Gets", tn.Name, n)
			}
		}
		return nil
	})
}

// TestGetOrLoadSingleFlight: concurrent misses for one key load once.
func TestGetOrLoadSingleFlight(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	var loads atomic.Int64
	var hookLoads atomic.Int64
	c := newClient(t, client.Config{Addrs: []string{tn.Addr()}, Hooks: client.Hooks{
		Load: func(string, time.Duration, error) { hookLoads.Add(1) }}})
	ctx := ctxT(t)
	release := make(chan struct{})
	loader := func(ctx context.Context) ([]byte, error) {
		loads.Add(1)
		<-release
		return []byte("loaded"), nil
	}
	const callers = 50
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.GetOrLoad(ctx, "sf", time.Minute, loader)
			if err == nil && string(v) != "loaded" {
				err = fmt.Errorf("value %q", v)
			}
			errs <- err
		}()
	}
	// Let every caller reach the flight before the load ends.
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := loads.Load(); n != 1 {
		t.Fatalf("loader ran %d times for %d concurrent misses, want 1", n, callers)
	}
	if hookLoads.Load() != 1 {
		t.Fatalf("Load hook ran %d times", hookLoads.Load())
	}
	// Now cached: no load.
	if v, err := c.GetOrLoad(ctx, "sf", time.Minute, loader); err != nil || string(v) != "loaded" || loads.Load() != 1 {
		t.Fatalf("cached GetOrLoad = %q, %v, loads %d", v, err, loads.Load())
	}
	// A load error reaches the caller and is not cached.
	boom := errors.New("origin down")
	if _, err := c.GetOrLoad(ctx, "fails", 0, func(context.Context) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("GetOrLoad error = %v", err)
	}
	if _, err := c.Get(ctx, "fails"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("a failed load was cached: %v", err)
	}
	// A caller whose context ends stops waiting; the load goes on.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	slow := make(chan struct{})
	if _, err := c.GetOrLoad(short, "slow", 0, func(context.Context) ([]byte, error) { <-slow; return []byte("s"), nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("GetOrLoad past deadline = %v", err)
	}
	close(slow)
	grpctest.CheckFor(t, 5*time.Second, func() error {
		_, err := c.Get(ctx, "slow")
		return err
	})
	// JSON flavour.
	p, err := client.GetOrLoadJSON(ctx, c, "user:7", 0, func(context.Context) (profile, error) { return profile{"Grace", 85}, nil })
	if err != nil || p.Name != "Grace" {
		t.Fatalf("GetOrLoadJSON = %+v, %v", p, err)
	}
}

// TestCircuitBreaker: a node that stops answering opens its circuit (calls
// fail at once), and a probe after the cooldown closes it once the node is
// back.
func TestCircuitBreaker(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	px := newProxy(t, tn.Addr())
	var changes []string
	var mu sync.Mutex
	c := newClient(t, client.Config{
		Addrs:   []string{px.addr},
		Retry:   client.Retry{MaxAttempts: 1},
		Breaker: client.Breaker{Failures: 3, Cooldown: 300 * time.Millisecond},
		Hooks: client.Hooks{BreakerChange: func(node string, from, to client.BreakerState) {
			mu.Lock()
			changes = append(changes, to.String())
			mu.Unlock()
		}},
	})
	ctx := ctxT(t)
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	px.down()
	for i := range 3 {
		if _, err := c.Get(ctx, "k"); err == nil || errors.Is(err, client.ErrCircuitOpen) {
			t.Fatalf("call %d while down: %v", i, err)
		}
	}
	if s := c.BreakerState(px.addr); s != client.Open {
		t.Fatalf("breaker %v after 3 failures, want open", s)
	}
	if _, err := c.Get(ctx, "k"); !errors.Is(err, client.ErrCircuitOpen) {
		t.Fatalf("call with the circuit open: %v", err)
	}
	px.up()
	grpctest.CheckFor(t, 5*time.Second, func() error {
		_, err := c.Get(ctx, "k")
		return err
	})
	if s := c.BreakerState(px.addr); s != client.Closed {
		t.Fatalf("breaker %v after a good probe, want closed", s)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(changes, " "); got != "open half-open closed" {
		t.Fatalf("breaker changes %q", got)
	}
}

// TestRetries: idempotent calls are retried over a broken connection;
// Incr is not retried once sent.
func TestRetries(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	px := newProxy(t, tn.Addr())
	var retries atomic.Int64
	c := newClient(t, client.Config{Addrs: []string{px.addr}, Hooks: client.Hooks{Retry: func(string, int, error) { retries.Add(1) }}})
	ctx := ctxT(t)
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	// The next request is dropped with its connection: the Get fails on
	// its first try (it may have run) and succeeds on a new connection.
	px.cut.Store(true)
	if v, err := c.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Fatalf("Get after a cut = %q, %v", v, err)
	}
	if retries.Load() == 0 {
		t.Fatal("the Get was not retried")
	}
	retries.Store(0)
	px.cut.Store(true)
	if _, err := c.Incr(ctx, "n"); err == nil {
		t.Fatal("Incr over a cut connection succeeded: it was retried")
	}
	if retries.Load() != 0 {
		t.Fatalf("Incr retried %d times", retries.Load())
	}
}

// TestNewAddresses: New uses the first address that answers, and fails
// when none does.
func TestNewAddresses(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	dead := newProxy(t, tn.Addr())
	dead.down()
	c := newClient(t, client.Config{Addrs: []string{dead.addr, tn.Addr()}})
	if c.Clustered() {
		t.Fatal("a single node was taken for a cluster")
	}
	ctx := ctxT(t)
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := client.New(short, client.Config{Addrs: []string{dead.addr}}); err == nil {
		t.Fatal("New with no live address succeeded")
	}
	if _, err := client.New(short, client.Config{}); err == nil {
		t.Fatal("New with no address succeeded")
	}
}

// TestClusterCircuitBreaker: in a cluster, a node that stops answering
// opens its circuit; calls for its keys go on through the other nodes
// (which forward them) without failing, and once the node answers again
// a probe after the cooldown closes the circuit. The node is reached
// through a proxy (Config.Dialer) that the test takes down and up.
func TestClusterCircuitBreaker(t *testing.T) {
	tc := grpctest.StartCluster(t, 3, nil)
	target := tc.Nodes[2]
	px := newProxy(t, target.Addr())
	var mu sync.Mutex
	var changes []string
	var d net.Dialer
	c := newClient(t, client.Config{
		Addrs:   tc.Addrs()[:2],
		Refresh: time.Hour, // the slot map keeps naming the node
		Breaker: client.Breaker{Failures: 3, Cooldown: 200 * time.Millisecond},
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == target.Addr() {
				addr = px.addr
			}
			return d.DialContext(ctx, network, addr)
		},
		Hooks: client.Hooks{BreakerChange: func(node string, from, to client.BreakerState) {
			if node == target.Addr() {
				mu.Lock()
				changes = append(changes, to.String())
				mu.Unlock()
			}
		}},
	})
	ctx := ctxT(t)
	v := tc.Nodes[0].Node.View()
	var keys []string
	for i := 0; len(keys) < 5; i++ {
		if k := fmt.Sprintf("cb:%d", i); v.Primary(ring.SlotString(k)).RESP == target.Addr() {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if err := c.Set(ctx, k, []byte(k), 0); err != nil {
			t.Fatal(err)
		}
	}
	px.down()
	for range 3 {
		for _, k := range keys {
			if got, err := c.Get(ctx, k); err != nil || string(got) != k {
				t.Fatalf("Get %s with its owner unreachable = %q, %v", k, got, err)
			}
		}
	}
	if s := c.BreakerState(target.Addr()); s != client.Open && s != client.HalfOpen {
		t.Fatalf("breaker of the unreachable node: %v", s)
	}
	px.up()
	grpctest.CheckFor(t, 5*time.Second, func() error {
		for _, k := range keys {
			if _, err := c.Get(ctx, k); err != nil {
				return err
			}
		}
		if s := c.BreakerState(target.Addr()); s != client.Closed {
			return fmt.Errorf("breaker %v", s)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(changes, " "); !strings.HasPrefix(got, "open half-open") || !strings.HasSuffix(got, "closed") {
		t.Fatalf("breaker changes %q, want open, half-open, ..., closed", got)
	}
}

// TestRefreshOnError: with no periodic refresh, a call that fails because
// its node is gone reloads the slot map, so calls then go straight to the
// new owners (no node forwards them).
func TestRefreshOnError(t *testing.T) {
	tc := grpctest.StartCluster(t, 3, func(c *node.ClusterConfig) { c.Replicas = 2 })
	c := newClient(t, client.Config{Addrs: tc.Addrs()[:2], Refresh: time.Hour})
	ctx := ctxT(t)
	var keys []string
	for i := range 30 {
		k := fmt.Sprintf("reload:%d", i)
		keys = append(keys, k)
		if err := c.Set(ctx, k, []byte(k), 0); err != nil {
			t.Fatal(err)
		}
	}
	tc.WaitSettled(t)
	tc.Nodes[2].Stop()
	tc.WaitMembers(t, 2)
	tc.WaitSettled(t)
	grpctest.CheckFor(t, 10*time.Second, func() error {
		before := map[string]int64{}
		for _, tn := range tc.Live() {
			before[tn.Name] = forwarded(t, tn)
		}
		for _, k := range keys {
			if v, err := c.Get(ctx, k); err != nil || string(v) != k {
				t.Fatalf("Get %s = %q, %v", k, v, err)
			}
		}
		for _, tn := range tc.Live() {
			if n := forwarded(t, tn) - before[tn.Name]; n > 0 {
				return fmt.Errorf("%s forwarded %d Gets", tn.Name, n)
			}
		}
		return nil
	})
}

// TestACLUser: the client authenticates as an ACL user, its near cache's
// tracking connections too; a wrong password fails at New.
func TestACLUser(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	ctx := ctxT(t)
	admin := redis.NewClient(&redis.Options{Addr: tn.Addr()})
	defer admin.Close()
	if err := admin.Do(ctx, "ACL", "SETUSER", "app", "on", ">app-secret", "~app:*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := client.New(ctx, client.Config{Addrs: []string{tn.Addr()}, Username: "app", Password: "wrong"}); err == nil {
		t.Fatal("New with a wrong password succeeded")
	}
	c := newClient(t, client.Config{Addrs: []string{tn.Addr()}, Username: "app", Password: "app-secret",
		NearCache: &client.NearCache{MaxEntries: 10}})
	if err := c.Set(ctx, "app:1", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the first read goes over the user's tracking connection; the second hits
		if v, err := c.Get(ctx, "app:1"); err != nil || string(v) != "v" {
			t.Fatalf("Get app:1 = %q, %v", v, err)
		}
	}
	if st := c.NearCacheStats(); st.Hits != 1 {
		t.Fatalf("near cache: %+v, want one hit", st)
	}
	if err := c.Set(ctx, "other:1", []byte("v"), time.Minute); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("Set outside the user's keys: %v", err)
	}
}
