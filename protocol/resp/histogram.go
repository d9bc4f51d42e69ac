package resp

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// latencyHistogram counts command durations in log-linear buckets of
// microseconds: one bucket per microsecond below 8µs, then four buckets per
// power of two up to 2^27µs (about 134s); longer durations share the last
// bucket. Its error is under 25%, enough for p50/p99/p99.9, and its
// power-of-two bounds are the buckets LATENCY HISTOGRAM and Prometheus show.
// Adding is one atomic increment; reading may run concurrently with adding.
type latencyHistogram [histBuckets]atomic.Uint64

const (
	histOctaves = 24 // octaves [2^3, 2^27) µs, four buckets each
	histBuckets = 8 + 4*histOctaves + 1
)

// bucketOf returns the bucket of a duration of us microseconds.
func bucketOf(us uint64) int {
	if us < 8 {
		return int(us)
	}
	k := bits.Len64(us) // us is in [2^(k-1), 2^k), k >= 4
	if k > 3+histOctaves {
		return histBuckets - 1
	}
	return 8 + (k-4)*4 + int(us>>(k-3)&3)
}

// bucketBound returns the exclusive upper bound of bucket i in
// microseconds; the last bucket has none (it returns 0).
func bucketBound(i int) uint64 {
	switch {
	case i < 8:
		return uint64(i + 1)
	case i >= histBuckets-1:
		return 0
	}
	k, sub := (i-8)/4+4, uint64((i-8)%4)
	return (5 + sub) << (k - 3)
}

// add counts one duration.
func (h *latencyHistogram) add(d time.Duration) {
	h[bucketOf(uint64(d/time.Microsecond))].Add(1)
}

// histogramSnapshot is a copy of a histogram's counts.
type histogramSnapshot [histBuckets]uint64

// addTo adds h's counts to s.
func (h *latencyHistogram) addTo(s *histogramSnapshot) {
	for i := range h {
		s[i] += h[i].Load()
	}
}

func (h *latencyHistogram) reset() {
	for i := range h {
		h[i].Store(0)
	}
}

// total returns the number of durations counted.
func (s *histogramSnapshot) total() uint64 {
	var n uint64
	for _, c := range s {
		n += c
	}
	return n
}

// percentile returns the upper bound, in microseconds, of the bucket that
// holds the p-th percentile (0 < p <= 100), or 0 when s is empty. Durations
// past the last bound report that bound.
func (s *histogramSnapshot) percentile(p float64) float64 {
	total := s.total()
	if total == 0 {
		return 0
	}
	rank := uint64(float64(total)*p/100 + 0.5)
	rank = min(max(rank, 1), total)
	var seen uint64
	for i, c := range s {
		seen += c
		if seen >= rank {
			if b := bucketBound(i); b > 0 {
				return float64(b)
			}
			break
		}
	}
	return float64(bucketBound(histBuckets - 2))
}

// powerOfTwo calls fn for each power-of-two bound in microseconds (1, 2,
// 4, ... 2^(3+histOctaves)) with the number of durations below it.
func (s *histogramSnapshot) powerOfTwo(fn func(boundUS, cumulative uint64)) {
	var seen uint64
	next := uint64(1)
	for i := range histBuckets - 1 {
		seen += s[i]
		if bucketBound(i) == next {
			fn(next, seen)
			next <<= 1
		}
	}
}
