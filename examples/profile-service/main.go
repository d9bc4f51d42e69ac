// Command profile-service is a small HTTP service that serves user profiles
// from a slow origin (here a stand-in for a database), caching them in
// cached with client.GetOrLoadJSON: concurrent requests for a profile that
// is not cached load it once, and a PUT writes the origin and invalidates
// the cached copy. With -near-cache N, each instance also keeps up to N
// profiles in process (client.NearCache): repeated reads cost no round
// trip, and a PUT on any instance reaches the others' copies through the
// server's invalidations.
//
//	go run ./examples/profile-service -cache 127.0.0.1:6379 -listen 127.0.0.1:8080 -near-cache 10000
//	curl 127.0.0.1:8080/profiles/42
//	curl -X PUT -d '{"name":"Ada"}' 127.0.0.1:8080/profiles/42
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cached/cached/client"
)

// Profile is what the service serves.
type Profile struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Origin is the source of truth the cache sits in front of.
type Origin interface {
	Load(ctx context.Context, id string) (Profile, error)
	Store(ctx context.Context, p Profile) error
}

// errNoProfile: the origin has no such profile.
var errNoProfile = errors.New("no such profile")

// memoryOrigin is a slow in-memory origin, standing in for a database.
type memoryOrigin struct {
	delay time.Duration
	mu    sync.Mutex // guards byID
	byID  map[string]Profile
}

func (o *memoryOrigin) Load(ctx context.Context, id string) (Profile, error) {
	select {
	case <-time.After(o.delay):
	case <-ctx.Done():
		return Profile{}, ctx.Err()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.byID[id]
	if !ok {
		return Profile{}, errNoProfile
	}
	return p, nil
}

func (o *memoryOrigin) Store(ctx context.Context, p Profile) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.byID[p.ID] = p
	return nil
}

// Service serves /profiles/{id}.
type Service struct {
	Cache  *client.Client
	Origin Origin
	TTL    time.Duration
}

func cacheKey(id string) string { return "profile:" + id }

// Handler returns the service's HTTP handler.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /profiles/{id}", s.get)
	mux.HandleFunc("PUT /profiles/{id}", s.put)
	return mux
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	p, err := client.GetOrLoadJSON(ctx, s.Cache, cacheKey(id), s.TTL, func(ctx context.Context) (Profile, error) {
		return s.Origin.Load(ctx, id)
	})
	switch {
	case errors.Is(err, errNoProfile):
		http.Error(w, "no such profile", http.StatusNotFound)
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadGateway)
	default:
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(p)
	}
}

func (s *Service) put(w http.ResponseWriter, r *http.Request) {
	var p Profile
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&p); err != nil {
		http.Error(w, "bad profile: "+err.Error(), http.StatusBadRequest)
		return
	}
	p.ID = r.PathValue("id")
	if err := s.Origin.Store(r.Context(), p); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// Write the origin first, then drop the cached copy: the next read
	// loads the new profile.
	if _, err := s.Cache.Delete(r.Context(), cacheKey(p.ID)); err != nil {
		http.Error(w, "stored, but the cache could not be invalidated: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func main() {
	cacheAddrs := flag.String("cache", "127.0.0.1:6379", "comma-separated cached RESP addresses")
	listen := flag.String("listen", "127.0.0.1:8080", "HTTP address")
	ttl := flag.Duration("ttl", 5*time.Minute, "how long a profile stays cached")
	near := flag.Int("near-cache", 0, "profiles kept in process by the client's near cache (0: none)")
	flag.Parse()
	cfg := client.Config{Addrs: strings.Split(*cacheAddrs, ",")}
	if *near > 0 {
		cfg.NearCache = &client.NearCache{MaxEntries: *near}
	}
	if err := run(cfg, *listen, *ttl); err != nil {
		fmt.Fprintln(os.Stderr, "profile-service:", err)
		os.Exit(1)
	}
}

func run(cfg client.Config, listen string, ttl time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := client.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	origin := &memoryOrigin{delay: 50 * time.Millisecond, byID: map[string]Profile{"42": {ID: "42", Name: "Ada Lovelace"}}}
	srv := &http.Server{Addr: listen, Handler: (&Service{Cache: c, Origin: origin, TTL: ttl}).Handler(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	slog.Info("profile-service listening", "addr", listen)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
