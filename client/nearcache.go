package client

import (
	"container/list"
	"errors"
	"sync"
	"time"
)

// NearCache configures the client's optional near cache: values read with
// Get (and GetOrLoad, GetJSON) are kept in this process, bounded in
// entries and bytes, and served without a round trip until the server
// says they changed. The server tracks what the client read (RESP3 CLIENT
// TRACKING on a dedicated connection per node) and pushes an invalidation
// when another client writes one of those keys; the client's own writes
// drop its copies at once. A read in flight while an invalidation for its
// key arrives is not cached. Losing a tracking connection, a flush
// invalidation (FLUSHALL) or a change of the cluster's slot map empties
// the near cache.
//
// The guarantee: once another client's write is acknowledged and its
// invalidation has reached this client, no Get returns the old value;
// this client's own writes (Set, SetNX, Incr, Expire, Delete, MSet) are
// read back at once. Writes made through Redis() are seen when their
// invalidation arrives. MGet does not use the near cache. A slot that
// moves is noticed within Config.Refresh; until then a value cached from
// its old owner may be served (the old owner does not invalidate it).
type NearCache struct {
	// MaxEntries bounds the number of cached keys (0: no entry bound).
	MaxEntries int
	// MaxBytes bounds the bytes of the cached keys and values, counting
	// 96 more per entry for its bookkeeping (0: no byte bound). One of
	// MaxEntries and MaxBytes is needed.
	MaxBytes int64
	// MaxTTL bounds how long a value is served from the near cache, and
	// so how stale it may be if an invalidation is lost without the
	// connection that should have carried it failing. A key's own time to
	// live on the server bounds it too. Default: one minute.
	MaxTTL time.Duration
}

// DefaultNearCacheTTL is NearCache.MaxTTL when zero.
const DefaultNearCacheTTL = time.Minute

// entryOverhead is the bytes counted per entry beyond its key and value
// (map slot, list element, entry struct), for NearCache.MaxBytes.
const entryOverhead = 96

// validate reports the first invalid field.
func (n *NearCache) validate() error {
	switch {
	case n.MaxEntries < 0:
		return errors.New("client: near cache max entries: must not be negative")
	case n.MaxBytes < 0:
		return errors.New("client: near cache max bytes: must not be negative")
	case n.MaxEntries == 0 && n.MaxBytes == 0:
		return errors.New("client: near cache: max entries or max bytes must be set")
	case n.MaxTTL < 0:
		return errors.New("client: near cache max ttl: must not be negative")
	}
	return nil
}

// NearCacheEvent is what a Hooks.NearCache callback is told about.
type NearCacheEvent int

// Near cache events.
const (
	// NearHit: Get was answered from the near cache.
	NearHit NearCacheEvent = iota
	// NearMiss: Get went to the server.
	NearMiss
	// NearEviction: an entry was dropped to stay within the bounds.
	NearEviction
	// NearInvalidation: the server said a key changed (once per key named
	// in an invalidation message, cached or not).
	NearInvalidation
	// NearFlush: the near cache was emptied (lost connection, flush
	// invalidation, slot map change).
	NearFlush
)

// String names the event.
func (e NearCacheEvent) String() string {
	switch e {
	case NearHit:
		return "hit"
	case NearMiss:
		return "miss"
	case NearEviction:
		return "eviction"
	case NearInvalidation:
		return "invalidation"
	case NearFlush:
		return "flush"
	}
	return "unknown"
}

// NearCacheStats are the near cache's counters since the client started
// and its current size.
type NearCacheStats struct {
	Hits, Misses, Evictions, Invalidations, Flushes uint64
	Entries                                         int   // cached keys now
	Bytes                                           int64 // counted as for NearCache.MaxBytes
}

// nearEntry is a cached key, or a placeholder for a read in flight.
type nearEntry struct {
	key     string
	token   uint64 // the read that created the placeholder
	filled  bool   // false: a placeholder
	found   bool   // the key existed (a cached miss otherwise)
	val     []byte
	expires time.Time
	size    int64
	elem    *list.Element // in lru, when filled
}

// nearCache is the bounded store behind NearCache. Reads reserve a
// placeholder before they are sent; an invalidation or flush removes it,
// and a reply whose placeholder is gone is not cached: so a value read
// before a write, whose reply arrives after that write's invalidation, is
// never served.
type nearCache struct {
	cfg    NearCache
	now    func() time.Time
	notify func(NearCacheEvent) // Hooks.NearCache, or nil
	// beforeFill, when set, runs between a read's reply and its fill:
	// tests widen the window in which an invalidation may overtake it.
	beforeFill func(key string)

	mu      sync.Mutex // guards the fields below
	entries map[string]*nearEntry
	lru     *list.List // filled entries, most recently used first
	bytes   int64
	tokens  uint64 // last placeholder token handed out
	stats   NearCacheStats
}

func newNearCache(cfg NearCache, notify func(NearCacheEvent)) *nearCache {
	if cfg.MaxTTL == 0 {
		cfg.MaxTTL = DefaultNearCacheTTL
	}
	return &nearCache{cfg: cfg, now: time.Now, notify: notify, entries: map[string]*nearEntry{}, lru: list.New()}
}

// event counts ev (n times) and tells the hook; nc.mu must not be held.
func (nc *nearCache) event(ev NearCacheEvent, n int) {
	if nc.notify == nil {
		return
	}
	for range n {
		nc.notify(ev)
	}
}

// lookup returns the cached value of key: ok false on a miss; found false
// for a key cached as missing. The value is shared: callers copy it.
func (nc *nearCache) lookup(key string) (val []byte, found, ok bool) {
	nc.mu.Lock()
	e := nc.entries[key]
	if e != nil && e.filled && nc.now().Before(e.expires) {
		nc.lru.MoveToFront(e.elem)
		nc.stats.Hits++
		val, found = e.val, e.found
		nc.mu.Unlock()
		nc.event(NearHit, 1)
		return val, found, true
	}
	if e != nil && e.filled {
		nc.removeLocked(e)
	}
	nc.stats.Misses++
	nc.mu.Unlock()
	nc.event(NearMiss, 1)
	return nil, false, false
}

// reserve returns the token a read of key must present to fill: the
// placeholder's, made now unless one is waiting already (concurrent reads
// of a key share it: any of their replies is as fresh as the placeholder).
func (nc *nearCache) reserve(key string) uint64 {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if e := nc.entries[key]; e != nil {
		if !e.filled {
			return e.token
		}
		nc.removeLocked(e) // expired, or refreshed by a concurrent read
	}
	nc.tokens++
	nc.entries[key] = &nearEntry{key: key, token: nc.tokens}
	return nc.tokens
}

// fill caches a read of key made under token, if nothing invalidated key
// since the token was reserved. ttl < 0: the key has no time to live.
func (nc *nearCache) fill(key string, token uint64, val []byte, found bool, ttl time.Duration) {
	if nc.beforeFill != nil {
		nc.beforeFill(key)
	}
	nc.mu.Lock()
	e := nc.entries[key]
	if e == nil || e.token != token {
		nc.mu.Unlock()
		return
	}
	life := nc.cfg.MaxTTL
	if ttl >= 0 {
		life = min(life, ttl)
	}
	size := int64(len(key)+len(val)) + entryOverhead
	if life <= 0 || (nc.cfg.MaxBytes > 0 && size > nc.cfg.MaxBytes) {
		nc.removeLocked(e)
		nc.mu.Unlock()
		return
	}
	if e.filled {
		nc.bytes -= e.size
		nc.lru.MoveToFront(e.elem)
	} else {
		e.filled = true
		e.elem = nc.lru.PushFront(e)
		nc.stats.Entries++
	}
	e.found, e.val, e.size, e.expires = found, val, size, nc.now().Add(life)
	nc.bytes += size
	evicted := 0
	for nc.overLocked() {
		nc.removeLocked(nc.lru.Back().Value.(*nearEntry))
		evicted++
	}
	nc.stats.Evictions += uint64(evicted)
	nc.mu.Unlock()
	nc.event(NearEviction, evicted)
}

// overLocked reports whether the cache is past a bound.
func (nc *nearCache) overLocked() bool {
	return (nc.cfg.MaxEntries > 0 && nc.stats.Entries > nc.cfg.MaxEntries) ||
		(nc.cfg.MaxBytes > 0 && nc.bytes > nc.cfg.MaxBytes)
}

// cancel drops the placeholder of a read under token that failed.
func (nc *nearCache) cancel(key string, token uint64) {
	nc.mu.Lock()
	if e := nc.entries[key]; e != nil && !e.filled && e.token == token {
		delete(nc.entries, key)
	}
	nc.mu.Unlock()
}

// forget drops keys (cached values and placeholders alike): the client
// wrote them itself.
func (nc *nearCache) forget(keys ...string) {
	nc.mu.Lock()
	for _, k := range keys {
		if e := nc.entries[k]; e != nil {
			nc.removeLocked(e)
		}
	}
	nc.mu.Unlock()
}

// invalidate drops keys the server said changed.
func (nc *nearCache) invalidate(keys []string) {
	nc.forget(keys...)
	nc.mu.Lock()
	nc.stats.Invalidations += uint64(len(keys))
	nc.mu.Unlock()
	nc.event(NearInvalidation, len(keys))
}

// flush empties the cache, placeholders included.
func (nc *nearCache) flush() {
	nc.mu.Lock()
	clear(nc.entries)
	nc.lru.Init()
	nc.bytes = 0
	nc.stats.Entries = 0
	nc.stats.Flushes++
	nc.mu.Unlock()
	nc.event(NearFlush, 1)
}

// removeLocked deletes e from the cache.
func (nc *nearCache) removeLocked(e *nearEntry) {
	delete(nc.entries, e.key)
	if e.filled {
		nc.lru.Remove(e.elem)
		nc.bytes -= e.size
		nc.stats.Entries--
	}
}

// snapshot returns the counters and size.
func (nc *nearCache) snapshot() NearCacheStats {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	s := nc.stats
	s.Bytes = nc.bytes
	return s
}
