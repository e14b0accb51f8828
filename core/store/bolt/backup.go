package bolt

import (
	"cmp"
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
	"strconv"
	"strings"
	"time"
)

// ErrBackupFailedCheck is wrapped by BackupTo and BackupFile when the
// snapshot they wrote fails Check. The snapshot is a faithful copy of the
// database, so the database itself is probably damaged; the snapshot is kept
// aside under a name that says so, and no older backup is deleted.
var ErrBackupFailedCheck = errors.New("the new backup failed its check (the database may be damaged: run zevdesk check with zevdesk closed, and restore a good backup)")

// Backup is one backup in a directory BackupTo writes to.
type Backup struct {
	// Path is the backup's file.
	Path string
	// Time is the instant in its name: UTC, to the second.
	Time time.Time
	// Seq tells apart backups named in the same second: 0 for the first,
	// then 2, 3, … (the file names end in -2, -3, …).
	Seq int
}

// String returns b's path.
func (b Backup) String() string { return b.Path }

// compare orders backups oldest first.
func (b Backup) compare(c Backup) int {
	if n := b.Time.Compare(c.Time); n != 0 {
		return n
	}
	return cmp.Compare(b.Seq, c.Seq)
}

// Backup file names: zevdesk-YYYYMMDD-HHMMSS[-N].db, the time in UTC so
// that names sort in time order across daylight saving changes, -N when
// another backup already took the second. One that failed its check is kept
// as zevdesk-YYYYMMDD-HHMMSS[-N].failed-check.db, which Backups does not
// list, so that retention never counts it.
const (
	nameTimeLayout  = "20060102-150405"
	failedSuffix    = ".failed-check.db"
	goodSuffix      = ".db"
	namePrefix      = "zevdesk-"
	keepFailedCount = 3 // failed backups kept for inspection; older ones are deleted
)

var (
	goodName   = regexp.MustCompile(`^zevdesk-(\d{8}-\d{6})(?:-(\d+))?\.db$`)
	failedName = regexp.MustCompile(`^zevdesk-(\d{8}-\d{6})(?:-(\d+))?\.failed-check\.db$`)
)

// backupName is the file name of the backup at t with sequence number seq.
func backupName(t time.Time, seq int, suffix string) string {
	name := namePrefix + t.UTC().Format(nameTimeLayout)
	if seq > 0 {
		name += "-" + strconv.Itoa(seq)
	}
	return name + suffix
}

// parseBackupName parses a name matched by re.
func parseBackupName(re *regexp.Regexp, name string) (time.Time, int, bool) {
	m := re.FindStringSubmatch(name)
	if m == nil {
		return time.Time{}, 0, false
	}
	t, err := time.Parse(nameTimeLayout, m[1])
	if err != nil {
		return time.Time{}, 0, false
	}
	seq := 0
	if m[2] != "" {
		if seq, err = strconv.Atoi(m[2]); err != nil || seq < 2 {
			return time.Time{}, 0, false
		}
	}
	return t, seq, true
}

// BackupTo writes a snapshot of the database into dir under a new name
// (see Backup), checks it, and then deletes the backups in dir that keep
// does not retain. It returns the new backup's path.
//
// The snapshot is written to a temporary file, synced, opened read-only and
// checked with Check (what zevdesk check does) before it gets a backup's
// name, so that dir never holds a partial or unchecked backup under such a
// name. The name is reserved with O_EXCL: two backups in the same second get
// two files (-2, -3, …), never one overwriting the other.
//
// A snapshot that fails its check is kept as
// zevdesk-YYYYMMDD-HHMMSS.failed-check.db (the newest three such files are
// kept, older ones deleted, so that a database that stays damaged does not
// fill the disk), nothing else is deleted, and BackupTo returns that path
// with an error wrapping ErrBackupFailedCheck.
func (s *Store) BackupTo(dir string, now time.Time, keep Retention) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating the backup directory: %w", err)
	}
	tmp, err := s.writeTemp(dir)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp) // after the rename this is a no-op
	checkErr := checkFile(tmp)
	suffix := goodSuffix
	if checkErr != nil {
		suffix = failedSuffix
	}
	path, err := reserve(dir, now, suffix)
	if err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("naming the backup %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return path, err
	}
	if checkErr != nil {
		err := fmt.Errorf("%w: kept as %s, older backups kept: %w", ErrBackupFailedCheck, path, renamed(checkErr, tmp, path))
		if perr := pruneFailed(dir); perr != nil {
			err = errors.Join(err, perr)
		}
		return path, err
	}
	return path, prune(dir, path, keep)
}

// reserve creates the empty file that holds the new backup's name. Another
// backup in the same second gets the next number (-2, -3, …) after the
// highest in dir, so that names keep their order even after retention
// deleted the earlier ones of the second.
func reserve(dir string, now time.Time, suffix string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("listing backups: %w", err)
	}
	sec := now.UTC().Truncate(time.Second)
	seq := 0
	for _, e := range ents {
		for _, re := range []*regexp.Regexp{goodName, failedName} {
			if t, n, ok := parseBackupName(re, e.Name()); ok && t.Equal(sec) {
				seq = max(seq, n+1, 2)
			}
		}
	}
	for ; ; seq = max(seq+1, 2) {
		path := filepath.Join(dir, backupName(now, seq, suffix))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("creating the backup file: %w", err)
		}
		return path, f.Close()
	}
}

// prune deletes the backups in dir that keep does not retain, never the
// new one at path.
func prune(dir, path string, keep Retention) error {
	all, err := Backups(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, b := range keep.Drop(all) {
		if b.Path == path {
			continue
		}
		if err := os.Remove(b.Path); err != nil {
			errs = append(errs, fmt.Errorf("deleting an old backup: %w", err))
		}
	}
	return errors.Join(errs...)
}

// pruneFailed deletes all but the newest keepFailedCount failed backups.
func pruneFailed(dir string) error {
	failed, err := listBackups(dir, failedName)
	if err != nil {
		return err
	}
	var errs []error
	for len(failed) > keepFailedCount {
		if err := os.Remove(failed[0].Path); err != nil {
			errs = append(errs, fmt.Errorf("deleting an old failed backup: %w", err))
		}
		failed = failed[1:]
	}
	return errors.Join(errs...)
}

// BackupFile writes a snapshot of the database to path through a temporary
// file in the same directory that is synced and checked (Check) and then
// renamed, so that path is either its old content or a complete, checked
// backup. A snapshot that fails its check leaves path as it was and is kept
// as path+".failed-check"; the error wraps ErrBackupFailedCheck.
func (s *Store) BackupFile(path string) error {
	tmp, err := s.writeTemp(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // after the rename this is a no-op
	target := path
	checkErr := checkFile(tmp)
	if checkErr != nil {
		target = path + ".failed-check"
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("naming the backup %s: %w", target, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return err
	}
	if checkErr != nil {
		return fmt.Errorf("%w: %s left unchanged, the snapshot kept as %s: %w", ErrBackupFailedCheck, path, target, renamed(checkErr, tmp, target))
	}
	return nil
}

// writeTemp writes a snapshot into a new temporary file in dir, syncs and
// closes it, and returns its path.
func (s *Store) writeTemp(dir string) (string, error) {
	tmp, err := os.CreateTemp(dir, ".zevdesk-backup-*.tmp")
	if err != nil {
		return "", fmt.Errorf("creating the backup file: %w", err)
	}
	fail := func(err error) (string, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	if _, err := s.Backup(tmp); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(fmt.Errorf("syncing the backup: %w", err))
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("closing the backup: %w", err)
	}
	return tmp.Name(), nil
}

// Backups lists the checked backups BackupTo wrote into dir, oldest first.
// An empty file under a backup's name (a name reserved by a backup that
// was interrupted before its snapshot was renamed onto it) is not listed.
func Backups(dir string) ([]Backup, error) {
	return listBackups(dir, goodName)
}

func listBackups(dir string, re *regexp.Regexp) ([]Backup, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing backups: %w", err)
	}
	var bs []Backup
	for _, e := range ents {
		t, seq, ok := parseBackupName(re, e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err != nil || fi.Size() == 0 {
			continue
		}
		bs = append(bs, Backup{Path: filepath.Join(dir, e.Name()), Time: t, Seq: seq})
	}
	slices.SortFunc(bs, Backup.compare)
	return bs, nil
}

// Retention says which backups BackupTo keeps: the union of the newest Last
// backups and of the newest backup of each of the newest Daily days, Weekly
// ISO weeks and Monthly months that have a backup, days, weeks and months
// counted in Location. Periods without a backup do not count, so that a
// computer that was switched off for a month loses no backup to time
// passing. The zero Retention keeps every backup.
type Retention struct {
	Last    int
	Daily   int
	Weekly  int
	Monthly int
	// Location is the time zone of the days, weeks and months; nil means
	// time.Local.
	Location *time.Location
}

// Generations is the grandfather-father-son scheme of automatic backups:
// the newest backup of each of the last 7 days, 4 ISO weeks and 12 months
// that have one, in the computer's time zone.
var Generations = Retention{Daily: 7, Weekly: 4, Monthly: 12}

// KeepLast keeps the newest n backups (n < 1 keeps all).
func KeepLast(n int) Retention { return Retention{Last: max(n, 0)} }

// Drop returns the backups r does not keep, oldest first. It looks only at
// the backups' times, so it is the same for the same list at any time.
func (r Retention) Drop(backups []Backup) []Backup {
	if r.Last <= 0 && r.Daily <= 0 && r.Weekly <= 0 && r.Monthly <= 0 {
		return nil
	}
	loc := r.Location
	if loc == nil {
		loc = time.Local
	}
	newest := slices.Clone(backups)
	slices.SortFunc(newest, func(a, b Backup) int { return b.compare(a) })
	keep := make([]bool, len(newest))
	// Newest first, the first backup of each period is its newest and the
	// periods come one after another.
	retain := func(n int, period func(time.Time) int) {
		last, seen := 0, 0
		for i, b := range newest {
			p := period(b.Time.In(loc))
			if seen > 0 && p == last {
				continue
			}
			if seen == n {
				return
			}
			keep[i], last, seen = true, p, seen+1
		}
	}
	n := 0
	retain(r.Last, func(time.Time) int { n++; return n })
	retain(r.Daily, func(t time.Time) int { y, m, d := t.Date(); return y*10000 + int(m)*100 + d })
	retain(r.Weekly, func(t time.Time) int { y, w := t.ISOWeek(); return y*100 + w })
	retain(r.Monthly, func(t time.Time) int { y, m, _ := t.Date(); return y*100 + int(m) })
	var drop []Backup
	for i, b := range newest {
		if !keep[i] {
			drop = append(drop, b)
		}
	}
	slices.Reverse(drop)
	return drop
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
// keeping what keep retains, until ctx ends; then it returns ctx's error. A
// failed backup is logged and retried at the next tick; one that fails its
// check is logged as an error that says the database may be damaged. A nil
// clock means SystemTicker.
func (s *Store) RunBackups(ctx context.Context, dir string, every time.Duration, keep Retention, clock Ticker) error {
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
				slog.Error("scheduled backup failed", "dir", dir, "path", path, "err", err)
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
	return renamed(checkFile(path), path, "the copy")
}

// checkFile opens the database at path read-only and checks it (Check).
func checkFile(path string) error {
	st, err := Open(path, &Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Check()
}

// renamed returns err with the file name from replaced by to in its
// message: a check names the temporary file it read, the user knows the
// file by another name.
func renamed(err error, from, to string) error {
	if err == nil {
		return nil
	}
	return &copyError{msg: strings.ReplaceAll(err.Error(), from, to), err: err}
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
