package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// storeDB creates a database at path holding site "s" with a day of one
// meter's intervals whose energy is tag Wh each.
func storeDB(t *testing.T, path string, tag core.Energy) {
	t.Helper()
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(&core.Site{ID: "s", Name: "S", Timezone: "Europe/Zurich"}); err != nil {
			return err
		}
		day := core.MustDate(2026, 3, 1).FirstSlot(time.UTC)
		var vals []store.Value
		for i := range 96 {
			vals = append(vals, store.Value{Slot: day + core.Slot(i), Energy: tag * core.Wh, Quality: store.Measured})
		}
		_, err := tx.PutIntervals(store.SeriesID{Site: "s", Meter: "M"}, vals, store.KeepFirst)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// storedTag returns the energy stored by storeDB in the database at path.
func storedTag(t *testing.T, path string) core.Energy {
	t.Helper()
	st, err := bolt.Open(path, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ser store.Series
	err = st.View(func(tx store.Tx) error {
		day := core.MustDate(2026, 3, 1).FirstSlot(time.UTC)
		return tx.ReadIntervals(store.SeriesID{Site: "s", Meter: "M"}, day, day+96, &ser)
	})
	if err != nil {
		t.Fatal(err)
	}
	return ser.Energy[50] / core.Wh
}

func runStoreCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	_, code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "office.db")
	storeDB(t, db, 7)
	code, out, errs := runStoreCmd(t, "--db", db, "check")
	if code != 0 || !strings.Contains(out, "ok (1 sites, 1 interval series)") {
		t.Errorf("check of a sound database: exit %d, %q, %q", code, out, errs)
	}

	missing := filepath.Join(dir, "typo.db")
	code, _, errs = runStoreCmd(t, "--db", missing, "check")
	if code != 1 || !strings.Contains(errs, "no database at "+missing) {
		t.Errorf("check of a missing file: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("check created a database")
	}

	// Damage the file's page area: bbolt's check or the block decoder must
	// notice.
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for i := 4 * 4096; i < min(len(b), 12*4096); i++ {
		b[i] ^= 0x5a
	}
	if err := os.WriteFile(db, b, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runStoreCmd(t, "--db", db, "check")
	t.Logf("damaged database: %s", errs)
	if code != 1 || !strings.HasPrefix(errs, "zevdesk check: ") {
		t.Errorf("check of a damaged database: exit %d, %q", code, errs)
	}

	if code, _, errs := runStoreCmd(t, "--db", db, "check", "extra"); code != 1 || !strings.Contains(errs, "usage: zevdesk check") {
		t.Errorf("check with an argument: exit %d, %q", code, errs)
	}
}

func TestBackupRestoreCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "office.db")
	storeDB(t, db, 7)
	bak := filepath.Join(dir, "snap.db")
	code, out, errs := runStoreCmd(t, "--db", db, "backup", "--out", bak)
	if code != 0 || !strings.Contains(out, "backup written to "+bak) {
		t.Fatalf("backup: exit %d, %q, %q", code, out, errs)
	}
	if got := storedTag(t, bak); got != 7 {
		t.Errorf("backup holds %d, want 7", got)
	}

	// Change the database, then restore the backup over it.
	if err := os.Remove(db); err != nil {
		t.Fatal(err)
	}
	storeDB(t, db, 9)
	code, out, errs = runStoreCmd(t, "--db", db, "restore", bak)
	if code != 0 || !strings.Contains(out, "restored "+bak) {
		t.Fatalf("restore: exit %d, %q, %q", code, out, errs)
	}
	if got := storedTag(t, db); got != 7 {
		t.Errorf("after restore the database holds %d, want 7", got)
	}
	if got := storedTag(t, db+".before-restore"); got != 9 {
		t.Errorf("the kept database holds %d, want 9", got)
	}

	// A file that is not a database is refused and changes nothing.
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("junk"), 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runStoreCmd(t, "--db", db, "restore", junk)
	if code != 1 || !strings.Contains(errs, "not a usable zevdesk database") {
		t.Errorf("restore of junk: exit %d, %q", code, errs)
	}
	if got := storedTag(t, db); got != 7 {
		t.Errorf("after a refused restore the database holds %d, want 7", got)
	}

	// Dated backups into a directory, keeping the newest two.
	bdir := filepath.Join(dir, "backups")
	for range 3 {
		if code, out, errs := runStoreCmd(t, "--db", db, "backup", "--dir", bdir, "--keep", "2"); code != 0 {
			t.Fatalf("backup --dir: exit %d, %q, %q", code, out, errs)
		}
	}
	names, err := bolt.Backups(bdir)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 1 || len(names) > 2 {
		t.Errorf("backup --dir --keep 2 left %q", names)
	}

	for _, args := range [][]string{{"backup"}, {"backup", "--out", bak, "--dir", bdir}, {"restore"}, {"backup", "--dir", bdir, "--keep", "-1"}} {
		if code, _, errs := runStoreCmd(t, append([]string{"--db", db}, args...)...); code != 1 {
			t.Errorf("%q: exit %d, %q, want a usage error", args, code, errs)
		}
	}
}

// The help lists every command on one line each, with no trailing blanks
// (check takes no arguments).
func TestHelpLines(t *testing.T) {
	code, out, _ := run(t, filepath.Join(t.TempDir(), "z.db"), "help")
	if code != 0 || !strings.Contains(out, "  zevdesk [--db FILE|URL] check\n") {
		t.Errorf("help: exit %d:\n%s", code, out)
	}
	if !strings.Contains(out, "serve [--web ADDR") {
		t.Errorf("help does not offer serve --web:\n%s", out)
	}
	for i, l := range strings.Split(out, "\n") {
		if strings.TrimRight(l, " ") != l {
			t.Errorf("help line %d ends in a blank: %q", i+1, l)
		}
	}
}

// A command's --help is an answer, not an error: its usage and every flag
// on standard output, exit 0.
func TestCommandHelp(t *testing.T) {
	db := filepath.Join(t.TempDir(), "z.db")
	for _, args := range [][]string{{"quality", "--help"}, {"import", "readings", "-h"}, {"gateway", "--help"}} {
		code, out, errs := run(t, db, args...)
		name := strings.Join(args[:len(args)-1], " ")
		if code != 0 || errs != "" || !strings.Contains(out, "usage: zevdesk "+name+" ") || !strings.Contains(out, "  -site") && name != "gateway" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	// quality and meter take the only site when --site is left out.
	for _, args := range [][]string{{"quality", "-h"}, {"meter", "estimate", "-h"}, {"meter", "replace", "-h"}} {
		name := strings.Join(args[:len(args)-1], " ")
		if _, out, _ := run(t, db, args...); !strings.Contains(out, "usage: zevdesk "+name+" [--site ID] ") {
			t.Errorf("%s: --site is optional:\n%s", name, out)
		}
	}
	if _, out, _ := run(t, db, "gateway", "--help"); !strings.Contains(out, "-pv-kwp") {
		t.Errorf("gateway --help does not list --pv-kwp:\n%s", out)
	}
}
