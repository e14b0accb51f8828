package ui

import (
	"log/slog"

	"fyne.io/fyne/v2"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// NewMainWindow creates the main window of app a on st, showing site (the
// first site if empty). The caller shows it (ShowAndRun).
func NewMainWindow(a fyne.App, st store.Store, site string, clock core.Clock) fyne.Window {
	w := a.NewWindow("zevdesk")
	o := NewOverview(st, clock)
	if err := o.ShowSite(site); err != nil {
		slog.Error("showing site", "site", site, "err", err)
		o.status.SetText(err.Error())
	}
	if o.site != nil {
		w.SetTitle("zevdesk – " + o.site.Name)
	}
	w.SetContent(o.Content())
	w.Resize(fyne.NewSize(760, 560))
	return w
}
