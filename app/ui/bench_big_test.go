package ui

import (
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/internal/benchdata"
)

// The big database of the switching benchmarks (internal/benchdata): site
// "big" has 100 meters with 15-minute data for the five years 2022–2026,
// site "small" four meters for June 2026. Its file is built once per test
// binary; bigDB is it opened, and removeBenchDB closes and deletes it.
var bigDB struct {
	once sync.Once
	path string
	st   store.Store
	err  error
}

func removeBenchDB() {
	if bigDB.st != nil {
		bigDB.st.(*bolt.Store).Close()
	}
	benchdata.Remove()
}

func benchBig(b *testing.B) store.Store {
	b.Helper()
	bigDB.once.Do(func() {
		start := time.Now()
		if bigDB.path, bigDB.err = benchdata.File(); bigDB.err != nil {
			return
		}
		b.Logf("built the 5-year 100-meter database in %v", time.Since(start).Round(time.Second))
		bigDB.st, bigDB.err = bolt.Open(bigDB.path, nil)
	})
	if bigDB.err != nil {
		b.Fatal(bigDB.err)
	}
	return bigDB.st
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
	if err := m.ShowSite(benchdata.Big); err != nil {
		b.Fatal(err)
	}
	// 40 sunny slots of 20 kWh on 4 July: the data is there.
	if got := m.overview.figures["Production"].Text; got != "800.0 kWh" {
		b.Fatalf("big site's production on 4 July: %q", got)
	}
	return m
}

// BenchmarkDrawOnly draws the Overview of the big site without loading:
// the part of the figures below that is the test driver's software
// rendering of a 1100 × 720 window.
func BenchmarkDrawOnly(b *testing.B) {
	m := benchWindow(b)
	for b.Loop() {
		m.win.Canvas().Capture()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/draw")
}

// benchSwitches runs the switches in turn on the big site's window, as
// two sub-benchmarks: "update" loads each screen's data and updates its
// widgets (what the app does), "drawn" also has the test driver draw the
// window after each switch in software (what a person sees; a real
// window draws on the GPU). Both report ms per switch.
func benchSwitches(b *testing.B, setup func(*MainWindow), switches ...func(*MainWindow)) {
	for _, draw := range []bool{false, true} {
		name := "update"
		if draw {
			name = "drawn"
		}
		b.Run(name, func(b *testing.B) {
			m := benchWindow(b)
			if setup != nil {
				setup(m)
			}
			for b.Loop() {
				for _, sw := range switches {
					sw(m)
					if draw {
						m.win.Canvas().Capture()
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*len(switches)), "ms/switch")
		})
	}
}

// BenchmarkSwitchTab switches from the Overview to Energy and to Data
// quality and back.
func BenchmarkSwitchTab(b *testing.B) {
	var sw []func(*MainWindow)
	for _, tab := range []int{2, 3, 0} {
		sw = append(sw, func(m *MainWindow) { m.tabs.SelectIndex(tab) })
	}
	benchSwitches(b, nil, sw...)
}

// BenchmarkReloadTab switches tabs as BenchmarkSwitchTab, each time
// loading the screen afresh (as after a data change).
func BenchmarkReloadTab(b *testing.B) {
	var sw []func(*MainWindow)
	for _, tab := range []int{2, 3, 0} {
		sw = append(sw, func(m *MainWindow) {
			for i := range m.shown {
				m.shown[i] = ""
			}
			m.tabs.SelectIndex(tab)
		})
	}
	benchSwitches(b, nil, sw...)
}

// BenchmarkSwitchPeriod steps the Energy screen's month view back and
// forth over 100 meters.
func BenchmarkSwitchPeriod(b *testing.B) {
	benchSwitches(b, func(m *MainWindow) {
		m.tabs.SelectIndex(2)
		m.energy.onView(viewMonth)
	}, func(m *MainWindow) { m.energy.onStep(-1) }, func(m *MainWindow) { m.energy.onStep(1) })
}

// BenchmarkSwitchPeriodUncached steps as BenchmarkSwitchPeriod with the
// Energy screen's loaded ranges forgotten before each step (every month
// read again, as before the screen kept them): the baseline of the two.
func BenchmarkSwitchPeriodUncached(b *testing.B) {
	benchSwitches(b, func(m *MainWindow) {
		m.tabs.SelectIndex(2)
		m.energy.onView(viewMonth)
	}, func(m *MainWindow) { clear(m.energy.loaded); m.energy.onStep(-1) },
		func(m *MainWindow) { clear(m.energy.loaded); m.energy.onStep(1) })
}

// BenchmarkSwitchQualityMonth steps the Data quality screen back and
// forth a month over 100 meters.
func BenchmarkSwitchQualityMonth(b *testing.B) {
	benchSwitches(b, func(m *MainWindow) { m.tabs.SelectIndex(3) },
		func(m *MainWindow) { m.quality.onMonth(-1) }, func(m *MainWindow) { m.quality.onMonth(1) })
}

// BenchmarkSwitchQualityMonthUncached steps as BenchmarkSwitchQualityMonth
// with the screen's loaded months forgotten before each step (each month's
// quality computed again, as before the screen kept them): the baseline.
func BenchmarkSwitchQualityMonthUncached(b *testing.B) {
	benchSwitches(b, func(m *MainWindow) { m.tabs.SelectIndex(3) },
		func(m *MainWindow) { clear(m.quality.loaded); m.quality.onMonth(-1) },
		func(m *MainWindow) { clear(m.quality.loaded); m.quality.onMonth(1) })
}

// BenchmarkSwitchYear switches the Energy screen between the year view
// of 100 meters and the month view, each read before.
func BenchmarkSwitchYear(b *testing.B) {
	benchSwitches(b, func(m *MainWindow) {
		m.tabs.SelectIndex(2)
		m.energy.onView(viewYear)
	}, func(m *MainWindow) { m.energy.onView(viewMonth) }, func(m *MainWindow) { m.energy.onView(viewYear) })
}

// BenchmarkLoadYear reads and shows the Energy screen's year view of 100
// meters afresh (as after a data change): the baseline of SwitchYear.
func BenchmarkLoadYear(b *testing.B) {
	benchSwitches(b, func(m *MainWindow) {
		m.tabs.SelectIndex(2)
		m.energy.onView(viewYear)
	}, func(m *MainWindow) { m.energy.reload(m.site) })
}

// BenchmarkSwitchSite switches the Overview between the 100-meter site and
// a 4-meter one.
func BenchmarkSwitchSite(b *testing.B) {
	benchSwitches(b, nil, func(m *MainWindow) { m.onSite(benchdata.Small) }, func(m *MainWindow) { m.onSite(benchdata.Big) })
}

// BenchmarkColdStart opens the main window on the big database already
// on disk, as a start does (the store opened, NewMainWindow, the first
// frame drawn by the test driver), and closes both.
func BenchmarkColdStart(b *testing.B) {
	benchBig(b)
	path := bigDB.path
	bigDB.st.(*bolt.Store).Close()
	bigDB.st = nil
	a := test.NewTempApp(b)
	clock := core.FixedClock(time.Date(2026, 7, 5, 9, 0, 0, 0, time.UTC))
	for b.Loop() {
		st, err := bolt.Open(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		w := NewMainWindow(a, st, benchdata.Big, clock, nil)
		w.Resize(fyne.NewSize(1100, 720))
		w.Canvas().Capture()
		w.Close()
		st.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/start")
	st, err := bolt.Open(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	bigDB.st = st
}
