package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/block"
)

// tx is a store.Tx on a PostgreSQL transaction.
//
// An SQL error aborts a PostgreSQL transaction, while a store.Tx stays usable
// after a refused call (ErrLocked, a conflict, invalid input): every check is
// therefore made in Go before a statement is sent.
type tx struct {
	ctx      context.Context
	q        pgx.Tx
	writable bool
	locks    map[string][]block.Span
	blk      block.Day
	audit    uint64 // the next audit sequence number, 0 before it is read
}

var _ store.Tx = (*tx)(nil)

// scanChunk is how many rows a Scan reads per query: fn may use the Tx, which
// a connection can only do between queries.
const scanChunk = 2048

func (t *tx) checkWritable() error {
	if !t.writable {
		return store.ErrReadOnly
	}
	return nil
}

// checkText rejects what a PostgreSQL text column cannot hold.
func checkText(what, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("invalid %s %q: contains a NUL byte", what, s)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("invalid %s %q: not UTF-8", what, s)
	}
	return nil
}

func checkID(what, id string) error {
	if err := store.CheckID(what, id); err != nil {
		return err
	}
	return checkText(what+" id", id)
}

func checkSiteMeter(site, meter string) error {
	if err := checkID("site", site); err != nil {
		return err
	}
	return checkID("meter", meter)
}

// Times are stored as a timestamptz (microseconds) and the nanoseconds below
// it (ns).
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// split returns t as stored; times outside years 1..9999 are refused.
func split(t time.Time) (time.Time, int16, error) {
	u := t.UTC()
	if u.Before(minTime) || u.After(maxTime) {
		return time.Time{}, 0, fmt.Errorf("time %s out of range (years 1 to 9999)", u.Format(time.RFC3339Nano))
	}
	ns := u.Nanosecond() % 1000
	return u.Add(-time.Duration(ns)), int16(ns), nil
}

// bound returns t clamped to the stored range, for query limits.
func bound(t time.Time) (time.Time, int16) {
	u := t.UTC()
	if u.Before(minTime) {
		return minTime, 0
	}
	if u.After(maxTime) {
		u = maxTime
	}
	ns := u.Nanosecond() % 1000
	return u.Add(-time.Duration(ns)), int16(ns)
}

func join(at time.Time, ns int16) time.Time { return at.Add(time.Duration(ns)).UTC() }

// ---- Sites ----

// PutSite creates or replaces a site.
func (t *tx) PutSite(s *core.Site) error {
	if err := t.checkWritable(); err != nil {
		return err
	}
	if err := checkID("site", s.ID); err != nil {
		return err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encoding site %s: %w", s.ID, err)
	}
	delete(t.locks, s.ID)
	if _, err := t.q.Exec(t.ctx, `INSERT INTO sites (id, site) VALUES ($1, $2::json)
		ON CONFLICT (id) DO UPDATE SET site = EXCLUDED.site`, s.ID, string(b)); err != nil {
		return fmt.Errorf("writing site %s: %w", s.ID, err)
	}
	return nil
}

// Site returns the site with the given id, or ErrNotFound.
func (t *tx) Site(id string) (*core.Site, error) {
	if checkText("site id", id) != nil {
		return nil, fmt.Errorf("site %q: %w", id, store.ErrNotFound)
	}
	var v string
	err := t.q.QueryRow(t.ctx, "SELECT site::text FROM sites WHERE id = $1", id).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("site %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading site %q: %w", id, err)
	}
	var s core.Site
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return nil, fmt.Errorf("reading site %q: %w", id, err)
	}
	return &s, nil
}

// SiteIDs lists every site id in lexical order.
func (t *tx) SiteIDs() ([]string, error) {
	rows, _ := t.q.Query(t.ctx, "SELECT id FROM sites ORDER BY id")
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing sites: %w", err)
	}
	return ids, nil
}

// ---- Registers ----

type regKey struct {
	at time.Time
	ns int16
}

// PutRegisters stores readings; a different reading at an instant that has
// one is returned as a conflict (in the order given).
func (t *tx) PutRegisters(site, meter string, rs []store.Register) ([]store.Register, error) {
	if err := t.checkWritable(); err != nil {
		return nil, err
	}
	if err := checkSiteMeter(site, meter); err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, nil
	}
	keys := make([]regKey, len(rs))
	lo, hi := maxTime, minTime
	for i, r := range rs {
		at, ns, err := split(r.Time)
		if err != nil {
			return nil, fmt.Errorf("writing registers of %s/%s: %w", site, meter, err)
		}
		keys[i] = regKey{at, ns}
		lo, hi = minT(lo, at), maxT(hi, at)
	}
	type ie struct{ imp, exp core.Energy }
	have := map[regKey]ie{}
	rows, _ := t.q.Query(t.ctx, `SELECT at, ns, import_mwh, export_mwh FROM registers
		WHERE site = $1 AND meter = $2 AND at >= $3 AND at <= $4`, site, meter, lo, hi)
	var at time.Time
	var ns int16
	var imp, exp int64
	_, err := pgx.ForEachRow(rows, []any{&at, &ns, &imp, &exp}, func() error {
		have[regKey{at.UTC(), ns}] = ie{core.Energy(imp), core.Energy(exp)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading registers of %s/%s: %w", site, meter, err)
	}
	var conflicts []store.Register
	var ats []time.Time
	var nss []int16
	var imps, exps []int64
	for i, r := range rs {
		if old, ok := have[keys[i]]; ok {
			if old.imp != r.Import || old.exp != r.Export {
				c := r
				c.Time = c.Time.UTC()
				conflicts = append(conflicts, c)
			}
			continue
		}
		have[keys[i]] = ie{r.Import, r.Export}
		ats, nss = append(ats, keys[i].at), append(nss, keys[i].ns)
		imps, exps = append(imps, int64(r.Import)), append(exps, int64(r.Export))
	}
	if len(ats) > 0 {
		if _, err := t.q.Exec(t.ctx, `INSERT INTO registers (site, meter, at, ns, import_mwh, export_mwh)
			SELECT $1, $2, * FROM unnest($3::timestamptz[], $4::smallint[], $5::bigint[], $6::bigint[])`,
			site, meter, ats, nss, imps, exps); err != nil {
			return nil, fmt.Errorf("writing registers of %s/%s: %w", site, meter, err)
		}
	}
	return conflicts, nil
}

func minT(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxT(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ScanRegisters calls fn for each reading with from <= Time < to in time
// order until fn returns false.
func (t *tx) ScanRegisters(site, meter string, from, to time.Time, fn func(store.Register) bool) error {
	if err := checkSiteMeter(site, meter); err != nil {
		return err
	}
	if !from.Before(to) {
		return nil
	}
	fa, fns := bound(from)
	ta, tns := bound(to)
	if to.After(maxTime) {
		ta, tns = maxTime.Add(time.Microsecond), 0 // past every stored reading
	}
	for {
		rows, _ := t.q.Query(t.ctx, `SELECT at, ns, import_mwh, export_mwh FROM registers
			WHERE site = $1 AND meter = $2 AND (at, ns) >= ($3, $4) AND (at, ns) < ($5, $6)
			ORDER BY at, ns LIMIT $7`, site, meter, fa, fns, ta, tns, scanChunk)
		var at time.Time
		var ns int16
		var imp, exp int64
		var got []store.Register
		_, err := pgx.ForEachRow(rows, []any{&at, &ns, &imp, &exp}, func() error {
			got = append(got, store.Register{Time: join(at, ns), Import: core.Energy(imp), Export: core.Energy(exp)})
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading registers of %s/%s: %w", site, meter, err)
		}
		for _, r := range got {
			if !fn(r) {
				return nil
			}
		}
		if len(got) < scanChunk {
			return nil
		}
		fa, fns = at, ns+1
	}
}

func (t *tx) oneRegister(site, meter, cond, order string, at time.Time) (store.Register, bool, error) {
	a, ns := bound(at)
	if at.After(maxTime) {
		a, ns = maxTime.Add(time.Microsecond), 0
	}
	var rat time.Time
	var rns int16
	var imp, exp int64
	err := t.q.QueryRow(t.ctx, `SELECT at, ns, import_mwh, export_mwh FROM registers
		WHERE site = $1 AND meter = $2 AND (at, ns) `+cond+` ($3, $4) ORDER BY at `+order+`, ns `+order+` LIMIT 1`,
		site, meter, a, ns).Scan(&rat, &rns, &imp, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Register{}, false, nil
	}
	if err != nil {
		return store.Register{}, false, fmt.Errorf("reading registers of %s/%s: %w", site, meter, err)
	}
	return store.Register{Time: join(rat, rns), Import: core.Energy(imp), Export: core.Energy(exp)}, true, nil
}

// RegisterBefore returns the latest reading strictly before at, or
// ErrNotFound.
func (t *tx) RegisterBefore(site, meter string, at time.Time) (store.Register, error) {
	if err := checkSiteMeter(site, meter); err != nil {
		return store.Register{}, err
	}
	r, ok, err := t.oneRegister(site, meter, "<", "DESC", at)
	if err == nil && !ok {
		err = fmt.Errorf("register of %s/%s before %s: %w", site, meter, at.UTC().Format(time.RFC3339), store.ErrNotFound)
	}
	return r, err
}

// RegisterAtOrAfter returns the earliest reading at or after at, or
// ErrNotFound.
func (t *tx) RegisterAtOrAfter(site, meter string, at time.Time) (store.Register, error) {
	if err := checkSiteMeter(site, meter); err != nil {
		return store.Register{}, err
	}
	r, ok, err := t.oneRegister(site, meter, ">=", "ASC", at)
	if err == nil && !ok {
		err = fmt.Errorf("register of %s/%s at or after %s: %w", site, meter, at.UTC().Format(time.RFC3339), store.ErrNotFound)
	}
	return r, err
}

// PutReplacement records a confirmed meter exchange (replacing one recorded
// at the same instant).
func (t *tx) PutReplacement(site, meter string, r store.Replacement) error {
	if err := t.checkWritable(); err != nil {
		return err
	}
	if err := checkSiteMeter(site, meter); err != nil {
		return err
	}
	at, ns, err := split(r.Time)
	if err != nil {
		return fmt.Errorf("writing replacement of %s/%s: %w", site, meter, err)
	}
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding replacement of %s/%s: %w", site, meter, err)
	}
	if _, err := t.q.Exec(t.ctx, `INSERT INTO replacements (site, meter, at, ns, replacement) VALUES ($1, $2, $3, $4, $5::json)
		ON CONFLICT (site, meter, at, ns) DO UPDATE SET replacement = EXCLUDED.replacement`,
		site, meter, at, ns, string(v)); err != nil {
		return fmt.Errorf("writing replacement of %s/%s: %w", site, meter, err)
	}
	return nil
}

// Replacements returns a meter's exchanges in time order.
func (t *tx) Replacements(site, meter string) ([]store.Replacement, error) {
	if err := checkSiteMeter(site, meter); err != nil {
		return nil, err
	}
	rows, _ := t.q.Query(t.ctx, `SELECT replacement::text FROM replacements
		WHERE site = $1 AND meter = $2 ORDER BY at, ns`, site, meter)
	vs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("reading replacements of %s/%s: %w", site, meter, err)
	}
	var rs []store.Replacement
	for _, v := range vs {
		var r store.Replacement
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, fmt.Errorf("reading replacements of %s/%s: %w", site, meter, err)
		}
		r.Time, r.OldFinal.Time, r.NewInitial.Time = r.Time.UTC(), r.OldFinal.Time.UTC(), r.NewInitial.Time.UTC()
		rs = append(rs, r)
	}
	return rs, nil
}

// ---- Records ----

// PutRecords stores records; one already stored under its source and
// sequence number is skipped. Sequence numbers must be below 2^63.
func (t *tx) PutRecords(recs []store.Record) (int, error) {
	if err := t.checkWritable(); err != nil {
		return 0, err
	}
	n := len(recs)
	srcs, seqs, meters := make([]string, 0, n), make([]int64, 0, n), make([]string, 0, n)
	ats, nss, imps, exps := make([]time.Time, 0, n), make([]int16, 0, n), make([]int64, 0, n), make([]int64, 0, n)
	type key struct {
		src string
		seq uint64
	}
	seen := make(map[key]bool, n)
	for _, r := range recs {
		if err := checkID("source", r.Source); err != nil {
			return 0, err
		}
		if err := checkText("meter id", r.Meter); err != nil {
			return 0, err
		}
		if r.Seq > math.MaxInt64 {
			return 0, fmt.Errorf("record %s/%d: sequence number out of range (at most %d)", r.Source, r.Seq, int64(math.MaxInt64))
		}
		at, ns, err := split(r.Time)
		if err != nil {
			return 0, fmt.Errorf("record %s/%d: %w", r.Source, r.Seq, err)
		}
		if seen[key{r.Source, r.Seq}] {
			continue
		}
		seen[key{r.Source, r.Seq}] = true
		srcs, seqs, meters = append(srcs, r.Source), append(seqs, int64(r.Seq)), append(meters, r.Meter)
		ats, nss, imps, exps = append(ats, at), append(nss, ns), append(imps, int64(r.Import)), append(exps, int64(r.Export))
	}
	if len(srcs) == 0 {
		return 0, nil
	}
	tag, err := t.q.Exec(t.ctx, `INSERT INTO records (source, seq, meter, at, ns, import_mwh, export_mwh)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[], $5::smallint[], $6::bigint[], $7::bigint[])
		ON CONFLICT (source, seq) DO NOTHING`, srcs, seqs, meters, ats, nss, imps, exps)
	if err != nil {
		return 0, fmt.Errorf("writing records: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// ScanRecords calls fn for source's records with Seq > after, in sequence
// order, until fn returns false.
func (t *tx) ScanRecords(source string, after uint64, fn func(store.Record) bool) error {
	if err := checkID("source", source); err != nil {
		return err
	}
	if after >= math.MaxInt64 {
		return nil
	}
	last := int64(after)
	for {
		rows, _ := t.q.Query(t.ctx, `SELECT seq, meter, at, ns, import_mwh, export_mwh FROM records
			WHERE source = $1 AND seq > $2 ORDER BY seq LIMIT $3`, source, last, scanChunk)
		var seq, imp, exp int64
		var meter string
		var at time.Time
		var ns int16
		var got []store.Record
		_, err := pgx.ForEachRow(rows, []any{&seq, &meter, &at, &ns, &imp, &exp}, func() error {
			got = append(got, store.Record{Source: source, Seq: uint64(seq), Meter: meter, Time: join(at, ns),
				Import: core.Energy(imp), Export: core.Energy(exp)})
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading records of %s: %w", source, err)
		}
		for _, r := range got {
			if !fn(r) {
				return nil
			}
		}
		if len(got) < scanChunk {
			return nil
		}
		last = seq
	}
}

// Cursor returns the highest sequence number committed for source.
func (t *tx) Cursor(source string) (uint64, error) {
	if err := checkID("source", source); err != nil {
		return 0, err
	}
	var seq int64
	err := t.q.QueryRow(t.ctx, "SELECT seq FROM cursors WHERE source = $1", source).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading the cursor of %s: %w", source, err)
	}
	return uint64(seq), nil
}

// SetCursor sets source's cursor (below 2^63).
func (t *tx) SetCursor(source string, seq uint64) error {
	if err := t.checkWritable(); err != nil {
		return err
	}
	if err := checkID("source", source); err != nil {
		return err
	}
	if seq > math.MaxInt64 {
		return fmt.Errorf("cursor of %s: %d out of range", source, seq)
	}
	if _, err := t.q.Exec(t.ctx, `INSERT INTO cursors (source, seq) VALUES ($1, $2)
		ON CONFLICT (source) DO UPDATE SET seq = EXCLUDED.seq`, source, int64(seq)); err != nil {
		return fmt.Errorf("writing the cursor of %s: %w", source, err)
	}
	return nil
}

// ---- Flags ----

// PutFlags stores flags; one with the same site, meter, slot and kind
// replaces the earlier one.
func (t *tx) PutFlags(fs []store.Flag) error {
	if err := t.checkWritable(); err != nil {
		return err
	}
	type key struct {
		site, meter string
		slot        core.Slot
		kind        string
	}
	idx := map[key]int{}
	var sites, meters, kinds, reasons []string
	var slots []int64
	for _, f := range fs {
		if err := checkSiteMeter(f.Site, f.Meter); err != nil {
			return err
		}
		if err := checkID("flag kind", f.Kind); err != nil {
			return err
		}
		if err := checkText("flag reason", f.Reason); err != nil {
			return err
		}
		k := key{f.Site, f.Meter, f.Slot, f.Kind}
		if i, ok := idx[k]; ok {
			reasons[i] = f.Reason // the later one wins
			continue
		}
		idx[k] = len(sites)
		sites, meters, slots = append(sites, f.Site), append(meters, f.Meter), append(slots, int64(f.Slot))
		kinds, reasons = append(kinds, f.Kind), append(reasons, f.Reason)
	}
	if len(sites) == 0 {
		return nil
	}
	if _, err := t.q.Exec(t.ctx, `INSERT INTO flags (site, meter, slot, kind, reason)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[])
		ON CONFLICT (site, meter, slot, kind) DO UPDATE SET reason = EXCLUDED.reason`,
		sites, meters, slots, kinds, reasons); err != nil {
		return fmt.Errorf("writing flags: %w", err)
	}
	return nil
}

// ScanFlags calls fn for a site's flags with from <= Slot < to, ordered by
// meter, slot and kind, until fn returns false.
func (t *tx) ScanFlags(site string, from, to core.Slot, fn func(store.Flag) bool) error {
	if err := checkID("site", site); err != nil {
		return err
	}
	if from >= to {
		return nil
	}
	var lm, lk string
	var ls int64
	first := true
	for {
		var rows pgx.Rows
		if first {
			rows, _ = t.q.Query(t.ctx, `SELECT meter, slot, kind, reason FROM flags
				WHERE site = $1 AND slot >= $2 AND slot < $3 ORDER BY meter, slot, kind LIMIT $4`,
				site, int64(from), int64(to), scanChunk)
		} else {
			rows, _ = t.q.Query(t.ctx, `SELECT meter, slot, kind, reason FROM flags
				WHERE site = $1 AND slot >= $2 AND slot < $3 AND (meter, slot, kind) > ($5, $6, $7)
				ORDER BY meter, slot, kind LIMIT $4`, site, int64(from), int64(to), scanChunk, lm, ls, lk)
		}
		first = false
		var got []store.Flag
		var meter, kind, reason string
		var slot int64
		_, err := pgx.ForEachRow(rows, []any{&meter, &slot, &kind, &reason}, func() error {
			got = append(got, store.Flag{Site: site, Meter: meter, Slot: core.Slot(slot), Kind: kind, Reason: reason})
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading flags of %s: %w", site, err)
		}
		for _, f := range got {
			if !fn(f) {
				return nil
			}
		}
		if len(got) < scanChunk {
			return nil
		}
		lm, ls, lk = meter, slot, kind
	}
}

// DeleteFlags removes the flags of a kind from a meter's slots [from, to).
func (t *tx) DeleteFlags(site, meter, kind string, from, to core.Slot) error {
	if err := t.checkWritable(); err != nil {
		return err
	}
	if err := checkSiteMeter(site, meter); err != nil {
		return err
	}
	if checkText("flag kind", kind) != nil {
		return nil // no such flag can be stored
	}
	if _, err := t.q.Exec(t.ctx, `DELETE FROM flags WHERE site = $1 AND meter = $2 AND kind = $3 AND slot >= $4 AND slot < $5`,
		site, meter, kind, int64(from), int64(to)); err != nil {
		return fmt.Errorf("deleting flags of %s/%s: %w", site, meter, err)
	}
	return nil
}

// ---- Audit ----

// AppendAudit appends e and returns its sequence number: one more than the
// last, without gaps (Updates run one at a time).
func (t *tx) AppendAudit(e store.Entry) (uint64, error) {
	if err := t.checkWritable(); err != nil {
		return 0, err
	}
	for _, s := range []struct{ what, v string }{{"actor", e.Actor}, {"site", e.Site}, {"action", e.Action}, {"detail", e.Detail}} {
		if err := checkText("audit "+s.what, s.v); err != nil {
			return 0, err
		}
	}
	at, ns, err := split(e.Time)
	if err != nil {
		return 0, fmt.Errorf("appending to the audit log: %w", err)
	}
	if t.audit == 0 {
		var last int64
		if err := t.q.QueryRow(t.ctx, "SELECT coalesce(max(seq), 0) FROM audit").Scan(&last); err != nil {
			return 0, fmt.Errorf("appending to the audit log: %w", err)
		}
		t.audit = uint64(last) + 1
	}
	seq := t.audit
	if _, err := t.q.Exec(t.ctx, `INSERT INTO audit (seq, at, ns, actor, site, action, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		int64(seq), at, ns, e.Actor, e.Site, e.Action, e.Detail); err != nil {
		return 0, fmt.Errorf("appending to the audit log: %w", err)
	}
	t.audit++
	return seq, nil
}

// ScanAudit calls fn for entries with Seq > after in order until fn returns
// false.
func (t *tx) ScanAudit(after uint64, fn func(store.Entry) bool) error {
	if after >= math.MaxInt64 {
		return nil
	}
	last := int64(after)
	for {
		rows, _ := t.q.Query(t.ctx, `SELECT seq, at, ns, actor, site, action, detail FROM audit
			WHERE seq > $1 ORDER BY seq LIMIT $2`, last, scanChunk)
		var got []store.Entry
		var seq int64
		var at time.Time
		var ns int16
		var e store.Entry
		_, err := pgx.ForEachRow(rows, []any{&seq, &at, &ns, &e.Actor, &e.Site, &e.Action, &e.Detail}, func() error {
			e.Seq, e.Time = uint64(seq), join(at, ns)
			got = append(got, e)
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading the audit log: %w", err)
		}
		for _, e := range got {
			if !fn(e) {
				return nil
			}
		}
		if len(got) < scanChunk {
			return nil
		}
		last = seq
	}
}

// ---- Locks ----

// LockPeriod locks a period of a site (replacing a lock of the same period).
func (t *tx) LockPeriod(l store.Lock) error {
	if err := t.checkWritable(); err != nil {
		return err
	}
	if err := checkID("site", l.Site); err != nil {
		return err
	}
	if !l.Period.Valid() {
		return fmt.Errorf("locking %s: invalid period %s", l.Site, l.Period)
	}
	if err := checkText("lock note", l.Note); err != nil {
		return err
	}
	at, ns, err := split(l.Time)
	if err != nil {
		return fmt.Errorf("locking %s %s: %w", l.Site, l.Period, err)
	}
	delete(t.locks, l.Site)
	if _, err := t.q.Exec(t.ctx, `INSERT INTO locks (site, period_from, period_to, at, ns, note)
		VALUES ($1, $2::text::date, $3::text::date, $4, $5, $6)
		ON CONFLICT (site, period_from, period_to) DO UPDATE SET at = EXCLUDED.at, ns = EXCLUDED.ns, note = EXCLUDED.note`,
		l.Site, l.Period.From.String(), l.Period.To.String(), at, ns, l.Note); err != nil {
		return fmt.Errorf("locking %s %s: %w", l.Site, l.Period, err)
	}
	return nil
}

// UnlockPeriod removes the lock of exactly that period, or returns
// ErrNotFound.
func (t *tx) UnlockPeriod(site string, p core.Period) error {
	if err := t.checkWritable(); err != nil {
		return err
	}
	if err := checkID("site", site); err != nil {
		return err
	}
	if !p.Valid() {
		return fmt.Errorf("unlocking %s %s: no such lock: %w", site, p, store.ErrNotFound)
	}
	tag, err := t.q.Exec(t.ctx, `DELETE FROM locks WHERE site = $1 AND period_from = $2::text::date AND period_to = $3::text::date`,
		site, p.From.String(), p.To.String())
	if err != nil {
		return fmt.Errorf("unlocking %s %s: %w", site, p, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("unlocking %s %s: no such lock: %w", site, p, store.ErrNotFound)
	}
	delete(t.locks, site)
	return nil
}

// LocksOf returns a site's locks ordered by period start.
func (t *tx) LocksOf(site string) ([]store.Lock, error) {
	if err := checkID("site", site); err != nil {
		return nil, err
	}
	rows, _ := t.q.Query(t.ctx, `SELECT to_char(period_from, 'YYYY-MM-DD'), to_char(period_to, 'YYYY-MM-DD'), at, ns, note
		FROM locks WHERE site = $1 ORDER BY period_from, period_to`, site)
	var ls []store.Lock
	var from, to, note string
	var at time.Time
	var ns int16
	_, err := pgx.ForEachRow(rows, []any{&from, &to, &at, &ns, &note}, func() error {
		f, err := core.ParseDate(from)
		if err != nil {
			return err
		}
		tt, err := core.ParseDate(to)
		if err != nil {
			return err
		}
		ls = append(ls, store.Lock{Site: site, Period: core.Period{From: f, To: tt}, Time: join(at, ns), Note: note})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading locks of %s: %w", site, err)
	}
	return ls, nil
}

// lockSpans returns the site's locked slot ranges, computed in the site's
// time zone and cached for the transaction (LockPeriod, UnlockPeriod and
// PutSite drop the cache).
func (t *tx) lockSpans(site string) ([]block.Span, error) {
	if s, ok := t.locks[site]; ok {
		return s, nil
	}
	ls, err := t.LocksOf(site)
	if err != nil {
		return nil, err
	}
	var spans []block.Span
	if len(ls) > 0 {
		st, err := t.Site(site)
		if err != nil {
			return nil, fmt.Errorf("site %s has locked periods but its definition cannot be read (needed for its time zone): %w", site, err)
		}
		spans = block.Spans(ls, st.Location())
	}
	if t.locks == nil {
		t.locks = map[string][]block.Span{}
	}
	t.locks[site] = spans
	return spans, nil
}

// ---- Meta ----

func checkMeta(bucket, key string) error {
	if bucket == "" {
		return errors.New("empty meta bucket name")
	}
	if key == "" {
		return fmt.Errorf("empty key in meta bucket %s", bucket)
	}
	if err := checkText("meta bucket name", bucket); err != nil {
		return err
	}
	return checkText("meta key", key)
}

// GetMeta returns the value stored under bucket and key, or ErrNotFound.
func (t *tx) GetMeta(bucket, key string) ([]byte, error) {
	if checkMeta(bucket, key) != nil {
		return nil, fmt.Errorf("meta %s/%s: %w", bucket, key, store.ErrNotFound)
	}
	var v []byte
	err := t.q.QueryRow(t.ctx, "SELECT value FROM meta WHERE bucket = $1 AND key = $2", bucket, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("meta %s/%s: %w", bucket, key, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading meta %s/%s: %w", bucket, key, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// PutMeta stores value under bucket and key.
func (t *tx) PutMeta(bucket, key string, value []byte) error {
	if err := t.checkWritable(); err != nil {
		return err
	}
	if err := checkMeta(bucket, key); err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	if _, err := t.q.Exec(t.ctx, `INSERT INTO meta (bucket, key, value) VALUES ($1, $2, $3)
		ON CONFLICT (bucket, key) DO UPDATE SET value = EXCLUDED.value`, bucket, key, value); err != nil {
		return fmt.Errorf("writing meta %s/%s: %w", bucket, key, err)
	}
	return nil
}

// DeleteMeta removes bucket/key; removing a missing key is no error.
func (t *tx) DeleteMeta(bucket, key string) error {
	if err := t.checkWritable(); err != nil {
		return err
	}
	if checkMeta(bucket, key) != nil {
		return nil
	}
	if _, err := t.q.Exec(t.ctx, "DELETE FROM meta WHERE bucket = $1 AND key = $2", bucket, key); err != nil {
		return fmt.Errorf("deleting meta %s/%s: %w", bucket, key, err)
	}
	return nil
}

// ScanMeta calls fn for every key of bucket in lexical order until fn
// returns false.
func (t *tx) ScanMeta(bucket string, fn func(key string, value []byte) bool) error {
	if checkText("meta bucket name", bucket) != nil {
		return nil
	}
	type kv struct {
		k string
		v []byte
	}
	rows, _ := t.q.Query(t.ctx, "SELECT key, value FROM meta WHERE bucket = $1 ORDER BY key", bucket)
	var got []kv
	var k string
	var v []byte
	_, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error {
		got = append(got, kv{k, append([]byte{}, v...)})
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading meta bucket %s: %w", bucket, err)
	}
	for _, e := range got {
		if !fn(e.k, e.v) {
			return nil
		}
	}
	return nil
}
