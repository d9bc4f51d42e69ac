package store

import (
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cached/cached/ring"
)

// Change tracking feeds replication. The node marks the slots it is primary
// for (TrackSlot); every user-visible change to a key of a tracked slot then
// lands, under the shard lock the write holds anyway, in its shard's pending
// set, which remembers each key once however often it changes. The
// replicator waits on ChangeSignal, takes the keys with TakeChanges and
// sends each key's current state (AppendChange): a key changed many times
// between two takes costs one record.
//
// What is recorded: writes of every kind (SET and the other string writes,
// collection updates, EXPIRE, PERSIST, GETEX, RENAME's and COPY's
// destination), deletions (DEL, GETDEL, a collection emptied, a deadline set
// in the past, RENAME's source) and FLUSHALL, as one flush per tracked slot.
// What is not: removals by expiry (replicas expire keys on their own clock),
// eviction (local to this node's memory), DropSlot, and Apply (see Apply).

// changes is the store-wide part of change tracking.
type changes struct {
	// slots holds a bit per slot: changes of its keys are recorded.
	slots [ring.SlotCount / 64]atomic.Uint64
	// seq numbers the recorded changes; it is advanced under the lock of
	// the changed key's shard.
	seq atomic.Uint64
	// notify is set when the next recorded change must signal.
	notify atomic.Bool
	signal chan struct{}
	// takeMu serialises TakeChanges, so that each change goes to one taker.
	takeMu sync.Mutex
}

func (c *changes) init() {
	c.signal = make(chan struct{}, 1)
	c.notify.Store(true)
}

// tracked reports whether slot's changes are recorded: one atomic load.
func (c *changes) tracked(slot uint16) bool {
	return c.slots[slot>>6].Load()&(1<<(slot&63)) != 0
}

// pending is a shard's record of the changes to its tracked slots since the
// last TakeChanges. The shard's lock guards it, except that dirty may be
// read without it.
//
// The changed keys are a list, in the order of their first change, with a
// set over it to keep each key once. Their bytes are appended to arena, so
// recording a key allocates only when the arena grows, and a take hands
// the arena to its caller instead of copying: the shard starts a new one.
type pending struct {
	keys    []pendingKey
	seen    map[string]struct{} // the keys of keys, over arena's bytes
	arena   []byte
	flushes []flushMark // slots flushed, each once
	dirty   atomic.Bool // keys or flushes is not empty
}

// pendingKey is a changed key, in its shard's arena, and its slot.
type pendingKey struct {
	key  []byte
	slot uint16
}

// flushMark records that every key of slot was removed at version.
type flushMark struct {
	slot    uint16
	version uint64
}

// pendingKeep is the number of keys up to which a taken pending list and
// set are cleared for reuse rather than dropped: beyond it (after a burst)
// they would hold memory for nothing.
const pendingKeep = 1024

// minArena is the smallest arena a shard starts after a take.
const minArena = 256

// recordLocked records a change to key, of the tracked slot slot, in its
// shard's pending set. The shard's write lock must be held. key may share
// an entry's memory: it is copied the first time it is recorded.
func (s *Store) recordLocked(sh *shard, key string, slot uint16) {
	p := &sh.pending
	if _, ok := p.seen[key]; !ok {
		p.add(key, slot)
	}
	s.changedLocked(p)
}

// add appends key, not yet pending, to p.
func (p *pending) add(key string, slot uint16) {
	if p.seen == nil {
		p.seen = make(map[string]struct{})
	}
	if cap(p.arena)-len(p.arena) < len(key) {
		// A new arena rather than a larger copy: the keys recorded so far
		// stay in the old one, which they keep alive.
		p.arena = make([]byte, 0, max(minArena, 2*cap(p.arena), len(key)))
	}
	start := len(p.arena)
	p.arena = append(p.arena, key...)
	b := p.arena[start:len(p.arena):len(p.arena)]
	p.keys = append(p.keys, pendingKey{b, slot})
	p.seen[unsafe.String(unsafe.SliceData(b), len(b))] = struct{}{}
}

// removeSlotLocked forgets the pending keys of slot. The shard's write lock
// must be held.
func (p *pending) removeSlotLocked(slot uint16) {
	kept := p.keys[:0]
	for _, pk := range p.keys {
		if pk.slot == slot {
			delete(p.seen, unsafe.String(unsafe.SliceData(pk.key), len(pk.key)))
		} else {
			kept = append(kept, pk)
		}
	}
	clear(p.keys[len(kept):])
	p.keys = kept
}

// recordFlushLocked records that every key of the tracked slot was removed
// at version. The keys of the slot recorded before are dropped: the flush
// covers them. The shard's write lock must be held.
func (s *Store) recordFlushLocked(sh *shard, slot uint16, version uint64) {
	p := &sh.pending
	p.removeSlotLocked(slot)
	found := false
	for j := range p.flushes {
		if p.flushes[j].slot == slot {
			p.flushes[j].version = version
			found = true
		}
	}
	if !found {
		p.flushes = append(p.flushes, flushMark{slot, version})
	}
	s.changedLocked(p)
}

// changedLocked marks p dirty, advances the sequence number and signals
// the first change after a take. dirty is set before the sequence number
// advances, which TakeChanges relies on.
func (s *Store) changedLocked(p *pending) {
	if !p.dirty.Load() {
		p.dirty.Store(true)
	}
	s.changes.seq.Add(1)
	if s.changes.notify.Load() && s.changes.notify.CompareAndSwap(true, false) {
		select {
		case s.changes.signal <- struct{}{}:
		default:
		}
	}
}

// TrackSlot turns change tracking for slot on or off; slot must be in
// [0, ring.SlotCount), other values are ignored. The node tracks the slots
// it is primary for. A write to an untracked slot costs one atomic load;
// turning tracking off keeps the changes already recorded until they are
// taken.
func (s *Store) TrackSlot(slot int, on bool) {
	if slot < 0 || slot >= ring.SlotCount {
		return
	}
	w, bit := &s.changes.slots[slot>>6], uint64(1)<<(slot&63)
	if on {
		w.Or(bit)
	} else {
		w.And(^bit)
	}
}

// SlotTracked reports whether TrackSlot turned tracking on for slot.
func (s *Store) SlotTracked(slot int) bool {
	return slot >= 0 && slot < ring.SlotCount && s.changes.tracked(uint16(slot))
}

// Change is a recorded change to a tracked slot: to Key, or, when Flush is
// set, to every key of Slot (FLUSHALL removed them at Version; writes to
// the slot after the flush have greater versions and are recorded as
// changes of their own).
type Change struct {
	Key     []byte // the changed key; nil for a flush
	Slot    int    // the key's hash slot, or the flushed slot
	Flush   bool
	Version uint64 // the flush's version; 0 for a key change
}

// TakeChanges appends the changes recorded since the last take to dst,
// clears them, and returns the result with a sequence number: every change
// numbered up to seq (see ChangeSeq) is in out, or was in an earlier take.
// Changes recorded while TakeChanges runs may be in out too, and then
// are not returned again unless the key changes again.
//
// A key appears once however often it changed, and out says nothing of
// what changed: the caller reads each key's state (AppendChange). Within a
// shard, flushes come first, then keys in the order of their first change.
// The keys are copies that the caller owns (the store keeps no reference
// to them); TakeChanges itself allocates only to grow out. It is safe for
// concurrent use, and each change goes to one caller; it takes the write
// lock of each shard with changes, one at a time.
func (s *Store) TakeChanges(dst []Change) (out []Change, seq uint64) {
	c := &s.changes
	c.takeMu.Lock()
	defer c.takeMu.Unlock()
	// A change recorded from now on signals again, so that none is left
	// waiting for a signal that came before this take.
	c.notify.Store(true)
	// A change numbered up to seq advanced the number under its shard's
	// lock after marking the shard dirty: the shard is seen dirty here and
	// locked after that change's writer released it.
	seq = c.seq.Load()
	out = dst
	for i := range s.shards {
		sh := &s.shards[i]
		p := &sh.pending
		if !p.dirty.Load() {
			continue
		}
		sh.mu.Lock()
		out = p.takeLocked(out)
		sh.mu.Unlock()
	}
	return out, seq
}

// takeLocked appends and clears p's changes; the keys' bytes go to the
// caller with the arena. The shard's write lock must be held.
func (p *pending) takeLocked(out []Change) []Change {
	for _, f := range p.flushes {
		out = append(out, Change{Slot: int(f.slot), Flush: true, Version: f.version})
	}
	p.flushes = p.flushes[:0]
	for _, pk := range p.keys {
		out = append(out, Change{Key: pk.key, Slot: int(pk.slot)})
	}
	if len(p.keys) > pendingKeep {
		p.keys, p.seen = nil, nil
	} else {
		// Deleting the keys costs what they are, where clear would cost
		// what the set once grew to.
		for _, pk := range p.keys {
			delete(p.seen, unsafe.String(unsafe.SliceData(pk.key), len(pk.key)))
		}
		clear(p.keys) // drop the references to the caller's arena
		p.keys = p.keys[:0]
	}
	p.arena = nil
	p.dirty.Store(false)
	return out
}

// dropSlotLocked forgets the recorded changes of slot. The shard's write
// lock must be held.
func (p *pending) dropSlotLocked(slot uint16) {
	p.removeSlotLocked(slot)
	p.flushes = slices.DeleteFunc(p.flushes, func(f flushMark) bool { return f.slot == slot })
}

// ChangeSignal returns a channel that receives a value, without the store
// ever blocking on it, when a change is recorded after the last
// TakeChanges began (or, before any take, on the first change). It has a
// capacity of one: a receiver that was busy finds one value for many
// changes. The channel is never closed.
func (s *Store) ChangeSignal() <-chan struct{} { return s.changes.signal }

// ChangeSeq returns the sequence number of the latest recorded change (0
// before any). A writer that reads it after its write can wait for a take
// that returns at least that number: its change is then in hand.
func (s *Store) ChangeSeq() uint64 { return s.changes.seq.Load() }

// AppendChange appends to dst the record that replicates c: for a flush, a
// flush record (AppendFlushRecord); for a key, the key's current state (as
// AppendRecord) or, when it is absent or expired, a delete record stamped
// with a new version under the key's shard lock, so that it orders after
// every write the absence reflects and before any write that follows. It
// holds the shard's read lock while encoding.
func (s *Store) AppendChange(dst []byte, c Change) []byte {
	if c.Flush {
		return AppendFlushRecord(dst, c.Slot, c.Version)
	}
	sh, i := s.locate(c.Key)
	now := s.nowMs()
	// Writers stamp under the write lock, so none can take a version
	// between this look-up and the delete's stamp.
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if e := s.get(sh, i, c.Key); e != nil && !expired(e, now) {
		return appendEntryRecord(dst, e)
	}
	return AppendDeleteRecord(dst, c.Key, s.stamp(now))
}
