package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core"
)

// TestUnitsRetireMeter: Retire… gives the meter being edited a last day in
// service, stored in the site and shown in the list; saving the meter's
// other fields keeps it; an empty date puts it back in service.
func TestUnitsRetireMeter(t *testing.T) {
	st, site, clock := billingStore(t)
	m := newTestMaster(t, st, site, clock)
	u := m.Units
	i := -1
	for k, x := range u.site.Meters {
		if x.ID == "M-W02" {
			i = k
		}
	}
	u.meters.Select(i)
	test.Tap(findButton(u.Content(), "Retire…"))
	if u.retireForm == nil {
		t.Fatal("Retire… opened no dialog")
	}
	if u.retireDay.Text != "05.07.2026" {
		t.Errorf("date prefilled %q, want today", u.retireDay.Text)
	}
	u.retireDay.SetText("31.13.2026")
	u.retireForm.Submit()
	if got := storedSite(t, st, "birkenweg").Meter("M-W02"); !got.Retired.IsZero() {
		t.Fatalf("a malformed date was stored: %v", got.Retired)
	}
	u.retireDay.SetText("30.06.2026")
	u.retireForm.Submit()
	want := core.MustDate(2026, 6, 30)
	if got := storedSite(t, st, "birkenweg").Meter("M-W02"); got == nil || got.Retired != want {
		t.Fatalf("stored meter %+v (general %q)", got, u.mfs.general.Text)
	}
	if line := u.meterLine(i); !strings.HasSuffix(line, "(retired after 30.06.2026)") {
		t.Errorf("meter line %q", line)
	}
	u.mName.SetText("Zähler OG")
	test.Tap(findButton(u.Content(), "Save meter"))
	if got := storedSite(t, st, "birkenweg").Meter("M-W02"); got.Name != "Zähler OG" || got.Retired != want {
		t.Errorf("saving the meter's fields lost its retirement: %+v", got)
	}
	test.Tap(findButton(u.Content(), "Retire…"))
	u.retireDay.SetText("")
	u.retireForm.Submit()
	if got := storedSite(t, st, "birkenweg").Meter("M-W02"); !got.Retired.IsZero() {
		t.Errorf("an empty date kept the retirement %v", got.Retired)
	}
}
