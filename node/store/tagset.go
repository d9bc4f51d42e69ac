package store

// Tag sets: the members of a tag in one slot (see node's tags). They are
// ordinary sets; these two operations keep a set's deadline no earlier
// than its members' and take a set out whole, each under one shard lock.

// AddMembers adds members to the set at key, creating it, and extends the
// set's deadline to at (absolute Unix ms; 0 means none, which makes the
// set persistent); it never brings an existing deadline forward. It
// returns how many members were new. A key of another kind is
// ErrWrongType.
func (s *Store) AddMembers(key []byte, members [][]byte, at int64) (int, error) {
	sh, i := s.locate(key)
	now := s.nowMs()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookupLocked(sh, i, key, now)
	if e != nil && e.kind != KindSet {
		return 0, ErrWrongType
	}
	added := 0
	if e == nil {
		set := NewSet()
		for _, m := range members {
			if set.(*Set).Add(m) {
				added++
			}
		}
		if set.Len() == 0 {
			return 0, nil
		}
		e = s.newObjectEntry(string(key), set, now)
		e.expireAt = at
		s.insertLocked(sh, i, e, nil, now)
		return added, nil
	}
	oe := e.object()
	set := oe.obj.(*Set)
	for _, m := range members {
		if set.Add(m) {
			added++
		}
	}
	size := set.Bytes()
	s.used.Add(size - oe.size)
	oe.size = size
	if e.expireAt != 0 && (at == 0 || at > e.expireAt) {
		s.setDeadlineLocked(sh, i, e, at)
	}
	s.modifiedLocked(sh, e, now)
	return added, nil
}

// PopMembers deletes the set at key and returns its members (none when the
// key is absent). A key of another kind is ErrWrongType.
func (s *Store) PopMembers(key []byte) ([]string, error) {
	sh, i := s.locate(key)
	now := s.nowMs()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := s.lookupLocked(sh, i, key, now)
	if e == nil {
		return nil, nil
	}
	if e.kind != KindSet {
		return nil, ErrWrongType
	}
	members := e.object().obj.(*Set).PopAll()
	s.removeLocked(sh, i, e)
	sh.groups[i].shrink(s.seed)
	return members, nil
}
