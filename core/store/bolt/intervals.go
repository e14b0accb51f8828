package bolt

import (
	"cmp"
	"fmt"
	"slices"

	bbolt "go.etcd.io/bbolt"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/block"
)

// pendingPut is a day block waiting to be written: offsets into the arena.
type pendingPut struct{ k0, k1, v1 int }

// PutIntervals stores vals into the series following mode (see store.Intervals).
// The whole call is computed before anything is written, so an ErrLocked
// leaves the series untouched.
func (t *tx) PutIntervals(id store.SeriesID, vals []store.Value, mode store.PutMode) (store.PutResult, error) {
	var res store.PutResult
	if !t.btx.Writable() {
		return res, store.ErrReadOnly
	}
	if err := id.Check(); err != nil {
		return res, err
	}
	if mode > store.Replace {
		return res, fmt.Errorf("unknown put mode %d", mode)
	}
	sorted := true
	for i := range vals {
		if err := block.CheckSlot(vals[i].Slot); err != nil {
			return res, fmt.Errorf("writing intervals of %s/%s: %w", id.Site, id.Meter, err)
		}
		if vals[i].Quality > store.Edited {
			return res, fmt.Errorf("writing intervals of %s/%s at %s: invalid quality %d", id.Site, id.Meter, vals[i].Slot, vals[i].Quality)
		}
		if i > 0 && vals[i].Slot < vals[i-1].Slot {
			sorted = false
		}
	}
	if !sorted {
		vals = slices.Clone(vals)
		slices.SortStableFunc(vals, func(a, b store.Value) int { return cmp.Compare(a.Slot, b.Slot) })
	}
	locks, err := t.lockSpans(id.Site)
	if err != nil {
		return res, err
	}

	var nameBuf [64]byte
	name := seriesName(nameBuf[:0], id.Meter, id.Channel)
	sb := t.btx.Bucket(bktIntervals).Bucket([]byte(id.Site))
	var ser *bbolt.Bucket
	if sb != nil {
		ser = sb.Bucket(name)
	}
	// bbolt keeps references to the values written until commit, so each
	// call encodes into an arena of its own.
	var arena []byte
	pend := t.pend[:0]
	blk := &t.blk
	for i := 0; i < len(vals); {
		day := dayOf(vals[i].Slot)
		j := i + 1
		for j < len(vals) && dayOf(vals[j].Slot) == day {
			j++
		}
		key := dayKey(day)
		blk.Reset()
		if ser != nil {
			if old := ser.Get(key[:]); old != nil {
				if err := decodeBlock(old, blk); err != nil {
					return store.PutResult{}, fmt.Errorf("reading intervals %s/%s/%s of %s: %w",
						id.Site, id.Meter, id.Channel, dayStart(day), err)
				}
			}
		}
		base := core.Slot(day * slotsPerDay)
		changed, err := block.Merge(blk, base, vals[i:j], mode, locks, id, &res)
		if err != nil {
			return store.PutResult{}, err
		}
		if changed {
			if arena == nil {
				arena = make([]byte, 0, (len(vals)/slotsPerDay+1)*(4+bitmapLen+2*slotsPerDay))
			}
			k0 := len(arena)
			arena = append(arena, key[:]...)
			k1 := len(arena)
			arena = appendBlock(arena, blk)
			pend = append(pend, pendingPut{k0, k1, len(arena)})
		}
		i = j
	}
	t.pend = pend[:0]
	if len(pend) == 0 {
		return res, nil
	}
	if ser == nil {
		if sb == nil {
			if sb, err = t.btx.Bucket(bktIntervals).CreateBucket([]byte(id.Site)); err != nil {
				return store.PutResult{}, fmt.Errorf("creating the interval bucket of site %s: %w", id.Site, err)
			}
		}
		if ser, err = sb.CreateBucket(name); err != nil {
			return store.PutResult{}, fmt.Errorf("creating the interval bucket of %s/%s/%s: %w", id.Site, id.Meter, id.Channel, err)
		}
	}
	ser.FillPercent = fillPercent
	for _, p := range pend {
		if err := ser.Put(arena[p.k0:p.k1:p.k1], arena[p.k1:p.v1:p.v1]); err != nil {
			return store.PutResult{}, fmt.Errorf("writing intervals of %s/%s: %w", id.Site, id.Meter, err)
		}
	}
	return res, nil
}

// ReadIntervals fills dst with the series' values for [from, to).
func (t *tx) ReadIntervals(id store.SeriesID, from, to core.Slot, dst *store.Series) error {
	n, err := block.StartRead(id, from, to, dst)
	if err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	sb := t.btx.Bucket(bktIntervals).Bucket([]byte(id.Site))
	if sb == nil {
		return nil
	}
	var nameBuf [64]byte
	ser := sb.Bucket(seriesName(nameBuf[:0], id.Meter, id.Channel))
	if ser == nil {
		return nil
	}
	lastDay := dayOf(to - 1)
	c := ser.Cursor()
	blk := &t.blk
	first := dayKey(dayOf(from))
	for k, v := c.Seek(first[:]); k != nil; k, v = c.Next() {
		day, ok := parseDayKey(k)
		if !ok {
			return fmt.Errorf("reading intervals %s/%s/%s: malformed key %x", id.Site, id.Meter, id.Channel, k)
		}
		if day > lastDay {
			break
		}
		if err := decodeBlock(v, blk); err != nil {
			return fmt.Errorf("reading intervals %s/%s/%s of %s: %w", id.Site, id.Meter, id.Channel, dayStart(day), err)
		}
		base := core.Slot(day * slotsPerDay)
		lo, hi := max(from, base), min(to, base+slotsPerDay)
		copy(dst.Energy[lo-from:hi-from], blk.E[lo-base:hi-base])
		copy(dst.Quality[lo-from:hi-from], blk.Q[lo-base:hi-base])
	}
	return nil
}

// SeriesIDs lists the series stored for a site, ordered by meter then
// channel.
func (t *tx) SeriesIDs(site string) ([]store.SeriesID, error) {
	if err := store.CheckID("site", site); err != nil {
		return nil, err
	}
	sb := t.btx.Bucket(bktIntervals).Bucket([]byte(site))
	if sb == nil {
		return nil, nil
	}
	var ids []store.SeriesID
	err := sb.ForEachBucket(func(name []byte) error {
		id, ok := parseSeriesName(site, name)
		if !ok {
			return fmt.Errorf("intervals of site %s: malformed series name %q", site, name)
		}
		ids = append(ids, id)
		return nil
	})
	return ids, err
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

// ensure tx satisfies the interface.
var _ store.Tx = (*tx)(nil)

// tx is a store.Tx on a bbolt transaction.
type tx struct {
	btx   *bbolt.Tx
	locks map[string][]block.Span
	blk   dayBlock
	pend  []pendingPut
	// Scratch of PutRecords, and the meter ids seen (see intern).
	recs, merged    []store.Record
	strs            map[string]string
	regs, regMerged []regVal // scratch of PutRegisters
}

func newTx(btx *bbolt.Tx) *tx { return &tx{btx: btx} }

type bbucket = bbolt.Bucket
