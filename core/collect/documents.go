package collect

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

// ErrNoReason is returned for a credit note or write-off without a reason:
// the audit log must say why an invoice was not collected.
var ErrNoReason = fmt.Errorf("a reason is required for the audit log")

func (l *Ledger) itemOf(site string, number int) (*Item, error) {
	it := l.items[ikey{site, number}]
	if it == nil {
		return nil, fmt.Errorf("site %s has no final invoice %d: %w", site, number, store.ErrNotFound)
	}
	return it, nil
}

// Cancel cancels invoice number of site with a credit note over its
// amount to pay, numbered from the site's invoice sequence, dated today,
// and logs it. Payments already assigned stay on the invoice (an
// over-payment to refund).
func Cancel(tx store.Tx, site string, number int, reason, actor string, now time.Time) (*CreditNote, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, ErrNoReason
	}
	l, err := Load(tx)
	if err != nil {
		return nil, err
	}
	it, err := l.itemOf(site, number)
	if err != nil {
		return nil, err
	}
	if it.State == Cancelled {
		return nil, fmt.Errorf("invoice %d of site %s is already cancelled (credit note %d)", number, site,
			it.Credits[len(it.Credits)-1].Number)
	}
	if it.Amount-it.Credited <= 0 {
		return nil, fmt.Errorf("invoice %d of site %s asks for no payment (CHF %s): nothing to credit", number, site, it.Amount)
	}
	n, err := billing.NextNumber(tx, site)
	if err != nil {
		return nil, err
	}
	c := &CreditNote{Site: site, Number: n, Invoice: number, Amount: it.Amount - it.Credited,
		Date: today(l.site[site], now), Reason: reason}
	if err := putJSON(tx, BucketCredits, itemKey(site, n), c); err != nil {
		return nil, err
	}
	if _, err := tx.AppendAudit(store.Entry{Time: now.UTC(), Actor: actor, Site: site, Action: ActionCredit,
		Detail: fmt.Sprintf("credit note %d cancels invoice %d over CHF %s: %s", n, number, c.Amount, reason)}); err != nil {
		return nil, fmt.Errorf("logging the credit note: %w", err)
	}
	return c, nil
}

// WriteOffOpen writes off the open amount of invoice number of site and
// logs it.
func WriteOffOpen(tx store.Tx, site string, number int, reason, actor string, now time.Time) (*WriteOff, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, ErrNoReason
	}
	l, err := Load(tx)
	if err != nil {
		return nil, err
	}
	it, err := l.itemOf(site, number)
	if err != nil {
		return nil, err
	}
	if !it.Collectible() {
		return nil, fmt.Errorf("invoice %d of site %s is %s with CHF %s open: nothing to write off", number, site,
			it.State, it.Open)
	}
	w := &WriteOff{Site: site, Invoice: number, Amount: it.Open, Date: today(l.site[site], now), Reason: reason}
	if err := putJSON(tx, BucketWriteOffs, itemKey(site, number), w); err != nil {
		return nil, err
	}
	if _, err := tx.AppendAudit(store.Entry{Time: now.UTC(), Actor: actor, Site: site, Action: ActionWriteOff,
		Detail: fmt.Sprintf("invoice %d: CHF %s written off: %s", number, w.Amount, reason)}); err != nil {
		return nil, fmt.Errorf("logging the write-off: %w", err)
	}
	return w, nil
}

func putJSON(tx store.Tx, bucket, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := tx.PutMeta(bucket, key, b); err != nil {
		return fmt.Errorf("storing %s %s: %w", bucket, key, err)
	}
	return nil
}

// today is now's day in the site's time zone.
func today(s *core.Site, now time.Time) core.Date {
	if s == nil {
		return core.DateOf(now.UTC())
	}
	return core.DateOf(now.In(s.Location()))
}

// Today returns now's day in the time zone of site (UTC for an unknown
// site): the day reminders are due on.
func (l *Ledger) Today(site string, now time.Time) core.Date { return today(l.site[site], now) }
