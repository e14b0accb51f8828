package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The plant's effective costs, stored once, feed every later tariff check:
// (30000 − 5000) / 25 + 2 % of 25000 = 1500 CHF capital, + 400 operation +
// 300 metering − 600 feed-in = 1600 CHF over 10000 kWh = 0.16 CHF/kWh; the
// standard product is 0.28, so the limit is 0.16 + (0.28 − 0.16) / 2 = 0.22
// (the flat rate's 0.224 is higher here and decides).
func TestTariffCosts(t *testing.T) {
	db := billDB(t)
	dir := t.TempDir()
	f := filepath.Join(dir, "costs.toml")
	os.WriteFile(f, []byte(`investment_chf = 30000
subsidy_chf = 5000
years = 25
interest_percent = 2
operation_chf_year = 400
metering_chf_year = 300
feed_in_chf_year = 600
self_consumed_kwh_year = 10000
`), 0o600)
	code, out, errs := run(t, db, "tariff", "costs", "--site", "birke", f)
	if code != 0 || !strings.Contains(out, "= 1500.00 CHF/year") || !strings.Contains(out, "cost price 0.16 CHF/kWh") {
		t.Fatalf("store: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = run(t, db, "tariff", "costs", "--site", "birke")
	if code != 0 || !strings.Contains(out, "1600.00 CHF / 10000.000 kWh = 0.16 CHF/kWh") {
		t.Errorf("show: exit %d\n%s", code, out)
	}
	code, out, errs = run(t, db, "tariff", "check", "--site", "birke")
	if code != 0 || !strings.Contains(out, "effective-cost limit   0.16 + (0.28 − 0.16) / 2 = 0.22") {
		t.Errorf("check with stored costs: exit %d\n%s%s", code, out, errs)
	}

	for _, c := range []struct{ file, msg string }{
		{"investment_chf = 30000\nself_consumed_kwh_year = 10000\n", "years: expected the depreciation period"},
		{"years = 25\n", "self_consumed_kwh_year: expected"},
		{"cost_price_chf_kwh = -0.1\n", "cost_price_chf_kwh: expected a positive price"},
		{"cost_price = 0.1\n", "unknown key cost_price"},
	} {
		bad := filepath.Join(dir, "bad.toml")
		os.WriteFile(bad, []byte(c.file), 0o600)
		code, _, errs := run(t, db, "tariff", "costs", "--site", "birke", bad)
		if code != 1 || !strings.Contains(errs, "bad.toml: ") || !strings.Contains(errs, c.msg) {
			t.Errorf("%q: exit %d %s; want %q", c.file, code, errs, c.msg)
		}
	}
	// A bad file leaves the stored costs alone.
	if code, out, _ := run(t, db, "tariff", "costs", "--site", "birke"); code != 0 || !strings.Contains(out, "cost price 0.16") {
		t.Errorf("after bad files: exit %d\n%s", code, out)
	}
}

// The format shown by tariff costs --help is accepted as written.
func TestTariffCostsHelpExample(t *testing.T) {
	var file []string
	for _, l := range strings.Split(costsHelp, "\n") {
		if strings.HasPrefix(l, "  ") && strings.Contains(l, " = ") && !strings.Contains(l, "cost_price") {
			file = append(file, strings.TrimSpace(l))
		}
	}
	c, err := parseCosts("help", []byte(strings.Join(file, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if _, cp, err := c.Arithmetic(); err != nil || cp != 160_000 {
		t.Errorf("help example: cost price %s, %v; want 0.16", cp, err)
	}
}
