package cli

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/store/postgres"
	"github.com/zevdesk/zevdesk/core/store/postgres/pgtest"
)

// The PostgreSQL server of this package's tests starts with the first test
// that needs it; TestMain stops it.
var (
	pgOnce  sync.Once
	pgSrv   *pgtest.Server
	pgStart error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pgSrv != nil {
		if err := pgSrv.Stop(); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
		}
	}
	os.Exit(code)
}

// newPGURL creates an empty database and returns its URL with a password
// (the test server trusts local connections and ignores it), so that tests
// can see that it is never printed.
func newPGURL(t *testing.T) string {
	t.Helper()
	pgOnce.Do(func() { pgSrv, pgStart = pgtest.Start() })
	s := pgtest.Need(t, pgSrv, pgStart)
	name, err := s.NewDB()
	if err != nil {
		t.Fatal(err)
	}
	return "postgres://zevdesk:s3cret@/" + name + "?host=" + s.Dir() + "&sslmode=disable"
}

func sumsOf(t *testing.T, db string) []BucketSum {
	t.Helper()
	st, err := OpenStore(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var sums []BucketSum
	err = st.View(func(tx store.Tx) error {
		var err error
		sums, err = summarize(tx, tx.(store.Lister))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

// TestDBCopyToPostgresAndBack moves the demo office (a year of intervals,
// registers, audit, meta) from its file to PostgreSQL, checks and backs it
// up there and restores the backup into a new file: every bucket has the
// same count and checksum at each step, a copy into a database that holds
// data is refused, and the password of the URL is printed nowhere.
func TestDBCopyToPostgresAndBack(t *testing.T) {
	url := newPGURL(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "office.db")
	runMain(t, "--db", file, "demo", "--no-window", "--now", demoNow)
	// What the demo lacks: a gateway's records, a flag, a meter exchange and
	// a billed (locked) period.
	st, err := bolt.Open(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx store.Tx) error {
		var recs []store.Record
		for i := range uint64(300) {
			recs = append(recs, store.Record{Source: "gw-1", Seq: i + 1, Meter: "m1", Time: time.Date(2026, 5, 1, 0, 0, int(i), 1500, time.UTC), Import: core.Energy(i)})
		}
		if _, err := tx.PutRecords(recs); err != nil {
			return err
		}
		if err := tx.SetCursor("gw-1", 300); err != nil {
			return err
		}
		if err := tx.PutFlags([]store.Flag{{Site: DemoSiteID, Meter: "X", Slot: 42, Kind: "gap", Reason: "no data"}}); err != nil {
			return err
		}
		at := time.Date(2026, 6, 1, 8, 0, 0, 7, time.UTC)
		if err := tx.PutReplacement(DemoSiteID, "X", store.Replacement{Time: at, OldFinal: store.Register{Time: at, Import: 5}, NewInitial: store.Register{Time: at}, Note: "exchange"}); err != nil {
			return err
		}
		return tx.LockPeriod(store.Lock{Site: DemoSiteID, Period: core.Period{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 3, 31)}, Time: at, Note: "Q1 billed"})
	})
	if err := errors.Join(err, st.Close()); err != nil {
		t.Fatal(err)
	}
	want := sumsOf(t, file)
	for _, s := range want {
		if s.Count == 0 {
			t.Errorf("the office has no %s: the copy would not be tested on them", s.Bucket)
		}
	}
	var printed strings.Builder
	run := func(wantCode int, args ...string) string {
		t.Helper()
		code, out, errs := runStoreCmd(t, args...)
		printed.WriteString(out + errs)
		if code != wantCode {
			t.Fatalf("zevdesk %v: exit %d, want %d: %s%s", args, code, wantCode, out, errs)
		}
		return out + errs
	}
	out := run(0, "db", "copy", "--from", file, "--to", url)
	if !strings.Contains(out, "every bucket verified") || !strings.Contains(out, "zevdesk:xxxxx@") {
		t.Errorf("db copy printed %q", out)
	}
	if got := sumsOf(t, url); !reflect.DeepEqual(got, want) {
		t.Errorf("PostgreSQL holds\n%v\nthe file\n%v", got, want)
	}
	if out := run(1, "db", "copy", "--from", file, "--to", url); !strings.Contains(out, "already holds data") {
		t.Errorf("a second copy into the same database: %q", out)
	}
	if out := run(0, "--db", url, "check"); !strings.Contains(out, "ok (1 sites") || !strings.Contains(out, "PostgreSQL: checked") {
		t.Errorf("check: %q", out)
	}
	backup := filepath.Join(dir, "backup.db")
	if out := run(0, "--db", url, "backup", "--out", backup); !strings.Contains(out, "backup written to "+backup) {
		t.Errorf("backup: %q", out)
	}
	restored := filepath.Join(dir, "restored.db")
	run(0, "db", "copy", "--from", backup, "--to", restored)
	if got := sumsOf(t, restored); !reflect.DeepEqual(got, want) {
		t.Errorf("the restored file holds\n%v\nthe original\n%v", got, want)
	}
	st, err = bolt.Open(restored, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Check(); err != nil {
		t.Error(err)
	}
	st.Close()
	if out := run(1, "db", "copy", "--from", backup, "--to", file); !strings.Contains(out, "already holds data") {
		t.Errorf("a copy into a file with data: %q", out)
	}
	if got := sumsOf(t, file); !reflect.DeepEqual(got, want) {
		t.Errorf("a refused copy changed the file")
	}
	if out := run(1, "--db", url, "restore", backup); !strings.Contains(out, "db copy --from "+backup) {
		t.Errorf("restore into PostgreSQL: %q", out)
	}
	if strings.Contains(printed.String(), "s3cret") {
		t.Errorf("the password was printed:\n%s", printed.String())
	}
}

// TestOpenStoreChoosesByName: a postgres:// or postgresql:// URL opens
// PostgreSQL, anything else a file.
func TestOpenStoreChoosesByName(t *testing.T) {
	url := newPGURL(t)
	for _, db := range []string{url, "postgresql" + strings.TrimPrefix(url, "postgres")} {
		st, err := OpenStore(db)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := st.(*postgres.Store); !ok {
			t.Errorf("OpenStore(%s) = %T", DBName(db), st)
		}
		st.Close()
	}
	st, err := OpenStore(filepath.Join(t.TempDir(), "postgres", "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.(*bolt.Store); !ok {
		t.Errorf("a file opened as %T", st)
	}
	st.Close()
}
