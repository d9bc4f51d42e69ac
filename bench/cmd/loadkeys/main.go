// Command loadkeys writes -keys elements with deterministic values of
// -value-size bytes into a RESP server using pipelined commands, then reads
// a few of them back to check the server stored them correctly.
//
// With -type string (the default) each element is a key "key:%010d" set
// with SET. With -type list, hash, set or zset the elements go into
// collections of -per-key elements each (keys "key:%010d" numbered by
// collection): RPUSH values, HSET fields "f:%d" to values, SADD values,
// ZADD values with their index as the score.
//
// compare.sh uses it to measure bytes per key and per element (RSS and
// used_memory before and after loading).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/bench"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	keys := flag.Int("keys", 1_000_000, "number of elements to write (keys, for -type string)")
	size := flag.Int("value-size", 64, "value size in bytes")
	batch := flag.Int("batch", 1000, "commands per pipeline round trip")
	kind := flag.String("type", "string", "string, list, hash, set or zset")
	perKey := flag.Int("per-key", 100, "elements per collection (not for -type string)")
	flag.Parse()
	if *keys < 1 || *size < 1 || *batch < 1 || *perKey < 1 {
		log.Fatal("loadkeys: -keys, -value-size, -batch and -per-key must be positive")
	}
	if *kind == "string" {
		*perKey = 1
	}
	write, ok := writers[*kind]
	if !ok {
		log.Fatalf("loadkeys: unknown -type %q", *kind)
	}

	ctx := context.Background()
	client := bench.NewClient(*addr, 1)
	defer client.Close()

	start := time.Now()
	for lo := 0; lo < *keys; lo += *batch {
		pipe := client.Pipeline()
		for i := lo; i < min(lo+*batch, *keys); i++ {
			write(ctx, pipe, bench.Key(i / *perKey), i%*perKey, element(i, *size))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			log.Fatalf("loadkeys: %s batch at element %d: %v", *kind, lo, err)
		}
	}
	elapsed := time.Since(start)

	for _, i := range []int{0, *keys / 2, *keys - 1} {
		key, j := bench.Key(i / *perKey), i%*perKey
		if err := checks[*kind](ctx, client, key, j, string(element(i, *size))); err != nil {
			log.Fatalf("loadkeys: verify %s element %d of %s: %v", *kind, j, key, err)
		}
	}
	fmt.Printf("type=%s elements=%d per_key=%d value_size=%d elapsed=%s\n", *kind, *keys, *perKey, *size, elapsed.Round(time.Millisecond))
}

// element returns element i's value: unique per element, so that set and
// sorted set members never repeat.
func element(i, size int) []byte { return bench.Value(bench.Key(i), size) }

// writers add element j of collection key (or string key) with value v.
var writers = map[string]func(ctx context.Context, p redis.Pipeliner, key string, j int, v []byte){
	"string": func(ctx context.Context, p redis.Pipeliner, key string, _ int, v []byte) { p.Set(ctx, key, v, 0) },
	"list":   func(ctx context.Context, p redis.Pipeliner, key string, _ int, v []byte) { p.RPush(ctx, key, v) },
	"hash": func(ctx context.Context, p redis.Pipeliner, key string, j int, v []byte) {
		p.HSet(ctx, key, fmt.Sprint("f:", j), v)
	},
	"set": func(ctx context.Context, p redis.Pipeliner, key string, _ int, v []byte) { p.SAdd(ctx, key, v) },
	"zset": func(ctx context.Context, p redis.Pipeliner, key string, j int, v []byte) {
		p.ZAdd(ctx, key, redis.Z{Score: float64(j), Member: v})
	},
}

// checks verify that element j of collection key (the string key's
// value) is want.
var checks = map[string]func(ctx context.Context, c *redis.Client, key string, j int, want string) error{
	"string": func(ctx context.Context, c *redis.Client, key string, _ int, want string) error {
		return equal(c.Get(ctx, key).Result())(want)
	},
	"list": func(ctx context.Context, c *redis.Client, key string, j int, want string) error {
		return equal(c.LIndex(ctx, key, int64(j)).Result())(want)
	},
	"hash": func(ctx context.Context, c *redis.Client, key string, j int, want string) error {
		return equal(c.HGet(ctx, key, fmt.Sprint("f:", j)).Result())(want)
	},
	"set": func(ctx context.Context, c *redis.Client, key string, _ int, want string) error {
		if ok, err := c.SIsMember(ctx, key, want).Result(); err != nil || !ok {
			return fmt.Errorf("SISMEMBER: %v, %v", ok, err)
		}
		return nil
	},
	"zset": func(ctx context.Context, c *redis.Client, key string, j int, want string) error {
		return equal(c.ZScore(ctx, key, want).Result())(float64(j))
	},
}

// equal returns a check that the result got, err is want.
func equal[T comparable](got T, err error) func(want T) error {
	return func(want T) error {
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("got %.40v, want %.40v", got, want)
		}
		return nil
	}
}
