package main

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestZipfMatchesPMF checks empirical rank frequencies against the exact
// Zipf probability mass function, including exponents at and below 1.
func TestZipfMatchesPMF(t *testing.T) {
	const n, draws = 50, 500_000
	for _, s := range []float64{0.5, 0.9, 0.99, 1.0, 1.2} {
		z := newZipf(rand.New(rand.NewPCG(1, 2)), n, s)
		counts := make([]int, n+1)
		for range draws {
			k := z.next()
			if k < 1 || k > n {
				t.Fatalf("s=%v: rank %d outside [1, %d]", s, k, n)
			}
			counts[k]++
		}
		var norm float64
		for k := 1; k <= n; k++ {
			norm += math.Pow(float64(k), -s)
		}
		for k := 1; k <= n; k++ {
			p := math.Pow(float64(k), -s) / norm
			want := p * draws
			sd := math.Sqrt(draws * p * (1 - p))
			if got := float64(counts[k]); math.Abs(got-want) > 5*sd {
				t.Errorf("s=%v rank %d: got %v draws, want %.0f ± %.0f", s, k, got, want, 5*sd)
			}
		}
	}
}
