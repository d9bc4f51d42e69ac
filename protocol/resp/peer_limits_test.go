package resp

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/node"
	"github.com/cached/cached/ring"
)

// stuckConn is a peer link whose writes vanish while stuck is set: the
// peer never answers, as a hung process would not.
type stuckConn struct {
	net.Conn
	stuck *atomic.Bool
}

func (c stuckConn) Write(b []byte) (int, error) {
	if c.stuck.Load() {
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// remoteKey returns a key whose slot's primary, in from's view, is not from.
func remoteKey(t *testing.T, from *clusterNode, prefix string) string {
	t.Helper()
	v := from.node.View()
	for i := range 10000 {
		k := prefix + strconv.Itoa(i)
		if v.Primary(ring.Slot([]byte(k))).Name != from.name {
			return k
		}
	}
	t.Fatal("no key owned by another node")
	return ""
}

// TestStuckPeer: a command forwarded to a peer that never answers fails
// with TRYAGAIN once cluster-peer-timeout passes, and a command beyond
// cluster-peer-max-inflight fails after a bounded number of retries; local
// commands and other clients are served meanwhile, and the link works
// again once the peer answers.
func TestStuckPeer(t *testing.T) {
	var stuck atomic.Bool
	tc := startCluster(t, 2, func(cc *node.ClusterConfig) {
		cc.Replicas = 1
		cc.Peer.CallTimeout = 300 * time.Millisecond
		cc.Peer.MaxInFlight = 1
		cc.Peer.ConnsPerPeer = 1
		cc.Peer.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			nc, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return stuckConn{Conn: nc, stuck: &stuck}, nil
		}
	})
	tc.waitSettled()
	from := tc.nodes[0]
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: from.addr, MaxRetries: -1, ReadTimeout: 30 * time.Second})
	defer c.Close()
	remote := remoteKey(t, from, "remote:")
	if err := c.Set(ctx, remote, "v", 0).Err(); err != nil {
		t.Fatalf("SET forwarded before the peer hangs: %v", err)
	}

	stuck.Store(true)
	// One forwarded call hangs on the only link (in flight: 1); a second
	// is refused by the pool, retried a bounded number of times, and fails.
	first := make(chan error, 1)
	go func() { first <- c.Get(ctx, remote).Err() }()
	other := redis.NewClient(&redis.Options{Addr: from.addr, MaxRetries: -1, ReadTimeout: 30 * time.Second})
	defer other.Close()
	if err := other.Get(ctx, remote).Err(); err == nil || !strings.HasPrefix(err.Error(), "TRYAGAIN") {
		t.Errorf("GET forwarded to the stuck peer: %v, want TRYAGAIN", err)
	}
	select {
	case err := <-first:
		if err == nil || !strings.HasPrefix(err.Error(), "TRYAGAIN") {
			t.Errorf("GET forwarded to the stuck peer: %v, want TRYAGAIN", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a client waits on a stuck peer for over 20s")
	}
	// A key this node owns is served while the peer hangs.
	local := ""
	for i := range 10000 {
		k := "local:" + strconv.Itoa(i)
		if from.node.View().IsPrimary(ring.Slot([]byte(k))) {
			local = k
			break
		}
	}
	if err := other.Set(ctx, local, "here", 0).Err(); err != nil {
		t.Fatalf("SET of a local key while the peer hangs: %v", err)
	}

	stuck.Store(false)
	checkFor(t, 10*time.Second, func() error {
		return c.Get(ctx, remote).Err()
	})
}
