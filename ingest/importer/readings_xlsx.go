package importer

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"github.com/zevdesk/zevdesk/core"
)

// ParseReadingsXLSX parses a readings workbook named name: the first sheet
// holds the same columns as a readings CSV file (docs/formats.md), as
// numeric or text cells. Numbers are read as stored, not as displayed, so a
// cell formatted with two decimals still gives all of its own. Errors name
// the row as Line and the cell ("C17") as Element.
func ParseReadingsXLSX(name string, r io.Reader, site *core.Site) (*Readings, error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return nil, &Error{File: name, Msg: fmt.Sprintf("expected an XLSX workbook: %v", err), Err: err}
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, &Error{File: name, Msg: "the workbook has no sheet"}
	}
	rows, err := f.GetRows(sheets[0], excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, &Error{File: name, Element: sheets[0], Msg: fmt.Sprintf("reading the sheet: %v", err), Err: err}
	}
	p := newReadingsParser(name, site, true)
	for i, row := range rows {
		if err := p.row(i+1, row); err != nil {
			return nil, err
		}
	}
	return p.finish()
}
