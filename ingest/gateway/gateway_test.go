package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeMeters is a driver with n meters whose registers grow by 1 Wh per
// read and whose power is 100 W per meter.
type fakeMeters struct {
	n     int
	clock core.Clock
	mu    sync.Mutex
	reads int
}

var _ driver.Driver = (*fakeMeters)(nil)
var _ driver.PowerMeter = (*fakeMeters)(nil)

func (f *fakeMeters) Meters() []protocol.Meter {
	var ms []protocol.Meter
	for i := range f.n {
		ms = append(ms, driver.EnergyMeter(fmt.Sprintf("m%d", i+1), "fake", "", "", true))
	}
	return ms
}

func (f *fakeMeters) Registers(context.Context) ([]driver.Reading, error) {
	f.mu.Lock()
	f.reads++
	k := f.reads
	f.mu.Unlock()
	var rs []driver.Reading
	for i := range f.n {
		rs = append(rs, driver.Reading{Meter: fmt.Sprintf("m%d", i+1), Time: f.clock.Now(), Import: core.Energy(k) * core.Wh})
	}
	return rs, nil
}

func (f *fakeMeters) Power(context.Context) ([]driver.Power, error) {
	var ps []driver.Power
	for i := range f.n {
		ps = append(ps, driver.Power{Meter: fmt.Sprintf("m%d", i+1), W: 100})
	}
	return ps, nil
}

func openBolt(path string) (store.Store, error) { return bolt.Open(path, nil) }

type testGW struct {
	*Gateway
	addr   string
	clock  *testClock // gateway clock
	wall   *testClock
	cancel context.CancelFunc
	done   chan error
}

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// startGateway runs a gateway on 127.0.0.1 with real TLS until the test
// ends (or stop is called).
func startGateway(t *testing.T, dir string, mod func(*Config)) *testGW {
	t.Helper()
	clock, wall := &testClock{t: t0}, &testClock{t: t0}
	cfg := Config{
		Dir: dir, OpenStore: openBolt, Clock: clock, Wall: wall,
		Drivers:      []driver.Driver{&fakeMeters{n: 3, clock: clock}},
		LiveInterval: 20 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mod != nil {
		mod(&cfg)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tg := &testGW{Gateway: g, addr: ln.Addr().String(), clock: clock, wall: wall, cancel: cancel, done: make(chan error, 1)}
	go func() { tg.done <- g.Run(ctx, ln) }()
	t.Cleanup(tg.stop)
	return tg
}

func (tg *testGW) stop() {
	if tg.cancel == nil {
		return
	}
	tg.cancel()
	<-tg.done
	tg.Close()
	tg.cancel = nil
}

// client is what a workstation does, reduced to the protocol: it pins
// nothing before pairing and records the certificate it saw.
type client struct {
	t     *testing.T
	addr  string
	http  *http.Client
	seen  *x509.Certificate
	token string
	key   string // the session key of the last pairing attempt
}

func newClient(t *testing.T, addr string) *client {
	c := &client{t: t, addr: addr}
	tr := &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, // trust comes from the pairing proof, then the pin
		VerifyConnection: func(cs tls.ConnectionState) error {
			c.seen = cs.PeerCertificates[0]
			return nil
		},
	}}
	c.http = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	return c
}

func (c *client) do(method, path string, body []byte) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, "https://"+c.addr+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, b
}

// pairAttempt runs both pairing steps with code and returns the finish
// response, its status, and the request sent; c.key is the session key.
func (c *client) pairAttempt(code string) (int, protocol.PairFinishResponse, protocol.PairFinishRequest, *http.Response) {
	c.t.Helper()
	resp, b := c.do("POST", protocol.PathPairStart, nil)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, protocol.PairFinishResponse{}, protocol.PairFinishRequest{}, resp
	}
	var start protocol.PairStartResponse
	if err := json.Unmarshal(b, &start); err != nil {
		c.t.Fatal(err)
	}
	req, key, err := protocol.ClientFinish(code, protocol.Fingerprint(c.seen), start)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Client = "Immo Test AG"
	c.key = key
	return c.finish(req)
}

func (c *client) finish(req protocol.PairFinishRequest) (int, protocol.PairFinishResponse, protocol.PairFinishRequest, *http.Response) {
	body, _ := json.Marshal(req)
	resp, b := c.do("POST", protocol.PathPairFinish, body)
	var fin protocol.PairFinishResponse
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &fin); err != nil {
			c.t.Fatal(err)
		}
	}
	return resp.StatusCode, fin, req, resp
}

// pair pairs with the right code, checks the gateway's proof over the seen
// certificate and keeps the token.
func (c *client) pair(code string) {
	c.t.Helper()
	status, fin, req, _ := c.pairAttempt(code)
	if status != http.StatusOK {
		c.t.Fatalf("pairing: status %d", status)
	}
	if !protocol.VerifyProof(fin.GatewayProof, c.key, protocol.RoleGateway, protocol.Fingerprint(c.seen), req.ClientNonce, req.GatewayNonce) {
		c.t.Fatal("the gateway's proof does not verify")
	}
	c.token = fin.Token
}

func TestPairing(t *testing.T) {
	gw := startGateway(t, t.TempDir(), nil)
	c := newClient(t, gw.addr)
	if resp, _ := c.do("GET", protocol.PathStatus, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status before pairing: %d, want 401", resp.StatusCode)
	}
	c.pair(gw.Code())
	if protocol.Fingerprint(c.seen) != gw.Fingerprint() {
		t.Fatal("client saw another certificate")
	}
	resp, b := c.do("GET", protocol.PathStatus, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status: %d %s", resp.StatusCode, b)
	}
	var st protocol.Status
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if !st.Paired || st.ID != gw.ID() || st.API != 1 || !st.Time.Equal(t0) || st.Client != "Immo Test AG" || st.Meters != 3 || st.RetentionDays != 90 {
		t.Errorf("status %+v", st)
	}
	if len(gw.Code()) != 8 || strings.Trim(gw.Code(), "0123456789") != "" {
		t.Errorf("pairing code %q is not 8 digits", gw.Code())
	}
	// The token is stored hashed only.
	data, err := readFile(gw.cfg.Dir, stateFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(data, c.token) || !strings.Contains(data, tokenHash(c.token)) {
		t.Error("state.json does not keep the token hashed")
	}
}

func TestWrongCodeAndLockout(t *testing.T) {
	gw := startGateway(t, t.TempDir(), nil)
	c := newClient(t, gw.addr)
	wrong := fmt.Sprintf("%08d", (mustAtoi(gw.Code())+1)%100_000_000)
	for i := range protocol.LockoutAfter {
		if status, _, _, _ := c.pairAttempt(wrong); status != http.StatusForbidden {
			t.Fatalf("wrong code %d: status %d, want 403", i+1, status)
		}
	}
	// Locked: even the right code is refused, with Retry-After.
	status, _, _, resp := c.pairAttempt(gw.Code())
	if status != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("after 5 wrong codes: status %d Retry-After %q, want 429 and 60", status, resp.Header.Get("Retry-After"))
	}
	gw.wall.Advance(61 * time.Second)
	// Five more wrong codes: the lockout doubles.
	for range protocol.LockoutAfter {
		if status, _, _, _ := c.pairAttempt(wrong); status != http.StatusForbidden {
			t.Fatalf("status %d, want 403", status)
		}
	}
	status, _, _, resp = c.pairAttempt(gw.Code())
	if status != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "120" {
		t.Fatalf("second lockout: status %d Retry-After %q, want 429 and 120", status, resp.Header.Get("Retry-After"))
	}
	gw.wall.Advance(121 * time.Second)
	c.pair(gw.Code())
}

func TestReplayedProofRefused(t *testing.T) {
	gw := startGateway(t, t.TempDir(), nil)
	c := newClient(t, gw.addr)
	status, _, req, _ := c.pairAttempt(gw.Code())
	if status != http.StatusOK {
		t.Fatal(status)
	}
	// The same message again (an eavesdropper replaying it, even while
	// the pairing window is open): the gateway nonce is spent.
	if _, err := OpenPairingWindow(gw.cfg.Dir, gw.wall.Now()); err != nil {
		t.Fatal(err)
	}
	if status, _, _, _ := c.finish(req); status != http.StatusForbidden {
		t.Fatalf("replayed proof: status %d, want 403", status)
	}
	// An expired nonce is refused too.
	resp, b := c.do("POST", protocol.PathPairStart, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.StatusCode)
	}
	var start protocol.PairStartResponse
	json.Unmarshal(b, &start)
	gw.wall.Advance(NonceTTL + time.Second)
	req, _, err := protocol.ClientFinish(gw.Code(), gw.Fingerprint(), start)
	if err != nil {
		t.Fatal(err)
	}
	if status, _, _, _ := c.finish(req); status != http.StatusForbidden {
		t.Fatalf("expired nonce: status %d, want 403", status)
	}
}

// mitmProxy terminates TLS with its own certificate and relays the plain
// bytes over a second TLS connection to the gateway: a man in the middle on
// the LAN.
func mitmProxy(t *testing.T, target string) string {
	t.Helper()
	other := t.TempDir()
	id, err := loadIdentity(other, time.Now(), true)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{id.cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				out, err := tls.Dial("tcp", target, &tls.Config{InsecureSkipVerify: true})
				if err != nil {
					return
				}
				defer out.Close()
				go io.Copy(out, in)
				io.Copy(in, out)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestManInTheMiddleFails(t *testing.T) {
	gw := startGateway(t, t.TempDir(), nil)
	proxy := mitmProxy(t, gw.addr)
	c := newClient(t, proxy)
	status, _, req, _ := c.pairAttempt(gw.Code())
	if status != http.StatusForbidden {
		t.Fatalf("pairing through a proxy with another certificate: status %d, want 403", status)
	}
	if protocol.Fingerprint(c.seen) == gw.Fingerprint() {
		t.Fatal("the proxy showed the gateway's certificate")
	}
	// The other way round: the gateway's proof, had the proxy relayed one
	// from a pairing of its own with the same nonces, is bound to the
	// gateway's certificate and fails against the one the client sees.
	gwProof := protocol.Proof(c.key, protocol.RoleGateway, gw.Fingerprint(), req.ClientNonce, req.GatewayNonce)
	if protocol.VerifyProof(gwProof, c.key, protocol.RoleGateway, protocol.Fingerprint(c.seen), req.ClientNonce, req.GatewayNonce) {
		t.Fatal("the gateway's proof verified against the proxy's certificate")
	}
	// Directly, the same client pairs.
	direct := newClient(t, gw.addr)
	direct.pair(gw.Code())
}

func TestTokenScope(t *testing.T) {
	a := startGateway(t, t.TempDir(), nil)
	b := startGateway(t, t.TempDir(), nil)
	ca := newClient(t, a.addr)
	ca.pair(a.Code())
	cb := newClient(t, b.addr)
	cb.token = ca.token
	if resp, _ := cb.do("GET", protocol.PathRecords, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token of another gateway: status %d, want 401", resp.StatusCode)
	}
	// Re-pairing (another office, in the window opened at the gateway)
	// invalidates the first token.
	if _, err := OpenPairingWindow(a.cfg.Dir, a.wall.Now()); err != nil {
		t.Fatal(err)
	}
	other := newClient(t, a.addr)
	other.pair(a.Code())
	if resp, _ := ca.do("GET", protocol.PathStatus, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("old token after re-pairing: status %d, want 401", resp.StatusCode)
	}
	if resp, _ := other.do("GET", protocol.PathStatus, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("new token: status %d", resp.StatusCode)
	}
	for _, bad := range []string{"", "Bearer ", "Bearer " + strings.Repeat("0", 64), "Basic abc"} {
		req, _ := http.NewRequest("GET", "https://"+a.addr+protocol.PathStatus, nil)
		req.Header.Set("Authorization", bad)
		resp, err := other.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status %d", bad, resp.StatusCode)
		}
	}
}

func (c *client) records(after uint64, limit int) ([]protocol.Record, protocol.RecordsPage) {
	c.t.Helper()
	path := fmt.Sprintf("%s?after=%d", protocol.PathRecords, after)
	if limit > 0 {
		path += fmt.Sprintf("&limit=%d", limit)
	}
	req, _ := http.NewRequest("GET", "https://"+c.addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		c.t.Fatalf("records: %d %s", resp.StatusCode, b)
	}
	var recs []protocol.Record
	page, err := protocol.ReadRecords(resp.Body, func(r protocol.Record) error { recs = append(recs, r); return nil })
	if err != nil {
		c.t.Fatal(err)
	}
	return recs, page
}

func TestRecordsPagingAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	gw := startGateway(t, dir, nil)
	c := newClient(t, gw.addr)
	c.pair(gw.Code())
	ctx := context.Background()
	for range 4 { // 4 polls × 3 meters
		gw.clock.Advance(15 * time.Minute)
		if _, err := gw.Poll(ctx, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	var got []protocol.Record
	var after uint64
	for {
		recs, page := c.records(after, 5)
		if len(recs) > 5 {
			t.Fatalf("page of %d records, limit 5", len(recs))
		}
		got = append(got, recs...)
		if len(recs) > 0 {
			after = recs[len(recs)-1].Seq
		}
		if !page.More {
			if page.LastSeq != 12 || page.Gateway != gw.ID() || page.OldestSeq != 1 {
				t.Errorf("last page %+v", page)
			}
			break
		}
	}
	if len(got) != 12 {
		t.Fatalf("%d records, want 12", len(got))
	}
	for i, r := range got {
		if r.Seq != uint64(i+1) {
			t.Fatalf("record %d has seq %d: a record was skipped or repeated", i, r.Seq)
		}
	}
	if got[0].Meter != "m1" || !got[0].Time.Equal(t0.Add(15*time.Minute)) || got[11].Import != 4*core.Wh {
		t.Errorf("records %+v ... %+v", got[0], got[11])
	}

	// Restart on the same data directory mid-stream: the token still
	// works and sequence numbers continue.
	gw.stop()
	gw2 := startGateway(t, dir, nil)
	if gw2.ID() != gw.ID() || gw2.Code() != gw.Code() || gw2.Fingerprint() != gw.Fingerprint() {
		t.Fatal("identity changed across a restart")
	}
	gw2.clock.Advance(2 * time.Hour)
	if _, err := gw2.Poll(ctx, time.Time{}); err != nil {
		t.Fatal(err)
	}
	c2 := newClient(t, gw2.addr)
	c2.token = c.token
	recs, page := c2.records(after, 0)
	if len(recs) != 3 || recs[0].Seq != 13 || recs[2].Seq != 15 || page.More || page.LastSeq != 15 {
		t.Fatalf("after restart: %+v, page %+v", recs, page)
	}
}

func TestRecordsLimitCapped(t *testing.T) {
	gw := startGateway(t, t.TempDir(), nil)
	c := newClient(t, gw.addr)
	c.pair(gw.Code())
	rs := make([]driver.Reading, protocol.MaxRecordsLimit+50)
	for i := range rs {
		rs[i] = driver.Reading{Meter: "m1", Time: t0.Add(time.Duration(i) * time.Second), Import: core.Energy(i)}
	}
	if _, err := gw.Buffer().Append(rs); err != nil {
		t.Fatal(err)
	}
	recs, page := c.records(0, 1_000_000)
	if len(recs) != protocol.MaxRecordsLimit || !page.More {
		t.Fatalf("%d records, more=%v; want %d and more", len(recs), page.More, protocol.MaxRecordsLimit)
	}
	recs, page = c.records(recs[len(recs)-1].Seq, 1_000_000)
	if len(recs) != 50 || page.More || recs[49].Seq != uint64(len(rs)) {
		t.Fatalf("second page %d records, more=%v", len(recs), page.More)
	}
}

func TestBadRequests(t *testing.T) {
	gw := startGateway(t, t.TempDir(), nil)
	c := newClient(t, gw.addr)
	for _, tc := range []struct {
		method, path string
		body         string
		want         int
	}{
		{"POST", protocol.PathPairFinish, strings.Repeat("x", protocol.MaxRequestBody+10), http.StatusRequestEntityTooLarge},
		{"POST", protocol.PathPairFinish, `{"client_nonce":` + strings.Repeat(" ", 5000) + `"a"}`, http.StatusRequestEntityTooLarge},
		{"POST", protocol.PathPairFinish, "\x00\xff garbage", http.StatusBadRequest},
		{"POST", protocol.PathPairFinish, `{"client_nonce":"a","gateway_nonce":"b","proof":"c","x":1}`, http.StatusBadRequest},
		{"POST", protocol.PathPairFinish, `{"client_nonce":"zz","gateway_nonce":"b","proof":"c"}`, http.StatusBadRequest},
		{"POST", protocol.PathPairFinish, ``, http.StatusBadRequest},
		{"POST", protocol.PathPairStart, `[1,2,3]`, http.StatusBadRequest},
		{"GET", protocol.PathPairStart, ``, http.StatusMethodNotAllowed},
		{"GET", "/api/v1/nothing", ``, http.StatusNotFound},
	} {
		resp, b := c.do(tc.method, tc.path, []byte(tc.body))
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s %.40q: status %d, want %d (%s)", tc.method, tc.path, tc.body, resp.StatusCode, tc.want, b)
		}
	}
	c.pair(gw.Code())
	for _, q := range []string{"?after=abc", "?after=-1", "?limit=0", "?limit=x", "?after=1&limit=-5"} {
		resp, b := c.do("GET", protocol.PathRecords+q, nil)
		var e protocol.Error
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(b, &e) != nil || e.Error == "" {
			t.Errorf("records%s: status %d %s, want 400 with an error message", q, resp.StatusCode, b)
		}
	}
	// Headers beyond the limit are refused before any handler runs.
	req, _ := http.NewRequest("GET", "https://"+gw.addr+protocol.PathStatus, nil)
	req.Header.Set("X-Big", strings.Repeat("a", 64<<10))
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("oversize header: %d", resp.StatusCode)
	}
	// A plain-HTTP client gets nothing useful from the TLS port.
	plain, err := http.Get("http://" + gw.addr + protocol.PathStatus)
	if err == nil {
		plain.Body.Close()
		if plain.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200")
		}
	}
}

func TestLiveStream(t *testing.T) {
	gw := startGateway(t, t.TempDir(), nil)
	c := newClient(t, gw.addr)
	c.pair(gw.Code())
	req, _ := http.NewRequest("GET", "https://"+gw.addr+protocol.PathLive, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.http.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	events := 0
	var event string
	for events < 3 && sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok {
			var ev protocol.Live
			if err := json.Unmarshal([]byte(v), &ev); err != nil {
				t.Fatal(err)
			}
			if event != protocol.LiveEvent || len(ev.PowerW) != 3 || ev.PowerW["m2"] != 100 || !ev.Time.Equal(t0) {
				t.Fatalf("event %q %+v", event, ev)
			}
			events++
		}
	}
	if events < 3 {
		t.Fatalf("%d events before the stream ended: %v", events, sc.Err())
	}
}

func readFile(dir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	return string(b), err
}

func mustAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

// TestPollLoopOnGrid runs the poll loop on a clock 36000 times faster than
// real time (15 minutes in 25 ms): reads happen on the quarter hours of the
// gateway clock, and each is in the buffer when the loop reports it.
func TestPollLoopOnGrid(t *testing.T) {
	type polled struct {
		at time.Time
		n  int
	}
	ch := make(chan polled, 16)
	start := time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC)
	now := time.Now()
	sc := ScaledClock{Start: start, Origin: now, Speed: 36000}
	gw := startGateway(t, t.TempDir(), func(c *Config) {
		c.Clock = sc
		c.Drivers = []driver.Driver{&fakeMeters{n: 2, clock: sc}}
		c.OnPolled = func(at time.Time, n int, err error) {
			if err == nil {
				select {
				case ch <- polled{at, n}:
				default:
				}
			}
		}
	})
	prev := start
	for i := range 3 {
		select {
		case p := <-ch:
			if !p.at.After(prev) || p.at.Truncate(15*time.Minute) != p.at || p.n != 2 {
				t.Fatalf("poll %d at %s with %d records, want a quarter hour after %s and 2 records", i, p.at, p.n, prev)
			}
			prev = p.at
			if st := gw.Buffer().Stats(); st.LastSeq < uint64(2*(i+1)) {
				t.Fatalf("poll %d reported before its records were buffered: %+v", i, st)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the poll loop did not read")
		}
	}
}
