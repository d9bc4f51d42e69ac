// Package store is the local engine of a cache node: typed values grouped by
// hash slot, absolute expiry (lazy on access plus an active sweep), memory
// accounting and eviction under a maxmemory limit.
//
// All methods are safe for concurrent use. Keys are sharded by slot over
// independently locked shards, so requests on different cores rarely contend.
// The store has no network and runs one goroutine of its own (active expiry),
// started by Start and stopped by Close.
package store

import (
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cached/cached/ring"
)

// Keys are grouped by slot: a group holds the slots congruent to its number
// modulo groupCount, in one map, so a slot's keys are found by scanning
// 1/groupCount of the key space. (One map per slot would leave maps so small
// at typical key counts that Go compares keys linearly instead of hashing.)
// Groups are spread over shards, each with its own lock.
const (
	shardBits      = 8
	shardCount     = 1 << shardBits
	groupBits      = 10
	groupCount     = 1 << groupBits
	groupsPerShard = groupCount / shardCount
)

// MaxStringLen bounds a string value built by APPEND, SETRANGE and the like,
// as Redis's default proto-max-bulk-len.
const MaxStringLen = 512 << 20

// Config configures a Store. Start from DefaultConfig.
type Config struct {
	// MaxMemory is the limit on used memory in bytes; 0 means no limit.
	MaxMemory int64
	// Policy chooses what to evict when MaxMemory is reached.
	Policy Policy
	// Samples is how many keys each eviction looks at (maxmemory-samples).
	Samples int
	// ExpiryInterval is the period of the active expiry sweep.
	ExpiryInterval time.Duration
	// Now returns the current time; tests inject a fake clock. Nil is the
	// system clock, read at one monotonic clock read per call (see sysClock).
	Now func() time.Time
	// Clock stamps every write with its version (see Clock). Nil gives
	// the store a clock of its own, on Now.
	Clock *Clock
	// Logger receives the store's rare log lines.
	Logger *slog.Logger
}

// DefaultConfig returns the configuration of an unlimited store.
func DefaultConfig() Config {
	return Config{
		Policy:         AllKeysLFU,
		Samples:        5,
		ExpiryInterval: 100 * time.Millisecond,
		Logger:         slog.Default(),
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.MaxMemory < 0:
		return fmt.Errorf("maxmemory: must not be negative, got %d", c.MaxMemory)
	case c.Policy > VolatileRandom:
		return fmt.Errorf("maxmemory-policy: unknown policy %d", c.Policy)
	case c.Samples < 1 || c.Samples > 64:
		return fmt.Errorf("maxmemory-samples: must be 1..64, got %d", c.Samples)
	case c.ExpiryInterval <= 0:
		return errors.New("expiry interval: must be positive")
	}
	return nil
}

// Store is a sharded in-memory key space. Create it with New.
type Store struct {
	nowMs  func() int64  // the current Unix time in milliseconds
	sys    *sysClock     // the system clock behind nowMs, nil for Config.Now
	access atomic.Uint32 // with sys, the access clock reads stamp: see accessClock
	epoch  int64         // Unix ms that access times count from
	seed   maphash.Seed
	logger *slog.Logger

	// hlc stamps writes. ownClock says it reads now, so a write stamps
	// with the reading its command already took (a clock read costs as
	// much as a map lookup).
	hlc      *Clock
	ownClock bool

	maxMemory atomic.Int64
	policy    atomic.Uint32
	samples   atomic.Int32
	used      atomic.Int64 // estimated bytes held by entries

	expired atomic.Int64
	evicted atomic.Int64

	dropHook atomic.Pointer[func(key string)] // see SetDropHook

	shards [shardCount]shard

	// versions counts the changes to each hash slot's keys, for WATCH;
	// slotKeys counts each slot's stored keys (expired ones until they are
	// removed). A slot's counters are guarded by the lock of the shard
	// holding the slot.
	versions [ring.SlotCount]uint64
	slotKeys [ring.SlotCount]int32

	changes changes

	interval  time.Duration
	startOnce sync.Once
	closeOnce sync.Once
	quit      chan struct{}
	done      chan struct{}
}

// shard holds the groups whose number is congruent to its index modulo
// shardCount. mu guards groups, volatile, keys and pending; hits and misses
// are atomic.
type shard struct {
	mu       sync.RWMutex
	groups   [groupsPerShard]table
	volatile [groupsPerShard]int32 // keys with a deadline, per group
	keys     int
	pending  pending // changes to tracked slots since the last TakeChanges
	hits     atomic.Int64
	misses   atomic.Int64
	_        [64]byte // keep neighbouring shards' hot counters apart
}

// New returns a store for cfg. It starts no goroutine until Start.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Store{
		seed:     maphash.MakeSeed(),
		logger:   cfg.Logger,
		hlc:      cfg.Clock,
		interval: cfg.ExpiryInterval,
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if now := cfg.Now; now != nil {
		s.nowMs = func() int64 { return now().UnixMilli() }
	} else {
		s.sys = newSysClock()
		s.nowMs = s.sys.nowMs
	}
	s.epoch = s.nowMs()
	s.access.Store(s.clock(s.epoch))
	if s.hlc == nil {
		s.hlc = NewClock(s.nowMs)
		s.ownClock = true
	}
	s.changes.init()
	s.maxMemory.Store(cfg.MaxMemory)
	s.policy.Store(uint32(cfg.Policy))
	s.samples.Store(int32(cfg.Samples))
	return s, nil
}

// Start runs the active expiry sweep until Close. Calling it again does nothing.
func (s *Store) Start() {
	s.startOnce.Do(func() { go s.expireLoop() })
}

// Close stops the active expiry sweep and waits for it. It is idempotent and
// safe to call without Start.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		started := true
		s.startOnce.Do(func() { started = false })
		if started {
			<-s.done
		}
	})
	return nil
}

// sysClock reads the Unix time in milliseconds with one monotonic clock
// read, where time.Now makes two (wall and monotonic): the wall time of a
// reference point plus the monotonic time since. A step of the wall clock
// (settimeofday, not NTP's slewing, which the monotonic clock follows too)
// shows once resync runs: the expiry sweep calls it on every tick.
type sysClock struct {
	ref  time.Time    // a reading with its monotonic part
	wall atomic.Int64 // Unix ns at ref, as of the last resync
}

func newSysClock() *sysClock {
	c := &sysClock{ref: time.Now()}
	c.wall.Store(c.ref.UnixNano())
	return c
}

// nowMs returns the current Unix time in milliseconds.
func (c *sysClock) nowMs() int64 {
	return (c.wall.Load() + int64(time.Since(c.ref))) / int64(time.Millisecond)
}

// resync realigns the clock with the wall clock.
func (c *sysClock) resync() {
	now := time.Now()
	c.wall.Store(now.UnixNano() - int64(now.Sub(c.ref)))
}

// clock returns the access clock for t: ms since the store's epoch, wrapping.
func (s *Store) clock(ms int64) uint32 { return uint32(ms - s.epoch) }

// accessClock returns the access clock a read stamps its key with. On the
// system clock it is the expiry sweep's, refreshed every tick (100 ms by
// default), so that a read of a key without a deadline reads no clock at
// all: Redis's LRU clock too is its cron's, at 1 s.
func (s *Store) accessClock() uint32 {
	if s.sys != nil {
		return s.access.Load()
	}
	return s.clock(s.nowMs())
}

// locate returns the shard and the index of key's group in it.
func (s *Store) locate(key []byte) (*shard, int) {
	return s.group(ring.Slot(key) & (groupCount - 1))
}

// group returns the shard of group g and g's index in it.
func (s *Store) group(g int) (*shard, int) {
	return &s.shards[g&(shardCount-1)], g >> shardBits
}

// expired reports whether e's deadline has passed at now. As in Redis, a
// key is still there at its deadline and gone just after.
func expired(e *entry, now int64) bool { return e.expireAt != 0 && e.expireAt < now }

// hash returns key's hash for the tables.
func (s *Store) hash(key string) uint64 { return maphash.String(s.seed, key) }

// get returns the entry for key in group i of sh, expired or not. The
// shard's lock must be held (a read lock will do).
func (s *Store) get(sh *shard, i int, key []byte) *entry {
	k := unsafe.String(unsafe.SliceData(key), len(key)) // not kept
	return sh.groups[i].get(k, s.hash(k))
}

// lookupLocked returns the live entry for key, deleting it if it expired.
// The shard's write lock must be held.
func (s *Store) lookupLocked(sh *shard, i int, key []byte, now int64) *entry {
	return s.liveLocked(sh, i, s.get(sh, i, key), now)
}

// liveLocked returns e, an entry of group i or nil, unless it expired by
// now: it is then deleted, and liveLocked returns nil.
func (s *Store) liveLocked(sh *shard, i int, e *entry, now int64) *entry {
	if e != nil && expired(e, now) {
		s.dropLocked(sh, i, e)
		s.expired.Add(1)
		s.droppedLocked(e)
		return nil
	}
	return e
}

// insertLocked stores e under its key in group i, replacing old, the key's
// current live entry (nil when absent), as a write at now.
func (s *Store) insertLocked(sh *shard, i int, e, old *entry, now int64) {
	s.linkLocked(sh, i, e, old)
	s.modifiedLocked(sh, e, now)
}

// linkLocked stores e under its key in group i in place of old (nil when
// absent), keeping the accounting, without stamping or recording a change.
// The caller bumps the slot's WATCH version.
func (s *Store) linkLocked(sh *shard, i int, e, old *entry) {
	h := s.hash(e.key())
	if old != nil {
		s.accountRemoveLocked(sh, i, old)
		sh.groups[i].replace(old, e, h)
	} else {
		sh.keys++
		s.slotKeys[e.slot]++
		sh.groups[i].insert(s.seed, e, h)
	}
	if e.expireAt != 0 {
		sh.volatile[i]++
	}
	s.used.Add(e.bytes())
}

// modifiedLocked records a write to e's key at now (Unix ms, as read by
// the command): e gets a new version, a WATCH of a key in its slot fails,
// and a tracked slot records the change. The shard's write lock must be
// held.
func (s *Store) modifiedLocked(sh *shard, e *entry, now int64) {
	s.versions[e.slot]++
	if s.ownClock {
		e.version = s.hlc.at(now)
	} else {
		e.version = s.hlc.Now()
	}
	if s.changes.tracked(e.slot) {
		s.recordLocked(sh, e.key(), e.slot)
	}
}

// stamp returns a new version at now, as modifiedLocked stamps entries.
func (s *Store) stamp(now int64) uint64 {
	if s.ownClock {
		return s.hlc.at(now)
	}
	return s.hlc.Now()
}

// accountRemoveLocked undoes the accounting of e without touching the table.
func (s *Store) accountRemoveLocked(sh *shard, i int, e *entry) {
	if e.expireAt != 0 {
		sh.volatile[i]--
	}
	s.used.Add(-e.bytes())
}

// removeLocked deletes e from group i as a user-visible change (DEL, a
// collection emptied, EXPIRE in the past, RENAME's source): a tracked slot
// records it.
func (s *Store) removeLocked(sh *shard, i int, e *entry) {
	s.dropLocked(sh, i, e)
	if s.changes.tracked(e.slot) {
		s.recordLocked(sh, e.key(), e.slot)
	}
}

// dropLocked deletes e from group i without recording a change: expiry,
// eviction, DropSlot, Apply. A WATCH of its slot still fails.
func (s *Store) dropLocked(sh *shard, i int, e *entry) {
	s.accountRemoveLocked(sh, i, e)
	sh.groups[i].remove(e, s.hash(e.key()))
	sh.keys--
	s.slotKeys[e.slot]--
	s.versions[e.slot]++
}

// setExpireLocked changes e's deadline as a write at now.
func (s *Store) setExpireLocked(sh *shard, i int, e *entry, at, now int64) {
	s.setDeadlineLocked(sh, i, e, at)
	s.modifiedLocked(sh, e, now)
}

// setDeadlineLocked changes e's deadline, keeping the volatile count; the
// caller records the write.
func (s *Store) setDeadlineLocked(sh *shard, i int, e *entry, at int64) {
	switch {
	case e.expireAt == 0 && at != 0:
		sh.volatile[i]++
	case e.expireAt != 0 && at == 0:
		sh.volatile[i]--
	}
	e.expireAt = at
}

// newEntry returns a string entry for val with a fresh access record.
func (s *Store) newEntry(key, val []byte, expireAt int64, now int64, extra int) *entry {
	e := newStringEntry(key, val, extra)
	e.expireAt = expireAt
	e.meta.Store(packMeta(s.clock(now), lfuInit))
	return e
}

// replaceValueLocked gives e's key a new string value (with extra spare
// bytes) in a new entry that keeps e's deadline and access record, as a
// write at now, and returns it. e must be live in group i.
func (s *Store) replaceValueLocked(sh *shard, i int, e *entry, val []byte, extra int, now int64) *entry {
	ne := newStringEntry(e.data()[:e.klen], val, extra)
	ne.expireAt = e.expireAt
	ne.meta.Store(e.meta.Load())
	ne.slot = e.slot
	s.used.Add(ne.bytes() - e.bytes())
	sh.groups[i].replace(e, ne, s.hash(ne.key()))
	s.modifiedLocked(sh, ne, now)
	return ne
}

// Stats are the store's counters, as INFO reports them.
type Stats struct {
	Keys         int64
	VolatileKeys int64
	UsedMemory   int64
	Hits         int64
	Misses       int64
	ExpiredKeys  int64
	EvictedKeys  int64
}

// Stats returns a snapshot of the counters.
func (s *Store) Stats() Stats {
	st := Stats{
		UsedMemory:  s.used.Load(),
		ExpiredKeys: s.expired.Load(),
		EvictedKeys: s.evicted.Load(),
	}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		st.Keys += int64(sh.keys)
		for _, v := range sh.volatile {
			st.VolatileKeys += int64(v)
		}
		sh.mu.RUnlock()
		st.Hits += sh.hits.Load()
		st.Misses += sh.misses.Load()
	}
	return st
}

// ResetStats zeroes the hit, miss, expiry and eviction counters (CONFIG RESETSTAT).
func (s *Store) ResetStats() {
	s.expired.Store(0)
	s.evicted.Store(0)
	for i := range s.shards {
		s.shards[i].hits.Store(0)
		s.shards[i].misses.Store(0)
	}
}

// Len returns the number of keys, including expired keys not yet removed.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += sh.keys
		sh.mu.RUnlock()
	}
	return n
}

// Flush deletes every key. Each tracked slot records one flush (see
// Change) rather than a change per key. Flush is not atomic across shards:
// a write to a shard already flushed stays.
func (s *Store) Flush() {
	now := s.nowMs()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		var freed int64
		for j := range sh.groups {
			for e := range sh.groups[j].all() {
				freed += e.bytes()
			}
			sh.groups[j] = table{}
			sh.volatile[j] = 0
		}
		// One version for the shard's flush, taken under its lock: the
		// writes it removed are older, the writes after it newer.
		var version uint64
		for slot := i; slot < ring.SlotCount; slot += shardCount {
			s.versions[slot]++ // the slots whose groups this shard holds
			s.slotKeys[slot] = 0
			if s.changes.tracked(uint16(slot)) {
				if version == 0 {
					version = s.stamp(now)
				}
				s.recordFlushLocked(sh, uint16(slot), version)
			}
		}
		sh.keys = 0
		s.used.Add(-freed)
		sh.mu.Unlock()
	}
}

// Clock returns the hybrid logical clock that stamps the store's writes
// (Config.Clock, or the store's own).
func (s *Store) Clock() *Clock { return s.hlc }

// Now returns the store's clock in Unix ms. Deadlines given to the store are
// on this clock.
func (s *Store) Now() int64 { return s.nowMs() }
