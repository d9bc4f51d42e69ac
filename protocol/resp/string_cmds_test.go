package resp

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Command → reply tables for the string commands. Each case runs on a fresh
// server (so the fake clock starts at the same instant) once per protocol,
// through go-redis; the byte-exact encodings where RESP2 and RESP3 differ
// are checked on raw connections in TestStringRepliesRaw.

// kvStep is one command of a case and the reply it must get. A step with a
// non-zero tick advances the fake clock instead of sending a command.
type kvStep struct {
	args []any
	want any
	tick time.Duration
}

// Expected replies besides plain values (string, int, []any):
type (
	kvErr      string   // an error reply, message as sent ("ERR syntax error")
	kvNil      struct{} // a null reply (redis.Nil)
	kvAnyOrder []string // an array of these strings, in any order
)

// kvDo expects want for the command args.
func kvDo(want any, args ...any) kvStep { return kvStep{args: args, want: want} }

// kvTick advances the fake clock by d.
func kvTick(d time.Duration) kvStep { return kvStep{tick: d} }

// kvCase is a named sequence of steps.
type kvCase struct {
	name  string
	steps []kvStep
	skip  string // non-empty: a known bug, reported rather than failed
}

// kvChecker compares a go-redis result with a step's expectation for a
// client of protocol proto, and describes a mismatch.
type kvChecker func(got any, err error, want any, proto int) string

// kvRun runs every case on a fresh server in RESP2 and in RESP3.
func kvRun(t *testing.T, cases []kvCase) { kvRunWith(t, cases, kvCheckAny) }

// kvRunWith is kvRun with its own reply check.
func kvRunWith(t *testing.T, cases []kvCase, check kvChecker) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip != "" {
				t.Skip(tc.skip)
			}
			t.Parallel()
			for _, proto := range []int{2, 3} {
				t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
					ts := startServer(t, nil)
					kvStepsWith(t, ts, ts.client(t, proto), proto, tc.steps, check)
				})
			}
		})
	}
}

// kvSteps runs steps in order on c.
func kvSteps(t *testing.T, ts *testServer, c *redis.Client, steps []kvStep) {
	t.Helper()
	kvStepsWith(t, ts, c, 0, steps, kvCheckAny)
}

// kvStepsWith runs steps in order on c, a client of protocol proto.
func kvStepsWith(t *testing.T, ts *testServer, c *redis.Client, proto int, steps []kvStep, check kvChecker) {
	t.Helper()
	for i, s := range steps {
		if s.tick != 0 {
			ts.clock.Advance(s.tick)
			continue
		}
		got, err := c.Do(t.Context(), s.args...).Result()
		if msg := check(got, err, s.want, proto); msg != "" {
			t.Fatalf("step %d %v: %s", i, s.args, msg)
		}
	}
}

// kvCheckAny is kvCheck for any protocol.
func kvCheckAny(got any, err error, want any, _ int) string { return kvCheck(got, err, want) }

// kvCheck compares a go-redis result with want and describes a mismatch.
func kvCheck(got any, err error, want any) string {
	switch w := want.(type) {
	case kvErr:
		if err == nil || err.Error() != string(w) {
			return fmt.Sprintf("got %#v, %v; want error %q", got, err, string(w))
		}
		return ""
	case kvNil:
		if !errors.Is(err, redis.Nil) {
			return fmt.Sprintf("got %#v, %v; want nil", got, err)
		}
		return ""
	}
	if err != nil {
		return fmt.Sprintf("got error %v; want %#v", err, want)
	}
	if w, ok := want.(kvAnyOrder); ok {
		arr, ok := got.([]any)
		if !ok {
			return fmt.Sprintf("got %#v; want an array of %q", got, []string(w))
		}
		var gs []string
		for _, v := range arr {
			s, ok := v.(string)
			if !ok {
				return fmt.Sprintf("got %#v; want an array of %q", got, []string(w))
			}
			gs = append(gs, s)
		}
		slices.Sort(gs)
		ws := slices.Sorted(slices.Values(w))
		if !slices.Equal(gs, ws) {
			return fmt.Sprintf("got %q; want %q in any order", gs, ws)
		}
		return ""
	}
	if !reflect.DeepEqual(got, kvNormalize(want)) {
		return fmt.Sprintf("got %#v; want %#v", got, kvNormalize(want))
	}
	return ""
}

// kvNormalize turns the untyped ints of a table into the int64 go-redis
// returns, and nil array elements into the nil it returns for null elements.
func kvNormalize(v any) any {
	switch v := v.(type) {
	case int:
		return int64(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = kvNormalize(e)
		}
		return out
	case kvNil:
		return nil
	}
	return v
}

// kvNow is the fake clock's start in Unix seconds; TestFakeClockStart
// checks it against newFakeClock.
const kvNow = 1_700_000_000

func TestFakeClockStart(t *testing.T) {
	if got := newFakeClock().Now(); got.Unix() != kvNow || got.UnixMilli() != kvNow*1000 {
		t.Fatalf("fake clock starts at %d ms; the tables assume %d s", got.UnixMilli(), kvNow)
	}
}

func TestGetSet(t *testing.T) {
	kvRun(t, []kvCase{
		{"get missing", []kvStep{kvDo(kvNil{}, "GET", "k")}, ""},
		{"set then get", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo("v", "GET", "k")}, ""},
		{"set overwrites", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo("OK", "SET", "k", "w"), kvDo("w", "GET", "k")}, ""},
		{"options ignore case", []kvStep{kvDo("OK", "set", "k", "v", "nx", "ex", "10"), kvDo(10, "TTL", "k")}, ""},
		{"nx missing", []kvStep{kvDo("OK", "SET", "k", "v", "NX"), kvDo("v", "GET", "k")}, ""},
		{"nx existing", []kvStep{
			kvDo("OK", "SET", "k", "v"), kvDo(kvNil{}, "SET", "k", "w", "NX"), kvDo("v", "GET", "k"),
		}, ""},
		{"nx twice", []kvStep{kvDo("OK", "SET", "k", "v", "NX", "NX")}, ""},
		{"xx missing", []kvStep{kvDo(kvNil{}, "SET", "k", "v", "XX"), kvDo(kvNil{}, "GET", "k")}, ""},
		{"xx existing", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo("OK", "SET", "k", "w", "XX"), kvDo("w", "GET", "k")}, ""},
		{"get option existing", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo("v", "SET", "k", "w", "GET"), kvDo("w", "GET", "k")}, ""},
		{"get option missing", []kvStep{kvDo(kvNil{}, "SET", "k", "w", "GET"), kvDo("w", "GET", "k")}, ""},
		{"get option twice", []kvStep{kvDo(kvNil{}, "SET", "k", "w", "GET", "GET")}, ""},
		{"nx get existing", []kvStep{
			kvDo("OK", "SET", "k", "v"), kvDo("v", "SET", "k", "w", "NX", "GET"), kvDo("v", "GET", "k"),
		}, ""},
		{"nx get missing", []kvStep{kvDo(kvNil{}, "SET", "k", "w", "NX", "GET"), kvDo("w", "GET", "k")}, ""},
		{"xx get missing", []kvStep{kvDo(kvNil{}, "SET", "k", "w", "XX", "GET"), kvDo(kvNil{}, "GET", "k")}, ""},
		{"xx get existing", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo("v", "SET", "k", "w", "XX", "GET"), kvDo("w", "GET", "k")}, ""},
		{"nx xx", []kvStep{kvDo(kvErr("ERR syntax error"), "SET", "k", "v", "NX", "XX")}, ""},
		{"xx nx", []kvStep{kvDo(kvErr("ERR syntax error"), "SET", "k", "v", "XX", "NX")}, ""},
		{"unknown option", []kvStep{kvDo(kvErr("ERR syntax error"), "SET", "k", "v", "FOO"), kvDo(kvNil{}, "GET", "k")}, ""},
		{"ex without value", []kvStep{kvDo(kvErr("ERR syntax error"), "SET", "k", "v", "EX")}, ""},
		{"ex and px", []kvStep{kvDo(kvErr("ERR syntax error"), "SET", "k", "v", "EX", "10", "PX", "100")}, ""},
		{"ex and exat", []kvStep{kvDo(kvErr("ERR syntax error"), "SET", "k", "v", "EX", "10", "EXAT", "100")}, ""},
		{"px and pxat", []kvStep{kvDo(kvErr("ERR syntax error"), "SET", "k", "v", "PX", "10", "PXAT", "100")}, ""},
		{"ex and keepttl", []kvStep{kvDo(kvErr("ERR syntax error"), "SET", "k", "v", "EX", "10", "KEEPTTL")}, ""},
		{"keepttl and px", []kvStep{kvDo(kvErr("ERR syntax error"), "SET", "k", "v", "KEEPTTL", "PX", "10")}, ""},
		{"keepttl twice", []kvStep{kvDo("OK", "SET", "k", "v", "KEEPTTL", "KEEPTTL")}, ""},
		{"ex twice last wins", []kvStep{kvDo("OK", "SET", "k", "v", "EX", "10", "EX", "20"), kvDo(20, "TTL", "k")}, ""},
		{"syntax checked before expire value", []kvStep{kvDo(kvErr("ERR syntax error"), "SET", "k", "v", "EX", "0", "NX", "XX")}, ""},
		{"persist is not a set option", []kvStep{kvDo(kvErr("ERR syntax error"), "SET", "k", "v", "PERSIST")}, ""},
		{"empty key and value", []kvStep{kvDo("OK", "SET", "", ""), kvDo("", "GET", ""), kvDo(1, "EXISTS", "")}, ""},
	})
}

func TestSetExpiry(t *testing.T) {
	invalid := kvErr("ERR invalid expire time in 'set' command")
	notInt := kvErr("ERR value is not an integer or out of range")
	now := strconv.Itoa(kvNow)
	nowMs := strconv.Itoa(kvNow * 1000)
	kvRun(t, []kvCase{
		{"ex", []kvStep{kvDo("OK", "SET", "k", "v", "EX", "10"), kvDo(10, "TTL", "k"), kvDo(10000, "PTTL", "k")}, ""},
		{"px", []kvStep{kvDo("OK", "SET", "k", "v", "PX", "1500"), kvDo(1500, "PTTL", "k"), kvDo(2, "TTL", "k")}, ""},
		{"exat", []kvStep{kvDo("OK", "SET", "k", "v", "EXAT", strconv.Itoa(kvNow+100)), kvDo(100, "TTL", "k"), kvDo(kvNow+100, "EXPIRETIME", "k")}, ""},
		{"pxat", []kvStep{kvDo("OK", "SET", "k", "v", "PXAT", strconv.Itoa(kvNow*1000+2500)), kvDo(2500, "PTTL", "k"), kvDo(kvNow*1000+2500, "PEXPIRETIME", "k")}, ""},
		{"exat in the past", []kvStep{kvDo("OK", "SET", "k", "v", "EXAT", "1"), kvDo(kvNil{}, "GET", "k"), kvDo(0, "EXISTS", "k")}, ""},
		// Unlike EXPIRE and GETEX, Redis's SET stores a deadline that is not in
		// the future; the key then lives until the clock passes it.
		{"pxat now", []kvStep{
			kvDo("OK", "SET", "k", "v", "PXAT", nowMs), kvDo("v", "GET", "k"), kvDo(0, "PTTL", "k"),
			kvTick(time.Millisecond), kvDo(kvNil{}, "GET", "k"),
		}, ""},
		{"exat now", []kvStep{kvDo("OK", "SET", "k", "v", "EXAT", now), kvDo(0, "TTL", "k"), kvTick(time.Millisecond), kvDo(-2, "TTL", "k")}, ""},
		{"ex expires on the clock", []kvStep{
			kvDo("OK", "SET", "k", "v", "EX", "10"),
			kvTick(9999 * time.Millisecond), kvDo("v", "GET", "k"), kvDo(1, "PTTL", "k"),
			kvTick(2 * time.Millisecond), kvDo(kvNil{}, "GET", "k"), kvDo(-2, "TTL", "k"),
		}, ""},
		{"alive at its deadline", []kvStep{
			kvDo("OK", "SET", "k", "v", "PX", "100"), kvTick(100 * time.Millisecond), kvDo("v", "GET", "k"), kvDo(0, "PTTL", "k"),
			kvTick(time.Millisecond), kvDo(kvNil{}, "GET", "k"), kvDo(-2, "PTTL", "k"),
		}, ""},
		{"plain set clears ttl", []kvStep{kvDo("OK", "SET", "k", "v", "EX", "10"), kvDo("OK", "SET", "k", "w"), kvDo(-1, "TTL", "k")}, ""},
		{"keepttl keeps ttl", []kvStep{
			kvDo("OK", "SET", "k", "v", "EX", "100"), kvTick(time.Second),
			kvDo("OK", "SET", "k", "w", "KEEPTTL"), kvDo(99, "TTL", "k"), kvDo("w", "GET", "k"),
		}, ""},
		{"keepttl on missing key", []kvStep{kvDo("OK", "SET", "k", "v", "KEEPTTL"), kvDo(-1, "TTL", "k")}, ""},
		{"xx with ex on missing", []kvStep{kvDo(kvNil{}, "SET", "k", "v", "XX", "EX", "10"), kvDo(-2, "TTL", "k")}, ""},
		{"nx with px", []kvStep{kvDo("OK", "SET", "k", "v", "NX", "PX", "500"), kvDo(500, "PTTL", "k")}, ""},
		{"ex 0", []kvStep{kvDo(invalid, "SET", "k", "v", "EX", "0"), kvDo(kvNil{}, "GET", "k")}, ""},
		{"ex negative", []kvStep{kvDo(invalid, "SET", "k", "v", "EX", "-1")}, ""},
		{"px 0", []kvStep{kvDo(invalid, "SET", "k", "v", "PX", "0")}, ""},
		{"exat 0", []kvStep{kvDo(invalid, "SET", "k", "v", "EXAT", "0")}, ""},
		{"pxat negative", []kvStep{kvDo(invalid, "SET", "k", "v", "PXAT", "-5")}, ""},
		{"ex overflows ms", []kvStep{kvDo(invalid, "SET", "k", "v", "EX", "9223372036854775807")}, ""},
		{"ex overflows with now", []kvStep{kvDo(invalid, "SET", "k", "v", "EX", "9223372036854775")}, ""},
		{"px overflows with now", []kvStep{kvDo(invalid, "SET", "k", "v", "PX", "9223372036854775807")}, ""},
		{"exat overflows ms", []kvStep{kvDo(invalid, "SET", "k", "v", "EXAT", "9223372036854775807")}, ""},
		{"pxat max", []kvStep{kvDo("OK", "SET", "k", "v", "PXAT", "9223372036854775807"), kvDo(9223372036854775807, "PEXPIRETIME", "k")}, ""},
		{"ex not integer", []kvStep{kvDo(notInt, "SET", "k", "v", "EX", "abc")}, ""},
		{"ex float", []kvStep{kvDo(notInt, "SET", "k", "v", "EX", "1.5")}, ""},
		{"ex too large for int64", []kvStep{kvDo(notInt, "SET", "k", "v", "EX", "99999999999999999999")}, ""},
	})
}

func TestSetNXAndSetEX(t *testing.T) {
	kvRun(t, []kvCase{
		{"setnx missing", []kvStep{kvDo(1, "SETNX", "k", "v"), kvDo("v", "GET", "k")}, ""},
		{"setnx existing", []kvStep{kvDo(1, "SETNX", "k", "v"), kvDo(0, "SETNX", "k", "w"), kvDo("v", "GET", "k")}, ""},
		{"setnx expired", []kvStep{kvDo("OK", "SET", "k", "v", "PX", "10"), kvTick(time.Second), kvDo(1, "SETNX", "k", "w"), kvDo(-1, "TTL", "k")}, ""},
		{"setex", []kvStep{kvDo("OK", "SETEX", "k", "100", "v"), kvDo("v", "GET", "k"), kvDo(100, "TTL", "k")}, ""},
		{"setex replaces", []kvStep{kvDo("OK", "SET", "k", "old"), kvDo("OK", "SETEX", "k", "5", "v"), kvDo("v", "GET", "k"), kvDo(5, "TTL", "k")}, ""},
		{"psetex", []kvStep{
			kvDo("OK", "PSETEX", "k", "1500", "v"), kvDo(1500, "PTTL", "k"),
			kvTick(1500 * time.Millisecond), kvDo("v", "GET", "k"), kvTick(time.Millisecond), kvDo(kvNil{}, "GET", "k"),
		}, ""},
		{"setex 0", []kvStep{kvDo(kvErr("ERR invalid expire time in 'setex' command"), "SETEX", "k", "0", "v"), kvDo(0, "EXISTS", "k")}, ""},
		{"setex negative", []kvStep{kvDo(kvErr("ERR invalid expire time in 'setex' command"), "SETEX", "k", "-5", "v")}, ""},
		{"setex overflow", []kvStep{kvDo(kvErr("ERR invalid expire time in 'setex' command"), "SETEX", "k", "9223372036854775807", "v")}, ""},
		{"setex not integer", []kvStep{kvDo(kvErr("ERR value is not an integer or out of range"), "SETEX", "k", "ten", "v")}, ""},
		{"psetex 0", []kvStep{kvDo(kvErr("ERR invalid expire time in 'psetex' command"), "PSETEX", "k", "0", "v")}, ""},
		{"psetex overflow", []kvStep{kvDo(kvErr("ERR invalid expire time in 'psetex' command"), "PSETEX", "k", "9223372036854775807", "v")}, ""},
		{"psetex lower case", []kvStep{kvDo(kvErr("ERR invalid expire time in 'psetex' command"), "psetex", "k", "-1", "v")}, ""},
	})
}

func TestGetSetGetDelGetEx(t *testing.T) {
	invalid := kvErr("ERR invalid expire time in 'getex' command")
	kvRun(t, []kvCase{
		{"getset missing", []kvStep{kvDo(kvNil{}, "GETSET", "k", "v"), kvDo("v", "GET", "k")}, ""},
		{"getset existing", []kvStep{kvDo("OK", "SET", "k", "a"), kvDo("a", "GETSET", "k", "b"), kvDo("b", "GET", "k")}, ""},
		{"getset clears ttl", []kvStep{kvDo("OK", "SET", "k", "a", "EX", "100"), kvDo("a", "GETSET", "k", "b"), kvDo(-1, "TTL", "k")}, ""},
		{"getdel", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo("v", "GETDEL", "k"), kvDo(0, "EXISTS", "k"), kvDo(kvNil{}, "GETDEL", "k")}, ""},
		{"getdel expired", []kvStep{kvDo("OK", "SET", "k", "v", "PX", "5"), kvTick(6 * time.Millisecond), kvDo(kvNil{}, "GETDEL", "k")}, ""},
		{"getex without options", []kvStep{kvDo("OK", "SET", "k", "v", "EX", "100"), kvDo("v", "GETEX", "k"), kvDo(100, "TTL", "k")}, ""},
		{"getex missing", []kvStep{kvDo(kvNil{}, "GETEX", "k"), kvDo(kvNil{}, "GETEX", "k", "EX", "10"), kvDo(0, "EXISTS", "k")}, ""},
		{"getex ex", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo("v", "GETEX", "k", "EX", "100"), kvDo(100, "TTL", "k")}, ""},
		{"getex px", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo("v", "GETEX", "k", "PX", "1234"), kvDo(1234, "PTTL", "k")}, ""},
		{"getex exat", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo("v", "GETEX", "k", "EXAT", strconv.Itoa(kvNow+50)), kvDo(50, "TTL", "k")}, ""},
		{"getex pxat", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo("v", "GETEX", "k", "PXAT", strconv.Itoa(kvNow*1000+50)), kvDo(50, "PTTL", "k")}, ""},
		{"getex pxat in the past deletes", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo("v", "GETEX", "k", "PXAT", "1"), kvDo(0, "EXISTS", "k")}, ""},
		{"getex persist", []kvStep{kvDo("OK", "SET", "k", "v", "EX", "100"), kvDo("v", "GETEX", "k", "PERSIST"), kvDo(-1, "TTL", "k")}, ""},
		{"getex persist twice", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo("v", "GETEX", "k", "PERSIST", "PERSIST")}, ""},
		{"getex ex twice last wins", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo("v", "GETEX", "k", "EX", "10", "EX", "20"), kvDo(20, "TTL", "k")}, ""},
		{"getex persist and ex", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo(kvErr("ERR syntax error"), "GETEX", "k", "PERSIST", "EX", "10")}, ""},
		{"getex ex and persist", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo(kvErr("ERR syntax error"), "GETEX", "k", "EX", "10", "PERSIST")}, ""},
		{"getex ex and px", []kvStep{kvDo(kvErr("ERR syntax error"), "GETEX", "k", "EX", "10", "PX", "10")}, ""},
		{"getex syntax before expire value", []kvStep{kvDo(kvErr("ERR syntax error"), "GETEX", "k", "EX", "0", "PERSIST")}, ""},
		{"getex set options", []kvStep{
			kvDo(kvErr("ERR syntax error"), "GETEX", "k", "NX"),
			kvDo(kvErr("ERR syntax error"), "GETEX", "k", "KEEPTTL"),
			kvDo(kvErr("ERR syntax error"), "GETEX", "k", "EX"),
		}, ""},
		{"getex ex 0", []kvStep{kvDo("OK", "SET", "k", "v"), kvDo(invalid, "GETEX", "k", "EX", "0"), kvDo(-1, "TTL", "k")}, ""},
		{"getex ex negative missing key", []kvStep{kvDo(invalid, "GETEX", "k", "EX", "-1")}, ""},
		{"getex ex overflow", []kvStep{kvDo(invalid, "GETEX", "k", "EX", "9223372036854775807")}, ""},
		{"getex px overflow", []kvStep{kvDo(invalid, "GETEX", "k", "PX", "9223372036854775807")}, ""},
		{"getex not integer", []kvStep{kvDo(kvErr("ERR value is not an integer or out of range"), "GETEX", "k", "EX", "abc")}, ""},
	})
}

func TestMGetMSet(t *testing.T) {
	kvRun(t, []kvCase{
		{"mget missing keys are nil", []kvStep{
			kvDo("OK", "SET", "a", "1"), kvDo("OK", "SET", "c", "3"),
			kvDo([]any{"1", kvNil{}, "3", kvNil{}}, "MGET", "a", "b", "c", "d"),
		}, ""},
		{"mget duplicates", []kvStep{kvDo("OK", "SET", "a", "1"), kvDo([]any{"1", "1"}, "MGET", "a", "a")}, ""},
		{"mget expired", []kvStep{kvDo("OK", "SET", "a", "1", "PX", "1"), kvTick(2 * time.Millisecond), kvDo([]any{kvNil{}}, "MGET", "a")}, ""},
		{"mset", []kvStep{kvDo("OK", "MSET", "a", "1", "b", "2"), kvDo([]any{"1", "2"}, "MGET", "a", "b")}, ""},
		{"mset repeated key last wins", []kvStep{kvDo("OK", "MSET", "a", "1", "a", "2"), kvDo("2", "GET", "a")}, ""},
		{"mset clears ttl", []kvStep{kvDo("OK", "SET", "a", "1", "EX", "10"), kvDo("OK", "MSET", "a", "2"), kvDo(-1, "TTL", "a")}, ""},
		{"mset odd arguments", []kvStep{
			kvDo(kvErr("ERR wrong number of arguments for 'mset' command"), "MSET", "a", "1", "b"),
			kvDo(0, "EXISTS", "a"),
		}, ""},
		{"msetnx all new", []kvStep{kvDo(1, "MSETNX", "a", "1", "b", "2"), kvDo([]any{"1", "2"}, "MGET", "a", "b")}, ""},
		{"msetnx one exists", []kvStep{
			kvDo("OK", "SET", "b", "x"), kvDo(0, "MSETNX", "a", "1", "b", "2"),
			kvDo([]any{kvNil{}, "x"}, "MGET", "a", "b"),
		}, ""},
		{"msetnx expired counts as missing", []kvStep{kvDo("OK", "SET", "b", "x", "PX", "1"), kvTick(time.Second), kvDo(1, "MSETNX", "a", "1", "b", "2")}, ""},
		{"msetnx odd arguments", []kvStep{kvDo(kvErr("ERR wrong number of arguments for 'msetnx' command"), "MSETNX", "a", "1", "b")}, ""},
	})
}

func TestAppendStrlen(t *testing.T) {
	kvRun(t, []kvCase{
		{"append creates", []kvStep{kvDo(5, "APPEND", "k", "hello"), kvDo("hello", "GET", "k")}, ""},
		{"append extends", []kvStep{kvDo(5, "APPEND", "k", "hello"), kvDo(11, "APPEND", "k", " world"), kvDo("hello world", "GET", "k"), kvDo(11, "STRLEN", "k")}, ""},
		{"append empty", []kvStep{kvDo(0, "APPEND", "k", ""), kvDo(1, "EXISTS", "k"), kvDo("", "GET", "k")}, ""},
		{"append keeps ttl", []kvStep{kvDo("OK", "SET", "k", "a", "EX", "100"), kvDo(2, "APPEND", "k", "b"), kvDo(100, "TTL", "k")}, ""},
		{"append many", []kvStep{
			kvDo(1, "APPEND", "k", "a"), kvDo(2, "APPEND", "k", "b"), kvDo(3, "APPEND", "k", "c"), kvDo(4, "APPEND", "k", "d"),
			kvDo("abcd", "GET", "k"),
		}, ""},
		{"strlen missing", []kvStep{kvDo(0, "STRLEN", "k")}, ""},
		{"strlen", []kvStep{kvDo("OK", "SET", "k", "12345"), kvDo(5, "STRLEN", "k")}, ""},
		{"strlen binary", []kvStep{kvDo("OK", "SET", "k", "a\x00\r\n\xff"), kvDo(5, "STRLEN", "k")}, ""},
	})
}

func TestGetRange(t *testing.T) {
	notInt := kvErr("ERR value is not an integer or out of range")
	set := kvDo("OK", "SET", "s", "Hello World")
	kvRun(t, []kvCase{
		{"prefix", []kvStep{set, kvDo("Hell", "GETRANGE", "s", "0", "3")}, ""},
		{"negative", []kvStep{set, kvDo("rld", "GETRANGE", "s", "-3", "-1")}, ""},
		{"whole", []kvStep{set, kvDo("Hello World", "GETRANGE", "s", "0", "-1")}, ""},
		{"end past length", []kvStep{set, kvDo("d", "GETRANGE", "s", "10", "100")}, ""},
		{"start at length", []kvStep{set, kvDo("", "GETRANGE", "s", "11", "100")}, ""},
		{"start past length", []kvStep{set, kvDo("", "GETRANGE", "s", "100", "200")}, ""},
		{"both before start", []kvStep{set, kvDo("H", "GETRANGE", "s", "-100", "-50")}, ""},
		{"negative start after end", []kvStep{set, kvDo("", "GETRANGE", "s", "-1", "-5")}, ""},
		{"start after end", []kvStep{set, kvDo("", "GETRANGE", "s", "5", "3")}, ""},
		{"start clamped", []kvStep{set, kvDo("Hel", "GETRANGE", "s", "-100", "2")}, ""},
		{"end clamped", []kvStep{set, kvDo("H", "GETRANGE", "s", "0", "-100")}, ""},
		{"int64 extremes", []kvStep{set, kvDo("Hello World", "GETRANGE", "s", "-9223372036854775808", "9223372036854775807")}, ""},
		{"missing key", []kvStep{kvDo("", "GETRANGE", "nope", "0", "-1")}, ""},
		{"empty value", []kvStep{kvDo("OK", "SET", "e", ""), kvDo("", "GETRANGE", "e", "0", "-1"), kvDo("", "GETRANGE", "e", "0", "0")}, ""},
		{"binary", []kvStep{kvDo("OK", "SET", "b", "\x00\xff\r\n"), kvDo("\xff\r", "GETRANGE", "b", "1", "2")}, ""},
		{"start not integer", []kvStep{set, kvDo(notInt, "GETRANGE", "s", "a", "1")}, ""},
		{"end not integer", []kvStep{set, kvDo(notInt, "GETRANGE", "s", "0", "1.0")}, ""},
		{"not integer on missing key", []kvStep{kvDo(notInt, "GETRANGE", "nope", "x", "1")}, ""},
		{"substr", []kvStep{set, kvDo("World", "SUBSTR", "s", "6", "-1")}, ""},
	})
}

func TestSetRange(t *testing.T) {
	tooLarge := kvErr("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
	kvRun(t, []kvCase{
		{"pads missing key with zero bytes", []kvStep{kvDo(8, "SETRANGE", "k", "5", "abc"), kvDo("\x00\x00\x00\x00\x00abc", "GET", "k")}, ""},
		{"overwrites", []kvStep{kvDo("OK", "SET", "k", "Hello World"), kvDo(11, "SETRANGE", "k", "6", "Redis"), kvDo("Hello Redis", "GET", "k")}, ""},
		{"extends", []kvStep{kvDo("OK", "SET", "k", "abc"), kvDo(6, "SETRANGE", "k", "2", "XYZZ"), kvDo("abXYZZ", "GET", "k")}, ""},
		{"pads existing", []kvStep{kvDo("OK", "SET", "k", "ab"), kvDo(5, "SETRANGE", "k", "4", "c"), kvDo("ab\x00\x00c", "GET", "k")}, ""},
		{"empty value on missing key", []kvStep{kvDo(0, "SETRANGE", "k", "100", ""), kvDo(0, "EXISTS", "k")}, ""},
		{"empty value on existing key", []kvStep{kvDo("OK", "SET", "k", "abc"), kvDo(3, "SETRANGE", "k", "100", ""), kvDo("abc", "GET", "k")}, ""},
		{"keeps ttl", []kvStep{kvDo("OK", "SET", "k", "abc", "EX", "100"), kvDo(3, "SETRANGE", "k", "0", "x"), kvDo(100, "TTL", "k")}, ""},
		{"negative offset", []kvStep{kvDo(kvErr("ERR offset is out of range"), "SETRANGE", "k", "-1", "x")}, ""},
		{"offset not integer", []kvStep{kvDo(kvErr("ERR value is not an integer or out of range"), "SETRANGE", "k", "abc", "x")}, ""},
		{"past 512MB", []kvStep{kvDo(tooLarge, "SETRANGE", "k", "536870912", "x"), kvDo(0, "EXISTS", "k")}, ""},
		{"ends past 512MB", []kvStep{kvDo(tooLarge, "SETRANGE", "k", "536870911", "xy")}, ""},
		{"offset near int64 max", []kvStep{kvDo("OK", "SET", "k", "abc"), kvDo(tooLarge, "SETRANGE", "k", "9223372036854775807", "xy"), kvDo("abc", "GET", "k")}, ""},
		{"empty value past 512MB", []kvStep{kvDo(0, "SETRANGE", "k", "536870912", "")}, ""},
	})
}

func TestIncrDecr(t *testing.T) {
	notInt := kvErr("ERR value is not an integer or out of range")
	overflow := kvErr("ERR increment or decrement would overflow")
	kvRun(t, []kvCase{
		{"incr missing", []kvStep{kvDo(1, "INCR", "n"), kvDo(2, "INCR", "n"), kvDo("2", "GET", "n")}, ""},
		{"decr missing", []kvStep{kvDo(-1, "DECR", "n"), kvDo(-2, "DECR", "n")}, ""},
		{"incrby", []kvStep{kvDo("OK", "SET", "n", "10"), kvDo(15, "INCRBY", "n", "5"), kvDo(5, "INCRBY", "n", "-10")}, ""},
		{"decrby", []kvStep{kvDo("OK", "SET", "n", "10"), kvDo(3, "DECRBY", "n", "7"), kvDo(13, "DECRBY", "n", "-10")}, ""},
		{"negative value", []kvStep{kvDo("OK", "SET", "n", "-5"), kvDo(-4, "INCR", "n")}, ""},
		{"keeps ttl", []kvStep{kvDo("OK", "SET", "n", "1", "EX", "100"), kvDo(2, "INCR", "n"), kvDo(100, "TTL", "n")}, ""},
		{"expired starts at 0", []kvStep{kvDo("OK", "SET", "n", "41", "PX", "1"), kvTick(time.Second), kvDo(1, "INCR", "n"), kvDo(-1, "TTL", "n")}, ""},
		{"value not integer", []kvStep{kvDo("OK", "SET", "n", "abc"), kvDo(notInt, "INCR", "n"), kvDo(notInt, "DECR", "n"), kvDo("abc", "GET", "n")}, ""},
		{"value float", []kvStep{kvDo("OK", "SET", "n", "1.0"), kvDo(notInt, "INCR", "n")}, ""},
		{"value with space", []kvStep{kvDo("OK", "SET", "n", " 1"), kvDo(notInt, "INCR", "n")}, ""},
		{"value with plus", []kvStep{kvDo("OK", "SET", "n", "+5"), kvDo(notInt, "INCR", "n")}, ""},
		{"value with leading zero", []kvStep{kvDo("OK", "SET", "n", "01"), kvDo(notInt, "INCR", "n")}, ""},
		{"value minus zero", []kvStep{kvDo("OK", "SET", "n", "-0"), kvDo(notInt, "INCR", "n")}, ""},
		{"value too large", []kvStep{kvDo("OK", "SET", "n", "12345678901234567890"), kvDo(notInt, "INCR", "n")}, ""},
		{"empty value", []kvStep{kvDo("OK", "SET", "n", ""), kvDo(notInt, "INCR", "n")}, ""},
		{"increment not integer", []kvStep{
			kvDo(notInt, "INCRBY", "n", "abc"), kvDo(notInt, "INCRBY", "n", "1.5"), kvDo(notInt, "INCRBY", "n", " 1"),
			kvDo(notInt, "INCRBY", "n", "+1"), kvDo(notInt, "INCRBY", "n", "01"), kvDo(notInt, "DECRBY", "n", "99999999999999999999"),
			kvDo(0, "EXISTS", "n"),
		}, ""},
		{"incr overflow", []kvStep{kvDo("OK", "SET", "n", "9223372036854775807"), kvDo(overflow, "INCR", "n"), kvDo("9223372036854775807", "GET", "n")}, ""},
		{"incrby 0 at max", []kvStep{kvDo("OK", "SET", "n", "9223372036854775807"), kvDo(9223372036854775807, "INCRBY", "n", "0")}, ""},
		{"decr underflow", []kvStep{kvDo("OK", "SET", "n", "-9223372036854775808"), kvDo(overflow, "DECR", "n"), kvDo(overflow, "INCRBY", "n", "-1")}, ""},
		{"incrby min", []kvStep{kvDo(-9223372036854775808, "INCRBY", "n", "-9223372036854775808"), kvDo(overflow, "DECRBY", "n", "1")}, ""},
		{"decrby max", []kvStep{kvDo(-9223372036854775807, "DECRBY", "n", "9223372036854775807")}, ""},
		{"decrby min int64", []kvStep{kvDo("OK", "SET", "n", "0"), kvDo(kvErr("ERR decrement would overflow"), "DECRBY", "n", "-9223372036854775808"), kvDo("0", "GET", "n")}, ""},
		{"result encodes as int", []kvStep{kvDo(100, "INCRBY", "n", "100"), kvDo("int", "OBJECT", "ENCODING", "n")}, ""},
	})
}

func TestIncrByFloat(t *testing.T) {
	notFloat := kvErr("ERR value is not a valid float")
	nan := kvErr("ERR increment would produce NaN or Infinity")
	kvRun(t, []kvCase{
		// The examples of redis.io/commands/incrbyfloat.
		{"docs example", []kvStep{
			kvDo("OK", "SET", "f", "10.50"), kvDo("10.6", "INCRBYFLOAT", "f", "0.1"), kvDo("5.6", "INCRBYFLOAT", "f", "-5"),
			kvDo("OK", "SET", "f", "5.0e3"), kvDo("5200", "INCRBYFLOAT", "f", "2.0e2"), kvDo("5200", "GET", "f"),
		}, ""},
		{"missing key", []kvStep{kvDo("3", "INCRBYFLOAT", "f", "3"), kvDo("4.5", "INCRBYFLOAT", "f", "1.5")}, ""},
		{"integral result has no point", []kvStep{kvDo("OK", "SET", "f", "1.5"), kvDo("2", "INCRBYFLOAT", "f", "0.5")}, ""},
		{"zero", []kvStep{kvDo("5", "INCRBYFLOAT", "f", "5"), kvDo("0", "INCRBYFLOAT", "f", "-5")}, ""},
		{"no exponent for large", []kvStep{kvDo("100000000000000000000", "INCRBYFLOAT", "f", "1e20")}, ""},
		{"no exponent for small", []kvStep{kvDo("0.00001", "INCRBYFLOAT", "f", "1e-5")}, ""},
		{"negative", []kvStep{kvDo("-4.5", "INCRBYFLOAT", "f", "-4.5")}, ""},
		{"on integer value", []kvStep{kvDo("OK", "SET", "f", "10"), kvDo("10.5", "INCRBYFLOAT", "f", "0.5"), kvDo("embstr", "OBJECT", "ENCODING", "f")}, ""},
		{"keeps ttl", []kvStep{kvDo("OK", "SET", "f", "1", "EX", "100"), kvDo("2.5", "INCRBYFLOAT", "f", "1.5"), kvDo(100, "TTL", "f")}, ""},
		{"increment not float", []kvStep{
			kvDo(notFloat, "INCRBYFLOAT", "f", "abc"), kvDo(notFloat, "INCRBYFLOAT", "f", ""),
			kvDo(notFloat, "INCRBYFLOAT", "f", " 1"), kvDo(notFloat, "INCRBYFLOAT", "f", "1 "),
			kvDo(notFloat, "INCRBYFLOAT", "f", "nan"), kvDo(notFloat, "INCRBYFLOAT", "f", "1e"),
			kvDo(0, "EXISTS", "f"),
		}, ""},
		{"increment past double range", []kvStep{kvDo("10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880", "INCRBYFLOAT", "f", "1e400"), kvDo(401, "STRLEN", "f")}, ""},
		{"infinite increment", []kvStep{kvDo(nan, "INCRBYFLOAT", "f", "inf"), kvDo(nan, "INCRBYFLOAT", "f", "-Infinity"), kvDo(nan, "INCRBYFLOAT", "f", "INF"), kvDo(0, "EXISTS", "f")}, ""},
		{"result overflows long double", []kvStep{kvDo("OK", "SET", "f", "1e4932"), kvDo(nan, "INCRBYFLOAT", "f", "1e4932"), kvDo("1e4932", "GET", "f")}, ""},
		{"value not float", []kvStep{kvDo("OK", "SET", "f", "abc"), kvDo(notFloat, "INCRBYFLOAT", "f", "1")}, ""},
		{"value with space", []kvStep{kvDo("OK", "SET", "f", "1 "), kvDo(notFloat, "INCRBYFLOAT", "f", "1")}, ""},
		{"underscore increment", []kvStep{kvDo(notFloat, "INCRBYFLOAT", "f", "1_0")},
			""},
		{"underscore value", []kvStep{kvDo("OK", "SET", "f", "1_0"), kvDo(notFloat, "INCRBYFLOAT", "f", "1")},
			""},
		{"long double precision", []kvStep{kvDo("0.1", "INCRBYFLOAT", "f", "0.1"), kvDo("0.3", "INCRBYFLOAT", "f", "0.2")},
			""},
	})
}

func TestStringBinarySafe(t *testing.T) {
	key := "k\x00\xff\r\n$3\r\n*"
	val := "v\x00a\r\nb\xff\r\n-ERR\r\n"
	kvRun(t, []kvCase{
		{"set get", []kvStep{kvDo("OK", "SET", key, val), kvDo(val, "GET", key), kvDo(len(val), "STRLEN", key)}, ""},
		{"keys", []kvStep{kvDo("OK", "SET", key, val), kvDo(1, "EXISTS", key), kvDo(0, "EXISTS", "k"), kvDo([]any{key}, "KEYS", "k*")}, ""},
		{"mset mget", []kvStep{kvDo("OK", "MSET", key, val, "\xff", "\x00"), kvDo([]any{val, "\x00"}, "MGET", key, "\xff")}, ""},
		{"append", []kvStep{kvDo(1, "APPEND", key, "\x00"), kvDo(3, "APPEND", key, "\r\n"), kvDo("\x00\r\n", "GET", key)}, ""},
		{"getset getdel", []kvStep{kvDo(kvNil{}, "GETSET", key, val), kvDo(val, "GETDEL", key), kvDo(0, "EXISTS", key)}, ""},
		{"empty key", []kvStep{kvDo("OK", "SET", "", "x"), kvDo("x", "GET", ""), kvDo(1, "DEL", ""), kvDo(kvNil{}, "GET", "")}, ""},
		{"empty value", []kvStep{kvDo("OK", "SET", "k", ""), kvDo("", "GET", "k"), kvDo(0, "STRLEN", "k"), kvDo("string", "TYPE", "k")}, ""},
		{"long value", []kvStep{kvDo("OK", "SET", "k", strings.Repeat("\x00\xff", 50_000)), kvDo(100_000, "STRLEN", "k")}, ""},
	})
}

// TestStringArity checks every string command's wrong-arity error.
func TestStringArity(t *testing.T) {
	cases := [][]any{
		{"get"}, {"get", "a", "b"}, {"set", "a"}, {"set"}, {"setnx", "a"}, {"setnx", "a", "b", "c"},
		{"setex", "a", "1"}, {"setex", "a", "1", "v", "x"}, {"psetex", "a", "1"}, {"getset", "a"}, {"getset", "a", "b", "c"},
		{"getdel"}, {"getdel", "a", "b"}, {"getex"}, {"mget"}, {"mset", "a"}, {"mset"}, {"msetnx", "a"},
		{"append", "a"}, {"append", "a", "b", "c"}, {"strlen"}, {"strlen", "a", "b"},
		{"getrange", "a", "0"}, {"getrange", "a", "0", "1", "2"}, {"substr", "a", "0"}, {"setrange", "a", "0"},
		{"incr"}, {"incr", "a", "b"}, {"decr"}, {"incrby", "a"}, {"incrby", "a", "1", "2"}, {"decrby", "a"},
		{"incrbyfloat", "a"}, {"incrbyfloat", "a", "1", "2"},
	}
	ts := startServer(t, nil)
	c := ts.client(t, 2)
	for _, args := range cases {
		t.Run(fmt.Sprint(args...), func(t *testing.T) {
			want := kvErr("ERR wrong number of arguments for '" + args[0].(string) + "' command")
			kvSteps(t, ts, c, []kvStep{kvDo(want, args...)})
			// Upper case gives the same lower-case name.
			args[0] = strings.ToUpper(args[0].(string))
			kvSteps(t, ts, c, []kvStep{kvDo(want, args...)})
		})
	}
}

// TestStringRepliesRaw checks the exact bytes of replies, which differ
// between RESP2 and RESP3 for nulls.
func TestStringRepliesRaw(t *testing.T) {
	cases := []struct {
		name         string
		setup        [][]string
		args         []string
		resp2, resp3 string
	}{
		{"get missing", nil, []string{"GET", "k"}, "$-1\r\n", "_\r\n"},
		{"get", [][]string{{"SET", "k", "v"}}, []string{"GET", "k"}, "$1\r\nv\r\n", "$1\r\nv\r\n"},
		{"get empty", [][]string{{"SET", "k", ""}}, []string{"GET", "k"}, "$0\r\n\r\n", "$0\r\n\r\n"},
		{"get binary", [][]string{{"SET", "k\x00", "a\r\n\xff"}}, []string{"GET", "k\x00"}, "$4\r\na\r\n\xff\r\n", "$4\r\na\r\n\xff\r\n"},
		{"set", nil, []string{"SET", "k", "v"}, "+OK\r\n", "+OK\r\n"},
		{"set nx not written", [][]string{{"SET", "k", "v"}}, []string{"SET", "k", "v", "NX"}, "$-1\r\n", "_\r\n"},
		{"set get missing", nil, []string{"SET", "k", "v", "GET"}, "$-1\r\n", "_\r\n"},
		{"set syntax", nil, []string{"SET", "k", "v", "XX", "NX"}, "-ERR syntax error\r\n", "-ERR syntax error\r\n"},
		{"setnx", nil, []string{"SETNX", "k", "v"}, ":1\r\n", ":1\r\n"},
		{"getdel missing", nil, []string{"GETDEL", "k"}, "$-1\r\n", "_\r\n"},
		{"getex missing", nil, []string{"GETEX", "k", "PERSIST"}, "$-1\r\n", "_\r\n"},
		{"getset missing", nil, []string{"GETSET", "k", "v"}, "$-1\r\n", "_\r\n"},
		{"mget", [][]string{{"SET", "a", "1"}}, []string{"MGET", "a", "b"}, "*2\r\n$1\r\n1\r\n$-1\r\n", "*2\r\n$1\r\n1\r\n_\r\n"},
		{"mset", nil, []string{"MSET", "a", "1"}, "+OK\r\n", "+OK\r\n"},
		{"getrange missing", nil, []string{"GETRANGE", "k", "0", "-1"}, "$0\r\n\r\n", "$0\r\n\r\n"},
		{"incrbyfloat is a bulk string", nil, []string{"INCRBYFLOAT", "k", "1.5"}, "$3\r\n1.5\r\n", "$3\r\n1.5\r\n"},
		{"incr", nil, []string{"INCR", "k"}, ":1\r\n", ":1\r\n"},
		{"arity", nil, []string{"GET"}, "-ERR wrong number of arguments for 'get' command\r\n", "-ERR wrong number of arguments for 'get' command\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, nil)
			for proto, want := range map[int]string{2: tc.resp2, 3: tc.resp3} {
				r := ts.raw(t)
				r.expect("+OK\r\n", "FLUSHALL")
				if proto == 3 {
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

// TestStringTypedClient drives the string commands through go-redis's typed
// API, which encodes options its own way (lower-case, durations).
func TestStringTypedClient(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			ts := startServer(t, nil)
			c := ts.client(t, proto)
			ctx := t.Context()
			check := func(what string, got, want any, err error) {
				t.Helper()
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("%s: got %#v, %v; want %#v", what, got, err, want)
				}
			}
			ok, err := c.Set(ctx, "k", "v", 10*time.Second).Result()
			check("SET EX", ok, "OK", err)
			ttl, err := c.TTL(ctx, "k").Result()
			check("TTL", ttl, 10*time.Second, err)
			ok, err = c.Set(ctx, "k", "w", redis.KeepTTL).Result()
			check("SET KEEPTTL", ok, "OK", err)
			pttl, err := c.PTTL(ctx, "k").Result()
			check("PTTL", pttl, 10*time.Second, err)
			old, err := c.SetArgs(ctx, "k", "x", redis.SetArgs{Mode: "XX", Get: true, TTL: 5 * time.Second}).Result()
			check("SET XX GET PX", old, "w", err)
			set, err := c.SetNX(ctx, "k", "y", 0).Result()
			check("SETNX", set, false, err)
			set, err = c.SetXX(ctx, "nope", "y", 0).Result()
			check("SET XX", set, false, err)
			_, err = c.Get(ctx, "nope").Result()
			if !errors.Is(err, redis.Nil) {
				t.Errorf("GET missing: err %v, want redis.Nil", err)
			}
			v, err := c.GetEx(ctx, "k", time.Minute).Result()
			check("GETEX EX", v, "x", err)
			ttl, err = c.TTL(ctx, "k").Result()
			check("TTL after GETEX", ttl, time.Minute, err)
			v, err = c.GetEx(ctx, "k", 0).Result() // go-redis sends PERSIST for 0
			check("GETEX PERSIST", v, "x", err)
			ttl, err = c.TTL(ctx, "k").Result()
			check("TTL after PERSIST", ttl, time.Duration(-1), err)
			vals, err := c.MGet(ctx, "k", "nope").Result()
			check("MGET", vals, []any{"x", nil}, err)
			n, err := c.IncrBy(ctx, "n", 41).Result()
			check("INCRBY", n, int64(41), err)
			f, err := c.IncrByFloat(ctx, "n", 0.5).Result()
			check("INCRBYFLOAT", f, 41.5, err)
			s, err := c.GetRange(ctx, "k", 0, -1).Result()
			check("GETRANGE", s, "x", err)
			n, err = c.SetRange(ctx, "k", 2, "z").Result()
			check("SETRANGE", n, int64(3), err)
			s, err = c.GetDel(ctx, "k").Result()
			check("GETDEL", s, "x\x00z", err)
		})
	}
}
