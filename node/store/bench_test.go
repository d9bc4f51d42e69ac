package store

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cached/cached/ring"
)

// benchKeys is how many distinct keys the benchmarks spread over, so they
// touch many shards and groups as a real workload does.
const benchKeys = 1 << 14

func newBenchStore(b testing.TB, edit func(*Config)) *Store {
	b.Helper()
	cfg := DefaultConfig()
	cfg.Logger = slog.New(slog.DiscardHandler)
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchKeyList(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%08d", i)
	}
	return keys
}

func fill(b testing.TB, s *Store, keys [][]byte, val []byte) {
	for _, k := range keys {
		if _, _, _, err := s.Set(k, val, SetOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func reportOps(b *testing.B) {
	if secs := b.Elapsed().Seconds(); secs > 0 {
		b.ReportMetric(float64(b.N)/secs, "ops/s")
	}
}

// TestGetHitAllocatesNothing checks the documented guarantee: a GET hit
// allocates nothing.
func TestGetHitAllocatesNothing(t *testing.T) {
	s, clk := newTestStore(t, nil)
	keys := benchKeyList(64)
	for i, k := range keys {
		at := int64(0)
		if i%2 == 0 {
			at = clk.Ms() + 1_000_000 // volatile keys take the same path
		}
		if _, _, _, err := s.Set(k, []byte("some value of modest size"), SetOptions{ExpireAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	i := 0
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, ok, _ := s.AppendGet(buf[:0], keys[i%len(keys)], AppendValue); !ok {
			panic("miss")
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("AppendGet hit allocates %.2f times, want 0", allocs)
	}
}

// TestSetOverwriteAllocations checks that overwriting a key with a value of
// about the same size happens in place, and a much larger one costs one
// allocation (the new entry).
func TestSetOverwriteAllocations(t *testing.T) {
	s, _ := newTestStore(t, nil)
	key := []byte("key")
	set(t, s, "key", "value")
	same, larger := []byte("other"), []byte(strings.Repeat("v", 100))
	if allocs := testing.AllocsPerRun(1000, func() { s.Set(key, same, SetOptions{}) }); allocs != 0 {
		t.Errorf("Set of a same-size value allocates %.2f times, want 0", allocs)
	}
	if allocs := testing.AllocsPerRun(1000, func() {
		s.Set(key, larger, SetOptions{})
		s.Set(key, same, SetOptions{})
	}); allocs != 2 {
		t.Errorf("Set of a larger then a smaller value allocates %.2f times, want 2", allocs)
	}
	checkInvariants(t, s)
}

// TestIncrInPlace checks that INCR rewrites a counter in place.
func TestIncrInPlace(t *testing.T) {
	s, _ := newTestStore(t, nil)
	key := []byte("n")
	if _, err := s.IncrBy(key, 1); err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(1000, func() { s.IncrBy(key, -1<<40) }); allocs != 0 {
		t.Errorf("IncrBy allocates %.2f times, want 0", allocs)
	}
	wantValue(t, s, "n", strconv.FormatInt(1-1001*(1<<40), 10), true)
	checkInvariants(t, s)
}

func BenchmarkGet(b *testing.B) {
	s := newBenchStore(b, nil)
	keys := benchKeyList(benchKeys)
	fill(b, s, keys, []byte(strings.Repeat("v", 64)))
	b.ReportAllocs()
	i := 0
	buf := make([]byte, 0, 128)
	for b.Loop() {
		if _, ok, _ := s.AppendGet(buf[:0], keys[i&(benchKeys-1)], AppendValue); !ok {
			b.Fatal("miss")
		}
		i++
	}
	reportOps(b)
}

func BenchmarkGetMiss(b *testing.B) {
	s := newBenchStore(b, nil)
	keys := benchKeyList(benchKeys)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Get(keys[i&(benchKeys-1)])
		i++
	}
	reportOps(b)
}

func BenchmarkSet(b *testing.B) {
	for _, size := range []int{64, 1024} {
		b.Run(fmt.Sprintf("valSz=%db", size), func(b *testing.B) {
			s := newBenchStore(b, nil)
			keys := benchKeyList(benchKeys)
			val := []byte(strings.Repeat("v", size))
			fill(b, s, keys, val)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			i := 0
			for b.Loop() {
				s.Set(keys[i&(benchKeys-1)], val, SetOptions{})
				i++
			}
			reportOps(b)
		})
	}
}

// BenchmarkSetEvicting measures a write that must evict first, as under a
// full maxmemory.
func BenchmarkSetEvicting(b *testing.B) {
	for _, p := range []Policy{AllKeysLRU, AllKeysLFU, AllKeysRandom, VolatileTTL} {
		b.Run(p.String(), func(b *testing.B) {
			val := []byte(strings.Repeat("v", 64))
			s := newBenchStore(b, func(c *Config) {
				c.Policy = p
				c.MaxMemory = 4096 * entryBytes(12, len(val))
			})
			keys := benchKeyList(benchKeys * 4)
			at := time.Now().Add(time.Hour).UnixMilli()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := s.Reserve(); err != nil {
					b.Fatal(err)
				}
				s.Set(keys[i%len(keys)], val, SetOptions{ExpireAt: at + int64(i%1000)})
				i++
			}
			reportOps(b)
		})
	}
}

func BenchmarkIncrBy(b *testing.B) {
	s := newBenchStore(b, nil)
	keys := benchKeyList(1024)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.IncrBy(keys[i&1023], 1)
		i++
	}
	reportOps(b)
}

func BenchmarkAppend(b *testing.B) {
	s := newBenchStore(b, nil)
	keys := benchKeyList(1024)
	val := []byte("0123456789abcdef")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := keys[i&1023]
		if n, _ := s.Append(k, val); n > 1<<16 {
			s.Del(k)
		}
		i++
	}
	reportOps(b)
}

func BenchmarkGetParallel(b *testing.B) {
	s := newBenchStore(b, nil)
	keys := benchKeyList(benchKeys)
	fill(b, s, keys, []byte(strings.Repeat("v", 64)))
	var seed atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seed.Add(7919))
		buf := make([]byte, 0, 128)
		for pb.Next() {
			if _, ok, _ := s.AppendGet(buf[:0], keys[i&(benchKeys-1)], AppendValue); !ok {
				b.Error("miss")
				return
			}
			i++
		}
	})
	reportOps(b)
}

// BenchmarkMixedParallel is 90% GET, 10% SET over shared keys.
func BenchmarkMixedParallel(b *testing.B) {
	s := newBenchStore(b, nil)
	keys := benchKeyList(benchKeys)
	val := []byte(strings.Repeat("v", 64))
	fill(b, s, keys, val)
	var seed atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seed.Add(7919))
		buf := make([]byte, 0, 128)
		for pb.Next() {
			k := keys[i&(benchKeys-1)]
			if i%10 == 0 {
				s.Set(k, val, SetOptions{})
			} else {
				s.AppendGet(buf[:0], k, AppendValue)
			}
			i++
		}
	})
	reportOps(b)
}

// benchRecordKinds builds one key of each shape for the record benchmarks
// and returns the key.
var benchRecordKinds = []struct {
	name  string
	build func(b testing.TB, s *Store) []byte
}{
	{"string/valSz=64b", func(b testing.TB, s *Store) []byte {
		fill(b, s, [][]byte{[]byte("str")}, []byte(strings.Repeat("v", 64)))
		return []byte("str")
	}},
	{"string/valSz=1024b", func(b testing.TB, s *Store) []byte {
		fill(b, s, [][]byte{[]byte("str")}, []byte(strings.Repeat("v", 1024)))
		return []byte("str")
	}},
	{"hash/fields=100", func(b testing.TB, s *Store) []byte {
		var fv []string
		for i := range 100 {
			fv = append(fv, fmt.Sprint("field:", i), strings.Repeat("v", 16))
		}
		hset(b, s, "hash", fv...)
		return []byte("hash")
	}},
	{"zset/members=100", func(b testing.TB, s *Store) []byte {
		s.UpdateObject([]byte("zset"), KindZSet, NewZSet, func(o Collection) error {
			for i := range 100 {
				o.(*ZSet).Add(fmt.Appendf(nil, "member:%d", i), float64(i), AddFlags{})
			}
			return nil
		})
		return []byte("zset")
	}},
}

func BenchmarkAppendRecord(b *testing.B) {
	for _, k := range benchRecordKinds {
		b.Run(k.name, func(b *testing.B) {
			s := newBenchStore(b, nil)
			key := k.build(b, s)
			buf, _ := s.AppendRecord(nil, key)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = s.AppendRecord(buf[:0], key)
			}
			reportOps(b)
		})
	}
}

// BenchmarkApply applies records that always win (each newer than the
// last), as a replica does.
func BenchmarkApply(b *testing.B) {
	for _, k := range benchRecordKinds {
		b.Run(k.name, func(b *testing.B) {
			src := newBenchStore(b, nil)
			key := k.build(b, src)
			rec, _ := src.AppendRecord(nil, key)
			r, _, _ := DecodeRecord(rec)
			// Rewrite the version in place: same length for versions of
			// the same magnitude.
			head := binary.AppendUvarint([]byte{rec[0]}, r.Version)
			body := rec[len(head):]
			dst := newBenchStore(b, nil)
			b.SetBytes(int64(len(rec)))
			b.ReportAllocs()
			v := r.Version
			for b.Loop() {
				v++
				rec = append(binary.AppendUvarint(append(rec[:0], head[0]), v), body...)
				if _, ok, err := dst.Apply(rec); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
			reportOps(b)
		})
	}
}

// BenchmarkSetTracked is BenchmarkSet on tracked slots, with a consumer
// taking the changes, to show what change tracking costs a write.
func BenchmarkSetTracked(b *testing.B) {
	s := newBenchStore(b, nil)
	for slot := range ring.SlotCount {
		s.TrackSlot(slot, true)
	}
	keys := benchKeyList(benchKeys)
	val := []byte(strings.Repeat("v", 64))
	fill(b, s, keys, val)
	var changes []Change
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.Set(keys[i&(benchKeys-1)], val, SetOptions{})
		i++
		if i%1024 == 0 {
			changes, _ = s.TakeChanges(changes[:0])
		}
	}
	reportOps(b)
}

// randomZSet returns a set of 100,000 members, element:0 and on, with
// random scores, and the members.
func randomZSet() (*ZSet, [][]byte) {
	z := NewZSet().(*ZSet)
	members := make([][]byte, 100000)
	for i := range members {
		members[i] = []byte("element:" + strconv.Itoa(i))
		z.Add(members[i], float64(rand.IntN(100000)), AddFlags{})
	}
	return z, members
}

// BenchmarkZSetAddRandom is redis-benchmark's ZADD on the set itself: random
// scores for members drawn from 100,000, most of them already there.
func BenchmarkZSetAddRandom(b *testing.B) {
	z, members := randomZSet()
	b.ReportAllocs()
	for b.Loop() {
		z.Add(members[rand.IntN(len(members))], float64(rand.IntN(100000)), AddFlags{})
	}
}

// BenchmarkZSetRankRandom looks up the ranks of random members of a 100,000
// member set.
func BenchmarkZSetRankRandom(b *testing.B) {
	z, members := randomZSet()
	b.ReportAllocs()
	for b.Loop() {
		z.Rank(members[rand.IntN(len(members))], false)
	}
}

// benchListValue is the element the list benchmarks push: 64 bytes, as
// redis-benchmark's default payload after its key prefix.
var benchListValue = []byte(strings.Repeat("v", 64))

// BenchmarkListPushLeft measures LPUSH of 64-byte values onto one list of
// 1 to 3 million elements (refilled, untimed, when it passes 3 million).
func BenchmarkListPushLeft(b *testing.B) {
	const base, top = 1_000_000, 3_000_000
	newBase := func() *List {
		l := NewList().(*List)
		for range base {
			l.Push(ListLeft, benchListValue)
		}
		return l
	}
	l := newBase()
	b.ReportAllocs()
	for b.Loop() {
		if l.Len() >= top {
			b.StopTimer()
			l = newBase()
			b.StartTimer()
		}
		l.Push(ListLeft, benchListValue)
	}
	reportOps(b)
}

// BenchmarkListPopLeft measures LPOP from one list of up to 3 million
// 64-byte elements (refilled, untimed, when empty): Pop, which copies, and
// PopView, which LPOP's reply uses.
func BenchmarkListPopLeft(b *testing.B) {
	const top = 3_000_000
	for _, tc := range []struct {
		name string
		pop  func(*List, ListEnd) ([]byte, bool)
	}{{"Pop", (*List).Pop}, {"PopView", (*List).PopView}} {
		b.Run(tc.name, func(b *testing.B) {
			l := NewList().(*List)
			b.ReportAllocs()
			for b.Loop() {
				if l.Len() == 0 {
					b.StopTimer()
					for range top {
						l.Push(ListLeft, benchListValue)
					}
					b.StartTimer()
				}
				tc.pop(l, ListLeft)
			}
			reportOps(b)
		})
	}
}

// BenchmarkListIndex measures LINDEX of the middle of lists of 64-byte
// elements, which walks the nodes from the nearer end.
func BenchmarkListIndex(b *testing.B) {
	for _, size := range []int{1000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("len=%d", size), func(b *testing.B) {
			l := NewList().(*List)
			for range size {
				l.Push(ListRight, benchListValue)
			}
			b.ReportAllocs()
			for b.Loop() {
				l.Index(int64(size / 2))
			}
		})
	}
}

// BenchmarkListMemory reports the heap a list holds per 64-byte element,
// pushed one at a time at the head to a million elements, and how long a
// full garbage collection then takes.
func BenchmarkListMemory(b *testing.B) {
	const n = 1_000_000
	var perElem, accounted float64
	var gc time.Duration
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := NewList().(*List)
		for range n {
			l.Push(ListLeft, benchListValue)
		}
		t := time.Now()
		runtime.GC()
		gc = time.Since(t)
		runtime.ReadMemStats(&after)
		perElem = float64(after.HeapAlloc-before.HeapAlloc) / n
		accounted = float64(l.Bytes()) / n
	}
	b.ReportMetric(perElem, "B/elem")
	b.ReportMetric(float64(gc.Microseconds()), "gc-µs")
	b.ReportMetric(accounted, "accounted-B/elem")
}

// benchSet returns a set of n 20-byte members, element:000000000000 and on.
func benchSet(n int) *Set {
	s := NewSet().(*Set)
	for i := range n {
		s.Add(benchMember(nil, i))
	}
	return s
}

// benchMember writes member i of benchSet into buf, grown as needed, and
// returns it.
func benchMember(buf []byte, i int) []byte {
	buf = append(buf[:0], "element:000000000000"...)
	for j := len(buf) - 1; i > 0; j-- {
		buf[j] = byte('0' + i%10)
		i /= 10
	}
	return buf
}

// BenchmarkSetRandomMembers measures, on sets of 20-byte members,
// redis-benchmark's SADD with -r (Add of random members, all already
// there), SISMEMBER hits and misses, and SREM then SADD of a random member.
// The member is written into one buffer, hot in cache as a request's
// argument is.
func BenchmarkSetRandomMembers(b *testing.B) {
	for _, size := range []int{1000, 100_000} {
		s := benchSet(size)
		for _, bc := range []struct {
			name string
			op   func(m []byte)
		}{
			{"AddExisting", func(m []byte) { s.Add(m) }},
			{"HasHit", func(m []byte) { s.Has(m) }},
			{"HasMiss", func(m []byte) { m[8] = 'x'; s.Has(m) }},
			{"RemoveAdd", func(m []byte) { s.Remove(m); s.Add(m) }},
		} {
			b.Run(fmt.Sprintf("%s/size=%d", bc.name, size), func(b *testing.B) {
				buf := benchMember(nil, 0)
				b.ReportAllocs()
				for b.Loop() {
					bc.op(benchMember(buf, rand.IntN(size)))
				}
				reportOps(b)
			})
		}
	}
}

// BenchmarkSetMemory reports the heap a set holds per 20-byte member, added
// one at a time to a million members, and what Bytes accounts for.
func BenchmarkSetMemory(b *testing.B) {
	const n = 1_000_000
	buf := benchMember(nil, 0)
	var perMember, accounted float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := NewSet().(*Set)
		for i := range n {
			s.Add(benchMember(buf, i))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perMember = float64(after.HeapAlloc-before.HeapAlloc) / n
		accounted = float64(s.Bytes()) / n
		runtime.KeepAlive(s)
	}
	b.ReportMetric(perMember, "B/member")
	b.ReportMetric(accounted, "accounted-B/member")
}
