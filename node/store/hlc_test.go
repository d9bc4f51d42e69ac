package store

import (
	"math"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeMs is a settable millisecond clock for the HLC tests.
type fakeMs struct{ ms atomic.Int64 }

func (f *fakeMs) now() int64 { return f.ms.Load() }

func TestClock(t *testing.T) {
	const t0 = 1_748_779_200_000 // 2025-06-01, Unix ms
	v := func(ms int64, logical uint64) uint64 { return uint64(ms)<<16 | logical }
	type step struct {
		setMs  int64  // the physical clock before the step
		update uint64 // when not 0, Update(update) instead of Now
		want   uint64 // Now's result (unchecked for updates)
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"physical time moves", []step{
			{setMs: t0, want: v(t0, 0)},
			{setMs: t0 + 1, want: v(t0+1, 0)},
			{setMs: t0 + 5, want: v(t0+5, 0)},
		}},
		{"same millisecond counts", []step{
			{setMs: t0, want: v(t0, 0)},
			{setMs: t0, want: v(t0, 1)},
			{setMs: t0, want: v(t0, 2)},
			{setMs: t0 + 1, want: v(t0+1, 0)},
		}},
		{"clock goes backwards", []step{
			{setMs: t0, want: v(t0, 0)},
			{setMs: t0 - 1000, want: v(t0, 1)},
			{setMs: t0 - 1, want: v(t0, 2)},
			{setMs: t0, want: v(t0, 3)},
			{setMs: t0 + 1, want: v(t0+1, 0)},
		}},
		{"logical counter carries", []step{
			{setMs: t0, update: v(t0, 0xfffe)},
			{setMs: t0, want: v(t0, 0xffff)},
			{setMs: t0, want: v(t0+1, 0)},
			{setMs: t0, want: v(t0+1, 1)},
			{setMs: t0 + 1, want: v(t0+1, 2)},
			{setMs: t0 + 2, want: v(t0+2, 0)},
		}},
		{"update from a clock ahead", []step{
			{setMs: t0, want: v(t0, 0)},
			{setMs: t0, update: v(t0+500, 7)},
			{setMs: t0, want: v(t0+500, 8)},
			{setMs: t0 + 501, want: v(t0+501, 0)},
		}},
		{"update from a clock behind", []step{
			{setMs: t0, want: v(t0, 0)},
			{setMs: t0, update: v(t0-500, 7)},
			{setMs: t0, want: v(t0, 1)},
		}},
		{"before 1970, never 0", []step{
			{setMs: -5, want: v(0, 1)},
			{setMs: -1, want: v(0, 2)},
			{setMs: 0, want: v(0, 3)},
		}},
		{"end of the version space", []step{
			{setMs: t0, update: math.MaxUint64 - 1},
			{setMs: t0, want: math.MaxUint64},
			{setMs: t0, want: math.MaxUint64},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f fakeMs
			c := NewClock(f.now)
			for i, st := range tt.steps {
				f.ms.Store(st.setMs)
				if st.update != 0 {
					c.Update(st.update)
					continue
				}
				if got := c.Now(); got != st.want {
					t.Fatalf("step %d: Now() = %d:%d, want %d:%d", i,
						VersionTime(got), got&0xffff, VersionTime(st.want), st.want&0xffff)
				}
			}
		})
	}
}

func TestVersionTime(t *testing.T) {
	tests := []struct {
		v    uint64
		want int64
	}{
		{0, 0},
		{1<<16 - 1, 0},
		{1 << 16, 1},
		{1_748_779_200_000<<16 | 42, 1_748_779_200_000},
		{math.MaxUint64, 1<<48 - 1},
	}
	for _, tt := range tests {
		if got := VersionTime(tt.v); got != tt.want {
			t.Errorf("VersionTime(%#x) = %d, want %d", tt.v, got, tt.want)
		}
	}
}

// TestClockConcurrent has goroutines read and update one clock while its
// physical time moves back and forth: every reading is distinct, each
// goroutine's readings increase, and each exceeds the updates it made
// before.
func TestClockConcurrent(t *testing.T) {
	const (
		workers = 8
		reads   = 5000
		t0      = 1_748_779_200_000
	)
	var f fakeMs
	f.ms.Store(t0)
	c := NewClock(f.now)
	got := make([][]uint64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var prev uint64
			for i := range reads {
				switch i % 100 {
				case 0:
					f.ms.Add(-3) // wall time steps back
				case 50:
					f.ms.Add(5)
				case 70:
					remote := uint64(f.now()+20) << 16
					c.Update(remote)
					prev = max(prev, remote)
				}
				v := c.Now()
				if v <= prev {
					t.Errorf("worker %d: Now() = %d after %d", w, v, prev)
					return
				}
				prev = v
				got[w] = append(got[w], v)
			}
		})
	}
	wg.Wait()
	seen := make(map[uint64]bool, workers*reads)
	for _, vs := range got {
		for _, v := range vs {
			if seen[v] {
				t.Fatalf("version %d handed out twice", v)
			}
			seen[v] = true
		}
	}
}

// TestStoreClock checks that the store stamps writes from Config.Clock
// when one is given, and from its own clock (on Config.Now) otherwise.
func TestStoreClock(t *testing.T) {
	t.Run("own", func(t *testing.T) {
		s, clk := newTestStore(t, nil)
		set(t, s, "k", "v")
		v, ok := s.Version([]byte("k"))
		if !ok || VersionTime(v) != clk.Ms() {
			t.Fatalf("Version = %d (%d ms), %v; want the store's time %d", v, VersionTime(v), ok, clk.Ms())
		}
		if n := s.Clock().Now(); n <= v {
			t.Fatalf("Clock().Now() = %d, not after the write's %d", n, v)
		}
	})
	t.Run("given", func(t *testing.T) {
		var f fakeMs
		f.ms.Store(42_000)
		c := NewClock(f.now)
		s, _ := newTestStore(t, func(cfg *Config) { cfg.Clock = c })
		if s.Clock() != c {
			t.Fatal("Clock() is not Config.Clock")
		}
		set(t, s, "k", "v")
		if v, _ := s.Version([]byte("k")); VersionTime(v) != 42_000 {
			t.Fatalf("Version time = %d, want the given clock's 42000", VersionTime(v))
		}
	})
}
