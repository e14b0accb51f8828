package cli

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
)

// TestBackupWhileAppRuns: while the app holds the database, backup by hand
// is refused (bbolt's file lock) with a message that says where the app's
// own backups go, and the help says so rather than promising it works.
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

	code, out, errs := runStoreCmd(t, "--db", db, "backup", "--out", filepath.Join(dir, "copy.db"))
	if code != 1 || !strings.Contains(errs, "in use") || !strings.Contains(errs, app.BackupDir()) {
		t.Errorf("backup while the app runs: exit %d, %q, %q; want a refusal naming %s", code, out, errs, app.BackupDir())
	}

	code, out, _ = runStoreCmd(t, "--db", db, "backup", "--help")
	if code != 0 || strings.Contains(out, "while zevdesk keeps running") ||
		!strings.Contains(out, "needs the database closed") || !strings.Contains(out, "backups/ beside the database") {
		t.Errorf("backup --help: exit %d:\n%s", code, out)
	}
	code, out, _ = runStoreCmd(t, "--db", db, "restore", "--help")
	if code != 0 || !strings.Contains(out, "close the desktop app and serve first") {
		t.Errorf("restore --help: exit %d:\n%s", code, out)
	}
}
