package store

import (
	"math/rand/v2"
	"sync/atomic"
	"unsafe"
)

// Kind is the type of a stored value.
type Kind uint8

// Value kinds, named as TYPE reports them.
const (
	KindString Kind = iota
)

// String returns the name TYPE uses for k.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	}
	return "none"
}

// entry is one stored value. The map key that indexes it shares one
// allocation with val (see newData), so a string key costs two allocations:
// this struct and its bytes.
//
// val is never modified within its length once stored: readers may keep the
// slice after releasing the shard lock. Writers replace it, or extend it past
// its length (APPEND), which no earlier reader can see.
type entry struct {
	val      []byte
	expireAt int64         // absolute deadline in Unix ms; 0 means none
	meta     atomic.Uint64 // low 32 bits: last access (ms since the store's epoch); bits 32-39: LFU counter
	kind     Kind
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

// newData copies key and val into one allocation and returns the key as a
// string and the value as a slice, both backed by it. extra bytes of spare
// capacity are left after the value for in-place appends.
func newData(key []byte, val []byte, extra int) (string, []byte) {
	buf := make([]byte, len(key)+len(val), len(key)+len(val)+extra)
	copy(buf, key)
	copy(buf[len(key):], val)
	return unsafe.String(unsafe.SliceData(buf), len(key)), buf[len(key):]
}

// Memory accounting. The estimate follows the Go allocator's size classes so
// that used_memory tracks the heap the entries really hold.
const (
	entrySize    = 48 // sizeof(entry) rounded to its size class
	mapSlotBytes = 32 // a swiss-table slot (string header + pointer) at typical load
)

// entryBytes estimates the heap held by a string entry.
func entryBytes(klen, vcap int) int64 {
	return int64(mapSlotBytes + entrySize + allocSize(klen+vcap))
}

// allocSize rounds n up to the Go allocator's size class.
func allocSize(n int) int {
	switch {
	case n == 0:
		return 0
	case n <= 8:
		return 8
	case n <= 16:
		return 16
	case n <= 32:
		return (n + 15) &^ 15
	case n <= 128:
		return (n + 15) &^ 15
	case n <= 256:
		return (n + 31) &^ 31
	case n <= 1024:
		return (n + 127) &^ 127
	case n <= 32768:
		return (n + 1023) &^ 1023
	}
	return (n + 8191) &^ 8191
}
