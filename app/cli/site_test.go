package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// impSiteTOML is a small site file with two unit meters.
const impSiteTOML = `id = "linde"
name = "ZEV Linde"

[operator]
name = "Linde Verwaltung"
iban = "CH44 3199 9123 0008 8901 2"

[[units]]
id = "A"
[[units]]
id = "B"

[[meters]]
id = "GRID"
role = "grid"
[[meters]]
id = "PV"
role = "production"
[[meters]]
id = "MA"
role = "unit"
unit = "A"
[[meters]]
id = "MB"
role = "unit"
unit = "B"

[[tariffs]]
from = 2026-01-01
solar_chf_kwh = 0.20
grid_chf_kwh = 0.30
`

// run runs zevdesk in-process on the database db and returns its exit
// status, stdout and stderr. Other commands' tests use it too.
func run(t *testing.T, db string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	d, code := Main(append([]string{"--db", db}, args...), &out, &errb)
	if d != nil {
		d.Env.Close()
		t.Fatalf("%v asked for the desktop app", args)
	}
	return code, out.String(), errb.String()
}

func impWriteFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// impSiteState opens the database after the command closed it and returns the
// stored site's name and the audit actions.
func impSiteState(t *testing.T, db, id string) (name string, actions []string) {
	t.Helper()
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.View(func(tx store.Tx) error {
		if s, err := tx.Site(id); err == nil {
			name = s.Name
		}
		return tx.ScanAudit(0, func(e store.Entry) bool { actions = append(actions, e.Action); return true })
	})
	return name, actions
}

func TestSiteImportCreatesThenUpdates(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "office.db")
	f := impWriteFile(t, dir, "linde.toml", impSiteTOML)
	code, out, errs := run(t, db, "site", "import", f)
	if code != 0 || out != "created site linde\n" || errs != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	impWriteFile(t, dir, "linde.toml", strings.Replace(impSiteTOML, `"ZEV Linde"`, `"ZEV Linde Ost"`, 1))
	code, out, _ = run(t, db, "site", "import", f)
	if code != 0 || out != "updated site linde: name changed\n" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	name, actions := impSiteState(t, db, "linde")
	if name != "ZEV Linde Ost" || strings.Join(actions, ",") != "site.import,site.update" {
		t.Errorf("stored name %q, audit %v", name, actions)
	}
}

func TestSiteImportErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "office.db")
	bad := impWriteFile(t, dir, "bad.toml", strings.Replace(impSiteTOML, `role = "production"`, `role = "pv"`, 1))
	code, out, errs := run(t, db, "site", "import", bad)
	want := "zevdesk site import: " + bad + `:18: meters[1].role: unknown role "pv": expected one of production, grid, unit, common, heatpump, ev` + "\n"
	if code != 1 || out != "" || errs != want {
		t.Errorf("exit %d, stdout %q\nstderr %q\nwant   %q", code, out, errs, want)
	}
	if name, actions := impSiteState(t, db, "linde"); name != "" || len(actions) != 0 {
		t.Errorf("a bad site file wrote %q %v", name, actions)
	}

	code, _, errs = run(t, db, "site", "import")
	if code != 1 || !strings.Contains(errs, "expected one site file") || !strings.Contains(errs, "usage: zevdesk site import FILE.toml") {
		t.Errorf("no file: exit %d, stderr %q", code, errs)
	}
	code, _, errs = run(t, db, "site", "import", filepath.Join(dir, "missing.toml"))
	if code != 1 || !strings.Contains(errs, "missing.toml") {
		t.Errorf("missing file: exit %d, stderr %q", code, errs)
	}
}

// TestSiteImportWarnsAboutDroppedMeterWithData: an update that leaves out a
// meter with stored readings says so, since billing stops counting it.
func TestSiteImportWarnsAboutDroppedMeterWithData(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "office.db")
	f := impWriteFile(t, dir, "linde.toml", impSiteTOML)
	if code, _, errs := run(t, db, "site", "import", f); code != 0 {
		t.Fatal(errs)
	}
	csv := impWriteFile(t, dir, "r.csv", "meter,start,kwh_in\nMB,2026-01-05T10:00:00Z,0.2\n")
	if code, _, errs := run(t, db, "import", "readings", csv); code != 0 {
		t.Fatal(errs)
	}
	// MA has no data, MB has: dropping both warns about MB only.
	noUnitMeters := strings.Replace(impSiteTOML, "[[meters]]\nid = \"MA\"\nrole = \"unit\"\nunit = \"A\"\n[[meters]]\nid = \"MB\"\nrole = \"unit\"\nunit = \"B\"\n", "", 1)
	if noUnitMeters == impSiteTOML {
		t.Fatal("test site file has changed: cannot drop the unit meters")
	}
	impWriteFile(t, dir, "linde.toml", noUnitMeters)
	code, out, errs := run(t, db, "site", "import", f)
	if code != 0 || out != "updated site linde: meters -MA -MB\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	want := "warning: meter MB is no longer in " + f + ": its stored data is kept but not checked or billed any more (add the meter again to use it)\n"
	if errs != want {
		t.Errorf("stderr %q\nwant   %q", errs, want)
	}
}

// TestSiteExport: `site export` prints the stored site as a site file, and
// with --out writes it to a file that `site import` reads into a fresh
// database, whose export is the same bytes.
func TestSiteExport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "office.db")
	f := impWriteFile(t, dir, "linde.toml", impSiteTOML)
	if code, _, errs := run(t, db, "site", "import", f); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	code, out, errs := run(t, db, "site", "export", "--site", "linde")
	if code != 0 || !strings.Contains(out, "id = \"linde\"\nname = \"ZEV Linde\"\n") || !strings.Contains(out, "[[meters]]\nid = \"MB\"\nrole = \"unit\"\nunit = \"B\"\n") {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, errs, out)
	}
	exp := filepath.Join(dir, "export.toml")
	if code, _, errs := run(t, db, "site", "export", "--site", "linde", "--out", exp); code != 0 || !strings.Contains(errs, "wrote site linde to") {
		t.Fatalf("export --out: exit %d, %s", code, errs)
	}
	db2 := filepath.Join(dir, "fresh.db")
	if code, out, errs := run(t, db2, "site", "import", exp); code != 0 || out != "created site linde\n" {
		t.Fatalf("import of the export: exit %d %q %q", code, out, errs)
	}
	_, again, _ := run(t, db2, "site", "export", "--site", "linde")
	if again != out {
		t.Errorf("export after the round trip differs:\n%s\n---\n%s", out, again)
	}
	if code, _, errs := run(t, db, "site", "export", "--site", "nope"); code == 0 || !strings.Contains(errs, `no site "nope"`) {
		t.Errorf("unknown site: exit %d, %q", code, errs)
	}
}
