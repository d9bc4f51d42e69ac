// Package resp is the Redis front end of a cache node: it accepts RESP2 and
// RESP3 connections, parses commands within configured limits, dispatches
// them through one command table (what COMMAND reports) to the node's Go API,
// and encodes replies. It holds no data of its own.
package resp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cached/cached/node"
)

// Config configures a Server. Start from DefaultConfig.
type Config struct {
	// Addr is the TCP address to listen on; port 0 picks a free port.
	Addr string
	// RequirePass, when set, is the password clients must AUTH with.
	RequirePass string
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
	// Logger receives connection-level logs.
	Logger *slog.Logger
}

// DefaultConfig returns Redis's defaults on 127.0.0.1:6379.
func DefaultConfig() Config {
	return Config{
		Addr:       "127.0.0.1:6379",
		MaxClients: 10000,
		Limits:     DefaultLimits(),
		Version:    "dev",
		Logger:     slog.Default(),
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.MaxClients < 1 {
		return fmt.Errorf("maxclients: must be at least 1, got %d", c.MaxClients)
	}
	if c.IdleTimeout < 0 {
		return fmt.Errorf("timeout: must not be negative")
	}
	if c.Logger == nil {
		return errors.New("logger: must be set")
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
	maxClients  atomic.Int64
	idleTimeout atomic.Int64 // nanoseconds
	limits      Limits
	settings    map[string]string // read-only after New

	addr     string
	ln       net.Listener
	mu       sync.Mutex // guards clients
	clients  map[int64]*Client
	nextID   atomic.Int64
	wg       sync.WaitGroup
	closed   atomic.Bool
	stopOnce sync.Once

	// Counters INFO reports.
	connsReceived atomic.Int64
	connsRejected atomic.Int64
	cmdsDone      atomic.Int64 // commands of closed clients; live ones count their own
	netIn         atomic.Int64
	netOut        atomic.Int64
}

// New returns a server for n. It does not listen until Start.
func New(cfg Config, n *node.Node) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		node:     n,
		logger:   cfg.Logger,
		version:  cfg.Version,
		limits:   cfg.Limits,
		settings: cfg.Settings,
		addr:     cfg.Addr,
		clients:  make(map[int64]*Client),
	}
	pass := cfg.RequirePass
	s.requirePass.Store(&pass)
	s.maxClients.Store(int64(cfg.MaxClients))
	s.idleTimeout.Store(int64(cfg.IdleTimeout))
	return s, nil
}

// Start listens and serves in the background until Close.
func (s *Server) Start(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("resp: listen on %s: %w", s.addr, err)
	}
	s.ln = ln
	s.started = time.Now()
	s.wg.Add(1)
	go s.acceptLoop()
	return nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops accepting, closes every client and waits for their goroutines.
// It is idempotent.
func (s *Server) Close() error {
	var err error
	s.stopOnce.Do(func() {
		s.closed.Store(true)
		if s.ln != nil {
			err = s.ln.Close()
		}
		s.mu.Lock()
		for _, c := range s.clients {
			c.conn.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
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
		c := s.newClient(nc)
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

func (s *Server) newClient(nc net.Conn) *Client {
	c := &Client{
		srv:     s,
		conn:    nc,
		reader:  NewReader(nc, s.limits),
		id:      s.nextID.Add(1),
		addr:    nc.RemoteAddr().String(),
		laddr:   nc.LocalAddr().String(),
		created: time.Now(),
		proto:   2,
		authed:  *s.requirePass.Load() == "",
	}
	c.lastSeen.Store(c.created.UnixMilli())
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
	s.mu.Lock()
	delete(s.clients, c.id)
	s.mu.Unlock()
	s.cmdsDone.Add(c.cmds.Load())
}

// outputFlushSize is the reply size that is flushed mid-pipeline, so a long
// pipeline's replies do not pile up in memory.
const outputFlushSize = 64 << 10

// serve runs one client: read what is available, execute every complete
// command, flush the replies once, repeat.
func (s *Server) serve(c *Client) {
	defer s.wg.Done()
	defer s.unregister(c)
	defer c.conn.Close()
	for {
		args, ok, err := c.reader.Next()
		if err != nil {
			c.errorReply("ERR " + err.Error())
			c.flush()
			return
		}
		if !ok {
			if !c.flush() {
				return
			}
			if timeout := time.Duration(s.idleTimeout.Load()); timeout > 0 {
				c.conn.SetReadDeadline(time.Now().Add(timeout))
			}
			before := c.reader.total
			err := c.reader.Fill()
			s.netIn.Add(c.reader.total - before)
			if err != nil {
				if errors.Is(err, errQueryBuffer) {
					s.logger.Warn("client closed: query buffer limit", "client", c.addr, "limit", s.limits.MaxQueryBuffer)
					c.errorReply(msgQueryBufLimit)
					c.flush()
				}
				return
			}
			c.lastSeen.Store(time.Now().UnixMilli())
			continue
		}
		c.cmds.Add(1)
		c.execute(args)
		if c.closing {
			c.flush()
			return
		}
		if len(c.out) >= outputFlushSize && !c.flush() {
			return
		}
	}
}

// flush writes the buffered replies. It reports false when the connection
// failed.
func (c *Client) flush() bool {
	if len(c.out) == 0 {
		return true
	}
	n, err := c.conn.Write(c.out)
	c.srv.netOut.Add(int64(n))
	if cap(c.out) > 4*outputFlushSize {
		c.out = nil // drop a buffer a huge reply grew
	} else {
		c.out = c.out[:0]
	}
	return err == nil
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
