package resp

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// On Linux, plain TCP clients are served by epoll event loops, one per
// core, as Redis serves them from its event loop: a loop thread sleeps in
// epoll_wait, reads what its ready clients sent, executes every complete
// command and writes the replies, with no goroutine hand-off per request.
// That saves the scheduler wake-ups and the extra read a goroutine per
// connection pays for each round trip, which dominate at pipeline depth 1.
// Sockets on a loop are not known to the Go runtime's poller.
//
// As in Redis, replies are written at the end of a turn, after every ready
// client's commands ran, not after each client's: writing to a peer that
// sleeps wakes it (a cross-CPU interrupt on loopback), and writes in quick
// succession find it awake, one wake-up serving many replies.

// loop is one epoll event loop and the clients it owns.
type loop struct {
	srv    *Server
	index  int // in srv.loops and srv.execLocks
	epfd   int
	wakefd int // eventfd that interrupts epoll_wait to stop the loop

	mu       sync.Mutex // guards clients, stopped and ready
	clients  map[int]*Client
	stopped  bool
	stopping atomic.Bool // Close asked the loop to stop
	ready    []*Client   // clients with pushed messages to flush

	pending []*Client // replies to write at the end of this turn; loop-owned
}

// fdReader reads a non-blocking socket for a Reader; syscall.EAGAIN means
// nothing more for now.
type fdReader struct{ fd int }

func (r fdReader) Read(p []byte) (int, error) {
	n, err := rawIO(syscall.SYS_READ, r.fd, p)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, errEOF
	}
	return n, nil
}

var errEOF = errors.New("connection closed by client")

// rawIO calls read(2) or write(2) (trap) on fd without the Go scheduler's
// system call bookkeeping (entersyscall/exitsyscall), which only matters
// for calls that may block: the loop's sockets are non-blocking.
func rawIO(trap uintptr, fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, errno := syscall.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// startLoops starts the event loops and an accept goroutine that hands each
// connection to a loop. It returns false when the listener is not TCP, so
// the caller serves with a goroutine per connection instead.
func (s *Server) startLoops() (bool, error) {
	if _, ok := s.ln.(*net.TCPListener); !ok {
		return false, nil
	}
	n := s.ioThreads
	if n == 0 {
		n = max(runtime.GOMAXPROCS(0)/2, 1)
	}
	for range n {
		lp, err := newLoop(s)
		if err != nil {
			for _, l := range s.loops {
				l.close()
			}
			s.loops = nil
			return false, err
		}
		lp.index = len(s.loops)
		s.loops = append(s.loops, lp)
	}
	s.execLocks = make(execLocks, len(s.loops)+1)
	for _, lp := range s.loops {
		s.wg.Add(1)
		go lp.run()
	}
	s.wg.Add(1)
	go s.acceptToLoops()
	return true, nil
}

func newLoop(s *Server) (*loop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	r1, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		syscall.Close(epfd)
		return nil, errno
	}
	wakefd := int(r1)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(wakefd)}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(wakefd)
		return nil, err
	}
	return &loop{srv: s, epfd: epfd, wakefd: wakefd, clients: make(map[int]*Client)}, nil
}

// acceptToLoops accepts connections and gives them to the loops in turn.
// Each socket is duplicated out of the Go runtime's poller (which then
// forgets the original), so only its loop's epoll watches it.
func (s *Server) acceptToLoops() {
	defer s.wg.Done()
	var backoff time.Duration
	for next := 0; ; next++ {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			backoff = min(max(backoff*2, 5*time.Millisecond), time.Second)
			s.logger.Warn("accept failed", "err", err, "retry_in", backoff)
			time.Sleep(backoff) // EMFILE and the like: do not spin
			continue
		}
		backoff = 0
		s.connsReceived.Add(1)
		fd, err := detach(nc.(*net.TCPConn))
		if err != nil {
			s.logger.Warn("cannot move connection to an event loop", "err", err)
			continue
		}
		s.loops[next%len(s.loops)].add(fd, nc.RemoteAddr().String(), nc.LocalAddr().String())
	}
}

// detach returns a non-blocking duplicate of tc's socket and closes tc.
func detach(tc *net.TCPConn) (int, error) {
	defer tc.Close()
	raw, err := tc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(s uintptr) {
		fd, dupErr = syscall.Dup(int(s))
	}); err != nil {
		return -1, err
	}
	if dupErr != nil {
		return -1, dupErr
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

// add registers a new connection with the loop, or refuses it when
// maxclients is reached.
func (lp *loop) add(fd int, addr, laddr string) {
	s := lp.srv
	c := s.newClient(addr, laddr)
	c.fd, c.lp = fd, lp
	c.execLock = &s.execLocks[lp.index]
	c.reader = NewReader(fdReader{fd}, s.limits)
	if !s.register(c) {
		s.connsRejected.Add(1)
		syscall.Write(fd, []byte("-"+msgMaxClients+"\r\n"))
		syscall.Close(fd)
		return
	}
	lp.mu.Lock()
	if lp.stopped {
		lp.mu.Unlock()
		s.unregister(c)
		syscall.Close(fd)
		return
	}
	lp.clients[fd] = c
	lp.mu.Unlock()
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}
	if err := syscall.EpollCtl(lp.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		lp.drop(c)
	}
}

// run is the loop: wait for ready sockets, serve them, check idle clients.
func (lp *loop) run() {
	defer lp.srv.wg.Done()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	events := make([]syscall.EpollEvent, 256)
	lastIdleCheck := time.Now()
	for {
		timeout := -1
		if lp.srv.idleTimeout.Load() > 0 {
			timeout = 1000
		}
		n, err := syscall.EpollWait(lp.epfd, events, timeout)
		if err != nil && err != syscall.EINTR {
			lp.srv.logger.Error("epoll_wait failed", "err", err)
			lp.stop()
			return
		}
		for i := 0; i < n; i++ {
			fd := int(events[i].Fd)
			if fd == lp.wakefd {
				var buf [8]byte
				syscall.Read(lp.wakefd, buf[:])
				if lp.stopping.Load() {
					lp.stop()
					return
				}
				lp.flushReady()
				continue
			}
			lp.mu.Lock()
			c := lp.clients[fd]
			lp.mu.Unlock()
			if c != nil {
				lp.serve(c, events[i].Events)
			}
		}
		lp.writePending()
		if timeout > 0 && time.Since(lastIdleCheck) >= time.Second {
			lastIdleCheck = time.Now()
			lp.closeIdle()
		}
	}
}

// serve handles one readiness event for c.
func (lp *loop) serve(c *Client, ev uint32) {
	if ev&syscall.EPOLLOUT != 0 {
		if !lp.flush(c) {
			lp.drop(c)
			return
		}
		if len(c.out) > 0 {
			return // still blocked: read nothing more until the client reads
		}
	}
	if ev&(syscall.EPOLLIN|syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) == 0 || len(c.out) > 0 {
		return
	}
	before := c.reader.total
	err := c.reader.Fill()
	lp.srv.netIn.Add(c.reader.total - before)
	switch {
	case err == syscall.EAGAIN:
		return
	case errors.Is(err, errQueryBuffer):
		lp.srv.logger.Warn("client closed: query buffer limit", "client", c.addr, "limit", lp.srv.limits.MaxQueryBuffer)
		lp.srv.queryLimitCloses.Add(1)
		c.errorReply(msgQueryBufLimit)
		lp.flush(c)
		lp.drop(c)
		return
	case err != nil:
		lp.drop(c)
		return
	}
	c.noteRead()
	lp.run1(c)
}

// run1 executes c's buffered commands unless c is parked, and queues its
// replies to be written at the end of the turn.
// Messages pushed to c (a woken command's reply, pub/sub messages) go out
// before the replies of the commands that follow them. blocked is read
// before the pushed messages are taken: a parked command answered between
// the two would otherwise run the pipeline on with its reply left behind,
// sent after the replies of the commands that follow it.
func (lp *loop) run1(c *Client) {
	blocked := c.blocked.Load()
	c.takePushed()
	if c.overlapping && c.releaseReady() {
		c.overlapping = false
	}
	if !blocked && !c.runBuffered() {
		lp.flush(c)
		lp.drop(c)
		return
	}
	switch {
	case c.waitingWrite:
		c.pendingOut.Store(int64(len(c.out))) // written once the socket drains
	case len(c.out) > 0 && !c.writePending:
		c.writePending = true
		lp.pending = append(lp.pending, c)
	}
}

// writePending writes the replies of the turn's clients (see run1).
func (lp *loop) writePending() {
	for i, c := range lp.pending {
		lp.pending[i] = nil
		c.writePending = false
		if !c.fdClosed && !lp.flush(c) {
			lp.drop(c)
		}
	}
	lp.pending = lp.pending[:0]
}

// flush writes c's buffered replies without blocking. What the socket does
// not take stays buffered, and the loop waits for it to become writable.
// It reports false when the connection failed.
func (lp *loop) flush(c *Client) bool {
	if c.holdWrites {
		return true // a parked command's pipeline holds writes: see holdOutput
	}
	for len(c.out) > 0 {
		n, err := rawIO(syscall.SYS_WRITE, c.fd, c.out)
		if n > 0 {
			lp.srv.netOut.Add(int64(n))
			c.out = c.out[:copy(c.out, c.out[n:])]
		}
		if err == syscall.EAGAIN {
			c.pendingOut.Store(int64(len(c.out)))
			if !c.waitingWrite {
				c.waitingWrite = true
				lp.ctl(c, syscall.EPOLLOUT|syscall.EPOLLRDHUP)
			}
			return true
		}
		if err != nil {
			return false
		}
	}
	c.shrinkOutput()
	c.pendingOut.Store(0)
	if c.waitingWrite {
		c.waitingWrite = false
		lp.ctl(c, syscall.EPOLLIN|syscall.EPOLLRDHUP)
	}
	return true
}

func (lp *loop) ctl(c *Client, events uint32) {
	ev := syscall.EpollEvent{Events: events, Fd: int32(c.fd)}
	syscall.EpollCtl(lp.epfd, syscall.EPOLL_CTL_MOD, c.fd, &ev)
}

// drop closes c and forgets it.
func (lp *loop) drop(c *Client) {
	lp.mu.Lock()
	delete(lp.clients, c.fd)
	lp.mu.Unlock()
	lp.srv.unregister(c)
	c.fdMu.Lock()
	c.fdClosed = true
	syscall.EpollCtl(lp.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	syscall.Close(c.fd)
	c.fdMu.Unlock()
}

// shutdown makes c's loop see the connection end; any goroutine may call it.
func (lp *loop) shutdown(c *Client) {
	c.fdMu.Lock()
	if !c.fdClosed {
		syscall.Shutdown(c.fd, syscall.SHUT_RDWR)
	}
	c.fdMu.Unlock()
}

// closeIdle drops clients idle longer than the idle timeout.
func (lp *loop) closeIdle() {
	limit := time.Now().Add(-time.Duration(lp.srv.idleTimeout.Load())).UnixMilli()
	lp.mu.Lock()
	var idle []*Client
	for _, c := range lp.clients {
		if c.lastSeen.Load() < limit {
			idle = append(idle, c)
		}
	}
	lp.mu.Unlock()
	for _, c := range idle {
		lp.drop(c)
	}
}

// wake asks the loop to stop.
func (lp *loop) wake() {
	lp.stopping.Store(true)
	lp.signal()
}

// signal interrupts the loop's epoll_wait.
func (lp *loop) signal() {
	var one = [8]byte{1}
	syscall.Write(lp.wakefd, one[:])
}

// schedule asks the loop to flush c's pushed messages; any goroutine may
// call it.
func (lp *loop) schedule(c *Client) {
	lp.mu.Lock()
	lp.ready = append(lp.ready, c)
	lp.mu.Unlock()
	lp.signal()
}

// flushReady writes the pushed messages of the clients scheduled since the
// last call.
func (lp *loop) flushReady() {
	lp.mu.Lock()
	ready := lp.ready
	lp.ready = nil
	lp.mu.Unlock()
	for _, c := range ready {
		lp.mu.Lock()
		live := lp.clients[c.fd] == c
		lp.mu.Unlock()
		if !live {
			continue
		}
		lp.run1(c) // a woken blocked client goes on with its pipeline
	}
}

// stop closes every client of the loop and the loop's descriptors.
func (lp *loop) stop() {
	lp.mu.Lock()
	lp.stopped = true
	clients := make([]*Client, 0, len(lp.clients))
	for _, c := range lp.clients {
		clients = append(clients, c)
	}
	lp.mu.Unlock()
	for _, c := range clients {
		lp.drop(c)
	}
	lp.close()
}

func (lp *loop) close() {
	syscall.Close(lp.epfd)
	syscall.Close(lp.wakefd)
}
