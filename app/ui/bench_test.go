package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// benchYear is a site with the test profile on every day of 2026.
func benchYear(b *testing.B) (store.Store, *core.Site) {
	st := openStoreB(b)
	site := &core.Site{
		ID: "birkenweg", Name: "ZEV Birkenweg 12", Timezone: "Europe/Zurich",
		Operator: core.Operator{Name: "Immo Muster AG"},
		Units:    []core.Unit{{ID: "W01"}, {ID: "W02"}},
		Meters: []core.Meter{
			{ID: "PV", Role: core.RoleProduction}, {ID: "GRID", Role: core.RoleGrid},
			{ID: "M-W01", Role: core.RoleUnit, Unit: "W01"}, {ID: "M-W02", Role: core.RoleUnit, Unit: "W02"},
		},
	}
	if err := site.Validate(); err != nil {
		b.Fatal(err)
	}
	err := st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(site); err != nil {
			return err
		}
		for d := core.MustDate(2026, 1, 1); d.Year == 2026; d = d.AddDays(1) {
			putDayTB(b, tx, site, d)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return st, site
}

// BenchmarkLoadEnergyYear reads a year of four meters into 12 monthly bars
// (what the energy screen's year view does on the UI goroutine).
func BenchmarkLoadEnergyYear(b *testing.B) {
	st, site := benchYear(b)
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		err := st.View(func(tx store.Tx) error {
			_, err := loadEnergy(tx, site, viewYear, core.MustDate(2026, 6, 1), now)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnergyDayRefresh loads and draws one day of 96 bars.
func BenchmarkEnergyDayRefresh(b *testing.B) {
	test.NewTempApp(b)
	st, site := benchYear(b)
	e := NewEnergy(st, core.FixedClock(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)))
	test.NewTempWindow(b, e.Content())
	e.setSite(site)
	for b.Loop() {
		e.onLoad()
	}
}
