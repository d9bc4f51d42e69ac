//go:build soak

package soak

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/cached/cached/node"
	"github.com/cached/cached/node/store"
	"github.com/cached/cached/protocol/resp"
)

// sample is the process's memory at one moment of the soak.
type sample struct {
	at        time.Duration
	heapInuse int64 // after a collection
	rss       int64
}

// rss returns the resident set size from /proc, or 0 where there is none.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func measure(start time.Time) sample {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return sample{at: time.Since(start), heapInuse: int64(m.HeapInuse), rss: rss()}
}

// soakDuration is SOAK_DURATION, 20s by default.
func soakDuration(t *testing.T) time.Duration {
	d := 20 * time.Second
	if s := os.Getenv("SOAK_DURATION"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d < 5*time.Second {
			t.Fatalf("SOAK_DURATION %q: want a duration of at least 5s", s)
		}
	}
	return d
}

// TestSoak runs the mixed load against one node with a 16 MB maxmemory
// (the key space is several times that, so keys are evicted all along),
// then checks: no command failed, every published message reached the
// subscriber, keys were evicted and expired, the goroutines went back to
// where they were, and memory did not grow from a third of the run on.
func TestSoak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	duration := soakDuration(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ncfg := node.DefaultConfig()
	ncfg.Logger = logger
	ncfg.Store.MaxMemory = 16 << 20
	ncfg.Store.Policy = store.AllKeysLRU
	n, err := node.New(ncfg)
	if err != nil {
		t.Fatal(err)
	}
	rcfg := resp.DefaultConfig()
	rcfg.Addr = "127.0.0.1:0"
	rcfg.Logger = logger
	srv, err := resp.New(rcfg, n)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	defer srv.Close()
	addr := srv.Addr().String()

	start := time.Now()
	stop := make(chan struct{})
	var (
		wg        sync.WaitGroup
		ops       atomic.Int64
		published atomic.Int64
		received  atomic.Int64
		errMu     sync.Mutex
		errs      []error
	)
	fail := func(err error) {
		errMu.Lock()
		if len(errs) < 20 {
			errs = append(errs, err)
		}
		errMu.Unlock()
	}

	// A subscriber that reads everything, on channel and pattern.
	subClient := redis.NewClient(&redis.Options{Addr: addr})
	defer subClient.Close()
	ps := subClient.Subscribe(ctx, "soak:events")
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	subDone := make(chan struct{})
	go func() {
		defer close(subDone)
		for {
			msg, err := ps.ReceiveMessage(ctx)
			if err != nil {
				return // closed at the end
			}
			if !strings.HasPrefix(msg.Payload, "event:") {
				fail(fmt.Errorf("subscriber got %q", msg.Payload))
			}
			received.Add(1)
		}
	}()

	const workers = 4
	clients := make([]*redis.Client, workers)
	for w := range workers {
		clients[w] = redis.NewClient(&redis.Options{Addr: addr, PoolSize: 2})
		defer clients[w].Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			c := clients[w]
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := soakStep(ctx, c, rng, &published); err != nil {
					fail(err)
				}
				ops.Add(1)
			}
		}()
	}

	// Memory samples every tenth of the run; goroutines at the start.
	var samples []sample
	goroutinesBefore := runtime.NumGoroutine()
	for i := 1; i <= 10; i++ {
		time.Sleep(time.Until(start.Add(duration * time.Duration(i) / 10)))
		samples = append(samples, measure(start))
	}
	close(stop)
	wg.Wait()
	// Every published message arrives.
	deadline := time.Now().Add(30 * time.Second)
	for received.Load() < published.Load() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	ps.Close()
	<-subDone

	errMu.Lock()
	for _, err := range errs {
		t.Error(err)
	}
	errMu.Unlock()
	info, err := clients[0].Info(ctx, "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	stat := func(name string) int64 {
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, name+":"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		return -1
	}
	t.Logf("%v: %d commands (%.0f/s), %d messages published, %d received, %d keys evicted, %d expired",
		duration, ops.Load(), float64(ops.Load())/duration.Seconds(), published.Load(), received.Load(),
		stat("evicted_keys"), stat("expired_keys"))
	if received.Load() != published.Load() {
		t.Errorf("subscriber received %d of %d messages", received.Load(), published.Load())
	}
	if stat("evicted_keys") <= 0 || stat("expired_keys") <= 0 {
		t.Errorf("evicted_keys %d, expired_keys %d: the load did not exercise eviction and expiry", stat("evicted_keys"), stat("expired_keys"))
	}

	for _, s := range samples {
		t.Logf("at %v: heap in use %d MB, RSS %d MB", s.at.Round(time.Second), s.heapInuse>>20, s.rss>>20)
	}
	// From a third of the run on the key space is full: the heap at the
	// end may not be much above its level then (generous: 1.5x + 16 MB).
	mid, last := samples[len(samples)/3], samples[len(samples)-1]
	if last.heapInuse > mid.heapInuse*3/2+16<<20 {
		t.Errorf("heap in use grew from %d MB at %v to %d MB at the end", mid.heapInuse>>20, mid.at.Round(time.Second), last.heapInuse>>20)
	}
	if mid.rss > 0 && last.rss > mid.rss*3/2+32<<20 {
		t.Errorf("RSS grew from %d MB at %v to %d MB at the end", mid.rss>>20, mid.at.Round(time.Second), last.rss>>20)
	}

	// The load's goroutines are gone once its clients close.
	for _, c := range clients {
		c.Close()
	}
	subClient.Close()
	deadline = time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > goroutinesBefore && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > goroutinesBefore {
		t.Errorf("%d goroutines after the load, %d during it", g, goroutinesBefore)
	}
}

// soakStep runs one random operation of the mix. Keys are drawn from a
// space of 100,000 per type, values up to 1 KB, so the data outgrows
// maxmemory; a third of the strings have a TTL of 1 to 3 seconds.
func soakStep(ctx context.Context, c *redis.Client, rng *rand.Rand, published *atomic.Int64) error {
	id := strconv.Itoa(rng.IntN(100000))
	val := strings.Repeat("x", 1+rng.IntN(1024))
	var err error
	switch op := rng.IntN(12); op {
	case 0, 1:
		ttl := time.Duration(0)
		if rng.IntN(3) == 0 {
			ttl = time.Duration(1+rng.IntN(3)) * time.Second
		}
		err = c.Set(ctx, "s:"+id, val, ttl).Err()
	case 2, 3:
		err = c.Get(ctx, "s:"+id).Err()
	case 4:
		err = c.HSet(ctx, "h:"+id, "f"+strconv.Itoa(rng.IntN(8)), val).Err()
	case 5:
		err = c.HGetAll(ctx, "h:"+id).Err()
	case 6:
		p := c.Pipeline()
		p.RPush(ctx, "l:"+id, val)
		p.LTrim(ctx, "l:"+id, -16, -1)
		p.LRange(ctx, "l:"+id, 0, 3)
		_, err = p.Exec(ctx)
	case 7:
		err = c.SAdd(ctx, "set:"+id, rng.IntN(64)).Err()
		if err == nil {
			err = c.SMembers(ctx, "set:"+id).Err()
		}
	case 8:
		err = c.ZAdd(ctx, "z:"+id, redis.Z{Score: rng.Float64(), Member: strconv.Itoa(rng.IntN(64))}).Err()
		if err == nil {
			err = c.ZRangeWithScores(ctx, "z:"+id, 0, 9).Err()
		}
	case 9:
		err = c.Incr(ctx, "n:"+id).Err()
	case 10:
		err = c.Expire(ctx, "h:"+id, time.Duration(1+rng.IntN(3))*time.Second).Err()
	case 11:
		if err = c.Publish(ctx, "soak:events", "event:"+id).Err(); err == nil {
			published.Add(1)
		}
	}
	if err == redis.Nil {
		err = nil
	}
	return err
}
