package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"

	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// errorOf decodes an error response's body.
func errorOf(t *testing.T, b []byte) protocol.Error {
	t.Helper()
	var e protocol.Error
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("decoding error body %s: %v", b, err)
	}
	return e
}

// A second database with the right code once silently took a paired
// gateway. Now a paired gateway accepts a new pairing only in a window
// opened on the gateway itself; a restart does not open it; the pairing
// that uses the window closes it; and the office whose token was replaced
// is told when.
func TestPairedGatewayNeedsItsWindow(t *testing.T) {
	dir := t.TempDir()
	gw := startGateway(t, dir, nil)
	office := newClientFrom(t, gw.addr, "127.0.0.2")
	office.pair(gw.Code()) // unpaired: no window needed

	intruder := newClientFrom(t, gw.addr, "127.0.0.3")
	closed := func(when string) {
		t.Helper()
		resp, b := intruder.do("POST", protocol.PathPairStart, nil)
		if e := errorOf(t, b); resp.StatusCode != http.StatusLocked || e.Code != protocol.ErrorPairingClosed {
			t.Fatalf("%s: /pair/start answered %d %s, want 423 pairing_closed", when, resp.StatusCode, b)
		}
	}
	closed("paired, no window")
	gw.stop()
	gw = startGateway(t, dir, nil) // a power cut must not open it
	intruder = newClientFrom(t, gw.addr, "127.0.0.3")
	closed("after a restart")
	token := office.token
	office = newClientFrom(t, gw.addr, "127.0.0.2")
	office.token = token
	if info, err := ReadInfo(dir, gw.wall.Now()); err != nil || !info.WindowUntil.IsZero() {
		t.Fatalf("ReadInfo after a restart: window until %v, %v; want closed", info.WindowUntil, err)
	}

	// A nonce got while the window is open is refused at finish once the
	// window has closed.
	until, err := OpenPairingWindow(dir, gw.wall.Now())
	if err != nil || !until.Equal(t0.Add(PairingWindow)) {
		t.Fatalf("OpenPairingWindow = %v, %v", until, err)
	}
	if info, err := ReadInfo(dir, gw.wall.Now()); err != nil || !info.WindowUntil.Equal(until) {
		t.Fatalf("ReadInfo with the window open: until %v, %v; want %v", info.WindowUntil, err, until)
	}
	resp, b := intruder.do("POST", protocol.PathPairStart, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/pair/start in the window: %d %s", resp.StatusCode, b)
	}
	var start protocol.PairStartResponse
	mustUnmarshal(t, b, &start)
	gw.wall.Advance(PairingWindow)
	req, _, err := protocol.ClientFinish(gw.Code(), gw.Fingerprint(), start)
	if err != nil {
		t.Fatal(err)
	}
	if status, _, _, resp := intruder.finish(req); status != http.StatusLocked {
		t.Fatalf("/pair/finish after the window closed: %d, want 423", status)
	} else if resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("content type %q", resp.Header.Get("Content-Type"))
	}
	if resp, _ := office.do("GET", protocol.PathStatus, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the office after refused pairings: %d", resp.StatusCode)
	}

	// Opened while the gateway runs, the window lets one pairing through.
	if _, err := OpenPairingWindow(dir, gw.wall.Now()); err != nil {
		t.Fatal(err)
	}
	newOffice := newClientFrom(t, gw.addr, "127.0.0.4")
	newOffice.pair(gw.Code())
	closed("after a pairing used the window")
	if info, _ := ReadInfo(dir, gw.wall.Now()); !info.WindowUntil.IsZero() {
		t.Errorf("ReadInfo after the pairing: window open until %v", info.WindowUntil)
	}
	resp, b = office.do("GET", protocol.PathStatus, nil)
	if e := errorOf(t, b); resp.StatusCode != http.StatusUnauthorized || e.Code != protocol.ErrorTokenReplaced || !e.PairedAt.Equal(gw.wall.Now()) {
		t.Fatalf("the old office's token: %d %s, want 401 token_replaced at %v", resp.StatusCode, b, gw.wall.Now())
	}
	stranger := newClient(t, gw.addr)
	stranger.token = protocol.NewToken()
	if resp, b := stranger.do("GET", protocol.PathStatus, nil); errorOf(t, b).Code != protocol.ErrorUnauthorized || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a token never issued: %d %s, want 401 unauthorized", resp.StatusCode, b)
	}
}

// The workstation's client turns the gateway's answers into errors a person
// can act on: a closed window when pairing, and a token replaced by a
// pairing elsewhere (with its date) when pulling records.
func TestIntakeSeesPairedElsewhere(t *testing.T) {
	gw := startGateway(t, t.TempDir(), nil)
	ctx := context.Background()
	p, err := intake.Pair(ctx, gw.addr, gw.ID(), gw.Code())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := intake.Pair(ctx, gw.addr, gw.ID(), gw.Code()); !errors.Is(err, intake.ErrPairingClosed) {
		t.Fatalf("pairing a paired gateway without its window: %v, want ErrPairingClosed", err)
	}
	if _, err := OpenPairingWindow(gw.cfg.Dir, gw.wall.Now()); err != nil {
		t.Fatal(err)
	}
	gw.wall.Advance(time.Minute)
	if _, err := intake.Pair(ctx, gw.addr, gw.ID(), gw.Code()); err != nil {
		t.Fatalf("pairing in the window: %v", err)
	}
	c := intake.NewClient(nil, p, nil)
	defer c.Close()
	_, err = c.Status(ctx)
	var pe *intake.PairedElsewhereError
	if !errors.As(err, &pe) || !pe.At.Equal(t0.Add(time.Minute)) || !errors.Is(err, intake.ErrUnauthorized) {
		t.Fatalf("the old pairing's status: %v, want a PairedElsewhereError at %v", err, t0.Add(time.Minute))
	}

	// The pull loop keeps it in the state the gateways screen shows.
	st, err := bolt.Open(filepath.Join(t.TempDir(), "office.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := func(time.Duration) <-chan time.Time { cancel(); return make(chan time.Time) }
	rc := intake.NewClient(st, p, &intake.Options{After: stop})
	defer rc.Close()
	var shown intake.State
	if err := rc.Run(rctx, func(s intake.State) { shown = s }); err != nil {
		t.Fatal(err)
	}
	var stored intake.State
	st.View(func(tx store.Tx) (err error) { stored, err = intake.LoadState(tx, gw.ID()); return })
	for _, s := range []intake.State{shown, stored} {
		if !s.Rejected || !s.PairedElsewhere.Equal(t0.Add(time.Minute)) {
			t.Errorf("intake state %+v: want rejected, paired elsewhere at %v", s, t0.Add(time.Minute))
		}
	}
}

// Opening the window clears the lockouts, so that an installer standing at
// the gateway can always pair.
func TestWindowClearsLockouts(t *testing.T) {
	dir := t.TempDir()
	gw := startGateway(t, dir, nil)
	c := newClientFrom(t, gw.addr, "127.0.0.2")
	wrong := fmt.Sprintf("%08d", (mustAtoi(gw.Code())+1)%100_000_000)
	for range protocol.LockoutAfter {
		c.pairAttempt(wrong)
	}
	if status, _, _, _ := c.pairAttempt(gw.Code()); status != http.StatusTooManyRequests {
		t.Fatalf("after 5 wrong codes: %d, want 429", status)
	}
	if _, err := OpenPairingWindow(dir, gw.wall.Now()); err != nil {
		t.Fatal(err)
	}
	// `gateway status` shows it cleared before the gateway saw the window.
	if info, err := ReadInfo(dir, gw.wall.Now()); err != nil || len(info.Locked) != 0 {
		t.Errorf("ReadInfo after opening the window: lockouts %v, %v", info.Locked, err)
	}
	c.pair(gw.Code())
	g, err := loadGuard(dir)
	if err != nil || len(g.Sources) != 0 || !g.WindowApplied.Equal(t0) {
		t.Errorf("the guard on disk: %+v, %v; want no sources and the window applied", g, err)
	}
}
