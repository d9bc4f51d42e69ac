package resp

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/node"
)

// badAlive checks that c, a client with its own connection, can still SET
// and GET.
func badAlive(t testing.TB, c *redis.Client, key string) {
	t.Helper()
	ctx := context.Background()
	if err := c.Set(ctx, key, "alive", 0).Err(); err != nil {
		t.Fatalf("SET on the second client: %v", err)
	}
	if v, err := c.Get(ctx, key).Result(); err != nil || v != "alive" {
		t.Fatalf("GET on the second client = %q, %v", v, err)
	}
}

// badReadUntilClosed reads what the server sends until it closes r. It
// reports reset when the close was a reset, which may drop replies the
// server wrote: a server that closes a socket with unread input sends RST.
func badReadUntilClosed(t testing.TB, r *rawConn) (got string, reset bool) {
	t.Helper()
	r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.rd.Read(buf)
		b.Write(buf[:n])
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after 5s (read %q)", b.String())
		}
		return b.String(), errors.Is(err, syscall.ECONNRESET)
	}
}

// badGarbage returns n random bytes from a fixed seed.
func badGarbage(seed uint64, n int) string {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return string(b)
}

func TestBadInput(t *testing.T) {
	ts := startServer(t, nil)
	alive := ts.client(t, 2) // a second, concurrent client
	badAlive(t, alive, "before")
	base := ts.srv.ClientCount()

	const (
		expectedDollar = "-ERR Protocol error: expected '$', got '*'\r\n"
		badBulk        = "-ERR Protocol error: invalid bulk length\r\n"
		badMultibulk   = "-ERR Protocol error: invalid multibulk length\r\n"
	)
	tests := []struct {
		name string
		in   string
		// want is the whole reply before the server closes the connection,
		// or, with open, the reply on the connection that stays open.
		want string
		open bool // the connection stays usable
		hang bool // the server waits for more input: the client disconnects
		any  bool // any reply, or none, will do
	}{
		{name: "array of simple string", in: "*1\r\n+foo\r\n", want: "-ERR Protocol error: expected '$', got '+'\r\n"},
		{name: "array of integer", in: "*2\r\n$4\r\nECHO\r\n:1\r\n", want: "-ERR Protocol error: expected '$', got ':'\r\n"},
		{name: "multibulk count not a number", in: "*abc\r\n", want: badMultibulk},
		{name: "multibulk count empty", in: "*\r\n", want: badMultibulk},
		{name: "multibulk count huge", in: "*2147483648\r\n", want: badMultibulk},
		{name: "multibulk count overflow", in: "*99999999999999999999\r\n", want: badMultibulk},
		{name: "multibulk count negative", in: "*-5\r\nPING\r\n", want: "+PONG\r\n", open: true},
		{name: "bulk length negative", in: "*1\r\n$-5\r\n", want: badBulk},
		{name: "bulk length huge", in: "*1\r\n$1073741824\r\n", want: badBulk},
		{name: "bulk length max int64", in: "*2\r\n$3\r\nGET\r\n$9223372036854775807\r\n", want: badBulk},
		{name: "bulk length overflow", in: "*1\r\n$99999999999999999999\r\n", want: badBulk},
		{name: "bulk length not a number", in: "*1\r\n$abc\r\n", want: badBulk},
		{name: "inline dollar", in: "$-5\r\n", want: "-ERR unknown command '$-5', with args beginning with: \r\n", open: true},
		{name: "inline unbalanced quotes", in: "SET \"k v\r\n", want: "-ERR Protocol error: unbalanced quotes in request\r\n"},
		{name: "inline unbalanced single quote", in: "SET k 'v\r\n", want: "-ERR Protocol error: unbalanced quotes in request\r\n"},
		{name: "inline too big", in: strings.Repeat("x", 70000), want: "-ERR Protocol error: too big inline request\r\n"},
		{name: "count line too big", in: "*" + strings.Repeat("1", 70000), want: "-ERR Protocol error: too big mbulk count string\r\n"},
		{name: "nested arrays", in: strings.Repeat("*1\r\n", 1000), want: expectedDollar},
		{name: "nested arrays with a command", in: "*1\r\n*1\r\n$4\r\nPING\r\n", want: expectedDollar},
		{name: "good then bad", in: "PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n*0\r\n", want: "+PONG\r\n+PONG\r\n" + expectedDollar},
		{name: "half a bulk", in: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc", hang: true},
		{name: "header only", in: "*3\r\n", hang: true},
		{name: "half a header", in: "*2\r\n$3", hang: true},
		{name: "half an inline command", in: "SET k v", hang: true},
		{name: "garbage 1", in: badGarbage(1, 4096), any: true},
		{name: "garbage 2", in: badGarbage(2, 4096), any: true},
		{name: "garbage 3", in: badGarbage(3, 65536), any: true},
		{name: "garbage after star", in: "*" + badGarbage(4, 1024), any: true},
		{name: "garbage after array header", in: "*2\r\n$3\r\nGET\r\n" + badGarbage(5, 1024), any: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.raw(t)
			r.conn.Write([]byte(tt.in)) // may fail once the server closed
			switch {
			case tt.open:
				if got := r.reply(); got != tt.want {
					t.Errorf("reply %q, want %q", got, tt.want)
				}
				r.expect("+PONG\r\n", "PING")
			case tt.hang:
				// The command is incomplete: no reply, no close.
				r.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				var ne net.Error
				if b, err := r.rd.ReadByte(); !errors.As(err, &ne) || !ne.Timeout() {
					t.Fatalf("read %q, %v; want nothing", b, err)
				}
			case tt.any:
				// Garbage may be taken for inline commands; wait for a close
				// or for the server to go quiet, then hang up.
				r.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
				var buf [4096]byte
				for {
					if _, err := r.rd.Read(buf[:]); err != nil {
						break
					}
				}
			default:
				got, reset := badReadUntilClosed(t, r)
				if got != tt.want && !(reset && strings.HasPrefix(tt.want, got)) {
					t.Errorf("got %q before close, want %q", got, tt.want)
				}
			}
			r.conn.Close()
			connPollFor(t, "the connection to be unregistered", func() bool { return ts.srv.ClientCount() == base })
			badAlive(t, alive, "after "+tt.name)
		})
	}
}

// TestBadInputMemory sends huge declared lengths on many connections: the
// server must refuse those over the limit and, for allowed ones, allocate
// only for bytes that arrived.
func TestBadInputMemory(t *testing.T) {
	ts := startServer(t, nil)
	alive := ts.client(t, 2)
	badAlive(t, alive, "before")
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	netIn := ts.srv.netIn.Load()

	const conns = 20
	var sent int64
	var pending []*rawConn
	for i := range conns {
		r := ts.raw(t)
		if i%2 == 0 {
			// Over proto-max-bulk-len: refused before any body is read.
			in := "*1\r\n$1073741824\r\n"
			r.send(in)
			sent += int64(len(in))
			got, reset := badReadUntilClosed(t, r)
			if want := "-ERR Protocol error: invalid bulk length\r\n"; got != want && !(reset && got == "") {
				t.Fatalf("reply %q, want %q", got, want)
			}
			continue
		}
		// Just under the limit, with 1 KB of the 512 MB body sent.
		in := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + strconv.Itoa(512<<20-1) + "\r\n" + strings.Repeat("v", 1024)
		r.send(in)
		sent += int64(len(in))
		pending = append(pending, r)
	}
	connPollFor(t, "the server to read every byte sent", func() bool { return ts.srv.netIn.Load()-netIn >= sent })
	badAlive(t, alive, "during")

	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 10<<20 {
		t.Fatalf("heap grew by %d MB for %d connections declaring huge bulks", grew>>20, conns)
	}
	for _, r := range pending {
		r.conn.Close()
	}
	connPollFor(t, "clients to unregister", func() bool { return ts.srv.ClientCount() == 1 })
	badAlive(t, alive, "after")
}

func TestQueryBufferLimit(t *testing.T) {
	ts := startServer(t, func(_ *node.Config, c *Config) {
		c.Limits = Limits{MaxBulkLen: 1 << 20, MaxArgs: 1024, MaxInlineLen: 1024, MaxQueryBuffer: 4096}
	})
	alive := ts.client(t, 2)

	ok := ts.raw(t)
	small := strings.Repeat("s", 3000)
	ok.expect("$3000\r\n"+small+"\r\n", "ECHO", small)

	r := ts.raw(t)
	r.conn.Write([]byte("*2\r\n$4\r\nECHO\r\n$100000\r\n" + strings.Repeat("x", 8000)))
	got, reset := badReadUntilClosed(t, r)
	if want := "-" + msgQueryBufLimit + "\r\n"; got != want && !(reset && strings.HasPrefix(want, got)) {
		t.Fatalf("got %q, want %q", got, want)
	}
	badAlive(t, alive, "k")
	ok.expect("+PONG\r\n", "PING")
}

func TestMaxClients(t *testing.T) {
	ts := startServer(t, func(_ *node.Config, c *Config) { c.MaxClients = 2 })
	a, b := ts.raw(t), ts.raw(t)
	a.expect("+PONG\r\n", "PING")
	b.expect("+PONG\r\n", "PING")

	third := ts.raw(t)
	third.conn.Write([]byte("PING\r\n"))
	got, reset := badReadUntilClosed(t, third)
	if want := "-ERR max number of clients reached\r\n"; got != want && !(reset && strings.HasPrefix(want, got)) {
		t.Fatalf("third connection got %q, want %q", got, want)
	}
	a.do("INFO", "stats")
	if info := connBulk(t, a.reply()); !strings.Contains(info, "\r\nrejected_connections:1\r\n") {
		t.Errorf("INFO stats = %q, want rejected_connections:1", info)
	}

	// A freed slot can be taken again.
	b.conn.Close()
	connPollFor(t, "the closed client to unregister", func() bool { return ts.srv.ClientCount() == 1 })
	c := ts.raw(t)
	c.expect("+PONG\r\n", "PING")

	// Raising the limit admits more.
	a.expect("+OK\r\n", "CONFIG", "SET", "maxclients", "3")
	d := ts.raw(t)
	d.expect("+PONG\r\n", "PING")
}

func TestIdleTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	ts := startServer(t, func(_ *node.Config, c *Config) { c.IdleTimeout = timeout })
	idle, busy := ts.raw(t), ts.raw(t)
	idle.expect("+PONG\r\n", "PING")
	start := time.Now()
	deadline := start.Add(5 * time.Second)
	for {
		busy.expect("+PONG\r\n", "PING")
		idle.conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, err := idle.rd.ReadByte()
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
			break // closed
		}
		if err == nil {
			t.Fatal("the idle connection received data")
		}
		if time.Now().After(deadline) {
			t.Fatal("the idle connection is still open after 5s")
		}
	}
	if elapsed := time.Since(start); elapsed < timeout {
		t.Errorf("idle connection closed after %v, before the %v timeout", elapsed, timeout)
	}
	busy.expect("+PONG\r\n", "PING") // an active client is not closed

	t.Run("timeout 0 disables it", func(t *testing.T) {
		r := ts.raw(t)
		r.expect("+OK\r\n", "CONFIG", "SET", "timeout", "0")
		time.Sleep(2 * timeout)
		r.expect("+PONG\r\n", "PING")
	})
}
