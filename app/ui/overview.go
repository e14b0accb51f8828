// Package ui is zevdesk's desktop interface (Fyne). It is the only package
// that imports Fyne widgets; it runs on Fyne's test driver in tests, so
// nothing here needs cgo or a display. main.go opens the real window.
//
// The main window (NewMainWindow) has a site selector shared by five tabs:
// Overview (the last complete day's totals per meter), Energy (production
// against consumption per quarter-hour, day or month, with the live power of
// the site's gateways), Data quality (vee.Quality per month), Billing (dry
// runs, finalizing, documents) and Gateways (pairing and meter assignment).
// While the window is open, an intake loop per paired gateway brings its
// readings in (as `zevdesk serve` does headless).
//
// Each screen is a struct holding its widgets: on… methods turn input into
// domain calls, refresh… methods draw state. Screens are not safe for
// concurrent use: their methods run on Fyne's goroutine, and work that talks
// to a gateway or bills a period runs on its own goroutine and draws through
// fyne.Do. Every string goes through fyne's lang (lang.X with a key and the
// English text) and is looked up when a screen is built: catalogues are in
// assets/translations, loaded by SetupLanguage. Figures use Swiss formats in
// every language: 1'234.5 kWh, CHF 1'234.50, 31.03.2026. The main window
// follows the store's commits (store.Notifier) and reloads what is shown.
package ui

import (
	"fmt"
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
	"sort"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/totals"
	"github.com/zevdesk/zevdesk/core/vee"
)

// Overview shows one site: its meters with the energy of the last complete
// day, and the building's totals for that day. It is not safe for concurrent
// use; call its methods on Fyne's goroutine (fyne.Do from elsewhere).
type Overview struct {
	st    store.Store
	clock core.Clock

	sites   *widget.Select
	title   *widget.Label
	day     *widget.Label
	figures map[string]*widget.Label // building totals by name
	table   *widget.Table
	status  *widget.Label
	content fyne.CanvasObject

	site    *core.Site
	tot     totals.Totals
	quality map[string]vee.MeterQuality // the day's quality by meter
}

// overviewText returns the overview's labels in the current language.
func overviewText() struct{ NoSite, NoSiteHelp string } {
	return struct{ NoSite, NoSiteHelp string }{
		NoSite: lang.X("overview.nosite", "No site yet"),
		NoSiteHelp: lang.X("overview.nosite.help",
			"Import a site file (zevdesk site import FILE.toml) or start the demo (zevdesk demo)."),
	}
}

// overviewColumns returns the meter table's column titles.
func overviewColumns() []string {
	return []string{lang.X("overview.col.meter", "Meter"), lang.X("overview.col.role", "Role"),
		lang.X("overview.col.import", "Import kWh"), lang.X("overview.col.export", "Export kWh"),
		lang.X("overview.col.missing", "Missing"), lang.X("overview.col.flagged", "Flagged")}
}

// figureIDs are the building totals in display order; figureLabel names
// them.
var figureIDs = []string{"Production", "Consumption", "SelfConsumed", "GridSupply", "FedIn", "Sufficiency"}

func figureLabel(id string) string {
	switch id {
	case "Production":
		return lang.X("figure.production", "Production")
	case "Consumption":
		return lang.X("figure.consumption", "Consumption")
	case "SelfConsumed":
		return lang.X("figure.selfconsumed", "Self-consumed")
	case "GridSupply":
		return lang.X("figure.gridsupply", "Grid supply")
	case "FromGrid":
		return lang.X("figure.fromgrid", "From the grid")
	case "FedIn":
		return lang.X("figure.fedin", "Fed in")
	case "Sufficiency":
		return lang.X("figure.sufficiency", "Self-sufficiency")
	case "Grid":
		return lang.X("figure.grid", "Grid")
	case "Estimated":
		return lang.X("figure.estimated", "Estimated")
	}
	return id
}

// roleName names a meter role in the current language.
func roleName(r core.Role) string {
	switch r {
	case core.RoleProduction:
		return lang.X("role.production", "production")
	case core.RoleGrid:
		return lang.X("role.grid", "grid")
	case core.RoleUnit:
		return lang.X("role.unit", "unit")
	case core.RoleCommon:
		return lang.X("role.common", "common")
	case core.RoleHeatPump:
		return lang.X("role.heatpump", "heat pump")
	case core.RoleEV:
		return lang.X("role.ev", "EV charger")
	}
	return string(r)
}

// NewOverview builds the overview on st. It shows nothing until ShowSite.
func NewOverview(st store.Store, clock core.Clock) *Overview {
	o := &Overview{st: st, clock: clock, figures: map[string]*widget.Label{}}
	o.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	o.day = widget.NewLabel("")
	o.status = widget.NewLabel("")
	o.sites = newSelect(nil, func(id string) {
		if o.site == nil || o.site.ID != id {
			o.onSite(id)
		}
	})
	grid := container.New(layout.NewGridLayout(3))
	for _, n := range figureIDs {
		v := widget.NewLabelWithStyle("–", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		o.figures[n] = v
		grid.Add(widget.NewCard("", figureLabel(n), v))
	}
	columns := overviewColumns()
	o.table = widget.NewTable(o.tableSize, func() fyne.CanvasObject {
		return widget.NewLabel("M-W01 (heatpump) wide")
	}, o.updateCell)
	o.table.ShowHeaderRow = true
	o.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	o.table.UpdateHeader = func(id widget.TableCellID, c fyne.CanvasObject) {
		if id.Row < 0 && id.Col >= 0 && id.Col < len(columns) {
			c.(*widget.Label).SetText(columns[id.Col])
		}
	}
	for i, w := range []float32{140, 110, 120, 120, 80, 80} {
		o.table.SetColumnWidth(i, w)
	}
	top := container.NewVBox(container.NewBorder(nil, nil, nil, o.sites, o.title), o.day, grid)
	o.content = container.NewBorder(top, o.status, nil, nil, o.table)
	return o
}

// Content returns the overview's canvas object.
func (o *Overview) Content() fyne.CanvasObject { return o.content }

// ShowSite loads the site with the given id (the first site if empty) and
// shows its last complete day.
func (o *Overview) ShowSite(id string) error {
	var ids []string
	err := o.st.View(func(tx store.Tx) error {
		var err error
		ids, err = tx.SiteIDs()
		return err
	})
	if err != nil {
		return fmt.Errorf("listing sites: %w", err)
	}
	o.sites.Options = ids
	if len(ids) == 0 {
		o.title.SetText(overviewText().NoSite)
		o.status.SetText(overviewText().NoSiteHelp)
		return nil
	}
	if id == "" {
		id = ids[0]
	}
	return o.load(id)
}

func (o *Overview) onSite(id string) {
	if err := o.load(id); err != nil {
		o.status.SetText(err.Error())
	}
}

func (o *Overview) load(id string) error {
	var site *core.Site
	var tot totals.Totals
	var rep vee.QualityReport
	err := o.st.View(func(tx store.Tx) error {
		var err error
		if site, err = tx.Site(id); err != nil {
			return fmt.Errorf("loading site %s: %w", id, err)
		}
		yesterday := core.DateOf(o.clock.Now().In(site.Location())).AddDays(-1)
		day := core.Period{From: yesterday, To: yesterday}
		if tot, err = totals.Of(tx, site, day); err != nil {
			return err
		}
		// The day's quality as Data quality counts it, so that the two
		// screens never disagree about what is measured.
		rep, err = vee.Quality(tx, site, day)
		return err
	})
	if err != nil {
		return err
	}
	o.site, o.tot = site, tot
	o.quality = map[string]vee.MeterQuality{}
	for _, m := range rep.Meters {
		o.quality[m.Meter] = m
	}
	sort.SliceStable(o.tot.Meters, func(i, j int) bool { return roleOrder(o.tot.Meters[i].Role) < roleOrder(o.tot.Meters[j].Role) })
	o.refresh()
	return nil
}

// reload shows site again with the store's latest data.
func (o *Overview) reload(site *core.Site) { o.onSite(site.ID) }

func roleOrder(r core.Role) int {
	for i, x := range core.Roles {
		if x == r {
			return i
		}
	}
	return len(core.Roles)
}

// refresh draws the loaded state.
func (o *Overview) refresh() {
	s, t := o.site, o.tot
	o.sites.SetSelected(s.ID)
	o.title.SetText(s.Name)
	o.day.SetText(lang.X("overview.lastday", "Last complete day: {{.Weekday}}, {{.Date}} ({{.Slots}} intervals)",
		map[string]any{"Weekday": weekday(t.Period.From), "Date": date(t.Period.From), "Slots": t.Slots}))
	set := func(name string, e core.Energy) { o.figures[name].SetText(kwhUnit(e)) }
	set("Production", t.Production)
	set("Consumption", t.Consumption)
	set("SelfConsumed", t.SelfConsumed)
	set("GridSupply", t.GridImport)
	set("FedIn", t.FeedIn)
	o.figures["Sufficiency"].SetText(percent(t.SelfSufficiency()))
	var estimated, flagged int
	for _, q := range o.quality {
		estimated += q.Estimated
		flagged += q.Flagged
	}
	switch missing := t.Missing(); {
	case missing > 0:
		o.status.SetText(lang.XN("overview.missing", "{{.N}} intervals without data on this day.", missing, map[string]any{"N": count(missing)}))
	case estimated > 0 || flagged > 0:
		o.status.SetText(lang.X("overview.flagged",
			"{{.Meters}} meters: {{.Estimated}} intervals estimated, {{.Flagged}} flagged on this day (see Data quality).",
			map[string]any{"Meters": len(t.Meters), "Estimated": count(estimated), "Flagged": count(flagged)}))
	default:
		o.status.SetText(lang.XN("overview.allmeasured", "{{.N}} meters, all intervals measured.", len(t.Meters), map[string]any{"N": len(t.Meters)}))
	}
	o.table.Refresh()
}

func (o *Overview) tableSize() (int, int) { return len(o.tot.Meters), len(overviewColumns()) }

func (o *Overview) updateCell(id widget.TableCellID, c fyne.CanvasObject) {
	l := c.(*widget.Label)
	if id.Row >= len(o.tot.Meters) {
		l.SetText("")
		return
	}
	m := o.tot.Meters[id.Row]
	l.Alignment = fyne.TextAlignTrailing
	switch id.Col {
	case 0:
		l.Alignment = fyne.TextAlignLeading
		l.SetText(m.ID)
	case 1:
		l.Alignment = fyne.TextAlignLeading
		l.SetText(roleName(m.Role))
	case 2:
		l.SetText(kwh(m.Import))
	case 3:
		l.SetText(kwh(m.Export))
	case 4:
		l.SetText(count(m.Missing))
	case 5:
		l.SetText(count(o.quality[m.ID].Flagged))
	}
}

// setSite shows site (the main window's selector changed).
func (o *Overview) setSite(site *core.Site) { o.onSite(site.ID) }
