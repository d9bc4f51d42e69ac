package resp

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSlowlog(t *testing.T) {
	ts := startServer(t, nil)
	ctx := context.Background()
	c := ts.client(t, 2)
	if got := c.ConfigGet(ctx, "slowlog-*").Val(); got["slowlog-log-slower-than"] != "10000" || got["slowlog-max-len"] != "128" {
		t.Fatalf("defaults: %v", got)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Do(ctx, "CLIENT", "SETNAME", "slowpoke").Err())
	must(c.ConfigSet(ctx, "slowlog-log-slower-than", "0").Err())
	must(c.Do(ctx, "SLOWLOG", "RESET").Err())
	must(c.Set(ctx, "k", "v", 0).Err())
	must(c.Get(ctx, "k").Err())
	c.Do(ctx, "AUTH", "secret") // fails (no password is set), and is not logged either way
	entries, err := c.SlowLogGet(ctx, -1).Result()
	must(err)
	// Newest first; SLOWLOG RESET itself ran after the reset; AUTH is never logged.
	wantArgs := [][]string{{"get", "k"}, {"set", "k", "v"}, {"SLOWLOG", "RESET"}}
	if len(entries) != len(wantArgs) {
		t.Fatalf("%d entries, want %d: %+v", len(entries), len(wantArgs), entries)
	}
	for i, e := range entries {
		if strings.Join(e.Args, " ") != strings.Join(wantArgs[i], " ") {
			t.Errorf("entry %d args %q, want %q", i, e.Args, wantArgs[i])
		}
		if i > 0 && e.ID != entries[i-1].ID-1 {
			t.Errorf("entry %d id %d after %d", i, e.ID, entries[i-1].ID)
		}
		if e.ClientName != "slowpoke" || e.ClientAddr == "" {
			t.Errorf("entry %d client %q %q", i, e.ClientAddr, e.ClientName)
		}
		if d := time.Since(e.Time); d < -time.Minute || d > time.Minute {
			t.Errorf("entry %d time %v", i, e.Time)
		}
	}
	if n := c.Do(ctx, "SLOWLOG", "LEN").Val(); n != int64(4) { // and SLOWLOG GET
		t.Errorf("SLOWLOG LEN = %v, want 4", n)
	}
	if got := c.SlowLogGet(ctx, 1).Val(); len(got) != 1 || !strings.EqualFold(got[0].Args[0], "SLOWLOG") {
		t.Errorf("SLOWLOG GET 1 = %+v", got)
	}
	if err := c.Do(ctx, "SLOWLOG", "GET", "-2").Err(); err == nil || err.Error() != "ERR count should be greater than or equal to -1" {
		t.Errorf("SLOWLOG GET -2: %v", err)
	}
	if err := c.Do(ctx, "SLOWLOG", "GET", "1", "2").Err(); err == nil || !strings.Contains(err.Error(), "wrong number of arguments") {
		t.Errorf("SLOWLOG GET 1 2: %v", err)
	}

	// slowlog-max-len keeps the newest entries.
	must(c.ConfigSet(ctx, "slowlog-max-len", "3").Err())
	for i := range 10 {
		must(c.Set(ctx, "k"+strconv.Itoa(i), "v", 0).Err())
	}
	got := c.SlowLogGet(ctx, -1).Val()
	if len(got) != 3 || got[0].Args[1] != "k9" || got[2].Args[1] != "k7" {
		t.Errorf("with slowlog-max-len 3: %+v", got)
	}
	must(c.ConfigSet(ctx, "slowlog-max-len", "1").Err())
	if n := c.Do(ctx, "SLOWLOG", "LEN").Val(); n != int64(1) {
		t.Errorf("SLOWLOG LEN after lowering slowlog-max-len to 1 = %v", n)
	}

	// Off: -1 logs nothing, a high threshold nothing fast.
	must(c.ConfigSet(ctx, "slowlog-max-len", "128").Err())
	for _, threshold := range []string{"-1", "100000000"} {
		must(c.ConfigSet(ctx, "slowlog-log-slower-than", threshold).Err())
		must(c.Do(ctx, "SLOWLOG", "RESET").Err())
		must(c.Set(ctx, "k", "v", 0).Err())
		if n := c.Do(ctx, "SLOWLOG", "LEN").Val(); n != int64(0) {
			t.Errorf("threshold %s: SLOWLOG LEN = %v", threshold, n)
		}
	}
	if err := c.ConfigSet(ctx, "slowlog-log-slower-than", "-2").Err(); err == nil {
		t.Error("slowlog-log-slower-than -2 accepted")
	}
	if err := c.ConfigSet(ctx, "slowlog-max-len", "-1").Err(); err == nil {
		t.Error("slowlog-max-len -1 accepted")
	}
	help, err := c.Do(ctx, "SLOWLOG", "HELP").StringSlice()
	if err != nil || len(help) < 3 || !strings.HasPrefix(help[0], "SLOWLOG <subcommand>") {
		t.Errorf("SLOWLOG HELP = %q, %v", help, err)
	}
}

func TestSlowlogTruncatesArguments(t *testing.T) {
	ts := startServer(t, nil)
	ctx := context.Background()
	c := ts.client(t, 2)
	if err := c.ConfigSet(ctx, "slowlog-log-slower-than", "0").Err(); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 200)
	args := []any{"DEL", long}
	for i := range 38 {
		args = append(args, "key"+strconv.Itoa(i))
	}
	if err := c.Do(ctx, args...).Err(); err != nil {
		t.Fatal(err)
	}
	got := c.SlowLogGet(ctx, 2).Val()
	if len(got) != 2 {
		t.Fatalf("entries %+v", got)
	}
	e := got[0] // SLOWLOG GET is logged after it has read the log
	if len(e.Args) != slowlogMaxArgs {
		t.Fatalf("%d args logged, want %d", len(e.Args), slowlogMaxArgs)
	}
	if want := strings.Repeat("x", 128) + "... (72 more bytes)"; e.Args[1] != want {
		t.Errorf("long argument logged as %q", e.Args[1])
	}
	if e.Args[30] != "key28" || e.Args[31] != "... (9 more arguments)" {
		t.Errorf("last arguments %q", e.Args[30:])
	}
}

func TestSlowlogArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"short", []string{"GET", "k"}, []string{"GET", "k"}},
		{"128 bytes kept", []string{strings.Repeat("a", 128)}, []string{strings.Repeat("a", 128)}},
		{"129 bytes cut", []string{strings.Repeat("a", 129)}, []string{strings.Repeat("a", 128) + "... (1 more bytes)"}},
		{"32 arguments kept", strings.Fields(strings.Repeat("a ", 32)), strings.Fields(strings.Repeat("a ", 32))},
		{"33 arguments cut", strings.Fields(strings.Repeat("a ", 33)), append(strings.Fields(strings.Repeat("a ", 31)), "... (2 more arguments)")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := make([][]byte, len(tc.args))
			for i, a := range tc.args {
				in[i] = []byte(a)
			}
			got := slowlogArgs(in)
			if len(got) != len(tc.want) {
				t.Fatalf("%d args, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if string(got[i]) != tc.want[i] {
					t.Errorf("arg %d = %q, want %q", i, got[i], tc.want[i])
				}
			}
			in[0][0] = 'z' // the log holds copies
			if got[0][0] == 'z' {
				t.Error("slowlogArgs kept the caller's buffer")
			}
		})
	}
}
