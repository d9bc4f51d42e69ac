package store

import (
	"unsafe"

	"github.com/cached/cached/ring"
)

// Collection is a collection value: a hash, list, set or sorted set. Its
// methods run under the shard lock of its key.
type Collection interface {
	// Kind is the value's type.
	Kind() Kind
	// Encoding names the representation, as OBJECT ENCODING reports it.
	Encoding() string
	// Len is the number of elements. An object that becomes empty is
	// deleted with its key, as Redis does.
	Len() int
	// Clone returns a deep copy, for COPY.
	Clone() Collection
	// Bytes estimates the heap the object holds. It is called after every
	// update, so it must be O(1): keep a running count.
	Bytes() int64
}

// objectEntry is the entry of a collection: the common header first (so a
// *objectEntry is also an *entry), then the key and the object. Unlike a
// string entry it holds pointers, and the garbage collector scans it.
type objectEntry struct {
	entry
	key  string
	obj  Collection
	size int64 // obj's accounted bytes
}

// object returns e as an objectEntry; e.kind must not be KindString.
func (e *entry) object() *objectEntry { return (*objectEntry)(unsafe.Pointer(e)) }

// newObjectEntry returns the entry of key holding o.
func (s *Store) newObjectEntry(key string, o Collection, now int64) *entry {
	oe := &objectEntry{key: key, obj: o, size: o.Bytes()}
	oe.klen = uint32(len(key))
	oe.kind = o.Kind()
	oe.slot = uint16(ring.SlotString(key))
	oe.meta.Store(packMeta(s.clock(now), lfuInit))
	return &oe.entry
}

// ViewObject calls fn with the live object of kind k at key under the
// shard's read lock, or with nil when the key is absent. A key of another
// kind is ErrWrongType. fn must not keep the object or its contents.
func (s *Store) ViewObject(key []byte, k Kind, fn func(o Collection) error) error {
	sh, i := s.locate(key)
	sh.mu.RLock()
	e := s.get(sh, i, key)
	if e != nil && e.expireAt != 0 && expired(e, s.nowMs()) {
		e = nil // a key without a deadline reads no clock
	}
	if e == nil {
		sh.mu.RUnlock()
		sh.misses.Add(1)
		return fn(nil)
	}
	if e.kind != k {
		sh.mu.RUnlock()
		return ErrWrongType
	}
	e.touch(s.accessClock())
	err := fn(e.object().obj)
	sh.mu.RUnlock()
	sh.hits.Add(1)
	return err
}

// UpdateObject calls fn with the live object of kind k at key under the
// shard's write lock. When the key is absent, fn gets mk() if mk is not
// nil (the object is stored if fn leaves it non-empty), or nil. A key of
// another kind is ErrWrongType. After fn the object's size is re-accounted,
// and an object left empty is deleted with its key.
func (s *Store) UpdateObject(key []byte, k Kind, mk func() Collection, fn func(o Collection) error) error {
	sh, i := s.locate(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.get(sh, i, key)
	if e == nil && mk == nil {
		return fn(nil) // a miss that creates nothing reads no clock
	}
	now := s.nowMs()
	e = s.liveLocked(sh, i, e, now)
	if e == nil {
		if mk == nil {
			return fn(nil)
		}
		o := mk()
		if err := fn(o); err != nil {
			return err
		}
		if o.Len() > 0 {
			s.insertLocked(sh, i, s.newObjectEntry(string(key), o, now), nil, now)
		}
		return nil
	}
	if e.kind != k {
		return ErrWrongType
	}
	oe := e.object()
	err := fn(oe.obj)
	if oe.obj.Len() == 0 {
		s.removeLocked(sh, i, e)
		return err
	}
	size := oe.obj.Bytes()
	s.used.Add(size - oe.size)
	oe.size = size
	e.touch(s.clock(now))
	s.modifiedLocked(sh, e, now)
	return err
}

// clone returns a copy of e under key, with e's deadline and access record.
// A collection is deep-copied when deep is set (COPY), or moved (RENAME,
// which deletes e).
func (s *Store) clone(e *entry, key []byte, deep bool, now int64) *entry {
	var ne *entry
	switch {
	case e.kind == KindString:
		ne = newStringEntry(key, e.value(), 0)
	case deep:
		ne = s.newObjectEntry(string(key), e.object().obj.Clone(), now)
	default:
		ne = s.newObjectEntry(string(key), e.object().obj, now)
	}
	ne.expireAt = e.expireAt
	ne.meta.Store(e.meta.Load())
	return ne
}

// Tx gives a function run by Store.Multi access to the values of its keys,
// whose shards stay write-locked for the whole function: the multi-key
// commands (SMOVE, SINTERSTORE, ZUNIONSTORE, LMOVE, ...) are atomic.
type Tx struct {
	s   *Store
	now int64
}

// Multi write-locks the shards of keys, runs fn, and unlocks. fn may only
// touch those keys through tx.
func (s *Store) Multi(keys [][]byte, fn func(tx *Tx) error) error {
	unlock := s.lockKeys(keys)
	defer unlock()
	return fn(&Tx{s: s, now: s.nowMs()})
}

// Get returns the live collection of kind k at key, or nil when the key is
// absent. A key of another kind is ErrWrongType. Changes made to the
// collection must be followed by Put (or Touch) to keep the accounting.
func (tx *Tx) Get(key []byte, k Kind) (Collection, error) {
	sh, i := tx.s.locate(key)
	e := tx.s.lookupLocked(sh, i, key, tx.now)
	if e == nil {
		return nil, nil
	}
	if e.kind != k {
		return nil, ErrWrongType
	}
	return e.object().obj, nil
}

// Exists reports whether key holds a live value of any kind, and its kind.
func (tx *Tx) Exists(key []byte) (Kind, bool) {
	sh, i := tx.s.locate(key)
	if e := tx.s.lookupLocked(sh, i, key, tx.now); e != nil {
		return e.kind, true
	}
	return 0, false
}

// Put stores c at key, replacing any value (and its deadline); an empty c
// deletes the key. Putting the collection Get returned re-accounts it and
// keeps the deadline.
func (tx *Tx) Put(key []byte, c Collection) {
	s := tx.s
	sh, i := s.locate(key)
	old := s.lookupLocked(sh, i, key, tx.now)
	if old != nil && old.kind != KindString && old.object().obj == c {
		if c.Len() == 0 {
			s.removeLocked(sh, i, old)
			return
		}
		oe := old.object()
		size := c.Bytes()
		s.used.Add(size - oe.size)
		oe.size = size
		old.touch(s.clock(tx.now))
		s.modifiedLocked(sh, old, tx.now)
		return
	}
	if c.Len() == 0 {
		if old != nil {
			s.removeLocked(sh, i, old)
		}
		return
	}
	s.insertLocked(sh, i, s.newObjectEntry(string(key), c, tx.now), old, tx.now)
}

// Del deletes key and reports whether it existed.
func (tx *Tx) Del(key []byte) bool {
	sh, i := tx.s.locate(key)
	e := tx.s.lookupLocked(sh, i, key, tx.now)
	if e != nil {
		tx.s.removeLocked(sh, i, e)
	}
	return e != nil
}
