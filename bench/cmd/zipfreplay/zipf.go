package main

import (
	"math"
	"math/rand/v2"
)

// zipf draws ranks in [1, n] with P(k) proportional to 1/k^s for any s > 0,
// including s <= 1 which math/rand's Zipf does not support. It implements
// rejection-inversion sampling (W. Hörmann and G. Derflinger, "Rejection-
// inversion to generate variates from monotone discrete distributions",
// 1996), following the bounded variant used by Apache Commons RNG.
type zipf struct {
	r         *rand.Rand
	n         float64
	s         float64
	hX1       float64 // hIntegral(1.5) - 1
	hN        float64 // hIntegral(n + 0.5)
	threshold float64 // accept immediately if k - x <= threshold
}

func newZipf(r *rand.Rand, n int, s float64) *zipf {
	z := &zipf{r: r, n: float64(n), s: s}
	z.hX1 = z.hIntegral(1.5) - 1
	z.hN = z.hIntegral(z.n + 0.5)
	z.threshold = 2 - z.hIntegralInverse(z.hIntegral(2.5)-z.h(2))
	return z
}

// next returns the next rank in [1, n].
func (z *zipf) next() int {
	for range 1000 {
		u := z.hN + z.r.Float64()*(z.hX1-z.hN)
		x := z.hIntegralInverse(u)
		k := math.Min(math.Max(math.Floor(x+0.5), 1), z.n)
		if k-x <= z.threshold || u >= z.hIntegral(k+0.5)-z.h(k) {
			return int(k)
		}
	}
	// The acceptance rate is far above 50%, so this is unreachable in
	// practice; fall back to the most likely rank rather than loop forever.
	return 1
}

// h is the unnormalised density x^-s.
func (z *zipf) h(x float64) float64 {
	return math.Exp(-z.s * math.Log(x))
}

// hIntegral is an antiderivative of h: (x^(1-s) - 1) / (1-s), or log(x) for s = 1.
func (z *zipf) hIntegral(x float64) float64 {
	logX := math.Log(x)
	return expm1Over((1-z.s)*logX) * logX
}

// hIntegralInverse is the inverse function of hIntegral.
func (z *zipf) hIntegralInverse(x float64) float64 {
	t := max(x*(1-z.s), -1) // clamp rounding errors below the domain of log1p
	return math.Exp(log1pOver(t) * x)
}

// log1pOver returns log(1+x)/x, continuous at x = 0.
func log1pOver(x float64) float64 {
	if math.Abs(x) > 1e-8 {
		return math.Log1p(x) / x
	}
	return 1 - x*(0.5-x*(1.0/3-0.25*x))
}

// expm1Over returns (exp(x)-1)/x, continuous at x = 0.
func expm1Over(x float64) float64 {
	if math.Abs(x) > 1e-8 {
		return math.Expm1(x) / x
	}
	return 1 + x*0.5*(1+x*(1.0/3)*(1+0.25*x))
}
