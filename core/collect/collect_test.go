package collect

import (
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/qrbill"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/mem"
)

const (
	qrIBAN    = "CH4431999123000889012" // a QR-IBAN: invoices carry QRR
	plainIBAN = "CH9300762011623852957" // an ordinary IBAN: SCOR
)

var committed = time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC) // issued 2026-04-02

func d(s string) core.Date {
	v, err := core.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

func chf(s string) core.Rappen {
	r, err := core.ParseCHF(s)
	if err != nil {
		panic(err)
	}
	return r
}

type inv struct {
	number         int
	tenant, unit   string
	total, balance string
}

// putRun stores a committed run of site with the invoices, as
// billing.Commit stores one (Record with the run's `bill --json` form),
// and sets the site's invoice counter to the highest number.
func putRun(t testing.TB, tx store.Tx, site string, p core.Period, invs []inv) {
	t.Helper()
	run := &billing.Run{Site: site, Period: p}
	numbers := map[string]int{}
	last := 0
	for _, i := range invs {
		key := "occ:" + i.unit + ":" + i.tenant + ":" + p.From.String()
		run.Invoices = append(run.Invoices, billing.Invoice{Number: i.number, Key: key, Unit: i.unit, Tenant: i.tenant,
			From: p.From, To: p.To, Total: chf(i.total), Balance: chf(i.balance), Advance: chf(i.total) - chf(i.balance)})
		numbers[key] = i.number
		last = max(last, i.number)
	}
	rj, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := json.Marshal(billing.Record{Site: site, Period: p, Committed: committed, Numbers: numbers, Run: rj})
	if err := tx.PutMeta(billing.BucketRuns, site+"/"+p.String(), rec); err != nil {
		t.Fatal(err)
	}
	if err := tx.PutMeta(billing.BucketCounter, site, []byte(strconv.Itoa(last))); err != nil {
		t.Fatal(err)
	}
}

func testSite(id, iban string) *core.Site {
	return &core.Site{ID: id, Name: "ZEV " + id, Timezone: "Europe/Zurich",
		Operator: core.Operator{Name: "Immo AG", IBAN: iban,
			Address: core.Address{Street: "Hauptgasse", Number: "1", Postcode: "3000", Town: "Bern"}},
		Occupancies: []core.Occupancy{{Unit: "W01", Name: "Anna Muster", From: d("2026-01-01"), Language: "fr",
			Address: core.Address{Street: "Birkenweg", Number: "12", Postcode: "3012", Town: "Bern"}}},
		Settings: core.Settings{CollectSelf: true}}
}

// seeded returns a store with site "birke" (QR-IBAN; invoices 1..3 of Q1
// 2026) and site "eiche" (ordinary IBAN; invoice 1).
func seeded(t testing.TB) *mem.Store {
	t.Helper()
	st := mem.New()
	q1 := core.Period{From: d("2026-01-01"), To: d("2026-03-31")}
	err := st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(testSite("birke", qrIBAN)); err != nil {
			return err
		}
		if err := tx.PutSite(testSite("eiche", plainIBAN)); err != nil {
			return err
		}
		putRun(t, tx, "birke", q1, []inv{
			{1, "Anna Muster", "W01", "250.40", "100.40"},
			{2, "Beat Beispiel", "W02", "80.05", "80.05"},
			{3, "Carla Rossi", "W03", "80.05", "80.05"},
		})
		putRun(t, tx, "eiche", q1, []inv{{1, "Dora Eiche", "E1", "55.00", "55.00"}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func ref(t testing.TB, site string, n int) string {
	t.Helper()
	var r string
	var err error
	if site == "birke" {
		r, err = qrbill.InvoiceQRR(site, n)
	} else {
		r, err = qrbill.InvoiceSCOR(site, n)
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func book(t testing.TB, st store.Store, ps ...Payment) *BookResult {
	t.Helper()
	var res *BookResult
	err := st.Update(func(tx store.Tx) error {
		var err error
		res, err = Book(tx, "test.xml", ps, "test", committed.AddDate(0, 0, 10))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func ledger(t testing.TB, st store.Store) *Ledger {
	t.Helper()
	var l *Ledger
	if err := st.View(func(tx store.Tx) error {
		var err error
		l, err = Load(tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return l
}

func checkItem(t *testing.T, l *Ledger, site string, n int, state State, paid, open string) {
	t.Helper()
	it := l.Item(site, n)
	if it == nil {
		t.Fatalf("%s invoice %d missing", site, n)
	}
	if it.State != state || it.Paid != chf(paid) || it.Open != chf(open) {
		t.Errorf("%s invoice %d: %s, paid %s, open %s; want %s, paid %s, open %s", site, n, it.State, it.Paid, it.Open,
			state, paid, open)
	}
}

func TestInvoicesFromRuns(t *testing.T) {
	st := seeded(t)
	l := ledger(t, st)
	it := l.Item("birke", 1)
	if it.Issued != d("2026-04-02") || it.Due != d("2026-05-02") {
		t.Errorf("issued %s due %s; want 2026-04-02 and 30 days later", it.Issued, it.Due)
	}
	if it.Total != chf("250.40") || it.Advance != chf("150.00") || it.Amount != chf("100.40") {
		t.Errorf("amounts %s %s %s", it.Total, it.Advance, it.Amount)
	}
	if it.Reference != ref(t, "birke", 1) || l.Item("eiche", 1).Reference != ref(t, "eiche", 1) {
		t.Errorf("references %q %q: want QRR for the QR-IBAN, SCOR otherwise", it.Reference, l.Item("eiche", 1).Reference)
	}
	if it.Language != "fr" || it.Address.Town != "Bern" {
		t.Errorf("tenancy not found: %q %+v", it.Language, it.Address)
	}
	checkItem(t, l, "birke", 2, Issued, "0.00", "80.05")

	// The site's payment term sets the due date.
	err := st.Update(func(tx store.Tx) error {
		s, _ := tx.Site("birke")
		s.Settings.PaymentTermDays = 20
		return tx.PutSite(s)
	})
	if err != nil {
		t.Fatal(err)
	}
	if due := ledger(t, st).Item("birke", 1).Due; due != d("2026-04-22") {
		t.Errorf("due with a 20-day term: %s, want 2026-04-22", due)
	}
}

func TestMatching(t *testing.T) {
	st := seeded(t)
	res := book(t, st,
		// Full payment by QRR.
		Payment{ID: "A/1", Account: qrIBAN, Amount: chf("100.40"), Currency: "CHF", Reference: ref(t, "birke", 1)},
		// Partial payment by QRR, then the rest.
		Payment{ID: "A/2", Account: qrIBAN, Amount: chf("50.00"), Currency: "CHF", Reference: ref(t, "birke", 2)},
		// Over-payment by five Rappen, for another site's invoice
		// (SCOR), paid into this site's account.
		Payment{ID: "A/3", Account: qrIBAN, Amount: chf("55.05"), Currency: "CHF", Reference: ref(t, "eiche", 1)},
		// No reference: amount and debtor.
		Payment{ID: "A/4", Account: qrIBAN, Amount: chf("80.05"), Currency: "CHF", Debtor: "ROSSI CARLA"},
		// No reference, right amount, unknown debtor.
		Payment{ID: "A/5", Account: qrIBAN, Amount: chf("80.05"), Currency: "CHF", Debtor: "Someone Else"},
		// A reference of a credit note or unknown number.
		Payment{ID: "A/6", Account: qrIBAN, Amount: chf("10.00"), Currency: "CHF", Reference: ref(t, "birke", 99)},
	)
	if res.ByReference != 3 || res.ByAmount != 1 || res.Unassigned != 2 || len(res.New) != 6 {
		t.Fatalf("result %+v", res)
	}
	l := ledger(t, st)
	checkItem(t, l, "birke", 1, Paid, "100.40", "0.00")
	checkItem(t, l, "birke", 2, PartlyPaid, "50.00", "30.05")
	checkItem(t, l, "eiche", 1, Paid, "55.05", "-0.05")
	checkItem(t, l, "birke", 3, Paid, "80.05", "0.00")
	if p := l.Payment("A/3"); p.Note == "" {
		t.Error("a payment into another site's account carries no note")
	}
	un := l.Payments(true)
	if len(un) != 2 || un[0].ID != "A/5" || un[1].ID != "A/6" || un[0].Note == "" || un[1].Note == "" {
		t.Fatalf("unassigned %+v", un)
	}
	if got := l.OpenItems("eiche"); len(got) != 1 || got[0].Open != chf("-0.05") {
		t.Errorf("an over-paid invoice is not on the open items list: %v", got)
	}

	// The rest of invoice 2, now by amount and debtor: its open amount.
	book(t, st, Payment{ID: "A/7", Account: qrIBAN, Amount: chf("30.05"), Currency: "CHF", Debtor: "Beat Beispiel"})
	checkItem(t, ledger(t, st), "birke", 2, Paid, "80.05", "0.00")

	// The same file again books nothing twice.
	res = book(t, st, Payment{ID: "A/1", Account: qrIBAN, Amount: chf("100.40"), Currency: "CHF",
		Reference: ref(t, "birke", 1)}, Payment{ID: "A/7", Amount: chf("30.05")})
	if len(res.New) != 0 || len(res.Duplicates) != 2 {
		t.Errorf("second import: %+v", res)
	}
	checkItem(t, ledger(t, st), "birke", 1, Paid, "100.40", "0.00")

	// A manual assignment of an unmatched payment.
	err := st.Update(func(tx store.Tx) error {
		_, err := Assign(tx, "A/6", "eiche", 1, chf("4.00"), "clerk", committed)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	l = ledger(t, st)
	checkItem(t, l, "eiche", 1, Paid, "59.05", "-4.05")
	if p := l.Payment("A/6"); p.Unassigned() != chf("6.00") || p.Allocations[0].By != ByHand {
		t.Errorf("after assigning: %+v", p)
	}
	err = st.Update(func(tx store.Tx) error {
		_, err := Assign(tx, "A/6", "eiche", 1, chf("6.01"), "clerk", committed)
		return err
	})
	if err == nil {
		t.Error("assigning more than the unassigned part was accepted")
	}
}

func TestAmountMatchAmbiguous(t *testing.T) {
	st := seeded(t)
	err := st.Update(func(tx store.Tx) error {
		putRun(t, tx, "birke", core.Period{From: d("2026-04-01"), To: d("2026-06-30")},
			[]inv{{4, "Beat Beispiel", "W02", "80.05", "80.05"}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	res := book(t, st, Payment{ID: "B/1", Amount: chf("80.05"), Currency: "CHF", Debtor: "Beat Beispiel"})
	if res.Unassigned != 1 {
		t.Errorf("two open invoices of the same amount and debtor: %+v", res)
	}
}

func TestCreditNoteAndWriteOff(t *testing.T) {
	st := seeded(t)
	now := committed.AddDate(0, 1, 0)
	var c *CreditNote
	err := st.Update(func(tx store.Tx) error {
		var err error
		if _, err = Cancel(tx, "birke", 2, "", "clerk", now); !errors.Is(err, ErrNoReason) {
			t.Errorf("a credit note without a reason: %v", err)
		}
		c, err = Cancel(tx, "birke", 2, "tenancy entered twice", "clerk", now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Number != 4 || c.Amount != chf("80.05") {
		t.Errorf("credit note %+v: want number 4 (the sequence continues) over 80.05", c)
	}
	// The sequence goes on after the credit note.
	err = st.Update(func(tx store.Tx) error {
		n, err := billing.NextNumber(tx, "birke")
		if n != 5 {
			t.Errorf("next number after the credit note: %d", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx store.Tx) error {
		_, err := WriteOffOpen(tx, "birke", 3, "tenant left without address", "clerk", now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	l := ledger(t, st)
	checkItem(t, l, "birke", 2, Cancelled, "0.00", "0.00")
	checkItem(t, l, "birke", 3, WrittenOff, "0.00", "0.00")
	// A payment for the cancelled invoice is a credit to refund.
	book(t, st, Payment{ID: "C/1", Amount: chf("80.05"), Currency: "CHF", Reference: ref(t, "birke", 2)})
	checkItem(t, ledger(t, st), "birke", 2, Cancelled, "80.05", "-80.05")
	// The credit note's number is no invoice.
	res := book(t, st, Payment{ID: "C/2", Amount: chf("1.00"), Currency: "CHF", Reference: ref(t, "birke", 4)})
	if res.Unassigned != 1 {
		t.Errorf("a payment naming the credit note was matched: %+v", res)
	}
	err = st.Update(func(tx store.Tx) error {
		_, err := Cancel(tx, "birke", 2, "again", "clerk", now)
		return err
	})
	if err == nil {
		t.Error("cancelling twice was accepted")
	}
	var audit []string
	_ = st.View(func(tx store.Tx) error {
		return tx.ScanAudit(0, func(e store.Entry) bool { audit = append(audit, e.Action); return true })
	})
	if len(audit) < 3 || audit[0] != ActionCredit || audit[1] != ActionWriteOff || audit[2] != ActionImport {
		t.Errorf("audit log %v", audit)
	}
}

func TestReminderSchedule(t *testing.T) {
	st := seeded(t)
	err := st.Update(func(tx store.Tx) error {
		s, _ := tx.Site("birke")
		s.Settings.ReminderFee = chf("20.00")
		return tx.PutSite(s)
	})
	if err != nil {
		t.Fatal(err)
	}
	book(t, st, Payment{ID: "R/1", Amount: chf("100.40"), Currency: "CHF", Reference: ref(t, "birke", 1)},
		Payment{ID: "R/2", Booked: d("2026-04-20"), Amount: chf("30.00"), Currency: "CHF", Reference: ref(t, "birke", 2)})
	// Due 2026-05-02: the first reminder 10 days later.
	if due := ledger(t, st).DueReminders("birke", d("2026-05-11")); len(due) != 0 {
		t.Errorf("reminders before their day: %v", due)
	}
	due := ledger(t, st).DueReminders("birke", d("2026-05-12"))
	if len(due) != 2 || due[0].Item.Number != 2 || due[0].Level != 1 || due[0].Fee != 0 || due[0].Open != chf("50.05") {
		t.Fatalf("due on 2026-05-12: %+v", due)
	}
	record := func(r DueReminder, day core.Date) {
		t.Helper()
		if err := st.Update(func(tx store.Tx) error {
			return RecordReminder(tx, r.Reminder(day), "clerk", committed)
		}); err != nil {
			t.Fatal(err)
		}
	}
	record(due[0], d("2026-05-12"))
	if err := st.Update(func(tx store.Tx) error {
		return RecordReminder(tx, due[0].Reminder(d("2026-05-13")), "clerk", committed)
	}); err == nil {
		t.Error("the same reminder level was recorded twice")
	}
	l := ledger(t, st)
	if got := l.DueReminders("birke", d("2026-05-21")); len(got) != 1 || got[0].Item.Number != 3 {
		t.Errorf("invoice 2's second reminder is due before 10 days passed: %+v", got)
	}
	got := l.DueReminders("birke", d("2026-05-22"))
	if len(got) != 2 || got[0].Level != 2 || got[0].Fee != chf("20.00") || got[0].Open != chf("70.05") || got[0].Final {
		t.Fatalf("second reminder: %+v", got)
	}
	record(got[0], d("2026-05-22"))
	checkItem(t, ledger(t, st), "birke", 2, PartlyPaid, "30.00", "70.05")
	third := ledger(t, st).DueReminders("birke", d("2026-06-01"))
	if len(third) != 2 || !third[0].Final || third[0].Open != chf("90.05") {
		t.Fatalf("final reminder: %+v", third)
	}
	record(third[0], d("2026-06-01"))
	for _, r := range ledger(t, st).DueReminders("birke", d("2027-01-01")) {
		if r.Item.Number == 2 {
			t.Errorf("a reminder after the final one: %+v", r)
		}
	}
	// The statement shows the fees and the running balance.
	lines := ledger(t, st).Statement("birke", "Beat Beispiel")
	last := lines[len(lines)-1]
	if len(lines) != 4 || last.Balance != chf("90.05") || lines[1].Kind != LinePayment {
		t.Errorf("statement %+v", lines)
	}
}

// TestAmountMatchUsesOpenAmount checks that an invoice paid in part is
// matched by what is open now, not by its original amount.
func TestAmountMatchUsesOpenAmount(t *testing.T) {
	st := seeded(t)
	// In one file: the index of open amounts changes as it is booked.
	res := book(t, st, Payment{ID: "S/1", Amount: chf("50.00"), Currency: "CHF", Reference: ref(t, "birke", 2)},
		Payment{ID: "S/2", Amount: chf("80.05"), Currency: "CHF", Debtor: "Beat Beispiel"})
	if res.Unassigned != 1 {
		t.Errorf("a payment of the invoice's original amount matched it after a part was paid: %+v", res)
	}
	res = book(t, st, Payment{ID: "S/3", Amount: chf("30.05"), Currency: "CHF", Debtor: "Beat Beispiel"})
	if res.ByAmount != 1 {
		t.Errorf("the open amount did not match: %+v", res)
	}
	checkItem(t, ledger(t, st), "birke", 2, Paid, "80.05", "0.00")
}

func TestForeignCurrencyUnassigned(t *testing.T) {
	st := seeded(t)
	res := book(t, st, Payment{ID: "F/1", Amount: chf("100.40"), Currency: "EUR", Reference: ref(t, "birke", 1)})
	if res.Unassigned != 1 || res.New[0].Note != "currency EUR: invoices are in CHF" {
		t.Errorf("a EUR payment: %+v %q", res, res.New[0].Note)
	}
	checkItem(t, ledger(t, st), "birke", 1, Issued, "0.00", "100.40")
}
