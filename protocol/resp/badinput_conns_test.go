package resp

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cached/cached/node"
)

// heapInuse returns the process's HeapInuse after a collection: the
// server's buffers, since it runs in the test process.
func heapInuse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// TestBadInputSlowloris: clients that send their commands one byte at a
// time are served correctly and cost no more than their buffers; those
// that stop in the middle of a command are closed by the idle timeout;
// another client is answered throughout.
func TestBadInputSlowloris(t *testing.T) {
	ts := startServer(t, func(_ *node.Config, c *Config) { c.IdleTimeout = 500 * time.Millisecond })
	alive := ts.client(t, 2)
	before := heapInuse()

	const (
		conns    = 50
		interval = 5 * time.Millisecond // well under the idle timeout
	)
	cmd := "*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$5\r\nvalue\r\n"
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	raws := make([]*rawConn, conns)
	for i := range raws {
		raws[i] = ts.raw(t)
	}
	for _, r := range raws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A whole command a byte at a time, then half of another.
			in := cmd + cmd[:len(cmd)/2]
			for j := range len(in) {
				if _, err := r.conn.Write([]byte{in[j]}); err != nil {
					errs <- err
					return
				}
				time.Sleep(interval)
			}
		}()
	}
	// The other client keeps getting answers while the bytes drip in.
	for range 20 {
		badAlive(t, alive, "during")
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("slow client write: %v", err)
	}
	if grew := heapInuse() - before; grew > 32<<20 {
		t.Errorf("heap in use grew by %d MB for %d slow clients", grew>>20, conns)
	}
	for i, r := range raws {
		// The whole command was answered; the half one never is, and the
		// idle timeout closes the connection.
		r.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := r.rd.ReadString('\n')
		if err != nil || line != "+OK\r\n" {
			t.Fatalf("slow client %d: reply %q, %v", i, line, err)
		}
		if _, err := r.rd.ReadByte(); err == nil {
			t.Fatalf("slow client %d: more than one reply", i)
		} else if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("slow client %d: still open 10s after it went quiet", i)
		}
	}
	badAlive(t, alive, "after")
}

// TestBadInputIdleConnections: thousands of connections that never send
// anything cost bounded memory each, do not slow another client down, and
// all go once an idle timeout is set.
func TestBadInputIdleConnections(t *testing.T) {
	const conns = 2000
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur < 2*conns+200 {
		t.Skipf("needs %d file descriptors (both ends run in this process); ulimit -n is %d", 2*conns+200, rl.Cur)
	}
	ts := startServer(t, nil)
	alive := ts.client(t, 2)
	badAlive(t, alive, "before")
	base := ts.srv.ClientCount()
	before := heapInuse()

	idle := make([]net.Conn, 0, conns)
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for range conns {
		c, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatalf("connection %d: %v", len(idle)+1, err)
		}
		idle = append(idle, c)
	}
	connPollFor(t, "every idle connection to register", func() bool { return ts.srv.ClientCount() == base+conns })
	badAlive(t, alive, "with idle connections")
	grew := heapInuse() - before
	t.Logf("%d idle connections: heap in use grew by %d KB (%d bytes each)", conns, grew>>10, grew/conns)
	// Each costs a client and a 16 KB read buffer; allow 4 times that.
	if grew > conns*4*initialBuffer {
		t.Errorf("heap in use grew by %d MB for %d idle connections", grew>>20, conns)
	}

	admin := ts.raw(t)
	admin.expect("+OK\r\n", "CONFIG", "SET", "timeout", "1")
	deadline := time.Now().Add(15 * time.Second)
	for ts.srv.ClientCount() > base+1 { // admin stays: it is not idle for long
		if time.Now().After(deadline) {
			t.Fatalf("%d clients left 15s after CONFIG SET timeout 1", ts.srv.ClientCount())
		}
		admin.expect("+PONG\r\n", "PING")
		time.Sleep(100 * time.Millisecond)
	}
	badAlive(t, alive, "after")
}

// TestBadInputNeverReadingSubscriber: a subscriber that never reads is
// disconnected at the pub/sub output buffer limit, with the heap bounded
// by that limit, while the publisher and another client go on.
func TestBadInputNeverReadingSubscriber(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("measures the event-loop transport")
	}
	const limit = 2 << 20
	ts := startServer(t, func(_ *node.Config, c *Config) { c.PubsubOutputLimit = limit })
	alive := ts.client(t, 2)
	ctx := context.Background()
	sub := ts.raw(t)
	sub.expect("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", "SUBSCRIBE", "ch")
	before := heapInuse()
	pub := ts.client(t, 2)
	payload := strings.Repeat("p", 32<<10)
	var peak int64
	for i := 0; ; i++ {
		n, err := pub.Publish(ctx, "ch", payload).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break // the subscriber is gone
		}
		if i%64 == 0 {
			peak = max(peak, heapInuse()-before)
			badAlive(t, alive, "during")
		}
		if i > 100000 {
			t.Fatal("the subscriber was never disconnected")
		}
	}
	t.Logf("heap in use peaked %d KB above the start before the subscriber was cut off (limit %d KB)", peak>>10, limit>>10)
	if peak > 8*limit {
		t.Errorf("heap in use grew by %d MB for a %d MB output limit", peak>>20, limit>>20)
	}
	got, reset := badReadUntilClosed(t, sub)
	if strings.Contains(got, "-ERR") && !reset {
		t.Errorf("the cut-off subscriber got %q", got[:min(len(got), 100)])
	}
	admin := ts.raw(t)
	admin.do("INFO", "stats")
	if info := connBulk(t, admin.reply()); !strings.Contains(info, "\r\nclient_output_buffer_limit_disconnections:1\r\n") {
		t.Errorf("INFO stats = %q, want client_output_buffer_limit_disconnections:1", info)
	}
	badAlive(t, alive, "after")
}

// TestBadInputBinary: invalid UTF-8 and every byte value are data, in keys,
// values and command names: stored and returned exactly, refused with a
// well-formed error, the connection kept.
func TestBadInputBinary(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.raw(t)
	var all strings.Builder
	for b := range 256 {
		all.WriteByte(byte(b))
	}
	junk := "\xff\xfe\x00\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc\r\n"
	r.expect("+OK\r\n", "SET", junk, all.String())
	r.expect("$256\r\n"+all.String()+"\r\n", "GET", junk)
	r.expect(":1\r\n", "HSET", "h", junk, "\x80")
	r.expect("$1\r\n\x80\r\n", "HGET", "h", junk)
	r.do(junk, "arg")
	if got := r.reply(); !strings.HasPrefix(got, "-ERR unknown command '") {
		t.Errorf("unknown binary command: %q", got)
	}
	r.expect("+PONG\r\n", "PING")
	// Inline: junk without a newline is one long line, refused at the limit;
	// with newlines, words the server does not know.
	r.send("\xff\xfe \xc3\x28\r\n")
	if got := r.reply(); !strings.HasPrefix(got, "-ERR unknown command") {
		t.Errorf("inline junk: %q", got)
	}
	r.expect("+PONG\r\n", "PING")
}
