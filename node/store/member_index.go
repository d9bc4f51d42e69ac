package store

import (
	"hash/maphash"
	"slices"
	"unsafe"
)

// memberIndex maps a set's members to their positions in its dense member
// slice: an open-addressing hash table with linear probing that holds only
// positions, the members staying in the slice the caller passes in. Each
// slot is a byte of tag (tagEmpty, tagDeleted, or tagFull|7 hash bits, as in
// table) in one array and a uint32 position in another, 5 bytes a slot
// against the 25 of a map[string]int slot. A lookup reads the dense tags,
// then for a tag match the position, the member's string header and its
// bytes; most probes past the first never leave the tags.
//
// Inserts rehash when live slots and tombstones pass 3/4 of the slots;
// removals rebuild a table that falls below 1/8 full, and free an empty
// one. Every rehash draws a fresh seed. The zero memberIndex is empty and
// ready to use. Positions are uint32: a set holds fewer than 2^32 members.
type memberIndex struct {
	tags []uint8
	pos  []uint32
	live int
	dead int // tombstones
	seed maphash.Seed
}

// minMemberIndexCap is the capacity of the smallest non-empty index.
const minMemberIndexCap = 8

// memberIndexSlotBytes is a slot's size: its tag and its position.
const memberIndexSlotBytes = 1 + 4

// find returns the position of m in members, if it is a member.
func (x *memberIndex) find(members []string, m string) (int, bool) {
	if x.live == 0 {
		return 0, false
	}
	h := maphash.String(x.seed, m)
	mask := uint64(len(x.tags) - 1)
	tag := tagOf(h)
	for i := h & mask; ; i = (i + 1) & mask {
		switch x.tags[i] {
		case tagEmpty:
			return 0, false
		case tag:
			if p := x.pos[i]; members[p] == m {
				return int(p), true
			}
		}
	}
}

// findBytes is find for a member given as bytes, which it does not keep.
func (x *memberIndex) findBytes(members []string, m []byte) (int, bool) {
	return x.find(members, unsafe.String(unsafe.SliceData(m), len(m)))
}

// slot returns the slot holding position p, the position of member m.
func (x *memberIndex) slot(m string, p int) uint64 {
	h := maphash.String(x.seed, m)
	mask := uint64(len(x.tags) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if x.tags[i] >= tagFull && x.pos[i] == uint32(p) {
			return i
		}
	}
}

// add indexes members[p], which the index does not hold yet; every other
// position it holds must be a valid index of members.
func (x *memberIndex) add(members []string, p int) {
	if 4*(x.live+x.dead+1) > 3*len(x.tags) {
		x.rehash(members, x.live+1)
	}
	x.put(maphash.String(x.seed, members[p]), p)
}

// put stores position p under hash h in a free slot.
func (x *memberIndex) put(h uint64, p int) {
	i := freeSlot(x.tags, h)
	if x.tags[i] == tagDeleted {
		x.dead--
	}
	x.tags[i], x.pos[i] = tagOf(h), uint32(p)
	x.live++
}

// move records that member m moved from position from to position to.
func (x *memberIndex) move(m string, from, to int) { x.pos[x.slot(m, from)] = uint32(to) }

// remove drops member m, at position p. The caller then calls shrink.
func (x *memberIndex) remove(m string, p int) {
	i := x.slot(m, p)
	// A slot before an empty one ends no probe sequence: it can be empty
	// too, rather than a tombstone.
	if x.tags[(i+1)&uint64(len(x.tags)-1)] == tagEmpty {
		x.tags[i] = tagEmpty
	} else {
		x.tags[i] = tagDeleted
		x.dead++
	}
	x.live--
}

// shrink frees an empty index and rebuilds a sparse one smaller; every
// position it holds must be a valid index of members.
func (x *memberIndex) shrink(members []string) {
	switch {
	case x.live == 0:
		*x = memberIndex{}
	case len(x.tags) > minMemberIndexCap && 8*x.live < len(x.tags):
		x.rehash(members, x.live)
	}
}

// grow makes room for n more members, so that adding them does not rehash.
func (x *memberIndex) grow(members []string, n int) {
	if n > 0 && 4*(x.live+x.dead+n) > 3*len(x.tags) {
		x.rehash(members, x.live+n)
	}
}

// clone returns a copy of the index, for a copy of its members in the same
// order.
func (x *memberIndex) clone() memberIndex {
	c := *x
	c.tags, c.pos = slices.Clone(x.tags), slices.Clone(x.pos)
	return c
}

// rehash rebuilds the index with a fresh seed and room for n members at
// most half full (the live ones included), dropping tombstones.
func (x *memberIndex) rehash(members []string, n int) {
	size := minMemberIndexCap
	for size < 2*n {
		size *= 2
	}
	oldTags, oldPos := x.tags, x.pos
	x.tags, x.pos = make([]uint8, size), make([]uint32, size)
	x.live, x.dead = 0, 0
	x.seed = maphash.MakeSeed()
	for j, t := range oldTags {
		if t >= tagFull {
			p := int(oldPos[j])
			x.put(maphash.String(x.seed, members[p]), p)
		}
	}
}

// bytes returns the heap the index holds.
func (x *memberIndex) bytes() int64 { return int64(len(x.tags) * memberIndexSlotBytes) }
