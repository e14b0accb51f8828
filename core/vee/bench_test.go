package vee

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/store/mem"
)

// benchSite is a site of 100 meters: grid, PV and 98 units.
func benchSite() *core.Site {
	s := testSite()
	s.Meters = s.Meters[:2]
	for i := range 98 {
		s.Meters = append(s.Meters, core.Meter{ID: fmt.Sprintf("U%02d", i), Role: core.RoleUnit})
	}
	return s
}

// benchDay returns a day of 15-minute readings (97, both ends) per meter,
// at instants a few seconds off the boundaries as gateways read them.
func benchDay(site *core.Site) map[string][]store.Register {
	day := map[string][]store.Register{}
	for mi, m := range site.Meters {
		var imp, exp core.Energy = core.Energy(mi) * core.MWh, 0
		rs := make([]store.Register, 0, 97)
		for i := 0; i <= 96; i++ {
			rs = append(rs, store.Register{Time: at(15 * i).Add(time.Duration(i%7) * time.Second), Import: imp, Export: exp})
			imp += core.Energy(100_000 + 997*((i*mi)%50))
			if m.Role == core.RoleProduction {
				exp += core.Energy(500_000 * (i % 3))
			}
		}
		day[m.ID] = rs
	}
	return day
}

// BenchmarkAcceptRegisters accepts a day of readings of 100 meters, one
// transaction and AcceptRegisters call per meter as a gateway batch would,
// on a fresh in-memory store and a fresh bbolt file (without fsync, which
// measures the disk rather than the code), and reports readings per second.
func BenchmarkAcceptRegisters(b *testing.B) {
	site := benchSite()
	day := benchDay(site)
	for _, kind := range []string{"mem", "bolt"} {
		b.Run(kind, func(b *testing.B) {
			n := 0
			for i := 0; b.Loop(); i++ {
				var st store.Store = mem.New()
				if kind == "bolt" {
					bs, err := bolt.Open(filepath.Join(b.TempDir(), fmt.Sprintf("b%d.db", i)), &bolt.Options{NoSync: true})
					if err != nil {
						b.Fatal(err)
					}
					st = bs
				}
				if err := st.Update(func(tx store.Tx) error { return tx.PutSite(site) }); err != nil {
					b.Fatal(err)
				}
				for _, m := range site.Meters {
					err := st.Update(func(tx store.Tx) error {
						_, err := AcceptRegisters(tx, site, m.ID, day[m.ID], opts())
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
					n += len(day[m.ID])
				}
				st.Close()
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkAcceptRegistersLive accepts the same day as a live gateway
// delivers it: every 15 minutes one transaction with one reading per meter,
// on a bbolt file, and reports readings per second.
func BenchmarkAcceptRegistersLive(b *testing.B) {
	site := benchSite()
	day := benchDay(site)
	n := 0
	for i := 0; b.Loop(); i++ {
		st, err := bolt.Open(filepath.Join(b.TempDir(), fmt.Sprintf("l%d.db", i)), &bolt.Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Update(func(tx store.Tx) error { return tx.PutSite(site) }); err != nil {
			b.Fatal(err)
		}
		for k := 0; k <= 96; k++ {
			err := st.Update(func(tx store.Tx) error {
				for _, m := range site.Meters {
					if _, err := AcceptRegisters(tx, site, m.ID, day[m.ID][k:k+1], opts()); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			n += len(site.Meters)
		}
		st.Close()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkQuality reports on a year of 100 meters' intervals.
func BenchmarkQuality(b *testing.B) {
	site := benchSite()
	loc := site.Location()
	p := core.Period{From: core.MustDate(2025, 1, 1), To: core.MustDate(2025, 12, 31)}
	from, to := p.Slots(loc)
	st := mem.New()
	err := st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(site); err != nil {
			return err
		}
		vs := make([]store.Value, 0, to-from)
		for s := from; s < to; s++ {
			vs = append(vs, store.Value{Slot: s, Energy: 100, Quality: store.Measured})
		}
		for _, m := range site.Meters {
			if _, err := tx.PutIntervals(store.SeriesID{Site: site.ID, Meter: m.ID, Channel: mainChannel(m)}, vs, store.KeepFirst); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		err := st.View(func(tx store.Tx) error {
			_, err := Quality(tx, site, p)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
