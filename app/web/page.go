package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/app/chart"
	"github.com/zevdesk/zevdesk/app/report"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/residents"
	"github.com/zevdesk/zevdesk/core/store"
)

// visit is one request of a resident whose token opened.
type visit struct {
	res   *residents.Resident
	token string
	lang  string
	today core.Date
	now   time.Time
	// span is what the resident may see: their occupancy up to today;
	// ok false before it starts.
	span core.Period
	ok   bool
	view string    // day, month or year
	day  core.Date // the day the view shows (in span when ok)
}

// occKey is the billing key of the visit's occupancy's invoices.
func (v *visit) occKey() string {
	o := v.res.Occupancy
	return "occ:" + o.Unit + ":" + o.Name + ":" + o.From.String()
}

// resident wraps a handler of a resident's path: it resolves the token,
// answering like a missing page (and counting a miss against the source)
// when it opens nothing.
func (s *Server) resident(h func(http.ResponseWriter, *http.Request, *visit)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		src := source(r)
		if s.limit.blocked(src) {
			w.Header().Set("Retry-After", strconv.Itoa(int(s.limit.opt.Leak.Seconds()+0.5)))
			http.Error(w, "too many requests", http.StatusTooManyRequests)
			return
		}
		token := r.PathValue("token")
		now := s.opt.Clock.Now()
		var res *residents.Resident
		err := s.st.View(func(tx store.Tx) (err error) { res, err = residents.Resolve(tx, token, now); return err })
		if errors.Is(err, residents.ErrNotFound) {
			s.limit.miss(src)
			s.notFound(w, r)
			return
		}
		if err != nil {
			s.log.Error("web: looking up a resident link", "error", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h(w, r, s.newVisit(res, token, r.URL.Query(), now))
	}
}

func (s *Server) newVisit(res *residents.Resident, token string, q url.Values, now time.Time) *visit {
	o := res.Occupancy
	v := &visit{res: res, token: token, now: now, lang: pickLang(q.Get("lang"), o.Language)}
	v.today = core.DateOf(now.In(res.Site.Location()))
	v.span = core.Period{From: o.From, To: v.today}
	if !o.To.IsZero() && o.To.Before(v.today) {
		v.span.To = o.To
	}
	v.ok = v.span.Valid()
	v.view = q.Get("view")
	if v.view != "day" && v.view != "year" {
		v.view = "month"
	}
	v.day = v.span.To
	if d, err := core.ParseDate(q.Get("d")); err == nil {
		v.day = d
	}
	// A day outside the stay shows the stay's nearest day.
	if v.ok && v.day.Before(v.span.From) {
		v.day = v.span.From
	}
	if v.ok && v.day.After(v.span.To) {
		v.day = v.span.To
	}
	return v
}

// viewPeriod returns the calendar day, month or year of view holding d.
func viewPeriod(view string, d core.Date) core.Period {
	switch view {
	case "day":
		return core.Period{From: d, To: d}
	case "year":
		return core.Period{From: core.MustDate(d.Year, 1, 1), To: core.MustDate(d.Year, 12, 31)}
	}
	first := core.Date{Year: d.Year, Month: d.Month, Day: 1}
	next := first.AddDays(40)
	return core.Period{From: first, To: core.Date{Year: next.Year, Month: next.Month, Day: 1}.AddDays(-1)}
}

// period is the visit's view clipped to what the resident may see.
func (v *visit) period() (core.Period, bool) {
	if !v.ok {
		return core.Period{}, false
	}
	return viewPeriod(v.view, v.day).Intersect(v.span)
}

// link returns a relative URL of the page with the given view and day, in
// the visit's language.
func (v *visit) link(view string, d core.Date) string {
	return "?" + url.Values{"view": {view}, "d": {d.String()}, "lang": {v.lang}}.Encode()
}

// figs are a resident's energy over a period: their invoice's energy (the
// same allocation as `bill`), the building's production in aggregate.
type figs struct {
	Solar, Grid, Total core.Energy
	Estimated          core.Energy
	Building           billing.Building
}

// recent reports whether p reaches the last two days, whose data still
// arrives.
func recent(p core.Period, today core.Date) bool { return !p.To.Before(today.AddDays(-2)) }

// summaryOf bills site over p as `bill` does (cached for a while).
func (s *Server) summaryOf(site *core.Site, p core.Period, today core.Date) (summary, error) {
	v, err := s.cache.get(cacheKey{site: site.ID, kind: "fig", p: p}, recent(p, today), func() (any, error) {
		var sm summary
		err := s.st.View(func(tx store.Tx) error {
			in, err := billing.Load(tx, site, p)
			if err != nil {
				return err
			}
			run, err := billing.Bill(in)
			if err != nil {
				return err
			}
			sm = summarize(run)
			return nil
		})
		return sm, err
	})
	if err != nil {
		return summary{}, err
	}
	return v.(summary), nil
}

// figures returns the occupancy's part of billing site over p: exactly
// what `bill --json` over p gives its invoice.
func (s *Server) figures(v *visit, p core.Period) (figs, error) {
	sm, err := s.summaryOf(v.res.Site, p, v.today)
	if err != nil {
		return figs{}, err
	}
	k := sm.KWh[v.occKey()]
	return figs{Solar: k.Solar, Grid: k.Grid, Total: k.Total, Estimated: sm.Est[v.occKey()], Building: sm.Building}, nil
}

type linkItem struct {
	Label, URL string
	Active     bool
}

type invoiceItem struct {
	Number        int
	Period, Total string
	URL           string
}

type pageData struct {
	T          map[string]string
	Lang       string
	Langs      []linkItem
	Views      []linkItem
	Site       string
	Tenant     string
	Unit       string
	Stay       string
	Period     string
	Prev, Next string
	HasData    bool
	Solar      string
	Grid       string
	Total      string
	SelfSuff   string
	SelfPct    int
	Production string
	SelfUse    string
	FedIn      string
	Estimated  string
	ChartURL   string
	ChartAlt   string
	Invoices   []invoiceItem
	Live       bool
	LiveURL    string
	Poll       int
	Note       string
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request, v *visit) {
	res, t := v.res, s.cat[v.lang]
	o := res.Occupancy
	d := pageData{T: t, Lang: v.lang, Site: res.Site.Name, Tenant: o.Name, Unit: o.Unit, Poll: s.opt.PollSeconds}
	if u := res.Site.Unit(o.Unit); u != nil && u.Name != "" {
		d.Unit = o.Unit + " · " + u.Name
	}
	d.Stay = s.cat.text(v.lang, "stay_from", "from", report.Date(o.From))
	if !o.To.IsZero() {
		d.Stay = s.cat.text(v.lang, "stay", "from", report.Date(o.From), "to", report.Date(o.To))
	}
	for _, l := range []string{"de", "fr", "it", "en"} {
		d.Langs = append(d.Langs, linkItem{Label: strings.ToUpper(l), Active: l == v.lang,
			URL: "?" + url.Values{"view": {v.view}, "d": {v.day.String()}, "lang": {l}}.Encode()})
	}
	for _, vw := range []string{"day", "month", "year"} {
		day := v.day
		if vw == "day" && v.view != "day" {
			day = v.span.To // "Today" is today, or the last day of a past stay
		}
		d.Views = append(d.Views, linkItem{Label: t["view_"+vw], URL: v.link(vw, day), Active: vw == v.view})
	}
	d.Live = s.opt.Live != nil && v.current()
	d.LiveURL = "live?" + url.Values{"lang": {v.lang}}.Encode()

	p, ok := v.period()
	var f figs
	var billErr error
	if ok {
		f, billErr = s.figures(v, p)
	}
	err := s.st.View(func(tx store.Tx) (err error) {
		d.Invoices, err = s.invoices(tx, v)
		return err
	})
	if err != nil {
		s.log.Error("web: reading a resident's invoices", "site", res.Site.ID, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if ok {
		d.Period = report.Date(p.From)
		if p.To != p.From {
			d.Period += " – " + report.Date(p.To)
		}
		// Navigation stays within the stay.
		whole := viewPeriod(v.view, v.day)
		if prev := whole.From.AddDays(-1); !prev.Before(v.span.From) {
			d.Prev = v.link(v.view, prev)
		}
		if next := whole.To.AddDays(1); !next.After(v.span.To) {
			d.Next = v.link(v.view, next)
		}
	}
	switch {
	case !ok:
		d.Note = t["not_started"]
	case billErr != nil:
		s.log.Warn("web: billing a resident's period", "site", res.Site.ID, "period", p.String(), "error", billErr)
		d.Note = t["no_data"]
	default:
		d.HasData = true
		d.Solar, d.Grid, d.Total = report.KWh(f.Solar, 1), report.KWh(f.Grid, 1), report.KWh(f.Total, 1)
		d.SelfSuff = report.Percent(int64(f.Solar), int64(f.Total))
		if f.Total > 0 {
			d.SelfPct = int(core.DivRound(int64(f.Solar)*100, int64(f.Total)))
		}
		b := f.Building
		d.Production, d.SelfUse, d.FedIn = report.KWh(b.Production, 1), report.KWh(b.SelfConsumed, 1), report.KWh(b.FedIn, 1)
		if f.Estimated > 0 {
			d.Estimated = s.cat.text(v.lang, "estimated", "kwh", report.KWh(f.Estimated, 1))
		}
		d.ChartURL = "chart.svg?" + url.Values{"view": {v.view}, "d": {v.day.String()}, "lang": {v.lang}}.Encode()
		d.ChartAlt = t["chart_alt"]
	}
	var b bytes.Buffer
	if err := s.tmpl["resident.html"].Execute(&b, d); err != nil {
		s.log.Error("web: rendering a resident's page", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

// current reports whether the occupancy runs today: only then is the
// unit's live power the resident's own.
func (v *visit) current() bool {
	o := v.res.Occupancy
	return !v.today.Before(o.From) && (o.To.IsZero() || !v.today.After(o.To))
}

// invoices lists the committed invoices of the visit's occupancy, newest
// first.
func (s *Server) invoices(tx store.Tx, v *visit) ([]invoiceItem, error) {
	var out []invoiceItem
	var ferr error
	err := tx.ScanMeta(billing.BucketRuns, func(k string, val []byte) bool {
		if !strings.HasPrefix(k, v.res.Site.ID+"/") {
			return true
		}
		inv, _, ok, err := storedInvoice(val, v.occKey())
		if err != nil {
			ferr = err
			return false
		}
		if ok {
			out = append(out, invoiceItem{Number: inv.Number, Period: report.Date(inv.From) + " – " + report.Date(inv.To),
				Total: "CHF " + inv.Total, URL: "invoices/" + strconv.Itoa(inv.Number) + ".pdf"})
		}
		return true
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if ferr != nil {
		return nil, ferr
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// runInvoice is what the page needs of a stored invoice.
type runInvoice struct {
	Number int       `json:"number"`
	Key    string    `json:"key"`
	From   core.Date `json:"from"`
	To     core.Date `json:"to"`
	Total  string    `json:"total"`
}

// storedInvoice returns the invoice with key of a stored run (a
// billing.Record as JSON), if it has one.
func storedInvoice(record []byte, key string) (runInvoice, core.Period, bool, error) {
	var rec billing.Record
	if err := json.Unmarshal(record, &rec); err != nil {
		return runInvoice{}, core.Period{}, false, fmt.Errorf("reading a billing run: %w", err)
	}
	if _, ok := rec.Numbers[key]; !ok {
		return runInvoice{}, rec.Period, false, nil
	}
	var run struct {
		Invoices []runInvoice `json:"invoices"`
	}
	if err := json.Unmarshal(rec.Run, &run); err != nil {
		return runInvoice{}, rec.Period, false, fmt.Errorf("reading the billing run of %s: %w", rec.Period, err)
	}
	for _, inv := range run.Invoices {
		if inv.Key == key && inv.Number != 0 {
			return inv, rec.Period, true, nil
		}
	}
	return runInvoice{}, rec.Period, false, nil
}

// serveLive answers the page's poll: the resident's power now, the
// building's PV power, and how much of the former the sun covers.
func (s *Server) serveLive(w http.ResponseWriter, r *http.Request, v *visit) {
	type answer struct {
		OK     bool   `json:"ok"`
		Time   string `json:"time,omitempty"`
		OwnKW  string `json:"own_kw,omitempty"`
		PVKW   string `json:"pv_kw,omitempty"`
		Cover  int    `json:"cover"`
		Text   string `json:"text"`
		Status string `json:"status"` // sun, part, grid, none
	}
	a := answer{Text: s.cat[v.lang]["live_none"], Status: "none"}
	if s.opt.Live != nil && v.current() {
		if own, pv, cover, at, ok := livePower(v.res.Site, v.res.Occupancy.Unit, s.opt.Live.Latest(v.res.Site.ID), v.now); ok {
			a.OK = true
			a.Time = at.In(v.res.Site.Location()).Format("15:04:05")
			a.OwnKW, a.PVKW = kw(own), kw(pv)
			a.Cover = int(cover*100 + 0.5)
			switch {
			case a.Cover >= 100:
				a.Status, a.Text = "sun", s.cat[v.lang]["live_sun"]
			case a.Cover > 0:
				a.Status, a.Text = "part", s.cat.text(v.lang, "live_part", "pct", strconv.Itoa(a.Cover))
			default:
				a.Status, a.Text = "grid", s.cat[v.lang]["live_grid"]
			}
		}
	}
	b, _ := json.Marshal(a)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// liveMaxAge is how old live data may be to be shown as "now".
const liveMaxAge = time.Minute

// livePower sums the unit's meters (own), the production meters (pv) and
// every consumer (the building's use) and returns the share of the
// building's use that PV covers, which is the share of the unit's as the
// allocation splits it. ok is false without fresh data of the unit.
func livePower(site *core.Site, unit string, latest map[string]Power, now time.Time) (own, pv, cover float64, at time.Time, ok bool) {
	var use float64
	fresh := func(p Power) bool { return now.Sub(p.Time) <= liveMaxAge }
	for _, m := range site.Meters {
		p, has := latest[m.ID]
		if !has || !fresh(p) {
			continue
		}
		switch {
		case m.Role == core.RoleProduction:
			pv += max(-p.W, 0)
		case m.Role.Consumer():
			use += max(p.W, 0)
			if m.Role == core.RoleUnit && m.Unit == unit {
				own += max(p.W, 0)
				ok = true
				if p.Time.After(at) {
					at = p.Time
				}
			}
		}
	}
	switch {
	case use > 0:
		cover = min(pv, use) / use
	case pv > 0:
		cover = 1
	}
	return own, pv, cover, at, ok
}

// kw formats W as kW with two decimals, Swiss style.
func kw(w float64) string {
	return report.KWh(core.Energy(w*1000+0.5), 2) // W × 1000 = mW, formatted as "kWh" = kW
}

// serveChart draws the view's bars: the last seven days for a day, the
// days of a month, the months of a year, each billed on its own like the
// invoice insert's chart (report.BarsFor).
func (s *Server) serveChart(w http.ResponseWriter, r *http.Request, v *visit) {
	if !v.ok {
		s.notFound(w, r)
		return
	}
	svg, err := s.chartSVG(v)
	if err != nil {
		s.log.Warn("web: a resident's chart", "site", v.res.Site.ID, "error", err)
	}
	if len(svg) == 0 {
		s.notFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Content-Security-Policy", cspSVG)
	w.Write(svg)
}

// chartSVG returns the visit's chart (nil when it has no bars), cached
// per view, language and occupancy.
func (s *Server) chartSVG(v *visit) ([]byte, error) {
	var buckets []core.Period
	switch v.view {
	case "day":
		for d := v.day.AddDays(-6); !d.After(v.day); d = d.AddDays(1) {
			buckets = append(buckets, core.Period{From: d, To: d})
		}
	case "month":
		p := viewPeriod("month", v.day)
		for d := p.From; !d.After(p.To); d = d.AddDays(1) {
			buckets = append(buckets, core.Period{From: d, To: d})
		}
	default:
		for m := time.January; m <= time.December; m++ {
			buckets = append(buckets, viewPeriod("month", core.MustDate(v.day.Year, m, 1)))
		}
	}
	all := core.Period{From: buckets[0].From, To: buckets[len(buckets)-1].To}
	key := cacheKey{site: v.res.Site.ID, kind: "svg/" + v.view + "/" + v.lang + "/" + v.occKey(), p: all}
	svg, err := s.cache.get(key, recent(all, v.today), func() (any, error) {
		bars, err := s.bars(v, buckets)
		if err != nil || len(bars) == 0 {
			return nil, err
		}
		t := s.cat[v.lang]
		var b bytes.Buffer
		err = chart.Energy(&b, chart.SVG, bars, chart.Options{Width: 720, Height: 300, Title: "kWh",
			SolarLabel: t["solar"], GridLabel: t["grid"]})
		return b.Bytes(), err
	})
	b, _ := svg.([]byte)
	return b, err
}

// bars returns the occupancy's energy per bucket: each bucket (up to
// today) billed on its own, the site's data read once for all of them.
// Buckets outside the stay are empty; a bucket the stay covers in part
// holds the occupancy's invoice for its days in it, which is all of its
// energy there. The buckets' runs serve every resident of the site (cached
// by the view and its period).
func (s *Server) bars(v *visit, buckets []core.Period) ([]chart.Bar, error) {
	all := core.Period{From: buckets[0].From, To: buckets[len(buckets)-1].To}
	if _, ok := all.Intersect(v.span); !ok {
		return nil, nil
	}
	site := v.res.Site
	val, err := s.cache.get(cacheKey{site: site.ID, kind: "bars/" + v.view, p: all}, recent(all, v.today), func() (any, error) {
		out := make([]summary, len(buckets))
		upTo := core.Period{From: all.From, To: v.today}
		err := s.st.View(func(tx store.Tx) error {
			span, ok := all.Intersect(upTo)
			if !ok {
				return nil
			}
			in, err := billing.Load(tx, site, span)
			if err != nil {
				return err
			}
			for i, b := range buckets {
				p, ok := b.Intersect(upTo)
				if !ok {
					continue
				}
				cp := *in
				cp.Period = p
				// Energy only, as report.BarsFor: money inputs of the
				// whole range do not apply to a part of it.
				cp.Utility, cp.Prices, cp.Numbers, cp.Billed = nil, nil, nil, nil
				run, err := billing.Bill(&cp)
				if err != nil {
					return fmt.Errorf("billing %s: %w", p, err)
				}
				out[i] = summarize(run)
			}
			return nil
		})
		return out, err
	})
	if err != nil {
		return nil, err
	}
	sums := val.([]summary)
	out := make([]chart.Bar, len(buckets))
	for i, b := range buckets {
		out[i].Label = s.barLabel(v, b)
		if _, ok := b.Intersect(v.span); !ok {
			continue
		}
		k := sums[i].KWh[v.occKey()]
		out[i].Solar, out[i].Grid = k.Solar.KWh(), k.Grid.KWh()
	}
	return out, nil
}

func (s *Server) barLabel(v *visit, p core.Period) string {
	switch v.view {
	case "year":
		return s.cat[v.lang]["month_"+strconv.Itoa(int(p.From.Month))]
	case "month":
		return strconv.Itoa(p.From.Day)
	}
	return fmt.Sprintf("%02d.%02d.", p.From.Day, int(p.From.Month))
}

// serveInvoice renders one of the occupancy's committed invoices as the
// insert the office printed: billed again from the stored data under its
// number (billing is reproducible).
func (s *Server) serveInvoice(w http.ResponseWriter, r *http.Request, v *visit) {
	file := r.PathValue("file")
	n, err := strconv.Atoi(strings.TrimSuffix(file, ".pdf"))
	if err != nil || !strings.HasSuffix(file, ".pdf") || n <= 0 || strconv.Itoa(n)+".pdf" != file {
		s.notFound(w, r)
		return
	}
	var ins *report.Insert
	err = s.st.View(func(tx store.Tx) error {
		var period core.Period
		var found bool
		var ferr error
		err := tx.ScanMeta(billing.BucketRuns, func(k string, val []byte) bool {
			if !strings.HasPrefix(k, v.res.Site.ID+"/") {
				return true
			}
			inv, p, ok, err := storedInvoice(val, v.occKey())
			if err != nil {
				ferr = err
				return false
			}
			if ok && inv.Number == n {
				period, found = p, true
				return false
			}
			return true
		})
		if ferr != nil {
			return ferr
		}
		if err != nil || !found {
			return err
		}
		in, err := billing.Load(tx, v.res.Site, period)
		if err != nil {
			return err
		}
		run, err := billing.Bill(in)
		if err != nil {
			return err
		}
		for i := range run.Invoices {
			inv := &run.Invoices[i]
			if inv.Key != v.occKey() || inv.Number != n {
				continue
			}
			issued, err := report.IssueDate(tx, v.res.Site, period, v.now)
			if err != nil {
				return err
			}
			bars, err := report.BarsFor(in, run)
			if err != nil {
				bars = nil
			}
			if ins, err = report.FromInvoice(v.res.Site, run, inv, issued, bars[inv.Key]); err != nil {
				return err
			}
			if s.opt.BaseURL != "" {
				ins.ResidentURL = strings.TrimSuffix(s.opt.BaseURL, "/") + "/r/" + v.token + "/"
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("web: an invoice insert", "site", v.res.Site.ID, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if ins == nil {
		s.notFound(w, r)
		return
	}
	var b bytes.Buffer
	if err := report.WritePDF(&b, ins); err != nil {
		s.log.Error("web: writing an invoice insert", "site", v.res.Site.ID, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%d.pdf"`, v.res.Site.ID, n))
	w.Write(b.Bytes())
}
