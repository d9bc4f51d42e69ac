package store

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cached/cached/ring"
)

// fakeClock is an injected clock that moves only when a test advances it.
type fakeClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

// newFakeClock starts at a realistic wall time, so deadlines have the
// magnitude (≈1.7e12 ms) they have in production.
func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Ms returns the clock's current Unix time in milliseconds.
func (c *fakeClock) Ms() int64 { return c.Now().UnixMilli() }

// newTestStore returns a store on a fake clock, closed when the test ends.
// edit, when not nil, changes the configuration first.
func newTestStore(t testing.TB, edit func(*Config)) (*Store, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	cfg := DefaultConfig()
	cfg.Now = clk.Now
	cfg.Logger = slog.New(slog.DiscardHandler)
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, clk
}

// set stores val under key unconditionally, failing the test on error.
func set(t testing.TB, s *Store, key, val string) {
	t.Helper()
	if _, _, ok, err := s.Set([]byte(key), []byte(val), SetOptions{}); err != nil || !ok {
		t.Fatalf("Set(%q) = %v, %v", key, ok, err)
	}
}

// setEx stores val under key with the absolute deadline at (Unix ms).
func setEx(t testing.TB, s *Store, key, val string, at int64) {
	t.Helper()
	if _, _, ok, err := s.Set([]byte(key), []byte(val), SetOptions{ExpireAt: at}); err != nil || !ok {
		t.Fatalf("Set(%q, PXAT %d) = %v, %v", key, at, ok, err)
	}
}

// wantValue checks that key holds want (ok) or is missing (!ok).
func wantValue(t testing.TB, s *Store, key, want string, ok bool) {
	t.Helper()
	got, found, err := s.Get([]byte(key))
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if found != ok || string(got) != want {
		t.Fatalf("Get(%q) = %q, %v; want %q, %v", key, got, found, want, ok)
	}
}

// checkInvariants recomputes the store's bookkeeping from its maps and
// compares: used memory, per-shard key counts, per-group volatile counts,
// per-slot key counts, that each key lives in its slot's group, and that
// each key shares one allocation with its value (so the accounting
// describes the heap really held).
func checkInvariants(t testing.TB, s *Store) {
	t.Helper()
	var used int64
	for si := range s.shards {
		sh := &s.shards[si]
		sh.mu.RLock()
		keys := 0
		slotKeys := map[int]int32{}
		for i := range sh.groups {
			tb := &sh.groups[i]
			var volatile int32
			n := 0
			for e := range tb.all() {
				n++
				k := e.key()
				used += e.bytes()
				if got := tb.get(k, s.hash(k)); got != e {
					t.Errorf("key %q: lookup finds %p, want %p", k, got, e)
				}
				if e.expireAt != 0 {
					volatile++
				}
				if int(e.slot) != ring.SlotString(k) {
					t.Errorf("key %q: entry slot %d, want %d", k, e.slot, ring.SlotString(k))
				}
				slotKeys[int(e.slot)]++
				if want := i<<shardBits | si; ring.SlotString(k)&(groupCount-1) != want {
					t.Errorf("key %q stored in group %d, belongs in %d", k, want, ring.SlotString(k)&(groupCount-1))
				}
			}
			if n != tb.live {
				t.Errorf("shard %d group %d: live = %d, counted %d", si, i, tb.live, n)
			}
			if tb.live+tb.dead > 0 && 4*(tb.live+tb.dead) > 3*len(tb.slots) {
				t.Errorf("shard %d group %d: %d live + %d dead in %d slots", si, i, tb.live, tb.dead, len(tb.slots))
			}
			if volatile != sh.volatile[i] {
				t.Errorf("shard %d group %d: volatile = %d, counted %d", si, i, sh.volatile[i], volatile)
			}
			keys += n
		}
		if keys != sh.keys {
			t.Errorf("shard %d: keys = %d, counted %d", si, sh.keys, keys)
		}
		for slot := si; slot < ring.SlotCount; slot += shardCount {
			if s.slotKeys[slot] != slotKeys[slot] {
				t.Errorf("slot %d: key count %d, counted %d", slot, s.slotKeys[slot], slotKeys[slot])
			}
		}
		sh.mu.RUnlock()
	}
	if got := s.UsedMemory(); got != used {
		t.Errorf("UsedMemory() = %d, entries hold %d", got, used)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Config)
		field string // "" when valid
	}{
		{"default", func(*Config) {}, ""},
		{"limit", func(c *Config) { c.MaxMemory = 1 << 20 }, ""},
		{"every policy", func(c *Config) { c.Policy = VolatileRandom }, ""},
		{"samples 1", func(c *Config) { c.Samples = 1 }, ""},
		{"samples 64", func(c *Config) { c.Samples = 64 }, ""},
		{"nil logger", func(c *Config) { c.Logger = nil }, ""},
		{"negative maxmemory", func(c *Config) { c.MaxMemory = -1 }, "maxmemory"},
		{"unknown policy", func(c *Config) { c.Policy = VolatileRandom + 1 }, "maxmemory-policy"},
		{"samples 0", func(c *Config) { c.Samples = 0 }, "maxmemory-samples"},
		{"samples 65", func(c *Config) { c.Samples = 65 }, "maxmemory-samples"},
		{"zero interval", func(c *Config) { c.ExpiryInterval = 0 }, "expiry interval"},
		{"negative interval", func(c *Config) { c.ExpiryInterval = -time.Second }, "expiry interval"},
		{"system clock", func(c *Config) { c.Now = nil }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.edit(&cfg)
			err := cfg.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				s, err := New(cfg)
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				s.Close()
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error naming %q", tt.field)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Validate() = %q, want it to name %q", err, tt.field)
			}
			if _, err := New(cfg); err == nil {
				t.Errorf("New accepted an invalid config")
			}
		})
	}
}

func TestStartClose(t *testing.T) {
	tests := []struct {
		name string
		run  func(s *Store) error
	}{
		{"close without start", func(s *Store) error { return s.Close() }},
		{"close twice", func(s *Store) error {
			s.Start()
			if err := s.Close(); err != nil {
				return err
			}
			return s.Close()
		}},
		{"start twice", func(s *Store) error {
			s.Start()
			s.Start()
			return s.Close()
		}},
		{"start after close", func(s *Store) error {
			if err := s.Close(); err != nil {
				return err
			}
			s.Start()
			return s.Close()
		}},
		{"concurrent close", func(s *Store) error {
			s.Start()
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for range 4 {
				wg.Go(func() { errs <- s.Close() })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					return err
				}
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestStore(t, nil)
			done := make(chan error, 1)
			go func() { done <- tt.run(s) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Close: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Start/Close did not return")
			}
		})
	}
}

func TestStats(t *testing.T) {
	s, clk := newTestStore(t, nil)
	set(t, s, "a", "1")
	setEx(t, s, "b", "2", clk.Ms()+1000)
	setEx(t, s, "c", "3", clk.Ms()+5000)
	s.Get([]byte("a"))
	s.Get([]byte("a"))
	s.Get([]byte("missing"))
	clk.Advance(2 * time.Second)
	s.Get([]byte("b")) // expired: a miss that deletes it

	got := s.Stats()
	want := Stats{
		Keys:         2,
		VolatileKeys: 1,
		UsedMemory:   s.UsedMemory(),
		Hits:         2,
		Misses:       2,
		ExpiredKeys:  1,
	}
	if got != want {
		t.Fatalf("Stats() = %+v, want %+v", got, want)
	}

	s.ResetStats()
	got = s.Stats()
	want.Hits, want.Misses, want.ExpiredKeys = 0, 0, 0
	if got != want {
		t.Fatalf("after ResetStats: Stats() = %+v, want %+v", got, want)
	}
	checkInvariants(t, s)
}

func TestFlush(t *testing.T) {
	s, clk := newTestStore(t, nil)
	for i := range 500 {
		k := fmt.Sprintf("key:%d", i)
		if i%2 == 0 {
			setEx(t, s, k, strings.Repeat("v", i), clk.Ms()+int64(i+1)*1000)
		} else {
			set(t, s, k, strings.Repeat("v", i))
		}
	}
	if s.UsedMemory() <= 0 || s.Len() != 500 {
		t.Fatalf("before Flush: UsedMemory() = %d, Len() = %d", s.UsedMemory(), s.Len())
	}
	s.Flush()
	if got := s.UsedMemory(); got != 0 {
		t.Errorf("after Flush: UsedMemory() = %d, want 0", got)
	}
	if got := s.Len(); got != 0 {
		t.Errorf("after Flush: Len() = %d, want 0", got)
	}
	if st := s.Stats(); st.Keys != 0 || st.VolatileKeys != 0 {
		t.Errorf("after Flush: Stats() = %+v", st)
	}
	checkInvariants(t, s)
	// The store stays usable.
	set(t, s, "key:1", "again")
	wantValue(t, s, "key:1", "again", true)
	checkInvariants(t, s)
}

// TestMemoryAccounting runs every operation that changes memory and checks
// after each that the accounting matches the entries, and that it returns to
// exactly zero once everything is gone.
func TestMemoryAccounting(t *testing.T) {
	s, clk := newTestStore(t, nil)
	k := func(s string) []byte { return []byte(s) }
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"set", func(t *testing.T) {
			for i := range 100 {
				set(t, s, fmt.Sprintf("s:%d", i), strings.Repeat("x", i*7))
			}
		}},
		{"set volatile", func(t *testing.T) {
			for i := range 100 {
				setEx(t, s, fmt.Sprintf("v:%d", i), strings.Repeat("y", i), clk.Ms()+int64(1+i%3)*1000)
			}
		}},
		{"overwrite larger and smaller", func(t *testing.T) {
			for i := range 100 {
				set(t, s, fmt.Sprintf("s:%d", i), strings.Repeat("z", (99-i)*5))
			}
		}},
		{"set keepttl", func(t *testing.T) {
			for i := range 10 {
				s.Set(k(fmt.Sprintf("v:%d", i)), k("kept"), SetOptions{KeepTTL: true})
			}
		}},
		{"append grow and in place", func(t *testing.T) {
			for range 50 {
				if _, err := s.Append(k("log"), k("entry;")); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Append(k("s:3"), k("tail")); err != nil {
				t.Fatal(err)
			}
		}},
		{"setrange", func(t *testing.T) {
			if _, err := s.SetRange(k("log"), 1000, k("far")); err != nil {
				t.Fatal(err)
			}
			if _, err := s.SetRange(k("new"), 3, k("abc")); err != nil {
				t.Fatal(err)
			}
			if _, err := s.SetRange(k("s:5"), 0, k("head")); err != nil {
				t.Fatal(err)
			}
		}},
		{"incr", func(t *testing.T) {
			for range 20 {
				if _, err := s.IncrBy(k("n"), 1<<40); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.IncrByFloat(k("f"), []byte("1.5")); err != nil {
				t.Fatal(err)
			}
			if _, err := s.IncrByFloat(k("f"), []byte("1e10")); err != nil {
				t.Fatal(err)
			}
		}},
		{"rename", func(t *testing.T) {
			if _, err := s.Rename(k("s:10"), k("renamed:10"), false); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Rename(k("v:50"), k("s:11"), false); err != nil { // over an existing key
				t.Fatal(err)
			}
			if _, err := s.Rename(k("log"), k("log"), false); err != nil {
				t.Fatal(err)
			}
		}},
		{"copy", func(t *testing.T) {
			s.Copy(k("s:20"), k("copy:20"), false)
			s.Copy(k("v:60"), k("s:21"), true)
			s.Copy(k("log"), k("copy:log"), false)
		}},
		{"mset", func(t *testing.T) {
			s.MSet([][]byte{k("m:1"), k("one"), k("s:30"), k("thirty"), k("m:1"), k("uno")}, false)
		}},
		{"getdel getex", func(t *testing.T) {
			s.GetDel(k("s:40"))
			s.GetEx(k("s:41"), ExpireChange{Set: true, At: clk.Ms() - 1})
			s.GetEx(k("s:42"), ExpireChange{Set: true, At: clk.Ms() + 500})
			s.GetEx(k("v:70"), ExpireChange{Persist: true})
		}},
		{"expire persist", func(t *testing.T) {
			s.Expire(k("s:50"), clk.Ms()-1, ExpireCond(0))
			s.Expire(k("s:51"), clk.Ms()+2500, ExpireCond(0))
			s.Persist(k("v:80"))
		}},
		{"lazy expiry", func(t *testing.T) {
			clk.Advance(1100 * time.Millisecond)
			for i := range 100 {
				s.Get(k(fmt.Sprintf("v:%d", i)))
			}
		}},
		{"active expiry", func(t *testing.T) {
			clk.Advance(2 * time.Second)
			s.ExpireCycle(0, time.Hour)
		}},
		{"delete everything", func(t *testing.T) {
			for _, key := range s.Keys("*") {
				s.Del([]byte(key))
			}
			// Expired keys Keys skips.
			clk.Advance(time.Hour)
			s.ExpireCycle(0, time.Hour)
			if got := s.UsedMemory(); got != 0 {
				t.Errorf("UsedMemory() = %d, want 0", got)
			}
			if got := s.Len(); got != 0 {
				t.Errorf("Len() = %d, want 0", got)
			}
		}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			before := s.UsedMemory()
			step.run(t)
			checkInvariants(t, s)
			t.Logf("used memory %d -> %d", before, s.UsedMemory())
		})
	}
}

func TestEntryBytes(t *testing.T) {
	// The header: deadline, version, access record, three lengths, kind
	// and slot, with no pointer in it.
	if entryHeader != 40 {
		t.Fatalf("entry header is %d bytes, want 40", entryHeader)
	}
	tests := []struct {
		klen, vcap int
		want       int64
	}{
		{0, 0, indexBytes + 48},
		{1, 0, indexBytes + 48},
		{3, 5, indexBytes + 48},
		{3, 6, indexBytes + 64},
		{10, 100, indexBytes + 160},
		{0, 1024 - 40, indexBytes + 1024},
		{0, 1025 - 40, indexBytes + 1152},
		{0, 40000, indexBytes + 40960},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d+%d", tt.klen, tt.vcap), func(t *testing.T) {
			if got := entryBytes(tt.klen, tt.vcap); got != tt.want {
				t.Errorf("entryBytes(%d, %d) = %d, want %d", tt.klen, tt.vcap, got, tt.want)
			}
		})
	}
	// allocSize never rounds down and is monotonic.
	prev := 0
	for n := range 70000 {
		got := allocSize(n)
		if got < n || got < prev {
			t.Fatalf("allocSize(%d) = %d (previous %d)", n, got, prev)
		}
		prev = got
	}
}

// TestSysClock: the one-read clock agrees with time.Now to the millisecond
// (the two reads are not simultaneous), before and after a resync.
func TestSysClock(t *testing.T) {
	c := newSysClock()
	for range 2 {
		before := time.Now().UnixMilli()
		got := c.nowMs()
		after := time.Now().UnixMilli()
		if got < before-1 || got > after+1 {
			t.Fatalf("nowMs = %d, time.Now gave %d..%d", got, before, after)
		}
		c.wall.Add(int64(time.Hour)) // a clock off by an hour is realigned
		c.resync()
	}
}

// TestSystemClockReads: on the system clock a read of a key with a
// deadline still checks it against the precise clock (only the access
// time of a key without one comes from the sweep's coarser clock).
func TestSystemClockReads(t *testing.T) {
	s, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Set([]byte("plain"), []byte("v"), SetOptions{})
	s.Set([]byte("brief"), []byte("v"), SetOptions{ExpireAt: s.Now() + 30})
	for _, key := range []string{"plain", "brief"} {
		if v, ok, err := s.Get([]byte(key)); err != nil || !ok || string(v) != "v" {
			t.Fatalf("GET %s = %q, %v, %v", key, v, ok, err)
		}
	}
	time.Sleep(50 * time.Millisecond) // no sweep runs: the store is not started
	if _, ok, _ := s.Get([]byte("brief")); ok {
		t.Fatal("a key read 20 ms past its deadline is still there")
	}
	if err := s.ViewObject([]byte("brief"), KindHash, func(o Collection) error {
		if o != nil {
			t.Fatal("ViewObject found an expired key")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Get([]byte("plain")); !ok {
		t.Fatal("a key without a deadline is gone")
	}
}
