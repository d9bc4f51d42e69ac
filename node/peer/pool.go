package peer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Pool holds the pipelined connections to a node's peers. It is safe for
// concurrent use. NewPool starts nothing: connections are dialed by the
// first call that needs them, in the background.
type Pool struct {
	cfg     Config
	logger  *slog.Logger
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	epoch   time.Time      // origin of the pool clock (now), monotonic
	waiters sync.Pool      // *waiter, for Call
	wg      sync.WaitGroup // every pipe goroutine

	// peers is copied on write (under mu) and read without a lock: calls
	// look peers up far more often than peers come and go.
	peers atomic.Pointer[map[peerKey]*peer]

	mu        sync.Mutex // guards closed, dedicated and replacing peers
	closed    bool
	dedicated map[*Conn]struct{}
}

type peerKey struct {
	addr  string
	proto int
}

// peer is the set of pipes to one (address, protocol), with its counters.
type peer struct {
	pool  *Pool
	addr  string
	proto int
	slots []atomic.Pointer[pipe] // ConnsPerPeer; nil until first used

	errTimeout error // ErrTimeout with the address, made once
	errFull    error // ErrOverloaded with the address, made once

	calls, errors, timeouts, writes atomic.Uint64

	mu   sync.Mutex // guards gone and replacing slots
	gone error      // set when the pool closed or forgot the peer: new calls fail with it
}

// NewPool validates cfg and returns an idle pool.
func NewPool(cfg Config) (*Pool, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Pool{
		cfg:       cfg,
		logger:    cfg.Logger,
		dial:      cfg.Dial,
		epoch:     time.Now(),
		dedicated: make(map[*Conn]struct{}),
	}
	if p.dial == nil {
		d := &net.Dialer{Timeout: cfg.DialTimeout}
		p.dial = d.DialContext
	}
	p.waiters.New = func() any { return newWaiter() }
	empty := map[peerKey]*peer{}
	p.peers.Store(&empty)
	return p, nil
}

// now reads the pool clock: monotonic time since the pool was made.
func (p *Pool) now() time.Duration { return time.Since(p.epoch) }

// Go sends args to addr on the connection picked by hint (hint %
// ConnsPerPeer: calls with one hint to one peer are sent, answered and
// completed in order), speaking protocol proto (2 or 3; each protocol has
// connections of its own, a proto 3 one starts with HELLO 3).
//
// done is called exactly once, with one complete raw reply (error replies
// such as "-ERR ..." included, see ReplyError), which done's callee owns,
// or with an error wrapping one of this package's sentinels. It runs on the
// connection's reader goroutine and must not block: it delays every reply
// behind it. When the call fails at once (ErrClosed, ErrOverloaded,
// invalid arguments) done runs on the calling goroutine before Go returns.
//
// Go never blocks on the network: a connection being dialed queues calls,
// up to MaxInFlight. args is encoded before Go returns and may be reused.
func (p *Pool) Go(addr string, proto int, hint uint64, args [][]byte, done func(reply []byte, err error)) {
	if err := p.send(addr, proto, hint, [][][]byte{args}, done); err != nil {
		done(nil, err)
	}
}

// send queues cmds contiguously on one connection, done completing each in
// order. On error nothing was queued and done is not called.
func (p *Pool) send(addr string, proto int, hint uint64, cmds [][][]byte, done func([]byte, error)) error {
	if proto != 2 && proto != 3 {
		return fmt.Errorf("peer %s: protocol %d: must be 2 or 3", addr, proto)
	}
	for _, args := range cmds {
		if len(args) == 0 {
			return fmt.Errorf("peer %s: empty command", addr)
		}
	}
	pe, err := p.peerFor(addr, proto)
	if err != nil {
		return err
	}
	pe.calls.Add(uint64(len(cmds)))
	if err := pe.send(hint, cmds, done, p.now()+p.cfg.CallTimeout); err != nil {
		pe.failed(err, len(cmds))
		return err
	}
	return nil
}

// peerFor returns the peer for (addr, proto), creating it.
func (p *Pool) peerFor(addr string, proto int) (*peer, error) {
	key := peerKey{addr, proto}
	if pe := (*p.peers.Load())[key]; pe != nil {
		return pe, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("peer %s: %w", addr, ErrClosed)
	}
	peers := *p.peers.Load()
	if pe := peers[key]; pe != nil {
		return pe, nil
	}
	pe := &peer{
		pool:       p,
		addr:       addr,
		proto:      proto,
		slots:      make([]atomic.Pointer[pipe], p.cfg.ConnsPerPeer),
		errTimeout: fmt.Errorf("peer %s: %w", addr, ErrTimeout),
		errFull:    fmt.Errorf("peer %s: %w", addr, ErrOverloaded),
	}
	next := maps.Clone(peers)
	next[key] = pe
	p.peers.Store(&next)
	return pe, nil
}

// send queues cmds on the pipe of slot hint, replacing a dead pipe.
func (pe *peer) send(hint uint64, cmds [][][]byte, done func([]byte, error), deadline time.Duration) error {
	slot := &pe.slots[hint%uint64(len(pe.slots))]
	if pp := slot.Load(); pp != nil {
		switch err := pp.enqueue(cmds, done, deadline); err {
		case nil:
			return nil
		case errFull:
			return pe.errFull
		}
	}
	pe.mu.Lock()
	defer pe.mu.Unlock()
	if pe.gone != nil {
		return pe.gone
	}
	if pp := slot.Load(); pp != nil { // another call may have replaced it
		switch err := pp.enqueue(cmds, done, deadline); err {
		case nil:
			return nil
		case errFull:
			return pe.errFull
		}
	}
	if len(cmds) > pe.pool.cfg.MaxInFlight {
		return pe.errFull
	}
	pp := newPipe(pe)
	pp.enqueue(cmds, done, deadline) // cannot fail: fresh, and room checked
	slot.Store(pp)
	pe.pool.wg.Add(2) // before Close can wait: it marks peers gone under pe.mu first
	go pp.run()
	go pp.writeLoop()
	return nil
}

// failed counts n calls failing with err.
func (pe *peer) failed(err error, n int) {
	pe.errors.Add(uint64(n))
	if errors.Is(err, ErrTimeout) {
		pe.timeouts.Add(uint64(n))
	}
}

// shut fails new calls with reason and kills the pipes, which fail their
// pending calls with it.
func (pe *peer) shut(reason error) {
	pe.mu.Lock()
	defer pe.mu.Unlock()
	if pe.gone != nil {
		return
	}
	pe.gone = reason
	for i := range pe.slots {
		if pp := pe.slots[i].Load(); pp != nil {
			pp.kill(reason)
		}
	}
}

// waiter turns a Go completion into a Call's return. It is reused once
// its reply was received; a Call abandoned by its context leaves it to the
// garbage collector, since done may still run.
type waiter struct {
	ch    chan struct{}
	reply []byte
	err   error
	done  func([]byte, error) // bound once, so reuse allocates nothing
}

func newWaiter() *waiter {
	w := &waiter{ch: make(chan struct{}, 1)}
	w.done = func(reply []byte, err error) {
		w.reply, w.err = reply, err
		w.ch <- struct{}{}
	}
	return w
}

// Call is Go made synchronous. It returns when the reply arrives, the call
// fails, or ctx is done; in the last case the command may still run on the
// peer (the reply is dropped when it arrives). ctx does not shorten
// CallTimeout: a shared connection is not closed for one caller's
// deadline.
func (p *Pool) Call(ctx context.Context, addr string, proto int, hint uint64, args [][]byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("peer %s: %w", addr, err)
	}
	w := p.waiters.Get().(*waiter)
	p.Go(addr, proto, hint, args, w.done)
	select {
	case <-w.ch:
	case <-ctx.Done():
		return nil, fmt.Errorf("peer %s: %w", addr, ctx.Err())
	}
	reply, err := w.reply, w.err
	w.reply, w.err = nil, nil
	p.waiters.Put(w)
	return reply, err
}

// Batch sends cmds contiguously on the connection picked by hint (no other
// call's command between them: MULTI ... EXEC, a replication batch) and
// returns their replies in order. If one fails (the connection broke or a
// reply timed out), Batch returns an error and no replies. More commands
// than MaxInFlight always fail with ErrOverloaded. Like Call, it honours
// ctx without shortening CallTimeout.
func (p *Pool) Batch(ctx context.Context, addr string, proto int, hint uint64, cmds [][][]byte) ([][]byte, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("peer %s: %w", addr, err)
	}
	b := &batch{replies: make([][]byte, 0, len(cmds)), want: len(cmds), ch: make(chan struct{})}
	if err := p.send(addr, proto, hint, cmds, b.done); err != nil {
		return nil, err
	}
	select {
	case <-b.ch:
	case <-ctx.Done():
		return nil, fmt.Errorf("peer %s: %w", addr, ctx.Err())
	}
	if b.err != nil {
		return nil, b.err
	}
	return b.replies, nil
}

// batch collects a Batch's replies. Its commands share one pipe, whose
// completions run one at a time, in order, on one goroutine (the reader's),
// so done needs no lock; ch publishes the result.
type batch struct {
	replies [][]byte
	err     error
	want    int
	ch      chan struct{}
}

func (b *batch) done(reply []byte, err error) {
	if err != nil && b.err == nil {
		b.err = err
	}
	b.replies = append(b.replies, reply)
	if len(b.replies) == b.want {
		close(b.ch)
	}
}

// Forget closes the pooled connections to addr (a departed peer), over both
// protocols, failing their pending calls with ErrConnClosed, and drops its
// statistics. A later call to addr dials afresh. Dedicated connections
// belong to their callers and are left alone.
func (p *Pool) Forget(addr string) {
	p.mu.Lock()
	peers := *p.peers.Load()
	var gone []*peer
	for _, proto := range []int{2, 3} {
		if pe := peers[peerKey{addr, proto}]; pe != nil {
			gone = append(gone, pe)
		}
	}
	if len(gone) > 0 {
		next := maps.Clone(peers)
		for _, pe := range gone {
			delete(next, peerKey{pe.addr, pe.proto})
		}
		p.peers.Store(&next)
	}
	p.mu.Unlock()
	for _, pe := range gone {
		pe.shut(fmt.Errorf("peer %s: %w: peer forgotten", addr, ErrConnClosed))
	}
}

// Stats describes the pooled calls to one peer address, both protocols
// together, for INFO and metrics. Counters run from the peer's first call
// (or its last Forget).
type Stats struct {
	Addr     string
	Conns    int    // pooled connections open or being dialed
	InFlight int    // calls queued or sent, awaiting their reply
	Calls    uint64 // calls made; a Batch counts each command
	Errors   uint64 // calls failed without a reply, timeouts included; error replies are replies
	Timeouts uint64 // calls failed with ErrTimeout
	Writes   uint64 // write system calls: Calls/Writes is the write-combining factor
}

// Stats returns the statistics of every peer address in use, by address.
func (p *Pool) Stats() []Stats {
	byAddr := make(map[string]*Stats)
	for _, pe := range *p.peers.Load() {
		st := byAddr[pe.addr]
		if st == nil {
			st = &Stats{Addr: pe.addr}
			byAddr[pe.addr] = st
		}
		st.Calls += pe.calls.Load()
		st.Errors += pe.errors.Load()
		st.Timeouts += pe.timeouts.Load()
		st.Writes += pe.writes.Load()
		for i := range pe.slots {
			pp := pe.slots[i].Load()
			if pp == nil {
				continue
			}
			pp.mu.Lock()
			if pp.dead == nil {
				st.Conns++
			}
			st.InFlight += pp.pending.n
			pp.mu.Unlock()
		}
	}
	out := make([]Stats, 0, len(byAddr))
	for _, st := range byAddr {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b Stats) int { return cmp.Compare(a.Addr, b.Addr) })
	return out
}

// Close closes every pooled and dedicated connection, failing pending
// calls with ErrClosed, and waits for the pool's goroutines. Later calls
// fail with ErrClosed. It is idempotent.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.wg.Wait()
		return nil
	}
	p.closed = true
	peers := *p.peers.Load()
	empty := map[peerKey]*peer{}
	p.peers.Store(&empty)
	dedicated := p.dedicated
	p.dedicated = nil
	p.mu.Unlock()

	for _, pe := range peers {
		pe.shut(fmt.Errorf("peer %s: %w", pe.addr, ErrClosed))
	}
	var errs []error
	for c := range dedicated {
		if err := c.shut(); err != nil {
			errs = append(errs, err)
		}
	}
	p.wg.Wait()
	return errors.Join(errs...)
}

// handshake sends Config.Handshake, then HELLO 3 for proto 3, in one
// write, and checks their replies, all before deadline. Pushes arriving
// meanwhile go to OnPush.
func (p *Pool) handshake(conn net.Conn, rr *replyReader, addr string, proto int, deadline time.Time) error {
	cmds := p.cfg.Handshake
	if proto == 3 {
		cmds = append(slices.Clip(cmds), [][]byte{[]byte("HELLO"), []byte("3")})
	}
	if len(cmds) == 0 {
		return nil
	}
	var out []byte
	for _, args := range cmds {
		out = appendCommand(out, args)
	}
	conn.SetDeadline(deadline)
	if _, err := conn.Write(out); err != nil {
		return fmt.Errorf("peer %s: %w: %w", addr, ErrConnClosed, err)
	}
	for i := 0; i < len(cmds); {
		reply, err := rr.next(true)
		if err != nil {
			return fmt.Errorf("peer %s: %w: %w", addr, ErrConnClosed, err)
		}
		if isPush(reply) {
			if f := p.cfg.OnPush; f != nil {
				f(addr, reply)
			}
			continue
		}
		if msg, ok := ReplyError(reply); ok {
			return fmt.Errorf("peer %s: %w: %s: %s", addr, ErrHandshake, cmds[i][0], msg)
		}
		if proto == 3 && i == len(cmds)-1 {
			if r, err := skipAttrs(reply); err != nil || r[0] != '%' {
				return fmt.Errorf("peer %s: %w: HELLO 3: reply is not a RESP3 map", addr, ErrHandshake)
			}
		}
		i++
	}
	conn.SetDeadline(time.Time{})
	return nil
}
