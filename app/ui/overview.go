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
// fyne.Do. A screen's labels are in one struct per screen (overviewText,
// energyText, ...), ready for translation. Figures use Swiss formats:
// 1'234.5 kWh, CHF 1'234.50, 31.03.2026.
package ui

import (
	"fmt"
	"sort"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/totals"
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

	site *core.Site
	tot  totals.Totals
}

// overviewText holds the overview's labels.
var overviewText = struct {
	Production, Consumption, SelfConsumed, GridSupply, FedIn, Sufficiency string
	NoSite, NoSiteHelp, LastDay, Missing, AllMeasured                     string
	Columns                                                               []string
}{
	Production: "Production", Consumption: "Consumption", SelfConsumed: "Self-consumed", GridSupply: "Grid supply",
	FedIn: "Fed in", Sufficiency: "Self-sufficiency",
	NoSite:      "No site yet",
	NoSiteHelp:  "Import a site file (zevdesk site import FILE.toml) or start the demo (zevdesk demo).",
	LastDay:     "Last complete day: %s, %s (%d intervals)",
	Missing:     "%d intervals without data on this day.",
	AllMeasured: "%d meters, all intervals measured.",
	Columns:     []string{"Meter", "Role", "Import kWh", "Export kWh", "Missing"},
}

// figureNames are the building totals in display order.
var figureNames = []string{overviewText.Production, overviewText.Consumption, overviewText.SelfConsumed,
	overviewText.GridSupply, overviewText.FedIn, overviewText.Sufficiency}

// NewOverview builds the overview on st. It shows nothing until ShowSite.
func NewOverview(st store.Store, clock core.Clock) *Overview {
	o := &Overview{st: st, clock: clock, figures: map[string]*widget.Label{}}
	o.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	o.day = widget.NewLabel("")
	o.status = widget.NewLabel("")
	o.sites = widget.NewSelect(nil, func(id string) {
		if o.site == nil || o.site.ID != id {
			o.onSite(id)
		}
	})
	grid := container.New(layout.NewGridLayout(3))
	for _, n := range figureNames {
		v := widget.NewLabelWithStyle("–", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		o.figures[n] = v
		grid.Add(widget.NewCard("", n, v))
	}
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
	for i, w := range []float32{140, 110, 130, 130, 90} {
		o.table.SetColumnWidth(i, w)
	}
	top := container.NewVBox(container.NewBorder(nil, nil, nil, o.sites, o.title), o.day, grid)
	o.content = container.NewBorder(top, o.status, nil, nil, o.table)
	return o
}

var columns = overviewText.Columns

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
		o.title.SetText(overviewText.NoSite)
		o.status.SetText(overviewText.NoSiteHelp)
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
	err := o.st.View(func(tx store.Tx) error {
		var err error
		if site, err = tx.Site(id); err != nil {
			return fmt.Errorf("loading site %s: %w", id, err)
		}
		yesterday := core.DateOf(o.clock.Now().In(site.Location())).AddDays(-1)
		tot, err = totals.Of(tx, site, core.Period{From: yesterday, To: yesterday})
		return err
	})
	if err != nil {
		return err
	}
	o.site, o.tot = site, tot
	sort.SliceStable(o.tot.Meters, func(i, j int) bool { return roleOrder(o.tot.Meters[i].Role) < roleOrder(o.tot.Meters[j].Role) })
	o.refresh()
	return nil
}

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
	o.day.SetText(fmt.Sprintf(overviewText.LastDay, t.Period.From.Midnight(time.UTC).Format("Monday"), date(t.Period.From), t.Slots))
	set := func(name string, e core.Energy) { o.figures[name].SetText(kwh(e) + " kWh") }
	set(overviewText.Production, t.Production)
	set(overviewText.Consumption, t.Consumption)
	set(overviewText.SelfConsumed, t.SelfConsumed)
	set(overviewText.GridSupply, t.GridImport)
	set(overviewText.FedIn, t.FeedIn)
	o.figures[overviewText.Sufficiency].SetText(percent(t.SelfSufficiency()))
	if missing := t.Missing(); missing > 0 {
		o.status.SetText(fmt.Sprintf(overviewText.Missing, missing))
	} else {
		o.status.SetText(fmt.Sprintf(overviewText.AllMeasured, len(t.Meters)))
	}
	o.table.Refresh()
}

func (o *Overview) tableSize() (int, int) { return len(o.tot.Meters), len(columns) }

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
		l.SetText(string(m.Role))
	case 2:
		l.SetText(kwh(m.Import))
	case 3:
		l.SetText(kwh(m.Export))
	case 4:
		l.SetText(fmt.Sprint(m.Missing))
	}
}

// setSite shows site (the main window's selector changed).
func (o *Overview) setSite(site *core.Site) { o.onSite(site.ID) }
