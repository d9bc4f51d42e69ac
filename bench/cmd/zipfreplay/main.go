// Command zipfreplay replays a cache-aside workload against a RESP server and
// reports the hit ratio: each request GETs a key drawn from a Zipf
// distribution over -keys keys and, on a miss, SETs it to a -value-size value.
//
// Requests are pipelined for speed without changing the per-key outcome of
// a sequential replay: a batch never holds the same key twice (it is cut
// short instead), and the SETs for a batch's misses travel at the head of the
// next batch's pipeline, so every key is written before it is read again.
// The same -seed gives the same request sequence against every server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"time"

	"github.com/cached/cached/bench"
	"github.com/redis/go-redis/v9"
)

// result counts the outcomes of a replay.
type result struct {
	hits, misses, setErrors int
}

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	keys := flag.Int("keys", 1_000_000, "key universe size")
	requests := flag.Int("requests", 2_000_000, "number of GET requests")
	s := flag.Float64("s", 0.99, "Zipf exponent (> 0; values <= 1 are fine)")
	size := flag.Int("value-size", 150, "value size in bytes")
	batch := flag.Int("batch", 256, "maximum GETs per pipeline round trip")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if *keys < 1 || *requests < 1 || *size < 1 || *batch < 1 || *s <= 0 {
		log.Fatal("zipfreplay: -keys, -requests, -value-size, -batch and -s must be positive")
	}

	client := bench.NewClient(*addr, 1)
	defer client.Close()
	z := newZipf(rand.New(rand.NewPCG(*seed, *seed)), *keys, *s)

	start := time.Now()
	res, err := replay(context.Background(), client, z, *requests, *batch, *size)
	if err != nil {
		log.Fatalf("zipfreplay: %v", err)
	}
	if res.setErrors > 0 {
		log.Printf("zipfreplay: %d SETs were rejected by the server", res.setErrors)
	}
	fmt.Printf("requests=%d hits=%d misses=%d set_errors=%d hit_ratio=%.4f elapsed=%s\n",
		*requests, res.hits, res.misses, res.setErrors,
		float64(res.hits)/float64(*requests), time.Since(start).Round(time.Millisecond))
}

// replay issues requests GETs with keys drawn from z, SETting every missed key.
func replay(ctx context.Context, client *redis.Client, z *zipf, requests, batch, size int) (result, error) {
	var res result
	inBatch := make(map[int]bool, batch)
	var pending []string // keys missed by the previous batch, not yet SET
	carry := -1          // a draw that ended the previous batch as a duplicate
	for done := 0; done < requests || len(pending) > 0; {
		pipe := client.Pipeline()
		sets := make([]*redis.StatusCmd, len(pending))
		for i, k := range pending {
			sets[i] = pipe.Set(ctx, k, bench.Value(k, size), 0)
		}

		clear(inBatch)
		var getKeys []string
		var gets []*redis.StringCmd
		for done < requests && len(gets) < batch {
			i := carry
			if i < 0 {
				i = z.next() - 1
			}
			carry = -1
			if inBatch[i] {
				// Defer the repeat to the next batch so it sees this batch's SET.
				carry = i
				break
			}
			inBatch[i] = true
			k := bench.Key(i)
			getKeys = append(getKeys, k)
			gets = append(gets, pipe.Get(ctx, k))
			done++
		}

		_, _ = pipe.Exec(ctx) // errors are checked per command below
		for i, c := range sets {
			if err := c.Err(); err != nil {
				if !isServerError(err) {
					return res, fmt.Errorf("SET %s: %w", pending[i], err)
				}
				res.setErrors++
			}
		}
		pending = pending[:0]
		for i, c := range gets {
			v, err := c.Result()
			switch {
			case errors.Is(err, redis.Nil):
				res.misses++
				pending = append(pending, getKeys[i])
			case err != nil:
				return res, fmt.Errorf("GET %s: %w", getKeys[i], err)
			case v != string(bench.Value(getKeys[i], size)):
				return res, fmt.Errorf("GET %s: got %d bytes %.20q..., want the %d-byte value written by SET", getKeys[i], len(v), v, size)
			default:
				res.hits++
			}
		}
	}
	return res, nil
}

// isServerError reports whether err is an error reply from the server (for
// example an OOM rejection under a noeviction policy) rather than a network
// or protocol failure.
func isServerError(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr)
}
