package ui

// The master-data forms (sites, units and meters, tenants, tariffs) share
// this file: a form is a set of fields, each named by its element path in the
// site file ("name", "operator.iban", "tenants[3].to" seen from the tenant
// form as "to"), so that core.Site.Validate's *ValidationError and the
// importer's *LockedError appear at the field they are about. Every form
// saves through importer.ImportSite, the code path of `site import`: the same
// rules, the same audit entry, the same refusal of billed periods.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/user"
	"regexp"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/importer"
)

// field is one labelled input of a form with the line under it that shows
// what is wrong with it.
type field struct {
	label string
	input fyne.CanvasObject
	err   *widget.Label
}

// fieldSet is a form's fields by element path, and the line for errors no
// field owns.
type fieldSet struct {
	fields  []*field
	byElem  map[string]*field
	general *widget.Label
}

func newFieldSet() *fieldSet {
	g := widget.NewLabel("")
	g.Importance = widget.DangerImportance
	g.Wrapping = fyne.TextWrapWord
	g.Hide()
	return &fieldSet{byElem: map[string]*field{}, general: g}
}

// add adds a field for the element path elem (relative to the form).
func (fs *fieldSet) add(elem, label string, input fyne.CanvasObject) *field {
	e := widget.NewLabel("")
	e.Importance = widget.DangerImportance
	e.Wrapping = fyne.TextWrapWord
	e.Hide()
	f := &field{label: label, input: input, err: e}
	fs.fields = append(fs.fields, f)
	if elem != "" {
		fs.byElem[elem] = f
	}
	return f
}

// alias lets errors at elem show at f (a rule about a whole tariff version
// shows at its grid price).
func (fs *fieldSet) alias(elem string, f *field) { fs.byElem[elem] = f }

// grid lays the fields out as label | input with the error under the input.
func (fs *fieldSet) grid(fields ...*field) *fyne.Container {
	if fields == nil {
		fields = fs.fields
	}
	var objs []fyne.CanvasObject
	for _, f := range fields {
		objs = append(objs, widget.NewLabel(f.label), container.NewVBox(f.input, f.err))
	}
	return container.New(layout.NewFormLayout(), objs...)
}

// formButtons lays out a form's buttons two to a row: side by side, four
// buttons with German or French labels would make the form, and the tab,
// wider than an office window.
func formButtons(buttons ...fyne.CanvasObject) *fyne.Container {
	return container.NewGridWithColumns(2, buttons...)
}

// clear hides every error.
func (fs *fieldSet) clear() {
	for _, f := range fs.fields {
		f.err.SetText("")
		f.err.Hide()
	}
	fs.general.SetText("")
	fs.general.Hide()
}

// fail shows msg at the field of elem (or of its nearest enclosing element
// that has one), else on the form's general line.
func (fs *fieldSet) fail(elem, msg string) {
	for p := elem; p != ""; p = parentElem(p) {
		if f, ok := fs.byElem[p]; ok {
			f.err.SetText(msg)
			f.err.Show()
			return
		}
	}
	fs.general.SetText(msg)
	fs.general.Show()
}

// errorAt returns the field showing an error for elem, or nil.
func (fs *fieldSet) errorAt(elem string) string {
	if f, ok := fs.byElem[elem]; ok && f.err.Visible() {
		return f.err.Text
	}
	return ""
}

// showErr shows a save's error: a validation error or a billed period's
// refusal at the field its element path names, after stripping prefix (the
// form's own element, "tenants[3]."); anything else on the general line.
func (fs *fieldSet) showErr(err error, prefix string) {
	var ve *core.ValidationError
	var le *importer.LockedError
	switch {
	case errors.As(err, &le):
		// A billed period's refusal is about the whole tenancy or tariff
		// version: the form's general line, unless it names a field.
		elem := relElem(le.Element, prefix)
		if elem == "." {
			elem = ""
		}
		fs.fail(elem, lockedMessage(le))
	case errors.As(err, &ve):
		fs.fail(relElem(ve.Element, prefix), validationMessage(ve))
	default:
		fs.fail("", err.Error())
	}
}

// relElem returns elem relative to prefix: "tenants[3].to" with prefix
// "tenants[3]." is "to"; an element outside the form (another tenant) is
// returned whole, which no field of the form has.
func relElem(elem, prefix string) string {
	if prefix == "" {
		return elem
	}
	if elem == strings.TrimSuffix(prefix, ".") {
		return "."
	}
	if r, ok := strings.CutPrefix(elem, prefix); ok {
		return r
	}
	return "/" + elem
}

// parentElem returns the enclosing element of a path: "a.b" → "a",
// "a[2]" → "a", "a" → "".
func parentElem(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i > 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i > 0 {
		return p[:i]
	}
	return ""
}

// cloneSite returns a deep copy of s, for a form to change without touching
// the site other screens show.
func cloneSite(s *core.Site) *core.Site {
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("ui: copying site %s: %v", s.ID, err)) // a core.Site always marshals
	}
	var c core.Site
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("ui: copying site %s: %v", s.ID, err))
	}
	return &c
}

// saveSite validates and stores s the way `site import` does (audit entry,
// billed periods refused) and returns the stored version.
func saveSite(st store.Store, clock core.Clock, s *core.Site) (*core.Site, error) {
	if _, err := importer.ImportSite(st, s, formsActor(), clock.Now()); err != nil {
		return nil, err
	}
	var stored *core.Site
	err := st.View(func(tx store.Tx) error {
		var err error
		stored, err = tx.Site(s.ID)
		return err
	})
	return stored, err
}

// formsActor names who edits in the desktop app, for the audit log.
func formsActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "ui:" + u.Username
	}
	return "ui"
}

// parse errors of the form's own inputs, shown at their field.

var swissDate = regexp.MustCompile(`^\d{1,2}\.\d{1,2}\.\d{4}$`)

// parseDateField reads a date as the office types it (31.03.2026) or as the
// site file has it (2026-03-31); empty gives the zero date.
func parseDateField(s string) (core.Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return core.Date{}, nil
	}
	var d, m, y int
	if swissDate.MatchString(s) {
		fmt.Sscanf(s, "%d.%d.%d", &d, &m, &y)
		dt := core.Date{Year: y, Month: time.Month(m), Day: d}
		if dt.Valid() {
			return dt, nil
		}
	} else if dt, err := core.ParseDate(s); err == nil {
		return dt, nil
	}
	return core.Date{}, errors.New(lang.X("forms.err.date", "expected a date such as 31.03.2026"))
}

// dateField formats d for a date entry, empty for the zero date.
func dateField(d core.Date) string {
	if d.IsZero() {
		return ""
	}
	return date(d)
}

// cleanNumber removes what people type around a number: spaces, the Swiss
// thousands apostrophe, "CHF"; a decimal comma becomes a point.
func cleanNumber(s string) string {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "CHF"))
	s = strings.NewReplacer("'", "", "’", "", " ", "", ",", ".").Replace(s)
	return s
}

func parseCHFField(s string) (core.Rappen, error) {
	if cleanNumber(s) == "" {
		return 0, nil
	}
	r, err := core.ParseCHF(cleanNumber(s))
	if err != nil {
		return 0, errors.New(lang.X("forms.err.chf", "expected an amount in CHF such as 120.50"))
	}
	return r, nil
}

func parsePriceField(s string) (core.Price, error) {
	if cleanNumber(s) == "" {
		return 0, nil
	}
	p, err := core.ParsePrice(cleanNumber(s))
	if err != nil {
		return 0, errors.New(lang.X("forms.err.price", "expected a price in CHF per kWh such as 0.20"))
	}
	return p, nil
}

// parseHundredthsField reads a number with at most two decimals (an area
// in m², a percentage) in hundredths.
func parseHundredthsField(s string) (int64, error) {
	if cleanNumber(s) == "" {
		return 0, nil
	}
	b, err := core.ParsePercent(cleanNumber(s))
	if err != nil {
		return 0, errors.New(lang.X("forms.err.decimal", "expected a number with at most 2 decimals such as 62.5"))
	}
	return int64(b), nil
}

func parseIntField(s string) (int64, error) {
	if cleanNumber(s) == "" {
		return 0, nil
	}
	var n int64
	if _, err := fmt.Sscan(cleanNumber(s), &n); err != nil || fmt.Sprint(n) != strings.TrimLeft(cleanNumber(s), "+") {
		return 0, errors.New(lang.X("forms.err.int", "expected a whole number"))
	}
	return n, nil
}

// hundredthsField formats a value in hundredths for an entry ("62.5").
func hundredthsField(v int64) string {
	if v == 0 {
		return ""
	}
	return core.BasisPoints(v).String()
}

func intField(v int64) string {
	if v == 0 {
		return ""
	}
	return fmt.Sprint(v)
}

func chfField(r core.Rappen) string {
	if r == 0 {
		return ""
	}
	return r.String()
}

func priceField(p core.Price) string {
	if p == 0 {
		return ""
	}
	return p.String()
}

// inputs reads a form's text inputs; the first that does not parse is
// shown at its field.
type inputs struct {
	fs  *fieldSet
	bad bool
}

func (in *inputs) check(f *field, err error) {
	if err != nil {
		f.err.SetText(err.Error())
		f.err.Show()
		in.bad = true
	}
}

// addressFields adds the fields of an address under the element prefix
// ("address.", "operator.", "owner.").
type addressFields struct {
	street, number, postcode, town, country *widget.Entry
}

func newAddressFields(fs *fieldSet, prefix string) *addressFields {
	a := &addressFields{widget.NewEntry(), widget.NewEntry(), widget.NewEntry(), widget.NewEntry(), widget.NewEntry()}
	a.country.SetPlaceHolder("CH")
	fs.add(prefix+"street", lang.X("forms.street", "Street"), a.street)
	fs.add(prefix+"number", lang.X("forms.number", "Number"), a.number)
	fs.add(prefix+"postcode", lang.X("forms.postcode", "Postcode"), a.postcode)
	fs.add(prefix+"town", lang.X("forms.town", "Town"), a.town)
	fs.add(prefix+"country", lang.X("forms.country", "Country (ISO code)"), a.country)
	return a
}

func (a *addressFields) set(v core.Address) {
	a.street.SetText(v.Street)
	a.number.SetText(v.Number)
	a.postcode.SetText(v.Postcode)
	a.town.SetText(v.Town)
	a.country.SetText(v.Country)
}

func (a *addressFields) get() core.Address {
	t := strings.TrimSpace
	return core.Address{Street: t(a.street.Text), Number: t(a.number.Text), Postcode: t(a.postcode.Text),
		Town: t(a.town.Text), Country: strings.ToUpper(t(a.country.Text))}
}

// newSelect is widget.NewSelect with its placeholder, Fyne's English
// "(Select one)", in the window's language.
func newSelect(options []string, changed func(string)) *widget.Select {
	s := widget.NewSelect(options, changed)
	s.PlaceHolder = lang.X("window.select", "(Select one)")
	return s
}
