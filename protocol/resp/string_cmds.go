package resp

import (
	"math"
	"strconv"

	"github.com/tidwall/redcon"

	"github.com/cached/cached/node/store"
)

func stringCommands() []*command {
	const g = "string"
	w := flagWrite | flagDenyOOM
	r := flagReadonly
	return []*command{
		{name: "get", arity: 2, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Returns the string value of a key.", handler: cmdGet},
		{name: "set", arity: -3, flags: w, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", handler: cmdSet},
		{name: "setnx", arity: 3, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Set the string value of a key only when the key doesn't exist.", handler: cmdSetNX},
		{name: "setex", arity: 4, flags: w, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", handler: cmdSetEX},
		{name: "psetex", arity: 4, flags: w, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.6.0", summary: "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", handler: cmdSetEX},
		{name: "getset", arity: 3, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Returns the previous string value of a key after setting it to a new value.", handler: cmdGetSet},
		{name: "getdel", arity: 2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "6.2.0", summary: "Returns the string value of a key after deleting the key.", handler: cmdGetDel},
		{name: "getex", arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "6.2.0", summary: "Returns the string value of a key after setting its expiration time.", handler: cmdGetEx},
		{name: "mget", arity: -2, flags: r | flagFast, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Atomically returns the string values of one or more keys.", handler: cmdMGet},
		{name: "mset", arity: -3, flags: w, firstKey: 1, lastKey: -1, step: 2, group: g, since: "1.0.1", summary: "Atomically creates or modifies the string values of one or more keys.", handler: cmdMSet},
		{name: "msetnx", arity: -3, flags: w, firstKey: 1, lastKey: -1, step: 2, group: g, since: "1.0.1", summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.", handler: cmdMSet},
		{name: "append", arity: 3, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.", handler: cmdAppend},
		{name: "strlen", arity: 2, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.2.0", summary: "Returns the length of a string value.", handler: cmdStrlen},
		{name: "getrange", arity: 4, flags: r, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.4.0", summary: "Returns a substring of the string stored at a key.", handler: cmdGetRange},
		{name: "substr", arity: 4, flags: r, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Returns a substring from a string value.", handler: cmdGetRange},
		{name: "setrange", arity: 4, flags: w, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.2.0", summary: "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", handler: cmdSetRange},
		{name: "incr", arity: 2, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", handler: cmdIncr},
		{name: "decr", arity: 2, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", handler: cmdIncr},
		{name: "incrby", arity: 3, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", handler: cmdIncr},
		{name: "decrby", arity: 3, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", handler: cmdIncr},
		{name: "incrbyfloat", arity: 3, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.6.0", summary: "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", handler: cmdIncrByFloat},
	}
}

func cmdGet(c *Client, args [][]byte) {
	out, ok, err := c.srv.node.AppendGet(c.out, args[1], redcon.AppendBulk)
	c.out = out
	switch {
	case err != nil:
		c.replyErr(err)
	case !ok:
		c.null()
	}
}

// deadline converts a relative TTL or an absolute time given in unit
// (seconds or ms) to an absolute Unix ms deadline, rejecting non-positive
// values and overflow as Redis does ("invalid expire time in 'cmd' command").
func (c *Client) deadline(arg []byte, ms, absolute bool, cmd string) (int64, bool) {
	n, ok := store.ParseInt(arg)
	if !ok {
		c.errorReply(msgNotInteger)
		return 0, false
	}
	if n <= 0 || (!ms && n > math.MaxInt64/1000) {
		c.errorReply("ERR invalid expire time in '" + cmd + "' command")
		return 0, false
	}
	if !ms {
		n *= 1000
	}
	if !absolute {
		now := c.srv.node.Now()
		if n > math.MaxInt64-now {
			c.errorReply("ERR invalid expire time in '" + cmd + "' command")
			return 0, false
		}
		n += now
	}
	return n, true
}

// expiryOption returns the lower-case name of the expiry option arg is (ex,
// px, exat or pxat), or "" for another argument.
func expiryOption(arg []byte) string {
	for _, o := range []string{"ex", "px", "exat", "pxat"} {
		if is(arg, o) {
			return o
		}
	}
	return ""
}

// cmdSet parses options as Redis does: an option may repeat (for EX and the
// like the last value wins) but not combine with a conflicting one, and the
// expiry value is checked only once every option parsed.
func cmdSet(c *Client, args [][]byte) {
	var opt store.SetOptions
	var expiry string // the expiry option given, "" when none
	var when []byte
	for i := 3; i < len(args); i++ {
		a := args[i]
		switch o := expiryOption(a); {
		case is(a, "nx") && opt.Cond != store.SetXX:
			opt.Cond = store.SetNX
		case is(a, "xx") && opt.Cond != store.SetNX:
			opt.Cond = store.SetXX
		case is(a, "get"):
			opt.Get = true
		case is(a, "keepttl") && expiry == "":
			opt.KeepTTL = true
		case o != "" && !opt.KeepTTL && (expiry == "" || expiry == o) && i+1 < len(args):
			expiry, when = o, args[i+1]
			i++
		default:
			c.errorReply(msgSyntax)
			return
		}
	}
	if expiry != "" {
		at, ok := c.deadline(when, expiry[0] == 'p', len(expiry) == 4, "set")
		if !ok {
			return
		}
		opt.ExpireAt = at
	}
	old, hadOld, written, err := c.srv.node.Set(args[1], args[2], opt)
	switch {
	case err != nil:
		c.replyErr(err)
	case opt.Get && hadOld:
		c.bulk(old)
	case opt.Get || !written:
		c.null()
	default:
		c.ok()
	}
}

func cmdSetNX(c *Client, args [][]byte) {
	_, _, written, err := c.srv.node.Set(args[1], args[2], store.SetOptions{Cond: store.SetNX})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(boolInt(written))
}

// cmdSetEX serves SETEX (seconds) and PSETEX (milliseconds).
func cmdSetEX(c *Client, args [][]byte) {
	name := "setex"
	if args[0][0]|0x20 == 'p' {
		name = "psetex"
	}
	at, ok := c.deadline(args[2], name == "psetex", false, name)
	if !ok {
		return
	}
	if _, _, _, err := c.srv.node.Set(args[1], args[3], store.SetOptions{ExpireAt: at}); err != nil {
		c.replyErr(err)
		return
	}
	c.ok()
}

func cmdGetSet(c *Client, args [][]byte) {
	old, hadOld, _, err := c.srv.node.Set(args[1], args[2], store.SetOptions{Get: true})
	switch {
	case err != nil:
		c.replyErr(err)
	case hadOld:
		c.bulk(old)
	default:
		c.null()
	}
}

func cmdGetDel(c *Client, args [][]byte) {
	v, ok, err := c.srv.node.GetDel(args[1])
	switch {
	case err != nil:
		c.replyErr(err)
	case !ok:
		c.null()
	default:
		c.bulk(v)
	}
}

// cmdGetEx parses options as cmdSet does.
func cmdGetEx(c *Client, args [][]byte) {
	var ch store.ExpireChange
	var expiry string
	var when []byte
	for i := 2; i < len(args); i++ {
		a := args[i]
		switch o := expiryOption(a); {
		case is(a, "persist") && expiry == "":
			ch.Persist = true
		case o != "" && !ch.Persist && (expiry == "" || expiry == o) && i+1 < len(args):
			expiry, when = o, args[i+1]
			i++
		default:
			c.errorReply(msgSyntax)
			return
		}
	}
	if expiry != "" {
		at, ok := c.deadline(when, expiry[0] == 'p', len(expiry) == 4, "getex")
		if !ok {
			return
		}
		ch.Set, ch.At = true, at
	}
	v, ok, err := c.srv.node.GetEx(args[1], ch)
	switch {
	case err != nil:
		c.replyErr(err)
	case !ok:
		c.null()
	default:
		c.bulk(v)
	}
}

func cmdMGet(c *Client, args [][]byte) {
	c.array(len(args) - 1)
	for _, k := range args[1:] {
		out, ok, _ := c.srv.node.AppendGet(c.out, k, redcon.AppendBulk)
		c.out = out
		if !ok {
			c.null() // also for a key of another type, as Redis
		}
	}
}

// cmdMSet serves MSET and MSETNX.
func cmdMSet(c *Client, args [][]byte) {
	nx := len(args[0]) == 6
	if len(args)%2 == 0 {
		c.wrongArity(map[bool]string{false: "mset", true: "msetnx"}[nx])
		return
	}
	written := c.srv.node.MSet(args[1:], nx)
	if nx {
		c.integer(boolInt(written))
		return
	}
	c.ok()
}

func cmdAppend(c *Client, args [][]byte) {
	n, err := c.srv.node.Append(args[1], args[2])
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(int64(n))
}

func cmdStrlen(c *Client, args [][]byte) {
	n, err := c.srv.node.StrLen(args[1])
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(int64(n))
}

func cmdGetRange(c *Client, args [][]byte) {
	start, ok1 := store.ParseInt(args[2])
	end, ok2 := store.ParseInt(args[3])
	if !ok1 || !ok2 {
		c.errorReply(msgNotInteger)
		return
	}
	v, _, err := c.srv.node.Get(args[1])
	if err != nil {
		c.replyErr(err)
		return
	}
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		c.bulk(nil)
		return
	}
	if start < 0 {
		start = max(n+start, 0)
	}
	if end < 0 {
		end = max(n+end, 0)
	}
	end = min(end, n-1)
	if n == 0 || start > end {
		c.bulk(nil)
		return
	}
	c.bulk(v[start : end+1])
}

func cmdSetRange(c *Client, args [][]byte) {
	off, ok := store.ParseInt(args[2])
	if !ok {
		c.errorReply(msgNotInteger)
		return
	}
	if off < 0 {
		c.errorReply(msgOffsetRange)
		return
	}
	// Check the final size here: offset+len(value) must not overflow.
	if len(args[3]) > 0 && off > store.MaxStringLen-int64(len(args[3])) {
		c.replyErr(store.ErrTooLarge)
		return
	}
	n, err := c.srv.node.SetRange(args[1], off, args[3])
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(int64(n))
}

// cmdIncr serves INCR, DECR, INCRBY and DECRBY.
func cmdIncr(c *Client, args [][]byte) {
	delta := int64(1)
	if len(args) == 3 {
		d, ok := store.ParseInt(args[2])
		if !ok {
			c.errorReply(msgNotInteger)
			return
		}
		delta = d
	}
	if args[0][0]|0x20 == 'd' {
		if delta == math.MinInt64 {
			c.errorReply("ERR decrement would overflow")
			return
		}
		delta = -delta
	}
	n, err := c.srv.node.IncrBy(args[1], delta)
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(n)
}

func cmdIncrByFloat(c *Client, args [][]byte) {
	v, err := c.srv.node.IncrByFloat(args[1], args[2])
	if err != nil {
		c.replyErr(err)
		return
	}
	c.bulk(v)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// parseCount parses a non-negative integer argument.
func parseCount(arg []byte) (int, bool) {
	n, err := strconv.Atoi(string(arg))
	return n, err == nil && n >= 0
}
