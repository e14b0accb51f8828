package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/app/report"
	"github.com/zevdesk/zevdesk/core"
)

// Swiss number formats, the way the office reads figures: an apostrophe
// groups thousands (1'234.5 kWh, CHF 1'234.50) and dates are day first
// (31.03.2026).

// group puts an apostrophe between each group of three digits of the
// non-negative decimal s.
func group(s string) string {
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "'" + s[i:]
	}
	return s
}

// kwh formats e in kWh with one decimal and Swiss thousands separators
// (1'234.5).
func kwh(e core.Energy) string { return report.KWh(e, 1) }

// kwhInt formats e in whole kWh with thousands separators (for axis labels).
func kwhInt(e core.Energy) string { return report.KWh(e, 0) }

// chf formats an amount as "CHF 1'234.50".
func chf(r core.Rappen) string { return "CHF " + report.CHF(r) }

// date formats d as 31.03.2026.
func date(d core.Date) string { return report.Date(d) }

// period formats p as "01.01.2026 – 31.03.2026".
func period(p core.Period) string { return date(p.From) + " – " + date(p.To) }

// percent formats v (already in percent) with one decimal: "41.7 %".
func percent(v float64) string { return fmt.Sprintf("%.1f %%", v) }

// share returns 100·part/whole in percent, 0 when whole is 0.
func share(part, whole core.Energy) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}

var monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July", "August",
	"September", "October", "November", "December"}

// monthName returns "March 2026".
func monthName(y int, m time.Month) string { return fmt.Sprintf("%s %d", monthNames[m-1], y) }

// shortMonth returns "Mar".
func shortMonth(m time.Month) string { return monthNames[m-1][:3] }

// periodKinds are the billing period lengths in months, by site setting.
var periodKinds = map[string]int{"month": 1, "quarter": 3, "half": 6, "year": 12}

// billingPeriod returns the period of the given kind ("month", "quarter",
// "half", "year"; empty means quarter) that contains d.
func billingPeriod(kind string, d core.Date) core.Period {
	n := periodKinds[kind]
	if n == 0 {
		n = 3
	}
	first := time.Month((int(d.Month)-1)/n*n + 1)
	from := core.Date{Year: d.Year, Month: first, Day: 1}
	return core.Period{From: from, To: addMonths(from, n).AddDays(-1)}
}

// lastCompletePeriod returns the latest period of the kind that ended
// before today.
func lastCompletePeriod(kind string, today core.Date) core.Period {
	cur := billingPeriod(kind, today)
	return billingPeriod(kind, cur.From.AddDays(-1))
}

// shiftPeriod returns the period of the same kind n periods after p
// (before it when n < 0).
func shiftPeriod(kind string, p core.Period, n int) core.Period {
	months := periodKinds[kind]
	if months == 0 {
		months = 3
	}
	return billingPeriod(kind, addMonths(p.From, n*months))
}

// addMonths returns the first of the month n months after d's month.
func addMonths(d core.Date, n int) core.Date {
	t := time.Date(d.Year, d.Month+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	return core.DateOf(t)
}

// periodName names a billing period for the picker: "Q1 2026",
// "March 2026", "H2 2026", "2026", or the dates.
func periodName(kind string, p core.Period) string {
	switch kind {
	case "month":
		return monthName(p.From.Year, p.From.Month)
	case "half":
		return fmt.Sprintf("H%d %d", (int(p.From.Month)-1)/6+1, p.From.Year)
	case "year":
		return fmt.Sprint(p.From.Year)
	case "quarter", "":
		return fmt.Sprintf("Q%d %d", (int(p.From.Month)-1)/3+1, p.From.Year)
	}
	return period(p)
}

// lines joins non-empty strings with newlines.
func lines(ss []string) string { return strings.Join(ss, "\n") }
