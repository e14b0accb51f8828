package importer

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/zevdesk/zevdesk/core"
)

// sheet is a small table file (tenant list, EV sessions) read whole, its
// header checked against the columns a format knows.
type sheet struct {
	tableFile
	// headerLine is the header's line; rows the data rows after it.
	headerLine int
	rows       []sheetRow
}

type sheetRow struct {
	line  int
	cells []string
}

// readSheet reads a CSV file or an XLSX workbook (see tableFile.eachRow), finds
// the header (the first non-empty row), and checks its columns: each one of
// known, none twice, every one of required present. what names the file's
// kind for messages.
func readSheet(name string, r io.Reader, xlsx bool, what string, known, required []string) (*sheet, error) {
	sh := &sheet{tableFile: tableFile{file: name, xlsx: xlsx}}
	header := false
	err := sh.eachRow(r, false, func(line int, cells []string) error {
		switch {
		case allEmpty(cells):
		case !header:
			header = true
			return sh.header(line, cells, what, known, required)
		default:
			sh.rows = append(sh.rows, sheetRow{line: line, cells: slices.Clone(cells)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !header {
		return nil, &Error{File: name, Line: 1, Element: "header",
			Msg: fmt.Sprintf("the file is empty: expected %s with the header %s", what, strings.Join(known, ","))}
	}
	return sh, nil
}

func (sh *sheet) header(line int, cells []string, what string, known, required []string) error {
	sh.headerLine = line
	sh.setHeader(cells)
	if err := sh.checkColumns(line, what, known, true); err != nil {
		return err
	}
	for _, need := range required {
		if !slices.Contains(sh.cols, need) {
			return &Error{File: sh.file, Line: line, Element: "header",
				Msg: fmt.Sprintf("missing column %q: %s needs the columns %s", need, what, strings.Join(required, ","))}
		}
	}
	return nil
}

// get returns the trimmed cell of column name in row and the column's
// index (-1 when the file has no such column).
func (sh *sheet) get(row sheetRow, name string) (string, int) { return sh.cell(row.cells, name) }

// date reads a day: 2026-01-31, the Swiss 31.01.2026, or in a workbook a
// date cell (a whole day number: a date has no time zone to lose).
func (sh *sheet) date(line, col int, s string) (core.Date, error) {
	if d, err := core.ParseDate(s); err == nil {
		return d, nil
	}
	if t, err := time.Parse("2.1.2006", s); err == nil {
		return core.DateOf(t), nil
	}
	if sh.xlsx {
		if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 1 && f == math.Trunc(f) {
			if t, err := excelize.ExcelDateToTime(f, false); err == nil {
				return core.DateOf(t), nil
			}
		}
	}
	return core.Date{}, sh.cellErr(line, col, "expected a date such as 2026-01-31 or 31.01.2026, got %q", s)
}

// instant reads an ISO 8601 / RFC 3339 time with Z or an offset.
func (sh *sheet) instant(line, col int, s string) (time.Time, error) {
	if t, ok := parseInstant(s); ok {
		return t, nil
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil && sh.xlsx {
		return time.Time{}, sh.cellErr(line, col, "expected an ISO 8601 time with Z or an offset as text, such as 2026-01-31T18:05:00+01:00, got a spreadsheet date %s (it has no time zone)", s)
	}
	return time.Time{}, sh.cellErr(line, col, "expected an ISO 8601 time with Z or an offset, such as 2026-01-31T18:05:00+01:00, got %q", s)
}

// decimal reads an exact decimal with parse; a workbook number with binary
// noise ("0.30000000000000004") is read at 15 significant digits.
func (sh *sheet) decimal(line, col int, s, what string, parse func(string) (int64, error)) (int64, error) {
	v, err := parse(s)
	if err != nil && sh.xlsx && !strings.Contains(s, ",") {
		if f, ferr := strconv.ParseFloat(s, 64); ferr == nil {
			v, err = parse(strconv.FormatFloat(roundSignificant(f), 'f', -1, 64))
		}
	}
	if err != nil || v < 0 {
		return 0, sh.cellErr(line, col, "expected %s, got %q", what, s)
	}
	return v, nil
}
