package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/app/report"
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
	Time         string // what the bar covers, for its hover text ("14:15", "31.03.2026", "March 2026")
	Production   core.Energy
	Consumption  core.Energy
	SelfConsumed core.Energy // Σ over slots of min(production, consumption)
}

// barChart draws production against consumption per bucket: for each, a
// production bar and beside it the consumption bar split into its solar
// (self-consumed) and grid parts, over gridlines labelled in kWh; the bar
// under the pointer (or last tapped) is highlighted and its values shown
// above the plot. It is drawn with canvas objects rather than go-chart's
// images: those would be redrawn and rescaled as a bitmap on every resize,
// hover and theme change, while canvas rectangles stay sharp at any scale
// and follow the theme's colours (app/chart keeps go-chart for the web
// page's PNG and SVG).
type barChart struct {
	widget.BaseWidget
	buckets []bucket
	hover   int // the bar under the pointer or last tapped; -1 for none
}

var (
	_ desktop.Hoverable = (*barChart)(nil)
	_ fyne.Tappable     = (*barChart)(nil)
)

func newBarChart() *barChart {
	c := &barChart{hover: -1}
	c.ExtendBaseWidget(c)
	return c
}

// setBuckets replaces the chart's data.
func (c *barChart) setBuckets(b []bucket) {
	c.buckets = b
	c.hover = -1
	c.Refresh()
}

// barAt returns the index of the bar at x, or -1.
func (c *barChart) barAt(x float32) int {
	n := len(c.buckets)
	w := c.Size().Width - chartLeftW
	if n == 0 || w <= 0 || x < chartLeftW {
		return -1
	}
	i := int((x - chartLeftW) / (w / float32(n)))
	if i >= n {
		return -1
	}
	return i
}

func (c *barChart) setHover(i int) {
	if i != c.hover {
		c.hover = i
		c.Refresh()
	}
}

// MouseIn implements desktop.Hoverable.
func (c *barChart) MouseIn(e *desktop.MouseEvent) { c.setHover(c.barAt(e.Position.X)) }

// MouseMoved implements desktop.Hoverable.
func (c *barChart) MouseMoved(e *desktop.MouseEvent) { c.setHover(c.barAt(e.Position.X)) }

// MouseOut implements desktop.Hoverable.
func (c *barChart) MouseOut() { c.setHover(-1) }

// Tapped shows the value of the bar tapped (touch screens have no hover).
func (c *barChart) Tapped(e *fyne.PointEvent) { c.setHover(c.barAt(e.Position.X)) }

// hoverText describes the bar under the pointer.
func (c *barChart) hoverText() string {
	if c.hover < 0 || c.hover >= len(c.buckets) {
		return ""
	}
	b := c.buckets[c.hover]
	return lang.X("chart.hover", "{{.Time}}: production {{.Production}} kWh, consumption {{.Consumption}} kWh (solar {{.Solar}}, grid {{.Grid}})",
		map[string]any{"Time": b.Time, "Production": kwhFine(b.Production), "Consumption": kwhFine(b.Consumption),
			"Solar": kwhFine(b.SelfConsumed), "Grid": kwhFine(b.Consumption - b.SelfConsumed)})
}

// kwhFine formats e in kWh with the precision a bar needs: two decimals
// under 10 kWh (quarter-hours), one above.
func kwhFine(e core.Energy) string {
	if e < 10*core.KWh && e > -10*core.KWh {
		return report.KWh(e, 2)
	}
	return kwh(e)
}

// niceStep returns a tick step of 1, 2 or 5 × 10ⁿ Wh that divides top
// into at most about n parts.
func niceStep(top core.Energy, n int) core.Energy {
	if top <= 0 {
		return core.KWh
	}
	raw := top / core.Energy(n)
	step := core.Energy(core.Wh)
	for {
		for _, f := range []core.Energy{1, 2, 5} {
			if f*step >= raw {
				return f * step
			}
		}
		step *= 10
	}
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
		info: canvas.NewText("", theme.Color(theme.ColorNameForeground)),
		unit: canvas.NewText("kWh", theme.Color(theme.ColorNameForeground))}
	r.info.TextSize = theme.CaptionTextSize()
	r.unit.TextSize = theme.CaptionTextSize()
	r.unit.Alignment = fyne.TextAlignTrailing
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
	c      *barChart
	prod   []*canvas.Rectangle
	solar  []*canvas.Rectangle
	grid   []*canvas.Rectangle
	labels []*canvas.Text
	// ticks are the y axis's gridlines and their labels, from 0 up.
	ticks     []*canvas.Line
	tickTexts []*canvas.Text
	step      core.Energy
	axis      *canvas.Line
	unit      *canvas.Text // "kWh", above the y labels
	info      *canvas.Text // the values of the bar under the pointer
	highlight *canvas.Rectangle
	objects   []fyne.CanvasObject
}

const (
	chartAxisH = 16 // room for the x labels
	chartTopH  = 22 // room for the unit and the hover text
	chartLeftW = 56 // room for the y labels
	chartTicks = 4  // about this many gridlines
)

func (r *chartRenderer) rebuild() {
	n := len(r.c.buckets)
	r.prod, r.solar, r.grid, r.labels, r.ticks, r.tickTexts = nil, nil, nil, nil, nil, nil
	r.objects = nil
	fg := theme.Color(theme.ColorNameForeground)
	gridColor := theme.Color(theme.ColorNameSeparator)
	r.step = niceStep(r.c.scale(), chartTicks)
	// Gridlines from 0 up to the first at or above the largest bar.
	for v := core.Energy(0); ; v += r.step {
		l := canvas.NewLine(gridColor)
		t := canvas.NewText(kwhTick(v, r.step), fg)
		t.TextSize = theme.CaptionTextSize()
		t.Alignment = fyne.TextAlignTrailing
		r.ticks = append(r.ticks, l)
		r.tickTexts = append(r.tickTexts, t)
		r.objects = append(r.objects, l, t)
		if v >= r.c.scale() {
			break
		}
	}
	r.highlight = canvas.NewRectangle(theme.Color(theme.ColorNameHover))
	r.objects = append(r.objects, r.highlight)
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
	r.info.Text = r.c.hoverText()
	r.info.Color = fg
	r.unit.Color = fg
	r.axis.StrokeColor = fg
	r.objects = append(r.objects, r.axis, r.unit, r.info)
}

// kwhTick labels a gridline: whole kWh when the step allows, else the
// decimals the step needs.
func kwhTick(v, step core.Energy) string {
	switch {
	case step%core.KWh == 0:
		return report.KWh(v, 0)
	case step%(core.KWh/10) == 0:
		return report.KWh(v, 1)
	}
	return report.KWh(v, 2)
}

func (r *chartRenderer) Layout(size fyne.Size) {
	n := len(r.c.buckets)
	plotH := size.Height - chartAxisH - chartTopH
	plotW := size.Width - chartLeftW
	base := chartTopH + plotH
	r.axis.Position1 = fyne.NewPos(chartLeftW, base)
	r.axis.Position2 = fyne.NewPos(size.Width, base)
	r.info.Move(fyne.NewPos(chartLeftW+4, 0))
	r.info.Resize(fyne.NewSize(max(0, plotW-4), chartTopH))
	r.unit.Move(fyne.NewPos(0, 0))
	r.unit.Resize(fyne.NewSize(chartLeftW-4, chartTopH))
	r.highlight.Hide()
	if plotH <= 0 || plotW <= 0 {
		return
	}
	// The chart's top is the gridline at or above the largest bar.
	top := float32(r.step) * float32(len(r.ticks)-1)
	if top <= 0 {
		top = float32(r.step)
	}
	h := func(e core.Energy) float32 {
		if e <= 0 {
			return 0
		}
		return plotH * float32(e) / top
	}
	for i, l := range r.ticks {
		y := base - h(core.Energy(i)*r.step)
		l.Position1 = fyne.NewPos(chartLeftW, y)
		l.Position2 = fyne.NewPos(size.Width, y)
		t := r.tickTexts[i]
		ts := t.MinSize()
		t.Move(fyne.NewPos(0, y-ts.Height/2))
		t.Resize(fyne.NewSize(chartLeftW-4, ts.Height))
	}
	if n == 0 {
		return
	}
	slot := plotW / float32(n)
	gap := slot * 0.15
	barW := (slot - gap) / 2
	for i, b := range r.c.buckets {
		x := chartLeftW + float32(i)*slot + gap/2
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
	if i := r.c.hover; i >= 0 && i < n {
		r.highlight.Move(fyne.NewPos(chartLeftW+float32(i)*slot, chartTopH))
		r.highlight.Resize(fyne.NewSize(slot, plotH))
		r.highlight.Show()
	}
}

func (r *chartRenderer) MinSize() fyne.Size { return fyne.NewSize(400, 140) }

func (r *chartRenderer) Refresh() {
	r.rebuild()
	r.Layout(r.c.Size())
	canvas.Refresh(r.c)
}

func (r *chartRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *chartRenderer) Destroy() {}
