package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/discover"
	"github.com/zevdesk/zevdesk/ingest/gateway"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver/simulator"
	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/protocol"
	"github.com/zevdesk/zevdesk/ingest/sim"
)

// gwTest is a real gateway agent (ingest/gateway) with a simulated building
// and two days of history, serving on 127.0.0.1.
type gwTest struct {
	g    *gateway.Gateway
	b    *sim.Building
	addr string
	dir  string // the gateway's data directory
}

func startTestGateway(t *testing.T) *gwTest {
	t.Helper()
	// The gateway clock stands still at the start of the test, so that it
	// adds no reading while the test runs; it is close enough to ours for
	// no clock-skew warning.
	now := time.Now().UTC()
	clock := core.FixedClock(now)
	b := sim.New(sim.Config{Seed: 7, Units: 2, PVkWp: 10})
	dir := t.TempDir()
	g, err := gateway.New(gateway.Config{
		Dir:       dir,
		OpenStore: func(p string) (store.Store, error) { return bolt.Open(p, nil) },
		Drivers:   []driver.Driver{simulator.New(b, clock)},
		Clock:     clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.FillHistory(now.Add(-48*time.Hour), now); err != nil {
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
		if err := <-done; err != nil {
			t.Errorf("gateway: %v", err)
		}
		g.Close()
	})
	return &gwTest{g: g, b: b, addr: ln.Addr().String(), dir: dir}
}

// officeDB creates a database holding the simulated building's site.
func officeDB(t *testing.T, b *sim.Building) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "office.db")
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Update(func(tx store.Tx) error { return tx.PutSite(b.Site("birke")) }); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPairCommand(t *testing.T) {
	gw := startTestGateway(t)
	db := officeDB(t, gw.b)

	code, out, errs := run(t, db, "pair", "--gateway", gw.g.ID(), "--code", gw.g.Code(), "--address", gw.addr, "--site", "birke")
	if code != 0 {
		t.Fatalf("pair: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "paired with gateway "+gw.g.ID()+" at "+gw.addr+" (certificate "+gw.g.Fingerprint()+")") {
		t.Errorf("pair output: %q", out)
	}
	if !gw.g.Paired() {
		t.Error("the gateway does not consider itself paired")
	}
	st := openStore(t, db)
	err := st.View(func(tx store.Tx) error {
		p, err := intake.LoadPairing(tx, gw.g.ID())
		if err != nil {
			return err
		}
		if p.Fingerprint != gw.g.Fingerprint() || p.Site != "birke" || p.Address != gw.addr || !protocol.ValidToken(p.Token) {
			t.Errorf("stored pairing %+v", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPairCommandErrors(t *testing.T) {
	gw := startTestGateway(t)
	db := officeDB(t, gw.b)
	wrong := "00000000"
	if gw.g.Code() == wrong {
		wrong = "11111111"
	}
	tests := []struct {
		args []string
		exit int
		want string
	}{
		{[]string{"--gateway", gw.g.ID(), "--code", wrong, "--address", gw.addr}, 1, "wrong pairing code"},
		{[]string{"--gateway", "GW-NOPE", "--code", gw.g.Code(), "--address", gw.addr}, 1, "not \"GW-NOPE\""},
		{[]string{"--gateway", gw.g.ID(), "--code", gw.g.Code(), "--address", gw.addr, "--site", "nope"}, 1, "--site nope: no such site"},
		{[]string{"--gateway", gw.g.ID(), "--code", "1234"}, 1, "expected 8 digits"},
		{[]string{"--code", "12345678"}, 1, "--gateway ID is required"},
	}
	for _, tt := range tests {
		code, _, errs := run(t, db, append([]string{"pair"}, tt.args...)...)
		if code != tt.exit || !strings.Contains(errs, tt.want) {
			t.Errorf("pair %v: exit %d, stderr %q; want exit %d mentioning %q", tt.args, code, errs, tt.exit, tt.want)
		}
	}
	st := openStore(t, db)
	_ = st.View(func(tx store.Tx) error {
		if ps, _ := intake.Pairings(tx); len(ps) != 0 {
			t.Errorf("failed pairings stored: %+v", ps)
		}
		return nil
	})
}

// lineWriter is a concurrency-safe output buffer that calls onLine for
// every complete line.
type lineWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	part   []byte
	onLine func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	w.part = append(w.part, p...)
	var lines []string
	for {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, string(w.part[:i]))
		w.part = w.part[i+1:]
	}
	w.mu.Unlock()
	for _, l := range lines {
		w.onLine(l)
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestServe: `zevdesk serve` ingests everything a paired gateway buffered,
// then stops cleanly on SIGINT.
func TestServe(t *testing.T) {
	needInterrupt(t)
	gw := startTestGateway(t)
	db := officeDB(t, gw.b)
	if code, _, errs := run(t, db, "serve"); code != 1 || !strings.Contains(errs, "no paired gateway") {
		t.Fatalf("serve without pairings: exit %d, %q", code, errs)
	}
	if code, _, errs := run(t, db, "pair", "--gateway", gw.g.ID(), "--code", gw.g.Code(), "--address", gw.addr, "--site", "birke"); code != 0 {
		t.Fatalf("pair: %s", errs)
	}
	last := gw.g.Status().LastSeq
	var once sync.Once
	out := &lineWriter{onLine: func(l string) {
		if strings.Contains(l, "caught up at record "+strconv.FormatUint(last, 10)) {
			// What a person does at the terminal: Ctrl-C.
			once.Do(func() { interruptSelf(t) })
		}
	}}
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		_, code := Main([]string{"--db", db, "serve", "--web", "127.0.0.1:0", "--no-mdns"}, out, &errb)
		done <- code
	}()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve: exit %d: %s\n%s", code, errb.String(), out)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not catch up and stop; output so far:\n%s", out)
	}
	if !strings.Contains(out.String(), "stopped") || !strings.Contains(out.String(), "resident view at http://127.0.0.1:") {
		t.Errorf("serve output:\n%s\nstderr:\n%s", out, errb.String())
	}

	st := openStore(t, db)
	err := st.View(func(tx store.Tx) error {
		cur, err := tx.Cursor(gw.g.ID())
		if err != nil {
			return err
		}
		if cur != last {
			t.Errorf("cursor %d, want %d", cur, last)
		}
		var next uint64 = 1
		if err := tx.ScanRecords(gw.g.ID(), 0, func(r store.Record) bool {
			if r.Seq != next {
				t.Errorf("record %d where %d was expected", r.Seq, next)
				return false
			}
			next++
			return true
		}); err != nil {
			return err
		}
		if next-1 != last {
			t.Errorf("stored records 1..%d, want 1..%d", next-1, last)
		}
		// Each simulated meter's registers arrived in the site.
		for _, m := range gw.b.Meters() {
			n := 0
			if err := tx.ScanRegisters("birke", m.ID, time.Time{}, time.Now().Add(time.Hour), func(store.Register) bool { n++; return true }); err != nil {
				return err
			}
			if n != 2*96 {
				t.Errorf("meter %s: %d register readings, want %d", m.ID, n, 2*96)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestServePairedBeside: a gateway paired with `zevdesk pair` while serve
// runs (the command runs inside serve, on its open database) is ingested at
// once, without restarting serve.
func TestServePairedBeside(t *testing.T) {
	needInterrupt(t)
	gw := startTestGateway(t)
	db := officeDB(t, gw.b)
	last := gw.g.Status().LastSeq
	ready := make(chan struct{})
	var readyOnce, stopOnce sync.Once
	out := &lineWriter{onLine: func(l string) {
		if strings.HasPrefix(l, "resident view at ") {
			readyOnce.Do(func() { close(ready) })
		}
		if strings.Contains(l, "gateway "+gw.g.ID()+": caught up at record "+strconv.FormatUint(last, 10)) {
			stopOnce.Do(func() { interruptSelf(t) })
		}
	}}
	var errb syncBuffer
	done := make(chan int, 1)
	go func() {
		// No pairing yet: serve runs for the resident view alone.
		_, code := Main([]string{"--db", db, "serve", "--web", "127.0.0.1:0", "--no-mdns"}, out, &errb)
		done <- code
	}()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("serve stopped at once: exit %d: %s", code, errb.String())
	}
	if code, _, errs := run(t, db, "pair", "--gateway", gw.g.ID(), "--code", gw.g.Code(), "--address", gw.addr, "--site", "birke"); code != 0 {
		t.Fatalf("pair beside serve: %s", errs)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve: exit %d: %s\n%s", code, errb.String(), out)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not ingest the gateway paired beside it; output so far:\n%s", out)
	}
	if !strings.Contains(out.String(), "gateway "+gw.g.ID()+" at "+gw.addr+": ingesting") {
		t.Errorf("serve output:\n%s", out)
	}
}

// The mDNS tests run inside a private network namespace (see
// ingest/discover's tests): this process re-executes itself under
// `unshare -rn`.
const cliNetnsEnv = "ZEVDESK_CLI_NETNS"

func inNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(cliNetnsEnv) == "1" {
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
		t.Skipf("skipping: user and network namespaces unavailable (unshare -rn: %v: %s)", err, bytes.TrimSpace(out))
	}
	cmd := exec.Command("unshare", "-rn", os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), cliNetnsEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("namespace child output:\n%s", out)
	if err != nil {
		t.Fatalf("test in network namespace failed: %v", err)
	}
	return false
}

// TestGatewaysAndPairByMDNS: `zevdesk gateways` lists a gateway announced on
// the (namespaced) LAN, and `zevdesk pair` finds it without --address.
func TestGatewaysAndPairByMDNS(t *testing.T) {
	if !inNetns(t) {
		return
	}
	gw := startTestGateway(t)
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(gw.addr)
	p, _ := strconv.Atoi(port)
	adv, err := discover.Advertise(context.Background(), discover.Info{ID: gw.g.ID(), Model: gw.g.Model(), FW: gateway.FW, Port: p,
		FP: protocol.FingerprintPrefix(gw.g.Fingerprint()), Interfaces: []net.Interface{*lo}})
	if err != nil {
		t.Fatal(err)
	}
	defer adv.Close()

	defer func(w time.Duration) { pairFindWait = w }(pairFindWait)
	pairFindWait = time.Second

	db := officeDB(t, gw.b)
	code, out, errs := run(t, db, "gateways", "--json", "--wait", "1500ms")
	if code != 0 {
		t.Fatalf("gateways: exit %d: %s", code, errs)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("gateways --json: %v\n%s", err, out)
	}
	if len(list) != 1 || list[0]["id"] != gw.g.ID() || list[0]["model"] != gw.g.Model() || list[0]["address"] != gw.addr || list[0]["paired"] != false {
		t.Fatalf("gateways --json = %s", out)
	}

	code, out, errs = run(t, db, "pair", "--gateway", gw.g.ID(), "--code", gw.g.Code())
	if code != 0 || !strings.Contains(out, "at "+gw.addr) || !strings.Contains(out, "site birke") {
		t.Fatalf("pair by mDNS: exit %d, %q, %q", code, out, errs)
	}
	code, _, errs = run(t, db, "pair", "--gateway", "GW-ABSENT", "--code", "12345678")
	if code != 1 || !strings.Contains(errs, "did not answer on the LAN") {
		t.Errorf("pair with an absent gateway: exit %d, %q", code, errs)
	}

	code, out, _ = run(t, db, "gateways", "--wait", "1s")
	if code != 0 || !strings.Contains(out, gw.g.ID()) || !strings.Contains(out, "ADDRESS") {
		t.Errorf("gateways table:\n%s", out)
	}
}

// TestServeFollowsMovedGateway: the stored address of a paired gateway is
// stale (a new DHCP lease); `zevdesk serve` finds it by mDNS at its new
// address, checks the announced fingerprint against the pin, and ingests.
func TestServeFollowsMovedGateway(t *testing.T) {
	needInterrupt(t)
	if !inNetns(t) {
		return
	}
	gw := startTestGateway(t)
	db := officeDB(t, gw.b)
	if code, _, errs := run(t, db, "pair", "--gateway", gw.g.ID(), "--code", gw.g.Code(), "--address", gw.addr, "--site", "birke"); code != 0 {
		t.Fatalf("pair: %s", errs)
	}
	// The gateway "moves": the stored address now leads nowhere.
	stale := "127.0.0.1:1"
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx store.Tx) error {
		p, err := intake.LoadPairing(tx, gw.g.ID())
		if err != nil {
			return err
		}
		p.Address = stale
		return intake.SavePairing(tx, p, time.Now(), "test")
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	lo, _ := net.InterfaceByName("lo")
	_, port, _ := net.SplitHostPort(gw.addr)
	pn, _ := strconv.Atoi(port)
	adv, err := discover.Advertise(context.Background(), discover.Info{ID: gw.g.ID(), Model: gw.g.Model(), FW: gateway.FW, Port: pn,
		FP: protocol.FingerprintPrefix(gw.g.Fingerprint()), Paired: true, Interfaces: []net.Interface{*lo}})
	if err != nil {
		t.Fatal(err)
	}
	defer adv.Close()

	defer func(o intake.Options) { serveOptions = o }(serveOptions)
	serveOptions = intake.Options{Poll: 30 * time.Second, MinBackoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond}
	last := gw.g.Status().LastSeq
	var once sync.Once
	out := &lineWriter{onLine: func(l string) {
		if strings.Contains(l, "caught up at record "+strconv.FormatUint(last, 10)) {
			once.Do(func() { interruptSelf(t) })
		}
	}}
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		_, code := Main([]string{"--db", db, "serve"}, out, &errb)
		done <- code
	}()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve: exit %d: %s\n%s", code, errb.String(), out)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not find the moved gateway; output so far:\n%s", out)
	}
	if !strings.Contains(out.String(), "now at "+gw.addr) {
		t.Errorf("serve output does not report the move:\n%s", out)
	}
	st2 := openStore(t, db)
	_ = st2.View(func(tx store.Tx) error {
		p, err := intake.LoadPairing(tx, gw.g.ID())
		if err != nil || p.Address != gw.addr {
			t.Errorf("stored pairing after the move: %+v, %v", p, err)
		}
		if cur, _ := tx.Cursor(gw.g.ID()); cur != last {
			t.Errorf("cursor %d, want %d", cur, last)
		}
		return nil
	})
}

// TestPairLaterAssignsSite: a gateway paired without a site (the office had
// none yet) keeps its records raw; pairing again with --site derives them.
func TestPairLaterAssignsSite(t *testing.T) {
	gw := startTestGateway(t)
	db := filepath.Join(t.TempDir(), "office.db")
	code, out, errs := run(t, db, "pair", "--gateway", gw.g.ID(), "--code", gw.g.Code(), "--address", gw.addr)
	if code != 0 || !strings.Contains(out, "not assigned to a site yet") {
		t.Fatalf("pair without a site: exit %d, %q, %q", code, out, errs)
	}
	n := catchUpUnassigned(t, db, gw)
	// The gateway is paired now: pairing it again takes its pairing window,
	// opened on the gateway.
	code, _, errs = run(t, db, "pair", "--gateway", gw.g.ID(), "--code", gw.g.Code(), "--address", gw.addr, "--site", "birke")
	if code != 1 || !strings.Contains(errs, "gateway open-pairing") {
		t.Fatalf("pair again without the window: exit %d, %q; want a refusal naming open-pairing", code, errs)
	}
	if code, _, errs := run(t, db, "gateway", "open-pairing", "--data", gw.dir); code != 0 {
		t.Fatalf("gateway open-pairing: exit %d, %q", code, errs)
	}
	code, out, errs = run(t, db, "pair", "--gateway", gw.g.ID(), "--code", gw.g.Code(), "--address", gw.addr, "--site", "birke")
	if code != 0 || !strings.Contains(out, "derived "+strconv.Itoa(n)+" stored records for site birke") {
		t.Fatalf("pair with --site: exit %d, %q, %q", code, out, errs)
	}
	st2 := openStore(t, db)
	_ = st2.View(func(tx store.Tx) error {
		m := gw.b.Meters()[0].ID
		k := 0
		_ = tx.ScanRegisters("birke", m, time.Time{}, time.Now().Add(time.Hour), func(store.Register) bool { k++; return true })
		if k != 2*96 {
			t.Errorf("meter %s: %d readings after assignment, want %d", m, k, 2*96)
		}
		return nil
	})
}

// TestServeKeepsAWorkingAddress: an mDNS announcement of a paired gateway at
// another address (a second address of the gateway, or someone on the LAN
// announcing its id) does not move a client that reaches the gateway; once
// the client fails, it moves there, and the move is stored.
func TestServeKeepsAWorkingAddress(t *testing.T) {
	gw := startTestGateway(t)
	db := officeDB(t, gw.b)
	if code, _, errs := run(t, db, "pair", "--gateway", gw.g.ID(), "--code", gw.g.Code(), "--address", gw.addr); code != 0 {
		t.Fatalf("pair: %s", errs)
	}
	st := openStore(t, db)
	var p intake.Pairing
	if err := st.View(func(tx store.Tx) (err error) { p, err = intake.LoadPairing(tx, gw.g.ID()); return err }); err != nil {
		t.Fatal(err)
	}
	coll := intake.NewCollector(st, &intake.Options{Poll: time.Hour})
	if err := coll.Sync(); err != nil {
		t.Fatal(err)
	}
	defer coll.Stop()
	c := coll.Client(p.GatewayID)
	var said []string
	env := &Env{Clock: core.SystemClock{}}
	m := &mover{st: st, env: env, say: func(f string, a ...any) { said = append(said, f) }, coll: coll,
		live: map[string]*intake.Client{}, pin: map[string]string{p.GatewayID: p.Fingerprint}, seen: map[string]string{}}
	elsewhere := "127.0.0.1:9"
	fp := protocol.FingerprintPrefix(p.Fingerprint)
	m.announced([]discover.Gateway{{ID: p.GatewayID, Address: "127.0.0.1:7", FP: "0000000000000000"}}) // another certificate: ignored
	m.announced([]discover.Gateway{{ID: p.GatewayID, Address: elsewhere, FP: fp}})
	if c.Address() != gw.addr || len(said) != 0 {
		t.Fatalf("a working client moved to %s (%q)", c.Address(), said)
	}
	m.failing(p.GatewayID) // the client lost the gateway
	if c.Address() != elsewhere || len(said) != 1 {
		t.Fatalf("a failing client stays at %s (%q), want a move to %s", c.Address(), said, elsewhere)
	}
	_ = st.View(func(tx store.Tx) error {
		if q, err := intake.LoadPairing(tx, p.GatewayID); err != nil || q.Address != elsewhere {
			t.Errorf("stored pairing after the move: %+v, %v", q, err)
		}
		return nil
	})
}
