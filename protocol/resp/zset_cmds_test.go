package resp

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Command → reply tables for the sorted-set commands, run through go-redis
// in RESP2 and RESP3 like the kv tables; replies whose shape differs by
// protocol (scores, WITHSCORES pairs) give both. TestZSetRepliesRaw checks
// the bytes. Expected replies were taken from redis-server (7.0, with
// Redis 7.2's shortest-form doubles and ZRANK WITHSCORE).

// zWant is a reply that differs by protocol.
type zWant struct{ r2, r3 any }

// sc is a score reply: a bulk string in RESP2, a double in RESP3.
func sc(s string) zWant {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(err)
	}
	return zWant{s, f}
}

// ws is a WITHSCORES reply of member, score pairs: flat in RESP2, an array
// of [member, double] pairs in RESP3.
func ws(pairs ...string) zWant {
	flat := []any{}
	nested := []any{}
	for i := 0; i < len(pairs); i += 2 {
		f, _ := strconv.ParseFloat(pairs[i+1], 64)
		flat = append(flat, pairs[i], pairs[i+1])
		nested = append(nested, []any{pairs[i], f})
	}
	return zWant{flat, nested}
}

// flatScored is a flat member, score array in both protocols (ZPOPMIN
// without a count), with doubles in RESP3.
func flatScored(pairs ...string) zWant {
	flat := []any{}
	r3 := []any{}
	for i := 0; i < len(pairs); i += 2 {
		f, _ := strconv.ParseFloat(pairs[i+1], 64)
		flat = append(flat, pairs[i], pairs[i+1])
		r3 = append(r3, pairs[i], f)
	}
	return zWant{flat, r3}
}

// zRun runs cases like kvRun, resolving zWant replies by protocol.
func zRun(t *testing.T, cases []kvCase) { kvRunWith(t, cases, zCheck) }

// zCheck is kvCheck with zWant expectations resolved for proto.
func zCheck(got any, err error, want any, proto int) string {
	if w, ok := want.(zWant); ok {
		want = w.r2
		if proto == 3 {
			want = w.r3
		}
	}
	return kvCheck(got, err, want)
}

const (
	msgWrongTypeZ = "WRONGTYPE Operation against a key holding the wrong kind of value"
)

var zabc = kvDo(5, "ZADD", "z", "1", "a", "2", "b", "3", "c", "1.5", "d", "-1", "e")

func TestZAdd(t *testing.T) {
	zRun(t, []kvCase{
		{"add and count", []kvStep{zabc, kvDo(ws("e", "-1", "a", "1", "d", "1.5", "b", "2", "c", "3"), "ZRANGE", "z", "0", "-1", "WITHSCORES")}, ""},
		{"update not counted", []kvStep{zabc, kvDo(0, "ZADD", "z", "9", "a"), kvDo(sc("9"), "ZSCORE", "z", "a")}, ""},
		{"nx", []kvStep{zabc, kvDo(1, "ZADD", "z", "NX", "5", "a", "6", "f"), kvDo(sc("1"), "ZSCORE", "z", "a")}, ""},
		{"xx ch", []kvStep{zabc, kvDo(1, "ZADD", "z", "XX", "CH", "7", "a", "8", "g"), kvDo(kvNil{}, "ZSCORE", "z", "g")}, ""},
		{"gt ch", []kvStep{zabc, kvDo(1, "ZADD", "z", "GT", "CH", "0", "a", "9", "b"), kvDo(sc("1"), "ZSCORE", "z", "a")}, ""},
		{"lt ch", []kvStep{zabc, kvDo(1, "ZADD", "z", "LT", "CH", "0", "a", "9", "c"), kvDo(sc("0"), "ZSCORE", "z", "a")}, ""},
		{"gt adds new", []kvStep{zabc, kvDo(1, "ZADD", "z", "GT", "0", "new")}, ""},
		{"ch same score", []kvStep{zabc, kvDo(0, "ZADD", "z", "CH", "1", "a")}, ""},
		{"incr", []kvStep{zabc, kvDo(sc("3"), "ZADD", "z", "INCR", "2", "a")}, ""},
		{"incr nx existing", []kvStep{zabc, kvDo(kvNil{}, "ZADD", "z", "NX", "INCR", "2", "a")}, ""},
		{"incr xx missing", []kvStep{zabc, kvDo(kvNil{}, "ZADD", "z", "XX", "INCR", "2", "zz")}, ""},
		{"incr gt not greater", []kvStep{zabc, kvDo(kvNil{}, "ZADD", "z", "GT", "INCR", "-1", "a")}, ""},
		{"xx missing key", []kvStep{kvDo(0, "ZADD", "nokey", "XX", "1", "a"), kvDo(kvNil{}, "ZADD", "nokey", "XX", "INCR", "1", "a"), kvDo(0, "EXISTS", "nokey")}, ""},
		{"infinities", []kvStep{kvDo(3, "ZADD", "z", "inf", "i", "-inf", "j", "+inf", "k"), kvDo(ws("j", "-inf", "i", "inf", "k", "inf"), "ZRANGE", "z", "0", "-1", "WITHSCORES")}, ""},
		{"negative zero", []kvStep{kvDo(1, "ZADD", "z", "-0", "a"), kvDo(sc("0"), "ZSCORE", "z", "a")}, ""},
		{"score formats", []kvStep{
			kvDo(5, "ZADD", "f", "3.0000000000000004", "c", "1e20", "d", "123456789012345678", "g", "0x10", "h", "1.5", "i"),
			kvDo(ws("i", "1.5", "c", "3.0000000000000004", "h", "16", "g", "1.2345678901234568e+17", "d", "1e+20"), "ZRANGE", "f", "0", "-1", "WITHSCORES"),
		}, ""},
		{"xx and nx", []kvStep{kvDo(kvErr("ERR XX and NX options at the same time are not compatible"), "ZADD", "z", "NX", "XX", "1", "a")}, ""},
		{"gt and lt", []kvStep{kvDo(kvErr("ERR GT, LT, and/or NX options at the same time are not compatible"), "ZADD", "z", "GT", "LT", "1", "a")}, ""},
		{"gt and nx", []kvStep{kvDo(kvErr("ERR GT, LT, and/or NX options at the same time are not compatible"), "ZADD", "z", "NX", "GT", "1", "a")}, ""},
		{"incr pairs", []kvStep{kvDo(kvErr("ERR INCR option supports a single increment-element pair"), "ZADD", "z", "INCR", "1", "a", "2", "b")}, ""},
		{"odd pairs", []kvStep{kvDo(kvErr("ERR syntax error"), "ZADD", "z", "XX", "1", "a", "2")}, ""},
		{"flags only", []kvStep{kvDo(kvErr("ERR syntax error"), "ZADD", "z", "NX", "1")}, ""},
		{"nan", []kvStep{kvDo(kvErr("ERR value is not a valid float"), "ZADD", "z", "nan", "a")}, ""},
		{"not a float", []kvStep{kvDo(kvErr("ERR value is not a valid float"), "ZADD", "z", "1", "a", "x", "b"), kvDo(0, "EXISTS", "z")}, ""},
		{"bad floats", []kvStep{
			kvDo(kvErr("ERR value is not a valid float"), "ZADD", "z", "1e400", "a"),
			kvDo(kvErr("ERR value is not a valid float"), "ZADD", "z", "1e-400", "a"),
			kvDo(kvErr("ERR value is not a valid float"), "ZADD", "z", " 1", "a"),
			kvDo(kvErr("ERR value is not a valid float"), "ZADD", "z", "1 ", "a"),
			kvDo(kvErr("ERR value is not a valid float"), "ZADD", "z", "1_0", "a"),
			kvDo(kvErr("ERR value is not a valid float"), "ZADD", "z", "", "a"),
		}, ""},
		{"wrong arity", []kvStep{kvDo(kvErr("ERR wrong number of arguments for 'zadd' command"), "ZADD", "z", "1")}, ""},
		{"wrong type", []kvStep{kvDo("OK", "SET", "s", "x"), kvDo(kvErr(msgWrongTypeZ), "ZADD", "s", "1", "a")}, ""},
		{"ttl survives", []kvStep{zabc, kvDo(1, "EXPIRE", "z", "100"), kvDo(1, "ZADD", "z", "5", "new"), kvDo(0, "ZADD", "z", "6", "a"), kvDo(100, "TTL", "z")}, ""},
		{"type and encoding", []kvStep{zabc, kvDo("zset", "TYPE", "z"), kvDo("listpack", "OBJECT", "ENCODING", "z"),
			kvDo(1, "ZADD", "z", "1", strings.Repeat("x", 65)), kvDo("skiplist", "OBJECT", "ENCODING", "z")}, ""},
	})
}

func TestZIncrByScore(t *testing.T) {
	zRun(t, []kvCase{
		{"incrby new", []kvStep{kvDo(sc("1.5"), "ZINCRBY", "z", "1.5", "m"), kvDo(sc("1.5"), "ZSCORE", "z", "m")}, ""},
		{"incrby shortest form", []kvStep{kvDo(sc("1.5"), "ZINCRBY", "z", "1.5", "m"), kvDo(sc("1.6"), "ZINCRBY", "z", "0.1", "m")}, ""},
		{"incrby nan", []kvStep{kvDo(1, "ZADD", "z", "inf", "i"), kvDo(kvErr("ERR resulting score is not a number (NaN)"), "ZINCRBY", "z", "-inf", "i"), kvDo(sc("inf"), "ZSCORE", "z", "i")}, ""},
		{"incrby not float", []kvStep{kvDo(kvErr("ERR value is not a valid float"), "ZINCRBY", "z", "x", "m")}, ""},
		{"incrby wrong type", []kvStep{kvDo("OK", "SET", "s", "x"), kvDo(kvErr(msgWrongTypeZ), "ZINCRBY", "s", "1", "m")}, ""},
		{"score missing", []kvStep{zabc, kvDo(kvNil{}, "ZSCORE", "z", "nosuch"), kvDo(kvNil{}, "ZSCORE", "nokey", "a")}, ""},
		{"mscore", []kvStep{zabc, kvDo(zWant{[]any{"1", nil, "2"}, []any{1.0, nil, 2.0}}, "ZMSCORE", "z", "a", "nosuch", "b"), kvDo([]any{nil}, "ZMSCORE", "nokey", "a")}, ""},
		{"mscore arity", []kvStep{kvDo(kvErr("ERR wrong number of arguments for 'zmscore' command"), "ZMSCORE", "z")}, ""},
		{"card", []kvStep{zabc, kvDo(5, "ZCARD", "z"), kvDo(0, "ZCARD", "nokey")}, ""},
		{"score wrong type", []kvStep{kvDo("OK", "SET", "s", "x"), kvDo(kvErr(msgWrongTypeZ), "ZSCORE", "s", "a"), kvDo(kvErr(msgWrongTypeZ), "ZCARD", "s")}, ""},
	})
}

func TestZRange(t *testing.T) {
	syntax := kvErr("ERR syntax error")
	zRun(t, []kvCase{
		{"negative ranks", []kvStep{zabc, kvDo([]any{"d", "b", "c"}, "ZRANGE", "z", "-3", "-1")}, ""},
		{"out of range", []kvStep{zabc, kvDo([]any{"e", "a", "d", "b", "c"}, "ZRANGE", "z", "-100", "100"), kvDo([]any{}, "ZRANGE", "z", "5", "5"), kvDo([]any{}, "ZRANGE", "z", "2", "1")}, ""},
		{"rev", []kvStep{zabc, kvDo(ws("c", "3", "b", "2"), "ZRANGE", "z", "0", "1", "REV", "WITHSCORES")}, ""},
		{"zrevrange", []kvStep{zabc, kvDo([]any{"d", "a"}, "ZREVRANGE", "z", "-3", "-2")}, ""},
		{"byscore exclusive", []kvStep{zabc, kvDo(ws("d", "1.5", "b", "2", "c", "3"), "ZRANGE", "z", "(1", "3", "BYSCORE", "WITHSCORES")}, ""},
		{"byscore rev", []kvStep{zabc, kvDo([]any{"c", "b", "d"}, "ZRANGE", "z", "3", "(1", "BYSCORE", "REV")}, ""},
		{"byscore limit", []kvStep{zabc, kvDo([]any{"a", "d", "b"}, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "3")}, ""},
		{"byscore rev limit", []kvStep{zabc, kvDo([]any{"b", "d", "a"}, "ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "3")}, ""},
		{"limit negative count", []kvStep{zabc, kvDo([]any{"a", "d", "b", "c"}, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "-1")}, ""},
		{"limit negative offset", []kvStep{zabc, kvDo([]any{}, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2")}, ""},
		{"limit past end", []kvStep{zabc, kvDo([]any{}, "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "10", "1")}, ""},
		{"rangebyscore", []kvStep{zabc, kvDo(ws("b", "2", "c", "3"), "ZRANGEBYSCORE", "z", "(1.5", "+inf", "WITHSCORES", "LIMIT", "0", "2")}, ""},
		{"revrangebyscore", []kvStep{zabc, kvDo([]any{"c", "b", "d", "a"}, "ZREVRANGEBYSCORE", "z", "+inf", "1"), kvDo([]any{}, "ZREVRANGEBYSCORE", "z", "1", "+inf")}, ""},
		{"empty exclusive", []kvStep{zabc, kvDo([]any{}, "ZRANGEBYSCORE", "z", "(2", "(2"), kvDo([]any{"b"}, "ZRANGEBYSCORE", "z", "2", "2")}, ""},
		{"missing key", []kvStep{kvDo([]any{}, "ZRANGE", "nokey", "0", "-1")}, ""},
		{"bad score bound", []kvStep{zabc, kvDo(kvErr("ERR min or max is not a float"), "ZRANGEBYSCORE", "z", "a", "b"), kvDo(kvErr("ERR min or max is not a float"), "ZRANGEBYSCORE", "z", "(nan", "1")}, ""},
		{"bad rank", []kvStep{zabc, kvDo(kvErr("ERR value is not an integer or out of range"), "ZRANGE", "z", "a", "1"), kvDo(kvErr("ERR value is not an integer or out of range"), "ZRANGE", "z", "01", "1")}, ""},
		{"limit with rank", []kvStep{zabc, kvDo(kvErr("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"), "ZRANGE", "z", "0", "-1", "LIMIT", "0", "1")}, ""},
		{"withscores with bylex", []kvStep{zabc, kvDo(kvErr("ERR syntax error, WITHSCORES not supported in combination with BYLEX"), "ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES")}, ""},
		{"option errors", []kvStep{zabc,
			kvDo(syntax, "ZRANGE", "z", "0", "1", "REV", "REV"),
			kvDo(syntax, "ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"),
			kvDo(syntax, "ZRANGE", "z", "0", "1", "LIMIT", "1"),
			kvDo(syntax, "ZRANGEBYSCORE", "z", "0", "1", "REV"),
			kvDo(syntax, "ZRANGE", "z", "0", "1", "foo"),
			kvDo(kvErr("ERR value is not an integer or out of range"), "ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "1", "x"),
		}, ""},
		{"wrong type", []kvStep{kvDo("OK", "SET", "s", "x"), kvDo(kvErr(msgWrongTypeZ), "ZRANGE", "s", "0", "-1")}, ""},
		{"wrong arity", []kvStep{kvDo(kvErr("ERR wrong number of arguments for 'zrange' command"), "ZRANGE", "z", "1")}, ""},
	})
}

func TestZLex(t *testing.T) {
	lex := kvDo(6, "ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "f")
	bad := kvErr("ERR min or max not valid string range item")
	zRun(t, []kvCase{
		{"all", []kvStep{lex, kvDo([]any{"a", "b", "c", "d", "e", "f"}, "ZRANGEBYLEX", "l", "-", "+")}, ""},
		{"inclusive exclusive", []kvStep{lex, kvDo([]any{"b", "c", "d"}, "ZRANGEBYLEX", "l", "[b", "(e")}, ""},
		{"limit", []kvStep{lex, kvDo([]any{"d", "e"}, "ZRANGEBYLEX", "l", "(b", "[e", "LIMIT", "1", "2")}, ""},
		{"rev", []kvStep{lex, kvDo([]any{"e", "d", "c"}, "ZREVRANGEBYLEX", "l", "[e", "(b"), kvDo([]any{"e", "d", "c"}, "ZRANGE", "l", "[e", "(b", "BYLEX", "REV")}, ""},
		{"zrange bylex limit", []kvStep{lex, kvDo([]any{"c", "d"}, "ZRANGE", "l", "-", "+", "BYLEX", "LIMIT", "2", "2")}, ""},
		{"inverted", []kvStep{lex, kvDo([]any{}, "ZRANGEBYLEX", "l", "+", "-")}, ""},
		{"bad items", []kvStep{lex, kvDo(bad, "ZRANGEBYLEX", "l", "a", "b"), kvDo(bad, "ZRANGEBYLEX", "l", "-", "+x"), kvDo(bad, "ZLEXCOUNT", "l", "", "+")}, ""},
		{"lexcount", []kvStep{lex, kvDo(6, "ZLEXCOUNT", "l", "-", "+"), kvDo(2, "ZLEXCOUNT", "l", "(a", "[c"), kvDo(0, "ZLEXCOUNT", "l", "[c", "(c"), kvDo(0, "ZLEXCOUNT", "nokey", "-", "+")}, ""},
		{"remrangebylex", []kvStep{lex, kvDo(2, "ZREMRANGEBYLEX", "l", "[a", "(c"), kvDo([]any{"c", "d", "e", "f"}, "ZRANGE", "l", "0", "-1"), kvDo(bad, "ZREMRANGEBYLEX", "l", "a", "b")}, ""},
	})
}

func TestZCountRank(t *testing.T) {
	notFloat := kvErr("ERR min or max is not a float")
	zRun(t, []kvCase{
		{"count", []kvStep{zabc, kvDo(3, "ZCOUNT", "z", "(1", "3"), kvDo(5, "ZCOUNT", "z", "-inf", "+inf"), kvDo(0, "ZCOUNT", "z", "(3", "(3"), kvDo(1, "ZCOUNT", "z", "3", "3"), kvDo(0, "ZCOUNT", "nokey", "0", "1")}, ""},
		// zslParseRange is strtod without checks: "(" and "" are 0, leading space and overflow pass.
		{"lenient bounds", []kvStep{zabc, kvDo(4, "ZCOUNT", "z", "(", "+inf"), kvDo(4, "ZCOUNT", "z", "", "+inf"), kvDo(4, "ZCOUNT", "z", " 1", "5"), kvDo(0, "ZCOUNT", "z", "1e400", "+inf")}, ""},
		{"count errors", []kvStep{zabc, kvDo(notFloat, "ZCOUNT", "z", "x", "3"), kvDo(notFloat, "ZCOUNT", "z", "(nan", "3"), kvDo(notFloat, "ZCOUNT", "z", " ", "3")}, ""},
		{"rank", []kvStep{zabc, kvDo(1, "ZRANK", "z", "a"), kvDo(3, "ZREVRANK", "z", "a"), kvDo(kvNil{}, "ZRANK", "z", "nosuch"), kvDo(kvNil{}, "ZRANK", "nokey", "a")}, ""},
		{"rank withscore", []kvStep{zabc,
			kvDo(zWant{[]any{int64(2), "1.5"}, []any{int64(2), 1.5}}, "ZRANK", "z", "d", "WITHSCORE"),
			kvDo(zWant{[]any{int64(0), "3"}, []any{int64(0), 3.0}}, "ZREVRANK", "z", "c", "withscore"),
			kvDo(kvNil{}, "ZRANK", "z", "nosuch", "WITHSCORE"),
			kvDo(kvErr("ERR syntax error"), "ZRANK", "z", "a", "b"),
			kvDo(kvErr("ERR wrong number of arguments for 'zrank' command"), "ZRANK", "z", "a", "WITHSCORE", "x"),
		}, ""},
		{"wrong type", []kvStep{kvDo("OK", "SET", "s", "x"), kvDo(kvErr(msgWrongTypeZ), "ZCOUNT", "s", "0", "1"), kvDo(kvErr(msgWrongTypeZ), "ZRANK", "s", "a")}, ""},
	})
}

func TestZRem(t *testing.T) {
	zRun(t, []kvCase{
		{"rem", []kvStep{zabc, kvDo(2, "ZREM", "z", "a", "nosuch", "b"), kvDo(3, "ZCARD", "z"), kvDo(0, "ZREM", "nokey", "a")}, ""},
		{"rem last deletes", []kvStep{kvDo(1, "ZADD", "z", "1", "a"), kvDo(1, "ZREM", "z", "a"), kvDo(0, "EXISTS", "z"), kvDo("none", "TYPE", "z")}, ""},
		{"remrangebyrank", []kvStep{zabc, kvDo(1, "ZREMRANGEBYRANK", "z", "0", "0"), kvDo(1, "ZREMRANGEBYRANK", "z", "-1", "-1"), kvDo([]any{"a", "d", "b"}, "ZRANGE", "z", "0", "-1")}, ""},
		{"remrangebyrank all deletes", []kvStep{zabc, kvDo(5, "ZREMRANGEBYRANK", "z", "-100", "100"), kvDo(0, "EXISTS", "z")}, ""},
		{"remrangebyrank empty", []kvStep{zabc, kvDo(0, "ZREMRANGEBYRANK", "z", "3", "1"), kvDo(0, "ZREMRANGEBYRANK", "nokey", "0", "1")}, ""},
		{"remrangebyscore", []kvStep{zabc, kvDo(2, "ZREMRANGEBYSCORE", "z", "(1", "2"), kvDo([]any{"e", "a", "c"}, "ZRANGE", "z", "0", "-1")}, ""},
		{"remrange errors", []kvStep{zabc,
			kvDo(kvErr("ERR min or max is not a float"), "ZREMRANGEBYSCORE", "z", "x", "2"),
			kvDo(kvErr("ERR value is not an integer or out of range"), "ZREMRANGEBYRANK", "z", "a", "2"),
			kvDo(kvErr("ERR wrong number of arguments for 'zremrangebyrank' command"), "ZREMRANGEBYRANK", "z", "0"),
		}, ""},
		{"wrong type", []kvStep{kvDo("OK", "SET", "s", "x"), kvDo(kvErr(msgWrongTypeZ), "ZREM", "s", "a"), kvDo(kvErr(msgWrongTypeZ), "ZREMRANGEBYRANK", "s", "0", "1")}, ""},
	})
}

func TestZPop(t *testing.T) {
	zRun(t, []kvCase{
		{"popmin", []kvStep{zabc, kvDo(flatScored("e", "-1"), "ZPOPMIN", "z"), kvDo(4, "ZCARD", "z")}, ""},
		{"popmax count", []kvStep{zabc, kvDo(ws("c", "3", "b", "2"), "ZPOPMAX", "z", "2")}, ""},
		{"pop count past end deletes", []kvStep{kvDo(2, "ZADD", "z", "1", "a", "2", "b"), kvDo(ws("a", "1", "b", "2"), "ZPOPMIN", "z", "10"), kvDo(0, "EXISTS", "z")}, ""},
		{"pop zero", []kvStep{zabc, kvDo([]any{}, "ZPOPMIN", "z", "0")}, ""},
		{"pop missing", []kvStep{kvDo([]any{}, "ZPOPMIN", "nokey"), kvDo([]any{}, "ZPOPMAX", "nokey", "2")}, ""},
		{"pop errors", []kvStep{zabc,
			kvDo(kvErr("ERR value is out of range, must be positive"), "ZPOPMIN", "z", "-1"),
			kvDo(kvErr("ERR value is not an integer or out of range"), "ZPOPMIN", "z", "x"),
			kvDo(kvErr("ERR syntax error"), "ZPOPMIN", "z", "1", "2"),
		}, ""},
		{"wrong type", []kvStep{kvDo("OK", "SET", "s", "x"), kvDo(kvErr(msgWrongTypeZ), "ZPOPMIN", "s")}, ""},
	})
}

func TestZRandMember(t *testing.T) {
	one := kvDo(1, "ZADD", "z", "7", "only")
	zRun(t, []kvCase{
		{"single", []kvStep{one, kvDo("only", "ZRANDMEMBER", "z"), kvDo(kvNil{}, "ZRANDMEMBER", "nokey")}, ""},
		{"count", []kvStep{one, kvDo([]any{"only"}, "ZRANDMEMBER", "z", "5"), kvDo([]any{"only", "only", "only"}, "ZRANDMEMBER", "z", "-3")}, ""},
		{"withscores", []kvStep{one, kvDo(ws("only", "7", "only", "7"), "ZRANDMEMBER", "z", "-2", "WITHSCORES")}, ""},
		{"zero and missing", []kvStep{one, kvDo([]any{}, "ZRANDMEMBER", "z", "0"), kvDo([]any{}, "ZRANDMEMBER", "nokey", "3")}, ""},
		{"distinct", []kvStep{zabc, kvDo(kvAnyOrder{"a", "b", "c", "d", "e"}, "ZRANDMEMBER", "z", "100")}, ""},
		{"errors", []kvStep{one,
			kvDo(kvErr("ERR syntax error"), "ZRANDMEMBER", "z", "1", "2"),
			kvDo(kvErr("ERR value is not an integer or out of range"), "ZRANDMEMBER", "z", "x"),
			kvDo(kvErr("ERR value is out of range"), "ZRANDMEMBER", "z", "9223372036854775807", "WITHSCORES"),
		}, ""},
	})
}

func TestZStore(t *testing.T) {
	u := []kvStep{kvDo(3, "ZADD", "u1", "1", "a", "2", "b", "3", "c"), kvDo(3, "ZADD", "u2", "10", "b", "20", "c", "30", "d")}
	steps := func(s ...kvStep) []kvStep { return append(append([]kvStep{}, u...), s...) }
	zRun(t, []kvCase{
		{"union", steps(kvDo(4, "ZUNIONSTORE", "out", "2", "u1", "u2"), kvDo(ws("a", "1", "b", "12", "c", "23", "d", "30"), "ZRANGE", "out", "0", "-1", "WITHSCORES")), ""},
		{"union weights max", steps(kvDo(4, "ZUNIONSTORE", "out", "2", "u1", "u2", "WEIGHTS", "2", "0.5", "AGGREGATE", "MAX"), kvDo(ws("a", "2", "b", "5", "c", "10", "d", "15"), "ZRANGE", "out", "0", "-1", "WITHSCORES")), ""},
		{"inter min", steps(kvDo(2, "ZINTERSTORE", "out", "2", "u1", "u2", "AGGREGATE", "MIN"), kvDo(ws("b", "2", "c", "3"), "ZRANGE", "out", "0", "-1", "WITHSCORES")), ""},
		{"inter empty deletes", steps(kvDo("OK", "SET", "out", "x"), kvDo(0, "ZINTERSTORE", "out", "2", "u1", "nokey"), kvDo(0, "EXISTS", "out")), ""},
		{"destination is a source", steps(kvDo(2, "ZINTERSTORE", "u1", "2", "u1", "u2"), kvDo(ws("b", "12", "c", "23"), "ZRANGE", "u1", "0", "-1", "WITHSCORES")), ""},
		{"overwrites and drops ttl", steps(kvDo("OK", "SET", "out", "x", "EX", "100"), kvDo(3, "ZUNIONSTORE", "out", "1", "u1"), kvDo(-1, "TTL", "out"), kvDo("zset", "TYPE", "out")), ""},
		{"inf plus -inf is 0", []kvStep{kvDo(1, "ZADD", "i1", "inf", "a"), kvDo(1, "ZADD", "i2", "-inf", "a"),
			kvDo(1, "ZUNIONSTORE", "out", "2", "i1", "i2"), kvDo(sc("0"), "ZSCORE", "out", "a"),
			kvDo(1, "ZUNIONSTORE", "out", "2", "i1", "i2", "WEIGHTS", "0", "1"), kvDo(sc("-inf"), "ZSCORE", "out", "a")}, ""},
		{"errors", steps(
			kvDo(kvErr("ERR at least 1 input key is needed for 'zunionstore' command"), "ZUNIONSTORE", "out", "0", "u1"),
			kvDo(kvErr("ERR at least 1 input key is needed for 'zinterstore' command"), "ZINTERSTORE", "out", "-1", "u1"),
			kvDo(kvErr("ERR syntax error"), "ZUNIONSTORE", "out", "3", "u1", "u2"),
			kvDo(kvErr("ERR syntax error"), "ZUNIONSTORE", "out", "2", "u1", "u2", "WEIGHTS", "1"),
			kvDo(kvErr("ERR weight value is not a float"), "ZUNIONSTORE", "out", "2", "u1", "u2", "WEIGHTS", "1", "x"),
			kvDo(kvErr("ERR syntax error"), "ZUNIONSTORE", "out", "2", "u1", "u2", "AGGREGATE", "avg"),
			kvDo(kvErr("ERR syntax error"), "ZUNIONSTORE", "out", "2", "u1", "u2", "FOO"),
			kvDo(kvErr("ERR value is not an integer or out of range"), "ZUNIONSTORE", "out", "x", "u1"),
			kvDo("OK", "SET", "s", "x"),
			kvDo(kvErr(msgWrongTypeZ), "ZUNIONSTORE", "out", "2", "u1", "s", "FOO"),
			kvDo(0, "EXISTS", "out"),
		), ""},
	})
}

func TestZScan(t *testing.T) {
	syntax := kvErr("ERR syntax error")
	zRun(t, []kvCase{
		{"all", []kvStep{zabc, kvDo([]any{"0", []any{"e", "-1", "a", "1", "d", "1.5", "b", "2", "c", "3"}}, "ZSCAN", "z", "0")}, ""},
		{"match", []kvStep{zabc, kvDo([]any{"0", []any{"a", "1", "b", "2"}}, "ZSCAN", "z", "0", "MATCH", "[ab]", "COUNT", "1")}, ""},
		{"missing", []kvStep{kvDo([]any{"0", []any{}}, "ZSCAN", "nokey", "0", "FOO")}, ""},
		{"errors", []kvStep{zabc,
			kvDo(kvErr("ERR invalid cursor"), "ZSCAN", "z", "x"),
			kvDo(syntax, "ZSCAN", "z", "0", "COUNT", "0"),
			kvDo(syntax, "ZSCAN", "z", "0", "COUNT"),
			kvDo(kvErr("ERR value is not an integer or out of range"), "ZSCAN", "z", "0", "COUNT", "x"),
		}, ""},
		{"wrong type", []kvStep{kvDo("OK", "SET", "s", "x"), kvDo(kvErr(msgWrongTypeZ), "ZSCAN", "s", "0")}, ""},
	})
}

// TestZSetLarge checks skiplist-sized sets against an arithmetic model.
func TestZSetLarge(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.raw(t)
	const n = 1000
	args := []string{"ZADD", "big"}
	for i := range n {
		args = append(args, strconv.Itoa(i), fmt.Sprintf("m%04d", i))
	}
	r.expect(":"+strconv.Itoa(n)+"\r\n", args...)
	r.expect("$8\r\nskiplist\r\n", "OBJECT", "ENCODING", "big")
	r.expect(":500\r\n", "ZRANK", "big", "m0500")
	r.expect(":101\r\n", "ZCOUNT", "big", "100", "200")
	r.expect("*2\r\n$5\r\nm0998\r\n$5\r\nm0997\r\n", "ZREVRANGEBYSCORE", "big", "+inf", "-inf", "LIMIT", "1", "2")
	r.expect(":100\r\n", "ZREMRANGEBYSCORE", "big", "(899", "+inf")
	r.expect("*2\r\n$5\r\nm0899\r\n$3\r\n899\r\n", "ZPOPMAX", "big")
	r.expect(":899\r\n", "ZCARD", "big")
}

// TestZSetRepliesRaw checks the reply encodings byte for byte.
func TestZSetRepliesRaw(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		resp2, rsp3 string
	}{
		{"zscore", []string{"ZSCORE", "z", "d"}, "$3\r\n1.5\r\n", ",1.5\r\n"},
		{"zscore inf", []string{"ZSCORE", "z", "i"}, "$3\r\ninf\r\n", ",inf\r\n"},
		{"zscore missing", []string{"ZSCORE", "z", "x"}, "$-1\r\n", "_\r\n"},
		{"withscores", []string{"ZRANGE", "z", "0", "1", "WITHSCORES"}, "*4\r\n$1\r\ne\r\n$2\r\n-1\r\n$1\r\na\r\n$1\r\n1\r\n", "*2\r\n*2\r\n$1\r\ne\r\n,-1\r\n*2\r\n$1\r\na\r\n,1\r\n"},
		{"range plain", []string{"ZRANGE", "z", "0", "1"}, "*2\r\n$1\r\ne\r\n$1\r\na\r\n", "*2\r\n$1\r\ne\r\n$1\r\na\r\n"},
		{"zmscore", []string{"ZMSCORE", "z", "a", "x"}, "*2\r\n$1\r\n1\r\n$-1\r\n", "*2\r\n,1\r\n_\r\n"},
		{"zrank withscore", []string{"ZRANK", "z", "a", "WITHSCORE"}, "*2\r\n:1\r\n$1\r\n1\r\n", "*2\r\n:1\r\n,1\r\n"},
		{"zrank withscore missing", []string{"ZRANK", "z", "x", "WITHSCORE"}, "*-1\r\n", "_\r\n"},
		{"zrank missing", []string{"ZRANK", "z", "x"}, "$-1\r\n", "_\r\n"},
		{"zrandmember count withscores", []string{"ZRANDMEMBER", "one", "-1", "WITHSCORES"}, "*2\r\n$1\r\nm\r\n$1\r\n7\r\n", "*1\r\n*2\r\n$1\r\nm\r\n,7\r\n"},
		{"zscan scores are bulk", []string{"ZSCAN", "one", "0"}, "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nm\r\n$1\r\n7\r\n", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nm\r\n$1\r\n7\r\n"},
		{"zincrby", []string{"ZINCRBY", "one", "0.5", "m"}, "$3\r\n7.5\r\n", ",7.5\r\n"},
		{"zadd incr nop", []string{"ZADD", "z", "NX", "INCR", "1", "a"}, "$-1\r\n", "_\r\n"},
		{"zpopmin", []string{"ZPOPMIN", "z"}, "*2\r\n$1\r\ne\r\n$2\r\n-1\r\n", "*2\r\n$1\r\ne\r\n,-1\r\n"},
		{"zpopmin count", []string{"ZPOPMIN", "z", "1"}, "*2\r\n$1\r\ne\r\n$2\r\n-1\r\n", "*1\r\n*2\r\n$1\r\ne\r\n,-1\r\n"},
		{"zpopmin missing", []string{"ZPOPMIN", "x"}, "*0\r\n", "*0\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, proto := range []int{2, 3} {
				ts := startServer(t, nil)
				r := ts.raw(t)
				if proto == 3 {
					r.do("HELLO", "3")
					r.reply()
				}
				r.expect(":6\r\n", "ZADD", "z", "1", "a", "2", "b", "3", "c", "1.5", "d", "-1", "e", "inf", "i")
				r.expect(":1\r\n", "ZADD", "one", "7", "m")
				want := tc.resp2
				if proto == 3 {
					want = tc.rsp3
				}
				r.expect(want, tc.args...)
			}
		})
	}
}

// TestZSetExpiry checks that an expired sorted set reads as missing.
func TestZSetExpiry(t *testing.T) {
	zRun(t, []kvCase{
		{"expired", []kvStep{zabc, kvDo(1, "PEXPIRE", "z", "10"), kvTick(11 * time.Millisecond), kvDo(0, "ZCARD", "z"), kvDo(kvNil{}, "ZSCORE", "z", "a"), kvDo(0, "ZADD", "z", "XX", "1", "a", "1", "new")}, ""},
	})
}

// TestZSetGoRedisTyped decodes replies with go-redis's typed commands, whose
// parsers expect Redis's exact shapes in each protocol.
func TestZSetGoRedisTyped(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			ts := startServer(t, nil)
			c := ts.client(t, proto)
			ctx := t.Context()
			if n, err := c.ZAdd(ctx, "z", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2.5, Member: "b"}, redis.Z{Score: math.Inf(1), Member: "c"}).Result(); err != nil || n != 3 {
				t.Fatalf("ZADD = %d, %v", n, err)
			}
			want := []redis.Z{{Score: 1, Member: "a"}, {Score: 2.5, Member: "b"}, {Score: math.Inf(1), Member: "c"}}
			if got, err := c.ZRangeWithScores(ctx, "z", 0, -1).Result(); err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("ZRANGE WITHSCORES = %v, %v", got, err)
			}
			if got, err := c.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: "z", Start: "+inf", Stop: "(1", ByScore: true, Rev: true}).Result(); err != nil || !reflect.DeepEqual(got, []redis.Z{want[2], want[1]}) {
				t.Fatalf("ZRANGE BYSCORE REV = %v, %v", got, err)
			}
			if got, err := c.ZScore(ctx, "z", "b").Result(); err != nil || got != 2.5 {
				t.Fatalf("ZSCORE = %v, %v", got, err)
			}
			if got, err := c.ZRankWithScore(ctx, "z", "b").Result(); err != nil || got != (redis.RankScore{Rank: 1, Score: 2.5}) {
				t.Fatalf("ZRANK WITHSCORE = %v, %v", got, err)
			}
			if got, err := c.ZMScore(ctx, "z", "a", "x").Result(); err != nil || !reflect.DeepEqual(got, []float64{1, 0}) {
				t.Fatalf("ZMSCORE = %v, %v", got, err)
			}
			if got, err := c.ZRandMemberWithScores(ctx, "z", -2).Result(); err != nil || len(got) != 2 {
				t.Fatalf("ZRANDMEMBER WITHSCORES = %v, %v", got, err)
			}
			if got, err := c.ZPopMin(ctx, "z", 2).Result(); err != nil || !reflect.DeepEqual(got, want[:2]) {
				t.Fatalf("ZPOPMIN 2 = %v, %v", got, err)
			}
			if got, err := c.ZPopMax(ctx, "z").Result(); err != nil || !reflect.DeepEqual(got, want[2:]) {
				t.Fatalf("ZPOPMAX = %v, %v", got, err)
			}
			if n, err := c.Exists(ctx, "z").Result(); err != nil || n != 0 {
				t.Fatalf("EXISTS after popping all = %d, %v", n, err)
			}
		})
	}
}

// TestZStoreAtomic runs ZUNIONSTORE, with its destination among its
// sources, against concurrent ZADDs to the sources; under -race it checks
// the multi-key locking, and the final union sees both last writes.
func TestZStoreAtomic(t *testing.T) {
	ts := startServer(t, nil)
	writer, reader := ts.client(t, 2), ts.client(t, 2)
	ctx := t.Context()
	done := make(chan error, 1)
	go func() {
		for i := range 200 {
			if err := writer.ZAdd(ctx, "s1", redis.Z{Score: float64(i), Member: "m"}).Err(); err != nil {
				done <- err
				return
			}
			if err := writer.ZAdd(ctx, "s2", redis.Z{Score: float64(i), Member: "m"}).Err(); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 200 {
		if err := reader.ZUnionStore(ctx, "dst", &redis.ZStore{Keys: []string{"s1", "s2", "dst"}, Aggregate: "MAX"}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	n, err := reader.ZUnionStore(ctx, "dst", &redis.ZStore{Keys: []string{"s1", "s2"}}).Result()
	if err != nil || n != 1 {
		t.Fatalf("ZUNIONSTORE = %d, %v", n, err)
	}
	if s, err := reader.ZScore(ctx, "dst", "m").Result(); err != nil || s != 398 {
		t.Fatalf("final score %v, %v; want 398", s, err)
	}
}
