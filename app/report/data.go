package report

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

// The 15-minute sheet is the bulk of a workbook: a year of 50 meters is 35
// thousand rows of 200 cells. excelize's stream writer costs about half a
// microsecond per cell, too slow for that, so the sheet is set up with
// excelize (header rows, frozen panes, filter, widths, styles) and its rows
// are written straight into the sheet's XML when the workbook is saved:
// plain numbers with the styles excelize made, inline strings for the
// quality. The zip is written with the fastest deflate level.

// fastZip is a zip writer that deflates at BestSpeed: the workbook's XML
// compresses nearly as well, several times faster.
func fastZip(w io.Writer) excelize.ZipWriter {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	return zw
}

// dataColumn is one metered channel in the sheet.
type dataColumn struct {
	meter  core.Meter
	series store.Series
	ch     store.Channel
}

// dataPlan is the 15-minute sheet waiting to be written.
type dataPlan struct {
	sheet       string
	in          *billing.Input
	from        core.Slot
	n           int
	cols        []dataColumn
	prod, cons  []int // indexes into cols
	grid        int   // the grid meter's import column, or -1
	ncol        int
	kwh, dtime  int       // style ids
	quality     [4]string // the quality names in the workbook's language
	firstRowIdx int       // the first data row (1-based)
}

// dataSheet sets up the sheet of every slot of the period, one row per
// slot: per consumer meter kWh, its solar and grid parts and the quality;
// per production and grid channel kWh and quality.
func (w *wbook) dataSheet(in *billing.Input) error {
	site := in.Site
	loc := site.Location()
	from, to := in.Period.Slots(loc)
	d := &dataPlan{sheet: w.w("Data"), in: in, from: from, n: int(to - from), grid: -1, kwh: w.kwh, dtime: w.datetime, firstRowIdx: 3}
	if d.n+2 > 1_048_576 {
		return fmt.Errorf("%s has %d intervals, more than a sheet's 1048576 rows: export at most 29 years at a time", in.Period, d.n)
	}
	for _, m := range site.Meters {
		md := in.Data[m.ID]
		switch {
		case m.Role.Consumer():
			d.cons = append(d.cons, len(d.cols))
			d.cols = append(d.cols, dataColumn{meter: m, series: md.Import, ch: store.Import})
		case m.Role == core.RoleProduction:
			d.prod = append(d.prod, len(d.cols))
			d.cols = append(d.cols, dataColumn{meter: m, series: md.Export, ch: store.Export})
		case m.Role == core.RoleGrid:
			d.grid = len(d.cols)
			d.cols = append(d.cols, dataColumn{meter: m, series: md.Import, ch: store.Import},
				dataColumn{meter: m, series: md.Export, ch: store.Export})
		}
	}
	sh := d.sheet
	if _, err := w.f.NewSheet(sh); err != nil {
		return err
	}
	h1 := []any{w.w("Start"), w.w("Offset")}
	h2 := []any{"", ""}
	for _, c := range d.cols {
		if c.meter.Role.Consumer() {
			h1 = append(h1, c.meter.ID, "", "", "")
			h2 = append(h2, w.w("kWh"), w.w("solar"), w.w("grid"), w.w("quality"))
			continue
		}
		label := w.w("production")
		if c.meter.Role == core.RoleGrid {
			label = w.w(c.ch.String())
		}
		h1 = append(h1, c.meter.ID, "")
		h2 = append(h2, label, w.w("quality"))
	}
	d.ncol = len(h1)
	if err := w.setRow(sh, 1, h1...); err != nil {
		return err
	}
	if err := w.setRow(sh, 2, h2...); err != nil {
		return err
	}
	last := colName(d.ncol)
	if err := w.f.SetCellStyle(sh, "A1", last+"2", w.head); err != nil {
		return err
	}
	if err := w.f.SetPanes(sh, &excelize.Panes{Freeze: true, XSplit: 2, YSplit: 2, TopLeftCell: "C3", ActivePane: "bottomRight"}); err != nil {
		return err
	}
	if err := w.f.SetColWidth(sh, "A", "A", 17); err != nil {
		return err
	}
	if err := w.f.SetColWidth(sh, "B", last, 11); err != nil {
		return err
	}
	if err := w.f.AutoFilter(sh, "A2:"+last+strconv.Itoa(max(d.n+2, 3)), nil); err != nil {
		return err
	}
	for q, name := range qualityName {
		d.quality[q] = w.w(name)
	}
	w.data = d
	return nil
}

// saveWithData writes the workbook with the 15-minute rows inserted into
// the data sheet's XML; every other part is copied as excelize wrote it.
func (w *wbook) saveWithData(out io.Writer) error {
	var tmp bytes.Buffer
	w.f.SetZipWriter(fastZip)
	if _, err := w.f.WriteTo(&tmp); err != nil {
		return fmt.Errorf("writing the workbook: %w", err)
	}
	id := 0
	for sid, name := range w.f.GetSheetMap() {
		if name == w.data.sheet {
			id = sid
		}
	}
	path := fmt.Sprintf("xl/worksheets/sheet%d.xml", id)
	zr, err := zip.NewReader(bytes.NewReader(tmp.Bytes()), int64(tmp.Len()))
	if err != nil {
		return err
	}
	zw := fastZip(out).(*zip.Writer)
	found := false
	for _, f := range zr.File {
		if f.Name != path {
			r, err := f.OpenRaw()
			if err != nil {
				return err
			}
			dst, err := zw.CreateRaw(&f.FileHeader)
			if err != nil {
				return err
			}
			if _, err := io.Copy(dst, r); err != nil {
				return err
			}
			continue
		}
		found = true
		rc, err := f.Open()
		if err != nil {
			return err
		}
		xml, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return err
		}
		cut := bytes.Index(xml, []byte("</sheetData>"))
		if cut < 0 {
			return fmt.Errorf("writing the 15-minute data: no sheetData in %s", path)
		}
		xml = w.data.fixDimension(xml)
		cut = bytes.Index(xml, []byte("</sheetData>"))
		dst, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: f.Modified})
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(dst, 1<<16)
		bw.Write(xml[:cut])
		if err := w.data.writeRows(bw); err != nil {
			return err
		}
		bw.Write(xml[cut:])
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("writing the 15-minute data: %s not in the workbook", path)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("writing the workbook: %w", err)
	}
	return nil
}

// fixDimension sets the sheet's used range to include the rows written.
func (d *dataPlan) fixDimension(xml []byte) []byte {
	const key = `<dimension ref="`
	i := bytes.Index(xml, []byte(key))
	if i < 0 {
		return xml
	}
	j := bytes.IndexByte(xml[i+len(key):], '"')
	if j < 0 {
		return xml
	}
	ref := "A1:" + colName(d.ncol) + strconv.Itoa(d.n+d.firstRowIdx-1)
	out := append([]byte{}, xml[:i+len(key)]...)
	out = append(out, ref...)
	return append(out, xml[i+len(key)+j:]...)
}

var qualityName = [4]string{"missing", "measured", "estimated", "edited"}

// appendKWh appends e in kWh exactly (mWh are 6 decimals), without
// trailing zeros.
func appendKWh(b []byte, e core.Energy) []byte {
	v := int64(e)
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	b = strconv.AppendInt(b, v/1_000_000, 10)
	frac := v % 1_000_000
	if frac == 0 {
		return b
	}
	var digits [6]byte
	for i := 5; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 6
	for n > 0 && digits[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, digits[:n]...)
}

// writeRows writes the <row> elements of every slot.
func (d *dataPlan) writeRows(out io.Writer) error {
	site := d.in.Site
	loc := site.Location()
	names := make([]string, d.ncol+1)
	for c := 1; c <= d.ncol; c++ {
		names[c] = colName(c)
	}
	kwhS := strconv.Itoa(d.kwh)
	dtS := strconv.Itoa(d.dtime)
	at := func(s *store.Series, i int) (core.Energy, store.Quality) {
		j := int(d.from) + i - int(s.From)
		if j < 0 || j >= len(s.Energy) {
			return 0, store.Missing
		}
		return s.Energy[j], s.Quality[j]
	}
	b := make([]byte, 0, 64*d.ncol)
	for i := 0; i < d.n; i++ {
		b = b[:0]
		row := strconv.AppendInt(nil, int64(i+d.firstRowIdx), 10)
		col := 0
		open := func(style string) {
			col++
			b = append(b, `<c r="`...)
			b = append(b, names[col]...)
			b = append(b, row...)
			if style != "" {
				b = append(b, `" s="`...)
				b = append(b, style...)
			}
		}
		num := func(style string, e core.Energy) {
			open(style)
			b = append(b, `"><v>`...)
			b = appendKWh(b, e)
			b = append(b, `</v></c>`...)
		}
		str := func(s string) {
			open("")
			b = append(b, `" t="inlineStr"><is><t>`...)
			b = append(b, s...)
			b = append(b, `</t></is></c>`...)
		}
		var P, C, G core.Energy
		for _, k := range d.prod {
			e, _ := at(&d.cols[k].series, i)
			P += e
		}
		for _, k := range d.cons {
			e, _ := at(&d.cols[k].series, i)
			C += e
		}
		if d.grid >= 0 {
			G, _ = at(&d.cols[d.grid].series, i)
		}
		fnum, fden := solarFraction(site.Allocation, P, C, G, d.grid >= 0)

		b = append(b, `<row r="`...)
		b = append(b, row...)
		b = append(b, `">`...)
		lt := (d.from + core.Slot(i)).Time().In(loc)
		open(dtS)
		b = append(b, `"><v>`...)
		b = strconv.AppendFloat(b, excelTime(lt), 'f', -1, 64)
		b = append(b, `</v></c>`...)
		// The offset tells the two 02:00-03:00 hours of the autumn
		// change apart.
		str(lt.Format("UTC-07:00"))
		for k := range d.cols {
			c := &d.cols[k]
			e, q := at(&c.series, i)
			num(kwhS, e)
			if c.meter.Role.Consumer() {
				if fden > 0 {
					solar := core.Energy(core.DivRound(int64(e)*fnum, fden))
					num(kwhS, solar)
					num(kwhS, e-solar)
				} else {
					col += 2
				}
			}
			str(d.quality[q&3])
		}
		b = append(b, `</row>`...)
		if _, err := out.Write(b); err != nil {
			return err
		}
	}
	return nil
}
