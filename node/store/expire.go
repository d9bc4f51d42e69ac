package store

import (
	"time"

	"github.com/cached/cached/ring"
)

// The active expiry sweep visits slots that hold keys with deadlines, a few
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
			cursor = s.ExpireCycle(cursor, s.interval/expiryBudget)
		}
	}
}

// ExpireCycle deletes expired keys slot by slot from cursor until budget is
// spent or every slot was visited once, and returns the slot to continue
// from. The sweep calls it periodically; tests call it directly.
func (s *Store) ExpireCycle(cursor int, budget time.Duration) int {
	start := time.Now()
	for n := 0; n < ring.SlotCount; n++ {
		slot := (cursor + n) % ring.SlotCount
		sh := &s.shards[slot&(shardCount-1)]
		i := slot >> shardBits
		sh.mu.RLock()
		v := sh.volatile[i]
		sh.mu.RUnlock()
		if v > 0 {
			s.expireSlot(sh, i)
		}
		if n%64 == 63 && time.Since(start) > budget {
			return (slot + 1) % ring.SlotCount
		}
	}
	return cursor
}

// expireSlot deletes the expired keys of one slot.
func (s *Store) expireSlot(sh *shard, i int) {
	now := s.nowMs()
	sh.mu.Lock()
	for k, e := range sh.slots[i] {
		if expired(e, now) {
			s.removeLocked(sh, i, k, e)
			s.expired.Add(1)
		}
	}
	sh.mu.Unlock()
}
