package resp

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/redis/rueidis"
)

// TestRedisCLI drives the server with the real redis-cli, as a user would.
func TestRedisCLI(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not installed (apt-get install redis-tools); .ci/run installs it")
	}
	ts := startServer(t, nil)
	host, port, _ := strings.Cut(ts.addr, ":")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "PONG"},
		{[]string{"SET", "user:1", "ada lovelace", "EX", "60"}, "OK"},
		{[]string{"GET", "user:1"}, "ada lovelace"},
		{[]string{"TTL", "user:1"}, "60"},
		{[]string{"INCR", "hits"}, "1"},
		{[]string{"INCR", "user:1"}, "ERR value is not an integer or out of range"},
		{[]string{"MSET", "a", "1", "b", "2"}, "OK"},
		{[]string{"MGET", "a", "b", "nosuch"}, "1\n2\n"},
		{[]string{"DBSIZE"}, "4"},
		{[]string{"CONFIG", "GET", "maxmemory-policy"}, "maxmemory-policy\nallkeys-lfu"},
		{[]string{"NOSUCH", "x"}, "ERR unknown command 'NOSUCH', with args beginning with: 'x' "},
		{[]string{"-3", "PING"}, "PONG"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			args := append([]string{"-h", host, "-p", port}, tt.args...)
			out, err := exec.Command(cli, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("redis-cli: %v\n%s", err, out)
			}
			if got := strings.TrimRight(string(out), "\n"); got != strings.TrimRight(tt.want, "\n") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRueidis runs the rueidis client (RESP3 only) against the server.
func TestRueidis(t *testing.T) {
	ts := startServer(t, nil)
	c, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress:  []string{ts.addr},
		DisableCache: true, // client-side caching needs CLIENT TRACKING
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Do(ctx, c.B().Set().Key("k").Value("v").ExSeconds(10).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Do(ctx, c.B().Get().Key("k").Build()).ToString(); err != nil || v != "v" {
		t.Fatalf("GET k = %q, %v", v, err)
	}
	if _, err := c.Do(ctx, c.B().Get().Key("missing").Build()).ToString(); !rueidis.IsRedisNil(err) {
		t.Fatalf("GET missing: err = %v, want nil reply", err)
	}
	if n, err := c.Do(ctx, c.B().Incrby().Key("n").Increment(5).Build()).AsInt64(); err != nil || n != 5 {
		t.Fatalf("INCRBY = %d, %v", n, err)
	}
	for i, r := range c.DoMulti(ctx, c.B().Ttl().Key("k").Build(), c.B().Exists().Key("k", "n", "x").Build()) {
		n, err := r.AsInt64()
		if err != nil || (i == 0 && n != 10) || (i == 1 && n != 2) {
			t.Errorf("pipelined reply %d = %d, %v", i, n, err)
		}
	}
	m, err := c.Do(ctx, c.B().Hello().Protover(3).Build()).AsMap()
	if err != nil {
		t.Fatal(err)
	}
	proto := m["proto"]
	if v, err := proto.AsInt64(); err != nil || v != 3 {
		t.Fatalf("HELLO 3 proto = %d, %v", v, err)
	}
}
