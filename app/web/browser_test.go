package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/zevdesk/zevdesk/app/cli"
	"github.com/zevdesk/zevdesk/app/report"
	"github.com/zevdesk/zevdesk/app/web"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/gateway"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver/simulator"
	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/protocol"
	"github.com/zevdesk/zevdesk/ingest/sim"
)

var updateShots = flag.Bool("screenshots", false, "write the user guide's screenshots of the resident page into docs/images")

// chromium finds Debian's chromium, failing under CI and skipping
// elsewhere when it is missing.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "chromium not installed (Debian package chromium; `make deps` installs it)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser starts a headless Chromium with a temporary profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.NoFirstRun,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// billJSON runs `zevdesk bill --json` over p and returns key's invoice kWh.
func billJSON(t *testing.T, db string, site string, p core.Period, key string) map[string]float64 {
	t.Helper()
	var out, errb bytes.Buffer
	d, code := cli.Main([]string{"--db", db, "bill", "--site", site, "--from", p.From.String(), "--to", p.To.String(), "--json"}, &out, &errb)
	if d != nil || code != 0 {
		t.Fatalf("bill --json: exit %d: %s", code, errb.String())
	}
	var run struct {
		Invoices []struct {
			Key string             `json:"key"`
			KWh map[string]float64 `json:"kwh"`
		} `json:"invoices"`
	}
	if err := json.Unmarshal(out.Bytes(), &run); err != nil {
		t.Fatal(err)
	}
	for _, inv := range run.Invoices {
		if inv.Key == key {
			return inv.KWh
		}
	}
	t.Fatalf("bill --json over %s has no invoice %s", p, key)
	return nil
}

// parseKWh reads "1'234.5".
func parseKWh(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, "'", ""), 64)
	if err != nil {
		t.Fatalf("a figure on the page: %q", s)
	}
	return v
}

// TestBrowser opens residents' links in a real headless Chromium: the
// figures on the page equal `bill --json` over the same days, and the live
// power changes as the simulated gateway streams (a real gateway agent on
// 127.0.0.1, paired through ingest/intake, its stream followed as serve
// does). With -screenshots it writes the user guide's screenshots.
func TestBrowser(t *testing.T) {
	ctx := browser(t)
	f := newFixture(t, 0)
	// `bill` owns the database while it runs: close the fixture's handle.
	f.st.Close()
	anna := f.occupancy(t, "Anna Müller")
	giulia := f.occupancy(t, "Giulia Rossi")
	annaMonth := core.Period{From: core.MustDate(2025, 9, 1), To: core.MustDate(2025, 9, 15)}
	giuliaYear := core.Period{From: giulia.From, To: core.MustDate(2025, 9, 15)}
	wantAnna := billJSON(t, f.path, f.site.ID, annaMonth, occKey(anna))
	wantGiulia := billJSON(t, f.path, f.site.ID, giuliaYear, occKey(giulia))
	st, err := bolt.Open(f.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st

	// The gateway simulates the same building; its clock is the test's.
	clock := &testClock{t: time.Date(2025, 9, 15, 12, 0, 0, 0, zurich)}
	b := sim.New(sim.Config{Seed: 11, Units: 5, PVkWp: 20, Location: zurich, Epoch: epoch})
	g, err := gateway.New(gateway.Config{
		Dir:          t.TempDir(),
		OpenStore:    func(p string) (store.Store, error) { return bolt.Open(p, nil) },
		Drivers:      []driver.Driver{simulator.New(b, clock)},
		Clock:        clock,
		LiveInterval: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(gctx, ln) }()
	t.Cleanup(func() {
		stop()
		<-done
		g.Close()
	})
	p, err := intake.Pair(gctx, ln.Addr().String(), g.ID(), g.Code())
	if err != nil {
		t.Fatal(err)
	}
	p.Site = f.site.ID
	if err := st.Update(func(tx store.Tx) error { return intake.SavePairing(tx, p, clock.Now(), "test") }); err != nil {
		t.Fatal(err)
	}
	feed := web.NewFeed()
	lc := intake.NewClient(st, p, nil)
	go lc.Live(gctx, func(ev protocol.Live) { feed.Gateway(p, ev) })
	t.Cleanup(func() { lc.Close() })

	srv := web.New(st, web.Options{Clock: clock, Live: feed, PollSeconds: 1})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	// Anna's month: the page's figures are bill's, rounded to 0.1 kWh.
	annaURL := ts.URL + "/r/" + f.tokens[occKey(anna)] + "/"
	check := func(who string, want map[string]float64) {
		t.Helper()
		for id, k := range map[string]string{"kwh-solar": "solar", "kwh-grid": "grid", "kwh-total": "total"} {
			s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
			if err != nil {
				t.Fatalf("%s: reading #%s: %v", who, id, err)
			}
			if got := parseKWh(t, s); got < want[k]-0.0501 || got > want[k]+0.0501 {
				t.Errorf("%s: the page shows %s %s kWh, bill --json %v", who, k, s, want[k])
			}
		}
	}
	err = chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1000), chromedp.Navigate(annaURL+"?view=month&d=2025-09-10&lang=en"))
	if err != nil {
		t.Fatal(err)
	}
	check("Anna, September", wantAnna)

	// Live: the value appears, then changes as the gateway's clock moves
	// on (the simulated building's power changes with it).
	// waitLive waits for a live value other than not, "" after timeout.
	waitLive := func(not string, timeout time.Duration) string {
		t.Helper()
		expr := `(function(){var v=document.getElementById("own-kw").textContent; return v!=="–" && v!==` +
			strconv.Quote(not) + ` ? v : "";})()`
		v, err := chromedp.Run(ctx, chromedp.Poll[string](expr, chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(timeout)))
		if err != nil {
			return ""
		}
		return v
	}
	first := waitLive("", time.Minute)
	second := ""
	for i := 0; i < 6 && second == ""; i++ {
		clock.Set(clock.Now().Add(time.Hour))
		second = waitLive(first, 15*time.Second)
	}
	if second == "" {
		t.Errorf("the live value stayed %s while the gateway's clock moved on six hours", first)
	}
	if s, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("cover-text"))); s == "" || strings.Contains(s, "No live data") {
		t.Errorf("cover text %q", s)
	}
	if *updateShots {
		shot(t, ctx, 1280, 1000, annaURL+"?view=month&d=2025-09-10&lang=de", "resident-desktop.png")
	}

	// Giulia's year, on a phone: from her move-in on 1 July only.
	giuliaURL := ts.URL + "/r/" + f.tokens[occKey(giulia)] + "/?view=year&lang=it"
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(giuliaURL)); err != nil {
		t.Fatal(err)
	}
	check("Giulia, 2025", wantGiulia)
	if per, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("period"))); !strings.HasPrefix(per, report.Date(giulia.From)) {
		t.Errorf("Giulia's year starts %q, want at her move-in", per)
	}
	if *updateShots {
		shot(t, ctx, 390, 844, giuliaURL, "resident-phone.png")
	}
}

// shot writes a full-page screenshot at width × height into docs/images.
func shot(t *testing.T, ctx context.Context, w, h int64, url, name string) {
	t.Helper()
	opts := []chromedp.EmulateViewportOption{}
	if w < 600 {
		opts = append(opts, chromedp.EmulateScale(2), chromedp.EmulateMobile)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h, opts...), chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	// The chart has loaded and the live value is shown.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("img.chart").complete && document.getElementById("own-kw").textContent !== "–"`,
		chromedp.WithPollingTimeout(time.Minute))); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "images", name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}
