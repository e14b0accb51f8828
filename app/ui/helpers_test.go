package ui

import (
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// openStore opens a real bbolt file under t.TempDir().
func openStore(t *testing.T) store.Store { return openStoreB(t) }

func openStoreB(t testing.TB) store.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "office.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Check(); err != nil {
			t.Errorf("store check: %v", err)
		}
		st.Close()
	})
	return st
}

// putDay writes one local day of the hand-computable profile of testStore:
// PV 1 kWh in the 40 slots from 07:00 (40 kWh), W01 0.5 kWh and W02
// 0.25 kWh in every slot (48 and 24 kWh), the grid meter importing 0.75 kWh
// outside the PV slots and exporting 0.25 kWh inside them. A day of 96
// slots self-consumes 40 × 0.75 = 30 kWh.
func putDay(t *testing.T, tx store.Tx, site *core.Site, day core.Date) { putDayTB(t, tx, site, day) }

func putDayTB(t testing.TB, tx store.Tx, site *core.Site, day core.Date) {
	t.Helper()
	from, to := core.Period{From: day, To: day}.Slots(site.Location())
	put := func(meter string, ch store.Channel, f func(i int) core.Energy) {
		var vals []store.Value
		for s := from; s < to; s++ {
			vals = append(vals, store.Value{Slot: s, Energy: f(int(s - from)), Quality: store.Measured})
		}
		if _, err := tx.PutIntervals(store.SeriesID{Site: site.ID, Meter: meter, Channel: ch}, vals, store.KeepFirst); err != nil {
			t.Fatal(err)
		}
	}
	sun := func(i int) bool { return i >= 28 && i < 68 }
	put("PV", store.Export, func(i int) core.Energy {
		if sun(i) {
			return core.KWh
		}
		return 0
	})
	put("M-W01", store.Import, func(int) core.Energy { return core.KWh / 2 })
	put("M-W02", store.Import, func(int) core.Energy { return core.KWh / 4 })
	put("GRID", store.Import, func(i int) core.Energy {
		if sun(i) {
			return 0
		}
		return 3 * core.KWh / 4
	})
	put("GRID", store.Export, func(i int) core.Energy {
		if sun(i) {
			return core.KWh / 4
		}
		return 0
	})
}

// billingStore is a site billed monthly with a complete June 2026: Anna
// Muster in W01 all month, Ben Beispiel in W02 from 16 June (W02 vacant
// before), solar CHF 0.20 and grid CHF 0.30 per kWh, no fees, no VAT.
func billingStore(t *testing.T) (store.Store, *core.Site, core.Clock) {
	t.Helper()
	st := openStore(t)
	site := &core.Site{
		ID: "birkenweg", Name: "ZEV Birkenweg 12", Timezone: "Europe/Zurich", Allocation: core.AllocProportional,
		Address:  core.Address{Street: "Birkenweg", Number: "12", Postcode: "3012", Town: "Bern", Country: "CH"},
		Operator: core.Operator{Name: "Immo Muster AG", Address: core.Address{Street: "Marktgasse", Number: "5", Postcode: "3011", Town: "Bern", Country: "CH"}, IBAN: "CH44 3199 9123 0008 8901 2"},
		Units:    []core.Unit{{ID: "W01", Name: "2.5 Zimmer EG links"}, {ID: "W02", Name: "3.5 Zimmer OG"}},
		Meters: []core.Meter{
			{ID: "PV", Role: core.RoleProduction}, {ID: "GRID", Role: core.RoleGrid},
			{ID: "M-W01", Role: core.RoleUnit, Unit: "W01"}, {ID: "M-W02", Role: core.RoleUnit, Unit: "W02"},
		},
		Occupancies: []core.Occupancy{
			{Unit: "W01", Name: "Anna Muster", From: core.MustDate(2026, 1, 1), Language: "en"},
			{Unit: "W02", Name: "Ben Beispiel", From: core.MustDate(2026, 6, 16), Language: "en"},
		},
		Tariffs:  []core.Tariff{{From: core.MustDate(2026, 1, 1), Solar: 200_000, Grid: 300_000}},
		Settings: core.Settings{Period: "month"},
	}
	if err := site.Validate(); err != nil {
		t.Fatal(err)
	}
	err := st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(site); err != nil {
			return err
		}
		for d := core.MustDate(2026, 6, 1); d.Month == time.June; d = d.AddDays(1) {
			putDay(t, tx, site, d)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return st, site, core.FixedClock(time.Date(2026, 7, 5, 10, 0, 0, 0, time.UTC))
}

// cellText returns what a table built by the screen shows in a cell.
func cellText(update func(widget.TableCellID, fyne.CanvasObject), row, col int) string {
	l := widget.NewLabel("")
	update(widget.TableCellID{Row: row, Col: col}, l)
	return l.Text
}

// findButton returns the visible button with the given text in o's tree
// (walking the renderers the canvas uses).
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	if b, ok := o.(*widget.Button); ok && b.Text == text && b.Visible() {
		return b
	}
	var children []fyne.CanvasObject
	switch c := o.(type) {
	case fyne.Widget:
		children = test.WidgetRenderer(c).Objects()
	case *fyne.Container:
		children = c.Objects
	}
	for _, ch := range children {
		if b := findButton(ch, text); b != nil {
			return b
		}
	}
	return nil
}

// waitDone returns a hook that signals ch and a function waiting for it
// with a deadline (the work runs on a goroutine of the screen).
func waitDone(t *testing.T) (func(), func()) {
	ch := make(chan struct{}, 8)
	return func() { ch <- struct{}{} }, func() {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(20 * time.Second):
			t.Fatal("background job did not finish within 20 s")
		}
	}
}

func widgetCell(row, col int) widget.TableCellID { return widget.TableCellID{Row: row, Col: col} }

// lockJune locks June 2026 of site in st, as finalizing its billing does,
// and returns the period.
func lockJune(t *testing.T, st store.Store, site *core.Site, clock core.Clock) core.Period {
	t.Helper()
	june := core.Period{From: core.MustDate(2026, 6, 1), To: core.MustDate(2026, 6, 30)}
	if err := st.Update(func(tx store.Tx) error {
		return tx.LockPeriod(store.Lock{Site: site.ID, Period: june, Time: clock.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	return june
}
