package resp

import (
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	// Every duration falls in a bucket whose bounds hold it.
	for _, us := range []uint64{0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 12345, 1 << 20, 1<<27 - 1} {
		i := bucketOf(us)
		if us >= bucketBound(i) {
			t.Errorf("%dµs in bucket %d whose bound is %d", us, i, bucketBound(i))
		}
		if i > 0 && us < bucketBound(i-1) {
			t.Errorf("%dµs in bucket %d but below the previous bound %d", us, i, bucketBound(i-1))
		}
	}
	if got := bucketOf(1 << 40); got != histBuckets-1 {
		t.Errorf("bucketOf(2^40) = %d, want the last bucket %d", got, histBuckets-1)
	}
	for i := 1; i < histBuckets-1; i++ {
		if bucketBound(i) <= bucketBound(i-1) {
			t.Fatalf("bounds not increasing at %d: %d, %d", i, bucketBound(i-1), bucketBound(i))
		}
	}
}

func TestHistogramPercentiles(t *testing.T) {
	var h latencyHistogram
	for range 98 {
		h.add(3 * time.Microsecond)
	}
	h.add(100 * time.Microsecond)
	h.add(5 * time.Millisecond)
	var s histogramSnapshot
	h.addTo(&s)
	for _, tc := range []struct {
		p    float64
		want float64
	}{{50, 4}, {98, 4}, {99, 112}, {99.9, 5120}, {100, 5120}} {
		if got := s.percentile(tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	var bounds, counts []uint64
	s.powerOfTwo(func(b, c uint64) { bounds, counts = append(bounds, b), append(counts, c) })
	if len(bounds) != 28 || bounds[0] != 1 || bounds[27] != 1<<27 {
		t.Fatalf("power-of-two bounds = %v", bounds)
	}
	// 4µs: the 98 durations of 3µs; 128µs: +100µs; 8192µs: +5ms.
	for _, tc := range []struct{ i, want int }{{1, 0}, {2, 98}, {6, 98}, {7, 99}, {12, 99}, {13, 100}, {27, 100}} {
		if counts[tc.i] != uint64(tc.want) {
			t.Errorf("below %dµs: %d, want %d", bounds[tc.i], counts[tc.i], tc.want)
		}
	}
	var empty histogramSnapshot
	if empty.percentile(50) != 0 {
		t.Error("percentile of an empty histogram is not 0")
	}
}
