package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestExportXLSX(t *testing.T) {
	db := billDB(t)
	out := filepath.Join(t.TempDir(), "jan.xlsx")
	code, stdout, errs := run(t, db, "export", "xlsx", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--out", out, "--lang", "en")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(stdout, out) {
		t.Errorf("stdout %q does not name the file", stdout)
	}
	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("15-minute data", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 31*96+2 {
		t.Fatalf("%d rows, want 31 days × 96 + 2 header rows", len(rows))
	}
	// Columns: start, zone, PV (kWh, quality), GRID import and export, M1 (kWh,
	// solar, grid, quality), M2 ...: M1 uses 0.1 kWh, of which PV's 0.2 kWh
	// cover a quarter (S = 0.2 of C = 0.4).
	r := rows[2]
	if rows[0][8] != "M1" {
		t.Fatalf("header %v", rows[0])
	}
	for i, want := range map[int]float64{2: 0.2, 8: 0.1, 9: 0.05, 10: 0.05} {
		if v, _ := strconv.ParseFloat(r[i], 64); v != want {
			t.Errorf("column %d = %q, want %v", i, r[i], want)
		}
	}
	if r[11] != "measured" {
		t.Errorf("quality %q", r[11])
	}

	for _, bad := range [][]string{
		{"export", "xlsx", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31"},
		{"export", "xlsx", "--site", "birke", "--from", "2026-01-31", "--to", "2026-01-01", "--out", out},
		{"export", "xlsx", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--out", out, "--lang", "rm"},
	} {
		if code, _, _ := run(t, db, bad...); code != 1 {
			t.Errorf("%v: exit %d, want 1 (usage)", bad, code)
		}
	}
	code, _, errs = run(t, db, "export", "xlsx", "--site", "nope", "--from", "2026-01-01", "--to", "2026-01-31", "--out", out)
	if want := "zevdesk export xlsx: no site \"nope\": the database has the sites birke\n"; code != 1 || errs != want {
		t.Errorf("unknown site: exit %d, %q; want %q", code, errs, want)
	}
}

func TestBillOut(t *testing.T) {
	db := billDB(t)
	dir := filepath.Join(t.TempDir(), "docs")
	code, stdout, errs := run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--final", "--json", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.HasPrefix(strings.TrimSpace(stdout), "{") {
		t.Errorf("stdout is not only the JSON run: %.80q", stdout)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var pdfs, other []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".pdf") {
			pdfs = append(pdfs, e.Name())
		} else {
			other = append(other, e.Name())
		}
	}
	if len(pdfs) != 3 || len(other) != 3 {
		t.Errorf("documents: %v %v; want 3 inserts, the workbook, the export CSV and XLSX", pdfs, other)
	}
	if len(pdfs) > 0 && pdfs[0] != "birke_2026-01-01_2026-01-31_0001_W01.pdf" {
		t.Errorf("first insert named %s", pdfs[0])
	}
}

// TestExportProperty: the property-management export of a billed period
// carries the committed numbers, in the preset asked for, as CSV or XLSX.
func TestExportProperty(t *testing.T) {
	db := billDB(t)
	if code, _, errs := run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--final"); code != 0 {
		t.Fatalf("bill: %s", errs)
	}
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "jan.csv")
	code, stdout, errs := run(t, db, "export", "property", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--out", csvPath, "--preset", "excel-ch")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(stdout, csvPath) {
		t.Errorf("stdout %q", stdout)
	}
	data, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if !strings.HasPrefix(lines[0], "\ufeffZEV;Rechnung;Objekt;") || len(lines) < 2 || !strings.HasPrefix(lines[1], "birke;1;W01;") {
		t.Errorf("excel-ch export starts %q / %q", lines[0], lines[1])
	}
	xlsxPath := filepath.Join(dir, "jan.xlsx")
	if code, _, errs := run(t, db, "export", "property", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--out", xlsxPath); code != 0 {
		t.Fatalf("xlsx: %s", errs)
	}
	f, err := excelize.OpenFile(xlsxPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows("Export")
	if len(rows) != len(lines) || rows[0][0] != "site" || rows[1][1] != "1" {
		t.Errorf("xlsx rows %v, want the CSV's %d rows in the generic layout", rows[:min(2, len(rows))], len(lines))
	}
	for _, bad := range [][]string{
		{"--out", filepath.Join(dir, "x.txt")},
		{"--out", csvPath, "--preset", "immotop"},
	} {
		args := append([]string{"export", "property", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31"}, bad...)
		if code, _, _ := run(t, db, args...); code != 1 {
			t.Errorf("%v: exit %d, want 1 (usage)", bad, code)
		}
	}
}
