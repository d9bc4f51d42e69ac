package store

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// checkIndex verifies that s's index holds exactly s's members at their
// positions, that its counts match its tags, and that its load is in
// bounds.
func checkIndex(t *testing.T, s *Set) {
	t.Helper()
	x := &s.index
	if n := len(x.tags); n != len(x.pos) || n&(n-1) != 0 || (n != 0 && n < minMemberIndexCap) {
		t.Fatalf("%d tags, %d positions: want equal powers of two from %d", n, len(x.pos), minMemberIndexCap)
	}
	live, dead := 0, 0
	for _, tag := range x.tags {
		switch {
		case tag >= tagFull:
			live++
		case tag == tagDeleted:
			dead++
		}
	}
	if live != x.live || dead != x.dead || live != len(s.members) {
		t.Fatalf("tags count %d live, %d dead; index says %d, %d; %d members", live, dead, x.live, x.dead, len(s.members))
	}
	if 4*(live+dead) > 3*len(x.tags) {
		t.Fatalf("%d live and %d dead in %d slots: over 3/4", live, dead, len(x.tags))
	}
	if len(x.tags) > minMemberIndexCap && 8*live < len(x.tags) {
		t.Fatalf("%d live in %d slots: sparse", live, len(x.tags))
	}
	for i, m := range s.members {
		if p, ok := x.find(s.members, m); !ok || p != i {
			t.Fatalf("member %q at %d, index says %d, %v", m, i, p, ok)
		}
	}
}

// TestMemberIndexModel runs random adds, removes, pops and lookups on a set
// and on a map, through growth, tombstone churn and shrinking to empty.
func TestMemberIndexModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := NewSet().(*Set)
	model := map[string]bool{}
	member := func() string {
		switch n := rng.IntN(20000); {
		case n == 0:
			return ""
		case n < 100:
			return string([]byte{0, byte(n), 0xff, '\n'})
		default:
			return "m" + strconv.Itoa(n)
		}
	}
	step := func(addWeight int) {
		m := member()
		switch op := rng.IntN(10); {
		case op < addWeight:
			if got, want := s.Add([]byte(m)), !model[m]; got != want {
				t.Fatalf("Add(%q) = %v, want %v", m, got, want)
			}
			model[m] = true
		case op < 8:
			if got := s.Remove([]byte(m)); got != model[m] {
				t.Fatalf("Remove(%q) = %v, want %v", m, got, model[m])
			}
			delete(model, m)
		case op < 9 && s.Len() > 0:
			p := s.Pop()
			if !model[p] {
				t.Fatalf("Pop() = %q, not a member", p)
			}
			delete(model, p)
		default:
			if got := s.Has([]byte(m)); got != model[m] {
				t.Fatalf("Has(%q) = %v, want %v", m, got, model[m])
			}
		}
	}
	for _, phase := range []struct {
		name      string
		steps     int
		addWeight int // out of 10; removes take the rest to 8
	}{
		{"grow", 30000, 7},
		{"churn", 30000, 4},
		{"drain", 40000, 1},
	} {
		for i := range phase.steps {
			step(phase.addWeight)
			if i%997 == 0 {
				checkIndex(t, s)
			}
		}
		checkIndex(t, s)
		checkSet(t, s)
		if s.Len() != len(model) {
			t.Fatalf("%s: %d members, model %d", phase.name, s.Len(), len(model))
		}
		t.Logf("%s: %d members, %d slots", phase.name, s.Len(), len(s.index.tags))
	}
	for s.Len() > 0 {
		delete(model, s.Pop())
	}
	if len(model) != 0 || len(s.index.tags) != 0 {
		t.Fatalf("emptied: model keeps %d, index %d slots", len(model), len(s.index.tags))
	}
}

// TestMemberIndexTombstones fills a small index and removes and adds in a
// cycle, which leaves tombstones that must be dropped, not grown over.
func TestMemberIndexTombstones(t *testing.T) {
	s := NewSet().(*Set)
	for i := range 5 {
		s.Add([]byte(strconv.Itoa(i)))
	}
	for i := 5; i < 5000; i++ {
		s.Remove([]byte(strconv.Itoa(i - 5)))
		s.Add([]byte(strconv.Itoa(i)))
		checkIndex(t, s)
	}
	if len(s.index.tags) > 2*minMemberIndexCap {
		t.Fatalf("5 members in %d slots", len(s.index.tags))
	}
}

// TestMemberIndexEdgeMembers covers the empty member and binary members,
// among others differing only in their last byte.
func TestMemberIndexEdgeMembers(t *testing.T) {
	ms := []string{"", "\x00", "\x00\x00", "\xff", "a\x00b", "a\x00c", "a", "b"}
	for i := range 300 {
		ms = append(ms, "\x00\xfe"+string(rune(i)))
	}
	for _, tc := range []struct {
		name string
		set  func() *Set
	}{
		{"added", func() *Set { return setOf(ms...) }},
		{"built", func() *Set { return NewSetOf(ms) }},
		{"cloned", func() *Set { return setOf(ms...).Clone().(*Set) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.set()
			checkIndex(t, s)
			for _, m := range ms {
				if !s.Has([]byte(m)) {
					t.Fatalf("Has(%q) = false", m)
				}
			}
			if s.Has([]byte("\x00\x00\x00")) || !s.Has(nil) {
				t.Fatal("Has is wrong on a non-member or the empty member")
			}
			for _, m := range ms {
				if !s.Remove([]byte(m)) || s.Has([]byte(m)) {
					t.Fatalf("Remove(%q) left it", m)
				}
				checkIndex(t, s)
			}
		})
	}
}
