package chart

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
)

func isColor(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, b uint8) int { x := int(a>>8) - int(b); return x * x }
	return d(r, want.R)+d(g, want.G)+d(b, want.B) < 300
}

// columnHeight counts pixels of colour c in column x.
func columnHeight(img image.Image, x int, c color.RGBA) int {
	n := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		if isColor(img.At(x, y), c) {
			n++
		}
	}
	return n
}

// TestBarsProportional: bar heights are proportional to the energy, solar
// at the bottom, grid above it.
func TestBarsProportional(t *testing.T) {
	bars := []Bar{{"Jan", 40, 120}, {"Feb", 80, 80}, {"Mar", 160, 0}}
	var buf bytes.Buffer
	if err := Energy(&buf, PNG, bars, Options{Width: 600, Height: 300, SolarLabel: "Solarstrom", GridLabel: "Netzstrom"}); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 600 || img.Bounds().Dy() != 300 {
		t.Fatalf("size %v", img.Bounds())
	}
	solar := color.RGBA{SolarColor.R, SolarColor.G, SolarColor.B, 255}
	grid := color.RGBA{GridColor.R, GridColor.G, GridColor.B, 255}
	// Find each bar's centre column: runs of columns with solar pixels below y = 40.
	var centres []int
	in := false
	start := 0
	for x := 0; x < 600; x++ {
		has := false
		for y := 40; y < 300; y++ {
			if isColor(img.At(x, y), solar) {
				has = true
				break
			}
		}
		if has && !in {
			in, start = true, x
		}
		if !has && in {
			in = false
			centres = append(centres, (start+x)/2)
		}
	}
	if len(centres) != 3 {
		t.Fatalf("found %d bars, want 3", len(centres))
	}
	s0, g0 := columnHeight(img, centres[0], solar), columnHeight(img, centres[0], grid)
	s1, s2 := columnHeight(img, centres[1], solar), columnHeight(img, centres[2], solar)
	near := func(what string, got, want float64) {
		if got < want*0.93 || got > want*1.07 {
			t.Errorf("%s: ratio %.2f, want %.2f", what, got, want)
		}
	}
	near("grid/solar Jan", float64(g0)/float64(s0), 3)
	near("solar Feb/Jan", float64(s1)/float64(s0), 2)
	near("solar Mar/Jan", float64(s2)/float64(s0), 4)
	// Solar is at the bottom: the lowest coloured pixel of Jan is solar.
	for y := 299; y >= 0; y-- {
		c := img.At(centres[0], y)
		if isColor(c, grid) {
			t.Fatal("grid below solar")
		}
		if isColor(c, solar) {
			break
		}
	}
}

func TestSVG(t *testing.T) {
	var buf bytes.Buffer
	if err := Energy(&buf, SVG, []Bar{{"KW 1", 1, 2}, {"KW 2", 2, 1}}, Options{SolarLabel: "Solaire", GridLabel: "Réseau"}); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, want := range []string{"<svg", "KW 1", "KW 2", "Solaire", "Réseau", "rgba(242,169,0,1.0)"} {
		if !strings.Contains(s, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if err := Energy(&buf, SVG, nil, Options{}); err != ErrNoBars {
		t.Errorf("no bars: %v", err)
	}
	if err := Energy(&buf, PNG, []Bar{{"x", -1, 0}}, Options{}); err == nil {
		t.Error("negative energy accepted")
	}
}
