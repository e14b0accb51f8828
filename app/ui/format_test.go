package ui

import (
	"testing"
	stdtime "time"

	"github.com/zevdesk/zevdesk/core"
)

func TestSwissFormats(t *testing.T) {
	for r, want := range map[core.Rappen]string{
		123450: "CHF 1'234.50", 5: "CHF 0.05", -123456789: "CHF -1'234'567.89", 0: "CHF 0.00",
	} {
		if got := chf(r); got != want {
			t.Errorf("chf(%d) = %q, want %q", r, got, want)
		}
	}
	if got := date(core.MustDate(2026, 3, 31)); got != "31.03.2026" {
		t.Errorf("date %q", got)
	}
	if got := kwhInt(1_234_567 * core.Wh); got != "1'235" {
		t.Errorf("kwhInt %q", got)
	}
}

func TestBillingPeriods(t *testing.T) {
	d := func(y, m, day int) core.Date { return core.MustDate(y, month(m), day) }
	for _, c := range []struct {
		kind  string
		today core.Date
		want  core.Period
		name  string
	}{
		{"", d(2026, 7, 5), core.Period{From: d(2026, 4, 1), To: d(2026, 6, 30)}, "Q2 2026"},
		{"quarter", d(2026, 1, 1), core.Period{From: d(2025, 10, 1), To: d(2025, 12, 31)}, "Q4 2025"},
		{"quarter", d(2026, 3, 31), core.Period{From: d(2025, 10, 1), To: d(2025, 12, 31)}, "Q4 2025"},
		{"month", d(2026, 3, 1), core.Period{From: d(2026, 2, 1), To: d(2026, 2, 28)}, "February 2026"},
		{"half", d(2026, 7, 1), core.Period{From: d(2026, 1, 1), To: d(2026, 6, 30)}, "H1 2026"},
		{"year", d(2026, 7, 1), core.Period{From: d(2025, 1, 1), To: d(2025, 12, 31)}, "2025"},
	} {
		got := lastCompletePeriod(c.kind, c.today)
		if got != c.want || periodName(c.kind, got) != c.name {
			t.Errorf("%q on %s: %s %q, want %s %q", c.kind, c.today, got, periodName(c.kind, got), c.want, c.name)
		}
	}
	q := core.Period{From: d(2026, 1, 1), To: d(2026, 3, 31)}
	if got := shiftPeriod("quarter", q, -1); got != (core.Period{From: d(2025, 10, 1), To: d(2025, 12, 31)}) {
		t.Errorf("quarter before Q1 2026: %s", got)
	}
	if got := shiftPeriod("month", core.Period{From: d(2026, 1, 1), To: d(2026, 1, 31)}, 1); got != (core.Period{From: d(2026, 2, 1), To: d(2026, 2, 28)}) {
		t.Errorf("month after January: %s", got)
	}
}

func month(m int) stdtime.Month { return stdtime.Month(m) }
