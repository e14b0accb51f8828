package ui

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
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

// windowTitle is the application's name, the same in every language.
const windowTitle = "zevdesk"

// screen is one tab of the main window. setSite is called on Fyne's
// goroutine when the tab becomes visible with a site it has not shown yet.
type screen interface {
	Content() fyne.CanvasObject
	setSite(site *core.Site)
}

// reloader is a screen that can show the store's latest data for site
// while keeping the day, month or period a person has chosen.
type reloader interface {
	reload(site *core.Site)
}

// MainWindow is the office's main window: a site selector shared by the
// tabs Overview, Energy, Data quality, Billing and Gateways. It is not safe
// for concurrent use; call its methods on Fyne's goroutine.
type MainWindow struct {
	win   fyne.Window
	app   fyne.App
	st    store.Store
	clock core.Clock
	// stopNotify ends the store subscription (nil without a Notifier).
	stopNotify func()
	// throttle is the least time between two refreshes on data changes.
	throttle time.Duration
	// changed, when set, is called on the UI goroutine after each refresh
	// on a data change (tests wait on it).
	changed func()
	// title is the window's title; while deferTitle it waits for the
	// window to be created with the bare application name.
	title      string
	deferTitle bool
	opts       Options
	// settings is the Settings dialog last opened, the backup widgets in
	// it and the backup chosen for restoring (tests).
	settings                 *dialog.ConfirmDialog
	backupSel                *widget.Select
	backupNow, backupRestore *widget.Button
	restoring                string
	// web is the resident web page the app serves; webForm and dbForm
	// are their parts of the Settings dialog last opened (tests).
	web     *webServer
	webForm *webForm
	dbForm  *dbForm
	// residents is the resident links window last opened (tests).
	residents *Residents

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
	receive  *Collection
	live     *Live
	imports  *Imports
	welcome  *Welcome
	main     fyne.CanvasObject // the tabs with the site selector
	collect  *intake.Collector
	screens  []screen
	shown    []string // site id each screen last showed

	site *core.Site
}

// NewMainWindow creates the main window of app a on st, showing site (the
// first site if empty); opts (nil for none) say where the data lives. While
// it is open it ingests from every paired gateway; closing it ends that. The
// caller shows it (ShowAndRun).
func NewMainWindow(a fyne.App, st store.Store, site string, clock core.Clock, opts *Options) fyne.Window {
	w := a.NewWindow(windowTitle)
	w.SetMaster()
	m := newMainWindow(w, st, clock)
	if opts != nil {
		m.opts = *opts
	}
	m.web.files = m.opts.Files
	// On X11 the window's WM class is its title when it is created (GLFW's
	// default, which Fyne keeps): "zevdesk", as the desktop entry's
	// StartupWMClass says. The site's name joins the title once the window
	// exists: Show creates it before the app's loop starts, which OnStarted
	// announces (a first focus may never come without a window manager).
	m.deferTitle = true
	a.Lifecycle().SetOnStarted(func() {
		if m.deferTitle {
			m.deferTitle = false
			m.setTitle(m.title)
		}
	})
	if err := m.ShowSite(site); err != nil {
		slog.Error("showing site", "site", site, "err", err)
		m.setStatus(err.Error())
	}
	m.syncCollector()
	m.subscribe()
	m.startWebFromPrefs()
	w.SetOnClosed(func() {
		m.web.stop()
		m.saveSize()
		if m.stopNotify != nil {
			m.stopNotify()
		}
		m.live.Stop()
		m.gateways.Stop()
		m.collect.Stop()
	})
	return m.win
}

func newMainWindow(w fyne.Window, st store.Store, clock core.Clock) *MainWindow {
	m := &MainWindow{win: w, app: fyne.CurrentApp(), st: st, clock: clock, throttle: refreshThrottle}
	m.collect = newCollector(st, clock, func(intake.State) { m.gateways.onReload() })
	m.web = &webServer{st: st, clock: clock}
	// The theme before the widgets: text drawn in the system's theme and
	// then switched kept the old colour in places (faint labels).
	applyTheme(m.app)
	m.build()
	m.restoreSize()
	installDialogKeys(w)
	// Files dropped anywhere on the window are imported into the site shown.
	w.SetOnDropped(m.onDropped)
	return m
}

// build makes the window's screens, tabs and menu in the current language.
func (m *MainWindow) build() {
	w, st, clock := m.win, m.st, m.clock
	m.status = widget.NewLabel("")
	m.overview = NewOverview(st, clock)
	m.overview.sites.Hide() // the window's selector replaces it
	m.energy = NewEnergy(st, clock)
	m.quality = NewQuality(st, clock)
	m.quality.win = w
	m.billing = NewBilling(st, clock, w)
	m.gateways = NewGateways(st, clock, w)
	m.gateways.changed = m.syncCollector
	m.gateways.setUp = m.openWizard
	m.live = NewLive(st, clock)
	m.imports = NewImports(st, clock, w, func() *core.Site { return m.site })
	m.master = NewMasterData(st, clock, w)
	m.master.Changed = m.onSiteChanged
	m.master.Tenants.onLinks = m.showResidents
	m.receive = NewCollection(st, clock, w)
	m.welcome = newWelcome()
	m.welcome.onDemo = m.onDemo
	m.welcome.onOpen = m.onOpenSite
	m.welcome.onSetUp = m.onSetUpSite
	m.welcome.refresh()
	m.screens = []screen{m.overview, m.live, m.energy, m.quality, m.billing, m.gateways, m.master, m.receive}
	m.shown = make([]string, len(m.screens))
	m.tabs = container.NewAppTabs(
		container.NewTabItem(lang.X("window.tab.overview", "Overview"), newTabContent(m.overview.Content())),
		container.NewTabItem(lang.X("live.tab", "Live"), newTabContent(m.live.Content())),
		container.NewTabItem(lang.X("window.tab.energy", "Energy"), newTabContent(m.energy.Content())),
		container.NewTabItem(lang.X("window.tab.quality", "Data quality"), newTabContent(m.quality.Content())),
		container.NewTabItem(lang.X("window.tab.billing", "Billing"), newTabContent(m.billing.Content())),
		container.NewTabItem(lang.X("window.tab.gateways", "Gateways"), newTabContent(m.gateways.Content())),
		container.NewTabItem(lang.X("forms.tab.master", "Master data"), newTabContent(m.master.Content())),
		container.NewTabItem(lang.X("collection.tab", "Collection"), newTabContent(m.receive.Content())),
	)
	m.tabs.OnSelected = func(*container.TabItem) { m.refreshTab() }
	m.sites = newSelect(nil, func(string) {
		i := m.sites.SelectedIndex()
		if i >= 0 && i < len(m.ids) && (m.site == nil || m.site.ID != m.ids[i]) {
			m.onSite(m.ids[i])
		}
	})
	// Room for a site's full name: a Select shows only its minimum width.
	sel := container.NewGridWrap(fyne.NewSize(360, m.sites.MinSize().Height), m.sites)
	top := container.NewBorder(nil, nil, nil, container.NewHBox(widget.NewLabel(lang.X("window.site", "Site:")), sel))
	m.status.Hide()
	m.main = container.NewBorder(top, m.status, nil, nil, m.tabs)
	w.SetContent(m.main)
	w.SetMainMenu(m.menu())
	m.shortcuts()
}

// onDropped imports the files dropped on the window.
func (m *MainWindow) onDropped(_ fyne.Position, uris []fyne.URI) { m.imports.Add(uris) }

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
		m.setTitle(windowTitle + " – " + lang.X("window.nosite", "no site"))
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

// setTitle titles the window, or keeps the title for when it exists.
func (m *MainWindow) setTitle(t string) {
	m.title = t
	if !m.deferTitle {
		m.win.SetTitle(t)
	}
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
	m.setTitle(windowTitle + " – " + site.Name)
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

// tabContent holds a tab's screen. Fyne's AppTabs refreshes the content of
// every tab whenever one is selected; a hidden tab skips that and is
// refreshed when it is shown, so that a switch refreshes two screens, not
// eight (a third of a switch's time in the real window).
type tabContent struct {
	widget.BaseWidget
	content fyne.CanvasObject
}

func newTabContent(c fyne.CanvasObject) *tabContent {
	t := &tabContent{content: c}
	t.ExtendBaseWidget(t)
	return t
}

// CreateRenderer shows the screen.
func (t *tabContent) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(t.content) }

// Refresh refreshes the screen if it is shown (Show refreshes it).
func (t *tabContent) Refresh() {
	if t.Visible() {
		t.BaseWidget.Refresh()
	}
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

// onSetUpSite shows the site form (the one Master data uses) in place of
// the welcome screen; saving a site leaves for its tabs, Back returns.
func (m *MainWindow) onSetUpSite() {
	form := NewSiteForm(m.st, m.clock, m.win, func(site *core.Site) { m.afterSiteCreated(site.ID) })
	back := widget.NewButtonWithIcon(lang.X("welcome.back", "Back"), theme.NavigateBackIcon(), func() {
		m.win.SetContent(m.welcome.Content())
	})
	title := widget.NewLabelWithStyle(lang.X("welcome.setup.title", "Set up a building"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	m.win.SetContent(container.NewBorder(container.NewHBox(back, title), nil, nil, nil, form.Content()))
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
		m.welcome.setBusy(false, lang.X("welcome.open.failed", "This site file cannot be used: {{.Err}}", map[string]any{"Err": errorText(err)}))
		return
	}
	m.afterSiteCreated(site.ID)
}

// afterSiteCreated leaves the welcome screen for the site's tabs.
func (m *MainWindow) afterSiteCreated(id string) {
	if err := m.ShowSite(id); err != nil {
		m.setStatus(err.Error())
	}
	m.syncCollector()
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
		m.syncCollector()
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
