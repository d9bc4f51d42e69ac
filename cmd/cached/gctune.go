package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// A cache's heap is mostly long-lived entries, so Go's default GOGC=100 would
// let the process grow to about twice its data before collecting. gcTuner
// instead keeps the garbage headroom to an eighth of the live heap (at least
// minHeadroom, so small heaps are not collected constantly). Entries hold no
// pointers, so the extra collections are cheap: they mark entries without
// scanning them.
const (
	minHeadroom     = 16 << 20
	headroomDivisor = 8
	minGCPercent    = 10
	tuneInterval    = 500 * time.Millisecond
)

// gcPercent returns the GOGC that gives a heap of live bytes its headroom.
func gcPercent(live uint64) int {
	if live == 0 {
		return 100
	}
	headroom := max(live/headroomDivisor, minHeadroom)
	return min(max(int(headroom*100/live), minGCPercent), 100)
}

// tuneGC adjusts GOGC to the live heap until ctx ends. An explicit GOGC in
// the environment wins and turns the tuner off.
func tuneGC(ctx context.Context, explicitGOGC bool) {
	if explicitGOGC {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(tuneInterval)
	defer t.Stop()
	current := 100
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return // not supported by this runtime
		}
		if p := gcPercent(sample[0].Value.Uint64()); p != current {
			debug.SetGCPercent(p)
			current = p
		}
	}
}
