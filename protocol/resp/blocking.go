package resp

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...). A command that cannot be
// served at once parks its client as a waiter on its keys. A command that
// may make a key servable (a push) calls signal, which offers the key to its
// waiters in arrival order; the first that can pop is answered. A waiter's
// reply is built by its try function into a scratch client of the waiter's
// protocol and handed over like a pub/sub message (loop clients) or through
// a channel (goroutine clients). A timer answers a waiter nobody served.

// blocking is the registry of waiters. mu guards waiters and every waiter's
// done flag.
type blocking struct {
	mu      sync.Mutex
	waiters map[string][]*waiter
	count   atomic.Int64 // waiters registered or registering; signal skips the lock at 0
}

// waiter is one parked command.
type waiter struct {
	c     *Client
	keys  []string
	try   func(r *Client) bool // serve into r; false when nothing to take yet
	done  bool
	timer *time.Timer
	ch    chan []byte // the reply, for a goroutine client
}

// block answers c's command through try now if it can, or parks c until a
// signal on one of keys lets try succeed, or until timeout (0: forever)
// answers with a null array. Inside EXEC it never parks: a blocking command
// there behaves as with an immediate timeout, as in Redis.
func (c *Client) block(keys [][]byte, timeout time.Duration, try func(r *Client) bool) {
	b := &c.srv.blocking
	if try(c) {
		c.srv.resignal(c)
		return
	}
	if c.execing {
		c.nullArray()
		return
	}
	b.count.Add(1)
	b.mu.Lock()
	if try(c) { // a push may have landed before the count was visible
		b.mu.Unlock()
		b.count.Add(-1)
		c.srv.resignal(c)
		return
	}
	w := &waiter{c: c, try: try}
	if c.lp == nil {
		w.ch = make(chan []byte, 1)
	}
	if b.waiters == nil {
		b.waiters = map[string][]*waiter{}
	}
	for _, k := range keys {
		key := string(k)
		w.keys = append(w.keys, key)
		b.waiters[key] = append(b.waiters[key], w)
	}
	c.suspend()
	c.waiting = w
	if timeout > 0 {
		w.timer = time.AfterFunc(timeout, func() { c.srv.timeOut(w) })
	}
	b.mu.Unlock()
	if w.ch != nil {
		// A goroutine client waits here, letting EXECs run meanwhile.
		c.execLock.RUnlock()
		reply, ok := c.park(w)
		c.execLock.RLock()
		c.blocked.Store(false)
		c.waiting = nil
		if ok {
			c.out = append(c.out, reply...)
		} else {
			c.closing = true // the connection or the server went away
		}
	}
}

// parkCheck is how often a parked goroutine client checks that its
// connection and the server are still there.
const parkCheck = 100 * time.Millisecond

// park waits for w's reply on a goroutine client. It gives up, and reports
// false, when the client disconnects or is killed or the server closes;
// input that arrives meanwhile stays buffered for after the reply.
func (c *Client) park(w *waiter) ([]byte, bool) {
	t := time.NewTicker(parkCheck)
	defer t.Stop()
	for {
		select {
		case reply, ok := <-w.ch:
			return reply, ok
		case <-t.C:
		}
		if c.srv.closed.Load() || c.killed.Load() || !c.alive() {
			c.srv.unblock(c)
			reply, ok := <-w.ch // closed by unblock, unless served just before
			return reply, ok
		}
	}
}

// alive reads what the client sent without waiting, and reports whether
// its connection is still open.
func (c *Client) alive() bool {
	c.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	err := c.reader.Fill()
	c.conn.SetReadDeadline(time.Time{})
	var ne net.Error
	return err == nil || (errors.As(err, &ne) && ne.Timeout())
}

// signal offers key to its waiters, oldest first, until one cannot be
// served. Commands that add to a key call it after writing.
func (s *Server) signal(key []byte) {
	b := &s.blocking
	if b.count.Load() == 0 {
		return
	}
	var more [][]byte // keys the served waiters wrote to (BLMOVE)
	b.mu.Lock()
	for _, w := range b.waiters[string(key)] {
		if w.done {
			continue
		}
		r := w.c.scratchClient()
		if !w.try(r) {
			break
		}
		b.finishLocked(w)
		w.c.wake(w, r.out)
		more = append(more, r.resignal...)
	}
	b.mu.Unlock()
	for _, k := range more {
		s.signal(k)
	}
}

// resignal signals the keys c's served command wrote to, and forgets them.
func (s *Server) resignal(c *Client) {
	keys := c.resignal
	c.resignal = nil
	for _, k := range keys {
		s.signal(k)
	}
}

// timeOut answers w with a null array if nobody served it first.
func (s *Server) timeOut(w *waiter) {
	b := &s.blocking
	b.mu.Lock()
	if w.done {
		b.mu.Unlock()
		return
	}
	b.finishLocked(w)
	b.mu.Unlock()
	r := w.c.scratchClient()
	r.nullArray()
	w.c.wake(w, r.out)
}

// unblock forgets c's waiter, if any, when c disconnects or resets.
func (s *Server) unblock(c *Client) {
	b := &s.blocking
	b.mu.Lock()
	defer b.mu.Unlock()
	if w := c.waiting; w != nil && !w.done {
		b.finishLocked(w)
		if w.ch != nil {
			close(w.ch)
		}
	}
}

// finishLocked marks w served and removes it from its keys.
func (b *blocking) finishLocked(w *waiter) {
	w.done = true
	if w.timer != nil {
		w.timer.Stop()
	}
	for _, k := range w.keys {
		ws := b.waiters[k]
		for i, x := range ws {
			if x == w {
				ws = append(ws[:i:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(b.waiters, k)
		} else {
			b.waiters[k] = ws
		}
	}
	b.count.Add(-1)
}

// scratchClient returns a client value to build a reply for c in c's
// protocol without touching c's own buffers.
func (c *Client) scratchClient() *Client {
	r := &Client{srv: c.srv}
	r.proto.Store(c.proto.Load())
	return r
}

// wake hands a served waiter its reply and lets its client go on.
func (c *Client) wake(w *waiter, reply []byte) {
	if w.ch != nil {
		w.ch <- reply
		return
	}
	c.pushMu.Lock()
	c.pushed = append(c.pushed, reply...)
	c.pushPending = true
	c.pushMu.Unlock()
	c.blocked.Store(false)
	c.lp.schedule(c)
}
