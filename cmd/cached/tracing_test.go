package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

func TestLoadConfigObservability(t *testing.T) {
	c, err := loadConfig(nil, env(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.resp.SlowlogSlowerThan != 10*time.Millisecond || c.resp.SlowlogMaxLen != 128 ||
		c.resp.LatencyMonitorThreshold != 0 || c.otelEndpoint != "" || c.resp.TraceSampleRatio != 0.01 {
		t.Errorf("defaults: slowlog %v/%d, latency %v, otel %q %v", c.resp.SlowlogSlowerThan, c.resp.SlowlogMaxLen,
			c.resp.LatencyMonitorThreshold, c.otelEndpoint, c.resp.TraceSampleRatio)
	}
	c, err = loadConfig([]string{"--slowlog-log-slower-than", "-1", "--slowlog-max-len", "5", "--latency-monitor-threshold", "20",
		"--otel-endpoint", "collector:4317", "--otel-sample-ratio", "1"}, env(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.resp.SlowlogSlowerThan >= 0 || c.resp.SlowlogMaxLen != 5 || c.resp.LatencyMonitorThreshold != 20*time.Millisecond ||
		c.otelEndpoint != "collector:4317" || c.resp.TraceSampleRatio != 1 {
		t.Errorf("set: slowlog %v/%d, latency %v, otel %q %v", c.resp.SlowlogSlowerThan, c.resp.SlowlogMaxLen,
			c.resp.LatencyMonitorThreshold, c.otelEndpoint, c.resp.TraceSampleRatio)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--slowlog-log-slower-than", "-2"}, "invalid slowlog-log-slower-than"},
		{[]string{"--slowlog-max-len", "-1"}, "invalid slowlog-max-len"},
		{[]string{"--latency-monitor-threshold", "x"}, "invalid latency-monitor-threshold"},
		{[]string{"--otel-endpoint", "collector"}, "invalid otel-endpoint"},
		{[]string{"--otel-endpoint", "http://"}, "invalid otel-endpoint"},
		{[]string{"--otel-sample-ratio", "1.5"}, "invalid otel-sample-ratio"},
		{[]string{"--otel-sample-ratio", "NaN"}, "invalid otel-sample-ratio"},
	} {
		if _, err := loadConfig(tt.args, env(), io.Discard); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestStartTracing(t *testing.T) {
	ctx := context.Background()
	tr, stop, err := startTracing(ctx, "")
	if err != nil || tr != nil || stop(ctx) != nil {
		t.Fatalf("no endpoint: tracer %v, err %v", tr, err)
	}
	// Exporters connect lazily: nothing listens on these, and no span is
	// ever ended, so stopping has nothing to send.
	for _, endpoint := range []string{"127.0.0.1:1", "http://127.0.0.1:1/v1/traces"} {
		tr, stop, err := startTracing(ctx, endpoint)
		if err != nil || tr == nil {
			t.Fatalf("%s: tracer %v, err %v", endpoint, tr, err)
		}
		_, span := tr.Start(ctx, "probe")
		if !span.SpanContext().IsSampled() {
			t.Errorf("%s: the SDK does not record spans the server sampled", endpoint)
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := stop(sctx); err != nil {
			t.Errorf("%s: stop: %v", endpoint, err)
		}
		cancel()
	}
}
