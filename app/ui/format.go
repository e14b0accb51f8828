package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2/lang"

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

// monthNames returns the months' names in the current language.
func monthNames() []string {
	return []string{lang.X("format.month.january", "January"), lang.X("format.month.february", "February"),
		lang.X("format.month.march", "March"), lang.X("format.month.april", "April"), lang.X("format.month.may", "May"),
		lang.X("format.month.june", "June"), lang.X("format.month.july", "July"), lang.X("format.month.august", "August"),
		lang.X("format.month.september", "September"), lang.X("format.month.october", "October"),
		lang.X("format.month.november", "November"), lang.X("format.month.december", "December")}
}

// shortMonths returns the months' abbreviations in the current language
// (axis labels).
func shortMonths() []string {
	return []string{lang.X("format.mon.jan", "Jan"), lang.X("format.mon.feb", "Feb"), lang.X("format.mon.mar", "Mar"),
		lang.X("format.mon.apr", "Apr"), lang.X("format.mon.may", "May"), lang.X("format.mon.jun", "Jun"),
		lang.X("format.mon.jul", "Jul"), lang.X("format.mon.aug", "Aug"), lang.X("format.mon.sep", "Sep"),
		lang.X("format.mon.oct", "Oct"), lang.X("format.mon.nov", "Nov"), lang.X("format.mon.dec", "Dec")}
}

// monthName returns "March 2026".
func monthName(y int, m time.Month) string { return fmt.Sprintf("%s %d", monthNames()[m-1], y) }

// shortMonth returns "Mar".
func shortMonth(m time.Month) string { return shortMonths()[m-1] }

// weekday names d's day of the week in the current language.
func weekday(d core.Date) string {
	names := []string{lang.X("format.weekday.sunday", "Sunday"), lang.X("format.weekday.monday", "Monday"),
		lang.X("format.weekday.tuesday", "Tuesday"), lang.X("format.weekday.wednesday", "Wednesday"),
		lang.X("format.weekday.thursday", "Thursday"), lang.X("format.weekday.friday", "Friday"),
		lang.X("format.weekday.saturday", "Saturday")}
	return names[d.Midnight(time.UTC).Weekday()]
}

// kwhUnit formats e as "1'234.5 kWh".
func kwhUnit(e core.Energy) string { return kwh(e) + " kWh" }

// count formats a count with Swiss thousands separators (2'976).
func count(n int) string {
	if n < 0 {
		return "-" + group(fmt.Sprint(-n))
	}
	return group(fmt.Sprint(n))
}

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
		return lang.X("format.half", "H{{.N}} {{.Year}}", map[string]any{"N": (int(p.From.Month)-1)/6 + 1, "Year": p.From.Year})
	case "year":
		return fmt.Sprint(p.From.Year)
	case "quarter", "":
		return lang.X("format.quarter", "Q{{.N}} {{.Year}}", map[string]any{"N": (int(p.From.Month)-1)/3 + 1, "Year": p.From.Year})
	}
	return period(p)
}

// lines joins non-empty strings with newlines.
func lines(ss []string) string { return strings.Join(ss, "\n") }
