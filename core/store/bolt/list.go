package bolt

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

var _ store.Lister = (*tx)(nil)

// RegisterMeters lists the meters of site with readings or replacements.
func (t *tx) RegisterMeters(site string) ([]string, error) {
	if err := store.CheckID("site", site); err != nil {
		return nil, err
	}
	pre := prefix(site)
	seen := map[string]bool{}
	var ms []string
	for _, name := range [][]byte{bktRegisters, bktReplacements} {
		c := t.bucket(name).Cursor()
		for k, _ := c.Seek(pre); k != nil && bytes.HasPrefix(k, pre); {
			rest := k[len(pre):]
			i := bytes.IndexByte(rest, sep)
			if i <= 0 {
				return nil, fmt.Errorf("%s of site %s: malformed key %x", name, site, k)
			}
			m := string(rest[:i])
			if !seen[m] {
				seen[m] = true
				ms = append(ms, m)
			}
			// On to the next meter.
			k, _ = c.Seek(append(append(bytes.Clone(pre), rest[:i]...), sep+1))
		}
	}
	sortStrings(ms)
	return ms, nil
}

// Sources lists the sources with records or a cursor.
func (t *tx) Sources() ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	c := t.bucket(bktRecords).Cursor()
	for k, _ := c.First(); k != nil; {
		i := bytes.IndexByte(k, sep)
		if i <= 0 {
			return nil, fmt.Errorf("records: malformed key %x", k)
		}
		add(string(k[:i]))
		k, _ = c.Seek(append(bytes.Clone(k[:i]), sep+1))
	}
	if err := t.bucket(bktCursors).ForEach(func(k, _ []byte) error { add(string(k)); return nil }); err != nil {
		return nil, err
	}
	sortStrings(out)
	return out, nil
}

// MetaBuckets lists the meta buckets that hold keys.
func (t *tx) MetaBuckets() ([]string, error) {
	var out []string
	m := t.bucket(bktMeta)
	err := m.ForEachBucket(func(name []byte) error {
		if k, _ := m.Bucket(name).Cursor().First(); k != nil {
			out = append(out, string(name))
		}
		return nil
	})
	return out, err
}

// SeriesSpan returns the whole days from the series' first to its last
// stored day.
func (t *tx) SeriesSpan(id store.SeriesID) (core.Slot, core.Slot, bool, error) {
	if err := id.Check(); err != nil {
		return 0, 0, false, err
	}
	sb := t.btx.Bucket(bktIntervals).Bucket([]byte(id.Site))
	if sb == nil {
		return 0, 0, false, nil
	}
	var nameBuf [64]byte
	ser := sb.Bucket(seriesName(nameBuf[:0], id.Meter, id.Channel))
	if ser == nil {
		return 0, 0, false, nil
	}
	c := ser.Cursor()
	fk, _ := c.First()
	lk, _ := c.Last()
	first, ok1 := parseDayKey(fk)
	last, ok2 := parseDayKey(lk)
	if !ok1 || !ok2 {
		return 0, 0, false, nil
	}
	return core.Slot(first * slotsPerDay), core.Slot((last + 1) * slotsPerDay), true, nil
}

func sortStrings(s []string) { slices.Sort(s) }
