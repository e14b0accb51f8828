// Package report turns billing runs into what the office sends out and
// files: the invoice insert (PDF with a Swiss QR-bill payment part), the
// Excel workbook of a run and of any period's data, and the export for
// property-management software.
//
// Documents are rendered from view models (Insert) filled from billing's
// types by one function each (FromInvoice), so that layout code never
// re-derives invoice semantics.
package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/iban"
	"github.com/zevdesk/zevdesk/core/qrbill"
)

// Insert is everything one invoice insert shows, already decided: texts are
// chosen by Lang at render time, numbers are exact.
type Insert struct {
	// Lang is de, fr, it or en.
	Lang string
	// Number is the invoice number; 0 for a draft (printed as such, without
	// a payment part).
	Number int
	// Issued is the date printed on the invoice.
	Issued core.Date

	SiteName    string
	SiteAddress core.Address
	Operator    core.Operator
	VATNumber   string

	// Recipient and RecipientAddress are the addressee; Owner marks the
	// owner's invoice.
	Recipient        string
	RecipientAddress core.Address
	Owner            bool
	TenantRef        string
	Unit, UnitName   string

	Period core.Period
	Meters []MeterRow

	// Energy billed: Solar + GridHT + GridNT = Total. TwoRate shows HT and NT
	// separately.
	Solar, GridHT, GridNT, Total core.Energy
	TwoRate                      bool
	// Estimated is the estimated part of the invoice's own metered energy.
	Estimated core.Energy

	Rows []Row
	// VATRegistered is false for an operator without VAT ("ohne MWST").
	VATRegistered            bool
	Amount, Advance, Balance core.Rappen

	// Bars is the chart of the period; Step says whether a bar is a month, a
	// week or a day. No chart is drawn without bars.
	Bars []Bar
	Step Step

	// Building balance of the whole run's period.
	Production, SelfConsumed, Consumption core.Energy
	Allocation                            core.Allocation
	// Shares are the distribution keys of the shared meters billed on this
	// invoice, with the unit's weight under each.
	Shares []Share

	// SolarPrice (incl. VAT) and Standard, FlatMax: the Art. 16 basis;
	// Standard is 0 when the tariff does not give it.
	SolarPrice, Standard, FlatMax core.Price
	// CostBased says the solar price exceeds the flat rate's 80 %: it
	// rests on the plant's effective costs (Art. 16 para. 3), and the
	// insert must not print the 80 % limit as if it applied.
	CostBased bool

	// ResidentURL is the tenant's personal link to the resident web view,
	// printed with a QR code; empty for none.
	ResidentURL string

	// Payment is the QR-bill, nil when the office does not collect itself,
	// for drafts and when nothing is to be paid.
	Payment *qrbill.Bill
}

// MeterRow is one meter's readings on the insert. Start and End are nil
// where no reading exists.
type MeterRow struct {
	Meter      string
	Start, End *core.Energy
	// Consumption is End - Start across confirmed exchanges; valid when
	// both readings exist.
	Consumption core.Energy
	Exchanges   []core.Date
}

// RowStyle says how a row is set.
type RowStyle uint8

// Row styles.
const (
	RowCharge RowStyle = iota
	RowSubtotal
	RowTax
	RowTotal
	RowBalance
)

// Row is one printed line of the charges table.
type Row struct {
	Label    string
	Quantity string
	Rate     string
	Amount   core.Rappen
	Style    RowStyle
}

// Share is a unit's part of a shared meter under its key: Weight of
// Total (areas in cm², quotas, custom weights, or 1 of the number of
// units). Weight is 0 on invoices without a unit. From and To are set when
// the units in service changed during the invoice's days (a unit entered
// or left service), one Share per stretch; they are zero otherwise.
type Share struct {
	Meter    string
	Role     core.Role
	Key      core.Key
	Weight   int64
	Total    int64
	From, To core.Date
}

// sharesOf states m's key as the site defines it over the invoice's days
// [from, to]: the unit's weight and the sum over the units in service
// (vacant units' parts go to the owner), one Share per stretch of days in
// which the units in service stay the same.
func sharesOf(site *core.Site, m core.Meter, unit string, from, to core.Date) []Share {
	if m.Key == core.KeyOwner || unit == "" {
		return []Share{{Meter: m.ID, Role: m.Role, Key: m.Key}}
	}
	var out []Share
	for d := from; !d.After(to); {
		sh := Share{Meter: m.ID, Role: m.Role, Key: m.Key, From: d, To: to}
		for _, u := range site.Units {
			if !u.InService(d) {
				if u.Since.After(d) && u.Since.Before(sh.To.AddDays(1)) {
					sh.To = u.Since.AddDays(-1) // it enters service
				}
				continue
			}
			w := u.KeyWeight(m.Key)
			sh.Total += w
			if u.ID == unit {
				sh.Weight = w
			}
			if !u.Retired.IsZero() && u.Retired.Before(sh.To) {
				sh.To = u.Retired
			}
		}
		out = append(out, sh)
		d = sh.To.AddDays(1)
	}
	if len(out) == 1 {
		out[0].From, out[0].To = core.Date{}, core.Date{}
	}
	return out
}

// Step is the length of a chart bar.
type Step uint8

// Chart steps.
const (
	StepMonth Step = iota
	StepWeek
	StepDay
)

// Bar is one bar of the chart: the invoice's energy over [From, To].
type Bar struct {
	From, To    core.Date
	Solar, Grid core.Energy
}

// FromInvoice fills an Insert from a billing run's invoice. bars may be nil
// (no chart); BarsFor computes them from the run's input.
func FromInvoice(site *core.Site, run *billing.Run, inv *billing.Invoice, issued core.Date, bars []Bar) (*Insert, error) {
	t := textsFor(inv.Occupancy.Language)
	lang := inv.Occupancy.Language
	if _, ok := languages[lang]; !ok {
		lang = "de"
	}
	in := &Insert{
		Lang: lang, Number: inv.Number, Issued: issued,
		SiteName: site.Name, SiteAddress: site.Address, Operator: site.Operator, VATNumber: site.VATNumber,
		Recipient: inv.Tenant, RecipientAddress: inv.Occupancy.Address, Owner: inv.Owner,
		TenantRef: inv.Occupancy.Reference, Unit: inv.Unit,
		Period: core.Period{From: inv.From, To: inv.To},
		Solar:  inv.KWh.Solar, GridHT: inv.KWh.GridHT, GridNT: inv.KWh.GridNT, Total: inv.KWh.Total,
		Estimated:     inv.EstimatedKWh,
		VATRegistered: site.VATRegistered(),
		Amount:        inv.Total, Advance: inv.Advance, Balance: inv.Balance,
		Bars: bars, Step: stepFor(invoicePeriod(inv)),
		Production: run.Building.Production, SelfConsumed: run.Building.SelfConsumed, Consumption: run.Building.Consumption,
		Allocation: run.Allocation,
	}
	// The operator owning the building bills itself: an internal
	// statement, at its own address, without a payment part.
	selfBilled := inv.Owner && site.Owner == ""
	switch {
	case in.RecipientAddress != (core.Address{}):
	case selfBilled:
		in.RecipientAddress = site.Operator.Address
	case inv.Owner:
		// The owner's invoice goes to the owner's address (the site file's
		// [owner]); without one the payer box stays blank.
		in.RecipientAddress = site.OwnerAddress
	case !inv.Owner && inv.Unit != "":
		// Tenants live in the building: its address is theirs.
		in.RecipientAddress = site.Address
	}
	if u := site.Unit(inv.Unit); u != nil {
		in.UnitName = u.Name
	}
	tariff, _ := site.TariffAt(inv.From)
	in.TwoRate = tariff.TwoRate() || inv.KWh.GridNT != 0
	if chk, err := billing.CheckSolarPrice(tariff, site.VATRate(tariff, inv.From), nil); err == nil {
		in.SolarPrice, in.Standard, in.FlatMax = chk.Solar, chk.Standard, chk.FlatMax
		in.CostBased = chk.Solar > chk.FlatMax
	} else {
		in.SolarPrice = core.Price(core.DivRound(int64(tariff.Solar)*int64(10000+site.VATRate(tariff, inv.From)), 10000))
	}
	for _, mr := range inv.Readings {
		in.Meters = append(in.Meters, meterRow(mr))
	}
	seen := map[string]bool{}
	lc := contextOf(site, inv)
	for _, l := range inv.Lines {
		switch l.Kind {
		case billing.KindCommon, billing.KindHeatPump:
			role := core.RoleCommon
			if l.Kind == billing.KindHeatPump {
				role = core.RoleHeatPump
			}
			for _, m := range site.MetersWithRole(role) {
				if !seen[m.ID] {
					seen[m.ID] = true
					in.Shares = append(in.Shares, sharesOf(site, m, inv.Unit, inv.From, inv.To)...)
				}
			}
		}
		in.Rows = append(in.Rows, row(t, l, lc))
	}
	if site.Settings.CollectSelf && inv.Number > 0 && inv.Balance > 0 && !selfBilled {
		b, err := paymentBill(site, inv, in, t)
		if err != nil {
			return nil, fmt.Errorf("invoice %d (%s): %w", inv.Number, inv.Tenant, err)
		}
		in.Payment = b
	}
	return in, nil
}

func invoicePeriod(inv *billing.Invoice) core.Period { return core.Period{From: inv.From, To: inv.To} }

// stepFor chooses the chart's bars: months for three months or more, weeks
// for more than two weeks, days below.
func stepFor(p core.Period) Step {
	switch {
	case p.Days() > 62:
		return StepMonth
	case p.Days() > 14:
		return StepWeek
	}
	return StepDay
}

func meterRow(mr billing.MeterReadings) MeterRow {
	r := MeterRow{Meter: mr.Meter}
	if mr.Start != nil {
		v := mr.Start.Import
		r.Start = &v
	}
	if mr.End != nil {
		v := mr.End.Import
		r.End = &v
	}
	if r.Start != nil && r.End != nil {
		r.Consumption = *r.End - *r.Start
		for _, x := range mr.Replacements {
			r.Consumption += x.OldFinal.Import - x.NewInitial.Import
		}
	}
	for _, x := range mr.Replacements {
		r.Exchanges = append(r.Exchanges, core.DateOf(x.Time))
	}
	return r
}

// lineContext is what a line's label needs beyond the line itself.
type lineContext struct {
	site *core.Site
	// from is the invoice's first day: the tariff of lines that name none.
	from core.Date
	// mixedTariff and mixedRate say that the invoice's charges fall under
	// more than one tariff version or VAT rate: each line then names its
	// own, so that the reader can tell two lines of the same energy apart.
	mixedTariff, mixedRate bool
}

func contextOf(site *core.Site, inv *billing.Invoice) lineContext {
	c := lineContext{site: site, from: inv.From}
	tariffs := map[core.Date]bool{}
	rates := map[core.BasisPoints]bool{}
	for _, l := range inv.Lines {
		if !l.Kind.Charge() {
			continue
		}
		if !l.Tariff.IsZero() {
			tariffs[l.Tariff] = true
		}
		rates[l.Rate] = true
	}
	c.mixedTariff, c.mixedRate = len(tariffs) > 1, len(rates) > 1
	return c
}

// twoRate reports whether the tariff a line is priced by has HT and NT.
func (c lineContext) twoRate(l billing.Line) bool {
	if c.site == nil {
		return true
	}
	d := l.Tariff
	if d.IsZero() {
		d = c.from
	}
	t, ok := c.site.TariffAt(d)
	return !ok || t.TwoRate()
}

// row translates a billing line. Labels come from the line's Kind, Class
// and Varying, never from billing's English label; quantities and rates are
// formatted here.
func row(t *texts, l billing.Line, c lineContext) Row {
	r := Row{Amount: l.Amount}
	label := t.kind(l.Kind)
	switch l.Kind {
	case billing.KindGridHT:
		if !c.twoRate(l) {
			label = t.LineGrid
		}
	case billing.KindCommon, billing.KindHeatPump, billing.KindEV, billing.KindDifferent:
		// A shared meter's energy is billed in lines per class: name it
		// briefly, the own lines above have the full wording.
		var e string
		switch l.Class {
		case billing.KindSolar:
			e = t.ShareSolar
		case billing.KindGridNT:
			e = t.ShareGridNT
		case billing.KindGridHT:
			e = t.ShareGridHT
			if !c.twoRate(l) {
				e = t.ShareGrid
			}
		}
		if e != "" {
			label += " – " + e
		}
	}
	var notes []string
	switch l.Varying {
	case "utility":
		notes = append(notes, t.AtUtilityCost)
	case "dynamic":
		notes = append(notes, t.DynamicPrice)
	}
	if l.Kind.Charge() {
		if c.mixedTariff && !l.Tariff.IsZero() {
			notes = append(notes, fmt.Sprintf(t.TariffFrom, Date(l.Tariff)))
		}
		if c.mixedRate {
			notes = append(notes, fmt.Sprintf(t.VATRate, l.Rate))
		}
	}
	if len(notes) > 0 {
		label += " (" + strings.Join(notes, ", ") + ")"
	}
	switch l.Kind {
	case billing.KindSubtotal:
		r.Style = RowSubtotal
	case billing.KindVAT:
		r.Style = RowTax
		label = fmt.Sprintf(t.LineVAT, l.Rate, CHF(l.Base))
	case billing.KindRounding:
		r.Style = RowTax
	case billing.KindTotal:
		r.Style = RowTotal
	case billing.KindAdvance:
		r.Style = RowTax
		if l.Days > 0 && l.Fee != 0 {
			r.Quantity = strconv.Itoa(l.Days) + " " + t.Days
			r.Rate = CHF(l.Fee) + t.PerMonth
		}
	case billing.KindBalance:
		r.Style = RowBalance
		label = t.LineBalanceDue
		if l.Amount < 0 {
			label = t.LineCredit
		}
	default:
		switch {
		case l.Days > 0:
			r.Quantity = strconv.Itoa(l.Days) + " " + t.Days
			if l.Count > 1 {
				r.Quantity = fmt.Sprintf(t.Units, l.Count) + " " + r.Quantity
			}
			r.Rate = CHF(l.Fee) + t.PerMonth
		case l.Energy != 0:
			// To the Wh, as billed: the tenant's quantity × rate gives
			// the line's amount, and the lines add up to the meter's
			// consumption on page 2 (to 0.1 kWh they would not).
			r.Quantity = KWh(l.Energy, 3) + " kWh"
			if l.Price != 0 {
				r.Rate = PriceKWh(l.Price)
			}
		}
	}
	r.Label = label
	return r
}

// paymentBill makes the QR-bill of an invoice: the operator's account and
// address, the balance, the recipient as debtor where the address is
// complete, and a reference derived from the site and the invoice number
// (QRR for a QR-IBAN, SCOR otherwise).
func paymentBill(site *core.Site, inv *billing.Invoice, in *Insert, t *texts) (*qrbill.Bill, error) {
	op := site.Operator
	b := &qrbill.Bill{
		Account:  op.IBAN,
		Creditor: qrAddress(op.Name, op.Address),
		Amount:   inv.Balance, HasAmount: true, Currency: "CHF",
	}
	if a := in.RecipientAddress; in.Recipient != "" && a.Postcode != "" && a.Town != "" {
		b.Debtor = qrAddress(in.Recipient, a)
	}
	// The reference carries the site's code before the invoice number:
	// sites billed into one account keep apart (qrbill.InvoiceQRR).
	var err error
	if iban.IsQRIBAN(op.IBAN) {
		b.RefType = qrbill.QRR
		b.Reference, err = qrbill.InvoiceQRR(site.ID, inv.Number)
	} else {
		b.RefType = qrbill.SCOR
		b.Reference, err = qrbill.InvoiceSCOR(site.ID, inv.Number)
	}
	if err != nil {
		return nil, err
	}
	b.Message = qrbill.Replace(fmt.Sprintf("%s %d, %s - %s", t.InvoiceNo, inv.Number, Date(inv.From), Date(inv.To)))
	if inv.Unit != "" {
		b.Message += ", " + qrbill.Replace(inv.Unit)
	}
	b.BillInfo = swicoS1(site, inv, in.Issued)
	if len([]rune(b.Message))+len([]rune(b.BillInfo)) > 140 {
		b.BillInfo = ""
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("payment part: %w", err)
	}
	return b, nil
}

func qrAddress(name string, a core.Address) qrbill.Address {
	country := a.Country
	if country == "" {
		country = "CH"
	}
	return qrbill.Address{Name: qrbill.Replace(name), Street: qrbill.Replace(a.Street), Number: qrbill.Replace(a.Number),
		Postcode: qrbill.Replace(a.Postcode), Town: qrbill.Replace(a.Town), Country: country}
}

// swicoS1 is the structured bill information (Swico S1) that accounting
// software reads: invoice number, date, customer reference, UID, VAT period
// and rates, and the payment term.
func swicoS1(site *core.Site, inv *billing.Invoice, issued core.Date) string {
	esc := func(s string) string {
		return strings.NewReplacer(`\`, `\\`, `/`, `\/`).Replace(qrbill.Replace(s))
	}
	yymmdd := func(d core.Date) string { return fmt.Sprintf("%02d%02d%02d", d.Year%100, int(d.Month), d.Day) }
	var b strings.Builder
	b.WriteString("//S1/10/" + strconv.Itoa(inv.Number))
	if !issued.IsZero() {
		b.WriteString("/11/" + yymmdd(issued))
	}
	if ref := inv.Occupancy.Reference; ref != "" {
		b.WriteString("/20/" + esc(ref))
	}
	if uid := uidDigits(site.VATNumber); uid != "" {
		b.WriteString("/30/" + uid)
		b.WriteString("/31/" + yymmdd(inv.From) + yymmdd(inv.To))
		var rates []string
		for _, l := range inv.Lines {
			if l.Kind == billing.KindVAT {
				rates = append(rates, l.Rate.String()+":"+l.Base.String())
			}
		}
		if len(rates) == 1 {
			rates[0], _, _ = strings.Cut(rates[0], ":")
		}
		if len(rates) > 0 {
			b.WriteString("/32/" + strings.Join(rates, ";"))
		}
	}
	// The payment term in days from the invoice date, as the site sets it.
	b.WriteString("/40/0:" + strconv.Itoa(site.Settings.PaymentTerm()))
	return b.String()
}

// uidDigits returns the 9 digits of a Swiss UID ("CHE-123.456.789 MWST").
func uidDigits(vat string) string {
	var d []byte
	for i := 0; i < len(vat); i++ {
		if vat[i] >= '0' && vat[i] <= '9' {
			d = append(d, vat[i])
		}
	}
	if len(d) != 9 {
		return ""
	}
	return string(d)
}
