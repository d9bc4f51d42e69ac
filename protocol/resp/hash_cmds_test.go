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

// Command → reply tables for the hash commands, run through go-redis in
// RESP2 and RESP3 (kvRun, or hashRun where the reply's shape depends on the
// protocol); TestHashRepliesRaw checks those shapes byte for byte. The
// expected replies and error strings are those of redis-server.

// Expected replies whose go-redis form depends on the protocol:
type (
	// hMap is HGETALL's reply: a flat array of pairs in RESP2, a map in
	// RESP3.
	hMap map[string]string
	// hFields is an array of n fields of of, distinct unless repeats.
	hFields struct {
		n       int
		of      []string
		repeats bool
	}
	// hPairs is HRANDFIELD's WITHVALUES reply of n pairs of of: a flat
	// array in RESP2, an array of two-element arrays in RESP3.
	hPairs struct {
		n       int
		of      map[string]string
		repeats bool
	}
)

// hashRun is kvRun with the expected replies above.
func hashRun(t *testing.T, cases []kvCase) { kvRunWith(t, cases, hashCheck) }

// hashCheck is kvCheck with the expected replies above.
func hashCheck(got any, err error, want any, proto int) string {
	switch w := want.(type) {
	case hMap:
		if err != nil {
			return fmt.Sprintf("got error %v; want %q", err, map[string]string(w))
		}
		m := map[string]string{}
		switch g := got.(type) {
		case []any: // RESP2
			if proto != 2 || len(g)%2 != 0 {
				return fmt.Sprintf("got %#v in RESP%d; want a map", got, proto)
			}
			for i := 0; i < len(g); i += 2 {
				m[g[i].(string)] = g[i+1].(string)
			}
		case map[any]any: // RESP3
			if proto != 3 {
				return fmt.Sprintf("got a map %#v in RESP2", got)
			}
			for k, v := range g {
				m[k.(string)] = v.(string)
			}
		default:
			return fmt.Sprintf("got %#v; want a map", got)
		}
		if len(m) != len(w) {
			return fmt.Sprintf("got %q; want %q", m, map[string]string(w))
		}
		for k, v := range w {
			if m[k] != v {
				return fmt.Sprintf("got %q; want %q", m, map[string]string(w))
			}
		}
		return ""
	case hFields:
		arr, ok := got.([]any)
		if err != nil || !ok || len(arr) != w.n {
			return fmt.Sprintf("got %#v, %v; want %d fields of %q", got, err, w.n, w.of)
		}
		seen := map[string]bool{}
		for _, v := range arr {
			s, _ := v.(string)
			if !slices.Contains(w.of, s) || (!w.repeats && seen[s]) {
				return fmt.Sprintf("got %q; want %d distinct=%v fields of %q", arr, w.n, !w.repeats, w.of)
			}
			seen[s] = true
		}
		return ""
	case hPairs:
		arr, ok := got.([]any)
		if err != nil || !ok {
			return fmt.Sprintf("got %#v, %v; want %d pairs", got, err, w.n)
		}
		var pairs [][2]string
		if proto == 2 {
			if len(arr)%2 != 0 {
				return fmt.Sprintf("got %#v; want a flat array of pairs", got)
			}
			for i := 0; i < len(arr); i += 2 {
				pairs = append(pairs, [2]string{arr[i].(string), arr[i+1].(string)})
			}
		} else {
			for _, p := range arr {
				pa, ok := p.([]any)
				if !ok || len(pa) != 2 {
					return fmt.Sprintf("got %#v; want an array of two-element arrays", got)
				}
				pairs = append(pairs, [2]string{pa[0].(string), pa[1].(string)})
			}
		}
		if len(pairs) != w.n {
			return fmt.Sprintf("got %d pairs %q; want %d", len(pairs), pairs, w.n)
		}
		seen := map[string]bool{}
		for _, p := range pairs {
			v, ok := w.of[p[0]]
			if !ok || v != p[1] || (!w.repeats && seen[p[0]]) {
				return fmt.Sprintf("got %q; want %d distinct=%v pairs of %q", pairs, w.n, !w.repeats, w.of)
			}
			seen[p[0]] = true
		}
		return ""
	}
	return kvCheck(got, err, want)
}

const wrongType = kvErr("WRONGTYPE Operation against a key holding the wrong kind of value")

func hashArity(name string) kvErr {
	return kvErr("ERR wrong number of arguments for '" + name + "' command")
}

func TestHashSetGet(t *testing.T) {
	hset := kvDo(3, "HSET", "h", "a", "1", "b", "2", "c", "3")
	kvRun(t, []kvCase{
		{"hset counts new fields", []kvStep{hset, kvDo(1, "HSET", "h", "a", "10", "d", "4"), kvDo("10", "HGET", "h", "a"), kvDo(4, "HLEN", "h")}, ""},
		{"hset same field twice", []kvStep{kvDo(1, "HSET", "h", "a", "1", "a", "2"), kvDo("2", "HGET", "h", "a"), kvDo(1, "HLEN", "h")}, ""},
		{"hset update only", []kvStep{hset, kvDo(0, "HSET", "h", "a", "x"), kvDo("x", "HGET", "h", "a")}, ""},
		{"hset empty value", []kvStep{kvDo(1, "HSET", "h", "a", ""), kvDo("", "HGET", "h", "a"), kvDo(1, "EXISTS", "h")}, ""},
		{"hset lower case", []kvStep{kvDo(1, "hset", "h", "a", "1"), kvDo("1", "hget", "h", "a")}, ""},
		{"hmset", []kvStep{kvDo("OK", "HMSET", "h", "a", "1", "b", "2"), kvDo("OK", "HMSET", "h", "a", "9"), kvDo([]any{"9", "2"}, "HMGET", "h", "a", "b")}, ""},
		{"hsetnx", []kvStep{
			kvDo(1, "HSETNX", "h", "a", "1"), kvDo(0, "HSETNX", "h", "a", "2"), kvDo("1", "HGET", "h", "a"),
			kvDo(1, "HSETNX", "h", "b", "2"), kvDo(2, "HLEN", "h"),
		}, ""},
		{"hget missing field", []kvStep{hset, kvDo(kvNil{}, "HGET", "h", "zz")}, ""},
		{"hget missing key", []kvStep{kvDo(kvNil{}, "HGET", "nokey", "a")}, ""},
		{"hmget", []kvStep{hset, kvDo([]any{"1", kvNil{}, "3", "1"}, "HMGET", "h", "a", "zz", "c", "a")}, ""},
		{"hmget missing key", []kvStep{kvDo([]any{kvNil{}, kvNil{}}, "HMGET", "nokey", "a", "b")}, ""},
		{"hset arity", []kvStep{
			kvDo(hashArity("hset"), "HSET", "h"), kvDo(hashArity("hset"), "HSET", "h", "a"),
			kvDo(hashArity("hset"), "HSET", "h", "a", "1", "b"), kvDo(0, "EXISTS", "h"),
		}, ""},
		{"hmset arity", []kvStep{kvDo(hashArity("hmset"), "HMSET", "h", "a"), kvDo(hashArity("hmset"), "HMSET", "h", "a", "1", "b")}, ""},
		{"other arity", []kvStep{
			kvDo(hashArity("hsetnx"), "HSETNX", "h", "a"), kvDo(hashArity("hsetnx"), "HSETNX", "h", "a", "1", "2"),
			kvDo(hashArity("hget"), "HGET", "h"), kvDo(hashArity("hmget"), "HMGET", "h"),
			kvDo(hashArity("hdel"), "HDEL", "h"), kvDo(hashArity("hexists"), "HEXISTS", "h"),
			kvDo(hashArity("hlen"), "HLEN"), kvDo(hashArity("hlen"), "HLEN", "h", "x"),
			kvDo(hashArity("hstrlen"), "HSTRLEN", "h"), kvDo(hashArity("hkeys"), "HKEYS"),
			kvDo(hashArity("hvals"), "HVALS", "h", "x"), kvDo(hashArity("hgetall"), "HGETALL"),
			kvDo(hashArity("hincrby"), "HINCRBY", "h", "a"), kvDo(hashArity("hincrbyfloat"), "HINCRBYFLOAT", "h", "a"),
			kvDo(hashArity("hrandfield"), "HRANDFIELD"), kvDo(hashArity("hscan"), "HSCAN", "h"),
		}, ""},
	})
}

func TestHashDel(t *testing.T) {
	hset := kvDo(3, "HSET", "h", "a", "1", "b", "2", "c", "3")
	kvRun(t, []kvCase{
		{"hdel", []kvStep{hset, kvDo(2, "HDEL", "h", "a", "b", "zz"), kvDo(1, "HLEN", "h"), kvDo(kvNil{}, "HGET", "h", "a")}, ""},
		{"hdel duplicates count once", []kvStep{hset, kvDo(1, "HDEL", "h", "a", "a")}, ""},
		{"hdel missing field", []kvStep{hset, kvDo(0, "HDEL", "h", "zz"), kvDo(3, "HLEN", "h")}, ""},
		{"hdel missing key", []kvStep{kvDo(0, "HDEL", "nokey", "a"), kvDo(0, "EXISTS", "nokey")}, ""},
		{"hdel last field deletes the key", []kvStep{
			hset, kvDo(3, "HDEL", "h", "a", "b", "c"), kvDo(0, "EXISTS", "h"), kvDo("none", "TYPE", "h"),
			kvDo(0, "HLEN", "h"), kvDo(0, "DBSIZE"),
		}, ""},
		{"hdel one by one", []kvStep{
			kvDo(1, "HSET", "h", "a", "1"), kvDo(1, "HDEL", "h", "a"), kvDo(0, "EXISTS", "h"),
			kvDo(1, "HSET", "h", "a", "2"), kvDo("2", "HGET", "h", "a"), kvDo(-1, "TTL", "h"),
		}, ""},
	})
}

func TestHashRead(t *testing.T) {
	hset := kvDo(3, "HSET", "h", "a", "1", "b", "22", "c", "333")
	hashRun(t, []kvCase{
		{"hexists", []kvStep{hset, kvDo(1, "HEXISTS", "h", "a"), kvDo(0, "HEXISTS", "h", "zz"), kvDo(0, "HEXISTS", "nokey", "a")}, ""},
		{"hlen", []kvStep{hset, kvDo(3, "HLEN", "h"), kvDo(0, "HLEN", "nokey")}, ""},
		{"hstrlen", []kvStep{hset, kvDo(3, "HSTRLEN", "h", "c"), kvDo(0, "HSTRLEN", "h", "zz"), kvDo(0, "HSTRLEN", "nokey", "a")}, ""},
		{"hstrlen of a number", []kvStep{kvDo(-12, "HINCRBY", "h", "n", "-12"), kvDo(3, "HSTRLEN", "h", "n")}, ""},
		{"hkeys", []kvStep{hset, kvDo(kvAnyOrder{"a", "b", "c"}, "HKEYS", "h")}, ""},
		{"hvals", []kvStep{hset, kvDo(kvAnyOrder{"1", "22", "333"}, "HVALS", "h")}, ""},
		{"hgetall", []kvStep{hset, kvDo(hMap{"a": "1", "b": "22", "c": "333"}, "HGETALL", "h")}, ""},
		{"missing key", []kvStep{kvDo([]any{}, "HKEYS", "nokey"), kvDo([]any{}, "HVALS", "nokey"), kvDo(hMap{}, "HGETALL", "nokey")}, ""},
		{"expired key is missing", []kvStep{
			hset, kvDo(1, "PEXPIRE", "h", "10"), kvTick(11 * time.Millisecond),
			kvDo(0, "HLEN", "h"), kvDo(kvNil{}, "HGET", "h", "a"), kvDo(hMap{}, "HGETALL", "h"),
			kvDo(1, "HSET", "h", "x", "1"), kvDo(hMap{"x": "1"}, "HGETALL", "h"), kvDo(-1, "TTL", "h"),
		}, ""},
	})
}

func TestHashIncrBy(t *testing.T) {
	notInt := kvErr("ERR hash value is not an integer")
	overflow := kvErr("ERR increment or decrement would overflow")
	badIncr := kvErr("ERR value is not an integer or out of range")
	kvRun(t, []kvCase{
		{"missing key and field", []kvStep{kvDo(5, "HINCRBY", "h", "n", "5"), kvDo(2, "HINCRBY", "h", "n", "-3"), kvDo("2", "HGET", "h", "n")}, ""},
		{"existing number", []kvStep{kvDo(1, "HSET", "h", "n", "10"), kvDo(-90, "HINCRBY", "h", "n", "-100")}, ""},
		{"not an integer", []kvStep{
			kvDo(3, "HSET", "h", "s", "abc", "f", "1.5", "sp", " 1"),
			kvDo(notInt, "HINCRBY", "h", "s", "1"), kvDo(notInt, "HINCRBY", "h", "f", "1"), kvDo(notInt, "HINCRBY", "h", "sp", "1"),
			kvDo("abc", "HGET", "h", "s"),
		}, ""},
		{"empty value", []kvStep{kvDo(1, "HSET", "h", "e", ""), kvDo(notInt, "HINCRBY", "h", "e", "1")}, ""},
		{"increment not an integer", []kvStep{
			kvDo(badIncr, "HINCRBY", "h", "n", "x"), kvDo(badIncr, "HINCRBY", "h", "n", "1.5"),
			kvDo(badIncr, "HINCRBY", "h", "n", "9223372036854775808"), kvDo(badIncr, "HINCRBY", "h", "n", ""),
			kvDo(0, "EXISTS", "h"),
		}, ""},
		{"increment checked before the key type", []kvStep{kvDo("OK", "SET", "s", "1"), kvDo(badIncr, "HINCRBY", "s", "n", "x")}, ""},
		{"overflow", []kvStep{
			kvDo(1, "HSET", "h", "n", "9223372036854775807"), kvDo(overflow, "HINCRBY", "h", "n", "1"),
			kvDo("9223372036854775807", "HGET", "h", "n"),
			kvDo(-1, "HINCRBY", "h", "n", "-9223372036854775808"),
		}, ""},
		{"underflow", []kvStep{
			kvDo(-9223372036854775808, "HINCRBY", "h", "n", "-9223372036854775808"),
			kvDo(overflow, "HINCRBY", "h", "n", "-1"), kvDo(-9223372036854775808+1, "HINCRBY", "h", "n", "1"),
		}, ""},
	})
}

func TestHashIncrByFloat(t *testing.T) {
	notFloat := kvErr("ERR hash value is not a float")
	badIncr := kvErr("ERR value is not a valid float")
	kvRun(t, []kvCase{
		// The example of redis.io/commands/hincrbyfloat.
		{"docs example", []kvStep{
			kvDo(1, "HSET", "mykey", "field", "10.50"), kvDo("10.6", "HINCRBYFLOAT", "mykey", "field", "0.1"),
			kvDo("5.6", "HINCRBYFLOAT", "mykey", "field", "-5"),
			kvDo(0, "HSET", "mykey", "field", "5.0e3"), kvDo("5200", "HINCRBYFLOAT", "mykey", "field", "2.0e2"),
		}, ""},
		{"long double", []kvStep{kvDo("0.1", "HINCRBYFLOAT", "h", "f", "0.1"), kvDo("0.3", "HINCRBYFLOAT", "h", "f", "0.2"), kvDo("0.3", "HGET", "h", "f")}, ""},
		{"long double digits", []kvStep{
			kvDo("10.5", "HINCRBYFLOAT", "h", "f", "10.50"), kvDo("5010.5", "HINCRBYFLOAT", "h", "f", "5e3"),
			kvDo("5005.60000000000000009", "HINCRBYFLOAT", "h", "f", "-4.9"),
		}, ""},
		{"integer value", []kvStep{kvDo(5, "HINCRBY", "h", "n", "5"), kvDo("6.5", "HINCRBYFLOAT", "h", "n", "1.5"), kvDo(notInt(), "HINCRBY", "h", "n", "1")}, ""},
		{"not a float", []kvStep{
			kvDo(2, "HSET", "h", "s", "abc", "e", ""), kvDo(notFloat, "HINCRBYFLOAT", "h", "s", "1"),
			kvDo(notFloat, "HINCRBYFLOAT", "h", "e", "1"), kvDo("abc", "HGET", "h", "s"),
		}, ""},
		{"increment not a float", []kvStep{
			kvDo(badIncr, "HINCRBYFLOAT", "h", "f", "abc"), kvDo(badIncr, "HINCRBYFLOAT", "h", "f", "nan"),
			kvDo(badIncr, "HINCRBYFLOAT", "h", "f", ""), kvDo(badIncr, "HINCRBYFLOAT", "h", "f", " 1"),
			kvDo(0, "EXISTS", "h"),
		}, ""},
		{"increment infinite", []kvStep{
			kvDo(kvErr("ERR value is NaN or Infinity"), "HINCRBYFLOAT", "h", "f", "inf"),
			kvDo(kvErr("ERR value is NaN or Infinity"), "HINCRBYFLOAT", "h", "f", "-Infinity"),
		}, ""},
		{"result infinite", []kvStep{
			kvDo(1, "HSET", "h", "big", "1e4932"), kvDo(kvErr("ERR increment would produce NaN or Infinity"), "HINCRBYFLOAT", "h", "big", "1e4932"),
			kvDo("1e4932", "HGET", "h", "big"),
		}, ""},
		{"increment checked before the key type", []kvStep{kvDo("OK", "SET", "s", "1"), kvDo(badIncr, "HINCRBYFLOAT", "s", "f", "x")}, ""},
	})
}

// notInt is HINCRBY's error on a value that is not an integer.
func notInt() kvErr { return "ERR hash value is not an integer" }

func TestHashRandField(t *testing.T) {
	three := kvDo(3, "HSET", "h", "a", "1", "b", "2", "c", "3")
	fields := []string{"a", "b", "c"}
	pairs := map[string]string{"a": "1", "b": "2", "c": "3"}
	outOfRange := kvErr("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
	hashRun(t, []kvCase{
		{"single", []kvStep{three, kvDo(hFields{1, fields, false}, "HRANDFIELD", "h", "1")}, ""},
		{"no count", []kvStep{kvDo(1, "HSET", "h", "only", "v"), kvDo("only", "HRANDFIELD", "h")}, ""},
		{"missing key", []kvStep{
			kvDo(kvNil{}, "HRANDFIELD", "nokey"), kvDo([]any{}, "HRANDFIELD", "nokey", "5"),
			kvDo([]any{}, "HRANDFIELD", "nokey", "-5", "WITHVALUES"),
		}, ""},
		{"count 0", []kvStep{three, kvDo([]any{}, "HRANDFIELD", "h", "0"), kvDo([]any{}, "HRANDFIELD", "h", "0", "WITHVALUES")}, ""},
		{"positive count is distinct", []kvStep{
			three, kvDo(hFields{2, fields, false}, "HRANDFIELD", "h", "2"),
			kvDo(hFields{3, fields, false}, "HRANDFIELD", "h", "3"), kvDo(hFields{3, fields, false}, "HRANDFIELD", "h", "100"),
		}, ""},
		{"negative count repeats", []kvStep{three, kvDo(hFields{10, fields, true}, "HRANDFIELD", "h", "-10"), kvDo(hFields{1, fields, true}, "HRANDFIELD", "h", "-1")}, ""},
		{"withvalues", []kvStep{
			three, kvDo(hPairs{2, pairs, false}, "HRANDFIELD", "h", "2", "WITHVALUES"),
			kvDo(hPairs{3, pairs, false}, "HRANDFIELD", "h", "5", "withvalues"),
			kvDo(hPairs{7, pairs, true}, "HRANDFIELD", "h", "-7", "WithValues"),
		}, ""},
		{"errors", []kvStep{
			three,
			kvDo(kvErr("ERR value is not an integer or out of range"), "HRANDFIELD", "h", "x"),
			kvDo(kvErr("ERR value is not an integer or out of range"), "HRANDFIELD", "h", "1.5"),
			kvDo(kvErr("ERR value is not an integer or out of range"), "HRANDFIELD", "h", "x", "y", "z"),
			kvDo(kvErr("ERR syntax error"), "HRANDFIELD", "h", "1", "2", "3"),
			kvDo(kvErr("ERR syntax error"), "HRANDFIELD", "h", "1", "foo"),
			kvDo(kvErr("ERR syntax error"), "HRANDFIELD", "h", "1", "WITHVALUES", "x"),
			kvDo(outOfRange, "HRANDFIELD", "h", "-9223372036854775808"),
			kvDo(kvErr("ERR value is out of range"), "HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"),
			kvDo(kvErr("ERR value is out of range"), "HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"),
			kvDo(kvErr("ERR value is out of range"), "HRANDFIELD", "h", "9223372036854775807", "WITHVALUES"),
			kvDo(hPairs{3, pairs, false}, "HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"),
		}, ""},
		{"wrong type after arguments", []kvStep{
			kvDo("OK", "SET", "s", "v"), kvDo(wrongType, "HRANDFIELD", "s"), kvDo(wrongType, "HRANDFIELD", "s", "0"),
			kvDo(kvErr("ERR syntax error"), "HRANDFIELD", "s", "1", "foo"),
		}, ""},
	})
}

func TestHashScan(t *testing.T) {
	syntax := kvErr("ERR syntax error")
	hset := kvDo(3, "HSET", "h", "hello", "1", "hallo", "2", "other", "3")
	kvRun(t, []kvCase{
		{"small hash whole", []kvStep{hset, kvDo([]any{"0", []any{"hello", "1", "hallo", "2", "other", "3"}}, "HSCAN", "h", "0")}, ""},
		{"small hash ignores cursor and count", []kvStep{hset, kvDo([]any{"0", []any{"hello", "1", "hallo", "2", "other", "3"}}, "HSCAN", "h", "99", "COUNT", "1")}, ""},
		{"match", []kvStep{
			hset, kvDo([]any{"0", []any{"hello", "1", "hallo", "2"}}, "HSCAN", "h", "0", "MATCH", "h?llo"),
			kvDo([]any{"0", []any{"hello", "1"}}, "hscan", "h", "0", "match", "hel*", "count", "100"),
			kvDo([]any{"0", []any{}}, "HSCAN", "h", "0", "MATCH", "zz*"),
			kvDo([]any{"0", []any{"hello", "1", "hallo", "2", "other", "3"}}, "HSCAN", "h", "0", "MATCH", "*"),
		}, ""},
		{"missing key", []kvStep{kvDo([]any{"0", []any{}}, "HSCAN", "nokey", "0")}, ""},
		// Redis looks the key up before parsing the options.
		{"missing key ignores options", []kvStep{kvDo([]any{"0", []any{}}, "HSCAN", "nokey", "0", "COUNT", "0")}, ""},
		{"errors", []kvStep{
			hset,
			kvDo(kvErr("ERR invalid cursor"), "HSCAN", "h", "x"),
			kvDo(kvErr("ERR invalid cursor"), "HSCAN", "h", "-1"),
			kvDo(kvErr("ERR invalid cursor"), "HSCAN", "h", "18446744073709551616"),
			kvDo(kvErr("ERR invalid cursor"), "HSCAN", "nokey", "x"),
			kvDo(syntax, "HSCAN", "h", "0", "COUNT", "0"),
			kvDo(syntax, "HSCAN", "h", "0", "COUNT", "-1"),
			kvDo(kvErr("ERR value is not an integer or out of range"), "HSCAN", "h", "0", "COUNT", "x"),
			kvDo(syntax, "HSCAN", "h", "0", "COUNT"),
			kvDo(syntax, "HSCAN", "h", "0", "MATCH"),
			kvDo(syntax, "HSCAN", "h", "0", "TYPE", "string"),
			kvDo(syntax, "HSCAN", "h", "0", "FOO", "bar"),
		}, ""},
		{"wrong type before options", []kvStep{kvDo("OK", "SET", "s", "v"), kvDo(wrongType, "HSCAN", "s", "0", "FOO")}, ""},
	})
}

// hscanAll iterates HSCAN over key from cursor 0 until it returns 0,
// calling between after each call, and returns the fields and values
// reported, duplicates included.
func hscanAll(t *testing.T, c *redis.Client, key string, args []any, between func()) map[string][]string {
	t.Helper()
	all := map[string][]string{}
	cursor := "0"
	for i := 0; ; i++ {
		if i > 100_000 {
			t.Fatal("HSCAN did not return to cursor 0")
		}
		res, err := c.Do(t.Context(), append([]any{"HSCAN", key, cursor}, args...)...).Slice()
		if err != nil {
			t.Fatal(err)
		}
		cursor = res[0].(string)
		kv := res[1].([]any)
		for j := 0; j < len(kv); j += 2 {
			f := kv[j].(string)
			all[f] = append(all[f], kv[j+1].(string))
		}
		if cursor == "0" {
			return all
		}
		if between != nil {
			between()
		}
	}
}

func TestHashScanIteration(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			ts := startServer(t, nil)
			c := ts.client(t, proto)
			ctx := t.Context()
			args := []any{"HSET", "h"}
			var users int
			for i := range 1000 {
				f := "field:" + strconv.Itoa(i)
				if i%10 == 0 {
					f = "user:" + strconv.Itoa(i)
					users++
				}
				args = append(args, f, "v"+strconv.Itoa(i))
			}
			if err := c.Do(ctx, args...).Err(); err != nil {
				t.Fatal(err)
			}
			if enc := c.ObjectEncoding(ctx, "h").Val(); enc != "hashtable" {
				t.Fatalf("OBJECT ENCODING = %q, want hashtable", enc)
			}
			for _, tc := range []struct {
				name string
				args []any
				want int
			}{
				{"default count", nil, 1000},
				{"count 1", []any{"COUNT", "1"}, 1000},
				{"count 7", []any{"COUNT", "7"}, 1000},
				{"count 100000", []any{"COUNT", "100000"}, 1000},
				{"match", []any{"MATCH", "user:*", "COUNT", "50"}, users},
			} {
				t.Run(tc.name, func(t *testing.T) {
					got := hscanAll(t, c, "h", tc.args, nil)
					if len(got) != tc.want {
						t.Fatalf("got %d fields, want %d", len(got), tc.want)
					}
					for f, vs := range got {
						if len(vs) != 1 {
							t.Fatalf("field %q reported %d times", f, len(vs))
						}
						if !strings.HasPrefix(vs[0], "v") {
							t.Fatalf("field %q has value %q", f, vs[0])
						}
					}
				})
			}
			t.Run("under changes", func(t *testing.T) {
				// Every field present for the whole iteration is reported.
				n := 0
				got := hscanAll(t, c, "h", []any{"COUNT", "20"}, func() {
					c.HDel(ctx, "h", "field:"+strconv.Itoa(n*10+1))
					c.HSet(ctx, "h", "new:"+strconv.Itoa(n), "x")
					n++
				})
				for i := range 1000 {
					f := "field:" + strconv.Itoa(i)
					if i%10 == 0 {
						f = "user:" + strconv.Itoa(i)
					}
					if i%10 == 1 && (i-1)/10 < n {
						continue // deleted during the scan
					}
					if _, ok := got[f]; !ok {
						t.Fatalf("field %q not reported", f)
					}
				}
			})
		})
	}
}

func TestHashWrongType(t *testing.T) {
	str := kvDo("OK", "SET", "s", "v")
	hash := kvDo(1, "HSET", "h", "a", "1")
	kvRun(t, []kvCase{
		{"hash commands on a string", []kvStep{
			str,
			kvDo(wrongType, "HSET", "s", "a", "1"), kvDo(wrongType, "HMSET", "s", "a", "1"), kvDo(wrongType, "HSETNX", "s", "a", "1"),
			kvDo(wrongType, "HGET", "s", "a"), kvDo(wrongType, "HMGET", "s", "a"), kvDo(wrongType, "HDEL", "s", "a"),
			kvDo(wrongType, "HEXISTS", "s", "a"), kvDo(wrongType, "HLEN", "s"), kvDo(wrongType, "HSTRLEN", "s", "a"),
			kvDo(wrongType, "HKEYS", "s"), kvDo(wrongType, "HVALS", "s"), kvDo(wrongType, "HGETALL", "s"),
			kvDo(wrongType, "HINCRBY", "s", "a", "1"), kvDo(wrongType, "HINCRBYFLOAT", "s", "a", "1"),
			kvDo(wrongType, "HRANDFIELD", "s"), kvDo(wrongType, "HRANDFIELD", "s", "2", "WITHVALUES"), kvDo(wrongType, "HSCAN", "s", "0"),
			kvDo("v", "GET", "s"),
		}, ""},
		{"string commands on a hash", []kvStep{
			hash,
			kvDo(wrongType, "GET", "h"), kvDo(wrongType, "INCR", "h"), kvDo(wrongType, "APPEND", "h", "x"),
			kvDo(wrongType, "STRLEN", "h"), kvDo(wrongType, "GETRANGE", "h", "0", "1"), kvDo(wrongType, "INCRBYFLOAT", "h", "1"),
			kvDo("1", "HGET", "h", "a"),
		}, ""},
		{"set replaces a hash", []kvStep{hash, kvDo("OK", "SET", "h", "v"), kvDo("string", "TYPE", "h"), kvDo(wrongType, "HGET", "h", "a")}, ""},
	})
}

func TestHashKeyspace(t *testing.T) {
	long := strings.Repeat("x", 65)
	kvRun(t, []kvCase{
		{"type", []kvStep{kvDo(1, "HSET", "h", "a", "1"), kvDo("hash", "TYPE", "h")}, ""},
		{"ttl survives writes", []kvStep{
			kvDo(1, "HSET", "h", "a", "1"), kvDo(1, "EXPIRE", "h", "100"),
			kvDo(1, "HSET", "h", "b", "2"), kvDo(0, "HSET", "h", "a", "3"), kvDo("OK", "HMSET", "h", "c", "4"),
			kvDo(1, "HSETNX", "h", "d", "5"), kvDo(1, "HDEL", "h", "d"), kvDo(5, "HINCRBY", "h", "n", "5"),
			kvDo("1.5", "HINCRBYFLOAT", "h", "f", "1.5"), kvDo(100, "TTL", "h"),
		}, ""},
		{"expiry removes the hash", []kvStep{
			kvDo(1, "HSET", "h", "a", "1"), kvDo(1, "PEXPIRE", "h", "10"), kvTick(11 * time.Millisecond),
			kvDo(0, "EXISTS", "h"), kvDo(0, "HEXISTS", "h", "a"),
		}, ""},
		{"object encoding", []kvStep{
			kvDo(1, "HSET", "h", "a", "1"), kvDo("listpack", "OBJECT", "ENCODING", "h"),
			kvDo(1, "HSET", "h", "b", long), kvDo("hashtable", "OBJECT", "ENCODING", "h"),
			kvDo(1, "HSET", "g", long, "1"), kvDo("hashtable", "OBJECT", "ENCODING", "g"),
		}, ""},
		{"rename and copy", []kvStep{
			kvDo(2, "HSET", "h", "a", "1", "b", "2"), kvDo("OK", "RENAME", "h", "h2"), kvDo(0, "EXISTS", "h"),
			kvDo(1, "COPY", "h2", "h3"), kvDo(1, "HDEL", "h3", "a"),
			kvDo(2, "HLEN", "h2"), kvDo(1, "HLEN", "h3"), kvDo("hash", "TYPE", "h3"),
		}, ""},
	})
}

func TestHashEncodingThreshold(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t, 2)
	ctx := t.Context()
	for i := range 128 {
		c.HSet(ctx, "h", "f"+strconv.Itoa(i), "v")
	}
	if enc := c.ObjectEncoding(ctx, "h").Val(); enc != "listpack" {
		t.Fatalf("128 fields: OBJECT ENCODING = %q, want listpack", enc)
	}
	c.HSet(ctx, "h", "f128", "v")
	if enc := c.ObjectEncoding(ctx, "h").Val(); enc != "hashtable" {
		t.Fatalf("129 fields: OBJECT ENCODING = %q, want hashtable", enc)
	}
}

func TestHashMemoryUsage(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t, 2)
	ctx := t.Context()
	usage := func() int64 {
		t.Helper()
		n, err := c.MemoryUsage(ctx, "h").Result()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := c.MemoryUsage(ctx, "h").Err(); err != redis.Nil {
		t.Fatalf("MEMORY USAGE of a missing key: %v, want nil", err)
	}
	c.HSet(ctx, "h", "a", "1")
	one := usage()
	c.HSet(ctx, "h", "b", strings.Repeat("x", 10_000))
	big := usage()
	if big < one+10_000 {
		t.Fatalf("MEMORY USAGE %d → %d after a 10 KB value", one, big)
	}
	for i := range 100 {
		c.HSet(ctx, "h", "f"+strconv.Itoa(i), "v")
	}
	more := usage()
	if more <= big {
		t.Fatalf("MEMORY USAGE %d → %d after 100 fields", big, more)
	}
	c.HDel(ctx, "h", "b")
	if less := usage(); less > more-10_000 {
		t.Fatalf("MEMORY USAGE %d → %d after deleting the 10 KB value", more, less)
	}
}

func TestHashBinary(t *testing.T) {
	f, v := "f\x00\r\n\xff", "v\x00\r\n$-1\r\n\xfe"
	hashRun(t, []kvCase{
		{"binary field and value", []kvStep{
			kvDo(1, "HSET", "h", f, v), kvDo(v, "HGET", "h", f), kvDo(kvNil{}, "HGET", "h", "f"),
			kvDo(1, "HEXISTS", "h", f), kvDo(len(v), "HSTRLEN", "h", f),
			kvDo([]any{f}, "HKEYS", "h"), kvDo([]any{v}, "HVALS", "h"), kvDo(hMap{f: v}, "HGETALL", "h"),
			kvDo(f, "HRANDFIELD", "h"), kvDo(hPairs{1, map[string]string{f: v}, false}, "HRANDFIELD", "h", "1", "WITHVALUES"),
			kvDo([]any{"0", []any{f, v}}, "HSCAN", "h", "0"), kvDo([]any{"0", []any{f, v}}, "HSCAN", "h", "0", "MATCH", "f?*"),
			kvDo(1, "HDEL", "h", f), kvDo(0, "EXISTS", "h"),
		}, ""},
		{"empty field", []kvStep{kvDo(1, "HSET", "h", "", "empty"), kvDo("empty", "HGET", "h", ""), kvDo([]any{""}, "HKEYS", "h")}, ""},
		{"binary key", []kvStep{kvDo(1, "HSET", "\x00k\xff", "a", "1"), kvDo("hash", "TYPE", "\x00k\xff"), kvDo(0, "EXISTS", "\x00k")}, ""},
	})
}

func TestHashRepliesRaw(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		resp2, res string // replies in RESP2 and RESP3
	}{
		{"hget missing", []string{"HGET", "h", "zz"}, "$-1\r\n", "_\r\n"},
		{"hget", []string{"HGET", "h", "a"}, "$1\r\n1\r\n", "$1\r\n1\r\n"},
		{"hmget null element", []string{"HMGET", "h", "a", "zz"}, "*2\r\n$1\r\n1\r\n$-1\r\n", "*2\r\n$1\r\n1\r\n_\r\n"},
		{"hgetall", []string{"HGETALL", "h"}, "*2\r\n$1\r\na\r\n$1\r\n1\r\n", "%1\r\n$1\r\na\r\n$1\r\n1\r\n"},
		{"hgetall missing", []string{"HGETALL", "nokey"}, "*0\r\n", "%0\r\n"},
		{"hkeys", []string{"HKEYS", "h"}, "*1\r\n$1\r\na\r\n", "*1\r\n$1\r\na\r\n"},
		{"hrandfield withvalues", []string{"HRANDFIELD", "h", "1", "WITHVALUES"}, "*2\r\n$1\r\na\r\n$1\r\n1\r\n", "*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
		{"hrandfield withvalues repeats", []string{"HRANDFIELD", "h", "-2", "WITHVALUES"}, "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n1\r\n", "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
		{"hrandfield count", []string{"HRANDFIELD", "h", "-2"}, "*2\r\n$1\r\na\r\n$1\r\na\r\n", "*2\r\n$1\r\na\r\n$1\r\na\r\n"},
		{"hrandfield missing", []string{"HRANDFIELD", "nokey"}, "$-1\r\n", "_\r\n"},
		{"hrandfield missing count", []string{"HRANDFIELD", "nokey", "1"}, "*0\r\n", "*0\r\n"},
		{"hscan", []string{"HSCAN", "h", "0"}, "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
		{"hscan no match", []string{"HSCAN", "h", "0", "MATCH", "z"}, "*2\r\n$1\r\n0\r\n*0\r\n", "*2\r\n$1\r\n0\r\n*0\r\n"},
		{"hincrbyfloat", []string{"HINCRBYFLOAT", "h", "f", "1.5"}, "$3\r\n1.5\r\n", "$3\r\n1.5\r\n"},
		{"hincrby", []string{"HINCRBY", "h", "n", "-7"}, ":-7\r\n", ":-7\r\n"},
		{"hmset", []string{"HMSET", "h", "a", "1"}, "+OK\r\n", "+OK\r\n"},
		{"hdel missing", []string{"HDEL", "h", "zz"}, ":0\r\n", ":0\r\n"},
		{"hincrby error", []string{"HINCRBY", "h", "a", "x"}, "-ERR value is not an integer or out of range\r\n", "-ERR value is not an integer or out of range\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, nil)
			for _, proto := range []int{2, 3} {
				r := ts.raw(t)
				if proto == 3 {
					r.do("HELLO", "3")
					r.reply()
				}
				r.expect(":1\r\n", "HSET", "h", "a", "1")
				want := tc.resp2
				if proto == 3 {
					want = tc.res
				}
				r.expect(want, tc.args...)
				r.expect(":1\r\n", "DEL", "h")
			}
		})
	}
}
