package resp

import (
	"bytes"
	"context"
	"sync"

	"github.com/cached/cached/ring"
)

// Transactions: MULTI queues commands, EXEC runs them with no other client's
// command in between, WATCH makes EXEC fail when a watched key was touched.
//
// Every client runs its commands under a read lock of one of the server's
// exec locks (one per event loop, one for goroutine clients); EXEC takes all
// of them for writing. So a transaction is atomic with respect to every
// other client, as in Redis. The background expiry and eviction sweeps do
// not take the locks: a key may expire in the middle of a transaction.

func transactionCommands() []*command {
	const g = "transactions"
	f := flagFast | flagLoading | flagStale | flagNoScript
	return []*command{
		{name: "multi", arity: 1, flags: f, group: g, since: "1.2.0", summary: "Starts a transaction.", handler: cmdMulti},
		{name: "exec", arity: 1, flags: flagLoading | flagStale | flagNoScript, group: g, since: "1.2.0", summary: "Executes all commands in a transaction.", handler: cmdExec},
		{name: "discard", arity: 1, flags: f, group: g, since: "2.0.0", summary: "Discards a transaction.", handler: cmdDiscard},
		{name: "watch", arity: -2, flags: f, firstKey: 1, lastKey: -1, step: 1, group: g, since: "2.2.0", summary: "Monitors changes to keys to determine the execution of a transaction.", handler: cmdWatch},
		{name: "unwatch", arity: 1, flags: f, group: g, since: "2.2.0", summary: "Forgets about watched keys of a transaction.", handler: cmdUnwatch},
	}
}

// runsInMulti reports whether cmd runs at once inside MULTI instead of being
// queued.
func runsInMulti(cmd *command) bool {
	switch cmd.name {
	case "multi", "exec", "discard", "watch", "quit", "reset":
		return true
	}
	return false
}

// watched is a key recorded by WATCH.
type watched struct {
	key      []byte
	version  uint64
	deadline int64
}

// txState is a client's transaction state.
type txState struct {
	active  bool       // between MULTI and EXEC/DISCARD
	failed  bool       // a command was refused while queueing: EXEC aborts
	queue   [][][]byte // copies of the queued commands' arguments
	watches []watched
}

// queue stores a copy of args for EXEC and replies QUEUED.
func (c *Client) queue(args [][]byte) {
	cp := make([][]byte, len(args))
	for i, a := range args {
		cp[i] = bytes.Clone(a)
	}
	c.tx.queue = append(c.tx.queue, cp)
	c.simple("QUEUED")
}

// refuse writes an error for a command refused before running; inside
// MULTI it also dooms the transaction, as Redis does.
func (c *Client) refuse(msg string) {
	if c.tx.active {
		c.tx.failed = true
	}
	c.refused = true
	c.errorReply(msg)
}

func cmdMulti(c *Client, _ [][]byte) {
	if c.tx.active {
		c.errorReply("ERR MULTI calls can not be nested")
		return
	}
	c.tx.active = true
	c.ok()
}

func cmdDiscard(c *Client, _ [][]byte) {
	if !c.tx.active {
		c.errorReply("ERR DISCARD without MULTI")
		return
	}
	c.tx = txState{}
	c.ok()
}

func cmdWatch(c *Client, args [][]byte) {
	if c.tx.active {
		c.errorReply("ERR WATCH inside MULTI is not allowed")
		return
	}
	for _, k := range args[1:] {
		v, d := c.srv.node.Watch(k)
		c.tx.watches = append(c.tx.watches, watched{key: bytes.Clone(k), version: v, deadline: d})
	}
	c.ok()
}

func cmdUnwatch(c *Client, _ [][]byte) {
	c.tx.watches = nil
	c.ok()
}

func cmdExec(c *Client, _ [][]byte) {
	if !c.tx.active {
		c.errorReply("ERR EXEC without MULTI")
		return
	}
	tx := c.tx
	c.tx = txState{}
	if tx.failed {
		c.errorReply("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	if c.srv.clustered && !c.peer && c.execRemote(tx) {
		return
	}
	c.srv.exclusive(c, func() {
		for _, w := range tx.watches {
			if c.srv.node.Changed(w.key, w.version, w.deadline) {
				c.nullArray()
				return
			}
		}
		c.array(len(tx.queue))
		c.execing = true
		for _, args := range tx.queue {
			c.call(args)
		}
		c.execing = false
	})

}

// execRemote sends a transaction whose keys live on another node to that
// node, as MULTI, the queued commands and EXEC on one connection, and
// reports whether it did. A transaction must keep to one slot (CROSSSLOT
// otherwise, as in Redis Cluster).
func (c *Client) execRemote(tx txState) bool {
	v := c.srv.node.View()
	if v == nil {
		return false
	}
	slot := -1
	same := func(s int) bool {
		if slot >= 0 && s != slot {
			return false
		}
		slot = s
		return true
	}
	for _, args := range tx.queue {
		cmd := c.lookup(table, args[0])
		if cmd == nil {
			continue
		}
		if cmd.subs != nil && len(args) > 1 {
			if sc := c.lookup(cmd.subs, args[1]); sc != nil {
				cmd = sc
			}
		}
		s, ok, cross := keySlot(cmd, args)
		if ok && (cross || !same(s)) {
			c.errorReply(msgCrossSlot)
			return true
		}
	}
	for _, w := range tx.watches {
		if !same(ring.Slot(w.key)) {
			c.errorReply(msgCrossSlot)
			return true
		}
	}
	if slot < 0 || v.IsPrimary(slot) {
		return false
	}
	addr := v.Primary(slot).Peer
	if c.track.on {
		c.trackRemoteTx(tx.queue, addr)
	}
	cmds := make([][][]byte, 0, len(tx.queue)+2)
	cmds = append(cmds, [][]byte{[]byte("MULTI")})
	cmds = append(cmds, tx.queue...)
	cmds = append(cmds, [][]byte{[]byte("EXEC")})
	proto := int(c.proto.Load())
	c.srv.forwarded.Add(1)
	c.async(func() []byte {
		ctx, cancel := context.WithTimeout(context.Background(), forwardDeadline)
		defer cancel()
		replies, err := c.srv.node.Peers().Batch(ctx, addr, proto, uint64(c.id), cmds)
		if err != nil {
			return c.forwardReply(nil, err)
		}
		return c.forwardReply(replies[len(replies)-1], nil)
	})
	return true
}

// execLocks are the locks commands run under (see the package comment on
// transactions): one per event loop, and the last for goroutine clients.
type execLocks []sync.RWMutex

// exclusive runs fn while no other client runs a command. c must hold its
// exec lock for reading, as runBuffered does; it holds it again after.
func (s *Server) exclusive(c *Client, fn func()) {
	c.execLock.RUnlock()
	for i := range s.execLocks {
		s.execLocks[i].Lock()
	}
	fn()
	for i := range s.execLocks {
		s.execLocks[i].Unlock()
	}
	c.execLock.RLock()
}
