package billing

import (
	"testing"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/mem"
)

// TestLoadRetiredMeter: a meter retired on 5 January is billed up to that
// day; what it recorded after is ignored and its absence is no missing
// data. The same holds for a meter in service from 7 January before that
// day.
func TestLoadRetiredMeter(t *testing.T) {
	s := baseSite()
	s.Meters = append(s.Meters, core.Meter{ID: "ALLG", Role: core.RoleCommon, Key: core.KeyArea, Retired: date("2026-01-05")},
		core.Meter{ID: "NEU", Role: core.RoleCommon, Key: core.KeyArea, Since: date("2026-01-07")})
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	p := period("2026-01-05", "2026-01-07")
	loc := s.Location()
	from, to := p.Slots(loc)
	cut := date("2026-01-06").FirstSlot(loc)
	st := mem.New()
	err := st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(s); err != nil {
			return err
		}
		put := func(m string, ch store.Channel, a, b core.Slot, e core.Energy) error {
			var vs []store.Value
			for sl := a; sl < b; sl++ {
				vs = append(vs, store.Value{Slot: sl, Energy: e, Quality: store.Measured})
			}
			_, err := tx.PutIntervals(store.SeriesID{Site: s.ID, Meter: m, Channel: ch}, vs, store.KeepFirst)
			return err
		}
		for _, m := range []string{"M-W01", "M-W02", "GRID"} {
			if err := put(m, store.Import, from, to, kwhE("0.1")); err != nil {
				return err
			}
		}
		if err := put("PV", store.Export, from, to, 0); err != nil {
			return err
		}
		if err := put("GRID", store.Export, from, to, 0); err != nil {
			return err
		}
		// ALLG: 0.2 kWh per interval on its last day; a stray 9 kWh on
		// the 7th (a gateway still sending it) must not be billed.
		if err := put("ALLG", store.Import, from, cut, kwhE("0.2")); err != nil {
			return err
		}
		if err := put("ALLG", store.Import, cut+96, to, kwhE("9")); err != nil {
			return err
		}
		// NEU: the installer's test on the 5th is not billed; 0.3 kWh per
		// interval from its first day.
		if err := put("NEU", store.Import, from, from+4, kwhE("5")); err != nil {
			return err
		}
		return put("NEU", store.Import, cut+96, to, kwhE("0.3"))
	})
	if err != nil {
		t.Fatal(err)
	}
	var run *Run
	err = st.View(func(tx store.Tx) error {
		in, err := Load(tx, s, p)
		if err != nil {
			return err
		}
		run, err = Bill(in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range run.Missing {
		if m.Meter == "ALLG" || m.Meter == "NEU" {
			t.Errorf("a meter out of service is missing data: %+v", m)
		}
	}
	n := int64(to - from)
	want := core.Energy(2*n)*kwhE("0.1") + core.Energy(cut-from)*kwhE("0.2") + core.Energy(to-cut-96)*kwhE("0.3")
	if run.Building.Consumption != want {
		t.Errorf("consumption %s kWh, want %s (the retired meter up to its last day)", core.FormatKWh(run.Building.Consumption), core.FormatKWh(want))
	}
}
