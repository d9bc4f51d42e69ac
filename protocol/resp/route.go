package resp

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cached/cached/node"
	"github.com/cached/cached/node/peer"
	"github.com/cached/cached/ring"
)

// Routing in a cluster. A client's keyed command runs here when this node
// is the primary of the key's slot, and is forwarded to the primary
// otherwise; the reply comes back byte for byte, in the client's protocol.
// MGET, MSET, DEL, UNLINK, EXISTS and TOUCH are split by owner and merged;
// other commands whose keys span slots get CROSSSLOT, as in Redis Cluster.
// A command that arrives on the peer listener runs here if this node is its
// slot's primary (or it follows CACHED.ASKING), and is answered with MOVED
// otherwise, so a sender with an older view tries the new owner.

const (
	msgCrossSlot    = "CROSSSLOT Keys in request don't hash to the same slot"
	msgClusterDown  = "CLUSTERDOWN The cluster is not ready: waiting for min-members"
	msgTryAgain     = "TRYAGAIN Slot owner unreachable or moving; try again"
	msgWatchRemote  = "ERR WATCH of a key owned by another node: send WATCH, MULTI and EXEC to the key's owner (CLUSTER SLOTS)"
	maxForwardHops  = 8
	forwardDeadline = 10 * time.Second
)

// splittable reports whether cmd may take keys of several slots, split by
// owner and merged.
func splittable(cmd *command) bool {
	switch cmd.name {
	case "mget", "mset", "del", "unlink", "exists", "touch":
		return true
	}
	return false
}

// keySlot returns the slot of cmd's keys in args: ok is false when cmd has
// no key, cross when its keys span slots. It does not allocate.
func keySlot(cmd *command, args [][]byte) (slot int, ok, cross bool) {
	if cmd.movableKeys != nil {
		pos := cmd.movableKeys(args)
		if len(pos) == 0 {
			return 0, false, false
		}
		slot = ring.Slot(args[pos[0]])
		for _, p := range pos[1:] {
			if ring.Slot(args[p]) != slot {
				return slot, true, true
			}
		}
		return slot, true, false
	}
	if cmd.firstKey == 0 || cmd.firstKey >= len(args) {
		return 0, false, false
	}
	last := cmd.lastKey
	if last < 0 {
		last += len(args)
	}
	slot = ring.Slot(args[cmd.firstKey])
	for i := cmd.firstKey + max(cmd.step, 1); i <= last && i < len(args); i += max(cmd.step, 1) {
		if ring.Slot(args[i]) != slot {
			return slot, true, true
		}
	}
	return slot, true, false
}

// route decides where a keyed command runs. It reports true when it has
// answered or forwarded the command, false when the command runs here.
func (c *Client) route(cmd *command, args [][]byte) bool {
	v := c.srv.node.View()
	if v == nil || c.execing {
		return false
	}
	if c.peer {
		return c.routePeer(v, cmd, args)
	}
	slot, ok, cross := keySlot(cmd, args)
	if !ok {
		return false
	}
	if cross {
		if splittable(cmd) {
			c.split(v, cmd, args)
		} else {
			c.refuse(msgCrossSlot)
		}
		return true
	}
	if cmd.flags&flagWrite != 0 && !c.srv.node.Ready() {
		c.refuse(msgClusterDown)
		return true
	}
	if v.IsPrimary(slot) || (c.readonly && cmd.flags&flagReadonly != 0 && v.IsOwner(slot)) {
		return c.importMissing(cmd, args, slot)
	}
	if cmd.name == "watch" {
		c.refuse(msgWatchRemote)
		return true
	}
	if blocks(cmd) {
		c.forwardBlocking(v.Primary(slot).Peer, args)
		return true
	}
	if c.track.on {
		c.afterCommand(cmd, args, v.Primary(slot).Peer)
	}
	fwd := args
	if c.track.noloop && cmd.flags&flagWrite != 0 {
		fwd = c.noLoopArgs(v, args)
	}
	if c.forward(cmd, v, slot, fwd) {
		return true
	}
	return c.importMissing(cmd, args, slot)
}

// routePeer checks that a command forwarded by another node belongs here.
func (c *Client) routePeer(v *node.View, cmd *command, args [][]byte) bool {
	if c.asking {
		// A leaving node sends what it no longer serves to the owner in
		// its newer view; ours may not have caught up, so keep the slot.
		c.asking = false
		if slot, ok, _ := keySlot(cmd, args); ok && !v.IsOwner(slot) {
			c.srv.node.HoldSlot(slot)
		}
		return false
	}
	slot, ok, _ := keySlot(cmd, args)
	if !ok {
		return false
	}
	if len(v.Members()) == 1 {
		// A peer sends here, so this node's view of itself alone is out of
		// date (it is still taking in who it joined): let the sender retry.
		c.errorReply(msgTryAgain)
		return true
	}
	switch {
	case v.IsPrimary(slot):
		return c.importMissing(cmd, args, slot)
	case v.Leaving:
		// This node has handed its slots off and announced its leave; a
		// sender that has not taken that in yet still sends here.
		return c.forward(cmd, v, slot, args)
	}
	c.errorReply("MOVED " + strconv.Itoa(slot) + " " + v.Primary(slot).RESP)
	return true
}

// forward sends args to the primary at addr and answers the client with
// its reply when it comes. The command is sent again, to the slot's primary
// in the then current view, after a MOVED reply (the peer's view is newer
// or older than ours) or when the peer could not be reached (the command
// was not sent), a few times over about two seconds: long enough for
// gossip to settle a leave.
//
// It reports false when, by the time a retry is due, the slot has become
// this node's: the command then runs here.
func (c *Client) forward(cmd *command, v *node.View, slot int, args [][]byte) bool {
	addr := v.Primary(slot).Peer
	f := &forwarding{c: c, slot: slot, asking: v.Leaving, proto: int(c.proto.Load()), hint: uint64(c.id)}
	c.srv.forwarded.Add(1)
	f.hop = c.startHop(addr)
	if c.lp == nil {
		f.args = args
		c.execLock.RUnlock()
		defer c.execLock.RLock()
		for {
			reply, err := f.call(addr)
			next, again := f.next(reply, err)
			if !again || next == "" {
				f.hop.end(f.hops, reply, err)
			}
			switch {
			case again && next == "":
				return false
			case !again:
				c.out = append(c.out, c.forwardReply(reply, err)...)
				return true
			}
			time.Sleep(f.backoff())
			addr = next
		}
	}
	f.args = cloneArgs(args)
	if !f.asking {
		f.place = c.startForward(cmd, slot, v.Epoch)
	}
	if f.place == nil {
		c.suspend()
	}
	f.send(addr)
	return true
}

// blocks reports whether cmd may wait for data (BLPOP and the like): it is
// forwarded on a connection of its own, not on a shared pipeline that it
// would stall.
func blocks(cmd *command) bool {
	switch cmd.name {
	case "blpop", "brpop", "blmove", "brpoplpush", "bzpopmin", "bzpopmax":
		return true
	}
	return false
}

// forwardBlocking runs a blocking command on the owner at addr over a
// dedicated connection, for as long as the command's own timeout; the
// client disconnecting cancels it.
func (c *Client) forwardBlocking(addr string, args [][]byte) {
	own := cloneArgs(args)
	proto := int(c.proto.Load())
	ctx, cancel := context.WithCancel(context.Background())
	c.remoteMu.Lock()
	c.remoteCancel = cancel
	c.remoteMu.Unlock()
	c.srv.forwarded.Add(1)
	run := func() []byte {
		defer cancel()
		conn, err := c.srv.node.Peers().Dedicated(ctx, addr, proto)
		if err != nil {
			return c.forwardReply(nil, err)
		}
		defer conn.Close()
		reply, err := conn.Call(ctx, own)
		return c.forwardReply(reply, err)
	}
	if c.lp != nil {
		c.suspend()
		go func() { c.answer(run()) }()
		return
	}
	// A goroutine client watches its connection meanwhile, as park does.
	done := make(chan []byte, 1)
	go func() { done <- run() }()
	c.execLock.RUnlock()
	defer c.execLock.RLock()
	t := time.NewTicker(parkCheck)
	defer t.Stop()
	for {
		select {
		case reply := <-done:
			c.out = append(c.out, reply...)
			return
		case <-t.C:
		}
		if c.srv.closed.Load() || c.killed.Load() || !c.alive() {
			cancel()
			<-done
			c.closing = true
			return
		}
	}
}

// cancelRemote stops a blocking command c waits for on another node.
func (c *Client) cancelRemote() {
	c.remoteMu.Lock()
	if c.remoteCancel != nil {
		c.remoteCancel()
		c.remoteCancel = nil
	}
	c.remoteMu.Unlock()
}

// forwarding is one forwarded command on its way.
type forwarding struct {
	c      *Client
	slot   int
	args   [][]byte
	asking bool // precede the command with CACHED.ASKING (a leaving node)
	proto  int
	hint   uint64
	hops   int
	// place is where the reply goes when the forward overlaps others
	// (see overlap.go); nil when the client waits for it.
	place *queued
	hop   *hopSpan // the trace span of the forward; nil when not traced
}

// call sends the command and waits for its reply.
func (f *forwarding) call(addr string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), forwardDeadline)
	defer cancel()
	pool := f.c.srv.node.Peers()
	if !f.asking {
		return pool.Call(ctx, addr, f.proto, f.hint, f.args)
	}
	replies, err := pool.Batch(ctx, addr, f.proto, f.hint, [][][]byte{{[]byte(node.CmdAsking)}, f.args})
	if err != nil {
		return nil, err
	}
	return replies[1], nil
}

// send sends the command for an event-loop client and answers it when the
// reply comes.
func (f *forwarding) send(addr string) {
	done := func(reply []byte, err error) {
		next, again := f.next(reply, err)
		if !again || next == "" && f.place == nil { // (an overlapping forward goes on to this node)
			f.hop.end(f.hops, reply, err)
		}
		switch {
		case again && next == "" && f.place != nil:
			// The slot is this node's now. The client's pipeline has gone
			// on, so the command runs in its place through this node's
			// own peer listener.
			if v := f.c.srv.node.View(); v != nil {
				f.send(v.Self.Peer)
				return
			}
			f.c.finishForward(f.place, f.slot, f.c.forwardReply(nil, peer.ErrDial))
		case again && next == "":
			f.c.rerun(f.args, false)
		case again:
			time.AfterFunc(f.backoff(), func() { f.send(next) })
		case f.place != nil:
			f.c.finishForward(f.place, f.slot, f.c.forwardReply(reply, err))
		default:
			f.c.answer(f.c.forwardReply(reply, err))
		}
	}
	if f.asking {
		go func() { done(f.call(addr)) }()
		return
	}
	f.c.srv.node.Peers().Go(addr, f.proto, f.hint, f.args, done)
}

// backoff is the wait before the next attempt.
func (f *forwarding) backoff() time.Duration { return time.Duration(f.hops) * 50 * time.Millisecond }

// next reports whether to send the command again, and where: after a MOVED,
// or when it was not sent (the peer unreachable or overloaded). An empty
// address means the slot is now this node's: run the command here.
func (f *forwarding) next(reply []byte, err error) (string, bool) {
	if f.hops >= maxForwardHops {
		return "", false
	}
	switch {
	case err != nil && (errors.Is(err, peer.ErrDial) || errors.Is(err, peer.ErrOverloaded)):
	case err == nil && (bytes.HasPrefix(reply, []byte("-MOVED ")) || bytes.HasPrefix(reply, []byte("-TRYAGAIN "))):
	default:
		return "", false
	}
	v := f.c.srv.node.View()
	if v == nil {
		return "", false
	}
	f.hops++
	f.asking = v.Leaving
	if err == nil {
		// Follow the MOVED: the peer's view may be newer than ours.
		if fields := bytes.Fields(reply[1:]); len(fields) == 3 {
			if m, ok := v.MemberByRESP(string(fields[2])); ok && m.Name != v.Self.Name {
				return m.Peer, true
			}
		}
	}
	m := v.Primary(f.slot)
	if m.Name == v.Self.Name && !v.Leaving {
		return "", true
	}
	return m.Peer, true
}

// forwardReply turns a peer's reply or error into the client's reply.
func (c *Client) forwardReply(reply []byte, err error) []byte {
	if err != nil {
		c.srv.forwardErrors.Add(1)
		c.srv.logger.Debug("forward failed", "err", err)
		return []byte("-" + msgTryAgain + "\r\n")
	}
	if bytes.HasPrefix(reply, []byte("-MOVED ")) {
		return []byte("-" + msgTryAgain + "\r\n")
	}
	return reply
}

// suspend parks an event-loop client's command until answer: the loop
// runs nothing more of its pipeline until then.
func (c *Client) suspend() {
	c.suspended = true
	c.blocked.Store(true)
}

// holdOutput keeps c's buffered replies, which include writes, from the
// client until the node's replicas have those writes (replica-ack) and the
// log has them on disk (appendfsync always). The whole batch waits
// together, so a pipeline of writes costs one wait (one fsync shared with
// every other client's writes), as Redis flushes replies only after its
// fsync. If a write did not make it, the client gets an error instead of
// the batch's replies and is disconnected: what it sent is not
// acknowledged. It reports true when it parked an event-loop client.
func (c *Client) holdOutput() bool {
	failed := func(err error) string {
		if errors.Is(err, node.ErrNoReplicas) {
			return "NOREPLICAS Not enough good replicas to write."
		}
		return "MISCONF Errors writing to the append only file: " + err.Error()
	}
	if c.lp == nil {
		ch := make(chan error, 1)
		if c.srv.node.AwaitWrites(func(err error) { ch <- err }) {
			return false
		}
		c.execLock.RUnlock()
		err := <-ch
		c.execLock.RLock()
		if err != nil {
			c.out = c.out[:0]
			c.errorReply(failed(err))
			c.closing = true
		}
		return false
	}
	held := c.out
	c.out = nil
	c.suspend()
	immediate := c.srv.node.AwaitWrites(func(err error) {
		if err != nil {
			c.srv.logger.Warn("client closed: its writes were not acknowledged", "client", c.addr, "err", err)
			c.kill()
			return
		}
		c.answer(held)
	})
	if immediate {
		c.suspended = false
		c.blocked.Store(false)
		c.out = held
		return false
	}
	return true
}

// answer hands an event-loop client the reply of its parked command and
// lets it go on with its pipeline.
func (c *Client) answer(reply []byte) {
	c.pushMu.Lock()
	c.pushed = append(c.pushed, reply...)
	c.pushPending = true
	c.pushMu.Unlock()
	c.blocked.Store(false)
	c.lp.schedule(c)
}

// cloneArgs copies args out of the reader's buffer, which the next command
// reuses, for a command that is answered later.
func cloneArgs(args [][]byte) [][]byte {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(args))
	for i, a := range args {
		buf = append(buf, a...)
		out[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	return out
}

// importMissing runs the command here, first fetching from a previous owner
// the keys of a slot still arriving that this node does not have yet. It
// reports true when it parked the command for a fetch.
func (c *Client) importMissing(cmd *command, args [][]byte, slot int) bool {
	if c.fetched {
		return false
	}
	from, ok := c.srv.node.ImportSource(slot)
	if !ok {
		return false
	}
	var missing [][]byte
	for _, p := range commandKeys(cmd, args) {
		if !c.srv.node.Exists(args[p]) {
			missing = append(missing, args[p])
		}
	}
	if len(missing) == 0 {
		return false
	}
	fetch := func() {
		ctx, cancel := context.WithTimeout(context.Background(), forwardDeadline)
		defer cancel()
		c.fetchKeys(ctx, from, slot, missing)
	}
	if c.lp == nil {
		c.execLock.RUnlock()
		fetch()
		c.execLock.RLock()
		return false
	}
	own := cloneArgs(args)
	missing = cloneArgs(missing)
	c.suspend()
	go func() {
		fetch()
		c.rerun(own, true)
	}()
	return true
}

// rerun makes a parked event-loop client run args again (see runBuffered);
// fetched says its keys have been fetched already.
func (c *Client) rerun(args [][]byte, fetched bool) {
	c.pushMu.Lock()
	c.replay = args
	c.replayFetched = fetched
	c.pushPending = true
	c.pushMu.Unlock()
	c.blocked.Store(false)
	c.lp.schedule(c)
}

// fetchKeys copies keys from every previous owner of their slot, newest
// version winning. When none of them holds a key of the slot any more, the
// slot is no longer arriving.
func (c *Client) fetchKeys(ctx context.Context, from []node.Member, slot int, keys [][]byte) {
	pool := c.srv.node.Peers()
	cmds := make([][][]byte, len(keys))
	for i, k := range keys {
		cmds[i] = [][]byte{[]byte(node.CmdDump), k}
	}
	var wg sync.WaitGroup
	var holders atomic.Int32
	for _, m := range from {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies, err := pool.Batch(ctx, m.Peer, 2, 0, cmds)
			if err != nil {
				holders.Add(1) // unknown: assume it may hold some
				return
			}
			for _, r := range replies {
				elems, err := peer.ParseArray(r)
				if err != nil || len(elems) != 2 {
					holders.Add(1)
					continue
				}
				if rec, ok := bulkPayload(elems[0]); ok {
					if _, _, err := c.srv.node.Apply(rec); err != nil {
						c.srv.logger.Warn("fetched record rejected", "slot", slot, "peer", m.Name, "err", err)
					}
				}
				if n, err := peer.ParseInt(elems[1]); err != nil || n > 0 {
					holders.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if holders.Load() == 0 {
		c.srv.node.SlotReceived(slot, "")
	}
}

// bulkPayload returns the payload of a bulk string reply.
func bulkPayload(reply []byte) ([]byte, bool) {
	if len(reply) < 4 || reply[0] != '$' {
		return nil, false
	}
	i := bytes.IndexByte(reply, '\n')
	if i < 0 {
		return nil, false
	}
	n, err := strconv.Atoi(string(reply[1 : i-1]))
	if err != nil || n < 0 || i+1+n > len(reply) {
		return nil, false
	}
	return reply[i+1 : i+1+n], true
}

// commandKeys returns the positions of cmd's keys in args.
func commandKeys(cmd *command, args [][]byte) []int {
	if cmd.movableKeys != nil {
		return cmd.movableKeys(args)
	}
	return cmd.keys(args)
}

// split runs a multi-key command whose keys span slots: one sub-command per
// owner, run here or forwarded, and one merged reply in the keys' order.
func (c *Client) split(v *node.View, cmd *command, args [][]byte) {
	stride := 1
	if cmd.name == "mset" {
		stride = 2
		if (len(args)-1)%2 != 0 {
			c.refuse(arityMessage(cmd.name))
			return
		}
	}
	type part struct {
		addr  string // "" for this node
		args  [][]byte
		index []int // positions of its keys in the merged reply
	}
	parts := map[string]*part{}
	var order []*part
	for i, k := 1, 0; i < len(args); i, k = i+stride, k+1 {
		slot := ring.Slot(args[i])
		addr := ""
		if !v.IsPrimary(slot) || c.srv.loadsInSplit(cmd, args[i]) {
			addr = v.Primary(slot).Peer
		}
		p := parts[addr]
		if p == nil {
			p = &part{addr: addr, args: [][]byte{args[0]}}
			parts[addr] = p
			order = append(order, p)
		}
		p.args = append(p.args, args[i:i+stride]...)
		p.index = append(p.index, k)
	}
	nkeys := (len(args) - 1) / stride
	replies := make([][]byte, len(order))
	errs := make([]error, len(order))
	merge := func() []byte {
		return mergeSplit(cmd.name, nkeys, int(c.proto.Load()), func(i int) ([]byte, []int, error) {
			return replies[i], order[i].index, errs[i]
		}, len(order))
	}
	// This node's part runs now, under the client's exec lock.
	var remote []int
	tracking := c.track.on
	if tracking {
		c.execing = true // CLIENT CACHING covers every part (see trackingDone)
	}
	for i, p := range order {
		if p.addr == "" {
			r := c.scratchClient()
			cmd.handler(r, p.args)
			replies[i] = r.out
			c.trackPart(cmd, p.args, "")
		} else {
			remote = append(remote, i)
			c.trackPart(cmd, p.args, p.addr)
			if c.track.noloop && cmd.flags&flagWrite != 0 {
				p.args = c.noLoopArgs(v, p.args)
			}
			p.args = cloneArgs(p.args)
		}
	}
	if tracking {
		c.trackingDone()
	}
	pool := c.srv.node.Peers()
	proto := int(c.proto.Load())
	c.srv.forwarded.Add(int64(len(remote)))
	if c.lp == nil {
		c.execLock.RUnlock()
		ctx, cancel := context.WithTimeout(context.Background(), forwardDeadline)
		for _, i := range remote {
			replies[i], errs[i] = pool.Call(ctx, order[i].addr, proto, uint64(c.id), order[i].args)
		}
		cancel()
		c.execLock.RLock()
		c.out = append(c.out, merge()...)
		return
	}
	if len(remote) == 0 {
		c.out = append(c.out, merge()...)
		return
	}
	c.suspend()
	var left atomic.Int32
	left.Store(int32(len(remote)))
	for _, i := range remote {
		pool.Go(order[i].addr, proto, uint64(c.id), order[i].args, func(reply []byte, err error) {
			replies[i], errs[i] = reply, err
			if left.Add(-1) == 0 {
				c.answer(merge())
			}
		})
	}
}

// mergeSplit builds the reply of a split command from its parts' replies:
// MGET's values in key order, MSET's OK, or the sum of the counts.
func mergeSplit(name string, nkeys, proto int, part func(i int) ([]byte, []int, error), parts int) []byte {
	r := &Client{}
	r.proto.Store(int32(proto))
	values := make([][]byte, nkeys)
	var sum int64
	for i := range parts {
		reply, index, err := part(i)
		if err != nil {
			r.errorReply(msgTryAgain)
			return r.out
		}
		if msg, isErr := peer.ReplyError(reply); isErr {
			r.errorReply(msg)
			return r.out
		}
		switch name {
		case "mget":
			elems, err := peer.ParseArray(reply)
			if err != nil || len(elems) != len(index) {
				r.errorReply(msgTryAgain)
				return r.out
			}
			for j, k := range index {
				values[k] = elems[j]
			}
		case "mset":
		default:
			n, err := peer.ParseInt(reply)
			if err != nil {
				r.errorReply(msgTryAgain)
				return r.out
			}
			sum += n
		}
	}
	switch name {
	case "mget":
		r.array(nkeys)
		for _, v := range values {
			r.out = append(r.out, v...)
		}
	case "mset":
		r.ok()
	default:
		r.integer(sum)
	}
	return r.out
}

// async answers the command with what fn returns, computed off the
// client's loop (fn may wait on the network). A goroutine client waits for
// it, letting EXECs run meanwhile.
func (c *Client) async(fn func() []byte) {
	if c.lp == nil {
		c.execLock.RUnlock()
		reply := fn()
		c.execLock.RLock()
		c.out = append(c.out, reply...)
		return
	}
	c.suspend()
	go func() { c.answer(fn()) }()
}
