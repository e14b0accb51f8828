package importer

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/zevdesk/zevdesk/core"
)

// WriteSite writes s as a site file (docs/site-file.md) that ParseSite reads
// back to an equal site: `site export`, and the desktop app's export. Keys
// come in the documented order and only where they differ from their
// default, so that two exports of the same site are identical bytes. s should
// have passed core.Site.Validate (a stored site has).
func WriteSite(w io.Writer, s *core.Site) error {
	bw := bufio.NewWriter(w)
	sw := &siteWriter{w: bw}
	sw.site(s)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing site %s: %w", s.ID, err)
	}
	return nil
}

// siteWriter writes TOML lines; bufio.Writer keeps the first write error
// for Flush to report.
type siteWriter struct{ w *bufio.Writer }

func (sw *siteWriter) line(format string, args ...any) { fmt.Fprintf(sw.w, format+"\n", args...) }

func (sw *siteWriter) str(k, v string) {
	if v != "" {
		sw.line("%s = %s", k, tomlString(v))
	}
}

// num writes a decimal as a TOML number; ParseSite reads numbers exactly.
func (sw *siteWriter) num(k, v string, zero bool) {
	if !zero {
		sw.line("%s = %s", k, v)
	}
}

func (sw *siteWriter) date(k string, d core.Date) {
	if !d.IsZero() {
		sw.line("%s = %s", k, d)
	}
}

func (sw *siteWriter) boolean(k string, v bool) {
	if v {
		sw.line("%s = true", k)
	}
}

func (sw *siteWriter) address(a core.Address) {
	sw.str("street", a.Street)
	sw.str("number", a.Number)
	sw.str("postcode", a.Postcode)
	sw.str("town", a.Town)
	sw.str("country", a.Country)
}

func (sw *siteWriter) site(s *core.Site) {
	sw.str("id", s.ID)
	sw.str("name", s.Name)
	sw.str("timezone", s.Timezone)
	sw.str("allocation", string(s.Allocation))
	sw.str("vat_number", s.VATNumber)
	if len(s.Holidays) > 0 {
		days := make([]string, len(s.Holidays))
		for i, h := range s.Holidays {
			days[i] = h.String()
		}
		sw.line("holidays = [%s]", strings.Join(days, ", "))
	}
	if s.Address != (core.Address{}) {
		sw.line("\n[address]")
		sw.address(s.Address)
	}
	sw.line("\n[operator]")
	sw.str("name", s.Operator.Name)
	sw.address(s.Operator.Address)
	sw.str("iban", s.Operator.IBAN)
	sw.str("email", s.Operator.Email)
	sw.str("phone", s.Operator.Phone)
	if s.Owner != "" || s.OwnerAddress != (core.Address{}) {
		sw.line("\n[owner]")
		sw.str("name", s.Owner)
		sw.address(s.OwnerAddress)
	}
	for _, u := range s.Units {
		sw.line("\n[[units]]")
		sw.str("id", u.ID)
		sw.str("name", u.Name)
		sw.num("area_m2", core.BasisPoints(u.Area).String(), u.Area == 0)
		sw.num("quota", fmt.Sprint(u.Quota), u.Quota == 0)
		sw.num("weight", fmt.Sprint(u.Weight), u.Weight == 0)
		sw.date("since", u.Since)
		sw.date("retired", u.Retired)
	}
	for _, m := range s.Meters {
		sw.line("\n[[meters]]")
		sw.str("id", m.ID)
		sw.str("name", m.Name)
		sw.str("role", string(m.Role))
		sw.str("unit", m.Unit)
		sw.str("key", string(m.Key))
		sw.num("max_power_w", fmt.Sprint(m.MaxPowerW), m.MaxPowerW == 0)
		sw.str("metering_point", m.MeteringPoint)
		sw.date("since", m.Since)
		sw.date("retired", m.Retired)
	}
	for _, o := range s.Occupancies {
		sw.line("\n[[tenants]]")
		sw.str("unit", o.Unit)
		sw.str("name", o.Name)
		sw.date("from", o.From)
		sw.date("to", o.To)
		sw.str("language", o.Language)
		sw.str("reference", o.Reference)
		sw.str("email", o.Email)
		sw.num("advance_chf_month", o.AdvanceMonth.String(), o.AdvanceMonth == 0)
		if o.Address != (core.Address{}) {
			sw.line("[tenants.address]")
			sw.address(o.Address)
		}
	}
	for _, t := range s.Tariffs {
		sw.line("\n[[tariffs]]")
		sw.date("from", t.From)
		sw.num("solar_chf_kwh", t.Solar.String(), false)
		sw.num("grid_chf_kwh", t.Grid.String(), t.Grid == 0)
		sw.num("grid_ht_chf_kwh", t.GridHT.String(), t.GridHT == 0)
		sw.num("grid_nt_chf_kwh", t.GridNT.String(), t.GridNT == 0)
		if len(t.HT) > 0 {
			ws := make([]string, len(t.HT))
			for i, win := range t.HT {
				ws[i] = tomlString(win.String())
			}
			sw.line("ht = [%s]", strings.Join(ws, ", "))
		}
		sw.num("base_fee_chf_month", t.BaseFeeMonth.String(), t.BaseFeeMonth == 0)
		sw.num("metering_chf_month", t.MeteringMonth.String(), t.MeteringMonth == 0)
		if t.VAT != nil {
			sw.num("vat_percent", t.VAT.String(), false)
		}
		sw.num("standard_chf_kwh", t.Standard.String(), t.Standard == 0)
	}
	set := s.Settings
	if set != (core.Settings{}) {
		sw.line("\n[settings]")
		sw.str("period", set.Period)
		sw.boolean("collect_self", set.CollectSelf)
		sw.boolean("refuse_missing", set.RefuseMissing)
		sw.boolean("round_to_5", set.RoundTo5)
		sw.boolean("redistribute", set.Redistribute)
		sw.num("balance_tolerance_percent", set.BalanceTolerance.String(), set.BalanceTolerance == 0)
		sw.num("payment_term_days", strconv.Itoa(set.PaymentTermDays), set.PaymentTermDays == 0)
		var days []string
		for _, d := range set.ReminderDays {
			if d != 0 {
				days = append(days, strconv.Itoa(d))
			}
		}
		if len(days) > 0 {
			sw.line("reminder_days = [%s]", strings.Join(days, ", "))
		}
		sw.num("reminder_fee_chf", set.ReminderFee.String(), set.ReminderFee == 0)
	}
}

// tomlString quotes v as a TOML basic string: quotes, backslashes and
// control characters escaped, everything else (umlauts, accents) as it is.
func tomlString(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
