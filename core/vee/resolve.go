package vee

import (
	"errors"
	"fmt"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// ErrNeedsReplacement is returned by AcceptFlags for a register that went
// backwards: no energy is derived across it until the exchange is confirmed
// with its readings (ConfirmReplacement), so accepting it would hide a hole.
var ErrNeedsReplacement = errors.New("a register that went backwards is resolved by confirming the meter exchange, not by accepting it")

// AcceptFlags records that the office looked at the flags of kind on meter
// in the slots [from, to) and accepts the values as stored: the flags are
// removed and the acceptance, with note, is written to the audit log. The
// values themselves stay as they are. It returns how many flags it removed
// (none is not an error: the flags may have been resolved meanwhile).
func AcceptFlags(tx store.Tx, site *core.Site, meter, kind string, from, to core.Slot, note string, opt Options) (int, error) {
	if kind == KindRegisterBackwards {
		return 0, ErrNeedsReplacement
	}
	if site.Meter(meter) == nil {
		return 0, fmt.Errorf("accepting flags: site %s has no meter %q", site.ID, meter)
	}
	n := 0
	err := tx.ScanFlags(site.ID, from, to, func(f store.Flag) bool {
		if f.Meter == meter && f.Kind == kind {
			n++
		}
		return true
	})
	if err != nil {
		return 0, fmt.Errorf("reading flags of meter %s: %w", meter, err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := tx.DeleteFlags(site.ID, meter, kind, from, to); err != nil {
		return 0, fmt.Errorf("removing %s flags of meter %s: %w", kind, meter, err)
	}
	detail := fmt.Sprintf("meter %s: %d %s flags from %s to %s accepted", meter, n, kind, stamp(from.Time()), stamp(to.Time()))
	if note != "" {
		detail += " (" + note + ")"
	}
	if _, err := tx.AppendAudit(store.Entry{Time: optNow(opt), Actor: opt.actor(), Site: site.ID, Action: "flag.accept", Detail: detail}); err != nil {
		return 0, fmt.Errorf("logging the acceptance: %w", err)
	}
	return n, nil
}

// KeepExport completes a replacement whose export readings were not given:
// the export register is taken as unchanged across the exchange, the old
// final export being the last export reading before it and the new initial
// the first one after it (0 where there is none), which is right for a
// consumer meter.
func KeepExport(tx store.Tx, site, meter string, r *store.Replacement) error {
	if prev, err := tx.RegisterBefore(site, meter, r.Time); err == nil {
		r.OldFinal.Export = prev.Export
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("reading meter %s: %w", meter, err)
	}
	if next, err := tx.RegisterAtOrAfter(site, meter, r.Time.Add(time.Nanosecond)); err == nil {
		r.NewInitial.Export = next.Export
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("reading meter %s: %w", meter, err)
	}
	return nil
}

func optNow(opt Options) time.Time {
	if opt.Clock == nil {
		return time.Now().UTC()
	}
	return opt.Clock.Now().UTC()
}
