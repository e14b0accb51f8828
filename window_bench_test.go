//go:build cgo

package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/app/ui"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/internal/benchdata"
)

// The real-window benchmarks measure the speed requirement as an office sees
// it: Fyne's GLFW driver drawing with OpenGL (Mesa's llvmpipe under Xvfb)
// the main window on internal/benchdata's database (5 years of 100 meters),
// sized 1100 × 720 as app/ui's benchmarks (the window keeps at least its
// content's minimum size, 800 high). app/ui's benchmarks of the same names
// without "Window" measure the same switches on Fyne's test driver.
//
// A switch is timed from its request, made on Fyne's goroutine as a click's
// event is handled there, until the X server shows the tab's content settled
// on its new pixels (waitDrawn): what a person sees, not when the app's code
// returns. The benchmarks fail when a switch shows nothing new.
//
// Fyne's GLFW driver runs on the process's main goroutine (its init locks
// it to the main OS thread). So when -bench selects one of these benchmarks,
// TestMain starts Xvfb, opens the window as main.go does and runs the app's
// loop on the main goroutine, while the tests and benchmarks run (m.Run) on
// another one and reach the window through fyne.Do. Without -bench, or
// under -short, TestMain only runs the tests.

// windowBenchmarks are the benchmarks that need the window.
var windowBenchmarks = []string{"BenchmarkWindowSwitchTab", "BenchmarkWindowSwitchPeriod",
	"BenchmarkWindowSwitchQualityMonth", "BenchmarkWindowSwitchSite", "BenchmarkWindowColdStart"}

// benchClock is the window's time: 5 July 2026, as app/ui's benchmarks.
var benchClock = core.FixedClock(time.Date(2026, 7, 5, 9, 0, 0, 0, time.UTC))

// glwin is the real window TestMain opened for the benchmarks.
var glwin struct {
	// skip says why the window benchmarks skip, err why they fail; with
	// both empty the window is open.
	skip string
	err  error
	// home is the window's home, tmp a temporary folder of the process,
	// db the database.
	home string
	tmp  string
	db   string
	// x reads the screen of the window's display.
	x    *xshot
	win  fyne.Window
	tabs *container.AppTabs
	// region is the pixels a switch redraws: the tabs' content, below the
	// tab bar (whose selection indicator moves in an animation of its own).
	region image.Rectangle
	// last is region's settled pixels before the next switch.
	last []byte
}

func TestMain(m *testing.M) {
	flag.Parse()
	if !wantWindow() {
		os.Exit(m.Run())
	}
	os.Exit(runWithWindow(m))
}

// wantWindow reports whether -bench selects a window benchmark, setting
// glwin.skip when they cannot run here. The pattern's first part (before a
// slash) is matched against the names as the testing package does.
func wantWindow() bool {
	glwin.skip = "the window benchmarks run with -bench"
	f := flag.Lookup("test.bench")
	if f == nil || f.Value.String() == "" {
		return false
	}
	re, err := regexp.Compile(strings.Split(f.Value.String(), "/")[0])
	if err != nil || !slices.ContainsFunc(windowBenchmarks, re.MatchString) {
		return false
	}
	if testing.Short() {
		glwin.skip = "opens a real window (-short)"
		return false
	}
	for _, tool := range []string{"Xvfb", "xdotool"} {
		if _, err := exec.LookPath(tool); err != nil {
			glwin.skip = fmt.Sprintf("%s not installed (make deps installs xvfb and xdotool): %v", tool, err)
			if os.Getenv("CI") != "" {
				glwin.skip, glwin.err = "", errors.New(glwin.skip)
			}
			return false
		}
	}
	glwin.skip = ""
	return true
}

// needWindow skips or fails b unless the window is open.
func needWindow(b *testing.B) {
	b.Helper()
	if glwin.err != nil {
		b.Fatal(glwin.err)
	}
	if glwin.skip != "" {
		b.Skip(glwin.skip)
	}
}

// runWithWindow opens the main window on the big database under a new
// Xvfb, runs m on another goroutine and the app's loop on this one, and
// returns m's exit code.
func runWithWindow(m *testing.M) int {
	var err error
	if glwin.tmp, err = os.MkdirTemp("", "zevdesk-window-bench-"); err != nil {
		glwin.err = err
		return m.Run()
	}
	defer os.RemoveAll(glwin.tmp)
	defer benchdata.Remove()
	// The window's home is a folder in the user's cache, emptied here and
	// left at the end: Fyne's settings watcher makes its folders again
	// when they are deleted under the running app.
	cache, err := os.UserCacheDir()
	if err != nil {
		glwin.err = err
		return m.Run()
	}
	glwin.home = filepath.Join(cache, "zevdesk", "window-bench")
	if err := errors.Join(os.RemoveAll(glwin.home), os.MkdirAll(glwin.home, 0o700)); err != nil {
		glwin.err = err
		return m.Run()
	}
	display, stop, err := startXvfb("1280x800x24")
	if err != nil {
		glwin.err = err
		return m.Run()
	}
	defer stop()
	if glwin.x, err = dialX(display); err != nil {
		glwin.err = err
		return m.Run()
	}
	defer glwin.x.Close()
	// A fresh home (no remembered size, theme or language) in English.
	for _, kv := range desktopEnv(display, glwin.home) {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	if glwin.db, err = benchdata.File(); err != nil {
		glwin.err = err
		return m.Run()
	}
	st, err := bolt.Open(glwin.db, nil)
	if err != nil {
		glwin.err = err
		return m.Run()
	}
	defer st.Close()

	// As main.go does, with the benchmarks' clock.
	a := app.NewWithID("ch.zevdesk.app")
	if err := ui.SetupLanguage(a.Preferences()); err != nil {
		glwin.err = err
		return m.Run()
	}
	glwin.win = ui.NewMainWindow(a, st, benchdata.Big, benchClock, nil)
	glwin.win.Resize(fyne.NewSize(1100, 720))
	glwin.tabs = find[*container.AppTabs](glwin.win.Content(), nil)
	if glwin.tabs == nil {
		glwin.err = errors.New("the main window has no tabs")
		return m.Run()
	}
	code := make(chan int, 1)
	go func() {
		code <- m.Run()
		fyne.Do(a.Quit)
	}()
	glwin.win.ShowAndRun()
	select {
	case c := <-code:
		return c
	default:
		fmt.Fprintln(os.Stderr, "the window's loop ended before the benchmarks (see Fyne's errors above)")
		return 1
	}
}

// desktopEnv is the environment of the app on display with home as its
// home: English, nothing remembered, Mesa's software renderer (as on a
// machine without a GPU driver), the pointer moved off the window so that
// no hover effect depends on where Xvfb put it.
func desktopEnv(display, home string) []string {
	run := filepath.Join(home, "run")
	os.Mkdir(run, 0o700)
	os.MkdirAll(filepath.Join(home, ".config", "fyne"), 0o755)
	env := []string{"DISPLAY=" + display, "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_RUNTIME_DIR=" + run, "LANG=en_US.UTF-8", "LANGUAGE=en", "LC_ALL=", "LC_MESSAGES=", "LIBGL_ALWAYS_SOFTWARE=1"}
	cmd := exec.Command("xdotool", "mousemove", "1279", "799")
	cmd.Env = append(os.Environ(), env...)
	cmd.Run()
	return env
}

// find returns the first object of type T in o's tree of containers (and
// tabs) for which match (nil for any) is true.
func find[T fyne.CanvasObject](o fyne.CanvasObject, match func(T) bool) T {
	var zero T
	if t, ok := o.(T); ok && (match == nil || match(t)) {
		return t
	}
	var children []fyne.CanvasObject
	switch c := o.(type) {
	case *fyne.Container:
		children = c.Objects
	case *container.AppTabs:
		for _, it := range c.Items {
			children = append(children, it.Content)
		}
	case fyne.Widget:
		// A widget that holds a screen (the tabs' contents) shows it
		// through its renderer.
		if r := test.WidgetRenderer(c); r != nil && len(r.Objects()) == 1 {
			children = r.Objects()
		}
	}
	for _, c := range children {
		if t := find(c, match); any(t) != any(zero) {
			return t
		}
	}
	return zero
}

// button returns the button labelled text on tab i.
func button(b *testing.B, tab int, text string) *widget.Button {
	b.Helper()
	var btn *widget.Button
	fyne.DoAndWait(func() {
		btn = find(glwin.tabs.Items[tab].Content, func(x *widget.Button) bool { return x.Text == text })
	})
	if btn == nil {
		b.Fatalf("tab %d has no button %q", tab, text)
	}
	return btn
}

// tap is a click on btn (its action, without the click's ripple).
func tap(b *testing.B, btn *widget.Button) func() {
	return func() {
		if btn.Disabled() {
			b.Errorf("button %q is disabled", btn.Text)
			return
		}
		btn.OnTapped()
	}
}

// capture reads r of the screen (glwin's X connection) into dst and the
// time the read was asked for.
func capture(r image.Rectangle, dst []byte) ([]byte, time.Time, error) { return glwin.x.image(r, dst) }

// Waits of a switch: a result is drawn once the screen shows the same
// pixels for settle (startSettle for a start, when the window may still
// grow); a switch that shows nothing new within giveUp fails. Reads of the
// screen are pollEvery apart, so that they take little of the 2 cores from
// the app.
const (
	settle      = 250 * time.Millisecond
	startSettle = time.Second
	giveUp      = 20 * time.Second
	pollEvery   = 3 * time.Millisecond
)

// waitDrawn reads the screen's r (read) until it settles, for settle, on
// pixels other than before (any pixels if before is nil), and returns them
// with the time the first read that showed them was asked for. That read
// saw the frame on the X server, so the time is an upper bound of when the
// result appeared, late by at most one read and pollEvery (a few ms).
// Intermediate frames (something drawn, then more) count until the last
// change: a screen that fills in steps counts when it is complete.
func waitDrawn(read func(image.Rectangle, []byte) ([]byte, time.Time, error), r image.Rectangle, before []byte, since time.Time, settle time.Duration) ([]byte, time.Time, error) {
	// Two buffers, so that polling does not make garbage for the app's GC.
	var cur, spare []byte
	var curAt time.Time
	for {
		pix, at, err := read(r, spare)
		if err != nil {
			return nil, time.Time{}, err
		}
		spare = pix
		switch {
		case !bytes.Equal(pix, cur):
			cur, spare, curAt = pix, cur, at
		case before == nil || !bytes.Equal(cur, before):
			if at.Sub(curAt) >= settle {
				return cur, curAt, nil
			}
		}
		if at.Sub(since) > giveUp {
			if before != nil && bytes.Equal(cur, before) {
				return nil, time.Time{}, fmt.Errorf("the window still shows what it showed before after %v", giveUp)
			}
			return nil, time.Time{}, fmt.Errorf("the window did not settle within %v", giveUp)
		}
		time.Sleep(pollEvery)
	}
}

// setup runs f on the window's goroutine and waits until the window has
// settled (whether or not f changed it), untimed.
func setup(b *testing.B, f func()) {
	b.Helper()
	fyne.DoAndWait(f)
	var r image.Rectangle
	fyne.DoAndWait(func() {
		c := glwin.win.Canvas()
		content := glwin.tabs.Selected().Content
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(content)
		x0, y0 := c.PixelCoordinateForPosition(pos)
		x1, y1 := c.PixelCoordinateForPosition(pos.Add(content.Size()))
		// The tab bar's moving indicator reaches a pixel into the content
		// (rounding): the content's top padding is left out.
		r = image.Rect(x0, y0+3, x1, y1)
	})
	glwin.region = r.Add(windowOrigin(b))
	if glwin.region.Dx() < 500 || glwin.region.Dy() < 300 {
		b.Fatalf("the tabs' content is %v: the window is not at its size", glwin.region)
	}
	pix, _, err := waitDrawn(capture, glwin.region, nil, time.Now(), settle)
	if err != nil {
		b.Fatal(err)
	}
	glwin.last = pix
}

// windowOrigin returns where the window is on the screen (xdotool finds
// it by this process's id, which GLFW sets as _NET_WM_PID).
func windowOrigin(b *testing.B) image.Point {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	xdotool := func(args ...string) string {
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, "xdotool", args...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("finding the window with xdotool %s: %v: %s", strings.Join(args, " "), err, stderr.String())
		}
		return string(out)
	}
	id := strings.Fields(xdotool("search", "--sync", "--onlyvisible", "--pid", strconv.Itoa(os.Getpid())))
	if len(id) != 1 {
		b.Fatalf("xdotool finds %d windows of this process, want 1", len(id))
	}
	// "Window 123\n  Position: 0,0 (screen: 0)\n  Geometry: 1100x800"
	out := xdotool("getwindowgeometry", id[0])
	var p image.Point
	_, pos, _ := strings.Cut(out, "Position: ")
	if _, err := fmt.Sscanf(pos, "%d,%d", &p.X, &p.Y); err != nil {
		b.Fatalf("reading the window's position from xdotool's %q: %v", out, err)
	}
	return p
}

// benchWindow opens the main window's state for a benchmark: site "big"
// shown afresh on the Overview (the other tabs load again when shown, as
// app/ui's benchmarks start on a new window), then prepare's steps.
func benchWindow(b *testing.B, prepare ...func()) {
	b.Helper()
	needWindow(b)
	sites, small, big := siteSelector(b)
	for _, f := range append([]func(){func() { glwin.tabs.SelectIndex(0) }, func() { sites.SetSelected(small) },
		func() { sites.SetSelected(big) }}, prepare...) {
		setup(b, f)
	}
}

// siteSelector returns the window's site selector and its entries of the
// sites Small and Big ("Name (id)").
func siteSelector(b *testing.B) (sites *widget.Select, small, big string) {
	b.Helper()
	entry := func(s *widget.Select, id string) string {
		for _, o := range s.Options {
			if strings.HasSuffix(o, " ("+id+")") {
				return o
			}
		}
		return ""
	}
	fyne.DoAndWait(func() {
		sites = find(glwin.win.Content(), func(s *widget.Select) bool { return entry(s, benchdata.Big) != "" })
		if sites != nil {
			small, big = entry(sites, benchdata.Small), entry(sites, benchdata.Big)
		}
	})
	if sites == nil || small == "" {
		b.Fatalf("the main window has no site selector with the sites %s and %s", benchdata.Small, benchdata.Big)
	}
	return sites, small, big
}

// benchSwitches makes the switches in turn, each as a request on the
// window's goroutine (as a click's event is handled there) timed until its
// result is on the screen, and reports the mean and the slowest switch.
// Between switches the window settles, untimed: ns/op is not the figure.
func benchSwitches(b *testing.B, switches ...func()) {
	b.Helper()
	var sum, worst time.Duration
	n := 0
	for b.Loop() {
		for _, sw := range switches {
			t0 := time.Now()
			fyne.Do(sw)
			pix, at, err := waitDrawn(capture, glwin.region, glwin.last, t0, settle)
			if err != nil {
				b.Fatalf("switch %d of %d: %v", n%len(switches)+1, len(switches), err)
			}
			glwin.last = pix
			d := at.Sub(t0)
			sum += d
			worst = max(worst, d)
			n++
		}
	}
	b.ReportMetric(float64(sum.Microseconds())/1000/float64(n), "ms/switch")
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms/switch")
}

// BenchmarkWindowSwitchTab switches from the Overview to Energy and to Data
// quality and back (the first round loads each tab's data).
func BenchmarkWindowSwitchTab(b *testing.B) {
	benchWindow(b)
	var sw []func()
	for _, tab := range []int{2, 3, 0} {
		sw = append(sw, func() { glwin.tabs.SelectIndex(tab) })
	}
	benchSwitches(b, sw...)
}

// BenchmarkWindowSwitchPeriod steps the Energy screen's month view back and
// forth over 100 meters.
func BenchmarkWindowSwitchPeriod(b *testing.B) {
	var month *widget.RadioGroup
	benchWindow(b, func() { glwin.tabs.SelectIndex(2) }, func() {
		month = find[*widget.RadioGroup](glwin.tabs.Items[2].Content, nil)
		if month != nil {
			month.SetSelected("Month")
		}
	})
	if month == nil || month.Selected != "Month" {
		b.Fatal("the Energy tab has no Day/Month/Year choice with Month")
	}
	benchSwitches(b, tap(b, button(b, 2, "Previous")), tap(b, button(b, 2, "Next")))
}

// BenchmarkWindowSwitchQualityMonth steps the Data quality screen back and
// forth a month over 100 meters.
func BenchmarkWindowSwitchQualityMonth(b *testing.B) {
	benchWindow(b, func() { glwin.tabs.SelectIndex(3) })
	benchSwitches(b, tap(b, button(b, 3, "Previous month")), tap(b, button(b, 3, "Next month")))
}

// BenchmarkWindowSwitchSite switches the Overview between the 100-meter
// site and a 4-meter one with the site selector.
func BenchmarkWindowSwitchSite(b *testing.B) {
	benchWindow(b)
	sites, small, big := siteSelector(b)
	benchSwitches(b, func() { sites.SetSelected(small) }, func() { sites.SetSelected(big) })
}

// zevdesk is the desktop binary of BenchmarkWindowColdStart, built once.
var zevdesk struct {
	once sync.Once
	path string
	err  error
}

// BenchmarkWindowColdStart starts the real binary (go build .) as a person
// does, on a copy of the big database (bbolt lets one process open a file,
// and the window of the other benchmarks has it), on an X server of its
// own, and times the start until the first screen (the Overview of site
// "big") is drawn completely (ms/start), and until the first frame with
// anything drawn (ms/first-frame): the whole start (the process, GLFW and
// the GL context, fonts, the database, the window) is timed.
func BenchmarkWindowColdStart(b *testing.B) {
	needWindow(b)
	zevdesk.once.Do(func() {
		zevdesk.path = filepath.Join(glwin.tmp, "zevdesk")
		if out, err := exec.Command("go", "build", "-o", zevdesk.path, ".").CombinedOutput(); err != nil {
			zevdesk.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if zevdesk.err != nil {
		b.Fatal(zevdesk.err)
	}
	dir := b.TempDir()
	db := filepath.Join(dir, "office.db")
	if err := copyFile(glwin.db, db); err != nil {
		b.Fatal(err)
	}
	var sum, first time.Duration
	for b.Loop() {
		p, s := coldStart(b, dir, db)
		first += p
		sum += s
	}
	b.ReportMetric(float64(sum.Microseconds())/1000/float64(b.N), "ms/start")
	b.ReportMetric(float64(first.Microseconds())/1000/float64(b.N), "ms/first-frame")
}

// coldStart starts zevdesk --db db on a new X server and returns the
// times until its first frame with anything drawn and until its first
// screen is complete, then ends it.
func coldStart(b *testing.B, dir, db string) (painted, settled time.Duration) {
	b.Helper()
	display, stop, err := startXvfb("1280x800x24")
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	x, err := dialX(display)
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	// A first start: a home of its own, no remembered size or theme.
	home, err := os.MkdirTemp(dir, "home-")
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(zevdesk.path, "--db", db)
	cmd.Env = append(os.Environ(), desktopEnv(display, home)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		// The app quits on SIGTERM as on closing its window.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}()
	// As waitDrawn, on the whole screen, also noting the first frame
	// with anything drawn.
	var cur, spare []byte
	var curAt, first time.Time
	for {
		select {
		case err := <-exited:
			b.Fatalf("the app ended (%v):\n%s", err, out.String())
		default:
		}
		pix, at, err := x.image(image.Rectangle{}, spare)
		if err != nil {
			b.Fatal(err)
		}
		spare = pix
		switch {
		case !bytes.Equal(pix, cur):
			cur, spare, curAt = pix, cur, at
			if first.IsZero() && drawnOn(pix) {
				first = at
			}
		case !first.IsZero() && at.Sub(curAt) >= startSettle:
			return first.Sub(t0), curAt.Sub(t0)
		}
		if at.Sub(t0) > giveUp {
			b.Fatalf("the app drew nothing, or did not settle, within %v:\n%s", giveUp, out.String())
		}
		time.Sleep(pollEvery)
	}
}

// drawnOn reports whether pixels show something drawn: 8 colours or
// more, as TestScreenshots requires of a tab.
func drawnOn(pix []byte) bool {
	seen := map[[4]byte]bool{}
	for i := 0; i+4 <= len(pix) && len(seen) < 8; i += 4 {
		seen[[4]byte(pix[i:i+4])] = true
	}
	return len(seen) >= 8
}

// copyFile copies the file src to dst.
func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o600)
}
