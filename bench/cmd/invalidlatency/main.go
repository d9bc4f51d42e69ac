// Command invalidlatency measures how long an invalidation takes to reach a
// tracking client on another node: a writer connected to node A sets a key,
// and a RESP3 client of node B, tracking the key (CLIENT TRACKING ON, the
// key read just before), receives the invalidation push. The latency is
// from just before the SET is sent to the push's arrival, both read from
// one clock (one process). Keys are spread over the three owners, so the
// write is local to A or forwarded, and the invalidation comes from A or
// from a third node, and each owner class is reported apart.
//
// By default it starts a 3-node cluster in this process (127.0.0.1, free
// ports, replication factor 2); -addrs measures a running cluster instead
// (the first two addresses are A and B). Output lines are
// owner=... n=... p50_us=... p99_us=... max_us=...
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/bench"
	"github.com/cached/cached/node"
	"github.com/cached/cached/protocol/resp"
)

func main() {
	addrs := flag.String("addrs", "", "comma-separated RESP addresses of a running cluster (A,B[,...]); empty starts 3 nodes in process")
	rounds := flag.Int("rounds", 2000, "timed invalidations per owner class")
	warmup := flag.Int("warmup", 100, "untimed invalidations per owner class first")
	flag.Parse()
	if *rounds < 1 || *warmup < 0 {
		log.Fatal("invalidlatency: -rounds must be positive, -warmup not negative")
	}
	nodes := strings.Split(*addrs, ",")
	if *addrs == "" {
		c, err := startCluster(3)
		if err != nil {
			log.Fatalf("invalidlatency: %v", err)
		}
		defer c.close()
		nodes = c.addrs
	}
	if len(nodes) < 2 {
		log.Fatal("invalidlatency: -addrs needs at least two nodes")
	}
	if err := run(nodes[0], nodes[1], *rounds, *warmup); err != nil {
		log.Fatalf("invalidlatency: %v", err)
	}
}

// run measures with the writer on a and the reader on b.
func run(a, b string, rounds, warmup int) error {
	ctx := context.Background()
	writer := bench.NewClient(a, 1)
	defer writer.Close()
	classes, err := classify(ctx, writer, a, b)
	if err != nil {
		return err
	}
	reader, err := dialTracking(b)
	if err != nil {
		return err
	}
	defer reader.Close()
	for _, c := range classes {
		var lat []time.Duration
		for i := range warmup + rounds {
			k := c.keys[i%len(c.keys)]
			if err := reader.read(k); err != nil {
				return err
			}
			start := time.Now()
			if err := writer.Set(ctx, k, i, 0).Err(); err != nil {
				return fmt.Errorf("SET %s: %w", k, err)
			}
			at, err := reader.awaitInvalidation(k)
			if err != nil {
				return err
			}
			if i >= warmup {
				lat = append(lat, at.Sub(start))
			}
		}
		slices.Sort(lat)
		pct := func(p float64) int64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds() }
		fmt.Printf("owner=%s n=%d p50_us=%d p99_us=%d max_us=%d\n", c.name, len(lat), pct(0.50), pct(0.99), lat[len(lat)-1].Microseconds())
	}
	return nil
}

// class is a set of keys whose primary plays one role.
type class struct {
	name string
	keys []string
}

// classify finds keys whose primary is the writer's node, the reader's
// node, or another one, from CLUSTER SHARDS-free means: CLUSTER SLOTS and
// CLUSTER KEYSLOT.
func classify(ctx context.Context, c *redis.Client, a, b string) ([]class, error) {
	slots, err := c.ClusterSlots(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("CLUSTER SLOTS: %w", err)
	}
	owner := map[int64]string{}
	for _, s := range slots {
		for slot := s.Start; slot <= s.End; slot++ {
			owner[int64(slot)] = s.Nodes[0].Addr
		}
	}
	byRole := map[string][]string{}
	for i := 0; i < 100000 && (len(byRole["writer"]) < 16 || len(byRole["reader"]) < 16 || len(byRole["third"]) < 16); i++ {
		k := "inv:" + strconv.Itoa(i)
		slot, err := c.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			return nil, fmt.Errorf("CLUSTER KEYSLOT: %w", err)
		}
		role := "third"
		switch owner[slot] {
		case a:
			role = "writer"
		case b:
			role = "reader"
		}
		byRole[role] = append(byRole[role], k)
	}
	var out []class
	for _, role := range []string{"writer", "reader", "third"} {
		if len(byRole[role]) > 0 {
			out = append(out, class{role, byRole[role]})
		}
	}
	return out, nil
}

// tracker is a RESP3 connection with CLIENT TRACKING on.
type tracker struct {
	conn net.Conn
	rd   *bufio.Reader
}

func dialTracking(addr string) (*tracker, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	t := &tracker{conn: conn, rd: bufio.NewReader(conn)}
	for _, cmd := range [][]string{{"HELLO", "3"}, {"CLIENT", "TRACKING", "ON"}} {
		if _, err := t.call(cmd...); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return t, nil
}

func (t *tracker) Close() error { return t.conn.Close() }

// call sends a command and returns its reply's first line, skipping pushes.
func (t *tracker) call(args ...string) (string, error) {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	if _, err := io.WriteString(t.conn, b.String()); err != nil {
		return "", err
	}
	for {
		first, push, err := t.next()
		if err != nil || !push {
			return first, err
		}
	}
}

// read GETs key, so that the node tracks it for this client.
func (t *tracker) read(key string) error {
	first, err := t.call("GET", key)
	if err == nil && strings.HasPrefix(first, "-") {
		err = errors.New(first)
	}
	return err
}

// awaitInvalidation waits for the push invalidating key and returns when
// it arrived.
func (t *tracker) awaitInvalidation(key string) (time.Time, error) {
	t.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer t.conn.SetReadDeadline(time.Time{})
	for {
		_, push, err := t.next()
		if err != nil {
			return time.Time{}, fmt.Errorf("waiting for the invalidation of %s: %w", key, err)
		}
		if push {
			return time.Now(), nil
		}
	}
}

// next reads one whole message and reports its first line and whether it
// was a push.
func (t *tracker) next() (string, bool, error) {
	line, err := t.rd.ReadString('\n')
	if err != nil {
		return "", false, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	return line, line[0] == '>', t.skip(line)
}

// skip reads the rest of the message whose first line is line.
func (t *tracker) skip(line string) error {
	n, _ := strconv.Atoi(line[1:])
	switch line[0] {
	case '$', '=', '!':
		if n >= 0 {
			_, err := t.rd.Discard(n + 2)
			return err
		}
	case '*', '>', '~':
		for range n {
			l, err := t.rd.ReadString('\n')
			if err != nil {
				return err
			}
			if err := t.skip(strings.TrimSuffix(l, "\r\n")); err != nil {
				return err
			}
		}
	case '%', '|':
		for range 2 * n {
			l, err := t.rd.ReadString('\n')
			if err != nil {
				return err
			}
			if err := t.skip(strings.TrimSuffix(l, "\r\n")); err != nil {
				return err
			}
		}
	}
	return nil
}

// cluster is an in-process cluster.
type cluster struct {
	nodes []*node.Node
	srvs  []*resp.Server
	addrs []string
}

// startCluster starts n nodes on 127.0.0.1 with free ports and waits until
// they see each other and have settled.
func startCluster(n int) (*cluster, error) {
	c := &cluster{}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	var seed string
	for i := range n {
		cc := node.DefaultClusterConfig()
		cc.NodeName = "bench" + strconv.Itoa(i+1)
		cc.GossipAddr = "127.0.0.1:0"
		cc.Profile = "local"
		cc.JoinRetry = 100 * time.Millisecond
		cc.Settle = 50 * time.Millisecond
		if seed != "" {
			cc.Join = []string{seed}
		}
		ncfg := node.DefaultConfig()
		ncfg.Logger = logger
		ncfg.Cluster = &cc
		nd, err := node.New(ncfg)
		if err != nil {
			return c, err
		}
		rcfg := resp.DefaultConfig()
		rcfg.Addr, rcfg.PeerAddr, rcfg.Logger = "127.0.0.1:0", "127.0.0.1:0", logger
		srv, err := resp.New(rcfg, nd)
		if err != nil {
			return c, err
		}
		if err := nd.Start(ctx); err != nil {
			return c, err
		}
		if err := srv.Start(ctx); err != nil {
			return c, err
		}
		c.nodes, c.srvs = append(c.nodes, nd), append(c.srvs, srv)
		c.addrs = append(c.addrs, srv.Addr().String())
		if err := nd.JoinCluster(ctx, node.Addresses{RESP: srv.Addr().String(), Peer: srv.PeerListenAddr().String()}); err != nil {
			return c, err
		}
		if seed == "" {
			seed = nd.Gossip()
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for !c.settled(n) {
		if time.Now().After(deadline) {
			c.close()
			return nil, errors.New("the cluster did not settle in 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c, nil
}

// settled reports whether every node sees n members and has nothing left
// to hand off or replicate.
func (c *cluster) settled(n int) bool {
	for _, nd := range c.nodes {
		v, st := nd.View(), nd.ClusterStats()
		if v == nil || len(v.Members()) != n || !st.Ready || st.SlotsToHandOff > 0 || st.ReplicationLag > 0 {
			return false
		}
	}
	return true
}

func (c *cluster) close() {
	for i := range c.nodes {
		c.srvs[i].Close()
		c.nodes[i].Close()
	}
}
