package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

func TestQualityMonth(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	site := loadSite(t, st, "birkenweg")
	loc := site.Location()
	// Before the measured 10 June: W02 estimated for the first hour of 9
	// June, and one flag on W01 at 07:30 on 10 June. The clock says 11 June,
	// 09:00: the current month is shown up to its last complete day.
	err := st.Update(func(tx store.Tx) error {
		first := core.MustDate(2026, 6, 9).FirstSlot(loc)
		var vals []store.Value
		for s := first; s < first+4; s++ {
			vals = append(vals, store.Value{Slot: s, Energy: core.KWh / 4, Quality: store.Estimated})
		}
		if _, err := tx.PutIntervals(store.SeriesID{Site: site.ID, Meter: "M-W02", Channel: store.Import}, vals, store.KeepFirst); err != nil {
			return err
		}
		return tx.PutFlags([]store.Flag{{Site: site.ID, Meter: "M-W01", Slot: core.MustDate(2026, 6, 10).FirstSlot(loc) + 30,
			Kind: "max-power", Reason: "30.0 kWh in 15 minutes"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQuality(st, clock)
	w := test.NewTempWindow(t, q.Content())
	w.Resize(fyne.NewSize(800, 600))
	q.setSite(site)

	if q.month.Text != "June 2026 (up to 10.06.2026)" {
		t.Errorf("month %q", q.month.Text)
	}
	// 1 to 10 June have 10 × 96 = 960 intervals. Missing energy, per meter
	// the average of its known slots times its missing ones: PV 40 × 864/96
	// = 360, W01 48 × 864/96 = 432, W02 25 × 860/100 = 215 kWh.
	if want := "960 intervals per meter; 1.0 kWh estimated, about 1'007.0 kWh missing."; q.summary.Text != want {
		t.Errorf("summary %q, want %q", q.summary.Text, want)
	}
	rows, _ := q.tableSize()
	if rows != 4 {
		t.Fatalf("%d meter rows", rows)
	}
	want := [][]string{
		{"PV", "production", "96", "0", "864", "0"},
		{"GRID", "grid", "96", "0", "864", "0"},
		{"M-W01", "unit", "96", "0", "864", "1"},
		{"M-W02", "unit", "96", "4", "860", "0"},
	}
	for r, row := range want {
		for c, v := range row {
			if got := cellText(q.updateCell, r, c); got != v {
				t.Errorf("row %d %s: %q, want %q", r, qualityColumns()[c], got, v)
			}
		}
	}
	// Only 10 June is complete: sub-meters 72 − 40 = 32 kWh, grid 42 − 10 =
	// 32 kWh: no difference.
	if want := "Sub-meter balance: +0.00 % of consumption over 96 complete intervals (tolerance 2 %)"; q.balance.Text != want {
		t.Errorf("balance %q, want %q", q.balance.Text, want)
	}
	if len(q.flagTxt) != 1 || q.flagTxt[0] != "10.06.2026 07:30 – 07:45  M-W01  above the meter's maximum power (15 min): 30.0 kWh in 15 minutes" {
		t.Errorf("flags %q", q.flagTxt)
	}
	if !q.next.Disabled() || q.prev.Disabled() {
		t.Errorf("on the current month: next disabled %v, previous disabled %v", q.next.Disabled(), q.prev.Disabled())
	}

	test.Tap(q.prev)
	if q.month.Text != "May 2026" || !strings.HasPrefix(q.summary.Text, "2'976 intervals") {
		t.Errorf("May: %q %q", q.month.Text, q.summary.Text)
	}
	if q.balance.Text != "Sub-meter balance: not available (no grid meter, or no complete interval)." || q.flagTxt[0] != "No flags in this month." {
		t.Errorf("May: balance %q flags %q", q.balance.Text, q.flagTxt)
	}
	if got := cellText(q.updateCell, 0, 4); got != "2'976" {
		t.Errorf("May PV missing %q", got)
	}
	if q.next.Disabled() {
		t.Error("Next disabled on a past month")
	}
}
