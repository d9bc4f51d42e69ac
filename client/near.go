package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// tracker holds the tracking connection to one node.
type tracker struct {
	mu     sync.Mutex // serialises dials to the node; guards the fields below
	conn   *trackConn
	closed bool // the client was closed
}

// trackConn returns the live tracking connection to addr, dialing one when
// there is none (bounded by Config.DialTimeout).
func (c *Client) trackConn(ctx context.Context, addr string) (*trackConn, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	t := c.trackers[addr]
	if t == nil {
		t = &tracker{}
		c.trackers[addr] = t
	}
	c.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.closed:
		return nil, ErrClosed
	case t.conn != nil && t.conn.alive():
		return t.conn, nil
	case t.conn != nil:
		t.conn.close() // failed: reap its reader
		t.conn = nil
	}
	dctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()
	tc, err := dialTracking(dctx, c.cfg.Dialer, addr, c.cfg.Username, c.cfg.Password, c.near)
	if err != nil {
		return nil, err
	}
	t.conn = tc
	return tc, nil
}

// liveTrackConns returns the tracking connections that have not failed.
func (c *Client) liveTrackConns() []*trackConn {
	c.mu.Lock()
	ts := make([]*tracker, 0, len(c.trackers))
	for _, t := range c.trackers {
		ts = append(ts, t)
	}
	c.mu.Unlock()
	var out []*trackConn
	for _, t := range ts {
		t.mu.Lock()
		if t.conn != nil && t.conn.alive() {
			out = append(out, t.conn)
		}
		t.mu.Unlock()
	}
	return out
}

// closeTrackers closes every tracking connection; called by Close.
func (c *Client) closeTrackers() {
	c.mu.Lock()
	ts := c.trackers
	c.trackers = map[string]*tracker{}
	c.mu.Unlock()
	for _, t := range ts {
		t.mu.Lock()
		t.closed = true
		if t.conn != nil {
			t.conn.close()
		}
		t.mu.Unlock()
	}
}

// nearGet is Get through the near cache.
func (c *Client) nearGet(ctx context.Context, key string) ([]byte, error) {
	start := time.Now()
	if val, found, ok := c.near.lookup(key); ok {
		if !found {
			c.observe("get", 1, 0, start, ErrNotFound)
			return nil, ErrNotFound
		}
		c.observe("get", 1, 0, start, nil)
		return bytes.Clone(val), nil
	}
	var val []byte
	var found bool
	n, err := c.do(ctx, "get", key, true, func(ctx context.Context, rc *redis.Client) error {
		addr := rc.Options().Addr
		if !c.ownedBy(ctx, key, addr) {
			// Another node forwards this read to the owner, and tells the
			// owner to track it for us: its request may reach the owner
			// after the read, so a write in between may never be
			// invalidated. Read without caching.
			v, err := rc.Get(ctx, key).Bytes()
			val, found = v, err == nil
			if errors.Is(err, redis.Nil) {
				err = nil
			}
			return err
		}
		tc, err := c.trackConn(ctx, addr)
		if err != nil {
			return err
		}
		// The placeholder comes before the read is sent: an invalidation
		// arriving from now on removes it, and the reply is not cached.
		token := c.near.reserve(key)
		replies, err := tc.do(ctx, []string{"GET", key}, []string{"PTTL", key})
		if err == nil {
			err = replies[0].err()
		}
		if err != nil {
			c.near.cancel(key, token)
			return err
		}
		val, found = replies[0].str, !replies[0].null
		ttl, ok := keyTTL(replies[1], found)
		if !ok {
			c.near.cancel(key, token)
			return nil
		}
		c.near.fill(key, token, val, found, ttl)
		return nil
	})
	if err == nil && !found {
		err = ErrNotFound
	}
	c.observe("get", 1, n, start, err)
	if err != nil {
		return nil, err
	}
	if val == nil {
		val = []byte{}
	}
	return bytes.Clone(val), nil
}

// ownedBy reports whether addr is key's primary in the client's slot map.
func (c *Client) ownedBy(ctx context.Context, key, addr string) bool {
	if c.single != nil {
		return true
	}
	owner, err := c.cluster.MasterForKey(ctx, key)
	return err == nil && owner.Options().Addr == addr
}

// keyTTL reads a PTTL reply that followed a GET: the time to live (-1:
// none), or ok false when the two disagree (the key changed between them;
// its invalidation is on its way) or PTTL failed.
func keyTTL(v value, found bool) (time.Duration, bool) {
	if v.kind != ':' {
		return 0, false
	}
	switch {
	case v.num == -2:
		return 0, !found
	case v.num == -1:
		return -1, found
	case v.num >= 0:
		return time.Duration(v.num) * time.Millisecond, found
	}
	return 0, false
}

// nearForget drops keys the client is writing from its near cache: called
// before a write is sent and after it is acknowledged, so that a read in
// flight across the write cannot cache what it read before it.
func (c *Client) nearForget(keys ...string) {
	if c.near != nil {
		c.near.forget(keys...)
	}
}

// NearCacheStats returns the near cache's counters and size (zero when
// Config.NearCache is nil).
func (c *Client) NearCacheStats() NearCacheStats {
	if c.near == nil {
		return NearCacheStats{}
	}
	return c.near.snapshot()
}

// nearLoop checks, every Config.Refresh until Close, that the tracking
// connections still answer (one that does not is closed, which flushes
// the near cache: its invalidations may be lost) and, in a cluster, that
// the slot map has not changed: a slot that moved leaves the old owner's
// tracking behind, so the near cache is flushed.
func (c *Client) nearLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.Refresh)
	defer t.Stop()
	var slots string
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		for _, tc := range c.liveTrackConns() {
			ctx, cancel := context.WithTimeout(context.Background(), c.cfg.DialTimeout)
			if _, err := tc.do(ctx, []string{"PING"}); err != nil {
				tc.fail(err)
			}
			cancel()
		}
		if c.cluster == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.DialTimeout)
		now, err := slotMap(ctx, c.cluster)
		cancel()
		if err != nil {
			continue
		}
		if slots != "" && now != slots {
			c.near.flush()
			c.cluster.ReloadState(context.Background())
		}
		slots = now
	}
}

// slotMap returns the primaries of the cluster's slot ranges, as text that
// changes when a range changes primary.
func slotMap(ctx context.Context, cc *redis.ClusterClient) (string, error) {
	ranges, err := cc.ClusterSlots(ctx).Result()
	if err != nil {
		return "", err
	}
	slices.SortFunc(ranges, func(a, b redis.ClusterSlot) int { return a.Start - b.Start })
	var b strings.Builder
	for _, r := range ranges {
		primary := ""
		if len(r.Nodes) > 0 {
			primary = r.Nodes[0].Addr
		}
		fmt.Fprintf(&b, "%d-%d=%s ", r.Start, r.End, primary)
	}
	return b.String(), nil
}

// syncTracking returns once every invalidation the nodes sent on the live
// tracking connections before this call has been applied: a PING on each,
// whose reply comes after them.
func (c *Client) syncTracking(ctx context.Context) error {
	for _, tc := range c.liveTrackConns() {
		if _, err := tc.do(ctx, []string{"PING"}); err != nil {
			return err
		}
	}
	return nil
}
