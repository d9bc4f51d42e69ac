package client

import (
	"sync"
	"time"
)

// BreakerState is the state of a node's circuit breaker.
type BreakerState int

// Circuit breaker states.
const (
	Closed   BreakerState = iota // calls go through
	Open                         // calls fail at once with ErrCircuitOpen
	HalfOpen                     // one probe call goes through
)

func (s BreakerState) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return "unknown"
}

// breaker is one node's circuit breaker.
type breaker struct {
	addr     string
	cfg      Breaker
	onChange func(node string, from, to BreakerState)
	now      func() time.Time

	mu       sync.Mutex // guards the fields below
	state    BreakerState
	failures int       // consecutive, while closed
	openedAt time.Time // when it last opened
	probing  bool      // a half-open probe is in flight
}

func newBreaker(addr string, cfg Breaker, onChange func(string, BreakerState, BreakerState)) *breaker {
	return &breaker{addr: addr, cfg: cfg, onChange: onChange, now: time.Now}
}

// current returns the state, an open circuit whose cooldown has passed
// counting as half-open.
func (b *breaker) current() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == Open && b.now().Sub(b.openedAt) >= b.cfg.Cooldown {
		return HalfOpen
	}
	return b.state
}

// allow reports whether a call may go to the node; in half-open state only
// one call at a time, the probe, may.
func (b *breaker) allow() bool {
	b.mu.Lock()
	var from, to BreakerState
	defer func() {
		b.mu.Unlock()
		if from != to && b.onChange != nil {
			b.onChange(b.addr, from, to)
		}
	}()
	switch b.state {
	case Closed:
		return true
	case Open:
		if b.now().Sub(b.openedAt) < b.cfg.Cooldown {
			return false
		}
		from, to = Open, HalfOpen
		b.state = HalfOpen
	}
	if b.probing {
		return false
	}
	b.probing = true
	return true
}

// record records the outcome of an allowed call: failed says the node
// failed it (connection error or timeout).
func (b *breaker) record(failed bool) {
	b.mu.Lock()
	from := b.state
	switch {
	case !failed:
		b.state, b.failures, b.probing = Closed, 0, false
	case b.state == HalfOpen:
		b.state, b.openedAt, b.probing = Open, b.now(), false
	case b.state == Closed:
		b.failures++
		if b.failures >= b.cfg.Failures {
			b.state, b.openedAt, b.failures = Open, b.now(), 0
		}
	}
	to := b.state
	b.mu.Unlock()
	if from != to && b.onChange != nil {
		b.onChange(b.addr, from, to)
	}
}
