package store

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// setOf builds a set by adding ms one by one.
func setOf(ms ...string) *Set {
	s := NewSet().(*Set)
	for _, m := range ms {
		s.Add([]byte(m))
	}
	return s
}

// members returns s's members, sorted.
func members(s *Set) []string {
	var out []string
	s.All(func(m string) bool {
		out = append(out, m)
		return true
	})
	slices.Sort(out)
	return out
}

// checkSet verifies s's index, slice and byte count agree.
func checkSet(t *testing.T, s *Set) {
	t.Helper()
	if s.index.live != len(s.members) {
		t.Fatalf("index has %d members, slice %d", s.index.live, len(s.members))
	}
	var bytes int64
	for i, m := range s.members {
		if p, ok := s.index.find(s.members, m); !ok || p != i {
			t.Fatalf("member %q at %d, index says %d, %v", m, i, p, ok)
		}
		bytes += memberBytes(m)
	}
	if bytes != s.bytes {
		t.Fatalf("bytes = %d, members account for %d", s.bytes, bytes)
	}
}

func ints(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func TestSetAddRemove(t *testing.T) {
	s := NewSet().(*Set)
	for _, tc := range []struct {
		op, m string
		want  bool
	}{
		{"add", "a", true}, {"add", "a", false}, {"add", "", true}, {"add", "\x00\xff", true},
		{"has", "a", true}, {"has", "b", false}, {"has", "\x00\xff", true},
		{"remove", "b", false}, {"remove", "a", true}, {"remove", "a", false}, {"has", "a", false},
	} {
		var got bool
		switch tc.op {
		case "add":
			got = s.Add([]byte(tc.m))
		case "has":
			got = s.Has([]byte(tc.m))
		case "remove":
			got = s.Remove([]byte(tc.m))
		}
		if got != tc.want {
			t.Fatalf("%s %q = %v, want %v", tc.op, tc.m, got, tc.want)
		}
		checkSet(t, s)
	}
	if got, want := members(s), []string{"", "\x00\xff"}; !slices.Equal(got, want) {
		t.Fatalf("members = %q, want %q", got, want)
	}
	b := []byte("mutable")
	s.Add(b)
	b[0] = 'X'
	if !s.Has([]byte("mutable")) {
		t.Fatal("Add kept the caller's slice")
	}
}

func TestSetEncoding(t *testing.T) {
	long := strings.Repeat("x", 65)
	for _, tc := range []struct {
		name string
		set  func() *Set
		want string
	}{
		{"empty", func() *Set { return setOf() }, "intset"},
		{"integers", func() *Set { return setOf("1", "-5", "9223372036854775807") }, "intset"},
		{"512 integers", func() *Set { return setOf(ints(1, 512)...) }, "intset"},
		{"513 integers", func() *Set { return setOf(ints(1, 513)...) }, "hashtable"},
		{"not canonical integers", func() *Set { return setOf("1", "01") }, "listpack"},
		{"plus sign", func() *Set { return setOf("+1") }, "listpack"},
		{"overflow", func() *Set { return setOf("9223372036854775808") }, "listpack"},
		{"a string", func() *Set { return setOf("1", "a") }, "listpack"},
		{"128 strings", func() *Set { return setOf(append(ints(1, 127), "a")...) }, "listpack"},
		{"129 strings", func() *Set { return setOf(append(ints(1, 128), "a")...) }, "hashtable"},
		{"string after 128 integers", func() *Set { return setOf(append(ints(1, 128), "a")...) }, "hashtable"},
		{"64-byte member", func() *Set { return setOf(strings.Repeat("x", 64)) }, "listpack"},
		{"65-byte member", func() *Set { return setOf(long) }, "hashtable"},
		{"long member later", func() *Set { return setOf("a", long) }, "hashtable"},
		{"never shrinks", func() *Set {
			s := setOf(ints(1, 600)...)
			for _, m := range ints(2, 600) {
				s.Remove([]byte(m))
			}
			return s
		}, "hashtable"},
		{"listpack never back to intset", func() *Set {
			s := setOf("1", "a")
			s.Remove([]byte("a"))
			return s
		}, "listpack"},
		{"hint: integers", func() *Set { return NewSetHint([]byte("1"), 512) }, "intset"},
		{"hint: many integers", func() *Set { return NewSetHint([]byte("1"), 513) }, "hashtable"},
		{"hint: string", func() *Set { return NewSetHint([]byte("a"), 128) }, "listpack"},
		{"hint: many strings", func() *Set { return NewSetHint([]byte("a"), 129) }, "hashtable"},
		{"grow intset", func() *Set { s := setOf("1"); s.Grow(513); return s }, "hashtable"},
		{"grow listpack", func() *Set { s := setOf("a"); s.Grow(129); return s }, "hashtable"},
		{"grow within limits", func() *Set { s := setOf("a"); s.Grow(128); return s }, "listpack"},
		{"clone keeps encoding", func() *Set { return setOf(ints(1, 600)...).Clone().(*Set) }, "hashtable"},
		{"result of integers", func() *Set { return NewSetOf([]string{"3", "1"}) }, "intset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.set()
			if got := s.Encoding(); got != tc.want {
				t.Fatalf("Encoding = %q, want %q", got, tc.want)
			}
			checkSet(t, s)
		})
	}
}

func TestSetIntsetOrder(t *testing.T) {
	s := setOf("10", "-3", "2", "100")
	var got []string
	s.All(func(m string) bool { got = append(got, m); return true })
	if want := []string{"-3", "2", "10", "100"}; !slices.Equal(got, want) {
		t.Fatalf("All = %q, want %q", got, want)
	}
	if got := SetUnion([]*Set{setOf("5", "1"), setOf("3")}); !slices.Equal(got, []string{"1", "3", "5"}) {
		t.Fatalf("SetUnion = %q", got)
	}
}

func TestSetPopRandom(t *testing.T) {
	all := ints(1, 50)
	s := setOf(all...)
	seen := map[string]bool{}
	for range 10 {
		m := s.Random()
		if !slices.Contains(all, m) {
			t.Fatalf("Random = %q, not a member", m)
		}
	}
	for s.Len() > 0 {
		m := s.Pop()
		if seen[m] || !slices.Contains(all, m) {
			t.Fatalf("Pop = %q: repeated or not a member", m)
		}
		seen[m] = true
		checkSet(t, s)
	}
	if len(seen) != len(all) {
		t.Fatalf("popped %d members, want %d", len(seen), len(all))
	}
	s = setOf("a", "b")
	if got := s.PopAll(); len(got) != 2 || s.Len() != 0 || s.Bytes() != 64 {
		t.Fatalf("PopAll = %q, left %d members, %d bytes", got, s.Len(), s.Bytes())
	}
	checkSet(t, s)
}

func TestSetRandomDistinct(t *testing.T) {
	s := setOf(ints(1, 100)...)
	for _, n := range []int{0, 1, 2, 50, 99, 100, 1000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			for range 20 {
				var got []string
				s.RandomDistinct(n, func(m string) bool { got = append(got, m); return true })
				if len(got) != min(n, 100) {
					t.Fatalf("got %d members, want %d", len(got), min(n, 100))
				}
				seen := map[string]bool{}
				for _, m := range got {
					if seen[m] || !s.Has([]byte(m)) {
						t.Fatalf("%q repeated or not a member", m)
					}
					seen[m] = true
				}
			}
		})
	}
	// Every member can be drawn.
	seen := map[string]bool{}
	for range 200 {
		s.RandomDistinct(3, func(m string) bool { seen[m] = true; return true })
	}
	if len(seen) < 90 {
		t.Fatalf("600 draws saw only %d of 100 members", len(seen))
	}
}

func TestSetAlgebra(t *testing.T) {
	a, b, c := setOf("a", "b", "c", "d"), setOf("c"), setOf("a", "c", "e")
	for _, tc := range []struct {
		name string
		got  []string
		want []string
	}{
		{"inter", SetInter([]*Set{a, b, c}, 0), []string{"c"}},
		{"inter two", SetInter([]*Set{a, c}, 0), []string{"a", "c"}},
		{"inter limit", SetInter([]*Set{a, a}, 3), nil}, // length checked below
		{"inter missing", SetInter([]*Set{a, nil}, 0), nil},
		{"inter one", SetInter([]*Set{a}, 0), []string{"a", "b", "c", "d"}},
		{"union", SetUnion([]*Set{a, b, c}), []string{"a", "b", "c", "d", "e"}},
		{"union missing", SetUnion([]*Set{nil, b}), []string{"c"}},
		{"union none", SetUnion([]*Set{nil}), nil},
		{"diff", SetDiff([]*Set{a, b, c}), []string{"b", "d"}},
		{"diff missing other", SetDiff([]*Set{a, nil}), []string{"a", "b", "c", "d"}},
		{"diff missing first", SetDiff([]*Set{nil, a}), nil},
		{"diff self", SetDiff([]*Set{a, a}), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := slices.Sorted(slices.Values(tc.got))
			if tc.name == "inter limit" {
				if len(got) != 3 {
					t.Fatalf("got %q, want 3 members", got)
				}
				return
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSetBytes(t *testing.T) {
	s := setOf()
	prev := s.Bytes()
	for i := range 20 {
		s.Add([]byte(strings.Repeat("m", i*10+1)))
		if s.Bytes() <= prev {
			t.Fatalf("Bytes did not grow: %d after %d", s.Bytes(), prev)
		}
		prev = s.Bytes()
	}
	c := s.Clone().(*Set)
	if c.Bytes() != s.Bytes() {
		t.Fatalf("clone Bytes = %d, want %d", c.Bytes(), s.Bytes())
	}
	checkSet(t, c)
	c.Add([]byte("only in the clone"))
	if s.Has([]byte("only in the clone")) {
		t.Fatal("clone shares members with the original")
	}
}

// TestSetInStore runs sets through the store: accounting, deletion when
// emptied, wrong types, and Multi's atomic moves.
func TestSetInStore(t *testing.T) {
	s, clk := newTestStore(t, nil)
	add := func(key string, ms ...string) {
		t.Helper()
		err := s.UpdateObject([]byte(key), KindSet, NewSet, func(c Collection) error {
			for _, m := range ms {
				c.(*Set).Add([]byte(m))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	add("s", "a", "b")
	before := s.UsedMemory()
	add("s", strings.Repeat("x", 1000))
	if s.UsedMemory() <= before {
		t.Fatalf("used memory %d did not grow from %d", s.UsedMemory(), before)
	}
	if k, ok := s.Type([]byte("s")); !ok || k != KindSet {
		t.Fatalf("Type = %v, %v", k, ok)
	}
	if o, ok := s.Inspect([]byte("s")); !ok || o.Encoding != "hashtable" {
		t.Fatalf("Inspect = %+v, %v", o, ok)
	}
	if !s.Expire([]byte("s"), clk.Ms()+1000, 0) {
		t.Fatal("Expire failed")
	}
	add("s", "c")
	if at, _, ok := s.Deadline([]byte("s")); !ok || at == 0 {
		t.Fatal("adding lost the deadline")
	}
	checkInvariants(t, s)

	// SMOVE-like: move "a" from s to t atomically.
	err := s.Multi([][]byte{[]byte("s"), []byte("t")}, func(tx *Tx) error {
		src, err := tx.Get([]byte("s"), KindSet)
		if err != nil {
			return err
		}
		src.(*Set).Remove([]byte("a"))
		tx.Put([]byte("s"), src)
		dst := NewSetOf([]string{"a"})
		tx.Put([]byte("t"), dst)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	if !s.Exists([]byte("t")) {
		t.Fatal("t not created")
	}

	// Emptying deletes the key and frees its memory.
	for _, k := range []string{"s", "t"} {
		err := s.UpdateObject([]byte(k), KindSet, nil, func(c Collection) error {
			for _, m := range members(c.(*Set)) {
				c.(*Set).Remove([]byte(m))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if s.Exists([]byte(k)) {
			t.Fatalf("empty set %q still exists", k)
		}
	}
	if s.UsedMemory() != 0 {
		t.Fatalf("used memory %d after deleting everything", s.UsedMemory())
	}
	checkInvariants(t, s)

	// Wrong types, through every path.
	s.Set([]byte("str"), []byte("v"), SetOptions{})
	if err := s.UpdateObject([]byte("str"), KindSet, NewSet, func(Collection) error { return nil }); !errors.Is(err, ErrWrongType) {
		t.Fatalf("UpdateObject on a string: %v", err)
	}
	if err := s.ViewObject([]byte("str"), KindSet, func(Collection) error { return nil }); !errors.Is(err, ErrWrongType) {
		t.Fatalf("ViewObject on a string: %v", err)
	}
	err = s.Multi([][]byte{[]byte("str")}, func(tx *Tx) error {
		_, err := tx.Get([]byte("str"), KindSet)
		return err
	})
	if !errors.Is(err, ErrWrongType) {
		t.Fatalf("Tx.Get on a string: %v", err)
	}
}

func BenchmarkSetMembers(b *testing.B) {
	for _, size := range []int{100, 10_000} {
		s := setOf(ints(1, size)...)
		b.Run(fmt.Sprintf("has/size=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			m := []byte("57")
			for b.Loop() {
				s.Has(m)
			}
		})
		b.Run(fmt.Sprintf("add-remove/size=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			m := []byte("member")
			for b.Loop() {
				s.Add(m)
				s.Remove(m)
			}
		})
	}
}
