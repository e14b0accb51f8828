package importer

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
)

// ESLExport is a parsed ESL register export (ESLBillingData, the
// "EdmRegisterWertExport" files of the grid operator's billing system): the
// meters' cumulative registers at the end of each billing period.
type ESLExport struct {
	File string
	// Created is the header's creation time as written (local, no zone).
	Created string
	Meters  []ESLMeter
}

// ESLMeter is one Meter element.
type ESLMeter struct {
	Line      int
	FactoryNo string
	// Readings are the electricity register readings, in file order.
	Readings []ESLReading
	// Skipped counts value rows zevdesk does not use: demand (x.6.x),
	// reactive energy (5.8 .. 8.8), other media (water, gas, heat).
	Skipped int
}

// ESLReading is one TimePeriod: the registers at its end.
type ESLReading struct {
	Line int
	// End is the period's end as written: a local time without a zone
	// ("2019-10-01T00:00:00") or with one.
	End string
	// Import is the active energy drawn (OBIS 1.8.0, else the sum of the
	// tariff registers 1.8.1, 1.8.2, ...), Export the energy delivered
	// (2.8.x), in kWh; HasExport is false for a meter without export
	// registers.
	Import, Export       core.Energy
	HasImport, HasExport bool
}

// IsESL reports whether a document's first bytes are an ESL register export
// rather than an SDAT-CH document.
func IsESL(head []byte) bool { return bytes.Contains(head, []byte("<ESLBillingData")) }

// ReadESLFile parses the ESL register export at path.
func ReadESLFile(path string) (*ESLExport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseESL(path, f)
}

// eslTotals sums one reading's registers by OBIS code while it is read.
type eslTotals struct {
	total, tariffs [2]core.Energy
	hasTotal, has  [2]bool
}

// ParseESL parses an ESL register export named name. Problems are one
// *Error naming the line and the element.
func ParseESL(name string, r io.Reader) (*ESLExport, error) {
	exp := &ESLExport{File: name}
	dec := xml.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	dec.CharsetReader = sdatCharset
	fail := func(line int, elem, format string, args ...any) error {
		return &Error{File: name, Line: line, Element: elem, Msg: fmt.Sprintf(format, args...)}
	}
	var m *ESLMeter
	var rd *ESLReading
	var tot eslTotals
	depth := 0
	for {
		line, _ := dec.InputPos()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &Error{File: name, Line: se.Line, Msg: "malformed XML: " + se.Msg, Err: err}
			}
			return nil, &Error{File: name, Line: line, Msg: "reading the XML: " + err.Error(), Err: err}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			attr := func(k string) string {
				for _, a := range t.Attr {
					if a.Name.Local == k {
						return strings.TrimSpace(a.Value)
					}
				}
				return ""
			}
			switch {
			case depth == 1:
				if t.Name.Local != "ESLBillingData" {
					return nil, fail(line, t.Name.Local, "expected an ESL register export with the root element ESLBillingData, got <%s>", t.Name.Local)
				}
			case depth == 2 && t.Name.Local == "Header":
				exp.Created = attr("created")
			case depth == 2 && t.Name.Local == "Meter":
				exp.Meters = append(exp.Meters, ESLMeter{Line: line, FactoryNo: attr("factoryNo")})
				m = &exp.Meters[len(exp.Meters)-1]
				if m.FactoryNo == "" {
					return nil, fail(line, "Meter", "expected the attribute factoryNo (the meter's number)")
				}
			case depth == 3 && m != nil && t.Name.Local == "TimePeriod":
				rd = &ESLReading{Line: line, End: attr("end")}
				tot = eslTotals{}
				if rd.End == "" {
					return nil, fail(line, "TimePeriod", "expected the attribute end (the time of the readings)")
				}
			case depth == 4 && rd != nil && t.Name.Local == "ValueRow":
				obis, val := attr("obis"), attr("value")
				ch, tariff, ok := eslRegister(obis)
				if !ok {
					m.Skipped++
					continue
				}
				e, err := core.ParseKWh(val)
				if err != nil || e < 0 {
					return nil, fail(line, "ValueRow "+obis, "expected a register reading in kWh (a decimal with a point, zero or more), got %q", val)
				}
				if tariff {
					tot.tariffs[ch] += e
					tot.has[ch] = true
				} else {
					tot.total[ch] = e
					tot.hasTotal[ch] = true
				}
			}
		case xml.EndElement:
			if depth == 3 && rd != nil && t.Name.Local == "TimePeriod" {
				for ch := range 2 {
					e, ok := tot.tariffs[ch], tot.has[ch]
					if tot.hasTotal[ch] {
						e, ok = tot.total[ch], true
					}
					if ch == 0 {
						rd.Import, rd.HasImport = e, ok
					} else {
						rd.Export, rd.HasExport = e, ok
					}
				}
				if rd.HasImport || rd.HasExport {
					m.Readings = append(m.Readings, *rd)
				}
				rd = nil
			}
			if depth == 2 && t.Name.Local == "Meter" {
				m = nil
			}
			depth--
		}
	}
	if depth == 0 && len(exp.Meters) == 0 && exp.Created == "" {
		return nil, &Error{File: name, Line: 1, Msg: "expected an ESL register export (ESLBillingData) with at least one Meter"}
	}
	return exp, nil
}

// eslRegister reads an electricity energy register's OBIS code
// ("1-1:1.8.1"): its channel (0 import, 1 export) and whether it is a tariff
// register (E > 0) rather than the total.
func eslRegister(obis string) (ch int, tariff, ok bool) {
	medium, rest, found := strings.Cut(obis, ":")
	if !found || !strings.HasPrefix(medium, "1-") {
		return 0, false, false // not electricity
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 || parts[1] != "8" || (parts[0] != "1" && parts[0] != "2") {
		return 0, false, false
	}
	if parts[0] == "2" {
		ch = 1
	}
	return ch, parts[2] != "0", true
}

// ESLDelivery is an ESL export mapped onto a site's meters.
type ESLDelivery struct {
	Export *ESLExport
	// Registers holds the readings per meter id, in time order; Meters
	// lists the ids in file order.
	Registers map[string][]store.Register
	Meters    []string
	// Skipped counts meters without electricity registers.
	Skipped int
	lines   map[string]map[time.Time]int
}

// ResolveESL maps an ESL export onto meters of site: the meter whose
// metering_point or id is the factory number. meter, if not empty, takes
// the one meter of the file with electricity registers. Times without a
// zone are the site's local time.
func ResolveESL(exp *ESLExport, site *core.Site, meter string) (*ESLDelivery, error) {
	if meter != "" && site.Meter(meter) == nil {
		return nil, fmt.Errorf("--meter %s: no such meter: site %s has %s", meter, site.ID, meterList(site))
	}
	loc := site.Location()
	d := &ESLDelivery{Export: exp, Registers: map[string][]store.Register{}, lines: map[string]map[time.Time]int{}}
	var electric []*ESLMeter
	for i := range exp.Meters {
		if len(exp.Meters[i].Readings) == 0 {
			d.Skipped++
			continue
		}
		electric = append(electric, &exp.Meters[i])
	}
	if meter != "" && len(electric) > 1 {
		return nil, &Error{File: exp.File, Line: electric[1].Line, Element: "Meter " + electric[1].FactoryNo,
			Msg: fmt.Sprintf("--meter %s takes one meter, but the file has the electricity meters %s and %s", meter, electric[0].FactoryNo, electric[1].FactoryNo)}
	}
	for _, m := range electric {
		id := meter
		if id == "" {
			var err error
			if id, err = sdatMeter(site, m.FactoryNo); err != nil {
				return nil, &Error{File: exp.File, Line: m.Line, Element: "Meter " + m.FactoryNo,
					Msg: strings.Replace(err.Error(), "unknown metering point", "unknown meter number", 1)}
			}
		}
		if _, dup := d.Registers[id]; dup {
			return nil, &Error{File: exp.File, Line: m.Line, Element: "Meter " + m.FactoryNo, Msg: fmt.Sprintf("a second Meter for meter %s", id)}
		}
		d.Meters = append(d.Meters, id)
		d.lines[id] = map[time.Time]int{}
		hasExport := m.Readings[0].HasExport
		for _, r := range m.Readings {
			t, err := eslTime(r.End, loc)
			if err != nil {
				return nil, &Error{File: exp.File, Line: r.Line, Element: "TimePeriod end", Msg: err.Error()}
			}
			if r.HasExport != hasExport || !r.HasImport {
				return nil, &Error{File: exp.File, Line: r.Line, Element: "TimePeriod " + r.End,
					Msg: "expected the same energy registers (1.8.x and 2.8.x) in every period of the meter"}
			}
			d.Registers[id] = append(d.Registers[id], store.Register{Time: t, Import: r.Import, Export: r.Export})
			d.lines[id][t] = r.Line
		}
		slices.SortFunc(d.Registers[id], func(a, b store.Register) int { return a.Time.Compare(b.Time) })
	}
	return d, nil
}

// eslTime reads a period end: local time in loc, or with a zone.
func eslTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05", s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("expected a time such as 2019-10-01T00:00:00 (local) or with Z or an offset, got %q", s)
	}
	return t.UTC(), nil
}

// ESLReport says what importing an ESL register export did.
type ESLReport struct {
	File string
	// Readings is the number of register readings; Written, Unchanged and
	// Replaced count the interval values derived from them.
	Readings                                int
	Written, Unchanged, Replaced, Estimated int
	// Conflicts are readings that differ from stored ones, and derived
	// energy that differs from stored interval data: the stored values were
	// kept.
	Conflicts []ReadingsConflict
	Flags     []store.Flag
	// Measured counts derived estimates not stored because the interval has
	// a measured value (from an SDAT-CH delivery, a gateway): not a
	// conflict, the measurement is better.
	Measured int
}

// Summary is the one-line result printed per file.
func (r *ESLReport) Summary() string {
	s := fmt.Sprintf("%s: %d register readings, %d values written, %d unchanged, %d replaced, %d estimated, %d conflicts, %d flags",
		r.File, r.Readings, r.Written, r.Unchanged, r.Replaced, r.Estimated, len(r.Conflicts), len(r.Flags))
	if r.Measured > 0 {
		s += fmt.Sprintf("; %d intervals already measured kept", r.Measured)
	}
	return s
}

// ImportESL stores the register readings of d through core/vee in one
// transaction: the readings are kept for invoices, and interval energy is
// derived from them (estimated across a month; it never replaces measured
// interval data, such as an SDAT-CH delivery for the same meter).
func ImportESL(st store.Store, site *core.Site, d *ESLDelivery, opt vee.Options) (*ESLReport, error) {
	if opt.Actor == "" {
		opt.Actor = "import"
	}
	var rep *ESLReport
	err := st.Update(func(tx store.Tx) error {
		rep = &ESLReport{File: d.Export.File}
		for _, id := range d.Meters {
			regs := d.Registers[id]
			rep.Readings += len(regs)
			// Duplicate flags already there, to tell them from the ones
			// this import raises.
			flagged := map[core.Slot]bool{}
			span := [2]core.Slot{core.SlotOf(regs[0].Time) - core.SlotsPerUTCDay*93, core.SlotOf(regs[len(regs)-1].Time) + 1}
			err := tx.ScanFlags(site.ID, span[0], span[1], func(f store.Flag) bool {
				if f.Meter == id && f.Kind == vee.KindDuplicate {
					flagged[f.Slot] = true
				}
				return true
			})
			if err != nil {
				return fmt.Errorf("reading flags: %w", err)
			}
			vr, err := vee.AcceptRegisters(tx, site, id, regs, opt)
			if err != nil {
				return fmt.Errorf("storing readings of meter %s: %w", id, err)
			}
			rep.Written += vr.Written
			rep.Unchanged += vr.Unchanged
			rep.Replaced += vr.Replaced
			rep.Estimated += vr.Estimated
			for _, c := range vr.Conflicts {
				if c.Incoming.Quality == store.Estimated && c.Stored.Quality != store.Estimated {
					// An estimate from monthly readings that differs from a
					// measurement is no duplicate delivery: the measurement
					// stands, and vee's duplicate flag is taken back.
					rep.Measured++
					if !flagged[c.Slot] {
						if err := tx.DeleteFlags(site.ID, id, vee.KindDuplicate, c.Slot, c.Slot+1); err != nil {
							return fmt.Errorf("clearing flags: %w", err)
						}
					}
					continue
				}
				rep.Conflicts = append(rep.Conflicts, ReadingsConflict{Meter: id, Slot: c.Slot, Stored: c.Stored.Energy, Incoming: c.Incoming.Energy,
					Reason: fmt.Sprintf("energy derived from the readings, %s kWh (%s), differs from the stored %s kWh (%s) (kept)",
						core.FormatKWh(c.Incoming.Energy), c.Incoming.Quality, core.FormatKWh(c.Stored.Energy), c.Stored.Quality)})
			}
			for _, c := range vr.RegisterConflicts {
				rep.Conflicts = append(rep.Conflicts, ReadingsConflict{Line: d.lines[id][c.Incoming.Time], Meter: id, Slot: core.SlotOf(c.Incoming.Time),
					Reason: fmt.Sprintf("reading at %s: import %s kWh, export %s kWh differ from the stored %s kWh, %s kWh (kept)",
						c.Incoming.Time.Format(time.RFC3339), core.FormatKWh(c.Incoming.Import), core.FormatKWh(c.Incoming.Export),
						core.FormatKWh(c.Stored.Import), core.FormatKWh(c.Stored.Export))})
			}
			for _, f := range vr.Flags {
				switch f.Kind {
				case vee.KindDuplicate:
					// Reported above, as conflicts.
				case vee.KindGap:
					// Every slot between monthly readings is an estimate:
					// counted in Estimated, not listed one by one.
				default:
					rep.Flags = append(rep.Flags, f)
				}
			}
		}
		if rep.Written == 0 && rep.Replaced == 0 && rep.Estimated == 0 {
			return nil
		}
		return logImport(tx, optNow(opt), opt.Actor, site.ID, "esl.import", rep.Summary())
	})
	if err != nil {
		return nil, fmt.Errorf("importing %s: %w", d.Export.File, err)
	}
	return rep, nil
}
