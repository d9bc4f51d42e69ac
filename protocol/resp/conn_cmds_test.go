package resp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/node"
)

// connHelloWant is the HELLO reply for proto and client id.
func connHelloWant(proto int, id int64) string {
	var b strings.Builder
	if proto == 3 {
		b.WriteString("%7\r\n")
	} else {
		b.WriteString("*14\r\n")
	}
	bulk := func(s string) { fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(s), s) }
	bulk("server")
	bulk("redis")
	bulk("version")
	bulk(redisVersion)
	bulk("proto")
	fmt.Fprintf(&b, ":%d\r\n", proto)
	bulk("id")
	fmt.Fprintf(&b, ":%d\r\n", id)
	bulk("mode")
	bulk("standalone")
	bulk("role")
	bulk("master")
	bulk("modules")
	b.WriteString("*0\r\n")
	return b.String()
}

// connID returns the connection's CLIENT ID.
func connID(t testing.TB, r *rawConn) int64 {
	t.Helper()
	r.do("CLIENT", "ID")
	got := r.reply()
	id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(got, ":"), "\r\n"), 10, 64)
	if err != nil {
		t.Fatalf("CLIENT ID reply %q", got)
	}
	return id
}

// connExpectClosed reads until the server closes r, failing if it stays
// open for 5 seconds; it returns what was read.
func connExpectClosed(t testing.TB, r *rawConn) string {
	t.Helper()
	r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(r.rd)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open (read %q)", b)
	}
	return string(b)
}

// connPollFor calls check every 10ms until it reports true or 5 seconds
// pass.
func connPollFor(t testing.TB, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const (
	msgNoPassword = "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
	msgHelloAuth  = "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n"
)

// TestConnectionCommands runs one command per case on a fresh RESP2
// connection of a server without a password.
func TestConnectionCommands(t *testing.T) {
	ts := startServer(t, nil)
	long := strings.Repeat("x", 200)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "ping", args: []string{"PING"}, want: "+PONG\r\n"},
		{name: "ping lower case", args: []string{"ping"}, want: "+PONG\r\n"},
		{name: "ping message", args: []string{"PING", "hello world"}, want: "$11\r\nhello world\r\n"},
		{name: "ping empty message", args: []string{"PING", ""}, want: "$0\r\n\r\n"},
		{name: "ping two args", args: []string{"PING", "a", "b"}, want: "-ERR wrong number of arguments for 'ping' command\r\n"},
		{name: "echo", args: []string{"ECHO", "a\r\nb"}, want: "$4\r\na\r\nb\r\n"},
		{name: "echo no arg", args: []string{"ECHO"}, want: "-ERR wrong number of arguments for 'echo' command\r\n"},
		{name: "echo two args", args: []string{"ECHO", "a", "b"}, want: "-ERR wrong number of arguments for 'echo' command\r\n"},
		{name: "hello 4", args: []string{"HELLO", "4"}, want: "-NOPROTO unsupported protocol version\r\n"},
		{name: "hello 1", args: []string{"HELLO", "1"}, want: "-NOPROTO unsupported protocol version\r\n"},
		{name: "hello not a number", args: []string{"HELLO", "x"}, want: "-ERR Protocol version is not an integer or out of range\r\n"},
		{name: "hello bad option", args: []string{"HELLO", "3", "FOO"}, want: "-ERR Syntax error in HELLO option 'FOO'\r\n"},
		{name: "hello auth missing password", args: []string{"HELLO", "3", "AUTH", "default"}, want: "-ERR Syntax error in HELLO option 'AUTH'\r\n"},
		{name: "hello setname missing name", args: []string{"HELLO", "3", "SETNAME"}, want: "-ERR Syntax error in HELLO option 'SETNAME'\r\n"},
		{name: "hello bad name", args: []string{"HELLO", "3", "SETNAME", "a b"}, want: "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{name: "auth without password configured", args: []string{"AUTH", "pass"}, want: msgNoPassword},
		{name: "auth default user without password", args: []string{"AUTH", "default", "anything"}, want: "+OK\r\n"},
		{name: "auth other user", args: []string{"AUTH", "bob", "anything"}, want: "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{name: "auth no args", args: []string{"AUTH"}, want: "-ERR wrong number of arguments for 'auth' command\r\n"},
		{name: "auth three args", args: []string{"AUTH", "a", "b", "c"}, want: "-ERR syntax error\r\n"},
		{name: "select 0", args: []string{"SELECT", "0"}, want: "+OK\r\n"},
		{name: "select 1", args: []string{"SELECT", "1"}, want: "-ERR DB index is out of range\r\n"},
		{name: "select -1", args: []string{"SELECT", "-1"}, want: "-ERR DB index is out of range\r\n"},
		{name: "select not a number", args: []string{"SELECT", "x"}, want: "-ERR value is not an integer or out of range\r\n"},
		{name: "select no arg", args: []string{"SELECT"}, want: "-ERR wrong number of arguments for 'select' command\r\n"},
		{name: "reset extra arg", args: []string{"RESET", "x"}, want: "-ERR wrong number of arguments for 'reset' command\r\n"},
		{name: "client no subcommand", args: []string{"CLIENT"}, want: "-ERR wrong number of arguments for 'client' command\r\n"},
		{name: "client unknown subcommand", args: []string{"CLIENT", "foo"}, want: "-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n"},
		{name: "client subcommand arity", args: []string{"CLIENT", "ID", "x"}, want: "-ERR wrong number of arguments for 'client|id' command\r\n"},
		{name: "client getname unset", args: []string{"CLIENT", "GETNAME"}, want: "$-1\r\n"},
		{name: "client setname empty", args: []string{"CLIENT", "SETNAME", ""}, want: "+OK\r\n"},
		{name: "client setname space", args: []string{"CLIENT", "SETNAME", "a b"}, want: "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{name: "client setname newline", args: []string{"CLIENT", "SETNAME", "a\nb"}, want: "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{name: "client setname control", args: []string{"CLIENT", "SETNAME", "a\x01"}, want: "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{name: "client setname non-ASCII", args: []string{"CLIENT", "SETNAME", "caf\xc3\xa9"}, want: "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{name: "client setinfo lib-name", args: []string{"CLIENT", "SETINFO", "LIB-NAME", "mylib"}, want: "+OK\r\n"},
		{name: "client setinfo bad option", args: []string{"CLIENT", "SETINFO", "foo", "x"}, want: "-ERR Unrecognized option 'foo'\r\n"},
		{name: "client setinfo bad option and value", args: []string{"CLIENT", "SETINFO", "foo", "a b"}, want: "-ERR Unrecognized option 'foo'\r\n"},
		{name: "client setinfo bad value", args: []string{"CLIENT", "SETINFO", "lib-ver", "1 2"}, want: "-ERR lib-ver cannot contain spaces, newlines or special characters.\r\n"},
		{name: "client list bad id", args: []string{"CLIENT", "LIST", "ID", "x"}, want: "-ERR Invalid client ID\r\n"},
		{name: "client list unknown type", args: []string{"CLIENT", "LIST", "TYPE", "foo"}, want: "-ERR Unknown client type 'foo'\r\n"},
		{name: "client list pubsub", args: []string{"CLIENT", "LIST", "TYPE", "pubsub"}, want: "$0\r\n\r\n"},
		{name: "client list bad filter", args: []string{"CLIENT", "LIST", "FOO"}, want: "-ERR syntax error\r\n"},
		{name: "client kill no such addr", args: []string{"CLIENT", "KILL", "1.2.3.4:5"}, want: "-ERR No such client\r\n"},
		{name: "client kill id 0", args: []string{"CLIENT", "KILL", "ID", "0"}, want: "-ERR client-id should be greater than 0\r\n"},
		{name: "client kill id not a number", args: []string{"CLIENT", "KILL", "ID", "x"}, want: "-ERR client-id should be greater than 0\r\n"},
		{name: "client kill no such id", args: []string{"CLIENT", "KILL", "ID", "999999"}, want: ":0\r\n"},
		{name: "client kill bad filter", args: []string{"CLIENT", "KILL", "FOO", "1"}, want: "-ERR syntax error\r\n"},
		{name: "client kill odd filter", args: []string{"CLIENT", "KILL", "ID", "1", "SKIPME"}, want: "-ERR syntax error\r\n"},
		{name: "client kill bad skipme", args: []string{"CLIENT", "KILL", "SKIPME", "maybe"}, want: "-ERR syntax error\r\n"},
		{name: "client kill unknown type", args: []string{"CLIENT", "KILL", "TYPE", "foo"}, want: "-ERR Unknown client type 'foo'\r\n"},
		{name: "client no-evict", args: []string{"CLIENT", "NO-EVICT", "on"}, want: "+OK\r\n"},
		{name: "client no-touch unknown", args: []string{"CLIENT", "NO-TOUCH", "on"}, want: "-ERR unknown subcommand 'NO-TOUCH'. Try CLIENT HELP.\r\n"},
		{name: "unknown command", args: []string{"foo", "a", "b"}, want: "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"},
		{name: "unknown command no args", args: []string{"foo"}, want: "-ERR unknown command 'foo', with args beginning with: \r\n"},
		{name: "unknown command keeps case", args: []string{"FoO", "A"}, want: "-ERR unknown command 'FoO', with args beginning with: 'A' \r\n"},
		{name: "unknown command newline in arg", args: []string{"foo", "a\r\nb"}, want: "-ERR unknown command 'foo', with args beginning with: 'a  b' \r\n"},
		{name: "unknown command long name", args: []string{long}, want: "-ERR unknown command '" + long[:128] + "', with args beginning with: \r\n"},
		{name: "unknown command long args", args: []string{"foo", long, "y"}, want: "-ERR unknown command 'foo', with args beginning with: '" + long[:128] + "' \r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.raw(t)
			r.expect(tt.want, tt.args...)
			r.expect("+PONG\r\n", "PING") // the connection survived
		})
	}
}

func TestClientHelp(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.raw(t)
	r.do("CLIENT", "HELP")
	got := r.reply()
	if !strings.HasPrefix(got, "*") || !strings.Contains(got, "+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n") ||
		!strings.HasSuffix(got, "+HELP\r\n") {
		t.Fatalf("CLIENT HELP = %q", got)
	}
}

func TestHello(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct {
		name      string
		args      []string
		wantProto int // protocol of the reply and of the connection after
		wantName  string
	}{
		{name: "no args", args: []string{"HELLO"}, wantProto: 2},
		{name: "2", args: []string{"HELLO", "2"}, wantProto: 2},
		{name: "3", args: []string{"HELLO", "3"}, wantProto: 3},
		{name: "3 auth setname", args: []string{"HELLO", "3", "AUTH", "default", "pass", "SETNAME", "x"}, wantProto: 3, wantName: "x"},
		{name: "lower case options", args: []string{"hello", "3", "setname", "y", "auth", "default", "p"}, wantProto: 3, wantName: "y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.raw(t)
			id := connID(t, r)
			r.expect(connHelloWant(tt.wantProto, id), tt.args...)
			null := "$-1\r\n"
			if tt.wantProto == 3 {
				null = "_\r\n"
			}
			r.expect(null, "GET", "missing")
			if tt.wantName != "" {
				r.expect("$1\r\n"+tt.wantName+"\r\n", "CLIENT", "GETNAME")
			} else {
				r.expect(null, "CLIENT", "GETNAME")
			}
		})
	}

	t.Run("failed hello keeps protocol and name", func(t *testing.T) {
		r := ts.raw(t)
		r.expect("-ERR Client names cannot contain spaces, newlines or special characters.\r\n", "HELLO", "3", "SETNAME", "a b")
		r.expect("-NOPROTO unsupported protocol version\r\n", "HELLO", "4")
		r.expect("$-1\r\n", "GET", "missing")
		r.expect("$-1\r\n", "CLIENT", "GETNAME")
	})

	t.Run("go-redis parses it", func(t *testing.T) {
		c := ts.client(t, 3)
		ctx := context.Background()
		v, err := c.Do(ctx, "HELLO", "3").Result()
		if err != nil {
			t.Fatal(err)
		}
		m, ok := v.(map[any]any)
		if !ok {
			t.Fatalf("HELLO 3 = %#v, want a map", v)
		}
		for _, k := range []string{"server", "version", "proto", "id", "mode", "role", "modules"} {
			if _, ok := m[k]; !ok {
				t.Errorf("HELLO map lacks %q: %v", k, m)
			}
		}
		if m["proto"] != int64(3) || m["server"] != "redis" || m["version"] != redisVersion || m["mode"] != "standalone" || m["role"] != "master" {
			t.Errorf("HELLO map = %v", m)
		}
	})
}

func TestAuth(t *testing.T) {
	const pass = "s3cret"
	ts := startServer(t, func(_ *node.Config, c *Config) { c.RequirePass = pass })
	const (
		noAuth    = "-NOAUTH Authentication required.\r\n"
		wrongPass = "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
	)
	type step struct {
		args []string
		want string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "commands need auth", steps: []step{
			{[]string{"GET", "k"}, noAuth},
			{[]string{"PING"}, noAuth},
			{[]string{"CLIENT", "SETNAME", "x"}, noAuth},
			{[]string{"CONFIG", "GET", "requirepass"}, noAuth},
		}},
		{name: "wrong passwords", steps: []step{
			{[]string{"AUTH", "bad"}, wrongPass},
			{[]string{"AUTH", "default", "bad"}, wrongPass},
			{[]string{"AUTH", "bob", pass}, wrongPass},
			{[]string{"AUTH", ""}, wrongPass},
			{[]string{"GET", "k"}, noAuth},
		}},
		{name: "auth pass", steps: []step{
			{[]string{"AUTH", pass}, "+OK\r\n"},
			{[]string{"GET", "k"}, "$-1\r\n"},
		}},
		{name: "auth default pass", steps: []step{
			{[]string{"AUTH", "default", pass}, "+OK\r\n"},
			{[]string{"GET", "k"}, "$-1\r\n"},
		}},
		{name: "wrong then right", steps: []step{
			{[]string{"AUTH", "bad"}, wrongPass},
			{[]string{"AUTH", pass}, "+OK\r\n"},
			{[]string{"PING"}, "+PONG\r\n"},
		}},
		{name: "hello needs auth", steps: []step{
			{[]string{"HELLO", "3"}, msgHelloAuth},
			{[]string{"HELLO"}, msgHelloAuth},
			{[]string{"GET", "k"}, noAuth},
		}},
		{name: "hello wrong password", steps: []step{
			{[]string{"HELLO", "3", "AUTH", "default", "bad"}, wrongPass},
			{[]string{"GET", "k"}, noAuth},
		}},
		{name: "hello syntax error does not authenticate", steps: []step{
			{[]string{"HELLO", "3", "AUTH", "default", pass, "FOO"}, "-ERR Syntax error in HELLO option 'FOO'\r\n"},
			{[]string{"GET", "k"}, noAuth},
		}},
		{name: "hello bad name does not authenticate", steps: []step{
			{[]string{"HELLO", "3", "AUTH", "default", pass, "SETNAME", "a b"}, "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
			{[]string{"GET", "k"}, noAuth},
		}},
		{name: "hello auth setname", steps: []step{
			{[]string{"HELLO", "3", "AUTH", "default", pass, "SETNAME", "x"}, ""}, // checked below
			{[]string{"GET", "k"}, "_\r\n"},
			{[]string{"CLIENT", "GETNAME"}, "$1\r\nx\r\n"},
		}},
		{name: "no-auth commands", steps: []step{
			{[]string{"foo"}, "-ERR unknown command 'foo', with args beginning with: \r\n"},
			{[]string{"AUTH"}, "-ERR wrong number of arguments for 'auth' command\r\n"},
			{[]string{"QUIT"}, "+OK\r\n"},
		}},
		{name: "arity checked before auth", steps: []step{
			{[]string{"GET"}, "-ERR wrong number of arguments for 'get' command\r\n"},
		}},
		{name: "unknown subcommand checked before auth", steps: []step{
			{[]string{"CLIENT", "foo"}, "-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.raw(t)
			for _, s := range tt.steps {
				if s.want == "" {
					r.do(s.args...)
					if got := r.reply(); !strings.HasPrefix(got, "%7\r\n") {
						t.Fatalf("%q: got %q, want the HELLO map", s.args, got)
					}
					continue
				}
				r.expect(s.want, s.args...)
			}
		})
	}

	t.Run("go-redis", func(t *testing.T) {
		ctx := context.Background()
		c := redis.NewClient(&redis.Options{Addr: ts.addr, Password: pass})
		defer c.Close()
		if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatalf("SET with password: %v", err)
		}
		bad := redis.NewClient(&redis.Options{Addr: ts.addr, MaxRetries: -1})
		defer bad.Close()
		if err := bad.Get(ctx, "k").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
			t.Fatalf("GET without password: %v, want NOAUTH", err)
		}
	})

	t.Run("config set requirepass", func(t *testing.T) {
		r := ts.raw(t)
		r.expect("+OK\r\n", "AUTH", pass)
		r.expect("+OK\r\n", "CONFIG", "SET", "requirepass", "other")
		r.expect("$-1\r\n", "GET", "k2") // connected clients stay authenticated
		n := ts.raw(t)
		n.expect(noAuth, "GET", "k2")
		n.expect(wrongPass, "AUTH", pass)
		n.expect("+OK\r\n", "AUTH", "other")
		r.expect("+OK\r\n", "CONFIG", "SET", "requirepass", pass)
	})
}

func TestQuit(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"quit", "*1\r\n$4\r\nQUIT\r\n", "+OK\r\n"},
		{"quit with args", "*2\r\n$4\r\nQUIT\r\n$1\r\nx\r\n", "+OK\r\n"},
		{"inline", "QUIT\r\n", "+OK\r\n"},
		{"pipelined commands after quit are dropped", "PING\r\nQUIT\r\nPING\r\nSET k v\r\n", "+PONG\r\n+OK\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.raw(t)
			r.send(tt.in)
			if got := connExpectClosed(t, r); got != tt.want {
				t.Fatalf("got %q before close, want %q", got, tt.want)
			}
		})
	}
	connPollFor(t, "clients to unregister", func() bool { return ts.srv.ClientCount() == 0 })
	if n := ts.node.Len(); n != 0 {
		t.Fatalf("%d keys: a command after QUIT ran", n)
	}
}

func TestReset(t *testing.T) {
	tests := []struct {
		name string
		pass string
	}{
		{"without password", ""},
		{"with password", "pw"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, func(_ *node.Config, c *Config) { c.RequirePass = tt.pass })
			r := ts.raw(t)
			if tt.pass != "" {
				r.expect("+OK\r\n", "AUTH", tt.pass)
			}
			r.do("HELLO", "3")
			r.reply()
			r.expect("+OK\r\n", "CLIENT", "SETNAME", "named")
			r.expect("_\r\n", "GET", "missing")
			r.expect("+RESET\r\n", "RESET")
			if tt.pass != "" {
				r.expect("-NOAUTH Authentication required.\r\n", "GET", "missing")
				r.expect("+OK\r\n", "AUTH", tt.pass)
			}
			r.expect("$-1\r\n", "GET", "missing") // back to RESP2
			r.expect("$-1\r\n", "CLIENT", "GETNAME")
			r.do("CLIENT", "INFO")
			if info := r.reply(); !strings.Contains(info, " name= ") || !strings.Contains(info, " resp=2 ") {
				t.Errorf("CLIENT INFO after RESET = %q", info)
			}
		})
	}
}

func TestClientIDAndName(t *testing.T) {
	ts := startServer(t, nil)
	a, b := ts.raw(t), ts.raw(t)
	ida, idb := connID(t, a), connID(t, b)
	if ida <= 0 || idb <= ida {
		t.Fatalf("ids %d, %d: want positive and increasing", ida, idb)
	}
	if again := connID(t, a); again != ida {
		t.Fatalf("CLIENT ID changed from %d to %d", ida, again)
	}
	a.expect("+OK\r\n", "CLIENT", "SETNAME", "worker-1")
	a.expect("$8\r\nworker-1\r\n", "CLIENT", "GETNAME")
	b.expect("$-1\r\n", "CLIENT", "GETNAME") // names are per connection
	a.expect("+OK\r\n", "CLIENT", "SETNAME", "")
	a.expect("$-1\r\n", "CLIENT", "GETNAME")

	c := ts.client(t, 2)
	ctx := context.Background()
	id, err := c.ClientID(ctx).Result()
	if err != nil || id <= idb {
		t.Fatalf("go-redis CLIENT ID = %d, %v", id, err)
	}
}

// connInfoField returns the value of key in a CLIENT LIST / INFO line.
func connInfoField(line, key string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// connBulk returns the payload of a bulk or verbatim reply.
func connBulk(t testing.TB, reply string) string {
	t.Helper()
	head, body, ok := strings.Cut(reply, "\r\n")
	if !ok || (head[0] != '$' && head[0] != '=') {
		t.Fatalf("reply %q is not a bulk string", reply)
	}
	body = strings.TrimSuffix(body, "\r\n")
	if n := atoi(head[1:]); n != len(body) {
		t.Fatalf("reply %q: length %d, body %d bytes", reply, n, len(body))
	}
	if head[0] == '=' {
		body = strings.TrimPrefix(body, "txt:")
	}
	return body
}

func TestClientInfoAndList(t *testing.T) {
	ts := startServer(t, nil)
	a, b := ts.raw(t), ts.raw(t)
	ida, idb := connID(t, a), connID(t, b)
	a.expect("+OK\r\n", "CLIENT", "SETNAME", "alpha")
	a.expect("+OK\r\n", "CLIENT", "SETINFO", "lib-name", "mylib")
	a.expect("+OK\r\n", "CLIENT", "SETINFO", "LIB-VER", "1.2.3")

	a.do("CLIENT", "INFO")
	info := connBulk(t, a.reply())
	if !strings.HasSuffix(info, "\n") || strings.Count(info, "\n") != 1 {
		t.Errorf("CLIENT INFO = %q, want one line", info)
	}
	want := map[string]string{
		"id": strconv.FormatInt(ida, 10), "addr": a.conn.LocalAddr().String(), "laddr": ts.addr,
		"name": "alpha", "db": "0", "cmd": "client|info", "user": "default", "resp": "2",
		"lib-name": "mylib", "lib-ver": "1.2.3",
	}
	for k, v := range want {
		if got := connInfoField(info, k); got != v {
			t.Errorf("CLIENT INFO %s=%q, want %q (%q)", k, got, v, info)
		}
	}

	t.Run("list", func(t *testing.T) {
		b.do("CLIENT", "LIST")
		lines := strings.Split(strings.TrimSuffix(connBulk(t, b.reply()), "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("CLIENT LIST has %d lines, want 2: %q", len(lines), lines)
		}
		if connInfoField(lines[0], "id") != strconv.FormatInt(ida, 10) || connInfoField(lines[1], "id") != strconv.FormatInt(idb, 10) {
			t.Errorf("CLIENT LIST not ordered by id: %q", lines)
		}
		if connInfoField(lines[0], "name") != "alpha" || connInfoField(lines[1], "cmd") != "client|list" {
			t.Errorf("CLIENT LIST = %q", lines)
		}
	})

	filters := []struct {
		name    string
		args    []string
		wantIDs []int64
	}{
		{"id", []string{"ID", strconv.FormatInt(idb, 10)}, []int64{idb}},
		{"two ids", []string{"ID", strconv.FormatInt(idb, 10), strconv.FormatInt(ida, 10)}, []int64{ida, idb}},
		{"unknown id", []string{"ID", "999999"}, nil},
		{"type normal", []string{"TYPE", "normal"}, []int64{ida, idb}},
		{"type replica", []string{"TYPE", "replica"}, nil},
	}
	for _, f := range filters {
		t.Run("list "+f.name, func(t *testing.T) {
			b.do(append([]string{"CLIENT", "LIST"}, f.args...)...)
			body := connBulk(t, b.reply())
			var got []int64
			for line := range strings.Lines(body) {
				id, _ := strconv.ParseInt(connInfoField(line, "id"), 10, 64)
				got = append(got, id)
			}
			if fmt.Sprint(got) != fmt.Sprint(f.wantIDs) {
				t.Fatalf("ids %v, want %v (%q)", got, f.wantIDs, body)
			}
		})
	}

	t.Run("resp3 verbatim", func(t *testing.T) {
		r := ts.raw(t)
		r.do("HELLO", "3")
		r.reply()
		r.do("CLIENT", "INFO")
		got := r.reply()
		if !strings.HasPrefix(got, "=") || !strings.Contains(got, "\r\ntxt:id=") {
			t.Fatalf("RESP3 CLIENT INFO = %q, want a verbatim string", got)
		}
		if connInfoField(connBulk(t, got), "resp") != "3" {
			t.Errorf("CLIENT INFO after HELLO 3 = %q", got)
		}
	})

	t.Run("go-redis", func(t *testing.T) {
		c := ts.client(t, 2)
		ctx := context.Background()
		list, err := c.ClientList(ctx).Result()
		if err != nil || strings.Count(list, "\n") < 3 {
			t.Fatalf("CLIENT LIST = %q, %v", list, err)
		}
		ci, err := c.ClientInfo(ctx).Result()
		if err != nil {
			t.Fatalf("CLIENT INFO: %v", err)
		}
		if ci.ID <= idb || ci.Addr == "" {
			t.Errorf("go-redis CLIENT INFO = %+v", ci)
		}
	})
}

// TestClientListRace runs HELLO and RESET on one connection while another
// lists clients.
func TestClientListRace(t *testing.T) {
	ts := startServer(t, nil)
	a, b := ts.raw(t), ts.raw(t)
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 100 {
			a.send("*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*1\r\n$5\r\nRESET\r\n")
		}
	})
	wg.Go(func() {
		for range 100 {
			b.send("*2\r\n$6\r\nCLIENT\r\n$4\r\nLIST\r\n")
		}
	})
	wg.Wait()
	for range 200 {
		a.reply()
	}
	for range 100 {
		b.reply()
	}
}

func TestClientKill(t *testing.T) {
	ts := startServer(t, nil)
	// Each case has a killer connection a and a victim b; args may name
	// them as {idA}, {idB}, {addrA}, {addrB} and {laddr}.
	tests := []struct {
		name    string
		args    []string
		want    string
		aClosed bool
		bClosed bool
	}{
		{name: "old form", args: []string{"{addrB}"}, want: "+OK\r\n", bClosed: true},
		{name: "old form self", args: []string{"{addrA}"}, want: "+OK\r\n", aClosed: true},
		{name: "id", args: []string{"ID", "{idB}"}, want: ":1\r\n", bClosed: true},
		{name: "addr", args: []string{"ADDR", "{addrB}"}, want: ":1\r\n", bClosed: true},
		{name: "id and addr", args: []string{"ID", "{idB}", "ADDR", "{addrB}"}, want: ":1\r\n", bClosed: true},
		{name: "id and other addr", args: []string{"ID", "{idB}", "ADDR", "{addrA}"}, want: ":0\r\n"},
		{name: "laddr skips me", args: []string{"LADDR", "{laddr}"}, want: ":1\r\n", bClosed: true},
		{name: "user default", args: []string{"USER", "default", "ID", "{idB}"}, want: ":1\r\n", bClosed: true},
		{name: "other user", args: []string{"USER", "bob", "ID", "{idB}"}, want: ":0\r\n"},
		{name: "type normal", args: []string{"TYPE", "normal", "ID", "{idB}"}, want: ":1\r\n", bClosed: true},
		{name: "self skipped by default", args: []string{"ID", "{idA}"}, want: ":0\r\n"},
		{name: "skipme yes", args: []string{"ID", "{idA}", "SKIPME", "yes"}, want: ":0\r\n"},
		{name: "skipme no", args: []string{"ID", "{idA}", "SKIPME", "no"}, want: ":1\r\n", aClosed: true},
		{name: "everyone", args: []string{"LADDR", "{laddr}", "SKIPME", "no"}, want: ":2\r\n", aClosed: true, bClosed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ts.srv.ClientCount()
			a, b := ts.raw(t), ts.raw(t)
			repl := strings.NewReplacer(
				"{idA}", strconv.FormatInt(connID(t, a), 10), "{idB}", strconv.FormatInt(connID(t, b), 10),
				"{addrA}", a.conn.LocalAddr().String(), "{addrB}", b.conn.LocalAddr().String(), "{laddr}", ts.addr)
			args := []string{"CLIENT", "KILL"}
			for _, arg := range tt.args {
				args = append(args, repl.Replace(arg))
			}
			a.expect(tt.want, args...)
			for _, c := range []struct {
				name   string
				r      *rawConn
				closed bool
			}{{"killer", a, tt.aClosed}, {"victim", b, tt.bClosed}} {
				if c.closed {
					c.r.conn.Write([]byte("PING\r\n")) // may fail: the server closed it
					if got := connExpectClosed(t, c.r); got != "" {
						t.Errorf("%s: killed connection replied %q", c.name, got)
					}
				} else {
					c.r.expect("+PONG\r\n", "PING")
				}
			}
			closed := 0
			for _, c := range []bool{tt.aClosed, tt.bClosed} {
				if c {
					closed++
				}
			}
			connPollFor(t, "killed clients to unregister", func() bool { return ts.srv.ClientCount() == before+2-closed })
			a.conn.Close()
			b.conn.Close()
			connPollFor(t, "clients to unregister", func() bool { return ts.srv.ClientCount() == before })
		})
	}
}
