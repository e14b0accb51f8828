package importer

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Limits of the workbooks the importer reads (readings, EV sessions, tenant
// lists). A workbook is a zip of XML parts; without limits a 41 KB file
// took 4.75 GB of memory and a 511 KB one unpacked a 501 MB temporary file.
const (
	// MaxXLSXBytes is the largest workbook file read. The file is held in
	// memory while it is unpacked; a year of 15-minute readings of twenty
	// meters is a few MiB.
	MaxXLSXBytes = 50 << 20
	// MaxXLSXUnpacked is the most all parts of a workbook may unpack to
	// together: a worksheet over xlsxPartInMemory is unpacked into a
	// temporary file (os.TempDir), which this bounds. A full sheet of
	// 1,048,576 readings rows is about 170 MiB.
	MaxXLSXUnpacked = 256 << 20
	// xlsxPartInMemory is the largest part the workbook library keeps in
	// memory (excelize's UnzipXMLSizeLimit); it keeps every part but the
	// worksheets in memory whatever its size, so no other part may be larger.
	xlsxPartInMemory = 16 << 20
	// maxXLSXParts bounds the number of parts (each one is read and kept).
	maxXLSXParts = 10000
)

// eachXLSXRow is eachRow for a workbook: the first sheet's rows, streamed.
// Once the header is set (t.cols), a row with a value beyond the header's
// columns stops the reading: rows are only as wide as their last value,
// and a value in column XFD would otherwise make every row 16384 cells.
func (t *tableFile) eachXLSXRow(r io.Reader, fn func(line int, cells []string) error) error {
	f, err := t.openWorkbook(r)
	if err != nil {
		return err
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return &Error{File: t.file, Msg: "the workbook has no sheet"}
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return &Error{File: t.file, Element: sheets[0], Msg: fmt.Sprintf("reading the sheet: %v", err), Err: err}
	}
	defer rows.Close()
	line := 0
	for rows.Next() {
		line++
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return &Error{File: t.file, Line: line, Element: sheets[0], Msg: fmt.Sprintf("reading row %d: %v", line, err), Err: err}
		}
		if t.cols != nil {
			if err := t.extra(line, cells); err != nil {
				return err
			}
		}
		if err := fn(line, cells); err != nil {
			return err
		}
	}
	if err := rows.Error(); err != nil {
		return &Error{File: t.file, Line: line + 1, Element: sheets[0], Msg: fmt.Sprintf("reading the sheet: %v", err), Err: err}
	}
	return nil
}

// openWorkbook reads a workbook within the limits above: the file's size,
// then the sizes its parts declare (the zip reader fails a part that
// unpacks to more than it declares), before anything is unpacked.
func (t *tableFile) openWorkbook(r io.Reader) (*excelize.File, error) {
	tooBig := func(size int64) error {
		return &Error{File: t.file, Msg: fmt.Sprintf("the workbook has %s, more than the %d MiB a workbook may have: split it into several files, or save it as CSV",
			mib(size), MaxXLSXBytes>>20)}
	}
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > MaxXLSXBytes {
			return nil, tooBig(fi.Size())
		}
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxXLSXBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", t.file, err)
	}
	if len(data) > MaxXLSXBytes {
		return nil, tooBig(int64(len(data)))
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, &Error{File: t.file, Msg: fmt.Sprintf("expected an XLSX workbook: %v", err), Err: err}
	}
	if len(zr.File) > maxXLSXParts {
		return nil, &Error{File: t.file, Msg: fmt.Sprintf("expected an XLSX workbook: it has %d parts, more than %d: is it a spreadsheet?", len(zr.File), maxXLSXParts)}
	}
	var total uint64
	for _, zf := range zr.File {
		size := zf.UncompressedSize64
		total += size
		name := strings.ToLower(strings.ReplaceAll(zf.Name, `\`, "/"))
		if !strings.HasPrefix(name, "xl/worksheets/sheet") && size > xlsxPartInMemory {
			return nil, &Error{File: t.file, Element: zf.Name, Msg: fmt.Sprintf(
				"this part of the workbook unpacks to %s, more than the %d MiB it may have here: the file is damaged or made to exhaust memory",
				mib(int64(min(size, 1<<62))), xlsxPartInMemory>>20)}
		}
		if size > MaxXLSXUnpacked || total > MaxXLSXUnpacked {
			return nil, &Error{File: t.file, Element: zf.Name, Msg: fmt.Sprintf(
				"the workbook unpacks to more than %d MiB (%s alone to %s): split it into several files, or save it as CSV",
				MaxXLSXUnpacked>>20, zf.Name, mib(int64(min(size, 1<<62))))}
		}
	}
	// The limits again, for excelize to enforce while it unpacks.
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: MaxXLSXUnpacked, UnzipXMLSizeLimit: xlsxPartInMemory})
	if err != nil {
		return nil, &Error{File: t.file, Msg: fmt.Sprintf("expected an XLSX workbook: %v", err), Err: err}
	}
	return f, nil
}

// mib formats a size for a message, rounded up: "50.1 MiB" for a byte
// over 50 MiB.
func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", math.Ceil(float64(n)*10/(1<<20))/10)
}
