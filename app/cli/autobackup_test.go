package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

func TestStartBackupsTakesOneWhenDue(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Clock: core.FixedClock(now), DBPath: filepath.Join(dir, "office.db")}
	defer env.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := env.StartBackups(ctx); err != nil {
		t.Fatal(err)
	}
	names, err := bolt.Backups(env.BackupDir())
	if err != nil || len(names) != 1 {
		t.Fatalf("after the first start: %v %v, want one backup", names, err)
	}
	// A restart an hour later takes none: the newest is fresh.
	if err := env.StartBackups(ctx); err != nil {
		t.Fatal(err)
	}
	if names, _ := bolt.Backups(env.BackupDir()); len(names) != 1 {
		t.Fatalf("a fresh backup was taken again: %v", names)
	}
	// Two days later (the workstation was off) one is due at once.
	old := now.Add(-2 * BackupEvery)
	if err := os.Chtimes(names[0], old, old); err != nil {
		t.Fatal(err)
	}
	env.Clock = core.FixedClock(now.Add(time.Hour))
	if err := env.StartBackups(ctx); err != nil {
		t.Fatal(err)
	}
	if names, _ := bolt.Backups(env.BackupDir()); len(names) != 2 {
		t.Fatalf("no backup after two days off: %v", names)
	}
}
