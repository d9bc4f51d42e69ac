package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"iter"
	"math"

	"github.com/cached/cached/ring"
)

// A record is the one encoding of a key's full state: replication, slot
// hand-off and persistence all carry records. Layout:
//
//	kind     1 byte (recString ... recFlush)
//	version  uvarint: the hybrid logical clock time of the write (see Clock)
//	expireAt varint (zigzag): absolute deadline in Unix ms, 0 for none
//	key      uvarint length, bytes
//	value    by kind:
//	  string  uvarint length, bytes
//	  hash    uvarint count (≥ 1), count × (field, value), each uvarint length + bytes
//	  list    uvarint count (≥ 1), count × item, in list order
//	  set     uvarint count (≥ 1), count × member
//	  zset    uvarint count (≥ 1), count × (member, 8-byte little-endian
//	          IEEE 754 score), in ascending (score, member) order
//	  delete  nothing; expireAt is 0
//	  flush   uvarint slot; expireAt is 0 and the key empty
//
// Varints are Go's encoding/binary varints, in their shortest form (a
// record has one encoding). A record carries no checksum or length prefix:
// the transport and the persistence log frame it.
//
// A delete record removes its key, a flush record every key of its slot,
// in both cases only where the local entry is older than the record.

// Record kinds on the wire. The values are part of the format: they never
// change.
const (
	recString byte = 1
	recHash   byte = 2
	recList   byte = 3
	recSet    byte = 4
	recZSet   byte = 5
	recDelete byte = 6
	recFlush  byte = 7
)

// Minimum encoded size of one collection element, to bound counts by the
// input left before anything is allocated for them.
const (
	minItemBytes  = 1     // a zero length
	minFieldBytes = 2     // a field and a value
	minZSetBytes  = 1 + 8 // a member and its score
)

// recordKinds maps value kinds to record kinds.
var recordKinds = [...]byte{KindString: recString, KindHash: recHash, KindList: recList, KindSet: recSet, KindZSet: recZSet}

// Record is a decoded record (see DecodeRecord). Key, Value and the
// elements the iterators yield share the memory of the decoded input; copy
// them to keep them beyond it.
type Record struct {
	// Kind is the value's kind, when the record is neither Deleted nor a
	// Flush.
	Kind Kind
	// Deleted marks a delete record: Key has no value.
	Deleted bool
	// Flush marks a flush record: every key of Slot was removed at
	// Version. Key is empty.
	Flush bool
	Slot  int
	Key   []byte
	// Version is the hybrid logical clock time of the write (see Clock).
	Version uint64
	// ExpireAt is the absolute deadline in Unix ms, 0 for none.
	ExpireAt int64
	// Value is a string record's value.
	Value []byte
	// Len is a collection's element count: hash fields, list items, set
	// or sorted set members. Fields, Items and Members yield them.
	Len int

	elems []byte // Len encoded elements, validated
}

// Fields yields a hash record's fields and values, in the record's order.
func (r *Record) Fields() iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) {
		if r.Kind != KindHash || r.Deleted || r.Flush {
			return
		}
		b := r.elems
		for range r.Len {
			var f, v []byte
			f, b = nextBytes(b)
			v, b = nextBytes(b)
			if !yield(f, v) {
				return
			}
		}
	}
}

// Items yields a list record's items in list order, or a set record's
// members.
func (r *Record) Items() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		if (r.Kind != KindList && r.Kind != KindSet) || r.Deleted || r.Flush {
			return
		}
		b := r.elems
		for range r.Len {
			var v []byte
			v, b = nextBytes(b)
			if !yield(v) {
				return
			}
		}
	}
}

// Members yields a sorted set record's members and scores, in ascending
// order.
func (r *Record) Members() iter.Seq2[[]byte, float64] {
	return func(yield func([]byte, float64) bool) {
		if r.Kind != KindZSet || r.Deleted || r.Flush {
			return
		}
		b := r.elems
		for range r.Len {
			var m []byte
			m, b = nextBytes(b)
			score := math.Float64frombits(binary.LittleEndian.Uint64(b))
			b = b[8:]
			if !yield(m, score) {
				return
			}
		}
	}
}

// nextBytes splits a validated length-prefixed byte string off b.
func nextBytes(b []byte) (v, rest []byte) {
	n, k := binary.Uvarint(b)
	end := k + int(n)
	return b[k:end:end], b[end:]
}

// appendString appends b with its uvarint length.
func appendString[T ~string | ~[]byte](dst []byte, b T) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// appendRecordHeader appends a record's kind, version, deadline and key.
func appendRecordHeader[T ~string | ~[]byte](dst []byte, kind byte, version uint64, expireAt int64, key T) []byte {
	dst = append(dst, kind)
	dst = binary.AppendUvarint(dst, version)
	dst = binary.AppendVarint(dst, expireAt)
	return appendString(dst, key)
}

// AppendDeleteRecord appends a record deleting key at version.
func AppendDeleteRecord(dst, key []byte, version uint64) []byte {
	return appendRecordHeader(dst, recDelete, version, 0, key)
}

// AppendFlushRecord appends a record removing every key of slot at version,
// as FLUSHALL did on a tracked slot (see Change). slot must be in
// [0, ring.SlotCount).
func AppendFlushRecord(dst []byte, slot int, version uint64) []byte {
	dst = appendRecordHeader(dst, recFlush, version, 0, "")
	return binary.AppendUvarint(dst, uint64(slot))
}

// AppendRecord appends the record of key's current state to dst. It reports
// false, and returns dst unchanged, when the key is absent or expired. It
// holds the key's shard read lock while encoding, and does not count as an
// access to the key.
func (s *Store) AppendRecord(dst, key []byte) ([]byte, bool) {
	sh, i := s.locate(key)
	now := s.nowMs()
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e := s.get(sh, i, key)
	if e == nil || expired(e, now) {
		return dst, false
	}
	return appendEntryRecord(dst, e), true
}

// appendEntryRecord appends the record of e. The shard's lock must be held
// (a read lock will do).
func appendEntryRecord(dst []byte, e *entry) []byte {
	if e.kind == KindString {
		dst = appendRecordHeader(dst, recString, e.version, e.expireAt, e.key())
		return appendString(dst, e.value())
	}
	o := e.object()
	dst = appendRecordHeader(dst, recordKinds[e.kind], e.version, e.expireAt, o.key)
	dst = binary.AppendUvarint(dst, uint64(o.obj.Len()))
	switch c := o.obj.(type) {
	case *Hash:
		for _, he := range c.entries {
			dst = appendString(dst, he.field)
			dst = appendString(dst, he.val)
		}
	case *List:
		for v := range c.All {
			dst = appendString(dst, v)
		}
	case *Set:
		for _, m := range c.members {
			dst = appendString(dst, m)
		}
	case *ZSet:
		for m, score := range c.All {
			dst = appendString(dst, m)
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(score))
		}
	default:
		panic(fmt.Sprintf("store: no record encoding for %T", o.obj)) // a Collection the store does not define
	}
	return dst
}

// DecodeRecord decodes the record at the start of rec and returns it with
// the number of bytes it takes; bytes after it are left alone. A malformed
// record gives an error wrapping ErrBadRecord that says what is wrong.
//
// Every length and count is checked against the bytes left before it is
// used, and decoding allocates nothing: the Record refers to rec. It checks
// the format (kinds, lengths, shortest varints, non-empty collections,
// scores that are not NaN and in order) but not that hash fields and set
// members are distinct; Apply refuses records where they are not.
func DecodeRecord(rec []byte) (Record, int, error) {
	d := decoder{b: rec, elem: -1}
	var r Record
	if len(rec) == 0 {
		return Record{}, 0, d.fail("kind", "no input")
	}
	kind := rec[0]
	d.off = 1
	var err error
	if r.Version, err = d.uvarint("version"); err != nil {
		return Record{}, 0, err
	}
	if r.ExpireAt, err = d.varint("deadline"); err != nil {
		return Record{}, 0, err
	}
	if r.Key, err = d.bytes("key"); err != nil {
		return Record{}, 0, err
	}
	switch kind {
	case recString:
		r.Kind = KindString
		r.Value, err = d.bytes("value")
	case recHash:
		r.Kind = KindHash
		err = d.elements(&r)
	case recList:
		r.Kind = KindList
		err = d.elements(&r)
	case recSet:
		r.Kind = KindSet
		err = d.elements(&r)
	case recZSet:
		r.Kind = KindZSet
		err = d.elements(&r)
	case recDelete, recFlush:
		if r.ExpireAt != 0 {
			return Record{}, 0, d.fail("deadline", "%d on a delete or flush record", r.ExpireAt)
		}
		if kind == recDelete {
			r.Deleted = true
			break
		}
		r.Flush = true
		if len(r.Key) != 0 {
			return Record{}, 0, d.fail("key", "%d bytes on a flush record", len(r.Key))
		}
		var slot uint64
		if slot, err = d.uvarint("slot"); err == nil && slot >= ring.SlotCount {
			err = d.fail("slot", "%d out of range", slot)
		}
		r.Slot = int(slot)
	default:
		return Record{}, 0, d.fail("kind", "unknown kind %d", kind)
	}
	if err != nil {
		return Record{}, 0, err
	}
	return r, d.off, nil
}

// zsetBefore reports whether (as, am) sorts strictly before (bs, bm), in the
// skip list's order.
func zsetBefore(as float64, am []byte, bs float64, bm []byte) bool {
	return as < bs || (as == bs && bytes.Compare(am, bm) < 0)
}

// decoder reads a record's fields from b at off, checking each against
// the bytes left.
type decoder struct {
	b    []byte
	off  int
	elem int // the collection element being read, or -1
}

// fail returns an ErrBadRecord saying what is wrong with the field what
// (of the current element, if any).
func (d *decoder) fail(what, format string, args ...any) error {
	if d.elem >= 0 {
		what = fmt.Sprintf("%s %d", what, d.elem)
	}
	return fmt.Errorf("%w at byte %d: %s: %s", ErrBadRecord, d.off, what, fmt.Sprintf(format, args...))
}

// uvarint reads a uvarint in its shortest form.
func (d *decoder) uvarint(what string) (uint64, error) {
	v, n := binary.Uvarint(d.b[d.off:])
	switch {
	case n == 0:
		return 0, d.fail(what, "truncated")
	case n < 0:
		return 0, d.fail(what, "varint overflows 64 bits")
	case n > 1 && d.b[d.off+n-1] == 0:
		return 0, d.fail(what, "varint not in its shortest form")
	}
	d.off += n
	return v, nil
}

// varint reads a zigzag varint in its shortest form.
func (d *decoder) varint(what string) (int64, error) {
	u, err := d.uvarint(what)
	if err != nil {
		return 0, err
	}
	return int64(u>>1) ^ -int64(u&1), nil
}

// bytes reads a length-prefixed byte string. The result's capacity ends
// with it, so appending to it cannot write over the input.
func (d *decoder) bytes(what string) ([]byte, error) {
	n, err := d.uvarint(what)
	if err != nil {
		return nil, err
	}
	if left := len(d.b) - d.off; n > uint64(left) {
		return nil, d.fail(what, "length %d exceeds the %d bytes left", n, left)
	}
	if n > MaxStringLen {
		return nil, d.fail(what, "length %d exceeds %d", n, MaxStringLen)
	}
	end := d.off + int(n)
	v := d.b[d.off:end:end]
	d.off = end
	return v, nil
}

// elements reads the count and elements of r's collection (r.Kind): the
// count must be at least 1 and fit the bytes left at the smallest size of
// an element. It records the count and the elements' bytes in r.
func (d *decoder) elements(r *Record) error {
	what, count, min := "list item", "list item count", minItemBytes
	switch r.Kind {
	case KindHash:
		what, count, min = "hash field", "hash field count", minFieldBytes
	case KindSet:
		what, count = "set member", "set member count"
	case KindZSet:
		what, count, min = "zset member", "zset member count", minZSetBytes
	}
	n, err := d.uvarint(count)
	if err != nil {
		return err
	}
	left := len(d.b) - d.off
	switch {
	case n == 0:
		return d.fail(count, "0: an empty %s", r.Kind)
	case n > uint64(left/min):
		return d.fail(count, "%d exceeds what the %d bytes left can hold", n, left)
	}
	start := d.off
	var prev []byte
	var prevScore float64
	for j := range int(n) {
		d.elem = j
		m, err := d.bytes(what)
		if err != nil {
			return err
		}
		switch r.Kind {
		case KindHash:
			if _, err := d.bytes("hash value"); err != nil {
				return err
			}
		case KindZSet:
			if len(d.b)-d.off < 8 {
				return d.fail("zset score", "truncated")
			}
			score := math.Float64frombits(binary.LittleEndian.Uint64(d.b[d.off:]))
			d.off += 8
			if math.IsNaN(score) {
				return d.fail("zset score", "NaN")
			}
			if j > 0 && !zsetBefore(prevScore, prev, score, m) {
				return d.fail("zset member", "out of (score, member) order or repeated")
			}
			prev, prevScore = m, score
		}
	}
	d.elem = -1
	r.Len = int(n)
	r.elems = d.b[start:d.off:d.off]
	return nil
}
