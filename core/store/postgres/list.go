package postgres

import (
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/block"
)

var _ store.Lister = (*tx)(nil)

func (t *tx) strings(what, sql string, args ...any) ([]string, error) {
	rows, _ := t.q.Query(t.ctx, sql, args...)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", what, err)
	}
	return out, nil
}

// RegisterMeters lists the meters of site with readings or replacements.
func (t *tx) RegisterMeters(site string) ([]string, error) {
	if err := checkID("site", site); err != nil {
		return nil, err
	}
	return t.strings("the meters with registers of "+site, `SELECT meter FROM registers WHERE site = $1
		UNION SELECT meter FROM replacements WHERE site = $1 ORDER BY 1`, site)
}

// Sources lists the sources with records or a cursor.
func (t *tx) Sources() ([]string, error) {
	return t.strings("gateways", "SELECT DISTINCT source FROM records UNION SELECT source FROM cursors ORDER BY 1")
}

// MetaBuckets lists the meta buckets that hold keys.
func (t *tx) MetaBuckets() ([]string, error) {
	return t.strings("meta buckets", "SELECT DISTINCT bucket FROM meta ORDER BY 1")
}

// SeriesSpan returns the whole days from the series' first to its last
// stored day.
func (t *tx) SeriesSpan(id store.SeriesID) (core.Slot, core.Slot, bool, error) {
	if err := id.Check(); err != nil {
		return 0, 0, false, err
	}
	var first, last *int32
	if err := t.q.QueryRow(t.ctx, `SELECT min(day), max(day) FROM intervals WHERE site = $1 AND meter = $2 AND channel = $3`,
		id.Site, id.Meter, int16(id.Channel)).Scan(&first, &last); err != nil {
		return 0, 0, false, fmt.Errorf("reading the extent of %s/%s/%s: %w", id.Site, id.Meter, id.Channel, err)
	}
	if first == nil {
		return 0, 0, false, nil
	}
	return core.Slot(int64(*first) * block.SlotsPerDay), core.Slot((int64(*last) + 1) * block.SlotsPerDay), true, nil
}
