package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// newClientFrom is newClient connecting from the local address ip (any of
// 127.0.0.0/8 works on loopback), to act as another machine on the LAN.
func newClientFrom(t *testing.T, addr, ip string) *client {
	c := newClient(t, addr)
	tr := c.http.Transport.(*http.Transport)
	tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext
	return c
}

// A machine guessing codes locks itself out, not the installer's laptop;
// and the lockout survives a restart of the gateway.
func TestLockoutPerSourceKeptAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	gw := startGateway(t, dir, nil)
	wrong := fmt.Sprintf("%08d", (mustAtoi(gw.Code())+1)%100_000_000)
	attacker := newClientFrom(t, gw.addr, "127.0.0.1")
	for range protocol.LockoutAfter {
		if status, _, _, _ := attacker.pairAttempt(wrong); status != http.StatusForbidden {
			t.Fatalf("wrong code: status %d, want 403", status)
		}
	}
	if status, _, _, resp := attacker.pairAttempt(gw.Code()); status != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("the guesser after 5 wrong codes: status %d, want 429 with Retry-After 60", status)
	}
	installer := newClientFrom(t, gw.addr, "127.0.0.2")
	installer.pair(gw.Code())
	// `zevdesk gateway status` tells the installer who is locked out.
	info, err := ReadInfo(dir, t0)
	if err != nil || len(info.Locked) != 1 || !info.Locked["127.0.0.1"].Equal(t0.Add(time.Minute)) {
		t.Errorf("ReadInfo: lockouts %v, %v; want 127.0.0.1 until %v", info.Locked, err, t0.Add(time.Minute))
	}

	gw.stop()
	gw = startGateway(t, dir, nil) // the same wall time t0: the lockout still runs
	attacker = newClientFrom(t, gw.addr, "127.0.0.1")
	if status, _, _, resp := attacker.pairAttempt(gw.Code()); status != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("the guesser after a gateway restart: status %d Retry-After %q, want 429 and 60", status, resp.Header.Get("Retry-After"))
	}
	// The installer's pairing survived the restart too.
	again := newClient(t, gw.addr)
	again.token = installer.token
	if resp, _ := again.do("GET", protocol.PathStatus, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("installer's token after restart: status %d", resp.StatusCode)
	}
}

func TestGuardGlobalBudget(t *testing.T) {
	var g guard
	now := t0
	// Many sources, each below its own limit, together use up the budget.
	for i := range GlobalLockoutAfter - 1 {
		if d, locked := g.fail(fmt.Sprintf("10.0.%d.%d", i/250, i%250), now); locked {
			t.Fatalf("locked after %d wrong codes from distinct sources (%v)", i+1, d)
		}
	}
	if d, locked := g.fail("10.1.0.1", now); !locked || d != GlobalWindow {
		t.Fatalf("wrong code %d: locked %v for %v, want everyone locked for %v", GlobalLockoutAfter, locked, d, GlobalWindow)
	}
	if d := g.locked("192.168.1.5", now.Add(time.Hour)); d != GlobalWindow-time.Hour {
		t.Errorf("a source that never guessed: locked for %v, want %v", d, GlobalWindow-time.Hour)
	}
	if d := g.locked("192.168.1.5", now.Add(GlobalWindow)); d != 0 {
		t.Errorf("after the window: locked for %v", d)
	}
	if len(g.Sources) > maxSources {
		t.Errorf("%d sources kept, at most %d", len(g.Sources), maxSources)
	}
}

func TestGuardLevelsGrowAndFade(t *testing.T) {
	var g guard
	now := t0
	src := "192.168.1.9"
	var got []time.Duration
	for range 4 {
		for range protocol.LockoutAfter - 1 {
			g.fail(src, now)
		}
		d, _ := g.fail(src, now)
		got = append(got, d)
		now = now.Add(d)
	}
	if want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lockouts %v, want %v", got, want)
	}
	// Quiet for longer than the longest lockout: back to the first level.
	now = now.Add(LockoutMax + time.Minute)
	for range protocol.LockoutAfter - 1 {
		g.fail(src, now)
	}
	if d, _ := g.fail(src, now); d != time.Minute {
		t.Errorf("after a quiet day: lockout %v, want 1m0s", d)
	}
	if sourceKey("[2001:db8:1:2:aaaa::1]:5000") != sourceKey("[2001:db8:1:2:bbbb::7]:6000") || sourceKey("[2001:db8:1:2::1]:1") == sourceKey("[2001:db8:1:3::1]:1") {
		t.Error("IPv6 sources are not grouped by /64")
	}
	if sourceKey("192.0.2.1:4000") != "192.0.2.1" || sourceKey("[::ffff:192.0.2.1]:4000") != "192.0.2.1" {
		t.Error("IPv4 source keys")
	}
}

// Pairing a gateway by the wrong id (the installer typed another box's id
// or address) stops before anything changes on the gateway: the office it
// serves keeps its token.
func TestPairingTheWrongGatewayChangesNothing(t *testing.T) {
	gw := startGateway(t, t.TempDir(), nil)
	office := newClient(t, gw.addr)
	office.pair(gw.Code())

	if _, err := intake.Pair(context.Background(), gw.addr, "zevgw-00000000", gw.Code()); err == nil || !strings.Contains(err.Error(), "nothing changed") {
		t.Fatalf("intake.Pair with another gateway's id: err = %v, want a refusal saying nothing changed", err)
	}
	// A client that skips its own check is refused by the gateway.
	c := newClient(t, gw.addr)
	resp, b := c.do("POST", protocol.PathPairStart, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"gateway":"`+gw.ID()+`"`) {
		t.Fatalf("pair/start: %d %s, want the gateway's id", resp.StatusCode, b)
	}
	var start protocol.PairStartResponse
	mustUnmarshal(t, b, &start)
	req, _, err := protocol.ClientFinish(gw.Code(), protocol.Fingerprint(c.seen), start)
	if err != nil {
		t.Fatal(err)
	}
	req.Gateway = "zevgw-00000000"
	if status, _, _, _ := c.finish(req); status != http.StatusConflict {
		t.Fatalf("pair/finish naming another gateway: status %d, want 409", status)
	}
	if resp, _ := office.do("GET", protocol.PathStatus, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the office's token after a mistaken pairing: status %d, want 200", resp.StatusCode)
	}
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
}
