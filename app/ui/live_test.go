package ui

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

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

// The energy screen follows a paired gateway's live stream and sums its
// meters by the roles of the site meters they are assigned to.
func TestEnergyLivePower(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	g, err := gateway.New(gateway.Config{
		Dir:          t.TempDir(),
		OpenStore:    func(path string) (store.Store, error) { return bolt.Open(path, nil) },
		Drivers:      []driver.Driver{powerMeters{}},
		LiveInterval: 20 * time.Millisecond,
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
	t.Cleanup(func() { cancel(); <-done; g.Close() })
	p, err := intake.Pair(ctx, ln.Addr().String(), g.ID(), g.Code())
	if err != nil {
		t.Fatal(err)
	}
	p.Site = "birkenweg"
	p.Meters = map[string]string{"pv": "PV", "flat1": "M-W01", "flat2": "M-W02", "utility": "GRID"}
	if err := st.Update(func(tx store.Tx) error { return intake.SavePairing(tx, p, clock.Now(), "test") }); err != nil {
		t.Fatal(err)
	}

	e := NewEnergy(st, clock)
	test.NewTempWindow(t, e.Content())
	events := make(chan struct{}, 1)
	// Only the first event is drawn: on the test driver fyne.Do runs on the
	// stream's goroutine, so later events would race with the reads below.
	follow := e.live.follow
	e.live.follow = func(ctx context.Context, p intake.Pairing, fn func(protocol.Live)) error {
		var once sync.Once
		return follow(ctx, p, func(ev protocol.Live) { once.Do(func() { fn(ev) }) })
	}
	e.live.event = func() {
		select {
		case events <- struct{}{}:
		default:
		}
	}
	t.Cleanup(e.Stop)
	e.setSite(loadSite(t, st, "birkenweg"))
	select {
	case <-events:
	case <-time.After(20 * time.Second):
		t.Fatalf("no live event within 20 s; live line %q", e.live.label.Text)
	}
	got := e.live.label.Text
	if want := ": production 3.0 kW, consumption 2.0 kW, grid -1.0 kW"; !strings.HasPrefix(got, "Live ") || !strings.HasSuffix(got, want) {
		t.Errorf("live line %q, want Live HH:MM:SS%s", got, want)
	}
}

func TestLiveWithoutGateways(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	e := NewEnergy(st, clock)
	e.setSite(loadSite(t, st, "birkenweg"))
	if e.live.label.Text != liveText.None {
		t.Errorf("live line %q", e.live.label.Text)
	}
}

func TestKW(t *testing.T) {
	for w, want := range map[float64]string{1234567: "1'234.6", -1000: "-1.0", 49: "0.0", 0: "0.0"} {
		if got := kw(w); got != want {
			t.Errorf("kw(%v) = %q, want %q", w, got, want)
		}
	}
}
