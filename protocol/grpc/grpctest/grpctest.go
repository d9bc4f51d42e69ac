// Package grpctest runs in-process cached nodes for tests: a node, its RESP
// server (with the peer listener when clustered) and its gRPC server, all
// on 127.0.0.1 with ports the system picks, and clusters of them joined by
// gossip with the "local" profile. Tests of protocol/grpc, client, examples
// and bench share it; it is not for production use.
package grpctest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	cachepb "github.com/cached/cached/cache/v1"
	"github.com/cached/cached/node"
	cachegrpc "github.com/cached/cached/protocol/grpc"
	"github.com/cached/cached/protocol/resp"
)

// Node is one in-process node.
type Node struct {
	Name   string
	Node   *node.Node
	RESP   *resp.Server
	GRPC   *cachegrpc.Server
	Conn   *grpc.ClientConn    // a gRPC connection to GRPC
	Client cachepb.CacheClient // over Conn
	gossip string

	mu     sync.Mutex
	closed bool
}

// Addr is the node's RESP address.
func (n *Node) Addr() string { return n.RESP.Addr().String() }

// GRPCAddr is the node's gRPC address.
func (n *Node) GRPCAddr() string { return n.GRPC.Addr().String() }

// Logger discards logs unless CACHED_TEST_LOG is set.
func Logger(name string) *slog.Logger {
	if os.Getenv("CACHED_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test_node", name)
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Start starts a node; cc, when set, makes it a cluster member (it joins
// cc.Join). The node is not stopped at the end of the test: see Stop.
func Start(t testing.TB, name string, ncfg node.Config, cc *node.ClusterConfig) *Node {
	t.Helper()
	logger := Logger(name)
	ncfg.Logger = logger
	ncfg.Cluster = cc
	n, err := node.New(ncfg)
	if err != nil {
		t.Fatal(err)
	}
	rcfg := resp.DefaultConfig()
	rcfg.Addr = "127.0.0.1:0"
	if cc != nil {
		rcfg.PeerAddr = "127.0.0.1:0"
	}
	rcfg.Logger = logger
	rs, err := resp.New(rcfg, n)
	if err != nil {
		t.Fatal(err)
	}
	gcfg := cachegrpc.DefaultConfig()
	gcfg.Addr = "127.0.0.1:0"
	gcfg.Logger = logger
	gcfg.HealthInterval = 20 * time.Millisecond
	gs, err := cachegrpc.New(gcfg, n)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := gs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	tn := &Node{Name: name, Node: n, RESP: rs, GRPC: gs}
	if cc != nil {
		addrs := node.Addresses{RESP: rs.Addr().String(), Peer: rs.PeerListenAddr().String(), GRPC: gs.Addr().String()}
		if err := n.JoinCluster(ctx, addrs); err != nil {
			t.Fatal(err)
		}
		tn.gossip = n.Gossip()
	}
	conn, err := grpc.NewClient(gs.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	tn.Conn, tn.Client = conn, cachepb.NewCacheClient(conn)
	return tn
}

// Stop shuts the node down at once, as a crash would: no hand-off, no
// leave message. It is idempotent.
func (n *Node) Stop() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	n.mu.Unlock()
	n.Conn.Close()
	n.GRPC.Close()
	n.RESP.Close()
	n.Node.Close()
}

// Stopped reports whether Stop was called.
func (n *Node) Stopped() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

// StartSingle starts a single node, stopped at the end of the test. edit,
// when set, adjusts its configuration.
func StartSingle(t testing.TB, edit func(*node.Config)) *Node {
	t.Helper()
	ncfg := node.DefaultConfig()
	if edit != nil {
		edit(&ncfg)
	}
	tn := Start(t, "single", ncfg, nil)
	t.Cleanup(tn.Stop)
	return tn
}

// Cluster is a set of in-process nodes that joined each other.
type Cluster struct {
	Nodes []*Node
}

// StartCluster starts n nodes joining the first, stopped at the end of the
// test, and waits until every node sees all of them with the same ring.
// edit, when set, adjusts each node's cluster settings.
func StartCluster(t testing.TB, n int, edit func(*node.ClusterConfig)) *Cluster {
	t.Helper()
	tc := &Cluster{}
	t.Cleanup(func() {
		for _, tn := range tc.Nodes {
			tn.Stop()
		}
	})
	for i := range n {
		cc := node.DefaultClusterConfig()
		cc.NodeName = "node" + strconv.Itoa(i+1)
		cc.GossipAddr = "127.0.0.1:0"
		cc.Profile = "local"
		cc.JoinRetry = 100 * time.Millisecond
		cc.Settle = 50 * time.Millisecond
		if i > 0 {
			cc.Join = []string{tc.Nodes[0].gossip}
		}
		if edit != nil {
			edit(&cc)
		}
		tc.Nodes = append(tc.Nodes, Start(t, cc.NodeName, node.DefaultConfig(), &cc))
	}
	tc.WaitMembers(t, n)
	return tc
}

// Live returns the nodes not stopped.
func (tc *Cluster) Live() []*Node {
	var out []*Node
	for _, tn := range tc.Nodes {
		if !tn.Stopped() {
			out = append(out, tn)
		}
	}
	return out
}

// Addrs returns the RESP addresses of the live nodes.
func (tc *Cluster) Addrs() []string {
	var out []string
	for _, tn := range tc.Live() {
		out = append(out, tn.Addr())
	}
	return out
}

// WaitMembers waits until every live node sees n members and they agree on
// the ring.
func (tc *Cluster) WaitMembers(t testing.TB, n int) {
	t.Helper()
	CheckFor(t, 20*time.Second, func() error {
		var first *node.View
		for _, tn := range tc.Live() {
			v := tn.Node.View()
			if v == nil || len(v.Members()) != n {
				return fmt.Errorf("%s does not see %d members yet", tn.Name, n)
			}
			if first == nil {
				first = v
			} else if !first.Ring.Equal(v.Ring) {
				return fmt.Errorf("%s has a different ring", tn.Name)
			}
		}
		return nil
	})
}

// WaitSettled waits until no live node has slots left to hand off or
// replication changes unsent.
func (tc *Cluster) WaitSettled(t testing.TB) {
	t.Helper()
	CheckFor(t, 30*time.Second, func() error {
		for _, tn := range tc.Live() {
			st := tn.Node.ClusterStats()
			if st.SlotsToHandOff > 0 || st.ReplicationLag > 0 {
				return fmt.Errorf("%s: %d slots to hand off, replication lag %d", tn.Name, st.SlotsToHandOff, st.ReplicationLag)
			}
		}
		return nil
	})
}

// CheckFor polls fn until it returns nil or the timeout passes.
func CheckFor(t testing.TB, timeout time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
