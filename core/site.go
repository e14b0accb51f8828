package core

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// Role is what a meter measures in the community.
type Role string

// Meter roles. Consumers are unit, common, heatpump and ev meters.
const (
	RoleProduction Role = "production" // the PV plant (export register = production)
	RoleGrid       Role = "grid"       // the utility's meter at the connection point
	RoleUnit       Role = "unit"       // an apartment or commercial unit
	RoleCommon     Role = "common"     // general electricity (stairs, lift, ...)
	RoleHeatPump   Role = "heatpump"   // a shared heat pump
	RoleEV         Role = "ev"         // an EV charger, billed per charging session
)

// Roles lists every valid role, in the order documentation shows them.
var Roles = []Role{RoleProduction, RoleGrid, RoleUnit, RoleCommon, RoleHeatPump, RoleEV}

// Consumer reports whether energy metered by r is allocated to someone.
func (r Role) Consumer() bool {
	return r == RoleUnit || r == RoleCommon || r == RoleHeatPump || r == RoleEV
}

// Key says how a shared meter's (common, heat pump) cost is split among units.
type Key string

// Distribution keys.
const (
	KeyUnits  Key = "units"  // equal parts per unit
	KeyArea   Key = "area"   // by Unit.Area
	KeyQuota  Key = "quota"  // by Unit.Quota (Wertquote)
	KeyCustom Key = "custom" // by Unit.Weight
	KeyOwner  Key = "owner"  // not distributed: billed to the owner
)

// Keys lists every valid key.
var Keys = []Key{KeyUnits, KeyArea, KeyQuota, KeyCustom, KeyOwner}

// Allocation is how self-consumed solar energy is divided among consumers in
// each interval.
type Allocation string

// Allocation methods (DESIGN.md "Billing").
const (
	AllocProportional Allocation = "proportional" // S = min(P, C), shared by consumption
	AllocEqual        Allocation = "equal"        // equal shares, capped at each consumer's use
	AllocBalance      Allocation = "balance"      // S = C - grid import of the utility meter
)

// Allocations lists every valid allocation method.
var Allocations = []Allocation{AllocProportional, AllocEqual, AllocBalance}

// Address is a structured postal address (QR-bill address type S).
type Address struct {
	Street   string `json:"street,omitempty"`
	Number   string `json:"number,omitempty"`
	Postcode string `json:"postcode,omitempty"`
	Town     string `json:"town,omitempty"`
	Country  string `json:"country,omitempty"` // ISO 3166-1 alpha-2
}

// Operator is whoever runs the community and bills it: the QR-bill creditor.
type Operator struct {
	Name string `json:"name"`
	Address
	IBAN  string `json:"iban,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// Unit is an apartment or commercial unit that has its own meter and tenants.
type Unit struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Area is the floor area in hundredths of a square metre (6250 = 62.5 m²).
	Area int64 `json:"area_cm2,omitempty"`
	// Quota is the unit's value quota (Wertquote), any consistent scale.
	Quota int64 `json:"quota,omitempty"`
	// Weight is the unit's share under a custom key, any consistent scale.
	Weight int64 `json:"weight,omitempty"`
	// Since is the unit's first day in service (made by merging or
	// splitting units, built later), zero for a unit there from the start.
	// Retired is its last day in service (merged with a neighbour, turned
	// into a common room), zero while it is in service. Outside these days
	// the unit has no tenants, no vacancy, no fees and no share of the
	// shared meters; it stays in the site, because billed periods refer to
	// it. Its unit meters enter service no earlier and leave no later.
	Since   Date `json:"since,omitzero"`
	Retired Date `json:"retired,omitzero"`
}

// InService reports whether the unit is in service on day d.
func (u Unit) InService(d Date) bool { return inService(u.Since, u.Retired, d) }

// inService reports whether d lies in [since, retired], a zero bound being
// open.
func inService(since, retired, d Date) bool {
	return (since.IsZero() || !d.Before(since)) && (retired.IsZero() || !d.After(retired))
}

// KeyWeight returns the unit's weight under distribution key k: its area,
// quota or custom weight (negative counts as 0), 1 under KeyUnits, 0 under
// KeyOwner. A unit's share is its weight over the sum of all units'.
func (u Unit) KeyWeight(k Key) int64 {
	var w int64
	switch k {
	case KeyArea:
		w = u.Area
	case KeyQuota:
		w = u.Quota
	case KeyCustom:
		w = u.Weight
	case KeyOwner:
		return 0
	default:
		w = 1
	}
	return max(w, 0)
}

// Meter is one physical meter and what it measures.
type Meter struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Role Role   `json:"role"`
	// Unit is the unit a unit meter belongs to.
	Unit string `json:"unit,omitempty"`
	// Key distributes a common or heat-pump meter among units.
	Key Key `json:"key,omitempty"`
	// MaxPowerW is the highest plausible power in W; 0 means the default for
	// the role (see DefaultMaxPowerW).
	MaxPowerW int64 `json:"max_power_w,omitempty"`
	// MeteringPoint is the grid operator's metering point id (Swiss
	// 33-character id, "CH1007..."), by which SDAT-CH deliveries name the
	// meter; empty if the operator delivers no data for it.
	MeteringPoint string `json:"metering_point,omitempty"`
	// Since is the meter's first day in service (installed later, a
	// replacement with a new id), zero for a meter there from the start.
	// Retired is its last day in service, zero while it is in service.
	// Billing and the plausibility checks read it as recording nothing
	// outside these days (neither billed nor missing); the meter itself
	// stays in the site, because billed periods refer to it.
	Since   Date `json:"since,omitzero"`
	Retired Date `json:"retired,omitzero"`
}

// Service returns the slots of the meter's service in loc, [first, end):
// first is the first slot of its first day (the smallest Slot without
// one), end the first slot after its last day (the largest Slot while in
// service).
func (m Meter) Service(loc *time.Location) (first, end Slot) {
	first, end = math.MinInt64, math.MaxInt64
	if !m.Since.IsZero() {
		first = m.Since.FirstSlot(loc)
	}
	if !m.Retired.IsZero() {
		end = m.Retired.AddDays(1).FirstSlot(loc)
	}
	return first, end
}

// Limited reports whether the meter has a first or last day in service.
func (m Meter) Limited() bool { return !m.Since.IsZero() || !m.Retired.IsZero() }

// InService reports whether the meter is in service on day d.
func (m Meter) InService(d Date) bool { return inService(m.Since, m.Retired, d) }

// DefaultMaxPowerW is the plausibility limit used where a meter has none:
// a 3 × 40 A connection.
const DefaultMaxPowerW = 27_700

// MaxPower returns the meter's maximum plausible power in W.
func (m Meter) MaxPower() int64 {
	if m.MaxPowerW > 0 {
		return m.MaxPowerW
	}
	return DefaultMaxPowerW
}

// Occupancy is a tenant's stay in a unit: they are billed for [From, To].
type Occupancy struct {
	Unit string `json:"unit"`
	Name string `json:"name"`
	From Date   `json:"from"`
	// To is the last day of the stay; zero means open-ended.
	To Date `json:"to,omitzero"`
	// Language of the invoice and the resident page: de, fr, it or en.
	Language string `json:"language,omitempty"`
	// Reference is the tenant's number in the property-management software.
	Reference string  `json:"reference,omitempty"`
	Address   Address `json:"address,omitzero"`
	Email     string  `json:"email,omitempty"`
	// AdvanceMonth is the advance payment (akonto) per month.
	AdvanceMonth Rappen `json:"advance_month,omitempty"`
}

// Period returns the occupancy's days clipped to p, and whether any overlap.
func (o Occupancy) Period(p Period) (Period, bool) {
	end := o.To
	if end.IsZero() {
		end = p.To
	}
	return Period{o.From, end}.Intersect(p)
}

// Languages lists the supported languages.
var Languages = []string{"de", "fr", "it", "en"}

// Tariff is a tariff version, valid from From until the next version starts.
type Tariff struct {
	From Date `json:"from"`
	// Solar is the price of solar energy from the community's own plant.
	Solar Price `json:"solar"`
	// Grid is the single grid price; used when HT is empty.
	Grid Price `json:"grid,omitempty"`
	// GridHT and GridNT are the high- and low-tariff prices; HT lists the
	// weekly windows of the high tariff, everything else (and holidays) is NT.
	GridHT Price    `json:"grid_ht,omitempty"`
	GridNT Price    `json:"grid_nt,omitempty"`
	HT     []Window `json:"ht,omitempty"`
	// BaseFeeMonth is charged per unit and month, pro rata by day.
	BaseFeeMonth Rappen `json:"base_fee_month,omitempty"`
	// MeteringMonth is charged per unit meter and month, pro rata by day.
	MeteringMonth Rappen `json:"metering_month,omitempty"`
	// VAT is the VAT rate; nil means the legal rate of the day if the site is
	// VAT-registered, and none otherwise (see Site.VATRate).
	VAT *BasisPoints `json:"vat,omitempty"`
	// Standard is the price of the utility's standard electricity product
	// the tenants would otherwise buy, all-in; 0 if unknown. Used by the
	// Energy Ordinance Art. 16 check.
	Standard Price `json:"standard,omitempty"`
}

// TwoRate reports whether t distinguishes high and low tariff.
func (t Tariff) TwoRate() bool { return len(t.HT) > 0 }

// Window is a weekly time window: the listed weekdays, from Start to End
// minutes after local midnight (End may be 1440).
type Window struct {
	Days  [7]bool `json:"days"` // indexed by time.Weekday
	Start int     `json:"start"`
	End   int     `json:"end"`
}

// Contains reports whether the local wall-clock time t lies in w.
func (w Window) Contains(t time.Time) bool {
	if !w.Days[t.Weekday()] {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	return m >= w.Start && m < w.End
}

// Site is one self-consumption community: a building, or a few, behind one
// grid connection.
type Site struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Timezone   string     `json:"timezone"`
	Allocation Allocation `json:"allocation"`
	// VATNumber is the operator's VAT number; empty if not VAT-registered.
	VATNumber string   `json:"vat_number,omitempty"`
	Address   Address  `json:"address"`
	Operator  Operator `json:"operator"`
	// Owner receives vacant days and shares billed to the owner; empty means
	// the operator.
	Owner string `json:"owner,omitempty"`
	// OwnerAddress is where the owner's invoices go (their payer box); empty
	// with an owner named means the operator forwards them.
	OwnerAddress Address     `json:"owner_address,omitzero"`
	Units        []Unit      `json:"units"`
	Meters       []Meter     `json:"meters"`
	Occupancies  []Occupancy `json:"tenants"`
	Tariffs      []Tariff    `json:"tariffs"`
	// Holidays are billed at the low tariff all day.
	Holidays []Date   `json:"holidays,omitempty"`
	Settings Settings `json:"settings"`
}

// Settings are a site's billing choices.
type Settings struct {
	// Period is the usual billing period: month, quarter, half or year.
	Period string `json:"period,omitempty"`
	// CollectSelf means the office collects payments itself: invoices carry a
	// QR-bill payment part.
	CollectSelf bool `json:"collect_self,omitempty"`
	// RefuseMissing makes billing refuse a period with missing data instead
	// of warning.
	RefuseMissing bool `json:"refuse_missing,omitempty"`
	// RoundTo5 rounds invoice totals to 5 Rappen with a rounding line.
	RoundTo5 bool `json:"round_to_5,omitempty"`
	// Redistribute spreads the difference between the grid meter and the sum
	// of sub-meters over the consumers.
	Redistribute bool `json:"redistribute,omitempty"`
	// BalanceTolerance is the allowed difference between the sub-meters and
	// the grid meter before it is flagged; 0 means the default of 2 %.
	BalanceTolerance BasisPoints `json:"balance_tolerance,omitempty"`
	// PaymentTermDays is the payment term of the site's invoices in days
	// from the issue date; 0 means the default of 30.
	PaymentTermDays int `json:"payment_term_days,omitempty"`
	// ReminderDays is the reminder schedule: the first reminder is due
	// ReminderDays[0] days after an invoice's due date, each further one
	// ReminderDays[i] days after the previous reminder; the last is the
	// final one; the levels end at the first 0. All zero means the default
	// of 10, 10, 10. (An array, not a slice, so that Settings stays
	// comparable.)
	ReminderDays [MaxReminders]int `json:"reminder_days,omitzero"`
	// ReminderFee is added to every reminder after the first (the first
	// is customarily free); 0 for none.
	ReminderFee Rappen `json:"reminder_fee,omitempty"`
}

// DefaultPaymentTermDays is the payment term when a site sets none.
const DefaultPaymentTermDays = 30

// DefaultReminderDays is the reminder schedule when a site sets none.
var DefaultReminderDays = []int{10, 10, 10}

// PaymentTerm returns the site's payment term in days.
func (s Settings) PaymentTerm() int {
	if s.PaymentTermDays > 0 {
		return s.PaymentTermDays
	}
	return DefaultPaymentTermDays
}

// Reminders returns the site's reminder schedule (ReminderDays or the
// default).
func (s Settings) Reminders() []int {
	n := 0
	for n < MaxReminders && s.ReminderDays[n] > 0 {
		n++
	}
	if n == 0 {
		return DefaultReminderDays
	}
	return s.ReminderDays[:n:n]
}

// MaxReminders is the most levels a reminder schedule has.
const MaxReminders = 5

// Location returns the site's time zone; Validate guarantees it loads.
// Zones are cached by name: time.LoadLocation reads and parses the zone
// database file on every call, too slow for every gateway batch.
func (s *Site) Location() *time.Location {
	if l, ok := locations.Load(s.Timezone); ok {
		return l.(*time.Location)
	}
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		panic(fmt.Sprintf("core: site %q has an invalid time zone %q (validate sites before use)", s.ID, s.Timezone))
	}
	locations.Store(s.Timezone, loc)
	return loc
}

// locations caches Site.Location's zones by name.
var locations sync.Map // string -> *time.Location

// Unit returns the unit with the given id, or nil.
func (s *Site) Unit(id string) *Unit {
	for i := range s.Units {
		if s.Units[i].ID == id {
			return &s.Units[i]
		}
	}
	return nil
}

// Meter returns the meter with the given id, or nil.
func (s *Site) Meter(id string) *Meter {
	for i := range s.Meters {
		if s.Meters[i].ID == id {
			return &s.Meters[i]
		}
	}
	return nil
}

// MetersWithRole returns the site's meters of role r, in site order.
func (s *Site) MetersWithRole(r Role) []Meter {
	var ms []Meter
	for _, m := range s.Meters {
		if m.Role == r {
			ms = append(ms, m)
		}
	}
	return ms
}

// TariffAt returns the tariff version in force on d and whether there is one.
// Validate keeps Tariffs sorted by From.
func (s *Site) TariffAt(d Date) (Tariff, bool) {
	var t Tariff
	ok := false
	for _, v := range s.Tariffs {
		if v.From.After(d) {
			break
		}
		t, ok = v, true
	}
	return t, ok
}

// IsHoliday reports whether d is one of the site's holidays.
func (s *Site) IsHoliday(d Date) bool {
	for _, h := range s.Holidays {
		if h == d {
			return true
		}
	}
	return false
}

// VATRegistered reports whether the operator charges VAT.
func (s *Site) VATRegistered() bool { return s.VATNumber != "" }

// VATRate returns the VAT rate that applies on d under tariff t: the tariff's
// explicit rate, else the legal Swiss standard rate of the day for a
// VAT-registered operator, else none.
func (s *Site) VATRate(t Tariff, d Date) BasisPoints {
	if t.VAT != nil {
		return *t.VAT
	}
	if !s.VATRegistered() {
		return 0
	}
	return SwissVAT(d)
}

// SwissVAT returns the Swiss standard VAT rate on d: 7.7 % from 2018 to 2023,
// 8.1 % from 2024 (and 8.0 % before 2018, 7.6 % before 2011).
func SwissVAT(d Date) BasisPoints {
	switch {
	case d.Year >= 2024:
		return 810
	case d.Year >= 2018:
		return 770
	case d.Year >= 2011:
		return 800
	default:
		return 760
	}
}
