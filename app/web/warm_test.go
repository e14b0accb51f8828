package web_test

import (
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/zevdesk/zevdesk/app/web"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// readCounter is the real store, counting the interval series read
// through it (what a billing run costs).
type readCounter struct {
	store.Store
	n atomic.Int64
}

func (c *readCounter) View(fn func(store.Tx) error) error {
	return c.Store.View(func(tx store.Tx) error { return fn(countingTx{tx, &c.n}) })
}

type countingTx struct {
	store.Tx
	n *atomic.Int64
}

func (t countingTx) ReadIntervals(id store.SeriesID, from, to core.Slot, dst *store.Series) error {
	t.n.Add(1)
	return t.Tx.ReadIntervals(id, from, to, dst)
}

// TestWarm: after Warm, every resident whose link opens finds their page
// and its chart computed: opening them reads no interval data, so the
// first visitors after a start do not wait for billing runs.
func TestWarm(t *testing.T) {
	f := newFixture(t, 62)
	st := &readCounter{Store: f.st}
	srv := web.New(st, web.Options{Clock: core.FixedClock(testNow)})
	srv.Warm()
	warmed := st.n.Load()
	if warmed == 0 {
		t.Fatal("Warm read no interval data: it billed nothing")
	}
	h := srv.Handler()
	for key, tok := range f.tokens {
		for _, path := range []string{"/r/" + tok + "/", "/r/" + tok + "/chart.svg?view=month"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
			if rec.Code != 200 {
				t.Fatalf("%s %s: status %d", key, web.Redact(path), rec.Code)
			}
		}
	}
	if n := st.n.Load() - warmed; n != 0 {
		t.Errorf("the residents' first pages read %d interval series after Warm; want none (all in the caches)", n)
	}
}
