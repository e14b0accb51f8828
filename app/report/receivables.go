package report

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/collect"
)

// collectWords are the receivables workbooks' words in de, fr, it, en.
var collectWords = map[string][4]string{
	"OpenItems":  {"Offene Posten", "Postes ouverts", "Partite aperte", "Open items"},
	"Statement":  {"Kontoauszug", "Relevé de compte", "Estratto conto", "Account statement"},
	"Payments":   {"Zahlungen", "Paiements", "Pagamenti", "Payments"},
	"Issued":     {"Datum", "Date", "Data", "Date"},
	"Due":        {"Fällig", "Échéance", "Scadenza", "Due"},
	"Reference":  {"Referenz", "Référence", "Riferimento", "Reference"},
	"State":      {"Status", "Statut", "Stato", "State"},
	"ToPay":      {"Zu zahlen CHF", "À payer CHF", "Da pagare CHF", "To pay CHF"},
	"Paid":       {"Bezahlt CHF", "Payé CHF", "Pagato CHF", "Paid CHF"},
	"Credited":   {"Gutgeschrieben CHF", "Crédité CHF", "Accreditato CHF", "Credited CHF"},
	"WrittenOff": {"Abgeschrieben CHF", "Amorti CHF", "Ammortizzato CHF", "Written off CHF"},
	"Fees":       {"Mahngebühren CHF", "Frais de rappel CHF", "Spese di sollecito CHF", "Reminder fees CHF"},
	"Open":       {"Offen CHF", "Ouvert CHF", "Aperto CHF", "Open CHF"},
	"Reminders":  {"Mahnstufe", "Niveau de rappel", "Livello di sollecito", "Reminder level"},
	"Booked":     {"Buchungsdatum", "Date de comptabilisation", "Data di registrazione", "Booked"},
	"Debit":      {"Soll CHF", "Débit CHF", "Dare CHF", "Debit CHF"},
	"Credit":     {"Haben CHF", "Crédit CHF", "Avere CHF", "Credit CHF"},
	"Text":       {"Text", "Texte", "Testo", "Text"},
	"Debtor":     {"Auftraggeber", "Donneur d'ordre", "Ordinante", "Debtor"},
	"Invoice2":   {"Rechnung Nr.", "Facture n°", "Fattura n.", "Invoice no."},
	"PaymentID":  {"Bankreferenz", "Référence bancaire", "Riferimento bancario", "Bank reference"},
	"Matched":    {"Zuordnung", "Attribution", "Attribuzione", "Matched by"},
	"Unassigned": {"nicht zugeordnet", "non attribué", "non attribuito", "unassigned"},
	"Sum":        {"Total", "Total", "Totale", "Total"},
	// States and statement line kinds.
	string(collect.Issued):      {"offen", "ouvert", "aperto", "issued"},
	string(collect.PartlyPaid):  {"teilweise bezahlt", "partiellement payé", "pagato in parte", "partly paid"},
	string(collect.Paid):        {"bezahlt", "payé", "pagato", "paid"},
	string(collect.WrittenOff):  {"abgeschrieben", "amorti", "ammortizzato", "written off"},
	string(collect.Cancelled):   {"storniert", "annulé", "annullato", "cancelled"},
	string(collect.LineInvoice): {"Rechnung", "Facture", "Fattura", "Invoice"},
	string(collect.LinePayment): {"Zahlung", "Paiement", "Pagamento", "Payment"},
	string(collect.LineCredit):  {"Gutschrift", "Note de crédit", "Nota di credito", "Credit note"},
	string(collect.LineWriteOff): {"Abschreibung", "Amortissement", "Ammortamento",
		"Write-off"},
	string(collect.LineFee): {"Mahngebühr", "Frais de rappel", "Spese di sollecito", "Reminder fee"},
}

func excelizeCell(style int, v any) excelize.Cell { return excelize.Cell{StyleID: style, Value: v} }

func init() {
	for k, v := range collectWords {
		if _, dup := wb[k]; dup {
			panic("report: workbook word defined twice: " + k)
		}
		wb[k] = v
	}
}

// WriteOpenItemsXLSX writes a site's open items (or any list of items) as
// a workbook in the office's language: one row per invoice with its
// number, recipient, dates, reference, state and amounts, and a total.
func WriteOpenItemsXLSX(out io.Writer, site *core.Site, items []*collect.Item, lang string) error {
	w, err := newBook(lang)
	if err != nil {
		return err
	}
	sh := w.w("OpenItems")
	if _, err := w.f.NewSheet(sh); err != nil {
		return err
	}
	if err := w.setRow(sh, 1, excelizeCell(w.title, site.Name+" – "+w.w("OpenItems"))); err != nil {
		return err
	}
	cols := []string{"Number", "Unit", "Tenant", "Issued", "Due", "Reference", "State", "Gross", "Advance", "ToPay",
		"Paid", "Credited", "WrittenOff", "Fees", "Open", "Reminders"}
	if err := w.header(sh, 3, cols...); err != nil {
		return err
	}
	var open core.Rappen
	row := 4
	for _, it := range items {
		if err := w.setRow(sh, row, it.Number, it.Unit, it.Tenant, w.dateCell(it.Issued), w.dateCell(it.Due),
			it.Reference, w.w(string(it.State)), w.chfCell(it.Total), w.chfCell(it.Advance), w.chfCell(it.Amount),
			w.chfCell(it.Paid), w.chfCell(it.Credited), w.chfCell(it.WrittenOff), w.chfCell(it.Fees),
			w.chfCell(it.Open), len(it.Reminders)); err != nil {
			return err
		}
		open += it.Open
		row++
	}
	if err := w.setRow(sh, row, excelizeCell(w.bold, w.w("Sum"))); err != nil {
		return err
	}
	if err := w.setRow(sh, row, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil,
		excelizeCell(w.boldCHF, float64(open)/100)); err != nil {
		return err
	}
	if err := w.f.SetColWidth(sh, "C", "C", 24); err != nil {
		return err
	}
	if err := w.f.SetColWidth(sh, "F", "F", 32); err != nil {
		return err
	}
	return w.save(out, site.Operator.Name)
}

// WriteStatementXLSX writes a recipient's account statement (Ledger.Statement)
// as a workbook: date, kind, number, text, debit, credit and the running
// balance.
func WriteStatementXLSX(out io.Writer, site *core.Site, tenant string, lines []collect.StatementLine, lang string) error {
	w, err := newBook(lang)
	if err != nil {
		return err
	}
	sh := w.w("Statement")
	if _, err := w.f.NewSheet(sh); err != nil {
		return err
	}
	if err := w.setRow(sh, 1, excelizeCell(w.title, fmt.Sprintf("%s – %s", w.w("Statement"), tenant))); err != nil {
		return err
	}
	if err := w.setRow(sh, 2, site.Name); err != nil {
		return err
	}
	if err := w.header(sh, 4, "Issued", "Kind", "Number", "Text", "Debit", "Credit", "Balance"); err != nil {
		return err
	}
	for i, l := range lines {
		var debit, credit any
		if l.Debit != 0 {
			debit = w.chfCell(l.Debit)
		}
		if l.Credit != 0 {
			credit = w.chfCell(l.Credit)
		}
		if err := w.setRow(sh, 5+i, w.dateCell(l.Date), w.w(string(l.Kind)), l.Number, l.Text, debit, credit,
			w.chfCell(l.Balance)); err != nil {
			return err
		}
	}
	if err := w.f.SetColWidth(sh, "D", "D", 40); err != nil {
		return err
	}
	return w.save(out, site.Operator.Name)
}
