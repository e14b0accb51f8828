package gateway

import (
	"bufio"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// Pairing protection.
const (
	// NonceTTL is how long a gateway nonce from /pair/start stays valid.
	NonceTTL = 2 * time.Minute
	// maxNoncesPerSource bounds the outstanding nonces of one source (its
	// oldest go first), so that no source can push out another's pending
	// pairing; maxNonces bounds them all (taken from the source with the
	// most). The rate limit of /pair/start keeps them below it anyway.
	maxNoncesPerSource = 4
	maxNonces          = 8192
	// LockoutBase is the first lockout after protocol.LockoutAfter wrong
	// codes; every further lockout doubles it, up to LockoutMax.
	LockoutBase = time.Minute
	// LockoutMax caps the lockout.
	LockoutMax = 24 * time.Hour
	// MaxLiveListeners bounds the concurrent live streams (the office's
	// app and web view need a few).
	MaxLiveListeners = 16
	// writeTimeout bounds writing one response other than the live stream,
	// so that a client that stops reading does not hold the gateway.
	writeTimeout = 2 * time.Minute
	// readTimeout bounds reading a pairing request's body.
	readTimeout = 10 * time.Second
)

// pairing is the state of the pairing protection, guarded by Gateway.mu.
type pairing struct {
	nonces map[string]pending // by gateway nonce
	guard  guard              // lockouts after wrong codes, kept on disk
	start  rateLimiter        // of /pair/start
}

// pending is a pairing between /pair/start and /pair/finish.
type pending struct {
	exp    time.Time // wall
	src    string    // sourceKey of whoever asked for it
	secret *protocol.PairingSecret
}

// Handler returns the API's HTTP handler (it expects TLS in front of it:
// the pairing proof binds the certificate that Fingerprint names).
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+protocol.PathPairStart, g.handlePairStart)
	mux.HandleFunc("POST "+protocol.PathPairFinish, g.handlePairFinish)
	mux.Handle("GET "+protocol.PathMeters, g.auth(g.handleMeters))
	mux.Handle("GET "+protocol.PathRecords, g.auth(g.handleRecords))
	mux.Handle("GET "+protocol.PathLive, g.auth(g.handleLive))
	mux.Handle("GET "+protocol.PathStatus, g.auth(g.handleStatus))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// The catch-all takes precedence over the mux's own 405, so answer
		// a known path with the wrong method here.
		if allow, ok := allowed[r.URL.Path]; ok {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, protocol.ErrorMethodNotAllowed, r.Method+" not allowed on "+r.URL.Path+": use "+allow)
			return
		}
		writeError(w, http.StatusNotFound, protocol.ErrorNotFound, "no such endpoint: "+r.URL.Path)
	})
	return securityHeaders(mux)
}

var allowed = map[string]string{
	protocol.PathPairStart: "POST", protocol.PathPairFinish: "POST",
	protocol.PathMeters: "GET, HEAD", protocol.PathRecords: "GET, HEAD",
	protocol.PathLive: "GET, HEAD", protocol.PathStatus: "GET, HEAD",
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"encoding the response","code":"internal"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, code protocol.ErrorCode, msg string) {
	writeJSON(w, status, protocol.Error{Error: msg, Code: code})
}

// refuseFor answers 429 with Retry-After d (in whole seconds, at least 1);
// format has one %d for the seconds.
func refuseFor(w http.ResponseWriter, d time.Duration, code protocol.ErrorCode, format string) {
	secs := max(int((d+time.Second-1)/time.Second), 1)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, code, fmt.Sprintf(format, secs))
}

// readWindow reads the pairing window opened on the console; an unreadable
// file is no window.
func (g *Gateway) readWindow() window {
	win, err := readWindow(g.cfg.Dir)
	if err != nil {
		g.log.Warn("pairing window unreadable: taken as closed", "err", err)
	}
	return win
}

// refusePairing answers a pairing step that must not go on: the gateway is
// paired and its pairing window closed, or src is locked out. It reports
// whether it answered. A newly opened window clears the lockouts first.
// g.mu must be held.
func (g *Gateway) refusePairing(w http.ResponseWriter, win window, src string, now time.Time) bool {
	if win.apply(&g.pr.guard, now) {
		g.log.Info("pairing window open: lockouts cleared", "until", win.Until)
		if err := g.pr.guard.save(g.cfg.Dir); err != nil {
			g.log.Error("saving the pairing guard", "err", err)
		}
	}
	if g.id.state.TokenSHA256 != "" && !win.open(&g.pr.guard, now) {
		writeError(w, http.StatusLocked, protocol.ErrorPairingClosed, fmt.Sprintf(
			"gateway %s is already paired with an office and accepts a new pairing only while its pairing window is open: "+
				"at the gateway, run `zevdesk gateway open-pairing` (open for %d minutes), then pair again",
			g.gid, int(PairingWindow/time.Minute)))
		return true
	}
	if d := g.pr.guard.locked(src, now); d > 0 {
		refuseFor(w, d, protocol.ErrorLockedOut, "too many wrong pairing codes from this address: try again in %d s")
		return true
	}
	return false
}

func (g *Gateway) handlePairStart(w http.ResponseWriter, r *http.Request) {
	setDeadlines(w, true)
	var empty struct{}
	if r.ContentLength != 0 {
		if err := protocol.DecodeStrict(r.Body, protocol.MaxRequestBody, &empty); err != nil {
			badBody(w, err)
			return
		}
	}
	now := g.cfg.Wall.Now()
	src := sourceKey(r.RemoteAddr)
	g.mu.Lock()
	d := g.pr.start.allow(src, now)
	g.mu.Unlock()
	if d > 0 {
		refuseFor(w, d, protocol.ErrorRateLimited, "too many pairing requests: try again in %d s")
		return
	}
	win := g.readWindow()
	g.mu.Lock()
	refused := g.refusePairing(w, win, src, now)
	g.mu.Unlock()
	if refused {
		return
	}
	nonce := protocol.NewNonce()
	secret, err := protocol.NewPairingSecret(g.code, nonce)
	if err != nil {
		g.log.Error("starting a pairing", "err", err)
		writeError(w, http.StatusInternalServerError, protocol.ErrorInternal, "starting the pairing failed")
		return
	}
	g.mu.Lock()
	g.addNonce(nonce, pending{exp: now.Add(NonceTTL), src: src, secret: secret}, now)
	g.mu.Unlock()
	writeJSON(w, http.StatusOK, protocol.PairStartResponse{GatewayNonce: nonce, GatewayShare: secret.Share(), Gateway: g.gid})
}

// addNonce keeps a pending pairing, dropping expired ones and making room:
// a source's own oldest first, and only when all are full the oldest of the
// source with the most. g.mu must be held.
func (g *Gateway) addNonce(nonce string, p pending, now time.Time) {
	if g.pr.nonces == nil {
		g.pr.nonces = map[string]pending{}
	}
	per := map[string]int{}
	for n, q := range g.pr.nonces {
		if !now.Before(q.exp) {
			delete(g.pr.nonces, n)
			continue
		}
		per[q.src]++
	}
	for per[p.src] >= maxNoncesPerSource || len(g.pr.nonces) >= maxNonces {
		from := p.src
		if per[from] < maxNoncesPerSource {
			for src, k := range per {
				if k > per[from] {
					from = src
				}
			}
		}
		var oldest string
		var oldestExp time.Time
		for n, q := range g.pr.nonces {
			if q.src == from && (oldest == "" || q.exp.Before(oldestExp)) {
				oldest, oldestExp = n, q.exp
			}
		}
		delete(g.pr.nonces, oldest)
		per[from]--
	}
	g.pr.nonces[nonce] = p
}

// setDeadlines bounds writing the response and, for requests with a body,
// reading it (the server sets no global timeouts because the live stream
// runs for hours).
func setDeadlines(w http.ResponseWriter, body bool) {
	rc := http.NewResponseController(w)
	now := time.Now()
	if body {
		rc.SetReadDeadline(now.Add(readTimeout))
	}
	rc.SetWriteDeadline(now.Add(writeTimeout))
}

func badBody(w http.ResponseWriter, err error) {
	if errors.Is(err, protocol.ErrTooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, protocol.ErrorTooLarge, err.Error())
		return
	}
	writeError(w, http.StatusBadRequest, protocol.ErrorBadRequest, err.Error())
}

func (g *Gateway) handlePairFinish(w http.ResponseWriter, r *http.Request) {
	setDeadlines(w, true)
	var req protocol.PairFinishRequest
	if err := protocol.DecodeStrict(r.Body, protocol.MaxRequestBody, &req); err != nil {
		badBody(w, err)
		return
	}
	if !protocol.ValidNonce(req.ClientNonce) || !protocol.ValidNonce(req.GatewayNonce) || !protocol.ValidShare(req.ClientShare) || len(req.Proof) != 64 || len(req.Client) > 200 {
		writeError(w, http.StatusBadRequest, protocol.ErrorBadRequest, "client_nonce and gateway_nonce must be 32-128 lowercase hex digits, client_share and proof 64, client at most 200 characters")
		return
	}
	now := g.cfg.Wall.Now()
	src := sourceKey(r.RemoteAddr)
	win := g.readWindow()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refusePairing(w, win, src, now) {
		return
	}
	pend, ok := g.pr.nonces[req.GatewayNonce]
	// Single use: whatever the outcome, this nonce is spent, so a recorded
	// proof can never be played again.
	delete(g.pr.nonces, req.GatewayNonce)
	if !ok || !now.Before(pend.exp) {
		writeError(w, http.StatusForbidden, protocol.ErrorBadNonce, "unknown, used or expired gateway_nonce: start again with "+protocol.PathPairStart)
		return
	}
	if req.Gateway != "" && req.Gateway != g.gid {
		// Checked before the proof and before anything changes: pairing
		// the wrong box by mistake must not cut off the office it serves.
		writeError(w, http.StatusConflict, protocol.ErrorWrongGateway, fmt.Sprintf("this is gateway %s, not %s: nothing changed", g.gid, req.Gateway))
		return
	}
	// The global throttle: testing a code takes a token from everyone's
	// bucket, so that many addresses together guess slowly.
	if d := g.pr.guard.throttled(now); d > 0 {
		refuseFor(w, d, protocol.ErrorRateLimited, "many wrong pairing codes from the network: try again in %d s")
		return
	}
	// A degenerate share cannot come from a client that follows the
	// protocol: it counts as a wrong code.
	key, err := pend.secret.SessionKey(req.ClientShare, req.ClientShare, pend.secret.Share())
	if err != nil || !protocol.VerifyProof(req.Proof, key, protocol.RoleClient, g.id.fp, req.ClientNonce, req.GatewayNonce) {
		if d, locked := g.pr.guard.fail(src, now); locked {
			g.log.Warn("pairing locked after wrong codes", "for", d, "source", src)
		}
		if err := g.pr.guard.save(g.cfg.Dir); err != nil {
			g.log.Error("saving the pairing guard", "err", err)
		}
		writeError(w, http.StatusForbidden, protocol.ErrorWrongCode, "wrong pairing code (or the connection goes through another certificate)")
		return
	}
	token := protocol.NewToken()
	prev := g.id.state
	next := prev
	if prev.TokenSHA256 != "" {
		// Remember the replaced token, so that the office still using it
		// learns that and when the gateway was paired elsewhere.
		next.Replaced = append([]replacedToken{{TokenSHA256: prev.TokenSHA256, At: now.UTC()}}, prev.Replaced...)
		next.Replaced = next.Replaced[:min(len(next.Replaced), maxReplaced)]
	}
	next.TokenSHA256 = tokenHash(token)
	next.Client = req.Client
	next.PairedAt = now.UTC()
	next.Source = src
	g.id.state = next
	if err := g.id.save(g.cfg.Dir); err != nil {
		g.id.state = prev
		writeError(w, http.StatusInternalServerError, protocol.ErrorInternal, "saving the pairing failed")
		g.log.Error("saving the pairing", "err", err)
		return
	}
	g.setOffice(src)
	if win.open(&g.pr.guard, now) {
		// One pairing per window: whoever comes next must open it again.
		g.pr.guard.WindowUsed = win.OpenedAt
	}
	g.pr.guard.succeed(src)
	if err := g.pr.guard.save(g.cfg.Dir); err != nil {
		g.log.Error("saving the pairing guard", "err", err)
	}
	g.log.Info("paired", "client", req.Client, "remote", r.RemoteAddr, "replaced", prev.TokenSHA256 != "")
	writeJSON(w, http.StatusOK, protocol.PairFinishResponse{
		Token:        token,
		GatewayProof: protocol.Proof(key, protocol.RoleGateway, g.id.fp, req.ClientNonce, req.GatewayNonce),
	})
	if g.cfg.OnPaired != nil {
		go g.cfg.OnPaired()
	}
}

// auth lets through requests bearing the paired office's token.
func (g *Gateway) auth(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		got := []byte(tokenHash(tok))
		g.mu.Lock()
		want := g.id.state.TokenSHA256
		replaced := g.id.state.Replaced
		g.mu.Unlock()
		if !ok || want == "" || subtle.ConstantTimeCompare(got, []byte(want)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="zevgw"`)
			for _, rt := range replaced {
				if ok && subtle.ConstantTimeCompare(got, []byte(rt.TokenSHA256)) == 1 {
					writeJSON(w, http.StatusUnauthorized, protocol.Error{Code: protocol.ErrorTokenReplaced, PairedAt: rt.At,
						Error: "this token was replaced: the gateway was paired with another workstation on " + rt.At.Format(time.RFC3339)})
					return
				}
			}
			writeError(w, http.StatusUnauthorized, protocol.ErrorUnauthorized, "missing or invalid token: pair first")
			return
		}
		g.setOffice(sourceKey(r.RemoteAddr))
		setDeadlines(w, false)
		h(w, r)
	})
}

func (g *Gateway) handleMeters(w http.ResponseWriter, r *http.Request) {
	ms := g.meters
	if ms == nil {
		ms = []protocol.Meter{}
	}
	writeJSON(w, http.StatusOK, protocol.MetersResponse{Gateway: g.ID(), Meters: ms})
}

// Status returns what GET /status answers.
func (g *Gateway) Status() protocol.Status {
	st := g.buf.Stats()
	g.mu.Lock()
	paired, client := g.id.state.TokenSHA256 != "", g.id.state.Client
	g.mu.Unlock()
	return protocol.Status{
		ID: g.ID(), Model: g.cfg.Model, FW: FW, API: protocol.APIVersion,
		Time:          g.cfg.Clock.Now().UTC(),
		UptimeS:       int64(g.cfg.Wall.Now().Sub(g.start) / time.Second),
		LastSeq:       st.LastSeq,
		OldestSeq:     st.OldestSeq,
		Buffered:      st.Count,
		RetentionDays: int(g.cfg.Retention / (24 * time.Hour)),
		Paired:        paired,
		Client:        client,
		Meters:        len(g.meters),
	}
}

func (g *Gateway) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, g.Status())
}

var recordPool = sync.Pool{New: func() any { s := make([]store.Record, 0, 1024); return &s }}

func (g *Gateway) handleRecords(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var after uint64
	if s := q.Get("after"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, protocol.ErrorBadRequest, fmt.Sprintf("after=%q: expected a sequence number (0 or more)", s))
			return
		}
		after = v
	}
	limit := protocol.DefaultRecordsLimit
	if s := q.Get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			writeError(w, http.StatusBadRequest, protocol.ErrorBadRequest, fmt.Sprintf("limit=%q: expected a number from 1 to %d", s, protocol.MaxRecordsLimit))
			return
		}
		limit = min(v, protocol.MaxRecordsLimit)
	}
	g.ackRecords(after)
	// Read the page into memory first: the buffer's read transaction then
	// stays short however slowly the client reads.
	ps := recordPool.Get().(*[]store.Record)
	defer func() { *ps = (*ps)[:0]; recordPool.Put(ps) }()
	recs, err := g.buf.Scan((*ps)[:0], after, limit)
	*ps = recs
	if err != nil {
		g.log.Error("serving records", "err", err)
		writeError(w, http.StatusInternalServerError, protocol.ErrorInternal, "reading the buffer failed")
		return
	}
	st := g.buf.Stats()
	lastSent := after
	if len(recs) > 0 {
		lastSent = recs[len(recs)-1].Seq
	}
	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 64<<10)
	b := make([]byte, 0, 256)
	b = protocol.WriteRecordsHead(b, g.ID(), st.OldestSeq)
	for i, rec := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = protocol.Record{Seq: rec.Seq, Meter: rec.Meter, Time: rec.Time, Import: rec.Import, Export: rec.Export}.AppendJSON(b)
		if len(b) > 32<<10 {
			if _, err := bw.Write(b); err != nil {
				return
			}
			b = b[:0]
		}
	}
	b = protocol.WriteRecordsTail(b, st.LastSeq, lastSent < st.LastSeq)
	bw.Write(b)
	bw.Flush()
}

func (g *Gateway) handleLive(w http.ResponseWriter, r *http.Request) {
	if g.live.listeners() >= MaxLiveListeners {
		w.Header().Set("Retry-After", "10")
		writeError(w, http.StatusServiceUnavailable, protocol.ErrorBusy, fmt.Sprintf("too many live listeners (at most %d)", MaxLiveListeners))
		return
	}
	rc := http.NewResponseController(w)
	// A stream runs for hours: a write deadline per event instead.
	rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// retry: how long a client waits before reconnecting (ms).
	fmt.Fprintf(w, "retry: 2000\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	ch, cancel := g.live.subscribe()
	defer cancel()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return
			}
			rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", protocol.LiveEvent, ev); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}

// broadcaster reads power while anyone listens and hands every listener the
// latest event (a slow listener skips events rather than holding others up).
type broadcaster struct {
	g    *Gateway
	mu   sync.Mutex
	subs map[chan []byte]struct{}
	wake chan struct{}
}

func newBroadcaster(g *Gateway) *broadcaster {
	return &broadcaster{g: g, subs: map[chan []byte]struct{}{}, wake: make(chan struct{}, 1)}
}

func (b *broadcaster) subscribe() (<-chan []byte, func()) {
	ch := make(chan []byte, 1)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return ch, func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}
}

func (b *broadcaster) listeners() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

func (b *broadcaster) run(ctx context.Context) {
	t := time.NewTicker(b.g.cfg.LiveInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-b.wake: // a first listener gets its first event at once
		}
		if b.listeners() == 0 {
			continue
		}
		ev, err := b.g.livePower(ctx)
		if err != nil {
			b.g.log.Debug("reading power", "err", err)
		}
		data, _ := json.Marshal(ev)
		b.mu.Lock()
		for ch := range b.subs {
			select {
			case <-ch: // drop the stale event
			default:
			}
			ch <- data
		}
		b.mu.Unlock()
	}
}

// livePower reads the power of every driver that can.
func (g *Gateway) livePower(ctx context.Context) (protocol.Live, error) {
	ev := protocol.Live{Time: g.cfg.Clock.Now().UTC().Truncate(time.Millisecond), PowerW: map[string]float64{}}
	var errs []error
	for _, d := range g.cfg.Drivers {
		pm, ok := d.(driver.PowerMeter)
		if !ok {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ps, err := pm.Power(pctx)
		cancel()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, p := range ps {
			ev.PowerW[p.Meter] = p.W
		}
	}
	return ev, errors.Join(errs...)
}
