package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// Automatic backups, taken by the long-running faces of zevdesk (the desktop
// app and `serve`): one a day into "backups" beside the database, the newest
// BackupKeep kept.
const (
	BackupEvery = 24 * time.Hour
	BackupKeep  = 14
)

// BackupDir is where automatic backups of the database go.
func (e *Env) BackupDir() string { return filepath.Join(filepath.Dir(e.DBPath), "backups") }

// StartBackups takes a backup at once when the newest one is older than
// BackupEvery (a workstation that is switched off every evening would
// otherwise never reach the first tick), then one every BackupEvery until
// ctx ends. It returns after the first check; the schedule runs in its own
// goroutine.
func (e *Env) StartBackups(ctx context.Context) error {
	st, err := e.Store()
	if err != nil {
		return err
	}
	bs, ok := st.(*bolt.Store)
	if !ok {
		return nil // another engine backs itself up
	}
	dir := e.BackupDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the backup directory: %w", err)
	}
	if due, err := backupDue(dir, e.Clock.Now()); err != nil {
		return err
	} else if due {
		if _, err := bs.BackupTo(dir, e.Clock.Now(), BackupKeep); err != nil {
			return fmt.Errorf("backing up: %w", err)
		}
	}
	go func() {
		if err := bs.RunBackups(ctx, dir, BackupEvery, BackupKeep, nil); err != nil && ctx.Err() == nil {
			slog.Error("scheduled backups stopped", "dir", dir, "err", err)
		}
	}()
	return nil
}

// backupDue reports whether dir's newest backup is older than BackupEvery.
func backupDue(dir string, now time.Time) (bool, error) {
	names, err := bolt.Backups(dir)
	if err != nil {
		return false, fmt.Errorf("listing backups: %w", err)
	}
	if len(names) == 0 {
		return true, nil
	}
	fi, err := os.Stat(names[len(names)-1])
	if err != nil {
		return true, nil
	}
	return now.Sub(fi.ModTime()) >= BackupEvery, nil
}
