package ui

import (
	"slices"
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

// TestUnitsRetireUnit: Retire unit… gives the unit being edited a last day
// in service and retires its meters with it; a tenancy running past the day
// is refused naming it, as is a day inside a billed period; an empty date
// puts the unit and its meters back in service.
func TestUnitsRetireUnit(t *testing.T) {
	st, site, clock := billingStore(t)
	m := newTestMaster(t, st, site, clock)
	u := m.Units
	u.units.Select(1) // W02, Ben Beispiel from 16.06.2026, open-ended
	retire := func(day string) {
		t.Helper()
		test.Tap(findButton(u.Content(), "Retire unit…"))
		if u.retireForm == nil {
			t.Fatal("Retire unit… opened no dialog")
		}
		u.retireDay.SetText(day)
		u.retireForm.Submit()
	}
	retire("31.07.2026")
	if got := storedSite(t, st, "birkenweg").Unit("W02"); !got.Retired.IsZero() {
		t.Fatalf("a unit with a running tenancy was retired: %+v", got)
	}
	if msg := u.ufs.general.Text; !strings.Contains(msg, `"Ben Beispiel"`) || !strings.Contains(msg, "end by then") {
		t.Errorf("refusal %q does not name the tenancy that runs on", msg)
	}

	s := cloneSite(storedSite(t, st, "birkenweg"))
	s.Occupancies[1].To = core.MustDate(2026, 7, 31)
	stored, err := saveSite(st, clock, s)
	if err != nil {
		t.Fatal(err)
	}
	u.setSite(stored)
	u.units.Select(1)
	retire("31.07.2026")
	want := core.MustDate(2026, 7, 31)
	got := storedSite(t, st, "birkenweg")
	if got.Unit("W02").Retired != want || got.Meter("M-W02").Retired != want || !got.Meter("M-W01").Retired.IsZero() {
		t.Fatalf("stored unit %+v, meters %+v %+v (general %q)", got.Unit("W02"), got.Meter("M-W02"), got.Meter("M-W01"), u.ufs.general.Text)
	}
	if line := u.unitLine(1); !strings.HasSuffix(line, "(retired after 31.07.2026)") {
		t.Errorf("unit line %q", line)
	}
	// Tenants shows the unit's end instead of a vacancy billed to the owner.
	tn := m.Tenants
	tn.unit.SetSelected("W02")
	var rows []string
	for _, r := range tn.rows {
		rows = append(rows, r.text)
	}
	if want := []string{"16.06.2026 – 31.07.2026  Ben Beispiel", "out of service after 31.07.2026: no tenant, no vacancy, no fees"}; !slices.Equal(rows, want) {
		t.Errorf("W02's history %q, want %q", rows, want)
	}
	u.uName.SetText("3.5 Zimmer OG (zu W01)")
	test.Tap(findButton(u.Content(), "Save unit"))
	if got := storedSite(t, st, "birkenweg").Unit("W02"); got.Name != "3.5 Zimmer OG (zu W01)" || got.Retired != want {
		t.Errorf("saving the unit's fields lost its retirement: %+v", got)
	}

	// June is billed: a last day inside it would change its invoices,
	// even for a vacant unit (its vacancy and its share of the keys).
	lockJune(t, st, site, clock)
	s = cloneSite(storedSite(t, st, "birkenweg"))
	s.Units = append(s.Units, core.Unit{ID: "W03", Name: "Hobbyraum"})
	if stored, err = saveSite(st, clock, s); err != nil {
		t.Fatal(err)
	}
	u.setSite(stored)
	u.units.Select(2)
	retire("20.06.2026")
	if got := storedSite(t, st, "birkenweg").Unit("W03"); !got.Retired.IsZero() {
		t.Errorf("a retirement inside the billed June was stored: %v", got.Retired)
	}
	if msg := u.ufs.general.Text; !strings.Contains(msg, "unlock") || !strings.Contains(msg, "2026-06-30") {
		t.Errorf("the refusal %q does not say how to unlock June", msg)
	}
	retire("30.06.2026") // the billed days stay as they were
	if got := storedSite(t, st, "birkenweg").Unit("W03"); got.Retired != core.MustDate(2026, 6, 30) {
		t.Errorf("a retirement after the billed June was refused: %q", u.ufs.general.Text)
	}

	u.units.Select(1)
	retire("")
	got = storedSite(t, st, "birkenweg")
	if !got.Unit("W02").Retired.IsZero() || !got.Meter("M-W02").Retired.IsZero() {
		t.Errorf("an empty date kept the retirement: unit %+v, meter %+v", got.Unit("W02"), got.Meter("M-W02"))
	}
}

// TestUnitsInServiceFrom: a unit made later (two merged into one) gets its
// first day in service in the unit form; a unit meter of it without one is
// refused at the meter's field, and moving the unit's first day moves its
// meter's along.
func TestUnitsInServiceFrom(t *testing.T) {
	st, site, clock := billingStore(t)
	m := newTestMaster(t, st, site, clock)
	u := m.Units
	test.Tap(findButton(u.Content(), "New unit"))
	u.uID.SetText("W12")
	u.uName.SetText("5.5 Zimmer (W01 und W02)")
	u.uSince.SetText("1.8.2026")
	test.Tap(findButton(u.Content(), "Save unit"))
	if got := storedSite(t, st, "birkenweg").Unit("W12"); got == nil || got.Since != core.MustDate(2026, 8, 1) {
		t.Fatalf("stored unit %+v (general %q)", got, u.ufs.general.Text)
	}
	if line := u.unitLine(2); !strings.HasSuffix(line, "(in service from 01.08.2026)") {
		t.Errorf("unit line %q", line)
	}

	test.Tap(findButton(u.Content(), "New meter"))
	u.mID.SetText("M-W12")
	u.mRole.SetSelectedIndex(slices.Index(core.Roles, core.RoleUnit))
	u.mUnit.SetSelected("W12")
	test.Tap(findButton(u.Content(), "Save meter"))
	if got := storedSite(t, st, "birkenweg").Meter("M-W12"); got != nil {
		t.Fatalf("a meter in service before its unit was stored: %+v", got)
	}
	if msg := u.mfs.errorAt("since"); !strings.Contains(msg, "on or after the unit's first day in service 01.08.2026") {
		t.Errorf("meter since field says %q", msg)
	}
	u.mSince.SetText("01.08.2026")
	test.Tap(findButton(u.Content(), "Save meter"))
	if got := storedSite(t, st, "birkenweg").Meter("M-W12"); got == nil || got.Since != core.MustDate(2026, 8, 1) {
		t.Fatalf("stored meter %+v (since field %q)", got, u.mfs.errorAt("since"))
	}

	u.units.Select(2)
	u.uSince.SetText("15.08.2026")
	test.Tap(findButton(u.Content(), "Save unit"))
	got := storedSite(t, st, "birkenweg")
	if got.Unit("W12").Since != core.MustDate(2026, 8, 15) || got.Meter("M-W12").Since != core.MustDate(2026, 8, 15) {
		t.Errorf("moving the unit's first day: unit %+v, meter %+v (general %q)", got.Unit("W12"), got.Meter("M-W12"), u.ufs.general.Text)
	}
}
