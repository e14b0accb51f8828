package postgres

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/block"
)

const slotsPerDay = block.SlotsPerDay

// copyMin is the number of new day rows from which PutIntervals writes with
// COPY instead of one INSERT: COPY costs a round trip more but writes rows
// faster (an import of a year of a meter).
const copyMin = 64

// dayStart names a day for messages.
func dayStart(day int64) string {
	return core.Slot(day * slotsPerDay).Time().Format(time.DateOnly)
}

// PutIntervals stores vals into the series following mode (see
// store.Intervals). The whole call is computed before anything is written,
// so an ErrLocked leaves the series untouched.
func (t *tx) PutIntervals(id store.SeriesID, vals []store.Value, mode store.PutMode) (store.PutResult, error) {
	var res store.PutResult
	if err := t.checkWritable(); err != nil {
		return res, err
	}
	if err := id.Check(); err != nil {
		return res, err
	}
	if err := checkSiteMeter(id.Site, id.Meter); err != nil {
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
	// Only slots with a value can change anything.
	n := 0
	for _, v := range vals {
		if v.Quality != store.Missing {
			n++
		}
	}
	if n == 0 {
		return res, nil
	}
	locks, err := t.lockSpans(id.Site)
	if err != nil {
		return res, err
	}
	// The days touched, and the stored blocks among them.
	var days []int32
	for _, v := range vals {
		if v.Quality == store.Missing {
			continue
		}
		if d := int32(block.DayOf(v.Slot)); len(days) == 0 || days[len(days)-1] != d {
			days = append(days, d)
		}
	}
	old := make(map[int32][]byte, len(days))
	rows, _ := t.q.Query(t.ctx, `SELECT day, block FROM intervals
		WHERE site = $1 AND meter = $2 AND channel = $3 AND day >= $4 AND day <= $5`,
		id.Site, id.Meter, int16(id.Channel), days[0], days[len(days)-1])
	var day int32
	var blk []byte
	if _, err := pgx.ForEachRow(rows, []any{&day, &blk}, func() error {
		old[day] = blk
		blk = nil // Scan allocates the next one
		return nil
	}); err != nil {
		return res, fmt.Errorf("reading intervals %s/%s/%s: %w", id.Site, id.Meter, id.Channel, err)
	}

	var newDays, updDays []int32
	var newBlocks, updBlocks [][]byte
	b := &t.blk
	for i := 0; i < len(vals); {
		day := block.DayOf(vals[i].Slot)
		j := i + 1
		for j < len(vals) && block.DayOf(vals[j].Slot) == day {
			j++
		}
		b.Reset()
		stored, had := old[int32(day)]
		if had {
			if err := block.Decode(stored, b); err != nil {
				return store.PutResult{}, fmt.Errorf("reading intervals %s/%s/%s of %s: %w",
					id.Site, id.Meter, id.Channel, dayStart(day), err)
			}
		}
		base := core.Slot(day * slotsPerDay)
		changed, err := block.Merge(b, base, vals[i:j], mode, locks, id, &res)
		if err != nil {
			return store.PutResult{}, err
		}
		if changed {
			enc := block.Append(nil, b)
			if had {
				updDays, updBlocks = append(updDays, int32(day)), append(updBlocks, enc)
			} else {
				newDays, newBlocks = append(newDays, int32(day)), append(newBlocks, enc)
			}
		}
		i = j
	}
	if len(updDays) > 0 {
		if _, err := t.q.Exec(t.ctx, `UPDATE intervals SET block = u.block
			FROM unnest($4::integer[], $5::bytea[]) AS u(day, block)
			WHERE site = $1 AND meter = $2 AND channel = $3 AND intervals.day = u.day`,
			id.Site, id.Meter, int16(id.Channel), updDays, updBlocks); err != nil {
			return store.PutResult{}, fmt.Errorf("writing intervals of %s/%s: %w", id.Site, id.Meter, err)
		}
	}
	if len(newDays) > 0 {
		if len(old) == 0 {
			// Perhaps the series' first values.
			if _, err := t.q.Exec(t.ctx, `INSERT INTO series (site, meter, channel) VALUES ($1, $2, $3)
				ON CONFLICT DO NOTHING`, id.Site, id.Meter, int16(id.Channel)); err != nil {
				return store.PutResult{}, fmt.Errorf("writing intervals of %s/%s: %w", id.Site, id.Meter, err)
			}
		}
		if len(newDays) >= copyMin {
			ch := int16(id.Channel)
			src := pgx.CopyFromSlice(len(newDays), func(i int) ([]any, error) {
				return []any{id.Site, id.Meter, ch, newDays[i], newBlocks[i]}, nil
			})
			if _, err := t.q.CopyFrom(t.ctx, pgx.Identifier{"intervals"}, []string{"site", "meter", "channel", "day", "block"}, src); err != nil {
				return store.PutResult{}, fmt.Errorf("writing intervals of %s/%s: %w", id.Site, id.Meter, err)
			}
		} else if _, err := t.q.Exec(t.ctx, `INSERT INTO intervals (site, meter, channel, day, block)
			SELECT $1, $2, $3, * FROM unnest($4::integer[], $5::bytea[])`,
			id.Site, id.Meter, int16(id.Channel), newDays, newBlocks); err != nil {
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
	if n == 0 || checkSiteMeter(id.Site, id.Meter) != nil {
		return nil
	}
	rows, err := t.q.Query(t.ctx, `SELECT day, block FROM intervals
		WHERE site = $1 AND meter = $2 AND channel = $3 AND day >= $4 AND day <= $5 ORDER BY day`,
		id.Site, id.Meter, int16(id.Channel), int32(block.DayOf(from)), int32(block.DayOf(to-1)))
	if err != nil {
		return fmt.Errorf("reading intervals %s/%s/%s: %w", id.Site, id.Meter, id.Channel, err)
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	binaryRows := len(fds) == 2 && fds[0].Format == pgx.BinaryFormatCode && fds[1].Format == pgx.BinaryFormatCode
	b := &t.blk
	for rows.Next() {
		var day int64
		var enc []byte
		if raw := rows.RawValues(); binaryRows && len(raw[0]) == 4 {
			// The block is decoded in place, without a copy.
			day, enc = int64(int32(binary.BigEndian.Uint32(raw[0]))), raw[1]
		} else {
			var d int32
			if err := rows.Scan(&d, &enc); err != nil {
				return fmt.Errorf("reading intervals %s/%s/%s: %w", id.Site, id.Meter, id.Channel, err)
			}
			day = int64(d)
		}
		if err := block.Decode(enc, b); err != nil {
			return fmt.Errorf("reading intervals %s/%s/%s of %s: %w", id.Site, id.Meter, id.Channel, dayStart(day), err)
		}
		base := core.Slot(day * slotsPerDay)
		lo, hi := max(from, base), min(to, base+slotsPerDay)
		copy(dst.Energy[lo-from:hi-from], b.E[lo-base:hi-base])
		copy(dst.Quality[lo-from:hi-from], b.Q[lo-base:hi-base])
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading intervals %s/%s/%s: %w", id.Site, id.Meter, id.Channel, err)
	}
	return nil
}

// SeriesIDs lists the series stored for a site, ordered by meter then
// channel.
func (t *tx) SeriesIDs(site string) ([]store.SeriesID, error) {
	if err := checkID("site", site); err != nil {
		return nil, err
	}
	rows, _ := t.q.Query(t.ctx, "SELECT meter, channel FROM series WHERE site = $1 ORDER BY meter, channel", site)
	var ids []store.SeriesID
	var meter string
	var ch int16
	_, err := pgx.ForEachRow(rows, []any{&meter, &ch}, func() error {
		ids = append(ids, store.SeriesID{Site: site, Meter: meter, Channel: store.Channel(ch)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the series of %s: %w", site, err)
	}
	return ids, nil
}
