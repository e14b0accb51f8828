package ui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/discover"
	"github.com/zevdesk/zevdesk/ingest/gateway"
	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// firstEvents passes only the first n live events of each stream: on the
// test driver fyne.Do runs on the stream's goroutine, so later draws would
// race with the test's reads.
func firstEvents(n int, follow func(context.Context, intake.Pairing, func(protocol.Live)) error) func(context.Context, intake.Pairing, func(protocol.Live)) error {
	return func(ctx context.Context, p intake.Pairing, fn func(protocol.Live)) error {
		var mu sync.Mutex
		seen := 0
		return follow(ctx, p, func(ev protocol.Live) {
			mu.Lock()
			seen++
			ok := seen <= n
			mu.Unlock()
			if ok {
				fn(ev)
			}
		})
	}
}

// signal returns a hook that signals and a function waiting for it.
func signal(t *testing.T, what string) (func(), func()) {
	ch := make(chan struct{}, 64)
	return func() {
			select {
			case ch <- struct{}{}:
			default:
			}
		}, func() {
			t.Helper()
			select {
			case <-ch:
			case <-time.After(20 * time.Second):
				t.Fatalf("%s did not happen within 20 s", what)
			}
		}
}

func newTestWizard(t *testing.T, st store.Store, clock core.Clock) (*Wizard, fyne.Window) {
	t.Helper()
	w := test.NewTempWindow(t, nil)
	wz := NewWizard(st, clock, w, loadSite(t, st, "birkenweg"))
	w.SetContent(wz.Content())
	w.Resize(fyne.NewSize(900, 600))
	t.Cleanup(wz.Stop)
	return wz, w
}

// The installer's whole setup on Fyne's test driver against a real gateway
// agent on 127.0.0.1: find it, pair it (a wrong code first), see its
// meters' live power, give them roles and units (one unit created on the
// spot), check them; and the wizard resumes where it was left.
func TestWizardSetsUpAGateway(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	gw, addr := startGateway(t, powerMeters{})
	wz, _ := newTestWizard(t, st, clock)
	browse, found := fakeBrowse(discover.Gateway{ID: gw.ID(), Model: "zevgw-1", FW: gateway.FW, Address: addr,
		FP: protocol.FingerprintPrefix(gw.Fingerprint()), API: "1"})
	wz.browse = browse
	hook, wait := waitDone(t)
	wz.done = hook
	powered, waitPower := signal(t, "live power")
	wz.powered = powered
	wz.follow = firstEvents(1, wz.follow)

	// Step 1: the gateway is listed; choosing it fills the address.
	wz.Start()
	<-found
	if wz.step != stepFind || !wz.next.Disabled() || !wz.back.Disabled() {
		t.Fatalf("start: step %d, next disabled %v", wz.step, wz.next.Disabled())
	}
	row := strings.Join([]string{cellText(wz.updateFound, 0, 0), cellText(wz.updateFound, 0, 1), cellText(wz.updateFound, 0, 2), cellText(wz.updateFound, 0, 3)}, " | ")
	if want := gw.ID() + " | zevgw-1 | " + addr + " | not yet"; row != want {
		t.Errorf("found row %q, want %q", row, want)
	}
	wz.found.Select(widgetCell(0, 0))
	if wz.addr.Text != addr || wz.next.Disabled() {
		t.Fatalf("after choosing: address %q, next disabled %v", wz.addr.Text, wz.next.Disabled())
	}
	test.Tap(wz.next)

	// Step 2: a wrong code says so and stores nothing; the right one pairs.
	if wz.step != stepPair || !wz.next.Disabled() || !wz.pairBtn.Disabled() {
		t.Fatalf("pair step: step %d next disabled %v pair disabled %v", wz.step, wz.next.Disabled(), wz.pairBtn.Disabled())
	}
	wrong := "12345678"
	if gw.Code() == wrong {
		wrong = "87654321"
	}
	test.Type(wz.code, wrong)
	test.Tap(wz.pairBtn)
	wait()
	if !strings.HasPrefix(wz.pairMsg.Text, "Wrong code.") || !wz.next.Disabled() {
		t.Errorf("wrong code: message %q, next disabled %v", wz.pairMsg.Text, wz.next.Disabled())
	}
	if n := countPairings(t, st); n != 0 {
		t.Fatalf("a wrong code stored %d pairings", n)
	}
	wz.code.SetText(gw.Code())
	test.Tap(wz.pairBtn)
	wait()
	if want := "Paired with gateway " + gw.ID() + ". Next: its meters."; wz.pairMsg.Text != want || wz.next.Disabled() {
		t.Fatalf("pairing: message %q (want %q), next disabled %v", wz.pairMsg.Text, want, wz.next.Disabled())
	}
	p := loadPairing(t, st, gw.ID())
	if p.Site != "birkenweg" || p.Address != addr {
		t.Errorf("stored pairing %+v", p)
	}

	// Step 3: the meters with their live power.
	test.Tap(wz.next)
	wait()
	waitPower()
	if len(wz.gwMeters) != 4 {
		t.Fatalf("%d meters listed", len(wz.gwMeters))
	}
	var powers []string
	for _, l := range wz.powerLbl {
		powers = append(powers, l.Text)
	}
	if got := strings.Join(powers, " "); got != "-3.0 kW 1.2 kW 0.8 kW -1.0 kW" {
		t.Errorf("live power %q", got)
	}
	if wz.roleSel[0].Selected != "not used" {
		t.Errorf("an unassigned meter's role %q", wz.roleSel[0].Selected)
	}
	// Roles: pv production, flat1 unit W01, flat2 a new unit W03, utility
	// grid. The site's own PV and GRID meters must give way: a site has one
	// grid meter.
	wz.site.Meters = wz.site.Meters[2:]
	showForm = func(_ fyne.Window, _ string, items []*widget.FormItem, fn func(bool)) {
		items[0].Widget.(*widget.Entry).SetText("W03")
		items[1].Widget.(*widget.Entry).SetText("Dachwohnung")
		fn(true)
	}
	t.Cleanup(func() { showForm = func(fyne.Window, string, []*widget.FormItem, func(bool)) {} })
	wz.roleSel[0].SetSelected("solar production")
	wz.roleSel[1].SetSelected("unit (flat, shop)")
	test.Tap(wz.next)
	if wz.step != stepMeters || !strings.Contains(wz.status.Text, "Meter flat1 measures a unit: choose which one.") {
		t.Fatalf("a unit meter without unit: step %d status %q", wz.step, wz.status.Text)
	}
	wz.unitSel[1].SetSelected("W01")
	wz.roleSel[2].SetSelected("unit (flat, shop)")
	wz.unitSel[2].SetSelected("New unit…")
	if wz.unitSel[2].Selected != "W03 – Dachwohnung" {
		t.Fatalf("new unit chosen %q", wz.unitSel[2].Selected)
	}
	wz.roleSel[3].SetSelected("grid connection")
	test.Tap(wz.next)
	wait()
	if wz.step != stepCheck {
		t.Fatalf("after the meters: step %d, status %q", wz.step, wz.status.Text)
	}
	site := loadSite(t, st, "birkenweg")
	var meters []string
	for _, m := range site.Meters {
		meters = append(meters, fmt.Sprintf("%s:%s:%s", m.ID, m.Role, m.Unit))
	}
	if got := strings.Join(meters, " "); got != "M-W01:unit:W01 M-W02:unit:W02 pv:production: flat1:unit:W01 flat2:unit:W03 utility:grid:" {
		t.Errorf("site meters %s", got)
	}
	if u := site.Unit("W03"); u == nil || u.Name != "Dachwohnung" {
		t.Errorf("new unit %+v", u)
	}
	p = loadPairing(t, st, gw.ID())
	if fmt.Sprint(p.Meters) != "map[flat1:flat1 flat2:flat2 pv:pv utility:utility]" || p.Site != "birkenweg" {
		t.Errorf("assignment %v to %q", p.Meters, p.Site)
	}

	// Step 4: the verdict per meter.
	want := "No readings stored yet: while the app is open they arrive within a minute.\n\nflat1: 1.2 kW, plausible.\n\nflat2: 0.8 kW, plausible.\n\npv: -3.0 kW, plausible.\n\nutility: -1.0 kW, plausible."
	if wz.checkLbl.Text != want {
		t.Errorf("check\n%s\nwant\n%s", wz.checkLbl.Text, want)
	}

	// Closed and opened again, it resumes at the check.
	wz.Stop()
	again, _ := newTestWizard(t, st, clock)
	again.follow = firstEvents(0, again.follow)
	again.done = hook
	again.Start()
	if again.step != stepCheck || again.pairing == nil || again.pairing.GatewayID != gw.ID() {
		t.Errorf("reopened at step %d with %v", again.step, again.pairing)
	}
	test.Tap(again.back)
	wait() // the meters are asked for again
	test.Tap(again.back)
	if again.step != stepPair || !strings.Contains(again.pairMsg.Text, "is paired with this workstation") || again.next.Disabled() {
		t.Errorf("back at pairing: step %d, %q, next disabled %v", again.step, again.pairMsg.Text, again.next.Disabled())
	}
}

func countPairings(t *testing.T, st store.Store) int {
	t.Helper()
	var ps []intake.Pairing
	if err := st.View(func(tx store.Tx) (err error) { ps, err = intake.Pairings(tx); return }); err != nil {
		t.Fatal(err)
	}
	return len(ps)
}

func loadPairing(t *testing.T, st store.Store, id string) intake.Pairing {
	t.Helper()
	var p intake.Pairing
	if err := st.View(func(tx store.Tx) (err error) { p, err = intake.LoadPairing(tx, id); return }); err != nil {
		t.Fatal(err)
	}
	return p
}

// Each pairing failure gets a sentence that says what to do.
func TestPairMessage(t *testing.T) {
	timeout := &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("pairing with x: %w", intake.ErrWrongCode), "Wrong code. Check the 8 digits"},
		{fmt.Errorf("pairing with x: %w", &intake.RetryError{Err: intake.ErrRateLimited, After: 90 * time.Second}), "refuses pairing for 2 minutes more"},
		{&intake.RetryError{Err: intake.ErrRateLimited, After: 40 * time.Second}, "refuses pairing for 40 seconds more"},
		{&intake.RetryError{Err: intake.ErrPairingBusy}, "asks to wait a while"},
		{fmt.Errorf("pairing with x: %w", intake.ErrPairingClosed), "run “zevdesk gateway open-pairing”"},
		{fmt.Errorf("pairing with x: %w", intake.ErrCertChanged), "another device may be posing as the gateway"},
		{errImpostor, "another device may be posing as the gateway"},
		{fmt.Errorf("pairing with x: %w", timeout), "Nothing answers at 10.0.0.9:8443"},
		{errors.New("gateway answered 500"), "Pairing failed: gateway answered 500"},
	} {
		if got := pairMessage(c.err, "10.0.0.9:8443"); !strings.Contains(got, c.want) {
			t.Errorf("pairMessage(%v) = %q, want it to contain %q", c.err, got, c.want)
		}
	}
}

// The plausibility check flags swapped registers, impossible power and a
// grid meter that the sub-meters do not add up to.
func TestCheckMeters(t *testing.T) {
	site := &core.Site{ID: "s", Timezone: "Europe/Zurich", Units: []core.Unit{{ID: "W01"}},
		Meters: []core.Meter{{ID: "PV", Role: core.RoleProduction}, {ID: "GRID", Role: core.RoleGrid}, {ID: "W01", Role: core.RoleUnit, Unit: "W01", MaxPowerW: 10_000}}}
	p := &intake.Pairing{Site: "s"}
	for _, c := range []struct {
		name string
		pw   map[string]float64
		want []string
	}{
		{"fine", map[string]float64{"PV": -3000, "W01": 1000, "GRID": -2000}, []string{"GRID ok", "PV ok", "W01 ok"}},
		{"PV swapped", map[string]float64{"PV": 3000, "W01": 1000, "GRID": 4000}, []string{"GRID ok", "PV drawn although it is the solar meter", "W01 ok"}},
		{"consumer swapped", map[string]float64{"PV": -3000, "W01": -1000, "GRID": -4000}, []string{"GRID ok", "PV ok", "W01 fed in although it is a consumer"}},
		{"implausible", map[string]float64{"PV": 0, "W01": 12_000, "GRID": 12_000}, []string{"GRID ok", "PV ok", "W01 more than this meter can carry (10.0 kW)"}},
		{"missing consumer", map[string]float64{"PV": -1000, "W01": 1000, "GRID": 2500}, []string{"GRID ok", "PV ok", "W01 ok", "GRID sub-meters do not add up: the grid meter shows 2.5 kW, production and consumers give 0.0 kW"}},
	} {
		var got []string
		for _, v := range checkMeters(site, p, c.pw) {
			s := v.Meter + " ok"
			if !v.OK {
				s = v.Meter + " " + v.Text
			}
			got = append(got, s)
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
			continue
		}
		for i := range got {
			w := c.want[i]
			if sp := strings.SplitN(w, " ", 2); len(sp) == 2 && sp[1] != "ok" {
				if !strings.HasPrefix(got[i], sp[0]+" ") || !strings.Contains(got[i], sp[1]) {
					t.Errorf("%s: verdict %q, want %q", c.name, got[i], w)
				}
			} else if got[i] != w {
				t.Errorf("%s: verdict %q, want %q", c.name, got[i], w)
			}
		}
	}
}

// The wizard's mDNS tests run inside a private network namespace (see
// ingest/discover's tests): this process re-executes itself under
// `unshare -rn`, with lo up and multicast on.
const uiNetnsEnv = "ZEVDESK_UI_NETNS"

func inUINetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(uiNetnsEnv) == "1" {
		for _, args := range [][]string{{"link", "set", "lo", "up"}, {"link", "set", "lo", "multicast", "on"}} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		return true
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipping: ip (iproute2) not installed")
	}
	if out, err := exec.Command("unshare", "-rn", "true").CombinedOutput(); err != nil {
		t.Skipf("skipping: user and network namespaces unavailable (unshare -rn: %v: %s)", err, strings.TrimSpace(string(out)))
	}
	cmd := exec.Command("unshare", "-rn", os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), uiNetnsEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("namespace child output:\n%s", out)
	if err != nil {
		t.Fatalf("test in network namespace failed: %v", err)
	}
	return false
}

// The wizard finds a gateway by real mDNS, lists it while it announces
// itself and drops it when it goes; then pairs it by the address alone (the
// gateway's certificate and status give its id).
func TestWizardFindsGatewayByMDNS(t *testing.T) {
	if !inUINetns(t) {
		return
	}
	test.NewTempApp(t)
	st, clock := testStore(t)
	gw, addr := startGateway(t, powerMeters{})
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	pn, _ := strconv.Atoi(port)
	adv, err := discover.Advertise(context.Background(), discover.Info{ID: gw.ID(), Model: gw.Model(), FW: gateway.FW, Port: pn,
		FP: protocol.FingerprintPrefix(gw.Fingerprint()), Interfaces: []net.Interface{*lo}})
	if err != nil {
		t.Fatal(err)
	}
	defer adv.Close()

	wz, _ := newTestWizard(t, st, clock)
	lists := make(chan int, 64)
	wz.browse = func(ctx context.Context, fn func([]discover.Gateway)) error {
		opts := discover.BrowseOptions{Interfaces: []net.Interface{*lo}, Window: 300 * time.Millisecond, Interval: 100 * time.Millisecond, Misses: 1}
		return discover.Browse(ctx, opts, func(gws []discover.Gateway) { fn(gws); lists <- len(gws) })
	}
	hook, wait := waitDone(t)
	wz.done = hook
	wz.Start()
	waitList := func(what string, n int) {
		t.Helper()
		deadline := time.After(15 * time.Second)
		for {
			select {
			case got := <-lists:
				if got == n {
					return
				}
			case <-deadline:
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitList("the gateway to be listed", 1)
	wz.stopBrowse() // the table is read below
	if got := cellText(wz.updateFound, 0, 0) + " " + cellText(wz.updateFound, 0, 2); got != gw.ID()+" "+addr {
		t.Errorf("listed %q", got)
	}
	wz.stopBrowse = nil
	wz.startBrowse()
	if err := adv.Close(); err != nil {
		t.Fatal(err)
	}
	waitList("the gateway to leave the list", 0)
	wz.stopBrowse()
	wz.stopBrowse = func() {}

	// By address alone.
	wz.addr.SetText(addr)
	test.Tap(wz.next)
	wz.code.SetText(gw.Code())
	test.Tap(wz.pairBtn)
	wait()
	if p := loadPairing(t, st, gw.ID()); p.Address != addr || p.Site != "birkenweg" {
		t.Errorf("paired by address: %+v (message %q)", p, wz.pairMsg.Text)
	}
}

// A gateway paired with another workstation refuses the wizard's pairing
// (its pairing window is closed); the wizard says how to open it, and
// stores nothing.
func TestWizardGatewayPairedElsewhere(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	gw, addr := startGateway(t)
	if _, err := intake.Pair(context.Background(), addr, "", gw.Code()); err != nil {
		t.Fatal(err) // the other workstation
	}
	wz, _ := newTestWizard(t, st, clock)
	var found <-chan struct{}
	wz.browse, found = fakeBrowse()
	hook, wait := waitDone(t)
	wz.done = hook
	wz.Start()
	<-found
	wz.addr.SetText(addr)
	test.Tap(wz.next)
	wz.code.SetText(gw.Code())
	test.Tap(wz.pairBtn)
	wait()
	if !strings.Contains(wz.pairMsg.Text, "already paired") || !strings.Contains(wz.pairMsg.Text, "zevdesk gateway open-pairing") || !wz.next.Disabled() {
		t.Errorf("message %q, next disabled %v", wz.pairMsg.Text, wz.next.Disabled())
	}
	if n := countPairings(t, st); n != 0 {
		t.Errorf("%d pairings stored", n)
	}
}
