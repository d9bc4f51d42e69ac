package grpc

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	cachepb "github.com/cached/cached/cache/v1"
	"github.com/cached/cached/node"
	"github.com/cached/cached/protocol/acl"
	"github.com/cached/cached/protocol/resp"
)

// startWithUsers starts a single node's gRPC server that checks users,
// and returns a connection to it.
func startWithUsers(t *testing.T, users *acl.Users) *grpc.ClientConn {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ncfg := node.DefaultConfig()
	ncfg.Logger = logger
	n, err := node.New(ncfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Addr, cfg.Logger, cfg.Users = "127.0.0.1:0", logger, users
	s, err := New(cfg, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(s.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); s.Close(); n.Close() })
	return conn
}

func basic(user, pass string) metadata.MD {
	return metadata.Pairs("authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
}

func TestAuthMetadata(t *testing.T) {
	users := acl.NewUsers(resp.ACLCatalog())
	users.SetDefaultPassword("root")
	if err := users.SetUser("reader", []string{"on", ">r", "~pub:*", "+@read"}); err != nil {
		t.Fatal(err)
	}
	if err := users.SetUser("writer", []string{"on", ">w", "~*", "+@write", "+@read"}); err != nil {
		t.Fatal(err)
	}
	conn := startWithUsers(t, users)
	client := cachepb.NewCacheClient(conn)
	get := func(ctx context.Context, key string) error {
		_, err := client.Get(ctx, &cachepb.GetRequest{Key: []byte(key)})
		return err
	}
	set := func(ctx context.Context, key string) error {
		_, err := client.Set(ctx, &cachepb.SetRequest{Key: []byte(key), Value: []byte("v")})
		return err
	}
	invalidatePrefix := func(ctx context.Context, key string) error {
		_, err := client.Invalidate(ctx, &cachepb.InvalidateRequest{Prefix: []byte(key)})
		return err
	}
	batchSet := func(ctx context.Context, key string) error {
		_, err := client.BatchSet(ctx, &cachepb.BatchSetRequest{Entries: []*cachepb.Entry{{Key: []byte("pub:ok"), Value: []byte("v")}, {Key: []byte(key), Value: []byte("v")}}})
		return err
	}
	tests := []struct {
		name string
		md   metadata.MD
		call func(context.Context, string) error
		key  string
		code codes.Code
	}{
		{"no credentials", nil, get, "k", codes.Unauthenticated},
		{"wrong password", basic("default", "nope"), get, "k", codes.Unauthenticated},
		{"unknown user", basic("nobody", "x"), get, "k", codes.Unauthenticated},
		{"not basic", metadata.Pairs("authorization", "Bearer x"), get, "k", codes.Unauthenticated},
		{"bad base64", metadata.Pairs("authorization", "Basic %%%"), get, "k", codes.Unauthenticated},
		{"default user, basic", basic("default", "root"), set, "k", codes.OK},
		{"default user, password key", metadata.Pairs("password", "root"), get, "k", codes.OK},
		{"acl user, username and password keys", metadata.Pairs("username", "reader", "password", "r"), get, "pub:1", codes.OK},
		{"denied key", basic("reader", "r"), get, "secret", codes.PermissionDenied},
		{"denied command", basic("reader", "r"), set, "pub:1", codes.PermissionDenied},
		{"batch with a denied key", basic("writer", "w"), batchSet, "any", codes.OK},
		{"prefix needs every key", metadata.Pairs("username", "reader", "password", "r"), invalidatePrefix, "pub:", codes.PermissionDenied},
		{"writer may invalidate", basic("writer", "w"), invalidatePrefix, "pub:", codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := metadata.NewOutgoingContext(context.Background(), tt.md)
			if got := status.Code(tt.call(ctx, tt.key)); got != tt.code {
				t.Errorf("code %v, want %v", got, tt.code)
			}
		})
	}

	// Health needs no credentials: probes call it.
	if _, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health check without credentials: %v", err)
	}

	// A key pattern is checked on every key of a batch.
	if err := users.SetUser("writer", []string{"resetkeys", "~pub:*"}); err != nil {
		t.Fatal(err)
	}
	ctx := metadata.NewOutgoingContext(context.Background(), basic("writer", "w"))
	if got := status.Code(batchSet(ctx, "secret")); got != codes.PermissionDenied {
		t.Errorf("batch set with a denied key: %v, want PermissionDenied", got)
	}
}

// TestAuthAnonymous checks that without a password calls need no
// credentials, as RESP clients need no AUTH.
func TestAuthAnonymous(t *testing.T) {
	conn := startWithUsers(t, acl.NewUsers(resp.ACLCatalog()))
	if _, err := cachepb.NewCacheClient(conn).Get(context.Background(), &cachepb.GetRequest{Key: []byte("k")}); err != nil {
		t.Fatal(err)
	}
}

// TestAuthStream checks the stream interceptor on the reflection service,
// a bidirectional stream: it needs credentials when the default user has
// a password.
func TestAuthStream(t *testing.T) {
	users := acl.NewUsers(resp.ACLCatalog())
	users.SetDefaultPassword("root")
	conn := startWithUsers(t, users)
	list := func(md metadata.MD) error {
		ctx := metadata.NewOutgoingContext(context.Background(), md)
		stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
		if err != nil {
			return err
		}
		// A failed Send returns io.EOF; Recv returns the call's status.
		stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
		_, err = stream.Recv()
		stream.CloseSend()
		return err
	}
	for _, tt := range []struct {
		name string
		md   metadata.MD
		code codes.Code
	}{
		{"no credentials", nil, codes.Unauthenticated},
		{"wrong password", basic("default", "x"), codes.Unauthenticated},
		{"default user", basic("default", "root"), codes.OK},
	} {
		if got := status.Code(list(tt.md)); got != tt.code {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.code)
		}
	}
}
