package client

import "sync"

// group runs one call per key at a time: callers that come while a call
// for their key runs wait for it and share its result (the idea of
// groupcache's singleflight).
type group struct {
	mu    sync.Mutex // guards calls
	calls map[string]*flight
}

// flight is one call in progress.
type flight struct {
	done chan struct{} // closed when val and err are set
	val  []byte
	err  error
}

// start returns the flight for key and whether the caller must run it
// (and then call finish); other callers wait on f.done.
func (g *group) start(key string) (f *flight, leader bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f, ok := g.calls[key]; ok {
		return f, false
	}
	if g.calls == nil {
		g.calls = map[string]*flight{}
	}
	f = &flight{done: make(chan struct{})}
	g.calls[key] = f
	return f, true
}

// finish publishes the leader's result and forgets the flight, so the next
// miss loads again.
func (g *group) finish(key string, f *flight, val []byte, err error) {
	f.val, f.err = val, err
	g.mu.Lock()
	delete(g.calls, key)
	g.mu.Unlock()
	close(f.done)
}
