package store

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
)

// AppendFunc appends an encoding of val to dst and returns the result. The
// store calls it under the key's shard lock: it must not block, and must not
// keep val, whose bytes later writes may change in place.
type AppendFunc func(dst, val []byte) []byte

// AppendValue is the AppendFunc that appends the bytes themselves.
func AppendValue(dst, val []byte) []byte { return append(dst, val...) }

// Get returns a copy of the string value of key.
func (s *Store) Get(key []byte) (val []byte, ok bool, err error) {
	val, ok, err = s.AppendGet(nil, key, AppendValue)
	if ok && val == nil {
		val = []byte{}
	}
	return val, ok, err
}

// AppendGet appends the string value of key to dst through fn, while the
// value cannot change, and reports whether the key was there. It is the
// read path of GET: a hit allocates nothing in the store.
func (s *Store) AppendGet(dst, key []byte, fn AppendFunc) (out []byte, ok bool, err error) {
	sh, i := s.locate(key)
	sh.mu.RLock()
	e := s.get(sh, i, key)
	if e == nil {
		sh.mu.RUnlock()
		sh.misses.Add(1)
		return dst, false, nil
	}
	if e.expireAt != 0 { // else no clock to read
		if now := s.nowMs(); expired(e, now) {
			sh.mu.RUnlock()
			s.expireKey(key, now)
			sh.misses.Add(1)
			return dst, false, nil
		}
	}
	if e.kind != KindString {
		sh.mu.RUnlock()
		return dst, false, ErrWrongType
	}
	e.touch(s.accessClock())
	dst = fn(dst, e.value())
	sh.mu.RUnlock()
	sh.hits.Add(1)
	return dst, true, nil
}

// StrLen returns the length of the string at key (0 when absent).
func (s *Store) StrLen(key []byte) (int, error) {
	var n int
	var err error
	s.peek(key, func(e *entry, _ int64) {
		switch {
		case e == nil:
		case e.kind != KindString:
			err = ErrWrongType
		default:
			n = int(e.vlen)
		}
	})
	return n, err
}

// expireKey deletes key if it is still expired at now.
func (s *Store) expireKey(key []byte, now int64) {
	sh, i := s.locate(key)
	sh.mu.Lock()
	s.lookupLocked(sh, i, key, now)
	sh.mu.Unlock()
}

// SetCond is the existence condition of a SET.
type SetCond uint8

// SET conditions.
const (
	SetAlways SetCond = iota
	SetNX             // only if the key does not exist
	SetXX             // only if the key exists
)

// SetOptions are SET's options. ExpireAt is an absolute deadline in Unix ms
// (0: none); KeepTTL keeps the existing deadline instead; Get asks for the
// old value.
type SetOptions struct {
	Cond     SetCond
	ExpireAt int64
	KeepTTL  bool
	Get      bool
}

// Set stores val under key. It reports whether it wrote (a condition may
// prevent it) and, with opt.Get, the old value. With opt.Get an old value of
// another type fails with ErrWrongType and writes nothing.
func (s *Store) Set(key, val []byte, opt SetOptions) (old []byte, hadOld, written bool, err error) {
	sh, i := s.locate(key)
	now := s.nowMs()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookupLocked(sh, i, key, now)
	if e != nil && opt.Get {
		if e.kind != KindString {
			return nil, false, false, ErrWrongType
		}
		old, hadOld = bytes.Clone(e.value()), true
	}
	if (opt.Cond == SetNX && e != nil) || (opt.Cond == SetXX && e == nil) {
		return old, hadOld, false, nil
	}
	s.setLocked(sh, i, key, val, e, opt.ExpireAt, opt.KeepTTL, now)
	return old, hadOld, true, nil
}

// setLocked writes a string value over e (nil when absent). A value of about
// the old one's size is written in place: no allocation, no map update.
func (s *Store) setLocked(sh *shard, i int, key, val []byte, e *entry, expireAt int64, keepTTL bool, now int64) {
	if e != nil && e.kind == KindString && e.setInPlace(val) {
		if !keepTTL {
			s.setDeadlineLocked(sh, i, e, expireAt)
		}
		s.modifiedLocked(sh, e, now)
		e.meta.Store(packMeta(s.clock(now), lfuInit))
		return
	}
	ne := s.newEntry(key, val, expireAt, now, 0)
	if e != nil && keepTTL {
		ne.expireAt = e.expireAt
	}
	s.insertLocked(sh, i, ne, e, now)
}

// MSet stores every key/value pair (pairs alternate key, value) atomically:
// no reader sees some pairs written and others not. With nx it writes only
// when none of the keys exists and reports whether it wrote.
func (s *Store) MSet(pairs [][]byte, nx bool) bool {
	keys := make([][]byte, 0, len(pairs)/2)
	for j := 0; j < len(pairs); j += 2 {
		keys = append(keys, pairs[j])
	}
	unlock := s.lockKeys(keys)
	defer unlock()
	now := s.nowMs()
	if nx {
		for _, k := range keys {
			sh, i := s.locate(k)
			if s.lookupLocked(sh, i, k, now) != nil {
				return false
			}
		}
	}
	for j := 0; j < len(pairs); j += 2 {
		sh, i := s.locate(pairs[j])
		e := s.lookupLocked(sh, i, pairs[j], now)
		s.setLocked(sh, i, pairs[j], pairs[j+1], e, 0, false, now)
	}
	return true
}

// GetDel returns the string value of key and deletes the key. The entry is
// unreachable once deleted, so its bytes are returned without a copy.
func (s *Store) GetDel(key []byte) (val []byte, ok bool, err error) {
	sh, i := s.locate(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookupLocked(sh, i, key, s.nowMs())
	if e == nil {
		sh.misses.Add(1)
		return nil, false, nil
	}
	if e.kind != KindString {
		return nil, false, ErrWrongType
	}
	s.removeLocked(sh, i, e)
	sh.hits.Add(1)
	return e.value(), true, nil
}

// ExpireChange says how GETEX changes a key's deadline.
type ExpireChange struct {
	Set     bool  // set the deadline to At
	At      int64 // absolute Unix ms
	Persist bool  // remove the deadline
}

// GetEx returns the string value of key and changes its deadline. A deadline
// in the past deletes the key after reading it.
func (s *Store) GetEx(key []byte, ch ExpireChange) (val []byte, ok bool, err error) {
	sh, i := s.locate(key)
	now := s.nowMs()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookupLocked(sh, i, key, now)
	if e == nil {
		sh.misses.Add(1)
		return nil, false, nil
	}
	if e.kind != KindString {
		return nil, false, ErrWrongType
	}
	e.touch(s.clock(now))
	sh.hits.Add(1)
	switch {
	case ch.Persist:
		s.setExpireLocked(sh, i, e, 0, now)
	case ch.Set && ch.At <= now:
		s.removeLocked(sh, i, e)
	case ch.Set:
		s.setExpireLocked(sh, i, e, ch.At, now)
	}
	return bytes.Clone(e.value()), true, nil
}

// Append appends val to the string at key (creating it) and returns the new
// length. Spare capacity is doubled so repeated appends cost amortised O(1).
func (s *Store) Append(key, val []byte) (int, error) {
	sh, i := s.locate(key)
	now := s.nowMs()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookupLocked(sh, i, key, now)
	if e == nil {
		s.insertLocked(sh, i, s.newEntry(key, val, 0, now, 0), nil, now)
		return len(val), nil
	}
	if e.kind != KindString {
		return 0, ErrWrongType
	}
	n := int(e.vlen) + len(val)
	if n > MaxStringLen {
		return 0, ErrTooLarge
	}
	// In place when it fits, past the length earlier readers hold;
	// otherwise into a new entry with as much again spare.
	if e.appendInPlace(val) {
		s.modifiedLocked(sh, e, now)
	} else {
		grown := append(append(make([]byte, 0, n), e.value()...), val...)
		e = s.replaceValueLocked(sh, i, e, grown, n, now)
	}
	e.touch(s.clock(now))
	return n, nil
}

// SetRange overwrites the string at key from offset, zero-padding as needed,
// and returns the new length. An empty val only reports the length.
func (s *Store) SetRange(key []byte, offset int64, val []byte) (int, error) {
	sh, i := s.locate(key)
	now := s.nowMs()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookupLocked(sh, i, key, now)
	if e != nil && e.kind != KindString {
		return 0, ErrWrongType
	}
	var cur []byte
	if e != nil {
		cur = e.value()
	}
	if len(val) == 0 {
		return len(cur), nil
	}
	if offset > MaxStringLen-int64(len(val)) { // offset+len could overflow
		return 0, ErrTooLarge
	}
	n := max(len(cur), int(offset)+len(val))
	buf := make([]byte, n)
	copy(buf, cur)
	copy(buf[offset:], val)
	if e == nil {
		s.insertLocked(sh, i, s.newEntry(key, buf, 0, now, 0), nil, now)
	} else {
		s.replaceValueLocked(sh, i, e, buf, 0, now).touch(s.clock(now))
	}
	return n, nil
}

// IncrBy adds delta to the integer at key (0 when absent) and returns the result.
func (s *Store) IncrBy(key []byte, delta int64) (int64, error) {
	sh, i := s.locate(key)
	now := s.nowMs()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookupLocked(sh, i, key, now)
	var n int64
	if e != nil {
		if e.kind != KindString {
			return 0, ErrWrongType
		}
		v, ok := ParseInt(e.value())
		if !ok {
			return 0, ErrNotInteger
		}
		n = v
	}
	if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
		return 0, ErrOverflow
	}
	n += delta
	var buf [maxIntLen]byte
	val := strconv.AppendInt(buf[:0], n, 10)
	switch {
	case e == nil:
		// Room for any int64, so later increments happen in place.
		s.insertLocked(sh, i, s.newEntry(key, val, 0, now, maxIntLen-len(val)), nil, now)
	case e.overwrite(val):
		e.touch(s.clock(now))
		s.modifiedLocked(sh, e, now)
	default:
		s.replaceValueLocked(sh, i, e, val, maxIntLen-len(val), now).touch(s.clock(now))
	}
	return n, nil
}

// IncrByFloat adds the decimal number incr to the number at key (0 when
// absent) with long double arithmetic, as Redis, and returns the new value
// as stored. An increment or value that is not a number is ErrNotFloat; a
// result that is infinite is ErrNaN.
func (s *Store) IncrByFloat(key, incr []byte) ([]byte, error) {
	inc, ok := parseLongDouble(incr)
	if !ok {
		return nil, ErrNotFloat
	}
	sh, i := s.locate(key)
	now := s.nowMs()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookupLocked(sh, i, key, now)
	cur := new(big.Float)
	if e != nil {
		if e.kind != KindString {
			return nil, ErrWrongType
		}
		if cur, ok = parseLongDouble(e.value()); !ok {
			return nil, ErrNotFloat
		}
	}
	sum, ok := addLongDouble(cur, inc)
	if !ok {
		return nil, ErrNaN
	}
	val := formatLongDouble(sum)
	if e == nil {
		s.insertLocked(sh, i, s.newEntry(key, val, 0, now, 0), nil, now)
	} else {
		s.replaceValueLocked(sh, i, e, val, 0, now).touch(s.clock(now))
	}
	return val, nil
}

// maxIntLen is the longest decimal int64, "-9223372036854775808".
const maxIntLen = 20

// ParseInt parses a decimal 64-bit integer as Redis does: no spaces, no '+',
// no leading zeros.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) > 1 && (b[0] == '0' || (b[0] == '-' && b[1] == '0')) {
		return 0, false
	}
	if b[0] == '+' {
		return 0, false
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}
