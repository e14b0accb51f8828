package cli

import (
	"context"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/vee"
	"github.com/zevdesk/zevdesk/ingest/gateway"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver/simulator"
	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/sim"
)

// stepClock is a clock the test moves forward.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *stepClock) add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// TestDemoGatewayContinuesHistory: the demo site with its simulated gateway,
// paired by demo, running for a simulated hour (and reopened a day later):
// records arrive and continue the history without a single flag.
func TestDemoGatewayContinuesHistory(t *testing.T) {
	created, err := time.Parse(time.RFC3339, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	clock := &stepClock{t: created.Add(7 * time.Minute)}
	db := filepath.Join(t.TempDir(), "demo.db")
	env := &Env{Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, Clock: clock, DBPath: db}
	defer env.Close()
	st, err := env.Store()
	if err != nil {
		t.Fatal(err)
	}
	if err := CreateDemo(st, created); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// run runs the demo's gateway for an hour of its clock, polling at each
	// quarter hour, and pulls its records as the app does.
	run := func() uint64 {
		t.Helper()
		g, stop, err := startDemoGateway(env, st, clock, discardLogger)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		for range 4 {
			at := clock.add(15 * time.Minute).Truncate(15 * time.Minute)
			if _, err := g.Poll(ctx, at); err != nil {
				t.Fatal(err)
			}
		}
		var p intake.Pairing
		if err := st.View(func(tx store.Tx) (err error) { p, err = intake.LoadPairing(tx, g.ID()); return err }); err != nil {
			t.Fatalf("the demo gateway is not paired: %v", err)
		}
		if p.Site != DemoSiteID {
			t.Errorf("the demo gateway feeds site %q", p.Site)
		}
		c := intake.NewClient(st, p, &intake.Options{Clock: clock})
		defer c.Close()
		if _, err := c.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		var cursor uint64
		st.View(func(tx store.Tx) (err error) { cursor, err = tx.Cursor(g.ID()); return err })
		return cursor
	}
	first := run()
	if first == 0 {
		t.Fatal("no record of the demo gateway arrived")
	}
	clock.add(24 * time.Hour) // the app is opened again the next day
	if again := run(); again <= first {
		t.Errorf("reopened a day later, the cursor went from %d to %d", first, again)
	}

	err = st.View(func(tx store.Tx) error {
		site, err := tx.Site(DemoSiteID)
		if err != nil {
			return err
		}
		loc := site.Location()
		end := core.DateOf(clock.Now().In(loc))
		r, err := tx.RegisterBefore(DemoSiteID, "GRID", clock.Now().Add(time.Minute))
		if err != nil {
			return err
		}
		if !r.Time.After(created.Add(24 * time.Hour)) {
			t.Errorf("the last grid reading is at %s, before the simulated hour of the second day", r.Time)
		}
		rep, err := vee.Quality(tx, site, core.Period{From: end.AddDays(-40), To: end})
		if err != nil {
			return err
		}
		// Every meter is as complete as the grid meter: the gateway's
		// second register (a unit meter's export, the PV's import) makes
		// no history look missing.
		var grid vee.MeterQuality
		for _, m := range rep.Meters {
			if m.Meter == "GRID" {
				grid = m
			}
		}
		if grid.Measured == 0 {
			t.Fatal("no measured grid interval")
		}
		for _, m := range rep.Meters {
			if m.Measured != grid.Measured || m.Missing != grid.Missing {
				t.Errorf("%s: %d measured, %d missing; the grid meter %d and %d", m.Meter, m.Measured, m.Missing, grid.Measured, grid.Missing)
			}
		}
		for _, m := range rep.Meters {
			for i, f := range m.Flags {
				if i < 3 {
					t.Errorf("flag on %s at %s: %s %s", m.Meter, f.Slot, f.Kind, f.Reason)
				}
			}
			if len(m.Flags) > 3 {
				t.Errorf("... %d flags on %s in all", len(m.Flags), m.Meter)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSimulateDefaultsAreTheDemoBuilding: `zevdesk gateway --simulate`
// without further flags simulates the demo's building and reads the same
// registers as the demo's history, so pairing it with the demo site
// continues that history.
func TestSimulateDefaultsAreTheDemoBuilding(t *testing.T) {
	f, err := parseGatewayFlags([]string{"--simulate"})
	if err != nil {
		t.Fatal(err)
	}
	at, _ := time.Parse(time.RFC3339, demoNow)
	loc, _ := time.LoadLocation("Europe/Zurich")
	got := sim.New(f.simConfig()).Registers(at)
	want := sim.New(DemoConfig(loc, at.AddDate(-1, 0, 0))).Registers(at)
	if len(got) != len(want) {
		t.Fatalf("--simulate has %d meters, the demo %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("--simulate reads %+v, the demo's history %+v", got[i], want[i])
		}
	}
}

// TestSimulateGatewayPairedWithDemo: what the user guide suggests, a
// separate `zevdesk gateway --simulate` (its defaults, a week of history
// buffered) paired with the demo site, adds readings and not one flag.
func TestSimulateGatewayPairedWithDemo(t *testing.T) {
	created, _ := time.Parse(time.RFC3339, demoNow)
	clock := &stepClock{t: created.Add(3 * time.Hour)}
	db := filepath.Join(t.TempDir(), "demo.db")
	env := &Env{Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, Clock: clock, DBPath: db}
	defer env.Close()
	st, err := env.Store()
	if err != nil {
		t.Fatal(err)
	}
	if err := CreateDemo(st, created); err != nil {
		t.Fatal(err)
	}
	f, err := parseGatewayFlags([]string{"--simulate"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(gateway.Config{
		Dir:       t.TempDir(),
		OpenStore: func(p string) (store.Store, error) { return bolt.Open(p, nil) },
		Drivers:   []driver.Driver{simulator.New(sim.New(f.simConfig()), clock)},
		Clock:     clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, err := g.FillHistory(clock.Now().AddDate(0, 0, -f.history), clock.Now()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx, ln) }()
	defer func() { cancel(); <-done }()

	p, err := intake.Pair(ctx, ln.Addr().String(), g.ID(), g.Code())
	if err != nil {
		t.Fatal(err)
	}
	p.Site = DemoSiteID
	if err := st.Update(func(tx store.Tx) error { return intake.SavePairing(tx, p, clock.Now(), "test") }); err != nil {
		t.Fatal(err)
	}
	c := intake.NewClient(st, p, &intake.Options{Clock: clock})
	defer c.Close()
	n, err := c.CatchUp(ctx)
	if err != nil || n == 0 {
		t.Fatalf("catching up: %d records, %v", n, err)
	}
	err = st.View(func(tx store.Tx) error {
		site, err := tx.Site(DemoSiteID)
		if err != nil {
			return err
		}
		end := core.DateOf(clock.Now().In(site.Location()))
		rep, err := vee.Quality(tx, site, core.Period{From: end.AddDays(-10), To: end})
		if err != nil {
			return err
		}
		for _, m := range rep.Meters {
			if len(m.Flags) > 0 {
				t.Errorf("%s: %d flags, the first %s %s", m.Meter, len(m.Flags), m.Flags[0].Kind, m.Flags[0].Reason)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
