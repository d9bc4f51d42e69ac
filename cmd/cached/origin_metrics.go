package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cached/cached/node/origin"
)

// originCollector turns the origin engine's figures into metrics, read on
// each scrape. The names are fixed: dashboards and alerts refer to them.
type originCollector struct {
	engine *origin.Engine

	loads, duration, errors, breakerOpen, queueDepth, queueAge *prometheus.Desc
}

func newOriginCollector(e *origin.Engine) *originCollector {
	return &originCollector{
		engine:      e,
		loads:       prometheus.NewDesc("cached_origin_loads_total", "Read-through loads by rule and result: ok, absent (404, no row), error, breaker_open (refused), shared (waited on another caller's load).", []string{"rule", "result"}, nil),
		duration:    prometheus.NewDesc("cached_origin_load_duration_seconds", "Duration of origin loads by rule.", []string{"rule"}, nil),
		errors:      prometheus.NewDesc("cached_origin_errors_total", "Failed origin calls (loads and writes, refusals by an open breaker included) by rule.", []string{"rule"}, nil),
		breakerOpen: prometheus.NewDesc("cached_origin_breaker_open", "1 while the origin's circuit breaker refuses calls (open or half-open), 0 when closed.", []string{"origin"}, nil),
		queueDepth:  prometheus.NewDesc("cached_writebehind_queue_depth", "Keys whose write-behind write waits for its origin.", nil, nil),
		queueAge:    prometheus.NewDesc("cached_writebehind_oldest_age_seconds", "How long the oldest waiting write-behind write has waited.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *originCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.loads, c.duration, c.errors, c.breakerOpen, c.queueDepth, c.queueAge} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. It may be called concurrently.
func (c *originCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.engine.Stats()
	for _, r := range st.Rules {
		for result, n := range r.Loads {
			ch <- prometheus.MustNewConstMetric(c.loads, prometheus.CounterValue, float64(n), r.Pattern, result)
		}
		buckets := make(map[float64]uint64, len(origin.LoadBuckets))
		for i, b := range origin.LoadBuckets {
			buckets[b] = uint64(r.LoadBuckets[i])
		}
		ch <- prometheus.MustNewConstHistogram(c.duration, uint64(r.LoadCount), r.LoadSeconds, buckets, r.Pattern)
		ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(r.Errors), r.Pattern)
	}
	for _, o := range st.Origins {
		ch <- prometheus.MustNewConstMetric(c.breakerOpen, prometheus.GaugeValue, boolFloat(o.Breaker != origin.BreakerClosed), o.Name)
	}
	ch <- prometheus.MustNewConstMetric(c.queueDepth, prometheus.GaugeValue, float64(st.Queue.Depth))
	ch <- prometheus.MustNewConstMetric(c.queueAge, prometheus.GaugeValue, st.Queue.OldestAge.Seconds())
}
