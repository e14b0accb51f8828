package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// guardFile keeps the pairing guard across restarts, so that pulling the
// plug does not hand a code guesser a fresh set of attempts.
const guardFile = "pairing-guard.json"

// Global throttle on wrong pairing codes, whatever their source: a token
// bucket of GlobalBurst wrong codes that refills one every GlobalRefill. A
// guesser who takes many addresses on the LAN still tests at most
// GlobalBurst + 1,440 = 1,460 codes a day (at that rate, searching half of
// the 10^8 codes takes about 94 years), and only while the gateway accepts
// pairing at all (unpaired, or its pairing window open). Unlike a lockout it cannot be
// used up in one burst for a day: once the burst is spent, everyone waits
// at most GlobalRefill for the next attempt.
const (
	GlobalBurst  = 20
	GlobalRefill = time.Minute
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
// the installer; a global throttle bounds guessing from many sources. It is
// guarded by Gateway.mu.
type guard struct {
	Sources map[string]*strike `json:"sources"`
	// Tokens is the global throttle's bucket at TokensAt (a zero TokensAt
	// is a full bucket).
	Tokens   float64   `json:"tokens"`
	TokensAt time.Time `json:"tokens_at,omitzero"`
	// WindowApplied is the pairing window (by its opening instant) whose
	// opening cleared the lockouts; WindowUsed the one a pairing used,
	// which closed it.
	WindowApplied time.Time `json:"window_applied,omitzero"`
	WindowUsed    time.Time `json:"window_used,omitzero"`
}

// sourceKey is the lockout source of a request's remote address: the IP, or
// for IPv6 its /64, since one host can use any address of its /64. A zone
// (fe80::1%eth0) is dropped, so that link-local addresses group by /64 too.
func sourceKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.Prefix(64)
	return p.String()
}

// tokens returns the global bucket's content at now.
func (g *guard) tokens(now time.Time) float64 {
	if g.TokensAt.IsZero() {
		return GlobalBurst
	}
	t := g.Tokens + float64(now.Sub(g.TokensAt))/float64(GlobalRefill)
	return min(max(t, 0), GlobalBurst)
}

// throttled reports how long until the global throttle allows testing a
// code again (0: now).
func (g *guard) throttled(now time.Time) time.Duration {
	t := g.tokens(now)
	if t >= 1 {
		return 0
	}
	return time.Duration((1 - t) * float64(GlobalRefill))
}

// clearLockouts forgets every source's wrong codes and refills the global
// bucket: the installer opened the pairing window at the gateway.
func (g *guard) clearLockouts() {
	g.Sources = nil
	g.Tokens, g.TokensAt = 0, time.Time{}
}

// locked reports how long pairing stays refused for src.
func (g *guard) locked(src string, now time.Time) time.Duration {
	if s := g.Sources[src]; s != nil && now.Before(s.LockedUntil) {
		return s.LockedUntil.Sub(now)
	}
	return 0
}

// fail counts a wrong code from src, takes it from the global bucket and
// returns the lockout of src it starts, if any.
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
	g.Tokens, g.TokensAt = g.tokens(now)-1, now
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
