package bolt_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// The batch benchmarks write what a gateway catch-up writes: pages of
// batchPage records of batchMeters meters read every 15 minutes, one
// transaction per page, into a fresh file without fsync (which would measure
// the disk). Each reports records per second and the bytes the file uses
// per record.
const (
	batchPage   = 10000
	batchMeters = 4
	batchPages  = 20
)

var (
	batchT0    = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	batchNames = [batchMeters]string{"M0", "M1", "M2", "M3"}
)

func openBatch(b *testing.B, i int) *bolt.Store {
	st, err := bolt.Open(filepath.Join(b.TempDir(), fmt.Sprintf("batch%d.db", i)), &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkPutRecords stores a catch-up's raw records.
func BenchmarkPutRecords(b *testing.B) {
	page := make([]store.Record, batchPage)
	n := 0
	var size float64 // bytes in use per record, empty pages included
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		st := openBatch(b, i)
		b.StartTimer()
		for p := range batchPages {
			for k := range page {
				s := uint64(p*batchPage + k)
				page[k] = store.Record{Source: "gw-1234", Seq: s + 1, Meter: batchNames[s%batchMeters],
					Time: batchT0.Add(time.Duration(s/batchMeters) * core.SlotDuration), Import: core.Energy(s) * 250 * core.Wh}
			}
			err := st.Update(func(tx store.Tx) error {
				_, err := tx.PutRecords(page)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			n += len(page)
		}
		b.StopTimer()
		used, _ := sizes(b, st)
		size = float64(used) / (batchPages * batchPage)
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(size, "bytes/record")
}

// BenchmarkScanRecords reads a catch-up's raw records back, as the gateway
// serves them.
func BenchmarkScanRecords(b *testing.B) {
	st := openBatch(b, 0)
	defer st.Close()
	page := make([]store.Record, batchPage)
	for p := range batchPages {
		for k := range page {
			s := uint64(p*batchPage + k)
			page[k] = store.Record{Source: "gw-1234", Seq: s + 1, Meter: batchNames[s%batchMeters],
				Time: batchT0.Add(time.Duration(s/batchMeters) * core.SlotDuration), Import: core.Energy(s) * 250 * core.Wh}
		}
		if err := st.Update(func(tx store.Tx) error { _, err := tx.PutRecords(page); return err }); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	for b.Loop() {
		err := st.View(func(tx store.Tx) error {
			return tx.ScanRecords("gw-1234", 0, func(store.Record) bool { n++; return true })
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkPutRegisters stores a catch-up's register readings, a page's
// readings of each meter in one call.
func BenchmarkPutRegisters(b *testing.B) {
	per := batchPage / batchMeters
	rs := make([]store.Register, per)
	n := 0
	var size float64 // bytes in use per reading, empty pages included
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		st := openBatch(b, i)
		b.StartTimer()
		for p := range batchPages {
			err := st.Update(func(tx store.Tx) error {
				for m := range batchMeters {
					for k := range rs {
						s := p*per + k
						rs[k] = store.Register{Time: batchT0.Add(time.Duration(s) * core.SlotDuration).Add(time.Duration(m) * time.Second),
							Import: core.Energy(s) * 250 * core.Wh}
					}
					if _, err := tx.PutRegisters("s", batchNames[m], rs); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			n += batchPage
		}
		b.StopTimer()
		used, _ := sizes(b, st)
		size = float64(used) / (batchPages * batchPage)
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(size, "bytes/record")
}
