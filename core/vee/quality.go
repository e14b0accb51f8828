package vee

import (
	"fmt"
	"math"
	"slices"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// MeterQuality is the data quality of one meter over a period. Interval
// counts are slots: a slot is as good as the worst of the meter's channels
// that carry data (the main channel always counts: export for production
// meters, import for the others).
type MeterQuality struct {
	Meter string
	Role  core.Role
	// Measured, Estimated, Edited and Missing count the period's slots by
	// quality; they add up to QualityReport.Slots.
	Measured, Estimated, Edited, Missing int
	// Flagged counts slots with at least one flag other than KindGap (gaps
	// are what Estimated and Missing count).
	Flagged int
	// Flags are the meter's flags in the period, by slot.
	Flags []store.Flag
	// Import and Export are the energy stored for the period, whatever its
	// quality.
	Import, Export core.Energy
	// EstimatedEnergy is the part of the main channel's energy that is
	// estimated; invoices show it.
	EstimatedEnergy core.Energy
	// MissingEnergyEstimate is a rough guess of the main channel's energy in
	// missing slots: the average of the slots that have a value times the
	// number of missing ones, rounded to the Wh.
	MissingEnergyEstimate core.Energy
}

// DayBalance is the balance of one local day.
type DayBalance struct {
	Date core.Date
	// Slots is the number of slots of the day (92, 96 or 100).
	Slots int
	// Complete says whether every meter has a value in every slot; the
	// balance is meaningful only then.
	Complete bool
	// GridKWh, SubMetersKWh, ConsumptionKWh and BalancePercent are as in
	// QualityReport, for the day.
	GridKWh, SubMetersKWh, ConsumptionKWh core.Energy
	BalancePercent                        float64
	// Exceeds says the day is complete and beyond the tolerance.
	Exceeds bool
}

// QualityReport is the data-quality view of a site and period: what is
// measured, estimated, missing and flagged per meter, and how the sub-meters
// compare to the grid meter.
//
// The balance compares net energy at the connection point. The grid meter
// gives GridKWh = import - export. The sub-meters give SubMetersKWh = the
// consumers' import (less any export) less the production meters' net
// export. BalancePercent is 100 × (SubMetersKWh - GridKWh) / ConsumptionKWh:
// negative when the sub-meters see less than the grid meter (unmetered
// consumption), positive when they see more. Only slots in which every meter
// has a value count, so that a gap does not look like an imbalance.
type QualityReport struct {
	Site   string
	Period core.Period
	// Slots is the number of 15-minute intervals in the period (local days
	// of 92, 96 or 100).
	Slots  int
	Meters []MeterQuality
	// HasBalance says the site has a grid meter and its consumers used
	// energy in complete slots, so the balance figures mean something.
	HasBalance bool
	// BalanceSlots is the number of complete slots the balance covers.
	BalanceSlots int
	// GridImport and GridExport are the grid meter's energy, Production the
	// production meters' export less their import, ConsumptionKWh the
	// consumers' import: all over the complete slots.
	GridImport, GridExport, Production core.Energy
	GridKWh, SubMetersKWh              core.Energy
	ConsumptionKWh                     core.Energy
	BalancePercent                     float64
	// Tolerance is the site's balance tolerance; Exceeds says the period's
	// balance is beyond it.
	Tolerance core.BasisPoints
	Exceeds   bool
	// Days is the balance per local day.
	Days []DayBalance
	// EstimatedEnergy and MissingEnergyEstimate add up the meters' figures
	// (main channels of consumers and production).
	EstimatedEnergy, MissingEnergyEstimate core.Energy
}

// Quality reports the data quality of site over p.
func Quality(tx store.Tx, site *core.Site, p core.Period) (QualityReport, error) {
	if !p.Valid() {
		return QualityReport{}, fmt.Errorf("invalid period %s: expected from <= to", p)
	}
	loc := site.Location()
	from, to := p.Slots(loc)
	n := int(to - from)
	rep := QualityReport{Site: site.ID, Period: p, Slots: n, Tolerance: balanceTolerance(site)}
	flags := map[string][]store.Flag{}
	err := tx.ScanFlags(site.ID, from, to, func(f store.Flag) bool {
		flags[f.Meter] = append(flags[f.Meter], f)
		return true
	})
	if err != nil {
		return QualityReport{}, fmt.Errorf("reading flags: %w", err)
	}
	series := make([][2]store.Series, len(site.Meters))
	useOther := make([]bool, len(site.Meters))
	for mi, m := range site.Meters {
		ser, err := loadMeterSeries(tx, site, m, from, to)
		if err != nil {
			return QualityReport{}, err
		}
		series[mi] = ser
		mq := MeterQuality{Meter: m.ID, Role: m.Role, Flags: flags[m.ID]}
		// A meter counts and is flagged only in its days in service.
		start, end := 0, n
		if m.Limited() {
			first, cut := m.Service(loc)
			start, end = int(min(max(first, from), to)-from), int(min(max(cut, from), to)-from)
			mq.Flags = slices.DeleteFunc(slices.Clone(mq.Flags), func(f store.Flag) bool { return f.Slot < first || f.Slot >= cut })
		}
		main := mainChannel(m)
		other := 1 - main
		useOther[mi] = hasAny(ser[other])
		for i := start; i < end; i++ {
			q := ser[main].Quality[i]
			if useOther[mi] {
				q = worse(q, ser[other].Quality[i])
			}
			switch q {
			case store.Missing:
				mq.Missing++
			case store.Estimated:
				mq.Estimated++
			case store.Edited:
				mq.Edited++
			default:
				mq.Measured++
			}
			if ser[main].Quality[i] == store.Estimated {
				mq.EstimatedEnergy += ser[main].Energy[i]
			}
		}
		mq.Import, _ = sumKnown(ser[store.Import], 0, n)
		mq.Export, _ = sumKnown(ser[store.Export], 0, n)
		mainSum, known := sumKnown(ser[main], start, end)
		if missing := end - start - known; missing > 0 && known > 0 {
			// A rough guess: to the Wh, not with the mWh of a measurement.
			mq.MissingEnergyEstimate = core.Energy(core.DivRound(int64(mainSum)*int64(missing), int64(known)*int64(core.Wh))) * core.Wh
		}
		flagged := map[core.Slot]bool{}
		for _, f := range mq.Flags {
			if f.Kind != KindGap {
				flagged[f.Slot] = true
			}
		}
		mq.Flagged = len(flagged)
		if m.Role.Consumer() || m.Role == core.RoleProduction {
			rep.EstimatedEnergy += mq.EstimatedEnergy
			rep.MissingEnergyEstimate += mq.MissingEnergyEstimate
		}
		rep.Meters = append(rep.Meters, mq)
	}
	hasGrid := len(site.MetersWithRole(core.RoleGrid)) > 0
	var total balance
	for d := p.From; !d.After(p.To); d = d.AddDays(1) {
		a, b := core.Period{From: d, To: d}.Slots(loc)
		ai, bi := int(a-from), int(b-from)
		day := DayBalance{Date: d, Slots: bi - ai, Complete: true}
		var db balance
		for i := ai; i < bi; i++ {
			var sb balance
			ok := true
			for mi, m := range site.Meters {
				if !complete(m, series[mi], i, i+1, useOther[mi]) {
					ok = false
					break
				}
				sb.add(m, series[mi], i, i+1)
			}
			if !ok {
				day.Complete = false
				continue
			}
			db.plus(sb)
		}
		total.plus(db)
		day.GridKWh, day.SubMetersKWh, day.ConsumptionKWh = db.grid(), db.sub(), db.consumption
		day.BalancePercent = db.percent()
		day.Exceeds = hasGrid && day.Complete && db.consumption > 0 && !db.within(rep.Tolerance)
		rep.Days = append(rep.Days, day)
	}
	rep.BalanceSlots = total.slots
	rep.GridImport, rep.GridExport = total.gridImport, total.gridExport
	rep.Production = total.prodExport - total.prodImport
	rep.GridKWh, rep.SubMetersKWh, rep.ConsumptionKWh = total.grid(), total.sub(), total.consumption
	rep.HasBalance = hasGrid && total.consumption > 0
	if rep.HasBalance {
		rep.BalancePercent = total.percent()
		rep.Exceeds = !total.within(rep.Tolerance)
	}
	return rep, nil
}

// balance adds up energy at the connection point over some slots.
type balance struct {
	slots                       int
	gridImport, gridExport      core.Energy
	prodImport, prodExport      core.Energy
	consumption, consumerExport core.Energy
}

func (b *balance) add(m core.Meter, ser [2]store.Series, i, j int) {
	imp, _ := sumKnown(ser[store.Import], i, j)
	exp, _ := sumKnown(ser[store.Export], i, j)
	switch {
	case m.Role == core.RoleGrid:
		b.gridImport += imp
		b.gridExport += exp
	case m.Role == core.RoleProduction:
		b.prodImport += imp
		b.prodExport += exp
	case m.Role.Consumer():
		b.consumption += imp
		b.consumerExport += exp
	}
	b.slots = j - i
}

func (b *balance) plus(o balance) {
	b.slots += o.slots
	b.gridImport += o.gridImport
	b.gridExport += o.gridExport
	b.prodImport += o.prodImport
	b.prodExport += o.prodExport
	b.consumption += o.consumption
	b.consumerExport += o.consumerExport
}

func (b balance) grid() core.Energy { return b.gridImport - b.gridExport }

func (b balance) sub() core.Energy {
	return b.consumption - b.consumerExport + b.prodImport - b.prodExport
}

func (b balance) percent() float64 {
	if b.consumption <= 0 {
		return 0
	}
	return math.Round(float64(b.sub()-b.grid())*10000/float64(b.consumption)) / 100
}

// within compares exactly: |sub - grid| × 10000 <= tolerance × consumption.
func (b balance) within(tol core.BasisPoints) bool {
	d := int64(b.sub() - b.grid())
	if d < 0 {
		d = -d
	}
	return d*10000 <= int64(tol)*int64(b.consumption)
}

func (b balance) reason(when string, tol core.BasisPoints) string {
	return fmt.Sprintf("on %s the sub-meters add up to %s net (consumption %s, production %s) but the grid meter to %s "+
		"(import %s, export %s): a difference of %s, %.2f %% of consumption, beyond the tolerance of %s %%",
		when, b.sub(), b.consumption, b.prodExport-b.prodImport, b.grid(), b.gridImport, b.gridExport,
		b.sub()-b.grid(), b.percent(), tol)
}

// mainChannel is the channel a meter's role is about.
func mainChannel(m core.Meter) store.Channel {
	if m.Role == core.RoleProduction {
		return store.Export
	}
	return store.Import
}

// complete says whether a meter has values in slots [i, j): its main channel
// must; the other channel must too where it carries data at all (useOther,
// from hasAny over the whole range read).
func complete(m core.Meter, ser [2]store.Series, i, j int, useOther bool) bool {
	main := mainChannel(m)
	for k := i; k < j; k++ {
		if ser[main].Quality[k] == store.Missing || useOther && ser[1-main].Quality[k] == store.Missing {
			return false
		}
	}
	return true
}

// hasAny reports whether s holds a measured or edited value: only then does
// a meter's second channel count in its quality and its completeness. A
// channel that only ever got estimates (a unit meter's flat export register,
// read once a day beside measured import intervals) would otherwise make
// every measured interval look estimated.
func hasAny(s store.Series) bool {
	for _, q := range s.Quality {
		if q == store.Measured || q == store.Edited {
			return true
		}
	}
	return false
}

// worse returns the lower of two qualities: missing, estimated, then the
// rest.
func worse(a, b store.Quality) store.Quality {
	rank := func(q store.Quality) int {
		switch q {
		case store.Missing:
			return 0
		case store.Estimated:
			return 1
		case store.Edited:
			return 2
		}
		return 3
	}
	if rank(b) < rank(a) {
		return b
	}
	return a
}

// sumKnown adds up the values in [i, j) and counts the slots that have one.
func sumKnown(s store.Series, i, j int) (core.Energy, int) {
	var e core.Energy
	k := 0
	for x := i; x < j && x < len(s.Energy); x++ {
		if s.Quality[x] != store.Missing {
			e += s.Energy[x]
			k++
		}
	}
	return e, k
}

// loadSeries reads both channels of a meter over [from, to).
func loadSeries(tx store.Tx, site, meter string, from, to core.Slot) ([2]store.Series, error) {
	var ser [2]store.Series
	for _, ch := range []store.Channel{store.Import, store.Export} {
		if err := tx.ReadIntervals(store.SeriesID{Site: site, Meter: meter, Channel: ch}, from, to, &ser[ch]); err != nil {
			return ser, fmt.Errorf("reading %s %s: %w", meter, ch, err)
		}
	}
	return ser, nil
}

// loadMeterSeries is loadSeries for meter m of site, with what the meter
// recorded outside its days in service read as nothing
// (store.Series.KeepService).
func loadMeterSeries(tx store.Tx, site *core.Site, m core.Meter, from, to core.Slot) ([2]store.Series, error) {
	ser, err := loadSeries(tx, site.ID, m.ID, from, to)
	if m.Limited() && err == nil {
		// The other channel is cut only where the meter used it:
		// measured zeros would make a channel it never had count.
		first, end := m.Service(site.Location())
		main := mainChannel(m)
		used := hasAny(ser[1-main])
		ser[main].KeepService(first, end)
		if used {
			ser[1-main].KeepService(first, end)
		}
	}
	return ser, err
}
