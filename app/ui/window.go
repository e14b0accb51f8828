package ui

import (
	"fmt"
	"log/slog"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/intake"
)

// windowText holds the main window's labels.
var windowText = struct {
	Title, Site, Overview, Energy, Quality, Billing, Gateways, NoSite string
}{
	Title: "zevdesk", Site: "Site:", Overview: "Overview", Energy: "Energy", Quality: "Data quality",
	Billing: "Billing", Gateways: "Gateways", NoSite: "no site",
}

// screen is one tab of the main window. setSite is called on Fyne's
// goroutine when the tab becomes visible with a site it has not shown yet.
type screen interface {
	Content() fyne.CanvasObject
	setSite(site *core.Site)
}

// MainWindow is the office's main window: a site selector shared by the
// tabs Overview, Energy, Data quality, Billing and Gateways. It is not safe
// for concurrent use; call its methods on Fyne's goroutine.
type MainWindow struct {
	win   fyne.Window
	st    store.Store
	clock core.Clock

	sites  *widget.Select
	ids    []string // site ids, in the selector's order
	tabs   *container.AppTabs
	status *widget.Label

	overview *Overview
	energy   *Energy
	quality  *Quality
	billing  *Billing
	gateways *Gateways
	master   *MasterData
	collect  *collector
	screens  []screen
	shown    []string // site id each screen last showed

	site *core.Site
}

// NewMainWindow creates the main window of app a on st, showing site (the
// first site if empty). While it is open it ingests from every paired
// gateway; closing it ends that. The caller shows it (ShowAndRun).
func NewMainWindow(a fyne.App, st store.Store, site string, clock core.Clock) fyne.Window {
	m := newMainWindow(a.NewWindow(windowText.Title), st, clock)
	if err := m.ShowSite(site); err != nil {
		slog.Error("showing site", "site", site, "err", err)
		m.setStatus(err.Error())
	}
	m.win.Resize(fyne.NewSize(1100, 720))
	m.collect.sync()
	m.win.SetOnClosed(func() {
		m.gateways.Stop()
		m.energy.Stop()
		m.collect.stop()
	})
	return m.win
}

func newMainWindow(w fyne.Window, st store.Store, clock core.Clock) *MainWindow {
	m := &MainWindow{win: w, st: st, clock: clock}
	m.status = widget.NewLabel("")
	m.overview = NewOverview(st, clock)
	m.overview.sites.Hide() // the window's selector replaces it
	m.energy = NewEnergy(st, clock)
	m.quality = NewQuality(st, clock)
	m.billing = NewBilling(st, clock, w)
	m.gateways = NewGateways(st, clock, w)
	m.collect = newCollector(st, clock)
	m.collect.onState = func(intake.State) { m.gateways.onReload() }
	m.gateways.changed = m.collect.sync
	m.master = NewMasterData(st, clock, w)
	m.master.Changed = m.onSiteChanged
	m.screens = []screen{m.overview, m.energy, m.quality, m.billing, m.gateways, m.master}
	m.shown = make([]string, len(m.screens))
	m.tabs = container.NewAppTabs(
		container.NewTabItem(windowText.Overview, m.overview.Content()),
		container.NewTabItem(windowText.Energy, m.energy.Content()),
		container.NewTabItem(windowText.Quality, m.quality.Content()),
		container.NewTabItem(windowText.Billing, m.billing.Content()),
		container.NewTabItem(windowText.Gateways, m.gateways.Content()),
		container.NewTabItem(lang.X("forms.tab.master", "Master data"), m.master.Content()),
	)
	m.tabs.OnSelected = func(*container.TabItem) { m.refreshTab() }
	m.sites = widget.NewSelect(nil, func(string) {
		i := m.sites.SelectedIndex()
		if i >= 0 && i < len(m.ids) && (m.site == nil || m.site.ID != m.ids[i]) {
			m.onSite(m.ids[i])
		}
	})
	// Room for a site's full name: a Select shows only its minimum width.
	sel := container.NewGridWrap(fyne.NewSize(360, m.sites.MinSize().Height), m.sites)
	top := container.NewBorder(nil, nil, nil, container.NewHBox(widget.NewLabel(windowText.Site), sel))
	m.status.Hide()
	w.SetContent(container.NewBorder(top, m.status, nil, nil, m.tabs))
	return m
}

// ShowSite selects the site with the given id (the first site if empty).
func (m *MainWindow) ShowSite(id string) error {
	// The selector names the sites; ids tell apart two of the same name.
	var ids, names []string
	err := m.st.View(func(tx store.Tx) error {
		var err error
		if ids, err = tx.SiteIDs(); err != nil {
			return err
		}
		for _, id := range ids {
			s, err := tx.Site(id)
			if err != nil {
				return fmt.Errorf("loading site %s: %w", id, err)
			}
			names = append(names, s.Name+" ("+id+")")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("listing sites: %w", err)
	}
	m.ids = ids
	m.sites.Options = names
	if len(ids) == 0 {
		// The overview explains how to create a site.
		m.win.SetTitle(windowText.Title + " – " + windowText.NoSite)
		return m.overview.ShowSite("")
	}
	if id == "" {
		id = ids[0]
	}
	return m.load(id)
}

// onSiteChanged reloads the site selector and lets every tab show the
// changed site again after the master-data forms stored it.
func (m *MainWindow) onSiteChanged(site *core.Site) {
	clear(m.shown)
	m.shown[slices.Index(m.screens, screen(m.master))] = site.ID // it shows it already
	if err := m.ShowSite(site.ID); err != nil {
		m.setStatus(err.Error())
	}
}

func (m *MainWindow) onSite(id string) {
	if err := m.load(id); err != nil {
		m.setStatus(err.Error())
	}
}

// setStatus shows a message under the tabs, or hides the line when empty.
func (m *MainWindow) setStatus(msg string) {
	m.status.SetText(msg)
	if msg == "" {
		m.status.Hide()
	} else {
		m.status.Show()
	}
}

func (m *MainWindow) load(id string) error {
	var site *core.Site
	err := m.st.View(func(tx store.Tx) error {
		var err error
		site, err = tx.Site(id)
		return err
	})
	if err != nil {
		return fmt.Errorf("loading site %s: %w", id, err)
	}
	m.site = site
	m.setStatus("")
	for i, sid := range m.ids {
		if sid == site.ID {
			m.sites.SetSelectedIndex(i)
		}
	}
	m.win.SetTitle(windowText.Title + " – " + site.Name)
	m.refreshTab()
	return nil
}

// refreshTab shows the current site on the visible tab if it has not shown
// it yet: tabs load their data only when someone looks at them.
func (m *MainWindow) refreshTab() {
	if m.site == nil {
		return
	}
	i := m.tabs.SelectedIndex()
	if i < 0 || i >= len(m.screens) || m.shown[i] == m.site.ID {
		return
	}
	m.shown[i] = m.site.ID
	m.screens[i].setSite(m.site)
}

// navButtons makes the Previous and Next buttons of a date navigation.
func navButtons(prev, next string, onPrev, onNext func()) (*widget.Button, *widget.Button) {
	p := widget.NewButtonWithIcon(prev, theme.NavigateBackIcon(), onPrev)
	n := widget.NewButtonWithIcon(next, theme.NavigateNextIcon(), onNext)
	n.IconPlacement = widget.ButtonIconTrailingText
	return p, n
}
