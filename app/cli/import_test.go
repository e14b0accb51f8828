package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// impOffice returns a database holding the test site, and a directory.
func impOffice(t *testing.T) (db, dir string) {
	t.Helper()
	return impOfficeWith(t, impSiteTOML)
}

// impOfficeWith is a database in a temporary directory with the site of
// siteTOML imported.
func impOfficeWith(t *testing.T, siteTOML string) (db, dir string) {
	t.Helper()
	dir = t.TempDir()
	db = filepath.Join(dir, "office.db")
	if code, _, errs := run(t, db, "site", "import", impWriteFile(t, dir, "linde.toml", siteTOML)); code != 0 {
		t.Fatalf("site import: %s", errs)
	}
	return db, dir
}

// impDayCSV is a day of interval energy for MA and MB starting 2026-03-02 UTC.
func impDayCSV() string {
	var b strings.Builder
	b.WriteString("meter,start,kwh_in\n")
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, m := range []string{"MA", "MB"} {
		for s := range 96 {
			fmt.Fprintf(&b, "%s,%s,0.%03d\n", m, day.Add(time.Duration(s)*core.SlotDuration).Format(time.RFC3339), 100+s)
		}
	}
	return b.String()
}

func impStoredEnergy(t *testing.T, db, meter string, at time.Time) (core.Energy, store.Quality) {
	t.Helper()
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var s store.Series
	slot := core.SlotOf(at)
	err = st.View(func(tx store.Tx) error {
		return tx.ReadIntervals(store.SeriesID{Site: "linde", Meter: meter, Channel: store.Import}, slot, slot+1, &s)
	})
	if err != nil {
		t.Fatal(err)
	}
	return s.Energy[0], s.Quality[0]
}

func TestImportReadingsTwice(t *testing.T) {
	db, dir := impOffice(t)
	f := impWriteFile(t, dir, "day.csv", impDayCSV())
	code, out, errs := run(t, db, "import", "readings", f)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if want := f + ": 192 rows, 192 values written, 0 unchanged, 0 conflicts, 0 flags\n"; out != want {
		t.Errorf("stdout %q\nwant   %q", out, want)
	}
	if e, q := impStoredEnergy(t, db, "MB", time.Date(2026, 3, 2, 0, 15, 0, 0, time.UTC)); e != 101*core.Wh || q != store.Measured {
		t.Errorf("MB 00:15 = %v %v, want 0.101 kWh measured", e, q)
	}
	code, out, errs = run(t, db, "import", "readings", f)
	if want := f + ": 192 rows, 0 values written, 192 unchanged, 0 conflicts, 0 flags\n"; code != 0 || out != want || errs != "" {
		t.Errorf("second run: exit %d, stdout %q, stderr %q\nwant %q", code, out, errs, want)
	}
}

func TestImportReadingsConflictWarns(t *testing.T) {
	db, dir := impOffice(t)
	first := impWriteFile(t, dir, "a.csv", "meter,start,kwh_in\nMA,2026-03-02T00:00:00Z,0.5\n")
	second := impWriteFile(t, dir, "b.csv", "meter,start,kwh_in\nMA,2026-03-02T00:15:00Z,0.4\nMA,2026-03-02T01:00:00+01:00,0.6\n")
	code, out, errs := run(t, db, "import", "readings", first, second)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	wantOut := first + ": 1 rows, 1 values written, 0 unchanged, 0 conflicts, 0 flags\n" +
		second + ": 2 rows, 1 values written, 0 unchanged, 1 conflicts, 0 flags\n"
	wantErr := "warning: " + second + ": 1 values differ from the stored ones; the stored values were kept:\n" +
		"  line 3: meter MA import at 2026-03-02T00:00:00Z: 0.600 kWh differs from the stored 0.500 kWh (kept)\n"
	if out != wantOut || errs != wantErr {
		t.Errorf("stdout %q\nwant   %q\nstderr %q\nwant   %q", out, wantOut, errs, wantErr)
	}
	if e, _ := impStoredEnergy(t, db, "MA", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)); e != 500*core.Wh {
		t.Errorf("MA 00:00 = %v, want the first value 0.5 kWh kept", e)
	}
}

func TestImportReadingsBadFileWritesNothing(t *testing.T) {
	db, dir := impOffice(t)
	good := impWriteFile(t, dir, "good.csv", "meter,start,kwh_in\nMA,2026-03-02T00:00:00Z,0.5\n")
	bad := impWriteFile(t, dir, "bad.xlsx", "not a workbook")
	badCSV := impWriteFile(t, dir, "bad.csv", "meter,start,kwh_in\nMA,2026-03-02T00:15:00Z,0.5\nMX,2026-03-02T00:15:00Z,0.5\n")
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{[]string{good, badCSV}, badCSV + `:3: column meter: unknown meter "MX": site linde has GRID, PV, MA, MB`},
		{[]string{good, bad}, bad + ": expected an XLSX workbook"},
	} {
		code, out, errs := run(t, db, append([]string{"import", "readings"}, tc.files...)...)
		if code != 1 || out != "" || !strings.HasPrefix(errs, "zevdesk import readings: "+tc.want) {
			t.Errorf("exit %d, stdout %q\nstderr %q\nwant    %q", code, out, errs, tc.want)
		}
	}
	// Every file is read before any is stored: good.csv was not imported either.
	if _, q := impStoredEnergy(t, db, "MA", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)); q != store.Missing {
		t.Errorf("MA 00:00 has quality %v, want nothing stored", q)
	}
}

func TestImportReadingsChoosesSite(t *testing.T) {
	db, dir := impOffice(t)
	f := impWriteFile(t, dir, "a.csv", "meter,start,kwh_in\nMA,2026-03-02T00:00:00Z,0.5\n")

	empty := filepath.Join(dir, "empty.db")
	code, _, errs := run(t, empty, "import", "readings", f)
	if code != 1 || !strings.Contains(errs, "the database has no site: create one first with zevdesk site import FILE.toml") {
		t.Errorf("no site: exit %d, stderr %q", code, errs)
	}

	other := strings.NewReplacer(`id = "linde"`, `id = "eiche"`, `id = "MA"`, `id = "EA"`).Replace(impSiteTOML)
	if code, _, errs := run(t, db, "site", "import", impWriteFile(t, dir, "eiche.toml", other)); code != 0 {
		t.Fatal(errs)
	}
	code, _, errs = run(t, db, "import", "readings", f)
	if code != 1 || !strings.Contains(errs, "--site is required: the database has the sites eiche, linde") {
		t.Errorf("two sites: exit %d, stderr %q", code, errs)
	}
	code, _, errs = run(t, db, "import", "readings", "--site", "buche", f)
	if code != 1 || !strings.Contains(errs, `no site "buche": the database has the sites eiche, linde`) {
		t.Errorf("unknown site: exit %d, stderr %q", code, errs)
	}
	code, _, errs = run(t, db, "import", "readings", "--site", "eiche", f)
	if code != 1 || !strings.Contains(errs, `unknown meter "MA": site eiche has`) {
		t.Errorf("meter of another site: exit %d, stderr %q", code, errs)
	}
	code, out, errs := run(t, db, "import", "readings", f, "--site", "linde")
	if code != 0 || !strings.Contains(out, "1 values written") {
		t.Errorf("--site linde: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	code, _, errs = run(t, db, "import", "readings")
	if code != 1 || !strings.Contains(errs, "expected one or more readings files") {
		t.Errorf("no file: exit %d, stderr %q", code, errs)
	}
}

func TestImportReadingsListsFlags(t *testing.T) {
	db, dir := impOffice(t)
	// 10 kWh in 15 minutes is 40 kW, above the default 27.7 kW of a unit meter.
	f := impWriteFile(t, dir, "peak.csv", "meter,start,kwh_in\nMA,2026-03-02T00:00:00Z,10\nMA,2026-03-02T00:15:00Z,0.1\n")
	code, out, errs := run(t, db, "import", "readings", f)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || lines[0] != f+": 2 rows, 2 values written, 0 unchanged, 0 conflicts, 1 flags" ||
		!strings.HasPrefix(lines[1], "  flag MA 2026-03-02T00:00:00Z max-power: ") {
		t.Errorf("stdout:\n%s", out)
	}
	// The value is stored as it came: a flag explains, nothing is dropped.
	if e, q := impStoredEnergy(t, db, "MA", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)); e != 10*core.KWh || q != store.Measured {
		t.Errorf("MA 00:00 = %v %v, want 10 kWh measured", e, q)
	}
}
