package cli

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/collect"
	"github.com/zevdesk/zevdesk/core/store"
)

func init() {
	Register(Command{
		Name:    "payments",
		Args:    "[--unassigned] [--json]",
		Summary: "list the payments imported from the bank and the invoices they were assigned to",
		Run:     runPayments,
	})
	Register(Command{
		Name:    "payments assign",
		Args:    "PAYMENT-ID --site ID --invoice NUMBER [--amount CHF]",
		Summary: "assign (part of) an unassigned payment to an invoice by hand; the audit log records it",
		Run:     runPaymentsAssign,
	})
}

// jsonPayment is a payment in `payments --json`.
type jsonPayment struct {
	ID          string           `json:"id"`
	Account     string           `json:"account"`
	Booked      core.Date        `json:"booked"`
	Amount      string           `json:"amount"`
	Currency    string           `json:"currency"`
	Reference   string           `json:"reference,omitempty"`
	Debtor      string           `json:"debtor,omitempty"`
	Message     string           `json:"message,omitempty"`
	Unassigned  string           `json:"unassigned"`
	Note        string           `json:"note,omitempty"`
	Allocations []jsonAllocation `json:"allocations"`
}

type jsonAllocation struct {
	Site    string        `json:"site"`
	Invoice int           `json:"invoice"`
	Amount  string        `json:"amount"`
	By      collect.Match `json:"by"`
}

// loadLedger loads the receivables in a read transaction.
func loadLedger(env *Env) (*collect.Ledger, error) {
	st, err := env.Store()
	if err != nil {
		return nil, err
	}
	var l *collect.Ledger
	err = st.View(func(tx store.Tx) error {
		var err error
		l, err = collect.Load(tx)
		return err
	})
	return l, err
}

func runPayments(env *Env, args []string) error {
	const cmd = "payments"
	fs := NewFlagSet(cmd)
	unassigned := fs.Bool("unassigned", false, "only payments with an unassigned part")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef(cmd, "unexpected argument %q (assign a payment with `payments assign`)", pos[0])
	}
	l, err := loadLedger(env)
	if err != nil {
		return err
	}
	ps := l.Payments(*unassigned)
	if *asJSON {
		out := []jsonPayment{}
		for _, p := range ps {
			jp := jsonPayment{ID: p.ID, Account: p.Account, Booked: p.Booked, Amount: p.Amount.String(), Currency: p.Currency,
				Reference: p.Reference, Debtor: p.Debtor, Message: p.Message, Unassigned: p.Unassigned().String(), Note: p.Note,
				Allocations: []jsonAllocation{}}
			for _, a := range p.Allocations {
				jp.Allocations = append(jp.Allocations, jsonAllocation{a.Site, a.Number, a.Amount.String(), a.By})
			}
			out = append(out, jp)
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(env.Stdout, "%s\n", b)
		return err
	}
	t := &table{right: []bool{false, false, true, true, false, false, false}}
	t.row("payment", "booked", "CHF", "unassigned", "debtor", "assigned to", "note")
	for _, p := range ps {
		to := ""
		for i, a := range p.Allocations {
			if i > 0 {
				to += ", "
			}
			to += fmt.Sprintf("%s %d (%s, %s)", a.Site, a.Number, tableCHF(a.Amount), a.By)
		}
		t.row(p.ID, p.Booked.String(), tableCHF(p.Amount), tableCHF(p.Unassigned()), orDash(p.Debtor), orDash(to), p.Note)
	}
	return t.write(env.Stdout)
}

func runPaymentsAssign(env *Env, args []string) error {
	const cmd = "payments assign"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id of the invoice")
	number := fs.Int("invoice", 0, "invoice number")
	amountS := fs.String("amount", "", "amount in CHF (default: all of the unassigned part)")
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return Usagef(cmd, "expected one payment id (see `zevdesk payments --unassigned`)")
	}
	if *siteID == "" || *number <= 0 {
		return Usagef(cmd, "--site and --invoice are required")
	}
	var amount core.Rappen
	if *amountS != "" {
		if amount, err = core.ParseCHF(*amountS); err != nil || amount <= 0 {
			return Usagef(cmd, "--amount: expected a positive amount such as 12.50, got %q", *amountS)
		}
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	var p *collect.Payment
	err = st.Update(func(tx store.Tx) error {
		var err error
		p, err = collect.Assign(tx, pos[0], *siteID, *number, amount, actor(), env.Clock.Now())
		return err
	})
	if err != nil {
		return err
	}
	a := p.Allocations[len(p.Allocations)-1]
	fmt.Fprintf(env.Stdout, "payment %s: CHF %s assigned to invoice %s of %s; CHF %s unassigned\n", p.ID,
		tableCHF(a.Amount), strconv.Itoa(a.Number), a.Site, tableCHF(p.Unassigned()))
	return nil
}
