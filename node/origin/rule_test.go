package origin

import (
	"strings"
	"testing"
	"time"
)

func TestRuleMatchAndID(t *testing.T) {
	tests := []struct {
		pattern, key string
		match        bool
		id           string
	}{
		{"user:*", "user:42", true, "42"},
		{"user:*", "user:", true, ""},
		{"user:*", "users:1", false, ""},
		{"user:*:profile", "user:7:profile", true, "7"},
		{"user:*:profile", "user:7:prof", false, ""},
		{"user:?", "user:1", true, "user:1"}, // no simple '*': the id is the key
		{"user:[ab]*", "user:b9", true, "user:b9"},
		{"user:[ab]*", "user:c9", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.key, func(t *testing.T) {
			r := Rule{Pattern: tt.pattern, Origin: "o", Mode: ReadThrough, Timeout: time.Second}
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := r.matches([]byte(tt.key)); got != tt.match {
				t.Fatalf("matches = %v", got)
			}
			if tt.match && r.ID(tt.key) != tt.id {
				t.Fatalf("ID = %q, want %q", r.ID(tt.key), tt.id)
			}
			if tt.match && r.HasID() && r.Key(r.ID(tt.key)) != tt.key {
				t.Fatalf("Key(ID) = %q", r.Key(r.ID(tt.key)))
			}
		})
	}
}

func TestRuleValidate(t *testing.T) {
	ok := Rule{Pattern: "k:*", Origin: "o", Mode: ReadThrough, TTL: time.Minute, Jitter: 0.5, Timeout: time.Second}
	tests := []struct {
		edit func(*Rule)
		want string
	}{
		{func(r *Rule) { r.Pattern = "" }, "pattern"},
		{func(r *Rule) { r.Origin = "" }, "origin"},
		{func(r *Rule) { r.Mode = 0 }, "mode"},
		{func(r *Rule) { r.TTL = -1 }, "ttl"},
		{func(r *Rule) { r.Jitter = 1.5 }, "jitter"},
		{func(r *Rule) { r.TTL = 0 }, "jitter: needs a ttl"},
		{func(r *Rule) { r.NegativeTTL = -1 }, "negative-ttl"},
		{func(r *Rule) { r.Timeout = 0 }, "timeout"},
	}
	for _, tt := range tests {
		r := ok
		tt.edit(&r)
		if err := r.Validate(); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: got %v", tt.want, err)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if d := ok.ExpiryTTL(false); d < time.Minute || d > 90*time.Second {
			t.Fatalf("TTL with 50%% jitter: %v", d)
		}
	}
	ok.StaleTTL = time.Minute
	if d := ok.ExpiryTTL(true); d < 2*time.Minute {
		t.Fatalf("TTL with serve-stale: %v", d)
	}
}

func TestRuleMatchDoesNotAllocate(t *testing.T) {
	r := Rule{Pattern: "user:*", Origin: "o", Mode: ReadThrough, Timeout: time.Second}
	g := Rule{Pattern: "u?er:*", Origin: "o", Mode: ReadThrough, Timeout: time.Second}
	r.Validate()
	g.Validate()
	key := []byte("user:12345")
	if n := testing.AllocsPerRun(100, func() { r.matches(key); g.matches(key) }); n != 0 {
		t.Fatalf("%v allocations per match", n)
	}
}
