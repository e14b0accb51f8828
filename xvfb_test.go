//go:build cgo

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// startXvfb starts an X server with a screen of size (WxHxDepth) on a free
// display and returns the display and how to stop it. It returns once the
// server accepts clients (Xvfb -displayfd names the display then): a
// program started on it any earlier fails to open the display.
func startXvfb(size string) (string, func(), error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", size, "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{w}
	var stderr bytes.Buffer
	x.Stderr = &stderr
	err = x.Start()
	w.Close()
	if err != nil {
		return "", nil, fmt.Errorf("starting Xvfb: %w", err)
	}
	stop := func() { x.Process.Kill(); x.Wait() }
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if _, err := strconv.Atoi(n); err != nil {
			stop()
			return "", nil, fmt.Errorf("starting Xvfb: no display number (%q): %s", n, stderr.String())
		}
		return ":" + n, stop, nil
	case <-time.After(30 * time.Second):
		stop()
		return "", nil, fmt.Errorf("starting Xvfb: no display within 30 s: %s", stderr.String())
	}
}
