package resp

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cached/cached/node"
)

// srvInfo returns the fields of an INFO section as go-redis reads them.
func srvInfo(t testing.TB, c *redis.Client, section string) map[string]string {
	t.Helper()
	text, err := c.Info(context.Background(), section).Result()
	if err != nil {
		t.Fatalf("INFO %s: %v", section, err)
	}
	fields := map[string]string{}
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			fields[k] = v
		}
	}
	return fields
}

// srvInt returns an integer INFO field.
func srvInt(t testing.TB, fields map[string]string, key string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(fields[key], 10, 64)
	if err != nil {
		t.Fatalf("INFO field %s = %q", key, fields[key])
	}
	return n
}

// srvPairs turns a RESP2 flat array or a RESP3 map from go-redis into a map.
func srvPairs(t testing.TB, v any) map[string]any {
	t.Helper()
	out := map[string]any{}
	switch v := v.(type) {
	case []any:
		if len(v)%2 != 0 {
			t.Fatalf("flat map of odd length %d: %v", len(v), v)
		}
		for i := 0; i < len(v); i += 2 {
			out[fmt.Sprint(v[i])] = v[i+1]
		}
	case map[any]any:
		for k, x := range v {
			out[fmt.Sprint(k)] = x
		}
	default:
		t.Fatalf("%T is not a map reply: %v", v, v)
	}
	return out
}

var infoTitles = []string{"# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication", "# CPU", "# Errorstats", "# Cluster", "# Origins", "# Keyspace"}

// allInfoTitles are the sections of INFO all: the default ones and the
// per-command statistics.
var allInfoTitles = []string{"# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication", "# CPU",
	"# Commandstats", "# Errorstats", "# Latencystats", "# Cluster", "# Origins", "# Keyspace"}

func TestInfoSections(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct {
		name string
		args []string
		want []string // section titles, in order
	}{
		{"no args", []string{"INFO"}, infoTitles},
		{"default", []string{"INFO", "default"}, infoTitles},
		{"all", []string{"INFO", "all"}, allInfoTitles},
		{"everything", []string{"INFO", "EVERYTHING"}, allInfoTitles},
		{"commandstats", []string{"INFO", "commandstats"}, []string{"# Commandstats"}},
		{"one", []string{"INFO", "stats"}, []string{"# Stats"}},
		{"upper case", []string{"INFO", "CPU"}, []string{"# CPU"}},
		{"two", []string{"INFO", "keyspace", "server"}, []string{"# Server", "# Keyspace"}},
		{"unknown", []string{"INFO", "nosuch"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.raw(t)
			r.do(tt.args...)
			body := connBulk(t, r.reply())
			var titles []string
			for line := range strings.Lines(body) {
				if !strings.HasSuffix(line, "\r\n") {
					t.Errorf("line %q does not end in CRLF", line)
				}
				if strings.HasPrefix(line, "#") {
					titles = append(titles, strings.TrimSuffix(line, "\r\n"))
				}
			}
			if !slices.Equal(titles, tt.want) {
				t.Fatalf("sections %q, want %q", titles, tt.want)
			}
		})
	}
}

func TestInfoFields(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t, 2)
	ctx := context.Background()

	server := srvInfo(t, c, "server")
	_, port, _ := strings.Cut(ts.addr, ":")
	for k, want := range map[string]string{"redis_version": redisVersion, "redis_mode": "standalone", "tcp_port": port, "cached_version": "dev"} {
		if server[k] != want {
			t.Errorf("INFO server %s = %q, want %q", k, server[k], want)
		}
	}
	if n := srvInt(t, srvInfo(t, c, "clients"), "connected_clients"); n < 1 {
		t.Errorf("connected_clients = %d", n)
	}
	if srvInfo(t, c, "replication")["role"] != "master" {
		t.Error("INFO replication role is not master")
	}

	t.Run("keyspace hits and misses", func(t *testing.T) {
		before := srvInfo(t, c, "stats")
		hits, misses := srvInt(t, before, "keyspace_hits"), srvInt(t, before, "keyspace_misses")
		c.Get(ctx, "missing")
		after := srvInfo(t, c, "stats")
		if srvInt(t, after, "keyspace_misses") != misses+1 || srvInt(t, after, "keyspace_hits") != hits {
			t.Fatalf("after a miss: hits %s misses %s, want %d %d", after["keyspace_hits"], after["keyspace_misses"], hits, misses+1)
		}
		c.Set(ctx, "k", "v", 0)
		c.Get(ctx, "k")
		after = srvInfo(t, c, "stats")
		if srvInt(t, after, "keyspace_hits") != hits+1 || srvInt(t, after, "keyspace_misses") != misses+1 {
			t.Fatalf("after a hit: hits %s misses %s, want %d %d", after["keyspace_hits"], after["keyspace_misses"], hits+1, misses+1)
		}
		if srvInt(t, after, "total_commands_processed") <= srvInt(t, before, "total_commands_processed") {
			t.Error("total_commands_processed did not grow")
		}
		if srvInt(t, after, "total_connections_received") < 1 || srvInt(t, after, "total_net_input_bytes") < 1 {
			t.Errorf("INFO stats = %v", after)
		}
	})

	t.Run("keyspace", func(t *testing.T) {
		c.FlushAll(ctx)
		r := ts.raw(t)
		r.expect("$12\r\n# Keyspace\r\n\r\n", "INFO", "keyspace")
		c.Set(ctx, "a", "1", 0)
		c.Set(ctx, "b", "2", time.Hour)
		r.do("INFO", "keyspace")
		body := connBulk(t, r.reply())
		if !strings.HasPrefix(body, "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=") {
			t.Fatalf("INFO keyspace = %q", body)
		}
	})

	t.Run("resp3 verbatim", func(t *testing.T) {
		r := ts.raw(t)
		r.do("HELLO", "3")
		r.reply()
		r.do("INFO", "server")
		got := r.reply()
		if !strings.HasPrefix(got, "=") || !strings.Contains(got, "\r\ntxt:# Server\r\n") {
			t.Fatalf("RESP3 INFO = %.80q, want a verbatim string", got)
		}
		c3 := ts.client(t, 3)
		text, err := c3.Info(ctx, "server").Result()
		if err != nil || !strings.HasPrefix(text, "# Server\r\n") {
			t.Fatalf("go-redis RESP3 INFO = %.40q, %v", text, err)
		}
	})
}

func TestDBSizeAndFlush(t *testing.T) {
	ts := startServer(t, nil)
	tests := []struct {
		name      string
		args      []string
		want      string
		wantEmpty bool
	}{
		{"flushall", []string{"FLUSHALL"}, "+OK\r\n", true},
		{"flushall async", []string{"FLUSHALL", "ASYNC"}, "+OK\r\n", true},
		{"flushall sync", []string{"flushall", "sync"}, "+OK\r\n", true},
		{"flushdb", []string{"FLUSHDB"}, "+OK\r\n", true},
		{"flushdb async", []string{"FLUSHDB", "async"}, "+OK\r\n", true},
		{"flushdb sync", []string{"FLUSHDB", "SYNC"}, "+OK\r\n", true},
		{"flushall bad arg", []string{"FLUSHALL", "bad"}, "-ERR syntax error\r\n", false},
		{"flushdb bad arg", []string{"FLUSHDB", "now"}, "-ERR syntax error\r\n", false},
		{"flushall two args", []string{"FLUSHALL", "ASYNC", "SYNC"}, "-ERR syntax error\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.raw(t)
			r.expect("+OK\r\n", "FLUSHALL")
			r.expect(":0\r\n", "DBSIZE")
			for i := range 3 {
				r.expect("+OK\r\n", "SET", "k"+strconv.Itoa(i), "v")
			}
			r.expect(":3\r\n", "DBSIZE")
			r.expect(tt.want, tt.args...)
			want := ":3\r\n"
			if tt.wantEmpty {
				want = ":0\r\n"
			}
			r.expect(want, "DBSIZE")
		})
	}
	r := ts.raw(t)
	r.expect("-ERR wrong number of arguments for 'dbsize' command\r\n", "DBSIZE", "x")
}

func TestTime(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t, 2)
	before := time.Now()
	got, err := c.Time(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	if got.Before(before.Add(-time.Second)) || got.After(time.Now().Add(time.Second)) {
		t.Fatalf("TIME = %v, now %v", got, before)
	}
	r := ts.raw(t)
	r.do("TIME")
	reply := r.reply()
	parts := strings.Split(reply, "\r\n")
	if len(parts) != 6 || parts[0] != "*2" || !strings.HasPrefix(parts[1], "$") || !strings.HasPrefix(parts[3], "$") {
		t.Fatalf("TIME reply %q, want two bulk strings", reply)
	}
	if us, err := strconv.Atoi(parts[4]); err != nil || us < 0 || us >= 1e6 {
		t.Fatalf("TIME microseconds %q", parts[4])
	}
	r.expect("-ERR wrong number of arguments for 'time' command\r\n", "TIME", "x")
}

// srvCommandEntries returns COMMAND INFO with no names: every command's
// entry, as go-redis decodes it.
func srvCommandEntries(t testing.TB, c *redis.Client) []any {
	t.Helper()
	v, err := c.Do(context.Background(), "COMMAND", "INFO").Slice()
	if err != nil {
		t.Fatalf("COMMAND INFO: %v", err)
	}
	return v
}

// srvCheckEntry checks that e is a 10-field COMMAND entry, and its
// subcommands too.
func srvCheckEntry(t testing.TB, e any) string {
	t.Helper()
	fields, ok := e.([]any)
	if !ok || len(fields) != 10 {
		t.Fatalf("COMMAND entry %v has %d fields, want 10", e, len(fields))
	}
	name, ok := fields[0].(string)
	if !ok || name == "" {
		t.Fatalf("COMMAND entry name %v", fields[0])
	}
	for i, want := range []string{"", "int", "list", "int", "int", "int", "list", "list", "list", "list"} {
		switch want {
		case "int":
			if _, ok := fields[i].(int64); !ok {
				t.Errorf("%s field %d = %T, want an integer", name, i, fields[i])
			}
		case "list":
			if _, ok := fields[i].([]any); !ok {
				t.Errorf("%s field %d = %T, want an array or set", name, i, fields[i])
			}
		}
	}
	for _, sub := range fields[9].([]any) {
		if sn := srvCheckEntry(t, sub); !strings.HasPrefix(sn, name+"|") {
			t.Errorf("subcommand %q of %q", sn, name)
		}
	}
	return name
}

func TestCommand(t *testing.T) {
	ts := startServer(t, nil)
	ctx := context.Background()
	c2, c3 := ts.client(t, 2), ts.client(t, 3)

	t.Run("bare", func(t *testing.T) {
		if _, err := c2.Command(ctx).Result(); err != nil {
			t.Fatal(err)
		}
	})

	var names []string
	for _, c := range []*redis.Client{c2, c3} {
		entries := srvCommandEntries(t, c)
		if len(entries) < 20 {
			t.Fatalf("COMMAND INFO lists %d commands", len(entries))
		}
		names = names[:0]
		for _, e := range entries {
			names = append(names, srvCheckEntry(t, e))
		}
	}

	t.Run("count", func(t *testing.T) {
		n, err := c2.Do(ctx, "COMMAND", "COUNT").Int()
		if err != nil || n != len(names) {
			t.Fatalf("COMMAND COUNT = %d, %v; COMMAND INFO lists %d", n, err, len(names))
		}
	})

	t.Run("list", func(t *testing.T) {
		list, err := c2.Do(ctx, "COMMAND", "LIST").StringSlice()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(list)
		sorted := slices.Sorted(slices.Values(names))
		if !slices.Equal(list, sorted) {
			t.Fatalf("COMMAND LIST = %v, COMMAND INFO names %v", list, sorted)
		}
		for _, want := range []string{"get", "set", "mset", "del", "ping", "client", "config", "command", "info", "memory"} {
			if !slices.Contains(list, want) {
				t.Errorf("COMMAND LIST lacks %q", want)
			}
		}
	})

	t.Run("go-redis parses it", func(t *testing.T) {
		for _, c := range []*redis.Client{c2, c3} {
			cmd := redis.NewCommandsInfoCmd(ctx, "command", "info")
			if err := c.Process(ctx, cmd); err != nil {
				t.Fatal(err)
			}
			infos, err := cmd.Result()
			if err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name              string
				arity             int8
				first, last, step int8
				flag              string
				readOnly          bool
			}{
				{"get", 2, 1, 1, 1, "readonly", true},
				{"mset", -3, 1, -1, 2, "write", false},
				{"del", -2, 1, -1, 1, "write", false},
				{"set", -3, 1, 1, 1, "write", false},
				{"ping", -1, 0, 0, 0, "fast", false},
			}
			for _, tt := range tests {
				info := infos[tt.name]
				if info == nil {
					t.Errorf("go-redis found no %q", tt.name)
					continue
				}
				if info.Arity != tt.arity || info.FirstKeyPos != tt.first || info.LastKeyPos != tt.last || info.StepCount != tt.step {
					t.Errorf("%s: arity %d keys %d,%d,%d; want %d keys %d,%d,%d", tt.name,
						info.Arity, info.FirstKeyPos, info.LastKeyPos, info.StepCount, tt.arity, tt.first, tt.last, tt.step)
				}
				if !slices.Contains(info.Flags, tt.flag) || info.ReadOnly != tt.readOnly {
					t.Errorf("%s: flags %v read-only %v, want %q and %v", tt.name, info.Flags, info.ReadOnly, tt.flag, tt.readOnly)
				}
			}
		}
	})

	t.Run("info names", func(t *testing.T) {
		r := ts.raw(t)
		r.do("COMMAND", "INFO", "get", "nosuch")
		got := r.reply()
		if !strings.HasPrefix(got, "*2\r\n*10\r\n$3\r\nget\r\n:2\r\n") || !strings.HasSuffix(got, "*-1\r\n") {
			t.Fatalf("COMMAND INFO get nosuch = %q", got)
		}
		v, err := c3.Do(ctx, "COMMAND", "INFO", "GET", "nosuch", "client|id").Slice()
		if err != nil || len(v) != 3 || v[1] != nil {
			t.Fatalf("RESP3 COMMAND INFO = %v, %v", v, err)
		}
		if srvCheckEntry(t, v[0]) != "get" || srvCheckEntry(t, v[2]) != "client|id" {
			t.Fatalf("COMMAND INFO GET nosuch client|id = %v", v)
		}
	})

	t.Run("docs", func(t *testing.T) {
		for _, c := range []*redis.Client{c2, c3} {
			v, err := c.Do(ctx, "COMMAND", "DOCS", "get", "nosuch").Result()
			if err != nil {
				t.Fatal(err)
			}
			docs := srvPairs(t, v)
			if len(docs) != 1 {
				t.Fatalf("COMMAND DOCS get nosuch = %v", docs)
			}
			get := srvPairs(t, docs["get"])
			want := map[string]any{"summary": "Returns the string value of a key.", "since": "1.0.0", "group": "string"}
			if !maps.Equal(get, want) {
				t.Fatalf("COMMAND DOCS get = %v, want %v", get, want)
			}
			v, err = c.Do(ctx, "COMMAND", "DOCS", "client").Result()
			if err != nil {
				t.Fatal(err)
			}
			client := srvPairs(t, srvPairs(t, v)["client"])
			if subs := srvPairs(t, client["subcommands"]); subs["client|id"] == nil {
				t.Fatalf("COMMAND DOCS client subcommands = %v", subs)
			}
		}
	})

	getkeys := []struct {
		name string
		args []string
		want string
	}{
		{"mset", []string{"mset", "a", "1", "b", "2"}, "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{"zunionstore numkeys", []string{"zunionstore", "d", "2", "a", "b"}, "*3\r\n$1\r\nd\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{"sintercard numkeys", []string{"sintercard", "2", "a", "b"}, "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{"get", []string{"GET", "k"}, "*1\r\n$1\r\nk\r\n"},
		{"del", []string{"del", "a", "b", "c"}, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{"subcommand", []string{"memory", "usage", "k"}, "*1\r\n$1\r\nk\r\n"},
		{"unknown command", []string{"nosuch", "x"}, "-ERR Invalid command specified\r\n"},
		{"unknown subcommand", []string{"memory", "nosuch", "k"}, "-ERR Invalid command specified\r\n"},
		{"wrong arity", []string{"get"}, "-ERR Invalid number of arguments specified for command\r\n"},
		{"wrong arity mset", []string{"mset", "a"}, "-ERR Invalid number of arguments specified for command\r\n"},
		{"no keys", []string{"ping", "x"}, "-ERR The command has no key arguments\r\n"},
		{"no keys wrong arity", []string{"dbsize", "x"}, "-ERR The command has no key arguments\r\n"},
	}
	for _, tt := range getkeys {
		t.Run("getkeys "+tt.name, func(t *testing.T) {
			r := ts.raw(t)
			r.expect(tt.want, append([]string{"COMMAND", "GETKEYS"}, tt.args...)...)
		})
	}

	errs := []struct {
		name string
		args []string
		want string
	}{
		{"unknown subcommand", []string{"COMMAND", "foo"}, "-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n"},
		{"count arity", []string{"COMMAND", "COUNT", "x"}, "-ERR wrong number of arguments for 'command|count' command\r\n"},
		{"getkeys arity", []string{"COMMAND", "GETKEYS"}, "-ERR wrong number of arguments for 'command|getkeys' command\r\n"},
		{"docs unknown", []string{"COMMAND", "DOCS", "nosuch"}, "*0\r\n"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.raw(t)
			r.expect(tt.want, tt.args...)
		})
	}

	t.Run("help", func(t *testing.T) {
		r := ts.raw(t)
		r.do("COMMAND", "HELP")
		if got := r.reply(); !strings.HasPrefix(got, "*") || !strings.HasSuffix(got, "+HELP\r\n") {
			t.Fatalf("COMMAND HELP = %q", got)
		}
	})
}

func TestConfigGet(t *testing.T) {
	ts := startServer(t, func(_ *node.Config, c *Config) { c.Settings = map[string]string{"port": "7000"} })
	c := ts.client(t, 2)
	ctx := context.Background()
	tests := []struct {
		name     string
		patterns []string
		want     []string // names
	}{
		{"glob", []string{"maxmemory*"}, []string{"maxmemory", "maxmemory-clients", "maxmemory-policy", "maxmemory-samples"}},
		{"exact", []string{"maxmemory"}, []string{"maxmemory"}},
		{"upper case", []string{"MAXMEMORY"}, []string{"maxmemory"}},
		{"question mark", []string{"maxmemory-p?licy"}, []string{"maxmemory-policy"}},
		{"class", []string{"time[o]ut"}, []string{"timeout"}},
		{"unknown", []string{"nosuch"}, nil},
		{"unknown glob", []string{"nosuch*"}, nil},
		{"several", []string{"maxmemory", "port", "nosuch"}, []string{"maxmemory", "port"}},
		{"overlapping", []string{"maxmemory", "maxmemory*", "maxmemory-policy"}, []string{"maxmemory", "maxmemory-clients", "maxmemory-policy", "maxmemory-samples"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []any{"CONFIG", "GET"}
			for _, p := range tt.patterns {
				args = append(args, p)
			}
			v, err := c.Do(ctx, args...).Slice()
			if err != nil {
				t.Fatal(err)
			}
			got := srvPairs(t, v)
			if len(v) != 2*len(got) {
				t.Fatalf("CONFIG GET %v repeats names: %v", tt.patterns, v)
			}
			if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, tt.want) {
				t.Fatalf("CONFIG GET %v = %v, want names %v", tt.patterns, got, tt.want)
			}
		})
	}

	all, err := c.ConfigGet(ctx, "*").Result()
	if err != nil || len(all) != len(configParams) {
		t.Fatalf("CONFIG GET * has %d entries, %v; want %d", len(all), err, len(configParams))
	}
	for k, want := range map[string]string{"port": "7000", "maxmemory": "0", "proto-max-bulk-len": "536870912", "maxclients": "10000", "timeout": "0", "databases": "1"} {
		if all[k] != want {
			t.Errorf("CONFIG GET %s = %q, want %q", k, all[k], want)
		}
	}

	r := ts.raw(t)
	r.expect("*0\r\n", "CONFIG", "GET", "nosuch")
	r.expect("*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n", "CONFIG", "GET", "timeout")
	r.expect("-ERR wrong number of arguments for 'config|get' command\r\n", "CONFIG", "GET")
	r.expect("-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n", "CONFIG", "foo")
	r.do("HELLO", "3")
	r.reply()
	r.expect("%0\r\n", "CONFIG", "GET", "nosuch")
	r.expect("%1\r\n$7\r\ntimeout\r\n$1\r\n0\r\n", "CONFIG", "GET", "timeout")
}

func TestConfigSet(t *testing.T) {
	const failed = "-ERR CONFIG SET failed (possibly related to argument "
	tests := []struct {
		name string
		args []string // after CONFIG SET
		want string
		get  map[string]string // CONFIG GET values afterwards
	}{
		{name: "maxmemory 100mb", args: []string{"maxmemory", "100mb"}, want: "+OK\r\n", get: map[string]string{"maxmemory": "104857600"}},
		{name: "maxmemory units", args: []string{"maxmemory", "1GB"}, want: "+OK\r\n", get: map[string]string{"maxmemory": "1073741824"}},
		{name: "maxmemory k", args: []string{"maxmemory", "1k"}, want: "+OK\r\n", get: map[string]string{"maxmemory": "1000"}},
		{name: "maxmemory bytes", args: []string{"MAXMEMORY", "12345"}, want: "+OK\r\n", get: map[string]string{"maxmemory": "12345"}},
		{name: "several", args: []string{"maxmemory", "100mb", "maxmemory-policy", "ALLKEYS-LRU", "maxmemory-samples", "7", "timeout", "30", "maxclients", "50"}, want: "+OK\r\n",
			get: map[string]string{"maxmemory": "104857600", "maxmemory-policy": "allkeys-lru", "maxmemory-samples": "7", "timeout": "30", "maxclients": "50"}},
		{name: "unknown", args: []string{"nosuch", "1"}, want: "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"},
		{name: "unknown after valid", args: []string{"maxmemory", "1mb", "nosuch", "1"}, want: "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n",
			get: map[string]string{"maxmemory": "0"}},
		{name: "immutable", args: []string{"port", "1"}, want: failed + "'port') - can't set immutable config\r\n", get: map[string]string{"port": "6379"}},
		{name: "immutable limit", args: []string{"proto-max-bulk-len", "1"}, want: failed + "'proto-max-bulk-len') - can't set immutable config\r\n"},
		{name: "duplicate", args: []string{"maxmemory", "1", "MAXMEMORY", "2"}, want: failed + "'MAXMEMORY') - duplicate parameter\r\n", get: map[string]string{"maxmemory": "0"}},
		{name: "bad memory", args: []string{"maxmemory", "abc"}, want: failed + "'maxmemory') - argument must be a memory value\r\n"},
		{name: "negative memory", args: []string{"maxmemory", "-1"}, want: failed + "'maxmemory') - argument must be a memory value\r\n"},
		{name: "bad policy", args: []string{"maxmemory-policy", "foo"},
			want: failed + "'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction\r\n"},
		{name: "bad samples", args: []string{"maxmemory-samples", "0"}, want: failed + "'maxmemory-samples') - argument must be between 1 and 64 inclusive\r\n"},
		{name: "samples not a number", args: []string{"maxmemory-samples", "x"}, want: failed + "'maxmemory-samples') - argument couldn't be parsed into an integer\r\n"},
		{name: "timeout not a number", args: []string{"timeout", "1.5"}, want: failed + "'timeout') - argument couldn't be parsed into an integer\r\n"},
		{name: "negative timeout", args: []string{"timeout", "-1"}, want: failed + "'timeout') - argument must be between 0 and 2147483647 inclusive\r\n"},
		{name: "zero maxclients", args: []string{"maxclients", "0"}, want: failed + "'maxclients') - argument must be between 1 and 4294967295 inclusive\r\n"},
		{name: "atomic", args: []string{"maxmemory-policy", "allkeys-lru", "maxmemory", "1mb", "maxmemory-samples", "0"},
			want: failed + "'maxmemory-samples') - argument must be between 1 and 64 inclusive\r\n", get: map[string]string{"maxmemory-policy": "{policy}", "maxmemory": "0"}},
		{name: "missing value", args: []string{"maxmemory"}, want: "-ERR wrong number of arguments for 'config|set' command\r\n"},
		{name: "odd arguments", args: []string{"maxmemory", "1", "timeout"}, want: "-ERR wrong number of arguments for 'config|set' command\r\n", get: map[string]string{"maxmemory": "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, nil)
			policy := ts.node.Policy().String()
			r := ts.raw(t)
			r.expect(tt.want, append([]string{"CONFIG", "SET"}, tt.args...)...)
			for k, v := range tt.get {
				v = strings.ReplaceAll(v, "{policy}", policy)
				r.expect(fmt.Sprintf("*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(k), k, len(v), v), "CONFIG", "GET", k)
			}
		})
	}

	t.Run("takes effect", func(t *testing.T) {
		ts := startServer(t, nil)
		c := ts.client(t, 2)
		ctx := context.Background()
		if err := c.ConfigSet(ctx, "maxmemory", "100mb").Err(); err != nil {
			t.Fatal(err)
		}
		if got := ts.node.MaxMemory(); got != 100<<20 {
			t.Fatalf("node max memory %d after CONFIG SET maxmemory 100mb", got)
		}
		if got := srvInt(t, srvInfo(t, c, "memory"), "maxmemory"); got != 100<<20 {
			t.Fatalf("INFO maxmemory %d", got)
		}
		if got, err := c.ConfigGet(ctx, "maxmemory").Result(); err != nil || got["maxmemory"] != "104857600" {
			t.Fatalf("CONFIG GET maxmemory = %v, %v", got, err)
		}
		if err := c.ConfigSet(ctx, "maxclients", "3").Err(); err != nil {
			t.Fatal(err)
		}
		if got := srvInt(t, srvInfo(t, c, "clients"), "maxclients"); got != 3 {
			t.Fatalf("INFO maxclients %d", got)
		}
	})
}

func TestConfigResetStat(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.client(t, 2)
	ctx := context.Background()
	c.Set(ctx, "k", "v", 0)
	c.Get(ctx, "k")
	c.Get(ctx, "missing")
	before := srvInfo(t, c, "stats")
	if srvInt(t, before, "keyspace_hits") == 0 || srvInt(t, before, "keyspace_misses") == 0 {
		t.Fatalf("INFO stats before reset = %v", before)
	}
	if err := c.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	after := srvInfo(t, c, "stats")
	for _, k := range []string{"keyspace_hits", "keyspace_misses", "rejected_connections", "expired_keys", "evicted_keys"} {
		if got := srvInt(t, after, k); got != 0 {
			t.Errorf("%s = %d after CONFIG RESETSTAT", k, got)
		}
	}
	if got := srvInt(t, after, "total_commands_processed"); got > 2 {
		t.Errorf("total_commands_processed = %d after CONFIG RESETSTAT", got)
	}
	if n, _ := c.DBSize(ctx).Result(); n != 1 {
		t.Errorf("CONFIG RESETSTAT changed the data: DBSIZE %d", n)
	}
	r := ts.raw(t)
	r.expect("-ERR wrong number of arguments for 'config|resetstat' command\r\n", "CONFIG", "RESETSTAT", "x")
}

func TestMemoryCommands(t *testing.T) {
	ts := startServer(t, nil)
	c2, c3 := ts.client(t, 2), ts.client(t, 3)
	ctx := context.Background()

	r := ts.raw(t)
	r.expect("$-1\r\n", "MEMORY", "USAGE", "missing")
	r.do("MEMORY", "DOCTOR")
	if got := connBulk(t, r.reply()); !strings.Contains(got, "empty") {
		t.Errorf("MEMORY DOCTOR on an empty instance = %q", got)
	}

	c2.Set(ctx, "small", "v", 0)
	c2.Set(ctx, "big", strings.Repeat("v", 10000), 0)
	small, err := c2.MemoryUsage(ctx, "small").Result()
	if err != nil || small <= 0 {
		t.Fatalf("MEMORY USAGE small = %d, %v", small, err)
	}
	big, err := c2.MemoryUsage(ctx, "big").Result()
	if err != nil || big < small+10000 {
		t.Fatalf("MEMORY USAGE big = %d, %v (small %d)", big, err, small)
	}

	usage := []struct {
		name string
		args []string
		want string
	}{
		{"samples", []string{"small", "SAMPLES", "5"}, ":" + strconv.FormatInt(small, 10) + "\r\n"},
		{"samples zero", []string{"small", "samples", "0"}, ":" + strconv.FormatInt(small, 10) + "\r\n"},
		{"missing key with samples", []string{"missing", "SAMPLES", "5"}, "$-1\r\n"},
		{"negative samples", []string{"small", "SAMPLES", "-1"}, "-ERR syntax error\r\n"},
		{"samples not a number", []string{"small", "SAMPLES", "x"}, "-ERR value is not an integer or out of range\r\n"},
		{"samples without count", []string{"small", "SAMPLES"}, "-ERR syntax error\r\n"},
		{"unknown option", []string{"small", "foo"}, "-ERR syntax error\r\n"},
		{"no key", nil, "-ERR wrong number of arguments for 'memory|usage' command\r\n"},
	}
	for _, tt := range usage {
		t.Run("usage "+tt.name, func(t *testing.T) {
			r.expect(tt.want, append([]string{"MEMORY", "USAGE"}, tt.args...)...)
		})
	}

	t.Run("stats", func(t *testing.T) {
		r.do("MEMORY", "STATS")
		flat := r.reply()
		if !strings.HasPrefix(flat, "*18\r\n$14\r\npeak.allocated\r\n:") {
			t.Fatalf("RESP2 MEMORY STATS = %q, want a flat array", flat)
		}
		for _, c := range []*redis.Client{c2, c3} {
			v, err := c.Do(ctx, "MEMORY", "STATS").Result()
			if err != nil {
				t.Fatal(err)
			}
			if _, isMap := v.(map[any]any); isMap != (c == c3) {
				t.Fatalf("MEMORY STATS reply %T", v)
			}
			stats := srvPairs(t, v)
			for _, k := range []string{"peak.allocated", "total.allocated", "startup.allocated", "dataset.bytes", "keys.count", "keys.bytes-per-key", "rss.bytes"} {
				if _, ok := stats[k].(int64); !ok {
					t.Errorf("MEMORY STATS %s = %v", k, stats[k])
				}
			}
			if stats["keys.count"] != int64(2) || stats["dataset.bytes"].(int64) < 10000 {
				t.Errorf("MEMORY STATS = %v", stats)
			}
		}
	})

	t.Run("doctor", func(t *testing.T) {
		text, err := c2.Do(ctx, "MEMORY", "DOCTOR").Text()
		if err != nil || text == "" {
			t.Fatalf("MEMORY DOCTOR = %q, %v", text, err)
		}
		r3 := ts.raw(t)
		r3.do("HELLO", "3")
		r3.reply()
		r3.do("MEMORY", "DOCTOR")
		if got := r3.reply(); !strings.HasPrefix(got, "=") || !strings.Contains(got, "txt:") {
			t.Fatalf("RESP3 MEMORY DOCTOR = %q, want a verbatim string", got)
		}
		r3.expect("_\r\n", "MEMORY", "USAGE", "missing")
		r3.do("MEMORY", "STATS")
		if got := r3.reply(); !strings.HasPrefix(got, "%9\r\n") {
			t.Fatalf("RESP3 MEMORY STATS = %.40q, want a map", got)
		}
	})

	r.expect("-ERR unknown subcommand 'foo'. Try MEMORY HELP.\r\n", "MEMORY", "foo")
	r.expect("-ERR wrong number of arguments for 'memory' command\r\n", "MEMORY")
	r.do("MEMORY", "HELP")
	if got := r.reply(); !strings.HasSuffix(got, "+HELP\r\n") {
		t.Errorf("MEMORY HELP = %q", got)
	}
}
