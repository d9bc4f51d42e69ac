package peer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"time"
)

// call is a pending call: its completion and when it times out (pool
// clock, see Pool.now).
type call struct {
	done     func([]byte, error)
	deadline time.Duration
}

// ring is a FIFO of pending calls; its length never exceeds MaxInFlight.
type ring struct {
	buf  []call // len is zero or a power of two
	head int
	n    int
}

func (r *ring) push(c call) {
	if r.n == len(r.buf) {
		grown := make([]call, max(16, 2*len(r.buf)))
		for i := range r.n {
			grown[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
		}
		r.buf, r.head = grown, 0
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = c
	r.n++
}

func (r *ring) front() *call { return &r.buf[r.head] }

func (r *ring) pop() call {
	c := r.buf[r.head]
	r.buf[r.head] = call{}
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return c
}

// pipe is one pipelined connection. Calls append their encoded command to
// out and their completion to pending; the writer goroutine hands out to
// the kernel in one write; the reader goroutine (which dials first) matches
// replies to pending in order. A pipe is never reused once dead: the peer
// replaces it on the next call.
type pipe struct {
	peer       *peer
	quit       chan struct{} // closed by kill: the writer stops
	wake       chan struct{} // capacity 1: out has data or the pipe became ready
	dialCtx    context.Context
	cancelDial context.CancelFunc

	mu      sync.Mutex // guards the fields below; never held across I/O or callbacks
	out     []byte     // encoded commands the writer has not taken yet
	pending ring       // calls awaiting their reply, oldest first
	conn    net.Conn   // nil while dialing
	ready   bool       // handshake done: the writer may write
	dead    error      // why the pipe was killed; nil while alive
}

// errDead: the pipe is dead; the caller retries on a fresh one.
var errDead = errors.New("peer: pipe dead")

// errFull: MaxInFlight reached; the peer wraps it with its address.
var errFull = errors.New("peer: pipe full")

func newPipe(pe *peer) *pipe {
	ctx, cancel := context.WithCancel(context.Background())
	return &pipe{
		peer:       pe,
		quit:       make(chan struct{}),
		wake:       make(chan struct{}, 1),
		dialCtx:    ctx,
		cancelDial: cancel,
	}
}

// enqueue queues cmds, each completed by one call of done, in order. It
// returns errDead or errFull without queuing anything. Commands of one
// enqueue are contiguous on the wire.
func (p *pipe) enqueue(cmds [][][]byte, done func([]byte, error), deadline time.Duration) error {
	p.mu.Lock()
	if p.dead != nil {
		p.mu.Unlock()
		return errDead
	}
	if p.pending.n+len(cmds) > p.peer.pool.cfg.MaxInFlight {
		p.mu.Unlock()
		return errFull
	}
	signal := len(p.out) == 0 // else the writer is already due
	for _, args := range cmds {
		p.out = appendCommand(p.out, args)
		p.pending.push(call{done: done, deadline: deadline})
	}
	p.mu.Unlock()
	if signal {
		p.signal()
	}
	return nil
}

func (p *pipe) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// kill marks the pipe dead with reason (the first reason wins), stops the
// writer and breaks the connection or the dial, which makes the reader
// fail the pending calls. It does not block.
func (p *pipe) kill(reason error) {
	p.mu.Lock()
	if p.dead != nil {
		p.mu.Unlock()
		return
	}
	p.dead = reason
	conn := p.conn
	close(p.quit)
	p.mu.Unlock()
	p.cancelDial()
	if conn != nil {
		conn.Close() // its error says nothing the reason does not
	}
}

// run is the reader goroutine: dial, handshake, read until the connection
// dies, then fail what is pending.
func (p *pipe) run() {
	defer p.peer.pool.wg.Done()
	err := p.serve()
	p.kill(err)
	p.failPending()
}

func (p *pipe) serve() error {
	pool, addr := p.peer.pool, p.peer.addr
	ctx, cancel := context.WithTimeout(p.dialCtx, pool.cfg.DialTimeout)
	conn, err := pool.dial(ctx, "tcp", addr)
	cancel()
	if err != nil {
		pool.logger.Debug("peer dial failed", "peer", addr, "err", err)
		return fmt.Errorf("peer %s: %w: %w", addr, ErrDial, err)
	}
	p.mu.Lock()
	if p.dead != nil {
		p.mu.Unlock()
		conn.Close()
		return p.dead
	}
	p.conn = conn
	p.mu.Unlock()

	rr := newReplyReader(conn, pool.cfg.MaxReplyLen)
	if err := pool.handshake(conn, rr, addr, p.peer.proto, time.Now().Add(pool.cfg.CallTimeout)); err != nil {
		if errors.Is(err, ErrHandshake) {
			pool.logger.Warn("peer handshake failed", "peer", addr, "err", err)
		}
		return err
	}
	p.mu.Lock()
	p.ready = true
	p.mu.Unlock()
	p.signal()

	err = p.readLoop(rr)
	p.mu.Lock()
	dead := p.dead
	p.mu.Unlock()
	if dead == nil {
		pool.logger.Info("peer connection lost", "peer", addr, "proto", p.peer.proto, "err", err)
	}
	return fmt.Errorf("peer %s: %w: %w", addr, ErrConnClosed, err)
}

// deliverBatch bounds how many replies the reader frames before handing
// them over, under one lock acquisition.
const deliverBatch = 128

// readLoop frames replies and completes calls in order until an error.
func (p *pipe) readLoop(rr *replyReader) error {
	replies := make([][]byte, 0, deliverBatch)
	calls := make([]call, 0, deliverBatch)
	for {
		reply, err := rr.next(len(replies) == 0)
		if err != nil {
			if _, derr := p.deliver(replies, calls); derr != nil {
				return derr
			}
			return err
		}
		if reply != nil {
			if !isPush(reply) {
				replies = append(replies, reply)
				if len(replies) < deliverBatch {
					continue
				}
			} else if len(replies) == 0 {
				p.push(reply)
				continue
			} else { // keep the order the peer sent them in
				if calls, err = p.deliver(replies, calls); err != nil {
					return err
				}
				replies = replies[:0]
				p.push(reply)
				continue
			}
		}
		if calls, err = p.deliver(replies, calls); err != nil {
			return err
		}
		replies = replies[:0]
	}
}

func (p *pipe) push(msg []byte) {
	if f := p.peer.pool.cfg.OnPush; f != nil {
		f(p.peer.addr, msg)
	}
}

// deliver completes the oldest len(replies) calls with replies, and clears
// both slices' elements for reuse.
func (p *pipe) deliver(replies [][]byte, calls []call) ([]call, error) {
	if len(replies) == 0 {
		return calls, nil
	}
	p.mu.Lock()
	if p.dead != nil { // killed: the pending calls fail, these replies included
		p.mu.Unlock()
		return calls, p.dead
	}
	if p.pending.n < len(replies) {
		p.mu.Unlock()
		return calls, fmt.Errorf("%w: reply with no call waiting", ErrMalformed)
	}
	calls = calls[:0]
	for range replies {
		calls = append(calls, p.pending.pop())
	}
	p.mu.Unlock()
	for i, c := range calls {
		c.done(replies[i], nil)
		calls[i], replies[i] = call{}, nil
	}
	return calls, nil
}

// failPending fails every pending call of the dead pipe: with ErrTimeout
// if its deadline has passed (unless the pool closed), else with the
// reason the pipe died.
func (p *pipe) failPending() {
	p.mu.Lock()
	reason := p.dead
	calls := make([]call, 0, p.pending.n)
	for p.pending.n > 0 {
		calls = append(calls, p.pending.pop())
	}
	p.pending = ring{}
	p.out = nil
	p.mu.Unlock()
	if len(calls) == 0 {
		return
	}
	pe := p.peer
	closed := errors.Is(reason, ErrClosed)
	now := pe.pool.now()
	for _, c := range calls {
		err := reason
		if !closed && c.deadline <= now {
			err = pe.errTimeout
		}
		pe.failed(err, 1)
		c.done(nil, err)
	}
}

// writeLoop is the writer goroutine: it waits for commands, writes all
// that are queued in one write, and kills the pipe when the oldest pending
// call passes its deadline. Replies are answered in order, so only the
// oldest call's deadline matters; the timer is armed lazily, firing at most
// once per CallTimeout while calls keep being answered.
func (p *pipe) writeLoop() {
	pe := p.peer
	defer pe.pool.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	armed := false
	var buf []byte // owned by the writer between swaps
	for {
		select {
		case <-p.quit:
			return
		case <-p.wake:
		case <-timer.C:
			armed = false
		}
		now := pe.pool.now()
		p.mu.Lock()
		head := now + pe.pool.cfg.CallTimeout
		if p.pending.n > 0 {
			head = p.pending.front().deadline
			if head <= now {
				p.mu.Unlock()
				p.kill(fmt.Errorf("peer %s: %w: a call timed out", pe.addr, ErrConnClosed))
				return
			}
			if !armed {
				timer.Reset(head - now)
				armed = true
			}
		}
		ready := p.ready && len(p.out) > 0
		p.mu.Unlock()
		if !ready {
			continue
		}
		// One yield before taking the buffer lets callers that are running
		// right now append to it. It costs next to nothing when no one else
		// is runnable and, under load, multiplies the calls per write
		// (BenchmarkCallParallel: about 13 to 19 calls per write, 550k to
		// 770k calls/s, on one connection with 2 CPUs).
		runtime.Gosched()
		p.mu.Lock()
		buf, p.out = p.out, buf[:0]
		if p.pending.n > 0 {
			head = p.pending.front().deadline
		}
		conn := p.conn
		p.mu.Unlock()
		if len(buf) == 0 { // killed meanwhile
			continue
		}

		// A write the peer does not drain must not outlive the oldest call.
		conn.SetWriteDeadline(pe.pool.epoch.Add(head))
		if _, err := conn.Write(buf); err != nil {
			p.kill(fmt.Errorf("peer %s: %w: %w", pe.addr, ErrConnClosed, err))
			return
		}
		pe.writes.Add(1)
		if cap(buf) > maxKeptBuffer {
			buf = nil // a burst's buffer is not kept for ever
		}
	}
}

// maxKeptBuffer is the largest output buffer the writer keeps for reuse.
const maxKeptBuffer = 1 << 20
