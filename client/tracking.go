package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// errTrackingLost: the tracking connection failed; the near cache was
// flushed.
var errTrackingLost = errors.New("cached: tracking connection lost")

// trackConn is one RESP3 connection to a node with CLIENT TRACKING on:
// the near cache's reads go over it, pipelined, and the node pushes the
// invalidations of the keys read on it, interleaved with the replies in
// the order it sent them. One goroutine reads it until it fails; then the
// near cache is flushed (invalidations may have been lost) and every call
// waiting on it fails.
type trackConn struct {
	addr   string
	nc     net.Conn
	near   *nearCache
	done   chan struct{} // closed when the reader has stopped
	closed chan struct{} // closed when the connection failed or was closed

	mu      sync.Mutex // guards the fields below, and orders writes with pending
	pending []*trackCall
	err     error // set once the connection failed
	closing bool
}

// trackCall is one pipelined request: n commands and their replies.
type trackCall struct {
	n       int
	replies []value
	err     error
	done    chan struct{}
}

// dialTracking connects to addr with dial (net.Dialer's when nil),
// switches to RESP3 (authenticating as username, or the default user,
// with password when set), turns
// tracking on and starts the reader. The handshake is bounded by ctx.
func dialTracking(ctx context.Context, dial func(context.Context, string, string) (net.Conn, error), addr, username, password string, near *nearCache) (*trackConn, error) {
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	nc, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	hello := []string{"HELLO", "3"}
	if password != "" {
		if username == "" {
			username = "default"
		}
		hello = append(hello, "AUTH", username, password)
	}
	var req []byte
	req = appendCommand(req, hello...)
	req = appendCommand(req, "CLIENT", "SETNAME", "cached-near-cache")
	req = appendCommand(req, "CLIENT", "TRACKING", "ON")
	r := bufio.NewReader(nc)
	if _, err := nc.Write(req); err != nil {
		nc.Close()
		return nil, err
	}
	for _, what := range []string{"HELLO 3", "CLIENT SETNAME", "CLIENT TRACKING ON"} {
		v, err := readValue(r)
		if err == nil {
			err = v.err()
		}
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("cached: %s on %s: %w", what, addr, err)
		}
	}
	nc.SetDeadline(time.Time{})
	tc := &trackConn{addr: addr, nc: nc, near: near, done: make(chan struct{}), closed: make(chan struct{})}
	go tc.readLoop(r)
	return tc, nil
}

// do sends cmds as one pipelined request and returns their replies (error
// replies included, as values). It fails if the connection fails first;
// when ctx ends first, it returns ctx's error and the replies are dropped
// when they come.
func (tc *trackConn) do(ctx context.Context, cmds ...[]string) ([]value, error) {
	var req []byte
	for _, args := range cmds {
		req = appendCommand(req, args...)
	}
	call := &trackCall{n: len(cmds), done: make(chan struct{})}
	tc.mu.Lock()
	if tc.err != nil {
		tc.mu.Unlock()
		return nil, tc.err
	}
	tc.pending = append(tc.pending, call)
	// Under mu: the write order is the pending order. A write the node
	// does not take in time fails the connection.
	dl, _ := ctx.Deadline()
	tc.nc.SetWriteDeadline(dl)
	_, err := tc.nc.Write(req)
	tc.mu.Unlock()
	if err != nil {
		tc.fail(err)
	}
	select {
	case <-call.done:
		return call.replies, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// readLoop reads replies and pushes until the connection fails.
func (tc *trackConn) readLoop(r *bufio.Reader) {
	defer close(tc.done)
	for {
		v, err := readValue(r)
		if err != nil {
			tc.fail(err)
			return
		}
		if v.kind == '>' {
			tc.push(v)
			continue
		}
		tc.mu.Lock()
		if len(tc.pending) == 0 {
			tc.mu.Unlock()
			tc.fail(fmt.Errorf("%w: a reply no request asked for", errProtocol))
			return
		}
		call := tc.pending[0]
		call.replies = append(call.replies, v)
		if len(call.replies) == call.n {
			tc.pending[0] = nil
			tc.pending = tc.pending[1:]
			close(call.done)
		}
		tc.mu.Unlock()
	}
}

// push handles a push message: invalidations; other pushes are ignored.
func (tc *trackConn) push(v value) {
	if len(v.elems) != 2 || string(v.elems[0].str) != "invalidate" {
		return
	}
	keys := v.elems[1]
	if keys.null {
		tc.near.flush()
		return
	}
	names := make([]string, 0, len(keys.elems))
	for _, k := range keys.elems {
		names = append(names, string(k.str))
	}
	tc.near.invalidate(names)
}

// fail marks the connection failed with err, closes it, flushes the near
// cache and fails the pending calls. Only the first failure counts.
func (tc *trackConn) fail(err error) {
	tc.mu.Lock()
	if tc.err != nil {
		tc.mu.Unlock()
		return
	}
	if tc.closing {
		err = ErrClosed
	} else {
		err = fmt.Errorf("%w: %s: %w", errTrackingLost, tc.addr, err)
	}
	tc.err = err
	pending := tc.pending
	tc.pending = nil
	tc.mu.Unlock()
	tc.nc.Close()
	close(tc.closed)
	// Invalidations sent to this connection may be lost: nothing it
	// tracked can be trusted any more. Flush before failing the calls, so
	// that none of them can fill the cache afterwards.
	tc.near.flush()
	for _, call := range pending {
		call.err = err
		close(call.done)
	}
}

// alive reports whether the connection has not failed.
func (tc *trackConn) alive() bool {
	select {
	case <-tc.closed:
		return false
	default:
		return true
	}
}

// close closes the connection and waits for its reader.
func (tc *trackConn) close() {
	tc.mu.Lock()
	tc.closing = true
	tc.mu.Unlock()
	tc.fail(ErrClosed)
	<-tc.done
}
