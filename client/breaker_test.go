package client

import (
	"testing"
	"time"
)

func TestBreakerStates(t *testing.T) {
	now := time.Unix(0, 0)
	var changes []string
	b := newBreaker("n1", Breaker{Failures: 3, Cooldown: time.Second}, func(node string, from, to BreakerState) {
		changes = append(changes, from.String()+"->"+to.String())
	})
	b.now = func() time.Time { return now }
	steps := []struct {
		name      string
		do        func()
		wantAllow bool
		want      BreakerState
	}{
		{"closed allows", func() {}, true, Closed},
		{"two failures stay closed", func() { b.record(true); b.record(true) }, true, Closed},
		{"a success resets the count", func() { b.record(false); b.record(true); b.record(true) }, true, Closed},
		{"third consecutive failure opens", func() { b.record(true) }, false, Open},
		{"still open before the cooldown", func() { now = now.Add(999 * time.Millisecond) }, false, Open},
		{"half-open after the cooldown: one probe", func() { now = now.Add(time.Millisecond) }, true, HalfOpen},
		{"failed probe opens again", func() { b.record(true) }, false, Open},
		{"next probe", func() { now = now.Add(time.Second) }, true, HalfOpen},
		{"successful probe closes", func() { b.record(false) }, true, Closed},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.do()
			if got := b.current(); got != s.want && !(s.want == HalfOpen && got == HalfOpen) {
				t.Fatalf("state %v, want %v", got, s.want)
			}
			if got := b.allow(); got != s.wantAllow {
				t.Fatalf("allow = %v, want %v", got, s.wantAllow)
			}
			if s.want == HalfOpen && b.allow() {
				t.Fatal("a second probe was allowed while the first is in flight")
			}
		})
	}
	want := "closed->open open->half-open half-open->open open->half-open half-open->closed"
	if got := join(changes); got != want {
		t.Fatalf("changes %q, want %q", got, want)
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func TestBackoff(t *testing.T) {
	c := &Client{cfg: DefaultConfig("x")}
	for n := 1; n < 40; n++ {
		for range 50 {
			d := c.backoff(n)
			ceil := min(c.cfg.Retry.MinBackoff<<min(n, 30), c.cfg.Retry.MaxBackoff)
			if d < 0 || d >= ceil {
				t.Fatalf("attempt %d: backoff %v outside [0, %v)", n, d, ceil)
			}
		}
	}
}
