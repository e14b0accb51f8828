// Package gateway is the zevdesk gateway agent: it reads the building's
// meters through drivers (ingest/gateway/driver/...), keeps every reading in
// its own buffer with a strictly increasing sequence number, and serves them
// over HTTPS to the one office it is paired with (the protocol is in
// ingest/protocol and docs/protocol.md).
//
// A gateway's identity lives in its data directory: an ECDSA P-256 key with
// a self-signed certificate, an id, the 8-digit pairing code, and the hash of
// the paired office's token. The buffer lives there too (buffer/).
package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// Defaults.
const (
	DefaultPollInterval = core.SlotDuration
	DefaultLiveInterval = time.Second
	// DefaultRetention is how long records stay in the buffer at least
	// (DESIGN.md: at least 90 days).
	DefaultRetention = 90 * 24 * time.Hour
	DefaultModel     = "zevdesk-gateway"
)

// FW is the gateway software's version, advertised and reported in status.
var FW = "0.1.0"

// Config configures a Gateway. Zero fields take the defaults.
type Config struct {
	// Dir is the data directory (identity, state, buffer). Required.
	Dir string
	// OpenStore opens a buffer segment file (core/store/bolt). Required.
	OpenStore OpenStore
	// Drivers read the meters.
	Drivers []driver.Driver
	// Model is the gateway model reported in status and mDNS.
	Model string
	// Clock is the gateway's clock: it stamps records and is reported in
	// status. A simulation may run it faster than real time (ScaledClock).
	Clock core.Clock
	// Wall is real time, for what protects pairing (nonce expiry, lockout),
	// which must not speed up with a simulation. nil is the system clock.
	Wall core.Clock
	// PollInterval is how often the meters are read, on the gateway clock,
	// aligned to multiples of it since the epoch (default 15 minutes).
	PollInterval time.Duration
	// LiveInterval is the period of the live stream's events, in real time.
	LiveInterval time.Duration
	// Retention is how long records are kept at least; records the office
	// has not fetched are kept longer (see Buffer.Prune).
	Retention time.Duration
	// MaxRecords caps the buffer (default DefaultMaxRecords), the one
	// limit that drops records the office has not fetched.
	MaxRecords uint64
	// SegmentSpan is the time one buffer file covers (default 30 days).
	SegmentSpan time.Duration
	// Logger logs; nil means slog.Default().
	Logger *slog.Logger
	// OnPaired is called (from the pairing request's goroutine) after a
	// successful pairing: the mDNS announcement updates paired=1 with it.
	OnPaired func()
	// MaxConns bounds the connections open at once (default
	// DefaultMaxConns), MaxConnsPerSource those from one source, an IPv4
	// address or IPv6 /64 (default DefaultMaxConnsPerSource); the paired
	// office's source may use a few more than MaxConns. Connections beyond
	// them are closed at once.
	MaxConns, MaxConnsPerSource int
	// IdleTimeout closes a connection idle for this long (default
	// DefaultIdleTimeout); the TLS handshake and a request's headers must
	// arrive within it too (at most 10 s).
	IdleTimeout time.Duration
	// OnPolled, if set, is called by the poll loop after each scheduled
	// read with its instant, the number of records written and the error.
	OnPolled func(at time.Time, records int, err error)
}

// Gateway is a running gateway agent. Its methods are safe for concurrent
// use.
type Gateway struct {
	cfg    Config
	log    *slog.Logger
	buf    *Buffer
	start  time.Time // wall
	meters []protocol.Meter

	// gid and code never change; kept apart from id.state, which pairing
	// rewrites under mu.
	gid, code string

	mu  sync.Mutex // guards id.state and the pairing fields
	id  *identity
	pr  pairing
	pol sync.Mutex // serialises Poll

	pruneHeld atomic.Bool // logged that the clock is ahead of the records

	// office is the source (sourceKey) the paired office last came from,
	// for the connections reserved to it.
	office atomic.Pointer[string]
	conns  atomic.Pointer[connLimiter] // the running server's, for tests

	live *broadcaster
}

// New opens (creating on first start) the gateway in cfg.Dir.
func New(cfg Config) (*Gateway, error) {
	if cfg.Dir == "" || cfg.OpenStore == nil {
		return nil, errors.New("gateway: Dir and OpenStore are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = core.SystemClock{}
	}
	if cfg.Wall == nil {
		cfg.Wall = core.SystemClock{}
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.LiveInterval <= 0 {
		cfg.LiveInterval = DefaultLiveInterval
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Model == "" {
		cfg.Model = DefaultModel
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxConnsPerSource <= 0 {
		cfg.MaxConnsPerSource = DefaultMaxConnsPerSource
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	g := &Gateway{cfg: cfg, log: cfg.Logger, start: cfg.Wall.Now()}
	var err error
	if g.id, err = loadIdentity(cfg.Dir, cfg.Wall.Now(), true); err != nil {
		return nil, err
	}
	g.gid, g.code = g.id.state.ID, g.id.state.Code
	if g.pr.guard, err = loadGuard(cfg.Dir); err != nil {
		// Keep metering, but do not hand a guesser fresh attempts from a
		// damaged file either: pairing waits an hour.
		g.pr.guard = guard{TokensAt: cfg.Wall.Now()}
		g.log.Error("pairing guard unreadable: starting with an empty global bucket", "err", err)
	}
	g.pr.start = rateLimiter{
		perSource: rate{burst: PairStartBurst, every: PairStartEvery},
		total:     rate{burst: PairStartGlobalBurst, every: PairStartGlobalEvery},
	}
	g.setOffice(g.id.state.Source)
	seen := map[string]bool{}
	for _, d := range cfg.Drivers {
		for _, m := range d.Meters() {
			if seen[m.ID] {
				return nil, fmt.Errorf("gateway: two meters with id %q", m.ID)
			}
			seen[m.ID] = true
			g.meters = append(g.meters, m)
		}
	}
	if g.buf, err = OpenBuffer(filepath.Join(cfg.Dir, "buffer"), g.gid, cfg.OpenStore, cfg.SegmentSpan); err != nil {
		return nil, err
	}
	g.buf.log, g.buf.MaxRecords = g.log, cfg.MaxRecords
	g.live = newBroadcaster(g)
	return g, nil
}

// Close closes the buffer. Run must have returned.
func (g *Gateway) Close() error { return g.buf.Close() }

// ID returns the gateway's id.
func (g *Gateway) ID() string { return g.gid }

// Code returns the pairing code.
func (g *Gateway) Code() string { return g.code }

// Fingerprint returns the full fingerprint of the gateway's certificate.
func (g *Gateway) Fingerprint() string { return g.id.fp }

// Certificate returns the gateway's certificate.
func (g *Gateway) Certificate() tls.Certificate { return g.id.cert }

// Model returns the gateway model.
func (g *Gateway) Model() string { return g.cfg.Model }

// Paired reports whether an office is paired.
func (g *Gateway) Paired() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.id.state.TokenSHA256 != ""
}

// Buffer returns the gateway's record buffer.
func (g *Gateway) Buffer() *Buffer { return g.buf }

// Meters describes the meters the gateway reads.
func (g *Gateway) Meters() []protocol.Meter { return g.meters }

// TLSConfig returns the server's TLS configuration.
func (g *Gateway) TLSConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{g.id.cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}
}

// Poll reads every driver once and appends the readings to the buffer. at
// is the scheduled instant on the gateway clock: drivers that can read at an
// instant (the simulator) read exactly there, the others now.
func (g *Gateway) Poll(ctx context.Context, at time.Time) (int, error) {
	g.pol.Lock()
	defer g.pol.Unlock()
	var all []driver.Reading
	var errs []error
	for _, d := range g.cfg.Drivers {
		var rs []driver.Reading
		var err error
		if ra, ok := d.(driver.RegistersAtReader); ok && !at.IsZero() {
			rs, err = ra.RegistersAt(at)
		} else {
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			rs, err = d.Registers(rctx)
			cancel()
		}
		if err != nil {
			// One failing device must not stop the others being read.
			errs = append(errs, err)
			continue
		}
		all = append(all, rs...)
	}
	if _, err := g.buf.Append(all); err != nil {
		return 0, err
	}
	return len(all), errors.Join(errs...)
}

// FillHistory appends records for every poll instant in (from, to] from the
// drivers that can read at an instant (the simulator), so that a simulated
// gateway starts with a history. It returns the number of records written.
func (g *Gateway) FillHistory(from, to time.Time) (int, error) {
	var ras []driver.RegistersAtReader
	for _, d := range g.cfg.Drivers {
		if ra, ok := d.(driver.RegistersAtReader); ok {
			ras = append(ras, ra)
		}
	}
	if len(ras) == 0 {
		return 0, nil
	}
	g.pol.Lock()
	defer g.pol.Unlock()
	n := 0
	var batch []driver.Reading
	flush := func() error {
		if _, err := g.buf.Append(batch); err != nil {
			return err
		}
		n += len(batch)
		batch = batch[:0]
		return nil
	}
	for t := nextTick(from, g.cfg.PollInterval); !t.After(to); t = t.Add(g.cfg.PollInterval) {
		for _, ra := range ras {
			rs, err := ra.RegistersAt(t)
			if err != nil {
				return n, fmt.Errorf("filling history at %s: %w", t.Format(time.RFC3339), err)
			}
			batch = append(batch, rs...)
		}
		if len(batch) >= 5000 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, flush()
}

// nextTick returns the first multiple of every (since the epoch) after t.
func nextTick(t time.Time, every time.Duration) time.Time {
	return t.Truncate(every).Add(every).UTC()
}

// setOffice records the source the paired office comes from.
func (g *Gateway) setOffice(src string) {
	if p := g.office.Load(); p == nil || *p != src {
		g.office.Store(&src)
	}
}

// officeSource returns the paired office's source, "" when unknown.
func (g *Gateway) officeSource() string {
	if p := g.office.Load(); p != nil {
		return *p
	}
	return ""
}

// realDuration converts a duration on the gateway clock into real time.
func (g *Gateway) realDuration(d time.Duration) time.Duration {
	if s, ok := g.cfg.Clock.(interface {
		RealDuration(time.Duration) time.Duration
	}); ok {
		return s.RealDuration(d)
	}
	return d
}

// Run polls the meters, prunes the buffer and serves the API on ln until
// ctx is done, then shuts the server down gracefully.
func (g *Gateway) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler: g.Handler(),
		// Also the TLS handshake's deadline (net/http takes the shortest
		// of its read and write timeouts for it).
		ReadHeaderTimeout: min(10*time.Second, g.cfg.IdleTimeout),
		IdleTimeout:       g.cfg.IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); g.pollLoop(ctx) }()
	go func() { defer wg.Done(); g.live.run(ctx) }()
	go func() { defer wg.Done(); g.pruneLoop(ctx) }()
	errc := make(chan error, 1)
	lim := newConnLimiter(ln, g.cfg.MaxConns, g.cfg.MaxConnsPerSource, g.officeSource)
	g.conns.Store(lim)
	go func() { errc <- srv.Serve(tls.NewListener(lim, g.TLSConfig())) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil && err == nil {
		err = serr
	}
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (g *Gateway) pollLoop(ctx context.Context) {
	next := nextTick(g.cfg.Clock.Now(), g.cfg.PollInterval)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := next.Sub(g.cfg.Clock.Now())
		if wait <= 0 {
			n, err := g.Poll(ctx, next)
			if err != nil {
				g.log.Warn("reading meters", "err", err, "records", n)
			}
			if g.cfg.OnPolled != nil {
				g.cfg.OnPolled(next, n, err)
			}
			next = nextTick(g.cfg.Clock.Now(), g.cfg.PollInterval)
			continue
		}
		timer.Reset(g.realDuration(wait))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
	}
}

// ackRecords notes that the office asked for records after seq, so holds
// every record up to it (see Buffer.Ack).
func (g *Gateway) ackRecords(seq uint64) {
	if err := g.buf.Ack(seq); err != nil {
		// Serve anyway: the last acknowledgement on disk is older, which
		// only keeps more.
		g.log.Error("recording the office's acknowledgement", "seq", seq, "err", err)
	}
}

// prune applies the retention once, measured from the gateway clock. A
// clock more than MaxClockJump ahead of the newest record (it jumped and
// the meters have not been read since, or they cannot be read) is not
// trusted: nothing is pruned until a record stamped with it has been
// fetched (Buffer.Prune's hold).
func (g *Gateway) prune() {
	now := g.cfg.Clock.Now()
	if newest := g.buf.Stats().NewestTime; !newest.IsZero() && now.Sub(newest) > MaxClockJump {
		if !g.pruneHeld.Swap(true) {
			g.log.Warn("the gateway clock is far ahead of the newest record: not pruning the buffer",
				"now", now, "newest_record", newest)
		}
		return
	}
	g.pruneHeld.Store(false)
	n, err := g.buf.Prune(now.Add(-g.cfg.Retention))
	if err != nil {
		g.log.Warn("pruning the buffer", "err", err)
	} else if n > 0 {
		g.log.Info("pruned the buffer", "records", n)
	}
}

func (g *Gateway) pruneLoop(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		g.prune()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ScaledClock is a clock that runs Speed times faster than real time from
// Start on, for simulations ("--speed 60": an hour a minute).
type ScaledClock struct {
	Start  time.Time // the clock's time at Origin
	Origin time.Time // the real time at which it showed Start
	Speed  float64
	Real   core.Clock // real time; nil is the system clock
}

// Now returns the scaled time.
func (c ScaledClock) Now() time.Time {
	real := c.Real
	if real == nil {
		real = core.SystemClock{}
	}
	return c.Start.Add(time.Duration(float64(real.Now().Sub(c.Origin)) * c.Speed))
}

// RealDuration returns how long d on this clock takes in real time.
func (c ScaledClock) RealDuration(d time.Duration) time.Duration {
	if c.Speed <= 0 {
		return d
	}
	return time.Duration(float64(d) / c.Speed)
}
