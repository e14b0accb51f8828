package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// billDB creates a database with a two-unit site: on every interval of
// January 2026, W01 uses 0.1 kWh, W02 0.3 kWh, PV gives 0.2 kWh.
func billDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "z.db")
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d := func(s string) core.Date { v, _ := core.ParseDate(s); return v }
	site := &core.Site{ID: "birke", Name: "ZEV Birke", Timezone: "Europe/Zurich",
		VATNumber: "CHE-123.456.789 MWST",
		Operator:  core.Operator{Name: "Immo Muster AG"},
		Units:     []core.Unit{{ID: "W01"}, {ID: "W02"}},
		Meters: []core.Meter{{ID: "PV", Role: core.RoleProduction}, {ID: "GRID", Role: core.RoleGrid},
			{ID: "M1", Role: core.RoleUnit, Unit: "W01"}, {ID: "M2", Role: core.RoleUnit, Unit: "W02"}},
		Occupancies: []core.Occupancy{{Unit: "W01", Name: "Anna Muster", From: d("2025-01-01"), To: d("2026-01-15")},
			{Unit: "W02", Name: "Beat Beispiel", From: d("2025-01-01")}},
		Tariffs: []core.Tariff{{From: d("2025-01-01"), Solar: 200_000, Grid: 300_000, BaseFeeMonth: 500, Standard: 280_000}},
	}
	if err := site.Validate(); err != nil {
		t.Fatal(err)
	}
	loc := site.Location()
	from, to := core.Period{From: d("2026-01-01"), To: d("2026-01-31")}.Slots(loc)
	vals := func(kwh core.Energy) []store.Value {
		var vs []store.Value
		for s := from; s < to; s++ {
			vs = append(vs, store.Value{Slot: s, Energy: kwh, Quality: store.Measured})
		}
		return vs
	}
	err = st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(site); err != nil {
			return err
		}
		for _, x := range []struct {
			m  string
			ch store.Channel
			e  core.Energy
		}{{"M1", store.Import, 100_000}, {"M2", store.Import, 300_000}, {"PV", store.Export, 200_000}, {"GRID", store.Import, 200_000}} {
			if _, err := tx.PutIntervals(store.SeriesID{Site: "birke", Meter: x.m, Channel: x.ch}, vals(x.e), store.KeepFirst); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

type billJSON struct {
	Site     string `json:"site"`
	From     string `json:"from"`
	Building struct {
		Production   json.Number `json:"production_kwh"`
		SelfConsumed json.Number `json:"self_consumed_kwh"`
		FedIn        json.Number `json:"fed_in_kwh"`
		Grid         json.Number `json:"grid_kwh"`
		Consumption  json.Number `json:"consumption_kwh"`
	} `json:"building"`
	Invoices []struct {
		Number *int   `json:"number"`
		Unit   string `json:"unit"`
		Tenant string `json:"tenant"`
		From   string `json:"from"`
		To     string `json:"to"`
		KWh    struct {
			Solar, Grid, Total json.Number
		} `json:"kwh"`
		Lines []struct {
			Label, Unit, Price, Amount string
			Quantity                   *json.Number
		} `json:"lines"`
		Net, VAT, Total string
		Estimated       json.Number `json:"estimated_kwh"`
	} `json:"invoices"`
}

func TestBillJSONAndFinal(t *testing.T) {
	db := billDB(t)
	code, out, errs := run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var j billJSON
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&j); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// 31 days × 96 intervals; S = 0.2 of C = 0.4 per interval.
	b := j.Building
	if b.Production != "595.2" && b.Production != "595.200" {
		t.Errorf("production %s", b.Production)
	}
	if b.SelfConsumed != "595.200" || b.Consumption != "1190.400" || b.Grid != "595.200" || b.FedIn != "0.000" {
		t.Errorf("building %+v", b)
	}
	if len(j.Invoices) != 3 {
		t.Fatalf("%d invoices, want Anna, a vacancy and Beat", len(j.Invoices))
	}
	anna := j.Invoices[0]
	if anna.Number != nil || anna.Tenant != "Anna Muster" || anna.To != "2026-01-15" {
		t.Errorf("first invoice: number %v tenant %q to %s", anna.Number, anna.Tenant, anna.To)
	}
	// 15 days × 96 × 0.05 kWh solar = 72 kWh × 0.20 = 14.40, grid 72 × 0.30
	// = 21.60, base fee 15/31 × 5.00 = 2.42: net 38.42, VAT 8.1 % 3.11.
	if anna.KWh.Solar != "72.000" || anna.Net != "38.42" || anna.VAT != "3.11" || anna.Total != "41.53" {
		t.Errorf("Anna: solar %s net %s VAT %s total %s", anna.KWh.Solar, anna.Net, anna.VAT, anna.Total)
	}
	if l := anna.Lines[0]; l.Label != "Solar energy" || l.Unit != "kWh" || l.Price != "0.20" || l.Amount != "14.40" ||
		l.Quantity == nil || *l.Quantity != "72.000" {
		t.Errorf("first line %+v", l)
	}
	if vac := j.Invoices[1]; vac.Tenant != "Immo Muster AG" || vac.From != "2026-01-16" || vac.Unit != "W01" {
		t.Errorf("vacancy invoice %+v", vac)
	}

	// The readable table.
	code, out, _ = run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--lines")
	if code != 0 || !strings.Contains(out, "Anna Muster") || !strings.Contains(out, "draft") || !strings.Contains(out, "Solar energy") {
		t.Errorf("table (exit %d):\n%s", code, out)
	}

	// --final numbers 1..3 and locks; a second --final is refused, a dry
	// run shows the committed numbers.
	code, out, errs = run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--final", "--json")
	if code != 0 {
		t.Fatalf("final: exit %d: %s", code, errs)
	}
	j = billJSON{}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	for i, inv := range j.Invoices {
		if inv.Number == nil || *inv.Number != i+1 {
			t.Errorf("invoice %d number %v", i, inv.Number)
		}
	}
	code, _, errs = run(t, db, "bill", "--site", "birke", "--from", "2026-01-16", "--to", "2026-02-15", "--final")
	if code != 1 || !strings.Contains(errs, "locked") {
		t.Errorf("billing into a locked period: exit %d, %s", code, errs)
	}
	code, out, _ = run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--json")
	j = billJSON{}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != 0 || j.Invoices[2].Number == nil || *j.Invoices[2].Number != 3 {
		t.Errorf("dry run of the billed period: exit %d %v", code, err)
	}

	// Unlock, bill again: the same numbers, and February continues at 4.
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx store.Tx) error {
		return tx.UnlockPeriod("birke", core.Period{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 1, 31)})
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs = run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--final", "--json")
	j = billJSON{}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != 0 {
		t.Fatalf("re-bill: exit %d %v %s", code, err, errs)
	}
	for i, inv := range j.Invoices {
		if inv.Number == nil || *inv.Number != i+1 {
			t.Errorf("re-billed invoice %d number %v", i, inv.Number)
		}
	}
	// February has no data at all: finalized only when accepted.
	code, _, errs = run(t, db, "bill", "--site", "birke", "--from", "2026-02-01", "--to", "2026-02-28", "--final", "--json")
	if code != 1 || !strings.Contains(errs, "meter M1: no value in 2'688 of 2'688 intervals (1.2.–28.2.2026), unknown amount") {
		t.Errorf("February without any data: exit %d %s", code, errs)
	}
	code, out, errs = run(t, db, "bill", "--site", "birke", "--from", "2026-02-01", "--to", "2026-02-28", "--final", "--json",
		"--accept-missing")
	if code != 0 {
		t.Fatalf("February: exit %d %s", code, errs)
	}
	j = billJSON{}
	if err := json.Unmarshal([]byte(out), &j); err != nil || *j.Invoices[0].Number != 4 {
		t.Errorf("February numbers continue at 4: %v", err)
	}
	if !strings.Contains(errs, "missing") {
		t.Errorf("February has no data: no warning on stderr: %q", errs)
	}
}

func TestBillArguments(t *testing.T) {
	db := billDB(t)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"bill", "--from", "2026-01-01", "--to", "2026-01-31"}, 1, "--site is required"},
		{[]string{"bill", "--site", "birke", "--from", "2026-13-01", "--to", "2026-01-31"}, 1, "--from: invalid date"},
		{[]string{"bill", "--site", "birke", "--from", "2026-02-01", "--to", "2026-01-31"}, 1, "before"},
		{[]string{"bill", "--site", "nope", "--from", "2026-01-01", "--to", "2026-01-31"}, 1, `site "nope"`},
		{[]string{"bill", "--site", "birke", "--from", "2024-01-01", "--to", "2024-01-31"}, 1, "no tariff in force on 2024-01-01"},
	} {
		code, _, errs := run(t, db, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, %q; want %d and %q", c.args, code, errs, c.code, c.msg)
		}
	}
}

func TestTariffCheck(t *testing.T) {
	db := billDB(t)
	// Flat rate: 0.20 + 8.1 % = 0.2162 > 80 % of 0.28 = 0.224? No: within.
	code, out, errs := run(t, db, "tariff", "check", "--site", "birke")
	if code != 0 || !strings.Contains(out, "80 % × 0.28 = 0.224") || !strings.Contains(out, "OK") {
		t.Errorf("flat rate: exit %d\n%s%s", code, out, errs)
	}
	// Cost price 0.16 against 0.28: at most 0.16 + 0.06 = 0.22.
	code, out, _ = run(t, db, "tariff", "check", "--site", "birke", "--cost-price", "0.16")
	if code != 0 || !strings.Contains(out, "0.16 + (0.28 − 0.16) / 2 = 0.22") {
		t.Errorf("cost price: exit %d\n%s", code, out)
	}
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx store.Tx) error {
		s, _ := tx.Site("birke")
		s.Tariffs[0].Solar = 250_000
		return tx.PutSite(s)
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs = run(t, db, "tariff", "check", "--site", "birke")
	if code != 1 || !strings.Contains(out, "TOO HIGH") || !strings.Contains(errs, "Art. 16") {
		t.Errorf("too high: exit %d\n%s%s", code, out, errs)
	}
}

func TestTariffPrices(t *testing.T) {
	db := billDB(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "p.csv")
	os.WriteFile(good, []byte("start,chf_kwh\n2026-01-05T00:00:00+01:00,0.1\n2026-01-05T00:15:00+01:00,0.5\n"), 0o600)
	code, out, errs := run(t, db, "tariff", "prices", "--site", "birke", good)
	if code != 0 || !strings.Contains(out, "2 prices") {
		t.Fatalf("exit %d %s %s", code, out, errs)
	}
	st, _ := bolt.Open(db, nil)
	var p *billing.DynamicPrices
	st.View(func(tx store.Tx) error {
		s, _ := tx.Site("birke")
		in, err := billing.Load(tx, s, core.Period{From: core.MustDate(2026, 1, 5), To: core.MustDate(2026, 1, 5)})
		if err == nil {
			p = in.Prices
		}
		return err
	})
	st.Close()
	if p == nil || p.Grid[0] != 100_000 || p.Grid[1] != 500_000 || p.Grid[2] != 0 {
		t.Errorf("loaded prices %+v", p)
	}
	bad := filepath.Join(dir, "b.csv")
	os.WriteFile(bad, []byte("start,chf_kwh\n2026-01-05T00:00:00+01:00,0.1\n2026-01-05T00:05:00+01:00,0.5\n"), 0o600)
	code, _, errs = run(t, db, "tariff", "prices", "--site", "birke", bad)
	if want := "zevdesk tariff prices: " + bad + `:3: column start: expected the start of a 15-minute interval (minute 00, 15, 30 or 45), got "2026-01-05T00:05:00+01:00"` + "\n"; code != 1 || errs != want {
		t.Errorf("bad file: exit %d %q, want %q", code, errs, want)
	}
	_ = time.Second
	// As Excel writes a CSV in Swiss locales: a byte order mark and
	// semicolons; a decimal comma is refused with its line.
	excel := filepath.Join(dir, "excel.csv")
	os.WriteFile(excel, []byte("\ufeffstart;chf_kwh\r\n2026-01-06T00:00:00+01:00;0.2745\r\n"), 0o600)
	if code, out, errs := run(t, db, "tariff", "prices", "--site", "birke", excel); code != 0 || !strings.Contains(out, "1 prices") {
		t.Errorf("Excel CSV: exit %d %s %s", code, out, errs)
	}
	comma := filepath.Join(dir, "comma.csv")
	os.WriteFile(comma, []byte("start,chf_kwh\n2026-01-06T00:00:00+01:00,0,2745\n"), 0o600)
	code, _, errs = run(t, db, "tariff", "prices", "--site", "birke", comma)
	if want := "zevdesk tariff prices: " + comma + `:2: expected 2 columns (start,chf_kwh), got 3: "2026-01-06T00:00:00+01:00,0,2745"` + "\n"; code != 1 || errs != want {
		t.Errorf("decimal comma: exit %d %q, want %q", code, errs, want)
	}
}

// The Leitfaden Eigenverbrauch's table 1 entered as a utility bill.
const leitfadenTOML = `vat_percent = 7.7
[[lines]]
label = "Energie HT"
basis = "ht"
kwh = 1696
chf_kwh = 0.085
[[lines]]
label = "Energie NT"
basis = "nt"
kwh = 1289
chf_kwh = 0.0515
[[lines]]
label = "Leistung"
kw = [9.1, 9.3, 9.1]
chf_kw = 3.60
[[lines]]
label = "Netz HT"
basis = "ht"
kwh = 1696
chf_kwh = 0.0638
[[lines]]
label = "Netz NT"
basis = "nt"
kwh = 1289
chf_kwh = 0.04
[[lines]]
label = "Messung"
chf = 120.00
[[lines]]
label = "Systemdienstleistungen"
kwh = 2985
chf_kwh = 0.0032
[[lines]]
label = "Netzzuschlag"
kwh = 2985
chf_kwh = 0.023
[[lines]]
label = "Abgaben Gemeinde"
kwh = 2985
chf_kwh = 0.005
`

func TestTariffUtility(t *testing.T) {
	db := billDB(t)
	f := filepath.Join(t.TempDir(), "u.toml")
	os.WriteFile(f, []byte(leitfadenTOML), 0o600)
	code, out, errs := run(t, db, "tariff", "utility", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", f)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"(9.1 + 9.3 + 9.1) kW × CHF 3.60", "99.00", "total excl. VAT", "682.44", "VAT 7.7 %", "52.55", "734.99"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Billing January now passes the utility's costs through: the grid
	// lines of all invoices add up to CHF 682.44.
	code, out, errs = run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--json")
	if code != 0 {
		t.Fatalf("bill: exit %d %s", code, errs)
	}
	var j struct {
		Invoices []struct {
			Lines []struct{ Class, Amount string }
		}
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	var sum core.Rappen
	for _, inv := range j.Invoices {
		for _, l := range inv.Lines {
			if l.Class == "grid_ht" || l.Class == "grid_nt" {
				a, _ := core.ParseCHF(l.Amount)
				sum += a
			}
		}
	}
	if sum != 68244 {
		t.Errorf("grid lines add up to %s, want 682.44", sum)
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[[lines]]\nlabel = \"x\"\nkwh = 10\n"), 0o600)
	code, _, errs = run(t, db, "tariff", "utility", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", bad)
	if code != 1 || !strings.Contains(errs, "lines[0].chf_kwh") {
		t.Errorf("bad file: exit %d %s", code, errs)
	}
}

// --out hands the run and its input to the document writer.
func TestBillOutHook(t *testing.T) {
	db := billDB(t)
	code, _, errs := run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--out", t.TempDir())
	if WriteDocuments == nil && (code != 1 || !strings.Contains(errs, "cannot write invoice documents")) {
		t.Errorf("no writer: exit %d %s", code, errs)
	}
	saved := WriteDocuments
	defer func() { WriteDocuments = saved }()
	var got *billing.Run
	WriteDocuments = func(env *Env, in *billing.Input, r *billing.Run, dir string) error {
		if in == nil || in.Site.ID != "birke" || dir == "" {
			t.Errorf("writer got input %v dir %q", in, dir)
		}
		got = r
		return nil
	}
	code, _, errs = run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--final", "--out", t.TempDir())
	if code != 0 || got == nil || got.Invoices[0].Number != 1 {
		t.Errorf("exit %d %s; writer saw %v", code, errs, got)
	}
}

// The gate: February has no data; billing warns, and refuses once the site
// says so, naming what is missing.
func TestBillRefusesMissing(t *testing.T) {
	db := billDB(t)
	code, _, errs := run(t, db, "bill", "--site", "birke", "--from", "2026-01-25", "--to", "2026-02-05")
	if code != 0 || !strings.Contains(errs, "warning: missing data: M1 import: 480 intervals (120 h)") {
		t.Errorf("warn: exit %d %s", code, errs)
	}
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx store.Tx) error {
		s, _ := tx.Site("birke")
		s.Settings.RefuseMissing = true
		return tx.PutSite(s)
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, db, "bill", "--site", "birke", "--from", "2026-01-25", "--to", "2026-02-05", "--final")
	if code != 1 || out != "" || !strings.Contains(errs, "refuses to bill incomplete data") || !strings.Contains(errs, "M1 import: 480 intervals") {
		t.Errorf("refuse: exit %d %q %s", code, out, errs)
	}
	code, _, _ = run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--final")
	if code != 0 {
		t.Errorf("a complete period is billed: exit %d", code)
	}
}

// The readable table: figures right-aligned under their headings, text
// left-aligned, thousands grouped the Swiss way, a totals row.
func TestBillTableAligned(t *testing.T) {
	for in, want := range map[core.Rappen]string{0: "0.00", 99999: "999.99", 123450: "1'234.50",
		-123456789: "-1'234'567.89", 1234500: "12'345.00"} {
		if got := tableCHF(in); got != want {
			t.Errorf("tableCHF(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[core.Energy]string{0: "0.000", 12_345_678_499: "12'345.678", 12_345_678_500: "12'345.679",
		-1_234_567_500: "-1'234.568", 999_999: "1.000"} {
		if got := tableKWh(in); got != want {
			t.Errorf("tableKWh(%d) = %q, want %q", in, got, want)
		}
	}
	db := billDB(t)
	code, out, errs := run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31")
	if code != 0 {
		t.Fatalf("exit %d %s", code, errs)
	}
	lines := strings.Split(out, "\n")
	head := -1
	for i, l := range lines {
		if strings.Contains(l, "recipient") {
			head = i
		}
	}
	if head < 0 || !strings.Contains(out, "3 invoices") || !strings.Contains(out, "1'190.400") {
		t.Fatalf("no invoice table, totals or grouped kWh:\n%s", out)
	}
	// Every invoice row's total ends where the heading "total" ends.
	end := strings.Index(lines[head], " total") + len(" total")
	for _, l := range lines[head+1 : head+4] {
		f := strings.Fields(l)
		tot := f[len(f)-4] // total, advance, balance, estimated
		if i := strings.Index(l, " "+tot+" "); i < 0 || i+1+len(tot) != end {
			t.Errorf("total %s not right-aligned under the heading:\n%s\n%s", tot, lines[head], l)
		}
	}
}

// A document folder that cannot be created stops bill --final before it
// numbers and locks the period; documents that fail after the commit say
// that the period is billed and how to write them again.
func TestBillFinalOutFails(t *testing.T) {
	db := billDB(t)
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--final", "--out", filepath.Join(file, "Q1"))
	if code != 1 || !strings.HasPrefix(errs, "zevdesk bill: --out: ") || strings.Count(errs, "\n") != 1 {
		t.Errorf("unusable --out: exit %d, %q", code, errs)
	}
	if _, out, _ := run(t, db, "locks", "--site", "birke"); !strings.Contains(out, "no billed period") {
		t.Errorf("the period was locked although its documents could not be written:\n%s", out)
	}
	saved := WriteDocuments
	defer func() { WriteDocuments = saved }()
	WriteDocuments = func(*Env, *billing.Input, *billing.Run, string) error { return errors.New("disk full") }
	code, _, errs = run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--final", "--out", t.TempDir())
	if code != 1 || !strings.Contains(errs, "the period is billed and locked, but writing its documents to ") || !strings.Contains(errs, "without --final): disk full") {
		t.Errorf("documents failing after the commit: exit %d, %q", code, errs)
	}
}

// billState opens the database after a command closed it and returns the
// site's locks, whether a run of p is stored, and the audit log.
func billState(t *testing.T, db string, p core.Period) (locks []store.Lock, stored bool, audit []store.Entry) {
	t.Helper()
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.View(func(tx store.Tx) error {
		if locks, err = tx.LocksOf("birke"); err != nil {
			return err
		}
		_, err := billing.StoredRun(tx, "birke", p)
		stored = err == nil
		return tx.ScanAudit(0, func(e store.Entry) bool { audit = append(audit, e); return true })
	})
	if err != nil {
		t.Fatal(err)
	}
	return locks, stored, audit
}

// A consumer meter without a single value in the period: nothing says how
// much goes unbilled, so --final refuses, naming the meter and the
// intervals, and writes nothing; --accept-missing finalizes and the audit
// log keeps what was accepted.
func TestBillFinalRefusesMeterWithoutValues(t *testing.T) {
	db := billDB(t)
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx store.Tx) error {
		s, err := tx.Site("birke")
		if err != nil {
			return err
		}
		s.Units = append(s.Units, core.Unit{ID: "W03"})
		s.Meters = append(s.Meters, core.Meter{ID: "M-W03", Role: core.RoleUnit, Unit: "W03"})
		if err := s.Validate(); err != nil {
			return err
		}
		return tx.PutSite(s)
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	p := core.Period{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 1, 31)}
	// 31 winter days of 96 intervals.
	const gap = "meter M-W03: no value in 2'976 of 2'976 intervals (1.1.–31.1.2026), unknown amount"

	// The dry run warns with the same words and succeeds.
	code, _, errs := run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31")
	if code != 0 || !strings.Contains(errs, "warning: missing data: "+gap) || strings.Contains(errs, "about 0.000 kWh") {
		t.Errorf("dry run: exit %d\n%s", code, errs)
	}
	_, out, _ := run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--json")
	if !strings.Contains(out, `"meter": "M-W03",`) || !strings.Contains(out, `"unknown": true`) {
		t.Errorf("--json does not mark the gap unknown:\n%s", out)
	}
	code, out, errs = run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--final")
	if code != 1 || !strings.Contains(errs, gap) || !strings.Contains(errs, "--accept-missing") {
		t.Errorf("--final: exit %d, stderr %q", code, errs)
	}
	if out != "" {
		t.Errorf("--final printed invoices although it refused:\n%s", out)
	}
	locks, stored, audit := billState(t, db, p)
	if len(locks) != 0 || stored || len(audit) != 0 {
		t.Fatalf("a refused --final wrote: locks %+v, run stored %v, audit %+v", locks, stored, audit)
	}
	if code, _, errs := run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31",
		"--accept-missing"); code != 1 || !strings.Contains(errs, "only with --final") {
		t.Errorf("--accept-missing without --final: exit %d %q", code, errs)
	}

	code, out, errs = run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--final",
		"--accept-missing")
	if code != 0 || !strings.Contains(out, "final: numbered and locked") {
		t.Fatalf("--final --accept-missing: exit %d\n%s%s", code, out, errs)
	}
	locks, stored, audit = billState(t, db, p)
	if len(locks) != 1 || !stored {
		t.Errorf("after accepting: locks %+v, run stored %v", locks, stored)
	}
	var accepted *store.Entry
	for i, e := range audit {
		if e.Action == billing.ActionAcceptMissing {
			accepted = &audit[i]
		}
	}
	if accepted == nil || !strings.Contains(accepted.Detail, "2026-01-01..2026-01-31") || !strings.Contains(accepted.Detail, gap) ||
		!strings.HasPrefix(accepted.Actor, "cli") {
		t.Errorf("audit log without the acceptance: %+v", audit)
	}
}

// Price files merge per interval in import order, the newest price
// winning; what each import did is printed and audited.
func TestTariffPricesMerge(t *testing.T) {
	db := billDB(t)
	dir := t.TempDir()
	imp := func(name, rows string) (int, string, string) {
		t.Helper()
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte("start,chf_kwh\n"+rows), 0o600); err != nil {
			t.Fatal(err)
		}
		return run(t, db, "tariff", "prices", "--site", "birke", f)
	}
	// prices returns the loaded prices of 9 January 23:45 to 10 January
	// 00:45 in CHF/kWh, as billing reads them.
	prices := func() string {
		t.Helper()
		st, err := bolt.Open(db, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var out []string
		err = st.View(func(tx store.Tx) error {
			s, _ := tx.Site("birke")
			p := core.Period{From: core.MustDate(2026, 1, 9), To: core.MustDate(2026, 1, 10)}
			in, err := billing.Load(tx, s, p)
			if err != nil {
				return err
			}
			if in.Prices == nil {
				return errors.New("no prices loaded")
			}
			// 9 January has 96 intervals; the last is 23:45.
			for _, pr := range in.Prices.Grid[95:100] {
				out = append(out, pr.String())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(out, " ")
	}
	code, out, errs := imp("day.csv", "2026-01-10T00:00:00+01:00,0.10\n2026-01-10T00:15:00+01:00,0.20\n"+
		"2026-01-10T00:30:00+01:00,0.30\n2026-01-10T00:45:00+01:00,0.40\n")
	if code != 0 || out != dir+"/day.csv: 4 prices, 0 replaced, 4 new, 0 unchanged (from 10.01.2026 00:00 to 10.01.2026 01:00)\n" {
		t.Fatalf("first file: exit %d %q %s", code, out, errs)
	}
	if got := prices(); got != "0.00 0.10 0.20 0.30 0.40" {
		t.Errorf("after the first file: %s", got)
	}
	// A one-interval correction where the stored series starts replaces
	// that interval's price only.
	code, out, errs = imp("fix.csv", "2026-01-10T00:00:00+01:00,0.15\n")
	if code != 0 || !strings.Contains(out, "fix.csv: 1 prices, 1 replaced, 0 new, 0 unchanged") {
		t.Fatalf("correction: exit %d %q %s", code, out, errs)
	}
	if got := prices(); got != "0.00 0.15 0.20 0.30 0.40" {
		t.Errorf("after the correction: %s, want the three other prices kept", got)
	}
	// A file starting 15 minutes before the stored series: its price for
	// the overlapping interval wins.
	code, out, errs = imp("early.csv", "2026-01-09T23:45:00+01:00,0.50\n2026-01-10T00:00:00+01:00,0.60\n"+
		"2026-01-10T00:15:00+01:00,0.20\n")
	if code != 0 || !strings.Contains(out, "early.csv: 3 prices, 1 replaced, 1 new, 1 unchanged (from 09.01.2026 23:45 to 10.01.2026 00:30)") {
		t.Fatalf("earlier file: exit %d %q %s", code, out, errs)
	}
	if got := prices(); got != "0.50 0.60 0.20 0.30 0.40" {
		t.Errorf("after the earlier file: %s", got)
	}
	// Two rows a day apart are two prices, not the 97 intervals they span.
	code, out, errs = imp("sparse.csv", "2026-01-20T00:00:00+01:00,0.10\n2026-01-21T00:00:00+01:00,0.10\n")
	if code != 0 || !strings.Contains(out, "sparse.csv: 2 prices, 0 replaced, 2 new, 0 unchanged") {
		t.Fatalf("sparse file: exit %d %q %s", code, out, errs)
	}
	_, _, audit := billState(t, db, core.Period{})
	var details []string
	for _, e := range audit {
		if e.Action == "tariff.prices" {
			details = append(details, e.Detail[len(dir)+1:])
		}
	}
	want := []string{
		"day.csv: 4 prices, 0 replaced, 4 new, 0 unchanged (from 10.01.2026 00:00 to 10.01.2026 01:00)",
		"fix.csv: 1 prices, 1 replaced, 0 new, 0 unchanged (from 10.01.2026 00:00 to 10.01.2026 00:15)",
		"early.csv: 3 prices, 1 replaced, 1 new, 1 unchanged (from 09.01.2026 23:45 to 10.01.2026 00:30)",
		"sparse.csv: 2 prices, 0 replaced, 2 new, 0 unchanged (from 20.01.2026 00:00 to 21.01.2026 00:15)",
	}
	if strings.Join(details, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(details, "\n"), strings.Join(want, "\n"))
	}

	// A billed period's prices do not change: the file is refused whole,
	// naming the period; the same prices again are no change.
	if code, _, errs := run(t, db, "bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--final"); code != 0 {
		t.Fatalf("billing January: %s", errs)
	}
	code, _, errs = imp("late.csv", "2026-01-31T23:45:00+01:00,0.70\n2026-02-01T00:00:00+01:00,0.70\n")
	if code != 1 || !strings.Contains(errs, "late.csv: storing dynamic prices: the price of the interval from 31.01.2026 23:45 "+
		"lies in the billed period 2026-01-01..2026-01-31") {
		t.Errorf("into a billed period: exit %d %q", code, errs)
	}
	code, out, errs = imp("again.csv", "2026-01-10T00:00:00+01:00,0.60\n2026-02-01T00:00:00+01:00,0.70\n")
	if code != 0 || !strings.Contains(out, "again.csv: 2 prices, 0 replaced, 1 new, 1 unchanged") {
		t.Errorf("an unchanged price in a billed period: exit %d %q %s", code, out, errs)
	}
	if got := prices(); got != "0.50 0.60 0.20 0.30 0.40" {
		t.Errorf("after the refused file: %s", got)
	}
}
