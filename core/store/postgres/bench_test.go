package postgres_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// The benchmarks run each case on bbolt and on PostgreSQL side by side and
// report the ratio bbolt/PostgreSQL (of time: how many times slower
// PostgreSQL is; of size: how many times larger).

// engines opens a new empty store of each kind, with a function returning
// the bytes its interval data takes. bbolt syncs its commits; the test
// server runs with fsync off, which flatters PostgreSQL on commit-heavy work
// (not on these: one commit per import).
var engines = []struct {
	name string
	open func(b *testing.B) (store.Store, func() float64)
}{
	{"bbolt", func(b *testing.B) (store.Store, func() float64) {
		st, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		return st, func() float64 {
			n, err := st.Backup(discard{})
			if err != nil {
				b.Fatal(err)
			}
			return float64(n)
		}
	}},
	{"postgres", func(b *testing.B) (store.Store, func() float64) {
		conn := newDB(b)
		db := conn[strings.LastIndex(conn, "dbname=")+7:]
		db = db[:strings.IndexByte(db, ' ')]
		return open(b, conn), func() float64 {
			out, err := srv.Query(db, "SELECT pg_total_relation_size('intervals')")
			if err != nil {
				b.Fatal(err)
			}
			n, err := strconv.ParseFloat(out, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}},
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

const (
	benchMeters = 100
	benchDays   = 365
)

var benchStart = core.MustDate(2025, 1, 1).FirstSlot(time.UTC)

// benchYear is a year of 15-minute values for benchMeters meters in Wh
// resolution: a household load with noise.
func benchYear() [][]core.Energy {
	rng := rand.New(rand.NewPCG(2026, 12))
	out := make([][]core.Energy, benchMeters)
	for m := range out {
		base := 40 + rng.Float64()*60
		vals := make([]core.Energy, benchDays*core.SlotsPerUTCDay)
		for i := range vals {
			h := float64(i%core.SlotsPerUTCDay) / 4
			peak := 120*math.Exp(-(h-6)*(h-6)/2) + 220*math.Exp(-(h-18)*(h-18)/4)
			vals[i] = core.Energy(max(base+peak*(0.5+rng.Float64())+rng.NormFloat64()*25, 0)) * core.Wh
		}
		out[m] = vals
	}
	return out
}

// BenchmarkImport imports a year of 100 meters, one PutIntervals per meter
// (as a file import does), in one transaction, and reports values/s and the
// bytes per value on disk (bbolt: the data in use; PostgreSQL: the
// intervals table with its index, pg_total_relation_size).
func BenchmarkImport(b *testing.B) {
	year := benchYear()
	var rates, sizes [2]float64
	for e, eng := range engines {
		b.Run(eng.name, func(b *testing.B) {
			var total int
			var elapsed time.Duration
			var bytes float64
			for b.Loop() {
				b.StopTimer()
				st, size := eng.open(b)
				vals := make([]store.Value, benchDays*core.SlotsPerUTCDay)
				b.StartTimer()
				start := time.Now()
				err := st.Update(func(tx store.Tx) error {
					for m, wh := range year {
						for i, v := range wh {
							vals[i] = store.Value{Slot: benchStart + core.Slot(i), Energy: v, Quality: store.Measured}
						}
						res, err := tx.PutIntervals(store.SeriesID{Site: "bench", Meter: fmt.Sprintf("M%03d", m)}, vals, store.KeepFirst)
						if err != nil {
							return err
						}
						total += res.Written
					}
					return nil
				})
				elapsed += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				bytes = size() / float64(benchMeters*len(vals))
				st.Close()
				b.StartTimer()
			}
			rates[e], sizes[e] = float64(total)/elapsed.Seconds(), bytes
			b.ReportMetric(rates[e], "values/s")
			b.ReportMetric(bytes, "bytes/value")
			if e == 1 && rates[0] > 0 {
				b.ReportMetric(rates[0]/rates[1], "bbolt/pg-speed")
				b.ReportMetric(sizes[1]/sizes[0], "pg/bbolt-size")
			}
		})
	}
}

// benchSite is a building of n units with PV, grid, general electricity and
// a heat pump, on one tariff.
func benchSite(n int) *core.Site {
	s := &core.Site{ID: "bench", Name: "Bench", Timezone: "Europe/Zurich", Operator: core.Operator{Name: "Op"}}
	s.Meters = []core.Meter{{ID: "PV", Role: core.RoleProduction}, {ID: "GRID", Role: core.RoleGrid},
		{ID: "ALLG", Role: core.RoleCommon, Key: core.KeyArea}, {ID: "WP", Role: core.RoleHeatPump, Key: core.KeyUnits}}
	for i := range n {
		id := fmt.Sprintf("W%03d", i)
		s.Units = append(s.Units, core.Unit{ID: id, Area: 5000 + int64(i%7)*1000})
		s.Meters = append(s.Meters, core.Meter{ID: "M-" + id, Role: core.RoleUnit, Unit: id})
		s.Occupancies = append(s.Occupancies, core.Occupancy{Unit: id, Name: fmt.Sprintf("T%d", i), From: core.MustDate(2020, 1, 1)})
	}
	w, _ := core.ParseWindow("mon-fri 07:00-20:00")
	s.Tariffs = []core.Tariff{{From: core.MustDate(2020, 1, 1), Solar: 200_000, GridHT: 310_000, GridNT: 220_000,
		HT: []core.Window{w}, BaseFeeMonth: 500, MeteringMonth: 300}}
	if err := s.Validate(); err != nil {
		panic(err)
	}
	return s
}

// fillSite stores the period's data of every meter of s.
func fillSite(b *testing.B, st store.Store, s *core.Site, p core.Period) {
	from, to := p.Slots(s.Location())
	rng := rand.New(rand.NewPCG(1, 2))
	err := st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(s); err != nil {
			return err
		}
		vals := make([]store.Value, to-from)
		for _, m := range s.Meters {
			ch := store.Import
			if m.Role == core.RoleProduction {
				ch = store.Export
			}
			for i := range vals {
				h := float64((int64(from)+int64(i))%96) / 4
				v := (0.05 + 0.1*math.Max(0, math.Sin((h-4)/18*math.Pi))) * (0.3 + rng.Float64()*1.4) * 1000
				if ch == store.Export {
					v = math.Max(0, math.Sin((h-5)/14*math.Pi)) * 8000 * (0.5 + rng.Float64()/2)
				}
				vals[i] = store.Value{Slot: from + core.Slot(i), Energy: core.Energy(v) * core.Wh, Quality: store.Measured}
			}
			if _, err := tx.PutIntervals(store.SeriesID{Site: s.ID, Meter: m.ID, Channel: ch}, vals, store.KeepFirst); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// benchBilling bills a period of n units read from each store: Load (every
// meter's series) and Bill, in one View.
func benchBilling(b *testing.B, n int, p core.Period) {
	s := benchSite(n)
	var ms [2]float64
	for e, eng := range engines {
		b.Run(eng.name, func(b *testing.B) {
			st, _ := eng.open(b)
			defer st.Close()
			fillSite(b, st, s, p)
			for b.Loop() {
				err := st.View(func(tx store.Tx) error {
					in, err := billing.Load(tx, s, p)
					if err != nil {
						return err
					}
					r, err := billing.Bill(in)
					if err == nil && len(r.Invoices) < n {
						err = fmt.Errorf("%d invoices for %d units", len(r.Invoices), n)
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			ms[e] = float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
			b.ReportMetric(ms[e], "ms/op")
			if e == 1 && ms[0] > 0 {
				b.ReportMetric(ms[1]/ms[0], "pg/bbolt-time")
			}
		})
	}
}

// BenchmarkBillQuarter20Units bills a quarter of 20 units read from the
// store (the goal on PostgreSQL: at most 100 ms).
func BenchmarkBillQuarter20Units(b *testing.B) {
	benchBilling(b, 20, core.Period{From: core.MustDate(2025, 1, 1), To: core.MustDate(2025, 3, 31)})
}

// BenchmarkBillYear100Units bills a year of 100 units read from the store
// (the goal on PostgreSQL: at most 1 s).
func BenchmarkBillYear100Units(b *testing.B) {
	benchBilling(b, 100, core.Period{From: core.MustDate(2025, 1, 1), To: core.MustDate(2025, 12, 31)})
}
