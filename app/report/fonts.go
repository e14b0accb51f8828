package report

import (
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// Fonts: the QR-bill style guide allows Arial, Frutiger, Helvetica and
// Liberation Sans in the payment part. Liberation Sans (SIL OFL) is not
// committed to the repository; it is loaded from the system (Debian's
// fonts-liberation2 or fonts-liberation, which `make deps` installs). Where
// it is missing, the Go fonts (BSD licence, part of golang.org/x/image,
// covering Latin-1 and Latin Extended-A) are embedded instead and a warning
// is logged once: every accent still renders, but the payment part is then
// not in a font the style guide names.

// FontDirs are searched, in order, for LiberationSans-Regular.ttf and
// LiberationSans-Bold.ttf.
var FontDirs = []string{
	"/usr/share/fonts/truetype/liberation2",
	"/usr/share/fonts/truetype/liberation",
	"/usr/share/fonts/liberation-sans", // Fedora
	"/usr/share/fonts/TTF",             // Arch
}

type fontSet struct {
	name          string
	regular, bold []byte
}

var (
	fontsOnce sync.Once
	fonts     fontSet
)

func loadFonts() fontSet {
	fontsOnce.Do(func() {
		for _, dir := range FontDirs {
			r, err1 := os.ReadFile(filepath.Join(dir, "LiberationSans-Regular.ttf"))
			b, err2 := os.ReadFile(filepath.Join(dir, "LiberationSans-Bold.ttf"))
			if err1 == nil && err2 == nil {
				fonts = fontSet{name: "Liberation Sans", regular: r, bold: b}
				return
			}
		}
		slog.Warn("Liberation Sans not found; invoices use the Go font (install fonts-liberation2 for a style-guide font in the QR-bill payment part)",
			"searched", FontDirs)
		fonts = fontSet{name: "Go", regular: goregular.TTF, bold: gobold.TTF}
	})
	return fonts
}

// FontName returns the name of the font family invoices are set in:
// "Liberation Sans", or "Go" where it is not installed.
func FontName() string { return loadFonts().name }
