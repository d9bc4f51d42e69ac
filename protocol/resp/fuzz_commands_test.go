package resp

import (
	"bufio"
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzDeterministic lists the commands FuzzCommands runs: those whose
// replies depend only on the commands before them on a fresh key space
// (the test server's clock does not move). Unordered replies (SMEMBERS,
// HGETALL, SCAN), random ones and blocking ones are left out.
var fuzzDeterministic = map[string]bool{}

func init() {
	for _, name := range strings.Fields(`append copy dbsize decr decrby del echo exists expire expireat expiretime
		get getdel getex getrange getset hdel hexists hget hincrby hincrbyfloat hlen hmget hmset hset hsetnx hstrlen
		incr incrby incrbyfloat lindex linsert llen lmove lpop lpos lpush lpushx lrange lrem lset ltrim mget mset msetnx
		persist pexpire pexpireat pexpiretime ping psetex pttl rename renamenx rpop rpoplpush rpush rpushx sadd scard
		sdiffstore set setex setnx setrange sintercard sinterstore sismember smismember smove srem strlen substr
		sunionstore touch ttl type unlink zadd zcard zcount zincrby zlexcount zmscore zpopmax zpopmin zrange
		zrangebylex zrangebyscore zrank zrem zremrangebyrank zremrangebyscore zrevrange zrevrank zscore`) {
		fuzzDeterministic[name] = true
	}
}

// fuzzCheap leaves out a SETRANGE past 1 MB: valid up to 512 MB, it would
// make each run allocate that much.
func fuzzCheap(cmd []string) bool {
	if strings.EqualFold(string(cmd[0]), "setrange") && len(cmd) > 2 {
		off, err := strconv.ParseInt(string(cmd[2]), 10, 64)
		return err != nil || off <= 1<<20
	}
	return true
}

// fuzzCommandSeeds exercise argument parsing: options, numbers at and past
// their limits, wrong types, empty and binary arguments.
var fuzzCommandSeeds = [][][]string{
	{{"SET", "k", "v", "EX", "10", "NX"}, {"SET", "k", "v", "PX", "-1"}, {"SET", "k", "v", "EX", "9223372036854775807"}, {"GET", "k"}},
	{{"SET", "k", "v", "KEEPTTL", "GET"}, {"SET", "k", "v", "XX", "NX"}, {"GETEX", "k", "PERSIST"}, {"TTL", "k"}},
	{{"INCRBY", "n", "9223372036854775807"}, {"INCR", "n"}, {"INCRBYFLOAT", "f", "1e308"}, {"INCRBYFLOAT", "f", "1e308"}, {"DECRBY", "n", "-9223372036854775808"}},
	{{"SETRANGE", "s", "536870911", "x"}, {"SETRANGE", "s", "-1", "x"}, {"GETRANGE", "s", "-100", "100"}, {"APPEND", "s", "\x00\xff"}},
	{{"RPUSH", "l", "a", "b", "c"}, {"LRANGE", "l", "0", "-1"}, {"LPOS", "l", "b", "RANK", "-1", "COUNT", "0", "MAXLEN", "0"}, {"LINSERT", "l", "BEFORE", "b", "x"}, {"LSET", "l", "99", "y"}},
	{{"HSET", "h", "f", "1"}, {"HINCRBYFLOAT", "h", "f", "nan"}, {"HINCRBY", "h", "f", "x"}, {"HMGET", "h", "f", "g"}, {"GET", "h"}},
	{{"ZADD", "z", "NX", "XX", "1", "a"}, {"ZADD", "z", "GT", "LT", "1", "a"}, {"ZADD", "z", "INCR", "1", "a", "2", "b"}, {"ZADD", "z", "-inf", "a", "+inf", "b"}, {"ZRANGE", "z", "(1", "+inf", "BYSCORE", "LIMIT", "0", "-1", "WITHSCORES"}, {"ZRANGEBYLEX", "z", "[a", "(c"}},
	{{"SADD", "s1", "a", "b"}, {"SADD", "s2", "b"}, {"SINTERCARD", "2", "s1", "s2", "LIMIT", "-1"}, {"SINTERSTORE", "d", "s1", "s2"}, {"SMISMEMBER", "d", "a", "b"}},
	{{"MSET", "a", "1", "b"}, {"MSETNX", "a", "1", "b", "2"}, {"COPY", "a", "c", "REPLACE"}, {"RENAME", "c", "c"}, {"EXPIRE", "a", "10", "NX", "XX"}, {"PEXPIREAT", "a", "-1"}},
}

// FuzzCommands runs commands decoded from the input (only deterministic
// ones) against a server twice on an empty key space: once written whole
// and once written in pieces, at split points drawn from the input. Every
// command must get exactly one well-formed reply, the replies must not
// depend on the split, and the server must stay up.
func FuzzCommands(f *testing.F) {
	for _, cmds := range fuzzCommandSeeds {
		f.Add(encodeCommands(cmds))
		// Inline, so that mutations of a word still make a command.
		var inline strings.Builder
		for _, cmd := range cmds {
			inline.WriteString(strings.Join(cmd, " ") + "\r\n")
		}
		f.Add([]byte(inline.String()))
	}
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	ts := startServer(f, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		limits := Limits{MaxBulkLen: 1 << 10, MaxArgs: 16, MaxInlineLen: 1 << 10, MaxQueryBuffer: 1 << 16}
		parsed, _ := drainReader(t, bytes.NewReader(data), limits)
		var cmds [][]string
		for _, cmd := range parsed {
			if fuzzDeterministic[strings.ToLower(string(cmd[0]))] && fuzzCheap(cmd) {
				args := make([]string, len(cmd))
				for i, a := range cmd {
					args[i] = string(a)
				}
				cmds = append(cmds, args)
			}
		}
		if len(cmds) == 0 {
			return
		}
		stream := encodeCommands(cmds)
		whole := fuzzRun(t, ts, stream, []int{len(stream)}, len(cmds))
		sizes, _ := pieceSizes(data)
		pieces := fuzzRun(t, ts, stream, sizes, len(cmds))
		for i := range whole {
			if whole[i] != pieces[i] {
				t.Fatalf("command %q: written whole got %q, in pieces %q", cmds[i], whole[i], pieces[i])
			}
		}
	})
}

// fuzzRun empties the key space, writes stream on a new connection in
// pieces of the given sizes (cycling), and returns the n replies.
func fuzzRun(t *testing.T, ts *testServer, stream []byte, sizes []int, n int) []string {
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	rd := bufio.NewReader(conn)
	if _, err := conn.Write([]byte("FLUSHALL\r\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := rd.ReadString('\n'); err != nil || line != "+OK\r\n" {
		t.Fatalf("FLUSHALL: %q, %v", line, err)
	}
	go func() {
		for i, rest := 0, stream; len(rest) > 0; i++ {
			k := min(sizes[i%len(sizes)], len(rest))
			if _, err := conn.Write(rest[:k]); err != nil {
				return
			}
			rest = rest[k:]
		}
	}()
	replies := make([]string, n)
	for i := range replies {
		var b strings.Builder
		if err := readReply(rd, &b); err != nil {
			t.Fatalf("reply %d of %d: %v (so far %q)", i+1, n, err, b.String())
		}
		replies[i] = b.String()
	}
	return replies
}
