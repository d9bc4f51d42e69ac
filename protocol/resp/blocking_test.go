package resp

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cached/cached/node"
)

// waitFor polls cond until it holds or a few seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waiters returns the number of parked commands.
func waiters(ts *testServer) int64 { return ts.srv.blocking.count.Load() }

func TestBlockingPop(t *testing.T) {
	transports(t, func(t *testing.T, ts *testServer) {
		pusher := ts.raw(t)
		t.Run("immediate", func(t *testing.T) {
			r := ts.raw(t)
			pusher.expect(":2\r\n", "RPUSH", "l1", "a", "b")
			r.expect("*2\r\n$2\r\nl1\r\n$1\r\na\r\n", "BLPOP", "nothing", "l1", "0")
			r.expect("*2\r\n$2\r\nl1\r\n$1\r\nb\r\n", "BRPOP", "l1", "0")
		})
		t.Run("woken by a push, pipeline waits", func(t *testing.T) {
			r := ts.raw(t)
			r.send("*3\r\n$5\r\nBLPOP\r\n$2\r\nq1\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n")
			waitFor(t, "the pop to park", func() bool { return waiters(ts) == 1 })
			pusher.expect(":1\r\n", "LPUSH", "q1", "job")
			if got := r.reply(); got != "*2\r\n$2\r\nq1\r\n$3\r\njob\r\n" {
				t.Fatalf("BLPOP = %q", got)
			}
			if got := r.reply(); got != "+PONG\r\n" {
				t.Fatalf("then = %q", got)
			}
			pusher.expect(":0\r\n", "EXISTS", "q1")
		})
		t.Run("first come first served", func(t *testing.T) {
			a, b := ts.raw(t), ts.raw(t)
			a.do("BRPOP", "q2", "0")
			waitFor(t, "a to park", func() bool { return waiters(ts) == 1 })
			b.do("BRPOP", "q2", "0")
			waitFor(t, "b to park", func() bool { return waiters(ts) == 2 })
			pusher.expect(":1\r\n", "RPUSH", "q2", "one")
			if got := a.reply(); got != "*2\r\n$2\r\nq2\r\n$3\r\none\r\n" {
				t.Fatalf("a got %q", got)
			}
			pusher.expect(":1\r\n", "RPUSH", "q2", "two")
			if got := b.reply(); got != "*2\r\n$2\r\nq2\r\n$3\r\ntwo\r\n" {
				t.Fatalf("b got %q", got)
			}
		})
		t.Run("timeout", func(t *testing.T) {
			r := ts.raw(t)
			start := time.Now()
			r.expect("*-1\r\n", "BLPOP", "empty", "0.05")
			if time.Since(start) < 50*time.Millisecond {
				t.Fatal("returned before the timeout")
			}
			r.do("HELLO", "3")
			r.reply()
			r.expect("_\r\n", "BLPOP", "empty", "0.01")
		})
		t.Run("blmove", func(t *testing.T) {
			r := ts.raw(t)
			r.do("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0")
			waitFor(t, "BLMOVE to park", func() bool { return waiters(ts) == 1 })
			pusher.expect(":1\r\n", "RPUSH", "src", "x")
			if got := r.reply(); got != "$1\r\nx\r\n" {
				t.Fatalf("BLMOVE = %q", got)
			}
			pusher.expect("*1\r\n$1\r\nx\r\n", "LRANGE", "dst", "0", "-1")
			r.expect("$1\r\nx\r\n", "BRPOPLPUSH", "dst", "src", "0")
		})
		t.Run("bzpopmin woken by zadd", func(t *testing.T) {
			r := ts.raw(t)
			r.do("BZPOPMIN", "z", "0")
			waitFor(t, "BZPOPMIN to park", func() bool { return waiters(ts) == 1 })
			pusher.expect(":2\r\n", "ZADD", "z", "2", "b", "1", "a")
			if got := r.reply(); got != "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n" {
				t.Fatalf("BZPOPMIN = %q", got)
			}
			r.expect("*3\r\n$1\r\nz\r\n$1\r\nb\r\n$1\r\n2\r\n", "BZPOPMAX", "z", "0")
		})
		t.Run("disconnect while parked", func(t *testing.T) {
			r := ts.raw(t)
			r.do("BLPOP", "q3", "0")
			waitFor(t, "the pop to park", func() bool { return waiters(ts) == 1 })
			r.conn.Close()
			waitFor(t, "the waiter to go", func() bool { return waiters(ts) == 0 })
			pusher.expect(":1\r\n", "RPUSH", "q3", "kept")
			pusher.expect(":1\r\n", "LLEN", "q3")
		})
		t.Run("in a transaction it does not block", func(t *testing.T) {
			r := ts.raw(t)
			r.expect("+OK\r\n", "MULTI")
			r.expect("+QUEUED\r\n", "BLPOP", "none", "0")
			r.expect("*1\r\n*-1\r\n", "EXEC")
		})
		t.Run("errors", func(t *testing.T) {
			r := ts.raw(t)
			r.expect("-ERR timeout is negative\r\n", "BLPOP", "k", "-1")
			r.expect("-ERR timeout is not a float or out of range\r\n", "BLPOP", "k", "soon")
			pusher.expect("+OK\r\n", "SET", "str", "v")
			r.expect("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "BLPOP", "str", "0")
			r.expect("-ERR wrong number of arguments for 'blpop' command\r\n", "BLPOP", "k")
		})
		if n := waiters(ts); n != 0 {
			t.Fatalf("%d waiters left", n)
		}
	})
}

// TestBlockingLeaksNothing parks clients of both transports, lets them be
// served, time out and disconnect, stops the server, and checks that no
// goroutine is left behind.
func TestBlockingLeaksNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, loops := range []bool{true, false} {
		func() {
			ts := startServer(t, func(_ *node.Config, c *Config) { c.EventLoops = loops })
			defer ts.node.Close()
			defer ts.srv.Close()
			served, timedOut, gone := ts.raw(t), ts.raw(t), ts.raw(t)
			served.do("BLPOP", "a", "0")
			timedOut.do("BLPOP", "b", "0.02")
			gone.do("BLPOP", "c", "0")
			waitFor(t, "three parked", func() bool { return waiters(ts) == 3 || waiters(ts) == 2 })
			ts.raw(t).expect(":1\r\n", "RPUSH", "a", "x")
			served.reply()
			timedOut.reply()
			gone.conn.Close()
			waitFor(t, "no waiters", func() bool { return waiters(ts) == 0 })
			served.conn.Close()
			timedOut.conn.Close()
		}()
	}
}
