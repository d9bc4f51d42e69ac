package client

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cached/cached/node"
	"github.com/cached/cached/protocol/grpc/grpctest"
	"github.com/cached/cached/ring"
)

// TestServerInvalidatesMovedSlots: when a slot moves to a joining node and
// its old owner keeps no copy (one replica), the old owner invalidates the
// keys it tracked there, as Redis Cluster's MIGRATE does by deleting them
// at the source; writes at the new owner would not reach those readers.
func TestServerInvalidatesMovedSlots(t *testing.T) {
	tc := grpctest.StartCluster(t, 3, func(c *node.ClusterConfig) { c.Replicas = 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	near := newNearCache(NearCache{MaxEntries: 1000}, nil)
	conns := map[string]*trackConn{}
	for _, tn := range tc.Nodes {
		c, err := dialTracking(ctx, nil, tn.Addr(), "", "", near)
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		conns[tn.Addr()] = c
	}
	before := tc.Nodes[0].Node.View()
	var keys []string
	for i := range 200 {
		k := fmt.Sprintf("moved:%d", i)
		keys = append(keys, k)
		owner := conns[before.Primary(ring.SlotString(k)).RESP]
		if _, err := owner.do(ctx, []string{"SET", k, "old"}, []string{"GET", k}); err != nil {
			t.Fatal(err)
		}
	}
	cc := node.DefaultClusterConfig()
	cc.NodeName, cc.GossipAddr, cc.Profile, cc.Replicas = "node4", "127.0.0.1:0", "local", 1
	cc.JoinRetry, cc.Settle, cc.Join = 100*time.Millisecond, 50*time.Millisecond, []string{tc.Nodes[0].Node.Gossip()}
	joined := grpctest.Start(t, "node4", node.DefaultConfig(), &cc)
	tc.Nodes = append(tc.Nodes, joined)
	tc.WaitMembers(t, 4)
	tc.WaitSettled(t)
	after := joined.Node.View()
	writer, err := dialTracking(ctx, nil, joined.Addr(), "", "", newNearCache(NearCache{MaxEntries: 1}, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer writer.close()
	moved := 0
	for _, k := range keys {
		if after.Primary(ring.SlotString(k)).RESP == joined.Addr() {
			moved++
			if _, err := writer.do(ctx, []string{"SET", k, "new"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if moved == 0 {
		t.Fatal("no key moved to the new node")
	}
	grpctest.CheckFor(t, 5*time.Second, func() error {
		if got := near.snapshot().Invalidations; got < uint64(moved) {
			return fmt.Errorf("%d invalidations for %d keys that moved and were written at their new owner", got, moved)
		}
		return nil
	})
}
