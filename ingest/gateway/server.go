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
	// maxNonces bounds the outstanding nonces; the oldest go first.
	maxNonces = 32
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
}

// pending is a pairing between /pair/start and /pair/finish.
type pending struct {
	exp    time.Time // wall
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
			writeError(w, http.StatusMethodNotAllowed, r.Method+" not allowed on "+r.URL.Path+": use "+allow)
			return
		}
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
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
		code, b = http.StatusInternalServerError, []byte(`{"error":"encoding the response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, protocol.Error{Error: msg})
}

func refuseLocked(w http.ResponseWriter, d time.Duration) {
	secs := int((d + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many wrong pairing codes: try again in %d s", secs))
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
	g.mu.Lock()
	if d := g.pr.guard.locked(sourceKey(r.RemoteAddr), now); d > 0 {
		g.mu.Unlock()
		refuseLocked(w, d)
		return
	}
	if g.pr.nonces == nil {
		g.pr.nonces = map[string]pending{}
	}
	for n, p := range g.pr.nonces {
		if !now.Before(p.exp) {
			delete(g.pr.nonces, n)
		}
	}
	for len(g.pr.nonces) >= maxNonces {
		var oldest string
		var oldestExp time.Time
		for n, p := range g.pr.nonces {
			if oldest == "" || p.exp.Before(oldestExp) {
				oldest, oldestExp = n, p.exp
			}
		}
		delete(g.pr.nonces, oldest)
	}
	g.mu.Unlock()
	nonce := protocol.NewNonce()
	secret, err := protocol.NewPairingSecret(g.code, nonce)
	if err != nil {
		g.log.Error("starting a pairing", "err", err)
		writeError(w, http.StatusInternalServerError, "starting the pairing failed")
		return
	}
	g.mu.Lock()
	g.pr.nonces[nonce] = pending{exp: now.Add(NonceTTL), secret: secret}
	g.mu.Unlock()
	writeJSON(w, http.StatusOK, protocol.PairStartResponse{GatewayNonce: nonce, GatewayShare: secret.Share(), Gateway: g.gid})
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
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	writeError(w, http.StatusBadRequest, err.Error())
}

func (g *Gateway) handlePairFinish(w http.ResponseWriter, r *http.Request) {
	setDeadlines(w, true)
	var req protocol.PairFinishRequest
	if err := protocol.DecodeStrict(r.Body, protocol.MaxRequestBody, &req); err != nil {
		badBody(w, err)
		return
	}
	if !protocol.ValidNonce(req.ClientNonce) || !protocol.ValidNonce(req.GatewayNonce) || !protocol.ValidShare(req.ClientShare) || len(req.Proof) != 64 || len(req.Client) > 200 {
		writeError(w, http.StatusBadRequest, "client_nonce and gateway_nonce must be 32-128 lowercase hex digits, client_share and proof 64, client at most 200 characters")
		return
	}
	now := g.cfg.Wall.Now()
	src := sourceKey(r.RemoteAddr)
	g.mu.Lock()
	defer g.mu.Unlock()
	if d := g.pr.guard.locked(src, now); d > 0 {
		refuseLocked(w, d)
		return
	}
	pend, ok := g.pr.nonces[req.GatewayNonce]
	// Single use: whatever the outcome, this nonce is spent, so a recorded
	// proof can never be played again.
	delete(g.pr.nonces, req.GatewayNonce)
	if !ok || !now.Before(pend.exp) {
		writeError(w, http.StatusForbidden, "unknown, used or expired gateway_nonce: start again with "+protocol.PathPairStart)
		return
	}
	if req.Gateway != "" && req.Gateway != g.gid {
		// Checked before the proof and before anything changes: pairing
		// the wrong box by mistake must not cut off the office it serves.
		writeError(w, http.StatusConflict, fmt.Sprintf("this is gateway %s, not %s: nothing changed", g.gid, req.Gateway))
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
		writeError(w, http.StatusForbidden, "wrong pairing code (or the connection goes through another certificate)")
		return
	}
	token := protocol.NewToken()
	prev := g.id.state
	g.id.state.TokenSHA256 = tokenHash(token)
	g.id.state.Client = req.Client
	g.id.state.PairedAt = now.UTC()
	if err := g.id.save(g.cfg.Dir); err != nil {
		g.id.state = prev
		writeError(w, http.StatusInternalServerError, "saving the pairing failed")
		g.log.Error("saving the pairing", "err", err)
		return
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
		g.mu.Lock()
		want := g.id.state.TokenSHA256
		g.mu.Unlock()
		if !ok || want == "" || subtle.ConstantTimeCompare([]byte(tokenHash(tok)), []byte(want)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="zevgw"`)
			writeError(w, http.StatusUnauthorized, "missing or invalid token: pair first")
			return
		}
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
			writeError(w, http.StatusBadRequest, fmt.Sprintf("after=%q: expected a sequence number (0 or more)", s))
			return
		}
		after = v
	}
	limit := protocol.DefaultRecordsLimit
	if s := q.Get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit=%q: expected a number from 1 to %d", s, protocol.MaxRecordsLimit))
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
		writeError(w, http.StatusInternalServerError, "reading the buffer failed")
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
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("too many live listeners (at most %d)", MaxLiveListeners))
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
