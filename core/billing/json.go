package billing

import (
	"encoding/json"
	"strconv"

	"github.com/zevdesk/zevdesk/core"
)

// The JSON form of a run is DESIGN.md's `bill --json` object. Amounts are
// CHF as decimal strings with two places, energy is kWh as exact JSON
// numbers (never float formatting).

type jsonRun struct {
	Site       string          `json:"site"`
	From       core.Date       `json:"from"`
	To         core.Date       `json:"to"`
	Allocation core.Allocation `json:"allocation"`
	Building   jsonBuilding    `json:"building"`
	Invoices   []jsonInvoice   `json:"invoices"`
	Missing    []jsonMissing   `json:"missing,omitempty"`
	Warnings   []string        `json:"warnings,omitempty"`
}

type jsonBuilding struct {
	Production      json.Number `json:"production_kwh"`
	SelfConsumed    json.Number `json:"self_consumed_kwh"`
	FedIn           json.Number `json:"fed_in_kwh"`
	Grid            json.Number `json:"grid_kwh"`
	Consumption     json.Number `json:"consumption_kwh"`
	GridMeterImport json.Number `json:"grid_meter_import_kwh"`
	GridMeterExport json.Number `json:"grid_meter_export_kwh"`
	Difference      json.Number `json:"difference_kwh"`
	Redistributed   json.Number `json:"redistributed_kwh"`
	Estimated       json.Number `json:"estimated_kwh"`
	Intervals       int         `json:"intervals"`
}

type jsonMissing struct {
	Meter     string `json:"meter"`
	Channel   string `json:"channel"`
	Intervals int    `json:"intervals"`
	First     string `json:"first"`
	// Unknown: a consumer meter without any value in the period, whose
	// missing energy nothing sizes (Missing.Unknown).
	Unknown bool `json:"unknown,omitempty"`
}

type jsonKWh struct {
	Solar  json.Number `json:"solar"`
	Grid   json.Number `json:"grid"`
	GridHT json.Number `json:"grid_ht"`
	GridNT json.Number `json:"grid_nt"`
	Total  json.Number `json:"total"`
}

type jsonLine struct {
	Kind     LineKind     `json:"kind"`
	Class    LineKind     `json:"class,omitempty"`
	Label    string       `json:"label"`
	Quantity *json.Number `json:"quantity"`
	Unit     string       `json:"unit"`
	Price    string       `json:"price"`
	Amount   string       `json:"amount"`
}

type jsonInvoice struct {
	Number    *int        `json:"number"`
	Key       string      `json:"key"`
	Unit      string      `json:"unit"`
	Tenant    string      `json:"tenant"`
	Owner     bool        `json:"owner,omitempty"`
	From      core.Date   `json:"from"`
	To        core.Date   `json:"to"`
	KWh       jsonKWh     `json:"kwh"`
	Lines     []jsonLine  `json:"lines"`
	Net       string      `json:"net"`
	VAT       string      `json:"vat"`
	Rounding  string      `json:"rounding"`
	Total     string      `json:"total"`
	Advance   string      `json:"advance"`
	Balance   string      `json:"balance"`
	Estimated json.Number `json:"estimated_kwh"`
}

func kwh(e core.Energy) json.Number { return json.Number(core.FormatKWh(e)) }

// MarshalJSON encodes r as DESIGN.md's `bill --json` object: site, from, to,
// building, invoices (number null for drafts), plus allocation, missing and
// warnings.
func (r *Run) MarshalJSON() ([]byte, error) {
	b := r.Building
	j := jsonRun{Site: r.Site, From: r.Period.From, To: r.Period.To, Allocation: r.Allocation, Warnings: r.Warnings,
		Building: jsonBuilding{
			Production: kwh(b.Production), SelfConsumed: kwh(b.SelfConsumed), FedIn: kwh(b.FedIn),
			Grid: kwh(b.Grid), Consumption: kwh(b.Consumption), GridMeterImport: kwh(b.GridMeterImport),
			GridMeterExport: kwh(b.GridMeterExport), Difference: kwh(b.Difference),
			Redistributed: kwh(b.Redistributed), Estimated: kwh(b.Estimated), Intervals: b.Slots,
		},
		Invoices: []jsonInvoice{},
	}
	for _, m := range r.Missing {
		j.Missing = append(j.Missing, jsonMissing{m.Meter, m.Channel.String(), m.Slots, m.First.String(), m.Unknown})
	}
	for _, inv := range r.Invoices {
		ji := jsonInvoice{Key: inv.Key, Unit: inv.Unit, Tenant: inv.Tenant, Owner: inv.Owner, From: inv.From, To: inv.To,
			KWh:   jsonKWh{kwh(inv.KWh.Solar), kwh(inv.KWh.Grid), kwh(inv.KWh.GridHT), kwh(inv.KWh.GridNT), kwh(inv.KWh.Total)},
			Lines: []jsonLine{}, Net: inv.Net.String(), VAT: inv.VAT.String(), Rounding: inv.Rounding.String(),
			Total: inv.Total.String(), Advance: inv.Advance.String(), Balance: inv.Balance.String(),
			Estimated: kwh(inv.EstimatedKWh)}
		if inv.Number != 0 {
			n := inv.Number
			ji.Number = &n
		}
		for _, l := range inv.Lines {
			q, unit, price := l.Quantity()
			jl := jsonLine{Kind: l.Kind, Class: l.Class, Label: l.Label, Unit: unit, Price: price, Amount: l.Amount.String()}
			if q != "" {
				n := json.Number(q)
				jl.Quantity = &n
			}
			ji.Lines = append(ji.Lines, jl)
		}
		j.Invoices = append(j.Invoices, ji)
	}
	return json.Marshal(j)
}

// Quantity returns the line's quantity, its unit and its unit price as
// exact decimal strings for printing: "12.345", "kWh", "0.20" for energy
// lines (price per kWh, empty where it varies), "31", "days", "5.00/month"
// for fee lines, "123.45", "CHF", "8.1 %" for VAT lines, and empty strings
// for lines that are an amount only.
func (l Line) Quantity() (quantity, unit, price string) {
	switch {
	case l.Kind == KindVAT:
		return l.Base.String(), "CHF", l.Rate.String() + " %"
	case l.Days != 0 || l.Fee != 0:
		p := l.Fee.String() + "/month"
		if l.Count > 1 {
			p = strconv.Itoa(l.Count) + " × " + p
		}
		return strconv.Itoa(l.Days), "days", p
	case l.Kind.Charge():
		p := ""
		if l.Price != 0 {
			p = l.Price.String()
		}
		return core.FormatKWh(l.Energy), "kWh", p
	}
	return "", "", ""
}
