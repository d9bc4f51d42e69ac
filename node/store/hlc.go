package store

import (
	"math"
	"sync/atomic"
)

// A version is a hybrid logical clock reading: the top 48 bits are Unix
// milliseconds, the low 16 bits a logical counter that orders readings taken
// within one millisecond (or while the physical clock lags a version seen
// from a peer). Versions compare as plain integers: the later write has the
// greater version, on every node that has seen both.
const (
	logicalBits = 16
	maxPhysical = 1<<(64-logicalBits) - 1 // Unix ms, about year 10889
)

// Clock is a hybrid logical clock: it stamps writes with versions that
// follow wall time, never repeat, never go backwards when wall time does, and
// exceed every version observed from a peer. The zero Clock is not usable;
// create one with NewClock. All methods are safe for concurrent use and
// lock-free.
type Clock struct {
	nowMs func() int64
	last  atomic.Uint64 // the latest version handed out or observed
}

// NewClock returns a clock whose physical part comes from nowMs (Unix
// milliseconds). nowMs must be safe for concurrent use; readings before 1970
// count as 0.
func NewClock(nowMs func() int64) *Clock { return &Clock{nowMs: nowMs} }

// Now returns a version greater than every version it returned before and
// every version passed to Update. When the physical time has not moved past
// the last version, the logical counter advances instead, carrying into the
// physical part when it would overflow (so the clock runs ahead of wall time
// by a millisecond per 65536 readings until wall time catches up). Only at
// the end of the version space (math.MaxUint64) does Now return the same
// version again. Now never returns 0, the version of an absent key.
func (c *Clock) Now() uint64 { return c.at(c.nowMs()) }

// at is Now with the physical reading ms supplied by the caller, which has
// just read the same time source (the store reads it once per command).
func (c *Clock) at(ms int64) uint64 {
	phys := uint64(min(max(ms, 0), maxPhysical)) << logicalBits
	for {
		last := c.last.Load()
		next := phys
		if next <= last {
			if last == math.MaxUint64 {
				return last
			}
			next = last + 1
		}
		if c.last.CompareAndSwap(last, next) {
			return next
		}
	}
}

// Update observes remote, a version from a peer, so that every later Now
// returns a greater one.
func (c *Clock) Update(remote uint64) {
	for {
		last := c.last.Load()
		if remote <= last || c.last.CompareAndSwap(last, remote) {
			return
		}
	}
}

// VersionTime returns the physical part of version v: Unix milliseconds.
func VersionTime(v uint64) int64 { return int64(v >> logicalBits) }
