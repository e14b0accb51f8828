package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// writeBatch commits what a gateway batch commits: records, the intervals
// derived from them, an audit line and the cursor, all for sequence n.
func writeBatch(tx store.Tx, n uint64) error {
	if _, err := tx.PutRecords([]store.Record{{Source: "gw", Seq: n, Meter: "m1", Time: time.Unix(int64(n)*900, 0), Import: core.Energy(n)}}); err != nil {
		return err
	}
	id := store.SeriesID{Site: "s", Meter: "m1"}
	if _, err := tx.PutIntervals(id, []store.Value{{Slot: core.Slot(n), Energy: core.Energy(n) * core.Wh, Quality: store.Measured}}, store.KeepFirst); err != nil {
		return err
	}
	if _, err := tx.AppendAudit(store.Entry{Actor: "gateway:gw", Action: "batch"}); err != nil {
		return err
	}
	return tx.SetCursor("gw", n)
}

// checkBatches verifies that the store holds exactly the batches 1..cursor,
// each whole, and returns the cursor.
func checkBatches(t *testing.T, st store.Store) uint64 {
	t.Helper()
	var cursor uint64
	err := st.View(func(tx store.Tx) error {
		var err error
		if cursor, err = tx.Cursor("gw"); err != nil {
			return err
		}
		var recs, audits uint64
		if err := tx.ScanRecords("gw", 0, func(r store.Record) bool { recs++; return r.Seq == recs }); err != nil {
			return err
		}
		if err := tx.ScanAudit(0, func(store.Entry) bool { audits++; return true }); err != nil {
			return err
		}
		var ser store.Series
		if err := tx.ReadIntervals(store.SeriesID{Site: "s", Meter: "m1"}, 1, core.Slot(cursor)+50, &ser); err != nil {
			return err
		}
		vals := 0
		for i, q := range ser.Quality {
			if q != store.Missing {
				vals++
				if ser.Energy[i] != core.Energy(i+1)*core.Wh {
					t.Errorf("slot %d holds %d", i+1, ser.Energy[i])
				}
			}
		}
		if recs != cursor || audits != cursor || uint64(vals) != cursor {
			t.Errorf("cursor %d but %d records, %d audit entries, %d intervals: a transaction was torn", cursor, recs, audits, vals)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return cursor
}

func TestBackupWhileWritingAndRestore(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "zevdesk.db")
	st, err := bolt.Open(dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A writer commits batches until told to stop.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var writeErr error
	go func() {
		defer wg.Done()
		for n := uint64(1); ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := st.Update(func(tx store.Tx) error { return writeBatch(tx, n) }); err != nil {
				writeErr = err
				return
			}
		}
	}()
	var backups []string
	var cursors []uint64
	for i := range 4 {
		p, err := st.BackupTo(filepath.Join(dir, "backups"), time.Date(2026, 11, 27, 2, 0, i, 0, time.UTC), bolt.Retention{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := bolt.Open(p, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Check(); err != nil {
			t.Errorf("backup %s: %v", p, err)
		}
		cursors = append(cursors, checkBatches(t, b))
		b.Close()
		backups = append(backups, p)
	}
	close(stop)
	wg.Wait()
	if writeErr != nil {
		t.Fatal(writeErr)
	}
	final := checkBatches(t, st)
	if !slices.IsSorted(cursors) || final < cursors[len(cursors)-1] {
		t.Errorf("backups hold cursors %v, the live store %d", cursors, final)
	}
	// Restore is refused while the database is open.
	if err := bolt.Restore(backups[0], dbPath); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("Restore onto an open database = %v, want an in-use error", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bolt.Restore(backups[1], dbPath); err != nil {
		t.Fatal(err)
	}
	st, err = bolt.Open(dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Fatal(err)
	}
	if got := checkBatches(t, st); got != cursors[1] {
		t.Errorf("after restoring backup 2, cursor = %d, want %d", got, cursors[1])
	}
	// The database before the restore is kept.
	old, err := bolt.Open(dbPath+".before-restore", &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if got := checkBatches(t, old); got != final {
		t.Errorf("kept database has cursor %d, want %d", got, final)
	}
}

func TestRestoreRejectsBadBackup(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "zevdesk.db")
	st, err := bolt.Open(dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Update(func(tx store.Tx) error { return writeBatch(tx, 1) }); err != nil {
		t.Fatal(err)
	}
	st.Close()
	before, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"garbage":   bytes.Repeat([]byte("not a database "), 1000),
		"truncated": before[:3*4096],
		"empty":     nil,
	}
	for name, content := range bad {
		p := filepath.Join(dir, name+".db")
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := bolt.Restore(p, dbPath); err == nil {
			t.Errorf("%s: Restore succeeded", name)
		} else if !strings.Contains(err.Error(), p+" is not a usable zevdesk database") || strings.Contains(err.Error(), ".tmp") {
			t.Errorf("%s: error %q, want it to name the backup and not a temporary file", name, err)
		}
		after, err := os.ReadFile(dbPath)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(after, before) {
			t.Errorf("%s: a refused restore changed the database", name)
		}
	}
	if err := bolt.Restore(filepath.Join(dir, "missing.db"), dbPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Restore(missing) = %v", err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

// fakeTicker ticks when the test sends on C. C is unbuffered: a send
// returns once RunBackups has taken the tick, so after the next send (or
// after RunBackups returned) the backup of the previous tick is complete.
type fakeTicker struct {
	C chan time.Time
}

func (f *fakeTicker) NewTicker(time.Duration) (<-chan time.Time, func()) { return f.C, func() {} }

func (f *fakeTicker) tick(now time.Time) { f.C <- now }

func TestRunBackupsKeepsNewest(t *testing.T) {
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "zevdesk.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	bdir := filepath.Join(dir, "backups")
	// Something else in the backup directory is left alone.
	if err := os.MkdirAll(bdir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bdir, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	clock := &fakeTicker{C: make(chan time.Time)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- st.RunBackups(ctx, bdir, 24*time.Hour, bolt.KeepLast(3), clock) }()
	zurich := time.FixedZone("CET", 3600)
	for n := uint64(1); n <= 5; n++ {
		if err := st.Update(func(tx store.Tx) error { return writeBatch(tx, n) }); err != nil {
			t.Fatal(err)
		}
	}
	for day := 1; day <= 5; day++ {
		clock.tick(time.Date(2026, 11, day, 3, 30, 0, 0, zurich))
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("RunBackups = %v, want context.Canceled", err)
	}
	got, err := bolt.Backups(bdir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, filepath.Base(p.Path))
	}
	want := []string{"zevdesk-20261103-023000.db", "zevdesk-20261104-023000.db", "zevdesk-20261105-023000.db"}
	if !slices.Equal(names, want) {
		t.Errorf("backups = %q, want %q", names, want)
	}
	for i, p := range got {
		b, err := bolt.Open(p.Path, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Check(); err != nil {
			t.Errorf("%s: %v", names[i], err)
		}
		if c := checkBatches(t, b); c != 5 {
			t.Errorf("%s holds cursor %d, want 5", names[i], c)
		}
		b.Close()
	}
	if _, err := os.Stat(filepath.Join(bdir, "notes.txt")); err != nil {
		t.Errorf("pruning removed an unrelated file: %v", err)
	}
}

// TestBackupFileReplacesWhole: BackupFile overwrites an older backup at its
// path with a complete snapshot and leaves no temporary file behind.
func TestBackupFileReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "office.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := filepath.Join(dir, "copy.db")
	if err := os.WriteFile(out, []byte("an older file"), 0o600); err != nil {
		t.Fatal(err)
	}
	for n := uint64(1); n <= 3; n++ {
		if err := st.Update(func(tx store.Tx) error { return writeBatch(tx, n) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.BackupFile(out); err != nil {
		t.Fatal(err)
	}
	b, err := bolt.Open(out, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("opening the backup: %v", err)
	}
	defer b.Close()
	if n := checkBatches(t, b); n != 3 {
		t.Errorf("backup holds %d batches, want 3", n)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// fillIntervals stores days of 15-minute values for meter m1 of site s, so
// that the series takes several pages of its own.
func fillIntervals(t *testing.T, st store.Store, days int) {
	t.Helper()
	id := store.SeriesID{Site: "s", Meter: "m1", Channel: store.Import}
	err := st.Update(func(tx store.Tx) error {
		var vals []store.Value
		for i := range days * core.SlotsPerUTCDay {
			vals = append(vals, store.Value{Slot: core.Slot(i), Energy: core.Energy(i*7%1000) * core.Wh, Quality: store.Measured})
		}
		_, err := tx.PutIntervals(id, vals, store.KeepFirst)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// damage writes garbage over the root page of meter m1's interval series in
// the closed database at path, the way a failing disk would.
func damage(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var root, pageSize int64
	err = db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("intervals")).Bucket([]byte("s")).Bucket([]byte("m1\x00\x00"))
		root, pageSize = int64(b.Root()), int64(db.Info().PageSize)
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if root == 0 {
		t.Fatal("the series is inline in its parent page: store more days")
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte("garbage!"), int(pageSize)/8), root*pageSize); err != nil {
		t.Fatal(err)
	}
}

// names returns the base names of the files in dir, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, e := range ents {
		ns = append(ns, e.Name())
	}
	return ns
}

// TestBackupOfDamagedDatabaseKeepsGoodOnes: a database that went bad gives
// backups that fail their check; they are kept aside under a name that says
// so, never delete a good backup, and only the newest three are kept.
func TestBackupOfDamagedDatabaseKeepsGoodOnes(t *testing.T) {
	dir := t.TempDir()
	bdir := filepath.Join(dir, "backups")
	good := filepath.Join(dir, "office.db")
	st, err := bolt.Open(good, nil)
	if err != nil {
		t.Fatal(err)
	}
	fillIntervals(t, st, 60)
	keep := bolt.KeepLast(2)
	day := func(d int) time.Time { return time.Date(2026, 11, d, 2, 0, 0, 0, time.UTC) }
	for d := 1; d <= 2; d++ {
		if _, err := st.BackupTo(bdir, day(d), keep); err != nil {
			t.Fatalf("backup of the sound database: %v", err)
		}
	}
	st.Close()

	// The same database with one page gone bad.
	bad := filepath.Join(dir, "damaged.db")
	if err := copyFileT(good, bad); err != nil {
		t.Fatal(err)
	}
	damage(t, bad)
	st, err = bolt.Open(bad, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for d := 3; d <= 7; d++ {
		path, err := st.BackupTo(bdir, day(d), keep)
		if !errors.Is(err, bolt.ErrBackupFailedCheck) {
			t.Fatalf("day %d: BackupTo of a damaged database = %q, %v; want ErrBackupFailedCheck", d, path, err)
		}
		want := fmt.Sprintf("zevdesk-202611%02d-020000.failed-check.db", d)
		if filepath.Base(path) != want || !strings.Contains(err.Error(), "kept as "+path) || strings.Contains(err.Error(), ".tmp") {
			t.Errorf("day %d: BackupTo = %q, %v; want %s named in the error and no temporary file", d, path, err, want)
		}
	}
	want := []string{
		"zevdesk-20261101-020000.db",
		"zevdesk-20261102-020000.db",
		"zevdesk-20261105-020000.failed-check.db",
		"zevdesk-20261106-020000.failed-check.db",
		"zevdesk-20261107-020000.failed-check.db",
	}
	if got := names(t, bdir); !slices.Equal(got, want) {
		t.Errorf("backup directory holds\n%q\nwant\n%q", got, want)
	}
	for _, n := range want {
		b, err := bolt.Open(filepath.Join(bdir, n), &bolt.Options{ReadOnly: true})
		if err == nil {
			err = b.Check()
			b.Close()
		}
		if failed := strings.Contains(n, "failed-check"); failed != (err != nil) {
			t.Errorf("%s: Check = %v", n, err)
		}
	}
	// Listed are the good backups only, so that retention never counts a
	// damaged one.
	if bs, err := bolt.Backups(bdir); err != nil || len(bs) != 2 {
		t.Errorf("Backups = %v, %v; want the two good ones", bs, err)
	}
}

func copyFileT(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o600)
}

// TestBackupFileOfDamagedDatabase: --out FILE keeps FILE's good content
// when the new snapshot fails its check.
func TestBackupFileOfDamagedDatabase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "office.db")
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	fillIntervals(t, st, 60)
	out := filepath.Join(dir, "copy.db")
	if err := st.BackupFile(out); err != nil {
		t.Fatal(err)
	}
	st.Close()
	before, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	damage(t, path)
	st, err = bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.BackupFile(out); !errors.Is(err, bolt.ErrBackupFailedCheck) || !strings.Contains(err.Error(), out+".failed-check") {
		t.Errorf("BackupFile of a damaged database = %v", err)
	}
	if after, err := os.ReadFile(out); err != nil || !bytes.Equal(after, before) {
		t.Errorf("a backup that failed its check replaced %s (%v)", out, err)
	}
	if got, want := names(t, dir), []string{"copy.db", "copy.db.failed-check", "office.db"}; !slices.Equal(got, want) {
		t.Errorf("directory holds %q, want %q", got, want)
	}
}

// TestBackupsInOneSecond: backups named in the same second, one after
// another and at once from several goroutines, each get a file of their
// own, and each holds its own snapshot.
func TestBackupsInOneSecond(t *testing.T) {
	dir := t.TempDir()
	bdir := filepath.Join(dir, "backups")
	st, err := bolt.Open(filepath.Join(dir, "zevdesk.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	// Generations keeps the newest backup of the day: the last one of the
	// second, whose name sorts after the ones it replaced.
	gdir := filepath.Join(dir, "generations")
	for n := uint64(1); n <= 3; n++ {
		if err := st.Update(func(tx store.Tx) error { return writeBatch(tx, n) }); err != nil {
			t.Fatal(err)
		}
		// Nanoseconds apart, the same second.
		if _, err := st.BackupTo(bdir, now.Add(time.Duration(n)), bolt.Retention{}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.BackupTo(gdir, now.Add(time.Duration(n)), bolt.Generations); err != nil {
			t.Fatal(err)
		}
	}
	if got := names(t, gdir); len(got) != 1 || got[0] != "zevdesk-20261127-020000-3.db" {
		t.Errorf("with generations the directory holds %q, want the third backup of the second", got)
	} else if s, err := bolt.Open(filepath.Join(gdir, got[0]), &bolt.Options{ReadOnly: true}); err != nil {
		t.Error(err)
	} else {
		if c := checkBatches(t, s); c != 3 {
			t.Errorf("with generations the backup kept holds batch %d, want 3", c)
		}
		s.Close()
	}
	bs, err := bolt.Backups(bdir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, b := range bs {
		got = append(got, filepath.Base(b.Path))
		s, err := bolt.Open(b.Path, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if c := checkBatches(t, s); c != uint64(i+1) {
			t.Errorf("%s holds batch %d, want %d", b.Path, c, i+1)
		}
		s.Close()
	}
	want := []string{"zevdesk-20261127-020000.db", "zevdesk-20261127-020000-2.db", "zevdesk-20261127-020000-3.db"}
	if !slices.Equal(got, want) {
		t.Errorf("Backups = %q, want %q (oldest first)", got, want)
	}

	// Eight at once in another second.
	cdir := filepath.Join(dir, "concurrent")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := st.BackupTo(cdir, now, bolt.Retention{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if bs, err := bolt.Backups(cdir); err != nil || len(bs) != 8 {
		t.Errorf("eight concurrent backups left %d: %v %v", len(bs), bs, err)
	}
}

// TestBackupsSkipsOthers: Backups lists only complete backups by their
// names, not a name reserved by an interrupted backup (an empty file), a
// failed one, a temporary file or something else.
func TestBackupsSkipsOthers(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"zevdesk-20261127-020000.db":                "x",
		"zevdesk-20261127-020000-2.db":              "x",
		"zevdesk-20261128-020000.db":                "", // reserved, never filled
		"zevdesk-20261129-020000.failed-check.db":   "x",
		"zevdesk-20261399-020000.db":                "x", // no such date
		"zevdesk-20261127-020000-1.db":              "x", // the second is -2
		".zevdesk-backup-123.tmp":                   "x",
		"notes.txt":                                 "x",
		"zevdesk-20261127-020000.db.before-restore": "x",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	bs, err := bolt.Backups(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []bolt.Backup{
		{Path: filepath.Join(dir, "zevdesk-20261127-020000.db"), Time: time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)},
		{Path: filepath.Join(dir, "zevdesk-20261127-020000-2.db"), Time: time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC), Seq: 2},
	}
	if !slices.Equal(bs, want) {
		t.Errorf("Backups = %+v\nwant %+v", bs, want)
	}
}
