package store

import (
	"hash/maphash"
	"iter"
)

// table is one key group's index: an open-addressing hash table with linear
// probing. A slot holds only an entry pointer (the key lives in the entry),
// and a parallel byte per slot holds 7 bits of the key's hash, so most
// probes never touch an entry and a key costs about 9 bytes of index at the
// table's load, against about 24 for a Go map[string]*entry slot.
//
// Deletion leaves a tombstone, so entries never move while a range over
// all() deletes the entries it yields. Inserts rehash when live entries
// and tombstones pass 3/4 of the slots or the table is sparse; shrink
// gives back the slots of a table that emptied. The zero table is empty and ready to use. The caller holds the
// shard's lock: readers may call get and all under its read lock.
type table struct {
	slots []*entry
	tags  []uint8 // tagEmpty, tagDeleted, or tagFull|7 hash bits
	live  int
	dead  int // tombstones
}

const (
	tagEmpty    = 0
	tagDeleted  = 1
	tagFull     = 0x80
	minTableCap = 8
)

// tagOf returns the tag of a full slot for hash h.
func tagOf(h uint64) uint8 { return tagFull | uint8(h>>57) }

// get returns the entry for key, whose hash is h, or nil.
func (t *table) get(key string, h uint64) *entry {
	if t.live == 0 {
		return nil
	}
	mask := uint64(len(t.slots) - 1)
	tag := tagOf(h)
	for i := h & mask; ; i = (i + 1) & mask {
		switch t.tags[i] {
		case tagEmpty:
			return nil
		case tag:
			if e := t.slots[i]; int(e.klen) == len(key) && e.key() == key {
				return e
			}
		}
	}
}

// freeSlot returns the first slot at or after hash h's home slot in tags,
// a power-of-two array of tags with a free slot, that is empty or a
// tombstone: where linear probing puts a new key of hash h.
func freeSlot(tags []uint8, h uint64) uint64 {
	mask := uint64(len(tags) - 1)
	i := h & mask
	for tags[i] >= tagFull {
		i = (i + 1) & mask
	}
	return i
}

// find returns the slot of e, which must be in the table under hash h.
func (t *table) find(e *entry, h uint64) uint64 {
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if t.slots[i] == e {
			return i
		}
	}
}

// insert adds e, whose key (hash h) is not in the table.
func (t *table) insert(seed maphash.Seed, e *entry, h uint64) {
	if 4*(t.live+t.dead+1) > 3*len(t.slots) || t.sparse() {
		t.rehash(seed)
	}
	i := freeSlot(t.tags, h)
	if t.tags[i] == tagDeleted {
		t.dead--
	}
	t.slots[i] = e
	t.tags[i] = tagOf(h)
	t.live++
}

// replace puts e in old's slot; both have the same key, of hash h.
func (t *table) replace(old, e *entry, h uint64) { t.slots[t.find(old, h)] = e }

// remove deletes e, which is in the table under hash h.
func (t *table) remove(e *entry, h uint64) {
	i := t.find(e, h)
	t.slots[i] = nil
	t.tags[i] = tagDeleted
	t.live--
	t.dead++
}

// sparse reports whether the table holds far more slots than it needs.
func (t *table) sparse() bool { return len(t.slots) > minTableCap && 8*t.live < len(t.slots) }

// shrink rebuilds a sparse table smaller. Not during a range over all().
func (t *table) shrink(seed maphash.Seed) {
	switch {
	case t.live == 0:
		*t = table{}
	case t.sparse():
		t.rehash(seed)
	}
}

// rehash rebuilds the table at about twice its live entries: it grows a
// full table and drops tombstones.
func (t *table) rehash(seed maphash.Seed) {
	n := minTableCap
	for 4*(t.live+1) > 3*n || n < 2*(t.live+1) {
		n *= 2
	}
	old, oldTags := t.slots, t.tags
	t.slots, t.tags = make([]*entry, n), make([]uint8, n)
	t.live, t.dead = 0, 0
	for j, e := range old {
		if oldTags[j] < tagFull {
			continue
		}
		h := maphash.String(seed, e.key())
		i := freeSlot(t.tags, h) // a new table has no tombstones
		t.slots[i], t.tags[i] = e, tagOf(h)
		t.live++
	}
}

// all yields every entry. The yielded entry may be removed during the range;
// nothing may be inserted.
func (t *table) all() iter.Seq[*entry] {
	return func(yield func(*entry) bool) {
		slots, tags := t.slots, t.tags
		for i, e := range slots {
			if tags[i] >= tagFull && !yield(e) {
				return
			}
		}
	}
}

// sample returns the first entry at or after slot start (wrapping) that
// want accepts (any entry when want is nil), or nil: a cheap random pick.
func (t *table) sample(start int, want func(*entry) bool) *entry {
	if t.live == 0 {
		return nil
	}
	n := len(t.slots)
	for j := range n {
		i := (start + j) & (n - 1)
		if t.tags[i] >= tagFull && (want == nil || want(t.slots[i])) {
			return t.slots[i]
		}
	}
	return nil
}

// bytes estimates the memory the table's slots hold.
func (t *table) bytes() int64 { return int64(len(t.slots) * 9) }
