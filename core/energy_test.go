package core

import (
	"math"
	"testing"
)

func TestParseFormatKWh(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Energy
		out  string
	}{
		{"12.5", 12_500_000, "12.500"},
		{"0.000001", 1, "0.000001"},
		{"-0.25", -250_000, "-0.250"},
		{"1696", 1_696_000_000, "1696.000"},
		{".5", 500_000, "0.500"},
		{"3.", 3_000_000, "3.000"},
	} {
		got, err := ParseKWh(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseKWh(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
		if s := FormatKWh(got); s != tc.out {
			t.Errorf("FormatKWh(%d) = %q, want %q", got, s, tc.out)
		}
	}
	for _, bad := range []string{"", "1,5", "1e3", "0.0000001", "abc", "-", ".", "1.2.3", "99999999999999999999"} {
		if _, err := ParseKWh(bad); err == nil {
			t.Errorf("ParseKWh(%q) accepted, want an error", bad)
		}
	}
}

func TestMoney(t *testing.T) {
	if s := Rappen(123450).String(); s != "1234.50" {
		t.Errorf("Rappen.String = %q", s)
	}
	if s := Rappen(-5).String(); s != "-0.05" {
		t.Errorf("Rappen.String = %q", s)
	}
	// Leitfaden Eigenverbrauch, table 1: 1696 kWh × 8.5 Rp = CHF 144.16.
	e, _ := ParseKWh("1696")
	p, _ := ParsePrice("0.085")
	if got := Cost(e, p).Rappen(); got != 14416 {
		t.Errorf("1696 kWh × 8.5 Rp = %v, want 144.16", got)
	}
	// Halves round away from zero: 0.5 Rp → 1 Rp, -0.5 Rp → -1 Rp.
	if got := NanoCHF(5_000_000).Rappen(); got != 1 {
		t.Errorf("0.5 Rp rounds to %d", got)
	}
	if got := NanoCHF(-5_000_000).Rappen(); got != -1 {
		t.Errorf("-0.5 Rp rounds to %d", got)
	}
	if b, _ := ParsePercent("8.1"); b != 810 || b.String() != "8.1" {
		t.Errorf("ParsePercent(8.1) = %d %q", b, b.String())
	}
	// A year of a large building in one line does not overflow: 500 MWh × 0.30 CHF.
	if got := Cost(500*MWh, 300_000).Rappen(); got != 150_000*CHF {
		t.Errorf("500 MWh × 0.30 = %v, want 150000.00", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("Cost did not panic on overflow")
		}
	}()
	Cost(Energy(math.MaxInt64/2), 1_000_000)
}

func TestSwissVAT(t *testing.T) {
	for _, tc := range []struct {
		d    Date
		want BasisPoints
	}{
		{MustDate(2023, 12, 31), 770},
		{MustDate(2024, 1, 1), 810},
		{MustDate(2018, 1, 1), 770},
		{MustDate(2017, 12, 31), 800},
	} {
		if got := SwissVAT(tc.d); got != tc.want {
			t.Errorf("SwissVAT(%s) = %v, want %v", tc.d, got, tc.want)
		}
	}
}
