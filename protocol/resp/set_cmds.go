package resp

import (
	"math"
	"strconv"

	"github.com/cached/cached/node/glob"
	"github.com/cached/cached/node/store"
)

// Set command errors, with Redis 7.2's exact strings.
const (
	msgSPopCount         = "ERR value is out of range, must be positive"
	msgSRandCountRange   = "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
	msgSetNumKeys        = "ERR numkeys should be greater than 0"
	msgSetNumKeysArgs    = "ERR Number of keys can't be greater than number of args"
	msgSetLimitNegative  = "ERR LIMIT can't be negative"
	msgSRandCountTooLong = "ERR value is out of range, count must be at least -16777216"
)

// maxRandomRepeats bounds SRANDMEMBER's negative count. Redis streams such a
// reply and only stops at the client's output limit; we build replies in
// memory, and the network must not decide how much we allocate.
const maxRandomRepeats = 1 << 24

// setCommands returns the set commands.
func setCommands() []*command {
	const g = "set"
	w := flagWrite
	r := flagReadonly
	return []*command{
		{name: "sadd", arity: -3, flags: w | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Adds one or more members to a set. Creates the key if it doesn't exist.", handler: cmdSAdd},
		{name: "srem", arity: -3, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Removes one or more members from a set. Deletes the set if the last member was removed.", handler: cmdSRem},
		{name: "sismember", arity: 3, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Determines whether a member belongs to a set.", handler: cmdSIsMember},
		{name: "smismember", arity: -3, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "6.2.0", summary: "Determines whether multiple members belong to a set.", handler: cmdSMIsMember},
		{name: "smembers", arity: 2, flags: r, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Returns all members of a set.", handler: cmdSMembers},
		{name: "scard", arity: 2, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Returns the number of members in a set.", handler: cmdSCard},
		{name: "spop", arity: -2, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", handler: cmdSPop},
		{name: "srandmember", arity: -2, flags: r, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Get one or multiple random members from a set", handler: cmdSRandMember},
		{name: "smove", arity: 4, flags: w | flagFast, firstKey: 1, lastKey: 2, step: 1, group: g, since: "1.0.0", summary: "Moves a member from one set to another.", handler: cmdSMove},
		{name: "sinter", arity: -2, flags: r, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Returns the intersect of multiple sets.", handler: cmdSetAlgebra},
		{name: "sunion", arity: -2, flags: r, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Returns the union of multiple sets.", handler: cmdSetAlgebra},
		{name: "sdiff", arity: -2, flags: r, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Returns the difference of multiple sets.", handler: cmdSetAlgebra},
		{name: "sinterstore", arity: -3, flags: w | flagDenyOOM, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Stores the intersect of multiple sets in a key.", handler: cmdSetAlgebra},
		{name: "sunionstore", arity: -3, flags: w | flagDenyOOM, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Stores the union of multiple sets in a key.", handler: cmdSetAlgebra},
		{name: "sdiffstore", arity: -3, flags: w | flagDenyOOM, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Stores the difference of multiple sets in a key.", handler: cmdSetAlgebra},
		// Redis reports SINTERCARD's keys as movable (0 0 0): their count
		// is an argument.
		{name: "sintercard", arity: -3, flags: r, group: g, since: "7.0.0", summary: "Returns the number of members of the intersect of multiple sets.", handler: cmdSInterCard},
		{name: "sscan", arity: -3, flags: r, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.8.0", summary: "Iterates over members of a set.", handler: cmdSScan},
	}
}

// asSet returns o as a set; o is nil or a *store.Set.
func asSet(o store.Collection) *store.Set {
	if o == nil {
		return nil
	}
	return o.(*store.Set)
}

func cmdSAdd(c *Client, args [][]byte) {
	members := args[2:]
	mk := func() store.Collection { return store.NewSetHint(members[0], len(members)) }
	added := 0
	err := c.srv.node.UpdateObject(args[1], store.KindSet, mk, func(o store.Collection) error {
		s := o.(*store.Set)
		s.Grow(len(members))
		for _, m := range members {
			if s.Add(m) {
				added++
			}
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(int64(added))
}

func cmdSRem(c *Client, args [][]byte) {
	removed := 0
	err := c.srv.node.UpdateObject(args[1], store.KindSet, nil, func(o store.Collection) error {
		s := asSet(o)
		if s == nil {
			return nil
		}
		for _, m := range args[2:] {
			if s.Remove(m) {
				removed++
			}
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(int64(removed))
}

func cmdSIsMember(c *Client, args [][]byte) {
	found := false
	err := c.srv.node.ViewObject(args[1], store.KindSet, func(o store.Collection) error {
		found = o != nil && o.(*store.Set).Has(args[2])
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(boolInt(found))
}

func cmdSMIsMember(c *Client, args [][]byte) {
	err := c.srv.node.ViewObject(args[1], store.KindSet, func(o store.Collection) error {
		s := asSet(o)
		c.array(len(args) - 2)
		for _, m := range args[2:] {
			c.integer(boolInt(s != nil && s.Has(m)))
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
	}
}

func cmdSMembers(c *Client, args [][]byte) {
	err := c.srv.node.ViewObject(args[1], store.KindSet, func(o store.Collection) error {
		c.setMembers(asSet(o))
		return nil
	})
	if err != nil {
		c.replyErr(err)
	}
}

// setMembers writes every member of s (nil is empty) as a set reply.
func (c *Client) setMembers(s *store.Set) {
	if s == nil {
		c.setHeader(0)
		return
	}
	c.setHeader(s.Len())
	s.All(func(m string) bool {
		c.bulkString(m)
		return true
	})
}

// setStrings writes ms as a set reply.
func (c *Client) setStrings(ms []string) {
	c.setHeader(len(ms))
	for _, m := range ms {
		c.bulkString(m)
	}
}

func cmdSCard(c *Client, args [][]byte) {
	n := 0
	err := c.srv.node.ViewObject(args[1], store.KindSet, func(o store.Collection) error {
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

func cmdSPop(c *Client, args [][]byte) {
	switch len(args) {
	case 2:
		var popped string
		found := false
		err := c.srv.node.UpdateObject(args[1], store.KindSet, nil, func(o store.Collection) error {
			if o != nil {
				popped, found = o.(*store.Set).Pop(), true
			}
			return nil
		})
		switch {
		case err != nil:
			c.replyErr(err)
		case !found:
			c.null()
		default:
			c.bulkString(popped)
		}
		return
	case 3:
	default:
		c.errorReply(msgSyntax)
		return
	}
	count, ok := store.ParseInt(args[2])
	if !ok || count < 0 {
		c.errorReply(msgSPopCount)
		return
	}
	var popped []string
	err := c.srv.node.UpdateObject(args[1], store.KindSet, nil, func(o store.Collection) error {
		s := asSet(o)
		if s == nil {
			return nil
		}
		if count >= int64(s.Len()) {
			popped = s.PopAll()
			return nil
		}
		n := int(count)
		popped = make([]string, 0, n)
		for range n {
			popped = append(popped, s.Pop())
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.setStrings(popped)
}

func cmdSRandMember(c *Client, args [][]byte) {
	switch len(args) {
	case 2:
		err := c.srv.node.ViewObject(args[1], store.KindSet, func(o store.Collection) error {
			if o == nil {
				c.null()
				return nil
			}
			c.bulkString(o.(*store.Set).Random())
			return nil
		})
		if err != nil {
			c.replyErr(err)
		}
		return
	case 3:
	default:
		c.errorReply(msgSyntax)
		return
	}
	count, ok := store.ParseInt(args[2])
	switch {
	case !ok:
		c.errorReply(msgNotInteger)
		return
	case count == math.MinInt64:
		c.errorReply(msgSRandCountRange)
		return
	case count < -maxRandomRepeats:
		c.errorReply(msgSRandCountTooLong)
		return
	}
	err := c.srv.node.ViewObject(args[1], store.KindSet, func(o store.Collection) error {
		s := asSet(o)
		switch {
		case s == nil || count == 0:
			c.array(0)
		case count < 0:
			// Repeats allowed: -count members, each drawn from the whole set.
			c.array(int(-count))
			for range -count {
				c.bulkString(s.Random())
			}
		default:
			n := int(min(count, int64(s.Len())))
			c.array(n)
			s.RandomDistinct(n, func(m string) bool {
				c.bulkString(m)
				return true
			})
		}
		return nil
	})
	if err != nil {
		c.replyErr(err)
	}
}

func cmdSMove(c *Client, args [][]byte) {
	src, dst, member := args[1], args[2], args[3]
	moved := false
	err := c.srv.node.Multi([][]byte{src, dst}, func(tx *store.Tx) error {
		so, err := tx.Get(src, store.KindSet)
		if so == nil && err == nil {
			return nil // a missing source is 0, whatever dst holds
		}
		if err != nil {
			return err
		}
		do, err := tx.Get(dst, store.KindSet)
		if err != nil {
			return err
		}
		s := so.(*store.Set)
		if string(src) == string(dst) {
			moved = s.Has(member)
			return nil
		}
		if !s.Remove(member) {
			return nil
		}
		moved = true
		tx.Put(src, s) // re-accounted, or deleted when emptied
		d := asSet(do)
		if d == nil {
			d = store.NewSetHint(member, 1)
		}
		d.Add(member)
		tx.Put(dst, d)
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(boolInt(moved))
}

// loadSets returns the sets at keys, nil for missing keys; any other kind
// is ErrWrongType.
func loadSets(tx *store.Tx, keys [][]byte) ([]*store.Set, error) {
	sets := make([]*store.Set, len(keys))
	for i, k := range keys {
		o, err := tx.Get(k, store.KindSet)
		if err != nil {
			return nil, err
		}
		sets[i] = asSet(o)
	}
	return sets, nil
}

// cmdSetAlgebra serves SINTER, SUNION, SDIFF and their STORE forms, which
// store the result at their first key, replacing any value (and deadline);
// an empty result deletes it. All keys are locked together, so the
// destination may be one of the sources.
func cmdSetAlgebra(c *Client, args [][]byte) {
	name := args[0]
	storing := len(name) > 6 // "sdiffstore", "sinterstore", "sunionstore"
	op := name[1] | 0x20     // 'i', 'u' or 'd'
	keys := args[1:]
	var members []string
	err := c.srv.node.Multi(keys, func(tx *store.Tx) error {
		srcs := keys
		if storing {
			srcs = keys[1:]
		}
		sets, err := loadSets(tx, srcs)
		if err != nil {
			return err
		}
		switch op {
		case 'i':
			members = store.SetInter(sets, 0)
		case 'u':
			members = store.SetUnion(sets)
		default:
			members = store.SetDiff(sets)
		}
		if storing {
			tx.Put(keys[0], store.NewSetOf(members))
		}
		return nil
	})
	switch {
	case err != nil:
		c.replyErr(err)
	case storing:
		c.integer(int64(len(members)))
	default:
		c.setStrings(members)
	}
}

func cmdSInterCard(c *Client, args [][]byte) {
	numKeys, ok := store.ParseInt(args[1])
	if !ok || numKeys < 1 {
		c.errorReply(msgSetNumKeys)
		return
	}
	if numKeys > int64(len(args)-2) {
		c.errorReply(msgSetNumKeysArgs)
		return
	}
	keys := args[2 : 2+numKeys]
	limit := int64(0)
	for i := 2 + int(numKeys); i < len(args); i += 2 {
		if !is(args[i], "limit") || i+1 >= len(args) {
			c.errorReply(msgSyntax)
			return
		}
		n, ok := store.ParseInt(args[i+1])
		if !ok || n < 0 {
			c.errorReply(msgSetLimitNegative)
			return
		}
		limit = n
	}
	var n int
	err := c.srv.node.Multi(keys, func(tx *store.Tx) error {
		sets, err := loadSets(tx, keys)
		if err != nil {
			return err
		}
		n = len(store.SetInter(sets, int(min(limit, math.MaxInt))))
		return nil
	})
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(int64(n))
}

// cmdSScan serves SSCAN. Like Redis with a small (intset or listpack) set,
// it returns every matching member in one reply with cursor 0, whatever
// the set's size and the cursor given: SCAN's guarantees hold, COUNT is
// only a hint. As in Redis, options are checked after the key's type, and
// a missing key answers an empty scan without checking them.
func cmdSScan(c *Client, args [][]byte) {
	if _, err := strconv.ParseUint(string(args[2]), 10, 64); err != nil {
		c.errorReply(msgCursor)
		return
	}
	pattern, optErr := "", ""
	for i := 3; i < len(args) && optErr == ""; i += 2 {
		switch {
		case i+1 >= len(args):
			optErr = msgSyntax
		case is(args[i], "match"):
			pattern = string(args[i+1])
			if pattern == "*" {
				pattern = ""
			}
		case is(args[i], "count"):
			n, ok := store.ParseInt(args[i+1])
			switch {
			case !ok:
				optErr = msgNotInteger
			case n < 1:
				optErr = msgSyntax
			}
		default:
			optErr = msgSyntax
		}
	}
	err := c.srv.node.ViewObject(args[1], store.KindSet, func(o store.Collection) error {
		s := asSet(o)
		if s != nil && optErr != "" {
			c.errorReply(optErr)
			return nil
		}
		c.array(2)
		c.bulkString("0")
		if s == nil {
			c.array(0)
			return nil
		}
		if pattern == "" {
			c.array(s.Len())
			s.All(func(m string) bool {
				c.bulkString(m)
				return true
			})
			return nil
		}
		var matched []string
		s.All(func(m string) bool {
			if glob.Match(pattern, m) {
				matched = append(matched, m)
			}
			return true
		})
		c.stringArray(matched)
		return nil
	})
	if err != nil {
		c.replyErr(err)
	}
}
