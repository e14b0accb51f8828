package cli

import (
	"flag"
	"fmt"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
)

func init() {
	Register(Command{
		Name: "meter replace",
		Args: "[--site ID] --meter ID --time RFC3339 --old-final KWH --new-initial KWH " +
			"[--old-final-export KWH --new-initial-export KWH] [--note TEXT]",
		Summary: "confirm a meter exchange with the old meter's final and the new meter's initial reading, " +
			"so that energy is continuous across it",
		Run: runMeterReplace,
	})
	Register(Command{
		Name:    "meter estimate",
		Args:    "[--site ID] --meter ID --from DATE --to DATE",
		Summary: "fill a meter's missing intervals linearly in the register between the readings around them (marked estimated)",
		Run:     runMeterEstimate,
	})
}

// runMeterReplace confirms a replacement. Without the export readings the
// export register is taken as unchanged across the exchange: the old final
// export is the last export reading before it, the new initial the first
// one after it (0 where there is none), which is right for a consumer meter.
func runMeterReplace(env *Env, args []string) error {
	const cmd = "meter replace"
	var at, oldImp, newImp, oldExp, newExp, note *string
	siteID, meter, err := meterFlags(cmd, args, func(fs *flag.FlagSet) {
		at = fs.String("time", "", "time of the exchange, RFC 3339 (2026-03-02T10:30:00+01:00)")
		oldImp = fs.String("old-final", "", "the old meter's final import register, kWh")
		newImp = fs.String("new-initial", "", "the new meter's initial import register, kWh")
		oldExp = fs.String("old-final-export", "", "the old meter's final export register, kWh")
		newExp = fs.String("new-initial-export", "", "the new meter's initial export register, kWh")
		note = fs.String("note", "", "a note for the audit log")
	})
	if err != nil {
		return err
	}
	if *at == "" {
		return Usagef(cmd, "--time is required (RFC 3339, e.g. 2026-03-02T10:30:00+01:00)")
	}
	when, err := time.Parse(time.RFC3339, *at)
	if err != nil {
		return Usagef(cmd, "--time: expected RFC 3339 such as 2026-03-02T10:30:00+01:00, got %q", *at)
	}
	r := store.Replacement{Time: when.UTC(), Note: *note}
	for _, v := range []struct {
		flag, val string
		dst       *core.Energy
		required  bool
	}{
		{"old-final", *oldImp, &r.OldFinal.Import, true},
		{"new-initial", *newImp, &r.NewInitial.Import, true},
		{"old-final-export", *oldExp, &r.OldFinal.Export, false},
		{"new-initial-export", *newExp, &r.NewInitial.Export, false},
	} {
		if v.val == "" {
			if v.required {
				return Usagef(cmd, "--%s is required (kWh)", v.flag)
			}
			continue
		}
		e, err := core.ParseKWh(v.val)
		if err != nil {
			return Usagef(cmd, "--%s: %v", v.flag, err)
		}
		if e < 0 {
			return Usagef(cmd, "--%s: a register reading cannot be negative, got %s", v.flag, v.val)
		}
		*v.dst = e
	}
	if (*oldExp == "") != (*newExp == "") {
		return Usagef(cmd, "give both --old-final-export and --new-initial-export, or neither")
	}
	st, site, err := openMeter(env, cmd, siteID, meter)
	if err != nil {
		return err
	}
	err = st.Update(func(tx store.Tx) error {
		if *oldExp == "" {
			if err := vee.KeepExport(tx, site.ID, meter, &r); err != nil {
				return err
			}
		}
		return vee.ConfirmReplacement(tx, site, meter, r, vee.Options{Clock: env.Clock, Actor: actor()})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "meter %s of %s: exchange at %s confirmed (old final import %s, export %s; new initial import %s, export %s)\n",
		meter, site.ID, r.Time.In(site.Location()).Format("2006-01-02 15:04 MST"),
		r.OldFinal.Import, r.OldFinal.Export, r.NewInitial.Import, r.NewInitial.Export)
	return nil
}

func runMeterEstimate(env *Env, args []string) error {
	const cmd = "meter estimate"
	var fromS, toS *string
	siteID, meter, err := meterFlags(cmd, args, func(fs *flag.FlagSet) {
		fromS = fs.String("from", "", "first day (YYYY-MM-DD)")
		toS = fs.String("to", "", "last day (YYYY-MM-DD)")
	})
	if err != nil {
		return err
	}
	p, err := qualityPeriod(cmd, *fromS, *toS)
	if err != nil {
		return err
	}
	st, site, err := openMeter(env, cmd, siteID, meter)
	if err != nil {
		return err
	}
	from, to := p.Slots(site.Location())
	var n [2]int
	err = st.Update(func(tx store.Tx) error {
		for _, ch := range []store.Channel{store.Import, store.Export} {
			k, err := vee.Estimate(tx, site, store.SeriesID{Site: site.ID, Meter: meter, Channel: ch}, from, to,
				vee.Options{Clock: env.Clock, Actor: actor()})
			if err != nil {
				return err
			}
			n[ch] = k
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "meter %s of %s, %s: %d import and %d export intervals estimated\n", meter, site.ID, p, n[0], n[1])
	return nil
}

// meterFlags parses the --site and --meter flags of a meter command and
// those more adds; --meter is required, positional arguments are refused.
func meterFlags(cmd string, args []string, more func(fs *flag.FlagSet)) (siteID, meter string, err error) {
	fs := NewFlagSet(cmd)
	site := fs.String("site", "", "site id (may be left out when the database has one site)")
	m := fs.String("meter", "", "meter id")
	more(fs)
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return "", "", err
	}
	if len(pos) > 0 {
		return "", "", Usagef(cmd, "unexpected argument %q", pos[0])
	}
	if *m == "" {
		return "", "", Usagef(cmd, "--meter is required")
	}
	return *site, *m, nil
}

// openMeter opens the database and picks the site (see openSite), which
// must have the meter.
func openMeter(env *Env, cmd, siteID, meter string) (store.Store, *core.Site, error) {
	st, site, err := openSite(env, cmd, siteID)
	if err != nil {
		return nil, nil, err
	}
	if site.Meter(meter) == nil {
		return nil, nil, fmt.Errorf("--meter: site %s has no meter %q", site.ID, meter)
	}
	return st, site, nil
}
