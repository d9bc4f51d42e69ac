package node

import (
	"context"
	"errors"
	"time"

	"github.com/cached/cached/node/peer"
)

// Clustered reports whether the node is a cluster member.
func (n *Node) Clustered() bool { return n.cluster != nil }

// View returns the current cluster view, or nil on a single node or before
// JoinCluster.
func (n *Node) View() *View {
	if n.cluster == nil {
		return nil
	}
	return n.cluster.current()
}

// Ready reports whether the node serves cluster writes: always on a single
// node; once MinMembers members have been seen in a cluster.
func (n *Node) Ready() bool { return n.cluster == nil || n.cluster.ready.Load() }

// Peers returns the links to the other members (nil on a single node).
func (n *Node) Peers() *peer.Pool {
	if n.cluster == nil {
		return nil
	}
	return n.cluster.peers
}

// ImportSource returns the previous owners of slot while this node, its
// new primary, may not have received all of its keys: a key missing here
// must be fetched from them (CmdDump) before a command uses it.
func (n *Node) ImportSource(slot int) ([]Member, bool) {
	if n.cluster == nil {
		return nil, false
	}
	return n.cluster.importing.source(slot)
}

// SlotReceived records that member from, a previous owner, has sent this
// node all of slot; from is "" when no previous owner holds a key of it.
func (n *Node) SlotReceived(slot int, from string) {
	if n.cluster != nil {
		n.cluster.importing.done(slot, from)
	}
}

// PrimaryKeyCount returns the number of keys in the slots this node is
// primary for (every key on a single node): its DBSIZE in a cluster.
func (n *Node) PrimaryKeyCount() int {
	v := n.View()
	if v == nil {
		return n.Store.Len()
	}
	total := 0
	for _, slot := range n.Store.SlotsWithKeys() {
		if v.IsPrimary(slot) {
			total += n.Store.CountKeysInSlot(slot)
		}
	}
	return total
}

// Broadcast sends args to every other member without waiting for replies
// (PUBLISH and FLUSHALL reach the whole cluster this way).
func (n *Node) Broadcast(args [][]byte) {
	v := n.View()
	if v == nil {
		return
	}
	for _, m := range v.Members() {
		if m.Name != v.Self.Name {
			n.cluster.peers.Go(m.Peer, 2, 0, args, func([]byte, error) {})
		}
	}
}

// CallAll sends args to every other member and returns their replies (an
// error in place of each reply that failed), in member order.
func (n *Node) CallAll(ctx context.Context, args [][]byte) ([][]byte, []error) {
	v := n.View()
	if v == nil {
		return nil, nil
	}
	var peers []Member
	for _, m := range v.Members() {
		if m.Name != v.Self.Name {
			peers = append(peers, m)
		}
	}
	replies := make([][]byte, len(peers))
	errs := make([]error, len(peers))
	done := make(chan struct{}, len(peers))
	for i, m := range peers {
		go func() {
			replies[i], errs[i] = n.cluster.peers.Call(ctx, m.Peer, 2, 0, args)
			done <- struct{}{}
		}()
	}
	for range peers {
		<-done
	}
	return replies, errs
}

// ClusterStats are the figures INFO's cluster section shows.
type ClusterStats struct {
	Members           int
	Epoch             uint64
	SlotsPrimary      int
	SlotsReplica      int
	SlotsImporting    int
	SlotsToHandOff    int64
	KeysHandedOff     int64
	RecordsReplicated int64
	ReplicationErrors int64
	ReplicationLag    uint64 // changes recorded but not yet sent
	Ready             bool
	Leaving           bool
}

// ClusterStats returns the node's cluster figures (zero on a single node).
func (n *Node) ClusterStats() ClusterStats {
	c := n.cluster
	v := n.View()
	if c == nil || v == nil {
		return ClusterStats{}
	}
	s := ClusterStats{Members: len(v.Members()), Epoch: v.Epoch, Ready: c.ready.Load(), Leaving: v.Leaving,
		SlotsToHandOff: c.handoff.pending.Load(), KeysHandedOff: c.handoff.moved.Load(),
		RecordsReplicated: c.repl.sent.Load(), ReplicationErrors: c.repl.errors.Load()}
	primary, replica := v.Ring.Slots(v.Self.Name)
	if !v.Leaving {
		s.SlotsPrimary, s.SlotsReplica = len(primary), len(replica)
	}
	if seq, done := n.Store.ChangeSeq(), n.pump.done.Load(); seq > done {
		s.ReplicationLag = seq - done
	}
	s.SlotsImporting = c.importing.count()
	return s
}

// Leave hands this node's slots off to the remaining members, then leaves
// gossip, so that even a cluster with one copy per slot loses nothing on a
// rolling restart. First the node streams every slot to its future owners
// while it goes on serving them, its writes replicated to those owners
// too; then it announces its leave and forwards what still reaches it
// until the others have taken the leave in. It returns when that is done
// or ctx ends; Close follows.
func (n *Node) Leave(ctx context.Context) error {
	c := n.cluster
	if c == nil || c.list == nil {
		return nil
	}
	if len(c.members()) > 1 {
		c.handingOff.Store(true)
		if err := c.recompute(); err != nil {
			return err
		}
		if err := c.awaitHandOff(ctx); err != nil {
			c.logger.Warn("leaving before every slot was handed off", "err", err, "slots_left", c.handoff.pending.Load())
			return errors.Join(err, c.list.Leave(time.Second))
		}
		c.logger.Info("slots handed off", "node", c.self.Name, "keys", c.handoff.moved.Load())
		c.leaving.Store(true)
		if err := c.recompute(); err != nil {
			return err
		}
	}
	if err := c.list.Leave(2 * time.Second); err != nil {
		return err
	}
	// Keep forwarding while the others take the leave in: until then they
	// still send this node its old slots' commands.
	drain := time.NewTimer(c.drainTime())
	defer drain.Stop()
	select {
	case <-drain.C:
	case <-ctx.Done():
	}
	return nil
}

// awaitHandOff waits until a hand-off pass under the current view has
// reached every future owner and the writes made meanwhile have been
// replicated to them.
func (c *cluster) awaitHandOff(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		v := c.view.Load()
		if c.handoff.complete.Load() == v {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	seq := c.node.Store.ChangeSeq()
	for !c.node.pump.passed(seq) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// drainTime is how long a leaving node goes on serving after announcing
// its leave: a few gossip rounds for the news to spread, and the others'
// settle time before they compute their new view.
func (c *cluster) drainTime() time.Duration {
	gossip := 200 * time.Millisecond
	if c.cfg.Profile == "local" {
		gossip = 50 * time.Millisecond
	}
	return 4*gossip + 2*c.cfg.Settle
}

// close stops gossip and the cluster's goroutines.
func (c *cluster) close() error {
	close(c.stop)
	var err error
	if c.list != nil {
		err = c.list.Shutdown()
	}
	c.wg.Wait()
	return errors.Join(err, c.peers.Close())
}
