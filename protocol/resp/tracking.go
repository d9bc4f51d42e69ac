package resp

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cached/cached/node"
	"github.com/cached/cached/node/store"
)

// Client-side caching (CLIENT TRACKING), as Redis 6+: the server remembers
// which keys a tracking client read and tells it, once, when one of them
// changes: a RESP3 push ["invalidate", [key...]], or for RESP2 a message on
// __redis__:invalidate to the client named by REDIRECT. BCAST clients hear
// about every key under their prefixes instead, whether they read it or
// not. In a cluster, a node that forwarded a tracking client's read asks
// the owner to remember the key for it (CACHED.TRACKREAD), and the owner
// sends it CACHED.INVALIDATE when the key changes; BCAST prefixes (and the
// prefixes and keys of gRPC Watches) are registered with every member
// (CACHED.BCAST), again at every view change, so members that join later
// learn them. A NOLOOP client's forwarded write travels wrapped in
// CACHED.NOLOOP, so the owner's invalidation (CACHED.INVALIDATEFOR) spares
// that client. Keys the store expires or evicts are invalidated too
// (invalidation.go).

const invalidateChannel = "__redis__:invalidate"

// trackState is a client's tracking mode, set by CLIENT TRACKING.
type trackState struct {
	on       bool
	bcast    bool
	optin    bool
	optout   bool
	noloop   bool
	redirect int64
	prefixes []string
	caching  int8 // CLIENT CACHING for the next command: 1 yes, -1 no
	nextUse  bool // the command after CLIENT CACHING consumes it
}

// tracking is the server's table of tracked keys.
type tracking struct {
	active atomic.Bool // anyone tracks: writes look the table up

	mu      sync.Mutex
	keys    map[string]map[int64]bool    // key → client IDs that read it → read here, not forwarded
	remote  map[string]map[string]string // key → node name → peer address, for forwarded reads
	bcast   map[int64][]string           // BCAST client → prefixes ("" for all)
	rbcast  map[string]map[string]string // prefix → node name → peer address (BCAST on other nodes)
	clients map[int64]*Client            // tracking clients by ID

	registered bool // this node has sent BCAST registrations: keep them current
	watching   bool // the node has gRPC Watches: every write is looked up
}

// refresh recomputes active; t.mu must be held.
func (t *tracking) refreshLocked() {
	t.active.Store(len(t.keys) > 0 || len(t.bcast) > 0 || len(t.remote) > 0 || len(t.rbcast) > 0 || t.watching)
}

func (t *tracking) init() {
	if t.keys == nil {
		t.keys = map[string]map[int64]bool{}
		t.remote = map[string]map[string]string{}
		t.bcast = map[int64][]string{}
		t.rbcast = map[string]map[string]string{}
		t.clients = map[int64]*Client{}
	}
}

func cmdClientTracking(c *Client, args [][]byte) {
	var st trackState
	switch {
	case is(args[2], "on"):
		st.on = true
	case is(args[2], "off"):
	default:
		c.errorReply(msgSyntax)
		return
	}
	for i := 3; i < len(args); i++ {
		switch a := args[i]; {
		case is(a, "bcast"):
			st.bcast = true
		case is(a, "optin"):
			st.optin = true
		case is(a, "optout"):
			st.optout = true
		case is(a, "noloop"):
			st.noloop = true
		case is(a, "redirect") && i+1 < len(args):
			i++
			id, err := strconv.ParseInt(string(args[i]), 10, 64)
			if err != nil {
				c.errorReply("ERR Invalid client ID")
				return
			}
			st.redirect = id
		case is(a, "prefix") && i+1 < len(args):
			i++
			st.prefixes = append(st.prefixes, string(args[i]))
		default:
			c.errorReply(msgSyntax)
			return
		}
	}
	if !st.on {
		c.srv.untrack(c)
		c.track = trackState{}
		c.ok()
		return
	}
	switch {
	case st.optin && st.optout:
		c.errorReply("ERR You can't use both OPTIN and OPTOUT")
		return
	case st.bcast && (st.optin || st.optout):
		c.errorReply("ERR OPTIN and OPTOUT are not compatible with BCAST")
		return
	case len(st.prefixes) > 0 && !st.bcast:
		c.errorReply("ERR PREFIX option requires BCAST mode to be enabled")
		return
	case st.redirect == c.id:
		c.errorReply("ERR Tracking redirection to itself is not allowed")
		return
	case st.redirect == 0 && !c.resp3():
		// Redis allows it and sends nothing; a RESP2 client needs a
		// redirect to hear anything. Keep Redis's behaviour.
	}
	if st.redirect != 0 {
		c.srv.mu.Lock()
		_, ok := c.srv.clients[st.redirect]
		c.srv.mu.Unlock()
		if !ok {
			c.errorReply("ERR The client ID you want redirect to does not exist")
			return
		}
	}
	for i, p := range st.prefixes {
		for j, q := range st.prefixes {
			if i != j && strings.HasPrefix(p, q) {
				c.errorReply("ERR Prefix '" + p + "' overlaps with another provided prefix '" + q + "'. Prefixes for a single client must not overlap.")
				return
			}
		}
	}
	c.srv.untrack(c)
	c.track = st
	t := &c.srv.tracking
	t.mu.Lock()
	t.init()
	t.clients[c.id] = c
	if st.bcast {
		prefixes := st.prefixes
		if len(prefixes) == 0 {
			prefixes = []string{""}
		}
		t.bcast[c.id] = prefixes
	}
	t.refreshLocked()
	t.mu.Unlock()
	if st.bcast {
		c.srv.registerBcast(false)
		signal(c.srv.inval.reg) // and again in order with the loop's (see registerBcast)
	}
	c.ok()
}

func cmdClientCaching(c *Client, args [][]byte) {
	switch {
	case !c.track.on:
		c.errorReply("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
	case is(args[2], "yes") && c.track.optin:
		c.track.caching, c.track.nextUse = 1, true
		c.ok()
	case is(args[2], "no") && c.track.optout:
		c.track.caching, c.track.nextUse = -1, true
		c.ok()
	case is(args[2], "yes"), is(args[2], "no"):
		c.errorReply("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
	default:
		c.errorReply(msgSyntax)
	}
}

func cmdClientGetRedir(c *Client, _ [][]byte) {
	switch {
	case !c.track.on:
		c.integer(-1)
	default:
		c.integer(c.track.redirect)
	}
}

func cmdClientTrackingInfo(c *Client, _ [][]byte) {
	st := c.track
	var flags []string
	switch {
	case !st.on:
		flags = append(flags, "off")
	default:
		flags = append(flags, "on")
		if st.bcast {
			flags = append(flags, "bcast")
		}
		if st.optin {
			flags = append(flags, "optin")
			if st.caching == 1 {
				flags = append(flags, "caching-yes")
			}
		}
		if st.optout {
			flags = append(flags, "optout")
			if st.caching == -1 {
				flags = append(flags, "caching-no")
			}
		}
		if st.noloop {
			flags = append(flags, "noloop")
		}
	}
	redir := int64(-1)
	if st.on {
		redir = st.redirect
	}
	c.mapHeader(3)
	c.bulkString("flags")
	c.stringArray(flags)
	c.bulkString("redirect")
	c.integer(redir)
	c.bulkString("prefixes")
	c.stringArray(st.prefixes)
}

// untrack forgets c's tracking (CLIENT TRACKING off, RESET, disconnect).
func (s *Server) untrack(c *Client) {
	if !c.track.on {
		return
	}
	t := &s.tracking
	if c.track.bcast {
		defer signal(s.inval.reg) // its prefixes may go from the other members
	}
	t.mu.Lock()
	delete(t.clients, c.id)
	delete(t.bcast, c.id)
	// Keys c read stay in the table until they change: removing them
	// would cost a scan; an invalidation for a gone client is dropped.
	t.refreshLocked()
	t.mu.Unlock()
}

// afterCommand records the keys a tracking client read (see trackRead)
// and consumes a CLIENT CACHING setting (see consumeCaching).
func (c *Client) afterCommand(cmd *command, args [][]byte, forwardedTo string) {
	c.trackRead(cmd, args, forwardedTo)
	c.consumeCaching(cmd)
}

// consumeCaching ends a CLIENT CACHING setting after the command it
// covers. It runs after every command of a tracking client.
func (c *Client) consumeCaching(cmd *command) {
	st := &c.track
	if cmd.name == "client|caching" {
		return
	}
	if st.nextUse && !c.tx.active && !c.execing {
		// CLIENT CACHING covers the next command, or the next transaction
		// as a whole (MULTI, its commands, EXEC), as in Redis.
		st.nextUse, st.caching = false, 0
	}
}

// trackRead records the keys a tracking client's read-only command reads,
// here or (forwardedTo) at their owner. A command run here is recorded
// before it runs: a write on another event loop between the read and the
// record would otherwise go unreported.
func (c *Client) trackRead(cmd *command, args [][]byte, forwardedTo string) {
	st := &c.track
	if st.bcast || cmd.flags&flagReadonly == 0 || cmd.name == "client|caching" {
		return
	}
	if caching := st.caching; (st.optin && caching != 1) || (st.optout && caching == -1) {
		return
	}
	pos := commandKeys(cmd, args)
	if len(pos) == 0 {
		return
	}
	t := &c.srv.tracking
	t.mu.Lock()
	t.init()
	for _, p := range pos {
		k := string(args[p])
		ids := t.keys[k]
		if ids == nil {
			ids = map[int64]bool{}
			t.keys[k] = ids
		}
		ids[c.id] = ids[c.id] || forwardedTo == ""
	}
	t.refreshLocked()
	t.mu.Unlock()
	if forwardedTo != "" {
		// The owner must tell this node when the keys change. The request
		// goes on the connection the read is forwarded on (same protocol,
		// same hint), ahead of it: the owner tracks the keys before it
		// reads them, so no write can fall between the read and the
		// registration unreported.
		cmds := make([][]byte, 0, len(pos)+2)
		cmds = append(cmds, []byte(node.CmdTrackRead), []byte(c.srv.node.View().Self.Name))
		for _, p := range pos {
			cmds = append(cmds, args[p])
		}
		c.srv.node.Peers().Go(forwardedTo, int(c.proto.Load()), uint64(c.id), cmds, func([]byte, error) {})
	}
}

// trackRemoteTx records the reads of a transaction sent to the owner at
// addr (see execRemote), for a tracking client; a CLIENT CACHING before
// MULTI covers all of them, and EXEC consumes it.
func (c *Client) trackRemoteTx(queue [][][]byte, addr string) {
	c.execing = true
	for _, args := range queue {
		cmd := c.lookup(table, args[0])
		if cmd == nil {
			continue
		}
		if cmd.subs != nil && len(args) > 1 {
			if sc := c.lookup(cmd.subs, args[1]); sc != nil {
				cmd = sc
			}
		}
		c.afterCommand(cmd, args, addr)
	}
	c.execing = false
}

// invalidation says who hears of a change.
type invalidation int

const (
	// everyone: a write executed here, on the key's primary: this node's
	// tracking clients, BCAST ones included, and the nodes tracking the
	// keys or registered for BCAST.
	everyone invalidation = iota
	// localClients: an invalidation from the key's owner
	// (CACHED.INVALIDATE): this node's tracking clients only.
	localClients
	// localReaders: a record applied from another node (replication,
	// hand-off), whose owner has told everyone already: only this node's
	// clients that read the keys here (READONLY reads of a replica).
	localReaders
)

// invalidate tells those who may hold keys (see invalidation) that the
// keys changed. writer is the client whose command changed them (nil for
// changes from elsewhere), for NOLOOP. A nil keys means every key
// (FLUSHALL).
func (s *Server) invalidate(keys [][]byte, writer *Client, who invalidation) {
	peers, bcast := who == everyone, who != localReaders
	t := &s.tracking
	if bcast {
		s.node.PublishInvalidation(keys, keys == nil) // gRPC Watch streams
	}
	if !t.active.Load() {
		return
	}
	perClient := map[int64][][]byte{}
	perNode := map[string][][]byte{} // peer address → keys
	t.mu.Lock()
	if keys == nil {
		for id := range t.clients {
			perClient[id] = nil
		}
		clear(t.keys)
		if peers {
			clear(t.remote) // FLUSHALL reaches every node itself (CACHED.FLUSH)
		}
	}
	for _, k := range keys {
		ks := string(k)
		ids := t.keys[ks]
		for id, here := range ids {
			// A record from another node concerns the reads served
			// here; the owner reports the change to forwarded reads
			// itself, and an entry dropped now would miss it.
			if who == localReaders && !here {
				continue
			}
			perClient[id] = append(perClient[id], k)
			delete(ids, id)
		}
		if len(ids) == 0 {
			delete(t.keys, ks)
		}
		if peers {
			for _, addr := range t.remote[ks] {
				perNode[addr] = append(perNode[addr], k)
			}
			delete(t.remote, ks)
		}
		for id, prefixes := range t.bcast {
			for _, p := range prefixes {
				if bcast && strings.HasPrefix(ks, p) {
					perClient[id] = append(perClient[id], k)
					break
				}
			}
		}
		for p, nodes := range t.rbcast {
			if peers && strings.HasPrefix(ks, p) {
				for _, addr := range nodes {
					perNode[addr] = append(perNode[addr], k)
				}
			}
		}
	}
	targets := make(map[int64]*Client, len(perClient))
	for id := range perClient {
		if c := t.clients[id]; c != nil {
			targets[id] = c
		}
	}
	t.refreshLocked()
	t.mu.Unlock()
	for id, ks := range perClient {
		c := targets[id]
		if c == nil || (writer != nil && c == writer && c.track.noloop) {
			continue
		}
		s.sendInvalidation(c, ks, keys == nil)
	}
	for addr, ks := range perNode {
		args := append([][]byte{[]byte(node.CmdInvalidate)}, ks...)
		if writer != nil && writer.loopFrom == addr {
			// The write came from a NOLOOP client there (CACHED.NOLOOP).
			args = append([][]byte{[]byte(node.CmdInvalidateFor), strconv.AppendInt(nil, writer.loopID, 10)}, ks...)
		}
		s.node.Peers().Go(addr, 2, 0, args, func([]byte, error) {})
	}
}

// sendInvalidation delivers an invalidation for keys (all keys when all)
// to c, or to the client it redirects to.
func (s *Server) sendInvalidation(c *Client, keys [][]byte, all bool) {
	to := c
	if c.track.redirect != 0 {
		s.mu.Lock()
		to = s.clients[c.track.redirect]
		s.mu.Unlock()
		if to == nil {
			return
		}
	}
	var payload []byte
	if all {
		payload = []byte("*-1\r\n")
		if to.resp3() {
			payload = []byte("_\r\n")
		}
	} else {
		payload = appendPrefix(nil, '*', len(keys))
		for _, k := range keys {
			payload = appendBulk(payload, k)
		}
	}
	var msg []byte
	if to.resp3() && c.track.redirect == 0 {
		msg = appendPrefix(nil, '>', 2)
		msg = appendBulk(msg, []byte("invalidate"))
		msg = append(msg, payload...)
	} else {
		// A message on __redis__:invalidate, for the redirect target.
		prefix := byte('*')
		if to.resp3() {
			prefix = '>'
		}
		msg = appendPrefix(nil, prefix, 3)
		msg = appendBulk(msg, []byte("message"))
		msg = appendBulk(msg, []byte(invalidateChannel))
		msg = append(msg, payload...)
	}
	to.deliver(msg)
}

// appendBulk appends b as a bulk string.
func appendBulk(dst, b []byte) []byte {
	dst = appendPrefix(dst, '$', len(b))
	dst = append(dst, b...)
	return append(dst, '\r', '\n')
}

// invalidateWritten invalidates the keys a write command changed.
func (c *Client) invalidateWritten(cmd *command, args [][]byte) {
	if cmd.name == "flushall" || cmd.name == "flushdb" {
		c.srv.invalidate(nil, c, everyone)
		return
	}
	pos := commandKeys(cmd, args)
	if len(pos) == 0 {
		return
	}
	keys := make([][]byte, len(pos))
	for i, p := range pos {
		keys[i] = args[p]
	}
	c.srv.invalidate(keys, c, everyone)
}

// invalidateRecords invalidates the keys of applied records (replication,
// hand-off).
func (s *Server) invalidateRecords(recs []byte) {
	if !s.tracking.active.Load() {
		return
	}
	var keys [][]byte
	for len(recs) > 0 {
		r, n, err := store.DecodeRecord(recs)
		if err != nil {
			break
		}
		if r.Flush {
			s.invalidate(nil, nil, localReaders)
			return
		}
		keys = append(keys, bytes.Clone(r.Key))
		recs = recs[n:]
	}
	s.invalidate(keys, nil, localReaders)
}

// registerBcast tells every other member the prefixes this node's BCAST
// clients and gRPC Watches listen to, so their writes reach it
// (CACHED.BCAST, which replaces what the member had for this node). Once
// it has sent any, it sends the current set again on every change of it
// or of the view, so a member that joins later learns it, and one whose
// clients left stops sending. With wait, it waits for every member's
// answer and then reports the registration sent to the node (see
// node.RegistrationSent); without, it only queues the messages.
func (s *Server) registerBcast(wait bool) {
	gen := s.node.RegistrationWanted()
	if wait {
		defer s.node.RegistrationSent(gen)
		t := &s.tracking
		t.mu.Lock()
		t.watching = s.node.Watching()
		t.refreshLocked()
		t.mu.Unlock()
	}
	v := s.node.View()
	if v == nil {
		return
	}
	t := &s.tracking
	seen := map[string]bool{}
	var prefixes [][]byte
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			prefixes = append(prefixes, []byte(p))
		}
	}
	for _, p := range s.node.WatchedPrefixes() {
		add(p)
	}
	t.mu.Lock()
	for _, ps := range t.bcast {
		for _, p := range ps {
			add(p)
		}
	}
	if len(prefixes) == 0 && !t.registered {
		t.mu.Unlock()
		return
	}
	t.registered = true
	t.mu.Unlock()
	args := append([][]byte{[]byte(node.CmdBcast), []byte(v.Self.Name), []byte(v.Self.Peer)}, prefixes...)
	if !wait {
		s.node.Broadcast(args)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), forwardDeadline)
	defer cancel()
	_, errs := s.node.CallAll(ctx, args)
	if err := errors.Join(errs...); err != nil {
		s.logger.Debug("bcast registration not sent to every member", "err", err)
	}
}

func cmdPeerTrackRead(c *Client, args [][]byte) {
	v := c.srv.node.View()
	if v == nil {
		c.ok()
		return
	}
	m, ok := v.Member(string(args[1]))
	if !ok {
		c.ok()
		return
	}
	t := &c.srv.tracking
	t.mu.Lock()
	t.init()
	for _, k := range args[2:] {
		nodes := t.remote[string(k)]
		if nodes == nil {
			nodes = map[string]string{}
			t.remote[string(k)] = nodes
		}
		nodes[m.Name] = m.Peer
	}
	t.refreshLocked()
	t.mu.Unlock()
	c.ok()
}

func cmdPeerInvalidate(c *Client, args [][]byte) {
	keys := make([][]byte, len(args)-1)
	for i, k := range args[1:] {
		keys[i] = bytes.Clone(k)
	}
	// This node's clients only: the owner told the other nodes itself.
	c.srv.invalidate(keys, nil, localClients)
	c.ok()
}

// cmdPeerBcast: CACHED.BCAST name peer-address [prefix ...] replaces the
// prefixes registered for the member name.
func cmdPeerBcast(c *Client, args [][]byte) {
	name, addr := string(args[1]), string(args[2])
	t := &c.srv.tracking
	t.mu.Lock()
	t.init()
	for p, nodes := range t.rbcast {
		delete(nodes, name)
		if len(nodes) == 0 {
			delete(t.rbcast, p)
		}
	}
	for _, p := range args[3:] {
		nodes := t.rbcast[string(p)]
		if nodes == nil {
			nodes = map[string]string{}
			t.rbcast[string(p)] = nodes
		}
		nodes[name] = addr
	}
	t.refreshLocked()
	t.mu.Unlock()
	c.ok()
}
