package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cached/cached/node/store"
	"github.com/cached/cached/ring"
)

// Rebalancing. When the view changes, every node streams each slot it
// holds keys of to the slot's owners that have not had it from this node
// yet (the previous view's owners already have it), and drops the slot once
// it is no longer an owner and every owner has it. Receivers apply records
// last-writer-wins, so the same mechanism merges the two sides of a healed
// partition: each side pushes what it wrote to the owners of the joined
// ring. Meanwhile a slot's new primary answers a key it does not have yet by
// fetching that key from a previous owner first (importTable).

// receivedKeep is how long a slot handed to this node while its view did
// not make it an owner is kept rather than dropped: the sender's view is
// ahead, and this node's will follow.
const receivedKeep = 30 * time.Second

// handOffBatch bounds one batch of a slot stream.
const handOffBatch = 1 << 20

// handoff is the background slot streamer.
type handoff struct {
	kickCh  chan struct{}
	moved   atomic.Int64 // keys streamed to other nodes
	pending atomic.Int64 // slots with keys still to stream or drop
	// complete is the view of the last pass that reached every owner.
	complete atomic.Pointer[View]

	mu       sync.Mutex // guards synced, received and prev
	synced   map[int][]string
	received map[int]time.Time // when a slot this node does not own was sent to it
	prev     *View             // the view of the last complete pass
}

// start launches the hand-off loop.
func (h *handoff) start(c *cluster) {
	h.kickCh = make(chan struct{}, 1)
	h.synced = map[int][]string{}
	h.received = map[int]time.Time{}
	c.wg.Add(1)
	go h.run(c)
	h.kick()
}

// kick asks for a hand-off pass.
func (h *handoff) kick() {
	if h.kickCh == nil {
		return
	}
	select {
	case h.kickCh <- struct{}{}:
	default:
	}
}

// run makes one pass per kick, and retries a pass that could not reach
// every owner.
func (h *handoff) run(c *cluster) {
	defer c.wg.Done()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-h.kickCh:
		case <-retry.C:
		}
		if !h.pass(c) {
			retry.Reset(500 * time.Millisecond)
		}
	}
}

// pass streams every slot that needs it under the current view. It reports
// false when some slot could not be handed off and the pass must be retried.
func (h *handoff) pass(c *cluster) bool {
	v := c.view.Load()
	st := c.node.Store
	seq := st.ChangeSeq()
	type plan struct {
		owners []string
		left   int // targets still to reach
	}
	plans := map[int]*plan{}
	byTarget := map[string][]int{}
	var promoted map[string][]int // slots whose new primary already had them, by that primary
	slots := st.SlotsWithKeys()
	h.pending.Store(int64(len(slots)))
	for _, slot := range slots {
		owners := v.Ring.Owners(slot)
		if v.Next != nil {
			owners = v.Next.Owners(slot) // handing off: send to the future owners
		}
		h.mu.Lock()
		synced := h.synced[slot]
		wasPrimary := h.prev != nil && h.prev.IsPrimary(slot)
		switch {
		case wasPrimary && len(synced) > 0:
			// It took writes as primary since it last streamed the slot
			// (alone on its side of a partition, say): only the owners it
			// replicated them to have them.
			synced = ownerKeys(h.prev, h.prev.Ring.Owners(slot))
		case synced == nil && h.prev != nil && h.prev.IsOwner(slot):
			synced = ownerKeys(h.prev, h.prev.Ring.Owners(slot)) // received while an owner: they all had it
		}
		h.mu.Unlock()
		p := &plan{owners: owners}
		plans[slot] = p
		for _, name := range owners {
			if name == c.self.Name {
				continue
			}
			if !slices.Contains(synced, memberKey(v.members[name])) {
				byTarget[name] = append(byTarget[name], slot)
				p.left++
			} else if name == owners[0] && wasPrimary {
				// A replica became primary: it has the slot but for the
				// writes still being replicated; it is told once they are.
				if promoted == nil {
					promoted = map[string][]int{}
				}
				promoted[name] = append(promoted[name], slot)
			}
		}
	}
	ok := true
	names := make([]string, 0, len(byTarget))
	for name := range byTarget {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t := v.members[name]
		sent, err := h.streamSlots(c, v, t, byTarget[name])
		for _, slot := range sent {
			plans[slot].left--
		}
		if err != nil {
			c.logger.Warn("slot hand-off failed; will retry", "peer", name, "slots_left", len(byTarget[name])-len(sent), "err", err)
			ok = false
		}
		if len(sent) > 0 && v.Next == nil {
			var primaryOf []int
			for _, slot := range sent {
				if plans[slot].owners[0] == name {
					primaryOf = append(primaryOf, slot)
				}
			}
			c.slotsDone(t, primaryOf)
		}
		if c.view.Load() != v {
			h.kick() // a newer view: start over with it
			return true
		}
	}
	var left int64
	for slot, p := range plans {
		if p.left > 0 {
			left++
			continue
		}
		// The check and the drop under one hold of mu: a hand-off that
		// brings the slot back marks it received before applying its
		// records (ApplyHandOff), so they are never dropped.
		h.mu.Lock()
		h.synced[slot] = ownerKeys(v, p.owners)
		if !v.IsOwner(slot) && v.Next == nil && time.Since(h.received[slot]) >= receivedKeep {
			st.DropSlot(slot)
		}
		h.mu.Unlock()
	}
	// The new primaries of the slots this node was primary for and holds
	// no key of have them all already.
	if h.prev != nil && v.Next == nil && !v.Leaving {
		for slot := range ring.SlotCount {
			if _, held := plans[slot]; held || !h.prev.IsPrimary(slot) || v.IsPrimary(slot) {
				continue
			}
			if promoted == nil {
				promoted = map[string][]int{}
			}
			name := v.Ring.Primary(slot)
			promoted[name] = append(promoted[name], slot)
		}
	}
	if len(promoted) > 0 {
		c.awaitReplicated(seq, 2*time.Second)
		for name, slots := range promoted {
			c.slotsDone(v.members[name], slots)
		}
	}
	h.pending.Store(left)
	if ok {
		h.mu.Lock()
		h.prev = v
		h.mu.Unlock()
		h.complete.Store(v)
	}
	return ok
}

// streamSlots sends every key of slots to member t, several slots to a
// batch, and returns the slots sent in full.
func (h *handoff) streamSlots(c *cluster, v *View, t Member, slots []int) (sent []int, err error) {
	st := c.node.Store
	buf := make([]byte, 0, handOffBatch)
	var complete []int // slots wholly in buf
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		n := countRecords(buf)
		if err := c.send(t.Peer, CmdHandOff, buf); err != nil {
			return err
		}
		h.moved.Add(int64(n))
		sent = append(sent, complete...)
		complete = complete[:0]
		buf = buf[:0]
		return nil
	}
	for _, slot := range slots {
		var after []byte
		for {
			if len(buf) >= handOffBatch {
				if err := flush(); err != nil {
					return sent, err
				}
			}
			var done bool
			buf, after, done = st.AppendSlot(buf, slot, after, handOffBatch-len(buf))
			if done {
				break
			}
		}
		complete = append(complete, slot)
		select {
		case <-c.stop:
			return sent, ErrStopped
		default:
		}
		if c.view.Load() != v {
			break
		}
	}
	return sent, flush()
}

// ErrStopped is returned by work cut short because the node is stopping.
var ErrStopped = errors.New("node stopping")

// awaitReplicated waits up to timeout for the changes up to seq to have
// been sent to the replicas.
func (c *cluster) awaitReplicated(seq uint64, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for !c.node.pump.passed(seq) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

// ownerKeys returns the member keys of owners in v.
func ownerKeys(v *View, owners []string) []string {
	keys := make([]string, 0, len(owners))
	for _, name := range owners {
		keys = append(keys, memberKey(v.members[name]))
	}
	return keys
}

// memberKey identifies one incarnation of a member: a node that restarted
// empty under the same name must be sent its slots again.
func memberKey(m Member) string { return m.Name + "/" + m.Boot }

// ApplyHandOff applies the records of a slot hand-off (CmdHandOff) and
// returns how many changed the store. A record that changed a slot which
// already held keys here is a merge of two histories (the two sides of a
// healed partition): this node then sends the slot on to its other owners
// again, so that they all end up with the merged state.
func (n *Node) ApplyHandOff(recs []byte) (int, error) {
	c := n.cluster
	var v *View
	if c != nil && c.handoff.kickCh != nil {
		v = c.view.Load()
	}
	applied := 0
	var merged, notOwned []int
	for off := 0; off < len(recs); {
		r, size, err := store.DecodeRecord(recs[off:])
		if err != nil {
			return applied, fmt.Errorf("record at offset %d: %w", off, err)
		}
		slot := r.Slot
		if !r.Flush {
			slot = ring.Slot(r.Key)
		}
		if v != nil && !r.Flush && !v.IsOwner(slot) && !slices.Contains(notOwned, slot) {
			// Sent by a node whose view is ahead of ours (or that hands
			// its slots to their future owners): a pass under our older
			// view must not drop it, nor drop it while it arrives.
			notOwned = append(notOwned, slot)
			c.handoff.mu.Lock()
			c.handoff.received[slot] = time.Now()
			c.handoff.mu.Unlock()
		}
		had := n.Store.CountKeysInSlot(slot) > 0
		_, ok, err := n.Store.Apply(recs[off : off+size])
		if err != nil {
			return applied, fmt.Errorf("record at offset %d: %w", off, err)
		}
		off += size
		if ok {
			applied++
		}
		if v == nil {
			continue
		}
		if v.IsOwner(slot) && ok && had && !slices.Contains(merged, slot) {
			merged = append(merged, slot)
		}
	}
	if len(merged) == 0 {
		return applied, nil
	}
	h := &c.handoff
	h.mu.Lock()
	for _, slot := range merged {
		h.synced[slot] = []string{} // every owner must get the merged slot
	}
	h.mu.Unlock()
	h.kick()
	return applied, nil
}

// HoldSlot keeps slot from being dropped for a while although this node
// does not own it in its view: a node whose view is ahead has sent it
// keys of the slot (a leaving node forwarding with CmdAsking).
func (n *Node) HoldSlot(slot int) {
	c := n.cluster
	if c == nil || c.handoff.kickCh == nil {
		return
	}
	c.handoff.mu.Lock()
	c.handoff.received[slot] = time.Now()
	c.handoff.mu.Unlock()
}

// countRecords returns the number of whole records in recs.
func countRecords(recs []byte) int {
	n := 0
	for len(recs) > 0 {
		size := recordsPrefix(recs, 1)
		if size == 0 {
			break
		}
		recs = recs[size:]
		n++
	}
	return n
}

// slotsDone tells t, the new primary of slots, that it has them all.
func (c *cluster) slotsDone(t Member, slots []int) {
	for len(slots) > 0 {
		n := min(len(slots), 1000)
		args := [][]byte{[]byte(CmdSlotDone), []byte(c.self.Name)}
		for _, slot := range slots[:n] {
			args = append(args, strconv.AppendInt(nil, int64(slot), 10))
		}
		slots = slots[n:]
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := c.peers.Call(ctx, t.Peer, 2, 0, args)
		cancel()
		if err != nil {
			c.logger.Debug("slot done not delivered", "peer", t.Name, "err", err)
			return
		}
	}
}

// importWindow is how long a new primary keeps asking previous owners for
// keys of a slot that no previous owner has reported as sent.
const importWindow = 30 * time.Second

// importTable lists the slots this node became primary for and may not
// have received in full yet, with the owners to ask for missing keys.
type importTable struct {
	active atomic.Bool // any slot importing: the hot path checks only this
	mu     sync.RWMutex
	slots  map[int]importSource
}

// importSource is where a slot being received came from.
type importSource struct {
	from  []Member
	until time.Time
}

// update records the slots that view v makes this node primary for and
// that it may not hold in full: those it was not primary for in old (a
// replica may still lack the last writes of the old primary), or all of its
// slots when old was a view of itself alone (a node that just started and
// has not met the others yet). The owners to ask are the slot's owners in
// old and in the ring of v's members without this node (the cluster as it
// was before this node came), this node excluded.
func (t *importTable) update(old, v *View, cfg ring.Config) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	for slot, src := range t.slots {
		// Forget the previous owners that are gone: asking them would only
		// wait for a timeout.
		// A copy: source has handed the old slice to readers.
		from := slices.DeleteFunc(slices.Clone(src.from), func(m Member) bool {
			cur, ok := v.Member(m.Name)
			return !ok || cur != m
		})
		if !v.IsPrimary(slot) || now.After(src.until) || len(from) == 0 {
			delete(t.slots, slot)
			continue
		}
		src.from = from
		t.slots[slot] = src
	}
	if old == nil || old.Leaving || v.Leaving || len(v.Members()) < 2 {
		t.active.Store(len(t.slots) > 0)
		return
	}
	solo := len(old.Members()) == 1
	var others *ring.Ring
	names := make([]string, 0, len(v.Members()))
	for _, m := range v.Members() {
		if m.Name != v.Self.Name {
			names = append(names, m.Name)
		}
	}
	others, _ = ring.New(names, cfg)
	for slot := range ring.SlotCount {
		if !v.IsPrimary(slot) || (!solo && old.IsPrimary(slot)) {
			continue // not ours, or ours already
		}
		var from []Member
		add := func(name string) {
			if m, ok := v.Member(name); ok && name != v.Self.Name && !slices.ContainsFunc(from, func(f Member) bool { return f.Name == name }) {
				from = append(from, m)
			}
		}
		for _, name := range old.Ring.Owners(slot) {
			add(name)
		}
		if others != nil {
			for _, name := range others.Owners(slot) {
				add(name)
			}
		}
		if len(from) > 0 {
			if t.slots == nil {
				t.slots = map[int]importSource{}
			}
			t.slots[slot] = importSource{from: from, until: now.Add(importWindow)}
		}
	}
	t.active.Store(len(t.slots) > 0)
}

// source returns the previous owners of slot if it is still arriving.
func (t *importTable) source(slot int) ([]Member, bool) {
	if !t.active.Load() {
		return nil, false
	}
	t.mu.RLock()
	src, ok := t.slots[slot]
	t.mu.RUnlock()
	if !ok || time.Now().After(src.until) {
		return nil, false
	}
	return src.from, true
}

// done marks slot as received in full, when from is its previous primary
// (the first owner to ask), or from is "" (no previous owner holds a key
// of it).
func (t *importTable) done(slot int, from string) {
	t.mu.Lock()
	if src, ok := t.slots[slot]; ok && (from == "" || src.from[0].Name == from) {
		delete(t.slots, slot)
	}
	t.active.Store(len(t.slots) > 0)
	t.mu.Unlock()
}

// count returns the number of slots still arriving.
func (t *importTable) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	for slot, src := range t.slots {
		if now.After(src.until) {
			delete(t.slots, slot)
		}
	}
	t.active.Store(len(t.slots) > 0)
	return len(t.slots)
}
