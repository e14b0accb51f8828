package billing

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// Meta buckets billing keeps in the store. Keys start with the site id and a
// slash.
const (
	// BucketSessions holds EV sessions: key "SITE/START/ID" (START in
	// RFC 3339 UTC), value the Session as JSON.
	BucketSessions = "billing.sessions"
	// BucketUtility holds utility bills: key "SITE/FROM..TO", value JSON.
	BucketUtility = "billing.utility"
	// BucketPrices holds dynamic price series: key "SITE/FROMSLOT" (20
	// digits), value JSON.
	BucketPrices = "billing.prices"
	// BucketRuns holds committed runs: key "SITE/FROM..TO", value a Record
	// as JSON.
	BucketRuns = "billing.runs"
	// BucketCounter holds each site's last invoice number: key "SITE",
	// value decimal.
	BucketCounter = "billing.counter"
	// BucketSolarCosts holds each site's effective solar costs for the
	// Art. 16 check: key "SITE", value SolarCosts as JSON.
	BucketSolarCosts = "billing.solarcosts"
)

// Load reads what Bill needs for site over p from tx: every meter's
// channels once (one pass, whatever the number of tenants), the unit meters'
// registers at the period's boundaries, EV sessions, the utility bill and
// dynamic prices stored for the period, and the invoice numbers of an
// earlier commit of the same period.
func Load(tx store.Tx, site *core.Site, p core.Period) (*Input, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("loading %s: invalid period %s", site.ID, p)
	}
	loc := site.Location()
	from, to := p.Slots(loc)
	in := &Input{Site: site, Period: p, Data: map[string]MeterData{}, Readings: map[string]Readings{}}
	for _, m := range site.Meters {
		var md MeterData
		read := func(ch store.Channel, dst *store.Series) error {
			id := store.SeriesID{Site: site.ID, Meter: m.ID, Channel: ch}
			if err := tx.ReadIntervals(id, from, to, dst); err != nil {
				return fmt.Errorf("reading %s %s intervals: %w", m.ID, ch, err)
			}
			return nil
		}
		switch {
		case m.Role.Consumer():
			if err := read(store.Import, &md.Import); err != nil {
				return nil, err
			}
		case m.Role == core.RoleProduction:
			if err := read(store.Export, &md.Export); err != nil {
				return nil, err
			}
		case m.Role == core.RoleGrid:
			if err := read(store.Import, &md.Import); err != nil {
				return nil, err
			}
			if err := read(store.Export, &md.Export); err != nil {
				return nil, err
			}
		}
		// What a meter records outside its days in service is not billed.
		if m.Limited() {
			first, end := m.Service(loc)
			md.Import.KeepService(first, end)
			md.Export.KeepService(first, end)
		}
		in.Data[m.ID] = md
		if m.Role.Consumer() {
			r, err := loadReadings(tx, site.ID, m.ID, from.Time(), to.Time())
			if err != nil {
				return nil, err
			}
			in.Readings[m.ID] = r
		}
	}
	if err := loadBoundaries(tx, in); err != nil {
		return nil, err
	}
	var err error
	if in.Sessions, err = loadSessions(tx, site.ID, from.Time(), to.Time()); err != nil {
		return nil, err
	}
	if v, err := tx.GetMeta(BucketUtility, site.ID+"/"+p.String()); err == nil {
		in.Utility = new(UtilityBill)
		if err := json.Unmarshal(v, in.Utility); err != nil {
			return nil, fmt.Errorf("reading the utility bill of %s: %w", p, err)
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("reading the utility bill: %w", err)
	}
	if in.Prices, err = loadPrices(tx, site.ID, from, to); err != nil {
		return nil, err
	}
	if in.Billed, err = billedOverlaps(tx, site.ID, p); err != nil {
		return nil, err
	}
	rec, err := StoredRun(tx, site.ID, p)
	if err == nil {
		// An invoice voided by an earlier re-commit gets its number back
		// if it comes back, as Commit would give it.
		in.Numbers = rec.issued()
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return in, nil
}

// readingSlack is how far from a boundary a register reading may lie to be
// printed as the boundary's reading (with its own time).
const readingSlack = 24 * time.Hour

// registerAt returns meter's register reading at t or, failing that, the
// nearest one before t (before) or after it (!before) within readingSlack;
// nil if there is none.
func registerAt(tx store.Tx, site, meter string, t time.Time, before bool) (*store.Register, error) {
	reg, err := tx.RegisterAtOrAfter(site, meter, t)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("reading %s registers: %w", meter, err)
	}
	if err == nil && (reg.Time.Equal(t) || !before && reg.Time.Sub(t) <= readingSlack) {
		return &reg, nil
	}
	if !before {
		return nil, nil
	}
	reg, err = tx.RegisterBefore(site, meter, t)
	if errors.Is(err, store.ErrNotFound) || err == nil && t.Sub(reg.Time) > readingSlack {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s registers: %w", meter, err)
	}
	return &reg, nil
}

// loadReadings returns the readings at start (or the last before it) and at
// end (or the first after it), each within readingSlack, and the exchanges
// in between.
func loadReadings(tx store.Tx, site, meter string, start, end time.Time) (Readings, error) {
	var r Readings
	var err error
	if r.Start, err = registerAt(tx, site, meter, start, true); err != nil {
		return r, err
	}
	if r.End, err = registerAt(tx, site, meter, end, false); err != nil {
		return r, err
	}
	reps, err := tx.Replacements(site, meter)
	if err != nil {
		return r, fmt.Errorf("reading %s replacements: %w", meter, err)
	}
	for _, x := range reps {
		if !x.Time.Before(start) && x.Time.Before(end) {
			r.Replacements = append(r.Replacements, x)
		}
	}
	return r, nil
}

// loadBoundaries reads the unit meters' readings at the tenancy boundaries
// inside the period.
func loadBoundaries(tx store.Tx, in *Input) error {
	loc := in.Site.Location()
	days := map[string][]core.Date{} // unit -> boundary days
	for _, o := range in.Site.Occupancies {
		op, ok := o.Period(in.Period)
		if !ok {
			continue
		}
		if op.From != in.Period.From {
			days[o.Unit] = append(days[o.Unit], op.From)
		}
		if op.To != in.Period.To {
			days[o.Unit] = append(days[o.Unit], op.To.AddDays(1))
		}
	}
	for _, m := range in.Site.Meters {
		if m.Role != core.RoleUnit || len(days[m.Unit]) == 0 {
			continue
		}
		for _, d := range days[m.Unit] {
			reg, err := registerAt(tx, in.Site.ID, m.ID, d.Midnight(loc), true)
			if err != nil {
				return err
			}
			if reg == nil {
				continue
			}
			if in.Boundaries == nil {
				in.Boundaries = map[string]map[core.Date]store.Register{}
			}
			if in.Boundaries[m.ID] == nil {
				in.Boundaries[m.ID] = map[core.Date]store.Register{}
			}
			in.Boundaries[m.ID][d] = *reg
		}
	}
	return nil
}

func loadSessions(tx store.Tx, site string, start, end time.Time) ([]Session, error) {
	var out []Session
	var bad error
	prefix := site + "/"
	err := tx.ScanMeta(BucketSessions, func(k string, v []byte) bool {
		if !strings.HasPrefix(k, prefix) {
			return true
		}
		var s Session
		if err := json.Unmarshal(v, &s); err != nil {
			bad = fmt.Errorf("reading EV session %s: %w", k, err)
			return false
		}
		if s.End.After(start) && s.Start.Before(end) {
			out = append(out, s)
		}
		return true
	})
	if err == nil {
		err = bad
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("reading EV sessions: %w", err)
	}
	return out, nil
}

// SessionKey is the key of session s of site in BucketSessions: sessions
// of a site sort by start, and one with the same start and id replaces it.
func SessionKey(site string, s Session) string {
	return site + "/" + s.Start.UTC().Format(time.RFC3339) + "/" + s.ID
}

// PutSessions stores EV sessions of a site (replacing any with the same
// start and id), for Load to find. It refuses (store.ErrLocked) a session
// that reaches into a billed period: its energy was billed with the period.
func PutSessions(tx store.Tx, site string, ss []Session) error {
	check, err := sessionLockCheck(tx, site)
	if err != nil {
		return fmt.Errorf("storing EV sessions: %w", err)
	}
	for _, s := range ss {
		if err := check(s); err != nil {
			return err
		}
		v, err := json.Marshal(s)
		if err != nil {
			return err
		}
		if err := tx.PutMeta(BucketSessions, SessionKey(site, s), v); err != nil {
			return fmt.Errorf("storing EV session %s: %w", s.ID, err)
		}
	}
	return nil
}

// DeleteSession removes a stored EV session of a site (a session whose start
// was corrected moves to a new key). It refuses (store.ErrLocked) a session
// inside a billed period.
func DeleteSession(tx store.Tx, site string, s Session) error {
	check, err := sessionLockCheck(tx, site)
	if err != nil {
		return fmt.Errorf("removing EV session %s: %w", s.ID, err)
	}
	if err := check(s); err != nil {
		return err
	}
	return tx.DeleteMeta(BucketSessions, SessionKey(site, s))
}

// sessionLockCheck returns a function that refuses (checkUnlocked) a session
// of site whose local days overlap a billed period. A site without locks
// needs no site record (the demo stores its sessions before its site).
func sessionLockCheck(tx store.Tx, site string) (func(Session) error, error) {
	locks, err := tx.LocksOf(site)
	if err != nil {
		return nil, fmt.Errorf("reading locks: %w", err)
	}
	if len(locks) == 0 {
		return func(Session) error { return nil }, nil
	}
	st, err := tx.Site(site)
	if err != nil {
		return nil, fmt.Errorf("reading site %s: %w", site, err)
	}
	loc := st.Location()
	return func(s Session) error {
		last := s.End.Add(-time.Nanosecond) // the end is exclusive
		if last.Before(s.Start) {
			last = s.Start
		}
		days := core.Period{From: core.DateOf(s.Start.In(loc)), To: core.DateOf(last.In(loc))}
		if err := checkUnlocked(tx, site, days); err != nil {
			return fmt.Errorf("EV session %s of charger %s, %s–%s: %w", s.ID, s.Meter,
				s.Start.In(loc).Format(time.RFC3339), s.End.In(loc).Format(time.RFC3339), err)
		}
		return nil
	}, nil
}

// checkUnlocked returns an error wrapping store.ErrLocked when p overlaps a
// billed (locked) period of site: what was billed must stay reproducible.
func checkUnlocked(tx store.Tx, site string, p core.Period) error {
	locks, err := tx.LocksOf(site)
	if err != nil {
		return fmt.Errorf("reading locks: %w", err)
	}
	for _, l := range locks {
		if l.Period == p {
			return fmt.Errorf("%s was billed on %s (%s): %w", p,
				l.Time.In(siteLocation(tx, site)).Format("02.01.2006 15:04"), l.Note, store.ErrLocked)
		}
		if _, ok := l.Period.Intersect(p); ok {
			return fmt.Errorf("%s overlaps the billed period %s: %w", p, l.Period, store.ErrLocked)
		}
	}
	return nil
}

// PutUtilityBill stores the utility's bill for period u.Period of a site.
// It refuses (store.ErrLocked) a period that overlaps a billed one.
func PutUtilityBill(tx store.Tx, site string, u *UtilityBill) error {
	if err := checkUnlocked(tx, site, u.Period); err != nil {
		return fmt.Errorf("storing the utility bill: %w", err)
	}
	v, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return tx.PutMeta(BucketUtility, site+"/"+u.Period.String(), v)
}

// PriceResult counts what PutPrices did with a series' prices.
type PriceResult struct {
	// Prices counts the series' intervals with a price.
	Prices int
	// New counts those that had no stored price, Replaced those whose
	// stored price was different, Unchanged those whose stored price was
	// the same.
	New, Replaced, Unchanged int
}

// PutPrices merges a dynamic price series into a site's stored prices,
// interval by interval, in import order: where p has a price it replaces
// the stored one (the newest import wins); where p has none (0) the stored
// price stays. Billing then reads exactly the merged series. It refuses
// (store.ErrLocked), storing nothing, where a price inside a billed (locked)
// period would be set or changed, naming the period; an identical price
// there is no change.
//
// The stored series never overlap: the series p overlaps are merged with
// it into one, stored under its first interval.
func PutPrices(tx store.Tx, site string, p *DynamicPrices) (PriceResult, error) {
	var res PriceResult
	s, err := tx.Site(site)
	if err != nil {
		return res, fmt.Errorf("storing dynamic prices: site %q: %w", site, err)
	}
	if len(p.Grid) == 0 {
		return res, nil
	}
	loc := s.Location()
	docs, err := scanPrices(tx, site)
	if err != nil {
		return res, err
	}
	// The stored series p overlaps, and those they overlap in turn (series
	// stored before merging existed may overlap each other).
	lo, hi := p.From, p.From+core.Slot(len(p.Grid))
	in := make([]bool, len(docs))
	for grown := true; grown; {
		grown = false
		for i, d := range docs {
			if !in[i] && d.p.From < hi && d.end() > lo {
				in[i], grown = true, true
				lo, hi = min(lo, d.p.From), max(hi, d.end())
			}
		}
	}
	// Overlapping stored series are combined as loadPrices always read
	// them: in key order, a later one's price winning.
	merged := make([]core.Price, hi-lo)
	for i, d := range docs {
		if in[i] {
			for j, pr := range d.p.Grid {
				if pr != 0 {
					merged[d.p.From+core.Slot(j)-lo] = pr
				}
			}
		}
	}
	locks, err := tx.LocksOf(site)
	if err != nil {
		return res, fmt.Errorf("storing dynamic prices: reading locks: %w", err)
	}
	type span struct{ from, to core.Slot }
	locked := make([]span, len(locks))
	for i, l := range locks {
		locked[i].from, locked[i].to = l.Period.Slots(loc)
	}
	for j, pr := range p.Grid {
		if pr == 0 {
			continue
		}
		res.Prices++
		sl := p.From + core.Slot(j)
		old := &merged[sl-lo]
		switch {
		case *old == pr:
			res.Unchanged++
			continue
		case *old == 0:
			res.New++
		default:
			res.Replaced++
		}
		for i, l := range locks {
			if sl >= locked[i].from && sl < locked[i].to {
				return PriceResult{}, fmt.Errorf("storing dynamic prices: the price of the interval from %s lies in the "+
					"billed period %s (billed on %s): %w", sl.Time().In(loc).Format("02.01.2006 15:04"), l.Period,
					l.Time.In(loc).Format("02.01.2006 15:04"), store.ErrLocked)
			}
		}
		*old = pr
	}
	if res.New+res.Replaced == 0 {
		return res, nil
	}
	for i, d := range docs {
		if in[i] {
			if err := tx.DeleteMeta(BucketPrices, d.key); err != nil {
				return PriceResult{}, fmt.Errorf("storing dynamic prices: %w", err)
			}
		}
	}
	v, err := json.Marshal(DynamicPrices{From: lo, Grid: merged})
	if err != nil {
		return PriceResult{}, err
	}
	if err := tx.PutMeta(BucketPrices, pricesKey(site, lo), v); err != nil {
		return PriceResult{}, fmt.Errorf("storing dynamic prices: %w", err)
	}
	return res, nil
}

func pricesKey(site string, from core.Slot) string { return fmt.Sprintf("%s/%020d", site, int64(from)) }

// storedPrices is one stored price series and its key.
type storedPrices struct {
	key string
	p   DynamicPrices
}

func (d storedPrices) end() core.Slot { return d.p.From + core.Slot(len(d.p.Grid)) }

// scanPrices returns a site's stored price series in key order.
func scanPrices(tx store.Tx, site string) ([]storedPrices, error) {
	var out []storedPrices
	var bad error
	prefix := site + "/"
	err := tx.ScanMeta(BucketPrices, func(k string, v []byte) bool {
		if !strings.HasPrefix(k, prefix) {
			return true
		}
		d := storedPrices{key: k}
		if err := json.Unmarshal(v, &d.p); err != nil {
			bad = fmt.Errorf("reading dynamic prices %s: %w", k, err)
			return false
		}
		out = append(out, d)
		return true
	})
	if err == nil {
		err = bad
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("reading dynamic prices: %w", err)
	}
	return out, nil
}

// loadPrices returns the site's prices of the slots [from, to), or nil if
// none is stored there. Stored series do not overlap since PutPrices
// merges them; older databases may hold overlapping ones, which are read
// in key order, a later one's price winning, as PutPrices merges them.
func loadPrices(tx store.Tx, site string, from, to core.Slot) (*DynamicPrices, error) {
	docs, err := scanPrices(tx, site)
	if err != nil {
		return nil, err
	}
	var out *DynamicPrices
	for _, d := range docs {
		if d.p.From >= to || d.end() <= from {
			continue
		}
		if out == nil {
			out = &DynamicPrices{From: from, Grid: make([]core.Price, to-from)}
		}
		for i, pr := range d.p.Grid {
			if s := d.p.From + core.Slot(i); s >= from && s < to && pr != 0 {
				out.Grid[s-from] = pr
			}
		}
	}
	return out, nil
}

// Record is a committed run as stored: its numbers by invoice key, when it
// was committed, and the run as `bill --json` prints it.
type Record struct {
	Site      string         `json:"site"`
	Period    core.Period    `json:"period"`
	Committed time.Time      `json:"committed"`
	Numbers   map[string]int `json:"numbers"`
	// Voided are the numbers of invoices that an earlier commit of this
	// period issued and a later one (after an unlock) no longer has, by
	// key: the gaps in the sequence, explained. An invoice that comes back
	// under its key gets its number again.
	Voided map[string]int  `json:"voided,omitempty"`
	Run    json.RawMessage `json:"run"`
}

// issued returns every number the period's commits gave out, by invoice
// key: the current ones and the voided ones (an invoice that comes back
// under its key gets its number again).
func (r *Record) issued() map[string]int {
	m := maps.Clone(r.Voided)
	if m == nil {
		m = map[string]int{}
	}
	maps.Copy(m, r.Numbers)
	return m
}

// billedOverlaps returns the periods other than p, overlapping it, whose
// runs were committed.
func billedOverlaps(tx store.Tx, site string, p core.Period) ([]core.Period, error) {
	var out []core.Period
	prefix := site + "/"
	err := tx.ScanMeta(BucketRuns, func(k string, _ []byte) bool {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			return true
		}
		from, to, ok := strings.Cut(rest, "..")
		if !ok {
			return true
		}
		var q core.Period
		var e1, e2 error
		q.From, e1 = core.ParseDate(from)
		q.To, e2 = core.ParseDate(to)
		if e1 != nil || e2 != nil || q == p {
			return true
		}
		if _, ok := q.Intersect(p); ok {
			out = append(out, q)
		}
		return true
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("reading billed periods: %w", err)
	}
	return out, nil
}

// StoredRun returns the committed run of exactly p, or an error wrapping
// store.ErrNotFound.
func StoredRun(tx store.Tx, site string, p core.Period) (*Record, error) {
	v, err := tx.GetMeta(BucketRuns, site+"/"+p.String())
	if err != nil {
		return nil, fmt.Errorf("reading the billing run of %s: %w", p, err)
	}
	var rec Record
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("reading the billing run of %s: %w", p, err)
	}
	return &rec, nil
}

// Commit makes a run final: it gives every draft invoice the next number of
// the site (an invoice billed before under the same key, in an earlier
// commit of this period that was unlocked since, keeps its number), stores
// the run and locks the period. It refuses a period that overlaps a locked
// one. Commit changes run's invoice numbers in place.
//
// Numbers are never reused for another invoice: when a re-commit no longer
// has an invoice of the earlier commit (a tenancy corrected, say), its
// number is recorded as voided (Record.Voided) and named in the audit log,
// so that the gap in the sequence is explained.
//
// A run with gaps of unknown energy (Run.Unknown) is refused with an
// *UnknownError unless opt.Accept lists every one of them; the accepted
// gaps are then named in the audit log.
func Commit(tx store.Tx, run *Run, now time.Time, opt *CommitOptions) error {
	if opt == nil {
		opt = &CommitOptions{}
	}
	if err := checkUnlocked(tx, run.Site, run.Period); err != nil {
		return fmt.Errorf("billing %s: %w", run.Site, err)
	}
	unknown := run.Unknown()
	if len(unknown) > 0 {
		var open []Missing
		for _, m := range unknown {
			if !slices.ContainsFunc(opt.Accept, func(a Missing) bool { return sameGap(a, m) }) {
				open = append(open, m)
			}
		}
		if len(open) > 0 {
			return &UnknownError{Site: run.Site, Period: run.Period, Gaps: open, Slots: run.Building.Slots,
				Location: siteLocation(tx, run.Site)}
		}
	}
	prior := map[string]int{}
	voided := map[string]int{}
	if rec, err := StoredRun(tx, run.Site, run.Period); err == nil {
		prior = rec.issued()
		maps.Copy(voided, rec.Voided)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	last, err := lastNumber(tx, run.Site)
	if err != nil {
		return err
	}
	numbers := map[string]int{}
	first, lastNew := 0, 0
	for i := range run.Invoices {
		inv := &run.Invoices[i]
		if inv.Number == 0 {
			if n, ok := prior[inv.Key]; ok {
				inv.Number = n
			} else {
				last++
				inv.Number = last
			}
		}
		numbers[inv.Key] = inv.Number
		if first == 0 || inv.Number < first {
			first = inv.Number
		}
		lastNew = max(lastNew, inv.Number)
	}
	// Numbers issued before and not reissued now are voided, never given
	// to another invoice: the sequence keeps a gap that the record and the
	// audit log explain.
	var goneKeys []string
	for k, n := range prior {
		if _, ok := numbers[k]; ok {
			delete(voided, k)
			continue
		}
		if _, ok := voided[k]; !ok {
			goneKeys = append(goneKeys, k)
		}
		voided[k] = n
	}
	slices.SortFunc(goneKeys, func(a, b string) int { return cmp.Compare(voided[a], voided[b]) })
	var gone []string
	for _, k := range goneKeys {
		gone = append(gone, fmt.Sprintf("%d (%s)", voided[k], k))
	}
	if len(voided) == 0 {
		voided = nil
	}
	if err := tx.PutMeta(BucketCounter, run.Site, []byte(strconv.Itoa(last))); err != nil {
		return fmt.Errorf("storing the invoice counter: %w", err)
	}
	rj, err := json.Marshal(run)
	if err != nil {
		return err
	}
	rec, err := json.Marshal(Record{Site: run.Site, Period: run.Period, Committed: now.UTC(), Numbers: numbers,
		Voided: voided, Run: rj})
	if err != nil {
		return err
	}
	if err := tx.PutMeta(BucketRuns, run.Site+"/"+run.Period.String(), rec); err != nil {
		return fmt.Errorf("storing the billing run: %w", err)
	}
	note := fmt.Sprintf("billed: %d invoices", len(run.Invoices))
	if len(run.Invoices) > 0 {
		note += fmt.Sprintf(", numbers %d to %d", first, lastNew)
	}
	if len(gone) > 0 {
		note += fmt.Sprintf("; voided (no longer in the run): %s", strings.Join(gone, ", "))
	}
	if len(unknown) > 0 {
		actor := opt.Actor
		if actor == "" {
			actor = "billing"
		}
		detail := fmt.Sprintf("%s: finalized without the unknown consumption, as accepted: %s", run.Period,
			strings.Join(DescribeUnknown(unknown, run.Building.Slots, siteLocation(tx, run.Site)), "; "))
		if _, err := tx.AppendAudit(store.Entry{Time: now.UTC(), Actor: actor, Site: run.Site,
			Action: ActionAcceptMissing, Detail: detail}); err != nil {
			return fmt.Errorf("logging the accepted missing data: %w", err)
		}
	}
	if err := tx.LockPeriod(store.Lock{Site: run.Site, Period: run.Period, Time: now.UTC(), Note: note}); err != nil {
		return fmt.Errorf("locking %s: %w", run.Period, err)
	}
	if _, err := tx.AppendAudit(store.Entry{Time: now.UTC(), Actor: "billing", Site: run.Site, Action: "period.bill",
		Detail: run.Period.String() + ": " + note}); err != nil {
		return fmt.Errorf("logging the billing: %w", err)
	}
	return nil
}

// siteLocation returns the site's time zone, in which the office reads
// times, or UTC if the site cannot be read.
func siteLocation(tx store.Tx, site string) *time.Location {
	if s, err := tx.Site(site); err == nil {
		return s.Location()
	}
	return time.UTC
}

// ActionAcceptMissing is the audit log action of Commit's entry naming the
// gaps of unknown energy the office accepted.
const ActionAcceptMissing = "period.accept-missing"

// CommitOptions are Commit's options; nil means none.
type CommitOptions struct {
	// Actor names who finalizes, for the audit log entry of accepted
	// gaps ("billing" if empty).
	Actor string
	// Accept lists the gaps of unknown energy (Run.Unknown) that the
	// office accepts to leave unbilled, as they were shown to it. A gap
	// matches by meter, channel, first slot and number of slots, so that
	// data changed since the office looked is not accepted blindly.
	Accept []Missing
}

func sameGap(a, b Missing) bool {
	return a.Meter == b.Meter && a.Channel == b.Channel && a.First == b.First && a.Slots == b.Slots
}

// UnknownError is returned by Commit for a run with gaps of unknown
// energy (Missing.Unknown) that CommitOptions.Accept does not list.
type UnknownError struct {
	Site   string
	Period core.Period
	// Gaps are the gaps not accepted.
	Gaps []Missing
	// Slots is the number of intervals in the period.
	Slots int
	// Location is the site's time zone, in which the error names days.
	Location *time.Location
}

// Error names each gap with its numbers and says why finalizing stops.
func (e *UnknownError) Error() string {
	return fmt.Sprintf("billing %s %s: %s: the invoices would not bill this consumption at all; "+
		"finalize only after accepting it explicitly", e.Site, e.Period,
		strings.Join(DescribeUnknown(e.Gaps, e.Slots, e.Location), "; "))
}
