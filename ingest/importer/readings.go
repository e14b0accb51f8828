package importer

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// ReadingsKind says what a readings file holds.
type ReadingsKind uint8

// Readings kinds, named by the file's header.
const (
	// IntervalReadings is 15-minute interval energy: meter,start,kwh_in[,kwh_out].
	IntervalReadings ReadingsKind = iota + 1
	// RegisterReadings is cumulative register readings:
	// meter,time,register_in_kwh[,register_out_kwh].
	RegisterReadings
)

// String returns "intervals" or "registers".
func (k ReadingsKind) String() string {
	switch k {
	case IntervalReadings:
		return "intervals"
	case RegisterReadings:
		return "registers"
	}
	return "unknown"
}

func (k ReadingsKind) file() string {
	if k == RegisterReadings {
		return "a file of register readings"
	}
	return "a file of interval energy"
}

// SeriesKey names one channel of one meter within a readings file.
type SeriesKey struct {
	Meter   string
	Channel store.Channel
}

// Readings is a parsed readings file. Values are sorted by time per meter
// and channel, one per interval (or instant).
type Readings struct {
	File string
	Kind ReadingsKind
	// Rows is the number of data rows read.
	Rows int
	// Intervals holds interval energy per meter and channel (IntervalReadings).
	Intervals map[SeriesKey][]store.Value
	// Registers holds register readings per meter (RegisterReadings).
	Registers map[string][]store.Register

	// The file's line of each value, parallel to Intervals and Registers:
	// a slice per series costs a few bytes per row where a map would cost
	// a hundred, and a year of a building is millions of rows.
	intervalLines map[SeriesKey][]int32
	registerLines map[string][]int32
}

// Series returns the interval series' keys sorted by meter, then channel.
func (r *Readings) Series() []SeriesKey {
	keys := make([]SeriesKey, 0, len(r.Intervals))
	for k := range r.Intervals {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b SeriesKey) int {
		if c := strings.Compare(a.Meter, b.Meter); c != 0 {
			return c
		}
		return int(a.Channel) - int(b.Channel)
	})
	return keys
}

// RegisterMeters returns the meters with register readings, sorted.
func (r *Readings) RegisterMeters() []string {
	ms := make([]string, 0, len(r.Registers))
	for m := range r.Registers {
		ms = append(ms, m)
	}
	slices.Sort(ms)
	return ms
}

// IntervalLine returns the line (row) of the file that gave meter's value on
// channel ch for slot, or 0.
func (r *Readings) IntervalLine(meter string, ch store.Channel, slot core.Slot) int {
	k := SeriesKey{meter, ch}
	vals := r.Intervals[k]
	i, ok := slices.BinarySearchFunc(vals, slot, func(v store.Value, s core.Slot) int { return cmpInt(int64(v.Slot), int64(s)) })
	if !ok {
		return 0
	}
	return int(r.intervalLines[k][i])
}

func cmpInt(a, b int64) int { return cmp.Compare(a, b) }

// RegisterLine returns the line (row) of the file that gave meter's reading
// at t, or 0.
func (r *Readings) RegisterLine(meter string, t time.Time) int {
	regs := r.Registers[meter]
	i, ok := slices.BinarySearchFunc(regs, t, func(r store.Register, t time.Time) int { return r.Time.Compare(t) })
	if !ok {
		return 0
	}
	return int(r.registerLines[meter][i])
}

// Column names of readings files.
const (
	colMeter       = "meter"
	colStart       = "start"
	colKWhIn       = "kwh_in"
	colKWhOut      = "kwh_out"
	colTime        = "time"
	colRegisterIn  = "register_in_kwh"
	colRegisterOut = "register_out_kwh"
)

var (
	intervalHeader = []string{colMeter, colStart, colKWhIn, colKWhOut}
	registerHeader = []string{colMeter, colTime, colRegisterIn, colRegisterOut}
)

// ReadReadingsFile parses the readings file at path: XLSX by its extension
// (.xlsx), CSV otherwise. Errors name the file by path as given. site, if
// not nil, is the site whose meters the file must name.
func ReadReadingsFile(path string, site *core.Site) (*Readings, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if strings.EqualFold(filepath.Ext(path), ".xlsx") {
		return ParseReadingsXLSX(path, f, site)
	}
	return ParseReadingsCSV(path, f, site)
}

// ParseReadingsCSV parses a readings CSV file (docs/formats.md) named name.
// The delimiter is a comma, or a semicolon if the header uses semicolons.
// When site is not nil every meter must be one of the site's. Bad input is
// returned as one *Error naming the line and column.
func ParseReadingsCSV(name string, r io.Reader, site *core.Site) (*Readings, error) {
	return parseReadings(name, r, site, false)
}

// parseReadings streams the rows of a readings file into Readings: the
// rows are not kept, only the values.
func parseReadings(name string, r io.Reader, site *core.Site, xlsx bool) (*Readings, error) {
	p := &readingsParser{
		tableFile: tableFile{file: name, xlsx: xlsx},
		rd:        &Readings{File: name},
		site:      site, seen: map[string]bool{},
	}
	if err := p.eachRow(r, true, p.row); err != nil {
		return nil, err
	}
	return p.finish()
}

// readingsParser turns rows of cells into Readings.
type readingsParser struct {
	tableFile
	rd     *Readings
	site   *core.Site
	header bool
	seen   map[string]bool // meters checked against the site
}

func (p *readingsParser) row(line int, cells []string) error {
	if !p.header {
		if allEmpty(cells) {
			return nil
		}
		return p.readHeader(line, cells)
	}
	if allEmpty(cells) {
		return nil
	}
	if err := p.extra(line, cells); err != nil {
		return err
	}
	p.rd.Rows++
	get := func(name string) (string, int) { return p.cell(cells, name) }
	meter, mc := get(colMeter)
	if meter == "" {
		return p.cellErr(line, mc, "expected a meter id, got an empty cell")
	}
	if !p.seen[meter] {
		if p.site != nil && p.site.Meter(meter) == nil {
			return p.cellErr(line, mc, "unknown meter %q: site %s has %s", meter, p.site.ID, meterList(p.site))
		}
		p.seen[meter] = true
	}
	if p.rd.Kind == IntervalReadings {
		return p.intervalRow(line, meter, get)
	}
	return p.registerRow(line, meter, get)
}

func meterList(s *core.Site) string {
	if len(s.Meters) == 0 {
		return "no meters"
	}
	ids := make([]string, len(s.Meters))
	for i, m := range s.Meters {
		ids[i] = m.ID
	}
	return strings.Join(ids, ", ")
}

func (p *readingsParser) readHeader(line int, cells []string) error {
	p.setHeader(cells)
	cols := p.cols
	switch {
	case slices.Contains(cols, colStart) || slices.Contains(cols, colKWhIn) || slices.Contains(cols, colKWhOut):
		p.rd.Kind = IntervalReadings
		p.rd.Intervals = map[SeriesKey][]store.Value{}
		p.rd.intervalLines = map[SeriesKey][]int32{}
	case slices.Contains(cols, colTime) || slices.Contains(cols, colRegisterIn) || slices.Contains(cols, colRegisterOut):
		p.rd.Kind = RegisterReadings
		p.rd.Registers = map[string][]store.Register{}
		p.rd.registerLines = map[string][]int32{}
	default:
		return &Error{File: p.rd.File, Line: line, Element: "header",
			Msg: fmt.Sprintf("expected the header meter,start,kwh_in[,kwh_out] or meter,time,register_in_kwh[,register_out_kwh], got %q", strings.Join(cells, ","))}
	}
	allowed := intervalHeader
	if p.rd.Kind == RegisterReadings {
		allowed = registerHeader
	}
	if err := p.checkColumns(line, p.rd.Kind.file(), allowed, false); err != nil {
		return err
	}
	for _, need := range allowed[:3] {
		if !slices.Contains(cols, need) {
			return &Error{File: p.rd.File, Line: line, Element: "header",
				Msg: fmt.Sprintf("missing column %q: %s has the columns %s (the last optional)", need, p.rd.Kind.file(), strings.Join(allowed, ","))}
		}
	}
	p.header = true
	return nil
}

// parseInstant reads an ISO 8601 / RFC 3339 instant with Z or an offset,
// optionally with fractional seconds; a space may stand for the T.
func parseInstant(s string) (time.Time, bool) {
	if len(s) > 10 && s[10] == ' ' {
		s = s[:10] + "T" + s[11:]
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func (p *readingsParser) instant(line, col int, s string) (time.Time, error) {
	t, ok := parseInstant(s)
	if ok {
		return t, nil
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil && p.xlsx {
		return t, p.cellErr(line, col, "expected an ISO 8601 time with Z or an offset as text, such as 2026-01-31T23:45:00Z, got a spreadsheet date %s (it has no time zone)", s)
	}
	return t, p.cellErr(line, col, "expected an ISO 8601 time with Z or an offset, such as 2026-01-31T23:45:00Z or 2026-02-01T00:45:00+01:00, got %q", s)
}

// energy reads a kWh cell exactly. Workbook cells may carry binary noise from
// a float ("0.30000000000000004"); they are read at 15 significant digits,
// which keeps every value a meter can show.
func (p *readingsParser) energy(line, col int, s, what string) (core.Energy, error) {
	e, err := core.ParseKWh(s)
	if err != nil && p.xlsx {
		if f, ferr := strconv.ParseFloat(s, 64); ferr == nil && !strings.ContainsAny(s, ",") {
			e, err = core.ParseKWh(strconv.FormatFloat(f, 'f', -1, 64))
			if err != nil {
				e, err = core.ParseKWh(strconv.FormatFloat(roundSignificant(f), 'f', -1, 64))
			}
		}
	}
	if err != nil {
		return 0, p.cellErr(line, col, "expected %s, got %q", what, s)
	}
	if e < 0 {
		return 0, p.cellErr(line, col, "expected %s of zero or more, got %s", what, s)
	}
	return e, nil
}

func roundSignificant(f float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
	return v
}

func (p *readingsParser) intervalRow(line int, meter string, get func(string) (string, int)) error {
	start, sc := get(colStart)
	t, err := p.instant(line, sc, start)
	if err != nil {
		return err
	}
	slot, onGrid := core.SlotAt(t)
	if !onGrid {
		return p.cellErr(line, sc, "expected the start of a 15-minute interval (minute 00, 15, 30 or 45), got %q", start)
	}
	found := false
	for _, c := range []struct {
		col string
		ch  store.Channel
	}{{colKWhIn, store.Import}, {colKWhOut, store.Export}} {
		s, i := get(c.col)
		if s == "" {
			continue // no value on this channel in this row
		}
		found = true
		e, err := p.energy(line, i, s, "a decimal number of kWh")
		if err != nil {
			return err
		}
		key := SeriesKey{meter, c.ch}
		p.rd.Intervals[key] = append(p.rd.Intervals[key], store.Value{Slot: slot, Energy: e, Quality: store.Measured})
		p.rd.intervalLines[key] = append(p.rd.intervalLines[key], int32(line))
	}
	if !found {
		_, i := get(colKWhIn)
		return p.cellErr(line, i, "expected a decimal number of kWh, got an empty cell")
	}
	return nil
}

func (p *readingsParser) registerRow(line int, meter string, get func(string) (string, int)) error {
	ts, tc := get(colTime)
	t, err := p.instant(line, tc, ts)
	if err != nil {
		return err
	}
	var reg store.Register
	reg.Time = t
	in, ic := get(colRegisterIn)
	if reg.Import, err = p.energy(line, ic, in, "a register reading in kWh"); err != nil {
		return err
	}
	if slices.Contains(p.cols, colRegisterOut) {
		out, oc := get(colRegisterOut)
		if reg.Export, err = p.energy(line, oc, out, "a register reading in kWh"); err != nil {
			return err
		}
	}
	p.rd.Registers[meter] = append(p.rd.Registers[meter], reg)
	p.rd.registerLines[meter] = append(p.rd.registerLines[meter], int32(line))
	return nil
}

func (p *readingsParser) finish() (*Readings, error) {
	if !p.header {
		return nil, &Error{File: p.rd.File, Line: 1, Element: "header",
			Msg: "the file is empty: expected the header meter,start,kwh_in[,kwh_out] or meter,time,register_in_kwh[,register_out_kwh]"}
	}
	for _, k := range p.rd.Series() {
		vals, lines, err := sortUnique(p.rd.Intervals[k], p.rd.intervalLines[k],
			func(v store.Value) int64 { return int64(v.Slot) },
			func(v, prev store.Value, line, prevLine int) error {
				col := slices.Index(p.cols, colKWhIn)
				if k.Channel == store.Export {
					col = slices.Index(p.cols, colKWhOut)
				}
				return p.cellErr(line, col, "meter %s, interval %s: %s kWh, but line %d has %s kWh",
					k.Meter, v.Slot, core.FormatKWh(v.Energy), prevLine, core.FormatKWh(prev.Energy))
			})
		if err != nil {
			return nil, err
		}
		p.rd.Intervals[k], p.rd.intervalLines[k] = vals, lines
	}
	for _, m := range p.rd.RegisterMeters() {
		regs, lines, err := sortUnique(p.rd.Registers[m], p.rd.registerLines[m],
			func(r store.Register) int64 { return r.Time.UnixNano() },
			func(r, prev store.Register, line, prevLine int) error {
				return p.cellErr(line, slices.Index(p.cols, colRegisterIn), "meter %s at %s: line %d has a different reading (%s/%s kWh)",
					m, r.Time.Format(time.RFC3339Nano), prevLine, core.FormatKWh(prev.Import), core.FormatKWh(prev.Export))
			})
		if err != nil {
			return nil, err
		}
		p.rd.Registers[m], p.rd.registerLines[m] = regs, lines
	}
	return p.rd, nil
}

// sortUnique sorts vals (and their lines) by key, keeping file order among
// equal keys, and drops repeats of an identical value. Two different values
// with one key are an error from conflict, reported at the later line;
// when several conflict, at the earliest such line.
func sortUnique[T comparable](vals []T, lines []int32, key func(T) int64, conflict func(v, prev T, line, prevLine int) error) ([]T, []int32, error) {
	if strictlySorted(vals, key) {
		return vals, lines, nil // the usual case: a file in time order
	}
	idx := make([]int, len(vals))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpInt(key(vals[a]), key(vals[b])) })
	outV := make([]T, 0, len(vals))
	outL := make([]int32, 0, len(vals))
	var bad error
	badLine := int32(0)
	for n, i := range idx {
		if n > 0 && key(vals[i]) == key(outV[len(outV)-1]) {
			prev := outV[len(outV)-1]
			if prev != vals[i] {
				// The stable sort keeps file order: prev came first.
				if bad == nil || lines[i] < badLine {
					bad, badLine = conflict(vals[i], prev, int(lines[i]), int(outL[len(outL)-1])), lines[i]
				}
			}
			continue
		}
		outV = append(outV, vals[i])
		outL = append(outL, lines[i])
	}
	if bad != nil {
		return nil, nil, bad
	}
	return outV, outL, nil
}

func strictlySorted[T any](vals []T, key func(T) int64) bool {
	for i := 1; i < len(vals); i++ {
		if key(vals[i-1]) >= key(vals[i]) {
			return false
		}
	}
	return true
}
