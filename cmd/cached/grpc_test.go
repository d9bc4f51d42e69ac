package main

import (
	"context"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	cachepb "github.com/cached/cached/cache/v1"
)

// TestRunGRPC starts the program with a gRPC port and uses it: health,
// then a Set read back over RESP.
func TestRunGRPC(t *testing.T) {
	respPort, grpcPort := freePort(t), freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--port", strconv.Itoa(respPort), "--grpc-port", strconv.Itoa(grpcPort)},
			env("CACHED_ADMIN_PORT", "0"), io.Discard) // no admin server where there is one
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	conn, err := grpc.NewClient(net.JoinHostPort("127.0.0.1", strconv.Itoa(grpcPort)), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		cctx, ccancel := context.WithTimeout(context.Background(), time.Second)
		r, err := healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{Service: "cache.v1.Cache"})
		ccancel()
		if err == nil && r.Status == healthpb.HealthCheckResponse_SERVING {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gRPC not serving: %v %v", r, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer ccancel()
	c := cachepb.NewCacheClient(conn)
	if _, err := c.Set(cctx, &cachepb.SetRequest{Key: []byte("k"), Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	r, err := c.Get(cctx, &cachepb.GetRequest{Key: []byte("k")})
	if err != nil || string(r.Value) != "v" {
		t.Fatalf("Get = %v, %v", r, err)
	}
}
