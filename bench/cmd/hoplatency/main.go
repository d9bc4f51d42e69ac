// Command hoplatency measures what one forwarding hop costs a plain
// (cluster-unaware) client: it sends GETs and SETs one at a time to one
// node, alternating between keys that node is the primary of (served
// locally) and keys another node is the primary of (forwarded to that node
// and the reply relayed back), and prints latency percentiles per class.
//
// Keys are classified with CLUSTER MYID, CLUSTER SLOTS and CLUSTER KEYSLOT,
// and the node's INFO cluster_keys_forwarded is checked to have grown by
// the number of forwarded requests. Against a server without cluster
// support (a single node, or redis-server) every key counts as local, which
// gives the baseline without any cluster machinery.
//
// cluster.sh runs it; each output line is op=... class=... n=... p50_us=...
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/bench"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7101", "node to send every request to")
	keys := flag.Int("keys", 1000, "distinct keys per class")
	requests := flag.Int("requests", 20000, "timed requests per operation and class")
	warmup := flag.Int("warmup", 1000, "untimed requests per operation and class first")
	size := flag.Int("value-size", 64, "value size in bytes")
	flag.Parse()
	if *keys < 1 || *requests < 1 || *warmup < 0 || *size < 1 {
		log.Fatal("hoplatency: -keys, -requests and -value-size must be positive, -warmup not negative")
	}

	ctx := context.Background()
	client := bench.NewClient(*addr, 1)
	defer client.Close()

	local, remote, clustered, err := classify(ctx, client, *keys)
	if err != nil {
		log.Fatalf("hoplatency: %v", err)
	}
	classes := []class{{"local", local}}
	if clustered {
		classes = append(classes, class{"forwarded", remote})
	}
	for _, c := range classes {
		pipe := client.Pipeline()
		for _, k := range c.keys {
			pipe.Set(ctx, k, bench.Value(k, *size), 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			log.Fatalf("hoplatency: SET %s keys: %v", c.name, err)
		}
	}

	fwd0 := forwarded(ctx, client)
	var sent int64 // requests of the forwarded class, warm-up included
	for _, op := range []string{"GET", "SET"} {
		lat := make([][]time.Duration, len(classes))
		for i := range *warmup + *requests {
			// Alternate the classes request by request so that both see
			// the same machine: a 2-core box running three nodes and
			// this client is anything but quiet.
			for ci, c := range classes {
				k := c.keys[i%len(c.keys)]
				start := time.Now()
				var err error
				if op == "GET" {
					var got string
					got, err = client.Get(ctx, k).Result()
					if err == nil && got != string(bench.Value(k, *size)) {
						err = fmt.Errorf("wrong value (%d bytes)", len(got))
					}
				} else {
					err = client.Set(ctx, k, bench.Value(k, *size), 0).Err()
				}
				d := time.Since(start)
				if err != nil {
					log.Fatalf("hoplatency: %s %s (%s): %v", op, k, c.name, err)
				}
				if c.name == "forwarded" {
					sent++
				}
				if i >= *warmup {
					lat[ci] = append(lat[ci], d)
				}
			}
		}
		for ci, c := range classes {
			fmt.Println(summary(op, c.name, lat[ci]))
		}
	}
	if clustered {
		// Every forwarded-class request must have been forwarded, and no
		// local one: otherwise the classification is wrong.
		fwd1 := forwarded(ctx, client)
		fmt.Printf("forwarded_requests=%d cluster_keys_forwarded_delta=%d\n", sent, fwd1-fwd0)
		if fwd0 < 0 || fwd1-fwd0 != sent {
			log.Fatalf("hoplatency: INFO cluster_keys_forwarded grew by %d, want %d: keys were not classified as the node routes them", fwd1-fwd0, sent)
		}
	}
}

// class is a set of keys served the same way.
type class struct {
	name string
	keys []string
}

// classify returns n keys whose slot's primary is the node client talks
// to and n keys whose primary is another node. clustered is false, and
// every key local, when the server has no cluster support.
func classify(ctx context.Context, client *redis.Client, n int) (local, remote []string, clustered bool, err error) {
	myID, err := client.ClusterMyID(ctx).Result()
	if err != nil {
		if strings.Contains(err.Error(), "cluster support disabled") {
			for i := range n {
				local = append(local, hopKey(i))
			}
			return local, nil, false, nil
		}
		return nil, nil, false, fmt.Errorf("CLUSTER MYID: %w", err)
	}
	ranges, err := client.ClusterSlots(ctx).Result()
	if err != nil {
		return nil, nil, false, fmt.Errorf("CLUSTER SLOTS: %w", err)
	}
	var primary [16384]string
	for _, r := range ranges {
		if len(r.Nodes) == 0 || r.Start < 0 || r.End >= len(primary) || r.Start > r.End {
			return nil, nil, false, fmt.Errorf("CLUSTER SLOTS: bad range %d-%d with %d nodes", r.Start, r.End, len(r.Nodes))
		}
		for s := r.Start; s <= r.End; s++ {
			primary[s] = r.Nodes[0].ID
		}
	}
	if !slices.Contains(primary[:], myID) {
		return nil, nil, false, fmt.Errorf("CLUSTER SLOTS gives node %s no slot", myID)
	}
	const chunk = 1000
	for lo := 0; len(local) < n || len(remote) < n; lo += chunk {
		if lo > 1000*n {
			return nil, nil, false, fmt.Errorf("found only %d local and %d remote keys among %d", len(local), len(remote), lo)
		}
		pipe := client.Pipeline()
		cmds := make([]*redis.IntCmd, chunk)
		for i := range cmds {
			cmds[i] = pipe.ClusterKeySlot(ctx, hopKey(lo+i))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, nil, false, fmt.Errorf("CLUSTER KEYSLOT: %w", err)
		}
		for i, cmd := range cmds {
			slot := cmd.Val()
			if slot < 0 || slot >= int64(len(primary)) || primary[slot] == "" {
				return nil, nil, false, fmt.Errorf("CLUSTER KEYSLOT %s = %d: no primary in CLUSTER SLOTS", hopKey(lo+i), slot)
			}
			if primary[slot] == myID {
				if len(local) < n {
					local = append(local, hopKey(lo+i))
				}
			} else if len(remote) < n {
				remote = append(remote, hopKey(lo+i))
			}
		}
	}
	return local, remote, true, nil
}

// hopKey is the i-th candidate key; its prefix keeps it apart from the
// keys other tools write.
func hopKey(i int) string { return fmt.Sprintf("hop:%010d", i) }

// forwarded returns the node's INFO cluster_keys_forwarded, or -1.
func forwarded(ctx context.Context, client *redis.Client) int64 {
	info, err := client.Info(ctx, "cluster").Result()
	if err != nil {
		return -1
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cluster_keys_forwarded:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// summary formats the latency distribution of one operation and class.
func summary(op, name string, lat []time.Duration) string {
	if len(lat) == 0 {
		return fmt.Sprintf("op=%s class=%s n=0", op, name)
	}
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	pct := func(p float64) float64 {
		i := min(int(p*float64(len(lat))), len(lat)-1)
		return float64(lat[i]) / float64(time.Microsecond)
	}
	return fmt.Sprintf("op=%s class=%s n=%d p50_us=%.1f p90_us=%.1f p99_us=%.1f mean_us=%.1f",
		op, name, len(lat), pct(0.50), pct(0.90), pct(0.99), float64(sum)/float64(len(lat))/float64(time.Microsecond))
}
