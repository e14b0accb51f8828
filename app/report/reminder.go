package report

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/collect"
	"github.com/zevdesk/zevdesk/core/iban"
	"github.com/zevdesk/zevdesk/core/qrbill"
)

// ReminderDoc is everything a reminder letter shows, already decided.
type ReminderDoc struct {
	// Lang is de, fr, it or en (the tenancy's language).
	Lang  string
	Level int
	Final bool
	// Date is the reminder's date; PayBy the day it asks payment by.
	Date, PayBy core.Date

	SiteName         string
	Operator         core.Operator
	Recipient        string
	RecipientAddress core.Address
	Unit             string
	TenantRef        string

	// The invoice reminded of: its number, date, due date and period.
	Number      int
	Issued, Due core.Date
	Period      core.Period
	// Amount is what the invoice asked for; Paid, Credited and Fees (the
	// earlier reminders' fees) what happened since; Fee this reminder's
	// fee; Open the amount due now, Fee included.
	Amount, Paid, Credited, Fees, Fee, Open core.Rappen

	// Payment is the new QR-bill over Open with the invoice's reference,
	// nil when the operator has no IBAN.
	Payment *qrbill.Bill
}

// reminderTexts are a reminder's texts in one language; the fmt verbs are
// filled in the order the comments give.
type reminderTexts struct {
	First, Final string
	Nth          string // level
	Intro        string // invoice number, issue date, amount, due date
	Ask          string // open amount, pay-by date
	Crossed      string
	FinalNote    string
	Amount, Paid string
	Credited     string
	Fees, Fee    string
	Open         string
	Date         string
	Message      string // QR-bill message: title, invoice number
	Regards      string
}

var reminderLang = map[string]*reminderTexts{
	"de": {
		First: "Zahlungserinnerung", Final: "Letzte Mahnung", Nth: "%d. Mahnung",
		Intro:     "Unsere Rechnung Nr. %d vom %s über CHF %s war am %s zur Zahlung fällig.",
		Ask:       "Bitte überweisen Sie den offenen Betrag von CHF %s bis zum %s mit dem beiliegenden Einzahlungsschein.",
		Crossed:   "Sollte sich Ihre Zahlung mit diesem Schreiben gekreuzt haben, betrachten Sie es bitte als gegenstandslos.",
		FinalNote: "Dies ist unsere letzte Mahnung. Ohne Zahlung bis zum genannten Datum leiten wir weitere Schritte ein.",
		Amount:    "Rechnungsbetrag", Paid: "Bereits bezahlt", Credited: "Gutschriften",
		Fees: "Frühere Mahngebühren", Fee: "Mahngebühr", Open: "Offener Betrag", Date: "Datum",
		Message: "%s, Rechnung %d", Regards: "Freundliche Grüsse",
	},
	"fr": {
		First: "Rappel de paiement", Final: "Dernier rappel", Nth: "%de rappel",
		Intro:     "Notre facture n° %d du %s d’un montant de CHF %s était payable le %s.",
		Ask:       "Nous vous prions de verser le montant ouvert de CHF %s d’ici au %s au moyen du bulletin de versement ci-joint.",
		Crossed:   "Si votre paiement a croisé ce courrier, nous vous prions de ne pas en tenir compte.",
		FinalNote: "Ceci est notre dernier rappel. Sans paiement à la date indiquée, nous engagerons d’autres démarches.",
		Amount:    "Montant de la facture", Paid: "Déjà payé", Credited: "Notes de crédit",
		Fees: "Frais de rappel antérieurs", Fee: "Frais de rappel", Open: "Montant ouvert", Date: "Date",
		Message: "%s, facture %d", Regards: "Meilleures salutations",
	},
	"it": {
		First: "Promemoria di pagamento", Final: "Ultimo sollecito", Nth: "%d° sollecito",
		Intro:     "La nostra fattura n. %d del %s di CHF %s era pagabile il %s.",
		Ask:       "Vi preghiamo di versare l’importo aperto di CHF %s entro il %s con la polizza di versamento allegata.",
		Crossed:   "Se il vostro pagamento si è incrociato con questa lettera, vogliate considerarla nulla.",
		FinalNote: "Questo è il nostro ultimo sollecito. In mancanza di pagamento entro la data indicata avvieremo ulteriori passi.",
		Amount:    "Importo della fattura", Paid: "Già pagato", Credited: "Note di credito",
		Fees: "Spese di sollecito precedenti", Fee: "Spese di sollecito", Open: "Importo aperto", Date: "Data",
		Message: "%s, fattura %d", Regards: "Cordiali saluti",
	},
	"en": {
		First: "Payment reminder", Final: "Final reminder", Nth: "Reminder %d",
		Intro:     "Our invoice no. %d of %s over CHF %s was due for payment on %s.",
		Ask:       "Please pay the open amount of CHF %s by %s with the enclosed payment slip.",
		Crossed:   "If your payment and this letter have crossed, please disregard it.",
		FinalNote: "This is our final reminder. Without payment by that date we will take further steps.",
		Amount:    "Invoice amount", Paid: "Already paid", Credited: "Credit notes",
		Fees: "Earlier reminder fees", Fee: "Reminder fee", Open: "Open amount", Date: "Date",
		Message: "%s, invoice %d", Regards: "Kind regards",
	},
}

func (t *reminderTexts) title(level int, final bool) string {
	switch {
	case final:
		return t.Final
	case level <= 1:
		return t.First
	}
	return fmt.Sprintf(t.Nth, level)
}

// FromReminder fills a reminder letter from a due reminder of site, dated
// day, with a new QR-bill over the open amount (fee included) carrying
// the invoice's own reference, so that the payment matches the invoice.
func FromReminder(site *core.Site, r collect.DueReminder, day core.Date) (*ReminderDoc, error) {
	it := r.Item
	lang := it.Language
	if _, ok := reminderLang[lang]; !ok {
		lang = "de"
	}
	doc := &ReminderDoc{Lang: lang, Level: r.Level, Final: r.Final, Date: day, PayBy: r.PayBy,
		SiteName: site.Name, Operator: site.Operator, Recipient: it.Tenant, RecipientAddress: it.Address,
		Unit: it.Unit, TenantRef: it.TenantRef,
		Number: it.Number, Issued: it.Issued, Due: it.Due, Period: it.Period,
		Amount: it.Amount, Paid: it.Paid, Credited: it.Credited, Fees: it.Fees, Fee: r.Fee, Open: r.Open}
	if doc.RecipientAddress == (core.Address{}) && !it.Owner && it.Unit != "" {
		doc.RecipientAddress = site.Address // tenants live in the building
	}
	if site.Operator.IBAN == "" || doc.Open <= 0 {
		return doc, nil
	}
	op := site.Operator
	b := &qrbill.Bill{Account: op.IBAN, Creditor: qrAddress(op.Name, op.Address), Amount: doc.Open, HasAmount: true,
		Currency: "CHF"}
	if a := doc.RecipientAddress; doc.Recipient != "" && a.Postcode != "" && a.Town != "" {
		b.Debtor = qrAddress(doc.Recipient, a)
	}
	var err error
	if iban.IsQRIBAN(op.IBAN) {
		b.RefType = qrbill.QRR
		b.Reference, err = qrbill.InvoiceQRR(site.ID, it.Number)
	} else {
		b.RefType = qrbill.SCOR
		b.Reference, err = qrbill.InvoiceSCOR(site.ID, it.Number)
	}
	if err != nil {
		return nil, err
	}
	t := reminderLang[lang]
	b.Message = qrbill.Replace(fmt.Sprintf(t.Message, t.title(r.Level, r.Final), it.Number))
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("reminder of invoice %d: payment part: %w", it.Number, err)
	}
	doc.Payment = b
	return doc, nil
}

// WriteReminderPDF renders a reminder letter as an A4 PDF: the letter with
// the account of the invoice, and the QR-bill payment part at the bottom.
func WriteReminderPDF(w io.Writer, r *ReminderDoc) error {
	// The insert's document, header and slip are shared: a reminder looks
	// like the invoice it reminds of.
	in := &Insert{Lang: r.Lang, Number: r.Number, Issued: r.Date, SiteName: r.SiteName, Operator: r.Operator,
		Recipient: r.Recipient, RecipientAddress: r.RecipientAddress, Payment: r.Payment}
	d := newPDF(in, loadFonts())
	t := reminderLang[r.Lang]
	title := t.title(r.Level, r.Final)
	d.SetTitle(fmt.Sprintf("%s %s %d", title, d.t.InvoiceNo, r.Number), true)
	d.AddPage()
	d.header()
	d.font(10, false)
	d.color(colText)
	y := 52.0
	for _, l := range addressLines(r.Recipient, r.RecipientAddress) {
		d.text(118, y, l)
		y += 4.6
	}
	type fact struct{ k, v string }
	facts := []fact{{d.t.Property, r.SiteName}}
	if r.Unit != "" {
		facts = append(facts, fact{d.t.Unit, r.Unit})
	}
	if r.TenantRef != "" {
		facts = append(facts, fact{d.t.TenantRef, r.TenantRef})
	}
	facts = append(facts, fact{d.t.InvoiceNo, fmt.Sprint(r.Number)}, fact{d.t.Period, periodText(r.Period)},
		fact{t.Date, Date(r.Date)})
	y = 52.0
	for _, f := range facts {
		d.font(7.5, false)
		d.color(colMuted)
		d.text(marginL, y, f.k)
		d.font(8.5, false)
		d.color(colText)
		y = d.para(marginL+26, y, 66, 3.7, f.v) + 0.3
	}
	y = max(y+4, 82)
	d.font(15, true)
	d.text(marginL, y, title)
	y += 10
	d.font(10, false)
	y = d.para(marginL, y, contentW, 5, fmt.Sprintf(t.Intro, r.Number, Date(r.Issued), CHF(r.Amount), Date(r.Due)))
	y += 3
	rows := [][2]string{{t.Amount, CHF(r.Amount)}}
	if r.Paid != 0 {
		rows = append(rows, [2]string{t.Paid, "−" + CHF(r.Paid)})
	}
	if r.Credited != 0 {
		rows = append(rows, [2]string{t.Credited, "−" + CHF(r.Credited)})
	}
	if r.Fees != 0 {
		rows = append(rows, [2]string{t.Fees, CHF(r.Fees)})
	}
	if r.Fee != 0 {
		rows = append(rows, [2]string{t.Fee, CHF(r.Fee)})
	}
	for _, row := range rows {
		d.text(marginL, y, row[0])
		d.right(marginL+120, y, "CHF "+row[1])
		y += 5.5
	}
	d.draw(colRule)
	d.SetLineWidth(0.2)
	d.Line(marginL, y-3.5, marginL+120, y-3.5)
	d.font(10, true)
	d.text(marginL, y+1, t.Open)
	d.right(marginL+120, y+1, "CHF "+CHF(r.Open))
	y += 10
	d.font(10, false)
	y = d.para(marginL, y, contentW, 5, fmt.Sprintf(t.Ask, CHF(r.Open), Date(r.PayBy)))
	if r.Final {
		y = d.para(marginL, y+2, contentW, 5, t.FinalNote)
	}
	y = d.para(marginL, y+2, contentW, 5, t.Crossed)
	y = d.para(marginL, y+4, contentW, 5, t.Regards)
	d.para(marginL, y, contentW, 5, strings.TrimSpace(r.Operator.Name))
	if r.Payment != nil {
		if err := d.slip(); err != nil {
			return err
		}
	}
	if err := d.Error(); err != nil {
		return fmt.Errorf("rendering the reminder: %w", err)
	}
	if err := d.Output(w); err != nil {
		return fmt.Errorf("writing the reminder: %w", err)
	}
	return nil
}

// ReminderFileName is the file a due reminder's letter is written to:
// SITE_reminder_NUMBER_LEVEL.pdf.
func ReminderFileName(site string, r collect.DueReminder) string {
	return fmt.Sprintf("%s_reminder_%d_%d.pdf", site, r.Item.Number, r.Level)
}

// WriteReminderFile renders the letter of reminder r, dated day, and writes
// it into dir under ReminderFileName (readable by all, replaced whole). It
// returns the file's path. The caller records the reminder
// (collect.RecordReminder) after this returns, so that a reminder on
// record always has its letter.
func WriteReminderFile(dir string, site *core.Site, r collect.DueReminder, day core.Date) (string, error) {
	name := filepath.Join(dir, ReminderFileName(site.ID, r))
	doc, err := FromReminder(site, r, day)
	if err != nil {
		return name, err
	}
	var buf bytes.Buffer
	if err := WriteReminderPDF(&buf, doc); err != nil {
		return name, fmt.Errorf("writing %s: %w", name, err)
	}
	return name, WriteFile(name, buf.Bytes())
}
