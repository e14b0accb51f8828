package intake

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"

	"github.com/zevdesk/zevdesk/core/store"
)

// Collector keeps one intake loop (Client.Run) per pairing in the store:
// Sync starts a loop for each new pairing, restarts the loop of a pairing
// that changed (paired again, a site or meters assigned) and ends the loops
// of pairings that are gone. The window and `zevdesk serve` both run one,
// and call Sync when the store announces a commit, so that a gateway paired
// or assigned by a command beside them is ingested without a restart. Its
// methods are safe for concurrent use.
type Collector struct {
	st  store.Store
	opt Options
	// OnState, when set, is called from a loop's goroutine with each state
	// the loop reports (Client.Run's onState).
	OnState func(State)
	// OnStart, when set, is called with each loop's client before the loop
	// runs, and with the loop's context, which ends when the loop is
	// stopped; serve streams live power on it and follows gateways to new
	// addresses with it.
	OnStart func(ctx context.Context, p Pairing, c *Client)

	mu      sync.Mutex
	running map[string]*loop // by gateway id
	ended   []*loop          // loops of pairings gone, ending
	stopped bool
}

// loop is one gateway's intake loop and the pairing it was started with.
type loop struct {
	key    string // the pairing as JSON without its address, to notice changes
	client *Client
	cancel context.CancelFunc
	done   chan struct{}
}

// NewCollector returns a Collector of st's pairings, whose loops run with
// opt (nil: the defaults).
func NewCollector(st store.Store, opt *Options) *Collector {
	c := &Collector{st: st, running: map[string]*loop{}}
	if opt != nil {
		c.opt = *opt
	}
	return c
}

// Sync brings the loops in line with the stored pairings. A pairing whose
// address alone changed (mDNS found the gateway elsewhere) keeps its loop,
// which moves to the new address.
func (c *Collector) Sync() error {
	var ps []Pairing
	if err := c.st.View(func(tx store.Tx) (err error) { ps, err = Pairings(tx); return err }); err != nil {
		return fmt.Errorf("reading gateway pairings: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	seen := map[string]bool{}
	for _, p := range ps {
		seen[p.GatewayID] = true
		key := pairingKey(p)
		var prev chan struct{}
		if l, ok := c.running[p.GatewayID]; ok {
			if l.key == key {
				if l.client.Address() != p.Address {
					l.client.SetAddress(p.Address)
				}
				continue
			}
			l.cancel()
			prev = l.done
		}
		c.running[p.GatewayID] = c.start(p, key, prev)
	}
	for id, l := range c.running {
		if !seen[id] {
			l.cancel()
			delete(c.running, id)
			c.ended = append(c.ended, l)
		}
	}
	return nil
}

// pairingKey is p as JSON without its address.
func pairingKey(p Pairing) string {
	p.Address = ""
	b, _ := json.Marshal(p)
	return string(b)
}

// start runs p's loop once prev (the loop of its earlier pairing, if any)
// has ended: two loops of one gateway would commit its cursor in turn.
func (c *Collector) start(p Pairing, key string, prev <-chan struct{}) *loop {
	opt := c.opt
	cl := NewClient(c.st, p, &opt)
	ctx, cancel := context.WithCancel(context.Background())
	l := &loop{key: key, client: cl, cancel: cancel, done: make(chan struct{})}
	onState, onStart := c.OnState, c.OnStart
	go func() {
		defer close(l.done)
		defer cl.Close()
		if prev != nil {
			<-prev
		}
		if ctx.Err() != nil {
			return // replaced again before it started
		}
		if onStart != nil {
			onStart(ctx, p, cl)
		}
		slog.Info("ingesting from gateway", "gateway", p.GatewayID, "address", p.Address)
		err := cl.Run(ctx, func(s State) {
			if onState != nil {
				onState(s)
			}
		})
		if err != nil {
			slog.Error("gateway intake stopped", "gateway", p.GatewayID, "err", err)
		}
	}()
	return l
}

// Client returns the client of gateway id's running loop, or nil.
func (c *Collector) Client(id string) *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.running[id]; ok {
		return l.client
	}
	return nil
}

// Stop ends every loop and waits for them, so that no transaction is left
// running when the store closes. Sync does nothing after it.
func (c *Collector) Stop() {
	c.mu.Lock()
	c.stopped = true
	loops := c.ended
	for _, l := range c.running {
		loops = append(loops, l)
	}
	c.running, c.ended = map[string]*loop{}, nil
	c.mu.Unlock()
	for _, l := range loops {
		l.cancel()
		<-l.done // a replaced loop's successor waits for it first
	}
}
