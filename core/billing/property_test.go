package billing

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// randomSite generates a community of a random shape: 1-8 units with
// random areas, tenants with gaps, common and heat-pump meters under random
// keys, EV chargers, 1-3 tariff versions with or without HT/NT, units
// entering service or retired before or during the period.
func randomSite(rng *rand.Rand) *core.Site {
	s := &core.Site{ID: "prop", Name: "Prop", Timezone: "Europe/Zurich", Operator: core.Operator{Name: "Op"},
		Allocation: core.Allocations[rng.Intn(len(core.Allocations))]}
	s.Settings.Redistribute = rng.Intn(4) == 0
	s.Settings.RoundTo5 = rng.Intn(2) == 0
	if rng.Intn(2) == 0 {
		s.VATNumber = "CHE-123.456.789 MWST"
	}
	s.Meters = append(s.Meters, core.Meter{ID: "GRID", Role: core.RoleGrid})
	for i := range rng.Intn(3) {
		s.Meters = append(s.Meters, core.Meter{ID: fmt.Sprintf("PV%d", i), Role: core.RoleProduction})
	}
	nu := 1 + rng.Intn(8)
	for i := range nu {
		id := fmt.Sprintf("W%02d", i)
		s.Units = append(s.Units, core.Unit{ID: id, Area: 1 + rng.Int63n(20000), Quota: 1 + rng.Int63n(1000), Weight: rng.Int63n(5)})
		s.Meters = append(s.Meters, core.Meter{ID: "M-" + id, Role: core.RoleUnit, Unit: id})
		day := core.MustDate(2026, 1, 1).AddDays(rng.Intn(40) - 10)
		for k := 0; k < 3 && day.Before(core.MustDate(2026, 4, 1)); k++ {
			o := core.Occupancy{Unit: id, Name: fmt.Sprintf("T%d-%d", i, k), From: day, AdvanceMonth: core.Rappen(rng.Int63n(10000))}
			if rng.Intn(3) > 0 {
				o.To = day.AddDays(rng.Intn(50))
				day = o.To.AddDays(1 + rng.Intn(3)*rng.Intn(10))
			} else {
				day = core.MustDate(2099, 1, 1)
			}
			s.Occupancies = append(s.Occupancies, o)
		}
	}
	// Some units enter service during the period, some leave it during or
	// before, with their meter and tenancies.
	for i := range s.Units {
		u := &s.Units[i]
		switch rng.Intn(6) {
		case 0:
			u.Since = core.MustDate(2026, 1, 1).AddDays(rng.Intn(120))
		case 1, 2:
			u.Retired = core.MustDate(2026, 1, 1).AddDays(rng.Intn(130) - 10)
		default:
			continue
		}
		m := s.Meter("M-" + u.ID)
		m.Since, m.Retired = u.Since, u.Retired
		occs := s.Occupancies[:0]
		for _, o := range s.Occupancies {
			if o.Unit == u.ID { // clipped to the unit's days in service
				if !u.Since.IsZero() && o.From.Before(u.Since) {
					o.From = u.Since
				}
				if !u.Retired.IsZero() && (o.To.IsZero() || o.To.After(u.Retired)) {
					o.To = u.Retired
				}
				if !o.To.IsZero() && o.To.Before(o.From) {
					continue
				}
			}
			occs = append(occs, o)
		}
		s.Occupancies = occs
	}
	for i := range rng.Intn(3) {
		s.Meters = append(s.Meters, core.Meter{ID: fmt.Sprintf("C%d", i), Role: core.RoleCommon, Key: []core.Key{core.KeyUnits, core.KeyArea, core.KeyQuota, core.KeyCustom, core.KeyOwner}[rng.Intn(5)]})
	}
	if rng.Intn(2) == 0 {
		s.Meters = append(s.Meters, core.Meter{ID: "HP", Role: core.RoleHeatPump, Key: core.KeyArea})
	}
	for i := range rng.Intn(3) {
		s.Meters = append(s.Meters, core.Meter{ID: fmt.Sprintf("EV%d", i), Role: core.RoleEV})
	}
	w, _ := core.ParseWindow("mon-fri 07:00-20:00")
	w2, _ := core.ParseWindow("sat 07:00-13:00")
	from := core.MustDate(2025, 12, 1)
	for i := range 1 + rng.Intn(3) {
		t := core.Tariff{From: from, Solar: core.Price(rng.Int63n(300_000)), BaseFeeMonth: core.Rappen(rng.Int63n(1000)),
			MeteringMonth: core.Rappen(rng.Int63n(500))}
		if rng.Intn(2) == 0 {
			t.Grid = 1 + core.Price(rng.Int63n(400_000))
		} else {
			t.GridHT, t.GridNT, t.HT = 1+core.Price(rng.Int63n(400_000)), 1+core.Price(rng.Int63n(300_000)), []core.Window{w, w2}
		}
		s.Tariffs = append(s.Tariffs, t)
		from = from.AddDays(20 + rng.Intn(60) + i)
	}
	if rng.Intn(2) == 0 {
		s.Holidays = []core.Date{core.MustDate(2026, 1, 1), core.MustDate(2026, 4, 3)}
	}
	return s
}

// randomInput fills every meter over [2026-01-01, 2026-04-30] with random
// data: zeros, bursts, some estimated and missing intervals, EV sessions.
func randomInput(t *testing.T, rng *rand.Rand, s *core.Site) *fixture {
	f := newFixture(t, s, period("2026-01-01", "2026-04-30"))
	for _, m := range s.Meters {
		ch := store.Import
		if m.Role == core.RoleProduction {
			ch = store.Export
		}
		ser := f.series(m.ID, ch)
		scale := int64(1 + rng.Intn(2000_000))
		for i := range ser.Energy {
			switch rng.Intn(10) {
			case 0:
				ser.Energy[i] = 0
			case 1:
				ser.Energy[i] = core.Energy(rng.Int63n(scale * 10))
			default:
				ser.Energy[i] = core.Energy(rng.Int63n(scale))
			}
			if rng.Intn(500) == 0 {
				ser.Quality[i] = store.Estimated
			}
		}
		if m.Role == core.RoleGrid {
			ex := f.series(m.ID, store.Export)
			for i := range ex.Energy {
				ex.Energy[i] = core.Energy(rng.Int63n(scale))
			}
		}
		if m.Limited() { // as Load gives a meter out of service
			first, end := m.Service(f.loc)
			for _, ch := range []store.Channel{store.Import, store.Export} {
				ser := f.series(m.ID, ch) // shares its slices with the input
				ser.KeepService(first, end)
			}
		}
	}
	for _, m := range s.MetersWithRole(core.RoleEV) {
		at := f.from.Time()
		for k := range 40 {
			at = at.Add(time.Duration(rng.Intn(72*4)) * 15 * time.Minute).Add(time.Duration(rng.Intn(900)) * time.Second)
			ss := Session{ID: fmt.Sprint(k), Meter: m.ID, Person: fmt.Sprintf("P%d", rng.Intn(4)),
				Start: at, End: at.Add(time.Duration(1+rng.Intn(40)) * 10 * time.Minute)}
			if rng.Intn(2) == 0 {
				// A tenant's card: on the tenancy's invoice on the days the
				// person lives in the unit, on an EV invoice otherwise.
				o := s.Occupancies[rng.Intn(len(s.Occupancies))]
				ss.Person, ss.Unit = o.Name, o.Unit
			}
			f.in.Sessions = append(f.in.Sessions, ss)
		}
	}
	return f
}

// sub returns an input for part q of f's period, sharing f's data.
func (f *fixture) sub(q core.Period) *Input {
	in := *f.in
	in.Period = q
	return &in
}

// energyByRecipient sums solar and grid per unit (and per EV person, and
// the owner's shared invoice).
func energyByRecipient(r *Run) map[string][2]core.Energy {
	m := map[string][2]core.Energy{}
	for _, inv := range r.Invoices {
		k := "unit:" + inv.Unit
		if inv.Key == "owner" || inv.Key[:3] == "ev:" {
			k = inv.Key
		}
		v := m[k]
		v[0] += inv.KWh.Solar
		v[1] += inv.KWh.Grid
		m[k] = v
	}
	return m
}

func TestPropertiesGeneratedSites(t *testing.T) {
	n := 60
	if testing.Short() {
		n = 15
	}
	for seed := range n {
		rng := rand.New(rand.NewSource(int64(seed)))
		s := randomSite(rng)
		f := randomInput(t, rng, s)
		start := f.in.Period.From.AddDays(rng.Intn(60))
		whole := core.Period{From: start, To: start.AddDays(rng.Intn(60))}
		in := f.sub(whole)
		r, err := Bill(in)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		checkInvariants(t, in, r)

		// Σ solar = Σ min(P, C) per interval (not for the balance model,
		// whose S comes from the grid meter).
		if s.Allocation != core.AllocBalance {
			a, b := whole.Slots(f.loc)
			var want core.Energy
			for sl := a; sl < b; sl++ {
				i := int(sl - f.from)
				var p, c core.Energy
				for _, m := range s.Meters {
					switch {
					case m.Role == core.RoleProduction:
						p += f.series(m.ID, store.Export).Energy[i]
					case m.Role.Consumer():
						c += f.series(m.ID, store.Import).Energy[i]
					}
				}
				want += min(p, c)
			}
			if r.Building.SelfConsumed != want {
				t.Errorf("seed %d: self-consumed %s, Σ min(P, C) = %s", seed, r.Building.SelfConsumed, want)
			}
		}

		// Billing two halves gives the same energy per recipient as billing
		// the whole.
		if whole.Days() >= 2 {
			cut := whole.From.AddDays(rng.Intn(whole.Days() - 1))
			r1, err1 := Bill(f.sub(core.Period{From: whole.From, To: cut}))
			r2, err2 := Bill(f.sub(core.Period{From: cut.AddDays(1), To: whole.To}))
			if err1 != nil || err2 != nil {
				t.Fatalf("seed %d: %v %v", seed, err1, err2)
			}
			got := energyByRecipient(r1)
			for k, v := range energyByRecipient(r2) {
				g := got[k]
				got[k] = [2]core.Energy{g[0] + v[0], g[1] + v[1]}
			}
			want := energyByRecipient(r)
			for k, v := range want {
				if got[k] != v {
					t.Errorf("seed %d, %s split at %s: halves %v, whole %v", seed, k, cut, got[k], v)
				}
			}
			if len(got) != len(want) {
				t.Errorf("seed %d: recipients differ: halves %d, whole %d", seed, len(got), len(want))
			}
		}
	}
}

// The allocation functions themselves: Σ = S exactly, no consumer above
// its use, for random vectors including extremes.
func TestAllocationExact(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var sp splitter
	for it := range 20000 {
		n := 1 + rng.Intn(120)
		c := make([]int64, n)
		var C int64
		for i := range c {
			switch rng.Intn(4) {
			case 0:
			case 1:
				c[i] = rng.Int63n(1 << 40) // large: products overflow 64 bits
			default:
				c[i] = rng.Int63n(1000)
			}
			C += c[i]
		}
		S := int64(0)
		if C > 0 {
			S = rng.Int63n(C + 1)
		}
		out := make([]int64, n)
		for method := range 2 {
			if method == 0 {
				sp.allocProportional(core.Energy(S), c, out)
			} else {
				allocEqual(core.Energy(S), c, out)
			}
			var sum int64
			for i, v := range out {
				if v < 0 || v > c[i] {
					t.Fatalf("it %d method %d: consumer %d gets %d of its %d", it, method, i, v, c[i])
				}
				sum += v
			}
			if sum != S {
				t.Fatalf("it %d method %d: Σ = %d, S = %d", it, method, sum, S)
			}
		}
	}
	// Largest remainder, ties to the lower index: 10 over 1:1:1 gives 4,3,3.
	out := make([]int64, 3)
	sp.split(10, []int64{1, 1, 1}, out)
	if out[0] != 4 || out[1] != 3 || out[2] != 3 {
		t.Errorf("10 over 1:1:1 = %v, want [4 3 3]", out)
	}
	sp.split(10, []int64{1, 2, 4}, out) // 1.43, 2.86, 5.71 → 1, 3, 6
	if out[0] != 1 || out[1] != 3 || out[2] != 6 {
		t.Errorf("10 over 1:2:4 = %v, want [1 3 6]", out)
	}
}
