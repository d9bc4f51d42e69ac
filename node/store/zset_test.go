package store

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkTree verifies the tree's invariants: members in order along the
// leaf chain, back links, head and tail, every leaf at one depth, fills
// within bounds, counts and lower bounds of inner nodes right, ranks, and
// that the dict and the tree agree.
func checkTree(t *testing.T, z *ZSet) {
	t.Helper()
	tr := z.tree
	if tr.length != len(z.dict) {
		t.Fatalf("length %d, dict %d", tr.length, len(z.dict))
	}
	depth := -1
	var walk func(n *zbNode, d int, root bool) (lo, hi zelem, count int)
	walk = func(n *zbNode, d int, root bool) (lo, hi zelem, count int) {
		if n.fill() > zbMax || (!root && n.fill() < zbMin) {
			t.Fatalf("node at depth %d holds %d entries", d, n.fill())
		}
		if n.leaf() {
			if depth < 0 {
				depth = d
			} else if d != depth {
				t.Fatalf("leaves at depths %d and %d", depth, d)
			}
			if len(n.elems) == 0 {
				if !root {
					t.Fatalf("empty leaf at depth %d", d)
				}
				return zelem{}, zelem{}, 0
			}
			return n.elems[0], n.elems[len(n.elems)-1], len(n.elems)
		}
		if len(n.kids) != len(n.mins) || len(n.kids) != len(n.sizes) || len(n.kids) < 2 && !root {
			t.Fatalf("inner node with %d kids, %d bounds, %d sizes", len(n.kids), len(n.mins), len(n.sizes))
		}
		var prevHi zelem
		for i, k := range n.kids {
			klo, khi, kc := walk(k, d+1, false)
			if kc != n.sizes[i] {
				t.Fatalf("depth %d kid %d: size %d, holds %d", d, i, n.sizes[i], kc)
			}
			if zless(klo, n.mins[i]) {
				t.Fatalf("depth %d kid %d: member %v below its bound %v", d, i, klo, n.mins[i])
			}
			if i > 0 && !zless(prevHi, n.mins[i]) {
				t.Fatalf("depth %d kid %d: bound %v not above the previous kid's %v", d, i, n.mins[i], prevHi)
			}
			if i == 0 {
				lo = klo
			}
			prevHi, hi = khi, khi
			count += kc
		}
		return lo, hi, count
	}
	if _, _, c := walk(tr.root, 0, true); c != tr.length {
		t.Fatalf("tree holds %d members, length %d", c, tr.length)
	}
	i := 0
	var prevLeaf *zbNode
	var prev zelem
	for l := tr.head; l != nil; l = l.next {
		if l.prev != prevLeaf {
			t.Fatalf("leaf %d: wrong back link", i)
		}
		for _, e := range l.elems {
			if i > 0 && !zless(prev, e) {
				t.Fatalf("out of order at %d: %v then %v", i, prev, e)
			}
			if score, ok := z.dict[e.member]; !ok || score != e.score {
				t.Fatalf("dict has %q at %v, %v; tree at %v", e.member, score, ok, e.score)
			}
			if r := tr.rank(e); r != i {
				t.Fatalf("rank(%v) = %d, want %d", e, r, i)
			}
			if n, j := tr.at(i); n.elems[j] != e {
				t.Fatalf("at(%d) = %v, want %v", i, n.elems[j], e)
			}
			prev = e
			i++
		}
		prevLeaf = l
	}
	if i != tr.length || tr.tail != prevLeaf {
		t.Fatalf("walked %d members of %d; tail ok %v", i, tr.length, tr.tail == prevLeaf)
	}
}

// TestZSetTreeDeep drives a tree three levels deep through growth, heavy
// deletes (merges and borrows at every level), score moves and regrowth,
// checked against a map after each phase.
func TestZSetTreeDeep(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	z := NewZSet().(*ZSet)
	want := map[string]float64{}
	member := func() string { return fmt.Sprintf("m%05d", rng.IntN(20000)) }
	check := func(phase string) {
		t.Helper()
		checkTree(t, z)
		if len(want) != z.Len() {
			t.Fatalf("%s: Len %d, want %d", phase, z.Len(), len(want))
		}
		for m, s := range want {
			if got, ok := z.Score([]byte(m)); !ok || got != s {
				t.Fatalf("%s: score of %s = %v %v, want %v", phase, m, got, ok, s)
			}
		}
	}
	for range 30000 {
		m, s := member(), float64(rng.IntN(1000))
		z.Add([]byte(m), s, AddFlags{})
		want[m] = s
	}
	check("grown")
	if h := treeHeight(z.tree.root); h < 3 {
		t.Fatalf("height %d: the test wants inner nodes under the root", h)
	}
	for range 40000 {
		m := member()
		if z.Rem([]byte(m)) != hasKey(want, m) {
			t.Fatalf("Rem(%s) disagrees", m)
		}
		delete(want, m)
	}
	check("shrunk")
	for m := range want {
		s := float64(rng.IntN(1000)) + 0.5
		z.Add([]byte(m), s, AddFlags{})
		want[m] = s
	}
	check("moved")
	z.RemRange(100, z.Len()-100)
	want = map[string]float64{}
	for m, s := range z.All {
		want[m] = s
	}
	check("range removed")
	for range 20000 {
		m, s := member(), float64(rng.IntN(1000))
		z.Add([]byte(m), s, AddFlags{})
		want[m] = s
	}
	check("regrown")
	// Runs of neighbours removed here and there, refilled at random:
	// underfull nodes next to full ones, so nodes take from siblings on
	// both sides, at the leaves and above.
	for round := range 400 {
		lo := rng.IntN(z.Len())
		z.RemRange(lo, lo+rng.IntN(3*zbMax))
		for range rng.IntN(3 * zbMax) {
			z.Add([]byte(member()), float64(rng.IntN(1000)), AddFlags{})
		}
		if round%50 == 0 {
			checkTree(t, z)
		}
	}
	want = map[string]float64{}
	for m, s := range z.All {
		want[m] = s
	}
	check("churned")
}

func hasKey(m map[string]float64, k string) bool {
	_, ok := m[k]
	return ok
}

func treeHeight(n *zbNode) int {
	if n.leaf() {
		return 1
	}
	return 1 + treeHeight(n.kids[0])
}

// model is the reference: members sorted by (score, member).
type model []ScoredMember

func (m model) sorted() model {
	out := slices.Clone(m)
	slices.SortFunc(out, func(a, b ScoredMember) int {
		if c := cmp.Compare(a.Score, b.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Member, b.Member)
	})
	return out
}

func (m model) find(member string) int {
	return slices.IndexFunc(m, func(e ScoredMember) bool { return e.Member == member })
}

func rangeAll(z *ZSet, lo, hi int, rev bool) model {
	var out model
	z.Range(lo, hi, rev, func(m string, s float64) bool {
		out = append(out, ScoredMember{m, s})
		return true
	})
	return out
}

func TestZSetAddFlags(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name  string
		start float64 // score of "a" before, NaN for absent
		score float64
		flags AddFlags
		want  AddResult
		after float64 // NaN: absent after
		err   error
	}{
		{"add new", math.NaN(), 1, AddFlags{}, AddResult{Added: true, Score: 1}, 1, nil},
		{"update", 1, 2, AddFlags{}, AddResult{Updated: true, Score: 2}, 2, nil},
		{"same score", 1, 1, AddFlags{}, AddResult{Score: 1}, 1, nil},
		{"nx existing", 1, 2, AddFlags{NX: true}, AddResult{NOP: true}, 1, nil},
		{"xx absent", math.NaN(), 2, AddFlags{XX: true}, AddResult{NOP: true}, math.NaN(), nil},
		{"gt lower", 5, 2, AddFlags{GT: true}, AddResult{NOP: true}, 5, nil},
		{"gt higher", 5, 7, AddFlags{GT: true}, AddResult{Updated: true, Score: 7}, 7, nil},
		{"gt new", math.NaN(), 7, AddFlags{GT: true}, AddResult{Added: true, Score: 7}, 7, nil},
		{"lt higher", 5, 7, AddFlags{LT: true}, AddResult{NOP: true}, 5, nil},
		{"lt equal", 5, 5, AddFlags{LT: true}, AddResult{NOP: true}, 5, nil},
		{"incr", 5, 2, AddFlags{Incr: true}, AddResult{Updated: true, Score: 7}, 7, nil},
		{"incr new", math.NaN(), 2, AddFlags{Incr: true}, AddResult{Added: true, Score: 2}, 2, nil},
		{"incr gt fails", 5, -1, AddFlags{Incr: true, GT: true}, AddResult{NOP: true}, 5, nil},
		{"incr nan", inf, -inf, AddFlags{Incr: true}, AddResult{}, inf, ErrScoreNaN},
		{"negative zero", math.NaN(), math.Copysign(0, -1), AddFlags{}, AddResult{Added: true, Score: 0}, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z := NewZSet().(*ZSet)
			z.Add([]byte("b"), 3, AddFlags{})
			if !math.IsNaN(tc.start) {
				z.Add([]byte("a"), tc.start, AddFlags{})
			}
			got, err := z.Add([]byte("a"), tc.score, tc.flags)
			if err != tc.err || got != tc.want || math.Signbit(got.Score) {
				t.Fatalf("Add = %+v, %v; want %+v, %v", got, err, tc.want, tc.err)
			}
			s, ok := z.Score([]byte("a"))
			if math.IsNaN(tc.after) {
				if ok {
					t.Fatalf("a present with %v", s)
				}
			} else if !ok || s != tc.after {
				t.Fatalf("score %v %v; want %v", s, ok, tc.after)
			}
			checkTree(t, z)
		})
	}
}

func TestZSetRanges(t *testing.T) {
	z := NewZSet().(*ZSet)
	for i, m := range []string{"a", "b", "c", "d", "e"} {
		z.Add([]byte(m), float64(i+1), AddFlags{})
	}
	z.Add([]byte("f"), math.Inf(1), AddFlags{})
	z.Add([]byte("z"), math.Inf(-1), AddFlags{})
	scoreTests := []struct {
		name   string
		r      ScoreRange
		lo, hi int
	}{
		{"all", ScoreRange{Min: math.Inf(-1), Max: math.Inf(1)}, 0, 6},
		{"inclusive", ScoreRange{Min: 2, Max: 4}, 2, 4},
		{"exclusive", ScoreRange{Min: 2, Max: 4, MinEx: true, MaxEx: true}, 3, 3},
		{"empty exclusive point", ScoreRange{Min: 3, Max: 3, MinEx: true}, 0, -1},
		{"point", ScoreRange{Min: 3, Max: 3}, 3, 3},
		{"inverted", ScoreRange{Min: 4, Max: 2}, 0, -1},
		{"above", ScoreRange{Min: 10, Max: 20}, 0, -1},
		{"only +inf", ScoreRange{Min: math.Inf(1), Max: math.Inf(1)}, 6, 6},
		{"exclusive -inf", ScoreRange{Min: math.Inf(-1), Max: 1, MinEx: true}, 1, 1},
	}
	for _, tc := range scoreTests {
		t.Run("score "+tc.name, func(t *testing.T) {
			lo, hi := z.ScoreSpan(tc.r)
			if hi < lo {
				lo, hi = 0, -1
			}
			if lo != tc.lo || hi != tc.hi {
				t.Fatalf("ScoreSpan = %d..%d, want %d..%d", lo, hi, tc.lo, tc.hi)
			}
		})
	}
	lz := NewZSet().(*ZSet)
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		lz.Add([]byte(m), 0, AddFlags{})
	}
	in := func(v string) LexBound { return LexBound{Value: v} }
	ex := func(v string) LexBound { return LexBound{Value: v, Exclusive: true} }
	minus, plus := LexBound{Inf: -1, Exclusive: true}, LexBound{Inf: 1, Exclusive: true}
	lexTests := []struct {
		name   string
		r      LexRange
		lo, hi int
	}{
		{"all", LexRange{minus, plus}, 0, 4},
		{"inclusive", LexRange{in("b"), in("d")}, 1, 3},
		{"exclusive", LexRange{ex("b"), ex("d")}, 2, 2},
		{"between members", LexRange{in("bb"), in("dd")}, 2, 3},
		{"plus as min", LexRange{plus, minus}, 0, -1},
		{"inverted", LexRange{in("d"), in("b")}, 0, -1},
		{"empty point", LexRange{ex("c"), in("c")}, 0, -1},
	}
	for _, tc := range lexTests {
		t.Run("lex "+tc.name, func(t *testing.T) {
			lo, hi := lz.LexSpan(tc.r)
			if hi < lo {
				lo, hi = 0, -1
			}
			if lo != tc.lo || hi != tc.hi {
				t.Fatalf("LexSpan = %d..%d, want %d..%d", lo, hi, tc.lo, tc.hi)
			}
		})
	}
}

// TestZSetRandomOps runs random operations on a ZSet and on a sorted-slice
// model and compares them after each.
func TestZSetRandomOps(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, seed))
			z := NewZSet().(*ZSet)
			base := z.Bytes()
			var m model
			for step := range 3000 {
				member := fmt.Sprintf("m%03d", rng.IntN(300))
				score := float64(rng.IntN(50)) / 2
				switch op := rng.IntN(10); {
				case op < 5:
					res, _ := z.Add([]byte(member), score, AddFlags{})
					if i := m.find(member); i >= 0 {
						if res.Added || res.Updated != (m[i].Score != score) {
							t.Fatalf("step %d: Add existing %+v", step, res)
						}
						m[i].Score = score
					} else {
						if !res.Added {
							t.Fatalf("step %d: Add new %+v", step, res)
						}
						m = append(m, ScoredMember{member, score})
					}
				case op < 7:
					i := m.find(member)
					if z.Rem([]byte(member)) != (i >= 0) {
						t.Fatalf("step %d: Rem(%s) disagrees", step, member)
					}
					if i >= 0 {
						m = slices.Delete(m, i, i+1)
					}
				case op < 8:
					lo, hi := rng.IntN(20), rng.IntN(20)
					removed := z.RemRange(lo, hi)
					s := m.sorted()
					want := 0
					if lo <= hi && lo < len(s) {
						hi = min(hi, len(s)-1)
						want = hi - lo + 1
						s = slices.Delete(s, lo, hi+1)
					}
					if removed != want {
						t.Fatalf("step %d: RemRange removed %d, want %d", step, removed, want)
					}
					m = s
				case op < 9:
					n := rng.IntN(3)
					popped := z.Pop(n, rng.IntN(2) == 0)
					for _, p := range popped {
						i := m.find(p.Member)
						if i < 0 || m[i].Score != p.Score {
							t.Fatalf("step %d: popped %v not in model", step, p)
						}
						m = slices.Delete(m, i, i+1)
					}
				default:
					r := ScoreRange{Min: score, Max: score + float64(rng.IntN(10)), MinEx: rng.IntN(2) == 0, MaxEx: rng.IntN(2) == 0}
					lo, hi := z.ScoreSpan(r)
					var want model
					for _, e := range m.sorted() {
						if r.gteMin(e.Score) && r.lteMax(e.Score) {
							want = append(want, e)
						}
					}
					if got := rangeAll(z, lo, hi, false); !slices.Equal(got, want) {
						t.Fatalf("step %d: score range %+v = %v, want %v", step, r, got, want)
					}
				}
				if step%100 == 0 {
					checkTree(t, z)
				}
				s := m.sorted()
				if z.Len() != len(s) {
					t.Fatalf("step %d: Len %d, want %d", step, z.Len(), len(s))
				}
				if len(s) > 0 {
					k := rng.IntN(len(s))
					r, sc, ok := z.Rank([]byte(s[k].Member), false)
					rr, _, _ := z.Rank([]byte(s[k].Member), true)
					if !ok || r != k || sc != s[k].Score || rr != len(s)-1-k {
						t.Fatalf("step %d: Rank(%s) = %d %d %v, want %d", step, s[k].Member, r, rr, sc, k)
					}
				}
			}
			checkTree(t, z)
			s := m.sorted()
			if got := rangeAll(z, 0, len(s), false); !slices.Equal(got, s) {
				t.Fatalf("final range differs")
			}
			rev := slices.Clone(s)
			slices.Reverse(rev)
			if got := rangeAll(z, 0, len(s), true); !slices.Equal(got, rev) {
				t.Fatalf("final reverse range differs")
			}
			c := z.Clone().(*ZSet)
			checkTree(t, c)
			if got := rangeAll(c, 0, len(s), false); !slices.Equal(got, s) {
				t.Fatalf("clone differs")
			}
			z.RemRange(0, z.Len())
			if z.Len() != 0 || z.Bytes() != base {
				t.Fatalf("after removing all: Len %d, Bytes %d, want 0, %d", z.Len(), z.Bytes(), base)
			}
			checkTree(t, z)
		})
	}
}

func TestZSetRandom(t *testing.T) {
	z := NewZSet().(*ZSet)
	for i := range 10 {
		z.Add(fmt.Appendf(nil, "m%d", i), float64(i), AddFlags{})
	}
	for _, n := range []int{0, 1, 5, 10, 20} {
		got := z.Random(n)
		if len(got) != min(n, 10) {
			t.Fatalf("Random(%d) gave %d", n, len(got))
		}
		seen := map[string]bool{}
		for _, p := range got {
			if seen[p.Member] {
				t.Fatalf("Random(%d) repeated %s", n, p.Member)
			}
			seen[p.Member] = true
			if s, _ := z.Score([]byte(p.Member)); s != p.Score {
				t.Fatalf("Random gave score %v for %s", p.Score, p.Member)
			}
		}
	}
	calls := 0
	z.RandomRepeat(25, func(string, float64) { calls++ })
	if calls != 25 {
		t.Fatalf("RandomRepeat(25) called %d times", calls)
	}
}

func TestZSetEncoding(t *testing.T) {
	z := NewZSet().(*ZSet)
	for i := range zsetListpackEntries {
		z.Add(fmt.Appendf(nil, "m%d", i), float64(i), AddFlags{})
	}
	if got := z.Encoding(); got != "listpack" {
		t.Fatalf("128 members: %s", got)
	}
	z.Add([]byte("one more"), 0, AddFlags{})
	if got := z.Encoding(); got != "skiplist" {
		t.Fatalf("129 members: %s", got)
	}
	z.Rem([]byte("one more"))
	if got := z.Encoding(); got != "skiplist" {
		t.Fatalf("converted back: %s", got)
	}
	long := NewZSet().(*ZSet)
	long.Add(make([]byte, zsetListpackValue+1), 1, AddFlags{})
	if got := long.Encoding(); got != "skiplist" {
		t.Fatalf("long member: %s", got)
	}
}

func BenchmarkZSetAdd(b *testing.B) {
	for _, size := range []int{128, 100_000} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			z := NewZSet().(*ZSet)
			members := make([][]byte, size)
			for i := range members {
				members[i] = fmt.Appendf(nil, "member:%d", i)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				z.Add(members[i%size], float64(i), AddFlags{})
				i++
			}
		})
	}
}

func BenchmarkZSetRank(b *testing.B) {
	z := NewZSet().(*ZSet)
	const size = 100_000
	for i := range size {
		z.Add(fmt.Appendf(nil, "member:%d", i), float64(i), AddFlags{})
	}
	key := []byte("member:5000")
	b.ReportAllocs()
	for b.Loop() {
		z.Rank(key, false)
	}
}

// TestZSetTreeEven moves entries between inner neighbours both ways, as a
// delete does when one of them runs low, and checks counts and order.
func TestZSetTreeEven(t *testing.T) {
	// leaves returns n inner-node entries: single-member leaves from k on.
	leaves := func(k, n int) *zbNode {
		in := &zbNode{}
		for i := range n {
			e := zelem{float64(k + i), ""}
			in.kids = append(in.kids, &zbNode{elems: []zelem{e}})
			in.mins = append(in.mins, e)
			in.sizes = append(in.sizes, 1)
		}
		return in
	}
	for _, c := range []struct{ a, b, moved int }{{60, 5, -28}, {5, 60, 27}} {
		a, b := leaves(0, c.a), leaves(c.a, c.b)
		if moved := even(a, b); moved != c.moved {
			t.Fatalf("%d|%d: moved %d, want %d", c.a, c.b, moved, c.moved)
		}
		if len(a.kids) != (c.a+c.b)/2 || len(a.kids)+len(b.kids) != c.a+c.b {
			t.Fatalf("%d|%d: fills %d|%d", c.a, c.b, len(a.kids), len(b.kids))
		}
		all := append(slices.Clone(a.mins), b.mins...)
		for i, e := range all {
			if e.score != float64(i) || len(a.sizes)+len(b.sizes) != len(all) {
				t.Fatalf("%d|%d: order lost at %d: %v", c.a, c.b, i, e)
			}
		}
	}
}
