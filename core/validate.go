package core

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core/iban"
)

// ValidationError is a site that breaks a rule. Element is the path of the
// offending key as the site file spells it ("meters[2].role",
// "tenants[0].to"), so that a parser can point at the file's line.
type ValidationError struct {
	Element string
	// Msg is the message in English: fmt.Sprintf(Format, Args...).
	Msg string
	// Format and Args are the message before formatting, so that a user
	// interface can translate it: Format is one of a fixed set of fmt
	// formats (every word of the message is in it) and Args are data only:
	// ids, names, numbers, and days as Date.
	Format string
	Args   []any
}

// Error formats e as "element: message".
func (e *ValidationError) Error() string { return e.Element + ": " + e.Msg }

func verr(format string, args ...any) func(elem string) error {
	return func(elem string) error {
		return &ValidationError{Element: elem, Msg: fmt.Sprintf(format, args...), Format: format, Args: args}
	}
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate checks s against the rules every site must meet and returns the
// first *ValidationError. On success it sorts the tariff versions by date.
func (s *Site) Validate() error {
	e := func(elem, format string, args ...any) error { return verr(format, args...)(elem) }
	if !idPattern.MatchString(s.ID) {
		return e("id", "expected an id of letters, digits, '.', '_' or '-' (at most 64), got %q", s.ID)
	}
	if strings.TrimSpace(s.Name) == "" {
		return e("name", "expected the site's name")
	}
	if s.Timezone == "" {
		s.Timezone = "Europe/Zurich"
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil || !strings.Contains(s.Timezone, "/") && s.Timezone != "UTC" {
		return e("timezone", "unknown time zone %q: expected an IANA name such as Europe/Zurich", s.Timezone)
	}
	if s.Allocation == "" {
		s.Allocation = AllocProportional
	}
	if !slices.Contains(Allocations, s.Allocation) {
		return e("allocation", "unknown allocation %q: expected proportional, equal or balance", s.Allocation)
	}
	if s.VATNumber != "" && !vatPattern.MatchString(s.VATNumber) {
		return e("vat_number", "expected a Swiss VAT number such as CHE-123.456.789 MWST, got %q", s.VATNumber)
	}
	// The QR-bill carries countries as ISO codes; a country name would only
	// fail when the first invoice is made.
	if !countryOK(s.Address.Country) {
		return e("address.country", "expected an ISO 3166-1 alpha-2 country code such as CH, got %q", s.Address.Country)
	}
	if !countryOK(s.Operator.Country) {
		return e("operator.country", "expected an ISO 3166-1 alpha-2 country code such as CH, got %q", s.Operator.Country)
	}
	if !countryOK(s.OwnerAddress.Country) {
		return e("owner.country", "expected an ISO 3166-1 alpha-2 country code such as CH, got %q", s.OwnerAddress.Country)
	}
	if s.OwnerAddress != (Address{}) && strings.TrimSpace(s.Owner) == "" {
		return e("owner.name", "expected the owner's name: the owner has an address")
	}
	if strings.TrimSpace(s.Operator.Name) == "" {
		return e("operator.name", "expected the operator's name (the creditor of the invoices)")
	}
	if s.Operator.IBAN != "" {
		if err := iban.Check(s.Operator.IBAN); err != nil {
			// iban's messages come with their formats, to be translated
			// like this file's.
			var ie *iban.Error
			if !errors.As(err, &ie) {
				return &ValidationError{Element: "operator.iban", Msg: err.Error()}
			}
			return e("operator.iban", ie.Format, ie.Args...)
		}
	}
	if s.Settings.CollectSelf && s.Operator.IBAN == "" {
		return e("operator.iban", "expected an IBAN: the office collects itself (settings.collect_self)")
	}
	units := map[string]int{}
	for i, u := range s.Units {
		el := fmt.Sprintf("units[%d]", i)
		if !idPattern.MatchString(u.ID) {
			return e(el+".id", "expected a unit id of letters, digits, '.', '_' or '-', got %q", u.ID)
		}
		if _, dup := units[u.ID]; dup {
			return e(el+".id", "unit %q is defined twice", u.ID)
		}
		if u.Area < 0 {
			return e(el+".area_m2", "expected a positive area")
		}
		if err := serviceDays(el, false, u.Since, u.Retired); err != nil {
			return err
		}
		units[u.ID] = i
	}
	meters := map[string]bool{}
	var haveGrid bool
	for i, m := range s.Meters {
		el := fmt.Sprintf("meters[%d]", i)
		if !idPattern.MatchString(m.ID) {
			return e(el+".id", "expected a meter id of letters, digits, '.', '_' or '-', got %q", m.ID)
		}
		if meters[m.ID] {
			return e(el+".id", "meter %q is defined twice", m.ID)
		}
		meters[m.ID] = true
		if !slices.Contains(Roles, m.Role) {
			return e(el+".role", "unknown role %q: expected one of %s", m.Role, joinStrings(Roles))
		}
		switch m.Role {
		case RoleGrid:
			if haveGrid {
				return e(el+".role", "a site has one grid meter; %q is a second one", m.ID)
			}
			haveGrid = true
		case RoleUnit:
			if m.Unit == "" {
				return e(el+".unit", "expected the unit that meter %q belongs to", m.ID)
			}
		case RoleCommon, RoleHeatPump:
			if m.Key == "" {
				s.Meters[i].Key = KeyUnits
			} else if !slices.Contains(Keys, m.Key) {
				return e(el+".key", "unknown key %q: expected one of %s", m.Key, joinStrings(Keys))
			}
		}
		if m.Unit != "" {
			if _, ok := units[m.Unit]; !ok {
				return e(el+".unit", "unit %q does not exist (define it under [[units]])", m.Unit)
			}
		}
		if m.Key == KeyArea || s.Meters[i].Key == KeyArea {
			for _, u := range s.Units {
				if u.Area <= 0 {
					return e(el+".key", "key \"area\" needs an area_m2 for every unit; unit %q has none", u.ID)
				}
			}
		}
		if m.Key == KeyQuota {
			for _, u := range s.Units {
				if u.Quota <= 0 {
					return e(el+".key", "key \"quota\" needs a quota for every unit; unit %q has none", u.ID)
				}
			}
		}
		if m.MaxPowerW < 0 {
			return e(el+".max_power_w", "expected a positive power in W")
		}
		if err := serviceDays(el, true, m.Since, m.Retired); err != nil {
			return err
		}
		// A unit out of service has no one to bill what its meter records:
		// the meter enters service with it (or after) and leaves with it
		// (or before).
		if ui, ok := units[m.Unit]; ok && m.Role == RoleUnit {
			u := s.Units[ui]
			if !u.Since.IsZero() && (m.Since.IsZero() || m.Since.Before(u.Since)) {
				return e(el+".since", "meter %q of unit %s must enter service on or after the unit's first day in service %s", m.ID, u.ID, u.Since)
			}
			if !u.Retired.IsZero() && (m.Retired.IsZero() || m.Retired.After(u.Retired)) {
				return e(el+".retired", "meter %q of unit %s must be retired by the unit's last day in service %s", m.ID, u.ID, u.Retired)
			}
		}
	}
	for i, o := range s.Occupancies {
		el := fmt.Sprintf("tenants[%d]", i)
		if _, ok := units[o.Unit]; !ok {
			return e(el+".unit", "unit %q does not exist (define it under [[units]])", o.Unit)
		}
		if strings.TrimSpace(o.Name) == "" {
			return e(el+".name", "expected the tenant's name")
		}
		if !countryOK(o.Address.Country) {
			return e(el+".address.country", "expected an ISO 3166-1 alpha-2 country code such as CH, got %q", o.Address.Country)
		}
		if !o.From.Valid() {
			return e(el+".from", "expected the first day of the tenancy (YYYY-MM-DD)")
		}
		if !o.To.IsZero() && o.To.Before(o.From) {
			return e(el+".to", "last day %s is before the first day %s", o.To, o.From)
		}
		if u := s.Units[units[o.Unit]]; !u.Since.IsZero() && o.From.Before(u.Since) {
			return e(el+".from", "unit %s is in service from %s: the tenancy of %q cannot start on %s", u.ID, u.Since, o.Name, o.From)
		}
		if u := s.Units[units[o.Unit]]; !u.Retired.IsZero() {
			switch {
			case o.From.After(u.Retired):
				return e(el+".from", "unit %s is retired after %s: a tenancy cannot start on %s", u.ID, u.Retired, o.From)
			case o.To.IsZero() || o.To.After(u.Retired):
				return e(el+".to", "unit %s is retired after %s: expected the tenancy of %q to end by then", u.ID, u.Retired, o.Name)
			}
		}
		if o.Language == "" {
			s.Occupancies[i].Language = "de"
		} else if !slices.Contains(Languages, o.Language) {
			return e(el+".language", "unknown language %q: expected de, fr, it or en", o.Language)
		}
		for j, p := range s.Occupancies[:i] {
			if p.Unit == o.Unit && overlaps(p, o) {
				if p.To.IsZero() {
					return e(el+".from", "tenancy of %q in unit %s overlaps tenants[%d] (%q, %s..open)",
						o.Name, o.Unit, j, p.Name, p.From)
				}
				return e(el+".from", "tenancy of %q in unit %s overlaps tenants[%d] (%q, %s..%s)",
					o.Name, o.Unit, j, p.Name, p.From, p.To)
			}
		}
	}
	for i, t := range s.Tariffs {
		el := fmt.Sprintf("tariffs[%d]", i)
		if !t.From.Valid() {
			return e(el+".from", "expected the first day the tariff applies (YYYY-MM-DD)")
		}
		if t.Solar < 0 {
			return e(el+".solar_chf_kwh", "expected a price of zero or more")
		}
		switch {
		case t.TwoRate() && (t.GridHT <= 0 || t.GridNT <= 0):
			return e(el, "HT windows are set: expected grid_ht_chf_kwh and grid_nt_chf_kwh")
		case !t.TwoRate() && (t.GridHT != 0 || t.GridNT != 0) && t.Grid == 0:
			return e(el, "grid_ht_chf_kwh and grid_nt_chf_kwh need the HT windows: expected ht = [\"mon-fri 07:00-20:00\", ...]")
		case !t.TwoRate() && t.Grid <= 0:
			return e(el, "expected a grid price: either grid_chf_kwh, or grid_ht_chf_kwh, grid_nt_chf_kwh and ht")
		case t.TwoRate() && t.Grid != 0:
			return e(el+".grid_chf_kwh", "a tariff has either a single grid price or HT/NT prices, not both")
		}
		if t.VAT != nil && (*t.VAT < 0 || *t.VAT > 2500) {
			return e(el+".vat_percent", "expected a VAT rate between 0 and 25 %%")
		}
		if t.BaseFeeMonth < 0 {
			return e(el+".base_fee_chf_month", "expected a fee of zero or more")
		}
		if t.MeteringMonth < 0 {
			return e(el+".metering_chf_month", "expected a fee of zero or more")
		}
		for j, p := range s.Tariffs[:i] {
			if p.From == t.From {
				return e(el+".from", "tariffs[%d] starts on the same day %s", j, t.From)
			}
		}
	}
	slices.SortStableFunc(s.Tariffs, func(a, b Tariff) int { return a.From.Compare(b.From) })
	for i, h := range s.Holidays {
		if !h.Valid() {
			return e(fmt.Sprintf("holidays[%d]", i), "expected a date YYYY-MM-DD")
		}
	}
	if s.Settings.Period != "" && !slices.Contains([]string{"month", "quarter", "half", "year"}, s.Settings.Period) {
		return e("settings.period", "unknown period %q: expected month, quarter, half or year", s.Settings.Period)
	}
	if n := s.Settings.PaymentTermDays; n < 0 || n > 365 {
		return e("settings.payment_term_days", "%d: expected 1 to 365 days", n)
	}
	for i, n := range s.Settings.ReminderDays {
		if n < 0 || n > 365 || n == 0 && i+1 < MaxReminders && s.Settings.ReminderDays[i+1] != 0 {
			return e(fmt.Sprintf("settings.reminder_days[%d]", i), "%d: expected 1 to 365 days", n)
		}
	}
	if s.Settings.ReminderFee < 0 {
		return e("settings.reminder_fee_chf", "%s: expected a fee of 0 or more", s.Settings.ReminderFee)
	}
	return nil
}

// serviceDays checks the first and last day in service of the unit (or,
// if meter, the meter) at element el: valid dates, in order. Units and
// meters have their own formats so that "unit" and "meter" are translated
// with the message.
func serviceDays(el string, meter bool, since, retired Date) error {
	switch {
	case !since.IsZero() && !since.Valid() && meter:
		return verr("expected the meter's first day in service as a date such as 2026-07-01, got %s", since)(el + ".since")
	case !since.IsZero() && !since.Valid():
		return verr("expected the unit's first day in service as a date such as 2026-07-01, got %s", since)(el + ".since")
	case !retired.IsZero() && !retired.Valid() && meter:
		return verr("expected the meter's last day in service as a date such as 2026-06-30, got %s", retired)(el + ".retired")
	case !retired.IsZero() && !retired.Valid():
		return verr("expected the unit's last day in service as a date such as 2026-06-30, got %s", retired)(el + ".retired")
	case !since.IsZero() && !retired.IsZero() && retired.Before(since):
		return verr("last day in service %s is before the first day in service %s", retired, since)(el + ".retired")
	}
	return nil
}

// countryOK reports whether c is empty or two capital letters (ISO 3166-1
// alpha-2: CH, LI, DE).
func countryOK(c string) bool {
	return c == "" || len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z'
}

var vatPattern = regexp.MustCompile(`^CHE-?\d{3}\.?\d{3}\.?\d{3}( ?(MWST|TVA|IVA|VAT))?$`)

func overlaps(a, b Occupancy) bool {
	aEnd, bEnd := a.To, b.To
	far := Date{9999, 12, 31}
	if aEnd.IsZero() {
		aEnd = far
	}
	if bEnd.IsZero() {
		bEnd = far
	}
	return !a.From.After(bEnd) && !b.From.After(aEnd)
}

func joinStrings[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ErrWindowSyntax is wrapped by ParseWindow's errors.
var ErrWindowSyntax = errors.New(`expected a window such as "mon-fri 07:00-20:00" or "sat 07:00-13:00"`)

// ParseWindow parses a weekly window "mon-fri 07:00-20:00", "sat 07:00-13:00"
// or "mon,wed 06:00-24:00".
func ParseWindow(s string) (Window, error) {
	var w Window
	days, hours, ok := strings.Cut(strings.TrimSpace(strings.ToLower(s)), " ")
	if !ok {
		return w, fmt.Errorf("%q: %w", s, ErrWindowSyntax)
	}
	for _, part := range strings.Split(days, ",") {
		a, b, isRange := strings.Cut(part, "-")
		da, okA := weekdays[a]
		if !okA {
			return w, fmt.Errorf("%q: unknown day %q: %w", s, a, ErrWindowSyntax)
		}
		db := da
		if isRange {
			var okB bool
			if db, okB = weekdays[b]; !okB {
				return w, fmt.Errorf("%q: unknown day %q: %w", s, b, ErrWindowSyntax)
			}
		}
		for d := da; ; d = (d + 1) % 7 {
			w.Days[d] = true
			if d == db {
				break
			}
		}
	}
	from, to, ok := strings.Cut(strings.TrimSpace(hours), "-")
	if !ok {
		return w, fmt.Errorf("%q: %w", s, ErrWindowSyntax)
	}
	var err error
	if w.Start, err = parseClock(from); err != nil {
		return w, fmt.Errorf("%q: %w", s, err)
	}
	if w.End, err = parseClock(to); err != nil {
		return w, fmt.Errorf("%q: %w", s, err)
	}
	if w.End <= w.Start {
		return w, fmt.Errorf("%q: the window ends before it starts: %w", s, ErrWindowSyntax)
	}
	return w, nil
}

// String formats w the way ParseWindow reads it.
func (w Window) String() string {
	names := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	var parts []string
	for d := 1; d <= 7; d++ { // from Monday, Sunday last
		if !w.Days[d%7] || w.Days[(d+6)%7] && d != 1 {
			continue
		}
		e := d
		for e+1 <= 7 && w.Days[(e+1)%7] {
			e++
		}
		if e == d {
			parts = append(parts, names[d%7])
		} else {
			parts = append(parts, names[d%7]+"-"+names[e%7])
		}
	}
	return fmt.Sprintf("%s %02d:%02d-%02d:%02d", strings.Join(parts, ","), w.Start/60, w.Start%60, w.End/60, w.End%60)
}

func parseClock(s string) (int, error) {
	var h, m int
	if n, err := fmt.Sscanf(s, "%d:%d", &h, &m); n != 2 || err != nil || len(s) != 5 || h < 0 || h > 24 || m < 0 || m > 59 || h == 24 && m != 0 {
		return 0, fmt.Errorf("invalid time %q: %w", s, ErrWindowSyntax)
	}
	return h*60 + m, nil
}
