package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/block"
)

// Check verifies what PostgreSQL cannot: the schema version, that every
// interval block decodes (the same decoding as the bbolt store's check) and
// that every site definition and replacement parses. The server checks its
// own pages. It returns all problems found, joined, each naming where.
func (s *Store) Check() error {
	ctx := context.Background()
	var errs []error
	err := s.View(func(stx store.Tx) error {
		q := stx.(*tx).q
		var v int
		if err := q.QueryRow(ctx, "SELECT version FROM zevdesk_schema").Scan(&v); err != nil {
			return fmt.Errorf("reading the schema version: %w", err)
		}
		if v != SchemaVersion {
			errs = append(errs, fmt.Errorf("schema version %d, expected %d", v, SchemaVersion))
		}
		var b block.Day
		var site, meter string
		var ch int16
		var day int32
		var enc []byte
		rows, _ := q.Query(ctx, "SELECT site, meter, channel, day, block FROM intervals")
		if _, err := pgx.ForEachRow(rows, []any{&site, &meter, &ch, &day, &enc}, func() error {
			if ch != int16(store.Import) && ch != int16(store.Export) {
				errs = append(errs, fmt.Errorf("intervals %s/%s day %s: invalid channel %d", site, meter, dayStart(int64(day)), ch))
				return nil
			}
			if err := block.Decode(enc, &b); err != nil {
				errs = append(errs, fmt.Errorf("intervals %s/%s/%s day %s: %w", site, meter, store.Channel(ch), dayStart(int64(day)), err))
			}
			return nil
		}); err != nil {
			return fmt.Errorf("reading intervals: %w", err)
		}
		var doc string
		rows, _ = q.Query(ctx, "SELECT id, site::text FROM sites")
		if _, err := pgx.ForEachRow(rows, []any{&site, &doc}, func() error {
			var s core.Site
			if err := json.Unmarshal([]byte(doc), &s); err != nil {
				errs = append(errs, fmt.Errorf("site %q: %w", site, err))
			}
			return nil
		}); err != nil {
			return fmt.Errorf("reading sites: %w", err)
		}
		rows, _ = q.Query(ctx, "SELECT site, meter, replacement::text FROM replacements")
		if _, err := pgx.ForEachRow(rows, []any{&site, &meter, &doc}, func() error {
			var r store.Replacement
			if err := json.Unmarshal([]byte(doc), &r); err != nil {
				errs = append(errs, fmt.Errorf("replacement of %s/%s: %w", site, meter, err))
			}
			return nil
		}); err != nil {
			return fmt.Errorf("reading replacements: %w", err)
		}
		// Every series with intervals is listed (SeriesIDs).
		rows, _ = q.Query(ctx, `SELECT DISTINCT i.site, i.meter, i.channel FROM intervals i
			LEFT JOIN series s USING (site, meter, channel) WHERE s.site IS NULL`)
		if _, err := pgx.ForEachRow(rows, []any{&site, &meter, &ch}, func() error {
			errs = append(errs, fmt.Errorf("intervals %s/%s/%s: the series is missing from the series table", site, meter, store.Channel(ch)))
			return nil
		}); err != nil {
			return fmt.Errorf("reading series: %w", err)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("checking %s: %w", s.name, errors.Join(errs...))
	}
	return nil
}
