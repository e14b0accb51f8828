package importer

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/shareddata"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
)

var eslRowRE = regexp.MustCompile(`obis="1-1:([12])\.8\.[12]" value="([^"]*)"`)

// TestESLRealExports reads the real ESL register exports and checks each
// period's import and export against the sum of the tariff registers read
// from the text.
func TestESLRealExports(t *testing.T) {
	dir := shareddata.Path(t, "sdat-ch/esl")
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	if len(files) != 3 {
		t.Fatalf("%d ESL files", len(files))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !IsESL(raw[:200]) {
			t.Errorf("%s: not recognised as ESL", f)
		}
		exp, err := ReadESLFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var want, got [2]core.Energy
		for _, m := range eslRowRE.FindAllStringSubmatch(string(raw), -1) {
			e, _ := core.ParseKWh(m[2])
			want[m[1][0]-'1'] += e
		}
		n := 0
		for _, m := range exp.Meters {
			for _, r := range m.Readings {
				got[0] += r.Import
				got[1] += r.Export
				n++
			}
		}
		if got != want || n != strings.Count(string(raw), `obis="1-1:1.8.1"`) {
			t.Errorf("%s: %d readings, import/export %v, text %v", filepath.Base(f), n, got, want)
		}
		if exp.Meters[0].FactoryNo != "38157930" {
			t.Errorf("meter %s", exp.Meters[0].FactoryNo)
		}
	}
}

// TestImportESL: two monthly readings of the grid meter give February's
// energy exactly, as estimates; the water meter is skipped.
func TestImportESL(t *testing.T) {
	path := shareddata.Path(t, "sdat-ch/esl/EdmRegisterWertExport_20190314_eslevu_20190314090341.xml")
	st := openStore(t)
	site := readingsSite(t)
	site.Timezone = "Europe/Zurich"
	site.Meters[1].MeteringPoint = "38157930"
	if _, err := ImportSite(st, site, "test", time.Time(importClock)); err != nil {
		t.Fatal(err)
	}
	exp, err := ReadESLFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ResolveESL(exp, site, "")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ImportESL(st, site, d, vee.Options{Clock: importClock})
	if err != nil {
		t.Fatal(err)
	}
	// February 2019 local: 28 days of 96 intervals, import and export.
	if rep.Readings != 2 || rep.Estimated != 2*28*96 || len(rep.Conflicts) != 0 {
		t.Errorf("%s", rep.Summary())
	}
	zurich, _ := time.LoadLocation("Europe/Zurich")
	from, to := core.Period{From: core.MustDate(2019, 2, 1), To: core.MustDate(2019, 2, 28)}.Slots(zurich)
	for ch, want := range map[store.Channel]core.Energy{
		store.Import: (6339700 + 17129000 - 5837200 - 16032000) * core.Wh,
		store.Export: (8348400 + 3611300 - 8258800 - 3544500) * core.Wh,
	} {
		s := readSeries(t, st, "GRID", ch, from, int(to-from))
		var sum core.Energy
		for i, q := range s.Quality {
			if q != store.Estimated {
				t.Fatalf("%s slot %d: %s", ch, i, q)
			}
			sum += s.Energy[i]
		}
		if sum != want {
			t.Errorf("%s: %s over February, want %s", ch, sum, want)
		}
	}
	// Again: nothing new.
	if rep, err = ImportESL(st, site, d, vee.Options{Clock: importClock}); err != nil || rep.Written+rep.Replaced != 0 || len(rep.Conflicts) != 0 {
		t.Errorf("again: %v %s", err, rep.Summary())
	}
	// A reading that differs from the stored one is kept out, with its line.
	raw, _ := os.ReadFile(path)
	changed, err := ParseESL("changed.xml", strings.NewReader(strings.Replace(string(raw), `"6339.7000"`, `"6340.7000"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if d, err = ResolveESL(changed, site, ""); err != nil {
		t.Fatal(err)
	}
	rep, err = ImportESL(st, site, d, vee.Options{Clock: importClock})
	if err != nil || len(rep.Conflicts) != 1 {
		t.Fatalf("changed: %v %+v", err, rep)
	}
	if want := "line 5: meter GRID at 2019-02-28T23:00:00Z: reading at 2019-02-28T23:00:00Z: import 23469.700 kWh, export 11959.700 kWh differ from the stored 23468.700 kWh, 11959.700 kWh (kept)"; rep.Conflicts[0].String() != want {
		t.Errorf("conflict\n got %s\nwant %s", rep.Conflicts[0], want)
	}
}

func TestESLErrors(t *testing.T) {
	site := readingsSite(t)
	for _, c := range []struct{ name, src, want string }{
		{"not ESL", `<Other/>`, `e.xml:1: Other: expected an ESL register export with the root element ESLBillingData, got <Other>`},
		{"bad value", "<ESLBillingData>\n<Meter factoryNo=\"1\">\n<TimePeriod end=\"2019-10-01T00:00:00\">\n<ValueRow obis=\"1-1:1.8.1\" value=\"8109,5\"/>\n</TimePeriod></Meter></ESLBillingData>",
			`e.xml:4: ValueRow 1-1:1.8.1: expected a register reading in kWh (a decimal with a point, zero or more), got "8109,5"`},
		{"no number", "<ESLBillingData>\n<Meter>\n</Meter></ESLBillingData>", `e.xml:2: Meter: expected the attribute factoryNo (the meter's number)`},
	} {
		_, err := ParseESL("e.xml", strings.NewReader(c.src))
		var e *Error
		if !errors.As(err, &e) || err.Error() != c.want {
			t.Errorf("%s:\n got %v\nwant %s", c.name, err, c.want)
		}
	}
	exp, err := ParseESL("e.xml", strings.NewReader("<ESLBillingData>\n<Meter factoryNo=\"77\">\n<TimePeriod end=\"2019-10-01T00:00:00\">\n<ValueRow obis=\"1-1:1.8.0\" value=\"5\"/>\n</TimePeriod></Meter></ESLBillingData>"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ResolveESL(exp, site, ""); err == nil || err.Error() != `e.xml:2: Meter 77: unknown meter number 77: no meter of site test has metering_point = "77" (set it in the site file, or name the meter with --meter)` {
		t.Errorf("unknown meter: %v", err)
	}
}

// TestImportESLOverMeasured: monthly readings around a day with an SDAT-CH
// delivery leave the measured day as it is and raise no duplicate flags.
func TestImportESLOverMeasured(t *testing.T) {
	st := openStore(t)
	site := readingsSite(t)
	site.Timezone = "Europe/Zurich"
	site.Meters[1].MeteringPoint = "77"
	if _, err := ImportSite(st, site, "test", time.Time(importClock)); err != nil {
		t.Fatal(err)
	}
	day := sdatDoc("2026-03-05T00:00:00Z", "2026-03-01T23:00:00Z", "2026-03-02T23:00:00Z", false, 96, "0.5", "")
	if _, err := sdatImport(t, st, site, "a.xml", day); err != nil {
		t.Fatal(err)
	}
	exp, err := ParseESL("e.xml", strings.NewReader(`<ESLBillingData><Meter factoryNo="77">`+
		`<TimePeriod end="2026-03-01T00:00:00"><ValueRow obis="1-1:1.8.1" value="100"/></TimePeriod>`+
		`<TimePeriod end="2026-03-04T00:00:00"><ValueRow obis="1-1:1.8.1" value="200"/></TimePeriod></Meter></ESLBillingData>`))
	if err != nil {
		t.Fatal(err)
	}
	d, err := ResolveESL(exp, site, "")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ImportESL(st, site, d, vee.Options{Clock: importClock})
	if want := "e.xml: 2 register readings, 480 values written, 0 unchanged, 0 replaced, 480 estimated, 0 conflicts, 0 flags; 96 intervals already measured kept"; err != nil || rep.Summary() != want {
		t.Fatalf("%v\n got %s\nwant %s", err, rep.Summary(), want)
	}
	s := readSeries(t, st, "GRID", store.Import, slotAt(t, "2026-03-01T23:00:00Z"), 96)
	for i := range s.Quality {
		if s.Quality[i] != store.Measured || s.Energy[i] != 500*core.Wh {
			t.Fatalf("slot %d: %s %s", i, s.Energy[i], s.Quality[i])
		}
	}
	dups := 0
	err = st.View(func(tx store.Tx) error {
		return tx.ScanFlags("test", 0, 1<<40, func(f store.Flag) bool {
			if f.Kind == vee.KindDuplicate {
				dups++
			}
			return true
		})
	})
	if err != nil || dups != 0 {
		t.Errorf("%d duplicate flags (%v)", dups, err)
	}
}
