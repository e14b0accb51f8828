package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/gateway"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver/simulator"
	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/sim"
)

// demoGatewayModel is the model name of the demo site's simulated gateway.
const demoGatewayModel = "zevdesk demo gateway (simulated)"

// DemoGatewayDir is the data directory of the demo site's simulated
// gateway (its key, pairing and buffer), beside the database at db.
func DemoGatewayDir(db string) string { return db + ".demo-gateway" }

// startDemoGateway runs the demo site's simulated gateway in this process
// until the returned stop is called: on 127.0.0.1 at a port of its own, with
// its data in DemoGatewayDir, paired with the demo site the first time and
// pointed at its new address afterwards. It simulates the demo's building,
// whose registers are the same whatever the simulation's start (ingest/sim),
// so its records continue the demo's history; it fills its buffer from the
// demo's last stored reading, so a demo opened days later has no gap either.
// clock is the gateway's clock (the system clock but in tests).
func startDemoGateway(env *Env, st store.Store, clock core.Clock, log *slog.Logger) (g *gateway.Gateway, stop func(), err error) {
	dir := DemoGatewayDir(env.Path(env.DBPath))
	var last time.Time
	err = st.View(func(tx store.Tx) error {
		r, err := tx.RegisterBefore(DemoSiteID, "GRID", clock.Now().Add(time.Hour))
		if err == nil {
			last = r.Time
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reading the demo site: %w", err)
	}
	open := func() (*gateway.Gateway, error) {
		return gateway.New(gateway.Config{
			Dir:       dir,
			OpenStore: func(path string) (store.Store, error) { return bolt.Open(path, nil) },
			Drivers:   []driver.Driver{simulator.New(sim.New(DemoConfig(nil, time.Time{})), clock)},
			Model:     demoGatewayModel,
			Clock:     clock,
			Logger:    log,
		})
	}
	if g, err = open(); err != nil {
		return nil, nil, fmt.Errorf("starting the demo gateway: %w", err)
	}
	known := false
	err = st.View(func(tx store.Tx) error {
		_, err := intake.LoadPairing(tx, g.ID())
		known = err == nil
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err == nil && !known && g.Paired() {
		// A gateway left from an earlier demo database would refuse to
		// pair (it is paired already): start afresh.
		g.Close()
		if err = os.RemoveAll(dir); err == nil {
			g, err = open()
		}
		if err != nil {
			return nil, nil, fmt.Errorf("starting the demo gateway afresh in %s: %w", dir, err)
		}
	} else if err != nil {
		g.Close()
		return nil, nil, fmt.Errorf("reading the demo gateway's pairing: %w", err)
	}
	// From the demo's last reading, or from where the buffer ends, but no
	// more than a gateway's usual week: an older gap is bridged by the
	// register difference like a gateway that was off.
	from := g.Buffer().Stats().NewestTime
	if last.After(from) || from.IsZero() {
		from = last
	}
	if week := clock.Now().AddDate(0, 0, -7); from.Before(week) && !from.IsZero() {
		from = week
	}
	if !from.IsZero() {
		if _, err := g.FillHistory(from, clock.Now()); err != nil {
			g.Close()
			return nil, nil, fmt.Errorf("filling the demo gateway's buffer: %w", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		g.Close()
		return nil, nil, fmt.Errorf("starting the demo gateway: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := g.Run(ctx, ln); err != nil {
			log.Error("the demo gateway stopped", "err", err)
		}
	}()
	stop = func() { cancel(); <-done; g.Close() }
	addr := ln.Addr().String()
	if known {
		err = st.Update(func(tx store.Tx) error { return intake.UpdateAddress(tx, g.ID(), addr, env.Clock.Now()) })
	} else {
		var p intake.Pairing
		if p, err = intake.Pair(ctx, addr, g.ID(), g.Code()); err == nil {
			p.Site = DemoSiteID
			err = st.Update(func(tx store.Tx) error { return intake.SavePairing(tx, p, env.Clock.Now(), "demo") })
		}
	}
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("pairing the demo gateway: %w", err)
	}
	return g, stop, nil
}

// discardLogger logs nothing.
var discardLogger = slog.New(slog.NewTextHandler(io.Discard, nil))
