package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// Live timing. A gateway sends a live event every second: one not heard
// from for liveStale is offline, and its last values are no longer shown as
// current. Draws are at most liveDrawEvery apart, so that 20 gateways'
// events cost one draw, not twenty; liveTick redraws the gateways' states
// (and notices staleness) when no event comes.
const (
	liveStale     = 5 * time.Second
	liveDrawEvery = 200 * time.Millisecond
	liveTick      = time.Second
	// todayEvery is how often the day's curves are read again from the
	// store while the view is open.
	todayEvery = time.Minute
)

// Live shows the building now: a power-flow picture of PV production,
// consumption and the grid with the self-sufficiency, the power per unit,
// each gateway's state in words, and today's production and consumption so
// far. It follows the live streams of every gateway paired with the site,
// including pairings made while it runs.
//
// Stream events are stored under a mutex by the streams' goroutines; one
// draw goroutine turns them into what is shown and hands that to Fyne's
// goroutine (fyne.Do). Its exported methods are called on Fyne's goroutine.
type Live struct {
	st    store.Store
	clock core.Clock

	flow    *flowPicture
	note    *widget.Label
	gws     *widget.Label
	units   *widget.Label
	chart   *barChart
	content fyne.CanvasObject

	// follow streams one gateway's events to fn until ctx ends
	// (intake.Client.Live); tests may replace it.
	follow func(ctx context.Context, p intake.Pairing, fn func(protocol.Live)) error
	// drawn, when set, is called after each draw with what was drawn, on
	// the draw goroutine; tests wait on it.
	drawn func(liveShown)
	// tick is the pause between redraws without events; 0 means none
	// (tests redraw by calling redraw).
	tick time.Duration

	mu      sync.Mutex
	site    *core.Site
	streams map[string]*liveStream // by gateway id
	wake    chan struct{}
	dirty   atomic.Bool // the store changed: pairings may have
	stop    context.CancelFunc
	loop    chan struct{} // closed when the draw goroutine has ended
	todayAt time.Time
}

// liveStream is one gateway's stream and what it last said.
type liveStream struct {
	p      intake.Pairing
	key    string // the pairing as JSON, to notice a new pairing
	cancel context.CancelFunc
	start  time.Time
	ev     protocol.Live
	at     time.Time // when ev arrived, by the view's clock
	has    bool
	err    error // why the stream ended for good
}

// liveShown is what one draw showed.
type liveShown struct {
	Power   power
	Known   bool      // Power is current (at least one gateway online)
	At      time.Time // the newest event's time at the gateway
	Note    string
	Gateway []string // one line per gateway: "id: state"
	Units   []string
}

// NewLive builds the live view on st.
func NewLive(st store.Store, clock core.Clock) *Live {
	l := &Live{st: st, clock: clock, tick: liveTick, streams: map[string]*liveStream{}, wake: make(chan struct{}, 1)}
	l.follow = func(ctx context.Context, p intake.Pairing, fn func(protocol.Live)) error {
		c := intake.NewClient(st, p, nil)
		defer c.Close()
		return c.Live(ctx, fn)
	}
	l.flow = newFlowPicture()
	l.note = widget.NewLabel("")
	l.note.Wrapping = fyne.TextWrapWord
	l.gws = widget.NewLabel("")
	l.gws.Wrapping = fyne.TextWrapWord
	l.units = widget.NewLabel("")
	l.chart = newBarChart()
	bold := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	left := container.NewBorder(bold(lang.X("live.now", "The building now")), container.NewVBox(l.note,
		bold(lang.X("live.gateways", "Gateways")), l.gws), nil, nil, l.flow.root)
	right := container.NewBorder(bold(lang.X("live.units", "Units")), nil, nil, nil, container.NewVScroll(l.units))
	top := container.NewHSplit(left, right)
	top.Offset = 0.7
	today := container.NewBorder(bold(lang.X("live.today", "Today so far")),
		legend(lang.X("live.production", "Production"), lang.X("live.solar", "Consumption: solar"), lang.X("live.grid", "Consumption: grid")),
		nil, nil, l.chart)
	split := container.NewVSplit(top, today)
	split.Offset = 0.6
	l.content = split
	return l
}

// Content returns the view's canvas object.
func (l *Live) Content() fyne.CanvasObject { return l.content }

// setSite follows the gateways paired with site and ends earlier streams.
func (l *Live) setSite(site *core.Site) {
	l.Stop()
	l.mu.Lock()
	l.site = site
	l.todayAt = time.Time{}
	l.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	l.stop = cancel
	if n, ok := l.st.(store.Notifier); ok {
		unsub := n.Subscribe(func() { l.dirty.Store(true); l.poke() })
		go func() { <-ctx.Done(); unsub() }()
	}
	l.sync()
	l.loop = make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		l.drawLoop(ctx)
	}(l.loop)
	l.poke()
}

// Stop ends the streams and the drawing. A draw under way may still
// finish; wait for that with waitStopped.
func (l *Live) Stop() {
	if l.stop != nil {
		l.stop()
		l.stop = nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, s := range l.streams {
		s.cancel()
		delete(l.streams, id)
	}
}

// waitStopped waits, after Stop, until the draw goroutine has ended.
func (l *Live) waitStopped() {
	if l.loop != nil {
		<-l.loop
	}
}

// poke asks the draw goroutine for a draw; many pokes make one draw.
func (l *Live) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// sync starts a stream for every pairing of the site that has none,
// restarts streams whose pairing changed (paired again, meters assigned)
// and ends those of pairings that are gone. Safe on any goroutine.
func (l *Live) sync() {
	var ps []intake.Pairing
	err := l.st.View(func(tx store.Tx) (err error) { ps, err = intake.Pairings(tx); return })
	if err != nil {
		slog.Error("live view: reading gateway pairings", "err", err)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.site == nil {
		return
	}
	seen := map[string]bool{}
	for _, p := range ps {
		if p.Site != l.site.ID {
			continue
		}
		seen[p.GatewayID] = true
		b, _ := json.Marshal(p)
		if s, ok := l.streams[p.GatewayID]; ok {
			if s.key == string(b) {
				continue
			}
			s.cancel()
		}
		l.streams[p.GatewayID] = l.startStream(p, string(b))
	}
	for id, s := range l.streams {
		if !seen[id] {
			s.cancel()
			delete(l.streams, id)
		}
	}
}

// startStream runs one gateway's stream; l.mu is held.
func (l *Live) startStream(p intake.Pairing, key string) *liveStream {
	ctx, cancel := context.WithCancel(context.Background())
	s := &liveStream{p: p, key: key, cancel: cancel, start: l.clock.Now()}
	follow := l.follow
	go func() {
		err := follow(ctx, p, func(ev protocol.Live) {
			l.mu.Lock()
			s.ev, s.at, s.has = ev, l.clock.Now(), true
			l.mu.Unlock()
			l.poke()
		})
		if err != nil && ctx.Err() == nil {
			slog.Warn("live stream ended", "gateway", p.GatewayID, "err", err)
			l.mu.Lock()
			s.err = err
			l.mu.Unlock()
			l.poke()
		}
	}()
	return s
}

// drawLoop draws on pokes, at most every liveDrawEvery, and every tick.
func (l *Live) drawLoop(ctx context.Context) {
	var tick <-chan time.Time
	if l.tick > 0 {
		t := time.NewTicker(l.tick)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
			if l.dirty.Swap(false) {
				l.sync() // a pairing made or changed while the view is open
			}
		case <-tick:
			l.sync() // also for stores that announce no changes
		}
		l.redraw(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(liveDrawEvery):
		}
	}
}

// redraw computes what to show and shows it.
func (l *Live) redraw(ctx context.Context) {
	shown, site := l.compute()
	if site == nil {
		return
	}
	var today *energyData
	now := l.clock.Now()
	l.mu.Lock()
	due := l.todayAt.IsZero() || now.Sub(l.todayAt) >= todayEvery || now.Before(l.todayAt)
	if due {
		l.todayAt = now
	}
	l.mu.Unlock()
	if due {
		var d energyData
		err := l.st.View(func(tx store.Tx) (err error) {
			d, err = loadEnergy(tx, site, viewDay, core.DateOf(now.In(site.Location())), now)
			return
		})
		if err != nil {
			slog.Error("live view: reading today's energy", "site", site.ID, "err", err)
		} else {
			today = &d
		}
	}
	if ctx.Err() != nil {
		return
	}
	fyne.Do(func() {
		l.flow.set(shown.Power, shown.Known)
		l.note.SetText(shown.Note)
		l.gws.SetText(strings.Join(shown.Gateway, "\n"))
		l.units.SetText(strings.Join(shown.Units, "\n"))
		if today != nil {
			l.chart.setBuckets(today.Buckets)
		}
	})
	if l.drawn != nil {
		l.drawn(shown)
	}
}

// compute sums the current events by the roles of the site meters their
// meters map to. Only gateways heard from within liveStale count: an
// offline gateway's last values are never shown as current.
func (l *Live) compute() (liveShown, *core.Site) {
	now := l.clock.Now()
	states := map[string]intake.State{}
	l.mu.Lock()
	var ids []string
	for id := range l.streams {
		ids = append(ids, id)
	}
	l.mu.Unlock()
	_ = l.st.View(func(tx store.Tx) error {
		for _, id := range ids {
			if s, err := intake.LoadState(tx, id); err == nil {
				states[id] = s
			}
		}
		return nil
	})

	l.mu.Lock()
	defer l.mu.Unlock()
	site := l.site
	var sh liveShown
	if site == nil {
		return sh, nil
	}
	sort.Strings(ids)
	if len(l.streams) == 0 {
		sh.Note = lang.X("live.none", "No gateway is paired with this site yet: set one up with “Set up gateways…” on the Gateways tab.")
		return sh, site
	}
	var p power
	hasGrid := false
	unitW := map[string]float64{}
	online, offline := 0, 0
	for _, id := range ids {
		s, ok := l.streams[id]
		if !ok {
			continue
		}
		fresh := s.has && s.err == nil && now.Sub(s.at) <= liveStale
		sh.Gateway = append(sh.Gateway, id+": "+l.stateText(s, states[id], fresh, now, site.Location()))
		if !fresh {
			offline++
			continue
		}
		online++
		if s.ev.Time.After(sh.At) {
			sh.At = s.ev.Time
		}
		for mid, w := range s.ev.PowerW {
			m := site.Meter(s.p.SiteMeter(mid))
			switch {
			case m == nil:
			case m.Role == core.RoleProduction:
				p.Production -= w // export is negative
			case m.Role == core.RoleGrid:
				p.Grid += w
				hasGrid = true
			case m.Role.Consumer():
				p.Consumption += w
				if m.Unit != "" {
					unitW[m.Unit] += w
				}
			}
		}
	}
	if !hasGrid {
		p.Grid = p.Consumption - p.Production
	}
	sh.Power, sh.Known = p, online > 0
	switch {
	case online == 0:
		sh.Note = lang.X("live.nodata", "No current values: no gateway of this site is online.")
	case offline > 0:
		sh.Note = lang.X("live.partial", "Incomplete: {{.N}} of {{.Total}} gateways are offline; their meters are left out.",
			map[string]any{"N": offline, "Total": online + offline})
	}
	if online > 0 {
		for _, u := range site.Units {
			w, ok := unitW[u.ID]
			if !ok {
				continue
			}
			name := u.ID
			if u.Name != "" {
				name += " " + u.Name
			}
			sh.Units = append(sh.Units, fmt.Sprintf("%s: %s kW", name, kw(w)))
		}
	}
	return sh, site
}

// stateText says in words an office understands how a gateway is.
func (l *Live) stateText(s *liveStream, st intake.State, fresh bool, now time.Time, loc *time.Location) string {
	clock := func(t time.Time) string {
		lt := t.In(loc)
		if core.DateOf(lt) == core.DateOf(now.In(loc)) {
			return lt.Format("15:04")
		}
		return date(core.DateOf(lt)) + " " + lt.Format("15:04")
	}
	var pe *intake.PairedElsewhereError
	switch {
	case s.err != nil && errors.As(s.err, &pe):
		return lang.X("live.state.elsewhere", "paired with another workstation; pair it again with “Set up gateways…” if that was not meant")
	case s.err != nil && errors.Is(s.err, intake.ErrUnauthorized):
		return lang.X("live.state.rejected", "no longer accepts this workstation (reset or paired elsewhere): pair it again")
	case s.err != nil && errors.Is(s.err, intake.ErrCertChanged):
		return lang.X("live.state.cert", "its certificate changed (replaced or reset, or someone is posing as it): pair it again")
	case s.err != nil:
		return lang.X("live.state.failed", "not reachable")
	case !s.has && now.Sub(s.start) <= liveStale:
		return lang.X("live.state.connecting", "connecting…")
	case !s.has:
		return lang.X("live.state.noanswer", "offline: no answer since {{.Since}}", map[string]any{"Since": clock(s.start)})
	case !fresh:
		return lang.X("live.state.offline", "offline since {{.Since}}", map[string]any{"Since": clock(s.at)})
	}
	parts := []string{lang.X("live.state.online", "online")}
	if st.Behind > 0 {
		parts = append(parts, lang.X("live.state.catchup", "catching up: {{.N}} readings still to fetch", map[string]any{"N": st.Behind}))
	}
	if st.SkewFlag {
		parts = append(parts, lang.X("live.state.skew", "its clock is off by {{.D}}: check the gateway's time",
			map[string]any{"D": st.ClockSkew.Round(time.Second).String()}))
	}
	if st.Lost != "" {
		parts = append(parts, lang.X("live.state.lost", "some readings were lost while this workstation was off"))
	}
	return strings.Join(parts, ", ")
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
