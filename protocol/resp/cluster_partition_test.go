package resp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/node"
	"github.com/cached/cached/ring"
)

// partition cuts in-process nodes into sides: gossip packets and streams
// between sides are dropped, and peer connections refused.
type partition struct {
	mu     sync.Mutex
	on     bool
	nameOf map[string]string // gossip or peer address → node name
	side   map[string]int    // node name → side
}

func newPartition() *partition {
	return &partition{nameOf: map[string]string{}, side: map[string]int{}}
}

func (p *partition) register(addr, name string) {
	p.mu.Lock()
	p.nameOf[addr] = name
	p.mu.Unlock()
}

// cut reports whether traffic from node self to addr is dropped.
func (p *partition) cut(self, addr string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	other, ok := p.nameOf[addr]
	return p.on && ok && p.side[self] != p.side[other]
}

// set splits the nodes: sides maps node names to a side number.
func (p *partition) set(on bool, sides map[string]int) {
	p.mu.Lock()
	p.on = on
	p.side = sides
	p.mu.Unlock()
}

// edit gives a node a gossip transport and a peer dialer that obey p.
func (p *partition) edit(t testing.TB) func(*node.ClusterConfig) {
	return func(cc *node.ClusterConfig) {
		name := cc.NodeName
		nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
			BindAddrs: []string{"127.0.0.1"}, BindPort: 0, Logger: log.New(io.Discard, "", 0)})
		if err != nil {
			t.Fatal(err)
		}
		p.register(net.JoinHostPort("127.0.0.1", strconv.Itoa(nt.GetAutoBindPort())), name)
		cc.Transport = &cutTransport{NetTransport: nt, cut: func(addr string) bool { return p.cut(name, addr) }}
		cc.Peer.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if p.cut(name, addr) {
				return nil, errors.New("partitioned")
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
		cc.Replicas = 2
		cc.Rejoin = 300 * time.Millisecond
	}
}

// cutTransport is memberlist's transport with traffic to a cut-off address
// dropped.
type cutTransport struct {
	*memberlist.NetTransport
	cut func(addr string) bool
}

func (t *cutTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	if t.cut(addr) {
		return time.Now(), nil
	}
	return t.NetTransport.WriteTo(b, addr)
}

func (t *cutTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	if t.cut(a.Addr) {
		return time.Now(), nil
	}
	return t.NetTransport.WriteToAddress(b, a)
}

func (t *cutTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	if t.cut(addr) {
		return nil, errors.New("partitioned")
	}
	return t.NetTransport.DialTimeout(addr, timeout)
}

func (t *cutTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	if t.cut(a.Addr) {
		return nil, errors.New("partitioned")
	}
	return t.NetTransport.DialAddressTimeout(a, timeout)
}

// TestClusterPartition splits a 4-node cluster in two, writes on both
// sides, heals it, and checks that every node converges to the last
// written version of every key.
func TestClusterPartition(t *testing.T) {
	p := newPartition()
	tc := startCluster(t, 4, p.edit(t))
	nodes := tc.live()
	for _, cn := range nodes {
		p.register(cn.srv.PeerListenAddr().String(), cn.name)
	}
	ctx := context.Background()
	left, right := nodes[0].client(t, 2), nodes[2].client(t, 2)
	const keys = 600
	set := func(c *redis.Client, from, to int, value string) {
		t.Helper()
		for i := from; i < to; i++ {
			if err := c.Set(ctx, "p:"+strconv.Itoa(i), value, 0).Err(); err != nil {
				t.Fatalf("SET p:%d = %s: %v", i, value, err)
			}
		}
	}
	set(left, 0, keys, "before")
	tc.waitSettled()

	sides := map[string]int{nodes[0].name: 0, nodes[1].name: 0, nodes[2].name: 1, nodes[3].name: 1}
	p.set(true, sides)
	for _, a := range nodes {
		for _, b := range nodes {
			if sides[a.name] != sides[b.name] {
				a.node.Peers().Forget(b.srv.PeerListenAddr().String())
			}
		}
	}
	checkFor(t, 20*time.Second, func() error {
		for _, cn := range nodes {
			if v := cn.node.View(); len(v.Members()) != 2 {
				return fmt.Errorf("%s sees %d members during the partition", cn.name, len(v.Members()))
			}
		}
		return nil
	})
	// Both sides take writes; the right side writes last.
	set(left, 0, 400, "left")
	time.Sleep(10 * time.Millisecond)
	set(right, 200, keys, "right")

	p.set(false, nil)
	tc.waitMembers(4)
	tc.waitSettled()
	want := func(i int) string {
		if i < 200 {
			return "left"
		}
		return "right"
	}
	for _, cn := range nodes {
		c := cn.client(t, 3)
		checkFor(t, 20*time.Second, func() error {
			for i := range keys {
				k := "p:" + strconv.Itoa(i)
				if got, err := c.Get(ctx, k).Result(); err != nil || got != want(i) {
					return fmt.Errorf("via %s: %s = %q, %v; want %q", cn.name, k, got, err, want(i))
				}
			}
			return nil
		})
	}
	// Every copy converged, replicas included (a node may still hold a
	// slot it no longer owns for a while; it never serves it).
	for _, cn := range nodes {
		view := cn.node.View()
		for i := range keys {
			k := "p:" + strconv.Itoa(i)
			if !view.IsOwner(ring.Slot([]byte(k))) {
				continue
			}
			if v, ok, _ := cn.node.Get([]byte(k)); ok && string(v) != want(i) {
				t.Fatalf("%s holds %s = %q, want %q", cn.name, k, v, want(i))
			}
		}
	}
}
