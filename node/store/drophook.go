package store

// SetDropHook sets the function told of every key the store deletes on its
// own: expired (lazily or by the sweep) or evicted. It runs under the
// lock of the key's shard, so it must be quick, must not block and must
// not call the store; the key string stays valid after it returns. A nil
// fn removes the hook. With no hook, a drop costs one atomic load.
func (s *Store) SetDropHook(fn func(key string)) {
	if fn == nil {
		s.dropHook.Store(nil)
		return
	}
	s.dropHook.Store(&fn)
}

// droppedLocked tells the drop hook, if any, that e was expired or evicted.
func (s *Store) droppedLocked(e *entry) {
	if h := s.dropHook.Load(); h != nil {
		(*h)(e.key())
	}
}
