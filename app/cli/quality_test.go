package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/vee"
)

// qualitySite is a site with a grid, a PV and two unit meters.
func qualitySite(t *testing.T) *core.Site {
	t.Helper()
	s := &core.Site{
		ID: "eiche", Name: "ZEV Eiche", Timezone: "Europe/Zurich",
		Operator: core.Operator{Name: "Eiche Verwaltung"},
		Units:    []core.Unit{{ID: "A"}, {ID: "B"}},
		Meters: []core.Meter{
			{ID: "GRID", Role: core.RoleGrid}, {ID: "PV", Role: core.RoleProduction},
			{ID: "MA", Role: core.RoleUnit, Unit: "A"}, {ID: "MB", Role: core.RoleUnit, Unit: "B", MaxPowerW: 10_000},
		},
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

// qualityDB creates a database under t.TempDir() holding the site and what
// feed stores, and returns its path.
func qualityDB(t *testing.T, feed func(tx store.Tx, site *core.Site) error) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "office.db")
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	site := qualitySite(t)
	err = st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(site); err != nil {
			return err
		}
		return feed(tx, site)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

var qualityDay = core.MustDate(2026, 3, 29) // the spring-forward day: 92 intervals

// qualityFeed stores a complete day for GRID (700 Wh an interval), PV (300 Wh)
// and MA (1000 Wh), and MB with a hole
// of 4 intervals and one interval above its maximum power.
func qualityFeed(tx store.Tx, site *core.Site) error {
	from := qualityDay.FirstSlot(site.Location())
	opt := vee.Options{Clock: core.FixedClock(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)), Actor: "test"}
	put := func(meter string, ch store.Channel, e core.Energy, skip func(i int) bool) error {
		var vs []store.Value
		for i := range 92 {
			if skip != nil && skip(i) {
				continue
			}
			v := e * core.Wh
			if meter == "MB" && i == 50 {
				v = 3 * core.KWh
			}
			vs = append(vs, store.Value{Slot: from + core.Slot(i), Energy: v, Quality: store.Measured})
		}
		_, err := vee.AcceptIntervals(tx, site, store.SeriesID{Site: site.ID, Meter: meter, Channel: ch}, vs, store.KeepFirst, opt)
		return err
	}
	if err := put("GRID", store.Import, 700, nil); err != nil {
		return err
	}
	if err := put("PV", store.Export, 300, nil); err != nil {
		return err
	}
	if err := put("MA", store.Import, 1000, nil); err != nil {
		return err
	}
	return put("MB", store.Import, 0, func(i int) bool { return i >= 10 && i < 14 })
}

func TestQualityCommandTable(t *testing.T) {
	db := qualityDB(t, qualityFeed)
	code, out, errs := run(t, db, "quality", "--site", "eiche", "--from", "2026-03-29", "--to", "2026-03-29")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"Data quality of eiche (ZEV Eiche), 2026-03-29..2026-03-29: 92 intervals",
		"MB     unit              88          0       0        4        1         3.000         0.000",
		"MB  2026-03-29 03:30–04:30 (4 intervals)  gap: import: no value for this interval",
		"PV  2026-03-29 00:00–06:30 (22 intervals)  night-production: production of 0.300 kWh at 00:00 local, at night: the sun set at 18:49 and rises at 07:12 (a margin of 30m0s on both sides) (the first of 22)",
		"max-power: import 3.000 kWh in 15 minutes is an average of 12.000 kW, above the meter's maximum power of 10.000 kW",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Balance over the 88 complete intervals: consumers 88 kWh + 3 kWh, PV
	// 26.4 kWh, grid 61.6 kWh: sub-meters 64.6 kWh, +3 kWh = +3.30 %.
	if !strings.Contains(out, "Balance: sub-meters 64.600 kWh, grid meter 61.600 kWh (import 61.600 kWh, export 0.000 kWh): +3.30 % of consumption 91.000 kWh, BEYOND the tolerance of 2 %") ||
		!strings.Contains(out, "over the 88 of 92 intervals in which every meter has data") {
		t.Errorf("balance line wrong:\n%s", out)
	}
}

func TestQualityCommandJSON(t *testing.T) {
	db := qualityDB(t, qualityFeed)
	code, out, errs := run(t, db, "quality", "--site", "eiche", "--from", "2026-03-29", "--to", "2026-03-29", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Site      string `json:"site"`
		From      string `json:"from"`
		Intervals int    `json:"intervals"`
		Meters    []struct {
			Meter                                 string
			Measured, Estimated, Missing, Flagged int
			Import                                float64 `json:"import_kwh"`
			Flags                                 []struct{ Start, Kind, Reason string }
		}
		Balance struct {
			Available bool
			Intervals int
			Grid      float64 `json:"grid_kwh"`
			Percent   float64
			Tolerance float64 `json:"tolerance_percent"`
			Exceeds   bool
			Days      []struct {
				Date      string
				Intervals int
				Complete  bool
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if got.Site != "eiche" || got.From != "2026-03-29" || got.Intervals != 92 || len(got.Meters) != 4 {
		t.Fatalf("header %+v", got)
	}
	mb := got.Meters[3]
	if mb.Meter != "MB" || mb.Measured != 88 || mb.Missing != 4 || mb.Flagged != 1 || mb.Import != 3 || len(mb.Flags) != 5 {
		t.Errorf("MB %+v, want 88 measured, 4 missing, 1 flagged, 3 kWh, 5 flags", mb)
	}
	if mb.Flags[0].Kind != "gap" || mb.Flags[0].Start != "2026-03-29T01:30:00Z" {
		t.Errorf("first flag %+v, want the gap at 01:30Z (03:30 summer time)", mb.Flags[0])
	}
	b := got.Balance
	if !b.Available || b.Intervals != 88 || b.Grid != 61.6 || b.Percent != 3.3 || b.Tolerance != 2 || !b.Exceeds ||
		len(b.Days) != 1 || b.Days[0].Intervals != 92 || b.Days[0].Complete {
		t.Errorf("balance %+v", b)
	}
}

func TestQualityCommandErrors(t *testing.T) {
	db := qualityDB(t, func(store.Tx, *core.Site) error { return nil })
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"quality", "--site", "eiche", "--from", "2026-03-29"}, 1, "--from and --to are required"},
		{[]string{"quality", "--site", "eiche", "--from", "2026-03-31", "--to", "2026-03-01"}, 1, "--to 2026-03-01 is before --from 2026-03-31"},
		{[]string{"quality", "--site", "eiche", "--from", "2026-3-1", "--to", "2026-03-01"}, 1, `--from: invalid date "2026-3-1"`},
		{[]string{"quality", "--site", "nope", "--from", "2026-03-01", "--to", "2026-03-01"}, 1, `no site "nope"`},
	} {
		code, _, errs := run(t, db, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d %q, want %d and %q", c.args, code, errs, c.code, c.msg)
		}
	}
}
