package client

import (
	"context"
	"fmt"
	"time"
)

// GetOrLoad returns key's cached value, or on a miss calls load, stores
// its result with time to live ttl (0: none) and returns it: cache-aside.
// Concurrent misses for one key in this process call load once and share
// its result (single-flight); the others wait for it or for their own
// context. load runs with a context that is not cancelled when its first
// caller leaves, bounded by Config.LoadTimeout.
//
// The cache failing does not fail the call: a Get error counts as a miss,
// and a value that could not be stored is still returned. A load error is
// returned to every waiting caller and not cached.
func (c *Client) GetOrLoad(ctx context.Context, key string, ttl time.Duration, load func(ctx context.Context) ([]byte, error)) ([]byte, error) {
	if val, err := c.Get(ctx, key); err == nil {
		return val, nil
	} else if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	f, leader := c.flight.start(key)
	if leader {
		go c.runLoad(context.WithoutCancel(ctx), key, ttl, load, f)
	}
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// runLoad runs one load for key and publishes its result to f.
func (c *Client) runLoad(ctx context.Context, key string, ttl time.Duration, load func(ctx context.Context) ([]byte, error), f *flight) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.LoadTimeout)
	defer cancel()
	var val []byte
	var err error
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cached: loader for %q panicked: %v", key, r)
		}
		c.flight.finish(key, f, val, err)
	}()
	// Another process may have loaded it since our miss.
	if v, gerr := c.Get(ctx, key); gerr == nil {
		val = v
		return
	}
	start := time.Now()
	val, err = load(ctx)
	if c.cfg.Hooks.Load != nil {
		c.cfg.Hooks.Load(key, time.Since(start), err)
	}
	if err != nil {
		val = nil
		return
	}
	if val == nil {
		val = []byte{}
	}
	// A failed store is seen by the Call hook; the value is still good.
	_ = c.Set(ctx, key, val, ttl)
}
