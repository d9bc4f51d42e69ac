package origin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Config configures an Engine. Start from DefaultConfig.
type Config struct {
	// Rules are matched in order; the first whose pattern matches a key
	// decides.
	Rules []Rule
	// ServeStale serves a key of a rule with a TTL for up to the rule's
	// StaleTTL past it, while one background load refreshes it.
	ServeStale bool
	// Breaker configures each origin's circuit breaker.
	Breaker BreakerConfig
	// Queue configures the write-behind queue.
	Queue QueueConfig
	// Logger receives the engine's logs.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// DefaultConfig returns an engine configuration without rules.
func DefaultConfig() Config {
	return Config{Breaker: DefaultBreakerConfig(), Queue: DefaultQueueConfig(), Logger: slog.Default()}
}

// Engine runs a node's origin rules. Its methods are safe for concurrent
// use; those that call an origin block and must not run on an event loop.
type Engine struct {
	cfg     Config
	logger  *slog.Logger
	now     func() time.Time
	rules   []*ruleState
	origins map[string]*originState
	queue   *queue // nil without write-behind rules
	neg     negative
	flight  flight

	cancel     context.CancelFunc
	wg         sync.WaitGroup // listeners and background refreshes
	mu         sync.Mutex     // guards closed and refreshing
	closed     bool
	refreshing map[string]bool // keys a background refresh is loading
}

// originState is an origin with its breaker.
type originState struct {
	name    string
	origin  Origin
	breaker *breaker
}

// ruleState is a rule with its counters.
type ruleState struct {
	Rule
	origin *originState
	stats  ruleCounters
}

// New returns an engine for cfg over origins (by name). It replays the
// write-behind queue, but starts nothing until Start. The engine owns the
// origins: Close closes them.
func New(cfg Config, origins map[string]Origin) (*Engine, error) {
	if cfg.Logger == nil {
		return nil, errors.New("logger: must be set")
	}
	if err := cfg.Breaker.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Queue.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, logger: cfg.Logger, now: cfg.Now, origins: map[string]*originState{}}
	if e.now == nil {
		e.now = time.Now
	}
	for name, o := range origins {
		e.origins[name] = &originState{name: name, origin: o, breaker: &breaker{cfg: cfg.Breaker, now: e.now}}
	}
	writeBehind := false
	for i := range cfg.Rules {
		r := cfg.Rules[i]
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("rules[%d] (%s): %w", i, r.Pattern, err)
		}
		o := e.origins[r.Origin]
		if o == nil {
			return nil, fmt.Errorf("rules[%d] (%s): origin: no origin named %q", i, r.Pattern, r.Origin)
		}
		if _, notifies := o.origin.(Notifier); notifies && !r.HasID() {
			return nil, fmt.Errorf("rules[%d] (%s): pattern: a database origin needs a pattern with one '*' (the row's key) and no other wildcard", i, r.Pattern)
		}
		writeBehind = writeBehind || r.Mode == WriteBehind
		e.rules = append(e.rules, &ruleState{Rule: r, origin: o})
	}
	if writeBehind {
		q, err := newQueue(cfg.Queue, cfg.Logger, e.now, e.deliver)
		if err != nil {
			return nil, err
		}
		e.queue = q
	}
	return e, nil
}

// Start runs the write-behind delivery and the origins' change listeners;
// invalidate is called with each key a listener reports changed, from the
// listener's goroutine.
func (e *Engine) Start(invalidate func(key string)) {
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	if e.queue != nil {
		e.queue.start()
	}
	for _, o := range e.origins {
		n, ok := o.origin.(Notifier)
		if !ok {
			continue
		}
		var rules []*ruleState
		for _, r := range e.rules {
			if r.origin == o {
				rules = append(rules, r)
			}
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			n.Listen(ctx, func(id string) {
				for _, r := range rules {
					key := r.Key(id)
					e.neg.forget(key)
					r.stats.notified.Add(1)
					invalidate(key)
				}
			}, func(err error) {
				e.logger.Warn("origin listener reconnecting", "origin", o.name, "err", err)
			})
		}()
	}
}

// Close stops the engine's goroutines, flushes the queue file and closes
// the origins. It is idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	if e.cancel != nil {
		e.cancel()
	}
	e.wg.Wait()
	var err error
	if e.queue != nil {
		err = e.queue.close()
	}
	for _, o := range e.origins {
		err = errors.Join(err, o.origin.Close())
	}
	return err
}

// Match returns the rule for key, or nil. It does not allocate.
func (e *Engine) Match(key []byte) *Rule {
	for _, r := range e.rules {
		if r.matches(key) {
			return &r.Rule
		}
	}
	return nil
}

// state returns the rule's state: r must come from Match.
func (e *Engine) state(r *Rule) *ruleState {
	for _, s := range e.rules {
		if &s.Rule == r {
			return s
		}
	}
	panic("origin: rule not from this engine")
}

// ServeStale reports whether stale keys are served while refreshed.
func (e *Engine) ServeStale() bool { return e.cfg.ServeStale }

// Absent reports whether key is negative-cached: the origin said it has no
// value less than the rule's NegativeTTL ago.
func (e *Engine) Absent(key []byte) bool { return e.neg.has(key, e.now()) }

// Forget drops key from the negative cache (a write created it).
func (e *Engine) Forget(key string) { e.neg.forget(key) }

// Cache is how the engine sees the node's cache during a load.
type Cache struct {
	// Present reports whether key is in the cache now.
	Present func(key string) bool
	// Store writes a loaded value with a TTL (0: none) through the node's
	// normal write path.
	Store func(key string, val []byte, ttl time.Duration)
}

// Load loads key from r's origin into the cache, unless another load of
// key is in progress, in which case it waits for that one, or the key is
// in the cache or known absent by the time the load starts. It reports
// whether the origin has a value. It blocks up to the rule's timeout.
func (e *Engine) Load(r *Rule, key string, cache Cache) (found bool, err error) {
	s := e.state(r)
	_, err, shared := e.flight.do(key, func() ([]byte, error) {
		if e.neg.has([]byte(key), e.now()) {
			return nil, ErrNotFound
		}
		if cache.Present(key) {
			return nil, nil
		}
		if e.queue != nil {
			// The origin is behind the queue: what waits there is newer.
			if op, ok := e.queue.pendingOp(key); ok {
				if op.Delete {
					return nil, ErrNotFound
				}
				cache.Store(key, op.Value, s.ExpiryTTL(e.cfg.ServeStale))
				return nil, nil
			}
		}
		return nil, e.load(s, key, cache)
	})
	if shared {
		s.stats.shared.Add(1)
	}
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// load calls the origin and stores what it returns.
func (e *Engine) load(s *ruleState, key string, cache Cache) error {
	o := s.origin
	if !o.breaker.allow() {
		s.stats.rejected.Add(1)
		s.stats.errors.Add(1)
		return ErrBreakerOpen
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
	start := time.Now()
	val, err := o.origin.Load(ctx, key, s.ID(key))
	cancel()
	s.stats.observe(time.Since(start))
	switch {
	case errors.Is(err, ErrNotFound):
		o.breaker.done(true)
		s.stats.absent.Add(1)
		if s.NegativeTTL > 0 {
			e.neg.add(key, e.now().Add(s.NegativeTTL), e.now())
		}
		return ErrNotFound
	case err != nil:
		o.breaker.done(false)
		s.stats.failed.Add(1)
		s.stats.errors.Add(1)
		return err
	}
	o.breaker.done(true)
	s.stats.loaded.Add(1)
	cache.Store(key, val, s.ExpiryTTL(e.cfg.ServeStale))
	return nil
}

// Refresh reloads a stale key in the background unless a load of it is in
// progress; errors leave the stale value in place.
func (e *Engine) Refresh(r *Rule, key string, cache Cache) {
	if e.flight.inFlight(key) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || e.refreshing[key] {
		return
	}
	if e.refreshing == nil {
		e.refreshing = map[string]bool{}
	}
	e.refreshing[key] = true
	s := e.state(r)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		_, err, _ := e.flight.do(key, func() ([]byte, error) { return nil, e.load(s, key, cache) })
		e.mu.Lock()
		delete(e.refreshing, key)
		e.mu.Unlock()
		if err != nil && !errors.Is(err, ErrNotFound) {
			e.logger.Debug("stale refresh failed", "rule", s.Pattern, "err", err)
		}
	}()
}

// IsStale reports whether a key of r with remaining TTL left is past its
// fresh life and is being served stale (see Config.ServeStale).
func (e *Engine) IsStale(r *Rule, left time.Duration) bool {
	return e.cfg.ServeStale && r.TTL > 0 && r.StaleTTL > 0 && left <= r.StaleTTL
}

// Write writes key's new value (or its deletion) to r's origin: at once for
// write-through, blocking up to the rule's timeout; into the durable queue
// for write-behind, blocking on its fsync. A nil error means the origin (or
// the queue) accepted it and the cache may change.
func (e *Engine) Write(r *Rule, key string, val []byte, del bool) error {
	s := e.state(r)
	e.neg.forget(key)
	op := Op{Origin: s.Origin, Key: key, ID: s.ID(key), Value: val, Delete: del}
	switch s.Mode {
	case WriteBehind:
		if err := e.queue.enqueue(op); err != nil {
			s.stats.errors.Add(1)
			return err
		}
		s.stats.queued.Add(1)
		return nil
	case WriteThrough:
		if err := e.send(s.origin, op, s.Timeout); err != nil {
			s.stats.errors.Add(1)
			return err
		}
		s.stats.written.Add(1)
	}
	return nil
}

// deliver sends a queued write to its origin (the write-behind queue's
// delivery). The timeout is the longest of the origin's rules'.
func (e *Engine) deliver(ctx context.Context, op Op) error {
	o := e.origins[op.Origin]
	if o == nil {
		e.logger.Warn("write-behind write dropped: its origin is no longer configured", "origin", op.Origin)
		return nil
	}
	timeout := time.Duration(0)
	for _, r := range e.rules {
		if r.origin == o {
			timeout = max(timeout, r.Timeout)
		}
	}
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return e.sendCtx(ctx, o, op)
}

// send writes op to o through its breaker, within timeout.
func (e *Engine) send(o *originState, op Op, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return e.sendCtx(ctx, o, op)
}

func (e *Engine) sendCtx(ctx context.Context, o *originState, op Op) error {
	if !o.breaker.allow() {
		return ErrBreakerOpen
	}
	var err error
	if op.Delete {
		err = o.origin.Delete(ctx, op.Key, op.ID)
	} else {
		err = o.origin.Store(ctx, op.Key, op.ID, op.Value)
	}
	o.breaker.done(err == nil)
	return err
}
