package ui

import (
	"log/slog"
	"time"

	"fyne.io/fyne/v2"

	"github.com/zevdesk/zevdesk/core/store"
)

// refreshThrottle is the least time between two refreshes on data changes:
// a gateway committing every few seconds redraws the visible screen at most
// this often, and commits in between are folded into the next refresh.
const refreshThrottle = 2 * time.Second

// subscribe follows the store's commits (when it announces them): each one
// refreshes the visible screen and marks the others stale, so that an
// import, a gateway's records or a tenant change show without a restart.
func (m *MainWindow) subscribe() {
	n, ok := m.st.(store.Notifier)
	if !ok {
		return
	}
	done := make(chan struct{})
	throttle := m.throttle
	stop := n.Subscribe(func() {
		// A pairing made or assigned beside the window (zevdesk pair, gateways assign) starts or restarts its
		// loop here; the loops' own commits find nothing changed.
		m.syncCollector()
		fyne.Do(m.onDataChanged)
		// The hub calls again once for all commits made meanwhile.
		select {
		case <-time.After(throttle):
		case <-done:
		}
	})
	m.stopNotify = func() {
		close(done)
		stop()
	}
}

// onDataChanged shows the store's latest data: the site list and the site
// again, the visible screen reloaded where it stands (the same day, month
// or period), every other screen marked to reload when it is shown.
func (m *MainWindow) onDataChanged() {
	defer func() {
		if m.changed != nil {
			m.changed()
		}
	}()
	id := ""
	if m.site != nil {
		id = m.site.ID
	}
	for i := range m.shown {
		m.shown[i] = ""
	}
	i := m.tabs.SelectedIndex()
	r, ok := m.screens[i].(reloader)
	if !ok || m.site == nil {
		if err := m.ShowSite(id); err != nil {
			slog.Error("refreshing after a data change", "site", id, "err", err)
		}
		return
	}
	// The site's own record may have changed (a tenant, a tariff): read it
	// and the list again, then reload the visible screen in place.
	m.shown[i] = id // keeps load from resetting the screen
	if err := m.ShowSite(id); err != nil {
		slog.Error("refreshing after a data change", "site", id, "err", err)
		return
	}
	if m.site != nil && m.site.ID == id {
		r.reload(m.site)
	}
}

// rebuild makes the window's content again (after a language change),
// keeping the site and the tab shown.
func (m *MainWindow) rebuild() {
	tab := m.tabs.SelectedIndex()
	id := ""
	if m.site != nil {
		id = m.site.ID
	}
	m.gateways.Stop()
	m.live.Stop()
	m.site = nil
	m.build()
	m.tabs.SelectIndex(tab)
	if err := m.ShowSite(id); err != nil {
		m.setStatus(err.Error())
	}
}
