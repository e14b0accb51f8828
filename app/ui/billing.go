package ui

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/app/report"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

// billingLabels are the billing screen's plain labels.
type billingLabels struct {
	Previous, Next, Finalize, Cancel, Write, Draft, Computing, Finalizing, Writing string
	DryRun, Locked, ConfirmTitle, NoWarnings, Owner, NoInvoices, AcceptFinalize    string
	Close                                                                          string
	Columns, Kinds                                                                 []string
}

// billingText returns the billing screen's labels in the current language.
func billingText() billingLabels {
	return billingLabels{
		Kinds: []string{lang.X("billing.kind.month", "Month"), lang.X("billing.kind.quarter", "Quarter"),
			lang.X("billing.kind.half", "Half-year"), lang.X("billing.kind.year", "Year")},
		Close:    lang.X("billing.close", "Close"),
		Previous: lang.X("nav.previous", "Previous"), Next: lang.X("nav.next", "Next"),
		Finalize: lang.X("billing.finalize", "Finalize"), Cancel: lang.X("billing.cancel", "Cancel"),
		Write: lang.X("billing.write", "Write documents…"), Draft: lang.X("billing.draft", "draft"),
		Computing: lang.X("billing.computing", "Computing…"), Finalizing: lang.X("billing.finalizing", "Finalizing…"),
		Writing:        lang.X("billing.writing", "Writing documents…"),
		DryRun:         lang.X("billing.dryrun", "Dry run: nothing is stored until you finalize."),
		Locked:         lang.X("billing.locked", "Billed and locked: the invoices carry their final numbers."),
		ConfirmTitle:   lang.X("billing.confirm.title", "Finalize billing"),
		NoWarnings:     lang.X("billing.nowarnings", "No warnings."),
		Owner:          " " + lang.X("billing.owner", "(owner)"),
		NoInvoices:     lang.X("billing.noinvoices", "No invoices in this period."),
		AcceptFinalize: lang.X("billing.acceptfinalize", "Accept and finalize"),
		Columns: []string{lang.X("billing.col.number", "No."), lang.X("billing.col.unit", "Unit"),
			lang.X("billing.col.tenant", "Tenant"), lang.X("billing.col.days", "Days"),
			lang.X("billing.col.solar", "Solar kWh"), lang.X("billing.col.grid", "Grid kWh"),
			lang.X("billing.col.total", "Total CHF")},
	}
}

// billingFigures are the building totals in display order (figureLabel
// names them).
var billingFigures = []string{"Production", "SelfConsumed", "FedIn", "Grid", "Consumption", "Estimated"}

// Billing bills a site for a period: a dry run (billing.Load and
// billing.Bill) whenever the period changes, the building totals and one row
// per invoice, the run's warnings, and the actions Finalize (billing.Commit
// after a confirmation) and Write documents (report.WriteRun into a chosen
// folder). Computing runs off the UI goroutine and draws through fyne.Do.
// Billing is not safe for concurrent use; call its methods on Fyne's
// goroutine.
type Billing struct {
	st    store.Store
	clock core.Clock
	win   fyne.Window

	prev, next *widget.Button
	kindSel    *widget.Select
	name       *widget.Label
	figures    map[string]*widget.Label
	table      *widget.Table
	warnings   *widget.Label
	status     *widget.Label
	total      *widget.Label
	finalize   *widget.Button
	write      *widget.Button
	unlock     *widget.Button
	// unlockForm is the Unlock dialog last opened, reason its entry
	// (tests).
	unlockForm *dialog.FormDialog
	reason     *widget.Entry
	confirm    dialog.Dialog
	content    fyne.CanvasObject
	text       billingLabels

	// chooseFolder asks for the documents' folder and calls fn with it
	// (never when cancelled); tests replace it.
	chooseFolder func(fn func(dir string))
	// done, when set, is called on the UI goroutine after each background
	// job has drawn its result; tests wait on it.
	done func()
	// spawn starts a background job (go f()); a test may hold the job back
	// until the widget call that started it has returned.
	spawn func(f func())

	site   *core.Site
	kind   string // the site's billing period setting
	period core.Period
	gen    int // counts period changes, to drop results of an older one
	busy   int // background jobs running
	in     *billing.Input
	run    *billing.Run
	locked bool
	lock   core.Period // the billed period that locks the one shown, when locked
	err    string      // why the period could not be billed
}

// NewBilling builds the billing screen on st; dialogs open on win.
func NewBilling(st store.Store, clock core.Clock, win fyne.Window) *Billing {
	b := &Billing{st: st, clock: clock, win: win, figures: map[string]*widget.Label{}, text: billingText()}
	b.spawn = func(f func()) { go f() }
	b.chooseFolder = func(fn func(string)) {
		d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
			if err != nil {
				b.status.SetText(err.Error())
				return
			}
			if u != nil {
				fn(u.Path())
			}
		}, b.win)
		// The dialog says what the folder is for; each write makes a folder
		// of its own inside it (writeFolder).
		d.SetTitleText(lang.X("billing.folder.title", "Folder for the invoice documents of {{.Period}}",
			map[string]any{"Period": periodName(b.kind, b.period)}))
		d.SetConfirmText(lang.X("billing.folder.confirm", "Write here"))
		d.Resize(fyne.NewSize(820, 560))
		d.Show()
	}
	b.prev, b.next = navButtons(b.text.Previous, b.text.Next, func() { b.onStep(-1) }, func() { b.onStep(1) })
	b.name = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	b.kindSel = newSelect(b.text.Kinds, func(string) { b.onKind(kindKeys[b.kindSel.SelectedIndex()]) })
	b.finalize = widget.NewButton(b.text.Finalize, b.onFinalize)
	b.finalize.Importance = widget.HighImportance
	b.write = widget.NewButton(b.text.Write, b.onWrite)
	b.unlock = widget.NewButton(lang.X("billing.unlock", "Unlock…"), b.onUnlock)
	b.unlock.Hide()
	b.warnings = widget.NewLabel("")
	b.warnings.Wrapping = fyne.TextWrapWord
	b.status = widget.NewLabel("")
	b.total = widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	grid := container.New(layout.NewGridLayout(6))
	for _, n := range billingFigures {
		v := widget.NewLabelWithStyle("–", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		b.figures[n] = v
		grid.Add(container.NewVBox(widget.NewLabel(figureLabel(n)+" kWh"), v))
	}
	b.table = newTable(b.text.Columns, []float32{70, 70, 230, 60, 110, 110, 120}, b.tableSize, b.updateCell)
	for _, w := range []fyne.Disableable{b.prev, b.next, b.finalize, b.write} {
		w.Disable()
	}
	b.table.OnSelected = func(id widget.TableCellID) {
		b.onInvoice(id.Row)
		b.table.UnselectAll()
	}
	nav := container.NewBorder(nil, nil, container.NewHBox(b.prev, b.kindSel), b.next, b.name)
	top := container.NewVBox(nav, grid)
	actions := container.NewBorder(nil, nil, nil, container.NewHBox(b.total, b.write, b.unlock, b.finalize), b.status)
	bottom := container.NewVBox(b.warnings, actions)
	b.content = container.NewBorder(top, bottom, nil, nil, b.table)
	return b
}

// Content returns the screen's canvas object.
func (b *Billing) Content() fyne.CanvasObject { return b.content }

// setSite shows site's last complete billing period (a quarter unless the
// site's settings say otherwise).
func (b *Billing) setSite(site *core.Site) {
	b.site = site
	b.kind = site.Settings.Period
	if b.kind == "" {
		b.kind = "quarter"
	}
	today := core.DateOf(b.clock.Now().In(site.Location()))
	b.showKind()
	b.setPeriod(lastCompletePeriod(b.kind, today))
}

// kindKeys are the period kinds in the order of b.text.Kinds.
var kindKeys = []string{"month", "quarter", "half", "year"}

// showKind selects the current kind in the picker without acting on it.
func (b *Billing) showKind() {
	for i, k := range kindKeys {
		if k == b.kind && b.kindSel.SelectedIndex() != i {
			b.kind = "" // onKind ignores the callback for the same kind
			b.kindSel.SetSelectedIndex(i)
			b.kind = k
		}
	}
}

// onKind switches to periods of another length: the one that holds the
// start of the period shown, or the last complete one if that has not ended.
func (b *Billing) onKind(kind string) {
	if b.site == nil || kind == b.kind || b.kind == "" {
		return
	}
	b.kind = kind
	p := billingPeriod(kind, b.period.From)
	if today := core.DateOf(b.clock.Now().In(b.site.Location())); !p.To.Before(today) {
		p = lastCompletePeriod(kind, today)
	}
	b.setPeriod(p)
}

// onInvoice shows an invoice's lines.
func (b *Billing) onInvoice(row int) {
	if b.run == nil || row < 0 || row >= len(b.run.Invoices) {
		return
	}
	inv := &b.run.Invoices[row]
	grid := container.NewGridWithColumns(3)
	for _, l := range inv.Lines {
		detail := ""
		switch {
		case l.Energy != 0 && l.Price != 0:
			detail = lang.X("billing.line.energy", "{{.KWh}} kWh × CHF {{.Price}}",
				map[string]any{"KWh": kwh(l.Energy), "Price": report.PriceKWh(l.Price)})
		case l.Energy != 0:
			detail = kwhUnit(l.Energy)
		case l.Days != 0 && l.Fee != 0:
			detail = lang.X("billing.line.fee", "{{.Days}} days × CHF {{.Fee}} / month",
				map[string]any{"Days": l.Days, "Fee": report.CHF(l.Fee)})
		}
		style := fyne.TextStyle{Bold: l.Kind == billing.KindTotal || l.Kind == billing.KindBalance}
		grid.Add(widget.NewLabelWithStyle(l.Label, fyne.TextAlignLeading, style))
		grid.Add(widget.NewLabel(detail))
		grid.Add(widget.NewLabelWithStyle(chf(l.Amount), fyne.TextAlignTrailing, style))
	}
	no := b.text.Draft
	if inv.Number != 0 {
		no = fmt.Sprint(inv.Number)
	}
	title := lang.X("billing.invoice", "Invoice {{.Number}}: {{.Tenant}}, {{.Period}}",
		map[string]any{"Number": no, "Tenant": inv.Tenant, "Period": period(core.Period{From: inv.From, To: inv.To})})
	d := dialog.NewCustom(title, b.text.Close, container.NewVScroll(grid), b.win)
	d.Resize(fyne.NewSize(720, 480))
	showDialog(b.win, d, nil)
}

// reload bills the shown period again (the data changed), unless a job
// is running: its result stays current enough and a finalize must not be
// overtaken.
func (b *Billing) reload(site *core.Site) {
	switch {
	case b.site == nil:
		b.setSite(site)
	case b.busy == 0:
		b.site = site
		b.setPeriod(b.period)
	}
}

func (b *Billing) onStep(n int) { b.setPeriod(shiftPeriod(b.kind, b.period, n)) }

// setPeriod bills p as a dry run in the background.
func (b *Billing) setPeriod(p core.Period) {
	b.period = p
	b.gen++
	b.in, b.run, b.locked, b.err = nil, nil, false, ""
	b.name.SetText(periodName(b.kind, p) + "  (" + period(p) + ")")
	b.status.SetText(b.text.Computing)
	b.refresh()
	site, gen := b.site, b.gen
	b.background(func() (func(), error) { return b.dryRun(site, p, gen), nil })
}

// dryRun bills site over p (on the background goroutine) and returns what
// draws the result, unless the period changed meanwhile (gen).
func (b *Billing) dryRun(site *core.Site, p core.Period, gen int) func() {
	var in *billing.Input
	var run *billing.Run
	var locked bool
	var lock core.Period
	err := b.st.View(func(tx store.Tx) error {
		var err error
		if in, run, err = billRun(tx, site, p); err != nil {
			return err
		}
		lock, locked, err = lockOf(tx, site.ID, p)
		return err
	})
	return func() {
		if gen != b.gen {
			return // the period changed meanwhile
		}
		if err != nil {
			// Shown where the warnings go: a refusal to bill missing
			// data names the gaps at length.
			b.err = err.Error()
			b.status.SetText("")
			return
		}
		b.in, b.run, b.locked, b.lock = in, run, locked, lock
		b.status.SetText(b.text.DryRun)
		if locked {
			b.status.SetText(b.text.Locked)
		}
	}
}

// billRun loads and bills site over p.
func billRun(tx store.Tx, site *core.Site, p core.Period) (*billing.Input, *billing.Run, error) {
	in, err := billing.Load(tx, site, p)
	if err != nil {
		return nil, nil, err
	}
	run, err := billing.Bill(in)
	if err != nil {
		return nil, nil, fmt.Errorf("billing %s: %w", p, err)
	}
	return in, run, nil
}

// lockOf returns the billed (locked) period of site that overlaps p, if
// any: the one an unlock reopens whole.
func lockOf(tx store.Tx, site string, p core.Period) (core.Period, bool, error) {
	locks, err := tx.LocksOf(site)
	if err != nil {
		return core.Period{}, false, fmt.Errorf("reading locks: %w", err)
	}
	for _, l := range locks {
		if _, ok := l.Period.Intersect(p); ok {
			return l.Period, true, nil
		}
	}
	return core.Period{}, false, nil
}

// background runs job off the UI goroutine, then draws: the function job
// returns runs through fyne.Do, followed by refresh. While it runs, the
// screen's actions are disabled.
func (b *Billing) background(job func() (func(), error)) {
	b.busy++
	b.refresh()
	b.spawn(func() {
		draw, err := job()
		fyne.Do(func() {
			b.busy--
			if err != nil {
				slog.Error("billing", "site", b.site.ID, "period", b.period.String(), "err", err)
				b.status.SetText(err.Error())
			} else if draw != nil {
				draw()
			}
			b.refresh()
			if b.done != nil {
				b.done()
			}
		})
	})
}

// onFinalize asks before committing. Where meters have no value at all in
// the period (billing.Run.Unknown), the question repeats their numbers and
// confirming it is the office's acceptance of them, passed to Commit and
// logged; cancelling finalizes nothing.
func (b *Billing) onFinalize() {
	if b.run == nil || b.locked || b.busy > 0 {
		return
	}
	msg := lang.X("billing.confirm", "Finalize {{.Name}} ({{.Period}})?\n\nThe {{.N}} invoices get their final numbers and the period will be locked:\n"+
		"its meter data cannot change until the period is unlocked.",
		map[string]any{"Name": periodName(b.kind, b.period), "Period": period(b.period), "N": len(b.run.Invoices)})
	confirmText := b.text.Finalize
	unknown := b.run.Unknown()
	if len(unknown) > 0 {
		gaps := billing.DescribeUnknown(unknown, b.run.Building.Slots, b.site.Location())
		for i, g := range gaps {
			gaps[i] = "• " + g
		}
		msg += "\n\n" + lang.X("billing.confirm.unknown", "These meters have no value at all in the period, so nobody knows how much they used, "+
			"and the invoices do not bill it:\n{{.Gaps}}\n\nFinalize only if you accept that this consumption stays unbilled; "+
			"the audit log records your acceptance with these numbers.", map[string]any{"Gaps": lines(gaps)})
		confirmText = b.text.AcceptFinalize
	}
	c := dialog.NewConfirm(b.text.ConfirmTitle, msg, func(ok bool) { b.onFinalizeConfirmed(ok, unknown) }, b.win)
	c.SetConfirmText(confirmText)
	c.SetDismissText(b.text.Cancel)
	b.confirm = c
	showDialog(b.win, c, c.Confirm)
}

// onFinalizeConfirmed commits the period: billed again inside the write
// transaction, so that what is numbered and locked is exactly the stored
// data. accept are the gaps of unknown energy the office was shown and
// accepted; Commit refuses others (the data changed meanwhile).
func (b *Billing) onFinalizeConfirmed(ok bool, accept []billing.Missing) {
	if !ok || b.run == nil || b.locked {
		return
	}
	site, p, gen, now := b.site, b.period, b.gen, b.clock.Now()
	b.status.SetText(b.text.Finalizing)
	b.background(func() (func(), error) {
		var in *billing.Input
		var run *billing.Run
		err := b.st.Update(func(tx store.Tx) error {
			var err error
			if in, run, err = billRun(tx, site, p); err != nil {
				return err
			}
			return billing.Commit(tx, run, now, &billing.CommitOptions{Actor: desktopActor(), Accept: accept})
		})
		if err != nil {
			return nil, fmt.Errorf("finalizing %s: %w", p, err)
		}
		slog.Info("period billed", "site", site.ID, "period", p.String(), "invoices", len(run.Invoices))
		return func() {
			if gen != b.gen {
				return
			}
			b.in, b.run, b.locked, b.lock = in, run, true, p
			b.status.SetText(b.text.Locked)
		}, nil
	})
}

// desktopActor names who uses the desktop app, for the audit log.
func desktopActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "desktop:" + u.Username
	}
	return "desktop"
}

func (b *Billing) onWrite() {
	if b.run == nil || b.busy > 0 {
		return
	}
	in, run, now, final := b.in, b.run, b.clock.Now(), b.locked
	b.chooseFolder(func(parent string) {
		b.status.SetText(b.text.Writing)
		b.background(func() (func(), error) {
			var issued core.Date
			err := b.st.View(func(tx store.Tx) (err error) {
				issued, err = report.IssueDate(tx, in.Site, run.Period, now)
				return err
			})
			if err != nil {
				return nil, err
			}
			dir, err := writeFolder(parent, run, final)
			if err != nil {
				return nil, err
			}
			files, err := report.WriteRun(dir, run, in, &report.Options{Issued: issued, Lang: "en"})
			if err != nil {
				return nil, fmt.Errorf("writing documents to %s: %w", dir, err)
			}
			return func() {
				b.status.SetText(lang.XN("billing.written", "{{.N}} files written to {{.Dir}}", len(files), map[string]any{"N": len(files), "Dir": dir}))
			}, nil
		})
	})
}

// writeFolder makes the folder in parent that a run's documents go to:
// SITE_FROM_TO for a final run, SITE_FROM_TO_draft for a dry run, with _2,
// _3, ... when that exists. Each write has a folder of its own, so that
// writing again (after the period was unlocked and billed anew, or a draft
// after the final run) never overwrites documents already written, which
// may have been sent.
func writeFolder(parent string, run *billing.Run, final bool) (string, error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", parent, err)
	}
	base := fmt.Sprintf("%s_%s_%s", run.Site, run.Period.From, run.Period.To)
	if !final {
		base += "_draft"
	}
	for n := 1; ; n++ {
		dir := filepath.Join(parent, base)
		if n > 1 {
			dir = fmt.Sprintf("%s_%d", dir, n)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("creating %s: %w", dir, err)
		}
	}
}

// onUnlock asks why the billed period shown is to be reopened; the reason
// goes to the audit log with the unlock (billing.Unlock, as `zevdesk
// unlock` does it).
func (b *Billing) onUnlock() {
	if !b.locked || b.busy > 0 || b.site == nil {
		return
	}
	lock := b.lock
	b.reason = widget.NewMultiLineEntry()
	b.reason.SetPlaceHolder(lang.X("billing.unlock.placeholder", "e.g. meter W02 read wrongly, corrected reading from the utility"))
	b.reason.Validator = func(s string) error {
		if strings.TrimSpace(s) == "" {
			return errors.New(lang.X("billing.unlock.needreason", "Say why: the audit log keeps it."))
		}
		return nil
	}
	msg := widget.NewLabel(lang.X("billing.unlock.text", "Unlock {{.Period}}? Its meter data can then be corrected and the period billed again; finalizing again keeps the invoice numbers.",
		map[string]any{"Period": period(lock)}))
	msg.Wrapping = fyne.TextWrapWord
	items := []*widget.FormItem{
		widget.NewFormItem("", msg),
		widget.NewFormItem(lang.X("billing.unlock.reason", "Reason"), b.reason),
	}
	b.unlockForm = dialog.NewForm(lang.X("billing.unlock.title", "Unlock billed period"), lang.X("billing.unlock.confirm", "Unlock"),
		b.text.Cancel, items, func(ok bool) {
			// The dialog's validation may not have run yet: never
			// unlock without a reason.
			if ok && strings.TrimSpace(b.reason.Text) != "" {
				b.unlockWith(lock, b.reason.Text)
			}
		}, b.win)
	b.unlockForm.Resize(fyne.NewSize(560, 320))
	b.unlockForm.Show()
}

// unlockWith unlocks lock with reason and bills the period shown again, in
// one background job.
func (b *Billing) unlockWith(lock core.Period, reason string) {
	site, now, p, gen := b.site, b.clock.Now(), b.period, b.gen
	b.status.SetText(b.text.Computing)
	b.background(func() (func(), error) {
		err := b.st.Update(func(tx store.Tx) error {
			return billing.Unlock(tx, site.ID, lock, desktopActor(), strings.TrimSpace(reason), now)
		})
		if err != nil {
			return nil, fmt.Errorf("unlocking %s: %w", lock, err)
		}
		slog.Info("period unlocked", "site", site.ID, "period", lock.String())
		return b.dryRun(site, p, gen), nil
	})
}

// refresh draws the current run and the actions' states.
func (b *Billing) refresh() {
	r := b.run
	if r == nil {
		for _, l := range b.figures {
			l.SetText("–")
		}
		b.warnings.SetText("")
		if b.err != "" {
			b.warnings.SetText("⛔ " + b.err)
		}
		b.total.SetText("")
	} else {
		var sum core.Rappen
		for _, inv := range r.Invoices {
			sum += inv.Total
		}
		b.total.SetText(lang.XN("billing.sum", "{{.N}} invoices, {{.Total}}", len(r.Invoices), map[string]any{"N": len(r.Invoices), "Total": chf(sum)}))
		bl := r.Building
		set := func(name string, e core.Energy) { b.figures[name].SetText(kwh(e)) }
		set("Production", bl.Production)
		set("SelfConsumed", bl.SelfConsumed)
		set("FedIn", bl.FedIn)
		set("Grid", bl.Grid)
		set("Consumption", bl.Consumption)
		set("Estimated", bl.Estimated)
		switch {
		case len(r.Warnings) > 0:
			ws := make([]string, len(r.Warnings))
			for i, w := range r.Warnings {
				ws[i] = "⚠ " + w
			}
			b.warnings.SetText(lines(ws))
		case len(r.Invoices) == 0:
			b.warnings.SetText(b.text.NoInvoices)
		default:
			b.warnings.SetText(b.text.NoWarnings)
		}
	}
	b.table.Refresh()
	enable := func(w fyne.Disableable, on bool) {
		if on {
			w.Enable()
		} else {
			w.Disable()
		}
	}
	enable(b.prev, b.site != nil && b.busy == 0)
	today := core.Date{}
	if b.site != nil {
		today = core.DateOf(b.clock.Now().In(b.site.Location()))
	}
	// Only complete periods are billed.
	enable(b.next, b.site != nil && b.busy == 0 && shiftPeriod(b.kind, b.period, 1).To.Before(today))
	enable(b.finalize, r != nil && b.busy == 0 && !b.locked && len(r.Invoices) > 0)
	enable(b.write, r != nil && b.busy == 0 && len(r.Invoices) > 0)
	enable(b.unlock, b.locked && b.busy == 0)
	if b.locked {
		b.unlock.Show()
	} else {
		b.unlock.Hide()
	}
}

func (b *Billing) tableSize() (int, int) {
	if b.run == nil {
		return 0, len(b.text.Columns)
	}
	return len(b.run.Invoices), len(b.text.Columns)
}

func (b *Billing) updateCell(id widget.TableCellID, c fyne.CanvasObject) {
	l := c.(*widget.Label)
	if b.run == nil || id.Row >= len(b.run.Invoices) {
		l.SetText("")
		return
	}
	inv := &b.run.Invoices[id.Row]
	l.Alignment = fyne.TextAlignTrailing
	l.Truncation = fyne.TextTruncateOff
	switch id.Col {
	case 0:
		l.Alignment = fyne.TextAlignLeading
		if inv.Number == 0 {
			l.SetText(b.text.Draft)
		} else {
			l.SetText(fmt.Sprint(inv.Number))
		}
	case 1:
		l.Alignment = fyne.TextAlignLeading
		l.SetText(inv.Unit)
	case 2:
		l.Alignment = fyne.TextAlignLeading
		l.Truncation = fyne.TextTruncateEllipsis
		t := inv.Tenant
		if inv.Owner {
			t += b.text.Owner
		}
		l.SetText(t)
	case 3:
		l.SetText(count(core.Period{From: inv.From, To: inv.To}.Days()))
	case 4:
		l.SetText(kwh(inv.KWh.Solar))
	case 5:
		l.SetText(kwh(inv.KWh.Grid))
	case 6:
		l.SetText(report.CHF(inv.Total))
	}
}
