package vee

import (
	"math/bits"
	"slices"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// point is one channel's register value at an instant, made continuous across
// confirmed replacements (later readings carry the sum of oldFinal-newInitial
// of the exchanges before them). Only differences of v matter.
type point struct {
	t time.Time
	v int64
}

// slotValue is a derived interval value.
type slotValue struct {
	slot core.Slot
	e    core.Energy
	q    store.Quality
}

func channelValue(r store.Register, ch store.Channel) int64 {
	if ch == store.Export {
		return int64(r.Export)
	}
	return int64(r.Import)
}

// buildPoints turns readings (sorted by time) and replacements (sorted) into
// continuous points of channel ch. A replacement adds a point at its time with
// the old meter's final value; a stored reading at exactly that instant is
// left out, since the confirmed exchange says what the registers were then.
func buildPoints(regs []store.Register, repl []store.Replacement, ch store.Channel) []point {
	ps := make([]point, 0, len(regs)+len(repl))
	var off int64
	k := 0
	emit := func(p point) {
		if n := len(ps); n > 0 && !ps[n-1].t.Before(p.t) {
			return // one point per instant, the first wins
		}
		ps = append(ps, p)
	}
	for _, r := range regs {
		for k < len(repl) && !repl[k].Time.After(r.Time) {
			x := repl[k]
			emit(point{x.Time, channelValue(x.OldFinal, ch) + off})
			off += channelValue(x.OldFinal, ch) - channelValue(x.NewInitial, ch)
			k++
		}
		emit(point{r.Time, channelValue(r, ch) + off})
	}
	for ; k < len(repl); k++ {
		emit(point{repl[k].Time, channelValue(repl[k].OldFinal, ch) + off})
		off += channelValue(repl[k].OldFinal, ch) - channelValue(repl[k].NewInitial, ch)
	}
	return ps
}

// interp returns the register value at t, a.t <= t <= b.t, interpolated
// linearly between a and b (b.v >= a.v) and rounded down to the mWh. Rounding
// at the boundary and not per interval is what keeps the sum exact: the
// intervals between a and b telescope to b.v - a.v.
func interp(a, b point, t time.Time) int64 {
	if !t.After(a.t) {
		return a.v
	}
	if !t.Before(b.t) {
		return b.v
	}
	d := uint64(b.v - a.v)
	hi, lo := bits.Mul64(d, uint64(t.Sub(a.t)))
	q, _ := bits.Div64(hi, lo, uint64(b.t.Sub(a.t))) // q <= d: no overflow
	return a.v + int64(q)
}

// deriveSlots returns the energy of every slot in [from, to) that the points
// cover completely without a backwards step, in slot order. A slot is Measured
// when every pair of points spanning part of it lies at most maxSpan apart,
// Estimated otherwise; a slot touched by a pair more than maxEstimate apart
// is left out.
func deriveSlots(ps []point, from, to core.Slot, maxSpan, maxEstimate time.Duration) []slotValue {
	if len(ps) < 2 || from >= to {
		return nil
	}
	// Skip slots that start before the first point.
	if first := core.SlotOf(ps[0].t); first > from {
		from = first
		if !ps[0].t.Equal(from.Time()) {
			from++
		}
	}
	out := make([]slotValue, 0, max(0, int(to-from)))
	i := 0 // the last point at or before the slot's start
	for s := from; s < to; s++ {
		start, end := s.Time(), s.End()
		for i+1 < len(ps) && !ps[i+1].t.After(start) {
			i++
		}
		if ps[i].t.After(start) {
			continue
		}
		if i+1 < len(ps) && ps[i+1].t.Sub(ps[i].t) > maxEstimate {
			// Skip the slots of a pair too far apart in one step: readings
			// years apart (a gateway clock reset) must not cost a loop.
			s = max(s, core.SlotOf(ps[i+1].t)-1)
			continue
		}
		j := i + 1 // the first point at or after the slot's end
		ok, q := true, store.Measured
		for ; j < len(ps); j++ {
			span := ps[j].t.Sub(ps[j-1].t)
			if ps[j].v < ps[j-1].v || span > maxEstimate {
				ok = false
			}
			if span > maxSpan {
				q = store.Estimated
			}
			if !ps[j].t.Before(end) {
				break
			}
		}
		if j == len(ps) {
			break // no point after this slot yet
		}
		if !ok {
			continue
		}
		var e0 int64
		if ps[i].t.Equal(start) {
			e0 = ps[i].v
		} else {
			e0 = interp(ps[i], ps[i+1], start)
		}
		e1 := interp(ps[j-1], ps[j], end)
		out = append(out, slotValue{s, core.Energy(e1 - e0), q})
	}
	return out
}

// backwards returns the indexes j of points lower than their predecessor.
func backwards(ps []point) []int {
	var js []int
	for j := 1; j < len(ps); j++ {
		if ps[j].v < ps[j-1].v {
			js = append(js, j)
		}
	}
	return js
}

// sortRegisters sorts readings by time and splits off readings at an instant
// that already occurred in rs: identical ones are dropped, differing ones
// returned as duplicates (the first is kept).
func sortRegisters(rs []store.Register) (uniq, dups []store.Register) {
	sorted := true
	for i := 1; i < len(rs); i++ {
		if rs[i].Time.Before(rs[i-1].Time) {
			sorted = false
			break
		}
	}
	if !sorted {
		rs = slices.Clone(rs)
		slices.SortStableFunc(rs, func(a, b store.Register) int { return a.Time.Compare(b.Time) })
	}
	uniq = make([]store.Register, 0, len(rs))
	for _, r := range rs {
		r.Time = r.Time.UTC()
		if n := len(uniq); n > 0 && uniq[n-1].Time.Equal(r.Time) {
			if uniq[n-1] != r {
				dups = append(dups, r)
			}
			continue
		}
		uniq = append(uniq, r)
	}
	return uniq, dups
}

// mergeRegisters merges two time-sorted lists; at equal times a wins.
func mergeRegisters(a, b []store.Register) []store.Register {
	out := make([]store.Register, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].Time.Before(b[j].Time):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].Time.Before(a[i].Time):
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}
