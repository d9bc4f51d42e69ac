//go:build containers

package containers

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// chaosFaults is the number of faults TestChaos injects.
const chaosFaults = 6

// chaosLog is what the writer and reader of TestChaos saw.
type chaosLog struct {
	mu       sync.Mutex
	acked    []int // keys chaos:<i> whose SET was acknowledged
	failed   int   // SETs that failed (refused or timed out while a node was down)
	reads    int   // GETs of acknowledged keys that answered
	stale    int   // of those, answers without the acknowledged value
	readErrs int   // GETs that failed
}

// TestChaos kills and partitions random nodes (seeded; CHAOS_SEED replays
// a run) while a bounded writer and reader run with two copies of every
// slot and replica-ack on. Afterwards no acknowledged key may be lost, and
// every owner of a key's slot must hold it with its acknowledged value.
func TestChaos(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CHAOS_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("CHAOS_SEED: %v", err)
		}
	}
	t.Logf("chaos seed %d (rerun with CHAOS_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	start := time.Now()
	c := startCluster(t, "--replica-ack", "yes")
	t.Logf("three nodes up in %v", time.Since(start).Round(100*time.Millisecond))

	var log chaosLog
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); chaosWriter(c, &log, stop) }()
	go func() { defer wg.Done(); chaosReader(c, &log, stop, seed) }()

	var injected []string
	for i := range chaosFaults {
		n := c.nodes[rng.IntN(len(c.nodes))]
		down := time.Duration(3000+rng.IntN(6000)) * time.Millisecond
		begin := time.Now()
		if rng.IntN(2) == 0 {
			c.docker("kill", n.name)
			time.Sleep(down)
			c.docker("start", n.name)
			injected = append(injected, fmt.Sprintf("kill %s for %v", n.host, down))
		} else {
			c.docker("network", "disconnect", c.net, n.name)
			time.Sleep(down)
			c.docker("network", "connect", "--ip", n.ip, c.net, n.name)
			injected = append(injected, fmt.Sprintf("partition %s for %v", n.host, down))
		}
		c.waitMembers(90*time.Second, 3, 3, 3)
		t.Logf("fault %d: %s; cluster whole again %v after it began", i+1, injected[i], time.Since(begin).Round(100*time.Millisecond))
		time.Sleep(time.Duration(500+rng.IntN(1500)) * time.Millisecond)
	}
	close(stop)
	wg.Wait()

	log.mu.Lock()
	acked := append([]int(nil), log.acked...)
	t.Logf("writer: %d SETs acknowledged, %d failed; reader during faults: %d answers (%d without the acknowledged value), %d errors",
		len(acked), log.failed, log.reads, log.stale, log.readErrs)
	log.mu.Unlock()
	if len(acked) < 100 {
		t.Fatalf("only %d writes acknowledged", len(acked))
	}
	keys, vals := make([]string, len(acked)), make([]string, len(acked))
	for j, i := range acked {
		keys[j], vals[j] = "chaos:"+strconv.Itoa(i), strconv.Itoa(i)
	}
	healed := time.Now()
	c.waitValues(60*time.Second, c.nodes, keys, vals)
	t.Logf("all %d acknowledged keys readable through every node %v after the last fault", len(keys), time.Since(healed).Round(100*time.Millisecond))
	lost := c.waitConverged(60*time.Second, keys, vals)
	t.Logf("every owner holds every acknowledged key %v after the last fault: %d faults (%s), %d keys, %d lost",
		time.Since(healed).Round(100*time.Millisecond), len(injected), strings.Join(injected, "; "), len(keys), lost)
}

// chaosWriter SETs chaos:<i> = i through the nodes in turn until stop,
// recording which writes were acknowledged.
func chaosWriter(c *cluster, log *chaosLog, stop <-chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		n := c.nodes[i%len(c.nodes)]
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := n.rdb.Set(ctx, "chaos:"+strconv.Itoa(i), strconv.Itoa(i), 0).Err()
		cancel()
		log.mu.Lock()
		if err == nil {
			log.acked = append(log.acked, i)
		} else {
			log.failed++
		}
		log.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
}

// chaosReader GETs random acknowledged keys through random nodes until
// stop. What it sees during faults is reported, not judged: the check is
// the one after the cluster healed.
func chaosReader(c *cluster, log *chaosLog, stop <-chan struct{}, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for {
		select {
		case <-stop:
			return
		case <-time.After(10 * time.Millisecond):
		}
		log.mu.Lock()
		if len(log.acked) == 0 {
			log.mu.Unlock()
			continue
		}
		i := log.acked[rng.IntN(len(log.acked))]
		log.mu.Unlock()
		n := c.nodes[rng.IntN(len(c.nodes))]
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		v, err := n.rdb.Get(ctx, "chaos:"+strconv.Itoa(i)).Result()
		cancel()
		log.mu.Lock()
		switch {
		case err != nil && err != redis.Nil:
			log.readErrs++
		case v != strconv.Itoa(i):
			log.reads++
			log.stale++
		default:
			log.reads++
		}
		log.mu.Unlock()
	}
}

// waitConverged polls until every owner of each key's slot (primary and
// replicas, as CLUSTER SLOTS reports them) holds the key locally
// (CLUSTER GETKEYSINSLOT) with its value (GET after READONLY, which an
// owner serves itself). It fails the test on timeout and returns the number
// of keys no owner holds.
func (c *cluster) waitConverged(within time.Duration, keys, vals []string) int {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		missing, lost, detail, err := c.ownerCheck(keys, vals)
		if err == nil && missing == 0 {
			return 0
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("replicas did not converge: %d key copies missing or wrong, %d keys on no owner (%v)%s", missing, lost, err, detail)
		}
		time.Sleep(time.Second)
	}
}

// ownerCheck counts the key copies missing or wrong on the owners of their
// slots, and the keys with no good copy at all.
func (c *cluster) ownerCheck(keys, vals []string) (missing, lost int, detail string, err error) {
	ctx := context.Background()
	byAddr := map[string]*container{}
	for _, n := range c.nodes {
		byAddr[n.ip+":6379"] = n
	}
	ranges, err := c.nodes[0].rdb.ClusterSlots(ctx).Result()
	if err != nil {
		return 0, 0, "", err
	}
	owners := make([][]*container, 16384)
	for _, r := range ranges {
		for _, rn := range r.Nodes {
			n, ok := byAddr[rn.Addr]
			if !ok {
				return 0, 0, "", fmt.Errorf("CLUSTER SLOTS names unknown node %s", rn.Addr)
			}
			for s := r.Start; s <= r.End; s++ {
				owners[s] = append(owners[s], n)
			}
		}
	}
	slots := make([]int, len(keys))
	pipe := c.nodes[0].rdb.Pipeline()
	slotCmds := make([]*redis.IntCmd, len(keys))
	for i, k := range keys {
		slotCmds[i] = pipe.ClusterKeySlot(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, 0, "", err
	}
	for i, cmd := range slotCmds {
		slots[i] = int(cmd.Val())
	}
	// What each node holds of the keys, read from its own store.
	local := map[*container]map[string]string{}
	for _, n := range c.nodes {
		held, err := n.localValues(ctx, keys, slots, owners)
		if err != nil {
			return 0, 0, "", fmt.Errorf("%s: %w", n.host, err)
		}
		local[n] = held
	}
	var b strings.Builder
	for i, k := range keys {
		if len(owners[slots[i]]) < 2 {
			missing++
			fmt.Fprintf(&b, "\n  slot %d has %d owners", slots[i], len(owners[slots[i]]))
			continue
		}
		good := 0
		for _, n := range owners[slots[i]] {
			if v, ok := local[n][k]; ok && v == vals[i] {
				good++
			} else {
				missing++
				if missing <= 5 {
					fmt.Fprintf(&b, "\n  %s (slot %d) on %s: %q, held %v", k, slots[i], n.host, v, ok)
				}
			}
		}
		if good == 0 {
			lost++
		}
	}
	return missing, lost, b.String(), nil
}

// localValues returns the keys of keys that n holds in its own store among
// the slots it owns, with their values.
func (n *container) localValues(ctx context.Context, keys []string, slots []int, owners [][]*container) (map[string]string, error) {
	want := map[int]bool{}
	for i := range keys {
		for _, o := range owners[slots[i]] {
			if o == n {
				want[slots[i]] = true
			}
		}
	}
	// READONLY is per connection: one dedicated connection does it all.
	conn := n.rdb.Conn()
	defer conn.Close()
	if err := conn.ReadOnly(ctx).Err(); err != nil {
		return nil, err
	}
	pipe := conn.Pipeline()
	var inSlot []*redis.StringSliceCmd
	for s := range want {
		inSlot = append(inSlot, pipe.ClusterGetKeysInSlot(ctx, s, 1<<20))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	held := map[string]bool{}
	for _, cmd := range inSlot {
		for _, k := range cmd.Val() {
			held[k] = true
		}
	}
	out := map[string]string{}
	pipe = conn.Pipeline()
	gets := map[string]*redis.StringCmd{}
	for _, k := range keys {
		if held[k] {
			gets[k] = pipe.Get(ctx, k)
		}
	}
	if len(gets) == 0 {
		return out, nil
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, err
	}
	for k, cmd := range gets {
		if v, err := cmd.Result(); err == nil {
			out[k] = v
		}
	}
	return out, nil
}
