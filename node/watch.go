package node

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
)

// Watches: in-process subscriptions to invalidations (the gRPC Watch
// stream). Like a CLIENT TRACKING BCAST client, a Watch is registered with
// every member, by the RESP server, through its prefixes and keys (a key
// is registered as a prefix and matched exactly here), so it hears of
// changes to keys owned anywhere; the front end that delivers
// invalidations calls PublishInvalidation.

// ErrWatchOverflow ends a Watch whose reader fell more than its buffer
// behind: it missed invalidations, so it must drop what it cached.
var ErrWatchOverflow = errors.New("watch: reader too slow, invalidations were lost")

// WatchEvent is one invalidation: the keys that changed, or All for every
// key (FLUSHALL).
type WatchEvent struct {
	Keys []string
	All  bool
}

// Watch receives the invalidations of some keys and key prefixes. Create
// it with Node.WatchInvalidations; Close it when done.
type Watch struct {
	n        *Node
	keys     map[string]struct{}
	prefixes []string
	events   chan WatchEvent
	done     chan struct{}
	err      error // set before done is closed
	once     sync.Once
	gen      uint64 // registration generation that includes the Watch
}

// watches is the node's set of Watches.
type watches struct {
	active atomic.Bool // some Watch exists
	mu     sync.RWMutex
	set    map[*Watch]struct{}
}

// WatchInvalidations registers for the invalidations of keys and of every key under
// prefixes (an empty prefix is every key), buffering up to buffer events;
// a reader that falls further behind loses the Watch (ErrWatchOverflow).
func (n *Node) WatchInvalidations(keys, prefixes []string, buffer int) *Watch {
	w := &Watch{n: n, keys: make(map[string]struct{}, len(keys)), prefixes: prefixes,
		events: make(chan WatchEvent, max(buffer, 1)), done: make(chan struct{})}
	for _, k := range keys {
		w.keys[k] = struct{}{}
	}
	ws := &n.inval.watches
	ws.mu.Lock()
	if ws.set == nil {
		ws.set = map[*Watch]struct{}{}
	}
	ws.set[w] = struct{}{}
	ws.active.Store(true)
	ws.mu.Unlock()
	w.gen = n.registrationChanged()
	return w
}

// Ready waits until the Watch is registered with every member: a write
// acknowledged after it returns is reported.
func (w *Watch) Ready(ctx context.Context) error { return w.n.awaitRegistration(ctx, w.gen) }

// Events delivers the invalidations.
func (w *Watch) Events() <-chan WatchEvent { return w.events }

// Done is closed when the Watch ends: Close, or overflow (see Err).
func (w *Watch) Done() <-chan struct{} { return w.done }

// Err reports why the Watch ended once Done is closed: nil after Close.
func (w *Watch) Err() error { return w.err }

// Close ends the Watch. It is idempotent.
func (w *Watch) Close() { w.end(nil) }

func (w *Watch) end(err error) {
	w.once.Do(func() {
		ws := &w.n.inval.watches
		ws.mu.Lock()
		delete(ws.set, w)
		ws.active.Store(len(ws.set) > 0)
		ws.mu.Unlock()
		w.err = err
		close(w.done)
		w.n.registrationChanged()
	})
}

// Watching reports whether any Watch exists; it is one atomic load.
func (n *Node) Watching() bool { return n.inval.watches.active.Load() }

// WatchedPrefixes returns the prefixes other members must send this node
// invalidations for: every Watch's prefixes and keys.
func (n *Node) WatchedPrefixes() []string {
	ws := &n.inval.watches
	ws.mu.RLock()
	defer ws.mu.RUnlock()
	var out []string
	for w := range ws.set {
		out = append(out, w.prefixes...)
		for k := range w.keys {
			out = append(out, k)
		}
	}
	return out
}

// PublishInvalidation hands keys (every key when all) to the Watches they
// concern. It does not block: a Watch whose buffer is full ends with
// ErrWatchOverflow.
func (n *Node) PublishInvalidation(keys [][]byte, all bool) {
	ws := &n.inval.watches
	if !ws.active.Load() {
		return
	}
	var overflown []*Watch
	ws.mu.RLock()
	for w := range ws.set {
		ev := WatchEvent{All: all}
		if !all {
			for _, k := range keys {
				if w.matches(k) {
					ev.Keys = append(ev.Keys, string(k))
				}
			}
			if len(ev.Keys) == 0 {
				continue
			}
		}
		select {
		case w.events <- ev:
		default:
			overflown = append(overflown, w)
		}
	}
	ws.mu.RUnlock()
	for _, w := range overflown {
		w.end(ErrWatchOverflow)
	}
}

// matches reports whether w watches key.
func (w *Watch) matches(key []byte) bool {
	if _, ok := w.keys[string(key)]; ok {
		return true
	}
	for _, p := range w.prefixes {
		if strings.HasPrefix(string(key), p) {
			return true
		}
	}
	return false
}
