package importer

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// LockedError is a site update that would change what a billed (locked)
// period was billed from. Element is the site file's path of what changes
// ("tenants[1]", "tariffs[0]", "meters"), as in core.ValidationError, so that
// a form can show the refusal at the field.
type LockedError struct {
	Site    string
	Element string
	Period  core.Period
	What    string
	// WhatFormat and WhatArgs are What as a fmt format and its arguments,
	// so that a user interface can say it in its own language.
	WhatFormat string
	WhatArgs   []any
}

// Error names the element, the billed period and how to unlock it.
func (e *LockedError) Error() string {
	return fmt.Sprintf("%s: %s changes the billed period %s: unlock it first (zevdesk unlock --site %s --from %s --to %s --reason ...), then bill it again",
		e.Element, e.What, e.Period, e.Site, e.Period.From, e.Period.To)
}

// Unwrap makes a LockedError match store.ErrLocked.
func (e *LockedError) Unwrap() error { return store.ErrLocked }

// CheckSiteLocks returns a *LockedError when new changes what one of the
// billed periods in locks was billed from: a tenancy's days, name, address,
// language or advance inside the period, a tariff version in force in it,
// a unit's key weights, a meter's role, unit or key, a meter or unit
// removed, a holiday added or removed inside the period (the HT/NT tariffs
// bill holidays at NT), or the time zone (it moves every period's
// intervals). Changes outside every billed period (a move-out after it, a
// new tariff version from a later day, a new unit, a holiday after it) pass.
func CheckSiteLocks(old, new *core.Site, locks []store.Lock) error {
	if old == nil {
		return nil
	}
	for _, l := range locks {
		p := l.Period
		fail := func(elem string, format string, args ...any) error {
			return &LockedError{Site: new.ID, Element: elem, Period: p, What: fmt.Sprintf(format, args...),
				WhatFormat: format, WhatArgs: args}
		}
		if old.Allocation != new.Allocation {
			return fail("allocation", "changing the allocation")
		}
		if old.VATNumber != new.VATNumber {
			return fail("vat_number", "changing the VAT number")
		}
		if old.Timezone != new.Timezone {
			return fail("timezone", "changing the time zone")
		}
		if format, args := diffHolidays(old, new, p); format != "" {
			return fail("holidays", format, args...)
		}
		if i, format, args := diffOccupancies(old, new, p); format != "" {
			return fail(elemIndex("tenants", i), format, args...)
		}
		if i, format, args := diffTariffs(old, new, p); format != "" {
			return fail(elemIndex("tariffs", i), format, args...)
		}
		for _, u := range old.Units {
			nu := new.Unit(u.ID)
			if nu == nil {
				return fail("units", "removing unit %s", u.ID)
			}
			el := elemIndex("units", slices.IndexFunc(new.Units, func(x core.Unit) bool { return x.ID == u.ID }))
			if nu.Area != u.Area || nu.Quota != u.Quota || nu.Weight != u.Weight {
				return fail(el, "changing the area, quota or weight of unit %s", u.ID)
			}
			switch serviceMoves(u.Since, u.Retired, nu.Since, nu.Retired, p) {
			case "since":
				return fail(el+".since", "changing the first day in service of unit %s", u.ID)
			case "retired":
				return fail(el+".retired", "changing the last day in service of unit %s", u.ID)
			}
		}
		for _, m := range old.Meters {
			nm := new.Meter(m.ID)
			if nm == nil {
				return fail("meters", "removing meter %s", m.ID)
			}
			el := elemIndex("meters", slices.IndexFunc(new.Meters, func(x core.Meter) bool { return x.ID == m.ID }))
			if nm.Role != m.Role || nm.Unit != m.Unit || nm.Key != m.Key {
				return fail(el, "changing the role, unit or key of meter %s", m.ID)
			}
			switch serviceMoves(m.Since, m.Retired, nm.Since, nm.Retired, p) {
			case "since":
				return fail(el+".since", "changing the first day in service of meter %s", m.ID)
			case "retired":
				return fail(el+".retired", "changing the last day in service of meter %s", m.ID)
			}
		}
	}
	return nil
}

// serviceMoves returns the key ("since", "retired") whose change from the
// old days in service to the new ones changes what period p bills, or "".
// A first day changes p when either version falls after p's first day (the
// days before it are billed differently), a last day when either falls
// before p's last day; a zero day is an open end.
func serviceMoves(oldSince, oldRetired, newSince, newRetired core.Date, p core.Period) string {
	switch {
	case oldSince != newSince && (!oldSince.IsZero() && oldSince.After(p.From) || !newSince.IsZero() && newSince.After(p.From)):
		return "since"
	case oldRetired != newRetired && (!oldRetired.IsZero() && oldRetired.Before(p.To) || !newRetired.IsZero() && newRetired.Before(p.To)):
		return "retired"
	}
	return ""
}

func elemIndex(list string, i int) string {
	if i < 0 {
		return list
	}
	return fmt.Sprintf("%s[%d]", list, i)
}

// inPeriod returns s's tenancies as billed in p: clipped to p, the
// clipped ones with their index in s.
func inPeriod(s *core.Site, p core.Period) (occs []core.Occupancy, idx []int) {
	for i, o := range s.Occupancies {
		q, ok := o.Period(p)
		if !ok {
			continue
		}
		o.From, o.To = q.From, q.To
		occs = append(occs, o)
		idx = append(idx, i)
	}
	return occs, idx
}

// diffOccupancies compares the tenancies billed in p and returns the index
// in new of the first that differs (-1 if it was removed) and a description
// as a format and its arguments.
func diffOccupancies(old, new *core.Site, p core.Period) (int, string, []any) {
	a, _ := inPeriod(old, p)
	b, bi := inPeriod(new, p)
	for j, o := range b {
		if !slices.ContainsFunc(a, func(x core.Occupancy) bool { return reflect.DeepEqual(x, o) }) {
			return bi[j], "the tenancy of %s in unit %s", []any{o.Name, o.Unit}
		}
	}
	for _, o := range a {
		if !slices.ContainsFunc(b, func(x core.Occupancy) bool { return reflect.DeepEqual(x, o) }) {
			// Removed, or shortened: point at the tenant's entry if it
			// is still there.
			for i, n := range new.Occupancies {
				if n.Unit == o.Unit && n.Name == o.Name && n.From.Compare(o.From) <= 0 {
					return i, "the tenancy of %s in unit %s", []any{o.Name, o.Unit}
				}
			}
			return -1, "removing the tenancy of %s in unit %s", []any{o.Name, o.Unit}
		}
	}
	return 0, "", nil
}

// inForce returns the tariff versions in force on some day of p.
func inForce(s *core.Site, p core.Period) (ts []core.Tariff, idx []int) {
	for i, t := range s.Tariffs {
		next := core.Date{Year: 9999, Month: 12, Day: 31}
		if i+1 < len(s.Tariffs) {
			next = s.Tariffs[i+1].From.AddDays(-1)
		}
		if _, ok := (core.Period{From: t.From, To: next}).Intersect(p); ok && !t.From.After(next) {
			ts = append(ts, t)
			idx = append(idx, i)
		}
	}
	return ts, idx
}

// diffTariffs compares the tariff versions in force in p, as
// diffOccupancies does the tenancies.
func diffTariffs(old, new *core.Site, p core.Period) (int, string, []any) {
	a, _ := inForce(old, p)
	b, bi := inForce(new, p)
	for j, t := range b {
		if j >= len(a) || !reflect.DeepEqual(a[j], t) {
			return bi[j], "the tariff version from %s", []any{t.From}
		}
	}
	if len(a) > len(b) {
		return -1, "removing the tariff version from %s", []any{a[len(b)].From}
	}
	return 0, "", nil
}

// diffHolidays says which holiday inside p one site has and the other not,
// as a format and its arguments ("" if none).
func diffHolidays(old, new *core.Site, p core.Period) (string, []any) {
	for _, d := range new.Holidays {
		if p.Contains(d) && !old.IsHoliday(d) {
			return "adding the holiday %s", []any{d}
		}
	}
	for _, d := range old.Holidays {
		if p.Contains(d) && !new.IsHoliday(d) {
			return "removing the holiday %s", []any{d}
		}
	}
	return "", nil
}
