package cli

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// TestBackupWhileAppRuns: while the app holds the database (bbolt's file
// lock) and answers other processes, backup by hand goes through it and
// writes a snapshot, and the help says so.
func TestBackupWhileAppRuns(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "office.db")
	app := &Env{Stdout: io.Discard, Stderr: io.Discard, Clock: core.FixedClock(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)), DBPath: db}
	defer app.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := app.StartBackups(ctx); err != nil {
		t.Fatal(err)
	}
	stop, err := app.ServeOwner(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	copyDB := filepath.Join(dir, "copy.db")
	code, out, errs := runStoreCmd(t, "--db", db, "backup", "--out", copyDB)
	if code != 0 || !strings.HasPrefix(out, "backup written to "+copyDB) {
		t.Errorf("backup while the app runs: exit %d, %q, %q", code, out, errs)
	}
	st, err := bolt.Open(copyDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Check(); err != nil {
		t.Error(err)
	}
	st.Close()

	code, out, _ = runStoreCmd(t, "--db", db, "backup", "--help")
	if code != 0 || strings.Contains(out, "needs the database closed") ||
		!strings.Contains(out, "while the desktop app or serve has the database open, it writes the snapshot") ||
		!strings.Contains(out, "backups/ beside the database") {
		t.Errorf("backup --help: exit %d:\n%s", code, out)
	}
	code, out, _ = runStoreCmd(t, "--db", db, "restore", "--help")
	if code != 0 || !strings.Contains(out, "close the desktop app and serve first") {
		t.Errorf("restore --help: exit %d:\n%s", code, out)
	}
}
