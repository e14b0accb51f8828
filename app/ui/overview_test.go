package ui

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// A site with PV, a grid meter and two flats, and one day of data whose
// totals are known by hand.
func testStore(t *testing.T) (store.Store, core.Clock) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "office.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
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
		t.Fatal(err)
	}
	day := core.MustDate(2026, 6, 10)
	from, to := core.Period{From: day, To: day}.Slots(site.Location())
	put := func(tx store.Tx, meter string, ch store.Channel, f func(i int) core.Energy) {
		var vals []store.Value
		for s := from; s < to; s++ {
			vals = append(vals, store.Value{Slot: s, Energy: f(int(s - from)), Quality: store.Measured})
		}
		if _, err := tx.PutIntervals(store.SeriesID{Site: site.ID, Meter: meter, Channel: ch}, vals, store.KeepFirst); err != nil {
			t.Fatal(err)
		}
	}
	err = st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(site); err != nil {
			return err
		}
		// PV: 1 kWh in each of 40 midday slots (40 kWh). W01: 0.5 kWh every slot (48 kWh).
		// W02: 0.25 kWh every slot (24 kWh). Self-consumed: 40 slots × min(1, 0.75) = 30 kWh.
		put(tx, "PV", store.Export, func(i int) core.Energy {
			if i >= 28 && i < 68 {
				return core.KWh
			}
			return 0
		})
		put(tx, "M-W01", store.Import, func(int) core.Energy { return core.KWh / 2 })
		put(tx, "M-W02", store.Import, func(int) core.Energy { return core.KWh / 4 })
		put(tx, "GRID", store.Import, func(i int) core.Energy {
			if i >= 28 && i < 68 {
				return 0
			}
			return 3 * core.KWh / 4
		})
		put(tx, "GRID", store.Export, func(i int) core.Energy {
			if i >= 28 && i < 68 {
				return core.KWh / 4
			}
			return 0
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return st, core.FixedClock(time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC))
}

func TestOverviewShowsLastDay(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	o := NewOverview(st, clock)
	w := test.NewTempWindow(t, o.Content())
	w.Resize(w.Canvas().Size().Max(o.Content().MinSize()))
	if err := o.ShowSite(""); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"Production":   "40.0 kWh",
		"Consumption":  "72.0 kWh",
		"SelfConsumed": "30.0 kWh",
		"GridSupply":   "42.0 kWh",
		"FedIn":        "10.0 kWh",
		"Sufficiency":  "41.7 %",
	} {
		if got := o.figures[name].Text; got != want {
			t.Errorf("%s shows %q, want %q", name, got, want)
		}
	}
	if got := o.title.Text; got != "ZEV Birkenweg 12" {
		t.Errorf("title %q", got)
	}
	if !strings.Contains(o.day.Text, "10.06.2026") || !strings.Contains(o.day.Text, "96 intervals") {
		t.Errorf("day label %q", o.day.Text)
	}
	rows, cols := o.tableSize()
	if rows != 4 || cols != len(overviewColumns()) {
		t.Fatalf("table is %d × %d", rows, cols)
	}
	cell := widget.NewLabel("")
	o.updateCell(widget.TableCellID{Row: 0, Col: 0}, cell)
	if cell.Text != "PV" { // production first
		t.Errorf("first row is %q, want the PV meter", cell.Text)
	}
	o.updateCell(widget.TableCellID{Row: 0, Col: 3}, cell)
	if cell.Text != "40.0" {
		t.Errorf("PV export cell %q", cell.Text)
	}
}

func TestOverviewWithoutSites(t *testing.T) {
	test.NewTempApp(t)
	st, err := bolt.Open(filepath.Join(t.TempDir(), "empty.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	o := NewOverview(st, core.SystemClock{})
	if err := o.ShowSite(""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(o.status.Text, "zevdesk demo") {
		t.Errorf("an empty database does not tell how to start: %q", o.status.Text)
	}
}

func TestKWhFormat(t *testing.T) {
	for e, want := range map[core.Energy]string{
		1234567 * core.Wh: "1'234.6",
		-50 * core.Wh:     "-0.1",
		0:                 "0.0",
		999_950 * core.Wh: "1'000.0",
	} {
		if got := kwh(e); got != want {
			t.Errorf("kwh(%d) = %q, want %q", e, got, want)
		}
	}
}
