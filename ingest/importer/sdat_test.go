package importer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/shareddata"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
)

// sdatRealPoint is the metering point of the real deliveries.
const sdatRealPoint = "CH100790123450000000D011000800065"

var (
	sdatVolumeRE   = regexp.MustCompile(`<(?:\w+:)?Volume>([^<]*)</`)
	sdatIntervalRE = regexp.MustCompile(`(?s)<(?:\w+:)?MeteringData>.*?<(?:\w+:)?StartDateTime>([^<]*)</.*?<(?:\w+:)?EndDateTime>([^<]*)</`)
)

// sdatMilliWh reads "2.700" as 2700 mWh without core's parser, so that the
// conformance test checks the importer against an independent reading.
func sdatMilliWh(t *testing.T, s string) int64 {
	t.Helper()
	whole, frac, _ := strings.Cut(s, ".")
	frac = (frac + "000000")[:6]
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("volume %q", s)
	}
	return w*1_000_000 + f
}

// TestSDATRealDeliveries parses every real SDAT-CH document of the shared
// data and checks it against the XML text read with regular expressions.
func TestSDATRealDeliveries(t *testing.T) {
	dir := shareddata.Path(t, "sdat-ch")
	files, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no SDAT files in %s: %v", dir, err)
	}
	want := map[string]struct {
		root       string
		production bool
		obs        int
		first      string
	}{
		"ESLEVU121963": {"ValidatedMeteredData_12", false, 96, "2019-03-11T23:00:00Z"},
		"ESLEVU121964": {"ValidatedMeteredData_12", true, 96, "2019-03-11T23:00:00Z"},
		"ESLEVU122094": {"ValidatedMeteredData_12", false, 1248, "2019-02-28T23:00:00Z"},
		"ESLEVU127781": {"ValidatedMeteredData_13", false, 96, "2019-04-11T22:00:00Z"},
		"ESLEVU127782": {"ValidatedMeteredData_13", true, 96, "2019-04-11T22:00:00Z"},
	}
	seen := 0
	for _, f := range files {
		base := filepath.Base(f)
		if strings.HasPrefix(base, "synthetic") {
			continue
		}
		t.Run(base, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := ParseSDAT(base, bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			var key string
			for k := range want {
				if strings.Contains(base, k) {
					key = k
				}
			}
			w, ok := want[key]
			if !ok {
				t.Fatalf("no expectation for %s", base)
			}
			seen++
			if doc.Root != w.root || len(doc.Blocks) != 1 {
				t.Fatalf("root %s with %d blocks, want %s with 1", doc.Root, len(doc.Blocks), w.root)
			}
			b := doc.Blocks[0]
			if b.MeteringPoint != sdatRealPoint || b.Production != w.production || b.Product != ProductActiveEnergy {
				t.Errorf("point %s production %t product %s", b.MeteringPoint, b.Production, b.Product)
			}
			// Independently: the volumes and the interval from the text.
			vols := sdatVolumeRE.FindAllStringSubmatch(string(raw), -1)
			var sum int64
			for _, v := range vols {
				sum += sdatMilliWh(t, v[1])
			}
			iv := sdatIntervalRE.FindStringSubmatch(string(raw))
			start, _ := time.Parse(time.RFC3339, iv[1])
			end, _ := time.Parse(time.RFC3339, iv[2])
			if len(b.Observations) != w.obs || len(vols) != w.obs || int(end.Sub(start)/core.SlotDuration) != w.obs {
				t.Errorf("%d observations, text has %d volumes over %s–%s; want %d", len(b.Observations), len(vols), iv[1], iv[2], w.obs)
			}
			var got core.Energy
			for i, o := range b.Observations {
				got += o.Energy
				if o.Sequence != i+1 || o.Quality() != store.Measured {
					t.Fatalf("observation %d: sequence %d quality %s", i, o.Sequence, o.Quality())
				}
			}
			if int64(got) != sum {
				t.Errorf("sum %s, text sums to %d mWh", got, sum)
			}
			first, last := b.Observations[0].Slot, b.Observations[len(b.Observations)-1].Slot
			if first.String() != w.first || !first.Time().Equal(start) || !last.End().Equal(end) {
				t.Errorf("first %s last ends %s; want %s, %s", first, last.End(), w.first, end)
			}
			if doc.Creation.IsZero() || !strings.HasPrefix(doc.DocumentID, "eslevu") {
				t.Errorf("creation %s document %q", doc.Creation, doc.DocumentID)
			}
			// Minified onto one line, the document reads the same.
			flat := regexp.MustCompile(`>\s+<`).ReplaceAll(raw, []byte("><"))
			doc2, err := ParseSDAT(base, bytes.NewReader(flat))
			if err != nil {
				t.Fatalf("minified: %v", err)
			}
			obs2 := doc2.Blocks[0].Observations
			if len(obs2) != w.obs || obs2[w.obs-1].Line != obs2[0].Line || obs2[w.obs-1].Energy != b.Observations[w.obs-1].Energy {
				t.Errorf("minified: %d observations", len(doc2.Blocks[0].Observations))
			}
		})
	}
	if seen != len(want) {
		t.Errorf("checked %d real files, want %d", seen, len(want))
	}
}

// TestSDATSyntheticLEG reads the _16 LEG layout: several MeteringData blocks,
// product codes as children of Product/ID, a Community element, a Condition.
func TestSDATSyntheticLEG(t *testing.T) {
	path := shareddata.Path(t, "sdat-ch/synthetic_leg_e66_v16.xml")
	doc, err := ReadSDATFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if n := len(sdatVolumeRE.FindAllString(string(raw), -1)); n != 27 {
		t.Fatalf("text has %d volumes", n)
	}
	if doc.Root != "ValidatedMeteredData_16" || len(doc.Blocks) != 9 || doc.DocumentID != "TESTDOC-1" {
		t.Fatalf("root %s, %d blocks, document %s", doc.Root, len(doc.Blocks), doc.DocumentID)
	}
	products := map[string]int{}
	for _, b := range doc.Blocks {
		products[b.Product] += len(b.Observations)
	}
	if products[ProductActiveEnergy] != 9 || products["2404050010123"] != 9 || products["2404050010124"] != 9 {
		t.Errorf("observations per product %v", products)
	}
	if c := doc.Blocks[7].Observations[2]; c.Condition != "21" || c.Quality() != store.Estimated || c.Energy != 2400*core.Wh {
		t.Errorf("block 8 observation 3: %+v", c)
	}
	site := readingsSite(t)
	site.Meters[1].MeteringPoint = "CH000000000000000000000000000002" // GRID
	site.Meters[2].MeteringPoint = "CH000000000000000000000000000001" // M1
	d, err := ResolveSDAT(doc, site, "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Skipped != 18 || d.Observations() != 9 || len(d.Series) != 3 {
		t.Fatalf("skipped %d, observations %d, series %d", d.Skipped, d.Observations(), len(d.Series))
	}
	got := ""
	for _, s := range d.Series {
		var sum core.Energy
		for _, v := range s.Values {
			sum += v.Energy
		}
		got += fmt.Sprintf("%s %s %s; ", s.Meter, s.Channel, sum)
	}
	if want := "GRID import 1.150 kWh; GRID export 6.000 kWh; M1 import 0.600 kWh; "; got != want {
		t.Errorf("series %s\nwant   %s", got, want)
	}
}

// sdatDoc builds a one-block document of n observations of vol kWh.
func sdatDoc(creation, start, end string, production bool, n int, vol string, condition string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<rsm:ValidatedMeteredData_14 xmlns:rsm="http://www.strom.ch">
 <rsm:ValidatedMeteredData_HeaderInformation>
  <rsm:InstanceDocument>
   <rsm:DocumentID>DOC-` + creation + `</rsm:DocumentID>
   <rsm:Creation>` + creation + `</rsm:Creation>
  </rsm:InstanceDocument>
 </rsm:ValidatedMeteredData_HeaderInformation>
 <rsm:MeteringData>
  <rsm:Interval>
   <rsm:StartDateTime>` + start + `</rsm:StartDateTime>
   <rsm:EndDateTime>` + end + `</rsm:EndDateTime>
  </rsm:Interval>
  <rsm:Resolution><rsm:Resolution>15</rsm:Resolution><rsm:Unit>MIN</rsm:Unit></rsm:Resolution>
`)
	kind := "Consumption"
	if production {
		kind = "Production"
	}
	fmt.Fprintf(&b, "  <rsm:%sMeteringPoint><rsm:VSENationalID>%s</rsm:VSENationalID></rsm:%sMeteringPoint>\n", kind, sdatRealPoint, kind)
	b.WriteString("  <rsm:Product><rsm:ID>8716867000030</rsm:ID><rsm:MeasureUnit>KWH</rsm:MeasureUnit></rsm:Product>\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  <rsm:Observation><rsm:Position><rsm:Sequence>%d</rsm:Sequence></rsm:Position><rsm:Volume>%s</rsm:Volume>", i, vol)
		if condition != "" {
			fmt.Fprintf(&b, "<rsm:Condition>%s</rsm:Condition>", condition)
		}
		b.WriteString("</rsm:Observation>\n")
	}
	b.WriteString(" </rsm:MeteringData>\n</rsm:ValidatedMeteredData_14>\n")
	return b.String()
}

// TestSDATDaylightSaving: the local days of the clock changes have 92 and
// 100 intervals; their documents fill exactly the site's local day.
func TestSDATDaylightSaving(t *testing.T) {
	zurich, _ := time.LoadLocation("Europe/Zurich")
	for _, c := range []struct {
		day        core.Date
		start, end string
		n          int
	}{
		{core.MustDate(2026, 3, 29), "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 92},
		{core.MustDate(2026, 10, 25), "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 100},
		{core.MustDate(2026, 7, 1), "2026-07-01T00:00:00+02:00", "2026-07-02T00:00:00+02:00", 96},
	} {
		doc, err := ParseSDAT("dst.xml", strings.NewReader(sdatDoc("2026-11-01T00:00:00Z", c.start, c.end, false, c.n, "0.25", "")))
		if err != nil {
			t.Fatalf("%s: %v", c.day, err)
		}
		from, to := core.Period{From: c.day, To: c.day}.Slots(zurich)
		obs := doc.Blocks[0].Observations
		if int(to-from) != c.n || len(obs) != c.n || obs[0].Slot != from || obs[c.n-1].Slot != to-1 {
			t.Errorf("%s: %d observations from %s to %s; the local day is %s..%s (%d)", c.day, len(obs), obs[0].Slot, obs[len(obs)-1].Slot, from, to-1, to-from)
		}
	}
}

func TestParseSDATErrors(t *testing.T) {
	good := sdatDoc("2026-01-02T05:00:00Z", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", false, 4, "0.5", "")
	for _, c := range []struct {
		name, old, new string
		want           string
	}{
		{"not SDAT", "rsm:ValidatedMeteredData_14", "rsm:Invoice",
			`bad.xml:2: Invoice: expected an SDAT-CH document with the root element ValidatedMeteredData_NN, got <Invoice>`},
		{"malformed", "</rsm:Volume></rsm:Observation>\n  <rsm:Observation><rsm:Position><rsm:Sequence>3", "</rsm:Volume></rsm:Observation>\n  <rsm:Observation><rsm:Position><rsm:Sequence>3</rsm:Position>",
			`bad.xml:19: MeteringData[1]/Observation[3]/Position/Sequence: malformed XML: element <Sequence> closed by </Position>`},
		{"decimal comma", "<rsm:Volume>0.5</rsm:Volume></rsm:Observation>\n  <rsm:Observation><rsm:Position><rsm:Sequence>3", "<rsm:Volume>0,5</rsm:Volume></rsm:Observation>\n  <rsm:Observation><rsm:Position><rsm:Sequence>3",
			`bad.xml:18: MeteringData[1]/Observation[2]/Volume: expected a decimal number of kWh of zero or more with at most 6 decimals, such as 2.700, got "0,5"`},
		{"negative", "<rsm:Sequence>4</rsm:Sequence></rsm:Position><rsm:Volume>0.5", "<rsm:Sequence>4</rsm:Sequence></rsm:Position><rsm:Volume>-0.5",
			`bad.xml:20: MeteringData[1]/Observation[4]/Volume: expected a decimal number of kWh of zero or more with at most 6 decimals, such as 2.700, got "-0.5"`},
		{"position past the end", "<rsm:Sequence>4<", "<rsm:Sequence>5<",
			`bad.xml:20: MeteringData[1]/Observation[4]/Position/Sequence: position 5 lies after the interval 2026-01-01T00:00:00Z – 2026-01-01T01:00:00Z, which has 4 intervals of 15 minutes`},
		{"position twice", "<rsm:Sequence>4<", "<rsm:Sequence>2<",
			`bad.xml:20: MeteringData[1]/Observation[4]/Position/Sequence: position 2 appears twice: also at line 18`},
		{"hourly", "<rsm:Resolution>15</rsm:Resolution><rsm:Unit>MIN", "<rsm:Resolution>60</rsm:Resolution><rsm:Unit>MIN",
			`bad.xml:14: MeteringData[1]/Resolution/Resolution: expected a resolution of 15 minutes (15 MIN or PT15M), got 60 MIN`},
		{"off the grid", "<rsm:StartDateTime>2026-01-01T00:00:00Z", "<rsm:StartDateTime>2026-01-01T00:05:00Z",
			`bad.xml:11: MeteringData[1]/Interval/StartDateTime: expected the start of a 15-minute interval, got 2026-01-01T00:05:00Z`},
		{"local time without offset", "<rsm:EndDateTime>2026-01-01T01:00:00Z", "<rsm:EndDateTime>2026-01-01T01:00:00",
			`bad.xml:12: MeteringData[1]/Interval/EndDateTime: expected a time in ISO 8601 with Z or an offset, such as 2019-03-12T23:00:00Z, got "2026-01-01T01:00:00"`},
		{"no creation", "<rsm:Creation>2026-01-02T05:00:00Z</rsm:Creation>", "",
			`bad.xml:9: MeteringData: MeteringData before the header's InstanceDocument/Creation: expected the document's creation time first`},
		{"no metering point", "<rsm:VSENationalID>" + sdatRealPoint, "<rsm:Other>" + sdatRealPoint,
			`bad.xml:15: MeteringData[1]/ConsumptionMeteringPoint/Other: malformed XML: element <Other> closed by </VSENationalID>`},
		{"missing point", "  <rsm:ConsumptionMeteringPoint><rsm:VSENationalID>" + sdatRealPoint + "</rsm:VSENationalID></rsm:ConsumptionMeteringPoint>\n", "",
			`bad.xml:9: MeteringData[1]: missing ConsumptionMeteringPoint or ProductionMeteringPoint: expected the metering point before the observations`},
		{"reactive unit", "<rsm:MeasureUnit>KWH", "<rsm:MeasureUnit>KVR",
			`bad.xml:16: MeteringData[1]/Product/MeasureUnit: expected KWH, got "KVR"`},
		{"no volume", "<rsm:Volume>0.5</rsm:Volume></rsm:Observation>\n  <rsm:Observation><rsm:Position><rsm:Sequence>2", "</rsm:Observation>\n  <rsm:Observation><rsm:Position><rsm:Sequence>2",
			`bad.xml:17: MeteringData[1]/Observation[1]: missing Volume: expected the observation's energy in kWh`},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := good
			if c.old != "" {
				if !strings.Contains(src, c.old) {
					t.Fatalf("%q not in the document", c.old)
				}
				src = strings.Replace(src, c.old, c.new, 1)
			}
			_, err := ParseSDAT("bad.xml", strings.NewReader(src))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if err.Error() != c.want {
				t.Errorf("got  %s\nwant %s", err, c.want)
			}
		})
	}
	truncated := good[:strings.Index(good, "</rsm:MeteringData>")]
	if _, err := ParseSDAT("cut.xml", strings.NewReader(truncated)); err == nil || err.Error() != "cut.xml:21: MeteringData[1]: malformed XML: unexpected end of file: <MeteringData> is not closed" {
		t.Errorf("truncated: %v", err)
	}
	if _, err := ParseSDAT("empty.xml", strings.NewReader("")); err == nil || err.Error() != "empty.xml:1: the file is empty: expected an SDAT-CH document (ValidatedMeteredData)" {
		t.Errorf("empty: %v", err)
	}
}

func TestResolveSDATMeters(t *testing.T) {
	doc, err := ParseSDAT("a.xml", strings.NewReader(sdatDoc("2026-01-02T05:00:00Z", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", false, 4, "0.5", "")))
	if err != nil {
		t.Fatal(err)
	}
	site := readingsSite(t)
	if _, err := ResolveSDAT(doc, site, ""); err == nil || err.Error() != `a.xml:9: MeteringData[1]: unknown metering point `+sdatRealPoint+`: no meter of site test has metering_point = "`+sdatRealPoint+`" (set it in the site file, or name the meter with --meter)` {
		t.Errorf("unknown point: %v", err)
	}
	if _, err := ResolveSDAT(doc, site, "NOPE"); err == nil || err.Error() != "--meter NOPE: no such meter: site test has PV, GRID, M1, M2" {
		t.Errorf("unknown --meter: %v", err)
	}
	d, err := ResolveSDAT(doc, site, "GRID")
	if err != nil || d.Series[0].Meter != "GRID" || d.Series[0].Channel != store.Import {
		t.Fatalf("--meter GRID: %v %+v", err, d)
	}
	site.Meters[1].MeteringPoint = sdatRealPoint
	site.Meters[2].MeteringPoint = sdatRealPoint
	if _, err := ResolveSDAT(doc, site, ""); err == nil || err.Error() != "a.xml:9: MeteringData[1]: metering point "+sdatRealPoint+": meters GRID and M1 both have it as metering_point: expected one" {
		t.Errorf("two meters: %v", err)
	}
	site.Meters[2].MeteringPoint = ""
	if d, err = ResolveSDAT(doc, site, ""); err != nil || d.Series[0].Meter != "GRID" || len(d.Series[0].Values) != 4 {
		t.Fatalf("by metering_point: %v", err)
	}
}

// sdatImport parses, resolves onto GRID and imports src.
func sdatImport(t *testing.T, st store.Store, site *core.Site, name, src string) (*SDATReport, error) {
	t.Helper()
	doc, err := ParseSDAT(name, strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	d, err := ResolveSDAT(doc, site, "GRID")
	if err != nil {
		t.Fatal(err)
	}
	return ImportSDAT(st, site, d, vee.Options{Clock: importClock, Actor: "test"})
}

func sdatAudit(t *testing.T, st store.Store) []string {
	t.Helper()
	var out []string
	err := st.View(func(tx store.Tx) error {
		return tx.ScanAudit(0, func(e store.Entry) bool {
			if e.Action != "site.import" {
				out = append(out, e.Action+": "+e.Detail)
			}
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestImportSDATCorrectedDelivery: a provisional delivery (condition codes,
// zeros) is replaced by the operator's later delivery; importing it again
// changes nothing; the older one imported afterwards keeps the newer values;
// readings from another source are never replaced.
func TestImportSDATCorrectedDelivery(t *testing.T) {
	st := openStore(t)
	site := siteInStore(t, st)
	const start, end = "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"
	provisional := sdatDoc("2026-01-02T05:00:00Z", start, end, false, 4, "0.000", "21")
	corrected := sdatDoc("2026-01-09T05:00:00Z", start, end, false, 4, "1.250", "")

	rep, err := sdatImport(t, st, site, "p.xml", provisional)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Written != 4 || rep.Conditioned != 4 {
		t.Errorf("provisional: %s", rep.Summary())
	}
	s := readSeries(t, st, "GRID", store.Import, slotAt(t, start), 4)
	if s.Energy[0] != 0 || s.Quality[0] != store.Estimated {
		t.Errorf("provisional stored %v %v", s.Energy[0], s.Quality[0])
	}
	rep, err = sdatImport(t, st, site, "c.xml", corrected)
	if err != nil {
		t.Fatal(err)
	}
	if want := "c.xml: document DOC-2026-01-09T05:00:00Z of 2026-01-09T05:00:00Z: 4 observations, 4 values written, 0 unchanged, 0 replaced, 0 conflicts, 0 flags"; rep.Summary() != want {
		t.Errorf("corrected:\n got %s\nwant %s", rep.Summary(), want)
	}
	// A second correction of measured values replaces them, logged.
	second := sdatDoc("2026-01-10T05:00:00Z", start, end, false, 4, "1.5", "")
	if rep, err = sdatImport(t, st, site, "c2.xml", second); err != nil || rep.Replaced != 4 || rep.Written != 0 {
		t.Fatalf("second correction: %v %+v", err, rep)
	}
	s = readSeries(t, st, "GRID", store.Import, slotAt(t, start), 4)
	if s.Energy[3] != 1500*core.Wh || s.Quality[3] != store.Measured {
		t.Errorf("after the correction: %v %v", s.Energy[3], s.Quality[3])
	}
	// The same again: unchanged, no audit entry.
	before := len(sdatAudit(t, st))
	if rep, err = sdatImport(t, st, site, "c2.xml", second); err != nil || rep.Unchanged != 4 || rep.Written+rep.Replaced != 0 {
		t.Fatalf("repeat: %v %+v", err, rep)
	}
	// The older correction imported late keeps the newer values.
	rep, err = sdatImport(t, st, site, "c.xml", corrected)
	if err != nil || len(rep.Conflicts) != 4 || rep.Replaced != 0 {
		t.Fatalf("older late: %v %+v", err, rep)
	}
	if want := "line 17: meter GRID at 2026-01-01T00:00:00Z: import 1.250 kWh differs from the stored 1.500 kWh of the newer document DOC-2026-01-10T05:00:00Z of 2026-01-10T05:00:00Z (kept)"; rep.Conflicts[0].String() != want {
		t.Errorf("conflict\n got %s\nwant %s", rep.Conflicts[0], want)
	}
	audit := sdatAudit(t, st)
	if len(audit) != before {
		t.Errorf("audit grew by %v", audit[before:])
	}
	wantAudit := []string{
		"sdat.import: p.xml: document DOC-2026-01-02T05:00:00Z of 2026-01-02T05:00:00Z: 4 observations, 4 values written, 0 unchanged, 0 replaced, 0 conflicts, 4 flags; 4 with a condition code, stored as estimated",
		"sdat.import: c.xml: document DOC-2026-01-09T05:00:00Z of 2026-01-09T05:00:00Z: 4 observations, 4 values written, 0 unchanged, 0 replaced, 0 conflicts, 0 flags",
		"intervals.replace: meter GRID import: 4 stored values replaced by a corrected delivery between 2026-01-01T00:00:00Z and 2026-01-01T01:00:00Z",
		"sdat.import: c2.xml: document DOC-2026-01-10T05:00:00Z of 2026-01-10T05:00:00Z: 4 observations, 0 values written, 0 unchanged, 4 replaced, 0 conflicts, 0 flags",
	}
	if strings.Join(audit, "\n") != strings.Join(wantAudit, "\n") {
		t.Errorf("audit:\n%s\nwant\n%s", strings.Join(audit, "\n"), strings.Join(wantAudit, "\n"))
	}

	// Values from a readings file are not the operator's: a delivery for
	// them conflicts instead of replacing.
	rd := parseCSV(t, site, "meter,start,kwh_in\nGRID,2026-01-05T00:00:00Z,0.7\n")
	if _, err := ImportReadings(st, site, rd, vee.Options{Clock: importClock}); err != nil {
		t.Fatal(err)
	}
	other := sdatDoc("2026-01-20T05:00:00Z", "2026-01-05T00:00:00Z", "2026-01-05T00:30:00Z", false, 2, "0.8", "")
	if rep, err = sdatImport(t, st, site, "o.xml", other); err != nil || rep.Written != 1 || len(rep.Conflicts) != 1 || rep.Conflicts[0].Stored != 700*core.Wh {
		t.Fatalf("over readings: %v %+v", err, rep)
	}
}

// TestImportSDATLockedWritesNothing: a delivery into a billed period fails
// as a whole.
func TestImportSDATLockedWritesNothing(t *testing.T) {
	st := openStore(t)
	site := siteInStore(t, st)
	err := st.Update(func(tx store.Tx) error {
		return tx.LockPeriod(store.Lock{Site: site.ID, Period: core.Period{From: core.MustDate(2026, 1, 2), To: core.MustDate(2026, 1, 31)}})
	})
	if err != nil {
		t.Fatal(err)
	}
	// Two days: the first is open, the second locked.
	doc := sdatDoc("2026-02-02T05:00:00Z", "2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z", true, 192, "0.1", "")
	if _, err := sdatImport(t, st, site, "l.xml", doc); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	s := readSeries(t, st, "GRID", store.Export, slotAt(t, "2026-01-01T00:00:00Z"), 4)
	if s.Quality[0] != store.Missing {
		t.Errorf("the open day was written: %v", s.Quality[0])
	}
	if a := sdatAudit(t, st); len(a) != 0 {
		t.Errorf("audit %v", a)
	}
}

// BenchmarkParseSDAT parses the largest real delivery (13 days, 1248
// observations).
func BenchmarkParseSDAT(b *testing.B) {
	path := shareddata.Path(b, "sdat-ch/20190314_093200_12X-0000001216-O_E66_12X-LIPPUNEREM-T_ESLEVU122094_678352821.xml")
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		doc, err := ParseSDAT("bench.xml", bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		n += len(doc.Blocks[0].Observations)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "obs/s")
}

// TestParseSDATLatin1 reads a document its sender declared ISO-8859-1.
func TestParseSDATLatin1(t *testing.T) {
	src := sdatDoc("2026-01-02T05:00:00Z", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", false, 4, "0.5", "")
	src = strings.Replace(src, `encoding="UTF-8"`, `encoding="ISO-8859-1"`, 1)
	src = strings.Replace(src, "<rsm:DocumentID>DOC-", "<rsm:DocumentID>Z\xfcrich-", 1)
	doc, err := ParseSDAT("l.xml", strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if doc.DocumentID != "Zürich-2026-01-02T05:00:00Z" || len(doc.Blocks[0].Observations) != 4 {
		t.Errorf("document %q, %d observations", doc.DocumentID, len(doc.Blocks[0].Observations))
	}
	_, err = ParseSDAT("l.xml", strings.NewReader(strings.Replace(src, "ISO-8859-1", "EBCDIC", 1)))
	if err == nil || !strings.Contains(err.Error(), `unsupported encoding "EBCDIC": expected UTF-8 or ISO-8859-1`) {
		t.Errorf("EBCDIC: %v", err)
	}
}

// TestImportSDATCorrectionKeepsOtherSources: a delivery that conflicted with
// a readings file's value does not own that interval, so the operator's
// later correction of it conflicts again instead of replacing the value.
func TestImportSDATCorrectionKeepsOtherSources(t *testing.T) {
	st := openStore(t)
	site := siteInStore(t, st)
	rd := parseCSV(t, site, "meter,start,kwh_in\nGRID,2026-01-05T00:00:00Z,0.7\n")
	if _, err := ImportReadings(st, site, rd, vee.Options{Clock: importClock}); err != nil {
		t.Fatal(err)
	}
	const start, end = "2026-01-05T00:00:00Z", "2026-01-05T00:30:00Z"
	first := sdatDoc("2026-01-20T05:00:00Z", start, end, false, 2, "0.8", "")
	if rep, err := sdatImport(t, st, site, "o.xml", first); err != nil || rep.Written != 1 || len(rep.Conflicts) != 1 {
		t.Fatalf("first delivery: %v %+v", err, rep)
	}
	corrected := sdatDoc("2026-01-21T05:00:00Z", start, end, false, 2, "0.9", "")
	rep, err := sdatImport(t, st, site, "o2.xml", corrected)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Replaced != 1 || len(rep.Conflicts) != 1 || rep.Conflicts[0].Stored != 700*core.Wh {
		t.Errorf("correction: %s", rep.Summary())
	}
	s := readSeries(t, st, "GRID", store.Import, slotAt(t, start), 2)
	if s.Energy[0] != 700*core.Wh || s.Energy[1] != 900*core.Wh {
		t.Errorf("stored %v, want the readings file's 0.7 kWh kept and the delivery's own 0.8 corrected to 0.9", s.Energy)
	}
}
