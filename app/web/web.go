// Package web serves the resident web view: each occupancy's personal link
// (/r/<token>/, see core/residents) opens a page with the resident's own
// electricity, live and per day, month and year, split into solar and grid
// by the invoice's allocation (core/billing), the building's production in
// aggregate, and the resident's invoice inserts. Nothing else is served:
// unknown, revoked and expired tokens answer like a missing page, misses
// from one address are rate limited, every response carries strict
// security headers, and only GET and HEAD are accepted; nothing changes
// data.
//
// The desktop app and `zevdesk serve --web` start it the same way:
//
//	srv := web.New(st, web.Options{Live: feed})
//	go srv.Serve(ln) // or ServeTLS
//	...
//	srv.Close()
package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/zevdesk/zevdesk/assets"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// Options are the server's choices; the zero value serves without live
// data on the system clock.
type Options struct {
	// Clock is now for the pages (today, this month) and the limiter.
	Clock core.Clock
	// Live gives the meters' live power; nil shows none.
	Live Live
	// Logger logs errors (never a token); nil means slog.Default().
	Logger *slog.Logger
	// BaseURL, when set ("https://host:port"), is printed with a QR code on
	// invoice inserts downloaded from the page.
	BaseURL string
	// PollSeconds is how often the page asks for live data (default 5).
	PollSeconds int
	// Limit tunes the rate limit of misses; zero values mean the defaults.
	Limit LimitOptions
}

// Server is the resident web view. It is safe for concurrent use.
type Server struct {
	st      store.Store
	opt     Options
	log     *slog.Logger
	tmpl    map[string]*template.Template
	cat     catalogue
	static  fs.FS
	limit   *limiter
	cache   *runCache
	handler http.Handler

	mu     sync.Mutex
	srvs   []*http.Server
	closed bool
}

// New returns a server of st's residents. It panics if the embedded assets
// are broken (a build error, caught by the tests).
func New(st store.Store, opt Options) *Server {
	if opt.Clock == nil {
		opt.Clock = core.SystemClock{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.PollSeconds <= 0 {
		opt.PollSeconds = 5
	}
	s := &Server{st: st, opt: opt, log: opt.Logger, limit: newLimiter(opt.Limit, opt.Clock),
		cache: newRunCache(opt.Clock)}
	var err error
	if s.static, err = fs.Sub(assets.Web, "web/static"); err != nil {
		panic(err)
	}
	if s.cat, err = loadCatalogue(); err != nil {
		panic(err)
	}
	s.tmpl = map[string]*template.Template{}
	for _, name := range []string{"resident.html", "notfound.html"} {
		s.tmpl[name] = template.Must(template.New(name).ParseFS(assets.Web, "web/"+name))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /static/{file}", s.serveStatic)
	mux.HandleFunc("GET /r/{token}/{$}", s.resident(s.servePage))
	mux.HandleFunc("GET /r/{token}/live", s.resident(s.serveLive))
	mux.HandleFunc("GET /r/{token}/chart.svg", s.resident(s.serveChart))
	mux.HandleFunc("GET /r/{token}/invoices/{file}", s.resident(s.serveInvoice))
	mux.HandleFunc("/", s.notFound)
	s.handler = s.secure(mux)
	return s
}

// Handler returns the server's handler, for tests and for embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers on ln until Close; it returns nil after Close.
func (s *Server) Serve(ln net.Listener) error { return s.serve(ln, nil) }

// ServeTLS answers on ln with TLS using cert until Close.
func (s *Server) ServeTLS(ln net.Listener, cert tls.Certificate) error {
	return s.serve(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
}

func (s *Server) serve(ln net.Listener, tc *tls.Config) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		TLSConfig:         tc,
		// net/http logs a few errors itself (TLS handshakes, panics):
		// through redact, so that no token reaches a log.
		ErrorLog: log.New(redactWriter{s.log}, "", 0),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.srvs = append(s.srvs, hs)
	first := len(s.srvs) == 1
	s.mu.Unlock()
	if first {
		// The first visitors after a start find their month billed.
		go s.Warm()
	}
	var err error
	if tc != nil {
		err = hs.ServeTLS(ln, "", "")
	} else {
		err = hs.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops serving, also a Serve that has not started yet: open
// requests get a few seconds to finish. The server cannot serve again.
func (s *Server) Close() error {
	s.mu.Lock()
	srvs := s.srvs
	s.srvs, s.closed = nil, true
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var first error
	for _, hs := range srvs {
		if err := hs.Shutdown(ctx); err != nil {
			hs.Close()
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// tokenInPath matches a token in a path or URL, for redaction.
var tokenInPath = regexp.MustCompile(`/r/[^/?\s"]*`)

// Redact replaces the tokens of resident links in s by "…".
func Redact(s string) string { return tokenInPath.ReplaceAllString(s, "/r/…") }

// redactWriter logs net/http's own error lines without tokens.
type redactWriter struct{ log *slog.Logger }

func (w redactWriter) Write(p []byte) (int, error) {
	w.log.Warn("web: " + strings.TrimSpace(Redact(string(p))))
	return len(p), nil
}

// Security headers of every response. Pages allow only their own files:
// no inline script or style, no frames, nothing from another origin.
const (
	cspPage = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	// go-chart writes its SVG with style attributes; the image runs no
	// script at all.
	cspSVG = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
)

// secure sets the security headers on every response and refuses every
// method but GET and HEAD.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", cspPage)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("web: a handler failed", "error", Redact(fmt.Sprint(v)), "path", Redact(r.URL.Path))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// notFound is the answer to everything that is not there, including
// unknown, revoked and expired tokens: always the same bytes.
func (s *Server) notFound(w http.ResponseWriter, _ *http.Request) {
	var b strings.Builder
	if err := s.tmpl["notfound.html"].Execute(&b, nil); err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte(b.String()))
}

// serveStatic serves the embedded style sheet and script.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := fs.ReadFile(s.static, name)
	if err != nil {
		s.notFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		w.Header().Set("Content-Type", "image/svg+xml")
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(b)
}
