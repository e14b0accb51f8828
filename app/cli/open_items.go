package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/zevdesk/zevdesk/app/report"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/collect"
	"github.com/zevdesk/zevdesk/core/store"
)

func init() {
	Register(Command{
		Name:    "open-items",
		Args:    "--site ID [--all] [--json] [--xlsx FILE] [--lang de|fr|it|en]",
		Summary: "list a site's open invoices: number, reference, total, paid and open amount, state, reminders (--all: every final invoice)",
		Run:     runOpenItems,
	})
	Register(Command{
		Name:    "invoice cancel",
		Args:    "--site ID --invoice NUMBER --reason TEXT",
		Summary: "cancel an invoice by a credit note with the site's next number (the invoice stays); the audit log records it",
		Run:     func(env *Env, args []string) error { return runInvoiceState(env, "invoice cancel", args) },
	})
	Register(Command{
		Name:    "invoice write-off",
		Args:    "--site ID --invoice NUMBER --reason TEXT",
		Summary: "write off an invoice's open amount; the audit log records it",
		Run:     func(env *Env, args []string) error { return runInvoiceState(env, "invoice write-off", args) },
	})
}

// jsonItem is an invoice in `open-items --json`: amounts are CHF as
// decimal strings with two places, as in `bill --json`.
type jsonItem struct {
	Number     int           `json:"number"`
	Key        string        `json:"key"`
	Unit       string        `json:"unit"`
	Tenant     string        `json:"tenant"`
	Issued     core.Date     `json:"issued"`
	Due        core.Date     `json:"due"`
	Reference  string        `json:"reference"`
	State      collect.State `json:"state"`
	Total      string        `json:"total"`
	Advance    string        `json:"advance"`
	Amount     string        `json:"amount"`
	Paid       string        `json:"paid"`
	Credited   string        `json:"credited"`
	WrittenOff string        `json:"written_off"`
	Fees       string        `json:"fees"`
	Open       string        `json:"open"`
	Reminders  int           `json:"reminders"`
}

type jsonOpenItems struct {
	Site  string     `json:"site"`
	Date  core.Date  `json:"date"`
	Items []jsonItem `json:"items"`
	Open  string     `json:"open"`
}

func runOpenItems(env *Env, args []string) error {
	const cmd = "open-items"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id")
	all := fs.Bool("all", false, "every final invoice, not only the open ones")
	asJSON := fs.Bool("json", false, "print JSON")
	xlsx := fs.String("xlsx", "", "also write the list to this Excel workbook")
	lang := fs.String("lang", "de", "language of the workbook: de, fr, it or en")
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef(cmd, "unexpected argument %q", pos[0])
	}
	if *siteID == "" {
		return Usagef(cmd, "--site is required")
	}
	if !validLang(*lang) {
		return Usagef(cmd, "--lang: expected de, fr, it or en, got %q", *lang)
	}
	site, l, err := siteLedger(env, *siteID)
	if err != nil {
		return err
	}
	items := l.OpenItems(site.ID)
	if *all {
		items = l.Items(site.ID)
	}
	if *xlsx != "" {
		var buf bytes.Buffer
		if err := report.WriteOpenItemsXLSX(&buf, site, items, *lang); err != nil {
			return fmt.Errorf("writing %s: %w", *xlsx, err)
		}
		if err := report.WriteFile(env.Path(*xlsx), buf.Bytes()); err != nil {
			return err
		}
	}
	var open core.Rappen
	for _, it := range items {
		open += it.Open
	}
	if *asJSON {
		j := jsonOpenItems{Site: site.ID, Date: l.Today(site.ID, env.Clock.Now()), Items: []jsonItem{}, Open: open.String()}
		for _, it := range items {
			j.Items = append(j.Items, jsonItem{Number: it.Number, Key: it.Key, Unit: it.Unit, Tenant: it.Tenant,
				Issued: it.Issued, Due: it.Due, Reference: it.Reference, State: it.State, Total: it.Total.String(),
				Advance: it.Advance.String(), Amount: it.Amount.String(), Paid: it.Paid.String(),
				Credited: it.Credited.String(), WrittenOff: it.WrittenOff.String(), Fees: it.Fees.String(),
				Open: it.Open.String(), Reminders: len(it.Reminders)})
		}
		b, err := json.MarshalIndent(j, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(env.Stdout, "%s\n", b)
		return err
	}
	t := &table{right: []bool{true, false, false, false, false, false, true, true, true, true}}
	t.row("no.", "recipient", "issued", "due", "reference", "state", "total", "to pay", "paid", "open", "reminders")
	for _, it := range items {
		t.row(fmt.Sprint(it.Number), it.Tenant, it.Issued.String(), it.Due.String(), it.Reference, string(it.State),
			tableCHF(it.Total), tableCHF(it.Amount), tableCHF(it.Paid), tableCHF(it.Open), fmt.Sprint(len(it.Reminders)))
	}
	t.rule()
	t.row("", fmt.Sprintf("%d invoices", len(items)), "", "", "", "", "", "", "", tableCHF(open))
	return t.write(env.Stdout)
}

func validLang(l string) bool {
	for _, x := range core.Languages {
		if l == x {
			return true
		}
	}
	return false
}

// siteLedger reads a site and the receivables.
func siteLedger(env *Env, siteID string) (*core.Site, *collect.Ledger, error) {
	st, err := env.Store()
	if err != nil {
		return nil, nil, err
	}
	var site *core.Site
	var l *collect.Ledger
	err = st.View(func(tx store.Tx) error {
		var err error
		if site, err = siteByID(tx, siteID); err != nil {
			return err
		}
		l, err = collect.Load(tx)
		return err
	})
	return site, l, err
}

func runInvoiceState(env *Env, cmd string, args []string) error {
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id")
	number := fs.Int("invoice", 0, "invoice number")
	reason := fs.String("reason", "", "why, for the audit log")
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef(cmd, "unexpected argument %q", pos[0])
	}
	if *siteID == "" || *number <= 0 || strings.TrimSpace(*reason) == "" {
		return Usagef(cmd, "--site, --invoice and --reason are required")
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	now := env.Clock.Now()
	return st.Update(func(tx store.Tx) error {
		if _, err := siteByID(tx, *siteID); err != nil {
			return err
		}
		if cmd == "invoice cancel" {
			c, err := collect.Cancel(tx, *siteID, *number, *reason, actor(), now)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "credit note %d over CHF %s cancels invoice %d of %s\n", c.Number, tableCHF(c.Amount),
				*number, *siteID)
			return nil
		}
		w, err := collect.WriteOffOpen(tx, *siteID, *number, *reason, actor(), now)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "invoice %d of %s: CHF %s written off\n", *number, *siteID, tableCHF(w.Amount))
		return nil
	})
}
