package intake

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// fakeGateway is a gateway API server speaking the protocol, with records
// generated on the fly so that a test can serve millions without storing
// them, and hooks to misbehave.
type fakeGateway struct {
	id     string
	code   string
	cert   tls.Certificate
	fp     string
	meters int
	base   time.Time // time of the first record of each meter

	mu       sync.Mutex
	token    string
	n        uint64 // records 1..n exist
	oldest   uint64 // records below oldest were pruned (0: none pruned)
	clock    func() time.Time
	nonces   map[string]*protocol.PairingSecret
	failures int
	// records, when set, replaces the records handler (garbage, huge
	// bodies, stalls).
	records http.HandlerFunc
	live    chan protocol.Live
	// stallLive makes the next live connection send its headers and then
	// nothing; liveConns counts live connections.
	stallLive bool
	liveConns int
	// forgetNonces makes pair/finish find no nonce, as after a gateway
	// restart between the two steps.
	forgetNonces bool
}

var testBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// testClock is "now" for the workstation in tests: after every generated
// record.
var testClock = core.FixedClock(time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC))

func newCert(t testing.TB) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "zevgw test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, protocol.Fingerprint(c)
}

func newFakeGateway(t testing.TB, n uint64) *fakeGateway {
	cert, fp := newCert(t)
	return &fakeGateway{
		id: "GW-TEST", code: "12345678", cert: cert, fp: fp, meters: 4, base: testBase,
		token: protocol.NewToken(), n: n, clock: testClock.Now, nonces: map[string]*protocol.PairingSecret{},
		live: make(chan protocol.Live),
	}
}

// record returns record seq: meters take turns, each reading every 15
// minutes, consuming 250 Wh per interval plus a per-meter offset.
func (g *fakeGateway) record(seq uint64) protocol.Record {
	i := seq - 1
	m := int(i % uint64(g.meters))
	k := int64(i / uint64(g.meters))
	return protocol.Record{
		Seq:    seq,
		Meter:  "M" + strconv.Itoa(m),
		Time:   g.base.Add(time.Duration(k) * core.SlotDuration),
		Import: core.Energy(1000+m)*core.KWh + core.Energy(k)*250*core.Wh,
		Export: 0,
	}
}

func (g *fakeGateway) setN(n uint64) {
	g.mu.Lock()
	g.n = n
	g.mu.Unlock()
}

func (g *fakeGateway) setClock(f func() time.Time) {
	g.mu.Lock()
	g.clock = f
	g.mu.Unlock()
}

func (g *fakeGateway) setRecords(h http.HandlerFunc) {
	g.mu.Lock()
	g.records = h
	g.mu.Unlock()
}

func (g *fakeGateway) pairing(addr string) Pairing {
	return Pairing{GatewayID: g.id, Address: addr, Fingerprint: g.fp, Token: g.token, Site: "S1"}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case protocol.PathPairStart:
		nonce := protocol.NewNonce()
		secret, err := protocol.NewPairingSecret(g.code, nonce)
		if err != nil {
			writeJSON(w, 500, protocol.Error{Error: err.Error()})
			return
		}
		g.mu.Lock()
		g.nonces[nonce] = secret
		g.mu.Unlock()
		writeJSON(w, 200, protocol.PairStartResponse{GatewayNonce: nonce, GatewayShare: secret.Share()})
		return
	case protocol.PathPairFinish:
		var req protocol.PairFinishRequest
		if err := protocol.DecodeStrict(r.Body, protocol.MaxRequestBody, &req); err != nil {
			writeJSON(w, 400, protocol.Error{Error: err.Error()})
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.failures >= protocol.LockoutAfter {
			w.Header().Set("Retry-After", "60")
			writeJSON(w, 429, protocol.Error{Error: "too many attempts"})
			return
		}
		secret := g.nonces[req.GatewayNonce]
		if secret == nil || g.forgetNonces {
			writeJSON(w, 403, protocol.Error{Error: "unknown, used or expired gateway_nonce: start again with " + protocol.PathPairStart})
			return
		}
		delete(g.nonces, req.GatewayNonce)
		key, err := secret.SessionKey(req.ClientShare, req.ClientShare, secret.Share())
		if err != nil || !protocol.VerifyProof(req.Proof, key, protocol.RoleClient, g.fp, req.ClientNonce, req.GatewayNonce) {
			g.failures++
			writeJSON(w, 401, protocol.Error{Error: "wrong code"})
			return
		}
		writeJSON(w, 200, protocol.PairFinishResponse{Token: g.token,
			GatewayProof: protocol.Proof(key, protocol.RoleGateway, g.fp, req.ClientNonce, req.GatewayNonce)})
		return
	}
	g.mu.Lock()
	tok, n, h, clock, live := g.token, g.n, g.records, g.clock, g.live
	g.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+tok {
		writeJSON(w, 401, protocol.Error{Error: "bad token"})
		return
	}
	switch r.URL.Path {
	case protocol.PathStatus:
		writeJSON(w, 200, protocol.Status{ID: g.id, Model: "fake", FW: "0", API: 1, Time: clock(), LastSeq: n, Paired: true, Meters: g.meters})
	case protocol.PathRecords:
		if h != nil {
			h(w, r)
			return
		}
		g.serveRecords(w, r)
	case protocol.PathLive:
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		fl := w.(http.Flusher)
		fl.Flush()
		g.mu.Lock()
		stall := g.stallLive
		g.stallLive = false
		g.liveConns++
		g.mu.Unlock()
		if stall {
			<-r.Context().Done()
			return
		}
		for {
			select {
			case <-r.Context().Done():
				return
			case ev, ok := <-live:
				if !ok {
					return // close this connection: the client must reconnect
				}
				b, _ := json.Marshal(ev)
				fmt.Fprintf(w, ": keep-alive\nevent: %s\ndata: %s\n\n", protocol.LiveEvent, b)
				fl.Flush()
			}
		}
	default:
		http.NotFound(w, r)
	}
}

// serveRecords answers GET /records with generated records.
func (g *fakeGateway) serveRecords(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	n, oldest := g.n, g.oldest
	g.mu.Unlock()
	after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > protocol.MaxRecordsLimit {
		limit = protocol.MaxRecordsLimit
	}
	from := after + 1
	if from < oldest {
		from = oldest
	}
	to := min(n, from+uint64(limit)-1)
	b := protocol.WriteRecordsHead(make([]byte, 0, 64<<10), g.id, max(oldest, 1))
	for s := from; s <= to; s++ {
		if s > from {
			b = append(b, ',')
		}
		b = g.record(s).AppendJSON(b)
		if len(b) > 60<<10 {
			_, _ = w.Write(b)
			b = b[:0]
		}
	}
	b = protocol.WriteRecordsTail(b, n, to < n)
	_, _ = w.Write(b)
}

// serve starts g on a real TLS listener on 127.0.0.1 (addr "" for any port).
func (g *fakeGateway) serve(t testing.TB, addr string) *httptest.Server {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var l net.Listener
	var err error
	// A restarted gateway may find its port briefly in TIME_WAIT-related use.
	for i := 0; i < 50; i++ {
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("listening on %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(g)
	// Killed clients leave half-done handshakes: not worth a log line.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Listener = l
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{g.cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// body writes raw bytes as the records response.
func rawBody(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}
}

// hugeBody streams n bytes of a syntactically endless records array.
func hugeBody(g *fakeGateway, n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		b := protocol.WriteRecordsHead(nil, g.id, 1)
		var seq uint64 = 1
		var buf bytes.Buffer
		buf.Write(b)
		for buf.Len() < n {
			if seq > 1 {
				buf.WriteByte(',')
			}
			buf.Write(g.record(seq).AppendJSON(nil))
			seq++
		}
		_, _ = w.Write(buf.Bytes())
	}
}
