package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
)

// FileKind is what an import file holds.
type FileKind int

// The kinds of file the importer reads into a site's data.
const (
	FileReadings FileKind = iota // readings CSV or XLSX (interval or register)
	FileSDAT                     // SDAT-CH document (XML)
	FileESL                      // ESL register export (XML)
	FileEV                       // EV charging sessions CSV or XLSX
	FileTenants                  // tenant list CSV or XLSX
)

// String names k as the commands do ("readings", "sdat", ...).
func (k FileKind) String() string {
	switch k {
	case FileSDAT:
		return "sdat"
	case FileESL:
		return "esl"
	case FileEV:
		return "ev"
	case FileTenants:
		return "tenants"
	}
	return "readings"
}

// errHeaderRead stops DetectFileKind's table walk after the header.
var errHeaderRead = errors.New("header read")

// DetectFileKind tells from a file's name and contents what it holds: XML
// is an SDAT-CH document or an ESL export; a table is an EV sessions file
// when it has the column "charger", a tenant list when it has "unit" and
// "name" but no "meter", and readings otherwise (whose parser then names
// what is missing).
func DetectFileKind(name string, data []byte) FileKind {
	head := data[:min(len(data), 4096)]
	if bytes.HasPrefix(bytes.TrimSpace(head), []byte("<")) || strings.EqualFold(filepath.Ext(name), ".xml") {
		if IsESL(head) {
			return FileESL
		}
		return FileSDAT
	}
	t := tableFile{file: name, xlsx: isXLSXName(name)}
	var cols []string
	_ = t.eachRow(bytes.NewReader(data), false, func(_ int, cells []string) error {
		if allEmpty(cells) {
			return nil
		}
		for _, c := range cells {
			cols = append(cols, strings.ToLower(strings.TrimSpace(c)))
		}
		return errHeaderRead
	})
	switch {
	case slices.Contains(cols, "charger"):
		return FileEV
	case slices.Contains(cols, "unit") && slices.Contains(cols, "name") && !slices.Contains(cols, colMeter):
		return FileTenants
	}
	return FileReadings
}

func isXLSXName(name string) bool { return strings.EqualFold(filepath.Ext(name), ".xlsx") }

// Progress is told how far a long import has come: done of total units
// (bytes while a file is read, series while it is stored). It is called
// often enough to drive a progress bar and rarely enough to be cheap: at
// most once per 64 KiB read or per series stored.
type Progress func(done, total int64)

// progressReader reads r, reports the bytes read through fn at most once
// per progressStep, and fails with ctx's error once ctx is done: a parse
// over it ends at its next read.
type progressReader struct {
	ctx         context.Context
	r           io.Reader
	fn          Progress
	done, total int64
	last        int64
}

// progressStep is how many bytes are read between two progress reports.
const progressStep = 64 << 10

func (p *progressReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.r.Read(b)
	p.done += int64(n)
	if p.fn != nil && (p.done-p.last >= progressStep || err == io.EOF) {
		p.last = p.done
		p.fn(p.done, p.total)
	}
	return n, err
}

// Prepared is a file read and checked against a site, not yet stored: what
// the preview shows, and Store stores it.
type Prepared struct {
	Kind FileKind
	File string
	// Rows is the number of data rows (readings, sessions, tenancies) or
	// observations (SDAT), Values the interval values or register readings
	// it gives.
	Rows, Values int
	// Meters are the meters (or chargers) the file gives data for, sorted.
	Meters []string
	// From and To are the first and last instant the file covers (zero for
	// a tenant list).
	From, To time.Time
	// Tenants is what a tenant list would change in the site (a dry run of
	// the merge), nil for other kinds.
	Tenants *TenantsReport

	site  *core.Site
	store func(ctx context.Context, st store.Store, opt vee.Options, fn Progress) (string, error)
	// tenants is a tenant list's rows; replace says whether Store replaces
	// the site's tenancies with them (SetReplace).
	tenants *TenantList
	replace bool
}

// ErrNotTenantList is SetReplace's refusal for a file that is not a tenant
// list.
var ErrNotTenantList = errors.New("only a tenant list can replace the tenancies")

// Replace reports whether Store replaces the site's tenancies with the
// tenant list (SetReplace).
func (p *Prepared) Replace() bool { return p.replace }

// SetReplace chooses how Store applies a tenant list: with replace, the list
// is the site's complete list of tenancies and the stored ones it does not
// name are removed (as `import tenants --replace`); without, the default, it
// adds and updates tenancies only. Tenants then says what Store would do in
// that mode. An error (the merge's own, naming the line) leaves the
// previous mode in place.
func (p *Prepared) SetReplace(replace bool) error {
	if p.Kind != FileTenants || p.tenants == nil {
		return ErrNotTenantList
	}
	_, rep, err := MergeTenants(p.site, p.tenants, replace)
	if err != nil {
		return err
	}
	p.Tenants, p.replace = rep, replace
	return nil
}

// Prepare reads the file name (its contents data) of the given kind and
// checks it against site, storing nothing: the result says what Store would
// store. fn, if set, is told the bytes read; a ctx that is done ends the
// read with its error. Errors are the parsers' own, naming file and line.
func Prepare(ctx context.Context, st store.Store, site *core.Site, kind FileKind, name string, data []byte, fn Progress) (*Prepared, error) {
	r := &progressReader{ctx: ctx, r: bytes.NewReader(data), fn: fn, total: int64(len(data))}
	p := &Prepared{Kind: kind, File: name, site: site}
	xlsx := isXLSXName(name)
	switch kind {
	case FileReadings:
		rd, err := parseReadings(name, r, site, xlsx)
		if err != nil {
			return nil, err
		}
		p.previewReadings(rd)
		p.store = func(ctx context.Context, st store.Store, opt vee.Options, fn Progress) (string, error) {
			rep, err := importReadings(ctx, st, site, rd, opt, fn)
			if err != nil {
				return "", err
			}
			return rep.Summary(), nil
		}
	case FileSDAT:
		doc, err := ParseSDAT(name, r)
		if err != nil {
			return nil, err
		}
		d, err := ResolveSDAT(doc, site, "")
		if err != nil {
			return nil, err
		}
		p.Rows = d.Observations()
		for _, s := range d.Series {
			p.Values += len(s.Values)
			p.addMeter(s.Meter)
			if n := len(s.Values); n > 0 {
				p.span(s.Values[0].Slot.Time(), s.Values[n-1].Slot.End())
			}
		}
		p.store = func(ctx context.Context, st store.Store, opt vee.Options, _ Progress) (string, error) {
			if err := ctx.Err(); err != nil {
				return "", err
			}
			rep, err := ImportSDAT(st, site, d, opt)
			if err != nil {
				return "", err
			}
			return rep.Summary(), nil
		}
	case FileESL:
		exp, err := ParseESL(name, r)
		if err != nil {
			return nil, err
		}
		d, err := ResolveESL(exp, site, "")
		if err != nil {
			return nil, err
		}
		for _, m := range d.Meters {
			regs := d.Registers[m]
			p.Rows += len(regs)
			p.Values += len(regs)
			p.addMeter(m)
			if n := len(regs); n > 0 {
				p.span(regs[0].Time, regs[n-1].Time)
			}
		}
		p.store = func(ctx context.Context, st store.Store, opt vee.Options, _ Progress) (string, error) {
			if err := ctx.Err(); err != nil {
				return "", err
			}
			rep, err := ImportESL(st, site, d, opt)
			if err != nil {
				return "", err
			}
			return rep.Summary(), nil
		}
	case FileEV:
		var cards EVCards
		if err := st.View(func(tx store.Tx) (err error) { cards, err = StoredEVCards(tx, site.ID); return }); err != nil {
			return nil, fmt.Errorf("reading the stored EV cards: %w", err)
		}
		ev, err := ParseEV(name, r, xlsx, site, cards)
		if err != nil {
			return nil, err
		}
		p.Rows, p.Values = len(ev.Sessions), len(ev.Sessions)
		for _, s := range ev.Sessions {
			p.addMeter(s.Meter)
			p.span(s.Start, s.End)
		}
		p.store = func(ctx context.Context, st store.Store, opt vee.Options, _ Progress) (string, error) {
			if err := ctx.Err(); err != nil {
				return "", err
			}
			rep, err := ImportEV(st, site, ev, opt.Actor, optNow(opt))
			if err != nil {
				return "", err
			}
			return rep.Summary(), nil
		}
	case FileTenants:
		tl, err := ParseTenants(name, r, xlsx)
		if err != nil {
			return nil, err
		}
		_, rep, err := MergeTenants(site, tl, false)
		if err != nil {
			return nil, err
		}
		p.Rows, p.Tenants, p.tenants = len(tl.Rows), rep, tl
		p.store = func(ctx context.Context, st store.Store, opt vee.Options, _ Progress) (string, error) {
			if err := ctx.Err(); err != nil {
				return "", err
			}
			rep, err := ImportTenants(st, site.ID, tl, p.replace, opt.Actor, optNow(opt))
			if err != nil {
				return "", err
			}
			return rep.Summary(), nil
		}
	default:
		return nil, fmt.Errorf("importing %s: unknown kind of file %d", name, kind)
	}
	slices.Sort(p.Meters)
	return p, nil
}

// Store stores the prepared file in one transaction and returns the
// one-line summary the import commands print. A ctx done before the
// transaction commits rolls the whole file back: nothing of it is stored.
// fn, if set, is told the series stored so far (readings).
func (p *Prepared) Store(ctx context.Context, st store.Store, opt vee.Options, fn Progress) (string, error) {
	return p.store(ctx, st, opt, fn)
}

func (p *Prepared) addMeter(m string) {
	if !slices.Contains(p.Meters, m) {
		p.Meters = append(p.Meters, m)
	}
}

// span widens [From, To] to cover [from, to].
func (p *Prepared) span(from, to time.Time) {
	if p.From.IsZero() || from.Before(p.From) {
		p.From = from
	}
	if to.After(p.To) {
		p.To = to
	}
}

func (p *Prepared) previewReadings(rd *Readings) {
	p.Rows = rd.Rows
	for _, k := range rd.Series() {
		vals := rd.Intervals[k]
		p.Values += len(vals)
		p.addMeter(k.Meter)
		if n := len(vals); n > 0 {
			p.span(vals[0].Slot.Time(), vals[n-1].Slot.End())
		}
	}
	for _, m := range rd.RegisterMeters() {
		regs := rd.Registers[m]
		p.Values += len(regs)
		p.addMeter(m)
		if n := len(regs); n > 0 {
			p.span(regs[0].Time, regs[n-1].Time)
		}
	}
}

// Summary is the one-line preview the command line prints: "r.csv:
// readings, 96 rows, 96 values for M1, 2026-01-01 00:00 to 2026-01-02 00:00
// (Europe/Zurich); nothing stored".
func (p *Prepared) Summary(loc *time.Location) string {
	s := fmt.Sprintf("%s: %s, ", p.File, p.Kind)
	if t := p.Tenants; t != nil {
		s += fmt.Sprintf("%d tenancies: %d new, %d changed, %d unchanged", t.Rows, t.Added, t.Updated, t.Unchanged)
		if t.Removed > 0 {
			s += fmt.Sprintf(", %d removed", t.Removed)
		}
	} else {
		s += fmt.Sprintf("%d rows, %d values for %s", p.Rows, p.Values, strings.Join(p.Meters, ", "))
	}
	if !p.From.IsZero() {
		const layout = "2006-01-02 15:04"
		s += fmt.Sprintf(", %s to %s (%s)", p.From.In(loc).Format(layout), p.To.In(loc).Format(layout), loc)
	}
	return s + "; nothing stored"
}
