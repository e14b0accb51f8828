package ui

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/app/web"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/residents"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// Preferences of the resident web page served by the desktop app.
const (
	prefWebOn   = "web.on"   // bool: serve it (again at the next start)
	prefWebAddr = "web.addr" // the address to listen on, host:port
	prefWebTLS  = "web.tls"  // bool: HTTPS on the workstation's certificate
)

// defaultWebAddr is where the page listens until Settings says otherwise:
// every interface, so that residents on the LAN reach it.
const defaultWebAddr = ":8443"

// webServer is the resident web page the desktop app serves while it runs,
// with the gateways' live power. start and stop are called on Fyne's
// goroutine; the server answers on goroutines of its own.
type webServer struct {
	st    store.Store
	clock core.Clock
	// files is the path that names the certificate beside it (the
	// database file, or the default one for a PostgreSQL database).
	files string

	srv    *web.Server
	ln     net.Listener
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// urls are the addresses it answers on, fingerprint the certificate's
	// SHA-256 (HTTPS only).
	urls        []string
	fingerprint string
	// addr and tls are what it was started with.
	addr string
	tls  bool
}

// running reports whether the page is being served.
func (w *webServer) running() bool { return w.srv != nil }

// start serves the page on addr (HTTPS on the workstation's certificate
// with useTLS); a running page is stopped first.
func (w *webServer) start(addr string, useTLS bool) error {
	w.stop()
	listen := addr
	if listen == "" {
		listen = defaultWebAddr
	}
	var base string
	if err := w.st.View(func(tx store.Tx) (err error) { base, err = residents.BaseURL(tx); return err }); err != nil {
		return err
	}
	scheme, fp := "http", ""
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", listen, err)
	}
	feed := web.NewFeed()
	srv := web.New(w.st, web.Options{Clock: w.clock, Live: feed, BaseURL: base})
	serve := func() error { return srv.Serve(ln) }
	if useTLS {
		c, f, err := web.WorkstationCert(w.files+".web.crt", w.files+".web.key", w.clock.Now())
		if err != nil {
			ln.Close()
			return err
		}
		scheme, fp = "https", f
		serve = func() error { return srv.ServeTLS(ln, c) }
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.srv, w.ln, w.cancel, w.fingerprint, w.addr, w.tls = srv, ln, cancel, fp, addr, useTLS
	w.urls = listenURLs(scheme, ln.Addr().(*net.TCPAddr))
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		if err := serve(); err != nil {
			slog.Error("the resident web page stopped", "err", err)
		}
	}()
	w.follow(ctx, feed)
	return nil
}

// follow feeds the page's live power from each assigned gateway's stream
// until ctx ends.
func (w *webServer) follow(ctx context.Context, feed *web.Feed) {
	var ps []intake.Pairing
	if err := w.st.View(func(tx store.Tx) (err error) { ps, err = intake.Pairings(tx); return err }); err != nil {
		slog.Error("listing gateways for the resident web page", "err", err)
		return
	}
	for _, p := range ps {
		if p.Site == "" {
			continue
		}
		c := intake.NewClient(w.st, p, &intake.Options{Clock: w.clock})
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			defer c.Close()
			if err := c.Live(ctx, func(ev protocol.Live) { feed.Gateway(p, ev) }); err != nil && ctx.Err() == nil {
				slog.Warn("the resident web page: a gateway's live stream stopped", "gateway", p.GatewayID, "err", err)
			}
		}()
	}
}

// stop ends serving and the live streams, and waits for them.
func (w *webServer) stop() {
	if w.srv == nil {
		return
	}
	w.cancel()
	w.srv.Close()
	w.ln.Close()
	w.wg.Wait()
	w.srv, w.ln, w.urls, w.fingerprint = nil, nil, nil, ""
}

// listenURLs are the addresses residents can open: the listening address,
// or for every interface each of the machine's addresses.
func listenURLs(scheme string, a *net.TCPAddr) []string {
	if !a.IP.IsUnspecified() {
		return []string{fmt.Sprintf("%s://%s", scheme, a)}
	}
	var out []string
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return []string{fmt.Sprintf("%s://localhost:%d", scheme, a.Port)}
	}
	for _, ad := range addrs {
		n, ok := ad.(*net.IPNet)
		if !ok || n.IP.IsLinkLocalUnicast() || n.IP.To4() == nil && a.IP.To4() != nil {
			continue
		}
		out = append(out, fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(n.IP.String(), fmt.Sprint(a.Port))))
	}
	return out
}

// startWebFromPrefs serves the page at start when Settings left it on.
func (m *MainWindow) startWebFromPrefs() {
	if m.app == nil || !m.app.Preferences().Bool(prefWebOn) {
		return
	}
	p := m.app.Preferences()
	if err := m.web.start(p.StringWithFallback(prefWebAddr, defaultWebAddr), p.Bool(prefWebTLS)); err != nil {
		slog.Error("serving the resident web page", "err", err)
		m.setStatus(err.Error())
	}
}

// webForm is the resident web page's part of the Settings dialog.
type webForm struct {
	on, tls    *widget.Check
	addr, base *widget.Entry
	state      *widget.Label
}

// webSettings adds the resident web page's switch, address, HTTPS and the
// address printed in the links to Settings' form, and returns what Apply
// does with them.
func (m *MainWindow) webSettings(form *widget.Form) func() {
	p := m.app.Preferences()
	f := &webForm{
		on:    widget.NewCheck(lang.X("settings.web.on", "Serve the resident web page while zevdesk runs"), nil),
		tls:   widget.NewCheck(lang.X("settings.web.tls", "HTTPS with this computer's own certificate"), nil),
		addr:  widget.NewEntry(),
		base:  widget.NewEntry(),
		state: widget.NewLabel(m.webStateText()),
	}
	f.on.SetChecked(p.Bool(prefWebOn))
	f.tls.SetChecked(p.Bool(prefWebTLS))
	f.addr.SetText(p.StringWithFallback(prefWebAddr, defaultWebAddr))
	f.addr.SetPlaceHolder(defaultWebAddr)
	f.base.SetPlaceHolder("https://192.168.1.20:8443")
	var base string
	if err := m.st.View(func(tx store.Tx) (err error) { base, err = residents.BaseURL(tx); return err }); err != nil {
		f.state.SetText(err.Error())
	}
	f.base.SetText(base)
	f.state.Wrapping = fyne.TextWrapBreak
	form.Append(lang.X("settings.web", "Resident web page"), container.NewVBox(f.on,
		container.NewBorder(nil, nil, widget.NewLabel(lang.X("settings.web.addr", "Address and port:")), nil, f.addr),
		f.tls, f.state))
	form.Append(lang.X("settings.web.base", "Address in the links"), f.base)
	m.webForm = f
	return func() {
		p.SetBool(prefWebOn, f.on.Checked)
		p.SetString(prefWebAddr, f.addr.Text)
		p.SetBool(prefWebTLS, f.tls.Checked)
		newBase := strings.TrimSpace(f.base.Text)
		changed := newBase != "" && newBase != base
		if changed {
			if err := m.st.Update(func(tx store.Tx) error { return residents.SetBaseURL(tx, newBase) }); err != nil {
				m.setStatus(err.Error())
				return
			}
		}
		switch {
		case !f.on.Checked:
			m.web.stop()
		case !m.web.running() || changed || m.web.addr != f.addr.Text || m.web.tls != f.tls.Checked:
			if err := m.web.start(f.addr.Text, f.tls.Checked); err != nil {
				slog.Error("serving the resident web page", "err", err)
				m.setStatus(lang.X("settings.web.failed", "The resident web page cannot be served: {{.Err}}",
					map[string]any{"Err": err.Error()}))
				return
			}
			m.setStatus(m.webStateText())
		}
	}
}

// webStateText says where the page is served, with the certificate's
// fingerprint that residents' browsers show.
func (m *MainWindow) webStateText() string {
	if !m.web.running() {
		return lang.X("settings.web.off", "The resident web page is not served.")
	}
	s := lang.X("settings.web.running", "The resident web page is served at {{.URLs}}",
		map[string]any{"URLs": strings.Join(m.web.urls, ", ")})
	if m.web.fingerprint != "" {
		s += "\n" + lang.X("settings.web.fingerprint", "Certificate SHA-256: {{.FP}}", map[string]any{"FP": m.web.fingerprint})
	}
	return s
}
