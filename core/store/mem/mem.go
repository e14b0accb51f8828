// Package mem is an in-memory store.Store: maps guarded by a lock, with an
// undo log that makes a failed Update leave no trace. It passes the same
// suite as the bbolt store (store/storetest) and serves as a fast store in
// tests of other packages. It keeps nothing on disk.
package mem

import (
	"cmp"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// ErrClosed is returned by transactions on a closed Store.
var ErrClosed = errors.New("mem: store is closed")

const perDay = core.SlotsPerUTCDay

// day holds one series' values of one UTC day.
type day struct {
	E [perDay]core.Energy
	Q [perDay]store.Quality
}

type meterKey struct{ Site, Meter string }

type timeKey struct {
	Sec  int64
	Nsec int32
}

func tkey(t time.Time) timeKey { return timeKey{t.Unix(), int32(t.Nanosecond())} }

type flagKey struct {
	Site, Meter string
	Slot        core.Slot
	Kind        string
}

type lockKey struct {
	Site   string
	Period core.Period
}

type metaKey struct{ Bucket, Key string }

// data is everything the store holds. Sites are kept as JSON so that no
// caller shares memory with the store.
type data struct {
	Sites        map[string][]byte
	Series       map[store.SeriesID]map[int64]*day
	Registers    map[meterKey][]store.Register // sorted by time; replaced, never changed in place
	Replacements map[meterKey]map[timeKey]store.Replacement
	Records      map[string]map[uint64]store.Record
	Cursors      map[string]uint64
	Flags        map[flagKey]string
	Audit        []store.Entry
	AuditSeq     uint64
	Locks        map[lockKey]store.Lock
	Meta         map[metaKey][]byte
}

// Store is an in-memory store.Store. It is safe for concurrent use; an
// Update excludes Views while it runs.
type Store struct {
	mu     sync.RWMutex
	closed bool
	d      data
	hub    store.Hub // announces committed Updates (store.Notifier)
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Notifier = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{d: data{
		Sites:        map[string][]byte{},
		Series:       map[store.SeriesID]map[int64]*day{},
		Registers:    map[meterKey][]store.Register{},
		Replacements: map[meterKey]map[timeKey]store.Replacement{},
		Records:      map[string]map[uint64]store.Record{},
		Cursors:      map[string]uint64{},
		Flags:        map[flagKey]string{},
		Locks:        map[lockKey]store.Lock{},
		Meta:         map[metaKey][]byte{},
	}}
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(store.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return fn(&tx{d: &s.d})
}

// Update runs fn in a read-write transaction; when fn returns an error or
// panics, every change it made is undone. A commit is announced to the
// subscribers (Subscribe).
func (s *Store) Update(fn func(store.Tx) error) (err error) {
	err = s.update(fn)
	if err == nil {
		s.hub.Notify()
	}
	return err
}

// Subscribe calls fn after committed Updates (see store.Notifier).
func (s *Store) Subscribe(fn func()) (stop func()) { return s.hub.Subscribe(fn) }

func (s *Store) update(fn func(store.Tx) error) (err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	t := &tx{d: &s.d, writable: true, touched: map[dayRef]bool{}}
	done := false
	defer func() {
		if !done || err != nil {
			t.rollback()
		}
	}()
	err = fn(t)
	done = true
	return err
}

// Backup writes the store's contents to w (encoding/gob); mem has no file
// format of its own.
func (s *Store) Backup(w io.Writer) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	cw := &countWriter{w: w}
	if err := gob.NewEncoder(cw).Encode(&s.d); err != nil {
		return cw.n, fmt.Errorf("writing backup: %w", err)
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Check verifies the store's invariants: sites decode, interval days hold
// valid qualities and gaps have no energy.
func (s *Store) Check() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var errs []error
	for id, b := range s.d.Sites {
		var site core.Site
		if err := json.Unmarshal(b, &site); err != nil {
			errs = append(errs, fmt.Errorf("site %q: %w", id, err))
		}
	}
	for id, days := range s.d.Series {
		for d, blk := range days {
			n := 0
			for i, q := range blk.Q {
				switch {
				case q > store.Edited:
					errs = append(errs, fmt.Errorf("series %v day %d slot %d: quality %d", id, d, i, q))
				case q == store.Missing && blk.E[i] != 0:
					errs = append(errs, fmt.Errorf("series %v day %d slot %d: energy in a gap", id, d, i))
				case q != store.Missing:
					n++
				}
			}
			if n == 0 {
				errs = append(errs, fmt.Errorf("series %v day %d: empty day stored", id, d))
			}
		}
	}
	return errors.Join(errs...)
}

// Close releases the store; later transactions return ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

type dayRef struct {
	id  store.SeriesID
	day int64
}

// tx is a transaction. Every change to the maps goes through set or del,
// which log how to undo it.
type tx struct {
	d        *data
	writable bool
	undo     []func()
	touched  map[dayRef]bool
}

var _ store.Tx = (*tx)(nil)

func (t *tx) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	t.undo = nil
}

func (t *tx) check() error {
	if !t.writable {
		return store.ErrReadOnly
	}
	return nil
}

// set assigns m[k] = v, logging the undo.
func set[K comparable, V any](t *tx, m map[K]V, k K, v V) {
	old, had := m[k]
	t.undo = append(t.undo, func() {
		if had {
			m[k] = old
		} else {
			delete(m, k)
		}
	})
	m[k] = v
}

// del deletes m[k], logging the undo.
func del[K comparable, V any](t *tx, m map[K]V, k K) {
	old, had := m[k]
	if !had {
		return
	}
	t.undo = append(t.undo, func() { m[k] = old })
	delete(m, k)
}

// inner returns m[k], creating it (with undo) when absent.
func inner[K comparable, K2 comparable, V any](t *tx, m map[K]map[K2]V, k K) map[K2]V {
	in := m[k]
	if in == nil {
		in = map[K2]V{}
		set(t, m, k, in)
	}
	return in
}

// ---- Sites ----

// PutSite creates or replaces a site.
func (t *tx) PutSite(s *core.Site) error {
	if err := t.check(); err != nil {
		return err
	}
	if err := store.CheckID("site", s.ID); err != nil {
		return err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encoding site %s: %w", s.ID, err)
	}
	set(t, t.d.Sites, s.ID, b)
	return nil
}

// Site returns a copy of the site, or ErrNotFound.
func (t *tx) Site(id string) (*core.Site, error) {
	b, ok := t.d.Sites[id]
	if !ok {
		return nil, fmt.Errorf("site %q: %w", id, store.ErrNotFound)
	}
	var s core.Site
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("reading site %q: %w", id, err)
	}
	return &s, nil
}

// SiteIDs lists every site id in lexical order.
func (t *tx) SiteIDs() ([]string, error) {
	var ids []string
	for id := range t.d.Sites {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// ---- Intervals ----

func dayOf(s core.Slot) int64 {
	d := int64(s) / perDay
	if int64(s)%perDay < 0 {
		d--
	}
	return d
}

// PutIntervals stores vals following mode (see store.Intervals).
func (t *tx) PutIntervals(id store.SeriesID, vals []store.Value, mode store.PutMode) (store.PutResult, error) {
	var res store.PutResult
	if err := t.check(); err != nil {
		return res, err
	}
	if err := id.Check(); err != nil {
		return res, err
	}
	if mode > store.Replace {
		return res, fmt.Errorf("unknown put mode %d", mode)
	}
	for _, v := range vals {
		if v.Quality > store.Edited {
			return res, fmt.Errorf("writing intervals of %s/%s at %s: invalid quality %d", id.Site, id.Meter, v.Slot, v.Quality)
		}
	}
	sorted := slices.Clone(vals)
	slices.SortStableFunc(sorted, func(a, b store.Value) int { return cmp.Compare(a.Slot, b.Slot) })
	locks, err := t.lockSpans(id.Site)
	if err != nil {
		return res, err
	}
	// First decide everything, then apply: a locked slot fails the call
	// before anything changed.
	pending := map[core.Slot]store.Value{}
	var order []core.Slot
	current := func(s core.Slot) store.Value {
		if v, ok := pending[s]; ok {
			return v
		}
		if blk := t.d.Series[id][dayOf(s)]; blk != nil {
			i := s - core.Slot(dayOf(s)*perDay)
			return store.Value{Slot: s, Energy: blk.E[i], Quality: blk.Q[i]}
		}
		return store.Value{Slot: s}
	}
	for _, v := range sorted {
		if v.Quality == store.Missing {
			continue
		}
		old := current(v.Slot)
		switch {
		case old.Quality == v.Quality && old.Energy == v.Energy:
			res.Unchanged++
			continue
		case old.Quality == store.Missing || old.Quality == store.Estimated:
			res.Written++
		case mode == store.Replace:
			res.Replaced++
		default:
			res.Conflicts = append(res.Conflicts, store.Conflict{Slot: v.Slot, Stored: old, Incoming: v})
			continue
		}
		for _, l := range locks {
			if v.Slot >= l.from && v.Slot < l.to {
				return store.PutResult{}, fmt.Errorf("writing intervals of %s/%s at %s: site %s, period %s: %w",
					id.Site, id.Meter, v.Slot, id.Site, l.p, store.ErrLocked)
			}
		}
		if _, ok := pending[v.Slot]; !ok {
			order = append(order, v.Slot)
		}
		pending[v.Slot] = v
	}
	if len(order) == 0 {
		return res, nil
	}
	days := inner(t, t.d.Series, id)
	for _, s := range order {
		v := pending[s]
		d := dayOf(s)
		ref := dayRef{id, d}
		blk := days[d]
		if !t.touched[ref] {
			// Copy on first write in this transaction; undo restores the
			// old block.
			nb := &day{}
			if blk != nil {
				*nb = *blk
			}
			set(t, days, d, nb)
			blk = nb
			t.touched[ref] = true
			t.undo = append(t.undo, func() { delete(t.touched, ref) })
		}
		i := s - core.Slot(d*perDay)
		blk.E[i], blk.Q[i] = v.Energy, v.Quality
	}
	return res, nil
}

// ReadIntervals fills dst with the series' values for [from, to).
func (t *tx) ReadIntervals(id store.SeriesID, from, to core.Slot, dst *store.Series) error {
	if err := id.Check(); err != nil {
		return err
	}
	if to < from {
		return fmt.Errorf("reading intervals of %s/%s: range end %s before start %s", id.Site, id.Meter, to, from)
	}
	n := int(to - from)
	dst.From = from
	if cap(dst.Energy) >= n {
		dst.Energy = dst.Energy[:n]
	} else {
		dst.Energy = make([]core.Energy, n)
	}
	if cap(dst.Quality) >= n {
		dst.Quality = dst.Quality[:n]
	} else {
		dst.Quality = make([]store.Quality, n)
	}
	clear(dst.Energy)
	clear(dst.Quality)
	days := t.d.Series[id]
	if len(days) == 0 {
		return nil
	}
	for s := from; s < to; {
		d := dayOf(s)
		base := core.Slot(d * perDay)
		end := min(to, base+perDay)
		if blk := days[d]; blk != nil {
			copy(dst.Energy[s-from:end-from], blk.E[s-base:end-base])
			copy(dst.Quality[s-from:end-from], blk.Q[s-base:end-base])
		}
		s = end
	}
	return nil
}

// SeriesIDs lists the series stored for a site, by meter then channel.
func (t *tx) SeriesIDs(site string) ([]store.SeriesID, error) {
	if err := store.CheckID("site", site); err != nil {
		return nil, err
	}
	var ids []store.SeriesID
	for id, days := range t.d.Series {
		if id.Site == site && len(days) > 0 {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b store.SeriesID) int {
		return cmp.Or(strings.Compare(a.Meter, b.Meter), cmp.Compare(a.Channel, b.Channel))
	})
	return ids, nil
}

type span struct {
	from, to core.Slot
	p        core.Period
}

func (t *tx) lockSpans(site string) ([]span, error) {
	ls, err := t.LocksOf(site)
	if err != nil || len(ls) == 0 {
		return nil, err
	}
	st, err := t.Site(site)
	if err != nil {
		return nil, fmt.Errorf("site %s has locked periods but its definition cannot be read (needed for its time zone): %w", site, err)
	}
	loc := st.Location()
	spans := make([]span, len(ls))
	for i, l := range ls {
		from, to := l.Period.Slots(loc)
		spans[i] = span{from, to, l.Period}
	}
	return spans, nil
}

// ---- Registers ----

func checkSiteMeter(site, meter string) error {
	if err := store.CheckID("site", site); err != nil {
		return err
	}
	return store.CheckID("meter", meter)
}

// PutRegisters stores readings; a differing one at a stored instant is
// returned as a conflict.
func (t *tx) PutRegisters(site, meter string, rs []store.Register) ([]store.Register, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if err := checkSiteMeter(site, meter); err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, nil
	}
	k := meterKey{site, meter}
	// A new slice, so that the undo log's old one stays as it was.
	all := slices.Clone(t.d.Registers[k])
	var conflicts []store.Register
	for _, r := range rs {
		r.Time = r.Time.UTC().Round(0)
		i, found := slices.BinarySearchFunc(all, r.Time, func(x store.Register, at time.Time) int { return x.Time.Compare(at) })
		if found {
			if all[i].Import != r.Import || all[i].Export != r.Export {
				conflicts = append(conflicts, r)
			}
			continue
		}
		all = slices.Insert(all, i, r)
	}
	set(t, t.d.Registers, k, all)
	return conflicts, nil
}

// search returns the index of the first reading at or after at.
func (t *tx) search(site, meter string, at time.Time) ([]store.Register, int) {
	rs := t.d.Registers[meterKey{site, meter}]
	i, _ := slices.BinarySearchFunc(rs, at, func(x store.Register, at time.Time) int { return x.Time.Compare(at) })
	return rs, i
}

// ScanRegisters calls fn for readings with from <= Time < to in time order.
func (t *tx) ScanRegisters(site, meter string, from, to time.Time, fn func(store.Register) bool) error {
	if err := checkSiteMeter(site, meter); err != nil {
		return err
	}
	rs, i := t.search(site, meter, from)
	for _, r := range rs[i:] {
		if !r.Time.Before(to) || !fn(r) {
			return nil
		}
	}
	return nil
}

// RegisterBefore returns the latest reading strictly before at.
func (t *tx) RegisterBefore(site, meter string, at time.Time) (store.Register, error) {
	if err := checkSiteMeter(site, meter); err != nil {
		return store.Register{}, err
	}
	if rs, i := t.search(site, meter, at); i > 0 {
		return rs[i-1], nil
	}
	return store.Register{}, fmt.Errorf("register of %s/%s before %s: %w", site, meter, at.UTC().Format(time.RFC3339), store.ErrNotFound)
}

// RegisterAtOrAfter returns the earliest reading at or after at.
func (t *tx) RegisterAtOrAfter(site, meter string, at time.Time) (store.Register, error) {
	if err := checkSiteMeter(site, meter); err != nil {
		return store.Register{}, err
	}
	if rs, i := t.search(site, meter, at); i < len(rs) {
		return rs[i], nil
	}
	return store.Register{}, fmt.Errorf("register of %s/%s at or after %s: %w", site, meter, at.UTC().Format(time.RFC3339), store.ErrNotFound)
}

// PutReplacement records a meter exchange (replacing one at the same instant).
func (t *tx) PutReplacement(site, meter string, r store.Replacement) error {
	if err := t.check(); err != nil {
		return err
	}
	if err := checkSiteMeter(site, meter); err != nil {
		return err
	}
	r.Time, r.OldFinal.Time, r.NewInitial.Time = r.Time.UTC().Round(0), r.OldFinal.Time.UTC().Round(0), r.NewInitial.Time.UTC().Round(0)
	set(t, inner(t, t.d.Replacements, meterKey{site, meter}), tkey(r.Time), r)
	return nil
}

// Replacements returns a meter's exchanges in time order.
func (t *tx) Replacements(site, meter string) ([]store.Replacement, error) {
	if err := checkSiteMeter(site, meter); err != nil {
		return nil, err
	}
	var rs []store.Replacement
	for _, r := range t.d.Replacements[meterKey{site, meter}] {
		rs = append(rs, r)
	}
	slices.SortFunc(rs, func(a, b store.Replacement) int { return a.Time.Compare(b.Time) })
	return rs, nil
}

// ---- Records ----

// PutRecords stores new records and returns how many were new.
func (t *tx) PutRecords(recs []store.Record) (int, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	n := 0
	for _, r := range recs {
		if err := store.CheckID("source", r.Source); err != nil {
			return 0, err
		}
		m := inner(t, t.d.Records, r.Source)
		if _, ok := m[r.Seq]; ok {
			continue
		}
		r.Time = r.Time.UTC().Round(0)
		set(t, m, r.Seq, r)
		n++
	}
	return n, nil
}

// ScanRecords calls fn for source's records with Seq > after in order.
func (t *tx) ScanRecords(source string, after uint64, fn func(store.Record) bool) error {
	if err := store.CheckID("source", source); err != nil {
		return err
	}
	m := t.d.Records[source]
	seqs := make([]uint64, 0, len(m))
	for s := range m {
		if s > after {
			seqs = append(seqs, s)
		}
	}
	slices.Sort(seqs)
	for _, s := range seqs {
		if !fn(m[s]) {
			return nil
		}
	}
	return nil
}

// Cursor returns source's cursor (0 if none).
func (t *tx) Cursor(source string) (uint64, error) { return t.d.Cursors[source], nil }

// SetCursor sets source's cursor.
func (t *tx) SetCursor(source string, seq uint64) error {
	if err := t.check(); err != nil {
		return err
	}
	if err := store.CheckID("source", source); err != nil {
		return err
	}
	set(t, t.d.Cursors, source, seq)
	return nil
}

// ---- Flags ----

// PutFlags stores flags, replacing one with the same site, meter, slot and
// kind.
func (t *tx) PutFlags(fs []store.Flag) error {
	if err := t.check(); err != nil {
		return err
	}
	for _, f := range fs {
		if err := checkSiteMeter(f.Site, f.Meter); err != nil {
			return err
		}
		if err := store.CheckID("flag kind", f.Kind); err != nil {
			return err
		}
		set(t, t.d.Flags, flagKey{f.Site, f.Meter, f.Slot, f.Kind}, f.Reason)
	}
	return nil
}

// ScanFlags calls fn for a site's flags in [from, to) by meter, slot, kind.
func (t *tx) ScanFlags(site string, from, to core.Slot, fn func(store.Flag) bool) error {
	if err := store.CheckID("site", site); err != nil {
		return err
	}
	var fs []store.Flag
	for k, r := range t.d.Flags {
		if k.Site == site && k.Slot >= from && k.Slot < to {
			fs = append(fs, store.Flag{Site: k.Site, Meter: k.Meter, Slot: k.Slot, Kind: k.Kind, Reason: r})
		}
	}
	slices.SortFunc(fs, func(a, b store.Flag) int {
		return cmp.Or(strings.Compare(a.Meter, b.Meter), cmp.Compare(a.Slot, b.Slot), strings.Compare(a.Kind, b.Kind))
	})
	for _, f := range fs {
		if !fn(f) {
			return nil
		}
	}
	return nil
}

// DeleteFlags removes a kind's flags from a meter's slots [from, to).
func (t *tx) DeleteFlags(site, meter, kind string, from, to core.Slot) error {
	if err := t.check(); err != nil {
		return err
	}
	if err := checkSiteMeter(site, meter); err != nil {
		return err
	}
	var ks []flagKey
	for k := range t.d.Flags {
		if k.Site == site && k.Meter == meter && k.Kind == kind && k.Slot >= from && k.Slot < to {
			ks = append(ks, k)
		}
	}
	for _, k := range ks {
		del(t, t.d.Flags, k)
	}
	return nil
}

// ---- Audit ----

// AppendAudit appends e and returns its sequence number.
func (t *tx) AppendAudit(e store.Entry) (uint64, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	oldSeq, oldLen := t.d.AuditSeq, len(t.d.Audit)
	t.undo = append(t.undo, func() { t.d.AuditSeq, t.d.Audit = oldSeq, t.d.Audit[:oldLen] })
	t.d.AuditSeq++
	e.Seq = t.d.AuditSeq
	e.Time = e.Time.UTC().Round(0)
	t.d.Audit = append(t.d.Audit, e)
	return e.Seq, nil
}

// ScanAudit calls fn for entries with Seq > after in order.
func (t *tx) ScanAudit(after uint64, fn func(store.Entry) bool) error {
	if after == ^uint64(0) {
		return nil
	}
	i, _ := slices.BinarySearchFunc(t.d.Audit, after+1, func(e store.Entry, s uint64) int { return cmp.Compare(e.Seq, s) })
	for _, e := range t.d.Audit[i:] {
		if !fn(e) {
			return nil
		}
	}
	return nil
}

// ---- Locks ----

// LockPeriod locks a period of a site (replacing a lock of the same period).
func (t *tx) LockPeriod(l store.Lock) error {
	if err := t.check(); err != nil {
		return err
	}
	if err := store.CheckID("site", l.Site); err != nil {
		return err
	}
	if !l.Period.Valid() {
		return fmt.Errorf("locking %s: invalid period %s", l.Site, l.Period)
	}
	l.Time = l.Time.UTC().Round(0)
	set(t, t.d.Locks, lockKey{l.Site, l.Period}, l)
	return nil
}

// UnlockPeriod removes the lock of exactly p, or returns ErrNotFound.
func (t *tx) UnlockPeriod(site string, p core.Period) error {
	if err := t.check(); err != nil {
		return err
	}
	k := lockKey{site, p}
	if _, ok := t.d.Locks[k]; !ok {
		return fmt.Errorf("unlocking %s %s: no such lock: %w", site, p, store.ErrNotFound)
	}
	del(t, t.d.Locks, k)
	return nil
}

// LocksOf returns a site's locks ordered by period start.
func (t *tx) LocksOf(site string) ([]store.Lock, error) {
	if err := store.CheckID("site", site); err != nil {
		return nil, err
	}
	var ls []store.Lock
	for k, l := range t.d.Locks {
		if k.Site == site {
			ls = append(ls, l)
		}
	}
	slices.SortFunc(ls, func(a, b store.Lock) int {
		return cmp.Or(a.Period.From.Compare(b.Period.From), a.Period.To.Compare(b.Period.To))
	})
	return ls, nil
}

// ---- Meta ----

// GetMeta returns a copy of the value, or ErrNotFound.
func (t *tx) GetMeta(bucket, key string) ([]byte, error) {
	v, ok := t.d.Meta[metaKey{bucket, key}]
	if !ok {
		return nil, fmt.Errorf("meta %s/%s: %w", bucket, key, store.ErrNotFound)
	}
	return append([]byte{}, v...), nil
}

// PutMeta stores a copy of value.
func (t *tx) PutMeta(bucket, key string, value []byte) error {
	if err := t.check(); err != nil {
		return err
	}
	if bucket == "" {
		return errors.New("empty meta bucket name")
	}
	if key == "" {
		return fmt.Errorf("empty key in meta bucket %s", bucket)
	}
	set(t, t.d.Meta, metaKey{bucket, key}, append([]byte{}, value...))
	return nil
}

// DeleteMeta removes bucket/key; a missing key is no error.
func (t *tx) DeleteMeta(bucket, key string) error {
	if err := t.check(); err != nil {
		return err
	}
	del(t, t.d.Meta, metaKey{bucket, key})
	return nil
}

// ScanMeta calls fn for every key of bucket in lexical order.
func (t *tx) ScanMeta(bucket string, fn func(key string, value []byte) bool) error {
	var ks []string
	for k := range t.d.Meta {
		if k.Bucket == bucket {
			ks = append(ks, k.Key)
		}
	}
	slices.Sort(ks)
	for _, k := range ks {
		if !fn(k, append([]byte{}, t.d.Meta[metaKey{bucket, k}]...)) {
			return nil
		}
	}
	return nil
}
