package resp

import (
	"context"
	"testing"
)

func TestPingAndRESP3(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.raw(t)
	r.expect("+PONG\r\n", "PING")
	r.expect("$2\r\nhi\r\n", "PING", "hi")
	r.expect("$-1\r\n", "GET", "missing")
	r.do("HELLO", "3")
	if got := r.reply(); got[0] != '%' {
		t.Fatalf("HELLO 3 reply is not a map: %q", got)
	}
	r.expect("_\r\n", "GET", "missing")

	c := ts.client(t, 3)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET k = %q, %v", v, err)
	}
}
