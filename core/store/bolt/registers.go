package bolt

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// Register readings are kept in day blocks: a meter's readings of one UTC
// day are one value under the key site\0meter\0day (the 4 bytes of dayKey).
// A gateway batch of weeks of readings is then one bbolt write per meter and
// day instead of one per reading, and a reading takes about 8 bytes instead
// of 56. The encoding of a block:
//
//	byte      regFormat
//	uvarint   number of readings n (at least 1), then n times, in time order:
//	  uvarint the nanoseconds since the previous reading (the first: since
//	          the start of the day), d: d/1e9<<1|1 when whole seconds, else d<<1
//	  varint  import minus the previous reading's (the first: minus 0), with
//	          wrap-around
//	  varint  export likewise
//
// A day is a handful of kB even with a reading every minute; a meter read
// every second would make rewriting its day on each live reading costly.
const regFormat = 0xd3

const nsPerDay = 86400 * int64(time.Second)

// regVal is a decoded reading: its offset in its day and its registers.
type regVal struct {
	off      int64 // ns since the start of the UTC day
	imp, exp core.Energy
}

var errBadRegisters = errors.New("malformed register block")

// regDay returns t's UTC day and its offset in the day, or an error when the
// day does not fit a key.
func regDay(t time.Time) (int64, int64, error) {
	sec := t.Unix()
	day := sec / 86400
	if sec%86400 < 0 {
		day--
	}
	if day < math.MinInt32 || day > math.MaxInt32 {
		return 0, 0, fmt.Errorf("reading time %s out of range", t.UTC().Format(time.RFC3339))
	}
	return day, (sec-day*86400)*int64(time.Second) + int64(t.Nanosecond()), nil
}

// clampDay is regDay for range bounds: days beyond a key's range clamp to it.
func clampDay(t time.Time) (int64, int64) {
	day, off, err := regDay(t)
	if err != nil {
		if t.Unix() < 0 {
			return math.MinInt32, -1
		}
		return math.MaxInt32, nsPerDay
	}
	return day, off
}

func regTime(day, off int64) time.Time {
	return time.Unix(day*86400+off/int64(time.Second), off%int64(time.Second)).UTC()
}

// regKey appends the key of a meter's day block to pre (a prefix of the
// meter, with spare capacity).
func regKey(pre []byte, day int64) []byte {
	k := dayKey(day)
	return append(pre, k[:]...)
}

// appendRegBlock appends the encoding of vs (in strictly increasing time
// order, at least one) to dst.
func appendRegBlock(dst []byte, vs []regVal) []byte {
	dst = append(dst, regFormat)
	dst = binary.AppendUvarint(dst, uint64(len(vs)))
	var off int64
	var imp, exp uint64
	for _, v := range vs {
		d := uint64(v.off - off)
		if d%uint64(time.Second) == 0 {
			dst = binary.AppendUvarint(dst, d/uint64(time.Second)<<1|1)
		} else {
			dst = binary.AppendUvarint(dst, d<<1)
		}
		dst = binary.AppendVarint(dst, int64(uint64(v.imp)-imp))
		dst = binary.AppendVarint(dst, int64(uint64(v.exp)-exp))
		off, imp, exp = v.off, uint64(v.imp), uint64(v.exp)
	}
	return dst
}

// zigzag decodes a varint (binary.Varint's encoding) with uvarint's fast
// path.
func zigzag(b []byte) (int64, int) {
	u, n := uvarint(b)
	return int64(u>>1) ^ -int64(u&1), n
}

// regDec reads a block's readings one by one, so that a lookup stops at the
// reading it needs.
type regDec struct {
	v        []byte
	left     uint64
	off      int64
	imp, exp uint64
	first    bool
}

// init starts reading block v.
func (d *regDec) init(v []byte) error {
	if len(v) == 0 || v[0] != regFormat {
		return fmt.Errorf("%w: unknown format", errBadRegisters)
	}
	n, i := uvarint(v[1:])
	if i <= 0 || n == 0 || n > uint64(len(v)) {
		return fmt.Errorf("%w: bad count", errBadRegisters)
	}
	*d = regDec{v: v[1+i:], left: n, first: true}
	return nil
}

// next returns the next reading; ok is false at the end (err is set when
// the block is malformed).
func (d *regDec) next() (x regVal, ok bool, err error) {
	if d.left == 0 {
		if len(d.v) != 0 {
			return x, false, fmt.Errorf("%w: %d trailing bytes", errBadRegisters, len(d.v))
		}
		return x, false, nil
	}
	v := d.v
	t, i1 := uvarint(v)
	if i1 <= 0 {
		return x, false, fmt.Errorf("%w: truncated", errBadRegisters)
	}
	v = v[i1:]
	if t&1 != 0 {
		t = t >> 1 * uint64(time.Second)
	} else {
		t >>= 1
	}
	di, i2 := zigzag(v)
	if i2 <= 0 {
		return x, false, fmt.Errorf("%w: truncated", errBadRegisters)
	}
	v = v[i2:]
	de, i3 := zigzag(v)
	if i3 <= 0 {
		return x, false, fmt.Errorf("%w: truncated", errBadRegisters)
	}
	if !d.first && t == 0 {
		return x, false, fmt.Errorf("%w: two readings at one instant", errBadRegisters)
	}
	if t >= uint64(nsPerDay-d.off) {
		return x, false, fmt.Errorf("%w: reading beyond the day", errBadRegisters)
	}
	d.v = v[i3:]
	d.left--
	d.first = false
	d.off += int64(t)
	d.imp += uint64(di)
	d.exp += uint64(de)
	return regVal{d.off, core.Energy(d.imp), core.Energy(d.exp)}, true, nil
}

// decodeRegBlock appends the readings encoded in v to dst.
func decodeRegBlock(v []byte, dst []regVal) ([]regVal, error) {
	var d regDec
	if err := d.init(v); err != nil {
		return dst, err
	}
	for {
		x, ok, err := d.next()
		if err != nil {
			return dst, err
		}
		if !ok {
			return dst, nil
		}
		dst = append(dst, x)
	}
}

// regIn is an incoming reading with its place.
type regIn struct {
	day, off int64
	idx      int // in the caller's slice
}

// PutRegisters stores readings of a meter; a differing reading at an instant
// already stored (or given earlier in rs) is returned as a conflict, in the
// order given, and not written.
func (t *tx) PutRegisters(site, meter string, rs []store.Register) ([]store.Register, error) {
	if err := t.writable(); err != nil {
		return nil, err
	}
	if err := checkSiteMeter(site, meter); err != nil {
		return nil, err
	}
	in := make([]regIn, len(rs))
	sorted := true
	for i, r := range rs {
		day, off, err := regDay(r.Time)
		if err != nil {
			return nil, fmt.Errorf("writing registers of %s/%s: %w", site, meter, err)
		}
		in[i] = regIn{day, off, i}
		if i > 0 && (day < in[i-1].day || day == in[i-1].day && off < in[i-1].off) {
			sorted = false
		}
	}
	if !sorted {
		slices.SortStableFunc(in, func(a, b regIn) int {
			if c := cmp.Compare(a.day, b.day); c != 0 {
				return c
			}
			return cmp.Compare(a.off, b.off)
		})
	}
	b := t.bucket(bktRegisters)
	b.FillPercent = fillPercent
	pre := prefix(site, meter)
	key := pre[:len(pre):len(pre)]
	var conflicts []regIn
	// bbolt keeps the values written until commit: blocks are encoded into
	// an arena of this call (see PutRecords).
	var arena []byte
	for i := 0; i < len(in); {
		day := in[i].day
		j := i + 1
		for j < len(in) && in[j].day == day {
			j++
		}
		run := in[i:j]
		i = j
		key = regKey(key[:len(pre)], day)
		var old []regVal
		if v := b.Get(key); v != nil {
			var err error
			if old, err = decodeRegBlock(v, t.regs[:0]); err != nil {
				return nil, fmt.Errorf("reading registers of %s/%s on %s: %w", site, meter, dayStart(day), err)
			}
			t.regs = old
		}
		merged := t.regMerged[:0]
		added, o := 0, 0
		for _, x := range run {
			for o < len(old) && old[o].off <= x.off {
				merged = append(merged, old[o])
				o++
			}
			r := rs[x.idx]
			if n := len(merged); n > 0 && merged[n-1].off == x.off {
				if merged[n-1].imp != r.Import || merged[n-1].exp != r.Export {
					conflicts = append(conflicts, x)
				}
				continue
			}
			merged = append(merged, regVal{x.off, r.Import, r.Export})
			added++
		}
		merged = append(merged, old[o:]...)
		t.regMerged = merged
		if added == 0 {
			continue
		}
		if cap(arena)-len(arena) < 8+24*len(merged) {
			arena = make([]byte, 0, max(4096, 8+12*len(merged)+12*(len(in)-i)))
		}
		k0 := len(arena)
		arena = appendRegBlock(arena, merged)
		if err := b.Put(key, arena[k0:len(arena):len(arena)]); err != nil {
			return nil, fmt.Errorf("writing registers of %s/%s: %w", site, meter, err)
		}
	}
	if len(conflicts) == 0 {
		return nil, nil
	}
	if !sorted {
		slices.SortFunc(conflicts, func(a, b regIn) int { return cmp.Compare(a.idx, b.idx) })
	}
	out := make([]store.Register, len(conflicts))
	for k, x := range conflicts {
		out[k] = rs[x.idx]
		out[k].Time = out[k].Time.UTC()
	}
	return out, nil
}

// regBlock decodes the block under k (a key of the meter's prefix pre) into
// dst, or returns ok=false when k is no block of that meter.
func regBlock(pre, k, v []byte, dst []regVal) (int64, []regVal, bool, error) {
	day, ok := regBlockDay(pre, k)
	if !ok {
		return 0, dst, false, nil
	}
	vs, err := decodeRegBlock(v, dst)
	return day, vs, err == nil, err
}

// regBlockDay returns the day of k, or ok=false when k is no block of the
// meter of prefix pre.
func regBlockDay(pre, k []byte) (int64, bool) {
	if k == nil || len(k) != len(pre)+4 || !bytes.HasPrefix(k, pre) {
		return 0, false
	}
	return parseDayKey(k[len(pre):])
}

// lastBefore returns the last reading of block v before offset off.
func lastBefore(v []byte, off int64) (regVal, bool, error) {
	var d regDec
	if err := d.init(v); err != nil {
		return regVal{}, false, err
	}
	var last regVal
	found := false
	for {
		x, ok, err := d.next()
		if err != nil {
			return regVal{}, false, err
		}
		if !ok || x.off >= off {
			return last, found, nil
		}
		last, found = x, true
	}
}

// firstAtOrAfter returns the first reading of block v at or after offset
// off.
func firstAtOrAfter(v []byte, off int64) (regVal, bool, error) {
	var d regDec
	if err := d.init(v); err != nil {
		return regVal{}, false, err
	}
	for {
		x, ok, err := d.next()
		if err != nil || !ok {
			return regVal{}, false, err
		}
		if x.off >= off {
			return x, true, nil
		}
	}
}

func toRegister(day int64, v regVal) store.Register {
	return store.Register{Time: regTime(day, v.off), Import: v.imp, Export: v.exp}
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
	pre := prefix(site, meter)
	fd, fo := clampDay(from)
	td, tOff := clampDay(to)
	c := t.bucket(bktRegisters).Cursor()
	var buf []regVal // fn may use the Tx: no buffer of t's
	for k, v := c.Seek(regKey(pre, fd)); ; k, v = c.Next() {
		day, vs, ok, err := regBlock(pre, k, v, buf[:0])
		if err != nil {
			return fmt.Errorf("reading registers of %s/%s on %s: %w", site, meter, dayStart(day), err)
		}
		if !ok || day > td {
			return nil
		}
		buf = vs
		for _, x := range vs {
			if day == fd && x.off < fo {
				continue
			}
			if day == td && x.off >= tOff {
				return nil
			}
			if !fn(toRegister(day, x)) {
				return nil
			}
		}
	}
}

// RegisterBefore returns the latest reading strictly before at, or
// ErrNotFound.
func (t *tx) RegisterBefore(site, meter string, at time.Time) (store.Register, error) {
	if err := checkSiteMeter(site, meter); err != nil {
		return store.Register{}, err
	}
	pre := prefix(site, meter)
	ad, aOff := clampDay(at)
	c := t.bucket(bktRegisters).Cursor()
	k, v := c.Seek(regKey(pre, ad))
	for range 2 {
		day, ok := regBlockDay(pre, k)
		if ok && day <= ad {
			off := aOff
			if day < ad {
				off = nsPerDay
			}
			x, found, err := lastBefore(v, off)
			if err != nil {
				return store.Register{}, fmt.Errorf("reading registers of %s/%s on %s: %w", site, meter, dayStart(day), err)
			}
			if found {
				return toRegister(day, x), nil
			}
		}
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	}
	return store.Register{}, fmt.Errorf("register of %s/%s before %s: %w", site, meter, at.UTC().Format(time.RFC3339), store.ErrNotFound)
}

// RegisterAtOrAfter returns the earliest reading at or after at, or
// ErrNotFound.
func (t *tx) RegisterAtOrAfter(site, meter string, at time.Time) (store.Register, error) {
	if err := checkSiteMeter(site, meter); err != nil {
		return store.Register{}, err
	}
	pre := prefix(site, meter)
	ad, aOff := clampDay(at)
	c := t.bucket(bktRegisters).Cursor()
	k, v := c.Seek(regKey(pre, ad))
	for range 2 {
		day, ok := regBlockDay(pre, k)
		if !ok {
			break
		}
		off := aOff
		if day > ad {
			off = -1
		}
		x, found, err := firstAtOrAfter(v, off)
		if err != nil {
			return store.Register{}, fmt.Errorf("reading registers of %s/%s on %s: %w", site, meter, dayStart(day), err)
		}
		if found {
			return toRegister(day, x), nil
		}
		k, v = c.Next()
	}
	return store.Register{}, fmt.Errorf("register of %s/%s at or after %s: %w", site, meter, at.UTC().Format(time.RFC3339), store.ErrNotFound)
}

// checkRegisters decodes every register block.
func checkRegisters(b *bbucket) []error {
	var errs []error
	var buf []regVal
	_ = b.ForEach(func(k, v []byte) error {
		i := bytes.IndexByte(k, sep)
		j := -1
		if i > 0 {
			j = bytes.IndexByte(k[i+1:], sep) + i + 1
		}
		if j <= i+1 || len(k) != j+1+4 {
			errs = append(errs, fmt.Errorf("registers: malformed key %x", k))
			return nil
		}
		day, _ := parseDayKey(k[j+1:])
		var err error
		if buf, err = decodeRegBlock(v, buf[:0]); err != nil {
			errs = append(errs, fmt.Errorf("registers of %s/%s on %s: %w", k[:i], k[i+1:j], dayStart(day), err))
		}
		return nil
	})
	return errs
}
