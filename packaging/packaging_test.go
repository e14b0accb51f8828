//go:build linux

// Package packaging_test tries zevdesk's packages as a user would: it builds
// them with `make package` (the Go build cache and make's timestamps keep a
// repeat quick, and a changed source is always rebuilt), runs the Windows
// executable under Wine on the same inputs as the Linux binary, installs the
// .debs into fresh roots and verifies the gateway's systemd unit.
package packaging_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/BurntSushi/toml"
)

// toolPackages names the Debian package of each tool the tests need.
var toolPackages = map[string]string{
	"make": "make", "git": "git", "x86_64-w64-mingw32-gcc": "gcc-mingw-w64-x86-64",
	"x86_64-w64-mingw32-windres": "binutils-mingw-w64-x86-64", "wine": "wine", "wineboot": "wine",
	"dpkg-deb": "dpkg", "dpkg-shlibdeps": "dpkg-dev", "systemd-analyze": "systemd", "systemd-sysusers": "systemd",
	"zip": "zip", "unzip": "unzip", "pdftotext": "poppler-utils", "pdftoppm": "poppler-utils", "apt-get": "apt",
}

// needTools skips the test where a program is not installed, and fails it in
// continuous integration (CI set), where `make deps` has installed it and its
// absence would hide a broken check.
func needTools(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			msg := fmt.Sprintf("%s not installed (Debian package %s; `make deps` installs it)", name, toolPackages[name])
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// repo is the repository's top directory (this package is one below it).
func repo(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// appVersion is FyneApp.toml's version, which every artefact must carry.
func appVersion(t *testing.T) string {
	t.Helper()
	var f struct{ Details struct{ Version string } }
	if _, err := toml.DecodeFile(filepath.Join(repo(t), "FyneApp.toml"), &f); err != nil {
		t.Fatal(err)
	}
	return f.Details.Version
}

var (
	packageOnce sync.Once
	packageErr  error
)

// dist runs `make package` once per test binary and returns the dist
// directory. make rebuilds whatever is older than its sources or was built
// from another commit, so the tests never see stale artefacts.
func dist(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the packages")
	}
	needTools(t, "make", "git", "x86_64-w64-mingw32-gcc", "x86_64-w64-mingw32-windres", "dpkg-deb", "dpkg-shlibdeps", "zip")
	top := repo(t)
	packageOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "package")
		cmd.Dir = top
		if out, err := cmd.CombinedOutput(); err != nil {
			packageErr = fmt.Errorf("make package: %v\n%s", err, out)
		}
	})
	if packageErr != nil {
		t.Fatal(packageErr)
	}
	return filepath.Join(top, "dist")
}

// run runs a program with a time limit and returns its stdout; a failure
// reports stderr.
func run(t *testing.T, env []string, dir string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = env, dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// wantCommit is the commit `zevdesk --version` must name: HEAD, marked
// +modified when the work tree has changes or new files, as Go stamps it.
func wantCommit(t *testing.T) string {
	t.Helper()
	head := strings.TrimSpace(run(t, nil, repo(t), "git", "rev-parse", "HEAD"))
	if strings.TrimSpace(run(t, nil, repo(t), "git", "status", "--porcelain")) != "" {
		head += "+modified"
	}
	return head
}

// TestVersion: `zevdesk --version` names FyneApp.toml's version and the
// commit the binary was built from.
func TestVersion(t *testing.T) {
	d := dist(t)
	want := fmt.Sprintf("zevdesk %s (commit %s)\n", appVersion(t), wantCommit(t))
	for _, bin := range []string{"linux-amd64/zevdesk", "linux-amd64-headless/zevdesk"} {
		if got := run(t, nil, "", filepath.Join(d, bin), "--version"); got != want {
			t.Errorf("%s --version = %q, want %q", bin, got, want)
		}
	}
}

// TestWindowsExecutable checks what Explorer shows of zevdesk.exe: a GUI
// program (no console window) with the icon and FyneApp.toml's version, and
// zevdesk-cli.exe a console program.
func TestWindowsExecutable(t *testing.T) {
	d := dist(t)
	for name, wantSub := range map[string]uint16{"zevdesk.exe": pe.IMAGE_SUBSYSTEM_WINDOWS_GUI, "zevdesk-cli.exe": pe.IMAGE_SUBSYSTEM_WINDOWS_CUI} {
		f, err := pe.Open(filepath.Join(d, "windows", name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
		if !ok || f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
			t.Fatalf("%s: not a 64-bit x86 executable", name)
		}
		if oh.Subsystem != wantSub {
			t.Errorf("%s: subsystem %d, want %d", name, oh.Subsystem, wantSub)
		}
		rsrc := f.Section(".rsrc")
		if rsrc == nil {
			t.Fatalf("%s has no resources (icon, version, manifest)", name)
		}
		data, err := rsrc.Data()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, utf16z("ProductVersion", appVersion(t))) {
			t.Errorf("%s: the version resource does not say ProductVersion %s", name, appVersion(t))
		}
		if !bytes.Contains(data, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("%s: no icon image in the resources", name)
		}
		if !bytes.Contains(data, []byte("<activeCodePage")) || !bytes.Contains(data, []byte(`level="asInvoker"`)) {
			t.Errorf("%s: the manifest (UTF-8 code page, no elevation) is missing", name)
		}
	}
}

// utf16z is a version resource's key and value as Windows stores them:
// UTF-16LE strings, each NUL-terminated, the value 32-bit aligned from the
// start of the String structure (whose key follows a 6-byte header).
func utf16z(key, value string) []byte {
	enc := func(s string) []byte {
		var b []byte
		for _, u := range utf16.Encode([]rune(s)) {
			b = binary.LittleEndian.AppendUint16(b, u)
		}
		b = append(b, 0, 0)
		return b
	}
	k := enc(key)
	if (6+len(k))%4 != 0 {
		k = append(k, 0, 0)
	}
	return append(k, enc(value)...)
}

// The inputs both binaries are given: a site whose names have umlauts, and a
// day of readings for it.
const siteTOML = `id = "lindenhoehe"
name = "ZEV Lindenhöhe Zürich"

[operator]
name = "Müller Immobilien AG"
iban = "CH44 3199 9123 0008 8901 2"

[[units]]
id = "A"
[[units]]
id = "B"

[[meters]]
id = "GRID"
role = "grid"
[[meters]]
id = "PV"
role = "production"
[[meters]]
id = "MA"
role = "unit"
unit = "A"
[[meters]]
id = "MB"
role = "unit"
unit = "B"

[[tariffs]]
from = 2026-01-01
solar_chf_kwh = 0.20
grid_chf_kwh = 0.30
`

// readingsCSV is a day of interval energy for every meter of siteTOML.
func readingsCSV() string {
	var b strings.Builder
	b.WriteString("meter,start,kwh_in\n")
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i, m := range []string{"GRID", "PV", "MA", "MB"} {
		for s := range 96 {
			fmt.Fprintf(&b, "%s,%s,0.%03d\n", m, day.Add(time.Duration(s)*15*time.Minute).Format(time.RFC3339), 100+s*(i+1)%700)
		}
	}
	return b.String()
}

// session runs one platform's binary on the shared inputs.
type session struct {
	name string
	// exec runs the program with args; paths given to it are translated by
	// path.
	exec func(t *testing.T, args ...string) string
	// path turns a path on this machine into one the program understands.
	path func(string) string
}

// userScript is what an office does: the demo site, a site and its readings
// imported, a dry-run bill as JSON and the invoice documents of both sites.
// It returns the outputs to compare, keyed by what they are.
func userScript(t *testing.T, s session, work string) map[string]string {
	t.Helper()
	db := filepath.Join(work, "Büro Daten", "zevdesk.db")
	site := filepath.Join(work, "Eingänge", "Lindenhöhe Zürich.toml")
	csv := filepath.Join(work, "Eingänge", "Zähler März.csv")
	for p, content := range map[string]string{site: siteTOML, csv: readingsCSV()} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	z := func(args ...string) string { return s.exec(t, append([]string{"--db", s.path(db)}, args...)...) }
	out := map[string]string{}
	if got := z("demo", "--no-window", "--now", "2026-03-01T12:00:00Z"); !strings.Contains(got, "created the demo site") {
		t.Fatalf("%s: demo --no-window printed %q", s.name, got)
	}
	z("site", "import", s.path(site))
	if got := z("import", "readings", "--site", "lindenhoehe", s.path(csv)); !strings.Contains(got, "384 rows, 384 values written") {
		t.Fatalf("%s: import readings printed %q", s.name, got)
	}
	out["bill --json lindenhoehe"] = z("bill", "--site", "lindenhoehe", "--from", "2026-03-02", "--to", "2026-03-02", "--json")
	out["bill --json demo"] = z("bill", "--site", "demo", "--from", "2026-01-01", "--to", "2026-01-31", "--json")
	docs := filepath.Join(work, "Rechnungen Jänner")
	z("bill", "--site", "demo", "--from", "2026-01-01", "--to", "2026-01-31", "--out", s.path(docs))
	pdfs, err := filepath.Glob(filepath.Join(docs, "*.pdf"))
	if err != nil || len(pdfs) == 0 {
		t.Fatalf("%s: bill --out wrote no PDF into %s (%v)", s.name, docs, err)
	}
	for i, p := range pdfs {
		out["pdf text "+filepath.Base(p)] = run(t, nil, "", "pdftotext", "-layout", p, "-")
		if i == 0 {
			// The pages as printed: the same fonts give the same pixels.
			img := filepath.Join(work, "page")
			run(t, nil, "", "pdftoppm", "-r", "50", "-png", p, img)
			pages, _ := filepath.Glob(img + "*.png")
			for _, pg := range pages {
				data, err := os.ReadFile(pg)
				if err != nil {
					t.Fatal(err)
				}
				out["pdf page "+filepath.Base(pg)] = fmt.Sprintf("%x", sha256.Sum256(data))
			}
		}
	}
	return out
}

// winePrefix builds the test-only bcryptprimitives.dll
// (packaging/test/wineshim) into a new Wine prefix in dir, and returns the
// environment to run Wine with and the prefix's drive C: to run it in.
func winePrefix(t *testing.T, dir string) (env []string, driveC string) {
	t.Helper()
	prefix := filepath.Join(dir, "wineprefix")
	env = append(os.Environ(),
		"WINEPREFIX="+prefix,
		"WINEDEBUG=-all",
		"WINEARCH=win64",
		// No Mono or Gecko: their installers would ask for a download.
		"WINEDLLOVERRIDES=mscoree,mshtml=",
		"DISPLAY=", // CLI use needs no display
	)
	run(t, env, dir, "wineboot", "-i")
	// Wait for the prefix's wineserver to finish writing the registry.
	run(t, env, dir, "wineserver", "-w")
	sys32 := filepath.Join(prefix, "drive_c", "windows", "system32")
	if _, err := os.Stat(sys32); err != nil {
		t.Fatalf("wineboot made no system32: %v", err)
	}
	run(t, env, "", "x86_64-w64-mingw32-gcc", "-O2", "-shared", "-o", filepath.Join(sys32, "bcryptprimitives.dll"),
		filepath.Join(repo(t), "packaging", "test", "wineshim", "bcryptprimitives.c"), "-ladvapi32")
	t.Cleanup(func() {
		k := exec.Command("wineserver", "-k")
		k.Env = env
		k.Run()
	})
	return env, filepath.Join(prefix, "drive_c")
}

// winPath is a path on this machine as a Windows program under Wine sees it
// (drive Z: is the root).
func winPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

// unzip extracts the Windows download into dir and returns its folder.
func unzip(t *testing.T, zip, dir string) string {
	t.Helper()
	run(t, nil, "", "unzip", "-q", zip, "-d", dir)
	return filepath.Join(dir, "zevdesk")
}

// TestWindowsUnderWine runs the Windows download as an office would, from a
// folder whose path has spaces and umlauts, and checks that it gives the
// same JSON and the same invoice text as the Linux binary on the same inputs,
// with the default database in %AppData%.
func TestWindowsUnderWine(t *testing.T) {
	d := dist(t)
	needTools(t, "wine", "wineboot", "unzip", "pdftotext", "pdftoppm")
	tmp := t.TempDir()
	env, driveC := winePrefix(t, tmp)
	folder := unzip(t, filepath.Join(d, fmt.Sprintf("zevdesk-%s-windows-amd64.zip", appVersion(t))), filepath.Join(tmp, "Programme Müller"))
	for _, f := range []string{"zevdesk.exe", "zevdesk-cli.exe", "fonts/LiberationSans-Regular.ttf", "fonts/LiberationSans-Bold.ttf",
		"fonts/LICENSE-LiberationSans.txt", "docs/user-guide.md", "docs/install.md"} {
		if _, err := os.Stat(filepath.Join(folder, f)); err != nil {
			t.Errorf("the zip lacks %s: %v", f, err)
		}
	}
	wine := func(exe string) func(t *testing.T, args ...string) string {
		return func(t *testing.T, args ...string) string {
			// Run from drive C:, as from the Start menu. From a Z: folder
			// (Wine's view of /), the Linux font paths report.FontDirs names
			// would resolve to this machine's fonts and hide missing ones.
			return run(t, env, driveC, "wine", append([]string{filepath.Join(folder, exe)}, args...)...)
		}
	}

	// The GUI executable's output reaches a pipe (a redirect), and so does the
	// console one's.
	want := fmt.Sprintf("zevdesk %s (commit %s)", appVersion(t), wantCommit(t))
	for _, exe := range []string{"zevdesk.exe", "zevdesk-cli.exe"} {
		if got := strings.TrimRight(wine(exe)(t, "--version"), "\r\n"); got != want {
			t.Errorf("wine %s --version = %q, want %q", exe, got, want)
		}
	}
	// Without --db the database is in the user's %AppData%.
	if got := wine("zevdesk-cli.exe")(t, "demo", "--no-window", "--now", "2026-03-01T12:00:00Z"); !regexp.MustCompile(`(?i)in C:\\users\\[^\\]+\\AppData\\Roaming\\zevdesk\\zevdesk\.db`).MatchString(got) {
		t.Errorf("the default database is not in %%AppData%%: demo printed %q", got)
	}

	linux := userScript(t, session{name: "linux", exec: func(t *testing.T, args ...string) string {
		return run(t, nil, "", filepath.Join(d, "linux-amd64", "zevdesk"), args...)
	}, path: func(p string) string { return p }}, filepath.Join(tmp, "linux"))
	windows := userScript(t, session{name: "windows", exec: wine("zevdesk.exe"), path: winPath}, filepath.Join(tmp, "windows"))
	for k, l := range linux {
		w, ok := windows[k]
		if !ok {
			t.Errorf("Windows made no %s", k)
			continue
		}
		if w = strings.ReplaceAll(w, "\r\n", "\n"); w != l {
			t.Errorf("%s differs between Linux and Windows:\nlinux:\n%s\nwindows:\n%s", k, l, w)
		}
	}
	if len(windows) != len(linux) {
		t.Errorf("Windows made %d outputs, Linux %d", len(windows), len(linux))
	}
	if !strings.Contains(windows["bill --json lindenhoehe"], "Müller Immobilien AG") {
		t.Errorf("the bill lost the umlauts of the site file: %s", windows["bill --json lindenhoehe"])
	}
}

// dpkgRoot makes an empty root with a dpkg database for `dpkg --root`.
func dpkgRoot(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "etc", "usr/bin", "bin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// dpkg runs dpkg on root. The root holds no other package, so dependencies
// are forced (they are checked from the control file instead), and the
// maintainer scripts run outside it with DPKG_ROOT set, as Debian's
// chrootless bootstrap does.
func dpkg(t *testing.T, root string, args ...string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("dpkg --root needs root (the packages' files are owned by root)")
	}
	return run(t, nil, "", "dpkg", append([]string{"--root=" + root, "--force-script-chrootless", "--force-depends",
		"--force-not-root", "--log=/dev/null"}, args...)...)
}

// aptResolves checks that `apt install ./PACKAGE.deb` would go through on
// this machine: apt finds every declared dependency (installed or in its
// lists). It only simulates.
func aptResolves(t *testing.T, deb, pkg string) {
	t.Helper()
	needTools(t, "apt-get")
	out := run(t, nil, "", "apt-get", "install", "--simulate", "-q", deb)
	if !strings.Contains(out, "Inst "+pkg+" ") {
		t.Errorf("apt-get install --simulate %s would not install %s:\n%s", deb, pkg, out)
	}
}

func debField(t *testing.T, deb, field string) string {
	t.Helper()
	return strings.TrimSpace(run(t, nil, "", "dpkg-deb", "--field", deb, field))
}

// TestDesktopDeb installs the desktop package into a fresh root: binary,
// desktop entry and icon are where the desktop finds them, its library and
// font dependencies are declared, and the installed binary runs.
func TestDesktopDeb(t *testing.T) {
	d := dist(t)
	deb := filepath.Join(d, fmt.Sprintf("zevdesk_%s_amd64.deb", appVersion(t)))
	deps := debField(t, deb, "Depends")
	for _, want := range []string{"libc6", "libgl1", "libx11-6", "libxrandr2", "libxcursor1", "fonts-liberation2"} {
		if !regexp.MustCompile(`(^|, )` + regexp.QuoteMeta(want) + `( |,|$)`).MatchString(deps) {
			t.Errorf("Depends %q lacks %s", deps, want)
		}
	}
	aptResolves(t, deb, "zevdesk")
	root := dpkgRoot(t)
	dpkg(t, root, "-i", deb)
	for _, f := range []string{"usr/bin/zevdesk", "usr/share/applications/ch.zevdesk.app.desktop",
		"usr/share/icons/hicolor/256x256/apps/ch.zevdesk.app.png", "usr/share/doc/zevdesk/copyright"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("installed package lacks /%s: %v", f, err)
		}
	}
	bin := filepath.Join(root, "usr/bin/zevdesk")
	if got := run(t, nil, "", bin, "--version"); !strings.HasPrefix(got, "zevdesk "+appVersion(t)+" (commit ") {
		t.Errorf("installed zevdesk --version = %q", got)
	}
	if got := run(t, nil, "", bin, "help"); !strings.Contains(got, "zevdesk [--db FILE|URL] bill") {
		t.Errorf("installed zevdesk help lacks the bill command:\n%s", got)
	}
	if got := run(t, nil, "", "dpkg-query", "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-W", "-f=${Status}", "zevdesk"); got != "install ok installed" {
		t.Errorf("dpkg says the package is %q", got)
	}
	dpkg(t, root, "--purge", "zevdesk")
	if _, err := os.Stat(bin); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("purge left /usr/bin/zevdesk: %v", err)
	}
}

// TestGatewayDeb installs the gateway package into a fresh root: the system
// user, its private data directory and the enabled unit exist; the unit
// passes systemd-analyze verify; the installed binary, started as the unit
// starts it, shows a pairing code that `zevdesk gateway status` repeats;
// purge removes the data. The arm64 package holds an arm64 binary.
func TestGatewayDeb(t *testing.T) {
	d := dist(t)
	needTools(t, "systemd-analyze", "systemd-sysusers")
	if os.Geteuid() != 0 {
		t.Skip("dpkg --root needs root")
	}
	arm := filepath.Join(d, fmt.Sprintf("zevdesk-gateway_%s_arm64.deb", appVersion(t)))
	if a := debField(t, arm, "Architecture"); a != "arm64" {
		t.Errorf("%s: Architecture %q", arm, a)
	}
	armRoot := t.TempDir()
	run(t, nil, "", "dpkg-deb", "-x", arm, armRoot)
	if f, err := elf.Open(filepath.Join(armRoot, "usr/bin/zevdesk")); err != nil {
		t.Error(err)
	} else {
		if f.Machine != elf.EM_AARCH64 {
			t.Errorf("the arm64 package's binary is for %v", f.Machine)
		}
		f.Close()
	}

	deb := filepath.Join(d, fmt.Sprintf("zevdesk-gateway_%s_amd64.deb", appVersion(t)))
	aptResolves(t, deb, "zevdesk-gateway")
	root := dpkgRoot(t)
	dpkg(t, root, "-i", deb)

	passwd, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^zevdesk-gateway:x:(\d+):(\d+):[^:]*:/var/lib/zevdesk-gateway:`).FindSubmatch(passwd)
	if m == nil {
		t.Fatalf("no system user zevdesk-gateway in the root's /etc/passwd:\n%s", passwd)
	}
	data := filepath.Join(root, "var/lib/zevdesk-gateway")
	fi, err := os.Stat(data)
	if err != nil {
		t.Fatalf("no data directory: %v", err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o700 || fmt.Sprint(st.Uid) != string(m[1]) {
		t.Errorf("data directory mode %v owner %d, want 0700 owned by zevdesk-gateway (%s)", fi.Mode().Perm(), st.Uid, m[1])
	}
	if _, err := os.Lstat(filepath.Join(root, "etc/systemd/system/multi-user.target.wants/zevdesk-gateway.service")); err != nil {
		t.Errorf("the unit is not enabled: %v", err)
	}

	verifyUnit(t, root)

	// The unit's command, with a simulated building instead of meters and
	// a loopback port, as the installer's configuration would give it.
	bin := filepath.Join(root, "usr/bin/zevdesk")
	if got := run(t, nil, "", bin, "--version"); !strings.HasPrefix(got, "zevdesk "+appVersion(t)+" (commit ") {
		t.Errorf("installed zevdesk --version = %q", got)
	}
	// Right after the install, before the service ever ran, the pairing
	// code is known, in files the gateway's user owns.
	before := run(t, nil, "", bin, "gateway", "status", "--data", data)
	if !strings.Contains(before, "pairing code: ") {
		t.Errorf("gateway status right after the install shows no pairing code:\n%s", before)
	}
	if err := filepath.WalkDir(data, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Stat(p)
		if err == nil && fmt.Sprint(fi.Sys().(*syscall.Stat_t).Uid) != string(m[1]) {
			t.Errorf("%s is not owned by zevdesk-gateway (%s)", p, m[1])
		}
		return err
	}); err != nil {
		t.Error(err)
	}
	code := startGateway(t, bin, data)
	status := run(t, nil, "", bin, "gateway", "status", "--data", data)
	if !strings.Contains(status, "pairing code: "+code+"\n") || !strings.Contains(before, "pairing code: "+code+"\n") {
		t.Errorf("the started gateway's pairing code %s is not the one status showed after the install:\n%s\n%s", code, before, status)
	}

	dpkg(t, root, "--purge", "zevdesk-gateway")
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("purge left the data directory: %v", err)
	}
}

// startGateway runs the gateway on data until it prints its pairing code,
// stops it with SIGTERM as systemd does, and returns the code.
func startGateway(t *testing.T, bin, data string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "gateway", "--data", data, "--listen", "127.0.0.1:0", "--no-mdns", "--simulate", "--history", "0")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var seen bytes.Buffer
	codeRE := regexp.MustCompile(`pairing code: (\S+)`)
	buf := make([]byte, 4096)
	code := ""
	for code == "" {
		n, err := pr.Read(buf)
		seen.Write(buf[:n])
		if m := codeRE.FindSubmatch(seen.Bytes()); m != nil {
			code = string(m[1])
		} else if err != nil {
			cmd.Wait()
			t.Fatalf("the gateway ended without a pairing code:\n%s", seen.String())
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	go func() { // drain until it exits
		for {
			if _, err := pr.Read(buf); err != nil {
				return
			}
		}
	}()
	if err := cmd.Wait(); err != nil {
		t.Errorf("the gateway did not stop cleanly on SIGTERM: %v\n%s", err, seen.String())
	}
	pr.Close()
	return code
}

// verifyUnit runs systemd-analyze verify and security on the installed unit.
// The root is a bare one, so it gets what a system has and verify looks for:
// the host's targets (the unit's dependencies) and /bin/sh (its
// ExecCondition); the unit and the binary it starts are the package's.
func verifyUnit(t *testing.T, root string) {
	t.Helper()
	targets, err := filepath.Glob("/lib/systemd/system/*.target")
	if err != nil || len(targets) == 0 {
		t.Fatalf("no systemd targets on this machine to verify against (%v)", err)
	}
	for _, f := range append(targets, "/bin/sh") {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(root, f)
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		mode := os.FileMode(0o644)
		if f == "/bin/sh" {
			mode = 0o755
		}
		if err := os.WriteFile(dst, data, mode); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	verify := exec.CommandContext(ctx, "systemd-analyze", "verify", "--root="+root, "--man=no", "lib/systemd/system/zevdesk-gateway.service")
	verify.Dir = root
	if out, err := verify.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	sec := exec.CommandContext(ctx, "systemd-analyze", "security", "--offline=yes", "--root="+root, "--no-pager", "zevdesk-gateway.service")
	out, err := sec.CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for zevdesk-gateway.service: (\d+\.\d+)`).FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	// systemd rates 0 to 10; below 2 is its "OK" band (a default service is
	// 9.6, "UNSAFE").
	if level, err := strconv.ParseFloat(string(m[1]), 64); err != nil || level >= 2 {
		t.Errorf("the unit's exposure level is %s, want below 2.0 (OK):\n%s", m[1], out)
	}
}
