package vee

import (
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

func testSite() *core.Site {
	return &core.Site{
		ID: "birkenweg", Name: "ZEV Birkenweg 12", Timezone: "Europe/Zurich",
		Operator: core.Operator{Name: "Immo Muster AG"},
		Units:    []core.Unit{{ID: "W01"}, {ID: "W02"}},
		Meters: []core.Meter{
			{ID: "PV", Role: core.RoleProduction, MaxPowerW: 30_000},
			{ID: "GRID", Role: core.RoleGrid, MaxPowerW: 60_000},
			{ID: "M1", Role: core.RoleUnit, Unit: "W01", MaxPowerW: 10_000},
			{ID: "M2", Role: core.RoleUnit, Unit: "W02"},
		},
	}
}

// now is the tests' clock: well after the data.
var now = core.FixedClock(time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC))

func opts() Options { return Options{Clock: now, Actor: "test"} }

func kwh(s string) core.Energy {
	e, err := core.ParseKWh(s)
	if err != nil {
		panic(err)
	}
	return e
}

func series(t *testing.T, tx store.Tx, meter string, ch store.Channel, from core.Slot, n int) store.Series {
	t.Helper()
	var s store.Series
	if err := tx.ReadIntervals(store.SeriesID{Site: "birkenweg", Meter: meter, Channel: ch}, from, from+core.Slot(n), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func flagsOf(t *testing.T, tx store.Tx, kind string) []store.Flag {
	t.Helper()
	var fs []store.Flag
	err := tx.ScanFlags("birkenweg", 0, 1<<40, func(f store.Flag) bool {
		if kind == "" || f.Kind == kind {
			fs = append(fs, f)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestAcceptRegistersDay(t *testing.T) {
	onStores(t, func(t *testing.T, tx store.Tx) {
		site := testSite()
		var rs []store.Register
		reg := kwh("12345.678")
		var want []core.Energy
		for i := 96; i >= 0; i-- { // any order
			rs = append(rs, store.Register{Time: at(15 * (96 - i)), Import: reg})
			inc := core.Energy(i * 7919)
			want = append(want, inc)
			reg += inc
		}
		rep, err := AcceptRegisters(tx, site, "M1", rs, opts())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Written != 2*96 || len(rep.Flags) != 0 || rep.Estimated != 0 {
			t.Fatalf("report %+v, want 192 written (import and export), no flags", rep)
		}
		s := series(t, tx, "M1", store.Import, core.SlotOf(t0), 96)
		for i := range 96 {
			if s.Energy[i] != want[i] || s.Quality[i] != store.Measured {
				t.Fatalf("slot %d: %d %v, want %d measured", i, s.Energy[i], s.Quality[i], want[i])
			}
		}
		// The same delivery again changes nothing.
		rep, err = AcceptRegisters(tx, site, "M1", rs, opts())
		if err != nil || rep.Written != 0 || rep.Replaced != 0 || len(rep.Conflicts) != 0 {
			t.Fatalf("second delivery: %+v %v, want nothing written", rep, err)
		}
	})
}

// TestAcceptRegistersContinues checks that a batch continues from the last
// stored reading and that a late reading refines what was derived before.
func TestAcceptRegistersContinues(t *testing.T) {
	onStores(t, func(t *testing.T, tx store.Tx) {
		site := testSite()
		must := func(rs ...store.Register) Report {
			t.Helper()
			rep, err := AcceptRegisters(tx, site, "M1", rs, opts())
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		must(store.Register{Time: at(0), Import: 0})
		must(store.Register{Time: at(20), Import: 2000})
		s := series(t, tx, "M1", store.Import, core.SlotOf(t0), 2)
		if s.Energy[0] != 1500 || s.Quality[0] != store.Measured || s.Quality[1] != store.Missing {
			t.Fatalf("after 00:20: %v %v, want 1500 measured then missing", s.Energy, s.Quality)
		}
		rep := must(store.Register{Time: at(10), Import: 500})
		s = series(t, tx, "M1", store.Import, core.SlotOf(t0), 1)
		if s.Energy[0] != 1250 || rep.Replaced != 1 || len(rep.Conflicts) != 0 {
			t.Fatalf("after late 00:10: slot %d (report %+v), want 1250 refined, 1 replaced", s.Energy[0], rep)
		}
		// A gateway offline for two hours: the slots between are estimated.
		rep = must(store.Register{Time: at(140), Import: 14_000})
		s = series(t, tx, "M1", store.Import, core.SlotOf(t0), 10)
		var total core.Energy
		for i := 1; i < 9; i++ {
			if s.Quality[i] != store.Estimated {
				t.Errorf("slot %d: %v, want estimated", i, s.Quality[i])
			}
			total += s.Energy[i]
		}
		total += s.Energy[0]
		// Σ up to 02:15 = E(02:15) = 2000 + 12000·115/120 = 13500.
		if total != 13_500 || rep.Estimated != 16 { // 8 slots, both channels
			t.Errorf("Σ = %d, estimated %d: want 13500 and 16", total, rep.Estimated)
		}
		if n := len(flagsOf(t, tx, KindGap)); n != 9 {
			t.Errorf("%d gap flags, want 9 (00:15 to 02:15)", n)
		}
		// The missing reading arrives after all: measured values replace estimates,
		// the gap flags go.
		var rs []store.Register
		for m := 30; m < 140; m += 10 {
			rs = append(rs, store.Register{Time: at(m), Import: core.Energy(m * 100)})
		}
		must(rs...)
		s = series(t, tx, "M1", store.Import, core.SlotOf(t0), 9)
		for i := 1; i < 9; i++ {
			want := core.Energy(1500)
			if i == 1 {
				want = 1750 // from E(00:15) = 1250 (the late 00:10 reading of 500) to 3000
			}
			if s.Quality[i] != store.Measured || s.Energy[i] != want {
				t.Errorf("slot %d: %d %v, want %d measured", i, s.Energy[i], s.Quality[i], want)
			}
		}
		if n := len(flagsOf(t, tx, KindGap)); n != 0 {
			t.Errorf("%d gap flags left, want 0", n)
		}
	})
}

// TestChecks feeds one fault per case and asserts the flag's kind, meter,
// slot and the numbers in its reason.
func TestChecks(t *testing.T) {
	night := time.Date(2026, 1, 12, 22, 0, 0, 0, time.UTC) // 23:00 in Zurich
	noon := time.Date(2026, 1, 12, 11, 0, 0, 0, time.UTC)
	day := core.MustDate(2026, 1, 12)
	dayStart := day.FirstSlot(testSite().Location())
	sid := func(m string, ch store.Channel) store.SeriesID {
		return store.SeriesID{Site: "birkenweg", Meter: m, Channel: ch}
	}
	// dayOf returns a whole local day of equal values.
	dayOf := func(e core.Energy) []store.Value {
		var vs []store.Value
		for i := range 96 {
			vs = append(vs, store.Value{Slot: dayStart + core.Slot(i), Energy: e, Quality: store.Measured})
		}
		return vs
	}
	cases := []struct {
		name   string
		feed   func(tx store.Tx, site *core.Site) error
		kind   string
		meter  string
		slot   core.Slot
		reason []string
		none   bool // the case expects no flag of the kind
	}{
		{
			name: "register backwards",
			feed: func(tx store.Tx, site *core.Site) error {
				_, err := AcceptRegisters(tx, site, "M1", []store.Register{
					{Time: at(0), Import: kwh("100")}, {Time: at(15), Import: kwh("101")}, {Time: at(30), Import: kwh("5")}}, opts())
				return err
			},
			kind: KindRegisterBackwards, meter: "M1", slot: core.SlotOf(at(30)),
			reason: []string{"import register went backwards", "101.000 kWh", "5.000 kWh", "replace"},
		},
		{
			name: "max power",
			feed: func(tx store.Tx, site *core.Site) error {
				_, err := AcceptRegisters(tx, site, "M1", []store.Register{{Time: at(0)}, {Time: at(15), Import: kwh("3")}}, opts())
				return err
			},
			kind: KindMaxPower, meter: "M1", slot: core.SlotOf(at(0)),
			reason: []string{"3.000 kWh", "12.000 kW", "10.000 kW"},
		},
		{
			name: "max power of interval data",
			feed: func(tx store.Tx, site *core.Site) error {
				_, err := AcceptIntervals(tx, site, sid("M2", store.Import), []store.Value{{Slot: core.SlotOf(at(0)), Energy: kwh("7"), Quality: store.Measured}}, store.KeepFirst, opts())
				return err
			},
			kind: KindMaxPower, meter: "M2", slot: core.SlotOf(at(0)),
			reason: []string{"7.000 kWh", "28.000 kW", "27.700 kW"},
		},
		{
			name: "reading in the future",
			feed: func(tx store.Tx, site *core.Site) error {
				_, err := AcceptRegisters(tx, site, "M1", []store.Register{{Time: time.Time(now).Add(30 * time.Minute), Import: 5}}, opts())
				return err
			},
			kind: KindFuture, meter: "M1", slot: core.SlotOf(time.Time(now).Add(30 * time.Minute)),
			reason: []string{"30m0s ahead", "2026-02-01T12:00:00Z"},
		},
		{
			name: "interval in the future",
			feed: func(tx store.Tx, site *core.Site) error {
				_, err := AcceptIntervals(tx, site, sid("M2", store.Import), []store.Value{{Slot: core.SlotOf(time.Time(now)), Energy: 1, Quality: store.Measured}}, store.KeepFirst, opts())
				return err
			},
			kind: KindFuture, meter: "M2", slot: core.SlotOf(time.Time(now)),
			reason: []string{"12:00:00Z–2026-02-01T12:15:00Z ends after the clock"},
		},
		{
			name: "off the grid",
			feed: func(tx store.Tx, site *core.Site) error {
				_, err := AcceptIntervalsAt(tx, site, sid("M2", store.Import), []TimedValue{{Start: at(7), Energy: kwh("0.5")}}, store.KeepFirst, opts())
				return err
			},
			kind: KindOffGrid, meter: "M2", slot: core.SlotOf(at(0)),
			reason: []string{"starts at 2026-01-12T00:07:00Z", "interval starting 2026-01-12T00:00:00Z"},
		},
		{
			name: "duplicate interval",
			feed: func(tx store.Tx, site *core.Site) error {
				v := store.Value{Slot: core.SlotOf(at(0)), Energy: kwh("1"), Quality: store.Measured}
				if _, err := AcceptIntervals(tx, site, sid("M2", store.Import), []store.Value{v}, store.KeepFirst, opts()); err != nil {
					return err
				}
				v.Energy = kwh("1.2")
				rep, err := AcceptIntervals(tx, site, sid("M2", store.Import), []store.Value{v}, store.KeepFirst, opts())
				if err == nil && len(rep.Conflicts) != 1 {
					t.Errorf("conflicts %v, want one", rep.Conflicts)
				}
				return err
			},
			kind: KindDuplicate, meter: "M2", slot: core.SlotOf(at(0)),
			reason: []string{"stored 1.000 kWh (measured) kept", "incoming 1.200 kWh"},
		},
		{
			name: "duplicate reading",
			feed: func(tx store.Tx, site *core.Site) error {
				if _, err := AcceptRegisters(tx, site, "M1", []store.Register{{Time: at(3), Import: kwh("7")}}, opts()); err != nil {
					return err
				}
				_, err := AcceptRegisters(tx, site, "M1", []store.Register{{Time: at(3), Import: kwh("8")}}, opts())
				return err
			},
			kind: KindDuplicate, meter: "M1", slot: core.SlotOf(at(0)),
			reason: []string{"import 7.000 kWh, export 0.000 kWh kept", "import 8.000 kWh, export 0.000 kWh reported"},
		},
		{
			name: "production at night",
			feed: func(tx store.Tx, site *core.Site) error {
				_, err := AcceptIntervals(tx, site, sid("PV", store.Export), []store.Value{
					{Slot: core.SlotOf(night), Energy: kwh("1"), Quality: store.Measured},
					{Slot: core.SlotOf(noon), Energy: kwh("1"), Quality: store.Measured}}, store.KeepFirst, opts())
				return err
			},
			kind: KindNightProduction, meter: "PV", slot: core.SlotOf(night),
			reason: []string{"1.000 kWh at 23:00 local, at night: the sun set at 17:0", "rises at 08:0"},
		},
		{
			name: "production by day is fine",
			feed: func(tx store.Tx, site *core.Site) error {
				_, err := AcceptIntervals(tx, site, sid("PV", store.Export), []store.Value{
					{Slot: core.SlotOf(noon), Energy: kwh("1"), Quality: store.Measured}}, store.KeepFirst, opts())
				return err
			},
			kind: KindNightProduction, none: true,
		},
		{
			name: "production meter swapped",
			feed: func(tx store.Tx, site *core.Site) error {
				_, err := AcceptRegisters(tx, site, "PV", []store.Register{
					{Time: at(0), Import: kwh("10"), Export: kwh("500")},
					{Time: at(15), Import: kwh("11"), Export: kwh("500")},
					{Time: at(30), Import: kwh("12.5"), Export: kwh("500")}}, opts())
				return err
			},
			kind: KindSwapped, meter: "PV", slot: dayStart,
			reason: []string{"on 2026-01-12 the production meter imported 2.500 kWh but exported only 0.000 kWh"},
		},
		{
			name: "unit meter exporting",
			feed: func(tx store.Tx, site *core.Site) error {
				_, err := AcceptRegisters(tx, site, "M1", []store.Register{
					{Time: at(0), Import: kwh("10"), Export: kwh("0")},
					{Time: at(15), Import: kwh("10"), Export: kwh("1.5")}}, opts())
				return err
			},
			kind: KindSwapped, meter: "M1", slot: dayStart,
			reason: []string{"the unit meter exported 1.500 kWh (imported 0.000 kWh)"},
		},
		{
			name: "sub-meters below the grid meter",
			feed: func(tx store.Tx, site *core.Site) error {
				for _, d := range []struct {
					id store.SeriesID
					e  core.Energy
				}{{sid("PV", store.Export), 0}, {sid("M1", store.Import), kwh("0.5")}, {sid("M2", store.Import), kwh("0.45")}, {sid("GRID", store.Import), kwh("1")}} {
					if _, err := AcceptIntervals(tx, site, d.id, dayOf(d.e), store.KeepFirst, opts()); err != nil {
						return err
					}
				}
				return nil
			},
			kind: KindBalance, meter: "GRID", slot: dayStart,
			reason: []string{"sub-meters add up to 91.200 kWh", "grid meter to 96.000 kWh", "-4.800 kWh", "-5.26 %", "tolerance of 2 %"},
		},
		{
			name: "sub-meters within tolerance",
			feed: func(tx store.Tx, site *core.Site) error {
				for _, d := range []struct {
					id store.SeriesID
					e  core.Energy
				}{{sid("PV", store.Export), 0}, {sid("M1", store.Import), kwh("0.5")}, {sid("M2", store.Import), kwh("0.49")}, {sid("GRID", store.Import), kwh("1")}} {
					if _, err := AcceptIntervals(tx, site, d.id, dayOf(d.e), store.KeepFirst, opts()); err != nil {
						return err
					}
				}
				return nil
			},
			kind: KindBalance, none: true,
		},
		{
			name: "balance restored by a corrected delivery",
			feed: func(tx store.Tx, site *core.Site) error {
				for _, d := range []struct {
					id store.SeriesID
					e  core.Energy
				}{{sid("PV", store.Export), 0}, {sid("M1", store.Import), kwh("0.5")}, {sid("M2", store.Import), kwh("0.45")}, {sid("GRID", store.Import), kwh("1")}} {
					if _, err := AcceptIntervals(tx, site, d.id, dayOf(d.e), store.KeepFirst, opts()); err != nil {
						return err
					}
				}
				if n := len(flagsOf(t, tx, KindBalance)); n != 1 {
					t.Errorf("%d balance flags before the correction, want 1", n)
				}
				_, err := AcceptIntervals(tx, site, sid("M2", store.Import), dayOf(kwh("0.5")), store.Replace, opts())
				return err
			},
			kind: KindBalance, none: true,
		},
		{
			name: "gap in interval data",
			feed: func(tx store.Tx, site *core.Site) error {
				vs := dayOf(100)[:10]
				vs = append(vs[:4], vs[5:]...)
				_, err := AcceptIntervals(tx, site, sid("M2", store.Import), vs, store.KeepFirst, opts())
				return err
			},
			kind: KindGap, meter: "M2", slot: dayStart + 4,
			reason: []string{"import: no value for this interval"},
		},
		{
			name: "readings after the period was billed",
			feed: func(tx store.Tx, site *core.Site) error {
				if err := tx.LockPeriod(store.Lock{Site: site.ID, Period: core.Period{From: day, To: day}, Time: time.Time(now)}); err != nil {
					return err
				}
				_, err := AcceptRegisters(tx, site, "M1", []store.Register{{Time: at(0)}, {Time: at(15), Import: 700}}, opts())
				return err
			},
			kind: KindLocked, meter: "M1", slot: core.SlotOf(at(0)),
			reason: []string{"import 0.0007 kWh (measured) derived from readings that arrived after the period was billed: not stored"},
		},
		{
			name: "readings decades apart (a gateway clock reset)",
			feed: func(tx store.Tx, site *core.Site) error {
				rep, err := AcceptRegisters(tx, site, "M1", []store.Register{{Time: time.Unix(0, 0)}, {Time: at(0), Import: 700}}, opts())
				if err == nil && rep.Written+rep.Estimated != 0 {
					t.Errorf("report %+v: nothing should be derived across 56 years", rep)
				}
				return err
			},
			kind: KindGap, meter: "M1", slot: 0,
			reason: []string{"no reading between 1970-01-01T00:00:00Z and 2026-01-12T00:00:00Z", "too long to estimate automatically"},
		},
		{
			name: "gap between readings",
			feed: func(tx store.Tx, site *core.Site) error {
				_, err := AcceptRegisters(tx, site, "M1", []store.Register{{Time: at(0)}, {Time: at(60), Import: 4000}}, opts())
				return err
			},
			kind: KindGap, meter: "M1", slot: core.SlotOf(at(0)),
			reason: []string{"no reading between 2026-01-12T00:00:00Z and 2026-01-12T01:00:00Z (1h0m0s): estimated linearly"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			onStores(t, func(t *testing.T, tx store.Tx) {
				site := testSite()
				if err := c.feed(tx, site); err != nil {
					t.Fatal(err)
				}
				fs := flagsOf(t, tx, c.kind)
				if c.none {
					if len(fs) != 0 {
						t.Fatalf("unexpected flags %+v", fs)
					}
					return
				}
				var f *store.Flag
				for i := range fs {
					if fs[i].Meter == c.meter && fs[i].Slot == c.slot {
						f = &fs[i]
					}
				}
				if f == nil {
					t.Fatalf("no %s flag on %s at %v; flags: %+v", c.kind, c.meter, c.slot, flagsOf(t, tx, ""))
				}
				for _, r := range c.reason {
					if !strings.Contains(f.Reason, r) {
						t.Errorf("reason %q lacks %q", f.Reason, r)
					}
				}
			})
		})
	}
}

func TestAcceptIntervalsReplaceAudits(t *testing.T) {
	onStores(t, func(t *testing.T, tx store.Tx) {
		site := testSite()
		id := store.SeriesID{Site: "birkenweg", Meter: "GRID", Channel: store.Import}
		v := []store.Value{{Slot: core.SlotOf(at(0)), Energy: 1000, Quality: store.Measured}, {Slot: core.SlotOf(at(15)), Energy: 1000, Quality: store.Measured}}
		if _, err := AcceptIntervals(tx, site, id, v, store.KeepFirst, opts()); err != nil {
			t.Fatal(err)
		}
		v[1].Energy = 1100
		rep, err := AcceptIntervals(tx, site, id, v, store.Replace, Options{Clock: now, Actor: "import"})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Replaced != 1 || rep.Unchanged != 1 || len(rep.Conflicts) != 0 {
			t.Fatalf("report %+v, want 1 replaced, 1 unchanged", rep)
		}
		if len(auditOf(t, tx)) != 1 || auditOf(t, tx)[0].Action != "intervals.replace" || auditOf(t, tx)[0].Actor != "import" ||
			!strings.Contains(auditOf(t, tx)[0].Detail, "GRID import: 1 stored values replaced") {
			t.Fatalf("audit %+v", auditOf(t, tx))
		}
		if s := series(t, tx, "GRID", store.Import, core.SlotOf(at(15)), 1); s.Energy[0] != 1100 {
			t.Fatalf("stored %d, want the corrected 1100", s.Energy[0])
		}
	})
}

// TestReplacement: a meter exchange makes the register go backwards; once
// confirmed, energy across it is continuous and the flag is gone.
func TestReplacement(t *testing.T) {
	onStores(t, func(t *testing.T, tx store.Tx) {
		site := testSite()
		rs := []store.Register{
			{Time: at(0), Import: kwh("1000")}, {Time: at(15), Import: kwh("1001")},
			{Time: at(30), Import: kwh("2")}, {Time: at(45), Import: kwh("3")},
		}
		if _, err := AcceptRegisters(tx, site, "M1", rs, opts()); err != nil {
			t.Fatal(err)
		}
		if n := len(flagsOf(t, tx, KindRegisterBackwards)); n != 1 {
			t.Fatalf("%d backwards flags, want 1", n)
		}
		if s := series(t, tx, "M1", store.Import, core.SlotOf(at(15)), 1); s.Quality[0] != store.Missing {
			t.Fatalf("slot across the exchange is %v before confirmation, want missing", s.Quality[0])
		}
		r := store.Replacement{Time: at(20), OldFinal: store.Register{Import: kwh("1001.5")}, NewInitial: store.Register{Import: kwh("1")}}
		bad := r
		bad.OldFinal.Import = kwh("1000.5")
		if err := ConfirmReplacement(tx, site, "M1", bad, opts()); err == nil || !strings.Contains(err.Error(), "below its reading at 2026-01-12T00:15:00Z") {
			t.Fatalf("an old final below the last reading: err %v", err)
		}
		late := r
		late.Time = at(35) // after the new meter's first reading: 999.5 kWh in 5 minutes
		if err := ConfirmReplacement(tx, site, "M1", late, opts()); err == nil ||
			!strings.Contains(err.Error(), "implies import 999.500 kWh between 2026-01-12T00:30:00Z and 2026-01-12T00:35:00Z, more than the meter's maximum power of 10.000 kW allows") {
			t.Fatalf("an exchange at the wrong time: err %v", err)
		}
		if err := ConfirmReplacement(tx, site, "M1", r, Options{Clock: now, Actor: "anna"}); err != nil {
			t.Fatal(err)
		}
		s := series(t, tx, "M1", store.Import, core.SlotOf(at(0)), 3)
		// (1001.5 - 1001) + (2 - 1) = 1.5 kWh across the exchange.
		want := []core.Energy{kwh("1"), kwh("1.5"), kwh("1")}
		for i := range want {
			if s.Energy[i] != want[i] || s.Quality[i] != store.Measured {
				t.Errorf("slot %d: %s %v, want %s measured", i, s.Energy[i], s.Quality[i], want[i])
			}
		}
		if n := len(flagsOf(t, tx, KindRegisterBackwards)); n != 0 {
			t.Errorf("%d backwards flags after the confirmation, want 0", n)
		}
		if len(auditOf(t, tx)) != 1 || auditOf(t, tx)[0].Action != "meter.replace" || auditOf(t, tx)[0].Actor != "anna" ||
			!strings.Contains(auditOf(t, tx)[0].Detail, "old final import 1001.500 kWh") {
			t.Errorf("audit %+v", auditOf(t, tx))
		}
		// Readings after the exchange keep deriving continuously.
		if _, err := AcceptRegisters(tx, site, "M1", []store.Register{{Time: at(60), Import: kwh("3.25")}}, opts()); err != nil {
			t.Fatal(err)
		}
		if s := series(t, tx, "M1", store.Import, core.SlotOf(at(45)), 1); s.Energy[0] != kwh("0.25") {
			t.Errorf("after the exchange: %s, want 0.250 kWh", s.Energy[0])
		}
	})
}

func TestEstimate(t *testing.T) {
	onStores(t, func(t *testing.T, tx store.Tx) {
		site := testSite()
		id := store.SeriesID{Site: "birkenweg", Meter: "M2", Channel: store.Import}
		// Readings an hour apart (stored directly, as a restored backup would),
		// one measured interval in between.
		if _, err := tx.PutRegisters("birkenweg", "M2", []store.Register{{Time: at(0), Import: 0}, {Time: at(60), Import: 1001}}); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.PutIntervals(id, []store.Value{{Slot: core.SlotOf(at(15)), Energy: 999, Quality: store.Measured}}, store.KeepFirst); err != nil {
			t.Fatal(err)
		}
		n, err := Estimate(tx, site, id, core.SlotOf(at(0)), core.SlotOf(at(120)), opts())
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Fatalf("estimated %d, want 3 (the measured slot stays, none after the last reading)", n)
		}
		s := series(t, tx, "M2", store.Import, core.SlotOf(at(0)), 5)
		// E(15) = ⌊1001/4⌋ = 250, E(30) = 500, E(45) = 750, E(60) = 1001.
		wantE := []core.Energy{250, 999, 250, 251, 0}
		wantQ := []store.Quality{store.Estimated, store.Measured, store.Estimated, store.Estimated, store.Missing}
		for i := range wantE {
			if s.Energy[i] != wantE[i] || s.Quality[i] != wantQ[i] {
				t.Errorf("slot %d: %d %v, want %d %v", i, s.Energy[i], s.Quality[i], wantE[i], wantQ[i])
			}
		}
		if len(flagsOf(t, tx, KindGap)) != 3 || len(auditOf(t, tx)) != 1 || auditOf(t, tx)[0].Action != "intervals.estimate" {
			t.Errorf("flags %v audit %v", flagsOf(t, tx, KindGap), auditOf(t, tx))
		}
		// Again: nothing left to fill.
		if n, err := Estimate(tx, site, id, core.SlotOf(at(0)), core.SlotOf(at(120)), opts()); n != 0 || err != nil {
			t.Errorf("second estimate: %d %v", n, err)
		}
	})
}

func TestUnknownMeter(t *testing.T) {
	onStores(t, func(t *testing.T, tx store.Tx) {
		_, err := AcceptRegisters(tx, testSite(), "NOPE", []store.Register{{Time: at(0)}}, opts())
		if err == nil || !strings.Contains(err.Error(), `meter "NOPE" is not a meter of site birkenweg`) {
			t.Fatalf("err %v", err)
		}
	})
}

// TestReadingBetweenDailyReadingsKeepsMeasuredIntervals: a meter with
// measured interval data and register readings once a day (as the demo and
// many gateways keep them) gets a reading by hand in the middle of the day.
// The estimates derived between the sparse readings are not conflicts with
// the measurements, and the measured intervals are no gaps.
func TestReadingBetweenDailyReadingsKeepsMeasuredIntervals(t *testing.T) {
	onStores(t, func(t *testing.T, tx store.Tx) {
		site := testSite()
		day := core.MustDate(2026, 1, 12)
		from, to := core.Period{From: day, To: day}.Slots(site.Location())
		var vals []store.Value
		total := core.Energy(0)
		for s := from; s < to; s++ {
			e := core.Energy(100+int(s-from)) * core.Wh
			vals = append(vals, store.Value{Slot: s, Energy: e, Quality: store.Measured})
			total += e
		}
		id := store.SeriesID{Site: site.ID, Meter: "M1", Channel: store.Import}
		if _, err := AcceptIntervals(tx, site, id, vals, store.KeepFirst, opts()); err != nil {
			t.Fatal(err)
		}
		start := kwh("5000")
		if _, err := AcceptRegisters(tx, site, "M1", []store.Register{
			{Time: from.Time(), Import: start}, {Time: to.Time(), Import: start + total}}, opts()); err != nil {
			t.Fatal(err)
		}
		// The reading at 10:00 UTC agrees with the intervals before it.
		mid := from + 44 // 10:00 UTC is 11:00 in Zurich in January
		at := start
		for _, v := range vals[:mid-from] {
			at += v.Energy
		}
		rep, err := AcceptRegisters(tx, site, "M1", []store.Register{{Time: mid.Time(), Import: at}}, opts())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rep.Conflicts {
			if c.Incoming.Quality != store.Estimated || c.Stored.Quality != store.Measured {
				t.Errorf("conflict %+v: only estimates against measurements are expected", c)
			}
		}
		if fs := flagsOf(t, tx, KindDuplicate); len(fs) != 0 {
			t.Errorf("duplicate flags %+v: an estimate against a measurement is no finding", fs)
		}
		for _, f := range flagsOf(t, tx, KindGap) {
			if f.Slot >= from && f.Slot < to {
				t.Errorf("gap flag on a measured interval: %+v", f)
				break
			}
		}
		got := series(t, tx, "M1", store.Import, from, int(to-from))
		for i, v := range vals {
			if got.Energy[i] != v.Energy || got.Quality[i] != store.Measured {
				t.Fatalf("slot %d: %v %v, want the measured %v", i, got.Energy[i], got.Quality[i], v.Energy)
			}
		}
	})
}

// TestDayChecksAcrossDST accepts, in one batch, four days of a unit meter's
// readings around the change to summer time (29 March 2026 has 23 hours in
// Zurich) with 2.4 kWh exported per day: every whole local day, the short
// one included, is flagged as swapped at its first interval, and the hour of
// the day before is not.
func TestDayChecksAcrossDST(t *testing.T) {
	onStores(t, func(t *testing.T, tx store.Tx) {
		loc, err := time.LoadLocation("Europe/Zurich")
		if err != nil {
			t.Skip("no time zone data")
		}
		site := testSite()
		var rs []store.Register
		from := time.Date(2026, 3, 27, 23, 0, 0, 0, loc)
		to := time.Date(2026, 3, 31, 0, 0, 0, 0, loc)
		var exp core.Energy
		for at := from; !at.After(to); at = at.Add(15 * time.Minute) {
			rs = append(rs, store.Register{Time: at, Import: kwh("10"), Export: exp})
			exp += 100 * core.Wh
		}
		o := Options{Clock: core.FixedClock(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)), Actor: "test"}
		if _, err := AcceptRegisters(tx, site, "M1", rs, o); err != nil {
			t.Fatal(err)
		}
		var got []time.Time
		for _, f := range flagsOf(t, tx, KindSwapped) {
			got = append(got, f.Slot.Time().In(loc))
		}
		want := []time.Time{
			time.Date(2026, 3, 28, 0, 0, 0, 0, loc),
			time.Date(2026, 3, 29, 0, 0, 0, 0, loc),
			time.Date(2026, 3, 30, 0, 0, 0, 0, loc),
		}
		if len(got) != len(want) {
			t.Fatalf("swapped flags at %v, want %v", got, want)
		}
		for i := range want {
			if !got[i].Equal(want[i]) {
				t.Errorf("swapped flag %d at %s, want %s", i, got[i], want[i])
			}
		}
	})
}
