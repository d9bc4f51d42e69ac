package main

import (
	"net/http"

	"github.com/cached/cached/protocol/acl"
)

// requireAdmin guards the admin endpoints that are not probes or metrics
// (/debug/pprof/ and any endpoint that changes state) with the node's ACL
// users: the request names its user with HTTP Basic auth, which must be
// allowed every @admin command. Without credentials it runs as the default
// user if that user needs no password (a node with no password configured
// stays open, as over RESP). GET /healthz, /readyz and /metrics are always
// open: probes and Prometheus call them without credentials.
func requireAdmin(users *acl.Users, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if openEndpoint(r) {
			next.ServeHTTP(w, r)
			return
		}
		var u *acl.User
		if name, pass, ok := r.BasicAuth(); ok {
			if u, ok = users.Authenticate(name, pass); !ok {
				unauthorized(w, "invalid username-password pair or user is disabled")
				return
			}
		} else if users.AnonymousAccess() {
			u = users.Default()
		} else {
			unauthorized(w, "authentication required")
			return
		}
		if p := u.Perms(); !p.Unrestricted() && !p.CategoryAllowed(users.Catalog(), "admin") {
			http.Error(w, "user "+u.Name()+" may not run @admin commands", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// openEndpoint reports whether r is for an endpoint that needs no
// credentials.
func openEndpoint(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	switch r.URL.Path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// unauthorized answers 401 with a Basic challenge.
func unauthorized(w http.ResponseWriter, why string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="cached", charset="UTF-8"`)
	http.Error(w, why, http.StatusUnauthorized)
}
