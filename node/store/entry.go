package store

import (
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/cached/cached/ring"
)

// Kind is the type of a stored value.
type Kind uint8

// Value kinds, named as TYPE reports them.
const (
	KindString Kind = iota
	KindHash
	KindList
	KindSet
	KindZSet
)

// String returns the name TYPE uses for k.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindHash:
		return "hash"
	case KindList:
		return "list"
	case KindSet:
		return "set"
	case KindZSet:
		return "zset"
	}
	return "none"
}

// entry is one stored value. A string entry is a single allocation with no
// pointers in it: this header, then the key bytes, then the value bytes and
// spare capacity. The map key is a string over the key bytes, so a key costs
// one allocation, and the garbage collector never scans its bytes.
//
// Values change in place under the shard's write lock (SET of a similar
// size, INCR, APPEND, SETRANGE), so readers copy them out under the read
// lock (Store.AppendGet) and never keep a slice of them.
type entry struct {
	expireAt int64         // absolute deadline in Unix ms; 0 means none
	version  uint64        // hybrid logical clock time of the last write (see Clock)
	meta     atomic.Uint64 // low 32 bits: last access (ms since the store's epoch); bits 32-39: LFU counter
	klen     uint32
	vlen     uint32
	vcap     uint32
	kind     Kind
	slot     uint16 // the key's hash slot: WATCH versions, slot counts, change tracking
}

// entryHeader is the size of the header before an entry's key.
const entryHeader = int(unsafe.Sizeof(entry{}))

// newStringEntry allocates an entry holding key and val, with extra bytes
// of spare capacity after the value.
func newStringEntry(key, val []byte, extra int) *entry {
	buf := make([]byte, entryHeader+len(key)+len(val)+extra)
	copy(buf[entryHeader:], key)
	copy(buf[entryHeader+len(key):], val)
	e := (*entry)(unsafe.Pointer(unsafe.SliceData(buf)))
	e.klen = uint32(len(key))
	e.vlen = uint32(len(val))
	e.vcap = uint32(len(val) + extra)
	e.kind = KindString
	e.slot = uint16(ring.Slot(key))
	return e
}

// data returns the bytes after the header: key, value, spare capacity.
func (e *entry) data() []byte {
	n := int(e.klen + e.vcap)
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(e), entryHeader)), n)
}

// key returns the entry's key, sharing its memory.
func (e *entry) key() string {
	if e.kind != KindString {
		return e.object().key
	}
	if e.klen == 0 {
		return ""
	}
	return unsafe.String(&e.data()[0], e.klen)
}

// value returns the string value, sharing its memory, with no spare capacity
// (so a caller's append cannot write into the entry).
func (e *entry) value() []byte {
	if e.vlen == 0 {
		return []byte{}
	}
	return e.data()[e.klen : e.klen+e.vlen : e.klen+e.vlen]
}

// setInPlace replaces the value with b when b fits the capacity and uses at
// least half of it (so a shrinking value does not pin a large allocation),
// and reports whether it did. The shard's write lock must be held.
func (e *entry) setInPlace(b []byte) bool {
	return 2*len(b) >= int(e.vcap) && e.overwrite(b)
}

// overwrite replaces the value with b when b fits the capacity, and reports
// whether it did. The shard's write lock must be held.
func (e *entry) overwrite(b []byte) bool {
	if len(b) > int(e.vcap) {
		return false
	}
	copy(e.data()[e.klen:], b)
	e.vlen = uint32(len(b))
	return true
}

// appendInPlace appends b within the spare capacity and reports whether it
// fitted. The shard's write lock must be held.
func (e *entry) appendInPlace(b []byte) bool {
	if int(e.vlen)+len(b) > int(e.vcap) {
		return false
	}
	copy(e.data()[e.klen+e.vlen:], b)
	e.vlen += uint32(len(b))
	return true
}

// bytes estimates the heap the entry holds, its index slot included.
func (e *entry) bytes() int64 {
	if e.kind != KindString {
		o := e.object()
		return int64(indexBytes+allocSize(int(unsafe.Sizeof(objectEntry{})))+allocSize(len(o.key))) + o.size
	}
	return entryBytes(int(e.klen), int(e.vcap))
}

// entryBytes estimates the heap held by a string entry with a key of klen
// bytes and vcap bytes of value capacity.
func entryBytes(klen, vcap int) int64 {
	return int64(indexBytes + allocSize(entryHeader+klen+vcap))
}

// LFU counter parameters, as Redis's lfu-log-factor and LFU_INIT_VAL.
const (
	lfuInit      = 5
	lfuLogFactor = 10
	lfuDecayMs   = 60_000 // one decrement per idle minute (lfu-decay-time 1)
)

func packMeta(access uint32, freq uint8) uint64 { return uint64(freq)<<32 | uint64(access) }

func (e *entry) access() uint32 { return uint32(e.meta.Load()) }

// freq returns the LFU counter decayed to now.
func (e *entry) freq(now uint32) uint8 {
	m := e.meta.Load()
	f := uint8(m >> 32)
	decay := (now - uint32(m)) / lfuDecayMs
	if decay >= uint32(f) {
		return 0
	}
	return f - uint8(decay)
}

// touch records an access at now (ms since epoch): the LRU clock and a
// logarithmic LFU increment, as Redis does. Safe under a read lock.
func (e *entry) touch(now uint32) {
	f := e.freq(now)
	if f < 255 {
		base := float64(f) - lfuInit
		if base < 0 {
			base = 0
		}
		if rand.Float64()*(base*lfuLogFactor+1) < 1 {
			f++
		}
	}
	e.meta.Store(packMeta(now, f))
}

// Memory accounting. The estimate follows the Go allocator's size classes so
// that used_memory tracks the heap the entries really hold.
const indexBytes = 16 // a table slot (pointer + tag byte) at its typical load of about 0.6

// sizeClasses are the Go allocator's small object sizes (runtime/sizeclasses.go).
var sizeClasses = [...]int{
	8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280,
	1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528,
	6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072,
	20480, 21760, 24576, 27264, 28672, 32768,
}

// allocSize rounds n up to the Go allocator's size class; large objects take
// whole 8 KiB pages.
func allocSize(n int) int {
	if n == 0 {
		return 0
	}
	if n > sizeClasses[len(sizeClasses)-1] {
		return (n + 8191) &^ 8191
	}
	i, _ := slices.BinarySearch(sizeClasses[:], n)
	return sizeClasses[i]
}
