// Command winres writes the Windows resource object (.syso) that gives
// zevdesk.exe its icon, version information and application manifest, all
// taken from FyneApp.toml and assets/icon.png. It runs mingw-w64's windres on a
// resource script it generates, so nothing derived is committed:
//
//	go run ./packaging/winres -o zz_zevdesk_windows_amd64.syso
//
// The Go linker links every .syso of the main package's directory into a
// Windows build (the _windows_amd64 suffix keeps it out of every other).
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"

	"github.com/BurntSushi/toml"
	"golang.org/x/image/draw"
)

// app is what FyneApp.toml says about the program.
type app struct {
	Website string
	Details struct {
		Icon, Name, ID, Version string
		Build                   int
	}
}

func main() {
	out := flag.String("o", "zz_zevdesk_windows_amd64.syso", "the resource object to write")
	meta := flag.String("app", "FyneApp.toml", "the Fyne metadata file (version, icon, id)")
	manifest := flag.String("manifest", "packaging/windows/zevdesk.exe.manifest", "the application manifest template")
	windres := flag.String("windres", "x86_64-w64-mingw32-windres", "mingw-w64's resource compiler")
	flag.Parse()
	if err := run(*meta, *manifest, *windres, *out); err != nil {
		fmt.Fprintln(os.Stderr, "winres:", err)
		os.Exit(1)
	}
}

func run(metaPath, manifestPath, windres, out string) error {
	var a app
	if _, err := toml.DecodeFile(metaPath, &a); err != nil {
		return fmt.Errorf("reading %s: %w", metaPath, err)
	}
	v, err := version4(a.Details.Version, a.Details.Build)
	if err != nil {
		return fmt.Errorf("reading %s: [Details] Version: %w", metaPath, err)
	}
	iconPath := filepath.Join(filepath.Dir(metaPath), a.Details.Icon)
	ico, err := icoFromPNG(iconPath)
	if err != nil {
		return err
	}
	tmpl, err := template.ParseFiles(manifestPath)
	if err != nil {
		return fmt.Errorf("reading the manifest template: %w", err)
	}
	fields := map[string]string{
		"ID": a.Details.ID, "Name": a.Details.Name, "Version": a.Details.Version,
		"Version4": strings.Join(v, "."), "Version4Comma": strings.Join(v, ","), "Website": a.Website,
	}
	var man bytes.Buffer
	if err := tmpl.Execute(&man, fields); err != nil {
		return fmt.Errorf("filling the manifest template: %w", err)
	}
	var rc bytes.Buffer
	if err := rcTemplate.Execute(&rc, fields); err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "winres")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for name, data := range map[string][]byte{"app.ico": ico, "app.manifest": man.Bytes(), "app.rc": rc.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "app.syso")
	cmd := exec.Command(windres, "--input=app.rc", "--output-format=coff", "--output=app.syso")
	cmd.Dir = dir // the script names its files relative to it
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("running %s: %w\n%s", windres, err, msg)
	}
	data, err := os.ReadFile(tmp)
	if err != nil {
		return err
	}
	return os.WriteFile(abs, data, 0o644)
}

// version4 turns "0.1.0" and build 1 into the four numbers Windows wants
// ("0", "1", "0", "1").
func version4(v string, build int) ([]string, error) {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("expected MAJOR.MINOR.PATCH, got %q", v)
	}
	for _, p := range parts {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 {
			return nil, fmt.Errorf("expected MAJOR.MINOR.PATCH of numbers up to 65535, got %q", v)
		}
	}
	return append(parts, strconv.Itoa(build)), nil
}

// icoSizes are the sizes Explorer picks from: lists, tiles and the taskbar.
var icoSizes = []int{16, 24, 32, 48, 64, 256}

// icoFromPNG returns an .ico holding the PNG scaled to icoSizes, each entry
// PNG-compressed (Windows Vista and later read PNG entries).
func icoFromPNG(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the icon: %w", err)
	}
	defer f.Close()
	src, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("reading the icon %s: %w", path, err)
	}
	if b := src.Bounds(); b.Dx() != b.Dy() || b.Dx() < 256 {
		return nil, errors.New("the icon " + path + " must be square and at least 256 pixels wide")
	}
	var images [][]byte
	for _, s := range icoSizes {
		dst := image.NewRGBA(image.Rect(0, 0, s, s))
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
		var buf bytes.Buffer
		if err := png.Encode(&buf, dst); err != nil {
			return nil, err
		}
		images = append(images, buf.Bytes())
	}
	var ico bytes.Buffer
	le := binary.LittleEndian
	ico.Write(le.AppendUint16(nil, 0))
	ico.Write(le.AppendUint16(nil, 1)) // an icon, not a cursor
	ico.Write(le.AppendUint16(nil, uint16(len(images))))
	offset := 6 + 16*len(images)
	for i, s := range icoSizes {
		dim := byte(s) // 0 means 256
		ico.Write([]byte{dim, dim, 0, 0})
		ico.Write(le.AppendUint16(nil, 1))  // colour planes
		ico.Write(le.AppendUint16(nil, 32)) // bits per pixel
		ico.Write(le.AppendUint32(nil, uint32(len(images[i]))))
		ico.Write(le.AppendUint32(nil, uint32(offset)))
		offset += len(images[i])
	}
	for _, img := range images {
		ico.Write(img)
	}
	return ico.Bytes(), nil
}

// rcTemplate is the resource script: the icon Explorer shows (the first
// group), the manifest (type 24, id 1: the process's own) and the version
// information Explorer's Details tab shows.
var rcTemplate = template.Must(template.New("rc").Parse(`1 ICON "app.ico"
1 24 "app.manifest"
1 VERSIONINFO
FILEVERSION {{.Version4Comma}}
PRODUCTVERSION {{.Version4Comma}}
FILEFLAGSMASK 0x3f
FILEFLAGS 0x0
FILEOS 0x40004
FILETYPE 0x1
FILESUBTYPE 0x0
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904b0"
    BEGIN
      VALUE "CompanyName", "{{.Name}}"
      VALUE "FileDescription", "{{.Name}}: metering and billing for self-consumption communities"
      VALUE "FileVersion", "{{.Version}}"
      VALUE "InternalName", "{{.Name}}"
      VALUE "OriginalFilename", "{{.Name}}.exe"
      VALUE "ProductName", "{{.Name}}"
      VALUE "ProductVersion", "{{.Version}}"
      VALUE "Comments", "{{.Website}}"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
`))
