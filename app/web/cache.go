package web

import (
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/residents"
	"github.com/zevdesk/zevdesk/core/store"
)

// summary is what the pages need of a billing run: the building's energy
// and each invoice's, by invoice key. One run serves every resident of the
// site who looks at the same days.
type summary struct {
	Building billing.Building
	KWh      map[string]billing.KWh
	Est      map[string]core.Energy
}

func summarize(run *billing.Run) summary {
	s := summary{Building: run.Building, KWh: map[string]billing.KWh{}, Est: map[string]core.Energy{}}
	for _, inv := range run.Invoices {
		s.KWh[inv.Key] = inv.KWh
		s.Est[inv.Key] = inv.EstimatedKWh
	}
	return s
}

// Cache lifetimes: figures that include recent days change as readings
// arrive, older ones only when the office corrects data. A resident sees
// such changes within the lifetime; the live value is never cached.
const (
	recentTTL = time.Minute
	pastTTL   = 10 * time.Minute
	// maxEntries bounds the cache; beyond it, it starts afresh.
	maxEntries = 4096
)

type cacheKey struct {
	site string
	kind string // "fig" or "bars/<view>"
	p    core.Period
}

type cacheEntry struct {
	done chan struct{} // closed when val and err are set
	val  any
	err  error
	exp  time.Time
}

// runCache keeps billing summaries for a while, and lets concurrent
// requests for the same one wait for a single computation (twenty
// residents opening the same month bill it once). Safe for concurrent use.
type runCache struct {
	clock core.Clock
	mu    sync.Mutex
	m     map[cacheKey]*cacheEntry
}

func newRunCache(c core.Clock) *runCache { return &runCache{clock: c, m: map[cacheKey]*cacheEntry{}} }

// get returns k's value, computing it with fn if it is missing or old.
// recent chooses the shorter lifetime. Errors are not kept.
func (c *runCache) get(k cacheKey, recent bool, fn func() (any, error)) (any, error) {
	now := c.clock.Now()
	c.mu.Lock()
	if e, ok := c.m[k]; ok {
		select {
		case <-e.done:
			if e.err == nil && now.Before(e.exp) {
				c.mu.Unlock()
				return e.val, nil
			}
		default: // being computed: wait for it
			c.mu.Unlock()
			<-e.done
			return e.val, e.err
		}
	}
	if len(c.m) >= maxEntries {
		clear(c.m)
	}
	e := &cacheEntry{done: make(chan struct{})}
	c.m[k] = e
	c.mu.Unlock()
	defer close(e.done)
	ttl := pastTTL
	if recent {
		ttl = recentTTL
	}
	e.exp = now.Add(ttl)
	e.val, e.err = fn()
	if e.err != nil {
		c.mu.Lock()
		if c.m[k] == e {
			delete(c.m, k)
		}
		c.mu.Unlock()
	}
	return e.val, e.err
}

// Warm fills the caches with what residents open first: for every link
// that opens now, its page's default view (the month of the stay's last
// day, in the occupancy's language) and that view's chart. Without it the
// first visitors after a start wait for the site's billing runs. Serve and
// ServeTLS start it in the background; it returns when done, and a request
// arriving meanwhile waits for the same run rather than starting another.
// Errors are logged, not returned: a page computes again what is missing.
func (s *Server) Warm() {
	now := s.opt.Clock.Now()
	var visits []*visit
	err := s.st.View(func(tx store.Tx) error {
		ids, err := tx.SiteIDs()
		if err != nil {
			return err
		}
		for _, id := range ids {
			site, err := tx.Site(id)
			if err != nil {
				return fmt.Errorf("loading site %s: %w", id, err)
			}
			es, err := residents.List(tx, site, nil, false, now)
			if err != nil {
				return fmt.Errorf("listing the links of site %s: %w", id, err)
			}
			for _, e := range es {
				if e.State != "active" {
					continue
				}
				res := &residents.Resident{Site: site, Occupancy: e.Occupancy, Link: e.Link}
				visits = append(visits, s.newVisit(res, "", url.Values{}, now))
			}
		}
		return nil
	})
	if err != nil {
		s.log.Warn("web: warming the caches", "error", err)
		return
	}
	for _, v := range visits {
		p, ok := v.period()
		if !ok {
			continue
		}
		if _, err := s.figures(v, p); err != nil {
			s.log.Warn("web: warming the caches", "site", v.res.Site.ID, "period", p.String(), "error", err)
			continue
		}
		if _, err := s.chartSVG(v); err != nil {
			s.log.Warn("web: warming the caches", "site", v.res.Site.ID, "period", p.String(), "error", err)
		}
	}
}
