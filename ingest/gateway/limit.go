package gateway

import (
	"net"
	"sync"
	"time"
)

// Limits on /pair/start, which costs a key exchange share per request: per
// source a burst of PairStartBurst, then one every PairStartEvery; from
// everywhere together a burst of PairStartGlobalBurst, then one every
// PairStartGlobalEvery (50 a second: a few per cent of one core of a
// Raspberry Pi, and at most about 6,100 pending nonces within NonceTTL).
const (
	PairStartBurst       = 10
	PairStartEvery       = 2 * time.Second
	PairStartGlobalBurst = 100
	PairStartGlobalEvery = 20 * time.Millisecond
	// maxRateSources bounds the per-source buckets kept in memory.
	maxRateSources = 4096
)

// Connection limits (Config.MaxConns, MaxConnsPerSource). An idle TLS
// connection costs the gateway about 40 KB, so the defaults keep a flood
// under 10 MB; the office needs a handful (its intake, live streams, the
// setup wizard).
const (
	DefaultMaxConns          = 128
	DefaultMaxConnsPerSource = 16
	// reservedConns are connections beyond MaxConns that only the paired
	// office's source may use, so that sources filling MaxConns together
	// do not cut the office off.
	reservedConns = 16
	// DefaultIdleTimeout closes a connection that sends no request for
	// this long (also the bound on a TLS handshake and a request's
	// headers, at most 10 s).
	DefaultIdleTimeout = 30 * time.Second
)

// bucket is a token bucket's state: tokens at at (a zero at is full).
type bucket struct {
	tokens float64
	at     time.Time
}

// rate is a token bucket's shape: burst tokens, one more every every.
type rate struct {
	burst float64
	every time.Duration
}

func (r rate) level(b *bucket, now time.Time) float64 {
	if b.at.IsZero() {
		return r.burst
	}
	return min(max(b.tokens+float64(now.Sub(b.at))/float64(r.every), 0), r.burst)
}

// wait returns how long until b holds a token (0: it does now).
func (r rate) wait(b *bucket, now time.Time) time.Duration {
	l := r.level(b, now)
	if l >= 1 {
		return 0
	}
	return time.Duration((1 - l) * float64(r.every))
}

func (r rate) take(b *bucket, now time.Time) {
	b.tokens, b.at = r.level(b, now)-1, now
}

// rateLimiter limits requests per source and from everywhere together. It
// is not safe for concurrent use (Gateway.mu guards it).
type rateLimiter struct {
	perSource, total rate
	sources          map[string]*bucket
	all              bucket
}

// allow takes a token for src if both its bucket and the total one have
// one, else it returns how long to wait.
func (l *rateLimiter) allow(src string, now time.Time) time.Duration {
	if l.sources == nil {
		l.sources = map[string]*bucket{}
	}
	b := l.sources[src]
	if b == nil {
		if len(l.sources) >= maxRateSources {
			// Full buckets hold nothing worth keeping; if too few are
			// full, the total bucket still bounds whoever gets a fresh one.
			for k, o := range l.sources {
				if l.perSource.level(o, now) >= l.perSource.burst {
					delete(l.sources, k)
				}
			}
			for k := range l.sources {
				if len(l.sources) < maxRateSources/2 {
					break
				}
				delete(l.sources, k)
			}
		}
		b = &bucket{}
		l.sources[src] = b
	}
	if d := max(l.perSource.wait(b, now), l.total.wait(&l.all, now)); d > 0 {
		return d
	}
	l.perSource.take(b, now)
	l.total.take(&l.all, now)
	return 0
}

// connLimiter is a listener that refuses (closes at once) connections
// beyond max in total or perSource from one source (sourceKey), with
// reserved more for the paired office's source. It is safe for concurrent
// use.
type connLimiter struct {
	net.Listener
	max, perSource, reserved int
	// office returns the paired office's source ("" when unknown).
	office func() string

	mu       sync.Mutex
	open     int
	bySource map[string]int
	refused  int // since start, for tests and logs
	accepted int
}

func newConnLimiter(ln net.Listener, max, perSource int, office func() string) *connLimiter {
	return &connLimiter{Listener: ln, max: max, perSource: perSource, reserved: reservedConns, office: office, bySource: map[string]int{}}
}

// Accept returns the next connection within the limits.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		src := sourceKey(c.RemoteAddr().String())
		if l.admit(src) {
			return &limitedConn{Conn: c, l: l, src: src}, nil
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // a reset: no TIME_WAIT kept for a flood
		}
		c.Close()
	}
}

func (l *connLimiter) admit(src string) bool {
	office := l.office()
	l.mu.Lock()
	defer l.mu.Unlock()
	limit := l.max
	if office != "" && src == office {
		limit += l.reserved
	}
	if l.open >= limit || l.bySource[src] >= l.perSource {
		l.refused++
		return false
	}
	l.open++
	l.bySource[src]++
	l.accepted++
	return true
}

func (l *connLimiter) release(src string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.bySource[src]--; l.bySource[src] <= 0 {
		delete(l.bySource, src)
	}
}

// counts returns the connections open, accepted and refused so far.
func (l *connLimiter) counts() (open, accepted, refused int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open, l.accepted, l.refused
}

// limitedConn gives its slot back when closed (once, however often the
// server and TLS close it).
type limitedConn struct {
	net.Conn
	l    *connLimiter
	src  string
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.src) })
	return err
}
