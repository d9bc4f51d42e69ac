package grpc

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
	"github.com/cached/cached/protocol/resp"
)

// testNode is one in-process node with its RESP server (and, clustered, its
// peer listener) and its gRPC server, all on 127.0.0.1 with free ports.
type testNode struct {
	name   string
	node   *node.Node
	resp   *resp.Server
	grpc   *Server
	gossip string
	conn   *grpc.ClientConn
	client cachepb.CacheClient
	closed bool
}

// testLogger discards logs unless CACHED_TEST_LOG is set.
func testLogger(name string) *slog.Logger {
	if os.Getenv("CACHED_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test_node", name)
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startNode starts a node; cc, when set, makes it a cluster member joining
// seeds.
func startNode(t testing.TB, name string, ncfg node.Config, cc *node.ClusterConfig) *testNode {
	t.Helper()
	logger := testLogger(name)
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
	gcfg := DefaultConfig()
	gcfg.Addr = "127.0.0.1:0"
	gcfg.Logger = logger
	gcfg.HealthInterval = 20 * time.Millisecond
	gs, err := New(gcfg, n)
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
	tn := &testNode{name: name, node: n, resp: rs, grpc: gs}
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
	tn.conn, tn.client = conn, cachepb.NewCacheClient(conn)
	return tn
}

// stop shuts the node down at once, as a crash would.
func (tn *testNode) stop() {
	if tn.closed {
		return
	}
	tn.closed = true
	tn.conn.Close()
	tn.grpc.Close()
	tn.resp.Close()
	tn.node.Close()
}

// startSingle starts a single node and stops it at the end of the test.
func startSingle(t testing.TB, edit func(*node.Config)) *testNode {
	t.Helper()
	ncfg := node.DefaultConfig()
	if edit != nil {
		edit(&ncfg)
	}
	tn := startNode(t, "single", ncfg, nil)
	t.Cleanup(tn.stop)
	return tn
}

// testCluster is a set of in-process nodes that joined each other.
type testCluster struct {
	mu    sync.Mutex
	nodes []*testNode
}

// startCluster starts n nodes joining the first and waits until every node
// sees all of them with the same ring.
func startCluster(t testing.TB, n int, edit func(*node.ClusterConfig)) *testCluster {
	t.Helper()
	tc := &testCluster{}
	for i := range n {
		cc := node.DefaultClusterConfig()
		cc.NodeName = "node" + strconv.Itoa(i+1)
		cc.GossipAddr = "127.0.0.1:0"
		cc.Profile = "local"
		cc.JoinRetry = 100 * time.Millisecond
		cc.Settle = 50 * time.Millisecond
		if i > 0 {
			cc.Join = []string{tc.nodes[0].gossip}
		}
		if edit != nil {
			edit(&cc)
		}
		tc.nodes = append(tc.nodes, startNode(t, cc.NodeName, node.DefaultConfig(), &cc))
	}
	t.Cleanup(func() {
		for _, tn := range tc.nodes {
			tn.stop()
		}
	})
	tc.waitMembers(t, n)
	return tc
}

// live returns the nodes not stopped.
func (tc *testCluster) live() []*testNode {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	var out []*testNode
	for _, tn := range tc.nodes {
		if !tn.closed {
			out = append(out, tn)
		}
	}
	return out
}

// waitMembers waits until every live node sees n members and they agree
// on the ring.
func (tc *testCluster) waitMembers(t testing.TB, n int) {
	t.Helper()
	checkFor(t, 20*time.Second, func() error {
		var first *node.View
		for _, tn := range tc.live() {
			v := tn.node.View()
			if v == nil || len(v.Members()) != n {
				return fmt.Errorf("%s does not see %d members yet", tn.name, n)
			}
			if first == nil {
				first = v
			} else if !first.Ring.Equal(v.Ring) {
				return fmt.Errorf("%s has a different ring", tn.name)
			}
		}
		return nil
	})
}

// checkFor polls fn until it returns nil or the timeout passes.
func checkFor(t testing.TB, timeout time.Duration, fn func() error) {
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

// ctxT returns a context that ends with a generous test deadline.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
