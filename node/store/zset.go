package store

import (
	"math"
	"math/rand/v2"
)

// ZSet is a sorted set: members ordered by (score, member), with a
// member → node map for O(1) score lookups and a skip list for O(log n)
// ranks and ranges. Its methods run under the shard lock of its key (see
// Store.ViewObject and Store.UpdateObject); member strings it yields are
// immutable and may be kept, but the set may change once the lock is
// released.
type ZSet struct {
	dict  map[string]*zslNode
	zsl   *skiplist
	bytes int64
	// skiplist is set once the set outgrows Redis's listpack limits; like
	// Redis, it never converts back.
	skiplist bool
}

// Redis's default zset-max-listpack-entries and zset-max-listpack-value.
const (
	zsetListpackEntries = 128
	zsetListpackValue   = 64
)

// zsetMemberOverhead estimates a member's map slot, node header and string
// header beyond the allocation sizes of its name and tower.
const zsetMemberOverhead = 96

// NewZSet returns an empty sorted set.
func NewZSet() Collection { return &ZSet{dict: make(map[string]*zslNode), zsl: newSkiplist()} }

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
func (z *ZSet) Bytes() int64 { return int64(96+allocSize(zslMaxLevel*16)) + z.bytes }

// Clone implements Collection.
func (z *ZSet) Clone() Collection {
	c := NewZSet().(*ZSet)
	for n := z.zsl.first(); n != nil; n = n.level[0].forward {
		c.insert(n.member, n.score)
	}
	c.skiplist = z.skiplist
	return c
}

func zsetNodeBytes(n *zslNode) int64 {
	return int64(zsetMemberOverhead + allocSize(len(n.member)) + allocSize(len(n.level)*16))
}

// insert adds a member known to be absent.
func (z *ZSet) insert(member string, score float64) {
	n := z.zsl.insert(score, member)
	z.dict[member] = n
	z.bytes += zsetNodeBytes(n)
	if len(z.dict) > zsetListpackEntries || len(member) > zsetListpackValue {
		z.skiplist = true
	}
}

// remove deletes the member of node n.
func (z *ZSet) remove(n *zslNode) {
	z.zsl.delete(n.score, n.member)
	delete(z.dict, n.member)
	z.bytes -= zsetNodeBytes(n)
}

// Score returns member's score.
func (z *ZSet) Score(member []byte) (float64, bool) {
	n, ok := z.dict[string(member)]
	if !ok {
		return 0, false
	}
	return n.score, true
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
	n, ok := z.dict[string(member)]
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
	cur := n.score
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
	z.zsl.updateScore(n, score)
	return AddResult{Updated: true, Score: score}, nil
}

// Rem deletes member and reports whether it existed.
func (z *ZSet) Rem(member []byte) bool {
	n, ok := z.dict[string(member)]
	if ok {
		z.remove(n)
	}
	return ok
}

// Rank returns member's 0-based rank (from the highest score when rev) and
// score.
func (z *ZSet) Rank(member []byte, rev bool) (int, float64, bool) {
	n, ok := z.dict[string(member)]
	if !ok {
		return 0, 0, false
	}
	r := z.zsl.rank(n.score, n.member) - 1
	if rev {
		r = len(z.dict) - 1 - r
	}
	return r, n.score, true
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
	first, fr := z.zsl.firstWhere(func(n *zslNode) bool { return !r.gteMin(n.score) })
	if first == nil || !r.lteMax(first.score) {
		return 0, -1
	}
	_, lr := z.zsl.lastWhere(func(n *zslNode) bool { return r.lteMax(n.score) })
	return fr - 1, lr - 1
}

// LexSpan returns the 0-based rank interval [lo, hi] of the members in r,
// assuming (as Redis does) that all scores are equal; hi < lo when there are
// none. It is O(log n).
func (z *ZSet) LexSpan(r LexRange) (lo, hi int) {
	first, fr := z.zsl.firstWhere(func(n *zslNode) bool { return !r.gteMin(n.member) })
	if first == nil || !r.lteMax(first.member) {
		return 0, -1
	}
	_, lr := z.zsl.lastWhere(func(n *zslNode) bool { return r.lteMax(n.member) })
	if lr < fr {
		return 0, -1
	}
	return fr - 1, lr - 1
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
		for n, i := z.zsl.byRank(hi+1), hi; n != nil && i >= lo; n, i = n.backward, i-1 {
			if !fn(n.member, n.score) {
				return
			}
		}
		return
	}
	for n, i := z.zsl.byRank(lo+1), lo; n != nil && i <= hi; n, i = n.level[0].forward, i+1 {
		if !fn(n.member, n.score) {
			return
		}
	}
}

// RemRange deletes the members of 0-based ranks lo..hi (clamped) and returns
// how many it deleted.
func (z *ZSet) RemRange(lo, hi int) int {
	lo, hi = max(lo, 0), min(hi, len(z.dict)-1)
	if lo > hi {
		return 0
	}
	n := z.zsl.byRank(lo + 1)
	removed := 0
	for ; n != nil && removed <= hi-lo; removed++ {
		next := n.level[0].forward
		z.remove(n)
		n = next
	}
	return removed
}

// Pop deletes and returns up to count members from the lowest scores, or
// the highest when max is set, in pop order.
func (z *ZSet) Pop(count int, max bool) []ScoredMember {
	count = min(count, len(z.dict))
	out := make([]ScoredMember, 0, count)
	for range count {
		n := z.zsl.first()
		if max {
			n = z.zsl.tail
		}
		out = append(out, ScoredMember{Member: n.member, Score: n.score})
		z.remove(n)
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
		x := z.zsl.byRank(r + 1)
		return ScoredMember{Member: x.member, Score: x.score}
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
		x := z.zsl.byRank(rand.IntN(n) + 1)
		fn(x.member, x.score)
	}
}

// All yields every member and score in order.
func (z *ZSet) All(yield func(member string, score float64) bool) {
	for n := z.zsl.first(); n != nil; n = n.level[0].forward {
		if !yield(n.member, n.score) {
			return
		}
	}
}
