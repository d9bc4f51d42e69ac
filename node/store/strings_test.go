package store

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSet(t *testing.T) {
	const key = "k"
	type want struct {
		old      string
		hadOld   bool
		written  bool
		val      string // "" with !exists: missing
		exists   bool
		deadline int64 // relative to the clock at the start; 0: none
	}
	tests := []struct {
		name     string
		has      bool   // whether the key exists before
		existing string // its value when it does
		deadline int64  // of the existing key, relative; 0: none
		val      string
		opt      func(now int64) SetOptions
		want     want
	}{
		{
			name: "new key",
			val:  "v", opt: func(int64) SetOptions { return SetOptions{} },
			want: want{written: true, val: "v", exists: true},
		},
		{
			name: "overwrite", has: true, existing: "old",
			val: "new", opt: func(int64) SetOptions { return SetOptions{} },
			want: want{written: true, val: "new", exists: true},
		},
		{
			name: "overwrite clears deadline", has: true, existing: "old", deadline: 5000,
			val: "new", opt: func(int64) SetOptions { return SetOptions{} },
			want: want{written: true, val: "new", exists: true},
		},
		{
			name: "overwrite sets a new deadline", has: true, existing: "old", deadline: 5000,
			val: "new", opt: func(now int64) SetOptions { return SetOptions{ExpireAt: now + 9000} },
			want: want{written: true, val: "new", exists: true, deadline: 9000},
		},
		{
			name: "keepttl keeps the deadline", has: true, existing: "old", deadline: 5000,
			val: "new", opt: func(int64) SetOptions { return SetOptions{KeepTTL: true} },
			want: want{written: true, val: "new", exists: true, deadline: 5000},
		},
		{
			name: "keepttl on a key without one", has: true, existing: "old",
			val: "new", opt: func(int64) SetOptions { return SetOptions{KeepTTL: true} },
			want: want{written: true, val: "new", exists: true},
		},
		{
			name: "keepttl on a new key",
			val:  "new", opt: func(int64) SetOptions { return SetOptions{KeepTTL: true} },
			want: want{written: true, val: "new", exists: true},
		},
		{
			name: "nx on missing",
			val:  "v", opt: func(int64) SetOptions { return SetOptions{Cond: SetNX} },
			want: want{written: true, val: "v", exists: true},
		},
		{
			name: "nx on existing", has: true, existing: "old", deadline: 5000,
			val: "v", opt: func(int64) SetOptions { return SetOptions{Cond: SetNX} },
			want: want{written: false, val: "old", exists: true, deadline: 5000},
		},
		{
			name: "xx on missing",
			val:  "v", opt: func(int64) SetOptions { return SetOptions{Cond: SetXX} },
			want: want{written: false},
		},
		{
			name: "xx on existing", has: true, existing: "old",
			val: "v", opt: func(int64) SetOptions { return SetOptions{Cond: SetXX} },
			want: want{written: true, val: "v", exists: true},
		},
		{
			name: "get on missing",
			val:  "v", opt: func(int64) SetOptions { return SetOptions{Get: true} },
			want: want{written: true, val: "v", exists: true},
		},
		{
			name: "get on existing", has: true, existing: "old",
			val: "v", opt: func(int64) SetOptions { return SetOptions{Get: true} },
			want: want{old: "old", hadOld: true, written: true, val: "v", exists: true},
		},
		{
			name: "get with empty old value", has: true, existing: "",
			val: "v", opt: func(int64) SetOptions { return SetOptions{Get: true} },
			want: want{old: "", hadOld: true, written: true, val: "v", exists: true},
		},
		{
			name: "nx get on existing", has: true, existing: "old",
			val: "v", opt: func(int64) SetOptions { return SetOptions{Cond: SetNX, Get: true} },
			want: want{old: "old", hadOld: true, written: false, val: "old", exists: true},
		},
		{
			name: "xx get on missing",
			val:  "v", opt: func(int64) SetOptions { return SetOptions{Cond: SetXX, Get: true} },
			want: want{written: false},
		},
		{
			name: "empty value",
			val:  "", opt: func(int64) SetOptions { return SetOptions{} },
			want: want{written: true, val: "", exists: true},
		},
		{
			name: "with deadline",
			val:  "v", opt: func(now int64) SetOptions { return SetOptions{ExpireAt: now + 1234} },
			want: want{written: true, val: "v", exists: true, deadline: 1234},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newTestStore(t, nil)
			start := clk.Ms()
			if tt.has {
				var at int64
				if tt.deadline != 0 {
					at = start + tt.deadline
				}
				setEx(t, s, key, tt.existing, at)
			}
			old, hadOld, written, err := s.Set([]byte(key), []byte(tt.val), tt.opt(start))
			if err != nil {
				t.Fatalf("Set: %v", err)
			}
			if string(old) != tt.want.old || hadOld != tt.want.hadOld || written != tt.want.written {
				t.Errorf("Set = %q, %v, %v; want %q, %v, %v", old, hadOld, written, tt.want.old, tt.want.hadOld, tt.want.written)
			}
			wantValue(t, s, key, tt.want.val, tt.want.exists)
			at, _, ok := s.Deadline([]byte(key))
			var wantAt int64
			if tt.want.deadline != 0 {
				wantAt = start + tt.want.deadline
			}
			if ok != tt.want.exists || at != wantAt {
				t.Errorf("Deadline = %d, %v; want %d, %v", at, ok, wantAt, tt.want.exists)
			}
			checkInvariants(t, s)
		})
	}
}

func TestSetOverExpiredKey(t *testing.T) {
	tests := []struct {
		name        string
		opt         SetOptions
		wantWritten bool
		wantHad     bool
	}{
		{"nx writes", SetOptions{Cond: SetNX}, true, false},
		{"xx does not", SetOptions{Cond: SetXX}, false, false},
		{"get finds no old value", SetOptions{Get: true}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newTestStore(t, nil)
			setEx(t, s, "k", "old", clk.Ms()+10)
			clk.Advance(11 * time.Millisecond) // 1ms past the deadline
			old, had, written, err := s.Set([]byte("k"), []byte("new"), tt.opt)
			if err != nil || written != tt.wantWritten || had != tt.wantHad || old != nil {
				t.Fatalf("Set = %q, %v, %v, %v; want nil, %v, %v, nil", old, had, written, err, tt.wantHad, tt.wantWritten)
			}
			if tt.wantWritten {
				wantValue(t, s, "k", "new", true)
				if at, _, _ := s.Deadline([]byte("k")); at != 0 {
					t.Errorf("deadline %d survived the expired key", at)
				}
			} else {
				wantValue(t, s, "k", "", false)
			}
			checkInvariants(t, s)
		})
	}
}

func TestGetMissAndHitCounters(t *testing.T) {
	s, _ := newTestStore(t, nil)
	wantValue(t, s, "nope", "", false)
	set(t, s, "yes", "1")
	wantValue(t, s, "yes", "1", true)
	if st := s.Stats(); st.Hits != 1 || st.Misses != 1 {
		t.Fatalf("Stats() = %+v, want 1 hit and 1 miss", st)
	}
}

// TestBinaryKeysAndValues checks that keys and values are opaque bytes.
func TestBinaryKeysAndValues(t *testing.T) {
	tests := []struct {
		name, key, val string
	}{
		{"empty key", "", "empty-key value"},
		{"empty value", "k", ""},
		{"nul key", "\x00", "nul"},
		{"nul inside", "a\x00b", "x\x00y\x00"},
		{"0xff", "\xff\xfe\xfd", "\xff\x00\xff"},
		{"invalid utf8", "\xc3\x28", "\xa0\xa1"},
		{"open brace", "{", "brace"},
		{"empty hash tag", "{}x", "tag"},
		{"hash tag", "{user}:1", "tagged"},
		{"crlf", "a\r\nb", "\r\n"},
		{"long key", strings.Repeat("k", 10000), strings.Repeat("\x00", 1000)},
	}
	s, _ := newTestStore(t, nil)
	for _, tt := range tests {
		set(t, s, tt.key, tt.val)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantValue(t, s, tt.key, tt.val, true)
			if !s.Exists([]byte(tt.key)) {
				t.Errorf("Exists(%q) = false", tt.key)
			}
			// A key differing in one trailing byte is another key.
			if s.Exists([]byte(tt.key + "\x01")) {
				t.Errorf("Exists(%q+\\x01) = true", tt.key)
			}
		})
	}
	all := s.Keys("*")
	var scanned []string
	for cursor := uint64(0); ; {
		var keys []string
		cursor, keys = s.Scan(cursor, ScanOptions{Count: 3})
		scanned = append(scanned, keys...)
		if cursor == 0 {
			break
		}
	}
	for _, tt := range tests {
		if !contains(all, tt.key) {
			t.Errorf("Keys(*) misses %q", tt.key)
		}
		if !contains(scanned, tt.key) {
			t.Errorf("Scan misses %q", tt.key)
		}
	}
	for _, tt := range tests {
		if !s.Del([]byte(tt.key)) {
			t.Errorf("Del(%q) = false", tt.key)
		}
	}
	if s.Len() != 0 || s.UsedMemory() != 0 {
		t.Errorf("after deleting all: Len() = %d, UsedMemory() = %d", s.Len(), s.UsedMemory())
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestGetDel(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(s *Store, clk *fakeClock)
		wantVal string
		wantOK  bool
	}{
		{"missing", func(*Store, *fakeClock) {}, "", false},
		{"existing", func(s *Store, _ *fakeClock) { set(t, s, "k", "v") }, "v", true},
		{"volatile", func(s *Store, clk *fakeClock) { setEx(t, s, "k", "v", clk.Ms()+1000) }, "v", true},
		{"at its deadline", func(s *Store, clk *fakeClock) {
			setEx(t, s, "k", "v", clk.Ms()+1000)
			clk.Advance(time.Second)
		}, "v", true},
		{"expired", func(s *Store, clk *fakeClock) {
			setEx(t, s, "k", "v", clk.Ms()+1000)
			clk.Advance(time.Second + time.Millisecond)
		}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newTestStore(t, nil)
			tt.setup(s, clk)
			val, ok, err := s.GetDel([]byte("k"))
			if err != nil || ok != tt.wantOK || string(val) != tt.wantVal {
				t.Fatalf("GetDel = %q, %v, %v; want %q, %v, nil", val, ok, err, tt.wantVal, tt.wantOK)
			}
			if s.Exists([]byte("k")) || s.Len() != 0 || s.UsedMemory() != 0 {
				t.Errorf("key survives GetDel: Len() = %d, UsedMemory() = %d", s.Len(), s.UsedMemory())
			}
			checkInvariants(t, s)
		})
	}
}

func TestGetEx(t *testing.T) {
	tests := []struct {
		name         string
		deadline     int64 // existing key's, relative; 0 none; -1 key missing
		change       func(now int64) ExpireChange
		wantOK       bool
		wantExists   bool
		wantDeadline int64 // relative; 0 none
	}{
		{"missing", -1, func(int64) ExpireChange { return ExpireChange{} }, false, false, 0},
		{"no change", 0, func(int64) ExpireChange { return ExpireChange{} }, true, true, 0},
		{"no change keeps deadline", 5000, func(int64) ExpireChange { return ExpireChange{} }, true, true, 5000},
		{"persist", 5000, func(int64) ExpireChange { return ExpireChange{Persist: true} }, true, true, 0},
		{"persist without deadline", 0, func(int64) ExpireChange { return ExpireChange{Persist: true} }, true, true, 0},
		{"set", 0, func(now int64) ExpireChange { return ExpireChange{Set: true, At: now + 7000} }, true, true, 7000},
		{"set replaces", 5000, func(now int64) ExpireChange { return ExpireChange{Set: true, At: now + 100} }, true, true, 100},
		{"set now deletes", 5000, func(now int64) ExpireChange { return ExpireChange{Set: true, At: now} }, true, false, 0},
		{"set past deletes", 0, func(now int64) ExpireChange { return ExpireChange{Set: true, At: now - 1} }, true, false, 0},
		{"set at 1 deletes", 0, func(int64) ExpireChange { return ExpireChange{Set: true, At: 1} }, true, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newTestStore(t, nil)
			now := clk.Ms()
			switch {
			case tt.deadline > 0:
				setEx(t, s, "k", "v", now+tt.deadline)
			case tt.deadline == 0:
				set(t, s, "k", "v")
			}
			val, ok, err := s.GetEx([]byte("k"), tt.change(now))
			wantVal := ""
			if tt.wantOK {
				wantVal = "v"
			}
			if err != nil || ok != tt.wantOK || string(val) != wantVal {
				t.Fatalf("GetEx = %q, %v, %v; want %q, %v, nil", val, ok, err, wantVal, tt.wantOK)
			}
			at, _, exists := s.Deadline([]byte("k"))
			var wantAt int64
			if tt.wantDeadline != 0 {
				wantAt = now + tt.wantDeadline
			}
			if exists != tt.wantExists || at != wantAt {
				t.Errorf("Deadline = %d, %v; want %d, %v", at, exists, wantAt, tt.wantExists)
			}
			wantVolatile := int64(0)
			if wantAt != 0 {
				wantVolatile = 1
			}
			if got := s.Stats().VolatileKeys; got != wantVolatile {
				t.Errorf("VolatileKeys = %d, want %d", got, wantVolatile)
			}
			checkInvariants(t, s)
		})
	}
}

func TestAppend(t *testing.T) {
	tests := []struct {
		name    string
		initial []string // values appended in order, starting from a missing key
		want    string
	}{
		{"create", []string{"abc"}, "abc"},
		{"create empty", []string{""}, ""},
		{"grow", []string{"abc", "def"}, "abcdef"},
		{"append empty", []string{"abc", ""}, "abc"},
		{"many", []string{"a", "bb", "ccc", "dddd", "eeeee", "f"}, "abbcccddddeeeeef"},
		{"binary", []string{"\x00", "\xff", "\x00"}, "\x00\xff\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestStore(t, nil)
			total := 0
			for _, part := range tt.initial {
				total += len(part)
				n, err := s.Append([]byte("k"), []byte(part))
				if err != nil || n != total {
					t.Fatalf("Append(%q) = %d, %v; want %d, nil", part, n, err, total)
				}
				checkInvariants(t, s)
			}
			wantValue(t, s, "k", tt.want, true)
		})
	}
}

func TestAppendKeepsDeadline(t *testing.T) {
	s, clk := newTestStore(t, nil)
	at := clk.Ms() + 5000
	setEx(t, s, "k", "a", at)
	for range 10 {
		if _, err := s.Append([]byte("k"), []byte("bcd")); err != nil {
			t.Fatal(err)
		}
	}
	if got, _, _ := s.Deadline([]byte("k")); got != at {
		t.Errorf("Deadline after Append = %d, want %d", got, at)
	}
	checkInvariants(t, s)
}

// entryOf returns the entry stored under key, for white-box checks.
func entryOf(s *Store, key string) *entry {
	sh, i := s.locate([]byte(key))
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return s.get(sh, i, []byte(key))
}

// TestAppendInPlaceKeepsEarlierReads checks the slice contract: a value read
// before an APPEND or SETRANGE keeps its bytes, including when the append
// fits in spare capacity and is done in place.
func TestAppendInPlaceKeepsEarlierReads(t *testing.T) {
	s, _ := newTestStore(t, nil)
	key := []byte("k")
	if _, err := s.Append(key, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	// The second append reallocates with spare capacity.
	if _, err := s.Append(key, []byte(" world")); err != nil {
		t.Fatal(err)
	}
	e := entryOf(s, "k")
	if e.vcap <= e.vlen {
		t.Fatalf("no spare capacity after a growing Append: len %d cap %d", e.vlen, e.vcap)
	}
	first, _, _ := s.Get(key)
	firstCopy := string(first)
	before := e

	// Fits in the spare capacity: done in place.
	if _, err := s.Append(key, []byte("!")); err != nil {
		t.Fatal(err)
	}
	if entryOf(s, "k") != before {
		t.Fatalf("small Append reallocated; the in-place path was not taken")
	}
	if string(first) != firstCopy {
		t.Fatalf("earlier Get result changed by in-place Append: %q, was %q", first, firstCopy)
	}
	wantValue(t, s, "k", "hello world!", true)

	second, _, _ := s.Get(key)
	if _, err := s.SetRange(key, 0, []byte("HELLO")); err != nil {
		t.Fatal(err)
	}
	if string(first) != firstCopy || string(second) != "hello world!" {
		t.Fatalf("earlier Get results changed by SetRange: %q, %q", first, second)
	}
	if _, err := s.SetRange(key, 20, []byte("far")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(key, []byte("...")); err != nil {
		t.Fatal(err)
	}
	if string(first) != firstCopy || string(second) != "hello world!" {
		t.Fatalf("earlier Get results changed: %q, %q", first, second)
	}
	wantValue(t, s, "k", "HELLO world!\x00\x00\x00\x00\x00\x00\x00\x00far...", true)
	checkInvariants(t, s)
}

// TestReadResultsDoNotAliasSpareCapacity checks that a caller appending to a
// slice it read from the store (as a reply writer might, adding "\r\n")
// cannot write into the spare capacity that an in-place APPEND has filled.
func TestReadResultsDoNotAliasSpareCapacity(t *testing.T) {
	reads := []struct {
		name string
		read func(s *Store, key []byte) []byte
	}{
		{"Get", func(s *Store, key []byte) []byte { v, _, _ := s.Get(key); return v }},
		{"GetEx", func(s *Store, key []byte) []byte { v, _, _ := s.GetEx(key, ExpireChange{}); return v }},
	}
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) {
			s, _ := newTestStore(t, nil)
			key := []byte("k")
			s.Append(key, []byte("abc"))
			s.Append(key, []byte("def")) // reallocates with spare capacity
			v := r.read(s, key)
			if _, err := s.Append(key, []byte("XY")); err != nil { // in place
				t.Fatal(err)
			}
			reply := append(v, "\r\n"...)
			wantValue(t, s, "k", "abcdefXY", true)
			if string(reply) != "abcdef\r\n" {
				t.Errorf("caller's slice = %q, want %q", reply, "abcdef\r\n")
			}
		})
	}
}

func TestAppendTooLarge(t *testing.T) {
	s, _ := newTestStore(t, nil)
	set(t, s, "k", "x")
	// A fresh large allocation is untouched zero pages: Append must refuse
	// it from its length alone, before copying anything.
	big := make([]byte, MaxStringLen)
	if _, err := s.Append([]byte("k"), big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Append past MaxStringLen = %v, want ErrTooLarge", err)
	}
	wantValue(t, s, "k", "x", true)
	checkInvariants(t, s)
}

func TestSetRange(t *testing.T) {
	tests := []struct {
		name     string
		existing *string
		offset   int64
		val      string
		wantN    int
		wantErr  error
		want     *string // nil: key missing afterwards
	}{
		{"missing key pads", nil, 5, "ab", 7, nil, ptr("\x00\x00\x00\x00\x00ab")},
		{"missing key at 0", nil, 0, "ab", 2, nil, ptr("ab")},
		{"overwrite middle", ptr("Hello World"), 6, "Redis", 11, nil, ptr("Hello Redis")},
		{"overwrite start", ptr("Hello World"), 0, "J", 11, nil, ptr("Jello World")},
		{"extend", ptr("Hello"), 3, "p me", 7, nil, ptr("Help me")},
		{"pad after end", ptr("ab"), 4, "c", 5, nil, ptr("ab\x00\x00c")},
		{"append at end", ptr("ab"), 2, "cd", 4, nil, ptr("abcd")},
		{"empty value on existing", ptr("Hello"), 100, "", 5, nil, ptr("Hello")},
		{"empty value on missing", nil, 100, "", 0, nil, nil},
		{"empty value far beyond limit", ptr("Hello"), MaxStringLen * 4, "", 5, nil, ptr("Hello")},
		{"too large on missing", nil, MaxStringLen, "x", 0, ErrTooLarge, nil},
		{"too large on existing", ptr("Hello"), MaxStringLen - 1, "xy", 0, ErrTooLarge, ptr("Hello")},
		{"offset overflows int64", ptr("Hello"), math.MaxInt64, "x", 0, ErrTooLarge, ptr("Hello")},
		{"offset overflows on missing", nil, math.MaxInt64 - 1, "xy", 0, ErrTooLarge, nil},
		{"binary", ptr("\x00\x00\x00"), 1, "\xff", 3, nil, ptr("\x00\xff\x00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestStore(t, nil)
			if tt.existing != nil {
				set(t, s, "k", *tt.existing)
			}
			n, err := s.SetRange([]byte("k"), tt.offset, []byte(tt.val))
			if !errors.Is(err, tt.wantErr) || n != tt.wantN {
				t.Fatalf("SetRange = %d, %v; want %d, %v", n, err, tt.wantN, tt.wantErr)
			}
			if tt.want == nil {
				wantValue(t, s, "k", "", false)
			} else {
				wantValue(t, s, "k", *tt.want, true)
			}
			checkInvariants(t, s)
		})
	}
}

func ptr(s string) *string { return &s }

func TestSetRangeKeepsDeadline(t *testing.T) {
	s, clk := newTestStore(t, nil)
	at := clk.Ms() + 5000
	setEx(t, s, "k", "abc", at)
	if _, err := s.SetRange([]byte("k"), 10, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Deadline([]byte("k")); got != at {
		t.Errorf("Deadline after SetRange = %d, want %d", got, at)
	}
}

func TestIncrBy(t *testing.T) {
	tests := []struct {
		name     string
		existing *string
		delta    int64
		want     int64
		wantErr  error
		wantVal  string // value afterwards
	}{
		{"missing", nil, 5, 5, nil, "5"},
		{"missing negative", nil, -5, -5, nil, "-5"},
		{"missing zero", nil, 0, 0, nil, "0"},
		{"existing", ptr("10"), 5, 15, nil, "15"},
		{"to negative", ptr("3"), -10, -7, nil, "-7"},
		{"negative existing", ptr("-3"), 1, -2, nil, "-2"},
		{"zero existing", ptr("0"), 1, 1, nil, "1"},
		{"reach max", ptr(strconv.FormatInt(math.MaxInt64-1, 10)), 1, math.MaxInt64, nil, "9223372036854775807"},
		{"reach min", ptr(strconv.FormatInt(math.MinInt64+1, 10)), -1, math.MinInt64, nil, "-9223372036854775808"},
		{"min delta from zero", ptr("0"), math.MinInt64, math.MinInt64, nil, "-9223372036854775808"},
		{"max delta from -1", ptr("-1"), math.MaxInt64, math.MaxInt64 - 1, nil, "9223372036854775806"},
		{"overflow up", ptr("9223372036854775807"), 1, 0, ErrOverflow, "9223372036854775807"},
		{"overflow up big", ptr("1"), math.MaxInt64, 0, ErrOverflow, "1"},
		{"overflow down", ptr("-9223372036854775808"), -1, 0, ErrOverflow, "-9223372036854775808"},
		{"overflow down big", ptr("-2"), math.MinInt64, 0, ErrOverflow, "-2"},
		{"not integer leading space", ptr(" 1"), 1, 0, ErrNotInteger, " 1"},
		{"not integer trailing space", ptr("1 "), 1, 0, ErrNotInteger, "1 "},
		{"not integer leading zero", ptr("01"), 1, 0, ErrNotInteger, "01"},
		{"not integer negative zero", ptr("-0"), 1, 0, ErrNotInteger, "-0"},
		{"not integer plus", ptr("+1"), 1, 0, ErrNotInteger, "+1"},
		{"not integer float", ptr("1.0"), 1, 0, ErrNotInteger, "1.0"},
		{"not integer empty", ptr(""), 1, 0, ErrNotInteger, ""},
		{"not integer word", ptr("abc"), 1, 0, ErrNotInteger, "abc"},
		{"not integer 20 digits", ptr("99999999999999999999"), 1, 0, ErrNotInteger, "99999999999999999999"},
		{"not integer 21 digits", ptr("100000000000000000000"), 1, 0, ErrNotInteger, "100000000000000000000"},
		{"not integer below min", ptr("-9223372036854775809"), 1, 0, ErrNotInteger, "-9223372036854775809"},
		{"not integer nul", ptr("1\x00"), 1, 0, ErrNotInteger, "1\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestStore(t, nil)
			if tt.existing != nil {
				set(t, s, "k", *tt.existing)
			}
			got, err := s.IncrBy([]byte("k"), tt.delta)
			if !errors.Is(err, tt.wantErr) || (err == nil && got != tt.want) {
				t.Fatalf("IncrBy = %d, %v; want %d, %v", got, err, tt.want, tt.wantErr)
			}
			wantValue(t, s, "k", tt.wantVal, tt.existing != nil || tt.wantErr == nil)
			checkInvariants(t, s)
		})
	}
}

func TestIncrByKeepsDeadline(t *testing.T) {
	s, clk := newTestStore(t, nil)
	at := clk.Ms() + 5000
	setEx(t, s, "k", "1", at)
	if _, err := s.IncrBy([]byte("k"), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IncrByFloat([]byte("k"), []byte("0.5")); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Deadline([]byte("k")); got != at {
		t.Errorf("Deadline after increments = %d, want %d", got, at)
	}
	wantValue(t, s, "k", "2.5", true)
	checkInvariants(t, s)
}

// TestIncrByFloat's expectations were read from redis-server 7.0, which
// computes in long double: 0.1 + 0.2 is "0.3", and 1e400 is in range.
func TestIncrByFloat(t *testing.T) {
	big308 := "279769313486231570002352240441350078789299929179619934003987695617693370918830364684014944221042050987341155710361544171686148029276505307138777262321877129888036065002204239033812550598509174132739480498569620043582760541189365866551522561741435317031294527744011878159793174665688773926186886103199182225408"
	tests := []struct {
		name     string
		existing *string
		incr     string
		want     string
		wantErr  error
	}{
		{"missing", nil, "1.5", "1.5", nil},
		{"redis doc example", ptr("10.50"), "0.1", "10.6", nil},
		{"exponent input", ptr("3.0e3"), "2000", "5000", nil},
		{"integer stays integer", ptr("1"), "1", "2", nil},
		{"to zero", ptr("1.5"), "-1.5", "0", nil},
		{"negative", ptr("-1.5"), "-1", "-2.5", nil},
		{"large without exponent", ptr("1e20"), "0", "100000000000000000000", nil},
		{"small without exponent", ptr("0"), "1e-7", "0.0000001", nil},
		{"below 17 decimals", ptr("0"), "1e-20", "0", nil},
		{"long double sum", ptr("0.1"), "0.2", "0.3", nil},
		{"long double sum 2", ptr("3.1"), "0.2", "3.3", nil},
		{"past float64 range", ptr("1.7976931348623157e308"), "1e308", big308, nil},
		{"leading dot", ptr("5"), ".5", "5.5", nil},
		{"trailing dot", ptr("5."), "1", "6", nil},
		{"plus sign", ptr("1"), "+1", "2", nil},
		{"leading zero", ptr("01"), "1", "2", nil},
		{"negative zero", ptr("-0"), "0", "0", nil},
		{"fraction", ptr("0"), "123456789.125", "123456789.125", nil},
		{"inf incr", ptr("1"), "inf", "", ErrNaN},
		{"negative inf incr", nil, "-inf", "", ErrNaN},
		{"inf value", ptr("inf"), "1", "", ErrNaN},
		{"nan incr", ptr("1"), "nan", "", ErrNotFloat},
		{"nan value", ptr("nan"), "1", "", ErrNotFloat},
		{"incr out of range", ptr("1"), "1e4933", "", ErrNotFloat},
		{"underscore", ptr("1"), "1_0", "", ErrNotFloat},
		{"not float", ptr("abc"), "1", "", ErrNotFloat},
		{"leading space", ptr(" 1"), "1", "", ErrNotFloat},
		{"trailing space", ptr("1 "), "1", "", ErrNotFloat},
		{"empty value", ptr(""), "1", "", ErrNotFloat},
		{"empty incr", ptr("1"), "", "", ErrNotFloat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestStore(t, nil)
			if tt.existing != nil {
				set(t, s, "k", *tt.existing)
			}
			got, err := s.IncrByFloat([]byte("k"), []byte(tt.incr))
			if !errors.Is(err, tt.wantErr) || string(got) != tt.want {
				t.Fatalf("IncrByFloat = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
			switch {
			case err == nil:
				wantValue(t, s, "k", tt.want, true)
			case tt.existing != nil:
				wantValue(t, s, "k", *tt.existing, true) // unchanged
			default:
				wantValue(t, s, "k", "", false) // not created
			}
			checkInvariants(t, s)
		})
	}
}

func TestIncrByFloatResultIsParsable(t *testing.T) {
	s, _ := newTestStore(t, nil)
	for i := range 200 {
		incr := strconv.FormatFloat(math.Pow(10, float64(i%40-20))*float64(i+1), 'g', -1, 64)
		if i%3 == 0 {
			incr = "-" + incr
		}
		out, err := s.IncrByFloat([]byte("f"), []byte(incr))
		if err != nil {
			t.Fatalf("IncrByFloat(%s): %v", incr, err)
		}
		if bytes.ContainsAny(out, "eE") {
			t.Fatalf("IncrByFloat result %q has an exponent", out)
		}
		if _, ok := parseLongDouble(out); !ok {
			t.Fatalf("IncrByFloat result %q does not parse", out)
		}
	}
	checkInvariants(t, s)
}

func TestMSet(t *testing.T) {
	tests := []struct {
		name     string
		existing map[string]string
		volatile []string // existing keys given a deadline
		expired  []string // existing keys that have expired
		pairs    []string
		nx       bool
		wantOK   bool
		want     map[string]string // every key afterwards
	}{
		{
			name:   "all new",
			pairs:  []string{"a", "1", "b", "2", "c", "3"},
			wantOK: true,
			want:   map[string]string{"a": "1", "b": "2", "c": "3"},
		},
		{
			name:     "overwrite",
			existing: map[string]string{"a": "old", "z": "z"},
			pairs:    []string{"a", "1", "b", "2"},
			wantOK:   true,
			want:     map[string]string{"a": "1", "b": "2", "z": "z"},
		},
		{
			name:   "repeated key keeps the last",
			pairs:  []string{"a", "1", "a", "2"},
			wantOK: true,
			want:   map[string]string{"a": "2"},
		},
		{
			name:   "nx all new",
			pairs:  []string{"a", "1", "b", "2"},
			nx:     true,
			wantOK: true,
			want:   map[string]string{"a": "1", "b": "2"},
		},
		{
			name:     "nx one exists",
			existing: map[string]string{"b": "old"},
			pairs:    []string{"a", "1", "b", "2", "c", "3"},
			nx:       true,
			wantOK:   false,
			want:     map[string]string{"b": "old"},
		},
		{
			name:     "nx expired counts as missing",
			existing: map[string]string{"b": "old"},
			expired:  []string{"b"},
			pairs:    []string{"a", "1", "b", "2"},
			nx:       true,
			wantOK:   true,
			want:     map[string]string{"a": "1", "b": "2"},
		},
		{
			name:     "clears deadlines",
			existing: map[string]string{"a": "old"},
			volatile: []string{"a"},
			pairs:    []string{"a", "1"},
			wantOK:   true,
			want:     map[string]string{"a": "1"},
		},
		{
			name:   "hash tags share a shard",
			pairs:  []string{"{t}a", "1", "{t}b", "2"},
			wantOK: true,
			want:   map[string]string{"{t}a": "1", "{t}b": "2"},
		},
		{
			name:   "binary",
			pairs:  []string{"", "\x00", "\xff", ""},
			wantOK: true,
			want:   map[string]string{"": "\x00", "\xff": ""},
		},
		{
			name:   "no pairs",
			wantOK: true,
			want:   map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newTestStore(t, nil)
			for k, v := range tt.existing {
				var at int64
				switch {
				case contains(tt.volatile, k):
					at = clk.Ms() + 10000
				case contains(tt.expired, k):
					at = clk.Ms() + 1
				}
				setEx(t, s, k, v, at)
			}
			clk.Advance(2 * time.Millisecond)
			pairs := make([][]byte, len(tt.pairs))
			for i, p := range tt.pairs {
				pairs[i] = []byte(p)
			}
			if got := s.MSet(pairs, tt.nx); got != tt.wantOK {
				t.Fatalf("MSet = %v, want %v", got, tt.wantOK)
			}
			for k, v := range tt.want {
				wantValue(t, s, k, v, true)
				if at, _, _ := s.Deadline([]byte(k)); at != 0 && contains(tt.pairs, k) && tt.wantOK {
					t.Errorf("%q kept deadline %d", k, at)
				}
			}
			if got := len(s.Keys("*")); got != len(tt.want) {
				t.Errorf("%d keys, want %d: %q", got, len(tt.want), s.Keys("*"))
			}
			checkInvariants(t, s)
		})
	}
}

// TestMSetAtomic checks that no reader sees an MSET half done.
func TestMSetAtomic(t *testing.T) {
	s, _ := newTestStore(t, nil)
	const n = 16
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "atomic:%d", i)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for round := range 300 {
			pairs := make([][]byte, 0, 2*n)
			v := strconv.AppendInt(nil, int64(round), 10)
			for _, k := range keys {
				pairs = append(pairs, k, v)
			}
			s.MSet(pairs, false)
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
		}
		// Lock every key's shard as MSET does and read all values at once.
		unlock := s.lockKeys(keys)
		var first *entry
		for _, k := range keys {
			sh, i := s.locate(k)
			e := s.get(sh, i, k)
			if first == nil {
				first = e
			}
			if (e == nil) != (first == nil) || (e != nil && string(e.value()) != string(first.value())) {
				unlock()
				t.Fatalf("MSET seen half done")
			}
		}
		unlock()
	}
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1", 1, true},
		{"-1", -1, true},
		{"10", 10, true},
		{"123456789", 123456789, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"18446744073709551616", 0, false},
		{"100000000000000000000", 0, false},
		{"-100000000000000000000", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{"+", 0, false},
		{"+1", 0, false},
		{"01", 0, false},
		{"00", 0, false},
		{"-0", 0, false},
		{"-01", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"1.0", 0, false},
		{"1e3", 0, false},
		{"0x10", 0, false},
		{"1_000", 0, false},
		{"abc", 0, false},
		{"1\x00", 0, false},
		{"--1", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseInt([]byte(tt.in))
			if ok != tt.ok || (ok && got != tt.want) { // the value is unspecified when !ok
				t.Errorf("ParseInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}
