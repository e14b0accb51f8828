package ui

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/app/cli"
	"github.com/zevdesk/zevdesk/core"
)

// maxTabWidth is the widest a tab's content may need: the office's usual
// window is 1,100 px wide, and a tab wider than its window widens it.
const maxTabWidth = 1000

// maxWindowHeight is the highest the window's content may need: an office
// laptop's 768 px screen, less a taskbar and the window's title bar.
const maxWindowHeight = 690

// TestTabsFitTheWindow: on the demo site, every tab of the main window and
// every tab of Master data (with a tariff version chosen, whose Art. 16
// check shows its arithmetic, and with the site form open) needs at most
// 1,000 px, in each of the four languages; and the window fits a laptop's
// screen in height.
func TestTabsFitTheWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("creates the demo building")
	}
	st := openStore(t)
	now := time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC)
	if err := cli.CreateDemo(st, now); err != nil {
		t.Fatal(err)
	}
	for _, code := range Languages {
		t.Run(code, func(t *testing.T) {
			test.NewTempApp(t)
			inLanguage(t, code)
			w := test.NewTempWindow(t, nil)
			m := newMainWindow(w, st, core.FixedClock(now))
			var found <-chan struct{}
			m.gateways.browse, found = fakeBrowse()
			t.Cleanup(m.gateways.Stop)
			m.billing.spawn = func(f func()) { f() } // no job races the measuring
			drawn := make(chan liveShown, 1)
			m.live.drawn = func(sh liveShown) {
				select {
				case drawn <- sh:
				default:
				}
			}
			t.Cleanup(m.live.Stop)
			if err := m.ShowSite(""); err != nil {
				t.Fatal(err)
			}
			check := func(what string, width float32) {
				t.Helper()
				t.Logf("%s: %.0f px", what, width)
				if width > maxTabWidth {
					t.Errorf("%s: needs %.0f px, more than %d", what, width, maxTabWidth)
				}
			}
			for i, it := range m.tabs.Items {
				m.tabs.SelectIndex(i)
				content := it.Content
				if tc, ok := content.(*tabContent); ok { // the window's wrapper of each tab's screen
					content = tc.content
				}
				switch content {
				case m.live.Content():
					<-drawn
					m.live.Stop()
					m.live.waitStopped()
				case m.gateways.Content():
					<-found // the search's result is drawn on its goroutine
				}
				check(it.Text, it.Content.MinSize().Width)
			}
			md := m.master
			md.Tariffs.list.Select(0)
			if md.Tariffs.check.Text == "" {
				t.Error("the demo's tariff shows no Art. 16 check")
			}
			md.Tenants.history.Select(0)
			md.Units.units.Select(0)
			md.Units.meters.Select(0)
			for _, it := range md.tabs.Items {
				check("Master data › "+it.Text, it.Content.MinSize().Width)
			}
			md.Sites.onNew()
			check("the site form", md.Sites.Content().MinSize().Width)
			check("Master data", md.Content().MinSize().Width)
			check("the window", m.main.MinSize().Width)
			if h := m.main.MinSize().Height; h > maxWindowHeight {
				t.Errorf("the window needs %.0f px in height, more than %d", h, maxWindowHeight)
			}
		})
	}
}
