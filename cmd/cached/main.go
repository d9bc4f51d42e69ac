// Command cached runs a cache node that speaks the Redis protocol.
//
// Settings come from flags, CACHED_* environment variables and an optional
// YAML file (see -help); run with no arguments it serves 127.0.0.1:6379.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/cached/cached/node"
	"github.com/cached/cached/protocol/resp"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := run(context.Background(), os.Args[1:], os.LookupEnv, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "cached:", err)
		}
		os.Exit(2)
	}
}

// errUsage: the flags were wrong and the flag package already said why.
var errUsage = errors.New("usage")

// run starts a node and its RESP server and serves until ctx ends or a
// SIGINT/SIGTERM arrives.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer) error {
	cfg, err := loadConfig(args, lookupEnv, stderr)
	if err != nil {
		var fe flagError
		if errors.As(err, &fe) {
			return errUsage
		}
		return err
	}
	logger := newLogger(stderr, cfg)
	cfg.node.Logger = logger
	cfg.resp.Logger = logger
	cfg.resp.Version = version
	limitHeap(cfg.node.Store.MaxMemory)
	users, err := newUsers(cfg)
	if err != nil {
		return err
	}
	if err := checkProtectedMode(cfg, users); err != nil {
		return err
	}
	cfg.resp.Users = users
	cfg.resp.ProtectedMode = cfg.protectedMode
	defer cfg.security.watch(logger)()
	tracer, stopTracing, err := startTracing(ctx, cfg.otelEndpoint)
	if err != nil {
		return fmt.Errorf("otel-endpoint: %w", err)
	}
	defer flushTraces(stopTracing, logger)
	cfg.resp.Tracer = tracer

	n, err := node.New(cfg.node)
	if err != nil {
		return err
	}
	if cfg.resp.Origins, err = newOrigins(cfg, logger); err != nil {
		return err
	}
	srv, err := resp.New(cfg.resp, n)
	if err != nil {
		if cfg.resp.Origins != nil {
			cfg.resp.Origins.Close()
		}
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	tuned := make(chan struct{})
	go func() {
		defer close(tuned)
		tuneGC(ctx, os.Getenv("GOGC") != "")
	}()
	defer func() { stop(); <-tuned }()
	if err := n.Start(ctx); err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		n.Close()
		return err
	}
	grpcSrv, err := startGRPC(ctx, cfg, n, logger)
	if err != nil {
		return errors.Join(err, srv.Close(), n.Close())
	}
	ready := newReadiness(n)
	var admin *adminServer
	if cfg.adminAddr != "" {
		if admin, err = startAdmin(cfg.adminAddr, requireAdmin(users, adminHandler(newRegistry(n, srv, ready.ok), ready, n)), logger); err != nil {
			return errors.Join(err, grpcSrv.Close(), srv.Close(), n.Close())
		}
	}
	closeAdmin := func() error {
		if admin == nil {
			return nil
		}
		return admin.Close()
	}
	if n.Clustered() {
		host := cfg.node.Cluster.AdvertiseHost
		respAddr := srv.Addr()
		if cfg.security.advertiseTLS() {
			respAddr = srv.TLSAddr()
		}
		addrs := node.Addresses{
			RESP: net.JoinHostPort(host, port(respAddr)),
			Peer: net.JoinHostPort(host, port(srv.PeerListenAddr())),
			GRPC: grpcAddr(host, grpcSrv),
		}
		if err := n.JoinCluster(ctx, addrs); err != nil {
			return errors.Join(err, grpcSrv.Close(), closeAdmin(), srv.Close(), n.Close())
		}
	}
	ready.serving.Store(true)
	if a := srv.TLSAddr(); a != nil {
		logger.Info("tls serving", "addr", a.String(), "tls_cluster", cfg.security.cluster, "tls_grpc", cfg.security.grpc)
	}
	logger.Info("cached ready", "version", version, "addr", srv.Addr().String(),
		"maxmemory", cfg.node.Store.MaxMemory, "maxmemory_policy", cfg.node.Store.Policy.String())
	<-ctx.Done()
	logger.Info("shutting down")
	ready.serving.Store(false)
	var leaveErr error
	if n.Clustered() {
		leaveCtx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
		leaveErr = n.Leave(leaveCtx)
		cancel()
	}
	return errors.Join(leaveErr, grpcSrv.Close(), srv.Close(), n.Close(), closeAdmin())
}

// leaveTimeout bounds the hand-off of a node's slots at shutdown; keep the
// pod's terminationGracePeriodSeconds above it.
const leaveTimeout = 60 * time.Second

// port returns the port of a listener's address.
func port(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// limitHeap tells the Go runtime to collect harder as the heap nears the
// data limit, so RSS stays near maxmemory whatever the GC tuner decides. The
// headroom covers connection buffers and runtime overhead. An explicit
// GOMEMLIMIT wins.
func limitHeap(maxMemory int64) {
	if maxMemory <= 0 || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(maxMemory + maxMemory/16 + 8<<20)
}

func newLogger(w io.Writer, cfg *config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.logLevel}
	if cfg.logJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
