package origin

import (
	"fmt"
	"sync"
	"time"
)

// BreakerConfig configures the circuit breaker each origin has.
type BreakerConfig struct {
	// Failures is how many calls in a row must fail to open the breaker.
	Failures int
	// Cooldown is how long an open breaker refuses calls before letting
	// one probe through (half-open).
	Cooldown time.Duration
}

// DefaultBreakerConfig opens after 5 failures in a row for 5 seconds.
func DefaultBreakerConfig() BreakerConfig {
	return BreakerConfig{Failures: 5, Cooldown: 5 * time.Second}
}

// Validate reports the first invalid field.
func (c BreakerConfig) Validate() error {
	if c.Failures < 1 {
		return fmt.Errorf("breaker-failures: must be at least 1, got %d", c.Failures)
	}
	if c.Cooldown <= 0 {
		return fmt.Errorf("breaker-cooldown: must be positive")
	}
	return nil
}

// BreakerState is a circuit breaker's state.
type BreakerState int

// The states: closed calls the origin, open refuses, half-open lets one
// probe through and closes if it succeeds.
const (
	BreakerClosed BreakerState = iota
	BreakerOpen
	BreakerHalfOpen
)

// String returns the state's name as CACHED ORIGINS shows it.
func (s BreakerState) String() string {
	switch s {
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half-open"
	}
	return "closed"
}

// breaker stops calls to a failing origin. It is safe for concurrent use.
type breaker struct {
	cfg BreakerConfig
	now func() time.Time

	mu       sync.Mutex // guards the fields below
	state    BreakerState
	failures int       // in a row, while closed
	openedAt time.Time // when it last opened
	probing  bool      // a half-open probe is out
}

// allow reports whether a call may go to the origin now; a true answer
// must be followed by done.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerOpen:
		if b.now().Sub(b.openedAt) < b.cfg.Cooldown {
			return false
		}
		b.state = BreakerHalfOpen
		b.probing = true
		return true
	case BreakerHalfOpen:
		if b.probing {
			return false
		}
		b.probing = true
		return true
	}
	return true
}

// done records the outcome of an allowed call.
func (b *breaker) done(ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ok {
		b.state, b.failures, b.probing = BreakerClosed, 0, false
		return
	}
	b.failures++
	if b.state == BreakerHalfOpen || b.failures >= b.cfg.Failures {
		b.state, b.openedAt, b.probing = BreakerOpen, b.now(), false
	}
}

// current returns the state, an open breaker whose cooldown passed
// reported as half-open.
func (b *breaker) current() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == BreakerOpen && b.now().Sub(b.openedAt) >= b.cfg.Cooldown {
		return BreakerHalfOpen
	}
	return b.state
}
