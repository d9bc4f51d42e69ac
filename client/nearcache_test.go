package client

import (
	"fmt"
	"testing"
	"time"
)

func testNearCache(cfg NearCache) (*nearCache, *time.Time) {
	now := time.Unix(1000, 0)
	nc := newNearCache(cfg, nil)
	nc.now = func() time.Time { return now }
	return nc, &now
}

// TestNearCacheInFlight: a read whose placeholder an invalidation, a
// flush or the client's own write removed is not cached.
func TestNearCacheInFlight(t *testing.T) {
	cases := []struct {
		name   string
		during func(nc *nearCache)
		cached bool
	}{
		{"nothing happens", func(*nearCache) {}, true},
		{"invalidation of the key", func(nc *nearCache) { nc.invalidate([]string{"k"}) }, false},
		{"invalidation of another key", func(nc *nearCache) { nc.invalidate([]string{"other"}) }, true},
		{"flush", func(nc *nearCache) { nc.flush() }, false},
		{"own write", func(nc *nearCache) { nc.forget("k") }, false},
		{"invalidated, then read again", func(nc *nearCache) { nc.invalidate([]string{"k"}); nc.reserve("k") }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc, _ := testNearCache(NearCache{MaxEntries: 10})
			token := nc.reserve("k")
			tc.during(nc)
			nc.fill("k", token, []byte("old"), true, -1)
			val, _, ok := nc.lookup("k")
			if ok != tc.cached {
				t.Fatalf("cached = %v (%q), want %v", ok, val, tc.cached)
			}
		})
	}
	t.Run("concurrent reads share the placeholder", func(t *testing.T) {
		nc, _ := testNearCache(NearCache{MaxEntries: 10})
		a, b := nc.reserve("k"), nc.reserve("k")
		if a != b {
			t.Fatalf("tokens %d and %d", a, b)
		}
		nc.fill("k", b, []byte("v"), true, -1)
		if v, found, ok := nc.lookup("k"); !ok || !found || string(v) != "v" {
			t.Fatalf("lookup = %q %v %v", v, found, ok)
		}
	})
	t.Run("a failed read leaves nothing", func(t *testing.T) {
		nc, _ := testNearCache(NearCache{MaxEntries: 10})
		token := nc.reserve("k")
		nc.cancel("k", token)
		if len(nc.entries) != 0 {
			t.Fatalf("%d entries after cancel", len(nc.entries))
		}
	})
	t.Run("a missing key is cached as missing", func(t *testing.T) {
		nc, _ := testNearCache(NearCache{MaxEntries: 10})
		nc.fill("k", nc.reserve("k"), nil, false, -1)
		if _, found, ok := nc.lookup("k"); !ok || found {
			t.Fatalf("lookup found %v ok %v", found, ok)
		}
	})
}

// TestNearCacheBounds: entries beyond MaxEntries or MaxBytes evict the
// least recently used.
func TestNearCacheBounds(t *testing.T) {
	var events []NearCacheEvent
	nc := newNearCache(NearCache{MaxEntries: 3}, func(e NearCacheEvent) { events = append(events, e) })
	for i := range 3 {
		k := fmt.Sprint(i)
		nc.fill(k, nc.reserve(k), []byte(k), true, -1)
	}
	nc.lookup("0") // 0 is now the most recent; 1 the least
	nc.fill("3", nc.reserve("3"), []byte("3"), true, -1)
	if _, _, ok := nc.lookup("1"); ok {
		t.Fatal("the least recently used entry was not evicted")
	}
	for _, k := range []string{"0", "2", "3"} {
		if _, _, ok := nc.lookup(k); !ok {
			t.Fatalf("%s was evicted", k)
		}
	}
	s := nc.snapshot()
	if s.Entries != 3 || s.Evictions != 1 || s.Hits != 4 || s.Misses != 1 {
		t.Fatalf("stats %+v", s)
	}
	evictions := 0
	for _, e := range events {
		if e == NearEviction {
			evictions++
		}
	}
	if evictions != 1 {
		t.Fatalf("%d eviction events", evictions)
	}

	per := int64(1 + 100 + entryOverhead) // a one-byte key, 100-byte value
	nb := newNearCache(NearCache{MaxBytes: 2 * per}, nil)
	for _, k := range []string{"a", "b", "c"} {
		nb.fill(k, nb.reserve(k), make([]byte, 100), true, -1)
	}
	if s := nb.snapshot(); s.Entries != 2 || s.Bytes != 2*per || s.Evictions != 1 {
		t.Fatalf("byte bound: stats %+v", s)
	}
	nb.fill("big", nb.reserve("big"), make([]byte, 2*per), true, -1)
	if _, _, ok := nb.lookup("big"); ok {
		t.Fatal("a value larger than MaxBytes was cached")
	}
	if s := nb.snapshot(); s.Entries != 2 {
		t.Fatalf("an oversized value evicted others: %+v", s)
	}
}

// TestNearCacheTTL: an entry lives MaxTTL at most, and no longer than the
// key's own time to live.
func TestNearCacheTTL(t *testing.T) {
	nc, now := testNearCache(NearCache{MaxEntries: 10, MaxTTL: time.Second})
	nc.fill("long", nc.reserve("long"), []byte("v"), true, time.Hour)
	nc.fill("short", nc.reserve("short"), []byte("v"), true, 100*time.Millisecond)
	nc.fill("none", nc.reserve("none"), []byte("v"), true, -1)
	nc.fill("expiring", nc.reserve("expiring"), []byte("v"), true, 0)
	if _, _, ok := nc.lookup("expiring"); ok {
		t.Fatal("a key expiring now was cached")
	}
	*now = now.Add(100 * time.Millisecond)
	if _, _, ok := nc.lookup("short"); ok {
		t.Fatal("served past the key's time to live")
	}
	if _, _, ok := nc.lookup("long"); !ok {
		t.Fatal("expired early")
	}
	*now = now.Add(900 * time.Millisecond)
	for _, k := range []string{"long", "none"} {
		if _, _, ok := nc.lookup(k); ok {
			t.Fatalf("%s served past MaxTTL", k)
		}
	}
	if s := nc.snapshot(); s.Entries != 0 || s.Bytes != 0 {
		t.Fatalf("expired entries kept: %+v", s)
	}
}

func TestNearCacheConfig(t *testing.T) {
	cases := []struct {
		cfg NearCache
		ok  bool
	}{
		{NearCache{MaxEntries: 1}, true},
		{NearCache{MaxBytes: 1}, true},
		{NearCache{}, false},
		{NearCache{MaxEntries: -1, MaxBytes: 10}, false},
		{NearCache{MaxBytes: -1, MaxEntries: 10}, false},
		{NearCache{MaxEntries: 1, MaxTTL: -1}, false},
	}
	for _, tc := range cases {
		cfg := DefaultConfig("x")
		cfg.NearCache = &tc.cfg
		if err := cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate = %v", tc.cfg, err)
		}
	}
}
