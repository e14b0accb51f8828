package bolt_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/store/mem"
)

// TestRecordsRegistersMatchMem writes the same random batches of records and
// register readings to the bbolt store and the in-memory one: batches in
// order and out of it, repeating numbers and instants, overlapping what is
// stored, across record blocks, with times and values at the extremes. Both
// must answer the same (new counts, conflicts in order) and hold the same.
func TestRecordsRegistersMatchMem(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 11))
	b := openTemp(t)
	defer b.Close()
	m := mem.New()
	stores := []store.Store{b, m}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	sources := []string{"gw", "gw2", "g"}
	meters := []string{"A", "AB", "B", ""}
	times := func() time.Time {
		switch rng.IntN(20) {
		case 0:
			return time.Time{}
		case 1:
			return time.Unix(-1<<40, 999_999_999).UTC()
		case 2:
			return t0.Add(time.Duration(rng.IntN(1000)) * time.Nanosecond)
		}
		return t0.Add(time.Duration(rng.IntN(3000)) * time.Minute).Add(time.Duration(rng.IntN(3)) * time.Millisecond)
	}
	energy := func() core.Energy {
		switch rng.IntN(10) {
		case 0:
			return core.Energy(-1 << 63)
		case 1:
			return core.Energy(1<<63 - 1)
		}
		return core.Energy(rng.Int64N(1e12))
	}
	for step := range 300 {
		var recs []store.Record
		seq := uint64(rng.IntN(700))
		if rng.IntN(10) == 0 {
			seq = 1<<64 - 1 - uint64(rng.IntN(300))
		}
		for range rng.IntN(400) {
			recs = append(recs, store.Record{Source: sources[rng.IntN(len(sources))], Seq: seq, Meter: meters[rng.IntN(len(meters))],
				Time: times(), Import: energy(), Export: energy()})
			seq += uint64(rng.IntN(3)) // repeats and gaps
		}
		if rng.IntN(3) == 0 {
			rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		}
		var regs []store.Register
		at := t0.Add(time.Duration(rng.IntN(2000)) * time.Minute)
		for range rng.IntN(300) {
			// Few distinct values, so that repeated instants are often
			// identical and sometimes not.
			regs = append(regs, store.Register{Time: at, Import: core.Energy(rng.IntN(2)), Export: core.Energy(rng.IntN(2))})
			at = at.Add(time.Duration(rng.IntN(3)) * 7 * time.Minute)
		}
		if rng.IntN(3) == 0 {
			rng.Shuffle(len(regs), func(i, j int) { regs[i], regs[j] = regs[j], regs[i] })
		}
		meter := meters[rng.IntN(3)]
		var got []string
		for _, st := range stores {
			var out string
			err := st.Update(func(tx store.Tx) error {
				n, err := tx.PutRecords(recs)
				if err != nil {
					return err
				}
				c, err := tx.PutRegisters("s", meter, regs)
				out = fmt.Sprintf("%d new records, conflicts %v", n, c)
				return err
			})
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			got = append(got, out)
		}
		if got[0] != got[1] {
			t.Fatalf("step %d: bolt: %s\nmem: %s", step, got[0], got[1])
		}
	}
	var dumps []string
	for _, st := range stores {
		var sb strings.Builder
		err := st.View(func(tx store.Tx) error {
			for _, src := range sources {
				for _, after := range []uint64{0, 1, 126, 127, 128, 500, 1<<64 - 200} {
					fmt.Fprintf(&sb, "%s after %d:\n", src, after)
					if err := tx.ScanRecords(src, after, func(r store.Record) bool { fmt.Fprintf(&sb, "%+v\n", r); return true }); err != nil {
						return err
					}
				}
			}
			for _, m := range meters[:3] {
				err := tx.ScanRegisters("s", m, time.Time{}, t0.Add(1000*time.Hour), func(r store.Register) bool {
					fmt.Fprintf(&sb, "%s %+v\n", m, r)
					return true
				})
				if err != nil {
					return err
				}
				// The neighbours of instants on, next to and between
				// readings, at midnight and far out.
				probes := []time.Time{time.Time{}, time.Unix(1<<50, 0), t0.Add(-time.Nanosecond)}
				for d := range 5 {
					day := t0.AddDate(0, 0, d)
					probes = append(probes, day, day.Add(-time.Nanosecond), day.Add(time.Nanosecond))
				}
				for k := range 200 {
					at := t0.Add(time.Duration(k) * 17 * time.Minute)
					probes = append(probes, at, at.Add(time.Nanosecond), at.Add(-time.Nanosecond))
				}
				for _, at := range probes {
					r, err := tx.RegisterBefore("s", m, at)
					fmt.Fprintf(&sb, "%s before %s: %+v %v\n", m, at, r, err)
					r, err = tx.RegisterAtOrAfter("s", m, at)
					fmt.Fprintf(&sb, "%s at or after %s: %+v %v\n", m, at, r, err)
				}
				for k := range 50 {
					from := t0.Add(time.Duration(k) * 97 * time.Minute)
					to := from.Add(time.Duration(k) * 41 * time.Minute)
					n := 0
					err := tx.ScanRegisters("s", m, from, to, func(r store.Register) bool {
						fmt.Fprintf(&sb, "%s [%s, %s): %+v\n", m, from, to, r)
						n++
						return n < 30
					})
					if err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		dumps = append(dumps, sb.String())
	}
	if dumps[0] != dumps[1] {
		t.Errorf("contents differ:\nbolt %d bytes, mem %d bytes", len(dumps[0]), len(dumps[1]))
		a, c := strings.Split(dumps[0], "\n"), strings.Split(dumps[1], "\n")
		for i := range min(len(a), len(c)) {
			if a[i] != c[i] {
				t.Fatalf("first difference at line %d:\nbolt: %s\nmem:  %s", i, a[i], c[i])
			}
		}
	}
}

// TestRecordsRoundTrip checks that a record comes back exactly as stored,
// time zone and all, whatever block it falls in.
func TestRecordsRoundTrip(t *testing.T) {
	st := openTemp(t)
	defer st.Close()
	zurich, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		t.Skip("no time zone data")
	}
	in := []store.Record{
		{Source: "gw", Seq: 127, Meter: "M1", Time: time.Date(2026, 7, 1, 12, 0, 0, 123_000_000, zurich), Import: 5, Export: -3},
		{Source: "gw", Seq: 128, Meter: "M2", Time: time.Date(2026, 7, 1, 12, 0, 1, 7, zurich), Import: 1 << 40},
	}
	if err := st.Update(func(tx store.Tx) error { _, err := tx.PutRecords(in); return err }); err != nil {
		t.Fatal(err)
	}
	var out []store.Record
	err = st.View(func(tx store.Tx) error {
		return tx.ScanRecords("gw", 0, func(r store.Record) bool { out = append(out, r); return true })
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i].Time = in[i].Time.UTC()
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("ScanRecords = %+v, want %+v", out, in)
	}
}

// TestCheckFindsCorruptRecordBlock damages a block of records behind the
// store's back: Check names it and ScanRecords fails instead of returning
// wrong records.
func TestCheckFindsCorruptRecordBlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zevdesk.db")
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var recs []store.Record
	for s := uint64(1); s <= 300; s++ {
		recs = append(recs, store.Record{Source: "gw-7", Seq: s, Meter: "M", Time: time.Unix(int64(s)*900, 0), Import: core.Energy(s)})
	}
	if err := st.Update(func(tx store.Tx) error { _, err := tx.PutRecords(recs); return err }); err != nil {
		t.Fatal(err)
	}
	if err := st.Check(); err != nil {
		t.Fatalf("Check of a sound file: %v", err)
	}
	st.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("records"))
		k := append([]byte("gw-7\x00"), 0, 0, 0, 0, 0, 0, 0, 1) // records 128..255
		v := b.Get(k)
		if v == nil {
			t.Fatalf("no block under %x", k)
		}
		return b.Put(k, append([]byte(nil), v[:len(v)-3]...))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	st, err = bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Check()
	if err == nil || !strings.Contains(err.Error(), "records gw-7/128..") {
		t.Errorf("Check = %v, want an error naming records gw-7/128..", err)
	}
	n := 0
	err = st.View(func(tx store.Tx) error {
		return tx.ScanRecords("gw-7", 0, func(store.Record) bool { n++; return true })
	})
	if err == nil || n != 127 {
		t.Errorf("ScanRecords over the damage: %d records, error %v; want the 127 before it and an error", n, err)
	}
}

// TestCheckFindsCorruptRegisterBlock damages a day of register readings
// behind the store's back: Check names the meter and day, and a read of that
// day fails instead of returning wrong readings.
func TestCheckFindsCorruptRegisterBlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zevdesk.db")
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var rs []store.Register
	for i := range 3 * 96 {
		rs = append(rs, store.Register{Time: t0.Add(time.Duration(i) * 15 * time.Minute), Import: core.Energy(i) * core.Wh})
	}
	if err := st.Update(func(tx store.Tx) error { _, err := tx.PutRegisters("s", "M-1", rs); return err }); err != nil {
		t.Fatal(err)
	}
	if err := st.Check(); err != nil {
		t.Fatalf("Check of a sound file: %v", err)
	}
	st.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("registers"))
		k := binary.BigEndian.AppendUint32([]byte("s\x00M-1\x00"), uint32(t0.Unix()/86400+1+1<<31)) // 2 March
		v := b.Get(k)
		if v == nil {
			t.Fatalf("no block under %x", k)
		}
		return b.Put(k, append([]byte(nil), v[:len(v)-2]...))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	st, err = bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Check(); err == nil || !strings.Contains(err.Error(), "registers of s/M-1 on 2026-03-02") {
		t.Errorf("Check = %v, want an error naming registers of s/M-1 on 2026-03-02", err)
	}
	err = st.View(func(tx store.Tx) error {
		_, err := tx.RegisterBefore("s", "M-1", t0.AddDate(0, 0, 2).Add(-time.Second)) // reads the whole day
		return err
	})
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("RegisterBefore in the damaged day = %v, want an error", err)
	}
}
