package resp

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/cached/cached/node/glob"
	"github.com/cached/cached/node/store"
)

// The sorted-set commands. Replies are written under the key's shard lock,
// straight from the skip list, so ranges cost O(log n + m) and nothing is
// sorted per call. BZPOPMIN and BZPOPMAX are not here: blocking commands are
// built separately.

// zsetCommands returns the sortedset commands.
func zsetCommands() []*command {
	const g = "sortedset"
	w := flagWrite
	wd := flagWrite | flagDenyOOM
	r := flagReadonly
	k := func(name string, arity int, flags cmdFlag, since, summary string, h func(*Client, [][]byte)) *command {
		return &command{name: name, arity: arity, flags: flags, firstKey: 1, lastKey: 1, step: 1, group: g, since: since, summary: summary, handler: h}
	}
	return []*command{
		k("zadd", -4, wd|flagFast, "1.2.0", "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", cmdZAdd),
		k("zincrby", 4, wd|flagFast, "1.2.0", "Increments the score of a member in a sorted set.", cmdZIncrBy),
		k("zscore", 3, r|flagFast, "1.2.0", "Returns the score of a member in a sorted set.", cmdZScore),
		k("zmscore", -3, r|flagFast, "6.2.0", "Returns the score of one or more members in a sorted set.", cmdZMScore),
		k("zcard", 2, r|flagFast, "1.2.0", "Returns the number of members in a sorted set.", cmdZCard),
		k("zcount", 4, r|flagFast, "2.0.0", "Returns the count of members in a sorted set that have scores within a range.", cmdZCount),
		k("zlexcount", 4, r|flagFast, "2.8.9", "Returns the number of members in a sorted set within a lexicographical range.", cmdZLexCount),
		k("zrange", -4, r, "1.2.0", "Returns members in a sorted set within a range of indexes.", cmdZRange),
		k("zrangebyscore", -4, r, "1.0.5", "Returns members in a sorted set within a range of scores.", cmdZRangeByScore),
		k("zrevrangebyscore", -4, r, "2.2.0", "Returns members in a sorted set within a range of scores in reverse order.", cmdZRevRangeByScore),
		k("zrangebylex", -4, r, "2.8.9", "Returns members in a sorted set within a lexicographical range.", cmdZRangeByLex),
		k("zrevrangebylex", -4, r, "2.8.9", "Returns members in a sorted set within a lexicographical range in reverse order.", cmdZRevRangeByLex),
		k("zrevrange", -4, r, "1.2.0", "Returns members in a sorted set within a range of indexes in reverse order.", cmdZRevRange),
		k("zrank", -3, r|flagFast, "2.0.0", "Returns the index of a member in a sorted set ordered by ascending scores.", cmdZRank),
		k("zrevrank", -3, r|flagFast, "2.0.0", "Returns the index of a member in a sorted set ordered by descending scores.", cmdZRevRank),
		k("zrem", -3, w|flagFast, "1.2.0", "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", cmdZRem),
		k("zremrangebyrank", 4, w, "2.0.0", "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", cmdZRemRangeByRank),
		k("zremrangebyscore", 4, w, "1.2.0", "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", cmdZRemRangeByScore),
		k("zremrangebylex", 4, w, "2.8.9", "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", cmdZRemRangeByLex),
		k("zpopmin", -2, w|flagFast, "5.0.0", "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", cmdZPopMin),
		k("zpopmax", -2, w|flagFast, "5.0.0", "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", cmdZPopMax),
		k("zrandmember", -2, r, "6.2.0", "Returns one or more random members from a sorted set.", cmdZRandMember),
		k("zunionstore", -4, wd, "2.0.0", "Stores the union of multiple sorted sets in a key.", cmdZUnionStore),
		k("zinterstore", -4, wd, "2.0.0", "Stores the intersect of multiple sorted sets in a key.", cmdZInterStore),
		k("zscan", -3, r, "2.8.0", "Iterates over members and scores of a sorted set.", cmdZScan),
	}
}

// Sorted-set error replies, as Redis words them.
const (
	msgZAddXXNX       = "ERR XX and NX options at the same time are not compatible"
	msgZAddGTLTNX     = "ERR GT, LT, and/or NX options at the same time are not compatible"
	msgZAddIncrPairs  = "ERR INCR option supports a single increment-element pair"
	msgMinMaxFloat    = "ERR min or max is not a float"
	msgMinMaxLex      = "ERR min or max not valid string range item"
	msgPositive       = "ERR value is out of range, must be positive"
	msgWeightFloat    = "ERR weight value is not a float"
	msgLimitRank      = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	msgWithScoresLex  = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	msgValueOutOfRang = "ERR value is out of range"
)

// parseScore parses a score or weight as Redis's getDoubleFromObject: strtod
// over the whole argument, no leading space, no NaN, no overflow or
// underflow to zero.
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || isSpace(b[0]) {
		return 0, false
	}
	f, err := parseStrtod(string(b))
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// parseStrtod parses s as C's strtod over the whole string does, for the
// syntax Go's ParseFloat lacks (hex without a binary exponent) or has extra
// (underscores). Overflow and underflow to zero are errors.
func parseStrtod(s string) (float64, error) {
	if strings.IndexByte(s, '_') >= 0 {
		return 0, strconv.ErrSyntax
	}
	t := strings.TrimLeft(s, "+-")
	if len(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && !strings.ContainsAny(t, "pP") {
		s += "p0"
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return f, err
	}
	if f == 0 && hasNonZeroMantissa(s) {
		return 0, strconv.ErrRange // strtod's ERANGE for underflow
	}
	return f, nil
}

// hasNonZeroMantissa reports whether a decimal number's mantissa has a
// non-zero digit.
func hasNonZeroMantissa(s string) bool {
	hex := strings.Contains(s, "0x") || strings.Contains(s, "0X")
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case !hex && (c == 'e' || c == 'E'), hex && (c == 'p' || c == 'P'):
			return false
		case c >= '1' && c <= '9', hex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'):
			return true
		}
	}
	return false
}

// parseScoreBound parses a ZRANGEBYSCORE-style bound: "(" for exclusive,
// then strtod, as Redis's zslParseRange does (lenient: leading space and an
// empty number are 0, overflow is ±inf; NaN is refused).
func parseScoreBound(b []byte) (float64, bool, bool) {
	ex := len(b) > 0 && b[0] == '('
	if ex {
		b = b[1:]
	}
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	if s == "" {
		return 0, ex, len(b) == len(s) // strtod parses nothing: 0, unless only spaces
	}
	f, err := parseStrtod(s)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false, false
	}
	if math.IsNaN(f) {
		return 0, false, false
	}
	return f, ex, true
}

func parseScoreRange(minArg, maxArg []byte) (store.ScoreRange, bool) {
	lo, loEx, ok1 := parseScoreBound(minArg)
	hi, hiEx, ok2 := parseScoreBound(maxArg)
	return store.ScoreRange{Min: lo, Max: hi, MinEx: loEx, MaxEx: hiEx}, ok1 && ok2
}

func parseLexBound(b []byte) (store.LexBound, bool) {
	if len(b) == 0 {
		return store.LexBound{}, false
	}
	switch b[0] {
	case '+':
		return store.LexBound{Inf: 1, Exclusive: true}, len(b) == 1
	case '-':
		return store.LexBound{Inf: -1, Exclusive: true}, len(b) == 1
	case '(':
		return store.LexBound{Value: string(b[1:]), Exclusive: true}, true
	case '[':
		return store.LexBound{Value: string(b[1:])}, true
	}
	return store.LexBound{}, false
}

func parseLexRange(minArg, maxArg []byte) (store.LexRange, bool) {
	lo, ok1 := parseLexBound(minArg)
	hi, ok2 := parseLexBound(maxArg)
	return store.LexRange{Min: lo, Max: hi}, ok1 && ok2
}

// parseInt parses a signed 64-bit integer argument strictly.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || b[0] == '+' || (len(b) > 1 && b[0] == '0') || (len(b) > 1 && b[0] == '-' && b[1] == '0') {
		return 0, false // string2ll: no sign but '-', no leading zeros
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

// rankSpan turns Redis's start/stop indexes (negative from the end) into a
// 0-based interval of a set of n members; hi < lo when empty.
func rankSpan(start, stop int64, n int) (lo, hi int) {
	l := int64(n)
	if start < 0 {
		start += l
	}
	if stop < 0 {
		stop += l
	}
	start = max(start, 0)
	if start > stop || start >= l {
		return 0, -1
	}
	stop = min(stop, l-1)
	return int(start), int(stop)
}

// scored writes one member of a range reply: the member, then its score
// when withScores, as a [member, score] pair in RESP3.
func (c *Client) scored(member string, score float64, withScores bool) {
	if withScores && c.resp3() {
		c.array(2)
	}
	c.bulkString(member)
	if withScores {
		c.double(score)
	}
}

// scoredHeader starts an array of n members of a range reply.
func (c *Client) scoredHeader(n int, withScores bool) {
	if withScores && !c.resp3() {
		n *= 2
	}
	c.array(n)
}

func cmdZAdd(c *Client, args [][]byte) {
	var f store.AddFlags
	ch := false
	i := 2
	for ; i < len(args); i++ {
		switch a := args[i]; {
		case is(a, "nx"):
			f.NX = true
		case is(a, "xx"):
			f.XX = true
		case is(a, "gt"):
			f.GT = true
		case is(a, "lt"):
			f.LT = true
		case is(a, "ch"):
			ch = true
		case is(a, "incr"):
			f.Incr = true
		default:
			goto pairs
		}
	}
pairs:
	n := len(args) - i
	switch {
	case n == 0 || n%2 != 0:
		c.errorReply(msgSyntax)
		return
	case f.Incr && n > 2:
		c.errorReply(msgZAddIncrPairs)
		return
	case f.NX && f.XX:
		c.errorReply(msgZAddXXNX)
		return
	case (f.GT && f.NX) || (f.LT && f.NX) || (f.GT && f.LT):
		c.errorReply(msgZAddGTLTNX)
		return
	}
	scores := make([]float64, n/2)
	for j := range scores {
		s, ok := parseScore(args[i+2*j])
		if !ok {
			c.errorReply(msgNotFloat)
			return
		}
		scores[j] = s
	}
	zaddReply(c, args[1], args[i:], scores, f, ch)
}

// zaddReply runs ZADD (or ZINCRBY, with f.Incr) for the member of each
// score in pairs and replies.
func zaddReply(c *Client, key []byte, pairs [][]byte, scores []float64, f store.AddFlags, ch bool) {
	var added, updated, processed int
	var score float64
	mk := store.NewZSet
	if f.XX {
		mk = nil // XX never creates the key
	}
	err := c.srv.node.UpdateObject(key, store.KindZSet, mk, func(o store.Collection) error {
		if o == nil {
			return nil
		}
		z := o.(*store.ZSet)
		for j, s := range scores {
			res, err := z.Add(pairs[2*j+1], s, f)
			if err != nil {
				return err
			}
			if res.Added {
				added++
			}
			if res.Updated {
				updated++
			}
			if !res.NOP {
				processed++
				score = res.Score
			}
		}
		return nil
	})
	if err == nil {
		c.srv.signal(key) // the sorted set may serve a parked BZPOPMIN/BZPOPMAX
	}
	switch {
	case err != nil:
		c.replyErr(err)
	case f.Incr && processed > 0:
		c.double(score)
	case f.Incr:
		c.null()
	case ch:
		c.integer(int64(added + updated))
	default:
		c.integer(int64(added))
	}
}

func cmdZIncrBy(c *Client, args [][]byte) {
	incr, ok := parseScore(args[2])
	if !ok {
		c.errorReply(msgNotFloat)
		return
	}
	zaddReply(c, args[1], args[2:], []float64{incr}, store.AddFlags{Incr: true}, false)
}

// viewZSet calls fn with the sorted set at key, or nil, and replies with
// its error.
func viewZSet(c *Client, key []byte, fn func(z *store.ZSet)) bool {
	err := c.srv.node.ViewObject(key, store.KindZSet, func(o store.Collection) error {
		if o == nil {
			fn(nil)
		} else {
			fn(o.(*store.ZSet))
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return false
	}
	return true
}

func cmdZScore(c *Client, args [][]byte) {
	viewZSet(c, args[1], func(z *store.ZSet) {
		if z != nil {
			if s, ok := z.Score(args[2]); ok {
				c.double(s)
				return
			}
		}
		c.null()
	})
}

func cmdZMScore(c *Client, args [][]byte) {
	viewZSet(c, args[1], func(z *store.ZSet) {
		c.array(len(args) - 2)
		for _, m := range args[2:] {
			if z != nil {
				if s, ok := z.Score(m); ok {
					c.double(s)
					continue
				}
			}
			c.null()
		}
	})
}

func cmdZCard(c *Client, args [][]byte) {
	viewZSet(c, args[1], func(z *store.ZSet) {
		if z == nil {
			c.integer(0)
			return
		}
		c.integer(int64(z.Len()))
	})
}

func cmdZCount(c *Client, args [][]byte) {
	r, ok := parseScoreRange(args[2], args[3])
	if !ok {
		c.errorReply(msgMinMaxFloat)
		return
	}
	viewZSet(c, args[1], func(z *store.ZSet) {
		if z == nil {
			c.integer(0)
			return
		}
		lo, hi := z.ScoreSpan(r)
		c.integer(int64(max(hi-lo+1, 0)))
	})
}

func cmdZLexCount(c *Client, args [][]byte) {
	r, ok := parseLexRange(args[2], args[3])
	if !ok {
		c.errorReply(msgMinMaxLex)
		return
	}
	viewZSet(c, args[1], func(z *store.ZSet) {
		if z == nil {
			c.integer(0)
			return
		}
		lo, hi := z.LexSpan(r)
		c.integer(int64(max(hi-lo+1, 0)))
	})
}

// Range kinds and directions of zrangeGeneric; auto means "not fixed by the
// command name; options may choose".
const (
	rangeAuto = iota
	rangeRank
	rangeScore
	rangeLex
)

func cmdZRange(c *Client, args [][]byte) { zrangeGeneric(c, args, rangeAuto, false, true) }
func cmdZRevRange(c *Client, args [][]byte) {
	zrangeGeneric(c, args, rangeRank, true, false)
}
func cmdZRangeByScore(c *Client, args [][]byte) { zrangeGeneric(c, args, rangeScore, false, false) }
func cmdZRevRangeByScore(c *Client, args [][]byte) {
	zrangeGeneric(c, args, rangeScore, true, false)
}
func cmdZRangeByLex(c *Client, args [][]byte) { zrangeGeneric(c, args, rangeLex, false, false) }
func cmdZRevRangeByLex(c *Client, args [][]byte) {
	zrangeGeneric(c, args, rangeLex, true, false)
}

// zrangeGeneric serves ZRANGE and its legacy forms, as Redis's
// zrangeGenericCommand: options first, then the range, then the key. With
// free set (ZRANGE) REV, BYSCORE and BYLEX are options.
func zrangeGeneric(c *Client, args [][]byte, kind int, rev, free bool) {
	withScores := false
	offset, limit := int64(0), int64(-1)
	for j := 4; j < len(args); j++ {
		left := len(args) - j - 1
		switch a := args[j]; {
		case is(a, "withscores"):
			withScores = true
		case is(a, "limit") && left >= 2:
			var ok1, ok2 bool
			offset, ok1 = parseInt(args[j+1])
			limit, ok2 = parseInt(args[j+2])
			if !ok1 || !ok2 {
				c.errorReply(msgNotInteger)
				return
			}
			j += 2
		case free && !rev && is(a, "rev"):
			rev = true
		case free && kind == rangeAuto && is(a, "bylex"):
			kind = rangeLex
		case free && kind == rangeAuto && is(a, "byscore"):
			kind = rangeScore
		default:
			c.errorReply(msgSyntax)
			return
		}
	}
	if kind == rangeAuto {
		kind = rangeRank
	}
	if limit != -1 && kind == rangeRank {
		c.errorReply(msgLimitRank)
		return
	}
	if withScores && kind == rangeLex {
		c.errorReply(msgWithScoresLex)
		return
	}
	minArg, maxArg := args[2], args[3]
	if rev && kind != rangeRank {
		minArg, maxArg = maxArg, minArg
	}
	var (
		start, stop int64
		sr          store.ScoreRange
		lr          store.LexRange
		ok          bool
	)
	switch kind {
	case rangeRank:
		var ok2 bool
		start, ok = parseInt(minArg)
		stop, ok2 = parseInt(maxArg)
		if !ok || !ok2 {
			c.errorReply(msgNotInteger)
			return
		}
	case rangeScore:
		if sr, ok = parseScoreRange(minArg, maxArg); !ok {
			c.errorReply(msgMinMaxFloat)
			return
		}
	case rangeLex:
		if lr, ok = parseLexRange(minArg, maxArg); !ok {
			c.errorReply(msgMinMaxLex)
			return
		}
	}
	viewZSet(c, args[1], func(z *store.ZSet) {
		if z == nil {
			c.array(0)
			return
		}
		var lo, hi int
		switch kind {
		case rangeRank:
			lo, hi = rankSpan(start, stop, z.Len())
			if rev { // ranks counted from the end
				lo, hi = z.Len()-1-hi, z.Len()-1-lo
			}
		case rangeScore:
			lo, hi = z.ScoreSpan(sr)
			lo, hi = limitSpan(lo, hi, offset, limit, rev)
		case rangeLex:
			lo, hi = z.LexSpan(lr)
			lo, hi = limitSpan(lo, hi, offset, limit, rev)
		}
		c.scoredHeader(max(hi-lo+1, 0), withScores)
		z.Range(lo, hi, rev, func(m string, s float64) bool {
			c.scored(m, s, withScores)
			return true
		})
	})
}

// limitSpan applies LIMIT offset count to the rank interval lo..hi, walked
// from hi down when rev. A negative offset selects nothing, a negative count
// everything after the offset, as in Redis.
func limitSpan(lo, hi int, offset, count int64, rev bool) (int, int) {
	n := int64(hi - lo + 1)
	if n <= 0 || offset < 0 || offset >= n {
		return 0, -1
	}
	n -= offset
	if count >= 0 {
		n = min(n, count)
	}
	if n == 0 {
		return 0, -1
	}
	if rev {
		top := int64(hi) - offset
		return int(top - n + 1), int(top)
	}
	first := int64(lo) + offset
	return int(first), int(first + n - 1)
}

func cmdZRank(c *Client, args [][]byte)    { zrankGeneric(c, args, false) }
func cmdZRevRank(c *Client, args [][]byte) { zrankGeneric(c, args, true) }

// zrankGeneric serves ZRANK and ZREVRANK, with Redis 7.2's WITHSCORE.
func zrankGeneric(c *Client, args [][]byte, rev bool) {
	if len(args) > 4 {
		c.wrongArity(strings.ToLower(string(args[0])))
		return
	}
	withScore := false
	if len(args) == 4 {
		if !is(args[3], "withscore") {
			c.errorReply(msgSyntax)
			return
		}
		withScore = true
	}
	viewZSet(c, args[1], func(z *store.ZSet) {
		if z != nil {
			if r, s, ok := z.Rank(args[2], rev); ok {
				if withScore {
					c.array(2)
				}
				c.integer(int64(r))
				if withScore {
					c.double(s)
				}
				return
			}
		}
		if withScore {
			c.nullArray()
		} else {
			c.null()
		}
	})
}

func cmdZRem(c *Client, args [][]byte) {
	removed := 0
	err := c.srv.node.UpdateObject(args[1], store.KindZSet, nil, func(o store.Collection) error {
		if o == nil {
			return nil
		}
		z := o.(*store.ZSet)
		for _, m := range args[2:] {
			if z.Rem(m) {
				removed++
			}
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(int64(removed))
}

func cmdZRemRangeByRank(c *Client, args [][]byte) {
	start, ok1 := parseInt(args[2])
	stop, ok2 := parseInt(args[3])
	if !ok1 || !ok2 {
		c.errorReply(msgNotInteger)
		return
	}
	zremRange(c, args[1], func(z *store.ZSet) (int, int) { return rankSpan(start, stop, z.Len()) })
}

func cmdZRemRangeByScore(c *Client, args [][]byte) {
	r, ok := parseScoreRange(args[2], args[3])
	if !ok {
		c.errorReply(msgMinMaxFloat)
		return
	}
	zremRange(c, args[1], func(z *store.ZSet) (int, int) { return z.ScoreSpan(r) })
}

func cmdZRemRangeByLex(c *Client, args [][]byte) {
	r, ok := parseLexRange(args[2], args[3])
	if !ok {
		c.errorReply(msgMinMaxLex)
		return
	}
	zremRange(c, args[1], func(z *store.ZSet) (int, int) { return z.LexSpan(r) })
}

// zremRange deletes the rank interval span gives and replies with the count.
func zremRange(c *Client, key []byte, span func(z *store.ZSet) (int, int)) {
	removed := 0
	err := c.srv.node.UpdateObject(key, store.KindZSet, nil, func(o store.Collection) error {
		if o == nil {
			return nil
		}
		z := o.(*store.ZSet)
		lo, hi := span(z)
		removed = z.RemRange(lo, hi)
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(int64(removed))
}

func cmdZPopMin(c *Client, args [][]byte) { zpop(c, args, false) }
func cmdZPopMax(c *Client, args [][]byte) { zpop(c, args, true) }

// zpop serves ZPOPMIN and ZPOPMAX. Without a count the reply is a flat
// [member, score]; with one, RESP3 nests each pair.
func zpop(c *Client, args [][]byte, fromMax bool) {
	if len(args) > 3 {
		c.errorReply(msgSyntax)
		return
	}
	count, nested := int64(1), false
	if len(args) == 3 {
		n, ok := parseInt(args[2])
		if !ok {
			c.errorReply(msgNotInteger)
			return
		}
		if n < 0 {
			c.errorReply(msgPositive)
			return
		}
		count, nested = n, c.resp3()
	}
	var popped []store.ScoredMember
	err := c.srv.node.UpdateObject(args[1], store.KindZSet, nil, func(o store.Collection) error {
		if o != nil && count > 0 {
			popped = o.(*store.ZSet).Pop(int(min(count, math.MaxInt32)), fromMax)
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	if nested {
		c.array(len(popped))
	} else {
		c.array(2 * len(popped))
	}
	for _, p := range popped {
		if nested {
			c.array(2)
		}
		c.bulkString(p.Member)
		c.double(p.Score)
	}
}

func cmdZRandMember(c *Client, args [][]byte) {
	if len(args) == 2 {
		viewZSet(c, args[1], func(z *store.ZSet) {
			if z == nil {
				c.null()
				return
			}
			c.bulkString(z.Random(1)[0].Member)
		})
		return
	}
	n, ok := parseInt(args[2])
	if !ok {
		c.errorReply(msgNotInteger)
		return
	}
	if n == math.MinInt64 {
		c.errorReply("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	}
	withScores := false
	if len(args) > 4 || (len(args) == 4 && !is(args[3], "withscores")) {
		c.errorReply(msgSyntax)
		return
	}
	if len(args) == 4 {
		withScores = true
		if n < -math.MaxInt64/2 || n > math.MaxInt64/2 {
			c.errorReply(msgValueOutOfRang)
			return
		}
	}
	viewZSet(c, args[1], func(z *store.ZSet) {
		if z == nil || n == 0 {
			c.array(0)
			return
		}
		if n < 0 { // members may repeat: -n of them, streamed
			count := int(min(-n, math.MaxInt32))
			c.scoredHeader(count, withScores)
			z.RandomRepeat(count, func(m string, s float64) { c.scored(m, s, withScores) })
			return
		}
		picks := z.Random(int(min(n, math.MaxInt32)))
		c.scoredHeader(len(picks), withScores)
		for _, p := range picks {
			c.scored(p.Member, p.Score, withScores)
		}
	})
}

// zsetSource is one input of ZUNIONSTORE or ZINTERSTORE: a sorted set or a
// set (whose members score 1), or nil for a missing key.
type zsetSource struct {
	zset   *store.ZSet
	set    memberLister
	weight float64
}

// memberLister is what a set source must offer.
type memberLister interface {
	Len() int
	All(yield func(string) bool)
}

func (s *zsetSource) len() int {
	switch {
	case s.zset != nil:
		return s.zset.Len()
	case s.set != nil:
		return s.set.Len()
	}
	return 0
}

func (s *zsetSource) all(yield func(string, float64) bool) {
	switch {
	case s.zset != nil:
		s.zset.All(yield)
	case s.set != nil:
		s.set.All(func(m string) bool { return yield(m, 1) })
	}
}

func (s *zsetSource) score(m string) (float64, bool) {
	switch {
	case s.zset != nil:
		return s.zset.Score([]byte(m))
	case s.set != nil:
		if h, ok := s.set.(interface{ Has([]byte) bool }); ok && h.Has([]byte(m)) {
			return 1, true
		}
	}
	return 0, false
}

const (
	aggSum = iota
	aggMin
	aggMax
)

func aggregate(agg int, a, b float64) float64 {
	switch agg {
	case aggMin:
		return min(a, b)
	case aggMax:
		return max(a, b)
	}
	if s := a + b; !math.IsNaN(s) {
		return s
	}
	return 0 // inf + -inf, as Redis
}

func weighted(w, s float64) float64 {
	if v := w * s; !math.IsNaN(v) {
		return v
	}
	return 0 // 0 * inf, as Redis
}

func cmdZUnionStore(c *Client, args [][]byte) { zsetOpStore(c, args, false) }
func cmdZInterStore(c *Client, args [][]byte) { zsetOpStore(c, args, true) }

// zsetOpStore serves ZUNIONSTORE and ZINTERSTORE atomically: the
// destination and every source stay locked from the first read to the
// store. The destination may be a source; an empty result deletes it.
func zsetOpStore(c *Client, args [][]byte, inter bool) {
	name := "zunionstore"
	if inter {
		name = "zinterstore"
	}
	numKeys, ok := parseInt(args[2])
	if !ok {
		c.errorReply(msgNotInteger)
		return
	}
	if numKeys < 1 {
		c.errorReply("ERR at least 1 input key is needed for '" + name + "' command")
		return
	}
	if numKeys > int64(len(args)-3) {
		c.errorReply(msgSyntax)
		return
	}
	nk := int(numKeys)
	keys := args[3 : 3+nk]
	opts := args[3+nk:]
	locked := append([][]byte{args[1]}, keys...)
	var card int
	var reply string
	err := c.srv.node.Multi(locked, func(tx *store.Tx) error {
		srcs := make([]zsetSource, nk)
		for i, k := range keys {
			srcs[i].weight = 1
			kind, exists := tx.Exists(k)
			if !exists {
				continue
			}
			switch kind {
			case store.KindZSet:
				o, err := tx.Get(k, store.KindZSet)
				if err != nil {
					return err
				}
				srcs[i].zset = o.(*store.ZSet)
			case store.KindSet:
				o, err := tx.Get(k, store.KindSet)
				if err != nil {
					return err
				}
				ml, ok := o.(memberLister)
				if !ok {
					return store.ErrWrongType
				}
				srcs[i].set = ml
			default:
				return store.ErrWrongType
			}
		}
		agg := aggSum
		for j := 0; j < len(opts); {
			left := len(opts) - j
			switch {
			case left >= nk+1 && is(opts[j], "weights"):
				j++
				for i := range nk {
					w, ok := parseScore(opts[j])
					if !ok {
						reply = msgWeightFloat
						return nil
					}
					srcs[i].weight = w
					j++
				}
			case left >= 2 && is(opts[j], "aggregate"):
				switch a := opts[j+1]; {
				case is(a, "sum"):
					agg = aggSum
				case is(a, "min"):
					agg = aggMin
				case is(a, "max"):
					agg = aggMax
				default:
					reply = msgSyntax
					return nil
				}
				j += 2
			default:
				reply = msgSyntax
				return nil
			}
		}
		dst := store.NewZSet().(*store.ZSet)
		if inter {
			zinter(dst, srcs, agg)
		} else {
			zunion(dst, srcs, agg)
		}
		card = dst.Len()
		tx.Put(args[1], dst) // replaces any value and deadline; empty deletes
		return nil
	})
	switch {
	case err != nil:
		c.replyErr(err)
	case reply != "":
		c.errorReply(reply)
	default:
		c.integer(int64(card))
	}
}

func zunion(dst *store.ZSet, srcs []zsetSource, agg int) {
	acc := make(map[string]float64)
	var order []string
	for i := range srcs {
		src := &srcs[i]
		src.all(func(m string, s float64) bool {
			v := weighted(src.weight, s)
			if cur, ok := acc[m]; ok {
				acc[m] = aggregate(agg, cur, v)
			} else {
				acc[m] = v
				order = append(order, m)
			}
			return true
		})
	}
	for _, m := range order {
		dst.Add([]byte(m), acc[m], store.AddFlags{})
	}
}

func zinter(dst *store.ZSet, srcs []zsetSource, agg int) {
	smallest := 0
	for i := range srcs {
		if srcs[i].len() == 0 {
			return
		}
		if srcs[i].len() < srcs[smallest].len() {
			smallest = i
		}
	}
	first := &srcs[smallest]
	first.all(func(m string, s float64) bool {
		v := weighted(first.weight, s)
		for i := range srcs {
			if i == smallest {
				continue
			}
			os, ok := srcs[i].score(m)
			if !ok {
				return true
			}
			v = aggregate(agg, v, weighted(srcs[i].weight, os))
		}
		dst.Add([]byte(m), v, store.AddFlags{})
		return true
	})
}

// cmdZScan serves ZSCAN. It returns every matching member in one call with
// cursor 0, whatever COUNT says: Redis does the same for listpack-encoded
// sets, and a single pass under the lock gives SCAN's guarantees trivially.
// A very large set therefore makes one large reply.
func cmdZScan(c *Client, args [][]byte) {
	if _, err := strconv.ParseUint(string(args[2]), 10, 64); err != nil {
		c.errorReply(msgCursor)
		return
	}
	match := ""
	viewZSet(c, args[1], func(z *store.ZSet) {
		if z == nil {
			c.array(2)
			c.bulkString("0")
			c.array(0)
			return
		}
		for i := 3; i < len(args); i += 2 {
			if i+1 >= len(args) {
				c.errorReply(msgSyntax)
				return
			}
			switch {
			case is(args[i], "match"):
				match = string(args[i+1])
				if match == "*" {
					match = ""
				}
			case is(args[i], "count"):
				n, err := strconv.Atoi(string(args[i+1]))
				if err != nil {
					c.errorReply(msgNotInteger)
					return
				}
				if n < 1 {
					c.errorReply(msgSyntax)
					return
				}
			default:
				c.errorReply(msgSyntax)
				return
			}
		}
		n := z.Len()
		if match != "" {
			n = 0
			z.All(func(m string, _ float64) bool {
				if glob.Match(match, m) {
					n++
				}
				return true
			})
		}
		c.array(2)
		c.bulkString("0")
		c.array(2 * n)
		z.All(func(m string, s float64) bool {
			if match == "" || glob.Match(match, m) {
				c.bulkString(m)
				c.bulk(appendFloat(c.scratch[:0], s))
			}
			return true
		})
	})
}
