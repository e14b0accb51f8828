package vee

import (
	"testing"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// fill stores n values of e from slot from, with quality q.
func fill(t *testing.T, tx store.Tx, site *core.Site, meter string, ch store.Channel, from core.Slot, n int, e core.Energy, q store.Quality) {
	t.Helper()
	vs := make([]store.Value, n)
	for i := range vs {
		vs[i] = store.Value{Slot: from + core.Slot(i), Energy: e, Quality: q}
	}
	if _, err := AcceptIntervals(tx, site, store.SeriesID{Site: site.ID, Meter: meter, Channel: ch}, vs, store.KeepFirst, opts()); err != nil {
		t.Fatal(err)
	}
}

func TestQualityCounts(t *testing.T) {
	onStores(t, func(t *testing.T, tx store.Tx) {
		site := testSite()
		loc := site.Location()
		d1, d2 := core.MustDate(2026, 1, 12), core.MustDate(2026, 1, 13)
		s1, s2 := d1.FirstSlot(loc), d2.FirstSlot(loc)
		// Day 1 complete: consumers 1000 mWh per slot, PV 300, the grid 720,
		// so 20 mWh per slot (2 % of consumption) are not sub-metered.
		fill(t, tx, site, "M1", store.Import, s1, 96, 400, store.Measured)
		fill(t, tx, site, "M2", store.Import, s1, 96, 600, store.Measured)
		fill(t, tx, site, "PV", store.Export, s1, 96, 300, store.Measured)
		fill(t, tx, site, "GRID", store.Import, s1, 96, 720, store.Measured)
		// Day 2: M1 only, with 4 estimated, 2 missing and one implausible slot.
		fill(t, tx, site, "M1", store.Import, s2, 40, 400, store.Measured)
		fill(t, tx, site, "M1", store.Import, s2+40, 4, 400, store.Estimated)
		fill(t, tx, site, "M1", store.Import, s2+46, 50, 400, store.Measured)
		fill(t, tx, site, "M1", store.Import, s2+50, 1, kwh("3"), store.Measured) // a conflict: 400 is kept...
		if _, err := AcceptIntervals(tx, site, store.SeriesID{Site: site.ID, Meter: "M1", Channel: store.Import},
			[]store.Value{{Slot: s2 + 50, Energy: kwh("3"), Quality: store.Measured}}, store.Replace, opts()); err != nil {
			t.Fatal(err) // ... until a corrected delivery replaces it
		}

		rep, err := Quality(tx, site, core.Period{From: d1, To: d2})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Slots != 192 || len(rep.Meters) != 4 {
			t.Fatalf("slots %d meters %d, want 192 and 4", rep.Slots, len(rep.Meters))
		}
		byID := map[string]MeterQuality{}
		for _, m := range rep.Meters {
			byID[m.Meter] = m
			if m.Measured+m.Estimated+m.Edited+m.Missing != rep.Slots {
				t.Errorf("%s: counts %+v do not add up to %d", m.Meter, m, rep.Slots)
			}
		}
		m1 := byID["M1"]
		if m1.Measured != 186 || m1.Estimated != 4 || m1.Missing != 2 || m1.Flagged != 1 {
			t.Errorf("M1: measured %d estimated %d missing %d flagged %d, want 186 4 2 1 (max power and duplicate on one slot)",
				m1.Measured, m1.Estimated, m1.Missing, m1.Flagged)
		}
		kinds := map[string]int{}
		for _, f := range m1.Flags {
			kinds[f.Kind]++
		}
		if kinds[KindMaxPower] != 1 || kinds[KindDuplicate] != 1 || kinds[KindGap] != 6 {
			t.Errorf("M1 flags by kind %v, want 1 max-power, 1 duplicate, 6 gap (4 estimated, 2 missing)", kinds)
		}
		if m1.EstimatedEnergy != 1600 {
			t.Errorf("M1 estimated energy %d, want 1600", m1.EstimatedEnergy)
		}
		// Known: 189 × 400 mWh + 3 kWh over 190 slots; 2 missing: 32.3747 Wh,
		// to the Wh.
		wantMissing := 32 * core.Wh
		if m1.MissingEnergyEstimate != wantMissing {
			t.Errorf("M1 missing energy estimate %d, want %d", m1.MissingEnergyEstimate, wantMissing)
		}
		if m := byID["M2"]; m.Measured != 96 || m.Missing != 96 {
			t.Errorf("M2: %+v, want 96 measured, 96 missing", m)
		}
		if !rep.HasBalance || rep.BalanceSlots != 96 || rep.ConsumptionKWh != 96_000 || rep.GridKWh != 69_120 ||
			rep.SubMetersKWh != 67_200 || rep.BalancePercent != -2 || rep.Exceeds {
			t.Errorf("balance: has %v slots %d consumption %d grid %d sub %d %.2f %% exceeds %v; want 96 slots, "+
				"96000, 69120, 67200, -2.00 %% within the tolerance", rep.HasBalance, rep.BalanceSlots, rep.ConsumptionKWh,
				rep.GridKWh, rep.SubMetersKWh, rep.BalancePercent, rep.Exceeds)
		}
		if len(rep.Days) != 2 || !rep.Days[0].Complete || rep.Days[1].Complete || rep.Days[0].BalancePercent != -2 {
			t.Errorf("days %+v, want day 1 complete at -2 %%, day 2 incomplete", rep.Days)
		}
		// A tighter tolerance makes the same data exceed it.
		site.Settings.BalanceTolerance = 150
		rep, _ = Quality(tx, site, core.Period{From: d1, To: d1})
		if !rep.Exceeds || !rep.Days[0].Exceeds {
			t.Errorf("with 1.5 %% tolerance: exceeds %v / %v, want true", rep.Exceeds, rep.Days[0].Exceeds)
		}
	})
}

// TestQualityDST checks the slot counts of the days when clocks change in
// Europe/Zurich: 92 intervals on the last Sunday of March, 100 in October.
func TestQualityDST(t *testing.T) {
	site := testSite()
	loc := site.Location()
	cases := []struct {
		p     core.Period
		slots int
		days  []int
	}{
		{core.Period{From: core.MustDate(2026, 3, 29), To: core.MustDate(2026, 3, 29)}, 92, []int{92}},
		{core.Period{From: core.MustDate(2026, 10, 25), To: core.MustDate(2026, 10, 25)}, 100, []int{100}},
		{core.Period{From: core.MustDate(2026, 3, 28), To: core.MustDate(2026, 3, 30)}, 284, []int{96, 92, 96}},
	}
	for _, c := range cases {
		onStores(t, func(t *testing.T, tx store.Tx) {
			from, _ := c.p.Slots(loc)
			// M1 reports every interval of the period from registers.
			var rs []store.Register
			for i := 0; i <= c.slots; i++ {
				rs = append(rs, store.Register{Time: (from + core.Slot(i)).Time(), Import: core.Energy(i * 250)})
			}
			o := Options{Clock: core.FixedClock((from + core.Slot(c.slots+10)).Time())}
			if _, err := AcceptRegisters(tx, site, "M1", rs, o); err != nil {
				t.Fatal(err)
			}
			rep, err := Quality(tx, site, c.p)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Slots != c.slots {
				t.Errorf("%s: %d slots, want %d", c.p, rep.Slots, c.slots)
			}
			for i, d := range rep.Days {
				if d.Slots != c.days[i] {
					t.Errorf("%s: day %s has %d slots, want %d", c.p, d.Date, d.Slots, c.days[i])
				}
			}
			for _, m := range rep.Meters {
				want := [2]int{0, c.slots} // measured, missing
				if m.Meter == "M1" {
					want = [2]int{c.slots, 0}
				}
				if m.Measured != want[0] || m.Missing != want[1] {
					t.Errorf("%s %s: measured %d missing %d, want %v", c.p, m.Meter, m.Measured, m.Missing, want)
				}
			}
			if m := rep.Meters[2]; m.Import != core.Energy(c.slots*250) {
				t.Errorf("%s: M1 import %d, want %d", c.p, m.Import, c.slots*250)
			}
		})
	}
}

func TestQualityInvalidPeriod(t *testing.T) {
	onStores(t, func(t *testing.T, tx store.Tx) {
		_, err := Quality(tx, testSite(), core.Period{From: core.MustDate(2026, 2, 1), To: core.MustDate(2026, 1, 1)})
		if err == nil {
			t.Fatal("want an error for a period that ends before it starts")
		}
	})
}

// TestQualityIgnoresEstimatesOnlyChannel: a unit meter with measured import
// intervals and once-a-day readings has an export channel of estimated
// zeros; its intervals count as measured, not estimated.
func TestQualityIgnoresEstimatesOnlyChannel(t *testing.T) {
	onStores(t, func(t *testing.T, tx store.Tx) {
		site := testSite()
		day := core.MustDate(2026, 1, 12)
		from, to := core.Period{From: day, To: day}.Slots(site.Location())
		var vals []store.Value
		for s := from; s < to; s++ {
			vals = append(vals, store.Value{Slot: s, Energy: 100 * core.Wh, Quality: store.Measured})
		}
		id := store.SeriesID{Site: site.ID, Meter: "M1", Channel: store.Import}
		if _, err := AcceptIntervals(tx, site, id, vals, store.KeepFirst, opts()); err != nil {
			t.Fatal(err)
		}
		if _, err := AcceptRegisters(tx, site, "M1", []store.Register{
			{Time: from.Time(), Import: kwh("10")}, {Time: to.Time(), Import: kwh("19.6")}}, opts()); err != nil {
			t.Fatal(err)
		}
		if exp := series(t, tx, "M1", store.Export, from, 1); exp.Quality[0] != store.Estimated {
			t.Fatalf("export %v: the test expects estimated zeros on the export channel", exp.Quality[0])
		}
		rep, err := Quality(tx, site, core.Period{From: day, To: day})
		if err != nil {
			t.Fatal(err)
		}
		m := rep.Meters[2]
		if m.Meter != "M1" || m.Measured != 96 || m.Estimated != 0 {
			t.Errorf("%s: measured %d, estimated %d, want 96 measured", m.Meter, m.Measured, m.Estimated)
		}
	})
}
