package resp

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cached/cached/node"
	"github.com/cached/cached/ring"
)

// tracedConfig returns an edit that traces every command into a recorder.
func tracedConfig(ratio float64) (*tracetest.SpanRecorder, func(*Config)) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	return rec, func(c *Config) {
		c.Tracer = tp.Tracer("cached")
		c.TraceSampleRatio = ratio
	}
}

// attr returns the value of key among a span's attributes.
func attr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func TestTraceCommands(t *testing.T) {
	rec, traced := tracedConfig(1)
	ts := startServer(t, func(_ *node.Config, c *Config) { traced(c) })
	r := ts.raw(t)
	r.expect("+OK\r\n", "SET", "k", "v")
	r.expect("$1\r\nv\r\n", "GET", "k")
	r.do("NOSUCH")
	r.reply()
	r.expect("-ERR value is not an integer or out of range\r\n", "INCR", "k")
	r.expect("+PONG\r\n", "PING")

	spans := rec.Ended()
	want := []struct {
		name string
		slot int // -1: no key
		err  bool
	}{{"SET", ring.Slot([]byte("k")), false}, {"GET", ring.Slot([]byte("k")), false}, {"unknown", -1, true},
		{"INCR", ring.Slot([]byte("k")), true}, {"PING", -1, false}}
	if len(spans) != len(want) {
		t.Fatalf("%d spans, want %d", len(spans), len(want))
	}
	for i, w := range want {
		s := spans[i]
		if s.Name() != w.name || s.SpanKind().String() != "server" {
			t.Errorf("span %d: %s %s, want %s server", i, s.Name(), s.SpanKind(), w.name)
		}
		if v, _ := attr(s, "db.system"); v.AsString() != "redis" {
			t.Errorf("span %s: db.system = %q", s.Name(), v.AsString())
		}
		slot, ok := attr(s, attrKeySlot)
		if w.slot < 0 && ok || w.slot >= 0 && slot.AsInt64() != int64(w.slot) {
			t.Errorf("span %s: key slot %v (set %v), want %d", s.Name(), slot.AsInt64(), ok, w.slot)
		}
		if got := s.Status().Code == codes.Error; got != w.err {
			t.Errorf("span %s: error status %v, want %v", s.Name(), got, w.err)
		}
		if s.Parent().IsValid() {
			t.Errorf("span %s has a parent", s.Name())
		}
	}
}

func TestTraceExecChildren(t *testing.T) {
	rec, traced := tracedConfig(1)
	ts := startServer(t, func(_ *node.Config, c *Config) { traced(c) })
	r := ts.raw(t)
	r.expect("+OK\r\n", "MULTI")
	r.expect("+QUEUED\r\n", "SET", "k", "v")
	r.expect("*1\r\n+OK\r\n", "EXEC")
	spans := rec.Ended() // MULTI, SET (queued), SET (run by EXEC), EXEC
	if len(spans) != 4 {
		t.Fatalf("%d spans, want 4", len(spans))
	}
	inner, exec := spans[2], spans[3]
	if inner.Name() != "SET" || exec.Name() != "EXEC" || inner.Parent().SpanID() != exec.SpanContext().SpanID() {
		t.Errorf("the command EXEC runs is not its child: %s (parent %s), %s (%s)",
			inner.Name(), inner.Parent().SpanID(), exec.Name(), exec.SpanContext().SpanID())
	}
}

func TestTraceOff(t *testing.T) {
	rec, traced := tracedConfig(0)
	ts := startServer(t, func(_ *node.Config, c *Config) { traced(c) })
	if ts.srv.tracer != nil {
		t.Fatal("a sample ratio of 0 leaves a tracer")
	}
	r := ts.raw(t)
	r.expect("+OK\r\n", "SET", "k", "v")
	if n := len(rec.Ended()); n != 0 {
		t.Errorf("%d spans with tracing off", n)
	}
	if ts := startServer(t, nil); ts.srv.tracer != nil {
		t.Error("tracing on by default")
	}
}

func TestTraceSampleRatio(t *testing.T) {
	tr := newTracer(sdktrace.NewTracerProvider().Tracer("t"), 0.25)
	if got, want := float64(tr.below)/(1<<64), 0.25; got != want {
		t.Errorf("threshold %v of the uint64 range, want %v", got, want)
	}
	if tr.all || !newTracer(tr.tracer, 1).all {
		t.Error("ratio 1 must trace every command, 0.25 not")
	}
}

func TestTraceForwardedHop(t *testing.T) {
	tc := startCluster(t, 2, nil)
	rec, traced := tracedConfig(1)
	tc.resp = traced
	entry := tc.add()
	tc.waitMembers(3)
	tc.waitSettled()
	// A key another node owns.
	v := entry.node.View()
	key := ""
	for i := 0; key == ""; i++ {
		k := "key" + strconv.Itoa(i)
		if p := v.Primary(ring.Slot([]byte(k))); p.Name != entry.name {
			key = k
		}
	}
	r := (&testServer{addr: entry.addr}).raw(t)
	r.expect("+OK\r\n", "SET", key, "v")
	var cmd, hop sdktrace.ReadOnlySpan
	checkFor(t, 5*time.Second, func() error {
		for _, s := range rec.Ended() {
			switch s.Name() {
			case "SET":
				cmd = s
			case "forward":
				hop = s
			}
		}
		if cmd == nil || hop == nil {
			return errors.New("no command and forward spans yet")
		}
		return nil
	})
	if hop.Parent().SpanID() != cmd.SpanContext().SpanID() {
		t.Errorf("the forward span is not the command's child")
	}
	to, _ := attr(hop, attrForwardTo)
	cmdTo, _ := attr(cmd, attrForwardTo)
	owner := v.Primary(ring.Slot([]byte(key)))
	if to.AsString() != owner.Peer || cmdTo.AsString() != owner.Peer {
		t.Errorf("forwarded to %q (command says %q), want the owner %q", to.AsString(), cmdTo.AsString(), owner.Peer)
	}
	if hop.Status().Code == codes.Error {
		t.Errorf("hop status %v", hop.Status())
	}
}

// TestTraceUnsampledAllocs: with tracing on, a command that is not sampled
// allocates nothing more than with tracing off.
func TestTraceUnsampledAllocs(t *testing.T) {
	_, traced := tracedConfig(1e-12)
	ts := startServer(t, func(_ *node.Config, c *Config) { traced(c) })
	if ts.srv.tracer == nil {
		t.Fatal("tracing is off")
	}
	r := ts.raw(t)
	r.expect("+OK\r\n", "SET", "k", "v")
	c := benchClient(t, ts, []byte("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"))
	runOnce(t, c)
	if n := testing.AllocsPerRun(1000, func() { runOnce(t, c) }); n > 0 {
		t.Errorf("an unsampled GET allocates %.1f times, want 0", n)
	}
}
