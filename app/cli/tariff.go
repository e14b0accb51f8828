package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

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
		Summary: "import a 15-minute dynamic grid price series (CSV: start,chf_kwh), merged per interval: the newest price wins",
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
		s, err := siteByID(tx, *siteID)
		if err != nil {
			return err
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
	failed, unknown := 0, 0
	for _, t := range versions {
		fmt.Fprintf(env.Stdout, "\ntariff from %s\n", t.From)
		c, err := billing.CheckSolarPrice(t, site.VATRate(t, t.From), costs)
		if errors.Is(err, billing.ErrNoStandardPrice) {
			fmt.Fprintf(env.Stdout, "  NOT CHECKED: %v\n", err)
			unknown++
			continue
		}
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
	if unknown > 0 {
		return fmt.Errorf("%d of %d tariff versions could not be checked: add standard_chf_kwh to the site file's tariffs",
			unknown, len(versions))
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
	f, err := env.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	p, err := parsePrices(pos[0], f)
	if err != nil {
		return err
	}
	st, err := env.Store()
	if err != nil {
		return err
	}
	var msg string
	err = st.Update(func(tx store.Tx) error {
		s, err := siteByID(tx, *siteID)
		if err != nil {
			return err
		}
		res, err := billing.PutPrices(tx, *siteID, p)
		if err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		// The span the office reads: from the first interval's start to
		// the last one's end, in the site's time.
		loc := s.Location()
		msg = fmt.Sprintf("%s: %d prices, %d replaced, %d new, %d unchanged (from %s to %s)", pos[0], res.Prices,
			res.Replaced, res.New, res.Unchanged, p.From.Time().In(loc).Format("02.01.2006 15:04"),
			(p.From + core.Slot(len(p.Grid)-1)).End().In(loc).Format("02.01.2006 15:04"))
		_, err = tx.AppendAudit(store.Entry{Time: env.Clock.Now().UTC(), Actor: actor(), Site: *siteID,
			Action: "tariff.prices", Detail: msg})
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, msg)
	return nil
}

// parsePrices reads "start,chf_kwh" rows (a header first; start in ISO 8601
// with Z or an offset, on the 15-minute grid) into a dense series; slots
// the file skips are 0, which billing.PutPrices leaves as stored. Like the
// import files (see docs/formats.md) it takes a UTF-8 byte order mark and
// semicolons, as Excel writes them in Swiss locales, and names the line and
// column of a bad value: "prices.csv:3: column chf_kwh: ...".
func parsePrices(name string, r io.Reader) (*billing.DynamicPrices, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	cr := csv.NewReader(bytes.NewReader(b))
	if head, _, _ := bytes.Cut(b, []byte("\n")); bytes.Count(head, []byte(";")) > bytes.Count(head, []byte(",")) {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: expected the header start,chf_kwh: %w", name, err)
	}
	if len(head) != 2 || strings.TrimSpace(head[0]) != "start" || strings.TrimSpace(head[1]) != "chf_kwh" {
		return nil, fmt.Errorf("%s:1: header: expected start,chf_kwh, got %q", name, strings.Join(head, string(cr.Comma)))
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
		if err != nil {
			if pe, ok := err.(*csv.ParseError); ok {
				return nil, fmt.Errorf("%s:%d: %w", name, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != 2 {
			return nil, fmt.Errorf("%s:%d: expected 2 columns (start,chf_kwh), got %d: %q", name, line, len(rec), strings.Join(rec, string(cr.Comma)))
		}
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(rec[0]))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: column start: expected a time such as 2026-01-01T00:00:00+01:00, got %q", name, line, rec[0])
		}
		s, ok := core.SlotAt(t)
		if !ok {
			return nil, fmt.Errorf("%s:%d: column start: expected the start of a 15-minute interval (minute 00, 15, 30 or 45), got %q", name, line, rec[0])
		}
		p, err := core.ParsePrice(strings.TrimSpace(rec[1]))
		if err != nil || p <= 0 {
			return nil, fmt.Errorf("%s:%d: column chf_kwh: expected a positive price in CHF per kWh such as 0.2745, got %q", name, line, rec[1])
		}
		if prev, dup := seen[s]; dup {
			return nil, fmt.Errorf("%s:%d: column start: %s already has a price on line %d", name, line, rec[0], prev)
		}
		seen[s] = line
		rows = append(rows, row{s, p})
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no prices: expected rows start,chf_kwh after the header", name)
	}
	lo, hi := rows[0].s, rows[0].s
	for _, r := range rows {
		lo, hi = min(lo, r.s), max(hi, r.s)
	}
	if hi-lo > 4*366*96 {
		return nil, fmt.Errorf("%s: the prices span more than four years; import them in parts", name)
	}
	out := &billing.DynamicPrices{From: lo, Grid: make([]core.Price, hi-lo+1)}
	for _, r := range rows {
		out.Grid[r.s-lo] = r.p
	}
	return out, nil
}

func init() {
	Register(Command{
		Name:    "tariff utility",
		Args:    "--site ID --from DATE --to DATE [FILE.toml]",
		Summary: "enter the utility's bill of a period for pass-through billing (without FILE: show the stored one)",
		Run:     runTariffUtility,
	})
}

// utilityFile is the TOML form of a utility bill:
//
//	vat_percent = 7.7
//	[[lines]]
//	label = "Energy HT"
//	basis = "ht"            # ht | nt | all (the default)
//	kwh = 1696
//	chf_kwh = 0.085
//	[[lines]]
//	label = "Power charge"
//	kw = [9.1, 9.3, 9.1]    # one peak per month
//	chf_kw = 3.60
//	[[lines]]
//	label = "Metering"
//	chf = 120.00
type utilityFile struct {
	VATPercent any `toml:"vat_percent"`
	Lines      []struct {
		Label  string `toml:"label"`
		Basis  string `toml:"basis"`
		KWh    any    `toml:"kwh"`
		CHFKWh any    `toml:"chf_kwh"`
		KW     []any  `toml:"kw"`
		CHFKW  any    `toml:"chf_kw"`
		CHF    any    `toml:"chf"`
	} `toml:"lines"`
}

// tomlDecimal returns a TOML number as the decimal it was written as (the
// shortest form that reads back as the same float is the literal).
func tomlDecimal(v any) (string, bool) {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

func parseUtility(name string, data []byte, p core.Period) (*billing.UtilityBill, error) {
	var f utilityFile
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: unknown key %s", name, und[0])
	}
	bad := func(elem, want string) error { return fmt.Errorf("%s: %s: expected %s", name, elem, want) }
	u := &billing.UtilityBill{Period: p}
	if f.VATPercent != nil {
		s, ok := tomlDecimal(f.VATPercent)
		v, err := core.ParsePercent(s)
		if !ok || err != nil || v < 0 || v > 2500 {
			return nil, bad("vat_percent", "a percentage such as 7.7")
		}
		u.VAT = v
	}
	if len(f.Lines) == 0 {
		return nil, bad("lines", "at least one [[lines]] entry")
	}
	for i, l := range f.Lines {
		el := fmt.Sprintf("lines[%d]", i)
		ul := billing.UtilityLine{Label: l.Label, Basis: billing.Basis(l.Basis)}
		if strings.TrimSpace(l.Label) == "" {
			return nil, bad(el+".label", "a label")
		}
		switch ul.Basis {
		case "":
			ul.Basis = billing.BasisAll
		case billing.BasisHT, billing.BasisNT, billing.BasisAll:
		default:
			return nil, bad(el+".basis", "ht, nt or all")
		}
		switch {
		case l.KWh != nil:
			s, ok := tomlDecimal(l.KWh)
			e, err := core.ParseKWh(s)
			if !ok || err != nil || e <= 0 {
				return nil, bad(el+".kwh", "a positive energy in kWh")
			}
			s, ok = tomlDecimal(l.CHFKWh)
			pr, err := core.ParsePrice(s)
			if !ok || err != nil {
				return nil, bad(el+".chf_kwh", "the price in CHF per kWh that goes with kwh")
			}
			ul.Energy, ul.Price = e, pr
		case len(l.KW) > 0:
			for j, v := range l.KW {
				s, ok := tomlDecimal(v)
				w, err := core.ParseKWh(s) // kW with up to 3 decimals read as "kWh" gives W × 1000
				if !ok || err != nil || w < 0 || w%1000 != 0 {
					return nil, bad(fmt.Sprintf("%s.kw[%d]", el, j), "a power in kW with at most three decimals")
				}
				ul.PowerW = append(ul.PowerW, int64(w/1000))
			}
			s, ok := tomlDecimal(l.CHFKW)
			r, err := core.ParseCHF(s)
			if !ok || err != nil {
				return nil, bad(el+".chf_kw", "the price in CHF per kW that goes with kw")
			}
			ul.PricePerKW = r
		case l.CHF != nil:
			s, ok := tomlDecimal(l.CHF)
			r, err := core.ParseCHF(s)
			if !ok || err != nil {
				return nil, bad(el+".chf", "an amount in CHF")
			}
			ul.Amount = r
		default:
			return nil, bad(el, "kwh and chf_kwh, kw and chf_kw, or chf")
		}
		u.Lines = append(u.Lines, ul)
	}
	return u, nil
}

func runTariffUtility(env *Env, args []string) error {
	const cmd = "tariff utility"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id")
	fromS := fs.String("from", "", "first day of the period (YYYY-MM-DD)")
	toS := fs.String("to", "", "last day of the period (YYYY-MM-DD)")
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	p, err := periodFlags(cmd, *siteID, *fromS, *toS)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return Usagef(cmd, "expected at most one file")
	}
	u, err := storeOrShow(env, *siteID, pos, storedValue[billing.UtilityBill]{
		parse:  func(name string, data []byte) (*billing.UtilityBill, error) { return parseUtility(name, data, p) },
		put:    func(tx store.Tx, u *billing.UtilityBill) error { return billing.PutUtilityBill(tx, *siteID, u) },
		bucket: billing.BucketUtility, key: *siteID + "/" + p.String(), action: "tariff.utility",
		detail:  func(u *billing.UtilityBill) string { return fmt.Sprintf("%s, CHF %s excl. VAT", p, u.Net()) },
		missing: fmt.Sprintf("no utility bill stored for %s %s", *siteID, p),
	})
	if err != nil {
		return err
	}
	return printUtility(env.Stdout, u)
}

func printUtility(w io.Writer, u *billing.UtilityBill) error {
	fmt.Fprintf(w, "utility bill %s (grid energy is billed at these costs, shared by HT, NT or all grid kWh)\n", u.Period)
	tw := &table{indent: "  ", right: []bool{false, false, false, true}}
	for _, l := range u.Lines {
		var q string
		switch {
		case l.Energy != 0:
			q = fmt.Sprintf("%s kWh × %s CHF/kWh", core.FormatKWh(l.Energy), l.Price)
		case len(l.PowerW) > 0:
			var parts []string
			for _, p := range l.PowerW {
				parts = append(parts, strings.TrimRight(strings.TrimRight(core.FormatKWh(core.Energy(p*1000)), "0"), "."))
			}
			q = fmt.Sprintf("(%s) kW × CHF %s", strings.Join(parts, " + "), l.PricePerKW)
		}
		tw.row(l.Label, string(l.Basis), q, tableCHF(l.Total()))
	}
	tw.rule()
	tw.row("total excl. VAT", "", "", tableCHF(u.Net()))
	tw.row(fmt.Sprintf("VAT %s %%", u.VAT), "", "", tableCHF(u.VATAmount()))
	tw.row("total", "", "", tableCHF(u.Gross()))
	return tw.write(w)
}

func init() {
	Register(Command{
		Name:    "tariff costs",
		Args:    "--site ID [FILE.toml]",
		Summary: "store the solar plant's effective costs for the Art. 16 check (without FILE: show the stored ones)",
		Run:     runTariffCosts,
	})
}

// costsFile is the TOML form of a plant's effective yearly costs (Energy
// Ordinance Art. 16), for `tariff costs`:
//
//	cost_price_chf_kwh = 0.16        # either the cost price of a self-consumed kWh, or:
//	investment_chf = 30000           # the plant's cost
//	subsidy_chf = 5000               # one-off subsidy (deducted)
//	years = 25                       # depreciation period
//	interest_percent = 2             # interest on the invested capital
//	operation_chf_year = 400
//	metering_chf_year = 300          # metering and administration
//	feed_in_chf_year = 600           # revenue from feed-in (deducted)
//	self_consumed_kwh_year = 10000
type costsFile struct {
	CostPrice    any `toml:"cost_price_chf_kwh"`
	Investment   any `toml:"investment_chf"`
	Subsidy      any `toml:"subsidy_chf"`
	Years        any `toml:"years"`
	Interest     any `toml:"interest_percent"`
	Operation    any `toml:"operation_chf_year"`
	Metering     any `toml:"metering_chf_year"`
	FeedIn       any `toml:"feed_in_chf_year"`
	SelfConsumed any `toml:"self_consumed_kwh_year"`
}

func parseCosts(name string, data []byte) (*billing.SolarCosts, error) {
	var f costsFile
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: unknown key %s", name, und[0])
	}
	bad := func(key, want string) error { return fmt.Errorf("%s: %s: expected %s", name, key, want) }
	c := &billing.SolarCosts{}
	chfs := []struct {
		key string
		v   any
		dst *core.Rappen
	}{{"investment_chf", f.Investment, &c.Investment}, {"subsidy_chf", f.Subsidy, &c.Subsidy},
		{"operation_chf_year", f.Operation, &c.Operation}, {"metering_chf_year", f.Metering, &c.Metering},
		{"feed_in_chf_year", f.FeedIn, &c.FeedIn}}
	for _, x := range chfs {
		if x.v == nil {
			continue
		}
		s, ok := tomlDecimal(x.v)
		r, err := core.ParseCHF(s)
		if !ok || err != nil || r < 0 {
			return nil, bad(x.key, "an amount in CHF such as 400.00")
		}
		*x.dst = r
	}
	if f.CostPrice != nil {
		s, ok := tomlDecimal(f.CostPrice)
		p, err := core.ParsePrice(s)
		if !ok || err != nil || p <= 0 {
			return nil, bad("cost_price_chf_kwh", "a positive price in CHF per kWh such as 0.16")
		}
		c.CostPrice = p
	}
	if f.Years != nil {
		y, ok := f.Years.(int64)
		if !ok || y <= 0 || y > 100 {
			return nil, bad("years", "a whole number of years such as 25")
		}
		c.Years = int(y)
	}
	if f.Interest != nil {
		s, ok := tomlDecimal(f.Interest)
		b, err := core.ParsePercent(s)
		if !ok || err != nil || b < 0 || b > 10000 {
			return nil, bad("interest_percent", "a percentage such as 2.5")
		}
		c.Interest = b
	}
	if f.SelfConsumed != nil {
		s, ok := tomlDecimal(f.SelfConsumed)
		e, err := core.ParseKWh(s)
		if !ok || err != nil || e <= 0 {
			return nil, bad("self_consumed_kwh_year", "the positive yearly self-consumed energy in kWh")
		}
		c.SelfConsumed = e
	}
	if c.CostPrice == 0 {
		if c.SelfConsumed == 0 {
			return nil, bad("self_consumed_kwh_year", "the yearly self-consumed energy (or cost_price_chf_kwh)")
		}
		if c.Investment > 0 && c.Years == 0 {
			return nil, bad("years", "the depreciation period that goes with investment_chf")
		}
		if c.Subsidy > c.Investment {
			return nil, bad("subsidy_chf", "at most investment_chf")
		}
	}
	return c, nil
}

const costsHelp = `tariff costs --site ID FILE.toml stores the solar plant's effective yearly
costs, which tariff check then compares the solar price with (Energy
Ordinance Art. 16, effective-cost method). FILE.toml gives either

  cost_price_chf_kwh = 0.16        # the cost of a self-consumed kWh

or the yearly figures it follows from:

  investment_chf = 30000           # the plant's cost
  subsidy_chf = 5000               # one-off subsidy, deducted
  years = 25                       # depreciation period
  interest_percent = 2             # interest on the invested capital
  operation_chf_year = 400
  metering_chf_year = 300          # metering and administration
  feed_in_chf_year = 600           # feed-in revenue, deducted
  self_consumed_kwh_year = 10000

Without FILE it shows the stored costs and their arithmetic.`

func runTariffCosts(env *Env, args []string) error {
	const cmd = "tariff costs"
	fs := NewFlagSet(cmd)
	siteID := fs.String("site", "", "site id")
	help := fs.Bool("help", false, "show the file format")
	pos, err := ParseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if *help {
		fmt.Fprintln(env.Stdout, costsHelp)
		return nil
	}
	if *siteID == "" {
		return Usagef(cmd, "--site is required")
	}
	if len(pos) > 1 {
		return Usagef(cmd, "expected at most one file")
	}
	c, err := storeOrShow(env, *siteID, pos, storedValue[billing.SolarCosts]{
		parse: parseCosts,
		put: func(tx store.Tx, c *billing.SolarCosts) error {
			v, err := json.Marshal(c)
			if err == nil {
				err = tx.PutMeta(billing.BucketSolarCosts, *siteID, v)
			}
			if err != nil {
				return fmt.Errorf("storing solar costs: %w", err)
			}
			return nil
		},
		bucket: billing.BucketSolarCosts, key: *siteID, action: "tariff.costs",
		detail: func(c *billing.SolarCosts) string { v, _ := json.Marshal(c); return string(v) },
		missing: fmt.Sprintf("no solar costs stored for %s (tariff costs --site %s FILE.toml stores them; --help shows the format)",
			*siteID, *siteID),
	})
	if err != nil {
		return err
	}
	lines, cp, err := c.Arithmetic()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "effective solar costs of %s (Energy Ordinance Art. 16; tariff check compares them)\n", *siteID)
	for _, l := range lines {
		fmt.Fprintf(env.Stdout, "  %s\n", l)
	}
	fmt.Fprintf(env.Stdout, "  cost price %s CHF/kWh\n", cp)
	return nil
}

// storedValue says how a command that stores a file's contents, or shows
// what is stored, handles its value.
type storedValue[T any] struct {
	parse       func(name string, data []byte) (*T, error)
	put         func(tx store.Tx, v *T) error
	bucket, key string // where put stores it, as JSON
	action      string // the audit entry's action
	detail      func(v *T) string
	missing     string // the error when nothing is stored
}

// storeOrShow reads, checks and stores pos[0] with an audit entry, in one
// transaction; without a file it returns what is stored.
func storeOrShow[T any](env *Env, siteID string, pos []string, sv storedValue[T]) (*T, error) {
	var v *T
	if len(pos) == 1 {
		data, err := env.ReadFile(pos[0])
		if err != nil {
			return nil, err
		}
		if v, err = sv.parse(pos[0], data); err != nil {
			return nil, err
		}
	}
	st, err := env.Store()
	if err != nil {
		return nil, err
	}
	write := st.View
	if v != nil {
		write = st.Update
	}
	err = write(func(tx store.Tx) error {
		if _, err := siteByID(tx, siteID); err != nil {
			return err
		}
		if v != nil {
			if err := sv.put(tx, v); err != nil {
				return err
			}
			_, err := tx.AppendAudit(store.Entry{Time: env.Clock.Now().UTC(), Actor: actor(), Site: siteID,
				Action: sv.action, Detail: pos[0] + ": " + sv.detail(v)})
			return err
		}
		b, err := tx.GetMeta(sv.bucket, sv.key)
		if errors.Is(err, store.ErrNotFound) {
			return errors.New(sv.missing)
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", sv.key, err)
		}
		v = new(T)
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("reading %s: %w", sv.key, err)
		}
		return nil
	})
	return v, err
}
