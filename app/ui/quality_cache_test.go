package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core/vee"
	"github.com/zevdesk/zevdesk/ingest/importer"
)

// TestQualityRevisitReadsOnce: stepping back to a month shown before draws
// it without reading the store again.
func TestQualityRevisitReadsOnce(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	cs := &viewCounter{Store: st}
	q := NewQuality(cs, clock)
	w := test.NewTempWindow(t, q.Content())
	w.Resize(fyne.NewSize(800, 600))
	q.setSite(loadSite(t, st, "birkenweg"))
	q.onMonth(-1)
	reads := cs.n.Load()
	q.onMonth(1)
	q.onMonth(-1)
	if n := cs.n.Load() - reads; n != 0 {
		t.Errorf("revisiting two months shown before read the store %d times, want none", n)
	}
	if q.month.Text != "May 2026" || !strings.HasPrefix(q.summary.Text, "2'976 intervals") {
		t.Errorf("revisited May shows %q %q", q.month.Text, q.summary.Text)
	}
}

// TestQualityCacheInvalidatedByImport: an import committed while Data
// quality is open (a readings file with an implausible value in May) shows
// its flag in May, a month the screen read before the import.
func TestQualityCacheInvalidatedByImport(t *testing.T) {
	a := test.NewTempApp(t)
	m, st := newTestMainWindow(t, a)
	m.tabs.SelectIndex(3) // Data quality, June 2026
	m.quality.onMonth(-1)
	m.quality.onMonth(1)
	if m.quality.month.Text != "June 2026 (up to 10.06.2026)" {
		t.Fatalf("month %q", m.quality.month.Text)
	}
	refreshed := make(chan struct{}, 8)
	m.throttle = 0
	m.changed = func() { refreshed <- struct{}{} }
	m.subscribe()

	// 30 kWh in a quarter of an hour: 120 kW, beyond a unit's maximum.
	src := "meter,start,kwh_in,kwh_out\nM-W01,2026-05-20T08:00:00Z,30,\n"
	rd, err := importer.ParseReadingsCSV("may.csv", strings.NewReader(src), m.site)
	if err != nil {
		t.Fatal(err)
	}
	site := m.site
	go func() {
		if _, err := importer.ImportReadings(st, site, rd, vee.Options{Clock: m.clock, Actor: "test"}); err != nil {
			t.Error(err)
		}
	}()
	<-refreshed
	m.quality.onMonth(-1)
	if m.quality.month.Text != "May 2026" {
		t.Fatalf("month %q", m.quality.month.Text)
	}
	if len(m.quality.groups) != 1 || m.quality.groups[0].Kind != vee.KindMaxPower ||
		!strings.HasPrefix(m.quality.flagTxt[0], "20.05.2026 10:00 – 10:15  M-W01") {
		t.Errorf("May after the import lists %q, want the imported value's flag", m.quality.flagTxt)
	}
	if got := cellText(m.quality.updateCell, 2, 5); got != "1" {
		t.Errorf("May: M-W01 flagged %q, want 1", got)
	}
}
