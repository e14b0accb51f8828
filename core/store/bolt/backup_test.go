package bolt_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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
		p, err := st.BackupTo(filepath.Join(dir, "backups"), time.Date(2026, 11, 27, 2, 0, i, 0, time.UTC), 0)
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
	go func() { done <- st.RunBackups(ctx, bdir, 24*time.Hour, 3, clock) }()
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
		names = append(names, filepath.Base(p))
	}
	want := []string{"zevdesk-20261103-023000.db", "zevdesk-20261104-023000.db", "zevdesk-20261105-023000.db"}
	if !slices.Equal(names, want) {
		t.Errorf("backups = %q, want %q", names, want)
	}
	for i, p := range got {
		b, err := bolt.Open(p, &bolt.Options{ReadOnly: true})
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
