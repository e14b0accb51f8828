package importer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// Columns of a tenant list.
var (
	tenantColumns  = []string{"unit", "name", "from", "to", "language", "reference", "email", "street", "number", "postcode", "town", "country", "advance_chf_month"}
	tenantRequired = []string{"unit", "name", "from"}
)

const tenantWhat = "a tenant list"

// TenantList is a parsed tenant list: one tenancy (occupancy) per row.
type TenantList struct {
	File string
	// Columns are the file's columns; a column the file leaves out keeps
	// the stored value of a tenancy it updates.
	Columns []string
	Rows    []TenantRow
	sh      *sheet
}

// TenantRow is one row of a tenant list.
type TenantRow struct {
	Line      int
	Occupancy core.Occupancy
}

// ReadTenantsFile parses the tenant list at path: XLSX by its extension,
// CSV otherwise.
func ReadTenantsFile(path string) (*TenantList, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseTenants(path, f, strings.EqualFold(filepath.Ext(path), ".xlsx"))
}

// ParseTenants parses a tenant list (docs/formats.md) named name, a CSV file
// or, with xlsx, a workbook's first sheet. Bad input is one *Error naming
// the line and column.
func ParseTenants(name string, r io.Reader, xlsx bool) (*TenantList, error) {
	sh, err := readSheet(name, r, xlsx, tenantWhat, tenantColumns, tenantRequired)
	if err != nil {
		return nil, err
	}
	tl := &TenantList{File: name, Columns: sh.cols, sh: sh}
	first := map[[2]string]int{}
	for _, row := range sh.rows {
		if err := sh.extra(row.line, row.cells); err != nil {
			return nil, err
		}
		o, err := tenantRow(sh, row)
		if err != nil {
			return nil, err
		}
		k := [2]string{o.Unit, o.From.String()}
		if prev, dup := first[k]; dup {
			_, c := sh.get(row, "from")
			return nil, sh.cellErr(row.line, c, "unit %s from %s appears twice: also on line %d", o.Unit, o.From, prev)
		}
		first[k] = row.line
		tl.Rows = append(tl.Rows, TenantRow{Line: row.line, Occupancy: o})
	}
	return tl, nil
}

// emailRE is a plausibility check, not RFC 5322: one @, a dot in the domain.
var emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

func tenantRow(sh *sheet, row sheetRow) (core.Occupancy, error) {
	var o core.Occupancy
	var c int
	o.Unit, c = sh.get(row, "unit")
	if o.Unit == "" {
		return o, sh.cellErr(row.line, c, "expected the unit's id, got an empty cell")
	}
	o.Name, c = sh.get(row, "name")
	if o.Name == "" {
		return o, sh.cellErr(row.line, c, "expected the tenant's name, got an empty cell")
	}
	s, c := sh.get(row, "from")
	if s == "" {
		return o, sh.cellErr(row.line, c, "expected the first day of the tenancy, got an empty cell")
	}
	var err error
	if o.From, err = sh.date(row.line, c, s); err != nil {
		return o, err
	}
	if s, c = sh.get(row, "to"); s != "" {
		if o.To, err = sh.date(row.line, c, s); err != nil {
			return o, err
		}
		if o.To.Before(o.From) {
			return o, sh.cellErr(row.line, c, "the last day %s is before the first day %s", o.To, o.From)
		}
	}
	if s, c = sh.get(row, "language"); s != "" {
		o.Language = strings.ToLower(s)
		if !slices.Contains(core.Languages, o.Language) {
			return o, sh.cellErr(row.line, c, "expected de, fr, it or en, got %q", s)
		}
	}
	o.Reference, _ = sh.get(row, "reference")
	if o.Email, c = sh.get(row, "email"); o.Email != "" && !emailRE.MatchString(o.Email) {
		return o, sh.cellErr(row.line, c, "expected an e-mail address such as anna.muster@example.ch, got %q", o.Email)
	}
	o.Address.Street, _ = sh.get(row, "street")
	o.Address.Number, _ = sh.get(row, "number")
	o.Address.Postcode, _ = sh.get(row, "postcode")
	o.Address.Town, _ = sh.get(row, "town")
	if s, c = sh.get(row, "country"); s != "" {
		o.Address.Country = strings.ToUpper(s)
		if len(s) != 2 || strings.Trim(o.Address.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return o, sh.cellErr(row.line, c, "expected a two-letter country code such as CH, got %q", s)
		}
	}
	if s, c = sh.get(row, "advance_chf_month"); s != "" {
		v, err := sh.decimal(row.line, c, s, "an amount in CHF per month such as 85.00 (at most 2 decimals, zero or more)",
			func(s string) (int64, error) { r, err := core.ParseCHF(s); return int64(r), err })
		if err != nil {
			return o, err
		}
		o.AdvanceMonth = core.Rappen(v)
	}
	return o, nil
}

// TenantsReport says what importing a tenant list did.
type TenantsReport struct {
	File string
	Site string
	// Rows is the number of tenancies in the file; Added, Updated and
	// Unchanged count them by what they did to the site; Removed counts
	// stored tenancies missing from the file (replace mode only).
	Rows, Added, Updated, Unchanged, Removed int
	// RemovedTenancies are the Removed tenancies as stored, in the site's
	// order, so that a preview can name them.
	RemovedTenancies []core.Occupancy
}

// Summary is the one-line result printed per file.
func (r *TenantsReport) Summary() string {
	s := fmt.Sprintf("%s: %d tenancies: %d added, %d updated, %d unchanged", r.File, r.Rows, r.Added, r.Updated, r.Unchanged)
	if r.Removed > 0 {
		s += fmt.Sprintf(", %d removed", r.Removed)
	}
	return s
}

// MergeTenants applies tl to a copy of site and returns it validated. A row
// matches a stored tenancy by unit and first day: it updates the columns the
// file has and leaves the others as stored; a row without a match is a new
// tenancy. With replace the file is the complete list: stored tenancies it
// does not name are removed. Problems, including site.Validate's rules, come
// back as one *Error naming the row's line.
func MergeTenants(site *core.Site, tl *TenantList, replace bool) (*core.Site, *TenantsReport, error) {
	if tl.sh == nil { // built by hand rather than parsed: name cells as CSV
		tl.sh = &sheet{tableFile: tableFile{file: tl.File, cols: tl.Columns}}
	}
	rep := &TenantsReport{File: tl.File, Site: site.ID, Rows: len(tl.Rows)}
	ns := *site
	ns.Occupancies = nil
	lines := []int{} // parallel to ns.Occupancies: the file's line, 0 for stored ones
	byKey := map[[2]string]int{}
	for i, o := range site.Occupancies {
		byKey[[2]string{o.Unit, o.From.String()}] = i
	}
	used := make([]bool, len(site.Occupancies))
	for _, r := range tl.Rows {
		if site.Unit(r.Occupancy.Unit) == nil {
			_, c := tl.sh.get(sheetRow{}, "unit")
			return nil, nil, tl.sh.cellErr(r.Line, c, "unit %q does not exist: site %s has %s", r.Occupancy.Unit, site.ID, unitList(site))
		}
		if i, ok := byKey[[2]string{r.Occupancy.Unit, r.Occupancy.From.String()}]; ok {
			used[i] = true
		}
	}
	for i, o := range site.Occupancies {
		if replace && !used[i] {
			rep.Removed++
			rep.RemovedTenancies = append(rep.RemovedTenancies, o)
			continue
		}
		ns.Occupancies = append(ns.Occupancies, o)
		lines = append(lines, 0)
	}
	for _, r := range tl.Rows {
		o := r.Occupancy
		i := slices.IndexFunc(ns.Occupancies, func(s core.Occupancy) bool { return s.Unit == o.Unit && s.From == o.From })
		if i < 0 {
			ns.Occupancies = append(ns.Occupancies, o)
			lines = append(lines, r.Line)
			continue
		}
		ns.Occupancies[i] = tl.merge(ns.Occupancies[i], o)
		lines[i] = r.Line
	}
	// Overlaps are checked here so that the message names lines, not
	// positions in the site's list.
	for i, o := range ns.Occupancies {
		if lines[i] == 0 {
			continue
		}
		for j, p := range ns.Occupancies {
			if j == i || p.Unit != o.Unit || !occOverlap(o, p) || lines[j] != 0 && lines[j] > lines[i] {
				continue
			}
			where := "the site's tenancy"
			if lines[j] != 0 {
				where = "line " + strconv.Itoa(lines[j])
			}
			_, c := tl.sh.get(sheetRow{}, "from")
			return nil, nil, tl.sh.cellErr(lines[i], c, "the tenancy of %s in unit %s (%s..%s) overlaps %s of %s (%s..%s)",
				o.Name, o.Unit, o.From, occEnd(o.To), where, p.Name, p.From, occEnd(p.To))
		}
	}
	if err := ns.Validate(); err != nil {
		var ve *core.ValidationError
		if errors.As(err, &ve) {
			var i int
			var field string
			if n, _ := fmt.Sscanf(ve.Element, "tenants[%d].", &i); n == 1 && i >= 0 && i < len(lines) {
				_, field, _ = strings.Cut(ve.Element, ".")
				if lines[i] > 0 {
					_, c := tl.sh.get(sheetRow{}, strings.TrimPrefix(field, "address."))
					return nil, nil, tl.sh.cellErr(lines[i], c, "%s", ve.Msg)
				}
			}
		}
		return nil, nil, &Error{File: tl.File, Msg: fmt.Sprintf("site %s after the import: %v", site.ID, err), Err: err}
	}
	for i, o := range ns.Occupancies {
		if lines[i] == 0 {
			continue
		}
		j, ok := byKey[[2]string{o.Unit, o.From.String()}]
		switch {
		case !ok:
			rep.Added++
		case reflect.DeepEqual(site.Occupancies[j], o):
			rep.Unchanged++
		default:
			rep.Updated++
		}
	}
	return &ns, rep, nil
}

// merge returns stored updated by the columns of the file.
func (tl *TenantList) merge(stored, o core.Occupancy) core.Occupancy {
	set := func(col string, dst *string, v string) {
		if slices.Contains(tl.Columns, col) {
			*dst = v
		}
	}
	stored.Name = o.Name
	if slices.Contains(tl.Columns, "to") {
		stored.To = o.To
	}
	if slices.Contains(tl.Columns, "language") {
		stored.Language = o.Language
		if o.Language == "" {
			stored.Language = "de" // what Validate gives an empty one
		}
	}
	set("reference", &stored.Reference, o.Reference)
	set("email", &stored.Email, o.Email)
	set("street", &stored.Address.Street, o.Address.Street)
	set("number", &stored.Address.Number, o.Address.Number)
	set("postcode", &stored.Address.Postcode, o.Address.Postcode)
	set("town", &stored.Address.Town, o.Address.Town)
	set("country", &stored.Address.Country, o.Address.Country)
	if slices.Contains(tl.Columns, "advance_chf_month") {
		stored.AdvanceMonth = o.AdvanceMonth
	}
	return stored
}

func occOverlap(a, b core.Occupancy) bool {
	aEnd, bEnd := a.To, b.To
	return (bEnd.IsZero() || !a.From.After(bEnd)) && (aEnd.IsZero() || !b.From.After(aEnd))
}

func occEnd(d core.Date) string {
	if d.IsZero() {
		return "open"
	}
	return d.String()
}

func unitList(s *core.Site) string {
	if len(s.Units) == 0 {
		return "no units"
	}
	ids := make([]string, len(s.Units))
	for i, u := range s.Units {
		ids[i] = u.ID
	}
	return strings.Join(ids, ", ")
}

// ImportTenants merges tl into the stored site siteID (see MergeTenants) and
// stores it in one transaction, with a "tenants.import" audit entry when
// anything changed. The site is read inside the transaction, so the merge
// applies to what is stored now. Like ImportSite it refuses (*LockedError) a
// list that changes a tenancy inside a billed period. MergeTenants alone is
// its preview: what the list would do, without storing anything.
func ImportTenants(st store.Store, siteID string, tl *TenantList, replace bool, actor string, now time.Time) (*TenantsReport, error) {
	var rep *TenantsReport
	err := st.Update(func(tx store.Tx) error {
		site, err := tx.Site(siteID)
		if err != nil {
			return fmt.Errorf("reading site %s: %w", siteID, err)
		}
		ns, r, err := MergeTenants(site, tl, replace)
		if err != nil {
			return err
		}
		rep = r
		if r.Added+r.Updated+r.Removed == 0 {
			return nil
		}
		locks, err := tx.LocksOf(siteID)
		if err != nil {
			return fmt.Errorf("reading the billed periods of site %s: %w", siteID, err)
		}
		if err := CheckSiteLocks(site, ns, locks); err != nil {
			return err
		}
		if err := tx.PutSite(ns); err != nil {
			return fmt.Errorf("storing site %s: %w", siteID, err)
		}
		return logImport(tx, now, actor, siteID, "tenants.import", r.Summary())
	})
	if err != nil {
		return nil, importErr(tl.File, err)
	}
	return rep, nil
}
