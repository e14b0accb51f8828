// Package benchdata builds the database of the desktop's switching
// benchmarks: the office of the speed requirement ("5 years of 100 meters"),
// shared by app/ui's benchmarks on Fyne's test driver and package main's on
// the real window, so that both measure the same data.
package benchdata

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// The sites of the database: Big has 100 meters (one PV, one grid meter and
// 98 units) with 15-minute data for the five years 2022–2026, Small four
// meters (PV, grid, two units) for June 2026.
const (
	Big   = "big"
	Small = "small"
)

// built is the database file of this process, made once.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// File returns the path of the big database, a bbolt file written on the
// first call (a few seconds) into a temporary folder of this process and
// closed; later calls return the same file. Remove deletes the folder. The
// file is meant to be read: bbolt lets one opener at a time have it.
func File() (string, error) {
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "zevdesk-bench-")
		if built.err != nil {
			return
		}
		path := filepath.Join(built.dir, "big.db")
		st, err := bolt.Open(path, nil)
		if err != nil {
			built.err = err
			return
		}
		if err := Fill(st); err != nil {
			st.Close()
			built.err = fmt.Errorf("filling the benchmark database %s: %w", path, err)
			return
		}
		if err := st.Close(); err != nil {
			built.err = fmt.Errorf("closing the benchmark database %s: %w", path, err)
			return
		}
		built.path = path
	})
	return built.path, built.err
}

// Remove deletes the folder of File's database, if one was made.
func Remove() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
}

// Fill writes the sites Big and Small and their interval data into st.
// Every meter of Big but PV has a constant 50 Wh + its index per slot; PV
// produces 20 kWh in 40 of each 96 slots (a day's production is 800 kWh).
func Fill(st store.Store) error {
	big := &core.Site{ID: Big, Name: "ZEV Grosshof", Timezone: "Europe/Zurich",
		Operator: core.Operator{Name: "Immo Muster AG"},
		Meters:   []core.Meter{{ID: "PV", Role: core.RoleProduction}, {ID: "GRID", Role: core.RoleGrid}}}
	for i := 1; i <= 98; i++ {
		u := fmt.Sprintf("W%02d", i)
		big.Units = append(big.Units, core.Unit{ID: u})
		big.Meters = append(big.Meters, core.Meter{ID: "M-" + u, Role: core.RoleUnit, Unit: u})
	}
	small := &core.Site{ID: Small, Name: "ZEV Birkenweg 12", Timezone: "Europe/Zurich",
		Operator: core.Operator{Name: "Immo Muster AG"}, Units: []core.Unit{{ID: "W01"}, {ID: "W02"}},
		Meters: []core.Meter{{ID: "PV", Role: core.RoleProduction}, {ID: "GRID", Role: core.RoleGrid},
			{ID: "M-W01", Role: core.RoleUnit, Unit: "W01"}, {ID: "M-W02", Role: core.RoleUnit, Unit: "W02"}}}
	for _, s := range []*core.Site{big, small} {
		if err := s.Validate(); err != nil {
			return err
		}
	}
	if err := st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(small); err != nil {
			return err
		}
		for d := core.MustDate(2026, 6, 1); d.Month == 6; d = d.AddDays(1) {
			if err := putSmallDay(tx, small, d); err != nil {
				return fmt.Errorf("writing %s of site %s: %w", d, small.ID, err)
			}
		}
		return tx.PutSite(big)
	}); err != nil {
		return err
	}
	from, to := core.Period{From: core.MustDate(2022, 1, 1), To: core.MustDate(2026, 12, 31)}.Slots(big.Location())
	for mi, m := range big.Meters {
		ch := store.Import
		if m.Role == core.RoleProduction {
			ch = store.Export
		}
		vals := make([]store.Value, 0, to-from)
		for s := from; s < to; s++ {
			i := int(s-from) % 96
			e := core.Energy(50+mi) * core.Wh
			if m.Role == core.RoleProduction {
				e = 0
				if i >= 28 && i < 68 {
					e = 20 * core.KWh
				}
			}
			vals = append(vals, store.Value{Slot: s, Energy: e, Quality: store.Measured})
		}
		err := st.Update(func(tx store.Tx) error {
			_, err := tx.PutIntervals(store.SeriesID{Site: big.ID, Meter: m.ID, Channel: ch}, vals, store.KeepFirst)
			return err
		})
		if err != nil {
			return fmt.Errorf("writing meter %s of site %s: %w", m.ID, big.ID, err)
		}
	}
	return nil
}

// putSmallDay writes one local day of site Small: PV 1 kWh in the 40 slots
// from 07:00, W01 0.5 kWh and W02 0.25 kWh in every slot, the grid meter
// importing 0.75 kWh outside the PV slots and exporting 0.25 kWh inside them.
func putSmallDay(tx store.Tx, site *core.Site, day core.Date) error {
	from, to := core.Period{From: day, To: day}.Slots(site.Location())
	sun := func(i int) bool { return i >= 28 && i < 68 }
	series := []struct {
		meter string
		ch    store.Channel
		f     func(i int) core.Energy
	}{
		{"PV", store.Export, func(i int) core.Energy {
			if sun(i) {
				return core.KWh
			}
			return 0
		}},
		{"M-W01", store.Import, func(int) core.Energy { return core.KWh / 2 }},
		{"M-W02", store.Import, func(int) core.Energy { return core.KWh / 4 }},
		{"GRID", store.Import, func(i int) core.Energy {
			if sun(i) {
				return 0
			}
			return 3 * core.KWh / 4
		}},
		{"GRID", store.Export, func(i int) core.Energy {
			if sun(i) {
				return core.KWh / 4
			}
			return 0
		}},
	}
	for _, s := range series {
		var vals []store.Value
		for slot := from; slot < to; slot++ {
			vals = append(vals, store.Value{Slot: slot, Energy: s.f(int(slot - from)), Quality: store.Measured})
		}
		if _, err := tx.PutIntervals(store.SeriesID{Site: site.ID, Meter: s.meter, Channel: s.ch}, vals, store.KeepFirst); err != nil {
			return err
		}
	}
	return nil
}
