package web_test

import (
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/app/web"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/residents"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/sim"
)

// BenchmarkResidentsLoad is the load test of the resident view on loopback:
// within one 5-second window, 100 residents poll their live value once each
// (at random moments: a poll every 5 s each) while 20 residents open their
// page at the same instant, as a browser does (the page, its style sheet,
// script, chart and first live poll). Beside them, a desktop app's view
// reads the database every 50 ms. It reports the 99th percentile of the
// residents' request latencies (p99-ms), of a first round on a server that
// has just started (start-p99-ms: its Warm done, as Serve starts it; not
// counted in the others), of a first round on caches left empty
// (cold-p99-ms: without Warm) and of the app's reads (app-p99-ms). One
// iteration takes the window's 5 seconds, and two more run before them.
func BenchmarkResidentsLoad(b *testing.B) {
	f := newFixture(b, 62)
	feed := web.NewFeed()
	live := map[string]float64{}
	for _, m := range f.site.Meters {
		live[m.ID] = 500
	}
	clock := &testClock{t: testNow}
	feed.Put(f.site.ID, testNow, live)
	ts := httptest.NewServer(web.New(f.st, web.Options{Clock: clock, Live: feed}).Handler())
	defer ts.Close()
	var tokens []string
	for _, tok := range f.tokens {
		tokens = append(tokens, tok)
	}
	// More residents than occupancies: several people per link is the same
	// load on the server.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200}}
	fetch := func(url string) time.Duration {
		t0 := time.Now()
		resp, err := client.Get(url)
		if err != nil {
			b.Error(err)
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Errorf("%s: status %d", web.Redact(url), resp.StatusCode)
		}
		return time.Since(t0)
	}
	const window = 5 * time.Second
	var all, app []time.Duration
	scenario := func() {
		var mu sync.Mutex
		var wg sync.WaitGroup
		record := func(d time.Duration) {
			mu.Lock()
			all = append(all, d)
			mu.Unlock()
		}
		start := time.Now()
		for i := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(rand.Int64N(int64(window))))
				record(fetch(ts.URL + "/r/" + tokens[i%len(tokens)] + "/live"))
			}()
		}
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				base := ts.URL + "/r/" + tokens[i%len(tokens)] + "/"
				record(fetch(base))
				var pw sync.WaitGroup
				for _, u := range []string{ts.URL + "/static/style.css", ts.URL + "/static/live.js", base + "chart.svg?view=month", base + "live"} {
					pw.Add(1)
					go func() { defer pw.Done(); record(fetch(u)) }()
				}
				pw.Wait()
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < window {
				t0 := time.Now()
				f.st.View(func(tx store.Tx) error {
					var s store.Series
					from, to := core.Period{From: dataTo.AddDays(-30), To: dataTo}.Slots(zurich)
					for _, m := range f.site.Meters {
						tx.ReadIntervals(store.SeriesID{Site: f.site.ID, Meter: m.ID}, from, to, &s)
					}
					return nil
				})
				app = append(app, time.Since(t0))
				time.Sleep(50 * time.Millisecond)
			}
		}()
		wg.Wait()
	}
	// A first round on empty caches; then a new server after its start
	// (Warm, which Serve runs in the background before visitors come)
	// with its first round; the measured rounds follow.
	scenario()
	cold := p99(all)
	srv := web.New(f.st, web.Options{Clock: clock, Live: feed})
	srv.Warm()
	ts2 := httptest.NewServer(srv.Handler())
	defer ts2.Close()
	ts.Close()
	ts = ts2
	all, app = nil, nil
	scenario()
	start := p99(all)
	all, app = nil, nil
	for b.Loop() {
		scenario()
	}
	b.ReportMetric(cold, "cold-p99-ms")
	b.ReportMetric(start, "start-p99-ms")
	b.ReportMetric(p99(all), "p99-ms")
	b.ReportMetric(p99(app), "app-p99-ms")
	b.ReportMetric(float64(len(all))/float64(b.N), "requests/op")
}

func p99(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return float64(ds[len(ds)*99/100].Microseconds()) / 1000
}

// BenchmarkYearPage renders a resident's year page and its chart with five
// years of data of a 12-unit building in a real bbolt file, on empty
// caches: the page bills the year once, the chart each of its months.
func BenchmarkYearPage(b *testing.B) {
	path := filepath.Join(b.TempDir(), "office.db")
	st, err := bolt.Open(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ep := time.Date(2021, 1, 1, 0, 0, 0, 0, zurich)
	bld := sim.New(sim.Config{Seed: 5, Units: 12, PVkWp: 30, HeatPump: true, Location: zurich, Epoch: ep})
	site := bld.Site("year")
	fillData(b, st, bld, site, core.MustDate(2021, 1, 1), core.MustDate(2025, 12, 31))
	var tok string
	now := time.Date(2025, 12, 31, 18, 0, 0, 0, zurich)
	err = st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(site); err != nil {
			return err
		}
		es, err := residents.List(tx, site, nil, true, now)
		for _, e := range es {
			if e.Occupancy.To.IsZero() && tok == "" {
				tok = e.Token
			}
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, path string }{
		{"page", "/r/" + tok + "/?view=year&d=2025-06-01"},
		{"chart", "/r/" + tok + "/chart.svg?view=year&d=2025-06-01"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				// A new server each time: its caches are empty.
				h := web.New(st, web.Options{Clock: core.FixedClock(now)}).Handler()
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", c.path, nil))
				if rec.Code != 200 {
					b.Fatalf("status %d", rec.Code)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
		})
	}
}

// BenchmarkRequests measures the server's own cost of each kind of request
// (through its handler, without the network): a live poll, and a page and
// its chart with warm caches.
func BenchmarkRequests(b *testing.B) {
	f := newFixture(b, 62)
	feed := web.NewFeed()
	feed.Put(f.site.ID, testNow, map[string]float64{f.site.Meters[0].ID: 100})
	h := web.New(f.st, web.Options{Clock: core.FixedClock(testNow), Live: feed}).Handler()
	var tok string
	for _, t := range f.tokens {
		tok = t
		break
	}
	for _, c := range []struct{ name, path string }{
		{"live", "/r/" + tok + "/live"},
		{"page", "/r/" + tok + "/"},
		{"chart", "/r/" + tok + "/chart.svg"},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", c.path, nil))
				if rec.Code != 200 {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}
