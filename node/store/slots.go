package store

import (
	"cmp"
	"slices"
	"strings"

	"github.com/cached/cached/ring"
)

// Slot-level operations, for CLUSTER COUNTKEYSINSLOT and GETKEYSINSLOT and
// for handing a slot to another node: stream its keys (AppendSlot), then
// drop them (DropSlot). A slot's keys live in its group's table, next to
// the keys of the other slots of the group, so walking a slot scans the
// group; its key count is kept up to date on every insert and removal.
//
// Every method takes a slot in [0, ring.SlotCount); others see an empty
// slot and change nothing.

// validSlot reports whether slot is a hash slot.
func validSlot(slot int) bool { return slot >= 0 && slot < ring.SlotCount }

// slotGroup returns the shard holding slot and the index of its group.
func (s *Store) slotGroup(slot int) (*shard, int) { return s.group(slot & (groupCount - 1)) }

// CountKeysInSlot returns the number of keys stored in slot, in O(1). Like
// Redis's, the count includes expired keys not removed yet.
func (s *Store) CountKeysInSlot(slot int) int {
	if !validSlot(slot) {
		return 0
	}
	sh, _ := s.slotGroup(slot)
	sh.mu.RLock()
	n := s.slotKeys[slot]
	sh.mu.RUnlock()
	return int(n)
}

// KeysInSlot returns up to count live keys of slot, in no particular order,
// as CLUSTER GETKEYSINSLOT. The keys are copies that the caller owns (one
// allocation holds them all). It scans the slot's group under its shard's
// read lock.
func (s *Store) KeysInSlot(slot, count int) [][]byte {
	if !validSlot(slot) || count <= 0 {
		return nil
	}
	sh, i := s.slotGroup(slot)
	now := s.nowMs()
	sh.mu.RLock()
	n := min(count, int(s.slotKeys[slot]))
	if n == 0 {
		sh.mu.RUnlock()
		return nil
	}
	size := 0
	ends := make([]int, 0, n)
	for e := range sh.groups[i].all() {
		if int(e.slot) == slot && !expired(e, now) {
			size += int(e.klen)
			ends = append(ends, size)
			if len(ends) == n {
				break
			}
		}
	}
	buf := make([]byte, 0, size)
	copied := 0
	for e := range sh.groups[i].all() {
		if copied == len(ends) {
			break
		}
		if int(e.slot) == slot && !expired(e, now) {
			buf = append(buf, e.key()...)
			copied++
		}
	}
	sh.mu.RUnlock()
	keys := make([][]byte, len(ends))
	start := 0
	for j, end := range ends {
		keys[j] = buf[start:end:end]
		start = end
	}
	return keys
}

// SlotsWithKeys returns, in ascending order, the slots holding at least one
// key (counted as CountKeysInSlot does).
func (s *Store) SlotsWithKeys() []int {
	var out []int
	for si := range s.shards {
		sh := &s.shards[si]
		sh.mu.RLock()
		if sh.keys > 0 {
			for slot := si; slot < ring.SlotCount; slot += shardCount {
				if s.slotKeys[slot] > 0 {
					out = append(out, slot)
				}
			}
		}
		sh.mu.RUnlock()
	}
	slices.Sort(out)
	return out
}

// DropSlot removes every key of slot and returns how many it removed: the
// last step of handing the slot to another node. The removals are neither
// recorded as changes (TakeChanges) nor counted as evictions or
// expirations, and the changes already recorded for the slot are
// forgotten. WATCHes of the slot fail, as after any write. It holds the
// slot's shard write lock for a scan of the slot's group.
func (s *Store) DropSlot(slot int) int {
	if !validSlot(slot) {
		return 0
	}
	sh, i := s.slotGroup(slot)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := 0
	if s.slotKeys[slot] > 0 {
		for e := range sh.groups[i].all() {
			if int(e.slot) == slot {
				s.dropLocked(sh, i, e)
				n++
			}
		}
		sh.groups[i].shrink(s.seed)
	}
	s.versions[slot]++
	sh.pending.dropSlotLocked(uint16(slot))
	return n
}

// AppendSlot appends to dst the records of slot's keys that follow the key
// after, for streaming a slot to a peer in batches while writes go on (a
// slot hand-off). A nil after starts at the beginning; each later call
// passes the last key the previous one returned. It stops before a record
// would take what it appended past maxBytes (a record alone larger than
// maxBytes makes a batch of its own) and returns the result, the last key
// encoded (a copy the caller owns; after itself when nothing was), and
// whether the slot is done.
//
// Keys are visited in the order of a hash of the key seeded per store (so
// the cursor means nothing to another store or after a restart), which
// makes the walk behave like SCAN: no lock is held between calls, each key
// present from the first call to the last is sent exactly once, at its
// state when its batch is encoded (a key deleted or expired before its
// batch is not sent), and a key created during the walk is
// sent only if it falls ahead of the cursor. Writes made during the walk
// must therefore reach the peer by change tracking (TrackSlot); the peer
// applies both streams last-writer-wins (Apply), so whichever state
// arrives later and is newer wins. (As with SCAN, a walk finishes only if
// keys are not created ahead of the cursor faster than it advances: after
// a hand-off, writes to the slot go to its new owner.)
//
// Each call holds the shard's read lock while it scans the slot's group,
// sorts the slot's keys ahead of the cursor (O(n log n) for n of them) and
// encodes the batch.
func (s *Store) AppendSlot(dst []byte, slot int, after []byte, maxBytes int) (out, last []byte, done bool) {
	if !validSlot(slot) {
		return dst, after, true
	}
	var from uint64
	if after != nil {
		from = s.hash(string(after))
	}
	sh, i := s.slotGroup(slot)
	now := s.nowMs()
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	var ahead []slotCand
	for e := range sh.groups[i].all() {
		if int(e.slot) != slot || expired(e, now) {
			continue
		}
		c := slotCand{h: s.hash(e.key()), e: e}
		if after == nil || c.h > from || (c.h == from && e.key() > string(after)) {
			ahead = append(ahead, c)
		}
	}
	slices.SortFunc(ahead, func(a, b slotCand) int {
		if a.h != b.h {
			return cmp.Compare(a.h, b.h)
		}
		return strings.Compare(a.e.key(), b.e.key())
	})
	start := len(dst)
	var lastEntry *entry
	n := 0
	for ; n < len(ahead); n++ {
		mark := len(dst)
		dst = appendEntryRecord(dst, ahead[n].e)
		if n > 0 && len(dst)-start > maxBytes {
			dst = dst[:mark] // too large for this batch: first of the next
			break
		}
		lastEntry = ahead[n].e
		if len(dst)-start >= maxBytes {
			n++
			break
		}
	}
	if lastEntry == nil {
		return dst, after, true
	}
	return dst, append([]byte{}, lastEntry.key()...), n == len(ahead)
}

// slotCand is a key of AppendSlot's batch: its entry and hash.
type slotCand struct {
	h uint64
	e *entry
}
