package report

import (
	"strings"
	"testing"

	"github.com/zevdesk/zevdesk/core"
)

// TestSharesOfRetiredUnit: the invoice states the key as it was applied.
// After a unit's last day the others share the meter alone, so a
// neighbour's invoice names both stretches with their totals, and the
// percentages are those billing used.
func TestSharesOfRetiredUnit(t *testing.T) {
	site := &core.Site{Units: []core.Unit{
		{ID: "W01", Area: 6000}, {ID: "W02", Area: 4000}, {ID: "W03", Area: 2000, Retired: core.MustDate(2026, 1, 15)}}}
	allg := core.Meter{ID: "ALLG", Role: core.RoleCommon, Key: core.KeyArea}
	jan1, jan31 := core.MustDate(2026, 1, 1), core.MustDate(2026, 1, 31)

	got := sharesOf(site, allg, "W01", jan1, jan31)
	if len(got) != 2 || got[0].Weight != 6000 || got[0].Total != 12000 || got[0].To != core.MustDate(2026, 1, 15) ||
		got[1].Total != 10000 || got[1].From != core.MustDate(2026, 1, 16) || got[1].To != jan31 {
		t.Fatalf("W01's shares %+v, want 60 of 120 m² to 15 January and 60 of 100 m² from 16 January", got)
	}
	de := textsFor("de")
	text := de.share(got[0]) + " " + de.share(got[1])
	for _, want := range []string{"60.00\u00a0m² von 120.00\u00a0m² (50.0\u00a0%) (01.01.2026–15.01.2026)",
		"60.00\u00a0m² von 100.00\u00a0m² (60.0\u00a0%) (16.01.2026–31.01.2026)"} {
		if !strings.Contains(text, want) {
			t.Errorf("share text %q lacks %q", text, want)
		}
	}
	// The retired unit's own invoice ends on its last day: one stretch,
	// stated without dates, as before any retirement.
	own := sharesOf(site, allg, "W03", jan1, core.MustDate(2026, 1, 15))
	if len(own) != 1 || own[0].Weight != 2000 || own[0].Total != 12000 || !own[0].From.IsZero() {
		t.Errorf("W03's shares %+v, want one: 20 of 120 m²", own)
	}
	// A unit new on 20 January starts another stretch.
	site.Units = append(site.Units, core.Unit{ID: "W04", Area: 3000, Since: core.MustDate(2026, 1, 20)})
	got = sharesOf(site, allg, "W02", jan1, jan31)
	if len(got) != 3 || got[1].From != core.MustDate(2026, 1, 16) || got[1].To != core.MustDate(2026, 1, 19) || got[1].Total != 10000 ||
		got[2].From != core.MustDate(2026, 1, 20) || got[2].Total != 13000 {
		t.Errorf("W02's shares %+v, want stretches to 15, 19 and 31 January (120, 100 and 130 m²)", got)
	}
	site.Units = site.Units[:3]
	// February: W03 weighs nothing any more.
	feb := sharesOf(site, allg, "W02", core.MustDate(2026, 2, 1), core.MustDate(2026, 2, 28))
	if len(feb) != 1 || feb[0].Total != 10000 {
		t.Errorf("W02's February shares %+v, want 40 of 100 m²", feb)
	}
}
