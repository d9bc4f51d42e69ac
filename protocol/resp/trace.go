package resp

import (
	"context"
	"math/rand/v2"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/cached/cached/ring"
)

// OpenTelemetry tracing of commands, off unless Config.Tracer is set. The
// server samples commands itself (TraceSampleRatio) before asking the
// tracer for a span, so an unsampled command costs a random number and no
// allocation; with tracing off, call pays one nil check. A sampled command
// gets a server span named after it; a command forwarded to its slot's
// owner gets a child span for the hop, ended when the owner's reply comes.

// Span attribute keys.
const (
	attrKeySlot    = attribute.Key("cached.key_slot")
	attrForwardTo  = attribute.Key("cached.forwarded_to")
	attrForwardHop = attribute.Key("cached.forward_hops")
)

var attrDBSystem = attribute.String("db.system", "redis")

// tracer samples and starts command spans.
type tracer struct {
	tracer trace.Tracer
	// below: a command is sampled when a uniform random uint64 is below it.
	below uint64
	all   bool // ratio 1: every command
}

func newTracer(t trace.Tracer, ratio float64) *tracer {
	if t == nil || ratio <= 0 {
		return nil
	}
	return &tracer{tracer: t, below: uint64(ratio * (1 << 63) * 2), all: ratio >= 1}
}

// commandSpan is the span of the command a client runs; zero when the
// command is not traced.
type commandSpan struct {
	ctx  context.Context
	span trace.Span
}

// executeTraced runs execute inside a span when the command is sampled or
// runs within a traced EXEC.
func (c *Client) executeTraced(args [][]byte) {
	t := c.srv.tracer
	parent := c.span
	if parent.span == nil && !t.all && rand.Uint64() >= t.below {
		c.execute(args)
		return
	}
	ctx := context.Background()
	if parent.ctx != nil {
		ctx = parent.ctx
	}
	ctx, span := t.tracer.Start(ctx, "command", trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrDBSystem))
	c.span = commandSpan{ctx: ctx, span: span}
	c.execute(args)
	c.span = parent
	cmd := c.cmd
	if cmd == nil {
		span.SetName("unknown")
	} else {
		span.SetName(strings.ToUpper(cmd.name))
		if keys := commandKeys(cmd, args); len(keys) > 0 {
			span.SetAttributes(attrKeySlot.Int(ring.Slot(args[keys[0]])))
		}
	}
	if c.errs != c.errSeen {
		span.SetStatus(codes.Error, "error reply")
	}
	span.End()
}

// hopSpan is the span of one forwarded command; nil when not traced.
type hopSpan struct{ span trace.Span }

// startHop starts the span of forwarding c's command to addr, a child of
// the command's span; it returns nil when the command is not traced.
func (c *Client) startHop(addr string) *hopSpan {
	if c.span.span == nil {
		return nil
	}
	c.span.span.SetAttributes(attrForwardTo.String(addr))
	_, span := c.srv.tracer.tracer.Start(c.span.ctx, "forward", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrDBSystem, attrForwardTo.String(addr)))
	return &hopSpan{span: span}
}

// end ends the hop after hops retries with the owner's reply or error. It
// may run on any goroutine.
func (h *hopSpan) end(hops int, reply []byte, err error) {
	if h == nil {
		return
	}
	h.span.SetAttributes(attrForwardHop.Int(hops))
	switch {
	case err != nil:
		h.span.RecordError(err)
		h.span.SetStatus(codes.Error, err.Error())
	case len(reply) > 0 && reply[0] == '-':
		h.span.SetStatus(codes.Error, "error reply")
	}
	h.span.End()
}
