package resp

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/node"
	"github.com/cached/cached/node/store"
)

// Eviction through RESP: a small maxmemory, each policy, filled by SETs.

const (
	evictMax   = 1 << 20 // maxmemory of these tests: 1 MiB
	evictValue = 1000    // bytes per value: about 1,100 per key, 950 keys fit
	// evictSlack is how far one write may take used memory past maxmemory.
	// As in Redis, eviction runs before a command, so the command's own
	// entry may overshoot by its size.
	evictSlack = 2 * (evictValue + 256)
	msgOOMText = "OOM command not allowed when used memory > 'maxmemory'."
)

var evictPayload = strings.Repeat("x", evictValue)

// startEvicting starts a server with maxmemory evictMax and policy p.
func startEvicting(t *testing.T, p store.Policy) *testServer {
	t.Helper()
	return startServer(t, func(n *node.Config, _ *Config) {
		n.Store.MaxMemory = evictMax
		n.Store.Policy = p
		// No background sweep: it would evict concurrently with the
		// tests' counting. Writes evict, as they do in Redis.
		n.Store.ExpiryInterval = time.Hour
	})
}

// evictCheckUsed fails the test when used memory went past maxmemory by more
// than one write's worth.
func evictCheckUsed(t *testing.T, ts *testServer, limit int64) {
	t.Helper()
	if used := ts.node.UsedMemory(); used > limit+evictSlack {
		t.Fatalf("used memory %d > maxmemory %d + %d", used, limit, evictSlack)
	}
}

// evictSet pipelines a SET of each key (with ttl unless 0) and returns
// each command's error.
func evictSet(t *testing.T, c *redis.Client, keys []string, ttl time.Duration) []error {
	t.Helper()
	ctx := t.Context()
	pipe := c.Pipeline()
	cmds := make([]*redis.StatusCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.Set(ctx, k, evictPayload, ttl)
	}
	pipe.Exec(ctx) // per-command errors are read below
	errs := make([]error, len(keys))
	for i, cmd := range cmds {
		errs[i] = cmd.Err()
	}
	return errs
}

// evictCount returns how many of keys exist.
func evictCount(t *testing.T, c *redis.Client, keys []string) int64 {
	t.Helper()
	if len(keys) == 0 {
		return 0
	}
	n, err := c.Exists(t.Context(), keys...).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func evictKeys(prefix string, from, to int) []string {
	keys := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		keys = append(keys, prefix+strconv.Itoa(i))
	}
	return keys
}

func TestEvictionNoEviction(t *testing.T) {
	ts := startEvicting(t, store.NoEviction)
	c := ts.client(t, 2)
	ctx := t.Context()
	written := 0
	var oom error
	for i := 0; i < 5000 && oom == nil; i++ {
		if err := c.Set(ctx, "k"+strconv.Itoa(i), evictPayload, 0).Err(); err != nil {
			oom = err
			break
		}
		written++
		evictCheckUsed(t, ts, evictMax)
	}
	if oom == nil || oom.Error() != msgOOMText {
		t.Fatalf("after %d SETs: err %v, want %q", written, oom, msgOOMText)
	}
	if written < 500 {
		t.Fatalf("OOM after only %d SETs of %d bytes under %d", written, evictValue, evictMax)
	}
	all := evictKeys("k", 0, written)
	if n := evictCount(t, c, all); n != int64(written) {
		t.Fatalf("%d of %d keys kept", n, written)
	}
	if n := kvInfo(t, c, "stats", "evicted_keys"); n != 0 {
		t.Fatalf("evicted_keys = %d under noeviction", n)
	}

	// Every command that may grow memory is refused; reads and deletes work.
	for _, tc := range []struct {
		args []any
		want any
	}{
		{[]any{"SET", "new", "v"}, kvErr(msgOOMText)},
		{[]any{"SET", "k0", "v"}, kvErr(msgOOMText)}, // even an overwrite
		{[]any{"SETNX", "new", "v"}, kvErr(msgOOMText)},
		{[]any{"SETEX", "new", "10", "v"}, kvErr(msgOOMText)},
		{[]any{"MSET", "new", "v"}, kvErr(msgOOMText)},
		{[]any{"APPEND", "k0", "v"}, kvErr(msgOOMText)},
		{[]any{"INCR", "n"}, kvErr(msgOOMText)},
		{[]any{"SETRANGE", "k0", "0", "v"}, kvErr(msgOOMText)},
		{[]any{"COPY", "k0", "copy"}, kvErr(msgOOMText)},
		{[]any{"GET", "k0"}, evictPayload},
		{[]any{"STRLEN", "k1"}, evictValue},
		{[]any{"EXISTS", "k0", "k1"}, 2},
		{[]any{"EXPIRE", "k2", "100"}, 1},
		{[]any{"GETDEL", "k3"}, evictPayload},
		{[]any{"DEL", "k4", "k5", "k6", "k7", "k8", "k9"}, 6},
		// Deleting brought memory under the limit: writes work again.
		{[]any{"SET", "new", "v"}, "OK"},
		{[]any{"GET", "new"}, "v"},
	} {
		kvSteps(t, ts, c, []kvStep{kvDo(tc.want, tc.args...)})
	}
	if n := kvInfo(t, c, "stats", "evicted_keys"); n != 0 {
		t.Fatalf("evicted_keys = %d under noeviction", n)
	}
}

// TestEvictionAllKeys fills the store to three times maxmemory while reading
// a hot set; LRU and LFU must keep (nearly all of) it.
func TestEvictionAllKeys(t *testing.T) {
	for _, tc := range []struct {
		policy   store.Policy
		keepsHot bool
	}{
		{store.AllKeysLRU, true},
		{store.AllKeysLFU, true},
		{store.AllKeysRandom, false},
	} {
		t.Run(tc.policy.String(), func(t *testing.T) {
			t.Parallel()
			ts := startEvicting(t, tc.policy)
			c := ts.client(t, 2)
			ctx := t.Context()
			hot := evictKeys("hot:", 0, 50)
			for _, err := range evictSet(t, c, hot, 0) {
				if err != nil {
					t.Fatal(err)
				}
			}
			const rounds, batch = 30, 100
			for r := range rounds {
				// Read the hot set, then write a batch of cold keys a
				// millisecond later (access times have ms resolution).
				ts.clock.Advance(time.Millisecond)
				pipe := c.Pipeline()
				for _, k := range hot {
					pipe.Get(ctx, k)
				}
				pipe.Exec(ctx) // an evicted hot key is a redis.Nil; counted below
				ts.clock.Advance(time.Millisecond)
				for i, err := range evictSet(t, c, evictKeys("cold:", r*batch, (r+1)*batch), 0) {
					if err != nil {
						t.Fatalf("SET cold:%d: %v", r*batch+i, err)
					}
				}
				evictCheckUsed(t, ts, evictMax)
			}
			written := int64(len(hot) + rounds*batch)
			dbsize, err := c.DBSize(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			evicted := kvInfo(t, c, "stats", "evicted_keys")
			if evicted == 0 || evicted != written-dbsize {
				t.Fatalf("evicted_keys = %d; wrote %d keys, %d left", evicted, written, dbsize)
			}
			if used := kvInfo(t, c, "memory", "used_memory"); used > evictMax+evictSlack {
				t.Fatalf("INFO used_memory = %d, maxmemory %d", used, evictMax)
			}
			if kept := evictCount(t, c, hot); tc.keepsHot && kept < int64(len(hot))*9/10 {
				t.Fatalf("%s kept %d of %d hot keys", tc.policy, kept, len(hot))
			} else {
				t.Logf("%s kept %d of %d hot keys, %d keys in all", tc.policy, kept, len(hot), dbsize)
			}
		})
	}
}

// TestEvictionVolatile checks that volatile-* policies evict only keys with
// a TTL, and refuse writes once none is left.
func TestEvictionVolatile(t *testing.T) {
	for _, policy := range []store.Policy{store.VolatileLRU, store.VolatileLFU, store.VolatileTTL, store.VolatileRandom} {
		t.Run(policy.String(), func(t *testing.T) {
			t.Parallel()
			ts := startEvicting(t, policy)
			c := ts.client(t, 2)
			ctx := t.Context()
			persistent := evictKeys("p:", 0, 300)
			for _, err := range evictSet(t, c, persistent, 0) {
				if err != nil {
					t.Fatal(err)
				}
			}
			// Volatile keys, the later the shorter their TTL.
			const nVolatile = 1000
			volatile := evictKeys("v:", 0, nVolatile)
			for i := 0; i < nVolatile; i += 100 {
				ts.clock.Advance(time.Millisecond)
				pipe := c.Pipeline()
				for j := i; j < i+100; j++ {
					pipe.Set(ctx, volatile[j], evictPayload, time.Duration(2*nVolatile-j)*time.Second)
				}
				if _, err := pipe.Exec(ctx); err != nil {
					t.Fatalf("SET volatile keys %d..: %v", i, err)
				}
				evictCheckUsed(t, ts, evictMax)
			}
			if n := evictCount(t, c, persistent); n != int64(len(persistent)) {
				t.Fatalf("%d of %d keys without TTL kept", n, len(persistent))
			}
			left := evictCount(t, c, volatile)
			evicted := kvInfo(t, c, "stats", "evicted_keys")
			if evicted == 0 || evicted != nVolatile-left {
				t.Fatalf("evicted_keys = %d; %d of %d volatile keys left", evicted, left, nVolatile)
			}
			if policy == store.VolatileTTL {
				// The shortest TTLs (the latest keys) go first.
				var keptSum, evictedSum int
				for i, k := range volatile {
					if n, _ := c.Exists(ctx, k).Result(); n == 1 {
						keptSum += i
					} else {
						evictedSum += i
					}
				}
				keptMean, evictedMean := keptSum/int(left), evictedSum/int(nVolatile-left)
				if keptMean >= evictedMean {
					t.Errorf("volatile-ttl kept keys of mean index %d, evicted %d: want the short TTLs evicted", keptMean, evictedMean)
				}
			}

			// Keys without a TTL now push the volatile ones out, until none is
			// left and writes are refused.
			more := evictKeys("q:", 0, 2000)
			errs := evictSet(t, c, more, 0)
			ok := 0
			for ok < len(errs) && errs[ok] == nil {
				ok++
			}
			if ok == len(errs) {
				t.Fatalf("no OOM after %d more SETs", ok)
			}
			for i, err := range errs[ok:] {
				if err == nil || err.Error() != msgOOMText {
					t.Fatalf("SET %s: %v, want %q", more[ok+i], err, msgOOMText)
				}
			}
			evictCheckUsed(t, ts, evictMax)
			if n := evictCount(t, c, volatile); n != 0 {
				t.Fatalf("OOM with %d volatile keys left", n)
			}
			if n := evictCount(t, c, persistent); n != int64(len(persistent)) {
				t.Fatalf("%d of %d keys without TTL kept", n, len(persistent))
			}
			if n := evictCount(t, c, more[:ok]); n != int64(ok) {
				t.Fatalf("%d of %d keys written after the fill kept", n, ok)
			}
			if n := kvInfo(t, c, "stats", "evicted_keys"); n != nVolatile {
				t.Fatalf("evicted_keys = %d, want %d", n, nVolatile)
			}
			kvSteps(t, ts, c, []kvStep{
				kvDo(evictPayload, "GET", "p:0"),
				kvDo(kvErr(msgOOMText), "SET", "x", "v", "EX", "100"),
				kvDo(2, "DEL", "p:0", "p:1"),
				kvDo("OK", "SET", "x", "v", "EX", "100"),
			})
		})
	}
}

// TestEvictionConfigSet changes maxmemory and maxmemory-policy at runtime.
func TestEvictionConfigSet(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t, 2)
	ctx := t.Context()
	config := func(name, value string) {
		t.Helper()
		if err := c.ConfigSet(ctx, name, value).Err(); err != nil {
			t.Fatalf("CONFIG SET %s %s: %v", name, value, err)
		}
		got, err := c.ConfigGet(ctx, name).Result()
		if err != nil || got[name] != value {
			t.Fatalf("CONFIG GET %s = %v, %v; want %s", name, got, err, value)
		}
	}
	// Unlimited: about 1.6 MiB goes in.
	for _, err := range evictSet(t, c, evictKeys("a:", 0, 1500), 0) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if used := ts.node.UsedMemory(); used < 3*evictMax/2 {
		t.Fatalf("used memory %d after 1500 SETs", used)
	}

	// A lower limit applies from the next write on.
	config("maxmemory-policy", "allkeys-lru")
	config("maxmemory", strconv.Itoa(evictMax))
	if n := kvInfo(t, c, "memory", "maxmemory"); n != evictMax {
		t.Fatalf("INFO maxmemory = %d", n)
	}
	kvSteps(t, ts, c, []kvStep{kvDo("OK", "SET", "b", "v")})
	evictCheckUsed(t, ts, evictMax)
	evicted := kvInfo(t, c, "stats", "evicted_keys")
	if evicted == 0 {
		t.Fatal("no key evicted after lowering maxmemory")
	}

	// noeviction: fill to the limit, then writes are refused.
	config("maxmemory-policy", "noeviction")
	errs := evictSet(t, c, evictKeys("c:", 0, 200), 0)
	if last := errs[len(errs)-1]; last == nil || last.Error() != msgOOMText {
		t.Fatalf("last SET under noeviction: %v, want %q", last, msgOOMText)
	}
	if n := kvInfo(t, c, "stats", "evicted_keys"); n != evicted {
		t.Fatalf("evicted_keys went from %d to %d under noeviction", evicted, n)
	}

	// Back to evicting.
	config("maxmemory-policy", "allkeys-random")
	kvSteps(t, ts, c, []kvStep{kvDo("OK", "SET", "d", "v")})
	evictCheckUsed(t, ts, evictMax)

	// A larger limit, then none: nothing is evicted any more.
	config("maxmemory", "0")
	evicted = kvInfo(t, c, "stats", "evicted_keys")
	for _, err := range evictSet(t, c, evictKeys("e:", 0, 1000), 0) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := kvInfo(t, c, "stats", "evicted_keys"); n != evicted {
		t.Fatalf("evicted_keys went from %d to %d without maxmemory", evicted, n)
	}

	// An invalid value changes nothing.
	if err := c.ConfigSet(ctx, "maxmemory-policy", "lru").Err(); err == nil {
		t.Fatal("CONFIG SET maxmemory-policy lru: no error")
	}
	config("maxmemory-policy", "allkeys-random")
}

// TestEvictionLargeDrop lowers maxmemory far below used memory. As in Redis,
// the next write is not refused. Redis evicts what one command's time limit
// leaves over in a background timer; the store bounds each write's eviction
// work instead and evicts the rest over the following writes, so a few
// writes bring used memory under the limit.
func TestEvictionLargeDrop(t *testing.T) {
	const keys = 3000
	ts := startServer(t, func(n *node.Config, _ *Config) { n.Store.Policy = store.AllKeysLRU })
	c := ts.client(t, 2)
	for _, err := range evictSet(t, c, evictKeys("a:", 0, keys), 0) {
		if err != nil {
			t.Fatal(err)
		}
	}
	kvSteps(t, ts, c, []kvStep{
		kvDo("OK", "CONFIG", "SET", "maxmemory", strconv.Itoa(evictMax)),
		kvDo("OK", "SET", "b", "v"),
	})
	if n := kvInfo(t, c, "stats", "evicted_keys"); n == 0 {
		t.Fatal("the first write after the drop evicted nothing")
	}
	// Each write evicts at most 1024 keys: 3000 keys need a few writes.
	for i := 0; ts.node.UsedMemory() > evictMax+evictSlack; i++ {
		if i == keys/1024+1 {
			t.Fatalf("used memory %d > maxmemory %d + %d after %d more writes", ts.node.UsedMemory(), evictMax, evictSlack, i)
		}
		kvSteps(t, ts, c, []kvStep{kvDo("OK", "SET", "b"+strconv.Itoa(i), "v")})
	}
	evictCheckUsed(t, ts, evictMax)
}
