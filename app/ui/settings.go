package ui

import (
	"image/color"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/store/postgres"
)

// Preferences of the desktop app (fyne.Preferences, stored by Fyne per
// user and app ID).
const (
	prefTheme   = "theme" // "light", "dark" or "" for the system's
	prefWidth   = "window.width"
	prefHeight  = "window.height"
	prefBackup  = "backup.every"   // "daily" (or ""), "weekly" or "off"
	prefRestore = "restore.backup" // a backup to restore at the next start
)

// Options tell the main window where its data lives. A nil *Options, or
// empty fields, hide what Settings cannot show.
type Options struct {
	// DBPath is the database file.
	DBPath string
	// BackupDir is the folder of the automatic backups.
	BackupDir string
	// Files is the path beside which the resident links' key and the web
	// page's certificate live (residents.KeyPath, ".web.crt"): the database
	// file, or for a PostgreSQL database the default file's path.
	Files string
}

// BackupInterval returns the backup schedule chosen in Settings: every 24
// hours (the default), every 7 days, or 0 for none.
func BackupInterval(p fyne.Preferences) time.Duration {
	switch p.String(prefBackup) {
	case "weekly":
		return 7 * 24 * time.Hour
	case "off":
		return 0
	}
	return 24 * time.Hour
}

// PendingRestore returns the backup Settings chose to restore at this
// start (empty for none) and forgets the choice, so that a restore that
// fails is not tried at every start. main restores it before it opens the
// database, which nothing may hold while it is replaced.
func PendingRestore(p fyne.Preferences) string {
	path := p.String(prefRestore)
	if path != "" {
		p.RemoveValue(prefRestore)
	}
	return path
}

// defaultWindowSize is the main window's size until it has been resized.
var defaultWindowSize = fyne.NewSize(1100, 720)

// restoreSize gives the window the size it had when last closed.
func (m *MainWindow) restoreSize() {
	size := defaultWindowSize
	if m.app != nil {
		p := m.app.Preferences()
		if w, h := p.Float(prefWidth), p.Float(prefHeight); w >= 400 && h >= 300 {
			size = fyne.NewSize(float32(w), float32(h))
		}
	}
	m.win.Resize(size)
}

// saveSize remembers the window's size for the next start. (Fyne gives no
// access to a window's position; the window manager places it.)
func (m *MainWindow) saveSize() {
	if m.app == nil {
		return
	}
	s := m.win.Canvas().Size()
	if s.Width < 400 || s.Height < 300 {
		return
	}
	p := m.app.Preferences()
	p.SetFloat(prefWidth, float64(s.Width))
	p.SetFloat(prefHeight, float64(s.Height))
}

// variantTheme is Fyne's theme fixed to a light or dark variant, whatever
// the system prefers.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

// Color implements fyne.Theme.
func (t variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}

// applyTheme sets a's theme from the preference.
func applyTheme(a fyne.App) {
	if a == nil {
		return
	}
	switch a.Preferences().String(prefTheme) {
	case "light":
		a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), theme.VariantLight})
	case "dark":
		a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), theme.VariantDark})
	default:
		a.Settings().SetTheme(theme.DefaultTheme())
	}
}

// languageNames are the languages in their own words, for the picker.
var languageNames = map[string]string{"de": "Deutsch", "fr": "Français", "it": "Italiano", "en": "English"}

// showSettings opens the Settings dialog: the language (the system's or
// one of the four) and the theme (the system's, light or dark). A change
// applies at once: a new language rebuilds the window's content.
func (m *MainWindow) showSettings() {
	if m.app == nil {
		return
	}
	p := m.app.Preferences()
	system := lang.X("settings.system", "System")
	langOpts := []string{system}
	for _, l := range Languages {
		langOpts = append(langOpts, languageNames[l])
	}
	langSel := newSelect(langOpts, nil)
	langSel.SetSelectedIndex(0)
	for i, l := range Languages {
		if p.String(prefLanguage) == l {
			langSel.SetSelectedIndex(i + 1)
		}
	}
	themeKeys := []string{"", "light", "dark"}
	themeSel := widget.NewRadioGroup([]string{system, lang.X("settings.theme.light", "Light"),
		lang.X("settings.theme.dark", "Dark")}, nil)
	themeSel.Required = true
	themeSel.SetSelected(system)
	for i, k := range themeKeys {
		if k != "" && p.String(prefTheme) == k {
			themeSel.SetSelected(themeSel.Options[i])
		}
	}
	form := widget.NewForm(
		widget.NewFormItem(lang.X("settings.language", "Language"), langSel),
		widget.NewFormItem(lang.X("settings.theme", "Theme"), themeSel),
	)
	backupKeys := []string{"daily", "weekly", "off"}
	backupSel := newSelect([]string{lang.X("settings.backup.daily", "Every day"),
		lang.X("settings.backup.weekly", "Every week"), lang.X("settings.backup.off", "Off")}, nil)
	backupSel.SetSelectedIndex(0)
	for i, k := range backupKeys {
		if p.String(prefBackup) == k {
			backupSel.SetSelectedIndex(i)
		}
	}
	if m.opts.DBPath != "" && !postgres.IsURL(m.opts.DBPath) {
		folder := widget.NewLabel(filepath.Dir(m.opts.DBPath))
		folder.Wrapping = fyne.TextWrapBreak
		form.Append(lang.X("settings.datafolder", "Data folder"), folder)
	}
	if m.opts.BackupDir != "" {
		form.Append(lang.X("settings.backups", "Backups"), backupSel)
		form.Append("", m.backupList())
	}
	applyWeb := m.webSettings(form)
	applyDB := m.dbSettings(form)
	d := dialog.NewCustomConfirm(lang.X("settings.title", "Settings"), lang.X("settings.apply", "Apply"),
		lang.X("settings.cancel", "Cancel"), container.NewVScroll(form), func(ok bool) {
			if !ok {
				return
			}
			code := ""
			if i := langSel.SelectedIndex(); i > 0 {
				code = Languages[i-1]
			}
			themeKey := ""
			for i, o := range themeSel.Options {
				if o == themeSel.Selected {
					themeKey = themeKeys[i]
				}
			}
			if i := backupSel.SelectedIndex(); i >= 0 {
				p.SetString(prefBackup, backupKeys[i])
			}
			applyDB()
			applyWeb()
			m.applySettings(code, themeKey)
		}, m.win)
	d.Resize(fyne.NewSize(640, 600))
	m.settings = d
	showDialog(m.win, d, d.Confirm)
}

// applySettings stores and applies a language code ("" for the system's)
// and a theme ("", "light" or "dark").
func (m *MainWindow) applySettings(code, themeKey string) {
	p := m.app.Preferences()
	p.SetString(prefTheme, themeKey)
	applyTheme(m.app)
	if p.String(prefLanguage) == code {
		return
	}
	p.SetString(prefLanguage, code)
	if err := setLanguage(code); err != nil {
		slog.Error("switching language", "lang", code, "err", err)
		m.setStatus(err.Error())
		return
	}
	m.rebuild()
}

// backupList shows the backups, newest first, with Back up now and a
// restore of the chosen one at the next start (the database cannot be
// replaced while the app holds it).
func (m *MainWindow) backupList() fyne.CanvasObject {
	status := widget.NewLabel("")
	status.Wrapping = fyne.TextWrapWord
	var backups []bolt.Backup
	sel := newSelect(nil, nil)
	sel.PlaceHolder = lang.X("settings.backups.choose", "Choose a backup")
	list := func() {
		bs, err := bolt.Backups(m.opts.BackupDir)
		if err != nil {
			status.SetText(err.Error())
		}
		backups = backups[:0]
		var names []string
		for i := len(bs) - 1; i >= 0; i-- {
			backups = append(backups, bs[i])
			t := bs[i].Time.In(time.Local)
			names = append(names, date(core.DateOf(t))+" "+t.Format("15:04:05"))
		}
		sel.Options = names
		sel.ClearSelected()
		if len(names) == 0 {
			status.SetText(lang.X("settings.backups.none", "No backups yet."))
		}
	}
	list()
	now := widget.NewButton(lang.X("settings.backups.now", "Back up now"), func() {
		bs, ok := m.st.(*bolt.Store)
		if !ok {
			return
		}
		path, err := bs.BackupTo(m.opts.BackupDir, m.clock.Now(), bolt.Generations)
		if err != nil {
			slog.Error("backing up", "dir", m.opts.BackupDir, "err", err)
			status.SetText(err.Error())
			return
		}
		list()
		status.SetText(lang.X("settings.backups.written", "Backup written: {{.Path}}", map[string]any{"Path": path}))
	})
	if _, ok := m.st.(*bolt.Store); !ok {
		now.Disable()
	}
	restore := widget.NewButton(lang.X("settings.backups.restore", "Restore…"), func() {
		i := sel.SelectedIndex()
		if i < 0 || i >= len(backups) {
			status.SetText(lang.X("settings.backups.pick", "Choose the backup to restore first."))
			return
		}
		b := backups[i]
		c := dialog.NewConfirm(lang.X("settings.restore.title", "Restore a backup"),
			lang.X("settings.restore.confirm", "Restore the backup of {{.When}}?\n\nzevdesk closes now and replaces the database with the backup when it starts again; the current database is kept beside it as a file ending in .before-restore.",
				map[string]any{"When": sel.Selected}),
			func(ok bool) {
				if !ok {
					return
				}
				m.app.Preferences().SetString(prefRestore, b.Path)
				m.restoring = b.Path
				m.quit()
			}, m.win)
		showDialog(m.win, c, c.Confirm)
	})
	m.backupSel, m.backupNow, m.backupRestore = sel, now, restore
	return container.NewVBox(sel, container.NewHBox(now, restore), status)
}

// prefNextDB is the database Settings chose for the next start: a file or
// a postgres:// URL ("" for the default file).
const prefNextDB = "db.next"

// NextDB returns the database Settings chose for the next start, or "" for
// the default.
func NextDB(p fyne.Preferences) string { return p.String(prefNextDB) }

// StartDB returns the database the desktop app opens: the one Settings
// chose when the program was started without arguments, else db (the
// command line's --db or the default): any argument, --db or a command,
// decides on the command line.
func StartDB(p fyne.Preferences, args []string, db string) string {
	if next := NextDB(p); next != "" && len(args) == 0 {
		return next
	}
	return db
}

// redactDB is a database as Settings shows it: a URL without its password.
func redactDB(db string) string {
	if postgres.IsURL(db) {
		return postgres.Redact(db)
	}
	return db
}

// dbForm is the database's part of the Settings dialog.
type dbForm struct {
	current *widget.Label
	next    *widget.Entry
}

// dbSettings adds the database in use and the one for the next start to
// Settings' form, and returns what Apply does with them. A stored URL is
// shown without its password; left unchanged, it is kept as stored.
func (m *MainWindow) dbSettings(form *widget.Form) func() {
	p := m.app.Preferences()
	shown := redactDB(p.String(prefNextDB))
	f := &dbForm{current: widget.NewLabel(redactDB(m.opts.DBPath)), next: widget.NewEntry()}
	f.current.Wrapping = fyne.TextWrapBreak
	f.next.SetText(shown)
	f.next.SetPlaceHolder(lang.X("settings.db.placeholder", "a file, or postgres://USER@HOST/NAME"))
	hint := widget.NewLabel(lang.X("settings.db.hint", "Opened at the next start; --db on the command line wins. Empty: the default file."))
	hint.Wrapping = fyne.TextWrapWord
	if m.opts.DBPath != "" {
		form.Append(lang.X("settings.db", "Database"), f.current)
	}
	form.Append(lang.X("settings.db.next", "Database at the next start"), container.NewVBox(f.next, hint))
	m.dbForm = f
	return func() {
		t := strings.TrimSpace(f.next.Text)
		switch {
		case t == shown:
		case t == "":
			p.RemoveValue(prefNextDB)
		default:
			p.SetString(prefNextDB, t)
			f.next.SetText(redactDB(t))
		}
	}
}
