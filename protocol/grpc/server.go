// Package grpc is cached's gRPC front end: the cache.v1.Cache service of
// cache/v1/cache.proto over a node.Node, the standard health service and
// server reflection. Like protocol/resp it holds no data: keys this node is
// the primary of go straight to its store, the others are forwarded to
// their primary over the node's peer links as the equivalent RESP command.
package grpc

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	cachepb "github.com/cached/cached/cache/v1"
	"github.com/cached/cached/node"
	"github.com/cached/cached/protocol/acl"
)

// Config configures a Server. Start from DefaultConfig.
type Config struct {
	// Addr is the address to listen on (host:port; port 0 picks a free
	// one, see Server.Addr).
	Addr string
	// Logger receives the server's logs.
	Logger *slog.Logger
	// MaxMessageSize bounds a request and a response, in bytes: the largest
	// value (or batch) that can be set or read over gRPC.
	MaxMessageSize int
	// MaxBatchKeys bounds the keys of one Delete, BatchGet, BatchSet or
	// Invalidate (its keys field); more is INVALID_ARGUMENT.
	MaxBatchKeys int
	// HealthInterval is how often the health service's status is updated
	// from the node's readiness.
	HealthInterval time.Duration
	// StopTimeout bounds Close's wait for calls in flight; the rest are
	// cut.
	StopTimeout time.Duration
	// Users, when set, authenticate and authorise calls (see auth.go);
	// nil: every call is allowed.
	Users *acl.Users
	// TLS, when set, serves gRPC over TLS with it (tls-grpc); nil serves
	// plain text.
	TLS *tls.Config
}

// DefaultConfig listens on 127.0.0.1:6380 and takes messages up to 64 MiB
// and batches up to 100,000 keys.
func DefaultConfig() Config {
	return Config{
		Addr:           "127.0.0.1:6380",
		Logger:         slog.Default(),
		MaxMessageSize: 64 << 20,
		MaxBatchKeys:   100_000,
		HealthInterval: 250 * time.Millisecond,
		StopTimeout:    5 * time.Second,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Logger == nil:
		return errors.New("grpc logger: must be set")
	case c.MaxMessageSize < 1<<10:
		return errors.New("grpc max message size: must be at least 1 KiB")
	case c.MaxBatchKeys < 1:
		return errors.New("grpc max batch keys: must be positive")
	case c.HealthInterval <= 0:
		return errors.New("grpc health interval: must be positive")
	case c.StopTimeout < 0:
		return errors.New("grpc stop timeout: must not be negative")
	case c.TLS != nil && c.TLS.MinVersion < tls.VersionTLS12:
		return errors.New("tls-grpc: the minimum version must be at least TLS 1.2")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return errors.New("grpc address: " + err.Error())
	}
	return nil
}

// HealthService is the name under which the health service reports the
// cache service; the empty name reports the same status.
const HealthService = "cache.v1.Cache"

// Server serves cache.v1.Cache, health and reflection for one node.
type Server struct {
	cachepb.UnimplementedCacheServer

	cfg     Config
	node    *node.Node
	logger  *slog.Logger
	grpc    *grpc.Server
	health  *health.Server
	stats   stats
	users   *acl.Users            // nil: no ACL
	methods map[string]methodRule // cache.v1.Cache methods as RESP commands

	ln        net.Listener
	stop      chan struct{}
	wg        sync.WaitGroup // the serve and health goroutines
	closeOnce sync.Once
	closeErr  error
}

// New returns a server for n. It starts nothing until Start.
func New(cfg Config, n *node.Node) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if n == nil {
		return nil, errors.New("grpc: node must be set")
	}
	s := &Server{cfg: cfg, node: n, logger: cfg.Logger, stop: make(chan struct{}), health: health.NewServer(), users: cfg.Users}
	if s.users != nil {
		s.methods = newMethodRules(s.users)
	}
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(cfg.MaxMessageSize),
		grpc.MaxSendMsgSize(cfg.MaxMessageSize),
		grpc.ChainUnaryInterceptor(s.authUnary, s.stats.interceptor),
		grpc.ChainStreamInterceptor(s.authStream),
	}
	if cfg.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg.TLS)))
	}
	s.grpc = grpc.NewServer(opts...)
	cachepb.RegisterCacheServer(s.grpc, s)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	s.updateHealth()
	return s, nil
}

// Start listens on Config.Addr and serves in the background until Close.
func (s *Server) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	s.ln = ln
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.grpc.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.logger.Error("grpc server stopped", "err", err)
		}
	}()
	go s.healthLoop()
	return nil
}

// Addr returns the address the server listens on (after Start).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops serving: calls in flight get up to StopTimeout to finish.
// It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.health.Shutdown()
		done := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(done) }()
		t := time.NewTimer(s.cfg.StopTimeout)
		select {
		case <-done:
		case <-t.C:
			s.grpc.Stop()
			<-done
		}
		t.Stop()
		s.wg.Wait()
	})
	return s.closeErr
}

// healthLoop keeps the health status in step with the node's readiness.
func (s *Server) healthLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.updateHealth()
		}
	}
}

// serving reports whether the node can serve: it is ready (in a cluster:
// min-members seen) and, clustered, has a view of the cluster.
func (s *Server) serving() bool {
	if !s.node.Ready() {
		return false
	}
	return !s.node.Clustered() || s.node.View() != nil
}

func (s *Server) updateHealth() {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if s.serving() {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus("", st)
	s.health.SetServingStatus(HealthService, st)
}
