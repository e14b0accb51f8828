package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

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

func checkSiteMeter(site, meter string) error {
	if err := store.CheckID("site", site); err != nil {
		return err
	}
	return store.CheckID("meter", meter)
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
