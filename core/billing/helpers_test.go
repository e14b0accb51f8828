package billing

import (
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// fixture builds an Input whose every meter channel is measured zero over
// the period; tests then set the slots they care about.
type fixture struct {
	t    *testing.T
	in   *Input
	from core.Slot
	n    int
	loc  *time.Location
}

func kwhE(s string) core.Energy {
	e, err := core.ParseKWh(s)
	if err != nil {
		panic(err)
	}
	return e
}

func price(s string) core.Price {
	p, err := core.ParsePrice(s)
	if err != nil {
		panic(err)
	}
	return p
}

func chf(s string) core.Rappen {
	r, err := core.ParseCHF(s)
	if err != nil {
		panic(err)
	}
	return r
}

func date(s string) core.Date {
	d, err := core.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func period(from, to string) core.Period { return core.Period{From: date(from), To: date(to)} }

// baseSite is a small community: two units with areas 60 and 40 m², a PV
// plant, the grid meter, a unit meter each. A single-rate tariff at 0.20
// solar, 0.30 grid, no fees, not VAT-registered.
func baseSite() *core.Site {
	s := &core.Site{
		ID: "test", Name: "ZEV Test", Timezone: "Europe/Zurich",
		Operator: core.Operator{Name: "Immo Muster AG"},
		Units:    []core.Unit{{ID: "W01", Area: 6000}, {ID: "W02", Area: 4000}},
		Meters: []core.Meter{
			{ID: "PV", Role: core.RoleProduction},
			{ID: "GRID", Role: core.RoleGrid},
			{ID: "M-W01", Role: core.RoleUnit, Unit: "W01"},
			{ID: "M-W02", Role: core.RoleUnit, Unit: "W02"},
		},
		Occupancies: []core.Occupancy{
			{Unit: "W01", Name: "Anna Muster", From: date("2020-01-01")},
			{Unit: "W02", Name: "Beat Beispiel", From: date("2020-01-01")},
		},
		Tariffs: []core.Tariff{{From: date("2020-01-01"), Solar: price("0.20"), Grid: price("0.30")}},
	}
	if err := s.Validate(); err != nil {
		panic(err)
	}
	return s
}

func newFixture(t *testing.T, s *core.Site, p core.Period) *fixture {
	t.Helper()
	if err := s.Validate(); err != nil {
		t.Fatalf("site: %v", err)
	}
	loc := s.Location()
	from, to := p.Slots(loc)
	n := int(to - from)
	f := &fixture{t: t, from: from, n: n, loc: loc,
		in: &Input{Site: s, Period: p, Data: map[string]MeterData{}, Readings: map[string]Readings{}}}
	mk := func() store.Series {
		q := make([]store.Quality, n)
		for i := range q {
			q[i] = store.Measured
		}
		return store.Series{From: from, Energy: make([]core.Energy, n), Quality: q}
	}
	for _, m := range s.Meters {
		f.in.Data[m.ID] = MeterData{Import: mk(), Export: mk()}
	}
	return f
}

func (f *fixture) series(meter string, ch store.Channel) store.Series {
	md := f.in.Data[meter]
	if ch == store.Export {
		return md.Export
	}
	return md.Import
}

// fill sets every slot of a channel to e.
func (f *fixture) fill(meter string, ch store.Channel, e core.Energy) {
	s := f.series(meter, ch)
	for i := range s.Energy {
		s.Energy[i] = e
	}
}

// set sets slot i (from the period's start) to e with quality q.
func (f *fixture) set(meter string, ch store.Channel, i int, e core.Energy, q store.Quality) {
	s := f.series(meter, ch)
	s.Energy[i], s.Quality[i] = e, q
}

// at returns the slot index of a local wall-clock time.
func (f *fixture) at(day string, hh, mm int) int {
	d := date(day)
	t := time.Date(d.Year, d.Month, d.Day, hh, mm, 0, 0, f.loc)
	return int(core.SlotOf(t) - f.from)
}

func (f *fixture) bill() *Run {
	f.t.Helper()
	r, err := Bill(f.in)
	if err != nil {
		f.t.Fatalf("Bill: %v", err)
	}
	checkInvariants(f.t, f.in, r)
	return r
}

func invoiceOf(t *testing.T, r *Run, key string) Invoice {
	t.Helper()
	for _, inv := range r.Invoices {
		if inv.Key == key {
			return inv
		}
	}
	var keys []string
	for _, inv := range r.Invoices {
		keys = append(keys, inv.Key)
	}
	t.Fatalf("no invoice %q; have %q", key, keys)
	return Invoice{}
}

func line(t *testing.T, inv Invoice, kind LineKind, nth int) Line {
	t.Helper()
	for _, l := range inv.Lines {
		if l.Kind == kind {
			if nth == 0 {
				return l
			}
			nth--
		}
	}
	t.Fatalf("invoice %s has no line %s #%d: %+v", inv.Key, kind, nth, inv.Lines)
	return Line{}
}

// checkInvariants asserts what every run must satisfy: the building's
// balance, Σ invoices = building, Σ lines = totals.
func checkInvariants(t *testing.T, in *Input, r *Run) {
	t.Helper()
	b := r.Building
	if b.FedIn != b.Production-b.SelfConsumed || b.SelfConsumed > b.Production || b.SelfConsumed > b.Consumption {
		t.Errorf("building balance broken: %+v", b)
	}
	var sol, grid, tot, est core.Energy
	for _, inv := range r.Invoices {
		k := inv.KWh
		est += inv.EstimatedKWh
		if k.Grid != k.GridHT+k.GridNT || k.Total != k.Solar+k.Grid {
			t.Errorf("invoice %s: kWh do not add up: %+v", inv.Key, k)
		}
		sol += k.Solar
		grid += k.Grid
		tot += k.Total
		var net, vat, rounding core.Rappen
		for _, l := range inv.Lines {
			switch {
			case l.Kind.Charge():
				net += l.Amount
			case l.Kind == KindVAT:
				vat += l.Amount
			case l.Kind == KindRounding:
				rounding += l.Amount
			}
		}
		if net != inv.Net || vat != inv.VAT || rounding != inv.Rounding || inv.Total != net+vat+rounding ||
			inv.Balance != inv.Total-inv.Advance {
			t.Errorf("invoice %s: lines do not add up: net %s/%s vat %s/%s rounding %s/%s total %s balance %s",
				inv.Key, net, inv.Net, vat, inv.VAT, rounding, inv.Rounding, inv.Total, inv.Balance)
		}
		if in.Site.Settings.RoundTo5 && inv.Total%5 != 0 {
			t.Errorf("invoice %s: total %s not rounded to 5 Rappen", inv.Key, inv.Total)
		}
	}
	if sol != b.SelfConsumed {
		t.Errorf("Σ invoice solar %s != self-consumed %s", sol, b.SelfConsumed)
	}
	if grid != b.Grid {
		t.Errorf("Σ invoice grid %s != building grid %s", grid, b.Grid)
	}
	if est != b.Estimated {
		t.Errorf("Σ invoice estimated %s != building estimated %s", est, b.Estimated)
	}
	if tot != b.Consumption+b.Redistributed {
		t.Errorf("Σ invoice energy %s != consumption %s + redistributed %s", tot, b.Consumption, b.Redistributed)
	}
}
