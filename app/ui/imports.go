package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
	"github.com/zevdesk/zevdesk/ingest/importer"
)

// importExtensions are the files the import dialog offers.
var importExtensions = []string{".csv", ".xlsx", ".xml"}

// Imports imports files into the shown site: readings, SDAT-CH and ESL
// documents, EV sessions and tenant lists (importer.DetectFileKind tells
// them apart), chosen in a file dialog (File › Import…) or dropped on the
// window. Each file is read and checked on a goroutine with a progress
// bar, shown as a preview, and stored only when the user says so, in one
// transaction (importer.Prepared.Store): cancelling at any point stores
// nothing. Errors are the importer's own, naming the file's line. Dropped
// files are taken one after the other. Imports is not safe for concurrent
// use; call its methods on Fyne's goroutine.
type Imports struct {
	st    store.Store
	clock core.Clock
	win   fyne.Window
	site  func() *core.Site

	// progress is the bar's value, 0 to 1, set from the goroutine.
	progress binding.Float
	bar      *widget.ProgressBar
	title    *widget.Label
	message  *widget.Label
	start    *widget.Button // "Import" once the preview is shown
	stop     *widget.Button // "Cancel" (running) or "Close" (finished)
	dlg      dialog.Dialog
	shown    bool // the dialog is on screen
	// mode chooses, for a tenant list, between adding and updating
	// tenancies and replacing the site's tenant list; hidden otherwise.
	mode *widget.RadioGroup
	// content is the dialog's content, laid out again when mode comes
	// or goes.
	content *fyne.Container

	queue    []fyne.URI
	cancel   context.CancelFunc // of the running step, nil when idle
	prepared *importer.Prepared
	prepSite *core.Site // the site prepared was checked against

	// uiCalls counts the functions the goroutine handed to the UI
	// goroutine: an import of a large file reports in many small steps.
	uiCalls atomic.Int64
	// onIdle, when set, is called on the UI goroutine each time a
	// background step ended (tests wait for it).
	onIdle func()
	// uiHook, when set, wraps each function run on the UI goroutine
	// (benchmarks measure how long it holds that goroutine).
	uiHook func(func())
}

// NewImports returns the importer of window win; site returns the site
// shown (nil for none).
func NewImports(st store.Store, clock core.Clock, win fyne.Window, site func() *core.Site) *Imports {
	im := &Imports{st: st, clock: clock, win: win, site: site, progress: binding.NewFloat()}
	im.bar = widget.NewProgressBarWithData(im.progress)
	im.title = widget.NewLabel("")
	im.title.TextStyle.Bold = true
	im.message = widget.NewLabel("")
	im.message.Wrapping = fyne.TextWrapWord
	im.start = widget.NewButton(lang.X("import.store", "Import"), im.onStore)
	im.start.Importance = widget.HighImportance
	im.stop = widget.NewButton(lang.X("import.cancel", "Cancel"), im.onStop)
	im.mode = widget.NewRadioGroup(importModes(), im.onMode)
	im.mode.Required = true
	im.mode.Hide()
	return im
}

// Open asks for files to import.
func (im *Imports) Open() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		r.Close()
		im.Add([]fyne.URI{r.URI()})
	}, im.win)
	d.SetFilter(storage.NewExtensionFileFilter(importExtensions))
	d.SetConfirmText(lang.X("import.choose", "Preview"))
	d.Show()
}

// Add queues files to import (dropped on the window or chosen) and starts
// the first if none is running. Folders and files of other types are
// refused with a message.
func (im *Imports) Add(uris []fyne.URI) {
	for _, u := range uris {
		if !isImportFile(u) {
			dialog.ShowInformation(lang.X("import.title", "Import"), lang.X("import.unknown",
				"{{.File}} is not a file zevdesk imports: it takes readings, SDAT-CH and ESL documents, EV sessions and tenant lists as CSV, XLSX or XML.",
				map[string]any{"File": u.Name()}), im.win)
			continue
		}
		im.queue = append(im.queue, u)
	}
	if im.cancel == nil && !im.shown {
		im.next()
	}
}

func isImportFile(u fyne.URI) bool {
	for _, e := range importExtensions {
		if strings.EqualFold(u.Extension(), e) {
			return true
		}
	}
	return false
}

// next starts the first queued file.
func (im *Imports) next() {
	if len(im.queue) == 0 {
		return
	}
	u := im.queue[0]
	im.queue = im.queue[1:]
	site := im.site()
	if site == nil {
		dialog.ShowInformation(lang.X("import.title", "Import"), lang.X("import.nosite", "Choose or create a site first: imports go into the site shown."), im.win)
		im.queue = nil
		return
	}
	im.show(u.Name())
	im.message.SetText(lang.X("import.reading", "Reading and checking the file…"))
	im.run(func(ctx context.Context) func() {
		p, err := im.prepare(ctx, site, u)
		if err != nil {
			return func() { im.failed(err) }
		}
		return func() { im.preview(site, p) }
	})
}

// prepare reads u and checks it against site (on the goroutine).
func (im *Imports) prepare(ctx context.Context, site *core.Site, u fyne.URI) (*importer.Prepared, error) {
	r, err := storage.Reader(u)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", u.Name(), err)
	}
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", u.Name(), err)
	}
	kind := importer.DetectFileKind(u.Name(), data)
	return importer.Prepare(ctx, im.st, site, kind, u.Name(), data, im.report)
}

// report moves the bar from the goroutine.
func (im *Imports) report(done, total int64) {
	if total <= 0 {
		return
	}
	v := float64(done) / float64(total)
	im.ui(func() { _ = im.progress.Set(v) })
}

// ui runs fn on the UI goroutine and counts it.
func (im *Imports) ui(fn func()) {
	im.uiCalls.Add(1)
	if h := im.uiHook; h != nil {
		fyne.Do(func() { h(fn) })
		return
	}
	fyne.Do(fn)
}

// run runs job on a goroutine with a fresh context for Cancel; the
// function it returns runs on the UI goroutine when it ends.
func (im *Imports) run(job func(ctx context.Context) func()) {
	ctx, cancel := context.WithCancel(context.Background())
	im.cancel = cancel
	_ = im.progress.Set(0)
	im.bar.Show()
	im.start.Disable()
	im.stop.SetText(lang.X("import.cancel", "Cancel"))
	go func() {
		after := job(ctx)
		im.ui(func() {
			cancel()
			im.cancel = nil
			after()
			if im.onIdle != nil {
				im.onIdle()
			}
		})
	}()
}

// show opens the dialog for a file.
func (im *Imports) show(name string) {
	im.prepared = nil
	im.mode.Hide()
	im.title.SetText(lang.X("import.file", "Import {{.File}}", map[string]any{"File": name}))
	if im.dlg == nil {
		im.content = container.NewBorder(container.NewVBox(im.title, im.bar, im.mode), container.NewHBox(im.start, im.stop), nil, nil,
			container.NewVScroll(im.message))
		im.dlg = dialog.NewCustomWithoutButtons(lang.X("import.title", "Import"), im.content, im.win)
		im.dlg.Resize(fyne.NewSize(640, 420))
		// Closed another way than by its buttons (Escape): whatever runs
		// is cancelled, so nothing is stored behind the user's back.
		im.dlg.SetOnClosed(func() {
			im.shown = false
			im.prepared = nil
			if im.cancel != nil {
				im.cancel()
			}
		})
	} else {
		im.content.Refresh() // without the mode of an earlier tenant list
	}
	im.shown = true
	im.dlg.Show()
}

// preview shows what p would store and offers Import.
func (im *Imports) preview(site *core.Site, p *importer.Prepared) {
	im.prepared, im.prepSite = p, site
	_ = im.progress.Set(1)
	if p.Kind == importer.FileTenants {
		im.mode.SetSelected(importModes()[0]) // adding is the default, as on the command line
		im.mode.Enable()
		im.mode.Show()
		im.content.Refresh()
	}
	im.message.SetText(previewText(site, p))
	im.start.Enable()
	im.stop.SetText(lang.X("import.cancel", "Cancel"))
}

// onMode applies the chosen way of importing a tenant list to the preview.
func (im *Imports) onMode(choice string) {
	p := im.prepared
	if p == nil || p.Kind != importer.FileTenants || im.cancel != nil {
		return
	}
	if err := p.SetReplace(choice == importModes()[1]); err != nil {
		im.message.SetText(lang.X("import.failed", "Nothing was stored:\n{{.Err}}", map[string]any{"Err": err.Error()}))
		im.start.Disable()
		return
	}
	im.message.SetText(previewText(im.prepSite, p))
	im.start.Enable()
}

// previewText says what a prepared file holds, in the site's local time.
func previewText(site *core.Site, p *importer.Prepared) string {
	kinds := map[importer.FileKind]string{
		importer.FileReadings: lang.X("import.kind.readings", "Readings"),
		importer.FileSDAT:     lang.X("import.kind.sdat", "SDAT-CH document"),
		importer.FileESL:      lang.X("import.kind.esl", "ESL register export"),
		importer.FileEV:       lang.X("import.kind.ev", "EV charging sessions"),
		importer.FileTenants:  lang.X("import.kind.tenants", "Tenant list"),
	}
	out := []string{kinds[p.Kind]}
	if t := p.Tenants; t != nil {
		out = append(out, lang.XN("import.preview.tenants", "{{.Rows}} tenancies: {{.Added}} new, {{.Updated}} changed, {{.Unchanged}} unchanged.", t.Rows,
			map[string]any{"Rows": count(t.Rows), "Added": count(t.Added), "Updated": count(t.Updated), "Unchanged": count(t.Unchanged)}))
		if p.Replace() {
			out = append(out, removedLines(t)...)
		}
	} else {
		out = append(out, lang.X("import.preview.rows", "{{.Rows}} rows, {{.Values}} values for {{.Meters}}.",
			map[string]any{"Rows": count(p.Rows), "Values": count(p.Values), "Meters": strings.Join(p.Meters, ", ")}))
	}
	if !p.From.IsZero() {
		loc := site.Location()
		out = append(out, lang.X("import.preview.span", "From {{.From}} to {{.To}} ({{.Zone}}).",
			map[string]any{"From": localTime(p.From, loc), "To": localTime(p.To, loc), "Zone": loc.String()}))
	}
	out = append(out, "", lang.X("import.preview.note", "Nothing is stored until you click Import. The file is stored as a whole or not at all; values that differ from stored ones are kept out and counted."))
	return lines(out)
}

// localTime formats t in loc the Swiss way: 31.03.2026 14:15.
func localTime(t time.Time, loc *time.Location) string { return t.In(loc).Format("02.01.2006 15:04") }

// onStore stores the previewed file.
func (im *Imports) onStore() {
	p := im.prepared
	if p == nil || im.cancel != nil {
		return
	}
	im.message.SetText(lang.X("import.storing", "Storing…"))
	im.mode.Disable() // the mode is the store's from here
	opt := vee.Options{Clock: im.clock, Actor: desktopActor()}
	im.run(func(ctx context.Context) func() {
		sum, err := p.Store(ctx, im.st, opt, im.report)
		if err != nil {
			return func() { im.failed(err) }
		}
		return func() {
			im.prepared = nil
			im.message.SetText(lang.X("import.stored", "Stored: {{.Summary}}", map[string]any{"Summary": sum}))
			im.finished()
		}
	})
}

// failed shows err: the importer's own words, or that a cancel stored
// nothing.
func (im *Imports) failed(err error) {
	im.prepared = nil
	if errors.Is(err, context.Canceled) {
		im.message.SetText(lang.X("import.cancelled", "Cancelled: nothing of this file was stored."))
	} else {
		im.message.SetText(lang.X("import.failed", "Nothing was stored:\n{{.Err}}", map[string]any{"Err": err.Error()}))
	}
	im.finished()
}

// finished leaves the dialog open to read, with Close, or goes on with the
// next dropped file.
func (im *Imports) finished() {
	im.start.Disable()
	im.stop.SetText(lang.X("import.close", "Close"))
}

// onStop cancels the running step, or closes the dialog and takes the next
// queued file.
func (im *Imports) onStop() {
	if im.cancel != nil {
		im.cancel()
		return
	}
	im.prepared = nil
	if im.dlg != nil {
		im.dlg.Hide()
	}
	im.shown = false
	im.next()
}
