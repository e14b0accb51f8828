// Package importer reads the files that bring sites and readings into
// zevdesk: site files (TOML), readings CSV/XLSX, and (in files of their own)
// SDAT-CH documents, EV charging sessions and tenant lists.
//
// Every parser reports bad input as one *Error naming the file, the line and
// the element, and what was expected. Imports write one transaction per file:
// a file with one bad row writes nothing.
package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// Error is a problem with an imported file, modelled on encoding/csv's
// ParseError. Line and Column are 1-based; 0 means unknown. Element names
// what is wrong in the file's own terms: a key path in a site file
// ("meters[2].role"), a column in a CSV file ("column kwh_in"), a cell in a
// workbook ("C17").
type Error struct {
	File    string
	Line    int
	Column  int
	Element string
	Msg     string
	// Err is the underlying error, if any, for errors.Is/As.
	Err error
}

// Error formats e as "file:line: element: msg", leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":")
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Element != "" {
		b.WriteString(e.Element)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ParseSite reads a site file (TOML, see docs/site-file.md) named name, maps
// it to a core.Site and validates it. Every problem, from a TOML syntax error
// to a rule of core.Site.Validate, is returned as one *Error whose Line points
// at the offending key.
func ParseSite(name string, r io.Reader) (*core.Site, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSiteFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(data) > MaxSiteFileBytes {
		return nil, &Error{File: name, Msg: fmt.Sprintf(
			"the file is larger than %d KiB, the most a site file may have: a site file describes one site (a few KiB); is this the right file?", MaxSiteFileBytes>>10)}
	}
	// Windows editors may start the file with a byte-order mark.
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if err := checkNesting(name, data); err != nil {
		return nil, err
	}
	var tree map[string]any
	if _, err := toml.Decode(string(data), &tree); err != nil {
		return nil, tomlError(name, data, err)
	}
	d := &siteDecoder{file: name, lines: scanKeyLines(data)}
	site := d.site(&table{d: d, m: tree})
	if d.err != nil {
		return nil, d.err
	}
	if err := site.Validate(); err != nil {
		var ve *core.ValidationError
		if errors.As(err, &ve) {
			return nil, &Error{File: name, Line: d.lines.find(ve.Element), Element: ve.Element, Msg: ve.Msg, Err: err}
		}
		return nil, &Error{File: name, Msg: err.Error(), Err: err}
	}
	return site, nil
}

// tomlError turns a TOML syntax error into an *Error with its position.
func tomlError(name string, data []byte, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: name, Msg: err.Error(), Err: err}
	}
	line, col := pe.Position.Line, pe.Position.Col
	if col == 0 && pe.Position.Start > 0 && pe.Position.Start <= len(data) {
		col = pe.Position.Start - strings.LastIndexByte(string(data[:pe.Position.Start]), '\n')
	}
	// Name the element the way validation errors do ("tenants[0].from"),
	// from the key defined on that line, rather than the library's "tenants.from".
	elem := pe.LastKey
	best := ""
	for path, n := range scanKeyLines(data) {
		if n == line && (len(path) > len(best) || len(path) == len(best) && path < best) {
			best = path
		}
	}
	if best != "" {
		elem = best
	}
	msg := pe.Message
	if strings.HasPrefix(msg, "invalid datetime") {
		msg += ": expected a date such as 2026-01-31"
	}
	return &Error{File: name, Line: line, Column: col, Element: elem, Msg: msg, Err: err}
}

// siteDecoder maps the decoded TOML tree onto core.Site, checking types and
// refusing unknown keys. The first error sticks; later calls do nothing.
type siteDecoder struct {
	file  string
	lines keyLines
	err   error
}

func (d *siteDecoder) fail(path, format string, args ...any) {
	if d.err == nil {
		d.err = &Error{File: d.file, Line: d.lines.find(path), Element: path, Msg: fmt.Sprintf(format, args...)}
	}
}

// table is one TOML table at a key path ("" for the root, "units[0]").
type table struct {
	d    *siteDecoder
	path string
	m    map[string]any
	used []string
}

func (t *table) key(k string) string {
	if t.path == "" {
		return k
	}
	return t.path + "." + k
}

// get returns the value of key k and marks it as known.
func (t *table) get(k string) (any, bool) {
	t.used = append(t.used, k)
	if t.d.err != nil {
		return nil, false
	}
	v, ok := t.m[k]
	return v, ok
}

// done refuses the keys of t that nothing asked for, the first in file order.
func (t *table) done() {
	if t.d.err != nil {
		return
	}
	var unknown []string
	for k := range t.m {
		if !slices.Contains(t.used, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return
	}
	sort.Slice(unknown, func(i, j int) bool {
		li, lj := t.d.lines.find(t.key(unknown[i])), t.d.lines.find(t.key(unknown[j]))
		if li != lj {
			return li < lj
		}
		return unknown[i] < unknown[j]
	})
	where := "the top level"
	if t.path != "" {
		where = t.path
	}
	hint := ""
	if near := nearest(unknown[0], t.used); near != "" {
		hint = fmt.Sprintf("did you mean %q? ", near)
	}
	t.d.fail(t.key(unknown[0]), "unknown key %q: %s%s has %s (see docs/site-file.md)",
		unknown[0], hint, where, strings.Join(t.used, ", "))
}

// nearest returns the candidate within two edits of s (a typo), or "".
func nearest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (t *table) str(k string, dst *string) {
	v, ok := t.get(k)
	if !ok {
		return
	}
	s, isStr := v.(string)
	if !isStr {
		t.d.fail(t.key(k), "expected a string, got %s", describe(v))
		return
	}
	*dst = s
}

func (t *table) boolean(k string, dst *bool) {
	v, ok := t.get(k)
	if !ok {
		return
	}
	b, isBool := v.(bool)
	if !isBool {
		t.d.fail(t.key(k), "expected true or false, got %s", describe(v))
		return
	}
	*dst = b
}

func (t *table) integer(k, what string, dst *int64) {
	v, ok := t.get(k)
	if !ok {
		return
	}
	n, isInt := v.(int64)
	if !isInt {
		t.d.fail(t.key(k), "expected %s (a whole number), got %s", what, describe(v))
		return
	}
	*dst = n
}

// decimal returns the exact decimal text of a TOML number. A TOML float is
// held as a float64; its shortest round-tripping form ('f', -1) is the decimal
// the file spelled for any value with at most 15 significant digits, which
// covers every price, fee and area, so no float error reaches the result.
func (t *table) decimal(k, what string) (string, bool) {
	v, ok := t.get(k)
	if !ok {
		return "", false
	}
	switch n := v.(type) {
	case int64:
		return strconv.FormatInt(n, 10), true
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			t.d.fail(t.key(k), "expected %s, got %v", what, n)
			return "", false
		}
		return strconv.FormatFloat(n, 'f', -1, 64), true
	}
	t.d.fail(t.key(k), "expected %s, got %s", what, describe(v))
	return "", false
}

func (t *table) price(k string, dst *core.Price) {
	s, ok := t.decimal(k, "a price in CHF per kWh such as 0.20")
	if !ok {
		return
	}
	p, err := core.ParsePrice(s)
	if err != nil {
		t.d.fail(t.key(k), "expected a price in CHF per kWh with at most 6 decimals, got %s", s)
		return
	}
	*dst = p
}

func (t *table) chf(k string, dst *core.Rappen) {
	s, ok := t.decimal(k, "an amount in CHF such as 5.00")
	if !ok {
		return
	}
	r, err := core.ParseCHF(s)
	if err != nil {
		t.d.fail(t.key(k), "expected an amount in CHF with at most 2 decimals, got %s", s)
		return
	}
	*dst = r
}

func (t *table) percent(k string) (core.BasisPoints, bool) {
	s, ok := t.decimal(k, "a percentage such as 8.1")
	if !ok {
		return 0, false
	}
	b, err := core.ParsePercent(s)
	if err != nil {
		t.d.fail(t.key(k), "expected a percentage with at most 2 decimals, got %s", s)
		return 0, false
	}
	return b, true
}

// hundredths reads a number with at most two decimals as an integer count of
// hundredths (62.5 m² = 6250).
func (t *table) hundredths(k, what string, dst *int64) {
	s, ok := t.decimal(k, what)
	if !ok {
		return
	}
	// A percentage is parsed with two decimals, which is exactly what a
	// value in hundredths needs.
	b, err := core.ParsePercent(s)
	if err != nil {
		t.d.fail(t.key(k), "expected %s with at most 2 decimals, got %s", what, s)
		return
	}
	*dst = int64(b)
}

// date reads a TOML local date (from = 2026-01-01); a quoted "2026-01-01" is
// accepted too.
func (t *table) date(k string, dst *core.Date) {
	v, ok := t.get(k)
	if !ok {
		return
	}
	if d, ok := t.dateValue(t.key(k), v); ok {
		*dst = d
	}
}

func (t *table) dateValue(path string, v any) (core.Date, bool) {
	switch x := v.(type) {
	case time.Time:
		if x.Location().String() != "date-local" {
			t.d.fail(path, "expected a date such as 2026-01-31 without a time, got %s", describe(v))
			return core.Date{}, false
		}
		return core.DateOf(x), true
	case string:
		d, err := core.ParseDate(x)
		if err != nil {
			t.d.fail(path, "expected a date such as 2026-01-31, got %q", x)
			return core.Date{}, false
		}
		return d, true
	}
	t.d.fail(path, "expected a date such as 2026-01-31, got %s", describe(v))
	return core.Date{}, false
}

// list returns the array at key k, or nil.
func (t *table) list(k string) []any {
	v, ok := t.get(k)
	if !ok {
		return nil
	}
	a, isList := v.([]any)
	if !isList {
		t.d.fail(t.key(k), "expected a list [...], got %s", describe(v))
		return nil
	}
	return a
}

// sub returns the table at key k; a missing table is an empty one.
func (t *table) sub(k string) *table {
	s := &table{d: t.d, path: t.key(k), m: map[string]any{}}
	v, ok := t.get(k)
	if !ok {
		return s
	}
	m, isTable := v.(map[string]any)
	if !isTable {
		t.d.fail(t.key(k), "expected a table [%s], got %s", t.key(k), describe(v))
		return s
	}
	s.m = m
	return s
}

// tables returns the array of tables at key k ([[units]]).
func (t *table) tables(k string) []*table {
	v, ok := t.get(k)
	if !ok {
		return nil
	}
	var ms []map[string]any
	switch x := v.(type) {
	case []map[string]any:
		ms = x
	case []any: // units = [{...}, {...}]
		for i, e := range x {
			m, isTable := e.(map[string]any)
			if !isTable {
				t.d.fail(fmt.Sprintf("%s[%d]", t.key(k), i), "expected a table, got %s", describe(e))
				return nil
			}
			ms = append(ms, m)
		}
	default:
		t.d.fail(t.key(k), "expected tables [[%s]], got %s", k, describe(v))
		return nil
	}
	ts := make([]*table, len(ms))
	for i, m := range ms {
		ts[i] = &table{d: t.d, path: fmt.Sprintf("%s[%d]", t.key(k), i), m: m}
	}
	return ts
}

// describe names a TOML value's type and value for an error message.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("string %q", x)
	case int64:
		return fmt.Sprintf("integer %d", x)
	case float64:
		return "number " + strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return fmt.Sprintf("boolean %t", x)
	case time.Time:
		switch x.Location().String() {
		case "date-local":
			return "date " + x.Format(time.DateOnly)
		case "time-local":
			return "time " + x.Format(time.TimeOnly)
		}
		return "date-time " + x.Format(time.RFC3339)
	case []any:
		return "a list"
	case map[string]any, []map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", v)
}

func (d *siteDecoder) site(root *table) *core.Site {
	s := &core.Site{}
	root.str("id", &s.ID)
	root.str("name", &s.Name)
	root.str("timezone", &s.Timezone)
	var alloc string
	root.str("allocation", &alloc)
	s.Allocation = core.Allocation(alloc)
	root.str("vat_number", &s.VATNumber)
	owner(root, s)
	s.Address = address(root.sub("address"))
	op := root.sub("operator")
	op.str("name", &s.Operator.Name)
	op.str("iban", &s.Operator.IBAN)
	op.str("email", &s.Operator.Email)
	op.str("phone", &s.Operator.Phone)
	s.Operator.Address = address(op)

	for _, u := range root.tables("units") {
		var unit core.Unit
		u.str("id", &unit.ID)
		u.str("name", &unit.Name)
		u.hundredths("area_m2", "an area in m² such as 62.5", &unit.Area)
		u.integer("quota", "a value quota", &unit.Quota)
		u.integer("weight", "a weight", &unit.Weight)
		u.date("since", &unit.Since)
		u.date("retired", &unit.Retired)
		u.done()
		s.Units = append(s.Units, unit)
	}
	for _, m := range root.tables("meters") {
		var meter core.Meter
		var role, key string
		m.str("id", &meter.ID)
		m.str("name", &meter.Name)
		m.str("role", &role)
		m.str("unit", &meter.Unit)
		m.str("key", &key)
		m.integer("max_power_w", "a power in W", &meter.MaxPowerW)
		m.str("metering_point", &meter.MeteringPoint)
		m.date("since", &meter.Since)
		m.date("retired", &meter.Retired)
		m.done()
		meter.Role, meter.Key = core.Role(role), core.Key(key)
		s.Meters = append(s.Meters, meter)
	}
	for _, o := range root.tables("tenants") {
		var occ core.Occupancy
		o.str("unit", &occ.Unit)
		o.str("name", &occ.Name)
		o.date("from", &occ.From)
		o.date("to", &occ.To)
		o.str("language", &occ.Language)
		o.str("reference", &occ.Reference)
		o.str("email", &occ.Email)
		o.chf("advance_chf_month", &occ.AdvanceMonth)
		occ.Address = address(o.sub("address"))
		o.done()
		s.Occupancies = append(s.Occupancies, occ)
	}
	for i, t := range root.tables("tariffs") {
		var tar core.Tariff
		t.date("from", &tar.From)
		t.price("solar_chf_kwh", &tar.Solar)
		t.price("grid_chf_kwh", &tar.Grid)
		t.price("grid_ht_chf_kwh", &tar.GridHT)
		t.price("grid_nt_chf_kwh", &tar.GridNT)
		for j, w := range t.list("ht") {
			path := fmt.Sprintf("tariffs[%d].ht[%d]", i, j)
			ws, isStr := w.(string)
			if !isStr {
				d.fail(path, "expected a window such as \"mon-fri 07:00-20:00\", got %s", describe(w))
				break
			}
			win, err := core.ParseWindow(ws)
			if err != nil {
				d.fail(path, "%v", err)
				break
			}
			tar.HT = append(tar.HT, win)
		}
		t.chf("base_fee_chf_month", &tar.BaseFeeMonth)
		t.chf("metering_chf_month", &tar.MeteringMonth)
		if v, ok := t.percent("vat_percent"); ok {
			tar.VAT = &v
		}
		t.price("standard_chf_kwh", &tar.Standard)
		t.done()
		s.Tariffs = append(s.Tariffs, tar)
	}
	for i, h := range root.list("holidays") {
		if day, ok := root.dateValue(fmt.Sprintf("holidays[%d]", i), h); ok {
			s.Holidays = append(s.Holidays, day)
		}
	}
	set := root.sub("settings")
	set.str("period", &s.Settings.Period)
	set.boolean("collect_self", &s.Settings.CollectSelf)
	set.boolean("refuse_missing", &s.Settings.RefuseMissing)
	set.boolean("round_to_5", &s.Settings.RoundTo5)
	set.boolean("redistribute", &s.Settings.Redistribute)
	if v, ok := set.percent("balance_tolerance_percent"); ok {
		s.Settings.BalanceTolerance = v
	}
	var term int64
	set.integer("payment_term_days", "a number of days", &term)
	s.Settings.PaymentTermDays = int(term)
	for i, v := range set.list("reminder_days") {
		n, isInt := v.(int64)
		if i >= core.MaxReminders {
			set.d.fail(set.key("reminder_days"), "expected at most %d reminders", core.MaxReminders)
			break
		}
		if !isInt || n < 1 || n > 365 {
			set.d.fail(fmt.Sprintf("%s[%d]", set.key("reminder_days"), i), "expected a number of days from 1 to 365, got %s", describe(v))
			break
		}
		s.Settings.ReminderDays[i] = int(n)
	}
	set.chf("reminder_fee_chf", &s.Settings.ReminderFee)
	set.done()
	root.done()
	return s
}

// owner reads the owner: a name (owner = "...", as files before the
// owner's address had it) or a table [owner] with a name and address keys.
func owner(root *table, s *core.Site) {
	v, ok := root.m["owner"]
	if !ok || root.d.err != nil {
		root.get("owner")
		return
	}
	if _, isTable := v.(map[string]any); !isTable {
		root.str("owner", &s.Owner)
		return
	}
	t := root.sub("owner")
	t.str("name", &s.Owner)
	s.OwnerAddress = address(t)
}

// address reads the address keys of t (a table of its own, or the
// operator's table after its other keys) and refuses t's unknown keys.
func address(t *table) core.Address {
	var a core.Address
	t.str("street", &a.Street)
	t.str("number", &a.Number)
	t.str("postcode", &a.Postcode)
	t.str("town", &a.Town)
	t.str("country", &a.Country)
	t.done()
	return a
}

// ImportSite validates site and stores it in one transaction, creating
// it or replacing the stored version, and logs it in the audit log as
// "site.import" (new) or "site.update" with a summary of what changed. It
// refuses (a *LockedError, matching store.ErrLocked) an update that changes
// what a billed period was billed from. It reports whether the site was new.
// The command line's `site import` and the desktop app's forms both save
// through it.
func ImportSite(st store.Store, site *core.Site, actor string, now time.Time) (created bool, err error) {
	// ParseSite has validated it; a site built elsewhere (the setup wizard)
	// gets the same rules before it can reach the store.
	if err := site.Validate(); err != nil {
		return false, fmt.Errorf("site %s: %w", site.ID, err)
	}
	err = st.Update(func(tx store.Tx) error {
		old, err := tx.Site(site.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			created = true
		case err != nil:
			return fmt.Errorf("reading site %s: %w", site.ID, err)
		}
		if !created {
			// What a billed period was billed from stays as it was.
			locks, err := tx.LocksOf(site.ID)
			if err != nil {
				return fmt.Errorf("reading the billed periods of site %s: %w", site.ID, err)
			}
			if err := CheckSiteLocks(old, site, locks); err != nil {
				return err
			}
		}
		if err := tx.PutSite(site); err != nil {
			return fmt.Errorf("storing site %s: %w", site.ID, err)
		}
		e := store.Entry{Time: now.UTC(), Actor: actor, Site: site.ID, Action: "site.import",
			Detail: fmt.Sprintf("%d units, %d meters, %d tenants, %d tariffs",
				len(site.Units), len(site.Meters), len(site.Occupancies), len(site.Tariffs))}
		if !created {
			e.Action = "site.update"
			e.Detail = SiteDiff(old, site)
		}
		if _, err := tx.AppendAudit(e); err != nil {
			return fmt.Errorf("logging the import of site %s: %w", site.ID, err)
		}
		return nil
	})
	return created, err
}
