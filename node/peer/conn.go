package peer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is a connection of its own to one peer, for blocking commands
// (BLPOP, WAIT, a slot stream) that would stall a shared pipeline. It
// ignores CallTimeout: each call's context governs. It is safe for
// concurrent use, but calls run one at a time. The caller closes it;
// closing the Pool closes it too.
type Conn struct {
	pool   *Pool
	addr   string
	proto  int
	nc     net.Conn
	closed atomic.Bool

	mu  sync.Mutex // serializes calls; guards rr, out and err
	rr  *replyReader
	out []byte
	err error // set once the connection broke: every later call fails with it
}

// longAgo is a deadline in the past: setting it interrupts blocked I/O.
var longAgo = time.Unix(1, 0)

// Dedicated dials addr and runs the handshake (HELLO 3 for proto 3),
// honouring ctx and DialTimeout.
func (p *Pool) Dedicated(ctx context.Context, addr string, proto int) (*Conn, error) {
	if proto != 2 && proto != 3 {
		return nil, fmt.Errorf("peer %s: protocol %d: must be 2 or 3", addr, proto)
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("peer %s: %w", addr, ErrClosed)
	}
	nc, err := p.dial(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("peer %s: %w", addr, ctx.Err())
		}
		return nil, fmt.Errorf("peer %s: %w: %w", addr, ErrDial, err)
	}
	c := &Conn{pool: p, addr: addr, proto: proto, nc: nc, rr: newReplyReader(nc, p.cfg.MaxReplyLen)}
	deadline := time.Now().Add(p.cfg.CallTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	stop := interruptOnDone(ctx, nc)
	err = p.handshake(nc, c.rr, addr, proto, deadline)
	stop()
	if err != nil {
		nc.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("peer %s: %w", addr, ctx.Err())
		}
		return nil, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		nc.Close()
		return nil, fmt.Errorf("peer %s: %w", addr, ErrClosed)
	}
	p.dedicated[c] = struct{}{}
	p.mu.Unlock()
	return c, nil
}

// interruptOnDone makes blocked I/O on nc return when ctx is done. stop
// undoes it, waiting for an interruption already under way, so the caller
// can set its own deadlines afterwards.
func interruptOnDone(ctx context.Context, nc net.Conn) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	fired := make(chan struct{})
	stopAfter := context.AfterFunc(ctx, func() {
		nc.SetDeadline(longAgo)
		close(fired)
	})
	return func() {
		if !stopAfter() {
			<-fired
		}
	}
}

// Call sends args and waits for the reply (raw, error replies included,
// pushes passed to OnPush), or for ctx. A failed or interrupted call
// breaks the connection, since its reply may still come: later calls fail
// with ErrConnClosed and the caller should close it.
func (c *Conn) Call(ctx context.Context, args [][]byte) ([]byte, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("peer %s: empty command", c.addr)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	if c.closed.Load() {
		return nil, fmt.Errorf("peer %s: %w", c.addr, ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("peer %s: %w", c.addr, err)
	}
	deadline, hasDeadline := ctx.Deadline()
	c.nc.SetDeadline(deadline) // zero: none
	stop := interruptOnDone(ctx, c.nc)
	reply, err := c.roundTrip(args)
	stop()
	if err == nil {
		return reply, nil
	}
	c.nc.Close()
	switch {
	case c.closed.Load():
		err = fmt.Errorf("peer %s: %w", c.addr, ErrClosed)
	case ctx.Err() != nil:
		err = fmt.Errorf("peer %s: %w", c.addr, ctx.Err())
	case hasDeadline && !time.Now().Before(deadline):
		err = fmt.Errorf("peer %s: %w", c.addr, context.DeadlineExceeded)
	default:
		err = fmt.Errorf("peer %s: %w: %w", c.addr, ErrConnClosed, err)
	}
	c.err = fmt.Errorf("peer %s: %w: broken by an earlier call", c.addr, ErrConnClosed)
	return nil, err
}

func (c *Conn) roundTrip(args [][]byte) ([]byte, error) {
	c.out = appendCommand(c.out[:0], args)
	if _, err := c.nc.Write(c.out); err != nil {
		return nil, err
	}
	for {
		reply, err := c.rr.next(true)
		if err != nil {
			return nil, err
		}
		if !isPush(reply) {
			return reply, nil
		}
		if f := c.pool.cfg.OnPush; f != nil {
			f(c.addr, reply)
		}
	}
}

// Close closes the connection, failing a call in progress with ErrClosed.
// It is idempotent.
func (c *Conn) Close() error {
	c.pool.mu.Lock()
	delete(c.pool.dedicated, c) // a nil map after Pool.Close: a no-op
	c.pool.mu.Unlock()
	return c.shut()
}

func (c *Conn) shut() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := c.nc.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("peer %s: %w", c.addr, err)
	}
	return nil
}
