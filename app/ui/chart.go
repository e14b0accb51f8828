package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
)

// Chart colours: production in pale yellow, the solar share of consumption in
// amber, the grid share in blue.
var (
	colorProduction = color.NRGBA{R: 0xF8, G: 0xD9, B: 0x80, A: 0xFF}
	colorSolar      = color.NRGBA{R: 0xE8, G: 0x8E, B: 0x0C, A: 0xFF}
	colorGrid       = color.NRGBA{R: 0x4A, G: 0x6F, B: 0xA5, A: 0xFF}
)

// bucket is one bar of the energy chart: a 15-minute interval, a day or a
// month.
type bucket struct {
	Label        string // x-axis label; empty for none
	Production   core.Energy
	Consumption  core.Energy
	SelfConsumed core.Energy // Σ over slots of min(production, consumption)
}

// barChart draws production against consumption per bucket: for each, a
// production bar and beside it the consumption bar split into its solar
// (self-consumed) and grid parts. It is drawn with canvas rectangles.
type barChart struct {
	widget.BaseWidget
	buckets []bucket
}

func newBarChart() *barChart {
	c := &barChart{}
	c.ExtendBaseWidget(c)
	return c
}

// setBuckets replaces the chart's data.
func (c *barChart) setBuckets(b []bucket) {
	c.buckets = b
	c.Refresh()
}

// scale returns the largest bar's energy, the chart's top.
func (c *barChart) scale() core.Energy {
	var top core.Energy
	for _, b := range c.buckets {
		top = max(top, b.Production, b.Consumption)
	}
	return top
}

// CreateRenderer implements fyne.Widget.
func (c *barChart) CreateRenderer() fyne.WidgetRenderer {
	r := &chartRenderer{c: c, axis: canvas.NewLine(theme.Color(theme.ColorNameForeground)),
		top: canvas.NewText("", theme.Color(theme.ColorNameForeground))}
	r.top.TextSize = theme.CaptionTextSize()
	r.rebuild()
	return r
}

// legend returns the chart's key.
func legend(prod, solar, grid string) fyne.CanvasObject {
	item := func(c color.Color, s string) fyne.CanvasObject {
		r := canvas.NewRectangle(c)
		r.SetMinSize(fyne.NewSize(12, 12))
		return container.NewHBox(container.NewCenter(r), widget.NewLabel(s))
	}
	return container.NewHBox(item(colorProduction, prod), item(colorSolar, solar), item(colorGrid, grid))
}

type chartRenderer struct {
	c       *barChart
	prod    []*canvas.Rectangle
	solar   []*canvas.Rectangle
	grid    []*canvas.Rectangle
	labels  []*canvas.Text
	axis    *canvas.Line
	top     *canvas.Text
	objects []fyne.CanvasObject
}

const (
	chartAxisH = 16 // room for the x labels
	chartTopH  = 14 // room for the scale label
)

func (r *chartRenderer) rebuild() {
	n := len(r.c.buckets)
	r.prod, r.solar, r.grid, r.labels = nil, nil, nil, nil
	r.objects = nil
	fg := theme.Color(theme.ColorNameForeground)
	for i := 0; i < n; i++ {
		r.prod = append(r.prod, canvas.NewRectangle(colorProduction))
		r.solar = append(r.solar, canvas.NewRectangle(colorSolar))
		r.grid = append(r.grid, canvas.NewRectangle(colorGrid))
		r.objects = append(r.objects, r.prod[i], r.solar[i], r.grid[i])
		if r.c.buckets[i].Label != "" {
			t := canvas.NewText(r.c.buckets[i].Label, fg)
			t.TextSize = theme.CaptionTextSize()
			r.labels = append(r.labels, t)
		} else {
			r.labels = append(r.labels, nil)
		}
	}
	for _, t := range r.labels {
		if t != nil {
			r.objects = append(r.objects, t)
		}
	}
	r.top.Text = kwh(r.c.scale()) + " kWh"
	r.top.Color = fg
	r.axis.StrokeColor = fg
	r.objects = append(r.objects, r.axis, r.top)
}

func (r *chartRenderer) Layout(size fyne.Size) {
	n := len(r.c.buckets)
	plotH := size.Height - chartAxisH - chartTopH
	base := chartTopH + plotH
	r.axis.Position1 = fyne.NewPos(0, base)
	r.axis.Position2 = fyne.NewPos(size.Width, base)
	r.top.Move(fyne.NewPos(2, 0))
	r.top.Resize(fyne.NewSize(size.Width, chartTopH))
	if n == 0 || plotH <= 0 {
		return
	}
	top := float32(r.c.scale())
	h := func(e core.Energy) float32 {
		if top <= 0 || e <= 0 {
			return 0
		}
		return plotH * float32(e) / top
	}
	slot := size.Width / float32(n)
	gap := slot * 0.15
	barW := (slot - gap) / 2
	for i, b := range r.c.buckets {
		x := float32(i)*slot + gap/2
		ph := h(b.Production)
		r.prod[i].Move(fyne.NewPos(x, base-ph))
		r.prod[i].Resize(fyne.NewSize(barW, ph))
		sh := h(b.SelfConsumed)
		gh := h(b.Consumption) - sh
		r.solar[i].Move(fyne.NewPos(x+barW, base-sh))
		r.solar[i].Resize(fyne.NewSize(barW, sh))
		r.grid[i].Move(fyne.NewPos(x+barW, base-sh-gh))
		r.grid[i].Resize(fyne.NewSize(barW, gh))
		if t := r.labels[i]; t != nil {
			t.Move(fyne.NewPos(x, base+1))
			t.Resize(t.MinSize())
		}
	}
}

func (r *chartRenderer) MinSize() fyne.Size { return fyne.NewSize(400, 180) }

func (r *chartRenderer) Refresh() {
	r.rebuild()
	r.Layout(r.c.Size())
	canvas.Refresh(r.c)
}

func (r *chartRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *chartRenderer) Destroy() {}
