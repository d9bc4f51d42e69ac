package origin

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unsafe"

	"github.com/cached/cached/node/glob"
)

// Mode is how a rule's keys reach their origin.
type Mode int

// The modes. Write modes also read through.
const (
	// ReadThrough loads a missing key from the origin; writes stay in the
	// cache.
	ReadThrough Mode = iota + 1
	// WriteThrough also writes SET and DEL to the origin first, and changes
	// the cache only if the origin accepted.
	WriteThrough
	// WriteBehind also queues SET and DEL durably for the origin, and
	// acknowledges once the cache and the queue hold them.
	WriteBehind
)

// ParseMode parses "read-through", "write-through" or "write-behind".
func ParseMode(s string) (Mode, error) {
	for m := ReadThrough; m <= WriteBehind; m++ {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown mode %q: want read-through, write-through or write-behind", s)
}

// String returns the mode's configuration name.
func (m Mode) String() string {
	switch m {
	case ReadThrough:
		return "read-through"
	case WriteThrough:
		return "write-through"
	case WriteBehind:
		return "write-behind"
	}
	return "unknown"
}

// Rule maps the keys matching Pattern to an origin.
type Rule struct {
	// Pattern is a Redis glob (KEYS syntax). The part its '*' matches is
	// the key's id, for URL templates and database rows; a pattern with
	// one '*' and no other wildcard is matched without the glob engine.
	Pattern string
	// Origin names the origin the keys come from.
	Origin string
	// Mode is how keys reach the origin.
	Mode Mode
	// TTL is the expiry of a loaded key; 0 keeps it until evicted.
	TTL time.Duration
	// Jitter spreads TTLs: each load adds up to this fraction of TTL, at
	// random, so keys loaded together do not expire together (0..1).
	Jitter float64
	// NegativeTTL is how long an absent key (404, no row) is remembered as
	// absent, without asking the origin again; 0 does not remember.
	NegativeTTL time.Duration
	// Timeout bounds each origin call.
	Timeout time.Duration
	// StaleTTL, with serve-stale, is how long past its TTL a key is still
	// served while one background load refreshes it.
	StaleTTL time.Duration

	prefix, suffix string // of a pattern with one '*' and no other wildcard
	simple         bool
}

// Validate reports the first invalid field, named as in the config file.
func (r *Rule) Validate() error {
	switch {
	case r.Pattern == "":
		return fmt.Errorf("pattern: must be set")
	case r.Origin == "":
		return fmt.Errorf("origin: must be set")
	case r.Mode < ReadThrough || r.Mode > WriteBehind:
		return fmt.Errorf("mode: must be read-through, write-through or write-behind")
	case r.TTL < 0:
		return fmt.Errorf("ttl: must not be negative")
	case r.Jitter < 0 || r.Jitter > 1:
		return fmt.Errorf("jitter: must be 0%%..100%%, got %g%%", r.Jitter*100)
	case r.Jitter > 0 && r.TTL == 0:
		return fmt.Errorf("jitter: needs a ttl")
	case r.NegativeTTL < 0:
		return fmt.Errorf("negative-ttl: must not be negative")
	case r.Timeout <= 0:
		return fmt.Errorf("timeout: must be positive")
	case r.StaleTTL < 0:
		return fmt.Errorf("stale-ttl: must not be negative")
	}
	r.compile()
	return nil
}

// compile prepares the fast match of a pattern with a single '*'.
func (r *Rule) compile() {
	star := strings.IndexByte(r.Pattern, '*')
	r.simple = star >= 0 && !strings.ContainsAny(r.Pattern[star+1:], "*?[\\") && !strings.ContainsAny(r.Pattern[:star], "?[\\")
	if r.simple {
		r.prefix, r.suffix = r.Pattern[:star], r.Pattern[star+1:]
	}
}

// HasID reports whether the pattern has one '*' and no other wildcard, so
// that a key's id is defined and an id gives back the key.
func (r *Rule) HasID() bool { return r.simple }

// matches reports whether key matches the pattern. It does not allocate.
func (r *Rule) matches(key []byte) bool {
	if r.simple {
		return len(key) >= len(r.prefix)+len(r.suffix) &&
			string(key[:len(r.prefix)]) == r.prefix && string(key[len(key)-len(r.suffix):]) == r.suffix
	}
	return glob.Match(r.Pattern, unsafe.String(unsafe.SliceData(key), len(key)))
}

// ID returns the part of key the pattern's '*' matched, or the whole key
// when the pattern is not of that simple form.
func (r *Rule) ID(key string) string {
	if !r.simple {
		return key
	}
	return key[len(r.prefix) : len(key)-len(r.suffix)]
}

// Key returns the key whose id is id (see HasID).
func (r *Rule) Key(id string) string { return r.prefix + id + r.suffix }

// ExpiryTTL returns the TTL to store a loaded key with, jitter included,
// and StaleTTL on top when stale keys are served; 0 for none.
func (r *Rule) ExpiryTTL(serveStale bool) time.Duration {
	if r.TTL == 0 {
		return 0
	}
	ttl := r.TTL
	if r.Jitter > 0 {
		ttl += time.Duration(rand.Float64() * r.Jitter * float64(r.TTL))
	}
	if serveStale {
		ttl += r.StaleTTL
	}
	return ttl
}
