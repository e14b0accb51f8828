// Package totals sums a site's metered energy over a period: per meter and
// channel, and for the building (production, consumption, self-consumption,
// grid supply, feed-in). It is the overview the app and the demo show; the
// allocation to tenants is core/billing's.
package totals

import (
	"fmt"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// Meter is one meter's energy over the period.
type Meter struct {
	ID     string
	Role   core.Role
	Import core.Energy
	Export core.Energy
	// Missing counts slots without a value on the meter's main channel
	// (export for production meters, import for the others).
	Missing int
}

// Totals is a site's energy over a period.
type Totals struct {
	Period core.Period
	Slots  int
	Meters []Meter
	// Production is what the PV meters produced (their export channel).
	Production core.Energy
	// Consumption is what the consumer meters (units, common, heat pump, EV) used.
	Consumption core.Energy
	// SelfConsumed is Σ over slots of min(production, consumption).
	SelfConsumed core.Energy
	// GridImport and FeedIn are the utility meter's import and export.
	GridImport core.Energy
	FeedIn     core.Energy
}

// SelfSufficiency returns the share of consumption covered by own solar
// energy, in percent (0 when nothing was consumed).
func (t Totals) SelfSufficiency() float64 {
	if t.Consumption == 0 {
		return 0
	}
	return 100 * float64(t.SelfConsumed) / float64(t.Consumption)
}

// Missing returns the number of meter intervals without a value.
func (t Totals) Missing() int {
	n := 0
	for _, m := range t.Meters {
		n += m.Missing
	}
	return n
}

// Of computes the totals of site over p, reading every meter once.
func Of(tx store.Tx, site *core.Site, p core.Period) (Totals, error) {
	from, to := p.Slots(site.Location())
	n := int(to - from)
	t := Totals{Period: p, Slots: n}
	prod := make([]core.Energy, n)
	cons := make([]core.Energy, n)
	var s store.Series
	for _, m := range site.Meters {
		mt := Meter{ID: m.ID, Role: m.Role}
		main := store.Import
		if m.Role == core.RoleProduction {
			main = store.Export
		}
		for _, ch := range []store.Channel{store.Import, store.Export} {
			if err := tx.ReadIntervals(store.SeriesID{Site: site.ID, Meter: m.ID, Channel: ch}, from, to, &s); err != nil {
				return t, fmt.Errorf("reading %s %s: %w", m.ID, ch, err)
			}
			// A meter counts in its days in service only, as in billing
			// and Data quality (vee.Quality), so that the Overview agrees.
			if m.Limited() {
				s.KeepService(m.Service(site.Location()))
			}
			for i, e := range s.Energy {
				if ch == main && s.Quality[i] == store.Missing {
					mt.Missing++
				}
				if ch == store.Import {
					mt.Import += e
					if m.Role.Consumer() {
						cons[i] += e
					}
				} else {
					mt.Export += e
					if m.Role == core.RoleProduction {
						prod[i] += e
					}
				}
			}
		}
		switch m.Role {
		case core.RoleProduction:
			t.Production += mt.Export
		case core.RoleGrid:
			t.GridImport += mt.Import
			t.FeedIn += mt.Export
		default:
			if m.Role.Consumer() {
				t.Consumption += mt.Import
			}
		}
		t.Meters = append(t.Meters, mt)
	}
	for i := range prod {
		t.SelfConsumed += min(prod[i], cons[i])
	}
	return t, nil
}
