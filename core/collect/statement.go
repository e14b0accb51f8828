package collect

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/zevdesk/zevdesk/core"
)

// LineKind says what a statement line is.
type LineKind string

// Statement line kinds.
const (
	LineInvoice  LineKind = "invoice"
	LinePayment  LineKind = "payment"
	LineCredit   LineKind = "credit note"
	LineWriteOff LineKind = "write-off"
	LineFee      LineKind = "reminder fee"
)

// StatementLine is one booking on a tenant's account: Debit raises what
// the tenant owes, Credit lowers it; Balance is the running balance.
type StatementLine struct {
	Date    core.Date
	Kind    LineKind
	Number  int // the invoice's (for a credit note: its own)
	Invoice int // the invoice it concerns
	Text    string
	Debit   core.Rappen
	Credit  core.Rappen
	Balance core.Rappen
}

// Tenants returns the recipients of the site's invoices, in order of
// their first invoice.
func (l *Ledger) Tenants(site string) []string {
	var out []string
	for _, it := range l.Items(site) {
		if !slices.Contains(out, it.Tenant) {
			out = append(out, it.Tenant)
		}
	}
	return out
}

// Statement returns the account of a recipient of the site's invoices
// (by name, as on the invoices): invoices, payments, credit notes,
// write-offs and reminder fees in order of date, with the running balance.
func (l *Ledger) Statement(site, tenant string) []StatementLine {
	var out []StatementLine
	for _, it := range l.Items(site) {
		if it.Tenant != tenant {
			continue
		}
		n := it.Number
		out = append(out, StatementLine{Date: it.Issued, Kind: LineInvoice, Number: n, Invoice: n,
			Text: fmt.Sprintf("invoice %d, %s", n, it.Period), Debit: it.Amount})
		for _, p := range it.Payments {
			out = append(out, StatementLine{Date: p.Booked, Kind: LinePayment, Number: n, Invoice: n,
				Text: fmt.Sprintf("payment for invoice %d", n), Credit: p.Amount})
		}
		for _, c := range it.Credits {
			out = append(out, StatementLine{Date: c.Date, Kind: LineCredit, Number: c.Number, Invoice: n,
				Text: fmt.Sprintf("credit note %d for invoice %d", c.Number, n), Credit: c.Amount})
		}
		for _, r := range it.Reminders {
			if r.Fee != 0 {
				out = append(out, StatementLine{Date: r.Date, Kind: LineFee, Number: n, Invoice: n,
					Text: fmt.Sprintf("reminder %d for invoice %d", r.Level, n), Debit: r.Fee})
			}
		}
		for _, w := range l.writeOff {
			if w.Site == site && w.Invoice == n {
				out = append(out, StatementLine{Date: w.Date, Kind: LineWriteOff, Number: n, Invoice: n,
					Text: fmt.Sprintf("written off, invoice %d", n), Credit: w.Amount})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b StatementLine) int {
		return cmp.Or(a.Date.Compare(b.Date), cmp.Compare(a.Invoice, b.Invoice))
	})
	var bal core.Rappen
	for i := range out {
		bal += out[i].Debit - out[i].Credit
		out[i].Balance = bal
	}
	return out
}
