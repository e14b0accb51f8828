//go:build cgo

package main

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDesktopWindow builds the real binary, opens the demo site in a real
// window under Xvfb, and takes a screenshot of it: the window must exist with
// the site's name in its title and draw more than a blank canvas.
func TestDesktopWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the desktop binary")
	}
	for _, tool := range []string{"Xvfb", "xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make deps installs xvfb, xdotool and imagemagick): %v", tool, err)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "zevdesk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "office.db")
	demo := exec.Command(bin, "--db", db, "demo", "--no-window")
	demo.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=") // Debian's default in containers and ssh sessions
	out, err := demo.CombinedOutput()
	if err != nil {
		t.Fatalf("zevdesk demo --no-window: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "Fyne error") {
		t.Errorf("a command under LANG=C.UTF-8 prints Fyne's locale errors:\n%s", out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	display, stopX, err := startXvfb("1024x768x24")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopX)
	env := append(os.Environ(), "DISPLAY="+display, "LANG=en_US.UTF-8", "LIBGL_ALWAYS_SOFTWARE=1")

	var stderr bytes.Buffer
	app := exec.CommandContext(ctx, bin, "--db", db)
	app.Env, app.Stderr = env, &stderr
	if err := app.Start(); err != nil {
		t.Fatalf("starting the app: %v", err)
	}
	t.Cleanup(func() { app.Process.Kill(); app.Wait() })

	// An external process: poll for its window with a deadline.
	var win string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		cmd := exec.Command("xdotool", "search", "--name", "zevdesk")
		cmd.Env = env
		if out, err := cmd.Output(); err == nil {
			win = strings.Fields(string(out))[0]
			break
		}
	}
	if win == "" {
		t.Fatalf("no zevdesk window appeared within 60 s; app stderr:\n%s", stderr.String())
	}
	// The window is created titled "zevdesk" (its X11 WM class) and takes the
	// site's name once the app's loop runs: poll for it.
	var title string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		name := exec.Command("xdotool", "getwindowname", win)
		name.Env = env
		out, _ := name.Output()
		if title = strings.TrimSpace(string(out)); strings.HasPrefix(title, "zevdesk – ") {
			break
		}
	}
	if !strings.HasPrefix(title, "zevdesk – ") {
		t.Errorf("window title %q does not name the demo site", title)
	}
	time.Sleep(2 * time.Second) // let the first frames render; only a screenshot depends on it
	shot := filepath.Join(dir, "window.png")
	imp := exec.Command("import", "-window", win, shot)
	imp.Env = env
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if n := colours(img); n < 8 {
		t.Errorf("the window shows %d colours: nothing was drawn", n)
	}
	if out := os.Getenv("ZEVDESK_SCREENSHOT"); out != "" {
		data, _ := os.ReadFile(shot)
		os.WriteFile(out, data, 0o644)
	}
}

func colours(img image.Image) int {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[r>>8<<16|g>>8<<8|bl>>8] = true
		}
	}
	return len(seen)
}
