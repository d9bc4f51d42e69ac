package resp

import (
	"errors"
	"time"
	"unsafe"

	"github.com/cached/cached/node/origin"
	"github.com/cached/cached/node/store"
	"github.com/cached/cached/ring"
)

// Origins (see package node/origin). With Config.Origins set, commands on
// keys that match a rule reach the rule's origin on the key's owner, after
// routing has brought them there:
//
//   - GET, GETEX and MGET of a missing key load it (one load per key: the
//     owner's single flight) and store it through the normal write path,
//     so that it replicates, persists and invalidates tracking clients;
//     the command then runs again and finds it. A key the origin does not
//     have is negative-cached for the rule's negative-ttl.
//   - With serve-stale, a key within its rule's stale-ttl of expiring is
//     past its fresh life (loads store it for ttl+stale-ttl): it is served
//     while one background load refreshes it.
//   - SET (with EX/PX/EXAT/PXAT/KEEPTTL/GET), SETEX, PSETEX, DEL, UNLINK and
//     GETDEL of a write-through key go to the origin first, and run only if
//     the origin accepted; write-behind ones go to the durable queue first.
//     Other writes to such keys are refused, as are such writes inside
//     MULTI and DEL/UNLINK spanning slots in a cluster: each would change
//     the cache without the origin.
//
// A command waiting for an origin parks its client (event loops go on with
// other clients); a client on its own goroutine waits. Peers are such
// clients, so a load on the owner holds the forwarding node's pipelined
// link (one of its peer connections) for up to the rule's timeout. Inside
// EXEC nothing is loaded: a missing key reads as missing. The gRPC front
// end does not go through origins.

// originPrecheck refuses writes that would bypass the origin of a
// write-through or write-behind key. It runs before routing, for every
// command, when origins are configured; it reports true when it refused.
func (c *Client) originPrecheck(cmd *command, args [][]byte) bool {
	if cmd.flags&flagWrite == 0 {
		return false
	}
	e := c.srv.origins
	var written []int
	for _, p := range commandKeys(cmd, args) {
		if r := e.Match(args[p]); r != nil && r.Mode != origin.ReadThrough {
			written = append(written, p)
		}
	}
	if len(written) == 0 {
		return false
	}
	switch {
	case c.tx.active:
		c.refuse("ERR origin: " + cmd.name + " of a key of a write-through or write-behind rule is not allowed inside MULTI")
		return true
	case !originWrites(cmd):
		c.refuse("ERR origin: " + cmd.name + " is not supported on keys of a write-through or write-behind rule; use SET or DEL")
		return true
	case (cmd.name == "del" || cmd.name == "unlink") && c.srv.clustered:
		if _, _, cross := keySlot(cmd, args); cross {
			c.refuse(msgCrossSlot + " (keys of write-through and write-behind rules are deleted one slot at a time)")
			return true
		}
	}
	if cmd.name == "set" {
		for _, a := range args[3:] {
			if is(a, "nx") || is(a, "xx") {
				c.refuse("ERR origin: SET NX/XX is not supported on keys of a write-through or write-behind rule")
				return true
			}
		}
	}
	return false
}

// originWrites reports whether cmd is a write that reaches origins; other
// writes are refused on write-through and write-behind keys, except those
// that only change a key's expiry in the cache.
func originWrites(cmd *command) bool {
	switch cmd.name {
	case "set", "setex", "psetex", "del", "unlink", "getdel",
		"expire", "pexpire", "expireat", "pexpireat", "persist", "getex", "touch":
		return true
	}
	return false
}

// viaOrigin runs the origin side of cmd, here on the keys' owner. It
// reports true when it answered or parked the command; false lets it run.
func (c *Client) viaOrigin(cmd *command, args [][]byte) bool {
	if p := c.originPass.Load(); p != nil && p == unsafe.SliceData(args[0]) {
		c.originPass.Store(nil) // the command's origin part is done
		return false
	}
	if c.execing {
		return false
	}
	switch cmd.name {
	case "get", "getex":
		return c.readThrough(cmd, args, args[1:2])
	case "mget":
		return c.readThrough(cmd, args, args[1:])
	case "set":
		return c.writeThrough(args, args[1:2], args[2], false)
	case "setex", "psetex":
		return c.writeThrough(args, args[1:2], args[3], false)
	case "del", "unlink":
		return c.writeThrough(args, args[1:], nil, true)
	case "getdel":
		return c.writeThrough(args, args[1:2], nil, true)
	}
	return false
}

// readThrough loads the keys of a read that are missing and match a rule,
// then runs the read again.
func (c *Client) readThrough(cmd *command, args, keys [][]byte) bool {
	e := c.srv.origins
	type load struct {
		rule *origin.Rule
		key  string
	}
	var loads []load
	for _, k := range keys {
		r := e.Match(k)
		if r == nil {
			continue
		}
		if e.ServeStale() {
			if at, now, ok := c.srv.node.Deadline(k); ok && at > 0 && e.IsStale(r, time.Duration(at-now)*time.Millisecond) {
				e.Refresh(r, string(k), c.srv.originCache())
				continue
			}
		}
		if c.srv.node.Exists(k) || e.Absent(k) {
			continue
		}
		loads = append(loads, load{r, string(k)})
	}
	if len(loads) == 0 {
		return false
	}
	return c.waitOrigin(args, func() error {
		cache := c.srv.originCache()
		for _, l := range loads {
			if _, err := e.Load(l.rule, l.key, cache); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeThrough writes val (or, with del, the deletion of keys) to the
// origins of the keys that match write rules, then runs the write. On a
// delete that fails part way, the keys the origin did delete leave the
// cache too.
func (c *Client) writeThrough(args, keys [][]byte, val []byte, del bool) bool {
	e := c.srv.origins
	type write struct {
		rule *origin.Rule
		key  string
	}
	var writes []write
	for _, k := range keys {
		if r := e.Match(k); r != nil && r.Mode != origin.ReadThrough {
			writes = append(writes, write{r, string(k)})
		}
	}
	if len(writes) == 0 {
		return false
	}
	if !del {
		val = append([]byte{}, val...)
	}
	return c.waitOrigin(args, func() error {
		for i, w := range writes {
			if err := e.Write(w.rule, w.key, val, del); err != nil {
				if del {
					for _, done := range writes[:i] {
						c.srv.originDelete(done.key)
					}
				}
				return err
			}
		}
		return nil
	})
}

// waitOrigin runs fn off the client's loop, then runs the command again,
// or answers it with fn's error. It reports true when it parked the
// client (or answered it).
func (c *Client) waitOrigin(args [][]byte, fn func() error) bool {
	if c.lp == nil {
		c.execLock.RUnlock()
		err := fn()
		c.execLock.RLock()
		if err != nil {
			c.errorReply(originMessage(err))
			return true
		}
		return false
	}
	own := cloneArgs(args)
	c.suspend()
	go func() {
		if err := fn(); err != nil {
			r := c.scratchClient()
			r.errorReply(originMessage(err))
			c.answer(r.out)
			return
		}
		c.originPass.Store(unsafe.SliceData(own[0]))
		c.rerun(own, false)
	}()
	return true
}

// originMessage is the error reply for an origin's failure.
func originMessage(err error) string {
	switch {
	case errors.Is(err, origin.ErrBreakerOpen):
		return "ERR origin unavailable: circuit breaker open"
	case errors.Is(err, origin.ErrQueueFull):
		return "ERR origin write-behind queue full"
	}
	return "ERR origin " + err.Error()
}

// loadsInSplit reports whether the part of a split MGET holding key must go
// through the peer listener even when this node owns key: a part that runs
// here directly would not load it.
func (s *Server) loadsInSplit(cmd *command, key []byte) bool {
	return s.origins != nil && cmd.name == "mget" && s.origins.Match(key) != nil
}

// originCache is the node's cache as origin loads see it.
func (s *Server) originCache() origin.Cache {
	return origin.Cache{
		Present: func(key string) bool { return s.node.Exists([]byte(key)) },
		Store:   s.originStore,
	}
}

// originStore stores a loaded value through the normal write path: the
// store (whose change tracking replicates and persists it) and tracking
// invalidation. It runs under the goroutine clients' exec lock, so that
// it does not land inside an EXEC.
func (s *Server) originStore(key string, val []byte, ttl time.Duration) {
	k := []byte(key)
	opt := store.SetOptions{}
	if ttl > 0 {
		opt.ExpireAt = s.node.Now() + max(ttl.Milliseconds(), 1)
	}
	lock := &s.execLocks[len(s.execLocks)-1]
	lock.RLock()
	_, _, _, err := s.node.Set(k, val, opt)
	lock.RUnlock()
	if err != nil {
		s.logger.Warn("origin value not stored", "err", err)
		return
	}
	s.invalidate([][]byte{k}, nil, everyone)
}

// originDelete deletes key through the normal write path.
func (s *Server) originDelete(key string) {
	k := []byte(key)
	lock := &s.execLocks[len(s.execLocks)-1]
	lock.RLock()
	s.node.Del(k)
	lock.RUnlock()
	s.invalidate([][]byte{k}, nil, everyone)
}

// originChanged deletes a key its origin reports changed (a NOTIFY), on
// the primary of its slot only: every node listens, and the primary's
// delete reaches the replicas and the tracking clients of every node.
func (s *Server) originChanged(key string) {
	if v := s.node.View(); v != nil && !v.IsPrimary(ring.Slot([]byte(key))) {
		return
	}
	s.originDelete(key)
}

// Origins returns the server's origin engine, nil without rules.
func (s *Server) Origins() *origin.Engine { return s.origins }
