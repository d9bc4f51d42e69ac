package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cached/cached/ring"
)

func TestPolicyNames(t *testing.T) {
	tests := []struct {
		p        Policy
		name     string
		lfu      bool
		volatile bool
	}{
		{NoEviction, "noeviction", false, false},
		{AllKeysLRU, "allkeys-lru", false, false},
		{AllKeysLFU, "allkeys-lfu", true, false},
		{AllKeysRandom, "allkeys-random", false, false},
		{VolatileLRU, "volatile-lru", false, true},
		{VolatileLFU, "volatile-lfu", true, true},
		{VolatileTTL, "volatile-ttl", false, true},
		{VolatileRandom, "volatile-random", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.name {
				t.Errorf("String() = %q, want %q", got, tt.name)
			}
			p, err := ParsePolicy(tt.name)
			if err != nil || p != tt.p {
				t.Errorf("ParsePolicy(%q) = %v, %v; want %v", tt.name, p, err, tt.p)
			}
			if got := tt.p.LFU(); got != tt.lfu {
				t.Errorf("LFU() = %v, want %v", got, tt.lfu)
			}
			if got := tt.p.volatileOnly(); got != tt.volatile {
				t.Errorf("volatileOnly() = %v, want %v", got, tt.volatile)
			}
		})
	}
	for _, bad := range []string{"", "lru", "ALLKEYS-LRU", "allkeys-lru ", "volatile-"} {
		t.Run("bad "+bad, func(t *testing.T) {
			if p, err := ParsePolicy(bad); err == nil {
				t.Errorf("ParsePolicy(%q) = %v, nil; want an error", bad, p)
			}
		})
	}
	if got := Policy(99).String(); got != "policy(99)" {
		t.Errorf("Policy(99).String() = %q", got)
	}
}

func TestLimitsSetters(t *testing.T) {
	s, _ := newTestStore(t, nil)
	if s.MaxMemory() != 0 || s.Policy() != AllKeysLFU || s.Samples() != 5 {
		t.Fatalf("defaults: %d %v %d", s.MaxMemory(), s.Policy(), s.Samples())
	}
	s.SetMaxMemory(1 << 20)
	s.SetPolicy(VolatileTTL)
	if s.MaxMemory() != 1<<20 || s.Policy() != VolatileTTL {
		t.Errorf("after setters: %d %v", s.MaxMemory(), s.Policy())
	}
	for _, tt := range []struct{ in, want int }{{0, 1}, {-5, 1}, {1, 1}, {10, 10}, {64, 64}, {65, 64}, {1000, 64}} {
		s.SetSamples(tt.in)
		if got := s.Samples(); got != tt.want {
			t.Errorf("SetSamples(%d): Samples() = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// Eviction tests store values of evictVal bytes under keys of evictKeyLen
// bytes, so each entry is accounted evictEntry bytes.
const (
	evictKeyLen = 9 // "key:00000"
	evictValLen = 100
)

var (
	evictVal   = strings.Repeat("v", evictValLen)
	evictEntry = entryBytes(evictKeyLen, evictValLen)
)

func evictKey(prefix byte, i int) string { return fmt.Sprintf("%c:%07d", prefix, i) }

// reserveSet does what the server does for a write: Reserve, then Set unless
// Reserve refused. It checks that a successful Reserve left used memory
// within the limit.
func reserveSet(t testing.TB, s *Store, key string, at int64) error {
	t.Helper()
	if err := s.Reserve(); err != nil {
		if !errors.Is(err, ErrOOM) {
			t.Fatalf("Reserve: %v, want nil or ErrOOM", err)
		}
		return err
	}
	if used, limit := s.UsedMemory(), s.MaxMemory(); limit != 0 && used > limit {
		t.Fatalf("after Reserve: UsedMemory() = %d > MaxMemory() = %d", used, limit)
	}
	setEx(t, s, key, evictVal, at)
	return nil
}

func TestReserveWithoutLimit(t *testing.T) {
	s, _ := newTestStore(t, func(c *Config) { c.Policy = NoEviction })
	for i := range 1000 {
		if err := reserveSet(t, s, evictKey('k', i), 0); err != nil {
			t.Fatalf("Reserve without a limit: %v", err)
		}
	}
	if st := s.Stats(); st.Keys != 1000 || st.EvictedKeys != 0 {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestNoEviction(t *testing.T) {
	const capacity = 50
	s, _ := newTestStore(t, func(c *Config) {
		c.Policy = NoEviction
		c.MaxMemory = capacity * evictEntry
	})
	var written []string
	ooms := 0
	for i := range 200 {
		k := evictKey('k', i)
		if err := reserveSet(t, s, k, 0); err != nil {
			ooms++
			continue
		}
		written = append(written, k)
	}
	// Reserve runs before the write, so one write may pass the limit.
	if len(written) != capacity+1 || ooms != 200-len(written) {
		t.Errorf("%d writes accepted, %d refused; want %d accepted", len(written), ooms, capacity+1)
	}
	for _, k := range written {
		wantValue(t, s, k, evictVal, true)
	}
	if st := s.Stats(); st.EvictedKeys != 0 || st.Keys != int64(len(written)) {
		t.Errorf("Stats() = %+v", st)
	}
	// Freeing memory lets writes in again.
	s.Del([]byte(written[0]))
	s.Del([]byte(written[1]))
	if err := s.Reserve(); err != nil {
		t.Errorf("Reserve after deleting = %v, want nil", err)
	}
	checkInvariants(t, s)
}

// TestEvictionKeepsHotKeys fills a store far past its limit while reading a
// small hot set between writes: LRU and LFU must keep the hot set, random
// eviction must at least stay under the limit.
func TestEvictionKeepsHotKeys(t *testing.T) {
	const (
		capacity = 200
		hot      = 20
		writes   = 2000
	)
	tests := []struct {
		policy  Policy
		minHot  int // hot keys that must survive
		checkLo bool
	}{
		{AllKeysLRU, hot * 7 / 10, true},
		{AllKeysLFU, hot * 7 / 10, true},
		{AllKeysRandom, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.policy.String(), func(t *testing.T) {
			s, clk := newTestStore(t, func(c *Config) {
				c.Policy = tt.policy
				c.MaxMemory = capacity * evictEntry
			})
			for i := range hot {
				if err := reserveSet(t, s, evictKey('h', i), 0); err != nil {
					t.Fatal(err)
				}
			}
			for i := range writes {
				clk.Advance(time.Millisecond) // access times are in ms
				if err := reserveSet(t, s, evictKey('c', i), 0); err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
				for j := range hot {
					s.Get([]byte(evictKey('h', j)))
				}
			}
			hotLeft := 0
			for j := range hot {
				if s.Exists([]byte(evictKey('h', j))) {
					hotLeft++
				}
			}
			coldLeft := s.Len() - hotLeft
			st := s.Stats()
			t.Logf("%v: %d/%d hot keys and %d/%d cold keys survive; %d evicted",
				tt.policy, hotLeft, hot, coldLeft, writes, st.EvictedKeys)
			if st.EvictedKeys < writes-capacity {
				t.Errorf("EvictedKeys = %d, want at least %d", st.EvictedKeys, writes-capacity)
			}
			if s.Len() > capacity+1 {
				t.Errorf("Len() = %d, want at most %d", s.Len(), capacity+1)
			}
			if hotLeft < tt.minHot {
				t.Errorf("%d of %d hot keys survive, want at least %d", hotLeft, hot, tt.minHot)
			}
			if tt.checkLo {
				hotRate := float64(hotLeft) / hot
				coldRate := float64(coldLeft) / writes
				if hotRate < 5*coldRate {
					t.Errorf("hot keys survive at %.2f, cold at %.2f: policy does not prefer hot keys", hotRate, coldRate)
				}
			}
			checkInvariants(t, s)
		})
	}
}

// TestLRUEvictsOldest checks that with many samples LRU eviction is close to
// exact: the least recently used keys go first. It would fail if eviction
// looked at far fewer keys than Samples says.
func TestLRUEvictsOldest(t *testing.T) {
	const (
		n    = 200
		keep = 100
	)
	for _, p := range []Policy{AllKeysLRU, VolatileLRU, AllKeysLFU, VolatileLFU} {
		t.Run(p.String(), func(t *testing.T) {
			s, clk := newTestStore(t, func(c *Config) {
				c.Policy = p
				c.Samples = 64
			})
			// Keys are written in random order, then read in key order, so
			// the access order is unrelated to the write order and placement.
			for _, i := range rand.Perm(n) {
				setEx(t, s, evictKey('k', i), evictVal, clk.Ms()+int64(time.Hour/time.Millisecond))
			}
			for i := range n {
				clk.Advance(time.Millisecond)
				s.Touch([]byte(evictKey('k', i)))
			}
			s.SetMaxMemory(keep * evictEntry)
			if err := s.Reserve(); err != nil {
				t.Fatalf("Reserve: %v", err)
			}
			oldGone, newKept := 0, 0
			for i := range n / 4 {
				if !s.Exists([]byte(evictKey('k', i))) {
					oldGone++
				}
				if s.Exists([]byte(evictKey('k', n-1-i))) {
					newKept++
				}
			}
			t.Logf("%d/%d oldest evicted, %d/%d newest kept", oldGone, n/4, newKept, n/4)
			if oldGone < n/4*9/10 || newKept < n/4*9/10 {
				t.Errorf("%d/%d oldest keys evicted and %d/%d newest kept; want 90%% each", oldGone, n/4, newKept, n/4)
			}
			checkInvariants(t, s)
		})
	}
}

// TestVolatilePolicies checks that volatile-* policies evict only keys with a
// deadline, and fail with ErrOOM once only persistent keys remain.
func TestVolatilePolicies(t *testing.T) {
	const (
		capacity   = 200
		persistent = 100
		writes     = 1000
	)
	for _, p := range []Policy{VolatileLRU, VolatileLFU, VolatileTTL, VolatileRandom} {
		t.Run(p.String(), func(t *testing.T) {
			s, clk := newTestStore(t, func(c *Config) {
				c.Policy = p
				c.MaxMemory = capacity * evictEntry
			})
			for i := range persistent {
				if err := reserveSet(t, s, evictKey('p', i), 0); err != nil {
					t.Fatal(err)
				}
			}
			hour := clk.Ms() + int64(time.Hour/time.Millisecond)
			for i := range writes {
				clk.Advance(time.Millisecond)
				if err := reserveSet(t, s, evictKey('v', i), hour+int64(rand.IntN(100_000))); err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
			}
			for i := range persistent {
				if !s.Exists([]byte(evictKey('p', i))) {
					t.Errorf("persistent key %d evicted by %v", i, p)
				}
			}
			if st := s.Stats(); st.EvictedKeys < writes-capacity {
				t.Errorf("EvictedKeys = %d, want at least %d", st.EvictedKeys, writes-capacity)
			}
			checkInvariants(t, s)

			// Persistent keys alone exceed this: evict every volatile key,
			// then give up.
			s.SetMaxMemory(persistent / 2 * evictEntry)
			if err := s.Reserve(); !errors.Is(err, ErrOOM) {
				t.Fatalf("Reserve with only persistent keys over the limit = %v, want ErrOOM", err)
			}
			st := s.Stats()
			if st.VolatileKeys != 0 || st.Keys != persistent {
				t.Errorf("after ErrOOM: Stats() = %+v; want %d persistent keys and none volatile", st, persistent)
			}
			if err := s.Reserve(); !errors.Is(err, ErrOOM) {
				t.Errorf("second Reserve = %v, want ErrOOM", err)
			}
			checkInvariants(t, s)
		})
	}
}

func TestVolatileWithoutVolatileKeys(t *testing.T) {
	s, _ := newTestStore(t, func(c *Config) {
		c.Policy = VolatileLRU
		c.MaxMemory = 10 * evictEntry
	})
	for i := range 11 {
		if err := reserveSet(t, s, evictKey('p', i), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Reserve(); !errors.Is(err, ErrOOM) {
		t.Fatalf("Reserve = %v, want ErrOOM", err)
	}
	if s.Len() != 11 {
		t.Errorf("Len() = %d, want 11", s.Len())
	}
}

// TestVolatileTTLOrder checks that volatile-ttl evicts the soonest deadline,
// exactly when every candidate is sampled, even for deadlines close together
// at today's Unix times.
func TestVolatileTTLOrder(t *testing.T) {
	s, clk := newTestStore(t, func(c *Config) {
		c.Policy = VolatileTTL
		c.Samples = 64
	})
	const n = 20
	// Keys in distinct groups: volatile sampling takes one key per group.
	var keys []string
	groups := make(map[int]bool)
	for i := 0; len(keys) < n; i++ {
		k := evictKey('t', i)
		if g := ring.SlotString(k) & (groupCount - 1); !groups[g] {
			groups[g] = true
			keys = append(keys, k)
		}
	}
	base := clk.Ms() + int64(time.Hour/time.Millisecond)
	deadline := make(map[string]int64, n)
	for rank, j := range rand.Perm(n) {
		// Deadlines 100 ms apart, inserted in random order.
		deadline[keys[j]] = base + int64(rank)*100
		setEx(t, s, keys[j], evictVal, deadline[keys[j]])
	}
	for range n {
		// Soonest remaining deadline.
		var want string
		for k, at := range deadline {
			if want == "" || at < deadline[want] {
				want = k
			}
		}
		s.SetMaxMemory(s.UsedMemory() - 1)
		if err := s.Reserve(); err != nil {
			t.Fatalf("Reserve: %v", err)
		}
		if s.Exists([]byte(want)) {
			var gone string
			for k := range deadline {
				if !s.Exists([]byte(k)) {
					gone = k
				}
			}
			t.Fatalf("volatile-ttl evicted %q (deadline +%d ms), not %q (deadline +%d ms)",
				gone, deadline[gone]-base, want, deadline[want]-base)
		}
		delete(deadline, want)
	}
	if s.Len() != 0 {
		t.Errorf("Len() = %d, want 0", s.Len())
	}
}

// TestVolatileTTLMostlySoonest checks the sampled approximation: survivors
// have later deadlines than the keys evicted.
func TestVolatileTTLMostlySoonest(t *testing.T) {
	const (
		capacity = 200
		writes   = 2000
	)
	s, clk := newTestStore(t, func(c *Config) {
		c.Policy = VolatileTTL
		c.MaxMemory = capacity * evictEntry
	})
	base := clk.Ms() + int64(time.Hour/time.Millisecond)
	offsets := rand.Perm(writes) // deadline rank of each key
	for i := range writes {
		if err := reserveSet(t, s, evictKey('v', i), base+int64(offsets[i])*1000); err != nil {
			t.Fatal(err)
		}
	}
	late := 0
	left := 0
	for i := range writes {
		if s.Exists([]byte(evictKey('v', i))) {
			left++
			if offsets[i] >= writes/2 {
				late++
			}
		}
	}
	t.Logf("%d of %d survivors have a deadline in the later half", late, left)
	// About 82% on average; random eviction would give 50%.
	if late < left*2/3 {
		t.Errorf("%d of %d survivors have a deadline in the later half, want 2/3", late, left)
	}
	checkInvariants(t, s)
}

// TestEvictionAccounting checks that memory accounting survives heavy
// eviction mixed with other writes, and that used memory stays in bounds.
func TestEvictionAccounting(t *testing.T) {
	for _, p := range []Policy{AllKeysLRU, AllKeysLFU, AllKeysRandom, VolatileTTL} {
		t.Run(p.String(), func(t *testing.T) {
			const limit = 64 << 10
			s, clk := newTestStore(t, func(c *Config) {
				c.Policy = p
				c.MaxMemory = limit
			})
			for i := range 3000 {
				clk.Advance(time.Millisecond)
				if err := s.Reserve(); err != nil {
					t.Fatalf("Reserve: %v", err)
				}
				if used := s.UsedMemory(); used > limit {
					t.Fatalf("UsedMemory() = %d after Reserve, limit %d", used, limit)
				}
				k := []byte(evictKey('k', rand.IntN(500)))
				at := clk.Ms() + int64(1+rand.IntN(5000))
				switch i % 5 {
				case 0:
					s.Set(k, []byte(strings.Repeat("x", rand.IntN(300))), SetOptions{ExpireAt: at})
				case 1:
					s.Append(k, []byte("appended"))
					s.Expire(k, at, ExpireCond(0))
				case 2:
					s.SetRange(k, int64(rand.IntN(200)), []byte("range"))
					s.Expire(k, at, ExpireCond(0))
				case 3:
					s.IncrBy([]byte(evictKey('n', i%50)), 1)
					s.Expire([]byte(evictKey('n', i%50)), at, ExpireCond(0))
				case 4:
					s.Rename(k, []byte(evictKey('k', rand.IntN(500))), false)
				}
			}
			checkInvariants(t, s)
			s.Flush()
			if got := s.UsedMemory(); got != 0 {
				t.Errorf("UsedMemory() after Flush = %d", got)
			}
		})
	}
}
