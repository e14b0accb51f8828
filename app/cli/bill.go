package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

func init() {
	Register(Command{
		Name: "bill",
		Args: "--site ID --from DATE --to DATE [--json] [--lines] [--final] [--out DIR]",
		Summary: "bill a period: without --final a dry run that prints draft invoices and changes nothing; " +
			"--final numbers the invoices and locks the period",
		Run: runBill,
	})
}

// WriteDocuments, when set (from a file that wires app/report in, for
// example with report.WriteRun), writes a run's documents (invoice PDFs,
// workbook, exports) into dir for `bill --out DIR`. It runs after the run is
// computed (and committed with --final, so the documents carry the final
// numbers); in is the run's input (its series feed the invoice charts).
var WriteDocuments func(env *Env, in *billing.Input, run *billing.Run, dir string) error

const billHelp = `Without --final, bill is a dry run: it computes and prints the invoices
(numbers shown as "draft", or the numbers of an earlier commit of the same
period) and writes nothing to the database. With --final it gives the
invoices the site's next sequential numbers, stores the run and locks the
period: its data cannot change until it is unlocked. Billing a locked
period again with --final is refused; re-billing a period that was unlocked
reproduces the same invoices under the same numbers.

A period with missing data is billed with a warning that says how much is
missing, or refused if the site sets refuse_missing.`

func runBill(env *Env, args []string) error {
	const cmd = "bill"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id")
	fromS := fs.String("from", "", "first day of the period (YYYY-MM-DD)")
	toS := fs.String("to", "", "last day of the period (YYYY-MM-DD)")
	asJSON := fs.Bool("json", false, "print the run as JSON")
	lines := fs.Bool("lines", false, "print every invoice's lines")
	final := fs.Bool("final", false, "number the invoices, store the run and lock the period")
	out := fs.String("out", "", "write the invoice documents into this directory")
	help := fs.Bool("help", false, "explain dry runs and --final")
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if *help {
		fmt.Fprintln(env.Stdout, billHelp)
		return nil
	}
	if len(pos) > 0 {
		return Usagef(cmd, "unexpected argument %q", pos[0])
	}
	p, err := periodFlags(cmd, *siteID, *fromS, *toS)
	if err != nil {
		return err
	}
	if *out != "" && WriteDocuments == nil {
		return errors.New("--out: this build cannot write invoice documents")
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	var site *core.Site
	var input *billing.Input
	var run *billing.Run
	compute := func(tx store.Tx) error {
		s, err := tx.Site(*siteID)
		if err != nil {
			return fmt.Errorf("site %q: %w", *siteID, err)
		}
		in, err := billing.Load(tx, s, p)
		if err != nil {
			return err
		}
		r, err := billing.Bill(in)
		if err != nil {
			return err
		}
		site, input, run = s, in, r
		return nil
	}
	if *final {
		err = st.Update(func(tx store.Tx) error {
			if err := compute(tx); err != nil {
				return err
			}
			return billing.Commit(tx, run, env.Clock.Now())
		})
	} else {
		err = st.View(compute)
	}
	if err != nil {
		return err
	}
	if *final {
		slog.Info("period billed", "site", site.ID, "period", p.String(), "invoices", len(run.Invoices))
	}
	for _, w := range run.Warnings {
		fmt.Fprintf(env.Stderr, "warning: %s\n", w)
	}
	if *asJSON {
		b, err := json.MarshalIndent(run, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(env.Stdout, "%s\n", b)
		if err != nil {
			return err
		}
	} else if err := printRun(env.Stdout, site, run, *lines, *final); err != nil {
		return err
	}
	if *out != "" {
		if err := WriteDocuments(env, input, run, *out); err != nil {
			return fmt.Errorf("writing documents to %s: %w", *out, err)
		}
	}
	return nil
}

// periodFlags checks --site, --from and --to.
func periodFlags(cmd, site, from, to string) (core.Period, error) {
	var p core.Period
	if site == "" {
		return p, Usagef(cmd, "--site is required")
	}
	if from == "" || to == "" {
		return p, Usagef(cmd, "--from and --to are required")
	}
	var err error
	if p.From, err = core.ParseDate(from); err != nil {
		return p, Usagef(cmd, "--from: %v", err)
	}
	if p.To, err = core.ParseDate(to); err != nil {
		return p, Usagef(cmd, "--to: %v", err)
	}
	if p.To.Before(p.From) {
		return p, Usagef(cmd, "--to %s is before --from %s", p.To, p.From)
	}
	return p, nil
}

func printRun(w io.Writer, site *core.Site, r *billing.Run, lines, final bool) error {
	b := r.Building
	state := "dry run, nothing stored"
	if final {
		state = "final: numbered and locked"
	}
	fmt.Fprintf(w, "%s (%s), %s, allocation %s (%s)\n\n", site.Name, site.ID, r.Period, r.Allocation, state)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "production\tself-consumed\tfed in\tgrid\tconsumption\tgrid meter\tdifference\testimated\t\n")
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", core.FormatKWh(b.Production), core.FormatKWh(b.SelfConsumed),
		core.FormatKWh(b.FedIn), core.FormatKWh(b.Grid), core.FormatKWh(b.Consumption), core.FormatKWh(b.GridMeterImport),
		core.FormatKWh(b.Difference), core.FormatKWh(b.Estimated))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "(kWh)")
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "no.\tunit\ttenant\tfrom\tto\tsolar kWh\tgrid kWh\tnet\tVAT\ttotal\tadvance\tbalance\testimated kWh\n")
	var sum core.Rappen
	for _, inv := range r.Invoices {
		no := "draft"
		if inv.Number != 0 {
			no = fmt.Sprint(inv.Number)
		}
		unit := inv.Unit
		if unit == "" {
			unit = "-"
		}
		tenant := inv.Tenant
		if inv.Owner {
			tenant += " (owner)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", no, unit, tenant, inv.From, inv.To,
			core.FormatKWh(inv.KWh.Solar), core.FormatKWh(inv.KWh.Grid), inv.Net, inv.VAT, inv.Total, inv.Advance,
			inv.Balance, core.FormatKWh(inv.EstimatedKWh))
		sum += inv.Total
	}
	fmt.Fprintf(tw, "\t\t%d invoices\t\t\t\t\t\t\t%s\t\t\t\n", len(r.Invoices), sum)
	if err := tw.Flush(); err != nil {
		return err
	}
	if lines {
		for _, inv := range r.Invoices {
			fmt.Fprintf(w, "\n%s, %s %s..%s\n", inv.Tenant, inv.Unit, inv.From, inv.To)
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			for _, l := range inv.Lines {
				q, u, pr := l.Quantity()
				fmt.Fprintf(tw, "  %s\t%s %s\t%s\t%s\n", l.Label, q, u, pr, l.Amount)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	if len(r.Missing) > 0 {
		var parts []string
		for _, m := range r.Missing {
			parts = append(parts, fmt.Sprintf("%s %s %d", m.Meter, m.Channel, m.Slots))
		}
		fmt.Fprintf(w, "\nmissing intervals: %s\n", strings.Join(parts, ", "))
	}
	return nil
}
