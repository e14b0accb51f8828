package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// The big database of the switching benchmarks: site "big" has 100
// meters (one PV, one grid meter, 98 units) with 15-minute data for the five
// years 2022–2026, site "small" four meters for June 2026. It is built once
// per test binary, in a folder removeBenchDB deletes.
var bigDB struct {
	once sync.Once
	dir  string
	st   store.Store
	err  error
}

func removeBenchDB() {
	if bigDB.st != nil {
		bigDB.st.(*bolt.Store).Close()
	}
	if bigDB.dir != "" {
		os.RemoveAll(bigDB.dir)
	}
}

func benchBig(b *testing.B) store.Store {
	b.Helper()
	bigDB.once.Do(func() {
		start := time.Now()
		bigDB.dir, bigDB.err = os.MkdirTemp("", "zevdesk-bench-")
		if bigDB.err != nil {
			return
		}
		st, err := bolt.Open(filepath.Join(bigDB.dir, "big.db"), nil)
		if err != nil {
			bigDB.err = err
			return
		}
		bigDB.st = st
		bigDB.err = fillBig(b, st)
		b.Logf("built the 5-year 100-meter database in %v", time.Since(start).Round(time.Second))
	})
	if bigDB.err != nil {
		b.Fatal(bigDB.err)
	}
	return bigDB.st
}

func fillBig(b *testing.B, st store.Store) error {
	big := &core.Site{ID: "big", Name: "ZEV Grosshof", Timezone: "Europe/Zurich",
		Operator: core.Operator{Name: "Immo Muster AG"},
		Meters:   []core.Meter{{ID: "PV", Role: core.RoleProduction}, {ID: "GRID", Role: core.RoleGrid}}}
	for i := 1; i <= 98; i++ {
		u := fmt.Sprintf("W%02d", i)
		big.Units = append(big.Units, core.Unit{ID: u})
		big.Meters = append(big.Meters, core.Meter{ID: "M-" + u, Role: core.RoleUnit, Unit: u})
	}
	small := &core.Site{ID: "small", Name: "ZEV Birkenweg 12", Timezone: "Europe/Zurich",
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
			putDayTB(b, tx, small, d)
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
			return err
		}
	}
	return nil
}

// benchWindow is the main window on the big database, drawn at a usual
// size on the test driver, showing site "big" on 5 July 2026.
func benchWindow(b *testing.B) *MainWindow {
	st := benchBig(b)
	test.NewTempApp(b)
	w := test.NewTempWindow(b, nil)
	m := newMainWindow(w, st, core.FixedClock(time.Date(2026, 7, 5, 9, 0, 0, 0, time.UTC)))
	m.gateways.browse, _ = fakeBrowse()
	b.Cleanup(func() { m.gateways.Stop() })
	w.Resize(fyne.NewSize(1100, 720))
	if err := m.ShowSite("big"); err != nil {
		b.Fatal(err)
	}
	// 40 sunny slots of 20 kWh on 4 July: the data is there.
	if got := m.overview.figures["Production"].Text; got != "800.0 kWh" {
		b.Fatalf("big site's production on 4 July: %q", got)
	}
	return m
}

// BenchmarkDrawOnly draws the Overview of the big site without loading:
// the part of the figures above that is the test driver's software
// rendering of a 1100 × 720 window.
func BenchmarkDrawOnly(b *testing.B) {
	m := benchWindow(b)
	for b.Loop() {
		m.win.Canvas().Capture()
	}
}

// BenchmarkSwitchTab switches from the Overview to Energy and to Data
// quality and back, each time loading the screen afresh (as after a data
// change) and drawing the window.
func BenchmarkSwitchTab(b *testing.B) {
	m := benchWindow(b)
	for b.Loop() {
		for _, tab := range []int{2, 3, 0} {
			for i := range m.shown {
				m.shown[i] = ""
			}
			m.tabs.SelectIndex(tab)
			m.win.Canvas().Capture()
		}
	}
}

// BenchmarkSwitchPeriod steps the Energy screen's month view back and
// forth over 100 meters, drawing each month.
func BenchmarkSwitchPeriod(b *testing.B) {
	m := benchWindow(b)
	m.tabs.SelectIndex(2)
	m.energy.onView(viewMonth)
	for b.Loop() {
		m.energy.onStep(-1)
		m.win.Canvas().Capture()
		m.energy.onStep(1)
		m.win.Canvas().Capture()
	}
}

// BenchmarkSwitchYear shows the Energy screen's year view of 100 meters.
func BenchmarkSwitchYear(b *testing.B) {
	m := benchWindow(b)
	m.tabs.SelectIndex(2)
	m.energy.onView(viewYear)
	for b.Loop() {
		m.energy.onLoad()
		m.win.Canvas().Capture()
	}
}

// BenchmarkSwitchSite switches the Overview between the 100-meter site and
// a 4-meter one, drawing each.
func BenchmarkSwitchSite(b *testing.B) {
	m := benchWindow(b)
	for b.Loop() {
		m.onSite("small")
		m.win.Canvas().Capture()
		m.onSite("big")
		m.win.Canvas().Capture()
	}
}
