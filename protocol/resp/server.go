// Package resp is the Redis front end of a cache node: it accepts RESP2 and
// RESP3 connections, parses commands within configured limits, dispatches
// them through one command table (what COMMAND reports) to the node's Go API,
// and encodes replies. It holds no data of its own.
package resp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/cached/cached/node"
	"github.com/cached/cached/node/origin"
	"github.com/cached/cached/protocol/acl"
)

// Config configures a Server. Start from DefaultConfig.
type Config struct {
	// Addr is the TCP address to listen on; port 0 picks a free port.
	// Empty: no plain-text listener (then TLSAddr must be set).
	Addr string
	// TLSAddr, when set, is the address of a TLS listener for clients
	// (tls-port), served with TLS; port 0 picks a free port.
	TLSAddr string
	// TLS configures the TLS listener; required with TLSAddr.
	TLS *tls.Config
	// PeerTLS, when set, makes the peer listener serve TLS with it
	// (tls-cluster): it should require client certificates, since peers
	// are trusted without AUTH.
	PeerTLS *tls.Config
	// PeerAddr, when set, is the address of the listener other cluster
	// nodes use (forwarding, replication, hand-off).
	PeerAddr string
	// RequirePass, when set, is the password clients must AUTH with: the
	// default user's password. With Users set, the caller applies it.
	RequirePass string
	// Users are the ACL users clients authenticate as; nil: a new set
	// whose default user has RequirePass. Share it with the other front
	// ends so that they know the same identities.
	Users *acl.Users
	// ACLFile is where ACL LOAD reads and ACL SAVE writes users (aclfile);
	// empty: those commands fail.
	ACLFile string
	// ACLLogMaxLen bounds the ACL LOG entries kept (acllog-max-len).
	ACLLogMaxLen int
	// ProtectedMode (protected-mode): while the default user needs no
	// password, only loopback clients run as it; others must AUTH as a
	// user with a password (see protectedAnonymous).
	ProtectedMode bool
	// MaxClients bounds simultaneous connections (maxclients).
	MaxClients int
	// IdleTimeout closes clients idle this long; 0 never (timeout).
	IdleTimeout time.Duration
	// Limits bound request sizes.
	Limits Limits
	// Version is the cached version reported by INFO.
	Version string
	// Settings are the other values CONFIG GET reports (redis.conf names).
	Settings map[string]string
	// EventLoops serves clients from epoll event loops where the platform
	// has them (Linux); otherwise, or when false, each client gets a
	// goroutine.
	EventLoops bool
	// IOThreads is the number of event loops (io-threads); 0 means half the
	// cores (GOMAXPROCS), at least one: the other half runs the garbage
	// collector and background work, and on a small machine the clients.
	IOThreads int
	// PubsubOutputLimit disconnects a subscriber whose unsent messages pass
	// this many bytes (client-output-buffer-limit pubsub).
	PubsubOutputLimit int64
	// OutputLimit disconnects any other client whose unsent replies pass
	// this many bytes; 0 is no limit, Redis's default
	// (client-output-buffer-limit normal).
	OutputLimit int64
	// Logger receives connection-level logs.
	Logger *slog.Logger
	// Origins, when set, loads and writes keys matching its rules from
	// and to their origins (see origin.go). The server starts and closes
	// it.
	Origins *origin.Engine
	// SlowlogSlowerThan is the duration from which a command goes to the
	// slow log (slowlog-log-slower-than); negative: never, 0: always.
	SlowlogSlowerThan time.Duration
	// SlowlogMaxLen is the number of slow log entries kept (slowlog-max-len).
	SlowlogMaxLen int
	// LatencyMonitorThreshold is the latency from which the latency monitor
	// records a spike (latency-monitor-threshold, in whole milliseconds);
	// 0: off.
	LatencyMonitorThreshold time.Duration
	// Tracer, when set, traces sampled commands and their forwarded hops
	// (OpenTelemetry); nil: tracing off.
	Tracer trace.Tracer
	// TraceSampleRatio is the share of commands traced, in [0, 1].
	TraceSampleRatio float64
}

// DefaultConfig returns Redis's defaults on 127.0.0.1:6379.
func DefaultConfig() Config {
	return Config{
		Addr:              "127.0.0.1:6379",
		MaxClients:        10000,
		Limits:            DefaultLimits(),
		Version:           "dev",
		EventLoops:        true,
		PubsubOutputLimit: 32 << 20,
		ACLLogMaxLen:      128,
		Logger:            slog.Default(),
		SlowlogSlowerThan: 10 * time.Millisecond,
		SlowlogMaxLen:     128,
		TraceSampleRatio:  0.01,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.MaxClients < 1 {
		return fmt.Errorf("maxclients: must be at least 1, got %d", c.MaxClients)
	}
	if c.IOThreads < 0 || c.IOThreads > 1024 {
		return fmt.Errorf("io-threads: must be 0..1024, got %d", c.IOThreads)
	}
	if c.PubsubOutputLimit < 1 {
		return fmt.Errorf("client-output-buffer-limit pubsub: must be positive")
	}
	if c.ACLLogMaxLen < 1 {
		return fmt.Errorf("acllog-max-len: must be at least 1, got %d", c.ACLLogMaxLen)
	}
	if c.OutputLimit < 0 {
		return fmt.Errorf("client-output-buffer-limit normal: must not be negative")
	}
	if c.IdleTimeout < 0 {
		return fmt.Errorf("timeout: must not be negative")
	}
	if c.Logger == nil {
		return errors.New("logger: must be set")
	}
	if err := c.validateTLS(); err != nil {
		return err
	}
	if err := c.validateObservability(); err != nil {
		return err
	}
	return c.Limits.Validate()
}

// Server serves RESP for one node. Create it with New, then Start.
type Server struct {
	node    *node.Node
	logger  *slog.Logger
	version string
	started time.Time

	// Settings CONFIG SET may change while clients run.
	requirePass atomic.Pointer[string]
	users       *acl.Users
	aclFile     string
	aclLog      *acl.Log
	protected   bool // ProtectedMode
	maxClients  atomic.Int64
	idleTimeout atomic.Int64 // nanoseconds
	limits      Limits
	settings    map[string]string // read-only after New

	addr        string
	peerAddr    string
	peerLn      net.Listener
	tls         tlsListener
	clustered   bool // the node is a cluster member: route keyed commands
	waitWrites  bool // writes wait for their replicas or the log (node.WaitsForWrites)
	eventLoops  bool
	ioThreads   int
	ln          net.Listener
	loops       []*loop   // event loops, when serving with them
	execLocks   execLocks // one per loop, then one for goroutine clients
	pubsub      *pubsub
	blocking    blocking
	pubsubLimit int64
	outputLimit int64      // client-output-buffer-limit normal; 0: none
	mu          sync.Mutex // guards clients
	clients     map[int64]*Client
	peersMu     sync.Mutex        // guards peers
	peers       map[int64]*Client // connections from other nodes
	nextID      atomic.Int64
	wg          sync.WaitGroup
	closed      atomic.Bool
	stopOnce    sync.Once

	// Counters INFO reports.
	connsReceived atomic.Int64
	connsRejected atomic.Int64
	cmdsDone      atomic.Int64 // commands of closed clients; live ones count their own
	netIn         atomic.Int64
	netOut        atomic.Int64
	tracking      tracking      // CLIENT TRACKING table
	inval         invalidations // expiry/eviction and registration work (invalidation.go)
	forwarded     atomic.Int64  // commands sent to another node
	forwardErrors atomic.Int64
	// Clients closed for passing an output or the query buffer limit.
	outputLimitCloses atomic.Int64
	queryLimitCloses  atomic.Int64
	origins           *origin.Engine // nil without origin rules

	// Observability (cmdstats.go, slowlog.go, latency.go, trace.go).
	stats   *cmdStats
	slowlog slowlog
	latency latencyMonitor
	tracer  *tracer // nil when tracing is off
}

// New returns a server for n. It does not listen until Start.
func New(cfg Config, n *node.Node) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		node:        n,
		logger:      cfg.Logger,
		version:     cfg.Version,
		limits:      cfg.Limits,
		settings:    cfg.Settings,
		addr:        cfg.Addr,
		peerAddr:    cfg.PeerAddr,
		tls:         tlsListener{addr: cfg.TLSAddr, config: cfg.TLS, peerConfig: cfg.PeerTLS},
		clustered:   n.Clustered(),
		waitWrites:  n.WaitsForWrites(),
		eventLoops:  cfg.EventLoops,
		ioThreads:   cfg.IOThreads,
		clients:     make(map[int64]*Client),
		peers:       make(map[int64]*Client),
		pubsub:      newPubsub(),
		pubsubLimit: cfg.PubsubOutputLimit,
		outputLimit: cfg.OutputLimit,
		origins:     cfg.Origins,
	}
	pass := cfg.RequirePass
	s.requirePass.Store(&pass)
	s.users, s.aclFile, s.aclLog = cfg.Users, cfg.ACLFile, acl.NewLog(cfg.ACLLogMaxLen)
	s.protected = cfg.ProtectedMode
	if s.users == nil {
		s.users = acl.NewUsers(aclCatalog)
		s.users.SetDefaultPassword(pass)
	}
	s.maxClients.Store(int64(cfg.MaxClients))
	s.idleTimeout.Store(int64(cfg.IdleTimeout))
	s.hookInvalidations()
	s.initObservability(cfg)
	return s, nil
}

// Start listens and serves in the background until Close.
func (s *Server) Start(ctx context.Context) error {
	if err := s.listen(ctx); err != nil {
		return err
	}
	s.started = time.Now()
	if s.eventLoops && s.ln != nil {
		ok, err := s.startLoops()
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("resp: event loops: %w", err)
		}
		if ok {
			s.startTLS()
			s.startPeers()
			s.startInvalidations()
			return nil
		}
	}
	s.execLocks = make(execLocks, 1)
	if s.ln != nil {
		s.wg.Add(1)
		go s.acceptLoop()
	}
	s.startTLS()
	s.startPeers()
	s.startInvalidations()
	return nil
}

// listen opens the client, TLS and peer listeners that are configured; on
// an error it closes those it opened.
func (s *Server) listen(ctx context.Context) error {
	var lc net.ListenConfig
	if s.addr != "" {
		ln, err := lc.Listen(ctx, "tcp", s.addr)
		if err != nil {
			return fmt.Errorf("resp: listen on %s: %w", s.addr, err)
		}
		s.ln = ln
	}
	if s.tls.addr != "" {
		ln, err := lc.Listen(ctx, "tcp", s.tls.addr)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("resp: listen for TLS on %s: %w", s.tls.addr, err)
		}
		s.tls.ln = ln
	}
	if s.peerAddr != "" {
		pl, err := lc.Listen(ctx, "tcp", s.peerAddr)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("resp: listen for peers on %s: %w", s.peerAddr, err)
		}
		if s.tls.peerConfig != nil {
			pl = tls.NewListener(pl, s.tls.peerConfig)
		}
		s.peerLn = pl
	}
	return nil
}

// closeListeners closes the listeners Start opened.
func (s *Server) closeListeners() {
	for _, ln := range []net.Listener{s.ln, s.tls.ln, s.peerLn} {
		if ln != nil {
			ln.Close()
		}
	}
}

// startPeers serves the peer listener, if any, once the exec locks exist,
// and starts the origins.
func (s *Server) startPeers() {
	if s.origins != nil {
		s.origins.Start(s.originChanged)
	}
	if s.peerLn != nil {
		s.wg.Add(1)
		go s.acceptPeers()
	}
}

// Addr returns the address the server listens on for clients: the plain
// listener's, or without one the TLS listener's.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return s.tls.ln.Addr()
	}
	return s.ln.Addr()
}

// PeerListenAddr returns the address of the peer listener (nil without one).
func (s *Server) PeerListenAddr() net.Addr {
	if s.peerLn == nil {
		return nil
	}
	return s.peerLn.Addr()
}

// acceptPeers serves other nodes' connections, each on its own goroutine:
// they are few and pipelined. Peers are not counted as clients (maxclients,
// CLIENT LIST) and have no idle timeout.
func (s *Server) acceptPeers() {
	defer s.wg.Done()
	for {
		nc, err := s.peerLn.Accept()
		if err != nil {
			if s.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			s.logger.Warn("peer accept failed", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		c := s.newClient(nc.RemoteAddr().String(), nc.LocalAddr().String())
		c.conn = nc
		c.peer = true
		c.authed = true
		c.user = s.users.Internal() // peer links are internal: no ACL applies
		c.execLock = &s.execLocks[len(s.execLocks)-1]
		c.reader = NewReader(nc, s.limits)
		s.peersMu.Lock()
		if s.closed.Load() {
			s.peersMu.Unlock()
			nc.Close()
			return
		}
		s.peers[c.id] = c
		s.peersMu.Unlock()
		s.wg.Add(1)
		go func() {
			if !s.handshake(nc) {
				s.wg.Done()
			} else {
				s.serve(c)
			}
			s.peersMu.Lock()
			delete(s.peers, c.id)
			s.peersMu.Unlock()
		}()
	}
}

// Close stops accepting, closes every client and waits for their goroutines.
// It is idempotent.
func (s *Server) Close() error {
	var err error
	s.stopOnce.Do(func() {
		s.closed.Store(true)
		s.stopInvalidations()
		if s.ln != nil {
			err = s.ln.Close()
		}
		if s.peerLn != nil {
			s.peerLn.Close()
		}
		s.stopTLS()
		s.peersMu.Lock()
		for _, c := range s.peers {
			c.conn.Close()
		}
		s.peersMu.Unlock()
		s.mu.Lock()
		for _, c := range s.clients {
			if c.conn != nil {
				c.conn.Close()
			}
		}
		s.mu.Unlock()
		for _, lp := range s.loops {
			lp.wake()
		}
		s.wg.Wait()
		if s.origins != nil {
			err = errors.Join(err, s.origins.Close())
		}
	})
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Temporary failure such as EMFILE: back off, do not spin.
			backoff = min(max(backoff*2, 5*time.Millisecond), time.Second)
			s.logger.Warn("accept failed", "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		s.connsReceived.Add(1)
		c := s.newClient(nc.RemoteAddr().String(), nc.LocalAddr().String())
		c.conn = nc
		c.execLock = &s.execLocks[len(s.execLocks)-1]
		c.reader = NewReader(nc, s.limits)
		if !s.register(c) {
			s.connsRejected.Add(1)
			nc.Write([]byte("-" + msgMaxClients + "\r\n"))
			nc.Close()
			continue
		}
		s.wg.Add(1)
		go s.serve(c)
	}
}

// newClient returns the state of a new connection; the caller sets its
// transport and reader.
func (s *Server) newClient(addr, laddr string) *Client {
	c := &Client{
		srv:     s,
		id:      s.nextID.Add(1),
		addr:    addr,
		laddr:   laddr,
		created: time.Now(),
		user:    s.users.Default(),
		authed:  s.users.AnonymousAccess() && !s.protectedAnonymous(addr),
	}
	c.lastSeen.Store(c.created.UnixMilli())
	c.proto.Store(2)
	return c
}

// register adds c unless maxclients is reached (or the server is closing).
func (s *Server) register(c *Client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() || int64(len(s.clients)) >= s.maxClients.Load() {
		return false
	}
	s.clients[c.id] = c
	return true
}

func (s *Server) unregister(c *Client) {
	s.pubsub.removeAll(c)
	s.unblock(c)
	c.cancelRemote()
	s.untrack(c)
	s.mu.Lock()
	delete(s.clients, c.id)
	s.mu.Unlock()
	s.cmdsDone.Add(c.cmds.Load())
}

// outputFlushSize is the reply size that is flushed mid-pipeline, so a long
// pipeline's replies do not pile up in memory.
const outputFlushSize = 64 << 10

// serve runs one client on its own goroutine: read what is available,
// execute every complete command, flush the replies once, repeat.
func (s *Server) serve(c *Client) {
	defer s.wg.Done()
	defer s.unregister(c)
	defer c.conn.Close()
	for {
		if !c.runBuffered() {
			c.flush()
			return
		}
		if !c.flush() {
			return
		}
		if timeout := time.Duration(s.idleTimeout.Load()); timeout > 0 && !c.peer {
			c.conn.SetReadDeadline(time.Now().Add(timeout))
			c.deadlineSet = true
		} else if c.deadlineSet {
			c.conn.SetReadDeadline(time.Time{}) // CONFIG SET timeout 0
			c.deadlineSet = false
		}
		before := c.reader.total
		err := c.reader.Fill()
		s.netIn.Add(c.reader.total - before)
		if err != nil {
			if errors.Is(err, errQueryBuffer) {
				s.logger.Warn("client closed: query buffer limit", "client", c.addr, "limit", s.limits.MaxQueryBuffer)
				s.queryLimitCloses.Add(1)
				c.errorReply(msgQueryBufLimit)
				c.flush()
			}
			return
		}
		c.noteRead()
	}
}

// runBuffered executes every complete command buffered, flushing when the
// replies grow large. It reports false when the connection must close after
// its replies are flushed (a protocol error, QUIT, a CLIENT KILL of itself,
// or a failed write).
func (c *Client) runBuffered() bool {
	c.execLock.RLock()
	defer c.execLock.RUnlock()
	// A parked command may have to run again (see rerun) before the
	// commands behind it: look for one first, and after each command that
	// parked and was woken at once.
	c.wokenAt = true
	c.startBatch()
	for {
		var args [][]byte
		var fetched bool
		if c.wokenAt {
			c.wokenAt = false
			c.pushMu.Lock()
			args, fetched = c.replay, c.replayFetched
			c.replay = nil
			c.pushMu.Unlock()
		}
		if args == nil {
			var ok bool
			var err error
			args, ok, err = c.reader.Next()
			if err != nil {
				c.errorReply("ERR " + err.Error())
				return false
			}
			if !ok {
				if c.holdWrites {
					c.holdWrites = false
					c.holdOutput()
				}
				return !c.closing
			}
			c.cmds.Add(1)
		}
		c.fetched = fetched
		before := len(c.out)
		c.call(args)
		c.fetched = false
		if c.overlapping {
			c.holdBehind(before)
			if c.releaseReady() {
				c.overlapping = false
			}
		}
		if c.closing {
			return false
		}
		if c.resumed() {
			return true // parked: the rest waits until it is woken
		}
		if len(c.out) >= outputFlushSize {
			if c.holdWrites {
				c.holdWrites = false
				if c.holdOutput() {
					return true
				}
				if c.closing {
					return false
				}
			}
			if !c.flush() {
				return false
			}
			c.startBatch() // the flush's time is no command's
		}
		if c.overOutputLimit() {
			return false
		}
	}
}

// resumed reports whether the command just run left c parked. A command
// that parked and was answered already has its reply in the push buffer:
// it goes out now, before the replies of the commands that follow.
func (c *Client) resumed() bool {
	if c.blocked.Load() {
		return true
	}
	if c.suspended {
		c.suspended = false
		c.wokenAt = true
		c.takePushed()
	}
	return false
}

// flush writes the buffered replies. On a goroutine transport it blocks
// until they are written; on an event loop it writes what the socket takes
// and keeps the rest. It reports false when the connection failed.
func (c *Client) flush() bool {
	if c.lp != nil {
		return c.lp.flush(c)
	}
	if len(c.out) == 0 || c.holdWrites {
		return true
	}
	c.writeMu.Lock()
	n, err := c.conn.Write(c.out)
	c.writeMu.Unlock()
	c.srv.netOut.Add(int64(n))
	c.out = c.out[:0]
	c.shrinkOutput()
	return err == nil
}

// shrinkOutput drops an empty output buffer that a huge reply grew.
func (c *Client) shrinkOutput() {
	if len(c.out) == 0 && cap(c.out) > 4*outputFlushSize {
		c.out = nil
	}
}

// ClientCount returns the number of connected clients.
func (s *Server) ClientCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// clientList returns the connected clients ordered by id.
func (s *Server) clientList() []*Client {
	s.mu.Lock()
	out := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	s.mu.Unlock()
	sortClients(out)
	return out
}
