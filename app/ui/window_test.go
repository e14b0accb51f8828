package ui

import (
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

func TestMainWindowTitleAndTabs(t *testing.T) {
	a := test.NewTempApp(t)
	st, clock := testStore(t)
	w := NewMainWindow(a, st, "", clock, nil)
	t.Cleanup(w.Close)
	// Created with the bare name, the X11 WM class the desktop entry names.
	desktop, err := os.ReadFile("../../packaging/ch.zevdesk.app.desktop")
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Title(); !strings.Contains(string(desktop), "\nStartupWMClass="+got+"\n") {
		t.Errorf("window created with title %q, the desktop entry has no StartupWMClass=%s", got, got)
	}
	a.Lifecycle().(interface{ OnStarted() func() }).OnStarted()()
	if got := w.Title(); got != "zevdesk – ZEV Birkenweg 12" {
		t.Errorf("window title %q", got)
	}
}

func TestMainWindowSharedSiteSelector(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	second := &core.Site{ID: "ahornweg", Name: "ZEV Ahornweg 3", Timezone: "Europe/Zurich",
		Operator: core.Operator{Name: "Immo Muster AG"}, Units: []core.Unit{{ID: "A1"}},
		Meters: []core.Meter{{ID: "PV2", Role: core.RoleProduction}, {ID: "M-A1", Role: core.RoleUnit, Unit: "A1"}}}
	if err := second.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := st.Update(func(tx store.Tx) error { return tx.PutSite(second) }); err != nil {
		t.Fatal(err)
	}
	w := test.NewTempWindow(t, widget.NewLabel(""))
	m := newMainWindow(w, st, clock)
	m.gateways.browse, _ = fakeBrowse() // the gateways tab is not shown here
	t.Cleanup(m.gateways.Stop)
	if err := m.ShowSite("birkenweg"); err != nil {
		t.Fatal(err)
	}
	var tabs []string
	for _, it := range m.tabs.Items {
		tabs = append(tabs, it.Text)
	}
	if got := lines(tabs); got != "Overview\nLive\nEnergy\nData quality\nBilling\nGateways\nMaster data\nCollection" {
		t.Errorf("tabs %q", tabs)
	}
	if lines(m.sites.Options) != "ZEV Ahornweg 3 (ahornweg)\nZEV Birkenweg 12 (birkenweg)" || m.sites.Selected != "ZEV Birkenweg 12 (birkenweg)" || m.overview.title.Text != "ZEV Birkenweg 12" {
		t.Fatalf("selector %v on %q, overview %q", m.sites.Options, m.sites.Selected, m.overview.title.Text)
	}
	if m.overview.figures["Production"].Text != "40.0 kWh" {
		t.Errorf("overview production %q", m.overview.figures["Production"].Text)
	}

	// Choosing another site retitles the window and redraws the visible tab.
	m.sites.SetSelected("ZEV Ahornweg 3 (ahornweg)")
	if w.Title() != "zevdesk – ZEV Ahornweg 3" || m.overview.title.Text != "ZEV Ahornweg 3" {
		t.Errorf("after choosing ahornweg: title %q, overview %q", w.Title(), m.overview.title.Text)
	}
	if m.overview.figures["Production"].Text != "0.0 kWh" {
		t.Errorf("ahornweg production %q", m.overview.figures["Production"].Text)
	}
	// Other tabs load the selected site when shown.
	if m.energy.site != nil {
		t.Error("the energy tab loaded before it was shown")
	}
	m.tabs.SelectIndex(2)
	if m.energy.site == nil || m.energy.site.ID != "ahornweg" {
		t.Fatalf("energy tab shows %v", m.energy.site)
	}
	m.sites.SetSelected("ZEV Birkenweg 12 (birkenweg)")
	if m.energy.figures["Production"].Text != "40.0 kWh" {
		t.Errorf("energy tab after switching back: production %q", m.energy.figures["Production"].Text)
	}
	m.tabs.SelectIndex(3)
	if m.quality.site == nil || m.quality.site.ID != "birkenweg" || m.quality.month.Text != "June 2026 (up to 10.06.2026)" {
		t.Errorf("quality tab: %v %q", m.quality.site, m.quality.month.Text)
	}
}

func TestMainWindowWithoutSites(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	m := newMainWindow(w, openStore(t), core.SystemClock{})
	if err := m.ShowSite(""); err != nil {
		t.Fatal(err)
	}
	// A first start shows the welcome screen, not empty tiles.
	if w.Title() != "zevdesk – no site" || w.Content() != m.welcome.Content() {
		t.Errorf("title %q, welcome shown %v", w.Title(), w.Content() == m.welcome.Content())
	}
}
