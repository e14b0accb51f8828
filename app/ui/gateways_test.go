package ui

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/discover"
	"github.com/zevdesk/zevdesk/ingest/gateway"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// fakeBrowse is a LAN search that finds gws once and waits for the end. The
// channel is closed after the result was drawn: on the test driver fyne.Do
// runs on the search's goroutine, so tests wait for it before going on.
func fakeBrowse(gws ...discover.Gateway) (func(context.Context, func([]discover.Gateway)) error, <-chan struct{}) {
	drawn := make(chan struct{})
	return func(ctx context.Context, fn func([]discover.Gateway)) error {
		fn(gws)
		close(drawn)
		<-ctx.Done()
		return nil
	}, drawn
}

// startGateway runs the real gateway agent on 127.0.0.1.
func startGateway(t *testing.T, drivers ...driver.Driver) (*gateway.Gateway, string) {
	t.Helper()
	g, err := gateway.New(gateway.Config{
		Dir:          t.TempDir(),
		OpenStore:    func(path string) (store.Store, error) { return bolt.Open(path, nil) },
		Drivers:      drivers,
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
	t.Cleanup(func() {
		cancel()
		<-done
		g.Close()
	})
	return g, ln.Addr().String()
}

func TestGatewaysPair(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	gw, addr := startGateway(t)
	// An older pairing whose intake loop is behind.
	err := st.Update(func(tx store.Tx) error {
		old := intake.Pairing{GatewayID: "zgw-cellar", Address: "192.168.1.20:8443", Site: "birkenweg",
			PairedAt: time.Date(2026, 1, 5, 8, 30, 0, 0, time.UTC)}
		if err := intake.SavePairing(tx, old, old.PairedAt, "test"); err != nil {
			return err
		}
		s, _ := json.Marshal(intake.State{Gateway: "zgw-cellar", LastContact: time.Date(2026, 6, 11, 8, 45, 0, 0, time.UTC), Behind: 12})
		return tx.PutMeta(intake.StateBucket, "zgw-cellar", s)
	})
	if err != nil {
		t.Fatal(err)
	}
	w := test.NewTempWindow(t, nil)
	g := NewGateways(st, clock, w)
	w.SetContent(g.Content())
	w.Resize(fyne.NewSize(1000, 600))
	found := make(chan struct{})
	g.browse = func(ctx context.Context, fn func([]discover.Gateway)) error {
		fn([]discover.Gateway{{ID: gw.ID(), Model: "zevgw-1", FW: gateway.FW, Address: addr,
			FP: protocol.FingerprintPrefix(gw.Fingerprint()), API: "1"}})
		close(found)
		<-ctx.Done()
		return nil
	}
	hook, wait := waitDone(t)
	g.done = hook
	t.Cleanup(g.Stop)
	g.setSite(loadSite(t, st, "birkenweg"))
	<-found

	row := func(r int) string {
		var cells []string
		for c := range pairedColumns() {
			cells = append(cells, cellText(g.updatePaired, r, c))
		}
		return strings.Join(cells, " | ")
	}
	if got, want := row(0), "zgw-cellar | 192.168.1.20:8443 | birkenweg | 05.01.2026 09:30 | 11.06.2026 10:45 | catching up (12 records behind)"; got != want {
		t.Errorf("paired row\n %s\nwant\n %s", got, want)
	}
	if n, _ := g.foundSize(); n != 1 || cellText(g.updateFound, 0, 0) != gw.ID() || cellText(g.updateFound, 0, 4) != "no" {
		t.Fatalf("found %d gateways: %q paired %q", n, cellText(g.updateFound, 0, 0), cellText(g.updateFound, 0, 4))
	}

	// Choosing the found gateway fills the form; Pair waits for 8 digits.
	g.found.Select(widgetCell(0, 0))
	if g.id.Text != gw.ID() || g.addr.Text != addr || !g.pair.Disabled() {
		t.Fatalf("form %q %q, pair disabled %v", g.id.Text, g.addr.Text, g.pair.Disabled())
	}
	test.Type(g.code, "1234 567")
	if !g.pair.Disabled() {
		t.Error("Pair enabled with 7 digits")
	}
	test.Type(g.code, "8")
	if g.pair.Disabled() {
		t.Fatal("Pair disabled with 8 digits")
	}
	wrong := "12345678"
	if gw.Code() == wrong {
		wrong = "87654321"
	}
	g.code.SetText(wrong)
	test.Tap(g.pair)
	wait()
	if !strings.HasPrefix(g.status.Text, "Wrong code.") {
		t.Errorf("wrong code: status %q", g.status.Text)
	}
	if n, _ := g.pairedSize(); n != 1 {
		t.Errorf("a wrong code added a pairing: %d", n)
	}

	g.code.SetText(gw.Code())
	test.Tap(g.pair)
	wait()
	if want := "Gateway " + gw.ID() + " paired with site birkenweg."; g.status.Text != want {
		t.Fatalf("status %q, want %q", g.status.Text, want)
	}
	if n, _ := g.pairedSize(); n != 2 {
		t.Fatalf("%d paired gateways after pairing", n)
	}
	r := 0
	if cellText(g.updatePaired, 0, 0) != gw.ID() {
		r = 1
	}
	if got, want := row(r), gw.ID()+" | "+addr+" | birkenweg | 11.06.2026 11:00 | never | waiting for first contact"; got != want {
		t.Errorf("new pairing row\n %s\nwant\n %s", got, want)
	}
	var p intake.Pairing
	st.View(func(tx store.Tx) (err error) { p, err = intake.LoadPairing(tx, gw.ID()); return })
	if p.Fingerprint != gw.Fingerprint() || p.Token == "" {
		t.Errorf("stored pairing pins %q (gateway %q), token set %v", p.Fingerprint, gw.Fingerprint(), p.Token != "")
	}
	if g.code.Text != "" {
		t.Errorf("the code stays in the form after pairing: %q", g.code.Text)
	}
}

// A gateway whose certificate is not the one announced by mDNS is not
// paired.
func TestGatewaysPairRefusesOtherCertificate(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	gw, addr := startGateway(t)
	g := NewGateways(st, clock, test.NewTempWindow(t, nil))
	ready := make(chan struct{})
	g.browse = func(ctx context.Context, fn func([]discover.Gateway)) error {
		fn([]discover.Gateway{{ID: gw.ID(), Address: addr, FP: "0000000000000000"}})
		close(ready)
		<-ctx.Done()
		return nil
	}
	hook, wait := waitDone(t)
	g.done = hook
	t.Cleanup(g.Stop)
	g.setSite(loadSite(t, st, "birkenweg"))
	<-ready
	g.onFound(0)
	g.code.SetText(gw.Code())
	test.Tap(g.pair)
	wait()
	if !strings.Contains(g.status.Text, "posing as the gateway") {
		t.Errorf("status %q", g.status.Text)
	}
	if n, _ := g.pairedSize(); n != 0 {
		t.Errorf("%d pairings stored", n)
	}
}

// After pairing, the installer assigns each of the gateway's meters to a
// site meter; the pairing stores the mapping.
func TestGatewaysAssignMeters(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	gw, addr := startGateway(t, powerMeters{})
	p, err := intake.Pair(context.Background(), addr, gw.ID(), gw.Code())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Update(func(tx store.Tx) error { return intake.SavePairing(tx, p, clock.Now(), "test") }); err != nil {
		t.Fatal(err)
	}
	g := NewGateways(st, clock, test.NewTempWindow(t, nil))
	var drawn <-chan struct{}
	g.browse, drawn = fakeBrowse()
	hook, wait := waitDone(t)
	g.done = hook
	t.Cleanup(g.Stop)
	g.setSite(loadSite(t, st, "birkenweg"))
	<-drawn
	if got := cellText(g.updatePaired, 0, 2); got != "" {
		t.Fatalf("site of the unassigned gateway %q", got)
	}
	if !g.assign.Disabled() {
		t.Error("Assign enabled before a gateway was chosen")
	}
	g.paired.Select(widgetCell(0, 0))
	wait()
	if g.meterTitle.Text != "Meters of "+gw.ID() || len(g.meterSel) != 4 {
		t.Fatalf("%q with %d meter rows; status %q", g.meterTitle.Text, len(g.meterSel), g.status.Text)
	}
	want := map[string]string{"pv": "PV", "flat1": "M-W01", "flat2": "M-W02", "utility": "GRID"}
	for i, m := range g.gwMeters {
		if g.meterSel[i].Selected != "" {
			t.Errorf("gateway meter %s preselects %q; no site meter has its id", m.ID, g.meterSel[i].Selected)
		}
		g.meterSel[i].SetSelected(want[m.ID])
	}
	test.Tap(g.assign)
	wait()
	if want := "Gateway " + gw.ID() + ": 4 meters assigned to site birkenweg; 0 stored records derived again."; g.status.Text != want {
		t.Errorf("status %q, want %q", g.status.Text, want)
	}
	if got := cellText(g.updatePaired, 0, 2); got != "birkenweg" {
		t.Errorf("site column %q", got)
	}
	var stored intake.Pairing
	st.View(func(tx store.Tx) (err error) { stored, err = intake.LoadPairing(tx, gw.ID()); return })
	if stored.Site != "birkenweg" || len(stored.Meters) != 4 || stored.Meters["utility"] != "GRID" || stored.Meters["pv"] != "PV" {
		t.Errorf("stored pairing: site %q meters %v", stored.Site, stored.Meters)
	}
	// Choosing it again shows the assignment.
	g.paired.Select(widgetCell(0, 1))
	wait()
	for i, m := range g.gwMeters {
		if g.meterSel[i].Selected != want[m.ID] {
			t.Errorf("%s shows %q, want %q", m.ID, g.meterSel[i].Selected, want[m.ID])
		}
	}
}

// A gateway paired with another workstation is shown in words: its row
// says since when, the status line what to do; and pairing a gateway that
// is paired already explains its pairing window instead of a raw error.
func TestGatewaysPairedElsewhere(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	gw, addr := startGateway(t)
	if _, err := intake.Pair(context.Background(), addr, gw.ID(), gw.Code()); err != nil {
		t.Fatal(err) // another workstation paired it
	}
	err := st.Update(func(tx store.Tx) error {
		old := intake.Pairing{GatewayID: "zgw-cellar", Address: "192.168.1.20:8443", Site: "birkenweg",
			PairedAt: time.Date(2026, 1, 5, 8, 30, 0, 0, time.UTC)}
		if err := intake.SavePairing(tx, old, old.PairedAt, "test"); err != nil {
			return err
		}
		s, _ := json.Marshal(intake.State{Gateway: "zgw-cellar", Err: "GET /api/v1/records: gateway zgw-cellar was paired …",
			Rejected: true, PairedElsewhere: time.Date(2026, 6, 10, 7, 15, 0, 0, time.UTC)})
		return tx.PutMeta(intake.StateBucket, "zgw-cellar", s)
	})
	if err != nil {
		t.Fatal(err)
	}
	g := NewGateways(st, clock, test.NewTempWindow(t, nil))
	var drawn <-chan struct{}
	g.browse, drawn = fakeBrowse()
	hook, wait := waitDone(t)
	g.done = hook
	t.Cleanup(g.Stop)
	g.setSite(loadSite(t, st, "birkenweg"))
	<-drawn
	if got, want := cellText(g.updatePaired, 0, 5), "paired with another workstation on 10.06.2026 09:15"; got != want {
		t.Errorf("state column %q, want %q", got, want)
	}
	if want := "Gateway zgw-cellar was paired with another workstation on 10.06.2026 09:15: this workstation no longer receives its data."; !strings.HasPrefix(g.status.Text, want) ||
		!strings.Contains(g.status.Text, "zevdesk gateway open-pairing") {
		t.Errorf("status %q, want it to start %q and name open-pairing", g.status.Text, want)
	}

	g.id.SetText(gw.ID())
	g.addr.SetText(addr)
	g.code.SetText(gw.Code())
	test.Tap(g.pair)
	wait()
	if want := pairingClosedText(gw.ID()); g.status.Text != want {
		t.Errorf("pairing a gateway paired elsewhere: status %q, want %q", g.status.Text, want)
	}
}

// The pairing form needs no gateway id: the address and the code are
// enough, as the user guide says; the gateway's status names it.
func TestGatewaysPairByAddressAlone(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	gw, addr := startGateway(t)
	g := NewGateways(st, clock, test.NewTempWindow(t, nil))
	var drawn <-chan struct{}
	g.browse, drawn = fakeBrowse()
	hook, wait := waitDone(t)
	g.done = hook
	t.Cleanup(g.Stop)
	g.setSite(loadSite(t, st, "birkenweg"))
	<-drawn
	g.addr.SetText(addr)
	g.code.SetText(gw.Code())
	if g.pair.Disabled() {
		t.Fatal("Pair disabled with an address and a code but no id")
	}
	test.Tap(g.pair)
	wait()
	if want := "Gateway " + gw.ID() + " paired with site birkenweg."; g.status.Text != want {
		t.Fatalf("status %q, want %q", g.status.Text, want)
	}
	if p := loadPairing(t, st, gw.ID()); p.Address != addr {
		t.Errorf("stored pairing %+v", p)
	}
}

// TestGatewaysHeadersFit: in every language each header of the paired and
// the found gateways tables fits its column with room to spare, so that no
// header runs into the next (German "Liegenschaft" ran into "Gekoppelt"),
// and a cell's text gets the room it needs up to a limit.
func TestGatewaysHeadersFit(t *testing.T) {
	for _, code := range Languages {
		t.Run(code, func(t *testing.T) {
			test.NewTempApp(t)
			inLanguage(t, code)
			st, clock := testStore(t)
			err := st.Update(func(tx store.Tx) error {
				p := intake.Pairing{GatewayID: "zgw-cellar", Address: "192.168.1.20:8443", Site: "birkenweg",
					PairedAt: time.Date(2026, 1, 5, 8, 30, 0, 0, time.UTC)}
				if err := intake.SavePairing(tx, p, p.PairedAt, "test"); err != nil {
					return err
				}
				s, _ := json.Marshal(intake.State{Gateway: "zgw-cellar", LastContact: time.Date(2026, 6, 11, 8, 45, 0, 0, time.UTC), Behind: 12})
				return tx.PutMeta(intake.StateBucket, "zgw-cellar", s)
			})
			if err != nil {
				t.Fatal(err)
			}
			w := test.NewTempWindow(t, nil)
			g := NewGateways(st, clock, w)
			w.SetContent(g.Content())
			w.Resize(fyne.NewSize(1100, 700))
			var drawn <-chan struct{}
			g.browse, drawn = fakeBrowse(discover.Gateway{ID: "zevgw-2786067d", Model: "zevgw-1", FW: "1.4.2", Address: "192.168.1.41:8443"})
			t.Cleanup(g.Stop)
			g.setSite(loadSite(t, st, "birkenweg"))
			<-drawn
			th := g.paired.Theme()
			pad := 2*th.Size(theme.SizeNameInnerPadding) + th.Size(theme.SizeNamePadding)
			for _, tb := range []struct {
				table   *widget.Table
				headers []string
				update  func(widget.TableCellID, fyne.CanvasObject)
			}{{g.paired, pairedColumns(), g.updatePaired}, {g.found, foundColumns(), g.updateFound}} {
				tb.table.Refresh()
				labels := map[string]*widget.Label{}
				collectLabels(tb.table, labels)
				for col, h := range tb.headers {
					l := labels[h]
					if l == nil || !l.TextStyle.Bold {
						t.Errorf("header %q is not drawn", h)
						continue
					}
					need := fyne.MeasureText(h, th.Size(theme.SizeNameText), l.TextStyle).Width + pad
					if got := l.Size().Width; got < need {
						t.Errorf("header %q: column %.0f px wide, the header needs %.0f", h, got, need)
					}
					text := cellText(tb.update, 0, col)
					if cw := fyne.MeasureText(text, th.Size(theme.SizeNameText), fyne.TextStyle{}).Width + pad; cw <= maxCellWidth && l.Size().Width < cw {
						t.Errorf("column %q: %.0f px wide, its cell %q needs %.0f", h, l.Size().Width, text, cw)
					}
				}
			}
		})
	}
}

// collectLabels finds the labels drawn in o's tree by their text.
func collectLabels(o fyne.CanvasObject, into map[string]*widget.Label) {
	if l, ok := o.(*widget.Label); ok && l.Visible() {
		into[l.Text] = l
	}
	var children []fyne.CanvasObject
	switch c := o.(type) {
	case fyne.Widget:
		children = test.WidgetRenderer(c).Objects()
	case *fyne.Container:
		children = c.Objects
	}
	for _, ch := range children {
		collectLabels(ch, into)
	}
}
