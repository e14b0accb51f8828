package importer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
)

// ReadingsReport says what importing one readings file did. Counts are
// interval values (one 15-minute interval of one meter channel).
type ReadingsReport struct {
	File string
	Kind ReadingsKind
	Rows int
	// Written counts new values; Unchanged values identical to stored ones;
	// Replaced stored values refined (a reading that arrived between two
	// others); Estimated intervals filled by estimation.
	Written, Unchanged, Replaced, Estimated int
	// Conflicts are values of the file that differ from stored ones: the
	// stored value was kept. In file order.
	Conflicts []ReadingsConflict
	// MeasuredKept counts intervals estimated from readings far apart where
	// a measurement is stored: the measurement stands (no conflict).
	MeasuredKept int
	// Flags are the plausibility findings raised, other than the conflicts.
	Flags []store.Flag
}

// ReadingsConflict is a value of the file that differs from the stored one.
type ReadingsConflict struct {
	Line    int // the file's line (row); 0 if unknown
	Meter   string
	Channel store.Channel
	Slot    core.Slot
	// Stored and Incoming are the interval energies (interval files); for a
	// register reading Reason says what differs.
	Stored, Incoming core.Energy
	Reason           string
}

// String formats c for a warning: "line 17: meter M1 import at
// 2026-01-01T00:00:00Z: 0.300 kWh differs from the stored 0.250 kWh (kept)".
func (c ReadingsConflict) String() string {
	s := fmt.Sprintf("meter %s %s at %s: ", c.Meter, c.Channel, c.Slot)
	if c.Reason != "" {
		s = fmt.Sprintf("meter %s at %s: ", c.Meter, c.Slot)
		s += c.Reason
	} else {
		s += fmt.Sprintf("%s kWh differs from the stored %s kWh (kept)", core.FormatKWh(c.Incoming), core.FormatKWh(c.Stored))
	}
	if c.Line > 0 {
		return fmt.Sprintf("line %d: %s", c.Line, s)
	}
	return s
}

// Summary is the one-line result printed per file: "readings.csv: 9600 rows,
// 19200 values written, 0 unchanged, 0 conflicts, 2 flags".
func (r *ReadingsReport) Summary() string {
	s := fmt.Sprintf("%s: %d rows, %d values written, %d unchanged", r.File, r.Rows, r.Written, r.Unchanged)
	if r.Replaced > 0 {
		s += fmt.Sprintf(", %d replaced", r.Replaced)
	}
	if r.Estimated > 0 {
		s += fmt.Sprintf(", %d estimated", r.Estimated)
	}
	s += fmt.Sprintf(", %d conflicts, %d flags", len(r.Conflicts), len(r.Flags))
	if r.MeasuredKept > 0 {
		s += fmt.Sprintf("; %d intervals already measured kept", r.MeasuredKept)
	}
	return s
}

// ImportReadings stores rd into site in one transaction through the
// plausibility checks (core/vee): register readings are kept and turned into
// interval energy, interval energy is stored as measured. Nothing that is
// stored is overwritten: a differing value is kept out and reported as a
// conflict, not an error. Importing the same file twice writes nothing the
// second time. Any error (a locked period, a store failure) rolls the whole
// file back.
func ImportReadings(st store.Store, site *core.Site, rd *Readings, opt vee.Options) (*ReadingsReport, error) {
	return importReadings(context.Background(), st, site, rd, opt, nil)
}

// importReadings is ImportReadings that tells fn the series (and register
// meters) stored so far and gives up, rolling the file back, once ctx is
// done: a window's import can be cancelled until it commits.
func importReadings(ctx context.Context, st store.Store, site *core.Site, rd *Readings, opt vee.Options, fn Progress) (*ReadingsReport, error) {
	var rep *ReadingsReport
	err := st.Update(func(tx store.Tx) error {
		rep = &ReadingsReport{File: rd.File, Kind: rd.Kind, Rows: rd.Rows}
		series, meters := rd.Series(), rd.RegisterMeters()
		total, done := int64(len(series)+len(meters)), int64(0)
		step := func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if fn != nil {
				fn(done, total)
			}
			done++
			return nil
		}
		for _, k := range series {
			if err := step(); err != nil {
				return err
			}
			id := store.SeriesID{Site: site.ID, Meter: k.Meter, Channel: k.Channel}
			vr, err := vee.AcceptIntervals(tx, site, id, rd.Intervals[k], store.KeepFirst, opt)
			if err != nil {
				return fmt.Errorf("storing %s of meter %s: %w", k.Channel, k.Meter, err)
			}
			rep.add(rd, vr, k.Meter, k.Channel, false)
		}
		for _, m := range meters {
			if err := step(); err != nil {
				return err
			}
			vr, err := vee.AcceptRegisters(tx, site, m, rd.Registers[m], opt)
			if err != nil {
				return fmt.Errorf("storing readings of meter %s: %w", m, err)
			}
			rep.add(rd, vr, m, store.Import, true)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if fn != nil {
			fn(total, total)
		}
		slices.SortStableFunc(rep.Conflicts, func(a, b ReadingsConflict) int { return a.Line - b.Line })
		if rep.Written == 0 && rep.Replaced == 0 && rep.Estimated == 0 {
			return nil // nothing changed: a repeated import leaves no trace
		}
		actor := opt.Actor
		if actor == "" {
			actor = "import"
		}
		return logImport(tx, optNow(opt), actor, site.ID, "readings.import", rep.Summary())
	})
	if err != nil {
		return nil, fmt.Errorf("importing %s: %w", rd.File, err)
	}
	return rep, nil
}

// add counts vr, the result of accepting meter's values: an interval series
// (interval files, channel ch) or register readings.
func (r *ReadingsReport) add(rd *Readings, vr vee.Report, meter string, ch store.Channel, registers bool) {
	r.Written += vr.Written
	r.Unchanged += vr.Unchanged
	r.Replaced += vr.Replaced
	r.Estimated += vr.Estimated
	for _, c := range vr.Conflicts {
		if c.Incoming.Quality == store.Estimated && c.Stored.Quality != store.Estimated {
			r.MeasuredKept++ // no finding (see vee.Report.Conflicts)
			continue
		}
		rc := ReadingsConflict{Meter: meter, Channel: ch, Slot: c.Slot, Stored: c.Stored.Energy, Incoming: c.Incoming.Energy}
		if registers {
			// Energy derived from the readings differs from interval data
			// stored earlier; the channel is not reported, the readings are.
			rc.Line = registerLineIn(rd, meter, c.Slot)
			rc.Reason = fmt.Sprintf("energy derived from the readings, %s kWh, differs from the stored %s kWh (kept)",
				core.FormatKWh(c.Incoming.Energy), core.FormatKWh(c.Stored.Energy))
		} else {
			rc.Line = rd.IntervalLine(meter, ch, c.Slot)
		}
		r.Conflicts = append(r.Conflicts, rc)
	}
	for _, c := range vr.RegisterConflicts {
		r.Conflicts = append(r.Conflicts, ReadingsConflict{Line: rd.RegisterLine(meter, c.Incoming.Time),
			Meter: meter, Slot: core.SlotOf(c.Incoming.Time),
			Reason: fmt.Sprintf("the reading at %s (import %s kWh, export %s kWh) differs from the stored one (import %s kWh, export %s kWh, kept)",
				c.Incoming.Time.Format(time.RFC3339Nano), core.FormatKWh(c.Incoming.Import), core.FormatKWh(c.Incoming.Export),
				core.FormatKWh(c.Stored.Import), core.FormatKWh(c.Stored.Export))})
	}
	for _, f := range vr.Flags {
		// Each conflict also has a KindDuplicate flag; it is reported
		// once, above.
		if f.Kind != vee.KindDuplicate {
			r.Flags = append(r.Flags, f)
		}
	}
}

// registerLineIn returns the first line of rd with a reading of meter inside
// slot.
func registerLineIn(rd *Readings, meter string, slot core.Slot) int {
	line := 0
	for _, reg := range rd.Registers[meter] {
		if core.SlotOf(reg.Time) == slot {
			if l := rd.RegisterLine(meter, reg.Time); line == 0 || l < line {
				line = l
			}
		}
	}
	return line
}
