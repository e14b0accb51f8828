package ui

import (
	"fyne.io/fyne/v2/lang"

	"github.com/zevdesk/zevdesk/ingest/importer"
)

// lockedMessage says which billed period a change touches and how to unlock
// it, with what changes in the window's language.
func lockedMessage(le *importer.LockedError) string {
	what := le.What
	if tr, ok := lockedChanges[le.WhatFormat]; ok {
		what = tr(validationArgs(le.WhatArgs))
	}
	return lang.X("forms.locked",
		"Not saved: {{.What}} changes the billed period {{.Period}}. Billed data stays as it was billed; to correct it, unlock the period first (zevdesk unlock --site {{.Site}} --from {{.From}} --to {{.To}} --reason \"...\"), then bill it again.",
		map[string]any{"What": what, "Period": period(le.Period), "Site": le.Site, "From": le.Period.From.String(), "To": le.Period.To.String()})
}

// lockedChanges translates each description of importer.CheckSiteLocks
// (LockedError.WhatFormat) with the arguments from validationArgs; the
// keys are literal for the catalogue test, and locked_test.go fails when
// the importer has a description this table lacks.
var lockedChanges = map[string]func(a map[string]any) string{
	"changing the allocation": func(a map[string]any) string {
		return lang.X("core.locked.allocation", "changing the allocation", a)
	},
	"changing the time zone": func(a map[string]any) string {
		return lang.X("core.locked.timezone", "changing the time zone", a)
	},
	"adding the holiday %s": func(a map[string]any) string {
		return lang.X("core.locked.holidayAdded", "adding the holiday {{.A0}}", a)
	},
	"removing the holiday %s": func(a map[string]any) string {
		return lang.X("core.locked.holidayRemoved", "removing the holiday {{.A0}}", a)
	},
	"changing the VAT number": func(a map[string]any) string {
		return lang.X("core.locked.vat", "changing the VAT number", a)
	},
	"the tenancy of %s in unit %s": func(a map[string]any) string {
		return lang.X("core.locked.tenancy", "the tenancy of {{.A0}} in unit {{.A1}}", a)
	},
	"removing the tenancy of %s in unit %s": func(a map[string]any) string {
		return lang.X("core.locked.tenancyRemoved", "removing the tenancy of {{.A0}} in unit {{.A1}}", a)
	},
	"the tariff version from %s": func(a map[string]any) string {
		return lang.X("core.locked.tariff", "the tariff version from {{.A0}}", a)
	},
	"removing the tariff version from %s": func(a map[string]any) string {
		return lang.X("core.locked.tariffRemoved", "removing the tariff version from {{.A0}}", a)
	},
	"removing unit %s": func(a map[string]any) string {
		return lang.X("core.locked.unitRemoved", "removing unit {{.A0}}", a)
	},
	"changing the area, quota or weight of unit %s": func(a map[string]any) string {
		return lang.X("core.locked.unitKeys", "changing the area, quota or weight of unit {{.A0}}", a)
	},
	"changing the first day in service of unit %s": func(a map[string]any) string {
		return lang.X("core.locked.unitSince", "changing the first day in service of unit {{.A0}}", a)
	},
	"changing the last day in service of unit %s": func(a map[string]any) string {
		return lang.X("core.locked.unitRetired", "changing the last day in service of unit {{.A0}}", a)
	},
	"removing meter %s": func(a map[string]any) string {
		return lang.X("core.locked.meterRemoved", "removing meter {{.A0}}", a)
	},
	"changing the role, unit or key of meter %s": func(a map[string]any) string {
		return lang.X("core.locked.meterKeys", "changing the role, unit or key of meter {{.A0}}", a)
	},
	"changing the first day in service of meter %s": func(a map[string]any) string {
		return lang.X("core.locked.meterSince", "changing the first day in service of meter {{.A0}}", a)
	},
	"changing the last day in service of meter %s": func(a map[string]any) string {
		return lang.X("core.locked.meterRetired", "changing the last day in service of meter {{.A0}}", a)
	},
}
