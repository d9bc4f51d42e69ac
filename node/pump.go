package node

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/cached/cached/node/store"
	"github.com/cached/cached/persistence"
)

// pump carries the store's changes to where they must go: each changed
// key's newest state is encoded once, appended to the persistence log and
// batched for the slot's replicas. It runs when the node persists or is
// clustered. Writes that must wait (replica-ack, appendfsync always) wait
// for the pump to have passed their change on.
type pump struct {
	node  *Node
	stop  chan struct{}
	wg    sync.WaitGroup
	start sync.Once

	done atomic.Uint64 // sequence number of the last change passed on (or given up on)

	mu      sync.Mutex // guards waiters
	waiters []writeWaiter
}

// writeWaiter is a write waiting for the pump.
type writeWaiter struct {
	seq  uint64
	done func(error)
}

// run starts the pump once.
func (p *pump) run() {
	p.start.Do(func() {
		p.wg.Add(1)
		go p.loop()
	})
}

func (p *pump) loop() {
	defer p.wg.Done()
	n := p.node
	st := n.Store
	var changes []store.Change
	var rec []byte
	var targets []Member
	for {
		stopping := false
		select {
		case <-p.stop:
			stopping = true // pass on what is left, then stop
		case <-st.ChangeSignal():
		}
		var seq uint64
		changes, seq = st.TakeChanges(changes[:0])
		var v *View
		if n.cluster != nil {
			v = n.cluster.view.Load()
		}
		var batches map[string][]byte
		if v != nil {
			batches = map[string][]byte{}
		}
		for _, ch := range changes {
			rec = st.AppendChange(rec[:0], ch) // the key's state, a delete, or a slot flush
			if n.logChanges {
				n.persist.Append(rec)
			}
			if v != nil {
				targets = n.cluster.repl.batch(v, ch.Slot, rec, batches, targets)
			}
		}
		var err error
		if n.persist != nil {
			if err = n.persist.Flush(); err != nil {
				n.logger.Error("persistence write failed", "err", err)
			}
		}
		if len(batches) > 0 {
			if !n.cluster.repl.send(n.cluster, batches) {
				err = errors.Join(err, ErrNoReplicas)
			}
			n.cluster.repl.sent.Add(int64(len(changes)))
		}
		if seq > p.done.Load() {
			p.done.Store(seq)
		}
		p.release(seq, err)
		if stopping {
			p.release(^uint64(0), ErrStopped)
			return
		}
	}
}

// close passes on the last changes and stops the pump.
func (p *pump) close() {
	close(p.stop)
	p.wg.Wait()
}

// release calls the waiters for changes up to seq.
func (p *pump) release(seq uint64, err error) {
	p.mu.Lock()
	var due []writeWaiter
	kept := p.waiters[:0]
	for _, w := range p.waiters {
		if w.seq <= seq {
			due = append(due, w)
		} else {
			kept = append(kept, w)
		}
	}
	p.waiters = kept
	p.mu.Unlock()
	for _, w := range due {
		w.done(err)
	}
}

// WaitsForWrites reports whether a write's reply must wait until its change
// is on its replicas (replica-ack) or synced to disk (appendfsync always).
func (n *Node) WaitsForWrites() bool {
	return (n.cluster != nil && n.cluster.cfg.ReplicaAck) ||
		(n.persist != nil && n.persistCfg.Log && n.persistCfg.Fsync == persistence.FsyncAlways)
}

// AwaitWrites calls done once the changes made so far have been passed on:
// written (and synced) to the log and sent to the replicas; err says what
// failed (ErrNoReplicas, a persistence error, ErrStopped). It reports true,
// without calling done, when there is nothing to wait for.
func (n *Node) AwaitWrites(done func(err error)) (immediate bool) {
	if !n.WaitsForWrites() {
		return true
	}
	seq := n.Store.ChangeSeq()
	p := &n.pump
	if p.done.Load() >= seq {
		return true
	}
	p.mu.Lock()
	if p.done.Load() >= seq {
		p.mu.Unlock()
		return true
	}
	p.waiters = append(p.waiters, writeWaiter{seq: seq, done: done})
	p.mu.Unlock()
	return false
}

// passed reports whether every change up to seq has been passed on.
func (p *pump) passed(seq uint64) bool { return p.done.Load() >= seq }
