package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// MasterData is the main window's tab for the office's master data: the
// sites, and the selected site's units and meters, tenants and tariffs, each
// a tab of its own. Every save goes through importer.ImportSite, the code
// path of `site import`. It is not safe for concurrent use; call its methods
// on Fyne's goroutine.
type MasterData struct {
	Sites   *Sites
	Units   *Units
	Tenants *Tenants
	Tariffs *Tariffs
	tabs    *container.AppTabs
	// Changed is called with a site after any of the tabs stored it (the
	// window reloads its site selector and its other tabs).
	Changed func(*core.Site)
}

// NewMasterData makes the master-data tab on st.
func NewMasterData(st store.Store, clock core.Clock, win fyne.Window) *MasterData {
	m := &MasterData{Sites: NewSites(st, clock, win), Units: NewUnits(st, clock), Tenants: NewTenants(st, clock, win),
		Tariffs: NewTariffs(st, clock)}
	m.Units.win = win
	// A save in one tab gives the others the stored site: each form saves
	// a whole site, so none may keep an older copy.
	changed := func(from screen) func(*core.Site) {
		return func(s *core.Site) {
			for _, sc := range []screen{m.Sites, m.Units, m.Tenants, m.Tariffs} {
				if sc != from {
					sc.setSite(s)
				}
			}
			if m.Changed != nil {
				m.Changed(s)
			}
		}
	}
	m.Sites.changed, m.Units.changed = changed(m.Sites), changed(m.Units)
	m.Tenants.changed, m.Tariffs.changed = changed(m.Tenants), changed(m.Tariffs)
	m.tabs = container.NewAppTabs(
		container.NewTabItem(lang.X("forms.tab.sites", "Sites"), m.Sites.Content()),
		container.NewTabItem(lang.X("forms.tab.units", "Units & meters"), m.Units.Content()),
		container.NewTabItem(lang.X("forms.tab.tenants", "Tenants"), m.Tenants.Content()),
		container.NewTabItem(lang.X("forms.tab.tariffs", "Tariffs"), m.Tariffs.Content()),
	)
	m.Sites.Reload()
	return m
}

// Content returns the tab's canvas object.
func (m *MasterData) Content() fyne.CanvasObject { return m.tabs }

// setSite shows site in the site-specific tabs.
func (m *MasterData) setSite(site *core.Site) {
	m.Sites.setSite(site)
	m.Units.setSite(site)
	m.Tenants.setSite(site)
	m.Tariffs.setSite(site)
}
