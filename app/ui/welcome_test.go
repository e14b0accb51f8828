package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/app/cli"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

const welcomeSiteFile = `id = "linde"
name = "ZEV Linde"
timezone = "Europe/Zurich"

[operator]
name = "Linde Verwaltung"

[[units]]
id = "A"

[[meters]]
id = "PV"
role = "production"
[[meters]]
id = "MA"
role = "unit"
unit = "A"
`

// A first start offers the demo, setting up a building and opening a site
// file; opening one leaves the welcome screen for the site's tabs, with no
// terminal involved.
func TestWelcomeOpensASiteFile(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	st := openStore(t)
	m := newMainWindow(w, st, core.FixedClock(time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC)))
	m.gateways.browse, _ = fakeBrowse()
	t.Cleanup(m.gateways.Stop)
	t.Cleanup(m.live.Stop)
	if err := m.ShowSite(""); err != nil {
		t.Fatal(err)
	}
	if w.Content() != m.welcome.Content() {
		t.Fatal("an empty database does not show the welcome screen")
	}
	for _, b := range []string{"Open a site file…"} {
		if findButton(w.Content(), b) == nil {
			t.Errorf("no visible button %q on the welcome screen", b)
		}
	}
	// Bad files say why and stay on the welcome screen.
	m.importSite("broken.toml", strings.NewReader("id = \n"))
	if w.Content() != m.welcome.Content() || !strings.Contains(m.welcome.status.Text, "broken.toml") {
		t.Errorf("a broken file: status %q", m.welcome.status.Text)
	}
	m.importSite("linde.toml", strings.NewReader(welcomeSiteFile))
	if w.Content() != m.main || w.Title() != "zevdesk – ZEV Linde" {
		t.Fatalf("after opening the file: title %q, tabs shown %v (status %q)", w.Title(), w.Content() == m.main, m.welcome.status.Text)
	}
	var ids []string
	if err := st.View(func(tx store.Tx) (err error) { ids, err = tx.SiteIDs(); return }); err != nil || strings.Join(ids, ",") != "linde" {
		t.Errorf("stored sites %v, %v", ids, err)
	}
}

// "Try the demo" creates the demo building and shows it.
func TestWelcomeTriesTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("creates a year of data")
	}
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	st := openStore(t)
	defer func(f func(store.Store, time.Time) error) { CreateDemo = f }(CreateDemo)
	CreateDemo = cli.CreateDemo
	m := newMainWindow(w, st, core.FixedClock(time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC)))
	hook, wait := waitDone(t)
	m.welcome.done = hook
	m.gateways.browse, _ = fakeBrowse()
	t.Cleanup(m.gateways.Stop)
	t.Cleanup(m.live.Stop)
	if err := m.ShowSite(""); err != nil {
		t.Fatal(err)
	}
	demo := findButton(w.Content(), "Try the demo")
	if demo == nil {
		t.Fatal("no demo button")
	}
	test.Tap(demo)
	wait()
	if w.Content() != m.main || !strings.HasSuffix(w.Title(), "(Demo)") {
		t.Errorf("after the demo: title %q, status %q", w.Title(), m.welcome.status.Text)
	}
}
