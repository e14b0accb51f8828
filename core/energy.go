package core

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Energy is an amount of electrical energy in milliwatt-hours (mWh).
//
// A milliwatt-hour is fine enough to apportion a register reading linearly
// between interval boundaries without losing energy, and an int64 holds more
// than any building will ever use.
type Energy int64

// Energy units.
const (
	MilliWh Energy = 1
	Wh      Energy = 1000
	KWh     Energy = 1000 * Wh
	MWh     Energy = 1000 * KWh
)

// KWh returns e in kilowatt-hours as a float, for display and charts only.
func (e Energy) KWh() float64 { return float64(e) / float64(KWh) }

// String formats e exactly in kWh, with three decimals at least and without
// trailing zeros beyond them ("12.345 kWh", "0.000001 kWh").
func (e Energy) String() string { return FormatKWh(e) + " kWh" }

// FormatKWh formats e exactly as a decimal number of kWh without a unit:
// at least three decimals, more only where the value has them.
func FormatKWh(e Energy) string {
	s := formatFixed(int64(e), 6)
	for strings.HasSuffix(s, "0") && len(s)-strings.IndexByte(s, '.') > 4 {
		s = s[:len(s)-1]
	}
	return s
}

// ParseKWh parses a decimal number of kWh ("12.5", "-0.25", "1e3" is refused)
// exactly, with at most six decimals (1 mWh).
func ParseKWh(s string) (Energy, error) {
	v, err := parseFixed(s, 6)
	if err != nil {
		return 0, fmt.Errorf("invalid kWh value %q: %w", s, err)
	}
	return Energy(v), nil
}

// Price is a price per kWh in micro-CHF (1 CHF/kWh = 1,000,000).
type Price int64

// ParsePrice parses a price in CHF per kWh given as an exact decimal string.
func ParsePrice(s string) (Price, error) {
	v, err := parseFixed(s, 6)
	if err != nil {
		return 0, fmt.Errorf("invalid price %q: %w", s, err)
	}
	return Price(v), nil
}

// String formats p in CHF per kWh with the decimals it has (at least two).
func (p Price) String() string {
	s := formatFixed(int64(p), 6)
	for strings.HasSuffix(s, "0") && len(s)-strings.IndexByte(s, '.') > 3 {
		s = s[:len(s)-1]
	}
	return s
}

// Rappen is an amount of money in Rappen (hundredths of a Swiss franc).
type Rappen int64

// CHF is one franc in Rappen.
const CHF Rappen = 100

// String formats r as CHF with two decimals and no thousands separator
// ("1234.50", "-0.05"), the form of DESIGN.md's `bill --json`.
func (r Rappen) String() string { return formatFixed(int64(r), 2) }

// ParseCHF parses an exact decimal amount of CHF with at most two decimals.
func ParseCHF(s string) (Rappen, error) {
	v, err := parseFixed(s, 2)
	if err != nil {
		return 0, fmt.Errorf("invalid CHF amount %q: %w", s, err)
	}
	return Rappen(v), nil
}

// BasisPoints is a rate in hundredths of a percent: 810 is 8.1 %.
type BasisPoints int64

// String formats b as a percentage without the sign ("8.1", "7.7", "0").
func (b BasisPoints) String() string {
	s := formatFixed(int64(b), 2)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// ParsePercent parses a percentage such as "8.1" exactly.
func ParsePercent(s string) (BasisPoints, error) {
	v, err := parseFixed(s, 2)
	if err != nil {
		return 0, fmt.Errorf("invalid percentage %q: %w", s, err)
	}
	return BasisPoints(v), nil
}

// Cost returns the cost of energy e at price p in nano-CHF. The product
// mWh × µCHF/kWh is in pico-CHF; it is computed in 128 bits and rounded to
// the nano-CHF (halves away from zero), far below any Rappen rounding. It
// panics on overflow, which needs more than 9 billion CHF in one line.
func Cost(e Energy, p Price) NanoCHF {
	neg := (e < 0) != (p < 0)
	hi, lo := bits.Mul64(abs64(int64(e)), abs64(int64(p)))
	lo, carry := bits.Add64(lo, 500, 0) // round half away from zero
	hi += carry
	if hi >= 1000 {
		panic(fmt.Sprintf("core.Cost: overflow: %d mWh × %d µCHF/kWh", e, p))
	}
	q, _ := bits.Div64(hi, lo, 1000)
	if q > 1<<63-1 {
		panic(fmt.Sprintf("core.Cost: overflow: %d mWh × %d µCHF/kWh", e, p))
	}
	if neg {
		return -NanoCHF(q)
	}
	return NanoCHF(q)
}

// NanoCHF is an exact intermediate amount in 1e-9 CHF, kept until a line is
// rounded to the Rappen.
type NanoCHF int64

// Rappen rounds n to the nearest Rappen, halves away from zero (the
// commercial rounding Swiss invoices use).
func (n NanoCHF) Rappen() Rappen { return Rappen(DivRound(int64(n), 10_000_000)) }

// DivRound divides a by b (b > 0) rounding halves away from zero.
func DivRound(a, b int64) int64 {
	if b <= 0 {
		panic("core.DivRound: divisor must be positive")
	}
	if a >= 0 {
		return (a + b/2) / b
	}
	return -((-a + b/2) / b)
}

func abs64(v int64) uint64 {
	if v < 0 {
		return uint64(-v)
	}
	return uint64(v)
}

var errSyntax = errors.New("expected a decimal number such as 12.5")

// parseFixed parses a decimal string into an integer scaled by 10^dec,
// refusing more decimals than dec rather than rounding them away.
func parseFixed(s string, dec int) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errSyntax
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" && (!hasDot || frac == "") {
		return 0, errSyntax
	}
	for _, part := range []string{intPart, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, errSyntax
			}
		}
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > dec {
		return 0, fmt.Errorf("more than %d decimals", dec)
	}
	frac += strings.Repeat("0", dec-len(frac))
	if intPart == "" {
		intPart = "0"
	}
	v, err := strconv.ParseInt(intPart+frac, 10, 64)
	if err != nil {
		return 0, errors.New("out of range")
	}
	if neg {
		v = -v
	}
	return v, nil
}

func formatFixed(v int64, dec int) string {
	neg := v < 0
	u := abs64(v)
	s := strconv.FormatUint(u, 10)
	if len(s) <= dec {
		s = strings.Repeat("0", dec-len(s)+1) + s
	}
	s = s[:len(s)-dec] + "." + s[len(s)-dec:]
	if neg {
		s = "-" + s
	}
	return s
}
