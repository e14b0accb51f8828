//go:build unix

package ui

import (
	"context"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/intake"
)

// cpuTime is the CPU time this process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pairForBench pairs gateways with the test site, their meters mapped to
// the site's.
func pairForBench(b *testing.B, st store.Store, gws int, live time.Duration) {
	b.Helper()
	for i := 0; i < gws; i++ {
		g, addr, _ := runGatewayTB(b, live, powerMeters{})
		p, err := intake.Pair(context.Background(), addr, "", g.Code())
		if err != nil {
			b.Fatal(err)
		}
		p.Site = "birkenweg"
		p.Meters = map[string]string{"pv": "PV", "flat1": "M-W01", "flat2": "M-W02", "utility": "GRID"}
		if err := st.Update(func(tx store.Tx) error { return intake.SavePairing(tx, p, time.Now(), "bench") }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLiveLatency measures, on 127.0.0.1, the time from a live record
// at the gateway (its event's time) to its value drawn in the live view:
// the issue asks for at most 2 s. The gateway sends every second, as in
// the field.
func BenchmarkLiveLatency(b *testing.B) {
	test.NewTempApp(b)
	st := openStoreB(b)
	putBenchSite(b, st)
	pairForBench(b, st, 1, time.Second)
	l := NewLive(st, core.SystemClock{})
	type draw struct {
		at, drawn time.Time
	}
	draws := make(chan draw, 16)
	l.drawn = func(sh liveShown) {
		if sh.Known {
			select {
			case draws <- draw{sh.At, time.Now()}:
			default:
			}
		}
	}
	b.Cleanup(l.Stop)
	l.setSite(loadSiteB(b, st, "birkenweg"))
	var last time.Time
	var sum, worst time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for {
			d := <-draws
			if d.at.After(last) {
				last = d.at
				lat := d.drawn.Sub(d.at)
				sum += lat
				worst = max(worst, lat)
				break
			}
		}
	}
	b.ReportMetric(float64(sum.Milliseconds())/float64(b.N), "ms/record")
	b.ReportMetric(float64(worst.Milliseconds()), "max-ms")
}

// BenchmarkLive20Gateways streams 20 real gateways (one event a second
// each) into one live view for a few seconds and reports the CPU the view
// costs, as a percentage of one core: the process's CPU time minus that of
// the same gateways streaming to nobody over as long. The issue asks for
// less than 10 %.
func BenchmarkLive20Gateways(b *testing.B) {
	test.NewTempApp(b)
	st := openStoreB(b)
	putBenchSite(b, st)
	pairForBench(b, st, 20, time.Second)
	const window = 3 * time.Second
	measure := func() time.Duration {
		c0 := cpuTime()
		time.Sleep(window) // a benchmark measures over real time
		return cpuTime() - c0
	}
	b.ResetTimer()
	var pct float64
	for i := 0; i < b.N; i++ {
		base := measure()
		l := NewLive(st, core.SystemClock{})
		draws := 0
		l.drawn = func(liveShown) { draws++ }
		l.setSite(loadSiteB(b, st, "birkenweg"))
		time.Sleep(2 * time.Second) // let the streams connect
		with := measure()
		l.Stop()
		pct = 100 * float64(with-base) / float64(window)
		if draws == 0 {
			b.Fatal("nothing was drawn")
		}
		b.Logf("gateways alone %v, with the view %v over %v; %d draws", base, with, window, draws)
	}
	b.ReportMetric(pct, "cpu-%")
}

func putBenchSite(b *testing.B, st store.Store) {
	b.Helper()
	site := &core.Site{
		ID: "birkenweg", Name: "ZEV Birkenweg 12", Timezone: "Europe/Zurich",
		Operator: core.Operator{Name: "Immo Muster AG"},
		Units:    []core.Unit{{ID: "W01"}, {ID: "W02"}},
		Meters: []core.Meter{
			{ID: "PV", Role: core.RoleProduction}, {ID: "GRID", Role: core.RoleGrid},
			{ID: "M-W01", Role: core.RoleUnit, Unit: "W01"}, {ID: "M-W02", Role: core.RoleUnit, Unit: "W02"},
		},
	}
	if err := st.Update(func(tx store.Tx) error { return tx.PutSite(site) }); err != nil {
		b.Fatal(err)
	}
}

func loadSiteB(b *testing.B, st store.Store, id string) *core.Site {
	b.Helper()
	var s *core.Site
	if err := st.View(func(tx store.Tx) (err error) { s, err = tx.Site(id); return }); err != nil {
		b.Fatal(err)
	}
	return s
}
