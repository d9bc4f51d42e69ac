package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// outcome classifies a call's error.
type outcome int

const (
	ok         outcome = iota // done: success, a miss or an error reply
	notSent                   // certainly not run: retry anywhere
	nodeFailed                // transport failure: it may have run
	callerDone                // the caller's context ended
)

// nodeFault reports whether err counts against the node's circuit
// breaker: it could not be reached or did not answer in time (error
// replies do not count: the node answered).
func nodeFault(ctx context.Context, err error) bool {
	switch classify(ctx, err) {
	case nodeFailed:
		return true
	case notSent:
		return !errors.Is(err, ErrCircuitOpen) && !isRedisError(err)
	case callerDone:
		return errors.Is(ctx.Err(), context.DeadlineExceeded)
	}
	return false
}

func isRedisError(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr)
}

// classify tells what err says about a call.
func classify(ctx context.Context, err error) outcome {
	switch {
	case err == nil, errors.Is(err, redis.Nil):
		return ok
	case errors.Is(err, ErrCircuitOpen):
		return notSent
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		for _, p := range []string{"MOVED ", "ASK ", "TRYAGAIN", "CLUSTERDOWN", "LOADING"} {
			if strings.HasPrefix(msg, p) {
				return notSent
			}
		}
		return ok
	}
	if ctx.Err() != nil {
		return callerDone
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return notSent
	}
	return nodeFailed
}

// backoff returns the wait before retry attempt n (n ≥ 1): full jitter
// over an exponentially growing ceiling.
func (c *Client) backoff(n int) time.Duration {
	ceil := c.cfg.Retry.MinBackoff << min(n, 30)
	if ceil <= 0 || ceil > c.cfg.Retry.MaxBackoff {
		ceil = c.cfg.Retry.MaxBackoff
	}
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil)
}

// wait sleeps d or until ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// do runs fn against the node for key: through its circuit breaker,
// retried per the policy (idempotent says fn may safely run twice). It
// returns fn's last error and the number of tries.
func (c *Client) do(ctx context.Context, op, key string, idempotent bool, fn func(ctx context.Context, rc *redis.Client) error) (int, error) {
	var avoid map[string]bool
	var err error
	for attempt := 1; ; attempt++ {
		if c.isClosed() {
			return attempt, ErrClosed
		}
		var rc *redis.Client
		var addr string
		rc, addr, err = c.route(ctx, key, avoid)
		if err == nil {
			b := c.breaker(addr)
			if !b.allow() {
				err = ErrCircuitOpen
			} else {
				err = fn(ctx, rc)
				b.record(nodeFault(ctx, err))
			}
		}
		out := classify(ctx, err)
		if err != nil && !errors.Is(err, redis.Nil) && ctx.Err() == nil && out != ok {
			// Routing may be stale: the owner died or the slot moved.
			if c.cluster != nil {
				c.cluster.ReloadState(ctx)
			}
			if addr != "" && (nodeFault(ctx, err) || errors.Is(err, ErrCircuitOpen)) {
				if avoid == nil {
					avoid = map[string]bool{}
				}
				avoid[addr] = true
			}
		}
		retry := out == notSent || (out == nodeFailed && idempotent)
		if !retry || attempt >= c.cfg.Retry.MaxAttempts {
			return attempt, err
		}
		if c.cfg.Hooks.Retry != nil {
			c.cfg.Hooks.Retry(op, attempt, err)
		}
		if werr := wait(ctx, c.backoff(attempt)); werr != nil {
			return attempt, werr
		}
	}
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// observe reports a finished call to the Call hook.
func (c *Client) observe(op string, keys, attempts int, start time.Time, err error) {
	if c.cfg.Hooks.Call == nil {
		return
	}
	if errors.Is(err, ErrNotFound) {
		err = nil
	}
	c.cfg.Hooks.Call(CallInfo{Op: op, Keys: keys, Attempts: attempts, Duration: time.Since(start), Err: err})
}
