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
		Args:    "[--web ADDR] [--no-mdns]",
		Summary: "headless: ingest from every paired gateway until interrupted",
		Run:     runServe,
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
	clients := map[string]*intake.Client{}
	for _, p := range ps {
		opt := serveOptions
		opt.Clock = env.Clock
		c := intake.NewClient(st, p, &opt)
		clients[p.GatewayID] = c
		say("gateway %s at %s: ingesting", p.GatewayID, p.Address)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			err := c.Run(ctx, func(s intake.State) {
				switch {
				case s.Err != "":
					say("gateway %s: %s (retrying)", s.Gateway, s.Err)
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
			followMoves(ctx, st, env, ps, clients, say)
		}()
	}
	<-ctx.Done()
	wg.Wait()
	say("stopped")
	return nil
}

// followMoves watches mDNS for paired gateways that answer at a new address
// (a new DHCP lease) and points their clients there. An announcement whose
// fingerprint prefix is not the pinned certificate's is ignored: the pin
// would refuse it anyway.
func followMoves(ctx context.Context, st store.Store, env *Env, ps []intake.Pairing, clients map[string]*intake.Client, say func(string, ...any)) {
	addr := map[string]string{}
	pin := map[string]string{}
	for _, p := range ps {
		addr[p.GatewayID], pin[p.GatewayID] = p.Address, p.Fingerprint
	}
	err := discover.Browse(ctx, discover.BrowseOptions{Interval: 30 * time.Second}, func(gs []discover.Gateway) {
		for _, g := range gs {
			c, ok := clients[g.ID]
			if !ok || g.Address == addr[g.ID] || g.FP == "" || !strings.HasPrefix(pin[g.ID], g.FP) {
				continue
			}
			c.SetAddress(g.Address)
			addr[g.ID] = g.Address
			if err := st.Update(func(tx store.Tx) error { return intake.UpdateAddress(tx, g.ID, g.Address, env.Clock.Now()) }); err != nil {
				slog.Error("serve: storing a gateway's new address", "gateway", g.ID, "error", err)
			}
			say("gateway %s: now at %s", g.ID, g.Address)
		}
	})
	if err != nil {
		slog.Warn("serve: mDNS unavailable; gateways are reached at their stored addresses", "error", err)
	}
}
