package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

func (t *tx) writable() error {
	if !t.btx.Writable() {
		return store.ErrReadOnly
	}
	return nil
}

func (t *tx) bucket(name []byte) *bbucket { return t.btx.Bucket(name) }

// ---- Sites ----

// PutSite creates or replaces a site.
func (t *tx) PutSite(s *core.Site) error {
	if err := t.writable(); err != nil {
		return err
	}
	if err := store.CheckID("site", s.ID); err != nil {
		return err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encoding site %s: %w", s.ID, err)
	}
	delete(t.locks, s.ID)
	if err := t.bucket(bktSites).Put([]byte(s.ID), b); err != nil {
		return fmt.Errorf("writing site %s: %w", s.ID, err)
	}
	return nil
}

// Site returns the site with the given id, or ErrNotFound.
func (t *tx) Site(id string) (*core.Site, error) {
	v := t.bucket(bktSites).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("site %q: %w", id, store.ErrNotFound)
	}
	s, err := decodeSite(v)
	if err != nil {
		return nil, fmt.Errorf("reading site %q: %w", id, err)
	}
	return s, nil
}

func decodeSite(v []byte) (*core.Site, error) {
	var s core.Site
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// SiteIDs lists every site id in lexical order.
func (t *tx) SiteIDs() ([]string, error) {
	var ids []string
	err := t.bucket(bktSites).ForEach(func(k, _ []byte) error {
		ids = append(ids, string(k))
		return nil
	})
	return ids, err
}

// ---- Registers ----

func encodeRegister(r store.Register) []byte {
	b := make([]byte, 16)
	putRegisterValue(b, r)
	return b
}

// putRegisterValue writes r's registers into b[:16].
func putRegisterValue(b []byte, r store.Register) {
	binary.BigEndian.PutUint64(b, uint64(r.Import))
	binary.BigEndian.PutUint64(b[8:], uint64(r.Export))
}

func decodeRegister(k, v []byte) (store.Register, error) {
	if len(v) != 16 || len(k) < 12 {
		return store.Register{}, fmt.Errorf("malformed register reading (key %x)", k)
	}
	return store.Register{
		Time:   parseTime(k[len(k)-12:]),
		Import: core.Energy(binary.BigEndian.Uint64(v)),
		Export: core.Energy(binary.BigEndian.Uint64(v[8:])),
	}, nil
}

func checkSiteMeter(site, meter string) error {
	if err := store.CheckID("site", site); err != nil {
		return err
	}
	return store.CheckID("meter", meter)
}

// PutRegisters stores readings of a meter; a differing reading at an instant
// already stored is returned as a conflict and not written.
//
// Readings in time order (what derivation passes) are checked against the
// stored ones with one cursor walking along, not a lookup each, and written
// with a reused key buffer and one value slab: bbolt copies keys on Put but
// keeps values until commit.
func (t *tx) PutRegisters(site, meter string, rs []store.Register) ([]store.Register, error) {
	if err := t.writable(); err != nil {
		return nil, err
	}
	if err := checkSiteMeter(site, meter); err != nil {
		return nil, err
	}
	b := t.bucket(bktRegisters)
	b.FillPercent = fillPercent
	pre := prefix(site, meter)
	if !registersSorted(rs) {
		return putRegistersEach(b, pre, site, meter, rs)
	}
	// Phase 1, reading only: which readings are new. fresh[i] is set for a
	// reading to write.
	fresh := make([]bool, len(rs))
	var conflicts []store.Register
	c := b.Cursor()
	key := make([]byte, 0, len(pre)+12)
	var ck, cv []byte  // the cursor's position: the first stored key >= the last one sought
	exhausted := false // no stored reading of the meter at or after the cursor
	sought := false
	var last [12]byte // the instant of the previous reading of the batch
	var lastV [16]byte
	var v [16]byte
	for i, r := range rs {
		key = appendTime(append(key[:0], pre...), r.Time)
		tk := key[len(pre):]
		putRegisterValue(v[:], r)
		if i > 0 && bytes.Equal(tk, last[:]) {
			// A second reading at the same instant in this batch: compared
			// with what is (or will be) stored for it.
			if v != lastV {
				r.Time = r.Time.UTC()
				conflicts = append(conflicts, r)
			}
			continue
		}
		copy(last[:], tk)
		if !exhausted {
			// Walk a few steps; seek when the next stored key is further off.
			for steps := 0; sought && ck != nil && bytes.Compare(ck, key) < 0; steps++ {
				if steps == 8 {
					sought = false
					break
				}
				ck, cv = c.Next()
			}
			if !sought {
				ck, cv = c.Seek(key)
				sought = true
			}
			if ck == nil || !bytes.HasPrefix(ck, pre) {
				exhausted = true
			}
		}
		if !exhausted && bytes.Equal(ck, key) {
			copy(lastV[:], cv)
			if !bytes.Equal(cv, v[:]) {
				r.Time = r.Time.UTC()
				conflicts = append(conflicts, r)
			}
			continue
		}
		lastV = v
		fresh[i] = true
	}
	// Phase 2: write the new ones.
	n := 0
	for _, f := range fresh {
		if f {
			n++
		}
	}
	slab := make([]byte, 16*n)
	for i, r := range rs {
		if !fresh[i] {
			continue
		}
		val := slab[:16:16]
		slab = slab[16:]
		putRegisterValue(val, r)
		key = appendTime(append(key[:0], pre...), r.Time)
		if err := b.Put(key, val); err != nil {
			return nil, fmt.Errorf("writing registers of %s/%s: %w", site, meter, err)
		}
	}
	return conflicts, nil
}

// registersSorted reports whether rs is in time order (equal times allowed).
func registersSorted(rs []store.Register) bool {
	for i := 1; i < len(rs); i++ {
		if rs[i].Time.Before(rs[i-1].Time) {
			return false
		}
	}
	return true
}

// putRegistersEach is PutRegisters for readings out of time order: one
// lookup each, conflicts in the order given.
func putRegistersEach(b *bbucket, pre []byte, site, meter string, rs []store.Register) ([]store.Register, error) {
	var conflicts []store.Register
	key := make([]byte, 0, len(pre)+12)
	for _, r := range rs {
		key = appendTime(append(key[:0], pre...), r.Time)
		v := encodeRegister(r)
		if old := b.Get(key); old != nil {
			if !bytes.Equal(old, v) {
				r.Time = r.Time.UTC()
				conflicts = append(conflicts, r)
			}
			continue
		}
		if err := b.Put(key, v); err != nil {
			return nil, fmt.Errorf("writing registers of %s/%s: %w", site, meter, err)
		}
	}
	return conflicts, nil
}

// ScanRegisters calls fn for each reading with from <= Time < to in time
// order until fn returns false.
func (t *tx) ScanRegisters(site, meter string, from, to time.Time, fn func(store.Register) bool) error {
	if err := checkSiteMeter(site, meter); err != nil {
		return err
	}
	pre := prefix(site, meter)
	end := appendTime(bytes.Clone(pre), to)
	c := t.bucket(bktRegisters).Cursor()
	for k, v := c.Seek(appendTime(bytes.Clone(pre), from)); k != nil && bytes.HasPrefix(k, pre) && bytes.Compare(k, end) < 0; k, v = c.Next() {
		r, err := decodeRegister(k, v)
		if err != nil {
			return fmt.Errorf("reading registers of %s/%s: %w", site, meter, err)
		}
		if !fn(r) {
			return nil
		}
	}
	return nil
}

// RegisterBefore returns the latest reading strictly before at, or
// ErrNotFound.
func (t *tx) RegisterBefore(site, meter string, at time.Time) (store.Register, error) {
	if err := checkSiteMeter(site, meter); err != nil {
		return store.Register{}, err
	}
	pre := prefix(site, meter)
	c := t.bucket(bktRegisters).Cursor()
	var v []byte
	k, _ := c.Seek(appendTime(bytes.Clone(pre), at))
	if k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, pre) || len(k) != len(pre)+12 {
		return store.Register{}, fmt.Errorf("register of %s/%s before %s: %w", site, meter, at.UTC().Format(time.RFC3339), store.ErrNotFound)
	}
	return decodeRegister(k, v)
}

// RegisterAtOrAfter returns the earliest reading at or after at, or
// ErrNotFound.
func (t *tx) RegisterAtOrAfter(site, meter string, at time.Time) (store.Register, error) {
	if err := checkSiteMeter(site, meter); err != nil {
		return store.Register{}, err
	}
	pre := prefix(site, meter)
	c := t.bucket(bktRegisters).Cursor()
	k, v := c.Seek(appendTime(bytes.Clone(pre), at))
	if k == nil || !bytes.HasPrefix(k, pre) || len(k) != len(pre)+12 {
		return store.Register{}, fmt.Errorf("register of %s/%s at or after %s: %w", site, meter, at.UTC().Format(time.RFC3339), store.ErrNotFound)
	}
	return decodeRegister(k, v)
}

// PutReplacement records a confirmed meter exchange (replacing one recorded
// at the same instant).
func (t *tx) PutReplacement(site, meter string, r store.Replacement) error {
	if err := t.writable(); err != nil {
		return err
	}
	if err := checkSiteMeter(site, meter); err != nil {
		return err
	}
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding replacement of %s/%s: %w", site, meter, err)
	}
	k := appendTime(prefix(site, meter), r.Time)
	if err := t.bucket(bktReplacements).Put(k, v); err != nil {
		return fmt.Errorf("writing replacement of %s/%s: %w", site, meter, err)
	}
	return nil
}

// Replacements returns a meter's exchanges in time order.
func (t *tx) Replacements(site, meter string) ([]store.Replacement, error) {
	if err := checkSiteMeter(site, meter); err != nil {
		return nil, err
	}
	pre := prefix(site, meter)
	var rs []store.Replacement
	c := t.bucket(bktReplacements).Cursor()
	for k, v := c.Seek(pre); k != nil && bytes.HasPrefix(k, pre); k, v = c.Next() {
		var r store.Replacement
		if err := json.Unmarshal(v, &r); err != nil {
			return nil, fmt.Errorf("reading replacements of %s/%s: %w", site, meter, err)
		}
		r.Time, r.OldFinal.Time, r.NewInitial.Time = r.Time.UTC(), r.OldFinal.Time.UTC(), r.NewInitial.Time.UTC()
		rs = append(rs, r)
	}
	return rs, nil
}

// ---- Flags ----

// PutFlags stores flags; one with the same site, meter, slot and kind
// replaces the earlier one.
func (t *tx) PutFlags(fs []store.Flag) error {
	if err := t.writable(); err != nil {
		return err
	}
	b := t.bucket(bktFlags)
	for _, f := range fs {
		if err := checkSiteMeter(f.Site, f.Meter); err != nil {
			return err
		}
		if err := store.CheckID("flag kind", f.Kind); err != nil {
			return err
		}
		k := append(appendSlot(prefix(f.Site, f.Meter), f.Slot), f.Kind...)
		if err := b.Put(k, []byte(f.Reason)); err != nil {
			return fmt.Errorf("writing flag %s of %s/%s at %s: %w", f.Kind, f.Site, f.Meter, f.Slot, err)
		}
	}
	return nil
}

// ScanFlags calls fn for a site's flags with from <= Slot < to, ordered by
// meter, slot and kind, until fn returns false.
func (t *tx) ScanFlags(site string, from, to core.Slot, fn func(store.Flag) bool) error {
	if err := store.CheckID("site", site); err != nil {
		return err
	}
	pre := prefix(site)
	c := t.bucket(bktFlags).Cursor()
	k, v := c.Seek(pre)
	for k != nil && bytes.HasPrefix(k, pre) {
		rest := k[len(pre):]
		i := bytes.IndexByte(rest, sep)
		if i < 0 || len(rest) < i+1+8 {
			return fmt.Errorf("flags of site %s: malformed key %x", site, k)
		}
		meter := rest[:i]
		slot := parseSlot(rest[i+1:])
		switch {
		case slot < from:
			k, v = c.Seek(appendSlot(prefix(site, string(meter)), from))
			continue
		case slot >= to:
			// On to the next meter.
			next := append(append(bytes.Clone(pre), meter...), sep+1)
			k, v = c.Seek(next)
			continue
		}
		f := store.Flag{Site: site, Meter: string(meter), Slot: slot, Kind: string(rest[i+9:]), Reason: string(v)}
		if !fn(f) {
			return nil
		}
		k, v = c.Next()
	}
	return nil
}

// DeleteFlags removes the flags of a kind from a meter's slots [from, to).
func (t *tx) DeleteFlags(site, meter, kind string, from, to core.Slot) error {
	if err := t.writable(); err != nil {
		return err
	}
	if err := checkSiteMeter(site, meter); err != nil {
		return err
	}
	pre := prefix(site, meter)
	b := t.bucket(bktFlags)
	c := b.Cursor()
	var del [][]byte
	for k, _ := c.Seek(appendSlot(bytes.Clone(pre), from)); k != nil && bytes.HasPrefix(k, pre) && len(k) >= len(pre)+8; k, _ = c.Next() {
		if parseSlot(k[len(pre):]) >= to {
			break
		}
		if string(k[len(pre)+8:]) == kind {
			del = append(del, bytes.Clone(k))
		}
	}
	for _, k := range del {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("deleting flags of %s/%s: %w", site, meter, err)
		}
	}
	return nil
}

// ---- Audit ----

// AppendAudit appends e and returns its sequence number.
func (t *tx) AppendAudit(e store.Entry) (uint64, error) {
	if err := t.writable(); err != nil {
		return 0, err
	}
	b := t.bucket(bktAudit)
	b.FillPercent = fillPercent
	seq, err := b.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("appending to the audit log: %w", err)
	}
	e.Seq = seq
	v, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("encoding audit entry: %w", err)
	}
	if err := b.Put(binary.BigEndian.AppendUint64(nil, seq), v); err != nil {
		return 0, fmt.Errorf("appending to the audit log: %w", err)
	}
	return seq, nil
}

// ScanAudit calls fn for entries with Seq > after in order until fn returns
// false.
func (t *tx) ScanAudit(after uint64, fn func(store.Entry) bool) error {
	if after == math.MaxUint64 {
		return nil
	}
	c := t.bucket(bktAudit).Cursor()
	for k, v := c.Seek(binary.BigEndian.AppendUint64(nil, after+1)); k != nil; k, v = c.Next() {
		var e store.Entry
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("reading audit entry %x: %w", k, err)
		}
		e.Time = e.Time.UTC()
		if !fn(e) {
			return nil
		}
	}
	return nil
}

// ---- Locks ----

func lockKey(site string, p core.Period) []byte {
	return append(prefix(site), p.From.String()+"\x00"+p.To.String()...)
}

// LockPeriod locks a period of a site (replacing a lock of the same period).
func (t *tx) LockPeriod(l store.Lock) error {
	if err := t.writable(); err != nil {
		return err
	}
	if err := store.CheckID("site", l.Site); err != nil {
		return err
	}
	if !l.Period.Valid() {
		return fmt.Errorf("locking %s: invalid period %s", l.Site, l.Period)
	}
	v, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("encoding lock: %w", err)
	}
	delete(t.locks, l.Site)
	if err := t.bucket(bktLocks).Put(lockKey(l.Site, l.Period), v); err != nil {
		return fmt.Errorf("locking %s %s: %w", l.Site, l.Period, err)
	}
	return nil
}

// UnlockPeriod removes the lock of exactly that period, or returns
// ErrNotFound.
func (t *tx) UnlockPeriod(site string, p core.Period) error {
	if err := t.writable(); err != nil {
		return err
	}
	if err := store.CheckID("site", site); err != nil {
		return err
	}
	b := t.bucket(bktLocks)
	k := lockKey(site, p)
	if b.Get(k) == nil {
		return fmt.Errorf("unlocking %s %s: no such lock: %w", site, p, store.ErrNotFound)
	}
	delete(t.locks, site)
	return b.Delete(k)
}

// LocksOf returns a site's locks ordered by period start.
func (t *tx) LocksOf(site string) ([]store.Lock, error) {
	if err := store.CheckID("site", site); err != nil {
		return nil, err
	}
	pre := prefix(site)
	var ls []store.Lock
	c := t.bucket(bktLocks).Cursor()
	for k, v := c.Seek(pre); k != nil && bytes.HasPrefix(k, pre); k, v = c.Next() {
		var l store.Lock
		if err := json.Unmarshal(v, &l); err != nil {
			return nil, fmt.Errorf("reading locks of %s: %w", site, err)
		}
		l.Time = l.Time.UTC()
		ls = append(ls, l)
	}
	return ls, nil
}

// ---- Meta ----

func checkMeta(bucket, key string) error {
	if bucket == "" {
		return errors.New("empty meta bucket name")
	}
	if key == "" {
		return fmt.Errorf("empty key in meta bucket %s", bucket)
	}
	return nil
}

// GetMeta returns a copy of the value under bucket and key, or ErrNotFound.
func (t *tx) GetMeta(bucket, key string) ([]byte, error) {
	var v []byte
	if b := t.bucket(bktMeta).Bucket([]byte(bucket)); b != nil {
		v = b.Get([]byte(key))
	}
	if v == nil {
		return nil, fmt.Errorf("meta %s/%s: %w", bucket, key, store.ErrNotFound)
	}
	return bytes.Clone(v), nil
}

// PutMeta stores a copy of value under bucket and key.
func (t *tx) PutMeta(bucket, key string, value []byte) error {
	if err := t.writable(); err != nil {
		return err
	}
	if err := checkMeta(bucket, key); err != nil {
		return err
	}
	b, err := t.bucket(bktMeta).CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return fmt.Errorf("creating meta bucket %s: %w", bucket, err)
	}
	if value == nil {
		value = []byte{}
	}
	if err := b.Put([]byte(key), bytes.Clone(value)); err != nil {
		return fmt.Errorf("writing meta %s/%s: %w", bucket, key, err)
	}
	return nil
}

// DeleteMeta removes bucket/key; removing a missing key is no error.
func (t *tx) DeleteMeta(bucket, key string) error {
	if err := t.writable(); err != nil {
		return err
	}
	b := t.bucket(bktMeta).Bucket([]byte(bucket))
	if b == nil || key == "" {
		return nil
	}
	return b.Delete([]byte(key))
}

// ScanMeta calls fn for every key of bucket in lexical order until fn
// returns false. The value passed to fn is a copy.
func (t *tx) ScanMeta(bucket string, fn func(key string, value []byte) bool) error {
	b := t.bucket(bktMeta).Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if !fn(string(k), bytes.Clone(v)) {
			return nil
		}
	}
	return nil
}
