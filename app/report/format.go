package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/zevdesk/zevdesk/core"
)

// Swiss formats: thousands separated by an apostrophe, a decimal point and
// dates as dd.mm.yyyy, in every language (as Swiss offices print them).

// groupDigits inserts apostrophes between thousands of a string of digits.
func groupDigits(s string) string {
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('\'')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// fixed formats v/10^dec with exactly dec decimals and Swiss grouping.
func fixed(v int64, dec int) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	if len(s) <= dec {
		s = strings.Repeat("0", dec-len(s)+1) + s
	}
	out := groupDigits(s[:len(s)-dec])
	if dec > 0 {
		out += "." + s[len(s)-dec:]
	}
	if neg {
		out = "-" + out
	}
	return out
}

// CHF formats an amount in Swiss style: "1'234.50", "-0.05".
func CHF(r core.Rappen) string { return fixed(int64(r), 2) }

// KWh formats energy in kWh with the given decimals, rounded half away from
// zero: KWh(1234567890, 1) = "1'234.6".
func KWh(e core.Energy, dec int) string {
	div := int64(1_000_000)
	for range dec {
		div /= 10
	}
	return fixed(core.DivRound(int64(e), div), dec)
}

// PriceKWh formats a price per kWh with at least two and at most four
// decimals ("0.20", "0.2175"), rounded half away from zero beyond four.
func PriceKWh(p core.Price) string {
	v := core.DivRound(int64(p), 100) // 1e-4 CHF
	s := fixed(v, 4)
	for strings.HasSuffix(s, "0") && len(s)-strings.IndexByte(s, '.') > 3 {
		s = s[:len(s)-1]
	}
	return s
}

// Date formats d as "31.03.2026".
func Date(d core.Date) string { return fmt.Sprintf("%02d.%02d.%04d", d.Day, int(d.Month), d.Year) }

// Percent formats part/whole as a percentage with one decimal ("38.4"),
// "0.0" when whole is zero.
func Percent(part, whole int64) string {
	if whole == 0 {
		return "0.0"
	}
	return fixed(core.DivRound(part*1000, whole), 1)
}
