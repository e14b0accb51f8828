package report

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"codeberg.org/go-pdf/fpdf"
	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/skip2/go-qrcode"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/qrbill"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// toolPackages names the Debian package of each external program the
// tests run.
var toolPackages = map[string]string{
	"pdftoppm":  "poppler-utils",
	"pdftotext": "poppler-utils",
	"zbarimg":   "zbar-tools",
}

// needTool skips the test where the program name is not installed, and
// fails it in continuous integration (CI set), where `make deps` has
// installed it and its absence would hide a broken check.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		msg := fmt.Sprintf("%s not installed (Debian package %s; `make deps` installs it)", name, toolPackages[name])
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

func renderPDF(t *testing.T, in *Insert) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WritePDF(&buf, in); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "insert.pdf")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// rasterize renders a page of a PDF in grey at dpi.
func rasterize(t *testing.T, pdf string, page, dpi int) *image.Gray {
	return rasterizeRegion(t, pdf, page, dpi, image.Rectangle{})
}

// rasterizeRegion renders the part crop (in pixels at dpi; empty for the
// whole page) of a page; the image keeps page coordinates.
func rasterizeRegion(t *testing.T, pdf string, page, dpi int, crop image.Rectangle) *image.Gray {
	t.Helper()
	needTool(t, "pdftoppm")
	out := filepath.Join(t.TempDir(), "page")
	args := []string{"-r", fmt.Sprint(dpi), "-f", fmt.Sprint(page), "-l", fmt.Sprint(page), "-gray", "-png", "-singlefile"}
	if !crop.Empty() {
		args = append(args, "-x", fmt.Sprint(crop.Min.X), "-y", fmt.Sprint(crop.Min.Y), "-W", fmt.Sprint(crop.Dx()), "-H", fmt.Sprint(crop.Dy()))
	}
	cmd := exec.Command("pdftoppm", append(args, pdf, out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, b)
	}
	f, err := os.Open(out + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	g := image.NewGray(img.Bounds().Add(crop.Min))
	draw.Draw(g, g.Bounds(), img, img.Bounds().Min, draw.Src)
	return g
}

// slipRegion is the QR-bill slip at dpi, in pixels.
func slipRegion(dpi int) image.Rectangle {
	px := func(mm float64) int { return int(math.Round(mm * float64(dpi) / 25.4)) }
	return image.Rect(0, px(slipTop-3), px(pageW), px(pageH))
}

func pdfText(t *testing.T, pdf string) string {
	t.Helper()
	needTool(t, "pdftotext")
	b, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(b)
}

// qrDecoders read a QR code from a greyscale image and return its bytes.
var qrDecoders = []struct {
	name   string
	decode func(t *testing.T, img image.Image) ([]byte, error)
}{{"zbar", zbarDecode}, {"zxing", zxingDecode}}

// zbarDecode reads the QR code with zbarimg (ZBar), the decoder of many
// scanning apps. -Sbinary gives its bytes as they are: without it ZBar
// guesses a character set (Shift JIS for our umlauts) and converts.
func zbarDecode(t *testing.T, img image.Image) ([]byte, error) {
	t.Helper()
	needTool(t, "zbarimg")
	p := filepath.Join(t.TempDir(), "qr.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", "-Sbinary", p)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		// Exit status 4: no symbol found.
		return nil, fmt.Errorf("zbarimg: %v %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

// zxingDecode reads the QR code with gozxing (ZXing) and checks that its
// error correction level is M.
func zxingDecode(t *testing.T, img image.Image) ([]byte, error) {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_CHARACTER_SET: "UTF-8",
	})
	if err != nil {
		return nil, err
	}
	if ec := res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL]; ec != "M" {
		t.Errorf("error correction level %v, want M", ec)
	}
	return []byte(res.GetText()), nil
}

// qrRegion is the Swiss QR Code with its 5 mm quiet zone at dpi, in pixels.
func qrRegion(dpi int) image.Rectangle {
	px := func(mm float64) int { return int(math.Round(mm * float64(dpi) / 25.4)) }
	return image.Rect(px(qrX-slipMargin), px(slipTop+qrY-slipMargin), px(qrX+qrSize+slipMargin), px(slipTop+qrY+qrSize+slipMargin))
}

// TestQRCodeDecodesFromPage renders each language's insert, rasterises the
// Swiss QR Code with its quiet zone as a printer or scanner would, at 150
// and 300 dpi, and reads it back with ZBar and ZXing: both must return the
// payload byte for byte, umlauts included (the debtor is Anna Müller-Lüthi).
func TestQRCodeDecodesFromPage(t *testing.T) {
	for _, lang := range core.Languages {
		in := sampleInsert(lang)
		want, err := in.Payment.Payload(qrbill.LF)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.ContainsAny(want, "äöüÄÖÜ") {
			t.Fatalf("%s: the payload has no umlaut to check the character set with", lang)
		}
		pdf := renderPDF(t, in)
		for _, dpi := range []int{150, 300} {
			img := rasterizeRegion(t, pdf, 1, dpi, qrRegion(dpi))
			for _, dec := range qrDecoders {
				t.Run(fmt.Sprintf("%s/%ddpi/%s", lang, dpi, dec.name), func(t *testing.T) {
					got, err := dec.decode(t, img)
					if err != nil {
						t.Fatalf("decoding the Swiss QR Code of the %s insert at %d dpi: %v", lang, dpi, err)
					}
					if !bytes.Equal(got, []byte(want)) {
						t.Errorf("decoded payload differs\n got: %q\nwant: %q", got, want)
					}
				})
			}
		}
	}
}

// TestSwissQRCodeEveryVersion draws payloads of every size a QR-bill can
// have, one for each QR version it would fit at least (1 to 25), as the
// slip does, and reads each back with ZBar and ZXing at 150 and 300 dpi:
// the version chosen for the Swiss cross must read in all of them.
func TestSwissQRCodeEveryVersion(t *testing.T) {
	// A QR-bill-like text (byte mode, with umlauts), cut to each length.
	var sb strings.Builder
	for sb.Len() < 1100 {
		sb.WriteString("SPC\n0200\n1\nCH4431999123000889012\nS\nImmo Müller AG\nMarktgasse\n5\n3011\nBern\nCH\n96.68\nCHF\n")
	}
	text := sb.String()
	byVersion := map[int]string{}
	for n := 1; n <= len(text) && len(byVersion) < 25; n++ {
		p := strings.ToValidUTF8(text[:n], "")
		q, err := qrcode.New(p, qrcode.Medium)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := byVersion[q.VersionNumber]; !ok && q.VersionNumber <= 25 {
			byVersion[q.VersionNumber] = p
		}
	}
	for v := 1; v <= 25; v++ {
		payload, ok := byVersion[v]
		if !ok {
			t.Fatalf("no payload needs version %d", v)
		}
		q, err := swissQR(payload)
		if err != nil {
			t.Fatal(err)
		}
		d := &doc{Fpdf: fpdf.New("P", "mm", "A4", "")}
		d.AddPage()
		d.qr(q.Bitmap(), qrX, slipTop+qrY)
		p := filepath.Join(t.TempDir(), "qr.pdf")
		if err := d.OutputFileAndClose(p); err != nil {
			t.Fatal(err)
		}
		for _, dpi := range []int{150, 300} {
			img := rasterizeRegion(t, p, 1, dpi, qrRegion(dpi))
			for _, dec := range qrDecoders {
				t.Run(fmt.Sprintf("v%d/%ddpi/%s", v, dpi, dec.name), func(t *testing.T) {
					got, err := dec.decode(t, img)
					if err != nil {
						t.Fatalf("decoding a %d-byte payload (at least version %d, drawn in version %d) at %d dpi: %v", len(payload), v, q.VersionNumber, dpi, err)
					}
					if !bytes.Equal(got, []byte(payload)) {
						t.Errorf("version %d at %d dpi: decoded payload differs\n got: %q\nwant: %q", q.VersionNumber, dpi, got, payload)
					}
				})
			}
		}
	}
}

const residentURL = "https://zev.immo-muster.local:8443/r/3q2-7Hk_vX9aLmPq0sTuWyZb"

// TestResidentLinkDecodes: the personal link's QR code on page 2 opens the
// link printed beside it.
func TestResidentLinkDecodes(t *testing.T) {
	in := sampleInsert("en")
	in.ResidentURL = residentURL
	const dpi = 200
	px := func(mm float64) int { return int(math.Round(mm * dpi / 25.4)) }
	pdf := renderPDF(t, in)
	if !strings.Contains(pdfText(t, pdf), residentURL) {
		t.Error("the link is not printed")
	}
	img := rasterizeRegion(t, pdf, 2, dpi, image.Rect(px(pageW-marginR-30), px(150), px(pageW), px(pageH)))
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("decoding the link's QR code: %v", err)
	}
	if res.GetText() != residentURL {
		t.Errorf("QR code opens %q, want %q", res.GetText(), residentURL)
	}
}

// TestSlipGeometry measures the rendered page: the Swiss QR Code is 46 ×
// 46 mm at 67 mm from the left and 17 mm below the slip's top, the slip
// starts 105 mm above the page's bottom with a dashed line, the receipt is
// 62 mm wide, and the Swiss cross is 7 × 7 mm in the code's centre.
func TestSlipGeometry(t *testing.T) {
	in := sampleInsert("de")
	const dpi = 300
	img := rasterizeRegion(t, renderPDF(t, in), 1, dpi, slipRegion(dpi))
	px := func(mm float64) int { return int(math.Round(mm * dpi / 25.4)) }
	mm := func(p int) float64 { return float64(p) * 25.4 / dpi }
	dark := func(x, y int) bool { return img.GrayAt(x, y).Y < 128 }

	// Bounding box of the dark pixels around the QR code.
	x0, y0, x1, y1 := math.MaxInt, math.MaxInt, -1, -1
	for y := px(slipTop + qrY - 3); y < px(slipTop+qrY+qrSize+3); y++ {
		for x := px(qrX - 3); x < px(qrX+qrSize+3); x++ {
			if dark(x, y) {
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
	}
	tol := 0.25 // mm: one pixel at 300 dpi is 0.085 mm
	check := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.2f mm, want %.2f mm", what, got, want)
		}
	}
	check("QR code left", mm(x0), 67)
	check("QR code top", mm(y0), slipTop+17)
	check("QR code width", mm(x1-x0+1), 46)
	check("QR code height", mm(y1-y0+1), 46)

	// Swiss cross: white border, black square, white cross, centred.
	cx, cy := mm(x0)+23, mm(y0)+23
	at := func(dx, dy float64) bool { return dark(px(cx+dx), px(cy+dy)) }
	if at(0, 0) || at(1.5, 0) || at(0, -1.5) {
		t.Error("the Swiss cross's white cross is missing at the centre")
	}
	if !at(2.5, 2.5) || !at(-2.5, -2.5) || !at(2.5, -2.5) {
		t.Error("the Swiss cross's black square is missing")
	}
	// The white frame between 3.0 and 3.5 mm from the centre, all round.
	for _, d := range [][2]float64{{3.25, 0}, {-3.25, 0}, {0, 3.25}, {0, -3.25}, {3.25, 3.25}} {
		if at(d[0], d[1]) {
			t.Errorf("the Swiss cross's white border is missing at %v mm", d)
		}
	}
	// The quiet zone: nothing dark within 5 mm beside, above or below the
	// code (less 0.3 mm for the 0.2 mm perforation line 5 mm to its left).
	// The corners are left out: the scissors on the vertical line reach
	// 3.2 mm left of and 3.4 mm above the top-left corner, outside the
	// 4-module quiet zone of ISO 18004 (2.5 mm in version 14).
	for y := px(slipTop + qrY - 5 + 0.3); y < px(slipTop+qrY+qrSize+5-0.3); y++ {
		for x := px(qrX - 5 + 0.3); x < px(qrX+qrSize+5-0.3); x++ {
			if (x >= x0 && x <= x1) == (y >= y0 && y <= y1) {
				continue // the code itself, or a corner
			}
			if dark(x, y) {
				t.Fatalf("dark pixel in the quiet zone at %.2f, %.2f mm", mm(x), mm(y))
			}
		}
	}
	// Measure the black square's width along a row through its lower part.
	row := px(cy + 2.5)
	l, r := px(cx), px(cx)
	for dark(l-1, row) {
		l--
	}
	for dark(r+1, row) {
		r++
	}
	check("Swiss cross black square", mm(r-l+1), 6)

	// The horizontal perforation at the slip's top, dashed across the width.
	on, off := 0, 0
	for x := px(20); x < px(200); x++ {
		if dark(x, px(slipTop)) || dark(x, px(slipTop)-1) || dark(x, px(slipTop)+1) {
			on++
		} else {
			off++
		}
	}
	if on < off/3 || off < on/3 {
		t.Errorf("no dashed line at %.0f mm: %d dark, %d light pixels", slipTop, on, off)
	}
	// The vertical line between receipt and payment part, dashed.
	on, off = 0, 0
	for y := px(slipTop + 20); y < px(pageH-5); y++ {
		if dark(px(receiptW), y) || dark(px(receiptW)-1, y) || dark(px(receiptW)+1, y) {
			on++
		} else {
			off++
		}
	}
	if on < off/3 || off < on/3 {
		t.Errorf("no dashed line at x = 62 mm: %d dark, %d light pixels", on, off)
	}
	g, err := Geometry(mustPayload(t, in))
	if err != nil {
		t.Fatal(err)
	}
	if g.Top != 192 || g.ReceiptW != 62 || g.PaymentW != 148 || g.QRSize != 46 || g.CrossW != 7 {
		t.Errorf("geometry %+v", g)
	}
}

func mustPayload(t *testing.T, in *Insert) string {
	p, err := in.Payment.Payload(qrbill.LF)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// goldenInserts are the inserts whose text is kept in testdata: one per
// language, with and without VAT and QR-bill.
func goldenInserts() map[string]*Insert {
	m := map[string]*Insert{}
	for _, l := range core.Languages {
		m[l] = sampleInsert(l)
	}
	m["en"].ResidentURL = residentURL
	// Italian, without VAT registration and collected by a property manager.
	site := sampleSite()
	site.VATNumber = ""
	site.Tariffs[0].VAT = nil
	site.Settings.CollectSelf = false
	inv := sampleInvoice(site, "it")
	var lines []billing.Line
	for _, l := range inv.Lines {
		l.Rate = 0
		switch l.Kind {
		case billing.KindVAT:
			continue
		case billing.KindTotal:
			l.Amount = inv.Net
		case billing.KindBalance:
			l.Amount = inv.Net - inv.Advance
		}
		lines = append(lines, l)
	}
	inv.Lines, inv.VAT, inv.Total, inv.Balance = lines, 0, inv.Net, inv.Net-inv.Advance
	in, err := FromInvoice(site, sampleRun(site, inv), &inv, core.MustDate(2026, 4, 7), sampleBars())
	if err != nil {
		panic(err)
	}
	m["it-novat"] = in
	return m
}

func golden(t *testing.T, name string, got []byte) []byte {
	t.Helper()
	if FontName() != "Liberation Sans" {
		t.Skipf("golden files are set in Liberation Sans, which is not installed (Debian: fonts-liberation2)")
	}
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	return want
}

// TestInsertTextGolden compares the text of each language's insert
// (pdftotext) with its golden file.
func TestInsertTextGolden(t *testing.T) {
	for name, in := range goldenInserts() {
		t.Run(name, func(t *testing.T) {
			got := pdfText(t, renderPDF(t, in))
			want := golden(t, "insert_"+name+".txt", []byte(got))
			if got != string(want) {
				t.Errorf("text differs from testdata/insert_%s.txt (rerun with -update after checking):\n%s", name, diffLines(string(want), got))
			}
		})
	}
}

// TestInsertContent checks what a tenant relies on in every language,
// independently of the golden files.
func TestInsertContent(t *testing.T) {
	for name, in := range goldenInserts() {
		t.Run(name, func(t *testing.T) {
			text := pdfText(t, renderPDF(t, in))
			tx := textsFor(in.Lang)
			for _, want := range []string{
				"Anna Müller-Lüthi", "01.01.2026 – 31.03.2026", "-120.00", "12'345.6", "13'018.4",
				"714.4 kWh", "241.3 kWh", "2'950", "1'831", tx.Title, tx.HowTitle, "07.04.2026", CHF(in.Amount), CHF(in.Balance),
				PriceKWh(in.SolarPrice),
			} {
				if !strings.Contains(text, want) {
					t.Errorf("%q missing", want)
				}
			}
			if in.Payment != nil {
				for _, want := range []string{tx.QR.Receipt, tx.QR.PaymentPart, "CH44 3199 9123 0008 8901 2", "11 23458 83831 11345 70000 00423"} {
					if !strings.Contains(text, want) {
						t.Errorf("payment part: %q missing", want)
					}
				}
			} else if strings.Contains(text, tx.QR.PaymentPart) {
				t.Error("payment part printed although the office does not collect itself")
			}
			if !in.VATRegistered && !strings.Contains(text, tx.NoVAT) {
				t.Error("no 'without VAT' notice for an operator without VAT")
			}
		})
	}
}

// TestInsertImageGolden compares page 1 of the German insert, rendered at
// 50 dpi, with its golden PNG (tolerating anti-aliasing differences).
func TestInsertImageGolden(t *testing.T) {
	img := rasterize(t, renderPDF(t, sampleInsert("de")), 1, 50)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	want, err := png.Decode(bytes.NewReader(golden(t, "insert_de_page1.png", buf.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	if want.Bounds() != img.Bounds() {
		t.Fatalf("size %v, golden %v", img.Bounds(), want.Bounds())
	}
	var diff, big int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g1 := int(img.GrayAt(x, y).Y)
			r, _, _, _ := want.At(x, y).RGBA()
			d := g1 - int(r>>8)
			if d < 0 {
				d = -d
			}
			diff += d
			if d > 96 {
				big++
			}
		}
	}
	n := b.Dx() * b.Dy()
	if big > n/500 || diff/n > 2 {
		t.Errorf("page differs from testdata/insert_de_page1.png: %d strongly different pixels of %d, mean difference %d", big, n, diff/n)
	}
}

// TestTextsComplete: every text exists in every language.
func TestTextsComplete(t *testing.T) {
	for _, lang := range core.Languages {
		tx, ok := languages[lang]
		if !ok {
			t.Fatalf("no texts for %s", lang)
		}
		var walk func(prefix string, v reflect.Value)
		walk = func(prefix string, v reflect.Value) {
			for i := 0; i < v.NumField(); i++ {
				f := v.Field(i)
				name := prefix + v.Type().Field(i).Name
				switch f.Kind() {
				case reflect.String:
					if f.String() == "" {
						t.Errorf("%s: %s is empty", lang, name)
					}
				case reflect.Struct:
					walk(name+".", f)
				case reflect.Array:
					for j := 0; j < f.Len(); j++ {
						if f.Index(j).String() == "" {
							t.Errorf("%s: %s[%d] is empty", lang, name, j)
						}
					}
				}
			}
		}
		walk("", reflect.ValueOf(*tx))
	}
	if textsFor("rm") != &de {
		t.Error("an unsupported language should fall back to German")
	}
}

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			fmt.Fprintf(&b, "line %d\n-%s\n+%s\n", i+1, a, c)
		}
	}
	return b.String()
}
