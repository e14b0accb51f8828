package store

import "github.com/zevdesk/zevdesk/core"

// Lister is an optional capability of a Tx, found by type assertion: it
// names what the other methods need to be told (meters, gateways, meta
// buckets) and the extent of a series, so that a database can be copied
// whole into another implementation (`zevdesk db copy`) and compared.
type Lister interface {
	// RegisterMeters lists, in lexical order, the meters of site that have
	// register readings or replacements.
	RegisterMeters(site string) ([]string, error)
	// Sources lists, in lexical order, the sources that have records or a
	// cursor.
	Sources() ([]string, error)
	// MetaBuckets lists the meta buckets that hold keys, in lexical order.
	MetaBuckets() ([]string, error)
	// SeriesSpan returns a slot range [from, to) covering every value of
	// the series (whole UTC days); ok is false when it has none.
	SeriesSpan(id SeriesID) (from, to core.Slot, ok bool, err error)
}
