package importer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

func readingsSite(t testing.TB) *core.Site {
	t.Helper()
	s := &core.Site{
		ID: "test", Name: "Test", Operator: core.Operator{Name: "Op"},
		Units: []core.Unit{{ID: "W1"}, {ID: "W2"}},
		Meters: []core.Meter{
			{ID: "PV", Role: core.RoleProduction},
			{ID: "GRID", Role: core.RoleGrid},
			{ID: "M1", Role: core.RoleUnit, Unit: "W1"},
			{ID: "M2", Role: core.RoleUnit, Unit: "W2"},
		},
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

func slotAt(t testing.TB, s string) core.Slot {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	sl, ok := core.SlotAt(tm)
	if !ok {
		t.Fatalf("%s is off the grid", s)
	}
	return sl
}

func TestParseReadingsCSVIntervals(t *testing.T) {
	src := "meter,start,kwh_in,kwh_out\n" +
		"M1,2026-01-01T00:00:00Z,0.25,\n" +
		"M1,2026-01-01T01:15:00+01:00,0.125,\n" + // the same instant as 00:15Z
		"PV,2026-01-01T00:00:00.000Z,,1.000001\n" +
		"GRID,2026-01-01 00:00:00Z,0.5,0.75\n" +
		"\n" +
		"M1,2026-01-01T00:00:00Z,0.25,\n" // an identical repeat changes nothing
	rd, err := ParseReadingsCSV("r.csv", strings.NewReader(src), readingsSite(t))
	if err != nil {
		t.Fatal(err)
	}
	if rd.Kind != IntervalReadings || rd.Rows != 5 {
		t.Errorf("kind %v rows %d, want intervals and 5 rows", rd.Kind, rd.Rows)
	}
	s0, s1 := slotAt(t, "2026-01-01T00:00:00Z"), slotAt(t, "2026-01-01T00:15:00Z")
	want := map[SeriesKey][]store.Value{
		{"M1", store.Import}:   {{Slot: s0, Energy: 250 * core.Wh, Quality: store.Measured}, {Slot: s1, Energy: 125 * core.Wh, Quality: store.Measured}},
		{"PV", store.Export}:   {{Slot: s0, Energy: core.KWh + 1, Quality: store.Measured}},
		{"GRID", store.Import}: {{Slot: s0, Energy: 500 * core.Wh, Quality: store.Measured}},
		{"GRID", store.Export}: {{Slot: s0, Energy: 750 * core.Wh, Quality: store.Measured}},
	}
	if fmt.Sprint(rd.Intervals) != fmt.Sprint(want) {
		t.Errorf("intervals =\n%v\nwant\n%v", rd.Intervals, want)
	}
	if keys := rd.Series(); fmt.Sprint(keys) != "[{GRID import} {GRID export} {M1 import} {PV export}]" {
		t.Errorf("series = %v", keys)
	}
	if l := rd.IntervalLine("M1", store.Import, s1); l != 3 {
		t.Errorf("line of M1 00:15 = %d, want 3", l)
	}
	if l := rd.IntervalLine("GRID", store.Export, s0); l != 5 {
		t.Errorf("line of GRID export = %d, want 5", l)
	}
}

func TestParseReadingsCSVOutOfOrder(t *testing.T) {
	src := "meter,start,kwh_in\n" +
		"M1,2026-01-01T00:30:00Z,3\n" +
		"M1,2026-01-01T00:00:00Z,1\n" +
		"M1,2026-01-01T00:30:00Z,3\n" + // repeat, same value
		"M1,2026-01-01T00:15:00Z,2\n"
	rd, err := ParseReadingsCSV("r.csv", strings.NewReader(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	vals := rd.Intervals[SeriesKey{"M1", store.Import}]
	s0 := slotAt(t, "2026-01-01T00:00:00Z")
	if len(vals) != 3 || vals[0].Slot != s0 || vals[1].Slot != s0+1 || vals[2].Slot != s0+2 || vals[2].Energy != 3*core.KWh {
		t.Fatalf("values = %v, want three sorted by time", vals)
	}
	for i, want := range []int{3, 5, 2} {
		if l := rd.IntervalLine("M1", store.Import, s0+core.Slot(i)); l != want {
			t.Errorf("line of slot %d = %d, want %d", i, l, want)
		}
	}
	// Of two conflicts the one on the earlier line is reported.
	_, err = ParseReadingsCSV("r.csv", strings.NewReader(src+"M1,2026-01-01T00:30:00Z,4\nM1,2026-01-01T00:00:00Z,9\n"), nil)
	if want := "r.csv:6: column kwh_in: meter M1, interval 2026-01-01T00:30:00Z: 4.000 kWh, but line 2 has 3.000 kWh"; err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
}

func TestParseReadingsCSVRegisters(t *testing.T) {
	src := "\uFEFFMeter;Time;Register_In_kWh;Register_Out_kWh\n" +
		"M1;2026-03-29T00:59:59.5+01:00;12345.678;0\n" +
		"M1;2026-03-29T03:00:00+02:00;12346.5;0.001\n"
	rd, err := ParseReadingsCSV("r.csv", strings.NewReader(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rd.Kind != RegisterReadings {
		t.Fatalf("kind = %v", rd.Kind)
	}
	regs := rd.Registers["M1"]
	want := []store.Register{
		{Time: time.Date(2026, 3, 28, 23, 59, 59, 5e8, time.UTC), Import: 12345678 * core.Wh},
		{Time: time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), Import: 12346500 * core.Wh, Export: core.Wh},
	}
	if len(regs) != 2 || regs[0] != want[0] || regs[1] != want[1] {
		t.Errorf("registers = %+v, want %+v", regs, want)
	}
	if regs[0].Time.Location() != time.UTC {
		t.Error("register times are not in UTC")
	}
	if l := rd.RegisterLine("M1", want[1].Time); l != 3 {
		t.Errorf("line = %d, want 3", l)
	}
}

func TestParseReadingsCSVErrors(t *testing.T) {
	const hdr = "meter,start,kwh_in,kwh_out\n"
	const row = "M1,2026-01-01T00:00:00Z,0.25,\n"
	tests := []struct {
		name string
		src  string
		want string // err.Error()
		col  int
	}{
		{"comma decimal", hdr + row + `M1,2026-01-01T00:15:00Z,"1,5",` + "\n",
			`r.csv:3: column kwh_in: expected a decimal number of kWh, got "1,5"`, 3},
		{"comma decimal with semicolons", "meter;start;kwh_in\nM1;2026-01-01T00:15:00Z;1,5\n",
			`r.csv:2: column kwh_in: expected a decimal number of kWh, got "1,5"`, 3},
		{"too many decimals", hdr + "M1,2026-01-01T00:15:00Z,0.0000001,\n",
			`r.csv:2: column kwh_in: expected a decimal number of kWh, got "0.0000001"`, 3},
		{"negative", hdr + "M1,2026-01-01T00:15:00Z,,-1\n",
			`r.csv:2: column kwh_out: expected a decimal number of kWh of zero or more, got -1`, 4},
		{"unknown meter", hdr + row + row + "M9,2026-01-01T00:15:00Z,1,\n",
			`r.csv:4: column meter: unknown meter "M9": site test has PV, GRID, M1, M2`, 1},
		{"time without offset", hdr + "M1,2026-01-01T00:15:00,1,\n",
			`r.csv:2: column start: expected an ISO 8601 time with Z or an offset, such as 2026-01-31T23:45:00Z or 2026-02-01T00:45:00+01:00, got "2026-01-01T00:15:00"`, 2},
		{"date only", hdr + "M1,01.01.2026 00:15,1,\n",
			`r.csv:2: column start: expected an ISO 8601 time with Z or an offset, such as 2026-01-31T23:45:00Z or 2026-02-01T00:45:00+01:00, got "01.01.2026 00:15"`, 2},
		{"off the grid", hdr + "M1,2026-01-01T00:10:00Z,1,\n",
			`r.csv:2: column start: expected the start of a 15-minute interval (minute 00, 15, 30 or 45), got "2026-01-01T00:10:00Z"`, 2},
		{"no value", hdr + "M1,2026-01-01T00:15:00Z,,\n",
			`r.csv:2: column kwh_in: expected a decimal number of kWh, got an empty cell`, 3},
		{"no meter", hdr + ",2026-01-01T00:15:00Z,1,\n",
			`r.csv:2: column meter: expected a meter id, got an empty cell`, 1},
		{"conflicting duplicate", hdr + row + "M2,2026-01-01T00:00:00Z,1,\nM1,2026-01-01T00:00:00Z,0.3,\n",
			`r.csv:4: column kwh_in: meter M1, interval 2026-01-01T00:00:00Z: 0.300 kWh, but line 2 has 0.250 kWh`, 3},
		{"extra column", hdr + "M1,2026-01-01T00:15:00Z,1,2,3\n",
			`r.csv:2: column 5: expected 4 columns (meter,start,kwh_in,kwh_out), got a value in column 5: "3"`, 5},
		{"decimal comma", hdr + "M1,2026-01-01T00:15:00Z,1,5,\n",
			`r.csv:2: column 5: expected 4 columns (meter,start,kwh_in,kwh_out), got 5 fields: is there a decimal comma? write 1.5, not 1,5`, 5},
		{"unknown header", "meter,start,kwh\n",
			`r.csv:1: header: unknown column "kwh": a file of interval energy has the columns meter,start,kwh_in,kwh_out`, 3},
		{"mixed header", "meter,time,kwh_in\n",
			`r.csv:1: header: unknown column "time": a file of interval energy has the columns meter,start,kwh_in,kwh_out`, 2},
		{"no header", "M1,2026-01-01T00:15:00Z,1\n",
			`r.csv:1: header: expected the header meter,start,kwh_in[,kwh_out] or meter,time,register_in_kwh[,register_out_kwh], got "M1,2026-01-01T00:15:00Z,1"`, 0},
		{"missing column", "meter,kwh_in\n",
			`r.csv:1: header: missing column "start": a file of interval energy has the columns meter,start,kwh_in,kwh_out (the last optional)`, 0},
		{"empty", "",
			`r.csv:1: header: the file is empty: expected the header meter,start,kwh_in[,kwh_out] or meter,time,register_in_kwh[,register_out_kwh]`, 0},
		{"register without out value", "meter,time,register_in_kwh,register_out_kwh\nM1,2026-01-01T00:00:00Z,5,\n",
			`r.csv:2: column register_out_kwh: expected a register reading in kWh, got ""`, 4},
		{"conflicting register", "meter,time,register_in_kwh\nM1,2026-01-01T00:00:00Z,5\nM1,2026-01-01T01:00:00+01:00,6\n",
			`r.csv:3: column register_in_kwh: meter M1 at 2026-01-01T00:00:00Z: line 2 has a different reading (5.000/0.000 kWh)`, 3},
		{"bare quote", hdr + "M1,2026-01-01T00:15:00Z,1\"2,\n",
			`r.csv:2: bare " in non-quoted-field`, 26},
		{"unterminated quote", hdr + row + "M1,2026-01-01T00:15:00Z,\"0.1,\n" + row + row,
			`r.csv:3: a quoted field on this line has no closing " (the row runs on to line 5): close the quote or remove it`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseReadingsCSV("r.csv", strings.NewReader(tt.src), readingsSite(t))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *importer.Error", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("err = %s\nwant  %s", err, tt.want)
			}
			if e.Column != tt.col {
				t.Errorf("column = %d, want %d", e.Column, tt.col)
			}
		})
	}
}

// xlsxFile builds a workbook whose first sheet holds rows; a cell value of
// type float64 is written as a number, a string as text.
func xlsxFile(t testing.TB, rows [][]any, emptyRowAt int) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	r := 1
	for i, row := range rows {
		if i == emptyRowAt {
			r++
		}
		for c, v := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r)
			if err := f.SetCellValue(sheet, cell, v); err != nil {
				t.Fatal(err)
			}
		}
		r++
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseReadingsXLSX(t *testing.T) {
	data := xlsxFile(t, [][]any{
		{"meter", "start", "kwh_in", "kwh_out"},
		{"M1", "2026-01-01T00:00:00Z", 0.1 + 0.2, nil}, // binary noise: 0.30000000000000004
		{"M1", "2026-01-01T00:15:00Z", "1.234567", ""},
		{"PV", "2026-01-01T00:15:00+00:00", nil, 12.5},
	}, 2)
	rd, err := ParseReadingsXLSX("r.xlsx", bytes.NewReader(data), readingsSite(t))
	if err != nil {
		t.Fatal(err)
	}
	m1 := rd.Intervals[SeriesKey{"M1", store.Import}]
	if len(m1) != 2 || m1[0].Energy != 300*core.Wh || m1[1].Energy != 1_234_567 {
		t.Errorf("M1 = %v, want 0.3 and 1.234567 kWh", m1)
	}
	pv := rd.Intervals[SeriesKey{"PV", store.Export}]
	if len(pv) != 1 || pv[0].Energy != 12500*core.Wh {
		t.Errorf("PV = %v", pv)
	}
	// Row 3 is empty: the rows after it keep their sheet numbers.
	if l := rd.IntervalLine("M1", store.Import, slotAt(t, "2026-01-01T00:15:00Z")); l != 4 {
		t.Errorf("line of M1 00:15 = %d, want row 4", l)
	}
}

func TestReadReadingsFileByExtension(t *testing.T) {
	dir := t.TempDir()
	xlsxPath := filepath.Join(dir, "Day.XLSX")
	data := xlsxFile(t, [][]any{{"meter", "start", "kwh_in"}, {"M1", "2026-01-01T00:00:00Z", 1.5}}, -1)
	if err := os.WriteFile(xlsxPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	rd, err := ReadReadingsFile(xlsxPath, readingsSite(t))
	if err != nil || rd.Rows != 1 || rd.File != xlsxPath {
		t.Fatalf("xlsx: rd %+v err %v", rd, err)
	}
	csvPath := filepath.Join(dir, "day.csv")
	if err := os.WriteFile(csvPath, []byte("meter,start,kwh_in\nM1,2026-01-01T00:00:00Z,x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = ReadReadingsFile(csvPath, readingsSite(t))
	if want := csvPath + `:2: column kwh_in: expected a decimal number of kWh, got "x"`; err == nil || err.Error() != want {
		t.Errorf("csv: err = %v, want %s", err, want)
	}
}

func TestParseReadingsXLSXErrors(t *testing.T) {
	hdr := []any{"meter", "time", "register_in_kwh"}
	tests := []struct {
		name string
		row  []any
		want string
	}{
		{"text with a comma", []any{"M1", "2026-01-01T00:00:00Z", "1,5"},
			`r.xlsx:3: C3: column register_in_kwh: expected a register reading in kWh, got "1,5"`},
		{"unknown meter", []any{"X", "2026-01-01T00:00:00Z", 1.5},
			`r.xlsx:3: A3: column meter: unknown meter "X": site test has PV, GRID, M1, M2`},
		{"date cell", []any{"M1", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 1.5},
			`r.xlsx:3: B3: column time: expected an ISO 8601 time with Z or an offset as text, such as 2026-01-31T23:45:00Z, got a spreadsheet date 46023 (it has no time zone)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := xlsxFile(t, [][]any{hdr, {"M1", "2025-12-31T23:00:00Z", 1.0}, tt.row}, -1)
			_, err := ParseReadingsXLSX("r.xlsx", bytes.NewReader(data), readingsSite(t))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *importer.Error", err, err)
			}
			if err.Error() != tt.want || e.Line != 3 {
				t.Errorf("err = %s\nwant  %s", err, tt.want)
			}
		})
	}
	_, err := ParseReadingsXLSX("r.xlsx", strings.NewReader("meter,start,kwh_in\n"), nil)
	if e := (*Error)(nil); !errors.As(err, &e) || !strings.Contains(err.Error(), "r.xlsx: expected an XLSX workbook") {
		t.Errorf("CSV given as XLSX: err = %v", err)
	}
}

// dayFile is a readings CSV of one UTC day of intervals for n meters.
func dayFile(n int) []byte {
	var b bytes.Buffer
	b.WriteString("meter,start,kwh_in,kwh_out\n")
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for m := range n {
		for s := range 96 {
			fmt.Fprintf(&b, "M%03d,%s,%d.%03d,0.%03d\n", m, day.Add(time.Duration(s)*core.SlotDuration).Format(time.RFC3339), s%3, (m*7+s)%1000, s%50)
		}
	}
	return b.Bytes()
}

func BenchmarkParseReadingsCSV(b *testing.B) {
	data := dayFile(100)
	site := &core.Site{ID: "bench"}
	for m := range 100 {
		site.Meters = append(site.Meters, core.Meter{ID: fmt.Sprintf("M%03d", m), Role: core.RoleCommon})
	}
	rows := 100 * 96
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		rd, err := ParseReadingsCSV("day.csv", bytes.NewReader(data), site)
		if err != nil {
			b.Fatal(err)
		}
		if rd.Rows != rows {
			b.Fatalf("rows = %d", rd.Rows)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkParseReadingsXLSX(b *testing.B) {
	site := &core.Site{ID: "bench"}
	rows := [][]any{{"meter", "start", "kwh_in", "kwh_out"}}
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for m := range 100 {
		id := fmt.Sprintf("M%03d", m)
		site.Meters = append(site.Meters, core.Meter{ID: id, Role: core.RoleCommon})
		for s := range 96 {
			rows = append(rows, []any{id, day.Add(time.Duration(s) * core.SlotDuration).Format(time.RFC3339), float64(s%7) * 0.125, 0.0})
		}
	}
	data := xlsxFile(b, rows, -1)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := ParseReadingsXLSX("day.xlsx", bytes.NewReader(data), site); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(9600*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// A spreadsheet program that ends every line with a separator, header
// included, writes a valid file; only a line longer than its header is
// refused (see the "decimal comma" case above).
func TestParseReadingsCSVTrailingSeparator(t *testing.T) {
	src := "meter,start,kwh_in,kwh_out,\n" +
		"M1,2026-01-01T00:00:00Z,1.5,0.25,\n"
	rd, err := ParseReadingsCSV("r.csv", strings.NewReader(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	in, out := rd.Intervals[SeriesKey{"M1", store.Import}], rd.Intervals[SeriesKey{"M1", store.Export}]
	if len(in) != 1 || in[0].Energy != 1500*core.Wh || len(out) != 1 || out[0].Energy != 250*core.Wh {
		t.Fatalf("import %v, export %v", in, out)
	}
}
