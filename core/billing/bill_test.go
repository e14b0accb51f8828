package billing

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

func wantE(t *testing.T, what string, got core.Energy, want string) {
	t.Helper()
	if got != kwhE(want) {
		t.Errorf("%s = %s kWh, want %s", what, core.FormatKWh(got), want)
	}
}

func wantR(t *testing.T, what string, got core.Rappen, want string) {
	t.Helper()
	if got != chf(want) {
		t.Errorf("%s = CHF %s, want %s", what, got, want)
	}
}

// One Monday, W01 uses 1 kWh and W02 3 kWh per interval, PV gives 2 kWh:
// S = 2, shared 1:3.
func TestProportionalDay(t *testing.T) {
	s := baseSite()
	s.Tariffs[0].BaseFeeMonth = chf("5.00")
	s.Tariffs[0].MeteringMonth = chf("3.00")
	f := newFixture(t, s, period("2026-01-05", "2026-01-05"))
	f.fill("M-W01", store.Import, kwhE("1"))
	f.fill("M-W02", store.Import, kwhE("3"))
	f.fill("PV", store.Export, kwhE("2"))
	f.fill("GRID", store.Import, kwhE("2"))
	r := f.bill()
	wantE(t, "production", r.Building.Production, "192")
	wantE(t, "self-consumed", r.Building.SelfConsumed, "192")
	wantE(t, "consumption", r.Building.Consumption, "384")
	wantE(t, "difference", r.Building.Difference, "0")
	a := invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01")
	wantE(t, "W01 solar", a.KWh.Solar, "48")
	wantE(t, "W01 grid", a.KWh.Grid, "48")
	wantR(t, "W01 solar line", line(t, a, KindSolar, 0).Amount, "9.60")
	wantR(t, "W01 grid line", line(t, a, KindGridHT, 0).Amount, "14.40")
	wantR(t, "W01 base fee 1/31 of 5.00", line(t, a, KindBaseFee, 0).Amount, "0.16")
	wantR(t, "W01 metering 1/31 of 3.00", line(t, a, KindMetering, 0).Amount, "0.10")
	wantR(t, "W01 total (no VAT)", a.Total, "24.26")
	if a.VAT != 0 {
		t.Errorf("not VAT-registered, VAT = %s", a.VAT)
	}
	b := invoiceOf(t, r, "occ:W02:Beat Beispiel:2020-01-01")
	wantE(t, "W02 solar", b.KWh.Solar, "144")
	wantE(t, "W02 grid", b.KWh.Grid, "144")
}

// Equal share: S = 10 kWh over consumers using 2, 5 and 9 kWh gives
// 2, 4, 4 (water-filling at level 4); the balance model takes S from the
// grid meter.
func TestEqualAndBalance(t *testing.T) {
	s := baseSite()
	s.Units = append(s.Units, core.Unit{ID: "W03", Area: 5000})
	s.Meters = append(s.Meters, core.Meter{ID: "M-W03", Role: core.RoleUnit, Unit: "W03"})
	s.Allocation = core.AllocEqual
	f := newFixture(t, s, period("2026-01-05", "2026-01-05"))
	f.set("M-W01", store.Import, 0, kwhE("2"), store.Measured)
	f.set("M-W02", store.Import, 0, kwhE("5"), store.Measured)
	f.set("M-W03", store.Import, 0, kwhE("9"), store.Measured)
	f.set("PV", store.Export, 0, kwhE("10"), store.Measured)
	r := f.bill()
	for key, want := range map[string]string{"occ:W01:Anna Muster:2020-01-01": "2", "occ:W02:Beat Beispiel:2020-01-01": "4", "vacant:W03:2026-01-05": "4"} {
		wantE(t, key+" solar (equal)", invoiceOf(t, r, key).KWh.Solar, want)
	}

	s.Allocation = core.AllocBalance
	f.set("GRID", store.Import, 0, kwhE("8"), store.Measured) // C = 16, so S = 8 (not min(P, C) = 10)
	r = f.bill()
	wantE(t, "self-consumed (balance)", r.Building.SelfConsumed, "8")
	wantE(t, "grid (balance) = utility import", r.Building.Grid, "8")
	// 8 × 2/16 = 1, 8 × 5/16 = 2.5, 8 × 9/16 = 4.5
	wantE(t, "W01 solar (balance)", invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01").KWh.Solar, "1")
	wantE(t, "W02 solar (balance)", invoiceOf(t, r, "occ:W02:Beat Beispiel:2020-01-01").KWh.Solar, "2.5")
}

// Q1 2026: W01 changes tenant on 15 February; W02 is let in January and
// from March, vacant in February. 0.1 kWh per interval, no PV, VAT 8.1 %.
// 29 March has 92 intervals (spring forward).
func TestTenantChangeAndVacancy(t *testing.T) {
	s := baseSite()
	s.VATNumber = "CHE-123.456.789 MWST"
	s.Tariffs[0].BaseFeeMonth = chf("5.00")
	s.Tariffs[0].MeteringMonth = chf("3.00")
	s.Occupancies = []core.Occupancy{
		{Unit: "W01", Name: "Anna", From: date("2025-06-01"), To: date("2026-02-14"), AdvanceMonth: chf("50.00")},
		{Unit: "W01", Name: "Ben", From: date("2026-02-15")},
		{Unit: "W02", Name: "Carla", From: date("2025-01-01"), To: date("2026-01-31")},
		{Unit: "W02", Name: "Dan", From: date("2026-03-01")},
	}
	f := newFixture(t, s, period("2026-01-01", "2026-03-31"))
	if f.n != 90*96-4 {
		t.Fatalf("Q1 2026 has %d intervals, want %d", f.n, 90*96-4)
	}
	f.fill("M-W01", store.Import, kwhE("0.1"))
	f.fill("M-W02", store.Import, kwhE("0.1"))
	r := f.bill()
	anna := invoiceOf(t, r, "occ:W01:Anna:2025-06-01")
	if anna.From != date("2026-01-01") || anna.To != date("2026-02-14") {
		t.Errorf("Anna billed %s..%s", anna.From, anna.To)
	}
	wantE(t, "Anna grid: 45 days × 9.6", anna.KWh.Grid, "432")
	wantR(t, "Anna grid line", line(t, anna, KindGridHT, 0).Amount, "129.60")
	wantR(t, "Anna base fee: 5.00 + 14/28 × 5.00", line(t, anna, KindBaseFee, 0).Amount, "7.50")
	wantR(t, "Anna metering: 3.00 + 14/28 × 3.00", line(t, anna, KindMetering, 0).Amount, "4.50")
	wantR(t, "Anna net", anna.Net, "141.60")
	wantR(t, "Anna VAT 8.1 % of 141.60 = 11.4696", anna.VAT, "11.47")
	wantR(t, "Anna total", anna.Total, "153.07")
	wantR(t, "Anna advance: 50 + 14/28 × 50", anna.Advance, "75.00")
	wantR(t, "Anna balance", anna.Balance, "78.07")

	ben := invoiceOf(t, r, "occ:W01:Ben:2026-02-15")
	wantE(t, "Ben grid: (45 days × 96 − 4) × 0.1", ben.KWh.Grid, "431.6")
	wantR(t, "Ben grid line", line(t, ben, KindGridHT, 0).Amount, "129.48")
	wantR(t, "Ben net", ben.Net, "141.48")
	wantR(t, "Ben VAT 11.45988", ben.VAT, "11.46")
	wantR(t, "Ben total", ben.Total, "152.94")

	vac := invoiceOf(t, r, "vacant:W02:2026-02-01")
	if !vac.Owner || vac.Tenant != "Immo Muster AG" || vac.From != date("2026-02-01") || vac.To != date("2026-02-28") {
		t.Errorf("vacancy invoice: owner %v tenant %q %s..%s", vac.Owner, vac.Tenant, vac.From, vac.To)
	}
	wantE(t, "vacancy grid: 28 × 9.6", vac.KWh.Grid, "268.8")
	wantR(t, "vacancy base fee", line(t, vac, KindBaseFee, 0).Amount, "5.00")
	invoiceOf(t, r, "occ:W02:Carla:2025-01-01")
	dan := invoiceOf(t, r, "occ:W02:Dan:2026-03-01")
	wantE(t, "Dan grid: (31 × 96 − 4) × 0.1", dan.KWh.Grid, "297.2")
	if len(r.Invoices) != 5 {
		t.Errorf("%d invoices, want 5 (Anna, Ben, Carla, vacancy, Dan)", len(r.Invoices))
	}
}

// A tariff version from 16 January: solar 0.22 instead of 0.20, base fee
// 6.00 instead of 5.00. PV covers all consumption.
func TestTariffChangeMidPeriod(t *testing.T) {
	s := baseSite()
	s.Tariffs[0].BaseFeeMonth = chf("5.00")
	s.Tariffs = append(s.Tariffs, core.Tariff{From: date("2026-01-16"), Solar: price("0.22"), Grid: price("0.30"), BaseFeeMonth: chf("6.00")})
	f := newFixture(t, s, period("2026-01-01", "2026-01-31"))
	f.fill("M-W01", store.Import, kwhE("0.1"))
	f.fill("PV", store.Export, kwhE("5"))
	r := f.bill()
	a := invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01")
	l0, l1 := line(t, a, KindSolar, 0), line(t, a, KindSolar, 1)
	wantE(t, "solar at 0.20", l0.Energy, "144")
	wantR(t, "144 × 0.20", l0.Amount, "28.80")
	wantE(t, "solar at 0.22", l1.Energy, "153.6")
	wantR(t, "153.6 × 0.22 = 33.792", l1.Amount, "33.79")
	wantR(t, "15/31 × 5.00", line(t, a, KindBaseFee, 0).Amount, "2.42")
	wantR(t, "16/31 × 6.00", line(t, a, KindBaseFee, 1).Amount, "3.10")
	if !strings.Contains(l1.Label, "2026-01-16") {
		t.Errorf("line label %q does not name the tariff version", l1.Label)
	}
	wantE(t, "fed in", r.Building.FedIn, core.FormatKWh(r.Building.Production-kwhE("297.6")))
}

// VAT by date: December 2023 at 7.7 %, January 2024 at 8.1 %.
func TestVATChange(t *testing.T) {
	s := baseSite()
	s.VATNumber = "CHE-123.456.789 MWST"
	f := newFixture(t, s, period("2023-12-01", "2024-01-31"))
	f.fill("M-W01", store.Import, kwhE("0.1"))
	r := f.bill()
	a := invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01")
	v77, v81 := line(t, a, KindVAT, 0), line(t, a, KindVAT, 1)
	if v77.Rate != 770 || v81.Rate != 810 {
		t.Fatalf("VAT rates %s, %s", v77.Rate, v81.Rate)
	}
	wantR(t, "base 7.7 %", v77.Base, "89.28")
	wantR(t, "7.7 % of 89.28 = 6.87456", v77.Amount, "6.87")
	wantR(t, "8.1 % of 89.28 = 7.23168", v81.Amount, "7.23")
	wantR(t, "total", a.Total, "192.66")
}

// Daylight-saving days: 29 March 2026 has 92 intervals, 25 October 100.
// With HT every day 07:00-20:00, 52 intervals are HT either way.
func TestDaylightSavingDays(t *testing.T) {
	for _, c := range []struct {
		day           string
		slots         int
		ht, nt, total string
	}{
		{"2026-03-29", 92, "5.2", "4", "9.2"},
		{"2026-10-25", 100, "5.2", "4.8", "10"},
		{"2026-06-14", 96, "5.2", "4.4", "9.6"},
	} {
		t.Run(c.day, func(t *testing.T) {
			s := baseSite()
			w, _ := core.ParseWindow("mon-sun 07:00-20:00")
			s.Tariffs[0] = core.Tariff{From: date("2020-01-01"), Solar: price("0.20"), GridHT: price("0.30"), GridNT: price("0.20"), HT: []core.Window{w}}
			f := newFixture(t, s, period(c.day, c.day))
			if f.n != c.slots {
				t.Fatalf("%s has %d intervals, want %d", c.day, f.n, c.slots)
			}
			f.fill("M-W01", store.Import, kwhE("0.1"))
			r := f.bill()
			a := invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01")
			wantE(t, "HT", a.KWh.GridHT, c.ht)
			wantE(t, "NT", a.KWh.GridNT, c.nt)
			wantE(t, "total", a.KWh.Total, c.total)
		})
	}
}

// HT/NT by weekly windows and holidays: Thursday 1 January 2026 is a
// holiday (all NT); Friday 2 January has HT 07:00-20:00.
func TestHolidayIsNT(t *testing.T) {
	s := baseSite()
	w, _ := core.ParseWindow("mon-fri 07:00-20:00")
	s.Tariffs[0] = core.Tariff{From: date("2020-01-01"), Solar: price("0.20"), GridHT: price("0.30"), GridNT: price("0.20"), HT: []core.Window{w}}
	s.Holidays = []core.Date{date("2026-01-01")}
	f := newFixture(t, s, period("2026-01-01", "2026-01-02"))
	f.fill("M-W01", store.Import, kwhE("0.1"))
	r := f.bill()
	a := invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01")
	wantE(t, "HT (2 Jan 07-20)", a.KWh.GridHT, "5.2")
	wantE(t, "NT", a.KWh.GridNT, "14")
	wantR(t, "HT line 5.2 × 0.30", line(t, a, KindGridHT, 0).Amount, "1.56")
	wantR(t, "NT line 14 × 0.20", line(t, a, KindGridNT, 0).Amount, "2.80")
}

// A day with a gap: 8 intervals of W01 estimated, 4 of W02 missing.
func TestGapEstimatedAndMissing(t *testing.T) {
	s := baseSite()
	f := newFixture(t, s, period("2026-01-05", "2026-01-05"))
	f.fill("M-W01", store.Import, kwhE("0.1"))
	f.fill("M-W02", store.Import, kwhE("0.1"))
	for i := 40; i < 48; i++ {
		f.set("M-W01", store.Import, i, kwhE("0.2"), store.Estimated)
	}
	for i := 60; i < 64; i++ {
		f.set("M-W02", store.Import, i, 0, store.Missing)
	}
	r := f.bill()
	a := invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01")
	wantE(t, "W01 estimated", a.EstimatedKWh, "1.6")
	wantE(t, "W01 total: 88 × 0.1 + 8 × 0.2", a.KWh.Total, "10.4")
	if len(r.Missing) != 1 || r.Missing[0].Meter != "M-W02" || r.Missing[0].Slots != 4 || r.Missing[0].Typical != kwhE("0.4") {
		t.Fatalf("missing = %+v", r.Missing)
	}
	// A gap with a typical value is sized, not unknown: Commit takes it
	// without an acceptance.
	if len(r.Unknown()) != 0 || strings.Contains(strings.Join(r.Warnings, "\n"), "unknown amount") {
		t.Errorf("a sized gap counts as unknown: %+v %q", r.Unknown(), r.Warnings)
	}
	warned := strings.Join(r.Warnings, "\n")
	// Slot 60 of a winter day starts at 15:00 in Zurich: the office reads
	// local time.
	if !strings.Contains(warned, "M-W02 import: 4 intervals (1 h) from 05.01.2026 15:00") || !strings.Contains(warned, "1.6") ||
		!strings.Contains(warned, "about 0.400 kWh (about CHF 0.12 at the grid price)") {
		t.Errorf("warnings do not give the amounts:\n%s", warned)
	}
	s.Settings.RefuseMissing = true
	_, err := Bill(f.in)
	var me *MissingDataError
	if !errors.As(err, &me) || me.Missing[0].Slots != 4 || !strings.Contains(err.Error(), "from 05.01.2026 15:00") {
		t.Fatalf("RefuseMissing: err = %v", err)
	}
}

func TestNoPVAndPVExceedsAll(t *testing.T) {
	s := baseSite()
	f := newFixture(t, s, period("2026-06-01", "2026-06-07"))
	f.fill("M-W01", store.Import, kwhE("0.25"))
	f.fill("M-W02", store.Import, kwhE("0.125"))
	r := f.bill()
	wantE(t, "no PV: self-consumed", r.Building.SelfConsumed, "0")
	wantE(t, "no PV: grid", r.Building.Grid, "252")
	wantE(t, "no PV: W01 grid", invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01").KWh.Grid, "168")

	f.fill("PV", store.Export, kwhE("0.5"))
	r = f.bill()
	wantE(t, "PV > C: self-consumed = consumption", r.Building.SelfConsumed, "252")
	wantE(t, "PV > C: fed in", r.Building.FedIn, "84")
	a := invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01")
	wantE(t, "PV > C: W01 solar", a.KWh.Solar, "168")
	wantE(t, "PV > C: W01 grid", a.KWh.Grid, "0")
	for _, l := range a.Lines {
		if l.Kind == KindGridHT || l.Kind == KindGridNT {
			t.Errorf("grid line on an all-solar invoice: %+v", l)
		}
	}
}

// General electricity (1 kWh per interval) by area 60:40, and a heat pump
// billed to the owner.
func TestCommonByKeyAndOwner(t *testing.T) {
	s := baseSite()
	s.Meters = append(s.Meters, core.Meter{ID: "ALLG", Role: core.RoleCommon, Key: core.KeyArea},
		core.Meter{ID: "WP", Role: core.RoleHeatPump, Key: core.KeyOwner})
	f := newFixture(t, s, period("2026-01-05", "2026-01-05"))
	f.fill("ALLG", store.Import, kwhE("1"))
	f.fill("WP", store.Import, kwhE("0.5"))
	for i := 10; i < 14; i++ { // 4 kWh of general electricity estimated
		f.set("ALLG", store.Import, i, kwhE("1"), store.Estimated)
	}
	for i := 30; i < 32; i++ { // 1 kWh of the heat pump estimated
		f.set("WP", store.Import, i, kwhE("0.5"), store.Estimated)
	}
	r := f.bill()
	a := invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01")
	b := invoiceOf(t, r, "occ:W02:Beat Beispiel:2020-01-01")
	wantE(t, "W01 share", a.KWh.Grid, "57.6")
	wantE(t, "W02 share", b.KWh.Grid, "38.4")
	wantE(t, "W01 estimated: 60 % of 4", a.EstimatedKWh, "2.4")
	wantE(t, "W02 estimated: 40 % of 4", b.EstimatedKWh, "1.6")
	wantE(t, "owner estimated: the heat pump's 1", invoiceOf(t, r, "owner").EstimatedKWh, "1")
	l := line(t, a, KindCommon, 0)
	wantR(t, "W01 common line 57.6 × 0.30", l.Amount, "17.28")
	o := invoiceOf(t, r, "owner")
	wantE(t, "owner heat pump", o.KWh.Grid, "48")
	wantR(t, "owner heat pump line", line(t, o, KindHeatPump, 0).Amount, "14.40")
}

// EV: the charger draws 2 kWh per interval 11:00-13:00 local while PV gives
// 1 kWh; Eva's session covers 11:00-12:00. At 18:00 Anna, W01's tenant,
// charges 1 kWh: it is on her tenancy's invoice. The rest goes to the owner.
func TestEVSession(t *testing.T) {
	s := baseSite()
	s.Meters = append(s.Meters, core.Meter{ID: "EV1", Role: core.RoleEV})
	f := newFixture(t, s, period("2026-01-05", "2026-01-05"))
	i0 := f.at("2026-01-05", 11, 0)
	for i := i0; i < i0+8; i++ {
		f.set("EV1", store.Import, i, kwhE("2"), store.Measured)
		f.set("PV", store.Export, i, kwhE("1"), store.Measured)
	}
	f.set("EV1", store.Import, f.at("2026-01-05", 18, 0), kwhE("1"), store.Measured)
	start := time.Date(2026, 1, 5, 11, 0, 0, 0, f.loc)
	at18 := time.Date(2026, 1, 5, 18, 0, 0, 0, f.loc)
	f.in.Sessions = []Session{{ID: "s1", Meter: "EV1", Card: "04A1", Person: "Eva", Unit: "W01", Start: start, End: start.Add(time.Hour)},
		{ID: "s2", Meter: "EV1", Card: "04A2", Person: "Anna Muster", Unit: "W01", Start: at18, End: at18.Add(10 * time.Minute)}}
	r := f.bill()
	eva := invoiceOf(t, r, "ev:Eva")
	wantE(t, "Eva solar", eva.KWh.Solar, "4")
	wantE(t, "Eva grid", eva.KWh.Grid, "4")
	wantR(t, "Eva EV lines", eva.Net, "2.00") // 4 × 0.20 + 4 × 0.30
	o := invoiceOf(t, r, "owner")
	wantE(t, "owner EV solar (12:00-13:00)", o.KWh.Solar, "4")
	wantE(t, "owner EV grid (12:00-13:00)", o.KWh.Grid, "4")
	anna := invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01")
	ev := line(t, anna, KindEV, 0)
	if ev.Class != KindGridHT || ev.Energy != kwhE("1") || ev.Amount != chf("0.30") {
		t.Errorf("Anna's EV line: %+v, want 1 kWh grid at 0.30", ev)
	}
	for _, inv := range r.Invoices {
		if inv.Key == "ev:Anna Muster" {
			t.Errorf("the tenant's charging is on an invoice of its own")
		}
	}
}

// A meter exchanged mid-day: the registers across the exchange agree with
// the intervals; a wrong end reading is reported.
func TestMeterReplacement(t *testing.T) {
	s := baseSite()
	f := newFixture(t, s, period("2026-01-05", "2026-01-05"))
	f.fill("M-W01", store.Import, kwhE("0.1"))
	f.fill("GRID", store.Import, kwhE("0.1"))
	start := date("2026-01-05").Midnight(f.loc)
	end := date("2026-01-06").Midnight(f.loc)
	at := start.Add(10 * time.Hour)
	rd := Readings{
		Start: &store.Register{Time: start, Import: kwhE("1000")},
		End:   &store.Register{Time: end, Import: kwhE("6.1")},
		Replacements: []store.Replacement{{Time: at,
			OldFinal: store.Register{Time: at, Import: kwhE("1004")}, NewInitial: store.Register{Time: at, Import: kwhE("0.5")}}},
	}
	f.in.Readings["M-W01"] = rd
	r := f.bill()
	if len(r.Warnings) != 0 {
		t.Errorf("consistent registers (4 + 5.6 = 9.6 kWh) warned: %q", r.Warnings)
	}
	a := invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01")
	if len(a.Readings) != 1 || a.Readings[0].Start.Import != kwhE("1000") || len(a.Readings[0].Replacements) != 1 {
		t.Errorf("invoice readings %+v", a.Readings)
	}
	wantE(t, "W01 energy", a.KWh.Total, "9.6")
	rd.End = &store.Register{Time: end, Import: kwhE("7.1")}
	f.in.Readings["M-W01"] = rd
	r = f.bill()
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "10.6") {
		t.Errorf("inconsistent registers: warnings %q", r.Warnings)
	}
}

func TestRoundTo5(t *testing.T) {
	s := baseSite()
	s.Settings.RoundTo5 = true
	f := newFixture(t, s, period("2026-01-05", "2026-01-05"))
	f.set("M-W01", store.Import, 0, kwhE("0.1"), store.Measured) // 0.03
	f.set("M-W02", store.Import, 0, kwhE("0.3"), store.Measured) // 0.09
	r := f.bill()
	a := invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01")
	wantR(t, "W01 rounding", a.Rounding, "0.02")
	wantR(t, "W01 total", a.Total, "0.05")
	b := invoiceOf(t, r, "occ:W02:Beat Beispiel:2020-01-01")
	wantR(t, "W02 rounding", b.Rounding, "0.01")
	wantR(t, "W02 total", b.Total, "0.10")
}

// Redistribution: the grid meter shows 10 % more than the sub-meters'
// grid energy; with the setting the difference is shared by consumption.
func TestRedistribute(t *testing.T) {
	s := baseSite()
	f := newFixture(t, s, period("2026-01-05", "2026-01-05"))
	f.fill("M-W01", store.Import, kwhE("1"))
	f.fill("M-W02", store.Import, kwhE("3"))
	f.fill("GRID", store.Import, kwhE("4.4"))
	r := f.bill()
	wantE(t, "difference", r.Building.Difference, "38.4")
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "38.4") {
		t.Errorf("a 10 %% difference is not reported: %q", r.Warnings)
	}
	s.Settings.Redistribute = true
	r = f.bill()
	wantE(t, "redistributed", r.Building.Redistributed, "38.4")
	wantE(t, "W01 grid", invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01").KWh.Grid, "105.6")
	wantE(t, "W02 grid", invoiceOf(t, r, "occ:W02:Beat Beispiel:2020-01-01").KWh.Grid, "316.8")
}

// A dynamic price series: W01's grid energy in the priced intervals is
// billed at those prices.
func TestDynamicPrices(t *testing.T) {
	s := baseSite()
	f := newFixture(t, s, period("2026-01-05", "2026-01-05"))
	f.fill("M-W01", store.Import, kwhE("1"))
	p := &DynamicPrices{From: f.from, Grid: make([]core.Price, 4)}
	p.Grid[0], p.Grid[1], p.Grid[2], p.Grid[3] = price("0.10"), price("0.125"), price("0.333333"), price("0.5")
	f.in.Prices = p
	r := f.bill()
	a := invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01")
	wantR(t, "static 92 × 0.30", line(t, a, KindGridHT, 0).Amount, "27.60")
	dyn := line(t, a, KindGridHT, 1)
	wantE(t, "dynamic energy", dyn.Energy, "4")
	wantR(t, "0.1 + 0.125 + 0.333333 + 0.5 = 1.058333", dyn.Amount, "1.06")
	if dyn.Price != 0 {
		t.Errorf("a varying price shows as %s", dyn.Price)
	}
}

// A production gap is not unbilled consumption: the warning says what it
// does to the invoices instead.
func TestMissingProductionWarning(t *testing.T) {
	s := baseSite()
	f := newFixture(t, s, period("2026-06-01", "2026-06-01"))
	f.fill("M-W01", store.Import, kwhE("0.1"))
	f.fill("PV", store.Export, kwhE("0.1"))
	for i := 48; i < 52; i++ {
		f.set("PV", store.Export, i, 0, store.Missing)
	}
	r := f.bill()
	w := strings.Join(r.Warnings, "\n")
	if !strings.Contains(w, "PV export: 4 intervals (1 h)") || !strings.Contains(w, "billed as grid energy") ||
		strings.Contains(w, "may be unbilled") {
		t.Errorf("warning: %s", w)
	}
	wantE(t, "W01 grid: the 4 intervals without production", invoiceOf(t, r, "occ:W01:Anna Muster:2020-01-01").KWh.Grid, "0.4")
}

// A consumer meter without a single value in the period has no typical
// value to size its gap by: the warning says so plainly, with the meter and
// its intervals, instead of estimating "about 0.000 kWh", and the gap is
// marked unknown (Commit refuses it unless accepted). Another meter's
// partial gap keeps its estimate.
func TestMeterWithoutAnyValue(t *testing.T) {
	s := baseSite()
	f := newFixture(t, s, period("2026-01-01", "2026-03-31"))
	f.fill("M-W01", store.Import, kwhE("0.1"))
	f.fill("PV", store.Export, kwhE("0.1"))
	w02 := f.series("M-W02", store.Import)
	for i := range w02.Quality {
		w02.Quality[i] = store.Missing
	}
	for i := 0; i < 4; i++ {
		f.set("M-W01", store.Import, 200+i, 0, store.Missing)
	}
	r := f.bill()
	// 1 January to 31 March 2026 in Zurich: 90 days, 29 March one hour
	// short: 8636 intervals.
	if u := r.Unknown(); len(u) != 1 || u[0].Meter != "M-W02" || u[0].Slots != 8636 || u[0].Typical != 0 {
		t.Fatalf("unknown gaps %+v", u)
	}
	w := strings.Join(r.Warnings, "\n")
	if !strings.Contains(w, "meter M-W02: no value in 8'636 of 8'636 intervals (1.1.–31.3.2026), unknown amount") ||
		!strings.Contains(w, "M-W01 import: 4 intervals (1 h) from 03.01.2026 02:00, typically about 0.400 kWh") ||
		!strings.Contains(w, "about 0.400 kWh (about CHF 0.12 at the grid price) may be unbilled, plus the unknown amounts") ||
		!strings.Contains(w, "accepting it explicitly") {
		t.Errorf("warning:\n%s", w)
	}
	// Production without any value is not unbilled consumption: not
	// unknown in this sense (its intervals are billed as grid energy).
	f.fill("M-W02", store.Import, kwhE("0.1"))
	for i := range w02.Quality {
		w02.Quality[i] = store.Measured
	}
	pv := f.series("PV", store.Export)
	for i := range pv.Quality {
		pv.Quality[i] = store.Missing
	}
	if r := f.bill(); len(r.Unknown()) != 0 || len(r.Missing) != 2 {
		t.Errorf("production without values: unknown %+v, missing %+v", r.Unknown(), r.Missing)
	}
}

func TestDayRange(t *testing.T) {
	for _, c := range []struct{ a, b, want string }{
		{"2026-01-01", "2026-03-31", "1.1.–31.3.2026"},
		{"2025-12-15", "2026-01-31", "15.12.2025–31.1.2026"},
		{"2026-01-05", "2026-01-05", "5.1.2026"},
	} {
		if got := dayRange(date(c.a), date(c.b)); got != c.want {
			t.Errorf("dayRange(%s, %s) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
	for n, want := range map[int]string{0: "0", 999: "999", 8736: "8'736", 1234567: "1'234'567"} {
		if got := groupThousands(n); got != want {
			t.Errorf("groupThousands(%d) = %q", n, got)
		}
	}
}
