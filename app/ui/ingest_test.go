package ui

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/gateway"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/intake"
)

// While the window is open, the records of a paired gateway reach the store
// and the gateways table shows the contact.
func TestCollectorIngests(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	gw, err := gateway.New(gateway.Config{
		Dir:          t.TempDir(),
		OpenStore:    func(path string) (store.Store, error) { return bolt.Open(path, nil) },
		Drivers:      []driver.Driver{powerMeters{}},
		Clock:        clock, // the workstation's: no clock skew
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
	go func() { done <- gw.Run(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done; gw.Close() })
	if n, err := gw.Poll(ctx, clock.Now()); err != nil || n != 4 {
		t.Fatalf("gateway poll: %d records, %v", n, err)
	}
	p, err := intake.Pair(ctx, ln.Addr().String(), gw.ID(), gw.Code())
	if err != nil {
		t.Fatal(err)
	}
	p.Site = "birkenweg"
	if err := st.Update(func(tx store.Tx) error { return intake.SavePairing(tx, p, clock.Now(), "test") }); err != nil {
		t.Fatal(err)
	}

	g := NewGateways(st, clock, test.NewTempWindow(t, nil))
	var drawn <-chan struct{}
	g.browse, drawn = fakeBrowse()
	t.Cleanup(g.Stop)
	g.setSite(loadSite(t, st, "birkenweg"))
	<-drawn
	if got := cellText(g.updatePaired, 0, 5); got != "waiting for first contact" {
		t.Errorf("before the loop: state %q", got)
	}
	states := make(chan intake.State, 16)
	c := newCollector(st, clock, func(s intake.State) {
		g.onReload()
		states <- s
	})
	if err := c.Sync(); err != nil {
		t.Fatal(err)
	}
	var s intake.State
	select {
	case s = <-states:
	case <-time.After(20 * time.Second):
		t.Fatal("no intake state within 20 s")
	}
	// Assigning meters changes the pairing: its loop restarts with it.
	old := c.Client(gw.ID())
	if _, err := intake.Assign(st, gw.ID(), "birkenweg", map[string]string{"pv": "PV"}, clock, "test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Sync(); err != nil {
		t.Fatal(err)
	}
	if now := c.Client(gw.ID()); now == nil || now == old {
		t.Error("the loop did not restart with the changed pairing")
	}
	c.Stop()
	if s.Err != "" || s.Cursor != 4 {
		t.Errorf("state %+v, want cursor 4 and no error", s)
	}
	var cursor uint64
	st.View(func(tx store.Tx) (err error) { cursor, err = tx.Cursor(gw.ID()); return })
	if cursor != 4 {
		t.Errorf("stored cursor %d, want 4", cursor)
	}
	if got := cellText(g.updatePaired, 0, 4) + " | " + cellText(g.updatePaired, 0, 5); got != "11.06.2026 11:00 | up to date" {
		t.Errorf("last contact | state: %q", got)
	}
	if c.Client(gw.ID()) != nil {
		t.Error("a loop is left after Stop")
	}
}
