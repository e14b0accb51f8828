package ui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/gateway"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// powerMeters is a gateway driver with four meters at fixed power: the PV
// plant producing 3 kW, two flats using 1.2 and 0.8 kW, and the grid meter
// feeding in the 1 kW left over.
type powerMeters struct{}

var fixedPower = []driver.Power{{Meter: "pv", W: -3000}, {Meter: "flat1", W: 1200}, {Meter: "flat2", W: 800}, {Meter: "utility", W: -1000}}

func (powerMeters) Meters() []protocol.Meter {
	var ms []protocol.Meter
	for _, p := range fixedPower {
		ms = append(ms, driver.EnergyMeter(p.Meter, "test", "fixed", p.Meter, true))
	}
	return ms
}

func (powerMeters) Registers(context.Context) ([]driver.Reading, error) {
	var rs []driver.Reading
	for _, p := range fixedPower {
		rs = append(rs, driver.Reading{Meter: p.Meter, Time: time.Now().UTC()})
	}
	return rs, nil
}

func (powerMeters) Power(context.Context) ([]driver.Power, error) { return fixedPower, nil }

// stepClock is a clock the test moves by hand.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// runGateway runs the real gateway agent on 127.0.0.1 until stop is called.
func runGateway(t *testing.T, drivers ...driver.Driver) (g *gateway.Gateway, addr string, stop func()) {
	return runGatewayTB(t, 20*time.Millisecond, drivers...)
}

func runGatewayTB(t testing.TB, live time.Duration, drivers ...driver.Driver) (g *gateway.Gateway, addr string, stop func()) {
	t.Helper()
	g, err := gateway.New(gateway.Config{
		Dir:          t.TempDir(),
		OpenStore:    func(path string) (store.Store, error) { return bolt.Open(path, nil) },
		Drivers:      drivers,
		LiveInterval: live,
		PollInterval: time.Hour,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx, ln) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done; g.Close() }) }
	t.Cleanup(stop)
	return g, ln.Addr().String(), stop
}

// waitShown reads what the live view drew until ok accepts it.
func waitShown(t *testing.T, ch <-chan liveShown, what string, ok func(liveShown) bool) liveShown {
	t.Helper()
	deadline := time.After(20 * time.Second)
	var last liveShown
	for {
		select {
		case sh := <-ch:
			if ok(sh) {
				return sh
			}
			last = sh
		case <-deadline:
			t.Fatalf("timed out waiting for %s; last drawn %+v", what, last)
		}
	}
}

// The live view follows a pairing made while it is open (no restart),
// shows the building's power by the roles of the site meters, per unit too,
// and when the gateway goes away it says so and stops showing its values
// as current.
func TestLiveFollowsPairingAndGoesOffline(t *testing.T) {
	test.NewTempApp(t)
	st, _ := testStore(t)
	clock := &stepClock{t: time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC)}
	l := NewLive(st, clock)
	l.tick = 0
	shown := make(chan liveShown, 64)
	l.drawn = func(sh liveShown) {
		select {
		case shown <- sh:
		default: // the test reads the latest ones
		}
	}
	test.NewTempWindow(t, l.Content())
	t.Cleanup(l.Stop)
	l.setSite(loadSite(t, st, "birkenweg"))
	sh := waitShown(t, shown, "the hint that no gateway is paired", func(sh liveShown) bool { return sh.Note != "" })
	if sh.Known || !strings.Contains(sh.Note, "No gateway is paired") {
		t.Fatalf("without a pairing: %+v", sh)
	}

	gw, addr, stopGW := runGateway(t, powerMeters{})
	ctx := context.Background()
	p, err := intake.Pair(ctx, addr, "", gw.Code())
	if err != nil {
		t.Fatal(err)
	}
	p.Site = "birkenweg"
	p.Meters = map[string]string{"pv": "PV", "flat1": "M-W01", "flat2": "M-W02", "utility": "GRID"}
	if err := st.Update(func(tx store.Tx) error { return intake.SavePairing(tx, p, clock.Now(), "test") }); err != nil {
		t.Fatal(err)
	}
	sh = waitShown(t, shown, "the new pairing's power", func(sh liveShown) bool { return sh.Known })
	if want := (power{Production: 3000, Consumption: 2000, Grid: -1000}); sh.Power != want {
		t.Errorf("power %+v, want %+v", sh.Power, want)
	}
	if got := strings.Join(sh.Units, "; "); got != "W01: 1.2 kW; W02: 0.8 kW" {
		t.Errorf("units %q", got)
	}
	if len(sh.Gateway) != 1 || sh.Gateway[0] != gw.ID()+": online" || sh.Note != "" {
		t.Errorf("gateway state %q, note %q", sh.Gateway, sh.Note)
	}
	if s, ok := sh.Power.SelfSufficiency(); !ok || s != 1 {
		t.Errorf("self-sufficiency %v %v, want 100 %%", s, ok)
	}

	stopGW()
	// An event the gateway sent just before it stopped can still be read
	// after the clock moved on (a loaded machine): time moves on until the
	// view shows the gateway offline.
	deadline := time.After(20 * time.Second)
	for offline := false; !offline; {
		clock.add(liveStale + time.Second)
		l.poke()
		select {
		case sh = <-shown:
			offline = !sh.Known
		case <-time.After(time.Second):
		case <-deadline:
			t.Fatalf("timed out waiting for the gateway to be shown offline; last drawn %+v", sh)
		}
	}
	if len(sh.Gateway) != 1 || sh.Gateway[0] != gw.ID()+": offline since 11:00" {
		t.Errorf("offline gateway %q, want offline since 11:00 (local time of the last event)", sh.Gateway)
	}
	if !strings.Contains(sh.Note, "No current values") || len(sh.Units) != 0 {
		t.Errorf("offline: note %q, units %q: a stale value must not be shown as current", sh.Note, sh.Units)
	}
}

func TestLiveWithoutGateways(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	l := NewLive(st, clock)
	l.tick = 0
	shown := make(chan liveShown, 4)
	l.drawn = func(sh liveShown) {
		select {
		case shown <- sh:
		default:
		}
	}
	t.Cleanup(l.Stop)
	l.setSite(loadSite(t, st, "birkenweg"))
	sh := <-shown
	l.Stop()
	l.waitStopped()
	if sh.Known || !strings.Contains(sh.Note, "No gateway is paired") || l.flow.pvKW.Text != "–" {
		t.Errorf("without gateways: %+v, PV %q", sh, l.flow.pvKW.Text)
	}
}

func TestKW(t *testing.T) {
	for w, want := range map[float64]string{1234567: "1'234.6", -1000: "-1.0", 49: "0.0", 0: "0.0"} {
		if got := kw(w); got != want {
			t.Errorf("kw(%v) = %q, want %q", w, got, want)
		}
	}
}

// The live view drawn: the power-flow picture with its numbers, the units,
// the gateway's state and today's curves so far.
func TestGoldenLive(t *testing.T) {
	test.NewTempApp(t)
	test.ApplyTheme(t, test.Theme())
	st, _ := testStore(t)
	clock := core.FixedClock(time.Date(2026, 6, 10, 13, 0, 0, 0, time.UTC))
	p := intake.Pairing{GatewayID: "zevgw-cellar", Address: "192.168.1.40:8443", Site: "birkenweg",
		Meters: map[string]string{"pv": "PV", "flat1": "M-W01", "flat2": "M-W02", "utility": "GRID"}}
	if err := st.Update(func(tx store.Tx) error { return intake.SavePairing(tx, p, clock.Now(), "test") }); err != nil {
		t.Fatal(err)
	}
	l := NewLive(st, clock)
	l.tick = 0
	l.follow = func(ctx context.Context, _ intake.Pairing, fn func(protocol.Live)) error {
		fn(protocol.Live{Time: clock.Now(), PowerW: map[string]float64{"pv": -5400, "flat1": 1200, "flat2": 800, "utility": -3400}})
		<-ctx.Done()
		return nil
	}
	shown := make(chan liveShown, 8)
	l.drawn = func(sh liveShown) {
		select {
		case shown <- sh:
		default:
		}
	}
	w := test.NewTempWindow(t, l.Content())
	w.Resize(fyne.NewSize(900, 560))
	t.Cleanup(l.Stop)
	l.setSite(loadSite(t, st, "birkenweg"))
	waitShown(t, shown, "the event", func(sh liveShown) bool { return sh.Known })
	l.Stop()
	l.waitStopped() // no draw races with the reads below
	if got := l.flow.pvKW.Text + " " + l.flow.houseKW.Text + " " + l.flow.gridKW.Text + " " + l.flow.selfText.Text; got != "5.4 kW 2.0 kW 3.4 kW Self-sufficiency 100 %" {
		t.Errorf("flow picture shows %q", got)
	}
	if l.flow.gridDir.Text != "← feeding into the grid" {
		t.Errorf("grid direction %q", l.flow.gridDir.Text)
	}
	assertGolden(t, "live.png", w)
}

// A gateway's state in words an office understands, never a Go error.
func TestLiveStateText(t *testing.T) {
	l := &Live{}
	loc, _ := time.LoadLocation("Europe/Zurich")
	now := time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC)
	start := now.Add(-time.Hour)
	for _, c := range []struct {
		name  string
		s     liveStream
		st    intake.State
		fresh bool
		want  string
	}{
		{"connecting", liveStream{start: now.Add(-time.Second)}, intake.State{}, false, "connecting…"},
		{"no answer", liveStream{start: start}, intake.State{}, false, "offline: no answer since 10:00"},
		{"offline", liveStream{start: start, has: true, at: now.Add(-30 * time.Minute)}, intake.State{}, false, "offline since 10:30"},
		{"offline yesterday", liveStream{start: start, has: true, at: now.Add(-24 * time.Hour)}, intake.State{}, false, "offline since 10.06.2026 11:00"},
		{"online", liveStream{has: true, at: now}, intake.State{}, true, "online"},
		{"catching up", liveStream{has: true, at: now}, intake.State{Behind: 1234}, true, "online, catching up: 1234 readings still to fetch"},
		{"skew", liveStream{has: true, at: now}, intake.State{SkewFlag: true, ClockSkew: 130 * time.Second}, true, "online, its clock is off by 2m10s: check the gateway's time"},
		{"unreachable", liveStream{start: start, err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, intake.State{}, false, "not reachable"},
		{"certificate", liveStream{start: start, err: intake.ErrCertChanged}, intake.State{}, false, "its certificate changed"},
		{"elsewhere", liveStream{start: start, err: &intake.PairedElsewhereError{}}, intake.State{}, false, "paired with another workstation"},
	} {
		if got := l.stateText(&c.s, c.st, c.fresh, now, loc); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
