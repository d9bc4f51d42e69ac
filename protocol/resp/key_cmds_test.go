package resp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Command → reply tables for the key commands; see kvRun in
// string_cmds_test.go.

func TestDelExists(t *testing.T) {
	mset := kvDo("OK", "MSET", "a", "1", "b", "2", "c", "3")
	kvRun(t, []kvCase{
		{"del", []kvStep{mset, kvDo(2, "DEL", "a", "b", "zz"), kvDo(0, "EXISTS", "a", "b"), kvDo(1, "EXISTS", "c")}, ""},
		{"del duplicates count once", []kvStep{mset, kvDo(1, "DEL", "a", "a", "a")}, ""},
		{"del missing", []kvStep{kvDo(0, "DEL", "zz")}, ""},
		{"del expired", []kvStep{kvDo("OK", "SET", "a", "1", "PX", "10"), kvTick(11 * time.Millisecond), kvDo(0, "DEL", "a")}, ""},
		{"unlink", []kvStep{mset, kvDo(2, "UNLINK", "a", "b", "b", "zz"), kvDo(1, "DBSIZE")}, ""},
		{"exists duplicates counted", []kvStep{mset, kvDo(3, "EXISTS", "a", "a", "zz", "b")}, ""},
		{"exists missing", []kvStep{kvDo(0, "EXISTS", "zz")}, ""},
		{"exists expired", []kvStep{
			kvDo("OK", "SET", "a", "1", "PX", "10"), kvDo(1, "EXISTS", "a"),
			kvTick(10 * time.Millisecond), kvDo(1, "EXISTS", "a"), // alive at its deadline, as in Redis
			kvTick(time.Millisecond), kvDo(0, "EXISTS", "a"),
		}, ""},
		{"type", []kvStep{mset, kvDo("string", "TYPE", "a"), kvDo("none", "TYPE", "zz")}, ""},
		{"type expired", []kvStep{kvDo("OK", "SET", "a", "1", "PX", "10"), kvTick(time.Second), kvDo("none", "TYPE", "a")}, ""},
		{"touch", []kvStep{mset, kvDo(3, "TOUCH", "a", "a", "zz", "c")}, ""},
		{"touch missing", []kvStep{kvDo(0, "TOUCH", "zz")}, ""},
	})
}

func TestKeysPattern(t *testing.T) {
	mset := kvDo("OK", "MSET", "hello", "1", "hallo", "1", "hxllo", "1", "hllo", "1", "heeeello", "1", "h*llo", "1", "h[a]llo", "1")
	kvRun(t, []kvCase{
		{"all", []kvStep{mset, kvDo(kvAnyOrder{"hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h[a]llo"}, "KEYS", "*")}, ""},
		{"empty store", []kvStep{kvDo([]any{}, "KEYS", "*")}, ""},
		{"question mark", []kvStep{mset, kvDo(kvAnyOrder{"hello", "hallo", "hxllo", "h*llo"}, "KEYS", "h?llo")}, ""},
		{"star", []kvStep{mset, kvDo(kvAnyOrder{"hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h[a]llo"}, "KEYS", "h*llo")}, ""},
		{"class", []kvStep{mset, kvDo(kvAnyOrder{"hello", "hallo"}, "KEYS", "h[ae]llo")}, ""},
		{"negated class", []kvStep{mset, kvDo(kvAnyOrder{"hallo", "hxllo", "h*llo"}, "KEYS", "h[^e]llo")}, ""},
		{"range", []kvStep{mset, kvDo(kvAnyOrder{"hallo"}, "KEYS", "h[a-b]llo")}, ""},
		{"escaped star", []kvStep{mset, kvDo(kvAnyOrder{"h*llo"}, "KEYS", `h\*llo`)}, ""},
		{"escaped bracket", []kvStep{mset, kvDo(kvAnyOrder{"h[a]llo"}, "KEYS", `h\[a\]llo`)}, ""},
		{"exact", []kvStep{mset, kvDo(kvAnyOrder{"hllo"}, "KEYS", "hllo")}, ""},
		{"no match", []kvStep{mset, kvDo(kvAnyOrder{}, "KEYS", "nomatch")}, ""},
		{"skips expired", []kvStep{kvDo("OK", "SET", "a", "1", "PX", "10"), kvDo("OK", "SET", "b", "1"), kvTick(time.Second), kvDo(kvAnyOrder{"b"}, "KEYS", "*")}, ""},
	})
}

func TestScanErrors(t *testing.T) {
	syntax := kvErr("ERR syntax error")
	kvRun(t, []kvCase{
		{"empty", []kvStep{kvDo([]any{"0", []any{}}, "SCAN", "0")}, ""},
		{"invalid cursor", []kvStep{kvDo(kvErr("ERR invalid cursor"), "SCAN", "abc")}, ""},
		// Redis 7.2's string2ull rejects negative cursors (7.0 wrapped them).
		{"negative cursor", []kvStep{kvDo(kvErr("ERR invalid cursor"), "SCAN", "-1")}, ""},
		{"cursor over uint64", []kvStep{kvDo(kvErr("ERR invalid cursor"), "SCAN", "18446744073709551616")}, ""},
		{"cursor past the end", []kvStep{kvDo("OK", "SET", "a", "1"), kvDo([]any{"0", []any{}}, "SCAN", "18446744073709551615")}, ""},
		{"count 0", []kvStep{kvDo(syntax, "SCAN", "0", "COUNT", "0")}, ""},
		{"count negative", []kvStep{kvDo(syntax, "SCAN", "0", "COUNT", "-1")}, ""},
		{"count not integer", []kvStep{kvDo(kvErr("ERR value is not an integer or out of range"), "SCAN", "0", "COUNT", "abc")}, ""},
		{"count without value", []kvStep{kvDo(syntax, "SCAN", "0", "COUNT")}, ""},
		{"match without value", []kvStep{kvDo(syntax, "SCAN", "0", "MATCH")}, ""},
		{"unknown option", []kvStep{kvDo(syntax, "SCAN", "0", "FOO", "bar")}, ""},
		{"cursor checked first", []kvStep{kvDo(kvErr("ERR invalid cursor"), "SCAN", "x", "FOO")}, ""},
		{"match type count", []kvStep{
			kvDo("OK", "MSET", "hello", "1", "hallo", "1", "other", "1"),
			kvDo([]any{"0", []any{"hello"}}, "SCAN", "0", "TYPE", "string", "COUNT", "1000", "MATCH", "hel*"),
			kvDo([]any{"0", []any{"hello"}}, "scan", "0", "type", "STRING", "count", "1000", "match", "hel*"),
			kvDo([]any{"0", []any{}}, "SCAN", "0", "TYPE", "list", "COUNT", "1000"),
			kvDo([]any{"0", []any{}}, "SCAN", "0", "TYPE", "nosuchtype", "COUNT", "1000"),
		}, ""},
	})
}

// scanAll iterates SCAN from cursor 0 until it returns 0 and returns every
// key reported, duplicates included.
func scanAll(t *testing.T, c *redis.Client, args ...any) []string {
	t.Helper()
	var all []string
	cursor := "0"
	for i := 0; ; i++ {
		if i > 100_000 {
			t.Fatal("SCAN did not return to cursor 0")
		}
		res, err := c.Do(t.Context(), append([]any{"SCAN", cursor}, args...)...).Slice()
		if err != nil {
			t.Fatal(err)
		}
		cursor = res[0].(string)
		for _, k := range res[1].([]any) {
			all = append(all, k.(string))
		}
		if cursor == "0" {
			return all
		}
	}
}

func TestScanIteration(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			ts := startServer(t, nil)
			c := ts.client(t, proto)
			ctx := t.Context()
			var want, users []string
			pipe := c.Pipeline()
			for i := range 1000 {
				k := "key:" + strconv.Itoa(i)
				if i%10 == 0 {
					k = "user:" + strconv.Itoa(i)
					users = append(users, k)
				}
				want = append(want, k)
				pipe.Set(ctx, k, "v", 0)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			slices.Sort(want)
			slices.Sort(users)
			for _, tc := range []struct {
				name string
				args []any
				want []string
			}{
				{"default count", nil, want},
				{"count 1", []any{"COUNT", "1"}, want},
				{"count 7", []any{"COUNT", "7"}, want},
				{"count 100000", []any{"COUNT", "100000"}, want},
				{"match", []any{"MATCH", "user:*", "COUNT", "50"}, users},
				{"match star", []any{"MATCH", "*"}, want},
				{"type string", []any{"TYPE", "string", "COUNT", "20"}, want},
				{"type list", []any{"TYPE", "list"}, nil},
			} {
				t.Run(tc.name, func(t *testing.T) {
					got := scanAll(t, c, tc.args...)
					slices.Sort(got)
					if !slices.Equal(got, tc.want) {
						t.Fatalf("got %d keys, want %d (each exactly once)", len(got), len(tc.want))
					}
				})
			}
			// go-redis's iterator agrees.
			var got []string
			it := c.Scan(ctx, 0, "user:*", 10).Iterator()
			for it.Next(ctx) {
				got = append(got, it.Val())
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, users) {
				t.Fatalf("iterator: got %d keys, want %d", len(got), len(users))
			}
		})
	}
}

// TestScanWhileWriting checks SCAN's guarantee: a key present for the whole
// iteration is returned, and no key is returned twice, whatever else is
// added or removed meanwhile.
func TestScanWhileWriting(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t, 2)
	ctx := t.Context()
	for i := range 500 {
		if err := c.Set(ctx, "stable:"+strconv.Itoa(i), "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.Set(ctx, "doomed:"+strconv.Itoa(i), "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	cursor := uint64(0)
	for round := 0; ; round++ {
		keys, next, err := c.Scan(ctx, cursor, "", 25).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			seen[k]++
		}
		// Churn: delete a doomed key, add a new one.
		c.Del(ctx, "doomed:"+strconv.Itoa(round))
		c.Set(ctx, "new:"+strconv.Itoa(round), "v", 0)
		cursor = next
		if cursor == 0 {
			break
		}
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("%q returned %d times", k, n)
		}
	}
	for i := range 500 {
		if seen["stable:"+strconv.Itoa(i)] != 1 {
			t.Errorf("stable:%d not returned", i)
		}
	}
}

func TestRandomKey(t *testing.T) {
	kvRun(t, []kvCase{
		{"empty", []kvStep{kvDo(kvNil{}, "RANDOMKEY")}, ""},
		{"one key", []kvStep{kvDo("OK", "SET", "only", "v"), kvDo("only", "RANDOMKEY")}, ""},
		{"skips expired", []kvStep{kvDo("OK", "SET", "a", "v", "PX", "1"), kvTick(time.Second), kvDo(kvNil{}, "RANDOMKEY")}, ""},
		{"binary key", []kvStep{kvDo("OK", "SET", "\x00\xff", "v"), kvDo("\x00\xff", "RANDOMKEY")}, ""},
	})
	ts := startServer(t, nil)
	c := ts.client(t, 2)
	ctx := t.Context()
	keys := map[string]bool{}
	for i := range 100 {
		k := "k" + strconv.Itoa(i)
		keys[k] = true
		c.Set(ctx, k, "v", 0)
	}
	distinct := map[string]bool{}
	for range 50 {
		k, err := c.RandomKey(ctx).Result()
		if err != nil || !keys[k] {
			t.Fatalf("RANDOMKEY = %q, %v; want one of the keys", k, err)
		}
		distinct[k] = true
	}
	if len(distinct) < 2 {
		t.Errorf("RANDOMKEY returned only %v in 50 calls", distinct)
	}
}

func TestRename(t *testing.T) {
	noKey := kvErr("ERR no such key")
	kvRun(t, []kvCase{
		{"rename", []kvStep{kvDo("OK", "SET", "a", "1"), kvDo("OK", "RENAME", "a", "b"), kvDo(0, "EXISTS", "a"), kvDo("1", "GET", "b")}, ""},
		{"rename overwrites", []kvStep{kvDo("OK", "MSET", "a", "1", "b", "2"), kvDo("OK", "RENAME", "a", "b"), kvDo("1", "GET", "b"), kvDo(1, "DBSIZE")}, ""},
		{"rename missing", []kvStep{kvDo(noKey, "RENAME", "a", "b"), kvDo(noKey, "RENAME", "a", "a")}, ""},
		{"rename expired", []kvStep{kvDo("OK", "SET", "a", "1", "PX", "5"), kvTick(6 * time.Millisecond), kvDo(noKey, "RENAME", "a", "b")}, ""},
		{"rename to itself", []kvStep{kvDo("OK", "SET", "a", "1"), kvDo("OK", "RENAME", "a", "a"), kvDo("1", "GET", "a")}, ""},
		{"rename keeps ttl", []kvStep{
			kvDo("OK", "SET", "a", "1", "EX", "100"), kvTick(time.Second), kvDo("OK", "RENAME", "a", "b"),
			kvDo(99, "TTL", "b"), kvTick(99 * time.Second), kvDo("1", "GET", "b"), // the same deadline: alive at it
			kvTick(time.Millisecond), kvDo(kvNil{}, "GET", "b"),
		}, ""},
		{"rename drops destination ttl", []kvStep{kvDo("OK", "SET", "a", "1"), kvDo("OK", "SET", "b", "2", "EX", "100"), kvDo("OK", "RENAME", "a", "b"), kvDo(-1, "TTL", "b")}, ""},
		{"renamenx", []kvStep{kvDo("OK", "SET", "a", "1"), kvDo(1, "RENAMENX", "a", "b"), kvDo("1", "GET", "b"), kvDo(0, "EXISTS", "a")}, ""},
		{"renamenx existing", []kvStep{kvDo("OK", "MSET", "a", "1", "b", "2"), kvDo(0, "RENAMENX", "a", "b"), kvDo([]any{"1", "2"}, "MGET", "a", "b")}, ""},
		{"renamenx missing", []kvStep{kvDo(noKey, "RENAMENX", "a", "b")}, ""},
		{"renamenx to itself", []kvStep{kvDo("OK", "SET", "a", "1"), kvDo(0, "RENAMENX", "a", "a")}, ""},
		{"renamenx over expired", []kvStep{kvDo("OK", "SET", "b", "2", "PX", "1"), kvDo("OK", "SET", "a", "1"), kvTick(time.Second), kvDo(1, "RENAMENX", "a", "b"), kvDo(-1, "TTL", "b")}, ""},
		{"renamenx keeps ttl", []kvStep{kvDo("OK", "SET", "a", "1", "PX", "5000"), kvDo(1, "RENAMENX", "a", "b"), kvDo(5000, "PTTL", "b")}, ""},
	})
}

func TestCopy(t *testing.T) {
	same := kvErr("ERR source and destination objects are the same")
	kvRun(t, []kvCase{
		{"copy", []kvStep{kvDo("OK", "SET", "a", "1"), kvDo(1, "COPY", "a", "b"), kvDo([]any{"1", "1"}, "MGET", "a", "b")}, ""},
		{"copy is independent", []kvStep{kvDo("OK", "SET", "a", "1"), kvDo(1, "COPY", "a", "b"), kvDo(2, "APPEND", "b", "x"), kvDo([]any{"1", "1x"}, "MGET", "a", "b")}, ""},
		{"copy missing", []kvStep{kvDo(0, "COPY", "a", "b"), kvDo(0, "EXISTS", "b")}, ""},
		{"copy existing destination", []kvStep{kvDo("OK", "MSET", "a", "1", "b", "2"), kvDo(0, "COPY", "a", "b"), kvDo("2", "GET", "b")}, ""},
		{"copy replace", []kvStep{kvDo("OK", "MSET", "a", "1", "b", "2"), kvDo(1, "COPY", "a", "b", "REPLACE"), kvDo("1", "GET", "b")}, ""},
		{"copy replace twice", []kvStep{kvDo("OK", "MSET", "a", "1", "b", "2"), kvDo(1, "COPY", "a", "b", "replace", "REPLACE")}, ""},
		{"copy keeps ttl", []kvStep{kvDo("OK", "SET", "a", "1", "EX", "100"), kvDo(1, "COPY", "a", "b"), kvDo(100, "TTL", "b")}, ""},
		{"copy replace drops destination ttl", []kvStep{kvDo("OK", "SET", "a", "1"), kvDo("OK", "SET", "b", "2", "EX", "100"), kvDo(1, "COPY", "a", "b", "REPLACE"), kvDo(-1, "TTL", "b")}, ""},
		{"copy db 0", []kvStep{kvDo("OK", "SET", "a", "1"), kvDo(1, "COPY", "a", "b", "DB", "0"), kvDo("1", "GET", "b")}, ""},
		{"copy db 1", []kvStep{kvDo("OK", "SET", "a", "1"), kvDo(kvErr("ERR DB index is out of range"), "COPY", "a", "b", "DB", "1"), kvDo(0, "EXISTS", "b")}, ""},
		{"copy db negative", []kvStep{kvDo(kvErr("ERR DB index is out of range"), "COPY", "a", "b", "DB", "-1")}, ""},
		{"copy db not integer", []kvStep{kvDo(kvErr("ERR value is not an integer or out of range"), "COPY", "a", "b", "DB", "x")}, ""},
		{"copy db over int32", []kvStep{kvDo(kvErr("ERR value is out of range, value must between -2147483648 and 2147483647"), "COPY", "a", "b", "DB", "99999999999")}, ""},
		{"copy db without value", []kvStep{kvDo(kvErr("ERR syntax error"), "COPY", "a", "b", "DB")}, ""},
		{"copy unknown option", []kvStep{kvDo(kvErr("ERR syntax error"), "COPY", "a", "b", "FOO")}, ""},
		{"copy to itself", []kvStep{kvDo("OK", "SET", "a", "1"), kvDo(same, "COPY", "a", "a"), kvDo(same, "COPY", "a", "a", "REPLACE")}, ""},
		{"copy missing to itself", []kvStep{kvDo(same, "COPY", "a", "a")}, ""},
	})
}

func TestExpire(t *testing.T) {
	nxErr := kvErr("ERR NX and XX, GT or LT options at the same time are not compatible")
	gtlt := kvErr("ERR GT and LT options at the same time are not compatible")
	set := kvDo("OK", "SET", "k", "v")
	kvRun(t, []kvCase{
		{"expire", []kvStep{set, kvDo(1, "EXPIRE", "k", "100"), kvDo(100, "TTL", "k"), kvDo(100_000, "PTTL", "k")}, ""},
		{"pexpire", []kvStep{set, kvDo(1, "PEXPIRE", "k", "1500"), kvDo(1500, "PTTL", "k"), kvDo(2, "TTL", "k")}, ""},
		{"expireat", []kvStep{set, kvDo(1, "EXPIREAT", "k", strconv.Itoa(kvNow+100)), kvDo(100, "TTL", "k"), kvDo(kvNow+100, "EXPIRETIME", "k")}, ""},
		{"pexpireat", []kvStep{set, kvDo(1, "PEXPIREAT", "k", strconv.Itoa(kvNow*1000+1234)), kvDo(1234, "PTTL", "k"), kvDo(kvNow*1000+1234, "PEXPIRETIME", "k")}, ""},
		{"missing key", []kvStep{
			kvDo(0, "EXPIRE", "k", "100"), kvDo(0, "PEXPIRE", "k", "100"), kvDo(0, "EXPIREAT", "k", "1"), kvDo(0, "PEXPIREAT", "k", "1"),
		}, ""},
		{"expires on the clock", []kvStep{
			set, kvDo(1, "PEXPIRE", "k", "250"), kvTick(249 * time.Millisecond), kvDo("v", "GET", "k"),
			kvTick(2 * time.Millisecond), kvDo(kvNil{}, "GET", "k"), kvDo(0, "EXISTS", "k"), kvDo(-2, "TTL", "k"),
		}, ""},
		{"negative deletes", []kvStep{set, kvDo(1, "EXPIRE", "k", "-1"), kvDo(0, "EXISTS", "k")}, ""},
		{"zero deletes", []kvStep{set, kvDo(1, "PEXPIRE", "k", "0"), kvDo(0, "EXISTS", "k")}, ""},
		{"past expireat deletes", []kvStep{set, kvDo(1, "EXPIREAT", "k", "1"), kvDo(0, "EXISTS", "k")}, ""},
		{"past pexpireat deletes", []kvStep{set, kvDo(1, "PEXPIREAT", "k", strconv.Itoa(kvNow*1000)), kvDo(-2, "TTL", "k")}, ""},
		{"int64 min pexpire deletes", []kvStep{set, kvDo(1, "PEXPIRE", "k", "-9223372036854775808"), kvDo(0, "EXISTS", "k")}, ""},
		{"int64 min pexpireat deletes", []kvStep{set, kvDo(1, "PEXPIREAT", "k", "-9223372036854775808"), kvDo(0, "EXISTS", "k")}, ""},
		{"pexpireat max", []kvStep{set, kvDo(1, "PEXPIREAT", "k", "9223372036854775807"), kvDo(9223372036854775807, "PEXPIRETIME", "k"), kvDo(9223372036854776, "EXPIRETIME", "k")}, ""},
		{"overflow", []kvStep{
			set,
			kvDo(kvErr("ERR invalid expire time in 'expire' command"), "EXPIRE", "k", "9223372036854775807"),
			kvDo(kvErr("ERR invalid expire time in 'expire' command"), "EXPIRE", "k", "9223372036854775"),
			kvDo(kvErr("ERR invalid expire time in 'expire' command"), "EXPIRE", "k", "-9223372036854775808"),
			kvDo(kvErr("ERR invalid expire time in 'pexpire' command"), "PEXPIRE", "k", "9223372036854775807"),
			kvDo(kvErr("ERR invalid expire time in 'expireat' command"), "EXPIREAT", "k", "9223372036854775807"),
			kvDo(kvErr("ERR invalid expire time in 'expireat' command"), "expireat", "k", "-9223372036854775808"),
			kvDo(-1, "TTL", "k"),
		}, ""},
		{"not integer", []kvStep{
			set, kvDo(kvErr("ERR value is not an integer or out of range"), "EXPIRE", "k", "abc"),
			kvDo(kvErr("ERR value is not an integer or out of range"), "PEXPIRE", "k", "1.5"),
		}, ""},
		{"unsupported option", []kvStep{set, kvDo(kvErr("ERR Unsupported option foo"), "EXPIRE", "k", "100", "foo")}, ""},
		{"incompatible options", []kvStep{
			set,
			kvDo(nxErr, "EXPIRE", "k", "100", "NX", "XX"), kvDo(nxErr, "EXPIRE", "k", "100", "NX", "GT"),
			kvDo(nxErr, "PEXPIRE", "k", "100", "LT", "NX"), kvDo(gtlt, "EXPIREAT", "k", "100", "GT", "LT"),
			kvDo(nxErr, "PEXPIREAT", "k", "100", "NX", "XX", "GT", "LT"),
			kvDo(-1, "TTL", "k"),
		}, ""},
		{"options checked before time", []kvStep{set, kvDo(nxErr, "EXPIRE", "k", "abc", "NX", "XX")}, ""},
		{"nx", []kvStep{set, kvDo(1, "EXPIRE", "k", "100", "NX"), kvDo(0, "EXPIRE", "k", "200", "nx"), kvDo(100, "TTL", "k")}, ""},
		{"xx", []kvStep{set, kvDo(0, "EXPIRE", "k", "100", "XX"), kvDo(-1, "TTL", "k"), kvDo(1, "EXPIRE", "k", "100"), kvDo(1, "EXPIRE", "k", "200", "XX"), kvDo(200, "TTL", "k")}, ""},
		{"gt", []kvStep{
			set, kvDo(0, "EXPIRE", "k", "100", "GT"), kvDo(-1, "TTL", "k"),
			kvDo(1, "EXPIRE", "k", "100"), kvDo(0, "EXPIRE", "k", "50", "GT"), kvDo(0, "EXPIRE", "k", "100", "GT"),
			kvDo(1, "EXPIRE", "k", "200", "GT"), kvDo(200, "TTL", "k"),
		}, ""},
		{"lt", []kvStep{
			set, kvDo(1, "EXPIRE", "k", "100", "LT"), kvDo(100, "TTL", "k"),
			kvDo(0, "EXPIRE", "k", "200", "LT"), kvDo(0, "EXPIRE", "k", "100", "LT"),
			kvDo(1, "EXPIRE", "k", "50", "LT"), kvDo(50, "TTL", "k"),
		}, ""},
		{"lt negative deletes", []kvStep{set, kvDo(1, "EXPIRE", "k", "100"), kvDo(1, "EXPIRE", "k", "-1", "LT"), kvDo(0, "EXISTS", "k")}, ""},
		{"gt negative keeps", []kvStep{set, kvDo(1, "EXPIRE", "k", "100"), kvDo(0, "EXPIRE", "k", "-1", "GT"), kvDo(100, "TTL", "k")}, ""},
		{"xx gt", []kvStep{
			set, kvDo(0, "EXPIRE", "k", "100", "XX", "GT"), kvDo(1, "EXPIRE", "k", "100"),
			kvDo(0, "EXPIRE", "k", "50", "XX", "GT"), kvDo(100, "TTL", "k"), kvDo(1, "EXPIRE", "k", "150", "GT", "XX"), kvDo(150, "TTL", "k"),
		}, ""},
		{"xx lt", []kvStep{
			set, kvDo(0, "EXPIRE", "k", "100", "XX", "LT"), kvDo(-1, "TTL", "k"), kvDo(1, "EXPIRE", "k", "100"),
			kvDo(0, "EXPIRE", "k", "200", "XX", "LT"), kvDo(100, "TTL", "k"), kvDo(1, "EXPIRE", "k", "50", "LT", "XX"), kvDo(50, "TTL", "k"),
		}, ""},
		{"expire overrides set ttl", []kvStep{kvDo("OK", "SET", "k", "v", "EX", "10"), kvDo(1, "EXPIRE", "k", "1000"), kvDo(1000, "TTL", "k")}, ""},
	})
}

func TestTTL(t *testing.T) {
	kvRun(t, []kvCase{
		{"missing", []kvStep{kvDo(-2, "TTL", "k"), kvDo(-2, "PTTL", "k"), kvDo(-2, "EXPIRETIME", "k"), kvDo(-2, "PEXPIRETIME", "k")}, ""},
		{"no expiry", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo(-1, "TTL", "k"), kvDo(-1, "PTTL", "k"), kvDo(-1, "EXPIRETIME", "k"), kvDo(-1, "PEXPIRETIME", "k")}, ""},
		{"counts down", []kvStep{
			kvDo("OK", "SET", "k", "v", "EX", "10"), kvTick(2500 * time.Millisecond),
			kvDo(7500, "PTTL", "k"), kvDo(8, "TTL", "k"), kvTick(time.Millisecond), kvDo(7, "TTL", "k"),
			kvDo(kvNow+10, "EXPIRETIME", "k"), kvDo(kvNow*1000+10_000, "PEXPIRETIME", "k"),
		}, ""},
		{"ttl rounds", []kvStep{kvDo("OK", "SET", "k", "v", "PX", "1499"), kvDo(1, "TTL", "k"), kvDo(1, "PEXPIRE", "k", "1500"), kvDo(2, "TTL", "k")}, ""},
		{"expiretime rounds", []kvStep{
			kvDo("OK", "SET", "k", "v", "PXAT", "32503680000999"), kvDo(32503680001, "EXPIRETIME", "k"),
			kvDo(1, "PEXPIREAT", "k", "32503680000499"), kvDo(32503680000, "EXPIRETIME", "k"),
		}, ""},
		{"expired", []kvStep{kvDo("OK", "SET", "k", "v", "PX", "10"), kvTick(time.Second), kvDo(-2, "TTL", "k"), kvDo(-2, "PEXPIRETIME", "k")}, ""},
		{"persist", []kvStep{
			kvDo("OK", "SET", "k", "v", "EX", "10"), kvDo(1, "PERSIST", "k"), kvDo(-1, "TTL", "k"),
			kvDo(0, "PERSIST", "k"), kvTick(time.Minute), kvDo("v", "GET", "k"),
		}, ""},
		{"persist missing", []kvStep{kvDo(0, "PERSIST", "k")}, ""},
		{"persist expired", []kvStep{kvDo("OK", "SET", "k", "v", "PX", "10"), kvTick(11 * time.Millisecond), kvDo(0, "PERSIST", "k"), kvDo(0, "EXISTS", "k")}, ""},
	})
}

func TestObject(t *testing.T) {
	unknown := kvErr("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
	kvRun(t, []kvCase{
		{"missing key", []kvStep{
			kvDo(kvNil{}, "OBJECT", "ENCODING", "k"), kvDo(kvNil{}, "OBJECT", "FREQ", "k"),
			kvDo(kvNil{}, "OBJECT", "IDLETIME", "k"), kvDo(kvNil{}, "OBJECT", "REFCOUNT", "k"),
		}, ""},
		{"expired key", []kvStep{kvDo("OK", "SET", "k", "1", "PX", "1"), kvTick(time.Second), kvDo(kvNil{}, "OBJECT", "ENCODING", "k")}, ""},
		{"encoding int", []kvStep{
			kvDo("OK", "SET", "k", "12345"), kvDo("int", "OBJECT", "ENCODING", "k"),
			kvDo("OK", "SET", "k", "-9223372036854775808"), kvDo("int", "object", "encoding", "k"),
		}, ""},
		{"encoding embstr", []kvStep{
			kvDo("OK", "SET", "k", "hello"), kvDo("embstr", "OBJECT", "ENCODING", "k"),
			kvDo("OK", "SET", "k", "12345678901234567890"), kvDo("embstr", "OBJECT", "ENCODING", "k"),
			kvDo("OK", "SET", "k", "01"), kvDo("embstr", "OBJECT", "ENCODING", "k"),
			kvDo("OK", "SET", "k", ""), kvDo("embstr", "OBJECT", "ENCODING", "k"),
			kvDo("OK", "SET", "k", strings.Repeat("a", 44)), kvDo("embstr", "OBJECT", "ENCODING", "k"),
		}, ""},
		{"encoding raw", []kvStep{kvDo("OK", "SET", "k", strings.Repeat("a", 45)), kvDo("raw", "OBJECT", "ENCODING", "k")}, ""},
		{"refcount", []kvStep{kvDo("OK", "SET", "k", "hello"), kvDo(1, "OBJECT", "REFCOUNT", "k")}, ""},
		{"idletime", []kvStep{
			kvDo("OK", "SET", "k", "v"), kvDo(0, "OBJECT", "IDLETIME", "k"),
			kvTick(10500 * time.Millisecond), kvDo(10, "OBJECT", "IDLETIME", "k"),
			// Neither OBJECT, EXISTS, TYPE nor TTL counts as an access.
			kvDo(1, "EXISTS", "k"), kvDo("string", "TYPE", "k"), kvDo(-1, "TTL", "k"), kvDo(10, "OBJECT", "IDLETIME", "k"),
			kvDo("v", "GET", "k"), kvDo(0, "OBJECT", "IDLETIME", "k"),
			kvTick(5 * time.Second), kvDo(1, "TOUCH", "k"), kvDo(0, "OBJECT", "IDLETIME", "k"),
		}, ""},
		{"freq", []kvStep{
			// A new key starts at LFU_INIT_VAL (5); the first access always counts.
			kvDo("OK", "SET", "k", "v"), kvDo(5, "OBJECT", "FREQ", "k"), kvDo("v", "GET", "k"), kvDo(6, "OBJECT", "FREQ", "k"),
			// Decay: one step per idle minute (lfu-decay-time 1).
			kvTick(2 * time.Minute), kvDo(4, "OBJECT", "FREQ", "k"),
		}, ""},
		{"unknown subcommand", []kvStep{kvDo(unknown, "OBJECT", "foo", "k"), kvDo(kvErr("ERR unknown subcommand 'FOO'. Try OBJECT HELP."), "OBJECT", "FOO")}, ""},
		{"arity", []kvStep{
			kvDo(kvErr("ERR wrong number of arguments for 'object' command"), "OBJECT"),
			kvDo(kvErr("ERR wrong number of arguments for 'object|encoding' command"), "OBJECT", "ENCODING"),
			kvDo(kvErr("ERR wrong number of arguments for 'object|freq' command"), "OBJECT", "FREQ", "a", "b"),
			kvDo(kvErr("ERR wrong number of arguments for 'object|help' command"), "OBJECT", "HELP", "x"),
		}, ""},
	})
	ts := startServer(t, nil)
	help, err := ts.client(t, 2).Do(t.Context(), "OBJECT", "HELP").StringSlice()
	if err != nil || len(help) < 5 || !strings.Contains(strings.Join(help, "\n"), "ENCODING <key>") {
		t.Errorf("OBJECT HELP = %q, %v", help, err)
	}
}

// TestKeyArity checks every key command's wrong-arity error.
func TestKeyArity(t *testing.T) {
	cases := [][]any{
		{"del"}, {"unlink"}, {"exists"}, {"type"}, {"type", "a", "b"}, {"touch"}, {"keys"}, {"keys", "a", "b"},
		{"scan"}, {"randomkey", "a"}, {"rename", "a"}, {"rename", "a", "b", "c"}, {"renamenx", "a"}, {"copy", "a"},
		{"expire", "a"}, {"pexpire", "a"}, {"expireat", "a"}, {"pexpireat", "a"},
		{"ttl"}, {"ttl", "a", "b"}, {"pttl"}, {"expiretime"}, {"pexpiretime", "a", "b"}, {"persist"}, {"persist", "a", "b"},
		{"object"},
	}
	ts := startServer(t, nil)
	c := ts.client(t, 2)
	for _, args := range cases {
		t.Run(fmt.Sprint(args...), func(t *testing.T) {
			want := kvErr("ERR wrong number of arguments for '" + args[0].(string) + "' command")
			kvSteps(t, ts, c, []kvStep{kvDo(want, args...)})
			args[0] = strings.ToUpper(args[0].(string))
			kvSteps(t, ts, c, []kvStep{kvDo(want, args...)})
		})
	}
}

// kvInfo returns the integer field of an INFO section.
func kvInfo(t *testing.T, c *redis.Client, section, field string) int64 {
	t.Helper()
	info, err := c.Info(t.Context(), section).Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("INFO %s: %q", field, line)
			}
			return n
		}
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return 0
}

// TestExpiryOnClock checks lazy and active expiry with the fake clock:
// expired keys vanish from every command at once, leave DBSIZE when the
// active cycle runs, and are counted in INFO's expired_keys.
func TestExpiryOnClock(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			ts := startServer(t, nil)
			c := ts.client(t, proto)
			ctx := t.Context()
			const volatile, persistent = 30, 20
			for i := range volatile {
				if err := c.Set(ctx, "v"+strconv.Itoa(i), "x", 10*time.Second).Err(); err != nil {
					t.Fatal(err)
				}
			}
			for i := range persistent {
				if err := c.Set(ctx, "p"+strconv.Itoa(i), "x", 0).Err(); err != nil {
					t.Fatal(err)
				}
			}
			if n := kvInfo(t, c, "stats", "expired_keys"); n != 0 {
				t.Fatalf("expired_keys = %d before any deadline", n)
			}
			ts.clock.Advance(10*time.Second - time.Millisecond)
			ts.node.ExpireCycle(0, time.Second)
			if n, err := c.DBSize(ctx).Result(); err != nil || n != volatile+persistent {
				t.Fatalf("DBSIZE before the deadline = %d, %v", n, err)
			}
			if v, err := c.Get(ctx, "v0").Result(); err != nil || v != "x" {
				t.Fatalf("GET v0 before the deadline = %q, %v", v, err)
			}

			ts.clock.Advance(2 * time.Millisecond)
			// Every read sees the keys gone at once, before any deletion.
			if _, err := c.Get(ctx, "v0").Result(); err != redis.Nil {
				t.Fatalf("GET v0 after the deadline: %v, want nil", err)
			}
			if n, _ := c.Exists(ctx, "v1", "v2", "p0").Result(); n != 1 {
				t.Fatalf("EXISTS v1 v2 p0 = %d, want 1", n)
			}
			if d, _ := c.TTL(ctx, "v3").Result(); d != -2 {
				t.Fatalf("TTL v3 = %v, want -2", d)
			}
			if v, _ := c.MGet(ctx, "v4", "p1").Result(); v[0] != nil || v[1] != "x" {
				t.Fatalf("MGET v4 p1 = %#v", v)
			}
			if keys, _ := c.Keys(ctx, "v*").Result(); len(keys) != 0 {
				t.Fatalf("KEYS v* = %q", keys)
			}

			ts.node.ExpireCycle(0, time.Second)
			if n, err := c.DBSize(ctx).Result(); err != nil || n != persistent {
				t.Fatalf("DBSIZE after the expiry cycle = %d, %v; want %d", n, err, persistent)
			}
			if n := kvInfo(t, c, "stats", "expired_keys"); n != volatile {
				t.Fatalf("expired_keys = %d, want %d", n, volatile)
			}
			if got := scanAll(t, c, "MATCH", "v*"); len(got) != 0 {
				t.Fatalf("SCAN MATCH v* = %q", got)
			}
		})
	}
}
