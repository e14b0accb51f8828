package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Welcome is the first screen on an empty database: it offers what a
// first-time user can do without a terminal — try the demo, set up a
// building, or open a site file. It is not safe for concurrent use.
type Welcome struct {
	demo, setUp, open *widget.Button
	status            *widget.Label
	content           fyne.CanvasObject

	// onDemo creates the demo site; onSetUp opens the form that sets up a
	// building (the site form, wired by the main window); onOpen asks for
	// a site file and imports it. A nil hook hides its button.
	onDemo, onSetUp, onOpen func()
	// done, when set, is called after a background job (the demo) has
	// drawn its result; tests wait on it.
	done func()
}

// newWelcome builds the welcome screen; set its hooks, then call refresh.
func newWelcome() *Welcome {
	w := &Welcome{}
	title := widget.NewLabelWithStyle(lang.X("welcome.title", "Welcome to zevdesk"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	intro := widget.NewLabel(lang.X("welcome.intro", "zevdesk meters and bills a solar self-consumption community. "+
		"There is no building in it yet. How would you like to start?"))
	intro.Wrapping = fyne.TextWrapWord
	intro.Alignment = fyne.TextAlignCenter
	w.demo = widget.NewButtonWithIcon(lang.X("welcome.demo", "Try the demo"), theme.MediaPlayIcon(), func() {
		if w.onDemo != nil {
			w.onDemo()
		}
	})
	w.setUp = widget.NewButtonWithIcon(lang.X("welcome.setup", "Set up a building"), theme.HomeIcon(), func() {
		if w.onSetUp != nil {
			w.onSetUp()
		}
	})
	w.setUp.Importance = widget.HighImportance
	w.open = widget.NewButtonWithIcon(lang.X("welcome.open", "Open a site file…"), theme.FolderOpenIcon(), func() {
		if w.onOpen != nil {
			w.onOpen()
		}
	})
	hint := func(s string) *widget.Label {
		l := widget.NewLabel(s)
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.LowImportance
		return l
	}
	w.status = widget.NewLabel("")
	w.status.Wrapping = fyne.TextWrapWord
	w.status.Alignment = fyne.TextAlignCenter
	box := container.NewVBox(title, intro,
		w.demo, hint(lang.X("welcome.demo.hint", "A made-up building with a year of data, to look around. It stays beside your own buildings and can be deleted.")),
		w.setUp, hint(lang.X("welcome.setup.hint", "Enter the building, its units and meters; then connect its gateways.")),
		w.open, hint(lang.X("welcome.open.hint", "A site file (.toml) prepared by your installer or another office.")),
		w.status)
	w.content = container.NewCenter(container.NewGridWrap(fyne.NewSize(520, box.MinSize().Height+40), box))
	return w
}

// Content returns the screen's canvas object.
func (w *Welcome) Content() fyne.CanvasObject { return w.content }

// refresh shows the buttons whose hook is set.
func (w *Welcome) refresh() {
	for _, b := range []struct {
		b  *widget.Button
		fn func()
	}{{w.demo, w.onDemo}, {w.setUp, w.onSetUp}, {w.open, w.onOpen}} {
		if b.fn == nil {
			b.b.Hide()
		} else {
			b.b.Show()
		}
	}
}

// setBusy disables the buttons while msg (when not empty) says what runs.
func (w *Welcome) setBusy(busy bool, msg string) {
	for _, b := range []*widget.Button{w.demo, w.setUp, w.open} {
		if busy {
			b.Disable()
		} else {
			b.Enable()
		}
	}
	w.status.SetText(msg)
}
