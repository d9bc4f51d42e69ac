package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/cached/cached/node"
	cachegrpc "github.com/cached/cached/protocol/grpc"
)

// startGRPC starts the gRPC front end (cache.v1.Cache, health, reflection)
// on bind:grpc-port; grpc-port 0 picks a free port.
func startGRPC(ctx context.Context, cfg *config, n *node.Node, logger *slog.Logger) (*cachegrpc.Server, error) {
	gc := cachegrpc.DefaultConfig()
	gc.Addr = net.JoinHostPort(cfg.settings["bind"], cfg.settings["grpc-port"])
	gc.Logger = logger
	gc.Users = cfg.resp.Users
	gc.TLS = cfg.security.grpcTLS()
	s, err := cachegrpc.New(gc, n)
	if err != nil {
		return nil, err
	}
	if err := s.Start(ctx); err != nil {
		return nil, fmt.Errorf("grpc: %w", err)
	}
	logger.Info("grpc serving", "addr", s.Addr().String())
	return s, nil
}

// grpcAddr is the gRPC address other members and clients are told: the
// advertised host and the port the server listens on.
func grpcAddr(host string, s *cachegrpc.Server) string {
	return net.JoinHostPort(host, port(s.Addr()))
}
