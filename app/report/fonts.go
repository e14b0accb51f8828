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
// fonts-liberation2 or fonts-liberation, which `make deps` installs), else
// Arial where Windows or macOS has it. Where neither is found, the Go fonts
// (BSD licence, part of golang.org/x/image, covering Latin-1 and Latin
// Extended-A) are embedded instead and a warning is logged once: every
// accent still renders, but the payment part is then not in a font the
// style guide names.

// FontDirs are searched, in order, for LiberationSans-Regular.ttf and
// LiberationSans-Bold.ttf.
var FontDirs = []string{
	"/usr/share/fonts/truetype/liberation2",
	"/usr/share/fonts/truetype/liberation",
	"/usr/share/fonts/liberation-sans", // Fedora
	"/usr/share/fonts/TTF",             // Arch
}

// arialFiles are Arial's regular and bold files on Windows and macOS, the
// other style-guide font a desktop is likely to have.
var arialFiles = [][2]string{
	{`C:\Windows\Fonts\arial.ttf`, `C:\Windows\Fonts\arialbd.ttf`},
	{"/System/Library/Fonts/Supplemental/Arial.ttf", "/System/Library/Fonts/Supplemental/Arial Bold.ttf"},
	{"/Library/Fonts/Arial.ttf", "/Library/Fonts/Arial Bold.ttf"},
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
		fonts = findFonts(FontDirs, arialFiles)
		if fonts.name == goFonts.name {
			slog.Warn("neither Liberation Sans nor Arial found; invoices use the Go font (install fonts-liberation2 for a style-guide font in the QR-bill payment part)",
				"searched", FontDirs)
		}
	})
	return fonts
}

var goFonts = fontSet{name: "Go", regular: goregular.TTF, bold: gobold.TTF}

// findFonts returns Liberation Sans from the first of dirs that has it, else
// the first Arial of arial, else the Go fonts.
func findFonts(dirs []string, arial [][2]string) fontSet {
	try := func(name, regular, bold string) (fontSet, bool) {
		r, err1 := os.ReadFile(regular)
		b, err2 := os.ReadFile(bold)
		if err1 != nil || err2 != nil {
			return fontSet{}, false
		}
		return fontSet{name: name, regular: r, bold: b}, true
	}
	for _, dir := range dirs {
		if fs, ok := try("Liberation Sans", filepath.Join(dir, "LiberationSans-Regular.ttf"), filepath.Join(dir, "LiberationSans-Bold.ttf")); ok {
			return fs
		}
	}
	for _, f := range arial {
		if fs, ok := try("Arial", f[0], f[1]); ok {
			return fs
		}
	}
	return goFonts
}

// FontName returns the name of the font family invoices are set in:
// "Liberation Sans", "Arial", or "Go" where neither is installed.
func FontName() string { return loadFonts().name }
