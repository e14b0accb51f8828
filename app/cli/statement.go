package cli

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/zevdesk/zevdesk/app/report"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/collect"
)

func init() {
	Register(Command{
		Name:    "statement",
		Args:    "--site ID --tenant NAME [--json] [--xlsx FILE] [--lang de|fr|it|en]",
		Summary: "a recipient's account: invoices, payments, credit notes, write-offs and reminder fees with the running balance",
		Run:     runStatement,
	})
}

type jsonStatementLine struct {
	Date    core.Date        `json:"date"`
	Kind    collect.LineKind `json:"kind"`
	Number  int              `json:"number"`
	Invoice int              `json:"invoice"`
	Text    string           `json:"text"`
	Debit   string           `json:"debit"`
	Credit  string           `json:"credit"`
	Balance string           `json:"balance"`
}

func runStatement(env *Env, args []string) error {
	const cmd = "statement"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id")
	tenant := fs.String("tenant", "", "the recipient's name, as on the invoices")
	asJSON := fs.Bool("json", false, "print JSON")
	xlsx := fs.String("xlsx", "", "also write the statement to this Excel workbook")
	lang := fs.String("lang", "de", "language of the workbook: de, fr, it or en")
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef(cmd, "unexpected argument %q", pos[0])
	}
	if *siteID == "" || *tenant == "" {
		return Usagef(cmd, "--site and --tenant are required")
	}
	if !validLang(*lang) {
		return Usagef(cmd, "--lang: expected de, fr, it or en, got %q", *lang)
	}
	site, l, err := siteLedger(env, *siteID)
	if err != nil {
		return err
	}
	lines := l.Statement(site.ID, *tenant)
	if len(lines) == 0 {
		return fmt.Errorf("site %s has no invoices to %q; recipients: %q", site.ID, *tenant, l.Tenants(site.ID))
	}
	if *xlsx != "" {
		var buf bytes.Buffer
		if err := report.WriteStatementXLSX(&buf, site, *tenant, lines, *lang); err != nil {
			return fmt.Errorf("writing %s: %w", *xlsx, err)
		}
		if err := report.WriteFile(env.Path(*xlsx), buf.Bytes()); err != nil {
			return err
		}
	}
	if *asJSON {
		out := []jsonStatementLine{}
		for _, s := range lines {
			out = append(out, jsonStatementLine{s.Date, s.Kind, s.Number, s.Invoice, s.Text, s.Debit.String(),
				s.Credit.String(), s.Balance.String()})
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(env.Stdout, "%s\n", b)
		return err
	}
	t := &table{right: []bool{false, false, true, false, true, true, true}}
	t.row("date", "kind", "no.", "text", "debit", "credit", "balance")
	for _, s := range lines {
		t.row(s.Date.String(), string(s.Kind), fmt.Sprint(s.Number), s.Text, chfOrEmpty(s.Debit), chfOrEmpty(s.Credit),
			tableCHF(s.Balance))
	}
	return t.write(env.Stdout)
}

func chfOrEmpty(r core.Rappen) string {
	if r == 0 {
		return ""
	}
	return tableCHF(r)
}
