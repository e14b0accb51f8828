package core

import (
	"cmp"
	"fmt"
	"time"
)

// SlotDuration is the length of one metering interval.
const SlotDuration = 15 * time.Minute

// SlotsPerUTCDay is the number of slots in a UTC day. Local days have 92, 96
// or 100 (daylight saving).
const SlotsPerUTCDay = 96

// Slot identifies a 15-minute interval by its start: the number of
// 15-minute steps since 1970-01-01T00:00Z. Slot s covers [s.Time(), s.Time()+15m).
type Slot int64

// SlotOf returns the slot containing t.
func SlotOf(t time.Time) Slot {
	sec := t.Unix()
	s := sec / 900
	if sec%900 < 0 {
		s--
	}
	return Slot(s)
}

// SlotAt returns the slot starting exactly at t and whether t lies on the
// 15-minute grid.
func SlotAt(t time.Time) (Slot, bool) {
	s := SlotOf(t)
	return s, s.Time().Equal(t)
}

// Time returns the start of s in UTC.
func (s Slot) Time() time.Time { return time.Unix(int64(s)*900, 0).UTC() }

// End returns the end of s (the start of the next slot) in UTC.
func (s Slot) End() time.Time { return time.Unix(int64(s+1)*900, 0).UTC() }

// String formats the start of s in RFC 3339 UTC.
func (s Slot) String() string { return s.Time().Format(time.RFC3339) }

// Date is a civil date (no time, no zone). Which instants it covers depends
// on the site's time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses an ISO 8601 date "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("invalid date %q: expected YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// DateOf returns the civil date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// MustDate returns the date y-m-d; it is meant for tests and constants.
func MustDate(y int, m time.Month, d int) Date {
	dt := Date{y, m, d}
	if !dt.Valid() {
		panic(fmt.Sprintf("core.MustDate: invalid date %d-%d-%d", y, m, d))
	}
	return dt
}

// IsZero reports whether d is the zero Date (used for "open-ended").
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d names a day of the Gregorian calendar.
func (d Date) Valid() bool {
	return d.Month >= 1 && d.Month <= 12 && d.Day >= 1 && DateOf(d.utc()) == d
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func (d Date) utc() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// AddDays returns d plus n days.
func (d Date) AddDays(n int) Date { return DateOf(d.utc().AddDate(0, 0, n)) }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.utc().Weekday() }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmp.Compare(d.Year, e.Year)
	case d.Month != e.Month:
		return cmp.Compare(d.Month, e.Month)
	default:
		return cmp.Compare(d.Day, e.Day)
	}
}

// DaysUntil returns the number of days from d to e (e - d).
func (d Date) DaysUntil(e Date) int { return int(e.utc().Sub(d.utc()).Hours() / 24) }

// Midnight returns the first instant of d in loc.
func (d Date) Midnight(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// FirstSlot returns the first slot of the local day d in loc. In zones whose
// offset is a multiple of 15 minutes (all Swiss ones) midnight is on the grid.
func (d Date) FirstSlot(loc *time.Location) Slot { return SlotOf(d.Midnight(loc)) }

// Period is a range of civil days [From, To], both included. In a time zone
// it covers every slot whose start lies in [From 00:00, To+1 00:00) local, so
// consecutive periods share no slot and miss none.
type Period struct {
	From, To Date
}

// Slots returns the half-open slot range [from, to) that p covers in loc.
func (p Period) Slots(loc *time.Location) (from, to Slot) {
	return p.From.FirstSlot(loc), p.To.AddDays(1).FirstSlot(loc)
}

// Days returns the number of days in p, both ends included.
func (p Period) Days() int { return p.From.DaysUntil(p.To) + 1 }

// Contains reports whether d lies in p.
func (p Period) Contains(d Date) bool { return !d.Before(p.From) && !d.After(p.To) }

// Valid reports whether both ends are valid dates and From is not after To.
func (p Period) Valid() bool { return p.From.Valid() && p.To.Valid() && !p.From.After(p.To) }

// Intersect returns the overlap of p and q and whether there is one.
func (p Period) Intersect(q Period) (Period, bool) {
	r := p
	if q.From.After(r.From) {
		r.From = q.From
	}
	if q.To.Before(r.To) {
		r.To = q.To
	}
	return r, !r.From.After(r.To)
}

// String formats p as "2026-01-01..2026-03-31".
func (p Period) String() string { return p.From.String() + ".." + p.To.String() }

// Clock tells the current time. Everything whose behaviour depends on "now"
// takes a Clock so that tests can fix it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// ShiftedClock is the real clock moved by a fixed duration: time passes, as
// it did at another moment (a demo shown at noon in June on a winter
// evening).
type ShiftedClock time.Duration

// Now returns time.Now() moved by the shift.
func (c ShiftedClock) Now() time.Time { return time.Now().Add(time.Duration(c)) }

// FixedClock is a Clock that always returns the same instant; for tests.
type FixedClock time.Time

// Now returns the fixed instant.
func (c FixedClock) Now() time.Time { return time.Time(c) }
