package origin

import (
	"maps"
	"slices"
	"sync/atomic"
	"time"
)

// LoadBuckets are the upper bounds, in seconds, of the load duration
// histogram.
var LoadBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// ruleCounters counts a rule's origin traffic.
type ruleCounters struct {
	loaded, absent, failed, rejected, shared atomic.Int64 // loads by result
	errors                                   atomic.Int64 // failed origin calls of any kind, refusals included
	written, queued, notified                atomic.Int64
	buckets                                  [13]atomic.Int64 // per LoadBuckets, not cumulative
	count                                    atomic.Int64
	sumNanos                                 atomic.Int64
}

// observe records the duration of one origin load.
func (c *ruleCounters) observe(d time.Duration) {
	c.count.Add(1)
	c.sumNanos.Add(int64(d))
	s := d.Seconds()
	for i, b := range LoadBuckets {
		if s <= b {
			c.buckets[i].Add(1)
			return
		}
	}
}

// RuleStats describes a rule and its traffic.
type RuleStats struct {
	Pattern, Origin, Mode string
	TTL, NegativeTTL      time.Duration
	Jitter                float64
	Timeout               time.Duration
	// Loads counts loads by result: "ok" (a value), "absent" (404, no
	// row), "error", "breaker_open" (refused), "shared" (waited on
	// another caller's load).
	Loads map[string]int64
	// Errors counts failed origin calls, loads and writes, refusals by
	// an open breaker included.
	Errors int64
	// Written counts write-through writes, Queued write-behind ones,
	// Notified keys invalidated by the origin's notifications.
	Written, Queued, Notified int64
	// LoadCount, LoadSeconds and LoadBuckets (cumulative, per
	// LoadBuckets) describe the durations of origin loads.
	LoadCount   int64
	LoadSeconds float64
	LoadBuckets []int64
}

// OriginStats describes an origin.
type OriginStats struct {
	Name    string
	Breaker BreakerState
}

// Stats describes the engine.
type Stats struct {
	Rules    []RuleStats
	Origins  []OriginStats // sorted by name
	Queue    QueueStats    // zero without write-behind rules
	Negative int           // keys remembered as absent
}

// Stats returns the engine's figures.
func (e *Engine) Stats() Stats {
	var st Stats
	for _, r := range e.rules {
		c := &r.stats
		rs := RuleStats{Pattern: r.Pattern, Origin: r.Origin, Mode: r.Mode.String(), TTL: r.TTL, NegativeTTL: r.NegativeTTL,
			Jitter: r.Jitter, Timeout: r.Timeout,
			Loads: map[string]int64{"ok": c.loaded.Load(), "absent": c.absent.Load(), "error": c.failed.Load(),
				"breaker_open": c.rejected.Load(), "shared": c.shared.Load()},
			Errors: c.errors.Load(), Written: c.written.Load(), Queued: c.queued.Load(), Notified: c.notified.Load(),
			LoadCount: c.count.Load(), LoadSeconds: time.Duration(c.sumNanos.Load()).Seconds()}
		var cum int64
		for i := range LoadBuckets {
			cum += c.buckets[i].Load()
			rs.LoadBuckets = append(rs.LoadBuckets, cum)
		}
		st.Rules = append(st.Rules, rs)
	}
	for _, name := range sortedKeys(e.origins) {
		st.Origins = append(st.Origins, OriginStats{Name: name, Breaker: e.origins[name].breaker.current()})
	}
	if e.queue != nil {
		st.Queue = e.queue.stats()
	}
	st.Negative = e.neg.len()
	return st
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
