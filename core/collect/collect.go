// Package collect keeps an office's receivables where it collects payments
// itself: the invoices of committed billing runs with their due dates,
// payments from the bank matched to them by QR or creditor reference (else
// by amount and debtor), credit notes, write-offs, reminders, open items and
// account statements.
//
// What happened is stored, what follows from it is computed: payments,
// credit notes, write-offs and reminders are JSON documents in store.Meta
// buckets (so that any store.Tx implementation keeps them unchanged), and an
// invoice's state and open amount are derived from them by Load each time.
// A Ledger is not safe for concurrent use.
package collect

import (
	"time"

	"github.com/zevdesk/zevdesk/core"
)

// Meta buckets the package keeps in the store.
const (
	// BucketPayments holds payments from the bank: key Payment.ID (the
	// account and the bank's reference of the entry), value JSON. The key
	// makes a second import of the same entry a no-op.
	BucketPayments = "collect.payments"
	// BucketCredits holds credit notes: key "SITE/NUMBER" (the credit
	// note's own number, 8 digits), value JSON.
	BucketCredits = "collect.credits"
	// BucketWriteOffs holds write-offs: key "SITE/INVOICE" (8 digits),
	// value JSON.
	BucketWriteOffs = "collect.writeoffs"
	// BucketReminders holds issued reminders: key "SITE/INVOICE/LEVEL",
	// value JSON.
	BucketReminders = "collect.reminders"
)

// Audit log actions.
const (
	ActionImport   = "payments.import"
	ActionAssign   = "payments.assign"
	ActionCredit   = "invoice.credit"
	ActionWriteOff = "invoice.write-off"
	ActionReminder = "invoice.reminder"
)

// State is where an invoice stands.
type State string

// Invoice states.
const (
	Issued     State = "issued"      // nothing paid yet
	PartlyPaid State = "partly paid" // some paid, some open
	Paid       State = "paid"        // nothing open (or over-paid)
	WrittenOff State = "written off" // the rest was written off
	Cancelled  State = "cancelled"   // cancelled by a credit note
)

// Invoice is a final invoice as a committed billing run issued it.
type Invoice struct {
	Site   string
	Number int
	// Key is billing's invoice key ("occ:W01:Anna Muster:2026-01-01").
	Key    string
	Unit   string
	Tenant string
	Owner  bool
	Period core.Period
	// Issued is the day the run was committed (the date on the
	// invoice), Due the day the payment term ends.
	Issued, Due core.Date
	// Total is the invoice's total, Advance the advance payments it
	// deducts, Amount the balance to pay (Total - Advance; negative when
	// the advance payments exceed the total).
	Total, Advance, Amount core.Rappen
	// Reference is the payment reference its QR-bill carries (QRR for a
	// QR-IBAN, else SCOR); empty where none can be made.
	Reference string
	// Language, Address and TenantRef come from the tenancy (empty for
	// owner and EV invoices): for reminders.
	Language  string
	Address   core.Address
	TenantRef string
}

// Payment is one credit from the bank, as a camt entry (or one of its
// transactions) reports it, with what it was assigned to.
type Payment struct {
	// ID is the account's IBAN and the bank's reference of the entry
	// (AcctSvcrRef, else the entry reference), plus the transaction's
	// own reference or index in a batch: unique per booking.
	ID       string      `json:"id"`
	Account  string      `json:"account,omitempty"`
	Booked   core.Date   `json:"booked,omitzero"`
	Value    core.Date   `json:"value,omitzero"`
	Amount   core.Rappen `json:"amount"`
	Currency string      `json:"currency"`
	// Reference is the structured creditor reference (QRR or SCOR).
	Reference  string `json:"reference,omitempty"`
	Debtor     string `json:"debtor,omitempty"`
	DebtorIBAN string `json:"debtor_iban,omitempty"`
	Message    string `json:"message,omitempty"`
	// File is the name of the camt file it came from; Imported when.
	File     string    `json:"file,omitempty"`
	Imported time.Time `json:"imported"`
	// Allocations say which invoices the payment pays; their sum is at
	// most Amount. The rest is unassigned.
	Allocations []Allocation `json:"allocations,omitempty"`
	// Note says why (part of) the payment is unassigned, or what to look
	// at (a payment into another site's account).
	Note string `json:"note,omitempty"`
}

// Unassigned returns the part of the payment not assigned to an invoice.
func (p *Payment) Unassigned() core.Rappen {
	r := p.Amount
	for _, a := range p.Allocations {
		r -= a.Amount
	}
	return r
}

// Match says how a payment found its invoice.
type Match string

// Ways of matching.
const (
	ByReference Match = "reference"
	ByAmount    Match = "amount and debtor"
	ByHand      Match = "manual"
)

// Allocation is the part of a payment that pays one invoice.
type Allocation struct {
	Site   string      `json:"site"`
	Number int         `json:"number"`
	Amount core.Rappen `json:"amount"`
	By     Match       `json:"by"`
	// Actor and Time of a manual assignment.
	Actor string    `json:"actor,omitempty"`
	Time  time.Time `json:"time,omitzero"`
}

// CreditNote cancels an invoice: a document with its own number from the
// site's invoice sequence; the invoice itself is never deleted.
type CreditNote struct {
	Site    string      `json:"site"`
	Number  int         `json:"number"`
	Invoice int         `json:"invoice"`
	Amount  core.Rappen `json:"amount"`
	Date    core.Date   `json:"date"`
	Reason  string      `json:"reason"`
}

// WriteOff gives up the open amount of an invoice.
type WriteOff struct {
	Site    string      `json:"site"`
	Invoice int         `json:"invoice"`
	Amount  core.Rappen `json:"amount"`
	Date    core.Date   `json:"date"`
	Reason  string      `json:"reason"`
}

// Reminder is an issued reminder of an invoice: level 1 is the first.
type Reminder struct {
	Site    string      `json:"site"`
	Invoice int         `json:"invoice"`
	Level   int         `json:"level"`
	Date    core.Date   `json:"date"`
	Fee     core.Rappen `json:"fee,omitempty"`
	// Open is the amount the reminder asks for, its fee included.
	Open core.Rappen `json:"open"`
	// PayBy is the day the reminder asks payment by.
	PayBy core.Date `json:"pay_by"`
	Final bool      `json:"final,omitempty"`
}

// Item is an invoice with what happened to it since: the row of the open
// items list.
type Item struct {
	Invoice
	// Paid is the sum of the payments assigned, Credited of the credit
	// notes, WrittenOff of the write-offs, Fees of the reminder fees.
	Paid, Credited, WrittenOff, Fees core.Rappen
	// Open = Amount + Fees - Paid - Credited - WrittenOff: negative when
	// over-paid (a credit of the tenant).
	Open  core.Rappen
	State State
	// Reminders are the reminders issued, by level.
	Reminders []Reminder
	// Credits are the credit notes, Payments the payments assigned.
	Credits  []CreditNote
	Payments []PaymentPart
}

// PaymentPart is a payment's part assigned to one invoice.
type PaymentPart struct {
	PaymentID string
	Booked    core.Date
	Amount    core.Rappen
	By        Match
}

// update computes Open and State from the amounts.
func (it *Item) update() {
	it.Open = it.Amount + it.Fees - it.Paid - it.Credited - it.WrittenOff
	switch {
	case it.Credited != 0 && it.Credited >= it.Amount:
		it.State = Cancelled
	case it.WrittenOff != 0 && it.Open <= 0:
		it.State = WrittenOff
	case it.Open <= 0:
		it.State = Paid
	case it.Paid > 0:
		it.State = PartlyPaid
	default:
		it.State = Issued
	}
}

// Collectible reports whether the item is still to be collected: issued
// or partly paid with an open amount.
func (it *Item) Collectible() bool {
	return (it.State == Issued || it.State == PartlyPaid) && it.Open > 0
}
