package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

// newTestBilling shows site's billing screen in a test window and waits for
// the first dry run.
func newTestBilling(t *testing.T) (*Billing, fyne.Window, store.Store, func()) {
	t.Helper()
	test.NewTempApp(t)
	st, site, clock := billingStore(t)
	w := test.NewTempWindow(t, nil)
	b := NewBilling(st, clock, w)
	w.SetContent(b.Content())
	w.Resize(fyne.NewSize(900, 600))
	hook, wait := waitDone(t)
	b.done = hook
	b.setSite(site)
	wait()
	return b, w, st, wait
}

func invoiceRows(b *Billing) [][]string {
	rows, cols := b.tableSize()
	out := make([][]string, rows)
	for r := range rows {
		for c := range cols {
			out[r] = append(out[r], cellText(b.updateCell, r, c))
		}
	}
	return out
}

func TestBillingDryRunAndFinalize(t *testing.T) {
	b, w, st, wait := newTestBilling(t)
	// Monthly billing, clock on 5 July: the last complete month is June.
	if b.name.Text != "June 2026  (01.06.2026 – 30.06.2026)" {
		t.Errorf("period %q", b.name.Text)
	}
	// 30 days of the test profile: production 1200, self-consumed 30 per
	// day = 900, fed in 300, consumption 72 per day = 2160, grid 1260.
	for name, want := range map[string]string{
		"Production": "1'200.0", "SelfConsumed": "900.0", "FedIn": "300.0", "Grid": "1'260.0",
		"Consumption": "2'160.0", "Estimated": "0.0",
	} {
		if got := b.figures[name].Text; got != want {
			t.Errorf("%s %q, want %q", name, got, want)
		}
	}
	// W01 uses two thirds of each slot's consumption: solar 20 kWh a day
	// (600), grid 28 (840): 600 × 0.20 + 840 × 0.30 = CHF 372.00. W02 a
	// third: 15 days each for the owner (vacant) and Ben Beispiel: solar
	// 150, grid 210: 30.00 + 63.00 = CHF 93.00.
	want := map[string][]string{
		"Anna Muster":  {"draft", "W01", "Anna Muster", "30", "600.0", "840.0", "372.00"},
		"Ben Beispiel": {"draft", "W02", "Ben Beispiel", "15", "150.0", "210.0", "93.00"},
		"owner":        {"draft", "W02", "Immo Muster AG (owner)", "15", "150.0", "210.0", "93.00"},
	}
	check := func(number func(tenant string) string) {
		t.Helper()
		rows := invoiceRows(b)
		if len(rows) != 3 {
			t.Fatalf("%d invoice rows: %q", len(rows), rows)
		}
		for _, row := range rows {
			var exp []string
			for _, w := range want {
				if w[2] == row[2] {
					exp = append([]string{number(row[2])}, w[1:]...)
				}
			}
			if strings.Join(row, "|") != strings.Join(exp, "|") {
				t.Errorf("row %q, want %q", row, exp)
			}
		}
	}
	check(func(string) string { return "draft" })
	if b.total.Text != "3 invoices, CHF 558.00" {
		t.Errorf("sum %q", b.total.Text)
	}
	if b.warnings.Text != billingText().NoWarnings || b.status.Text != billingText().DryRun {
		t.Errorf("warnings %q status %q", b.warnings.Text, b.status.Text)
	}
	if b.finalize.Disabled() || b.write.Disabled() || b.prev.Disabled() {
		t.Fatal("actions disabled after a dry run")
	}
	if !b.next.Disabled() {
		t.Error("Next enabled although July is not complete")
	}
	// A dry run stores nothing.
	st.View(func(tx store.Tx) error {
		if _, err := billing.StoredRun(tx, "birkenweg", b.period); err == nil {
			t.Error("the dry run stored a run")
		}
		return nil
	})

	// Finalize asks first, saying the period will be locked; cancelling
	// changes nothing.
	test.Tap(b.finalize)
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("Finalize opened no confirmation")
	}
	if !strings.Contains(test.RenderObjectToMarkup(top), "the period will be locked") {
		t.Errorf("confirmation does not say the period will be locked:\n%s", test.RenderObjectToMarkup(top))
	}
	test.Tap(findButton(top, "Cancel"))
	if w.Canvas().Overlays().Top() != nil || invoiceRows(b)[0][0] != "draft" {
		t.Fatal("cancel finalized or left the dialog open")
	}
	test.Tap(b.finalize)
	test.Tap(findButton(w.Canvas().Overlays().Top(), billingText().Finalize))
	wait()
	numbers := map[string]string{}
	for _, row := range invoiceRows(b) {
		numbers[row[2]] = row[0]
	}
	if len(numbers) != 3 || numbers["Anna Muster"] == "draft" {
		t.Fatalf("numbers after finalizing: %v", numbers)
	}
	seen := map[string]bool{}
	for _, n := range numbers {
		seen[n] = true
	}
	if !seen["1"] || !seen["2"] || !seen["3"] {
		t.Errorf("invoice numbers %v, want 1, 2 and 3", numbers)
	}
	check(func(tenant string) string { return numbers[tenant] })
	if b.status.Text != billingText().Locked || !b.finalize.Disabled() {
		t.Errorf("after finalizing: status %q, finalize disabled %v", b.status.Text, b.finalize.Disabled())
	}
	var locks []store.Lock
	st.View(func(tx store.Tx) (err error) { locks, err = tx.LocksOf("birkenweg"); return })
	if len(locks) != 1 || locks[0].Period != b.period {
		t.Errorf("locks %+v", locks)
	}

	// May has no data: billed with a warning about missing data.
	test.Tap(b.prev)
	wait()
	if b.name.Text != "May 2026  (01.05.2026 – 31.05.2026)" || !strings.Contains(b.warnings.Text, "missing data") {
		t.Errorf("May: %q warnings %q", b.name.Text, b.warnings.Text)
	}
	// Back on June the stored numbers show and the period stays locked.
	test.Tap(b.next)
	wait()
	check(func(tenant string) string { return numbers[tenant] })
	if !b.finalize.Disabled() || b.status.Text != billingText().Locked {
		t.Errorf("June again: finalize disabled %v, status %q", b.finalize.Disabled(), b.status.Text)
	}
}

func TestBillingWriteDocuments(t *testing.T) {
	b, _, _, wait := newTestBilling(t)
	parent := filepath.Join(t.TempDir(), "out")
	b.chooseFolder = func(fn func(string)) { fn(parent) }
	test.Tap(b.write)
	wait()
	// A dry run's documents go to a folder of their own, marked draft.
	dir := filepath.Join(parent, "birkenweg_2026-06-01_2026-06-30_draft")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	pdfs := 0
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".pdf") {
			pdfs++
		}
	}
	if pdfs != 3 {
		t.Errorf("%d PDF inserts for 3 invoices: %v", pdfs, ents)
	}
	if want := fmt.Sprintf("%d files written to %s", len(ents), dir); b.status.Text != want {
		t.Errorf("status %q, want %q", b.status.Text, want)
	}
}

func TestBillingPeriodKindAndInvoiceLines(t *testing.T) {
	b, w, _, wait := newTestBilling(t)
	if b.kindSel.Selected != "Month" {
		t.Errorf("period kind %q, want the site's Month", b.kindSel.Selected)
	}
	// Anna Muster's lines: 600 kWh solar at 0.20, 840 kWh grid at 0.30.
	row := -1
	for r := range b.run.Invoices {
		if cellText(b.updateCell, r, 2) == "Anna Muster" {
			row = r
		}
	}
	b.table.Select(widgetCell(row, 2))
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("selecting an invoice shows nothing")
	}
	markup := test.RenderObjectToMarkup(top)
	for _, want := range []string{"Invoice draft: Anna Muster, 01.06.2026 – 30.06.2026", "600.0 kWh × CHF 0.20",
		"CHF 120.00", "840.0 kWh × CHF 0.30", "CHF 252.00", "CHF 372.00"} {
		if !strings.Contains(markup, want) {
			t.Errorf("invoice dialog lacks %q", want)
		}
	}
	test.Tap(findButton(top, billingText().Close))

	// A quarter: the one that holds June, Q2, with April and May missing.
	// The Select redraws itself after its callback: the job waits for that.
	var pending func()
	b.spawn = func(f func()) { pending = f }
	b.kindSel.SetSelected("Quarter")
	go pending()
	wait()
	if b.name.Text != "Q2 2026  (01.04.2026 – 30.06.2026)" || !strings.Contains(b.warnings.Text, "missing data") {
		t.Errorf("quarter: %q warnings %q", b.name.Text, b.warnings.Text)
	}
	if got := b.figures["Production"].Text; got != "1'200.0" {
		t.Errorf("Q2 production %q", got)
	}
	// A year: 2026 has not ended, so the last complete one, 2025.
	b.kindSel.SetSelected("Year")
	go pending()
	wait()
	if b.name.Text != "2025  (01.01.2025 – 31.12.2025)" {
		t.Errorf("year: %q", b.name.Text)
	}
}

// A site that refuses to bill missing data: the screen says why and offers
// no action.
func TestBillingRefusesMissingData(t *testing.T) {
	test.NewTempApp(t)
	st, site, clock := billingStore(t)
	site.Settings.RefuseMissing = true
	if err := st.Update(func(tx store.Tx) error { return tx.PutSite(site) }); err != nil {
		t.Fatal(err)
	}
	w := test.NewTempWindow(t, nil)
	b := NewBilling(st, clock, w)
	w.SetContent(b.Content())
	hook, wait := waitDone(t)
	b.done = hook
	b.setSite(site)
	wait()
	if b.warnings.Text != billingText().NoWarnings || b.finalize.Disabled() {
		t.Fatalf("complete June: warnings %q, finalize disabled %v", b.warnings.Text, b.finalize.Disabled())
	}
	test.Tap(b.prev)
	wait()
	if !strings.Contains(b.warnings.Text, "refuses to bill incomplete data") {
		t.Errorf("May: warnings %q", b.warnings.Text)
	}
	if n, _ := b.tableSize(); n != 0 || !b.finalize.Disabled() || !b.write.Disabled() || b.total.Text != "" {
		t.Errorf("May: %d rows, finalize disabled %v, write disabled %v, total %q", n, b.finalize.Disabled(), b.write.Disabled(), b.total.Text)
	}
}

// May has no data at all: Finalize's question repeats the meters and their
// intervals, cancelling it finalizes and logs nothing, and confirming it is
// the office's acceptance, which the audit log keeps with the numbers.
func TestBillingFinalizeMeterWithoutValues(t *testing.T) {
	b, w, st, wait := newTestBilling(t)
	test.Tap(b.prev)
	wait()
	// 31 days of 96 intervals, no clock change in May.
	gaps := []string{
		"meter M-W01: no value in 2'976 of 2'976 intervals (1.5.–31.5.2026), unknown amount",
		"meter M-W02: no value in 2'976 of 2'976 intervals (1.5.–31.5.2026), unknown amount",
	}
	for _, g := range gaps {
		if !strings.Contains(b.warnings.Text, g) {
			t.Errorf("warnings do not name %q:\n%s", g, b.warnings.Text)
		}
	}
	if b.finalize.Disabled() {
		t.Fatal("Finalize disabled")
	}
	state := func() (locks []store.Lock, audit []store.Entry) {
		t.Helper()
		st.View(func(tx store.Tx) error {
			locks, _ = tx.LocksOf("birkenweg")
			return tx.ScanAudit(0, func(e store.Entry) bool { audit = append(audit, e); return true })
		})
		return
	}

	test.Tap(b.finalize)
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("Finalize opened no confirmation")
	}
	markup := test.RenderObjectToMarkup(top)
	for _, g := range gaps {
		if !strings.Contains(markup, g) {
			t.Errorf("the confirmation does not repeat %q:\n%s", g, markup)
		}
	}
	if findButton(top, billingText().Finalize) != nil || findButton(top, billingText().AcceptFinalize) == nil {
		t.Fatalf("the confirmation does not ask for an acceptance:\n%s", markup)
	}
	test.Tap(findButton(top, billingText().Cancel))
	if locks, audit := state(); w.Canvas().Overlays().Top() != nil || len(locks) != 0 || len(audit) != 0 {
		t.Fatalf("cancelled: dialog %v, locks %+v, audit %+v", w.Canvas().Overlays().Top(), locks, audit)
	}
	if b.locked || b.status.Text != billingText().DryRun {
		t.Errorf("cancelled: locked %v, status %q", b.locked, b.status.Text)
	}

	test.Tap(b.finalize)
	test.Tap(findButton(w.Canvas().Overlays().Top(), billingText().AcceptFinalize))
	wait()
	if !b.locked || b.status.Text != billingText().Locked {
		t.Fatalf("accepted: locked %v, status %q, warnings %q", b.locked, b.status.Text, b.warnings.Text)
	}
	locks, audit := state()
	var accepted []store.Entry
	for _, e := range audit {
		if e.Action == billing.ActionAcceptMissing {
			accepted = append(accepted, e)
		}
	}
	if len(locks) != 1 || len(accepted) != 1 || !strings.HasPrefix(accepted[0].Actor, "desktop") ||
		!strings.Contains(accepted[0].Detail, "2026-05-01..2026-05-31") ||
		!strings.Contains(accepted[0].Detail, gaps[0]+"; "+gaps[1]) {
		t.Errorf("accepted: locks %+v, audit %+v", locks, audit)
	}
}

// finalizeShown finalizes the period shown through its confirmation.
func finalizeShown(t *testing.T, b *Billing, w fyne.Window, wait func()) {
	t.Helper()
	test.Tap(b.finalize)
	test.Tap(findButton(w.Canvas().Overlays().Top(), billingText().Finalize))
	wait()
	if !b.locked {
		t.Fatalf("not finalized: %q", b.status.Text)
	}
}

// TestBillingFinalDocumentsNeverOverwritten: each write of a final run's
// documents makes a folder of its own; a second write leaves the first
// folder's files as they were.
func TestBillingFinalDocumentsNeverOverwritten(t *testing.T) {
	b, w, _, wait := newTestBilling(t)
	finalizeShown(t, b, w, wait)
	parent := t.TempDir()
	b.chooseFolder = func(fn func(string)) { fn(parent) }
	test.Tap(b.write)
	wait()
	first := filepath.Join(parent, "birkenweg_2026-06-01_2026-06-30")
	ents, err := os.ReadDir(first)
	if err != nil || len(ents) == 0 {
		t.Fatalf("first write: %v %v", ents, err)
	}
	// Mark a file as sent: a second write must not touch it.
	sent := filepath.Join(first, ents[0].Name())
	if err := os.WriteFile(sent, []byte("sent"), 0o644); err != nil {
		t.Fatal(err)
	}
	test.Tap(b.write)
	wait()
	second := first + "_2"
	if got, err := os.ReadFile(sent); err != nil || string(got) != "sent" {
		t.Errorf("the first run's %s was overwritten (%v)", ents[0].Name(), err)
	}
	again, err := os.ReadDir(second)
	if err != nil || len(again) != len(ents) {
		t.Errorf("second write into %s: %d files (%v), want %d", second, len(again), err, len(ents))
	}
	if want := fmt.Sprintf("%d files written to %s", len(ents), second); b.status.Text != want {
		t.Errorf("status %q, want %q", b.status.Text, want)
	}
}

// TestBillingUnlockWithReason: a billed period offers Unlock…, which
// needs a reason; the unlock is in the audit log with it, and the period
// can be billed again.
func TestBillingUnlockWithReason(t *testing.T) {
	b, w, st, wait := newTestBilling(t)
	if b.unlock.Visible() {
		t.Error("Unlock… shown for an unbilled period")
	}
	finalizeShown(t, b, w, wait)
	if !b.unlock.Visible() || b.unlock.Disabled() {
		t.Fatal("no Unlock… for a billed period")
	}
	test.Tap(b.unlock)
	if b.unlockForm == nil || b.reason == nil {
		t.Fatal("Unlock… opened no dialog")
	}
	if err := b.reason.Validate(); err == nil {
		t.Error("an empty reason is accepted")
	}
	b.unlockForm.Submit() // refused: no reason
	if !b.locked || b.busy != 0 {
		t.Fatal("unlocking without a reason")
	}
	test.Tap(b.unlock)
	test.Type(b.reason, "W02 read wrongly")
	b.unlockForm.Submit()
	wait() // the unlock and the period billed again
	if b.locked || b.unlock.Visible() || b.finalize.Disabled() || b.status.Text != billingText().DryRun {
		t.Errorf("after unlocking: locked %v, unlock shown %v, finalize disabled %v, status %q",
			b.locked, b.unlock.Visible(), b.finalize.Disabled(), b.status.Text)
	}
	var last store.Entry
	_ = st.View(func(tx store.Tx) error {
		return tx.ScanAudit(0, func(e store.Entry) bool { last = e; return true })
	})
	if last.Action != "period.unlock" || last.Detail != "2026-06-01..2026-06-30: W02 read wrongly" || !strings.HasPrefix(last.Actor, "desktop") {
		t.Errorf("last audit entry %+v", last)
	}
}
