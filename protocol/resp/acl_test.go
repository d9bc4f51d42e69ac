package resp

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/node"
	"github.com/cached/cached/protocol/acl"
)

const (
	noPermKey     = "NOPERM No permissions to access a key"
	noPermChannel = "NOPERM No permissions to access a channel"
)

// userClient returns a go-redis client of ts authenticated as user.
func (ts *testServer) userClient(t *testing.T, proto int, user, pass string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: ts.addr, Protocol: proto, Username: user, Password: pass, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// wantErr checks that err is the Redis error msg.
func wantErr(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if err == nil || err.Error() != msg {
		t.Errorf("%s: err = %v, want %q", what, err, msg)
	}
}

func TestACLPermissions(t *testing.T) {
	ts := startServer(t, nil)
	ctx := context.Background()
	admin := ts.client(t, 2)
	for _, rules := range [][]any{
		{"alice", "on", ">pw", "~user:*", "%R~pub:*", "&news.*", "+@read", "+set", "+subscribe", "+psubscribe", "+publish", "-@dangerous"},
		{"bob", "on", ">pw", "allkeys", "allchannels", "+@all", "-@dangerous", "-client|kill"},
	} {
		if err := admin.Do(ctx, append([]any{"ACL", "SETUSER"}, rules...)...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, proto := range []int{2, 3} {
		alice := ts.userClient(t, proto, "alice", "pw")
		bob := ts.userClient(t, proto, "bob", "pw")
		tests := []struct {
			name string
			c    *redis.Client
			args []any
			err  string // "" allowed
		}{
			{"read own key", alice, []any{"GET", "user:none"}, "redis: nil"},
			{"write own key", alice, []any{"SET", "user:1", "v"}, ""},
			{"read other key", alice, []any{"GET", "secret"}, noPermKey},
			{"write other key", alice, []any{"SET", "secret", "v"}, noPermKey},
			{"read a read-only key", alice, []any{"GET", "pub:1"}, "redis: nil"},
			{"write a read-only key", alice, []any{"SET", "pub:1", "v"}, noPermKey},
			{"one denied key of several", alice, []any{"MGET", "user:1", "secret"}, noPermKey},
			{"command outside categories", alice, []any{"DEL", "user:1"}, "NOPERM User alice has no permissions to run the 'del' command"},
			{"dangerous", alice, []any{"KEYS", "*"}, "NOPERM User alice has no permissions to run the 'keys' command"},
			{"admin subcommand", bob, []any{"CONFIG", "GET", "maxmemory"}, "NOPERM User bob has no permissions to run the 'config|get' command"},
			{"denied subcommand", bob, []any{"CLIENT", "KILL", "ID", "999"}, "NOPERM User bob has no permissions to run the 'client|kill' command"},
			{"allowed subcommand", bob, []any{"CLIENT", "ID"}, ""},
			{"flushall is dangerous", bob, []any{"FLUSHALL"}, "NOPERM User bob has no permissions to run the 'flushall' command"},
			{"allowed channel", alice, []any{"PUBLISH", "news.eu", "x"}, ""},
			{"denied channel", alice, []any{"PUBLISH", "sports", "x"}, noPermChannel},
			{"whoami needs no admin", bob, []any{"ACL", "WHOAMI"}, ""},
			{"auth always allowed", alice, []any{"AUTH", "alice", "wrong"}, "WRONGPASS invalid username-password pair or user is disabled."},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tt.c.Do(ctx, tt.args...).Err()
				if tt.err == "" {
					if err != nil {
						t.Fatalf("%v: %v", tt.args, err)
					}
					return
				}
				wantErr(t, strings.Join(strings.Fields(strings.Trim(strings.ReplaceAll(fmtArgs(tt.args), ",", " "), "[]")), " "), err, tt.err)
			})
		}
	}
	if got, err := admin.Do(ctx, "ACL", "WHOAMI").Text(); err != nil || got != "default" {
		t.Errorf("ACL WHOAMI = %q, %v", got, err)
	}
}

func fmtArgs(args []any) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteString(a.(string) + " ")
	}
	return b.String()
}

// TestACLChannels checks SUBSCRIBE and PSUBSCRIBE against channel patterns
// (PSUBSCRIBE patterns must match literally, as in Redis).
func TestACLChannels(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.raw(t)
	r.expect("+OK\r\n", "ACL", "SETUSER", "sub", "on", "nopass", "&news.*", "+@pubsub")
	r.expect("+OK\r\n", "AUTH", "sub", "any")
	r.expect("-"+noPermChannel+"\r\n", "SUBSCRIBE", "news.eu", "sports")
	r.expect("-"+noPermChannel+"\r\n", "PSUBSCRIBE", "news.e*")
	r.expect("*3\r\n$10\r\npsubscribe\r\n$6\r\nnews.*\r\n:1\r\n", "PSUBSCRIBE", "news.*")
	r.expect("*3\r\n$9\r\nsubscribe\r\n$7\r\nnews.eu\r\n:2\r\n", "SUBSCRIBE", "news.eu")

	// Taking the channel away closes the subscriber, as Redis does.
	admin := ts.raw(t)
	admin.expect("+OK\r\n", "ACL", "SETUSER", "sub", "resetchannels", "&other")
	r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.rd.ReadByte(); err == nil {
		t.Fatal("subscriber still connected after losing its channels")
	}
}

func TestACLAuth(t *testing.T) {
	ts := startServer(t, func(_ *node.Config, c *Config) { c.RequirePass = "root" })
	ctx := context.Background()
	admin := ts.userClient(t, 2, "", "root")
	if err := admin.Do(ctx, "ACL", "SETUSER", "carol", "on", ">c1", ">c2", "~*", "&*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "ACL", "SETUSER", "dave", "off", ">d", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	const wrongPass = "WRONGPASS invalid username-password pair or user is disabled."
	tests := []struct {
		name       string
		user, pass string
		proto      int
		err        string
	}{
		{"default with requirepass", "", "root", 2, ""},
		{"default by name", "default", "root", 3, ""},
		{"acl user RESP2 (AUTH)", "carol", "c1", 2, ""},
		{"acl user RESP3 (HELLO AUTH)", "carol", "c2", 3, ""},
		{"wrong password", "carol", "nope", 2, wrongPass},
		{"wrong password HELLO", "carol", "nope", 3, wrongPass},
		{"unknown user", "nobody", "x", 2, wrongPass},
		{"disabled user", "dave", "d", 3, wrongPass},
		{"no credentials", "", "", 2, "NOAUTH Authentication required."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ts.userClient(t, tt.proto, tt.user, tt.pass)
			err := c.Ping(ctx).Err()
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, "PING", err, tt.err)
		})
	}

	r := ts.raw(t)
	r.expect("-NOAUTH Authentication required.\r\n", "ACL", "WHOAMI")
	r.expect("-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n", "HELLO", "3")
	r.expect("-"+wrongPass+"\r\n", "HELLO", "2", "AUTH", "carol", "bad")
	r.expect("-"+wrongPass+"\r\n", "AUTH", "carol", "bad")
	r.expect("+OK\r\n", "AUTH", "carol", "c1")
	r.expect("$5\r\ncarol\r\n", "ACL", "WHOAMI")
	r.expect("+RESET\r\n", "RESET")
	r.expect("-NOAUTH Authentication required.\r\n", "ACL", "WHOAMI")

	// Failed authentications are in the ACL log.
	entries, err := admin.Do(ctx, "ACL", "LOG").Slice()
	if err != nil || len(entries) == 0 {
		t.Fatalf("ACL LOG = %v, %v", entries, err)
	}
	if s := strings.Join(strings.Fields(fmtAny(entries)), " "); !strings.Contains(s, "reason auth") || !strings.Contains(s, "username carol") {
		t.Errorf("ACL LOG lacks carol's failed auth: %s", s)
	}
	if err := admin.Do(ctx, "ACL", "LOG", "RESET").Err(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := admin.Do(ctx, "ACL", "LOG").Slice(); len(entries) != 0 {
		t.Errorf("ACL LOG after RESET = %v", entries)
	}
}

// fmtAny flattens a reply for substring checks.
func fmtAny(v any) string {
	switch v := v.(type) {
	case []any:
		var b strings.Builder
		for _, e := range v {
			b.WriteString(fmtAny(e) + " ")
		}
		return b.String()
	case map[any]any:
		var b strings.Builder
		for k, e := range v {
			b.WriteString(fmtAny(k) + " " + fmtAny(e) + " ")
		}
		return b.String()
	case string:
		return v
	}
	return ""
}

func TestACLCommands(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.raw(t)
	hash := "a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3" // sha256("123")
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"ACL", "SETUSER", "eve", "on", ">123", "~k:*", "%R~r:*", "&ch", "+get", "+set", "-set"}, "+OK\r\n"},
		{[]string{"ACL", "GETUSER", "eve"}, "*12\r\n$5\r\nflags\r\n*1\r\n$2\r\non\r\n$9\r\npasswords\r\n*1\r\n$64\r\n" + hash + "\r\n" +
			"$8\r\ncommands\r\n$20\r\n-@all +get +set -set\r\n$4\r\nkeys\r\n$11\r\n~k:* %R~r:*\r\n$8\r\nchannels\r\n$3\r\n&ch\r\n$9\r\nselectors\r\n*0\r\n"},
		{[]string{"ACL", "GETUSER", "nobody"}, "$-1\r\n"},
		{[]string{"ACL", "USERS"}, "*2\r\n$7\r\ndefault\r\n$3\r\neve\r\n"},
		{[]string{"ACL", "LIST"}, "*2\r\n$34\r\nuser default on nopass ~* &* +@all\r\n$" + itoa(len("user eve on #"+hash+" ~k:* %R~r:* resetchannels &ch -@all +get +set -set")) +
			"\r\nuser eve on #" + hash + " ~k:* %R~r:* resetchannels &ch -@all +get +set -set\r\n"},
		{[]string{"ACL", "SETUSER", "eve", "<123", "#" + hash, "!" + hash, "nopass"}, "+OK\r\n"},
		{[]string{"ACL", "SETUSER", "eve", "+nosuch"}, "-ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL\r\n"},
		{[]string{"ACL", "SETUSER", "eve", "+@nosuch"}, "-ERR Error in ACL SETUSER modifier '+@nosuch': Unknown command or category name in ACL\r\n"},
		{[]string{"ACL", "SETUSER", "eve", "<nope"}, "-ERR Error in ACL SETUSER modifier '<nope': The password you are trying to remove from the user does not exist\r\n"},
		{[]string{"ACL", "SETUSER", "eve", "#abc"}, "-ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters\r\n"},
		{[]string{"ACL", "SETUSER", "eve", "allkeys", "~x"}, "-ERR Error in ACL SETUSER modifier '~x': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns\r\n"},
		{[]string{"ACL", "SETUSER", "eve", "bogus"}, "-ERR Error in ACL SETUSER modifier 'bogus': Syntax error\r\n"},
		{[]string{"ACL", "SETUSER", "bad name"}, "-ERR Usernames can't contain spaces or null characters\r\n"},
		// A failed SETUSER changes nothing: eve is still nopass, with her rules.
		{[]string{"ACL", "DRYRUN", "eve", "GET", "k:1"}, "+OK\r\n"},
		{[]string{"ACL", "DRYRUN", "eve", "SET", "k:1", "v"}, "$52\r\nUser eve has no permissions to run the 'set' command\r\n"},
		{[]string{"ACL", "DRYRUN", "eve", "GET", "z"}, "$49\r\nUser eve has no permissions to access the 'z' key\r\n"},
		{[]string{"ACL", "DRYRUN", "nobody", "GET", "z"}, "-ERR User 'nobody' not found\r\n"},
		{[]string{"ACL", "DRYRUN", "eve", "NOSUCH"}, "-ERR Command 'NOSUCH' not found\r\n"},
		{[]string{"ACL", "DELUSER", "default"}, "-ERR The 'default' user cannot be removed\r\n"},
		{[]string{"ACL", "DELUSER", "eve", "nobody"}, ":1\r\n"},
		{[]string{"ACL", "CAT", "nosuch"}, "-ERR Unknown category 'nosuch'\r\n"},
		{[]string{"ACL", "LOAD"}, "-ERR " + acl.ErrFileNotSet.Error() + "\r\n"},
		{[]string{"ACL", "GENPASS", "0"}, "-ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096\r\n"},
		{[]string{"ACL", "NOSUCH"}, "-ERR unknown subcommand 'NOSUCH'. Try ACL HELP.\r\n"},
	}
	for _, s := range steps {
		r.expect(s.want, s.args...)
	}
	for bits, n := range map[string]int{"": 64, "5": 2, "128": 32} {
		args := []string{"ACL", "GENPASS"}
		if bits != "" {
			args = append(args, bits)
		}
		r.do(args...)
		if got := r.reply(); !strings.HasPrefix(got, "$"+itoa(n)+"\r\n") {
			t.Errorf("ACL GENPASS %s = %q, want %d hex digits", bits, got, n)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestACLCategories checks the categories derived from the command table.
func TestACLCategories(t *testing.T) {
	tests := []struct {
		category string
		in, out  []string
	}{
		{"read", []string{"get", "mget", "hget", "zrange", "exists"}, []string{"set", "del", "flushall"}},
		{"write", []string{"set", "del", "lpush", "flushall"}, []string{"get"}},
		{"dangerous", []string{"flushall", "keys", "config|set", "acl|setuser", "client|kill"}, []string{"get", "acl|whoami"}},
		{"admin", []string{"config|set", "acl|setuser", "save"}, []string{"get", "flushall"}},
		{"pubsub", []string{"publish", "subscribe", "psubscribe"}, []string{"get"}},
		{"keyspace", []string{"del", "expire", "flushall"}, []string{"get"}},
		{"string", []string{"get", "set", "incr"}, []string{"hget"}},
		{"blocking", []string{"blpop"}, []string{"lpop"}},
		{"connection", []string{"auth", "ping", "hello"}, []string{"get"}},
		{"transaction", []string{"multi", "exec"}, []string{"get"}},
		{"fast", []string{"get"}, []string{"keys"}},
		{"slow", []string{"keys"}, []string{"get"}},
	}
	for _, tt := range tests {
		t.Run(tt.category, func(t *testing.T) {
			names, ok := aclCatalog.CategoryCommands(tt.category)
			if !ok {
				t.Fatal("no such category")
			}
			have := map[string]bool{}
			for _, n := range names {
				have[n] = true
			}
			for _, n := range tt.in {
				if !have[n] {
					t.Errorf("%s not in @%s", n, tt.category)
				}
			}
			for _, n := range tt.out {
				if have[n] {
					t.Errorf("%s in @%s", n, tt.category)
				}
			}
		})
	}
}

// TestACLLiveConnections checks that connections follow their user's
// changes and are closed when it is deleted, as in Redis.
func TestACLLiveConnections(t *testing.T) {
	ts := startServer(t, nil)
	admin := ts.raw(t)
	admin.expect("+OK\r\n", "ACL", "SETUSER", "frank", "on", ">f", "~*", "+get", "+@transaction")
	r := ts.raw(t)
	r.expect("+OK\r\n", "AUTH", "frank", "f")
	r.expect("$-1\r\n", "GET", "k")
	r.expect("-NOPERM User frank has no permissions to run the 'set' command\r\n", "SET", "k", "v")
	admin.expect("+OK\r\n", "ACL", "SETUSER", "frank", "+set")
	r.expect("+OK\r\n", "SET", "k", "v")
	admin.expect("+OK\r\n", "ACL", "SETUSER", "frank", "-get")
	r.expect("-NOPERM User frank has no permissions to run the 'get' command\r\n", "GET", "k")

	// Denials inside MULTI abort the transaction and are logged as such.
	r.expect("+OK\r\n", "MULTI")
	r.expect("-NOPERM User frank has no permissions to run the 'get' command\r\n", "GET", "k")
	r.expect("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC")
	admin.do("ACL", "LOG", "1")
	if got := admin.reply(); !strings.Contains(got, "multi") || !strings.Contains(got, "frank") {
		t.Errorf("ACL LOG 1 = %q", got)
	}

	admin.expect(":1\r\n", "ACL", "DELUSER", "frank")
	r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.rd.ReadByte(); err == nil {
		t.Fatal("connection of a deleted user still open")
	}
	admin.expect("+PONG\r\n", "PING")
}

// TestACLFile checks ACL SAVE and ACL LOAD: a round trip through the file,
// an invalid file rejected whole, and a server started from the file.
func TestACLFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "users.acl")
	ts := startServer(t, func(_ *node.Config, c *Config) { c.ACLFile = file })
	r := ts.raw(t)
	r.expect("+OK\r\n", "ACL", "SETUSER", "gina", "on", ">g", "~g:*", "%W~w:*", "&chat", "+@read", "-@dangerous", "+set")
	r.expect("+OK\r\n", "ACL", "SETUSER", "hank", "off", "nopass", "+@all")
	r.do("ACL", "LIST")
	before := r.reply()
	r.expect("+OK\r\n", "ACL", "SAVE")
	saved, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r.expect(":2\r\n", "ACL", "DELUSER", "gina", "hank")
	r.expect("+OK\r\n", "ACL", "LOAD")
	r.do("ACL", "LIST")
	if after := r.reply(); after != before {
		t.Errorf("after SAVE and LOAD:\n%s\nwant\n%s\nfile:\n%s", after, before, saved)
	}

	// A bad line anywhere rejects the whole file.
	bad := string(saved) + "user ivan on +nosuch\n"
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	r.expect(":1\r\n", "ACL", "DELUSER", "hank")
	r.do("ACL", "LOAD")
	if got := r.reply(); !strings.Contains(got, "users.acl:4: Unknown command or category name in ACL") {
		t.Errorf("ACL LOAD of a bad file = %q", got)
	}
	r.expect("*2\r\n$7\r\ndefault\r\n$4\r\ngina\r\n", "ACL", "USERS")

	// Another server started with the saved file has the same users.
	if err := os.WriteFile(file, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	users := acl.NewUsers(ACLCatalog())
	if err := users.Load(file); err != nil {
		t.Fatal(err)
	}
	ts2 := startServer(t, func(_ *node.Config, c *Config) { c.Users = users })
	r2 := ts2.raw(t)
	r2.do("ACL", "LIST")
	if got := r2.reply(); got != before {
		t.Errorf("server started from the file: %q, want %q", got, before)
	}
	r2.expect("+OK\r\n", "AUTH", "gina", "g")
	r2.expect("+OK\r\n", "SET", "w:1", "v")
	r2.expect("-"+noPermKey+"\r\n", "GET", "w:1")
}

// TestACLRedisCLI drives ACL with redis-cli, as an operator would.
func TestACLRedisCLI(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not installed (apt-get install redis-tools); .ci/run installs it")
	}
	ts := startServer(t, func(_ *node.Config, c *Config) { c.RequirePass = "adminpw" })
	host, port, _ := strings.Cut(ts.addr, ":")
	run := func(args ...string) string {
		cmd := exec.Command(cli, append([]string{"-h", host, "-p", port, "--no-auth-warning"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return strings.TrimRight(string(out), "\n")
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"GET", "k"}, "NOAUTH Authentication required."},
		{[]string{"-a", "wrong", "GET", "k"}, "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\nNOAUTH Authentication required."},
		{[]string{"-a", "adminpw", "ACL", "SETUSER", "ro", "on", ">ropw", "~*", "+@read"}, "OK"},
		{[]string{"-a", "adminpw", "SET", "k", "v"}, "OK"},
		{[]string{"--user", "ro", "--pass", "ropw", "GET", "k"}, "v"},
		{[]string{"--user", "ro", "--pass", "ropw", "SET", "k", "w"}, "NOPERM User ro has no permissions to run the 'set' command"},
		{[]string{"--user", "ro", "--pass", "ropw", "ACL", "WHOAMI"}, "NOPERM User ro has no permissions to run the 'acl|whoami' command"},
		{[]string{"-a", "adminpw", "ACL", "USERS"}, "default\nro"},
	}
	for _, tt := range tests {
		if got := run(tt.args...); got != tt.want {
			t.Errorf("redis-cli %v = %q, want %q", tt.args, got, tt.want)
		}
	}
}

// TestProtectedMode checks that in protected mode a client from outside
// the loopback interface does not run as a default user without a
// password, while loopback clients do.
func TestProtectedMode(t *testing.T) {
	ts := startServer(t, func(_ *node.Config, c *Config) { c.ProtectedMode = true })
	if err := ts.srv.users.SetUser("app", []string{"on", ">pw", "~*", "+@all"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr      string
		protected bool
		authed    bool
	}{
		{"127.0.0.1:5000", true, true},
		{"[::1]:5000", true, true},
		{"192.0.2.7:5000", true, false},
		{"[2001:db8::1]:5000", true, false},
		{"192.0.2.7:5000", false, true},
	}
	for _, tt := range tests {
		ts.srv.protected = tt.protected
		if c := ts.srv.newClient(tt.addr, "127.0.0.1:6379"); c.authed != tt.authed {
			t.Errorf("protected %v, client %s: authed %v, want %v", tt.protected, tt.addr, c.authed, tt.authed)
		}
	}
	ts.srv.protected = true
	c := ts.srv.newClient("192.0.2.7:5000", "127.0.0.1:6379")
	c.execLock = &ts.srv.execLocks[len(ts.srv.execLocks)-1]
	for _, step := range []struct {
		args []string
		want string
	}{
		{[]string{"GET", "k"}, "-NOAUTH Authentication required.\r\n"},
		{[]string{"AUTH", "app", "pw"}, "+OK\r\n"},
		{[]string{"RESET"}, "+RESET\r\n"},
		{[]string{"GET", "k"}, "-NOAUTH Authentication required.\r\n"},
	} {
		args := make([][]byte, len(step.args))
		for i, a := range step.args {
			args[i] = []byte(a)
		}
		c.out = c.out[:0]
		c.execute(args)
		if string(c.out) != step.want {
			t.Errorf("%v: %q, want %q", step.args, c.out, step.want)
		}
	}
}
