package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/zevdesk/zevdesk/app/report"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

func init() {
	Register(Command{
		Name: "bill",
		Args: "--site ID --from DATE --to DATE [--json] [--lines] [--final [--accept-missing]] [--out DIR]",
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
reproduces the same invoices under the same numbers. A number is never given
twice: if the re-billed period no longer has an invoice (a tenancy was
corrected, say), its number is voided, and the audit log names it.

A period with missing data is billed with a warning that says how much is
missing, or refused if the site sets refuse_missing. Where a consumer meter
has no value at all in the period, nothing says how much goes unbilled:
--final then refuses, naming the meters and intervals, unless
--accept-missing accepts leaving that consumption unbilled; the audit log
records the acceptance with the meters and numbers.`

func runBill(env *Env, args []string) error {
	const cmd = "bill"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id")
	fromS := fs.String("from", "", "first day of the period (YYYY-MM-DD)")
	toS := fs.String("to", "", "last day of the period (YYYY-MM-DD)")
	asJSON := fs.Bool("json", false, "print the run as JSON")
	lines := fs.Bool("lines", false, "print every invoice's lines")
	final := fs.Bool("final", false, "number the invoices, store the run and lock the period")
	accept := fs.Bool("accept-missing", false, "with --final: accept that meters without any value in the period are not billed")
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
	if *accept && !*final {
		return Usagef(cmd, "--accept-missing applies only with --final")
	}
	if *out != "" && WriteDocuments == nil {
		return errors.New("--out: this build cannot write invoice documents")
	}
	if *out != "" {
		// A folder that cannot be created fails before --final numbers
		// and locks anything.
		if err := os.MkdirAll(env.Path(*out), 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	var site *core.Site
	var input *billing.Input
	var run *billing.Run
	compute := func(tx store.Tx) error {
		s, err := siteByID(tx, *siteID)
		if err != nil {
			return err
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
			opt := &billing.CommitOptions{Actor: actor()}
			if *accept {
				// The office accepts what this very run misses: it was
				// computed in this transaction.
				opt.Accept = run.Unknown()
			}
			return billing.Commit(tx, run, env.Clock.Now(), opt)
		})
		if ue := (*billing.UnknownError)(nil); errors.As(err, &ue) {
			return fmt.Errorf("%w (nothing was numbered or locked; --accept-missing finalizes anyway, "+
				"and the audit log records the acceptance)", err)
		}
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
			if *final {
				return fmt.Errorf("the period is billed and locked, but writing its documents to %s failed "+
					"(write them again with bill --out, without --final): %w", *out, err)
			}
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
	bt := &table{right: []bool{true, true, true, true, true, true, true, true}}
	bt.row("production kWh", "self-consumed", "fed in", "grid", "consumption", "grid meter", "difference", "estimated")
	bt.row(tableKWh(b.Production), tableKWh(b.SelfConsumed), tableKWh(b.FedIn), tableKWh(b.Grid),
		tableKWh(b.Consumption), tableKWh(b.GridMeterImport), tableKWh(b.Difference), tableKWh(b.Estimated))
	if err := bt.write(w); err != nil {
		return err
	}
	fmt.Fprintln(w)
	it := &table{right: []bool{true, false, false, false, false, true, true, true, true, true, true, true, true}}
	it.row("no.", "unit", "recipient", "from", "to", "solar kWh", "grid kWh", "net CHF", "VAT", "total", "advance",
		"balance", "estimated kWh")
	var sol, grid, est core.Energy
	var net, vat, total, adv, bal core.Rappen
	for _, inv := range r.Invoices {
		no := "draft"
		if inv.Number != 0 {
			no = fmt.Sprint(inv.Number)
		}
		unit := inv.Unit
		if unit == "" {
			unit = "-"
		}
		it.row(no, unit, recipient(inv), inv.From.String(), inv.To.String(), tableKWh(inv.KWh.Solar),
			tableKWh(inv.KWh.Grid), tableCHF(inv.Net), tableCHF(inv.VAT), tableCHF(inv.Total), tableCHF(inv.Advance),
			tableCHF(inv.Balance), tableKWh(inv.EstimatedKWh))
		sol, grid, est = sol+inv.KWh.Solar, grid+inv.KWh.Grid, est+inv.EstimatedKWh
		net, vat, total, adv, bal = net+inv.Net, vat+inv.VAT, total+inv.Total, adv+inv.Advance, bal+inv.Balance
	}
	it.rule()
	it.row("", "", fmt.Sprintf("%d invoices", len(r.Invoices)), "", "", tableKWh(sol), tableKWh(grid), tableCHF(net),
		tableCHF(vat), tableCHF(total), tableCHF(adv), tableCHF(bal), tableKWh(est))
	if err := it.write(w); err != nil {
		return err
	}
	fmt.Fprintln(w, "kWh to the Wh; --json gives them exact.")
	if lines {
		for _, inv := range r.Invoices {
			no := "draft"
			if inv.Number != 0 {
				no = fmt.Sprintf("no. %d", inv.Number)
			}
			fmt.Fprintf(w, "\n%s, %s, %s..%s (%s)\n", recipient(inv), orDash(inv.Unit), inv.From, inv.To, no)
			lt := &table{indent: "  ", right: []bool{false, true, false, true, true}}
			for _, l := range inv.Lines {
				q, u, pr := l.Quantity()
				if u == "kWh" && q != "" {
					q = tableKWh(l.Energy)
				}
				lt.row(l.Label, q, u, pr, tableCHF(l.Amount))
			}
			if err := lt.write(w); err != nil {
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

// recipient names an invoice's recipient for the table: the tenant, the
// owner (marked) or the person charging an EV.
func recipient(inv billing.Invoice) string {
	switch {
	case strings.HasPrefix(inv.Key, "ev:"):
		return inv.Tenant + " (EV charging)"
	case inv.Owner:
		return inv.Tenant + " (owner)"
	}
	return inv.Tenant
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// tableKWh formats energy for reading: rounded to the Wh, thousands
// grouped with an apostrophe as in Switzerland (12'345.678), as on the
// invoices.
func tableKWh(e core.Energy) string { return report.KWh(e, 3) }

// tableCHF formats an amount with grouped thousands (1'234.50).
func tableCHF(r core.Rappen) string { return report.CHF(r) }

// table prints rows in columns, text left-aligned and figures
// right-aligned (right[i]), widths counted in characters.
type table struct {
	indent string
	right  []bool
	rows   [][]string // nil row: a rule
}

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }
func (t *table) rule()               { t.rows = append(t.rows, nil) }

func (t *table) write(w io.Writer) error {
	var width []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	total := 0
	for _, n := range width {
		total += n + 2
	}
	var b strings.Builder
	for _, r := range t.rows {
		b.WriteString(t.indent)
		if r == nil {
			b.WriteString(strings.Repeat("-", max(total-2, 0)))
			b.WriteByte('\n')
			continue
		}
		line := ""
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i > 0 {
				line += "  "
			}
			if i < len(t.right) && t.right[i] {
				line += pad + c
			} else {
				line += c + pad
			}
		}
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
