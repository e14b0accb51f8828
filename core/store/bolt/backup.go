package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"
)

// BackupTo writes a snapshot of the database into dir as
// zevdesk-YYYYMMDD-HHMMSS.db (now in UTC, so names sort in time order across
// daylight saving changes) with BackupFile, so that dir never holds a
// partial backup under a backup's name. It then deletes all but the newest
// keep backups in dir (keep < 1 keeps all) and returns the new backup's
// path.
func (s *Store) BackupTo(dir string, now time.Time, keep int) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating the backup directory: %w", err)
	}
	path := filepath.Join(dir, "zevdesk-"+now.UTC().Format("20060102-150405")+".db")
	if err := s.BackupFile(path); err != nil {
		return "", err
	}
	if keep > 0 {
		if err := pruneBackups(dir, keep); err != nil {
			return path, err
		}
	}
	return path, nil
}

// BackupFile writes a snapshot of the database to path through a temporary
// file in the same directory that is synced and then renamed, so that path
// is either its old content or a complete backup, never a partial one.
func (s *Store) BackupFile(path string) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".zevdesk-backup-*.tmp")
	if err != nil {
		return fmt.Errorf("creating the backup file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename this is a no-op
	if _, err := s.Backup(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("syncing the backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing the backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("naming the backup %s: %w", path, err)
	}
	return syncDir(dir)
}

var backupName = regexp.MustCompile(`^zevdesk-\d{8}-\d{6}\.db$`)

// Backups lists the backups BackupTo wrote into dir, oldest first.
func Backups(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing backups: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && backupName.MatchString(e.Name()) {
			names = append(names, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(names)
	return names, nil
}

func pruneBackups(dir string, keep int) error {
	names, err := Backups(dir)
	if err != nil {
		return err
	}
	var errs []error
	for len(names) > keep {
		if err := os.Remove(names[0]); err != nil {
			errs = append(errs, fmt.Errorf("deleting an old backup: %w", err))
		}
		names = names[1:]
	}
	return errors.Join(errs...)
}

// Ticker is the clock RunBackups runs on; each tick's time names the
// backup. Tests inject one that ticks on demand.
type Ticker interface {
	// NewTicker returns a channel that delivers a tick every d, and a
	// function that stops it.
	NewTicker(d time.Duration) (<-chan time.Time, func())
}

// SystemTicker is the real Ticker.
type SystemTicker struct{}

// NewTicker returns a time.Ticker's channel and its Stop.
func (SystemTicker) NewTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// RunBackups writes a backup into dir at every tick of clock (every d),
// keeping the newest keep, until ctx ends; then it returns ctx's error. A
// failed backup is logged and retried at the next tick. A nil clock means
// SystemTicker.
func (s *Store) RunBackups(ctx context.Context, dir string, every time.Duration, keep int, clock Ticker) error {
	if clock == nil {
		clock = SystemTicker{}
	}
	ticks, stop := clock.NewTicker(every)
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-ticks:
			path, err := s.BackupTo(dir, now, keep)
			if err != nil {
				slog.Error("scheduled backup failed", "dir", dir, "err", err)
				continue
			}
			slog.Info("backup written", "path", path)
		}
	}
}

// Restore replaces the database file at dbPath with the backup at
// backupPath. The backup is copied next to dbPath, synced, opened and
// checked (Check) first; only then is it renamed over dbPath, so that dbPath
// is always either the old database or the complete new one. The old file
// is kept as dbPath+".before-restore". dbPath must not be open: Restore
// fails if another program holds it.
func Restore(backupPath, dbPath string) error {
	src, err := os.Open(backupPath)
	if err != nil {
		return fmt.Errorf("restoring: %w", err)
	}
	defer src.Close()
	dir := filepath.Dir(dbPath)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("restoring: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".zevdesk-restore-*.tmp")
	if err != nil {
		return fmt.Errorf("restoring: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return fmt.Errorf("restoring: copying %s: %w", backupPath, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("restoring: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("restoring: %w", err)
	}
	if err := verify(tmp.Name()); err != nil {
		return fmt.Errorf("restoring: %s is not a usable zevdesk database: %w", backupPath, err)
	}
	if fileExists(dbPath) {
		// Taking the lock briefly tells whether zevdesk has the file open.
		cur, err := Open(dbPath, &Options{ReadOnly: true, Timeout: 500 * time.Millisecond})
		if err != nil {
			return fmt.Errorf("restoring: %w", err)
		}
		cur.Close()
		old := dbPath + ".before-restore"
		os.Remove(old)
		if err := os.Link(dbPath, old); err != nil {
			// Some file systems have no hard links: copy instead.
			if err := copyFile(dbPath, old); err != nil {
				return fmt.Errorf("restoring: keeping the current database: %w", err)
			}
		}
	}
	if err := os.Rename(tmp.Name(), dbPath); err != nil {
		return fmt.Errorf("restoring: %w", err)
	}
	return syncDir(dir)
}

// verify opens the database at path read-only and checks it. Its errors
// name path, a temporary copy the user never saw, as "the copy": the caller
// names the backup.
func verify(path string) error {
	st, err := Open(path, &Options{ReadOnly: true, Timeout: time.Second})
	if err == nil {
		defer st.Close()
		err = st.Check()
	}
	if err != nil {
		return &copyError{msg: strings.ReplaceAll(err.Error(), path, "the copy"), err: err}
	}
	return nil
}

// copyError is an error about a temporary copy, worded without its name.
type copyError struct {
	msg string
	err error
}

func (e *copyError) Error() string { return e.msg }
func (e *copyError) Unwrap() error { return e.err }

// syncDir makes a rename in dir durable. Windows cannot sync a directory
// handle; NTFS journals the rename itself.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// copyFile copies src to dst and syncs dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
