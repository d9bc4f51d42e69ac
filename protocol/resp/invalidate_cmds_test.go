package resp

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cached/cached/node"
	"github.com/cached/cached/ring"
)

// tagKey is the tag set of tag in key's slot.
func tagKey(key, tag string) string {
	return string(node.TagKey(ring.Slot([]byte(key)), []byte(tag)))
}

func TestCachedInvalidate(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.raw(t)
	for _, k := range []string{"p:1", "p:2", "p:3", "q:1", "pp"} {
		r.expect("+OK\r\n", "SET", k, "v")
	}
	r.expect(":3\r\n", "CACHED", "INVALIDATE", "PREFIX", "p:")
	r.expect(":0\r\n", "EXISTS", "p:1", "p:2", "p:3")
	r.expect(":1\r\n", "EXISTS", "pp")
	r.expect(":1\r\n", "CACHED", "INVALIDATE", "KEYS", "q:1", "missing")
	r.expect(":0\r\n", "EXISTS", "q:1")
	r.expect("+OK\r\n", "SET", "a*b", "v")
	r.expect("+OK\r\n", "SET", "axb", "v")
	r.expect(":1\r\n", "CACHED", "INVALIDATE", "PREFIX", "a*") // a byte prefix, not a pattern
	r.expect(":1\r\n", "EXISTS", "axb")

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"CACHED", "INVALIDATE", "PREFIX", ""}, "-ERR prefixes and tags must not be empty\r\n"},
		{[]string{"CACHED", "INVALIDATE", "TAG", ""}, "-ERR prefixes and tags must not be empty\r\n"},
		{[]string{"CACHED", "INVALIDATE", "PATTERN", "x"}, "-ERR syntax error\r\n"},
		{[]string{"CACHED", "INVALIDATE", "KEYS"}, "-ERR wrong number of arguments for 'cached|invalidate' command\r\n"},
		{[]string{"CACHED", "NOPE"}, "-ERR unknown subcommand 'NOPE'. Try CACHED HELP.\r\n"},
		{[]string{"CACHED", "TAG", "k"}, "-ERR wrong number of arguments for 'cached|tag' command\r\n"},
		{[]string{"CACHED", "SET", "k", "v", "TAGS"}, "-ERR syntax error\r\n"},
		{[]string{"CACHED", "SET", "k", "v", "GET", "TAGS", "t"}, "-ERR CACHED SET does not take GET\r\n"},
		{[]string{"CACHED", "SET", "k", "v", "TAGS", ""}, "-ERR tag: a tag must not be empty\r\n"},
		{[]string{"CACHED", "SET", "cached:tag:x", "v", "TAGS", "t"}, "-ERR tag: keys under cached:tag: are reserved for tag sets\r\n"},
		{[]string{"CACHED", "SET", "k", "v", "EX", "0", "TAGS", "t"}, "-ERR invalid expire time in 'set' command\r\n"},
	} {
		r.expect(tt.want, tt.args...)
	}
	r.expect(":0\r\n", "EXISTS", "k")
}

func TestCachedTags(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.raw(t)
	r.expect("+OK\r\n", "CACHED", "SET", "user:1", "a", "EX", "100", "TAGS", "users", "team:7")
	r.expect("+OK\r\n", "CACHED", "SET", "user:2", "b", "PX", "50000", "TAGS", "users")
	r.expect("+OK\r\n", "SET", "user:3", "c")
	r.expect(":1\r\n", "CACHED", "TAG", "user:3", "users")
	r.expect(":0\r\n", "CACHED", "TAG", "user:3", "users") // already tagged
	r.expect(":0\r\n", "CACHED", "TAG", "nobody", "users") // absent: nothing
	r.expect(":0\r\n", "EXISTS", tagKey("nobody", "users"))
	r.expect("$-1\r\n", "CACHED", "SET", "user:3", "x", "NX", "TAGS", "other") // not written: not tagged
	r.expect(":0\r\n", "EXISTS", tagKey("user:3", "other"))
	r.expect("*1\r\n$6\r\nuser:1\r\n", "SMEMBERS", tagKey("user:1", "team:7"))

	// A tag set lives as long as its longest-lived key, never shorter.
	r.expect(":100000\r\n", "PTTL", tagKey("user:1", "users"))
	r.expect(":50000\r\n", "PTTL", tagKey("user:2", "users"))
	r.expect(":-1\r\n", "PTTL", tagKey("user:3", "users"))
	r.expect("+OK\r\n", "CACHED", "SET", "user:1", "a", "EX", "10", "TAGS", "users")
	r.expect(":100000\r\n", "PTTL", tagKey("user:1", "users"))
	r.expect("+OK\r\n", "CACHED", "SET", "user:1", "a", "EX", "200", "TAGS", "users")
	r.expect(":200000\r\n", "PTTL", tagKey("user:1", "users"))
	r.expect("+OK\r\n", "CACHED", "SET", "user:1", "a", "TAGS", "users")
	r.expect(":-1\r\n", "PTTL", tagKey("user:1", "users"))

	// A tracking client hears of the keys a tag invalidation deletes.
	tr := resp3(t, ts)
	tr.expect("+OK\r\n", "CLIENT", "TRACKING", "ON")
	tr.expect("$1\r\nb\r\n", "GET", "user:2")
	r.expect(":3\r\n", "CACHED", "INVALIDATE", "TAG", "users")
	if got := tr.reply(); got != inv("user:2") {
		t.Fatalf("tracking after a tag invalidation: %q", got)
	}
	r.expect(":0\r\n", "EXISTS", "user:1", "user:2", "user:3",
		tagKey("user:1", "users"), tagKey("user:2", "users"), tagKey("user:3", "users"))
	// user:1 is gone, so its other tag deletes nothing, and goes itself.
	r.expect(":0\r\n", "CACHED", "INVALIDATE", "TAG", "team:7")
	r.expect(":0\r\n", "EXISTS", tagKey("user:1", "team:7"))

	// A tag set expires with its keys.
	r.expect("+OK\r\n", "CACHED", "SET", "s:1", "v", "PX", "1000", "TAGS", "short")
	ts.clock.Advance(1001 * time.Millisecond)
	r.expect(":0\r\n", "EXISTS", "s:1", tagKey("s:1", "short"))
	// Tag sets are ordinary keys: a non-set there is refused, not clobbered.
	r.expect("+OK\r\n", "SET", "w:1", "v")
	r.expect("+OK\r\n", "SET", tagKey("w:1", "bad"), "v")
	r.expect("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "CACHED", "TAG", "w:1", "bad")
}

// TestTrackingExpiryEviction checks that keys the server deletes on its
// own, expired or evicted, are invalidated.
func TestTrackingExpiryEviction(t *testing.T) {
	ts := startServer(t, func(n *node.Config, _ *Config) { n.Store.ExpiryInterval = time.Hour })
	w := ts.raw(t)
	tr := resp3(t, ts)
	tr.expect("+OK\r\n", "CLIENT", "TRACKING", "ON")

	w.expect("+OK\r\n", "SET", "swept", "v", "PX", "100")
	tr.expect("$1\r\nv\r\n", "GET", "swept")
	ts.clock.Advance(200 * time.Millisecond)
	ts.node.ExpireCycle(0, time.Minute) // the active sweep
	if got := tr.reply(); got != inv("swept") {
		t.Fatalf("after the expiry sweep: %q", got)
	}

	for i := range 50 {
		k := "ev:" + strconv.Itoa(i)
		w.expect("+OK\r\n", "SET", k, "value")
		tr.expect("$5\r\nvalue\r\n", "GET", k)
	}
	w.expect("+OK\r\n", "CONFIG", "SET", "maxmemory-policy", "allkeys-random")
	w.expect("+OK\r\n", "CONFIG", "SET", "maxmemory", "1")
	w.do("SET", "trigger", "x") // evicts everything it can, then fails
	w.reply()
	got := tr.reply()
	if !strings.HasPrefix(got, ">2\r\n$10\r\ninvalidate\r\n*") || !strings.Contains(got, "ev:") {
		t.Fatalf("after eviction: %q, want an invalidation push", got)
	}
}
