package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cached/cached/ring"
)

// TestSlotCounts follows the key counts of two slots through every way a
// key comes and goes.
func TestSlotCounts(t *testing.T) {
	s, clk := newTestStore(t, nil)
	a, b := ring.SlotString("{a}"), ring.SlotString("{b}")
	key := func(tag string, i int) []byte { return fmt.Appendf(nil, "{%s}%d", tag, i) }
	steps := []struct {
		name   string
		run    func(t *testing.T)
		wantA  int
		wantB  int
		noKeys bool // SlotsWithKeys is empty
	}{
		{"empty", func(*testing.T) {}, 0, 0, true},
		{"set", func(t *testing.T) {
			for i := range 10 {
				s.Set(key("a", i), []byte("v"), SetOptions{})
			}
			s.Set(key("b", 0), []byte("v"), SetOptions{ExpireAt: clk.Ms() + 100})
		}, 10, 1, false},
		{"overwrite", func(t *testing.T) { s.Set(key("a", 0), []byte("longer value than before"), SetOptions{}) }, 10, 1, false},
		{"del", func(t *testing.T) { s.Del(key("a", 9)); s.Del(key("a", 99)) }, 9, 1, false},
		{"collection", func(t *testing.T) { hset(t, s, "{b}h", "f", "v") }, 9, 2, false},
		{"collection emptied", func(t *testing.T) {
			s.UpdateObject([]byte("{b}h"), KindHash, nil, func(o Collection) error { o.(*Hash).Del([]byte("f")); return nil })
		}, 9, 1, false},
		{"expired, not removed", func(t *testing.T) { clk.Advance(time.Second) }, 9, 1, false},
		{"lazy expiry", func(t *testing.T) { s.Get(key("b", 0)) }, 9, 0, false},
		{"rename across slots", func(t *testing.T) { s.Rename(key("a", 8), key("b", 8), false) }, 8, 1, false},
		{"rename over a key", func(t *testing.T) { s.Rename(key("a", 7), key("b", 8), false) }, 7, 1, false},
		{"copy", func(t *testing.T) { s.Copy(key("a", 0), key("b", 0), false) }, 7, 2, false},
		{"active expiry", func(t *testing.T) {
			s.Expire(key("a", 6), clk.Ms()+10, 0)
			clk.Advance(time.Second)
			s.ExpireCycle(0, time.Hour)
		}, 6, 2, false},
		{"apply", func(t *testing.T) {
			s.Apply(appendStringRecord(nil, "{b}new", "v", 1<<60, 0))
			s.Apply(AppendDeleteRecord(nil, key("a", 5), 1<<60))
		}, 5, 3, false},
		{"evict", func(t *testing.T) {
			s.SetMaxMemory(1)
			s.Reserve()
			s.SetMaxMemory(0)
		}, 0, 0, true},
		{"flush", func(t *testing.T) {
			s.Set(key("a", 0), []byte("v"), SetOptions{})
			s.Flush()
		}, 0, 0, true},
		{"drop", func(t *testing.T) {
			s.Set(key("a", 0), []byte("v"), SetOptions{})
			s.Set(key("b", 0), []byte("v"), SetOptions{})
			if n := s.DropSlot(a); n != 1 {
				t.Errorf("DropSlot = %d, want 1", n)
			}
		}, 0, 1, false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.run(t)
			if got := s.CountKeysInSlot(a); got != st.wantA {
				t.Errorf("slot a: %d keys, want %d", got, st.wantA)
			}
			if got := s.CountKeysInSlot(b); got != st.wantB {
				t.Errorf("slot b: %d keys, want %d", got, st.wantB)
			}
			var want []int
			if st.wantA > 0 {
				want = append(want, a)
			}
			if st.wantB > 0 {
				want = append(want, b)
			}
			slices.Sort(want)
			if got := s.SlotsWithKeys(); !slices.Equal(got, want) {
				t.Errorf("SlotsWithKeys() = %v, want %v", got, want)
			}
			checkInvariants(t, s)
		})
	}
	for _, slot := range []int{-1, ring.SlotCount} {
		if s.CountKeysInSlot(slot) != 0 || s.KeysInSlot(slot, 10) != nil || s.DropSlot(slot) != 0 {
			t.Errorf("slot %d: not empty", slot)
		}
	}
}

func TestKeysInSlot(t *testing.T) {
	s, clk := newTestStore(t, nil)
	slot := ring.SlotString("{t}")
	want := map[string]bool{}
	for i := range 50 {
		k := fmt.Sprintf("{t}%d", i)
		set(t, s, k, "v")
		want[k] = true
	}
	set(t, s, "{t}", "") // an empty value, a key of its own
	want["{t}"] = true
	setEx(t, s, "{t}expired", "v", clk.Ms()+10)
	set(t, s, "{u}other", "v")
	clk.Advance(time.Second)
	tests := []struct {
		count, want int
	}{
		{0, 0}, {-1, 0}, {1, 1}, {10, 10}, {51, 51}, {1000, 51},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.count), func(t *testing.T) {
			keys := s.KeysInSlot(slot, tt.count)
			if len(keys) != tt.want {
				t.Fatalf("%d keys, want %d", len(keys), tt.want)
			}
			seen := map[string]bool{}
			for _, k := range keys {
				if !want[string(k)] || seen[string(k)] {
					t.Fatalf("unexpected or repeated key %q", k)
				}
				seen[string(k)] = true
				if cap(k) != len(k) {
					t.Fatalf("key %q has spare capacity %d", k, cap(k)-len(k))
				}
			}
			if len(keys) > 0 {
				keys[0][0] = 'X' // the caller's copy
			}
		})
	}
	if got := len(s.KeysInSlot(slot, 1000)); got != 51 {
		t.Fatalf("after changing returned keys: %d keys", got)
	}
}

// streamSlot streams slot from src to dst with AppendSlot batches of at
// most maxBytes (unless one record is larger), applying each, and returns
// how many records each key got. between, if set, runs after each batch.
func streamSlot(t testing.TB, src, dst *Store, slot, maxBytes int, between func()) map[string]int {
	t.Helper()
	got := map[string]int{}
	var after []byte
	buf := []byte("prefix")
	for calls := 0; ; calls++ {
		if calls > 1_000_000 {
			t.Fatal("AppendSlot does not finish")
		}
		var done bool
		var last []byte
		buf, last, done = src.AppendSlot(buf[:len("prefix")], slot, after, maxBytes)
		batch := buf[len("prefix"):]
		records := 0
		for off := 0; off < len(batch); {
			r, n, err := DecodeRecord(batch[off:])
			if err != nil {
				t.Fatalf("batch %d: %v", calls, err)
			}
			if ring.Slot(r.Key) != slot {
				t.Fatalf("key %q of slot %d in a stream of slot %d", r.Key, ring.Slot(r.Key), slot)
			}
			got[string(r.Key)]++
			off += n
			records++
		}
		if records > 1 && len(batch) > maxBytes {
			t.Fatalf("batch of %d records, %d bytes > %d", records, len(batch), maxBytes)
		}
		if records > 0 && (last == nil || string(last) != lastKey(batch)) {
			t.Fatalf("last = %q, batch ends with %q", last, lastKey(batch))
		}
		if records == 0 && !bytes.Equal(last, after) {
			t.Fatalf("empty batch: last = %q, want after %q", last, after)
		}
		if _, err := dst.ApplyAll(batch); err != nil {
			t.Fatal(err)
		}
		if done {
			return got
		}
		if records == 0 {
			t.Fatal("empty batch, not done")
		}
		after = last
		if between != nil {
			between()
		}
	}
}

// lastKey returns the key of the last record in recs.
func lastKey(recs []byte) string {
	var key []byte
	for len(recs) > 0 {
		r, n, _ := DecodeRecord(recs)
		key, recs = r.Key, recs[n:]
	}
	return string(key)
}

// TestAppendSlot streams slots of every kind of key in batches of several
// sizes: the receiver ends equal to the sender for the slot, with each key
// sent once.
func TestAppendSlot(t *testing.T) {
	src, clk := newTestStore(t, nil)
	const tag = "{slot}"
	slot := ring.SlotString(tag)
	for i := range 300 {
		k := fmt.Sprintf("%s%d", tag, i)
		switch i % 5 {
		case 0:
			set(t, src, k, strings.Repeat("v", i))
		case 1:
			setEx(t, src, k, "ttl", clk.Ms()+60_000)
		case 2:
			hset(t, src, k, "f", fmt.Sprint(i), "g", "")
		case 3:
			src.UpdateObject([]byte(k), KindList, NewList, func(o Collection) error {
				o.(*List).Push(ListRight, []byte("a"), []byte(k))
				return nil
			})
		case 4:
			src.UpdateObject([]byte(k), KindZSet, NewZSet, func(o Collection) error {
				o.(*ZSet).Add([]byte(k), float64(i), AddFlags{})
				return nil
			})
		}
	}
	set(t, src, tag, "") // the tag itself: an empty-string value
	set(t, src, "{other}x", "not streamed")
	setEx(t, src, tag+"expired", "v", clk.Ms()+1)
	clk.Advance(10 * time.Millisecond)
	want := storeState(src)
	inSlot := func(k string) bool { return ring.SlotString(k) == slot }
	for _, maxBytes := range []int{0, 1, 100, 4096, 1 << 20} {
		t.Run(fmt.Sprintf("maxBytes=%d", maxBytes), func(t *testing.T) {
			dst, _ := newTestStore(t, nil)
			got := streamSlot(t, src, dst, slot, maxBytes, nil)
			if len(got) != 301 {
				t.Errorf("%d keys streamed, want 301", len(got))
			}
			for k, n := range got {
				if n != 1 {
					t.Errorf("%q sent %d times", k, n)
				}
			}
			if diff := diffStates(want, storeState(dst), inSlot); len(diff) > 0 {
				t.Fatalf("receiver differs:\n%s", strings.Join(diff[:min(len(diff), 10)], "\n"))
			}
			if dst.Exists([]byte("{other}x")) {
				t.Error("key of another slot streamed")
			}
			checkInvariants(t, dst)
		})
	}
	t.Run("empty slot", func(t *testing.T) {
		out, last, done := src.AppendSlot([]byte("x"), ring.SlotString("{nothing}"), nil, 100)
		if string(out) != "x" || last != nil || !done {
			t.Fatalf("AppendSlot = %q, %q, %v", out, last, done)
		}
		if _, _, done := src.AppendSlot(nil, -1, nil, 100); !done {
			t.Fatal("invalid slot not done")
		}
	})
}

// TestAppendSlotConcurrent streams a slot while writers change, create and
// delete its keys: no lock is held between batches, and at the end the
// receiver holds every key not written during the stream exactly as the
// sender does, each sent once. Run it with -race.
func TestAppendSlotConcurrent(t *testing.T) {
	src, _ := newTestStore(t, nil)
	const tag = "{hot}"
	slot := ring.SlotString(tag)
	const keys = 2000
	for i := range keys {
		k := fmt.Sprintf("%s%d", tag, i)
		if i%3 == 0 {
			hset(t, src, k, "f", fmt.Sprint(i))
		} else {
			set(t, src, k, fmt.Sprint(i))
		}
	}
	// Writers touch only keys whose number is a multiple of 7 (and new
	// keys), so the others must arrive exactly as they are.
	written := func(k string) bool {
		var i int
		if _, err := fmt.Sscanf(strings.TrimPrefix(k, tag), "%d", &i); err != nil {
			return true // a new key
		}
		return i%7 == 0
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				k := []byte(fmt.Sprintf("%s%d", tag, 7*r.IntN(keys/7)))
				switch n % 4 {
				case 0:
					src.Set(k, []byte(strings.Repeat("x", r.IntN(200))), SetOptions{})
				case 1:
					src.Del(k)
				case 2:
					if n < 2000 { // a bounded number of new keys: see AppendSlot
						src.Set(fmt.Appendf(nil, "%snew%d-%d", tag, w, n), []byte("new"), SetOptions{})
					}
				case 3:
					src.Get(k)
				}
			}
		})
	}
	dst, _ := newTestStore(t, nil)
	got := streamSlot(t, src, dst, slot, 2048, func() { time.Sleep(50 * time.Microsecond) })
	close(stop)
	wg.Wait()
	for k, n := range got {
		if !written(k) && n != 1 {
			t.Errorf("%q sent %d times", k, n)
		}
	}
	want := storeState(src)
	unwritten := func(k string) bool { return ring.SlotString(k) == slot && !written(k) }
	if diff := diffStates(want, storeState(dst), unwritten); len(diff) > 0 {
		t.Fatalf("receiver differs on %d keys:\n%s", len(diff), strings.Join(diff[:min(len(diff), 10)], "\n"))
	}
	if n := len(got); n < keys*6/7 {
		t.Fatalf("only %d keys streamed", n)
	}
	checkInvariants(t, src)
	checkInvariants(t, dst)
}

// TestDropSlot checks that DropSlot removes exactly the slot's keys, keeps
// the accounting, fails WATCHes and counts nothing as evicted or expired.
func TestDropSlot(t *testing.T) {
	s, clk := newTestStore(t, nil)
	slot := ring.SlotString("{d}")
	for i := range 100 {
		set(t, s, fmt.Sprintf("{d}%d", i), "v")
		set(t, s, fmt.Sprintf("{e}%d", i), "v")
	}
	hset(t, s, "{d}hash", "f", "v")
	setEx(t, s, "{d}ttl", "v", clk.Ms()+1000)
	before := s.UsedMemory()
	k := []byte("{d}0")
	ver, dl := s.Watch(k)
	if n := s.DropSlot(slot); n != 102 {
		t.Fatalf("DropSlot = %d, want 102", n)
	}
	if !s.Changed(k, ver, dl) {
		t.Error("WATCH of the slot not failed")
	}
	if s.CountKeysInSlot(slot) != 0 || s.Len() != 100 || s.UsedMemory() >= before {
		t.Errorf("after DropSlot: %d in slot, %d keys, %d bytes (was %d)", s.CountKeysInSlot(slot), s.Len(), s.UsedMemory(), before)
	}
	if st := s.Stats(); st.EvictedKeys != 0 || st.ExpiredKeys != 0 || st.VolatileKeys != 0 {
		t.Errorf("stats after DropSlot: %+v", st)
	}
	wantValue(t, s, "{e}5", "v", true)
	if n := s.DropSlot(slot); n != 0 {
		t.Errorf("second DropSlot = %d", n)
	}
	checkInvariants(t, s)
}
