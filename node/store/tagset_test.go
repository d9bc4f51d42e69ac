package store

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestAddMembers(t *testing.T) {
	s, clk := newTestStore(t, nil)
	k := []byte("tags")
	m := func(ms ...string) [][]byte {
		out := make([][]byte, len(ms))
		for i, x := range ms {
			out[i] = []byte(x)
		}
		return out
	}
	deadline := func() int64 {
		at, _, ok := s.Deadline(k)
		if !ok {
			t.Fatal("tag set missing")
		}
		return at
	}
	now := clk.Ms()
	for _, tt := range []struct {
		name    string
		members []string
		at      int64
		added   int
		want    int64
	}{
		{"new set takes the deadline", []string{"a", "b"}, now + 1000, 2, now + 1000},
		{"an earlier deadline does not shorten", []string{"b", "c"}, now + 500, 1, now + 1000},
		{"a later one extends", []string{"d"}, now + 5000, 1, now + 5000},
		{"none makes it persistent", []string{"e"}, 0, 1, 0},
		{"persistent stays persistent", []string{"f"}, now + 9000, 1, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			added, err := s.AddMembers(k, m(tt.members...), tt.at)
			if err != nil || added != tt.added {
				t.Fatalf("AddMembers = %d, %v; want %d", added, err, tt.added)
			}
			if got := deadline(); got != tt.want {
				t.Fatalf("deadline %d, want %d", got, tt.want)
			}
		})
	}
	checkInvariants(t, s)
	got, err := s.PopMembers(k)
	slices.Sort(got)
	if err != nil || !slices.Equal(got, []string{"a", "b", "c", "d", "e", "f"}) {
		t.Fatalf("PopMembers = %q, %v", got, err)
	}
	if s.Exists(k) {
		t.Fatal("the set survived PopMembers")
	}
	if got, err := s.PopMembers(k); got != nil || err != nil {
		t.Fatalf("PopMembers of nothing = %q, %v", got, err)
	}
	set(t, s, "str", "v")
	if _, err := s.AddMembers([]byte("str"), m("a"), 0); !errors.Is(err, ErrWrongType) {
		t.Fatalf("AddMembers on a string: %v", err)
	}
	if _, err := s.PopMembers([]byte("str")); !errors.Is(err, ErrWrongType) {
		t.Fatalf("PopMembers on a string: %v", err)
	}
	checkInvariants(t, s)
}

func TestDropHook(t *testing.T) {
	s, clk := newTestStore(t, nil)
	var mu sync.Mutex
	var dropped []string
	s.SetDropHook(func(key string) {
		mu.Lock()
		dropped = append(dropped, key)
		mu.Unlock()
	})
	at := clk.Ms() + 100
	setEx(t, s, "lazy", "v", at)
	setEx(t, s, "swept", "v", at)
	set(t, s, "kept", "v")
	clk.Advance(time.Second)
	wantValue(t, s, "lazy", "", false) // lazy expiry on read
	s.ExpireCycle(0, time.Minute)
	s.Del([]byte("kept")) // a delete is the caller's to report, not the hook's
	for i := range 20 {
		set(t, s, "e"+string(rune('a'+i)), "value")
	}
	s.SetMaxMemory(1)
	s.SetPolicy(AllKeysRandom)
	_ = s.Reserve()
	mu.Lock()
	got := slices.Clone(dropped)
	mu.Unlock()
	if len(got) != 22 || got[0] != "lazy" || got[1] != "swept" {
		t.Fatalf("dropped %q: want lazy, swept, then the 20 evicted keys", got)
	}
	s.SetDropHook(nil)
	set(t, s, "x", "v")
	_ = s.Reserve()
	if len(dropped) != 22 {
		t.Fatal("the hook ran after its removal")
	}
}
