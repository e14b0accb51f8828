package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// tableFile is what the table files (readings, EV sessions, tenant lists) have
// in common: rows of cells from a CSV file or a workbook's first sheet, a
// header naming the columns, and errors that name a cell the same way.
type tableFile struct {
	file string
	xlsx bool
	// cols are the header's column names, lower case, in file order.
	cols []string
	// width is the number of cells of the header row, trailing empty ones
	// included: a CSV whose every line ends in a comma is fine, a data line
	// longer than its header is not.
	width int
}

// eachRow reads the rows of a CSV file (comma or, when the first line has
// more of them, semicolon separated) or the first sheet of a workbook, and
// calls fn with each row's line (1-based) and cells, empty rows included.
// cells is only valid during the call: CSV rows reuse one slice, because a
// readings file may have millions of them. With quoteStart, a CSV quote
// left open is reported where its row starts rather than where the reader
// gave up.
func (t *tableFile) eachRow(r io.Reader, quoteStart bool, fn func(line int, cells []string) error) error {
	if t.xlsx {
		return t.eachXLSXRow(r, fn)
	}
	br := bufio.NewReader(r)
	first, err := br.Peek(4096)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return fmt.Errorf("reading %s: %w", t.file, err)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	if hdr, _, _ := bytes.Cut(first, []byte("\n")); bytes.Count(hdr, []byte(";")) > bytes.Count(hdr, []byte(",")) {
		cr.Comma = ';'
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("reading %s: %w", t.file, err)
			}
			if quoteStart && errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line {
				// An opening quote without its closing one swallows the
				// following lines: the mistake is where the row starts,
				// not where the reader gave up.
				return &Error{File: t.file, Line: pe.StartLine, Err: err, Msg: fmt.Sprintf(
					"a quoted field on this line has no closing \" (the row runs on to line %d): close the quote or remove it", pe.Line)}
			}
			return &Error{File: t.file, Line: pe.Line, Column: pe.Column, Msg: pe.Err.Error(), Err: err}
		}
		line, _ := cr.FieldPos(0)
		if err := fn(line, rec); err != nil {
			return err
		}
	}
}

// setHeader takes the header row's cells as the column names: trimmed,
// lower case, without a byte order mark or trailing empty cells.
func (t *tableFile) setHeader(cells []string) {
	cols := make([]string, len(cells))
	for i, c := range cells {
		cols[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(c, "\uFEFF")))
	}
	for len(cols) > 0 && cols[len(cols)-1] == "" {
		cols = cols[:len(cols)-1]
	}
	t.cols = cols
	t.width = len(cells)
}

// checkColumns refuses a header column that is not one of known, and one
// that appears twice. what names the file's kind; with suggest the error
// offers the nearest known column.
func (t *tableFile) checkColumns(line int, what string, known []string, suggest bool) error {
	for i, c := range t.cols {
		if !slices.Contains(known, c) {
			hint := ""
			if near := nearest(c, known); suggest && near != "" {
				hint = fmt.Sprintf("did you mean %q? ", near)
			}
			return &Error{File: t.file, Line: line, Column: i + 1, Element: "header",
				Msg: fmt.Sprintf("unknown column %q: %s%s has the columns %s", c, hint, what, strings.Join(known, ","))}
		}
		if slices.Index(t.cols, c) != i {
			return &Error{File: t.file, Line: line, Column: i + 1, Element: "header", Msg: fmt.Sprintf("column %q appears twice", c)}
		}
	}
	return nil
}

// cell returns the trimmed cell of column name among cells and the
// column's index (-1 when the file has no such column).
func (t *tableFile) cell(cells []string, name string) (string, int) {
	i := slices.Index(t.cols, name)
	if i < 0 || i >= len(cells) {
		return "", i
	}
	return strings.TrimSpace(cells[i]), i
}

// extra refuses a value beyond the header's columns, and a CSV line with
// more fields than its header even where the extra ones are empty: that is
// the mark of a decimal comma ("1,5" read as 1 and 5), which would otherwise
// shift a value into the next column unnoticed.
func (t *tableFile) extra(line int, cells []string) error {
	for c := len(t.cols); c < len(cells); c++ {
		if strings.TrimSpace(cells[c]) != "" {
			return t.cellErr(line, c, "expected %d columns (%s), got a value in column %d: %q",
				len(t.cols), strings.Join(t.cols, ","), c+1, cells[c])
		}
	}
	if !t.xlsx && len(cells) > max(t.width, len(t.cols)) {
		return t.cellErr(line, len(cells)-1, "expected %d columns (%s), got %d fields: is there a decimal comma? write 1.5, not 1,5",
			len(t.cols), strings.Join(t.cols, ","), len(cells))
	}
	return nil
}

// cellErr reports a problem with the cell in column col (0-based) of line:
// "file:17: column from: msg", for a workbook "file:17: C17: column from: msg".
func (t *tableFile) cellErr(line, col int, format string, args ...any) error {
	e := &Error{File: t.file, Line: line, Column: col + 1, Msg: fmt.Sprintf(format, args...)}
	name := ""
	if col >= 0 && col < len(t.cols) {
		name = t.cols[col]
	}
	switch {
	case t.xlsx:
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

func allEmpty(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// columnLetter returns a spreadsheet column's letters: 1 → A, 27 → AA.
func columnLetter(n int) string {
	var b []byte
	for n > 0 {
		n--
		b = append([]byte{byte('A' + n%26)}, b...)
		n /= 26
	}
	return string(b)
}
