package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/zevdesk/zevdesk/app/web"
	"github.com/zevdesk/zevdesk/core/residents"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/discover"
	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

func init() {
	Register(Command{
		Name:    "serve",
		Args:    "[--web ADDR [--tls | --tls-cert FILE --tls-key FILE]] [--no-mdns]",
		Summary: "headless: ingest from every paired gateway until interrupted; --web also serves the resident web view on ADDR",
		Run:     runServe,
		Owner:   RefuseOwner,
	})
}

// serveOptions are the intake options of `zevdesk serve`; tests shorten
// the poll.
var serveOptions = intake.Options{Poll: 30 * time.Second}

func runServe(env *Env, args []string) error {
	fs := NewFlagSet("serve")
	webAddr := fs.String("web", "", "serve the resident web view on ADDR (host:port, e.g. :8443)")
	useTLS := fs.Bool("tls", false, "serve the view over HTTPS with the workstation's own certificate (made beside the database on first use)")
	certFile := fs.String("tls-cert", "", "serve the view over HTTPS with this certificate (PEM), e.g. the office's own")
	keyFile := fs.String("tls-key", "", "the private key (PEM) of --tls-cert")
	noMDNS := fs.Bool("no-mdns", false, "do not follow gateways to new addresses by mDNS")
	rest, err := ParseFlags("serve", fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return Usagef("serve", "unexpected argument %q", rest[0])
	}
	if (*certFile == "") != (*keyFile == "") {
		return Usagef("serve", "--tls-cert and --tls-key go together")
	}
	if *webAddr == "" && (*useTLS || *certFile != "") {
		return Usagef("serve", "--tls and --tls-cert apply to --web")
	}
	if *useTLS && *certFile != "" {
		return Usagef("serve", "--tls makes the workstation's own certificate; --tls-cert gives another: choose one")
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
	if len(ps) == 0 && *webAddr == "" {
		return fmt.Errorf("no paired gateway in %s: pair one first (zevdesk pair --gateway ID --code CODE)", env.DBName())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var feed *web.Feed
	if *webAddr != "" {
		feed = web.NewFeed()
		stopWeb, err := startWeb(env, st, feed, *webAddr, *useTLS, *certFile, *keyFile)
		if err != nil {
			return err
		}
		defer stopWeb()
	}
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
	opt := serveOptions
	opt.Clock = env.Clock
	coll := intake.NewCollector(st, &opt)
	mv := &mover{st: st, env: env, say: say, coll: coll, live: map[string]*intake.Client{}, pin: map[string]string{}, seen: map[string]string{}}
	coll.OnStart = func(ctx context.Context, p intake.Pairing, c *intake.Client) {
		mv.started(p)
		say("gateway %s at %s: ingesting", p.GatewayID, p.Address)
		if feed == nil || p.Site == "" {
			return
		}
		// The view's live power: the gateway's stream, on a client of its
		// own beside the pull loop's, for as long as the loop runs. Stop
		// waits for every loop, and so for every Add, before wg.Wait.
		lc := intake.NewClient(st, p, &opt)
		mv.setLive(p.GatewayID, lc)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer lc.Close()
			defer mv.endLive(p.GatewayID, lc)
			if err := lc.Live(ctx, func(ev protocol.Live) { feed.Gateway(p, ev) }); err != nil && ctx.Err() == nil {
				slog.Error("serve: a gateway's live stream stopped", "gateway", p.GatewayID, "error", err)
			}
		}()
	}
	coll.OnState = func(s intake.State) {
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
	}
	if err := coll.Sync(); err != nil {
		return err
	}
	defer coll.Stop()
	// A gateway paired or assigned by a command beside serve (which runs
	// here, on this store) starts or restarts its loop at once.
	if n, ok := st.(store.Notifier); ok {
		stopNotify := n.Subscribe(func() {
			if err := coll.Sync(); err != nil {
				slog.Error("serve: following gateway pairings", "error", err)
			}
		})
		defer stopNotify()
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
	coll.Stop()
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
	st   store.Store
	env  *Env
	say  func(string, ...any)
	coll *intake.Collector // the pull loops' clients

	mu   sync.Mutex
	live map[string]*intake.Client // the live streams' clients, by gateway id
	pin  map[string]string         // pinned fingerprints, by gateway id
	seen map[string]string         // gateway id → the address mDNS last announced
}

// started notes the pin of a pairing whose loop starts.
func (m *mover) started(p intake.Pairing) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pin[p.GatewayID] = p.Fingerprint
}

// setLive notes gateway id's live-stream client.
func (m *mover) setLive(id string, c *intake.Client) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.live[id] = c
}

// endLive forgets gateway id's live-stream client c when its stream ended,
// unless a restarted loop's stream has replaced it meanwhile.
func (m *mover) endLive(id string, c *intake.Client) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.live[id] == c {
		delete(m.live, id)
	}
}

// announced takes a new mDNS list (from Browse's goroutine).
func (m *mover) announced(gs []discover.Gateway) {
	m.mu.Lock()
	for _, g := range gs {
		if pin, ok := m.pin[g.ID]; ok && g.FP != "" && strings.HasPrefix(pin, g.FP) {
			m.seen[g.ID] = g.Address
		}
	}
	m.mu.Unlock()
	for _, g := range gs {
		if c := m.coll.Client(g.ID); c != nil && c.State().Err != "" {
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
	c := m.coll.Client(id)
	if addr == "" || c == nil || addr == c.Address() {
		return
	}
	c.SetAddress(addr)
	if lc := m.live[id]; lc != nil {
		lc.SetAddress(addr)
	}
	if err := m.st.Update(func(tx store.Tx) error { return intake.UpdateAddress(tx, id, addr, m.env.Clock.Now()) }); err != nil {
		slog.Error("serve: storing a gateway's new address", "gateway", id, "error", err)
	}
	m.say("gateway %s: now at %s", id, addr)
}

// startWeb serves the resident view on addr and returns the function that
// stops it. Links printed on inserts point to the address stored with
// `residents --base`; the view's own address is printed for it.
func startWeb(env *Env, st store.Store, feed *web.Feed, addr string, useTLS bool, certFile, keyFile string) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--web: %w", err)
	}
	var base string
	if err := st.View(func(tx store.Tx) (err error) { base, err = residents.BaseURL(tx); return err }); err != nil {
		ln.Close()
		return nil, err
	}
	srv := web.New(st, web.Options{Clock: env.Clock, Live: feed, BaseURL: base})
	scheme := "http"
	var serve func() error
	switch {
	case useTLS || certFile != "":
		scheme = "https"
		if useTLS {
			certFile, keyFile = SideFiles(env.DBPath)+".web.crt", SideFiles(env.DBPath)+".web.key"
		}
		cert, fp, err := web.WorkstationCert(certFile, keyFile, env.Clock.Now())
		if err != nil {
			ln.Close()
			return nil, err
		}
		fmt.Fprintf(env.Stdout, "resident view: certificate %s (SHA-256 %s)\n", certFile, fp)
		serve = func() error { return srv.ServeTLS(ln, cert) }
	default:
		serve = func() error { return srv.Serve(ln) }
	}
	fmt.Fprintf(env.Stdout, "resident view at %s://%s\n", scheme, ln.Addr())
	if base == "" {
		fmt.Fprintf(env.Stdout, "resident view: set the address printed in the links with "+
			"zevdesk residents --site ID --base %s://HOST:%s\n", scheme, portOf(ln.Addr().String()))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := serve(); err != nil {
			slog.Error("serve: the resident view stopped", "error", err)
		}
	}()
	return func() {
		srv.Close()
		ln.Close()
		<-done
	}, nil
}

func portOf(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "PORT"
	}
	return port
}
