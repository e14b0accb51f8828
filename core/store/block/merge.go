package block

import (
	"fmt"
	"math"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// Span is a locked (billed) slot range [From, To) with its period, for
// messages.
type Span struct {
	From, To core.Slot
	Period   core.Period
}

// Spans gives the slot ranges of a site's locks in its time zone loc.
func Spans(ls []store.Lock, loc *time.Location) []Span {
	spans := make([]Span, 0, len(ls))
	for _, l := range ls {
		from, to := l.Period.Slots(loc)
		spans = append(spans, Span{from, to, l.Period})
	}
	return spans
}

// Merge applies vals (all in the UTC day that starts at slot base) to the
// stored day b following mode, the rule of store.Intervals.PutIntervals that
// every store shares: identical values count as unchanged, an empty or
// estimated slot takes any value, a differing measured value is replaced
// (mode Replace) or reported as a conflict, and a value that would change a
// slot inside a locked span fails the whole call with ErrLocked. It counts
// into res and reports whether b changed.
func Merge(b *Day, base core.Slot, vals []store.Value, mode store.PutMode, locks []Span, id store.SeriesID,
	res *store.PutResult) (changed bool, err error) {
	for _, v := range vals {
		if v.Quality == store.Missing {
			continue
		}
		k := v.Slot - base
		sq, se := b.Q[k], b.E[k]
		switch {
		case sq == v.Quality && se == v.Energy:
			res.Unchanged++
			continue
		case sq == store.Missing || sq == store.Estimated:
			res.Written++
		case mode == store.Replace:
			res.Replaced++
		default:
			res.Conflicts = append(res.Conflicts, store.Conflict{
				Slot:     v.Slot,
				Stored:   store.Value{Slot: v.Slot, Energy: se, Quality: sq},
				Incoming: v,
			})
			continue
		}
		for _, l := range locks {
			if v.Slot >= l.From && v.Slot < l.To {
				return false, fmt.Errorf("writing intervals of %s/%s at %s: site %s, period %s: %w",
					id.Site, id.Meter, v.Slot, id.Site, l.Period, store.ErrLocked)
			}
		}
		b.Q[k], b.E[k] = v.Quality, v.Energy
		changed = true
	}
	return changed, nil
}

// CheckSlot refuses a slot whose day does not fit the 32-bit day number
// that both stores key day blocks by.
func CheckSlot(s core.Slot) error {
	if d := DayOf(s); d < math.MinInt32 || d > math.MaxInt32 {
		return fmt.Errorf("slot %d out of range", int64(s))
	}
	return nil
}

// StartRead checks the arguments of store.Intervals.ReadIntervals and sets
// dst to [from, to) with every value zero (missing), reusing its storage;
// it returns the number of slots. The store then fills in the days it has.
func StartRead(id store.SeriesID, from, to core.Slot, dst *store.Series) (int, error) {
	if err := id.Check(); err != nil {
		return 0, err
	}
	if to < from {
		return 0, fmt.Errorf("reading intervals of %s/%s: range end %s before start %s", id.Site, id.Meter, to, from)
	}
	if err := CheckSlot(from); err != nil {
		return 0, err
	}
	if err := CheckSlot(to); err != nil {
		return 0, err
	}
	n := int(to - from)
	dst.From = from
	dst.Energy = resize(dst.Energy, n)
	dst.Quality = resize(dst.Quality, n)
	clear(dst.Energy)
	clear(dst.Quality)
	return n, nil
}

func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
