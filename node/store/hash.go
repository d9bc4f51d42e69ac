package store

import (
	"hash/maphash"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Redis keeps a hash as a listpack until it has more than
// hash-max-listpack-entries fields or a field or value longer than
// hash-max-listpack-value bytes, then converts it to a hash table for good.
const (
	hashMaxListpackEntries = 128
	hashMaxListpackValue   = 64
)

// Hash is a hash value: fields to values. Its methods run under the shard
// lock of its key (see Store.ViewObject and Store.UpdateObject); values it
// returns are only valid until the lock is released.
//
// Fields live in a dense slice, indexed by a map from name to position, so
// that a random field is O(1) (HRANDFIELD); deletion moves the last entry
// into the hole.
type Hash struct {
	index   map[string]int
	entries []hashEntry
	bytes   int64        // accounted bytes of the fields, beyond the slice
	table   bool         // reported as "hashtable": sticky, as in Redis
	seed    maphash.Seed // orders fields for HSCAN cursors
}

type hashEntry struct {
	field string
	val   []byte
}

// hashFieldOverhead estimates a field's map slot (key header, int, hash
// bits) beyond the allocation sizes of its name and value; the entry in the
// dense slice is counted from the slice's capacity.
const hashFieldOverhead = 40

// hashEntrySize is the size of a hashEntry: a string and a slice header.
const hashEntrySize = 40

// NewHash returns an empty hash.
func NewHash() Collection {
	return &Hash{index: make(map[string]int), seed: maphash.MakeSeed()}
}

// Kind implements Collection.
func (h *Hash) Kind() Kind { return KindHash }

// Encoding implements Collection: "listpack" while the hash is small, as
// Redis names it, and "hashtable" from the first time it is not.
func (h *Hash) Encoding() string {
	if h.table {
		return "hashtable"
	}
	return "listpack"
}

// Len implements Collection.
func (h *Hash) Len() int { return len(h.entries) }

// Bytes implements Collection.
func (h *Hash) Bytes() int64 {
	return 64 + int64(cap(h.entries))*hashEntrySize + h.bytes
}

// Clone implements Collection.
func (h *Hash) Clone() Collection {
	c := &Hash{
		index:   make(map[string]int, len(h.entries)),
		entries: make([]hashEntry, len(h.entries)),
		bytes:   h.bytes,
		table:   h.table,
		seed:    maphash.MakeSeed(),
	}
	for i, e := range h.entries {
		c.entries[i] = hashEntry{field: e.field, val: append([]byte(nil), e.val...)}
		c.index[e.field] = i
	}
	return c
}

// fieldBytes estimates what field f with value v holds: v by its capacity,
// which an overwrite in place (see Set) keeps.
func fieldBytes(f string, v []byte) int64 {
	return int64(hashFieldOverhead + allocSize(len(f)) + allocSize(cap(v)))
}

// Get returns the value of field.
func (h *Hash) Get(field []byte) ([]byte, bool) {
	i, ok := h.index[string(field)]
	if !ok {
		return nil, false
	}
	return h.entries[i].val, true
}

// Set sets field to a copy of val and reports whether the field is new.
// An existing field's value is overwritten in place when a copy of val
// would take an allocation of the same size.
func (h *Hash) Set(field, val []byte) bool {
	if i, ok := h.index[string(field)]; ok {
		if e := &h.entries[i]; len(val) <= cap(e.val) && allocSize(len(val)) == cap(e.val) {
			e.val = append(e.val[:0], val...)
			h.noteSize(len(field), len(val))
			return false
		}
	}
	return h.setOwned(field, append([]byte(nil), val...))
}

// setOwned sets field to v, which the hash keeps, and reports whether the
// field is new. One map lookup finds an existing field.
func (h *Hash) setOwned(field, v []byte) bool {
	i, ok := h.index[string(field)]
	if ok {
		e := &h.entries[i]
		h.bytes += fieldBytes(e.field, v) - fieldBytes(e.field, e.val)
		e.val = v
	} else {
		f := string(field)
		h.index[f] = len(h.entries)
		h.entries = append(h.entries, hashEntry{field: f, val: v})
		h.bytes += fieldBytes(f, v)
	}
	h.noteSize(len(field), len(v))
	return !ok
}

// noteSize converts the reported encoding once the hash outgrows a listpack.
func (h *Hash) noteSize(flen, vlen int) {
	if len(h.entries) > hashMaxListpackEntries || flen > hashMaxListpackValue || vlen > hashMaxListpackValue {
		h.table = true
	}
}

// Del deletes field and reports whether it existed.
func (h *Hash) Del(field []byte) bool {
	i, ok := h.index[string(field)]
	if !ok {
		return false
	}
	e := h.entries[i]
	h.bytes -= fieldBytes(e.field, e.val)
	delete(h.index, e.field)
	last := len(h.entries) - 1
	if i != last {
		h.entries[i] = h.entries[last]
		h.index[h.entries[i].field] = i
	}
	h.entries[last] = hashEntry{}
	h.entries = h.entries[:last]
	if c := cap(h.entries); c > 64 && len(h.entries) < c/4 {
		h.entries = slices.Clip(append([]hashEntry(nil), h.entries...))
	}
	return true
}

// All yields every field and value, in no particular order. The hash must
// not be modified during the iteration.
func (h *Hash) All(yield func(field string, val []byte) bool) {
	for _, e := range h.entries {
		if !yield(e.field, e.val) {
			return
		}
	}
}

// IncrBy adds delta to the integer in field (0 when absent) and returns the
// sum. A value that is not a decimal 64-bit integer is ErrHashNotInteger; a
// sum out of range is ErrOverflow, and the field is left unchanged.
func (h *Hash) IncrBy(field []byte, delta int64) (int64, error) {
	var cur int64
	if v, ok := h.Get(field); ok {
		if cur, ok = ParseInt(v); !ok {
			return 0, ErrHashNotInteger
		}
	}
	if (delta > 0 && cur > math.MaxInt64-delta) || (delta < 0 && cur < math.MinInt64-delta) {
		return 0, ErrOverflow
	}
	sum := cur + delta
	h.setOwned(field, strconv.AppendInt(make([]byte, 0, maxIntLen), sum, 10))
	return sum, nil
}

// HashFloatIncr is a parsed HINCRBYFLOAT increment.
type HashFloatIncr struct{ f *big.Float }

// ParseHashFloatIncr parses a HINCRBYFLOAT increment, so that front ends
// reject a bad one before looking the key up, as Redis does: one that is
// not a number is ErrNotFloat, an infinite one ErrIncrNaN.
func ParseHashFloatIncr(b []byte) (HashFloatIncr, error) {
	inc, ok := parseLongDouble(b)
	if !ok {
		return HashFloatIncr{}, ErrNotFloat
	}
	if inc.IsInf() {
		return HashFloatIncr{}, ErrIncrNaN
	}
	return HashFloatIncr{inc}, nil
}

// IncrByFloat adds inc to the number in field (0 when absent) with long
// double arithmetic, as Redis does, and returns the new value as stored;
// the slice is the hash's, valid under the lock. A value that is not a
// number is ErrHashNotFloat and an infinite sum ErrNaN; the field is then
// left unchanged.
func (h *Hash) IncrByFloat(field []byte, inc HashFloatIncr) ([]byte, error) {
	cur := new(big.Float)
	if v, ok := h.Get(field); ok {
		if cur, ok = parseLongDouble(v); !ok {
			return nil, ErrHashNotFloat
		}
	}
	sum, ok := addLongDouble(cur, inc.f)
	if !ok {
		return nil, ErrNaN
	}
	val := formatLongDouble(sum)
	h.setOwned(field, val)
	return val, nil
}

// Random returns a field and its value chosen uniformly; the hash must not
// be empty.
func (h *Hash) Random() (field string, val []byte) {
	e := h.entries[rand.IntN(len(h.entries))]
	return e.field, e.val
}

// Sample yields n fields chosen at random with their values, as HRANDFIELD
// with a count does: distinct fields (all of them, in random order, when n
// is at least Len) unless repeat is set, in which case exactly n fields
// are yielded and may repeat. The hash must not be empty when repeat is set.
func (h *Hash) Sample(n int, repeat bool, yield func(field string, val []byte)) {
	size := len(h.entries)
	if !repeat {
		n = min(n, size)
	}
	switch {
	case n <= 0 || size == 0:
	case repeat:
		for range n {
			e := h.entries[rand.IntN(size)]
			yield(e.field, e.val)
		}
	case n*3 > size:
		// A large share of the hash: shuffle positions and take a prefix.
		for _, i := range rand.Perm(size)[:n] {
			yield(h.entries[i].field, h.entries[i].val)
		}
	default:
		seen := make(map[int]struct{}, n)
		for len(seen) < n {
			i := rand.IntN(size)
			if _, dup := seen[i]; dup {
				continue
			}
			seen[i] = struct{}{}
			yield(h.entries[i].field, h.entries[i].val)
		}
	}
}

// SampleLen is the number of fields Sample(n, repeat, ...) yields.
func (h *Hash) SampleLen(n int, repeat bool) int {
	if n <= 0 || len(h.entries) == 0 {
		return 0
	}
	if repeat {
		return n
	}
	return min(n, len(h.entries))
}

// Scan yields about count fields from cursor on, with their values, and
// returns the cursor to continue from, 0 when done, with HSCAN's guarantee:
// a field present from the first call to the last is yielded at least
// once, whatever is added or deleted in between.
//
// Like Redis with a listpack, a small hash (Encoding "listpack") yields all
// its fields in one call and returns 0, whatever the cursor. A larger one
// is walked in the order of a seeded hash of the field names: the cursor
// is the hash of the next field to yield. Fields sharing a hash are yielded
// together, so a batch may exceed count. Each call is O(Len) expected time
// (a selection, not a sort) and allocates O(Len).
func (h *Hash) Scan(cursor uint64, count int, yield func(field string, val []byte)) uint64 {
	if !h.table {
		for _, e := range h.entries {
			yield(e.field, e.val)
		}
		return 0
	}
	var cands []scanCand
	for i, e := range h.entries {
		if s := maphash.String(h.seed, e.field); s >= cursor {
			cands = append(cands, scanCand{s, i})
		}
	}
	count = max(count, 1)
	if len(cands) <= count {
		for _, c := range cands {
			yield(h.entries[c.i].field, h.entries[c.i].val)
		}
		return 0
	}
	// The count smallest hashes go first; the last of them is the batch's
	// bound, and fields beyond it sharing its hash come along.
	selectSmallest(cands, count)
	bound := cands[count-1].sum
	next := uint64(0)
	for _, c := range cands {
		switch {
		case c.sum <= bound:
			yield(h.entries[c.i].field, h.entries[c.i].val)
		case next == 0 || c.sum < next:
			next = c.sum // > bound >= 0, so never 0 when set
		}
	}
	return next
}

// scanCand is a field of a Scan: its hash and position in entries.
type scanCand struct {
	sum uint64
	i   int
}

// selectSmallest reorders c so that its first k elements are the k with
// the smallest sums and c[k-1] is the largest of them (quickselect);
// 0 < k <= len(c).
func selectSmallest(c []scanCand, k int) {
	lo, hi := 0, len(c)-1
	for lo < hi {
		p := lo + rand.IntN(hi-lo+1)
		c[p], c[hi] = c[hi], c[p]
		pivot := c[hi].sum
		j := lo
		for i := lo; i < hi; i++ {
			if c[i].sum < pivot {
				c[i], c[j] = c[j], c[i]
				j++
			}
		}
		c[j], c[hi] = c[hi], c[j]
		switch {
		case j == k-1:
			return
		case j < k-1:
			lo = j + 1
		default:
			hi = j - 1
		}
	}
}
