package store

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Policy is a maxmemory-policy: what to evict when memory is full.
type Policy uint32

// Eviction policies, with Redis's names. The LRU and LFU policies are
// approximated by sampling, as in Redis.
const (
	NoEviction Policy = iota
	AllKeysLRU
	AllKeysLFU
	AllKeysRandom
	VolatileLRU
	VolatileLFU
	VolatileTTL
	VolatileRandom
)

var policyNames = [...]string{
	NoEviction:     "noeviction",
	AllKeysLRU:     "allkeys-lru",
	AllKeysLFU:     "allkeys-lfu",
	AllKeysRandom:  "allkeys-random",
	VolatileLRU:    "volatile-lru",
	VolatileLFU:    "volatile-lfu",
	VolatileTTL:    "volatile-ttl",
	VolatileRandom: "volatile-random",
}

// String returns the policy's redis.conf name.
func (p Policy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("policy(%d)", uint32(p))
}

// ParsePolicy parses a redis.conf policy name.
func ParsePolicy(name string) (Policy, error) {
	for p, n := range policyNames {
		if n == name {
			return Policy(p), nil
		}
	}
	return 0, fmt.Errorf("unknown maxmemory-policy %q", name)
}

func (p Policy) volatileOnly() bool { return p >= VolatileLRU }

// LFU reports whether p tracks access frequency (OBJECT FREQ).
func (p Policy) LFU() bool { return p == AllKeysLFU || p == VolatileLFU }

// MaxMemory returns the memory limit in bytes (0: none).
func (s *Store) MaxMemory() int64 { return s.maxMemory.Load() }

// SetMaxMemory changes the memory limit; the next write evicts down to it.
func (s *Store) SetMaxMemory(n int64) { s.maxMemory.Store(n) }

// Policy returns the eviction policy.
func (s *Store) Policy() Policy { return Policy(s.policy.Load()) }

// SetPolicy changes the eviction policy.
func (s *Store) SetPolicy(p Policy) { s.policy.Store(uint32(p)) }

// Samples returns maxmemory-samples.
func (s *Store) Samples() int { return int(s.samples.Load()) }

// SetSamples changes maxmemory-samples (1..64).
func (s *Store) SetSamples(n int) { s.samples.Store(int32(min(max(n, 1), 64))) }

// UsedMemory returns the estimated bytes held by entries.
func (s *Store) UsedMemory() int64 { return s.used.Load() }

// maxEvictionsPerCall bounds the work one write does on behalf of
// eviction, as Redis's eviction time limit does: after a large drop of
// maxmemory, the excess is evicted over the following writes.
const maxEvictionsPerCall = 1024

// Reserve makes room before a write, as Redis does before each command that
// may grow memory: while used memory exceeds maxmemory it evicts by the
// policy. It returns ErrOOM only when nothing can be evicted (noeviction,
// or no key the policy may evict) and memory is over the limit.
func (s *Store) Reserve() error {
	limit := s.maxMemory.Load()
	if limit == 0 || s.used.Load() <= limit {
		return nil
	}
	p := s.Policy()
	if p == NoEviction {
		return ErrOOM
	}
	for n := 0; n < maxEvictionsPerCall && s.used.Load() > limit; n++ {
		if !s.evictOne(p) {
			return ErrOOM
		}
	}
	return nil
}

// evictOne samples keys and deletes the best candidate for p. It reports
// false when no candidate was found.
func (s *Store) evictOne(p Policy) bool {
	samples := s.Samples()
	now := s.nowMs()
	clock := s.clock(now)
	var (
		best      string
		bestShard *shard
		bestSlot  int
		bestScore = math.Inf(-1)
	)
	// Sample one key from each of several random shards, skipping empty
	// shards; give up after one pass over all of them.
	start := rand.IntN(shardCount)
	for n, found := 0, 0; n < shardCount && found < samples; n++ {
		sh := &s.shards[(start+n)&(shardCount-1)]
		sh.mu.RLock()
		if sh.keys == 0 {
			sh.mu.RUnlock()
			continue
		}
		off := rand.IntN(groupsPerShard)
		before := found
		var want func(*entry) bool
		if p.volatileOnly() {
			want = isVolatile
		}
		for j := 0; j < groupsPerShard && found < samples; j++ {
			i := (off + j) % groupsPerShard
			if p.volatileOnly() && sh.volatile[i] == 0 {
				continue
			}
			if e := sh.groups[i].sample(rand.Int(), want); e != nil {
				found++
				if sc := score(p, e, clock, now); sc > bestScore {
					best, bestShard, bestSlot, bestScore = e.key(), sh, i, sc
				}
			}
			if found > before && !p.volatileOnly() {
				break // one sample per shard spreads samples over the key space
			}
		}
		sh.mu.RUnlock()
	}
	if bestShard == nil {
		return false
	}
	bestShard.mu.Lock()
	defer bestShard.mu.Unlock()
	e := bestShard.groups[bestSlot].get(best, s.hash(best))
	if e == nil {
		return true // deleted meanwhile: memory went down anyway
	}
	s.dropLocked(bestShard, bestSlot, e)
	s.evicted.Add(1)
	s.droppedLocked(e)
	return true
}

func isVolatile(e *entry) bool { return e.expireAt != 0 }

// score ranks an eviction candidate: higher goes first.
func score(p Policy, e *entry, clock uint32, now int64) float64 {
	switch p {
	case AllKeysLRU, VolatileLRU:
		return float64(clock - e.access())
	case AllKeysLFU, VolatileLFU:
		// Fewer accesses first; among equals, the longer idle.
		return float64(255-e.freq(clock))*(1<<32) + float64(clock-e.access())
	case VolatileTTL:
		// Sooner first. Negated rather than subtracted from MaxInt64, where
		// a float64 could not tell deadlines ~2 s apart.
		return -float64(e.expireAt)
	}
	return rand.Float64()
}
