package store

import (
	"math"
	"math/rand/v2"
)

// ZSet is a sorted set: members ordered by (score, member), with a
// member → score map for O(1) score lookups and a counted B+ tree (ztree)
// for O(log n) ranks and ranges. Its methods run under the shard lock of its key (see
// Store.ViewObject and Store.UpdateObject); member strings it yields are
// immutable and may be kept, but the set may change once the lock is
// released.
type ZSet struct {
	dict  map[string]float64
	tree  *ztree
	bytes int64
	// skiplist is set once the set outgrows Redis's listpack limits, after
	// which OBJECT ENCODING says "skiplist" as Redis does (whatever the
	// structure); like Redis, it never converts back.
	skiplist bool
}

// Redis's default zset-max-listpack-entries and zset-max-listpack-value.
const (
	zsetListpackEntries = 128
	zsetListpackValue   = 64
)

// zsetMemberOverhead estimates a member's map slot (string header, score,
// control byte, load slack) and its place in a tree leaf (string header and
// score, leaves partly full) beyond the allocation of its name: measured,
// 114 heap bytes a member for a million 14-byte members.
const zsetMemberOverhead = 98

// NewZSet returns an empty sorted set.
func NewZSet() Collection { return &ZSet{dict: make(map[string]float64), tree: newZTree()} }

// Kind implements Collection.
func (z *ZSet) Kind() Kind { return KindZSet }

// Encoding implements Collection: "listpack" while the set is within
// Redis's listpack limits, "skiplist" after.
func (z *ZSet) Encoding() string {
	if z.skiplist {
		return "skiplist"
	}
	return "listpack"
}

// Len implements Collection.
func (z *ZSet) Len() int { return len(z.dict) }

// Bytes implements Collection.
func (z *ZSet) Bytes() int64 { return 96 + z.bytes }

// Clone implements Collection.
func (z *ZSet) Clone() Collection {
	c := NewZSet().(*ZSet)
	for m, score := range z.All {
		c.insert(m, score)
	}
	c.skiplist = z.skiplist
	return c
}

func zsetMemberBytes(member string) int64 {
	return int64(zsetMemberOverhead + allocSize(len(member)))
}

// insert adds a member known to be absent.
func (z *ZSet) insert(member string, score float64) {
	z.tree.insert(zelem{score, member})
	z.dict[member] = score
	z.bytes += zsetMemberBytes(member)
	if len(z.dict) > zsetListpackEntries || len(member) > zsetListpackValue {
		z.skiplist = true
	}
}

// remove deletes member e.
func (z *ZSet) remove(e zelem) {
	z.tree.delete(e)
	delete(z.dict, e.member)
	z.bytes -= zsetMemberBytes(e.member)
}

// Score returns member's score.
func (z *ZSet) Score(member []byte) (float64, bool) {
	score, ok := z.dict[string(member)]
	return score, ok
}

// AddFlags are ZADD's options. GT and LT only restrict updates of existing
// members; with Incr the score is an increment.
type AddFlags struct {
	NX, XX, GT, LT, Incr bool
}

// AddResult reports what Add did.
type AddResult struct {
	Added   bool    // the member is new
	Updated bool    // an existing member's score changed
	NOP     bool    // nothing was done (NX, XX, GT or LT said no)
	Score   float64 // the member's score afterwards (when not NOP)
}

// Add sets member's score as ZADD does under flags. An increment giving NaN
// is ErrScoreNaN, and changes nothing. NaN scores must be refused by the
// caller.
func (z *ZSet) Add(member []byte, score float64, f AddFlags) (AddResult, error) {
	if score == 0 {
		score = 0 // -0 is stored as 0, as Redis's listpack encoding does
	}
	cur, ok := z.dict[string(member)]
	if !ok {
		if f.XX {
			return AddResult{NOP: true}, nil
		}
		z.insert(string(member), score)
		return AddResult{Added: true, Score: score}, nil
	}
	if f.NX {
		return AddResult{NOP: true}, nil
	}
	if f.Incr {
		score += cur
		if math.IsNaN(score) {
			return AddResult{}, ErrScoreNaN
		}
		if score == 0 {
			score = 0
		}
	}
	if (f.LT && score >= cur) || (f.GT && score <= cur) {
		return AddResult{NOP: true}, nil
	}
	if score == cur { // -0 == 0: no change, as in Redis
		return AddResult{Score: cur}, nil
	}
	m := z.tree.move(zelem{cur, string(member)}, score)
	z.dict[m] = score
	return AddResult{Updated: true, Score: score}, nil
}

// Rem deletes member and reports whether it existed.
func (z *ZSet) Rem(member []byte) bool {
	score, ok := z.dict[string(member)]
	if ok {
		z.remove(zelem{score, string(member)})
	}
	return ok
}

// Rank returns member's 0-based rank (from the highest score when rev) and
// score.
func (z *ZSet) Rank(member []byte, rev bool) (int, float64, bool) {
	score, ok := z.dict[string(member)]
	if !ok {
		return 0, 0, false
	}
	r := z.tree.rank(zelem{score, string(member)})
	if rev {
		r = len(z.dict) - 1 - r
	}
	return r, score, true
}

// ScoreRange is a score interval, each end inclusive unless marked
// exclusive.
type ScoreRange struct {
	Min, Max     float64
	MinEx, MaxEx bool
}

func (r ScoreRange) gteMin(s float64) bool {
	if r.MinEx {
		return s > r.Min
	}
	return s >= r.Min
}

func (r ScoreRange) lteMax(s float64) bool {
	if r.MaxEx {
		return s < r.Max
	}
	return s <= r.Max
}

// LexBound is one end of a lex range: a string, inclusive unless
// Exclusive, or the infinity Inf (-1 for "-", +1 for "+") when Inf != 0.
type LexBound struct {
	Value     string
	Exclusive bool
	Inf       int
}

// LexRange is a member interval for members of equal score.
type LexRange struct{ Min, Max LexBound }

func (r LexRange) gteMin(m string) bool {
	switch {
	case r.Min.Inf < 0:
		return true
	case r.Min.Inf > 0:
		return false
	case r.Min.Exclusive:
		return m > r.Min.Value
	}
	return m >= r.Min.Value
}

func (r LexRange) lteMax(m string) bool {
	switch {
	case r.Max.Inf > 0:
		return true
	case r.Max.Inf < 0:
		return false
	case r.Max.Exclusive:
		return m < r.Max.Value
	}
	return m <= r.Max.Value
}

// ScoreSpan returns the 0-based rank interval [lo, hi] of the members in r;
// hi < lo when there are none. It is O(log n).
func (z *ZSet) ScoreSpan(r ScoreRange) (lo, hi int) {
	lo = z.tree.countBelow(func(e zelem) bool { return !r.gteMin(e.score) })
	if lo == z.tree.length {
		return 0, -1
	}
	hi = z.tree.countBelow(func(e zelem) bool { return r.lteMax(e.score) }) - 1
	if hi < lo {
		return 0, -1
	}
	return lo, hi
}

// LexSpan returns the 0-based rank interval [lo, hi] of the members in r,
// assuming (as Redis does) that all scores are equal; hi < lo when there are
// none. It is O(log n).
func (z *ZSet) LexSpan(r LexRange) (lo, hi int) {
	lo = z.tree.countBelow(func(e zelem) bool { return !r.gteMin(e.member) })
	if lo == z.tree.length {
		return 0, -1
	}
	hi = z.tree.countBelow(func(e zelem) bool { return r.lteMax(e.member) }) - 1
	if hi < lo {
		return 0, -1
	}
	return lo, hi
}

// Range calls fn for the members of 0-based ranks lo..hi (clamped to the
// set), in order, or from hi down to lo when rev, until fn returns false.
// Finding the start is O(log n).
func (z *ZSet) Range(lo, hi int, rev bool, fn func(member string, score float64) bool) {
	lo, hi = max(lo, 0), min(hi, len(z.dict)-1)
	if lo > hi {
		return
	}
	if rev {
		for c, i := z.tree.cursor(hi), hi; c.valid() && i >= lo; c.prev() {
			if e := c.elem(); !fn(e.member, e.score) {
				return
			}
			i--
		}
		return
	}
	for c, i := z.tree.cursor(lo), lo; c.valid() && i <= hi; c.next() {
		if e := c.elem(); !fn(e.member, e.score) {
			return
		}
		i++
	}
}

// RemRange deletes the members of 0-based ranks lo..hi (clamped) and returns
// how many it deleted.
func (z *ZSet) RemRange(lo, hi int) int {
	lo, hi = max(lo, 0), min(hi, len(z.dict)-1)
	if lo > hi {
		return 0
	}
	for range hi - lo + 1 {
		n, i := z.tree.at(lo)
		z.remove(n.elems[i])
	}
	return hi - lo + 1
}

// Pop deletes and returns up to count members from the lowest scores, or
// the highest when max is set, in pop order.
func (z *ZSet) Pop(count int, max bool) []ScoredMember {
	count = min(count, len(z.dict))
	out := make([]ScoredMember, 0, count)
	for range count {
		e := z.tree.first()
		if max {
			e = z.tree.last()
		}
		out = append(out, ScoredMember{Member: e.member, Score: e.score})
		z.remove(e)
	}
	return out
}

// ScoredMember is a member and its score.
type ScoredMember struct {
	Member string
	Score  float64
}

// Random returns min(count, Len) distinct members chosen at random, in
// random order; count must not be negative. Each pick is O(log n).
func (z *ZSet) Random(count int) []ScoredMember {
	n := len(z.dict)
	if n == 0 || count <= 0 {
		return nil
	}
	at := func(r int) ScoredMember {
		n, i := z.tree.at(r)
		return ScoredMember{Member: n.elems[i].member, Score: n.elems[i].score}
	}
	if count >= n {
		out := make([]ScoredMember, 0, n)
		z.Range(0, n-1, false, func(m string, s float64) bool {
			out = append(out, ScoredMember{Member: m, Score: s})
			return true
		})
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out
	}
	// Floyd's sampling of count distinct ranks.
	chosen := make(map[int]struct{}, count)
	out := make([]ScoredMember, 0, count)
	for j := n - count; j < n; j++ {
		r := rand.IntN(j + 1)
		if _, dup := chosen[r]; dup {
			r = j
		}
		chosen[r] = struct{}{}
		out = append(out, at(r))
	}
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// RandomRepeat calls fn count times with a member chosen at random, so
// members may repeat. Each pick is O(log n) and nothing is allocated, however
// large count is.
func (z *ZSet) RandomRepeat(count int, fn func(member string, score float64)) {
	n := len(z.dict)
	if n == 0 {
		return
	}
	for range count {
		l, i := z.tree.at(rand.IntN(n))
		fn(l.elems[i].member, l.elems[i].score)
	}
}

// All yields every member and score in order.
func (z *ZSet) All(yield func(member string, score float64) bool) {
	for l := z.tree.head; l != nil; l = l.next {
		for _, e := range l.elems {
			if !yield(e.member, e.score) {
				return
			}
		}
	}
}
