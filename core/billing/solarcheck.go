package billing

import (
	"errors"
	"fmt"

	"github.com/zevdesk/zevdesk/core"
)

// SolarCosts are a plant's effective yearly costs for the Energy Ordinance
// Art. 16 check (effective-cost method). Either CostPrice is given, or the
// yearly figures from which it is computed.
type SolarCosts struct {
	// CostPrice is the cost of a self-consumed kWh if already known; when
	// set, the other fields are ignored.
	CostPrice core.Price `json:"cost_price,omitempty"`
	// Investment is the plant's cost and Subsidy the one-off subsidy that
	// reduces it; the rest is depreciated over Years and bears interest at
	// Interest per year.
	Investment core.Rappen      `json:"investment,omitempty"`
	Subsidy    core.Rappen      `json:"subsidy,omitempty"`
	Years      int              `json:"years,omitempty"`
	Interest   core.BasisPoints `json:"interest,omitempty"`
	// Operation, Metering (metering and administration) and FeedIn
	// (revenue from energy fed into the grid, deducted) are per year.
	Operation core.Rappen `json:"operation,omitempty"`
	Metering  core.Rappen `json:"metering,omitempty"`
	FeedIn    core.Rappen `json:"feed_in,omitempty"`
	// SelfConsumed is the solar energy consumed in the community per year.
	SelfConsumed core.Energy `json:"self_consumed,omitempty"`
}

// SolarPriceCheck is the result of the Art. 16 check: the arithmetic, line
// by line, and the verdict. All prices per kWh include VAT, like the
// standard product they are compared with.
type SolarPriceCheck struct {
	Solar    core.Price // the solar price charged, incl. VAT
	Standard core.Price // the utility's standard product, incl. VAT
	// FlatMax is 80 % of Standard: the flat-rate limit.
	FlatMax core.Price
	// CostPrice is the effective cost per kWh (0 without SolarCosts) and
	// EffectiveMax the limit under the effective-cost method: CostPrice plus
	// half the saving against Standard, at most Standard.
	CostPrice    core.Price
	EffectiveMax core.Price
	// Max is the higher applicable limit; OK reports Solar <= Max.
	Max     core.Price
	OK      bool
	Lines   []string
	Verdict string
	// Steps are Lines and VerdictText is Verdict before formatting, so
	// that a user interface can translate them.
	Steps       []Text
	VerdictText Text
}

// Text is a line of the check before formatting: a fmt format, in which
// every word is, and its arguments, numbers only (core.Price, core.Rappen,
// core.BasisPoints, core.Energy, int).
type Text struct {
	Format string
	Args   []any
}

// String formats t in English.
func (t Text) String() string { return fmt.Sprintf(t.Format, t.Args...) }

// ErrNoStandardPrice is returned by CheckSolarPrice when the tariff has no
// standard product price to compare with.
var ErrNoStandardPrice = errors.New("the tariff has no standard product price (standard_chf_kwh)")

// ErrNoSelfConsumed and ErrNoYears are returned by CheckSolarPrice when the
// stored solar costs lack what the cost price is computed from.
var (
	ErrNoSelfConsumed = errors.New("solar costs: expected the yearly self-consumed energy (or a cost price)")
	ErrNoYears        = errors.New("solar costs: expected the depreciation period in years")
)

// CheckSolarPrice checks tariff t's solar price against Energy Ordinance
// Art. 16: a flat rate of at most 80 % of the standard electricity product,
// or, with costs, the effective cost price plus at most half of the saving,
// capped at 100 % of the standard product. vat is the VAT rate added to the
// solar price on invoices.
func CheckSolarPrice(t core.Tariff, vat core.BasisPoints, costs *SolarCosts) (*SolarPriceCheck, error) {
	if t.Standard <= 0 {
		return nil, ErrNoStandardPrice
	}
	c := &SolarPriceCheck{Standard: t.Standard}
	c.Solar = core.Price(core.DivRound(int64(t.Solar)*int64(10000+vat), 10000))
	add := func(format string, args ...any) {
		c.Steps = append(c.Steps, Text{format, args})
		c.Lines = append(c.Lines, fmt.Sprintf(format, args...))
	}
	if vat != 0 {
		add("solar price            %s CHF/kWh + VAT %s %% = %s CHF/kWh", t.Solar, vat, c.Solar)
	} else {
		add("solar price            %s CHF/kWh (no VAT)", c.Solar)
	}
	add("standard product       %s CHF/kWh (incl. VAT, HT/NT mix)", c.Standard)
	c.FlatMax = core.Price(core.DivRound(int64(t.Standard)*80, 100))
	add("flat rate limit        80 %% × %s = %s CHF/kWh", c.Standard, c.FlatMax)
	c.Max = c.FlatMax
	if costs != nil {
		cp, err := costs.costPrice(add)
		if err != nil {
			return nil, err
		}
		c.CostPrice = cp
		if cp < c.Standard {
			half := core.Price(core.DivRound(int64(c.Standard-cp), 2))
			c.EffectiveMax = cp + half
			add("effective-cost limit   %s + (%s − %s) / 2 = %s CHF/kWh", cp, c.Standard, cp, c.EffectiveMax)
		} else {
			c.EffectiveMax = c.Standard
			add("effective-cost limit   cost price %s ≥ standard: capped at 100 %% = %s CHF/kWh", cp, c.Standard)
		}
		c.Max = max(c.Max, c.EffectiveMax)
	}
	c.OK = c.Solar <= c.Max
	flat := c.Max == c.FlatMax
	// One format per method, so that its name is translated with the line.
	switch {
	case c.OK && flat:
		c.VerdictText = Text{"OK: the solar price %s CHF/kWh is within the limit of %s CHF/kWh (the flat rate)", []any{c.Solar, c.Max}}
	case c.OK:
		c.VerdictText = Text{"OK: the solar price %s CHF/kWh is within the limit of %s CHF/kWh (the effective-cost method)", []any{c.Solar, c.Max}}
	case flat:
		c.VerdictText = Text{"TOO HIGH: the solar price %s CHF/kWh exceeds the limit of %s CHF/kWh (the flat rate) by %s CHF/kWh",
			[]any{c.Solar, c.Max, c.Solar - c.Max}}
	default:
		c.VerdictText = Text{"TOO HIGH: the solar price %s CHF/kWh exceeds the limit of %s CHF/kWh (the effective-cost method) by %s CHF/kWh",
			[]any{c.Solar, c.Max, c.Solar - c.Max}}
	}
	c.Verdict = c.VerdictText.String()
	return c, nil
}

func (s *SolarCosts) costPrice(add func(string, ...any)) (core.Price, error) {
	if s.CostPrice > 0 {
		add("effective cost price   %s CHF/kWh (given)", s.CostPrice)
		return s.CostPrice, nil
	}
	if s.SelfConsumed <= 0 {
		return 0, ErrNoSelfConsumed
	}
	var capital core.Rappen
	if s.Investment > 0 {
		if s.Years <= 0 {
			return 0, ErrNoYears
		}
		net := s.Investment - s.Subsidy
		dep := core.Rappen(core.DivRound(int64(net), int64(s.Years)))
		interest := core.Rappen(core.DivRound(int64(net)*int64(s.Interest), 10000))
		capital = dep + interest
		add("capital                (%s − subsidy %s) / %d years + %s %% interest = %s CHF/year",
			s.Investment, s.Subsidy, s.Years, s.Interest, capital)
	}
	year := capital + s.Operation + s.Metering - s.FeedIn
	add("yearly cost            %s + operation %s + metering/admin %s − feed-in %s = %s CHF",
		capital, s.Operation, s.Metering, s.FeedIn, year)
	// Rappen per year over mWh per year, in µCHF per kWh.
	cp := core.Price(core.DivRound(int64(year)*10_000*int64(core.KWh), int64(s.SelfConsumed)))
	add("effective cost price   %s CHF / %s = %s CHF/kWh", year, s.SelfConsumed, cp) // Energy prints "… kWh"
	return cp, nil
}

// Arithmetic returns how the effective cost price of a self-consumed kWh
// follows from s, line by line, and the cost price.
func (s *SolarCosts) Arithmetic() ([]string, core.Price, error) {
	var lines []string
	cp, err := s.costPrice(func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) })
	return lines, cp, err
}
