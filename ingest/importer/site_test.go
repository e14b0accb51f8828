package importer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/shareddata"
)

// designSite is DESIGN.md's site file example, verbatim: it must be accepted
// as written.
const designSite = `id = "birkenweg"
name = "ZEV Birkenweg 12"
timezone = "Europe/Zurich"
allocation = "proportional"          # proportional | equal | balance
vat_number = "CHE-123.456.789 MWST"  # leave out when not VAT-registered

[address]
street = "Birkenweg"
number = "12"
postcode = "3012"
town = "Bern"
country = "CH"

[operator]                           # who bills; the QR-bill creditor
name = "Immo Muster AG"
street = "Marktgasse"
number = "5"
postcode = "3011"
town = "Bern"
country = "CH"
iban = "CH44 3199 9123 0008 8901 2"   # a QR-IBAN gives QRR references, a normal IBAN SCOR

[[units]]
id = "W01"
name = "2.5 Zimmer EG links"
area_m2 = 62.5

[[meters]]
id = "PV"
role = "production"                  # production | grid | unit | common | heatpump | ev
[[meters]]
id = "GRID"
role = "grid"
[[meters]]
id = "M-W01"
role = "unit"
unit = "W01"
[[meters]]
id = "ALLG"
role = "common"
key = "area"                         # units | area | owner

[[tenants]]
unit = "W01"
name = "Anna Muster"
from = 2026-01-01
to = 2026-02-14                      # optional: open-ended without it
language = "de"

[[tariffs]]
from = 2026-01-01
solar_chf_kwh = 0.20
grid_ht_chf_kwh = 0.30
grid_nt_chf_kwh = 0.22
ht = ["mon-fri 07:00-20:00", "sat 07:00-13:00"]   # the rest of the week is NT; a single grid price: grid_chf_kwh, no ht
base_fee_chf_month = 5.00            # per unit and month, pro rata by day
metering_chf_month = 3.00            # per unit meter and month, pro rata by day
vat_percent = 8.1
`

// TestDesignExampleIsCurrent guards against the copy above drifting from
// DESIGN.md.
func TestDesignExampleIsCurrent(t *testing.T) {
	dir := shareddata.Dir()
	if dir == "" {
		t.Skip("shared directory not found")
	}
	b, err := os.ReadFile(filepath.Join(dir, "..", "DESIGN.md"))
	if err != nil {
		t.Skipf("DESIGN.md: %v", err)
	}
	if !strings.Contains(string(b), "```toml\n"+designSite+"```") {
		t.Error("DESIGN.md's site file example differs from designSite in this test")
	}
}

func TestParseSiteDesignExample(t *testing.T) {
	s, err := ParseSite("site.toml", strings.NewReader(designSite))
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "birkenweg" || s.Name != "ZEV Birkenweg 12" || s.Timezone != "Europe/Zurich" ||
		s.Allocation != core.AllocProportional || s.VATNumber != "CHE-123.456.789 MWST" {
		t.Errorf("top level: %+v", s)
	}
	if want := (core.Address{Street: "Birkenweg", Number: "12", Postcode: "3012", Town: "Bern", Country: "CH"}); s.Address != want {
		t.Errorf("address = %+v, want %+v", s.Address, want)
	}
	if s.Operator.Name != "Immo Muster AG" || s.Operator.IBAN != "CH44 3199 9123 0008 8901 2" ||
		s.Operator.Street != "Marktgasse" || s.Operator.Postcode != "3011" {
		t.Errorf("operator = %+v", s.Operator)
	}
	if len(s.Units) != 1 || s.Units[0] != (core.Unit{ID: "W01", Name: "2.5 Zimmer EG links", Area: 6250}) {
		t.Errorf("units = %+v, want W01 with 6250 hundredths of m²", s.Units)
	}
	wantMeters := []core.Meter{
		{ID: "PV", Role: core.RoleProduction},
		{ID: "GRID", Role: core.RoleGrid},
		{ID: "M-W01", Role: core.RoleUnit, Unit: "W01"},
		{ID: "ALLG", Role: core.RoleCommon, Key: core.KeyArea},
	}
	if len(s.Meters) != len(wantMeters) {
		t.Fatalf("meters = %+v", s.Meters)
	}
	for i, m := range wantMeters {
		if s.Meters[i] != m {
			t.Errorf("meters[%d] = %+v, want %+v", i, s.Meters[i], m)
		}
	}
	if len(s.Occupancies) != 1 {
		t.Fatalf("tenants = %+v", s.Occupancies)
	}
	o := s.Occupancies[0]
	if o.Unit != "W01" || o.Name != "Anna Muster" || o.From != core.MustDate(2026, 1, 1) ||
		o.To != core.MustDate(2026, 2, 14) || o.Language != "de" {
		t.Errorf("tenant = %+v", o)
	}
	if len(s.Tariffs) != 1 {
		t.Fatalf("tariffs = %+v", s.Tariffs)
	}
	tar := s.Tariffs[0]
	// Prices in µCHF/kWh, fees in Rappen, VAT in basis points: exact.
	if tar.From != core.MustDate(2026, 1, 1) || tar.Solar != 200_000 || tar.GridHT != 300_000 ||
		tar.GridNT != 220_000 || tar.Grid != 0 || tar.BaseFeeMonth != 500 || tar.MeteringMonth != 300 {
		t.Errorf("tariff = %+v", tar)
	}
	if tar.VAT == nil || *tar.VAT != 810 {
		t.Errorf("vat = %v, want 810 basis points", tar.VAT)
	}
	if len(tar.HT) != 2 || tar.HT[0].String() != "mon-fri 07:00-20:00" || tar.HT[1].String() != "sat 07:00-13:00" {
		t.Errorf("ht = %v", tar.HT)
	}
	// Monday 2026-01-05 08:00 local is HT, Sunday is not.
	loc := s.Location()
	if !tar.HT[0].Contains(time.Date(2026, 1, 5, 8, 0, 0, 0, loc)) || tar.HT[0].Contains(time.Date(2026, 1, 4, 8, 0, 0, 0, loc)) {
		t.Error("HT window mon-fri 07:00-20:00 does not hold Monday 08:00 but not Sunday 08:00")
	}
}

func TestParseSiteWindowsFile(t *testing.T) {
	src := "\uFEFF" + strings.ReplaceAll(designSite, "\n", "\r\n")
	s, err := ParseSite("site.toml", strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "birkenweg" || s.Tariffs[0].Solar != 200_000 {
		t.Errorf("site = %+v", s)
	}
	_, err = ParseSite("site.toml", strings.NewReader(strings.Replace(src, `role = "grid"`, `role = "net"`, 1)))
	if e := (*Error)(nil); !errors.As(err, &e) || e.Line != 33 || e.Element != "meters[1].role" {
		t.Errorf("err = %v, want line 33 meters[1].role", err)
	}
}

func TestParseSiteOptionalKeys(t *testing.T) {
	src := `id = "linde"
name = "ZEV Linde"
owner = "Erbengemeinschaft Linde"
holidays = [2026-01-01, 2026-08-01]

[operator]
name = "Linde Verwaltung"
iban = "CH44 3199 9123 0008 8901 2"
email = "office@example.ch"
phone = "+41 31 000 00 00"

[[units]]
id = "A"
area_m2 = 80.25
quota = 420
weight = 3
[[units]]
id = "B"
area_m2 = 100
quota = 580

[[meters]]
id = "G"
role = "grid"
[[meters]]
id = "MA"
role = "unit"
unit = "A"
max_power_w = 11000
[[meters]]
id = "WP"
role = "heatpump"
key = "quota"

[[tenants]]
unit = "A"
name = "Chloé Martin"
from = 2026-01-01
language = "fr"
reference = "M-1001"
email = "chloe@example.ch"
advance_chf_month = 45.50
[tenants.address]
street = "Lindenweg"
number = "3"
postcode = "8000"
town = "Zürich"
country = "CH"

[[tariffs]]
from = 2026-01-01
solar_chf_kwh = 0.1875
grid_chf_kwh = 0.28
standard_chf_kwh = 0.3125
[[tariffs]]
from = 2025-01-01
solar_chf_kwh = 0.18
grid_chf_kwh = 0.27

[settings]
period = "quarter"
collect_self = true
refuse_missing = true
round_to_5 = true
redistribute = true
balance_tolerance_percent = 2.5
payment_term_days = 20
reminder_days = [14, 10]
reminder_fee_chf = 20.00
`
	s, err := ParseSite("linde.toml", strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if s.Timezone != "Europe/Zurich" || s.Allocation != core.AllocProportional {
		t.Errorf("defaults: timezone %q allocation %q", s.Timezone, s.Allocation)
	}
	if s.Owner != "Erbengemeinschaft Linde" || s.Operator.Email != "office@example.ch" || s.Operator.Phone == "" {
		t.Errorf("owner/operator = %q %+v", s.Owner, s.Operator)
	}
	if want := []core.Date{core.MustDate(2026, 1, 1), core.MustDate(2026, 8, 1)}; len(s.Holidays) != 2 || s.Holidays[0] != want[0] || s.Holidays[1] != want[1] {
		t.Errorf("holidays = %v", s.Holidays)
	}
	if s.Units[0] != (core.Unit{ID: "A", Area: 8025, Quota: 420, Weight: 3}) || s.Units[1].Area != 10000 {
		t.Errorf("units = %+v", s.Units)
	}
	if s.Meters[1].MaxPowerW != 11000 || s.Meters[2].Key != core.KeyQuota {
		t.Errorf("meters = %+v", s.Meters)
	}
	o := s.Occupancies[0]
	if o.Language != "fr" || o.Reference != "M-1001" || o.Email != "chloe@example.ch" || o.AdvanceMonth != 4550 ||
		o.Address.Town != "Zürich" || !o.To.IsZero() {
		t.Errorf("tenant = %+v", o)
	}
	// Validate sorts tariff versions by date.
	if s.Tariffs[0].From != core.MustDate(2025, 1, 1) || s.Tariffs[1].Solar != 187_500 ||
		s.Tariffs[1].Grid != 280_000 || s.Tariffs[1].Standard != 312_500 || s.Tariffs[1].VAT != nil {
		t.Errorf("tariffs = %+v", s.Tariffs)
	}
	want := core.Settings{Period: "quarter", CollectSelf: true, RefuseMissing: true, RoundTo5: true, Redistribute: true,
		BalanceTolerance: 250, PaymentTermDays: 20, ReminderDays: [core.MaxReminders]int{14, 10}, ReminderFee: 2000}
	if s.Settings != want {
		t.Errorf("settings = %+v, want %+v", s.Settings, want)
	}
}

func TestParseSiteErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replace old by new in the DESIGN.md example
		line     int
		element  string
		msg      string // the whole message
	}{
		{"unknown role", `role = "production"`, `role = "pv"`, 30, "meters[0].role",
			`unknown role "pv": expected one of production, grid, unit, common, heatpump, ev`},
		{"unit that does not exist", "unit = \"W01\"\n[[meters]]", "unit = \"W02\"\n[[meters]]", 37, "meters[2].unit",
			`unit "W02" does not exist (define it under [[units]])`},
		{"tenant of a unit that does not exist", "[[tenants]]\nunit = \"W01\"", "[[tenants]]\nunit = \"W9\"", 44, "tenants[0].unit",
			`unit "W9" does not exist (define it under [[units]])`},
		{"overlapping occupancies", `language = "de"`, "language = \"de\"\n[[tenants]]\nunit = \"W01\"\nname = \"Ben Beispiel\"\nfrom = 2026-02-01", 52, "tenants[1].from",
			`tenancy of "Ben Beispiel" in unit W01 overlaps tenants[0] ("Anna Muster", 2026-01-01..2026-02-14)`},
		{"last day before first", `to = 2026-02-14`, `to = 2025-12-31`, 47, "tenants[0].to",
			`last day 2025-12-31 is before the first day 2026-01-01`},
		{"tariff without a grid price", "grid_ht_chf_kwh = 0.30\ngrid_nt_chf_kwh = 0.22\nht = [\"mon-fri 07:00-20:00\", \"sat 07:00-13:00\"]", "", 50, "tariffs[0]",
			`expected a grid price: either grid_chf_kwh, or grid_ht_chf_kwh, grid_nt_chf_kwh and ht`},
		{"tariff with both prices", `solar_chf_kwh = 0.20`, "solar_chf_kwh = 0.20\ngrid_chf_kwh = 0.25", 53, "tariffs[0].grid_chf_kwh",
			`a tariff has either a single grid price or HT/NT prices, not both`},
		{"invalid IBAN", `8901 2"`, `8901 3"`, 21, "operator.iban",
			`IBAN "CH44 3199 9123 0008 8901 3": check digits do not match (mistyped?)`},
		{"bad time zone", `"Europe/Zurich"`, `"Europe/Zurch"`, 3, "timezone",
			`unknown time zone "Europe/Zurch": expected an IANA name such as Europe/Zurich`},
		{"bad date", `from = 2026-01-01` + "\nto", `from = 2026-02-30` + "\nto", 46, "tenants[0].from",
			`invalid datetime: "2026-02-30": expected a date such as 2026-01-31`},
		{"bad date as text", `to = 2026-02-14`, `to = "14.02.2026"`, 47, "tenants[0].to",
			`expected a date such as 2026-01-31, got "14.02.2026"`},
		{"date with a time", `to = 2026-02-14`, `to = 2026-02-14T12:00:00Z`, 47, "tenants[0].to",
			`expected a date such as 2026-01-31 without a time, got date-time 2026-02-14T12:00:00Z`},
		{"wrong type", `area_m2 = 62.5`, `area_m2 = "62.5"`, 26, "units[0].area_m2",
			`expected an area in m² such as 62.5, got string "62.5"`},
		{"wrong type in a tenant's address", `language = "de"`, "language = \"de\"\n[tenants.address]\ntown = 5", 50, "tenants[0].address.town",
			`expected a string, got integer 5`},
		{"wrong type for a string", `name = "Immo Muster AG"`, `name = 42`, 15, "operator.name",
			`expected a string, got integer 42`},
		{"unknown key", "role = \"grid\"", "role = \"grid\"\ncolour = \"red\"", 34, "meters[1].colour",
			`unknown key "colour": meters[1] has id, name, role, unit, key, max_power_w, metering_point, since, retired (see docs/site-file.md)`},
		{"unknown top-level key", `allocation = "proportional"`, `alocation = "proportional"`, 4, "alocation",
			`unknown key "alocation": did you mean "allocation"? the top level has id, name, timezone, allocation, vat_number, owner, address, operator, units, meters, tenants, tariffs, holidays, settings (see docs/site-file.md)`},
		{"bad window", `"sat 07:00-13:00"`, `"sat 13:00-07:00"`, 55, "tariffs[0].ht[1]",
			`"sat 13:00-07:00": the window ends before it starts: expected a window such as "mon-fri 07:00-20:00" or "sat 07:00-13:00"`},
		{"bad window day", `"mon-fri 07:00-20:00"`, `"mo-fr 07:00-20:00"`, 55, "tariffs[0].ht[0]",
			`"mo-fr 07:00-20:00": unknown day "mo": expected a window such as "mon-fri 07:00-20:00" or "sat 07:00-13:00"`},
		{"price with too many decimals", `solar_chf_kwh = 0.20`, `solar_chf_kwh = 0.2000001`, 52, "tariffs[0].solar_chf_kwh",
			`expected a price in CHF per kWh with at most 6 decimals, got 0.2000001`},
		{"fee with too many decimals", `base_fee_chf_month = 5.00`, `base_fee_chf_month = 5.005`, 56, "tariffs[0].base_fee_chf_month",
			`expected an amount in CHF with at most 2 decimals, got 5.005`},
		{"unknown allocation", `"proportional"`, `"fair"`, 4, "allocation",
			`unknown allocation "fair": expected proportional, equal or balance`},
		{"unknown key value", `key = "area"`, `key = "floor"`, 41, "meters[3].key",
			`unknown key "floor": expected one of units, area, quota, custom, owner`},
		{"second grid meter", `id = "PV"` + "\nrole = \"production\"", `id = "PV"` + "\nrole = \"grid\"", 33, "meters[1].role",
			`a site has one grid meter; "GRID" is a second one`},
		{"duplicate key", `town = "Bern"` + "\ncountry = \"CH\"\n\n[operator]", `town = "Bern"` + "\ntown = \"Thun\"\ncountry = \"CH\"\n\n[operator]", 12, "address.town",
			`Key 'address.town' has already been defined.`},
		{"missing operator name", `name = "Immo Muster AG"`, ``, 14, "operator.name",
			`expected the operator's name (the creditor of the invoices)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(designSite, tt.old, tt.new, 1)
			if src == designSite {
				t.Fatalf("%q is not in the example", tt.old)
			}
			_, err := ParseSite("site.toml", strings.NewReader(src))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *importer.Error", err, err)
			}
			if e.File != "site.toml" || e.Line != tt.line || e.Element != tt.element || e.Msg != tt.msg {
				t.Errorf("got  %s:%d: %s: %s\nwant %s:%d: %s: %s", e.File, e.Line, e.Element, e.Msg, "site.toml", tt.line, tt.element, tt.msg)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	_, err := ParseSite("site.toml", strings.NewReader(strings.Replace(designSite, `role = "production"`, `role = "pv"`, 1)))
	want := `site.toml:30: meters[0].role: unknown role "pv": expected one of production, grid, unit, common, heatpump, ev`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
}

func TestKeyLinesSkipsMultiLineValues(t *testing.T) {
	src := `a = 1
b = """
c = not a key
"""
d = [
  "e = not a key",
  {f = 1},
]
[[x]]
g = 'it''s' # h = 2
[[x]]
g = 3
[t . "q"]
r = 4
[[x.y]]
[x.z]
s = 5
`
	kl := scanKeyLines([]byte(src))
	want := map[string]int{"a": 1, "b": 2, "d": 5, "x": 9, "x[0]": 9, "x[0].g": 10, "x[1]": 11, "x[1].g": 12, "t.q": 13, "t.q.r": 14,
		"x[1].y[0]": 15, "x[1].z": 16, "x[1].z.s": 17}
	for k, n := range want {
		if kl[k] != n {
			t.Errorf("line of %s = %d, want %d", k, kl[k], n)
		}
	}
	for _, k := range []string{"c", "e", "f", "h", "d.f"} {
		if _, ok := kl[k]; ok {
			t.Errorf("%s found at line %d; it is inside a value", k, kl[k])
		}
	}
	if kl.find("x[1].g[3]") != 12 || kl.find("x[1].nope") != 11 || kl.find("zz") != 0 {
		t.Error("find does not fall back to the enclosing element")
	}
}

// TestSiteFileDocsCoverEveryKey checks docs/site-file.md against the parser:
// every key a table accepts (as its unknown-key error lists them) is
// documented there.
// TestParseSiteCollectionSettings checks the payment term and reminder
// schedule keys' errors, each naming its line and element.
func TestParseSiteCollectionSettings(t *testing.T) {
	for _, tt := range []struct{ settings, element, msg string }{
		{"payment_term_days = 400", "settings.payment_term_days", "400: expected 1 to 365 days"},
		{"payment_term_days = 2.5", "settings.payment_term_days", "expected a number of days (a whole number), got number 2.5"},
		{"reminder_days = [10, 0]", "settings.reminder_days[1]", "expected a number of days from 1 to 365, got integer 0"},
		{"reminder_days = [1, 2, 3, 4, 5, 6]", "settings.reminder_days", "expected at most 5 reminders"},
		{"reminder_fee_chf = -5", "settings.reminder_fee_chf", "-5.00: expected a fee of 0 or more"},
	} {
		src := designSite + "\n[settings]\n" + tt.settings + "\n"
		_, err := ParseSite("site.toml", strings.NewReader(src))
		var e *Error
		if !errors.As(err, &e) || e.Element != tt.element || e.Msg != tt.msg || e.Line != strings.Count(src, "\n") {
			t.Errorf("%s: %v (line %d), want line %d: %s: %s", tt.settings, err, e.Line, strings.Count(src, "\n"), tt.element, tt.msg)
		}
	}
	s, err := ParseSite("site.toml", strings.NewReader(designSite))
	if err != nil {
		t.Fatal(err)
	}
	if s.Settings.PaymentTerm() != 30 || fmt.Sprint(s.Settings.Reminders()) != "[10 10 10]" {
		t.Errorf("defaults: term %d, reminders %v", s.Settings.PaymentTerm(), s.Settings.Reminders())
	}
}

func TestSiteFileDocsCoverEveryKey(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "site-file.md"))
	if err != nil {
		t.Fatal(err)
	}
	tables := []struct{ header, path string }{
		{"", "the top level"},
		{"[address]", "address"},
		{"[operator]", "operator"},
		{"[owner]", "owner"},
		{"[[units]]", "units[1]"},
		{"[[meters]]", "meters[4]"},
		{"[[tenants]]", "tenants[1]"},
		{"[tenants.address]", "tenants[1].address"},
		{"[[tariffs]]", "tariffs[1]"},
		{"[settings]", "settings"},
	}
	for _, tb := range tables {
		// A table header with only the unknown key; for arrays a new
		// element, whose other keys are then missing, but the unknown key
		// is reported first.
		src := designSite + "\n" + tb.header + "\nzz_unknown = 1\n"
		if tb.header == "" {
			src = "zz_unknown = 1\n" + designSite
		}
		if tb.header == "[address]" || tb.header == "[operator]" {
			src = strings.Replace(designSite, tb.header, tb.header+"\nzz_unknown = 1", 1)
		}
		if tb.header == "[tenants.address]" {
			src = designSite + "\n[[tenants]]\n[tenants.address]\nzz_unknown = 1\n"
		}
		_, err := ParseSite("site.toml", strings.NewReader(src))
		var e *Error
		if !errors.As(err, &e) || !strings.HasPrefix(e.Msg, `unknown key "zz_unknown": `+tb.path+" has ") {
			t.Fatalf("%s: err = %v", tb.path, err)
		}
		list := strings.TrimSuffix(strings.TrimPrefix(e.Msg, `unknown key "zz_unknown": `+tb.path+" has "), " (see docs/site-file.md)")
		for _, k := range strings.Split(list, ", ") {
			if !strings.Contains(string(doc), "| `"+k+"` |") && !strings.Contains(string(doc), "| `["+k+"]` |") &&
				!strings.Contains(string(doc), "| `[["+k+"]]` |") && !strings.Contains(string(doc), "| `[tenants."+k+"]` |") {
				t.Errorf("key %s of %s is not documented in a table of docs/site-file.md", k, tb.path)
			}
		}
	}
}
