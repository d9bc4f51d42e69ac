// Command clusterload writes -keys keys named "key:%010d" with deterministic
// values into a cluster through a cluster-aware client (each SET goes
// straight to its slot's primary, found with CLUSTER SLOTS), or, with
// -verify, reads a sample of them back and checks them.
//
// cluster.sh uses it to load the keys whose rebalancing it times when a
// node joins, and to check them afterwards. Unlike redis-benchmark -r,
// whose random keys collide, it writes exactly -keys distinct keys.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/cached/cached/bench"
)

func main() {
	addrs := flag.String("addrs", "127.0.0.1:7101", "comma-separated seed nodes of the cluster")
	keys := flag.Int("keys", 1_000_000, "number of keys to write or check")
	size := flag.Int("value-size", 64, "value size in bytes")
	batch := flag.Int("batch", 1000, "SETs per pipeline (split by the client per node)")
	workers := flag.Int("workers", 4, "pipelines in flight")
	verify := flag.Int("verify", 0, "instead of loading, GET this many keys spread over 0..keys-1 and check their values")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after this long")
	flag.Parse()
	if *keys < 1 || *size < 1 || *batch < 1 || *workers < 1 || *verify < 0 {
		log.Fatal("clusterload: -keys, -value-size, -batch and -workers must be positive, -verify not negative")
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	client := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                    strings.Split(*addrs, ","),
		Protocol:                 2,
		DisableIdentity:          true,
		PoolSize:                 *workers,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	defer client.Close()

	var err error
	if *verify > 0 {
		err = check(ctx, client, *keys, *size, *verify)
	} else {
		err = load(ctx, client, *keys, *size, *batch, *workers)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "clusterload:", err)
		os.Exit(1)
	}
}

// load writes keys 0..keys-1 in batches, workers batches at a time.
func load(ctx context.Context, client *redis.ClusterClient, keys, size, batch, workers int) error {
	start := time.Now()
	next := make(chan int)
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for lo := range next {
				pipe := client.Pipeline()
				for i := lo; i < min(lo+batch, keys); i++ {
					k := bench.Key(i)
					pipe.Set(ctx, k, bench.Value(k, size), 0)
				}
				if _, err := pipe.Exec(ctx); err != nil {
					errc <- fmt.Errorf("SET batch at key %d: %w", lo, err)
					return
				}
			}
		})
	}
	var err error
feed:
	for lo := 0; lo < keys; lo += batch {
		select {
		case next <- lo:
		case err = <-errc:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Printf("keys=%d value_size=%d seconds=%.3f keys_per_sec=%.0f\n",
		keys, size, elapsed.Seconds(), float64(keys)/elapsed.Seconds())
	return nil
}

// check reads n keys spread evenly over 0..keys-1 (the first and last
// included) and compares them with the values load wrote.
func check(ctx context.Context, client *redis.ClusterClient, keys, size, n int) error {
	n = min(n, keys)
	pipe := client.Pipeline()
	idx := make([]int, 0, n)
	cmds := make([]*redis.StringCmd, 0, n)
	for j := range n {
		i := 0
		if n > 1 {
			i = j * (keys - 1) / (n - 1)
		}
		idx = append(idx, i)
		cmds = append(cmds, pipe.Get(ctx, bench.Key(i)))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("verify GETs: %w", err)
	}
	bad := 0
	for j, cmd := range cmds {
		k := bench.Key(idx[j])
		got, err := cmd.Result()
		want := string(bench.Value(k, size))
		switch {
		case errors.Is(err, redis.Nil):
			fmt.Fprintf(os.Stderr, "clusterload: verify GET %s: missing\n", k)
			bad++
		case err != nil:
			fmt.Fprintf(os.Stderr, "clusterload: verify GET %s: %v\n", k, err)
			bad++
		case got != want:
			fmt.Fprintf(os.Stderr, "clusterload: verify GET %s: got %d bytes %.20q..., want %d bytes %.20q...\n",
				k, len(got), got, len(want), want)
			bad++
		}
	}
	fmt.Printf("verified=%d bad=%d\n", n, bad)
	if bad > 0 {
		return fmt.Errorf("%d of %d sampled keys missing or wrong", bad, n)
	}
	return nil
}
