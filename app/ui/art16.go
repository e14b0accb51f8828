package ui

// The Art. 16 check beside the solar price in the Tariffs form: core/billing
// gives each line also as a format with its numbers (billing.Text), and the
// window translates it through the "core" catalogues like core's validation
// messages. The label is monospaced and each language pads its line labels
// to one width, so that the numbers stand in a column.

import (
	"strings"

	"fyne.io/fyne/v2/lang"

	"github.com/zevdesk/zevdesk/core/billing"
)

// solarCheckLines returns the check's lines and its verdict, one per line,
// in the window's language.
func solarCheckLines(c *billing.SolarPriceCheck) string {
	lines := make([]string, 0, len(c.Steps)+1)
	for _, s := range append(c.Steps, c.VerdictText) {
		lines = append(lines, solarCheckText(s))
	}
	return strings.Join(lines, "\n")
}

// solarCheckText translates one line; a format this window does not know
// gives the English line.
func solarCheckText(t billing.Text) string {
	tr, ok := solarCheckTexts[t.Format]
	if !ok {
		return t.String()
	}
	return tr(validationArgs(t.Args))
}

// solarCheckTexts translates each format of core/billing/solarcheck.go;
// art16_test.go fails when billing has a format this table lacks.
var solarCheckTexts = map[string]func(a map[string]any) string{
	"solar price            %s CHF/kWh + VAT %s %% = %s CHF/kWh": func(a map[string]any) string {
		return lang.X("core.art16.solarVAT", "solar price            {{.A0}} CHF/kWh + VAT {{.A1}} % = {{.A2}} CHF/kWh", a)
	},
	"solar price            %s CHF/kWh (no VAT)": func(a map[string]any) string {
		return lang.X("core.art16.solar", "solar price            {{.A0}} CHF/kWh (no VAT)", a)
	},
	"standard product       %s CHF/kWh (incl. VAT, HT/NT mix)": func(a map[string]any) string {
		return lang.X("core.art16.standard", "standard product       {{.A0}} CHF/kWh (incl. VAT, HT/NT mix)", a)
	},
	"flat rate limit        80 %% × %s = %s CHF/kWh": func(a map[string]any) string {
		return lang.X("core.art16.flat", "flat rate limit        80 % × {{.A0}} = {{.A1}} CHF/kWh", a)
	},
	"effective-cost limit   %s + (%s − %s) / 2 = %s CHF/kWh": func(a map[string]any) string {
		return lang.X("core.art16.effective", "effective-cost limit   {{.A0}} + ({{.A1}} − {{.A2}}) / 2 = {{.A3}} CHF/kWh", a)
	},
	"effective-cost limit   cost price %s ≥ standard: capped at 100 %% = %s CHF/kWh": func(a map[string]any) string {
		return lang.X("core.art16.capped", "effective-cost limit   cost price {{.A0}} ≥ standard: capped at 100 % = {{.A1}} CHF/kWh", a)
	},
	"effective cost price   %s CHF/kWh (given)": func(a map[string]any) string {
		return lang.X("core.art16.costGiven", "effective cost price   {{.A0}} CHF/kWh (given)", a)
	},
	"capital                (%s − subsidy %s) / %d years + %s %% interest = %s CHF/year": func(a map[string]any) string {
		return lang.X("core.art16.capital", "capital                ({{.A0}} − subsidy {{.A1}}) / {{.A2}} years + {{.A3}} % interest = {{.A4}} CHF/year", a)
	},
	"yearly cost            %s + operation %s + metering/admin %s − feed-in %s = %s CHF": func(a map[string]any) string {
		return lang.X("core.art16.yearly", "yearly cost            {{.A0}} + operation {{.A1}} + metering/admin {{.A2}} − feed-in {{.A3}} = {{.A4}} CHF", a)
	},
	"effective cost price   %s CHF / %s = %s CHF/kWh": func(a map[string]any) string {
		return lang.X("core.art16.cost", "effective cost price   {{.A0}} CHF / {{.A1}} = {{.A2}} CHF/kWh", a)
	},
	"OK: the solar price %s CHF/kWh is within the limit of %s CHF/kWh (the flat rate)": func(a map[string]any) string {
		return lang.X("core.art16.okFlat", "OK: the solar price {{.A0}} CHF/kWh is within the limit of {{.A1}} CHF/kWh (the flat rate)", a)
	},
	"OK: the solar price %s CHF/kWh is within the limit of %s CHF/kWh (the effective-cost method)": func(a map[string]any) string {
		return lang.X("core.art16.okEffective", "OK: the solar price {{.A0}} CHF/kWh is within the limit of {{.A1}} CHF/kWh (the effective-cost method)", a)
	},
	"TOO HIGH: the solar price %s CHF/kWh exceeds the limit of %s CHF/kWh (the flat rate) by %s CHF/kWh": func(a map[string]any) string {
		return lang.X("core.art16.highFlat", "TOO HIGH: the solar price {{.A0}} CHF/kWh exceeds the limit of {{.A1}} CHF/kWh (the flat rate) by {{.A2}} CHF/kWh", a)
	},
	"TOO HIGH: the solar price %s CHF/kWh exceeds the limit of %s CHF/kWh (the effective-cost method) by %s CHF/kWh": func(a map[string]any) string {
		return lang.X("core.art16.highEffective", "TOO HIGH: the solar price {{.A0}} CHF/kWh exceeds the limit of {{.A1}} CHF/kWh (the effective-cost method) by {{.A2}} CHF/kWh", a)
	},
}
