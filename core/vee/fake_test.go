package vee

import (
	"sort"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// fakeTx is a small in-memory store.Tx following the contract of
// core/store/store.go, for the package's own tests.
type fakeTx struct {
	sites    map[string]*core.Site
	vals     map[store.SeriesID]map[core.Slot]store.Value
	regs     map[[2]string][]store.Register
	repl     map[[2]string][]store.Replacement
	flags    map[flagKeyS]store.Flag
	audit    []store.Entry
	locks    []store.Lock
	meta     map[[2]string][]byte
	records  map[string][]store.Record
	cursors  map[string]uint64
	readOnly bool
}

type flagKeyS struct {
	site, meter string
	slot        core.Slot
	kind        string
}

func newFake() *fakeTx {
	return &fakeTx{sites: map[string]*core.Site{}, vals: map[store.SeriesID]map[core.Slot]store.Value{},
		regs: map[[2]string][]store.Register{}, repl: map[[2]string][]store.Replacement{},
		flags: map[flagKeyS]store.Flag{}, meta: map[[2]string][]byte{}, records: map[string][]store.Record{},
		cursors: map[string]uint64{}}
}

var _ store.Tx = (*fakeTx)(nil)

func (f *fakeTx) PutSite(s *core.Site) error { c := *s; f.sites[s.ID] = &c; return nil }
func (f *fakeTx) Site(id string) (*core.Site, error) {
	s, ok := f.sites[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	c := *s
	return &c, nil
}
func (f *fakeTx) SiteIDs() ([]string, error) {
	var ids []string
	for id := range f.sites {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

func (f *fakeTx) locked(site string, s core.Slot) bool {
	st := f.sites[site]
	if st == nil {
		return false
	}
	for _, l := range f.locks {
		if l.Site != site {
			continue
		}
		a, b := l.Period.Slots(st.Location())
		if s >= a && s < b {
			return true
		}
	}
	return false
}

func (f *fakeTx) PutIntervals(id store.SeriesID, vals []store.Value, mode store.PutMode) (store.PutResult, error) {
	var res store.PutResult
	m := f.vals[id]
	if m == nil {
		m = map[core.Slot]store.Value{}
	}
	type w struct{ v store.Value }
	var writes []store.Value
	for _, v := range vals {
		if v.Quality == store.Missing {
			continue
		}
		old, ok := m[v.Slot]
		switch {
		case !ok:
			res.Written++
		case old == v:
			res.Unchanged++
			continue
		case old.Quality == store.Estimated && v.Quality != store.Estimated:
			res.Written++
		case mode == store.Replace:
			res.Replaced++
		default:
			res.Conflicts = append(res.Conflicts, store.Conflict{Slot: v.Slot, Stored: old, Incoming: v})
			continue
		}
		if f.locked(id.Site, v.Slot) {
			return store.PutResult{}, store.ErrLocked
		}
		writes = append(writes, v)
	}
	for _, v := range writes {
		m[v.Slot] = v
	}
	f.vals[id] = m
	return res, nil
}

func (f *fakeTx) ReadIntervals(id store.SeriesID, from, to core.Slot, dst *store.Series) error {
	n := int(to - from)
	dst.From = from
	dst.Energy = append(dst.Energy[:0], make([]core.Energy, n)...)
	dst.Quality = append(dst.Quality[:0], make([]store.Quality, n)...)
	for s, v := range f.vals[id] {
		if s >= from && s < to {
			dst.Energy[s-from], dst.Quality[s-from] = v.Energy, v.Quality
		}
	}
	return nil
}

func (f *fakeTx) SeriesIDs(site string) ([]store.SeriesID, error) {
	var ids []store.SeriesID
	for id := range f.vals {
		if id.Site == site {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (f *fakeTx) PutRegisters(site, meter string, rs []store.Register) ([]store.Register, error) {
	k := [2]string{site, meter}
	var conflicts []store.Register
	for _, r := range rs {
		r.Time = r.Time.UTC()
		cur := f.regs[k]
		i := sort.Search(len(cur), func(i int) bool { return !cur[i].Time.Before(r.Time) })
		if i < len(cur) && cur[i].Time.Equal(r.Time) {
			if cur[i] != r {
				conflicts = append(conflicts, r)
			}
			continue
		}
		cur = append(cur, store.Register{})
		copy(cur[i+1:], cur[i:])
		cur[i] = r
		f.regs[k] = cur
	}
	return conflicts, nil
}

func (f *fakeTx) ScanRegisters(site, meter string, from, to time.Time, fn func(store.Register) bool) error {
	for _, r := range f.regs[[2]string{site, meter}] {
		if !r.Time.Before(from) && r.Time.Before(to) && !fn(r) {
			break
		}
	}
	return nil
}

func (f *fakeTx) RegisterBefore(site, meter string, t time.Time) (store.Register, error) {
	cur := f.regs[[2]string{site, meter}]
	i := sort.Search(len(cur), func(i int) bool { return !cur[i].Time.Before(t) })
	if i == 0 {
		return store.Register{}, store.ErrNotFound
	}
	return cur[i-1], nil
}

func (f *fakeTx) RegisterAtOrAfter(site, meter string, t time.Time) (store.Register, error) {
	cur := f.regs[[2]string{site, meter}]
	i := sort.Search(len(cur), func(i int) bool { return !cur[i].Time.Before(t) })
	if i == len(cur) {
		return store.Register{}, store.ErrNotFound
	}
	return cur[i], nil
}

func (f *fakeTx) PutReplacement(site, meter string, r store.Replacement) error {
	k := [2]string{site, meter}
	f.repl[k] = append(f.repl[k], r)
	sort.Slice(f.repl[k], func(i, j int) bool { return f.repl[k][i].Time.Before(f.repl[k][j].Time) })
	return nil
}

func (f *fakeTx) Replacements(site, meter string) ([]store.Replacement, error) {
	return append([]store.Replacement(nil), f.repl[[2]string{site, meter}]...), nil
}

func (f *fakeTx) PutRecords(recs []store.Record) (int, error) {
	for _, r := range recs {
		f.records[r.Source] = append(f.records[r.Source], r)
	}
	return len(recs), nil
}
func (f *fakeTx) ScanRecords(source string, after uint64, fn func(store.Record) bool) error {
	for _, r := range f.records[source] {
		if r.Seq > after && !fn(r) {
			break
		}
	}
	return nil
}
func (f *fakeTx) Cursor(source string) (uint64, error)      { return f.cursors[source], nil }
func (f *fakeTx) SetCursor(source string, seq uint64) error { f.cursors[source] = seq; return nil }

func (f *fakeTx) PutFlags(fs []store.Flag) error {
	for _, fl := range fs {
		f.flags[flagKeyS{fl.Site, fl.Meter, fl.Slot, fl.Kind}] = fl
	}
	return nil
}

func (f *fakeTx) ScanFlags(site string, from, to core.Slot, fn func(store.Flag) bool) error {
	var fs []store.Flag
	for _, fl := range f.flags {
		if fl.Site == site && fl.Slot >= from && fl.Slot < to {
			fs = append(fs, fl)
		}
	}
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].Meter != fs[j].Meter {
			return fs[i].Meter < fs[j].Meter
		}
		if fs[i].Slot != fs[j].Slot {
			return fs[i].Slot < fs[j].Slot
		}
		return fs[i].Kind < fs[j].Kind
	})
	for _, fl := range fs {
		if !fn(fl) {
			break
		}
	}
	return nil
}

func (f *fakeTx) DeleteFlags(site, meter, kind string, from, to core.Slot) error {
	for k := range f.flags {
		if k.site == site && k.meter == meter && k.kind == kind && k.slot >= from && k.slot < to {
			delete(f.flags, k)
		}
	}
	return nil
}

func (f *fakeTx) AppendAudit(e store.Entry) (uint64, error) {
	e.Seq = uint64(len(f.audit) + 1)
	f.audit = append(f.audit, e)
	return e.Seq, nil
}
func (f *fakeTx) ScanAudit(after uint64, fn func(store.Entry) bool) error {
	for _, e := range f.audit {
		if e.Seq > after && !fn(e) {
			break
		}
	}
	return nil
}

func (f *fakeTx) LockPeriod(l store.Lock) error { f.locks = append(f.locks, l); return nil }
func (f *fakeTx) UnlockPeriod(site string, p core.Period) error {
	for i, l := range f.locks {
		if l.Site == site && l.Period == p {
			f.locks = append(f.locks[:i], f.locks[i+1:]...)
			return nil
		}
	}
	return store.ErrNotFound
}
func (f *fakeTx) LocksOf(site string) ([]store.Lock, error) {
	var ls []store.Lock
	for _, l := range f.locks {
		if l.Site == site {
			ls = append(ls, l)
		}
	}
	return ls, nil
}

func (f *fakeTx) GetMeta(bucket, key string) ([]byte, error) {
	v, ok := f.meta[[2]string{bucket, key}]
	if !ok {
		return nil, store.ErrNotFound
	}
	return v, nil
}
func (f *fakeTx) PutMeta(bucket, key string, value []byte) error {
	f.meta[[2]string{bucket, key}] = value
	return nil
}
func (f *fakeTx) DeleteMeta(bucket, key string) error {
	delete(f.meta, [2]string{bucket, key})
	return nil
}
func (f *fakeTx) ScanMeta(bucket string, fn func(string, []byte) bool) error {
	var ks []string
	for k := range f.meta {
		if k[0] == bucket {
			ks = append(ks, k[1])
		}
	}
	sort.Strings(ks)
	for _, k := range ks {
		if !fn(k, f.meta[[2]string{bucket, k}]) {
			break
		}
	}
	return nil
}
