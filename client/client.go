// Package client is the Go client of cached. It finds out whether its
// addresses are a cluster (CLUSTER INFO) and then routes each key to the
// node that owns it (go-redis's ClusterClient keeps the slot map from
// CLUSTER SLOTS) or talks to the single node. On top of go-redis it adds
// typed calls, JSON helpers, GetOrLoad with single-flight, retries with
// exponential backoff and jitter for idempotent calls only, a circuit
// breaker per node, hooks for metrics and an optional near cache (see
// NearCache) kept correct by server-assisted invalidation (RESP3 CLIENT
// TRACKING).
//
// It imports no server package.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config configures a Client. Zero fields take the defaults of
// DefaultConfig.
type Config struct {
	// Addrs are RESP addresses of one or more nodes (host:port), or of a
	// Service in front of them. In a cluster, the other nodes are found
	// from them; they are also the fallback for a key whose owner fails.
	Addrs []string
	// Username is the ACL user to authenticate as; empty: the default
	// user.
	Username string
	// Password is sent with AUTH, when set.
	Password string
	// TLS, when set, connects to every node over TLS with it (a node's
	// tls-port): RootCAs to trust the nodes' CA, Certificates when they
	// ask for client certificates (tls-auth-clients).
	TLS *tls.Config
	// PoolSize is the number of connections per node (go-redis's default
	// when 0).
	PoolSize int
	// DialTimeout bounds connecting to a node.
	DialTimeout time.Duration
	// Dialer, when set, opens the connections to nodes (a tunnel, a
	// custom resolver, tests); net.Dialer's DialContext by default.
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
	// Retry says how idempotent calls are retried.
	Retry Retry
	// Breaker configures the circuit breaker of each node.
	Breaker Breaker
	// Refresh is how often a cluster's slot map is reloaded, so that calls
	// follow slots that moved (nodes forward what they no longer own, so a
	// stale map costs a hop, not an error). Failed calls reload it too.
	// With a near cache, it is also how often its tracking connections
	// are pinged (one that does not answer within DialTimeout is dropped
	// and the near cache flushed) and the slot map compared with the last
	// (a change flushes the near cache).
	Refresh time.Duration
	// LoadTimeout bounds a GetOrLoad loader, which runs detached from the
	// caller's cancellation so that callers waiting on the same load are
	// not failed by the first one leaving.
	LoadTimeout time.Duration
	// NearCache, when set, keeps values read with Get in this process,
	// kept correct by the server's invalidations (see NearCache). Nil: no
	// near cache.
	NearCache *NearCache
	// Hooks receive metrics events; nil fields are skipped.
	Hooks Hooks
}

// Retry is the retry policy of idempotent calls (Get, Set, Delete, MGet,
// MSet, GetOrLoad's read and write). Incr and SetNX are never retried once
// sent; any call is retried when it certainly did not run (the node's
// circuit is open, the connection could not be made, or the node answered
// MOVED / TRYAGAIN / CLUSTERDOWN).
type Retry struct {
	// MaxAttempts is the number of tries, the first included; 1 disables
	// retries.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the wait before a retry: attempt n
	// waits a random duration in [0, min(MaxBackoff, MinBackoff·2ⁿ)) (full
	// jitter).
	MinBackoff time.Duration
	MaxBackoff time.Duration
}

// Breaker configures a node's circuit breaker: after Failures consecutive
// failed calls (connection errors and timeouts, not error replies) the
// node's circuit opens and calls to it fail at once with ErrCircuitOpen
// for Cooldown; then one call goes through as a probe, closing the circuit
// if it succeeds and opening it again if not.
type Breaker struct {
	Failures int
	Cooldown time.Duration
}

// DefaultConfig returns the defaults for addrs.
func DefaultConfig(addrs ...string) Config {
	return Config{
		Addrs:       addrs,
		DialTimeout: 2 * time.Second,
		Retry:       Retry{MaxAttempts: 4, MinBackoff: 10 * time.Millisecond, MaxBackoff: 500 * time.Millisecond},
		Breaker:     Breaker{Failures: 5, Cooldown: time.Second},
		Refresh:     10 * time.Second,
		LoadTimeout: 30 * time.Second,
	}
}

// withDefaults fills the zero fields of c.
func (c Config) withDefaults() Config {
	d := DefaultConfig(c.Addrs...)
	if c.DialTimeout == 0 {
		c.DialTimeout = d.DialTimeout
	}
	if c.Retry.MaxAttempts == 0 {
		c.Retry.MaxAttempts = d.Retry.MaxAttempts
	}
	if c.Retry.MinBackoff == 0 {
		c.Retry.MinBackoff = d.Retry.MinBackoff
	}
	if c.Retry.MaxBackoff == 0 {
		c.Retry.MaxBackoff = d.Retry.MaxBackoff
	}
	if c.Breaker.Failures == 0 {
		c.Breaker.Failures = d.Breaker.Failures
	}
	if c.Breaker.Cooldown == 0 {
		c.Breaker.Cooldown = d.Breaker.Cooldown
	}
	if c.LoadTimeout == 0 {
		c.LoadTimeout = d.LoadTimeout
	}
	if c.Refresh == 0 {
		c.Refresh = d.Refresh
	}
	return c
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case len(c.Addrs) == 0:
		return errors.New("client: addrs: at least one address is needed")
	case c.Retry.MaxAttempts < 1:
		return errors.New("client: retry max attempts: must be at least 1")
	case c.Retry.MinBackoff < 0 || c.Retry.MaxBackoff < c.Retry.MinBackoff:
		return errors.New("client: retry backoff: want 0 <= min <= max")
	case c.Breaker.Failures < 1:
		return errors.New("client: breaker failures: must be at least 1")
	case c.Breaker.Cooldown < 0:
		return errors.New("client: breaker cooldown: must not be negative")
	case c.Refresh < 0:
		return errors.New("client: refresh: must not be negative")
	case c.LoadTimeout < 0:
		return errors.New("client: load timeout: must not be negative")
	case c.NearCache != nil:
		return c.NearCache.validate()
	}
	return nil
}

// Errors of the client. Error replies of the server come as go-redis
// errors (redis.Error).
var (
	// ErrNotFound: the key does not exist.
	ErrNotFound = errors.New("cached: key not found")
	// ErrCircuitOpen: the node's circuit breaker is open; the call was not
	// sent.
	ErrCircuitOpen = errors.New("cached: circuit open")
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("cached: client closed")
)

// Client is a cached client. It is safe for concurrent use.
type Client struct {
	cfg     Config
	single  *redis.Client        // a single node; nil in a cluster
	addr    string               // the single node's address
	cluster *redis.ClusterClient // nil on a single node

	mu       sync.Mutex
	breakers map[string]*breaker      // by node address
	seeds    map[string]*redis.Client // fallback clients to Config.Addrs, in a cluster
	trackers map[string]*tracker      // near cache tracking connections, by node address
	closed   bool

	near   *nearCache     // nil without Config.NearCache
	stop   chan struct{}  // closed by Close
	wg     sync.WaitGroup // the refresh and near cache goroutines
	flight group
}

// New connects to the nodes at cfg.Addrs and finds out whether they are a
// cluster. It fails if none of them answers before ctx ends.
func New(ctx context.Context, cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, breakers: map[string]*breaker{}, seeds: map[string]*redis.Client{}, trackers: map[string]*tracker{}, stop: make(chan struct{})}
	if cfg.NearCache != nil {
		c.near = newNearCache(*cfg.NearCache, cfg.Hooks.NearCache)
	}
	clustered, addr, err := c.detect(ctx)
	if err != nil {
		return nil, err
	}
	if clustered {
		c.cluster = redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:                 cfg.Addrs,
			Username:              cfg.Username,
			Password:              cfg.Password,
			TLSConfig:             cfg.TLS,
			PoolSize:              cfg.PoolSize,
			DialTimeout:           cfg.DialTimeout,
			Dialer:                cfg.Dialer,
			MaxRetries:            -1, // retries are this package's
			MaxRedirects:          3,
			ContextTimeoutEnabled: true,
			NewClient: func(opt *redis.Options) *redis.Client {
				opt.DialerRetries = 1
				return redis.NewClient(opt)
			},
		})
		c.wg.Add(1)
		go c.refreshLoop()
	} else {
		c.addr = addr
		c.single = redis.NewClient(c.nodeOptions(addr))
	}
	if c.near != nil {
		c.wg.Add(1)
		go c.nearLoop()
	}
	return c, nil
}

// nodeOptions are the options of a client to one node.
func (c *Client) nodeOptions(addr string) *redis.Options {
	return &redis.Options{
		Addr:                  addr,
		Username:              c.cfg.Username,
		Password:              c.cfg.Password,
		TLSConfig:             c.cfg.TLS,
		PoolSize:              c.cfg.PoolSize,
		DialTimeout:           c.cfg.DialTimeout,
		Dialer:                c.cfg.Dialer,
		MaxRetries:            -1, // retries are this package's
		DialerRetries:         1,  // a node that refuses is failed over at once
		ContextTimeoutEnabled: true,
	}
}

// detect asks the addresses in turn whether they are a cluster, and
// returns the first that answered.
func (c *Client) detect(ctx context.Context) (bool, string, error) {
	var errs []error
	for _, addr := range c.cfg.Addrs {
		rc := redis.NewClient(c.nodeOptions(addr))
		err := rc.ClusterInfo(ctx).Err()
		rc.Close()
		switch {
		case err == nil:
			return true, addr, nil
		case strings.Contains(err.Error(), "cluster support disabled"):
			return false, addr, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
		if ctx.Err() != nil {
			break
		}
	}
	return false, "", fmt.Errorf("cached: no node answered: %w", errors.Join(errs...))
}

// Clustered reports whether the client talks to a cluster.
func (c *Client) Clustered() bool { return c.cluster != nil }

// Redis returns the underlying go-redis client, for commands this package
// does not wrap. Calls made through it bypass the retries, breakers and
// hooks.
func (c *Client) Redis() redis.UniversalClient {
	if c.cluster != nil {
		return c.cluster
	}
	return c.single
}

// Close closes the connections. It is idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	seeds := c.seeds
	c.seeds = nil
	c.mu.Unlock()
	close(c.stop)
	c.wg.Wait()
	c.closeTrackers()
	var errs []error
	for _, rc := range seeds {
		errs = append(errs, rc.Close())
	}
	if c.cluster != nil {
		errs = append(errs, c.cluster.Close())
	} else {
		errs = append(errs, c.single.Close())
	}
	return errors.Join(errs...)
}

// refreshLoop reloads the cluster's slot map every Config.Refresh until
// Close.
func (c *Client) refreshLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.Refresh)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.cluster.ReloadState(context.Background())
		}
	}
}

// breaker returns the circuit breaker of the node at addr.
func (c *Client) breaker(addr string) *breaker {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.breakers[addr]
	if b == nil {
		b = newBreaker(addr, c.cfg.Breaker, c.cfg.Hooks.BreakerChange)
		c.breakers[addr] = b
	}
	return b
}

// BreakerState returns the state of the circuit breaker of the node at
// addr (Closed for a node not called yet).
func (c *Client) BreakerState(addr string) BreakerState {
	c.mu.Lock()
	b := c.breakers[addr]
	c.mu.Unlock()
	if b == nil {
		return Closed
	}
	return b.current()
}

// seed returns the fallback client to the seed address addr.
func (c *Client) seed(addr string) (*redis.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	rc := c.seeds[addr]
	if rc == nil {
		rc = redis.NewClient(c.nodeOptions(addr))
		c.seeds[addr] = rc
	}
	return rc, nil
}

// route returns the client and address to send a command on key to: the
// key's owner, or when that failed in this call (avoid) or its circuit is
// open, another node, which forwards it to the owner.
func (c *Client) route(ctx context.Context, key string, avoid map[string]bool) (*redis.Client, string, error) {
	if c.single != nil {
		return c.single, c.addr, nil
	}
	owner, err := c.cluster.MasterForKey(ctx, key)
	if err == nil {
		addr := owner.Options().Addr
		if !avoid[addr] && c.breaker(addr).current() != Open {
			return owner, addr, nil
		}
	}
	for _, addr := range c.cfg.Addrs {
		if !avoid[addr] && c.breaker(addr).current() != Open {
			rc, serr := c.seed(addr)
			if serr != nil {
				return nil, "", serr
			}
			return rc, addr, nil
		}
	}
	if err != nil {
		return nil, "", err
	}
	return owner, owner.Options().Addr, nil
}
