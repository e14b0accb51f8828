package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// windowFile holds the pairing window opened on the gateway's console. The
// console command writes it and the running gateway only reads it, so that
// each file has one writer (the gateway writes pairing-guard.json).
const windowFile = "pairing-window.json"

// PairingWindow is how long OpenPairingWindow opens the pairing window.
const PairingWindow = 10 * time.Minute

// window is a pairing window: while it is open, a paired gateway accepts a
// new pairing (one: the pairing that uses it closes it).
type window struct {
	OpenedAt time.Time `json:"opened_at"`
	Until    time.Time `json:"until"`
}

// open reports whether w is open at now, given the guard that records
// which window a pairing used.
func (w window) open(g *guard, now time.Time) bool {
	return !w.OpenedAt.IsZero() && now.Before(w.Until) && !w.OpenedAt.Equal(g.WindowUsed)
}

// apply clears the lockouts the first time g sees w open: the installer
// standing at the gateway can always pair. It reports whether g changed.
func (w window) apply(g *guard, now time.Time) bool {
	if !w.open(g, now) || w.OpenedAt.Equal(g.WindowApplied) {
		return false
	}
	g.clearLockouts()
	g.WindowApplied = w.OpenedAt
	return true
}

// OpenPairingWindow opens the pairing window of the gateway in dir for
// PairingWindow from now and returns when it closes. It is what `zevdesk
// gateway open-pairing` runs on the gateway's console: only someone who can
// write the gateway's data directory can open it. A running gateway honours
// it at its next pairing request; it also clears the pairing lockouts.
func OpenPairingWindow(dir string, now time.Time) (time.Time, error) {
	if _, err := os.Stat(filepath.Join(dir, stateFile)); err != nil {
		return time.Time{}, fmt.Errorf("no gateway in %s: %w", dir, err)
	}
	w := window{OpenedAt: now.UTC(), Until: now.Add(PairingWindow).UTC()}
	data, err := json.Marshal(w)
	if err != nil {
		return time.Time{}, err
	}
	if err := writeFileAtomic(filepath.Join(dir, windowFile), append(data, '\n')); err != nil {
		return time.Time{}, fmt.Errorf("opening the pairing window: %w", err)
	}
	return w.Until, nil
}

// readWindow reads the pairing window from dir; no file is no window.
func readWindow(dir string) (window, error) {
	var w window
	data, err := os.ReadFile(filepath.Join(dir, windowFile))
	if errors.Is(err, fs.ErrNotExist) {
		return w, nil
	}
	if err != nil {
		return w, fmt.Errorf("reading the pairing window: %w", err)
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return window{}, fmt.Errorf("reading %s: %w", filepath.Join(dir, windowFile), err)
	}
	return w, nil
}
