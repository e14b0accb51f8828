package importer

import (
	"io"

	"github.com/zevdesk/zevdesk/core"
)

// ParseReadingsXLSX parses a readings workbook named name: the first sheet
// holds the same columns as a readings CSV file (docs/formats.md), as
// numeric or text cells. Numbers are read as stored, not as displayed, so a
// cell formatted with two decimals still gives all of its own. Errors name
// the row as Line and the cell ("C17") as Element.
func ParseReadingsXLSX(name string, r io.Reader, site *core.Site) (*Readings, error) {
	return parseReadings(name, r, site, true)
}
