package resp

import (
	"math"
	"strconv"

	"github.com/tidwall/redcon"

	"github.com/cached/cached/node/glob"
	"github.com/cached/cached/node/store"
)

// The hash commands. Replies that carry field names or values are written
// under the shard lock (inside ViewObject/UpdateObject), because the slices
// a Hash returns are only valid there.

func hashCommands() []*command {
	const g = "hash"
	w := flagWrite | flagDenyOOM
	r := flagReadonly
	return []*command{
		{name: "hset", arity: -4, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Creates or modifies the value of a field in a hash.", handler: cmdHSet},
		{name: "hmset", arity: -4, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Sets the values of multiple fields.", handler: cmdHSet},
		{name: "hsetnx", arity: 4, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Sets the value of a field in a hash only when the field doesn't exist.", handler: cmdHSetNX},
		{name: "hget", arity: 3, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Returns the value of a field in a hash.", handler: cmdHGet},
		{name: "hmget", arity: -3, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Returns the values of all fields in a hash.", handler: cmdHMGet},
		{name: "hdel", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", handler: cmdHDel},
		{name: "hexists", arity: 3, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Determines whether a field exists in a hash.", handler: cmdHExists},
		{name: "hlen", arity: 2, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Returns the number of fields in a hash.", handler: cmdHLen},
		{name: "hstrlen", arity: 3, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "3.2.0", summary: "Returns the length of the value of a field.", handler: cmdHStrLen},
		{name: "hkeys", arity: 2, flags: r, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Returns all fields in a hash.", handler: cmdHKeys},
		{name: "hvals", arity: 2, flags: r, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Returns all values in a hash.", handler: cmdHVals},
		{name: "hgetall", arity: 2, flags: r, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Returns all fields and values in a hash.", handler: cmdHGetAll},
		{name: "hincrby", arity: 4, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", handler: cmdHIncrBy},
		{name: "hincrbyfloat", arity: 4, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.6.0", summary: "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", handler: cmdHIncrByFloat},
		{name: "hrandfield", arity: -2, flags: r, firstKey: 1, lastKey: 1, step: 1, group: g, since: "6.2.0", summary: "Returns one or more random fields from a hash.", handler: cmdHRandField},
		{name: "hscan", arity: -3, flags: r, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.8.0", summary: "Iterates over fields and values of a hash.", handler: cmdHScan},
	}
}

// cmdHSet serves HSET (the number of new fields) and HMSET (OK).
func cmdHSet(c *Client, args [][]byte) {
	hmset := len(args[0]) == 5
	if len(args)%2 != 0 {
		name := "hset"
		if hmset {
			name = "hmset"
		}
		c.wrongArity(name)
		return
	}
	added := 0
	err := c.srv.node.UpdateObject(args[1], store.KindHash, store.NewHash, func(o store.Collection) error {
		h := o.(*store.Hash)
		for i := 2; i < len(args); i += 2 {
			if h.Set(args[i], args[i+1]) {
				added++
			}
		}
		return nil
	})
	switch {
	case err != nil:
		c.replyErr(err)
	case hmset:
		c.ok()
	default:
		c.integer(int64(added))
	}
}

func cmdHSetNX(c *Client, args [][]byte) {
	set := false
	err := c.srv.node.UpdateObject(args[1], store.KindHash, store.NewHash, func(o store.Collection) error {
		h := o.(*store.Hash)
		if _, ok := h.Get(args[2]); !ok {
			set = h.Set(args[2], args[3])
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(boolInt(set))
}

func cmdHGet(c *Client, args [][]byte) {
	found := false
	err := c.srv.node.ViewObject(args[1], store.KindHash, func(o store.Collection) error {
		if o == nil {
			return nil
		}
		if v, ok := o.(*store.Hash).Get(args[2]); ok {
			c.out = redcon.AppendBulk(c.out, v) // copied under the lock
			found = true
		}
		return nil
	})
	switch {
	case err != nil:
		c.replyErr(err)
	case !found:
		c.null()
	}
}

func cmdHMGet(c *Client, args [][]byte) {
	err := c.srv.node.ViewObject(args[1], store.KindHash, func(o store.Collection) error {
		c.array(len(args) - 2)
		for _, f := range args[2:] {
			if o == nil {
				c.null()
				continue
			}
			if v, ok := o.(*store.Hash).Get(f); ok {
				c.bulk(v)
			} else {
				c.null()
			}
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
	}
}

func cmdHDel(c *Client, args [][]byte) {
	deleted := 0
	err := c.srv.node.UpdateObject(args[1], store.KindHash, nil, func(o store.Collection) error {
		if o == nil {
			return nil
		}
		h := o.(*store.Hash)
		for _, f := range args[2:] {
			if h.Del(f) {
				deleted++
			}
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(int64(deleted))
}

func cmdHExists(c *Client, args [][]byte) {
	found := false
	err := c.srv.node.ViewObject(args[1], store.KindHash, func(o store.Collection) error {
		if o != nil {
			_, found = o.(*store.Hash).Get(args[2])
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(boolInt(found))
}

func cmdHLen(c *Client, args [][]byte) {
	n := 0
	err := c.srv.node.ViewObject(args[1], store.KindHash, func(o store.Collection) error {
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

func cmdHStrLen(c *Client, args [][]byte) {
	n := 0
	err := c.srv.node.ViewObject(args[1], store.KindHash, func(o store.Collection) error {
		if o != nil {
			v, _ := o.(*store.Hash).Get(args[2])
			n = len(v)
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(int64(n))
}

// hashDump writes the fields (keys), the values (vals) or both of the hash
// at args[1]: HKEYS, HVALS and HGETALL (a map in RESP3).
func hashDump(c *Client, args [][]byte, keys, vals bool) {
	err := c.srv.node.ViewObject(args[1], store.KindHash, func(o store.Collection) error {
		n := 0
		if o != nil {
			n = o.Len()
		}
		if keys && vals {
			c.mapHeader(n)
		} else {
			c.array(n)
		}
		if o == nil {
			return nil
		}
		o.(*store.Hash).All(func(f string, v []byte) bool {
			if keys {
				c.bulkString(f)
			}
			if vals {
				c.bulk(v)
			}
			return true
		})
		return nil
	})
	if err != nil {
		c.replyErr(err)
	}
}

func cmdHKeys(c *Client, args [][]byte)   { hashDump(c, args, true, false) }
func cmdHVals(c *Client, args [][]byte)   { hashDump(c, args, false, true) }
func cmdHGetAll(c *Client, args [][]byte) { hashDump(c, args, true, true) }

func cmdHIncrBy(c *Client, args [][]byte) {
	// The increment is checked before the key, as Redis does.
	delta, ok := store.ParseInt(args[3])
	if !ok {
		c.errorReply(msgNotInteger)
		return
	}
	var sum int64
	err := c.srv.node.UpdateObject(args[1], store.KindHash, store.NewHash, func(o store.Collection) error {
		var err error
		sum, err = o.(*store.Hash).IncrBy(args[2], delta)
		return err
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(sum)
}

func cmdHIncrByFloat(c *Client, args [][]byte) {
	inc, err := store.ParseHashFloatIncr(args[3])
	if err != nil {
		c.replyErr(err)
		return
	}
	err = c.srv.node.UpdateObject(args[1], store.KindHash, store.NewHash, func(o store.Collection) error {
		v, err := o.(*store.Hash).IncrByFloat(args[2], inc)
		if err == nil {
			c.bulk(v) // copied under the lock
		}
		return err
	})
	if err != nil {
		c.replyErr(err)
	}
}

// cmdHRandField serves HRANDFIELD key [count [WITHVALUES]]. The checks come
// in Redis's order: count, options, key type, then the count's value.
func cmdHRandField(c *Client, args [][]byte) {
	if len(args) == 2 {
		err := c.srv.node.ViewObject(args[1], store.KindHash, func(o store.Collection) error {
			if o == nil {
				c.null()
				return nil
			}
			f, _ := o.(*store.Hash).Random()
			c.bulkString(f)
			return nil
		})
		if err != nil {
			c.replyErr(err)
		}
		return
	}
	count, ok := store.ParseInt(args[2])
	switch {
	case !ok:
		c.errorReply(msgNotInteger)
		return
	case count == math.MinInt64:
		c.errorReply("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	case len(args) > 4 || (len(args) == 4 && !is(args[3], "withvalues")):
		c.errorReply(msgSyntax)
		return
	}
	withValues := len(args) == 4
	if withValues && (count < -math.MaxInt64/2 || count > math.MaxInt64/2) {
		c.errorReply("ERR value is out of range")
		return
	}
	repeat := count < 0
	n := int(min(count, math.MaxInt)) // int is 64 bits where we build
	if repeat {
		n = int(-count)
	}
	err := c.srv.node.ViewObject(args[1], store.KindHash, func(o store.Collection) error {
		if o == nil {
			c.array(0)
			return nil
		}
		h := o.(*store.Hash)
		size := h.SampleLen(n, repeat)
		if withValues && !c.resp3() {
			c.array(2 * size)
		} else {
			c.array(size)
		}
		h.Sample(n, repeat, func(f string, v []byte) {
			switch {
			case !withValues:
				c.bulkString(f)
			case c.resp3():
				c.array(2)
				fallthrough
			default:
				c.bulkString(f)
				c.bulk(v)
			}
		})
		return nil
	})
	if err != nil {
		c.replyErr(err)
	}
}

// cmdHScan serves HSCAN key cursor [MATCH pattern] [COUNT count]. As in
// Redis, the cursor is checked first, then the key (a missing key is an
// empty scan whatever the options), then the options. A small hash is
// returned whole with cursor 0, as Redis does for a listpack; see
// store.Hash.Scan for larger ones.
func cmdHScan(c *Client, args [][]byte) {
	cursor, err := strconv.ParseUint(string(args[2]), 10, 64)
	if err != nil {
		c.errorReply(msgCursor)
		return
	}
	err = c.srv.node.ViewObject(args[1], store.KindHash, func(o store.Collection) error {
		if o == nil {
			c.array(2)
			c.bulkString("0")
			c.array(0)
			return nil
		}
		match, count := "", 10
		for i := 3; i < len(args); i += 2 {
			if i+1 >= len(args) {
				c.errorReply(msgSyntax)
				return nil
			}
			switch {
			case is(args[i], "match"):
				match = string(args[i+1])
				if match == "*" {
					match = ""
				}
			case is(args[i], "count"):
				n, ok := store.ParseInt(args[i+1])
				if !ok {
					c.errorReply(msgNotInteger)
					return nil
				}
				if n < 1 {
					c.errorReply(msgSyntax)
					return nil
				}
				count = int(min(n, math.MaxInt))
			default:
				c.errorReply(msgSyntax)
				return nil
			}
		}
		// The reply's length is known only after matching: write the
		// pairs, then move them behind the header.
		start := len(c.out)
		pairs := 0
		next := o.(*store.Hash).Scan(cursor, count, func(f string, v []byte) {
			if match != "" && !glob.Match(match, f) {
				return
			}
			c.bulkString(f)
			c.bulk(v)
			pairs++
		})
		body := append([]byte(nil), c.out[start:]...)
		c.out = c.out[:start]
		c.array(2)
		c.bulkString(strconv.FormatUint(next, 10))
		c.array(2 * pairs)
		c.out = append(c.out, body...)
		return nil
	})
	if err != nil {
		c.replyErr(err)
	}
}
