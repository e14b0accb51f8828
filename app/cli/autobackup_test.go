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
