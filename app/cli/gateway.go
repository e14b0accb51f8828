package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/discover"
	"github.com/zevdesk/zevdesk/ingest/gateway"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	_ "github.com/zevdesk/zevdesk/ingest/gateway/driver/modbus" // registers "modbus"
	_ "github.com/zevdesk/zevdesk/ingest/gateway/driver/shelly" // registers "shelly"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver/simulator"
	"github.com/zevdesk/zevdesk/ingest/importer"
	"github.com/zevdesk/zevdesk/ingest/protocol"
	"github.com/zevdesk/zevdesk/ingest/sim"
)

func init() {
	Register(Command{
		Name: "gateway",
		Args: "[--simulate [--history DAYS] [--speed N] [--seed N] [--units N] [--print-site]] [--device DRIVER:ID:key=value,...]... [--listen ADDR] [--data DIR] [--no-mdns]",
		Summary: "run the gateway agent: read meters (or simulate a building), buffer the records and serve them " +
			"to the paired office over HTTPS (docs/protocol.md)",
		Run:   runGateway,
		Owner: NoDatabase,
	})
	Register(Command{
		Name:    "gateway status",
		Args:    "[--data DIR]",
		Summary: "show a gateway's id, certificate fingerprint, pairing code, pairing, pairing window and lockouts",
		Run:     runGatewayStatus,
		Owner:   NoDatabase,
	})
	Register(Command{
		Name:    "gateway init",
		Args:    "[--data DIR]",
		Summary: "on the gateway: make its key, certificate and pairing code now (as its first start would) and print them; an installed package runs it",
		Run:     runGatewayInit,
		Owner:   NoDatabase,
	})
	Register(Command{
		Name: "gateway open-pairing",
		Args: "[--data DIR]",
		Summary: "on the gateway: let a paired gateway accept one new pairing within the next 10 minutes " +
			"(works while the gateway runs) and clear its pairing lockouts",
		Run:   runGatewayOpenPairing,
		Owner: NoDatabase,
	})
}

// gatewayContext gives the gateway command the context it runs in: until
// SIGINT or SIGTERM. Tests replace it to stop the gateway themselves.
var gatewayContext = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// DefaultGatewayDir is the gateway's data directory when --data is not
// given: /var/lib/zevdesk-gateway when run as root (the service), else in the
// user's config directory.
func DefaultGatewayDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/zevdesk-gateway"
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = "."
	}
	return filepath.Join(dir, "zevdesk-gateway")
}

// multiFlag collects a repeated string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type gatewayFlags struct {
	simulate, printSite, noMDNS bool
	history                     int
	listen, data, model, siteID string
	speed                       float64
	seed                        int64
	units, ev                   int
	pvKWp                       float64
	heatPump                    bool
	devices                     multiFlag
}

func parseGatewayFlags(args []string) (*gatewayFlags, error) {
	var f gatewayFlags
	fs := NewFlagSet("gateway")
	fs.BoolVar(&f.simulate, "simulate", false, "simulate a building instead of reading real meters")
	fs.IntVar(&f.history, "history", 7, "with --simulate: days of 15-minute history to buffer before now")
	fs.StringVar(&f.listen, "listen", ":8443", "HTTPS address to listen on")
	fs.StringVar(&f.data, "data", DefaultGatewayDir(), "data directory (key, certificate, pairing, buffer)")
	fs.Float64Var(&f.speed, "speed", 1, "with --simulate: how much faster than real time the clock runs")
	// The defaults simulate the demo site's building, so that a simulated
	// gateway paired with the demo site continues its history.
	fs.Int64Var(&f.seed, "seed", demoSeed, "with --simulate: the simulation's seed (the defaults simulate the demo site's building)")
	fs.IntVar(&f.units, "units", 12, "with --simulate: number of apartments")
	fs.Float64Var(&f.pvKWp, "pv-kwp", 30, "with --simulate: PV peak power in kW")
	fs.BoolVar(&f.heatPump, "heatpump", true, "with --simulate: a shared heat pump")
	fs.IntVar(&f.ev, "ev", DemoConfig(nil, time.Time{}).EVChargers, "with --simulate: number of EV chargers")
	fs.BoolVar(&f.printSite, "print-site", false, "with --simulate: print the simulated building as a site file and exit")
	fs.StringVar(&f.siteID, "site-id", "sim", "with --print-site: the site id")
	fs.StringVar(&f.model, "model", gateway.DefaultModel, "the model name to advertise")
	fs.BoolVar(&f.noMDNS, "no-mdns", false, "do not announce the gateway by mDNS")
	fs.Var(&f.devices, "device", "a meter device: DRIVER:ID:key=value,... (drivers: "+strings.Join(driver.Names(), ", ")+"); repeatable")
	pos, err := ParseFlags("gateway", fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, Usagef("gateway", "unexpected argument %q", pos[0])
	}
	switch {
	case f.speed <= 0 || f.speed > 100_000:
		return nil, Usagef("gateway", "--speed %v: expected a number from 1 to 100000", f.speed)
	case f.history < 0 || f.history > 366:
		return nil, Usagef("gateway", "--history %d: expected 0 to 366 days", f.history)
	case f.units < 1 || f.units > 500:
		return nil, Usagef("gateway", "--units %d: expected 1 to 500", f.units)
	case f.printSite && !f.simulate:
		return nil, Usagef("gateway", "--print-site needs --simulate")
	case !f.simulate && len(f.devices) == 0:
		return nil, Usagef("gateway", "nothing to read: give --simulate or at least one --device")
	}
	return &f, nil
}

func (f *gatewayFlags) simConfig() sim.Config {
	return sim.Config{Seed: f.seed, Units: f.units, PVkWp: f.pvKWp, HeatPump: f.heatPump, EVChargers: f.ev}
}

func runGateway(env *Env, args []string) error {
	f, err := parseGatewayFlags(args)
	if err != nil {
		return err
	}
	if f.printSite {
		return writeSiteTOML(env.Stdout, sim.New(f.simConfig()).Site(f.siteID))
	}
	ctx, stop := gatewayContext()
	defer stop()
	log := slog.New(slog.NewTextHandler(env.Stderr, nil))

	var clock core.Clock = env.Clock
	if f.simulate && f.speed != 1 {
		now := env.Clock.Now()
		clock = gateway.ScaledClock{Start: now, Origin: now, Speed: f.speed, Real: env.Clock}
	}
	var drivers []driver.Driver
	if f.simulate {
		drivers = append(drivers, simulator.New(sim.New(f.simConfig()), clock))
	}
	for _, spec := range f.devices {
		name, dcfg, err := driver.ParseSpec(spec)
		if err != nil {
			return Usagef("gateway", "--device: %v", err)
		}
		dcfg.Clock = clock
		d, err := driver.New(ctx, name, dcfg)
		if err != nil {
			return err
		}
		if c, ok := d.(driver.Closer); ok {
			defer c.Close()
		}
		drivers = append(drivers, d)
	}

	var adv *discover.Advertiser
	g, err := gateway.New(gateway.Config{
		Dir:       f.data,
		OpenStore: func(path string) (store.Store, error) { return bolt.Open(path, nil) },
		Drivers:   drivers,
		Model:     f.model,
		Clock:     clock,
		Wall:      env.Clock,
		Logger:    log,
		OnPaired: func() {
			if adv != nil {
				if err := adv.SetPaired(true); err != nil {
					log.Warn("updating the mDNS announcement", "err", err)
				}
			}
		},
	})
	if err != nil {
		return err
	}
	defer g.Close()

	if f.simulate && f.history > 0 {
		now := clock.Now()
		from := now.AddDate(0, 0, -f.history)
		if last := g.Buffer().Stats().NewestTime; last.After(from) {
			from = last // a restart: continue where the buffer ends
		}
		n, err := g.FillHistory(from, now)
		if err != nil {
			return err
		}
		if n > 0 {
			log.Info("filled the buffer with simulated history", "records", n, "from", from.Format(time.RFC3339))
		}
	}

	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", f.listen, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if !f.noMDNS {
		info := discover.Info{ID: g.ID(), Model: g.Model(), FW: gateway.FW, Port: port,
			FP: protocol.FingerprintPrefix(g.Fingerprint()), Paired: g.Paired()}
		// Listening on one address: announce that address only, and only
		// on its interface, so that nobody is sent where nothing listens.
		ip := ln.Addr().(*net.TCPAddr).IP
		if !ip.IsUnspecified() {
			info.IPs = []net.IP{ip}
			info.Interfaces, err = discover.InterfacesWith(ip)
		}
		if err == nil {
			adv, err = discover.Advertise(ctx, info)
		}
		if err != nil {
			log.Warn("mDNS announcement failed; pair by address instead", "err", err)
		} else {
			defer adv.Close()
		}
	}
	fmt.Fprintf(env.Stdout, "gateway %s (%s %s), %d meters\n", g.ID(), g.Model(), gateway.FW, len(g.Meters()))
	fmt.Fprintf(env.Stdout, "listening on https://%s\n", ln.Addr())
	fmt.Fprintf(env.Stdout, "certificate fingerprint: %s\n", g.Fingerprint())
	fmt.Fprintf(env.Stdout, "pairing code: %s\n", g.Code())
	if err := g.Run(ctx, ln); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "gateway stopped")
	return nil
}

func runGatewayInit(env *Env, args []string) error {
	fs := NewFlagSet("gateway init")
	data := fs.String("data", DefaultGatewayDir(), "data directory")
	if pos, err := ParseFlags("gateway init", fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return Usagef("gateway init", "unexpected argument %q", pos[0])
	}
	info, err := gateway.Init(*data, env.Clock.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "gateway: %s\n", info.ID)
	fmt.Fprintf(env.Stdout, "certificate fingerprint: %s\n", info.Fingerprint)
	fmt.Fprintf(env.Stdout, "pairing code: %s\n", info.Code)
	return nil
}

func runGatewayStatus(env *Env, args []string) error {
	fs := NewFlagSet("gateway status")
	data := fs.String("data", DefaultGatewayDir(), "data directory")
	if pos, err := ParseFlags("gateway status", fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return Usagef("gateway status", "unexpected argument %q", pos[0])
	}
	now := env.Clock.Now()
	info, err := gateway.ReadInfo(*data, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "gateway: %s\n", info.ID)
	fmt.Fprintf(env.Stdout, "certificate fingerprint: %s\n", info.Fingerprint)
	fmt.Fprintf(env.Stdout, "pairing code: %s\n", info.Code)
	switch {
	case !info.WindowUntil.IsZero():
		fmt.Fprintf(env.Stdout, "pairing window: open until %s (the next pairing closes it)\n", info.WindowUntil.Format(time.RFC3339))
	case info.Paired:
		fmt.Fprintln(env.Stdout, "pairing window: closed (to pair another workstation: zevdesk gateway open-pairing)")
	default:
		fmt.Fprintln(env.Stdout, "pairing window: open (not paired yet)")
	}
	if info.Paired {
		fmt.Fprintf(env.Stdout, "paired: yes, with %q since %s\n", info.Client, info.PairedAt.Format(time.RFC3339))
	} else {
		fmt.Fprintln(env.Stdout, "paired: no")
	}
	// Lockouts explain a pairing that is refused (429): a machine on the
	// LAN guessing codes, or a mistyped code five times.
	srcs := make([]string, 0, len(info.Locked))
	for src := range info.Locked {
		srcs = append(srcs, src)
	}
	sort.Strings(srcs)
	for _, src := range srcs {
		fmt.Fprintf(env.Stdout, "pairing locked from %s until %s (wrong codes; open-pairing clears it)\n", src, info.Locked[src].Format(time.RFC3339))
	}
	return nil
}

func runGatewayOpenPairing(env *Env, args []string) error {
	fs := NewFlagSet("gateway open-pairing")
	data := fs.String("data", DefaultGatewayDir(), "the gateway's data directory")
	if pos, err := ParseFlags("gateway open-pairing", fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return Usagef("gateway open-pairing", "unexpected argument %q", pos[0])
	}
	until, err := gateway.OpenPairingWindow(*data, env.Clock.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "pairing window open until %s: pair the workstation now (one pairing; it replaces the current one)\n",
		until.Format(time.RFC3339))
	fmt.Fprintln(env.Stdout, "pairing lockouts cleared")
	return nil
}

// writeSiteTOML writes s as a site file (importer.WriteSite) under a
// comment saying where it comes from, so that `zevdesk site import` reads
// back the same site.
func writeSiteTOML(w io.Writer, s *core.Site) error {
	const head = "# Simulated building printed by `zevdesk gateway --simulate --print-site`: its meter ids are the\n" +
		"# simulator's, so the records of a simulated gateway are billable once this site is imported.\n"
	if _, err := io.WriteString(w, head); err != nil {
		return err
	}
	return importer.WriteSite(w, s)
}

var _ flag.Value = (*multiFlag)(nil)
