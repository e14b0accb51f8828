package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
)

// CostType groups invoice lines for property-management software: one
// export row per invoice and cost type.
type CostType string

// Cost types, in export order.
const (
	CostEnergy     CostType = "energy"     // own solar and grid energy, pass-through grid fees
	CostCommon     CostType = "common"     // share of general electricity
	CostHeatPump   CostType = "heatpump"   // share of the heat pump
	CostEV         CostType = "ev"         // EV charging
	CostDifference CostType = "difference" // share of the metering difference
	CostBaseFee    CostType = "base_fee"   // fixed fee per unit
	CostMetering   CostType = "metering"   // metering fee
	CostRounding   CostType = "rounding"   // rounding of the total to 5 Rappen
)

var costOrder = []CostType{CostEnergy, CostCommon, CostHeatPump, CostEV, CostDifference, CostBaseFee, CostMetering, CostRounding}

func costTypeOf(k billing.LineKind) (CostType, bool) {
	switch k {
	case billing.KindSolar, billing.KindGridHT, billing.KindGridNT, billing.KindGridFees:
		return CostEnergy, true
	case billing.KindCommon:
		return CostCommon, true
	case billing.KindHeatPump:
		return CostHeatPump, true
	case billing.KindEV:
		return CostEV, true
	case billing.KindDifferent:
		return CostDifference, true
	case billing.KindBaseFee:
		return CostBaseFee, true
	case billing.KindMetering:
		return CostMetering, true
	case billing.KindRounding:
		return CostRounding, true
	}
	return "", false
}

// ExportRow is one row of the property-management export.
type ExportRow struct {
	Site      string
	Invoice   int
	Unit      string
	TenantRef string
	Tenant    string
	From, To  core.Date
	CostType  CostType
	KWh       core.Energy
	Net       core.Rappen
	VATRate   core.BasisPoints
	VAT       core.Rappen
	Gross     core.Rappen
}

// ExportRows groups a run's invoices by cost type and VAT rate. The VAT of
// each rate is the invoice's own (computed on its subtotal) spread over the
// rows by largest remainder, so that per invoice Σ Net = net, Σ VAT = VAT
// and Σ Gross = the invoice's total.
func ExportRows(run *billing.Run) []ExportRow {
	var out []ExportRow
	for i := range run.Invoices {
		inv := &run.Invoices[i]
		type key struct {
			c    CostType
			rate core.BasisPoints
		}
		acc := map[key]*ExportRow{}
		vatByRate := map[core.BasisPoints]core.Rappen{}
		for _, l := range inv.Lines {
			if l.Kind == billing.KindVAT {
				vatByRate[l.Rate] += l.Amount
				continue
			}
			c, ok := costTypeOf(l.Kind)
			if !ok {
				continue
			}
			rate := l.Rate
			if c == CostRounding {
				rate = 0 // the rounding is after VAT
			}
			k := key{c, rate}
			r := acc[k]
			if r == nil {
				r = &ExportRow{Site: run.Site, Invoice: inv.Number, Unit: inv.Unit, TenantRef: inv.Occupancy.Reference,
					Tenant: inv.Tenant, From: inv.From, To: inv.To, CostType: c, VATRate: rate}
				acc[k] = r
			}
			r.KWh += l.Energy
			r.Net += l.Amount
		}
		keys := make([]key, 0, len(acc))
		for k := range acc {
			keys = append(keys, k)
		}
		pos := map[CostType]int{}
		for i, c := range costOrder {
			pos[c] = i
		}
		sort.Slice(keys, func(a, b int) bool {
			if pos[keys[a].c] != pos[keys[b].c] {
				return pos[keys[a].c] < pos[keys[b].c]
			}
			return keys[a].rate < keys[b].rate
		})
		// Spread each rate's VAT over its rows by largest remainder.
		byRate := map[core.BasisPoints][]*ExportRow{}
		for _, k := range keys {
			if k.c != CostRounding {
				byRate[k.rate] = append(byRate[k.rate], acc[k])
			}
		}
		for rate, rows := range byRate {
			spreadVAT(rows, vatByRate[rate])
		}
		for _, k := range keys {
			r := acc[k]
			r.Gross = r.Net + r.VAT
			out = append(out, *r)
		}
	}
	return out
}

func spreadVAT(rows []*ExportRow, vat core.Rappen) {
	var base core.Rappen
	for _, r := range rows {
		base += r.Net
	}
	if base == 0 || vat == 0 {
		return
	}
	type rem struct {
		i int
		r int64
	}
	var given core.Rappen
	rems := make([]rem, len(rows))
	for i, r := range rows {
		p := int64(vat) * int64(r.Net)
		q := p / int64(base)
		r.VAT = core.Rappen(q)
		given += r.VAT
		rems[i] = rem{i, p - q*int64(base)}
	}
	sort.SliceStable(rems, func(a, b int) bool { return abs(rems[a].r) > abs(rems[b].r) })
	step := core.Rappen(1)
	if vat-given < 0 {
		step = -1
	}
	for j := 0; given != vat; j++ {
		rows[rems[j%len(rems)].i].VAT += step
		given += step
	}
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// Preset is a column layout of the export: which columns in which order,
// under which headings, with which CSV separator.
type Preset struct {
	Name string
	// Columns are field names (see Fields) in output order; Headers their
	// headings.
	Columns, Headers []string
	// Comma is the CSV field separator; BOM starts the file with a UTF-8
	// byte order mark so that Excel detects the encoding.
	Comma rune
	BOM   bool
	// DecimalComma writes numbers with a decimal comma.
	DecimalComma bool
}

// Fields lists the export's fields (docs/export.md documents them).
var Fields = []string{"site", "invoice", "unit", "tenant_ref", "tenant", "from", "to", "cost_type", "kwh", "net_chf", "vat_rate", "vat_chf", "gross_chf"}

// Presets are the column layouts offered. "generic" is the documented
// layout; "excel-ch" is the same data with German headings and semicolons,
// which Excel in a Swiss locale opens directly.
var Presets = map[string]Preset{
	"generic": {Name: "generic", Columns: Fields, Headers: Fields, Comma: ','},
	"excel-ch": {Name: "excel-ch", Columns: Fields, Comma: ';', BOM: true,
		Headers: []string{"ZEV", "Rechnung", "Objekt", "Mieter-Nr.", "Mieter", "Von", "Bis", "Kostenart", "kWh", "Netto CHF", "MWST-Satz %", "MWST CHF", "Brutto CHF"}},
}

func (r *ExportRow) field(name string, decComma bool) string {
	num := func(s string) string {
		if decComma {
			return strings.Replace(s, ".", ",", 1)
		}
		return s
	}
	switch name {
	case "site":
		return r.Site
	case "invoice":
		return fmt.Sprint(r.Invoice)
	case "unit":
		return r.Unit
	case "tenant_ref":
		return r.TenantRef
	case "tenant":
		return r.Tenant
	case "from":
		return r.From.String()
	case "to":
		return r.To.String()
	case "cost_type":
		return string(r.CostType)
	case "kwh":
		return num(core.FormatKWh(r.KWh))
	case "net_chf":
		return num(r.Net.String())
	case "vat_rate":
		return num(r.VATRate.String())
	case "vat_chf":
		return num(r.VAT.String())
	case "gross_chf":
		return num(r.Gross.String())
	}
	return ""
}

// numberFields are the fields written by the number formatter. The others
// are text, and site, unit ids, tenant numbers and names come from the
// office's files.
var numberFields = map[string]bool{"invoice": true, "kwh": true, "net_chf": true, "vat_rate": true, "vat_chf": true, "gross_chf": true}

// formulaStart are the first characters that make a spreadsheet read a
// cell as a formula (OWASP, "CSV Injection"): "=", "+", "-", "@", tab and
// carriage return.
const formulaStart = "=+-@\t\r"

// neutralise prefixes a text cell that a spreadsheet would read as a
// formula with a single quote, which makes it text ("=HYPERLINK(...)" is
// exported as "'=HYPERLINK(...)"), as OWASP recommends.
func neutralise(s string) string {
	if s != "" && strings.IndexByte(formulaStart, s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// WriteExportCSV writes the rows as CSV in preset p's layout. A text cell
// that begins with a character that starts a formula ("=", "+", "-", "@",
// tab, carriage return) gets a leading single quote, so that a tenant named
// "=HYPERLINK(...)" reaches the spreadsheet or property software as text;
// numbers, negative amounts included, are written as they are.
func WriteExportCSV(w io.Writer, rows []ExportRow, p Preset) error {
	if p.BOM {
		if _, err := io.WriteString(w, "\ufeff"); err != nil {
			return err
		}
	}
	cw := csv.NewWriter(w)
	if p.Comma != 0 {
		cw.Comma = p.Comma
	}
	if err := cw.Write(p.Headers); err != nil {
		return err
	}
	rec := make([]string, len(p.Columns))
	for i := range rows {
		for j, c := range p.Columns {
			rec[j] = rows[i].field(c, p.DecimalComma)
			if !numberFields[c] {
				rec[j] = neutralise(rec[j])
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteExportXLSX writes the rows as a one-sheet workbook in preset p's
// layout, with numbers as numbers and dates as dates.
func WriteExportXLSX(out io.Writer, rows []ExportRow, p Preset, author string) error {
	w, err := exportBook(rows, p)
	if err != nil {
		return err
	}
	defer w.f.Close()
	return w.save(out, author)
}

// exportBook builds the export's workbook (WriteExportXLSX).
func exportBook(rows []ExportRow, p Preset) (*wbook, error) {
	w, err := newBook("de")
	if err != nil {
		return nil, err
	}
	if err := w.exportSheet(rows, p); err != nil {
		w.f.Close()
		return nil, err
	}
	return w, nil
}

func (w *wbook) exportSheet(rows []ExportRow, p Preset) error {
	sh := "Export"
	if err := w.f.SetSheetName("Sheet1", sh); err != nil {
		return err
	}
	for j, h := range p.Headers {
		if err := w.f.SetCellValue(sh, cellName(j+1, 1), h); err != nil {
			return err
		}
	}
	if err := w.f.SetCellStyle(sh, "A1", cellName(len(p.Headers), 1), w.head); err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		vals := make([]any, len(p.Columns))
		for j, c := range p.Columns {
			switch c {
			case "invoice":
				vals[j] = r.Invoice
			case "from":
				vals[j] = w.dateCell(r.From)
			case "to":
				vals[j] = w.dateCell(r.To)
			case "kwh":
				vals[j] = w.kwhCell(r.KWh)
			case "net_chf":
				vals[j] = w.chfCell(r.Net)
			case "vat_chf":
				vals[j] = w.chfCell(r.VAT)
			case "gross_chf":
				vals[j] = w.chfCell(r.Gross)
			case "vat_rate":
				vals[j] = float64(r.VATRate) / 100
			default:
				vals[j] = r.field(c, false)
			}
		}
		if err := w.setRow(sh, i+2, vals...); err != nil {
			return err
		}
	}
	last := cellName(len(p.Columns), max(len(rows)+1, 2))
	if err := w.f.AutoFilter(sh, "A1:"+last, nil); err != nil {
		return err
	}
	if err := w.f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	return w.f.SetColWidth(sh, "A", colName(len(p.Columns)), 13)
}
