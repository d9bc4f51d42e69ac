package store

import "github.com/cached/cached/ring"

// Watch returns what WATCH records about key: the change counter of its
// hash slot and its deadline (0 when it has none or is absent). Counting by
// slot means a change to another key of the same slot also counts, so a
// transaction may abort without need (and its client retries), never the
// reverse.
func (s *Store) Watch(key []byte) (version uint64, deadline int64) {
	slot := ring.Slot(key)
	sh, i := s.group(slot & (groupCount - 1))
	now := s.nowMs()
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if e := s.get(sh, i, key); e != nil && !expired(e, now) {
		deadline = e.expireAt
	}
	return s.versions[slot], deadline
}

// Changed reports whether key was touched since Watch returned version and
// deadline: written, deleted, evicted, or expired (lazily or not).
func (s *Store) Changed(key []byte, version uint64, deadline int64) bool {
	slot := ring.Slot(key)
	sh, _ := s.group(slot & (groupCount - 1))
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return s.versions[slot] != version || (deadline != 0 && deadline < s.nowMs())
}
