package store

import (
	"math/big"
	"strings"
)

// Redis computes INCRBYFLOAT in C long double (x87 extended: a 64-bit
// mantissa) and stores the result printed with "%.17Lf", trailing zeros
// removed. The same arithmetic at 64 bits of precision with math/big gives
// the same digits, so 0.1 + 0.2 is "0.3" here too, not float64's
// "0.30000000000000004".
const (
	longDoublePrec   = 64
	longDoubleMaxExp = 16384       // |x| ≥ 2^16384 overflows a long double
	longDoubleMinExp = -16381 - 63 // below the smallest denormal
	maxFloatChars    = 5 * 1024    // MAX_LONG_DOUBLE_CHARS
)

// parseLongDouble parses b as Redis's string2ld: a decimal number (or
// ±inf) with no surrounding spaces, not NaN, within long double range.
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= maxFloatChars {
		return nil, false
	}
	if inf, ok := parseInfinity(b); ok {
		return inf, true
	}
	f, _, err := big.ParseFloat(string(b), 10, longDoublePrec, big.ToNearestEven)
	if err != nil {
		return nil, false
	}
	if !f.IsInf() && f.Sign() != 0 {
		if exp := f.MantExp(nil); exp > longDoubleMaxExp || exp < longDoubleMinExp {
			return nil, false // strtold reports ERANGE
		}
	}
	return f, true
}

// parseInfinity recognises strtold's spellings of infinity: an optional
// sign, then "inf" or "infinity" in any case.
func parseInfinity(b []byte) (*big.Float, bool) {
	neg := b[0] == '-'
	if b[0] == '-' || b[0] == '+' {
		b = b[1:]
	}
	if w := strings.ToLower(string(b)); w != "inf" && w != "infinity" {
		return nil, false
	}
	return new(big.Float).SetInf(neg), true
}

// addLongDouble returns a + b as a long double would compute it, and false
// when the sum is infinite.
func addLongDouble(a, b *big.Float) (*big.Float, bool) {
	if a.IsInf() || b.IsInf() {
		return nil, false // inf + x is inf, inf - inf is NaN: both refused
	}
	sum := new(big.Float).SetPrec(longDoublePrec).SetMode(big.ToNearestEven).Add(a, b)
	if sum.Sign() != 0 && sum.MantExp(nil) > longDoubleMaxExp {
		return nil, false
	}
	return sum, true
}

// formatLongDouble prints f as Redis's ld2string in human mode.
func formatLongDouble(f *big.Float) []byte {
	s := f.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return []byte(s)
}
