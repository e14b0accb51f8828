package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// importWindow is the main window on billingStore's site, with a hook
// that signals each end of a background import step.
func importWindow(t *testing.T) (*MainWindow, store.Store, func()) {
	t.Helper()
	test.NewTempApp(t)
	st, _, clock := billingStore(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	m := newMainWindow(w, st, clock)
	m.gateways.browse, _ = fakeBrowse()
	t.Cleanup(m.gateways.Stop)
	if err := m.ShowSite("birkenweg"); err != nil {
		t.Fatal(err)
	}
	signal, wait := waitDone(t)
	m.imports.onIdle = signal
	return m, st, wait
}

// julyReadings writes n interval rows of each meter, from 1 July 2026
// 00:00 local time (22:00 UTC the day before).
func julyReadings(t testing.TB, n int, meters ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("meter,start,kwh_in\n")
	t0 := time.Date(2026, 6, 30, 22, 0, 0, 0, time.UTC)
	for _, m := range meters {
		for i := range n {
			fmt.Fprintf(&b, "%s,%s,0.25\n", m, t0.Add(time.Duration(i)*core.SlotDuration).Format(time.RFC3339))
		}
	}
	path := filepath.Join(t.TempDir(), "juli.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// storedJuly counts the values of meter stored on 1 July 2026 (local).
func storedJuly(t *testing.T, st store.Store, meter string) int {
	t.Helper()
	from := core.SlotOf(time.Date(2026, 6, 30, 22, 0, 0, 0, time.UTC))
	var s store.Series
	err := st.View(func(tx store.Tx) error {
		return tx.ReadIntervals(store.SeriesID{Site: "birkenweg", Meter: meter, Channel: store.Import}, from, from+96, &s)
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, q := range s.Quality {
		if q != store.Missing {
			n++
		}
	}
	return n
}

// TestImportDroppedFilePreviewThenStore: a file dropped on the window is
// previewed (what, how much, when in local time) without storing; Import
// stores it in one go with an audit entry.
func TestImportDroppedFilePreviewThenStore(t *testing.T) {
	m, st, wait := importWindow(t)
	path := julyReadings(t, 96, "M-W01")
	m.onDropped(fyne.NewPos(10, 10), []fyne.URI{storage.NewFileURI(path)})
	wait()
	im := m.imports
	msg := im.message.Text
	for _, want := range []string{"Readings", "96 rows, 96 values for M-W01", "From 01.07.2026 00:00 to 02.07.2026 00:00 (Europe/Zurich)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("preview %q lacks %q", msg, want)
		}
	}
	if im.title.Text != "Import juli.csv" || im.start.Disabled() {
		t.Errorf("dialog title %q, Import disabled %v", im.title.Text, im.start.Disabled())
	}
	if n := storedJuly(t, st, "M-W01"); n != 0 {
		t.Fatalf("the preview stored %d values", n)
	}
	test.Tap(im.start)
	wait()
	if n := storedJuly(t, st, "M-W01"); n != 96 {
		t.Errorf("stored %d values, want 96", n)
	}
	if !strings.Contains(im.message.Text, "Stored: juli.csv: 96 rows, 96 values written") || im.stop.Text != "Close" {
		t.Errorf("after storing: %q, button %q", im.message.Text, im.stop.Text)
	}
	var audit []store.Entry
	_ = st.View(func(tx store.Tx) error {
		return tx.ScanAudit(0, func(e store.Entry) bool { audit = append(audit, e); return true })
	})
	if len(audit) == 0 || audit[len(audit)-1].Action != "readings.import" {
		t.Errorf("audit %+v, want a readings.import entry last", audit)
	}
	test.Tap(im.stop)
	if im.shown {
		t.Error("Close left the dialog open")
	}
}

// TestImportErrorShowsLine: a bad row is the importer's error, naming the
// line; nothing is stored and Import stays disabled.
func TestImportErrorShowsLine(t *testing.T) {
	m, st, wait := importWindow(t)
	path := julyReadings(t, 4, "M-W01", "M-W99")
	m.onDropped(fyne.Position{}, []fyne.URI{storage.NewFileURI(path)})
	wait()
	im := m.imports
	if msg := im.message.Text; !strings.Contains(msg, "Nothing was stored") || !strings.Contains(msg, "juli.csv:6") ||
		!strings.Contains(msg, `unknown meter "M-W99"`) {
		t.Errorf("message %q, want the importer's error naming line 6 and meter M-W99", msg)
	}
	if !im.start.Disabled() {
		t.Error("Import is enabled after an error")
	}
	if n := storedJuly(t, st, "M-W01"); n != 0 {
		t.Errorf("stored %d values of a bad file", n)
	}
}

// TestImportCancelWhileStoring: Cancel while the file is being stored
// rolls the whole file back, including the series already written.
func TestImportCancelWhileStoring(t *testing.T) {
	m, st, wait := importWindow(t)
	path := julyReadings(t, 96, "M-W01", "M-W02")
	im := m.imports
	m.onDropped(fyne.Position{}, []fyne.URI{storage.NewFileURI(path)})
	wait()
	// On the test driver the goroutine's UI calls run on it: press Cancel
	// at the first progress report of the store, after the first series.
	storing := false
	im.uiHook = func(fn func()) {
		fn()
		if storing && im.cancel != nil && im.progress != nil {
			if v, _ := im.progress.Get(); v > 0 && v < 1 {
				storing = false
				test.Tap(im.stop)
			}
		}
	}
	storing = true
	test.Tap(im.start)
	wait()
	if !strings.Contains(im.message.Text, "Cancelled: nothing of this file was stored.") {
		t.Errorf("message %q", im.message.Text)
	}
	if a, b := storedJuly(t, st, "M-W01"), storedJuly(t, st, "M-W02"); a != 0 || b != 0 {
		t.Errorf("a cancelled import stored %d and %d values", a, b)
	}
}

// TestImportCancelWhileReading: Cancel while a large file is read ends
// the read; nothing is stored.
func TestImportCancelWhileReading(t *testing.T) {
	m, st, wait := importWindow(t)
	path := julyReadings(t, 5000, "M-W01")
	im := m.imports
	im.uiHook = func(fn func()) {
		fn()
		if im.cancel != nil {
			test.Tap(im.stop)
		}
	}
	m.onDropped(fyne.Position{}, []fyne.URI{storage.NewFileURI(path)})
	wait()
	if !strings.Contains(im.message.Text, "Cancelled") || !im.start.Disabled() {
		t.Errorf("message %q, Import disabled %v", im.message.Text, im.start.Disabled())
	}
	if n := storedJuly(t, st, "M-W01"); n != 0 {
		t.Errorf("stored %d values", n)
	}
}

// TestImportLargeFileIsChunked: a large file reports its progress in many
// small steps handed to the UI goroutine, never in one long one: the UI
// goroutine only ever moves the bar.
func TestImportLargeFileIsChunked(t *testing.T) {
	m, _, wait := importWindow(t)
	const rows = 20_000
	path := julyReadings(t, rows, "M-W01")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	im := m.imports
	m.onDropped(fyne.Position{}, []fyne.URI{storage.NewFileURI(path)})
	wait()
	if min := fi.Size() / (64 << 10); im.uiCalls.Load() < min {
		t.Errorf("%d UI calls reading %d bytes, want at least %d (one per 64 KiB)", im.uiCalls.Load(), fi.Size(), min)
	}
	if !strings.Contains(im.message.Text, "20'000 rows") {
		t.Errorf("preview %q", im.message.Text)
	}
}

// TestFileMenuImport: File › Import… is the first item of the File menu.
func TestFileMenuImport(t *testing.T) {
	m, _, _ := importWindow(t)
	file := m.win.MainMenu().Items[0]
	if file.Items[0].Label != "Import…" || file.Items[0].Action == nil {
		t.Errorf("File menu starts with %q", file.Items[0].Label)
	}
}

// BenchmarkImportUIStall imports a 100,000-row readings file as the window
// does and reports the longest time one function held the UI goroutine
// (max-ui-ns) and how many it ran (ui-calls): the reading, checking and
// storing run on a goroutine.
func BenchmarkImportUIStall(b *testing.B) {
	test.NewTempApp(b)
	path := julyReadings(b, 100_000, "M-W01")
	for range b.N {
		b.StopTimer()
		st := openStoreB(b)
		site := &core.Site{ID: "birkenweg", Name: "B", Timezone: "Europe/Zurich", Operator: core.Operator{Name: "O"},
			Units:  []core.Unit{{ID: "W01"}},
			Meters: []core.Meter{{ID: "PV", Role: core.RoleProduction}, {ID: "M-W01", Role: core.RoleUnit, Unit: "W01"}}}
		if err := st.Update(func(tx store.Tx) error { return tx.PutSite(site) }); err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{}, 2)
		im := NewImports(st, core.FixedClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)), test.NewTempWindow(b, widget.NewLabel("")), func() *core.Site { return site })
		im.onIdle = func() { done <- struct{}{} }
		var maxStall time.Duration
		im.uiHook = func(fn func()) {
			t0 := time.Now()
			fn()
			maxStall = max(maxStall, time.Since(t0))
		}
		b.StartTimer()
		im.Add([]fyne.URI{storage.NewFileURI(path)})
		<-done
		if im.prepared == nil {
			b.Fatalf("no preview: %s", im.message.Text)
		}
		im.onStore()
		<-done
		b.StopTimer()
		if !strings.Contains(im.message.Text, "100000 values written") {
			b.Fatalf("import: %s", im.message.Text)
		}
		b.ReportMetric(float64(maxStall.Nanoseconds()), "max-ui-ns")
		b.ReportMetric(float64(im.uiCalls.Load()), "ui-calls")
	}
}

// TestImportTenantListReplace: a tenant list dropped on the window offers
// "Add and update" (the default) or "Replace the tenant list"; replacing
// previews the stored tenancies the list leaves out, and Import removes
// them, as `import tenants --replace` does.
func TestImportTenantListReplace(t *testing.T) {
	m, st, wait := importWindow(t)
	path := filepath.Join(t.TempDir(), "mieter.csv")
	if err := os.WriteFile(path, []byte("unit,name,from,to\nW02,Ben Beispiel,2026-06-16,2026-12-31\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m.onDropped(fyne.Position{}, []fyne.URI{storage.NewFileURI(path)})
	wait()
	im := m.imports
	if !im.mode.Visible() || im.mode.Selected != "Add and update" {
		t.Fatalf("mode shown %v, chosen %q", im.mode.Visible(), im.mode.Selected)
	}
	if msg := im.message.Text; !strings.Contains(msg, "1 tenancy: 0 new, 1 changed, 0 unchanged.") || strings.Contains(msg, "removed") {
		t.Errorf("add and update: %q", msg)
	}
	im.mode.SetSelected("Replace the tenant list")
	if msg := im.message.Text; !strings.Contains(msg, "1 stored tenancy is not in the list and is removed:\nW01 Anna Muster 01.01.2026 – open: removed") {
		t.Errorf("replace preview %q", msg)
	}
	if got := storedSite(t, st, "birkenweg").Occupancies; len(got) != 2 {
		t.Fatalf("the preview stored %+v", got)
	}
	test.Tap(im.start)
	wait()
	got := storedSite(t, st, "birkenweg").Occupancies
	if len(got) != 1 || got[0].Name != "Ben Beispiel" || got[0].To != core.MustDate(2026, 12, 31) {
		t.Errorf("stored %+v", got)
	}
	if !strings.Contains(im.message.Text, "1 updated, 0 unchanged, 1 removed") {
		t.Errorf("after storing: %q", im.message.Text)
	}
	// A readings file shows no choice.
	test.Tap(im.stop)
	m.onDropped(fyne.Position{}, []fyne.URI{storage.NewFileURI(julyReadings(t, 4, "M-W01"))})
	wait()
	if im.mode.Visible() {
		t.Error("a readings file offers to replace the tenant list")
	}
}
