package ui

import (
	"fmt"
	"log/slog"
	"os/user"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/app/report"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

// billingText holds the billing screen's labels.
var billingText = struct {
	Previous, Next, Finalize, Cancel, Write, Draft, Computing, Finalizing, Writing     string
	Sum, DryRun, Locked, Written, ConfirmTitle, Confirm, NoWarnings, Owner, NoInvoices string
	ConfirmUnknown, AcceptFinalize                                                     string
	Production, SelfConsumed, FedIn, Grid, Consumption, Estimated                      string
	Invoice, Close, Energy, Fee                                                        string
	Columns, Kinds                                                                     []string
}{
	Kinds:   []string{"Month", "Quarter", "Half-year", "Year"},
	Invoice: "Invoice %s: %s, %s", Close: "Close", Energy: "%s kWh × CHF %s", Fee: "%d days × CHF %s / month",
	Previous: "Previous", Next: "Next", Finalize: "Finalize", Cancel: "Cancel", Write: "Write documents…", Draft: "draft",
	Computing: "Computing…", Finalizing: "Finalizing…", Writing: "Writing documents…",
	DryRun:       "Dry run: nothing is stored until you finalize.",
	Locked:       "Billed and locked: the invoices carry their final numbers.",
	Written:      "%d files written to %s",
	ConfirmTitle: "Finalize billing",
	Confirm: "Finalize %s (%s)?\n\nThe %d invoices get their final numbers and the period will be locked:\n" +
		"its meter data cannot change until the period is unlocked.",
	Sum: "%d invoices, %s", NoWarnings: "No warnings.", Owner: " (owner)", NoInvoices: "No invoices in this period.",
	Production: "Production", SelfConsumed: "Self-consumed", FedIn: "Fed in", Grid: "Grid", Consumption: "Consumption",
	Estimated: "Estimated",
	Columns:   []string{"No.", "Unit", "Tenant", "Days", "Solar kWh", "Grid kWh", "Total CHF"},
	ConfirmUnknown: "\n\nThese meters have no value at all in the period, so nobody knows how much they used, " +
		"and the invoices do not bill it:\n%s\n\nFinalize only if you accept that this consumption stays unbilled; " +
		"the audit log records your acceptance with these numbers.",
	AcceptFinalize: "Accept and finalize",
}

// billingFigures are the building totals in display order.
var billingFigures = []string{billingText.Production, billingText.SelfConsumed, billingText.FedIn, billingText.Grid,
	billingText.Consumption, billingText.Estimated}

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
	confirm    dialog.Dialog
	content    fyne.CanvasObject

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
	err    string // why the period could not be billed
}

// NewBilling builds the billing screen on st; dialogs open on win.
func NewBilling(st store.Store, clock core.Clock, win fyne.Window) *Billing {
	b := &Billing{st: st, clock: clock, win: win, figures: map[string]*widget.Label{}}
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
		d.Resize(fyne.NewSize(820, 560))
		d.Show()
	}
	b.prev, b.next = navButtons(billingText.Previous, billingText.Next, func() { b.onStep(-1) }, func() { b.onStep(1) })
	b.name = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	b.kindSel = widget.NewSelect(billingText.Kinds, func(string) { b.onKind(kindKeys[b.kindSel.SelectedIndex()]) })
	b.finalize = widget.NewButton(billingText.Finalize, b.onFinalize)
	b.finalize.Importance = widget.HighImportance
	b.write = widget.NewButton(billingText.Write, b.onWrite)
	b.warnings = widget.NewLabel("")
	b.warnings.Wrapping = fyne.TextWrapWord
	b.status = widget.NewLabel("")
	b.total = widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	grid := container.New(layout.NewGridLayout(6))
	for _, n := range billingFigures {
		v := widget.NewLabelWithStyle("–", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		b.figures[n] = v
		grid.Add(container.NewVBox(widget.NewLabel(n+" kWh"), v))
	}
	b.table = newTable(billingText.Columns, []float32{70, 70, 230, 60, 110, 110, 120}, b.tableSize, b.updateCell)
	for _, w := range []fyne.Disableable{b.prev, b.next, b.finalize, b.write} {
		w.Disable()
	}
	b.table.OnSelected = func(id widget.TableCellID) {
		b.onInvoice(id.Row)
		b.table.UnselectAll()
	}
	nav := container.NewBorder(nil, nil, container.NewHBox(b.prev, b.kindSel), b.next, b.name)
	top := container.NewVBox(nav, grid)
	actions := container.NewBorder(nil, nil, nil, container.NewHBox(b.total, b.write, b.finalize), b.status)
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

// kindKeys are the period kinds in the order of billingText.Kinds.
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
			detail = fmt.Sprintf(billingText.Energy, kwh(l.Energy), report.PriceKWh(l.Price))
		case l.Energy != 0:
			detail = kwh(l.Energy) + " kWh"
		case l.Days != 0 && l.Fee != 0:
			detail = fmt.Sprintf(billingText.Fee, l.Days, chf(l.Fee)[len("CHF "):])
		}
		style := fyne.TextStyle{Bold: l.Kind == billing.KindTotal || l.Kind == billing.KindBalance}
		grid.Add(widget.NewLabelWithStyle(l.Label, fyne.TextAlignLeading, style))
		grid.Add(widget.NewLabel(detail))
		grid.Add(widget.NewLabelWithStyle(chf(l.Amount), fyne.TextAlignTrailing, style))
	}
	no := billingText.Draft
	if inv.Number != 0 {
		no = fmt.Sprint(inv.Number)
	}
	title := fmt.Sprintf(billingText.Invoice, no, inv.Tenant, period(core.Period{From: inv.From, To: inv.To}))
	d := dialog.NewCustom(title, billingText.Close, container.NewVScroll(grid), b.win)
	d.Resize(fyne.NewSize(720, 480))
	d.Show()
}

func (b *Billing) onStep(n int) { b.setPeriod(shiftPeriod(b.kind, b.period, n)) }

// setPeriod bills p as a dry run in the background.
func (b *Billing) setPeriod(p core.Period) {
	b.period = p
	b.gen++
	b.in, b.run, b.locked, b.err = nil, nil, false, ""
	b.name.SetText(periodName(b.kind, p) + "  (" + period(p) + ")")
	b.status.SetText(billingText.Computing)
	b.refresh()
	site, gen := b.site, b.gen
	b.background(func() (func(), error) {
		var in *billing.Input
		var run *billing.Run
		var locked bool
		err := b.st.View(func(tx store.Tx) error {
			var err error
			if in, run, err = billRun(tx, site, p); err != nil {
				return err
			}
			locked, err = isLocked(tx, site.ID, p)
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
			b.in, b.run, b.locked = in, run, locked
			b.status.SetText(billingText.DryRun)
			if locked {
				b.status.SetText(billingText.Locked)
			}
		}, nil
	})
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

// isLocked reports whether p overlaps a billed (locked) period of site.
func isLocked(tx store.Tx, site string, p core.Period) (bool, error) {
	locks, err := tx.LocksOf(site)
	if err != nil {
		return false, fmt.Errorf("reading locks: %w", err)
	}
	for _, l := range locks {
		if _, ok := l.Period.Intersect(p); ok {
			return true, nil
		}
	}
	return false, nil
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
	msg := fmt.Sprintf(billingText.Confirm, periodName(b.kind, b.period), period(b.period), len(b.run.Invoices))
	confirmText := billingText.Finalize
	unknown := b.run.Unknown()
	if len(unknown) > 0 {
		gaps := billing.DescribeUnknown(unknown, b.run.Building.Slots, b.site.Location())
		for i, g := range gaps {
			gaps[i] = "• " + g
		}
		msg += fmt.Sprintf(billingText.ConfirmUnknown, lines(gaps))
		confirmText = billingText.AcceptFinalize
	}
	c := dialog.NewConfirm(billingText.ConfirmTitle, msg, func(ok bool) { b.onFinalizeConfirmed(ok, unknown) }, b.win)
	c.SetConfirmText(confirmText)
	c.SetDismissText(billingText.Cancel)
	b.confirm = c
	c.Show()
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
	b.status.SetText(billingText.Finalizing)
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
			b.in, b.run, b.locked = in, run, true
			b.status.SetText(billingText.Locked)
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
	in, run, now := b.in, b.run, b.clock.Now()
	b.chooseFolder(func(dir string) {
		b.status.SetText(billingText.Writing)
		b.background(func() (func(), error) {
			var issued core.Date
			err := b.st.View(func(tx store.Tx) (err error) {
				issued, err = report.IssueDate(tx, in.Site, run.Period, now)
				return err
			})
			if err != nil {
				return nil, err
			}
			files, err := report.WriteRun(dir, run, in, &report.Options{Issued: issued, Lang: "en"})
			if err != nil {
				return nil, fmt.Errorf("writing documents to %s: %w", dir, err)
			}
			return func() { b.status.SetText(fmt.Sprintf(billingText.Written, len(files), dir)) }, nil
		})
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
		b.total.SetText(fmt.Sprintf(billingText.Sum, len(r.Invoices), chf(sum)))
		bl := r.Building
		set := func(name string, e core.Energy) { b.figures[name].SetText(kwh(e)) }
		set(billingText.Production, bl.Production)
		set(billingText.SelfConsumed, bl.SelfConsumed)
		set(billingText.FedIn, bl.FedIn)
		set(billingText.Grid, bl.Grid)
		set(billingText.Consumption, bl.Consumption)
		set(billingText.Estimated, bl.Estimated)
		switch {
		case len(r.Warnings) > 0:
			ws := make([]string, len(r.Warnings))
			for i, w := range r.Warnings {
				ws[i] = "⚠ " + w
			}
			b.warnings.SetText(lines(ws))
		case len(r.Invoices) == 0:
			b.warnings.SetText(billingText.NoInvoices)
		default:
			b.warnings.SetText(billingText.NoWarnings)
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
}

func (b *Billing) tableSize() (int, int) {
	if b.run == nil {
		return 0, len(billingText.Columns)
	}
	return len(b.run.Invoices), len(billingText.Columns)
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
			l.SetText(billingText.Draft)
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
			t += billingText.Owner
		}
		l.SetText(t)
	case 3:
		l.SetText(fmt.Sprint(core.Period{From: inv.From, To: inv.To}.Days()))
	case 4:
		l.SetText(kwh(inv.KWh.Solar))
	case 5:
		l.SetText(kwh(inv.KWh.Grid))
	case 6:
		l.SetText(chf(inv.Total)[len("CHF "):])
	}
}
