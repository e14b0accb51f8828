package ui

import (
	"log/slog"
	"time"

	"fyne.io/fyne/v2"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/intake"
)

// collectPoll is the pause between catch-ups of a gateway that is caught up,
// as `zevdesk serve` does it.
const collectPoll = 30 * time.Second

// newCollector returns the window's intake collector: one loop per pairing
// while the main window is open, so that readings arrive without
// `zevdesk serve`. onState, when set, runs on the UI goroutine with each
// state a loop reports.
func newCollector(st store.Store, clock core.Clock, onState func(intake.State)) *intake.Collector {
	c := intake.NewCollector(st, &intake.Options{Poll: collectPoll, Clock: clock})
	if onState != nil {
		c.OnState = func(s intake.State) { fyne.Do(func() { onState(s) }) }
	}
	return c
}

// syncCollector brings the window's intake loops in line with the stored
// pairings (a gateway paired or assigned, here or by a command beside the
// window).
func (m *MainWindow) syncCollector() {
	if err := m.collect.Sync(); err != nil {
		slog.Error("following gateway pairings", "err", err)
	}
}
