package ui

import (
	"image/color"
	"log/slog"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Preferences of the desktop app (fyne.Preferences, stored by Fyne per
// user and app ID).
const (
	prefTheme  = "theme" // "light", "dark" or "" for the system's
	prefWidth  = "window.width"
	prefHeight = "window.height"
)

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
	langSel := widget.NewSelect(langOpts, nil)
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
	d := dialog.NewCustomConfirm(lang.X("settings.title", "Settings"), lang.X("settings.apply", "Apply"),
		lang.X("settings.cancel", "Cancel"), form, func(ok bool) {
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
			m.applySettings(code, themeKey)
		}, m.win)
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
