package ui

// Validation messages: core.Site.Validate explains a refusal in English
// (ValidationError.Msg) and also gives its fmt format and arguments; the
// window translates the format through the "core" catalogues and formats
// the arguments itself, so that a clerk reads the rule in the window's
// language. Every date is Swiss (31.03.2026) in every language, also the
// examples and date patterns in core's texts: the English catalogue is
// core's text with the dates in that form.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2/lang"

	"github.com/zevdesk/zevdesk/app/report"
	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/ingest/importer"
)

// validationMessage returns ve's message in the window's language; a
// format this window does not know (a rule newer than its table) gives the
// English message.
func validationMessage(ve *core.ValidationError) string {
	tr, ok := validationMessages[ve.Format]
	if !ok {
		return ve.Msg
	}
	return tr(validationArgs(ve.Args))
}

// errorText is err's message for the window: a validation error as
// "element: message" in the window's language (with the file and line in
// front when it comes from a site file), a billed period's refusal as
// lockedMessage says it, anything else as it is.
func errorText(err error) string {
	var le *importer.LockedError
	if errors.As(err, &le) {
		return lockedMessage(le)
	}
	var ve *core.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var ie *importer.Error
	if errors.As(err, &ie) {
		located := *ie
		located.Msg, located.Err = validationMessage(ve), nil
		return located.Error()
	}
	return ve.Element + ": " + validationMessage(ve)
}

// validationArgs names a message's arguments A0, A1, … for the templates,
// formatted for the window: a day as 31.03.2026, an amount as 1'234.50,
// energy as 12'345.678 kWh.
// Quotation marks are the translation's: a %q argument comes unquoted.
func validationArgs(args []any) map[string]any {
	m := make(map[string]any, len(args))
	for i, a := range args {
		var v string
		switch a := a.(type) {
		case core.Date:
			v = date(a)
		case core.Rappen:
			v = report.CHF(a)
		case core.Energy:
			// exact, as core gives it, with Swiss thousands
			whole, frac, _ := strings.Cut(core.FormatKWh(a), ".")
			v = group(whole) + "." + frac + " kWh"
		default:
			v = fmt.Sprint(a)
		}
		m["A"+strconv.Itoa(i)] = v
	}
	return m
}

// validationMessages translates each format of core/validate.go (and of
// core/iban) with the arguments from validationArgs. The keys are literal
// so that the catalogue test sees them; validation_test.go fails when core
// has a format this table lacks.
var validationMessages = map[string]func(a map[string]any) string{
	"expected an id of letters, digits, '.', '_' or '-' (at most 64), got %q": func(a map[string]any) string {
		return lang.X("core.id", `expected an id of letters, digits, '.', '_' or '-' (at most 64), got "{{.A0}}"`, a)
	},
	"expected the site's name": func(a map[string]any) string {
		return lang.X("core.site.name", "expected the site's name", a)
	},
	"unknown time zone %q: expected an IANA name such as Europe/Zurich": func(a map[string]any) string {
		return lang.X("core.timezone", `unknown time zone "{{.A0}}": expected an IANA name such as Europe/Zurich`, a)
	},
	"unknown allocation %q: expected proportional, equal or balance": func(a map[string]any) string {
		return lang.X("core.allocation", `unknown allocation "{{.A0}}": expected proportional, equal or balance`, a)
	},
	"expected a Swiss VAT number such as CHE-123.456.789 MWST, got %q": func(a map[string]any) string {
		return lang.X("core.vat", `expected a Swiss VAT number such as CHE-123.456.789 MWST, got "{{.A0}}"`, a)
	},
	"expected an ISO 3166-1 alpha-2 country code such as CH, got %q": func(a map[string]any) string {
		return lang.X("core.country", `expected an ISO 3166-1 alpha-2 country code such as CH, got "{{.A0}}"`, a)
	},
	"expected the owner's name: the owner has an address": func(a map[string]any) string {
		return lang.X("core.owner.name", "expected the owner's name: the owner has an address", a)
	},
	"expected the operator's name (the creditor of the invoices)": func(a map[string]any) string {
		return lang.X("core.operator.name", "expected the operator's name (the creditor of the invoices)", a)
	},
	"IBAN %q: expected 21 characters for CH or LI, got %d": func(a map[string]any) string {
		return lang.X("core.iban.length", `IBAN "{{.A0}}": expected 21 characters for CH or LI, got {{.A1}}`, a)
	},
	"IBAN %q: expected a Swiss (CH) or Liechtenstein (LI) IBAN": func(a map[string]any) string {
		return lang.X("core.iban.country", `IBAN "{{.A0}}": expected a Swiss (CH) or Liechtenstein (LI) IBAN`, a)
	},
	"IBAN %q: expected digits in the check digits and bank code": func(a map[string]any) string {
		return lang.X("core.iban.digits", `IBAN "{{.A0}}": expected digits in the check digits and bank code`, a)
	},
	"IBAN %q: invalid character %q": func(a map[string]any) string {
		return lang.X("core.iban.char", `IBAN "{{.A0}}": invalid character "{{.A1}}"`, a)
	},
	"IBAN %q: check digits do not match (mistyped?)": func(a map[string]any) string {
		return lang.X("core.iban.checksum", `IBAN "{{.A0}}": check digits do not match (mistyped?)`, a)
	},
	"expected an IBAN: the office collects itself (settings.collect_self)": func(a map[string]any) string {
		return lang.X("core.operator.iban", "expected an IBAN: the office collects itself (settings.collect_self)", a)
	},
	"expected a unit id of letters, digits, '.', '_' or '-', got %q": func(a map[string]any) string {
		return lang.X("core.unit.id", `expected a unit id of letters, digits, '.', '_' or '-', got "{{.A0}}"`, a)
	},
	"unit %q is defined twice": func(a map[string]any) string {
		return lang.X("core.unit.twice", `unit "{{.A0}}" is defined twice`, a)
	},
	"expected a positive area": func(a map[string]any) string {
		return lang.X("core.unit.area", "expected a positive area", a)
	},
	"expected a meter id of letters, digits, '.', '_' or '-', got %q": func(a map[string]any) string {
		return lang.X("core.meter.id", `expected a meter id of letters, digits, '.', '_' or '-', got "{{.A0}}"`, a)
	},
	"meter %q is defined twice": func(a map[string]any) string {
		return lang.X("core.meter.twice", `meter "{{.A0}}" is defined twice`, a)
	},
	"unknown role %q: expected one of %s": func(a map[string]any) string {
		return lang.X("core.meter.role", `unknown role "{{.A0}}": expected one of {{.A1}}`, a)
	},
	"a site has one grid meter; %q is a second one": func(a map[string]any) string {
		return lang.X("core.meter.grid", `a site has one grid meter; "{{.A0}}" is a second one`, a)
	},
	"expected the unit that meter %q belongs to": func(a map[string]any) string {
		return lang.X("core.meter.unit", `expected the unit that meter "{{.A0}}" belongs to`, a)
	},
	"unknown key %q: expected one of %s": func(a map[string]any) string {
		return lang.X("core.meter.key", `unknown key "{{.A0}}": expected one of {{.A1}}`, a)
	},
	"unit %q does not exist (define it under [[units]])": func(a map[string]any) string {
		return lang.X("core.unit.missing", `unit "{{.A0}}" does not exist (define it under [[units]])`, a)
	},
	`key "area" needs an area_m2 for every unit; unit %q has none`: func(a map[string]any) string {
		return lang.X("core.key.area", `key "area" needs an area_m2 for every unit; unit "{{.A0}}" has none`, a)
	},
	`key "quota" needs a quota for every unit; unit %q has none`: func(a map[string]any) string {
		return lang.X("core.key.quota", `key "quota" needs a quota for every unit; unit "{{.A0}}" has none`, a)
	},
	"expected a positive power in W": func(a map[string]any) string {
		return lang.X("core.meter.power", "expected a positive power in W", a)
	},
	"expected the meter's first day in service as a date such as 2026-07-01, got %s": func(a map[string]any) string {
		return lang.X("core.meter.since", "expected the meter's first day in service as a date such as 01.07.2026, got {{.A0}}", a)
	},
	"expected the unit's first day in service as a date such as 2026-07-01, got %s": func(a map[string]any) string {
		return lang.X("core.unit.since", "expected the unit's first day in service as a date such as 01.07.2026, got {{.A0}}", a)
	},
	"expected the meter's last day in service as a date such as 2026-06-30, got %s": func(a map[string]any) string {
		return lang.X("core.meter.retired", "expected the meter's last day in service as a date such as 30.06.2026, got {{.A0}}", a)
	},
	"expected the unit's last day in service as a date such as 2026-06-30, got %s": func(a map[string]any) string {
		return lang.X("core.unit.retired", "expected the unit's last day in service as a date such as 30.06.2026, got {{.A0}}", a)
	},
	"last day in service %s is before the first day in service %s": func(a map[string]any) string {
		return lang.X("core.service.order", "last day in service {{.A0}} is before the first day in service {{.A1}}", a)
	},
	"meter %q of unit %s must enter service on or after the unit's first day in service %s": func(a map[string]any) string {
		return lang.X("core.meter.sinceUnit", `meter "{{.A0}}" of unit {{.A1}} must enter service on or after the unit's first day in service {{.A2}}`, a)
	},
	"meter %q of unit %s must be retired by the unit's last day in service %s": func(a map[string]any) string {
		return lang.X("core.meter.retiredUnit", `meter "{{.A0}}" of unit {{.A1}} must be retired by the unit's last day in service {{.A2}}`, a)
	},
	"expected the tenant's name": func(a map[string]any) string {
		return lang.X("core.tenant.name", "expected the tenant's name", a)
	},
	"expected the first day of the tenancy (YYYY-MM-DD)": func(a map[string]any) string {
		return lang.X("core.tenant.from", "expected the first day of the tenancy (DD.MM.YYYY)", a)
	},
	"last day %s is before the first day %s": func(a map[string]any) string {
		return lang.X("core.tenant.order", "last day {{.A0}} is before the first day {{.A1}}", a)
	},
	"unit %s is in service from %s: the tenancy of %q cannot start on %s": func(a map[string]any) string {
		return lang.X("core.tenant.beforeUnit", `unit {{.A0}} is in service from {{.A1}}: the tenancy of "{{.A2}}" cannot start on {{.A3}}`, a)
	},
	"unit %s is retired after %s: a tenancy cannot start on %s": func(a map[string]any) string {
		return lang.X("core.tenant.afterUnit", "unit {{.A0}} is retired after {{.A1}}: a tenancy cannot start on {{.A2}}", a)
	},
	"unit %s is retired after %s: expected the tenancy of %q to end by then": func(a map[string]any) string {
		return lang.X("core.tenant.endUnit", `unit {{.A0}} is retired after {{.A1}}: expected the tenancy of "{{.A2}}" to end by then`, a)
	},
	"unknown language %q: expected de, fr, it or en": func(a map[string]any) string {
		return lang.X("core.tenant.language", `unknown language "{{.A0}}": expected de, fr, it or en`, a)
	},
	"tenancy of %q in unit %s overlaps tenants[%d] (%q, %s..open)": func(a map[string]any) string {
		return lang.X("core.tenant.overlapOpen", `tenancy of "{{.A0}}" in unit {{.A1}} overlaps tenants[{{.A2}}] ("{{.A3}}", {{.A4}}..open)`, a)
	},
	"tenancy of %q in unit %s overlaps tenants[%d] (%q, %s..%s)": func(a map[string]any) string {
		return lang.X("core.tenant.overlap", `tenancy of "{{.A0}}" in unit {{.A1}} overlaps tenants[{{.A2}}] ("{{.A3}}", {{.A4}}..{{.A5}})`, a)
	},
	"expected the first day the tariff applies (YYYY-MM-DD)": func(a map[string]any) string {
		return lang.X("core.tariff.from", "expected the first day the tariff applies (DD.MM.YYYY)", a)
	},
	"expected a price of zero or more": func(a map[string]any) string {
		return lang.X("core.tariff.price", "expected a price of zero or more", a)
	},
	"HT windows are set: expected grid_ht_chf_kwh and grid_nt_chf_kwh": func(a map[string]any) string {
		return lang.X("core.tariff.htPrices", "HT windows are set: expected grid_ht_chf_kwh and grid_nt_chf_kwh", a)
	},
	`grid_ht_chf_kwh and grid_nt_chf_kwh need the HT windows: expected ht = ["mon-fri 07:00-20:00", ...]`: func(a map[string]any) string {
		return lang.X("core.tariff.htWindows", `grid_ht_chf_kwh and grid_nt_chf_kwh need the HT windows: expected ht = ["mon-fri 07:00-20:00", ...]`, a)
	},
	"expected a grid price: either grid_chf_kwh, or grid_ht_chf_kwh, grid_nt_chf_kwh and ht": func(a map[string]any) string {
		return lang.X("core.tariff.grid", "expected a grid price: either grid_chf_kwh, or grid_ht_chf_kwh, grid_nt_chf_kwh and ht", a)
	},
	"a tariff has either a single grid price or HT/NT prices, not both": func(a map[string]any) string {
		return lang.X("core.tariff.both", "a tariff has either a single grid price or HT/NT prices, not both", a)
	},
	"expected a VAT rate between 0 and 25 %%": func(a map[string]any) string {
		return lang.X("core.tariff.vat", "expected a VAT rate between 0 and 25 %", a)
	},
	"expected a fee of zero or more": func(a map[string]any) string {
		return lang.X("core.fee", "expected a fee of zero or more", a)
	},
	"tariffs[%d] starts on the same day %s": func(a map[string]any) string {
		return lang.X("core.tariff.sameDay", "tariffs[{{.A0}}] starts on the same day {{.A1}}", a)
	},
	"expected a date YYYY-MM-DD": func(a map[string]any) string {
		return lang.X("core.holiday", "expected a date DD.MM.YYYY", a)
	},
	"unknown period %q: expected month, quarter, half or year": func(a map[string]any) string {
		return lang.X("core.period", `unknown period "{{.A0}}": expected month, quarter, half or year`, a)
	},
	"%d: expected 1 to 365 days": func(a map[string]any) string {
		return lang.X("core.days", "{{.A0}}: expected 1 to 365 days", a)
	},
	"%s: expected a fee of 0 or more": func(a map[string]any) string {
		return lang.X("core.reminderFee", "{{.A0}}: expected a fee of 0 or more", a)
	},
}
