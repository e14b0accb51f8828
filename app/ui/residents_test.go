package ui

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core/residents"
	"github.com/zevdesk/zevdesk/core/store"
)

// billingMainWindow opens the main window on billingStore's site, with
// the files beside a database under t.TempDir().
func billingMainWindow(t *testing.T, a fyne.App) (*MainWindow, store.Store) {
	t.Helper()
	st, _, clock := billingStore(t)
	w := a.NewWindow(windowTitle)
	m := newMainWindow(w, st, clock)
	m.opts = Options{DBPath: filepath.Join(t.TempDir(), "office.db")}
	m.opts.Files = m.opts.DBPath
	m.web.files = m.opts.Files
	m.gateways.browse, _ = fakeBrowse()
	t.Cleanup(func() {
		m.web.stop()
		m.gateways.Stop()
		w.Close()
	})
	if err := m.ShowSite("birkenweg"); err != nil {
		t.Fatal(err)
	}
	return m, st
}

// get fetches url and returns its status.
func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Switching the resident web page on in Settings serves it on the chosen
// address, remembers the choice for the next start and shows the address;
// a tenant's personal link from the links window opens the page, and once
// revoked there it is gone (404), with the revocation in the audit log.
func TestSettingsResidentWebPage(t *testing.T) {
	a := test.NewTempApp(t)
	m, st := billingMainWindow(t, a)
	m.showSettings()
	m.webForm.on.SetChecked(true)
	m.webForm.addr.SetText("127.0.0.1:0")
	m.webForm.base.SetText("http://zev.example:8443")
	m.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Apply
	if !m.web.running() || len(m.web.urls) != 1 || !strings.HasPrefix(m.web.urls[0], "http://127.0.0.1:") {
		t.Fatalf("after Apply: running %v at %v (status %q)", m.web.running(), m.web.urls, m.status.Text)
	}
	if !strings.Contains(m.status.Text, m.web.urls[0]) {
		t.Errorf("the status line %q does not show the address %s", m.status.Text, m.web.urls[0])
	}
	p := a.Preferences()
	if !p.Bool(prefWebOn) || p.String(prefWebAddr) != "127.0.0.1:0" {
		t.Errorf("preferences: on %v, address %q", p.Bool(prefWebOn), p.String(prefWebAddr))
	}
	m.showSettings()
	if !strings.Contains(m.webForm.state.Text, m.web.urls[0]) {
		t.Errorf("Settings shows %q, not the address %s", m.webForm.state.Text, m.web.urls[0])
	}
	m.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})

	test.Tap(findButton(m.master.Tenants.Content(), "Resident links…"))
	r := m.residents
	if r == nil || len(r.entries) != 2 {
		t.Fatalf("links window: %+v", r)
	}
	anna := -1
	for i, e := range r.entries {
		if e.Occupancy.Name == "Anna Muster" {
			anna = i
		}
	}
	link := r.link(anna)
	if !strings.HasPrefix(link, "http://zev.example:8443/r/") {
		t.Fatalf("Anna's link %q does not use the address set in Settings", link)
	}
	if !strings.Contains(r.rowText(anna), link) {
		t.Errorf("the list shows %q, not the link", r.rowText(anna))
	}
	local := m.web.urls[0] + strings.TrimPrefix(link, "http://zev.example:8443")
	if code := get(t, local); code != http.StatusOK {
		t.Fatalf("GET Anna's page: %d", code)
	}
	r.list.Select(anna)
	test.Tap(r.copyBtn)
	if got := a.Clipboard().Content(); got != link {
		t.Errorf("clipboard %q, want %q", got, link)
	}
	test.Tap(r.qr)
	if r.qrShown == nil || !strings.Contains(strings.Join(allTexts(r.win.Canvas().Overlays().Top()), "|"), link) {
		t.Errorf("the QR code dialog does not name the link")
	}
	r.qrShown.Hide()
	test.Tap(r.stop)
	if code := get(t, local); code != http.StatusNotFound {
		t.Errorf("GET the revoked link: %d, want 404", code)
	}
	if r.entries[anna].State != "revoked" || !strings.Contains(r.rowText(anna), "revoked") {
		t.Errorf("after revoking: %s %q", r.entries[anna].State, r.rowText(anna))
	}
	var actions []string
	_ = st.View(func(tx store.Tx) error {
		return tx.ScanAudit(0, func(e store.Entry) bool {
			actions = append(actions, e.Action+" by "+e.Actor)
			return true
		})
	})
	if !strings.Contains(strings.Join(actions, "|"), "residents.revoke by desktop") {
		t.Errorf("audit log %v lacks the revocation", actions)
	}
	// Renewing gives a new link that works.
	test.Tap(r.renew)
	renewed := r.link(anna)
	if renewed == "" || renewed == link {
		t.Fatalf("renewed link %q", renewed)
	}
	if code := get(t, m.web.urls[0]+strings.TrimPrefix(renewed, "http://zev.example:8443")); code != http.StatusOK {
		t.Errorf("GET the renewed link: %d", code)
	}
	// The grace period after move-out.
	r.grace.SetText("30")
	test.Tap(findButton(r.Content(), "Set"))
	var grace int
	_ = st.View(func(tx store.Tx) (err error) { grace, err = residents.Grace(tx, "birkenweg"); return err })
	if grace != 30 || r.status.Text != "Saved." {
		t.Errorf("grace days %d after setting 30 (%q)", grace, r.status.Text)
	}
	// Switching it off stops serving.
	m.showSettings()
	m.webForm.on.SetChecked(false)
	url := m.web.urls[0]
	m.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if m.web.running() {
		t.Fatal("still serving after switching it off")
	}
	if _, err := http.Get(url + "/"); err == nil {
		t.Errorf("%s still answers", url)
	}
}

// With HTTPS, Settings shows the workstation certificate's fingerprint.
func TestSettingsResidentWebPageTLS(t *testing.T) {
	a := test.NewTempApp(t)
	m, _ := billingMainWindow(t, a)
	m.showSettings()
	m.webForm.on.SetChecked(true)
	m.webForm.tls.SetChecked(true)
	m.webForm.addr.SetText("127.0.0.1:0")
	m.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if !m.web.running() || !strings.HasPrefix(m.web.urls[0], "https://127.0.0.1:") || len(m.web.fingerprint) != 95 {
		t.Fatalf("HTTPS: %v, fingerprint %q (status %q)", m.web.urls, m.web.fingerprint, m.status.Text)
	}
	if !strings.Contains(m.status.Text, m.web.fingerprint) {
		t.Errorf("status %q lacks the fingerprint", m.status.Text)
	}
	// The next start serves it again, on the same certificate.
	fp := m.web.fingerprint
	m.web.stop()
	m.startWebFromPrefs()
	if !m.web.running() || m.web.fingerprint != fp {
		t.Errorf("at the next start: running %v, fingerprint %q (was %q)", m.web.running(), m.web.fingerprint, fp)
	}
}

// allTexts returns every text o's tree shows: labels, entries (their text
// and placeholder), buttons, checks and selects.
func allTexts(o fyne.CanvasObject) []string {
	var out []string
	switch w := o.(type) {
	case *widget.Label:
		out = append(out, w.Text)
	case *widget.Entry:
		out = append(out, w.Text, w.PlaceHolder)
	case *widget.Button:
		out = append(out, w.Text)
	case *widget.Check:
		out = append(out, w.Text)
	case *widget.Select:
		out = append(out, w.Selected)
	case *widget.Form:
		for _, it := range w.Items {
			out = append(out, it.Text)
			out = append(out, allTexts(it.Widget)...)
		}
		return out
	}
	var children []fyne.CanvasObject
	switch c := o.(type) {
	case fyne.Widget:
		children = test.WidgetRenderer(c).Objects()
	case *fyne.Container:
		children = c.Objects
	}
	for _, ch := range children {
		out = append(out, allTexts(ch)...)
	}
	return out
}

// Settings shows the database in use and the one for the next start
// without their passwords; a new choice is stored for main, and an
// unchanged (redacted) one keeps the stored password.
func TestSettingsDatabase(t *testing.T) {
	a := test.NewTempApp(t)
	m, _ := billingMainWindow(t, a)
	const secret = "s3cr3t-Pw"
	m.opts.DBPath = "postgres://office:" + secret + "@db.example:5432/zevdesk"
	m.showSettings()
	shown := strings.Join(allTexts(m.win.Canvas().Overlays().Top()), "\n")
	if !strings.Contains(shown, "postgres://office:xxxxx@db.example:5432/zevdesk") {
		t.Errorf("Settings does not show the database redacted:\n%s", shown)
	}
	next := "postgres://clerk:" + secret + "@db2.example/zevdesk?sslmode=require"
	m.dbForm.next.SetText(next)
	m.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if got := NextDB(a.Preferences()); got != next {
		t.Fatalf("next database %q, want %q", got, next)
	}
	m.showSettings()
	shown = strings.Join(allTexts(m.win.Canvas().Overlays().Top()), "\n")
	if strings.Contains(shown, secret) {
		t.Errorf("Settings shows the password:\n%s", shown)
	}
	if m.dbForm.next.Text != "postgres://clerk:xxxxx@db2.example/zevdesk?sslmode=require" {
		t.Errorf("next database shown as %q", m.dbForm.next.Text)
	}
	m.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn}) // unchanged
	if got := NextDB(a.Preferences()); got != next {
		t.Errorf("after an unchanged Apply the next database is %q", got)
	}
	// main opens it when started without arguments; --db wins.
	if got := StartDB(a.Preferences(), nil, "/default/zevdesk.db"); got != next {
		t.Errorf("a start without arguments opens %q", got)
	}
	if got := StartDB(a.Preferences(), []string{"--db", "/tmp/other.db"}, "/tmp/other.db"); got != "/tmp/other.db" {
		t.Errorf("a start with --db opens %q", got)
	}
	m.showSettings()
	m.dbForm.next.SetText("")
	m.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if got := NextDB(a.Preferences()); got != "" {
		t.Errorf("after clearing it the next database is %q", got)
	}
	if got := StartDB(a.Preferences(), nil, "/default/zevdesk.db"); got != "/default/zevdesk.db" {
		t.Errorf("after clearing it a start opens %q", got)
	}
}
