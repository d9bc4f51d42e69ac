package store

import (
	"bytes"
	"iter"
	"slices"
	"unsafe"
)

// ListEnd names an end of a list: ListLeft is the head (index 0), ListRight
// the tail.
type ListEnd uint8

// The ends of a list.
const (
	ListLeft ListEnd = iota
	ListRight
)

// List is a list value: a deque of byte strings packed into nodes of up to
// 8 KiB, as Redis's quicklist of listpacks. The nodes sit in a ring buffer,
// so that pushes and pops at either end are O(1) amortised; random access
// walks the nodes from the nearer end. Element bytes and offsets live in
// pointer-free buffers, which the garbage collector does not scan.
//
// Its methods run under the shard lock of its key (see Store.ViewObject,
// Store.UpdateObject and Store.Multi). Elements it returns are views into
// its nodes, valid until the list next changes or the lock is released;
// except those Pop returns, which the caller owns.
type List struct {
	nodes []*listNode // ring buffer; len(nodes) is 0 or a power of two
	head  int         // index in nodes of node 0
	count int         // number of nodes
	n     int         // number of elements
	bytes int64       // allocation sizes of the nodes and their buffers
	lp    int64       // estimated size of the list as one Redis listpack
	quick bool        // reported as "quicklist" rather than "listpack"
}

// listNode packs a run of elements into one buffer, with free space at both
// ends so that a node at either end of the list grows in place. Element k
// is buf[off[olo+k]:end], end being the next offset or hi. Offsets are
// absolute indexes into buf; they fit a uint32 as an element is at most
// 512 MiB and a node holds more than one only up to listNodeBytes.
type listNode struct {
	buf      []byte   // the elements are buf[lo:hi]
	off      []uint32 // their start offsets are off[olo:ohi], non-decreasing
	lo, hi   uint32
	olo, ohi uint32
}

// Listpack sizes that switch the reported encoding, as Redis 7.2 with its
// default list-max-listpack-size -2 (8 KiB): a list becomes a quicklist
// when its listpack would exceed 8 KiB, and a listpack again once it
// shrinks to half of that (the hysteresis avoids flapping).
const (
	listpackMax    = 8192
	listpackShrink = listpackMax / 2
	listpackHeader = 7 // total bytes, length, end marker
)

// Node limits and ring sizes. A node holds at most listNodeBytes of
// element bytes (Redis's 8 KiB listpacks) and listNodeEntries elements
// (which bounds its offsets to 4 KiB), except that an element larger than
// listNodeBytes has a node of its own.
const (
	listNodeBytes   = 8192
	listNodeEntries = 1024
	listNodeHeader  = int(unsafe.Sizeof(listNode{}))
	listSlotBytes   = 8 // a ring slot: one pointer
	listMinRing     = 4
)

// NewList returns an empty list.
func NewList() Collection { return &List{lp: listpackHeader} }

// Kind implements Collection.
func (l *List) Kind() Kind { return KindList }

// Encoding implements Collection: "listpack" for small lists, "quicklist"
// for large ones, as Redis 7.2 reports.
func (l *List) Encoding() string {
	if l.quick {
		return "quicklist"
	}
	return "listpack"
}

// Len implements Collection.
func (l *List) Len() int { return l.n }

// Bytes implements Collection.
func (l *List) Bytes() int64 { return 64 + listSlotBytes*int64(len(l.nodes)) + l.bytes }

// Clone implements Collection. The copy's nodes are compacted.
func (l *List) Clone() Collection {
	c := &List{n: l.n, lp: l.lp, quick: l.quick}
	if l.count > 0 {
		c.nodes = make([]*listNode, len(l.nodes))
		for i := range l.count {
			nd := l.node(i).clone()
			c.nodes[i] = nd
			c.bytes += nd.cost()
		}
		c.count = l.count
	}
	return c
}

// len returns the number of elements in nd.
func (nd *listNode) len() int { return int(nd.ohi - nd.olo) }

// size returns the bytes of nd's elements.
func (nd *listNode) size() int { return int(nd.hi - nd.lo) }

// at returns element k of nd, capped so that appending to it copies.
func (nd *listNode) at(k int) []byte {
	i := nd.olo + uint32(k)
	end := nd.hi
	if i+1 < nd.ohi {
		end = nd.off[i+1]
	}
	return nd.buf[nd.off[i]:end:end]
}

// all yields nd's elements in order.
func (nd *listNode) all(yield func([]byte) bool) {
	for k := range nd.len() {
		if !yield(nd.at(k)) {
			return
		}
	}
}

// cost returns the heap nd takes.
func (nd *listNode) cost() int64 {
	return int64(allocSize(listNodeHeader) + allocSize(len(nd.buf)) + allocSize(4*len(nd.off)))
}

// fits reports whether v may join nd within the node limits.
func (nd *listNode) fits(v []byte) bool {
	return nd.size()+len(v) <= listNodeBytes && nd.len() < listNodeEntries
}

// room reports whether nd has the free space at end for an element of
// size bytes.
func (nd *listNode) room(end ListEnd, size int) bool {
	if end == ListLeft {
		return int(nd.lo) >= size && nd.olo > 0
	}
	return len(nd.buf)-int(nd.hi) >= size && int(nd.ohi) < len(nd.off)
}

// makeRoom moves nd's elements, within its buffers or into larger ones,
// so that an element of size bytes fits at end.
func (nd *listNode) makeRoom(end ListEnd, size int) {
	if (end == ListLeft && nd.olo == 0) || (end == ListRight && int(nd.ohi) == len(nd.off)) {
		n := nd.ohi - nd.olo
		var olo int
		nd.off, olo = reserve(nd.off, int(nd.olo), int(nd.ohi), 1, listNodeEntries, end)
		nd.olo = uint32(olo)
		nd.ohi = nd.olo + n
	}
	if !nd.room(end, size) {
		used := nd.hi - nd.lo
		buf, lo := reserve(nd.buf, int(nd.lo), int(nd.hi), size, listNodeBytes, end)
		delta := uint32(lo) - nd.lo // modular: adding it moves offsets down too
		for j := nd.olo; j < nd.ohi; j++ {
			nd.off[j] += delta
		}
		nd.buf, nd.lo, nd.hi = buf, uint32(lo), uint32(lo)+used
	}
}

// reserve returns s, or a larger copy of it, with its used part s[lo:hi]
// placed so that need free places lie on its end side, and the used part's
// new start. It moves the used part within s while that leaves s at least
// half free (a node used as a queue, pushed at one end and popped at the
// other, stays small), else grows s by doubling, up to limit unless need
// demands more. It keeps at most half of the spare room on the far side.
func reserve[T byte | uint32](s []T, lo, hi, need, limit int, end ListEnd) ([]T, int) {
	used := hi - lo
	size := len(s)
	if 2*(used+need) > len(s) {
		size = max(min(2*len(s), limit), used+need, len(s))
	}
	ns := s
	if size > len(s) {
		var zero T
		w := int(unsafe.Sizeof(zero))
		size = allocSize(size*w) / w
		ns = make([]T, size)
	}
	far := lo
	if end == ListLeft {
		far = len(s) - hi
	}
	keep := min(far, (size-used-need)/2)
	at := keep
	if end == ListLeft {
		at = size - keep - used
	}
	copy(ns[at:], s[lo:hi])
	return ns, at
}

// put writes v at end of nd, which has room for it.
func (nd *listNode) put(end ListEnd, v []byte) {
	if end == ListLeft {
		nd.lo -= uint32(len(v))
		copy(nd.buf[nd.lo:], v)
		nd.olo--
		nd.off[nd.olo] = nd.lo
		return
	}
	nd.off[nd.ohi] = nd.hi
	nd.ohi++
	copy(nd.buf[nd.hi:], v)
	nd.hi += uint32(len(v))
}

// newListNode returns an empty node to receive v at end of the list, its
// free space on that side. prev is the node at that end, nil if none: a
// node that follows one filled by pushes is sized like it at once.
func newListNode(end ListEnd, v []byte, prev *listNode) *listNode {
	size, entries := len(v), 1
	if prev != nil && prev.size() <= listNodeBytes && len(v) <= listNodeBytes {
		size, entries = max(prev.size(), len(v)), prev.len()
	}
	nd := &listNode{buf: make([]byte, allocSize(size)), off: make([]uint32, allocSize(4*entries)/4)}
	if end == ListLeft {
		nd.lo, nd.hi = uint32(len(nd.buf)), uint32(len(nd.buf))
		nd.olo, nd.ohi = uint32(len(nd.off)), uint32(len(nd.off))
	}
	return nd
}

// clone returns a copy of nd without free space.
func (nd *listNode) clone() *listNode {
	c := &listNode{
		buf: make([]byte, allocSize(nd.size())),
		off: make([]uint32, allocSize(4*nd.len())/4),
		hi:  uint32(nd.size()),
		ohi: uint32(nd.len()),
	}
	copy(c.buf, nd.buf[nd.lo:nd.hi])
	for j := range nd.len() {
		c.off[j] = nd.off[nd.olo+uint32(j)] - nd.lo
	}
	return c
}

// packNodes appends to dst nodes holding copies of elems, in order: one
// node if they fit in one, else the two halves of elems packed alike.
func packNodes(dst []*listNode, elems [][]byte) []*listNode {
	size := 0
	for _, e := range elems {
		size += len(e)
	}
	if len(elems) > 1 && (size > listNodeBytes || len(elems) > listNodeEntries) {
		// Weigh each element with 8 bytes more, so that a split also
		// halves a node of many small elements.
		total, w, k := size+8*len(elems), 0, 0
		for k < len(elems)-1 && (k == 0 || 2*w < total) {
			w += len(elems[k]) + 8
			k++
		}
		return packNodes(packNodes(dst, elems[:k]), elems[k:])
	}
	nd := &listNode{buf: make([]byte, allocSize(size)), off: make([]uint32, allocSize(4*len(elems))/4)}
	for _, e := range elems {
		nd.put(ListRight, e)
	}
	return append(dst, nd)
}

// slot returns the nodes index of node i.
func (l *List) slot(i int) int { return (l.head + i) & (len(l.nodes) - 1) }

// node returns node i, for 0 <= i < count.
func (l *List) node(i int) *listNode { return l.nodes[l.slot(i)] }

// endNode returns the node at end of a non-empty list.
func (l *List) endNode(end ListEnd) *listNode {
	if end == ListLeft {
		return l.node(0)
	}
	return l.node(l.count - 1)
}

// resize moves the nodes to a ring of size slots, a power of two.
func (l *List) resize(size int) {
	ring := make([]*listNode, size)
	for i := range l.count {
		ring[i] = l.node(i)
	}
	l.nodes, l.head = ring, 0
}

// addNode adds nd at end.
func (l *List) addNode(end ListEnd, nd *listNode) {
	if l.count == len(l.nodes) {
		l.resize(max(2*len(l.nodes), listMinRing))
	}
	if end == ListLeft {
		l.head = (l.head - 1) & (len(l.nodes) - 1)
		l.nodes[l.head] = nd
	} else {
		l.nodes[l.slot(l.count)] = nd
	}
	l.count++
	l.bytes += nd.cost()
}

// dropNode removes the node at end, and shrinks the ring once it is a
// quarter full.
func (l *List) dropNode(end ListEnd) {
	s := l.head
	if end == ListLeft {
		l.head = (l.head + 1) & (len(l.nodes) - 1)
	} else {
		s = l.slot(l.count - 1)
	}
	l.bytes -= l.nodes[s].cost()
	l.nodes[s] = nil
	l.count--
	switch {
	case l.count == 0:
		l.nodes, l.head = nil, 0
	case len(l.nodes) > listMinRing && l.count <= len(l.nodes)/4:
		l.resize(len(l.nodes) / 2)
	}
}

// replaceNode puts the nodes ns, at least one, in place of node i.
func (l *List) replaceNode(i int, ns []*listNode) {
	l.bytes -= l.node(i).cost()
	for _, nd := range ns {
		l.bytes += nd.cost()
	}
	if len(ns) == 1 {
		l.nodes[l.slot(i)] = ns[0]
		return
	}
	count := l.count - 1 + len(ns)
	size := listMinRing
	for size < count {
		size *= 2
	}
	ring := make([]*listNode, 0, size)
	for j := range l.count {
		if j == i {
			ring = append(ring, ns...)
		} else {
			ring = append(ring, l.node(j))
		}
	}
	l.nodes, l.head, l.count = ring[:size], 0, count
}

// locate returns the node holding element p, 0 <= p < Len, and p's index
// in it, walking from the nearer end.
func (l *List) locate(p int) (node, k int) {
	if p < l.n/2 {
		for i := 0; ; i++ {
			c := l.node(i).len()
			if p < c {
				return i, p
			}
			p -= c
		}
	}
	p = l.n - 1 - p // from the tail
	for i := l.count - 1; ; i-- {
		c := l.node(i).len()
		if p < c {
			return i, c - 1 - p
		}
		p -= c
	}
}

// All yields every element in order. The list must not change during the
// iteration.
func (l *List) All(yield func([]byte) bool) {
	for i := range l.count {
		for v := range l.node(i).all {
			if !yield(v) {
				return
			}
		}
	}
}

// Slice yields the n elements from position first on, for 0 <= first and
// first+n <= Len (as Bounds returns), walking to first from the nearer
// end. The list must not change during the iteration.
func (l *List) Slice(first, n int) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		if n <= 0 {
			return
		}
		i, k := l.locate(first)
		for ; n > 0; i++ {
			nd := l.node(i)
			for ; k < nd.len() && n > 0; k++ {
				if !yield(nd.at(k)) {
					return
				}
				n--
			}
			k = 0
		}
	}
}

// positions yields every element with its position, from the head or,
// with reverse, from the tail.
func (l *List) positions(reverse bool) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		if !reverse {
			p := 0
			for v := range l.All {
				if !yield(p, v) {
					return
				}
				p++
			}
			return
		}
		p := l.n - 1
		for i := l.count - 1; i >= 0; i-- {
			nd := l.node(i)
			for k := nd.len() - 1; k >= 0; k-- {
				if !yield(p, nd.at(k)) {
					return
				}
				p--
			}
		}
	}
}

// grew updates the encoding after elements were added.
func (l *List) grew() {
	if !l.quick && l.lp > listpackMax {
		l.quick = true
	}
}

// shrank updates the encoding after elements were removed.
func (l *List) shrank() {
	if l.quick && l.lp <= listpackShrink {
		l.quick = false
	}
}

// push adds a copy of v at end, leaving the encoding to the caller.
func (l *List) push(end ListEnd, v []byte) {
	var nd *listNode
	if l.count > 0 {
		nd = l.endNode(end)
	}
	switch {
	case nd == nil || !nd.fits(v):
		nd = newListNode(end, v, nd)
		l.addNode(end, nd)
	case !nd.room(end, len(v)):
		l.bytes -= nd.cost()
		nd.makeRoom(end, len(v))
		l.bytes += nd.cost()
	}
	nd.put(end, v)
	l.n++
	l.lp += listpackEntryBytes(v)
}

// Push adds copies of vals at end, one after the other (so LPUSH a b c
// leaves c first), and returns the new length.
func (l *List) Push(end ListEnd, vals ...[]byte) int {
	for _, v := range vals {
		l.push(end, v)
	}
	l.grew()
	return l.n
}

// PopView removes the element at end and returns it, valid only until the
// list next changes or the lock is released: it suits a reply written
// under the lock, and allocates nothing. ok is false when the list is
// empty.
func (l *List) PopView(end ListEnd) (v []byte, ok bool) {
	if l.n == 0 {
		return nil, false
	}
	nd := l.endNode(end)
	if end == ListLeft {
		v = nd.at(0)
		nd.olo++
		nd.lo += uint32(len(v))
	} else {
		v = nd.at(nd.len() - 1)
		nd.ohi--
		nd.hi -= uint32(len(v))
	}
	if nd.len() == 0 {
		l.dropNode(end)
	}
	l.n--
	l.lp -= listpackEntryBytes(v)
	l.shrank()
	return v, true
}

// Pop removes the element at end and returns it; the caller owns it, and
// it is never nil. ok is false when the list is empty.
func (l *List) Pop(end ListEnd) (v []byte, ok bool) {
	v, ok = l.PopView(end)
	if !ok || len(v) > listNodeBytes {
		// An element this large had a node to itself, now dropped: the
		// list no longer refers to it.
		return v, ok
	}
	return append([]byte{}, v...), true
}

// index resolves a Redis index (negative counts from the tail) to a
// position, reporting false when it is out of range.
func (l *List) index(i int64) (int, bool) {
	if i < 0 {
		i += int64(l.n)
	}
	if i < 0 || i >= int64(l.n) {
		return 0, false
	}
	return int(i), true
}

// Index returns the element at Redis index i (negative counts from the
// tail: -1 is the last element).
func (l *List) Index(i int64) ([]byte, bool) {
	p, ok := l.index(i)
	if !ok {
		return nil, false
	}
	node, k := l.locate(p)
	return l.node(node).at(k), true
}

// Set replaces the element at Redis index i with a copy of v; an index out
// of range is ErrIndexOutOfRange. It rewrites the element's node, unless
// v is as long as the element it replaces.
func (l *List) Set(i int64, v []byte) error {
	p, ok := l.index(i)
	if !ok {
		return ErrIndexOutOfRange
	}
	node, k := l.locate(p)
	nd := l.node(node)
	old := nd.at(k)
	l.lp += listpackEntryBytes(v) - listpackEntryBytes(old)
	if len(v) == len(old) {
		copy(old, v)
	} else {
		elems := make([][]byte, 0, nd.len())
		for e := range nd.all {
			elems = append(elems, e)
		}
		elems[k] = v
		l.replaceNode(node, packNodes(nil, elems))
	}
	l.grew()
	l.shrank()
	return nil
}

// Bounds resolves the inclusive Redis range start..stop (negative indexes
// count from the tail) to the position of its first element and its
// length, as LRANGE and LTRIM do. n is 0 for an empty range.
func (l *List) Bounds(start, stop int64) (first, n int) {
	size := int64(l.n)
	if start < 0 {
		start = max(start+size, 0)
	}
	if stop < 0 {
		stop += size
	}
	if start > stop || start >= size {
		return 0, 0
	}
	stop = min(stop, size-1)
	return int(start), int(stop - start + 1)
}

// Trim keeps only the Redis range start..stop, as LTRIM. It drops whole
// nodes and cuts the two it keeps in part.
func (l *List) Trim(start, stop int64) {
	first, n := l.Bounds(start, stop)
	l.cut(ListLeft, first)
	l.cut(ListRight, l.n-n)
	l.shrank()
}

// cut removes k elements at end.
func (l *List) cut(end ListEnd, k int) {
	for k > 0 {
		nd := l.endNode(end)
		c := nd.len()
		m := min(k, c)
		from := 0
		if end == ListRight {
			from = c - m
		}
		for j := from; j < from+m; j++ {
			l.lp -= listpackEntryBytes(nd.at(j))
		}
		l.n -= m
		k -= m
		switch {
		case m == c:
			l.dropNode(end)
		case end == ListLeft:
			nd.olo += uint32(m)
			nd.lo = nd.off[nd.olo]
		default:
			nd.ohi -= uint32(m)
			nd.hi = nd.off[nd.ohi]
		}
	}
}

// Insert inserts a copy of v before (or, with after, after) the first
// element equal to pivot and returns the new length, or -1 when no element
// equals pivot. It rewrites the pivot's node, split in two when it grows
// past the node limits: O(N).
func (l *List) Insert(pivot, v []byte, after bool) int {
	for i := range l.count {
		nd := l.node(i)
		for k := range nd.len() {
			if !bytes.Equal(nd.at(k), pivot) {
				continue
			}
			if after {
				k++
			}
			elems := make([][]byte, 0, nd.len()+1)
			for e := range nd.all {
				elems = append(elems, e)
			}
			elems = slices.Insert(elems, k, v)
			l.replaceNode(i, packNodes(nil, elems))
			l.n++
			l.lp += listpackEntryBytes(v)
			l.grew()
			return l.n
		}
	}
	return -1
}

// Remove removes elements equal to v and returns how many: the first count
// from the head when count > 0, the last -count from the tail when count <
// 0, all when count is 0 (LREM). It rebuilds the list into new nodes when
// any goes: O(N).
func (l *List) Remove(count int64, v []byte) int {
	// from is the position of the first match that may go: with a negative
	// count, the -count-th match from the tail.
	from, find := -1, int64(1)
	if count < 0 {
		find = -count // never 0: -math.MinInt64 wraps to itself, "all"
	}
	for p, e := range l.positions(count < 0) {
		if bytes.Equal(e, v) {
			from = p
			if find--; find == 0 {
				break
			}
		}
	}
	if from < 0 {
		return 0
	}
	count = max(count, 0) // a negative count now removes all from `from` on
	fresh := List{lp: listpackHeader, quick: l.quick}
	removed := 0
	for p, e := range l.positions(false) {
		if p >= from && (count == 0 || int64(removed) < count) && bytes.Equal(e, v) {
			removed++
			continue
		}
		fresh.push(ListRight, e)
	}
	*l = fresh
	l.shrank()
	return removed
}

// Pos returns the positions of elements equal to v, as LPOS: starting
// with the rank-th match (rank > 0 from the head, rank < 0 from the tail;
// rank must not be 0), at most count positions (0 for all), comparing at
// most maxlen elements (0 for all). Positions always count from the head.
func (l *List) Pos(v []byte, rank, count, maxlen int64) []int {
	var out []int
	seen, reverse := int64(0), rank < 0
	if reverse {
		rank = -rank // rank is never math.MinInt64: the caller rejects it
	}
	for p, e := range l.positions(reverse) {
		if maxlen > 0 && seen >= maxlen {
			break
		}
		seen++
		if !bytes.Equal(e, v) {
			continue
		}
		if rank > 1 {
			rank--
			continue
		}
		out = append(out, p)
		if count > 0 && int64(len(out)) >= count {
			break
		}
	}
	return out
}

// listpackEntryBytes estimates the bytes v takes in a Redis listpack:
// integers in their compact encodings, strings with a 1, 2 or 5 byte
// header, each followed by its back-length.
func listpackEntryBytes(v []byte) int64 {
	if allDigits(v) {
		if n, ok := ParseInt(v); ok {
			switch {
			case 0 <= n && n <= 127:
				return 2
			case -4096 <= n && n < 4096:
				return 3
			case -1<<15 <= n && n < 1<<15:
				return 4
			case -1<<23 <= n && n < 1<<23:
				return 5
			case -1<<31 <= n && n < 1<<31:
				return 6
			}
			return 10
		}
	}
	size := len(v)
	switch {
	case size < 64:
		size++
	case size < 4096:
		size += 2
	default:
		size += 5
	}
	switch {
	case size < 1<<7:
		size++
	case size < 1<<14:
		size += 2
	case size < 1<<21:
		size += 3
	case size < 1<<28:
		size += 4
	default:
		size += 5
	}
	return int64(size)
}

// PopList removes up to n elements from end of the list at key and returns
// them in pop order; the caller owns them. A missing key gives nil; a key
// of another kind is ErrWrongType; a list left empty is deleted. It is
// what a blocking pop calls once woken: it never blocks.
func (s *Store) PopList(key []byte, end ListEnd, n int) ([][]byte, error) {
	var out [][]byte
	err := s.UpdateObject(key, KindList, nil, func(o Collection) error {
		if o == nil {
			return nil
		}
		l := o.(*List)
		out = make([][]byte, 0, min(n, l.Len()))
		for range n {
			v, ok := l.Pop(end)
			if !ok {
				break
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// MoveList atomically pops the element at from of the list src and pushes
// it at to of the list dst (LMOVE), creating dst if needed; src and dst may
// be the same key, which rotates the list. It returns the element, which
// the caller owns, and false when src is missing. A src or dst of another
// kind is ErrWrongType, and then nothing moves. It never blocks.
func (s *Store) MoveList(src, dst []byte, from, to ListEnd) ([]byte, bool, error) {
	var v []byte
	var moved bool
	err := s.Multi([][]byte{src, dst}, func(tx *Tx) error {
		sc, err := tx.Get(src, KindList)
		if err != nil || sc == nil {
			return err
		}
		sl := sc.(*List)
		dl := sl
		if !bytes.Equal(src, dst) {
			dc, err := tx.Get(dst, KindList)
			if err != nil {
				return err
			}
			if dc == nil {
				dc = NewList()
			}
			dl = dc.(*List)
		}
		// Pop's copy is the caller's; dl keeps a copy of its own.
		v, moved = sl.Pop(from)
		if !moved {
			return nil
		}
		dl.Push(to, v)
		tx.Put(src, sl)
		if dl != sl {
			tx.Put(dst, dl)
		}
		return nil
	})
	return v, moved, err
}

// allDigits reports whether v is an optional minus sign and 1 to 19
// digits: a cheap test that spares ParseInt, which allocates on failure,
// the common non-numeric element.
func allDigits(v []byte) bool {
	if len(v) > 0 && v[0] == '-' {
		v = v[1:]
	}
	if len(v) == 0 || len(v) > 19 {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
