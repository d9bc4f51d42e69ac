package resp

import "slices"

// Overlapping forwards. A pipelining client on an event loop does not wait
// for each forwarded command's reply before the next command: forwards to
// other nodes and commands run here go on side by side, and the replies
// are put back in command order. Order is kept where Redis Cluster keeps
// it: per slot. A command waits for every forward in flight (a barrier)
// when it has no key or several slots, its slot already has a forward in
// flight (so a retried forward cannot pass a later command of its slot),
// the view changed since the forwards went out, or the client needs a
// command at a time (MULTI, tracking, subscribed, acknowledged writes).

const (
	// maxOverlap bounds a client's forwards in flight.
	maxOverlap = 128
	// maxOverlapBytes bounds the replies held behind an unanswered forward;
	// beyond it the client's pipeline waits, as a slow reader's would.
	maxOverlapBytes = 4 << 20
)

// overlap is an event-loop client's forwards in flight and the replies
// that follow them. Its fields are guarded by the client's pushMu: the
// forwards' replies arrive on peer goroutines.
type overlap struct {
	inflight []uint16  // slots of the unanswered forwards, one per forward
	epoch    uint64    // the view they were routed in
	queue    []*queued // replies from the oldest unanswered forward on
	bytes    int       // reply bytes in queue
	waiting  bool      // a command waits (in replay) for inflight to empty
}

// queued is a reply in a client's order, ready once it is known.
type queued struct {
	reply []byte
	ready bool
}

// overlaps reports whether c may forward a command of slot now, with
// other forwards in flight, rather than wait for its reply; epoch is the
// view's. It holds pushMu.
func (c *Client) overlaps(slot int, epoch uint64) bool {
	o := &c.ovl
	if len(o.inflight) == 0 {
		return true
	}
	return o.epoch == epoch && len(o.inflight) < maxOverlap && o.bytes < maxOverlapBytes &&
		!slices.Contains(o.inflight, uint16(slot))
}

// mayOverlap reports whether c, a client of an event loop in a cluster,
// may forward or run cmd without waiting for anything in flight.
func (c *Client) mayOverlap(cmd *command) bool {
	return c.lp != nil && !c.peer && !c.tx.active && !c.track.on && !c.srv.waitWrites &&
		!blocks(cmd) && cmd.name != "watch" && !c.subscribedMode()
}

// startForward queues the reply place of a forward of slot and reports it,
// or reports nil when the command must wait for the forwards in flight.
func (c *Client) startForward(cmd *command, slot int, epoch uint64) *queued {
	if !c.mayOverlap(cmd) {
		return nil
	}
	c.pushMu.Lock()
	defer c.pushMu.Unlock()
	if !c.overlaps(slot, epoch) {
		return nil
	}
	o := &c.ovl
	if len(o.inflight) == 0 {
		o.epoch = epoch
	}
	o.inflight = append(o.inflight, uint16(slot))
	q := &queued{}
	o.queue = append(o.queue, q)
	c.overlapping = true
	return q
}

// finishForward fills the reply place of a forward of slot and wakes the
// client's loop when that lets replies out or a waiting command run.
func (c *Client) finishForward(q *queued, slot int, reply []byte) {
	c.pushMu.Lock()
	o := &c.ovl
	q.reply, q.ready = reply, true
	o.bytes += len(reply)
	if i := slices.Index(o.inflight, uint16(slot)); i >= 0 {
		o.inflight = slices.Delete(o.inflight, i, i+1)
	}
	wake := o.queue[0] == q
	resume := o.waiting && len(o.inflight) == 0
	if resume {
		o.waiting = false
	}
	c.pushMu.Unlock()
	if resume {
		c.blocked.Store(false)
	}
	if wake || resume {
		c.lp.schedule(c)
	}
}

// waitOverlap parks cmd until the forwards in flight are answered when it
// may not run beside them, and reports whether it did.
func (c *Client) waitOverlap(cmd *command, args [][]byte) bool {
	c.pushMu.Lock()
	defer c.pushMu.Unlock()
	o := &c.ovl
	if len(o.inflight) == 0 {
		return false
	}
	if slot, ok, cross := keySlot(cmd, args); ok && !cross && c.mayOverlap(cmd) {
		if v := c.srv.node.View(); v != nil && c.overlaps(slot, v.Epoch) {
			return false
		}
	}
	o.waiting = true
	c.replay = cloneArgs(args)
	c.replayFetched = c.fetched
	c.suspend()
	return true
}

// holdBehind moves the replies c.out gained from off on to the end of the
// queue, behind the forwards in flight.
func (c *Client) holdBehind(off int) {
	if len(c.out) == off {
		return
	}
	c.pushMu.Lock()
	c.ovl.queue = append(c.ovl.queue, &queued{reply: slices.Clone(c.out[off:]), ready: true})
	c.ovl.bytes += len(c.out) - off
	c.pushMu.Unlock()
	c.out = c.out[:off]
}

// releaseReady moves the replies at the head of the queue that are known to
// c.out, and reports whether nothing is left in flight or queued.
func (c *Client) releaseReady() bool {
	c.pushMu.Lock()
	defer c.pushMu.Unlock()
	o := &c.ovl
	n := 0
	for ; n < len(o.queue) && o.queue[n].ready; n++ {
		c.out = append(c.out, o.queue[n].reply...)
		o.bytes -= len(o.queue[n].reply)
	}
	o.queue = slices.Delete(o.queue, 0, n)
	return len(o.queue) == 0 && len(o.inflight) == 0
}
