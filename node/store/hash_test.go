package store

import (
	"bytes"
	"errors"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// newTestHash returns a hash holding the given field/value pairs.
func newTestHash(t *testing.T, kv ...string) *Hash {
	t.Helper()
	h := NewHash().(*Hash)
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set([]byte(kv[i]), []byte(kv[i+1]))
	}
	checkHash(t, h)
	return h
}

// checkHash verifies the hash's index and its running byte count against a
// recount.
func checkHash(t *testing.T, h *Hash) {
	t.Helper()
	if len(h.index) != len(h.entries) {
		t.Fatalf("index has %d fields, entries %d", len(h.index), len(h.entries))
	}
	var bytes int64
	for i, e := range h.entries {
		if h.index[e.field] != i {
			t.Fatalf("index[%q] = %d, want %d", e.field, h.index[e.field], i)
		}
		bytes += fieldBytes(e.field, e.val)
	}
	if bytes != h.bytes {
		t.Fatalf("running byte count %d, recounted %d", h.bytes, bytes)
	}
	if want := 64 + int64(cap(h.entries))*hashEntrySize + bytes; h.Bytes() != want {
		t.Fatalf("Bytes() = %d, want %d", h.Bytes(), want)
	}
}

// hashContents returns h as a map.
func hashContents(h *Hash) map[string]string {
	m := make(map[string]string)
	h.All(func(f string, v []byte) bool {
		m[f] = string(v)
		return true
	})
	return m
}

func TestHashSetGetDel(t *testing.T) {
	type op struct {
		kind       string // "set", "del"
		field, val string
		want       bool // Set: field new; Del: field existed
	}
	for _, tc := range []struct {
		name string
		ops  []op
		want map[string]string
	}{
		{"set new", []op{{"set", "a", "1", true}}, map[string]string{"a": "1"}},
		{"overwrite", []op{{"set", "a", "1", true}, {"set", "a", "22", false}}, map[string]string{"a": "22"}},
		{"del existing", []op{{"set", "a", "1", true}, {"set", "b", "2", true}, {"del", "a", "", true}}, map[string]string{"b": "2"}},
		{"del missing", []op{{"set", "a", "1", true}, {"del", "x", "", false}}, map[string]string{"a": "1"}},
		{"del twice", []op{{"set", "a", "1", true}, {"del", "a", "", true}, {"del", "a", "", false}}, map[string]string{}},
		{"del middle keeps index", []op{
			{"set", "a", "1", true}, {"set", "b", "2", true}, {"set", "c", "3", true},
			{"del", "a", "", true}, {"set", "c", "33", false},
		}, map[string]string{"b": "2", "c": "33"}},
		{"binary", []op{{"set", "\x00\xff", "\r\n\x00", true}, {"set", "", "", true}}, map[string]string{"\x00\xff": "\r\n\x00", "": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHash().(*Hash)
			for i, o := range tc.ops {
				var got bool
				if o.kind == "set" {
					got = h.Set([]byte(o.field), []byte(o.val))
				} else {
					got = h.Del([]byte(o.field))
				}
				if got != o.want {
					t.Fatalf("op %d %v: got %v", i, o, got)
				}
				checkHash(t, h)
			}
			if got := hashContents(h); !maps.Equal(got, tc.want) {
				t.Fatalf("contents %q, want %q", got, tc.want)
			}
			if h.Len() != len(tc.want) {
				t.Fatalf("Len = %d, want %d", h.Len(), len(tc.want))
			}
			for f, v := range tc.want {
				if got, ok := h.Get([]byte(f)); !ok || string(got) != v {
					t.Fatalf("Get(%q) = %q, %v", f, got, ok)
				}
			}
		})
	}
}

func TestHashSetCopies(t *testing.T) {
	h := NewHash().(*Hash)
	f, v := []byte("field"), []byte("value")
	h.Set(f, v)
	f[0], v[0] = 'X', 'X'
	if got, ok := h.Get([]byte("field")); !ok || string(got) != "value" {
		t.Fatalf("Get = %q, %v: Set kept the caller's slices", got, ok)
	}
}

func TestHashBytes(t *testing.T) {
	h := NewHash().(*Hash)
	empty := h.Bytes()
	prev := empty
	for i := range 1000 {
		h.Set([]byte("field:"+strconv.Itoa(i)), []byte("value"))
		if h.Bytes() < prev {
			t.Fatalf("Bytes shrank from %d to %d on adding a field", prev, h.Bytes())
		}
		prev = h.Bytes()
	}
	checkHash(t, h)
	grown := h.Bytes()
	h.Set([]byte("field:0"), make([]byte, 1000))
	if h.Bytes() <= grown {
		t.Fatalf("a 1000-byte value did not grow Bytes (%d → %d)", grown, h.Bytes())
	}
	for i := range 1000 {
		h.Del([]byte("field:" + strconv.Itoa(i)))
		checkHash(t, h)
	}
	if h.Bytes() > empty+64*hashEntrySize {
		t.Fatalf("emptied hash accounts %d bytes, new one %d", h.Bytes(), empty)
	}
}

func TestHashEncoding(t *testing.T) {
	long := string(make([]byte, hashMaxListpackValue+1))
	for _, tc := range []struct {
		name  string
		build func(h *Hash)
		want  string
	}{
		{"small", func(h *Hash) { h.Set([]byte("a"), []byte("1")) }, "listpack"},
		{"128 fields", func(h *Hash) {
			for i := range hashMaxListpackEntries {
				h.Set([]byte(strconv.Itoa(i)), nil)
			}
		}, "listpack"},
		{"129 fields", func(h *Hash) {
			for i := range hashMaxListpackEntries + 1 {
				h.Set([]byte(strconv.Itoa(i)), nil)
			}
		}, "hashtable"},
		{"long value", func(h *Hash) { h.Set([]byte("a"), []byte(long)) }, "hashtable"},
		{"long field", func(h *Hash) { h.Set([]byte(long), nil) }, "hashtable"},
		{"stays hashtable after shrinking", func(h *Hash) {
			h.Set([]byte("a"), []byte(long))
			h.Set([]byte("a"), []byte("1"))
		}, "hashtable"},
		{"long float result", func(h *Hash) {
			h.Set([]byte("a"), []byte("1e70"))
			inc, _ := ParseHashFloatIncr([]byte("1"))
			h.IncrByFloat([]byte("a"), inc)
		}, "hashtable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHash().(*Hash)
			tc.build(h)
			if got := h.Encoding(); got != tc.want {
				t.Fatalf("Encoding = %q, want %q", got, tc.want)
			}
			if got := h.Clone().Encoding(); got != tc.want {
				t.Fatalf("clone's Encoding = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHashClone(t *testing.T) {
	h := newTestHash(t, "a", "1", "b", "2")
	c := h.Clone().(*Hash)
	checkHash(t, c)
	c.Set([]byte("a"), []byte("changed"))
	c.Del([]byte("b"))
	if got := hashContents(h); !maps.Equal(got, map[string]string{"a": "1", "b": "2"}) {
		t.Fatalf("original changed with its clone: %q", got)
	}
	if h.Bytes() == c.Bytes() {
		t.Fatal("clone shares the byte count")
	}
}

func TestHashIncrBy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		initial string // "" for an absent field
		delta   int64
		want    int64
		err     error
	}{
		{"absent", "", 5, 5, nil},
		{"add", "10", -3, 7, nil},
		{"negative", "-10", -5, -15, nil},
		{"to max", "9223372036854775806", 1, math.MaxInt64, nil},
		{"overflow", "9223372036854775807", 1, 0, ErrOverflow},
		{"to min", "-9223372036854775807", -1, math.MinInt64, nil},
		{"underflow", "-9223372036854775808", -1, 0, ErrOverflow},
		{"from min up", "-9223372036854775808", math.MaxInt64, -1, nil},
		{"not integer", "abc", 1, 0, ErrHashNotInteger},
		{"float", "1.5", 1, 0, ErrHashNotInteger},
		{"spaces", " 1", 1, 0, ErrHashNotInteger},
		{"plus sign", "+1", 1, 0, ErrHashNotInteger},
		{"leading zero", "01", 1, 0, ErrHashNotInteger},
		{"too big", "9223372036854775808", 1, 0, ErrHashNotInteger},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHash(t, "other", "x")
			if tc.initial != "" {
				h.Set([]byte("f"), []byte(tc.initial))
			}
			got, err := h.IncrBy([]byte("f"), tc.delta)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("IncrBy = %d, %v; want %d, %v", got, err, tc.want, tc.err)
			}
			checkHash(t, h)
			v, ok := h.Get([]byte("f"))
			switch {
			case tc.err != nil && string(v) != tc.initial:
				t.Fatalf("failed IncrBy changed the value to %q", v)
			case tc.err == nil && (!ok || string(v) != strconv.FormatInt(tc.want, 10)):
				t.Fatalf("stored %q, %v", v, ok)
			}
		})
	}
}

func TestHashIncrByFloat(t *testing.T) {
	for _, tc := range []struct {
		name          string
		initial, incr string
		want          string
		err           error
	}{
		{"absent", "", "1.5", "1.5", nil},
		{"docs example", "10.50", "0.1", "10.6", nil},
		{"long double", "0.1", "0.2", "0.3", nil},
		{"exponent", "5.0e3", "2.0e2", "5200", nil},
		{"integer result", "1.5", "1.5", "3", nil},
		{"negative", "1", "-3.5", "-2.5", nil},
		{"incr not a float", "1", "abc", "", ErrNotFloat},
		{"incr nan", "1", "nan", "", ErrNotFloat},
		{"incr inf", "1", "inf", "", ErrIncrNaN},
		{"incr -infinity", "1", "-Infinity", "", ErrIncrNaN},
		{"value not a float", "abc", "1", "", ErrHashNotFloat},
		{"value with space", " 1", "1", "", ErrHashNotFloat},
		{"value empty", "\x00", "1", "", ErrHashNotFloat},
		{"value inf", "inf", "1", "", ErrNaN},
		{"overflow", "1e4932", "1e4932", "", ErrNaN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHash(t, "other", "x")
			if tc.initial != "" {
				h.Set([]byte("f"), []byte(tc.initial))
			}
			inc, err := ParseHashFloatIncr([]byte(tc.incr))
			var got []byte
			if err == nil {
				got, err = h.IncrByFloat([]byte("f"), inc)
			}
			if !errors.Is(err, tc.err) || string(got) != tc.want {
				t.Fatalf("IncrByFloat = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
			checkHash(t, h)
			v, _ := h.Get([]byte("f"))
			want := tc.want
			if tc.err != nil {
				want = tc.initial
			}
			if string(v) != want {
				t.Fatalf("stored %q, want %q", v, want)
			}
		})
	}
}

func TestHashRandom(t *testing.T) {
	h := newTestHash(t, "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6", "g", "7", "h", "8", "i", "9", "j", "10")
	all := hashContents(h)
	seen := map[string]bool{}
	for range 1000 {
		f, v := h.Random()
		if all[f] != string(v) {
			t.Fatalf("Random = %q, %q: not a pair of the hash", f, v)
		}
		seen[f] = true
	}
	if len(seen) != len(all) {
		t.Fatalf("1000 draws saw %d of %d fields", len(seen), len(all))
	}
	for _, tc := range []struct {
		name   string
		n      int
		repeat bool
		want   int
	}{
		{"zero", 0, false, 0},
		{"one", 1, false, 1},
		{"few distinct", 3, false, 3},      // rejection sampling
		{"most distinct", 8, false, 8},     // shuffled prefix
		{"all distinct", 10, false, 10},    // whole hash
		{"more than size", 100, false, 10}, // capped
		{"repeats", 100, true, 100},        // exactly n
		{"repeats small", 2, true, 2},
		{"repeats zero", 0, true, 0},
		{"negative is nothing", -5, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			h.Sample(tc.n, tc.repeat, func(f string, v []byte) {
				if all[f] != string(v) {
					t.Fatalf("Sample yielded %q, %q: not a pair of the hash", f, v)
				}
				got = append(got, f)
			})
			if len(got) != tc.want || h.SampleLen(tc.n, tc.repeat) != tc.want {
				t.Fatalf("Sample yielded %d, SampleLen %d; want %d", len(got), h.SampleLen(tc.n, tc.repeat), tc.want)
			}
			if !tc.repeat && len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(got) {
				t.Fatalf("distinct sample repeats: %q", got)
			}
		})
	}
}

// scanHash runs Scan from cursor 0 to the end with count, calling between
// after each call, and returns every field yielded.
func scanHash(t *testing.T, h *Hash, count int, between func(call int)) []string {
	t.Helper()
	var got []string
	cursor := uint64(0)
	for call := 0; ; call++ {
		if call > 100_000 {
			t.Fatal("Scan does not end")
		}
		cursor = h.Scan(cursor, count, func(f string, _ []byte) { got = append(got, f) })
		if cursor == 0 {
			return got
		}
		if between != nil {
			between(call)
		}
	}
}

func TestHashScan(t *testing.T) {
	fields := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, "f"+strconv.Itoa(i))
		}
		return out
	}
	build := func(fs []string) *Hash {
		h := NewHash().(*Hash)
		for _, f := range fs {
			h.Set([]byte(f), []byte("v"))
		}
		return h
	}
	t.Run("listpack whole in one call", func(t *testing.T) {
		h := build(fields(100))
		var got []string
		if next := h.Scan(12345, 1, func(f string, _ []byte) { got = append(got, f) }); next != 0 {
			t.Fatalf("next cursor %d, want 0", next)
		}
		if len(got) != 100 {
			t.Fatalf("got %d fields, want 100", len(got))
		}
	})
	for _, count := range []int{1, 7, 10, 1000, 100000} {
		t.Run("hashtable count "+strconv.Itoa(count), func(t *testing.T) {
			want := fields(1000)
			h := build(want)
			got := scanHash(t, h, count, nil)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("got %d fields, want %d, each once", len(got), len(want))
			}
		})
	}
	t.Run("hashtable under changes", func(t *testing.T) {
		// Fields present throughout are returned; added and deleted ones
		// may or may not be.
		all := fields(1000)
		h := build(all)
		stable := map[string]bool{}
		for i, f := range all {
			if i%3 != 0 {
				stable[f] = true
			}
		}
		got := scanHash(t, h, 10, func(call int) {
			h.Del([]byte(all[(call*3)%1000]))
			h.Set([]byte("new"+strconv.Itoa(call)), []byte("v"))
		})
		seen := map[string]bool{}
		for _, f := range got {
			seen[f] = true
		}
		for f := range stable {
			if !seen[f] {
				t.Fatalf("field %q, present throughout, was not returned", f)
			}
		}
		checkHash(t, h)
	})
}

func TestHashInStore(t *testing.T) {
	s, _ := newTestStore(t, nil)
	key := []byte("h")
	update := func(fn func(h *Hash)) {
		t.Helper()
		err := s.UpdateObject(key, KindHash, NewHash, func(c Collection) error {
			fn(c.(*Hash))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, s)
	}
	base := s.UsedMemory()
	update(func(h *Hash) { h.Set([]byte("a"), []byte("1")) })
	one := s.UsedMemory()
	if one <= base {
		t.Fatalf("used memory %d → %d on creating a hash", base, one)
	}
	update(func(h *Hash) { h.Set([]byte("b"), make([]byte, 4096)) })
	if s.UsedMemory() <= one+4096 {
		t.Fatalf("used memory %d → %d on a 4 KB value", one, s.UsedMemory())
	}
	update(func(h *Hash) { h.IncrBy([]byte("n"), 1) })
	update(func(h *Hash) {
		for _, f := range []string{"a", "b", "n"} {
			h.Del([]byte(f))
		}
	})
	if s.Exists(key) || s.UsedMemory() != base {
		t.Fatalf("emptied hash: exists %v, used memory %d, want %d", s.Exists(key), s.UsedMemory(), base)
	}
	// A failed update leaves nothing behind.
	err := s.UpdateObject(key, KindHash, NewHash, func(c Collection) error {
		_, err := c.(*Hash).IncrBy([]byte("n"), 1)
		if err != nil {
			return err
		}
		return ErrOverflow
	})
	if !errors.Is(err, ErrOverflow) || s.Exists(key) {
		t.Fatalf("failed create: %v, exists %v", err, s.Exists(key))
	}
	checkInvariants(t, s)
}

func BenchmarkHash(b *testing.B) {
	for _, size := range []int{16, 1024} {
		h := NewHash().(*Hash)
		fields := make([][]byte, size)
		for i := range size {
			fields[i] = []byte("field:" + strconv.Itoa(i))
			h.Set(fields[i], []byte("value"))
		}
		b.Run("get/fields="+strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				h.Get(fields[i%size])
				i++
			}
		})
		b.Run("set-existing/fields="+strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				h.Set(fields[i%size], []byte("value"))
				i++
			}
		})
		b.Run("random/fields="+strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.Random()
			}
		})
	}
}

func TestSelectSmallest(t *testing.T) {
	for _, tc := range []struct {
		name string
		sums []uint64
	}{
		{"one", []uint64{7}},
		{"sorted", []uint64{1, 2, 3, 4, 5, 6}},
		{"reversed", []uint64{6, 5, 4, 3, 2, 1}},
		{"duplicates", []uint64{3, 1, 3, 3, 2, 3, 1, 3}},
		{"all equal", []uint64{4, 4, 4, 4}},
		{"extremes", []uint64{math.MaxUint64, 0, 1 << 63, math.MaxUint64 - 1, 0}},
	} {
		for k := 1; k <= len(tc.sums); k++ {
			t.Run(tc.name+"/k="+strconv.Itoa(k), func(t *testing.T) {
				c := make([]scanCand, len(tc.sums))
				for i, s := range tc.sums {
					c[i] = scanCand{s, i}
				}
				selectSmallest(c, k)
				want := slices.Sorted(slices.Values(tc.sums))
				var got []uint64
				for _, x := range c[:k] {
					got = append(got, x.sum)
				}
				slices.Sort(got)
				if !slices.Equal(got, want[:k]) || c[k-1].sum != want[k-1] {
					t.Fatalf("first %d: %v (c[k-1] %d); want %v", k, got, c[k-1].sum, want[:k])
				}
			})
		}
	}
}

// TestHashSetInPlace: overwriting a field with a value of the same size
// class reuses its memory; a much smaller one gets a fitting allocation.
// The byte count follows both.
func TestHashSetInPlace(t *testing.T) {
	h := NewHash().(*Hash)
	h.Set([]byte("f"), bytes.Repeat([]byte("a"), 60))
	before := &h.entries[0].val[0]
	if h.Set([]byte("f"), bytes.Repeat([]byte("b"), 64)) {
		t.Fatal("Set of an existing field reported it new")
	}
	if v, _ := h.Get([]byte("f")); string(v) != strings.Repeat("b", 64) || &v[0] != before {
		t.Fatalf("value %q, reused %v", v, &v[0] == before)
	}
	checkHash(t, h)
	big := h.Bytes()
	h.Set([]byte("f"), []byte("c"))
	if v, _ := h.Get([]byte("f")); string(v) != "c" || &v[0] == before || h.Bytes() >= big {
		t.Fatalf("value %q, reused %v, bytes %d then %d", v, &v[0] == before, big, h.Bytes())
	}
	checkHash(t, h)
}
