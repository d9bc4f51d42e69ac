package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/cached/cached/node/peer"
	"github.com/cached/cached/ring"
)

// ClusterConfig configures membership, placement and replication. A Node
// whose Config.Cluster is nil is a single node: it owns every slot and
// starts no gossip.
type ClusterConfig struct {
	// NodeName names this node in the cluster; it must be unique and
	// stable across restarts (a StatefulSet pod name). Default: hostname.
	NodeName string
	// GossipAddr is the address gossip listens on (host:port; port 0 picks
	// a free one). Default 0.0.0.0:7946.
	GossipAddr string
	// AdvertiseHost is the host other members reach this node at, for
	// gossip, RESP, gRPC and peer links. Default: the bind address, or the
	// first private address when bound to all interfaces.
	AdvertiseHost string
	// Join lists seed addresses (host:port). A name may resolve to several
	// addresses (a Kubernetes headless Service); every one is tried.
	Join []string
	// Replicas is the number of copies of each slot, primary included.
	Replicas int
	// MinMembers is the number of members that must have been seen before
	// the node serves cluster writes, so a fresh StatefulSet does not form
	// several clusters that each accept writes.
	MinMembers int
	// ReplicaAck makes a write's reply wait until its replicas have it.
	ReplicaAck bool
	// Profile picks memberlist's timing: "lan" (default) or "local" (fast
	// failure detection, for tests and one host).
	Profile string
	// Peer configures the links to other nodes.
	Peer peer.Config
	// JoinRetry is how often joining is retried until a seed answers.
	JoinRetry time.Duration
	// Settle is how long membership must be quiet before the ring is
	// recomputed, so a burst of joins moves slots once.
	Settle time.Duration
	// Rejoin is how often the node contacts the seeds and the members it
	// lost again, so that the two sides of a healed partition find each
	// other even after each has declared the other dead.
	Rejoin time.Duration
	// Transport, if set, carries gossip instead of memberlist's UDP/TCP
	// transport on GossipAddr (tests use it to cut nodes off).
	Transport memberlist.NodeAwareTransport
	// Keyring, when set, encrypts gossip with its primary key and accepts
	// messages under any of its keys; unencrypted gossip and other keys
	// are refused, so a node without one of the keys is never admitted.
	// Its keys may change while the node runs (rotation); it is safe for
	// concurrent use.
	Keyring *memberlist.Keyring
}

// DefaultClusterConfig returns the clustered defaults: two copies of each
// slot, asynchronous replication, LAN gossip timing.
func DefaultClusterConfig() ClusterConfig {
	host, _ := os.Hostname()
	return ClusterConfig{
		NodeName:   host,
		GossipAddr: "0.0.0.0:7946",
		Replicas:   2,
		MinMembers: 1,
		Profile:    "lan",
		Peer:       peer.DefaultConfig(),
		JoinRetry:  2 * time.Second,
		Settle:     200 * time.Millisecond,
		Rejoin:     30 * time.Second,
	}
}

// Validate reports the first invalid field.
func (c ClusterConfig) Validate() error {
	switch {
	case c.NodeName == "":
		return errors.New("node-name: must be set")
	case c.Replicas < 1:
		return fmt.Errorf("replicas: %d: must be at least 1", c.Replicas)
	case c.MinMembers < 1:
		return fmt.Errorf("min-members: %d: must be at least 1", c.MinMembers)
	case c.Profile != "lan" && c.Profile != "local":
		return fmt.Errorf("gossip profile: %q: must be lan or local", c.Profile)
	case c.JoinRetry <= 0:
		return errors.New("join retry: must be positive")
	case c.Rejoin <= 0:
		return errors.New("rejoin: must be positive")
	case c.Settle < 0:
		return errors.New("settle: must not be negative")
	}
	if _, _, err := splitHostPort(c.GossipAddr); err != nil {
		return fmt.Errorf("gossip address: %w", err)
	}
	for _, j := range c.Join {
		if _, _, err := net.SplitHostPort(j); err != nil {
			return fmt.Errorf("join: %q: %w", j, err)
		}
	}
	return c.Peer.Validate()
}

// Addresses are the endpoints a node serves, as other members reach them.
type Addresses struct {
	RESP string // client Redis protocol
	Peer string // Redis protocol for other nodes: forwarding, replication, hand-off
	GRPC string // gRPC, when served
}

// Member is one node of the cluster, as gossip describes it.
type Member struct {
	Name string `json:"-"`
	// ID is the node's 40-character Redis Cluster ID, derived from its name
	// so that it survives restarts.
	ID   string `json:"-"`
	RESP string `json:"resp"`
	Peer string `json:"peer"`
	GRPC string `json:"grpc,omitempty"`
	// Boot is random per process start, so a node that restarted (empty)
	// under the same name is told apart from its previous run.
	Boot string `json:"boot"`
}

// memberID derives a Redis Cluster node ID from a node name.
func memberID(name string) string {
	sum := sha1.Sum([]byte(name))
	return hex.EncodeToString(sum[:])
}

// View is one immutable picture of the cluster: its members and the ring
// they form. A new View replaces the old one atomically when membership
// changes.
type View struct {
	// Ring places slots on members.
	Ring *ring.Ring
	// Self is this node.
	Self Member
	// Epoch counts the views this node has computed; it is CLUSTER INFO's
	// current epoch.
	Epoch uint64
	// Next, while this node hands its slots off before leaving, is the
	// ring without it: the future owners, which hand-off and replication
	// send to while this node goes on serving its slots.
	Next *ring.Ring
	// Leaving is set once the hand-off is done and the leave announced:
	// the node owns nothing any more and forwards everything.
	Leaving bool

	members map[string]Member
	byRESP  map[string]Member
	sorted  []Member
}

// newView builds a view of members, which must include self unless leaving.
func newView(self Member, members []Member, cfg ring.Config, epoch uint64, leaving bool) (*View, error) {
	v := &View{Self: self, Epoch: epoch, Leaving: leaving,
		members: make(map[string]Member, len(members)), byRESP: make(map[string]Member, len(members))}
	names := make([]string, 0, len(members))
	for _, m := range members {
		if leaving && m.Name == self.Name {
			continue
		}
		v.members[m.Name] = m
		v.byRESP[m.RESP] = m
		names = append(names, m.Name)
	}
	r, err := ring.New(names, cfg)
	if err != nil {
		return nil, err
	}
	v.Ring = r
	for _, name := range r.Members() {
		v.sorted = append(v.sorted, v.members[name])
	}
	return v, nil
}

// Members returns the members in name order. The slice is shared.
func (v *View) Members() []Member { return v.sorted }

// Member returns the member named name.
func (v *View) Member(name string) (Member, bool) {
	m, ok := v.members[name]
	return m, ok
}

// MemberByRESP returns the member serving clients at addr.
func (v *View) MemberByRESP(addr string) (Member, bool) {
	m, ok := v.byRESP[addr]
	return m, ok
}

// Primary returns the member that serves slot's writes.
func (v *View) Primary(slot int) Member { return v.members[v.Ring.Primary(slot)] }

// IsPrimary reports whether this node is slot's primary.
func (v *View) IsPrimary(slot int) bool {
	return !v.Leaving && v.Ring.Primary(slot) == v.Self.Name
}

// IsOwner reports whether this node holds a copy of slot.
func (v *View) IsOwner(slot int) bool {
	return !v.Leaving && v.Ring.IsOwner(v.Self.Name, slot)
}

// Owners returns slot's owners, primary first.
func (v *View) Owners(slot int) []Member {
	names := v.Ring.Owners(slot)
	out := make([]Member, len(names))
	for i, name := range names {
		out[i] = v.members[name]
	}
	return out
}

// ErrClusterDown is returned for cluster writes before MinMembers members
// have been seen.
var ErrClusterDown = errors.New("the cluster is not ready")

// cluster is a node's membership and everything that follows from it.
type cluster struct {
	cfg    ClusterConfig
	logger *slog.Logger
	node   *Node
	self   Member
	list   *memberlist.Memberlist
	peers  *peer.Pool

	view       atomic.Pointer[View]
	ready      atomic.Bool   // MinMembers members have been seen
	leaving    atomic.Bool   // the leave is announced (View.Leaving)
	handingOff atomic.Bool   // Leave has begun: hand slots to View.Next
	changed    chan struct{} // membership changed: recompute the view
	stop       chan struct{}
	wg         sync.WaitGroup
	events     *gossipEvents // the live members, as gossip reported them
	viewMu     sync.Mutex    // serialises recompute; guards epoch
	epoch      uint64

	importing importTable
	repl      replicator
	handoff   handoff
}

// current returns the view, first recomputing it if it is a view of this
// node alone while gossip already knows others: a node that just joined
// must not serve as the owner of every slot for the settle time.
func (c *cluster) current() *View {
	v := c.view.Load()
	if v != nil && len(v.Members()) == 1 && c.list.NumMembers() > 1 {
		if err := c.recompute(); err != nil {
			c.logger.Error("cluster view not updated", "err", err)
		}
		v = c.view.Load()
	}
	return v
}

// ringConfig returns the ring settings for c.
func (c *cluster) ringConfig() ring.Config {
	rc := ring.DefaultConfig()
	rc.Replicas = c.cfg.Replicas
	return rc
}

// JoinCluster starts gossip for a node serving addrs, and joins the seeds
// in the background (retrying until one answers). It returns once the node
// has a view of the cluster, which at first may hold only itself.
func (n *Node) JoinCluster(ctx context.Context, addrs Addresses) error {
	c := n.cluster
	if c == nil {
		return errors.New("join cluster: the node is not configured for a cluster")
	}
	boot := make([]byte, 8)
	rand.Read(boot)
	c.self = Member{Name: c.cfg.NodeName, ID: memberID(c.cfg.NodeName), RESP: addrs.RESP, Peer: addrs.Peer, GRPC: addrs.GRPC,
		Boot: hex.EncodeToString(boot)}
	mc, err := c.memberlistConfig()
	if err != nil {
		return err
	}
	meta, err := json.Marshal(c.self)
	if err != nil {
		return err
	}
	if len(meta) > memberlist.MetaMaxSize {
		return fmt.Errorf("node metadata is %d bytes, over gossip's %d", len(meta), memberlist.MetaMaxSize)
	}
	mc.Delegate = &gossipDelegate{meta: meta}
	c.events = &gossipEvents{changed: c.changed, alive: map[string]gossipMember{}, seen: map[string]string{}}
	mc.Events = c.events
	list, err := memberlist.Create(mc)
	if err != nil {
		return fmt.Errorf("gossip: %w", err)
	}
	c.list = list
	c.logger.Info("gossip started", "node", c.self.Name, "gossip", list.LocalNode().Address(), "resp", addrs.RESP, "peer", addrs.Peer)
	if err := c.recompute(); err != nil {
		list.Shutdown()
		return err
	}
	c.wg.Add(2)
	go c.viewLoop()
	go c.joinLoop()
	c.node.pump.run()
	c.handoff.start(c)
	return ctx.Err()
}

// memberlistConfig translates the cluster settings for memberlist.
func (c *cluster) memberlistConfig() (*memberlist.Config, error) {
	mc := memberlist.DefaultLANConfig()
	if c.cfg.Profile == "local" {
		mc = memberlist.DefaultLocalConfig()
		mc.ProbeInterval = 200 * time.Millisecond
		mc.ProbeTimeout = 100 * time.Millisecond
		mc.SuspicionMult = 2
		mc.GossipInterval = 50 * time.Millisecond
		mc.PushPullInterval = 2 * time.Second
	}
	host, port, err := splitHostPort(c.cfg.GossipAddr)
	if err != nil {
		return nil, err
	}
	// A restarted pod keeps its name but often not its address: let it
	// take its name back soon after it was declared dead (memberlist's
	// default is never, until the dead entry is reaped).
	mc.DeadNodeReclaimTime = 5 * time.Second
	if c.cfg.Profile == "local" {
		mc.DeadNodeReclaimTime = 500 * time.Millisecond
	}
	mc.Name = c.cfg.NodeName
	mc.BindAddr = host
	mc.BindPort = port
	if c.cfg.AdvertiseHost != "" {
		mc.AdvertiseAddr = c.cfg.AdvertiseHost
		mc.AdvertisePort = port
	}
	mc.Logger = log.New(&slogWriter{c.logger}, "", 0)
	if c.cfg.Transport != nil {
		mc.Transport = c.cfg.Transport
	}
	if c.cfg.Keyring != nil {
		mc.Keyring = c.cfg.Keyring
		mc.GossipVerifyIncoming = true
		mc.GossipVerifyOutgoing = true
	}
	return mc, nil
}

// Gossip returns the address gossip listens on, once joined.
func (n *Node) Gossip() string {
	if n.cluster == nil || n.cluster.list == nil {
		return ""
	}
	return n.cluster.list.LocalNode().Address()
}

// joinLoop joins the seeds, retrying until one of them answers, then
// every Rejoin contacts the seeds and the members lost since (a partition
// heals this way: memberlist does not call on dead members by itself).
func (c *cluster) joinLoop() {
	defer c.wg.Done()
	joined := len(c.cfg.Join) == 0
	t := time.NewTicker(c.cfg.JoinRetry)
	defer t.Stop()
	lastRejoin := time.Now()
	failures := 0
	for first := true; ; first = false {
		if !first {
			select {
			case <-c.stop:
				return
			case <-t.C:
			}
		}
		if c.leaving.Load() || c.handingOff.Load() {
			continue
		}
		switch {
		case !joined:
			n, err := c.list.Join(c.cfg.Join)
			if n > 0 && c.list.NumMembers() > 1 {
				joined = true
				c.logger.Info("joined the cluster", "node", c.self.Name, "contacted", n, "members", c.list.NumMembers())
				continue
			}
			// Seeds that are still starting are normal; a seed list that
			// never answers is a misconfiguration worth a warning.
			if failures++; failures%10 == 0 {
				c.logger.Warn("no seed answers yet; retrying", "seeds", strings.Join(c.cfg.Join, ","), "attempts", failures, "err", err)
			} else {
				c.logger.Debug("join failed; retrying", "seeds", strings.Join(c.cfg.Join, ","), "err", err)
			}
		case time.Since(lastRejoin) >= c.cfg.Rejoin:
			lastRejoin = time.Now()
			if addrs := c.lostAddrs(); len(addrs) > 0 {
				if n, _ := c.list.Join(append(addrs, c.cfg.Join...)); n > 0 {
					c.logger.Debug("rejoined", "contacted", n)
				}
			}
		}
	}
}

// lostAddrs returns the gossip addresses of members seen before and not
// alive now.
func (c *cluster) lostAddrs() []string {
	c.events.mu.Lock()
	defer c.events.mu.Unlock()
	var out []string
	for name, addr := range c.events.seen {
		if _, ok := c.events.alive[name]; !ok && name != c.self.Name {
			out = append(out, addr)
		}
	}
	return out
}

// viewLoop recomputes the view after membership has been quiet for Settle.
func (c *cluster) viewLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.stop:
			return
		case <-c.changed:
		}
		settle := time.NewTimer(c.cfg.Settle)
	quiet:
		for {
			select {
			case <-c.stop:
				settle.Stop()
				return
			case <-c.changed:
				settle.Reset(c.cfg.Settle)
			case <-settle.C:
				break quiet
			}
		}
		if err := c.recompute(); err != nil {
			c.logger.Error("cluster view not updated", "err", err)
		}
	}
}

// members returns the live members that published valid metadata.
func (c *cluster) members() []Member {
	var out []Member
	c.events.mu.Lock()
	for name, g := range c.events.alive {
		var mm Member
		if err := json.Unmarshal(g.meta, &mm); err != nil || mm.Peer == "" {
			continue
		}
		mm.Name = name
		mm.ID = memberID(name)
		out = append(out, mm)
	}
	c.events.mu.Unlock()
	if !slices.ContainsFunc(out, func(m Member) bool { return m.Name == c.self.Name }) {
		out = append(out, c.self)
	}
	return out
}

// recompute builds the view from the current members and, when it
// differs, swaps it in and starts what follows: replication targets, slot
// hand-off, reads of slots still arriving.
func (c *cluster) recompute() error {
	c.viewMu.Lock()
	defer c.viewMu.Unlock()
	members := c.members()
	if len(members) >= c.cfg.MinMembers && !c.ready.Load() {
		c.ready.Store(true)
		c.logger.Info("cluster ready", "node", c.self.Name, "members", len(members), "min_members", c.cfg.MinMembers)
	}
	old := c.view.Load()
	v, err := newView(c.self, members, c.ringConfig(), c.epoch+1, c.leaving.Load())
	if err != nil {
		return err
	}
	if c.handingOff.Load() && !v.Leaving {
		var names []string
		for _, m := range v.Members() {
			if m.Name != c.self.Name {
				names = append(names, m.Name)
			}
		}
		if v.Next, err = ring.New(names, c.ringConfig()); err != nil {
			return err
		}
	}
	if old != nil && old.Leaving == v.Leaving && old.Ring.Equal(v.Ring) && sameAddresses(old, v) &&
		(old.Next == nil) == (v.Next == nil) && (v.Next == nil || old.Next.Equal(v.Next)) {
		return nil
	}
	c.epoch++
	// Everything the new view implies is ready before the view is seen:
	// writes to its new slots are recorded for replication, and its slots
	// still arriving are known to be; then the view is published, and only
	// then are the slots it no longer serves no longer recorded.
	c.track(v, true)
	c.importing.update(old, v, c.ringConfig())
	c.view.Store(v)
	c.track(v, false)
	if old != nil {
		for _, m := range old.Members() {
			if _, ok := v.Member(m.Name); !ok {
				c.forgetLater(m)
			}
		}
	}
	names := v.Ring.Members()
	c.logger.Info("cluster view changed", "node", c.self.Name, "epoch", c.epoch, "members", strings.Join(names, ","), "leaving", v.Leaving)
	c.handoff.kick()
	c.node.registrationChanged()
	return nil
}

// forgetDelay is how long the links to a departed member stay open: a
// leaving member still answers what was sent to it before its leave.
const forgetDelay = 10 * time.Second

// forgetLater closes the links to m after forgetDelay, unless it is a
// member again by then.
func (c *cluster) forgetLater(m Member) {
	time.AfterFunc(forgetDelay, func() {
		if v := c.view.Load(); v != nil {
			if now, ok := v.Member(m.Name); ok && now.Peer == m.Peer {
				return
			}
		}
		c.peers.Forget(m.Peer)
	})
}

// sameAddresses reports whether every member of a has the same endpoints in b.
func sameAddresses(a, b *View) bool {
	for name, m := range a.members {
		if b.members[name] != m {
			return false
		}
	}
	return len(a.members) == len(b.members)
}

// track tells the store which slots' changes to record for replication:
// those this node is primary for and that have other owners, or, while it
// hands off before leaving, all it is primary for (the future owners need
// the writes that arrive meanwhile).
//
// With onlyAdd it only turns tracking on, so that a slot the previous view
// served stays tracked until the new view is published.
func (c *cluster) track(v *View, onlyAdd bool) {
	all := v.Ring.Replicas() > 1 || v.Next != nil
	persist := c.node.persist != nil // the log wants every change
	for slot := range ring.SlotCount {
		on := persist || (all && v.IsPrimary(slot))
		if on || !onlyAdd {
			c.node.Store.TrackSlot(slot, on)
		}
	}
}

// targets returns the members other than this node that must get the
// changes of slot: its owners, and its future owners while handing off.
func (v *View) targets(slot int, dst []Member) []Member {
	for _, name := range v.Ring.Owners(slot) {
		if name != v.Self.Name {
			dst = append(dst, v.members[name])
		}
	}
	if v.Next != nil {
		for _, name := range v.Next.Owners(slot) {
			if !v.Ring.IsOwner(name, slot) {
				dst = append(dst, v.members[name])
			}
		}
	}
	return dst
}

// gossipDelegate serves the node's metadata to gossip.
type gossipDelegate struct{ meta []byte }

func (d *gossipDelegate) NodeMeta(limit int) []byte                  { return d.meta }
func (d *gossipDelegate) NotifyMsg([]byte)                           {}
func (d *gossipDelegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *gossipDelegate) LocalState(join bool) []byte                { return nil }
func (d *gossipDelegate) MergeRemoteState(buf []byte, join bool)     {}

// gossipEvents keeps this node's own copy of the live members (memberlist
// changes its Node structs in place while Members' callers read them) and
// turns each change into a non-blocking signal. memberlist calls it with
// its node lock held, so the copies are consistent.
type gossipEvents struct {
	changed chan struct{}
	mu      sync.Mutex // guards alive and seen
	alive   map[string]gossipMember
	seen    map[string]string // name → gossip address, of every member met
}

// gossipMember is what the node keeps of a live member.
type gossipMember struct {
	meta []byte
	addr string
}

func (e *gossipEvents) NotifyJoin(n *memberlist.Node)   { e.update(n, true) }
func (e *gossipEvents) NotifyUpdate(n *memberlist.Node) { e.update(n, true) }
func (e *gossipEvents) NotifyLeave(n *memberlist.Node)  { e.update(n, false) }

func (e *gossipEvents) update(n *memberlist.Node, alive bool) {
	e.mu.Lock()
	if alive {
		e.alive[n.Name] = gossipMember{meta: bytes.Clone(n.Meta), addr: n.Address()}
		e.seen[n.Name] = n.Address()
	} else {
		delete(e.alive, n.Name)
	}
	e.mu.Unlock()
	select {
	case e.changed <- struct{}{}:
	default:
	}
}

// slogWriter sends memberlist's log lines to slog at debug level, without
// their "[DEBUG] memberlist:" prefix.
type slogWriter struct{ logger *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	if i := strings.Index(msg, "] "); i >= 0 && strings.HasPrefix(msg, "[") {
		msg = msg[i+2:]
	}
	w.logger.Debug(strings.TrimPrefix(msg, "memberlist: "), "component", "gossip")
	return len(p), nil
}

var _ io.Writer = (*slogWriter)(nil)

// splitHostPort splits addr and parses its port.
func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q: bad port", addr)
	}
	return host, port, nil
}
