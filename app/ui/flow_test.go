package ui

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/vee"
)

// newTestMainWindow opens the main window on testStore's site, with the
// gateways tab's discovery faked.
func newTestMainWindow(t *testing.T, a fyne.App) (*MainWindow, store.Store) {
	t.Helper()
	st, clock := testStore(t)
	w := a.NewWindow(windowTitle)
	m := newMainWindow(w, st, clock)
	m.gateways.browse, _ = fakeBrowse()
	t.Cleanup(func() {
		if m.stopNotify != nil {
			m.stopNotify()
		}
		m.gateways.Stop()
		w.Close()
	})
	if err := m.ShowSite("birkenweg"); err != nil {
		t.Fatal(err)
	}
	return m, st
}

func tabTexts(m *MainWindow) string {
	var tabs []string
	for _, it := range m.tabs.Items {
		tabs = append(tabs, it.Text)
	}
	return strings.Join(tabs, "|")
}

// Choosing German in Settings relabels the open window at once, keeps the
// site and the tab, and is remembered; choosing the system's language
// again brings the system locale (English here) back.
func TestSettingsSwitchLanguage(t *testing.T) {
	a := test.NewTempApp(t)
	t.Cleanup(func() { _ = setLanguage("en") })
	m, _ := newTestMainWindow(t, a)
	m.tabs.SelectIndex(3) // Data quality
	m.showSettings()
	if m.settings == nil {
		t.Fatal("no Settings dialog")
	}
	m.applySettings("de", "")
	if got := tabTexts(m); got != "Übersicht|Live|Energie|Datenqualität|Abrechnung|Gateways|Stammdaten|Inkasso" {
		t.Errorf("tabs after choosing German: %q", got)
	}
	if m.tabs.SelectedIndex() != 3 || m.site == nil || m.site.ID != "birkenweg" {
		t.Errorf("after the switch: tab %d, site %v", m.tabs.SelectedIndex(), m.site)
	}
	if got := m.quality.month.Text; got != "Juni 2026 (bis 10.06.2026)" {
		t.Errorf("quality month %q", got)
	}
	if got := a.Preferences().String(prefLanguage); got != "de" {
		t.Errorf("language preference %q", got)
	}
	if got := m.win.MainMenu().Items[0].Label; got != "Datei" {
		t.Errorf("first menu %q", got)
	}
	// A new start reads the preference.
	if err := setLanguage("en"); err != nil {
		t.Fatal(err)
	}
	if err := SetupLanguage(a.Preferences()); err != nil || currentLanguage() != "de" {
		t.Errorf("SetupLanguage with the preference de: %q, %v", currentLanguage(), err)
	}
	// The system's locale, as the process started, says French now.
	old, fr := systemLocale.env["LANGUAGE"], "fr_CH"
	systemLocale.env["LANGUAGE"] = &fr
	t.Cleanup(func() { systemLocale.env["LANGUAGE"] = old })
	m.applySettings("", "")
	if got := tabTexts(m); !strings.HasPrefix(got, "Aperçu|En direct|Énergie") {
		t.Errorf("tabs back on the system locale (fr_CH): %q", got)
	}
}

func TestSettingsTheme(t *testing.T) {
	a := test.NewTempApp(t)
	m, _ := newTestMainWindow(t, a)
	m.applySettings(a.Preferences().String(prefLanguage), "dark")
	bg := func(v fyne.ThemeVariant) string {
		r, g, b, _ := a.Settings().Theme().Color(theme.ColorNameBackground, v).RGBA()
		return fmt.Sprint(r, g, b)
	}
	if bg(theme.VariantLight) != bg(theme.VariantDark) || a.Preferences().String(prefTheme) != "dark" {
		t.Errorf("dark theme: the background still follows the system's variant")
	}
	darkBG := bg(theme.VariantLight)
	m.applySettings(a.Preferences().String(prefLanguage), "light")
	if bg(theme.VariantDark) == darkBG || a.Preferences().String(prefTheme) != "light" {
		t.Errorf("light theme not applied")
	}
	m.applySettings(a.Preferences().String(prefLanguage), "")
	if bg(theme.VariantLight) == bg(theme.VariantDark) {
		t.Errorf("system theme: the variant is still fixed")
	}
}

// The main menu has File, Edit, View and Help, its items carry shortcuts,
// and the shortcuts work on the window's canvas.
func TestMainMenuAndShortcuts(t *testing.T) {
	a := test.NewTempApp(t)
	m, _ := newTestMainWindow(t, a)
	var menus []string
	shortcuts := map[string]string{}
	for _, mn := range m.win.MainMenu().Items {
		menus = append(menus, mn.Label)
		for _, it := range mn.Items {
			if it.Shortcut != nil {
				shortcuts[it.Label] = it.Shortcut.ShortcutName()
			}
		}
	}
	if got := strings.Join(menus, "|"); got != "File|Edit|View|Help" {
		t.Errorf("menus %q", got)
	}
	for _, label := range []string{"Quit", "Settings…", "Refresh", "Overview", "Billing"} {
		if shortcuts[label] == "" {
			t.Errorf("menu item %q has no shortcut (%v)", label, shortcuts)
		}
	}
	// Ctrl+3 shows Data quality (Billing would start a background job).
	m.win.Canvas().(fyne.Shortcutable).TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.Key3, Modifier: fyne.KeyModifierShortcutDefault})
	if m.tabs.SelectedIndex() != 2 {
		t.Errorf("after Ctrl+3 tab %d is shown", m.tabs.SelectedIndex())
	}
	// Ctrl+, opens Settings; Escape closes it, Enter confirms.
	m.win.Canvas().(fyne.Shortcutable).TypedShortcut(shortcutSettings)
	if len(m.win.Canvas().Overlays().List()) != 1 {
		t.Fatal("Ctrl+, opened no dialog")
	}
	m.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if n := len(m.win.Canvas().Overlays().List()); n != 0 {
		t.Errorf("Escape left %d dialogs open", n)
	}
	confirmed := false
	d := dialog.NewConfirm("t", "m", func(ok bool) { confirmed = ok }, m.win)
	showDialog(m.win, d, d.Confirm)
	m.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if !confirmed || len(m.win.Canvas().Overlays().List()) != 0 {
		t.Errorf("Enter: confirmed %v, %d dialogs open", confirmed, len(m.win.Canvas().Overlays().List()))
	}
}

// The window opens at the size it had when it was last closed.
func TestWindowSizeRemembered(t *testing.T) {
	a := test.NewTempApp(t)
	st, clock := testStore(t)
	w := NewMainWindow(a, st, "", clock, nil)
	w.Resize(fyne.NewSize(900, 640))
	w.Close()
	if p := a.Preferences(); p.Float(prefWidth) != 900 || p.Float(prefHeight) != 640 {
		t.Fatalf("stored size %v × %v", p.Float(prefWidth), p.Float(prefHeight))
	}
	w = NewMainWindow(a, st, "", clock, nil)
	t.Cleanup(w.Close)
	if s := w.Canvas().Size(); s != fyne.NewSize(900, 640) {
		t.Errorf("reopened at %v, want 900 × 640", s)
	}
}

// A commit made elsewhere (an import on another goroutine) shows on the
// visible Overview without a restart, and marks the other screens stale.
func TestRefreshOnCommit(t *testing.T) {
	a := test.NewTempApp(t)
	m, st := newTestMainWindow(t, a)
	m.tabs.SelectIndex(3) // Data quality loads once…
	m.tabs.SelectIndex(0)
	refreshed := make(chan struct{}, 8)
	m.throttle = 0
	m.changed = func() { refreshed <- struct{}{} }
	m.subscribe()
	if got := m.overview.figures["Production"].Text; got != "40.0 kWh" {
		t.Fatalf("before: production %q", got)
	}
	site := m.site
	go func() {
		err := st.Update(func(tx store.Tx) error {
			from, _ := core.Period{From: core.MustDate(2026, 6, 10), To: core.MustDate(2026, 6, 10)}.Slots(site.Location())
			_, err := tx.PutIntervals(store.SeriesID{Site: site.ID, Meter: "PV", Channel: store.Export},
				[]store.Value{{Slot: from, Energy: 5 * core.KWh, Quality: store.Measured}}, store.Replace)
			return err
		})
		if err != nil {
			t.Error(err)
		}
	}()
	<-refreshed
	if got := m.overview.figures["Production"].Text; got != "45.0 kWh" {
		t.Errorf("after an import: production %q, want 45.0 kWh", got)
	}
	if m.shown[2] != "" {
		t.Errorf("Data quality is not marked stale")
	}
}

// The Overview's "all intervals measured" never stands beside flags that
// Data quality shows for the same day.
func TestOverviewAgreesWithQuality(t *testing.T) {
	test.NewTempApp(t)
	st, clock := testStore(t)
	o := NewOverview(st, clock)
	if err := o.ShowSite(""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(o.status.Text, "all intervals measured") {
		t.Fatalf("before: %q", o.status.Text)
	}
	from, _ := core.Period{From: core.MustDate(2026, 6, 10), To: core.MustDate(2026, 6, 10)}.Slots(o.site.Location())
	err := st.Update(func(tx store.Tx) error {
		return tx.PutFlags([]store.Flag{{Site: "birkenweg", Meter: "M-W01", Slot: from + 40, Kind: vee.KindBalance, Reason: "test"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.ShowSite(""); err != nil {
		t.Fatal(err)
	}
	var rep vee.QualityReport
	if err := st.View(func(tx store.Tx) (err error) {
		rep, err = vee.Quality(tx, o.site, core.Period{From: core.MustDate(2026, 6, 10), To: core.MustDate(2026, 6, 10)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	flagged := 0
	for _, mq := range rep.Meters {
		flagged += mq.Flagged
	}
	if flagged != 1 || strings.Contains(o.status.Text, "all intervals measured") || !strings.Contains(o.status.Text, "1 flagged") {
		t.Errorf("Data quality counts %d flagged; the Overview says %q", flagged, o.status.Text)
	}
}

// Settings lists the backups, writes one on demand, and a restore chosen
// there is handed to the next start, which replaces the database with it.
func TestSettingsBackups(t *testing.T) {
	a := test.NewTempApp(t)
	st, clock := testStore(t)
	dir := t.TempDir()
	w := a.NewWindow(windowTitle)
	m := newMainWindow(w, st, clock)
	m.opts = Options{DBPath: filepath.Join(dir, "office.db"), BackupDir: filepath.Join(dir, "backups")}
	m.gateways.browse, _ = fakeBrowse()
	t.Cleanup(func() { m.gateways.Stop(); w.Close() })
	m.showSettings()
	if len(m.backupSel.Options) != 0 {
		t.Fatalf("backups before any: %v", m.backupSel.Options)
	}
	test.Tap(m.backupNow)
	if len(m.backupSel.Options) != 1 || m.backupSel.Options[0] == "" {
		t.Fatalf("after Back up now: %v", m.backupSel.Options)
	}
	m.backupSel.SetSelectedIndex(0)
	test.Tap(m.backupRestore)
	m.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn}) // confirms
	if m.restoring == "" {
		t.Fatal("the restore was not confirmed")
	}
	path := PendingRestore(a.Preferences())
	if path != m.restoring || PendingRestore(a.Preferences()) != "" {
		t.Fatalf("pending restore %q (chose %q), then not forgotten", path, m.restoring)
	}
	// What main does at the next start: the backup becomes the database.
	if err := bolt.Restore(path, m.opts.DBPath); err != nil {
		t.Fatal(err)
	}
	restored, err := bolt.Open(m.opts.DBPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if err := restored.View(func(tx store.Tx) error { _, err := tx.Site("birkenweg"); return err }); err != nil {
		t.Errorf("the restored database lacks the site: %v", err)
	}
	if BackupInterval(a.Preferences()) != 24*time.Hour {
		t.Errorf("default backup interval %v", BackupInterval(a.Preferences()))
	}
	a.Preferences().SetString(prefBackup, "off")
	if BackupInterval(a.Preferences()) != 0 {
		t.Errorf("backups off: interval %v", BackupInterval(a.Preferences()))
	}
}
