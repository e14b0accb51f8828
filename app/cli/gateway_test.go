package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/gateway"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver/simulator"
	"github.com/zevdesk/zevdesk/ingest/importer"
	"github.com/zevdesk/zevdesk/ingest/protocol"
	"github.com/zevdesk/zevdesk/ingest/sim"
)

// TestGatewayPrintSite: the printed site is the simulated building (one EV
// charger by default, as the demo's).
func TestGatewayPrintSite(t *testing.T) {
	var out, errb bytes.Buffer
	_, code := Main([]string{"gateway", "--simulate", "--print-site", "--seed", "3", "--units", "6", "--site-id", "lorraine"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	got, err := importer.ParseSite("printed.toml", bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatalf("the printed site does not import: %v\n%s", err, out.String())
	}
	want := sim.New(sim.Config{Seed: 3, Units: 6, PVkWp: 30, HeatPump: true, EVChargers: 1}).Site("lorraine")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("printed site reads back as\n%+v\nwant\n%+v", got, want)
	}
	// The meter ids are the simulator's, which the gateway's records carry.
	b := sim.New(sim.Config{Seed: 3, Units: 6, PVkWp: 30, HeatPump: true, EVChargers: 1})
	for i, m := range b.Meters() {
		if got.Meters[i].ID != m.ID {
			t.Errorf("meter %d: site id %q, simulator id %q", i, got.Meters[i].ID, m.ID)
		}
	}
}

func TestGatewayUsage(t *testing.T) {
	for _, args := range [][]string{
		{"gateway"},
		{"gateway", "--print-site"},
		{"gateway", "--simulate", "--speed", "0"},
		{"gateway", "--simulate", "--history", "-1"},
		{"gateway", "--simulate", "extra"},
	} {
		var out, errb bytes.Buffer
		if _, code := Main(args, &out, &errb); code != 1 || !strings.Contains(errb.String(), "usage: zevdesk gateway") {
			t.Errorf("%v: exit %d, %q", args, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if _, code := Main([]string{"gateway", "--device", "nosuch:x", "--data", t.TempDir(), "--no-mdns"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), `unknown meter driver "nosuch"`) {
		t.Errorf("unknown driver: exit %d, %q", code, errb.String())
	}
}

// syncBuffer is a bytes.Buffer safe to write from the gateway goroutine and
// read from the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	ch chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	select {
	case s.ch <- struct{}{}:
	default:
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestGatewayCommandServesSimulation(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	old := gatewayContext
	gatewayContext = func() (context.Context, context.CancelFunc) { return context.WithCancel(ctx) }
	defer func() { gatewayContext = old }()

	out := &syncBuffer{ch: make(chan struct{}, 1)}
	var errb syncBuffer
	errb.ch = make(chan struct{}, 1)
	done := make(chan int, 1)
	go func() {
		_, code := Main([]string{"gateway", "--simulate", "--history", "1", "--units", "3", "--ev", "0", "--heatpump=false",
			"--listen", "127.0.0.1:0", "--data", dir, "--no-mdns"}, out, &errb)
		done <- code
	}()
	re := regexp.MustCompile(`listening on https://(\S+)\n(?:.*\n)*pairing code: (\d{8})\n`)
	var m []string
	deadline := time.After(60 * time.Second)
	for m == nil {
		select {
		case <-out.ch:
			m = re.FindStringSubmatch(out.String())
		case code := <-done:
			t.Fatalf("gateway exited %d: %s %s", code, out.String(), errb.String())
		case <-deadline:
			t.Fatalf("no pairing code printed: %s %s", out.String(), errb.String())
		}
	}
	addr, code := m[1], m[2]

	// Pair as a workstation would and pull the day of history.
	var seen *tls.ConnectionState
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true,
		VerifyConnection:   func(cs tls.ConnectionState) error { seen = &cs; return nil },
	}}}
	post := func(path string, body any) []byte {
		b, _ := json.Marshal(body)
		resp, err := hc.Post("https://"+addr+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, data)
		}
		return data
	}
	var start protocol.PairStartResponse
	json.Unmarshal(post(protocol.PathPairStart, struct{}{}), &start)
	fp := protocol.Fingerprint(seen.PeerCertificates[0])
	fr, key, err := protocol.ClientFinish(code, fp, start)
	if err != nil {
		t.Fatal(err)
	}
	var fin protocol.PairFinishResponse
	json.Unmarshal(post(protocol.PathPairFinish, fr), &fin)
	if !protocol.VerifyProof(fin.GatewayProof, key, protocol.RoleGateway, fp, fr.ClientNonce, fr.GatewayNonce) {
		t.Fatal("gateway proof does not verify")
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("https://%s%s?limit=%d", addr, protocol.PathRecords, protocol.MaxRecordsLimit), nil)
	req.Header.Set("Authorization", "Bearer "+fin.Token)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	perMeter := map[string]int{}
	page, err := protocol.ReadRecords(bufio.NewReader(resp.Body), func(r protocol.Record) error {
		perMeter[r.Meter]++
		if r.Time.Minute()%15 != 0 || r.Time.Second() != 0 {
			return fmt.Errorf("history record off the 15-minute grid: %v", r.Time)
		}
		return nil
	})
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	// PV, GRID, 3 units, ALLG; 96 (or 95/96 depending on the instant) per day.
	if len(perMeter) != 6 || perMeter["M-"+firstUnit(t)] < 95 || perMeter["PV"] < 95 {
		t.Errorf("records per meter %v (page %+v)", perMeter, page)
	}

	// Paired: another pairing is refused until the window is opened on the
	// gateway's console, which the running gateway honours at once.
	startResp := func() (int, []byte) {
		resp, err := hc.Post("https://"+addr+protocol.PathPairStart, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if status, b := startResp(); status != http.StatusLocked || !strings.Contains(string(b), `"code":"pairing_closed"`) {
		t.Fatalf("pair/start on the paired gateway: %d %s, want 423 pairing_closed", status, b)
	}
	var wout, werr bytes.Buffer
	if _, c := Main([]string{"gateway", "open-pairing", "--data", dir}, &wout, &werr); c != 0 || !strings.Contains(wout.String(), "pairing window open until") {
		t.Fatalf("open-pairing: exit %d, %q %q", c, wout.String(), werr.String())
	}
	if status, b := startResp(); status != http.StatusOK {
		t.Fatalf("pair/start with the window open: %d %s", status, b)
	}
	wout.Reset()
	if _, c := Main([]string{"gateway", "status", "--data", dir}, &wout, &werr); c != 0 || !strings.Contains(wout.String(), "pairing window: open until") {
		t.Errorf("status with the window open: exit %d, %q", c, wout.String())
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("gateway did not stop on cancel")
	}
	if !strings.Contains(out.String(), "gateway stopped") {
		t.Errorf("output %q", out.String())
	}

	// gateway status shows the pairing.
	var sout, serr bytes.Buffer
	if _, c := Main([]string{"gateway", "status", "--data", dir}, &sout, &serr); c != 0 {
		t.Fatalf("status: %d %s", c, serr.String())
	}
	if !strings.Contains(sout.String(), "pairing code: "+code) || !strings.Contains(sout.String(), "paired: yes") ||
		!strings.Contains(sout.String(), "pairing window: open until") {
		t.Errorf("status output %q", sout.String())
	}
	if _, c := Main([]string{"gateway", "status", "--data", filepath.Join(dir, "none")}, &sout, &serr); c != 1 {
		t.Errorf("status of an empty directory: exit %d", c)
	}
}

func firstUnit(t *testing.T) string {
	b := sim.New(sim.Config{Seed: 1, Units: 3})
	for _, m := range b.Meters() {
		if m.Unit != "" {
			return m.Unit
		}
	}
	t.Fatal("no unit meter")
	return ""
}

// TestGatewayInit: an installer makes the gateway's identity before its first
// start; status then shows the same code, a second init changes nothing, and
// the gateway started afterwards keeps that identity (the label's code).
func TestGatewayInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gw")
	var out, errs strings.Builder
	if _, c := Main([]string{"gateway", "init", "--data", dir}, &out, &errs); c != 0 {
		t.Fatalf("gateway init: exit %d, %s", c, errs.String())
	}
	first := out.String()
	if !strings.Contains(first, "pairing code: ") || !strings.Contains(first, "gateway: zevgw-") {
		t.Fatalf("gateway init printed %q", first)
	}
	var again strings.Builder
	if _, c := Main([]string{"gateway", "init", "--data", dir}, &again, &errs); c != 0 || again.String() != first {
		t.Errorf("a second init: exit %d, %q; want the same identity %q", c, again.String(), first)
	}
	var st strings.Builder
	if _, c := Main([]string{"gateway", "status", "--data", dir}, &st, &errs); c != 0 {
		t.Fatalf("gateway status: exit %d, %s", c, errs.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(first), "\n") {
		if !strings.Contains(st.String(), line) {
			t.Errorf("status after init lacks %q:\n%s", line, st.String())
		}
	}
	g, err := gateway.New(gateway.Config{Dir: dir, OpenStore: func(p string) (store.Store, error) { return bolt.Open(p, nil) },
		Drivers: []driver.Driver{simulator.New(sim.New(sim.Config{Seed: 1, Units: 1}), core.SystemClock{})}})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if !strings.Contains(first, "pairing code: "+g.Code()) || !strings.Contains(first, "gateway: "+g.ID()) {
		t.Errorf("the gateway started after init has id %s and code %s; init printed %q", g.ID(), g.Code(), first)
	}
}
