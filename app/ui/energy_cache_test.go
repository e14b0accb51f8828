package ui

import (
	"sync/atomic"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// viewCounter is the real store, counting read transactions.
type viewCounter struct {
	store.Store
	n atomic.Int64
}

func (c *viewCounter) View(fn func(store.Tx) error) error {
	c.n.Add(1)
	return c.Store.View(fn)
}

// TestEnergyRevisitReadsOnce: stepping back to a range shown before, or to
// a view shown before, draws it without reading the store again, and a
// data change (reload) reads the new data.
func TestEnergyRevisitReadsOnce(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	cs := &viewCounter{Store: st}
	e := NewEnergy(cs, clock)
	test.NewTempWindow(t, e.Content())
	site := loadSite(t, st, "birkenweg")
	e.setSite(site)
	e.onStep(-1)
	e.onView(viewMonth)
	reads := cs.n.Load()
	e.onView(viewDay)
	e.onStep(1)
	if n := cs.n.Load() - reads; n != 0 {
		t.Errorf("revisiting two days shown before read the store %d times, want none", n)
	}
	if e.rng.Text != "Wednesday, 10.06.2026" || e.figures["Production"].Text != "40.0 kWh" {
		t.Errorf("revisited 10 June shows %q with production %q", e.rng.Text, e.figures["Production"].Text)
	}

	// A correction of 10 June: 10 kWh more production at 07:00.
	from, _ := core.Period{From: core.MustDate(2026, 6, 10), To: core.MustDate(2026, 6, 10)}.Slots(site.Location())
	err := st.Update(func(tx store.Tx) error {
		_, err := tx.PutIntervals(store.SeriesID{Site: site.ID, Meter: "PV", Channel: store.Export},
			[]store.Value{{Slot: from + 28, Energy: 11 * core.KWh, Quality: store.Measured}}, store.Replace)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.reload(site)
	if got := e.figures["Production"].Text; got != "50.0 kWh" {
		t.Errorf("after a data change 10 June shows production %q, want 50.0 kWh", got)
	}
}
