package resp

import (
	"math"
	"strconv"
	"strings"

	"github.com/cached/cached/node/store"
)

func keyCommands() []*command {
	const g = "generic"
	w := flagWrite
	r := flagReadonly
	return []*command{
		{name: "del", arity: -2, flags: w, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Deletes one or more keys.", handler: cmdDel},
		{name: "unlink", arity: -2, flags: w | flagFast, firstKey: 1, lastKey: -1, step: 1, group: g, since: "4.0.0", summary: "Asynchronously deletes one or more keys.", handler: cmdDel},
		{name: "exists", arity: -2, flags: r | flagFast, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Determines whether one or more keys exist.", handler: cmdExists},
		{name: "type", arity: 2, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Determines the type of value stored at a key.", handler: cmdType},
		{name: "touch", arity: -2, flags: r | flagFast, firstKey: 1, lastKey: -1, step: 1, group: g, since: "3.2.1", summary: "Returns the number of existing keys out of those specified after updating the time they were last accessed.", handler: cmdTouch},
		{name: "keys", arity: 2, flags: r, group: g, since: "1.0.0", summary: "Returns all key names that match a pattern.", handler: cmdKeys},
		{name: "scan", arity: -2, flags: r, group: g, since: "2.8.0", summary: "Iterates over the key names in the database.", handler: cmdScan},
		{name: "randomkey", arity: 1, flags: r, group: g, since: "1.0.0", summary: "Returns a random key name from the database.", handler: cmdRandomKey},
		{name: "rename", arity: 3, flags: w, firstKey: 1, lastKey: 2, step: 1, group: g, since: "1.0.0", summary: "Renames a key and overwrites the destination.", handler: cmdRename},
		{name: "renamenx", arity: 3, flags: w | flagFast, firstKey: 1, lastKey: 2, step: 1, group: g, since: "1.0.0", summary: "Renames a key only when the target key name doesn't exist.", handler: cmdRename},
		{name: "copy", arity: -3, flags: w | flagDenyOOM, firstKey: 1, lastKey: 2, step: 1, group: g, since: "6.2.0", summary: "Copies the value of a key to a new key.", handler: cmdCopy},
		{name: "expire", arity: -3, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Sets the expiration time of a key in seconds.", handler: expireHandler(false, false)},
		{name: "pexpire", arity: -3, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.6.0", summary: "Sets the expiration time of a key in milliseconds.", handler: expireHandler(true, false)},
		{name: "expireat", arity: -3, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.2.0", summary: "Sets the expiration time of a key to a Unix timestamp.", handler: expireHandler(false, true)},
		{name: "pexpireat", arity: -3, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.6.0", summary: "Sets the expiration time of a key to a Unix milliseconds timestamp.", handler: expireHandler(true, true)},
		{name: "ttl", arity: 2, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Returns the expiration time in seconds of a key.", handler: ttlHandler(false, false)},
		{name: "pttl", arity: 2, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.6.0", summary: "Returns the expiration time in milliseconds of a key.", handler: ttlHandler(true, false)},
		{name: "expiretime", arity: 2, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "7.0.0", summary: "Returns the expiration time of a key as a Unix timestamp.", handler: ttlHandler(false, true)},
		{name: "pexpiretime", arity: 2, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "7.0.0", summary: "Returns the expiration time of a key as a Unix milliseconds timestamp.", handler: ttlHandler(true, true)},
		{name: "persist", arity: 2, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.2.0", summary: "Removes the expiration time of a key.", handler: cmdPersist},
		{name: "object", arity: -2, flags: r, group: g, since: "2.2.3", summary: "A container for object introspection commands.", subs: sub(
			&command{name: "object|encoding", arity: 3, flags: r, firstKey: 2, lastKey: 2, step: 1, group: g, since: "2.2.3", summary: "Returns the internal encoding of a Redis object.", handler: cmdObject},
			&command{name: "object|freq", arity: 3, flags: r, firstKey: 2, lastKey: 2, step: 1, group: g, since: "4.0.0", summary: "Returns the logarithmic access frequency counter of a Redis object.", handler: cmdObject},
			&command{name: "object|idletime", arity: 3, flags: r, firstKey: 2, lastKey: 2, step: 1, group: g, since: "2.2.3", summary: "Returns the time since the last access to a Redis object.", handler: cmdObject},
			&command{name: "object|refcount", arity: 3, flags: r, firstKey: 2, lastKey: 2, step: 1, group: g, since: "2.2.3", summary: "Returns the reference count of a value of a key.", handler: cmdObject},
			&command{name: "object|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "6.2.0", summary: "Returns helpful text about the different subcommands.", handler: func(c *Client, _ [][]byte) {
				c.helpReply("OBJECT", "ENCODING <key>", "FREQ <key>", "IDLETIME <key>", "REFCOUNT <key>")
			}},
		)},
	}
}

func cmdDel(c *Client, args [][]byte) {
	n := int64(0)
	for _, k := range args[1:] {
		if c.srv.node.Del(k) {
			n++
		}
	}
	c.integer(n)
}

func cmdExists(c *Client, args [][]byte) {
	n := int64(0)
	for _, k := range args[1:] {
		if c.srv.node.Exists(k) {
			n++
		}
	}
	c.integer(n)
}

func cmdTouch(c *Client, args [][]byte) {
	n := int64(0)
	for _, k := range args[1:] {
		if c.srv.node.Touch(k) {
			n++
		}
	}
	c.integer(n)
}

func cmdType(c *Client, args [][]byte) {
	k, ok := c.srv.node.Type(args[1])
	if !ok {
		c.simple("none")
		return
	}
	c.simple(k.String())
}

func cmdKeys(c *Client, args [][]byte) { c.stringArray(c.srv.node.Keys(string(args[1]))) }

func cmdScan(c *Client, args [][]byte) {
	cursor, err := strconv.ParseUint(string(args[1]), 10, 64)
	if err != nil {
		c.errorReply(msgCursor)
		return
	}
	var opt store.ScanOptions
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.errorReply(msgSyntax)
			return
		}
		switch {
		case is(args[i], "match"):
			opt.Match = string(args[i+1])
			if opt.Match == "*" {
				opt.Match = ""
			}
		case is(args[i], "count"):
			n, err := strconv.Atoi(string(args[i+1]))
			if err != nil {
				c.errorReply(msgNotInteger)
				return
			}
			if n < 1 {
				c.errorReply(msgSyntax)
				return
			}
			opt.Count = n
		case is(args[i], "type"):
			opt.Type = strings.ToLower(string(args[i+1]))
		default:
			c.errorReply(msgSyntax)
			return
		}
	}
	next, keys := c.srv.node.Scan(cursor, opt)
	c.array(2)
	c.bulkString(strconv.FormatUint(next, 10))
	c.stringArray(keys)
}

func cmdRandomKey(c *Client, _ [][]byte) {
	k, ok := c.srv.node.RandomKey()
	if !ok {
		c.null()
		return
	}
	c.bulkString(k)
}

// cmdRename serves RENAME and RENAMENX.
func cmdRename(c *Client, args [][]byte) {
	nx := len(args[0]) == 8
	done, err := c.srv.node.Rename(args[1], args[2], nx)
	switch {
	case err != nil:
		c.replyErr(err)
	case nx:
		c.integer(boolInt(done))
	default:
		c.ok()
	}
}

func cmdCopy(c *Client, args [][]byte) {
	replace := false
	for i := 3; i < len(args); i++ {
		switch {
		case is(args[i], "replace"):
			replace = true
		case is(args[i], "db") && i+1 < len(args):
			db, ok := store.ParseInt(args[i+1])
			if !ok {
				c.errorReply(msgNotInteger)
				return
			}
			if db < math.MinInt32 || db > math.MaxInt32 {
				c.errorReply("ERR value is out of range, value must between -2147483648 and 2147483647")
				return
			}
			if db != 0 {
				c.errorReply(msgDBRange)
				return
			}
			i++
		default:
			c.errorReply(msgSyntax)
			return
		}
	}
	if string(args[1]) == string(args[2]) {
		c.errorReply("ERR source and destination objects are the same")
		return
	}
	c.integer(boolInt(c.srv.node.Copy(args[1], args[2], replace)))
}

// expireHandler serves EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT, with the NX,
// XX, GT and LT conditions of Redis 7.
func expireHandler(ms, absolute bool) func(*Client, [][]byte) {
	return func(c *Client, args [][]byte) {
		name := strings.ToLower(string(args[0]))
		// Options are checked before the time, as Redis does.
		var cond store.ExpireCond
		for _, a := range args[3:] {
			switch {
			case is(a, "nx"):
				cond |= store.ExpireNX
			case is(a, "xx"):
				cond |= store.ExpireXX
			case is(a, "gt"):
				cond |= store.ExpireGT
			case is(a, "lt"):
				cond |= store.ExpireLT
			default:
				c.errorReply("ERR Unsupported option " + truncate(a))
				return
			}
		}
		switch {
		case cond&store.ExpireNX != 0 && cond != store.ExpireNX:
			c.errorReply("ERR NX and XX, GT or LT options at the same time are not compatible")
			return
		case cond&(store.ExpireGT|store.ExpireLT) == store.ExpireGT|store.ExpireLT:
			c.errorReply("ERR GT and LT options at the same time are not compatible")
			return
		}
		n, ok := store.ParseInt(args[2])
		if !ok {
			c.errorReply(msgNotInteger)
			return
		}
		invalid := func() { c.errorReply("ERR invalid expire time in '" + name + "' command") }
		if !ms {
			if n > math.MaxInt64/1000 || n < math.MinInt64/1000 {
				invalid()
				return
			}
			n *= 1000
		}
		if !absolute {
			now := c.srv.node.Now()
			if n > math.MaxInt64-now { // now > 0: only a positive n can overflow
				invalid()
				return
			}
			n += now
		}
		c.integer(boolInt(c.srv.node.Expire(args[1], n, cond)))
	}
}

// ttlHandler serves TTL, PTTL, EXPIRETIME and PEXPIRETIME.
func ttlHandler(ms, absolute bool) func(*Client, [][]byte) {
	return func(c *Client, args [][]byte) {
		at, now, ok := c.srv.node.Deadline(args[1])
		switch {
		case !ok:
			c.integer(-2)
		case at == 0:
			c.integer(-1)
		case absolute && ms:
			c.integer(at)
		case absolute:
			// Rounded as TTL is, without overflowing near MaxInt64.
			c.integer(at/1000 + (at%1000+500)/1000)
		case ms:
			c.integer(at - now)
		default:
			c.integer((at - now + 500) / 1000)
		}
	}
}

func cmdPersist(c *Client, args [][]byte) { c.integer(boolInt(c.srv.node.Persist(args[1]))) }

func cmdObject(c *Client, args [][]byte) {
	o, ok := c.srv.node.Inspect(args[2])
	if !ok {
		c.null()
		return
	}
	// Both the LRU clock and the LFU counter are always tracked, so FREQ and
	// IDLETIME answer whatever the policy.
	switch {
	case is(args[1], "encoding"):
		c.bulkString(o.Encoding)
	case is(args[1], "refcount"):
		c.integer(1)
	case is(args[1], "freq"):
		c.integer(int64(o.Freq))
	default: // idletime
		c.integer(o.IdleMs / 1000)
	}
}
