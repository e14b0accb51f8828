package sim

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
)

var zurich = mustLoad("Europe/Zurich")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// demoConfig is the building the demo site uses.
func demoConfig(seed int64) Config {
	return Config{Seed: seed, Units: 12, PVkWp: 30, HeatPump: true, EVChargers: 1, Location: zurich,
		Epoch: time.Date(2025, 1, 1, 0, 0, 0, 0, zurich)}
}

func meterIndex(t *testing.T, b *Building, id string) int {
	t.Helper()
	i := slices.IndexFunc(b.Meters(), func(m MeterInfo) bool { return m.ID == id })
	if i < 0 {
		t.Fatalf("no meter %q", id)
	}
	return i
}

// yearTotals returns each meter's import and export in kWh between two instants.
func energyBetween(b *Building, from, to time.Time) (imp, exp []float64) {
	r0, r1 := b.Registers(from), b.Registers(to)
	for i := range r0 {
		imp = append(imp, (r1[i].Import - r0[i].Import).KWh())
		exp = append(exp, (r1[i].Export - r0[i].Export).KWh())
	}
	return imp, exp
}

func TestRegistersMonotonic(t *testing.T) {
	b := New(demoConfig(7))
	rng := rand.New(rand.NewPCG(1, 2))
	// Across the spring DST change and a winter and summer week, at
	// irregular instants inside slots.
	for _, start := range []time.Time{
		time.Date(2025, 3, 27, 0, 0, 0, 0, zurich),
		time.Date(2025, 1, 10, 0, 0, 0, 0, zurich),
		time.Date(2025, 7, 1, 0, 0, 0, 0, zurich),
		time.Date(2024, 12, 20, 0, 0, 0, 0, zurich), // before the epoch
	} {
		prev := b.Registers(start)
		at := start
		for range 4000 {
			at = at.Add(time.Duration(rng.Int64N(int64(7 * time.Minute))))
			cur := b.Registers(at)
			for i := range cur {
				if cur[i].Import < prev[i].Import || cur[i].Export < prev[i].Export {
					t.Fatalf("%s at %s: registers went backwards: %+v -> %+v", cur[i].Meter, at, prev[i], cur[i])
				}
				if cur[i].Import%core.Wh != 0 || cur[i].Export%core.Wh != 0 {
					t.Fatalf("%s at %s: registers %v/%v are not whole Wh", cur[i].Meter, at, cur[i].Import, cur[i].Export)
				}
			}
			prev = cur
		}
	}
}

func TestEnergyConservationEverySlot(t *testing.T) {
	b := New(demoConfig(3))
	ms := b.Meters()
	grid, pv := meterIndex(t, b, "GRID"), meterIndex(t, b, "PV")
	from := core.SlotOf(time.Date(2025, 1, 1, 0, 0, 0, 0, zurich))
	prev := b.Registers(from.Time())
	var both int
	for s := from; s < from+365*96; s++ {
		cur := b.Registers(s.End())
		var consumers core.Energy
		for i, m := range ms {
			if m.Role.Consumer() {
				consumers += cur[i].Import - prev[i].Import
			}
		}
		production := cur[pv].Export - prev[pv].Export
		gi := cur[grid].Import - prev[grid].Import
		ge := cur[grid].Export - prev[grid].Export
		if gi-ge != consumers-production {
			t.Fatalf("slot %s: grid import %v - export %v != consumers %v - PV %v", s, gi, ge, consumers, production)
		}
		if gi > 0 && ge > 0 {
			both++
		}
		// No meter exceeds its own plausibility limit (VEE would flag it).
		for i, m := range ms {
			limit := core.Energy(m.MaxPowerW) * core.Wh / 4
			if e := max(cur[i].Import-prev[i].Import, cur[i].Export-prev[i].Export); e > limit {
				t.Fatalf("slot %s: %s metered %v, above its maximum of %d W", s, m.ID, e, m.MaxPowerW)
			}
		}
		prev = cur
	}
	if both != 0 {
		t.Errorf("%d slots import and export at the grid meter at once; the balance is per slot", both)
	}
}

func TestRegistersRandomAccessMatchesWalk(t *testing.T) {
	walked := New(demoConfig(11))
	from := core.SlotOf(time.Date(2025, 10, 20, 0, 0, 0, 0, zurich)) // over the autumn DST change
	want := map[core.Slot][]Reading{}
	for s := from; s < from+14*96; s++ {
		want[s] = walked.Registers(s.Time())
		imp, exp := walked.SlotEnergy(s)
		next := walked.Registers(s.End())
		for i := range next {
			if next[i].Import-want[s][i].Import != imp[i] || next[i].Export-want[s][i].Export != exp[i] {
				t.Fatalf("slot %s meter %s: register difference %v/%v, slot energy %v/%v", s, next[i].Meter,
					next[i].Import-want[s][i].Import, next[i].Export-want[s][i].Export, imp[i], exp[i])
			}
		}
	}
	// A fresh building (same seed) asked in random order, far apart, gives
	// the same readings: nothing depends on the order of questions.
	fresh := New(demoConfig(11))
	rng := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		s := from + core.Slot(rng.IntN(14*96))
		if rng.IntN(4) == 0 {
			fresh.Registers(time.Date(2024, 11, 1, 0, 0, 0, 0, zurich)) // flush the cache, before the epoch
		}
		if got := fresh.Registers(s.Time()); !slices.Equal(got, want[s]) {
			t.Fatalf("slot %s: random access %v, walk %v", s, got, want[s])
		}
	}
}

func TestDeterministicBySeed(t *testing.T) {
	at := []time.Time{
		time.Date(2025, 1, 20, 12, 7, 13, 0, zurich),
		time.Date(2025, 2, 14, 18, 45, 0, 0, zurich),
		time.Date(2025, 3, 5, 7, 30, 0, 0, zurich),
	}
	a, b, c := New(demoConfig(42)), New(demoConfig(42)), New(demoConfig(43))
	differ := false
	for _, t0 := range at {
		ra, rb, rc := a.Registers(t0), b.Registers(t0), c.Registers(t0)
		if !slices.Equal(ra, rb) {
			t.Fatalf("same seed, different registers at %s:\n%v\n%v", t0, ra, rb)
		}
		if !slices.Equal(a.Power(t0), b.Power(t0)) {
			t.Fatalf("same seed, different power at %s", t0)
		}
		differ = differ || !slices.Equal(ra, rc)
	}
	if !differ {
		t.Error("seeds 42 and 43 give identical registers")
	}
	from, to := at[0], at[2]
	if !slices.Equal(a.Sessions(from, to), b.Sessions(from, to)) {
		t.Error("same seed, different charging sessions")
	}
}

func TestPVNightZeroAndBelowPeak(t *testing.T) {
	b := New(demoConfig(5))
	pv := meterIndex(t, b, "PV")
	limit := core.Energy(30_000/4) * core.Wh // 30 kWp for a quarter hour
	from := core.SlotOf(time.Date(2025, 1, 1, 0, 0, 0, 0, zurich))
	var peak core.Energy
	for s := from; s < from+365*96; s++ {
		_, exp := b.SlotEnergy(s)
		e := exp[pv]
		peak = max(peak, e)
		if e > limit {
			t.Fatalf("slot %s: PV %v above 30 kWp × 15 min", s, e)
		}
		h := s.Time().In(zurich).Hour()
		if (h >= 22 || h < 4) && e != 0 {
			t.Fatalf("slot %s (local %02d h): PV %v at night", s, h, e)
		}
	}
	// A clear summer noon gets near the peak: the plant is really 30 kWp.
	if peak < limit*6/10 {
		t.Errorf("PV peak %v in a year, expected at least 60 %% of %v", peak, limit)
	}
}

// monthly holds a demo building's energy per month of 2025 and meter.
type monthly struct {
	b        *Building
	imp, exp [12][]float64
}

var (
	monthlyMu    sync.Mutex
	monthlyCache = map[int64]*monthly{}
)

// monthlyEnergy simulates 2025 for a seed once for the tests that need it.
func monthlyEnergy(seed int64) *monthly {
	monthlyMu.Lock()
	defer monthlyMu.Unlock()
	if m, ok := monthlyCache[seed]; ok {
		return m
	}
	m := &monthly{b: New(demoConfig(seed))}
	for k := range 12 {
		from := time.Date(2025, time.Month(k+1), 1, 0, 0, 0, 0, zurich)
		m.imp[k], m.exp[k] = energyBetween(m.b, from, from.AddDate(0, 1, 0))
	}
	monthlyCache[seed] = m
	return m
}

func (m *monthly) year(meter int) (imp, exp float64) {
	for k := range 12 {
		imp += m.imp[k][meter]
		exp += m.exp[k][meter]
	}
	return imp, exp
}

func TestSeasons(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		m := monthlyEnergy(seed)
		pv, hp := meterIndex(t, m.b, "PV"), meterIndex(t, m.b, "WP")
		jun, jul, dec := time.June-1, time.July-1, time.December-1
		if m.exp[jun][pv] <= 3*m.exp[dec][pv] {
			t.Errorf("seed %d: PV June %.0f kWh, December %.0f kWh: expected June > 3 × December", seed, m.exp[jun][pv], m.exp[dec][pv])
		}
		if m.imp[dec][hp] <= 5*m.imp[jul][hp] {
			t.Errorf("seed %d: heat pump December %.0f kWh, July %.0f kWh: expected December > 5 × July", seed, m.imp[dec][hp], m.imp[jul][hp])
		}
		if m.imp[jul][hp] <= 0 || m.imp[jun][hp] <= 0 {
			t.Errorf("seed %d: heat pump idle in summer (hot water runs all year)", seed)
		}
	}
}

func TestAnnualFigures(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		m := monthlyEnergy(seed)
		pv, grid := meterIndex(t, m.b, "PV"), meterIndex(t, m.b, "GRID")
		for i, mi := range m.b.Meters() {
			// The unit with the tenant change is vacant for a month, and
			// still in range.
			if imp, _ := m.year(i); mi.Role == core.RoleUnit && (imp < 1500 || imp > 4500) {
				t.Errorf("seed %d: %s used %.0f kWh in a year, expected 1,500-4,500", seed, mi.ID, imp)
			}
		}
		_, production := m.year(pv)
		gridIn, feedIn := m.year(grid)
		if y := production / 30; y < 900 || y > 1200 {
			t.Errorf("seed %d: PV yield %.0f kWh/kWp, expected 900-1,200 (Swiss plateau)", seed, y)
		}
		self := (production - feedIn) / production
		if self < 0.20 || self > 0.60 {
			t.Errorf("seed %d: self-consumption %.0f %% of production, expected 20-60 %%", seed, 100*self)
		}
		t.Logf("seed %d: PV %.0f kWh, grid import %.0f, export %.0f, self-consumption %.0f %%", seed, production, gridIn, feedIn, 100*self)
	}
}

func TestVacancyIsQuiet(t *testing.T) {
	b := New(demoConfig(1))
	site := b.Site("demo")
	// Find the gap between two tenancies of a unit.
	var unit string
	var gapFrom, gapTo core.Date
	for i, o := range site.Occupancies {
		for _, p := range site.Occupancies[i+1:] {
			if p.Unit == o.Unit && !o.To.IsZero() && p.From.After(o.To.AddDays(1)) {
				unit, gapFrom, gapTo = o.Unit, o.To.AddDays(1), p.From.AddDays(-1)
			}
		}
	}
	if unit == "" {
		t.Fatal("no tenant change with a vacancy in the site")
	}
	m := meterIndex(t, b, "M-"+unit)
	imp, _ := energyBetween(b, gapFrom.Midnight(zurich), gapTo.AddDays(1).Midnight(zurich))
	if days := float64(gapFrom.DaysUntil(gapTo) + 1); imp[m] > 0.5*days {
		t.Errorf("vacant unit %s used %.1f kWh in %v days", unit, imp[m], days)
	}
	before, _ := energyBetween(b, gapFrom.AddDays(-30).Midnight(zurich), gapFrom.Midnight(zurich))
	if before[m] < 60 {
		t.Errorf("unit %s used only %.1f kWh in the month before the vacancy", unit, before[m])
	}
}

func TestSessionsMatchChargerMeter(t *testing.T) {
	b := New(demoConfig(9))
	ev := meterIndex(t, b, "EV1")
	// Charging never runs past 04:00, so sessions starting between two
	// 04:00 instants are exactly the charger's energy between them.
	from := time.Date(2025, 3, 1, 4, 0, 0, 0, zurich)
	to := time.Date(2025, 6, 1, 4, 0, 0, 0, zurich)
	ss := b.Sessions(from, to)
	if len(ss) < 25 || len(ss) > 60 {
		t.Fatalf("%d sessions in three months, expected a few a week", len(ss))
	}
	var sum core.Energy
	cards := map[string]bool{}
	for i, s := range ss {
		sum += s.Energy
		cards[s.Card] = true
		if s.Charger != "EV1" || len(s.Card) != 14 || s.Unit == "" {
			t.Errorf("session %d: %+v", i, s)
		}
		minDur := time.Duration(s.Energy/core.Wh) * time.Hour / EVPowerW
		if s.End.Sub(s.Start) < minDur {
			t.Errorf("session %d: %v charged in %v, faster than 11 kW", i, s.Energy, s.End.Sub(s.Start))
		}
		if i > 0 && s.Start.Before(ss[i-1].Start) {
			t.Errorf("sessions out of order at %d", i)
		}
	}
	imp, _ := energyBetween(b, from, to)
	if got := core.Energy(imp[ev]*1000) * core.Wh; got != sum {
		t.Errorf("charger meter %v, sessions %v", got, sum)
	}
	if len(cards) < 2 {
		t.Errorf("only %d card(s) used", len(cards))
	}
	// During a session's charging the charger draws exactly 11 kW.
	s := ss[0]
	if p := b.Power(s.Start.Add(time.Minute))[ev]; p.ImportW != EVPowerW {
		t.Errorf("power a minute into a session: %+v", p)
	}
	if p := b.Power(s.End.Add(time.Minute))[ev]; p.ImportW != 0 {
		t.Errorf("power after a session: %+v", p)
	}
}

func TestPowerAveragesToSlotEnergy(t *testing.T) {
	b := New(demoConfig(2))
	grid := meterIndex(t, b, "GRID")
	for _, start := range []time.Time{
		time.Date(2025, 6, 10, 12, 0, 0, 0, zurich),
		time.Date(2025, 12, 10, 19, 0, 0, 0, zurich),
	} {
		s := core.SlotOf(start)
		imp, exp := b.SlotEnergy(s)
		sumI := make([]float64, len(imp))
		sumE := make([]float64, len(imp))
		for k := 0; k < 900; k++ {
			ps := b.Power(s.Time().Add(time.Duration(k) * time.Second))
			var net int64
			for i, p := range ps {
				sumI[i] += float64(p.ImportW) / 3600
				sumE[i] += float64(p.ExportW) / 3600
				if p.ImportW > 0 && p.ExportW > 0 {
					t.Fatalf("%s both imports and exports: %+v", p.Meter, p)
				}
				if i != grid {
					net += p.ImportW - p.ExportW
				}
			}
			if net != ps[grid].ImportW-ps[grid].ExportW {
				t.Fatalf("%s: grid power %+v, balance of the others %d W", ps[grid].Time, ps[grid], net)
			}
		}
		for i, m := range b.Meters() {
			if m.Role == core.RoleGrid || m.Role == core.RoleEV {
				continue // the grid follows the EV's exact switching instants
			}
			wantI, wantE := float64(imp[i]/core.Wh), float64(exp[i]/core.Wh)
			if d := sumI[i] - wantI; d > 1+0.01*wantI || d < -1-0.01*wantI {
				t.Errorf("%s slot %s: power integrates to %.1f Wh import, registers say %.0f", m.ID, s, sumI[i], wantI)
			}
			if d := sumE[i] - wantE; d > 1+0.01*wantE || d < -1-0.01*wantE {
				t.Errorf("%s slot %s: power integrates to %.1f Wh export, registers say %.0f", m.ID, s, sumE[i], wantE)
			}
		}
	}
}

func TestSiteValidates(t *testing.T) {
	b := New(demoConfig(1))
	s := b.Site("demo")
	if err := s.Validate(); err != nil {
		t.Fatalf("site does not validate: %v", err)
	}
	var ids []string
	for _, m := range b.Meters() {
		ids = append(ids, m.ID)
		if m.OBISImport != "1-0:1.8.0" || m.OBISExport != "1-0:2.8.0" {
			t.Errorf("%s: OBIS %s/%s", m.ID, m.OBISImport, m.OBISExport)
		}
		sm := s.Meter(m.ID)
		if sm == nil || sm.Role != m.Role || sm.Unit != m.Unit {
			t.Errorf("meter %s (%s) missing or different in the site: %+v", m.ID, m.Role, sm)
		}
	}
	if len(s.Meters) != len(ids) || len(ids) != 12+5 {
		t.Errorf("site has %d meters, simulator %d, expected 17", len(s.Meters), len(ids))
	}
	langs := map[string]bool{}
	for _, o := range s.Occupancies {
		langs[o.Language] = true
	}
	for _, l := range core.Languages {
		if !langs[l] {
			t.Errorf("no tenant speaks %s", l)
		}
	}
	tf, ok := s.TariffAt(core.MustDate(2025, 6, 1))
	if !ok || tf.Solar != 200_000 || tf.GridHT != 300_000 || tf.GridNT != 220_000 || tf.VAT == nil || *tf.VAT != 810 {
		t.Errorf("tariff %+v", tf)
	}
	// Validate's rules on a site it built must also hold for odd sizes.
	for _, cfg := range []Config{{Seed: 1, Units: 1}, {Seed: 2, Units: 30, PVkWp: 99.5, EVChargers: 3, HeatPump: true}} {
		if err := New(cfg).Site("x").Validate(); err != nil {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

func TestHolidays(t *testing.T) {
	got := Holidays(2026)
	want := []core.Date{
		core.MustDate(2026, 1, 1), core.MustDate(2026, 1, 2), core.MustDate(2026, 4, 3), core.MustDate(2026, 4, 6),
		core.MustDate(2026, 5, 14), core.MustDate(2026, 5, 25), core.MustDate(2026, 8, 1),
		core.MustDate(2026, 12, 25), core.MustDate(2026, 12, 26),
	}
	if !slices.Equal(got, want) {
		t.Errorf("Holidays(2026) = %v, want %v", got, want)
	}
}

// BenchmarkYear simulates the demo building's registers every 15 minutes for
// a year, as zevdesk demo does.
func BenchmarkYear(b *testing.B) {
	for b.Loop() {
		bld := New(demoConfig(1))
		from := core.SlotOf(time.Date(2025, 1, 1, 0, 0, 0, 0, zurich))
		var rs []Reading
		for s := from; s <= from+365*96; s++ {
			rs = bld.AppendRegisters(rs[:0], s.Time())
		}
	}
}

// BenchmarkRegistersLive is one reading of all meters at a new instant, as
// the gateway's simulator driver does every few seconds.
func BenchmarkRegistersLive(b *testing.B) {
	bld := New(demoConfig(1))
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, zurich)
	bld.Registers(t0)
	i := 0
	for b.Loop() {
		bld.Registers(t0.Add(time.Duration(i) * time.Second))
		i++
	}
}

func TestWeatherClimate(t *testing.T) {
	b := New(demoConfig(4))
	first := dayNum(2020, 1, 1)
	var same, days int
	var tJan, tJul, nJan, nJul float64
	prev := b.weatherOf(first)
	for n := first + 1; n < first+5*365; n++ {
		w := b.weatherOf(n)
		days++
		if w.state == prev.state {
			same++
		}
		switch n.date().Month() {
		case time.January:
			tJan += w.tMean
			nJan++
		case time.July:
			tJul += w.tMean
			nJul++
		}
		prev = w
	}
	// Weather comes in spells: a Markov chain keeps yesterday's sky more
	// often than independent draws from the climate would (about 40 %).
	if f := float64(same) / float64(days); f < 0.6 || f > 0.85 {
		t.Errorf("consecutive days share the weather on %.0f %% of days, expected spells (60-85 %%)", 100*f)
	}
	// Bern: January about 0 °C, July about 19 °C.
	if m := tJan / nJan; m < -3 || m > 3 {
		t.Errorf("January mean %.1f °C", m)
	}
	if m := tJul / nJul; m < 16 || m > 22 {
		t.Errorf("July mean %.1f °C", m)
	}
}
