package vee

import (
	"fmt"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
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
// AcceptRegisters call per meter, and reports readings per second.
func BenchmarkAcceptRegisters(b *testing.B) {
	site := benchSite()
	day := benchDay(site)
	b.ResetTimer()
	n := 0
	for b.Loop() {
		tx := newFake()
		for _, m := range site.Meters {
			if _, err := AcceptRegisters(tx, site, m.ID, day[m.ID], opts()); err != nil {
				b.Fatal(err)
			}
			n += len(day[m.ID])
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
