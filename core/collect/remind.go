package collect

import (
	"fmt"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// DueReminder is a reminder the site's schedule says is due: the next
// level of a collectible invoice whose day has come.
type DueReminder struct {
	Item *Item
	// Level is the reminder's level (1 for the first); Final marks the
	// schedule's last.
	Level int
	Final bool
	// Since is the day it became due; Fee the fee it adds; Open the
	// amount it asks for, the fee included; PayBy the day it asks
	// payment by.
	Since core.Date
	Fee   core.Rappen
	Open  core.Rappen
	PayBy core.Date
}

// Reminder returns the reminder as Record stores it, dated day.
func (d DueReminder) Reminder(day core.Date) Reminder {
	return Reminder{Site: d.Item.Site, Invoice: d.Item.Number, Level: d.Level, Date: day, Fee: d.Fee, Open: d.Open,
		PayBy: d.PayBy, Final: d.Final}
}

// DueReminders returns the reminders of site due on day, in invoice number
// order: for each collectible invoice, the next level of the site's schedule
// once its days have passed since the due date (level 1) or the previous
// reminder. A site that does not collect itself (collect_self) has none.
// Nothing is sent or stored: RecordReminder records one that was
// issued.
func (l *Ledger) DueReminders(site string, day core.Date) []DueReminder {
	s := l.site[site]
	if s == nil || !s.Settings.CollectSelf {
		return nil // a site that does not collect itself sends no reminders
	}
	sched := s.Settings.Reminders()
	var out []DueReminder
	for _, it := range l.Items(site) {
		if !it.Collectible() {
			continue
		}
		level := len(it.Reminders) + 1
		if level > len(sched) {
			continue
		}
		from := it.Due
		if len(it.Reminders) > 0 {
			from = it.Reminders[len(it.Reminders)-1].Date
		}
		since := from.AddDays(sched[level-1])
		if day.Before(since) {
			continue
		}
		d := DueReminder{Item: it, Level: level, Final: level == len(sched), Since: since}
		if level > 1 {
			d.Fee = s.Settings.ReminderFee
		}
		d.Open = it.Open + d.Fee
		next := 10
		if level < len(sched) {
			next = sched[level]
		}
		d.PayBy = day.AddDays(next)
		out = append(out, d)
	}
	return out
}

// RecordReminder stores a reminder as issued (its fee is then part of the
// invoice's open amount) and logs it. A level already recorded is refused.
func RecordReminder(tx store.Tx, r Reminder, actor string, now time.Time) error {
	key := reminderKey(r.Site, r.Invoice, r.Level)
	if _, err := tx.GetMeta(BucketReminders, key); err == nil {
		return fmt.Errorf("invoice %d of site %s already has reminder %d", r.Invoice, r.Site, r.Level)
	}
	if err := putJSON(tx, BucketReminders, key, r); err != nil {
		return err
	}
	detail := fmt.Sprintf("invoice %d: reminder %d over CHF %s", r.Invoice, r.Level, r.Open)
	if r.Fee != 0 {
		detail += fmt.Sprintf(" (fee CHF %s)", r.Fee)
	}
	if _, err := tx.AppendAudit(store.Entry{Time: now.UTC(), Actor: actor, Site: r.Site, Action: ActionReminder,
		Detail: detail}); err != nil {
		return fmt.Errorf("logging the reminder: %w", err)
	}
	return nil
}
