package ui

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/importer"
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
	live     *Live
	welcome  *Welcome
	main     fyne.CanvasObject // the tabs with the site selector
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
		m.live.Stop()
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
	m.live = NewLive(st, clock)
	m.collect = newCollector(st, clock)
	m.collect.onState = func(intake.State) { m.gateways.onReload() }
	m.gateways.changed = m.collect.sync
	m.gateways.setUp = m.openWizard
	m.welcome = newWelcome()
	m.welcome.onDemo = m.onDemo
	m.welcome.onOpen = m.onOpenSite
	// m.welcome.onSetUp opens the site form (NewSiteForm) once it exists.
	m.welcome.refresh()
	m.screens = []screen{m.overview, m.live, m.energy, m.quality, m.billing, m.gateways}
	m.shown = make([]string, len(m.screens))
	m.tabs = container.NewAppTabs(
		container.NewTabItem(windowText.Overview, m.overview.Content()),
		container.NewTabItem(lang.X("live.tab", "Live"), m.live.Content()),
		container.NewTabItem(windowText.Energy, m.energy.Content()),
		container.NewTabItem(windowText.Quality, m.quality.Content()),
		container.NewTabItem(windowText.Billing, m.billing.Content()),
		container.NewTabItem(windowText.Gateways, m.gateways.Content()),
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
	m.main = container.NewBorder(top, m.status, nil, nil, m.tabs)
	w.SetContent(m.main)
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
		// A first start: offer what a new user can do.
		m.win.SetTitle(windowText.Title + " – " + windowText.NoSite)
		m.win.SetContent(m.welcome.Content())
		return nil
	}
	if m.win.Content() != m.main {
		m.win.SetContent(m.main)
	}
	if id == "" {
		id = ids[0]
	}
	return m.load(id)
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

// CreateDemo writes the demo site into a store (the CLI's `zevdesk demo`);
// main sets it, so that the welcome screen can offer the demo without
// this package importing the CLI.
var CreateDemo func(st store.Store, now time.Time) error

// onDemo creates the demo site off Fyne's goroutine and shows it.
func (m *MainWindow) onDemo() {
	if CreateDemo == nil {
		return
	}
	m.welcome.setBusy(true, lang.X("welcome.demo.busy", "Creating the demo building (a year of data; this takes a few seconds)…"))
	st, now := m.st, m.clock.Now()
	go func() {
		err := CreateDemo(st, now)
		fyne.Do(func() {
			m.welcome.setBusy(false, "")
			if err != nil {
				slog.Error("creating the demo", "err", err)
				m.welcome.setBusy(false, lang.X("welcome.demo.failed", "The demo could not be created: {{.Err}}", map[string]any{"Err": err.Error()}))
				return
			}
			m.afterSiteCreated("")
		})
		if m.welcome.done != nil {
			m.welcome.done()
		}
	}()
}

// onOpenSite asks for a site file and imports it.
func (m *MainWindow) onOpenSite() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		defer r.Close()
		m.importSite(r.URI().Name(), r)
	}, m.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".toml"}))
	d.Show()
}

// importSite reads a site file and stores the site it describes.
func (m *MainWindow) importSite(name string, r io.Reader) {
	site, err := importer.ParseSite(name, r)
	if err == nil {
		_, err = importer.ImportSite(m.st, site, "desktop", m.clock.Now())
	}
	if err != nil {
		m.welcome.setBusy(false, lang.X("welcome.open.failed", "This site file cannot be used: {{.Err}}", map[string]any{"Err": err.Error()}))
		return
	}
	m.afterSiteCreated(site.ID)
}

// afterSiteCreated leaves the welcome screen for the site's tabs.
func (m *MainWindow) afterSiteCreated(id string) {
	if err := m.ShowSite(id); err != nil {
		m.setStatus(err.Error())
	}
	m.collect.sync()
}

// openWizard opens the installer's setup wizard for the current site in a
// window of its own.
func (m *MainWindow) openWizard() {
	if m.site == nil {
		return
	}
	w := fyne.CurrentApp().NewWindow(lang.X("wizard.window", "Set up gateways – {{.Site}}", map[string]any{"Site": m.site.Name}))
	wz := NewWizard(m.st, m.clock, w, m.site)
	wz.changed = func() {
		m.collect.sync()
		m.gateways.onReload()
		m.live.sync()
	}
	w.SetContent(wz.Content())
	w.Resize(fyne.NewSize(820, 560))
	w.SetOnClosed(func() {
		wz.Stop()
		// The wizard may have added units and meters.
		if err := m.load(m.site.ID); err != nil {
			m.setStatus(err.Error())
		}
		for i := range m.shown {
			m.shown[i] = ""
		}
		m.refreshTab()
	})
	wz.Start()
	w.Show()
}
