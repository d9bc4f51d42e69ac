package store

import (
	"bytes"
	"fmt"
	"hash/maphash"

	"github.com/cached/cached/ring"
)

// Apply decodes the record at the start of rec (see DecodeRecord) and
// applies it last-writer-wins: it replaces the local state of the key only
// if the record's version is greater than the local entry's (an absent key
// counts as version 0; an expired entry not yet removed still counts with
// its version). It returns the bytes the record takes and whether the
// store changed.
//
//   - A value record replaces the older entry, or creates the key, keeping
//     the record's version and deadline: the entry is not restamped.
//   - A delete record removes only an older entry.
//   - A value record whose deadline is at or before now removes an older
//     entry and stores nothing.
//   - A flush record removes every entry of its slot older than it.
//
// Whatever it decides, the store's Clock observes the record's version
// (Clock.Update), so the next local write of the key wins over it. Like a
// local write, an applied record makes WATCHes of its slot fail, and the
// memory accounting follows it; but Apply never evicts (the caller reserves
// memory first, Store.Reserve). On a tracked slot an applied record is
// recorded as a change (TakeChanges), like a local write: a primary passes
// on to its replicas what was handed to it, and the persistence log keeps
// what a replica received.
//
// Nothing remembers deleted keys, so a delete record that finds no entry
// leaves no trace and an older value record applied after it is stored.
// Records of one key must therefore arrive in version order where deletes
// matter: each stream that carries records (replication, a slot hand-off)
// sends a key's states in the order they were read.
//
// A malformed record is an error wrapping ErrBadRecord, as are hash fields
// or set members that repeat; then nothing is applied and n is 0. Apply
// builds the new value before it takes the key's shard write lock, and
// holds it only to compare versions and swap entries.
func (s *Store) Apply(rec []byte) (n int, applied bool, err error) {
	r, n, err := DecodeRecord(rec)
	if err != nil {
		return 0, false, err
	}
	if applied, err = s.apply(&r); err != nil {
		return 0, false, err
	}
	return n, applied, nil
}

// ApplyAll applies the back-to-back records of recs in order (see Apply)
// and returns how many changed the store. It stops at the first malformed
// record, reporting its offset; the records before it stay applied.
func (s *Store) ApplyAll(recs []byte) (applied int, err error) {
	for off := 0; off < len(recs); {
		n, ok, err := s.Apply(recs[off:])
		if err != nil {
			return applied, fmt.Errorf("record at offset %d: %w", off, err)
		}
		if ok {
			applied++
		}
		off += n
	}
	return applied, nil
}

// apply applies the decoded record r.
func (s *Store) apply(r *Record) (bool, error) {
	s.hlc.Update(r.Version)
	if r.Flush {
		return s.applyFlush(r.Slot, r.Version), nil
	}
	now := s.nowMs()
	var ne *entry
	if !r.Deleted && (r.ExpireAt == 0 || r.ExpireAt > now) {
		var err error
		if ne, err = s.recordEntry(r, now); err != nil {
			return false, err
		}
	}
	sh, i := s.locate(r.Key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := s.get(sh, i, r.Key)
	var local uint64
	if old != nil {
		local = old.version
	}
	switch {
	case r.Version <= local:
		return false, nil
	case ne != nil:
		s.linkLocked(sh, i, ne, old)
		s.versions[ne.slot]++
	case old != nil:
		s.dropLocked(sh, i, old)
		sh.groups[i].shrink(s.seed)
	default:
		return false, nil
	}
	if slot := uint16(ring.Slot(r.Key)); s.changes.tracked(slot) {
		s.recordLocked(sh, string(r.Key), slot)
	}
	return true, nil
}

// applyFlush removes the entries of slot older than version, as a flush
// record asks, and reports whether it removed any.
func (s *Store) applyFlush(slot int, version uint64) bool {
	sh, i := s.slotGroup(slot)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	removed := false
	for e := range sh.groups[i].all() {
		if int(e.slot) == slot && e.version < version {
			s.dropLocked(sh, i, e)
			removed = true
		}
	}
	sh.groups[i].shrink(s.seed)
	s.versions[slot]++
	if removed && s.changes.tracked(uint16(slot)) {
		s.recordFlushLocked(sh, uint16(slot), version)
	}
	return removed
}

// recordEntry builds the entry a value record describes, with a fresh
// access record at now. Repeated hash fields or set members are
// ErrBadRecord.
func (s *Store) recordEntry(r *Record, now int64) (*entry, error) {
	var e *entry
	if r.Kind == KindString {
		e = s.newEntry(r.Key, r.Value, r.ExpireAt, now, 0)
	} else {
		var o Collection
		switch r.Kind {
		case KindHash:
			h := &Hash{
				index:   make(map[string]int, r.Len),
				entries: make([]hashEntry, 0, r.Len),
				seed:    maphash.MakeSeed(),
			}
			for f, v := range r.Fields() {
				if _, dup := h.index[string(f)]; dup {
					return nil, fmt.Errorf("%w: hash field %d repeats an earlier one", ErrBadRecord, len(h.entries))
				}
				h.setOwned(f, bytes.Clone(v))
			}
			o = h
		case KindList:
			l := NewList().(*List)
			for v := range r.Items() {
				l.push(ListRight, v)
			}
			l.grew()
			o = l
		case KindSet:
			set := &Set{}
			set.index.grow(nil, r.Len)
			for m := range r.Items() {
				if !set.addString(string(m)) {
					return nil, fmt.Errorf("%w: set member %d repeats an earlier one", ErrBadRecord, set.Len())
				}
			}
			o = set
		case KindZSet:
			z := NewZSet().(*ZSet)
			for m, score := range r.Members() {
				// DecodeRecord checked the (score, member) order, which
				// lets one member come twice with two scores.
				if _, dup := z.dict[string(m)]; dup {
					return nil, fmt.Errorf("%w: sorted set member %d repeats an earlier one", ErrBadRecord, len(z.dict))
				}
				z.insert(string(m), score)
			}
			o = z
		}
		e = s.newObjectEntry(string(r.Key), o, now)
		e.expireAt = r.ExpireAt
	}
	e.version = r.Version
	return e, nil
}
