package collect

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/qrbill"
	"github.com/zevdesk/zevdesk/core/store"
)

// Match assigns payment p to an invoice and updates the ledger: by its QR
// or creditor reference where it names one of the office's invoices (the
// whole amount, whether it pays part, all or more than the open amount: the
// payer meant that invoice, and an over-payment stays as the tenant's
// credit on it), else to the one collectible invoice whose open amount is
// exactly p's amount and whose tenant is the debtor. Anything else stays
// unassigned with a note saying why. It returns how p was matched ("" for
// unassigned).
func (l *Ledger) Match(p *Payment) Match {
	if p.Currency != "" && p.Currency != "CHF" {
		p.Note = "currency " + p.Currency + ": invoices are in CHF"
		return ""
	}
	if p.Amount <= 0 {
		p.Note = "no amount"
		return ""
	}
	if p.Reference != "" {
		site, number, err := qrbill.ParseInvoiceReference(p.Reference, l.sites)
		switch {
		case err != nil:
			// Not one of ours (or mistyped): try amount and debtor.
			p.Note = "reference " + p.Reference + " is not an invoice of these sites"
		case l.items[ikey{site, number}] == nil:
			if _, ok := l.credits[ikey{site, number}]; ok {
				p.Note = fmt.Sprintf("reference names credit note %d of site %s", number, site)
			} else {
				p.Note = fmt.Sprintf("reference names invoice %d of site %s, which is not a final invoice", number, site)
			}
			return ""
		default:
			it := l.items[ikey{site, number}]
			l.allocate(p, it, p.Amount, ByReference)
			p.Note = ""
			if acct := l.site[site].Operator.IBAN; p.Account != "" && acct != "" && compactIBAN(acct) != compactIBAN(p.Account) {
				p.Note = fmt.Sprintf("paid into account %s, not site %s's account %s", p.Account, site, acct)
			}
			return ByReference
		}
	}
	var found []*Item
	debtor := nameWords(p.Debtor)
	for _, it := range l.byAmount[p.Amount] {
		if it.Open != p.Amount || !it.Collectible() || !l.accountOf(it, p) || !sameName(debtor, it.Tenant) ||
			slices.Contains(found, it) {
			continue
		}
		found = append(found, it)
	}
	switch {
	case len(found) == 1:
		l.allocate(p, found[0], p.Amount, ByAmount)
		p.Note = ""
		return ByAmount
	case len(found) > 1:
		p.Note = fmt.Sprintf("%d open invoices of %s over CHF %s", len(found), p.Debtor, p.Amount)
	case p.Note == "":
		p.Note = "no reference, and no open invoice of that amount and debtor"
	default:
		p.Note += "; no open invoice of that amount and debtor"
	}
	return ""
}

// accountOf reports whether p went into the account of it's site, or p's
// account is unknown or none of the sites'.
func (l *Ledger) accountOf(it *Item, p *Payment) bool {
	if p.Account == "" {
		return true
	}
	acct := compactIBAN(p.Account)
	if compactIBAN(l.site[it.Site].Operator.IBAN) == acct {
		return true
	}
	for _, s := range l.site {
		if compactIBAN(s.Operator.IBAN) == acct {
			return false
		}
	}
	return true
}

func compactIBAN(s string) string { return strings.ToUpper(strings.ReplaceAll(s, " ", "")) }

// allocate assigns amount of p to it.
func (l *Ledger) allocate(p *Payment, it *Item, amount core.Rappen, by Match) {
	p.Allocations = append(p.Allocations, Allocation{Site: it.Site, Number: it.Number, Amount: amount, By: by})
	it.Paid += amount
	it.Payments = append(it.Payments, PaymentPart{p.ID, p.Booked, amount, by})
	l.settle(it)
}

// nameWords returns a name's words, lower case, without punctuation.
func nameWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// sameName reports whether every word of the tenant's name is one of the
// debtor's words: "MUSTER ANNA" and "Anna und Peter Muster" pay for Anna
// Muster.
func sameName(debtor []string, tenant string) bool {
	words := nameWords(tenant)
	if len(words) == 0 || len(debtor) == 0 {
		return false
	}
	for _, w := range words {
		found := false
		for _, d := range debtor {
			if d == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// BookResult says what Book did with a file's payments.
type BookResult struct {
	// New are the payments booked, in file order; Duplicates the ids
	// already booked (by an earlier import or earlier in the file).
	New        []*Payment
	Duplicates []string
	// ByReference, ByAmount and Unassigned count the new payments by how
	// they were matched.
	ByReference, ByAmount, Unassigned int
}

// Book matches the payments of one bank file and stores them in tx,
// skipping those already stored (by Payment.ID), and writes one audit
// log entry. Run it in one transaction per file: a file is booked whole or
// not at all. ps are changed in place (allocations, notes, file and
// import time).
func Book(tx store.Tx, file string, ps []Payment, actor string, now time.Time) (*BookResult, error) {
	l, err := Load(tx)
	if err != nil {
		return nil, err
	}
	res, err := l.Book(file, ps, now)
	if err != nil {
		return nil, err
	}
	for _, p := range res.New {
		if err := putPayment(tx, p); err != nil {
			return nil, err
		}
	}
	detail := fmt.Sprintf("%s: %d payments booked (%d by reference, %d by amount and debtor, %d unassigned), %d already booked",
		file, len(res.New), res.ByReference, res.ByAmount, res.Unassigned, len(res.Duplicates))
	if _, err := tx.AppendAudit(store.Entry{Time: now.UTC(), Actor: actor, Action: ActionImport, Detail: detail}); err != nil {
		return nil, fmt.Errorf("logging the import: %w", err)
	}
	return res, nil
}

// Book matches ps against the ledger in memory, as Book does before it
// stores them.
func (l *Ledger) Book(file string, ps []Payment, now time.Time) (*BookResult, error) {
	res := &BookResult{}
	for i := range ps {
		p := &ps[i]
		if l.payments[p.ID] != nil {
			res.Duplicates = append(res.Duplicates, p.ID)
			continue
		}
		if err := store.CheckID("payment", p.ID); err != nil {
			return nil, err
		}
		p.File, p.Imported = file, now.UTC()
		switch l.Match(p) {
		case ByReference:
			res.ByReference++
		case ByAmount:
			res.ByAmount++
		default:
			res.Unassigned++
		}
		l.payments[p.ID] = p
		res.New = append(res.New, p)
	}
	return res, nil
}

func putPayment(tx store.Tx, p *Payment) error {
	v, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := tx.PutMeta(BucketPayments, p.ID, v); err != nil {
		return fmt.Errorf("storing payment %s: %w", p.ID, err)
	}
	return nil
}

// Assign assigns amount of the unassigned part of payment id to invoice
// number of site by hand (amount 0: all of the unassigned part) and logs
// it.
func Assign(tx store.Tx, id, site string, number int, amount core.Rappen, actor string, now time.Time) (*Payment, error) {
	l, err := Load(tx)
	if err != nil {
		return nil, err
	}
	p := l.payments[id]
	if p == nil {
		return nil, fmt.Errorf("no payment %q: %w", id, store.ErrNotFound)
	}
	it := l.items[ikey{site, number}]
	if it == nil {
		return nil, fmt.Errorf("site %s has no final invoice %d: %w", site, number, store.ErrNotFound)
	}
	free := p.Unassigned()
	if amount == 0 {
		amount = free
	}
	if amount <= 0 || amount > free {
		return nil, fmt.Errorf("payment %s has CHF %s unassigned; cannot assign CHF %s", id, free, amount)
	}
	l.allocate(p, it, amount, ByHand)
	a := &p.Allocations[len(p.Allocations)-1]
	a.Actor, a.Time = actor, now.UTC()
	if p.Unassigned() == 0 {
		p.Note = ""
	}
	if err := putPayment(tx, p); err != nil {
		return nil, err
	}
	if _, err := tx.AppendAudit(store.Entry{Time: now.UTC(), Actor: actor, Site: site, Action: ActionAssign,
		Detail: fmt.Sprintf("payment %s: CHF %s to invoice %d", id, amount, number)}); err != nil {
		return nil, fmt.Errorf("logging the assignment: %w", err)
	}
	return p, nil
}
