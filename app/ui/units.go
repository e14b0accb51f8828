package ui

import (
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// Units edits a site's units (area, value quota, custom weight: the keys of
// shared meters) and meters (role, unit, key, maximum power, SDAT-CH
// metering point). Removing what a billed period refers to is refused by
// the save path. It is not safe for concurrent use; call its methods on
// Fyne's goroutine.
type Units struct {
	st      store.Store
	clock   core.Clock
	win     fyne.Window // where Retire… asks (set by the master-data tab)
	changed func(*core.Site)
	site    *core.Site

	units, meters *widget.List
	unitIdx       int // unit being edited; -1 for a new one
	meterIdx      int

	ufs                                     *fieldSet
	uID, uName, uArea, uQuota, uWgt, uSince *widget.Entry
	mfs                                     *fieldSet
	mID, mName, mPower, mPoint, mSince      *widget.Entry
	mRole, mUnit, mKey                      *widget.Select
	status                                  *widget.Label
	content                                 fyne.CanvasObject
	// retireForm is the Retire… dialog last opened, retireDay its date
	// (tests).
	retireForm *dialog.FormDialog
	retireDay  *widget.Entry
}

func roleLabels() []string {
	return []string{lang.X("forms.role.production", "Production (PV)"), lang.X("forms.role.grid", "Grid (utility meter)"),
		lang.X("forms.role.unit", "Unit"), lang.X("forms.role.common", "Common (stairs, lift, …)"),
		lang.X("forms.role.heatpump", "Heat pump"), lang.X("forms.role.ev", "EV charger")}
}

func keyLabels() []string {
	return []string{lang.X("forms.key.units", "Equal per unit"), lang.X("forms.key.area", "By area"),
		lang.X("forms.key.quota", "By value quota"), lang.X("forms.key.custom", "By custom weight"),
		lang.X("forms.key.owner", "Billed to the owner")}
}

// NewUnits makes the Units & meters screen on st.
func NewUnits(st store.Store, clock core.Clock) *Units {
	u := &Units{st: st, clock: clock, unitIdx: -1, meterIdx: -1, ufs: newFieldSet(), mfs: newFieldSet()}
	u.status = widget.NewLabel("")
	u.status.Wrapping = fyne.TextWrapWord
	u.units = widget.NewList(func() int {
		if u.site == nil {
			return 0
		}
		return len(u.site.Units)
	}, func() fyne.CanvasObject { return widget.NewLabel("") }, func(i widget.ListItemID, o fyne.CanvasObject) {
		o.(*widget.Label).SetText(u.unitLine(i))
	})
	u.units.OnSelected = func(i widget.ListItemID) { u.editUnit(i) }
	u.meters = widget.NewList(func() int {
		if u.site == nil {
			return 0
		}
		return len(u.site.Meters)
	}, func() fyne.CanvasObject { return widget.NewLabel("") }, func(i widget.ListItemID, o fyne.CanvasObject) {
		o.(*widget.Label).SetText(u.meterLine(i))
	})
	u.meters.OnSelected = func(i widget.ListItemID) { u.editMeter(i) }

	u.uID, u.uName, u.uArea, u.uQuota, u.uWgt = widget.NewEntry(), widget.NewEntry(), widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	u.ufs.add("id", lang.X("forms.unit.id", "Unit id"), u.uID)
	u.ufs.add("name", lang.X("forms.unit.name", "Description"), u.uName)
	u.ufs.add("area_m2", lang.X("forms.unit.area", "Area in m²"), u.uArea)
	u.ufs.add("quota", lang.X("forms.unit.quota", "Value quota"), u.uQuota)
	u.ufs.add("weight", lang.X("forms.unit.weight", "Custom weight"), u.uWgt)
	// The first day in service, for a unit made later (merged, split,
	// built); the last one is set by Retire unit….
	u.uSince = widget.NewEntry()
	u.uSince.SetPlaceHolder(lang.X("office.since.placeholder", "from the start"))
	u.ufs.add("since", lang.X("office.since", "In service from"), u.uSince)
	u.mID, u.mName, u.mPower, u.mPoint = widget.NewEntry(), widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	u.mSince = widget.NewEntry()
	u.mSince.SetPlaceHolder(lang.X("office.since.placeholder", "from the start"))
	u.mPower.SetPlaceHolder(fmt.Sprint(core.DefaultMaxPowerW))
	u.mPoint.SetPlaceHolder("CH1007…")
	u.mRole = newSelect(roleLabels(), nil)
	u.mUnit = newSelect(nil, nil)
	u.mKey = newSelect(keyLabels(), nil)
	u.mfs.add("id", lang.X("forms.meter.id", "Meter id"), u.mID)
	u.mfs.add("name", lang.X("forms.meter.name", "Description"), u.mName)
	u.mfs.add("role", lang.X("forms.meter.role", "Role"), u.mRole)
	u.mfs.add("unit", lang.X("forms.meter.unit", "Unit (for a unit meter)"), u.mUnit)
	u.mfs.add("key", lang.X("forms.meter.key", "Key (for a shared meter)"), u.mKey)
	u.mfs.add("max_power_w", lang.X("forms.meter.power", "Maximum power in W"), u.mPower)
	u.mfs.add("metering_point", lang.X("forms.meter.point", "SDAT-CH metering point"), u.mPoint)
	u.mfs.add("since", lang.X("office.since", "In service from"), u.mSince)

	unitBox := container.NewBorder(
		widget.NewLabelWithStyle(lang.X("forms.units", "Units"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewVBox(u.ufs.grid(), u.ufs.general, formButtons(
			widget.NewButton(lang.X("forms.unit.new", "New unit"), func() { u.editUnit(-1) }),
			widget.NewButton(lang.X("forms.unit.save", "Save unit"), u.onSaveUnit),
			widget.NewButton(lang.X("forms.unit.remove", "Remove unit"), u.onRemoveUnit),
			widget.NewButton(lang.X("office.unit.retire", "Retire unit…"), u.onRetireUnit))),
		nil, nil, u.units)
	meterBox := container.NewBorder(
		widget.NewLabelWithStyle(lang.X("forms.meters", "Meters"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		container.NewVBox(u.mfs.grid(), u.mfs.general, formButtons(
			widget.NewButton(lang.X("forms.meter.new", "New meter"), func() { u.editMeter(-1) }),
			widget.NewButton(lang.X("forms.meter.save", "Save meter"), u.onSaveMeter),
			widget.NewButton(lang.X("forms.meter.remove", "Remove meter"), u.onRemoveMeter),
			widget.NewButton(lang.X("office.meter.retire", "Retire…"), u.onRetireMeter))),
		nil, nil, u.meters)
	u.content = container.NewBorder(nil, u.status, nil, nil, container.NewHSplit(unitBox, meterBox))
	return u
}

// Content returns the screen's canvas object.
func (u *Units) Content() fyne.CanvasObject { return u.content }

func (u *Units) setSite(site *core.Site) {
	u.site = site
	u.units.UnselectAll()
	u.meters.UnselectAll()
	u.editUnit(-1)
	u.editMeter(-1)
	u.status.SetText("")
	u.units.Refresh()
	u.meters.Refresh()
}

func (u *Units) unitLine(i int) string {
	if u.site == nil || i >= len(u.site.Units) {
		return ""
	}
	x := u.site.Units[i]
	s := x.ID
	if x.Name != "" {
		s += "  " + x.Name
	}
	if x.Area > 0 {
		s += "  " + hundredthsField(x.Area) + " m²"
	}
	return s + serviceNote(x.Since, x.Retired)
}

// serviceNote is what a unit's or meter's line says about its days in
// service: nothing while it has none set.
func serviceNote(since, retired core.Date) string {
	s := ""
	if !since.IsZero() {
		s += "  " + lang.X("office.sinceOn", "(in service from {{.Date}})", map[string]any{"Date": date(since)})
	}
	if !retired.IsZero() {
		s += "  " + lang.X("office.meter.retiredOn", "(retired after {{.Date}})", map[string]any{"Date": date(retired)})
	}
	return s
}

func (u *Units) meterLine(i int) string {
	if u.site == nil || i >= len(u.site.Meters) {
		return ""
	}
	m := u.site.Meters[i]
	s := m.ID + "  " + roleLabels()[max(slices.Index(core.Roles, m.Role), 0)]
	if m.Unit != "" {
		s += " " + m.Unit
	}
	if m.Key != "" && m.Role != core.RoleUnit {
		s += " · " + keyLabels()[max(slices.Index(core.Keys, m.Key), 0)]
	}
	return s + serviceNote(m.Since, m.Retired)
}

func (u *Units) editUnit(i int) {
	u.ufs.clear()
	u.unitIdx = i
	var x core.Unit
	if u.site != nil && i >= 0 && i < len(u.site.Units) {
		x = u.site.Units[i]
	} else {
		u.unitIdx = -1
	}
	u.uID.SetText(x.ID)
	u.uName.SetText(x.Name)
	u.uArea.SetText(hundredthsField(x.Area))
	u.uQuota.SetText(intField(x.Quota))
	u.uWgt.SetText(intField(x.Weight))
	u.uSince.SetText(dateField(x.Since))
}

func (u *Units) editMeter(i int) {
	u.mfs.clear()
	u.meterIdx = i
	m := core.Meter{Role: core.RoleUnit}
	if u.site != nil && i >= 0 && i < len(u.site.Meters) {
		m = u.site.Meters[i]
	} else {
		u.meterIdx = -1
	}
	var ids []string
	if u.site != nil {
		for _, x := range u.site.Units {
			ids = append(ids, x.ID)
		}
	}
	u.mUnit.Options = append([]string{""}, ids...)
	u.mID.SetText(m.ID)
	u.mName.SetText(m.Name)
	u.mRole.SetSelectedIndex(max(slices.Index(core.Roles, m.Role), 0))
	u.mUnit.SetSelected(m.Unit)
	if m.Key == "" {
		u.mKey.ClearSelected()
	} else {
		u.mKey.SetSelectedIndex(max(slices.Index(core.Keys, m.Key), 0))
	}
	u.mPower.SetText(intField(m.MaxPowerW))
	u.mPoint.SetText(m.MeteringPoint)
	u.mSince.SetText(dateField(m.Since))
}

// save stores s and shows the result; on an error it is shown in fs at the
// field of prefix's element.
func (u *Units) save(s *core.Site, fs *fieldSet, prefix string) bool {
	stored, err := saveSite(u.st, u.clock, s)
	if err != nil {
		fs.showErr(err, prefix)
		return false
	}
	u.site = stored
	u.units.Refresh()
	u.meters.Refresh()
	u.status.SetText(lang.X("forms.saved", "Saved."))
	if u.changed != nil {
		u.changed(stored)
	}
	return true
}

func (u *Units) onSaveUnit() {
	if u.site == nil {
		return
	}
	u.ufs.clear()
	in := inputs{fs: u.ufs}
	x := core.Unit{ID: strings.TrimSpace(u.uID.Text), Name: strings.TrimSpace(u.uName.Text)}
	var err error
	x.Area, err = parseHundredthsField(u.uArea.Text)
	in.check(u.ufs.byElem["area_m2"], err)
	x.Quota, err = parseIntField(u.uQuota.Text)
	in.check(u.ufs.byElem["quota"], err)
	x.Weight, err = parseIntField(u.uWgt.Text)
	in.check(u.ufs.byElem["weight"], err)
	x.Since, err = parseDateField(u.uSince.Text)
	in.check(u.ufs.byElem["since"], err)
	if in.bad {
		return
	}
	s := cloneSite(u.site)
	i := u.unitIdx
	if i < 0 {
		s.Units = append(s.Units, x)
		i = len(s.Units) - 1
	} else {
		old := s.Units[i].ID
		x.Retired = s.Units[i].Retired // set by Retire unit… only
		// The unit's meters enter service with it, as they leave with it.
		moveMeters(s, old, s.Units[i].Since, x.Since, func(m *core.Meter) *core.Date { return &m.Since },
			func(m, u core.Date) bool { return m.Before(u) })
		s.Units[i] = x
		if old != x.ID { // a renamed unit takes its meters and tenants along
			for j := range s.Meters {
				if s.Meters[j].Unit == old {
					s.Meters[j].Unit = x.ID
				}
			}
			for j := range s.Occupancies {
				if s.Occupancies[j].Unit == old {
					s.Occupancies[j].Unit = x.ID
				}
			}
		}
	}
	if u.save(s, u.ufs, fmt.Sprintf("units[%d].", i)) {
		u.unitIdx = i
	}
}

func (u *Units) onRemoveUnit() {
	if u.site == nil || u.unitIdx < 0 {
		return
	}
	u.ufs.clear()
	s := cloneSite(u.site)
	id := s.Units[u.unitIdx].ID
	for _, m := range s.Meters {
		if m.Unit == id {
			u.ufs.fail("", lang.X("forms.unit.hasMeter", "Unit {{.Unit}} has meter {{.Meter}}: remove or reassign the meter first.", map[string]any{"Unit": id, "Meter": m.ID}))
			return
		}
	}
	for _, o := range s.Occupancies {
		if o.Unit == id {
			u.ufs.fail("", lang.X("forms.unit.hasTenant", "Unit {{.Unit}} has tenancies (history is kept): it cannot be removed.", map[string]any{"Unit": id}))
			return
		}
	}
	s.Units = slices.Delete(s.Units, u.unitIdx, u.unitIdx+1)
	if u.save(s, u.ufs, "") {
		u.units.UnselectAll()
		u.editUnit(-1)
	}
}

func (u *Units) onSaveMeter() {
	if u.site == nil {
		return
	}
	u.mfs.clear()
	in := inputs{fs: u.mfs}
	m := core.Meter{ID: strings.TrimSpace(u.mID.Text), Name: strings.TrimSpace(u.mName.Text),
		Unit: u.mUnit.Selected, MeteringPoint: strings.TrimSpace(u.mPoint.Text)}
	if i := u.mRole.SelectedIndex(); i >= 0 {
		m.Role = core.Roles[i]
	}
	if i := u.mKey.SelectedIndex(); i >= 0 && (m.Role == core.RoleCommon || m.Role == core.RoleHeatPump) {
		m.Key = core.Keys[i]
	}
	var err error
	m.MaxPowerW, err = parseIntField(u.mPower.Text)
	in.check(u.mfs.byElem["max_power_w"], err)
	m.Since, err = parseDateField(u.mSince.Text)
	in.check(u.mfs.byElem["since"], err)
	if in.bad {
		return
	}
	s := cloneSite(u.site)
	i := u.meterIdx
	if i < 0 {
		s.Meters = append(s.Meters, m)
		i = len(s.Meters) - 1
	} else {
		m.Retired = s.Meters[i].Retired // set by Retire… only
		s.Meters[i] = m
	}
	if u.save(s, u.mfs, fmt.Sprintf("meters[%d].", i)) {
		u.meterIdx = i
		u.editMeter(i)
	}
}

func (u *Units) onRemoveMeter() {
	if u.site == nil || u.meterIdx < 0 {
		return
	}
	u.mfs.clear()
	s := cloneSite(u.site)
	s.Meters = slices.Delete(s.Meters, u.meterIdx, u.meterIdx+1)
	if u.save(s, u.mfs, "") {
		u.meters.UnselectAll()
		u.editMeter(-1)
	}
}

// onRetireMeter asks for the last day in service of the meter being edited
// and stores it: billing and the checks ignore what the meter records after
// that day, and the meter stays in the site for the periods billed before
// (where Remove meter is refused). An empty date puts it back in service.
func (u *Units) onRetireMeter() {
	if u.site == nil || u.meterIdx < 0 || u.win == nil {
		return
	}
	i := u.meterIdx
	m := u.site.Meters[i]
	u.askLastDay(lang.X("office.meter.retireTitle", "Retire meter {{.Meter}}", map[string]any{"Meter": m.ID}),
		lang.X("office.meter.retireText",
			"The meter's last day in service. What it records after that day is neither billed nor counted as missing; the meter and its data stay for the periods billed before. Leave empty to put it back in service."),
		m.Retired, func(d core.Date) {
			s := cloneSite(u.site)
			s.Meters[i].Retired = d
			if u.save(s, u.mfs, fmt.Sprintf("meters[%d].", i)) {
				u.editMeter(i)
			}
		})
}

// onRetireUnit asks for the last day in service of the unit being edited
// (merged with a neighbour, turned into a common room) and stores it with
// its unit meters retired on the same day (those retired earlier keep their
// day). From the next day the unit has no tenancy, no vacancy, no fees, and
// the other units share the common meters alone. A tenancy running past
// the day is refused at the save, naming it: the move-out comes first. An
// empty date puts the unit back in service, with the meters that were
// retired with it.
func (u *Units) onRetireUnit() {
	if u.site == nil || u.unitIdx < 0 || u.win == nil {
		return
	}
	i := u.unitIdx
	x := u.site.Units[i]
	u.askLastDay(lang.X("office.unit.retireTitle", "Retire unit {{.Unit}}", map[string]any{"Unit": x.ID}),
		lang.X("office.unit.retireText",
			"The unit's last day in service, for example before it is merged with a neighbour. Its tenancies must end by then; its meters are retired with it. From the next day the unit has no tenant, no vacancy and no fees, and the other units share the common meters. It stays for the periods billed before. Leave empty to put it back in service."),
		x.Retired, func(d core.Date) {
			s := cloneSite(u.site)
			s.Units[i].Retired = d
			moveMeters(s, x.ID, x.Retired, d, func(m *core.Meter) *core.Date { return &m.Retired },
				func(m, u core.Date) bool { return m.After(u) })
			if u.save(s, u.ufs, fmt.Sprintf("units[%d].", i)) {
				u.editUnit(i)
			}
		})
}

// moveMeters moves a day in service (field: the first or the last) of
// unit's meters with the unit's, from old to new: a meter that had the
// unit's old day, or none, or one outside the unit's new days (outside
// reports m outside u), gets the new one. A day of its own inside the
// unit's days stays.
func moveMeters(s *core.Site, unit string, old, new core.Date, field func(*core.Meter) *core.Date, outside func(m, u core.Date) bool) {
	if old == new {
		return
	}
	for j := range s.Meters {
		m := &s.Meters[j]
		if m.Role != core.RoleUnit || m.Unit != unit {
			continue
		}
		if d := field(m); *d == old || !new.IsZero() && (d.IsZero() || outside(*d, new)) {
			*d = new
		}
	}
}

// askLastDay shows the dialog of Retire…: a last day in service, prefilled
// with current or today, and calls apply with the date typed (zero when
// the field is left empty).
func (u *Units) askLastDay(title, text string, current core.Date, apply func(core.Date)) {
	u.retireDay = widget.NewEntry()
	u.retireDay.SetPlaceHolder("30.06.2026")
	u.retireDay.SetText(dateField(current))
	if current.IsZero() {
		u.retireDay.SetText(date(core.DateOf(u.clock.Now().In(u.site.Location()))))
	}
	u.retireDay.Validator = func(s string) error { _, err := parseDateField(s); return err }
	msg := widget.NewLabel(text)
	msg.Wrapping = fyne.TextWrapWord
	items := []*widget.FormItem{widget.NewFormItem("", msg),
		widget.NewFormItem(lang.X("office.meter.lastDay", "Last day in service"), u.retireDay)}
	u.retireForm = dialog.NewForm(title, lang.X("office.meter.retireConfirm", "Retire"),
		lang.X("office.meter.retireCancel", "Cancel"), items, func(ok bool) {
			if !ok {
				return
			}
			d, err := parseDateField(u.retireDay.Text)
			if err != nil {
				return
			}
			apply(d)
		}, u.win)
	u.retireForm.Resize(fyne.NewSize(520, 320))
	u.retireForm.Show()
}
