// Package intake is the workstation side of the gateway protocol: pairing
// (Pair), the pull loop that copies a gateway's records into the store
// without ever losing or duplicating one (Client.CatchUp, Client.Run), and
// the live power stream (Client.Live).
//
// Every page of records is committed in one store transaction together with
// the gateway's cursor, the registers derived from it and the plausibility
// flags, so a workstation killed at any moment resumes exactly where its last
// commit ended.
package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// Options tune a Client. A nil *Options or zero fields mean the defaults.
type Options struct {
	// Clock is the workstation clock (records' plausibility, clock-skew
	// check, audit times). Default: the system clock.
	Clock core.Clock
	// Limit is the number of records asked for per request (default and
	// maximum protocol.MaxRecordsLimit).
	Limit int
	// MaxBody is the largest records response accepted (default 32 MiB,
	// at most protocol.MaxRecordsBody, which protocol.ReadRecords enforces).
	MaxBody int64
	// Timeout bounds one request from dial to the last byte of the body
	// (default 60s), so that a stalled connection fails instead of hanging.
	Timeout time.Duration
	// Poll is the pause between catch-ups once caught up (default 10s).
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the exponential backoff after an
	// error (defaults 1s and 2min).
	MinBackoff, MaxBackoff time.Duration
	// After returns a channel that fires after d; tests replace it to run
	// Run's waits without sleeping. Default time.After.
	After func(d time.Duration) <-chan time.Time
	// LiveIdle is how long the live stream may stay silent before the
	// client takes it for stalled and reconnects (default 30s; the gateway
	// sends an event every second or two).
	LiveIdle time.Duration
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Clock == nil {
		r.Clock = core.SystemClock{}
	}
	if r.Limit <= 0 || r.Limit > protocol.MaxRecordsLimit {
		r.Limit = protocol.MaxRecordsLimit
	}
	if r.MaxBody <= 0 {
		r.MaxBody = 32 << 20
	}
	r.MaxBody = min(r.MaxBody, protocol.MaxRecordsBody)
	if r.Timeout <= 0 {
		r.Timeout = time.Minute
	}
	if r.Poll <= 0 {
		r.Poll = 10 * time.Second
	}
	if r.MinBackoff <= 0 {
		r.MinBackoff = time.Second
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = 2 * time.Minute
	}
	if r.MaxBackoff < r.MinBackoff {
		r.MaxBackoff = r.MinBackoff
	}
	if r.After == nil {
		r.After = time.After
	}
	if r.LiveIdle <= 0 {
		r.LiveIdle = 30 * time.Second
	}
	return r
}

// MaxClockSkew is the difference between the gateway's clock and the
// workstation's above which the gateway is flagged: its readings' times would
// land in the wrong interval.
const MaxClockSkew = time.Minute

// Client pulls one paired gateway's records into a store. Its methods may be
// called from several goroutines, but CatchUp and Run of the same gateway
// must not run concurrently with each other (a second one fails its commit
// and retries).
type Client struct {
	st  store.Store
	p   Pairing
	opt Options
	hc  *http.Client // bounded requests
	sse *http.Client // the live stream: no overall timeout

	mu    sync.Mutex
	base  string // "https://" + address; changes with SetAddress
	state State
}

// NewClient returns a client for the paired gateway p writing into st (st
// may be nil for Status, Meters and Live only).
func NewClient(st store.Store, p Pairing, opt *Options) *Client {
	o := opt.withDefaults()
	tr := newTransport(pinnedTLS(p.Fingerprint), o.Timeout)
	return &Client{
		st:    st,
		p:     p,
		opt:   o,
		hc:    &http.Client{Transport: tr, Timeout: o.Timeout},
		sse:   &http.Client{Transport: tr},
		base:  "https://" + p.Address,
		state: State{Gateway: p.GatewayID},
	}
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Gateway returns the id of the client's gateway.
func (c *Client) Gateway() string { return c.p.GatewayID }

// SetAddress points the client at the gateway's new host:port (its DHCP
// address changed). The pinned certificate still decides whether whoever
// answers there is the gateway.
func (c *Client) SetAddress(addr string) {
	c.mu.Lock()
	c.base = "https://" + addr
	c.mu.Unlock()
}

// Address returns the gateway's host:port the client uses.
func (c *Client) Address() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.TrimPrefix(c.base, "https://")
}

// get runs an authenticated GET and returns the response if its status is
// 200. The caller closes the body.
func (c *Client) get(ctx context.Context, hc *http.Client, path string) (*http.Response, error) {
	c.mu.Lock()
	base := c.base
	c.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.p.Token)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, unwrapCert(err))
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return nil, fmt.Errorf("GET %s: %w", path, rejected(resp, c.p.GatewayID))
		}
		return nil, fmt.Errorf("GET %s: %w", path, httpError(resp))
	}
	return resp, nil
}

// ErrUnauthorized means the gateway no longer accepts our token (it was
// reset or paired with another workstation): pair it again.
var ErrUnauthorized = errors.New("the gateway no longer accepts this workstation (it was reset or paired with another workstation): " +
	"open its pairing window (`zevdesk gateway open-pairing` at the gateway) and pair it again")

// PairedElsewhereError means the gateway was paired with another
// workstation, which replaced this one's token. It matches ErrUnauthorized.
type PairedElsewhereError struct {
	Gateway string
	// At is when the gateway was paired elsewhere, as the gateway says.
	At time.Time
}

func (e *PairedElsewhereError) Error() string {
	return fmt.Sprintf("gateway %s was paired with another workstation on %s: this workstation no longer receives its data; "+
		"to take it back, open its pairing window (`zevdesk gateway open-pairing` at the gateway) and pair it again",
		e.Gateway, e.At.UTC().Format("2006-01-02 15:04 UTC"))
}

// Is makes errors.Is(err, ErrUnauthorized) true.
func (e *PairedElsewhereError) Is(target error) bool { return target == ErrUnauthorized }

// rejected reads a 401 or 403 answer to our token: a PairedElsewhereError
// when the gateway says it replaced the token, else ErrUnauthorized.
func rejected(resp *http.Response, gateway string) error {
	var e protocol.Error
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if json.Unmarshal(b, &e) == nil && e.Code == protocol.ErrorTokenReplaced && !e.PairedAt.IsZero() {
		return &PairedElsewhereError{Gateway: gateway, At: e.PairedAt}
	}
	return ErrUnauthorized
}

// Status asks the gateway for its status.
func (c *Client) Status(ctx context.Context) (protocol.Status, error) {
	var s protocol.Status
	resp, err := c.get(ctx, c.hc, protocol.PathStatus)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if err := decodeSmall(resp.Body, &s); err != nil {
		return s, fmt.Errorf("GET %s: %w", protocol.PathStatus, err)
	}
	return s, nil
}

// Meters asks the gateway which meters it reads.
func (c *Client) Meters(ctx context.Context) ([]protocol.Meter, error) {
	var m protocol.MetersResponse
	resp, err := c.get(ctx, c.hc, protocol.PathMeters)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := decodeSmall(resp.Body, &m); err != nil {
		return nil, fmt.Errorf("GET %s: %w", protocol.PathMeters, err)
	}
	return m.Meters, nil
}

// ErrTooLarge is returned for a records response over Options.MaxBody. It
// is protocol.ErrTooLarge, which protocol.ReadRecords returns at its own
// limit, so that errors.Is finds either.
var ErrTooLarge = protocol.ErrTooLarge

// ErrBadBatch wraps every reason a page of records is refused (malformed
// JSON, sequence numbers not increasing or not after the cursor, absurd
// times, another gateway's id). Nothing of such a page is stored.
var ErrBadBatch = errors.New("gateway sent an invalid page of records")

// CatchUp fetches and commits pages of records until the gateway has no
// more, and returns how many records it committed. Each page is one
// transaction; on error, the pages committed before it stay committed.
func (c *Client) CatchUp(ctx context.Context) (int, error) {
	if c.st == nil {
		return 0, errors.New("catching up: client has no store")
	}
	var cursor uint64
	if err := c.st.View(func(tx store.Tx) error {
		var err error
		cursor, err = tx.Cursor(c.p.GatewayID)
		return err
	}); err != nil {
		return 0, fmt.Errorf("catching up %s: reading cursor: %w", c.p.GatewayID, err)
	}
	// The next page is fetched and decoded while the current one commits:
	// network and JSON on one core, bbolt and the checks on the other.
	ctx, cancel := context.WithCancel(ctx)
	pages := make(chan fetched, 1)
	go c.prefetch(ctx, cursor, pages)
	defer func() {
		cancel()
		for range pages {
		}
	}()
	total := 0
	lastSeq := cursor
	for f := range pages {
		if f.err != nil {
			return total, fmt.Errorf("catching up %s after seq %d: %w", c.p.GatewayID, cursor, f.err)
		}
		if f.page.OldestSeq > cursor+1 {
			c.noteLost(cursor, f.page.OldestSeq)
		}
		lastSeq = max(lastSeq, f.page.LastSeq)
		if len(f.recs) == 0 {
			break
		}
		if err := c.commit(f.recs, cursor); err != nil {
			return total, fmt.Errorf("catching up %s after seq %d: %w", c.p.GatewayID, cursor, err)
		}
		cursor = f.recs[len(f.recs)-1].Seq
		total += len(f.recs)
	}
	c.noteContact(cursor, lastSeq)
	return total, nil
}

// fetched is one page read by prefetch.
type fetched struct {
	recs []store.Record
	page protocol.RecordsPage
	err  error
}

// prefetch reads pages after cursor into out until the gateway has no more,
// an error (sent as the last item) or ctx ends; it closes out.
func (c *Client) prefetch(ctx context.Context, cursor uint64, out chan<- fetched) {
	defer close(out)
	for {
		recs, page, err := c.fetch(ctx, cursor)
		select {
		case out <- fetched{recs, page, err}:
		case <-ctx.Done():
			return
		}
		if err != nil || len(recs) == 0 || !page.More {
			return
		}
		cursor = recs[len(recs)-1].Seq
	}
}

// limitedBody fails with ErrTooLarge instead of ending quietly, so that a
// huge body is refused rather than parsed as a truncated one.
// It also remembers a transport error (a connection reset or timed out in
// the middle of the body), which is worth a retry, unlike a malformed page.
type limitedBody struct {
	r   io.Reader
	n   int64
	err error
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// One byte more tells a body of exactly the limit from a larger one.
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			return 0, ErrTooLarge
		}
		return l.read(p)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.read(p)
	l.n -= int64(n)
	return n, err
}

func (l *limitedBody) read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err != nil && err != io.EOF && l.err == nil {
		l.err = err
	}
	return n, err
}

// earliest is the first plausible record time: nothing before it is a
// reading, whatever the gateway's clock said.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// fetch gets and validates one page of records after cursor.
func (c *Client) fetch(ctx context.Context, cursor uint64) ([]store.Record, protocol.RecordsPage, error) {
	q := url.Values{"after": {strconv.FormatUint(cursor, 10)}, "limit": {strconv.Itoa(c.opt.Limit)}}
	resp, err := c.get(ctx, c.hc, protocol.PathRecords+"?"+q.Encode())
	if err != nil {
		return nil, protocol.RecordsPage{}, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > c.opt.MaxBody {
		return nil, protocol.RecordsPage{}, fmt.Errorf("%w: %w (%d bytes, limit %d)", ErrBadBatch, ErrTooLarge, resp.ContentLength, c.opt.MaxBody)
	}
	latest := c.opt.Clock.Now().AddDate(1, 0, 0)
	recs := make([]store.Record, 0, c.opt.Limit)
	last := cursor
	body := &limitedBody{r: resp.Body, n: c.opt.MaxBody}
	page, err := protocol.ReadRecords(body, func(r protocol.Record) error {
		switch {
		case r.Seq <= last:
			return fmt.Errorf("record seq %d does not follow %d", r.Seq, last)
		case r.Time.Before(earliest) || r.Time.After(latest):
			return fmt.Errorf("record seq %d: implausible time %s", r.Seq, r.Time.Format(time.RFC3339))
		case len(recs) >= c.opt.Limit:
			return fmt.Errorf("more than the %d records asked for", c.opt.Limit)
		}
		last = r.Seq
		recs = append(recs, store.Record{Source: c.p.GatewayID, Seq: r.Seq, Meter: r.Meter, Time: r.Time, Import: r.Import, Export: r.Export})
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, page, fmt.Errorf("%w: %w (limit %d bytes)", ErrBadBatch, ErrTooLarge, c.opt.MaxBody)
		}
		if ctx.Err() != nil {
			return nil, page, ctx.Err()
		}
		if body.err != nil {
			return nil, page, fmt.Errorf("reading records: %w", body.err)
		}
		return nil, page, fmt.Errorf("%w: %w", ErrBadBatch, err)
	}
	if page.Gateway != "" && page.Gateway != c.p.GatewayID {
		return nil, page, fmt.Errorf("%w: it says it is gateway %q, paired was %q", ErrBadBatch, page.Gateway, c.p.GatewayID)
	}
	return recs, page, nil
}

// errCursorMoved means another writer committed records of the same gateway
// since we read the cursor.
var errCursorMoved = errors.New("the cursor moved: another intake of the same gateway is running")

// commit stores one validated page in one transaction: raw records, derived
// registers with their plausibility checks, and the cursor.
func (c *Client) commit(recs []store.Record, cursor uint64) error {
	actor := "gateway:" + c.p.GatewayID
	// A meter whose derivation touches a billed (locked) period keeps its raw
	// records but is not derived; the retry leaves it out.
	skip := map[string]error{}
	for attempt := 0; ; attempt++ {
		err := c.st.Update(func(tx store.Tx) error {
			cur, err := tx.Cursor(c.p.GatewayID)
			if err != nil {
				return fmt.Errorf("reading cursor: %w", err)
			}
			if cur != cursor {
				return errCursorMoved
			}
			if _, err := tx.PutRecords(recs); err != nil {
				return fmt.Errorf("storing records: %w", err)
			}
			if err := c.derive(tx, recs, skip, actor); err != nil {
				return err
			}
			for m, why := range skip {
				if _, err := tx.AppendAudit(store.Entry{Time: c.opt.Clock.Now().UTC(), Actor: actor, Site: c.p.Site, Action: "gateway.underived",
					Detail: fmt.Sprintf("records %d..%d of meter %s kept raw, not derived: %v", recs[0].Seq, recs[len(recs)-1].Seq, m, why)}); err != nil {
					return fmt.Errorf("logging underived records: %w", err)
				}
			}
			if err := tx.SetCursor(c.p.GatewayID, recs[len(recs)-1].Seq); err != nil {
				return fmt.Errorf("setting cursor: %w", err)
			}
			return nil
		})
		var me *meterError
		if err != nil && errors.As(err, &me) && errors.Is(err, store.ErrLocked) && attempt < 100 {
			skip[me.meter] = me.err
			slog.Warn("intake: records fall in a billed period; keeping them raw", "gateway", c.p.GatewayID, "meter", me.meter)
			continue
		}
		return err
	}
}

type meterError struct {
	meter string
	err   error
}

func (e *meterError) Error() string { return fmt.Sprintf("meter %s: %v", e.meter, e.err) }
func (e *meterError) Unwrap() error { return e.err }

// derive converts records to register readings of the mapped site meters and
// passes them through the plausibility checks.
func (c *Client) derive(tx store.Tx, recs []store.Record, skip map[string]error, actor string) error {
	return derive(tx, &c.p, c.opt.Clock, recs, skip, actor)
}

func derive(tx store.Tx, p *Pairing, clock core.Clock, recs []store.Record, skip map[string]error, actor string) error {
	if p.Site == "" {
		return nil // not assigned to a site yet: kept raw, derived by Assign
	}
	site, err := tx.Site(p.Site)
	if err != nil {
		return fmt.Errorf("reading site %s: %w", p.Site, err)
	}
	// Two passes, counting first, so that each meter's slice is allocated
	// once (a page holds thousands of records of a few dozen meters).
	count := map[string]int{}
	for _, r := range recs {
		count[r.Meter]++
	}
	byMeter := make(map[string][]store.Register, len(count))
	for _, r := range recs {
		m := p.SiteMeter(r.Meter)
		if site.Meter(m) == nil {
			continue // a gateway channel not (yet) assigned to a site meter: kept raw
		}
		rs, ok := byMeter[m]
		if !ok {
			rs = make([]store.Register, 0, count[r.Meter])
		}
		byMeter[m] = append(rs, store.Register{Time: r.Time, Import: r.Import, Export: r.Export})
	}
	meters := make([]string, 0, len(byMeter))
	for m := range byMeter {
		meters = append(meters, m)
	}
	sort.Strings(meters) // a deterministic order of writes and audit entries
	for _, m := range meters {
		if _, skipped := skip[m]; skipped {
			continue
		}
		rs := byMeter[m]
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].Time.Before(rs[j].Time) })
		if _, err := vee.AcceptRegisters(tx, site, m, rs, vee.Options{Clock: clock, Actor: actor}); err != nil {
			return &meterError{meter: m, err: err}
		}
	}
	return nil
}

// State is what the workstation knows about a gateway's connection, for the
// UI and `zevdesk serve`'s log.
type State struct {
	Gateway string `json:"gateway"`
	// LastContact is when the gateway last answered.
	LastContact time.Time `json:"last_contact,omitzero"`
	// Cursor is the last committed sequence number; Behind is how many
	// sequence numbers the gateway had beyond it at last contact.
	Cursor uint64 `json:"cursor"`
	Behind uint64 `json:"behind"`
	// Err is the last error, empty after a success.
	Err string `json:"error,omitempty"`
	// ClockSkew is the gateway's clock minus ours at the last status check;
	// SkewFlag is set when it exceeds MaxClockSkew.
	ClockSkew time.Duration `json:"clock_skew_ns"`
	SkewFlag  bool          `json:"clock_skew_flag"`
	// Lost is set when the gateway pruned records we never fetched (the
	// workstation was off longer than the gateway's retention).
	Lost string `json:"lost,omitempty"`
	// Rejected is set when the gateway no longer accepts our token (it was
	// reset or paired with another workstation); PairedElsewhere is when
	// it was paired with another one, if it said so.
	Rejected        bool      `json:"rejected,omitempty"`
	PairedElsewhere time.Time `json:"paired_elsewhere,omitzero"`
}

// StateBucket is the Meta bucket holding each gateway's last State (JSON,
// under the gateway id), written by Run when something a person should see
// changes.
const StateBucket = "gateway-state"

// State returns a snapshot of the client's state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

func (c *Client) noteContact(cursor, lastSeq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state.LastContact = c.opt.Clock.Now().UTC()
	c.state.Cursor = cursor
	c.state.Behind = 0
	if lastSeq > cursor {
		c.state.Behind = lastSeq - cursor
	}
	c.state.Err = ""
	c.state.Rejected, c.state.PairedElsewhere = false, time.Time{}
}

// noteLost reports records pruned by the gateway before we fetched them, in
// the state and the audit log: a gap must never pass unnoticed.
func (c *Client) noteLost(cursor, oldest uint64) {
	msg := fmt.Sprintf("records %d..%d were pruned by the gateway before they were fetched", cursor+1, oldest-1)
	slog.Warn("intake: gateway lost records to its retention", "gateway", c.p.GatewayID, "detail", msg)
	err := c.st.Update(func(tx store.Tx) error {
		_, err := tx.AppendAudit(store.Entry{Time: c.opt.Clock.Now().UTC(), Actor: "gateway:" + c.p.GatewayID, Site: c.p.Site, Action: "gateway.lost", Detail: msg})
		return err
	})
	if err != nil {
		slog.Error("intake: logging lost records", "gateway", c.p.GatewayID, "error", err)
	}
	c.mu.Lock()
	c.state.Lost = msg
	c.mu.Unlock()
}

// LoadState returns the state Run last stored for gateway id, or an error
// wrapping store.ErrNotFound.
func LoadState(tx store.Tx, id string) (State, error) {
	var s State
	b, err := tx.GetMeta(StateBucket, id)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("decoding state of gateway %s: %w", id, err)
	}
	return s, nil
}
