package cli

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

func init() {
	Register(Command{
		Name:    "tariff check",
		Args:    "--site ID [--date DATE] [--cost-price CHF]",
		Summary: "check the solar price against Energy Ordinance Art. 16, with the arithmetic",
		Run:     runTariffCheck,
	})
	Register(Command{
		Name:    "tariff prices",
		Args:    "--site ID FILE.csv",
		Summary: "import a 15-minute dynamic grid price series (CSV: start,chf_kwh)",
		Run:     runTariffPrices,
	})
}

// ErrSolarPriceTooHigh is returned by `tariff check` when a solar price
// exceeds the Art. 16 limit, so that scripts see a failing exit status.
var ErrSolarPriceTooHigh = errors.New("the solar price exceeds the Energy Ordinance Art. 16 limit")

func runTariffCheck(env *Env, args []string) error {
	const cmd = "tariff check"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id")
	dateS := fs.String("date", "", "check only the tariff in force on this day (YYYY-MM-DD)")
	costS := fs.String("cost-price", "", "effective cost price of a self-consumed kWh in CHF (overrides stored solar costs)")
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
	var only *core.Date
	if *dateS != "" {
		d, err := core.ParseDate(*dateS)
		if err != nil {
			return Usagef(cmd, "--date: %v", err)
		}
		only = &d
	}
	var costs *billing.SolarCosts
	if *costS != "" {
		p, err := core.ParsePrice(*costS)
		if err != nil || p <= 0 {
			return Usagef(cmd, "--cost-price: expected a price in CHF per kWh such as 0.16, got %q", *costS)
		}
		costs = &billing.SolarCosts{CostPrice: p}
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	var site *core.Site
	err = st.View(func(tx store.Tx) error {
		s, err := tx.Site(*siteID)
		if err != nil {
			return fmt.Errorf("site %q: %w", *siteID, err)
		}
		site = s
		if costs != nil {
			return nil
		}
		v, err := tx.GetMeta(billing.BucketSolarCosts, s.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading solar costs: %w", err)
		}
		costs = new(billing.SolarCosts)
		if err := json.Unmarshal(v, costs); err != nil {
			return fmt.Errorf("reading solar costs of %s: %w", s.ID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var versions []core.Tariff
	if only != nil {
		t, ok := site.TariffAt(*only)
		if !ok {
			return fmt.Errorf("site %s has no tariff in force on %s", site.ID, *only)
		}
		versions = []core.Tariff{t}
	} else {
		versions = site.Tariffs
	}
	if len(versions) == 0 {
		return fmt.Errorf("site %s has no tariffs", site.ID)
	}
	fmt.Fprintf(env.Stdout, "Energy Ordinance Art. 16 check of the solar price, %s (%s)\n", site.Name, site.ID)
	if costs == nil {
		fmt.Fprintln(env.Stdout, "no effective solar costs known: only the flat rate (80 % of the standard product) applies")
	}
	failed := 0
	for _, t := range versions {
		fmt.Fprintf(env.Stdout, "\ntariff from %s\n", t.From)
		c, err := billing.CheckSolarPrice(t, site.VATRate(t, t.From), costs)
		if err != nil {
			return fmt.Errorf("tariff from %s: %w", t.From, err)
		}
		for _, l := range c.Lines {
			fmt.Fprintf(env.Stdout, "  %s\n", l)
		}
		fmt.Fprintf(env.Stdout, "  %s\n", c.Verdict)
		if !c.OK {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d tariff versions: %w", failed, len(versions), ErrSolarPriceTooHigh)
	}
	return nil
}

func runTariffPrices(env *Env, args []string) error {
	const cmd = "tariff prices"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id")
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if *siteID == "" {
		return Usagef(cmd, "--site is required")
	}
	if len(pos) != 1 {
		return Usagef(cmd, "expected one CSV file")
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	p, err := parsePrices(f)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	err = st.Update(func(tx store.Tx) error {
		if _, err := tx.Site(*siteID); err != nil {
			return fmt.Errorf("site %q: %w", *siteID, err)
		}
		return billing.PutPrices(tx, *siteID, p)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: %d prices from %s\n", pos[0], len(p.Grid), p.From)
	return nil
}

// parsePrices reads "start,chf_kwh" rows (a header first; start in ISO 8601
// with Z or an offset, on the 15-minute grid) into a dense series; slots
// the file skips keep the tariff's price.
func parsePrices(r io.Reader) (*billing.DynamicPrices, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 2
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("line 1: %w", err)
	}
	if strings.TrimSpace(head[0]) != "start" || strings.TrimSpace(head[1]) != "chf_kwh" {
		return nil, fmt.Errorf("line 1: expected the header start,chf_kwh, got %s", strings.Join(head, ","))
	}
	type row struct {
		s core.Slot
		p core.Price
	}
	var rows []row
	seen := map[core.Slot]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(rec[0]))
		if err != nil {
			return nil, fmt.Errorf("line %d: start %q: expected a time such as 2026-01-01T00:00:00+01:00", line, rec[0])
		}
		s, ok := core.SlotAt(t)
		if !ok {
			return nil, fmt.Errorf("line %d: start %s is not on the 15-minute grid", line, rec[0])
		}
		p, err := core.ParsePrice(rec[1])
		if err != nil || p <= 0 {
			return nil, fmt.Errorf("line %d: chf_kwh: expected a positive price such as 0.2745, got %q", line, rec[1])
		}
		if prev, dup := seen[s]; dup {
			return nil, fmt.Errorf("line %d: %s already has a price on line %d", line, rec[0], prev)
		}
		seen[s] = line
		rows = append(rows, row{s, p})
	}
	if len(rows) == 0 {
		return nil, errors.New("no prices")
	}
	lo, hi := rows[0].s, rows[0].s
	for _, r := range rows {
		lo, hi = min(lo, r.s), max(hi, r.s)
	}
	if hi-lo > 4*366*96 {
		return nil, errors.New("the prices span more than four years; import them in parts")
	}
	out := &billing.DynamicPrices{From: lo, Grid: make([]core.Price, hi-lo+1)}
	for _, r := range rows {
		out.Grid[r.s-lo] = r.p
	}
	return out, nil
}
