package report

import (
	"fmt"
	"strings"

	"github.com/skip2/go-qrcode"

	"github.com/zevdesk/zevdesk/core/qrbill"
)

// Geometry of the QR-bill payment part (Swiss Implementation Guidelines
// QR-bill 2.3 and its style guide), in mm from the slip's top-left corner.
const (
	slipH       = 105.0
	receiptW    = 62.0
	paymentW    = 148.0
	slipMargin  = 5.0
	qrX, qrY    = receiptW + slipMargin, 17.0 // the Swiss QR Code
	qrSize      = 46.0
	crossSize   = 7.0 // the Swiss cross with its white border
	crossInner  = 6.0 // its black square
	crossBarW   = 7.0 / 6.0
	crossBarLen = 35.0 / 9.0
	infoX       = receiptW + slipMargin + qrSize + slipMargin // right column of the payment part
	infoW       = receiptW + paymentW - slipMargin - infoX
	receiptInW  = receiptW - 2*slipMargin
)

// Baselines (pt from the slip's top) and type sizes of the style guide.
const (
	titleBase      = 22.97
	payInfoBase    = 20.573 // first heading of the payment part's right column
	recInfoBase    = 38.816 // first heading of the receipt
	payAmountBase  = 199.156
	recAmountBase  = 197.556
	acceptanceBase = 237.24
	payLine        = 11.0 // payment part: 8 pt headings, 10 pt values
	recLine        = 9.0  // receipt: 6 pt headings, 8 pt values
)

// SlipGeometry is where the payment part's elements are on the page, in mm;
// tests check it against the style guide.
type SlipGeometry struct {
	Top                    float64 // the horizontal perforation
	ReceiptW, PaymentW     float64
	QRX, QRY, QRSize       float64
	CrossX, CrossY, CrossW float64 // the Swiss cross's white square
	Modules                int     // modules per side (version 1 = 21)
}

// Geometry returns the geometry the slip of payload is drawn with.
func Geometry(payload string) (SlipGeometry, error) {
	q, err := swissQR(payload)
	if err != nil {
		return SlipGeometry{}, err
	}
	return SlipGeometry{
		Top: slipTop, ReceiptW: receiptW, PaymentW: paymentW,
		QRX: qrX, QRY: slipTop + qrY, QRSize: qrSize,
		CrossX: qrX + (qrSize-crossSize)/2, CrossY: slipTop + qrY + (qrSize-crossSize)/2, CrossW: crossSize,
		Modules: len(q.Bitmap()),
	}, nil
}

func pt(v float64) float64 { return v * ptMM }

// swissQR encodes payload as the Swiss QR Code: error correction M, in the
// smallest version at or above the one the payload needs whose alignment
// patterns the Swiss cross cannot be mistaken for (crossSafeVersion). Its
// bitmap has no quiet zone: the slip's layout leaves 5 mm around it.
func swissQR(payload string) (*qrcode.QRCode, error) {
	q, err := qrcode.New(payload, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("encoding the Swiss QR Code: %w", err)
	}
	if v := crossSafeVersion(q.VersionNumber); v != q.VersionNumber {
		if q, err = qrcode.NewWithForcedVersion(payload, v, qrcode.Medium); err != nil {
			return nil, fmt.Errorf("encoding the Swiss QR Code in version %d: %w", v, err)
		}
	}
	q.DisableBorder = true
	return q, nil
}

// crossSafeVersion returns the QR version to draw a code of minimal
// version v in, so that the Swiss cross does not derail decoders that
// locate every alignment pattern, as ZBar does (zbarimg, and the many apps
// built on it).
//
// ZBar slides a 5 × 5 module template of an alignment pattern up to two
// modules around each predicted position and accepts the best match with at
// most 6 of its 25 modules wrong; where nothing matches that well it keeps
// the predicted position. The cross is 7 mm whatever the version, so in
// modules its size depends on the version:
//
//   - versions 7 to 13 have an alignment pattern at the very centre, under
//     the cross, and half a module to a module and a quarter off it the
//     cross's black square and white bars match the template with 4 or 5
//     modules wrong. ZBar takes that for the pattern, bends its sampling
//     grid around the centre and reads none of the code (our invoices'
//     payloads need version 12 or 13);
//   - versions 22 and 24 have one two modules off the centre, which the
//     cross matches with 6 and 4 wrong;
//   - in versions 21, 23 and 25 the cross's bars are 3 modules wide and it
//     matches with 10 wrong at best: rejected, so ZBar keeps the prediction;
//   - versions 1 to 6 and 14 to 20 have no alignment pattern under the cross.
//
// (The counts come from laying the template over the cross's geometry;
// zbarimg confirms them on rendered slips.) ZXing uses only the
// bottom-right alignment pattern and read the old versions too. The
// implementation guidelines allow any version up to 25 at 46 × 46 mm; the
// modules get a little smaller (version 14: 0.63 mm, where 12 had 0.71).
func crossSafeVersion(v int) int {
	switch {
	case v >= 7 && v <= 13:
		return 14
	case v == 22, v == 24:
		return v + 1
	}
	return v
}

// slip draws the payment part at the bottom of the current page.
func (d *doc) slip() error {
	b := d.in.Payment
	payload, err := b.Payload(qrbill.LF)
	if err != nil {
		return fmt.Errorf("payment part: %w", err)
	}
	q, err := swissQR(payload)
	if err != nil {
		return err
	}
	bits := q.Bitmap()
	qt := d.t.QR
	top := slipTop

	// Perforation: dashed lines with scissors, where the slip is cut off.
	d.SetDrawColor(0, 0, 0)
	d.SetLineWidth(0.2)
	d.SetDashPattern([]float64{0.85, 0.85}, 0)
	d.Line(0, top, pageW, top)
	d.Line(receiptW, top, receiptW, pageH)
	d.SetDashPattern(nil, 0)
	d.scissors(8, top, false)
	d.scissors(receiptW, top+10, true)
	d.SetTextColor(0, 0, 0)
	d.font(7, false)
	sep := qt.Separate
	d.text(pageW/2-d.GetStringWidth(sep)/2, top-1.5, sep)

	// Receipt.
	x := slipMargin
	d.font(11, true)
	d.text(x, top+pt(titleBase), qt.Receipt)
	y := top + pt(recInfoBase)
	head := func(x, y float64, size float64, s string) { d.font(size, true); d.text(x, y, s) }
	val := func(x, y float64, size float64, s string) { d.font(size, false); d.text(x, y, s) }
	// vals writes address lines, wrapped to width w (long names), one
	// line step below y each; it returns the last baseline.
	vals := func(x, y, size, step, w float64, ls []string) float64 {
		d.font(size, false)
		for _, l := range ls {
			for _, part := range d.wrap(l, w) {
				y += step
				d.text(x, y, part)
			}
		}
		return y
	}
	creditor := append([]string{qrbill.FormatIBAN(b.Account)}, addressLinesQR(b.Creditor)...)
	head(x, y, 6, qt.Account)
	y = vals(x, y, 8, pt(recLine), receiptInW, creditor)
	if b.RefType != qrbill.NON {
		y += 2 * pt(recLine)
		head(x, y, 6, qt.Reference)
		y += pt(recLine)
		val(x, y, 8, qrbill.FormatReference(b.RefType, b.Reference))
	}
	y += 2 * pt(recLine)
	if b.Debtor.IsZero() {
		head(x, y, 6, qt.PayableByBlank)
		d.corners(x, y+1, 52, 20)
	} else {
		head(x, y, 6, qt.PayableBy)
		vals(x, y, 8, pt(recLine), receiptInW, addressLinesQR(b.Debtor))
	}
	ay := top + pt(recAmountBase)
	head(x, ay, 6, qt.Currency)
	head(x+12, ay, 6, qt.Amount)
	val(x, ay+pt(recLine+2), 8, currency(b))
	if b.HasAmount {
		val(x+12, ay+pt(recLine+2), 8, qrbill.FormatAmount(b.Amount))
	} else {
		d.corners(x+receiptInW-30, ay+1, 30, 10)
	}
	d.font(6, true)
	d.right(receiptW-slipMargin, top+pt(acceptanceBase), qt.Acceptance)

	// Payment part.
	x = receiptW + slipMargin
	d.font(11, true)
	d.text(x, top+pt(titleBase), qt.PaymentPart)
	d.qr(bits, x, top+qrY)
	ay = top + pt(payAmountBase)
	head(x, ay, 8, qt.Currency)
	head(x+15, ay, 8, qt.Amount)
	val(x, ay+pt(payLine+2), 10, currency(b))
	if b.HasAmount {
		val(x+15, ay+pt(payLine+2), 10, qrbill.FormatAmount(b.Amount))
	} else {
		d.corners(x+qrSize-40, ay+2, 40, 15)
	}

	x = infoX
	y = top + pt(payInfoBase)
	head(x, y, 8, qt.Account)
	y = vals(x, y, 10, pt(payLine), infoW, creditor)
	if b.RefType != qrbill.NON {
		y += 2 * pt(payLine)
		head(x, y, 8, qt.Reference)
		y += pt(payLine)
		val(x, y, 10, qrbill.FormatReference(b.RefType, b.Reference))
	}
	if b.Message != "" || b.BillInfo != "" {
		y += 2 * pt(payLine)
		head(x, y, 8, qt.AddInfo)
		d.font(10, false)
		lines := d.wrap(b.Message, infoW)
		if b.Message == "" {
			lines = nil
		}
		lines = append(lines, d.splitAt(b.BillInfo, "/", infoW)...)
		{
			for _, l := range lines {
				y += pt(payLine)
				d.text(x, y, l)
			}
		}
	}
	y += 2 * pt(payLine)
	if b.Debtor.IsZero() {
		head(x, y, 8, qt.PayableByBlank)
		d.corners(x, y+1, 65, 25)
	} else {
		head(x, y, 8, qt.PayableBy)
		vals(x, y, 10, pt(payLine), infoW, addressLinesQR(b.Debtor))
	}
	return nil
}

func currency(b *qrbill.Bill) string {
	if b.Currency == "" {
		return "CHF"
	}
	return b.Currency
}

func addressLinesQR(a qrbill.Address) []string {
	var ls []string
	ls = append(ls, a.Name)
	if s := joinNonEmpty(a.Street, a.Number); s != "" {
		ls = append(ls, s)
	}
	pc := joinNonEmpty(a.Postcode, a.Town)
	if a.Country != "" && a.Country != "CH" && a.Country != "LI" {
		pc = a.Country + "-" + pc
	}
	return append(ls, pc)
}

func joinNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}

// qr draws the code's modules as filled rectangles (horizontal runs merged)
// scaled to exactly 46 mm, and the Swiss cross in its centre.
func (d *doc) qr(bits [][]bool, x, y float64) {
	d.modules(bits, x, y, qrSize)
	cx, cy := x+qrSize/2, y+qrSize/2
	d.SetFillColor(255, 255, 255)
	d.Rect(cx-crossSize/2, cy-crossSize/2, crossSize, crossSize, "F")
	d.SetFillColor(0, 0, 0)
	d.Rect(cx-crossInner/2, cy-crossInner/2, crossInner, crossInner, "F")
	d.SetFillColor(255, 255, 255)
	d.Rect(cx-crossBarW/2, cy-crossBarLen/2, crossBarW, crossBarLen, "F")
	d.Rect(cx-crossBarLen/2, cy-crossBarW/2, crossBarLen, crossBarW, "F")
}

// modules draws a QR code's modules in a size × size mm square.
func (d *doc) modules(bits [][]bool, x, y, size float64) {
	n := len(bits)
	m := size / float64(n)
	d.SetFillColor(0, 0, 0)
	for r, row := range bits {
		for c := 0; c < n; {
			if !row[c] {
				c++
				continue
			}
			start := c
			for c < n && row[c] {
				c++
			}
			// One path for all modules, filled once: separate
			// rectangles show hairline seams in some viewers.
			x0, y0 := x+float64(start)*m, y+float64(r)*m
			x1, y1 := x+float64(c)*m, y0+m
			d.MoveTo(x0, y0)
			d.LineTo(x1, y0)
			d.LineTo(x1, y1)
			d.LineTo(x0, y1)
			d.ClosePath()
		}
	}
	d.DrawPath("F")
}

// corners draws the corner marks of a field left blank for the payer.
func (d *doc) corners(x, y, w, h float64) {
	const arm = 3.0
	d.SetDrawColor(0, 0, 0)
	d.SetLineWidth(0.75 * ptMM)
	for _, c := range [][4]float64{{x, y, 1, 1}, {x + w, y, -1, 1}, {x, y + h, 1, -1}, {x + w, y + h, -1, -1}} {
		d.Line(c[0], c[1], c[0]+c[2]*arm, c[1])
		d.Line(c[0], c[1], c[0], c[1]+c[3]*arm)
	}
}

// scissors draws a small pair of scissors on a cutting line at (x, y),
// pointing along the line (vertical when rotated).
func (d *doc) scissors(x, y float64, vertical bool) {
	// In local coordinates the scissors point in +u, the line runs along u.
	pos := func(u, v float64) (float64, float64) {
		if vertical {
			return x - v, y + u
		}
		return x + u, y + v
	}
	d.SetFillColor(255, 255, 255)
	bx, by := pos(0, 0)
	if vertical {
		d.Rect(bx-1.8, by-2.6, 3.6, 6.2, "F")
	} else {
		d.Rect(bx-2.6, by-1.8, 6.2, 3.6, "F")
	}
	d.SetDrawColor(0, 0, 0)
	d.SetLineWidth(0.25)
	for _, s := range []float64{-1, 1} {
		// finger loop
		cx, cy := pos(-1.4, s*0.95)
		d.Circle(cx, cy, 0.75, "D")
		// blade: from the loop across the pivot to the tip on the other side
		x1, y1 := pos(-0.75, s*0.6)
		x2, y2 := pos(3.4, -s*0.55)
		d.Line(x1, y1, x2, y2)
	}
}

// splitAt wraps s (which has no spaces, like Swico bill information) before
// a separator where a line would exceed w.
func (d *doc) splitAt(s, sep string, w float64) []string {
	if s == "" {
		return nil
	}
	var lines []string
	cur := ""
	for _, tok := range strings.SplitAfter(s, sep) {
		if cur != "" && d.GetStringWidth(cur+tok) > w {
			lines = append(lines, cur)
			cur = ""
		}
		cur += tok
	}
	return append(lines, cur)
}
