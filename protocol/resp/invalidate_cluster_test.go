package resp

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/cached/cached/node"
	"github.com/cached/cached/persistence"
	"github.com/cached/cached/ring"
)

// keyOwnedBy returns the first key prefix+N whose primary is the node
// named owner.
func keyOwnedBy(t testing.TB, cn *clusterNode, prefix, owner string) string {
	t.Helper()
	v := cn.node.View()
	for i := range 100000 {
		k := prefix + strconv.Itoa(i)
		if v.Primary(ring.Slot([]byte(k))).Name == owner {
			return k
		}
	}
	t.Fatalf("no key %s* owned by %s", prefix, owner)
	return ""
}

// TestClusterInvalidate deletes by key, prefix and tag through one node
// keys owned by all three; no copy survives anywhere, counts are of keys,
// not copies, and a tracking client hears of it.
func TestClusterInvalidate(t *testing.T) {
	tc := startCluster(t, 3, nil)
	tc.waitSettled()
	nodes := tc.live()
	w := (&testServer{addr: nodes[0].addr}).raw(t)
	const n = 60
	for i := range n {
		w.expect("+OK\r\n", "CACHED", "SET", "pre:"+strconv.Itoa(i), "v", "EX", "100", "TAGS", "tag"+strconv.Itoa(i%2))
		w.expect("+OK\r\n", "SET", "other:"+strconv.Itoa(i), "v")
	}
	tracked := keyOwnedBy(t, nodes[0], "pre:", nodes[2].name)
	tr := resp3(t, &testServer{addr: nodes[0].addr})
	tr.expect("+OK\r\n", "CLIENT", "TRACKING", "ON")
	tr.expect("$1\r\nv\r\n", "GET", tracked)
	checkFor(t, 5*time.Second, func() error {
		if !nodes[2].srv.tracking.active.Load() {
			return fmt.Errorf("the owner does not track the key yet")
		}
		return nil
	})
	copies := func(pattern string) int {
		total := 0
		for _, cn := range nodes {
			total += len(cn.node.Keys(pattern))
		}
		return total
	}
	checkFor(t, 5*time.Second, func() error {
		if c := copies("pre:*"); c != 2*n {
			return fmt.Errorf("%d copies of pre:*, want %d (replication factor 2)", c, 2*n)
		}
		return nil
	})

	x := (&testServer{addr: nodes[1].addr}).raw(t)
	x.expect(":"+strconv.Itoa(n/2)+"\r\n", "CACHED", "INVALIDATE", "TAG", "tag0")
	x.expect(":"+strconv.Itoa(n/2)+"\r\n", "CACHED", "INVALIDATE", "PREFIX", "pre:")
	if got := tr.reply(); got != inv(tracked) {
		t.Fatalf("tracking client: %q", got)
	}
	x.expect(":0\r\n", "CACHED", "INVALIDATE", "TAG", "tag1") // gone by prefix already
	x.expect(":3\r\n", "CACHED", "INVALIDATE", "KEYS", "other:1", "other:2", "other:3", "none")
	checkFor(t, 5*time.Second, func() error {
		if c := copies("pre:*") + copies("cached:tag:*"); c != 0 {
			return fmt.Errorf("%d copies of pre:* and tag sets left", c)
		}
		if c := copies("other:*"); c != 2*(n-3) {
			return fmt.Errorf("%d copies of other:*, want %d", c, 2*(n-3))
		}
		return nil
	})
	x.expect(":"+strconv.Itoa(n-3)+"\r\n", "DBSIZE")
}

// TestTrackingThroughForwarding covers NOLOOP, OPTIN with CLIENT CACHING
// and RESP2 REDIRECT for a client whose reads and writes are forwarded to
// the key's owner.
func TestTrackingThroughForwarding(t *testing.T) {
	tc := startCluster(t, 3, nil)
	tc.waitSettled()
	nodes := tc.live()
	entry := &testServer{addr: nodes[0].addr}
	other := (&testServer{addr: nodes[2].addr}).raw(t)
	owned := func(prefix string) string { return keyOwnedBy(t, nodes[0], prefix, nodes[1].name) }
	waitTracked := func() {
		checkFor(t, 5*time.Second, func() error {
			if !nodes[1].srv.tracking.active.Load() {
				return fmt.Errorf("the owner does not track yet")
			}
			return nil
		})
	}

	t.Run("noloop", func(t *testing.T) {
		key := owned("nl:")
		self := resp3(t, entry)
		self.expect("+OK\r\n", "CLIENT", "TRACKING", "ON", "NOLOOP")
		peer := resp3(t, entry)
		peer.expect("+OK\r\n", "CLIENT", "TRACKING", "ON")
		other.expect("+OK\r\n", "SET", key, "1")
		self.expect("$1\r\n1\r\n", "GET", key)
		peer.expect("$1\r\n1\r\n", "GET", key)
		waitTracked()
		self.expect("+OK\r\n", "SET", key, "2") // forwarded to the owner
		if got := peer.reply(); got != inv(key) {
			t.Fatalf("the other tracking client: %q", got)
		}
		noPush(t, self)
		// Its own reads are tracked still: another client's write reaches it.
		self.expect("$1\r\n2\r\n", "GET", key)
		other.expect("+OK\r\n", "SET", key, "3")
		if got := self.reply(); got != inv(key) {
			t.Fatalf("NOLOOP client after another's write: %q", got)
		}
	})

	t.Run("optin", func(t *testing.T) {
		cached, plain := owned("oi:"), owned("oj:")
		r := resp3(t, entry)
		r.expect("+OK\r\n", "CLIENT", "TRACKING", "ON", "OPTIN")
		r.expect("+OK\r\n", "CLIENT", "CACHING", "YES")
		r.expect("_\r\n", "GET", cached)
		r.expect("_\r\n", "GET", plain) // not opted in
		waitTracked()
		other.expect("+OK\r\n", "SET", plain, "x")
		other.expect("+OK\r\n", "SET", cached, "x")
		if got := r.reply(); got != inv(cached) {
			t.Fatalf("OPTIN: %q, want only %q", got, inv(cached))
		}
	})

	t.Run("optout", func(t *testing.T) {
		tracked, skipped := owned("oo:"), owned("op:")
		r := resp3(t, entry)
		r.expect("+OK\r\n", "CLIENT", "TRACKING", "ON", "OPTOUT")
		r.expect("+OK\r\n", "CLIENT", "CACHING", "NO")
		r.expect("_\r\n", "GET", skipped)
		r.expect("_\r\n", "GET", tracked)
		waitTracked()
		other.expect("+OK\r\n", "SET", skipped, "x")
		other.expect("+OK\r\n", "SET", tracked, "x")
		if got := r.reply(); got != inv(tracked) {
			t.Fatalf("OPTOUT: %q, want only %q", got, inv(tracked))
		}
	})

	t.Run("split commands", func(t *testing.T) {
		// MGET, MSET and DEL whose keys live on all three nodes: the reads
		// are tracked, the writes invalidate, NOLOOP holds, for every part.
		var keys []string
		for _, cn := range nodes {
			keys = append(keys, keyOwnedBy(t, nodes[0], "sp:", cn.name))
		}
		r := resp3(t, entry)
		r.expect("+OK\r\n", "CLIENT", "TRACKING", "ON", "NOLOOP")
		r.expect("*3\r\n_\r\n_\r\n_\r\n", append([]string{"MGET"}, keys...)...)
		checkFor(t, 5*time.Second, func() error {
			for _, cn := range nodes[1:] {
				if !cn.srv.tracking.active.Load() {
					return fmt.Errorf("%s does not track yet", cn.name)
				}
			}
			return nil
		})
		readKeys := func() []string {
			var got []string
			for len(got) < len(keys) {
				msg := r.reply()
				for _, k := range keys {
					if strings.Contains(msg, "\r\n"+k+"\r\n") {
						got = append(got, k)
					}
				}
				if !strings.HasPrefix(msg, ">2\r\n$10\r\ninvalidate") {
					t.Fatalf("unexpected %q", msg)
				}
			}
			return got
		}
		w := entry.raw(t) // another client of the same node
		w.expect("+OK\r\n", "MSET", keys[0], "1", keys[1], "1", keys[2], "1")
		if got := readKeys(); len(got) != 3 {
			t.Fatalf("invalidated %q", got)
		}
		r.expect("*3\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n1\r\n", append([]string{"MGET"}, keys...)...)
		r.expect(":3\r\n", append([]string{"DEL"}, keys...)...) // its own write: NOLOOP
		noPush(t, r)
	})

	t.Run("resp2 redirect", func(t *testing.T) {
		key := owned("rd:")
		target := entry.raw(t)
		target.do("CLIENT", "ID")
		id := target.reply()
		target.expect("*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n", "SUBSCRIBE", "__redis__:invalidate")
		r := entry.raw(t)
		r.expect("+OK\r\n", "CLIENT", "TRACKING", "ON", "REDIRECT", id[1:len(id)-2])
		r.expect("$-1\r\n", "GET", key)
		waitTracked()
		other.expect("+OK\r\n", "SET", key, "x")
		want := "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$" + strconv.Itoa(len(key)) + "\r\n" + key + "\r\n"
		if got := target.reply(); got != want {
			t.Fatalf("REDIRECT: %q, want %q", got, want)
		}
	})
}

// TestBcastLateJoiner checks that a BCAST registration reaches a member
// that joins after it was made.
func TestBcastLateJoiner(t *testing.T) {
	tc := startCluster(t, 2, nil)
	nodes := tc.live()
	r := resp3(t, &testServer{addr: nodes[0].addr})
	r.expect("+OK\r\n", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "late:")
	late := tc.add()
	tc.waitMembers(3)
	tc.waitSettled()
	key := keyOwnedBy(t, late, "late:", late.name)
	w := (&testServer{addr: late.addr}).raw(t)
	// The joiner learns the registration when it sees the view change; a
	// write before that may not be reported, so write until one is.
	checkFor(t, 5*time.Second, func() error {
		w.expect("+OK\r\n", "SET", key, "v")
		r.do("PING")
		got := r.reply()
		if got == "+PONG\r\n" {
			return fmt.Errorf("no invalidation from the member that joined later")
		}
		for ; got != "+PONG\r\n"; got = r.reply() {
			if got != inv(key) {
				return fmt.Errorf("unexpected %q", got)
			}
		}
		return nil
	})
	// From then on every write is reported (a report of the writes above
	// may still come: every message is the same).
	// From then on every write is reported.
	for i := range 5 {
		w.expect("+OK\r\n", "SET", key, strconv.Itoa(i))
		if got := r.reply(); got != inv(key) {
			t.Fatalf("write %d: %q", i, got)
		}
	}
}

// TestRueidisThroughOtherNodes runs rueidis's client-side cache connected
// to one node (as to a single Redis, every key forwarded) on keys owned by
// the other two, written through a third connection on yet another node:
// each write must reach the cache, so a bounded number of rounds all end
// with the new value.
func TestRueidisThroughOtherNodes(t *testing.T) {
	tc := startCluster(t, 3, nil)
	tc.waitSettled()
	nodes := tc.live()
	ctx := context.Background()
	reader, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{nodes[0].addr}, ForceSingleClient: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	writer, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{nodes[2].addr}, ForceSingleClient: true, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	keys := []string{keyOwnedBy(t, nodes[0], "ru:", nodes[1].name), keyOwnedBy(t, nodes[0], "ru:", nodes[2].name)}
	for round := range 50 {
		for _, k := range keys {
			want := strconv.Itoa(round)
			if err := writer.Do(ctx, writer.B().Set().Key(k).Value(want).Build()).Error(); err != nil {
				t.Fatal(err)
			}
			checkFor(t, 5*time.Second, func() error {
				v, err := reader.DoCache(ctx, reader.B().Get().Key(k).Cache(), time.Minute).ToString()
				if v != want {
					return fmt.Errorf("round %d: %s = %q (%v), want %q: invalidation lost", round, k, v, err, want)
				}
				return nil
			})
			if r := reader.DoCache(ctx, reader.B().Get().Key(k).Cache(), time.Minute); !r.IsCacheHit() {
				t.Fatalf("round %d: %s not served from the client cache", round, k)
			}
		}
	}
}

// TestTagsMoveAndPersist: tag sets live in their keys' slots, so they move
// with them when a member joins and come back with a member restarted
// from its data directory; the tag then still finds every key.
func TestTagsMoveAndPersist(t *testing.T) {
	dir := t.TempDir()
	withDir := func(c *node.Config) {
		pc := node.PersistenceConfig{Config: persistence.DefaultConfig(), Log: true}
		pc.Dir = dir
		c.Persistence = &pc
	}
	tc := startCluster(t, 2, func(c *node.ClusterConfig) { c.Replicas = 1 })
	w := (&testServer{addr: tc.live()[0].addr}).raw(t)
	const n = 200
	for i := range n {
		w.expect("+OK\r\n", "CACHED", "SET", "tm:"+strconv.Itoa(i), "v", "TAGS", "moved")
	}
	p := tc.addNode("persistent", withDir) // takes slots over: hand-off
	tc.waitMembers(3)
	tc.waitSettled()
	if len(p.node.Keys("tm:*")) == 0 || len(p.node.Keys("cached:tag:*")) == 0 {
		t.Fatal("the new member holds no tagged key or tag set")
	}
	tc.kill(p)
	tc.waitMembers(2)
	tc.addNode("persistent", withDir)
	tc.waitMembers(3)
	tc.waitSettled()
	w.expect(":"+strconv.Itoa(n)+"\r\n", "CACHED", "INVALIDATE", "TAG", "moved")
	for _, cn := range tc.live() {
		if left := cn.node.Keys("tm:*"); len(left) > 0 {
			t.Fatalf("%s still holds %d tagged keys", cn.name, len(left))
		}
	}
}

// TestClusterExpiryInvalidates: a key owned by another node expires there;
// the tracking client that read it through this node is told.
func TestClusterExpiryInvalidates(t *testing.T) {
	tc := startCluster(t, 3, nil)
	tc.waitSettled()
	nodes := tc.live()
	key := keyOwnedBy(t, nodes[0], "ex:", nodes[1].name)
	w := (&testServer{addr: nodes[2].addr}).raw(t)
	w.expect("+OK\r\n", "SET", key, "v", "PX", "1000")
	r := resp3(t, &testServer{addr: nodes[0].addr})
	r.expect("+OK\r\n", "CLIENT", "TRACKING", "ON")
	r.expect("$1\r\nv\r\n", "GET", key)
	if got := r.reply(); got != inv(key) { // the owner's expiry sweep, within seconds
		t.Fatalf("after the key expired on its owner: %q", got)
	}
}
