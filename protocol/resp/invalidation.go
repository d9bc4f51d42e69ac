package resp

import (
	"sync"

	"github.com/cached/cached/node"
	"github.com/cached/cached/ring"
)

// invalidations carries what reaches tracking clients from outside the
// command path: keys the store expired or evicted (its drop hook runs
// under a shard lock, so it only queues them) and changes to what this
// node must register with the other members (a view change, a gRPC
// Watch). One goroutine, started by Start and stopped by Close, works
// them off.
type invalidations struct {
	mu      sync.Mutex
	dropped []string      // keys expired or evicted, not yet announced
	wake    chan struct{} // dropped has keys
	reg     chan struct{} // registrations must be sent again
	stop    chan struct{}
}

func (q *invalidations) init() {
	q.wake = make(chan struct{}, 1)
	q.reg = make(chan struct{}, 1)
	q.stop = make(chan struct{})
}

// signal wakes ch's reader without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// hookInvalidations connects the node's hooks to the server (in New).
func (s *Server) hookInvalidations() {
	s.inval.init()
	s.node.SetChangeListener(s.announceChanged)
	s.node.OnRegistrationChange(func() { signal(s.inval.reg) })
}

// startInvalidations starts the invalidation goroutine and the store's
// drop hook (in Start).
func (s *Server) startInvalidations() {
	s.node.SetDropHook(s.keyDropped)
	s.wg.Add(1)
	go s.invalidationLoop()
}

// stopInvalidations stops what startInvalidations started (in Close).
func (s *Server) stopInvalidations() {
	s.node.SetDropHook(nil)
	close(s.inval.stop)
}

// keyDropped is the store's drop hook: a key expired or was evicted. It
// costs two atomic loads when nobody tracks keys or watches them.
func (s *Server) keyDropped(key string) {
	if !s.tracking.active.Load() && !s.node.Watching() {
		return
	}
	q := &s.inval
	q.mu.Lock()
	q.dropped = append(q.dropped, key)
	q.mu.Unlock()
	signal(q.wake)
}

func (s *Server) invalidationLoop() {
	defer s.wg.Done()
	q := &s.inval
	seen := s.node.View()
	for {
		select {
		case <-q.stop:
			return
		case <-q.reg:
			v := s.node.View()
			s.primaryMoved(seen, v)
			seen = v
			s.registerBcast(true)
		case <-q.wake:
			q.mu.Lock()
			keys := q.dropped
			q.dropped = nil
			q.mu.Unlock()
			b := make([][]byte, len(keys))
			for i, k := range keys {
				b[i] = []byte(k)
			}
			s.announceChanged(b)
		}
	}
}

// announceChanged invalidates keys changed outside the command path:
// dropped by the store, deleted by the invalidation API, written over
// gRPC. The primary of a key's slot tells everyone, as for a write; a
// replica, whose primary does the same on its own, only its clients that
// read the key here.
func (s *Server) announceChanged(keys [][]byte) {
	v := s.node.View()
	var primary, replica [][]byte
	for _, k := range keys {
		if v == nil || v.IsPrimary(ring.Slot(k)) {
			primary = append(primary, k)
		} else {
			replica = append(replica, k)
		}
	}
	if len(primary) > 0 {
		s.invalidate(primary, nil, everyone)
	}
	if len(replica) > 0 {
		s.invalidate(replica, nil, localReaders)
	}
}

// trackPart does for one part of a split command (see split) what execute
// does after a command: invalidate the keys it wrote here, record the keys
// a tracking client read (here, or at the owner at addr).
func (c *Client) trackPart(cmd *command, args [][]byte, addr string) {
	if addr == "" && cmd.flags&flagWrite != 0 && c.srv.tracking.active.Load() {
		c.invalidateWritten(cmd, args)
	}
	if c.track.on {
		c.afterCommand(cmd, args, addr)
	}
}

// trackingDone ends the parts of a split command: the CLIENT CACHING
// setting they shared is used up, as after any other command.
func (c *Client) trackingDone() {
	c.execing = false
	if st := &c.track; st.nextUse && !c.tx.active {
		st.nextUse, st.caching = false, 0
	}
}

// primaryMoved invalidates the tracked keys of the slots this node was the
// primary of in old and is not in v. Their readers registered here, with
// the primary of the time; writes now go to another primary, which does
// not know them (as Redis Cluster's MIGRATE deletes the keys it moves).
func (s *Server) primaryMoved(old, v *node.View) {
	if old == nil || v == nil || !s.tracking.active.Load() {
		return
	}
	moved := func(k string) bool {
		slot := ring.Slot([]byte(k))
		return old.IsPrimary(slot) && !v.IsPrimary(slot)
	}
	t := &s.tracking
	var keys [][]byte
	t.mu.Lock()
	for k := range t.keys {
		if moved(k) {
			keys = append(keys, []byte(k))
		}
	}
	for k := range t.remote {
		if _, local := t.keys[k]; !local && moved(k) {
			keys = append(keys, []byte(k))
		}
	}
	t.mu.Unlock()
	if len(keys) > 0 {
		s.invalidate(keys, nil, everyone)
	}
}
