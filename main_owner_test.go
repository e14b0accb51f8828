//go:build cgo

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// TestSecondStart runs the real binary under Xvfb: with the app open on a
// database, a second start on it exits 0 after asking the first to show its
// window (and opens none of its own), commands run through the app, and a
// start on a database that another program holds without answering says
// so in a window rather than only on standard error.
func TestSecondStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the desktop binary")
	}
	for _, tool := range []string{"Xvfb", "xdotool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make deps installs xvfb and xdotool): %v", tool, err)
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "zevdesk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "office.db")
	if out, err := exec.Command(bin, "--db", db, "demo", "--no-window").CombinedOutput(); err != nil {
		t.Fatalf("zevdesk demo --no-window: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	display := fmt.Sprintf(":%d", 190+os.Getpid()%100)
	xvfb := exec.CommandContext(ctx, "Xvfb", display, "-screen", "0", "1024x768x24", "-nolisten", "tcp")
	if err := xvfb.Start(); err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	t.Cleanup(func() { xvfb.Process.Kill(); xvfb.Wait() })
	env := append(os.Environ(), "DISPLAY="+display, "LANG=en_US.UTF-8", "LIBGL_ALWAYS_SOFTWARE=1")
	// An external process: poll for its windows with a deadline.
	windows := func(name string, want int) []string {
		var ids []string
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
			cmd := exec.Command("xdotool", "search", "--onlyvisible", "--name", name)
			cmd.Env = env
			out, _ := cmd.Output()
			if ids = strings.Fields(string(out)); len(ids) >= want {
				break
			}
		}
		return ids
	}

	var stderr bytes.Buffer
	first := exec.CommandContext(ctx, bin, "--db", db)
	first.Env, first.Stderr = env, &stderr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Process.Kill(); first.Wait() })
	if ids := windows("^zevdesk ", 1); len(ids) != 1 {
		t.Fatalf("the first start opened %d windows; stderr:\n%s", len(ids), stderr.String())
	}

	second := exec.CommandContext(ctx, bin, "--db", db)
	second.Env = env
	if out, err := second.CombinedOutput(); err != nil || len(out) != 0 {
		t.Errorf("second start: %v, %q; want exit 0 and silence", err, out)
	}
	if ids := windows("^zevdesk", 1); len(ids) != 1 {
		t.Errorf("after the second start there are %d zevdesk windows, want the first one only", len(ids))
	}
	// A command beside the running app goes through it.
	if out, err := exec.Command(bin, "--db", db, "locks", "--site", "demo").CombinedOutput(); err != nil || !strings.Contains(string(out), "no billed period") {
		t.Errorf("locks beside the app: %v\n%s", err, out)
	}

	// A database held by a program that does not answer: a window says so.
	held := filepath.Join(dir, "held.db")
	st, err := bolt.Open(held, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var herr bytes.Buffer
	third := exec.CommandContext(ctx, bin, "--db", held)
	third.Env, third.Stderr = env, &herr
	if err := third.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { third.Process.Kill(); third.Wait() })
	if ids := windows("^zevdesk$", 1); len(ids) != 1 {
		t.Errorf("a start on a held database shows %d message windows; stderr:\n%s", len(ids), herr.String())
	}
}
