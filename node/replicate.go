package node

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cached/cached/node/store"
)

// Internal commands of the peer protocol. They are served only on the peer
// listener.
const (
	// CmdApply carries back-to-back store records; the receiver applies
	// them last-writer-wins and replies with the number applied.
	CmdApply = "CACHED.APPLY"
	// CmdSlotDone tells a slot's new primary that a previous owner has
	// sent it the whole slot.
	CmdSlotDone = "CACHED.SLOTDONE"
	// CmdDump asks for one key's record (a null reply when absent).
	CmdDump = "CACHED.DUMP"
	// CmdAsking makes the next command run locally even if the receiver
	// does not own its slot yet (a leaving node forwarding its traffic).
	CmdAsking = "CACHED.ASKING"
	// CmdPublish delivers a PUBLISH to the receiver's own subscribers.
	CmdPublish = "CACHED.PUBLISH"
	// CmdFlush empties the receiver's store.
	CmdFlush = "CACHED.FLUSH"
	// CmdKeyCount returns the number of keys in the slots the receiver is
	// primary for.
	CmdKeyCount = "CACHED.KEYCOUNT"
)

// maxApplyBatch bounds one CACHED.APPLY command, so a big change set goes
// out in several commands instead of one huge allocation on the receiver.
const maxApplyBatch = 4 << 20

// replicator sends the changes of the slots this node is primary for to
// their other owners: asynchronously, coalescing repeated writes of a key
// into one record of its newest state.
type replicator struct {
	acked  atomic.Uint64 // sequence number of the last change sent (or given up on)
	failed atomic.Uint64 // sequence number of the last change some replica missed
	sent   atomic.Int64  // records sent
	errors atomic.Int64  // failed batches

	mu      sync.Mutex // guards waiters
	waiters []ackWaiter
}

// ackWaiter is a write waiting for its replicas (ReplicaAck).
type ackWaiter struct {
	seq  uint64
	done func(ok bool)
}

// run is the replication loop: take the store's pending changes, encode
// each changed key's newest state once, send one batch per replica.
func (r *replicator) run(c *cluster) {
	defer c.wg.Done()
	st := c.node.Store
	var changes []store.Change
	var rec []byte
	var targets []Member
	for {
		select {
		case <-c.stop:
			r.release(^uint64(0), false)
			return
		case <-st.ChangeSignal():
		}
		var seq uint64
		changes, seq = st.TakeChanges(changes[:0])
		if len(changes) == 0 {
			r.finish(seq, true)
			continue
		}
		v := c.view.Load()
		batches := map[string][]byte{}
		for _, ch := range changes {
			rec = st.AppendChange(rec[:0], ch) // the key's state, a delete, or a slot flush
			targets = v.targets(ch.Slot, targets[:0])
			for _, m := range targets {
				batches[m.Peer] = append(batches[m.Peer], rec...)
			}
		}
		ok := r.send(c, batches)
		r.sent.Add(int64(len(changes)))
		r.finish(seq, ok)
	}
}

// send delivers each peer's batch, in parallel, and reports whether every
// peer applied its batch.
func (r *replicator) send(c *cluster, batches map[string][]byte) bool {
	var wg sync.WaitGroup
	var failed atomic.Bool
	for addr, batch := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.apply(addr, batch); err != nil {
				failed.Store(true)
				r.errors.Add(1)
				c.logger.Warn("replication batch not applied", "peer", addr, "bytes", len(batch), "err", err)
			}
		}()
	}
	wg.Wait()
	return !failed.Load()
}

// apply sends back-to-back records to a peer in bounded commands.
func (c *cluster) apply(addr string, recs []byte) error {
	for len(recs) > 0 {
		n := len(recs)
		if n > maxApplyBatch {
			n = recordsPrefix(recs, maxApplyBatch)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := c.peers.Call(ctx, addr, 2, 0, [][]byte{[]byte(CmdApply), recs[:n]})
		cancel()
		if err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// recordsPrefix returns the length of the longest run of whole records at
// the start of recs that fits in limit (at least one record).
func recordsPrefix(recs []byte, limit int) int {
	n := 0
	for n < len(recs) {
		_, size, err := store.DecodeRecord(recs[n:])
		if err != nil || (n > 0 && n+size > limit) {
			break
		}
		n += size
	}
	return n
}

// finish records that the changes up to seq went out, and wakes the writes
// waiting for them.
func (r *replicator) finish(seq uint64, ok bool) {
	if !ok {
		r.failed.Store(seq)
	}
	if seq > r.acked.Load() {
		r.acked.Store(seq)
	}
	r.release(seq, ok)
}

// release calls the waiters for changes up to seq.
func (r *replicator) release(seq uint64, ok bool) {
	r.mu.Lock()
	var due []ackWaiter
	kept := r.waiters[:0]
	for _, w := range r.waiters {
		if w.seq <= seq {
			due = append(due, w)
		} else {
			kept = append(kept, w)
		}
	}
	r.waiters = kept
	r.mu.Unlock()
	for _, w := range due {
		w.done(ok)
	}
}

// AwaitReplication calls done once the node's changes up to now have been
// sent to their replicas: ok is false if some replica did not take them
// (or the node stopped). It calls done at once on a single node, and
// reports whether it did so.
func (n *Node) AwaitReplication(done func(ok bool)) (immediate bool) {
	c := n.cluster
	if c == nil || !c.cfg.ReplicaAck {
		return true
	}
	seq := n.Store.ChangeSeq()
	r := &c.repl
	if r.acked.Load() >= seq {
		return true
	}
	r.mu.Lock()
	if r.acked.Load() >= seq {
		r.mu.Unlock()
		return true
	}
	r.waiters = append(r.waiters, ackWaiter{seq: seq, done: done})
	r.mu.Unlock()
	return false
}

// ErrNoReplicas is the reply to a ReplicaAck write that a replica missed.
var ErrNoReplicas = errors.New("not enough good replicas to write")
