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
	// CmdHandOff carries records of a slot hand-off: as CmdApply, but a
	// record that changes a slot the receiver already held keys of makes
	// it send the slot on to its other owners (see Node.ApplyHandOff).
	CmdHandOff = "CACHED.HANDOFF"
	// CmdSlotDone tells a slot's new primary that a previous owner (named
	// in the first argument) has sent it the slots that follow in full.
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
	// CmdTrackRead asks the receiver, a key's owner, to tell the sending
	// node (named in the first argument) when the keys that follow change:
	// one of its clients tracks them (CLIENT TRACKING).
	CmdTrackRead = "CACHED.TRACKREAD"
	// CmdInvalidate tells the receiver that the keys changed, for its
	// tracking clients.
	CmdInvalidate = "CACHED.INVALIDATE"
	// CmdBcast registers the sending node (name, peer address) for every
	// change of keys under the prefixes that follow (CLIENT TRACKING BCAST,
	// gRPC Watch), replacing what it registered before; with no prefix it
	// stops hearing of changes.
	CmdBcast = "CACHED.BCAST"
)

// maxApplyBatch bounds one CACHED.APPLY command, so a big change set goes
// out in several commands instead of one huge allocation on the receiver.
const maxApplyBatch = 4 << 20

// replicator sends the changes of the slots this node is primary for to
// their other owners (see pump): asynchronously, coalescing repeated writes
// of a key into one record of its newest state.
type replicator struct {
	sent   atomic.Int64 // records sent
	errors atomic.Int64 // failed batches
}

// batch adds rec, a change of slot, to the batches of the members that
// must get it under view v: the slot's other owners when this node is its
// primary, and its future owners while handing off.
func (r *replicator) batch(v *View, slot int, rec []byte, batches map[string][]byte, targets []Member) []Member {
	if v.Ring.Primary(slot) != v.Self.Name {
		return targets // a change received as a replica goes no further
	}
	targets = v.targets(slot, targets[:0])
	for _, m := range targets {
		batches[m.Peer] = append(batches[m.Peer], rec...)
	}
	return targets
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

// apply sends back-to-back replication records to a peer.
func (c *cluster) apply(addr string, recs []byte) error { return c.send(addr, CmdApply, recs) }

// send sends back-to-back records to a peer with cmd (CmdApply or
// CmdHandOff) in bounded commands.
func (c *cluster) send(addr, cmd string, recs []byte) error {
	for len(recs) > 0 {
		n := len(recs)
		if n > maxApplyBatch {
			n = recordsPrefix(recs, maxApplyBatch)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := c.peers.Call(ctx, addr, 2, 0, [][]byte{[]byte(cmd), recs[:n]})
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

// ErrNoReplicas is the error for a ReplicaAck write that a replica missed.
var ErrNoReplicas = errors.New("not enough good replicas to write")
