package store

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cached/cached/ring"
)

// takeKeys takes the pending changes and returns the changed keys and the
// flushed slots, sorted.
func takeKeys(t testing.TB, s *Store) (keys []string, flushed []int) {
	t.Helper()
	changes, _ := s.TakeChanges(nil)
	for _, c := range changes {
		if c.Flush {
			if c.Key != nil || c.Version == 0 {
				t.Errorf("flush change %+v: want no key and a version", c)
			}
			flushed = append(flushed, c.Slot)
			continue
		}
		if want := ring.Slot(c.Key); c.Slot != want {
			t.Errorf("change of %q: slot %d, want %d", c.Key, c.Slot, want)
		}
		keys = append(keys, string(c.Key))
	}
	slices.Sort(keys)
	slices.Sort(flushed)
	return keys, flushed
}

// signalled reports whether the change signal holds a value, consuming it.
func signalled(s *Store) bool {
	select {
	case <-s.ChangeSignal():
		return true
	default:
		return false
	}
}

// trackKeys turns tracking on for the slots of keys.
func trackKeys(s *Store, keys ...string) {
	for _, k := range keys {
		s.TrackSlot(ring.SlotString(k), true)
	}
}

// TestChangesRecorded runs each kind of operation on keys of tracked slots
// and checks what is recorded: user-visible changes, not expiry,
// eviction, DropSlot or Apply.
func TestChangesRecorded(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	tests := []struct {
		name    string
		setup   func(t *testing.T, s *Store, clk *fakeClock)
		op      func(t *testing.T, s *Store, clk *fakeClock)
		keys    []string // recorded keys, sorted
		flushed bool     // the slots of "k" and "k2" record a flush
		moved   bool     // changes were numbered, though none is left
	}{
		{"SET", nil, func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") }, []string{"k"}, false, false},
		{"SET NX refused", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") },
			func(t *testing.T, s *Store, _ *fakeClock) { s.Set(b("k"), b("w"), SetOptions{Cond: SetNX}) }, nil, false, false},
		{"INCRBY", nil, func(t *testing.T, s *Store, _ *fakeClock) { s.IncrBy(b("k"), 3) }, []string{"k"}, false, false},
		{"APPEND", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") },
			func(t *testing.T, s *Store, _ *fakeClock) { s.Append(b("k"), b("w")) }, []string{"k"}, false, false},
		{"DEL", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") },
			func(t *testing.T, s *Store, _ *fakeClock) { s.Del(b("k")) }, []string{"k"}, false, false},
		{"DEL missing", nil, func(t *testing.T, s *Store, _ *fakeClock) { s.Del(b("k")) }, nil, false, false},
		{"GETDEL", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") },
			func(t *testing.T, s *Store, _ *fakeClock) { s.GetDel(b("k")) }, []string{"k"}, false, false},
		{"EXPIRE", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") },
			func(t *testing.T, s *Store, clk *fakeClock) { s.Expire(b("k"), clk.Ms()+1000, 0) }, []string{"k"}, false, false},
		{"EXPIRE in the past", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") },
			func(t *testing.T, s *Store, clk *fakeClock) { s.Expire(b("k"), clk.Ms()-1, 0) }, []string{"k"}, false, false},
		{"PERSIST", func(t *testing.T, s *Store, clk *fakeClock) { setEx(t, s, "k", "v", clk.Ms()+1000) },
			func(t *testing.T, s *Store, _ *fakeClock) { s.Persist(b("k")) }, []string{"k"}, false, false},
		{"GETEX PERSIST", func(t *testing.T, s *Store, clk *fakeClock) { setEx(t, s, "k", "v", clk.Ms()+1000) },
			func(t *testing.T, s *Store, _ *fakeClock) { s.GetEx(b("k"), ExpireChange{Persist: true}) }, []string{"k"}, false, false},
		{"RENAME", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") },
			func(t *testing.T, s *Store, _ *fakeClock) { s.Rename(b("k"), b("k2"), false) }, []string{"k", "k2"}, false, false},
		{"COPY", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v"); set(t, s, "k2", "old") },
			func(t *testing.T, s *Store, _ *fakeClock) { s.Copy(b("k"), b("k2"), true) }, []string{"k2"}, false, false},
		{"hash field", nil, func(t *testing.T, s *Store, _ *fakeClock) { hset(t, s, "k", "f", "v") }, []string{"k"}, false, false},
		{"hash emptied", func(t *testing.T, s *Store, _ *fakeClock) { hset(t, s, "k", "f", "v") },
			func(t *testing.T, s *Store, _ *fakeClock) {
				s.UpdateObject(b("k"), KindHash, nil, func(o Collection) error { o.(*Hash).Del(b("f")); return nil })
			}, []string{"k"}, false, false},
		{"lazy expiry", func(t *testing.T, s *Store, clk *fakeClock) { setEx(t, s, "k", "v", clk.Ms()+10) },
			func(t *testing.T, s *Store, clk *fakeClock) {
				clk.Advance(time.Second)
				wantValue(t, s, "k", "", false)
				s.Del(b("k")) // finds nothing: not recorded either
			}, nil, false, false},
		{"active expiry", func(t *testing.T, s *Store, clk *fakeClock) { setEx(t, s, "k", "v", clk.Ms()+10) },
			func(t *testing.T, s *Store, clk *fakeClock) {
				clk.Advance(time.Second)
				s.ExpireCycle(0, time.Hour)
				if s.Len() != 0 {
					t.Fatal("not expired")
				}
			}, nil, false, false},
		{"eviction", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") },
			func(t *testing.T, s *Store, _ *fakeClock) {
				s.SetMaxMemory(1)
				if err := s.Reserve(); err != nil || s.Len() != 0 {
					t.Fatalf("Reserve: %v, %d keys left", err, s.Len())
				}
			}, nil, false, false},
		{"DropSlot", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") },
			func(t *testing.T, s *Store, _ *fakeClock) { s.DropSlot(ring.SlotString("k")) }, nil, false, false},
		{"DropSlot forgets", nil, func(t *testing.T, s *Store, _ *fakeClock) {
			set(t, s, "k", "v")
			s.DropSlot(ring.SlotString("k"))
		}, nil, false, true},
		{"Apply", nil, func(t *testing.T, s *Store, _ *fakeClock) {
			rec := appendStringRecord(nil, "k", "v", s.Clock().Now()+1000, 0)
			if _, ok, err := s.Apply(rec); !ok || err != nil {
				t.Fatalf("Apply = %v, %v", ok, err)
			}
		}, []string{"k"}, false, false},
		{"Apply of an older version", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") },
			func(t *testing.T, s *Store, _ *fakeClock) {
				if _, ok, err := s.Apply(appendStringRecord(nil, "k", "old", 1, 0)); ok || err != nil {
					t.Fatalf("Apply = %v, %v", ok, err)
				}
			}, nil, false, false},
		{"FLUSHALL", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") },
			func(t *testing.T, s *Store, _ *fakeClock) { s.Flush() }, nil, true, false},
		{"FLUSHALL then SET", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") },
			func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k2", "v"); s.Flush(); set(t, s, "k", "w") }, []string{"k"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newTestStore(t, nil)
			trackKeys(s, "k", "k2")
			if tt.setup != nil {
				tt.setup(t, s, clk)
			}
			takeKeys(t, s)
			signalled(s)
			seq := s.ChangeSeq()
			tt.op(t, s, clk)
			keys, flushed := takeKeys(t, s)
			if !slices.Equal(keys, tt.keys) {
				t.Errorf("recorded keys %q, want %q", keys, tt.keys)
			}
			var want []int
			if tt.flushed {
				want = []int{ring.SlotString("k"), ring.SlotString("k2")}
				slices.Sort(want)
			}
			if !slices.Equal(flushed, want) {
				t.Errorf("flushed slots %v, want %v", flushed, want)
			}
			changed := len(tt.keys) > 0 || tt.flushed || tt.moved
			if got := s.ChangeSeq() > seq; got != changed {
				t.Errorf("ChangeSeq moved from %d to %d", seq, s.ChangeSeq())
			}
			if got := signalled(s); got != changed {
				t.Errorf("signalled = %v, want %v", got, changed)
			}
			checkInvariants(t, s)
		})
	}
}

// TestChangesUntracked checks that writes to untracked slots record
// nothing, and that tracking is per slot.
func TestChangesUntracked(t *testing.T) {
	s, _ := newTestStore(t, nil)
	tracked, other := "{a}x", "{b}x"
	s.TrackSlot(ring.SlotString(tracked), true)
	for _, slot := range []int{-1, ring.SlotCount} {
		s.TrackSlot(slot, true) // ignored
		if s.SlotTracked(slot) {
			t.Errorf("SlotTracked(%d) after tracking an invalid slot", slot)
		}
	}
	if !s.SlotTracked(ring.SlotString(tracked)) || s.SlotTracked(ring.SlotString(other)) {
		t.Fatal("SlotTracked does not reflect TrackSlot")
	}
	for i := range 10 {
		set(t, s, other, fmt.Sprint(i))
		s.Del([]byte(other))
	}
	s.Flush()
	if s.ChangeSeq() != 1 || !signalled(s) { // the tracked slot's flush
		t.Fatalf("ChangeSeq() = %d after untracked writes and a flush", s.ChangeSeq())
	}
	if keys, flushed := takeKeys(t, s); len(keys) != 0 || !slices.Equal(flushed, []int{ring.SlotString(tracked)}) {
		t.Fatalf("took %q, flushed %v", keys, flushed)
	}
	// Turning tracking off keeps what was recorded.
	set(t, s, tracked, "v")
	s.TrackSlot(ring.SlotString(tracked), false)
	set(t, s, tracked, "w")
	if keys, _ := takeKeys(t, s); !slices.Equal(keys, []string{tracked}) {
		t.Fatalf("after untracking: took %q", keys)
	}
	if s.ChangeSeq() != 2 {
		t.Fatalf("ChangeSeq() = %d, want 2", s.ChangeSeq())
	}
}

// TestChangesDedup writes keys many times between takes: each appears once,
// and the sequence number counts every change.
func TestChangesDedup(t *testing.T) {
	s, _ := newTestStore(t, nil)
	keys := []string{"{t}a", "{t}b", "{u}c"}
	trackKeys(s, keys...)
	for i := range 100 {
		for _, k := range keys {
			set(t, s, k, strings.Repeat("v", i%7))
		}
	}
	if got := s.ChangeSeq(); got != 300 {
		t.Fatalf("ChangeSeq() = %d, want 300", got)
	}
	changes, seq := s.TakeChanges(make([]Change, 0, 1))
	if seq != 300 || len(changes) != 3 {
		t.Fatalf("TakeChanges: %d changes, seq %d; want 3, 300", len(changes), seq)
	}
	// The keys are the caller's: changing them changes nothing in the store.
	for _, c := range changes {
		c.Key[0] = 'X'
	}
	if got, _ := takeKeys(t, s); len(got) != 0 {
		t.Fatalf("second take: %q", got)
	}
	for _, k := range keys {
		wantValue(t, s, k, strings.Repeat("v", 99%7), true)
	}
	changes, seq = s.TakeChanges(changes[:0])
	if len(changes) != 0 || seq != 300 {
		t.Fatalf("empty take: %d changes, seq %d", len(changes), seq)
	}
}

// TestChangeSignal checks the signal: one value for many changes, none
// until a change follows a take, and never blocking.
func TestChangeSignal(t *testing.T) {
	s, _ := newTestStore(t, nil)
	trackKeys(s, "k")
	if signalled(s) {
		t.Fatal("signal before any change")
	}
	set(t, s, "k", "1")
	set(t, s, "k", "2") // would block if the store sent on a full channel
	if !signalled(s) {
		t.Fatal("no signal after a change")
	}
	set(t, s, "k", "3")
	if signalled(s) {
		t.Fatal("second signal before a take")
	}
	takeKeys(t, s)
	if signalled(s) {
		t.Fatal("signal after a take without a change")
	}
	s.Del([]byte("k"))
	if !signalled(s) {
		t.Fatal("no signal for a change after a take")
	}
}

// TestTakeChangesBuffers checks that pending sets are reused after a small
// take and dropped after a large one.
func TestTakeChangesBuffers(t *testing.T) {
	s, _ := newTestStore(t, nil)
	trackKeys(s, "{t}")
	sh, _ := s.slotGroup(ring.SlotString("{t}"))
	for _, n := range []int{10, pendingKeep + 1, 10} {
		for i := range n {
			set(t, s, fmt.Sprintf("{t}%d", i), "v")
		}
		if changes, _ := s.TakeChanges(nil); len(changes) != n {
			t.Fatalf("took %d changes, want %d", len(changes), n)
		}
		sh.mu.RLock()
		kept := sh.pending.seen != nil
		sh.mu.RUnlock()
		if kept != (n <= pendingKeep) {
			t.Errorf("after taking %d: map kept = %v", n, kept)
		}
	}
}

// TestAppendChange checks the records AppendChange makes: the key's state,
// a delete stamped after its last write, a flush.
func TestAppendChange(t *testing.T) {
	s, clk := newTestStore(t, nil)
	trackKeys(s, "k", "gone", "old")
	set(t, s, "k", "v")
	set(t, s, "gone", "v")
	vGone := mustVersion(t, s, "gone")
	s.Del([]byte("gone"))
	setEx(t, s, "old", "v", clk.Ms()+10)
	clk.Advance(time.Second)
	s.Flush()
	set(t, s, "k", "w")
	changes, _ := s.TakeChanges(nil)
	var got []Record
	for _, c := range changes {
		rec := s.AppendChange(nil, c)
		r, n, err := DecodeRecord(rec)
		if err != nil || n != len(rec) {
			t.Fatalf("change %+v: DecodeRecord = %d of %d, %v", c, n, len(rec), err)
		}
		got = append(got, r)
	}
	flushes := 0
	for _, r := range got {
		switch {
		case r.Flush:
			flushes++
		case string(r.Key) == "k":
			if r.Deleted || string(r.Value) != "w" || r.Version != mustVersion(t, s, "k") {
				t.Errorf("k: %+v", r)
			}
		default:
			t.Errorf("unexpected record %+v", r)
		}
	}
	if flushes != 3 {
		t.Errorf("%d flush records, want 3 (slots of k, gone, old)", flushes)
	}
	// A key absent when the change is read gets a delete newer than its
	// last write and older than any write after.
	rec := s.AppendChange(nil, Change{Key: []byte("gone"), Slot: ring.SlotString("gone")})
	r, _, err := DecodeRecord(rec)
	if err != nil || !r.Deleted || string(r.Key) != "gone" || r.Version <= vGone {
		t.Fatalf("delete of gone: %+v, %v (last write %d)", r, err, vGone)
	}
	set(t, s, "gone", "again")
	if v := mustVersion(t, s, "gone"); v <= r.Version {
		t.Fatalf("write after the delete: version %d, delete %d", v, r.Version)
	}
}

// TestChangesConcurrent has writers change distinct keys of tracked slots
// while a taker takes: a change whose number (ChangeSeq after the write) is
// at most a take's seq is in that take or an earlier one, and every change
// is taken exactly once (each key is written once).
func TestChangesConcurrent(t *testing.T) {
	s, _ := newTestStore(t, nil)
	for slot := range ring.SlotCount {
		s.TrackSlot(slot, true)
	}
	const writers, perWriter = 4, 2000
	type write struct {
		key string
		seq uint64
	}
	written := make([][]write, writers)
	takenAt := map[string]int{} // key → index of the take that returned it
	var takeSeqs []uint64
	stop := make(chan struct{})
	var taker sync.WaitGroup
	taker.Go(func() {
		var buf []Change
		for done := false; !done; {
			select {
			case <-stop:
				done = true
			case <-s.ChangeSignal():
			}
			var seq uint64
			buf, seq = s.TakeChanges(buf[:0])
			for _, c := range buf {
				if _, dup := takenAt[string(c.Key)]; dup {
					t.Errorf("%q taken twice", c.Key)
				}
				takenAt[string(c.Key)] = len(takeSeqs)
			}
			takeSeqs = append(takeSeqs, seq)
		}
	})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				k := fmt.Sprintf("w%d:%d", w, i)
				set(t, s, k, "v")
				written[w] = append(written[w], write{k, s.ChangeSeq()})
			}
		})
	}
	wg.Wait()
	close(stop)
	taker.Wait()
	for _, ws := range written {
		for _, w := range ws {
			at, ok := takenAt[w.key]
			if !ok {
				t.Fatalf("%q never taken", w.key)
			}
			// The first take whose seq covers the write must have it.
			first := slices.IndexFunc(takeSeqs, func(seq uint64) bool { return seq >= w.seq })
			if first >= 0 && at > first {
				t.Fatalf("%q (seq %d) taken in take %d, but take %d had seq %d", w.key, w.seq, at, first, takeSeqs[first])
			}
		}
	}
	if n := len(takenAt); n != writers*perWriter {
		t.Fatalf("took %d keys, want %d", n, writers*perWriter)
	}
}
