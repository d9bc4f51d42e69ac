package store

import "math/rand/v2"

// The skip list orders a sorted set's members by (score, member), as Redis's
// zskiplist does: each link records its span (how many rank positions it
// skips), so rank lookups and rank → node are O(log n) like searches.

const (
	zslMaxLevel = 32
	// zslThreshold gives a node at level i a 1/4 chance of reaching level i+1,
	// out of 0x10000.
	zslThreshold = 0x4000
)

// zslNode is one member. Its level slice is the node's tower, bottom first.
type zslNode struct {
	member   string
	score    float64
	backward *zslNode
	level    []zslLevel
}

type zslLevel struct {
	forward *zslNode
	span    int // rank distance to forward (to the end of the list when forward is nil)
}

// skiplist is a sorted set's order. It is not safe for concurrent use; the
// shard lock of its key guards it.
type skiplist struct {
	head   *zslNode // sentinel with zslMaxLevel levels; holds no member
	tail   *zslNode
	length int
	level  int // levels in use, at least 1
}

func newSkiplist() *skiplist {
	return &skiplist{head: &zslNode{level: make([]zslLevel, zslMaxLevel)}, level: 1}
}

// zslLess reports whether (as, am) sorts before (bs, bm).
func zslLess(as float64, am string, bs float64, bm string) bool {
	return as < bs || (as == bs && am < bm)
}

func zslRandomLevel() int {
	l := 1
	for l < zslMaxLevel && rand.Uint32()&0xFFFF < zslThreshold {
		l++
	}
	return l
}

// newZslNode allocates a node with its tower in the same allocation for the
// usual heights (1 to 4 levels: 99.6% of nodes at p = 1/4), so a search
// touches one cache line less per node.
func newZslNode(member string, score float64, lvl int) *zslNode {
	var n *zslNode
	switch lvl {
	case 1:
		x := &struct {
			zslNode
			tower [1]zslLevel
		}{}
		n = &x.zslNode
		n.level = x.tower[:]
	case 2:
		x := &struct {
			zslNode
			tower [2]zslLevel
		}{}
		n = &x.zslNode
		n.level = x.tower[:]
	case 3, 4:
		x := &struct {
			zslNode
			tower [4]zslLevel
		}{}
		n = &x.zslNode
		n.level = x.tower[:lvl]
	default:
		n = &zslNode{level: make([]zslLevel, lvl)}
	}
	n.member, n.score = member, score
	return n
}

// insert adds member with score, which must not be in the list, and
// returns its node.
func (sl *skiplist) insert(score float64, member string) *zslNode {
	n := newZslNode(member, score, zslRandomLevel())
	sl.link(n)
	return n
}

// link splices n, whose tower is set up but unlinked, at the place of its
// score and member.
func (sl *skiplist) link(n *zslNode) {
	var update [zslMaxLevel]*zslNode
	var rank [zslMaxLevel]int
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		if i < sl.level-1 {
			rank[i] = rank[i+1]
		}
		for f := x.level[i].forward; f != nil && zslLess(f.score, f.member, n.score, n.member); f = x.level[i].forward {
			rank[i] += x.level[i].span
			x = f
		}
		update[i] = x
	}
	lvl := len(n.level)
	if lvl > sl.level {
		for i := sl.level; i < lvl; i++ {
			rank[i] = 0
			update[i] = sl.head
			update[i].level[i].span = sl.length
		}
		sl.level = lvl
	}
	for i := range lvl {
		n.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = n
		n.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := lvl; i < sl.level; i++ {
		update[i].level[i].span++
	}
	n.backward = nil
	if update[0] != sl.head {
		n.backward = update[0]
	}
	if n.level[0].forward != nil {
		n.level[0].forward.backward = n
	} else {
		sl.tail = n
	}
	sl.length++
}

// updateScore moves n to score, as Redis's zslUpdateScore: in place when
// its neighbours keep it in order, else unlinked and linked again with the
// same node (no allocation).
func (sl *skiplist) updateScore(n *zslNode, score float64) {
	if (n.backward == nil || n.backward.score < score) &&
		(n.level[0].forward == nil || n.level[0].forward.score > score) {
		n.score = score
		return
	}
	var update [zslMaxLevel]*zslNode
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && zslLess(f.score, f.member, n.score, n.member); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	sl.unlink(n, &update)
	n.score = score
	sl.link(n)
}

// delete removes the node of (score, member) and reports whether it was there.
func (sl *skiplist) delete(score float64, member string) bool {
	var update [zslMaxLevel]*zslNode
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && zslLess(f.score, f.member, score, member); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	x = x.level[0].forward
	if x == nil || x.score != score || x.member != member {
		return false
	}
	sl.unlink(x, &update)
	return true
}

// unlink removes x given its predecessors at every level.
func (sl *skiplist) unlink(x *zslNode, update *[zslMaxLevel]*zslNode) {
	for i := range sl.level {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
		} else {
			update[i].level[i].span--
		}
	}
	if f := x.level[0].forward; f != nil {
		f.backward = x.backward
	} else {
		sl.tail = x.backward
	}
	for sl.level > 1 && sl.head.level[sl.level-1].forward == nil {
		sl.level--
	}
	sl.length--
}

// rank returns the 1-based rank of (score, member), or 0 when absent.
func (sl *skiplist) rank(score float64, member string) int {
	r := 0
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && !zslLess(score, member, f.score, f.member); f = x.level[i].forward {
			r += x.level[i].span
			x = f
		}
		if x != sl.head && x.score == score && x.member == member {
			return r
		}
	}
	return 0
}

// byRank returns the node of 1-based rank r, or nil when out of range.
func (sl *skiplist) byRank(r int) *zslNode {
	if r < 1 || r > sl.length {
		return nil
	}
	traversed := 0
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= r {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		if traversed == r {
			return x
		}
	}
	return nil
}

// first returns the first node, or nil.
func (sl *skiplist) first() *zslNode { return sl.head.level[0].forward }

// firstWhere returns the first node for which below is false and its 1-based
// rank; below must hold on a prefix of the list. It returns nil, 0 when below
// holds everywhere.
func (sl *skiplist) firstWhere(below func(n *zslNode) bool) (*zslNode, int) {
	r := 0
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && below(f); f = x.level[i].forward {
			r += x.level[i].span
			x = f
		}
	}
	x = x.level[0].forward
	if x == nil {
		return nil, 0
	}
	return x, r + 1
}

// lastWhere returns the last node for which in holds and its 1-based rank;
// in must hold on a prefix of the list. It returns nil, 0 when in holds
// nowhere.
func (sl *skiplist) lastWhere(in func(n *zslNode) bool) (*zslNode, int) {
	r := 0
	x := sl.head
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && in(f); f = x.level[i].forward {
			r += x.level[i].span
			x = f
		}
	}
	if x == sl.head {
		return nil, 0
	}
	return x, r
}
