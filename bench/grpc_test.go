package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cachepb "github.com/cached/cached/cache/v1"
	"github.com/cached/cached/client"
	"github.com/cached/cached/protocol/grpc/grpctest"
)

// TestGRPCvsRESP compares GET and SET over gRPC (cache.v1.Cache through
// grpc-go) with the same commands over RESP (go-redis) on one in-process
// node, and the client package's Get with and without its near cache
// (the near cache rows read 256 hot keys, cached before the row starts):
// throughput and latency percentiles with GRPC_BENCH_CLIENTS
// concurrent callers (default 16), GRPC_BENCH_OPS operations per row
// (default 2000: a smoke run; use 200000 on an idle machine) and
// GRPC_BENCH_SIZE-byte values (default 64). The load generator shares the
// process, and the CPU, with the node. It prints a markdown table with -v.
func TestGRPCvsRESP(t *testing.T) {
	if testing.Short() {
		t.Skip("benchmark comparison; skipped with -short")
	}
	ops := envInt(t, "GRPC_BENCH_OPS", 2000)
	conc := envInt(t, "GRPC_BENCH_CLIENTS", 16)
	size := envInt(t, "GRPC_BENCH_SIZE", 64)
	tn := grpctest.StartSingle(t, nil)
	rc := NewClient(tn.Addr(), conc)
	defer rc.Close()
	gc := tn.Client
	value := make([]byte, size)
	key := func(i int) string { return "gb:" + strconv.Itoa(i%benchKeys) }
	const hotKeys = 256
	hot := func(i int) string { return "gbhot:" + strconv.Itoa(i%hotKeys) } // the Set rows do not touch them
	plain, err := client.New(context.Background(), client.Config{Addrs: []string{tn.Addr()}, PoolSize: conc})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	near, err := client.New(context.Background(), client.Config{Addrs: []string{tn.Addr()}, PoolSize: conc, NearCache: &client.NearCache{MaxEntries: hotKeys}})
	if err != nil {
		t.Fatal(err)
	}
	defer near.Close()
	clientGet := func(c *client.Client) func(ctx context.Context, i int) error {
		return func(ctx context.Context, i int) error {
			v, err := c.Get(ctx, hot(i))
			if err == nil && len(v) != size {
				err = fmt.Errorf("client Get: %d bytes", len(v))
			}
			return err
		}
	}
	rows := []struct {
		name string
		op   func(ctx context.Context, i int) error
	}{
		{"RESP SET", func(ctx context.Context, i int) error { return rc.Set(ctx, key(i), value, 0).Err() }},
		{"gRPC Set", func(ctx context.Context, i int) error {
			_, err := gc.Set(ctx, &cachepb.SetRequest{Key: []byte(key(i)), Value: value})
			return err
		}},
		{"RESP GET", func(ctx context.Context, i int) error {
			v, err := rc.Get(ctx, key(i)).Bytes()
			if err == nil && len(v) != size {
				err = fmt.Errorf("GET: %d bytes", len(v))
			}
			return err
		}},
		{"gRPC Get", func(ctx context.Context, i int) error {
			r, err := gc.Get(ctx, &cachepb.GetRequest{Key: []byte(key(i))})
			if err == nil && (!r.Found || len(r.Value) != size) {
				err = fmt.Errorf("Get: found %v, %d bytes", r.Found, len(r.Value))
			}
			return err
		}},
		{"client Get, no near cache", clientGet(plain)},
		{"client Get, near cache hit", clientGet(near)},
	}
	ctx := context.Background()
	for i := range hotKeys {
		if err := plain.Set(ctx, hot(i), value, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := near.Get(ctx, hot(i)); err != nil {
			t.Fatal(err)
		}
	}
	misses := near.NearCacheStats().Misses
	var out strings.Builder
	fmt.Fprintf(&out, "\n%d ops per row, %d concurrent callers, %d-byte values, in-process node\n\n", ops, conc, size)
	out.WriteString("| call | ops/s | p50 µs | p99 µs |\n|---|---:|---:|---:|\n")
	for _, row := range rows {
		r := measure(t, ops, conc, row.op)
		fmt.Fprintf(&out, "| %s | %.0f | %.1f | %.1f |\n", row.name, r.opsPerSec, r.p50, r.p99)
	}
	if st := near.NearCacheStats(); st.Misses != misses {
		t.Fatalf("the near cache rows missed: %+v", st)
	}
	t.Log(out.String())
}

// result is one row's figures; latencies in µs.
type result struct {
	opsPerSec, p50, p99 float64
}

// measure runs ops calls of op from conc goroutines.
func measure(t *testing.T, ops, conc int, op func(ctx context.Context, i int) error) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	lat := make([][]time.Duration, conc)
	errs := make([]error, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < ops; i += conc {
				t0 := time.Now()
				if err := op(ctx, i); err != nil {
					errs[w] = err
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(float64(len(all))*p))].Nanoseconds()) / 1e3
	}
	return result{opsPerSec: float64(len(all)) / elapsed.Seconds(), p50: pct(0.50), p99: pct(0.99)}
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// BenchmarkGRPC runs parallel gRPC Get and Set against an in-process node,
// for benchstat beside BenchmarkGetSet (RESP).
func BenchmarkGRPC(b *testing.B) {
	tn := grpctest.StartSingle(b, nil)
	for _, size := range []int{64, 1024} {
		value := make([]byte, size)
		b.Run(fmt.Sprintf("Set/%db", size), func(b *testing.B) {
			benchParallel(b, size, func(ctx context.Context, key string, v []byte) error {
				_, err := tn.Client.Set(ctx, &cachepb.SetRequest{Key: []byte(key), Value: v})
				return err
			})
		})
		b.Run(fmt.Sprintf("Get/%db", size), func(b *testing.B) {
			ctx := context.Background()
			for i := range benchKeys {
				if _, err := tn.Client.Set(ctx, &cachepb.SetRequest{Key: []byte(getSetKey(size, i)), Value: value}); err != nil {
					b.Fatal(err)
				}
			}
			benchParallel(b, size, func(ctx context.Context, key string, _ []byte) error {
				r, err := tn.Client.Get(ctx, &cachepb.GetRequest{Key: []byte(key)})
				if err == nil && len(r.Value) != size {
					err = fmt.Errorf("Get %s: %d bytes", key, len(r.Value))
				}
				return err
			})
		})
	}
}
