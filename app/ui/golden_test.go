package ui

import (
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

var update = flag.Bool("update", false, "rewrite the golden screen renderings in testdata/")

// assertGolden compares the window's rendering with testdata/name, or
// rewrites it with -update.
func assertGolden(t *testing.T, name string, w fyne.Window) {
	t.Helper()
	img := w.Canvas().Capture()
	if *update {
		writePNG(t, filepath.Join("testdata", name), img)
		return
	}
	test.AssertImageMatches(t, name, img)
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestGoldenOverview(t *testing.T) {
	test.NewTempApp(t)
	test.ApplyTheme(t, test.Theme())
	st, clock := testStore(t)
	o := NewOverview(st, clock)
	w := test.NewTempWindow(t, o.Content())
	w.Resize(fyne.NewSize(720, 440))
	if err := o.ShowSite(""); err != nil {
		t.Fatal(err)
	}
	assertGolden(t, "overview.png", w)
}

func TestGoldenBilling(t *testing.T) {
	test.NewTempApp(t)
	test.ApplyTheme(t, test.Theme())
	st, site, clock := billingStore(t)
	w := test.NewTempWindow(t, nil)
	b := NewBilling(st, clock, w)
	w.SetContent(b.Content())
	w.Resize(fyne.NewSize(860, 440))
	hook, wait := waitDone(t)
	b.done = hook
	b.setSite(site)
	wait()
	assertGolden(t, "billing.png", w)
}

// inLanguage switches lang to code for the rest of the test.
func inLanguage(t *testing.T, code string) {
	t.Helper()
	if err := setLanguage(code); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := setLanguage("en"); err != nil {
			t.Error(err)
		}
	})
}

func TestGoldenOverviewGerman(t *testing.T) {
	test.NewTempApp(t)
	test.ApplyTheme(t, test.Theme())
	inLanguage(t, "de")
	st, clock := testStore(t)
	o := NewOverview(st, clock)
	w := test.NewTempWindow(t, o.Content())
	w.Resize(fyne.NewSize(720, 440))
	if err := o.ShowSite(""); err != nil {
		t.Fatal(err)
	}
	assertGolden(t, "overview-de.png", w)
}

func TestGoldenBillingFrench(t *testing.T) {
	test.NewTempApp(t)
	test.ApplyTheme(t, test.Theme())
	inLanguage(t, "fr")
	st, site, clock := billingStore(t)
	w := test.NewTempWindow(t, nil)
	b := NewBilling(st, clock, w)
	w.SetContent(b.Content())
	w.Resize(fyne.NewSize(860, 440))
	hook, wait := waitDone(t)
	b.done = hook
	b.setSite(site)
	wait()
	assertGolden(t, "billing-fr.png", w)
}
