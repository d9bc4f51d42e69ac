package resp

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLatencyMonitor(t *testing.T) {
	ts := startServer(t, nil)
	ctx := context.Background()
	c := ts.client(t, 2)
	if got := c.ConfigGet(ctx, "latency-monitor-threshold").Val()["latency-monitor-threshold"]; got != "0" {
		t.Fatalf("latency-monitor-threshold default %q", got)
	}
	doctor := func() string {
		t.Helper()
		s, err := c.Do(ctx, "LATENCY", "DOCTOR").Text()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := doctor(); !strings.Contains(s, "disabled") {
		t.Errorf("DOCTOR with the monitor off: %q", s)
	}
	// Off: a slow command records nothing.
	cmd := table["get"]
	ts.srv.observeCommand(ts.srv.newClient("a", "b"), cmd, [][]byte{[]byte("GET"), []byte("k")}, time.Second)
	if got := c.Do(ctx, "LATENCY", "LATEST").Val(); len(got.([]any)) != 0 {
		t.Fatalf("LATENCY LATEST with the monitor off: %v", got)
	}
	if err := c.ConfigSet(ctx, "latency-monitor-threshold", "100").Err(); err != nil {
		t.Fatal(err)
	}
	if s := doctor(); !strings.Contains(s, "No latency spike") {
		t.Errorf("DOCTOR with no spike: %q", s)
	}
	// Spikes are what call measures; feed known durations to the same path.
	cl := ts.srv.newClient("a", "b")
	ts.srv.observeCommand(cl, cmd, [][]byte{[]byte("GET"), []byte("k")}, 99*time.Millisecond) // below
	ts.srv.observeCommand(cl, cmd, [][]byte{[]byte("GET"), []byte("k")}, 250*time.Millisecond)
	ts.srv.observeCommand(cl, cmd, [][]byte{[]byte("GET"), []byte("k")}, 120*time.Millisecond) // same second: the worst stays
	ts.srv.observeCommand(cl, table["keys"], [][]byte{[]byte("KEYS"), []byte("*")}, 300*time.Millisecond)

	latest, err := c.Do(ctx, "LATENCY", "LATEST").Slice()
	if err != nil || len(latest) != 2 {
		t.Fatalf("LATENCY LATEST = %v, %v", latest, err)
	}
	now := time.Now().Unix()
	for i, want := range []struct {
		event       string
		latest, max int64
	}{{"command", 300, 300}, {"fast-command", 250, 250}} {
		e := latest[i].([]any)
		at := e[1].(int64)
		if e[0] != want.event || at < now-60 || at > now+1 || e[2] != want.latest || e[3] != want.max {
			t.Errorf("LATENCY LATEST[%d] = %v, want %s, now, %d, %d", i, e, want.event, want.latest, want.max)
		}
	}
	hist, err := c.Do(ctx, "LATENCY", "HISTORY", "fast-command").Slice()
	if err != nil || len(hist) != 1 || hist[0].([]any)[1] != int64(250) {
		t.Errorf("LATENCY HISTORY fast-command = %v, %v", hist, err)
	}
	if hist := c.Do(ctx, "LATENCY", "HISTORY", "nosuch").Val(); len(hist.([]any)) != 0 {
		t.Errorf("LATENCY HISTORY of an unknown event = %v", hist)
	}
	if s := doctor(); !strings.Contains(s, "fast-command: 1 latency spikes") || !strings.Contains(s, "Worst all time event 300ms") {
		t.Errorf("DOCTOR = %q", s)
	}
	if n := c.Do(ctx, "LATENCY", "RESET", "command", "nosuch").Val(); n != int64(1) {
		t.Errorf("LATENCY RESET command nosuch = %v, want 1", n)
	}
	if n := c.Do(ctx, "LATENCY", "RESET").Val(); n != int64(1) {
		t.Errorf("LATENCY RESET = %v, want 1", n)
	}
	if got := c.Do(ctx, "LATENCY", "LATEST").Val(); len(got.([]any)) != 0 {
		t.Errorf("LATENCY LATEST after RESET: %v", got)
	}
	help, err := c.Do(ctx, "LATENCY", "HELP").StringSlice()
	if err != nil || !strings.HasPrefix(help[0], "LATENCY <subcommand>") {
		t.Errorf("LATENCY HELP = %q, %v", help, err)
	}
}

func TestLatencyHistoryIsBounded(t *testing.T) {
	var m latencyMonitor
	for i := range 2 * latencyHistoryLen {
		m.add("command", time.Duration(i)*time.Millisecond)
		// Samples in the same second merge: give each its own second.
		s := m.events["command"]
		s.samples[len(s.samples)-1].at -= int64(2*latencyHistoryLen - i)
	}
	if n := len(m.events["command"].samples); n != latencyHistoryLen {
		t.Errorf("%d samples kept, want %d", n, latencyHistoryLen)
	}
}

func TestLatencyHistogram(t *testing.T) {
	ts := startServer(t, nil)
	for _, proto := range []string{"2", "3"} {
		t.Run("RESP"+proto, func(t *testing.T) {
			r := ts.raw(t)
			r.do("HELLO", proto)
			r.reply()
			r.expect("+OK\r\n", "CONFIG", "RESETSTAT")
			for range 7 {
				r.expect("+OK\r\n", "SET", "k", "v")
			}
			r.do("LATENCY", "HISTOGRAM", "set", "nosuch", "config")
			got := r.reply()
			m, mult := "*", 2 // RESP2 flattens a map into an array
			if proto == "3" {
				m, mult = "%", 1
			}
			// Two commands: set, then config|resetstat (CONFIG stands for its
			// subcommands); each a map of calls and histogram_usec.
			prefix := m + strconv.Itoa(2*mult) + "\r\n$3\r\nset\r\n" + m + strconv.Itoa(2*mult) + "\r\n$5\r\ncalls\r\n:7\r\n$14\r\nhistogram_usec\r\n" + m
			if !strings.HasPrefix(got, prefix) {
				t.Fatalf("LATENCY HISTOGRAM reply %q does not start with %q", got, prefix)
			}
			if !strings.Contains(got, "$16\r\nconfig|resetstat\r\n") {
				t.Errorf("LATENCY HISTOGRAM config has no config|resetstat: %q", got)
			}
			// The last bucket of set holds all 7 calls.
			setPart := got[:strings.Index(got, "$16\r\nconfig|resetstat")]
			if !strings.HasSuffix(setPart, ":7\r\n") {
				t.Errorf("set's histogram does not end at 7 calls: %q", setPart)
			}
		})
	}
}
