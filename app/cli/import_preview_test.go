package cli

import (
	"strings"
	"testing"
)

// TestImportPreview: the preview says what a file holds and stores
// nothing; a bad file is the importer's error with its line.
func TestImportPreview(t *testing.T) {
	db, dir := impOffice(t)
	f := impWriteFile(t, dir, "day.csv", impDayCSV())
	code, out, errs := run(t, db, "import", "preview", f)
	if code != 0 {
		t.Fatalf("preview: %s", errs)
	}
	if !strings.Contains(out, "day.csv: readings, 192 rows, 192 values for MA, MB, 2026-03-02 01:00 to 2026-03-03 01:00 (Europe/Zurich); nothing stored") {
		t.Errorf("preview %q", out)
	}
	// Nothing stored: importing afterwards writes every value.
	if code, out, errs = run(t, db, "import", "readings", f); code != 0 || !strings.Contains(out, "192 values written") {
		t.Errorf("import after preview: %d %q %s", code, out, errs)
	}
	bad := impWriteFile(t, dir, "bad.csv", "meter,start,kwh_in\nMA,2026-03-02T00:00:00Z,1\nMX,2026-03-02T00:15:00Z,1\n")
	if code, _, errs = run(t, db, "import", "preview", bad); code == 0 || !strings.Contains(errs, "bad.csv:3") {
		t.Errorf("bad file: %d %s", code, errs)
	}
}
