package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cached/cached/protocol/resp"
)

// commandSource is what the command metrics read from the RESP server;
// *resp.Server has it.
type commandSource interface {
	CommandStats() []resp.CommandStat
	ErrorStats() []resp.ErrorCount
	ForwardStats() (forwarded, failed int64)
}

// commandCollector exposes the RESP server's per-command counters and
// latency histograms, read on each scrape: the request path only bumps
// preallocated atomic counters. CONFIG RESETSTAT zeroes them, which
// Prometheus takes for a restart.
type commandCollector struct {
	src                                   commandSource
	commands, duration, errors, forwarded *prometheus.Desc
}

func newCommandCollector(src commandSource) *commandCollector {
	return &commandCollector{
		src: src,
		commands: prometheus.NewDesc("cached_commands_total",
			"Commands by name and result: ok, error (ran and replied with an error), rejected (refused before running: arity, NOAUTH, OOM...).",
			[]string{"command", "result"}, nil),
		duration: prometheus.NewDesc("cached_command_duration_seconds",
			"Time commands took to run on this node (parsing, dispatch, execution, reply encoding), by command; commands that were rejected are not counted.",
			[]string{"command"}, nil),
		errors: prometheus.NewDesc("cached_error_replies_total",
			"Error replies sent to clients by error code (ERR, WRONGTYPE, NOAUTH...), as INFO errorstats.",
			[]string{"code"}, nil),
		forwarded: prometheus.NewDesc("cached_forwarded_requests_total",
			"Commands forwarded to the node owning their keys, by result: ok, or error when the owner could not be reached in time.",
			[]string{"result"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *commandCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.commands
	ch <- c.duration
	ch <- c.errors
	ch <- c.forwarded
}

// Collect implements prometheus.Collector. It may be called concurrently.
func (c *commandCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	for _, cs := range c.src.CommandStats() {
		counter(c.commands, float64(cs.Calls-cs.Failed), cs.Name, "ok")
		counter(c.commands, float64(cs.Failed), cs.Name, "error")
		counter(c.commands, float64(cs.Rejected), cs.Name, "rejected")
		if cs.Calls == 0 {
			continue
		}
		buckets := make(map[float64]uint64, 32)
		cs.LatencyBuckets(func(bound time.Duration, n uint64) { buckets[bound.Seconds()] = n })
		ch <- prometheus.MustNewConstHistogram(c.duration, cs.Calls, cs.Duration.Seconds(), buckets, cs.Name)
	}
	for _, e := range c.src.ErrorStats() {
		counter(c.errors, float64(e.Count), e.Code)
	}
	forwarded, failed := c.src.ForwardStats()
	counter(c.forwarded, float64(forwarded-failed), "ok")
	counter(c.forwarded, float64(failed), "error")
}
