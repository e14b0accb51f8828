package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/totals"
	"github.com/zevdesk/zevdesk/ingest/sim"
)

func init() {
	Register(Command{
		Name:    "demo",
		Args:    "[--no-window] [--now TIME]",
		Summary: "create the demo site (a simulated 12-unit building with a year of history) and open the app on it, with a simulated gateway paired and delivering readings while it runs; --no-window only creates the database",
		Run:     runDemo,
		Owner:   RefuseOwner,
	})
}

// DemoSiteID is the id of the demo site.
const DemoSiteID = "demo"

// demoSeed fixes the demo building's simulated weather and households.
const demoSeed = 2026

// DemoConfig is the simulated building behind the demo site, with history
// starting at epoch: 12 apartments, 30 kWp of PV, a heat pump, general
// electricity and one EV charger.
func DemoConfig(loc *time.Location, epoch time.Time) sim.Config {
	return sim.Config{Seed: demoSeed, Units: 12, PVkWp: 30, HeatPump: true, EVChargers: 1, Location: loc, Epoch: epoch}
}

func runDemo(env *Env, args []string) error {
	const cmd = "demo"
	fs := NewFlagSet(cmd)
	noWindow := fs.Bool("no-window", false, "create the demo database, print a summary and exit (no window, no simulated gateway)")
	nowFlag := fs.String("now", "", "pretend the app starts at TIME (RFC 3339, e.g. 2026-06-16T12:00:00+02:00) and runs on from there: a new demo's history ends there and the window and simulated gateway live in that time, for reproducible demos")
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef(cmd, "unexpected argument %q", pos[0])
	}
	now := env.Clock.Now()
	if *nowFlag != "" {
		if now, err = time.Parse(time.RFC3339, *nowFlag); err != nil {
			return Usagef(cmd, "--now: expected a time such as 2026-03-01T12:00:00Z, got %q", *nowFlag)
		}
		// The window and the simulated gateway go on from there.
		env.Clock = core.ShiftedClock(time.Until(now))
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	exists := false
	err = st.View(func(tx store.Tx) error {
		_, err := tx.Site(DemoSiteID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		exists = err == nil
		return err
	})
	if err != nil {
		return fmt.Errorf("looking for the demo site: %w", err)
	}
	if exists {
		fmt.Fprintf(env.Stdout, "the demo site %q already exists in %s; opening it\n", DemoSiteID, env.DBName())
	} else {
		if err := CreateDemo(st, now); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "created the demo site %q in %s: a simulated building with a year of history\n", DemoSiteID, env.DBName())
	}
	if !*noWindow {
		// The window's live view and data follow the demo's simulated
		// gateway, running beside the app for as long as it runs.
		_, stop, err := startDemoGateway(env, st, env.Clock, slog.Default())
		if err != nil {
			fmt.Fprintf(env.Stderr, "zevdesk demo: no simulated gateway, the demo shows its history only: %v\n", err)
		} else {
			env.OnClose(stop)
			fmt.Fprintf(env.Stdout, "a simulated gateway at the demo building is paired with the demo site and delivers readings while the app runs\n")
		}
		return OpenDesktop(DemoSiteID)
	}
	return printDemoSummary(env.Stdout, st, now)
}

// series is one channel of one meter that the demo stores.
type demoSeries struct {
	meter int // index into the simulator's meters
	ch    store.Channel
	vals  []store.Value
}

// CreateDemo writes the demo site into st: the site, and for every meter a
// year of 15-minute intervals up to the last complete interval before now and
// register readings at every local midnight (and at the end). It writes one
// transaction per month and the site last, so that an interrupted run leaves
// no demo site and a rerun completes it.
func CreateDemo(st store.Store, now time.Time) error {
	loc, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		return fmt.Errorf("loading the time zone of the demo site: %w", err)
	}
	today := core.DateOf(now.In(loc))
	start := today.Midnight(loc).AddDate(-1, 0, 0)
	startDay := core.DateOf(start)
	endSlot := core.SlotOf(now) // intervals up to the last complete one
	b := sim.New(DemoConfig(loc, start))
	site := b.Site(DemoSiteID)
	site.Name = "ZEV Lorrainestrasse 24 (Demo)"
	if err := site.Validate(); err != nil {
		return fmt.Errorf("building the demo site: %w", err)
	}
	meters := b.Meters()
	var series []demoSeries
	// Both channels of every meter, as its two registers give them: a
	// gateway paired with the demo site later delivers both, and a channel
	// that starts carrying data counts in the meter's completeness.
	for i := range meters {
		series = append(series, demoSeries{meter: i, ch: store.Import}, demoSeries{meter: i, ch: store.Export})
	}
	regs := make([][]store.Register, len(meters))

	prev := b.Registers(start)
	addRegisters := func(rs []sim.Reading) {
		for i, r := range rs {
			regs[i] = append(regs[i], store.Register{Time: r.Time, Import: r.Import, Export: r.Export})
		}
	}
	addRegisters(prev)
	var cur []sim.Reading
	slot := core.SlotOf(start)
	for month := startDay; slot < endSlot; {
		month = core.DateOf(time.Date(month.Year, month.Month+1, 1, 0, 0, 0, 0, time.UTC))
		to := min(month.FirstSlot(loc), endSlot)
		for ; slot < to; slot++ {
			end := slot.End()
			cur = b.AppendRegisters(cur[:0], end)
			for k := range series {
				s := &series[k]
				e := cur[s.meter].Import - prev[s.meter].Import
				if s.ch == store.Export {
					e = cur[s.meter].Export - prev[s.meter].Export
				}
				s.vals = append(s.vals, store.Value{Slot: slot, Energy: e, Quality: store.Measured})
			}
			if lt := end.In(loc); lt.Hour() == 0 && lt.Minute() == 0 || slot+1 == endSlot {
				addRegisters(cur)
			}
			prev, cur = cur, prev
		}
		last := slot == endSlot
		err := st.Update(func(tx store.Tx) error {
			for _, s := range series {
				id := store.SeriesID{Site: DemoSiteID, Meter: meters[s.meter].ID, Channel: s.ch}
				res, err := tx.PutIntervals(id, s.vals, store.KeepFirst)
				if err != nil {
					return fmt.Errorf("writing intervals of %s: %w", id.Meter, err)
				}
				if len(res.Conflicts) > 0 {
					c := res.Conflicts[0]
					return fmt.Errorf("the database already holds different data for meter %s of site %q at %s "+
						"(%v stored, %v simulated): remove it or use another --db", id.Meter, DemoSiteID, c.Slot, c.Stored.Energy, c.Incoming.Energy)
				}
			}
			for i, rs := range regs {
				conflicts, err := tx.PutRegisters(DemoSiteID, meters[i].ID, rs)
				if err != nil {
					return fmt.Errorf("writing registers of %s: %w", meters[i].ID, err)
				}
				if len(conflicts) > 0 {
					return fmt.Errorf("the database already holds a different register reading of meter %s of site %q at %s: remove it or use another --db",
						meters[i].ID, DemoSiteID, conflicts[0].Time.Format(time.RFC3339))
				}
			}
			if !last {
				return nil
			}
			if err := billing.PutSessions(tx, DemoSiteID, demoSessions(site, b.Sessions(start, endSlot.Time()), loc)); err != nil {
				return err
			}
			if err := tx.PutSite(site); err != nil {
				return err
			}
			_, err := tx.AppendAudit(store.Entry{Time: now.UTC(), Actor: "cli", Site: DemoSiteID, Action: "site.demo",
				Detail: fmt.Sprintf("created the demo site with simulated history %s..%s", startDay, endSlot.Time().In(loc).Format(time.DateTime))})
			return err
		})
		if err != nil {
			return fmt.Errorf("writing the demo site: %w", err)
		}
		for k := range series {
			series[k].vals = series[k].vals[:0]
		}
		for i := range regs {
			regs[i] = regs[i][:0]
		}
	}
	return nil
}

// demoSessions turns the simulator's charging sessions into billing
// sessions, billed to the tenant of the card holder's unit on the day.
func demoSessions(site *core.Site, ss []sim.Session, loc *time.Location) []billing.Session {
	out := make([]billing.Session, 0, len(ss))
	for _, s := range ss {
		day := core.DateOf(s.Start.In(loc))
		person := site.Operator.Name
		for _, o := range site.Occupancies {
			if _, ok := o.Period(core.Period{From: day, To: day}); ok && o.Unit == s.Unit {
				person = o.Name
			}
		}
		out = append(out, billing.Session{
			ID:     s.Charger + "-" + s.Start.Format("20060102T150405Z"),
			Meter:  s.Charger,
			Card:   s.Card,
			Person: person,
			Unit:   s.Unit,
			Start:  s.Start,
			End:    s.End,
		})
	}
	return out
}

// printDemoSummary prints the demo site, its meters and the last complete
// day's balance.
func printDemoSummary(w io.Writer, st store.Store, now time.Time) error {
	return st.View(func(tx store.Tx) error {
		site, err := tx.Site(DemoSiteID)
		if err != nil {
			return fmt.Errorf("reading the demo site: %w", err)
		}
		loc := site.Location()
		day := core.DateOf(now.In(loc)).AddDays(-1)
		t, err := totals.Of(tx, site, core.Period{From: day, To: day})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "site %s: %s, %s %s, %s %s\n", site.ID, site.Name, site.Address.Street, site.Address.Number,
			site.Address.Postcode, site.Address.Town)
		fmt.Fprintf(w, "%d units, %d tenancies, %d meters:\n", len(site.Units), len(site.Occupancies), len(site.Meters))
		for _, m := range site.Meters {
			what := string(m.Role)
			if m.Unit != "" {
				what += " " + m.Unit
			}
			fmt.Fprintf(w, "  %-6s %-14s %s\n", m.ID, what, m.Name)
		}
		pct := func(a, b core.Energy) float64 {
			if b == 0 {
				return 0
			}
			return 100 * float64(a) / float64(b)
		}
		fmt.Fprintf(w, "%s:\n", day)
		fmt.Fprintf(w, "  production     %12s kWh\n", core.FormatKWh(t.Production))
		fmt.Fprintf(w, "  consumption    %12s kWh\n", core.FormatKWh(t.Consumption))
		fmt.Fprintf(w, "  self-consumed  %12s kWh (%.0f %% of production, %.0f %% of consumption)\n",
			core.FormatKWh(t.SelfConsumed), pct(t.SelfConsumed, t.Production), pct(t.SelfConsumed, t.Consumption))
		fmt.Fprintf(w, "  grid supply    %12s kWh\n", core.FormatKWh(t.GridImport))
		fmt.Fprintf(w, "  grid feed-in   %12s kWh\n", core.FormatKWh(t.FeedIn))
		if n := t.Missing(); n > 0 {
			fmt.Fprintf(w, "  missing intervals: %d\n", n)
		}
		return nil
	})
}
