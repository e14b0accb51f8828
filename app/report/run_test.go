package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// syntheticInput is the sample site over p with every meter measured: PV
// by day, flat-ish loads, the grid meter as the balance, and a few
// estimated slots on W01.
func syntheticInput(t testing.TB, site *core.Site, p core.Period) *billing.Input {
	t.Helper()
	if err := site.Validate(); err != nil {
		t.Fatal(err)
	}
	loc := site.Location()
	from, to := p.Slots(loc)
	n := int(to - from)
	series := func() store.Series {
		return store.Series{From: from, Energy: make([]core.Energy, n), Quality: make([]store.Quality, n)}
	}
	pv, w1, w2, allg, gi, ge := series(), series(), series(), series(), series(), series()
	for i := range n {
		lt := (from + core.Slot(i)).Time().In(loc)
		h := float64(lt.Hour()) + float64(lt.Minute())/60
		sun := math.Max(0, math.Sin((h-6)/12*math.Pi)) * (0.6 + 0.4*math.Sin(float64(lt.YearDay())/365*math.Pi))
		pv.Energy[i] = core.Energy(sun * 2.5 * float64(core.KWh))
		w1.Energy[i] = core.Energy((0.08 + 0.05*math.Abs(math.Sin(h))) * float64(core.KWh))
		w2.Energy[i] = core.Energy((0.12 + 0.04*math.Abs(math.Cos(h))) * float64(core.KWh))
		allg.Energy[i] = 30 * core.Wh
		c := w1.Energy[i] + w2.Energy[i] + allg.Energy[i]
		if pv.Energy[i] > c {
			ge.Energy[i] = pv.Energy[i] - c
		} else {
			gi.Energy[i] = c - pv.Energy[i]
		}
		for _, s := range []*store.Series{&pv, &w1, &w2, &allg, &gi, &ge} {
			s.Quality[i] = store.Measured
		}
		if i >= 500 && i < 520 {
			w1.Quality[i] = store.Estimated
		}
	}
	return &billing.Input{Site: site, Period: p, Data: map[string]billing.MeterData{
		"PV": {Export: pv}, "GRID": {Import: gi, Export: ge}, "M-W01": {Import: w1}, "M-W02": {Import: w2}, "ALLG": {Import: allg},
	}}
}

func billSample(t testing.TB) (*billing.Input, *billing.Run) {
	t.Helper()
	site := sampleSite()
	in := syntheticInput(t, site, core.Period{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 3, 31)})
	run, err := billing.Bill(in)
	if err != nil {
		t.Fatalf("billing: %v", err)
	}
	for i := range run.Invoices {
		run.Invoices[i].Number = 100 + i
	}
	return in, run
}

// TestBarsAddUp: the chart's bars add up exactly to the invoice's energy,
// since each bar is billing over its days.
func TestBarsAddUp(t *testing.T) {
	in, run := billSample(t)
	bars, err := BarsFor(in, run)
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range run.Invoices {
		bs := bars[inv.Key]
		if len(bs) != 3 {
			t.Errorf("%s: %d bars for a quarter, want 3 months", inv.Key, len(bs))
		}
		var s, g core.Energy
		for _, b := range bs {
			s += b.Solar
			g += b.Grid
		}
		if s != inv.KWh.Solar || g != inv.KWh.Grid {
			t.Errorf("%s: bars add up to solar %v grid %v, invoice has %v and %v", inv.Key, s, g, inv.KWh.Solar, inv.KWh.Grid)
		}
	}
	if got := buckets(core.Period{From: core.MustDate(2026, 2, 4), To: core.MustDate(2026, 3, 2)}, StepWeek); len(got) != 5 ||
		got[0].To != core.MustDate(2026, 2, 8) || got[4].From != core.MustDate(2026, 3, 2) {
		t.Errorf("weeks: %v", got)
	}
}

// TestWriteRun writes a real run and reads every file back.
func TestWriteRun(t *testing.T) {
	in, run := billSample(t)
	dir := t.TempDir()
	paths, err := WriteRun(dir, run, in, &Options{Issued: core.MustDate(2026, 4, 7)})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(run.Invoices) + 3; len(paths) != want {
		t.Fatalf("%d files, want %d: %v", len(paths), want, paths)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %v (%d bytes)", p, err, len(b))
		}
		// Documents for colleagues and the printer, not secrets: readable
		// by all, as any file the office saves (the temporary file they
		// are renamed from was 0600).
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want -rw-r--r--", p, fi.Mode().Perm())
		}
		if strings.HasSuffix(p, ".pdf") && !bytes.HasPrefix(b, []byte("%PDF-")) {
			t.Errorf("%s is not a PDF", p)
		}
	}
	// The inserts carry the engine's numbers.
	if _, err := exec.LookPath("pdftotext"); err == nil {
		for i, inv := range run.Invoices {
			text := pdfText(t, paths[i])
			for _, want := range []string{inv.Tenant, CHF(inv.Total), CHF(inv.Balance), KWh(inv.KWh.Total, 1) + " kWh", textsFor(inv.Occupancy.Language).QR.Receipt} {
				if !strings.Contains(text, want) {
					t.Errorf("%s: %q missing", filepath.Base(paths[i]), want)
				}
			}
		}
	}

	// The workbook: summary totals and invoice sheets equal the run.
	f, err := excelize.OpenFile(filepath.Join(dir, "birkenweg_2026-01-01_2026-03-31.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	wantSheets := []string{"Übersicht"}
	for _, inv := range run.Invoices {
		wantSheets = append(wantSheets, "Rechnung "+strconv.Itoa(inv.Number))
	}
	wantSheets = append(wantSheets, "Viertelstundenwerte")
	if got := f.GetSheetList(); strings.Join(got, "|") != strings.Join(wantSheets, "|") {
		t.Errorf("sheets %v, want %v", got, wantSheets)
	}
	num := func(sheet, cell string) float64 {
		t.Helper()
		v, err := f.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("%s!%s = %q: not a number", sheet, cell, v)
		}
		return x
	}
	near := func(what string, got float64, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	near("production", num("Übersicht", "B4"), run.Building.Production.KWh())
	near("consumption", num("Übersicht", "B8"), run.Building.Consumption.KWh())
	rows, err := f.GetRows("Übersicht")
	if err != nil {
		t.Fatal(err)
	}
	hdr := 0
	for i, r := range rows {
		if len(r) > 0 && r[0] == "Nr." {
			hdr = i + 1
			break
		}
	}
	if hdr == 0 {
		t.Fatal("no invoice table on the summary sheet")
	}
	for i, inv := range run.Invoices {
		r := strconv.Itoa(hdr + 1 + i)
		near("invoice number", num("Übersicht", "A"+r), float64(inv.Number))
		near("solar kWh", num("Übersicht", "G"+r), inv.KWh.Solar.KWh())
		near("total CHF", num("Übersicht", "N"+r), float64(inv.Total)/100)
		near("balance CHF", num("Übersicht", "P"+r), float64(inv.Balance)/100)
	}
	styleFmt := func(sheet, cell string) string {
		id, err := f.GetCellStyle(sheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if st.CustomNumFmt == nil {
			return ""
		}
		return *st.CustomNumFmt
	}
	if got := styleFmt("Übersicht", "N"+strconv.Itoa(hdr+1)); got != "#,##0.00" {
		t.Errorf("CHF number format %q", got)
	}
	// A price per kWh shows at least the Rappen (0.20, not 0.2).
	isheet := "Rechnung " + strconv.Itoa(run.Invoices[0].Number)
	irows, _ := f.GetRows(isheet)
	priced := false
	for i, r := range irows {
		if len(r) > 3 && r[0] == "Solarstrom" {
			priced = true
			if r[3] != "0.20" || styleFmt(isheet, "D"+strconv.Itoa(i+1)) != "#,##0.00####" {
				t.Errorf("solar price shown as %q", r[3])
			}
		}
	}
	if !priced {
		t.Errorf("no solar line on %s", isheet)
	}

	// The 15-minute data: one row per slot, frozen header, every value.
	data := "Viertelstundenwerte"
	loc := in.Site.Location()
	from, to := in.Period.Slots(loc)
	drows, err := f.GetRows(data, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(drows) != int(to-from)+2 {
		t.Errorf("%d data rows, want %d slots + 2 header rows", len(drows)-2, to-from)
	}
	panes, err := f.GetPanes(data)
	if err != nil || !panes.Freeze || panes.YSplit != 2 || panes.XSplit != 2 {
		t.Errorf("data sheet panes %+v, %v: want the two header rows frozen", panes, err)
	}
	// Column layout: start, zone, PV (kWh, quality), GRID import (kWh,
	// q), GRID export (kWh, q), M-W01 (kWh, solar, grid, q)...
	if drows[0][8] != "M-W01" || drows[1][9] != "Solar kWh" {
		t.Errorf("header %v / %v", drows[0], drows[1])
	}
	w1 := in.Data["M-W01"].Import
	for _, i := range []int{0, 48, 500, 4000} {
		r := drows[i+2]
		e, _ := strconv.ParseFloat(r[8], 64)
		near("M-W01 kWh", e, w1.Energy[i].KWh())
		s, _ := strconv.ParseFloat(r[9], 64)
		g, _ := strconv.ParseFloat(r[10], 64)
		near("solar + grid", s+g, e)
		wantQ := "gemessen" // the office language's word
		if i == 500 {
			wantQ = "geschätzt"
		}
		if r[11] != wantQ {
			t.Errorf("slot %d quality %q, want %q", i, r[11], wantQ)
		}
		ts, _ := strconv.ParseFloat(r[0], 64)
		lt := (from + core.Slot(i)).Time().In(loc)
		near("start", ts, excelTime(lt))
	}
	// Σ solar per consumer over the period equals what billing allocated
	// (within the mWh rounding of each slot).
	var solarW1 float64
	for _, r := range drows[2:] {
		s, _ := strconv.ParseFloat(r[9], 64)
		solarW1 += s
	}
	var billedW1 core.Energy
	for _, inv := range run.Invoices {
		if inv.Unit == "W01" {
			for _, l := range inv.Lines {
				if l.Kind == billing.KindSolar {
					billedW1 += l.Energy
				}
			}
		}
	}
	if math.Abs(solarW1-billedW1.KWh()) > 0.001*float64(to-from)/1000+0.01 {
		t.Errorf("Σ solar of M-W01 in the data sheet %.3f kWh, billed %.3f kWh", solarW1, billedW1.KWh())
	}

	// The export: Σ gross per invoice = the invoice's total, Σ VAT = VAT.
	fcsv, err := os.Open(filepath.Join(dir, "birkenweg_2026-01-01_2026-03-31_export.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer fcsv.Close()
	recs, err := csv.NewReader(fcsv).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != strings.Join(Fields, ",") {
		t.Errorf("header %v", recs[0])
	}
	gross := map[string]core.Rappen{}
	vat := map[string]core.Rappen{}
	for _, r := range recs[1:] {
		g, err := core.ParseCHF(r[12])
		if err != nil {
			t.Fatal(err)
		}
		v, _ := core.ParseCHF(r[11])
		gross[r[1]] += g
		vat[r[1]] += v
	}
	for _, inv := range run.Invoices {
		k := strconv.Itoa(inv.Number)
		if gross[k] != inv.Total || vat[k] != inv.VAT {
			t.Errorf("invoice %s: export gross %v VAT %v, invoice total %v VAT %v", k, gross[k], vat[k], inv.Total, inv.VAT)
		}
	}
	fx, err := excelize.OpenFile(filepath.Join(dir, "birkenweg_2026-01-01_2026-03-31_export.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer fx.Close()
	xrows, _ := fx.GetRows("Export")
	if len(xrows) != len(recs) {
		t.Errorf("export XLSX has %d rows, CSV %d", len(xrows), len(recs))
	}
}

// TestWriteRunLeavesNothingOnError: a failing file leaves no file at all.
func TestWriteRunLeavesNothingOnError(t *testing.T) {
	in, run := billSample(t)
	dir := t.TempDir()
	if _, err := WriteRun(dir, run, in, &Options{Preset: "nope"}); err == nil {
		t.Fatal("unknown preset accepted")
	}
	// An invalid operator address makes the QR-bill of the last invoice fail.
	in.Site.Operator.Town = ""
	if _, err := WriteRun(dir, run, in, &Options{NoCharts: true}); err == nil {
		t.Fatal("invalid creditor address accepted")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left after an error: %v", names)
	}
	// The last file cannot be put in place (a directory is in the way):
	// the inserts and the workbook written before it are taken back.
	in.Site.Operator.Town = "Bern"
	block := filepath.Join(dir, "birkenweg_2026-01-01_2026-03-31_export.xlsx")
	if err := os.MkdirAll(filepath.Join(block, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteRun(dir, run, in, &Options{NoCharts: true}); err == nil {
		t.Fatal("no error although the export could not be written")
	}
	entries, _ = os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != filepath.Base(block) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("after a failed write the directory holds %v", names)
	}
}

func TestExportRowsReconcile(t *testing.T) {
	site := sampleSite()
	inv := sampleInvoice(site, "de")
	rows := ExportRows(sampleRun(site, inv))
	var net, vat, gross core.Rappen
	types := map[CostType]bool{}
	for _, r := range rows {
		net += r.Net
		vat += r.VAT
		gross += r.Gross
		types[r.CostType] = true
		if r.Gross != r.Net+r.VAT {
			t.Errorf("%s: gross %v ≠ net %v + VAT %v", r.CostType, r.Gross, r.Net, r.VAT)
		}
	}
	if net != inv.Net || vat != inv.VAT || gross != inv.Total {
		t.Errorf("export net %v VAT %v gross %v; invoice %v %v %v", net, vat, gross, inv.Net, inv.VAT, inv.Total)
	}
	if len(rows) != 4 || !types[CostEnergy] || !types[CostCommon] || !types[CostBaseFee] || !types[CostMetering] {
		t.Errorf("rows %+v", rows)
	}
	if rows[0].CostType != CostEnergy || rows[0].KWh != kwh(675.1) || rows[0].Net != 4402+8700+3630 {
		t.Errorf("energy row %+v", rows[0])
	}
	var buf bytes.Buffer
	if err := WriteExportCSV(&buf, rows, Presets["excel-ch"]); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "\ufeffZEV;Rechnung;Objekt;") || !strings.Contains(buf.String(), ";energy;675.100;167.32;8.1;13.56;180.88") {
		t.Errorf("excel-ch CSV:\n%s", buf.String())
	}
}

func TestDataWorkbookWithoutBilling(t *testing.T) {
	site := sampleSite()
	// A week across the change to summer time: 7 × 96 - 4 slots.
	p := core.Period{From: core.MustDate(2026, 3, 25), To: core.MustDate(2026, 3, 31)}
	in := syntheticInput(t, site, p)
	var buf bytes.Buffer
	if err := WriteDataWorkbook(&buf, in, "en"); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 1 || got[0] != "15-minute data" {
		t.Fatalf("sheets %v", got)
	}
	rows, _ := f.GetRows("15-minute data")
	if len(rows) != 7*96-4+2 {
		t.Errorf("%d rows, want %d", len(rows), 7*96-4+2)
	}
	// 29 March 2026 02:00 does not exist in Zurich: 01:45 is followed by 03:00.
	var seen []string
	for _, r := range rows[2:] {
		if strings.HasPrefix(r[0], "29.03.2026 01:45") || strings.HasPrefix(r[0], "29.03.2026 03:00") {
			seen = append(seen, r[0])
		}
		if strings.HasPrefix(r[0], "29.03.2026 02:") {
			t.Errorf("a slot at %s, which does not exist in local time", r[0])
		}
	}
	if len(seen) != 2 {
		t.Errorf("around the clock change: %v", seen)
	}
	if rows[2][1] != "UTC+01:00" || rows[len(rows)-1][1] != "UTC+02:00" {
		t.Errorf("zones %q … %q, want UTC+01:00 … UTC+02:00", rows[2][1], rows[len(rows)-1][1])
	}
	_ = time.UTC
}

// TestWorkbookInLibreOffice opens the run's workbook in LibreOffice
// (headless, converting every sheet to CSV) and checks what it reads: the
// hand-written 15-minute rows as well as the sheets excelize wrote.
func TestWorkbookInLibreOffice(t *testing.T) {
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		t.Skip("LibreOffice not installed (Debian: libreoffice-calc-nogui)")
	}
	in, run := billSample(t)
	var buf bytes.Buffer
	if err := WriteWorkbook(&buf, in, run, "en"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	book := filepath.Join(dir, "run.xlsx")
	if err := os.WriteFile(book, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, soffice, "--headless", "--norestore", "-env:UserInstallation=file://"+filepath.Join(dir, "profile"),
		"--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1", "--outdir", dir, book)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
	read := func(sheet string) [][]string {
		f, err := os.Open(filepath.Join(dir, "run-"+sheet+".csv"))
		if err != nil {
			t.Fatalf("LibreOffice did not export sheet %q: %v", sheet, err)
		}
		defer f.Close()
		r := csv.NewReader(f)
		r.FieldsPerRecord = -1
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	data := read("15-minute data")
	from, to := in.Period.Slots(in.Site.Location())
	if len(data) != int(to-from)+2 {
		t.Fatalf("LibreOffice reads %d rows, want %d", len(data), int(to-from)+2)
	}
	w1 := in.Data["M-W01"].Import
	for _, i := range []int{0, 100, 8000} {
		r := data[i+2]
		if r[8] != strings.TrimSuffix(strings.TrimRight(core.FormatKWh(w1.Energy[i]), "0"), ".") {
			t.Errorf("slot %d: LibreOffice reads %q for M-W01, want %s", i, r[8], core.FormatKWh(w1.Energy[i]))
		}
		if r[11] != "measured" {
			t.Errorf("slot %d quality %q", i, r[11])
		}
	}
	if data[2][0] != "01/01/2026 00:00:00" {
		t.Errorf("first start %q", data[2][0])
	}
	sum := read("Summary")
	found := false
	for _, r := range sum {
		if len(r) > 13 && r[0] == strconv.Itoa(run.Invoices[0].Number) && !found {
			found = true
			if r[13] != strings.TrimSuffix(strings.TrimRight(run.Invoices[0].Total.String(), "0"), ".") {
				t.Errorf("LibreOffice reads total %q, want %s", r[13], run.Invoices[0].Total)
			}
		}
	}
	if !found {
		t.Error("no invoice row on the summary sheet")
	}
}

// TestRealLinesTranslated: every line of a real run gets a German label and
// shared-meter lines name their energy; none of billing's English labels
// leaks onto an insert.
func TestRealLinesTranslated(t *testing.T) {
	in, run := billSample(t)
	for i := range run.Invoices {
		inv := &run.Invoices[i]
		inv.Occupancy.Language = "de"
		ins, err := FromInvoice(in.Site, run, inv, core.MustDate(2026, 4, 7), nil)
		if err != nil {
			t.Fatal(err)
		}
		common := 0
		for _, r := range ins.Rows {
			for _, english := range []string{"energy", "General", "Base fee", "Metering", "Subtotal", "VAT", "Advance", "Balance"} {
				if strings.Contains(r.Label, english) {
					t.Errorf("untranslated label %q", r.Label)
				}
			}
			if strings.HasPrefix(r.Label, de.LineCommon) {
				common++
				if !strings.Contains(r.Label, " – ") {
					t.Errorf("shared-meter line without its energy: %q", r.Label)
				}
			}
		}
		if common == 0 {
			t.Errorf("invoice %d: no share of the general electricity", inv.Number)
		}
	}
}

// TestMoveReadings: when a tenant moves out mid-period and the next moves
// in, each invoice prints the unit meter's readings at its own first and
// after its last day: the move-out reading ends one and starts the other.
func TestMoveReadings(t *testing.T) {
	needTool(t, "pdftotext")
	site := sampleSite()
	site.Occupancies[0].To = core.MustDate(2026, 2, 14)
	site.Occupancies = append(site.Occupancies, core.Occupancy{Unit: "W01", Name: "Luc Favre",
		From: core.MustDate(2026, 2, 15), Language: "fr"})
	p := core.Period{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 3, 31)}
	in := syntheticInput(t, site, p)
	loc := site.Location()
	w1 := in.Data["M-W01"].Import
	move := core.MustDate(2026, 2, 15)
	var before, all core.Energy
	for i, e := range w1.Energy {
		if (w1.From + core.Slot(i)).Time().Before(move.Midnight(loc)) {
			before += e
		}
		all += e
	}
	start := 10_000 * core.KWh
	reg := func(d core.Date, e core.Energy) store.Register {
		return store.Register{Time: d.Midnight(loc).UTC(), Import: e}
	}
	r0, r1, r2 := reg(p.From, start), reg(move, start+before), reg(p.To.AddDays(1), start+all)
	in.Readings = map[string]billing.Readings{"M-W01": {Start: &r0, End: &r2}}
	in.Boundaries = map[string]map[core.Date]store.Register{"M-W01": {move: r1}}
	run, err := billing.Bill(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]core.Energy{"Anna Müller-Lüthi": {start, start + before}, "Luc Favre": {start + before, start + all}}
	for i := range run.Invoices {
		inv := &run.Invoices[i]
		w, ok := want[inv.Tenant]
		if !ok || inv.Unit != "W01" {
			continue
		}
		delete(want, inv.Tenant)
		inv.Number = 7 + i
		ins, err := FromInvoice(site, run, inv, core.MustDate(2026, 4, 7), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(ins.Meters) != 1 || ins.Meters[0].Start == nil || ins.Meters[0].End == nil ||
			*ins.Meters[0].Start != w[0] || *ins.Meters[0].End != w[1] || ins.Meters[0].Consumption != w[1]-w[0] {
			t.Errorf("%s: meters %+v, want readings %v..%v", inv.Tenant, ins.Meters, w[0], w[1])
			continue
		}
		text := pdfText(t, renderPDF(t, ins))
		for _, s := range []string{KWh(w[0], 3), KWh(w[1], 3), KWh(w[1]-w[0], 3)} {
			if !strings.Contains(text, s) {
				t.Errorf("%s: reading %s not printed", inv.Tenant, s)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("no invoice for %v", want)
	}
}

// Printing a billed period's documents again (a lost letter, a month later)
// keeps each invoice's date: the day the period was billed, in the site's
// time zone, not the day of the reprint.
func TestIssueDateOfBilledPeriod(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "z.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	site := sampleSite()
	q1 := core.Period{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 3, 31)}
	billed := time.Date(2026, 4, 6, 22, 30, 0, 0, time.UTC) // 7 April, 00:30 in Bern
	now := time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC)
	if err := st.Update(func(tx store.Tx) error {
		return tx.LockPeriod(store.Lock{Site: site.ID, Period: q1, Time: billed, Note: "billed"})
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p    core.Period
		want core.Date
	}{
		{q1, core.MustDate(2026, 4, 7)},
		{core.Period{From: core.MustDate(2026, 4, 1), To: core.MustDate(2026, 4, 30)}, core.MustDate(2026, 5, 12)},
	} {
		var got core.Date
		if err := st.View(func(tx store.Tx) (err error) {
			got, err = IssueDate(tx, site, c.p, now)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("issue date of %s: %s, want %s", c.p, got, c.want)
		}
	}
}

// WriteFile replaces a file whole, readable by all, and leaves no
// temporary file behind, also when it fails.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "export.csv")
	for _, data := range []string{"first\n", "second\n"} {
		if err := WriteFile(p, []byte(data)); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(p); err != nil || string(b) != data {
			t.Errorf("read back %q, %v; want %q", b, err, data)
		}
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want -rw-r--r--", fi.Mode().Perm())
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x.csv"), []byte("x")); err == nil || !strings.Contains(err.Error(), "writing "+filepath.Join(dir, "missing", "x.csv")) {
		t.Errorf("into a missing folder: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left in %s: %v", dir, entries)
	}
}
