package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
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

// sheet is a small table file (tenant list, EV sessions) read whole: CSV or
// the first sheet of a workbook, its header checked against the columns a
// format knows. Both formats report cells the same way the readings files do.
type sheet struct {
	file string
	xlsx bool
	// cols are the header's column names, lower case, in file order.
	cols []string
	// headerLine is the header's line; rows the data rows after it.
	headerLine int
	rows       []sheetRow
}

type sheetRow struct {
	line  int
	cells []string
}

// readSheet reads a CSV file (comma or, when the header has more of them,
// semicolon separated) or an XLSX workbook, finds the header (the first
// non-empty row), and checks its columns: each one of known, none twice,
// every one of required present. what names the file's kind for messages.
func readSheet(name string, r io.Reader, xlsx bool, what string, known, required []string) (*sheet, error) {
	sh := &sheet{file: name, xlsx: xlsx}
	var rows []sheetRow
	if xlsx {
		f, err := excelize.OpenReader(r)
		if err != nil {
			return nil, &Error{File: name, Msg: fmt.Sprintf("expected an XLSX workbook: %v", err), Err: err}
		}
		defer f.Close()
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			return nil, &Error{File: name, Msg: "the workbook has no sheet"}
		}
		cells, err := f.GetRows(sheets[0], excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, &Error{File: name, Element: sheets[0], Msg: fmt.Sprintf("reading the sheet: %v", err), Err: err}
		}
		for i, c := range cells {
			rows = append(rows, sheetRow{line: i + 1, cells: c})
		}
	} else {
		br := bufio.NewReader(r)
		first, err := br.Peek(4096)
		if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		cr := csv.NewReader(br)
		cr.FieldsPerRecord = -1
		cr.TrimLeadingSpace = true
		if hdr, _, _ := bytes.Cut(first, []byte("\n")); bytes.Count(hdr, []byte(";")) > bytes.Count(hdr, []byte(",")) {
			cr.Comma = ';'
		}
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					return nil, &Error{File: name, Line: pe.Line, Column: pe.Column, Msg: pe.Err.Error(), Err: err}
				}
				return nil, fmt.Errorf("reading %s: %w", name, err)
			}
			line, _ := cr.FieldPos(0)
			rows = append(rows, sheetRow{line: line, cells: rec})
		}
	}
	wantHeader := fmt.Sprintf("expected %s with the header %s", what, strings.Join(known, ","))
	for i, row := range rows {
		if allEmpty(row.cells) {
			continue
		}
		if err := sh.header(row, what, known, required); err != nil {
			return nil, err
		}
		for _, r := range rows[i+1:] {
			if !allEmpty(r.cells) {
				sh.rows = append(sh.rows, r)
			}
		}
		return sh, nil
	}
	return nil, &Error{File: name, Line: 1, Element: "header", Msg: "the file is empty: " + wantHeader}
}

func (sh *sheet) header(row sheetRow, what string, known, required []string) error {
	sh.headerLine = row.line
	cols := make([]string, len(row.cells))
	for i, c := range row.cells {
		cols[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(c, "\uFEFF")))
	}
	for len(cols) > 0 && cols[len(cols)-1] == "" {
		cols = cols[:len(cols)-1]
	}
	sh.cols = cols
	for i, c := range cols {
		if !slices.Contains(known, c) {
			hint := ""
			if near := nearest(c, known); near != "" {
				hint = fmt.Sprintf("did you mean %q? ", near)
			}
			return &Error{File: sh.file, Line: row.line, Column: i + 1, Element: "header",
				Msg: fmt.Sprintf("unknown column %q: %s%s has the columns %s", c, hint, what, strings.Join(known, ","))}
		}
		if slices.Index(cols, c) != i {
			return &Error{File: sh.file, Line: row.line, Column: i + 1, Element: "header", Msg: fmt.Sprintf("column %q appears twice", c)}
		}
	}
	for _, need := range required {
		if !slices.Contains(cols, need) {
			return &Error{File: sh.file, Line: row.line, Element: "header",
				Msg: fmt.Sprintf("missing column %q: %s needs the columns %s", need, what, strings.Join(required, ","))}
		}
	}
	return nil
}

// get returns the trimmed cell of column name in row and the column's
// index (-1 when the file has no such column).
func (sh *sheet) get(row sheetRow, name string) (string, int) {
	i := slices.Index(sh.cols, name)
	if i < 0 || i >= len(row.cells) {
		return "", i
	}
	return strings.TrimSpace(row.cells[i]), i
}

// extra refuses a value beyond the header's columns.
func (sh *sheet) extra(row sheetRow) error {
	for c := len(sh.cols); c < len(row.cells); c++ {
		if strings.TrimSpace(row.cells[c]) != "" {
			return sh.cellErr(row.line, c, "expected %d columns (%s), got a value in column %d: %q",
				len(sh.cols), strings.Join(sh.cols, ","), c+1, row.cells[c])
		}
	}
	return nil
}

// cellErr reports a problem with the cell in column col (0-based) of line:
// "file:17: column from: msg", for a workbook "file:17: C17: column from: msg".
func (sh *sheet) cellErr(line, col int, format string, args ...any) error {
	e := &Error{File: sh.file, Line: line, Column: col + 1, Msg: fmt.Sprintf(format, args...)}
	name := ""
	if col >= 0 && col < len(sh.cols) {
		name = sh.cols[col]
	}
	switch {
	case sh.xlsx:
		e.Element = columnLetter(col+1) + strconv.Itoa(line)
		if name != "" {
			e.Msg = "column " + name + ": " + e.Msg
		}
	case name != "":
		e.Element = "column " + name
	default:
		e.Element = "column " + strconv.Itoa(col+1)
	}
	return e
}

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
