package store

import (
	"bytes"
)

// ListEnd names an end of a list: ListLeft is the head (index 0), ListRight
// the tail.
type ListEnd uint8

// The ends of a list.
const (
	ListLeft ListEnd = iota
	ListRight
)

// List is a list value: a deque of byte strings in a ring buffer, so that
// pushes and pops at either end are O(1) amortised, and indexing is O(1).
// Its methods run under the shard lock of its key (see Store.ViewObject,
// Store.UpdateObject and Store.Multi). Elements it returns are only valid
// until the lock is released, except those Pop returns: a popped element no
// longer belongs to the list and the caller owns it.
type List struct {
	buf   [][]byte // ring buffer; len(buf) is 0 or a power of two
	head  int      // index in buf of element 0
	n     int      // number of elements
	bytes int64    // allocation sizes of the elements
	lp    int64    // estimated size of the list as one Redis listpack
	quick bool     // reported as "quicklist" rather than "listpack"
}

// Listpack sizes that switch the reported encoding, as Redis 7.2 with its
// default list-max-listpack-size -2 (8 KiB): a list becomes a quicklist
// when its listpack would exceed 8 KiB, and a listpack again once it
// shrinks to half of that (the hysteresis avoids flapping).
const (
	listpackMax    = 8192
	listpackShrink = listpackMax / 2
	listpackHeader = 7 // total bytes, length, end marker
	listSlotBytes  = 24
	listMinCap     = 8
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
func (l *List) Bytes() int64 { return 64 + listSlotBytes*int64(len(l.buf)) + l.bytes }

// Clone implements Collection.
func (l *List) Clone() Collection {
	c := &List{lp: listpackHeader, quick: l.quick}
	if l.n > 0 {
		c.buf = make([][]byte, len(l.buf))
		for i := range l.n {
			c.buf[i] = bytes.Clone(l.At(i))
			c.account(c.buf[i], 1)
		}
		c.n = l.n
	}
	return c
}

// slot returns the buf index of element i.
func (l *List) slot(i int) int { return (l.head + i) & (len(l.buf) - 1) }

// At returns element i, for 0 <= i < Len.
func (l *List) At(i int) []byte { return l.buf[l.slot(i)] }

// resize moves the elements to a buffer of capacity size, a power of two.
func (l *List) resize(size int) {
	nb := make([][]byte, size)
	if l.n > 0 {
		if l.head+l.n <= len(l.buf) {
			copy(nb, l.buf[l.head:l.head+l.n])
		} else {
			k := copy(nb, l.buf[l.head:])
			copy(nb[k:], l.buf[:l.n-k])
		}
	}
	l.buf, l.head = nb, 0
}

// growFor makes room for extra more elements.
func (l *List) growFor(extra int) {
	need := l.n + extra
	if need <= len(l.buf) {
		return
	}
	size := max(len(l.buf), listMinCap)
	for size < need {
		size *= 2
	}
	l.resize(size)
}

// shrink releases buffer space once the list uses a quarter of it.
func (l *List) shrink() {
	if l.n == 0 {
		l.buf, l.head = nil, 0
		return
	}
	if len(l.buf) > listMinCap && l.n <= len(l.buf)/4 {
		l.resize(max(len(l.buf)/2, listMinCap))
	}
}

// account adds (sign 1) or removes (sign -1) v from the running counts.
func (l *List) account(v []byte, sign int64) {
	l.bytes += sign * int64(allocSize(cap(v)))
	l.lp += sign * listpackEntryBytes(v)
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
	l.shrink()
}

// pushOwned adds v, which the list now owns, at end.
func (l *List) pushOwned(end ListEnd, v []byte) {
	l.growFor(1)
	if end == ListLeft {
		l.head = (l.head - 1) & (len(l.buf) - 1)
		l.buf[l.head] = v
	} else {
		l.buf[l.slot(l.n)] = v
	}
	l.n++
	l.account(v, 1)
}

// Push adds copies of vals at end, one after the other (so LPUSH a b c
// leaves c first), and returns the new length.
func (l *List) Push(end ListEnd, vals ...[]byte) int {
	l.growFor(len(vals))
	for _, v := range vals {
		l.pushOwned(end, bytes.Clone(v))
	}
	l.grew()
	return l.n
}

// Pop removes the element at end and returns it; the caller owns it. ok
// is false when the list is empty.
func (l *List) Pop(end ListEnd) (v []byte, ok bool) {
	if l.n == 0 {
		return nil, false
	}
	i := l.head
	if end == ListRight {
		i = l.slot(l.n - 1)
	} else {
		l.head = (l.head + 1) & (len(l.buf) - 1)
	}
	v = l.buf[i]
	l.buf[i] = nil
	l.n--
	l.account(v, -1)
	l.shrank()
	return v, true
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
	return l.At(p), true
}

// Set replaces the element at Redis index i with a copy of v; an index out
// of range is ErrIndexOutOfRange.
func (l *List) Set(i int64, v []byte) error {
	p, ok := l.index(i)
	if !ok {
		return ErrIndexOutOfRange
	}
	s := l.slot(p)
	l.account(l.buf[s], -1)
	l.buf[s] = bytes.Clone(v)
	l.account(l.buf[s], 1)
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

// Trim keeps only the Redis range start..stop, as LTRIM.
func (l *List) Trim(start, stop int64) {
	first, n := l.Bounds(start, stop)
	for range first {
		v := l.buf[l.head]
		l.buf[l.head] = nil
		l.head = (l.head + 1) & (len(l.buf) - 1)
		l.n--
		l.account(v, -1)
	}
	for l.n > n {
		s := l.slot(l.n - 1)
		l.account(l.buf[s], -1)
		l.buf[s] = nil
		l.n--
	}
	l.shrank()
}

// Insert inserts a copy of v before (or, with after, after) the first
// element equal to pivot and returns the new length, or -1 when no element
// equals pivot. It shifts the shorter side of the list: O(N).
func (l *List) Insert(pivot, v []byte, after bool) int {
	p := -1
	for i := range l.n {
		if bytes.Equal(l.At(i), pivot) {
			p = i
			break
		}
	}
	if p < 0 {
		return -1
	}
	if after {
		p++
	}
	l.growFor(1)
	if p < l.n/2 {
		l.head = (l.head - 1) & (len(l.buf) - 1)
		for i := 0; i < p; i++ {
			l.buf[l.slot(i)] = l.buf[l.slot(i+1)]
		}
	} else {
		for i := l.n; i > p; i-- {
			l.buf[l.slot(i)] = l.buf[l.slot(i-1)]
		}
	}
	v = bytes.Clone(v)
	l.buf[l.slot(p)] = v
	l.n++
	l.account(v, 1)
	l.grew()
	return l.n
}

// Remove removes elements equal to v and returns how many: the first count
// from the head when count > 0, the last -count from the tail when count <
// 0, all when count is 0 (LREM). O(N).
func (l *List) Remove(count int64, v []byte) int {
	// from is the position of the first match that may go: with a negative
	// count, the -count-th match from the tail.
	from := 0
	if count < 0 {
		from = l.n
		for i := l.n - 1; i >= 0 && count < 0; i-- {
			if bytes.Equal(l.At(i), v) {
				from = i
				count++
			}
		}
		count = 0
	}
	removed, w := 0, 0
	for i := range l.n {
		e := l.At(i)
		if i >= from && (count == 0 || int64(removed) < count) && bytes.Equal(e, v) {
			removed++
			l.account(e, -1)
			continue
		}
		l.buf[l.slot(w)] = e
		w++
	}
	for i := w; i < l.n; i++ {
		l.buf[l.slot(i)] = nil
	}
	l.n = w
	if removed > 0 {
		l.shrank()
	}
	return removed
}

// Pos returns the positions of elements equal to v, as LPOS: starting
// with the rank-th match (rank > 0 from the head, rank < 0 from the tail;
// rank must not be 0), at most count positions (0 for all), comparing at
// most maxlen elements (0 for all). Positions always count from the head.
func (l *List) Pos(v []byte, rank, count, maxlen int64) []int {
	var out []int
	step, i := 1, 0
	if rank < 0 {
		step, i = -1, l.n-1
		rank = -rank // rank is never math.MinInt64: the caller rejects it
	}
	for seen := int64(0); i >= 0 && i < l.n && (maxlen == 0 || seen < maxlen); i += step {
		seen++
		if !bytes.Equal(l.At(i), v) {
			continue
		}
		if rank > 1 {
			rank--
			continue
		}
		out = append(out, i)
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
		v, moved = sl.Pop(from)
		if !moved {
			return nil
		}
		// dl owns the element; the caller gets a copy, valid after unlock.
		dl.pushOwned(to, v)
		dl.grew()
		v = bytes.Clone(v)
		if v == nil {
			v = []byte{}
		}
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
