package web

import (
	"sync"
	"time"

	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// Live provides the meters' live power, for the page's "now".
type Live interface {
	// Latest returns the last known power of site's meters in W by site
	// meter id (import positive, export such as PV production negative),
	// each with the time it was measured. The map is the caller's.
	Latest(site string) map[string]Power
}

// Power is a meter's power in W at Time.
type Power struct {
	W    float64
	Time time.Time
}

// Feed is a Live that gateways' live streams feed: serve and the desktop
// app call Gateway for each event of intake.Client.Live. It is safe for
// concurrent use.
type Feed struct {
	mu    sync.Mutex
	sites map[string]map[string]Power
	// notify, when set, is called after each event (tests wait on it).
	notify func(site string)
}

// NewFeed returns an empty feed.
func NewFeed() *Feed { return &Feed{sites: map[string]map[string]Power{}} }

// Put records site's meters' power at t (site meter ids).
func (f *Feed) Put(site string, t time.Time, powerW map[string]float64) {
	f.mu.Lock()
	m := f.sites[site]
	if m == nil {
		m = map[string]Power{}
		f.sites[site] = m
	}
	for id, w := range powerW {
		m[id] = Power{W: w, Time: t}
	}
	notify := f.notify
	f.mu.Unlock()
	if notify != nil {
		notify(site)
	}
}

// Gateway records one live event of gateway p, mapping its meters to the
// site's. Events of a gateway not assigned to a site are dropped.
func (f *Feed) Gateway(p intake.Pairing, ev protocol.Live) {
	if p.Site == "" {
		return
	}
	m := make(map[string]float64, len(ev.PowerW))
	for id, w := range ev.PowerW {
		m[p.SiteMeter(id)] = w
	}
	f.Put(p.Site, ev.Time, m)
}

// OnEvent sets a function called after every event, with its site.
func (f *Feed) OnEvent(fn func(site string)) {
	f.mu.Lock()
	f.notify = fn
	f.mu.Unlock()
}

// Latest implements Live.
func (f *Feed) Latest(site string) map[string]Power {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]Power, len(f.sites[site]))
	for k, v := range f.sites[site] {
		out[k] = v
	}
	return out
}

var _ Live = (*Feed)(nil)
