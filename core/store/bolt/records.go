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

// Raw gateway records are kept in blocks: the records of one source whose
// sequence numbers differ only in their low recShift bits are one value
// under the key source\0(seq>>recShift), 8 bytes big-endian. A catch-up of
// thousands of records is then a few dozen bbolt writes instead of one each
// (every bbolt Put searches the tree from its root), and a record takes about
// 10 bytes instead of 50. The encoding of a block:
//
//	byte       recFormat
//	uvarint    number of meters m, then m times: uvarint length, the meter id
//	uvarint    number of records n (1..recPerBlock), then n times, in
//	           sequence order:
//	  byte     the sequence number's low recShift bits
//	  uvarint  index of the meter in the table above
//	  varint   Unix seconds minus the previous record's (the first: minus 0)
//	  uvarint  the nanoseconds: ms<<1|1 when they are whole milliseconds
//	           (what gateways send), else ns<<1
//	  varint   import minus the previous import of the same meter in the
//	           block (the first: minus 0), with wrap-around
//	  varint   export likewise
const (
	recShift    = 7
	recPerBlock = 1 << recShift
	recFormat   = 0xd2 // first byte of every block; a later format gets another
)

var errBadRecord = errors.New("malformed record block")

// recBlockKey appends the key of source's block holding seq to dst[:0].
func recBlockKey(dst []byte, source string, seq uint64) []byte {
	dst = append(append(dst[:0], source...), sep)
	return binary.BigEndian.AppendUint64(dst, seq>>recShift)
}

// appendRecBlock appends the encoding of recs (one block's, in strictly
// increasing sequence order, at least one) to dst.
func appendRecBlock(dst []byte, recs []store.Record) []byte {
	var meters [recPerBlock]string
	var idx [recPerBlock]uint8
	m := 0
	last := 0
	for i, r := range recs {
		// Gateways send their meters in turn: try the one after the
		// previous record's first.
		k := -1
		for j := range m {
			if c := (last + 1 + j) % m; meters[c] == r.Meter {
				k = c
				break
			}
		}
		if k < 0 {
			k = m
			meters[m] = r.Meter
			m++
		}
		idx[i], last = uint8(k), k
	}
	dst = append(dst, recFormat)
	dst = binary.AppendUvarint(dst, uint64(m))
	for _, s := range meters[:m] {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(recs)))
	var prevImp, prevExp [recPerBlock]uint64
	var prevSec int64
	for i, r := range recs {
		k := idx[i]
		sec, ns := r.Time.Unix(), r.Time.Nanosecond()
		dst = append(dst, byte(r.Seq&(recPerBlock-1)), k)
		dst = binary.AppendVarint(dst, int64(uint64(sec)-uint64(prevSec)))
		if ns%1e6 == 0 {
			dst = binary.AppendUvarint(dst, uint64(ns/1e6)<<1|1)
		} else {
			dst = binary.AppendUvarint(dst, uint64(ns)<<1)
		}
		dst = binary.AppendVarint(dst, int64(uint64(r.Import)-prevImp[k]))
		dst = binary.AppendVarint(dst, int64(uint64(r.Export)-prevExp[k]))
		prevSec, prevImp[k], prevExp[k] = sec, uint64(r.Import), uint64(r.Export)
	}
	return dst
}

// decodeRecBlock appends the records of block blk of source, encoded in v,
// to dst. intern turns a meter id into a string (so that a scan of many
// blocks makes one string per meter).
func decodeRecBlock(source string, blk uint64, v []byte, dst []store.Record, intern func([]byte) string) ([]store.Record, error) {
	if len(v) == 0 || v[0] != recFormat {
		return dst, fmt.Errorf("%w: unknown format", errBadRecord)
	}
	v = v[1:]
	m, n := uvarint(v)
	if n <= 0 || m == 0 || m > recPerBlock {
		return dst, fmt.Errorf("%w: bad meter table", errBadRecord)
	}
	v = v[n:]
	var meters [recPerBlock]string
	for i := range int(m) {
		l, n := uvarint(v)
		if n <= 0 || uint64(len(v)-n) < l {
			return dst, fmt.Errorf("%w: truncated meter table", errBadRecord)
		}
		meters[i] = intern(v[n : n+int(l)])
		v = v[n+int(l):]
	}
	cnt, n := uvarint(v)
	if n <= 0 || cnt == 0 || cnt > recPerBlock {
		return dst, fmt.Errorf("%w: bad record count", errBadRecord)
	}
	v = v[n:]
	var prevImp, prevExp [recPerBlock]uint64
	var sec int64
	low := -1
	for range cnt {
		if len(v) < 2 || int(v[0]) <= low || v[0] >= recPerBlock || uint64(v[1]) >= m {
			return dst, fmt.Errorf("%w: bad record header", errBadRecord)
		}
		low = int(v[0])
		k := v[1]
		v = v[2:]
		ds, n1 := zigzag(v)
		if n1 <= 0 {
			return dst, fmt.Errorf("%w: truncated record", errBadRecord)
		}
		v = v[n1:]
		nsv, n2 := uvarint(v)
		if n2 <= 0 {
			return dst, fmt.Errorf("%w: truncated record", errBadRecord)
		}
		v = v[n2:]
		ns := nsv >> 1
		if nsv&1 != 0 {
			ns *= 1e6
		}
		if ns >= 1e9 {
			return dst, fmt.Errorf("%w: nanoseconds out of range", errBadRecord)
		}
		di, n3 := zigzag(v)
		if n3 <= 0 {
			return dst, fmt.Errorf("%w: truncated record", errBadRecord)
		}
		v = v[n3:]
		de, n4 := zigzag(v)
		if n4 <= 0 {
			return dst, fmt.Errorf("%w: truncated record", errBadRecord)
		}
		v = v[n4:]
		sec = int64(uint64(sec) + uint64(ds))
		prevImp[k] += uint64(di)
		prevExp[k] += uint64(de)
		dst = append(dst, store.Record{
			Source: source, Seq: blk<<recShift | uint64(low), Meter: meters[k],
			Time:   time.Unix(sec, int64(ns)).UTC(),
			Import: core.Energy(prevImp[k]), Export: core.Energy(prevExp[k]),
		})
	}
	if len(v) != 0 {
		return dst, fmt.Errorf("%w: %d trailing bytes", errBadRecord, len(v))
	}
	return dst, nil
}

// intern returns b as a string, the same string for the same bytes within
// the transaction.
func (t *tx) intern(b []byte) string {
	if s, ok := t.strs[string(b)]; ok {
		return s
	}
	if t.strs == nil {
		t.strs = map[string]string{}
	}
	s := string(b)
	t.strs[s] = s
	return s
}

// PutRecords stores records, skipping those already stored under their
// source and sequence number (and repeats within recs: the first counts),
// and returns how many were new.
func (t *tx) PutRecords(recs []store.Record) (int, error) {
	if err := t.writable(); err != nil {
		return 0, err
	}
	sorted := true
	for i := range recs {
		if err := store.CheckID("source", recs[i].Source); err != nil {
			return 0, err
		}
		if i > 0 && compareRecords(&recs[i-1], &recs[i]) > 0 {
			sorted = false
		}
	}
	if !sorted {
		recs = slices.Clone(recs)
		slices.SortStableFunc(recs, func(a, b store.Record) int { return compareRecords(&a, &b) })
	}
	b := t.bucket(bktRecords)
	b.FillPercent = fillPercent
	// bbolt keeps the values written until commit: blocks are encoded into
	// an arena of this call (a full one replaced by a new one, the old one
	// staying alive as long as bbolt refers to it).
	var arena []byte
	var key []byte
	n := 0
	for i := 0; i < len(recs); {
		src, blk := recs[i].Source, recs[i].Seq>>recShift
		j := i + 1
		for j < len(recs) && recs[j].Source == src && recs[j].Seq>>recShift == blk {
			j++
		}
		run := recs[i:j]
		i = j
		key = recBlockKey(key, src, run[0].Seq)
		var old []store.Record
		if v := b.Get(key); v != nil {
			var err error
			if old, err = decodeRecBlock(src, blk, v, t.recs[:0], t.intern); err != nil {
				return 0, fmt.Errorf("reading records %s/%d..: %w", src, blk<<recShift, err)
			}
			t.recs = old
		}
		// Merge the stored block and the run (both in sequence order; the
		// run may repeat a number).
		merged := t.merged[:0]
		added := 0
		o := 0
		for k := range run {
			r := &run[k]
			if k > 0 && run[k-1].Seq == r.Seq {
				continue
			}
			for o < len(old) && old[o].Seq < r.Seq {
				merged = append(merged, old[o])
				o++
			}
			if o < len(old) && old[o].Seq == r.Seq {
				continue
			}
			merged = append(merged, *r)
			added++
		}
		merged = append(merged, old[o:]...)
		t.merged = merged
		if added == 0 {
			continue
		}
		n += added
		if cap(arena)-len(arena) < 64+24*len(merged) {
			arena = make([]byte, 0, max(4096, (64+24*recPerBlock)*(len(recs)-i+len(run))/recPerBlock))
		}
		k0 := len(arena)
		arena = appendRecBlock(arena, merged)
		if err := b.Put(key, arena[k0:len(arena):len(arena)]); err != nil {
			return 0, fmt.Errorf("writing records %s/%d..: %w", src, run[0].Seq, err)
		}
	}
	return n, nil
}

// compareRecords orders records by source, then sequence number.
func compareRecords(a, b *store.Record) int {
	if c := cmp.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	return cmp.Compare(a.Seq, b.Seq)
}

// ScanRecords calls fn for source's records with Seq > after in sequence
// order until fn returns false.
func (t *tx) ScanRecords(source string, after uint64, fn func(store.Record) bool) error {
	if err := store.CheckID("source", source); err != nil {
		return err
	}
	if after == math.MaxUint64 {
		return nil
	}
	pre := prefix(source)
	c := t.bucket(bktRecords).Cursor()
	var buf []store.Record // fn may use the Tx: no buffer of t's
	for k, v := c.Seek(recBlockKey(nil, source, after+1)); k != nil && bytes.HasPrefix(k, pre); k, v = c.Next() {
		if len(k) != len(pre)+8 {
			return fmt.Errorf("records of %s: malformed key %x", source, k)
		}
		blk := binary.BigEndian.Uint64(k[len(pre):])
		var err error
		if buf, err = decodeRecBlock(source, blk, v, buf[:0], t.intern); err != nil {
			return fmt.Errorf("reading records %s/%d..: %w", source, blk<<recShift, err)
		}
		for _, r := range buf {
			if r.Seq <= after {
				continue
			}
			if !fn(r) {
				return nil
			}
		}
	}
	return nil
}

// checkRecords decodes every record block.
func checkRecords(b *bbucket) []error {
	var errs []error
	var buf []store.Record
	intern := func(b []byte) string { return string(b) }
	_ = b.ForEach(func(k, v []byte) error {
		i := bytes.IndexByte(k, sep)
		if i <= 0 || len(k) != i+1+8 {
			errs = append(errs, fmt.Errorf("records: malformed key %x", k))
			return nil
		}
		blk := binary.BigEndian.Uint64(k[i+1:])
		var err error
		if buf, err = decodeRecBlock(string(k[:i]), blk, v, buf[:0], intern); err != nil {
			errs = append(errs, fmt.Errorf("records %s/%d..: %w", k[:i], blk<<recShift, err))
		}
		return nil
	})
	return errs
}

// Cursor returns the highest sequence number committed for source.
func (t *tx) Cursor(source string) (uint64, error) {
	v := t.bucket(bktCursors).Get([]byte(source))
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("cursor of %s: malformed value %x", source, v)
	}
	return binary.BigEndian.Uint64(v), nil
}

// SetCursor sets source's cursor.
func (t *tx) SetCursor(source string, seq uint64) error {
	if err := t.writable(); err != nil {
		return err
	}
	if err := store.CheckID("source", source); err != nil {
		return err
	}
	return t.bucket(bktCursors).Put([]byte(source), binary.BigEndian.AppendUint64(nil, seq))
}
