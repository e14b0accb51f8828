package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// guardFile keeps the pairing guard across restarts, so that pulling the
// plug does not hand a code guesser a fresh set of attempts.
const guardFile = "pairing-guard.json"

// Global limits on wrong pairing codes, whatever their source: a guesser
// who takes many addresses on the LAN still gets at most GlobalLockoutAfter
// guesses per GlobalWindow (at 200 a day, finding one of 10^8 codes takes
// centuries). It is high enough that one or two misbehaving machines, each
// locked out on its own, do not block the installer's pairing.
const (
	GlobalLockoutAfter = 200
	GlobalWindow       = 24 * time.Hour
	// maxSources bounds the per-source entries kept; entries that are
	// not locked go first.
	maxSources = 1024
)

// strike counts wrong codes from one source.
type strike struct {
	Failures    int       `json:"failures"` // since its last lockout
	Level       int       `json:"level"`    // lockouts so far: the next one lasts LockoutBase<<Level
	LockedUntil time.Time `json:"locked_until,omitzero"`
	Last        time.Time `json:"last"` // last wrong code
}

// guard is the pairing protection: each source (an IPv4 address, an IPv6
// /64) is locked out on its own after protocol.LockoutAfter wrong codes for
// a doubling time, so that a machine guessing codes blocks itself but not
// the installer; a global budget bounds guessing from many sources. It is
// guarded by Gateway.mu.
type guard struct {
	Sources map[string]*strike `json:"sources"`
	// Window and Count: wrong codes from anywhere since Window began;
	// GlobalUntil: no pairing from anywhere before it.
	Window      time.Time `json:"window,omitzero"`
	Count       int       `json:"count"`
	GlobalUntil time.Time `json:"global_until,omitzero"`
}

// sourceKey is the lockout source of a request's remote address: the IP, or
// for IPv6 its /64, since one host can use any address of its /64.
func sourceKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() != nil {
		return ip.To4().String()
	}
	return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}

// locked reports how long pairing stays refused for src.
func (g *guard) locked(src string, now time.Time) time.Duration {
	var d time.Duration
	if now.Before(g.GlobalUntil) {
		d = g.GlobalUntil.Sub(now)
	}
	if s := g.Sources[src]; s != nil && now.Before(s.LockedUntil) {
		d = max(d, s.LockedUntil.Sub(now))
	}
	return d
}

// fail counts a wrong code from src and returns the lockout it starts, if
// any.
func (g *guard) fail(src string, now time.Time) (time.Duration, bool) {
	if g.Sources == nil {
		g.Sources = map[string]*strike{}
	}
	s := g.Sources[src]
	if s == nil {
		g.prune(now)
		s = &strike{}
		g.Sources[src] = s
	}
	if now.Sub(s.Last) > LockoutMax && !now.Before(s.LockedUntil) {
		// Quiet for longer than the longest lockout: a fresh start, so
		// that a typo months after an attack is not punished for it.
		*s = strike{}
	}
	s.Last = now
	s.Failures++
	var d time.Duration
	if s.Failures >= protocol.LockoutAfter {
		d = min(LockoutBase<<min(s.Level, 20), LockoutMax)
		s.LockedUntil = now.Add(d)
		s.Level++
		s.Failures = 0
	}
	if now.Sub(g.Window) >= GlobalWindow {
		g.Window, g.Count = now, 0
	}
	g.Count++
	if g.Count >= GlobalLockoutAfter {
		g.GlobalUntil = g.Window.Add(GlobalWindow)
		d = max(d, g.GlobalUntil.Sub(now))
	}
	return d, d > 0
}

// succeed forgets src's wrong codes after a correct one.
func (g *guard) succeed(src string) {
	delete(g.Sources, src)
}

// prune makes room for a new source: it drops sources that are not locked,
// oldest first, and as a last resort the oldest of all.
func (g *guard) prune(now time.Time) {
	for len(g.Sources) >= maxSources {
		var oldest string
		var oldestAt time.Time
		free := false
		for k, s := range g.Sources {
			isFree := !now.Before(s.LockedUntil)
			if oldest == "" || isFree && !free || isFree == free && s.Last.Before(oldestAt) {
				oldest, oldestAt, free = k, s.Last, isFree
			}
		}
		delete(g.Sources, oldest)
	}
}

// loadGuard reads the guard from dir; a missing file is a fresh guard.
func loadGuard(dir string) (guard, error) {
	var g guard
	data, err := os.ReadFile(filepath.Join(dir, guardFile))
	if errors.Is(err, fs.ErrNotExist) {
		return g, nil
	}
	if err != nil {
		return g, fmt.Errorf("reading the pairing guard: %w", err)
	}
	if err := json.Unmarshal(data, &g); err != nil {
		return guard{}, fmt.Errorf("reading %s: %w", filepath.Join(dir, guardFile), err)
	}
	return g, nil
}

// save writes the guard to dir atomically.
func (g *guard) save(dir string) error {
	data, err := json.Marshal(g)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, guardFile), data)
}

// writeFileAtomic writes data to path through a synced temporary file and a
// rename, so that a crash leaves the old or the new content, never a torn
// one.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		// The rename is only durable once the directory entry is: without
		// this a power cut right after pairing could bring the old state back.
		err = syncDir(filepath.Dir(path))
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
