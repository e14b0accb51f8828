package totals

import (
	"testing"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/mem"
)

// A day on the spring clock change (92 intervals): PV produces 2 kWh in 10
// slots, one flat uses 1 kWh in every slot, the heat pump 3 kWh in the first
// 10 slots; the PV meter has no data for the last 2 slots.
func TestOfSpringDay(t *testing.T) {
	st := mem.New()
	site := &core.Site{ID: "s", Name: "S", Timezone: "Europe/Zurich", Operator: core.Operator{Name: "O"},
		Units: []core.Unit{{ID: "W1"}},
		Meters: []core.Meter{{ID: "PV", Role: core.RoleProduction}, {ID: "GRID", Role: core.RoleGrid},
			{ID: "W1", Role: core.RoleUnit, Unit: "W1"}, {ID: "WP", Role: core.RoleHeatPump}}}
	if err := site.Validate(); err != nil {
		t.Fatal(err)
	}
	day := core.MustDate(2026, 3, 29)
	p := core.Period{From: day, To: day}
	from, to := p.Slots(site.Location())
	if to-from != 92 {
		t.Fatalf("29 March 2026 has %d slots in Zurich", to-from)
	}
	put := func(tx store.Tx, meter string, ch store.Channel, n int, e func(i int) core.Energy) {
		var vs []store.Value
		for i := 0; i < n; i++ {
			vs = append(vs, store.Value{Slot: from + core.Slot(i), Energy: e(i), Quality: store.Measured})
		}
		if _, err := tx.PutIntervals(store.SeriesID{Site: "s", Meter: meter, Channel: ch}, vs, store.KeepFirst); err != nil {
			t.Fatal(err)
		}
	}
	err := st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(site); err != nil {
			return err
		}
		put(tx, "PV", store.Export, 90, func(i int) core.Energy {
			if i >= 40 && i < 50 {
				return 2 * core.KWh
			}
			return 0
		})
		put(tx, "W1", store.Import, 92, func(int) core.Energy { return core.KWh })
		put(tx, "WP", store.Import, 10, func(int) core.Energy { return 3 * core.KWh })
		put(tx, "GRID", store.Import, 92, func(i int) core.Energy { return core.KWh })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var tot Totals
	if err := st.View(func(tx store.Tx) (err error) { tot, err = Of(tx, site, p); return err }); err != nil {
		t.Fatal(err)
	}
	// Consumption: 92 × 1 + 10 × 3 = 122 kWh. Self-consumed: the 10 PV slots
	// have 2 kWh of PV against 1 kWh of use: 10 kWh.
	if tot.Slots != 92 || tot.Production != 20*core.KWh || tot.Consumption != 122*core.KWh ||
		tot.SelfConsumed != 10*core.KWh || tot.GridImport != 92*core.KWh {
		t.Errorf("totals %+v", tot)
	}
	if got := tot.SelfSufficiency(); got < 8.19 || got > 8.2 { // 10 / 122
		t.Errorf("self-sufficiency %.3f %%", got)
	}
	missing := map[string]int{}
	for _, m := range tot.Meters {
		missing[m.ID] = m.Missing
	}
	// PV counts its export channel (2 slots missing), the heat pump its
	// import (82 missing); the grid meter's empty export does not count.
	if missing["PV"] != 2 || missing["WP"] != 82 || missing["W1"] != 0 || missing["GRID"] != 0 || tot.Missing() != 84 {
		t.Errorf("missing %v, total %d", missing, tot.Missing())
	}
}

// TestOfRetiredMeter: a meter retired the day before counts no missing
// interval and none of what it still recorded, as in billing and Data
// quality.
func TestOfRetiredMeter(t *testing.T) {
	st := mem.New()
	day := core.MustDate(2026, 6, 2)
	site := &core.Site{ID: "s", Name: "S", Timezone: "Europe/Zurich", Operator: core.Operator{Name: "O"},
		Units:  []core.Unit{{ID: "W1"}},
		Meters: []core.Meter{{ID: "W1", Role: core.RoleUnit, Unit: "W1"}, {ID: "OLD", Role: core.RoleCommon, Retired: day.AddDays(-1)}}}
	if err := site.Validate(); err != nil {
		t.Fatal(err)
	}
	p := core.Period{From: day, To: day}
	from, to := p.Slots(site.Location())
	err := st.Update(func(tx store.Tx) error {
		var w1, old []store.Value
		for s := from; s < to; s++ {
			w1 = append(w1, store.Value{Slot: s, Energy: core.KWh, Quality: store.Measured})
		}
		old = append(old, store.Value{Slot: from, Energy: 5 * core.KWh, Quality: store.Measured})
		if _, err := tx.PutIntervals(store.SeriesID{Site: "s", Meter: "W1", Channel: store.Import}, w1, store.KeepFirst); err != nil {
			return err
		}
		_, err := tx.PutIntervals(store.SeriesID{Site: "s", Meter: "OLD", Channel: store.Import}, old, store.KeepFirst)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var tot Totals
	if err := st.View(func(tx store.Tx) (err error) { tot, err = Of(tx, site, p); return }); err != nil {
		t.Fatal(err)
	}
	if tot.Missing() != 0 || tot.Consumption != core.Energy(to-from)*core.KWh {
		t.Errorf("missing %d, consumption %s kWh; want 0 and W1's alone", tot.Missing(), core.FormatKWh(tot.Consumption))
	}
}
