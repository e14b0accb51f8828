package intake

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// Pairing is what the workstation keeps about a paired gateway, in the
// store's Meta bucket PairingsBucket under the gateway id, as JSON.
type Pairing struct {
	GatewayID string `json:"gateway_id"`
	// Address is the gateway's host:port; mDNS may update it when the
	// gateway's DHCP address changes (the pinned certificate still proves
	// it is the same gateway).
	Address string `json:"address"`
	// Fingerprint is the pinned certificate's protocol.Fingerprint.
	Fingerprint string `json:"fingerprint"`
	// Token is the bearer token the gateway issued.
	Token string `json:"token"`
	// Site is the site the gateway's meters belong to; empty until assigned
	// (records are then kept raw but not derived).
	Site string `json:"site,omitempty"`
	// Meters maps a gateway meter id to a meter id of Site; a gateway meter
	// not listed maps to the site meter with the same id.
	Meters map[string]string `json:"meters,omitempty"`
	// PairedAt is when the pairing was made.
	PairedAt time.Time `json:"paired_at"`
}

// SiteMeter returns the site meter that the gateway's meter maps to.
func (p *Pairing) SiteMeter(gatewayMeter string) string {
	if m, ok := p.Meters[gatewayMeter]; ok {
		return m
	}
	return gatewayMeter
}

// PairingsBucket is the Meta bucket holding one Pairing per gateway.
const PairingsBucket = "gateways"

// ErrWrongCode means the gateway rejected the pairing code.
var ErrWrongCode = errors.New("wrong pairing code: check the 8-digit code on the gateway's label or screen")

// ErrRateLimited means the gateway refuses pairing attempts for a while after
// too many wrong codes.
var ErrRateLimited = errors.New("too many wrong pairing codes: the gateway refuses pairing for a while; wait and try again")

// ErrPairingClosed means the gateway is paired (with this office or
// another) and accepts a new pairing only while its pairing window, opened
// on the gateway itself, is open.
var ErrPairingClosed = errors.New("the gateway is already paired and accepts a new pairing only while its pairing window is open: " +
	"at the gateway, run `zevdesk gateway open-pairing` (it stays open 10 minutes), then pair again")

// ErrPairingBusy means the gateway limits pairing requests for a while
// (many of them from the network, possibly someone guessing codes).
var ErrPairingBusy = errors.New("the gateway is receiving many pairing requests and asks to wait: try again shortly")

// ErrCertChanged means a paired gateway presented a certificate other than
// the pinned one.
var ErrCertChanged = errors.New("certificate changed: possible man in the middle; re-pair the gateway if it was reset or replaced")

// ErrGatewayProof means the gateway could not prove that it knows the
// pairing code for the certificate we saw.
var ErrGatewayProof = errors.New("the gateway's pairing proof is wrong: possible man in the middle; pairing aborted")

// RetryError is a refusal that ends after a while: Err is ErrRateLimited
// (a lockout after wrong codes) or ErrPairingBusy, After the time left as
// the gateway's Retry-After header gave it (0 if it gave none).
type RetryError struct {
	Err   error
	After time.Duration
}

func (e *RetryError) Error() string {
	if e.After <= 0 {
		return e.Err.Error()
	}
	return fmt.Sprintf("%v (retry after %d s)", e.Err, int(e.After/time.Second))
}

// Unwrap returns Err, so that errors.Is matches ErrRateLimited or
// ErrPairingBusy.
func (e *RetryError) Unwrap() error { return e.Err }

// NormalizeCode strips spaces and dashes from a pairing code as people type
// it ("1234 5678", "1234-5678") and checks that CodeDigits digits remain.
func NormalizeCode(code string) (string, error) {
	c := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	if len(c) != protocol.CodeDigits {
		return "", fmt.Errorf("invalid pairing code %q: expected %d digits", code, protocol.CodeDigits)
	}
	for _, r := range c {
		if r < '0' || r > '9' {
			return "", fmt.Errorf("invalid pairing code %q: expected %d digits", code, protocol.CodeDigits)
		}
	}
	return c, nil
}

// Pair pairs with the gateway at addr (host:port) using its pairing code.
// It accepts the gateway's self-signed certificate on first sight, runs the
// code-based key exchange, proves knowledge of the session key bound to that
// certificate's fingerprint, checks the gateway's proof in return (so a man
// in the middle, who cannot present the gateway's certificate, gets nothing,
// and learns at most whether one guessed code was right), and checks that
// the gateway's id is gatewayID (when not empty). The returned Pairing pins
// the certificate; store it with SavePairing.
func Pair(ctx context.Context, addr, gatewayID, code string) (Pairing, error) {
	code, err := NormalizeCode(code)
	if err != nil {
		return Pairing{}, err
	}
	var (
		mu sync.Mutex
		fp string
	)
	cfg := &tls.Config{
		// The certificate is self-signed: there is no CA to verify against.
		// Trust comes from the code-based proof over its fingerprint below.
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS12,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			f, err := leafFingerprint(raw)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			// Every connection of this pairing must show the same
			// certificate, else the proof would bind a different one.
			if fp != "" && fp != f {
				return ErrCertChanged
			}
			fp = f
			return nil
		},
	}
	hc := &http.Client{Transport: newTransport(cfg, 10*time.Second), Timeout: 20 * time.Second}
	defer hc.CloseIdleConnections()
	base := "https://" + addr

	var start protocol.PairStartResponse
	if err := postJSON(ctx, hc, base+protocol.PathPairStart, struct{}{}, &start); err != nil {
		return Pairing{}, fmt.Errorf("pairing with %s: %w", addr, err)
	}
	mu.Lock()
	seen := fp
	mu.Unlock()
	if seen == "" {
		return Pairing{}, fmt.Errorf("pairing with %s: no certificate seen", addr)
	}
	if gatewayID != "" && start.Gateway != "" && start.Gateway != gatewayID {
		// Stop before proving anything: pairing the wrong box would cut
		// off the office it serves.
		return Pairing{}, fmt.Errorf("pairing with %s: the gateway there is %q, not %q; nothing changed", addr, start.Gateway, gatewayID)
	}
	req, key, err := protocol.ClientFinish(code, seen, start)
	if err != nil {
		return Pairing{}, fmt.Errorf("pairing with %s: %w", addr, err)
	}
	req.Client = clientName()
	if start.Gateway != "" {
		// A gateway that names itself knows the field: it refuses the
		// pairing if it is not the one meant (the check above trusts
		// what it said; this one is the gateway's own).
		req.Gateway = gatewayID
	}
	var fin protocol.PairFinishResponse
	if err := postJSON(ctx, hc, base+protocol.PathPairFinish, req, &fin); err != nil {
		return Pairing{}, fmt.Errorf("pairing with %s: %w", addr, err)
	}
	mu.Lock()
	seen2 := fp
	mu.Unlock()
	if seen2 != seen {
		return Pairing{}, fmt.Errorf("pairing with %s: %w", addr, ErrCertChanged)
	}
	if !protocol.VerifyProof(fin.GatewayProof, key, protocol.RoleGateway, seen, req.ClientNonce, req.GatewayNonce) {
		return Pairing{}, fmt.Errorf("pairing with %s: %w", addr, ErrGatewayProof)
	}
	if !protocol.ValidToken(fin.Token) {
		return Pairing{}, fmt.Errorf("pairing with %s: the gateway sent a malformed token", addr)
	}
	p := Pairing{Address: addr, Fingerprint: seen, Token: fin.Token, PairedAt: time.Now().UTC()}
	// From here on the certificate is pinned: ask who we paired with.
	c := NewClient(nil, p, nil)
	defer c.Close()
	st, err := c.Status(ctx)
	if err != nil {
		return Pairing{}, fmt.Errorf("pairing with %s: reading its status: %w", addr, err)
	}
	if gatewayID != "" && st.ID != gatewayID {
		return Pairing{}, fmt.Errorf("pairing with %s: the gateway there is %q, not %q", addr, st.ID, gatewayID)
	}
	p.GatewayID = st.ID
	return p, nil
}

func clientName() string {
	h, err := os.Hostname()
	if err != nil {
		return "zevdesk"
	}
	return "zevdesk@" + h
}

// leafFingerprint parses the peer's leaf certificate and returns its
// fingerprint.
func leafFingerprint(raw [][]byte) (string, error) {
	if len(raw) == 0 {
		return "", errors.New("the gateway presented no certificate")
	}
	cert, err := x509.ParseCertificate(raw[0])
	if err != nil {
		return "", fmt.Errorf("parsing the gateway's certificate: %w", err)
	}
	return protocol.Fingerprint(cert), nil
}

// pinnedTLS returns a TLS configuration that accepts exactly the certificate
// with fingerprint fp.
func pinnedTLS(fp string) *tls.Config {
	return &tls.Config{
		// Verification is the pin below, not a CA chain.
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS12,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			f, err := leafFingerprint(raw)
			if err != nil {
				return err
			}
			if f != fp {
				return ErrCertChanged
			}
			return nil
		},
	}
}

func newTransport(cfg *tls.Config, headerTimeout time.Duration) *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       cfg,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: headerTimeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
	}
}

func postJSON(ctx context.Context, hc *http.Client, url string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return unwrapCert(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return decodeSmall(resp.Body, out)
	}
	var e protocol.Error
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_ = json.Unmarshal(b, &e)
	var wait time.Duration
	if n, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && n > 0 {
		wait = time.Duration(n) * time.Second
	}
	// The code first; the status alone for gateways that send none.
	switch {
	case e.Code == protocol.ErrorPairingClosed || e.Code == "" && resp.StatusCode == http.StatusLocked:
		return ErrPairingClosed
	case e.Code == protocol.ErrorRateLimited:
		return &RetryError{Err: ErrPairingBusy, After: wait}
	case resp.StatusCode == http.StatusTooManyRequests:
		return &RetryError{Err: ErrRateLimited, After: wait}
	case e.Code == protocol.ErrorBadNonce || e.Code == "" && resp.StatusCode == http.StatusForbidden && strings.Contains(e.Error, "gateway_nonce"):
		// Not the code: the gateway no longer knows the nonce (it
		// expired, or the gateway restarted in between).
		return fmt.Errorf("the gateway refused the pairing step (%s): try again", e.Error)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return ErrWrongCode
	case e.Error != "":
		return fmt.Errorf("gateway answered %s: %s", resp.Status, e.Error)
	}
	return fmt.Errorf("gateway answered %s", resp.Status)
}

// decodeSmall decodes a small JSON response strictly: one value, nothing
// after it, at most protocol.MaxResponseBody bytes.
func decodeSmall(r io.Reader, out any) error {
	b, err := io.ReadAll(io.LimitReader(r, protocol.MaxResponseBody+1))
	if err != nil {
		return fmt.Errorf("reading response: %w", err)
	}
	if len(b) > protocol.MaxResponseBody {
		return fmt.Errorf("response larger than %d bytes", protocol.MaxResponseBody)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("malformed response: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("malformed response: data after the JSON value")
	}
	return nil
}

// httpError turns a non-200 response into an error quoting the gateway's
// message.
func httpError(resp *http.Response) error {
	var e protocol.Error
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return fmt.Errorf("gateway answered %s: %s", resp.Status, e.Error)
	}
	return fmt.Errorf("gateway answered %s", resp.Status)
}

// unwrapCert makes a pin mismatch, buried in url and TLS errors, the error
// a person reads.
func unwrapCert(err error) error {
	if errors.Is(err, ErrCertChanged) {
		return ErrCertChanged
	}
	return err
}

// SavePairing stores p in tx under its gateway id and logs it in the audit
// log as actor.
func SavePairing(tx store.Tx, p Pairing, now time.Time, actor string) error {
	if err := putPairing(tx, p); err != nil {
		return err
	}
	detail := fmt.Sprintf("gateway %s at %s, certificate %s", p.GatewayID, p.Address, p.Fingerprint)
	if p.Site != "" {
		detail += ", site " + p.Site
	}
	if _, err := tx.AppendAudit(store.Entry{Time: now.UTC(), Actor: actor, Site: p.Site, Action: "gateway.pair", Detail: detail}); err != nil {
		return fmt.Errorf("logging pairing of %s: %w", p.GatewayID, err)
	}
	return nil
}

// putPairing stores p under its gateway id.
func putPairing(tx store.Tx, p Pairing) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding pairing: %w", err)
	}
	if err := tx.PutMeta(PairingsBucket, p.GatewayID, b); err != nil {
		return fmt.Errorf("storing pairing of %s: %w", p.GatewayID, err)
	}
	return nil
}

// LoadPairing returns the pairing of gateway id, or an error wrapping
// store.ErrNotFound.
func LoadPairing(tx store.Tx, id string) (Pairing, error) {
	b, err := tx.GetMeta(PairingsBucket, id)
	if err != nil {
		return Pairing{}, fmt.Errorf("reading pairing of gateway %s: %w", id, err)
	}
	var p Pairing
	if err := json.Unmarshal(b, &p); err != nil {
		return Pairing{}, fmt.Errorf("decoding pairing of gateway %s: %w", id, err)
	}
	return p, nil
}

// Pairings lists every paired gateway, ordered by id.
func Pairings(tx store.Tx) ([]Pairing, error) {
	var ps []Pairing
	var derr error
	err := tx.ScanMeta(PairingsBucket, func(key string, v []byte) bool {
		var p Pairing
		if err := json.Unmarshal(v, &p); err != nil {
			derr = fmt.Errorf("decoding pairing of gateway %s: %w", key, err)
			return false
		}
		ps = append(ps, p)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("listing pairings: %w", err)
	}
	return ps, derr
}

// UpdateAddress records that paired gateway id now answers at addr (found
// by mDNS with the pinned fingerprint's prefix) and logs it.
func UpdateAddress(tx store.Tx, id, addr string, now time.Time) error {
	p, err := LoadPairing(tx, id)
	if err != nil {
		return err
	}
	if p.Address == addr {
		return nil
	}
	old := p.Address
	p.Address = addr
	if err := putPairing(tx, p); err != nil {
		return err
	}
	if _, err := tx.AppendAudit(store.Entry{Time: now.UTC(), Actor: "gateway:" + id, Site: p.Site, Action: "gateway.address",
		Detail: fmt.Sprintf("gateway %s moved from %s to %s", id, old, addr)}); err != nil {
		return fmt.Errorf("logging address of %s: %w", id, err)
	}
	return nil
}

// AssignBucket is the Meta bucket holding, per gateway id, the progress of
// an assignment's derivation of stored records (JSON assignProgress) while
// it runs. A key left there after a crash says that the assignment is not
// fully applied yet; ResumeAssign finishes it.
const AssignBucket = "gateway-assign"

// assignBatch is the number of raw records derived per transaction: memory
// stays bounded whatever the backlog, and each transaction stays short.
var assignBatch = protocol.MaxRecordsLimit

// assignProgress is the state of a running assignment.
type assignProgress struct {
	Site   string            `json:"site"`
	Meters map[string]string `json:"meters,omitempty"`
	// After is the sequence number up to which stored records have been
	// derived for this assignment.
	After uint64 `json:"after"`
}

// Assign sets the site that paired gateway id feeds and the mapping of its
// meters (gateway meter id to site meter id; unlisted meters map to the site
// meter of the same id), logs it, and derives registers from every raw
// record already stored for the gateway, so that records that arrived before
// the assignment are not left out. It returns the number of raw records
// passed to derivation.
//
// The assignment itself (pairing, audit entry, a progress mark in
// AssignBucket) is one transaction; the stored records are then derived in
// transactions of assignBatch records, each moving the mark, so that memory
// stays bounded however long the gateway waited. Deriving the same record
// twice changes nothing, so a crash in the middle loses nothing and
// duplicates nothing: the mark stays, and ResumeAssign (which Run calls on
// start), or Assign again with the same site and meters, carries on from it.
// An error also leaves the mark and is returned: the assignment is saved,
// its derivation not finished.
func Assign(st store.Store, id, site string, meters map[string]string, clock core.Clock, actor string) (int, error) {
	err := st.Update(func(tx store.Tx) error {
		p, err := LoadPairing(tx, id)
		if err != nil {
			return err
		}
		s, err := tx.Site(site)
		if err != nil {
			return fmt.Errorf("assigning gateway %s to site %s: %w", id, site, err)
		}
		for gm, sm := range meters {
			if s.Meter(sm) == nil {
				return fmt.Errorf("assigning gateway %s: its meter %s maps to %s, which site %s does not have", id, gm, sm, site)
			}
		}
		prog := assignProgress{Site: site, Meters: meters}
		if old, ok, err := loadProgress(tx, id); err != nil {
			return err
		} else if ok && old.Site == site && maps.Equal(old.Meters, meters) {
			prog.After = old.After // the same assignment again: carry on
		}
		p.Site, p.Meters = site, meters
		if err := putPairing(tx, p); err != nil {
			return err
		}
		if err := putProgress(tx, id, prog); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(store.Entry{Time: clock.Now().UTC(), Actor: actor, Site: site, Action: "gateway.assign",
			Detail: fmt.Sprintf("gateway %s feeds site %s, meter map %v", id, site, meters)}); err != nil {
			return fmt.Errorf("logging assignment of %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return ResumeAssign(st, id, clock)
}

// ResumeAssign derives the stored records of gateway id that its last
// assignment has not derived yet (see Assign), and returns how many it
// derived. Without an unfinished assignment it does nothing. Concurrent
// calls are safe: each batch reads and moves the progress mark in its own
// transaction.
func ResumeAssign(st store.Store, id string, clock core.Clock) (int, error) {
	actor := "gateway:" + id
	total := 0
	recs := make([]store.Record, 0, assignBatch)
	for {
		done := false
		var after uint64
		err := st.Update(func(tx store.Tx) error {
			prog, ok, err := loadProgress(tx, id)
			if err != nil || !ok {
				done = true
				return err
			}
			after = prog.After
			p, err := LoadPairing(tx, id)
			if err != nil {
				return err
			}
			// Read first, derive after: derivation writes while a scan is
			// open would be iterating a changing database.
			recs = recs[:0]
			if err := tx.ScanRecords(id, prog.After, func(r store.Record) bool {
				recs = append(recs, r)
				return len(recs) < assignBatch
			}); err != nil {
				return fmt.Errorf("reading records of gateway %s: %w", id, err)
			}
			if len(recs) == 0 {
				done = true
				if err := tx.DeleteMeta(AssignBucket, id); err != nil {
					return fmt.Errorf("ending the assignment of gateway %s: %w", id, err)
				}
				return nil
			}
			if err := derive(tx, &p, clock, recs, nil, actor); err != nil {
				return fmt.Errorf("deriving records of gateway %s: %w", id, err)
			}
			prog.After = recs[len(recs)-1].Seq
			return putProgress(tx, id, prog)
		})
		if err != nil {
			return total, fmt.Errorf("assigning gateway %s: deriving its stored records after seq %d (the assignment is saved; the rest is derived when it is resumed): %w", id, after, err)
		}
		if done {
			return total, nil
		}
		total += len(recs)
	}
}

func loadProgress(tx store.Tx, id string) (assignProgress, bool, error) {
	var prog assignProgress
	b, err := tx.GetMeta(AssignBucket, id)
	if errors.Is(err, store.ErrNotFound) {
		return prog, false, nil
	}
	if err != nil {
		return prog, false, fmt.Errorf("reading the assignment progress of gateway %s: %w", id, err)
	}
	if err := json.Unmarshal(b, &prog); err != nil {
		return prog, false, fmt.Errorf("decoding the assignment progress of gateway %s: %w", id, err)
	}
	return prog, true, nil
}

func putProgress(tx store.Tx, id string, prog assignProgress) error {
	b, err := json.Marshal(prog)
	if err != nil {
		return fmt.Errorf("encoding the assignment progress: %w", err)
	}
	if err := tx.PutMeta(AssignBucket, id, b); err != nil {
		return fmt.Errorf("storing the assignment progress of gateway %s: %w", id, err)
	}
	return nil
}
