package billing

import (
	"strings"
	"testing"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// retiredUnitSite is baseSite with a third unit W03 (20 m²), merged into a
// neighbour after 15 January 2026: the unit, its meter and its tenancy end
// that day. A common meter is shared by area; W01 has a second unit meter
// that was removed after 10 January.
func retiredUnitSite() *core.Site {
	s := baseSite()
	s.Units = append(s.Units, core.Unit{ID: "W03", Area: 2000, Retired: date("2026-01-15")})
	s.Meters = append(s.Meters,
		core.Meter{ID: "M-W03", Role: core.RoleUnit, Unit: "W03", Retired: date("2026-01-15")},
		core.Meter{ID: "M-W01b", Role: core.RoleUnit, Unit: "W01", Retired: date("2026-01-10")},
		core.Meter{ID: "ALLG", Role: core.RoleCommon, Key: core.KeyArea})
	s.Occupancies = append(s.Occupancies, core.Occupancy{Unit: "W03", Name: "Carla Costa",
		From: date("2020-01-01"), To: date("2026-01-15")})
	s.Tariffs[0].BaseFeeMonth = chf("10.00")
	s.Tariffs[0].MeteringMonth = chf("3.00")
	return s
}

// TestRetiredUnit: after its last day a unit has no tenancy, no vacancy, no
// fees and no share of the common meter; the units in service share it
// alone from the next day, so that every kWh is still billed.
func TestRetiredUnit(t *testing.T) {
	f := newFixture(t, retiredUnitSite(), period("2026-01-01", "2026-01-31"))
	f.fill("ALLG", store.Import, kwhE("1")) // 96 kWh a day
	r := f.bill()
	for _, inv := range r.Invoices {
		if strings.HasPrefix(inv.Key, "vacant:W03") {
			t.Errorf("the retired unit got a vacancy invoice: %s %s–%s", inv.Key, inv.From, inv.To)
		}
	}
	a := invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01")
	b := invoiceOf(t, r, "occ:W02:Beat Beispiel:2020-01-01")
	c := invoiceOf(t, r, "occ:W03:Carla Costa:2020-01-01")
	if c.To != date("2026-01-15") {
		t.Errorf("W03's invoice ends %s, want its last day 2026-01-15", c.To)
	}
	// 1–15 January by 60:40:20 m², 16–31 January by 60:40.
	wantE(t, "W01 common: 15 × 48 + 16 × 57.6", a.KWh.Grid, "1641.6")
	wantE(t, "W02 common: 15 × 32 + 16 × 38.4", b.KWh.Grid, "1094.4")
	wantE(t, "W03 common: 15 × 16", c.KWh.Grid, "240")
	if _, ok := ownerInvoice(r); ok {
		t.Errorf("the owner got an invoice although every day's common energy had a unit in service")
	}
	wantR(t, "W03 base fee 15/31 × 10.00", line(t, c, KindBaseFee, 0).Amount, "4.84")
	// W01: two meters for 10 days, one for the other 21.
	one, two := line(t, a, KindMetering, 0), line(t, a, KindMetering, 1)
	if one.Count != 1 || one.Days != 21 || two.Count != 2 || two.Days != 10 {
		t.Errorf("W01 metering lines %d × %d days, %d × %d days; want 1 meter × 21 days, 2 meters × 10 days",
			one.Count, one.Days, two.Count, two.Days)
	}
	wantR(t, "W01 metering 21/31 × 3.00", one.Amount, "2.03")
	wantR(t, "W01 metering 10/31 × 2 × 3.00", two.Amount, "1.94")
}

// TestUnitRetiredBeforePeriod: a unit retired before the period is not
// billed at all and weighs nothing in the keys.
func TestUnitRetiredBeforePeriod(t *testing.T) {
	f := newFixture(t, retiredUnitSite(), period("2026-02-02", "2026-02-02"))
	f.fill("ALLG", store.Import, kwhE("1"))
	r := f.bill()
	for _, inv := range r.Invoices {
		if inv.Unit == "W03" {
			t.Errorf("a unit retired in January is billed in February: %s", inv.Key)
		}
	}
	wantE(t, "W01 common: 60 % of 96", invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01").KWh.Grid, "57.6")
	wantE(t, "W02 common: 40 % of 96", invoiceOf(t, r, "occ:W02:Beat Beispiel:2020-01-01").KWh.Grid, "38.4")
}

// TestAllUnitsRetired: on days without any unit in service the common
// meter's energy goes to the owner instead of disappearing.
func TestAllUnitsRetired(t *testing.T) {
	s := retiredUnitSite()
	for i := range s.Units {
		s.Units[i].Retired = date("2026-01-15")
	}
	for i := range s.Meters {
		if s.Meters[i].Role == core.RoleUnit && s.Meters[i].Retired.IsZero() {
			s.Meters[i].Retired = date("2026-01-15")
		}
	}
	for i := range s.Occupancies {
		s.Occupancies[i].To = date("2026-01-15")
	}
	f := newFixture(t, s, period("2026-01-15", "2026-01-16"))
	f.fill("ALLG", store.Import, kwhE("1"))
	r := f.bill()
	o, ok := ownerInvoice(r)
	if !ok {
		t.Fatal("no owner invoice for the common energy of 16 January")
	}
	wantE(t, "owner: the 96 kWh of 16 January", o.KWh.Grid, "96")
}

func ownerInvoice(r *Run) (Invoice, bool) {
	for _, inv := range r.Invoices {
		if inv.Key == "owner" {
			return inv, true
		}
	}
	return Invoice{}, false
}

// TestMergedUnits: W02 and W03 are merged into W23 after 15 January: the
// two leave service with their meters and tenancies, W23 enters service on
// the 16th with a new meter and a new tenant. Before its first day W23 has
// no vacancy and no share; from it, it shares the common meter with W01.
func TestMergedUnits(t *testing.T) {
	s := retiredUnitSite()
	s.Units[1].Retired = date("2026-01-15")
	s.Meter("M-W02").Retired = date("2026-01-15")
	s.Occupancies[1].To = date("2026-01-15")
	s.Units = append(s.Units, core.Unit{ID: "W23", Area: 6000, Since: date("2026-01-16")})
	s.Meters = append(s.Meters, core.Meter{ID: "M-W23", Role: core.RoleUnit, Unit: "W23", Since: date("2026-01-16")})
	s.Occupancies = append(s.Occupancies, core.Occupancy{Unit: "W23", Name: "Dora Daepp", From: date("2026-01-16")})
	f := newFixture(t, s, period("2026-01-01", "2026-01-31"))
	f.fill("ALLG", store.Import, kwhE("1")) // 96 kWh a day
	r := f.bill()
	for _, inv := range r.Invoices {
		if strings.HasPrefix(inv.Key, "vacant:") {
			t.Errorf("a vacancy was billed: %s %s–%s", inv.Key, inv.From, inv.To)
		}
	}
	d := invoiceOf(t, r, "occ:W23:Dora Daepp:2026-01-16")
	if d.From != date("2026-01-16") {
		t.Errorf("W23's invoice starts %s, want its first day 2026-01-16", d.From)
	}
	// 1–15 January by 60:40:20 m², 16–31 January by 60:60.
	wantE(t, "W01 common: 15 × 48 + 16 × 48", invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01").KWh.Grid, "1488")
	wantE(t, "W02 common: 15 × 32", invoiceOf(t, r, "occ:W02:Beat Beispiel:2020-01-01").KWh.Grid, "480")
	wantE(t, "W03 common: 15 × 16", invoiceOf(t, r, "occ:W03:Carla Costa:2020-01-01").KWh.Grid, "240")
	wantE(t, "W23 common: 16 × 48", d.KWh.Grid, "768")
	wantR(t, "W23 base fee 16/31 × 10.00", line(t, d, KindBaseFee, 0).Amount, "5.16")
	if l := line(t, d, KindMetering, 0); l.Count != 1 || l.Days != 16 {
		t.Errorf("W23 metering %d × %d days, want 1 meter × 16 days", l.Count, l.Days)
	}
}
