package importer

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// ProductActiveEnergy is the ebIX product code of active energy (kWh), the
// only product that SDAT-CH import stores. LEG deliveries add channels of
// their own (the community and grid shares of a point) under VSE product
// codes; those are counted as skipped.
const ProductActiveEnergy = "8716867000030"

// SDATDocument is a parsed SDAT-CH ValidatedMeteredData document (any
// version: _12, _13, _14, _16 ...): the grid operator's 15-minute energy per
// metering point.
type SDATDocument struct {
	File string
	// Root is the root element's local name ("ValidatedMeteredData_12").
	Root string
	// DocumentID and Creation come from the header's InstanceDocument. A
	// later Creation for the same metering point and period is a corrected
	// delivery.
	DocumentID string
	Creation   time.Time
	// Blocks are the document's MeteringData elements in file order.
	Blocks []SDATBlock
}

// SDATBlock is one MeteringData element: the observations of one metering
// point, direction and product.
type SDATBlock struct {
	// Line is the line of the MeteringData element; Index its 1-based
	// position among the document's MeteringData elements.
	Line, Index int
	DocumentID  string
	// MeteringPoint is the VSENationalID; Production is true for a
	// ProductionMeteringPoint (energy delivered: production, feed-in), false
	// for a ConsumptionMeteringPoint (energy drawn).
	MeteringPoint string
	Production    bool
	// Product is the product code; ProductActiveEnergy where the block
	// names none.
	Product string
	// Start and End bound the block's interval (UTC).
	Start, End time.Time
	// Observations in file order.
	Observations []SDATObservation
}

// Channel returns the store channel of the block's direction: Import for a
// consumption point (a grid meter's supply from the utility), Export for a
// production point (production, feed-in).
func (b *SDATBlock) Channel() store.Channel {
	if b.Production {
		return store.Export
	}
	return store.Import
}

// Slots returns the number of 15-minute intervals of the block's interval.
func (b *SDATBlock) Slots() int { return int(b.End.Sub(b.Start) / core.SlotDuration) }

// SDATObservation is one Observation: the energy of the interval at
// Sequence (1-based) from the block's start.
type SDATObservation struct {
	Line     int
	Sequence int
	Slot     core.Slot
	Energy   core.Energy
	// Condition is the observation's condition code, if any: the value is
	// not a plain measurement (a substitute or provisional value) and is
	// stored as estimated.
	Condition string
}

// Quality returns the store quality of o: Estimated with a condition code,
// Measured otherwise.
func (o SDATObservation) Quality() store.Quality {
	if o.Condition != "" {
		return store.Estimated
	}
	return store.Measured
}

// ReadSDATFile parses the SDAT-CH document at path; errors name the file by
// path as given.
func ReadSDATFile(path string) (*SDATDocument, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseSDAT(path, f)
}

// ParseSDAT parses an SDAT-CH ValidatedMeteredData document named name with
// a streaming decoder. Elements are matched by local name, whatever their
// namespace prefix; elements it does not use are skipped. Every problem is
// one *Error with the line (and column) of the offending element, named by
// its path ("MeteringData[1]/Observation[17]/Volume").
func ParseSDAT(name string, r io.Reader) (*SDATDocument, error) {
	p := &sdatParser{doc: &SDATDocument{File: name}}
	p.dec = xml.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	p.dec.CharsetReader = sdatCharset
	if err := p.run(); err != nil {
		return nil, err
	}
	return p.doc, nil
}

// sdatCharset lets documents declared as ISO-8859-1 (as some operators'
// systems write them) through; everything else must be UTF-8.
func sdatCharset(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "windows-1252", "cp1252":
		return &latin1Reader{r: bufio.NewReader(in)}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q: expected UTF-8 or ISO-8859-1", label)
}

// latin1Reader decodes ISO-8859-1 to UTF-8. (Windows-1252 differs only in
// 0x80-0x9F, which do not occur in ids, times and numbers.)
type latin1Reader struct {
	r   *bufio.Reader
	buf []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	for len(l.buf) == 0 {
		c, err := l.r.ReadByte()
		if err != nil {
			return 0, err
		}
		l.buf = utf8.AppendRune(l.buf, rune(c))
	}
	n := copy(p, l.buf)
	l.buf = l.buf[n:]
	return n, nil
}

type sdatParser struct {
	doc *SDATDocument
	dec *xml.Decoder
	// stack holds the local names of the open elements, lines their lines.
	stack []string
	lines []int
	cols  []int
	text  []byte
	// blk and obs are the MeteringData and Observation being read.
	blk      *SDATBlock
	obs      *SDATObservation
	obsIndex int
	seen     map[int]int // sequence → line, in the current block
	// Raw texts of the current block, checked at its end.
	start, end, resolution, resUnit, unit string
	startLine, endLine, resLine, unitLine int
	hasVolume, headerDone                 bool
}

// path names the element at depth i the way errors do: the parts below the
// root, with MeteringData and Observation numbered.
func (p *sdatParser) path(depth int) string {
	var b strings.Builder
	for i := 1; i <= depth && i < len(p.stack); i++ {
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(p.stack[i])
		switch {
		case p.stack[i] == "MeteringData" && i == 1 && p.blk != nil:
			fmt.Fprintf(&b, "[%d]", p.blk.Index)
		case p.stack[i] == "Observation" && p.obs != nil:
			fmt.Fprintf(&b, "[%d]", p.obsIndex)
		}
	}
	if b.Len() == 0 && len(p.stack) > 0 {
		return p.stack[0]
	}
	return b.String()
}

// fail reports a problem with the innermost open element.
func (p *sdatParser) fail(format string, args ...any) error {
	d := len(p.stack) - 1
	return p.failAt(d, format, args...)
}

func (p *sdatParser) failAt(depth int, format string, args ...any) error {
	e := &Error{File: p.doc.File, Msg: fmt.Sprintf(format, args...)}
	if depth >= 0 && depth < len(p.stack) {
		e.Line, e.Column, e.Element = p.lines[depth], p.cols[depth], p.path(depth)
	}
	return e
}

// failLine reports a problem with an element that has been closed.
func (p *sdatParser) failLine(line int, elem, format string, args ...any) error {
	return &Error{File: p.doc.File, Line: line, Element: elem, Msg: fmt.Sprintf(format, args...)}
}

func (p *sdatParser) run() error {
	for {
		line, col := p.dec.InputPos()
		// RawToken skips the namespace translation zevdesk has no use for
		// (elements are matched by local name); the parser checks that end
		// tags match itself.
		tok, err := p.dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return &Error{File: p.doc.File, Line: se.Line, Element: p.path(len(p.stack) - 1),
					Msg: "malformed XML: " + se.Msg, Err: err}
			}
			return &Error{File: p.doc.File, Line: line, Msg: "reading the XML: " + err.Error(), Err: err}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			// line, col is where the tag begins: whitespace before it was
			// a token of its own.
			p.stack = append(p.stack, t.Name.Local)
			p.lines = append(p.lines, line)
			p.cols = append(p.cols, col)
			p.text = p.text[:0]
			if err := p.startElement(); err != nil {
				return err
			}
		case xml.CharData:
			p.text = append(p.text, t...)
		case xml.EndElement:
			if len(p.stack) == 0 || t.Name.Local != p.stack[len(p.stack)-1] {
				open := ""
				if len(p.stack) > 0 {
					open = p.stack[len(p.stack)-1]
				}
				return &Error{File: p.doc.File, Line: line, Element: p.path(len(p.stack) - 1),
					Msg: fmt.Sprintf("malformed XML: element <%s> closed by </%s>", open, t.Name.Local)}
			}
			if err := p.endElement(strings.TrimSpace(string(p.text))); err != nil {
				return err
			}
			p.text = p.text[:0]
			p.stack = p.stack[:len(p.stack)-1]
			p.lines = p.lines[:len(p.lines)-1]
			p.cols = p.cols[:len(p.cols)-1]
		}
	}
	if len(p.stack) > 0 {
		line, _ := p.dec.InputPos()
		return &Error{File: p.doc.File, Line: line, Element: p.path(len(p.stack) - 1),
			Msg: fmt.Sprintf("malformed XML: unexpected end of file: <%s> is not closed", p.stack[len(p.stack)-1])}
	}
	if p.doc.Root == "" {
		return &Error{File: p.doc.File, Line: 1, Msg: "the file is empty: expected an SDAT-CH document (ValidatedMeteredData)"}
	}
	return nil
}

// in reports whether the open elements end with names (the innermost last).
func (p *sdatParser) in(names ...string) bool {
	if len(p.stack) < len(names) {
		return false
	}
	off := len(p.stack) - len(names)
	for i, n := range names {
		if p.stack[off+i] != n {
			return false
		}
	}
	return true
}

func (p *sdatParser) startElement() error {
	depth := len(p.stack) - 1
	name := p.stack[depth]
	switch {
	case depth == 0:
		if !strings.HasPrefix(name, "ValidatedMeteredData_") {
			return p.fail("expected an SDAT-CH document with the root element ValidatedMeteredData_NN, got <%s>", name)
		}
		p.doc.Root = name
	case depth == 1 && name == "MeteringData":
		if p.doc.Creation.IsZero() {
			return p.fail("MeteringData before the header's InstanceDocument/Creation: expected the document's creation time first")
		}
		p.doc.Blocks = append(p.doc.Blocks, SDATBlock{Line: p.lines[depth], Index: len(p.doc.Blocks) + 1})
		p.blk = &p.doc.Blocks[len(p.doc.Blocks)-1]
		p.obsIndex = 0
		p.seen = map[int]int{}
		p.start, p.end, p.resolution, p.resUnit, p.unit = "", "", "", "", ""
		p.startLine, p.endLine, p.resLine, p.unitLine = 0, 0, 0, 0
		p.headerDone = false
	case p.blk != nil && depth == 2 && name == "Observation":
		if err := p.blockHeader(); err != nil {
			return err
		}
		p.obsIndex++
		p.obs = &SDATObservation{Line: p.lines[depth]}
		p.hasVolume = false
	}
	return nil
}

func (p *sdatParser) endElement(text string) error {
	depth := len(p.stack) - 1
	name := p.stack[depth]
	switch {
	case p.blk == nil:
		switch {
		case p.in("InstanceDocument", "DocumentID") && depth == 3:
			p.doc.DocumentID = text
		case p.in("InstanceDocument", "Creation") && depth == 3:
			t, ok := sdatTime(text)
			if !ok {
				return p.fail("expected the creation time as ISO 8601 with Z or an offset, such as 2019-03-13T08:31:00Z, got %q", text)
			}
			p.doc.Creation = t
		}
	case p.obs != nil:
		return p.observationEnd(depth, name, text)
	case depth == 2 && name == "DocumentID":
		p.blk.DocumentID = text
	case p.in("MeteringData", "Interval", "StartDateTime"):
		p.start, p.startLine = text, p.lines[depth]
	case p.in("MeteringData", "Interval", "EndDateTime"):
		p.end, p.endLine = text, p.lines[depth]
	case p.in("MeteringData", "Resolution", "Resolution"):
		p.resolution, p.resLine = text, p.lines[depth]
	case p.in("MeteringData", "Resolution", "Unit"):
		p.resUnit = text
	case p.in("ConsumptionMeteringPoint", "VSENationalID") || p.in("ProductionMeteringPoint", "VSENationalID"):
		if p.blk.MeteringPoint != "" {
			return p.fail("a second metering point in one MeteringData: expected one ConsumptionMeteringPoint or ProductionMeteringPoint")
		}
		if text == "" {
			return p.fail("expected the metering point id, got an empty element")
		}
		p.blk.MeteringPoint = text
		p.blk.Production = p.stack[depth-1] == "ProductionMeteringPoint"
	case depth >= 3 && p.stack[2] == "Product" && p.stack[3] == "ID":
		// The product id is the ID's text (_12 .. _14) or that of its one
		// child (ebIXCode, VSENationalCode in _16).
		if text != "" {
			p.blk.Product = text
		}
	case p.in("MeteringData", "Product", "MeasureUnit"):
		p.unit, p.unitLine = text, p.lines[depth]
	case depth == 1 && name == "MeteringData":
		return p.blockEnd()
	}
	return nil
}

// blockHeader checks the block's interval and resolution before its first
// observation.
func (p *sdatParser) blockHeader() error {
	b := p.blk
	if p.headerDone {
		return nil
	}
	p.headerDone = true
	elem := p.blockPath()
	if p.start == "" {
		return p.failLine(b.Line, elem, "missing Interval/StartDateTime: expected the start of the delivered period")
	}
	if p.end == "" {
		return p.failLine(b.Line, elem, "missing Interval/EndDateTime: expected the end of the delivered period")
	}
	var ok bool
	if b.Start, ok = sdatTime(p.start); !ok {
		return p.failLine(p.startLine, elem+"/Interval/StartDateTime", "expected a time in ISO 8601 with Z or an offset, such as 2019-03-11T23:00:00Z, got %q", p.start)
	}
	if _, on := core.SlotAt(b.Start); !on {
		return p.failLine(p.startLine, elem+"/Interval/StartDateTime", "expected the start of a 15-minute interval, got %s", p.start)
	}
	if b.End, ok = sdatTime(p.end); !ok {
		return p.failLine(p.endLine, elem+"/Interval/EndDateTime", "expected a time in ISO 8601 with Z or an offset, such as 2019-03-12T23:00:00Z, got %q", p.end)
	}
	if _, on := core.SlotAt(b.End); !on || !b.End.After(b.Start) {
		return p.failLine(p.endLine, elem+"/Interval/EndDateTime", "expected a 15-minute boundary after the start %s, got %s", p.start, p.end)
	}
	if !sdatQuarterHour(p.resolution, p.resUnit) {
		got := strings.TrimSpace(p.resolution + " " + p.resUnit)
		if got == "" {
			return p.failLine(b.Line, elem, "missing Resolution: expected 15 MIN")
		}
		return p.failLine(p.resLine, elem+"/Resolution/Resolution", "expected a resolution of 15 minutes (15 MIN or PT15M), got %s", got)
	}
	if b.MeteringPoint == "" {
		return p.failLine(b.Line, elem, "missing ConsumptionMeteringPoint or ProductionMeteringPoint: expected the metering point before the observations")
	}
	if b.Product == "" {
		b.Product = ProductActiveEnergy
	}
	if b.Product == ProductActiveEnergy && p.unit != "" && !strings.EqualFold(p.unit, "KWH") {
		return p.failLine(p.unitLine, elem+"/Product/MeasureUnit", "expected KWH, got %q", p.unit)
	}
	return nil
}

func (p *sdatParser) blockPath() string { return fmt.Sprintf("MeteringData[%d]", p.blk.Index) }

// sdatQuarterHour reports whether a Resolution says 15 minutes.
func sdatQuarterHour(res, unit string) bool {
	switch strings.ToUpper(res) {
	case "PT15M":
		return unit == "" || strings.EqualFold(unit, "MIN")
	case "15":
		return strings.EqualFold(unit, "MIN")
	}
	return false
}

func (p *sdatParser) observationEnd(depth int, name, text string) error {
	o := p.obs
	switch {
	case p.in("Observation", "Position", "Sequence"):
		n, err := strconv.Atoi(text)
		if err != nil || n < 1 {
			return p.fail("expected a position of 1 or more, got %q", text)
		}
		if n > p.blk.Slots() {
			return p.fail("position %d lies after the interval %s – %s, which has %d intervals of 15 minutes",
				n, p.blk.Start.Format(time.RFC3339), p.blk.End.Format(time.RFC3339), p.blk.Slots())
		}
		if prev, dup := p.seen[n]; dup {
			return p.fail("position %d appears twice: also at line %d", n, prev)
		}
		p.seen[n] = p.lines[depth]
		o.Sequence = n
		o.Slot = core.SlotOf(p.blk.Start) + core.Slot(n-1)
	case p.in("Observation", "Volume") || p.in("Observation", "Quantity"):
		e, err := core.ParseKWh(text)
		if err != nil || e < 0 {
			return p.fail("expected a decimal number of kWh of zero or more with at most 6 decimals, such as 2.700, got %q", text)
		}
		o.Energy, p.hasVolume = e, true
	case p.in("Observation", "Condition"):
		o.Condition = text
	case depth == 2 && name == "Observation":
		if o.Sequence == 0 {
			return p.fail("missing Position/Sequence: expected the observation's position")
		}
		if !p.hasVolume {
			return p.fail("missing Volume: expected the observation's energy in kWh")
		}
		p.blk.Observations = append(p.blk.Observations, *o)
		p.obs = nil
	}
	return nil
}

// blockEnd checks a block without observations, which still needs a point.
func (p *sdatParser) blockEnd() error {
	if len(p.blk.Observations) == 0 {
		if err := p.blockHeader(); err != nil {
			return err
		}
	}
	p.blk = nil
	return nil
}

// sdatTime parses an xs:dateTime with Z or an offset.
func sdatTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}
