package report

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

// Options are WriteRun's choices; nil means the defaults.
type Options struct {
	// Issued is the date printed on the inserts; zero means today in the
	// site's time zone.
	Issued core.Date
	// Lang is the office's language for the workbook and export headings
	// (de, fr, it, en); empty means German.
	Lang string
	// Preset is the export's column layout (a key of Presets); empty means
	// "generic".
	Preset string
	// NoCharts leaves the charts out (they need a billing pass per bar).
	NoCharts bool
	// ResidentURL, when set, gives an invoice's personal link to the
	// resident web view ("" for none), printed with a QR code.
	ResidentURL func(inv *billing.Invoice) string
}

// WriteFile writes data to path through a temporary file beside it that is
// renamed into place, so that path is never half-written.
func WriteFile(path string, data []byte) error {
	tmp, err := writeTemp(filepath.Dir(path), data)
	if err == nil {
		if err = os.Rename(tmp, path); err != nil {
			os.Remove(tmp)
		}
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// writeTemp writes data to a new temporary file in dir, synced, and returns
// its name. The file is readable by all like any document (os.CreateTemp
// makes it 0600: a colleague could not open the invoices on a shared
// drive).
func writeTemp(dir string, data []byte) (string, error) {
	tmp, err := os.CreateTemp(dir, ".zevdesk-*.tmp")
	if err != nil {
		return "", err
	}
	err = tmp.Chmod(0o644)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

// IssueDate is the date a run's inserts carry: the day the period was
// billed when it is locked, so that printing a billed period's documents
// again gives each invoice its own date (and its QR-bill the same payment
// term), else today in the site's time zone.
func IssueDate(tx store.Tx, site *core.Site, p core.Period, now time.Time) (core.Date, error) {
	locks, err := tx.LocksOf(site.ID)
	if err != nil {
		return core.Date{}, fmt.Errorf("reading the billed periods of %s: %w", site.ID, err)
	}
	for _, l := range locks {
		if l.Period == p {
			now = l.Time
		}
	}
	return core.DateOf(now.In(site.Location())), nil
}

// WriteRun writes everything a billing run produces into dir: one PDF insert
// per invoice, the run's workbook, and the property-management export as CSV
// and XLSX. Each file is written to a temporary file and renamed into
// place only when all of them were written, so that an error leaves no
// half-written or partial set behind. It returns the files' paths.
func WriteRun(dir string, run *billing.Run, in *billing.Input, opts *Options) ([]string, error) {
	if opts == nil {
		opts = &Options{}
	}
	site := in.Site
	issued := opts.Issued
	if issued.IsZero() {
		issued = core.DateOf(time.Now().In(site.Location()))
	}
	preset, ok := Presets[cmpOr(opts.Preset, "generic")]
	if !ok {
		return nil, fmt.Errorf("unknown export preset %q", opts.Preset)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	var bars map[string][]Bar
	if !opts.NoCharts {
		var err error
		bars, err = BarsFor(in, run)
		if err != nil {
			slog.Warn("inserts without charts", "err", err)
			bars = nil
		}
	}
	base := fmt.Sprintf("%s_%s_%s", site.ID, run.Period.From, run.Period.To)
	type file struct {
		name  string
		write func(io.Writer) error
	}
	var files []file
	for i := range run.Invoices {
		inv := &run.Invoices[i]
		ins, err := FromInvoice(site, run, inv, issued, bars[inv.Key])
		if err != nil {
			return nil, err
		}
		if opts.ResidentURL != nil {
			ins.ResidentURL = opts.ResidentURL(inv)
		}
		files = append(files, file{insertName(base, inv, i), func(w io.Writer) error { return WritePDF(w, ins) }})
	}
	rows := ExportRows(run)
	lang := cmpOr(opts.Lang, "de")
	files = append(files,
		file{base + ".xlsx", func(w io.Writer) error { return WriteWorkbook(w, in, run, lang) }},
		file{base + "_export.csv", func(w io.Writer) error { return WriteExportCSV(w, rows, preset) }},
		file{base + "_export.xlsx", func(w io.Writer) error { return WriteExportXLSX(w, rows, preset, site.Operator.Name) }},
	)
	// Render everything first, on every core: documents are independent.
	bufs := make([]bytes.Buffer, len(files))
	if err := parallel(len(files), func(i int) error {
		if err := files[i].write(&bufs[i]); err != nil {
			return fmt.Errorf("writing %s: %w", files[i].name, err)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var tmps []string
	cleanup := func() {
		for _, t := range tmps {
			os.Remove(t)
		}
	}
	for i, f := range files {
		tmp, err := writeTemp(dir, bufs[i].Bytes())
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("writing %s: %w", f.name, err)
		}
		tmps = append(tmps, tmp)
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(dir, f.name)
		if err := os.Rename(tmps[i], paths[i]); err != nil {
			// Take back the files already in place: a run's documents
			// are all there or none.
			for _, p := range paths[:i] {
				os.Remove(p)
			}
			cleanup()
			return nil, fmt.Errorf("writing %s: %w", f.name, err)
		}
	}
	return paths, nil
}

// parallel runs fn(0..n-1) on GOMAXPROCS goroutines and returns the first
// error by index.
func parallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// insertName names an invoice's PDF: number, unit and recipient, in
// characters every file system accepts.
func insertName(base string, inv *billing.Invoice, i int) string {
	num := fmt.Sprintf("%04d", inv.Number)
	if inv.Number == 0 {
		num = fmt.Sprintf("draft%02d", i+1)
	}
	who := inv.Unit
	if who == "" {
		who = inv.Tenant
	}
	return fmt.Sprintf("%s_%s_%s.pdf", base, num, safeName(who))
}

func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// BarsFor computes every invoice's chart: the energy billed per month (week,
// day for short invoices), split into solar and grid. Each bar is billing
// itself run over the bar's days, so a bar says exactly what the invoice
// would for those days and the bars add up to the invoice's energy. Runs
// are shared between invoices with the same bars. The result is keyed by
// Invoice.Key.
func BarsFor(in *billing.Input, run *billing.Run) (map[string][]Bar, error) {
	runs := map[core.Period]*billing.Run{}
	out := map[string][]Bar{}
	for i := range run.Invoices {
		inv := &run.Invoices[i]
		p := core.Period{From: inv.From, To: inv.To}
		var bars []Bar
		for _, b := range buckets(p, stepFor(p)) {
			sub, ok := runs[b]
			if !ok {
				cp := *in
				cp.Period = b
				// Energy only: money inputs of the whole period do not
				// apply to a part of it.
				cp.Utility, cp.Prices, cp.Numbers = nil, nil, nil
				var err error
				sub, err = billing.Bill(&cp)
				if err != nil {
					return nil, fmt.Errorf("chart of %s: %w", b, err)
				}
				runs[b] = sub
			}
			bar := Bar{From: b.From, To: b.To}
			for j := range sub.Invoices {
				if s := &sub.Invoices[j]; sameRecipient(inv, s) {
					bar.Solar += s.KWh.Solar
					bar.Grid += s.KWh.Grid
				}
			}
			bars = append(bars, bar)
		}
		out[inv.Key] = bars
	}
	return out, nil
}

// sameRecipient matches an invoice of a part of the period with the
// period's invoice: by key, and for vacancies (whose key carries their first
// day) by unit and overlapping days.
func sameRecipient(inv, part *billing.Invoice) bool {
	if inv.Key == part.Key {
		return true
	}
	kind, _, _ := strings.Cut(inv.Key, ":")
	pkind, _, _ := strings.Cut(part.Key, ":")
	return kind == "vacant" && pkind == "vacant" && inv.Unit == part.Unit &&
		!part.From.After(inv.To) && !part.To.Before(inv.From)
}

// buckets splits p into calendar months, ISO weeks (Monday to Sunday) or
// days, each clipped to p.
func buckets(p core.Period, s Step) []core.Period {
	var out []core.Period
	for d := p.From; !d.After(p.To); {
		var end core.Date
		switch s {
		case StepMonth:
			end = core.Date{Year: d.Year, Month: d.Month, Day: 1}.AddDays(40)
			end = core.Date{Year: end.Year, Month: end.Month, Day: 1}.AddDays(-1)
		case StepWeek:
			wd := (int(d.Weekday()) + 6) % 7 // Monday = 0
			end = d.AddDays(6 - wd)
		default:
			end = d
		}
		if end.After(p.To) {
			end = p.To
		}
		out = append(out, core.Period{From: d, To: end})
		d = end.AddDays(1)
	}
	return out
}
