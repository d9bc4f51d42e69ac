package resp

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/node"
)

// fakeClock is a settable clock for TTL tests; it starts at a fixed time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.UnixMilli(1_700_000_000_000)} }

// Now returns the clock's time.
func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Advance moves the clock forward by d.
func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// testServer is a node and its RESP server on 127.0.0.1, port 0.
type testServer struct {
	node  *node.Node
	srv   *Server
	clock *fakeClock
	addr  string
}

// startServer starts a server for a test; edit adjusts the configurations
// before start (nil for defaults). Everything stops when the test ends.
func startServer(t testing.TB, edit func(*node.Config, *Config)) *testServer {
	t.Helper()
	clock := newFakeClock()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ncfg := node.DefaultConfig()
	ncfg.Logger = logger
	ncfg.Store.Now = clock.Now
	rcfg := DefaultConfig()
	rcfg.Addr = "127.0.0.1:0"
	rcfg.Logger = logger
	if edit != nil {
		edit(&ncfg, &rcfg)
	}
	n, err := node.New(ncfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(rcfg, n)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
		n.Close()
	})
	return &testServer{node: n, srv: srv, clock: clock, addr: srv.Addr().String()}
}

// client returns a go-redis client of ts (RESP2 unless proto says 3),
// closed when the test ends.
func (ts *testServer) client(t testing.TB, proto int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: ts.addr, Protocol: proto, DisableIdentity: false})
	t.Cleanup(func() { c.Close() })
	return c
}

// rawConn is a plain TCP connection for byte-exact protocol tests.
type rawConn struct {
	t    testing.TB
	conn net.Conn
	rd   *bufio.Reader
}

func (ts *testServer) raw(t testing.TB) *rawConn {
	t.Helper()
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawConn{t: t, conn: conn, rd: bufio.NewReader(conn)}
}

// send writes s as is.
func (r *rawConn) send(s string) {
	r.t.Helper()
	if _, err := r.conn.Write([]byte(s)); err != nil {
		r.t.Fatal(err)
	}
}

// do sends a command as a RESP array of bulk strings.
func (r *rawConn) do(args ...string) {
	r.t.Helper()
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	r.send(b.String())
}

// reply reads one complete reply and returns its raw bytes.
func (r *rawConn) reply() string {
	r.t.Helper()
	r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	if err := readReply(r.rd, &b); err != nil {
		r.t.Fatalf("read reply: %v (so far %q)", err, b.String())
	}
	return b.String()
}

// expect sends args and checks the raw reply.
func (r *rawConn) expect(want string, args ...string) {
	r.t.Helper()
	r.do(args...)
	if got := r.reply(); got != want {
		r.t.Errorf("%q: got %q, want %q", args, got, want)
	}
}

// readReply copies one RESP2/RESP3 reply from rd to b.
func readReply(rd *bufio.Reader, b *strings.Builder) error {
	line, err := rd.ReadString('\n')
	if err != nil {
		return err
	}
	b.WriteString(line)
	body := strings.TrimSuffix(line[1:], "\r\n")
	switch line[0] {
	case '$', '=', '!':
		n := atoi(body)
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return err
		}
		b.Write(buf)
	case '*', '~', '>':
		for range max(atoi(body), 0) {
			if err := readReply(rd, b); err != nil {
				return err
			}
		}
	case '%', '|':
		for range 2 * atoi(body) {
			if err := readReply(rd, b); err != nil {
				return err
			}
		}
	}
	return nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
