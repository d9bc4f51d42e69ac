package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cached/cached/ring"
)

// appendCollectionRecord builds a collection record by hand: elems as
// Items (list, set) or field, value pairs (hash).
func appendCollectionRecord(dst []byte, kind Kind, key string, version uint64, expireAt int64, elems ...string) []byte {
	dst = appendRecordHeader(dst, recordKinds[kind], version, expireAt, key)
	n := len(elems)
	if kind == KindHash {
		n /= 2
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	for _, e := range elems {
		dst = appendString(dst, e)
	}
	return dst
}

// TestApplyLWW applies sequences of records to one key: each record is
// applied or not by version, and the key ends in the expected state.
func TestApplyLWW(t *testing.T) {
	now := newFakeClock().Ms() // the time of every test store's clock
	str := func(val string, v uint64) []byte { return appendStringRecord(nil, "k", val, v, 0) }
	ttl := func(val string, v uint64, at int64) []byte { return appendStringRecord(nil, "k", val, v, at) }
	del := func(v uint64) []byte { return AppendDeleteRecord(nil, []byte("k"), v) }
	type step struct {
		rec     []byte
		applied bool
	}
	tests := []struct {
		name  string
		local string // a local SET before the records ("" for none)
		steps []step
		want  string // the final value, "" for absent
	}{
		{"newer wins", "", []step{{str("a", 5), true}, {str("b", 10), true}}, "b"},
		{"older ignored", "", []step{{str("b", 10), true}, {str("a", 5), false}}, "b"},
		{"equal ignored", "", []step{{str("a", 10), true}, {str("b", 10), false}}, "a"},
		{"version 0 never applies", "", []step{{str("a", 0), false}}, ""},
		{"three writes, in order", "", []step{{str("1", 1), true}, {str("2", 2), true}, {str("3", 3), true}}, "3"},
		{"three writes, reversed", "", []step{{str("3", 3), true}, {str("2", 2), false}, {str("1", 1), false}}, "3"},
		{"three writes, mixed", "", []step{{str("2", 2), true}, {str("3", 3), true}, {str("1", 1), false}}, "3"},
		{"delete newer", "", []step{{str("a", 5), true}, {del(10), true}}, ""},
		{"delete older", "", []step{{str("a", 10), true}, {del(5), false}}, "a"},
		{"delete of an absent key", "", []step{{del(5), false}}, ""},
		// No tombstones: a write older than a delete that found nothing
		// is stored (see Apply).
		{"delete then older write", "", []step{{del(10), false}, {str("a", 5), true}}, "a"},
		{"write after delete", "", []step{{str("a", 5), true}, {del(10), true}, {str("b", 15), true}}, "b"},
		{"expired record deletes older", "", []step{{str("a", 5), true}, {ttl("b", 10, now-1), true}}, ""},
		{"record expiring now is expired", "", []step{{str("a", 5), true}, {ttl("b", 10, now), true}}, ""},
		{"expired record, nothing local", "", []step{{ttl("b", 10, now-1), false}}, ""},
		{"expired record older", "", []step{{str("a", 10), true}, {ttl("b", 5, now-1), false}}, "a"},
		{"record with a deadline", "", []step{{ttl("b", 10, now+1), true}}, "b"},
		{"newer than a local write", "local", []step{{str("remote", 1<<62), true}}, "remote"},
		{"older than a local write", "local", []step{{str("remote", 1), false}}, "local"},
		{"delete older than a local write", "local", []step{{del(1), false}}, "local"},
		{"kind change", "", []step{
			{str("a", 5), true},
			{appendCollectionRecord(nil, KindHash, "k", 10, 0, "f", "v"), true},
			{str("b", 15), true},
		}, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newTestStore(t, nil)
			if clk.Ms() != now {
				t.Fatal("fake clocks differ")
			}
			if tt.local != "" {
				set(t, s, "k", tt.local)
			}
			for i, st := range tt.steps {
				n, applied, err := s.Apply(st.rec)
				if err != nil || n != len(st.rec) || applied != st.applied {
					t.Fatalf("step %d: Apply = %d, %v, %v; want %d, %v", i, n, applied, err, len(st.rec), st.applied)
				}
				checkInvariants(t, s)
			}
			got, ok, _ := s.Get([]byte("k"))
			if (tt.want == "") == ok || string(got) != tt.want {
				t.Fatalf("k = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

// TestApplyKeepsVersionAndClock checks that an applied entry keeps the
// record's version, that the clock observes it, and that a later local
// write therefore wins.
func TestApplyKeepsVersionAndClock(t *testing.T) {
	s, clk := newTestStore(t, nil)
	remote := uint64(clk.Ms()+3_600_000) << 16 // a peer an hour ahead
	rec := appendStringRecord(nil, "k", "remote", remote, 0)
	if _, ok, err := s.Apply(rec); !ok || err != nil {
		t.Fatalf("Apply = %v, %v", ok, err)
	}
	if v := mustVersion(t, s, "k"); v != remote {
		t.Fatalf("version %d, want the record's %d", v, remote)
	}
	set(t, s, "k", "local")
	if v := mustVersion(t, s, "k"); v <= remote {
		t.Fatalf("local write after Apply: version %d, not after %d", v, remote)
	}
	// An ignored record still moves the clock.
	far := remote + 1<<40
	if _, ok, _ := s.Apply(appendStringRecord(nil, "other", "x", far, clk.Ms()-1)); ok {
		t.Fatal("an expired record with nothing local applied")
	}
	if v := s.Clock().Now(); v <= far {
		t.Fatalf("clock %d after observing %d", v, far)
	}
}

// TestApplyDeadline checks that an applied deadline is kept and enforced.
func TestApplyDeadline(t *testing.T) {
	s, clk := newTestStore(t, nil)
	at := clk.Ms() + 1000
	s.Apply(appendCollectionRecord(nil, KindList, "l", 5, at, "a", "b"))
	if got, _, ok := s.Deadline([]byte("l")); !ok || got != at {
		t.Fatalf("Deadline = %d, %v; want %d", got, ok, at)
	}
	if st := s.Stats(); st.VolatileKeys != 1 {
		t.Fatalf("VolatileKeys = %d", st.VolatileKeys)
	}
	clk.Advance(2 * time.Second)
	if s.Exists([]byte("l")) {
		t.Fatal("applied key did not expire")
	}
	// An expired local entry not yet removed still counts with its version.
	setEx(t, s, "e", "v", clk.Ms()+10)
	v := mustVersion(t, s, "e")
	clk.Advance(time.Second)
	if _, ok, _ := s.Apply(appendStringRecord(nil, "e", "old", v-1, 0)); ok {
		t.Fatal("record older than an expired entry applied")
	}
	if _, ok, _ := s.Apply(appendStringRecord(nil, "e", "new", v+1, 0)); !ok {
		t.Fatal("record newer than an expired entry not applied")
	}
	wantValue(t, s, "e", "new", true)
	checkInvariants(t, s)
}

// TestApplyWatch checks that an applied record fails WATCHes of its slot,
// and an ignored one does not.
func TestApplyWatch(t *testing.T) {
	s, _ := newTestStore(t, nil)
	k := []byte("k")
	ver, dl := s.Watch(k)
	s.Apply(appendStringRecord(nil, "k", "v", 10, 0))
	if !s.Changed(k, ver, dl) {
		t.Fatal("WATCH not failed by an applied record")
	}
	ver, dl = s.Watch(k)
	s.Apply(appendStringRecord(nil, "k", "old", 5, 0))
	if s.Changed(k, ver, dl) {
		t.Fatal("WATCH failed by an ignored record")
	}
	s.Apply(AppendDeleteRecord(nil, k, 20))
	if !s.Changed(k, ver, dl) {
		t.Fatal("WATCH not failed by an applied delete")
	}
}

// TestApplyFlush checks that a flush record removes the slot's keys older
// than it and nothing else.
func TestApplyFlush(t *testing.T) {
	s, _ := newTestStore(t, nil)
	slot := ring.SlotString("{a}")
	for i, v := range []uint64{5, 15, 8} {
		s.Apply(appendStringRecord(nil, fmt.Sprintf("{a}%d", i), "v", v, 0))
	}
	s.Apply(appendStringRecord(nil, "{b}old", "v", 1, 0))
	k := []byte("{a}0")
	ver, dl := s.Watch(k)
	n, applied, err := s.Apply(AppendFlushRecord(nil, slot, 10))
	if err != nil || !applied || n == 0 {
		t.Fatalf("Apply(flush) = %d, %v, %v", n, applied, err)
	}
	for key, want := range map[string]bool{"{a}0": false, "{a}1": true, "{a}2": false, "{b}old": true} {
		if got := s.Exists([]byte(key)); got != want {
			t.Errorf("%s exists = %v, want %v", key, got, want)
		}
	}
	if !s.Changed(k, ver, dl) {
		t.Error("WATCH not failed by a flush record")
	}
	if got := s.CountKeysInSlot(slot); got != 1 {
		t.Errorf("CountKeysInSlot = %d, want 1", got)
	}
	if _, applied, _ := s.Apply(AppendFlushRecord(nil, slot, 10)); applied {
		t.Error("second flush applied")
	}
	checkInvariants(t, s)
}

// TestApplyRepeated checks that hash fields and set members that repeat
// are refused, leaving the store unchanged.
func TestApplyRepeated(t *testing.T) {
	tests := []struct {
		name string
		rec  []byte
	}{
		{"hash", appendCollectionRecord(nil, KindHash, "k", 5, 0, "f", "1", "g", "2", "f", "3")},
		{"set", appendCollectionRecord(nil, KindSet, "k", 5, 0, "a", "b", "a")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestStore(t, nil)
			n, applied, err := s.Apply(tt.rec)
			if !errors.Is(err, ErrBadRecord) || n != 0 || applied {
				t.Fatalf("Apply = %d, %v, %v", n, applied, err)
			}
			if s.Len() != 0 || s.UsedMemory() != 0 {
				t.Fatalf("store changed: %d keys, %d bytes", s.Len(), s.UsedMemory())
			}
		})
	}
}

// TestApplyAll applies a buffer of records, then one with a bad record in
// the middle.
func TestApplyAll(t *testing.T) {
	s, _ := newTestStore(t, nil)
	var buf []byte
	buf = appendStringRecord(buf, "a", "1", 5, 0)
	buf = appendCollectionRecord(buf, KindSet, "s", 5, 0, "x", "y")
	buf = appendStringRecord(buf, "a", "old", 4, 0) // ignored
	buf = AppendDeleteRecord(buf, []byte("s"), 6)
	buf = appendStringRecord(buf, "b", "2", 5, 0)
	if n, err := s.ApplyAll(buf); err != nil || n != 4 {
		t.Fatalf("ApplyAll = %d, %v; want 4", n, err)
	}
	wantValue(t, s, "a", "1", true)
	wantValue(t, s, "b", "2", true)
	if s.Exists([]byte("s")) {
		t.Fatal("s not deleted")
	}
	if n, err := s.ApplyAll(nil); n != 0 || err != nil {
		t.Fatalf("ApplyAll(nil) = %d, %v", n, err)
	}
	good := appendStringRecord(nil, "c", "3", 5, 0)
	bad := append(append([]byte{}, good...), 0xee)
	bad = appendStringRecord(bad, "d", "4", 5, 0)
	n, err := s.ApplyAll(bad)
	if !errors.Is(err, ErrBadRecord) || n != 1 || !strings.Contains(err.Error(), fmt.Sprintf("offset %d", len(good))) {
		t.Fatalf("ApplyAll(bad) = %d, %v", n, err)
	}
	wantValue(t, s, "c", "3", true)
	wantValue(t, s, "d", "", false)
	checkInvariants(t, s)
}
