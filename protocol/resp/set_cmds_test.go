package resp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Command → reply tables for the set commands, checked against redis-server
// (7.0 as an oracle, with Redis 7.2's documented behaviour where they
// differ: listpack sets, negative SSCAN cursors). Replies of integer sets
// come in ascending order, as from a Redis intset, so most tables can be
// exact; random commands are checked by property in TestSetRandom.

var (
	setWrongType = kvErr("WRONGTYPE Operation against a key holding the wrong kind of value")
	setSyntax    = kvErr("ERR syntax error")
	setNotInt    = kvErr("ERR value is not an integer or out of range")
	setStr       = kvDo("OK", "SET", "str", "x")
)

func setArity(name string) kvErr {
	return kvErr("ERR wrong number of arguments for '" + name + "' command")
}

func TestSetBasics(t *testing.T) {
	abc := kvDo(3, "SADD", "s", "c", "a", "b")
	kvRun(t, []kvCase{
		{"sadd counts new members", []kvStep{kvDo(3, "SADD", "s", "1", "2", "3"), kvDo(1, "SADD", "s", "3", "4", "4"), kvDo(4, "SCARD", "s")}, ""},
		{"smembers", []kvStep{abc, kvDo(kvAnyOrder{"a", "b", "c"}, "SMEMBERS", "s")}, ""},
		{"smembers intset sorted", []kvStep{kvDo(4, "SADD", "s", "10", "-3", "2", "100"), kvDo([]any{"-3", "2", "10", "100"}, "SMEMBERS", "s")}, ""},
		{"smembers missing", []kvStep{kvDo([]any{}, "SMEMBERS", "s")}, ""},
		{"scard missing", []kvStep{kvDo(0, "SCARD", "s")}, ""},
		{"srem", []kvStep{abc, kvDo(2, "SREM", "s", "a", "b", "zz", "a"), kvDo([]any{"c"}, "SMEMBERS", "s")}, ""},
		{"srem missing key", []kvStep{kvDo(0, "SREM", "s", "a")}, ""},
		{"srem last deletes the key", []kvStep{abc, kvDo(3, "SREM", "s", "a", "b", "c"), kvDo(0, "EXISTS", "s"), kvDo("none", "TYPE", "s")}, ""},
		{"sismember", []kvStep{abc, kvDo(1, "SISMEMBER", "s", "a"), kvDo(0, "SISMEMBER", "s", "zz"), kvDo(0, "SISMEMBER", "nokey", "a")}, ""},
		{"smismember", []kvStep{abc, kvDo([]any{1, 0, 1}, "SMISMEMBER", "s", "a", "zz", "c"), kvDo([]any{0, 0}, "SMISMEMBER", "nokey", "a", "b")}, ""},
		{"type set", []kvStep{abc, kvDo("set", "TYPE", "s")}, ""},
		{"binary members", []kvStep{
			kvDo(3, "SADD", "s", "a\x00b", "\xff\r\n", ""), kvDo(1, "SISMEMBER", "s", "a\x00b"), kvDo(0, "SISMEMBER", "s", "a"),
			kvDo(kvAnyOrder{"a\x00b", "\xff\r\n", ""}, "SMEMBERS", "s"), kvDo(1, "SREM", "s", ""), kvDo(2, "SCARD", "s"),
		}, ""},
		{"ttl survives sadd and srem", []kvStep{
			abc, kvDo(1, "EXPIRE", "s", "100"), kvDo(1, "SADD", "s", "d"), kvDo(1, "SREM", "s", "a"), kvDo(100, "TTL", "s"),
		}, ""},
		{"expired set is gone", []kvStep{
			abc, kvDo(1, "PEXPIRE", "s", "10"), kvTick(11 * time.Millisecond), kvDo(0, "SCARD", "s"), kvDo(1, "SADD", "s", "x"), kvDo(-1, "TTL", "s"),
		}, ""},
		{"del and set overwrite", []kvStep{abc, kvDo("OK", "SET", "s", "v"), kvDo("string", "TYPE", "s"), kvDo(1, "SADD", "t", "x"), kvDo(1, "DEL", "t"), kvDo(0, "SCARD", "t")}, ""},
	})
}

func TestSetErrors(t *testing.T) {
	kvRun(t, []kvCase{
		{"wrong type", []kvStep{
			setStr,
			kvDo(setWrongType, "SADD", "str", "a"), kvDo(setWrongType, "SREM", "str", "a"),
			kvDo(setWrongType, "SISMEMBER", "str", "a"), kvDo(setWrongType, "SMISMEMBER", "str", "a"),
			kvDo(setWrongType, "SMEMBERS", "str"), kvDo(setWrongType, "SCARD", "str"),
			kvDo(setWrongType, "SPOP", "str"), kvDo(setWrongType, "SPOP", "str", "1"), kvDo(setWrongType, "SPOP", "str", "0"),
			kvDo(setWrongType, "SRANDMEMBER", "str"), kvDo(setWrongType, "SRANDMEMBER", "str", "1"),
			kvDo(setWrongType, "SSCAN", "str", "0"), kvDo(setWrongType, "SSCAN", "str", "0", "FOO"),
			kvDo("x", "GET", "str"),
		}, ""},
		{"wrong type against hashes", []kvStep{kvDo(1, "HSET", "h", "f", "v"), kvDo(setWrongType, "SADD", "h", "a"), kvDo(setWrongType, "SINTER", "h")}, ""},
		{"arity", []kvStep{
			kvDo(setArity("sadd"), "SADD"), kvDo(setArity("sadd"), "SADD", "s"),
			kvDo(setArity("srem"), "SREM", "s"), kvDo(setArity("sismember"), "SISMEMBER", "s"),
			kvDo(setArity("sismember"), "SISMEMBER", "s", "a", "b"), kvDo(setArity("smismember"), "SMISMEMBER", "s"),
			kvDo(setArity("smembers"), "SMEMBERS"), kvDo(setArity("smembers"), "SMEMBERS", "a", "b"),
			kvDo(setArity("scard"), "SCARD"), kvDo(setArity("spop"), "SPOP"), kvDo(setArity("srandmember"), "SRANDMEMBER"),
			kvDo(setArity("smove"), "SMOVE", "a", "b"), kvDo(setArity("sinter"), "SINTER"), kvDo(setArity("sunion"), "SUNION"),
			kvDo(setArity("sdiff"), "SDIFF"), kvDo(setArity("sinterstore"), "SINTERSTORE", "d"),
			kvDo(setArity("sunionstore"), "SUNIONSTORE", "d"), kvDo(setArity("sdiffstore"), "SDIFFSTORE", "d"),
			kvDo(setArity("sintercard"), "SINTERCARD", "1"), kvDo(setArity("sscan"), "SSCAN", "s"),
		}, ""},
		{"spop count", []kvStep{
			kvDo(3, "SADD", "s", "a", "b", "c"),
			kvDo(kvErr("ERR value is out of range, must be positive"), "SPOP", "s", "-1"),
			kvDo(kvErr("ERR value is out of range, must be positive"), "SPOP", "s", "abc"),
			kvDo(kvErr("ERR value is out of range, must be positive"), "SPOP", "str", "abc"), // count before type
			kvDo(setSyntax, "SPOP", "s", "1", "2"),
			kvDo([]any{}, "SPOP", "s", "0"), kvDo(3, "SCARD", "s"),
		}, ""},
		{"srandmember count", []kvStep{
			kvDo(1, "SADD", "s", "a"),
			kvDo(setNotInt, "SRANDMEMBER", "s", "abc"), kvDo(setNotInt, "SRANDMEMBER", "s", "1.5"),
			kvDo(setNotInt, "SRANDMEMBER", "s", "99999999999999999999"),
			kvDo(kvErr("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"), "SRANDMEMBER", "s", "-9223372036854775808"),
			kvDo(setSyntax, "SRANDMEMBER", "s", "1", "2"),
			// Our bound: the reply is built in memory before it is sent.
			kvDo(kvErr("ERR value is out of range, count must be at least -16777216"), "SRANDMEMBER", "s", "-16777217"),
			kvDo([]any{}, "SRANDMEMBER", "s", "0"),
			kvDo([]any{"a"}, "SRANDMEMBER", "s", "9223372036854775807"),
		}, ""},
		{"missing keys", []kvStep{
			kvDo(kvNil{}, "SPOP", "s"), kvDo([]any{}, "SPOP", "s", "3"), kvDo([]any{}, "SPOP", "s", "0"),
			kvDo(kvNil{}, "SRANDMEMBER", "s"), kvDo([]any{}, "SRANDMEMBER", "s", "3"), kvDo([]any{}, "SRANDMEMBER", "s", "-3"),
			kvDo(0, "EXISTS", "s"),
		}, ""},
	})
}

func TestSetPopWhole(t *testing.T) {
	kvRun(t, []kvCase{
		{"spop one member", []kvStep{kvDo(1, "SADD", "s", "a"), kvDo("a", "SPOP", "s"), kvDo(0, "EXISTS", "s")}, ""},
		{"spop count of all deletes", []kvStep{kvDo(3, "SADD", "s", "3", "1", "2"), kvDo([]any{"1", "2", "3"}, "SPOP", "s", "10"), kvDo(0, "EXISTS", "s")}, ""},
		{"srandmember one member", []kvStep{kvDo(1, "SADD", "s", "a"), kvDo("a", "SRANDMEMBER", "s"), kvDo([]any{"a", "a", "a"}, "SRANDMEMBER", "s", "-3"), kvDo(1, "SCARD", "s")}, ""},
		{"srandmember count over size", []kvStep{kvDo(3, "SADD", "s", "3", "1", "2"), kvDo([]any{"1", "2", "3"}, "SRANDMEMBER", "s", "3"), kvDo([]any{"1", "2", "3"}, "SRANDMEMBER", "s", "100")}, ""},
	})
}

func TestSetMove(t *testing.T) {
	ab := kvDo(2, "SADD", "a", "1", "2")
	kvRun(t, []kvCase{
		{"smove", []kvStep{ab, kvDo(1, "SADD", "b", "3"), kvDo(1, "SMOVE", "a", "b", "1"), kvDo([]any{"2"}, "SMEMBERS", "a"), kvDo([]any{"1", "3"}, "SMEMBERS", "b")}, ""},
		{"smove creates destination", []kvStep{ab, kvDo(1, "SMOVE", "a", "b", "1"), kvDo("set", "TYPE", "b"), kvDo([]any{"1"}, "SMEMBERS", "b")}, ""},
		{"smove last member deletes source", []kvStep{kvDo(1, "SADD", "a", "x"), kvDo(1, "SMOVE", "a", "b", "x"), kvDo(0, "EXISTS", "a")}, ""},
		{"smove not a member", []kvStep{ab, kvDo(0, "SMOVE", "a", "b", "zz"), kvDo(0, "EXISTS", "b")}, ""},
		{"smove member already in destination", []kvStep{ab, kvDo(1, "SADD", "b", "1"), kvDo(1, "SMOVE", "a", "b", "1"), kvDo(1, "SCARD", "a"), kvDo(1, "SCARD", "b")}, ""},
		{"smove same key", []kvStep{ab, kvDo(1, "SMOVE", "a", "a", "1"), kvDo(0, "SMOVE", "a", "a", "zz"), kvDo(2, "SCARD", "a")}, ""},
		{"smove missing source", []kvStep{kvDo(0, "SMOVE", "nokey", "b", "1"), kvDo(0, "EXISTS", "b")}, ""},
		// A missing source answers 0 before the destination's type is checked.
		{"smove missing source, wrong destination", []kvStep{setStr, kvDo(0, "SMOVE", "nokey", "str", "1")}, ""},
		{"smove wrong types", []kvStep{ab, setStr, kvDo(setWrongType, "SMOVE", "str", "a", "1"), kvDo(setWrongType, "SMOVE", "a", "str", "1"), kvDo(setWrongType, "SMOVE", "a", "str", "zz"), kvDo(2, "SCARD", "a")}, ""},
		{"smove keeps ttls", []kvStep{ab, kvDo(1, "SADD", "b", "3"), kvDo(1, "EXPIRE", "a", "100"), kvDo(1, "EXPIRE", "b", "200"), kvDo(1, "SMOVE", "a", "b", "1"), kvDo(100, "TTL", "a"), kvDo(200, "TTL", "b")}, ""},
	})
}

func TestSetAlgebra(t *testing.T) {
	abc := kvDo(4, "SADD", "a", "1", "2", "3", "4")
	bcd := kvDo(3, "SADD", "b", "3", "4", "5")
	c := kvDo(2, "SADD", "c", "4", "x")
	kvRun(t, []kvCase{
		{"sinter", []kvStep{abc, bcd, c, kvDo([]any{"3", "4"}, "SINTER", "a", "b"), kvDo([]any{"4"}, "SINTER", "a", "b", "c")}, ""},
		{"sinter one key", []kvStep{abc, kvDo([]any{"1", "2", "3", "4"}, "SINTER", "a")}, ""},
		{"sinter missing key", []kvStep{abc, kvDo([]any{}, "SINTER", "a", "nokey"), kvDo([]any{}, "SINTER", "nokey")}, ""},
		{"sunion", []kvStep{abc, bcd, kvDo([]any{"1", "2", "3", "4", "5"}, "SUNION", "a", "b", "nokey"), kvDo([]any{}, "SUNION", "nokey")}, ""},
		{"sunion strings", []kvStep{abc, c, kvDo(kvAnyOrder{"1", "2", "3", "4", "x"}, "SUNION", "a", "c")}, ""},
		{"sdiff", []kvStep{abc, bcd, c, kvDo([]any{"1", "2"}, "SDIFF", "a", "b"), kvDo([]any{"1", "2"}, "SDIFF", "a", "b", "c"), kvDo([]any{"5"}, "SDIFF", "b", "a")}, ""},
		{"sdiff missing", []kvStep{abc, kvDo([]any{"1", "2", "3", "4"}, "SDIFF", "a", "nokey"), kvDo([]any{}, "SDIFF", "nokey", "a"), kvDo([]any{}, "SDIFF", "a", "a")}, ""},
		// Every source is type-checked, even after a missing one.
		{"wrong type anywhere", []kvStep{abc, setStr,
			kvDo(setWrongType, "SINTER", "a", "str"), kvDo(setWrongType, "SINTER", "nokey", "str"), kvDo(setWrongType, "SINTER", "str", "nokey"),
			kvDo(setWrongType, "SUNION", "nokey", "str"), kvDo(setWrongType, "SDIFF", "nokey", "str"), kvDo(setWrongType, "SDIFF", "a", "str"),
			kvDo(setWrongType, "SINTERSTORE", "d", "a", "str"), kvDo(setWrongType, "SUNIONSTORE", "d", "str"), kvDo(setWrongType, "SDIFFSTORE", "d", "nokey", "str"),
			kvDo(setWrongType, "SINTERCARD", "2", "nokey", "str"), kvDo(0, "EXISTS", "d"),
		}, ""},
		{"sinterstore", []kvStep{abc, bcd, kvDo(2, "SINTERSTORE", "d", "a", "b"), kvDo([]any{"3", "4"}, "SMEMBERS", "d"), kvDo("intset", "OBJECT", "ENCODING", "d")}, ""},
		{"sunionstore", []kvStep{abc, bcd, kvDo(5, "SUNIONSTORE", "d", "a", "b"), kvDo(5, "SCARD", "d")}, ""},
		{"sdiffstore", []kvStep{abc, bcd, kvDo(2, "SDIFFSTORE", "d", "a", "b"), kvDo([]any{"1", "2"}, "SMEMBERS", "d")}, ""},
		{"store empty deletes destination", []kvStep{
			abc, kvDo(1, "SADD", "d", "old"), kvDo(0, "SINTERSTORE", "d", "a", "nokey"), kvDo(0, "EXISTS", "d"),
			kvDo(1, "SADD", "d", "old"), kvDo(0, "SDIFFSTORE", "d", "a", "a"), kvDo(0, "EXISTS", "d"),
			kvDo(1, "SADD", "d", "old"), kvDo(0, "SUNIONSTORE", "d", "nokey"), kvDo(0, "EXISTS", "d"),
		}, ""},
		{"store overwrites any type and ttl", []kvStep{abc, setStr, kvDo(1, "EXPIRE", "str", "100"), kvDo(4, "SUNIONSTORE", "str", "a"), kvDo("set", "TYPE", "str"), kvDo(-1, "TTL", "str")}, ""},
		{"destination is a source", []kvStep{
			abc, bcd, kvDo(2, "SINTERSTORE", "a", "a", "b"), kvDo([]any{"3", "4"}, "SMEMBERS", "a"),
			kvDo(3, "SUNIONSTORE", "b", "b", "a"), kvDo(0, "SDIFFSTORE", "b", "b", "b"), kvDo(0, "EXISTS", "b"),
		}, ""},
		{"store keeps sources", []kvStep{abc, kvDo(4, "SUNIONSTORE", "d", "a"), kvDo(1, "SREM", "d", "1"), kvDo(4, "SCARD", "a")}, ""},
	})
}

func TestSetInterCard(t *testing.T) {
	ab := []kvStep{kvDo(4, "SADD", "a", "1", "2", "3", "4"), kvDo(3, "SADD", "b", "2", "3", "4")}
	numKeys := kvErr("ERR numkeys should be greater than 0")
	kvRun(t, []kvCase{
		{"sintercard", append(ab, kvDo(3, "SINTERCARD", "2", "a", "b"), kvDo(4, "SINTERCARD", "1", "a"), kvDo(0, "SINTERCARD", "2", "a", "nokey"))[:], ""},
		{"limit", append(ab, kvDo(2, "SINTERCARD", "2", "a", "b", "LIMIT", "2"), kvDo(3, "SINTERCARD", "2", "a", "b", "limit", "0"),
			kvDo(3, "SINTERCARD", "2", "a", "b", "LIMIT", "10"), kvDo(3, "SINTERCARD", "2", "a", "b", "LIMIT", "1", "LIMIT", "0")), ""},
		{"numkeys", []kvStep{
			kvDo(numKeys, "SINTERCARD", "0", "a"), kvDo(numKeys, "SINTERCARD", "-1", "a"), kvDo(numKeys, "SINTERCARD", "abc", "a"),
			kvDo(kvErr("ERR Number of keys can't be greater than number of args"), "SINTERCARD", "2", "a"),
		}, ""},
		{"options", []kvStep{
			kvDo(kvErr("ERR LIMIT can't be negative"), "SINTERCARD", "1", "a", "LIMIT", "-1"),
			kvDo(kvErr("ERR LIMIT can't be negative"), "SINTERCARD", "1", "a", "LIMIT", "abc"),
			kvDo(setSyntax, "SINTERCARD", "1", "a", "LIMIT"), kvDo(setSyntax, "SINTERCARD", "1", "a", "FOO", "1"),
			kvDo(setSyntax, "SINTERCARD", "1", "nokey", "str"),
		}, ""},
	})
}

func TestSetScan(t *testing.T) {
	abc := kvDo(4, "SADD", "s", "a1", "a2", "b1", "3")
	kvRun(t, []kvCase{
		{"all in one call", []kvStep{abc, kvDo(4, "SCARD", "s")}, ""},
		{"missing key", []kvStep{kvDo([]any{"0", []any{}}, "SSCAN", "s", "0")}, ""},
		// Options are checked after the key: a missing key scans empty.
		{"missing key ignores options", []kvStep{kvDo([]any{"0", []any{}}, "SSCAN", "s", "0", "COUNT", "0"), kvDo([]any{"0", []any{}}, "SSCAN", "s", "0", "FOO")}, ""},
		{"match", []kvStep{abc, kvDo([]any{"0", []any{"b1"}}, "SSCAN", "s", "0", "MATCH", "b*"), kvDo([]any{"0", []any{}}, "SSCAN", "s", "0", "match", "zz*", "count", "5")}, ""},
		{"count is a hint", []kvStep{kvDo(3, "SADD", "n", "3", "1", "2"), kvDo([]any{"0", []any{"1", "2", "3"}}, "SSCAN", "n", "0", "COUNT", "1")}, ""},
		{"any cursor", []kvStep{kvDo(3, "SADD", "n", "3", "1", "2"), kvDo([]any{"0", []any{"1", "2", "3"}}, "SSCAN", "n", "12345")}, ""},
		{"errors", []kvStep{
			abc,
			kvDo(kvErr("ERR invalid cursor"), "SSCAN", "s", "abc"), kvDo(kvErr("ERR invalid cursor"), "SSCAN", "nokey", "abc"),
			kvDo(kvErr("ERR invalid cursor"), "SSCAN", "s", "-1"), // Redis 7.2 rejects negative cursors
			kvDo(setSyntax, "SSCAN", "s", "0", "COUNT", "0"), kvDo(setNotInt, "SSCAN", "s", "0", "COUNT", "abc"),
			kvDo(setSyntax, "SSCAN", "s", "0", "MATCH"), kvDo(setSyntax, "SSCAN", "s", "0", "FOO", "x"),
			kvDo(setSyntax, "SSCAN", "s", "0", "TYPE", "string"),
		}, ""},
	})
}

func TestSetObjectEncoding(t *testing.T) {
	many := func(n int, prefix string) []any {
		args := []any{"SADD", "s"}
		for i := range n {
			args = append(args, prefix+strconv.Itoa(i+1))
		}
		return args
	}
	step := func(want any, args []any) kvStep { return kvStep{args: args, want: want} }
	kvRun(t, []kvCase{
		{"intset", []kvStep{kvDo(3, "SADD", "s", "1", "2", "-3"), kvDo("intset", "OBJECT", "ENCODING", "s")}, ""},
		{"intset to listpack", []kvStep{kvDo(1, "SADD", "s", "1"), kvDo(1, "SADD", "s", "a"), kvDo("listpack", "OBJECT", "ENCODING", "s"),
			kvDo(1, "SREM", "s", "a"), kvDo("listpack", "OBJECT", "ENCODING", "s")}, ""},
		{"512 integers", []kvStep{step(512, many(512, "")), kvDo("intset", "OBJECT", "ENCODING", "s"), kvDo(1, "SADD", "s", "513"), kvDo("hashtable", "OBJECT", "ENCODING", "s")}, ""},
		{"sadd of many integers", []kvStep{step(513, many(513, "")), kvDo("hashtable", "OBJECT", "ENCODING", "s")}, ""},
		{"listpack to hashtable", []kvStep{step(128, many(128, "m")), kvDo("listpack", "OBJECT", "ENCODING", "s"), kvDo(1, "SADD", "s", "x"), kvDo("hashtable", "OBJECT", "ENCODING", "s")}, ""},
		{"long member", []kvStep{kvDo(1, "SADD", "s", strings.Repeat("x", 65)), kvDo("hashtable", "OBJECT", "ENCODING", "s")}, ""},
		{"hashtable stays", []kvStep{kvDo(1, "SADD", "s", strings.Repeat("x", 65)), kvDo(1, "SADD", "s", "a"), kvDo(1, "SREM", "s", strings.Repeat("x", 65)), kvDo("hashtable", "OBJECT", "ENCODING", "s")}, ""},
	})
}

// TestSetRandom checks SPOP and SRANDMEMBER by their properties, in both
// protocols.
func TestSetRandom(t *testing.T) {
	all := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	strs := func(t *testing.T, v any) []string {
		t.Helper()
		arr, ok := v.([]any)
		if !ok {
			t.Fatalf("got %#v, want an array", v)
		}
		var out []string
		for _, e := range arr {
			out = append(out, e.(string))
		}
		return out
	}
	distinctMembers := func(t *testing.T, got []string) {
		t.Helper()
		seen := map[string]bool{}
		for _, m := range got {
			if seen[m] || !slices.Contains(all, m) {
				t.Fatalf("%q: %q repeated or not a member", got, m)
			}
			seen[m] = true
		}
	}
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, nil)
			c := ts.client(t, proto)
			ctx := t.Context()
			if err := c.SAdd(ctx, "s", all).Err(); err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{1, 3, 9, 10} {
				v, err := c.Do(ctx, "SRANDMEMBER", "s", n).Result()
				if err != nil {
					t.Fatal(err)
				}
				got := strs(t, v)
				if len(got) != n {
					t.Fatalf("SRANDMEMBER %d: %d members", n, len(got))
				}
				distinctMembers(t, got)
			}
			v, err := c.Do(ctx, "SRANDMEMBER", "s", -25).Result()
			if err != nil {
				t.Fatal(err)
			}
			if got := strs(t, v); len(got) != 25 {
				t.Fatalf("SRANDMEMBER -25: %d members", len(got))
			} else {
				for _, m := range got {
					if !slices.Contains(all, m) {
						t.Fatalf("SRANDMEMBER -25: %q not a member", m)
					}
				}
			}
			m, err := c.SRandMember(ctx, "s").Result()
			if err != nil || !slices.Contains(all, m) {
				t.Fatalf("SRANDMEMBER = %q, %v", m, err)
			}
			if err := c.Expire(ctx, "s", 50*time.Second).Err(); err != nil {
				t.Fatal(err)
			}
			var popped []string
			m, err = c.SPop(ctx, "s").Result()
			if err != nil {
				t.Fatal(err)
			}
			popped = append(popped, m)
			v, err = c.Do(ctx, "SPOP", "s", 4).Result()
			if err != nil {
				t.Fatal(err)
			}
			popped = append(popped, strs(t, v)...)
			if len(popped) != 5 {
				t.Fatalf("popped %q", popped)
			}
			distinctMembers(t, popped)
			rest, err := c.SMembers(ctx, "s").Result()
			if err != nil {
				t.Fatal(err)
			}
			distinctMembers(t, append(rest, popped...))
			if len(rest) != 5 {
				t.Fatalf("%d left after popping 5 of 10", len(rest))
			}
			if d, err := c.TTL(ctx, "s").Result(); err != nil || d != 50*time.Second {
				t.Fatalf("TTL after SPOP = %v, %v", d, err)
			}
		})
	}
}

func TestSetMemoryUsage(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t, 2)
	ctx := t.Context()
	c.SAdd(ctx, "s", "a")
	small, err := c.MemoryUsage(ctx, "s").Result()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		c.SAdd(ctx, "s", strings.Repeat("m", 50)+strconv.Itoa(i))
	}
	big, err := c.MemoryUsage(ctx, "s").Result()
	if err != nil {
		t.Fatal(err)
	}
	if big <= small+200*50 {
		t.Fatalf("MEMORY USAGE %d with 201 members, %d with one", big, small)
	}
	used := func() int64 {
		t.Helper()
		n, err := c.Do(ctx, "MEMORY", "USAGE", "s").Int64()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	c.SPop(ctx, "s")
	if after := used(); after >= big {
		t.Fatalf("MEMORY USAGE %d after SPOP, %d before", after, big)
	}
}

// TestSetRepliesRaw checks the reply encodings: sets are '~' in RESP3,
// SRANDMEMBER with a count and SMISMEMBER stay arrays, missing single
// members are null.
func TestSetRepliesRaw(t *testing.T) {
	ints := [][]string{{"SADD", "s", "3", "1", "2"}}
	set123 := "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
	set123v3 := "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
	cases := []struct {
		name         string
		setup        [][]string
		args         []string
		resp2, resp3 string
	}{
		{"sadd", nil, []string{"SADD", "s", "a", "b"}, ":2\r\n", ":2\r\n"},
		{"smembers", ints, []string{"SMEMBERS", "s"}, set123, set123v3},
		{"smembers missing", nil, []string{"SMEMBERS", "s"}, "*0\r\n", "~0\r\n"},
		{"smembers binary", [][]string{{"SADD", "s", "a\r\n\x00"}}, []string{"SMEMBERS", "s"}, "*1\r\n$4\r\na\r\n\x00\r\n", "~1\r\n$4\r\na\r\n\x00\r\n"},
		{"sinter", ints, []string{"SINTER", "s", "s"}, set123, set123v3},
		{"sinter missing", nil, []string{"SINTER", "s"}, "*0\r\n", "~0\r\n"},
		{"sunion", ints, []string{"SUNION", "s", "nokey"}, set123, set123v3},
		{"sdiff", ints, []string{"SDIFF", "s", "nokey"}, set123, set123v3},
		{"sinterstore", ints, []string{"SINTERSTORE", "d", "s"}, ":3\r\n", ":3\r\n"},
		{"smismember", ints, []string{"SMISMEMBER", "s", "1", "x"}, "*2\r\n:1\r\n:0\r\n", "*2\r\n:1\r\n:0\r\n"},
		{"sismember", ints, []string{"SISMEMBER", "s", "1"}, ":1\r\n", ":1\r\n"},
		{"spop missing", nil, []string{"SPOP", "s"}, "$-1\r\n", "_\r\n"},
		{"spop count missing", nil, []string{"SPOP", "s", "3"}, "*0\r\n", "~0\r\n"},
		{"spop count 0", ints, []string{"SPOP", "s", "0"}, "*0\r\n", "~0\r\n"},
		{"spop count all", ints, []string{"SPOP", "s", "5"}, set123, set123v3},
		{"srandmember missing", nil, []string{"SRANDMEMBER", "s"}, "$-1\r\n", "_\r\n"},
		{"srandmember count missing", nil, []string{"SRANDMEMBER", "s", "2"}, "*0\r\n", "*0\r\n"},
		{"srandmember count 0", ints, []string{"SRANDMEMBER", "s", "0"}, "*0\r\n", "*0\r\n"},
		{"srandmember count all", ints, []string{"SRANDMEMBER", "s", "3"}, set123, set123},
		{"srandmember repeats", [][]string{{"SADD", "s", "x"}}, []string{"SRANDMEMBER", "s", "-2"}, "*2\r\n$1\r\nx\r\n$1\r\nx\r\n", "*2\r\n$1\r\nx\r\n$1\r\nx\r\n"},
		{"sscan", ints, []string{"SSCAN", "s", "0"}, "*2\r\n$1\r\n0\r\n" + set123, "*2\r\n$1\r\n0\r\n" + set123},
		{"sscan missing", nil, []string{"SSCAN", "s", "0"}, "*2\r\n$1\r\n0\r\n*0\r\n", "*2\r\n$1\r\n0\r\n*0\r\n"},
		{"sintercard", ints, []string{"SINTERCARD", "1", "s"}, ":3\r\n", ":3\r\n"},
		{"smove", ints, []string{"SMOVE", "s", "d", "1"}, ":1\r\n", ":1\r\n"},
		{"wrong type", [][]string{{"SET", "k", "v"}}, []string{"SMEMBERS", "k"},
			"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, proto := range []int{2, 3} {
				ts := startServer(t, nil)
				r := ts.raw(t)
				want := tc.resp2
				if proto == 3 {
					want = tc.resp3
					r.do("HELLO", "3")
					r.reply()
				}
				for _, s := range tc.setup {
					r.do(s...)
					if got := r.reply(); got[0] == '-' {
						t.Fatalf("setup %q: %q", s, got)
					}
				}
				r.expect(want, tc.args...)
			}
		})
	}
}

// TestSetCommandInfo checks the key positions COMMAND reports against
// redis-server's.
func TestSetCommandInfo(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t, 2)
	for _, tc := range []struct {
		name              string
		arity             int64
		first, last, step int64
		flag              string
	}{
		{"sadd", -3, 1, 1, 1, "denyoom"},
		{"srem", -3, 1, 1, 1, "write"},
		{"sismember", 3, 1, 1, 1, "readonly"},
		{"smismember", -3, 1, 1, 1, "readonly"},
		{"smembers", 2, 1, 1, 1, "readonly"},
		{"scard", 2, 1, 1, 1, "fast"},
		{"spop", -2, 1, 1, 1, "write"},
		{"srandmember", -2, 1, 1, 1, "readonly"},
		{"smove", 4, 1, 2, 1, "write"},
		{"sinter", -2, 1, -1, 1, "readonly"},
		{"sunion", -2, 1, -1, 1, "readonly"},
		{"sdiff", -2, 1, -1, 1, "readonly"},
		{"sinterstore", -3, 1, -1, 1, "denyoom"},
		{"sunionstore", -3, 1, -1, 1, "denyoom"},
		{"sdiffstore", -3, 1, -1, 1, "denyoom"},
		{"sintercard", -3, 0, 0, 0, "readonly"},
		{"sscan", -3, 1, 1, 1, "readonly"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := c.Do(t.Context(), "COMMAND", "INFO", tc.name).Slice()
			if err != nil || len(v) != 1 {
				t.Fatalf("COMMAND INFO = %v, %v", v, err)
			}
			info, ok := v[0].([]any)
			if !ok || len(info) < 6 {
				t.Fatalf("COMMAND INFO = %#v", v)
			}
			got := []any{info[0], info[1], info[3], info[4], info[5]}
			want := []any{tc.name, tc.arity, tc.first, tc.last, tc.step}
			if !slices.Equal(setInfoStrings(got), setInfoStrings(want)) {
				t.Fatalf("got %v, want %v", got, want)
			}
			flags, _ := info[2].([]any)
			if !slices.Contains(setInfoStrings(flags), tc.flag) {
				t.Fatalf("flags %v lack %q", flags, tc.flag)
			}
		})
	}
}

// setInfoStrings formats vs for comparison.
func setInfoStrings(vs []any) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprint(v)
	}
	return out
}

// TestSetMoveConcurrent moves members back and forth between two sets from
// several clients: SMOVE is atomic, so none is lost or duplicated.
func TestSetMoveConcurrent(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t, 2)
	ctx := t.Context()
	const members = 50
	var all []any
	for i := range members {
		all = append(all, strconv.Itoa(i))
	}
	if err := c.SAdd(ctx, "a", all...).Err(); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for w := range 4 {
		go func() {
			src, dst := "a", "b"
			if w%2 == 1 {
				src, dst = "b", "a"
			}
			for i := range 300 {
				if err := c.SMove(ctx, src, dst, strconv.Itoa(i%members)).Err(); err != nil {
					errs <- err
					return
				}
				if i%50 == 0 {
					if err := c.SUnionStore(ctx, "u"+strconv.Itoa(w), "a", "b").Err(); err != nil {
						errs <- err
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	na, _ := c.SCard(ctx, "a").Result()
	nb, _ := c.SCard(ctx, "b").Result()
	if na+nb != members {
		t.Fatalf("SCARD a + SCARD b = %d + %d, want %d", na, nb, members)
	}
	if n, _ := c.SInterCard(ctx, 0, "a", "b").Result(); n != 0 {
		t.Fatalf("%d members in both sets", n)
	}
	for w := range 4 {
		if n, _ := c.SCard(ctx, "u"+strconv.Itoa(w)).Result(); n != members {
			t.Fatalf("SUNIONSTORE saw %d members, want %d", n, members)
		}
	}
}
