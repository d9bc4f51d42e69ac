package resp

import (
	"bufio"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Command → reply tables for the list commands, run through go-redis in
// RESP2 and RESP3 by kvRun (string_cmds_test.go); the shapes where the two
// protocols differ are checked byte for byte in TestListRepliesRaw.
//
// With REDIS_ORACLE_ADDR set (say to a scratch redis-server started with
// --save "" --appendonly no), the tables run against that server instead,
// one case after another with FLUSHALL between them: a way to check the
// expectations against Redis itself. The steps use no fake clock for that
// reason, and cases named "... (7.2)" (where Redis 7.0 differs) are left
// out.

// listRun runs cases on fresh servers, or against the oracle.
func listRun(t *testing.T, cases []kvCase) {
	t.Helper()
	addr := os.Getenv("REDIS_ORACLE_ADDR")
	if addr == "" {
		kvRun(t, cases)
		return
	}
	for _, tc := range cases {
		if strings.HasSuffix(tc.name, "(7.2)") {
			continue // Redis 7.0 differs; the oracle may be one
		}
		for _, proto := range []int{2, 3} {
			t.Run(tc.name+"/resp"+strconv.Itoa(proto), func(t *testing.T) {
				c := redis.NewClient(&redis.Options{Addr: addr, Protocol: proto})
				defer c.Close()
				if err := c.FlushAll(t.Context()).Err(); err != nil {
					t.Fatal(err)
				}
				kvSteps(t, nil, c, tc.steps)
			})
		}
	}
}

// listRaw returns a raw connection speaking proto, to a fresh server or
// to the oracle.
func listRaw(t *testing.T, proto int) *rawConn {
	t.Helper()
	var r *rawConn
	if addr := os.Getenv("REDIS_ORACLE_ADDR"); addr != "" {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		r = &rawConn{t: t, conn: conn, rd: bufio.NewReader(conn)}
		r.expect("+OK\r\n", "FLUSHALL")
	} else {
		r = startServer(t, nil).raw(t)
	}
	if proto == 3 {
		r.do("HELLO", "3")
		r.reply()
	}
	return r
}

var listWrongType = kvErr("WRONGTYPE Operation against a key holding the wrong kind of value")

func listArity(name string) kvErr {
	return kvErr("ERR wrong number of arguments for '" + name + "' command")
}

// listABC is RPUSH l a b c.
var listABC = kvDo(3, "RPUSH", "l", "a", "b", "c")

// listSetStr makes s a string key.
var listSetStr = kvDo("OK", "SET", "s", "v")

func TestListPush(t *testing.T) {
	listRun(t, []kvCase{
		{"lpush order", []kvStep{kvDo(3, "LPUSH", "l", "a", "b", "c"), kvDo([]any{"c", "b", "a"}, "LRANGE", "l", "0", "-1")}, ""},
		{"rpush order", []kvStep{listABC, kvDo([]any{"a", "b", "c"}, "LRANGE", "l", "0", "-1")}, ""},
		{"push to existing", []kvStep{listABC, kvDo(4, "LPUSH", "l", "z"), kvDo(5, "RPUSH", "l", "y"), kvDo([]any{"z", "a", "b", "c", "y"}, "LRANGE", "l", "0", "-1")}, ""},
		{"pushx missing", []kvStep{kvDo(0, "LPUSHX", "l", "a"), kvDo(0, "RPUSHX", "l", "a", "b"), kvDo(0, "EXISTS", "l")}, ""},
		{"pushx existing", []kvStep{listABC, kvDo(5, "LPUSHX", "l", "x", "y"), kvDo(6, "RPUSHX", "l", "z"), kvDo([]any{"y", "x", "a", "b", "c", "z"}, "LRANGE", "l", "0", "-1")}, ""},
		{"wrong type", []kvStep{listSetStr,
			kvDo(listWrongType, "LPUSH", "s", "a"), kvDo(listWrongType, "RPUSH", "s", "a"),
			kvDo(listWrongType, "LPUSHX", "s", "a"), kvDo(listWrongType, "RPUSHX", "s", "a"),
			kvDo("v", "GET", "s"),
		}, ""},
		{"arity", []kvStep{
			kvDo(listArity("lpush"), "LPUSH", "l"), kvDo(listArity("rpush"), "RPUSH", "l"),
			kvDo(listArity("lpushx"), "LPUSHX", "l"), kvDo(listArity("rpushx"), "RPUSHX", "l"),
		}, ""},
		{"type", []kvStep{listABC, kvDo("list", "TYPE", "l")}, ""},
		{"ttl survives push", []kvStep{listABC, kvDo(1, "EXPIRE", "l", "100"), kvDo(4, "LPUSH", "l", "x"), kvDo(5, "RPUSHX", "l", "y"), kvDo(100, "TTL", "l")}, ""},
		{"binary elements", []kvStep{
			kvDo(3, "RPUSH", "l", "\x00\xff", "a\r\nb", ""),
			kvDo([]any{"\x00\xff", "a\r\nb", ""}, "LRANGE", "l", "0", "-1"),
			kvDo(1, "LPOS", "l", "a\r\nb"), kvDo("", "LINDEX", "l", "-1"),
			kvDo("\x00\xff", "LPOP", "l"), kvDo("", "RPOP", "l"),
		}, ""},
		{"many elements", []kvStep{
			kvDo(2, "RPUSH", "big", strings.Repeat("x", 100_000), "y"),
			kvDo(2, "LLEN", "big"), kvDo("y", "LINDEX", "big", "1"),
		}, ""},
	})
}

func TestListPop(t *testing.T) {
	listRun(t, []kvCase{
		{"lpop rpop", []kvStep{listABC, kvDo("a", "LPOP", "l"), kvDo("c", "RPOP", "l"), kvDo(1, "LLEN", "l")}, ""},
		{"missing", []kvStep{kvDo(kvNil{}, "LPOP", "l"), kvDo(kvNil{}, "RPOP", "l")}, ""},
		{"missing with count", []kvStep{kvDo(kvNil{}, "LPOP", "l", "2"), kvDo(kvNil{}, "RPOP", "l", "0")}, ""},
		{"count", []kvStep{listABC, kvDo([]any{"a", "b"}, "LPOP", "l", "2"), kvDo([]any{"c"}, "RPOP", "l", "1")}, ""},
		{"rpop count order", []kvStep{listABC, kvDo([]any{"c", "b"}, "RPOP", "l", "2")}, ""},
		{"count past length", []kvStep{listABC, kvDo([]any{"c", "b", "a"}, "RPOP", "l", "10"), kvDo(0, "EXISTS", "l")}, ""},
		{"count 0", []kvStep{listABC, kvDo([]any{}, "LPOP", "l", "0"), kvDo([]any{}, "RPOP", "l", "0"), kvDo(3, "LLEN", "l")}, ""},
		{"count negative", []kvStep{listABC, kvDo(kvErr("ERR value is out of range, must be positive"), "LPOP", "l", "-1")}, ""},
		{"count negative on missing", []kvStep{kvDo(kvErr("ERR value is out of range, must be positive"), "RPOP", "l", "-1")}, ""},
		{"count not integer", []kvStep{listABC, kvDo(kvErr("ERR value is out of range, must be positive"), "LPOP", "l", "x")}, ""},
		{"arity", []kvStep{listABC, kvDo(listArity("lpop"), "LPOP", "l", "1", "2"), kvDo(listArity("rpop"), "RPOP"), kvDo(3, "LLEN", "l")}, ""},
		{"wrong type", []kvStep{listSetStr, kvDo(listWrongType, "LPOP", "s"), kvDo(listWrongType, "RPOP", "s", "1"), kvDo(kvErr("ERR value is out of range, must be positive"), "RPOP", "s", "-1")}, ""},
		{"empty list deletes key", []kvStep{kvDo(1, "RPUSH", "l", "a"), kvDo(1, "EXPIRE", "l", "100"), kvDo("a", "LPOP", "l"), kvDo(0, "EXISTS", "l"), kvDo("none", "TYPE", "l"), kvDo(-2, "TTL", "l"), kvDo(1, "RPUSH", "l", "b"), kvDo(-1, "TTL", "l")}, ""},
	})
}

func TestListRead(t *testing.T) {
	notInt := kvErr("ERR value is not an integer or out of range")
	listRun(t, []kvCase{
		{"llen", []kvStep{listABC, kvDo(3, "LLEN", "l"), kvDo(0, "LLEN", "zz"), listSetStr, kvDo(listWrongType, "LLEN", "s")}, ""},
		{"lrange", []kvStep{listABC,
			kvDo([]any{"a", "b", "c"}, "LRANGE", "l", "0", "-1"),
			kvDo([]any{"b", "c"}, "LRANGE", "l", "-2", "100"),
			kvDo([]any{"a"}, "LRANGE", "l", "-100", "0"),
			kvDo([]any{}, "LRANGE", "l", "2", "1"),
			kvDo([]any{}, "LRANGE", "l", "3", "5"),
			kvDo([]any{}, "LRANGE", "l", "0", "-4"),
			kvDo([]any{"a", "b", "c"}, "LRANGE", "l", "-9223372036854775808", "9223372036854775807"),
			kvDo([]any{}, "LRANGE", "zz", "0", "-1"),
		}, ""},
		{"lrange errors", []kvStep{listABC, listSetStr,
			kvDo(notInt, "LRANGE", "l", "x", "1"), kvDo(notInt, "LRANGE", "l", "0", "1.5"),
			kvDo(notInt, "LRANGE", "s", "x", "1"), // arguments before type
			kvDo(listWrongType, "LRANGE", "s", "0", "1"),
			kvDo(notInt, "LRANGE", "l", "0", "9223372036854775808"),
			kvDo(listArity("lrange"), "LRANGE", "l", "0"),
		}, ""},
		{"lindex", []kvStep{listABC,
			kvDo("a", "LINDEX", "l", "0"), kvDo("c", "LINDEX", "l", "-1"), kvDo("a", "LINDEX", "l", "-3"),
			kvDo(kvNil{}, "LINDEX", "l", "3"), kvDo(kvNil{}, "LINDEX", "l", "-4"),
			kvDo(kvNil{}, "LINDEX", "zz", "0"),
			kvDo(kvNil{}, "LINDEX", "zz", "x"), // the key first
			kvDo(notInt, "LINDEX", "l", "x"),
			listSetStr, kvDo(listWrongType, "LINDEX", "s", "x"),
			kvDo(listArity("lindex"), "LINDEX", "l"),
		}, ""},
		{"lpos", []kvStep{
			kvDo(8, "RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"),
			kvDo(2, "LPOS", "l", "c"),
			kvDo(kvNil{}, "LPOS", "l", "z"),
			kvDo(6, "LPOS", "l", "c", "RANK", "2"),
			kvDo(7, "LPOS", "l", "c", "RANK", "-1"),
			kvDo(kvNil{}, "LPOS", "l", "c", "RANK", "4"),
			kvDo([]any{2, 6}, "LPOS", "l", "c", "COUNT", "2"),
			kvDo([]any{2, 6, 7}, "LPOS", "l", "c", "COUNT", "0"),
			kvDo([]any{7, 6}, "LPOS", "l", "c", "RANK", "-1", "COUNT", "2"),
			kvDo([]any{6, 7}, "lpos", "l", "c", "rank", "2", "count", "0"),
			kvDo([]any{}, "LPOS", "l", "z", "COUNT", "0"),
			kvDo([]any{2}, "LPOS", "l", "c", "COUNT", "0", "MAXLEN", "6"),
			kvDo(kvNil{}, "LPOS", "l", "c", "MAXLEN", "2"),
			kvDo(7, "LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1"),
			kvDo(6, "LPOS", "l", "c", "RANK", "1", "RANK", "2"), // the last wins
			kvDo(kvNil{}, "LPOS", "zz", "c"),
			kvDo([]any{}, "LPOS", "zz", "c", "COUNT", "1"),
		}, ""},
		{"lpos rank range (7.2)", []kvStep{listABC,
			kvDo(kvErr("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"), "LPOS", "l", "a", "RANK", "-9223372036854775808"),
			kvDo(kvNil{}, "LPOS", "l", "c", "RANK", "-9223372036854775807"),
		}, ""},
		{"lpos errors", []kvStep{listABC, listSetStr,
			kvDo(kvErr("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"), "LPOS", "l", "a", "RANK", "0"),
			kvDo(kvErr("ERR COUNT can't be negative"), "LPOS", "l", "a", "COUNT", "-1"),
			kvDo(kvErr("ERR COUNT can't be negative"), "LPOS", "l", "a", "COUNT", "x"),
			kvDo(kvErr("ERR MAXLEN can't be negative"), "LPOS", "l", "a", "MAXLEN", "1.5"),
			kvDo(kvErr("ERR MAXLEN can't be negative"), "LPOS", "l", "a", "MAXLEN", "-1"),
			kvDo(notInt, "LPOS", "l", "a", "RANK", "x"),
			kvDo(kvErr("ERR syntax error"), "LPOS", "l", "a", "RANK"),
			kvDo(kvErr("ERR syntax error"), "LPOS", "l", "a", "FOO", "1"),
			kvDo(kvErr("ERR COUNT can't be negative"), "LPOS", "s", "a", "COUNT", "-1"), // options before type
			kvDo(listWrongType, "LPOS", "s", "a"),
			kvDo(listArity("lpos"), "LPOS", "l"),
		}, ""},
	})
}

func TestListWrite(t *testing.T) {
	notInt := kvErr("ERR value is not an integer or out of range")
	syntax := kvErr("ERR syntax error")
	all := func(want ...any) kvStep {
		if want == nil {
			want = []any{}
		}
		return kvDo(want, "LRANGE", "l", "0", "-1")
	}
	listRun(t, []kvCase{
		{"lset", []kvStep{listABC,
			kvDo("OK", "LSET", "l", "0", "x"), kvDo("OK", "LSET", "l", "-1", "z"), all("x", "b", "z"),
			kvDo(kvErr("ERR index out of range"), "LSET", "l", "3", "y"),
			kvDo(kvErr("ERR index out of range"), "LSET", "l", "-4", "y"),
			kvDo(notInt, "LSET", "l", "x", "y"),
			kvDo(kvErr("ERR no such key"), "LSET", "zz", "0", "y"),
			kvDo(kvErr("ERR no such key"), "LSET", "zz", "x", "y"),
			listSetStr, kvDo(listWrongType, "LSET", "s", "0", "y"),
			kvDo(listArity("lset"), "LSET", "l", "0"),
		}, ""},
		{"linsert", []kvStep{listABC,
			kvDo(4, "LINSERT", "l", "BEFORE", "b", "x"), kvDo(5, "linsert", "l", "after", "c", "y"),
			kvDo(6, "LINSERT", "l", "before", "a", "w"),
			all("w", "a", "x", "b", "c", "y"),
			kvDo(-1, "LINSERT", "l", "BEFORE", "zz", "q"),
			kvDo(0, "LINSERT", "zz", "BEFORE", "a", "q"), kvDo(0, "EXISTS", "zz"),
			kvDo(syntax, "LINSERT", "l", "MIDDLE", "a", "q"),
			listSetStr, kvDo(listWrongType, "LINSERT", "s", "BEFORE", "a", "q"),
			kvDo(syntax, "LINSERT", "s", "MIDDLE", "a", "q"),
			kvDo(listArity("linsert"), "LINSERT", "l", "BEFORE", "a"),
		}, ""},
		{"lrem", []kvStep{
			kvDo(7, "RPUSH", "l", "a", "b", "a", "c", "a", "b", "a"),
			kvDo(2, "LREM", "l", "2", "a"), all("b", "c", "a", "b", "a"),
			kvDo(1, "LREM", "l", "-1", "b"), all("b", "c", "a", "a"),
			kvDo(0, "LREM", "l", "0", "zz"),
			kvDo(2, "LREM", "l", "0", "a"), all("b", "c"),
			kvDo(1, "LREM", "l", "-5", "c"), all("b"),
			kvDo(1, "LREM", "l", "0", "b"), kvDo(0, "EXISTS", "l"),
			kvDo(0, "LREM", "l", "0", "b"),
			kvDo(notInt, "LREM", "l", "x", "b"),
			listSetStr, kvDo(listWrongType, "LREM", "s", "0", "a"),
			kvDo(notInt, "LREM", "s", "x", "a"),
		}, ""},
		{"ltrim", []kvStep{
			kvDo(5, "RPUSH", "l", "a", "b", "c", "d", "e"),
			kvDo("OK", "LTRIM", "l", "1", "-2"), all("b", "c", "d"),
			kvDo("OK", "LTRIM", "l", "-100", "100"), all("b", "c", "d"),
			kvDo("OK", "LTRIM", "l", "1", "1"), all("c"),
			kvDo("OK", "LTRIM", "l", "1", "0"), kvDo(0, "EXISTS", "l"),
			kvDo("OK", "LTRIM", "zz", "0", "1"),
			kvDo(notInt, "LTRIM", "zz", "a", "1"),
			listSetStr, kvDo(listWrongType, "LTRIM", "s", "0", "1"),
			kvDo(listArity("ltrim"), "LTRIM", "l", "0"),
		}, ""},
	})
}

func TestListMove(t *testing.T) {
	list := func(key string, want ...any) kvStep {
		if want == nil {
			want = []any{}
		}
		return kvDo(want, "LRANGE", key, "0", "-1")
	}
	listRun(t, []kvCase{
		{"rpoplpush", []kvStep{listABC,
			kvDo("c", "RPOPLPUSH", "l", "d"), kvDo("b", "RPOPLPUSH", "l", "d"),
			list("l", "a"), list("d", "b", "c"),
			kvDo("a", "RPOPLPUSH", "l", "d"), kvDo(0, "EXISTS", "l"), list("d", "a", "b", "c"),
			kvDo(kvNil{}, "RPOPLPUSH", "l", "d"),
		}, ""},
		{"lmove directions", []kvStep{listABC, kvDo(2, "RPUSH", "d", "x", "y"),
			kvDo("a", "LMOVE", "l", "d", "LEFT", "RIGHT"), list("d", "x", "y", "a"),
			kvDo("c", "lmove", "l", "d", "right", "left"), list("d", "c", "x", "y", "a"),
			kvDo("c", "LMOVE", "d", "l", "LEFT", "LEFT"), list("l", "c", "b"),
			kvDo("a", "LMOVE", "d", "l", "RIGHT", "RIGHT"), list("l", "c", "b", "a"),
		}, ""},
		{"same key rotates", []kvStep{listABC,
			kvDo("c", "RPOPLPUSH", "l", "l"), list("l", "c", "a", "b"),
			kvDo("c", "LMOVE", "l", "l", "LEFT", "RIGHT"), list("l", "a", "b", "c"),
			kvDo("a", "LMOVE", "l", "l", "LEFT", "LEFT"), list("l", "a", "b", "c"),
		}, ""},
		{"single element onto itself", []kvStep{kvDo(1, "RPUSH", "l", "x"), kvDo("x", "RPOPLPUSH", "l", "l"), list("l", "x")}, ""},
		{"wrong type destination", []kvStep{listABC, listSetStr,
			kvDo(listWrongType, "LMOVE", "l", "s", "LEFT", "LEFT"), kvDo(listWrongType, "RPOPLPUSH", "l", "s"),
			list("l", "a", "b", "c"), kvDo("v", "GET", "s"),
		}, ""},
		{"wrong type source", []kvStep{listSetStr, kvDo(listWrongType, "LMOVE", "s", "d", "LEFT", "LEFT"), kvDo(0, "EXISTS", "d")}, ""},
		{"missing source", []kvStep{listSetStr, kvDo(kvNil{}, "LMOVE", "zz", "s", "LEFT", "LEFT"), kvDo(kvNil{}, "RPOPLPUSH", "zz", "d"), kvDo(0, "EXISTS", "d")}, ""},
		{"ttl of destination kept, source deleted", []kvStep{kvDo(1, "RPUSH", "l", "a"), kvDo(1, "RPUSH", "d", "b"), kvDo(1, "EXPIRE", "d", "100"),
			kvDo("a", "LMOVE", "l", "d", "LEFT", "LEFT"), kvDo(100, "TTL", "d"), kvDo(0, "EXISTS", "l"),
		}, ""},
		{"errors", []kvStep{listABC,
			kvDo(kvErr("ERR syntax error"), "LMOVE", "l", "d", "UP", "LEFT"),
			kvDo(kvErr("ERR syntax error"), "LMOVE", "l", "d", "LEFT", "DOWN"),
			kvDo(listArity("lmove"), "LMOVE", "l", "d", "LEFT"),
			kvDo(listArity("rpoplpush"), "RPOPLPUSH", "l"),
			list("l", "a", "b", "c"),
		}, ""},
	})
}

// TestListRepliesRaw checks the encodings where RESP2 and RESP3 differ,
// and the exact shapes of the empty replies.
func TestListRepliesRaw(t *testing.T) {
	for _, tc := range []struct {
		args        []string
		resp2, rsp3 string
	}{
		{[]string{"LPOP", "zz"}, "$-1\r\n", "_\r\n"},
		{[]string{"RPOP", "zz", "1"}, "*-1\r\n", "_\r\n"},
		{[]string{"LPOP", "zz", "0"}, "*-1\r\n", "_\r\n"},
		{[]string{"LPOP", "l", "0"}, "*0\r\n", "*0\r\n"},
		{[]string{"LPOP", "l", "1"}, "*1\r\n$1\r\na\r\n", "*1\r\n$1\r\na\r\n"},
		{[]string{"LRANGE", "zz", "0", "-1"}, "*0\r\n", "*0\r\n"},
		{[]string{"LRANGE", "l", "0", "-1"}, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{[]string{"LINDEX", "l", "5"}, "$-1\r\n", "_\r\n"},
		{[]string{"LPOS", "l", "z"}, "$-1\r\n", "_\r\n"},
		{[]string{"LPOS", "zz", "z"}, "$-1\r\n", "_\r\n"},
		{[]string{"LPOS", "zz", "z", "COUNT", "0"}, "*0\r\n", "*0\r\n"},
		{[]string{"LPOS", "l", "b", "COUNT", "0"}, "*1\r\n:1\r\n", "*1\r\n:1\r\n"},
		{[]string{"LMOVE", "zz", "l", "LEFT", "LEFT"}, "$-1\r\n", "_\r\n"},
		{[]string{"RPOPLPUSH", "zz", "l"}, "$-1\r\n", "_\r\n"},
		{[]string{"LINSERT", "l", "BEFORE", "z", "x"}, ":-1\r\n", ":-1\r\n"},
		{[]string{"LSET", "l", "9", "x"}, "-ERR index out of range\r\n", "-ERR index out of range\r\n"},
		{[]string{"RPUSH", "l"}, "-ERR wrong number of arguments for 'rpush' command\r\n", "-ERR wrong number of arguments for 'rpush' command\r\n"},
	} {
		for _, proto := range []int{2, 3} {
			t.Run(strings.Join(tc.args, "_")+"/resp"+strconv.Itoa(proto), func(t *testing.T) {
				r := listRaw(t, proto)
				r.expect(":3\r\n", "RPUSH", "l", "a", "b", "c")
				want := tc.resp2
				if proto == 3 {
					want = tc.rsp3
				}
				r.expect(want, tc.args...)
			})
		}
	}
}

// TestListEncoding checks OBJECT ENCODING against Redis 7.2, which keeps
// small lists as a listpack (Redis 7.0, and so the oracle, always says
// quicklist).
func TestListEncoding(t *testing.T) {
	ts := startServer(t, nil)
	for _, proto := range []int{2, 3} {
		c := ts.client(t, proto)
		ctx := t.Context()
		key := "l" + strconv.Itoa(proto)
		enc := func(want string) {
			t.Helper()
			if got, err := c.ObjectEncoding(ctx, key).Result(); err != nil || got != want {
				t.Fatalf("OBJECT ENCODING = %q, %v; want %q", got, err, want)
			}
		}
		c.RPush(ctx, key, "a", "b")
		enc("listpack")
		vals := make([]any, 1000)
		for i := range vals {
			vals[i] = "element-" + strconv.Itoa(i)
		}
		c.RPush(ctx, key, vals...)
		enc("quicklist")
		c.LTrim(ctx, key, 0, 9)
		enc("listpack")
		c.LPush(ctx, key, strings.Repeat("x", 10_000))
		enc("quicklist")
		c.LPop(ctx, key)
		enc("listpack")
		if n, err := c.LLen(ctx, key).Result(); err != nil || n != 10 {
			t.Fatalf("LLEN = %d, %v", n, err)
		}
	}
}
