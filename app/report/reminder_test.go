package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/collect"
	"github.com/zevdesk/zevdesk/core/qrbill"
)

func reminderSite() *core.Site {
	return &core.Site{ID: "birke", Name: "ZEV Birkenweg", Timezone: "Europe/Zurich",
		Address: core.Address{Street: "Birkenweg", Number: "12", Postcode: "3012", Town: "Bern"},
		Operator: core.Operator{Name: "Immo Muster AG", IBAN: "CH4431999123000889012",
			Address: core.Address{Street: "Hauptgasse", Number: "1", Postcode: "3000", Town: "Bern"}},
		Settings: core.Settings{CollectSelf: true}}
}

// dueReminder is the second reminder of invoice 17 (CHF 250.40, 100.00
// paid, a CHF 20.00 fee): CHF 170.40 open.
func dueReminder(lang string) collect.DueReminder {
	it := &collect.Item{Invoice: collect.Invoice{Site: "birke", Number: 17, Unit: "W01", Tenant: "Anna Müller-Lüthi",
		Period: core.Period{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 3, 31)},
		Issued: core.MustDate(2026, 4, 2), Due: core.MustDate(2026, 5, 2), Total: 25040, Amount: 25040,
		Language: lang}, Paid: 10000, Open: 15040}
	return collect.DueReminder{Item: it, Level: 2, Since: core.MustDate(2026, 5, 22), Fee: 2000, Open: 17040,
		PayBy: core.MustDate(2026, 6, 1)}
}

// TestReminderQRBillDecodes renders the reminder in each language, reads
// its Swiss QR Code back with ZBar and ZXing and checks that it asks for
// the open amount with the fee, under the invoice's own reference (so the
// payment matches the invoice), and that the letter is in the tenant's
// language.
func TestReminderQRBillDecodes(t *testing.T) {
	wantRef, _ := qrbill.InvoiceQRR("birke", 17)
	words := map[string]string{"de": "2. Mahnung", "fr": "2e rappel", "it": "2° sollecito", "en": "Reminder 2"}
	for _, lang := range core.Languages {
		doc, err := FromReminder(reminderSite(), dueReminder(lang), core.MustDate(2026, 5, 22))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteReminderPDF(&buf, doc); err != nil {
			t.Fatal(err)
		}
		pdf := filepath.Join(t.TempDir(), "reminder.pdf")
		if err := os.WriteFile(pdf, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		text := pdfText(t, pdf)
		for _, w := range []string{words[lang], "170.40", "250.40", "100.00", "20.00", "01.06.2026"} {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the letter lacks %q:\n%s", lang, w, text)
			}
		}
		img := rasterizeRegion(t, pdf, 1, 300, qrRegion(300))
		for _, dec := range qrDecoders {
			got, err := dec.decode(t, img)
			if err != nil {
				t.Fatalf("%s/%s: decoding the reminder's QR code: %v", lang, dec.name, err)
			}
			b, err := qrbill.Parse(string(got))
			if err != nil {
				t.Fatalf("%s/%s: %v", lang, dec.name, err)
			}
			if b.Amount != 17040 || !b.HasAmount || b.Reference != wantRef || b.RefType != qrbill.QRR ||
				b.Debtor.Name != "Anna Müller-Lüthi" {
				t.Errorf("%s/%s: QR-bill amount %s, reference %s %s, debtor %q; want 170.40 and %s", lang, dec.name,
					b.Amount, b.RefType, b.Reference, b.Debtor.Name, wantRef)
			}
		}
	}
}

func TestReminderWithoutIBAN(t *testing.T) {
	s := reminderSite()
	s.Operator.IBAN = ""
	doc, err := FromReminder(s, dueReminder("de"), core.MustDate(2026, 5, 22))
	if err != nil || doc.Payment != nil {
		t.Fatalf("%v %+v", err, doc.Payment)
	}
	var buf bytes.Buffer
	if err := WriteReminderPDF(&buf, doc); err != nil {
		t.Fatal(err)
	}
}

func TestReminderTextsComplete(t *testing.T) {
	for _, lang := range core.Languages {
		rt := reminderLang[lang]
		if rt == nil {
			t.Fatalf("no reminder texts in %s", lang)
		}
		for i, s := range []string{rt.First, rt.Final, rt.Nth, rt.Intro, rt.Ask, rt.Crossed, rt.FinalNote, rt.Amount,
			rt.Paid, rt.Credited, rt.Fees, rt.Fee, rt.Open, rt.Date, rt.Message, rt.Regards} {
			if s == "" {
				t.Errorf("%s: reminder text %d is empty", lang, i)
			}
		}
	}
	for k, v := range collectWords {
		for i, s := range v {
			if s == "" {
				t.Errorf("workbook word %s is empty in language %d", k, i)
			}
		}
	}
}

func TestOpenItemsWorkbook(t *testing.T) {
	d := dueReminder("de")
	items := []*collect.Item{d.Item}
	d.Item.Reference, _ = qrbill.InvoiceQRR("birke", 17)
	d.Item.State = collect.PartlyPaid
	var buf bytes.Buffer
	if err := WriteOpenItemsXLSX(&buf, reminderSite(), items, "fr"); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Postes ouverts", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	// Header on row 3, the invoice on row 4, the total on row 5.
	if len(rows) != 5 || rows[3][0] != "17" || rows[3][6] != "partiellement payé" || rows[3][14] != "150.4" ||
		rows[4][14] != "150.4" || rows[3][5] != d.Item.Reference {
		t.Errorf("rows %s", fmt.Sprint(rows))
	}
}
