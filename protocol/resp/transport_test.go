package resp

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cached/cached/node"
)

// transports runs fn against a server on each transport: epoll event loops
// (on Linux) and a goroutine per connection.
func transports(t *testing.T, fn func(t *testing.T, ts *testServer)) {
	transportsWith(t, nil, fn)
}

// transportsWith is transports with the server's configuration edited
// (edit may be nil).
func transportsWith(t *testing.T, edit func(*Config), fn func(t *testing.T, ts *testServer)) {
	for _, tr := range []struct {
		name  string
		loops bool
	}{{"event-loops", true}, {"goroutines", false}} {
		t.Run(tr.name, func(t *testing.T) {
			ts := startServer(t, func(_ *node.Config, c *Config) {
				c.EventLoops = tr.loops
				if edit != nil {
					edit(c)
				}
			})
			fn(t, ts)
		})
	}
}

func TestTransportBasics(t *testing.T) {
	transports(t, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		c := ts.client(t, 2)
		pipe := c.Pipeline()
		for i := range 1000 {
			pipe.Set(ctx, fmt.Sprint("k", i), i, 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := c.DBSize(ctx).Result(); err != nil || n != 1000 {
			t.Fatalf("DBSIZE = %d, %v", n, err)
		}
		r := ts.raw(t)
		r.expect("+OK\r\n", "QUIT")
		r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := r.rd.ReadByte(); err != io.EOF {
			t.Fatalf("after QUIT: read err = %v, want EOF", err)
		}
	})
}

// TestTransportSlowReader sends many commands with large replies without
// reading, so the server must buffer and wait for the socket to drain; then
// every reply must arrive whole and in order.
func TestTransportSlowReader(t *testing.T) {
	transports(t, func(t *testing.T, ts *testServer) {
		big := strings.Repeat("v", 1<<20)
		ts.raw(t).expect("+OK\r\n", "SET", "big", big)
		conn, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		const n = 20
		if _, err := conn.Write([]byte(strings.Repeat("*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n", n))); err != nil {
			t.Fatal(err)
		}
		// Meanwhile another client is served.
		ts.raw(t).expect("+PONG\r\n", "PING")
		time.Sleep(50 * time.Millisecond) // let the server fill the socket buffers
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		rd := bufio.NewReader(conn)
		want := fmt.Sprintf("$%d\r\n%s\r\n", len(big), big)
		for i := range n {
			var b strings.Builder
			if err := readReply(rd, &b); err != nil {
				t.Fatalf("reply %d: %v", i, err)
			}
			if b.String() != want {
				t.Fatalf("reply %d: %d bytes, want %d", i, b.Len(), len(want))
			}
		}
	})
}

func TestTransportClientKill(t *testing.T) {
	transports(t, func(t *testing.T, ts *testServer) {
		victim := ts.raw(t)
		victim.do("CLIENT", "ID")
		id := strings.TrimSpace(strings.TrimPrefix(victim.reply(), ":"))
		killer := ts.raw(t)
		killer.expect(":1\r\n", "CLIENT", "KILL", "ID", id)
		victim.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		victim.do("PING")
		if _, err := victim.rd.ReadByte(); err == nil {
			t.Fatal("killed client still served")
		}
		deadline := time.Now().Add(5 * time.Second)
		for ts.srv.ClientCount() != 1 { // the killer remains
			if time.Now().After(deadline) {
				t.Fatalf("%d clients still registered", ts.srv.ClientCount())
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}
