// Package vee validates, estimates and edits meter data (VEE): it turns
// register readings into 15-minute interval energy, stores interval data,
// checks both for plausibility and reports data quality per site and period.
//
// Nothing is silently dropped or changed. Readings and values are stored as
// they came; a finding is a store.Flag on the meter and interval concerned,
// with a Kind (one of the Kind constants) and a Reason that names the numbers.
// The first of two differing values is kept and the conflict reported, except
// in store.Replace mode (a grid operator's corrected delivery), which replaces
// and writes an audit entry.
//
// Interval energy from registers is exact: between two readings the register
// is interpolated linearly, rounded down to the mWh at each slot boundary, so
// the derived intervals between two readings add up to exactly their
// difference. A slot is Measured when every pair of readings that covers it is
// at most MaxReadingSpan apart; slots inside longer spans (a gateway that was
// offline) are filled the same way but marked Estimated and flagged KindGap,
// up to spans of MaxEstimateSpan. A register that goes backwards yields no
// energy until the office confirms the meter exchange (ConfirmReplacement).
//
// Quality reports, per site and period, what is measured, estimated, missing
// and flagged, and the balance of the sub-meters against the grid meter.
//
// Every function works inside the caller's transaction, so an import or a
// gateway batch is stored, derived and checked as a whole or not at all.
package vee

import (
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// Flag kinds: the Kind of a store.Flag written by this package.
const (
	// KindRegisterBackwards marks the reading at which a register went
	// backwards: the meter was replaced or reset. No energy is derived across
	// it until the office confirms a replacement (ConfirmReplacement) with
	// the old meter's final and the new meter's initial reading.
	KindRegisterBackwards = "register-backwards"
	// KindMaxPower marks an interval whose energy exceeds what the meter's
	// maximum power (core.Meter.MaxPower) can deliver in 15 minutes.
	KindMaxPower = "max-power"
	// KindFuture marks a reading or interval whose time lies in the future
	// (later than the clock plus FutureTolerance): a gateway or meter clock
	// that is wrong.
	KindFuture = "future"
	// KindOffGrid marks interval data whose start is not on the 15-minute
	// grid; the value is stored in the slot that contains its start.
	// Register readings may be taken at any instant and are never flagged so.
	KindOffGrid = "off-grid"
	// KindDuplicate marks a reading or interval that arrived a second time
	// with a different value: the first is kept, the other is reported.
	KindDuplicate = "duplicate"
	// KindNightProduction marks a production meter exporting more than
	// NightThreshold in an interval that lies more than NightMargin after
	// sunset or before sunrise.
	KindNightProduction = "night-production"
	// KindSwapped marks a day on which a meter's import and export look
	// swapped: a production meter whose import grows while its export stays
	// flat, or a consumer meter that exports.
	KindSwapped = "registers-swapped"
	// KindBalance marks a day, on the grid meter, on which the sub-meters
	// and the grid meter disagree by more than the site's balance tolerance
	// (core.Settings.BalanceTolerance, default DefaultBalanceTolerance).
	KindBalance = "balance"
	// KindGap marks an interval without a measurement: missing inside
	// interval data, or estimated because the readings around it are further
	// apart than MaxReadingSpan.
	KindGap = "gap"
	// KindLocked marks an interval of a billed (locked) period for which
	// readings that arrived later give a different value: the billed value
	// is kept and the new one named in the reason, until the office unlocks
	// the period and the readings are accepted again.
	KindLocked = "locked"
)

// Kinds lists every flag kind, in the order reports show them.
var Kinds = []string{KindRegisterBackwards, KindMaxPower, KindFuture, KindOffGrid, KindDuplicate,
	KindNightProduction, KindSwapped, KindBalance, KindGap, KindLocked}

// Thresholds of the checks.
const (
	// MaxReadingSpan is the longest time between two register readings whose
	// interpolation still counts as measured: one 15-minute cadence with room
	// for a late reading. Intervals inside longer spans are estimated.
	MaxReadingSpan = 20 * time.Minute
	// MaxEstimateSpan is the longest time between two register readings
	// that AcceptRegisters fills by estimation (a quarter, so that readings
	// taken by hand once a month are spread over their intervals). Longer
	// spans (a meter unread for a year, a gateway whose clock fell back to
	// 1970) stay missing, with one KindGap flag; Estimate fills them on
	// request.
	MaxEstimateSpan = 92 * 24 * time.Hour
	// FutureTolerance is how far ahead of the clock a timestamp may lie
	// before it is flagged, for clocks that differ by a few seconds.
	FutureTolerance = time.Minute
	// NightMargin is how long after sunset and before sunrise production is
	// still plausible (twilight, the sun-position formula's error).
	NightMargin = 30 * time.Minute
	// NightThreshold is the most a production meter may export in one night
	// interval without a flag (20 W average over 15 minutes).
	NightThreshold = 5 * core.Wh
	// SwapMinProductionImport is the daily import above which a production
	// meter with (almost) no export looks swapped; an inverter's standby use
	// stays below it.
	SwapMinProductionImport = 2 * core.KWh
	// SwapMinConsumerExport is the daily export above which a consumer meter
	// looks swapped: units, common electricity, heat pumps and chargers do
	// not produce.
	SwapMinConsumerExport = 1 * core.KWh
	// DefaultBalanceTolerance is the balance tolerance where the site sets
	// none: 2 %.
	DefaultBalanceTolerance core.BasisPoints = 200
)

// DefaultLatitude and DefaultLongitude place a site for the sunrise and sunset
// of the night-production check: the middle of Switzerland. Within the
// country sunrise differs by less than a quarter of an hour, well inside
// NightMargin.
const (
	DefaultLatitude  = 46.8
	DefaultLongitude = 8.2
)

// Options configure acceptance.
type Options struct {
	// Clock tells "now" for the future-timestamp check; nil means the system
	// clock.
	Clock core.Clock
	// Actor is who brings the data, for the audit log: "import",
	// "gateway:ID", a user name.
	Actor string
}

func (o Options) now() time.Time {
	if o.Clock == nil {
		return time.Now()
	}
	return o.Clock.Now()
}

func (o Options) actor() string {
	if o.Actor == "" {
		return "vee"
	}
	return o.Actor
}

// Report says what an acceptance did. Counts are interval values (one slot of
// one channel).
type Report struct {
	// Written counts new interval values, and estimates replaced by
	// measurements.
	Written int
	// Unchanged counts values identical to what was stored.
	Unchanged int
	// Replaced counts stored values overwritten: by a Replace delivery, or a
	// derived value refined by a reading that arrived later.
	Replaced int
	// Conflicts are incoming interval values that differ from stored ones;
	// the stored value was kept (each also has a KindDuplicate flag). An
	// estimate derived between readings far apart where a measurement is
	// stored is listed too (Incoming.Quality Estimated, Stored.Quality
	// Measured or Edited) but is no finding: it has no flag, and callers
	// report it as a measurement kept rather than as a conflict.
	Conflicts []store.Conflict
	// RegisterConflicts are incoming register readings that differ from the
	// one stored at the same instant; the stored reading was kept (each
	// also has a KindDuplicate flag).
	RegisterConflicts []RegisterConflict
	// Flags are the plausibility findings of this acceptance (also stored).
	Flags []store.Flag
	// Estimated counts intervals filled by estimation.
	Estimated int
}

// RegisterConflict is a register reading that differs from the one already
// stored at its instant.
type RegisterConflict struct {
	Stored, Incoming store.Register
}

func (r *Report) add(p store.PutResult) {
	r.Written += p.Written
	r.Unchanged += p.Unchanged
	r.Replaced += p.Replaced
	r.Conflicts = append(r.Conflicts, p.Conflicts...)
}

// balanceTolerance returns the site's tolerance in basis points.
func balanceTolerance(site *core.Site) core.BasisPoints {
	if site.Settings.BalanceTolerance > 0 {
		return site.Settings.BalanceTolerance
	}
	return DefaultBalanceTolerance
}
