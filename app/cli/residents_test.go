package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zevdesk/zevdesk/ingest/sim"
)

// TestResidentsCommand: `residents` lists each occupancy with a link that
// stays the same from one listing to the next; renew changes one, revoke
// stops it, and the key file beside the database is what shows the links
// again.
func TestResidentsCommand(t *testing.T) {
	b := sim.New(sim.Config{Seed: 3, Units: 5, PVkWp: 10})
	db := officeDB(t, b)
	type row struct {
		Unit, Tenant, From, To, URL, State string
	}
	list := func(args ...string) []row {
		t.Helper()
		code, out, errs := run(t, db, append([]string{"residents", "--site", "birke", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("residents: exit %d: %s", code, errs)
		}
		var rows []row
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return rows
	}
	code, _, errs := run(t, db, "residents", "--site", "birke", "--base", "ftp://x")
	if code != 1 || !strings.Contains(errs, "expected http(s)://HOST[:PORT]") {
		t.Errorf("a bad --base: exit %d, %q", code, errs)
	}
	first := list("--base", "https://192.168.1.20:8443")
	if len(first) != len(b.Site("birke").Occupancies) {
		t.Fatalf("%d rows, want one per occupancy", len(first))
	}
	seen := map[string]bool{}
	for _, r := range first {
		if r.Unit == "" || r.Tenant == "" || r.From == "" {
			t.Errorf("row %+v", r)
		}
		if r.State == "active" {
			tok := strings.TrimSuffix(strings.TrimPrefix(r.URL, "https://192.168.1.20:8443/r/"), "/")
			if len(tok) != 24 || seen[tok] {
				t.Errorf("link %q", r.URL)
			}
			seen[tok] = true
		}
	}
	if len(seen) == 0 {
		t.Fatal("no active link")
	}
	again := list()
	for i := range first {
		if again[i].URL != first[i].URL {
			t.Errorf("%s: the link changed between listings: %q, %q", first[i].Tenant, first[i].URL, again[i].URL)
		}
	}
	u := first[0]
	code, out, errs := run(t, db, "residents", "renew", "--site", "birke", "--unit", u.Unit, "--tenant", u.Tenant)
	if code != 0 || !strings.Contains(out, "new link for "+u.Tenant) {
		t.Fatalf("renew: exit %d, %q %q", code, out, errs)
	}
	renewed := list()[0]
	if renewed.URL == u.URL || !strings.Contains(out, renewed.URL) {
		t.Errorf("renew: listed %q, printed %q, before %q", renewed.URL, out, u.URL)
	}
	if code, _, errs := run(t, db, "residents", "revoke", "--site", "birke", "--unit", u.Unit, "--tenant", u.Tenant); code != 0 {
		t.Fatalf("revoke: %s", errs)
	}
	if r := list()[0]; r.URL != "" || r.State != "revoked" {
		t.Errorf("after revoke: %+v", r)
	}
	if code, _, errs := run(t, db, "residents", "renew", "--site", "birke", "--unit", "nope"); code != 1 || !strings.Contains(errs, `no occupancy in unit "nope"`) {
		t.Errorf("renew of an unknown unit: exit %d, %q", code, errs)
	}
	// Without the key file the links cannot be shown again.
	if err := os.Remove(LinkKeyPath(db)); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, db, "residents", "--site", "birke")
	if code != 0 || !strings.Contains(out, "the link key is missing") {
		t.Errorf("without the key: exit %d:\n%s", code, out)
	}
}

// TestBillOutPrintsLinks: once the view's address is set, `bill --out`
// prints each tenant's personal link (with its QR code) on the insert.
func TestBillOutPrintsLinks(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		msg := "pdftotext not installed (Debian package poppler-utils; `make deps` installs it)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	db := billDB(t)
	code, out, errs := run(t, db, "residents", "--site", "birke", "--json", "--base", "http://10.0.0.5:8080")
	if code != 0 {
		t.Fatalf("residents: %s", errs)
	}
	var rows []struct{ Tenant, URL string }
	json.Unmarshal([]byte(out), &rows)
	dir := t.TempDir()
	if code, _, errs := run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--out", dir); code != 0 {
		t.Fatalf("bill --out: %s", errs)
	}
	pdfs, _ := filepath.Glob(filepath.Join(dir, "*.pdf"))
	var all string
	for _, p := range pdfs {
		b, err := exec.Command("pdftotext", "-layout", p, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		all += string(b)
	}
	found := 0
	for _, r := range rows {
		if r.URL == "" {
			continue
		}
		if !strings.Contains(all, r.URL) {
			t.Errorf("no insert carries %s's link %s", r.Tenant, r.URL)
		}
		found++
	}
	if found == 0 {
		t.Fatal("no link to look for")
	}
}

// A PostgreSQL database keeps its link key and certificate beside the
// default database file: no part of its URL, the password least of all,
// names a file.
func TestSideFilesPostgres(t *testing.T) {
	db := "postgres://office:s3cret@db.example/zevdesk"
	if got := SideFiles(db); got != DefaultDBPath() {
		t.Errorf("SideFiles(%s) = %q, want the default file %q", db, got, DefaultDBPath())
	}
	if got := LinkKeyPath(db); strings.Contains(got, "s3cret") || got != DefaultDBPath()+".linkkey" {
		t.Errorf("LinkKeyPath(%s) = %q", db, got)
	}
	if got := SideFiles("/srv/office.db"); got != "/srv/office.db" {
		t.Errorf("SideFiles of a file: %q", got)
	}
}
