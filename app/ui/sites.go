package ui

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/importer"
	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/sim"
)

// SiteForm creates or edits a site's own data: the building, the operator
// who bills (with IBAN and VAT number), the owner who receives the vacancy
// and common-meter invoices, and the billing settings. The Sites screen and
// the setup wizard use it. It is not safe for concurrent use; call its
// methods on Fyne's goroutine.
type SiteForm struct {
	st      store.Store
	clock   core.Clock
	win     fyne.Window
	onSaved func(*core.Site)

	fs      *fieldSet
	site    *core.Site // being edited; nil for a new site
	content fyne.CanvasObject

	id, name                    *widget.Entry
	addr, opAddr, ownerAddr     *addressFields
	allocation, period          *widget.Select
	opName, iban, email, phone  *widget.Entry
	vat, owner                  *widget.Entry
	collect, round5, refuse, rd *widget.Check
	zone                        *widget.Select
	holidays                    *widget.Entry // one date per line
	addHolidays                 *widget.Button
	save                        *widget.Button
	saved                       *widget.Label
}

// siteZones are the time zones the site form offers: Switzerland's, and
// those of the neighbours a community may sit in or near (Liechtenstein,
// Büsingen); a site file may name any other IANA zone, which the form then
// offers too.
var siteZones = []string{"Europe/Zurich", "Europe/Vaduz", "Europe/Busingen", "Europe/Berlin", "Europe/Paris",
	"Europe/Rome", "Europe/Vienna", "UTC"}

// allocationLabels and periodLabels name the choices of the selects, in
// the order of core.Allocations and the periods.
func allocationLabels() []string {
	return []string{
		lang.X("forms.alloc.proportional", "Proportional to consumption"),
		lang.X("forms.alloc.equal", "Equal shares"),
		lang.X("forms.alloc.balance", "Balance (consumption − grid import)"),
	}
}

var periodValues = []string{"month", "quarter", "half", "year"}

func periodLabels() []string {
	return []string{lang.X("forms.period.month", "Month"), lang.X("forms.period.quarter", "Quarter"),
		lang.X("forms.period.half", "Half-year"), lang.X("forms.period.year", "Year")}
}

// NewSiteForm makes a site form on st; onSaved is called with the stored
// site after each successful save.
func NewSiteForm(st store.Store, clock core.Clock, win fyne.Window, onSaved func(*core.Site)) *SiteForm {
	f := &SiteForm{st: st, clock: clock, win: win, onSaved: onSaved, fs: newFieldSet()}
	fs := f.fs
	f.id, f.name = widget.NewEntry(), widget.NewEntry()
	f.id.SetPlaceHolder("birkenweg")
	f.opName, f.iban, f.email, f.phone = widget.NewEntry(), widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	f.vat, f.owner = widget.NewEntry(), widget.NewEntry()
	f.iban.SetPlaceHolder("CH44 3199 9123 0008 8901 2")
	f.vat.SetPlaceHolder("CHE-123.456.789 MWST")
	f.allocation = newSelect(allocationLabels(), nil)
	f.period = newSelect(periodLabels(), nil)
	f.collect = widget.NewCheck(lang.X("forms.site.collect", "The office collects payments (QR-bill on the invoices)"), nil)
	f.round5 = widget.NewCheck(lang.X("forms.site.round5", "Round totals to 5 Rappen"), nil)
	f.refuse = widget.NewCheck(lang.X("forms.site.refuse", "Refuse to bill a period with missing data"), nil)
	f.rd = widget.NewCheck(lang.X("forms.site.redistribute", "Spread the difference to the grid meter over the consumers"), nil)
	f.zone = newSelect(siteZones, nil)
	f.holidays = widget.NewMultiLineEntry()
	f.holidays.SetMinRowsVisible(4)
	f.holidays.SetPlaceHolder("01.01.2026\n01.08.2026")
	// Holiday data zevdesk has: canton Bern's (ingest/sim); other cantons'
	// holidays are typed.
	f.addHolidays = widget.NewButton("", f.onAddHolidays)
	f.holidays.OnChanged = func(string) { f.refreshAddHolidays() }

	building := []*field{
		fs.add("id", lang.X("forms.site.id", "Short name (id)"), f.id),
		fs.add("name", lang.X("forms.site.name", "Name of the community"), f.name),
	}
	f.addr = newAddressFields(fs, "address.")
	building = append(building, fs.fields[len(fs.fields)-5:]...)
	op := []*field{fs.add("operator.name", lang.X("forms.site.operator", "Operator (bills the tenants)"), f.opName)}
	f.opAddr = newAddressFields(fs, "operator.")
	op = append(op, fs.fields[len(fs.fields)-5:]...)
	op = append(op,
		fs.add("operator.iban", lang.X("forms.site.iban", "IBAN or QR-IBAN"), f.iban),
		fs.add("vat_number", lang.X("forms.site.vat", "VAT number (empty if not registered)"), f.vat),
		fs.add("operator.email", lang.X("forms.site.email", "E-mail on invoices"), f.email),
		fs.add("operator.phone", lang.X("forms.site.phone", "Phone on invoices"), f.phone))
	own := []*field{fs.add("owner.name", lang.X("forms.site.owner", "Owner (empty: the operator)"), f.owner)}
	f.ownerAddr = newAddressFields(fs, "owner.")
	own = append(own, fs.fields[len(fs.fields)-5:]...)
	fs.alias("owner", own[0])
	bill := []*field{
		fs.add("allocation", lang.X("forms.site.allocation", "Solar allocation"), f.allocation),
		fs.add("settings.period", lang.X("forms.site.period", "Billing period"), f.period),
		fs.add("timezone", lang.X("forms.site.timezone", "Time zone"), f.zone),
		fs.add("holidays", lang.X("forms.site.holidays", "Holidays (low tariff all day)"), container.NewVBox(f.holidays, f.addHolidays)),
		fs.add("settings.collect_self", "", f.collect),
		fs.add("settings.round_to_5", "", f.round5),
		fs.add("settings.refuse_missing", "", f.refuse),
		fs.add("settings.redistribute", "", f.rd),
	}
	f.save = widget.NewButton(lang.X("forms.save", "Save"), f.onSave)
	f.save.Importance = widget.HighImportance
	f.saved = widget.NewLabel("")
	section := func(title, help string, fields []*field) fyne.CanvasObject {
		return widget.NewCard(title, help, fs.grid(fields...))
	}
	f.content = container.NewVScroll(container.NewVBox(
		section(lang.X("forms.site.building", "1  Building"), lang.X("forms.site.buildingHelp", "The community and its address, printed on every invoice."), building),
		section(lang.X("forms.site.operatorSection", "2  Operator"), lang.X("forms.site.operatorHelp", "Who bills and receives the payments: the creditor of the QR-bill."), op),
		section(lang.X("forms.site.ownerSection", "3  Owner"), lang.X("forms.site.ownerHelp", "Receives the invoices for vacant units and for common meters billed to the owner."), own),
		section(lang.X("forms.site.billingSection", "4  Billing"), "", bill),
		fs.general,
		container.NewHBox(f.save, f.saved),
	))
	f.Edit(nil)
	return f
}

// Content returns the form's canvas object.
func (f *SiteForm) Content() fyne.CanvasObject { return f.content }

// Edit fills the form with site, or empties it for a new site (nil).
func (f *SiteForm) Edit(site *core.Site) {
	f.fs.clear()
	f.saved.SetText("")
	f.site = site
	s := site
	if s == nil {
		s = &core.Site{Allocation: core.AllocProportional, Settings: core.Settings{Period: "quarter"},
			Address: core.Address{Country: "CH"}, Operator: core.Operator{Address: core.Address{Country: "CH"}}}
		f.id.Enable()
	} else {
		f.id.Disable() // data, locks and gateways are keyed by it
	}
	f.id.SetText(s.ID)
	f.name.SetText(s.Name)
	f.addr.set(s.Address)
	f.opName.SetText(s.Operator.Name)
	f.opAddr.set(s.Operator.Address)
	f.iban.SetText(s.Operator.IBAN)
	f.email.SetText(s.Operator.Email)
	f.phone.SetText(s.Operator.Phone)
	f.vat.SetText(s.VATNumber)
	f.owner.SetText(s.Owner)
	f.ownerAddr.set(s.OwnerAddress)
	f.allocation.SetSelectedIndex(max(slices.Index(core.Allocations, s.Allocation), 0))
	p := s.Settings.Period
	if p == "" {
		p = "quarter"
	}
	f.period.SetSelectedIndex(max(slices.Index(periodValues, p), 0))
	f.collect.SetChecked(s.Settings.CollectSelf)
	f.round5.SetChecked(s.Settings.RoundTo5)
	f.refuse.SetChecked(s.Settings.RefuseMissing)
	f.rd.SetChecked(s.Settings.Redistribute)
	zone := s.Timezone
	if zone == "" {
		zone = "Europe/Zurich"
	}
	f.zone.Options = siteZones
	if !slices.Contains(siteZones, zone) {
		f.zone.Options = append(slices.Clone(siteZones), zone)
	}
	f.zone.SetSelected(zone)
	f.holidays.SetText(holidayLines(s.Holidays))
	f.refreshAddHolidays()
}

// holidayLines formats days one per line, the Swiss way.
func holidayLines(days []core.Date) string {
	lines := make([]string, len(days))
	for i, d := range days {
		lines[i] = date(d)
	}
	return strings.Join(lines, "\n")
}

// readHolidays parses the holidays entry: one date per line, sorted and
// without duplicates in the result.
func (f *SiteForm) readHolidays() ([]core.Date, error) {
	var days []core.Date
	for i, line := range strings.Split(f.holidays.Text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		d, err := parseDateField(line)
		if err != nil {
			return nil, errors.New(lang.X("forms.site.holidayLine", "line {{.Line}}: {{.Err}}", map[string]any{"Line": i + 1, "Err": err.Error()}))
		}
		days = append(days, d)
	}
	slices.SortFunc(days, core.Date.Compare)
	return slices.Compact(days), nil
}

// holidayYear is the first year from this one whose canton Bern holidays
// the entry does not all list yet.
func (f *SiteForm) holidayYear() int {
	loc := time.UTC
	if l, err := time.LoadLocation(f.zone.Selected); err == nil {
		loc = l
	}
	y := f.clock.Now().In(loc).Year()
	days, _ := f.readHolidays()
	for ; ; y++ {
		for _, d := range sim.Holidays(y) {
			if !slices.Contains(days, d) {
				return y
			}
		}
	}
}

func (f *SiteForm) refreshAddHolidays() {
	f.addHolidays.SetText(lang.X("forms.site.addHolidays", "Add the public holidays of canton Bern for {{.Year}}",
		map[string]any{"Year": f.holidayYear()}))
}

// onAddHolidays adds canton Bern's public holidays of the year the button
// names to the list.
func (f *SiteForm) onAddHolidays() {
	days, err := f.readHolidays()
	if err != nil {
		f.fs.fail("holidays", err.Error())
		return
	}
	days = append(days, sim.Holidays(f.holidayYear())...)
	slices.SortFunc(days, core.Date.Compare)
	f.holidays.SetText(holidayLines(slices.Compact(days)))
}

// onSave validates the form through core.Site.Validate and stores it.
func (f *SiteForm) onSave() {
	f.fs.clear()
	f.saved.SetText("")
	var s *core.Site
	if f.site == nil {
		s = &core.Site{}
		s.ID = strings.TrimSpace(f.id.Text)
		exists := false
		_ = f.st.View(func(tx store.Tx) error {
			_, err := tx.Site(s.ID)
			exists = err == nil
			return nil
		})
		if exists {
			f.fs.fail("id", lang.X("forms.site.exists", "A site with this id exists already: choose another one, or edit that site."))
			return
		}
	} else {
		s = cloneSite(f.site)
	}
	s.Name = strings.TrimSpace(f.name.Text)
	s.Address = f.addr.get()
	s.Operator.Name = strings.TrimSpace(f.opName.Text)
	s.Operator.Address = f.opAddr.get()
	s.Operator.IBAN = strings.TrimSpace(f.iban.Text)
	s.Operator.Email = strings.TrimSpace(f.email.Text)
	s.Operator.Phone = strings.TrimSpace(f.phone.Text)
	s.VATNumber = strings.TrimSpace(f.vat.Text)
	s.Owner = strings.TrimSpace(f.owner.Text)
	s.OwnerAddress = f.ownerAddr.get()
	if i := f.allocation.SelectedIndex(); i >= 0 {
		s.Allocation = core.Allocations[i]
	}
	if i := f.period.SelectedIndex(); i >= 0 {
		s.Settings.Period = periodValues[i]
	}
	s.Settings.CollectSelf = f.collect.Checked
	s.Settings.RoundTo5 = f.round5.Checked
	s.Settings.RefuseMissing = f.refuse.Checked
	s.Settings.Redistribute = f.rd.Checked
	s.Timezone = f.zone.Selected
	days, err := f.readHolidays()
	if err != nil {
		f.fs.fail("holidays", err.Error())
		return
	}
	// The same days as stored keep the stored order: a site file's list
	// saved unchanged is no change for the audit log.
	stored := slices.Clone(s.Holidays)
	slices.SortFunc(stored, core.Date.Compare)
	if !slices.Equal(slices.Compact(stored), days) {
		s.Holidays = days
	}
	saved, err := saveSite(f.st, f.clock, s)
	if err != nil {
		f.fs.showErr(err, "")
		return
	}
	f.Edit(saved)
	f.saved.SetText(lang.X("forms.saved", "Saved."))
	if f.onSaved != nil {
		f.onSaved(saved)
	}
}

// siteState is one row of the Sites list.
type siteState struct {
	site     *core.Site
	complete core.Date // data complete up to (zero: no data)
	online   int       // gateways of the site that answered lately
	gateways int
	next     core.Period // the next period to bill
}

// gatewayOnline is how recent a gateway's last answer must be for the
// Sites list to count it online: a few of the collector's pull intervals.
const gatewayOnline = 15 * time.Minute

// loadSiteStates reads every site with its state.
func loadSiteStates(tx store.Tx, now time.Time) ([]siteState, error) {
	ids, err := tx.SiteIDs()
	if err != nil {
		return nil, fmt.Errorf("listing sites: %w", err)
	}
	pairings, err := intake.Pairings(tx)
	if err != nil {
		return nil, fmt.Errorf("reading the gateways: %w", err)
	}
	var out []siteState
	for _, id := range ids {
		s, err := tx.Site(id)
		if err != nil {
			return nil, fmt.Errorf("loading site %s: %w", id, err)
		}
		st := siteState{site: s}
		today := core.DateOf(now.In(s.Location()))
		if st.complete, err = completeUpTo(tx, s, today); err != nil {
			return nil, err
		}
		for _, p := range pairings {
			if p.Site != id {
				continue
			}
			st.gateways++
			if gs, err := intake.LoadState(tx, p.GatewayID); err == nil && gs.Err == "" && !gs.Rejected &&
				now.Sub(gs.LastContact) < gatewayOnline {
				st.online++
			}
		}
		locks, err := tx.LocksOf(id)
		if err != nil {
			return nil, fmt.Errorf("reading the billed periods of %s: %w", id, err)
		}
		if len(locks) > 0 {
			st.next = billingPeriod(s.Settings.Period, locks[len(locks)-1].Period.To.AddDays(1))
		} else {
			st.next = lastCompletePeriod(s.Settings.Period, today)
		}
		out = append(out, st)
	}
	return out, nil
}

// completeUpTo returns the last day up to which every meter of s has data
// (looking back 62 days from today), or the zero date.
func completeUpTo(tx store.Tx, s *core.Site, today core.Date) (core.Date, error) {
	if len(s.Meters) == 0 {
		return core.Date{}, nil
	}
	loc := s.Location()
	from, to := core.Period{From: today.AddDays(-62), To: today}.Slots(loc)
	var last core.Slot = to
	var ser store.Series
	for _, m := range s.Meters {
		ch := store.Import
		if m.Role == core.RoleProduction {
			ch = store.Export
		}
		if err := tx.ReadIntervals(store.SeriesID{Site: s.ID, Meter: m.ID, Channel: ch}, from, to, &ser); err != nil {
			return core.Date{}, fmt.Errorf("reading meter %s: %w", m.ID, err)
		}
		i := len(ser.Quality) - 1
		for i >= 0 && ser.Quality[i] == store.Missing {
			i--
		}
		if i < 0 {
			return core.Date{}, nil
		}
		last = min(last, ser.From+core.Slot(i)+1) // end of the meter's data
	}
	// Whether the data ends at a midnight or inside a day, the day before
	// that is the last complete one.
	return core.DateOf(last.Time().In(loc)).AddDays(-1), nil
}

// Sites lists the office's sites with their state, and creates, edits,
// exports and imports them. It is not safe for concurrent use; call its
// methods on Fyne's goroutine.
type Sites struct {
	st    store.Store
	clock core.Clock
	win   fyne.Window
	// changed is called with a site after it was created, edited or
	// imported (the window reloads its site selector).
	changed func(*core.Site)

	states   []siteState
	table    *widget.Table
	selected int
	status   *widget.Label
	form     *SiteForm
	list     fyne.CanvasObject
	formView fyne.CanvasObject
	stack    *fyne.Container
}

// NewSites makes the Sites screen on st.
func NewSites(st store.Store, clock core.Clock, win fyne.Window) *Sites {
	s := &Sites{st: st, clock: clock, win: win, selected: -1}
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	s.table = widget.NewTableWithHeaders(s.tableSize, func() fyne.CanvasObject { return widget.NewLabel("") }, s.updateCell)
	s.table.ShowHeaderColumn = false
	s.table.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	s.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Row < 0 && id.Col >= 0 {
			o.(*widget.Label).SetText(siteColumns()[id.Col])
		}
	}
	for i, w := range []float32{320, 180, 140, 220} {
		s.table.SetColumnWidth(i, w)
	}
	s.table.OnSelected = func(id widget.TableCellID) { s.selected = id.Row }
	s.form = NewSiteForm(st, clock, win, s.onSaved)
	back := widget.NewButton(lang.X("forms.back", "Back to the list"), s.showList)
	s.formView = container.NewBorder(back, nil, nil, nil, s.form.Content())
	bar := container.NewHBox(
		widget.NewButton(lang.X("forms.sites.new", "New site…"), func() { s.onNew() }),
		widget.NewButton(lang.X("forms.sites.edit", "Edit"), func() { s.onEdit() }),
		widget.NewButton(lang.X("forms.sites.export", "Export site file…"), s.onExport),
		widget.NewButton(lang.X("forms.sites.import", "Import site file…"), s.onImport),
	)
	s.list = container.NewBorder(bar, s.status, nil, nil, s.table)
	s.stack = container.NewStack(s.list, s.formView)
	s.formView.Hide()
	return s
}

func siteColumns() []string {
	return []string{lang.X("forms.sites.col.site", "Site"), lang.X("forms.sites.col.complete", "Data complete up to"),
		lang.X("forms.sites.col.gateways", "Gateways online"), lang.X("forms.sites.col.next", "Next period due")}
}

// Content returns the screen's canvas object.
func (s *Sites) Content() fyne.CanvasObject { return s.stack }

// setSite selects site in the list (the window's site selector).
func (s *Sites) setSite(site *core.Site) {
	s.Reload()
	for i, st := range s.states {
		if st.site.ID == site.ID {
			s.selected = i
			s.table.Select(widget.TableCellID{Row: i, Col: 0})
		}
	}
}

// Reload reads the sites and their state again.
func (s *Sites) Reload() {
	var states []siteState
	err := s.st.View(func(tx store.Tx) error {
		var err error
		states, err = loadSiteStates(tx, s.clock.Now())
		return err
	})
	if err != nil {
		s.status.SetText(err.Error())
		return
	}
	s.states = states
	if len(states) == 0 {
		s.status.SetText(lang.X("forms.sites.none", "No site yet: create one with New site, or import a site file."))
	}
	s.table.Refresh()
}

func (s *Sites) tableSize() (int, int) { return len(s.states), 4 }

func (s *Sites) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	l := o.(*widget.Label)
	if id.Row < 0 || id.Row >= len(s.states) {
		l.SetText("")
		return
	}
	st := s.states[id.Row]
	switch id.Col {
	case 0:
		l.SetText(st.site.Name + " (" + st.site.ID + ")")
	case 1:
		if st.complete.IsZero() {
			l.SetText(lang.X("forms.sites.noData", "no data"))
		} else {
			l.SetText(date(st.complete))
		}
	case 2:
		if st.gateways == 0 {
			l.SetText(lang.X("forms.sites.noGateways", "none paired"))
		} else {
			l.SetText(fmt.Sprintf("%d / %d", st.online, st.gateways))
		}
	case 3:
		l.SetText(periodName(st.site.Settings.Period, st.next) + " (" + period(st.next) + ")")
	}
}

func (s *Sites) current() *core.Site {
	if s.selected < 0 || s.selected >= len(s.states) {
		return nil
	}
	return s.states[s.selected].site
}

func (s *Sites) showList() {
	s.formView.Hide()
	s.list.Show()
	s.Reload()
}

func (s *Sites) onNew() {
	s.form.Edit(nil)
	s.list.Hide()
	s.formView.Show()
}

func (s *Sites) onEdit() {
	site := s.current()
	if site == nil {
		s.status.SetText(lang.X("forms.sites.choose", "Choose a site in the list first."))
		return
	}
	s.form.Edit(site)
	s.list.Hide()
	s.formView.Show()
}

func (s *Sites) onSaved(site *core.Site) {
	s.Reload()
	if s.changed != nil {
		s.changed(site)
	}
}

func (s *Sites) onExport() {
	site := s.current()
	if site == nil {
		s.status.SetText(lang.X("forms.sites.choose", "Choose a site in the list first."))
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		path := w.URI().Path()
		w.Close()
		s.exportTo(site, path)
	}, s.win)
	d.SetFileName(site.ID + ".toml")
	d.Show()
}

// exportTo writes site as a site file at path.
func (s *Sites) exportTo(site *core.Site, path string) {
	var b bytes.Buffer
	err := importer.WriteSite(&b, site)
	if err == nil {
		err = os.WriteFile(path, b.Bytes(), 0o644)
	}
	if err != nil {
		s.status.SetText(err.Error())
		return
	}
	s.status.SetText(lang.X("forms.sites.exported", "Site {{.ID}} written to {{.Path}}.", map[string]any{"ID": site.ID, "Path": path}))
}

func (s *Sites) onImport() {
	dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		s.importFrom(path)
	}, s.win).Show()
}

// importFrom imports the site file at path the way `site import` does.
func (s *Sites) importFrom(path string) {
	f, err := os.Open(path)
	if err != nil {
		s.status.SetText(err.Error())
		return
	}
	defer f.Close()
	site, err := importer.ParseSite(path, f)
	if err == nil {
		site, err = saveSite(s.st, s.clock, site)
	}
	if err != nil {
		s.status.SetText(errorText(err))
		return
	}
	s.status.SetText(lang.X("forms.sites.imported", "Site {{.ID}} imported from {{.Path}}.", map[string]any{"ID": site.ID, "Path": path}))
	s.onSaved(site)
}
