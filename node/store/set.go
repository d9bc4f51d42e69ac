package store

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"unsafe"
)

// Set is a set value: distinct binary-safe members. Its methods run under
// the shard lock of its key (see Store.ViewObject, Store.UpdateObject and
// Store.Multi). Members are Go strings, so a member returned by a method
// stays valid after the lock is released; the set itself must not be.
//
// Members live in a slice, indexed by a memberIndex, so that a random member
// (SPOP, SRANDMEMBER) is O(1) and removal swaps the last member into the
// hole.
type Set struct {
	members []string
	index   memberIndex // member → position in members
	enc     setEncoding
	bytes   int64 // running sum of memberBytes over members
}

// setEncoding is the representation Redis 7.2 would use. It only ever
// moves towards setHashtable, as Redis never converts a set back.
type setEncoding uint8

const (
	setIntset    setEncoding = iota // all members integers, at most setMaxIntset
	setListpack                     // at most setMaxListpack members of at most setMaxListpackValue bytes
	setHashtable                    // anything else
)

// Redis 7.2's defaults for set-max-intset-entries, set-max-listpack-entries
// and set-max-listpack-value.
const (
	setMaxIntset        = 512
	setMaxListpack      = 128
	setMaxListpackValue = 64
)

// NewSet returns an empty set.
func NewSet() Collection { return &Set{} }

// NewSetHint returns an empty set about to receive n members, the first of
// which is first, with the encoding Redis's SADD would create it with.
func NewSetHint(first []byte, n int) *Set {
	s := &Set{}
	s.index.grow(nil, min(n, setMaxListpack))
	_, isInt := ParseInt(first)
	switch {
	case isInt && n <= setMaxIntset:
		s.enc = setIntset
	case n <= setMaxListpack:
		s.enc = setListpack
	default:
		s.enc = setHashtable
	}
	return s
}

// NewSetOf returns a set of members, encoded as Redis encodes the result of
// SINTERSTORE and friends: built up from an empty intset.
func NewSetOf(members []string) *Set {
	s := &Set{}
	s.index.grow(nil, len(members))
	for _, m := range members {
		s.addString(m)
	}
	return s
}

// Kind implements Collection.
func (s *Set) Kind() Kind { return KindSet }

// Encoding implements Collection: "intset", "listpack" or "hashtable".
func (s *Set) Encoding() string {
	switch s.enc {
	case setIntset:
		return "intset"
	case setListpack:
		return "listpack"
	}
	return "hashtable"
}

// Len implements Collection.
func (s *Set) Len() int { return len(s.members) }

// Bytes implements Collection: the set's header, its members and the
// index's slots.
func (s *Set) Bytes() int64 { return 64 + s.bytes + s.index.bytes() }

// Clone implements Collection.
func (s *Set) Clone() Collection {
	return &Set{members: slices.Clone(s.members), index: s.index.clone(), enc: s.enc, bytes: s.bytes}
}

// memberBytes is the heap member m takes: its slot in the member slice and
// the allocation of its bytes.
func memberBytes(m string) int64 { return int64(unsafe.Sizeof(m)) + int64(allocSize(len(m))) }

// Grow prepares s for up to n new members: like Redis's SADD, it converts a
// compact set to a hashtable up front when n alone exceeds its limit.
func (s *Set) Grow(n int) {
	if (s.enc == setIntset && n > setMaxIntset) || (s.enc == setListpack && n > setMaxListpack) {
		s.enc = setHashtable
	}
}

// Has reports whether m is a member.
func (s *Set) Has(m []byte) bool {
	_, ok := s.index.findBytes(s.members, m)
	return ok
}

// Add adds a copy of m and reports whether it is new.
func (s *Set) Add(m []byte) bool {
	if _, ok := s.index.findBytes(s.members, m); ok {
		return false
	}
	s.insert(string(m))
	return true
}

// addString adds m, which the caller no longer changes, and reports
// whether it is new.
func (s *Set) addString(m string) bool {
	if _, ok := s.index.find(s.members, m); ok {
		return false
	}
	s.insert(m)
	return true
}

// insert adds m, which is not a member.
func (s *Set) insert(m string) {
	n := len(s.members) // before the add
	switch s.enc {
	case setIntset:
		if _, isInt := ParseInt([]byte(m)); !isInt {
			// An integer has at most 20 digits, so only m can be too long.
			if n < setMaxListpack && len(m) <= setMaxListpackValue {
				s.enc = setListpack
			} else {
				s.enc = setHashtable
			}
		} else if n+1 > setMaxIntset {
			s.enc = setHashtable
		}
	case setListpack:
		if n >= setMaxListpack || len(m) > setMaxListpackValue {
			s.enc = setHashtable
		}
	}
	s.members = append(s.members, m)
	s.index.add(s.members, n)
	s.bytes += memberBytes(m)
}

// Remove removes m and reports whether it was a member.
func (s *Set) Remove(m []byte) bool {
	i, ok := s.index.findBytes(s.members, m)
	if ok {
		s.removeAt(i)
	}
	return ok
}

// removeAt removes the member at position i, moving the last one there.
func (s *Set) removeAt(i int) string {
	m := s.members[i]
	last := len(s.members) - 1
	s.index.remove(m, i) // before the move, which gives moved position i too
	if i != last {
		moved := s.members[last]
		s.members[i] = moved
		s.index.move(moved, last, i)
	}
	s.members[last] = ""
	s.members = s.members[:last]
	s.index.shrink(s.members)
	s.bytes -= memberBytes(m)
	if len(s.members) == 0 {
		s.members = nil // let a large backing array go
	}
	return m
}

// Pop removes and returns a random member; s must not be empty.
func (s *Set) Pop() string { return s.removeAt(rand.IntN(len(s.members))) }

// PopAll removes and returns every member, in All's order.
func (s *Set) PopAll() []string {
	var out []string
	s.All(func(m string) bool {
		out = append(out, m)
		return true
	})
	s.members, s.index, s.bytes = nil, memberIndex{}, 0
	return out
}

// Random returns a random member; s must not be empty.
func (s *Set) Random() string { return s.members[rand.IntN(len(s.members))] }

// RandomDistinct yields min(n, Len()) distinct members in random order
// (in no particular order when n >= Len()). It allocates O(n), not O(Len()).
func (s *Set) RandomDistinct(n int, yield func(string) bool) {
	size := len(s.members)
	if n >= size {
		s.All(yield)
		return
	}
	// A partial Fisher-Yates shuffle of the positions, with the swapped
	// ones kept aside instead of moving the members.
	swapped := make(map[int]int, n)
	at := func(i int) int {
		if j, ok := swapped[i]; ok {
			return j
		}
		return i
	}
	for i := range n {
		j := i + rand.IntN(size-i)
		pi, pj := at(i), at(j)
		swapped[j] = pi
		swapped[i] = pj
		if !yield(s.members[pj]) {
			return
		}
	}
}

// All yields every member: in ascending numeric order for an intset, as
// Redis replies, otherwise in no particular order.
func (s *Set) All(yield func(string) bool) {
	ms := s.members
	if s.enc == setIntset && len(ms) > 1 {
		ms = slices.Clone(ms)
		intsetOrder(ms)
	}
	for _, m := range ms {
		if !yield(m) {
			return
		}
	}
}

// intsetOrder sorts ms numerically when they would make an intset (all
// integers, at most setMaxIntset), so that replies built from them come in
// Redis's order, and leaves them alone otherwise.
func intsetOrder(ms []string) {
	if len(ms) < 2 || len(ms) > setMaxIntset {
		return
	}
	type pair struct {
		n int64
		m string
	}
	ps := make([]pair, len(ms))
	for i, m := range ms {
		n, ok := ParseInt([]byte(m))
		if !ok {
			return
		}
		ps[i] = pair{n, m}
	}
	slices.SortFunc(ps, func(a, b pair) int { return cmp.Compare(a.n, b.n) })
	for i, p := range ps {
		ms[i] = p.m
	}
}

// SetInter returns the members common to all sets; a nil set is empty.
// limit > 0 stops after limit members (SINTERCARD's LIMIT).
func SetInter(sets []*Set, limit int) []string {
	if len(sets) == 0 {
		return nil
	}
	for _, s := range sets {
		if s == nil || s.Len() == 0 {
			return nil
		}
	}
	// Walk the smallest set, probing the others smallest first.
	sorted := slices.Clone(sets)
	slices.SortFunc(sorted, func(a, b *Set) int { return a.Len() - b.Len() })
	var out []string
outer:
	for _, m := range sorted[0].members {
		for _, o := range sorted[1:] {
			if _, ok := o.index.find(o.members, m); !ok {
				continue outer
			}
		}
		out = append(out, m)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	intsetOrder(out)
	return out
}

// SetUnion returns the members of any of sets; a nil set is empty.
func SetUnion(sets []*Set) []string {
	var out []string
	seen := make(map[string]struct{})
	for _, s := range sets {
		if s == nil {
			continue
		}
		for _, m := range s.members {
			if _, ok := seen[m]; !ok {
				seen[m] = struct{}{}
				out = append(out, m)
			}
		}
	}
	intsetOrder(out)
	return out
}

// SetDiff returns the members of sets[0] in none of the others; a nil set
// is empty.
func SetDiff(sets []*Set) []string {
	if len(sets) == 0 || sets[0] == nil {
		return nil
	}
	var out []string
outer:
	for _, m := range sets[0].members {
		for _, o := range sets[1:] {
			if o == nil {
				continue
			}
			if _, ok := o.index.find(o.members, m); ok {
				continue outer
			}
		}
		out = append(out, m)
	}
	intsetOrder(out)
	return out
}
