package store

import (
	"testing"
	"time"
)

// mustVersion returns key's version, failing the test when it is absent.
func mustVersion(t testing.TB, s *Store, key string) uint64 {
	t.Helper()
	v, ok := s.Version([]byte(key))
	if !ok {
		t.Fatalf("Version(%q): absent", key)
	}
	return v
}

// hset sets hash fields (alternating field, value) at key.
func hset(t testing.TB, s *Store, key string, fv ...string) {
	t.Helper()
	err := s.UpdateObject([]byte(key), KindHash, NewHash, func(o Collection) error {
		for j := 0; j < len(fv); j += 2 {
			o.(*Hash).Set([]byte(fv[j]), []byte(fv[j+1]))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("hset %q: %v", key, err)
	}
}

// TestVersionStamping runs each kind of write: the written key gets a
// version newer than any before, and reads leave versions alone.
func TestVersionStamping(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	tests := []struct {
		name  string
		setup func(t *testing.T, s *Store, clk *fakeClock)
		write func(t *testing.T, s *Store, clk *fakeClock)
		keys  []string // keys whose version must be new
	}{
		{"SET new", nil, func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") }, []string{"k"}},
		{"SET in place", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v1") },
			func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v2") }, []string{"k"}},
		{"SET larger", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") },
			func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", string(make([]byte, 500))) }, []string{"k"}},
		{"SET KEEPTTL", func(t *testing.T, s *Store, clk *fakeClock) { setEx(t, s, "k", "v", clk.Ms()+10_000) },
			func(t *testing.T, s *Store, _ *fakeClock) { s.Set(b("k"), b("w"), SetOptions{KeepTTL: true}) }, []string{"k"}},
		{"MSET", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "a", "1") },
			func(t *testing.T, s *Store, _ *fakeClock) { s.MSet([][]byte{b("a"), b("2"), b("b"), b("3")}, false) }, []string{"a", "b"}},
		{"APPEND in place", func(t *testing.T, s *Store, _ *fakeClock) { s.Append(b("k"), b("x")); s.Append(b("k"), b("xx")) },
			func(t *testing.T, s *Store, _ *fakeClock) { s.Append(b("k"), b("y")) }, []string{"k"}},
		{"APPEND grows", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") },
			func(t *testing.T, s *Store, _ *fakeClock) { s.Append(b("k"), make([]byte, 300)) }, []string{"k"}},
		{"SETRANGE", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "hello") },
			func(t *testing.T, s *Store, _ *fakeClock) { s.SetRange(b("k"), 1, b("a")) }, []string{"k"}},
		{"INCRBY in place", func(t *testing.T, s *Store, _ *fakeClock) { s.IncrBy(b("n"), 1) },
			func(t *testing.T, s *Store, _ *fakeClock) { s.IncrBy(b("n"), 1) }, []string{"n"}},
		{"INCRBYFLOAT", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "n", "1.5") },
			func(t *testing.T, s *Store, _ *fakeClock) { s.IncrByFloat(b("n"), b("0.25")) }, []string{"n"}},
		{"EXPIRE", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") },
			func(t *testing.T, s *Store, clk *fakeClock) { s.Expire(b("k"), clk.Ms()+1000, 0) }, []string{"k"}},
		{"PERSIST", func(t *testing.T, s *Store, clk *fakeClock) { setEx(t, s, "k", "v", clk.Ms()+1000) },
			func(t *testing.T, s *Store, _ *fakeClock) { s.Persist(b("k")) }, []string{"k"}},
		{"GETEX PX", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "k", "v") },
			func(t *testing.T, s *Store, clk *fakeClock) {
				s.GetEx(b("k"), ExpireChange{Set: true, At: clk.Ms() + 1000})
			}, []string{"k"}},
		{"RENAME destination", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "src", "v") },
			func(t *testing.T, s *Store, _ *fakeClock) { s.Rename(b("src"), b("dst"), false) }, []string{"dst"}},
		{"COPY destination", func(t *testing.T, s *Store, _ *fakeClock) { set(t, s, "src", "v"); set(t, s, "dst", "old") },
			func(t *testing.T, s *Store, _ *fakeClock) { s.Copy(b("src"), b("dst"), true) }, []string{"dst"}},
		{"hash create", nil, func(t *testing.T, s *Store, _ *fakeClock) { hset(t, s, "h", "f", "v") }, []string{"h"}},
		{"hash update", func(t *testing.T, s *Store, _ *fakeClock) { hset(t, s, "h", "f", "v") },
			func(t *testing.T, s *Store, _ *fakeClock) { hset(t, s, "h", "g", "w") }, []string{"h"}},
		{"list pop", func(t *testing.T, s *Store, _ *fakeClock) {
			s.UpdateObject(b("l"), KindList, NewList, func(o Collection) error { o.(*List).Push(ListRight, b("a"), b("b")); return nil })
		}, func(t *testing.T, s *Store, _ *fakeClock) { s.PopList(b("l"), ListLeft, 1) }, []string{"l"}},
		{"LMOVE", func(t *testing.T, s *Store, _ *fakeClock) {
			s.UpdateObject(b("l"), KindList, NewList, func(o Collection) error { o.(*List).Push(ListRight, b("a"), b("b")); return nil })
		}, func(t *testing.T, s *Store, _ *fakeClock) { s.MoveList(b("l"), b("m"), ListLeft, ListRight) }, []string{"l", "m"}},
		{"Tx.Put", nil, func(t *testing.T, s *Store, _ *fakeClock) {
			s.Multi([][]byte{b("z")}, func(tx *Tx) error {
				z := NewZSet()
				z.(*ZSet).Add(b("m"), 1, AddFlags{})
				tx.Put(b("z"), z)
				return nil
			})
		}, []string{"z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newTestStore(t, nil)
			if tt.setup != nil {
				tt.setup(t, s, clk)
			}
			before := s.Clock().Now()
			tt.write(t, s, clk)
			for _, k := range tt.keys {
				v := mustVersion(t, s, k)
				if v <= before {
					t.Errorf("%s: version %d not after %d", k, v, before)
				}
				if VersionTime(v) != clk.Ms() {
					t.Errorf("%s: version time %d, want %d", k, VersionTime(v), clk.Ms())
				}
			}
			checkInvariants(t, s)
		})
	}
}

// TestVersionReadsKeep checks that reads, touches and failed conditional
// writes leave the version alone.
func TestVersionReadsKeep(t *testing.T) {
	s, clk := newTestStore(t, nil)
	b := func(s string) []byte { return []byte(s) }
	set(t, s, "k", "v")
	hset(t, s, "h", "f", "v")
	vk, vh := mustVersion(t, s, "k"), mustVersion(t, s, "h")
	clk.Advance(time.Second)
	s.Get(b("k"))
	s.Touch(b("k"))
	s.Exists(b("k"))
	s.Inspect(b("k"))
	s.Set(b("k"), b("x"), SetOptions{Cond: SetNX})
	s.Expire(b("k"), clk.Ms()+1000, ExpireXX) // no deadline: XX refuses
	s.Persist(b("k"))                         // no deadline: nothing to do
	s.ViewObject(b("h"), KindHash, func(Collection) error { return nil })
	s.AppendRecord(nil, b("k"))
	if v := mustVersion(t, s, "k"); v != vk {
		t.Errorf("k: version %d after reads, want %d", v, vk)
	}
	if v := mustVersion(t, s, "h"); v != vh {
		t.Errorf("h: version %d after reads, want %d", v, vh)
	}
	if _, ok := s.Version(b("absent")); ok {
		t.Error("Version of an absent key: ok")
	}
	setEx(t, s, "e", "v", clk.Ms()+10)
	clk.Advance(time.Second)
	if _, ok := s.Version(b("e")); ok {
		t.Error("Version of an expired key: ok")
	}
}

// TestVersionsIncrease checks that successive writes of one key, and
// writes of different keys, get increasing versions under a frozen clock.
func TestVersionsIncrease(t *testing.T) {
	s, _ := newTestStore(t, nil)
	var prev uint64
	for i := range 100 {
		key := "k"
		if i%2 == 1 {
			key = "other"
		}
		set(t, s, key, "v")
		v := mustVersion(t, s, key)
		if v <= prev {
			t.Fatalf("write %d: version %d not after %d", i, v, prev)
		}
		prev = v
	}
}
