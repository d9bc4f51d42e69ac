package client

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Get returns the value of key, or ErrNotFound. With a near cache, it is
// answered from it when it holds key; the returned slice is the caller's.
func (c *Client) Get(ctx context.Context, key string) ([]byte, error) {
	if c.near != nil {
		return c.nearGet(ctx, key)
	}
	start := time.Now()
	var val []byte
	n, err := c.do(ctx, "get", key, true, func(ctx context.Context, rc *redis.Client) error {
		var err error
		val, err = rc.Get(ctx, key).Bytes()
		return err
	})
	if errors.Is(err, redis.Nil) {
		err = ErrNotFound
	}
	c.observe("get", 1, n, start, err)
	if err != nil {
		return nil, err
	}
	return val, nil
}

// Set stores value under key; ttl > 0 gives it a time to live (rounded
// down to milliseconds), 0 none.
func (c *Client) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	c.nearForget(key)
	defer c.nearForget(key)
	start := time.Now()
	n, err := c.do(ctx, "set", key, true, func(ctx context.Context, rc *redis.Client) error {
		return rc.Set(ctx, key, value, ttl).Err()
	})
	c.observe("set", 1, n, start, err)
	return err
}

// SetNX stores value under key only if key does not exist, and reports
// whether it did. It is not retried once sent: a retry of a SetNX that
// succeeded would report false.
func (c *Client) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	c.nearForget(key)
	defer c.nearForget(key)
	start := time.Now()
	var set bool
	n, err := c.do(ctx, "setnx", key, false, func(ctx context.Context, rc *redis.Client) error {
		res, err := rc.SetArgs(ctx, key, value, redis.SetArgs{Mode: "NX", TTL: ttl}).Result()
		set = err == nil && res == "OK"
		if errors.Is(err, redis.Nil) {
			return nil
		}
		return err
	})
	c.observe("setnx", 1, n, start, err)
	return set, err
}

// Incr adds 1 to the integer at key (0 when absent) and returns the result.
func (c *Client) Incr(ctx context.Context, key string) (int64, error) {
	return c.IncrBy(ctx, key, 1)
}

// IncrBy adds delta to the integer at key (0 when absent) and returns the
// result. It is not retried once sent.
func (c *Client) IncrBy(ctx context.Context, key string, delta int64) (int64, error) {
	c.nearForget(key)
	defer c.nearForget(key)
	start := time.Now()
	var v int64
	n, err := c.do(ctx, "incr", key, false, func(ctx context.Context, rc *redis.Client) error {
		var err error
		v, err = rc.IncrBy(ctx, key, delta).Result()
		return err
	})
	c.observe("incr", 1, n, start, err)
	return v, err
}

// Expire sets key's time to live (ttl > 0) and reports whether key exists.
func (c *Client) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	c.nearForget(key)
	defer c.nearForget(key)
	start := time.Now()
	var ok bool
	n, err := c.do(ctx, "expire", key, true, func(ctx context.Context, rc *redis.Client) error {
		var err error
		ok, err = rc.PExpire(ctx, key, ttl).Result()
		return err
	})
	c.observe("expire", 1, n, start, err)
	return ok, err
}

// group is the keys of a multi-key call that go to one node, with their
// positions in the call.
type keyGroup struct {
	keys  []string
	index []int
}

// groupByNode splits keys by their owner (one group on a single node).
func (c *Client) groupByNode(ctx context.Context, keys []string) []*keyGroup {
	if c.single != nil || len(keys) <= 1 {
		g := &keyGroup{keys: keys, index: make([]int, len(keys))}
		for i := range keys {
			g.index[i] = i
		}
		return []*keyGroup{g}
	}
	by := map[string]*keyGroup{}
	var out []*keyGroup
	for i, k := range keys {
		addr := ""
		if rc, err := c.cluster.MasterForKey(ctx, k); err == nil {
			addr = rc.Options().Addr
		}
		g := by[addr]
		if g == nil {
			g = &keyGroup{}
			by[addr] = g
			out = append(out, g)
		}
		g.keys = append(g.keys, k)
		g.index = append(g.index, i)
	}
	return out
}

// eachGroup runs fn for every group concurrently, each through do with the
// group's first key for routing (the other node forwards any key it does
// not own), and returns the first error and the most attempts.
func (c *Client) eachGroup(ctx context.Context, op string, groups []*keyGroup, fn func(ctx context.Context, rc *redis.Client, g *keyGroup) error) (int, error) {
	errs := make([]error, len(groups))
	tries := make([]int, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tries[i], errs[i] = c.do(ctx, op, g.keys[0], true, func(ctx context.Context, rc *redis.Client) error {
				return fn(ctx, rc, g)
			})
		}()
	}
	wg.Wait()
	most := 0
	for _, n := range tries {
		most = max(most, n)
	}
	return most, errors.Join(errs...)
}

// Delete removes keys and returns how many existed. Keys may live on
// different nodes.
func (c *Client) Delete(ctx context.Context, keys ...string) (int64, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	c.nearForget(keys...)
	defer c.nearForget(keys...)
	start := time.Now()
	groups := c.groupByNode(ctx, keys)
	counts := make([]int64, len(groups))
	pos := map[*keyGroup]int{}
	for i, g := range groups {
		pos[g] = i
	}
	n, err := c.eachGroup(ctx, "delete", groups, func(ctx context.Context, rc *redis.Client, g *keyGroup) error {
		v, err := rc.Del(ctx, g.keys...).Result()
		counts[pos[g]] = v
		return err
	})
	c.observe("delete", len(keys), n, start, err)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, v := range counts {
		total += v
	}
	return total, nil
}

// MGet returns the values of keys in order: nil for a missing key (an
// empty value is a non-nil empty slice). Keys may live on different
// nodes: one MGET per node, in parallel.
func (c *Client) MGet(ctx context.Context, keys ...string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	start := time.Now()
	n, err := c.eachGroup(ctx, "mget", c.groupByNode(ctx, keys), func(ctx context.Context, rc *redis.Client, g *keyGroup) error {
		vals, err := rc.MGet(ctx, g.keys...).Result()
		if err != nil {
			return err
		}
		for j, v := range vals {
			if s, ok := v.(string); ok {
				out[g.index[j]] = []byte(s)
			}
		}
		return nil
	})
	c.observe("mget", len(keys), n, start, err)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MSet stores every item, with time to live ttl (0: none). Keys may live
// on different nodes: one pipeline per node, in parallel. It is not
// atomic: on an error some items may have been stored.
func (c *Client) MSet(ctx context.Context, items map[string][]byte, ttl time.Duration) error {
	if len(items) == 0 {
		return nil
	}
	start := time.Now()
	keys := make([]string, 0, len(items))
	for k := range items {
		keys = append(keys, k)
	}
	c.nearForget(keys...)
	defer c.nearForget(keys...)
	n, err := c.eachGroup(ctx, "mset", c.groupByNode(ctx, keys), func(ctx context.Context, rc *redis.Client, g *keyGroup) error {
		_, err := rc.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range g.keys {
				p.Set(ctx, k, items[k], ttl)
			}
			return nil
		})
		return err
	})
	c.observe("mset", len(keys), n, start, err)
	return err
}
