package store

import (
	"fmt"
	"testing"
	"time"
)

func TestLazyExpiry(t *testing.T) {
	s, clk := newTestStore(t, nil)
	at := clk.Ms() + 1000
	setEx(t, s, "k", "v", at)
	set(t, s, "other", "v")

	// As in Redis, the key is still there at its deadline.
	clk.Advance(time.Second)
	wantValue(t, s, "k", "v", true)

	// One millisecond later it is gone.
	clk.Advance(time.Millisecond)
	if s.Exists([]byte("k")) {
		t.Fatal("Exists 1ms after the deadline = true")
	}
	if got := s.Len(); got != 2 {
		t.Fatalf("Len() = %d before any write access, want 2 (not yet removed)", got)
	}
	wantValue(t, s, "k", "", false)
	if got := s.Len(); got != 1 {
		t.Errorf("Len() = %d after reading the expired key, want 1", got)
	}
	st := s.Stats()
	if st.ExpiredKeys != 1 || st.VolatileKeys != 0 || st.Keys != 1 || st.Misses != 1 || st.Hits != 1 {
		t.Errorf("Stats() = %+v", st)
	}
	// Reading it again counts no second expiry.
	wantValue(t, s, "k", "", false)
	if got := s.Stats().ExpiredKeys; got != 1 {
		t.Errorf("ExpiredKeys = %d after a second read, want 1", got)
	}
	checkInvariants(t, s)
}

// TestExpiryBoundary pins Redis's boundary on every path that looks at a
// deadline: a key is alive at its deadline and gone 1ms later.
func TestExpiryBoundary(t *testing.T) {
	const ttl = 100 // ms
	k := []byte("k")
	tests := []struct {
		name  string
		alive func(s *Store) bool
	}{
		{"Get", func(s *Store) bool { _, ok, _ := s.Get(k); return ok }},
		{"Exists", func(s *Store) bool { return s.Exists(k) }},
		{"Type", func(s *Store) bool { _, ok := s.Type(k); return ok }},
		{"Touch", func(s *Store) bool { return s.Touch(k) }},
		{"Deadline", func(s *Store) bool { _, _, ok := s.Deadline(k); return ok }},
		{"Inspect", func(s *Store) bool { _, ok := s.Inspect(k); return ok }},
		{"Keys", func(s *Store) bool { return len(s.Keys("*")) == 1 }},
		{"Scan", func(s *Store) bool {
			var n int
			for cursor := uint64(0); ; {
				var keys []string
				cursor, keys = s.Scan(cursor, ScanOptions{Count: 1000})
				n += len(keys)
				if cursor == 0 {
					return n == 1
				}
			}
		}},
		{"RandomKey", func(s *Store) bool { _, ok := s.RandomKey(); return ok }},
		{"ExpireCycle", func(s *Store) bool { s.ExpireCycle(0, time.Hour); return s.Len() == 1 }},
		{"Set NX", func(s *Store) bool {
			_, _, written, _ := s.Set(k, []byte("new"), SetOptions{Cond: SetNX, KeepTTL: true})
			return !written
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newTestStore(t, nil)
			setEx(t, s, "k", "v", clk.Ms()+ttl)

			clk.Advance(ttl * time.Millisecond)
			if !tt.alive(s) {
				t.Fatal("gone at its deadline; want alive, as in Redis")
			}
			if got := s.Stats().ExpiredKeys; got != 0 {
				t.Fatalf("ExpiredKeys = %d at the deadline, want 0", got)
			}

			clk.Advance(time.Millisecond)
			if tt.alive(s) {
				t.Fatal("alive 1ms after its deadline; want gone")
			}
			checkInvariants(t, s)
		})
	}
}

// TestLazyExpiryOnWrite checks that every writing command treats an expired
// key as missing and removes it.
func TestLazyExpiryOnWrite(t *testing.T) {
	ops := []struct {
		name string
		run  func(s *Store) string // returns the value expected afterwards ("" none)
	}{
		{"Set NX", func(s *Store) string {
			s.Set([]byte("k"), []byte("new"), SetOptions{Cond: SetNX})
			return "new"
		}},
		{"Append", func(s *Store) string { s.Append([]byte("k"), []byte("x")); return "x" }},
		{"SetRange", func(s *Store) string { s.SetRange([]byte("k"), 1, []byte("x")); return "\x00x" }},
		{"IncrBy", func(s *Store) string { s.IncrBy([]byte("k"), 3); return "3" }},
		{"IncrByFloat", func(s *Store) string { s.IncrByFloat([]byte("k"), []byte("0.5")); return "0.5" }},
		{"GetDel", func(s *Store) string { s.GetDel([]byte("k")); return "" }},
		{"GetEx", func(s *Store) string { s.GetEx([]byte("k"), ExpireChange{Persist: true}); return "" }},
		{"Del", func(s *Store) string { s.Del([]byte("k")); return "" }},
		{"Expire", func(s *Store) string { s.Expire([]byte("k"), 1<<50, ExpireCond(0)); return "" }},
		{"Persist", func(s *Store) string { s.Persist([]byte("k")); return "" }},
		{"MSet NX", func(s *Store) string { s.MSet([][]byte{[]byte("k"), []byte("m")}, true); return "m" }},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			s, clk := newTestStore(t, nil)
			setEx(t, s, "k", "12", clk.Ms()+10)
			clk.Advance(11 * time.Millisecond) // 1ms past the deadline
			want := op.run(s)
			if got := s.Stats().ExpiredKeys; got != 1 {
				t.Errorf("ExpiredKeys = %d, want 1", got)
			}
			wantValue(t, s, "k", want, want != "")
			if at, _, _ := s.Deadline([]byte("k")); at != 0 {
				t.Errorf("the expired key's deadline %d survived", at)
			}
			checkInvariants(t, s)
		})
	}
}

// TestExpireCycle checks the active sweep: expired keys nobody reads are
// removed, others are left, and the counters agree.
func TestExpireCycle(t *testing.T) {
	s, clk := newTestStore(t, nil)
	now := clk.Ms()
	const n = 3000
	for i := range n {
		k := fmt.Sprintf("key:%d", i)
		switch i % 3 {
		case 0:
			set(t, s, k, "persistent")
		case 1:
			setEx(t, s, k, "soon", now+1000)
		case 2:
			setEx(t, s, k, "later", now+60_000)
		}
	}
	if st := s.Stats(); st.Keys != n || st.VolatileKeys != 2*n/3 {
		t.Fatalf("Stats() = %+v", st)
	}

	// Nothing has expired yet.
	if got := s.ExpireCycle(0, time.Hour); got != 0 {
		t.Errorf("a full cycle returned cursor %d, want 0", got)
	}
	if got := s.Len(); got != n {
		t.Fatalf("Len() = %d before any deadline, want %d", got, n)
	}

	// At the first deadline the keys are still there.
	clk.Advance(time.Second)
	s.ExpireCycle(0, time.Hour)
	if got := s.Len(); got != n {
		t.Fatalf("Len() = %d at the first deadline, want %d", got, n)
	}

	clk.Advance(time.Millisecond)
	s.ExpireCycle(0, time.Hour)
	st := s.Stats()
	if st.Keys != 2*n/3 || st.VolatileKeys != n/3 || st.ExpiredKeys != n/3 {
		t.Errorf("after the first deadline: Stats() = %+v; want %d keys, %d volatile, %d expired", st, 2*n/3, n/3, n/3)
	}
	checkInvariants(t, s)

	clk.Advance(time.Minute)
	s.ExpireCycle(0, time.Hour)
	st = s.Stats()
	if st.Keys != n/3 || st.VolatileKeys != 0 || st.ExpiredKeys != 2*n/3 {
		t.Errorf("after every deadline: Stats() = %+v; want %d keys, 0 volatile, %d expired", st, n/3, 2*n/3)
	}
	for i := 0; i < n; i += 3 {
		wantValue(t, s, fmt.Sprintf("key:%d", i), "persistent", true)
	}
	checkInvariants(t, s)
}

// TestExpireCycleBudget checks that a cycle out of budget stops early with a
// cursor to continue from, and that continuing covers every group.
func TestExpireCycleBudget(t *testing.T) {
	s, clk := newTestStore(t, nil)
	const n = 2000
	for i := range n {
		setEx(t, s, fmt.Sprintf("key:%d", i), "v", clk.Ms()+1)
	}
	clk.Advance(2 * time.Millisecond)

	cursor := 0
	calls := 0
	for s.Len() > 0 {
		next := s.ExpireCycle(cursor, 0)
		if next < 0 || next >= groupCount {
			t.Fatalf("ExpireCycle returned cursor %d", next)
		}
		cursor = next
		calls++
		if calls > groupCount+1 {
			t.Fatalf("%d keys left after %d zero-budget cycles", s.Len(), calls)
		}
	}
	if calls < 2 {
		t.Logf("a zero-budget cycle finished in %d call(s)", calls)
	}
	if st := s.Stats(); st.ExpiredKeys != n || st.VolatileKeys != 0 || st.UsedMemory != 0 {
		t.Errorf("Stats() = %+v", st)
	}
	checkInvariants(t, s)
}

// TestExpireCycleFromCursor checks that a cycle starting mid-way wraps round.
func TestExpireCycleFromCursor(t *testing.T) {
	s, clk := newTestStore(t, nil)
	for i := range 500 {
		setEx(t, s, fmt.Sprintf("key:%d", i), "v", clk.Ms()+1)
	}
	clk.Advance(2 * time.Millisecond)
	from := groupCount / 3
	if got := s.ExpireCycle(from, time.Hour); got != from {
		t.Errorf("full cycle from %d returned %d", from, got)
	}
	if got := s.Len(); got != 0 {
		t.Errorf("Len() = %d, want 0", got)
	}
}

// TestActiveExpiry checks that Start runs the sweep: expired keys nobody
// reads disappear on their own.
func TestActiveExpiry(t *testing.T) {
	s, clk := newTestStore(t, func(c *Config) { c.ExpiryInterval = time.Millisecond })
	for i := range 200 {
		setEx(t, s, fmt.Sprintf("key:%d", i), "v", clk.Ms()+1000)
	}
	set(t, s, "keep", "v")
	s.Start()
	clk.Advance(time.Second + time.Millisecond) // 1ms past the deadline
	deadline := time.Now().Add(10 * time.Second)
	for s.Len() > 1 {
		if time.Now().After(deadline) {
			t.Fatalf("Len() = %d after 10s of active expiry, want 1", s.Len())
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Keys != 1 || st.ExpiredKeys != 200 || st.VolatileKeys != 0 {
		t.Errorf("Stats() = %+v", st)
	}
	wantValue(t, s, "keep", "v", true)
	checkInvariants(t, s)
}
