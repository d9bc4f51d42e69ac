package grpc

import (
	"context"
	"encoding/base64"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	cachepb "github.com/cached/cached/cache/v1"
	"github.com/cached/cached/protocol/acl"
)

// Authentication and authorisation of gRPC calls with the node's ACL
// users, the same identities as over RESP. A call names its user in
// metadata, either "authorization: Basic base64(user:pass)" or the keys
// "username" and "password" ("password" alone is the default user's).
// Without credentials a call runs as the default user if that user needs
// no password, and fails with UNAUTHENTICATED otherwise; wrong credentials
// are UNAUTHENTICATED. Each cache.v1.Cache method runs as the RESP command
// it is equivalent to (Get as GET, BatchSet as MSET, ...), with that
// command's ACL check on its keys: a denial is PERMISSION_DENIED with
// Redis's NOPERM text. The health service needs no credentials (probes);
// reflection needs an authenticated user.

// methodRule is the RESP command a gRPC method is checked as.
type methodRule struct {
	id    int // command id in the ACL catalog
	name  string
	write bool // the method writes its keys (else reads them)
}

// methodRules maps cache.v1.Cache methods to RESP commands.
var methodRules = map[string]struct {
	command string
	write   bool
}{
	"/cache.v1.Cache/Get":        {"get", false},
	"/cache.v1.Cache/Set":        {"set", true},
	"/cache.v1.Cache/Delete":     {"del", true},
	"/cache.v1.Cache/BatchGet":   {"mget", false},
	"/cache.v1.Cache/BatchSet":   {"mset", true},
	"/cache.v1.Cache/Expire":     {"pexpire", true},
	"/cache.v1.Cache/Invalidate": {"del", true},
	// Watch streams invalidations of keys, as CLIENT TRACKING does.
	"/cache.v1.Cache/Watch": {"client|tracking", false},
}

// newMethodRules resolves methodRules in the catalog of users.
func newMethodRules(users *acl.Users) map[string]methodRule {
	out := make(map[string]methodRule, len(methodRules))
	for method, r := range methodRules {
		id, ok := users.Catalog().ID(r.command)
		if !ok {
			id = -1 // not a command the node knows: nobody restricted may call it
		}
		out[method] = methodRule{id: id, name: r.command, write: r.write}
	}
	return out
}

// authenticate returns the user a call with ctx runs as, or an
// UNAUTHENTICATED status.
func (s *Server) authenticate(ctx context.Context) (*acl.User, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	name, pass, given, err := callCredentials(md)
	if err != nil {
		return nil, err
	}
	if !given {
		if !s.users.AnonymousAccess() {
			return nil, status.Error(codes.Unauthenticated, "NOAUTH Authentication required.")
		}
		return s.users.Default(), nil
	}
	u, ok := s.users.Authenticate(name, pass)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "WRONGPASS invalid username-password pair or user is disabled.")
	}
	return u, nil
}

// callCredentials reads a user name and password from call metadata.
func callCredentials(md metadata.MD) (name, pass string, given bool, err error) {
	if v := md.Get("authorization"); len(v) > 0 {
		scheme, enc, _ := strings.Cut(v[0], " ")
		if !strings.EqualFold(scheme, "basic") {
			return "", "", false, status.Error(codes.Unauthenticated, "authorization: only the Basic scheme is supported")
		}
		dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
		if err != nil {
			return "", "", false, status.Error(codes.Unauthenticated, "authorization: invalid base64")
		}
		name, pass, ok := strings.Cut(string(dec), ":")
		if !ok {
			return "", "", false, status.Error(codes.Unauthenticated, "authorization: want base64(user:password)")
		}
		return name, pass, true, nil
	}
	if v := md.Get("password"); len(v) > 0 {
		name = acl.DefaultUser
		if u := md.Get("username"); len(u) > 0 {
			name = u[0]
		}
		return name, v[0], true, nil
	}
	return "", "", false, nil
}

// authorizeCall checks that u may call method (before its request is
// read), returning a PERMISSION_DENIED status if not.
func (s *Server) authorizeCall(u *acl.User, method string) error {
	p := u.Perms()
	if p.Unrestricted() || !strings.HasPrefix(method, "/cache.v1.Cache/") {
		return nil
	}
	r, ok := s.methods[method]
	if !ok {
		// A method without an equivalent command: unrestricted users only.
		return status.Error(codes.PermissionDenied, "NOPERM User "+u.Name()+" has no permissions to call "+method)
	}
	if !p.CommandAllowed(r.id) {
		return status.Error(codes.PermissionDenied, "NOPERM User "+u.Name()+" has no permissions to run the '"+r.name+"' command")
	}
	return nil
}

// authorizeKeys checks that u may access the keys of req, a request of
// method; a prefix invalidation needs access to every key.
func (s *Server) authorizeKeys(u *acl.User, method string, req any) error {
	p := u.Perms()
	if p.AllKeys() {
		return nil
	}
	write := s.methods[method].write
	denied := status.Error(codes.PermissionDenied, "NOPERM No permissions to access a key")
	check := func(k []byte) bool { return p.KeyAllowed(string(k), !write, write) }
	if r, ok := req.(interface{ GetKey() []byte }); ok && !check(r.GetKey()) {
		return denied
	}
	if r, ok := req.(interface{ GetKeys() [][]byte }); ok {
		for _, k := range r.GetKeys() {
			if !check(k) {
				return denied
			}
		}
	}
	if r, ok := req.(interface{ GetEntries() []*cachepb.Entry }); ok {
		for _, e := range r.GetEntries() {
			if !check(e.GetKey()) {
				return denied
			}
		}
	}
	if r, ok := req.(interface{ GetPrefix() []byte }); ok && len(r.GetPrefix()) > 0 {
		return denied
	}
	return nil
}

// public reports whether method needs no credentials: the health service,
// which probes call.
func public(method string) bool { return strings.HasPrefix(method, "/grpc.health.v1.Health/") }

// authUnary is the unary interceptor enforcing the ACL.
func (s *Server) authUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if s.users == nil || public(info.FullMethod) {
		return handler(ctx, req)
	}
	u, err := s.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeCall(u, info.FullMethod); err != nil {
		return nil, err
	}
	if err := s.authorizeKeys(u, info.FullMethod, req); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// authStream is the stream interceptor enforcing the ACL; the keys of each
// message received are checked as it arrives.
func (s *Server) authStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if s.users == nil || public(info.FullMethod) {
		return handler(srv, ss)
	}
	u, err := s.authenticate(ss.Context())
	if err != nil {
		return err
	}
	if err := s.authorizeCall(u, info.FullMethod); err != nil {
		return err
	}
	return handler(srv, &authorizedStream{ServerStream: ss, srv: s, user: u, method: info.FullMethod})
}

// authorizedStream checks the keys of the messages a stream receives.
type authorizedStream struct {
	grpc.ServerStream
	srv    *Server
	user   *acl.User
	method string
}

// RecvMsg receives m and checks its keys.
func (a *authorizedStream) RecvMsg(m any) error {
	if err := a.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return a.srv.authorizeKeys(a.user, a.method, m)
}
