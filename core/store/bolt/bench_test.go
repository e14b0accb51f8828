package bolt_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// The benchmark site: a year of 15-minute data for 100 meters in Wh
// resolution, as a gateway or an SDAT delivery would bring it: 90 household
// meters (import) and 10 PV plants (export).
const (
	benchMeters = 100
	benchPV     = 10
	benchDays   = 365
	benchSlots  = benchDays * core.SlotsPerUTCDay
)

var benchStart = core.MustDate(2025, 1, 1).FirstSlot(time.UTC)

type yearData struct {
	ids []store.SeriesID
	wh  [][]int32 // per meter, per slot, Wh
}

var (
	yearOnce sync.Once
	year     yearData
)

// benchYear generates the benchmark data once, deterministically.
func benchYear() *yearData {
	yearOnce.Do(func() {
		rng := rand.New(rand.NewPCG(2026, 11))
		for m := range benchMeters {
			id := store.SeriesID{Site: "bench", Meter: fmt.Sprintf("M%03d", m), Channel: store.Import}
			vals := make([]int32, benchSlots)
			if m >= benchMeters-benchPV {
				id.Channel = store.Export
				peak := 800 + rng.Float64()*1500 // Wh per 15 min at noon in June
				for d := range benchDays {
					season := 0.55 + 0.45*math.Cos(2*math.Pi*float64(d-172)/365)
					cloud := 0.3 + 0.7*rng.Float64()
					for s := range core.SlotsPerUTCDay {
						h := float64(s) / 4 // UTC hour; solar noon ~11:30 UTC in Switzerland
						half := 4 + 4*season
						x := (h - 11.5) / half
						if x <= -1 || x >= 1 {
							continue
						}
						v := peak * season * cloud * math.Cos(x*math.Pi/2) * (0.9 + 0.2*rng.Float64())
						vals[d*core.SlotsPerUTCDay+s] = int32(v)
					}
				}
			} else {
				base := 40 + rng.Float64()*60
				for i := range vals {
					h := float64(i%core.SlotsPerUTCDay) / 4
					// Morning and evening peaks on a base load, with noise.
					peak := 120*math.Exp(-(h-6)*(h-6)/2) + 220*math.Exp(-(h-18)*(h-18)/4)
					v := base + peak*(0.5+rng.Float64()) + rng.NormFloat64()*25
					vals[i] = int32(max(v, 0))
				}
			}
			year.ids = append(year.ids, id)
			year.wh = append(year.wh, vals)
		}
	})
	return &year
}

// importYear writes the year in time order, one call per meter and day, in
// one transaction, and returns the number of values written.
func importYear(b testing.TB, st store.Store, y *yearData, meters int) int {
	var buf [core.SlotsPerUTCDay]store.Value
	n := 0
	err := st.Update(func(tx store.Tx) error {
		for d := range benchDays {
			for m := range meters {
				wh := y.wh[m][d*core.SlotsPerUTCDay:]
				for i := range buf {
					s := benchStart + core.Slot(d*core.SlotsPerUTCDay+i)
					buf[i] = store.Value{Slot: s, Energy: core.Energy(wh[i]) * core.Wh, Quality: store.Measured}
				}
				res, err := tx.PutIntervals(y.ids[m], buf[:], store.KeepFirst)
				if err != nil {
					return err
				}
				n += res.Written
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// sizes returns the bytes in use (what a backup or compaction writes) and
// the size of the file, which bbolt grows ahead in chunks.
func sizes(b testing.TB, st *bolt.Store) (used, file int64) {
	used, err := st.Backup(discard{})
	if err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(st.Path())
	if err != nil {
		b.Fatal(err)
	}
	return used, fi.Size()
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Results of BenchmarkImport, for BenchmarkImportSQLite's comparison.
var bboltRate, bboltBytes float64

// BenchmarkImport imports a year of 100 meters into a new database and
// reports the throughput and the bytes per value in use on disk.
func BenchmarkImport(b *testing.B) {
	y := benchYear()
	var used, file float64
	// The rate is over every iteration, not the last one alone: on a
	// shared machine one iteration can take twice as long as the next.
	var total int
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "bench.db")
		st, err := bolt.Open(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		n := importYear(b, st, y, benchMeters)
		elapsed += time.Since(start)
		total += n
		b.StopTimer()
		u, f := sizes(b, st)
		used, file = float64(u)/float64(n), float64(f)/float64(n)
		st.Close()
		b.StartTimer()
	}
	rate := float64(total) / elapsed.Seconds()
	bboltRate, bboltBytes = rate, used
	b.ReportMetric(rate, "values/s")
	b.ReportMetric(used, "bytes/value")
	b.ReportMetric(file, "file-bytes/value")
}

// BenchmarkImportDaily imports the same year as a gateway would deliver it:
// one transaction per day (with fsync), which splits pages more often.
func BenchmarkImportDaily(b *testing.B) {
	y := benchYear()
	var used, file float64
	var total int
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		st, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		n := 0
		var buf [core.SlotsPerUTCDay]store.Value
		for d := range benchDays {
			err := st.Update(func(tx store.Tx) error {
				for m := range benchMeters {
					wh := y.wh[m][d*core.SlotsPerUTCDay:]
					for i := range buf {
						buf[i] = store.Value{Slot: benchStart + core.Slot(d*core.SlotsPerUTCDay+i), Energy: core.Energy(wh[i]) * core.Wh, Quality: store.Measured}
					}
					res, err := tx.PutIntervals(y.ids[m], buf[:], store.KeepFirst)
					if err != nil {
						return err
					}
					n += res.Written
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(start)
		total += n
		b.StopTimer()
		u, f := sizes(b, st)
		used, file = float64(u)/float64(n), float64(f)/float64(n)
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "values/s")
	b.ReportMetric(used, "bytes/value")
	b.ReportMetric(file, "file-bytes/value")
}

// BenchmarkReadYear reads one site's year: 100 meters × 35,040 values, warm.
func BenchmarkReadYear(b *testing.B) {
	y := benchYear()
	st, err := bolt.Open(filepath.Join(b.TempDir(), "read.db"), &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	importYear(b, st, y, benchMeters)
	sers := make([]store.Series, benchMeters)
	read := func() {
		err := st.View(func(tx store.Tx) error {
			for m, id := range y.ids {
				if err := tx.ReadIntervals(id, benchStart, benchStart+benchSlots, &sers[m]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	read() // warm: pages mapped and cached
	// Spot-check what was read.
	for m := range y.ids {
		if got, want := sers[m].Energy[1234], core.Energy(y.wh[m][1234])*core.Wh; got != want || sers[m].Quality[1234] != store.Measured {
			b.Fatalf("meter %d slot 1234: read %d, want %d", m, got, want)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		read()
	}
	b.ReportMetric(float64(benchMeters*benchSlots)*float64(b.N)/b.Elapsed().Seconds(), "values/s")
}

// BenchmarkNaiveLayout stores 10 meters' year with one key per value
// (meter, channel, slot → energy, quality): the layout the day blocks
// replace, for its bytes per value.
func BenchmarkNaiveLayout(b *testing.B) {
	y := benchYear()
	const meters = 10
	var used float64
	for b.Loop() {
		b.StopTimer()
		db, err := bbolt.Open(filepath.Join(b.TempDir(), "naive.db"), 0o600, &bbolt.Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n := 0
		err = db.Update(func(tx *bbolt.Tx) error {
			bk, err := tx.CreateBucket([]byte("iv"))
			if err != nil {
				return err
			}
			bk.FillPercent = 0.95 // as for the day blocks: appends
			for m := range meters {
				id := y.ids[m]
				for i, wh := range y.wh[m] {
					k := append([]byte(id.Meter), 0, byte(id.Channel))
					k = binary.BigEndian.AppendUint64(k, uint64(benchStart)+uint64(i))
					v := binary.AppendVarint(nil, int64(wh)*1000)
					v = append(v, byte(store.Measured))
					if err := bk.Put(k, v); err != nil {
						return err
					}
					n++
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		err = db.View(func(tx *bbolt.Tx) error { used = float64(tx.Size()) / float64(n); return nil })
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(used, "bytes/value")
}

// BenchmarkImportSQLite imports the same year into SQLite with Debian's
// sqlite3 command-line shell: a WITHOUT ROWID table keyed by (meter, time),
// loaded from CSV in one transaction. It reports values/s and bytes/value
// of the SQLite file, and how bbolt compares.
func BenchmarkImportSQLite(b *testing.B) {
	sqlite, err := exec.LookPath("sqlite3")
	if err != nil {
		b.Skip("sqlite3 not installed (Debian: apt-get install sqlite3); skipping the SQLite comparison")
	}
	y := benchYear()
	dir := b.TempDir()
	csvPath := filepath.Join(dir, "year.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var line []byte
	for m, id := range y.ids {
		for i, wh := range y.wh[m] {
			line = append(line[:0], id.Meter...)
			line = append(line, ',')
			line = strconv.AppendInt(line, int64(benchStart)+int64(i), 10)
			line = append(line, ',')
			line = strconv.AppendInt(line, int64(wh)*1000, 10)
			line = append(line, ",1\n"...)
			w.Write(line)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	n := benchMeters * benchSlots
	var size float64
	var total int
	var elapsed time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		db := filepath.Join(dir, fmt.Sprintf("sqlite-%d.db", i))
		schema := "CREATE TABLE iv(meter TEXT NOT NULL, time INTEGER NOT NULL, energy INTEGER NOT NULL, quality INTEGER NOT NULL, PRIMARY KEY(meter, time)) WITHOUT ROWID;"
		if out, err := exec.Command(sqlite, db, schema).CombinedOutput(); err != nil {
			b.Fatalf("sqlite3: %v\n%s", err, out)
		}
		b.StartTimer()
		start := time.Now()
		out, err := exec.Command(sqlite, db, "-cmd", ".mode csv", ".import "+csvPath+" iv").CombinedOutput()
		el := time.Since(start)
		b.StopTimer()
		if err != nil || len(out) > 0 {
			b.Fatalf("sqlite3 .import: %v\n%s", err, out)
		}
		elapsed += el
		total += n
		fi, err := os.Stat(db)
		if err != nil {
			b.Fatal(err)
		}
		size = float64(fi.Size()) / float64(n)
		cnt, err := exec.Command(sqlite, db, "SELECT count(*) FROM iv").Output()
		if err != nil || string(cnt) != strconv.Itoa(n)+"\n" {
			b.Fatalf("sqlite3 holds %q rows (%v), want %d", cnt, err, n)
		}
		os.Remove(db)
		b.StartTimer()
	}
	rate := float64(total) / elapsed.Seconds()
	b.ReportMetric(rate, "values/s")
	b.ReportMetric(size, "bytes/value")
	if bboltRate > 0 {
		b.ReportMetric(bboltRate/rate, "bbolt-speedup")
		b.ReportMetric(size/bboltBytes, "sqlite/bbolt-size")
		b.Logf("import of 100 meters x 1 year: bbolt %.2fM values/s, %.2f bytes/value; sqlite3 %.2fM values/s, %.2f bytes/value; bbolt is %.1fx faster and %.1fx smaller",
			bboltRate/1e6, bboltBytes, rate/1e6, size, bboltRate/rate, size/bboltBytes)
	} else {
		b.Logf("run BenchmarkImport in the same run (-bench 'Import') for the bbolt/SQLite ratios")
	}
}
