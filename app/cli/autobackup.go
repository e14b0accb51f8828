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

// BackupEvery is how often the long-running faces of zevdesk (the desktop
// app and `serve`) back up the database while they run. What they keep is
// bolt.Generations: the newest backup of each of the last 7 days, 4 weeks
// and 12 months that have one, in the computer's time zone.
const BackupEvery = 24 * time.Hour

// BackupDir is where automatic backups of the database go.
func (e *Env) BackupDir() string { return filepath.Join(filepath.Dir(e.DBPath), "backups") }

// StartBackups takes a backup at once unless one was already taken today
// (a workstation that is switched off every evening would otherwise never
// reach the first tick), then one every e.BackupEvery (the constant
// BackupEvery when zero) until ctx ends, each
// checked before any older one is deleted (bolt.Store.BackupTo). It returns
// after the first backup; the schedule runs in its own goroutine. A backup
// that fails is logged, not returned: the schedule still starts, and the
// older backups stay. It returns an error only when backups cannot run at
// all.
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
	now := e.Clock.Now()
	if due, err := backupDue(dir, now, time.Local); err != nil {
		return err
	} else if due {
		if path, err := bs.BackupTo(dir, now, bolt.Generations); err != nil {
			slog.Error("backup at start failed", "dir", dir, "path", path, "err", err)
		} else {
			slog.Info("backup written", "path", path)
		}
	}
	go func() {
		every := e.BackupEvery
		if every <= 0 {
			every = BackupEvery
		}
		if err := bs.RunBackups(ctx, dir, every, bolt.Generations, nil); err != nil && ctx.Err() == nil {
			slog.Error("scheduled backups stopped", "dir", dir, "err", err)
		}
	}()
	return nil
}

// backupDue reports whether dir holds no checked backup taken on now's day
// in loc. A backup named after now (the clock was set back) does not count.
func backupDue(dir string, now time.Time, loc *time.Location) (bool, error) {
	backups, err := bolt.Backups(dir)
	if err != nil {
		return false, fmt.Errorf("listing backups: %w", err)
	}
	if len(backups) == 0 {
		return true, nil
	}
	newest := backups[len(backups)-1].Time.In(loc)
	today := now.In(loc)
	y1, m1, d1 := newest.Date()
	y2, m2, d2 := today.Date()
	return newest.After(now) || y1 != y2 || m1 != m2 || d1 != d2, nil
}
