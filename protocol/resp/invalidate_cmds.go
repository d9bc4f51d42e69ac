package resp

import (
	"bytes"
	"context"
	"errors"
	"strconv"

	"github.com/cached/cached/node"
)

// CACHED: cached's own commands, sent by any Redis client as a plain
// command.
//
//	CACHED INVALIDATE KEYS key [key ...]    delete keys, cluster-wide
//	CACHED INVALIDATE PREFIX prefix [...]   delete every key under the prefixes
//	CACHED INVALIDATE TAG tag [tag ...]     delete every key with one of the tags
//	CACHED TAG key tag [tag ...]            tag an existing key
//	CACHED SET key value [SET options] TAGS tag [tag ...]
//
// INVALIDATE replies the number of keys deleted; each member deletes what
// it holds (see node.InvalidatePrefix), so no key list travels back. TAG
// replies the number of tags the key did not have yet. SET replies as SET
// and tags the key only when it was written.

func cachedCommands() []*command {
	const g = "generic"
	return []*command{
		{name: "cached", arity: -2, group: g, since: "1.0.0", summary: "A container for cached's own commands: invalidation, tags, origins.", subs: sub(
			&command{name: "cached|invalidate", arity: -4, flags: flagWrite | flagNoScript, group: g, since: "1.0.0", summary: "Deletes keys, keys under prefixes or tagged keys on every cluster member.", handler: cmdCachedInvalidate},
			&command{name: "cached|tag", arity: -4, flags: flagWrite | flagDenyOOM, firstKey: 2, lastKey: 2, step: 1, group: g, since: "1.0.0", summary: "Tags an existing key.", handler: cmdCachedTag},
			&command{name: "cached|set", arity: -4, flags: flagWrite | flagDenyOOM, firstKey: 2, lastKey: 2, step: 1, group: g, since: "1.0.0", summary: "Sets a string value and tags the key.", handler: cmdCachedSet},
			&command{name: "cached|origins", arity: 2, flags: flagStale, group: "server", since: "1.0.0", summary: "Lists the origin rules and their state: breaker, loads, errors, write-behind queue.", handler: cmdCachedOrigins},
			&command{name: "cached|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "1.0.0", summary: "Returns helpful text about the different subcommands.", handler: cmdCachedHelp},
		)},
	}
}

func cmdCachedHelp(c *Client, _ [][]byte) {
	c.helpReply("CACHED",
		"INVALIDATE KEYS <key> [<key> ...]", "INVALIDATE PREFIX <prefix> [<prefix> ...]",
		"INVALIDATE TAG <tag> [<tag> ...]", "TAG <key> <tag> [<tag> ...]",
		"SET <key> <value> [NX|XX] [EX|PX|EXAT|PXAT <time>|KEEPTTL] [TAGS <tag> [<tag> ...]]", "ORIGINS")
}

// invalidateErr returns the RESP error for err of the invalidation API.
func invalidateErr(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return msgTryAgain
	}
	return "ERR " + err.Error()
}

func cmdCachedInvalidate(c *Client, args [][]byte) {
	var run func(ctx context.Context, arg []byte) (int64, error)
	switch kind := args[2]; {
	case is(kind, "keys"):
		// One call for all keys: they are split by owner at once.
	case is(kind, "prefix"):
		run = c.srv.node.InvalidatePrefix
	case is(kind, "tag"):
		run = c.srv.node.InvalidateTag
	default:
		c.errorReply(msgSyntax)
		return
	}
	if c.execing {
		c.errorReply("ERR CACHED INVALIDATE is not allowed in MULTI")
		return
	}
	for _, a := range args[3:] {
		if len(a) == 0 && run != nil {
			c.errorReply("ERR prefixes and tags must not be empty")
			return
		}
	}
	own := cloneArgs(args[3:])
	n := c.srv.node
	c.async(func() []byte {
		ctx, cancel := context.WithTimeout(context.Background(), forwardDeadline)
		defer cancel()
		var total int64
		var err error
		if run == nil {
			total, err = n.InvalidateKeys(ctx, own)
		}
		for i := 0; run != nil && i < len(own) && err == nil; i++ {
			var k int64
			k, err = run(ctx, own[i])
			total += k
		}
		r := c.scratchClient()
		if err != nil {
			r.errorReply(invalidateErr(err))
		} else {
			r.integer(total)
		}
		return r.out
	})
}

func cmdCachedTag(c *Client, args [][]byte) {
	added, err := c.srv.node.AddTags(args[2], args[3:])
	if err != nil {
		c.tagErr(err)
		return
	}
	c.integer(int64(added))
}

// tagErr replies the error of a tagging.
func (c *Client) tagErr(err error) {
	if errors.Is(err, node.ErrEmptyTag) || errors.Is(err, node.ErrReservedKey) {
		c.errorReply("ERR " + err.Error())
		return
	}
	c.replyErr(err)
}

// cmdCachedSet runs SET with the arguments before TAGS, then tags the key
// if SET wrote it.
func cmdCachedSet(c *Client, args [][]byte) {
	end := len(args)
	for i := 4; i < len(args); i++ {
		if is(args[i], "tags") {
			end = i
			break
		}
		if is(args[i], "get") {
			c.errorReply("ERR CACHED SET does not take GET")
			return
		}
	}
	tags := args[min(end+1, len(args)):]
	if end < len(args) && len(tags) == 0 {
		c.errorReply(msgSyntax)
		return
	}
	if bytes.HasPrefix(args[2], []byte(node.TagKeyPrefix)) {
		c.tagErr(node.ErrReservedKey)
		return
	}
	for _, t := range tags {
		if len(t) == 0 {
			c.tagErr(node.ErrEmptyTag)
			return
		}
	}
	before := len(c.out)
	cmdSet(c, args[1:end])
	if len(tags) == 0 || !bytes.Equal(c.out[before:], []byte("+OK\r\n")) {
		return
	}
	if _, err := c.srv.node.AddTags(args[2], tags); err != nil {
		c.out = c.out[:before]
		c.tagErr(err)
	}
}

// Peer commands of the invalidation API and NOLOOP forwarding.

func cmdPeerDelPrefix(c *Client, args [][]byte) {
	c.peerCount(c.srv.node.DeletePrefixLocal(args[1]))
}

func cmdPeerDelTag(c *Client, args [][]byte) {
	c.peerCount(c.srv.node.DeleteTagLocal(args[1]))
}

// peerCount replies n, or err.
func (c *Client) peerCount(n int64, err error) {
	if err != nil {
		c.errorReply("ERR " + err.Error())
		return
	}
	c.integer(n)
}

// cmdPeerNoLoop runs a write forwarded for a NOLOOP tracking client:
// CACHED.NOLOOP origin-peer-address client-id command [arg ...]. The
// invalidation the write causes reaches the origin as CACHED.INVALIDATEFOR,
// which spares that client.
func cmdPeerNoLoop(c *Client, args [][]byte) {
	id, err := strconv.ParseInt(string(args[2]), 10, 64)
	if err != nil {
		c.errorReply("ERR invalid client ID")
		return
	}
	c.loopFrom, c.loopID = string(args[1]), id
	c.execute(args[3:])
	c.loopFrom, c.loopID = "", 0
}

// cmdPeerInvalidateFor: CACHED.INVALIDATEFOR client-id key [key ...].
func cmdPeerInvalidateFor(c *Client, args [][]byte) {
	id, err := strconv.ParseInt(string(args[1]), 10, 64)
	if err != nil {
		c.errorReply("ERR invalid client ID")
		return
	}
	c.srv.mu.Lock()
	writer := c.srv.clients[id]
	c.srv.mu.Unlock()
	keys := make([][]byte, len(args)-2)
	for i, k := range args[2:] {
		keys[i] = bytes.Clone(k)
	}
	c.srv.invalidate(keys, writer, localClients)
	c.ok()
}

// noLoopArgs wraps a write of c, a NOLOOP tracking client, for forwarding
// (see cmdPeerNoLoop).
func (c *Client) noLoopArgs(v *node.View, args [][]byte) [][]byte {
	out := make([][]byte, 0, len(args)+3)
	out = append(out, []byte(node.CmdNoLoop), []byte(v.Self.Peer), strconv.AppendInt(nil, c.id, 10))
	return append(out, args...)
}
