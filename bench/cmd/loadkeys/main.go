// Command loadkeys writes -keys keys named "key:%010d" with deterministic
// values of -value-size bytes into a RESP server using pipelined SETs, then
// reads a few of them back to check the server stored them correctly.
//
// compare.sh uses it to measure bytes per key (RSS before/after loading).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/cached/cached/bench"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	keys := flag.Int("keys", 1_000_000, "number of keys to write")
	size := flag.Int("value-size", 64, "value size in bytes")
	batch := flag.Int("batch", 1000, "SETs per pipeline round trip")
	flag.Parse()
	if *keys < 1 || *size < 1 || *batch < 1 {
		log.Fatal("loadkeys: -keys, -value-size and -batch must be positive")
	}

	ctx := context.Background()
	client := bench.NewClient(*addr, 1)
	defer client.Close()

	start := time.Now()
	for lo := 0; lo < *keys; lo += *batch {
		pipe := client.Pipeline()
		for i := lo; i < min(lo+*batch, *keys); i++ {
			k := bench.Key(i)
			pipe.Set(ctx, k, bench.Value(k, *size), 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			log.Fatalf("loadkeys: SET batch at key %d: %v", lo, err)
		}
	}
	elapsed := time.Since(start)

	for _, i := range []int{0, *keys / 2, *keys - 1} {
		k := bench.Key(i)
		got, err := client.Get(ctx, k).Result()
		if err != nil {
			log.Fatalf("loadkeys: verify GET %s: %v", k, err)
		}
		if want := string(bench.Value(k, *size)); got != want {
			log.Fatalf("loadkeys: verify GET %s: got %d bytes %.20q..., want %d bytes %.20q...", k, len(got), got, len(want), want)
		}
	}
	fmt.Printf("keys=%d value_size=%d elapsed=%s\n", *keys, *size, elapsed.Round(time.Millisecond))
}
