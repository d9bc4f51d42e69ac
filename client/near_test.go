package client_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
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
)

// nearTarget starts a single node or a 3-node cluster and returns the
// addresses to give clients.
func nearTarget(t *testing.T, clustered bool) []string {
	if clustered {
		return grpctest.StartCluster(t, 3, nil).Addrs()
	}
	return []string{grpctest.StartSingle(t, nil).Addr()}
}

func nearConfig(addrs []string, nc client.NearCache) client.Config {
	return client.Config{Addrs: addrs, NearCache: &nc}
}

// TestNearCacheNoStaleRead: two clients with near caches; one writes
// increasing versions of a few keys while readers of the other read them
// concurrently. Once a Set has returned and the reader's tracking
// connections have caught up (SyncTracking: every invalidation sent
// before it is applied), no read may return an older version. The writer
// must read its own writes at once.
func TestNearCacheNoStaleRead(t *testing.T) {
	for _, clustered := range []bool{false, true} {
		t.Run(map[bool]string{false: "single", true: "cluster"}[clustered], func(t *testing.T) {
			addrs := nearTarget(t, clustered)
			w := newClient(t, nearConfig(addrs, client.NearCache{MaxEntries: 100}))
			r := newClient(t, nearConfig(addrs, client.NearCache{MaxEntries: 100}))
			ctx := ctxT(t)
			const nkeys = 8
			key := func(i int) string { return fmt.Sprintf("near:%d", i%nkeys) }
			var floors [nkeys]atomic.Int64 // the version every read of a key must reach
			for i := range nkeys {
				if err := w.Set(ctx, key(i), []byte("0"), 0); err != nil {
					t.Fatal(err)
				}
				if _, err := r.Get(ctx, key(i)); err != nil { // cached and tracked from the start
					t.Fatal(err)
				}
			}
			var done atomic.Bool
			var stale, reads atomic.Int64
			var firstStale atomic.Value
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for !done.Load() {
						k := rand.IntN(nkeys)
						floor := floors[k].Load()
						v, err := r.Get(ctx, key(k))
						if err != nil {
							errs <- fmt.Errorf("reader Get: %w", err)
							return
						}
						n, _ := strconv.ParseInt(string(v), 10, 64)
						reads.Add(1)
						if n < floor {
							stale.Add(1)
							firstStale.CompareAndSwap(nil, fmt.Sprintf("%s = %d after version %d was acknowledged and its invalidation delivered", key(k), n, floor))
						}
						runtime.Gosched() // hits never block: let the writer run
					}
				}()
			}
			start := time.Now()
			writes := 0
			for i := 1; i <= 300 && time.Since(start) < 2*time.Second; i++ {
				if err := w.Set(ctx, key(i), []byte(strconv.Itoa(i)), 0); err != nil {
					t.Fatal(err)
				}
				if v, err := w.Get(ctx, key(i)); err != nil || string(v) != strconv.Itoa(i) {
					t.Fatalf("the writer read %q, %v right after writing %d", v, err, i)
				}
				if err := r.SyncTracking(ctx); err != nil {
					t.Fatal(err)
				}
				floors[i%nkeys].Store(int64(i))
				writes++
			}
			done.Store(true)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			st := r.NearCacheStats()
			t.Logf("%d writes, %d reads: %+v", writes, reads.Load(), st)
			if n := stale.Load(); n > 0 {
				t.Fatalf("%d stale reads; first: %s", n, firstStale.Load())
			}
			if st.Hits == 0 || st.Invalidations == 0 {
				t.Fatalf("the near cache was not exercised: %+v", st)
			}
		})
	}
}

// trackingClientID returns the CLIENT ID of the near cache's tracking
// connection to the node at addr.
func trackingClientID(t *testing.T, rc *redis.Client) string {
	t.Helper()
	list, err := rc.ClientList(ctxT(t)).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, "name=cached-near-cache") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if id, ok := strings.CutPrefix(f, "id="); ok {
				return id
			}
		}
	}
	t.Fatalf("no tracking connection in CLIENT LIST:\n%s", list)
	return ""
}

// TestNearCacheConnectionLoss: when its tracking connection is lost, the
// near cache is flushed (invalidations for it are lost with it), and a
// write made meanwhile is read afterwards.
func TestNearCacheConnectionLoss(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	addrs := []string{tn.Addr()}
	r := newClient(t, nearConfig(addrs, client.NearCache{MaxEntries: 100}))
	admin := redis.NewClient(&redis.Options{Addr: tn.Addr()})
	defer admin.Close()
	ctx := ctxT(t)
	for _, k := range []string{"a", "b", "c"} {
		if err := admin.Set(ctx, k, "old", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Get(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if st := r.NearCacheStats(); st.Entries != 3 {
		t.Fatalf("stats %+v, want 3 entries", st)
	}
	if err := admin.Do(ctx, "CLIENT", "KILL", "ID", trackingClientID(t, admin)).Err(); err != nil {
		t.Fatal(err)
	}
	// The killed connection's tracking is gone: this write notifies no one.
	if err := admin.Set(ctx, "a", "new", 0).Err(); err != nil {
		t.Fatal(err)
	}
	grpctest.CheckFor(t, 5*time.Second, func() error {
		if st := r.NearCacheStats(); st.Flushes == 0 || st.Entries != 0 {
			return fmt.Errorf("not flushed: %+v", st)
		}
		return nil
	})
	if v, err := r.Get(ctx, "a"); err != nil || string(v) != "new" {
		t.Fatalf("Get after the loss = %q, %v", v, err)
	}
	// The new tracking connection is tracked again.
	if err := admin.Set(ctx, "a", "newer", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := r.SyncTracking(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := r.Get(ctx, "a"); err != nil || string(v) != "newer" {
		t.Fatalf("Get on the new tracking connection = %q, %v", v, err)
	}
}

// TestNearCacheNodeDown: a node that goes away takes the tracking
// connection with it: the near cache is flushed, and reads fail rather
// than serve what it can no longer keep correct.
func TestNearCacheNodeDown(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	px := newProxy(t, tn.Addr())
	r := newClient(t, client.Config{Addrs: []string{px.addr}, Retry: client.Retry{MaxAttempts: 1}, NearCache: &client.NearCache{MaxEntries: 10}})
	ctx := ctxT(t)
	if err := r.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	px.down()
	grpctest.CheckFor(t, 5*time.Second, func() error {
		if st := r.NearCacheStats(); st.Flushes == 0 || st.Entries != 0 {
			return fmt.Errorf("not flushed: %+v", st)
		}
		return nil
	})
	if _, err := r.Get(ctx, "k"); err == nil {
		t.Fatal("Get with the node down succeeded")
	}
	px.up()
	grpctest.CheckFor(t, 5*time.Second, func() error {
		v, err := r.Get(ctx, "k")
		if err == nil && string(v) != "v" {
			return fmt.Errorf("Get = %q", v)
		}
		return err
	})
}

// TestNearCacheFlushAll: FLUSHALL sends a flush invalidation that empties
// the near cache.
func TestNearCacheFlushAll(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	addrs := []string{tn.Addr()}
	w := newClient(t, client.Config{Addrs: addrs})
	r := newClient(t, nearConfig(addrs, client.NearCache{MaxEntries: 100}))
	ctx := ctxT(t)
	if err := w.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, "k"); err != nil || r.NearCacheStats().Hits != 1 {
		t.Fatalf("second Get: %v, stats %+v", err, r.NearCacheStats())
	}
	if err := w.Redis().FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := r.SyncTracking(ctx); err != nil {
		t.Fatal(err)
	}
	if st := r.NearCacheStats(); st.Flushes != 1 || st.Entries != 0 {
		t.Fatalf("after FLUSHALL: %+v", st)
	}
	if _, err := r.Get(ctx, "k"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("Get after FLUSHALL: %v", err)
	}
}

// TestNearCacheEviction: the near cache keeps at most MaxEntries keys,
// evicting the least recently used, and serves the rest without a round
// trip; events reach the hook. Values expire with the key's time to live.
func TestNearCacheEviction(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	var mu sync.Mutex
	events := map[client.NearCacheEvent]int{}
	var calls atomic.Int64
	r := newClient(t, client.Config{Addrs: []string{tn.Addr()}, NearCache: &client.NearCache{MaxEntries: 4}, Hooks: client.Hooks{
		NearCache: func(e client.NearCacheEvent) { mu.Lock(); events[e]++; mu.Unlock() },
		Call:      func(ci client.CallInfo) { calls.Add(int64(ci.Attempts)) },
	}})
	ctx := ctxT(t)
	for i := range 10 {
		if err := r.Set(ctx, fmt.Sprint(i), []byte(fmt.Sprint(i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		if _, err := r.Get(ctx, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if st := r.NearCacheStats(); st.Entries != 4 || st.Evictions != 6 || st.Misses != 10 {
		t.Fatalf("stats %+v", st)
	}
	before := calls.Load()
	for i := 6; i < 10; i++ {
		if v, err := r.Get(ctx, fmt.Sprint(i)); err != nil || string(v) != fmt.Sprint(i) {
			t.Fatalf("Get %d = %q, %v", i, v, err)
		}
	}
	if n := calls.Load() - before; n != 0 {
		t.Fatalf("hits made %d round trips", n)
	}
	mu.Lock()
	got := fmt.Sprint(events[client.NearHit], events[client.NearMiss], events[client.NearEviction])
	mu.Unlock()
	if got != "4 10 6" {
		t.Fatalf("hook events hit/miss/eviction = %s", got)
	}
	// A key's time to live bounds its near cache entry.
	if err := r.Set(ctx, "ttl", []byte("x"), 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, "ttl"); err != nil {
		t.Fatal(err)
	}
	grpctest.CheckFor(t, 5*time.Second, func() error {
		if _, err := r.Get(ctx, "ttl"); !errors.Is(err, client.ErrNotFound) {
			return fmt.Errorf("Get of an expired key: %v", err)
		}
		return nil
	})
}

// TestNearCacheSlotMove: when a node joins, slots move to it, and the old
// owners no longer hear of writes to their keys (with one copy per slot
// nothing replicates to them): the near cache is flushed when the client
// sees the slot map change, so the new values are read, not the copies
// cached before the move (they would be served until MaxTTL otherwise).
func TestNearCacheSlotMove(t *testing.T) {
	tc := grpctest.StartCluster(t, 3, func(c *node.ClusterConfig) { c.Replicas = 1 })
	r := newClient(t, client.Config{Addrs: tc.Addrs(), Refresh: 100 * time.Millisecond, NearCache: &client.NearCache{MaxEntries: 1000, MaxTTL: time.Hour}})
	ctx := ctxT(t)
	var keys []string
	for i := range 30 {
		k := fmt.Sprintf("move:%d", i)
		keys = append(keys, k)
		if err := r.Set(ctx, k, []byte("old"), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Get(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	cc := node.DefaultClusterConfig()
	cc.NodeName, cc.GossipAddr, cc.Profile, cc.Replicas = "node4", "127.0.0.1:0", "local", 1
	cc.JoinRetry, cc.Settle, cc.Join = 100*time.Millisecond, 50*time.Millisecond, []string{tc.Nodes[0].Node.Gossip()}
	tc.Nodes = append(tc.Nodes, grpctest.Start(t, "node4", node.DefaultConfig(), &cc))
	start := time.Now()
	tc.WaitMembers(t, 4)
	tc.WaitSettled(t)
	t.Logf("the join settled in %v", time.Since(start))
	ctx = ctxT(t)
	// Another client writes through the new owners.
	w := newClient(t, client.Config{Addrs: []string{tc.Nodes[3].Addr()}})
	for _, k := range keys {
		if err := w.Set(ctx, k, []byte("new"), 0); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("written after %v", time.Since(start))
	grpctest.CheckFor(t, 10*time.Second, func() error {
		for _, k := range keys {
			if v, err := r.Get(ctx, k); err != nil || string(v) != "new" {
				return fmt.Errorf("Get %s = %q, %v", k, v, err)
			}
		}
		return nil
	})
	if st := r.NearCacheStats(); st.Flushes == 0 {
		t.Fatalf("no flush: %+v", st)
	}
}

// TestNearCacheSilentNode: a node that stops answering without closing
// the connection (no invalidation can come through) is noticed by the
// tracking connection's keepalive, within Config.Refresh and
// Config.DialTimeout, and the near cache is flushed.
func TestNearCacheSilentNode(t *testing.T) {
	tn := grpctest.StartSingle(t, nil)
	px := newProxy(t, tn.Addr())
	r := newClient(t, client.Config{Addrs: []string{px.addr}, Refresh: 50 * time.Millisecond, DialTimeout: 200 * time.Millisecond,
		NearCache: &client.NearCache{MaxEntries: 10}})
	ctx := ctxT(t)
	if err := r.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if st := r.NearCacheStats(); st.Entries != 1 {
		t.Fatalf("stats %+v", st)
	}
	px.blackhole.Store(true)
	grpctest.CheckFor(t, 5*time.Second, func() error {
		if st := r.NearCacheStats(); st.Flushes == 0 || st.Entries != 0 {
			return fmt.Errorf("not flushed: %+v", st)
		}
		return nil
	})
	px.blackhole.Store(false)
	grpctest.CheckFor(t, 5*time.Second, func() error {
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := r.Get(short, "k")
		return err
	})
}
