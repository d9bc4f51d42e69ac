package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
)

const (
	// benchKeys is the number of distinct keys each benchmark cycles over.
	benchKeys = 10_000
	// clients is the number of concurrent requests, as redis-benchmark -c 50.
	clients = 50
)

// BenchmarkGetSet runs parallel SETs and GETs through go-redis against the
// servers named by BENCH_REDIS_ADDR and BENCH_CACHED_ADDR (host:port), with
// 64-byte and 1024-byte values. A server whose variable is unset is skipped.
func BenchmarkGetSet(b *testing.B) {
	servers := []struct{ name, env string }{
		{"redis", "BENCH_REDIS_ADDR"},
		{"cached", "BENCH_CACHED_ADDR"},
	}
	for _, srv := range servers {
		b.Run(srv.name, func(b *testing.B) {
			addr := os.Getenv(srv.env)
			if addr == "" {
				b.Skipf("%s not set; set it to host:port of a running %s to benchmark it", srv.env, srv.name)
			}
			client := NewClient(addr, clients)
			defer client.Close()
			for _, size := range []int{64, 1024} {
				b.Run(fmt.Sprintf("SET/%db", size), func(b *testing.B) {
					benchParallel(b, size, func(ctx context.Context, key string, value []byte) error {
						return client.Set(ctx, key, value, 0).Err()
					})
				})
				b.Run(fmt.Sprintf("GET/%db", size), func(b *testing.B) {
					ctx := context.Background()
					pipe := client.Pipeline()
					for i := range benchKeys {
						pipe.Set(ctx, getSetKey(size, i), make([]byte, size), 0)
					}
					if _, err := pipe.Exec(ctx); err != nil {
						b.Fatalf("preloading keys: %v", err)
					}
					benchParallel(b, size, func(ctx context.Context, key string, _ []byte) error {
						v, err := client.Get(ctx, key).Bytes()
						if err == nil && len(v) != size {
							err = fmt.Errorf("GET %s: got %d bytes, want %d", key, len(v), size)
						}
						return err
					})
				})
			}
		})
	}
}

// getSetKey names key i of the keyspace used for values of the given size.
func getSetKey(size, i int) string {
	return fmt.Sprintf("bench:%d:%d", size, i%benchKeys)
}

// benchParallel calls op from parallel goroutines with keys cycling over
// benchKeys and a value of size bytes, failing the benchmark on any error.
func benchParallel(b *testing.B, size int, op func(ctx context.Context, key string, value []byte) error) {
	ctx := context.Background()
	value := make([]byte, size)
	var next atomic.Int64
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(ctx, getSetKey(size, int(next.Add(1))), value); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
