package report

import (
	"cmp"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/collect"
)

// PaymentRow is one payment (or the part of one) assigned to an invoice,
// for the property-management export.
type PaymentRow struct {
	Site      string
	Invoice   int
	Unit      string
	TenantRef string
	Tenant    string
	Booked    core.Date
	Amount    core.Rappen
	By        collect.Match
	// BankRef is the payment's id: the account and the bank's reference.
	BankRef string
}

// PaymentFields are the payment rows' fields (docs/export.md).
var PaymentFields = []string{"site", "invoice", "unit", "tenant_ref", "tenant", "booked", "amount_chf", "matched_by", "bank_ref"}

// paymentHeaders are the headings by preset; presets without an entry use
// the field names.
var paymentHeaders = map[string][]string{
	"excel-ch": {"ZEV", "Rechnung", "Objekt", "Mieter-Nr.", "Mieter", "Buchungsdatum", "Betrag CHF", "Zuordnung", "Bankreferenz"},
}

// PaymentRows returns the payments assigned to the site's invoices of
// period p (those whose days lie in p: the invoices the export's other
// rows list), whenever they were booked, by booking day and invoice
// number.
func PaymentRows(l *collect.Ledger, site string, p core.Period) []PaymentRow {
	var out []PaymentRow
	for _, it := range l.Items(site) {
		if !p.Contains(it.Period.From) || !p.Contains(it.Period.To) {
			continue
		}
		for _, pp := range it.Payments {
			out = append(out, PaymentRow{Site: site, Invoice: it.Number, Unit: it.Unit, TenantRef: it.TenantRef,
				Tenant: it.Tenant, Booked: pp.Booked, Amount: pp.Amount, By: pp.By, BankRef: pp.PaymentID})
		}
	}
	slices.SortStableFunc(out, func(a, b PaymentRow) int {
		return cmp.Or(a.Booked.Compare(b.Booked), cmp.Compare(a.Invoice, b.Invoice))
	})
	return out
}

func (r *PaymentRow) field(name string, decComma bool) string {
	switch name {
	case "site":
		return r.Site
	case "invoice":
		return strconv.Itoa(r.Invoice)
	case "unit":
		return r.Unit
	case "tenant_ref":
		return r.TenantRef
	case "tenant":
		return r.Tenant
	case "booked":
		return r.Booked.String()
	case "amount_chf":
		if decComma {
			return strings.Replace(r.Amount.String(), ".", ",", 1)
		}
		return r.Amount.String()
	case "matched_by":
		return string(r.By)
	case "bank_ref":
		return r.BankRef
	}
	return ""
}

func paymentHeadersOf(p Preset) []string {
	if h, ok := paymentHeaders[p.Name]; ok {
		return h
	}
	return PaymentFields
}

// WritePaymentsCSV writes payment rows as CSV with preset p's separator,
// byte order mark and decimal comma; text cells that a spreadsheet would
// read as a formula are neutralised as in WriteExportCSV.
func WritePaymentsCSV(w io.Writer, rows []PaymentRow, p Preset) error {
	if p.BOM {
		if _, err := io.WriteString(w, "\ufeff"); err != nil {
			return err
		}
	}
	cw := csv.NewWriter(w)
	if p.Comma != 0 {
		cw.Comma = p.Comma
	}
	if err := cw.Write(paymentHeadersOf(p)); err != nil {
		return err
	}
	rec := make([]string, len(PaymentFields))
	for i := range rows {
		for j, c := range PaymentFields {
			rec[j] = rows[i].field(c, p.DecimalComma)
			if c != "invoice" && c != "amount_chf" {
				rec[j] = neutralise(rec[j])
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteExportXLSXWithPayments writes the export workbook of
// WriteExportXLSX with a second sheet of the period's payments.
func WriteExportXLSXWithPayments(out io.Writer, rows []ExportRow, pays []PaymentRow, p Preset, author string) error {
	w, err := exportBook(rows, p)
	if err != nil {
		return err
	}
	defer w.f.Close()
	sh := "Payments"
	if p.Name == "excel-ch" {
		sh = "Zahlungen"
	}
	if _, err := w.f.NewSheet(sh); err != nil {
		return err
	}
	hs := paymentHeadersOf(p)
	for j, h := range hs {
		if err := w.f.SetCellValue(sh, cellName(j+1, 1), h); err != nil {
			return err
		}
	}
	if err := w.f.SetCellStyle(sh, "A1", cellName(len(hs), 1), w.head); err != nil {
		return err
	}
	for i := range pays {
		r := &pays[i]
		vals := make([]any, len(PaymentFields))
		for j, c := range PaymentFields {
			switch c {
			case "invoice":
				vals[j] = r.Invoice
			case "booked":
				vals[j] = w.dateCell(r.Booked)
			case "amount_chf":
				vals[j] = w.chfCell(r.Amount)
			default:
				vals[j] = r.field(c, false)
			}
		}
		if err := w.setRow(sh, i+2, vals...); err != nil {
			return err
		}
	}
	if err := w.f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := w.f.SetColWidth(sh, "A", colName(len(hs)), 13); err != nil {
		return err
	}
	return w.save(out, author)
}
