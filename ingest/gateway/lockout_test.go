package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
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

	gw.stop()
	gw = startGateway(t, dir, nil) // the same wall time t0: the lockout still runs
	attacker = newClientFrom(t, gw.addr, "127.0.0.1")
	if status, _, _, resp := attacker.pairAttempt(gw.Code()); status != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("the guesser after a gateway restart: status %d Retry-After %q, want 429 and 60", status, resp.Header.Get("Retry-After"))
	}
	installer := newClientFrom(t, gw.addr, "127.0.0.2")
	installer.pair(gw.Code())
	// `zevdesk gateway status` tells the installer who is locked out.
	info, err := ReadInfo(dir, t0)
	if err != nil || len(info.Locked) != 1 || !info.Locked["127.0.0.1"].Equal(t0.Add(time.Minute)) {
		t.Errorf("ReadInfo: lockouts %v, %v; want 127.0.0.1 until %v", info.Locked, err, t0.Add(time.Minute))
	}

	// The installer's pairing survives a restart too.
	gw.stop()
	gw = startGateway(t, dir, nil)
	again := newClient(t, gw.addr)
	again.token = installer.token
	if resp, _ := again.do("GET", protocol.PathStatus, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("installer's token after restart: status %d", resp.StatusCode)
	}
}

// The global throttle slows guessing from many sources to GlobalBurst
// codes, then one per GlobalRefill, without locking anyone out for long.
func TestGuardGlobalThrottle(t *testing.T) {
	var g guard
	now := t0
	// Many sources, each below its own limit, together empty the bucket.
	for i := range GlobalBurst {
		if d := g.throttled(now); d != 0 {
			t.Fatalf("throttled for %v after %d wrong codes from distinct sources", d, i)
		}
		if d, locked := g.fail(fmt.Sprintf("10.0.%d.%d", i/250, i%250), now); locked {
			t.Fatalf("a source locked after its first wrong code (%v)", d)
		}
	}
	if d := g.throttled(now); d != GlobalRefill {
		t.Fatalf("after %d wrong codes: throttled for %v, want %v", GlobalBurst, d, GlobalRefill)
	}
	if d := g.throttled(now.Add(GlobalRefill / 2)); d != GlobalRefill/2 {
		t.Errorf("half a refill later: throttled for %v, want %v", d, GlobalRefill/2)
	}
	// One code per refill after that: at most GlobalBurst + 1440 a day.
	n := 0
	for at := now; !at.After(now.Add(24 * time.Hour)); at = at.Add(time.Second) {
		if g.throttled(at) == 0 {
			g.fail("10.9.9.9", at)
			n++
		}
	}
	if want := int(24 * time.Hour / GlobalRefill); n != want {
		t.Errorf("%d codes tested in the day after the burst, want %d", n, want)
	}
	g.clearLockouts()
	if d := g.throttled(now.Add(24 * time.Hour)); d != 0 || len(g.Sources) != 0 {
		t.Errorf("after clearing: throttled %v, %d sources kept", d, len(g.Sources))
	}
}

// 200 wrong codes from 40 addresses within a second once locked pairing for
// everybody for 24 hours (Retry-After 86399). Now the installer waits a
// minute at most, and pairs.
func TestManyAddressesCannotBlockTheInstaller(t *testing.T) {
	gw := startGateway(t, t.TempDir(), nil)
	wrong := fmt.Sprintf("%08d", (mustAtoi(gw.Code())+1)%100_000_000)
	for i := range 40 {
		c := newClientFrom(t, gw.addr, fmt.Sprintf("127.0.1.%d", i+1))
		for range protocol.LockoutAfter {
			gw.wall.Advance(PairStartGlobalEvery) // under the /pair/start rate
			if status, _, _, resp := c.pairAttempt(wrong); status != http.StatusForbidden && status != http.StatusTooManyRequests {
				t.Fatalf("wrong code from %d: status %d", i, status)
			} else if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra > int(LockoutBase/time.Second) {
				t.Fatalf("wrong code from %d: Retry-After %d", i, ra)
			}
		}
		c.http.CloseIdleConnections()
	}
	installer := newClientFrom(t, gw.addr, "127.0.0.2")
	status, _, _, resp := installer.pairAttempt(gw.Code())
	ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	if status != http.StatusTooManyRequests || ra < 1 || ra > int(GlobalRefill/time.Second) {
		t.Fatalf("the installer after the flood: status %d Retry-After %q, want 429 and at most %v", status, resp.Header.Get("Retry-After"), GlobalRefill)
	}
	gw.wall.Advance(time.Duration(ra) * time.Second)
	installer.pair(gw.Code())
}

// One source asking /pair/start in a loop is answered 429 with Retry-After
// after its burst; another source still starts a pairing.
func TestPairStartRateLimited(t *testing.T) {
	gw := startGateway(t, t.TempDir(), nil)
	flood := newClientFrom(t, gw.addr, "127.0.0.3")
	ok := 0
	var resp *http.Response
	for range 3 * PairStartBurst {
		if resp, _ = flood.do("POST", protocol.PathPairStart, nil); resp.StatusCode != http.StatusOK {
			break
		}
		ok++
	}
	if ok != PairStartBurst || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != strconv.Itoa(int(PairStartEvery/time.Second)) {
		t.Fatalf("%d starts answered, then %d Retry-After %q; want %d, then 429 and %v", ok, resp.StatusCode, resp.Header.Get("Retry-After"), PairStartBurst, PairStartEvery)
	}
	if resp, b := newClientFrom(t, gw.addr, "127.0.0.4").do("POST", protocol.PathPairStart, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("another source: %d %s", resp.StatusCode, b)
	}
	gw.wall.Advance(PairStartEvery)
	if resp, _ := flood.do("POST", protocol.PathPairStart, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the flooding source after its wait: %d", resp.StatusCode)
	}

	// From everywhere together: PairStartGlobalBurst, then one every
	// PairStartGlobalEvery.
	var l rateLimiter
	l.perSource = rate{burst: PairStartBurst, every: PairStartEvery}
	l.total = rate{burst: PairStartGlobalBurst, every: PairStartGlobalEvery}
	n := 0
	for i := range 2 * PairStartGlobalBurst {
		if l.allow(fmt.Sprintf("10.0.%d.%d", i/200, i%200), t0) == 0 {
			n++
		}
	}
	if d := l.allow("10.9.9.9", t0); n != PairStartGlobalBurst || d != PairStartGlobalEvery {
		t.Errorf("%d starts from distinct sources, then wait %v; want %d and %v", n, d, PairStartGlobalBurst, PairStartGlobalEvery)
	}
}

// Another host asking /pair/start again and again cannot push out the
// installer's pending pairing (the table once held 32 nonces for all).
func TestPendingNoncesPerSource(t *testing.T) {
	gw := startGateway(t, t.TempDir(), nil)
	installer := newClientFrom(t, gw.addr, "127.0.0.2")
	resp, b := installer.do("POST", protocol.PathPairStart, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("installer's start: %d", resp.StatusCode)
	}
	var start protocol.PairStartResponse
	mustUnmarshal(t, b, &start)
	other := newClientFrom(t, gw.addr, "127.0.0.3")
	for i := range 40 {
		gw.wall.Advance(PairStartEvery) // within its rate, and well within NonceTTL in all
		if resp, _ := other.do("POST", protocol.PathPairStart, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("start %d from the other host: %d", i, resp.StatusCode)
		}
	}
	req, key, err := protocol.ClientFinish(gw.Code(), protocol.Fingerprint(installer.seen), start)
	if err != nil {
		t.Fatal(err)
	}
	status, fin, _, _ := installer.finish(req)
	if status != http.StatusOK || !protocol.VerifyProof(fin.GatewayProof, key, protocol.RoleGateway, gw.Fingerprint(), req.ClientNonce, req.GatewayNonce) {
		t.Fatalf("the installer's finish after 40 starts elsewhere: status %d, want 200", status)
	}
	gw.mu.Lock()
	n := len(gw.pr.nonces)
	gw.mu.Unlock()
	if n != maxNoncesPerSource {
		t.Errorf("%d nonces pending, want the other host's %d", n, maxNoncesPerSource)
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
	// Link-local addresses carry a zone: it must not make each address a
	// source of its own.
	if k := sourceKey("[fe80::1%eth0]:5000"); k != "fe80::/64" || sourceKey("[fe80::2:3%wlan0]:1") != k {
		t.Errorf("link-local source keys %q and %q, want both fe80::/64", k, sourceKey("[fe80::2:3%wlan0]:1"))
	}
}

// Pairing a gateway by the wrong id (the installer typed another box's id
// or address) stops before anything changes on the gateway: the office it
// serves keeps its token.
func TestPairingTheWrongGatewayChangesNothing(t *testing.T) {
	gw := startGateway(t, t.TempDir(), nil)
	office := newClient(t, gw.addr)
	office.pair(gw.Code())
	// The installer opened the window at the gateway to pair it again,
	// then types the wrong box's id at the workstation.
	if _, err := OpenPairingWindow(gw.cfg.Dir, gw.wall.Now()); err != nil {
		t.Fatal(err)
	}

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
