package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/discover"
	"github.com/zevdesk/zevdesk/ingest/intake"
)

func init() {
	Register(Command{
		Name:    "serve",
		Args:    "[--no-mdns]", // --web (the resident web view) is not built yet
		Summary: "headless: ingest from every paired gateway until interrupted",
		Run:     runServe,
		Owner:   RefuseOwner,
	})
}

// serveOptions are the intake options of `zevdesk serve`; tests shorten
// the poll.
var serveOptions = intake.Options{Poll: 30 * time.Second}

func runServe(env *Env, args []string) error {
	fs := NewFlagSet("serve")
	web := fs.String("web", "", "serve the resident web view on ADDR (not available yet)")
	noMDNS := fs.Bool("no-mdns", false, "do not follow gateways to new addresses by mDNS")
	rest, err := ParseFlags("serve", fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return Usagef("serve", "unexpected argument %q", rest[0])
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	// Commands started beside serve run here, on its open store.
	if stopOwner, err := env.ServeOwner(nil); err != nil {
		slog.Warn("serve: other commands cannot reach the database while serve runs", "err", err)
	} else {
		defer stopOwner()
	}
	var ps []intake.Pairing
	if err := st.View(func(tx store.Tx) (err error) { ps, err = intake.Pairings(tx); return err }); err != nil {
		return err
	}
	if len(ps) == 0 {
		return fmt.Errorf("no paired gateway in %s: pair one first (zevdesk pair --gateway ID --code CODE)", env.DBPath)
	}
	if *web != "" {
		fmt.Fprintf(env.Stderr, "zevdesk serve: the resident web view is not available yet; ignoring --web %s and only ingesting\n", *web)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := env.StartBackups(ctx); err != nil {
		return err
	}

	var mu sync.Mutex // serialises output lines
	say := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(env.Stdout, format+"\n", a...)
	}
	var wg sync.WaitGroup
	mv := &mover{st: st, env: env, say: say, clients: map[string]*intake.Client{}, pin: map[string]string{}, seen: map[string]string{}}
	for _, p := range ps {
		opt := serveOptions
		opt.Clock = env.Clock
		c := intake.NewClient(st, p, &opt)
		mv.clients[p.GatewayID], mv.pin[p.GatewayID] = c, p.Fingerprint
		say("gateway %s at %s: ingesting", p.GatewayID, p.Address)
	}
	for _, p := range ps {
		c := mv.clients[p.GatewayID]
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			err := c.Run(ctx, func(s intake.State) {
				switch {
				case s.Err != "":
					say("gateway %s: %s (retrying)", s.Gateway, s.Err)
					mv.failing(s.Gateway)
				case s.Behind == 0:
					say("gateway %s: caught up at record %d", s.Gateway, s.Cursor)
				default:
					say("gateway %s: at record %d, %d behind", s.Gateway, s.Cursor, s.Behind)
				}
				if s.SkewFlag {
					say("gateway %s: its clock is off by %s: set its time (NTP)", s.Gateway, s.ClockSkew.Round(time.Second))
				}
				if s.Lost != "" {
					say("gateway %s: %s", s.Gateway, s.Lost)
				}
			})
			if err != nil {
				slog.Error("serve: gateway stopped", "gateway", p.GatewayID, "error", err)
			}
		}()
	}
	if !*noMDNS {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := discover.Browse(ctx, discover.BrowseOptions{Interval: 30 * time.Second}, mv.announced)
			if err != nil {
				slog.Warn("serve: mDNS unavailable; gateways are reached at their stored addresses", "error", err)
			}
		}()
	}
	<-ctx.Done()
	wg.Wait()
	say("stopped")
	return nil
}

// mover follows paired gateways to a new address (a new DHCP lease) found
// by mDNS. It moves a client only while the client cannot reach the gateway
// at its current address, so that an announcement elsewhere (a gateway with
// two addresses, or someone on the LAN announcing the same id) never takes
// a working connection away; and only to an announcement whose fingerprint
// prefix matches the pin (the pin would refuse any other anyway).
type mover struct {
	st      store.Store
	env     *Env
	say     func(string, ...any)
	clients map[string]*intake.Client // by gateway id; fixed after start
	pin     map[string]string         // pinned fingerprints; fixed after start

	mu   sync.Mutex
	seen map[string]string // gateway id → the address mDNS last announced
}

// announced takes a new mDNS list (from Browse's goroutine).
func (m *mover) announced(gs []discover.Gateway) {
	m.mu.Lock()
	for _, g := range gs {
		if _, ok := m.clients[g.ID]; ok && g.FP != "" && strings.HasPrefix(m.pin[g.ID], g.FP) {
			m.seen[g.ID] = g.Address
		}
	}
	m.mu.Unlock()
	for _, g := range gs {
		if c, ok := m.clients[g.ID]; ok && c.State().Err != "" {
			m.failing(g.ID)
		}
	}
}

// failing is called when gateway id's client failed to reach it: it moves
// the client to the address mDNS announced, if that is another one.
func (m *mover) failing(id string) {
	m.mu.Lock() // held throughout: the client's and Browse's goroutines both call this
	defer m.mu.Unlock()
	addr := m.seen[id]
	c := m.clients[id]
	if addr == "" || c == nil || addr == c.Address() {
		return
	}
	c.SetAddress(addr)
	if err := m.st.Update(func(tx store.Tx) error { return intake.UpdateAddress(tx, id, addr, m.env.Clock.Now()) }); err != nil {
		slog.Error("serve: storing a gateway's new address", "gateway", id, "error", err)
	}
	m.say("gateway %s: now at %s", id, addr)
}
