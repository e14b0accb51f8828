package web

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/zevdesk/zevdesk/core"
)

// LimitOptions tune the rate limit of misses (requests with a token that
// opens nothing). Each source (an IPv4 address or an IPv6 /64) has a bucket
// that a miss fills by one and that empties by one every Leak; while it
// holds Burst or more, the source's requests for resident pages are
// answered 429 at once. A resident who mistyped a link is not bothered, a
// guesser gets one try per Leak.
type LimitOptions struct {
	Burst int           // default 20
	Leak  time.Duration // default 3 s
}

// maxSources bounds the limiter's memory: beyond it, emptied buckets are
// dropped, and if none is, the oldest state is forgotten.
const maxSources = 10000

type limiter struct {
	opt   LimitOptions
	clock core.Clock

	mu  sync.Mutex
	src map[string]*bucket
}

type bucket struct {
	level float64
	at    time.Time
}

func newLimiter(o LimitOptions, c core.Clock) *limiter {
	if o.Burst <= 0 {
		o.Burst = 20
	}
	if o.Leak <= 0 {
		o.Leak = 3 * time.Second
	}
	return &limiter{opt: o, clock: c, src: map[string]*bucket{}}
}

// source returns the request's source: its IPv4 address or IPv6 /64.
func source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String()
}

// level returns b's level at now (lock held).
func (l *limiter) level(b *bucket, now time.Time) float64 {
	return max(0, b.level-float64(now.Sub(b.at))/float64(l.opt.Leak))
}

// blocked reports whether src has missed too often lately.
func (l *limiter) blocked(src string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.src[src]
	return ok && l.level(b, l.clock.Now()) >= float64(l.opt.Burst)
}

// miss counts a miss of src.
func (l *limiter) miss(src string) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.src[src]
	if !ok {
		if len(l.src) >= maxSources {
			for k, v := range l.src {
				if l.level(v, now) == 0 {
					delete(l.src, k)
				}
			}
			if len(l.src) >= maxSources {
				clear(l.src)
			}
		}
		b = &bucket{at: now}
		l.src[src] = b
	}
	b.level = l.level(b, now) + 1
	b.at = now
}
