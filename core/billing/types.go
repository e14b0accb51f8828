// Package billing allocates a community's solar energy per 15-minute interval
// and turns the allocation into invoices that reconcile to the Rappen.
//
// Everything here is pure: Bill takes an Input (the site, the period, every
// meter's interval series, EV sessions, an optional utility bill and dynamic
// price series) and returns a Run. Load fills an Input from a store
// transaction in one pass over the meters; Commit numbers a run's invoices,
// stores it and locks the period.
//
// Exactness: energy is kept in mWh and never rounded; allocation remainders
// are distributed by largest remainder (ties by consumer order), so that per
// interval Σ solar = min(P, C) and Σ solar + grid = C exactly. Money is kept
// in nano-CHF until a line is rounded to the Rappen; VAT is computed on the
// subtotal of each rate.
package billing

import (
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// Input is everything Bill needs for one site and period. Bill does not
// modify it.
type Input struct {
	Site   *core.Site
	Period core.Period
	// Data holds each meter's interval series by meter id. A series may
	// start before or end after the period; slots it does not cover count
	// as missing.
	Data map[string]MeterData
	// Readings holds each meter's register readings at the period's
	// boundaries, printed on the invoice; optional.
	Readings map[string]Readings
	// Boundaries holds, per unit meter, the register reading at the start
	// of the days inside the period where a tenancy starts or the day after
	// one ends (at local midnight, or the last before it): the move-in and
	// move-out readings printed on partial invoices; optional.
	Boundaries map[string]map[core.Date]store.Register
	// Sessions are EV charging sessions on the site's EV meters.
	Sessions []Session
	// Utility, when set, is the utility's invoice for the same period: grid
	// energy is then billed at exactly its costs (pass-through) instead of
	// the tariff's grid prices.
	Utility *UtilityBill
	// Prices, when set, is a 15-minute dynamic grid price series: grid
	// energy in the slots it covers is billed at the slot's price.
	Prices *DynamicPrices
	// Numbers, when set, gives invoices their numbers by Invoice.Key; Commit
	// fills it. Invoices without a number are drafts (Number 0).
	Numbers map[string]int
	// Billed lists other periods, overlapping this one, that were billed
	// (committed) before; Bill warns that their days would be billed twice.
	Billed []core.Period
}

// MeterData is one meter's interval energy. Import is consumption (and the
// grid meter's supply), Export is production (and the grid meter's feed-in).
type MeterData struct {
	Import store.Series
	Export store.Series
}

// Readings are a meter's register readings around the period, for the
// invoice: the last reading before the period's first instant, the first at
// or after its end, and the confirmed exchanges between them.
type Readings struct {
	Start, End   *store.Register
	Replacements []store.Replacement
}

// Session is one EV charging session: the energy the charger metered in the
// slots from Start to End is billed to Person, with the solar share those
// slots got: on the invoice of Person's tenancy of Unit where Person is the
// unit's tenant that day, else on an EV invoice of Person's own.
type Session struct {
	ID     string `json:"id"`
	Meter  string `json:"meter"`  // the EV charger's meter id
	Card   string `json:"card"`   // the RFID card that started the session
	Person string `json:"person"` // whom the card belongs to: the invoice's recipient
	// Unit is the person's unit, if any; printed on the invoice.
	Unit string `json:"unit,omitempty"`
	// Start and End bound the session; it covers every slot that overlaps
	// [Start, End).
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// DynamicPrices is a 15-minute grid price series: Grid[i] is the price of
// slot From+i. A zero price means "not set": the tariff's price applies.
type DynamicPrices struct {
	From core.Slot    `json:"from"`
	Grid []core.Price `json:"grid"`
}

// Basis says which grid energy a utility bill line is shared by.
type Basis string

// Bases of utility bill lines.
const (
	BasisHT  Basis = "ht"  // by high-tariff grid energy
	BasisNT  Basis = "nt"  // by low-tariff grid energy
	BasisAll Basis = "all" // by all grid energy
)

// UtilityBill is the utility's invoice for the community's grid connection
// over a period, entered by the office, for pass-through billing.
type UtilityBill struct {
	Period core.Period   `json:"period"`
	Lines  []UtilityLine `json:"lines"`
	// VAT is the rate the utility charged; it is shown, not passed on (the
	// community's own invoices carry their own VAT).
	VAT core.BasisPoints `json:"vat"`
}

// UtilityLine is one line of a utility bill. Its amount is, in order of
// precedence: Energy × Price, the sum of PowerW × PricePerKW, or Amount.
type UtilityLine struct {
	Label string `json:"label"`
	Basis Basis  `json:"basis"`
	// Energy and Price make an energy line (kWh × CHF/kWh).
	Energy core.Energy `json:"energy_mwh,omitempty"`
	Price  core.Price  `json:"price_uchf_kwh,omitempty"`
	// PowerW and PricePerKW make a power-charge line: the monthly peaks in
	// W, each at PricePerKW per kW.
	PowerW     []int64     `json:"power_w,omitempty"`
	PricePerKW core.Rappen `json:"price_rp_kw,omitempty"`
	// Amount is a fixed amount (metering, for example).
	Amount core.Rappen `json:"amount_rp,omitempty"`
}

// Run is the result of billing one site over one period.
type Run struct {
	Site       string
	Period     core.Period
	Allocation core.Allocation
	Building   Building
	Invoices   []Invoice
	// Missing lists, per meter, the slots without a value.
	Missing []Missing
	// Warnings are things the office should look at before sending.
	Warnings []string
	// Utility is the pass-through bill used, if any.
	Utility *UtilityBill
}

// Building is the community's energy balance over the period.
type Building struct {
	// Production is the PV plants' output.
	Production core.Energy
	// SelfConsumed is the solar energy allocated to consumers.
	SelfConsumed core.Energy
	// FedIn is Production - SelfConsumed.
	FedIn core.Energy
	// Grid is the grid energy allocated to consumers (Consumption -
	// SelfConsumed, plus any redistributed difference).
	Grid core.Energy
	// Consumption is the sum of all consumer meters.
	Consumption core.Energy
	// GridMeterImport and GridMeterExport are what the utility's meter
	// measured; zero without a grid meter.
	GridMeterImport core.Energy
	GridMeterExport core.Energy
	// Difference is GridMeterImport minus the grid energy allocated from the
	// sub-meters: losses and metering differences. It is added to the
	// consumers' grid energy when the site redistributes it.
	Difference core.Energy
	// Redistributed is the part of Difference added to consumers.
	Redistributed core.Energy
	// Estimated is the consumers' estimated energy.
	Estimated core.Energy
	// Slots is the number of 15-minute intervals in the period.
	Slots int
}

// Missing counts one meter channel's slots without a value.
type Missing struct {
	Meter   string
	Channel store.Channel
	Slots   int
	First   core.Slot // the first missing slot
	Last    core.Slot // the last missing slot
	// Typical sizes the gap: the channel's average energy per interval
	// with a value, times Slots. A rough figure for the warning, not billed.
	Typical core.Energy
	// Unknown marks a consumer meter without a single value in the
	// period: nothing sizes the energy it misses (Typical is 0), so nobody
	// knows how much goes unbilled. Commit refuses such a run unless the
	// office accepts the gap (CommitOptions.Accept).
	Unknown bool
}

// Unknown returns the run's gaps of unknown energy (Missing.Unknown), in
// the order of Missing.
func (r *Run) Unknown() []Missing {
	var out []Missing
	for _, m := range r.Missing {
		if m.Unknown {
			out = append(out, m)
		}
	}
	return out
}

// KWh is an invoice's energy: Solar + Grid = Total, Grid = GridHT + GridNT
// (single-rate grid energy counts as HT).
type KWh struct {
	Solar  core.Energy
	Grid   core.Energy
	GridHT core.Energy
	GridNT core.Energy
	Total  core.Energy
}

// Invoice is one recipient's bill for part of the period.
type Invoice struct {
	// Number is the sequential invoice number of the site; 0 for a draft.
	Number int
	// Key identifies the invoice across re-runs of the same period
	// ("occ:W01:Anna Muster:2026-01-01", "vacant:W01:2026-02-15",
	// "owner", "ev:Person"): Commit reuses numbers by it.
	Key  string
	Site string
	// Unit is the unit billed; empty for the owner's shared-meter invoice
	// and for EV invoices of persons without a unit.
	Unit string
	// Tenant is the recipient's name (the owner for vacancies).
	Tenant string
	// Occupancy is the tenancy billed (zero for owner and EV invoices): the
	// tenant's address, language, reference and advance payments.
	Occupancy core.Occupancy
	// Owner marks invoices to the owner (vacant days, shares billed to the
	// owner, EV energy outside sessions).
	Owner bool
	// From and To are the days billed, within the period.
	From, To core.Date
	// KWh is the energy billed, including shares of common meters and EV.
	KWh KWh
	// Lines are the invoice's lines in print order: charges, subtotal, VAT
	// per rate, rounding, total, advance payments, balance.
	Lines []Line
	// Net is the sum of the charge lines; VAT the sum of the VAT lines;
	// Total = Net + VAT + Rounding; Balance = Total - Advance.
	Net, VAT, Rounding, Total, Advance, Balance core.Rappen
	// EstimatedKWh is the part of the invoice's energy that was estimated
	// rather than measured: of its own meters and of its shares of general
	// electricity, heat pump and EV charging. Σ over a run's invoices =
	// Building.Estimated.
	EstimatedKWh core.Energy
	// Readings are the unit meters' register readings at the invoice's
	// first and after its last day (nil where unknown) and the exchanges
	// between, in site meter order.
	Readings []MeterReadings
}

// MeterReadings is a meter's readings printed on an invoice.
type MeterReadings struct {
	Meter string
	Readings
}

// LineKind says what a line is; reports translate labels by kind.
type LineKind string

// Line kinds. Charge lines add up to the subtotal.
const (
	KindSolar     LineKind = "solar"      // own solar energy
	KindGridHT    LineKind = "grid_ht"    // own grid energy, high tariff (or single rate)
	KindGridNT    LineKind = "grid_nt"    // own grid energy, low tariff
	KindGridFees  LineKind = "grid_fees"  // pass-through: utility charges not tied to HT/NT
	KindBaseFee   LineKind = "base_fee"   // fixed fee per unit and month
	KindMetering  LineKind = "metering"   // metering fee per meter and month
	KindCommon    LineKind = "common"     // share of general electricity
	KindHeatPump  LineKind = "heatpump"   // share of the heat pump
	KindEV        LineKind = "ev"         // EV charging
	KindSubtotal  LineKind = "subtotal"   // sum of the charges (not a charge)
	KindVAT       LineKind = "vat"        // VAT at Line.Rate on Line.Base
	KindRounding  LineKind = "rounding"   // rounding of the total to 5 Rappen
	KindTotal     LineKind = "total"      // total (not a charge)
	KindAdvance   LineKind = "advance"    // advance payments, negative
	KindBalance   LineKind = "balance"    // total less advance payments
	KindDifferent LineKind = "difference" // reserved: the redistributed difference is billed within the grid lines
)

// Charge reports whether lines of kind k add up to the subtotal.
func (k LineKind) Charge() bool {
	switch k {
	case KindSubtotal, KindVAT, KindRounding, KindTotal, KindAdvance, KindBalance:
		return false
	}
	return true
}

// Line is one line of an invoice. Energy lines have Energy and, where one
// price applies, Price; fee lines have Days and Fee (per month); VAT lines
// have Rate and Base.
type Line struct {
	Kind  LineKind
	Label string
	// Energy is the quantity of an energy line.
	Energy core.Energy
	// Price is the price per kWh; 0 where it varies within the line
	// (dynamic prices, pass-through), Amount is then the exact sum.
	Price core.Price
	// Days is the quantity of a fee line; Fee the fee per month (pro rata
	// by day of each month) and Count the number of meters or units.
	Days  int
	Fee   core.Rappen
	Count int
	// Rate is the VAT rate that applies to the line (for VAT lines: the rate
	// charged) and Base a VAT line's taxable amount.
	Rate core.BasisPoints
	Base core.Rappen
	// Amount is the line's amount, rounded to the Rappen.
	Amount core.Rappen
	// Tariff is the first day of the tariff version the line is priced by.
	Tariff core.Date
	// Class is the energy an energy line prices: KindSolar, KindGridHT or
	// KindGridNT. For own lines it equals Kind; for shares of general
	// electricity, heat pump and EV it tells solar from grid energy.
	Class LineKind
	// Varying says why Price is 0 on an energy line: "dynamic" (a dynamic
	// price series) or "utility" (the utility's costs passed through).
	Varying string
}
