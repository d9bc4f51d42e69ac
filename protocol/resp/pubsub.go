package resp

import (
	"slices"
	"sync"
	"time"

	"github.com/cached/cached/node"
	"github.com/cached/cached/node/glob"
)

// Pub/sub. Channels and patterns map to their subscribers in one registry.
// PUBLISH encodes a message once per protocol version and hands it to each
// subscriber with deliver, from the publisher's goroutine: on an event loop
// the message waits in the subscriber's push buffer until its loop flushes
// it; a goroutine client's connection is written directly. A subscriber
// whose pending output passes the pub/sub output buffer limit is
// disconnected, so a subscriber that never reads costs bounded memory.

func pubsubCommands() []*command {
	const g = "pubsub"
	f := flagLoading | flagStale | flagNoScript
	return []*command{
		{name: "subscribe", arity: -2, flags: f, group: g, since: "2.0.0", summary: "Listens for messages published to channels.", handler: cmdSubscribe},
		{name: "unsubscribe", arity: -1, flags: f, group: g, since: "2.0.0", summary: "Stops listening to messages posted to channels.", handler: cmdUnsubscribe},
		{name: "psubscribe", arity: -2, flags: f, group: g, since: "2.0.0", summary: "Listens for messages published to channels that match one or more patterns.", handler: cmdSubscribe},
		{name: "punsubscribe", arity: -1, flags: f, group: g, since: "2.0.0", summary: "Stops listening to messages published to channels that match one or more patterns.", handler: cmdUnsubscribe},
		{name: "publish", arity: 3, flags: flagLoading | flagStale | flagFast, group: g, since: "2.0.0", summary: "Posts a message to a channel.", handler: cmdPublish},
		{name: "pubsub", arity: -2, flags: flagLoading | flagStale, group: g, since: "2.8.0", summary: "A container for Pub/Sub commands.", subs: sub(
			&command{name: "pubsub|channels", arity: -2, flags: flagLoading | flagStale, group: g, since: "2.8.0", summary: "Returns the active channels.", handler: cmdPubsubChannels},
			&command{name: "pubsub|numsub", arity: -2, flags: flagLoading | flagStale, group: g, since: "2.8.0", summary: "Returns a count of subscribers to channels.", handler: cmdPubsubNumsub},
			&command{name: "pubsub|numpat", arity: 2, flags: flagLoading | flagStale, group: g, since: "2.8.0", summary: "Returns a count of unique pattern subscriptions.", handler: cmdPubsubNumpat},
			&command{name: "pubsub|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "6.2.0", summary: "Returns helpful text about the different subcommands.", handler: func(c *Client, _ [][]byte) {
				c.helpReply("PUBSUB", "CHANNELS [<pattern>]", "NUMPAT", "NUMSUB [<channel> ...]")
			}},
		)},
	}
}

// pubsub is the subscription registry. mu guards both maps.
type pubsub struct {
	mu       sync.RWMutex
	channels map[string]map[*Client]struct{}
	patterns map[string]map[*Client]struct{}
}

func newPubsub() *pubsub {
	return &pubsub{channels: map[string]map[*Client]struct{}{}, patterns: map[string]map[*Client]struct{}{}}
}

// subscriptions is a client's side of the registry, owned by the client's
// goroutine or loop.
type subscriptions struct {
	channels map[string]struct{}
	patterns map[string]struct{}
}

func (s *subscriptions) count() int { return len(s.channels) + len(s.patterns) }

// add subscribes c to name (a pattern when pattern is set) and reports
// whether it was new.
func (ps *pubsub) add(c *Client, name string, pattern bool) bool {
	mine, all := &c.subs.channels, ps.channels
	if pattern {
		mine, all = &c.subs.patterns, ps.patterns
	}
	if _, ok := (*mine)[name]; ok {
		return false
	}
	if *mine == nil {
		*mine = map[string]struct{}{}
	}
	(*mine)[name] = struct{}{}
	ps.mu.Lock()
	if all[name] == nil {
		all[name] = map[*Client]struct{}{}
	}
	all[name][c] = struct{}{}
	ps.mu.Unlock()
	return true
}

// remove unsubscribes c from name and reports whether it was subscribed.
func (ps *pubsub) remove(c *Client, name string, pattern bool) bool {
	mine, all := c.subs.channels, ps.channels
	if pattern {
		mine, all = c.subs.patterns, ps.patterns
	}
	if _, ok := mine[name]; !ok {
		return false
	}
	delete(mine, name)
	ps.mu.Lock()
	delete(all[name], c)
	if len(all[name]) == 0 {
		delete(all, name)
	}
	ps.mu.Unlock()
	return true
}

// removeAll drops every subscription of c (on disconnect or RESET).
func (ps *pubsub) removeAll(c *Client) {
	for name := range c.subs.channels {
		ps.remove(c, name, false)
	}
	for name := range c.subs.patterns {
		ps.remove(c, name, true)
	}
	c.numSubs.Store(0)
}

// subscribedMode reports whether c may only run subscription commands:
// RESP2 clients with subscriptions, as Redis.
func (c *Client) subscribedMode() bool { return !c.resp3() && c.subs.count() > 0 }

// allowedSubscribed reports whether cmd may run in RESP2 subscribed mode.
func allowedSubscribed(cmd *command) bool {
	switch cmd.name {
	case "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ping", "quit", "reset":
		return true
	}
	return false
}

// pushHeader starts a push message of n elements: a RESP3 push, or an
// array in RESP2.
func (c *Client) pushHeader(n int) {
	if c.resp3() {
		c.out = appendPrefix(c.out, '>', n)
		return
	}
	c.array(n)
}

// cmdSubscribe serves SUBSCRIBE and PSUBSCRIBE.
func cmdSubscribe(c *Client, args [][]byte) {
	pattern := args[0][0]|0x20 == 'p'
	kind := "subscribe"
	if pattern {
		kind = "psubscribe"
	}
	for _, a := range args[1:] {
		c.srv.pubsub.add(c, string(a), pattern)
		c.numSubs.Store(int32(c.subs.count()))
		c.pushHeader(3)
		c.bulkString(kind)
		c.bulk(a)
		c.integer(int64(c.subs.count()))
	}
}

// cmdUnsubscribe serves UNSUBSCRIBE and PUNSUBSCRIBE; with no arguments it
// drops every subscription of that kind.
func cmdUnsubscribe(c *Client, args [][]byte) {
	pattern := args[0][0]|0x20 == 'p'
	kind, mine := "unsubscribe", c.subs.channels
	if pattern {
		kind, mine = "punsubscribe", c.subs.patterns
	}
	names := make([]string, 0, len(args)-1)
	for _, a := range args[1:] {
		names = append(names, string(a))
	}
	if len(names) == 0 {
		for name := range mine {
			names = append(names, name)
		}
		slices.Sort(names)
	}
	if len(names) == 0 {
		c.pushHeader(3)
		c.bulkString(kind)
		c.null()
		c.integer(int64(c.subs.count()))
		return
	}
	for _, name := range names {
		c.srv.pubsub.remove(c, name, pattern)
		c.numSubs.Store(int32(c.subs.count()))
		c.pushHeader(3)
		c.bulkString(kind)
		c.bulkString(name)
		c.integer(int64(c.subs.count()))
	}
}

// cmdPublish delivers to this node's subscribers and, in a cluster, sends
// the message on to every other node's; the count is this node's, as in
// Redis Cluster.
func cmdPublish(c *Client, args [][]byte) {
	c.srv.node.Broadcast([][]byte{[]byte(node.CmdPublish), args[1], args[2]})
	c.integer(int64(c.srv.publish(string(args[1]), args[2])))
}

// publish delivers payload to the subscribers of channel and of the
// patterns it matches, and returns how many received it.
func (s *Server) publish(channel string, payload []byte) int {
	var msg [2][]byte // encoded once per protocol: [0] RESP2, [1] RESP3
	encode := func(c *Client, pattern string) []byte {
		v := 0
		if c.resp3() {
			v = 1
		}
		if pattern != "" {
			return encodeMessage(v == 1, pattern, channel, payload) // per pattern: rare
		}
		if msg[v] == nil {
			msg[v] = encodeMessage(v == 1, "", channel, payload)
		}
		return msg[v]
	}
	n := 0
	s.pubsub.mu.RLock()
	for c := range s.pubsub.channels[channel] {
		c.deliver(encode(c, ""))
		n++
	}
	for pat, subs := range s.pubsub.patterns {
		if !glob.Match(pat, channel) {
			continue
		}
		for c := range subs {
			c.deliver(encode(c, pat))
			n++
		}
	}
	s.pubsub.mu.RUnlock()
	return n
}

// encodeMessage encodes a message (or a pmessage when pattern is set).
func encodeMessage(resp3 bool, pattern, channel string, payload []byte) []byte {
	n := 3
	if pattern != "" {
		n = 4
	}
	prefix := byte('*')
	if resp3 {
		prefix = '>'
	}
	b := appendPrefix(nil, prefix, n)
	if pattern != "" {
		b = appendBulkString(b, "pmessage")
		b = appendBulkString(b, pattern)
	} else {
		b = appendBulkString(b, "message")
	}
	b = appendBulkString(b, channel)
	b = appendPrefix(b, '$', len(payload))
	b = append(b, payload...)
	return append(b, "\r\n"...)
}

func appendBulkString(b []byte, s string) []byte {
	b = appendPrefix(b, '$', len(s))
	b = append(b, s...)
	return append(b, "\r\n"...)
}

// pubsubWriteTimeout bounds a direct write to a goroutine client's socket.
const pubsubWriteTimeout = time.Second

// deliver queues msg for c from any goroutine. A client whose pending
// output would pass the pub/sub output buffer limit is disconnected.
func (c *Client) deliver(msg []byte) {
	if c.lp == nil {
		c.writeMu.Lock()
		c.conn.SetWriteDeadline(time.Now().Add(pubsubWriteTimeout))
		_, err := c.conn.Write(msg)
		c.conn.SetWriteDeadline(time.Time{})
		c.writeMu.Unlock()
		if err != nil {
			c.srv.logger.Warn("subscriber disconnected: cannot keep up", "client", c.addr, "err", err)
			c.kill()
		}
		return
	}
	c.pushMu.Lock()
	if int64(len(c.pushed)+len(msg))+c.pendingOut.Load() > c.srv.pubsubLimit {
		c.pushMu.Unlock()
		if !c.killed.Swap(true) {
			c.srv.logger.Warn("subscriber disconnected: output buffer limit", "client", c.addr, "limit", c.srv.pubsubLimit)
			c.srv.outputLimitCloses.Add(1)
			c.lp.shutdown(c)
		}
		return
	}
	c.pushed = append(c.pushed, msg...)
	first := !c.pushPending
	c.pushPending = true
	c.pushMu.Unlock()
	if first {
		c.lp.schedule(c)
	}
}

// takePushed moves c's pushed messages to its output buffer, or behind
// its forwards in flight (see overlap.go).
func (c *Client) takePushed() {
	c.pushMu.Lock()
	if c.overlapping && len(c.pushed) > 0 {
		c.ovl.queue = append(c.ovl.queue, &queued{reply: slices.Clone(c.pushed), ready: true})
		c.ovl.bytes += len(c.pushed)
	} else {
		c.out = append(c.out, c.pushed...)
	}
	c.pushed = c.pushed[:0]
	c.pushPending = false
	c.pushMu.Unlock()
}

func cmdPubsubChannels(c *Client, args [][]byte) {
	pat := ""
	if len(args) > 2 {
		pat = string(args[2])
	}
	var names []string
	c.srv.pubsub.mu.RLock()
	for name := range c.srv.pubsub.channels {
		if pat == "" || glob.Match(pat, name) {
			names = append(names, name)
		}
	}
	c.srv.pubsub.mu.RUnlock()
	slices.Sort(names)
	c.stringArray(names)
}

func cmdPubsubNumsub(c *Client, args [][]byte) {
	c.mapHeader(len(args) - 2)
	c.srv.pubsub.mu.RLock()
	defer c.srv.pubsub.mu.RUnlock()
	for _, a := range args[2:] {
		c.bulk(a)
		c.integer(int64(len(c.srv.pubsub.channels[string(a)])))
	}
}

func cmdPubsubNumpat(c *Client, _ [][]byte) {
	c.srv.pubsub.mu.RLock()
	n := len(c.srv.pubsub.patterns)
	c.srv.pubsub.mu.RUnlock()
	c.integer(int64(n))
}

// counts returns the number of channels and patterns with subscribers.
func (ps *pubsub) counts() (channels, patterns int) {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	return len(ps.channels), len(ps.patterns)
}
