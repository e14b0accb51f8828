package core

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func validSite() *Site {
	vat := BasisPoints(810)
	return &Site{
		ID: "birkenweg", Name: "ZEV Birkenweg 12", Timezone: "Europe/Zurich",
		Operator: Operator{Name: "Immo Muster AG", IBAN: "CH44 3199 9123 0008 8901 2"},
		Units:    []Unit{{ID: "W01", Area: 6250}, {ID: "W02", Area: 8000}},
		Meters: []Meter{
			{ID: "PV", Role: RoleProduction}, {ID: "GRID", Role: RoleGrid},
			{ID: "M-W01", Role: RoleUnit, Unit: "W01"}, {ID: "ALLG", Role: RoleCommon, Key: KeyArea},
		},
		Occupancies: []Occupancy{
			{Unit: "W01", Name: "Anna Muster", From: MustDate(2026, 1, 1), To: MustDate(2026, 2, 14)},
			{Unit: "W01", Name: "Beat Beispiel", From: MustDate(2026, 2, 15)},
		},
		Tariffs: []Tariff{{From: MustDate(2026, 1, 1), Solar: 200_000, GridHT: 300_000, GridNT: 220_000,
			HT: []Window{{Days: [7]bool{false, true, true, true, true, true, false}, Start: 420, End: 1200}}, VAT: &vat}},
	}
}

func TestValidate(t *testing.T) {
	if err := validSite().Validate(); err != nil {
		t.Fatalf("valid site refused: %v", err)
	}
	for _, tc := range []struct {
		name    string
		mutate  func(s *Site)
		element string
		msg     string
	}{
		{"unknown role", func(s *Site) { s.Meters[0].Role = "pv" }, "meters[0].role", `unknown role "pv"`},
		{"missing unit", func(s *Site) { s.Meters[2].Unit = "W09" }, "meters[2].unit", `unit "W09" does not exist`},
		{"overlap", func(s *Site) { s.Occupancies[1].From = MustDate(2026, 2, 14) }, "tenants[1].from", "overlaps tenants[0]"},
		{"no price", func(s *Site) { s.Tariffs[0].HT = nil; s.Tariffs[0].GridHT, s.Tariffs[0].GridNT = 0, 0 }, "tariffs[0]", "expected a grid price"},
		{"bad iban", func(s *Site) { s.Operator.IBAN = "CH44 3199 9123 0008 8901 3" }, "operator.iban", "check digits"},
		{"bad zone", func(s *Site) { s.Timezone = "Europe/Bern" }, "timezone", "unknown time zone"},
		{"area key without area", func(s *Site) { s.Units[1].Area = 0 }, "meters[3].key", `unit "W02" has none`},
		{"to before from", func(s *Site) { s.Occupancies[0].To = MustDate(2025, 12, 1) }, "tenants[0].to", "before the first day"},
		{"language", func(s *Site) { s.Occupancies[0].Language = "rm" }, "tenants[0].language", "expected de, fr, it or en"},
		{"retired not a day", func(s *Site) { s.Meters[2].Retired = Date{Year: 2026, Month: 2, Day: 30} }, "meters[2].retired", "last day in service"},
		{"country name", func(s *Site) { s.Operator.Country = "Schweiz" }, "operator.country", `ISO 3166-1 alpha-2 country code such as CH, got "Schweiz"`},
		{"lower-case country", func(s *Site) { s.Address.Country = "ch" }, "address.country", `got "ch"`},
		{"tenant's country", func(s *Site) { s.Occupancies[1].Address.Country = "Suisse" }, "tenants[1].address.country", `got "Suisse"`},
		{"negative metering fee", func(s *Site) { s.Tariffs[0].MeteringMonth = -300 }, "tariffs[0].metering_chf_month", "expected a fee of zero or more"},
		{"owner's country", func(s *Site) { s.Owner = "Erbengemeinschaft Muster"; s.OwnerAddress.Country = "Schweiz" }, "owner.country", `got "Schweiz"`},
		{"owner address without a name", func(s *Site) { s.OwnerAddress.Town = "Bern" }, "owner.name", "expected the owner's name"},
		{"two grid meters", func(s *Site) { s.Meters[0].Role = RoleGrid }, "meters[1].role", "one grid meter"},
		{"meter since not a day", func(s *Site) { s.Meters[2].Since = Date{Year: 2026, Month: 13, Day: 1} }, "meters[2].since", "first day in service"},
		{"meter retired before its first day", func(s *Site) { s.Meters[3].Since = MustDate(2026, 7, 1); s.Meters[3].Retired = MustDate(2026, 6, 30) },
			"meters[3].retired", "last day in service 2026-06-30 is before the first day in service 2026-07-01"},
		{"new unit's meter from the start", func(s *Site) {
			s.Units[1].Since = MustDate(2026, 7, 1)
			s.Meters = append(s.Meters, Meter{ID: "M-W02", Role: RoleUnit, Unit: "W02"})
		},
			"meters[4].since", `meter "M-W02" of unit W02 must enter service on or after the unit's first day in service 2026-07-01`},
		{"tenancy before a unit's first day", func(s *Site) { s.Units[0].Since = MustDate(2026, 2, 1); s.Meters[2].Since = MustDate(2026, 2, 1) },
			"tenants[0].from", `unit W01 is in service from 2026-02-01: the tenancy of "Anna Muster" cannot start on 2026-01-01`},
		{"unit retired not a day", func(s *Site) { s.Units[1].Retired = Date{Year: 2026, Month: 2, Day: 30} }, "units[1].retired", "last day in service"},
		{"retired unit's meter in service", func(s *Site) { s.Units[0].Retired = MustDate(2026, 3, 31); s.Occupancies[1].To = MustDate(2026, 3, 31) },
			"meters[2].retired", `meter "M-W01" of unit W01 must be retired by the unit's last day in service 2026-03-31`},
		{"retired unit's meter retired later", func(s *Site) {
			s.Units[0].Retired = MustDate(2026, 3, 31)
			s.Meters[2].Retired = MustDate(2026, 4, 1)
			s.Occupancies[1].To = MustDate(2026, 3, 31)
		}, "meters[2].retired", "must be retired by the unit's last day"},
		{"open tenancy in a retired unit", func(s *Site) { s.Units[0].Retired = MustDate(2026, 3, 31); s.Meters[2].Retired = MustDate(2026, 3, 31) },
			"tenants[1].to", `unit W01 is retired after 2026-03-31: expected the tenancy of "Beat Beispiel" to end by then`},
		{"tenancy after a unit's last day", func(s *Site) {
			s.Units[0].Retired = MustDate(2026, 2, 10)
			s.Meters[2].Retired = MustDate(2026, 2, 10)
			s.Occupancies[0].To = MustDate(2026, 2, 10)
			s.Occupancies[1].To = MustDate(2026, 3, 1)
		}, "tenants[1].from", "a tenancy cannot start on 2026-02-15"},
		{"overlap with an open tenancy", func(s *Site) {
			s.Occupancies = append(s.Occupancies, Occupancy{Unit: "W01", Name: "Dora", From: MustDate(2026, 3, 1)})
		},
			"tenants[2].from", `tenancy of "Dora" in unit W01 overlaps tenants[1] ("Beat Beispiel", 2026-02-15..open)`},
		{"unit since not a day", func(s *Site) { s.Units[0].Since = Date{Year: 2026, Month: 2, Day: 30} },
			"units[0].since", "expected the unit's first day in service as a date such as 2026-07-01, got 2026-02-30"},
		{"meter retired not a day", func(s *Site) { s.Meters[1].Retired = Date{Year: 2026, Month: 4, Day: 31} },
			"meters[1].retired", "expected the meter's last day in service as a date such as 2026-06-30, got 2026-04-31"},
		{"iban length", func(s *Site) { s.Operator.IBAN = "CH44 3199" }, "operator.iban", `IBAN "CH44 3199": expected 21 characters for CH or LI, got 8`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := validSite()
			tc.mutate(s)
			err := s.Validate()
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a ValidationError", err)
			}
			if ve.Element != tc.element || !strings.Contains(ve.Msg, tc.msg) {
				t.Errorf("got %q: %q, want %q containing %q", ve.Element, ve.Msg, tc.element, tc.msg)
			}
			// A user interface translates Format and formats Args itself.
			if ve.Format == "" || fmt.Sprintf(ve.Format, ve.Args...) != ve.Msg {
				t.Errorf("format %q with %v does not give the message %q", ve.Format, ve.Args, ve.Msg)
			}
		})
	}
}

func TestParseWindow(t *testing.T) {
	w, err := ParseWindow("mon-fri 07:00-20:00")
	if err != nil {
		t.Fatal(err)
	}
	loc := time.UTC
	if !w.Contains(time.Date(2026, 11, 27, 7, 0, 0, 0, loc)) { // a Friday
		t.Error("Friday 07:00 not in HT")
	}
	if w.Contains(time.Date(2026, 11, 27, 20, 0, 0, 0, loc)) {
		t.Error("Friday 20:00 in HT: the end is exclusive")
	}
	if w.Contains(time.Date(2026, 11, 28, 10, 0, 0, 0, loc)) {
		t.Error("Saturday in a mon-fri window")
	}
	if w.String() != "mon-fri 07:00-20:00" {
		t.Errorf("String() = %q", w.String())
	}
	if w, err := ParseWindow("sat 07:00-13:00"); err != nil || w.String() != "sat 07:00-13:00" {
		t.Errorf("sat window: %v %q", err, w.String())
	}
	if w, err := ParseWindow("fri-mon 00:00-24:00"); err != nil || !w.Days[time.Sunday] || w.Days[time.Wednesday] {
		t.Errorf("wrapping range: %v %+v", err, w.Days)
	}
	for _, bad := range []string{"mon-fri", "mon-fri 07:00", "xyz 07:00-20:00", "mon 20:00-07:00", "mon 7:00-20:00", "mon 07:00-25:00"} {
		if _, err := ParseWindow(bad); !errors.Is(err, ErrWindowSyntax) {
			t.Errorf("ParseWindow(%q) = %v, want ErrWindowSyntax", bad, err)
		}
	}
}
