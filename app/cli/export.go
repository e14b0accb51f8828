package cli

import (
	"bytes"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/zevdesk/zevdesk/app/report"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

func init() {
	Register(Command{
		Name:    "export xlsx",
		Args:    "--site ID --from DATE --to DATE --out FILE [--lang de|fr|it|en]",
		Summary: "write a period's 15-minute data (every meter: kWh, solar and grid parts, quality) to an Excel workbook, without billing",
		Run:     runExportXLSX,
	})
	Register(Command{
		Name:    "export property",
		Args:    "--site ID --from DATE --to DATE --out FILE.csv|FILE.xlsx [--preset generic|excel-ch]",
		Summary: "write a period's invoices for property-management software, one row per invoice, cost type and VAT rate (the numbers of the committed run; drafts show 0), and the payments of those invoices (a second sheet, or FILE_payments.csv)",
		Run:     runExportProperty,
	})
	// bill --out DIR writes the run's documents through report.WriteRun.
	WriteDocuments = writeDocuments
}

func writeDocuments(env *Env, in *billing.Input, run *billing.Run, dir string) error {
	st, err := env.Store()
	if err != nil {
		return err
	}
	var issued core.Date
	err = st.View(func(tx store.Tx) (err error) {
		issued, err = report.IssueDate(tx, in.Site, run.Period, env.Clock.Now())
		return err
	})
	if err != nil {
		return err
	}
	// Each tenant's insert carries their personal link to the resident
	// view, once the office has set the view's address.
	urls, err := ResidentURLs(env, in.Site)
	if err != nil {
		return err
	}
	opts := &report.Options{Issued: issued, ResidentURL: func(inv *billing.Invoice) string { return urls[inv.Key] }}
	paths, err := report.WriteRun(env.Path(dir), run, in, opts)
	if err != nil {
		return err
	}
	for _, p := range paths {
		// stderr: stdout may carry the run as JSON.
		fmt.Fprintf(env.Stderr, "wrote %s\n", env.shown(dir, p))
	}
	return nil
}

func runExportXLSX(env *Env, args []string) error {
	const cmd = "export xlsx"
	var out, lang *string
	siteID, p, err := exportFlags(cmd, args, func(fs *flag.FlagSet) {
		out = fs.String("out", "", "workbook to write (.xlsx)")
		lang = fs.String("lang", "de", "language of the headings: de, fr, it or en")
	})
	if err != nil {
		return err
	}
	if *out == "" {
		return Usagef(cmd, "--out is required")
	}
	switch *lang {
	case "de", "fr", "it", "en":
	default:
		return Usagef(cmd, "--lang: expected de, fr, it or en, got %q", *lang)
	}
	in, err := loadInput(env, siteID, p)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report.WriteDataWorkbook(&buf, in, *lang); err != nil {
		return err
	}
	if err := report.WriteFile(env.Path(*out), buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s (%s, %s)\n", *out, in.Site.ID, p)
	return nil
}

func runExportProperty(env *Env, args []string) error {
	const cmd = "export property"
	var out, preset *string
	siteID, p, err := exportFlags(cmd, args, func(fs *flag.FlagSet) {
		out = fs.String("out", "", "file to write: .csv or .xlsx")
		preset = fs.String("preset", "generic", "column layout: "+strings.Join(presetNames(), ", "))
	})
	if err != nil {
		return err
	}
	ext := strings.ToLower(filepath.Ext(*out))
	if *out == "" || (ext != ".csv" && ext != ".xlsx") {
		return Usagef(cmd, "--out: expected a file ending in .csv or .xlsx, got %q", *out)
	}
	pr, ok := report.Presets[*preset]
	if !ok {
		return Usagef(cmd, "--preset: expected one of %s, got %q", strings.Join(presetNames(), ", "), *preset)
	}
	// Load takes the numbers of a committed run of the period, so that the
	// rows carry the invoices' real numbers.
	in, err := loadInput(env, siteID, p)
	if err != nil {
		return err
	}
	run, err := billing.Bill(in)
	if err != nil {
		return err
	}
	rows := report.ExportRows(run)
	// The payments of the period's invoices go with them: a second sheet
	// of the workbook, or a second CSV file beside the first.
	_, ledger, err := siteLedger(env, siteID)
	if err != nil {
		return err
	}
	pays := report.PaymentRows(ledger, siteID, p)
	var buf bytes.Buffer
	if ext == ".csv" {
		err = report.WriteExportCSV(&buf, rows, pr)
	} else {
		err = report.WriteExportXLSXWithPayments(&buf, rows, pays, pr, in.Site.Operator.Name)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if err := report.WriteFile(env.Path(*out), buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s (%s, %s, %d rows, %d payments, preset %s)\n", *out, in.Site.ID, p, len(rows),
		len(pays), pr.Name)
	if ext == ".csv" {
		payOut := strings.TrimSuffix(*out, filepath.Ext(*out)) + "_payments.csv"
		buf.Reset()
		if err := report.WritePaymentsCSV(&buf, pays, pr); err != nil {
			return fmt.Errorf("writing %s: %w", payOut, err)
		}
		if err := report.WriteFile(env.Path(payOut), buf.Bytes()); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "wrote %s (%d payments)\n", payOut, len(pays))
	}
	return nil
}

func presetNames() []string {
	var ns []string
	for n := range report.Presets {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

// exportFlags parses the --site, --from and --to flags of an export (see
// periodFlags) and those more adds; positional arguments are refused.
func exportFlags(cmd string, args []string, more func(fs *flag.FlagSet)) (string, core.Period, error) {
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id")
	fromS := fs.String("from", "", "first day (YYYY-MM-DD)")
	toS := fs.String("to", "", "last day (YYYY-MM-DD)")
	more(fs)
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return "", core.Period{}, err
	}
	if len(pos) > 0 {
		return "", core.Period{}, Usagef(cmd, "unexpected argument %q", pos[0])
	}
	p, err := periodFlags(cmd, *siteID, *fromS, *toS)
	return *siteID, p, err
}

// loadInput loads the billing input of site siteID for p.
func loadInput(env *Env, siteID string, p core.Period) (*billing.Input, error) {
	st, err := env.Store()
	if err != nil {
		return nil, err
	}
	var in *billing.Input
	err = st.View(func(tx store.Tx) error {
		s, err := siteByID(tx, siteID)
		if err != nil {
			return err
		}
		in, err = billing.Load(tx, s, p)
		return err
	})
	return in, err
}
