package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/skip2/go-qrcode"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/residents"
	"github.com/zevdesk/zevdesk/core/store"
)

// Residents lists a site's occupancies with their personal link to the
// resident web page, issuing missing ones; the office copies, renews or
// revokes a link and sets how long a former tenant's link keeps working.
// It is not safe for concurrent use; call its methods on Fyne's goroutine.
type Residents struct {
	st    store.Store
	clock core.Clock
	win   fyne.Window
	// keyPath is the key file that seals the links' tokens ("" for none:
	// a new token is then shown only once).
	keyPath string
	site    *core.Site

	entries []residents.Entry
	base    string
	sel     int

	list                     *widget.List
	copyBtn, qr, renew, stop *widget.Button
	// qrShown is the QR code dialog last opened (tests).
	qrShown dialog.Dialog
	grace   *widget.Entry
	status  *widget.Label
	content fyne.CanvasObject
}

// NewResidents returns the links screen of site; keyPath is the link key
// file (residents.KeyPath of the database).
func NewResidents(st store.Store, clock core.Clock, win fyne.Window, site *core.Site, keyPath string) *Residents {
	r := &Residents{st: st, clock: clock, win: win, site: site, keyPath: keyPath, sel: -1}
	r.status = widget.NewLabel("")
	r.status.Wrapping = fyne.TextWrapWord
	r.list = widget.NewList(func() int { return len(r.entries) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(r.rowText(i)) })
	r.list.OnSelected = func(i widget.ListItemID) { r.sel = i; r.refreshButtons() }
	r.copyBtn = widget.NewButton(lang.X("residents.copy", "Copy link"), r.onCopy)
	r.qr = widget.NewButton(lang.X("residents.qr", "Show QR code"), r.onQR)
	r.renew = widget.NewButton(lang.X("residents.renew", "Renew link"), func() { r.onChange(true) })
	r.stop = widget.NewButton(lang.X("residents.revoke", "Revoke link"), func() { r.onChange(false) })
	r.grace = widget.NewEntry()
	setGrace := widget.NewButton(lang.X("residents.grace.set", "Set"), r.onGrace)
	bottom := container.NewVBox(container.NewHBox(r.copyBtn, r.qr, r.renew, r.stop),
		container.NewHBox(widget.NewLabel(lang.X("residents.grace", "Days a link works after move-out:")),
			container.NewGridWrap(fyne.NewSize(80, r.grace.MinSize().Height), r.grace), setGrace),
		r.status)
	r.content = container.NewBorder(nil, bottom, nil, nil, r.list)
	r.reload()
	return r
}

// Content returns the screen's canvas object.
func (r *Residents) Content() fyne.CanvasObject { return r.content }

// key loads the link key, or nil without a key file.
func (r *Residents) key() (*residents.Key, error) {
	if r.keyPath == "" {
		return nil, nil
	}
	return residents.LoadKey(r.keyPath)
}

// reload lists the links again, issuing missing ones.
func (r *Residents) reload() {
	key, err := r.key()
	if err != nil {
		r.status.SetText(err.Error())
		return
	}
	var grace int
	err = r.st.Update(func(tx store.Tx) error {
		var err error
		if r.base, err = residents.BaseURL(tx); err != nil {
			return err
		}
		if grace, err = residents.Grace(tx, r.site.ID); err != nil {
			return err
		}
		r.entries, err = residents.List(tx, r.site, key, true, r.clock.Now())
		return err
	})
	if err != nil {
		r.status.SetText(fmt.Sprintf("listing the resident links of %s: %v", r.site.ID, err))
	}
	if r.base == "" && err == nil {
		r.status.SetText(lang.X("residents.nobase", "The links' address is not set, so they are shown as paths: set it in Settings (Address in the links)."))
	}
	r.grace.SetText(strconv.Itoa(grace))
	r.list.Refresh()
	r.refreshButtons()
}

// link is entry i's address ("" when it has no active one).
func (r *Residents) link(i int) string {
	if i < 0 || i >= len(r.entries) || r.entries[i].State != "active" || r.entries[i].Token == "" {
		return ""
	}
	return residents.URL(r.base, r.entries[i].Token)
}

func (r *Residents) rowText(i int) string {
	e := r.entries[i]
	o := e.Occupancy
	head := o.Unit + "  " + o.Name + "  " + date(o.From) + " – "
	if !o.To.IsZero() {
		head += date(o.To)
	}
	var state string
	switch e.State {
	case "active":
		state = r.link(i)
		if state == "" {
			state = lang.X("residents.state.nokey", "link not shown (the link key is missing): renew it")
		}
	case "revoked":
		state = lang.X("residents.state.revoked", "revoked (renew gives a new link)")
	default:
		state = lang.X("residents.state.expired", "expired on {{.Date}}", map[string]any{"Date": date(e.Expires)})
	}
	return head + "   " + state
}

func (r *Residents) refreshButtons() {
	for _, b := range []*widget.Button{r.copyBtn, r.qr, r.renew, r.stop} {
		b.Disable()
	}
	if r.sel < 0 || r.sel >= len(r.entries) {
		return
	}
	r.renew.Enable()
	if r.link(r.sel) != "" {
		r.copyBtn.Enable()
		r.qr.Enable()
	}
	if r.entries[r.sel].State == "active" {
		r.stop.Enable()
	}
}

func (r *Residents) onCopy() {
	if u := r.link(r.sel); u != "" {
		fyne.CurrentApp().Clipboard().SetContent(u)
		r.status.SetText(lang.X("residents.copied", "Link copied."))
	}
}

// onQR shows the selected link as a QR code, for a tenant to scan from the
// screen.
func (r *Residents) onQR() {
	u := r.link(r.sel)
	if u == "" {
		return
	}
	png, err := qrcode.Encode(u, qrcode.Medium, 320)
	if err != nil {
		r.status.SetText(fmt.Sprintf("making the QR code: %v", err))
		return
	}
	img := canvas.NewImageFromResource(fyne.NewStaticResource("link.png", png))
	img.FillMode = canvas.ImageFillOriginal
	name := r.entries[r.sel].Occupancy.Name
	r.qrShown = dialog.NewCustom(name, lang.X("residents.qr.close", "Close"), container.NewVBox(img, widget.NewLabel(u)), r.win)
	r.qrShown.Show()
}

// onChange renews (renew set) or revokes the selected occupancy's link.
func (r *Residents) onChange(renew bool) {
	if r.sel < 0 || r.sel >= len(r.entries) {
		return
	}
	o := r.entries[r.sel].Occupancy
	key, err := r.key()
	if err != nil {
		r.status.SetText(err.Error())
		return
	}
	err = r.st.Update(func(tx store.Tx) error {
		_, err := residents.Change(tx, r.site.ID, o, renew, key, desktopActor(), r.clock.Now())
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		r.status.SetText(lang.X("residents.nolink", "{{.Name}} has no link to revoke.", map[string]any{"Name": o.Name}))
	case err != nil:
		r.status.SetText(err.Error())
	case renew:
		r.status.SetText(lang.X("residents.renewed", "{{.Name}} has a new link; the old one no longer works.", map[string]any{"Name": o.Name}))
	default:
		r.status.SetText(lang.X("residents.revoked", "The link of {{.Name}} no longer works.", map[string]any{"Name": o.Name}))
	}
	msg := r.status.Text
	r.reload()
	r.status.SetText(msg)
}

func (r *Residents) onGrace() {
	n, err := strconv.Atoi(strings.TrimSpace(r.grace.Text))
	if err != nil || n < 0 {
		r.status.SetText(lang.X("residents.grace.bad", "Days after move-out: expected a whole number, 0 or more."))
		return
	}
	if err := r.st.Update(func(tx store.Tx) error { return residents.SetGrace(tx, r.site.ID, n) }); err != nil {
		r.status.SetText(err.Error())
		return
	}
	r.reload()
	r.status.SetText(lang.X("residents.grace.saved", "Saved."))
}

// showResidents opens the resident links of the current site in a window
// of its own.
func (m *MainWindow) showResidents() {
	if m.site == nil {
		return
	}
	keyPath := ""
	if m.opts.Files != "" {
		keyPath = residents.KeyPath(m.opts.Files)
	}
	w := fyne.CurrentApp().NewWindow(lang.X("residents.window", "Resident links – {{.Site}}", map[string]any{"Site": m.site.Name}))
	m.residents = NewResidents(m.st, m.clock, w, m.site, keyPath)
	w.SetContent(m.residents.Content())
	w.Resize(fyne.NewSize(900, 480))
	w.Show()
}
