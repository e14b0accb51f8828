package collect

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/iban"
	"github.com/zevdesk/zevdesk/core/qrbill"
	"github.com/zevdesk/zevdesk/core/store"
)

type ikey struct {
	site   string
	number int
}

// Ledger is the office's receivables as loaded from a transaction: every
// site's final invoices with their payments, credit notes, write-offs and
// reminders, and the payments not (fully) assigned. Match changes it in
// memory as Book assigns payments.
type Ledger struct {
	sites    []string
	site     map[string]*core.Site
	items    map[ikey]*Item
	order    []*Item // by site, then number
	payments map[string]*Payment
	// byAmount indexes collectible items by their open amount; entries go
	// stale when the open amount changes and are checked on use.
	byAmount map[core.Rappen][]*Item
	credits  map[ikey]CreditNote // by the credit note's number
	writeOff []WriteOff
}

// jsonRun is the part of billing's `bill --json` form a ledger needs.
type jsonRun struct {
	Invoices []struct {
		Number  *int      `json:"number"`
		Key     string    `json:"key"`
		Unit    string    `json:"unit"`
		Tenant  string    `json:"tenant"`
		Owner   bool      `json:"owner"`
		From    core.Date `json:"from"`
		To      core.Date `json:"to"`
		Total   string    `json:"total"`
		Advance string    `json:"advance"`
		Balance string    `json:"balance"`
	} `json:"invoices"`
}

// Load reads the receivables of every site from tx.
func Load(tx store.Tx) (*Ledger, error) {
	ids, err := tx.SiteIDs()
	if err != nil {
		return nil, fmt.Errorf("listing sites: %w", err)
	}
	l := &Ledger{sites: ids, site: map[string]*core.Site{}, items: map[ikey]*Item{}, payments: map[string]*Payment{},
		byAmount: map[core.Rappen][]*Item{}, credits: map[ikey]CreditNote{}}
	for _, id := range ids {
		s, err := tx.Site(id)
		if err != nil {
			return nil, fmt.Errorf("reading site %s: %w", id, err)
		}
		l.site[id] = s
	}
	if err := l.loadRuns(tx); err != nil {
		return nil, err
	}
	var derr error
	scan := func(bucket string, fn func(k string, v []byte) error) error {
		err := tx.ScanMeta(bucket, func(k string, v []byte) bool {
			if e := fn(k, v); e != nil {
				derr = fmt.Errorf("reading %s %s: %w", bucket, k, e)
				return false
			}
			return true
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("reading %s: %w", bucket, err)
		}
		return derr
	}
	if err := scan(BucketCredits, func(k string, v []byte) error {
		var c CreditNote
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		l.credits[ikey{c.Site, c.Number}] = c
		if it := l.items[ikey{c.Site, c.Invoice}]; it != nil {
			it.Credited += c.Amount
			it.Credits = append(it.Credits, c)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scan(BucketWriteOffs, func(k string, v []byte) error {
		var w WriteOff
		if err := json.Unmarshal(v, &w); err != nil {
			return err
		}
		l.writeOff = append(l.writeOff, w)
		if it := l.items[ikey{w.Site, w.Invoice}]; it != nil {
			it.WrittenOff += w.Amount
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scan(BucketReminders, func(k string, v []byte) error {
		var r Reminder
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		if it := l.items[ikey{r.Site, r.Invoice}]; it != nil {
			it.Fees += r.Fee
			it.Reminders = append(it.Reminders, r)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := scan(BucketPayments, func(k string, v []byte) error {
		p := new(Payment)
		if err := json.Unmarshal(v, p); err != nil {
			return err
		}
		l.payments[p.ID] = p
		for _, a := range p.Allocations {
			if it := l.items[ikey{a.Site, a.Number}]; it != nil {
				it.Paid += a.Amount
				it.Payments = append(it.Payments, PaymentPart{p.ID, p.Booked, a.Amount, a.By})
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, it := range l.order {
		slices.SortFunc(it.Reminders, func(a, b Reminder) int { return cmp.Compare(a.Level, b.Level) })
		l.settle(it)
	}
	return l, nil
}

// loadRuns reads the invoices of every committed run, in site and number
// order.
func (l *Ledger) loadRuns(tx store.Tx) error {
	var derr error
	err := tx.ScanMeta(billing.BucketRuns, func(k string, v []byte) bool {
		site, _, _ := strings.Cut(k, "/")
		s := l.site[site]
		if s == nil {
			return true
		}
		if e := l.addRun(s, v); e != nil {
			derr = fmt.Errorf("reading the billing run %s: %w", k, e)
			return false
		}
		return true
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("reading billing runs: %w", err)
	}
	if derr != nil {
		return derr
	}
	slices.SortFunc(l.order, func(a, b *Item) int {
		return cmp.Or(cmp.Compare(a.Site, b.Site), cmp.Compare(a.Number, b.Number))
	})
	return nil
}

func (l *Ledger) addRun(s *core.Site, v []byte) error {
	var rec billing.Record
	if err := json.Unmarshal(v, &rec); err != nil {
		return err
	}
	var run jsonRun
	if err := json.Unmarshal(rec.Run, &run); err != nil {
		return err
	}
	issued := core.DateOf(rec.Committed.In(s.Location()))
	qrr := iban.IsQRIBAN(s.Operator.IBAN)
	for _, ji := range run.Invoices {
		// The operator owning the building bills itself: an internal
		// statement, not a receivable (it carries no payment part).
		if ji.Number == nil || *ji.Number == 0 || ji.Owner && s.Owner == "" {
			continue
		}
		inv := Invoice{Site: s.ID, Number: *ji.Number, Key: ji.Key, Unit: ji.Unit, Tenant: ji.Tenant, Owner: ji.Owner,
			Period: core.Period{From: ji.From, To: ji.To}, Issued: issued,
			Due: issued.AddDays(s.Settings.PaymentTerm())}
		var err error
		if inv.Total, err = core.ParseCHF(ji.Total); err != nil {
			return fmt.Errorf("invoice %d: total: %w", inv.Number, err)
		}
		if inv.Amount, err = core.ParseCHF(ji.Balance); err != nil {
			return fmt.Errorf("invoice %d: balance: %w", inv.Number, err)
		}
		inv.Advance = inv.Total - inv.Amount
		if qrr {
			inv.Reference, _ = qrbill.InvoiceQRR(s.ID, inv.Number)
		} else {
			inv.Reference, _ = qrbill.InvoiceSCOR(s.ID, inv.Number)
		}
		if o, ok := occupancyOf(s, ji.Key); ok {
			inv.Language, inv.Address, inv.TenantRef = o.Language, o.Address, o.Reference
		}
		it := &Item{Invoice: inv}
		l.items[ikey{s.ID, inv.Number}] = it
		l.order = append(l.order, it)
	}
	return nil
}

// occupancyOf finds the tenancy of an invoice key "occ:UNIT:NAME:FROM".
func occupancyOf(s *core.Site, key string) (core.Occupancy, bool) {
	rest, ok := strings.CutPrefix(key, "occ:")
	if !ok {
		return core.Occupancy{}, false
	}
	for _, o := range s.Occupancies {
		if rest == o.Unit+":"+o.Name+":"+o.From.String() {
			return o, true
		}
	}
	return core.Occupancy{}, false
}

// settle recomputes an item's state and indexes it by its open amount.
func (l *Ledger) settle(it *Item) {
	it.update()
	if it.Collectible() {
		l.byAmount[it.Open] = append(l.byAmount[it.Open], it)
	}
}

// Site returns a loaded site, or nil.
func (l *Ledger) Site(id string) *core.Site { return l.site[id] }

// Item returns the invoice number of site, or nil.
func (l *Ledger) Item(site string, number int) *Item { return l.items[ikey{site, number}] }

// Items returns the site's final invoices in number order.
func (l *Ledger) Items(site string) []*Item {
	var out []*Item
	for _, it := range l.order {
		if it.Site == site {
			out = append(out, it)
		}
	}
	return out
}

// OpenItems returns the site's invoices with an amount open (collectible)
// or over-paid, in number order: the open items list.
func (l *Ledger) OpenItems(site string) []*Item {
	var out []*Item
	for _, it := range l.Items(site) {
		if it.Collectible() || it.Open < 0 {
			out = append(out, it)
		}
	}
	return out
}

// Payment returns a stored payment, or nil.
func (l *Ledger) Payment(id string) *Payment { return l.payments[id] }

// Payments returns the stored payments in order of booking day and id;
// with unassignedOnly, only those with an unassigned part.
func (l *Ledger) Payments(unassignedOnly bool) []*Payment {
	var out []*Payment
	for _, p := range l.payments {
		if !unassignedOnly || p.Unassigned() != 0 {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *Payment) int { return cmp.Or(a.Booked.Compare(b.Booked), cmp.Compare(a.ID, b.ID)) })
	return out
}

// CreditNote returns the credit note number of site, if it is one.
func (l *Ledger) CreditNote(site string, number int) (CreditNote, bool) {
	c, ok := l.credits[ikey{site, number}]
	return c, ok
}

func itemKey(site string, number int) string { return site + "/" + fmt.Sprintf("%08d", number) }

func reminderKey(site string, number, level int) string {
	return itemKey(site, number) + "/" + strconv.Itoa(level)
}
