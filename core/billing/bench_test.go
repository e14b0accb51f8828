package billing

import (
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// benchSite is a building of n units with PV, grid, general electricity
// (by area), a heat pump (by units), HT/NT, fees, VAT, and a tenant change
// in every fifth unit each quarter.
func benchSite(n int) *core.Site {
	s := &core.Site{ID: "bench", Name: "Bench", Timezone: "Europe/Zurich", VATNumber: "CHE-123.456.789 MWST",
		Operator: core.Operator{Name: "Op"}}
	s.Meters = []core.Meter{{ID: "PV", Role: core.RoleProduction}, {ID: "GRID", Role: core.RoleGrid},
		{ID: "ALLG", Role: core.RoleCommon, Key: core.KeyArea}, {ID: "WP", Role: core.RoleHeatPump, Key: core.KeyUnits}}
	for i := range n {
		id := fmt.Sprintf("W%03d", i)
		s.Units = append(s.Units, core.Unit{ID: id, Area: 5000 + int64(i%7)*1000})
		s.Meters = append(s.Meters, core.Meter{ID: "M-" + id, Role: core.RoleUnit, Unit: id})
		if i%5 == 0 {
			for q := range 4 {
				from := core.MustDate(2025, time1(q*3+1), 1)
				s.Occupancies = append(s.Occupancies, core.Occupancy{Unit: id, Name: fmt.Sprintf("T%d-%d", i, q), From: from,
					To: from.AddDays(75), AdvanceMonth: 8000})
			}
		} else {
			s.Occupancies = append(s.Occupancies, core.Occupancy{Unit: id, Name: fmt.Sprintf("T%d", i), From: core.MustDate(2020, 1, 1)})
		}
	}
	w, _ := core.ParseWindow("mon-fri 07:00-20:00")
	w2, _ := core.ParseWindow("sat 07:00-13:00")
	s.Tariffs = []core.Tariff{{From: core.MustDate(2020, 1, 1), Solar: 200_000, GridHT: 310_000, GridNT: 220_000,
		HT: []core.Window{w, w2}, BaseFeeMonth: 500, MeteringMonth: 300}}
	s.Holidays = []core.Date{core.MustDate(2025, 1, 1), core.MustDate(2025, 8, 1), core.MustDate(2025, 12, 25)}
	if err := s.Validate(); err != nil {
		panic(err)
	}
	return s
}

func time1(m int) time.Month { return time.Month(m) }

// benchSeries generates a meter's series: PV a daylight curve, consumers a
// random load with a daily shape.
func benchSeries(meter string, from core.Slot, n int, pv bool) store.Series {
	rng := rand.New(rand.NewSource(int64(len(meter)*7919) + int64(meter[len(meter)-1])))
	s := store.Series{From: from, Energy: make([]core.Energy, n), Quality: make([]store.Quality, n)}
	for i := range n {
		h := float64((int64(from)+int64(i))%96) / 4 // UTC hour
		var v float64
		if pv {
			v = math.Max(0, math.Sin((h-5)/14*math.Pi)) * 8000 * (0.5 + rng.Float64()/2) // up to 8 kWh per interval
		} else {
			v = (0.05 + 0.1*math.Max(0, math.Sin((h-4)/18*math.Pi))) * (0.3 + rng.Float64()*1.4) * 1000
		}
		s.Energy[i] = core.Energy(v * 1000) // Wh → mWh
		s.Quality[i] = store.Measured
	}
	return s
}

func benchInput(s *core.Site, p core.Period) *Input {
	from, to := p.Slots(s.Location())
	n := int(to - from)
	in := &Input{Site: s, Period: p, Data: map[string]MeterData{}}
	for _, m := range s.Meters {
		var md MeterData
		switch m.Role {
		case core.RoleProduction:
			md.Export = benchSeries(m.ID, from, n, true)
		default:
			md.Import = benchSeries(m.ID, from, n, false)
		}
		in.Data[m.ID] = md
	}
	return in
}

var (
	quarter = core.Period{From: core.MustDate(2025, 1, 1), To: core.MustDate(2025, 3, 31)}
	year    = core.Period{From: core.MustDate(2025, 1, 1), To: core.MustDate(2025, 12, 31)}
)

func benchBill(b *testing.B, in *Input) {
	b.ReportAllocs()
	var r *Run
	for b.Loop() {
		var err error
		if r, err = Bill(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
	b.ReportMetric(float64(r.Building.Slots*len(in.Site.Units)), "unit-intervals")
}

// BenchmarkQuarter20Units bills a quarter (8,636 intervals) of 20 units
// with PV, general electricity and a heat pump, from memory.
func BenchmarkQuarter20Units(b *testing.B) {
	benchBill(b, benchInput(benchSite(20), quarter))
}

// BenchmarkGrowth shows that the time grows linearly in units × intervals:
// compare ns/op divided by unit-intervals across the rows.
func BenchmarkGrowth(b *testing.B) {
	for _, p := range []struct {
		name string
		p    core.Period
	}{{"quarter", quarter}, {"year", year}} {
		for _, n := range []int{10, 20, 50, 100} {
			b.Run(fmt.Sprintf("%s/units=%d", p.name, n), func(b *testing.B) {
				in := benchInput(benchSite(n), p.p)
				benchBill(b, in)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(in.Period.Days()*96*n), "ns/unit-interval")
			})
		}
	}
}

// BenchmarkYear100Units bills a year of 100 units plus PV, general
// electricity and a heat pump, reading everything from a real bbolt file.
// peak-MB is the heap in use at the end of Load+Bill above the baseline
// before (what the run holds), alloc-MB everything allocated on the way (an
// upper bound of the peak).
func BenchmarkYear100Units(b *testing.B) {
	s := benchSite(100)
	in := benchInput(s, year)
	st, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	err = st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(s); err != nil {
			return err
		}
		for _, m := range s.Meters {
			for ch, ser := range map[store.Channel]store.Series{store.Import: in.Data[m.ID].Import, store.Export: in.Data[m.ID].Export} {
				if len(ser.Energy) == 0 {
					continue
				}
				vals := make([]store.Value, len(ser.Energy))
				for i, e := range ser.Energy {
					vals[i] = store.Value{Slot: ser.From + core.Slot(i), Energy: e, Quality: ser.Quality[i]}
				}
				if _, err := tx.PutIntervals(store.SeriesID{Site: s.ID, Meter: m.ID, Channel: ch}, vals, store.KeepFirst); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var peak, alloc uint64
	var ms0, ms1 runtime.MemStats
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		b.StartTimer()
		var r *Run
		err := st.View(func(tx store.Tx) error {
			site, err := tx.Site(s.ID)
			if err != nil {
				return err
			}
			in, err := Load(tx, site, year)
			if err != nil {
				return err
			}
			r, err = Bill(in)
			runtime.ReadMemStats(&ms1)
			runtime.KeepAlive(in)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Invoices) < 100 {
			b.Fatalf("%d invoices", len(r.Invoices))
		}
		peak = max(peak, ms1.HeapInuse-min(ms0.HeapInuse, ms1.HeapInuse))
		alloc = max(alloc, ms1.TotalAlloc-ms0.TotalAlloc)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
	b.ReportMetric(float64(alloc)/(1<<20), "alloc-MB")
}

// BenchmarkYear100UnitsEqual is the year of 100 units under the equal-share
// method (water-filling per interval), from memory.
func BenchmarkYear100UnitsEqual(b *testing.B) {
	s := benchSite(100)
	s.Allocation = core.AllocEqual
	benchBill(b, benchInput(s, year))
}
