package store

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cached/cached/ring"
)

func TestDel(t *testing.T) {
	tests := []struct {
		name  string
		setup func(s *Store, clk *fakeClock)
		want  bool
	}{
		{"missing", func(*Store, *fakeClock) {}, false},
		{"existing", func(s *Store, _ *fakeClock) { set(t, s, "k", "v") }, true},
		{"volatile", func(s *Store, clk *fakeClock) { setEx(t, s, "k", "v", clk.Ms()+10) }, true},
		{"at its deadline", func(s *Store, clk *fakeClock) {
			setEx(t, s, "k", "v", clk.Ms()+10)
			clk.Advance(10 * time.Millisecond)
		}, true},
		{"expired", func(s *Store, clk *fakeClock) {
			setEx(t, s, "k", "v", clk.Ms()+10)
			clk.Advance(11 * time.Millisecond)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newTestStore(t, nil)
			tt.setup(s, clk)
			if got := s.Del([]byte("k")); got != tt.want {
				t.Errorf("Del = %v, want %v", got, tt.want)
			}
			if s.Del([]byte("k")) {
				t.Errorf("second Del = true")
			}
			if s.Len() != 0 || s.UsedMemory() != 0 {
				t.Errorf("Len() = %d, UsedMemory() = %d after Del", s.Len(), s.UsedMemory())
			}
			checkInvariants(t, s)
		})
	}
}

func TestExistsTypeTouch(t *testing.T) {
	s, clk := newTestStore(t, nil)
	set(t, s, "plain", "v")
	setEx(t, s, "volatile", "v", clk.Ms()+1000)
	setEx(t, s, "expired", "v", clk.Ms()+1)
	clk.Advance(2 * time.Millisecond)
	tests := []struct {
		key  string
		want bool
	}{
		{"plain", true},
		{"volatile", true},
		{"expired", false},
		{"missing", false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := s.Exists([]byte(tt.key)); got != tt.want {
				t.Errorf("Exists = %v, want %v", got, tt.want)
			}
			kind, ok := s.Type([]byte(tt.key))
			if ok != tt.want || (ok && kind != KindString) {
				t.Errorf("Type = %v, %v; want string, %v", kind, ok, tt.want)
			}
			if got := s.Touch([]byte(tt.key)); got != tt.want {
				t.Errorf("Touch = %v, want %v", got, tt.want)
			}
		})
	}
	if st := s.Stats(); st.Hits != 0 || st.Misses != 0 {
		t.Errorf("Exists/Type/Touch counted hits or misses: %+v", st)
	}
}

func TestKindString(t *testing.T) {
	if got := KindString.String(); got != "string" {
		t.Errorf("KindString.String() = %q", got)
	}
	if got := Kind(200).String(); got != "none" {
		t.Errorf("Kind(200).String() = %q, want none", got)
	}
}

func TestTouchResetsIdle(t *testing.T) {
	s, clk := newTestStore(t, nil)
	set(t, s, "k", "v")
	clk.Advance(5 * time.Second)
	if o, _ := s.Inspect([]byte("k")); o.IdleMs != 5000 {
		t.Fatalf("IdleMs = %d, want 5000", o.IdleMs)
	}
	s.Touch([]byte("k"))
	if o, _ := s.Inspect([]byte("k")); o.IdleMs != 0 {
		t.Fatalf("IdleMs after Touch = %d, want 0", o.IdleMs)
	}
}

func TestKeys(t *testing.T) {
	s, clk := newTestStore(t, nil)
	for _, k := range []string{"hello", "hallo", "hxllo", "hllo", "heeeello", "a*b", "foo:1", "foo:2", "bar:1", "\x00bin"} {
		set(t, s, k, "v")
	}
	setEx(t, s, "hello:expired", "v", clk.Ms()+1)
	setEx(t, s, "foo:expired", "v", clk.Ms()+1)
	clk.Advance(2 * time.Millisecond)

	tests := []struct {
		pattern string
		want    []string
	}{
		{"*", []string{"hello", "hallo", "hxllo", "hllo", "heeeello", "a*b", "foo:1", "foo:2", "bar:1", "\x00bin"}},
		{"h?llo", []string{"hello", "hallo", "hxllo"}},
		{"h*llo", []string{"hello", "hallo", "hxllo", "hllo", "heeeello"}},
		{"h[ae]llo", []string{"hello", "hallo"}},
		{"h[^e]llo", []string{"hallo", "hxllo"}},
		{"h[a-b]llo", []string{"hallo"}},
		{"foo:*", []string{"foo:1", "foo:2"}},
		{"*:1", []string{"foo:1", "bar:1"}},
		{`a\*b`, []string{"a*b"}},
		{"\x00*", []string{"\x00bin"}},
		{"nomatch*", nil},
		{"hello", []string{"hello"}},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got := s.Keys(tt.pattern)
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("Keys(%q) = %q, want %q", tt.pattern, got, want)
			}
		})
	}
}

// scanAll runs a full SCAN iteration and returns the keys in order of return.
func scanAll(t testing.TB, s *Store, opt ScanOptions) []string {
	t.Helper()
	var all []string
	cursor := uint64(0)
	for calls := 0; ; calls++ {
		if calls > ring.SlotCount+1 {
			t.Fatalf("Scan did not finish after %d calls", calls)
		}
		next, keys := s.Scan(cursor, opt)
		all = append(all, keys...)
		if next == 0 {
			return all
		}
		if next <= cursor {
			t.Fatalf("Scan cursor went from %d to %d", cursor, next)
		}
		cursor = next
	}
}

// checkOnce reports keys of want missing from got or returned more than once.
func checkOnce(t testing.TB, got []string, want map[string]bool) {
	t.Helper()
	seen := make(map[string]int, len(got))
	for _, k := range got {
		seen[k]++
	}
	missing, repeated := 0, 0
	for k := range want {
		switch n := seen[k]; {
		case n == 0:
			missing++
			if missing <= 5 {
				t.Errorf("key %q not returned", k)
			}
		case n > 1:
			repeated++
			if repeated <= 5 {
				t.Errorf("key %q returned %d times", k, n)
			}
		}
	}
	for k, n := range seen {
		if n > 1 && !want[k] {
			t.Errorf("key %q returned %d times", k, n)
		}
	}
	if missing+repeated > 0 {
		t.Errorf("%d keys missing, %d repeated", missing, repeated)
	}
}

func TestScan(t *testing.T) {
	s, clk := newTestStore(t, nil)
	const n = 2000
	want := make(map[string]bool, n)
	users := make(map[string]bool)
	for i := range n {
		k := fmt.Sprintf("key:%d", i)
		if i%10 == 0 {
			k = fmt.Sprintf("user:%d", i)
			users[k] = true
		}
		set(t, s, k, "v")
		want[k] = true
	}
	setEx(t, s, "expired", "v", clk.Ms()+1)
	clk.Advance(2 * time.Millisecond)

	tests := []struct {
		name string
		opt  ScanOptions
		want map[string]bool
	}{
		{"count 1", ScanOptions{Count: 1}, want},
		{"count 7", ScanOptions{Count: 7}, want},
		{"default count", ScanOptions{}, want},
		{"negative count", ScanOptions{Count: -3}, want},
		{"count larger than store", ScanOptions{Count: 1 << 20}, want},
		{"match", ScanOptions{Count: 10, Match: "user:*"}, users},
		{"match none", ScanOptions{Count: 10, Match: "nothing:*"}, map[string]bool{}},
		{"type string", ScanOptions{Count: 10, Type: "string"}, want},
		{"type list", ScanOptions{Count: 10, Type: "list"}, map[string]bool{}},
		{"match and type", ScanOptions{Count: 10, Match: "user:*", Type: "string"}, users},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanAll(t, s, tt.opt)
			if len(got) != len(tt.want) {
				t.Errorf("Scan returned %d keys, want %d", len(got), len(tt.want))
			}
			checkOnce(t, got, tt.want)
		})
	}

	t.Run("count bounds each call", func(t *testing.T) {
		// Count is a hint, met group by group: a call returns at least
		// Count keys unless it reaches the end.
		next, keys := s.Scan(0, ScanOptions{Count: 50})
		if next == 0 || len(keys) < 50 {
			t.Errorf("Scan(0, 50) = %d, %d keys", next, len(keys))
		}
	})
	t.Run("cursor past the end", func(t *testing.T) {
		next, keys := s.Scan(ring.SlotCount, ScanOptions{})
		if next != 0 || len(keys) != 0 {
			t.Errorf("Scan(SlotCount) = %d, %q; want 0, none", next, keys)
		}
		next, keys = s.Scan(1<<40, ScanOptions{})
		if next != 0 || len(keys) != 0 {
			t.Errorf("Scan(1<<40) = %d, %q; want 0, none", next, keys)
		}
	})
	t.Run("empty store", func(t *testing.T) {
		empty, _ := newTestStore(t, nil)
		next, keys := empty.Scan(0, ScanOptions{Count: 10})
		if next != 0 || len(keys) != 0 {
			t.Errorf("Scan on empty store = %d, %q", next, keys)
		}
	})
}

// TestScanWhileChanging checks SCAN's guarantee: a full iteration returns
// every key that existed throughout, exactly once, while other keys come and
// go concurrently.
func TestScanWhileChanging(t *testing.T) {
	s, _ := newTestStore(t, nil)
	const stable = 3000
	want := make(map[string]bool, stable)
	for i := range stable {
		k := fmt.Sprintf("stable:%d", i)
		set(t, s, k, "v")
		want[k] = true
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Appendf(nil, "churn:%d:%d", w, i%500)
				if i%3 == 2 {
					s.Del(k)
				} else {
					s.Set(k, []byte("x"), SetOptions{})
				}
			}
		})
	}
	for range 5 {
		got := scanAll(t, s, ScanOptions{Count: 5})
		checkOnce(t, got, want)
		// Churn keys may or may not appear, but none twice.
	}
	close(stop)
	wg.Wait()
	checkInvariants(t, s)
}

func TestRandomKey(t *testing.T) {
	s, clk := newTestStore(t, nil)
	if k, ok := s.RandomKey(); ok {
		t.Fatalf("RandomKey on empty store = %q, true", k)
	}
	setEx(t, s, "gone", "v", clk.Ms()+1)
	clk.Advance(2 * time.Millisecond)
	if k, ok := s.RandomKey(); ok {
		t.Fatalf("RandomKey with only expired keys = %q, true", k)
	}
	keys := map[string]bool{"a": true, "b": true, "c": true, "{x}d": true, "": true}
	for k := range keys {
		set(t, s, k, "v")
	}
	seen := make(map[string]bool)
	for range 2000 {
		k, ok := s.RandomKey()
		if !ok || !keys[k] {
			t.Fatalf("RandomKey = %q, %v", k, ok)
		}
		seen[k] = true
	}
	if len(seen) != len(keys) {
		t.Errorf("RandomKey returned only %v of %d keys in 2000 calls", seen, len(keys))
	}
}

func TestRename(t *testing.T) {
	tests := []struct {
		name      string
		src, dst  string
		nx        bool
		srcTTL    int64 // relative deadline of src; 0 none; -1 src missing
		dstVal    string
		dstTTL    int64 // relative deadline of dst; 0 none; -1 dst missing
		wantOK    bool
		wantErr   error
		wantSrc   bool   // src exists afterwards
		wantDst   string // dst value afterwards
		wantDstAt int64  // dst deadline afterwards, relative
	}{
		{name: "missing src", src: "a", dst: "b", srcTTL: -1, dstTTL: -1, wantErr: ErrNoSuchKey},
		{name: "missing src nx", src: "a", dst: "b", nx: true, srcTTL: -1, dstTTL: -1, wantErr: ErrNoSuchKey},
		{name: "missing src same key", src: "a", dst: "a", srcTTL: -1, dstTTL: -1, wantErr: ErrNoSuchKey},
		{name: "simple", src: "a", dst: "b", dstTTL: -1, wantOK: true, wantDst: "src"},
		{name: "keeps ttl", src: "a", dst: "b", srcTTL: 5000, dstTTL: -1, wantOK: true, wantDst: "src", wantDstAt: 5000},
		{name: "replaces dst", src: "a", dst: "b", dstVal: "dst", wantOK: true, wantDst: "src"},
		{name: "replaces dst ttl", src: "a", dst: "b", dstVal: "dst", dstTTL: 7000, wantOK: true, wantDst: "src"},
		{name: "replaces dst with ttl", src: "a", dst: "b", srcTTL: 3000, dstVal: "dst", dstTTL: 7000, wantOK: true, wantDst: "src", wantDstAt: 3000},
		{name: "nx dst missing", src: "a", dst: "b", nx: true, dstTTL: -1, wantOK: true, wantDst: "src"},
		{name: "nx dst exists", src: "a", dst: "b", nx: true, srcTTL: 3000, dstVal: "dst", dstTTL: 7000, wantOK: false, wantSrc: true, wantDst: "dst", wantDstAt: 7000},
		{name: "same key", src: "a", dst: "a", srcTTL: 3000, wantOK: true, wantSrc: true, wantDst: "src", wantDstAt: 3000},
		{name: "same key nx", src: "a", dst: "a", nx: true, wantOK: false, wantSrc: true, wantDst: "src"},
		{name: "same shard by hash tag", src: "{t}a", dst: "{t}b", srcTTL: 3000, dstVal: "dst", wantOK: true, wantDst: "src", wantDstAt: 3000},
		{name: "binary keys", src: "\x00", dst: "\xff", dstTTL: -1, wantOK: true, wantDst: "src"},
		{name: "empty dst key", src: "a", dst: "", dstTTL: -1, wantOK: true, wantDst: "src"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newTestStore(t, nil)
			now := clk.Ms()
			abs := func(rel int64) int64 {
				if rel <= 0 {
					return 0
				}
				return now + rel
			}
			if tt.dstTTL >= 0 && tt.src != tt.dst {
				setEx(t, s, tt.dst, tt.dstVal, abs(tt.dstTTL))
			}
			if tt.srcTTL >= 0 {
				setEx(t, s, tt.src, "src", abs(tt.srcTTL))
			}
			ok, err := s.Rename([]byte(tt.src), []byte(tt.dst), tt.nx)
			if ok != tt.wantOK || !errors.Is(err, tt.wantErr) {
				t.Fatalf("Rename = %v, %v; want %v, %v", ok, err, tt.wantOK, tt.wantErr)
			}
			if tt.src != tt.dst {
				if got := s.Exists([]byte(tt.src)); got != tt.wantSrc {
					t.Errorf("src exists = %v, want %v", got, tt.wantSrc)
				}
			}
			if tt.wantErr == nil {
				wantValue(t, s, tt.dst, tt.wantDst, true)
				if at, _, _ := s.Deadline([]byte(tt.dst)); at != abs(tt.wantDstAt) {
					t.Errorf("dst deadline = %d, want %d", at, abs(tt.wantDstAt))
				}
			}
			checkInvariants(t, s)
		})
	}
}

func TestRenameExpiredSrc(t *testing.T) {
	s, clk := newTestStore(t, nil)
	setEx(t, s, "a", "v", clk.Ms()+1)
	set(t, s, "b", "keep")
	clk.Advance(2 * time.Millisecond)
	if ok, err := s.Rename([]byte("a"), []byte("b"), false); ok || !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("Rename of expired key = %v, %v; want false, ErrNoSuchKey", ok, err)
	}
	wantValue(t, s, "b", "keep", true)
	checkInvariants(t, s)
}

func TestRenameNXOverExpiredDst(t *testing.T) {
	s, clk := newTestStore(t, nil)
	set(t, s, "a", "v")
	setEx(t, s, "b", "old", clk.Ms()+1)
	clk.Advance(2 * time.Millisecond)
	if ok, err := s.Rename([]byte("a"), []byte("b"), true); !ok || err != nil {
		t.Fatalf("RenameNX over an expired key = %v, %v; want true, nil", ok, err)
	}
	wantValue(t, s, "b", "v", true)
	checkInvariants(t, s)
}

func TestCopy(t *testing.T) {
	tests := []struct {
		name      string
		src, dst  string
		replace   bool
		srcTTL    int64 // -1: src missing
		dstTTL    int64 // -1: dst missing
		want      bool
		wantDst   string // "" with !want and dstTTL -1: missing
		wantDstAt int64
	}{
		{name: "missing src", src: "a", dst: "b", srcTTL: -1, dstTTL: -1},
		{name: "simple", src: "a", dst: "b", dstTTL: -1, want: true, wantDst: "src"},
		{name: "keeps ttl", src: "a", dst: "b", srcTTL: 4000, dstTTL: -1, want: true, wantDst: "src", wantDstAt: 4000},
		{name: "dst exists", src: "a", dst: "b", srcTTL: 4000, dstTTL: 9000, wantDst: "dst", wantDstAt: 9000},
		{name: "dst exists replace", src: "a", dst: "b", replace: true, srcTTL: 4000, dstTTL: 9000, want: true, wantDst: "src", wantDstAt: 4000},
		{name: "replace drops dst ttl", src: "a", dst: "b", replace: true, dstTTL: 9000, want: true, wantDst: "src"},
		{name: "same key", src: "a", dst: "a", dstTTL: -1, wantDst: "src"},
		{name: "same key replace", src: "a", dst: "a", replace: true, dstTTL: -1, wantDst: "src"},
		{name: "hash tag", src: "{t}a", dst: "{t}b", replace: true, dstTTL: 0, want: true, wantDst: "src"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newTestStore(t, nil)
			now := clk.Ms()
			abs := func(rel int64) int64 {
				if rel <= 0 {
					return 0
				}
				return now + rel
			}
			if tt.dstTTL >= 0 {
				setEx(t, s, tt.dst, "dst", abs(tt.dstTTL))
			}
			if tt.srcTTL >= 0 {
				setEx(t, s, tt.src, "src", abs(tt.srcTTL))
			}
			if got := s.Copy([]byte(tt.src), []byte(tt.dst), tt.replace); got != tt.want {
				t.Fatalf("Copy = %v, want %v", got, tt.want)
			}
			if tt.srcTTL >= 0 {
				wantValue(t, s, tt.src, "src", true)
				if at, _, _ := s.Deadline([]byte(tt.src)); at != abs(tt.srcTTL) {
					t.Errorf("src deadline = %d, want %d", at, abs(tt.srcTTL))
				}
			}
			if tt.wantDst == "" {
				wantValue(t, s, tt.dst, "", false)
			} else {
				wantValue(t, s, tt.dst, tt.wantDst, true)
				if at, _, _ := s.Deadline([]byte(tt.dst)); at != abs(tt.wantDstAt) {
					t.Errorf("dst deadline = %d, want %d", at, abs(tt.wantDstAt))
				}
			}
			checkInvariants(t, s)
		})
	}
}

// TestCopyIsIndependent checks that changing the source after a COPY leaves
// the copy alone, including through the in-place APPEND path.
func TestCopyIsIndependent(t *testing.T) {
	s, _ := newTestStore(t, nil)
	s.Append([]byte("a"), []byte("abc"))
	s.Append([]byte("a"), []byte("def")) // spare capacity
	if !s.Copy([]byte("a"), []byte("b"), false) {
		t.Fatal("Copy = false")
	}
	s.Append([]byte("a"), []byte("!"))
	s.Append([]byte("b"), []byte("?"))
	s.SetRange([]byte("a"), 0, []byte("X"))
	wantValue(t, s, "a", "Xbcdef!", true)
	wantValue(t, s, "b", "abcdef?", true)
	checkInvariants(t, s)
}

func TestExpireConditions(t *testing.T) {
	const (
		none  = 0
		early = 1000
		mid   = 5000
		late  = 9000
	)
	tests := []struct {
		name    string
		current int64 // relative deadline of the key; 0 none
		at      int64 // relative new deadline
		cond    ExpireCond
		want    bool
		wantAt  int64 // relative deadline afterwards; 0 none
	}{
		{"always on persistent", none, mid, ExpireCond(0), true, mid},
		{"always on volatile", early, mid, ExpireCond(0), true, mid},
		{"always earlier", late, mid, ExpireCond(0), true, mid},
		{"nx on persistent", none, mid, ExpireNX, true, mid},
		{"nx on volatile", early, mid, ExpireNX, false, early},
		{"xx on persistent", none, mid, ExpireXX, false, none},
		{"xx on volatile", early, mid, ExpireXX, true, mid},
		{"gt on persistent fails", none, mid, ExpireGT, false, none},
		{"gt later", early, mid, ExpireGT, true, mid},
		{"gt earlier", late, mid, ExpireGT, false, late},
		{"gt equal", mid, mid, ExpireGT, false, mid},
		{"lt on persistent succeeds", none, mid, ExpireLT, true, mid},
		{"lt earlier", late, mid, ExpireLT, true, mid},
		{"lt later", early, mid, ExpireLT, false, early},
		{"lt equal", mid, mid, ExpireLT, false, mid},
		// XX may go with GT or LT; both conditions must hold.
		{"xx|gt on persistent fails", none, mid, ExpireXX | ExpireGT, false, none},
		{"xx|gt later", early, mid, ExpireXX | ExpireGT, true, mid},
		{"xx|gt earlier", late, mid, ExpireXX | ExpireGT, false, late},
		{"xx|gt equal", mid, mid, ExpireXX | ExpireGT, false, mid},
		{"xx|lt on persistent fails", none, mid, ExpireXX | ExpireLT, false, none},
		{"xx|lt earlier", late, mid, ExpireXX | ExpireLT, true, mid},
		{"xx|lt later", early, mid, ExpireXX | ExpireLT, false, early},
		{"xx|lt equal", mid, mid, ExpireXX | ExpireLT, false, mid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newTestStore(t, nil)
			now := clk.Ms()
			abs := func(rel int64) int64 {
				if rel == 0 {
					return 0
				}
				return now + rel
			}
			setEx(t, s, "k", "v", abs(tt.current))
			if got := s.Expire([]byte("k"), abs(tt.at), tt.cond); got != tt.want {
				t.Errorf("Expire = %v, want %v", got, tt.want)
			}
			at, _, ok := s.Deadline([]byte("k"))
			if !ok || at != abs(tt.wantAt) {
				t.Errorf("Deadline = %d, %v; want %d, true", at, ok, abs(tt.wantAt))
			}
			wantVolatile := int64(0)
			if tt.wantAt != 0 {
				wantVolatile = 1
			}
			if got := s.Stats().VolatileKeys; got != wantVolatile {
				t.Errorf("VolatileKeys = %d, want %d", got, wantVolatile)
			}
			checkInvariants(t, s)
		})
	}
}

func TestExpireInThePastDeletes(t *testing.T) {
	tests := []struct {
		name    string
		current int64 // relative; 0 none
		at      int64 // relative
		cond    ExpireCond
		want    bool
		exists  bool
	}{
		{"now", 0, 0, ExpireCond(0), true, false},
		{"past", 0, -1000, ExpireCond(0), true, false},
		{"past on volatile", 5000, -1000, ExpireCond(0), true, false},
		{"past lt on persistent", 0, -1000, ExpireLT, true, false},
		{"past lt on volatile", 5000, -1000, ExpireLT, true, false},
		{"past gt fails", 5000, -1000, ExpireGT, false, true},
		{"past nx on volatile fails", 5000, -1000, ExpireNX, false, true},
		{"past xx on persistent fails", 0, -1000, ExpireXX, false, true},
		{"past xx|lt on volatile", 5000, -1000, ExpireXX | ExpireLT, true, false},
		{"past xx|lt on persistent fails", 0, -1000, ExpireXX | ExpireLT, false, true},
		{"past xx|gt fails", 5000, -1000, ExpireXX | ExpireGT, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newTestStore(t, nil)
			now := clk.Ms()
			var at int64
			if tt.current != 0 {
				at = now + tt.current
			}
			setEx(t, s, "k", "v", at)
			if got := s.Expire([]byte("k"), now+tt.at, tt.cond); got != tt.want {
				t.Errorf("Expire = %v, want %v", got, tt.want)
			}
			if got := s.Exists([]byte("k")); got != tt.exists {
				t.Errorf("Exists = %v, want %v", got, tt.exists)
			}
			if !tt.exists && (s.Len() != 0 || s.UsedMemory() != 0) {
				t.Errorf("deleted key still held: Len() = %d, UsedMemory() = %d", s.Len(), s.UsedMemory())
			}
			checkInvariants(t, s)
		})
	}
}

func TestExpireMissing(t *testing.T) {
	s, clk := newTestStore(t, nil)
	for _, cond := range []ExpireCond{0, ExpireNX, ExpireXX, ExpireGT, ExpireLT, ExpireXX | ExpireGT, ExpireXX | ExpireLT} {
		if s.Expire([]byte("missing"), clk.Ms()+1000, cond) {
			t.Errorf("Expire(missing, cond %d) = true", cond)
		}
	}
	if s.Len() != 0 {
		t.Errorf("Expire created a key")
	}
}

func TestPersist(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(s *Store, clk *fakeClock)
		want   bool
		exists bool
	}{
		{"missing", func(*Store, *fakeClock) {}, false, false},
		{"persistent", func(s *Store, _ *fakeClock) { set(t, s, "k", "v") }, false, true},
		{"volatile", func(s *Store, clk *fakeClock) { setEx(t, s, "k", "v", clk.Ms()+1000) }, true, true},
		{"at its deadline", func(s *Store, clk *fakeClock) {
			setEx(t, s, "k", "v", clk.Ms()+1000)
			clk.Advance(time.Second)
		}, true, true},
		{"expired", func(s *Store, clk *fakeClock) {
			setEx(t, s, "k", "v", clk.Ms()+1000)
			clk.Advance(time.Second + time.Millisecond)
		}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newTestStore(t, nil)
			tt.setup(s, clk)
			if got := s.Persist([]byte("k")); got != tt.want {
				t.Errorf("Persist = %v, want %v", got, tt.want)
			}
			at, _, ok := s.Deadline([]byte("k"))
			if ok != tt.exists || at != 0 {
				t.Errorf("Deadline = %d, %v; want 0, %v", at, ok, tt.exists)
			}
			if got := s.Stats().VolatileKeys; got != 0 {
				t.Errorf("VolatileKeys = %d, want 0", got)
			}
			// The key no longer expires.
			clk.Advance(time.Hour)
			if got := s.Exists([]byte("k")); got != tt.exists {
				t.Errorf("Exists an hour later = %v, want %v", got, tt.exists)
			}
			checkInvariants(t, s)
		})
	}
}

func TestDeadline(t *testing.T) {
	s, clk := newTestStore(t, nil)
	set(t, s, "plain", "v")
	at := clk.Ms() + 1500
	setEx(t, s, "volatile", "v", at)
	clk.Advance(500 * time.Millisecond)
	tests := []struct {
		key    string
		wantAt int64
		wantOK bool
	}{
		{"plain", 0, true},
		{"volatile", at, true},
		{"missing", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			gotAt, now, ok := s.Deadline([]byte(tt.key))
			if gotAt != tt.wantAt || ok != tt.wantOK || now != clk.Ms() {
				t.Errorf("Deadline = %d, %d, %v; want %d, %d, %v", gotAt, now, ok, tt.wantAt, clk.Ms(), tt.wantOK)
			}
		})
	}
	// At the deadline the key is alive with no time left; 1ms later it is gone.
	clk.Advance(time.Second)
	if gotAt, now, ok := s.Deadline([]byte("volatile")); !ok || gotAt != at || now != at {
		t.Errorf("at the deadline: Deadline = %d, %d, %v; want %d, %d, true", gotAt, now, ok, at, at)
	}
	clk.Advance(time.Millisecond)
	if _, _, ok := s.Deadline([]byte("volatile")); ok {
		t.Errorf("Deadline reports an expired key")
	}
}

func TestInspect(t *testing.T) {
	long44 := make([]byte, 44)
	long45 := make([]byte, 45)
	for i := range long45 {
		long45[i] = 'a'
	}
	copy(long44, long45)
	tests := []struct {
		val  string
		want string
	}{
		{"0", "int"},
		{"12345", "int"},
		{"-1", "int"},
		{"9223372036854775807", "int"},
		{"9223372036854775808", "embstr"},
		{"01", "embstr"},
		{" 1", "embstr"},
		{"1.5", "embstr"},
		{"", "embstr"},
		{"hello", "embstr"},
		{string(long44), "embstr"},
		{string(long45), "raw"},
	}
	for _, tt := range tests {
		t.Run(tt.val, func(t *testing.T) {
			s, _ := newTestStore(t, nil)
			set(t, s, "k", tt.val)
			o, ok := s.Inspect([]byte("k"))
			if !ok {
				t.Fatal("Inspect = false")
			}
			if o.Encoding != tt.want || o.Kind != KindString {
				t.Errorf("Inspect = %+v, want encoding %s", o, tt.want)
			}
			if want := entryBytes(1, len(tt.val)); o.Bytes != want {
				t.Errorf("Bytes = %d, want %d", o.Bytes, want)
			}
		})
	}
}

func TestInspectIdleAndFreq(t *testing.T) {
	s, clk := newTestStore(t, nil)
	if _, ok := s.Inspect([]byte("missing")); ok {
		t.Fatal("Inspect(missing) = true")
	}
	set(t, s, "k", "v")
	o, _ := s.Inspect([]byte("k"))
	if o.IdleMs != 0 || o.Freq != lfuInit {
		t.Fatalf("fresh key: IdleMs = %d, Freq = %d; want 0, %d", o.IdleMs, o.Freq, lfuInit)
	}
	clk.Advance(1500 * time.Millisecond)
	o, _ = s.Inspect([]byte("k"))
	if o.IdleMs != 1500 {
		t.Fatalf("IdleMs = %d, want 1500", o.IdleMs)
	}
	// Inspect is not an access.
	clk.Advance(500 * time.Millisecond)
	if o, _ = s.Inspect([]byte("k")); o.IdleMs != 2000 {
		t.Fatalf("IdleMs = %d after another Inspect, want 2000", o.IdleMs)
	}
	// A read is, and the first access from the initial counter always counts.
	s.Get([]byte("k"))
	if o, _ = s.Inspect([]byte("k")); o.IdleMs != 0 || o.Freq != lfuInit+1 {
		t.Fatalf("after Get: IdleMs = %d, Freq = %d; want 0, %d", o.IdleMs, o.Freq, lfuInit+1)
	}
	// Frequency decays by one per idle minute.
	clk.Advance(3 * time.Minute)
	if o, _ = s.Inspect([]byte("k")); o.Freq != lfuInit-2 {
		t.Fatalf("after 3 idle minutes: Freq = %d, want %d", o.Freq, lfuInit-2)
	}
	clk.Advance(time.Hour)
	if o, _ = s.Inspect([]byte("k")); o.Freq != 0 {
		t.Fatalf("after an idle hour: Freq = %d, want 0", o.Freq)
	}
	// Overwriting resets the access record.
	set(t, s, "k", "w")
	if o, _ = s.Inspect([]byte("k")); o.IdleMs != 0 || o.Freq != lfuInit {
		t.Fatalf("after Set: IdleMs = %d, Freq = %d; want 0, %d", o.IdleMs, o.Freq, lfuInit)
	}
}

func TestFreqSaturates(t *testing.T) {
	s, _ := newTestStore(t, nil)
	set(t, s, "k", "v")
	e := entryOf(s, "k")
	e.meta.Store(packMeta(0, 255))
	s.Get([]byte("k"))
	if o, _ := s.Inspect([]byte("k")); o.Freq != 255 {
		t.Fatalf("Freq = %d, want 255", o.Freq)
	}
}
