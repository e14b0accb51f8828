//go:build unix

// The limits are set with setrlimit and SIGXFSZ, which only Unix has.

package importer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Workbooks built part by part, so that the tests control every byte of
// the XML: the library that writes workbooks would not write these.
const (
	xlContentTypes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`
	xlRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`
	xlWorkbook = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`
	xlWorkbookRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`
	xlSheetHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`
)

// xlPart is a part of a hand-built workbook: its content, or a raw DEFLATE
// stream with the CRC-32 and size of what it unpacks to.
type xlPart struct {
	name string
	data []byte
	raw  *rawDeflate
}

type rawDeflate struct {
	data []byte
	crc  uint32
	size uint64
}

// writeWorkbook writes a workbook of the four fixed parts and parts to path.
func writeWorkbook(t *testing.T, path string, parts ...xlPart) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	all := append([]xlPart{{name: "[Content_Types].xml", data: []byte(xlContentTypes)}, {name: "_rels/.rels", data: []byte(xlRels)},
		{name: "xl/workbook.xml", data: []byte(xlWorkbook)}, {name: "xl/_rels/workbook.xml.rels", data: []byte(xlWorkbookRels)}}, parts...)
	for _, p := range all {
		if p.raw != nil {
			w, err := zw.CreateRaw(&zip.FileHeader{Name: p.name, Method: zip.Deflate, CRC32: p.raw.crc,
				CompressedSize64: uint64(len(p.raw.data)), UncompressedSize64: p.raw.size})
			if err == nil {
				_, err = w.Write(p.raw.data)
			}
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		w, err := zw.Create(p.name)
		if err == nil {
			_, err = w.Write(p.data)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// deflateRepeat returns a DEFLATE stream of head, n times body, and tail,
// made of independently compressed pieces (each flushed to a byte
// boundary), so that a zip bomb of hundreds of MiB costs one compression of
// body rather than n.
func deflateRepeat(t *testing.T, head, body []byte, n int, tail []byte) *rawDeflate {
	t.Helper()
	piece := func(b []byte, last bool) []byte {
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, flate.BestCompression)
		fw.Write(b)
		if last {
			fw.Close()
		} else {
			fw.Flush()
		}
		return buf.Bytes()
	}
	out := &rawDeflate{}
	out.data = append(out.data, piece(head, false)...)
	p := piece(body, false)
	for range n {
		out.data = append(out.data, p...)
	}
	out.data = append(out.data, piece(tail, true)...)
	out.crc = crc32.Update(0, crc32.IEEETable, head)
	for range n {
		out.crc = crc32.Update(out.crc, crc32.IEEETable, body)
	}
	out.crc = crc32.Update(out.crc, crc32.IEEETable, tail)
	out.size = uint64(len(head) + n*len(body) + len(tail))
	return out
}

func xlCell(ref, s string) string {
	return `<c r="` + ref + `" t="inlineStr"><is><t>` + s + `</t></is></c>`
}

// xlHeader is the header row of a kind of table file.
func xlHeader(kind string) string {
	cols := map[string][]string{"readings": {"meter", "start", "kwh_in"}, "tenants": {"unit", "name", "from"},
		"ev": {"charger", "card", "start", "end", "kwh"}}[kind]
	var b strings.Builder
	b.WriteString(`<row r="1">`)
	for i, c := range cols {
		b.WriteString(xlCell(columnLetter(i+1)+"1", c))
	}
	b.WriteString(`</row>`)
	return b.String()
}

func xlSheet(body string) xlPart {
	return xlPart{name: "xl/worksheets/sheet1.xml", data: []byte(xlSheetHead + body + `</worksheet>`)}
}

// xlsxChildEnv names the file (kind:path) a re-executed test binary imports.
const xlsxChildEnv = "ZEVDESK_XLSX_CHILD"

// maxTempFile bounds every file the child writes (RLIMIT_FSIZE): a write
// beyond it fails.
const maxTempFile = 64 << 20

type xlsxChildResult struct {
	Err       string
	PeakKB    int64
	TempFiles []string
	// FileTooLarge: a write went beyond maxTempFile (SIGXFSZ). The
	// library falls back to memory when its temporary file fails, so the
	// peak memory shows it too.
	FileTooLarge bool
}

// TestXLSXLimitsChild is the child of TestXLSXLimits: it imports one
// workbook, with every file it writes bounded and its temporary directory
// its own, and reports the error, its peak memory and leftover files.
func TestXLSXLimitsChild(t *testing.T) {
	spec := os.Getenv(xlsxChildEnv)
	if spec == "" {
		t.Skip("run by TestXLSXLimits")
	}
	lim := syscall.Rlimit{Cur: maxTempFile, Max: maxTempFile}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	xfsz := make(chan os.Signal, 1)
	signal.Notify(xfsz, syscall.SIGXFSZ)
	kind, path, _ := strings.Cut(spec, ":")
	var err error
	switch kind {
	case "readings":
		_, err = ReadReadingsFile(path, nil)
	case "tenants":
		_, err = ReadTenantsFile(path)
	case "ev":
		_, err = ReadEVFile(path, evSite(t), nil)
	}
	res := xlsxChildResult{PeakKB: peakRSSKB(t)}
	select {
	case <-xfsz:
		res.FileTooLarge = true
	default:
	}
	if err != nil {
		res.Err = err.Error()
	}
	entries, _ := os.ReadDir(os.TempDir())
	for _, e := range entries {
		res.TempFiles = append(res.TempFiles, e.Name())
	}
	b, _ := json.Marshal(res)
	fmt.Printf("xlsx-child: %s\n", b)
}

// peakRSSKB is the process's peak resident memory (VmHWM), in KiB.
func peakRSSKB(t *testing.T) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// runXLSXChild imports the workbook at path as kind in a fresh test
// process and returns what it reported.
func runXLSXChild(t *testing.T, kind, path string) xlsxChildResult {
	t.Helper()
	tmp := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestXLSXLimitsChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), xlsxChildEnv+"="+kind+":"+path, "TMPDIR="+tmp)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, lastBytes(out, 2000))
	}
	for _, line := range strings.Split(string(out), "\n") {
		if js, ok := strings.CutPrefix(line, "xlsx-child: "); ok {
			var res xlsxChildResult
			if err := json.Unmarshal([]byte(js), &res); err != nil {
				t.Fatal(err)
			}
			return res
		}
	}
	t.Fatalf("child reported nothing:\n%s", lastBytes(out, 2000))
	return xlsxChildResult{}
}

func lastBytes(b []byte, n int) []byte { return b[max(0, len(b)-n):] }

// TestXLSXLimits: workbooks made to exhaust memory or disk give one clear
// error naming the file, line or part, and the import stays under 200 MB of
// memory and writes no file over maxTempFile (and leaves none behind). A
// 41 KB workbook used to take 4.75 GB, a 511 KB zip bomb wrote a 501 MB
// temporary file.
func TestXLSXLimits(t *testing.T) {
	dir := t.TempDir()
	const peakLimitKB = 200 << 10

	wide := func(kind string) func(string) {
		return func(path string) {
			// Every row has a value in the last column, XFD: read whole,
			// each row is 16384 cells.
			var b strings.Builder
			b.WriteString(`<dimension ref="A1:XFD2001"/><sheetData>` + xlHeader(kind))
			for r := 2; r <= 2001; r++ {
				fmt.Fprintf(&b, `<row r="%d">%s%s</row>`, r, xlCell(fmt.Sprintf("A%d", r), "x"), xlCell(fmt.Sprintf("XFD%d", r), "y"))
			}
			b.WriteString(`</sheetData>`)
			writeWorkbook(t, path, xlSheet(b.String()))
		}
	}
	wideWant := func(kind, cols string, n int) string {
		return fmt.Sprintf("%s:2: XFD2: expected %d columns (%s), got a value in column 16384: \"y\"", kind, n, cols)
	}
	spaces := bytes.Repeat([]byte(" "), 1<<20)
	tests := []struct {
		name, kind string
		build      func(path string)
		want       string // with the file's name as the kind
	}{
		{"wide rows", "tenants", wide("tenants"), wideWant("tenants", "unit,name,from", 3)},
		{"wide rows", "readings", wide("readings"), wideWant("readings", "meter,start,kwh_in", 3)},
		{"wide rows", "ev", wide("ev"), wideWant("ev", "charger,card,start,end,kwh", 5)},
		{"last row of the sheet", "tenants", func(path string) {
			writeWorkbook(t, path, xlSheet(`<dimension ref="A1:XFD1048576"/><sheetData>`+xlHeader("tenants")+
				`<row r="1048576">`+xlCell("XFD1048576", "z")+`</row></sheetData>`))
		}, `tenants:1048576: XFD1048576: expected 3 columns (unit,name,from), got a value in column 16384: "z"`},
		{"zip bomb", "readings", func(path string) {
			head := []byte(xlSheetHead + `<sheetData>` + xlHeader("readings"))
			writeWorkbook(t, path, xlPart{name: "xl/worksheets/sheet1.xml", raw: deflateRepeat(t, head, spaces, 500, []byte(`</sheetData></worksheet>`))})
		}, "readings: xl/worksheets/sheet1.xml: the workbook unpacks to more than 256 MiB (xl/worksheets/sheet1.xml alone to 500.1 MiB): split it into several files, or save it as CSV"},
		{"shared strings bomb", "tenants", func(path string) {
			sst := deflateRepeat(t, []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`),
				bytes.Repeat([]byte(`<si><t>a</t></si>`), 1<<16), 100, []byte(`</sst>`))
			writeWorkbook(t, path, xlSheet(`<sheetData>`+xlHeader("tenants")+`</sheetData>`), xlPart{name: "xl/sharedStrings.xml", raw: sst})
		}, "tenants: xl/sharedStrings.xml: this part of the workbook unpacks to 106.3 MiB, more than the 16 MiB it may have here: the file is damaged or made to exhaust memory"},
		{"sheet unpacked to a temporary file", "readings", func(path string) {
			// A real file just over the size the library keeps in memory:
			// read from its temporary file, which is removed afterwards.
			// Whitespace between the rows makes it big with few rows.
			pad := strings.Repeat(" ", 4000)
			var b strings.Builder
			b.WriteString(`<sheetData>` + xlHeader("readings"))
			start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
			for r := 2; b.Len() <= xlsxPartInMemory; r++ {
				fmt.Fprintf(&b, `<row r="%d">%s%s<c r="C%d"><v>0.%03d</v></c></row>%s`, r, xlCell(fmt.Sprintf("A%d", r), "M1"),
					xlCell(fmt.Sprintf("B%d", r), start.Add(time.Duration(r-2)*15*time.Minute).Format(time.RFC3339)), r, r%1000, pad)
			}
			b.WriteString(`</sheetData>`)
			writeWorkbook(t, path, xlSheet(b.String()))
		}, ""},
		{"file too large", "readings", func(path string) {
			writeWorkbook(t, path, xlSheet(`<sheetData>`+xlHeader("readings")+`</sheetData>`))
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err == nil {
				_, err = f.Write(make([]byte, MaxXLSXBytes))
			}
			if err == nil {
				err = f.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
		}, "readings: the workbook has 50.1 MiB, more than the 50 MiB a workbook may have: split it into several files, or save it as CSV"},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/"+tc.kind, func(t *testing.T) {
			sub := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+"-"+tc.kind)
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(sub, tc.kind+".xlsx")
			tc.build(path)
			fi, _ := os.Stat(path)
			res := runXLSXChild(t, tc.kind, path)
			t.Logf("%d KiB workbook: peak %d KiB, %s", fi.Size()>>10, res.PeakKB, res.Err)
			if want := strings.Replace(tc.want, tc.kind, path, 1); res.Err != want {
				t.Errorf("err = %s\nwant  %s", res.Err, want)
			}
			if res.PeakKB > peakLimitKB {
				t.Errorf("peak memory %d MiB, want at most %d MiB", res.PeakKB>>10, peakLimitKB>>10)
			}
			if res.FileTooLarge {
				t.Errorf("the import wrote a file beyond %d MiB", maxTempFile>>20)
			}
			if len(res.TempFiles) > 0 {
				t.Errorf("left in the temporary directory: %v", res.TempFiles)
			}
		})
	}
}
