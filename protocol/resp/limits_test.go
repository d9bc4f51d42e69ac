package resp

import (
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cached/cached/node"
)

// TestOutputBufferLimit: a client that pipelines GETs of a large value and
// never reads is closed once its unsent replies pass the normal class's
// hard limit; another client is unaffected.
func TestOutputBufferLimit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the output limit applies to event-loop clients; a goroutine client's writes block instead")
	}
	ts := startServer(t, func(_ *node.Config, c *Config) { c.OutputLimit = 1 << 20 })
	alive := ts.client(t, 2)
	badAlive(t, alive, "before")
	admin := ts.raw(t)
	value := strings.Repeat("v", 100<<10)
	admin.expect("+OK\r\n", "SET", "big", value)
	// A reader that reads every reply is never near the limit.
	admin.expect("$"+strconv.Itoa(len(value))+"\r\n"+value+"\r\n", "GET", "big")
	base := ts.srv.ClientCount()

	// 400 replies of 100 KB: far more than the 1 MB limit plus what the
	// kernel's socket buffers take.
	hog := ts.raw(t)
	hog.expect("+PONG\r\n", "PING")
	hog.send(strings.Repeat("GET big\r\n", 400))
	connPollFor(t, "the non-reading client to be closed", func() bool { return ts.srv.ClientCount() == base })
	badAlive(t, alive, "after")
	admin.expect("*2\r\n$26\r\nclient-output-buffer-limit\r\n$38\r\nnormal 1048576 0 0 pubsub 33554432 0 0\r\n", "CONFIG", "GET", "client-output-buffer-limit")
	admin.do("INFO", "stats")
	if info := connBulk(t, admin.reply()); !strings.Contains(info, "\r\nclient_output_buffer_limit_disconnections:1\r\n") {
		t.Errorf("INFO stats = %q, want client_output_buffer_limit_disconnections:1", info)
	}
}

// TestOutputBufferLimitOff: with no normal-class limit (Redis's default),
// the same pipeline is served in full once the client reads.
func TestOutputBufferLimitOff(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.raw(t)
	value := strings.Repeat("v", 100<<10)
	r.expect("+OK\r\n", "SET", "big", value)
	r.send(strings.Repeat("GET big\r\n", 100))
	want := "$" + strconv.Itoa(len(value)) + "\r\n" + value + "\r\n"
	for i := range 100 {
		if got := r.reply(); got != want {
			t.Fatalf("reply %d: %d bytes, want %d", i, len(got), len(want))
		}
	}
}

// TestConfiguredProtocolLimits: the max arguments, bulk and inline lengths
// configured are enforced with Redis's errors, at the limit and one past
// it; the offending client is closed and another keeps working.
func TestConfiguredProtocolLimits(t *testing.T) {
	ts := startServer(t, func(_ *node.Config, c *Config) {
		c.Limits = Limits{MaxBulkLen: 100, MaxArgs: 5, MaxInlineLen: 200, MaxQueryBuffer: 4096}
	})
	alive := ts.client(t, 2)
	tests := []struct {
		name, in, want string
		open           bool
	}{
		{"args at the limit", "*5\r\n$4\r\nECHO\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n", "-ERR wrong number of arguments for 'echo' command\r\n", true},
		{"args over the limit", "*6\r\n", "-ERR Protocol error: invalid multibulk length\r\n", false},
		{"inline args over the limit", "ECHO a b c d e\r\n", "-ERR Protocol error: invalid multibulk length\r\n", false},
		{"bulk at the limit", "*2\r\n$4\r\nECHO\r\n$100\r\n" + strings.Repeat("x", 100) + "\r\n", "$100\r\n" + strings.Repeat("x", 100) + "\r\n", true},
		{"bulk over the limit", "*2\r\n$4\r\nECHO\r\n$101\r\n", "-ERR Protocol error: invalid bulk length\r\n", false},
		{"inline at the limit", "ECHO " + strings.Repeat("y", 194) + "\r\n", "$194\r\n" + strings.Repeat("y", 194) + "\r\n", true},
		{"inline over the limit", "ECHO " + strings.Repeat("y", 250), "-ERR Protocol error: too big inline request\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.raw(t)
			r.conn.Write([]byte(tt.in))
			if tt.open {
				if got := r.reply(); got != tt.want {
					t.Fatalf("reply %q, want %q", got, tt.want)
				}
				r.expect("+PONG\r\n", "PING")
			} else {
				got, reset := badReadUntilClosed(t, r)
				if got != tt.want && !(reset && strings.HasPrefix(tt.want, got)) {
					t.Fatalf("got %q before close, want %q", got, tt.want)
				}
			}
			badAlive(t, alive, tt.name)
		})
	}
}
