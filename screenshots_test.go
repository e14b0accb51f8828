//go:build cgo

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// screenshotsDir, when set (make screenshots), is where TestScreenshots
// writes the user guide's images: English in it, German in its "de" folder.
var screenshotsDir = flag.String("screenshots", "", "write the window's screenshots into this folder (docs/images) instead of a temporary one")

// screenshotTime is the moment the demo is shown at.
const screenshotTime = "2026-06-16T10:30:00+02:00"

// shotTabs are the main window's tabs in order (Ctrl+1 … Ctrl+8) and the
// file each is saved as.
var shotTabs = []string{"overview", "live", "energy", "quality", "billing", "gateways", "masterdata", "collection"}

// TestScreenshots runs the real binary's demo (the demo site with its
// simulated gateway) under Xvfb, opens each tab with its Ctrl+N shortcut as
// a person would and captures the window. Under `make test` it takes the
// English screens into a temporary folder, so that the path behind `make
// screenshots` keeps working: each tab must draw something, and something
// else than the tab before it (the shortcut switched). With -screenshots
// DIR it writes English into DIR and German into DIR/de.
func TestScreenshots(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the desktop binary")
	}
	for _, tool := range []string{"Xvfb", "xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" || *screenshotsDir != "" {
				t.Fatalf("%s not installed (make deps installs xvfb, xdotool and imagemagick): %v", tool, err)
			}
			t.Skipf("%s not installed (make deps installs xvfb, xdotool and imagemagick): %v", tool, err)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "zevdesk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, langs := dir, []string{"en"}
	if *screenshotsDir != "" {
		out, langs = *screenshotsDir, []string{"en", "de"}
	}
	for _, code := range langs {
		dest := out
		if code != "en" {
			dest = filepath.Join(out, code)
		}
		if err := os.MkdirAll(dest, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Run(code, func(t *testing.T) { shootDemo(t, bin, code, dest) })
	}
}

// shootDemo opens the demo in language code on a fresh display and home
// (no remembered size, theme or language) and saves every tab into dest.
func shootDemo(t *testing.T, bin, code, dest string) {
	home := t.TempDir()
	// The light theme whatever the system prefers: the guide's images match.
	prefs := filepath.Join(home, ".config", "fyne", "ch.zevdesk.app")
	if err := os.MkdirAll(prefs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(prefs, "preferences.json"), []byte(`{"theme":"light"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	display, stopX, err := startXvfb("1280x800x24")
	if err != nil {
		t.Fatal(err)
	}
	defer stopX()
	env := append(os.Environ(), "DISPLAY="+display, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"LANG=en_US.UTF-8", "LANGUAGE="+code, "LC_ALL=", "LC_MESSAGES=", "LIBGL_ALWAYS_SOFTWARE=1")
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = env
		return cmd.CombinedOutput()
	}

	var stderr bytes.Buffer
	// A June morning, whenever the images are taken: the guide shows the
	// building producing, and the images come out the same each time.
	app := exec.CommandContext(ctx, bin, "--db", filepath.Join(home, "office.db"), "demo", "--now", screenshotTime)
	app.Env, app.Stdout, app.Stderr = env, &stderr, &stderr
	if err := app.Start(); err != nil {
		t.Fatalf("starting the demo: %v", err)
	}
	defer func() { app.Process.Kill(); app.Wait() }()

	// An external process: poll for its window with a deadline.
	var win string
	for deadline := time.Now().Add(2 * time.Minute); win == "" && time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if out, err := run("xdotool", "search", "--onlyvisible", "--name", "^zevdesk"); err == nil {
			win = strings.Fields(string(out))[0]
		}
	}
	if win == "" {
		t.Fatalf("no zevdesk window appeared within 2 minutes; demo output:\n%s", stderr.String())
	}
	// Xvfb has no window manager: give the window the keyboard. Its first
	// focus puts the site's name into its title, which proves the focus.
	titled := false
	for deadline := time.Now().Add(30 * time.Second); !titled && time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if out, err := run("xdotool", "windowfocus", "--sync", win); err != nil {
			t.Fatalf("focusing the window: %v\n%s", err, out)
		}
		out, _ := run("xdotool", "getwindowname", win)
		titled = strings.HasPrefix(string(out), "zevdesk – ")
	}
	if !titled {
		t.Fatalf("the window's title does not name the demo site after it got the focus; demo output:\n%s", stderr.String())
	}
	var last [sha256.Size]byte
	for i, name := range shotTabs {
		if out, err := run("xdotool", "key", "--clearmodifiers", fmt.Sprintf("ctrl+%d", i+1)); err != nil {
			t.Fatalf("pressing Ctrl+%d: %v\n%s", i+1, err, out)
		}
		// The tab loads and draws; only the picture depends on this wait.
		time.Sleep(2 * time.Second)
		file := filepath.Join(dest, name+".png")
		if out, err := run("import", "-window", win, file); err != nil {
			t.Fatalf("capturing %s: %v\n%s", name, err, out)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("reading %s: %v", file, err)
		}
		if n := colours(img); n < 8 {
			t.Errorf("%s (Ctrl+%d) shows %d colours: nothing was drawn", name, i+1, n)
		}
		// The label left of the site selector (360 wide at the right
		// edge, under the menu bar) is dark text on the light theme: the
		// theme applied after the widgets were made left it faint.
		b := img.Bounds()
		if l := darkest(img, image.Rect(b.Max.X-360-160, b.Min.Y+30, b.Max.X-360, b.Min.Y+70)); l > 0x60 {
			t.Errorf("%s: the site selector's label is faint (its darkest pixel has luminance %#x)", name, l)
		}
		sum := sha256.Sum256(data)
		if sum == last {
			t.Errorf("%s (Ctrl+%d) looks exactly like the tab before: the shortcut did not switch", name, i+1)
		}
		last = sum
	}
}

// darkest returns the least luminance (0–255) of img's pixels in r.
func darkest(img image.Image, r image.Rectangle) int {
	least := 255
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if l := int(299*cr+587*cg+114*cb) / 1000 >> 8; l < least {
				least = l
			}
		}
	}
	return least
}
