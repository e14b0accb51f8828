package vee

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// AcceptRegisters stores register readings of one meter (any order), derives
// interval energy from register differences (continuing from the last stored
// reading before the first new one, a reading between two interval boundaries
// apportioned linearly over the slots it spans, exactly in integer mWh so the
// sum of derived intervals equals the register difference), runs the
// plausibility checks and stores values and flags, all in tx.
//
// Readings more than FutureTolerance ahead of opt.Clock are stored and
// flagged KindFuture but not used for energy. A reading at an instant that
// already has a different one is flagged KindDuplicate and kept out. Derived
// values that refine earlier derived ones (a reading arrived late, between
// two others) replace them and count as Replaced; a derived value that
// differs from one that came from elsewhere (interval data) is a conflict.
func AcceptRegisters(tx store.Tx, site *core.Site, meter string, rs []store.Register, opt Options) (Report, error) {
	a, err := newAcceptor(tx, site, meter, opt)
	if err != nil {
		return Report{}, err
	}
	if len(rs) == 0 {
		return Report{}, nil
	}
	uniq, dups := sortRegisters(rs)
	for _, d := range dups {
		a.flag(meter, core.SlotOf(d.Time), KindDuplicate, fmt.Sprintf(
			"two readings at %s in one delivery: %s kept, %s differs", stamp(d.Time), regString(findRegister(uniq, d.Time)), regString(d)))
	}
	for _, r := range uniq {
		if r.Time.After(a.limit) {
			a.flag(meter, core.SlotOf(r.Time), KindFuture, fmt.Sprintf(
				"reading at %s is %s ahead of the clock (%s): stored, not used for energy",
				stamp(r.Time), r.Time.Sub(a.now).Round(time.Second), stamp(a.now)))
		}
	}
	if err := a.rederive(uniq, nil); err != nil {
		return Report{}, fmt.Errorf("accepting readings of meter %s: %w", meter, err)
	}
	return a.finish()
}

// AcceptIntervals stores interval energy of one meter channel and runs the
// checks. mode Replace is for a grid operator's corrected delivery: it
// replaces and writes an audit entry. id.Site may be empty (site's id is
// used). Values of the same slot given twice with different energy keep the
// first and are flagged KindDuplicate.
func AcceptIntervals(tx store.Tx, site *core.Site, id store.SeriesID, vals []store.Value, mode store.PutMode, opt Options) (Report, error) {
	a, err := newAcceptor(tx, site, id.Meter, opt)
	if err != nil {
		return Report{}, err
	}
	if err := a.intervals(id, vals, mode); err != nil {
		return Report{}, err
	}
	return a.finish()
}

// TimedValue is interval energy as a file gives it: the interval's start
// instant, which may lie off the 15-minute grid.
type TimedValue struct {
	Start   time.Time
	Energy  core.Energy
	Quality store.Quality // zero means store.Measured
}

// AcceptIntervalsAt is AcceptIntervals for values given by their start
// instant. A start off the 15-minute grid is flagged KindOffGrid and its
// value stored in the slot that contains it (nothing is dropped).
func AcceptIntervalsAt(tx store.Tx, site *core.Site, id store.SeriesID, vals []TimedValue, mode store.PutMode, opt Options) (Report, error) {
	a, err := newAcceptor(tx, site, id.Meter, opt)
	if err != nil {
		return Report{}, err
	}
	vs := make([]store.Value, 0, len(vals))
	for _, v := range vals {
		s, on := core.SlotAt(v.Start)
		if !on {
			a.flag(id.Meter, s, KindOffGrid, fmt.Sprintf(
				"%s interval starts at %s, off the 15-minute grid: stored in the interval starting %s",
				id.Channel, stamp(v.Start), stamp(s.Time())))
		}
		q := v.Quality
		if q == store.Missing {
			q = store.Measured
		}
		vs = append(vs, store.Value{Slot: s, Energy: v.Energy, Quality: q})
	}
	if err := a.intervals(id, vs, mode); err != nil {
		return Report{}, err
	}
	return a.finish()
}

// ConfirmReplacement records a confirmed meter exchange: the old meter's
// final and the new meter's initial reading at r.Time. Derivation afterwards
// sees continuous energy: across the exchange the energy is
// (oldFinal - previous reading) + (next reading - newInitial). The intervals
// around it are derived again, the KindRegisterBackwards flag it explains is
// removed, and the confirmation is written to the audit log.
//
// It fails with a clear error when the old final reading is below the last
// reading before the exchange, or the new initial reading above the first
// reading after it.
func ConfirmReplacement(tx store.Tx, site *core.Site, meter string, r store.Replacement, opt Options) error {
	a, err := newAcceptor(tx, site, meter, opt)
	if err != nil {
		return err
	}
	if r.Time.IsZero() {
		return errors.New("replacement: expected the time of the exchange")
	}
	r.Time = r.Time.UTC()
	if r.OldFinal.Time.IsZero() {
		r.OldFinal.Time = r.Time
	}
	if r.NewInitial.Time.IsZero() {
		r.NewInitial.Time = r.Time
	}
	if prev, err := tx.RegisterBefore(site.ID, meter, r.Time); err == nil {
		if r.OldFinal.Import < prev.Import || r.OldFinal.Export < prev.Export {
			return fmt.Errorf("replacement of meter %s: the old meter's final reading (%s) is below its reading at %s (%s)",
				meter, regString(r.OldFinal), stamp(prev.Time), regString(prev))
		}
		if err := a.plausibleStep(prev, r.OldFinal, prev.Time, r.Time, "old meter's final reading"); err != nil {
			return err
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("reading meter %s: %w", meter, err)
	}
	if next, err := tx.RegisterAtOrAfter(site.ID, meter, r.Time.Add(time.Nanosecond)); err == nil {
		if next.Import < r.NewInitial.Import || next.Export < r.NewInitial.Export {
			return fmt.Errorf("replacement of meter %s: the new meter's initial reading (%s) is above its reading at %s (%s)",
				meter, regString(r.NewInitial), stamp(next.Time), regString(next))
		}
		if err := a.plausibleStep(r.NewInitial, next, r.Time, next.Time, "new meter's initial reading"); err != nil {
			return err
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("reading meter %s: %w", meter, err)
	}
	known, err := tx.Replacements(site.ID, meter)
	if err != nil {
		return fmt.Errorf("reading replacements of meter %s: %w", meter, err)
	}
	for _, k := range known {
		if k.Time.Equal(r.Time) {
			if k.OldFinal == r.OldFinal && k.NewInitial == r.NewInitial {
				return nil
			}
			return fmt.Errorf("replacement of meter %s at %s is already confirmed with old final %s and new initial %s",
				meter, stamp(r.Time), regString(k.OldFinal), regString(k.NewInitial))
		}
	}
	if err := tx.PutReplacement(site.ID, meter, r); err != nil {
		return fmt.Errorf("storing the replacement of meter %s: %w", meter, err)
	}
	detail := fmt.Sprintf("meter %s replaced at %s: old final %s, new initial %s", meter, stamp(r.Time),
		regString(r.OldFinal), regString(r.NewInitial))
	if r.Note != "" {
		detail += " (" + r.Note + ")"
	}
	if _, err := tx.AppendAudit(store.Entry{Time: a.now, Actor: opt.actor(), Site: site.ID, Action: "meter.replace", Detail: detail}); err != nil {
		return fmt.Errorf("logging the replacement: %w", err)
	}
	if err := a.rederive(nil, &r); err != nil {
		return fmt.Errorf("deriving intervals after the replacement of meter %s: %w", meter, err)
	}
	_, err = a.finish()
	return err
}

// Estimate fills the missing intervals of series id in [from, to) linearly in
// the register: the energy between two register readings is spread evenly
// over the time between them, in exact integer mWh (continuous across
// confirmed replacements). Filled values are marked store.Estimated and
// flagged KindGap; measured or edited values are never overwritten, and
// slots not enclosed by readings stay missing. It returns how many intervals
// it filled.
func Estimate(tx store.Tx, site *core.Site, id store.SeriesID, from, to core.Slot, opt Options) (int, error) {
	a, err := newAcceptor(tx, site, id.Meter, opt)
	if err != nil {
		return 0, err
	}
	id.Site = site.ID
	if from >= to {
		return 0, nil
	}
	regs, repl, err := a.load(from, to)
	if err != nil {
		return 0, err
	}
	ps := buildPoints(regs, repl, id.Channel)
	vals := deriveSlots(ps, from, to, 1<<62, 1<<62)
	var cur store.Series
	if err := tx.ReadIntervals(id, from, to, &cur); err != nil {
		return 0, fmt.Errorf("reading %s %s: %w", id.Meter, id.Channel, err)
	}
	var put []store.Value
	for _, v := range vals {
		if cur.Quality[v.slot-from] != store.Missing {
			continue
		}
		put = append(put, store.Value{Slot: v.slot, Energy: v.e, Quality: store.Estimated})
		a.flag(id.Meter, v.slot, KindGap, fmt.Sprintf("%s: no measurement, estimated linearly in the register (%s)", id.Channel, v.e))
	}
	if len(put) == 0 {
		return 0, nil
	}
	res, err := tx.PutIntervals(id, put, store.KeepFirst)
	if err != nil {
		return 0, fmt.Errorf("storing estimates of %s %s: %w", id.Meter, id.Channel, err)
	}
	detail := fmt.Sprintf("meter %s %s: %d intervals estimated between %s and %s", id.Meter, id.Channel, res.Written,
		stamp(from.Time()), stamp(to.Time()))
	if _, err := tx.AppendAudit(store.Entry{Time: a.now, Actor: opt.actor(), Site: site.ID, Action: "intervals.estimate", Detail: detail}); err != nil {
		return 0, fmt.Errorf("logging the estimation: %w", err)
	}
	for _, v := range put {
		a.touch(v.Slot)
	}
	if _, err := a.finish(); err != nil {
		return 0, err
	}
	return res.Written, nil
}

// acceptor carries one acceptance: its meter, its clock and the flags it
// collects (merged per meter, slot and kind, since the store keeps one).
type acceptor struct {
	tx    store.Tx
	site  *core.Site
	meter core.Meter
	opt   Options
	now   time.Time
	limit time.Time // later than this is the future
	loc   *time.Location
	sun   *sunCache
	rep   Report
	flags map[flagKey]int // index into rep.Flags
	days  map[core.Date]bool
	// dayFrom, dayTo are the slots of the local day touch noted last.
	dayFrom, dayTo core.Slot
	locks          *[]span // nil until read
}

type flagKey struct {
	meter string
	slot  core.Slot
	kind  string
}

func newAcceptor(tx store.Tx, site *core.Site, meter string, opt Options) (*acceptor, error) {
	if site == nil {
		return nil, errors.New("no site given")
	}
	m := site.Meter(meter)
	if m == nil {
		return nil, fmt.Errorf("meter %q is not a meter of site %s", meter, site.ID)
	}
	now := opt.now().UTC()
	return &acceptor{tx: tx, site: site, meter: *m, opt: opt, now: now, limit: now.Add(FutureTolerance),
		loc: site.Location(), sun: newSunCache(), flags: map[flagKey]int{}, days: map[core.Date]bool{}}, nil
}

// flag records a finding; a second reason for the same key is appended.
func (a *acceptor) flag(meter string, slot core.Slot, kind, reason string) {
	k := flagKey{meter, slot, kind}
	if i, ok := a.flags[k]; ok {
		f := &a.rep.Flags[i]
		if !strings.Contains(f.Reason, reason) {
			f.Reason += "; " + reason
		}
		return
	}
	a.flags[k] = len(a.rep.Flags)
	a.rep.Flags = append(a.rep.Flags, store.Flag{Site: a.site.ID, Meter: meter, Slot: slot, Kind: kind, Reason: reason})
}

// touch notes the local day of a slot whose value changed, for the day checks.
// The slots of the day last noted are recognised without a time zone lookup
// (a catch-up touches thousands of slots of a few days).
func (a *acceptor) touch(s core.Slot) {
	if s >= a.dayFrom && s < a.dayTo {
		return
	}
	d := core.DateOf(s.Time().In(a.loc))
	a.days[d] = true
	a.dayFrom, a.dayTo = core.Period{From: d, To: d}.Slots(a.loc)
	if s < a.dayFrom || s >= a.dayTo {
		a.dayFrom, a.dayTo = 0, 0 // a zone whose midnight is off the grid: no shortcut
	}
}

// finish runs the day checks and stores the flags.
func (a *acceptor) finish() (Report, error) {
	if err := a.dayChecks(); err != nil {
		return Report{}, err
	}
	if len(a.rep.Flags) > 0 {
		if err := a.tx.PutFlags(a.rep.Flags); err != nil {
			return Report{}, fmt.Errorf("storing flags: %w", err)
		}
	}
	return a.rep, nil
}

// registerBefore and registerAfter wrap the store's neighbour lookups,
// turning ErrNotFound into ok=false and ignoring readings in the future.
func (a *acceptor) registerBefore(t time.Time) (store.Register, bool, error) {
	r, err := a.tx.RegisterBefore(a.site.ID, a.meter.ID, t)
	if errors.Is(err, store.ErrNotFound) {
		return r, false, nil
	}
	return r, err == nil, err
}

func (a *acceptor) registerAtOrAfter(t time.Time) (store.Register, bool, error) {
	r, err := a.tx.RegisterAtOrAfter(a.site.ID, a.meter.ID, t)
	if errors.Is(err, store.ErrNotFound) || err == nil && r.Time.After(a.limit) {
		return r, false, nil
	}
	return r, err == nil, err
}

// load returns the stored readings (without future ones) and replacements
// needed to derive the slots [from, to): from the last reading at or before
// from's start to the first at or after to's start.
func (a *acceptor) load(from, to core.Slot) ([]store.Register, []store.Replacement, error) {
	loadFrom, loadTo := from.Time(), to.Time()
	if p, ok, err := a.registerBefore(loadFrom.Add(time.Nanosecond)); err != nil {
		return nil, nil, fmt.Errorf("reading meter %s: %w", a.meter.ID, err)
	} else if ok {
		loadFrom = p.Time
	}
	if p, ok, err := a.registerAtOrAfter(loadTo); err != nil {
		return nil, nil, fmt.Errorf("reading meter %s: %w", a.meter.ID, err)
	} else if ok {
		loadTo = p.Time
	}
	var regs []store.Register
	err := a.tx.ScanRegisters(a.site.ID, a.meter.ID, loadFrom, loadTo.Add(time.Nanosecond), func(r store.Register) bool {
		if r.Time.After(a.limit) {
			return false
		}
		regs = append(regs, r)
		return true
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reading meter %s: %w", a.meter.ID, err)
	}
	all, err := a.tx.Replacements(a.site.ID, a.meter.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("reading replacements of meter %s: %w", a.meter.ID, err)
	}
	var repl []store.Replacement
	for _, r := range all {
		if !r.Time.Before(loadFrom) && !r.Time.After(loadTo) {
			repl = append(repl, r)
		}
	}
	return regs, repl, nil
}

// rederive stores new readings (or takes a just-stored replacement) and
// derives again every slot whose energy they can change: from the slot of
// the last stored reading before them to the slot of the first one after.
func (a *acceptor) rederive(newRegs []store.Register, newRepl *store.Replacement) error {
	var lo, hi time.Time
	if newRepl != nil {
		lo, hi = newRepl.Time, newRepl.Time
	} else {
		// Readings in the future take no part in the derivation.
		n := sort.Search(len(newRegs), func(i int) bool { return newRegs[i].Time.After(a.limit) })
		if n == 0 {
			_, err := a.putRegisters(newRegs, nil)
			return err
		}
		lo, hi = newRegs[0].Time, newRegs[n-1].Time
	}
	prev, hasPrev, err := a.registerBefore(lo)
	if err != nil {
		return err
	}
	next, hasNext, err := a.registerAtOrAfter(hi.Add(time.Nanosecond))
	if err != nil {
		return err
	}
	from, to := core.SlotOf(lo), core.SlotOf(hi)+1
	if hasPrev {
		from = core.SlotOf(prev.Time)
	}
	if hasNext {
		to = core.SlotOf(next.Time) + 1
	}
	old, repl, err := a.load(from, to)
	if err != nil {
		return err
	}
	oldRepl := repl
	if newRepl != nil {
		oldRepl = nil
		for _, r := range repl {
			if !r.Time.Equal(newRepl.Time) {
				oldRepl = append(oldRepl, r)
			}
		}
	}
	cur := old
	if len(newRegs) > 0 {
		fresh, err := a.putRegisters(newRegs, old)
		if err != nil {
			return err
		}
		cur = mergeRegisters(old, fresh)
	}
	if err := a.tx.DeleteFlags(a.site.ID, a.meter.ID, KindRegisterBackwards, from, to); err != nil {
		return fmt.Errorf("clearing flags: %w", err)
	}
	if err := a.tx.DeleteFlags(a.site.ID, a.meter.ID, KindGap, from, to); err != nil {
		return fmt.Errorf("clearing flags: %w", err)
	}
	// Slots whose main channel holds a measurement (interval data that came
	// from elsewhere) are no gaps, however far apart the readings around
	// them are.
	var mainCur store.Series
	if err := a.tx.ReadIntervals(store.SeriesID{Site: a.site.ID, Meter: a.meter.ID, Channel: mainChannel(a.meter)}, from, to, &mainCur); err != nil {
		return fmt.Errorf("reading %s: %w", a.meter.ID, err)
	}
	gap := func(s core.Slot, reason string) {
		if s >= from && s < to {
			if q := mainCur.Quality[s-from]; q == store.Measured || q == store.Edited {
				return
			}
		}
		a.flag(a.meter.ID, s, KindGap, reason)
	}
	for _, ch := range []store.Channel{store.Import, store.Export} {
		oldPts := buildPoints(old, oldRepl, ch)
		newPts := buildPoints(cur, repl, ch)
		for _, j := range backwards(newPts) {
			s := core.SlotOf(newPts[j].t)
			if s < from || s >= to {
				continue
			}
			a.flag(a.meter.ID, s, KindRegisterBackwards, fmt.Sprintf(
				"%s register went backwards from %s at %s to %s at %s: meter replaced or reset? "+
					"Confirm a replacement with the old meter's final and the new meter's initial reading",
				ch, rawAt(cur, newPts[j-1].t, ch), stamp(newPts[j-1].t), rawAt(cur, newPts[j].t, ch), stamp(newPts[j].t)))
		}
		for j := 1; j < len(newPts); j++ {
			t0, t1 := newPts[j-1].t, newPts[j].t
			if t1.Sub(t0) <= MaxReadingSpan || newPts[j].v < newPts[j-1].v {
				continue
			}
			if t1.Sub(t0) > MaxEstimateSpan {
				gap(max(core.SlotOf(t0), from), fmt.Sprintf(
					"no reading between %s and %s (%s): too long to estimate automatically; intervals left missing",
					stamp(t0), stamp(t1), t1.Sub(t0)))
				continue
			}
			for s := max(core.SlotOf(t0), from); s < to && s.Time().Before(t1); s++ {
				gap(s, fmt.Sprintf("no reading between %s and %s (%s): estimated linearly in the register",
					stamp(t0), stamp(t1), t1.Sub(t0)))
			}
		}
		err := a.writeDerived(store.SeriesID{Site: a.site.ID, Meter: a.meter.ID, Channel: ch},
			deriveSlots(oldPts, from, to, MaxReadingSpan, MaxEstimateSpan),
			deriveSlots(newPts, from, to, MaxReadingSpan, MaxEstimateSpan))
		if err != nil {
			return err
		}
	}
	return nil
}

// writeDerived stores derived values: new ones, estimates superseded by
// measurements, and refinements of values this package derived before
// (stored == derived from the old readings) are written; a differing
// value from elsewhere is kept and reported as a conflict (see put for an
// estimate against a measurement); edits are left alone.
func (a *acceptor) writeDerived(id store.SeriesID, oldVals, newVals []slotValue) error {
	if len(newVals) == 0 {
		return nil
	}
	from, to := newVals[0].slot, newVals[len(newVals)-1].slot+1
	if len(oldVals) > 0 {
		from, to = min(from, oldVals[0].slot), max(to, oldVals[len(oldVals)-1].slot+1)
	}
	locked, err := a.lockedSpans()
	if err != nil {
		return err
	}
	var cur store.Series
	if err := a.tx.ReadIntervals(id, from, to, &cur); err != nil {
		return fmt.Errorf("reading %s %s: %w", id.Meter, id.Channel, err)
	}
	n := int(to - from)
	oldE := make([]core.Energy, n)
	oldQ := make([]store.Quality, n)
	for _, v := range oldVals {
		oldE[v.slot-from], oldQ[v.slot-from] = v.e, v.q
	}
	keep := make([]store.Value, 0, len(newVals))
	var repl []store.Value
	for _, v := range newVals {
		i := v.slot - from
		sq, se := cur.Quality[i], cur.Energy[i]
		val := store.Value{Slot: v.slot, Energy: v.e, Quality: v.q}
		if sq != store.Edited && !(sq == v.q && se == v.e) && !(sq == store.Measured && v.q == store.Estimated) && inSpans(locked, v.slot) {
			a.flag(id.Meter, v.slot, KindLocked, fmt.Sprintf(
				"%s %s (%s) derived from readings that arrived after the period was billed: not stored, %s (%s) kept; unlock the period to take it",
				id.Channel, v.e, v.q, se, sq))
			continue
		}
		switch {
		case sq == store.Missing:
			keep = append(keep, val)
		case sq == v.q && se == v.e:
			a.rep.Unchanged++
			continue
		case sq == store.Edited:
			continue
		case sq == store.Estimated && v.q == store.Measured:
			keep = append(keep, val)
		case sq == store.Estimated || sq == oldQ[i] && se == oldE[i]:
			repl = append(repl, val)
		default:
			keep = append(keep, val) // a value from elsewhere: the store reports the conflict
		}
	}
	if err := a.put(id, keep, store.KeepFirst); err != nil {
		return err
	}
	if err := a.put(id, repl, store.Replace); err != nil {
		return err
	}
	a.checkValues(id, newVals)
	return nil
}

// put stores values, counts them, flags conflicts and notes touched days.
func (a *acceptor) put(id store.SeriesID, vals []store.Value, mode store.PutMode) error {
	if len(vals) == 0 {
		return nil
	}
	res, err := a.tx.PutIntervals(id, vals, mode)
	if err != nil {
		return fmt.Errorf("storing %s %s: %w", id.Meter, id.Channel, err)
	}
	a.rep.add(res)
	conflicted := map[core.Slot]bool{}
	for _, c := range res.Conflicts {
		conflicted[c.Slot] = true
		if supersededEstimate(c) {
			continue
		}
		a.flag(id.Meter, c.Slot, KindDuplicate, fmt.Sprintf("%s: stored %s (%s) kept, incoming %s (%s) differs",
			id.Channel, c.Stored.Energy, c.Stored.Quality, c.Incoming.Energy, c.Incoming.Quality))
	}
	for _, v := range vals {
		if conflicted[v.Slot] {
			continue
		}
		if v.Quality == store.Estimated {
			a.rep.Estimated++
		}
		a.touch(v.Slot)
	}
	return nil
}

// supersededEstimate reports whether c is an estimate derived between
// readings far apart where a measurement (interval data) is stored: the
// measurement stands, and that is no finding. Report.Conflicts lists such
// conflicts with Incoming.Quality Estimated; they are not flagged.
func supersededEstimate(c store.Conflict) bool {
	return c.Incoming.Quality == store.Estimated && (c.Stored.Quality == store.Measured || c.Stored.Quality == store.Edited)
}

// intervals is AcceptIntervals on an acceptor.
func (a *acceptor) intervals(id store.SeriesID, vals []store.Value, mode store.PutMode) error {
	if id.Site == "" {
		id.Site = a.site.ID
	}
	if id.Site != a.site.ID {
		return fmt.Errorf("series of site %s given for site %s", id.Site, a.site.ID)
	}
	vs := append([]store.Value(nil), vals...)
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Slot < vs[j].Slot })
	uniq := vs[:0]
	for _, v := range vs {
		if v.Quality == store.Missing {
			continue
		}
		if n := len(uniq); n > 0 && uniq[n-1].Slot == v.Slot {
			if uniq[n-1] != v {
				a.flag(id.Meter, v.Slot, KindDuplicate, fmt.Sprintf("%s: two values in one delivery: %s kept, %s differs",
					id.Channel, uniq[n-1].Energy, v.Energy))
			}
			continue
		}
		uniq = append(uniq, v)
	}
	if len(uniq) == 0 {
		return nil
	}
	for _, v := range uniq {
		if v.Slot.End().After(a.limit) {
			a.flag(id.Meter, v.Slot, KindFuture, fmt.Sprintf("%s interval %s–%s ends after the clock (%s)",
				id.Channel, stamp(v.Slot.Time()), stamp(v.Slot.End()), stamp(a.now)))
		}
	}
	res, err := a.tx.PutIntervals(id, uniq, mode)
	if err != nil {
		return fmt.Errorf("storing %s %s: %w", id.Meter, id.Channel, err)
	}
	a.rep.add(res)
	for _, c := range res.Conflicts {
		a.flag(id.Meter, c.Slot, KindDuplicate, fmt.Sprintf("%s: stored %s (%s) kept, incoming %s (%s) differs",
			id.Channel, c.Stored.Energy, c.Stored.Quality, c.Incoming.Energy, c.Incoming.Quality))
	}
	first, last := uniq[0].Slot, uniq[len(uniq)-1].Slot
	if mode == store.Replace && res.Replaced > 0 {
		detail := fmt.Sprintf("meter %s %s: %d stored values replaced by a corrected delivery between %s and %s",
			id.Meter, id.Channel, res.Replaced, stamp(first.Time()), stamp(last.End()))
		if _, err := a.tx.AppendAudit(store.Entry{Time: a.now, Actor: a.opt.actor(), Site: a.site.ID, Action: "intervals.replace", Detail: detail}); err != nil {
			return fmt.Errorf("logging the replacement: %w", err)
		}
	}
	sv := make([]slotValue, 0, len(uniq))
	for _, v := range uniq {
		a.touch(v.Slot)
		if v.Quality == store.Measured || v.Quality == store.Edited {
			sv = append(sv, slotValue{v.Slot, v.Energy, store.Measured})
		}
	}
	a.checkValues(id, sv)
	// Gaps inside the delivery's span and since the last stored value
	// before it (looking back a day at most), like readings continuing from
	// the last stored one.
	var cur store.Series
	from := first - gapLookBack
	if err := a.tx.ReadIntervals(id, from, last+1, &cur); err != nil {
		return fmt.Errorf("reading %s %s: %w", id.Meter, id.Channel, err)
	}
	start := int(first - from)
	for i := start - 1; i >= 0; i-- {
		if cur.Quality[i] != store.Missing {
			start = i + 1
			break
		}
	}
	if err := a.tx.DeleteFlags(a.site.ID, id.Meter, KindGap, from+core.Slot(start), last+1); err != nil {
		return fmt.Errorf("clearing flags: %w", err)
	}
	for i := start; i < len(cur.Quality); i++ {
		s := from + core.Slot(i)
		switch cur.Quality[i] {
		case store.Missing:
			a.flag(id.Meter, s, KindGap, fmt.Sprintf("%s: no value for this interval", id.Channel))
		case store.Estimated:
			a.flag(id.Meter, s, KindGap, fmt.Sprintf("%s: no measurement, estimated", id.Channel))
		}
	}
	return nil
}

// gapLookBack is how far before an interval delivery a gap since the last
// stored value is still flagged.
const gapLookBack = core.SlotsPerUTCDay

// checkValues runs the per-interval checks on measured values.
func (a *acceptor) checkValues(id store.SeriesID, vals []slotValue) {
	maxE := core.Energy(a.meter.MaxPower()) * 250 // W over 15 min in mWh
	night := a.meter.Role == core.RoleProduction && id.Channel == store.Export
	for _, v := range vals {
		if v.q != store.Measured {
			continue
		}
		if v.e > maxE {
			a.flag(id.Meter, v.slot, KindMaxPower, fmt.Sprintf(
				"%s %s in 15 minutes is an average of %s kW, above the meter's maximum power of %s kW",
				id.Channel, v.e, core.FormatKWh(v.e*4), core.FormatKWh(maxE*4)))
		}
		if !night || v.e <= NightThreshold {
			continue
		}
		if dark, set, rise := a.sun.night(v.slot.Time(), v.slot.End()); dark {
			a.flag(id.Meter, v.slot, KindNightProduction, fmt.Sprintf(
				"production of %s at %s local, at night: the sun set at %s and rises at %s (a margin of %s on both sides)",
				v.e, v.slot.Time().In(a.loc).Format("15:04"), set.In(a.loc).Format("15:04"), rise.In(a.loc).Format("15:04"),
				NightMargin))
		}
	}
}

// dayChecks runs the checks that look at whole local days: swapped registers
// on the accepted meter and the balance of the site.
func (a *acceptor) dayChecks() error {
	days := make([]core.Date, 0, len(a.days))
	for d := range a.days {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Before(days[j]) })
	for _, d := range days {
		from, to := core.Period{From: d, To: d}.Slots(a.loc)
		ser, err := loadSeries(a.tx, a.site.ID, a.meter.ID, from, to)
		if err != nil {
			return err
		}
		a.checkSwapped(d, from, ser)
		if err := a.checkBalance(d, from, to, ser); err != nil {
			return err
		}
	}
	return nil
}

func (a *acceptor) checkSwapped(d core.Date, first core.Slot, ser [2]store.Series) {
	imp, _ := sumKnown(ser[store.Import], 0, len(ser[store.Import].Energy))
	exp, _ := sumKnown(ser[store.Export], 0, len(ser[store.Export].Energy))
	switch {
	case a.meter.Role == core.RoleProduction && imp >= SwapMinProductionImport && exp*100 <= imp:
		a.flag(a.meter.ID, first, KindSwapped, fmt.Sprintf(
			"on %s the production meter imported %s but exported only %s: are import and export swapped?", d, imp, exp))
	case a.meter.Role.Consumer() && exp >= SwapMinConsumerExport:
		a.flag(a.meter.ID, first, KindSwapped, fmt.Sprintf(
			"on %s the %s meter exported %s (imported %s): a consumer does not produce; are import and export swapped?",
			d, a.meter.Role, exp, imp))
	}
}

// checkBalance compares, for a complete day, the sub-meters with the grid
// meter and flags (or clears the flag on) the grid meter. ser is the accepted
// meter's day, already read.
func (a *acceptor) checkBalance(d core.Date, from, to core.Slot, ser [2]store.Series) error {
	grids := a.site.MetersWithRole(core.RoleGrid)
	if len(grids) == 0 {
		return nil
	}
	n := int(to - from)
	if !complete(a.meter, ser, 0, n, hasAny(ser[1-mainChannel(a.meter)])) {
		return nil
	}
	var b balance
	for _, m := range a.site.Meters {
		s := ser
		if m.ID != a.meter.ID {
			var err error
			if s, err = loadMeterSeries(a.tx, a.site, m, from, to); err != nil {
				return err
			}
			if !complete(m, s, 0, n, hasAny(s[1-mainChannel(m)])) {
				return nil
			}
		}
		b.add(m, s, 0, n)
	}
	if b.consumption <= 0 {
		return nil
	}
	tol := balanceTolerance(a.site)
	if b.within(tol) {
		return a.tx.DeleteFlags(a.site.ID, grids[0].ID, KindBalance, from, from+1)
	}
	a.flag(grids[0].ID, from, KindBalance, b.reason(d.String(), tol))
	return nil
}

func findRegister(rs []store.Register, t time.Time) store.Register {
	i := sort.Search(len(rs), func(i int) bool { return !rs[i].Time.Before(t) })
	if i < len(rs) && rs[i].Time.Equal(t) {
		return rs[i]
	}
	return store.Register{}
}

// rawAt returns the raw register value of channel ch at t, as the meter
// showed it (before continuity offsets).
func rawAt(rs []store.Register, t time.Time, ch store.Channel) core.Energy {
	return core.Energy(channelValue(findRegister(rs, t), ch))
}

func regString(r store.Register) string {
	return fmt.Sprintf("import %s, export %s", r.Import, r.Export)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// putRegisters stores readings and flags those that conflict with stored
// ones (old holds the stored readings around them, for the reason). It
// returns the readings that take part in the derivation: stored without
// conflict and not in the future.
func (a *acceptor) putRegisters(rs, old []store.Register) ([]store.Register, error) {
	conflicts, err := a.tx.PutRegisters(a.site.ID, a.meter.ID, rs)
	if err != nil {
		return nil, fmt.Errorf("storing readings: %w", err)
	}
	bad := map[time.Time]bool{}
	for _, c := range conflicts {
		bad[c.Time] = true
		stored := findRegister(old, c.Time)
		if stored.Time.IsZero() {
			if s, err := a.tx.RegisterAtOrAfter(a.site.ID, a.meter.ID, c.Time); err == nil {
				stored = s
			}
		}
		a.rep.RegisterConflicts = append(a.rep.RegisterConflicts, RegisterConflict{Stored: stored, Incoming: c})
		a.flag(a.meter.ID, core.SlotOf(c.Time), KindDuplicate, fmt.Sprintf(
			"a second reading at %s differs: %s kept, %s reported", stamp(c.Time), regString(stored), regString(c)))
	}
	fresh := make([]store.Register, 0, len(rs))
	for _, r := range rs {
		if (len(bad) == 0 || !bad[r.Time]) && !r.Time.After(a.limit) {
			fresh = append(fresh, r)
		}
	}
	return fresh, nil
}

// span is a half-open range of slots.
type span struct{ from, to core.Slot }

// lockedSpans returns the site's locked (billed) periods as slot ranges,
// read once per acceptance.
func (a *acceptor) lockedSpans() ([]span, error) {
	if a.locks != nil {
		return *a.locks, nil
	}
	ls, err := a.tx.LocksOf(a.site.ID)
	if err != nil {
		return nil, fmt.Errorf("reading locks: %w", err)
	}
	spans := make([]span, 0, len(ls))
	for _, l := range ls {
		f, t := l.Period.Slots(a.loc)
		spans = append(spans, span{f, t})
	}
	a.locks = &spans
	return spans, nil
}

func inSpans(ss []span, s core.Slot) bool {
	for _, x := range ss {
		if s >= x.from && s < x.to {
			return true
		}
	}
	return false
}

// replacementSlack allows for readings of an exchange written down by hand,
// rounded to the kWh.
const replacementSlack = core.KWh

// plausibleStep checks that the energy from register a at t0 to register b
// at t1 (a meter exchange's reading and its stored neighbour) is no more than
// the meter's maximum power allows: a wrong time or a mistyped reading would
// otherwise put a huge amount of energy into a few intervals.
func (a *acceptor) plausibleStep(x, y store.Register, t0, t1 time.Time, what string) error {
	limit := core.Energy(float64(a.meter.MaxPower())*t1.Sub(t0).Hours()*1000) + replacementSlack
	for _, ch := range []store.Channel{store.Import, store.Export} {
		if d := core.Energy(channelValue(y, ch) - channelValue(x, ch)); d > limit {
			return fmt.Errorf("replacement of meter %s: the %s implies %s %s between %s and %s, more than the meter's "+
				"maximum power of %s kW allows; are the time of the exchange and the readings right?",
				a.meter.ID, what, ch, d, stamp(t0), stamp(t1), core.FormatKWh(core.Energy(a.meter.MaxPower()*1000)))
		}
	}
	return nil
}
