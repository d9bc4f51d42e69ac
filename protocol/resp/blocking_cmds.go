package resp

import (
	"math"
	"strconv"
	"time"

	"github.com/cached/cached/node/store"
)

func blockingCommands() []*command {
	f := flagWrite | flagNoScript
	return []*command{
		{name: "blpop", arity: -3, flags: f, firstKey: 1, lastKey: -2, step: 1, group: "list", since: "2.0.0", summary: "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", handler: cmdBPop},
		{name: "brpop", arity: -3, flags: f, firstKey: 1, lastKey: -2, step: 1, group: "list", since: "2.0.0", summary: "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", handler: cmdBPop},
		{name: "blmove", arity: 6, flags: f | flagDenyOOM, firstKey: 1, lastKey: 2, step: 1, group: "list", since: "6.2.0", summary: "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", handler: cmdBLMove},
		{name: "brpoplpush", arity: 4, flags: f | flagDenyOOM, firstKey: 1, lastKey: 2, step: 1, group: "list", since: "2.2.0", summary: "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", handler: cmdBLMove},
		{name: "bzpopmin", arity: -3, flags: f | flagFast, firstKey: 1, lastKey: -2, step: 1, group: "sortedset", since: "5.0.0", summary: "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", handler: cmdBZPop},
		{name: "bzpopmax", arity: -3, flags: f | flagFast, firstKey: 1, lastKey: -2, step: 1, group: "sortedset", since: "5.0.0", summary: "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", handler: cmdBZPop},
	}
}

// parseTimeout parses a blocking command's timeout in seconds (a float, as
// Redis 6+); 0 means forever.
func (c *Client) parseTimeout(arg []byte) (time.Duration, bool) {
	f, err := strconv.ParseFloat(string(arg), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		c.errorReply("ERR timeout is not a float or out of range")
		return 0, false
	}
	if f < 0 {
		c.errorReply("ERR timeout is negative")
		return 0, false
	}
	if f > float64(math.MaxInt64/int64(time.Second)) {
		c.errorReply("ERR timeout is out of range")
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// cmdBPop serves BLPOP and BRPOP: pop from the first non-empty list.
func cmdBPop(c *Client, args [][]byte) {
	timeout, ok := c.parseTimeout(args[len(args)-1])
	if !ok {
		return
	}
	end := store.ListLeft
	if args[0][1]|0x20 == 'r' {
		end = store.ListRight
	}
	keys := cloneArgs(args[1 : len(args)-1]) // a waiter outlives the read buffer
	c.block(keys, timeout, func(r *Client) bool {
		for _, k := range keys {
			vals, err := r.srv.node.PopList(k, end, 1)
			if err != nil {
				r.replyErr(err)
				return true
			}
			if len(vals) > 0 {
				r.array(2)
				r.bulk(k)
				r.bulk(vals[0])
				return true
			}
		}
		return false
	})
}

// cmdBLMove serves BLMOVE and BRPOPLPUSH.
func cmdBLMove(c *Client, args [][]byte) {
	from, to := store.ListRight, store.ListLeft
	if len(args) == 6 {
		var ok bool
		if from, ok = listEnd(args[3]); !ok {
			c.errorReply(msgSyntax)
			return
		}
		if to, ok = listEnd(args[4]); !ok {
			c.errorReply(msgSyntax)
			return
		}
	}
	timeout, ok := c.parseTimeout(args[len(args)-1])
	if !ok {
		return
	}
	keys := cloneArgs(args[1:3])
	src, dst := keys[0], keys[1]
	c.block(keys[:1], timeout, func(r *Client) bool {
		v, moved, err := r.srv.node.MoveList(src, dst, from, to)
		switch {
		case err != nil:
			r.replyErr(err)
		case !moved:
			return false
		default:
			r.bulk(v)
			r.resignal = append(r.resignal, dst) // dst may serve other waiters now
		}
		return true
	})
}

// cmdBZPop serves BZPOPMIN and BZPOPMAX.
func cmdBZPop(c *Client, args [][]byte) {
	timeout, ok := c.parseTimeout(args[len(args)-1])
	if !ok {
		return
	}
	max := args[0][len(args[0])-1]|0x20 == 'x'
	keys := cloneArgs(args[1 : len(args)-1])
	c.block(keys, timeout, func(r *Client) bool {
		for _, k := range keys {
			var popped []store.ScoredMember
			err := r.srv.node.UpdateObject(k, store.KindZSet, nil, func(o store.Collection) error {
				if o != nil {
					popped = o.(*store.ZSet).Pop(1, max)
				}
				return nil
			})
			if err != nil {
				r.replyErr(err)
				return true
			}
			if len(popped) > 0 {
				r.array(3)
				r.bulk(k)
				r.bulkString(popped[0].Member)
				r.double(popped[0].Score)
				return true
			}
		}
		return false
	})
}
