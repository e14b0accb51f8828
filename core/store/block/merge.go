package block

import (
	"fmt"
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
