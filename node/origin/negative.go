package origin

import (
	"sync"
	"time"
)

// maxNegative bounds the keys remembered as absent; past it, expired
// entries go first, then arbitrary ones.
const maxNegative = 1 << 16

// negative remembers keys an origin said are absent, each until its
// deadline. It is safe for concurrent use.
type negative struct {
	mu     sync.Mutex // guards absent
	absent map[string]time.Time
}

// add remembers key as absent until until.
func (n *negative) add(key string, until time.Time, now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.absent == nil {
		n.absent = make(map[string]time.Time)
	}
	if len(n.absent) >= maxNegative {
		for k, d := range n.absent {
			if !d.After(now) {
				delete(n.absent, k)
			}
		}
		for k := range n.absent {
			if len(n.absent) < maxNegative {
				break
			}
			delete(n.absent, k)
		}
	}
	n.absent[key] = until
}

// has reports whether key is known absent at now. It does not allocate.
func (n *negative) has(key []byte, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	d, ok := n.absent[string(key)]
	if ok && !d.After(now) {
		delete(n.absent, string(key))
		return false
	}
	return ok
}

// forget drops key.
func (n *negative) forget(key string) {
	n.mu.Lock()
	delete(n.absent, key)
	n.mu.Unlock()
}

// len returns the number of keys remembered.
func (n *negative) len() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.absent)
}
