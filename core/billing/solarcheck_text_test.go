package billing

import (
	"strings"
	"testing"

	"github.com/zevdesk/zevdesk/core"
)

// TestSolarPriceCheckTexts: every line and verdict of the Art. 16 check
// comes with its format and arguments, which give exactly the English line,
// and the arguments are numbers only (a word among them could not be
// translated).
func TestSolarPriceCheckTexts(t *testing.T) {
	tar := core.Tariff{Solar: price("0.17"), Standard: price("0.20")}
	yearly := &SolarCosts{Investment: chf("30000"), Subsidy: chf("5000"), Years: 25, Interest: 200,
		Operation: chf("400"), Metering: chf("300"), FeedIn: chf("600"), SelfConsumed: kwhE("10000")}
	verdicts := map[string]bool{}
	for _, tc := range []struct {
		solar core.Price
		vat   core.BasisPoints
		costs *SolarCosts
		want  string // a line the check must have
	}{
		{price("0.15"), 810, nil, "solar price            0.15 CHF/kWh + VAT 8.1 % = 0.16215 CHF/kWh"},
		{price("0.15"), 0, nil, "flat rate limit        80 % × 0.20 = 0.16 CHF/kWh"},
		{price("0.17"), 0, &SolarCosts{CostPrice: price("0.16")}, "effective cost price   0.16 CHF/kWh (given)"},
		{price("0.185"), 0, &SolarCosts{CostPrice: price("0.16")}, "effective-cost limit   0.16 + (0.20 − 0.16) / 2 = 0.18 CHF/kWh"},
		{price("0.20"), 0, &SolarCosts{CostPrice: price("0.25")}, "effective-cost limit   cost price 0.25 ≥ standard: capped at 100 % = 0.20 CHF/kWh"},
		{price("0.17"), 0, yearly, "effective cost price   1600.00 CHF / 10000.000 kWh = 0.16 CHF/kWh"},
		{price("0.19"), 0, yearly, "capital                (30000.00 − subsidy 5000.00) / 25 years + 2 % interest = 1500.00 CHF/year"},
	} {
		tar.Solar = tc.solar
		c, err := CheckSolarPrice(tar, tc.vat, tc.costs)
		if err != nil {
			t.Fatal(err)
		}
		all := append(c.Lines, c.Verdict)
		texts := append(c.Steps, c.VerdictText)
		if len(texts) != len(all) {
			t.Fatalf("%d lines, %d texts", len(all), len(texts))
		}
		for i, x := range texts {
			if x.String() != all[i] {
				t.Errorf("text %q with %v gives %q, the line is %q", x.Format, x.Args, x.String(), all[i])
			}
			for _, a := range x.Args {
				switch a.(type) {
				case core.Price, core.Rappen, core.BasisPoints, core.Energy, int:
				default:
					t.Errorf("%q: argument %v is a %T", x.Format, a, a)
				}
			}
		}
		if !strings.Contains(strings.Join(all, "\n"), tc.want) {
			t.Errorf("lines:\n%s\nwant a line %q", strings.Join(all, "\n"), tc.want)
		}
		verdicts[c.VerdictText.Format] = true
	}
	if len(verdicts) != 4 {
		t.Errorf("the cases reach %d of the 4 verdicts", len(verdicts))
	}
}
