package report

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/qrbill"
)

func TestSwissFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{CHF(123450), "1'234.50"},
		{CHF(-5), "-0.05"},
		{CHF(99999999999), "999'999'999.99"},
		{CHF(0), "0.00"},
		{KWh(1234567890, 1), "1'234.6"},
		{KWh(-1_050_000, 1), "-1.1"},
		{KWh(999_499, 0), "1"},
		{PriceKWh(200_000), "0.20"},
		{PriceKWh(217_500), "0.2175"},
		{PriceKWh(217_549), "0.2175"},
		{Date(core.MustDate(2026, 3, 31)), "31.03.2026"},
		{Percent(1, 3), "33.3"},
		{Percent(5, 0), "0.0"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestPaymentPartQRR(t *testing.T) {
	in := sampleInsert("de")
	b := in.Payment
	if b == nil {
		t.Fatal("no payment part although the office collects itself")
	}
	want, _ := qrbill.InvoiceQRR("birkenweg", 42)
	if b.RefType != qrbill.QRR || b.Reference != want {
		t.Errorf("reference %s %s, want QRR %s", b.RefType, b.Reference, want)
	}
	if !b.HasAmount || b.Amount != in.Balance || b.Currency != "CHF" {
		t.Errorf("amount %v %v, want the balance %v", b.Amount, b.Currency, in.Balance)
	}
	if b.Debtor.Name != "Anna Müller-Lüthi" || b.Debtor.Street != "Birkenweg" || b.Debtor.Number != "12" || b.Debtor.Postcode != "3012" ||
		b.Debtor.Type != "" && b.Debtor.Type != qrbill.Structured {
		t.Errorf("debtor %+v: want the tenant at the building's structured address", b.Debtor)
	}
	if b.Creditor.Name != "Immo Muster AG" || b.Creditor.Town != "Bern" {
		t.Errorf("creditor %+v", b.Creditor)
	}
	if want := "//S1/10/42/11/260407/20/1001.01/30/123456789/31/260101260331/32/8.1/40/0:30"; b.BillInfo != want {
		t.Errorf("bill information %q, want %q", b.BillInfo, want)
	}
	if err := b.Validate(); err != nil {
		t.Error(err)
	}
}

func TestPaymentPartSCORAndNone(t *testing.T) {
	site := sampleSite()
	site.Operator.IBAN = "CH93 0076 2011 6238 5295 7"
	inv := sampleInvoice(site, "en")
	run := sampleRun(site, inv)
	in, err := FromInvoice(site, run, &inv, core.MustDate(2026, 4, 7), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := qrbill.InvoiceSCOR("birkenweg", 42); in.Payment == nil || in.Payment.RefType != qrbill.SCOR || in.Payment.Reference != want {
		t.Fatalf("payment %+v: want SCOR %s for an ordinary IBAN", in.Payment, want)
	}
	if err := qrbill.CheckSCOR(in.Payment.Reference); err != nil {
		t.Error(err)
	}
	cases := map[string]func(s *core.Site, inv *billing.Invoice){
		"not collecting":   func(s *core.Site, inv *billing.Invoice) { s.Settings.CollectSelf = false },
		"draft":            func(s *core.Site, inv *billing.Invoice) { inv.Number = 0 },
		"credit":           func(s *core.Site, inv *billing.Invoice) { inv.Balance = -500 },
		"nothing to pay":   func(s *core.Site, inv *billing.Invoice) { inv.Balance = 0 },
		"owner, no debtor": func(s *core.Site, inv *billing.Invoice) {},
		"operator owns the building": func(s *core.Site, inv *billing.Invoice) {
			inv.Owner, inv.Tenant, inv.Occupancy = true, s.Operator.Name, core.Occupancy{}
		},
	}
	for name, edit := range cases {
		s := sampleSite()
		inv := sampleInvoice(s, "fr")
		edit(s, &inv)
		if name == "owner, no debtor" {
			s.Owner = "Erbengemeinschaft Muster"
			inv.Owner, inv.Unit, inv.Tenant, inv.Occupancy = true, "", s.Owner, core.Occupancy{}
			in, err := FromInvoice(s, sampleRun(s, inv), &inv, core.MustDate(2026, 4, 7), nil)
			if err != nil {
				t.Fatal(err)
			}
			if in.Payment == nil || !in.Payment.Debtor.IsZero() || in.Lang != "de" {
				t.Errorf("%s: payment %+v, lang %s: want a blank debtor field, German", name, in.Payment, in.Lang)
			}
			// With the owner's address the payer box names the owner.
			s.OwnerAddress = core.Address{Street: "Seestrasse", Number: "1", Postcode: "6000", Town: "Luzern", Country: "CH"}
			in, err = FromInvoice(s, sampleRun(s, inv), &inv, core.MustDate(2026, 4, 7), nil)
			if err != nil {
				t.Fatal(err)
			}
			if in.Recipient != s.Owner || in.RecipientAddress != s.OwnerAddress || in.Payment == nil ||
				in.Payment.Debtor.Name != s.Owner || in.Payment.Debtor.Town != "Luzern" {
				t.Errorf("%s with an address: recipient %q %+v, payment %+v", name, in.Recipient, in.RecipientAddress, in.Payment)
			}
			continue
		}
		in, err := FromInvoice(s, sampleRun(s, inv), &inv, core.MustDate(2026, 4, 7), nil)
		if err != nil {
			t.Fatal(err)
		}
		if in.Payment != nil {
			t.Errorf("%s: payment part printed", name)
		}
	}
	// A creditor address the QR-bill refuses is an error naming the invoice.
	s := sampleSite()
	s.Operator.Postcode = ""
	inv = sampleInvoice(s, "de")
	if _, err := FromInvoice(s, sampleRun(s, inv), &inv, core.MustDate(2026, 4, 7), nil); err == nil ||
		!strings.Contains(err.Error(), "invoice 42") || !strings.Contains(err.Error(), "Cdtr.PstCd") {
		t.Errorf("missing creditor postcode: %v", err)
	}
}

func TestRowsTranslated(t *testing.T) {
	in := sampleInsert("it")
	labels := map[string]Row{}
	for _, r := range in.Rows {
		labels[r.Label] = r
	}
	for label, want := range map[string]Row{
		"Energia solare": {Quantity: "220.100 kWh", Rate: "0.20", Amount: 4402},
		"Quota elettricità parti comuni – energia di rete BT": {Quantity: "6.900 kWh", Rate: "0.22", Amount: 152},
		"Tassa di base":                     {Quantity: "90 giorni", Rate: "5.00/mese", Amount: 1500},
		"IVA 8.1\u00a0% su CHF\u00a0200.44": {Amount: 1624, Style: RowTax},
		"Dedotti gli acconti versati":       {Quantity: "90 giorni", Rate: "40.00/mese", Amount: -12000, Style: RowTax},
		"Saldo a nostro favore":             {Amount: 9668, Style: RowBalance},
	} {
		got, ok := labels[label]
		if !ok {
			t.Errorf("no row %q in %v", label, in.Rows)
			continue
		}
		want.Label = label
		if got != want {
			t.Errorf("row %+v, want %+v", got, want)
		}
	}
}

// TestLongInvoiceMovesSlip: when the charges leave no room, the payment
// part gets a page of its own instead of overlapping them.
func TestLongInvoiceMovesSlip(t *testing.T) {
	in := sampleInsert("de")
	extra := in.Rows[0]
	for range 20 {
		in.Rows = append([]Row{extra}, in.Rows...)
	}
	text := pdfText(t, renderPDF(t, in))
	pages := strings.Split(text, "\f")
	if len(pages) < 3 {
		t.Fatalf("%d pages, want at least 3", len(pages))
	}
	// Every charge is printed, across pages.
	if n := strings.Count(text, "220.100 kWh"); n != 21 {
		t.Errorf("%d solar rows printed, want 21", n)
	}
	last := pages[len(pages)-1]
	if len(pages) > 1 && last == "" {
		last = pages[len(pages)-2]
	}
	if strings.Contains(pages[0], "Empfangsschein") || !strings.Contains(last, "Empfangsschein") {
		t.Error("the payment part should be on the last page, alone")
	}
}

// TestExtendedCharacters: names with letters outside Latin-1 render.
func TestExtendedCharacters(t *testing.T) {
	if FontName() != "Liberation Sans" {
		t.Skip("needs Liberation Sans (Debian: fonts-liberation2)")
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not installed")
	}
	site := sampleSite()
	inv := sampleInvoice(site, "fr")
	inv.Tenant = "Ștefan Łukasz Őrs Čapek"
	inv.Occupancy.Name = inv.Tenant
	in, err := FromInvoice(site, sampleRun(site, inv), &inv, core.MustDate(2026, 4, 7), nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WritePDF(&buf, in); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, renderPDF(t, in))
	if strings.Count(text, "Ștefan Łukasz Őrs Čapek") < 3 { // address, receipt, payment part
		t.Errorf("the name is not rendered in full:\n%s", text)
	}
}

// TestGoFontFallback: without Liberation Sans or Arial the insert is set in
// the embedded Go font, and every character still comes out.
func TestGoFontFallback(t *testing.T) {
	fs := findFonts([]string{t.TempDir()}, [][2]string{{"/nonexistent/a.ttf", "/nonexistent/b.ttf"}})
	if fs.name != "Go" {
		t.Fatalf("found %q in an empty directory", fs.name)
	}
	if lib := findFonts(FontDirs, nil); lib.name != "Liberation Sans" {
		t.Logf("Liberation Sans not installed here (%s)", lib.name)
	}
	site := sampleSite()
	inv := sampleInvoice(site, "de")
	inv.Tenant = "Ștefan Łukasz Őrs Čapek"
	in, err := FromInvoice(site, sampleRun(site, inv), &inv, core.MustDate(2026, 4, 7), sampleBars())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writePDF(&buf, in, fs); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not installed")
	}
	cmd := exec.Command("pdftotext", "-", "-")
	cmd.Stdin = &buf
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Ștefan Łukasz Őrs Čapek", "Zahlteil", "Stromabrechnung", "Zählerstände"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("%q missing in the Go-font insert", want)
		}
	}
}

// TestRowLabelsFromFields: a line's label comes from its Kind, Class and
// Varying and the tariff it names, whatever billing's English label says;
// the tariff version and the VAT rate are named where an invoice has two.
func TestRowLabelsFromFields(t *testing.T) {
	site := sampleSite()
	single := site.Tariffs[0]
	single.From, single.HT, single.Grid, single.VAT = core.MustDate(2026, 2, 1), nil, 280_000, bp(810)
	site.Tariffs = append(site.Tariffs, single)
	inv := &billing.Invoice{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 3, 31)}
	jan, feb := core.MustDate(2026, 1, 1), core.MustDate(2026, 2, 1)
	for _, tc := range []struct {
		lines []billing.Line // the line under test first
		want  string
	}{
		{[]billing.Line{{Kind: billing.KindHeatPump, Class: billing.KindGridNT, Label: "x", Tariff: jan}}, "Anteil Wärmepumpe – Netzstrom NT"},
		{[]billing.Line{{Kind: billing.KindEV, Class: billing.KindSolar, Label: "grid energy NT", Tariff: jan}}, "Elektromobilität (Ladestation) – Solarstrom"},
		// The grid line of a single-rate tariff is just grid energy.
		{[]billing.Line{{Kind: billing.KindGridHT, Class: billing.KindGridHT, Label: "Grid energy HT", Tariff: feb}}, "Netzstrom"},
		{[]billing.Line{{Kind: billing.KindCommon, Class: billing.KindGridHT, Tariff: feb}}, "Anteil Allgemeinstrom – Netzstrom"},
		{[]billing.Line{{Kind: billing.KindGridHT, Class: billing.KindGridHT, Varying: "dynamic", Tariff: jan}}, "Netzstrom Hochtarif (HT) (dynamischer Preis)"},
		{[]billing.Line{{Kind: billing.KindGridNT, Class: billing.KindGridNT, Varying: "utility", Tariff: jan}}, "Netzstrom Niedertarif (NT) (zu Selbstkosten)"},
		// Two tariff versions on one invoice: each line names its own.
		{[]billing.Line{{Kind: billing.KindSolar, Class: billing.KindSolar, Tariff: feb, Rate: 810},
			{Kind: billing.KindSolar, Class: billing.KindSolar, Tariff: jan, Rate: 810}}, "Solarstrom (Tarif ab 01.02.2026)"},
		// Two VAT rates: each line names its rate.
		{[]billing.Line{{Kind: billing.KindBaseFee, Days: 10, Fee: 500, Tariff: jan, Rate: 770},
			{Kind: billing.KindBaseFee, Days: 10, Fee: 500, Tariff: jan, Rate: 810}}, "Grundgebühr (MWST 7.7\u00a0%)"},
	} {
		inv.Lines = tc.lines
		if got := row(&de, tc.lines[0], contextOf(site, inv)).Label; got != tc.want {
			t.Errorf("%+v: label %q, want %q", tc.lines[0], got, tc.want)
		}
	}
}

// TestQuarterSlipOnPageOne: a typical quarter (own solar, HT, NT, shares of
// general electricity and heat pump, two fees, advance payments) with a
// property line that wraps keeps the payment part at the foot of page 1.
func TestQuarterSlipOnPageOne(t *testing.T) {
	in := sampleInsert("fr")
	in.SiteName = "ZEV Lorrainestrasse 24 (Demo)"
	in.SiteAddress.Street = "Lorrainestrasse"
	var hp []Row
	for _, r := range in.Rows {
		if strings.HasPrefix(r.Label, fr.LineCommon) {
			r.Label = strings.Replace(r.Label, fr.LineCommon, fr.LineHeatPump, 1)
			hp = append(hp, r)
		}
	}
	if len(hp) != 3 {
		t.Fatalf("%d common rows in the sample", len(hp))
	}
	at := 6 // after the common rows
	in.Rows = append(in.Rows[:at], append(hp, in.Rows[at:]...)...)
	if len(in.Rows) != 16 {
		t.Fatalf("%d rows, want a quarter's 16", len(in.Rows))
	}
	pages := strings.Split(pdfText(t, renderPDF(t, in)), "\f")
	if !strings.Contains(pages[0], fr.QR.Receipt) || !strings.Contains(pages[0], fr.LineBalanceDue) {
		t.Errorf("page 1 should hold the charges and the payment part:\n%s", pages[0])
	}
}

// TestArt16CostBased: a solar price above 80 % of the standard product
// (the effective-cost method) is not printed against the 80 % limit.
func TestArt16CostBased(t *testing.T) {
	site := sampleSite()
	site.Tariffs[0].Solar = 260_000 // 0.2811 incl. VAT > 80 % of 0.31
	inv := sampleInvoice(site, "de")
	in, err := FromInvoice(site, sampleRun(site, inv), &inv, core.MustDate(2026, 4, 7), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !in.CostBased {
		t.Fatalf("solar %s, flat max %s: not marked cost-based", in.SolarPrice, in.FlatMax)
	}
	text := strings.Join(strings.Fields(pdfText(t, renderPDF(t, in))), " ")
	if strings.Contains(text, "80 %") || !strings.Contains(text, "effektiven Kosten") || !strings.Contains(text, "CHF 0.2811/kWh") {
		t.Errorf("Art. 16 text for a cost-based price:\n%s", text[strings.Index(text, de.Art16Title):])
	}
	if sampleInsert("de").CostBased {
		t.Error("the sample's 0.2162 (70 %) is marked cost-based")
	}
}

// A property whose name and address do not fit on one line of the facts
// wraps at a comma: the demo's "Lorrainestrasse 24" was broken after the
// street name.
func TestPropertyWrapsAtComma(t *testing.T) {
	in := sampleInsert("de")
	in.SiteName = "ZEV Lorrainestrasse 24 (Demo)"
	in.SiteAddress = core.Address{Street: "Lorrainestrasse", Number: "24", Postcode: "3013", Town: "Bern", Country: "CH"}
	text := pdfText(t, renderPDF(t, in))
	if !strings.Contains(text, "ZEV Lorrainestrasse 24 (Demo),") || !strings.Contains(text, "Lorrainestrasse 24, 3013 Bern") {
		t.Errorf("the property's address is broken inside a line:\n%s", text[:min(len(text), 1200)])
	}
}

// A tenant checks an insert with a pocket calculator: each energy line's
// printed quantity × rate gives its amount, and the own meter's lines add up
// to the consumption on page 2 (the demo's W01, Q3 2026; to 0.1 kWh two of
// the three lines did not reproduce and they summed to 353.5, not 353.582).
func TestChargeLinesReproduce(t *testing.T) {
	lines := []billing.Line{
		{Kind: billing.KindSolar, Class: billing.KindSolar, Energy: 163_509_000, Price: 200_000, Amount: 3270},
		{Kind: billing.KindGridHT, Class: billing.KindGridHT, Energy: 37_933_000, Price: 300_000, Amount: 1138},
		{Kind: billing.KindGridNT, Class: billing.KindGridNT, Energy: 152_140_000, Price: 220_000, Amount: 3347},
	}
	var sum core.Energy
	for _, l := range lines {
		r := row(textsFor("de"), l, lineContext{})
		q, ok := strings.CutSuffix(r.Quantity, " kWh")
		e, err := core.ParseKWh(strings.ReplaceAll(q, "'", ""))
		if !ok || err != nil {
			t.Fatalf("quantity %q: %v", r.Quantity, err)
		}
		p, err := core.ParsePrice(r.Rate)
		if err != nil {
			t.Fatalf("rate %q: %v", r.Rate, err)
		}
		if got := core.Cost(e, p).Rappen(); got != r.Amount {
			t.Errorf("%s: %s × %s = CHF %s, printed CHF %s", r.Label, r.Quantity, r.Rate, CHF(got), CHF(r.Amount))
		}
		sum += e
	}
	if got := KWh(sum, 3); got != KWh(lines[0].Energy+lines[1].Energy+lines[2].Energy, 3) || got != "353.582" {
		t.Errorf("the printed quantities add up to %s kWh, the meter's consumption is 353.582 kWh", got)
	}
}
