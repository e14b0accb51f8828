package sim

import (
	"fmt"
	"time"

	"github.com/zevdesk/zevdesk/core"
)

// residents are the tenants of the simulated building: a Bernese mix of
// German, French, Italian and English speakers.
var residents = []struct{ name, lang string }{
	{"Anna Müller", "de"}, {"Sophie Dubois", "fr"}, {"Thomas Meier", "de"}, {"Marco Bernasconi", "it"},
	{"Peter Keller", "de"}, {"Claire Rochat", "fr"}, {"Daniela Schneider", "de"}, {"James Walker", "en"},
	{"Luca Bianchi", "it"}, {"Ursula Zbinden", "de"}, {"Luc Favre", "fr"}, {"Reto Gerber", "de"},
	{"Emily Carter", "en"}, {"Nadia Ferrari", "it"}, {"Hans Stucki", "de"}, {"Chantal Perrin", "fr"},
}

// newTenant moves into the unit that changes tenant.
var newTenant = struct{ name, lang string }{"Giulia Rossi", "it"}

// Site returns the simulated building as a zevdesk site with the given id:
// its units and meters (with the simulator's meter ids), tenants (one tenant
// change with a month of vacancy about six months after Epoch), an HT/NT
// tariff from the first of January of Epoch's year, the Bernese holidays,
// and an operator with a QR-IBAN. It passes Validate.
func (b *Building) Site(id string) *core.Site {
	epoch := core.DateOf(b.cfg.Epoch.In(b.loc))
	tariffFrom := core.MustDate(epoch.Year, 1, 1)
	vat := core.BasisPoints(810)
	s := &core.Site{
		ID:         id,
		Name:       "ZEV Lorrainestrasse 24",
		Timezone:   b.loc.String(),
		Allocation: core.AllocProportional,
		VATNumber:  "CHE-123.456.789 MWST",
		Address:    core.Address{Street: "Lorrainestrasse", Number: "24", Postcode: "3013", Town: "Bern", Country: "CH"},
		Operator: core.Operator{
			Name:    "Immo Muster AG",
			Address: core.Address{Street: "Marktgasse", Number: "5", Postcode: "3011", Town: "Bern", Country: "CH"},
			IBAN:    "CH44 3199 9123 0008 8901 2",
			Email:   "zev@immo-muster.ch",
			Phone:   "+41 31 123 45 67",
		},
		Tariffs: []core.Tariff{{
			From:          tariffFrom,
			Solar:         200_000,
			GridHT:        300_000,
			GridNT:        220_000,
			HT:            []core.Window{mustWindow("mon-fri 07:00-20:00"), mustWindow("sat 07:00-13:00")},
			BaseFeeMonth:  5 * core.CHF,
			MeteringMonth: 3 * core.CHF,
			VAT:           &vat,
			Standard:      315_000,
		}},
		Settings: core.Settings{Period: "quarter", CollectSelf: true},
	}
	if s.Timezone == "" || s.Timezone == "Local" {
		s.Timezone = "Europe/Zurich"
	}
	for y := epoch.Year - 1; y <= epoch.Year+2; y++ {
		s.Holidays = append(s.Holidays, Holidays(y)...)
	}
	for i, u := range b.units {
		s.Units = append(s.Units, core.Unit{ID: u.id, Name: u.name, Area: u.areaCm2, Quota: u.areaCm2 / 10, Weight: 1})
		moved := time.Date(epoch.Year-1-i%5, time.Month(1+(i*5)%12), 1, 0, 0, 0, 0, time.UTC)
		r := residents[i%len(residents)]
		o := core.Occupancy{
			Unit: u.id, Name: r.name, From: core.DateOf(moved), Language: r.lang,
			Reference:    fmt.Sprintf("%d.%02d", 1000+i/len(residents), i%len(residents)+1),
			Address:      core.Address{Street: "Lorrainestrasse", Number: "24", Postcode: "3013", Town: "Bern", Country: "CH"},
			AdvanceMonth: core.Rappen(2000 + 1000*u.occupants),
		}
		if i == changeUnit(len(b.units)) {
			last, _, _, newFrom := tenantChange(epoch)
			o.To = last
			s.Occupancies = append(s.Occupancies, o)
			o = core.Occupancy{Unit: u.id, Name: newTenant.name, From: newFrom, Language: newTenant.lang,
				Reference: fmt.Sprintf("%d.%02d", 2000, i+1), Address: o.Address, AdvanceMonth: o.AdvanceMonth}
		}
		s.Occupancies = append(s.Occupancies, o)
	}
	for _, m := range b.meters {
		cm := core.Meter{ID: m.info.ID, Name: m.info.Name, Role: m.info.Role, Unit: m.info.Unit, MaxPowerW: m.info.MaxPowerW}
		switch m.kind {
		case kindCommon:
			cm.Key = core.KeyArea
		case kindHeatPump:
			cm.Key = core.KeyArea
		}
		s.Meters = append(s.Meters, cm)
	}
	return s
}

func mustWindow(s string) core.Window {
	w, err := core.ParseWindow(s)
	if err != nil {
		panic(err)
	}
	return w
}
