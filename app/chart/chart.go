// Package chart draws zevdesk's energy charts with go-chart: stacked bars of
// solar and grid energy per month, week or day, as PNG or SVG, for the
// resident web page (app/web draws its SVG charts with it).
// (The desktop app draws its chart on Fyne's canvas, app/ui/chart.go, and
// the invoice insert as vectors in its PDF, see app/report.)
package chart

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	gochart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"
)

// Colours of the two sources, the invoice insert's (app/report).
var (
	SolarColor = drawing.Color{R: 242, G: 169, B: 0, A: 255}
	GridColor  = drawing.Color{R: 96, G: 115, B: 140, A: 255}
)

// Bar is one bar: its label and its energy in kWh by source. Values are for
// display; exact amounts live in core.Energy.
type Bar struct {
	Label       string
	Solar, Grid float64
}

// Format is an output format.
type Format int

// Formats.
const (
	PNG Format = iota
	SVG
)

// Options sizes and labels a chart; zero values mean 800 × 300 px and
// English labels.
type Options struct {
	Width, Height int
	Title         string
	// SolarLabel and GridLabel name the sources in the legend.
	SolarLabel, GridLabel string
}

// ErrNoBars is returned for a chart without bars.
var ErrNoBars = errors.New("chart: no bars to draw")

// Energy draws stacked solar (bottom) and grid (top) bars in kWh, with a
// value axis, the bars' labels, a legend and the title, and writes the image
// to w. go-chart's own stacked bar chart normalises every bar to 100 %, so
// the bars are drawn with its renderers directly.
func Energy(w io.Writer, f Format, bars []Bar, o Options) error {
	if len(bars) == 0 {
		return ErrNoBars
	}
	if o.Width == 0 {
		o.Width = 800
	}
	if o.Height == 0 {
		o.Height = 300
	}
	if o.SolarLabel == "" {
		o.SolarLabel = "Solar"
	}
	if o.GridLabel == "" {
		o.GridLabel = "Grid"
	}
	var maxV float64
	for _, b := range bars {
		if b.Solar < 0 || b.Grid < 0 || math.IsNaN(b.Solar+b.Grid) {
			return fmt.Errorf("chart: invalid energy in bar %q", b.Label)
		}
		maxV = math.Max(maxV, b.Solar+b.Grid)
	}
	newR := gochart.PNG
	if f == SVG {
		newR = gochart.SVG
	}
	r, err := newR(o.Width, o.Height)
	if err != nil {
		return fmt.Errorf("drawing the chart: %w", err)
	}
	font, err := gochart.GetDefaultFont()
	if err != nil {
		return fmt.Errorf("drawing the chart: %w", err)
	}
	r.SetDPI(96)
	r.SetFont(font)
	r.SetFontColor(textColor)

	// Plot area: room for the title and legend above, axis labels left and
	// below.
	const top, bottom, left, right = 34, 22, 52, 10
	pw, ph := o.Width-left-right, o.Height-top-bottom
	scale, steps := niceScale(maxV)
	rect := func(x0, y0, x1, y1 int, c drawing.Color) {
		r.SetFillColor(c)
		r.SetStrokeColor(c)
		r.SetStrokeWidth(0)
		r.MoveTo(x0, y0)
		r.LineTo(x1, y0)
		r.LineTo(x1, y1)
		r.LineTo(x0, y1)
		r.Close()
		r.Fill()
	}
	line := func(x0, y0, x1, y1 int, c drawing.Color, width float64) {
		r.SetStrokeColor(c)
		r.SetStrokeWidth(width)
		r.MoveTo(x0, y0)
		r.LineTo(x1, y1)
		r.Stroke()
	}
	rect(0, 0, o.Width, o.Height, drawing.ColorWhite)
	r.SetFontSize(8)
	for i := 0; i <= steps; i++ {
		y := top + ph - ph*i/steps
		line(left, y, left+pw, y, gridLine, 1)
		label := strconv.FormatFloat(scale*float64(i)/float64(steps), 'f', -1, 64)
		tb := r.MeasureText(label)
		r.Text(label, left-6-tb.Width(), y+tb.Height()/2)
	}
	slot := float64(pw) / float64(len(bars))
	bw := math.Min(slot*0.62, 60)
	for i, b := range bars {
		x0 := left + int(slot*float64(i)+(slot-bw)/2)
		x1 := x0 + int(bw)
		hs := int(math.Round(float64(ph) * b.Solar / scale))
		hg := int(math.Round(float64(ph) * (b.Solar + b.Grid) / scale))
		base := top + ph
		if hs > 0 {
			rect(x0, base-hs, x1, base, SolarColor)
		}
		if hg > hs {
			rect(x0, base-hg, x1, base-hs, GridColor)
		}
		if len(bars) <= 16 || i%2 == 0 {
			tb := r.MeasureText(b.Label)
			r.Text(b.Label, (x0+x1)/2-tb.Width()/2, base+6+tb.Height())
		}
	}
	line(left, top+ph, left+pw, top+ph, textColor, 1)

	// Title left, legend right.
	r.SetFontSize(10)
	if o.Title != "" {
		r.Text(o.Title, 8, 18)
	}
	r.SetFontSize(9)
	x := o.Width - right
	for _, item := range []struct {
		label string
		c     drawing.Color
	}{{o.GridLabel, GridColor}, {o.SolarLabel, SolarColor}} {
		tb := r.MeasureText(item.label)
		x -= tb.Width()
		r.Text(item.label, x, 18)
		x -= 14
		rect(x, 8, x+10, 18, item.c)
		x -= 12
	}
	if err := r.Save(w); err != nil {
		return fmt.Errorf("writing the chart: %w", err)
	}
	return nil
}

var (
	textColor = drawing.Color{R: 40, G: 40, B: 40, A: 255}
	gridLine  = drawing.Color{R: 220, G: 220, B: 220, A: 255}
)

// niceScale returns the axis maximum (1, 2, 2.5 or 5 × 10^k at or above
// v) and the number of grid steps.
func niceScale(v float64) (float64, int) {
	if v <= 0 {
		return 1, 4
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v*(1-1e-12) {
			if m == 2.5 || m == 5 {
				return m * p, 5
			}
			return m * p, 4
		}
	}
	return 10 * p, 4
}
