package resp

import (
	"github.com/tidwall/redcon"

	"github.com/cached/cached/node/store"
)

func hashCommands() []*command {
	const g = "hash"
	w := flagWrite | flagDenyOOM
	r := flagReadonly
	return []*command{
		{name: "hset", arity: -4, flags: w | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Creates or modifies the value of a field in a hash.", handler: cmdHSet},
		{name: "hget", arity: 3, flags: r | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Returns the value of a field in a hash.", handler: cmdHGet},
	}
}

func cmdHSet(c *Client, args [][]byte) {
	if len(args)%2 != 0 {
		c.wrongArity("hset")
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
	if err != nil {
		c.replyErr(err)
		return
	}
	c.integer(int64(added))
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
