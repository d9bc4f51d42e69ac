package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cached/cached/ring"
)

// appendStringRecord appends a string record built by hand.
func appendStringRecord(dst []byte, key, val string, version uint64, expireAt int64) []byte {
	dst = appendRecordHeader(dst, recString, version, expireAt, key)
	return appendString(dst, val)
}

// encodeRecord re-encodes a decoded record from its fields, as a check
// that decoding lost nothing.
func encodeRecord(dst []byte, r *Record) []byte {
	switch {
	case r.Flush:
		return AppendFlushRecord(dst, r.Slot, r.Version)
	case r.Deleted:
		return AppendDeleteRecord(dst, r.Key, r.Version)
	case r.Kind == KindString:
		dst = appendRecordHeader(dst, recString, r.Version, r.ExpireAt, r.Key)
		return appendString(dst, r.Value)
	}
	dst = appendRecordHeader(dst, recordKinds[r.Kind], r.Version, r.ExpireAt, r.Key)
	dst = binary.AppendUvarint(dst, uint64(r.Len))
	switch r.Kind {
	case KindHash:
		for f, v := range r.Fields() {
			dst = appendString(appendString(dst, f), v)
		}
	case KindList, KindSet:
		for v := range r.Items() {
			dst = appendString(dst, v)
		}
	case KindZSet:
		for m, score := range r.Members() {
			dst = binary.LittleEndian.AppendUint64(appendString(dst, m), math.Float64bits(score))
		}
	}
	return dst
}

// keyState is a key's full state, read from the store's internals (not
// through records), for comparing stores.
type keyState struct {
	Kind     Kind
	ExpireAt int64
	Version  uint64
	Elems    []string // the string value; hash field, value, ...; items; members; member, score bits, ...
}

func (k keyState) String() string {
	return fmt.Sprintf("%v exp=%d v=%d %q", k.Kind, k.ExpireAt, k.Version, k.Elems)
}

// stateOf returns key's state, and false when it is absent or expired.
func stateOf(s *Store, key string) (st keyState, ok bool) {
	s.peek([]byte(key), func(e *entry, _ int64) {
		if e == nil {
			return
		}
		ok = true
		st = keyState{Kind: e.kind, ExpireAt: e.expireAt, Version: e.version}
		if e.kind == KindString {
			st.Elems = []string{string(e.value())}
			return
		}
		switch c := e.object().obj.(type) {
		case *Hash:
			for _, he := range c.entries {
				st.Elems = append(st.Elems, he.field, string(he.val))
			}
		case *List:
			st.Elems = contents(c)
		case *Set:
			st.Elems = slices.Clone(c.members)
		case *ZSet:
			c.All(func(m string, score float64) bool {
				st.Elems = append(st.Elems, m, fmt.Sprint(math.Float64bits(score)))
				return true
			})
		}
	})
	return st, ok
}

// storeState returns the state of every live key.
func storeState(s *Store) map[string]keyState {
	out := map[string]keyState{}
	for _, k := range s.Keys("*") {
		if st, ok := stateOf(s, k); ok {
			out[k] = st
		}
	}
	return out
}

// diffStates reports the keys whose states differ, for the keys in only
// (all keys when nil).
func diffStates(a, b map[string]keyState, only func(string) bool) []string {
	var diff []string
	for k, sa := range a {
		if only != nil && !only(k) {
			continue
		}
		if sb, ok := b[k]; !ok || sa.String() != sb.String() {
			diff = append(diff, fmt.Sprintf("%q: %v vs %v", k, sa, sb))
		}
	}
	for k, sb := range b {
		if only != nil && !only(k) {
			continue
		}
		if _, ok := a[k]; !ok {
			diff = append(diff, fmt.Sprintf("%q: absent vs %v", k, sb))
		}
	}
	slices.Sort(diff)
	return diff
}

// recordCases builds keys of every kind in s, for round trips. Each
// returns the key it wrote.
var recordCases = []struct {
	name  string
	build func(t testing.TB, s *Store, clk *fakeClock) string
}{
	{"string", func(t testing.TB, s *Store, _ *fakeClock) string { set(t, s, "str", "value"); return "str" }},
	{"string with TTL", func(t testing.TB, s *Store, clk *fakeClock) string {
		setEx(t, s, "ttl", "v", clk.Ms()+60_000)
		return "ttl"
	}},
	{"empty string", func(t testing.TB, s *Store, _ *fakeClock) string { set(t, s, "empty", ""); return "empty" }},
	{"empty key", func(t testing.TB, s *Store, _ *fakeClock) string { set(t, s, "", "v"); return "" }},
	{"binary", func(t testing.TB, s *Store, _ *fakeClock) string {
		k := "\x00\xff{bin}\r\n"
		set(t, s, k, "\x00\x01\x80\xff\r\n")
		return k
	}},
	{"large string", func(t testing.TB, s *Store, _ *fakeClock) string {
		set(t, s, "big", strings.Repeat("0123456789", 20_000))
		return "big"
	}},
	{"counter", func(t testing.TB, s *Store, _ *fakeClock) string {
		s.IncrBy([]byte("n"), 42)
		return "n"
	}},
	{"hash", func(t testing.TB, s *Store, clk *fakeClock) string {
		hset(t, s, "h", "f1", "v1", "f2", "", "\x00", "\xff")
		s.Expire([]byte("h"), clk.Ms()+5000, 0)
		return "h"
	}},
	{"large hash", func(t testing.TB, s *Store, _ *fakeClock) string {
		var fv []string
		for i := range 1000 {
			fv = append(fv, fmt.Sprint("field", i), strings.Repeat("v", i%100))
		}
		hset(t, s, "bigh", fv...)
		return "bigh"
	}},
	{"list", func(t testing.TB, s *Store, _ *fakeClock) string {
		s.UpdateObject([]byte("l"), KindList, NewList, func(o Collection) error {
			o.(*List).Push(ListRight, []byte("a"), []byte(""), []byte("\x00c"))
			o.(*List).Push(ListLeft, []byte("first"))
			return nil
		})
		return "l"
	}},
	{"large list", func(t testing.TB, s *Store, _ *fakeClock) string {
		s.UpdateObject([]byte("bigl"), KindList, NewList, func(o Collection) error {
			for i := range 5000 {
				o.(*List).Push(ListRight, []byte(fmt.Sprint(i)))
			}
			return nil
		})
		return "bigl"
	}},
	{"set", func(t testing.TB, s *Store, _ *fakeClock) string {
		s.UpdateObject([]byte("s"), KindSet, NewSet, func(o Collection) error {
			for _, m := range []string{"3", "1", "2", "x", ""} {
				o.(*Set).Add([]byte(m))
			}
			return nil
		})
		return "s"
	}},
	{"large set", func(t testing.TB, s *Store, _ *fakeClock) string {
		s.UpdateObject([]byte("bigs"), KindSet, NewSet, func(o Collection) error {
			for i := range 3000 {
				o.(*Set).Add([]byte(fmt.Sprint("m", i)))
			}
			return nil
		})
		return "bigs"
	}},
	{"zset", func(t testing.TB, s *Store, _ *fakeClock) string {
		s.UpdateObject([]byte("z"), KindZSet, NewZSet, func(o Collection) error {
			z := o.(*ZSet)
			for _, m := range []struct {
				m string
				s float64
			}{{"a", 1}, {"b", 1}, {"neg", -2.5}, {"inf", math.Inf(1)}, {"-inf", math.Inf(-1)}, {"", 0}, {"tiny", math.SmallestNonzeroFloat64}} {
				z.Add([]byte(m.m), m.s, AddFlags{})
			}
			return nil
		})
		return "z"
	}},
	{"large zset", func(t testing.TB, s *Store, _ *fakeClock) string {
		s.UpdateObject([]byte("bigz"), KindZSet, NewZSet, func(o Collection) error {
			for i := range 2000 {
				o.(*ZSet).Add([]byte(fmt.Sprint("m", i)), float64(i%37)/3, AddFlags{})
			}
			return nil
		})
		return "bigz"
	}},
}

// TestRecordRoundTrip encodes keys of every kind, decodes, re-encodes,
// applies to another store and encodes again: the bytes and the states
// match at every step.
func TestRecordRoundTrip(t *testing.T) {
	for _, tc := range recordCases {
		t.Run(tc.name, func(t *testing.T) {
			src, clk := newTestStore(t, nil)
			key := tc.build(t, src, clk)
			want, ok := stateOf(src, key)
			if !ok {
				t.Fatal("key not built")
			}
			rec, ok := src.AppendRecord([]byte("prefix"), []byte(key))
			if !ok || !bytes.HasPrefix(rec, []byte("prefix")) {
				t.Fatalf("AppendRecord = %v, prefix lost", ok)
			}
			rec = rec[len("prefix"):]
			r, n, err := DecodeRecord(append(slices.Clip(rec), "trailing"...))
			if err != nil || n != len(rec) {
				t.Fatalf("DecodeRecord = %d of %d bytes, %v", n, len(rec), err)
			}
			if string(r.Key) != key || r.Kind != want.Kind || r.Version != want.Version || r.ExpireAt != want.ExpireAt || r.Deleted || r.Flush {
				t.Fatalf("decoded %+v, want %v", r, want)
			}
			if again := encodeRecord(nil, &r); !bytes.Equal(again, rec) {
				t.Fatalf("re-encoded record differs:\n%x\n%x", again, rec)
			}
			dst, _ := newTestStore(t, nil)
			if n, applied, err := dst.Apply(rec); err != nil || !applied || n != len(rec) {
				t.Fatalf("Apply = %d, %v, %v", n, applied, err)
			}
			if got, _ := stateOf(dst, key); got.String() != want.String() {
				t.Fatalf("applied state %v, want %v", got, want)
			}
			if again, _ := dst.AppendRecord(nil, []byte(key)); !bytes.Equal(again, rec) {
				t.Fatalf("record from the receiver differs")
			}
			checkInvariants(t, dst)
		})
	}
}

// TestAppendRecordAbsent checks that absent and expired keys append
// nothing.
func TestAppendRecordAbsent(t *testing.T) {
	s, clk := newTestStore(t, nil)
	setEx(t, s, "k", "v", clk.Ms()+10)
	dst := []byte("x")
	if out, ok := s.AppendRecord(dst, []byte("absent")); ok || !bytes.Equal(out, dst) {
		t.Errorf("absent: %q, %v", out, ok)
	}
	clk.Advance(time.Second)
	if out, ok := s.AppendRecord(dst, []byte("k")); ok || !bytes.Equal(out, dst) {
		t.Errorf("expired: %q, %v", out, ok)
	}
}

func TestDeleteAndFlushRecords(t *testing.T) {
	tests := []struct {
		name string
		rec  []byte
		want Record
	}{
		{"delete", AppendDeleteRecord(nil, []byte("key"), 77), Record{Deleted: true, Key: []byte("key"), Version: 77}},
		{"delete empty key", AppendDeleteRecord(nil, nil, 1), Record{Deleted: true, Key: []byte{}, Version: 1}},
		{"flush", AppendFlushRecord(nil, 16383, 1<<40), Record{Flush: true, Slot: 16383, Key: []byte{}, Version: 1 << 40}},
		{"flush slot 0", AppendFlushRecord(nil, 0, 5), Record{Flush: true, Key: []byte{}, Version: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, n, err := DecodeRecord(tt.rec)
			if err != nil || n != len(tt.rec) {
				t.Fatalf("DecodeRecord = %d of %d, %v", n, len(tt.rec), err)
			}
			if fmt.Sprintf("%+v", r) != fmt.Sprintf("%+v", tt.want) {
				t.Fatalf("decoded %+v, want %+v", r, tt.want)
			}
			if again := encodeRecord(nil, &r); !bytes.Equal(again, tt.rec) {
				t.Fatalf("re-encoded %x, want %x", again, tt.rec)
			}
		})
	}
}

// rawRecord builds a record byte by byte for the malformed cases: each
// part is a byte, a uvarint (uint64 or int), or raw bytes (string).
func rawRecord(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case byte:
			b = append(b, p)
		case int:
			b = binary.AppendUvarint(b, uint64(p))
		case uint64:
			b = binary.AppendUvarint(b, p)
		case string:
			b = append(b, p...)
		case float64:
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p))
		}
	}
	return b
}

func TestDecodeRecordErrors(t *testing.T) {
	const v, noTTL = 9, 0 // version, deadline (zigzag 0)
	tests := []struct {
		name string
		rec  []byte
		want string // in the error
	}{
		{"empty", nil, "kind: no input"},
		{"unknown kind", rawRecord(byte(0), v, noTTL, 1, "k"), "unknown kind 0"},
		{"kind 8", rawRecord(byte(8), v, noTTL, 1, "k"), "unknown kind 8"},
		{"no version", rawRecord(recString), "version: truncated"},
		{"long varint", rawRecord(recString, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01"), "overflows"},
		{"padded varint", rawRecord(recString, "\x89\x00", noTTL, 1, "k", 1, "v"), "shortest form"},
		{"padded deadline", rawRecord(recString, v, "\x80\x00", 1, "k", 1, "v"), "deadline: varint not in its shortest form"},
		{"key too long", rawRecord(recString, v, noTTL, 10, "k"), "key: length 10 exceeds the 1 bytes left"},
		{"huge key", rawRecord(recString, v, noTTL, uint64(1)<<62, "k"), "key: length"},
		{"value truncated", rawRecord(recString, v, noTTL, 1, "k", 5, "abc"), "value: length 5 exceeds the 3 bytes left"},
		{"no value", rawRecord(recString, v, noTTL, 1, "k"), "value: truncated"},
		{"empty hash", rawRecord(recHash, v, noTTL, 1, "k", 0), "empty hash"},
		{"hash count too large", rawRecord(recHash, v, noTTL, 1, "k", 3, 0, 0, 0, 0), "count: 3 exceeds"},
		{"huge list count", rawRecord(recList, v, noTTL, 1, "k", uint64(1)<<60, 0), "list item count"},
		{"list item truncated", rawRecord(recList, v, noTTL, 1, "k", 2, 1, "a", 4, "b"), "list item 1: length 4"},
		{"set member truncated", rawRecord(recSet, v, noTTL, 1, "k", 1, 9), "set member 0: length 9"},
		{"zset score truncated", rawRecord(recZSet, v, noTTL, 1, "k", 1, 1, "a", "1234567"), "zset score 0: truncated"},
		{"zset NaN", rawRecord(recZSet, v, noTTL, 1, "k", 1, 1, "a", math.NaN()), "zset score 0: NaN"},
		{"zset out of order", rawRecord(recZSet, v, noTTL, 1, "k", 2, 1, "a", 2.0, 1, "b", 1.0), "zset member 1: out of"},
		{"zset repeated", rawRecord(recZSet, v, noTTL, 1, "k", 2, 1, "a", 1.0, 1, "a", 1.0), "zset member 1: out of"},
		{"zset count for 9-byte members", rawRecord(recZSet, v, noTTL, 1, "k", 2, 1, "a", 1.0, 0), "count: 2 exceeds"},
		{"delete with deadline", rawRecord(recDelete, v, 2, 1, "k"), "deadline: 1 on a delete"},
		{"flush with key", rawRecord(recFlush, v, noTTL, 1, "k", 0), "key: 1 bytes on a flush"},
		{"flush slot out of range", rawRecord(recFlush, v, noTTL, 0, 16384), "slot: 16384 out of range"},
		{"flush no slot", rawRecord(recFlush, v, noTTL, 0), "slot: truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, n, err := DecodeRecord(tt.rec)
			if !errors.Is(err, ErrBadRecord) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeRecord(%x) = %+v, %d, %v; want an ErrBadRecord with %q", tt.rec, r, n, err, tt.want)
			}
			if n != 0 {
				t.Errorf("n = %d on error", n)
			}
			s, _ := newTestStore(t, nil)
			if n, applied, err := s.Apply(tt.rec); !errors.Is(err, ErrBadRecord) || n != 0 || applied {
				t.Errorf("Apply = %d, %v, %v", n, applied, err)
			}
		})
	}
}

// TestDecodeRecordTruncated cuts valid records of every kind at every
// length: each prefix is an error.
func TestDecodeRecordTruncated(t *testing.T) {
	for _, rec := range seedRecords(t) {
		if len(rec) > 300 {
			continue
		}
		for n := range len(rec) {
			if _, _, err := DecodeRecord(rec[:n]); !errors.Is(err, ErrBadRecord) {
				t.Fatalf("prefix %d of %x: %v", n, rec, err)
			}
		}
	}
}

// TestDecodeRecordAllocs checks that decoding allocates nothing for a valid
// record, and at most a few hundred bytes (the error) for hostile lengths
// and counts.
func TestDecodeRecordAllocs(t *testing.T) {
	for _, rec := range seedRecords(t) {
		if a := testing.AllocsPerRun(100, func() { DecodeRecord(rec) }); a != 0 {
			t.Errorf("DecodeRecord(%.20x...) allocates %.0f times", rec, a)
		}
	}
	hostile := [][]byte{
		rawRecord(recString, 1, 0, uint64(1)<<62),
		rawRecord(recList, 1, 0, 1, "k", uint64(1)<<62, 0, 0, 0),
		rawRecord(recHash, 1, 0, 1, "k", 1<<30, 0, 0),
		rawRecord(recZSet, 1, 0, 1, "k", 1<<20, strings.Repeat("\x00", 64)),
	}
	for _, rec := range hostile {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const runs = 100
		for range runs {
			if _, _, err := DecodeRecord(rec); err == nil {
				t.Fatalf("DecodeRecord(%x): no error", rec)
			}
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 1024 {
			t.Errorf("DecodeRecord(%x) allocates %d bytes per call", rec, per)
		}
	}
}

// seedRecords returns valid records of every kind: those of recordCases,
// deletes and flushes.
func seedRecords(t testing.TB) [][]byte {
	s, clk := newTestStore(t, nil)
	var out [][]byte
	for _, tc := range recordCases {
		key := tc.build(t, s, clk)
		rec, ok := s.AppendRecord(nil, []byte(key))
		if !ok {
			t.Fatalf("%s: no record", tc.name)
		}
		out = append(out, rec)
	}
	out = append(out,
		AppendDeleteRecord(nil, []byte("gone"), 1<<40),
		AppendDeleteRecord(nil, nil, 1),
		AppendFlushRecord(nil, 0, 2),
		AppendFlushRecord(nil, 16383, math.MaxUint64),
		appendStringRecord(nil, "neg", "deadline", 3, -1),
	)
	return out
}

// FuzzDecodeRecord feeds DecodeRecord arbitrary bytes: it never panics,
// never claims more bytes than it was given, and a record it accepts
// re-encodes to the same bytes. Apply of an accepted record keeps the
// store's accounting, and a value record it stores is read back as the
// same bytes.
func FuzzDecodeRecord(f *testing.F) {
	for _, rec := range seedRecords(f) {
		f.Add(rec)
	}
	f.Add(rawRecord(recZSet, 9, 0, 1, "k", 2, 1, "a", 1.0, 1, "b", 1.0))
	f.Add(rawRecord(recHash, 9, 0, 1, "k", 2, 1, "f", 0, 1, "f", 0))
	f.Add(rawRecord(recList, 9, 0, 1, "k", uint64(1)<<60))
	// One store for the whole run (a new one per input would cost more
	// than the input): each input leaves it empty.
	s, _ := newTestStore(f, nil)
	f.Fuzz(func(t *testing.T, in []byte) {
		r, n, err := DecodeRecord(in)
		if err != nil {
			if !errors.Is(err, ErrBadRecord) || n != 0 {
				t.Fatalf("error %v (n = %d) does not wrap ErrBadRecord", err, n)
			}
			return
		}
		if n <= 0 || n > len(in) {
			t.Fatalf("n = %d for %d bytes", n, len(in))
		}
		if again := encodeRecord(nil, &r); !bytes.Equal(again, in[:n]) {
			t.Fatalf("re-encoded\n%x\nwant\n%x", again, in[:n])
		}
		m, applied, err := s.Apply(in)
		if err != nil {
			if !errors.Is(err, ErrBadRecord) || m != 0 {
				t.Fatalf("Apply: %v (n = %d)", err, m)
			}
		} else if m != n {
			t.Fatalf("Apply took %d bytes, DecodeRecord %d", m, n)
		}
		stored := applied && !r.Deleted && !r.Flush
		if stored {
			if out, ok := s.AppendRecord(nil, r.Key); !ok || !bytes.Equal(out, in[:n]) {
				t.Fatalf("stored record reads back as\n%x, %v\nwant\n%x", out, ok, in[:n])
			}
			var want int64
			s.peek(r.Key, func(e *entry, _ int64) { want = e.bytes() })
			if got := s.UsedMemory(); got != want {
				t.Fatalf("UsedMemory() = %d, the entry holds %d", got, want)
			}
			if s.Len() != 1 || s.CountKeysInSlot(ring.Slot(r.Key)) != 1 {
				t.Fatalf("Len() = %d, CountKeysInSlot = %d", s.Len(), s.CountKeysInSlot(ring.Slot(r.Key)))
			}
			s.Del(r.Key)
		}
		if s.Len() != 0 || s.UsedMemory() != 0 {
			t.Fatalf("after the input: %d keys, %d bytes", s.Len(), s.UsedMemory())
		}
	})
}
