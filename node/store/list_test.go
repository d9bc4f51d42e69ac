package store

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// listOf returns a list holding vals, pushed at the tail.
func listOf(vals ...string) *List {
	l := NewList().(*List)
	for _, v := range vals {
		l.Push(ListRight, []byte(v))
	}
	return l
}

// contents returns l's elements in order.
func contents(l *List) []string {
	out := make([]string, 0, l.Len())
	for v := range l.All {
		out = append(out, string(v))
	}
	return out
}

// checkList verifies l's running counts against a recount, and the layout
// of its ring and nodes.
func checkList(t *testing.T, l *List) {
	t.Helper()
	lp := int64(listpackHeader)
	for v := range l.All {
		lp += listpackEntryBytes(v)
	}
	if lp != l.lp {
		t.Fatalf("listpack estimate %d, recount %d", l.lp, lp)
	}
	if n := len(l.nodes); n != 0 && (n&(n-1) != 0 || n < listMinRing) {
		t.Fatalf("ring of %d slots", n)
	}
	if l.count > len(l.nodes) || l.head < 0 || l.head >= max(len(l.nodes), 1) {
		t.Fatalf("%d nodes from %d in a ring of %d", l.count, l.head, len(l.nodes))
	}
	if l.n == 0 && (l.nodes != nil || l.bytes != 0) {
		t.Fatalf("empty list holds %d slots, %d bytes", len(l.nodes), l.bytes)
	}
	for i := l.count; i < len(l.nodes); i++ {
		if l.nodes[l.slot(i)] != nil {
			t.Fatalf("free slot %d still references a node", i)
		}
	}
	var b int64
	n := 0
	for i := range l.count {
		nd := l.node(i)
		b += nd.cost()
		n += nd.len()
		if nd.len() == 0 {
			t.Fatalf("node %d is empty", i)
		}
		if nd.lo > nd.hi || int(nd.hi) > len(nd.buf) || nd.olo > nd.ohi || int(nd.ohi) > len(nd.off) {
			t.Fatalf("node %d: bytes [%d,%d) of %d, offsets [%d,%d) of %d", i, nd.lo, nd.hi, len(nd.buf), nd.olo, nd.ohi, len(nd.off))
		}
		if nd.len() > 1 && (nd.size() > listNodeBytes || nd.len() > listNodeEntries) {
			t.Fatalf("node %d: %d elements, %d bytes", i, nd.len(), nd.size())
		}
		if nd.off[nd.olo] != nd.lo {
			t.Fatalf("node %d: first offset %d, lo %d", i, nd.off[nd.olo], nd.lo)
		}
		for j := nd.olo + 1; j < nd.ohi; j++ {
			if nd.off[j] < nd.off[j-1] || nd.off[j] > nd.hi {
				t.Fatalf("node %d: offset %d is %d after %d, hi %d", i, j, nd.off[j], nd.off[j-1], nd.hi)
			}
		}
	}
	if n != l.n {
		t.Fatalf("%d elements in nodes, Len %d", n, l.n)
	}
	if b != l.bytes {
		t.Fatalf("bytes %d, recount %d", l.bytes, b)
	}
}

func TestListPushPop(t *testing.T) {
	l := NewList().(*List)
	if n := l.Push(ListLeft, []byte("a"), []byte("b"), []byte("c")); n != 3 {
		t.Fatalf("Push = %d", n)
	}
	l.Push(ListRight, []byte("x"), []byte("y"))
	if got, want := contents(l), []string{"c", "b", "a", "x", "y"}; !slices.Equal(got, want) {
		t.Fatalf("contents = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		end  ListEnd
		want string
	}{{ListLeft, "c"}, {ListRight, "y"}, {ListRight, "x"}, {ListLeft, "b"}, {ListLeft, "a"}} {
		v, ok := l.Pop(tc.end)
		if !ok || string(v) != tc.want {
			t.Fatalf("Pop(%d) = %q, %v; want %q", tc.end, v, ok, tc.want)
		}
	}
	if _, ok := l.Pop(ListLeft); ok {
		t.Fatal("Pop of an empty list succeeded")
	}
	if l.Bytes() != 64 || len(l.nodes) != 0 {
		t.Fatalf("empty list holds %d bytes, %d ring slots", l.Bytes(), len(l.nodes))
	}
	checkList(t, l)
}

func TestListPushCopies(t *testing.T) {
	arg := []byte("abc")
	l := listOf()
	l.Push(ListRight, arg)
	arg[0] = 'X'
	if got := contents(l)[0]; got != "abc" {
		t.Fatalf("element aliased its argument: %q", got)
	}
	v, _ := l.Pop(ListLeft)
	l.Push(ListRight, []byte("zzz"))
	if string(v) != "abc" {
		t.Fatalf("popped element changed: %q", v)
	}
}

func TestListIndexSet(t *testing.T) {
	l := listOf("a", "b", "c")
	for _, tc := range []struct {
		i    int64
		want string
		ok   bool
	}{{0, "a", true}, {2, "c", true}, {-1, "c", true}, {-3, "a", true}, {3, "", false}, {-4, "", false}, {-1 << 63, "", false}, {1<<63 - 1, "", false}} {
		v, ok := l.Index(tc.i)
		if ok != tc.ok || string(v) != tc.want {
			t.Errorf("Index(%d) = %q, %v; want %q, %v", tc.i, v, ok, tc.want, tc.ok)
		}
	}
	if err := l.Set(-1, []byte("z")); err != nil {
		t.Fatal(err)
	}
	if err := l.Set(3, []byte("z")); !errors.Is(err, ErrIndexOutOfRange) {
		t.Fatalf("Set out of range: %v", err)
	}
	if got := contents(l); !slices.Equal(got, []string{"a", "b", "z"}) {
		t.Fatalf("after Set: %q", got)
	}
	checkList(t, l)
}

func TestListBounds(t *testing.T) {
	l := listOf("a", "b", "c", "d", "e")
	for _, tc := range []struct {
		start, stop int64
		want        []string
	}{
		{0, -1, []string{"a", "b", "c", "d", "e"}},
		{0, 0, []string{"a"}},
		{-2, -1, []string{"d", "e"}},
		{-100, 1, []string{"a", "b"}},
		{3, 100, []string{"d", "e"}},
		{5, 10, nil},
		{3, 2, nil},
		{-1, -2, nil},
		{0, -6, nil},
		{-1 << 63, 1<<63 - 1, []string{"a", "b", "c", "d", "e"}},
	} {
		first, n := l.Bounds(tc.start, tc.stop)
		var got []string
		for v := range l.Slice(first, n) {
			got = append(got, string(v))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Bounds(%d, %d) gives %q, want %q", tc.start, tc.stop, got, tc.want)
		}
	}
}

func TestListTrimInsertRemovePos(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		op   func(l *List) any
		want any // the op's result
		out  []string
	}{
		{"trim middle", []string{"a", "b", "c", "d"}, func(l *List) any { l.Trim(1, -2); return nil }, nil, []string{"b", "c"}},
		{"trim all", []string{"a", "b"}, func(l *List) any { l.Trim(2, 5); return nil }, nil, []string{}},
		{"trim reversed", []string{"a", "b"}, func(l *List) any { l.Trim(1, 0); return nil }, nil, []string{}},
		{"insert before head", []string{"a", "b"}, func(l *List) any { return l.Insert([]byte("a"), []byte("x"), false) }, 3, []string{"x", "a", "b"}},
		{"insert after tail", []string{"a", "b"}, func(l *List) any { return l.Insert([]byte("b"), []byte("x"), true) }, 3, []string{"a", "b", "x"}},
		{"insert first pivot", []string{"a", "b", "a"}, func(l *List) any { return l.Insert([]byte("a"), []byte("x"), true) }, 4, []string{"a", "x", "b", "a"}},
		{"insert middle", []string{"a", "b", "c", "d", "e"}, func(l *List) any { return l.Insert([]byte("d"), []byte("x"), false) }, 6, []string{"a", "b", "c", "x", "d", "e"}},
		{"insert no pivot", []string{"a"}, func(l *List) any { return l.Insert([]byte("z"), []byte("x"), false) }, -1, []string{"a"}},
		{"remove head first", []string{"a", "b", "a", "a"}, func(l *List) any { return l.Remove(2, []byte("a")) }, 2, []string{"b", "a"}},
		{"remove tail first", []string{"a", "b", "a", "a"}, func(l *List) any { return l.Remove(-2, []byte("a")) }, 2, []string{"a", "b"}},
		{"remove tail more than there are", []string{"a", "b", "a"}, func(l *List) any { return l.Remove(-5, []byte("a")) }, 2, []string{"b"}},
		{"remove all", []string{"a", "b", "a", "a"}, func(l *List) any { return l.Remove(0, []byte("a")) }, 3, []string{"b"}},
		{"remove none", []string{"a"}, func(l *List) any { return l.Remove(0, []byte("z")) }, 0, []string{"a"}},
		{"pos first", []string{"a", "b", "c", "b"}, func(l *List) any { return l.Pos([]byte("b"), 1, 1, 0) }, []int{1}, nil},
		{"pos rank 2", []string{"a", "b", "c", "b"}, func(l *List) any { return l.Pos([]byte("b"), 2, 1, 0) }, []int{3}, nil},
		{"pos rank -1", []string{"a", "b", "c", "b"}, func(l *List) any { return l.Pos([]byte("b"), -1, 0, 0) }, []int{3, 1}, nil},
		{"pos all", []string{"b", "b", "b"}, func(l *List) any { return l.Pos([]byte("b"), 1, 0, 0) }, []int{0, 1, 2}, nil},
		{"pos maxlen", []string{"a", "b", "c", "b"}, func(l *List) any { return l.Pos([]byte("b"), 1, 0, 3) }, []int{1}, nil},
		{"pos maxlen from tail", []string{"b", "a", "a"}, func(l *List) any { return l.Pos([]byte("b"), -1, 0, 2) }, []int(nil), nil},
		{"pos rank past matches", []string{"b"}, func(l *List) any { return l.Pos([]byte("b"), 2, 0, 0) }, []int(nil), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := listOf(tc.in...)
			got := tc.op(l)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("result %v, want %v", got, tc.want)
			}
			out := tc.out
			if out == nil {
				out = tc.in
			}
			if c := contents(l); !slices.Equal(c, out) {
				t.Fatalf("list %q, want %q", c, out)
			}
			checkList(t, l)
		})
	}
}

func TestListEncoding(t *testing.T) {
	l := listOf()
	for range 200 {
		l.Push(ListRight, []byte("small"))
	}
	if e := l.Encoding(); e != "listpack" {
		t.Fatalf("200 small elements: %s", e)
	}
	for range 2000 {
		l.Push(ListRight, []byte("small"))
	}
	if e := l.Encoding(); e != "quicklist" {
		t.Fatalf("2200 small elements: %s", e)
	}
	// Back to a listpack only well below the limit.
	l.Trim(0, 600)
	if e := l.Encoding(); e != "quicklist" {
		t.Fatalf("601 elements after trim: %s", e)
	}
	l.Trim(0, 99)
	if e := l.Encoding(); e != "listpack" {
		t.Fatalf("100 elements after trim: %s", e)
	}
	big := listOf(strings.Repeat("x", 9000))
	if e := big.Encoding(); e != "quicklist" {
		t.Fatalf("one 9000-byte element: %s", e)
	}
	if e := big.Clone().Encoding(); e != "quicklist" {
		t.Fatalf("clone: %s", e)
	}
	for _, tc := range []struct {
		v    string
		want int64
	}{{"0", 2}, {"127", 2}, {"128", 3}, {"-1", 3}, {"4095", 3}, {"-4096", 3}, {"4096", 4}, {"32767", 4}, {"32768", 5}, {"8388608", 6}, {"2147483648", 10}, {"", 2}, {"007", 5}, {strings.Repeat("a", 63), 65}, {strings.Repeat("a", 64), 67}, {strings.Repeat("a", 5000), 5007}} {
		if got := listpackEntryBytes([]byte(tc.v)); got != tc.want {
			t.Errorf("listpackEntryBytes(%.10q) = %d, want %d", tc.v, got, tc.want)
		}
	}
}

func TestListClone(t *testing.T) {
	l := listOf("a", "b", "c")
	l.Pop(ListLeft)
	l.Push(ListLeft, []byte("z")) // wraps around the ring
	c := l.Clone().(*List)
	l.Set(0, []byte("changed"))
	if got := contents(c); !slices.Equal(got, []string{"z", "b", "c"}) {
		t.Fatalf("clone = %q", got)
	}
	checkList(t, c)
	if c.Bytes() <= 64 {
		t.Fatalf("clone Bytes = %d", c.Bytes())
	}
}

// TestListModel runs random operations on a List and on a plain slice and
// compares them after each: on small lists, and on lists of many nodes
// with elements of every size from empty to past the node limit.
func TestListModel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps int
		push  int // percent of operations that push
		big   int // one element in big is large, up to 3000 bytes or, with huge, past the node limit
		huge  bool
		small int // small elements are up to this long
	}{
		{"short lists", 20000, 50, 20, false, 3},
		{"many nodes", 8000, 75, 10, false, 120},
		{"tiny elements", 6000, 85, 0, false, 6},
		{"oversized elements", 4000, 60, 8, true, 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.steps+tc.push)))
			l := NewList().(*List)
			var model [][]byte
			most := 0 // nodes
			elem := func() []byte {
				switch {
				case tc.big > 0 && rng.IntN(tc.big) == 0 && tc.huge:
					return bytes.Repeat([]byte{byte(rng.IntN(256))}, listNodeBytes-50+rng.IntN(200))
				case tc.big > 0 && rng.IntN(tc.big) == 0:
					return bytes.Repeat([]byte{byte(rng.IntN(256))}, rng.IntN(3000))
				case rng.IntN(10) == 0:
					return []byte{}
				}
				v := make([]byte, rng.IntN(tc.small+1))
				for i := range v {
					v[i] = "abc"[rng.IntN(3)]
				}
				return v
			}
			idx := func() int64 { return int64(rng.IntN(2*len(model)+6) - len(model) - 3) }
			norm := func(i int64) int64 {
				if i < 0 {
					i += int64(len(model))
				}
				return i
			}
			for step := range tc.steps {
				var op string
				switch r := rng.IntN(100); {
				case r < tc.push/2:
					op = "lpush"
					vs := [][]byte{elem(), elem()}
					l.Push(ListLeft, vs...)
					model = append([][]byte{vs[1], vs[0]}, model...)
				case r < tc.push:
					op = "rpush"
					v := elem()
					l.Push(ListRight, v)
					model = append(model, v)
				case r < tc.push+8:
					op = "pop"
					end := ListEnd(rng.IntN(2))
					want := len(model) - 1
					if end == ListLeft {
						want = 0
					}
					var v []byte
					var ok bool
					if rng.IntN(2) == 0 {
						v, ok = l.Pop(end)
					} else {
						v, ok = l.PopView(end)
					}
					if ok != (len(model) > 0) || ok && !bytes.Equal(v, model[want]) || ok && v == nil {
						t.Fatalf("step %d pop %d = %q, %v", step, end, v, ok)
					}
					if ok {
						model = slices.Delete(model, want, want+1)
					}
				case r < tc.push+11:
					op = "lset"
					i, v := idx(), elem()
					if rng.IntN(2) == 0 && len(model) > 0 { // same length: in place
						p := rng.IntN(len(model))
						i, v = int64(p), bytes.Repeat([]byte("s"), len(model[p]))
					}
					err := l.Set(i, v)
					if p := norm(i); p >= 0 && p < int64(len(model)) {
						if err != nil {
							t.Fatalf("step %d lset %d: %v", step, i, err)
						}
						model[p] = v
					} else if err == nil {
						t.Fatalf("step %d lset %d out of range succeeded", step, i)
					}
				case r < tc.push+15:
					op = "linsert"
					pivot, v, after := elem(), elem(), rng.IntN(2) == 0
					if rng.IntN(2) == 0 && len(model) > 0 {
						pivot = model[rng.IntN(len(model))]
					}
					n := l.Insert(pivot, v, after)
					p := slices.IndexFunc(model, func(e []byte) bool { return bytes.Equal(e, pivot) })
					if p < 0 {
						if n != -1 {
							t.Fatalf("step %d linsert without pivot = %d", step, n)
						}
						break
					}
					if after {
						p++
					}
					model = slices.Insert(model, p, v)
					if n != len(model) {
						t.Fatalf("step %d linsert = %d, want %d", step, n, len(model))
					}
				case r < tc.push+17:
					op = "lrem"
					count, v := int64(rng.IntN(5)-2), elem()
					if rng.IntN(4) == 0 {
						count = []int64{math.MinInt64, math.MaxInt64}[rng.IntN(2)]
					}
					n := l.Remove(count, v)
					want := 0
					if count >= 0 {
						keep := model[:0:0]
						for _, e := range model {
							if bytes.Equal(e, v) && (count == 0 || int64(want) < count) {
								want++
								continue
							}
							keep = append(keep, e)
						}
						model = keep
					} else {
						for i := len(model) - 1; i >= 0 && (count == math.MinInt64 || int64(want) < -count); i-- {
							if bytes.Equal(model[i], v) {
								model = slices.Delete(model, i, i+1)
								want++
							}
						}
					}
					if n != want {
						t.Fatalf("step %d lrem %d = %d, want %d", step, count, n, want)
					}
				case r < tc.push+18:
					op = "ltrim"
					start, stop := idx(), idx()
					if rng.IntN(10) > 0 {
						start, stop = int64(rng.IntN(40)), -1-int64(rng.IntN(40))
					}
					l.Trim(start, stop)
					first, n := modelBounds(len(model), start, stop)
					model = slices.Clone(model[first : first+n])
				case r < tc.push+20:
					op = "clone"
					c := l.Clone().(*List)
					checkList(t, c)
					if c.Bytes() > l.Bytes() || c.Encoding() != l.Encoding() {
						t.Fatalf("step %d clone: %d bytes, %s; list %d, %s", step, c.Bytes(), c.Encoding(), l.Bytes(), l.Encoding())
					}
					l = c
				case r < tc.push+24:
					op = "lindex"
					i := idx()
					v, ok := l.Index(i)
					p := norm(i)
					if in := p >= 0 && p < int64(len(model)); ok != in || in && !bytes.Equal(v, model[p]) {
						t.Fatalf("step %d lindex %d = %q, %v", step, i, v, ok)
					}
				case r < tc.push+28:
					op = "lrange"
					start, stop := idx(), idx()
					first, n := l.Bounds(start, stop)
					mf, mn := modelBounds(len(model), start, stop)
					var got [][]byte
					for v := range l.Slice(first, n) {
						got = append(got, v)
					}
					if first != mf || n != mn || !slices.EqualFunc(got, model[mf:mf+mn], bytes.Equal) {
						t.Fatalf("step %d lrange %d %d: %d+%d, want %d+%d", step, start, stop, first, n, mf, mn)
					}
				default:
					op = "lpos"
					v, rank, count, maxlen := elem(), int64(rng.IntN(5)-2), int64(rng.IntN(3)), int64(rng.IntN(4))*int64(rng.IntN(len(model)+1))
					if rank == 0 {
						rank = 1
					}
					if rng.IntN(2) == 0 && len(model) > 0 {
						v = model[rng.IntN(len(model))]
					}
					got := l.Pos(v, rank, count, maxlen)
					var want []int
					for k := range model {
						if maxlen > 0 && int64(k) >= maxlen {
							break
						}
						i := k
						if rank < 0 {
							i = len(model) - 1 - k
						}
						if bytes.Equal(model[i], v) {
							want = append(want, i)
						}
					}
					skip := min(max(rank, -rank)-1, int64(len(want)))
					want = want[skip:]
					if count > 0 && int64(len(want)) > count {
						want = want[:count]
					}
					if !slices.Equal(got, want) {
						t.Fatalf("step %d lpos rank %d count %d maxlen %d = %v, want %v", step, rank, count, maxlen, got, want)
					}
				}
				if l.Len() != len(model) {
					t.Fatalf("step %d %s: Len %d, model %d", step, op, l.Len(), len(model))
				}
				i := 0
				for v := range l.All {
					if !bytes.Equal(v, model[i]) {
						t.Fatalf("step %d %s: element %d = %q, want %q", step, op, i, v, model[i])
					}
					i++
				}
				checkList(t, l)
				most = max(most, l.count)
			}
			t.Logf("up to %d nodes; %d elements in %d at the end", most, l.Len(), l.count)
		})
	}
}

// TestListQueue pushes at one end and pops at the other, keeping a short
// list: its one node must move its elements within its buffers rather than
// grow them.
func TestListQueue(t *testing.T) {
	for _, end := range []ListEnd{ListLeft, ListRight} {
		l := listOf("a", "b", "c", "d")
		for i := range 100_000 {
			l.Push(end, fmt.Appendf(nil, "element %d", i))
			l.Pop(1 - end)
		}
		checkList(t, l)
		if l.Len() != 4 || l.count != 1 || l.Bytes() > 512 {
			t.Fatalf("push at %d: %d elements in %d nodes, %d bytes", end, l.Len(), l.count, l.Bytes())
		}
	}
}

// modelBounds is LRANGE's index arithmetic written out for the model.
func modelBounds(size int, start, stop int64) (int, int) {
	s := int64(size)
	if start < 0 {
		start += s
	}
	if stop < 0 {
		stop += s
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= s {
		return 0, 0
	}
	if stop >= s {
		stop = s - 1
	}
	return int(start), int(stop - start + 1)
}

func TestStoreListOps(t *testing.T) {
	s, _ := newTestStore(t, nil)
	push := func(key string, vals ...string) {
		t.Helper()
		err := s.UpdateObject([]byte(key), KindList, NewList, func(c Collection) error {
			for _, v := range vals {
				c.(*List).Push(ListRight, []byte(v))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	listAt := func(key string) []string {
		t.Helper()
		var out []string
		err := s.ViewObject([]byte(key), KindList, func(c Collection) error {
			if c != nil {
				out = contents(c.(*List))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	push("l", "a", "b", "c")
	if o, ok := s.Inspect([]byte("l")); !ok || o.Kind != KindList || o.Encoding != "listpack" {
		t.Fatalf("Inspect = %+v, %v", o, ok)
	}
	got, err := s.PopList([]byte("l"), ListRight, 2)
	if err != nil || fmt.Sprintf("%q", got) != `["c" "b"]` {
		t.Fatalf("PopList = %q, %v", got, err)
	}
	got, err = s.PopList([]byte("l"), ListLeft, 5)
	if err != nil || fmt.Sprintf("%q", got) != `["a"]` {
		t.Fatalf("PopList = %q, %v", got, err)
	}
	if s.Exists([]byte("l")) || s.UsedMemory() != 0 {
		t.Fatalf("emptied list remains: exists %v, used %d", s.Exists([]byte("l")), s.UsedMemory())
	}
	if got, err := s.PopList([]byte("l"), ListLeft, 1); got != nil || err != nil {
		t.Fatalf("PopList of missing key = %q, %v", got, err)
	}
	s.Set([]byte("str"), []byte("v"), SetOptions{})
	if _, err := s.PopList([]byte("str"), ListLeft, 1); !errors.Is(err, ErrWrongType) {
		t.Fatalf("PopList of a string: %v", err)
	}

	// MoveList: to a new key, rotation, wrong types, last element.
	push("src", "1", "2", "3")
	v, ok, err := s.MoveList([]byte("src"), []byte("dst"), ListRight, ListLeft)
	if err != nil || !ok || string(v) != "3" {
		t.Fatalf("MoveList = %q, %v, %v", v, ok, err)
	}
	v, ok, err = s.MoveList([]byte("src"), []byte("src"), ListLeft, ListRight)
	if err != nil || !ok || string(v) != "1" || !slices.Equal(listAt("src"), []string{"2", "1"}) {
		t.Fatalf("rotate = %q, %v, %v; src %q", v, ok, err, listAt("src"))
	}
	if _, _, err := s.MoveList([]byte("src"), []byte("str"), ListLeft, ListLeft); !errors.Is(err, ErrWrongType) {
		t.Fatalf("MoveList to a string: %v", err)
	}
	if !slices.Equal(listAt("src"), []string{"2", "1"}) {
		t.Fatalf("failed move changed src: %q", listAt("src"))
	}
	if _, _, err := s.MoveList([]byte("str"), []byte("dst"), ListLeft, ListLeft); !errors.Is(err, ErrWrongType) {
		t.Fatalf("MoveList from a string: %v", err)
	}
	if _, ok, err := s.MoveList([]byte("none"), []byte("str"), ListLeft, ListLeft); ok || err != nil {
		t.Fatalf("MoveList from a missing key: %v, %v", ok, err)
	}
	s.MoveList([]byte("src"), []byte("dst"), ListLeft, ListRight)
	s.MoveList([]byte("src"), []byte("dst"), ListLeft, ListRight)
	if s.Exists([]byte("src")) || !slices.Equal(listAt("dst"), []string{"3", "2", "1"}) {
		t.Fatalf("after moving all: src exists %v, dst %q", s.Exists([]byte("src")), listAt("dst"))
	}
	// One element moved onto its own list stays.
	push("one", "x")
	if v, ok, _ := s.MoveList([]byte("one"), []byte("one"), ListLeft, ListLeft); !ok || string(v) != "x" || !slices.Equal(listAt("one"), []string{"x"}) {
		t.Fatalf("self move of one element: %q, %v, %q", v, ok, listAt("one"))
	}
	checkInvariants(t, s)
}

// TestListConcurrentMove moves elements between two lists from many
// goroutines; none may be lost or duplicated.
func TestListConcurrentMove(t *testing.T) {
	s, _ := newTestStore(t, nil)
	const n = 200
	err := s.UpdateObject([]byte("a"), KindList, NewList, func(c Collection) error {
		for i := range n {
			c.(*List).Push(ListRight, fmt.Appendf(nil, "%d", i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			src, dst := []byte("a"), []byte("b")
			if g%2 == 1 {
				src, dst = dst, src
			}
			for range 500 {
				if _, _, err := s.MoveList(src, dst, ListEnd(g%2), ListLeft); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	seen := make(map[string]bool)
	for _, k := range []string{"a", "b"} {
		s.ViewObject([]byte(k), KindList, func(c Collection) error {
			if c != nil {
				for _, v := range contents(c.(*List)) {
					if seen[v] {
						t.Errorf("%s duplicated", v)
					}
					seen[v] = true
				}
			}
			return nil
		})
	}
	if len(seen) != n {
		t.Fatalf("%d elements after moving, want %d", len(seen), n)
	}
	checkInvariants(t, s)
}

// BenchmarkList measures pushes and pops at both ends, which the packed
// nodes keep O(1) whatever the length.
func BenchmarkList(b *testing.B) {
	v := []byte("element")
	for _, size := range []int{0, 1000, 100_000} {
		b.Run(fmt.Sprintf("len=%d", size), func(b *testing.B) {
			l := NewList().(*List)
			for range size {
				l.Push(ListRight, v)
			}
			b.ReportAllocs()
			for b.Loop() {
				l.Push(ListLeft, v)
				l.Pop(ListRight)
			}
		})
	}
}
