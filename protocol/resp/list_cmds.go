package resp

import (
	"github.com/cached/cached/node/store"
)

// The list commands. Blocking pops (BLPOP, BRPOP, BLMOVE, BLMPOP) are not
// here: they build on store.PopList and store.MoveList, and the commands
// here that may create a list (pushes, LMOVE) signal its key to them.

// listCommands returns the list commands.
func listCommands() []*command {
	const g = "list"
	w := flagWrite | flagDenyOOM
	r := flagReadonly
	return []*command{
		{name: "lpush", arity: -3, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Prepends one or more elements to a list. Creates the key if it doesn't exist.", handler: pushHandler(store.ListLeft, false)},
		{name: "rpush", arity: -3, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Appends one or more elements to a list. Creates the key if it doesn't exist.", handler: pushHandler(store.ListRight, false)},
		{name: "lpushx", arity: -3, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.2.0", summary: "Prepends one or more elements to a list only when the list exists.", handler: pushHandler(store.ListLeft, true)},
		{name: "rpushx", arity: -3, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.2.0", summary: "Appends an element to a list only when the list exists.", handler: pushHandler(store.ListRight, true)},
		{name: "lpop", arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", handler: popHandler("lpop", store.ListLeft)},
		{name: "rpop", arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Returns and removes the last elements of the list. Deletes the list if the last element was popped.", handler: popHandler("rpop", store.ListRight)},
		{name: "llen", arity: 2, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Returns the length of a list.", handler: cmdLLen},
		{name: "lrange", arity: 4, flags: r, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Returns a range of elements from a list.", handler: cmdLRange},
		{name: "lindex", arity: 3, flags: r, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Returns an element from a list by its index.", handler: cmdLIndex},
		{name: "lset", arity: 4, flags: w, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Sets the value of an element in a list by its index.", handler: cmdLSet},
		{name: "linsert", arity: 5, flags: w, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.2.0", summary: "Inserts an element before or after another element in a list.", handler: cmdLInsert},
		{name: "lrem", arity: 4, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Removes elements from a list. Deletes the list if the last element was removed.", handler: cmdLRem},
		{name: "ltrim", arity: 4, flags: flagWrite, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", handler: cmdLTrim},
		{name: "lpos", arity: -3, flags: r, firstKey: 1, lastKey: 1, step: 1, group: g, since: "6.0.6", summary: "Returns the index of matching elements in a list.", handler: cmdLPos},
		{name: "lmove", arity: 5, flags: w, firstKey: 1, lastKey: 2, step: 1, group: g, since: "6.2.0", summary: "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", handler: cmdLMove},
		{name: "rpoplpush", arity: 3, flags: w, firstKey: 1, lastKey: 2, step: 1, group: g, since: "1.2.0", summary: "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", handler: cmdRPopLPush},
	}
}

// Error replies of the list commands, as Redis 7.2 words them.
const (
	msgListPopCount  = "ERR value is out of range, must be positive"
	msgListRankZero  = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	msgListRankRange = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	msgListCountNeg  = "ERR COUNT can't be negative"
	msgListMaxLenNeg = "ERR MAXLEN can't be negative"
)

// pushHandler returns the handler of LPUSH/RPUSH (or, with existing,
// LPUSHX/RPUSHX): it replies with the list's new length.
func pushHandler(end store.ListEnd, existing bool) func(c *Client, args [][]byte) {
	mk := store.NewList
	if existing {
		mk = nil
	}
	return func(c *Client, args [][]byte) {
		n := 0
		err := c.srv.node.UpdateObject(args[1], store.KindList, mk, func(o store.Collection) error {
			if o != nil {
				n = o.(*store.List).Push(end, args[2:]...)
			}
			return nil
		})
		if err != nil {
			c.replyErr(err)
			return
		}
		c.integer(int64(n))
		if n > 0 {
			c.srv.signal(args[1]) // the key may have been created: wake blocked pops
		}
	}
}

// popHandler returns the handler of LPOP/RPOP key [count]: a bulk string
// (or null) without count, an array (or null array) with it.
func popHandler(name string, end store.ListEnd) func(c *Client, args [][]byte) {
	return func(c *Client, args [][]byte) {
		if len(args) > 3 {
			c.wrongArity(name)
			return
		}
		count := int64(-1)
		if len(args) == 3 {
			n, ok := store.ParseInt(args[2])
			if !ok || n < 0 { // Redis words both alike
				c.errorReply(msgListPopCount)
				return
			}
			count = n
		}
		err := c.srv.node.UpdateObject(args[1], store.KindList, nil, func(o store.Collection) error {
			switch {
			case o == nil && count < 0:
				c.null()
			case o == nil:
				c.nullArray()
			case count < 0:
				v, _ := o.(*store.List).PopView(end) // copied under the lock
				c.bulk(v)
			default:
				l := o.(*store.List)
				k := int(min(count, int64(l.Len())))
				c.array(k)
				for range k {
					v, _ := l.PopView(end)
					c.bulk(v)
				}
			}
			return nil
		})
		if err != nil {
			c.replyErr(err)
		}
	}
}

func cmdLLen(c *Client, args [][]byte) {
	n := 0
	err := c.srv.node.ViewObject(args[1], store.KindList, func(o store.Collection) error {
		if o != nil {
			n = o.Len()
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(int64(n))
}

func cmdLRange(c *Client, args [][]byte) {
	start, ok1 := store.ParseInt(args[2])
	stop, ok2 := store.ParseInt(args[3])
	if !ok1 || !ok2 {
		c.errorReply(msgNotInteger)
		return
	}
	err := c.srv.node.ViewObject(args[1], store.KindList, func(o store.Collection) error {
		if o == nil {
			c.array(0)
			return nil
		}
		l := o.(*store.List)
		first, n := l.Bounds(start, stop)
		c.array(n)
		for v := range l.Slice(first, n) {
			c.bulk(v) // copied under the lock
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
	}
}

// cmdLIndex looks the key up before parsing the index, as Redis does: a
// missing key answers null whatever the index.
func cmdLIndex(c *Client, args [][]byte) {
	err := c.srv.node.ViewObject(args[1], store.KindList, func(o store.Collection) error {
		if o == nil {
			c.null()
			return nil
		}
		i, ok := store.ParseInt(args[2])
		if !ok {
			return store.ErrNotInteger
		}
		if v, ok := o.(*store.List).Index(i); ok {
			c.bulk(v)
		} else {
			c.null()
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
	}
}

func cmdLSet(c *Client, args [][]byte) {
	err := c.srv.node.UpdateObject(args[1], store.KindList, nil, func(o store.Collection) error {
		if o == nil {
			return store.ErrNoSuchKey
		}
		i, ok := store.ParseInt(args[2])
		if !ok {
			return store.ErrNotInteger
		}
		return o.(*store.List).Set(i, args[3])
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.ok()
}

func cmdLInsert(c *Client, args [][]byte) {
	var after bool
	switch {
	case is(args[2], "after"):
		after = true
	case is(args[2], "before"):
	default:
		c.errorReply(msgSyntax)
		return
	}
	n := 0
	err := c.srv.node.UpdateObject(args[1], store.KindList, nil, func(o store.Collection) error {
		if o != nil {
			n = o.(*store.List).Insert(args[3], args[4], after)
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(int64(n))
}

func cmdLRem(c *Client, args [][]byte) {
	count, ok := store.ParseInt(args[2])
	if !ok {
		c.errorReply(msgNotInteger)
		return
	}
	n := 0
	err := c.srv.node.UpdateObject(args[1], store.KindList, nil, func(o store.Collection) error {
		if o != nil {
			n = o.(*store.List).Remove(count, args[3])
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(int64(n))
}

func cmdLTrim(c *Client, args [][]byte) {
	start, ok1 := store.ParseInt(args[2])
	stop, ok2 := store.ParseInt(args[3])
	if !ok1 || !ok2 {
		c.errorReply(msgNotInteger)
		return
	}
	err := c.srv.node.UpdateObject(args[1], store.KindList, nil, func(o store.Collection) error {
		if o != nil {
			o.(*store.List).Trim(start, stop)
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.ok()
}

// cmdLPos parses every option before looking the key up, as Redis does.
func cmdLPos(c *Client, args [][]byte) {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for i := 3; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.errorReply(msgSyntax)
			return
		}
		opt := args[i]
		if !is(opt, "rank") && !is(opt, "count") && !is(opt, "maxlen") {
			c.errorReply(msgSyntax)
			return
		}
		// COUNT and MAXLEN word a non-integer as a negative value, as
		// Redis's getPositiveLongFromObjectOrReply does; RANK does not.
		n, ok := store.ParseInt(args[i+1])
		switch {
		case is(opt, "rank"):
			if !ok {
				c.errorReply(msgNotInteger)
				return
			}
			if n == 0 {
				c.errorReply(msgListRankZero)
				return
			}
			if n == -1<<63 {
				c.errorReply(msgListRankRange)
				return
			}
			rank = n
		case is(opt, "count"):
			if !ok || n < 0 {
				c.errorReply(msgListCountNeg)
				return
			}
			count = n
		default:
			if !ok || n < 0 {
				c.errorReply(msgListMaxLenNeg)
				return
			}
			maxlen = n
		}
	}
	err := c.srv.node.ViewObject(args[1], store.KindList, func(o store.Collection) error {
		if o == nil {
			if count >= 0 {
				c.array(0)
			} else {
				c.null()
			}
			return nil
		}
		limit := max(count, 0)
		if count < 0 {
			limit = 1
		}
		pos := o.(*store.List).Pos(args[2], rank, limit, maxlen)
		if count < 0 {
			if len(pos) == 0 {
				c.null()
			} else {
				c.integer(int64(pos[0]))
			}
			return nil
		}
		c.array(len(pos))
		for _, p := range pos {
			c.integer(int64(p))
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
	}
}

// listEnd parses LEFT or RIGHT.
func listEnd(arg []byte) (store.ListEnd, bool) {
	switch {
	case is(arg, "left"):
		return store.ListLeft, true
	case is(arg, "right"):
		return store.ListRight, true
	}
	return 0, false
}

func cmdLMove(c *Client, args [][]byte) {
	from, ok1 := listEnd(args[3])
	to, ok2 := listEnd(args[4])
	if !ok1 || !ok2 {
		c.errorReply(msgSyntax)
		return
	}
	c.move(args[1], args[2], from, to)
}

func cmdRPopLPush(c *Client, args [][]byte) {
	c.move(args[1], args[2], store.ListRight, store.ListLeft)
}

// move runs LMOVE src dst from to and replies with the element moved.
func (c *Client) move(src, dst []byte, from, to store.ListEnd) {
	v, ok, err := c.srv.node.MoveList(src, dst, from, to)
	switch {
	case err != nil:
		c.replyErr(err)
	case !ok:
		c.null()
	default:
		c.bulk(v)
		c.srv.signal(dst) // dst may have been created: wake blocked pops
	}
}
