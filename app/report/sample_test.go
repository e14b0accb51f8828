package report

import (
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

func kwh(v float64) core.Energy { return core.Energy(v * float64(core.KWh)) }

func bp(v core.BasisPoints) *core.BasisPoints { return &v }

// sampleSite is the DESIGN.md example site, collecting itself with a QR-IBAN.
func sampleSite() *core.Site {
	return &core.Site{
		ID: "birkenweg", Name: "ZEV Birkenweg 12", Timezone: "Europe/Zurich", Allocation: core.AllocProportional,
		VATNumber: "CHE-123.456.789 MWST",
		Address:   core.Address{Street: "Birkenweg", Number: "12", Postcode: "3012", Town: "Bern", Country: "CH"},
		Operator: core.Operator{Name: "Immo Muster AG", Address: core.Address{Street: "Marktgasse", Number: "5", Postcode: "3011", Town: "Bern", Country: "CH"},
			IBAN: "CH44 3199 9123 0008 8901 2", Email: "zev@immo-muster.ch", Phone: "031 123 45 67"},
		Units: []core.Unit{{ID: "W01", Name: "2.5 Zimmer EG links", Area: 6250}, {ID: "W02", Name: "4.5 Zimmer 1. OG", Area: 10400}},
		Meters: []core.Meter{
			{ID: "PV", Role: core.RoleProduction}, {ID: "GRID", Role: core.RoleGrid},
			{ID: "M-W01", Role: core.RoleUnit, Unit: "W01"}, {ID: "M-W02", Role: core.RoleUnit, Unit: "W02"},
			{ID: "ALLG", Role: core.RoleCommon, Key: core.KeyArea},
		},
		Occupancies: []core.Occupancy{
			{Unit: "W01", Name: "Anna Müller-Lüthi", From: core.MustDate(2025, 4, 1), Language: "de", Reference: "1001.01", AdvanceMonth: 40 * core.CHF},
			{Unit: "W02", Name: "Élodie Rochat", From: core.MustDate(2024, 1, 1), Language: "fr"},
		},
		Tariffs: []core.Tariff{{
			From: core.MustDate(2026, 1, 1), Solar: 200_000, GridHT: 300_000, GridNT: 220_000,
			HT:           []core.Window{{Days: [7]bool{false, true, true, true, true, true, false}, Start: 420, End: 1200}},
			BaseFeeMonth: 500, MeteringMonth: 300, VAT: bp(810), Standard: 310_000,
		}},
		Settings: core.Settings{CollectSelf: true},
	}
}

// sampleInvoice is a quarter's invoice for W01 as billing produces it.
func sampleInvoice(site *core.Site, lang string) billing.Invoice {
	occ := site.Occupancies[0]
	occ.Language = lang
	start, end := kwh(12345.6), kwh(13018.4)
	p := core.Period{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 3, 31)}
	loc, _ := time.LoadLocation("Europe/Zurich")
	inv := billing.Invoice{
		Number: 42, Key: "occ:W01:Anna Müller-Lüthi:2025-04-01", Site: site.ID, Unit: "W01", Tenant: occ.Name, Occupancy: occ,
		From: p.From, To: p.To,
		KWh:          billing.KWh{Solar: kwh(241.3), GridHT: kwh(301.2), GridNT: kwh(171.9), Grid: kwh(473.1), Total: kwh(714.4)},
		EstimatedKWh: kwh(3.25),
		Readings: []billing.MeterReadings{{Meter: "M-W01", Readings: billing.Readings{
			Start: &store.Register{Time: p.From.Midnight(loc).UTC(), Import: start},
			End:   &store.Register{Time: p.To.AddDays(1).Midnight(loc).UTC(), Import: end},
		}}},
	}
	lines := []billing.Line{
		{Kind: billing.KindSolar, Class: billing.KindSolar, Label: "Solar energy", Energy: kwh(220.1), Price: 200_000, Rate: 810, Amount: 4402},
		{Kind: billing.KindGridHT, Class: billing.KindGridHT, Label: "Grid energy HT", Energy: kwh(290.0), Price: 300_000, Rate: 810, Amount: 8700},
		{Kind: billing.KindGridNT, Class: billing.KindGridNT, Label: "Grid energy NT", Energy: kwh(165.0), Price: 220_000, Rate: 810, Amount: 3630},
		{Kind: billing.KindCommon, Class: billing.KindSolar, Label: "General electricity: solar energy", Energy: kwh(21.2), Price: 200_000, Rate: 810, Amount: 424},
		{Kind: billing.KindCommon, Class: billing.KindGridHT, Label: "General electricity: grid energy HT", Energy: kwh(11.2), Price: 300_000, Rate: 810, Amount: 336},
		{Kind: billing.KindCommon, Class: billing.KindGridNT, Label: "General electricity: grid energy NT", Energy: kwh(6.9), Price: 220_000, Rate: 810, Amount: 152},
		{Kind: billing.KindBaseFee, Label: "Base fee", Days: 90, Fee: 500, Count: 1, Rate: 810, Amount: 1500},
		{Kind: billing.KindMetering, Label: "Metering", Days: 90, Fee: 300, Count: 1, Rate: 810, Amount: 900},
	}
	var net core.Rappen
	for _, l := range lines {
		net += l.Amount
	}
	vat := core.Rappen(core.DivRound(int64(net)*810, 10000))
	inv.Net, inv.VAT, inv.Total = net, vat, net+vat
	inv.Advance = 120 * core.CHF
	inv.Balance = inv.Total - inv.Advance
	lines = append(lines,
		billing.Line{Kind: billing.KindSubtotal, Label: "Subtotal", Amount: net},
		billing.Line{Kind: billing.KindVAT, Label: "VAT 8.1 %", Rate: 810, Base: net, Amount: vat},
		billing.Line{Kind: billing.KindTotal, Label: "Total", Amount: inv.Total},
		billing.Line{Kind: billing.KindAdvance, Label: "Advance payments", Days: 90, Fee: 40 * core.CHF, Amount: -inv.Advance},
		billing.Line{Kind: billing.KindBalance, Label: "Balance", Amount: inv.Balance},
	)
	inv.Lines = lines
	return inv
}

func sampleRun(site *core.Site, invs ...billing.Invoice) *billing.Run {
	return &billing.Run{
		Site: site.ID, Period: core.Period{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 3, 31)},
		Allocation: core.AllocProportional,
		Building: billing.Building{Production: kwh(2950.4), SelfConsumed: kwh(1830.7), FedIn: kwh(1119.7),
			Grid: kwh(2811.0), Consumption: kwh(4641.7), Slots: 8636},
		Invoices: invs,
	}
}

func sampleBars() []Bar {
	return []Bar{
		{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 1, 31), Solar: kwh(52.4), Grid: kwh(201.7)},
		{From: core.MustDate(2026, 2, 1), To: core.MustDate(2026, 2, 28), Solar: kwh(77.0), Grid: kwh(151.2)},
		{From: core.MustDate(2026, 3, 1), To: core.MustDate(2026, 3, 31), Solar: kwh(111.9), Grid: kwh(120.2)},
	}
}

// sampleInsert is the W01 invoice in lang, with chart and QR-bill.
func sampleInsert(lang string) *Insert {
	site := sampleSite()
	inv := sampleInvoice(site, lang)
	in, err := FromInvoice(site, sampleRun(site, inv), &inv, core.MustDate(2026, 4, 7), sampleBars())
	if err != nil {
		panic(err)
	}
	return in
}
