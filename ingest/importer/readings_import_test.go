package importer

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/vee"
)

// openStore opens a real bbolt file under t.TempDir() and checks its
// consistency when the test ends.
func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "office.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Check(); err != nil {
			t.Errorf("store check: %v", err)
		}
		st.Close()
	})
	return st
}

// importClock is well after the readings, so nothing is "in the future".
var importClock = core.FixedClock(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))

func siteInStore(t *testing.T, st store.Store) *core.Site {
	t.Helper()
	site := readingsSite(t)
	if _, err := ImportSite(st, site, "test", time.Time(importClock)); err != nil {
		t.Fatal(err)
	}
	return site
}

func parseCSV(t *testing.T, site *core.Site, src string) *Readings {
	t.Helper()
	rd, err := ParseReadingsCSV("r.csv", strings.NewReader(src), site)
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

func readSeries(t *testing.T, st store.Store, meter string, ch store.Channel, from core.Slot, n int) store.Series {
	t.Helper()
	var s store.Series
	err := st.View(func(tx store.Tx) error {
		return tx.ReadIntervals(store.SeriesID{Site: "test", Meter: meter, Channel: ch}, from, from+core.Slot(n), &s)
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const intervalsCSV = "meter,start,kwh_in,kwh_out\n" +
	"M1,2026-01-01T00:00:00Z,0.25,\n" +
	"M1,2026-01-01T00:15:00Z,0.125,\n" +
	"M2,2026-01-01T00:00:00Z,0.5,\n" +
	"GRID,2026-01-01T00:00:00Z,0.75,0.001\n"

func TestImportReadingsIdempotent(t *testing.T) {
	st := openStore(t)
	site := siteInStore(t, st)
	opt := vee.Options{Clock: importClock, Actor: "test"}
	rep, err := ImportReadings(st, site, parseCSV(t, site, intervalsCSV), opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Written != 5 || rep.Unchanged != 0 || len(rep.Conflicts) != 0 {
		t.Errorf("first import: %s, want 5 written", rep.Summary())
	}
	s0 := slotAt(t, "2026-01-01T00:00:00Z")
	got := readSeries(t, st, "M1", store.Import, s0, 2)
	if got.Energy[0] != 250*core.Wh || got.Energy[1] != 125*core.Wh || got.Quality[0] != store.Measured {
		t.Errorf("M1 = %v %v, want 0.25 and 0.125 kWh measured", got.Energy, got.Quality)
	}
	if g := readSeries(t, st, "GRID", store.Export, s0, 1); g.Energy[0] != core.Wh {
		t.Errorf("GRID export = %v, want 1 Wh", g.Energy)
	}

	rep, err = ImportReadings(st, site, parseCSV(t, site, intervalsCSV), opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Written != 0 || rep.Unchanged != 5 || len(rep.Conflicts) != 0 || rep.Replaced != 0 {
		t.Errorf("second import: %s, want 0 written, 5 unchanged", rep.Summary())
	}
	if want := "r.csv: 4 rows, 0 values written, 5 unchanged, 0 conflicts, 0 flags"; rep.Summary() != want {
		t.Errorf("summary = %q, want %q", rep.Summary(), want)
	}
	// The repeated import left no trace in the audit log.
	var actions []string
	st.View(func(tx store.Tx) error {
		return tx.ScanAudit(0, func(e store.Entry) bool { actions = append(actions, e.Action); return true })
	})
	if strings.Join(actions, ",") != "site.import,readings.import" {
		t.Errorf("audit = %v, want site.import, readings.import", actions)
	}
}

func TestImportReadingsConflictKeepsStoredValue(t *testing.T) {
	st := openStore(t)
	site := siteInStore(t, st)
	opt := vee.Options{Clock: importClock}
	if _, err := ImportReadings(st, site, parseCSV(t, site, intervalsCSV), opt); err != nil {
		t.Fatal(err)
	}
	second := "meter,start,kwh_in\n" +
		"M1,2026-01-01T00:30:00Z,0.1\n" +
		"M1,2026-01-01T00:15:00Z,0.2\n" + // stored: 0.125
		"M2,2026-01-01T00:00:00Z,0.5\n"
	rep, err := ImportReadings(st, site, parseCSV(t, site, second), opt)
	if err != nil {
		t.Fatalf("a conflict is not an error: %v", err)
	}
	if rep.Written != 1 || rep.Unchanged != 1 || len(rep.Conflicts) != 1 {
		t.Fatalf("%s, want 1 written, 1 unchanged, 1 conflict", rep.Summary())
	}
	c := rep.Conflicts[0]
	if c.Line != 3 || c.Meter != "M1" || c.Stored != 125*core.Wh || c.Incoming != 200*core.Wh {
		t.Errorf("conflict = %+v", c)
	}
	if want := "line 3: meter M1 import at 2026-01-01T00:15:00Z: 0.200 kWh differs from the stored 0.125 kWh (kept)"; c.String() != want {
		t.Errorf("conflict = %q\nwant       %q", c.String(), want)
	}
	got := readSeries(t, st, "M1", store.Import, slotAt(t, "2026-01-01T00:15:00Z"), 2)
	if got.Energy[0] != 125*core.Wh || got.Energy[1] != 100*core.Wh {
		t.Errorf("M1 = %v, want the stored 0.125 kept and 0.1 added", got.Energy)
	}
}

// TestImportReadingsOneTransaction: a file that fails part-way (here on a
// billed, locked period) writes nothing at all.
func TestImportReadingsOneTransaction(t *testing.T) {
	st := openStore(t)
	site := siteInStore(t, st)
	err := st.Update(func(tx store.Tx) error {
		return tx.LockPeriod(store.Lock{Site: "test", Period: core.Period{From: core.MustDate(2026, 2, 1), To: core.MustDate(2026, 2, 28)}})
	})
	if err != nil {
		t.Fatal(err)
	}
	src := "meter,start,kwh_in\n" +
		"GRID,2026-01-15T00:00:00Z,1\n" + // fine, and stored first (meters in order)
		"M1,2026-02-10T00:00:00Z,1\n" // locked
	_, err = ImportReadings(st, site, parseCSV(t, site, src), vee.Options{Clock: importClock})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "r.csv") {
		t.Errorf("err = %v, want it to name the file", err)
	}
	if g := readSeries(t, st, "GRID", store.Import, slotAt(t, "2026-01-15T00:00:00Z"), 1); g.Quality[0] != store.Missing {
		t.Errorf("GRID was stored (%v) although the file failed", g.Energy)
	}
}

func TestImportReadingsRegisters(t *testing.T) {
	st := openStore(t)
	site := siteInStore(t, st)
	src := "meter,time,register_in_kwh\n" +
		"M1,2026-01-01T00:00:00Z,100\n" +
		"M1,2026-01-01T00:15:00Z,100.25\n" +
		"M1,2026-01-01T01:30:00+01:00,100.5\n"
	opt := vee.Options{Clock: importClock}
	rep, err := ImportReadings(st, site, parseCSV(t, site, src), opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Written < 2 || len(rep.Conflicts) != 0 {
		t.Errorf("%s, want 2 intervals written", rep.Summary())
	}
	got := readSeries(t, st, "M1", store.Import, slotAt(t, "2026-01-01T00:00:00Z"), 2)
	if got.Energy[0] != 250*core.Wh || got.Energy[1] != 250*core.Wh {
		t.Errorf("derived = %v, want 0.25 kWh twice", got.Energy)
	}
	again, err := ImportReadings(st, site, parseCSV(t, site, src), opt)
	if err != nil {
		t.Fatal(err)
	}
	if again.Written != 0 || again.Replaced != 0 || len(again.Conflicts) != 0 {
		t.Errorf("second import: %s, want nothing written", again.Summary())
	}
	// A different reading at a stored instant is a conflict naming its line.
	bad := "meter,time,register_in_kwh\nM1,2026-01-01T00:15:00Z,100.3\n"
	rep, err = ImportReadings(st, site, parseCSV(t, site, bad), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Conflicts) != 1 || rep.Conflicts[0].Line != 2 {
		t.Errorf("conflicts = %v, want one on line 2", rep.Conflicts)
	}
}

func TestImportSiteCreatesThenUpdates(t *testing.T) {
	st := openStore(t)
	site, err := ParseSite("site.toml", strings.NewReader(designSite))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	created, err := ImportSite(st, site, "anna", now)
	if err != nil || !created {
		t.Fatalf("first import: created=%v err=%v", created, err)
	}
	edited := strings.Replace(designSite, "[[tenants]]", "[[units]]\nid = \"W02\"\narea_m2 = 80\n\n[[tenants]]", 1)
	edited = strings.Replace(edited, `name = "ZEV Birkenweg 12"`, `name = "ZEV Birkenweg 12-14"`, 1)
	site2, err := ParseSite("site.toml", strings.NewReader(edited))
	if err != nil {
		t.Fatal(err)
	}
	created, err = ImportSite(st, site2, "anna", now.Add(time.Hour))
	if err != nil || created {
		t.Fatalf("second import: created=%v err=%v", created, err)
	}
	var stored *core.Site
	var entries []store.Entry
	st.View(func(tx store.Tx) error {
		stored, err = tx.Site("birkenweg")
		return tx.ScanAudit(0, func(e store.Entry) bool { entries = append(entries, e); return true })
	})
	if err != nil || stored.Name != "ZEV Birkenweg 12-14" || len(stored.Units) != 2 || stored.Tariffs[0].Solar != 200_000 {
		t.Fatalf("stored = %+v, err %v", stored, err)
	}
	if len(entries) != 2 {
		t.Fatalf("audit = %+v", entries)
	}
	if e := entries[0]; e.Action != "site.import" || e.Actor != "anna" || e.Site != "birkenweg" || !e.Time.Equal(now) ||
		e.Detail != "1 units, 4 meters, 1 tenants, 1 tariffs" {
		t.Errorf("first entry = %+v", e)
	}
	if e := entries[1]; e.Action != "site.update" || e.Detail != "name changed; units +W02" {
		t.Errorf("second entry = %+v, want site.update with \"name changed; units +W02\"", e)
	}
}

func TestImportSiteRefusesInvalidSite(t *testing.T) {
	st := openStore(t)
	site := readingsSite(t)
	site.Meters[2].Unit = "W9"
	_, err := ImportSite(st, site, "test", time.Time(importClock))
	var ve *core.ValidationError
	if !errors.As(err, &ve) || ve.Element != "meters[2].unit" {
		t.Fatalf("err = %v, want a validation error on meters[2].unit", err)
	}
	st.View(func(tx store.Tx) error {
		if ids, _ := tx.SiteIDs(); len(ids) != 0 {
			t.Errorf("an invalid site was stored: %v", ids)
		}
		return nil
	})
}

func TestSiteDiff(t *testing.T) {
	a, err := ParseSite("a.toml", strings.NewReader(designSite))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ParseSite("b.toml", strings.NewReader(strings.NewReplacer(
		`id = "ALLG"`, `id = "ALLGEMEIN"`,
		`area_m2 = 62.5`, `area_m2 = 63`,
		`to = 2026-02-14`, `to = 2026-03-31`,
		`vat_percent = 8.1`, "vat_percent = 8.1\n[[tariffs]]\nfrom = 2027-01-01\ngrid_chf_kwh = 0.3",
	).Replace(designSite)))
	want := "units ~W01; meters +ALLGEMEIN -ALLG; tenants 1→1 changed; tariffs +2027-01-01"
	if got := SiteDiff(a, b); got != want {
		t.Errorf("diff = %q\nwant   %q", got, want)
	}
	if got := SiteDiff(a, a); got != "no changes" {
		t.Errorf("diff of a site with itself = %q", got)
	}
}

// TestImportRegistersOverIntervalsConflictsOnce: register readings whose
// derived energy differs from interval data stored earlier report each
// differing interval once, naming the reading's line, and keep the stored
// values.
func TestImportRegistersOverIntervalsConflictsOnce(t *testing.T) {
	st := openStore(t)
	site := siteInStore(t, st)
	opt := vee.Options{Clock: importClock}
	if _, err := ImportReadings(st, site, parseCSV(t, site, intervalsCSV), opt); err != nil {
		t.Fatal(err)
	}
	// M1 has 0.25 and 0.125 kWh stored at 00:00 and 00:15; the readings
	// give 0.2 and 0.125.
	src := "meter,time,register_in_kwh\n" +
		"M1,2026-01-01T00:00:00Z,100\n" +
		"M1,2026-01-01T00:15:00Z,100.2\n" +
		"M1,2026-01-01T00:30:00Z,100.325\n"
	rep, err := ImportReadings(st, site, parseCSV(t, site, src), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Conflicts) != 1 {
		t.Fatalf("%s\nconflicts %v, want exactly one (00:00)", rep.Summary(), rep.Conflicts)
	}
	c := rep.Conflicts[0]
	if c.Line != 2 || c.Stored != 250*core.Wh || c.Incoming != 200*core.Wh {
		t.Errorf("conflict = %+v, want line 2, stored 0.25, incoming 0.2", c)
	}
	if rep.Unchanged != 1 {
		t.Errorf("%s, want the 00:15 interval unchanged", rep.Summary())
	}
	if got := readSeries(t, st, "M1", store.Import, slotAt(t, "2026-01-01T00:00:00Z"), 1); got.Energy[0] != 250*core.Wh {
		t.Errorf("M1 00:00 = %v, want the stored 0.25 kWh kept", got.Energy)
	}
}

// TestImportSparseReadingsOverIntervals: readings hours apart around measured
// interval data give estimates that the measurements beat: no conflicts, no
// flags, the measurements kept and counted.
func TestImportSparseReadingsOverIntervals(t *testing.T) {
	st := openStore(t)
	site := siteInStore(t, st)
	opt := vee.Options{Clock: importClock}
	if _, err := ImportReadings(st, site, parseCSV(t, site, intervalsCSV), opt); err != nil {
		t.Fatal(err)
	}
	// M1: 0.25 and 0.125 kWh measured at 00:00 and 00:15; readings an hour
	// apart make estimates of 0.1 kWh per interval.
	src := "meter,time,register_in_kwh\n" +
		"M1,2026-01-01T00:00:00Z,100\n" +
		"M1,2026-01-01T01:00:00Z,100.4\n"
	rep, err := ImportReadings(st, site, parseCSV(t, site, src), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Conflicts) != 0 || len(rep.Flags) != 2 || rep.MeasuredKept != 2 {
		t.Errorf("%s, conflicts %v, flags %v: want no conflicts, the 2 measured intervals kept, gap flags on the 2 estimated ones only",
			rep.Summary(), rep.Conflicts, rep.Flags)
	}
	for _, f := range rep.Flags {
		if f.Kind != vee.KindGap || f.Slot < slotAt(t, "2026-01-01T00:30:00Z") {
			t.Errorf("flag %+v, want gap flags from 00:30 on", f)
		}
	}
	got := readSeries(t, st, "M1", store.Import, slotAt(t, "2026-01-01T00:00:00Z"), 4)
	want := []core.Energy{250 * core.Wh, 125 * core.Wh, 100 * core.Wh, 100 * core.Wh}
	wantQ := []store.Quality{store.Measured, store.Measured, store.Estimated, store.Estimated}
	for i := range want {
		if got.Energy[i] != want[i] || got.Quality[i] != wantQ[i] {
			t.Errorf("M1 slot %d = %v %v, want %v %v", i, got.Energy[i], got.Quality[i], want[i], wantQ[i])
		}
	}
}
