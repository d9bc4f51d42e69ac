package store

import "time"

// The active expiry sweep visits key groups that hold keys with deadlines, a few
// at a time, and deletes what has expired, so keys that are never read again
// do not pile up. Like Redis, it spends a bounded slice of each interval
// (expiryBudget of it) and starts where the previous sweep stopped.
const expiryBudget = 4 // 1/4 of each interval at most

func (s *Store) expireLoop() {
	defer close(s.done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	cursor := 0
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			if s.sys != nil {
				s.sys.resync()
				s.access.Store(s.clock(s.nowMs()))
			}
			cursor = s.ExpireCycle(cursor, s.interval/expiryBudget)
			// Keep evicting down to maxmemory when no write comes along
			// (after CONFIG SET maxmemory lowered it); ErrOOM just means
			// there is nothing to evict.
			_ = s.Reserve()
		}
	}
}

// ExpireCycle deletes expired keys group by group from cursor until budget
// is spent or every group was visited once, and returns the group to
// continue from. The sweep calls it periodically; tests call it directly.
func (s *Store) ExpireCycle(cursor int, budget time.Duration) int {
	start := time.Now()
	for n := range groupCount {
		g := (cursor + n) % groupCount
		sh, i := s.group(g)
		sh.mu.RLock()
		v := sh.volatile[i]
		sh.mu.RUnlock()
		if v > 0 {
			s.expireGroup(sh, i)
		}
		if n%16 == 15 && time.Since(start) > budget {
			return (g + 1) % groupCount
		}
	}
	return cursor
}

// expireGroup deletes the expired keys of one group.
func (s *Store) expireGroup(sh *shard, i int) {
	now := s.nowMs()
	sh.mu.Lock()
	for e := range sh.groups[i].all() {
		if expired(e, now) {
			s.dropLocked(sh, i, e)
			s.expired.Add(1)
			s.droppedLocked(e)
		}
	}
	sh.groups[i].shrink(s.seed)
	sh.mu.Unlock()
}
