package store

import (
	"errors"
	"testing"
)

func TestObjects(t *testing.T) {
	s, clk := newTestStore(t, nil)
	set := func(key, field, val string) {
		t.Helper()
		err := s.UpdateObject([]byte(key), KindHash, NewHash, func(c Collection) error {
			c.(*Hash).Set([]byte(field), []byte(val))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	set("h", "a", "1")
	set("h", "b", "2")
	checkInvariants(t, s)
	if k, ok := s.Type([]byte("h")); !ok || k != KindHash {
		t.Fatalf("Type = %v, %v", k, ok)
	}
	if _, _, err := s.Get([]byte("h")); !errors.Is(err, ErrWrongType) {
		t.Fatalf("GET of a hash: %v", err)
	}
	if err := s.UpdateObject([]byte("h"), KindSet, nil, func(Collection) error { return nil }); !errors.Is(err, ErrWrongType) {
		t.Fatalf("set op on a hash: %v", err)
	}
	if o, ok := s.Inspect([]byte("h")); !ok || o.Encoding != "listpack" || o.Bytes <= 0 {
		t.Fatalf("Inspect = %+v, %v", o, ok)
	}
	// RENAME moves, COPY deep-copies, deadlines follow.
	if !s.Expire([]byte("h"), clk.Ms()+1000, 0) {
		t.Fatal("Expire failed")
	}
	if _, err := s.Rename([]byte("h"), []byte("h2"), false); err != nil {
		t.Fatal(err)
	}
	if !s.Copy([]byte("h2"), []byte("h3"), false) {
		t.Fatal("Copy failed")
	}
	set("h3", "a", "changed")
	var got string
	s.ViewObject([]byte("h2"), KindHash, func(c Collection) error {
		v, _ := c.(*Hash).Get([]byte("a"))
		got = string(v)
		return nil
	})
	if got != "1" {
		t.Fatalf("h2.a = %q after changing the copy", got)
	}
	if at, _, ok := s.Deadline([]byte("h3")); !ok || at == 0 {
		t.Fatalf("copy lost the deadline")
	}
	checkInvariants(t, s)
	// Emptying a collection deletes its key and frees its memory.
	for _, k := range []string{"h2", "h3"} {
		err := s.UpdateObject([]byte(k), KindHash, nil, func(c Collection) error {
			h := c.(*Hash)
			h.Del([]byte("a"))
			h.Del([]byte("b"))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != 0 || s.UsedMemory() != 0 {
		t.Fatalf("after emptying: %d keys, %d bytes", s.Len(), s.UsedMemory())
	}
	// Multi sees and changes several keys atomically.
	set("x", "f", "v")
	err := s.Multi([][]byte{[]byte("x"), []byte("y")}, func(tx *Tx) error {
		c, err := tx.Get([]byte("x"), KindHash)
		if err != nil || c == nil {
			t.Fatalf("tx.Get = %v, %v", c, err)
		}
		tx.Put([]byte("y"), c.Clone())
		c.(*Hash).Del([]byte("f"))
		tx.Put([]byte("x"), c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Exists([]byte("x")) || !s.Exists([]byte("y")) {
		t.Fatal("Multi did not move the field")
	}
	checkInvariants(t, s)
	s.Flush()
	if s.UsedMemory() != 0 {
		t.Fatalf("used after flush = %d", s.UsedMemory())
	}
}
