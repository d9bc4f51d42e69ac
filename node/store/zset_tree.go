package store

import "slices"

// A sorted set's order is a counted B+ tree: members sit in leaves, in
// (score, member) order, up to zbMax per leaf; inner nodes hold up to zbMax
// children with, for each, a lower bound of its members and their count.
// Counts make ranks and rank → member O(log n), as Redis's skip list spans
// do, and a node's entries sit side by side in memory, so a search costs
// a few cache lines per level instead of one or more per skip-list hop.

const (
	// zbMax is the most members in a leaf and children in an inner node.
	zbMax = 64
	// zbMin is the fewest a node other than the root keeps after a delete:
	// below it, the node merges with a sibling or takes from it.
	zbMin = zbMax / 4
)

// zelem is one member and its score.
type zelem struct {
	score  float64
	member string
}

// zless reports whether a sorts before b.
func zless(a, b zelem) bool {
	return a.score < b.score || (a.score == b.score && a.member < b.member)
}

// zbNode is a leaf (kids == nil) or an inner node.
type zbNode struct {
	elems []zelem // leaf: its members, in order

	// Inner: kids[i] holds sizes[i] members, all at least mins[i] and all
	// less than every member of kids[i+1]. mins[i] is a lower bound, not
	// always a member: deletes leave it as it was.
	kids  []*zbNode
	mins  []zelem
	sizes []int

	prev, next *zbNode // leaf: neighbours in order
}

func (n *zbNode) leaf() bool { return n.kids == nil }

// fill is how many entries n holds: members of a leaf, children otherwise.
func (n *zbNode) fill() int {
	if n.leaf() {
		return len(n.elems)
	}
	return len(n.kids)
}

// count is how many members n's subtree holds.
func (n *zbNode) count() int {
	if n.leaf() {
		return len(n.elems)
	}
	c := 0
	for _, s := range n.sizes {
		c += s
	}
	return c
}

// min is a lower bound of n's members.
func (n *zbNode) min() zelem {
	if n.leaf() {
		return n.elems[0]
	}
	return n.mins[0]
}

// search returns the index of the first member of leaf n not less than e.
func (n *zbNode) search(e zelem) int {
	lo, hi := 0, len(n.elems)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if zless(n.elems[m], e) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// route returns the child of inner node n where e belongs: the last whose
// lower bound is not above e, or the first.
func (n *zbNode) route(e zelem) int {
	lo, hi := 1, len(n.mins)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if zless(e, n.mins[m]) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo - 1
}

// ztree is the order of a sorted set's members.
type ztree struct {
	root       *zbNode
	length     int
	head, tail *zbNode // first and last leaves
}

func newZTree() *ztree {
	l := &zbNode{}
	return &ztree{root: l, head: l, tail: l}
}

// insert adds e, which must not be in the tree.
func (t *ztree) insert(e zelem) {
	if right := t.insertAt(t.root, e); right != nil {
		left := t.root
		t.root = &zbNode{
			kids:  []*zbNode{left, right},
			mins:  []zelem{left.min(), right.min()},
			sizes: []int{left.count(), right.count()},
		}
	}
	t.length++
}

// insertAt adds e under n and returns n's new right sibling when n split.
func (t *ztree) insertAt(n *zbNode, e zelem) *zbNode {
	if n.leaf() {
		n.elems = slices.Insert(n.elems, n.search(e), e)
		if len(n.elems) <= zbMax {
			return nil
		}
		return t.splitLeaf(n)
	}
	i := n.route(e)
	if zless(e, n.mins[i]) {
		n.mins[i] = e // only below the first child's bound
	}
	n.sizes[i]++
	right := t.insertAt(n.kids[i], e)
	if right == nil {
		return nil
	}
	moved := right.count()
	n.sizes[i] -= moved
	n.kids = slices.Insert(n.kids, i+1, right)
	n.mins = slices.Insert(n.mins, i+1, right.min())
	n.sizes = slices.Insert(n.sizes, i+1, moved)
	if len(n.kids) <= zbMax {
		return nil
	}
	return splitInner(n)
}

// splitLeaf moves the upper half of leaf n to a new leaf after it.
func (t *ztree) splitLeaf(n *zbNode) *zbNode {
	h := len(n.elems) / 2
	r := &zbNode{elems: make([]zelem, len(n.elems)-h, zbMax+1)}
	copy(r.elems, n.elems[h:])
	clear(n.elems[h:])
	n.elems = n.elems[:h]
	r.prev, r.next = n, n.next
	if n.next != nil {
		n.next.prev = r
	} else {
		t.tail = r
	}
	n.next = r
	return r
}

// splitInner moves the upper half of inner node n to a new node.
func splitInner(n *zbNode) *zbNode {
	h := len(n.kids) / 2
	r := &zbNode{
		kids:  append(make([]*zbNode, 0, zbMax+1), n.kids[h:]...),
		mins:  append(make([]zelem, 0, zbMax+1), n.mins[h:]...),
		sizes: append(make([]int, 0, zbMax+1), n.sizes[h:]...),
	}
	clear(n.kids[h:])
	clear(n.mins[h:])
	n.kids, n.mins, n.sizes = n.kids[:h], n.mins[:h], n.sizes[:h]
	return r
}

// delete removes e and reports whether it was there.
func (t *ztree) delete(e zelem) bool {
	if !t.deleteAt(t.root, e) {
		return false
	}
	t.length--
	for !t.root.leaf() && len(t.root.kids) == 1 {
		t.root = t.root.kids[0]
	}
	return true
}

func (t *ztree) deleteAt(n *zbNode, e zelem) bool {
	if n.leaf() {
		i := n.search(e)
		if i == len(n.elems) || n.elems[i] != e {
			return false
		}
		n.elems = slices.Delete(n.elems, i, i+1)
		return true
	}
	i := n.route(e)
	if !t.deleteAt(n.kids[i], e) {
		return false
	}
	n.sizes[i]--
	t.rebalance(n, i)
	return true
}

// rebalance refills child i of n when a delete left it under zbMin: it
// merges with a neighbour when both fit in one node, else takes entries
// from it until the two hold about as many.
func (t *ztree) rebalance(n *zbNode, i int) {
	if n.kids[i].fill() >= zbMin || len(n.kids) < 2 {
		return
	}
	l, r := i, i+1 // i with the next child, or the last with its previous
	if r == len(n.kids) {
		l, r = i-1, i
	}
	a, b := n.kids[l], n.kids[r]
	if a.fill()+b.fill() <= zbMax {
		t.merge(a, b)
		n.sizes[l] += n.sizes[r]
		n.kids = slices.Delete(n.kids, r, r+1)
		n.mins = slices.Delete(n.mins, r, r+1)
		n.sizes = slices.Delete(n.sizes, r, r+1)
		return
	}
	moved := even(a, b)
	n.sizes[l] += moved
	n.sizes[r] -= moved
	n.mins[r] = b.min()
}

// merge appends b's entries to a; b is dropped.
func (t *ztree) merge(a, b *zbNode) {
	if a.leaf() {
		a.elems = append(a.elems, b.elems...)
		a.next = b.next
		if b.next != nil {
			b.next.prev = a
		} else {
			t.tail = a
		}
		return
	}
	a.kids = append(a.kids, b.kids...)
	a.mins = append(a.mins, b.mins...)
	a.sizes = append(a.sizes, b.sizes...)
}

// even moves entries between neighbours a and b (a first) until their
// fills differ by at most one, and returns how many members went from b
// to a (negative: from a to b).
func even(a, b *zbNode) int {
	total := a.fill() + b.fill()
	want := total / 2 // a's fill afterwards
	if a.leaf() {
		if len(a.elems) < want { // take from the front of b
			k := want - len(a.elems)
			a.elems = append(a.elems, b.elems[:k]...)
			b.elems = slices.Delete(b.elems, 0, k)
			return k
		}
		k := len(a.elems) - want // give a's tail to the front of b
		b.elems = slices.Insert(b.elems, 0, a.elems[want:]...)
		clear(a.elems[want:])
		a.elems = a.elems[:want]
		return -k
	}
	members := 0
	if len(a.kids) < want {
		k := want - len(a.kids)
		for _, s := range b.sizes[:k] {
			members += s
		}
		a.kids = append(a.kids, b.kids[:k]...)
		a.mins = append(a.mins, b.mins[:k]...)
		a.sizes = append(a.sizes, b.sizes[:k]...)
		b.kids = slices.Delete(b.kids, 0, k)
		b.mins = slices.Delete(b.mins, 0, k)
		b.sizes = slices.Delete(b.sizes, 0, k)
		return members
	}
	for _, s := range a.sizes[want:] {
		members += s
	}
	b.kids = slices.Insert(b.kids, 0, a.kids[want:]...)
	b.mins = slices.Insert(b.mins, 0, a.mins[want:]...)
	b.sizes = slices.Insert(b.sizes, 0, a.sizes[want:]...)
	clear(a.kids[want:])
	clear(a.mins[want:])
	a.kids, a.mins, a.sizes = a.kids[:want], a.mins[:want], a.sizes[:want]
	return -members
}

// move gives member e, which must be in the tree, the new score and
// returns the member string the tree holds. The score changes in place
// when the member keeps its place among its leaf's neighbours.
func (t *ztree) move(e zelem, score float64) string {
	n := t.root
	for !n.leaf() {
		n = n.kids[n.route(e)]
	}
	i := n.search(e)
	moved := zelem{score, n.elems[i].member}
	after := i+1 < len(n.elems) && zless(moved, n.elems[i+1]) || i+1 == len(n.elems) && n.next == nil
	if i > 0 && zless(n.elems[i-1], moved) && after {
		n.elems[i].score = score
		return moved.member
	}
	t.delete(e)
	t.insert(moved)
	return moved.member
}

// rank returns the 0-based rank of e, or -1 when it is not in the tree.
func (t *ztree) rank(e zelem) int {
	r := 0
	n := t.root
	for !n.leaf() {
		i := n.route(e)
		for _, s := range n.sizes[:i] {
			r += s
		}
		n = n.kids[i]
	}
	i := n.search(e)
	if i == len(n.elems) || n.elems[i] != e {
		return -1
	}
	return r + i
}

// at returns the leaf and index of the member of 0-based rank r, which must
// be in range.
func (t *ztree) at(r int) (*zbNode, int) {
	n := t.root
	for !n.leaf() {
		i := 0
		for r >= n.sizes[i] {
			r -= n.sizes[i]
			i++
		}
		n = n.kids[i]
	}
	return n, r
}

// countBelow returns how many members satisfy below, which must hold on a
// prefix of the order (and of the lower bounds, which are ordered alike).
func (t *ztree) countBelow(below func(zelem) bool) int {
	c := 0
	n := t.root
	for !n.leaf() {
		// The last child whose bound is below: every member before it is
		// below, and none after it.
		lo, hi := 1, len(n.mins)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if below(n.mins[m]) {
				lo = m + 1
			} else {
				hi = m
			}
		}
		for _, s := range n.sizes[:lo-1] {
			c += s
		}
		n = n.kids[lo-1]
	}
	lo, hi := 0, len(n.elems)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if below(n.elems[m]) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return c + lo
}

// zcursor is a position in the tree's order.
type zcursor struct {
	n *zbNode
	i int
}

func (c *zcursor) valid() bool { return c.n != nil }

func (c *zcursor) elem() zelem { return c.n.elems[c.i] }

func (c *zcursor) next() {
	if c.i++; c.i == len(c.n.elems) {
		c.n, c.i = c.n.next, 0
	}
}

func (c *zcursor) prev() {
	if c.i--; c.i < 0 {
		if c.n = c.n.prev; c.n != nil {
			c.i = len(c.n.elems) - 1
		}
	}
}

// cursor returns a cursor at 0-based rank r, invalid when out of range.
func (t *ztree) cursor(r int) zcursor {
	if r < 0 || r >= t.length {
		return zcursor{}
	}
	n, i := t.at(r)
	return zcursor{n, i}
}

// first and last return the lowest and highest members; the tree must not
// be empty.
func (t *ztree) first() zelem { return t.head.elems[0] }
func (t *ztree) last() zelem  { return t.tail.elems[len(t.tail.elems)-1] }
