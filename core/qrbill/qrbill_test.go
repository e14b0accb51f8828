package qrbill

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/shareddata"
)

var (
	schneider = Address{Name: "Robert Schneider AG", Street: "Rue du Lac", Number: "1268", Postcode: "2501", Town: "Biel", Country: "CH"}
	jane      = Address{Name: "Jane", Postcode: "1000", Town: "Lausanne", Country: "CH"}
	pia       = Address{Name: "Pia-Maria Rutschmann-Schnyder", Street: "Grosse Marktgasse", Number: "28", Postcode: "9400", Town: "Rorschach", Country: "CH"}
	piaK      = Address{Type: Combined, Name: "Pia-Maria Rutschmann-Schnyder", Street: "Grosse Marktgasse 28", Number: "9400 Rorschach", Country: "CH"}
)

const billInfo = "//S1/01/20170309/11/10201409/20/14000000/22/36958/30/CH106017086/40/1020/41/3010"

// referenceBills are the inputs of the reference payloads in
// ../shared/data/qrbill, as its README describes them.
var referenceBills = []struct {
	file  string
	bill  Bill
	valid bool // under IG 2.3 (combined addresses are refused)
}{
	{"manuelbl/qr_code_text_1", Bill{
		Account: "CH58 0079 1123 0008 8901 2", Creditor: schneider, Amount: 394975, HasAmount: true,
		Debtor:  Address{Name: "Pia Rutschmann", Street: "Marktgasse", Number: "28", Postcode: "9400", Town: " Rorschach", Country: "CH"},
		RefType: NON, Message: "Bill no. 3139 for gardening work and disposal of waste material",
	}, true},
	{"manuelbl/qr_code_text_2", Bill{
		Account: "CH44 3199 9123 0008 8901 2", Creditor: schneider, Amount: 194975, HasAmount: true, Debtor: pia,
		RefType: QRR, Reference: "21 00000 00003 13947 14300 09017", Message: "Order dated 18.06.2020",
		BillInfo: billInfo, AltSchemes: []string{"UV;UltraPay005;12345", "XY;XYService;54321"},
	}, true},
	{"manuelbl/qr_code_text_3", Bill{
		Account:  "CH3709000000304442225",
		Creditor: Address{Name: "Salvation Army Foundation Switzerland", Postcode: "3000", Town: "Bern", Country: "CH"},
		RefType:  NON, Message: "Donnation to the Winterfest campaign",
	}, true},
	{"manuelbl/qr_code_text_4", Bill{
		Account: "CH5800791123000889012", Creditor: schneider, Amount: 19995, HasAmount: true, Debtor: piaK,
		RefType: SCOR, Reference: "RF18 5390 0754 7034",
	}, false},
	{"manuelbl/qr_code_text_5", Bill{
		Account: "CH5800791123000889012", Creditor: schneider, Amount: 50, HasAmount: true, Debtor: piaK,
		RefType: SCOR, Reference: "RF18539007547034",
	}, false},
	{"claudep/test_minimal_data", Bill{Account: "CH 53 8000 5000 0102 83664", Creditor: jane}, true},
	{"claudep/test_additionnal_info_break", Bill{Account: "CH 53 8000 5000 0102 83664", Creditor: jane, Message: "Hello\nLine break"}, true},
	{"claudep/test_billing_information", Bill{Account: "CH 53 8000 5000 0102 83664", Creditor: jane, BillInfo: billInfo}, true},
	{"claudep/test_spec_example1", Bill{
		Account:  "CH4431999123000889012",
		Creditor: schneider, Amount: 194970, HasAmount: true, Debtor: pia,
		RefType: QRR, Reference: "210000000003139471430009017",
		Message: "Order of 15.09.2019" + billInfo,
	}, true},
}

// TestReferencePayloads reproduces the third-party reference payloads byte
// for byte from their inputs, with LF and CR LF separators.
func TestReferencePayloads(t *testing.T) {
	for _, rb := range referenceBills {
		seps := map[string]string{"_lf.txt": LF, "_crlf.txt": CRLF}
		if strings.HasPrefix(rb.file, "claudep/") {
			seps = map[string]string{".txt": CRLF}
		}
		for suffix, sep := range seps {
			t.Run(rb.file+suffix, func(t *testing.T) {
				want, err := os.ReadFile(shareddata.Path(t, "qrbill/"+rb.file+suffix))
				if err != nil {
					t.Fatal(err)
				}
				if got := rb.bill.Encode(sep); got != string(want) {
					t.Errorf("payload differs\n got: %q\nwant: %q", got, want)
				}
				err = rb.bill.Validate()
				if rb.valid && err != nil {
					t.Errorf("Validate: %v", err)
				}
				if !rb.valid && err == nil {
					t.Errorf("Validate accepted a combined (type K) address")
				}
				if rb.valid {
					p, err := rb.bill.Payload(sep)
					if err != nil || p != string(want) {
						t.Errorf("Payload = %q, %v", p, err)
					}
				}
			})
		}
	}
}

func TestQRReference(t *testing.T) {
	// The guideline's example reference.
	if err := CheckQRR("21 00000 00003 13947 14300 09017"); err != nil {
		t.Errorf("CheckQRR(example): %v", err)
	}
	got, err := QRReference("21000000000313947143000901")
	if err != nil || got != "210000000003139471430009017" {
		t.Errorf("QRReference = %q, %v; want 210000000003139471430009017", got, err)
	}
	// Invoice 42: zero-padded to 26 digits, check digit computed recursively.
	got, err = QRReference("42")
	if err != nil || len(got) != 27 || got[:26] != strings.Repeat("0", 24)+"42" {
		t.Fatalf("QRReference(42) = %q, %v", got, err)
	}
	if err := CheckQRR(got); err != nil {
		t.Errorf("CheckQRR(%s): %v", got, err)
	}
	for _, bad := range []string{
		"210000000003139471430009016",  // wrong check digit
		"21000000000313947143000901",   // 26 digits
		"2100000000031394714300090170", // 28 digits
		"21000000000313947143000901A",  // letter
		"000000000000000000000000000",  // all zeros
	} {
		if CheckQRR(bad) == nil {
			t.Errorf("CheckQRR(%q) accepted", bad)
		}
	}
	if _, err := QRReference("123456789012345678901234567"); err == nil {
		t.Error("QRReference accepted 27 digits of payload")
	}
}

func TestCreditorReference(t *testing.T) {
	// ISO 11649's own example.
	got, err := CreditorReference("539007547034")
	if err != nil || got != "RF18539007547034" {
		t.Errorf("CreditorReference = %q, %v; want RF18539007547034", got, err)
	}
	if err := CheckSCOR("RF18 5390 0754 7034"); err != nil {
		t.Errorf("CheckSCOR: %v", err)
	}
	for _, bad := range []string{"RF19539007547034", "RF18", "XX18539007547034", "RF1853900754703412345678901", "RF18539007547_34"} {
		if CheckSCOR(bad) == nil {
			t.Errorf("CheckSCOR(%q) accepted", bad)
		}
	}
	if FormatReference(SCOR, "RF18539007547034") != "RF18 5390 0754 7034" {
		t.Errorf("FormatReference(SCOR) = %q", FormatReference(SCOR, "RF18539007547034"))
	}
	if got := FormatReference(QRR, "210000000003139471430009017"); got != "21 00000 00003 13947 14300 09017" {
		t.Errorf("FormatReference(QRR) = %q", got)
	}
}

func TestFormat(t *testing.T) {
	if got := FormatIBAN("CH4431999123000889012"); got != "CH44 3199 9123 0008 8901 2" {
		t.Errorf("FormatIBAN = %q", got)
	}
	for r, want := range map[int64]string{5: "0.05", 194975: "1 949.75", 12394975: "123 949.75", 99999999999: "999 999 999.99", 100000: "1 000.00"} {
		if got := FormatAmount(core.Rappen(r)); got != want {
			t.Errorf("FormatAmount(%d) = %q, want %q", r, got, want)
		}
	}
}

// fieldErrors returns the fields named by Validate's errors.
func fieldErrors(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error does not wrap ErrInvalid: %v", err)
	}
	var fields []string
	var walk func(error)
	walk = func(e error) {
		switch u := e.(type) {
		case *FieldError:
			fields = append(fields, u.Field)
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return fields
}

func TestValidateRules(t *testing.T) {
	base := func() Bill {
		return Bill{Account: "CH5800791123000889012", Creditor: schneider, Amount: 100, HasAmount: true, Debtor: pia, RefType: NON}
	}
	long := func(n int, r rune) string { return strings.Repeat(string(r), n) }
	cases := []struct {
		name  string
		edit  func(b *Bill)
		field string // "" = valid
	}{
		{"valid", func(b *Bill) {}, ""},
		{"name 70 umlauts is fine (characters, not bytes)", func(b *Bill) { b.Creditor.Name = long(70, 'ü') }, ""},
		{"name 71", func(b *Bill) { b.Creditor.Name = long(71, 'a') }, "Cdtr.Name"},
		{"street 71", func(b *Bill) { b.Debtor.Street = long(71, 'a') }, "UltmtDbtr.StrtNmOrAdrLine1"},
		{"number 17", func(b *Bill) { b.Creditor.Number = long(17, '1') }, "Cdtr.BldgNbOrAdrLine2"},
		{"postcode 17", func(b *Bill) { b.Creditor.Postcode = long(17, '1') }, "Cdtr.PstCd"},
		{"town 35 with accents", func(b *Bill) { b.Creditor.Town = long(35, 'é') }, ""},
		{"town 36", func(b *Bill) { b.Creditor.Town = long(36, 'a') }, "Cdtr.TwnNm"},
		{"no creditor town", func(b *Bill) { b.Creditor.Town = "" }, "Cdtr.TwnNm"},
		{"no creditor name", func(b *Bill) { b.Creditor.Name = " " }, "Cdtr.Name"},
		{"bad country", func(b *Bill) { b.Creditor.Country = "CHE" }, "Cdtr.Ctry"},
		{"combined address", func(b *Bill) { b.Debtor = piaK }, "UltmtDbtr.AdrTp"},
		{"emoji", func(b *Bill) { b.Message = "Danke 🙂" }, "Ustrd"},
		{"euro sign and Romanian letters", func(b *Bill) { b.Message = "€ Ș ș Ț ț Œ ÿ" }, ""},
		{"cyrillic", func(b *Bill) { b.Debtor.Name = "Пётр" }, "UltmtDbtr.Name"},
		{"message 140", func(b *Bill) { b.Message = long(140, 'ä') }, ""},
		{"message 141", func(b *Bill) { b.Message = long(141, 'a') }, "Ustrd"},
		{"message + bill info > 140", func(b *Bill) { b.Message = long(100, 'a'); b.BillInfo = "//S1/" + long(40, '1') }, "Ustrd"},
		{"bill info without //", func(b *Bill) { b.BillInfo = "S1/10/1" }, "StrdBkgInf"},
		{"zero amount", func(b *Bill) { b.Amount = 0 }, "Amt"},
		{"negative amount", func(b *Bill) { b.Amount = -5 }, "Amt"},
		{"largest amount", func(b *Bill) { b.Amount = MaxAmount }, ""},
		{"too large amount", func(b *Bill) { b.Amount = MaxAmount + 1 }, "Amt"},
		{"open amount", func(b *Bill) { b.HasAmount = false; b.Amount = 0 }, ""},
		{"currency", func(b *Bill) { b.Currency = "USD" }, "Ccy"},
		{"euro", func(b *Bill) { b.Currency = "EUR" }, ""},
		{"bad IBAN checksum", func(b *Bill) { b.Account = "CH5800791123000889013" }, "IBAN"},
		{"foreign IBAN", func(b *Bill) { b.Account = "DE89370400440532013000" }, "IBAN"},
		{"QRR with IBAN", func(b *Bill) { b.RefType = QRR; b.Reference = "210000000003139471430009017" }, "Tp"},
		{"NON with QR-IBAN", func(b *Bill) { b.Account = "CH4431999123000889012" }, "Tp"},
		{"SCOR with QR-IBAN", func(b *Bill) {
			b.Account = "CH4431999123000889012"
			b.RefType, b.Reference = SCOR, "RF18539007547034"
		}, "Tp"},
		{"QRR with QR-IBAN", func(b *Bill) {
			b.Account = "CH4431999123000889012"
			b.RefType, b.Reference = QRR, "210000000003139471430009017"
		}, ""},
		{"QRR bad check digit", func(b *Bill) {
			b.Account = "CH4431999123000889012"
			b.RefType, b.Reference = QRR, "210000000003139471430009018"
		}, "Ref"},
		{"SCOR", func(b *Bill) { b.RefType, b.Reference = SCOR, "RF18539007547034" }, ""},
		{"SCOR bad", func(b *Bill) { b.RefType, b.Reference = SCOR, "RF17539007547034" }, "Ref"},
		{"NON with reference", func(b *Bill) { b.Reference = "123" }, "Ref"},
		{"three alternative procedures", func(b *Bill) { b.AltSchemes = []string{"a", "b", "c"} }, "AltPmt"},
		{"alternative procedure 101", func(b *Bill) { b.AltSchemes = []string{long(101, 'x')} }, "AltPmt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := base()
			c.edit(&b)
			fields := fieldErrors(t, b.Validate())
			if c.field == "" {
				if len(fields) > 0 {
					t.Fatalf("Validate: %v", b.Validate())
				}
				return
			}
			found := false
			for _, f := range fields {
				found = found || f == c.field
			}
			if !found {
				t.Errorf("want an error on %s, got %v (%v)", c.field, fields, b.Validate())
			}
		})
	}
}

func TestPayloadRejectsSeparator(t *testing.T) {
	b := referenceBills[0].bill
	if _, err := b.Payload(";"); err == nil {
		t.Error("Payload accepted separator ';'")
	}
}

// TestParseReferencePayloads reads every reference payload and writes it
// back byte for byte.
func TestParseReferencePayloads(t *testing.T) {
	for _, rb := range referenceBills {
		for _, suffix := range []string{"_lf.txt", "_crlf.txt", ".txt"} {
			path := shareddata.Path(t, "qrbill")
			data, err := os.ReadFile(path + "/" + rb.file + suffix)
			if err != nil {
				continue
			}
			sep := LF
			if strings.Contains(string(data), "\r\n") {
				sep = CRLF
			}
			b, err := Parse(string(data))
			if err != nil {
				t.Errorf("%s%s: %v", rb.file, suffix, err)
				continue
			}
			if got := b.Encode(sep); got != string(data) {
				t.Errorf("%s%s: round trip differs\n got: %q\nwant: %q", rb.file, suffix, got, data)
			}
			if b.HasAmount != rb.bill.HasAmount || b.Amount != rb.bill.Amount || b.RefType != rb.bill.RefType && rb.bill.RefType != "" {
				t.Errorf("%s%s: parsed %+v", rb.file, suffix, b)
			}
		}
	}
	for _, bad := range []string{
		"",
		"SPC\n0100\n1",
		strings.Replace(referenceBills[0].bill.Encode(LF), "EPD", "END", 1),
		strings.Replace(referenceBills[0].bill.Encode(LF), "3949.75", "3949.7", 1),
		referenceBills[1].bill.Encode(LF) + "\nmore\nand more",
	} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse accepted %q", bad)
		}
	}
}

// TestInvoiceReferencesPerSite: two sites billing into one account never
// share a reference for the same invoice number, the references are valid
// and stable, and a payment's reference leads back to site and number.
func TestInvoiceReferencesPerSite(t *testing.T) {
	sites := []string{"birkenweg", "lorraine-24", "demo"}
	seen := map[string]string{}
	for _, s := range sites {
		for _, n := range []int{1, 42, MaxInvoiceNumber} {
			qrr, err := InvoiceQRR(s, n)
			if err != nil {
				t.Fatal(err)
			}
			scor, err := InvoiceSCOR(s, n)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckQRR(qrr); err != nil || len(qrr) != 27 {
				t.Errorf("%s %d: QRR %q: %v", s, n, qrr, err)
			}
			if err := CheckSCOR(scor); err != nil || len(scor) > 25 {
				t.Errorf("%s %d: SCOR %q: %v", s, n, scor, err)
			}
			for _, ref := range []string{qrr, scor} {
				if other, dup := seen[ref]; dup {
					t.Errorf("%s %d: reference %s already used by %s", s, n, ref, other)
				}
				seen[ref] = fmt.Sprint(s, n)
				gs, gn, err := ParseInvoiceReference(FormatReference(refTypeOf(ref), ref), sites)
				if err != nil || gs != s || gn != n {
					t.Errorf("ParseInvoiceReference(%s) = %s %d %v, want %s %d", ref, gs, gn, err, s, n)
				}
			}
			// The number stays readable at the end of the reference.
			if !strings.HasSuffix(qrr[:26], fmt.Sprintf("%08d", n)) || !strings.HasSuffix(scor, fmt.Sprint(n)) {
				t.Errorf("%s %d: %s / %s do not end with the number", s, n, qrr, scor)
			}
		}
	}
	// Stable across releases: offices match payments with them.
	if got, _ := InvoiceQRR("birkenweg", 42); got != "112345883831113457000000423" {
		t.Errorf("InvoiceQRR(birkenweg, 42) = %s", got)
	}
	if got, _ := InvoiceSCOR("birkenweg", 42); got != "RF793M0F0CKHVG35D42" {
		t.Errorf("InvoiceSCOR(birkenweg, 42) = %s", got)
	}
	for _, n := range []int{0, -1, MaxInvoiceNumber + 1} {
		if _, err := InvoiceQRR("demo", n); err == nil {
			t.Errorf("InvoiceQRR(demo, %d) accepted", n)
		}
		if _, err := InvoiceSCOR("demo", n); err == nil {
			t.Errorf("InvoiceSCOR(demo, %d) accepted", n)
		}
	}
	if _, _, err := ParseInvoiceReference(mustQRR(t, "other", 5), sites); err == nil {
		t.Error("a reference of another site was matched")
	}
}

func refTypeOf(ref string) RefType {
	if strings.HasPrefix(ref, "RF") {
		return SCOR
	}
	return QRR
}

func mustQRR(t *testing.T, site string, n int) string {
	t.Helper()
	r, err := InvoiceQRR(site, n)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
