package web_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/app/web"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/residents"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/sim"
)

// The generated site: five units from the simulator, whose fifth changes
// tenant (Peter Keller until 31 May 2025, vacant in June, Giulia Rossi from
// 1 July), with 15-minute data from 1 April to 15 September 2025 and June
// billed (numbered and locked). Links work 120 days after move-out, so
// Peter's still works on 15 September (until 28 September).
var (
	zurich, _ = time.LoadLocation("Europe/Zurich")
	epoch     = time.Date(2025, 1, 1, 0, 0, 0, 0, zurich)
	dataFrom  = core.MustDate(2025, 4, 1)
	dataTo    = core.MustDate(2025, 9, 15) // the last day with data
	testNow   = time.Date(2025, 9, 15, 23, 30, 0, 0, zurich)
	graceDays = 120
)

// testClock is a clock the test sets.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// fixture is a real bbolt database holding the generated site, with a
// link for every occupancy.
type fixture struct {
	st     store.Store
	path   string
	site   *core.Site
	b      *sim.Building
	tokens map[string]string // by billing key "occ:UNIT:NAME:FROM"
	key    *residents.Key
}

func occKey(o core.Occupancy) string { return "occ:" + o.Unit + ":" + o.Name + ":" + o.From.String() }

func newFixture(t testing.TB, days int) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "office.db")
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := sim.New(sim.Config{Seed: 11, Units: 5, PVkWp: 20, Location: zurich, Epoch: epoch})
	site := b.Site("lorraine")
	from := dataFrom
	if days > 0 {
		from = dataTo.AddDays(-days + 1)
	}
	fillData(t, st, b, site, from, dataTo)
	f := &fixture{st: st, path: path, site: site, b: b, tokens: map[string]string{}}
	if f.key, err = residents.NewKey(); err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(site); err != nil {
			return err
		}
		if err := residents.SetGrace(tx, site.ID, graceDays); err != nil {
			return err
		}
		// The links are issued before the former tenant's grace ends.
		es, err := residents.List(tx, site, f.key, true, time.Date(2025, 7, 1, 12, 0, 0, 0, zurich))
		if err != nil {
			return err
		}
		for _, e := range es {
			f.tokens[occKey(e.Occupancy)] = e.Token
		}
		if !dataFrom.After(core.MustDate(2025, 6, 1)) && days == 0 {
			in, err := billing.Load(tx, site, core.Period{From: core.MustDate(2025, 6, 1), To: core.MustDate(2025, 6, 30)})
			if err != nil {
				return err
			}
			run, err := billing.Bill(in)
			if err != nil {
				return err
			}
			return billing.Commit(tx, run, time.Date(2025, 7, 5, 9, 0, 0, 0, zurich), nil)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// fillData stores every meter's intervals over [from, to] in transactions
// of a month.
func fillData(t testing.TB, st store.Store, b *sim.Building, site *core.Site, from, to core.Date) {
	t.Helper()
	meters := b.Meters()
	s0, end := core.Period{From: from, To: to}.Slots(zurich)
	for s0 < end {
		s1 := min(s0+96*31, end)
		imp := make([][]store.Value, len(meters))
		exp := make([][]store.Value, len(meters))
		for s := s0; s < s1; s++ {
			in, out := b.SlotEnergy(s)
			for m := range meters {
				imp[m] = append(imp[m], store.Value{Slot: s, Energy: in[m], Quality: store.Measured})
				exp[m] = append(exp[m], store.Value{Slot: s, Energy: out[m], Quality: store.Measured})
			}
		}
		err := st.Update(func(tx store.Tx) error {
			for m, mi := range meters {
				chans := []store.Channel{store.Import}
				switch mi.Role {
				case core.RoleProduction:
					chans = []store.Channel{store.Export}
				case core.RoleGrid:
					chans = []store.Channel{store.Import, store.Export}
				}
				for _, ch := range chans {
					vals := imp[m]
					if ch == store.Export {
						vals = exp[m]
					}
					if _, err := tx.PutIntervals(store.SeriesID{Site: site.ID, Meter: mi.ID, Channel: ch}, vals, store.KeepFirst); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		s0 = s1
	}
}

// server starts the resident view of f on an httptest server at clock's
// time, logging into a buffer.
func (f *fixture) server(t testing.TB, clock core.Clock, live web.Live) (*httptest.Server, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	var mu sync.Mutex
	lg := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	srv := web.New(f.st, web.Options{Clock: clock, Live: live, Logger: lg, BaseURL: "https://zev.example"})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, &logs
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// occupancy returns the site's occupancy of name.
func (f *fixture) occupancy(t testing.TB, name string) core.Occupancy {
	t.Helper()
	for _, o := range f.site.Occupancies {
		if o.Name == name {
			return o
		}
	}
	t.Fatalf("no occupancy of %s", name)
	return core.Occupancy{}
}

func get(t testing.TB, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp, b.String()
}
