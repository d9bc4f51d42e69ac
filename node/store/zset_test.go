package store

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkSkiplist verifies the skip list's invariants: order, spans, backward
// links, tail, length, level, and that the dict and the list agree.
func checkSkiplist(t *testing.T, z *ZSet) {
	t.Helper()
	sl := z.zsl
	if sl.length != len(z.dict) {
		t.Fatalf("length %d, dict %d", sl.length, len(z.dict))
	}
	// Rank of every node along level 0.
	rank := map[*zslNode]int{sl.head: 0}
	var prev *zslNode
	i := 0
	for n := sl.first(); n != nil; n = n.level[0].forward {
		i++
		rank[n] = i
		if prev != nil && !zslLess(prev.score, prev.member, n.score, n.member) {
			t.Fatalf("out of order at %d: (%v %q) then (%v %q)", i, prev.score, prev.member, n.score, n.member)
		}
		if n.backward != prev {
			t.Fatalf("backward of %q wrong", n.member)
		}
		if z.dict[n.member] != n {
			t.Fatalf("dict does not point at node %q", n.member)
		}
		if got := sl.rank(n.score, n.member); got != i {
			t.Fatalf("rank(%q) = %d, want %d", n.member, got, i)
		}
		if got := sl.byRank(i); got != n {
			t.Fatalf("byRank(%d) wrong", i)
		}
		prev = n
	}
	if i != sl.length || sl.tail != prev {
		t.Fatalf("walked %d nodes of %d; tail ok %v", i, sl.length, sl.tail == prev)
	}
	if sl.level < 1 || (sl.level > 1 && sl.head.level[sl.level-1].forward == nil) {
		t.Fatalf("level %d not minimal", sl.level)
	}
	// Every link's span is the rank distance it covers.
	for lvl := range sl.level {
		for x := sl.head; x != nil; x = x.level[lvl].forward {
			f := x.level[lvl].forward
			want := sl.length - rank[x]
			if f != nil {
				want = rank[f] - rank[x]
			}
			if x.level[lvl].span != want && f != nil {
				t.Fatalf("level %d span after rank %d = %d, want %d", lvl, rank[x], x.level[lvl].span, want)
			}
		}
	}
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
			checkSkiplist(t, z)
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
					checkSkiplist(t, z)
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
			checkSkiplist(t, z)
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
			checkSkiplist(t, c)
			if got := rangeAll(c, 0, len(s), false); !slices.Equal(got, s) {
				t.Fatalf("clone differs")
			}
			z.RemRange(0, z.Len())
			if z.Len() != 0 || z.Bytes() != base {
				t.Fatalf("after removing all: Len %d, Bytes %d, want 0, %d", z.Len(), z.Bytes(), base)
			}
			checkSkiplist(t, z)
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
