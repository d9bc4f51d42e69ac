package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cached/cached/node"
)

// The admin HTTP server serves, on admin-port:
//
//	/healthz        200 while the process serves (liveness)
//	/readyz         200 once the node is ready for clients (readiness), else 503 and why
//	/metrics        Prometheus metrics (metrics.go)
//	/debug/pprof/   the Go profiler
//	/invalidate     POST: delete keys, a prefix, tags cluster-wide (invalidate.go)
//
// It is for operators and probes, not clients: bind it where only they reach.

// clusterNode is what readiness reads from a node; *node.Node has it.
type clusterNode interface {
	Clustered() bool
	Ready() bool
	View() *node.View
	ClusterStats() node.ClusterStats
}

// loadGrace bounds how long readiness waits, once a cluster node has
// joined and seen min-members, for the slots it became primary for to
// arrive from their previous owners. It matches the node's import window,
// after which a new primary stops asking previous owners for missing keys
// anyway.
const loadGrace = 30 * time.Second

// readiness decides /readyz. A single node is ready while it serves. A
// cluster node is ready while it serves, has joined (its view holds
// itself), has seen min-members members and is not leaving, and once it has
// loaded its slots: no slot imported from a previous owner is outstanding,
// or loadGrace has passed since it first met the other conditions. Loading
// is judged once, at start-up: a node that was ready does not turn unready
// while slots move after a later membership change (its reads of moving
// slots stay right, and every node turning unready at once would empty a
// Service).
type readiness struct {
	node    clusterNode
	now     func() time.Time
	serving atomic.Bool // set once the node serves; cleared when it begins to shut down

	mu     sync.Mutex // guards since, loaded
	since  time.Time  // when the other conditions first held
	loaded bool
}

func newReadiness(n clusterNode) *readiness {
	return &readiness{node: n, now: time.Now}
}

// check reports whether the node is ready and, if not, why.
func (r *readiness) check() (bool, string) {
	if !r.serving.Load() {
		return false, "not serving (starting or shutting down)"
	}
	if !r.node.Clustered() {
		return true, ""
	}
	v := r.node.View()
	if v == nil {
		return false, "not joined"
	}
	if v.Leaving {
		return false, "leaving the cluster"
	}
	if _, ok := v.Member(v.Self.Name); !ok {
		return false, "not a member of its own view"
	}
	cs := r.node.ClusterStats()
	if !r.node.Ready() {
		return false, fmt.Sprintf("waiting for min-members (%d members seen)", cs.Members)
	}
	if !r.slotsLoaded(cs.SlotsImporting) {
		return false, fmt.Sprintf("loading slots (%d still arriving)", cs.SlotsImporting)
	}
	return true, ""
}

// slotsLoaded reports whether the slots have been loaded, given the
// number still arriving now; the first call starts the grace period.
func (r *readiness) slotsLoaded(importing int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.loaded {
		return true
	}
	now := r.now()
	if r.since.IsZero() {
		r.since = now
	}
	r.loaded = importing == 0 || now.Sub(r.since) >= loadGrace
	return r.loaded
}

// ok reports whether the node is ready.
func (r *readiness) ok() bool {
	ok, _ := r.check()
	return ok
}

// adminHandler routes the admin endpoints.
func adminHandler(reg *prometheus.Registry, ready *readiness, inv invalidator) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		ok, why := ready.check()
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready:", why)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("/invalidate", invalidateHandler(inv))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// adminServer is the running admin HTTP server.
type adminServer struct {
	ln   net.Listener
	http *http.Server
	done chan error
}

// startAdmin listens on addr (port 0 picks a free one, see Addr) and
// serves h until Close.
func startAdmin(addr string, h http.Handler, logger *slog.Logger) (*adminServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin server: %w", err)
	}
	a := &adminServer{ln: ln, done: make(chan error, 1),
		http: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}}
	go func() {
		err := a.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		a.done <- err
	}()
	logger.Info("admin server listening", "addr", ln.Addr().String())
	return a, nil
}

// Addr returns the address the admin server listens on.
func (a *adminServer) Addr() net.Addr { return a.ln.Addr() }

// Close stops the server, letting requests in flight finish for a moment
// (a CPU profile in progress is cut short), and waits for it.
func (a *adminServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := a.http.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = a.http.Close()
	}
	return errors.Join(err, <-a.done)
}
