package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
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

// TestStartBackupsTakesOneWhenDue: the app takes a backup when it starts
// unless one was taken that day, so that a workstation started every
// morning and closed every evening has one backup a day.
func TestStartBackupsTakesOneWhenDue(t *testing.T) {
	dir := t.TempDir()
	// 08:00 UTC is the same day as 09:00 UTC and a different one from
	// 07:00 UTC the next morning in every time zone (UTC-12 to UTC+14),
	// whichever the computer running the test has.
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Clock: core.FixedClock(now), DBPath: filepath.Join(dir, "office.db")}
	defer env.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	count := func() int {
		t.Helper()
		bs, err := bolt.Backups(env.BackupDir())
		if err != nil {
			t.Fatal(err)
		}
		return len(bs)
	}
	steps := []struct {
		at   time.Time
		want int
	}{
		{now, 1},                                 // the first start
		{now.Add(time.Hour), 1},                  // a restart the same day: the newest is today's
		{now.Add(23 * time.Hour), 2},             // the next morning, less than 24 hours later
		{now.Add(23*time.Hour + time.Minute), 2}, // and a restart a minute after
		{now.Add(30 * 24 * time.Hour), 3},        // a month off
	}
	for i, s := range steps {
		env.Clock = core.FixedClock(s.at)
		if err := env.StartBackups(ctx); err != nil {
			t.Fatal(err)
		}
		if got := count(); got != s.want {
			t.Errorf("start %d at %s: %d backups, want %d", i+1, s.at, got, s.want)
		}
	}
}

// TestBackupDue runs the start rule in Zurich: a backup is due when none
// was taken on the local day, however few hours ago the last one was.
func TestBackupDue(t *testing.T) {
	zurich, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// 23:30 on 26 November in Zurich.
	last := time.Date(2026, 11, 26, 22, 30, 0, 0, time.UTC)
	if due, err := backupDue(dir, last, zurich); err != nil || !due {
		t.Errorf("an empty directory: due = %v, %v; want true", due, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "zevdesk-20261126-223000.db"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		now  time.Time
		want bool
	}{
		{last.Add(20 * time.Minute), false}, // 23:50 the same evening
		{last.Add(time.Hour), true},         // 00:30 the next day
		{last.Add(-time.Hour), true},        // the clock was set back
	} {
		if due, err := backupDue(dir, c.now, zurich); err != nil || due != c.want {
			t.Errorf("at %s: due = %v, %v; want %v", c.now.In(zurich), due, err, c.want)
		}
	}
}

// TestStartBackupsOnDamagedDatabase: when the database has gone bad, the
// backup at start fails its check, StartBackups still starts (the app
// opens), the good backup of the day before stays, and the failed one is
// kept aside.
func TestStartBackupsOnDamagedDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "office.db")
	storeDB(t, db, 7)
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Clock: core.FixedClock(now), DBPath: db}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := env.Store()
	if err != nil {
		t.Fatal(err)
	}
	// Two months of a second meter: enough for pages of its own.
	err = st.Update(func(tx store.Tx) error {
		var vals []store.Value
		for i := range 60 * 96 {
			vals = append(vals, store.Value{Slot: core.Slot(i), Energy: core.Energy(i%977) * core.Wh, Quality: store.Measured})
		}
		_, err := tx.PutIntervals(store.SeriesID{Site: "s", Meter: "M2"}, vals, store.KeepFirst)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.StartBackups(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	env.Close()

	damageSeries(t, db)

	var log lockedBuffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&log, nil)))
	env = &Env{Stdout: io.Discard, Stderr: io.Discard, Clock: core.FixedClock(now.Add(24 * time.Hour)), DBPath: db}
	defer env.Close()
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	if err := env.StartBackups(ctx); err != nil {
		t.Fatalf("StartBackups on a damaged database = %v; want it to start and log the failed backup", err)
	}
	if l := log.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "the new backup failed its check") ||
		!strings.Contains(l, "zevdesk-20261128-080000.failed-check.db") {
		t.Errorf("log:\n%s\nwant an error naming the failed backup", l)
	}
	ents, err := os.ReadDir(env.BackupDir())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	want := []string{"zevdesk-20261127-080000.db", "zevdesk-20261128-080000.failed-check.db"}
	if !slices.Equal(got, want) {
		t.Errorf("backups: %q, want %q", got, want)
	}
}

// damageSeries writes garbage over the root page of meter M2's interval
// series in the closed database at path, the way a failing disk would.
func damageSeries(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var root, pageSize int64
	err = db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("intervals")).Bucket([]byte("s")).Bucket([]byte("M2\x00\x00"))
		root, pageSize = int64(b.Root()), int64(db.Info().PageSize)
		return nil
	})
	db.Close()
	if err != nil || root == 0 {
		t.Fatalf("finding the series' root page: %d, %v", root, err)
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

// lockedBuffer is a log's destination that goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
