package origin

import "sync"

// flight runs one load per key at a time: callers asking for a key already
// being loaded wait for that load and share its result.
type flight struct {
	mu    sync.Mutex // guards calls
	calls map[string]*call
}

// call is one load in progress.
type call struct {
	done chan struct{} // closed when val and err are set
	val  []byte
	err  error
}

// do returns the result of fn for key, calling fn only if no call for key
// is in progress. shared reports that the result came from another
// caller's call. The returned slice is shared: callers must not modify it.
func (f *flight) do(key string, fn func() ([]byte, error)) (val []byte, err error, shared bool) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = make(map[string]*call)
	}
	if c, ok := f.calls[key]; ok {
		f.mu.Unlock()
		<-c.done
		return c.val, c.err, true
	}
	c := &call{done: make(chan struct{})}
	f.calls[key] = c
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.calls, key)
		f.mu.Unlock()
		close(c.done)
	}()
	c.val, c.err = fn()
	return c.val, c.err, false
}

// inFlight reports whether a load of key is in progress.
func (f *flight) inFlight(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.calls[key]
	return ok
}
