package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

// BenchmarkInserts100 renders 100 invoice inserts, each with its chart and
// QR-bill payment part, from billing invoices to PDF bytes, one after the
// other (the cost on one core).
func BenchmarkInserts100(b *testing.B) { benchInserts(b, false) }

// BenchmarkInserts100Parallel renders them as WriteRun does, on every core.
func BenchmarkInserts100Parallel(b *testing.B) { benchInserts(b, true) }

func benchInserts(b *testing.B, par bool) {
	site := sampleSite()
	invs := make([]billing.Invoice, 100)
	for i := range invs {
		invs[i] = sampleInvoice(site, core.Languages[i%4])
		invs[i].Number = 1000 + i
	}
	run := sampleRun(site, invs...)
	bars := sampleBars()
	sizes := make([]int, len(invs))
	render := func(i int) error {
		in, err := FromInvoice(site, run, &invs[i], core.MustDate(2026, 4, 7), bars)
		if err != nil {
			return err
		}
		if in.Payment == nil {
			return errors.New("no payment part")
		}
		var buf bytes.Buffer
		if err := WritePDF(&buf, in); err != nil {
			return err
		}
		sizes[i] = buf.Len()
		return nil
	}
	b.ReportAllocs()
	for b.Loop() {
		if par {
			if err := parallel(len(invs), render); err != nil {
				b.Fatal(err)
			}
			continue
		}
		for i := range invs {
			if err := render(i); err != nil {
				b.Fatal(err)
			}
		}
	}
	size := 0
	for _, s := range sizes {
		size += s
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/100inserts")
	b.ReportMetric(float64(size)/100/1024, "KiB/insert")
}

// BenchmarkYearXLSX50Meters writes a year of 15-minute data of 50 meters
// (48 units, PV, grid) to a workbook and reports the peak heap.
func BenchmarkYearXLSX50Meters(b *testing.B) {
	site := &core.Site{ID: "big", Name: "ZEV Gross", Timezone: "Europe/Zurich", Allocation: core.AllocProportional,
		Operator: core.Operator{Name: "Immo Muster AG"}}
	site.Meters = append(site.Meters, core.Meter{ID: "PV", Role: core.RoleProduction}, core.Meter{ID: "GRID", Role: core.RoleGrid})
	for i := range 48 {
		u := fmt.Sprintf("W%02d", i+1)
		site.Units = append(site.Units, core.Unit{ID: u})
		site.Meters = append(site.Meters, core.Meter{ID: "M-" + u, Role: core.RoleUnit, Unit: u})
	}
	site.Tariffs = []core.Tariff{{From: core.MustDate(2025, 1, 1), Solar: 200_000, Grid: 300_000}}
	p := core.Period{From: core.MustDate(2025, 1, 1), To: core.MustDate(2025, 12, 31)}
	from, to := p.Slots(site.Location())
	n := int(to - from)
	series := func(seed int) store.Series {
		s := store.Series{From: from, Energy: make([]core.Energy, n), Quality: make([]store.Quality, n)}
		for i := range n {
			s.Energy[i] = core.Energy((i*7919+seed*104729)%250_000 + 1)
			s.Quality[i] = store.Measured
		}
		return s
	}
	in := &billing.Input{Site: site, Period: p, Data: map[string]billing.MeterData{}}
	for i, m := range site.Meters {
		switch m.Role {
		case core.RoleProduction:
			in.Data[m.ID] = billing.MeterData{Export: series(i)}
		case core.RoleGrid:
			in.Data[m.ID] = billing.MeterData{Import: series(i), Export: series(i + 100)}
		default:
			in.Data[m.ID] = billing.MeterData{Import: series(i)}
		}
	}
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // sample the heap while the workbook is written
		defer close(done)
		var ms runtime.MemStats
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.Sys-ms.HeapReleased)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteDataWorkbook(io.Discard, in, "de"); err != nil {
			b.Fatal(err)
		}
	}
	close(stop)
	<-done
	b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
	b.ReportMetric(float64(n), "slots")
}
