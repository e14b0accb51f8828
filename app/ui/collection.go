package ui

import (
	"fmt"
	"io"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/app/report"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/collect"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/importer"
)

// Collection is the office's receivables of a site (docs/collection.md):
// the open items, the bank's payments that matched no invoice (assigned
// here by hand), the reminders due today (written as PDFs into a folder
// and recorded) and each tenant's account statement; camt files are
// imported here, and the open items and a statement exported as XLSX. It
// is not safe for concurrent use; call its methods on Fyne's goroutine.
type Collection struct {
	st    store.Store
	clock core.Clock
	win   fyne.Window
	site  *core.Site

	ledger *collect.Ledger
	items  []*collect.Item
	pays   []*collect.Payment
	due    []collect.DueReminder
	today  core.Date
	lines  []collect.StatementLine

	all       *widget.Check
	itemTable *widget.Table
	payList   *widget.List
	paySel    int
	assignBtn *widget.Button
	dueList   *widget.List
	dueLabel  *widget.Label
	tenant    *widget.Select
	stmtTable *widget.Table
	status    *widget.Label
	content   fyne.CanvasObject
}

// NewCollection returns the Collection screen; setSite fills it.
func NewCollection(st store.Store, clock core.Clock, win fyne.Window) *Collection {
	c := &Collection{st: st, clock: clock, win: win, paySel: -1}
	c.status = widget.NewLabel("")
	c.status.Wrapping = fyne.TextWrapWord
	c.all = widget.NewCheck(lang.X("collection.all", "Show paid and closed invoices too"), func(bool) { c.reload(c.site) })

	heads := []string{lang.X("collection.col.number", "No."), lang.X("collection.col.tenant", "Recipient"),
		lang.X("collection.col.due", "Due"), lang.X("collection.col.total", "Amount"),
		lang.X("collection.col.paid", "Paid"), lang.X("collection.col.open", "Open"),
		lang.X("collection.col.state", "State")}
	c.itemTable = widget.NewTableWithHeaders(func() (int, int) { return len(c.items), len(heads) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(c.itemCell(id.Row, id.Col))
		})
	c.itemTable.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	c.itemTable.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		if id.Row < 0 && id.Col >= 0 {
			l.SetText(heads[id.Col])
		} else {
			l.SetText("")
		}
	}
	c.itemTable.ShowHeaderColumn = false
	for i, w := range []float32{60, 220, 100, 120, 120, 120, 140} {
		c.itemTable.SetColumnWidth(i, w)
	}

	c.payList = widget.NewList(func() int { return len(c.pays) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(c.payText(i)) })
	c.payList.OnSelected = func(i widget.ListItemID) { c.paySel = i; c.assignBtn.Enable() }
	c.assignBtn = widget.NewButton(lang.X("collection.assign", "Assign to…"), c.onAssign)
	c.assignBtn.Disable()

	c.dueLabel = widget.NewLabel("")
	c.dueList = widget.NewList(func() int { return len(c.due) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(c.dueText(i)) })

	c.tenant = newSelect(nil, func(string) { c.refreshStatement() })
	c.tenant.PlaceHolder = lang.X("collection.statement.choose", "Choose a recipient")
	sheads := []string{lang.X("collection.col.date", "Date"), lang.X("collection.col.text", "Booking"),
		lang.X("collection.col.debit", "Debit"), lang.X("collection.col.credit", "Credit"),
		lang.X("collection.col.balance", "Balance")}
	c.stmtTable = widget.NewTableWithHeaders(func() (int, int) { return len(c.lines), len(sheads) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(c.lineCell(id.Row, id.Col))
		})
	c.stmtTable.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	c.stmtTable.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		if id.Row < 0 && id.Col >= 0 {
			l.SetText(sheads[id.Col])
		} else {
			l.SetText("")
		}
	}
	c.stmtTable.ShowHeaderColumn = false
	for i, w := range []float32{100, 320, 120, 120, 120} {
		c.stmtTable.SetColumnWidth(i, w)
	}

	tabs := container.NewAppTabs(
		container.NewTabItem(lang.X("collection.tab.open", "Open items"), container.NewBorder(
			container.NewHBox(c.all, widget.NewButton(lang.X("collection.export", "Export XLSX…"), c.onExportItems)),
			nil, nil, nil, c.itemTable)),
		container.NewTabItem(lang.X("collection.tab.payments", "Unassigned payments"), container.NewBorder(
			container.NewHBox(c.assignBtn), nil, nil, nil, c.payList)),
		container.NewTabItem(lang.X("collection.tab.reminders", "Reminders due"), container.NewBorder(
			container.NewHBox(c.dueLabel, widget.NewButton(lang.X("collection.remind", "Write reminders…"), c.onRemind)),
			nil, nil, nil, c.dueList)),
		container.NewTabItem(lang.X("collection.tab.statement", "Statement"), container.NewBorder(
			container.NewHBox(c.tenant, widget.NewButton(lang.X("collection.statement.export", "Export statement XLSX…"), c.onExportStatement)),
			nil, nil, nil, c.stmtTable)),
	)
	top := container.NewHBox(widget.NewButton(lang.X("collection.import", "Import bank file (camt)…"), c.onImport))
	c.content = container.NewBorder(top, c.status, nil, nil, tabs)
	return c
}

// Content returns the screen's canvas object.
func (c *Collection) Content() fyne.CanvasObject { return c.content }

func (c *Collection) setSite(site *core.Site) {
	c.status.SetText("")
	c.reload(site)
}

// reload reads the ledger again and redraws every list.
func (c *Collection) reload(site *core.Site) {
	if site == nil {
		return
	}
	c.site = site
	err := c.st.View(func(tx store.Tx) (err error) { c.ledger, err = collect.Load(tx); return err })
	if err != nil {
		c.status.SetText(err.Error())
		return
	}
	if c.all.Checked {
		c.items = c.ledger.Items(site.ID)
	} else {
		c.items = c.ledger.OpenItems(site.ID)
	}
	c.pays = c.ledger.Payments(true)
	c.paySel = -1
	c.payList.UnselectAll()
	c.assignBtn.Disable()
	c.today = c.ledger.Today(site.ID, c.clock.Now())
	c.due = c.ledger.DueReminders(site.ID, c.today)
	c.dueLabel.SetText(lang.XN("collection.due", "{{.N}} reminders due on {{.Date}}", len(c.due),
		map[string]any{"N": len(c.due), "Date": date(c.today)}))
	if !site.Settings.CollectSelf {
		c.dueLabel.SetText(lang.X("collection.noself", "This site does not collect itself: no reminders."))
	}
	c.tenant.Options = c.ledger.Tenants(site.ID)
	c.tenant.Refresh()
	c.itemTable.Refresh()
	c.payList.Refresh()
	c.dueList.Refresh()
	c.refreshStatement()
}

// stateText names an invoice's state in the current language.
func stateText(s collect.State) string {
	switch s {
	case collect.Issued:
		return lang.X("collection.state.issued", "issued")
	case collect.PartlyPaid:
		return lang.X("collection.state.partly", "partly paid")
	case collect.Paid:
		return lang.X("collection.state.paid", "paid")
	case collect.WrittenOff:
		return lang.X("collection.state.writtenoff", "written off")
	case collect.Cancelled:
		return lang.X("collection.state.cancelled", "cancelled")
	}
	return string(s)
}

func (c *Collection) itemCell(row, col int) string {
	if row < 0 || row >= len(c.items) {
		return ""
	}
	it := c.items[row]
	switch col {
	case 0:
		return fmt.Sprint(it.Number)
	case 1:
		return it.Tenant
	case 2:
		return date(it.Due)
	case 3:
		return chf(it.Amount + it.Fees)
	case 4:
		return chf(it.Paid)
	case 5:
		return chf(it.Open)
	case 6:
		s := stateText(it.State)
		if n := len(it.Reminders); n > 0 {
			s += " · " + lang.X("collection.reminded", "reminded {{.N}}×", map[string]any{"N": n})
		}
		return s
	}
	return ""
}

func (c *Collection) payText(i int) string {
	p := c.pays[i]
	who := p.Debtor
	if p.Reference != "" {
		who += " · " + p.Reference
	}
	if p.Message != "" {
		who += " · " + p.Message
	}
	return date(p.Booked) + "  " + chf(p.Unassigned()) + "  " + strings.TrimPrefix(who, " · ")
}

func (c *Collection) dueText(i int) string {
	d := c.due[i]
	s := lang.X("collection.due.row", "No. {{.Number}} {{.Tenant}}: reminder {{.Level}}, open {{.Open}}, pay by {{.PayBy}}",
		map[string]any{"Number": d.Item.Number, "Tenant": d.Item.Tenant, "Level": d.Level, "Open": chf(d.Open), "PayBy": date(d.PayBy)})
	if d.Final {
		s += " " + lang.X("collection.due.final", "(final)")
	}
	return s
}

func (c *Collection) lineCell(row, col int) string {
	if row < 0 || row >= len(c.lines) {
		return ""
	}
	l := c.lines[row]
	money := func(r core.Rappen) string {
		if r == 0 {
			return ""
		}
		return chf(r)
	}
	switch col {
	case 0:
		return date(l.Date)
	case 1:
		return l.Text
	case 2:
		return money(l.Debit)
	case 3:
		return money(l.Credit)
	case 4:
		return chf(l.Balance)
	}
	return ""
}

func (c *Collection) refreshStatement() {
	c.lines = nil
	if c.ledger != nil && c.site != nil && c.tenant.Selected != "" {
		c.lines = c.ledger.Statement(c.site.ID, c.tenant.Selected)
	}
	c.stmtTable.Refresh()
}

// onImport asks for a camt file and books it.
func (c *Collection) onImport() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		defer r.Close()
		c.importCamt(r.URI().Name(), r)
	}, c.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".xml", ".camt", ".054", ".053"}))
	d.Show()
}

// importCamt books the payments of a camt file read from r and says how
// they were matched.
func (c *Collection) importCamt(name string, r io.Reader) {
	camt, err := importer.ParseCamt(name, r)
	var res *collect.BookResult
	if err == nil {
		res, err = importer.ImportCamt(c.st, name, camt, desktopActor(), c.clock.Now())
	}
	if err != nil {
		c.status.SetText(err.Error())
		return
	}
	c.reload(c.site)
	c.status.SetText(lang.X("collection.imported",
		"{{.File}}: {{.New}} payments booked ({{.Ref}} by reference, {{.Amount}} by amount and debtor, {{.Open}} unassigned), {{.Dup}} already booked.",
		map[string]any{"File": name, "New": len(res.New), "Ref": res.ByReference, "Amount": res.ByAmount,
			"Open": res.Unassigned, "Dup": len(res.Duplicates)}))
}

// onAssign asks which open invoice the selected payment pays, and how much
// of it (empty: all that is unassigned).
func (c *Collection) onAssign() {
	if c.paySel < 0 || c.paySel >= len(c.pays) || c.site == nil {
		return
	}
	p := c.pays[c.paySel]
	open := c.ledger.OpenItems(c.site.ID)
	var names []string
	for _, it := range open {
		names = append(names, fmt.Sprintf("%d  %s  %s", it.Number, it.Tenant, chf(it.Open)))
	}
	sel := newSelect(names, nil)
	amount := widget.NewEntry()
	amount.SetPlaceHolder(report.CHF(p.Unassigned()))
	form := widget.NewForm(widget.NewFormItem(lang.X("collection.assign.invoice", "Invoice"), sel),
		widget.NewFormItem(lang.X("collection.assign.amount", "Amount CHF"), amount))
	d := dialog.NewCustomConfirm(lang.X("collection.assign.title", "Assign a payment"), lang.X("collection.assign.ok", "Assign"),
		lang.X("collection.cancel", "Cancel"), form, func(ok bool) {
			i := sel.SelectedIndex()
			if !ok || i < 0 {
				return
			}
			var r core.Rappen
			if t := strings.TrimSpace(amount.Text); t != "" {
				v, err := parseCHFField(t)
				if err != nil {
					c.status.SetText(err.Error())
					return
				}
				r = v
			}
			c.assign(p.ID, open[i].Number, r)
		}, c.win)
	showDialog(c.win, d, d.Confirm)
}

// assign assigns amount (0: all unassigned) of payment id to invoice
// number of the site.
func (c *Collection) assign(id string, number int, amount core.Rappen) {
	err := c.st.Update(func(tx store.Tx) error {
		_, err := collect.Assign(tx, id, c.site.ID, number, amount, desktopActor(), c.clock.Now())
		return err
	})
	if err != nil {
		c.status.SetText(err.Error())
		return
	}
	c.reload(c.site)
	c.status.SetText(lang.X("collection.assigned", "Payment assigned to invoice {{.Number}}.", map[string]any{"Number": number}))
}

// onRemind asks for a folder and writes the reminders due into it.
func (c *Collection) onRemind() {
	if len(c.due) == 0 {
		c.status.SetText(lang.X("collection.remind.none", "No reminders are due."))
		return
	}
	dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil || u == nil {
			return
		}
		c.writeReminders(u.Path())
	}, c.win)
}

// writeReminders writes a PDF of each reminder due into dir and records it
// as issued; each letter is written before its reminder is recorded, so a
// reminder on record always has its letter. It returns the files written.
func (c *Collection) writeReminders(dir string) []string {
	var files []string
	for _, r := range c.due {
		name, err := c.writeReminder(dir, r)
		if err != nil {
			c.reload(c.site)
			c.status.SetText(err.Error())
			return files
		}
		files = append(files, name)
	}
	c.reload(c.site)
	c.status.SetText(lang.XN("collection.reminded.written", "{{.N}} reminders written into {{.Dir}}.", len(files),
		map[string]any{"N": len(files), "Dir": dir}))
	return files
}

func (c *Collection) writeReminder(dir string, r collect.DueReminder) (string, error) {
	name, err := report.WriteReminderFile(dir, c.site, r, c.today)
	if err != nil {
		return name, err
	}
	err = c.st.Update(func(tx store.Tx) error {
		return collect.RecordReminder(tx, r.Reminder(c.today), desktopActor(), c.clock.Now())
	})
	if err != nil {
		return name, fmt.Errorf("recording the reminder in %s: %w", name, err)
	}
	return name, nil
}

// saveXLSX asks where to save a workbook named name and writes it with
// write.
func (c *Collection) saveXLSX(name string, write func(io.Writer) error) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		err = write(w)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			c.status.SetText(err.Error())
			os.Remove(w.URI().Path())
			return
		}
		c.status.SetText(lang.X("collection.saved", "Saved {{.Path}}.", map[string]any{"Path": w.URI().Path()}))
	}, c.win)
	d.SetFileName(name)
	d.Show()
}

func (c *Collection) onExportItems() {
	if c.site == nil {
		return
	}
	c.saveXLSX(c.site.ID+"_open_items.xlsx", c.writeItems)
}

// writeItems writes the items shown as a workbook.
func (c *Collection) writeItems(w io.Writer) error {
	return report.WriteOpenItemsXLSX(w, c.site, c.items, currentLanguage())
}

func (c *Collection) onExportStatement() {
	if c.site == nil || c.tenant.Selected == "" {
		c.status.SetText(lang.X("collection.statement.pick", "Choose a recipient first."))
		return
	}
	c.saveXLSX(c.site.ID+"_statement.xlsx", c.writeStatement)
}

// writeStatement writes the statement shown as a workbook.
func (c *Collection) writeStatement(w io.Writer) error {
	return report.WriteStatementXLSX(w, c.site, c.tenant.Selected, c.lines, currentLanguage())
}
