package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/cached/cached/client"
	"github.com/cached/cached/protocol/grpc/grpctest"
)

// BenchmarkNearCache compares client.Get answered by the near cache (a
// hit: no round trip) with client.Get over the network (no near cache),
// against one in-process node, for 64-byte and 1024-byte values.
func BenchmarkNearCache(b *testing.B) {
	tn := grpctest.StartSingle(b, nil)
	ctx := context.Background()
	clients := map[string]*client.Client{}
	for _, name := range []string{"hit", "network"} {
		cfg := client.Config{Addrs: []string{tn.Addr()}}
		if name == "hit" {
			cfg.NearCache = &client.NearCache{MaxEntries: 1000}
		}
		c, err := client.New(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		clients[name] = c
	}
	for _, size := range []int{64, 1024} {
		key := fmt.Sprintf("near:%d", size)
		if err := clients["network"].Set(ctx, key, make([]byte, size), 0); err != nil {
			b.Fatal(err)
		}
		for _, name := range []string{"hit", "network"} {
			c := clients[name]
			b.Run(fmt.Sprintf("%s/%db", name, size), func(b *testing.B) {
				if _, err := c.Get(ctx, key); err != nil { // fills the near cache
					b.Fatal(err)
				}
				misses := c.NearCacheStats().Misses
				b.ReportAllocs()
				for b.Loop() {
					v, err := c.Get(ctx, key)
					if err != nil || len(v) != size {
						b.Fatalf("Get = %d bytes, %v", len(v), err)
					}
				}
				if st := c.NearCacheStats(); name == "hit" && st.Misses != misses {
					b.Fatalf("near cache missed: %+v", st)
				}
			})
		}
	}
}

// BenchmarkClientOverhead compares a parallel Get through the client (no
// near cache: routing, breaker, retries, hooks) with the same Get through
// a bare go-redis client, on one in-process node: the difference is what
// the client's bookkeeping costs under concurrency.
func BenchmarkClientOverhead(b *testing.B) {
	tn := grpctest.StartSingle(b, nil)
	ctx := context.Background()
	c, err := client.New(ctx, client.Config{Addrs: []string{tn.Addr()}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Set(ctx, "k", make([]byte, 64), 0); err != nil {
		b.Fatal(err)
	}
	gets := map[string]func() ([]byte, error){
		"client":   func() ([]byte, error) { return c.Get(ctx, "k") },
		"go-redis": func() ([]byte, error) { return c.Redis().Get(ctx, "k").Bytes() },
	}
	for _, name := range []string{"go-redis", "client"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if v, err := gets[name](); err != nil || len(v) != 64 {
						b.Errorf("Get = %d bytes, %v", len(v), err)
						return
					}
				}
			})
		})
	}
}
