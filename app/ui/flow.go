package ui

import (
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
)

// power is the building's power at one moment, in W, all non-negative
// except Grid: Production is the PV plant's output, Consumption what the
// consumers draw, Grid the utility meter (positive importing, negative
// feeding in).
type power struct {
	Production, Consumption, Grid float64
}

// SelfSufficiency is the share of consumption covered by the PV plant, in
// [0, 1]; ok is false without consumption.
func (p power) SelfSufficiency() (float64, bool) {
	if p.Consumption <= 0 {
		return 0, false
	}
	imp := math.Max(p.Grid, 0)
	return math.Min(math.Max((p.Consumption-imp)/p.Consumption, 0), 1), true
}

// flowPicture draws the building's power flow: the PV plant above, the grid
// on the left, the building on the right, with an arrow per flow whose
// width follows its power and a number on each. Without current values
// (known false) it shows dashes and greys the arrows out, never old numbers.
// It is not safe for concurrent use.
type flowPicture struct {
	root *fyne.Container

	pv, grid, house         *canvas.Rectangle
	pvName, gridName, hName *canvas.Text
	pvKW, gridKW, houseKW   *canvas.Text
	pvLine, gridLine        *canvas.Line
	gridDir, selfText       *canvas.Text
}

func newFlowPicture() *flowPicture {
	f := &flowPicture{}
	box := func() *canvas.Rectangle {
		r := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
		r.StrokeWidth = 2
		r.CornerRadius = 8
		return r
	}
	text := func(size float32, bold bool) *canvas.Text {
		t := canvas.NewText("", theme.Color(theme.ColorNameForeground))
		t.TextSize = size
		t.TextStyle.Bold = bold
		t.Alignment = fyne.TextAlignCenter
		return t
	}
	f.pv, f.grid, f.house = box(), box(), box()
	f.pv.StrokeColor = color.NRGBA{R: 0xe8, G: 0xa3, B: 0x17, A: 0xff}
	f.grid.StrokeColor = color.NRGBA{R: 0x55, G: 0x6b, B: 0x8d, A: 0xff}
	f.house.StrokeColor = color.NRGBA{R: 0x3c, G: 0x8d, B: 0x5a, A: 0xff}
	f.pvName, f.gridName, f.hName = text(14, true), text(14, true), text(14, true)
	f.pvName.Text = lang.X("live.flow.pv", "Solar")
	f.gridName.Text = lang.X("live.flow.grid", "Grid")
	f.hName.Text = lang.X("live.flow.building", "Building")
	f.pvKW, f.gridKW, f.houseKW = text(22, true), text(22, true), text(22, true)
	f.pvLine = canvas.NewLine(f.pv.StrokeColor)
	f.gridLine = canvas.NewLine(f.grid.StrokeColor)
	f.gridDir, f.selfText = text(13, false), text(15, true)
	f.root = container.New(&flowLayout{f},
		f.pvLine, f.gridLine, f.pv, f.grid, f.house, f.pvName, f.gridName, f.hName,
		f.pvKW, f.gridKW, f.houseKW, f.gridDir, f.selfText)
	f.set(power{}, false)
	return f
}

// set shows p; known false shows dashes.
func (f *flowPicture) set(p power, known bool) {
	dash := "–"
	if !known {
		f.pvKW.Text, f.gridKW.Text, f.houseKW.Text, f.gridDir.Text, f.selfText.Text = dash, dash, dash, "", ""
		f.pvLine.StrokeWidth, f.gridLine.StrokeWidth = 1, 1
		f.pvLine.StrokeColor = theme.Color(theme.ColorNameDisabled)
		f.gridLine.StrokeColor = theme.Color(theme.ColorNameDisabled)
	} else {
		f.pvKW.Text = kw(p.Production) + " kW"
		f.houseKW.Text = kw(p.Consumption) + " kW"
		f.gridKW.Text = kw(math.Abs(p.Grid)) + " kW"
		switch {
		case p.Grid > 50:
			f.gridDir.Text = lang.X("live.flow.import", "importing from the grid →")
		case p.Grid < -50:
			f.gridDir.Text = lang.X("live.flow.export", "← feeding into the grid")
		default:
			f.gridDir.Text = lang.X("live.flow.balanced", "no exchange with the grid")
		}
		if s, ok := p.SelfSufficiency(); ok {
			f.selfText.Text = lang.X("live.flow.self", "Self-sufficiency {{.Pct}} %", map[string]any{"Pct": int(math.Round(100 * s))})
		} else {
			f.selfText.Text = ""
		}
		f.pvLine.StrokeColor = f.pv.StrokeColor
		f.gridLine.StrokeColor = f.grid.StrokeColor
		f.pvLine.StrokeWidth = arrowWidth(p.Production)
		f.gridLine.StrokeWidth = arrowWidth(math.Abs(p.Grid))
	}
	f.root.Refresh()
}

// arrowWidth grows with the square root of the power: 1 px at nothing,
// 12 px at 30 kW.
func arrowWidth(w float64) float32 {
	return float32(1 + 11*math.Sqrt(math.Min(math.Max(w, 0), 30_000)/30_000))
}

// flowLayout places the three boxes in a triangle: PV at the top centre,
// the grid bottom left, the building bottom right.
type flowLayout struct{ f *flowPicture }

func (l *flowLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(420, 200) }

func (l *flowLayout) Layout(_ []fyne.CanvasObject, size fyne.Size) {
	f := l.f
	bw, bh := size.Width/4, size.Height/3.2
	pvPos := fyne.NewPos((size.Width-bw)/2, 0)
	gridPos := fyne.NewPos(0, size.Height-bh)
	housePos := fyne.NewPos(size.Width-bw, size.Height-bh)
	bs := fyne.NewSize(bw, bh)
	for _, b := range []struct {
		r         *canvas.Rectangle
		name, val *canvas.Text
		pos       fyne.Position
	}{{f.pv, f.pvName, f.pvKW, pvPos}, {f.grid, f.gridName, f.gridKW, gridPos}, {f.house, f.hName, f.houseKW, housePos}} {
		b.r.Move(b.pos)
		b.r.Resize(bs)
		b.name.Move(b.pos.Add(fyne.NewPos(0, 8)))
		b.name.Resize(fyne.NewSize(bw, 20))
		b.val.Move(b.pos.Add(fyne.NewPos(0, bh/2-4)))
		b.val.Resize(fyne.NewSize(bw, 28))
	}
	// PV flows down to the building; the grid line joins grid and building.
	f.pvLine.Position1 = fyne.NewPos(pvPos.X+bw/2, bh)
	f.pvLine.Position2 = fyne.NewPos(housePos.X+bw/2, housePos.Y)
	f.gridLine.Position1 = fyne.NewPos(bw, gridPos.Y+bh/2)
	f.gridLine.Position2 = fyne.NewPos(housePos.X, housePos.Y+bh/2)
	f.gridDir.Move(fyne.NewPos(bw, gridPos.Y+bh/2-24))
	f.gridDir.Resize(fyne.NewSize(size.Width-2*bw, 20))
	f.selfText.Move(fyne.NewPos(0, bh/2))
	f.selfText.Resize(fyne.NewSize(bw*1.4, 24))
}
