package report

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
)

// wb are the workbook's words in de, fr, it, en (the office's language).
var wb = map[string][4]string{
	"Summary":          {"Übersicht", "Résumé", "Riepilogo", "Summary"},
	"Data":             {"Viertelstundenwerte", "Valeurs quart-horaires", "Valori quartorari", "15-minute data"},
	"Invoice":          {"Rechnung", "Facture", "Fattura", "Invoice"},
	"Site":             {"ZEV", "RCP", "RCP", "Community"},
	"Period":           {"Periode", "Période", "Periodo", "Period"},
	"Production":       {"Produktion kWh", "Production kWh", "Produzione kWh", "Production kWh"},
	"SelfConsumed":     {"Eigenverbrauch kWh", "Autoconsommation kWh", "Autoconsumo kWh", "Self-consumed kWh"},
	"FedIn":            {"Einspeisung kWh", "Injection kWh", "Immissione kWh", "Fed in kWh"},
	"GridAlloc":        {"Netzbezug (verteilt) kWh", "Soutirage (réparti) kWh", "Prelievo (ripartito) kWh", "Grid (allocated) kWh"},
	"Consumption":      {"Verbrauch kWh", "Consommation kWh", "Consumo kWh", "Consumption kWh"},
	"GridImport":       {"Netzzähler Bezug kWh", "Compteur réseau soutirage kWh", "Contatore rete prelievo kWh", "Grid meter import kWh"},
	"GridExport":       {"Netzzähler Einspeisung kWh", "Compteur réseau injection kWh", "Contatore rete immissione kWh", "Grid meter export kWh"},
	"Difference":       {"Messdifferenz kWh", "Différence de mesure kWh", "Differenza di misura kWh", "Metering difference kWh"},
	"Estimated":        {"Geschätzt kWh", "Estimé kWh", "Stimato kWh", "Estimated kWh"},
	"SelfSufficiency":  {"Eigenversorgungsgrad", "Taux d'autoapprovisionnement", "Grado di autoapprovvigionamento", "Self-sufficiency"},
	"Number":           {"Nr.", "N°", "N.", "No."},
	"Unit":             {"Objekt", "Objet", "Unità", "Unit"},
	"Tenant":           {"Empfänger", "Destinataire", "Destinatario", "Recipient"},
	"TenantRef":        {"Mieter-Nr.", "N° locataire", "N. inquilino", "Tenant ref."},
	"From":             {"Von", "Du", "Dal", "From"},
	"To":               {"Bis", "Au", "Al", "To"},
	"Solar":            {"Solar kWh", "Solaire kWh", "Solare kWh", "Solar kWh"},
	"GridHT":           {"Netz HT kWh", "Réseau HT kWh", "Rete AT kWh", "Grid HT kWh"},
	"GridNT":           {"Netz NT kWh", "Réseau BT kWh", "Rete BT kWh", "Grid NT kWh"},
	"Total":            {"Total kWh", "Total kWh", "Totale kWh", "Total kWh"},
	"Net":              {"Netto CHF", "Net CHF", "Netto CHF", "Net CHF"},
	"VAT":              {"MWST CHF", "TVA CHF", "IVA CHF", "VAT CHF"},
	"Gross":            {"Total CHF", "Total CHF", "Totale CHF", "Total CHF"},
	"Advance":          {"Akonto CHF", "Acomptes CHF", "Acconti CHF", "Advance CHF"},
	"Balance":          {"Saldo CHF", "Solde CHF", "Saldo CHF", "Balance CHF"},
	"Item":             {"Position", "Désignation", "Voce", "Item"},
	"Kind":             {"Art", "Type", "Tipo", "Kind"},
	"Quantity":         {"Menge", "Quantité", "Quantità", "Quantity"},
	"QtyUnit":          {"Einheit", "Unité", "Unità di misura", "Unit"},
	"Price":            {"Ansatz CHF", "Prix CHF", "Prezzo CHF", "Rate CHF"},
	"Amount":           {"Betrag CHF", "Montant CHF", "Importo CHF", "Amount CHF"},
	"VATRate":          {"MWST-Satz %", "Taux TVA %", "Aliquota IVA %", "VAT rate %"},
	"Lines":            {"Rechnungspositionen", "Positions des factures", "Voci delle fatture", "Invoice lines"},
	"Invoices":         {"Rechnungen", "Factures", "Fatture", "Invoices"},
	"Start":            {"Beginn (Ortszeit)", "Début (heure locale)", "Inizio (ora locale)", "Start (local time)"},
	"Offset":           {"Zeitzone", "Fuseau", "Fuso orario", "Time zone"},
	"kWh":              {"kWh", "kWh", "kWh", "kWh"},
	"solar":            {"Solar kWh", "Solaire kWh", "Solare kWh", "solar kWh"},
	"grid":             {"Netz kWh", "Réseau kWh", "Rete kWh", "grid kWh"},
	"quality":          {"Qualität", "Qualité", "Qualità", "quality"},
	"production":       {"Produktion kWh", "Production kWh", "Produzione kWh", "production kWh"},
	"import":           {"Bezug kWh", "Soutirage kWh", "Prelievo kWh", "import kWh"},
	"export":           {"Einspeisung kWh", "Injection kWh", "Immissione kWh", "export kWh"},
	"Draft":            {"Entwurf", "Projet", "Bozza", "draft"},
	"Days":             {"Tage", "jours", "giorni", "days"},
	"Owner":            {"Eigentümer", "Propriétaire", "Proprietario", "Owner"},
	"missing":          {"fehlt", "manquant", "mancante", "missing"},
	"measured":         {"gemessen", "mesuré", "misurato", "measured"},
	"estimated":        {"geschätzt", "estimé", "stimato", "estimated"},
	"edited":           {"korrigiert", "corrigé", "corretto", "edited"},
	"EstimatedInvoice": {"davon geschätzt kWh", "dont estimé kWh", "di cui stimato kWh", "of which estimated kWh"},
}

func langIndex(lang string) int {
	switch lang {
	case "fr":
		return 1
	case "it":
		return 2
	case "en":
		return 3
	}
	return 0
}

type wbook struct {
	f    *excelize.File
	lang int
	// data is the 15-minute sheet, written at save time (see data.go).
	data *dataPlan
	// styles
	head, kwh, chf, price, date, datetime, pct, bold, boldCHF, title int
}

func (w *wbook) w(key string) string {
	v, ok := wb[key]
	if !ok {
		return key
	}
	return v[w.lang]
}

func newBook(lang string) (*wbook, error) {
	f := excelize.NewFile()
	b := &wbook{f: f, lang: langIndex(lang)}
	var err error
	style := func(s *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(s)
		return id
	}
	fmtStr := func(s string) *string { return &s }
	b.head = style(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E8E8E8"}},
		Border: []excelize.Border{{Type: "bottom", Color: "808080", Style: 1}}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	b.kwh = style(&excelize.Style{CustomNumFmt: fmtStr("#,##0.000")})
	b.chf = style(&excelize.Style{CustomNumFmt: fmtStr("#,##0.00")})
	// Prices per kWh: at least the Rappen, up to the µCHF they are kept in.
	b.price = style(&excelize.Style{CustomNumFmt: fmtStr("#,##0.00####")})
	b.date = style(&excelize.Style{CustomNumFmt: fmtStr("dd.mm.yyyy")})
	b.datetime = style(&excelize.Style{CustomNumFmt: fmtStr("dd.mm.yyyy hh:mm")})
	b.pct = style(&excelize.Style{CustomNumFmt: fmtStr("0.0%")})
	b.bold = style(&excelize.Style{Font: &excelize.Font{Bold: true}})
	b.boldCHF = style(&excelize.Style{Font: &excelize.Font{Bold: true}, CustomNumFmt: fmtStr("#,##0.00")})
	b.title = style(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	if err != nil {
		return nil, fmt.Errorf("creating workbook styles: %w", err)
	}
	return b, nil
}

// Cell values: numbers stay numbers (kWh with 3 decimals exact to the Wh,
// CHF exact to the Rappen), dates are Excel dates.
func (w *wbook) kwhCell(e core.Energy) excelize.Cell {
	return excelize.Cell{StyleID: w.kwh, Value: e.KWh()}
}
func (w *wbook) chfCell(r core.Rappen) excelize.Cell {
	return excelize.Cell{StyleID: w.chf, Value: float64(r) / 100}
}
func (w *wbook) dateCell(d core.Date) excelize.Cell {
	return excelize.Cell{StyleID: w.date, Value: excelDate(d)}
}

// excelDate is the Excel serial number of a civil date (1900 date system).
func excelDate(d core.Date) float64 {
	return float64(core.MustDate(1899, 12, 30).DaysUntil(d))
}

// excelTime is the Excel serial number of t's wall-clock time in its zone.
func excelTime(t time.Time) float64 {
	d := core.DateOf(t)
	sec := t.Hour()*3600 + t.Minute()*60 + t.Second()
	return excelDate(d) + float64(sec)/86400
}

func cellName(col, row int) string {
	n, _ := excelize.CoordinatesToCellName(col, row)
	return n
}

func colName(col int) string {
	n, _ := excelize.ColumnNumberToName(col)
	return n
}

// setRow writes values from column 1 of row.
func (w *wbook) setRow(sheet string, row int, vals ...any) error {
	for i, v := range vals {
		c := cellName(i+1, row)
		var err error
		switch x := v.(type) {
		case excelize.Cell:
			if err = w.f.SetCellValue(sheet, c, x.Value); err == nil && x.StyleID != 0 {
				err = w.f.SetCellStyle(sheet, c, c, x.StyleID)
			}
		case nil:
		default:
			err = w.f.SetCellValue(sheet, c, x)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *wbook) header(sheet string, row int, names ...string) error {
	for i, n := range names {
		if err := w.f.SetCellValue(sheet, cellName(i+1, row), w.w(n)); err != nil {
			return err
		}
	}
	return w.f.SetCellStyle(sheet, cellName(1, row), cellName(len(names), row), w.head)
}

func invoiceSheetName(w *wbook, inv *billing.Invoice, i int) string {
	if inv.Number > 0 {
		return fmt.Sprintf("%s %d", w.w("Invoice"), inv.Number)
	}
	return fmt.Sprintf("%s %s %d", w.w("Invoice"), w.w("Draft"), i+1)
}

// WriteWorkbook writes a billing run as an Excel workbook: a summary sheet
// (the building's balance, every invoice's totals and lines), a sheet per
// invoice and the period's 15-minute data. lang is the office's language.
func WriteWorkbook(out io.Writer, in *billing.Input, run *billing.Run, lang string) error {
	w, err := newBook(lang)
	if err != nil {
		return err
	}
	defer w.f.Close()
	if err := w.summary(in.Site, run); err != nil {
		return fmt.Errorf("writing the summary sheet: %w", err)
	}
	for i := range run.Invoices {
		if err := w.invoiceSheet(in.Site, &run.Invoices[i], i); err != nil {
			return fmt.Errorf("writing the sheet of invoice %d: %w", run.Invoices[i].Number, err)
		}
	}
	if err := w.dataSheet(in); err != nil {
		return fmt.Errorf("writing the 15-minute data: %w", err)
	}
	return w.save(out, in.Site.Operator.Name)
}

// WriteDataWorkbook writes a period's 15-minute data (as billing.Load reads
// it) without billing: the export of `zevdesk export xlsx`.
func WriteDataWorkbook(out io.Writer, in *billing.Input, lang string) error {
	w, err := newBook(lang)
	if err != nil {
		return err
	}
	defer w.f.Close()
	if err := w.dataSheet(in); err != nil {
		return fmt.Errorf("writing the 15-minute data: %w", err)
	}
	if err := w.f.DeleteSheet("Sheet1"); err != nil {
		return err
	}
	return w.save(out, in.Site.Operator.Name)
}

func (w *wbook) save(out io.Writer, author string) error {
	if idx, err := w.f.GetSheetIndex("Sheet1"); err == nil && idx >= 0 {
		if err := w.f.DeleteSheet("Sheet1"); err != nil {
			return err
		}
	}
	w.f.SetActiveSheet(0)
	// A fixed creation time keeps reruns identical.
	if err := w.f.SetDocProps(&excelize.DocProperties{Creator: author, Created: "2000-01-01T00:00:00Z", Modified: "2000-01-01T00:00:00Z"}); err != nil {
		return err
	}
	if w.data == nil {
		w.f.SetZipWriter(fastZip)
		if _, err := w.f.WriteTo(out); err != nil {
			return fmt.Errorf("writing the workbook: %w", err)
		}
		return nil
	}
	return w.saveWithData(out)
}

func (w *wbook) summary(site *core.Site, run *billing.Run) error {
	sh := w.w("Summary")
	if _, err := w.f.NewSheet(sh); err != nil {
		return err
	}
	b := run.Building
	rows := [][]any{
		{excelize.Cell{StyleID: w.title, Value: site.Name}},
		{w.w("Period"), w.dateCell(run.Period.From), w.dateCell(run.Period.To)},
		{},
		{w.w("Production"), w.kwhCell(b.Production)},
		{w.w("SelfConsumed"), w.kwhCell(b.SelfConsumed)},
		{w.w("FedIn"), w.kwhCell(b.FedIn)},
		{w.w("GridAlloc"), w.kwhCell(b.Grid)},
		{w.w("Consumption"), w.kwhCell(b.Consumption)},
		{w.w("GridImport"), w.kwhCell(b.GridMeterImport)},
		{w.w("GridExport"), w.kwhCell(b.GridMeterExport)},
		{w.w("Difference"), w.kwhCell(b.Difference)},
		{w.w("Estimated"), w.kwhCell(b.Estimated)},
		{w.w("SelfSufficiency"), excelize.Cell{StyleID: w.pct, Value: ratio(b.SelfConsumed, b.Consumption)}},
		{},
	}
	for i, r := range rows {
		if err := w.setRow(sh, i+1, r...); err != nil {
			return err
		}
	}
	r := len(rows) + 1
	if err := w.f.SetCellStyle(sh, cellName(1, r), cellName(1, r), w.bold); err != nil {
		return err
	}
	if err := w.f.SetCellValue(sh, cellName(1, r), w.w("Invoices")); err != nil {
		return err
	}
	r++
	cols := []string{"Number", "Unit", "Tenant", "TenantRef", "From", "To", "Solar", "GridHT", "GridNT", "Total",
		"EstimatedInvoice", "Net", "VAT", "Gross", "Advance", "Balance"}
	if err := w.header(sh, r, cols...); err != nil {
		return err
	}
	first := r
	for i := range run.Invoices {
		inv := &run.Invoices[i]
		r++
		num := any(inv.Number)
		if inv.Number == 0 {
			num = w.w("Draft")
		}
		if err := w.setRow(sh, r, num, inv.Unit, inv.Tenant, inv.Occupancy.Reference, w.dateCell(inv.From), w.dateCell(inv.To),
			w.kwhCell(inv.KWh.Solar), w.kwhCell(inv.KWh.GridHT), w.kwhCell(inv.KWh.GridNT), w.kwhCell(inv.KWh.Total),
			w.kwhCell(inv.EstimatedKWh), w.chfCell(inv.Net), w.chfCell(inv.VAT), w.chfCell(inv.Total),
			w.chfCell(inv.Advance), w.chfCell(inv.Balance)); err != nil {
			return err
		}
	}
	if err := w.f.AutoFilter(sh, cellName(1, first)+":"+cellName(len(cols), max(r, first+1)), nil); err != nil {
		return err
	}
	r += 2
	if err := w.f.SetCellValue(sh, cellName(1, r), w.w("Lines")); err != nil {
		return err
	}
	if err := w.f.SetCellStyle(sh, cellName(1, r), cellName(1, r), w.bold); err != nil {
		return err
	}
	r++
	if err := w.header(sh, r, "Number", "Unit", "Tenant", "Kind", "Item", "Quantity", "QtyUnit", "Price", "VATRate", "Amount"); err != nil {
		return err
	}
	tx := textsFor([...]string{"de", "fr", "it", "en"}[w.lang])
	for i := range run.Invoices {
		inv := &run.Invoices[i]
		for _, l := range inv.Lines {
			r++
			q, u, p := lineQuantity(w, l)
			num := any(inv.Number)
			if inv.Number == 0 {
				num = w.w("Draft")
			}
			if err := w.setRow(sh, r, num, inv.Unit, inv.Tenant, string(l.Kind), row(tx, l, contextOf(site, inv)).Label, q, u, p,
				excelize.Cell{StyleID: 0, Value: vatRate(l)}, w.chfCell(l.Amount)); err != nil {
				return err
			}
		}
	}
	widths := map[string]float64{"A": 30, "B": 14, "C": 26, "D": 14, "E": 34, "F": 12, "G": 12, "H": 12, "I": 12, "J": 12, "K": 12, "L": 12, "M": 12, "N": 12, "O": 12, "P": 12}
	for c, wd := range widths {
		if err := w.f.SetColWidth(sh, c, c, wd); err != nil {
			return err
		}
	}
	return nil
}

func vatRate(l billing.Line) any {
	if l.Rate == 0 {
		return nil
	}
	v, _ := strconv.ParseFloat(l.Rate.String(), 64)
	return v
}

// lineQuantity returns a line's quantity cell, its unit and its rate cell.
func lineQuantity(w *wbook, l billing.Line) (any, string, any) {
	switch {
	case l.Days > 0:
		var fee any
		if l.Fee != 0 {
			fee = w.chfCell(l.Fee)
		}
		return l.Days * max(l.Count, 1), w.w("Days"), fee
	case l.Energy != 0:
		var p any
		if l.Price != 0 {
			p = excelize.Cell{StyleID: w.price, Value: float64(l.Price) / 1e6}
		}
		return w.kwhCell(l.Energy), "kWh", p
	}
	return nil, "", nil
}

func ratio(a, b core.Energy) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (w *wbook) invoiceSheet(site *core.Site, inv *billing.Invoice, i int) error {
	sh := invoiceSheetName(w, inv, i)
	if _, err := w.f.NewSheet(sh); err != nil {
		return err
	}
	num := any(inv.Number)
	if inv.Number == 0 {
		num = w.w("Draft")
	}
	rows := [][]any{
		{excelize.Cell{StyleID: w.title, Value: w.w("Invoice")}, num},
		{w.w("Site"), site.Name},
		{w.w("Unit"), inv.Unit},
		{w.w("Tenant"), inv.Tenant},
		{w.w("TenantRef"), inv.Occupancy.Reference},
		{w.w("Period"), w.dateCell(inv.From), w.dateCell(inv.To)},
		{w.w("Solar"), w.kwhCell(inv.KWh.Solar)},
		{w.w("GridHT"), w.kwhCell(inv.KWh.GridHT)},
		{w.w("GridNT"), w.kwhCell(inv.KWh.GridNT)},
		{w.w("Total"), w.kwhCell(inv.KWh.Total)},
		{w.w("EstimatedInvoice"), w.kwhCell(inv.EstimatedKWh)},
		{},
	}
	for r, v := range rows {
		if err := w.setRow(sh, r+1, v...); err != nil {
			return err
		}
	}
	r := len(rows) + 1
	if err := w.header(sh, r, "Item", "Quantity", "QtyUnit", "Price", "VATRate", "Amount"); err != nil {
		return err
	}
	if err := w.f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: r, TopLeftCell: cellName(1, r+1), ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	tx := textsFor([...]string{"de", "fr", "it", "en"}[w.lang])
	lc := contextOf(site, inv)
	for _, l := range inv.Lines {
		r++
		q, u, p := lineQuantity(w, l)
		amount := w.chfCell(l.Amount)
		label := any(row(tx, l, lc).Label)
		if !l.Kind.Charge() && l.Kind != billing.KindVAT && l.Kind != billing.KindRounding && l.Kind != billing.KindAdvance {
			amount.StyleID = w.boldCHF
			label = excelize.Cell{StyleID: w.bold, Value: label}
		}
		if err := w.setRow(sh, r, label, q, u, p, vatRate(l), amount); err != nil {
			return err
		}
	}
	for c, wd := range map[string]float64{"A": 52, "B": 14, "C": 10, "D": 12, "E": 12, "F": 14} {
		if err := w.f.SetColWidth(sh, c, c, wd); err != nil {
			return err
		}
	}
	return nil
}

// solarFraction returns the solar part of every consumer's energy in a slot
// as num/den, for the data sheet only (invoices come from billing). Under
// the proportional and the balance model every consumer gets the same
// fraction of its consumption: min(P, C)/C, and (C - grid import)/C. Under
// the equal model shares differ per consumer and are not shown (den = 0).
func solarFraction(a core.Allocation, P, C, G core.Energy, hasGrid bool) (num, den int64) {
	if C <= 0 {
		return 0, 0
	}
	switch a {
	case core.AllocProportional, "":
		return int64(min(max(P, 0), C)), int64(C)
	case core.AllocBalance:
		if !hasGrid {
			return 0, 0
		}
		return int64(min(max(C-G, 0), C)), int64(C)
	}
	return 0, 0
}
