package ui

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"fyne.io/fyne/v2"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/intake"
)

// collectPoll is the pause between catch-ups of a gateway that is caught up,
// as `zevdesk serve` does it.
const collectPoll = 30 * time.Second

// collector keeps the store up to date with every paired gateway while the
// main window is open: one intake loop (intake.Client.Run) per pairing, so
// that readings arrive without `zevdesk serve`. A pairing that changes
// (paired again, meters assigned) restarts its loop with the new pairing.
// It is not safe for concurrent use; call its methods on Fyne's goroutine.
type collector struct {
	st    store.Store
	clock core.Clock
	// onState, when set, is called on the UI goroutine whenever a loop
	// reports a state a person should see.
	onState func(intake.State)
	// opts, when set, replaces the intake options (tests).
	opts *intake.Options

	running map[string]run // by gateway id
}

// run is one gateway's loop and the pairing it was started with.
type run struct {
	pairing []byte // the pairing as JSON, to notice changes
	cancel  context.CancelFunc
	done    chan struct{}
}

func newCollector(st store.Store, clock core.Clock) *collector {
	return &collector{st: st, clock: clock, running: map[string]run{}}
}

// sync starts a loop for every pairing that has none, restarts loops whose
// pairing changed and ends loops of pairings that are gone.
func (c *collector) sync() {
	var ps []intake.Pairing
	err := c.st.View(func(tx store.Tx) (err error) { ps, err = intake.Pairings(tx); return })
	if err != nil {
		slog.Error("reading gateway pairings", "err", err)
		return
	}
	seen := map[string]bool{}
	for _, p := range ps {
		seen[p.GatewayID] = true
		b, _ := json.Marshal(p)
		var prev chan struct{}
		if r, ok := c.running[p.GatewayID]; ok {
			if string(r.pairing) == string(b) {
				continue
			}
			r.cancel()
			prev = r.done
		}
		c.running[p.GatewayID] = c.start(p, b, prev)
	}
	for id, r := range c.running {
		if !seen[id] {
			r.cancel()
			delete(c.running, id)
		}
	}
}

// start runs p's loop once prev (the loop of its earlier pairing, if any)
// has ended: two loops of one gateway would commit its cursor in turn.
func (c *collector) start(p intake.Pairing, b []byte, prev <-chan struct{}) run {
	opt := intake.Options{Poll: collectPoll}
	if c.opts != nil {
		opt = *c.opts
	}
	opt.Clock = c.clock
	cl := intake.NewClient(c.st, p, &opt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	onState := c.onState
	go func() {
		defer close(done)
		defer cl.Close()
		if prev != nil {
			<-prev
		}
		slog.Info("ingesting from gateway", "gateway", p.GatewayID, "address", p.Address)
		err := cl.Run(ctx, func(s intake.State) {
			if onState != nil {
				fyne.Do(func() { onState(s) })
			}
		})
		if err != nil {
			slog.Error("gateway intake stopped", "gateway", p.GatewayID, "err", err)
		}
	}()
	return run{pairing: b, cancel: cancel, done: done}
}

// stop ends every loop and waits for them, so that no transaction is left
// running when the store closes.
func (c *collector) stop() {
	for id, r := range c.running {
		r.cancel()
		<-r.done
		delete(c.running, id)
	}
}
