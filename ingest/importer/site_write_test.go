package importer

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// richSite uses every key of the site file, with strings that need quoting.
const richSite = `id = "linde"
name = "ZEV \"Linde\" Zürich \\ Nord"
timezone = "Europe/Zurich"
allocation = "equal"
vat_number = "CHE-123.456.789 MWST"
holidays = [2026-01-01, 2026-08-01]

[address]
street = "Lindenweg"
number = "3a"
postcode = "8000"
town = "Zürich"
country = "CH"

[operator]
name = "Linde Verwaltung"
street = "Marktgasse"
number = "5"
postcode = "3011"
town = "Bern"
country = "CH"
iban = "CH44 3199 9123 0008 8901 2"
email = "office@example.ch"
phone = "+41 31 000 00 00"

[owner]
name = "Erbengemeinschaft Linde"
street = "Seestrasse"
number = "1"
postcode = "6000"
town = "Luzern"
country = "CH"

[[units]]
id = "A"
name = "3.5 Zimmer, 1. OG"
area_m2 = 80.25
quota = 420
weight = 3
[[units]]
id = "B"
area_m2 = 100
quota = 580
[[units]]
id = "H"
name = "Hobbyraum, merged into B"
area_m2 = 12
quota = 1
retired = 2025-12-31

[[meters]]
id = "G"
role = "grid"
metering_point = "CH1007001234500000000000000012345"
[[meters]]
id = "PV"
role = "production"
[[meters]]
id = "MA"
name = "Zähler A"
role = "unit"
unit = "A"
max_power_w = 11000
[[meters]]
id = "WP"
role = "heatpump"
key = "quota"
since = 2025-03-01
[[meters]]
id = "ALLG"
role = "common"
retired = 2026-09-30

[[tenants]]
unit = "A"
name = "Chloé Martin"
from = 2026-01-01
to = 2026-06-30
language = "fr"
reference = "M-1001"
email = "chloe@example.ch"
advance_chf_month = 45.50
[tenants.address]
street = "Lindenweg"
number = "3"
postcode = "8000"
town = "Zürich"
country = "CH"
[[tenants]]
unit = "B"
name = "Hans Muster"
from = 2026-02-01

[[tariffs]]
from = 2026-01-01
solar_chf_kwh = 0.1875
grid_ht_chf_kwh = 0.30
grid_nt_chf_kwh = 0.215
ht = ["mon-fri 07:00-20:00", "sat 07:00-13:00"]
base_fee_chf_month = 5
metering_chf_month = 3.25
vat_percent = 0
standard_chf_kwh = 0.3125
[[tariffs]]
from = 2025-01-01
solar_chf_kwh = 0.18
grid_chf_kwh = 0.27
vat_percent = 8.1

[settings]
period = "quarter"
collect_self = true
refuse_missing = true
round_to_5 = true
redistribute = true
balance_tolerance_percent = 2.5
`

func exportSite(t *testing.T, s *core.Site) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteSite(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSiteExportRoundTrip: a site file read, stored in one database,
// exported, imported into a fresh database and exported again gives the
// same bytes and the same site: what `site export` writes, `site import`
// reads back unchanged.
func TestSiteExportRoundTrip(t *testing.T) {
	parsed, err := ParseSite("linde.toml", strings.NewReader(richSite))
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Owner != "Erbengemeinschaft Linde" || parsed.OwnerAddress.Town != "Luzern" {
		t.Fatalf("owner = %q %+v", parsed.Owner, parsed.OwnerAddress)
	}
	now := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	stored := func(s *core.Site) *core.Site {
		st, err := bolt.Open(filepath.Join(t.TempDir(), "office.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, err := ImportSite(st, s, "test", now); err != nil {
			t.Fatal(err)
		}
		var got *core.Site
		if err := st.View(func(tx store.Tx) error { got, err = tx.Site(s.ID); return err }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	first := stored(parsed)
	out1 := exportSite(t, first)
	again, err := ParseSite("export.toml", bytes.NewReader(out1))
	if err != nil {
		t.Fatalf("the export does not import: %v\n%s", err, out1)
	}
	second := stored(again)
	out2 := exportSite(t, second)
	if !bytes.Equal(out1, out2) {
		t.Errorf("second export differs:\n%s\n---\n%s", out1, out2)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("site after the round trip:\n%+v\nwant\n%+v", second, first)
	}
	if !reflect.DeepEqual(parsed, second) {
		t.Errorf("site after the round trip differs from the file's:\n%+v\nwant\n%+v", second, parsed)
	}
}

// TestParseSiteOwnerAsName: files from before the owner's address name the
// owner with a plain string, which still reads.
func TestParseSiteOwnerAsName(t *testing.T) {
	s, err := ParseSite("site.toml", strings.NewReader(`owner = "Erbengemeinschaft Muster"`+"\n"+designSite))
	if err != nil {
		t.Fatal(err)
	}
	if s.Owner != "Erbengemeinschaft Muster" || s.OwnerAddress != (core.Address{}) {
		t.Errorf("owner = %q %+v", s.Owner, s.OwnerAddress)
	}
	_, err = ParseSite("site.toml", strings.NewReader(designSite+"\n[owner]\nname = \"X\"\ncountry = \"Schweiz\"\n"))
	var e *Error
	if !errors.As(err, &e) || e.Element != "owner.country" || e.Line != strings.Count(designSite, "\n")+4 {
		t.Errorf("bad owner country: %#v", err)
	}
}

// TestImportSiteRefusesLockedChanges: an update that changes what a billed
// period was billed from is refused naming the element and the period;
// changes after the period pass.
func TestImportSiteRefusesLockedChanges(t *testing.T) {
	base, err := ParseSite("linde.toml", strings.NewReader(richSite))
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(filepath.Join(t.TempDir(), "office.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	if _, err := ImportSite(st, base, "test", now); err != nil {
		t.Fatal(err)
	}
	q1 := core.Period{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 3, 31)}
	if err := st.Update(func(tx store.Tx) error { return tx.LockPeriod(store.Lock{Site: "linde", Period: q1, Time: now}) }); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(s *core.Site)
		elem   string // "" = allowed
	}{
		{"move-out inside", func(s *core.Site) { s.Occupancies[1].To = core.MustDate(2026, 3, 15) }, "tenants[1]"},
		{"move-out after", func(s *core.Site) { s.Occupancies[1].To = core.MustDate(2026, 9, 30) }, ""},
		{"advance", func(s *core.Site) { s.Occupancies[0].AdvanceMonth = 5000 }, "tenants[0]"},
		{"tenant removed", func(s *core.Site) { s.Occupancies = s.Occupancies[:1] }, "tenants"},
		{"tariff in force", func(s *core.Site) { s.Tariffs[1].Solar = 190_000 }, "tariffs[1]"},
		{"tariff later", func(s *core.Site) {
			s.Tariffs = append(s.Tariffs, core.Tariff{From: core.MustDate(2026, 7, 1), Solar: 1, Grid: 2})
		}, ""},
		{"tariff inside", func(s *core.Site) {
			s.Tariffs = append(s.Tariffs, core.Tariff{From: core.MustDate(2026, 3, 1), Solar: 1, Grid: 2})
		}, "tariffs[2]"},
		{"meter removed", func(s *core.Site) { s.Meters = s.Meters[:4] }, "meters"},
		{"area", func(s *core.Site) { s.Units[1].Area = 9000 }, "units[1]"},
		{"new unit", func(s *core.Site) { s.Units = append(s.Units, core.Unit{ID: "C", Area: 1, Quota: 1}) }, ""},
		{"unit retired inside", func(s *core.Site) { s.Units[3].Retired = core.MustDate(2026, 3, 15) }, "units[3].retired"},
		{"unit retired after", func(s *core.Site) { s.Units[3].Retired = core.MustDate(2026, 3, 31) }, ""},
		{"unit's retirement moved back inside", func(s *core.Site) { s.Units[3].Retired = core.MustDate(2026, 2, 28) }, "units[3].retired"},
		{"meter retired inside", func(s *core.Site) { s.Meters[2].Retired = core.MustDate(2026, 3, 30) }, "meters[2].retired"},
		{"meter retired after", func(s *core.Site) { s.Meters[2].Retired = core.MustDate(2026, 7, 31) }, ""},
		{"meter back in service", func(s *core.Site) { s.Meters[2].Retired = core.Date{} }, ""},
		{"meter's first day inside", func(s *core.Site) { s.Meters[3].Since = core.MustDate(2026, 2, 1) }, "meters[3].since"},
		// A first day after the billed period takes the meter out of it.
		{"meter's first day after", func(s *core.Site) { s.Meters[3].Since = core.MustDate(2026, 4, 1) }, "meters[3].since"},
		{"meter's first day moved to the period's first", func(s *core.Site) { s.Meters[3].Since = core.MustDate(2026, 1, 1) }, ""},
		{"new unit from after the period", func(s *core.Site) {
			s.Units = append(s.Units, core.Unit{ID: "D", Area: 1, Quota: 1, Since: core.MustDate(2026, 5, 1)})
		}, ""},
		{"name", func(s *core.Site) { s.Name = "ZEV Linde" }, ""},
		{"holiday added inside", func(s *core.Site) { s.Holidays = append(s.Holidays, core.MustDate(2026, 3, 19)) }, "holidays"},
		{"holiday removed inside", func(s *core.Site) { s.Holidays = s.Holidays[1:] }, "holidays"},
		{"holiday after", func(s *core.Site) { s.Holidays = append(s.Holidays, core.MustDate(2026, 12, 25)) }, ""},
		{"time zone", func(s *core.Site) { s.Timezone = "Europe/Vaduz" }, "timezone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s *core.Site
			if err := st.View(func(tx store.Tx) error { s, err = tx.Site("linde"); return err }); err != nil {
				t.Fatal(err)
			}
			tc.change(s)
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			_, err := ImportSite(st, s, "test", now)
			var le *LockedError
			if tc.elem == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.As(err, &le) || !errors.Is(err, store.ErrLocked) || le.Element != tc.elem || le.Period != q1 {
				t.Fatalf("err = %v, want a LockedError at %s for %s", err, tc.elem, q1)
			}
			if !strings.Contains(err.Error(), "zevdesk unlock --site linde --from 2026-01-01 --to 2026-03-31") {
				t.Errorf("message does not say how to unlock: %v", err)
			}
		})
	}
}
