package store

import (
	"fmt"
	"hash/maphash"
	"testing"
)

// TestTable exercises the index through many inserts, replacements and
// removals against a Go map as the model, checking load and tombstones.
func TestTable(t *testing.T) {
	seed := maphash.MakeSeed()
	h := func(k string) uint64 { return maphash.String(seed, k) }
	var tb table
	model := map[string]*entry{}
	check := func(step string) {
		t.Helper()
		if tb.live != len(model) {
			t.Fatalf("%s: live = %d, model has %d", step, tb.live, len(model))
		}
		for k, e := range model {
			if got := tb.get(k, h(k)); got != e {
				t.Fatalf("%s: get(%q) = %p, want %p", step, k, got, e)
			}
		}
		n := 0
		for e := range tb.all() {
			if model[e.key()] != e {
				t.Fatalf("%s: all() yields %q not in the model", step, e.key())
			}
			n++
		}
		if n != len(model) {
			t.Fatalf("%s: all() yields %d entries, want %d", step, n, len(model))
		}
		if len(tb.slots) > 0 && 4*(tb.live+tb.dead) > 3*len(tb.slots) {
			t.Fatalf("%s: %d live + %d dead in %d slots", step, tb.live, tb.dead, len(tb.slots))
		}
	}
	key := func(i int) string { return fmt.Sprintf("key:%d", i) }
	for i := range 5000 {
		e := newStringEntry([]byte(key(i)), []byte("v"), 0)
		tb.insert(seed, e, h(key(i)))
		model[key(i)] = e
	}
	check("inserted")
	if tb.get("absent", h("absent")) != nil {
		t.Fatal("found an absent key")
	}
	for i := 0; i < 5000; i += 2 {
		ne := newStringEntry([]byte(key(i)), []byte("w"), 0)
		tb.replace(model[key(i)], ne, h(key(i)))
		model[key(i)] = ne
	}
	check("replaced")
	// Remove during a range, as the expiry sweep does.
	for e := range tb.all() {
		if k := e.key(); len(k)%2 == 0 {
			tb.remove(e, h(k))
			delete(model, k)
		}
	}
	check("removed while ranging")
	big := len(tb.slots)
	for k, e := range model {
		tb.remove(e, h(k))
		delete(model, k)
	}
	check("emptied")
	// Inserting again reuses the space and shrinks the table.
	for i := range 10 {
		e := newStringEntry([]byte(key(i)), nil, 0)
		tb.insert(seed, e, h(key(i)))
		model[key(i)] = e
	}
	check("refilled")
	if len(tb.slots) >= big {
		t.Errorf("table kept %d slots for %d keys (had %d)", len(tb.slots), tb.live, big)
	}
	if e := tb.sample(12345, nil); e == nil || model[e.key()] != e {
		t.Errorf("sample = %v", e)
	}
	if e := tb.sample(0, func(*entry) bool { return false }); e != nil {
		t.Errorf("sample with a refusing filter = %v", e)
	}
}

func TestTableChurnKeepsEmptySlots(t *testing.T) {
	seed := maphash.MakeSeed()
	var tb table
	// Insert and remove in a cycle: tombstones must never fill the table,
	// or a lookup of an absent key would never end.
	for i := range 100000 {
		k := fmt.Sprint(i)
		e := newStringEntry([]byte(k), nil, 0)
		tb.insert(seed, e, maphash.String(seed, k))
		if i >= 3 {
			old := fmt.Sprint(i - 3)
			tb.remove(tb.get(old, maphash.String(seed, old)), maphash.String(seed, old))
		}
	}
	if tb.get("absent", maphash.String(seed, "absent")) != nil || tb.live != 3 || len(tb.slots) > 16 {
		t.Fatalf("live %d dead %d slots %d", tb.live, tb.dead, len(tb.slots))
	}
}
