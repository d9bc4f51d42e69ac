package resp

import (
	"bytes"
	"context"
	"strconv"
	"testing"
)

// loopback feeds the same request bytes to a Reader on every read.
type loopback struct{ req []byte }

func (l *loopback) Read(p []byte) (int, error) { return copy(p, l.req), nil }

// benchClient returns a client of ts that reads req on every Fill and runs
// commands the way a goroutine connection does, without a socket.
func benchClient(tb testing.TB, ts *testServer, req []byte) *Client {
	tb.Helper()
	c := ts.srv.newClient("127.0.0.1:1", "127.0.0.1:2")
	c.execLock = &ts.srv.execLocks[len(ts.srv.execLocks)-1]
	c.reader = NewReader(&loopback{req: req}, ts.srv.limits)
	return c
}

// runOnce reads one batch and runs it as the transports do, dropping the
// replies.
func runOnce(tb testing.TB, c *Client) {
	if err := c.reader.Fill(); err != nil {
		tb.Fatal(err)
	}
	c.noteRead()
	if !c.runBuffered() {
		tb.Fatal("connection closed")
	}
	c.out = c.out[:0]
}

// TestCommandPathAllocs checks what the command path allocates on a
// single node (reading, dispatch, statistics, reply): nothing for a GET
// hit, an INCR, a SADD that finds its member, or an HSET that overwrites
// a field's value in place.
func TestCommandPathAllocs(t *testing.T) {
	ts := startServer(t, nil)
	ctx := context.Background()
	rc := ts.client(t, 2)
	for _, err := range []error{
		rc.Set(ctx, "k", "v", 0).Err(),
		rc.SAdd(ctx, "s", "m").Err(),
		rc.HSet(ctx, "h", "f", "v").Err(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, cmd string
		want      float64
	}{
		{"GET", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", 0},
		{"INCR", "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n", 0},
		{"SADD", "*3\r\n$4\r\nSADD\r\n$1\r\ns\r\n$1\r\nm\r\n", 0},
		{"HSET", "*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$1\r\nv\r\n", 0},
	} {
		c := benchClient(t, ts, []byte(tc.cmd))
		runOnce(t, c) // warm the buffers
		if n := testing.AllocsPerRun(1000, func() { runOnce(t, c) }); n > tc.want {
			t.Errorf("%s allocates %.1f times per command, want %v", tc.name, n, tc.want)
		}
	}
}

// BenchmarkCommandPath measures one command through the RESP front end:
// parse, dispatch, run, reply, on a single node, without a socket.
func BenchmarkCommandPath(b *testing.B) {
	for _, bc := range []struct{ name, cmd string }{
		{"get", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"},
		{"set", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"},
		{"incr", "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"},
		{"sadd", "*3\r\n$4\r\nSADD\r\n$1\r\ns\r\n$1\r\nm\r\n"},
		{"hset", "*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$1\r\nv\r\n"},
	} {
		for _, pipeline := range []int{1, 16} {
			b.Run(bc.name+"/pipeline="+strconv.Itoa(pipeline), func(b *testing.B) {
				ts := startServer(b, nil)
				if err := ts.client(b, 2).Set(context.Background(), "k", "v", 0).Err(); err != nil {
					b.Fatal(err)
				}
				c := benchClient(b, ts, bytes.Repeat([]byte(bc.cmd), pipeline))
				b.ReportAllocs()
				for b.Loop() {
					runOnce(b, c)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pipeline), "ns/cmd")
			})
		}
	}
}
