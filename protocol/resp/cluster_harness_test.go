package resp

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

	"github.com/cached/cached/node"
)

// clusterNode is one in-process cluster member: a node, its RESP server
// with a peer listener, all on 127.0.0.1 with ports picked by the system.
type clusterNode struct {
	name   string
	node   *node.Node
	srv    *Server
	addr   string // RESP
	gossip string
	closed bool
}

// testCluster is a set of in-process nodes that join each other.
type testCluster struct {
	t     testing.TB
	mu    sync.Mutex
	nodes []*clusterNode
	edit  func(*node.ClusterConfig)
	seq   int
	// server, when set, adjusts each node's RESP configuration.
	server func(name string, cfg *Config)
	// resp, when set, adjusts the RESP settings of nodes added after.
	resp func(*Config)
}

// startCluster starts n nodes that join the first one and waits until
// every node sees all of them. edit adjusts each node's cluster settings.
func startCluster(t testing.TB, n int, edit func(*node.ClusterConfig)) *testCluster {
	t.Helper()
	return startClusterWith(t, n, edit, nil)
}

// startClusterWith is startCluster with server adjusting each node's RESP
// configuration.
func startClusterWith(t testing.TB, n int, edit func(*node.ClusterConfig), server func(name string, cfg *Config)) *testCluster {
	t.Helper()
	tc := &testCluster{t: t, edit: edit, server: server}
	for range n {
		tc.add()
	}
	tc.waitMembers(n)
	t.Cleanup(func() {
		for _, cn := range tc.nodes {
			tc.kill(cn)
		}
	})
	return tc
}

// testLogger discards logs unless CACHED_TEST_LOG is set.
func testLogger(name string) *slog.Logger {
	if os.Getenv("CACHED_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test_node", name)
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// add starts one more node, joining the first live one.
func (tc *testCluster) add() *clusterNode {
	tc.mu.Lock()
	tc.seq++
	name := "node" + strconv.Itoa(tc.seq)
	tc.mu.Unlock()
	return tc.addNode(name, nil)
}

// addNode starts a node named name (a restart when the name was used
// before), joining the first live one; edit adjusts its node settings.
func (tc *testCluster) addNode(name string, edit func(*node.Config)) *clusterNode {
	t := tc.t
	t.Helper()
	tc.mu.Lock()
	var seeds []string
	for _, cn := range tc.nodes {
		if !cn.closed {
			seeds = append(seeds, cn.gossip)
			break
		}
	}
	tc.mu.Unlock()
	logger := testLogger(name)
	cc := node.DefaultClusterConfig()
	cc.NodeName = name
	cc.GossipAddr = "127.0.0.1:0"
	cc.Join = seeds
	cc.Profile = "local"
	cc.JoinRetry = 100 * time.Millisecond
	cc.Settle = 50 * time.Millisecond
	if tc.edit != nil {
		tc.edit(&cc)
	}
	ncfg := node.DefaultConfig()
	ncfg.Logger = logger
	ncfg.Cluster = &cc
	if edit != nil {
		edit(&ncfg)
	}
	n, err := node.New(ncfg)
	if err != nil {
		t.Fatal(err)
	}
	rcfg := DefaultConfig()
	rcfg.Addr = "127.0.0.1:0"
	rcfg.PeerAddr = "127.0.0.1:0"
	rcfg.Logger = logger
	if tc.server != nil {
		tc.server(name, &rcfg)
	}
	if tc.resp != nil {
		tc.resp(&rcfg)
	}
	srv, err := New(rcfg, n)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	addrs := node.Addresses{RESP: srv.Addr().String(), Peer: srv.PeerListenAddr().String()}
	if err := n.JoinCluster(ctx, addrs); err != nil {
		t.Fatal(err)
	}
	cn := &clusterNode{name: name, node: n, srv: srv, addr: addrs.RESP, gossip: n.Gossip()}
	tc.mu.Lock()
	tc.nodes = append(tc.nodes, cn)
	tc.mu.Unlock()
	return cn
}

// live returns the nodes not stopped.
func (tc *testCluster) live() []*clusterNode {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	var out []*clusterNode
	for _, cn := range tc.nodes {
		if !cn.closed {
			out = append(out, cn)
		}
	}
	return out
}

// kill stops cn at once, as a crash would: no hand-off, no leave message.
func (tc *testCluster) kill(cn *clusterNode) {
	tc.mu.Lock()
	if cn.closed {
		tc.mu.Unlock()
		return
	}
	cn.closed = true
	tc.mu.Unlock()
	cn.srv.Close()
	cn.node.Close()
}

// leave stops cn gracefully: it hands its slots off, leaves, then stops.
func (tc *testCluster) leave(cn *clusterNode) {
	tc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cn.node.Leave(ctx); err != nil {
		tc.t.Errorf("%s leave: %v", cn.name, err)
	}
	tc.kill(cn)
}

// waitMembers waits until every live node's view has exactly n members and
// they agree on the ring.
func (tc *testCluster) waitMembers(n int) {
	tc.t.Helper()
	checkFor(tc.t, 20*time.Second, func() error {
		live := tc.live()
		var first *node.View
		for _, cn := range live {
			v := cn.node.View()
			if v == nil || len(v.Members()) != n {
				got := 0
				if v != nil {
					got = len(v.Members())
				}
				return fmt.Errorf("%s sees %d members, want %d", cn.name, got, n)
			}
			if first == nil {
				first = v
			} else if !first.Ring.Equal(v.Ring) {
				return fmt.Errorf("%s has a different ring", cn.name)
			}
		}
		return nil
	})
}

// waitSettled waits until no live node has slots left to hand off or
// replication changes unsent.
func (tc *testCluster) waitSettled() {
	tc.t.Helper()
	checkFor(tc.t, 30*time.Second, func() error {
		for _, cn := range tc.live() {
			st := cn.node.ClusterStats()
			if st.SlotsToHandOff > 0 || st.ReplicationLag > 0 {
				return fmt.Errorf("%s: %d slots to hand off, replication lag %d", cn.name, st.SlotsToHandOff, st.ReplicationLag)
			}
		}
		return nil
	})
}

// checkFor polls fn until it returns nil or the deadline passes.
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
