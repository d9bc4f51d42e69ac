package origin

import (
	"testing"
	"time"
)

func TestBreaker(t *testing.T) {
	now := time.Unix(1000, 0)
	b := &breaker{cfg: BreakerConfig{Failures: 2, Cooldown: time.Second}, now: func() time.Time { return now }}
	call := func(ok bool) bool {
		if !b.allow() {
			return false
		}
		b.done(ok)
		return true
	}
	steps := []struct {
		name    string
		advance time.Duration
		ok      bool
		allowed bool
		state   BreakerState
	}{
		{"first failure", 0, false, true, BreakerClosed},
		{"a success resets", 0, true, true, BreakerClosed},
		{"failure", 0, false, true, BreakerClosed},
		{"second in a row opens", 0, false, true, BreakerOpen},
		{"open refuses", 500 * time.Millisecond, true, false, BreakerOpen},
		{"probe after cooldown fails: open again", 600 * time.Millisecond, false, true, BreakerOpen},
		{"still refusing", 10 * time.Millisecond, true, false, BreakerOpen},
		{"probe succeeds: closed", time.Second, true, true, BreakerClosed},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		if got := call(s.ok); got != s.allowed {
			t.Fatalf("%s: allowed %v", s.name, got)
		}
		if b.state != s.state {
			t.Fatalf("%s: state %v, want %v", s.name, b.state, s.state)
		}
	}
	// Half-open lets one probe through at a time.
	b.done(false)
	b.done(false)
	now = now.Add(2 * time.Second)
	if b.current() != BreakerHalfOpen {
		t.Fatalf("after cooldown: %v", b.current())
	}
	if !b.allow() || b.allow() {
		t.Fatal("half-open did not let exactly one probe through")
	}
}
