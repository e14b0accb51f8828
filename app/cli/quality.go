package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
)

func init() {
	Register(Command{
		Name:    "quality",
		Args:    "[--site ID] --from DATE --to DATE [--json]",
		Summary: "data quality of a period: intervals measured, estimated, missing and flagged per meter, and the balance of the sub-meters against the grid meter",
		Run:     runQuality,
	})
}

// qualityJSON is what `zevdesk quality --json` prints: one object.
//
//	{
//	  "site": "birkenweg", "from": "2026-01-01", "to": "2026-03-31",
//	  "intervals": 8636,                        // 15-minute intervals in the period
//	  "meters": [{
//	    "meter": "M-W01", "role": "unit",
//	    "measured": 8600, "estimated": 30, "edited": 0, "missing": 6,   // add up to "intervals"
//	    "flagged": 2,                           // intervals with a flag other than "gap"
//	    "import_kwh": 1234.5, "export_kwh": 0,
//	    "estimated_kwh": 3.2,                   // of the main channel (export for production, else import)
//	    "missing_kwh_estimate": 0.7,            // average of the known intervals × missing ones
//	    "flags": [{"start": "2026-01-12T10:00:00Z", "kind": "max-power", "reason": "..."}]
//	  }],
//	  "balance": {
//	    "available": true,                      // a grid meter and consumption in complete intervals
//	    "intervals": 8600,                      // intervals in which every meter has data
//	    "grid_kwh": 900.1, "grid_import_kwh": 1000.2, "grid_export_kwh": 100.1,
//	    "sub_meters_kwh": 890.3, "consumption_kwh": 1500.3, "production_kwh": 610,
//	    "percent": -0.65,                       // 100 × (sub_meters - grid) / consumption
//	    "tolerance_percent": 2, "exceeds": false,
//	    "days": [{"date": "2026-01-01", "intervals": 96, "complete": true, "grid_kwh": 10.5,
//	              "sub_meters_kwh": 10.4, "consumption_kwh": 16.1, "percent": -0.62, "exceeds": false}]
//	  },
//	  "estimated_kwh": 3.2, "missing_kwh_estimate": 0.7
//	}
//
// Energy is in kWh as exact decimal numbers (up to six decimals), percentages
// rounded to two decimals, flag starts in UTC.
type qualityJSON struct {
	Site      string             `json:"site"`
	From      core.Date          `json:"from"`
	To        core.Date          `json:"to"`
	Intervals int                `json:"intervals"`
	Meters    []qualityMeterJSON `json:"meters"`
	Balance   qualityBalanceJSON `json:"balance"`
	Estimated json.Number        `json:"estimated_kwh"`
	Missing   json.Number        `json:"missing_kwh_estimate"`
}

type qualityMeterJSON struct {
	Meter     string            `json:"meter"`
	Role      core.Role         `json:"role"`
	Measured  int               `json:"measured"`
	Estimated int               `json:"estimated"`
	Edited    int               `json:"edited"`
	Missing   int               `json:"missing"`
	Flagged   int               `json:"flagged"`
	Import    json.Number       `json:"import_kwh"`
	Export    json.Number       `json:"export_kwh"`
	EstKWh    json.Number       `json:"estimated_kwh"`
	MissKWh   json.Number       `json:"missing_kwh_estimate"`
	Flags     []qualityFlagJSON `json:"flags"`
}

type qualityFlagJSON struct {
	Start  time.Time `json:"start"`
	Kind   string    `json:"kind"`
	Reason string    `json:"reason"`
}

type qualityBalanceJSON struct {
	Available   bool             `json:"available"`
	Intervals   int              `json:"intervals"`
	Grid        json.Number      `json:"grid_kwh"`
	GridImport  json.Number      `json:"grid_import_kwh"`
	GridExport  json.Number      `json:"grid_export_kwh"`
	SubMeters   json.Number      `json:"sub_meters_kwh"`
	Consumption json.Number      `json:"consumption_kwh"`
	Production  json.Number      `json:"production_kwh"`
	Percent     float64          `json:"percent"`
	Tolerance   json.Number      `json:"tolerance_percent"`
	Exceeds     bool             `json:"exceeds"`
	Days        []qualityDayJSON `json:"days"`
}

type qualityDayJSON struct {
	Date        core.Date   `json:"date"`
	Intervals   int         `json:"intervals"`
	Complete    bool        `json:"complete"`
	Grid        json.Number `json:"grid_kwh"`
	SubMeters   json.Number `json:"sub_meters_kwh"`
	Consumption json.Number `json:"consumption_kwh"`
	Percent     float64     `json:"percent"`
	Exceeds     bool        `json:"exceeds"`
}

func kwhNumber(e core.Energy) json.Number { return json.Number(core.FormatKWh(e)) }

func runQuality(env *Env, args []string) error {
	const cmd = "quality"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id (may be left out when the database has one site)")
	fromS := fs.String("from", "", "first day of the period (YYYY-MM-DD)")
	toS := fs.String("to", "", "last day of the period (YYYY-MM-DD)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef(cmd, "unexpected argument %q", pos[0])
	}
	p, err := qualityPeriod(cmd, *fromS, *toS)
	if err != nil {
		return err
	}
	st, site, err := openSite(env, cmd, *siteID)
	if err != nil {
		return err
	}
	var rep vee.QualityReport
	err = st.View(func(tx store.Tx) error {
		var err error
		rep, err = vee.Quality(tx, site, p)
		return err
	})
	if err != nil {
		return fmt.Errorf("checking data quality of %s: %w", site.ID, err)
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(qualityToJSON(rep))
	}
	return printQuality(env.Stdout, site, rep)
}

// qualityPeriod parses --from and --to.
func qualityPeriod(cmd, from, to string) (core.Period, error) {
	if from == "" || to == "" {
		return core.Period{}, Usagef(cmd, "--from and --to are required (YYYY-MM-DD)")
	}
	f, err := core.ParseDate(from)
	if err != nil {
		return core.Period{}, Usagef(cmd, "--from: %v", err)
	}
	t, err := core.ParseDate(to)
	if err != nil {
		return core.Period{}, Usagef(cmd, "--to: %v", err)
	}
	p := core.Period{From: f, To: t}
	if !p.Valid() {
		return core.Period{}, Usagef(cmd, "--to %s is before --from %s", t, f)
	}
	return p, nil
}

func qualityToJSON(r vee.QualityReport) qualityJSON {
	out := qualityJSON{Site: r.Site, From: r.Period.From, To: r.Period.To, Intervals: r.Slots,
		Estimated: kwhNumber(r.EstimatedEnergy), Missing: kwhNumber(r.MissingEnergyEstimate),
		Meters: []qualityMeterJSON{}}
	for _, m := range r.Meters {
		mj := qualityMeterJSON{Meter: m.Meter, Role: m.Role, Measured: m.Measured, Estimated: m.Estimated,
			Edited: m.Edited, Missing: m.Missing, Flagged: m.Flagged, Import: kwhNumber(m.Import),
			Export: kwhNumber(m.Export), EstKWh: kwhNumber(m.EstimatedEnergy),
			MissKWh: kwhNumber(m.MissingEnergyEstimate), Flags: []qualityFlagJSON{}}
		for _, f := range m.Flags {
			mj.Flags = append(mj.Flags, qualityFlagJSON{Start: f.Slot.Time(), Kind: f.Kind, Reason: f.Reason})
		}
		out.Meters = append(out.Meters, mj)
	}
	out.Balance = qualityBalanceJSON{Available: r.HasBalance, Intervals: r.BalanceSlots, Grid: kwhNumber(r.GridKWh),
		GridImport: kwhNumber(r.GridImport), GridExport: kwhNumber(r.GridExport), SubMeters: kwhNumber(r.SubMetersKWh),
		Consumption: kwhNumber(r.ConsumptionKWh), Production: kwhNumber(r.Production), Percent: r.BalancePercent,
		Tolerance: json.Number(r.Tolerance.String()), Exceeds: r.Exceeds, Days: []qualityDayJSON{}}
	for _, d := range r.Days {
		out.Balance.Days = append(out.Balance.Days, qualityDayJSON{Date: d.Date, Intervals: d.Slots, Complete: d.Complete,
			Grid: kwhNumber(d.GridKWh), SubMeters: kwhNumber(d.SubMetersKWh), Consumption: kwhNumber(d.ConsumptionKWh),
			Percent: d.BalancePercent, Exceeds: d.Exceeds})
	}
	return out
}

// printQuality writes the readable report: a table of the meters, their
// flags (consecutive intervals with the same finding on one line), and the
// balance.
func printQuality(w io.Writer, site *core.Site, r vee.QualityReport) error {
	loc := site.Location()
	fmt.Fprintf(w, "Data quality of %s (%s), %s: %d intervals\n\n", site.ID, site.Name, r.Period, r.Slots)
	mw := len("METER")
	for _, m := range r.Meters {
		mw = max(mw, len(m.Meter))
	}
	row := "%-*s  %-10s  %8v  %9v  %6v  %7v  %7v  %12v  %12v\n"
	fmt.Fprintf(w, row, mw, "METER", "ROLE", "MEASURED", "ESTIMATED", "EDITED", "MISSING", "FLAGGED", "IMPORT kWh", "EXPORT kWh")
	for _, m := range r.Meters {
		fmt.Fprintf(w, row, mw, m.Meter, m.Role, m.Measured, m.Estimated, m.Edited, m.Missing, m.Flagged,
			core.FormatKWh(m.Import), core.FormatKWh(m.Export))
	}
	listed := false
	for _, m := range r.Meters {
		for _, run := range flagRuns(m.Flags) {
			if !listed {
				fmt.Fprintln(w, "\nFlags (local time):")
				listed = true
			}
			first := run[0].Slot.Time().In(loc)
			when := first.Format("2006-01-02 15:04")
			if len(run) > 1 {
				last := run[len(run)-1].Slot.End().In(loc)
				when += "–" + last.Format("15:04")
				if core.DateOf(last) != core.DateOf(first) {
					when = first.Format("2006-01-02 15:04") + " – " + last.Format("2006-01-02 15:04")
				}
				when += fmt.Sprintf(" (%d intervals)", len(run))
			}
			reason := run[0].Reason
			if others := len(run) - 1; others > 0 && run[others].Reason != reason {
				reason += fmt.Sprintf(" (the first of %d)", len(run))
			}
			fmt.Fprintf(w, "  %s  %s  %s: %s\n", m.Meter, when, run[0].Kind, reason)
		}
	}
	if !listed {
		fmt.Fprintln(w, "\nNo flags.")
	}
	if r.EstimatedEnergy > 0 || r.MissingEnergyEstimate > 0 {
		fmt.Fprintf(w, "\nEstimated energy: %s; missing, roughly: %s\n", r.EstimatedEnergy, r.MissingEnergyEstimate)
	}
	fmt.Fprintln(w)
	if !r.HasBalance {
		fmt.Fprintln(w, "Balance: not available (the site needs a grid meter, and consumption in intervals where every meter has data)")
		return nil
	}
	verdict := "within"
	if r.Exceeds {
		verdict = "BEYOND"
	}
	fmt.Fprintf(w, "Balance: sub-meters %s, grid meter %s (import %s, export %s): %+.2f %% of consumption %s, %s the tolerance of %s %%\n",
		r.SubMetersKWh, r.GridKWh, r.GridImport, r.GridExport, r.BalancePercent, r.ConsumptionKWh, verdict, r.Tolerance)
	if r.BalanceSlots < r.Slots {
		fmt.Fprintf(w, "  over the %d of %d intervals in which every meter has data\n", r.BalanceSlots, r.Slots)
	}
	for _, d := range r.Days {
		if d.Exceeds {
			fmt.Fprintf(w, "  %s: %+.2f %% (sub-meters %s, grid meter %s)\n", d.Date, d.BalancePercent, d.SubMetersKWh, d.GridKWh)
		}
	}
	return nil
}

// flagRuns groups a meter's flags (ordered by slot) into runs of consecutive
// intervals with the same kind.
func flagRuns(fs []store.Flag) [][]store.Flag {
	open := map[string][]store.Flag{} // kind -> current run
	var runs [][]store.Flag
	var order []string
	for _, f := range fs {
		k := f.Kind
		cur, ok := open[k]
		if ok && cur[len(cur)-1].Slot+1 == f.Slot {
			open[k] = append(cur, f)
			continue
		}
		if ok {
			runs = append(runs, cur)
		} else {
			order = append(order, k)
		}
		open[k] = []store.Flag{f}
	}
	for _, k := range order {
		runs = append(runs, open[k])
	}
	sort.SliceStable(runs, func(i, j int) bool {
		a, b := runs[i][0], runs[j][0]
		if a.Slot != b.Slot {
			return a.Slot < b.Slot
		}
		return a.Kind < b.Kind
	})
	return runs
}
