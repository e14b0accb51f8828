package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// tenStored returns the stored site's tenancies and the audit actions.
func tenStored(t *testing.T, db string) ([]core.Occupancy, []string) {
	t.Helper()
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var occ []core.Occupancy
	var audit []string
	err = st.View(func(tx store.Tx) error {
		s, err := tx.Site("linde")
		if err != nil {
			return err
		}
		occ = s.Occupancies
		return tx.ScanAudit(0, func(e store.Entry) bool {
			audit = append(audit, e.Action)
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return occ, audit
}

func TestImportTenantsCommand(t *testing.T) {
	db, dir := impOffice(t)
	first := impWriteFile(t, dir, "mieter.csv", "Einheit?\n")
	code, out, errs := run(t, db, "import", "tenants", first)
	if want := "zevdesk import tenants: " + first + `:1: header: unknown column "einheit?": a tenant list has the columns unit,name,from,to,language,reference,email,street,number,postcode,town,country,advance_chf_month` + "\n"; code != 1 || out != "" || errs != want {
		t.Errorf("bad header: exit %d, stderr %q\nwant %q", code, errs, want)
	}

	first = impWriteFile(t, dir, "mieter.csv", "unit;name;from;to;language;advance_chf_month\nA;Anna Muster;01.01.2026;30.06.2026;fr;85.00\nB;Bruno Beispiel;2026-01-01;;;60\n")
	second := impWriteFile(t, dir, "neu.csv", "unit,name,from\nA,Carla Neu,2026-07-01\n")
	code, out, errs = run(t, db, "import", "tenants", first, second)
	if want := first + ": 2 tenancies: 2 added, 0 updated, 0 unchanged\n" + second + ": 1 tenancies: 1 added, 0 updated, 0 unchanged\n"; code != 0 || out != want || errs != "" {
		t.Errorf("exit %d, stdout %q, stderr %q\nwant %q", code, out, errs, want)
	}
	occ, audit := tenStored(t, db)
	if len(occ) != 3 || occ[0].Language != "fr" || occ[0].AdvanceMonth != 8500 || occ[2].Name != "Carla Neu" {
		t.Errorf("stored %+v", occ)
	}
	if strings.Join(audit, ",") != "site.import,tenants.import,tenants.import" {
		t.Errorf("audit %v", audit)
	}

	// The second file overlaps what the first sets up: checked before
	// anything is stored.
	upd := impWriteFile(t, dir, "upd.csv", "unit,name,from,to\nB,Bruno Beispiel,2026-01-01,2026-03-31\n")
	clash := impWriteFile(t, dir, "clash.csv", "unit,name,from\nB,Dario,2026-03-15\n")
	code, _, errs = run(t, db, "import", "tenants", upd, clash)
	if want := "zevdesk import tenants: " + clash + ":2: column from: the tenancy of Dario in unit B (2026-03-15..open) overlaps the site's tenancy of Bruno Beispiel (2026-01-01..2026-03-31)\n"; code != 1 || errs != want {
		t.Errorf("clash: exit %d\nstderr %q\nwant   %q", code, errs, want)
	}
	if occ, _ := tenStored(t, db); !occ[1].To.IsZero() {
		t.Errorf("the first file was stored: %+v", occ[1])
	}

	code, out, _ = run(t, db, "import", "tenants", "--replace", second)
	if want := second + ": 1 tenancies: 0 added, 0 updated, 1 unchanged, 2 removed\n"; code != 0 || out != want {
		t.Errorf("--replace: exit %d, stdout %q, want %q", code, out, want)
	}
	code, _, errs = run(t, db, "import", "tenants")
	if code != 1 || !strings.Contains(errs, "expected one or more tenant lists") {
		t.Errorf("no file: exit %d, stderr %q", code, errs)
	}
}

func TestImportTenantsXLSX(t *testing.T) {
	db, dir := impOffice(t)
	f := excelize.NewFile()
	rows := [][]any{
		{"Unit", "Name", "From", "Advance_CHF_Month"},
		{"A", "Anna Muster", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 85.5},
		{"B", "Bruno", "2026-02-01", 40},
	}
	for r, row := range rows {
		for c, v := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if err := f.SetCellValue("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(dir, "mieter.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, db, "import", "tenants", path)
	if want := path + ": 2 tenancies: 2 added, 0 updated, 0 unchanged\n"; code != 0 || out != want {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	occ, _ := tenStored(t, db)
	if len(occ) != 2 || occ[0].From != core.MustDate(2026, 1, 1) || occ[0].AdvanceMonth != 8550 || occ[1].AdvanceMonth != 4000 {
		t.Errorf("stored %+v", occ)
	}
}
