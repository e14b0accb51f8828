package report

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/skip2/go-qrcode"

	"github.com/zevdesk/zevdesk/core"
)

// A4 and the insert's margins, in mm.
const (
	pageW, pageH = 210.0, 297.0
	marginL      = 20.0
	marginR      = 15.0
	contentW     = pageW - marginL - marginR
	// slipTop is where the QR-bill's 105 mm slip starts.
	slipTop = pageH - slipH
	// bottomLimit is the lowest baseline of page content above the slip
	// (its "separate before paying in" note sits 2 mm above the line).
	bottomLimit = slipTop - 5
)

const ptMM = 25.4 / 72 // one typographic point in mm

// colours
var (
	colText   = [3]int{0, 0, 0}
	colMuted  = [3]int{90, 90, 90}
	colRule   = [3]int{160, 160, 160}
	colSolar  = [3]int{242, 169, 0}
	colGrid   = [3]int{96, 115, 140}
	colShade  = [3]int{242, 242, 242}
	colChartG = [3]int{215, 215, 215}
)

type doc struct {
	*fpdf.Fpdf
	t  *texts
	in *Insert
}

func (d *doc) font(size float64, bold bool) {
	style := ""
	if bold {
		style = "B"
	}
	d.SetFont("sans", style, size)
}

func (d *doc) color(c [3]int) { d.SetTextColor(c[0], c[1], c[2]) }
func (d *doc) fill(c [3]int)  { d.SetFillColor(c[0], c[1], c[2]) }
func (d *doc) draw(c [3]int)  { d.SetDrawColor(c[0], c[1], c[2]) }

// text writes s with its baseline at y.
func (d *doc) text(x, y float64, s string) { d.Text(x, y, s) }

// right writes s ending at x.
func (d *doc) right(x, y float64, s string) { d.Text(x-d.GetStringWidth(s), y, s) }

// para writes s wrapped to width w from baseline y with line height lh and
// returns the baseline of the next line.
func (d *doc) para(x, y, w, lh float64, s string) float64 {
	for _, l := range d.wrap(s, w) {
		d.Text(x, y, l)
		y += lh
	}
	return y
}

// wrap breaks s into lines no wider than w at ordinary spaces only, so
// that no-break spaces keep "33.8 %" and "CHF 0.20" together.
func (d *doc) wrap(s string, w float64) []string {
	var lines []string
	cur := ""
	for _, word := range strings.Split(s, " ") {
		switch {
		case cur == "":
			cur = word
		case d.GetStringWidth(cur+" "+word) <= w:
			cur += " " + word
		default:
			lines = append(lines, cur)
			cur = word
		}
	}
	return append(lines, cur)
}

func newPDF(in *Insert, f fontSet) *doc {
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCompression(true)
	p.SetCatalogSort(true)
	// A fixed date keeps the same invoice byte for byte the same document.
	when := time.Date(in.Issued.Year, in.Issued.Month, in.Issued.Day, 0, 0, 0, 0, time.UTC)
	if in.Issued.IsZero() {
		when = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	p.SetCreationDate(when)
	p.SetModificationDate(when)
	p.SetProducer("zevdesk", true)
	p.SetAutoPageBreak(false, 0)
	p.SetMargins(marginL, 15, marginR)
	p.AddUTF8FontFromBytes("sans", "", f.regular)
	p.AddUTF8FontFromBytes("sans", "B", f.bold)
	t := textsFor(in.Lang)
	p.SetTitle(fmt.Sprintf("%s %s", t.Title, periodText(in.Period)), true)
	p.SetAuthor(in.Operator.Name, true)
	p.SetLang(in.Lang + "-CH")
	return &doc{Fpdf: p, t: t, in: in}
}

func periodText(p core.Period) string { return Date(p.From) + " – " + Date(p.To) }

// WritePDF renders the insert as an A4 PDF: the statement with its charges
// (and the QR-bill payment part at the bottom of the first page where the
// office collects itself), then a page of details (readings, chart, the
// building's solar balance, how the solar share and the price are set).
func WritePDF(w io.Writer, in *Insert) error { return writePDF(w, in, loadFonts()) }

func writePDF(w io.Writer, in *Insert, fonts fontSet) error {
	d := newPDF(in, fonts)
	d.AddPage()
	y := d.page1()
	// The slip goes at the bottom of the page the statement ends on when
	// it fits there, else on a page of its own at the end.
	slipOnFirst := in.Payment != nil && y <= bottomLimit
	if slipOnFirst {
		if err := d.slip(); err != nil {
			return err
		}
	}
	d.AddPage()
	d.page2()
	if in.Payment != nil && !slipOnFirst {
		d.AddPage()
		d.header()
		if err := d.slip(); err != nil {
			return err
		}
	}
	if err := d.Error(); err != nil {
		return fmt.Errorf("rendering the insert: %w", err)
	}
	if err := d.Output(w); err != nil {
		return fmt.Errorf("writing the insert: %w", err)
	}
	return nil
}

func addressLines(name string, a core.Address) []string {
	var ls []string
	if name != "" {
		ls = append(ls, name)
	}
	if s := strings.TrimSpace(a.Street + " " + a.Number); s != "" {
		ls = append(ls, s)
	}
	if s := strings.TrimSpace(a.Postcode + " " + a.Town); s != "" {
		if a.Country != "" && a.Country != "CH" {
			s = a.Country + "-" + s
		}
		ls = append(ls, s)
	}
	return ls
}

// header prints the operator as sender, top left, and the document's
// identity top right, on every page.
func (d *doc) header() {
	in, t := d.in, d.t
	d.color(colText)
	d.font(10, true)
	d.text(marginL, 18, in.Operator.Name)
	d.font(8.5, false)
	d.color(colMuted)
	y := 22.0
	for _, l := range addressLines("", in.Operator.Address) {
		d.text(marginL, y, l)
		y += 3.8
	}
	var contact []string
	if in.Operator.Phone != "" {
		contact = append(contact, t.ContactPhone+" "+in.Operator.Phone)
	}
	if in.Operator.Email != "" {
		contact = append(contact, in.Operator.Email)
	}
	if len(contact) > 0 {
		d.text(marginL, y, strings.Join(contact, " · "))
	}
	d.font(8.5, false)
	num := t.Draft
	if in.Number > 0 {
		num = fmt.Sprint(in.Number)
	}
	d.right(pageW-marginR, 18, t.InvoiceNo+" "+num)
	d.right(pageW-marginR, 21.8, in.SiteName)
	d.color(colText)
}

// page1 is the statement; it returns the baseline below its last line.
func (d *doc) page1() float64 {
	in, t := d.in, d.t
	d.header()

	// Recipient, in the window of a C5/C6 envelope with the window on the
	// right (SN 010130).
	d.font(10, false)
	y := 52.0
	recipient := in.Recipient
	for _, l := range addressLines(recipient, in.RecipientAddress) {
		d.text(118, y, l)
		y += 4.6
	}

	// Facts, left of the window.
	type fact struct{ k, v string }
	unit := in.Unit
	if in.UnitName != "" {
		unit += " · " + in.UnitName
	}
	num := t.Draft
	if in.Number > 0 {
		num = fmt.Sprint(in.Number)
	}
	// No-break spaces inside the address lines: a long name wraps at a
	// comma, never between street and number or postcode and town.
	site := in.SiteName
	for _, l := range addressLines("", in.SiteAddress) {
		site += ", " + strings.ReplaceAll(l, " ", "\u00a0")
	}
	facts := []fact{{t.Property, site}}
	if in.Unit != "" {
		facts = append(facts, fact{t.Unit, unit})
	}
	if in.Owner {
		facts = append(facts, fact{t.Owner, in.Recipient})
	}
	if in.TenantRef != "" {
		facts = append(facts, fact{t.TenantRef, in.TenantRef})
	}
	facts = append(facts, fact{t.InvoiceNo, num})
	if !in.Issued.IsZero() {
		facts = append(facts, fact{t.Date, Date(in.Issued)})
	}
	if in.VATNumber != "" {
		facts = append(facts, fact{t.VATNo, in.VATNumber})
	}
	y = 52.0
	for _, f := range facts {
		d.font(7.5, false)
		d.color(colMuted)
		d.text(marginL, y, f.k)
		d.font(8.5, false)
		d.color(colText)
		y = d.para(marginL+26, y, 66, 3.7, f.v) + 0.3
	}

	// Title.
	y = math.Max(y+4, 82)
	d.font(15, true)
	d.text(marginL, y, t.Title)
	y += 6
	d.font(9.5, false)
	d.text(marginL, y, t.Period+" "+periodText(in.Period)+" · "+t.Community)
	y += 6.5

	// Consumption in one line.
	d.fill(colShade)
	d.Rect(marginL, y-4.2, contentW, 6.2, "F")
	summary := fmt.Sprintf("%s%s %s kWh  ·  %s %s kWh  ·  %s %s kWh  ·  %s", t.Energy, t.Colon, KWh(in.Total, 1),
		t.LineSolar, KWh(in.Solar, 1), t.LineGrid, KWh(in.GridHT+in.GridNT, 1),
		fmt.Sprintf(t.SolarShare, Percent(int64(in.Solar), int64(in.Total))))
	// One line: smaller type where the language needs more room.
	size := 9.0
	for d.font(size, false); d.GetStringWidth(summary) > contentW-4 && size > 6.5; d.font(size, false) {
		size -= 0.25
	}
	d.text(marginL+2, y, summary)
	y += 8

	y = d.charges(y)

	// Payment.
	if y > pageH-25 {
		d.AddPage()
		d.header()
		y = 40
	}
	y += 3
	d.font(9, false)
	switch {
	case in.Balance < 0:
		y = d.para(marginL, y, contentW, 4.4, t.CreditText)
	case in.Balance == 0:
		y = d.para(marginL, y, contentW, 4.4, t.NothingToPay)
	case in.Payment != nil:
		y = d.para(marginL, y, contentW, 4.4, t.PayWithin+" "+t.PayQR)
	default:
		y = d.para(marginL, y, contentW, 4.4, t.PayWithin)
	}
	if !in.VATRegistered {
		d.font(8, false)
		d.color(colMuted)
		y = d.para(marginL, y, contentW, 4, t.NoVAT)
		d.color(colText)
	}
	return y - 4 // the last baseline
}

// rowPitch is the charges table's line pitch: 12 pt for 9 pt type.
const rowPitch = 4.3

// Columns of the charges table.
const (
	colQtyR    = marginL + 120
	colRateR   = marginL + 148
	colAmountR = pageW - marginR
)

func (d *doc) charges(y float64) float64 {
	y = d.chargesHeader(y)
	for _, r := range d.in.Rows {
		if y > pageH-18 {
			// The table continues on a new page, under its header again.
			d.AddPage()
			d.header()
			y = d.chargesHeader(40)
		}
		y = d.chargeRow(y, r)
	}
	return y
}

func (d *doc) chargesHeader(y float64) float64 {
	t := d.t
	d.color(colText)
	d.font(8, true)
	d.text(marginL, y, t.Item)
	d.right(colQtyR, y, t.Quantity)
	d.right(colRateR, y, t.Rate)
	d.right(colAmountR, y, t.AmountCHF)
	d.draw(colRule)
	d.SetLineWidth(0.2)
	d.Line(marginL, y+1.5, colAmountR, y+1.5)
	return y + 5.5
}

func (d *doc) chargeRow(y float64, r Row) float64 {
	{
		bold := r.Style == RowTotal || r.Style == RowBalance
		if r.Style == RowSubtotal || r.Style == RowTotal {
			d.SetLineWidth(0.2)
			d.Line(marginL, y-3.6, colAmountR, y-3.6)
			y += 0.8
		}
		d.font(9, bold)
		label := r.Label
		// Room for a quantity up to "123'456.789 kWh" right of the label.
		lines := d.wrap(label, colQtyR-marginL-28)
		for i, l := range lines {
			d.text(marginL, y+float64(i)*4.0, l)
		}
		d.font(9, bold)
		d.right(colQtyR, y, r.Quantity)
		d.right(colRateR, y, r.Rate)
		d.right(colAmountR, y, CHF(r.Amount))
		if r.Style == RowBalance {
			d.SetLineWidth(0.3)
			d.draw(colText)
			d.Line(colRateR+4, y+1.4, colAmountR, y+1.4)
			d.Line(colRateR+4, y+2.0, colAmountR, y+2.0)
			d.draw(colRule)
		}
		// A pitch that fits a typical quarter's 17 rows above the slip.
		y += rowPitch + float64(len(lines)-1)*4.0
	}
	return y
}

// page2 gives the details behind the statement.
func (d *doc) page2() {
	in, t := d.in, d.t
	d.header()
	y := 40.0

	// Meter readings.
	d.font(11, true)
	d.text(marginL, y, t.Readings)
	y += 6
	if len(in.Meters) == 0 {
		d.font(8.5, false)
		y = d.para(marginL, y, contentW, 4, t.NoReadings) + 2
	} else {
		d.font(8, true)
		d.text(marginL, y, t.Meter)
		d.right(marginL+95, y, t.StartReading)
		d.right(marginL+135, y, t.EndReading)
		d.right(colAmountR, y, t.Consumption)
		d.SetLineWidth(0.2)
		d.draw(colRule)
		d.Line(marginL, y+1.5, colAmountR, y+1.5)
		y += 5.5
		d.font(9, false)
		for _, m := range in.Meters {
			d.text(marginL, y, m.Meter)
			if m.Start != nil {
				d.right(marginL+95, y, KWh(*m.Start, 3))
			}
			if m.End != nil {
				d.right(marginL+135, y, KWh(*m.End, 3))
			}
			if m.Start != nil && m.End != nil {
				d.right(colAmountR, y, KWh(m.Consumption, 3))
			}
			for _, x := range m.Exchanges {
				y += 4
				d.font(8, false)
				d.text(marginL+4, y, fmt.Sprintf(t.Replaced, Date(x)))
				d.font(9, false)
			}
			y += 4.8
		}
		y += 2
	}

	// Energy by origin.
	y += 3
	d.font(11, true)
	d.text(marginL, y, t.Energy)
	y += 6
	type erow struct {
		label string
		e     core.Energy
		bold  bool
	}
	rows := []erow{{t.Solar, in.Solar, false}}
	if in.TwoRate {
		rows = append(rows, erow{t.GridHT, in.GridHT, false}, erow{t.GridNT, in.GridNT, false})
	} else {
		rows = append(rows, erow{t.Grid, in.GridHT + in.GridNT, false})
	}
	rows = append(rows, erow{t.Total, in.Total, true})
	for _, r := range rows {
		d.font(9, r.bold)
		if r.bold {
			d.SetLineWidth(0.2)
			d.Line(marginL, y-3.6, marginL+120, y-3.6)
		}
		d.text(marginL, y, r.label)
		d.right(marginL+95, y, KWh(r.e, 1)+" kWh")
		d.right(marginL+120, y, Percent(int64(r.e), int64(in.Total))+" %")
		y += 4.8
	}
	if in.Estimated > 0 {
		d.font(8, false)
		d.color(colMuted)
		d.text(marginL, y, fmt.Sprintf("%s%s %s kWh", t.EstimatedNote, t.Colon, KWh(in.Estimated, 1)))
		d.color(colText)
		y += 4.8
	}

	// Chart.
	if len(in.Bars) > 0 {
		y += 4
		y = d.chart(marginL, y, contentW, 58)
	}

	// Explanations.
	y += 4
	block := func(title, body string) {
		d.font(9.5, true)
		d.text(marginL, y, title)
		y += 4.6
		d.font(8.5, false)
		y = d.para(marginL, y, contentW, 4, body) + 2.5
	}
	block(t.Building, fmt.Sprintf(t.BuildingText, KWh(in.Production, 0), KWh(in.SelfConsumed, 0),
		Percent(int64(in.SelfConsumed), int64(in.Consumption)), Percent(int64(in.Solar), int64(in.Total))))
	how := t.how(in.Allocation)
	block(t.HowTitle, how)
	if len(in.Shares) > 0 {
		var ss []string
		for _, sh := range in.Shares {
			ss = append(ss, t.share(sh))
		}
		block(t.KeyLabel, strings.Join(ss, " "))
	}
	if in.Estimated > 0 {
		block(t.EstTitle, fmt.Sprintf(t.EstSome, KWh(in.Estimated, 1), KWh(in.Total, 1), Percent(int64(in.Estimated), int64(in.Total))))
	} else {
		block(t.EstTitle, t.EstNone)
	}
	switch {
	case in.Standard > 0 && in.CostBased:
		block(t.Art16Title, fmt.Sprintf(t.Art16Cost, PriceKWh(in.SolarPrice), PriceKWh(in.Standard)))
	case in.Standard > 0:
		block(t.Art16Title, fmt.Sprintf(t.Art16Known, PriceKWh(in.Standard), PriceKWh(in.FlatMax), PriceKWh(in.SolarPrice)))
	default:
		block(t.Art16Title, fmt.Sprintf(t.Art16Unknown, PriceKWh(in.SolarPrice)))
	}

	// Contact.
	var contact []string
	if in.Operator.Phone != "" {
		contact = append(contact, t.ContactPhone+" "+in.Operator.Phone)
	}
	if in.Operator.Email != "" {
		contact = append(contact, t.ContactEmail+" "+in.Operator.Email)
	}
	if len(contact) > 0 {
		d.font(8.5, false)
		y = d.para(marginL, y+2, contentW, 4, t.Questions+" "+in.Operator.Name+", "+strings.Join(contact, ", "))
	}
	if in.ResidentURL != "" {
		d.residentLink(math.Max(y+2, pageH-45))
	}
}

// residentLink prints the tenant's personal link to the resident web view
// with a QR code to open it from a phone.
func (d *doc) residentLink(y float64) {
	q, err := qrcode.New(d.in.ResidentURL, qrcode.Medium)
	if err != nil {
		return // a link too long for a QR code is still printed as text
	}
	q.DisableBorder = true
	const size = 24.0
	d.SetFillColor(0, 0, 0)
	d.modules(q.Bitmap(), pageW-marginR-size, y, size)
	d.font(9.5, true)
	d.text(marginL, y+4, d.t.ResidentTitle)
	d.font(8.5, false)
	y = d.para(marginL, y+8.6, contentW-size-8, 4, d.t.ResidentText)
	d.font(8.5, false)
	d.text(marginL, y+1, d.in.ResidentURL)
}

// niceCeil returns the smallest 1, 2, 2.5 or 5 × 10^k at or above v.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v-1e-9 {
			return m * p
		}
	}
	return 10 * p
}

// barLabel names a bar: the month, the ISO week or the day.
func (d *doc) barLabel(b Bar) string {
	switch d.in.Step {
	case StepMonth:
		return d.t.MonthNames[b.From.Month-1]
	case StepWeek:
		_, w := b.From.Midnight(time.UTC).ISOWeek()
		return fmt.Sprintf("%s %d", d.t.WeekAbbr, w)
	}
	return fmt.Sprintf("%02d.%02d.", b.From.Day, int(b.From.Month))
}

// chart draws the stacked solar/grid bars in vector form and returns the
// baseline below it.
func (d *doc) chart(x, y, w, h float64) float64 {
	in, t := d.in, d.t
	title := t.ChartMonth
	switch in.Step {
	case StepWeek:
		title = t.ChartWeek
	case StepDay:
		title = t.ChartDay
	}
	d.font(9.5, true)
	d.text(x, y, title)
	// Legend, right.
	d.font(8, false)
	lx := x + w
	for _, l := range []struct {
		name string
		c    [3]int
	}{{t.Grid, colGrid}, {t.LineSolar, colSolar}} {
		lx -= d.GetStringWidth(l.name)
		d.text(lx, y, l.name)
		lx -= 4.5
		d.fill(l.c)
		d.Rect(lx, y-2.6, 3, 3, "F")
		lx -= 5
	}
	top := y + 4
	axisW := 14.0
	px, pw := x+axisW, w-axisW
	ph := h - 12
	var maxE float64
	for _, b := range in.Bars {
		maxE = math.Max(maxE, (b.Solar + b.Grid).KWh())
	}
	scale := niceCeil(maxE)
	steps := 4
	if s := scale / math.Pow(10, math.Floor(math.Log10(scale))); s == 2.5 || s == 5 {
		steps = 5
	}
	d.SetLineWidth(0.15)
	d.draw(colChartG)
	d.font(7, false)
	d.color(colMuted)
	for i := 0; i <= steps; i++ {
		v := scale * float64(i) / float64(steps)
		gy := top + ph - ph*float64(i)/float64(steps)
		d.Line(px, gy, px+pw, gy)
		d.right(px-1.5, gy+1, fmt.Sprint(groupDigits(fmt.Sprintf("%.0f", v))))
	}
	n := len(in.Bars)
	slot := pw / float64(n)
	bw := math.Min(slot*0.62, 14)
	for i, b := range in.Bars {
		bx := px + slot*float64(i) + (slot-bw)/2
		hs := ph * b.Solar.KWh() / scale
		hg := ph * b.Grid.KWh() / scale
		d.fill(colSolar)
		if hs > 0 {
			d.Rect(bx, top+ph-hs, bw, hs, "F")
		}
		d.fill(colGrid)
		if hg > 0 {
			d.Rect(bx, top+ph-hs-hg, bw, hg, "F")
		}
		if n <= 16 || i%2 == 0 {
			l := d.barLabel(b)
			d.text(bx+bw/2-d.GetStringWidth(l)/2, top+ph+4, l)
		}
	}
	d.color(colText)
	return top + h
}
