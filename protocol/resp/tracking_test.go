package resp

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/cached/cached/ring"
)

// inv is the RESP3 push invalidating keys.
func inv(keys ...string) string {
	s := ">2\r\n$10\r\ninvalidate\r\n*" + strconv.Itoa(len(keys)) + "\r\n"
	for _, k := range keys {
		s += "$" + strconv.Itoa(len(k)) + "\r\n" + k + "\r\n"
	}
	return s
}

// resp3 returns a raw connection that said HELLO 3.
func resp3(t *testing.T, ts *testServer) *rawConn {
	r := ts.raw(t)
	r.do("HELLO", "3")
	r.reply()
	return r
}

// noPush checks that nothing arrives on r before a PING's reply.
func noPush(t *testing.T, r *rawConn) {
	t.Helper()
	r.do("PING")
	if got := r.reply(); got != "+PONG\r\n" {
		t.Fatalf("unexpected message before PONG: %q", got)
	}
}

func TestTracking(t *testing.T) {
	ts := startServer(t, nil)
	writer := ts.raw(t)

	t.Run("default mode, once per read", func(t *testing.T) {
		r := resp3(t, ts)
		r.expect("+OK\r\n", "CLIENT", "TRACKING", "ON")
		writer.expect("+OK\r\n", "SET", "k", "1")
		r.expect("$1\r\n1\r\n", "GET", "k")
		r.expect("_\r\n", "GET", "other")
		writer.expect("+OK\r\n", "SET", "k", "2")
		if got := r.reply(); got != inv("k") {
			t.Fatalf("after a write: %q, want %q", got, inv("k"))
		}
		writer.expect("+OK\r\n", "SET", "k", "3") // not read again: nothing
		noPush(t, r)
		writer.expect(":0\r\n", "DEL", "other") // read while absent: tracked
		if got := r.reply(); got != inv("other") {
			t.Fatalf("after DEL: %q", got)
		}
	})
	t.Run("noloop", func(t *testing.T) {
		for _, noloop := range []bool{false, true} {
			r := resp3(t, ts)
			args := []string{"CLIENT", "TRACKING", "ON"}
			if noloop {
				args = append(args, "NOLOOP")
			}
			r.expect("+OK\r\n", args...)
			r.do("GET", "own")
			r.reply()
			r.expect("+OK\r\n", "SET", "own", "x")
			if noloop {
				noPush(t, r)
			} else if got := r.reply(); got != inv("own") {
				t.Fatalf("own write without NOLOOP: %q", got)
			}
		}
	})
	t.Run("bcast prefix", func(t *testing.T) {
		r := resp3(t, ts)
		r.expect("+OK\r\n", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "session:")
		writer.expect("+OK\r\n", "SET", "user:1", "a")
		if got := r.reply(); got != inv("user:1") {
			t.Fatalf("BCAST: %q", got)
		}
		writer.expect("+OK\r\n", "SET", "item:1", "a")
		noPush(t, r)
		writer.expect("+OK\r\n", "MSET", "session:9", "a", "item:2", "b")
		if got := r.reply(); got != inv("session:9") {
			t.Fatalf("BCAST MSET: %q", got)
		}
		r.expect("%3\r\n$5\r\nflags\r\n*2\r\n$2\r\non\r\n$5\r\nbcast\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*2\r\n$5\r\nuser:\r\n$8\r\nsession:\r\n", "CLIENT", "TRACKINGINFO")
	})
	t.Run("optin", func(t *testing.T) {
		r := resp3(t, ts)
		r.expect("+OK\r\n", "CLIENT", "TRACKING", "ON", "OPTIN")
		r.do("GET", "o1")
		r.reply()
		r.expect("+OK\r\n", "CLIENT", "CACHING", "YES")
		r.do("GET", "o2")
		r.reply()
		writer.expect("+OK\r\n", "MSET", "o1", "x", "o2", "y")
		if got := r.reply(); got != inv("o2") {
			t.Fatalf("OPTIN: %q, want only o2", got)
		}
	})
	t.Run("optout", func(t *testing.T) {
		r := resp3(t, ts)
		r.expect("+OK\r\n", "CLIENT", "TRACKING", "ON", "OPTOUT")
		r.expect("+OK\r\n", "CLIENT", "CACHING", "NO")
		r.do("GET", "p1")
		r.reply()
		r.do("GET", "p2")
		r.reply()
		writer.expect("+OK\r\n", "MSET", "p1", "x", "p2", "y")
		if got := r.reply(); got != inv("p2") {
			t.Fatalf("OPTOUT: %q, want only p2", got)
		}
	})
	t.Run("RESP2 redirect", func(t *testing.T) {
		sub := ts.raw(t)
		sub.do("CLIENT", "ID")
		id := strings.TrimSuffix(strings.TrimPrefix(sub.reply(), ":"), "\r\n")
		sub.do("SUBSCRIBE", invalidateChannel)
		sub.reply()
		r := ts.raw(t)
		r.expect("+OK\r\n", "CLIENT", "TRACKING", "ON", "REDIRECT", id)
		r.expect(":"+id+"\r\n", "CLIENT", "GETREDIR")
		r.do("GET", "rk")
		r.reply()
		writer.expect("+OK\r\n", "SET", "rk", "1")
		want := "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$2\r\nrk\r\n"
		if got := sub.reply(); got != want {
			t.Fatalf("redirected invalidation: %q, want %q", got, want)
		}
	})
	t.Run("flushall", func(t *testing.T) {
		r := resp3(t, ts)
		r.expect("+OK\r\n", "CLIENT", "TRACKING", "ON")
		r.do("GET", "f")
		r.reply()
		writer.expect("+OK\r\n", "FLUSHALL")
		if got := r.reply(); got != ">2\r\n$10\r\ninvalidate\r\n_\r\n" {
			t.Fatalf("FLUSHALL: %q", got)
		}
	})
	t.Run("errors", func(t *testing.T) {
		r := resp3(t, ts)
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"}, "ERR You can't use both OPTIN and OPTOUT"},
			{[]string{"CLIENT", "TRACKING", "ON", "PREFIX", "a"}, "ERR PREFIX option requires BCAST mode to be enabled"},
			{[]string{"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "ab"}, "ERR Prefix 'ab' overlaps with another provided prefix 'a'. Prefixes for a single client must not overlap."},
			{[]string{"CLIENT", "TRACKING", "ON", "REDIRECT", "999999"}, "ERR The client ID you want redirect to does not exist"},
			{[]string{"CLIENT", "TRACKING", "MAYBE"}, "ERR syntax error"},
			{[]string{"CLIENT", "CACHING", "YES"}, "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"},
		} {
			r.expect("-"+tt.want+"\r\n", tt.args...)
		}
		r.expect(":-1\r\n", "CLIENT", "GETREDIR")
		r.expect("+OK\r\n", "CLIENT", "TRACKING", "OFF")
	})
}

// TestRueidisClientSideCaching uses rueidis's client-side cache (RESP3
// tracking) against a single node and a cluster: a cached read is served
// locally, and another client's write invalidates it.
func TestRueidisClientSideCaching(t *testing.T) {
	single := startServer(t, nil)
	tc := startCluster(t, 3, nil)
	for _, target := range []struct {
		name string
		addr string
	}{{"single", single.addr}, {"cluster", tc.live()[0].addr}} {
		t.Run(target.name, func(t *testing.T) {
			ctx := context.Background()
			reader, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{target.addr}})
			if err != nil {
				t.Fatal(err)
			}
			defer reader.Close()
			writer, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{target.addr}, DisableCache: true})
			if err != nil {
				t.Fatal(err)
			}
			defer writer.Close()
			for i := range 20 {
				k := "csc:" + strconv.Itoa(i)
				if err := writer.Do(ctx, writer.B().Set().Key(k).Value("v1").Build()).Error(); err != nil {
					t.Fatal(err)
				}
				get := func() rueidis.RedisResult {
					return reader.DoCache(ctx, reader.B().Get().Key(k).Cache(), time.Minute)
				}
				if v, _ := get().ToString(); v != "v1" {
					t.Fatalf("%s = %q", k, v)
				}
				if r := get(); !r.IsCacheHit() {
					t.Fatalf("%s: second read not served from the client cache", k)
				}
				if err := writer.Do(ctx, writer.B().Set().Key(k).Value("v2").Build()).Error(); err != nil {
					t.Fatal(err)
				}
				checkFor(t, 5*time.Second, func() error {
					if v, _ := get().ToString(); v != "v2" {
						return fmt.Errorf("%s still %q after another client's write", k, v)
					}
					return nil
				})
			}
		})
	}
}

// TestClusterTracking checks that a client tracking keys through a node
// that does not own them hears of writes made through a third node, in
// default and BCAST mode.
func TestClusterTracking(t *testing.T) {
	tc := startCluster(t, 3, nil)
	nodes := tc.live()
	v := nodes[0].node.View()
	key := ""
	for i := range 1000 {
		k := "ct:" + strconv.Itoa(i)
		if v.Primary(ring.Slot([]byte(k))).Name == nodes[1].name {
			key = k
			break
		}
	}
	entry := &testServer{addr: nodes[0].addr}
	r := resp3(t, entry)
	r.expect("+OK\r\n", "CLIENT", "TRACKING", "ON")
	writer := (&testServer{addr: nodes[2].addr}).raw(t)
	writer.expect("+OK\r\n", "SET", key, "1")
	r.expect("$1\r\n1\r\n", "GET", key)
	checkFor(t, 5*time.Second, func() error {
		if !nodes[1].srv.tracking.active.Load() {
			return fmt.Errorf("the owner does not track the key yet")
		}
		return nil
	})
	writer.expect("+OK\r\n", "SET", key, "2")
	if got := r.reply(); got != inv(key) {
		t.Fatalf("invalidation through the cluster: %q", got)
	}

	b := resp3(t, entry)
	b.expect("+OK\r\n", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "bc:")
	checkFor(t, 5*time.Second, func() error {
		for _, cn := range nodes[1:] {
			if !cn.srv.tracking.active.Load() {
				return fmt.Errorf("%s has no BCAST registration", cn.name)
			}
		}
		return nil
	})
	for i := range 5 {
		k := "bc:" + strconv.Itoa(i)
		writer.expect("+OK\r\n", "SET", k, "x")
		if got := b.reply(); got != inv(k) {
			t.Fatalf("BCAST through the cluster: %q, want %q", got, inv(k))
		}
	}
}
