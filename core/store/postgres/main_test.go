package postgres_test

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/postgres"
	"github.com/zevdesk/zevdesk/core/store/postgres/pgtest"
	"github.com/zevdesk/zevdesk/core/store/storetest"
)

// One server for the package's tests, a database per test.
var (
	srv      *pgtest.Server
	startErr error
)

func TestMain(m *testing.M) {
	srv, startErr = pgtest.Start()
	code := m.Run()
	if srv != nil {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// newDB creates an empty database and returns its connection string.
func newDB(t testing.TB) string {
	t.Helper()
	s := pgtest.Need(t, srv, startErr)
	name, err := s.NewDB()
	if err != nil {
		t.Fatal(err)
	}
	return s.Conn(name)
}

func open(t testing.TB, conn string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(conn)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// openTemp opens a new empty database and checks it when the test ends.
func openTemp(t testing.TB) *postgres.Store {
	t.Helper()
	conn := newDB(t)
	t.Cleanup(func() {
		st, err := postgres.Open(conn)
		if err != nil {
			t.Errorf("reopening for the check: %v", err)
			return
		}
		defer st.Close()
		if err := st.Check(); err != nil {
			t.Errorf("Check: %v", err)
		}
	})
	return open(t, conn)
}

func TestSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

// TestSchemaTooNew: a database a newer zevdesk migrated is refused with a
// message saying so, not misread.
func TestSchemaTooNew(t *testing.T) {
	conn := newDB(t)
	open(t, conn).Close()
	name := conn[strings.LastIndex(conn, "dbname=")+7:]
	name = name[:strings.IndexByte(name, ' ')]
	if err := srv.Exec(name, "UPDATE zevdesk_schema SET version = 99"); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.Open(conn)
	if !errors.Is(err, postgres.ErrSchemaTooNew) || !strings.Contains(err.Error(), "99") {
		t.Fatalf("Open = %v, want ErrSchemaTooNew naming version 99", err)
	}
}

// TestRedact: the password of a connection string never reaches a message.
func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://clerk:s3cret@db.office/zev":         "postgres://clerk:xxxxx@db.office/zev",
		"postgresql://clerk@db/zev?password=s3cret&x=1": "postgresql://clerk@db/zev?password=xxxxx&x=1",
		"host=db user=clerk password=s3cret dbname=zev": "host=db user=clerk password=xxxxx dbname=zev",
		"host=db password='s3 cret' dbname=zev":         "host=db password=xxxxx dbname=zev",
		"postgres://clerk@db.office/zev":                "postgres://clerk@db.office/zev",
	} {
		if got := postgres.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	// A failed connection's error does not carry the password either.
	_, err := postgres.Open("postgres://clerk:s3cret@127.0.0.1:1/zev?connect_timeout=2")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Open error %v: want an error without the password", err)
	}
}

// TestClientsRace runs several clients (each its own Store, so its own
// connections, as two desktop apps and a serve are) against one database,
// each doing what billing and intake do: take the next invoice number, lock
// a period unless it is locked, advance a gateway's cursor by a batch. The
// numbers come out 1..n without gaps or doubles, the period is locked by
// exactly one, and every batch is stored once with the cursor at its end.
func TestClientsRace(t *testing.T) {
	conn := newDB(t)
	const clients, rounds = 4, 15
	stores := make([]*postgres.Store, clients)
	for i := range stores {
		stores[i] = open(t, conn)
		defer stores[i].Close()
	}
	p := core.Period{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 3, 31)}
	errLocked := errors.New("already locked")
	var wg sync.WaitGroup
	var mu sync.Mutex
	numbers := map[int]int{}
	var calls atomic.Int64 // of Update's fn: exactly once per Update
	for c, st := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				var num int
				err := st.Update(func(tx store.Tx) error {
					calls.Add(1)
					last := 0
					if v, err := tx.GetMeta("billing.counter", "s"); err == nil {
						last, _ = strconv.Atoi(string(v))
					} else if !errors.Is(err, store.ErrNotFound) {
						return err
					}
					num = last + 1
					return tx.PutMeta("billing.counter", "s", []byte(strconv.Itoa(num)))
				})
				if err != nil {
					t.Error(err)
					return
				}
				err = st.Update(func(tx store.Tx) error {
					calls.Add(1)
					ls, err := tx.LocksOf("s")
					if err != nil {
						return err
					}
					if len(ls) > 0 {
						return errLocked
					}
					return tx.LockPeriod(store.Lock{Site: "s", Period: p, Note: fmt.Sprint("client ", c)})
				})
				if err != nil && !errors.Is(err, errLocked) {
					t.Error(err)
					return
				}
				err = st.Update(func(tx store.Tx) error {
					calls.Add(1)
					cur, err := tx.Cursor("gw")
					if err != nil {
						return err
					}
					var recs []store.Record
					for i := range uint64(3) {
						recs = append(recs, store.Record{Source: "gw", Seq: cur + 1 + i, Meter: fmt.Sprintf("c%d-r%d", c, r), Time: time.Unix(int64(cur), 0)})
					}
					n, err := tx.PutRecords(recs)
					if err != nil {
						return err
					}
					if n != 3 {
						return fmt.Errorf("a batch after cursor %d stored %d new records, want 3", cur, n)
					}
					return tx.SetCursor("gw", cur+3)
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				numbers[num]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if n := calls.Load(); n != 3*clients*rounds {
		t.Errorf("Update's fn ran %d times for %d Updates", n, 3*clients*rounds)
	}
	for n := 1; n <= clients*rounds; n++ {
		if numbers[n] != 1 {
			t.Errorf("invoice number %d taken %d times", n, numbers[n])
		}
	}
	if len(numbers) != clients*rounds {
		t.Errorf("%d distinct numbers, want %d", len(numbers), clients*rounds)
	}
	err := stores[0].View(func(tx store.Tx) error {
		ls, err := tx.LocksOf("s")
		if err != nil {
			return err
		}
		if len(ls) != 1 {
			t.Errorf("%d locks, want 1", len(ls))
		}
		cur, err := tx.Cursor("gw")
		if err != nil {
			return err
		}
		if cur != 3*clients*rounds {
			t.Errorf("cursor %d, want %d", cur, 3*clients*rounds)
		}
		// Each batch's three records carry one client's mark.
		var prev string
		var seq uint64
		err = tx.ScanRecords("gw", 0, func(r store.Record) bool {
			seq++
			if r.Seq != seq {
				t.Errorf("record %d where %d was expected", r.Seq, seq)
			}
			if (seq-1)%3 != 0 && r.Meter != prev {
				t.Errorf("record %d of batch %s belongs to %s: batches interleaved", seq, prev, r.Meter)
			}
			prev = r.Meter
			return true
		})
		if seq != 3*clients*rounds {
			t.Errorf("%d records, want %d", seq, 3*clients*rounds)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNotifyOtherClient: a commit of one client is announced to another's
// subscribers (the views of a second desktop app refresh).
func TestNotifyOtherClient(t *testing.T) {
	conn := newDB(t)
	a, b := open(t, conn), open(t, conn)
	defer a.Close()
	defer b.Close()
	calls := make(chan struct{}, 16)
	stop := b.Subscribe(func() { calls <- struct{}{} })
	defer stop()
	// The listener may still be connecting: announce until one arrives.
	deadline := time.After(10 * time.Second)
	for i := 0; ; i++ {
		if err := a.Update(func(tx store.Tx) error { return tx.PutMeta("b", "k", []byte(strconv.Itoa(i))) }); err != nil {
			t.Fatal(err)
		}
		select {
		case <-calls:
			return
		case <-deadline:
			t.Fatal("no announcement of another client's commit")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestOpenTogether: clients starting together on a new database create the
// schema once, without tripping over each other.
func TestOpenTogether(t *testing.T) {
	conn := newDB(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := postgres.Open(conn)
			if err == nil {
				err = st.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestRefusedCallKeepsTx: a call the store refuses (text PostgreSQL cannot
// hold, a locked period) leaves the transaction usable, as on bbolt: an SQL
// error would abort the whole PostgreSQL transaction, so these are caught
// before any statement is sent.
func TestRefusedCallKeepsTx(t *testing.T) {
	st := openTemp(t)
	defer st.Close()
	err := st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(storetest.FullSite("s")); err != nil {
			return err
		}
		if err := tx.LockPeriod(store.Lock{Site: "s", Period: core.Period{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 1, 31)}}); err != nil {
			return err
		}
		if tx.PutMeta("b\x00", "k", nil) == nil || tx.PutMeta("b", "\xff", nil) == nil {
			t.Error("a meta key PostgreSQL cannot hold was accepted")
		}
		if _, err := tx.AppendAudit(store.Entry{Detail: "\x00"}); err == nil {
			t.Error("an audit entry with a NUL byte was accepted")
		}
		slot := core.MustDate(2026, 1, 15).FirstSlot(time.UTC)
		if _, err := tx.PutIntervals(store.SeriesID{Site: "s", Meter: "M"}, []store.Value{{Slot: slot, Energy: 1, Quality: store.Measured}}, store.KeepFirst); !errors.Is(err, store.ErrLocked) {
			t.Errorf("a value in a locked period: %v", err)
		}
		return tx.PutMeta("b", "k", []byte("kept"))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.View(func(tx store.Tx) error {
		v, err := tx.GetMeta("b", "k")
		if err == nil && string(v) != "kept" {
			t.Errorf("meta b/k = %q", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
