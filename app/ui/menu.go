package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"
)

// tabShortcuts are Ctrl+1 … Ctrl+9, one per tab in order (tabs past the
// ninth have none).
var tabShortcuts = []fyne.KeyName{fyne.Key1, fyne.Key2, fyne.Key3, fyne.Key4, fyne.Key5, fyne.Key6, fyne.Key7,
	fyne.Key8, fyne.Key9}

// Shortcuts of the main menu (Ctrl on Linux and Windows, Cmd on macOS).
var (
	shortcutSettings = &desktop.CustomShortcut{KeyName: fyne.KeyComma, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutRefresh  = &desktop.CustomShortcut{KeyName: fyne.KeyR, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutQuit     = &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault}
)

// menu returns the main menu: File, Edit, View and Help. Its items carry
// their shortcuts, which shortcuts registers on the canvas as well, so that
// they work where the menu is not drawn by the system (and in tests).
func (m *MainWindow) menu() *fyne.MainMenu {
	quit := fyne.NewMenuItem(lang.X("menu.file.quit", "Quit"), m.quit)
	quit.IsQuit = true
	quit.Shortcut = shortcutQuit
	imp := fyne.NewMenuItem(lang.X("menu.file.import", "Import…"), m.imports.Open)
	file := fyne.NewMenu(lang.X("menu.file", "File"), imp, fyne.NewMenuItemSeparator(), quit)

	settings := fyne.NewMenuItem(lang.X("menu.edit.settings", "Settings…"), m.showSettings)
	settings.Shortcut = shortcutSettings
	edit := fyne.NewMenu(lang.X("menu.edit", "Edit"), settings)

	refresh := fyne.NewMenuItem(lang.X("menu.view.refresh", "Refresh"), m.onDataChanged)
	refresh.Shortcut = shortcutRefresh
	view := fyne.NewMenu(lang.X("menu.view", "View"), refresh, fyne.NewMenuItemSeparator())
	for i, it := range m.tabs.Items {
		item := fyne.NewMenuItem(it.Text, func() { m.tabs.SelectIndex(i) })
		if i < len(tabShortcuts) {
			item.Shortcut = &desktop.CustomShortcut{KeyName: tabShortcuts[i], Modifier: fyne.KeyModifierShortcutDefault}
		}
		view.Items = append(view.Items, item)
	}

	about := fyne.NewMenuItem(lang.X("menu.help.about", "About zevdesk"), m.showAbout)
	help := fyne.NewMenu(lang.X("menu.help", "Help"), about)
	return fyne.NewMainMenu(file, edit, view, help)
}

// shortcuts registers every menu item's shortcut on the window's canvas.
func (m *MainWindow) shortcuts() {
	c := m.win.Canvas()
	for _, menu := range m.win.MainMenu().Items {
		for _, it := range menu.Items {
			if it.Shortcut == nil || it.Action == nil {
				continue
			}
			action := it.Action
			c.RemoveShortcut(it.Shortcut)
			c.AddShortcut(it.Shortcut, func(fyne.Shortcut) { action() })
		}
	}
}

func (m *MainWindow) quit() {
	if m.app != nil {
		m.app.Quit()
	}
}

func (m *MainWindow) showAbout() {
	d := dialog.NewInformation(lang.X("menu.help.about", "About zevdesk"),
		lang.X("window.about", "zevdesk: metering and billing for Swiss self-consumption communities.\nThe data stays on this workstation."),
		m.win)
	showDialog(m.win, d, nil)
}

// dialogEntry is an open dialog and what Enter does in it.
type dialogEntry struct {
	d       dialog.Dialog
	confirm func()
}

// openDialogs are the dialogs shown with showDialog, per window, the
// latest last. Only Fyne's goroutine touches it.
var openDialogs = map[fyne.Window][]dialogEntry{}

// showDialog shows d on w so that Escape dismisses it and Enter confirms it
// (confirm, when not nil: the dialog's affirmative action). Fyne's dialogs
// have neither key by themselves.
func showDialog(w fyne.Window, d dialog.Dialog, confirm func()) {
	installDialogKeys(w)
	openDialogs[w] = append(openDialogs[w], dialogEntry{d: d, confirm: confirm})
	d.SetOnClosed(func() {
		list := openDialogs[w]
		for i, e := range list {
			if e.d == d {
				openDialogs[w] = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(openDialogs[w]) == 0 {
			delete(openDialogs, w)
		}
	})
	d.Show()
}

// installDialogKeys routes Escape and Enter, when no widget has the focus,
// to the latest dialog shown with showDialog on w.
func installDialogKeys(w fyne.Window) {
	w.Canvas().SetOnTypedKey(func(ev *fyne.KeyEvent) {
		list := openDialogs[w]
		if len(list) == 0 {
			return
		}
		top := list[len(list)-1]
		switch ev.Name {
		case fyne.KeyEscape:
			top.d.Dismiss()
		case fyne.KeyReturn, fyne.KeyEnter:
			if top.confirm != nil {
				top.confirm()
			}
		}
	})
}
