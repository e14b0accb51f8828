package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/importer"
	"github.com/zevdesk/zevdesk/ingest/sim"
)

const cliQRIBAN = "CH4431999123000889012"

// collectDB is billDB's site collecting itself into a QR-IBAN, with a
// 20-day payment term and a reminder fee, billed for January.
func collectDB(t *testing.T) string {
	t.Helper()
	db := billDB(t)
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx store.Tx) error {
		s, err := tx.Site("birke")
		if err != nil {
			return err
		}
		s.Operator.IBAN = cliQRIBAN
		s.Operator.Address = core.Address{Street: "Hauptgasse", Number: "1", Postcode: "3000", Town: "Bern"}
		s.Address = core.Address{Street: "Birkenweg", Number: "12", Postcode: "3012", Town: "Bern"}
		s.Settings.CollectSelf = true
		s.Settings.PaymentTermDays = 20
		s.Settings.ReminderFee = 2000
		return tx.PutSite(s)
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--final"); code != 0 {
		t.Fatalf("bill: %s", errs)
	}
	return db
}

type openItemsJSON struct {
	Site  string `json:"site"`
	Items []struct {
		Number    int    `json:"number"`
		Tenant    string `json:"tenant"`
		Due       string `json:"due"`
		Reference string `json:"reference"`
		State     string `json:"state"`
		Total     string `json:"total"`
		Amount    string `json:"amount"`
		Paid      string `json:"paid"`
		Open      string `json:"open"`
		Reminders int    `json:"reminders"`
	} `json:"items"`
	Open string `json:"open"`
}

func openItems(t *testing.T, db string, all bool) openItemsJSON {
	t.Helper()
	args := []string{"open-items", "--site", "birke", "--json"}
	if all {
		args = append(args, "--all")
	}
	code, out, errs := run(t, db, args...)
	if code != 0 {
		t.Fatalf("open-items: %s", errs)
	}
	var j openItemsJSON
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return j
}

// camtFile writes a camt.054.001.08 file with one entry per payment
// (reference, amount, debtor, the bank's entry reference).
func camtFile(t *testing.T, dir, name string, pays ...[4]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-05-04T08:00:00</CreDtTm></GrpHdr>
<Ntfctn><Id>N1</Id><Acct><Id><IBAN>` + cliQRIBAN + `</IBAN></Id></Acct>
`)
	for _, p := range pays {
		rmt := ""
		if p[0] != "" {
			rmt = `<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>QRR</Prtry></CdOrPrtry></Tp><Ref>` + p[0] + `</Ref></CdtrRefInf></Strd></RmtInf>`
		}
		fmt.Fprintf(&b, `<Ntry><Amt Ccy="CHF">%s</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-02-10</Dt></BookgDt><ValDt><Dt>2026-02-10</Dt></ValDt><AcctSvcrRef>%s</AcctSvcrRef>
<NtryDtls><TxDtls><Amt Ccy="CHF">%s</Amt><CdtDbtInd>CRDT</CdtDbtInd><RltdPties><Dbtr><Pty><Nm>%s</Nm></Pty></Dbtr></RltdPties>%s</TxDtls></NtryDtls></Ntry>
`, p[1], p[3], p[1], p[2], rmt)
	}
	b.WriteString("</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n")
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCollectionCommands(t *testing.T) {
	db := collectDB(t)
	dir := t.TempDir()
	before := openItems(t, db, false)
	if len(before.Items) != 2 || before.Items[0].State != "issued" || before.Items[0].Reference == "" {
		t.Fatalf("open items after billing: %+v", before)
	}
	inv1, inv2 := before.Items[0], before.Items[1]
	amt2, err := core.ParseCHF(inv2.Amount)
	if err != nil {
		t.Fatal(err)
	}
	part := amt2 - 1005 // all but CHF 10.05
	file := camtFile(t, dir, "camt054.xml",
		[4]string{inv1.Reference, inv1.Amount, "Anna Muster", "REF-1"},
		[4]string{inv2.Reference, part.String(), "Beat Beispiel", "REF-2"},
		[4]string{"", "12.34", "Unbekannt AG", "REF-3"})
	code, out, errs := run(t, db, "import", "camt", file)
	if code != 0 {
		t.Fatalf("import camt: %s", errs)
	}
	if !strings.Contains(out, "3 payments booked: 2 by reference, 0 by amount and debtor, 1 unassigned; 0 already booked") ||
		!strings.Contains(out, "Unbekannt AG") {
		t.Errorf("import output:\n%s", out)
	}
	after := openItems(t, db, true)
	if after.Items[0].State != "paid" || after.Items[0].Open != "0.00" || after.Items[1].State != "partly paid" ||
		after.Items[1].Open != "10.05" || after.Items[1].Paid != part.String() {
		t.Errorf("after import: %+v", after.Items)
	}
	if open := openItems(t, db, false); len(open.Items) != 1 || open.Open != "10.05" {
		t.Errorf("open items: %+v", open)
	}

	// The same file again books nothing twice.
	code, out, errs = run(t, db, "import", "camt", file)
	if code != 0 || !strings.Contains(out, "0 payments booked") || !strings.Contains(out, "3 already booked") {
		t.Errorf("second import: %d %s %s", code, out, errs)
	}
	// A foreign file is refused with the element named, and nothing of
	// the good file given with it is booked.
	bad := filepath.Join(dir, "pain.xml")
	os.WriteFile(bad, []byte(`<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn/></Document>`), 0o600)
	good := camtFile(t, dir, "more.xml", [4]string{"", "1.00", "X", "REF-9"})
	code, _, errs = run(t, db, "import", "camt", good, bad)
	if code != 1 || !strings.Contains(errs, "pain.xml:1: Document: expected a camt.054 or camt.053 Document") ||
		!strings.Contains(errs, "nothing was booked") {
		t.Errorf("foreign file: %d %q", code, errs)
	}
	var pays []struct {
		ID         string `json:"id"`
		Unassigned string `json:"unassigned"`
	}
	_, out, _ = run(t, db, "payments", "--unassigned", "--json")
	if err := json.Unmarshal([]byte(out), &pays); err != nil || len(pays) != 1 || pays[0].Unassigned != "12.34" {
		t.Fatalf("unassigned payments: %v %s", err, out)
	}

	// Reminders: the first 10 days after the due date, with the open
	// amount; recorded when written, so not due again the same day.
	due, _ := core.ParseDate(after.Items[1].Due)
	day := due.AddDays(10).String()
	code, out, errs = run(t, db, "reminders", "--site", "birke", "--date", due.AddDays(9).String())
	if code != 0 || !strings.Contains(out, "0 reminders due") {
		t.Errorf("reminders a day early: %d %s %s", code, out, errs)
	}
	rdir := filepath.Join(dir, "reminders")
	code, out, errs = run(t, db, "reminders", "--site", "birke", "--date", day, "--out", rdir)
	pdf := filepath.Join(rdir, fmt.Sprintf("birke_reminder_%d_1.pdf", inv2.Number))
	if code != 0 || !strings.Contains(out, pdf) {
		t.Fatalf("reminders: %d %s %s", code, out, errs)
	}
	if b, err := os.ReadFile(pdf); err != nil || !strings.HasPrefix(string(b), "%PDF") {
		t.Errorf("reminder PDF: %v", err)
	}
	if _, out, _ = run(t, db, "reminders", "--site", "birke", "--date", day); !strings.Contains(out, "0 reminders due") {
		t.Errorf("a recorded reminder is due again:\n%s", out)
	}
	// The second reminder adds the fee.
	_, out, _ = run(t, db, "reminders", "--site", "birke", "--date", due.AddDays(20).String())
	if !strings.Contains(out, "20.00") || !strings.Contains(out, "30.05") {
		t.Errorf("second reminder:\n%s", out)
	}

	// Manual assignment of the unmatched payment pays the rest.
	code, out, errs = run(t, db, "payments", "assign", pays[0].ID, "--site", "birke", "--invoice", fmt.Sprint(inv2.Number),
		"--amount", "10.05")
	if code != 0 || !strings.Contains(out, "CHF 2.29 unassigned") {
		t.Errorf("assign: %d %s %s", code, out, errs)
	}
	if it := openItems(t, db, true).Items[1]; it.State != "paid" || it.Open != "0.00" {
		t.Errorf("after assigning: %+v", it)
	}

	// The tenant's statement ends at zero.
	var st []struct {
		Kind    string `json:"kind"`
		Balance string `json:"balance"`
	}
	xlsx := filepath.Join(dir, "statement.xlsx")
	_, out, errs = run(t, db, "statement", "--site", "birke", "--tenant", "Beat Beispiel", "--json", "--xlsx", xlsx)
	if err := json.Unmarshal([]byte(out), &st); err != nil || len(st) != 3 || st[2].Balance != "0.00" {
		t.Errorf("statement: %v %s %s", err, out, errs)
	}
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("Kontoauszug")
	f.Close()
	if len(rows) != 7 || rows[6][6] != "0.00" {
		t.Errorf("statement workbook rows %q", rows)
	}

	// The property export carries the payments of the period's invoices.
	xp := filepath.Join(dir, "jan.xlsx")
	if code, _, errs := run(t, db, "export", "property", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31",
		"--out", xp); code != 0 {
		t.Fatalf("export: %s", errs)
	}
	f, err = excelize.OpenFile(xp)
	if err != nil {
		t.Fatal(err)
	}
	prow, _ := f.GetRows("Payments")
	f.Close()
	if len(prow) != 4 || prow[0][6] != "amount_chf" {
		t.Errorf("payments sheet %q", prow)
	}
	cp := filepath.Join(dir, "jan.csv")
	if code, _, errs := run(t, db, "export", "property", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31",
		"--out", cp, "--preset", "excel-ch"); code != 0 {
		t.Fatalf("export: %s", errs)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "jan_payments.csv"))
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 4 ||
		!strings.HasPrefix(lines[0], "\ufeffZEV;Rechnung;") || !strings.Contains(lines[1], ";2026-02-10;") {
		t.Errorf("payments CSV %q", lines)
	}
}

func TestInvoiceCancelAndWriteOff(t *testing.T) {
	db := collectDB(t)
	items := openItems(t, db, false).Items
	code, out, errs := run(t, db, "invoice", "cancel", "--site", "birke", "--invoice", fmt.Sprint(items[0].Number),
		"--reason", "wrong tenant")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("credit note %d", items[1].Number+1)) {
		t.Errorf("cancel: %d %s %s", code, out, errs)
	}
	if code, out, errs = run(t, db, "invoice", "write-off", "--site", "birke", "--invoice", fmt.Sprint(items[1].Number),
		"--reason", "uncollectable"); code != 0 {
		t.Errorf("write-off: %s %s", out, errs)
	}
	all := openItems(t, db, true).Items
	if all[0].State != "cancelled" || all[1].State != "written off" || len(openItems(t, db, false).Items) != 0 {
		t.Errorf("states %+v", all)
	}
	if code, _, _ := run(t, db, "invoice", "cancel", "--site", "birke", "--invoice", "1"); code != 1 {
		t.Error("a cancel without a reason was accepted")
	}
}

// TestSiteTOMLCollectionSettings checks that a printed site file keeps
// the payment term and the reminder schedule.
func TestSiteTOMLCollectionSettings(t *testing.T) {
	s := testSiteForTOML()
	s.Settings.PaymentTermDays = 20
	s.Settings.ReminderDays = [core.MaxReminders]int{14, 7}
	s.Settings.ReminderFee = 1500
	var b strings.Builder
	if err := writeSiteTOML(&b, s); err != nil {
		t.Fatal(err)
	}
	got, err := importer.ParseSite("printed.toml", strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if got.Settings != s.Settings {
		t.Errorf("settings read back as %+v, want %+v", got.Settings, s.Settings)
	}
}

func testSiteForTOML() *core.Site {
	return sim.New(sim.Config{Seed: 1, Units: 2, PVkWp: 10}).Site("print")
}
