package web_test

import (
	"encoding/json"
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/app/report"
	"github.com/zevdesk/zevdesk/app/web"
	"github.com/zevdesk/zevdesk/assets"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/residents"
	"github.com/zevdesk/zevdesk/core/store"
)

var figureRE = regexp.MustCompile(`id="(kwh-[a-z]+|self-pct|period)">([^<]*)<`)

// figuresOf reads the page's figures by element id.
func figuresOf(body string) map[string]string {
	m := map[string]string{}
	for _, sm := range figureRE.FindAllStringSubmatch(body, -1) {
		m[sm[1]] = html.UnescapeString(sm[2])
	}
	return m
}

// billed returns the invoice of occupancy key and the building over p, as
// `bill` computes them.
func billed(t *testing.T, st store.Store, site *core.Site, p core.Period, key string) (billing.Invoice, billing.Building) {
	t.Helper()
	var run *billing.Run
	err := st.View(func(tx store.Tx) error {
		in, err := billing.Load(tx, site, p)
		if err != nil {
			return err
		}
		run, err = billing.Bill(in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range run.Invoices {
		if inv.Key == key {
			return inv, run.Building
		}
	}
	t.Fatalf("no invoice %s in %s", key, p)
	return billing.Invoice{}, billing.Building{}
}

// TestFiguresAreTheInvoices: the page's figures for a day, a month and a
// year are the occupancy's invoice over the same days (clipped to the
// tenancy and today), as `bill` gives them.
func TestFiguresAreTheInvoices(t *testing.T) {
	f := newFixture(t, 0)
	ts, _ := f.server(t, core.FixedClock(testNow), nil)
	giulia := f.occupancy(t, "Giulia Rossi")
	anna := f.occupancy(t, "Anna Müller")
	peter := f.occupancy(t, "Peter Keller")
	for _, c := range []struct {
		o     core.Occupancy
		query string
		p     core.Period
	}{
		{anna, "?view=day&d=2025-09-15", core.Period{From: core.MustDate(2025, 9, 15), To: core.MustDate(2025, 9, 15)}},
		{anna, "?view=month&d=2025-06-10", core.Period{From: core.MustDate(2025, 6, 1), To: core.MustDate(2025, 6, 30)}},
		{anna, "", core.Period{From: core.MustDate(2025, 9, 1), To: core.MustDate(2025, 9, 15)}},
		// Giulia's year starts with her tenancy on 1 July.
		{giulia, "?view=year", core.Period{From: core.MustDate(2025, 7, 1), To: core.MustDate(2025, 9, 15)}},
		// Peter's month of August is his last month: he left on 31 May.
		{peter, "?view=month&d=2025-08-10", core.Period{From: core.MustDate(2025, 5, 1), To: core.MustDate(2025, 5, 31)}},
		{peter, "?view=year&d=2025-01-01", core.Period{From: core.MustDate(2025, 4, 1), To: core.MustDate(2025, 5, 31)}},
	} {
		name := c.o.Name + c.query
		resp, body := get(t, ts.URL+"/r/"+f.tokens[occKey(c.o)]+"/"+c.query)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", name, resp.StatusCode)
		}
		p := c.p
		if c.o.Name == "Peter Keller" && c.query == "?view=year&d=2025-01-01" {
			// Before 1 April the database holds nothing, but the
			// tenancy (and so the page's year) starts years earlier.
			p.From = core.MustDate(2025, 1, 1)
		}
		inv, b := billed(t, f.st, f.site, p, occKey(c.o))
		got := figuresOf(body)
		want := map[string]string{
			"kwh-solar": report.KWh(inv.KWh.Solar, 1), "kwh-grid": report.KWh(inv.KWh.Grid, 1),
			"kwh-total": report.KWh(inv.KWh.Total, 1), "self-pct": report.Percent(int64(inv.KWh.Solar), int64(inv.KWh.Total)),
			"kwh-production": report.KWh(b.Production, 1), "kwh-selfuse": report.KWh(b.SelfConsumed, 1),
			"kwh-fedin": report.KWh(b.FedIn, 1),
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, bill gives %q", name, k, got[k], v)
			}
		}
		if inv.KWh.Total == 0 {
			t.Errorf("%s: no energy: the test shows nothing", name)
		}
		if !strings.Contains(got["period"], report.Date(p.From)) || !strings.Contains(got["period"], report.Date(p.To)) && p.From != p.To {
			t.Errorf("%s: period %q, want %s", name, got["period"], p)
		}
	}
}

// TestSecurityHeaders asserts the headers on every route, in every
// outcome.
func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, 0)
	clock := &testClock{t: testNow}
	ts, _ := f.server(t, clock, web.NewFeed())
	anna := f.tokens[occKey(f.occupancy(t, "Anna Müller"))]
	annaInv := invoiceNumbers(t, f, occKey(f.occupancy(t, "Anna Müller")))[0]
	paths := []string{
		"/", "/static/style.css", "/static/live.js", "/static/nothing.css", "/nothing",
		"/r/" + anna + "/", "/r/" + anna + "/?view=year&lang=fr", "/r/" + anna + "/live", "/r/" + anna + "/chart.svg?view=month",
		"/r/" + anna + "/invoices/" + strconv.Itoa(annaInv) + ".pdf", "/r/" + anna + "/invoices/999.pdf", "/r/" + anna + "/x",
		"/r/" + anna, "/r/AAAAAAAAAAAAAAAAAAAAAAAA/", "/r/short/",
	}
	check := func(what string, resp *http.Response) {
		t.Helper()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if csp == "" || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script-src 'unsafe-inline'") ||
			strings.Contains(csp, "'unsafe-eval'") || strings.Contains(csp, "default-src *") {
			t.Errorf("%s: Content-Security-Policy %q", what, csp)
		}
		if s := csp; strings.Contains(s, "script-src") && !strings.Contains(s, "script-src 'self'") {
			t.Errorf("%s: scripts from elsewhere: %q", what, csp)
		}
		if h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", what, h)
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range paths {
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"} {
			req, _ := http.NewRequest(m, ts.URL+p, strings.NewReader("x=1"))
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			check(m+" "+p, resp)
			if m != "GET" && m != "HEAD" && resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status %d, want 405", m, p, resp.StatusCode)
			}
		}
	}
	// Throttled answers carry them too.
	for range 30 {
		resp, _ := get(t, ts.URL+"/r/AAAAAAAAAAAAAAAAAAAAAAAB/")
		check("a miss", resp)
	}
	resp, _ := get(t, ts.URL+"/r/"+anna+"/")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after 30 misses: status %d, want 429", resp.StatusCode)
	}
	check("429", resp)
}

// invoiceNumbers returns the numbers of key's committed invoices.
func invoiceNumbers(t *testing.T, f *fixture, key string) []int {
	t.Helper()
	var out []int
	f.st.View(func(tx store.Tx) error {
		return tx.ScanMeta(billing.BucketRuns, func(_ string, v []byte) bool {
			var rec billing.Record
			json.Unmarshal(v, &rec)
			if n, ok := rec.Numbers[key]; ok {
				out = append(out, n)
			}
			return true
		})
	})
	if len(out) == 0 {
		t.Fatalf("no invoice of %s", key)
	}
	return out
}

// TestMissesLikeMissingPages: unknown, malformed, revoked and expired
// tokens answer byte for byte like a path that does not exist, and a
// source that misses too often is slowed down until its misses age.
func TestMissesLikeMissingPages(t *testing.T) {
	f := newFixture(t, 20)
	clock := &testClock{t: testNow}
	ts, _ := f.server(t, clock, nil)
	_, missing := get(t, ts.URL+"/no/such/page")
	anna := f.occupancy(t, "Anna Müller")
	err := f.st.Update(func(tx store.Tx) error { return residents.Revoke(tx, f.site.ID, anna, testNow) })
	if err != nil {
		t.Fatal(err)
	}
	peter := f.tokens[occKey(f.occupancy(t, "Peter Keller"))]
	resp, _ := get(t, ts.URL+"/r/"+peter+"/")
	if resp.StatusCode != 200 {
		t.Fatalf("the former tenant within the grace period: status %d", resp.StatusCode)
	}
	clock.Set(time.Date(2025, 9, 29, 0, 0, 1, 0, zurich)) // 31 May + 120 days is over
	for i, p := range []string{
		"/r/" + f.tokens[occKey(anna)] + "/", "/r/" + peter + "/", "/r/" + peter + "/live", "/r/" + peter + "/chart.svg",
		"/r/" + strings.Repeat("A", 24) + "/", "/r/x/", "/r/" + peter + "x/",
	} {
		resp, body := get(t, ts.URL+p)
		if resp.StatusCode != 404 || body != missing {
			t.Errorf("%d: status %d, body differs from a missing page: %v", i, resp.StatusCode, body != missing)
		}
	}
	// Seven misses so far; the default burst is 20.
	giulia := f.tokens[occKey(f.occupancy(t, "Giulia Rossi"))]
	for range 13 {
		get(t, ts.URL+"/r/"+strings.Repeat("B", 24)+"/")
	}
	resp, _ = get(t, ts.URL+"/r/"+giulia+"/")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after 20 misses: status %d", resp.StatusCode)
	}
	clock.Set(clock.Now().Add(3 * time.Second))
	if resp, _ = get(t, ts.URL+"/r/"+giulia+"/"); resp.StatusCode != 200 {
		t.Errorf("after one leak: status %d", resp.StatusCode)
	}
	if resp, _ = get(t, ts.URL+"/r/"+strings.Repeat("C", 24)+"/"); resp.StatusCode != 404 {
		t.Errorf("one more miss: status %d", resp.StatusCode)
	}
	if resp, _ = get(t, ts.URL+"/r/"+giulia+"/"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a guesser gets more than one try per leak: status %d", resp.StatusCode)
	}
}

// TestPrivacy: for every pair of occupancies A and B of the generated site,
// nothing A's token returns, whatever the path or query, holds B's data:
// B's name, B's invoices, or figures of days outside A's tenancy.
func TestPrivacy(t *testing.T) {
	f := newFixture(t, 0)
	feed := web.NewFeed()
	ts, logs := f.server(t, core.FixedClock(testNow), feed)
	// Live power of every meter: a former tenant must not see the unit's.
	live := map[string]float64{}
	for _, m := range f.site.Meters {
		live[m.ID] = 1234
		if m.Role == core.RoleProduction {
			live[m.ID] = -5000
		}
	}
	feed.Put(f.site.ID, testNow, live)

	occs := f.site.Occupancies
	var hostile []string
	for _, o := range occs {
		for _, n := range invoiceNumbersOrNone(f, occKey(o)) {
			hostile = append(hostile, fmt.Sprintf("invoices/%d.pdf", n))
		}
		hostile = append(hostile,
			"?unit="+o.Unit, "?tenant="+o.Name, "?d="+o.From.String(), "?view=year&d="+o.From.String(),
			"?view=day&d="+o.From.AddDays(3).String(), "../"+f.tokens[occKey(o)]+"/", "invoices/"+o.Unit+".pdf",
			"invoices/../../"+f.tokens[occKey(o)]+"/live")
	}
	for _, m := range f.site.Meters {
		hostile = append(hostile, "?meter="+m.ID, "chart.svg?meter="+m.ID, "invoices/"+m.ID)
	}
	for d := core.MustDate(2024, 12, 1); d.Before(core.MustDate(2025, 10, 1)); d = d.AddDays(9) {
		hostile = append(hostile, "?view=day&d="+d.String(), "?view=month&d="+d.String(), "chart.svg?view=day&d="+d.String(),
			"live?d="+d.String())
	}
	for n := 0; n < 40; n++ {
		hostile = append(hostile, fmt.Sprintf("invoices/%d.pdf", n), fmt.Sprintf("invoices/%03d.pdf", n))
	}
	hostile = append(hostile, "", "live", "chart.svg", "chart.svg?view=year&d=2020-01-01", "?lang=xx", "../", "../../static/style.css",
		"invoices/", "invoices/.pdf", "invoices/-1.pdf", "invoices/1e1.pdf", "%2e%2e/", "static/../live")

	stay := func(o core.Occupancy) core.Period {
		p := core.Period{From: o.From, To: core.DateOf(testNow)}
		if !o.To.IsZero() {
			p.To = o.To
		}
		return p
	}
	mine := map[string]map[int]bool{}
	for _, o := range occs {
		mine[o.Name] = map[int]bool{}
		for _, n := range invoiceNumbersOrNone(f, occKey(o)) {
			mine[o.Name][n] = true
		}
	}
	dateRE := regexp.MustCompile(`(\d\d)\.(\d\d)\.(\d{4})`)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, a := range occs {
		tok := f.tokens[occKey(a)]
		for _, h := range hostile {
			resp, err := client.Get(ts.URL + "/r/" + tok + "/" + h)
			if err != nil {
				t.Fatal(err)
			}
			var sb strings.Builder
			buf := make([]byte, 32<<10)
			for {
				n, err := resp.Body.Read(buf)
				sb.Write(buf[:n])
				if err != nil {
					break
				}
			}
			resp.Body.Close()
			body := sb.String()
			what := a.Name + " " + h
			for _, b := range occs {
				if b.Name != a.Name && strings.Contains(body, b.Name) {
					t.Errorf("%s: shows %s", what, b.Name)
				}
			}
			if strings.Contains(body, "Cost") && strings.HasSuffix(h, ".pdf") {
				continue
			}
			if resp.Header.Get("Content-Type") == "application/pdf" {
				n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(h, "invoices/"), ".pdf"))
				if !mine[a.Name][n] {
					t.Errorf("%s: a PDF of another occupancy", what)
				}
				continue
			}
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") && resp.StatusCode == 200 {
				// Every date the page names (its period) lies in A's stay,
				// except the tenancy line itself.
				per := figuresOf(body)["period"]
				for _, m := range dateRE.FindAllStringSubmatch(per, -1) {
					y, _ := strconv.Atoi(m[3])
					mo, _ := strconv.Atoi(m[2])
					d, _ := strconv.Atoi(m[1])
					if !stay(a).Contains(core.MustDate(y, time.Month(mo), d)) {
						t.Errorf("%s: shows the period %s, outside the stay %s", what, per, stay(a))
					}
				}
			}
			if strings.HasPrefix(h, "live") && resp.StatusCode == 200 {
				var ans struct {
					OK    bool   `json:"ok"`
					OwnKW string `json:"own_kw"`
				}
				json.Unmarshal([]byte(body), &ans)
				current := a.To.IsZero() || !core.DateOf(testNow).After(a.To)
				if ans.OK != current {
					t.Errorf("%s: live data %v for a tenancy current=%v", what, ans.OK, current)
				}
				if current && ans.OwnKW != "1.23" {
					t.Errorf("%s: own power %q, want the unit's meter 1.23 kW", what, ans.OwnKW)
				}
			}
		}
	}
	for _, tok := range f.tokens {
		if strings.Contains(logs.String(), tok) {
			t.Errorf("a token in the log: %s", logs)
		}
	}
}

func invoiceNumbersOrNone(f *fixture, key string) []int {
	var out []int
	f.st.View(func(tx store.Tx) error {
		return tx.ScanMeta(billing.BucketRuns, func(_ string, v []byte) bool {
			var rec billing.Record
			json.Unmarshal(v, &rec)
			if n, ok := rec.Numbers[key]; ok {
				out = append(out, n)
			}
			return true
		})
	})
	return out
}

// TestInvoiceDownload: the resident downloads their committed invoice as
// the insert, with their link printed on it.
func TestInvoiceDownload(t *testing.T) {
	f := newFixture(t, 0)
	ts, _ := f.server(t, core.FixedClock(testNow), nil)
	anna := f.occupancy(t, "Anna Müller")
	tok := f.tokens[occKey(anna)]
	_, page := get(t, ts.URL+"/r/"+tok+"/")
	n := invoiceNumbers(t, f, occKey(anna))[0]
	if !strings.Contains(page, fmt.Sprintf(`href="invoices/%d.pdf"`, n)) {
		t.Fatalf("the page does not offer invoice %d", n)
	}
	resp, body := get(t, ts.URL+"/r/"+tok+fmt.Sprintf("/invoices/%d.pdf", n))
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "%PDF-") {
		t.Fatalf("invoice %d: status %d, %q", n, resp.StatusCode, body[:min(len(body), 20)])
	}
}

// TestLive: the live answer follows the feed.
func TestLive(t *testing.T) {
	f := newFixture(t, 3)
	feed := web.NewFeed()
	clock := &testClock{t: testNow}
	ts, _ := f.server(t, clock, feed)
	anna := f.occupancy(t, "Anna Müller")
	url := ts.URL + "/r/" + f.tokens[occKey(anna)] + "/live?lang=de"
	var meter, pv string
	for _, m := range f.site.Meters {
		switch {
		case m.Role == core.RoleUnit && m.Unit == anna.Unit:
			meter = m.ID
		case m.Role == core.RoleProduction:
			pv = m.ID
		}
	}
	type answer struct {
		OK     bool
		OwnKW  string `json:"own_kw"`
		PVKW   string `json:"pv_kw"`
		Cover  int
		Status string
		Text   string
	}
	read := func() answer {
		_, body := get(t, url)
		var a answer
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		return a
	}
	if a := read(); a.OK || a.Status != "none" {
		t.Errorf("without data: %+v", a)
	}
	feed.Put(f.site.ID, testNow, map[string]float64{meter: 800, pv: -3000})
	if a := read(); !a.OK || a.OwnKW != "0.80" || a.PVKW != "3.00" || a.Cover != 100 || a.Status != "sun" ||
		!strings.Contains(a.Text, "Sonne") {
		t.Errorf("sunny: %+v", a)
	}
	// The building uses 4 kW, PV gives 1 kW: a quarter of each use.
	others := map[string]float64{meter: 1000, pv: -1000}
	for _, m := range f.site.Meters {
		if m.Role == core.RoleUnit && m.Unit != anna.Unit {
			others[m.ID] = 750
		}
	}
	feed.Put(f.site.ID, testNow, others)
	if a := read(); a.Cover != 25 || a.Status != "part" || !strings.Contains(a.Text, "25 %") {
		t.Errorf("partly: %+v", a)
	}
	clock.Set(testNow.Add(2 * time.Minute))
	if a := read(); a.OK {
		t.Errorf("stale data shown as now: %+v", a)
	}
}

// TestCatalogues: every language has every English key, and every key the
// template uses exists.
func TestCatalogues(t *testing.T) {
	read := func(lang string) map[string]string {
		b, err := fs.ReadFile(assets.Web, "web/i18n/"+lang+".json")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		return m
	}
	en := read("en")
	for _, lang := range core.Languages {
		m := read(lang)
		for k := range en {
			if m[k] == "" {
				t.Errorf("%s.json lacks %q", lang, k)
			}
		}
	}
	tmpl, _ := fs.ReadFile(assets.Web, "web/resident.html")
	for _, m := range regexp.MustCompile(`\.T\.([a-z_]+)`).FindAllStringSubmatch(string(tmpl), -1) {
		if _, ok := en[m[1]]; !ok {
			t.Errorf("the template uses the unknown text %q", m[1])
		}
	}
	if !slices.Equal(core.Languages, []string{"de", "fr", "it", "en"}) {
		t.Log("languages:", core.Languages)
	}
}

// TestRedact: tokens never reach a log line.
func TestRedact(t *testing.T) {
	if got := web.Redact("GET /r/abcdefABCDEF0123456789-_/live?x from 1.2.3.4"); strings.Contains(got, "abcdef") {
		t.Errorf("Redact: %q", got)
	}
}
