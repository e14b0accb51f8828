package importer

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
)

const tenHeader = "unit,name,from,to,language,reference,email,street,number,postcode,town,country,advance_chf_month\n"

func tenParse(t *testing.T, src string) *TenantList {
	t.Helper()
	tl, err := ParseTenants("t.csv", strings.NewReader(src), false)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func TestParseTenants(t *testing.T) {
	tl := tenParse(t, "\uFEFF"+tenHeader+
		"W1,Anna Muster,2026-01-01,2026-02-14,fr,T-17,anna@example.ch,Birkenweg,12,3012,Bern,ch,85.50\n"+
		"\n"+
		"W2,\"Bob, jun.\",01.03.2026,,,,,,,,,,\n")
	if len(tl.Rows) != 2 || tl.Rows[0].Line != 2 || tl.Rows[1].Line != 4 {
		t.Fatalf("rows %+v", tl.Rows)
	}
	want := core.Occupancy{Unit: "W1", Name: "Anna Muster", From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 2, 14),
		Language: "fr", Reference: "T-17", Email: "anna@example.ch", AdvanceMonth: 8550,
		Address: core.Address{Street: "Birkenweg", Number: "12", Postcode: "3012", Town: "Bern", Country: "CH"}}
	if tl.Rows[0].Occupancy != want {
		t.Errorf("row 1 = %+v\nwant    %+v", tl.Rows[0].Occupancy, want)
	}
	if o := tl.Rows[1].Occupancy; o.Name != "Bob, jun." || o.From != core.MustDate(2026, 3, 1) || !o.To.IsZero() {
		t.Errorf("row 2 = %+v", o)
	}
	// Semicolons, any column order, only the required columns.
	tl = tenParse(t, "From;Unit;Name\n2026-01-01;W1;Anna\n")
	if o := tl.Rows[0].Occupancy; o.Unit != "W1" || o.Name != "Anna" || len(tl.Columns) != 3 {
		t.Errorf("semicolons: %+v", o)
	}
}

func TestParseTenantsErrors(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"empty", "", "t.csv:1: header: the file is empty: expected a tenant list with the header " + strings.TrimSpace(tenHeader)},
		{"unknown column", "unit,name,from,advance\n", `t.csv:1: header: unknown column "advance": a tenant list has the columns ` + strings.TrimSpace(tenHeader)},
		{"typo", "unit,name,form\n", `t.csv:1: header: unknown column "form": did you mean "from"? a tenant list has the columns ` + strings.TrimSpace(tenHeader)},
		{"missing from", "unit,name,to\n", `t.csv:1: header: missing column "from": a tenant list needs the columns unit,name,from`},
		{"twice", "unit,name,from,name\n", `t.csv:1: header: column "name" appears twice`},
		{"no name", "unit,name,from\nW1,,2026-01-01\n", `t.csv:2: column name: expected the tenant's name, got an empty cell`},
		{"bad date", "unit,name,from\nW1,Anna,2026/01/01\n", `t.csv:2: column from: expected a date such as 2026-01-31 or 31.01.2026, got "2026/01/01"`},
		{"to before from", "unit,name,from,to\nW1,Anna,2026-02-01,2026-01-31\n", `t.csv:2: column to: the last day 2026-01-31 is before the first day 2026-02-01`},
		{"language", "unit,name,from,language\nW1,Anna,2026-01-01,rm\n", `t.csv:2: column language: expected de, fr, it or en, got "rm"`},
		{"email", "unit,name,from,email\nW1,Anna,2026-01-01,anna.example.ch\n", `t.csv:2: column email: expected an e-mail address such as anna.muster@example.ch, got "anna.example.ch"`},
		{"country", "unit,name,from,country\nW1,Anna,2026-01-01,Schweiz\n", `t.csv:2: column country: expected a two-letter country code such as CH, got "Schweiz"`},
		{"advance comma", "unit,name,from,advance_chf_month\nW1,Anna,2026-01-01,\"85,50\"\n", `t.csv:2: column advance_chf_month: expected an amount in CHF per month such as 85.00 (at most 2 decimals, zero or more), got "85,50"`},
		{"advance negative", "unit,name,from,advance_chf_month\nW1,Anna,2026-01-01,-5\n", `t.csv:2: column advance_chf_month: expected an amount in CHF per month such as 85.00 (at most 2 decimals, zero or more), got "-5"`},
		{"extra value", "unit,name,from\nW1,Anna,2026-01-01,x\n", `t.csv:2: column 4: expected 3 columns (unit,name,from), got a value in column 4: "x"`},
		{"repeated", "unit,name,from\nW1,Anna,2026-01-01\nW2,Bob,2026-01-01\nW1,Anna M.,2026-01-01\n", `t.csv:4: column from: unit W1 from 2026-01-01 appears twice: also on line 2`},
		{"quote", "unit,name,from\nW1,\"Anna,2026-01-01\n", `t.csv:2: extraneous or missing " in quoted-field`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseTenants("t.csv", strings.NewReader(c.src), false)
			var e *Error
			if !errors.As(err, &e) || err.Error() != c.want {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestParseTenantsXLSX(t *testing.T) {
	data := xlsxFile(t, [][]any{
		{"unit", "name", "from", "to", "advance_chf_month"},
		{"W1", "Anna", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "2026-06-30", 85.5},
		{"W2", "Bob", "yesterday"},
	}, -1)
	_, err := ParseTenants("t.xlsx", bytes.NewReader(data), true)
	if want := `t.xlsx:3: C3: column from: expected a date such as 2026-01-31 or 31.01.2026, got "yesterday"`; err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	data = xlsxFile(t, [][]any{
		{"unit", "name", "from", "to", "advance_chf_month"},
		{"W1", "Anna", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "2026-06-30", 0.1 + 0.2},
	}, -1)
	tl, err := ParseTenants("t.xlsx", bytes.NewReader(data), true)
	if err != nil {
		t.Fatal(err)
	}
	if o := tl.Rows[0].Occupancy; o.From != core.MustDate(2026, 1, 1) || o.To != core.MustDate(2026, 6, 30) || o.AdvanceMonth != 30 {
		t.Errorf("%+v", o)
	}
}

func tenSite(t *testing.T) *core.Site {
	t.Helper()
	s := readingsSite(t)
	s.Occupancies = []core.Occupancy{
		{Unit: "W1", Name: "Anna", From: core.MustDate(2026, 1, 1), Email: "anna@example.ch", Language: "de"},
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMergeTenants(t *testing.T) {
	site := tenSite(t)
	// Anna moves out (only unit, name, from, to: her e-mail stays); Bob
	// moves in after her; W2 gets a tenant.
	tl := tenParse(t, "unit,name,from,to\nW1,Anna,2026-01-01,2026-03-31\nW1,Bob,2026-04-01,\nW2,Cleo,2026-01-15,\n")
	ns, rep, err := MergeTenants(site, tl, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := "t.csv: 3 tenancies: 2 added, 1 updated, 0 unchanged"; rep.Summary() != want {
		t.Errorf("summary %q, want %q", rep.Summary(), want)
	}
	if a := ns.Occupancies[0]; a.To != core.MustDate(2026, 3, 31) || a.Email != "anna@example.ch" {
		t.Errorf("Anna %+v", a)
	}
	if len(ns.Occupancies) != 3 || ns.Occupancies[1].Name != "Bob" || ns.Occupancies[1].Language != "de" {
		t.Errorf("occupancies %+v", ns.Occupancies)
	}
	if len(site.Occupancies) != 1 || !site.Occupancies[0].To.IsZero() {
		t.Errorf("the input site changed: %+v", site.Occupancies)
	}
	// The same list again changes nothing.
	if _, rep, err = MergeTenants(ns, tl, false); err != nil || rep.Unchanged != 3 || rep.Added+rep.Updated != 0 {
		t.Errorf("again: %v %+v", err, rep)
	}
	// Replace: the file is the whole list.
	only := tenParse(t, "unit,name,from\nW2,Cleo,2026-01-15\n")
	ns2, rep, err := MergeTenants(ns, only, true)
	if err != nil || rep.Removed != 2 || len(ns2.Occupancies) != 1 || rep.Summary() != "t.csv: 1 tenancies: 0 added, 0 updated, 1 unchanged, 2 removed" {
		t.Errorf("replace: %v %s", err, rep.Summary())
	}
	if len(rep.RemovedTenancies) != 2 || rep.RemovedTenancies[0] != ns.Occupancies[0] || rep.RemovedTenancies[1].Name != "Bob" {
		t.Errorf("replace removes %+v", rep.RemovedTenancies)
	}

	for _, c := range []struct{ name, src, want string }{
		{"overlaps stored", "unit,name,from\nW1,Bob,2026-02-01\n",
			`t.csv:2: column from: the tenancy of Bob in unit W1 (2026-02-01..open) overlaps the site's tenancy of Anna (2026-01-01..open)`},
		{"overlaps a row", "unit,name,from,to\nW2,Bob,2026-02-01,2026-03-31\nW2,Cleo,2026-03-01,\n",
			`t.csv:3: column from: the tenancy of Cleo in unit W2 (2026-03-01..open) overlaps line 2 of Bob (2026-02-01..2026-03-31)`},
		{"unknown unit", "unit,name,from\nW9,Bob,2026-02-01\n",
			`t.csv:2: column unit: unit "W9" does not exist: site test has W1, W2`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := MergeTenants(site, tenParse(t, c.src), false)
			var e *Error
			if !errors.As(err, &e) || err.Error() != c.want {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestImportTenants(t *testing.T) {
	st := openStore(t)
	site := tenSite(t)
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	if _, err := ImportSite(st, site, "test", now); err != nil {
		t.Fatal(err)
	}
	tl := tenParse(t, "unit,name,from,to,advance_chf_month\nW1,Anna,2026-01-01,2026-03-31,90\nW2,Cleo,2026-01-15,,60.00\n")
	rep, err := ImportTenants(st, "test", tl, false, "office", now)
	if err != nil || rep.Summary() != "t.csv: 2 tenancies: 1 added, 1 updated, 0 unchanged" {
		t.Fatalf("%v %+v", err, rep)
	}
	if rep, err = ImportTenants(st, "test", tl, false, "office", now); err != nil || rep.Unchanged != 2 {
		t.Fatalf("again: %v %+v", err, rep)
	}
	// A bad row found by the merge writes nothing.
	bad := tenParse(t, "unit,name,from\nW1,Dora,2026-07-01\nW2,Emil,2026-02-01\n")
	if _, err := ImportTenants(st, "test", bad, false, "office", now); err == nil ||
		err.Error() != "t.csv:3: column from: the tenancy of Emil in unit W2 (2026-02-01..open) overlaps the site's tenancy of Cleo (2026-01-15..open)" {
		t.Fatalf("bad: %v", err)
	}
	var got *core.Site
	var audit []string
	err = st.View(func(tx store.Tx) error {
		var err error
		if got, err = tx.Site("test"); err != nil {
			return err
		}
		return tx.ScanAudit(0, func(e store.Entry) bool {
			audit = append(audit, e.Actor+" "+e.Action+": "+e.Detail)
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Occupancies) != 2 || got.Occupancies[0].AdvanceMonth != 9000 || got.Occupancies[1].Name != "Cleo" {
		t.Errorf("stored %+v", got.Occupancies)
	}
	if len(audit) != 2 || audit[1] != "office tenants.import: t.csv: 2 tenancies: 1 added, 1 updated, 0 unchanged" {
		t.Errorf("audit %q", audit)
	}
}

// TestImportTenantsRefusesBilledPeriod: a tenant list that changes a
// tenancy inside a billed period stores nothing and names the period.
func TestImportTenantsRefusesBilledPeriod(t *testing.T) {
	st := openStore(t)
	site := tenSite(t)
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	if _, err := ImportSite(st, site, "test", now); err != nil {
		t.Fatal(err)
	}
	tl := tenParse(t, "unit,name,from\nW2,Cleo,2026-01-15\n")
	if _, err := ImportTenants(st, "test", tl, false, "office", now); err != nil {
		t.Fatal(err)
	}
	q1 := core.Period{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 3, 31)}
	if err := st.Update(func(tx store.Tx) error { return tx.LockPeriod(store.Lock{Site: "test", Period: q1, Time: now}) }); err != nil {
		t.Fatal(err)
	}
	moved := tenParse(t, "unit,name,from,to\nW2,Cleo,2026-01-15,2026-02-28\n")
	_, err := ImportTenants(st, "test", moved, false, "office", now)
	var le *LockedError
	if !errors.As(err, &le) || le.Period != q1 || !strings.Contains(err.Error(), "the tenancy of Cleo in unit W2") {
		t.Fatalf("err = %v", err)
	}
	later := tenParse(t, "unit,name,from,to\nW2,Cleo,2026-01-15,2026-06-30\n")
	if _, err := ImportTenants(st, "test", later, false, "office", now); err != nil {
		t.Errorf("a move-out after the billed period: %v", err)
	}
}

// TestPreparedTenantsReplace: a tenant list prepared for the window adds
// and updates by default; SetReplace makes it the complete list, its
// preview names the tenancies it removes, and Store removes them.
func TestPreparedTenantsReplace(t *testing.T) {
	st := openStore(t)
	site := tenSite(t)
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	if _, err := ImportSite(st, site, "test", now); err != nil {
		t.Fatal(err)
	}
	p, err := Prepare(context.Background(), st, site, FileTenants, "t.csv", []byte("unit,name,from\nW2,Cleo,2026-01-15\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Tenants.Added != 1 || p.Tenants.Removed != 0 {
		t.Fatalf("add and update: %+v", p.Tenants)
	}
	if err := p.SetReplace(true); err != nil {
		t.Fatal(err)
	}
	if p.Tenants.Removed != 1 || len(p.Tenants.RemovedTenancies) != 1 || p.Tenants.RemovedTenancies[0].Name != "Anna" ||
		p.Summary(time.UTC) != "t.csv: tenants, 1 tenancies: 1 new, 0 changed, 0 unchanged, 1 removed; nothing stored" {
		t.Fatalf("replace: %+v; %s", p.Tenants, p.Summary(time.UTC))
	}
	sum, err := p.Store(context.Background(), st, vee.Options{Actor: "office", Clock: core.FixedClock(now)}, nil)
	if err != nil || sum != "t.csv: 1 tenancies: 1 added, 0 updated, 0 unchanged, 1 removed" {
		t.Fatalf("store: %q, %v", sum, err)
	}
	var got *core.Site
	if err := st.View(func(tx store.Tx) (err error) { got, err = tx.Site("test"); return }); err != nil {
		t.Fatal(err)
	}
	if len(got.Occupancies) != 1 || got.Occupancies[0].Name != "Cleo" {
		t.Errorf("stored %+v", got.Occupancies)
	}
	r, err := Prepare(context.Background(), st, got, FileReadings, "r.csv", []byte("meter,start,kwh_in\nM1,2026-01-01T00:00:00Z,1\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetReplace(true); !errors.Is(err, ErrNotTenantList) {
		t.Errorf("readings: %v", err)
	}
}
