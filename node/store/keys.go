package store

import (
	"math/rand/v2"
	"slices"

	"github.com/cached/cached/node/glob"
	"github.com/cached/cached/ring"
)

// Del deletes key and reports whether it existed.
func (s *Store) Del(key []byte) bool {
	sh, i := s.locate(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookupLocked(sh, i, key, s.nowMs())
	if e == nil {
		return false
	}
	s.removeLocked(sh, i, e)
	sh.groups[i].shrink(s.seed)
	return true
}

// peek calls fn with the live entry for key (nil when absent) under the
// shard's read lock, without counting a hit or an access.
func (s *Store) peek(key []byte, fn func(e *entry, now int64)) {
	sh, i := s.locate(key)
	now := s.nowMs()
	sh.mu.RLock()
	e := s.get(sh, i, key)
	if e != nil && expired(e, now) {
		e = nil
	}
	fn(e, now)
	sh.mu.RUnlock()
}

// Exists reports whether key exists.
func (s *Store) Exists(key []byte) bool {
	var ok bool
	s.peek(key, func(e *entry, _ int64) { ok = e != nil })
	return ok
}

// Type returns the kind of key's value and whether the key exists.
func (s *Store) Type(key []byte) (Kind, bool) {
	var k Kind
	var ok bool
	s.peek(key, func(e *entry, _ int64) {
		if e != nil {
			k, ok = e.kind, true
		}
	})
	return k, ok
}

// Touch records an access to key and reports whether it exists.
func (s *Store) Touch(key []byte) bool {
	var ok bool
	s.peek(key, func(e *entry, now int64) {
		if e != nil {
			e.touch(s.clock(now))
			ok = true
		}
	})
	return ok
}

// Keys returns every live key matching pattern.
func (s *Store) Keys(pattern string) []string {
	var out []string
	now := s.nowMs()
	all := pattern == "*"
	for si := range s.shards {
		sh := &s.shards[si]
		sh.mu.RLock()
		for i := range sh.groups {
			for e := range sh.groups[i].all() {
				if k := e.key(); !expired(e, now) && (all || glob.Match(pattern, k)) {
					out = append(out, k)
				}
			}
		}
		sh.mu.RUnlock()
	}
	return out
}

// ScanOptions filter a Scan: Match is a glob pattern ("" for all), Count the
// number of keys to aim for, Type a kind name ("" for all).
type ScanOptions struct {
	Match string
	Count int
	Type  string
}

// Scan returns the keys of the key groups from cursor on, stopping once it
// has examined at least opt.Count keys, and the cursor to continue from (0
// when done). The cursor is a group number and every call returns whole
// groups, so a full iteration returns every key that existed throughout it,
// whatever else changed, and never repeats one. A cursor past the last group
// ends the iteration.
func (s *Store) Scan(cursor uint64, opt ScanOptions) (next uint64, keys []string) {
	if opt.Count <= 0 {
		opt.Count = 10
	}
	now := s.nowMs()
	g := int(min(cursor, groupCount))
	examined := 0
	for ; g < groupCount && examined < opt.Count; g++ {
		sh, i := s.group(g)
		sh.mu.RLock()
		for e := range sh.groups[i].all() {
			examined++
			k := e.key()
			if expired(e, now) ||
				(opt.Match != "" && !glob.Match(opt.Match, k)) ||
				(opt.Type != "" && e.kind.String() != opt.Type) {
				continue
			}
			keys = append(keys, k)
		}
		sh.mu.RUnlock()
	}
	if g >= groupCount {
		return 0, keys
	}
	return uint64(g), keys
}

// RandomKey returns a random live key, or false when the store is empty.
func (s *Store) RandomKey() (string, bool) {
	now := s.nowMs()
	start := rand.IntN(shardCount)
	for n := range shardCount {
		sh := &s.shards[(start+n)&(shardCount-1)]
		sh.mu.RLock()
		if sh.keys > 0 {
			off := rand.IntN(groupsPerShard)
			for j := range groupsPerShard {
				e := sh.groups[(off+j)%groupsPerShard].sample(rand.Int(), func(e *entry) bool { return !expired(e, now) })
				if e != nil {
					sh.mu.RUnlock()
					return e.key(), true
				}
			}
		}
		sh.mu.RUnlock()
	}
	return "", false
}

// lockKeys write-locks the shards of keys in shard order (so two callers
// cannot deadlock) and returns the function that unlocks them.
func (s *Store) lockKeys(keys [][]byte) (unlock func()) {
	idx := make([]int, 0, len(keys))
	for _, k := range keys {
		idx = append(idx, ring.Slot(k)&(shardCount-1))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, j := range idx {
		s.shards[j].mu.Lock()
	}
	return func() {
		for _, j := range idx {
			s.shards[j].mu.Unlock()
		}
	}
}

// Rename moves src's value and deadline to dst, replacing dst. With nx it
// does nothing when dst exists and reports false. A missing src is
// ErrNoSuchKey.
func (s *Store) Rename(src, dst []byte, nx bool) (bool, error) {
	unlock := s.lockKeys([][]byte{src, dst})
	defer unlock()
	now := s.nowMs()
	ssh, si := s.locate(src)
	e := s.lookupLocked(ssh, si, src, now)
	if e == nil {
		return false, ErrNoSuchKey
	}
	dsh, di := s.locate(dst)
	if string(src) == string(dst) {
		return !nx, nil
	}
	old := s.lookupLocked(dsh, di, dst, now)
	if nx && old != nil {
		return false, nil
	}
	s.removeLocked(ssh, si, e)
	s.insertLocked(dsh, di, s.clone(e, dst, false, now), old, now)
	return true, nil
}

// Copy copies src's value and deadline to dst. Without replace it does
// nothing when dst exists. It reports whether it copied.
func (s *Store) Copy(src, dst []byte, replace bool) bool {
	unlock := s.lockKeys([][]byte{src, dst})
	defer unlock()
	now := s.nowMs()
	ssh, si := s.locate(src)
	e := s.lookupLocked(ssh, si, src, now)
	if e == nil || string(src) == string(dst) {
		return false
	}
	dsh, di := s.locate(dst)
	if old := s.lookupLocked(dsh, di, dst, now); old != nil {
		if !replace {
			return false
		}
		s.removeLocked(dsh, di, old)
	}
	ne := s.clone(e, dst, true, now)
	ne.meta.Store(packMeta(s.clock(now), lfuInit))
	s.insertLocked(dsh, di, ne, nil, now)
	return true
}

// ExpireCond is the set of conditions of an EXPIRE: NX, XX, GT, LT. The
// front end rejects the combinations Redis rejects (NX with any other, GT
// with LT); XX may go with GT or LT.
type ExpireCond uint8

// EXPIRE conditions, as Redis 7. A key without a deadline counts as an
// infinite one for GT and LT.
const (
	ExpireNX ExpireCond = 1 << iota // only when the key has no deadline
	ExpireXX                        // only when the key has a deadline
	ExpireGT                        // only when the new deadline is later
	ExpireLT                        // only when the new deadline is earlier
)

// Expire sets key's deadline to at (absolute Unix ms) when cond allows, and
// reports whether it did. A deadline not in the future deletes the key.
func (s *Store) Expire(key []byte, at int64, cond ExpireCond) bool {
	sh, i := s.locate(key)
	now := s.nowMs()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookupLocked(sh, i, key, now)
	if e == nil {
		return false
	}
	has := e.expireAt != 0
	if (cond&ExpireNX != 0 && has) || (cond&ExpireXX != 0 && !has) ||
		(cond&ExpireGT != 0 && (!has || at <= e.expireAt)) ||
		(cond&ExpireLT != 0 && has && at >= e.expireAt) {
		return false
	}
	if at <= now {
		s.removeLocked(sh, i, e)
		return true
	}
	s.setExpireLocked(sh, i, e, at, now)
	return true
}

// Persist removes key's deadline and reports whether it had one.
func (s *Store) Persist(key []byte) bool {
	sh, i := s.locate(key)
	now := s.nowMs()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookupLocked(sh, i, key, now)
	if e == nil || e.expireAt == 0 {
		return false
	}
	s.setExpireLocked(sh, i, e, 0, now)
	return true
}

// Deadline reports key's deadline: at is the absolute Unix ms (0 when the key
// has none), now the store's clock, and ok whether the key exists.
func (s *Store) Deadline(key []byte) (at, now int64, ok bool) {
	s.peek(key, func(e *entry, n int64) {
		now = n
		if e != nil {
			at, ok = e.expireAt, true
		}
	})
	return at, now, ok
}

// Version returns the version of key's last write (see Clock), and false
// when the key is absent or expired. It takes the shard's read lock.
func (s *Store) Version(key []byte) (uint64, bool) {
	var v uint64
	var ok bool
	s.peek(key, func(e *entry, _ int64) {
		if e != nil {
			v, ok = e.version, true
		}
	})
	return v, ok
}

// Object is what OBJECT and MEMORY USAGE report about a key.
type Object struct {
	Kind     Kind
	Encoding string
	Freq     uint8 // LFU counter, decayed to now
	IdleMs   int64 // ms since the last access
	Bytes    int64 // estimated memory held
}

// Inspect returns OBJECT information about key, without counting an access.
func (s *Store) Inspect(key []byte) (Object, bool) {
	var o Object
	var ok bool
	s.peek(key, func(e *entry, now int64) {
		if e == nil {
			return
		}
		ok = true
		c := s.clock(now)
		o = Object{
			Kind:     e.kind,
			Encoding: encoding(e),
			Freq:     e.freq(c),
			IdleMs:   int64(c - e.access()),
			Bytes:    e.bytes(),
		}
	})
	return o, ok
}

// encoding names the representation of e's value, as OBJECT ENCODING.
func encoding(e *entry) string {
	if e.kind != KindString {
		return e.object().obj.Encoding()
	}
	return stringEncoding(e.value())
}

// stringEncoding names the encoding Redis would use for v.
func stringEncoding(v []byte) string {
	if _, ok := ParseInt(v); ok {
		return "int"
	}
	if len(v) <= 44 {
		return "embstr"
	}
	return "raw"
}
