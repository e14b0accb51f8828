package ui

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// liveText holds the live line's texts.
var liveText = struct{ None, Waiting, Line, Failed string }{
	None:    "Live: no gateway is paired with this site.",
	Waiting: "Live: waiting for the gateways…",
	Line:    "Live %s: production %s kW, consumption %s kW, grid %s kW",
	Failed:  "Live: gateway %s: %v",
}

// liveFeed follows the live power streams of a site's paired gateways
// (intake.Client.Live) and shows the building's power by role on a label:
// production (the PV meters' export), consumption (the consumer meters) and
// the grid meter (negative while feeding in). It is not safe for concurrent
// use; stream events reach it through fyne.Do.
type liveFeed struct {
	st    store.Store
	label *widget.Label
	// follow streams one gateway's events to fn until ctx ends; tests
	// replace it.
	follow func(ctx context.Context, p intake.Pairing, fn func(protocol.Live)) error
	// event, when set, is called on the UI goroutine after an event was
	// drawn; tests wait on it.
	event func()

	site     *core.Site
	gen      int
	cancel   context.CancelFunc
	pairings map[string]intake.Pairing
	latest   map[string]protocol.Live // by gateway
}

func newLiveFeed(st store.Store) *liveFeed {
	l := &liveFeed{st: st, label: widget.NewLabel("")}
	l.follow = func(ctx context.Context, p intake.Pairing, fn func(protocol.Live)) error {
		c := intake.NewClient(st, p, nil)
		defer c.Close()
		return c.Live(ctx, fn)
	}
	return l
}

// start follows the gateways paired with site, ending earlier streams.
func (l *liveFeed) start(site *core.Site) {
	l.stop()
	l.gen++
	l.site = site
	l.pairings = map[string]intake.Pairing{}
	l.latest = map[string]protocol.Live{}
	var ps []intake.Pairing
	err := l.st.View(func(tx store.Tx) error {
		var err error
		ps, err = intake.Pairings(tx)
		return err
	})
	if err != nil {
		l.label.SetText(err.Error())
		return
	}
	for _, p := range ps {
		if p.Site == site.ID {
			l.pairings[p.GatewayID] = p
		}
	}
	if len(l.pairings) == 0 {
		l.label.SetText(liveText.None)
		return
	}
	l.label.SetText(liveText.Waiting)
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	gen, follow := l.gen, l.follow
	for _, p := range l.pairings {
		go func() {
			err := follow(ctx, p, func(ev protocol.Live) {
				fyne.Do(func() { l.onEvent(gen, p.GatewayID, ev) })
			})
			if err != nil {
				slog.Warn("live stream", "gateway", p.GatewayID, "err", err)
				fyne.Do(func() {
					if gen == l.gen {
						l.label.SetText(fmt.Sprintf(liveText.Failed, p.GatewayID, err))
					}
				})
			}
		}()
	}
}

// stop ends the streams.
func (l *liveFeed) stop() {
	if l.cancel != nil {
		l.cancel()
		l.cancel = nil
	}
}

func (l *liveFeed) onEvent(gen int, gw string, ev protocol.Live) {
	if gen != l.gen {
		return // an event of a site no longer shown
	}
	l.latest[gw] = ev
	l.refresh()
	if l.event != nil {
		l.event()
	}
}

// refresh sums the latest event of each gateway by the roles of the site
// meters its meters map to.
func (l *liveFeed) refresh() {
	var prod, cons, grid float64
	var at time.Time
	for gw, ev := range l.latest {
		p := l.pairings[gw]
		if ev.Time.After(at) {
			at = ev.Time
		}
		for id, w := range ev.PowerW {
			m := l.site.Meter(p.SiteMeter(id))
			switch {
			case m == nil:
			case m.Role == core.RoleProduction:
				prod -= w // export is negative
			case m.Role == core.RoleGrid:
				grid += w
			case m.Role.Consumer():
				cons += w
			}
		}
	}
	lt := at.In(l.site.Location())
	l.label.SetText(fmt.Sprintf(liveText.Line, lt.Format("15:04:05"), kw(prod), kw(cons), kw(grid)))
}

// kw formats a power in W as kW with one decimal and Swiss thousands
// separators.
func kw(w float64) string {
	tenths := int64(math.Round(w / 100))
	sign := ""
	if tenths < 0 {
		sign, tenths = "-", -tenths
	}
	return fmt.Sprintf("%s%s.%d", sign, group(fmt.Sprint(tenths/10)), tenths%10)
}
