package ui

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/xuri/excelize/v2"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/collect"
	"github.com/zevdesk/zevdesk/core/store"
)

const testQRIBAN = "CH4431999123000889012"

// collectStore is billingStore's site collecting itself into a QR-IBAN
// with a 20-day payment term, its June billed final on 5 July (Anna Muster,
// Ben Beispiel from 16 June, and the owner for W02's vacancy before).
func collectStore(t *testing.T) (store.Store, *core.Site) {
	t.Helper()
	st, site, clock := billingStore(t)
	site.Operator.IBAN = testQRIBAN
	site.Settings.CollectSelf = true
	site.Settings.PaymentTermDays = 20
	site.Settings.ReminderFee = 2000
	err := st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(site); err != nil {
			return err
		}
		_, run, err := billRun(tx, site, core.Period{From: core.MustDate(2026, 6, 1), To: core.MustDate(2026, 6, 30)})
		if err != nil {
			return err
		}
		return billing.Commit(tx, run, clock.Now(), &billing.CommitOptions{Actor: "test"})
	})
	if err != nil {
		t.Fatal(err)
	}
	return st, site
}

// camtXML is a camt.054.001.08 notification of payments into the
// QR-IBAN: each of reference (QRR, or none), amount, debtor and the
// bank's entry reference.
func camtXML(pays ...[4]string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-07-20T08:00:00</CreDtTm></GrpHdr>
<Ntfctn><Id>N1</Id><Acct><Id><IBAN>` + testQRIBAN + `</IBAN></Id></Acct>
`)
	for _, p := range pays {
		rmt := ""
		if p[0] != "" {
			rmt = `<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>QRR</Prtry></CdOrPrtry></Tp><Ref>` + p[0] + `</Ref></CdtrRefInf></Strd></RmtInf>`
		}
		fmt.Fprintf(&b, `<Ntry><Amt Ccy="CHF">%s</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-07-20</Dt></BookgDt><ValDt><Dt>2026-07-20</Dt></ValDt><AcctSvcrRef>%s</AcctSvcrRef>
<NtryDtls><TxDtls><Amt Ccy="CHF">%s</Amt><CdtDbtInd>CRDT</CdtDbtInd><RltdPties><Dbtr><Pty><Nm>%s</Nm></Pty></Dbtr></RltdPties>%s</TxDtls></NtryDtls></Ntry>
`, p[1], p[3], p[1], p[2], rmt)
	}
	b.WriteString("</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n")
	return b.String()
}

func itemOf(c *Collection, tenant string) *collect.Item {
	for _, it := range c.ledger.Items(c.site.ID) {
		if it.Tenant == tenant {
			return it
		}
	}
	return nil
}

// The Collection tab: a camt file pays Anna's invoice by its reference, a
// payment without one waits in the unassigned list until the office assigns
// it to Ben's invoice, whose rest is due for a reminder in September (its PDF written into a folder, the reminder recorded), and
// Ben's statement shows his invoice and payment with the balance; the open
// items export as a workbook. (The owner's invoice for the vacancy is not
// collected.)
func TestCollectionTab(t *testing.T) {
	test.NewTempApp(t)
	st, site := collectStore(t)
	clock := core.FixedClock(time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC))
	c := NewCollection(st, clock, test.NewTempWindow(t, nil))
	c.setSite(site)
	if len(c.items) != 2 {
		t.Fatalf("open items: %d, want 2 (Anna, Ben; the owner's invoice is not collected)", len(c.items))
	}
	anna, ben := itemOf(c, "Anna Muster"), itemOf(c, "Ben Beispiel")
	if anna == nil || ben == nil || anna.Reference == "" {
		t.Fatalf("invoices: Anna %+v, Ben %+v", anna, ben)
	}
	row := -1
	for i, it := range c.items {
		if it.Number == anna.Number {
			row = i
		}
	}
	if got := c.itemCell(row, 1) + "|" + c.itemCell(row, 5) + "|" + c.itemCell(row, 6); got != "Anna Muster|"+chf(anna.Amount)+"|issued" {
		t.Errorf("Anna's row: %q", got)
	}

	xml := camtXML([4]string{anna.Reference, report2(anna.Amount), "Anna Muster", "E1"},
		[4]string{"", "12.50", "Unknown Payer", "E2"})
	c.importCamt("july.xml", strings.NewReader(xml))
	if !strings.Contains(c.status.Text, "2 payments booked (1 by reference, 0 by amount and debtor, 1 unassigned)") {
		t.Errorf("after the import: %q", c.status.Text)
	}
	if it := itemOf(c, "Anna Muster"); it.State != collect.Paid || it.Open != 0 {
		t.Errorf("Anna's invoice after her payment: %s, open %d", it.State, it.Open)
	}
	if len(c.items) != 1 {
		t.Errorf("open items after the import: %d, want 1", len(c.items))
	}
	if len(c.pays) != 1 || !strings.Contains(c.payText(0), "CHF 12.50") || !strings.Contains(c.payText(0), "Unknown Payer") {
		t.Fatalf("unassigned payments: %d %q", len(c.pays), c.payText(0))
	}
	// The same file again books nothing twice.
	c.importCamt("july.xml", strings.NewReader(xml))
	if !strings.Contains(c.status.Text, "0 payments booked") || !strings.Contains(c.status.Text, "2 already booked") {
		t.Errorf("importing again: %q", c.status.Text)
	}

	c.payList.Select(0)
	if c.assignBtn.Disabled() {
		t.Fatal("Assign to… is disabled with a payment selected")
	}
	test.Tap(c.assignBtn)
	sel := findSelect(c.win.Canvas().Overlays().Top())
	if sel == nil || len(sel.Options) != 1 || !strings.HasPrefix(sel.Options[0], fmt.Sprint(ben.Number)+"  Ben Beispiel") {
		t.Fatalf("Assign to… offers %v", sel)
	}
	sel.SetSelectedIndex(0)
	c.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Assign
	if len(c.pays) != 0 {
		t.Errorf("unassigned payments after assigning: %d", len(c.pays))
	}
	if it := itemOf(c, "Ben Beispiel"); it.Paid != 1250 || it.Open != ben.Amount-1250 || it.State != collect.PartlyPaid {
		t.Errorf("Ben's invoice after the assignment: paid %d, open %d, %s", it.Paid, it.Open, it.State)
	}

	// Due on 25 July; the first reminder by the default schedule is due
	// by 1 September.
	if len(c.due) != 1 || c.due[0].Item.Number != ben.Number {
		t.Fatalf("reminders due on %s: %d, want Ben's", c.today, len(c.due))
	}
	dir := t.TempDir()
	files := c.writeReminders(dir)
	if len(files) != 1 {
		t.Fatalf("reminders written: %v (%s)", files, c.status.Text)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
			t.Errorf("%s: not a PDF (%v)", f, err)
		}
	}
	if len(c.due) != 0 {
		t.Errorf("reminders still due after writing them: %d", len(c.due))
	}
	if it := itemOf(c, "Ben Beispiel"); len(it.Reminders) != 1 || !strings.Contains(c.itemCell(itemRowOf(c, it.Number), 6), "reminded 1×") {
		t.Errorf("Ben's reminders: %d, state %q", len(it.Reminders), c.itemCell(itemRowOf(c, it.Number), 6))
	}

	c.tenant.SetSelected("Ben Beispiel")
	if len(c.lines) != 2 {
		t.Fatalf("Ben's statement: %+v", c.lines)
	}
	if got := c.lineCell(0, 2) + "|" + c.lineCell(1, 3) + "|" + c.lineCell(1, 4); got != chf(ben.Amount)+"|CHF 12.50|"+chf(ben.Amount-1250) {
		t.Errorf("Ben's statement: debit|credit|balance = %q", got)
	}
	var buf bytes.Buffer
	if err := c.writeStatement(&buf); err != nil {
		t.Fatal(err)
	}
	checkXLSX(t, &buf, "Ben Beispiel")
	buf.Reset()
	if err := c.writeItems(&buf); err != nil {
		t.Fatal(err)
	}
	checkXLSX(t, &buf, "Ben Beispiel")
}

// findSelect returns the first Select in o's tree.
func findSelect(o fyne.CanvasObject) *widget.Select {
	if s, ok := o.(*widget.Select); ok {
		return s
	}
	var children []fyne.CanvasObject
	switch c := o.(type) {
	case *widget.Form:
		for _, it := range c.Items {
			children = append(children, it.Widget)
		}
	case fyne.Widget:
		children = test.WidgetRenderer(c).Objects()
	case *fyne.Container:
		children = c.Objects
	}
	for _, ch := range children {
		if s := findSelect(ch); s != nil {
			return s
		}
	}
	return nil
}

// report2 writes r as the decimal a bank file carries ("123.45").
func report2(r core.Rappen) string { return fmt.Sprintf("%d.%02d", r/100, r%100) }

func itemRowOf(c *Collection, number int) int {
	for i, it := range c.items {
		if it.Number == number {
			return i
		}
	}
	return -1
}

// checkXLSX fails unless buf is a workbook whose first sheet shows want.
func checkXLSX(t *testing.T, buf *bytes.Buffer, want string) {
	t.Helper()
	f, err := excelize.OpenReader(buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, r := range rows {
		all = append(all, strings.Join(r, "|"))
	}
	if !strings.Contains(strings.Join(all, "\n"), want) {
		t.Errorf("workbook lacks %q:\n%s", want, strings.Join(all, "\n"))
	}
}
