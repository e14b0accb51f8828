package ui

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/importer"
)

// Tenants keeps the tenancies of each unit: who lived there from when to
// when, their address, language and advance payments. The unit's history
// shows the vacant stretches billed to the owner; a tenancy that overlaps
// another is refused at its first day, with the reason. A tenant list (XLSX
// or CSV) is shown as a preview (rows, changes, errors with their line)
// before anything is stored. It is not safe for concurrent use; call its
// methods on Fyne's goroutine.
type Tenants struct {
	st      store.Store
	clock   core.Clock
	win     fyne.Window
	changed func(*core.Site)
	site    *core.Site

	unit    *widget.Select
	history *widget.List
	rows    []historyRow
	idx     int // index in site.Occupancies being edited; -1 for a new tenancy

	fs                                  *fieldSet
	name, from, to, ref, email, advance *widget.Entry
	language                            *widget.Select
	addr                                *addressFields
	status                              *widget.Label
	form                                fyne.CanvasObject

	// onLinks, when set, opens the resident links of the site.
	onLinks func()

	preview     *tenantPreview
	mode        *widget.RadioGroup // add and update, or replace the tenant list
	previewText *widget.Label
	previewBox  fyne.CanvasObject
	formScroll  fyne.CanvasObject // the tenancy form, hidden while a preview takes its place
	content     fyne.CanvasObject
}

// historyRow is one line of a unit's history: a tenancy (occ ≥ 0) or a
// vacant stretch billed to the owner.
type historyRow struct {
	occ  int
	text string
}

func languageLabels() []string {
	return []string{"Deutsch", "Français", "Italiano", "English"}
}

// NewTenants makes the Tenants screen on st.
func NewTenants(st store.Store, clock core.Clock, win fyne.Window) *Tenants {
	t := &Tenants{st: st, clock: clock, win: win, idx: -1, fs: newFieldSet()}
	t.status = widget.NewLabel("")
	t.status.Wrapping = fyne.TextWrapWord
	t.unit = newSelect(nil, func(string) { t.refreshHistory(); t.edit(-1) })
	t.history = widget.NewList(func() int { return len(t.rows) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			l.SetText(t.rows[i].text)
			l.Importance = widget.MediumImportance
			if t.rows[i].occ < 0 {
				l.Importance = widget.WarningImportance
			}
			l.Refresh()
		})
	t.history.OnSelected = func(i widget.ListItemID) {
		if i < len(t.rows) && t.rows[i].occ >= 0 {
			t.edit(t.rows[i].occ)
		}
	}
	t.name, t.from, t.to, t.ref, t.email, t.advance = widget.NewEntry(), widget.NewEntry(), widget.NewEntry(),
		widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	t.from.SetPlaceHolder("01.04.2026")
	t.to.SetPlaceHolder(lang.X("forms.tenant.open", "open-ended"))
	t.language = newSelect(languageLabels(), nil)
	fs := t.fs
	fs.add("name", lang.X("forms.tenant.name", "Name"), t.name)
	fs.add("from", lang.X("forms.tenant.from", "Move-in (first day)"), t.from)
	fs.add("to", lang.X("forms.tenant.to", "Move-out (last day)"), t.to)
	fs.add("language", lang.X("forms.tenant.language", "Language of the invoice"), t.language)
	fs.add("advance_chf_month", lang.X("forms.tenant.advance", "Advance payment CHF / month"), t.advance)
	fs.add("reference", lang.X("forms.tenant.reference", "Tenant number"), t.ref)
	fs.add("email", lang.X("forms.tenant.email", "E-mail"), t.email)
	t.addr = newAddressFields(fs, "address.")
	t.form = container.NewVBox(fs.grid(), fs.general, container.NewHBox(
		widget.NewButton(lang.X("forms.tenant.new", "New tenancy"), func() { t.history.UnselectAll(); t.edit(-1) }),
		widget.NewButtonWithIcon(lang.X("forms.save", "Save"), nil, t.onSave),
	))
	t.previewText = widget.NewLabel("")
	t.previewText.Wrapping = fyne.TextWrapWord
	t.mode = widget.NewRadioGroup(importModes(), func(string) { t.showPreview() })
	t.mode.Required = true
	t.previewBox = container.NewBorder(
		container.NewVBox(widget.NewLabelWithStyle(lang.X("forms.import.title", "Tenant list: preview (nothing is stored yet)"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			t.mode),
		container.NewHBox(widget.NewButton(lang.X("forms.import.store", "Store these changes"), t.onStorePreview),
			widget.NewButton(lang.X("forms.cancel", "Cancel"), t.closePreview)),
		nil, nil, container.NewVScroll(t.previewText))
	t.previewBox.Hide()
	top := container.NewHBox(widget.NewLabel(lang.X("forms.tenant.unit", "Unit:")), t.unit,
		widget.NewButton(lang.X("forms.import.button", "Import tenant list…"), t.onImport),
		widget.NewButton(lang.X("residents.button", "Resident links…"), func() {
			if t.onLinks != nil {
				t.onLinks()
			}
		}))
	left := container.NewBorder(nil, nil, nil, nil, t.history)
	t.formScroll = container.NewVScroll(t.form)
	right := container.NewStack(t.formScroll, t.previewBox)
	t.content = container.NewBorder(top, t.status, nil, nil, container.NewHSplit(left, right))
	return t
}

// Content returns the screen's canvas object.
func (t *Tenants) Content() fyne.CanvasObject { return t.content }

func (t *Tenants) setSite(site *core.Site) {
	t.site = site
	var ids []string
	for _, u := range site.Units {
		ids = append(ids, u.ID)
	}
	t.unit.Options = ids
	t.status.SetText("")
	t.closePreview()
	if len(ids) > 0 && !slices.Contains(ids, t.unit.Selected) {
		t.unit.SetSelected(ids[0]) // refreshes the history
	} else {
		t.unit.Refresh()
		t.refreshHistory()
		t.edit(-1)
	}
}

// ownerName is who receives a vacant unit's invoice.
func (t *Tenants) ownerName() string {
	if t.site.Owner != "" {
		return t.site.Owner
	}
	return t.site.Operator.Name
}

// refreshHistory lists the selected unit's tenancies by first day, with the
// vacant stretches between and after them.
func (t *Tenants) refreshHistory() {
	t.rows = nil
	if t.site == nil || t.unit.Selected == "" {
		t.history.Refresh()
		return
	}
	var idx []int
	for i, o := range t.site.Occupancies {
		if o.Unit == t.unit.Selected {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int { return t.site.Occupancies[a].From.Compare(t.site.Occupancies[b].From) })
	owner := t.ownerName()
	var retired core.Date // the unit's last day in service, zero while in service
	if u := t.site.Unit(t.unit.Selected); u != nil {
		retired = u.Retired
	}
	vacant := func(from, to core.Date) {
		var text string
		if to.IsZero() {
			text = lang.X("forms.tenant.vacantFrom", "vacant from {{.From}}: billed to the owner ({{.Owner}})",
				map[string]any{"From": date(from), "Owner": owner})
		} else {
			text = lang.X("forms.tenant.vacant", "vacant {{.From}} – {{.To}}: billed to the owner ({{.Owner}})",
				map[string]any{"From": date(from), "To": date(to), "Owner": owner})
		}
		t.rows = append(t.rows, historyRow{occ: -1, text: text})
	}
	for k, i := range idx {
		o := t.site.Occupancies[i]
		if k > 0 {
			prev := t.site.Occupancies[idx[k-1]]
			if !prev.To.IsZero() && prev.To.AddDays(1).Before(o.From) {
				vacant(prev.To.AddDays(1), o.From.AddDays(-1))
			}
		}
		end := lang.X("forms.tenant.openEnd", "open")
		if !o.To.IsZero() {
			end = date(o.To)
		}
		text := fmt.Sprintf("%s – %s  %s", date(o.From), end, o.Name)
		if o.AdvanceMonth != 0 {
			text += "  " + lang.X("forms.tenant.advanceShort", "advance {{.Amount}}/month", map[string]any{"Amount": chf(o.AdvanceMonth)})
		}
		t.rows = append(t.rows, historyRow{occ: i, text: text})
		if k == len(idx)-1 && !o.To.IsZero() && (retired.IsZero() || o.To.Before(retired)) {
			vacant(o.To.AddDays(1), retired) // up to the unit's last day, or open
		}
	}
	if len(idx) == 0 {
		t.rows = append(t.rows, historyRow{occ: -1, text: lang.X("forms.tenant.never", "no tenancy: the unit is billed to the owner ({{.Owner}})", map[string]any{"Owner": owner})})
	}
	if !retired.IsZero() {
		t.rows = append(t.rows, historyRow{occ: -1, text: lang.X("office.unit.retiredHistory",
			"out of service after {{.Date}}: no tenant, no vacancy, no fees", map[string]any{"Date": date(retired)})})
	}
	t.history.Refresh()
}

// edit fills the form with tenancy i of the site, or empties it (-1).
func (t *Tenants) edit(i int) {
	t.fs.clear()
	t.idx = i
	o := core.Occupancy{Language: "de"}
	if t.site != nil && i >= 0 && i < len(t.site.Occupancies) {
		o = t.site.Occupancies[i]
	} else {
		t.idx = -1
	}
	t.name.SetText(o.Name)
	t.from.SetText(dateField(o.From))
	t.to.SetText(dateField(o.To))
	t.language.SetSelectedIndex(max(slices.Index(core.Languages, o.Language), 0))
	t.advance.SetText(chfField(o.AdvanceMonth))
	t.ref.SetText(o.Reference)
	t.email.SetText(o.Email)
	t.addr.set(o.Address)
}

// onSave checks the tenancy with the site's rules and stores it. The rules
// are checked with the tenancy last in the list, so that an overlap is
// reported at this tenancy's first day rather than at the other one's.
func (t *Tenants) onSave() {
	if t.site == nil || t.unit.Selected == "" {
		return
	}
	t.fs.clear()
	t.status.SetText("")
	in := inputs{fs: t.fs}
	o := core.Occupancy{Unit: t.unit.Selected, Name: strings.TrimSpace(t.name.Text),
		Reference: strings.TrimSpace(t.ref.Text), Email: strings.TrimSpace(t.email.Text), Address: t.addr.get()}
	var err error
	o.From, err = parseDateField(t.from.Text)
	in.check(t.fs.byElem["from"], err)
	o.To, err = parseDateField(t.to.Text)
	in.check(t.fs.byElem["to"], err)
	o.AdvanceMonth, err = parseCHFField(t.advance.Text)
	in.check(t.fs.byElem["advance_chf_month"], err)
	if i := t.language.SelectedIndex(); i >= 0 {
		o.Language = core.Languages[i]
	}
	if in.bad {
		return
	}
	probe := cloneSite(t.site)
	if t.idx >= 0 {
		probe.Occupancies = slices.Delete(probe.Occupancies, t.idx, t.idx+1)
	}
	probe.Occupancies = append(probe.Occupancies, o)
	if err := probe.Validate(); err != nil {
		prefix := fmt.Sprintf("tenants[%d].", len(probe.Occupancies)-1)
		var ve *core.ValidationError
		if errors.As(err, &ve) && ve.Element == prefix+"from" && t.overlapsLater(o) {
			// Core reports an overlap at the first day; when this tenancy
			// runs into a later one, its move-out is what to correct.
			t.fs.fail("to", validationMessage(ve))
			return
		}
		t.fs.showErr(err, prefix)
		return
	}
	s := cloneSite(t.site)
	i := t.idx
	if i >= 0 {
		s.Occupancies[i] = o
	} else {
		s.Occupancies = append(s.Occupancies, o)
		i = len(s.Occupancies) - 1
	}
	stored, err := saveSite(t.st, t.clock, s)
	if err != nil {
		t.fs.showErr(err, fmt.Sprintf("tenants[%d].", i))
		return
	}
	t.site = stored
	t.refreshHistory()
	t.edit(i)
	msg := lang.X("forms.saved", "Saved.")
	if u := stored.Unit(o.Unit); !o.To.IsZero() && !t.occupiedAfter(o.Unit, o.To) && (u == nil || u.InService(o.To.AddDays(1))) {
		msg += " " + lang.X("forms.tenant.nowVacant", "Unit {{.Unit}} is vacant from {{.From}}: its energy and fees are billed to the owner ({{.Owner}}).",
			map[string]any{"Unit": o.Unit, "From": date(o.To.AddDays(1)), "Owner": t.ownerName()})
	}
	t.status.SetText(msg)
	if t.changed != nil {
		t.changed(stored)
	}
}

// overlapsLater reports whether o runs into a tenancy of its unit that
// starts after o's first day (another one than the one being edited).
func (t *Tenants) overlapsLater(o core.Occupancy) bool {
	for i, p := range t.site.Occupancies {
		if i != t.idx && p.Unit == o.Unit && p.From.After(o.From) && (o.To.IsZero() || !o.To.Before(p.From)) {
			return true
		}
	}
	return false
}

// occupiedAfter reports whether unit has a tenancy starting the day after d.
func (t *Tenants) occupiedAfter(unit string, d core.Date) bool {
	for _, o := range t.site.Occupancies {
		if o.Unit == unit && o.From == d.AddDays(1) {
			return true
		}
	}
	return false
}

// tenantPreview is a parsed tenant list and what it would change.
type tenantPreview struct {
	list    *importer.TenantList
	ok      bool
	replace bool // the list replaces the site's tenancies
}

// importModes are the two ways of applying a tenant list: add and update
// the tenancies it names (the default), or make it the complete list
// (`import tenants --replace`).
func importModes() []string {
	return []string{lang.X("forms.import.modeAdd", "Add and update"), lang.X("forms.import.modeReplace", "Replace the tenant list")}
}

func (t *Tenants) onImport() {
	if t.site == nil {
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		t.previewFile(path)
	}, t.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".xlsx", ".csv"}))
	d.Show()
}

// previewFile reads the tenant list at path and shows what importing it
// would do, storing nothing.
func (t *Tenants) previewFile(path string) {
	t.preview = &tenantPreview{}
	t.formScroll.Hide() // the preview has no background of its own
	t.previewBox.Show()
	tl, err := importer.ReadTenantsFile(path)
	if err != nil {
		t.previewText.SetText(lang.X("forms.import.error", "The list cannot be imported; nothing was stored:") + "\n" + err.Error())
		return
	}
	t.preview.list = tl
	if t.mode.Selected == importModes()[0] {
		t.showPreview()
	} else {
		t.mode.SetSelected(importModes()[0]) // shows it
	}
}

// showPreview shows what storing the previewed list would do in the mode
// chosen: each row new, changed or unchanged, and with replace the stored
// tenancies the list removes.
func (t *Tenants) showPreview() {
	if t.preview == nil || t.preview.list == nil {
		return
	}
	tl := t.preview.list
	t.preview.replace = t.mode.Selected == importModes()[1]
	merged, rep, err := importer.MergeTenants(t.site, tl, t.preview.replace)
	if err != nil {
		t.preview.ok = false
		t.previewText.SetText(lang.X("forms.import.error", "The list cannot be imported; nothing was stored:") + "\n" + err.Error())
		return
	}
	t.preview.ok = true
	var b strings.Builder
	b.WriteString(lang.XN("forms.import.summary", "{{.Rows}} rows: {{.Added}} new, {{.Updated}} changed, {{.Unchanged}} unchanged.", rep.Rows,
		map[string]any{"Rows": rep.Rows, "Added": rep.Added, "Updated": rep.Updated, "Unchanged": rep.Unchanged}))
	b.WriteString("\n")
	if t.preview.replace {
		for _, l := range removedLines(rep) {
			b.WriteString(l + "\n")
		}
	}
	for _, r := range tl.Rows {
		o := r.Occupancy
		what := lang.X("forms.import.new", "new")
		if i := slices.IndexFunc(t.site.Occupancies, func(x core.Occupancy) bool { return x.Unit == o.Unit && x.From == o.From }); i >= 0 {
			j := slices.IndexFunc(merged.Occupancies, func(x core.Occupancy) bool { return x.Unit == o.Unit && x.From == o.From })
			if j >= 0 && merged.Occupancies[j] == t.site.Occupancies[i] {
				what = lang.X("forms.import.unchanged", "unchanged")
			} else {
				what = lang.X("forms.import.changed", "changed")
			}
		}
		b.WriteString(lang.X("forms.import.row", "line {{.Line}}: {{.Unit}} {{.Name}} {{.From}} – {{.To}}: {{.What}}",
			map[string]any{"Line": r.Line, "Unit": o.Unit, "Name": o.Name, "From": date(o.From), "To": tenancyEnd(o), "What": what}))
		b.WriteString("\n")
	}
	t.previewText.SetText(b.String())
}

// removedLines say which stored tenancies a tenant list replacing the
// site's removes (the File › Import preview says it too).
func removedLines(rep *importer.TenantsReport) []string {
	if rep.Removed == 0 {
		return []string{lang.X("forms.import.noneRemoved", "The list names every stored tenancy: none is removed.")}
	}
	out := []string{lang.XN("forms.import.removedSummary", "{{.Removed}} stored tenancies are not in the list and are removed:", rep.Removed,
		map[string]any{"Removed": rep.Removed})}
	for _, o := range rep.RemovedTenancies {
		out = append(out, lang.X("forms.import.removedRow", "{{.Unit}} {{.Name}} {{.From}} – {{.To}}: removed",
			map[string]any{"Unit": o.Unit, "Name": o.Name, "From": date(o.From), "To": tenancyEnd(o)}))
	}
	return out
}

// tenancyEnd is o's last day, or "open".
func tenancyEnd(o core.Occupancy) string {
	if o.To.IsZero() {
		return lang.X("forms.tenant.openEnd", "open")
	}
	return date(o.To)
}

// onStorePreview imports the previewed list in one transaction.
func (t *Tenants) onStorePreview() {
	if t.preview == nil || !t.preview.ok {
		return
	}
	rep, err := importer.ImportTenants(t.st, t.site.ID, t.preview.list, t.preview.replace, formsActor(), t.clock.Now())
	if err != nil {
		var le *importer.LockedError
		if errors.As(err, &le) {
			t.previewText.SetText(lockedMessage(le))
		} else {
			t.previewText.SetText(err.Error())
		}
		return
	}
	var stored *core.Site
	if err := t.st.View(func(tx store.Tx) error { stored, err = tx.Site(t.site.ID); return err }); err != nil {
		t.status.SetText(err.Error())
		return
	}
	t.closePreview()
	t.site = stored
	t.refreshHistory()
	counts := map[string]any{"Added": rep.Added, "Updated": rep.Updated, "Unchanged": rep.Unchanged, "Removed": rep.Removed}
	if rep.Removed > 0 {
		t.status.SetText(lang.X("forms.import.storedRemoved", "Tenant list stored: {{.Added}} new, {{.Updated}} changed, {{.Unchanged}} unchanged, {{.Removed}} removed.", counts))
	} else {
		t.status.SetText(lang.X("forms.import.stored", "Tenant list stored: {{.Added}} new, {{.Updated}} changed, {{.Unchanged}} unchanged.", counts))
	}
	if t.changed != nil {
		t.changed(stored)
	}
}

func (t *Tenants) closePreview() {
	t.preview = nil
	t.previewText.SetText("")
	t.previewBox.Hide()
	t.formScroll.Show()
}
