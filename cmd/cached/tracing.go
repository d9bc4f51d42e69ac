package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// serviceName is the OpenTelemetry service.name of cached's spans.
const serviceName = "cached"

// isHTTPEndpoint reports whether an otel-endpoint is an OTLP/HTTP URL
// rather than an OTLP/gRPC host:port.
func isHTTPEndpoint(endpoint string) bool {
	return strings.HasPrefix(endpoint, "http://") || strings.HasPrefix(endpoint, "https://")
}

// checkEndpoint validates an otel-endpoint setting: empty (off), an
// http(s):// URL (OTLP/HTTP) or host:port (OTLP/gRPC, plaintext).
func checkEndpoint(endpoint string) error {
	switch {
	case endpoint == "":
		return nil
	case isHTTPEndpoint(endpoint):
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" {
			return errors.New("not a URL with a host")
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(endpoint); err != nil {
		return errors.New("want host:port (OTLP/gRPC) or an http(s):// URL (OTLP/HTTP)")
	}
	return nil
}

// startTracing returns the tracer commands are traced with and a function
// that flushes the spans still buffered and stops the exporter; the tracer
// is nil when endpoint is empty. Spans are exported in batches from a
// background goroutine; when the collector is slow they are dropped, never
// waited for. Sampling is done by the RESP server (otel-sample-ratio), so
// the SDK records every span it is given. OTEL_EXPORTER_OTLP_* environment
// variables (headers, timeout, TLS certificates) apply as the exporters
// document.
func startTracing(ctx context.Context, endpoint string) (trace.Tracer, func(context.Context) error, error) {
	if endpoint == "" {
		return nil, func(context.Context) error { return nil }, nil
	}
	var exp sdktrace.SpanExporter
	var err error
	if isHTTPEndpoint(endpoint) {
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	} else {
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	}
	if err != nil {
		return nil, nil, err
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithResource(resource.NewSchemaless(
			attribute.String("service.name", serviceName),
			attribute.String("service.version", version),
		)),
	)
	return tp.Tracer("github.com/cached/cached"), tp.Shutdown, nil
}

// flushTimeout bounds the export of the last spans at shutdown.
const flushTimeout = 5 * time.Second

// flushTraces runs stop with a deadline; a collector that is down costs
// the shutdown at most flushTimeout.
func flushTraces(stop func(context.Context) error, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	if err := stop(ctx); err != nil {
		logger.Warn("flushing traces failed", "err", err)
	}
}
