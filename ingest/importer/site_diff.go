package importer

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/zevdesk/zevdesk/core"
)

// SiteDiff summarises in one line what changed from old to new, for the
// audit log: "name changed; units +W04; meters +M-W04 ~ALLG; tenants 3→4;
// tariffs +2027-01-01", or "no changes".
func SiteDiff(old, new *core.Site) string {
	var parts []string
	field := func(name string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			parts = append(parts, name+" changed")
		}
	}
	field("name", old.Name, new.Name)
	field("timezone", old.Timezone, new.Timezone)
	field("allocation", old.Allocation, new.Allocation)
	field("vat_number", old.VATNumber, new.VATNumber)
	field("owner", []any{old.Owner, old.OwnerAddress}, []any{new.Owner, new.OwnerAddress})
	field("address", old.Address, new.Address)
	field("operator", old.Operator, new.Operator)
	parts = appendIDDiff(parts, "units", old.Units, new.Units, func(u core.Unit) string { return u.ID })
	parts = appendIDDiff(parts, "meters", old.Meters, new.Meters, func(m core.Meter) string { return m.ID })
	if !reflect.DeepEqual(old.Occupancies, new.Occupancies) {
		parts = append(parts, fmt.Sprintf("tenants %d→%d changed", len(old.Occupancies), len(new.Occupancies)))
	}
	parts = appendIDDiff(parts, "tariffs", old.Tariffs, new.Tariffs, func(t core.Tariff) string { return t.From.String() })
	if !reflect.DeepEqual(old.Holidays, new.Holidays) {
		parts = append(parts, fmt.Sprintf("holidays %d→%d changed", len(old.Holidays), len(new.Holidays)))
	}
	field("settings", old.Settings, new.Settings)
	if len(parts) == 0 {
		return "no changes"
	}
	return strings.Join(parts, "; ")
}

// appendIDDiff lists the elements added (+), removed (-) and changed (~),
// matched by id.
func appendIDDiff[T any](parts []string, name string, old, new []T, id func(T) string) []string {
	byID := make(map[string]T, len(old))
	for _, v := range old {
		byID[id(v)] = v
	}
	var ch []string
	seen := map[string]bool{}
	for _, v := range new {
		k := id(v)
		seen[k] = true
		o, ok := byID[k]
		switch {
		case !ok:
			ch = append(ch, "+"+k)
		case !reflect.DeepEqual(o, v):
			ch = append(ch, "~"+k)
		}
	}
	for _, v := range old {
		if !seen[id(v)] {
			ch = append(ch, "-"+id(v))
		}
	}
	if len(ch) == 0 {
		return parts
	}
	return append(parts, name+" "+strings.Join(ch, " "))
}
