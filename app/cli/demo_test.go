package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/totals"
)

// demoNow is inside a year whose history crosses both DST changes.
const demoNow = "2026-11-27T10:20:00Z"

func runMain(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	d, code := Main(args, &out, &errb)
	if d != nil {
		t.Fatalf("Main %v asked for the desktop app", args)
	}
	if code != 0 {
		t.Fatalf("Main %v: exit %d: %s", args, code, errb.String())
	}
	return out.String(), code
}

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Check(); err != nil {
			t.Errorf("store check: %v", err)
		}
		st.Close()
	})
	return st
}

func TestDemoCreatesAYearOfHistory(t *testing.T) {
	db := filepath.Join(t.TempDir(), "z.db")
	out, _ := runMain(t, "--db", db, "demo", "--no-window", "--now", demoNow)
	t.Logf("zevdesk demo --no-window:\n%s", out)
	for _, want := range []string{"site demo:", "12 units", "M-W01", "production", "self-consumed", "grid feed-in"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}

	now, _ := time.Parse(time.RFC3339, demoNow)
	st := openStore(t, db)
	var summaryDay totals.Totals
	err := st.View(func(tx store.Tx) error {
		site, err := tx.Site(DemoSiteID)
		if err != nil {
			return err
		}
		if err := site.Validate(); err != nil {
			t.Errorf("stored demo site does not validate: %v", err)
		}
		loc := site.Location()
		start := core.MustDate(2025, 11, 27).FirstSlot(loc)
		end := core.SlotOf(now)
		if n := int(end - start); n != 365*96+45 { // a year of days (both DST changes inside) + 00:00-11:15 local
			t.Errorf("history has %d slots", n)
		}
		if len(site.Meters) != 17 {
			t.Errorf("%d meters, expected 17", len(site.Meters))
		}
		read := func(m core.Meter, ch store.Channel) []core.Energy {
			var s store.Series
			if err := tx.ReadIntervals(store.SeriesID{Site: site.ID, Meter: m.ID, Channel: ch}, start-96, end+96, &s); err != nil {
				t.Fatalf("reading %s/%s: %v", m.ID, ch, err)
			}
			for i, q := range s.Quality {
				slot := s.From + core.Slot(i)
				inside := slot >= start && slot < end
				if inside && q != store.Measured || !inside && q != store.Missing {
					t.Fatalf("%s/%s at %s: quality %s", m.ID, ch, slot, q)
				}
			}
			return s.Energy[96 : 96+int(end-start)]
		}
		prod := read(*site.Meter("PV"), store.Export)
		gridIn := read(*site.Meter("GRID"), store.Import)
		gridOut := read(*site.Meter("GRID"), store.Export)
		cons := make([]core.Energy, len(prod))
		var consumers int
		for _, m := range site.Meters {
			if !m.Role.Consumer() {
				continue
			}
			consumers++
			vals := read(m, store.Import)
			for i, e := range vals {
				cons[i] += e
			}
			// Registers at every local midnight; their differences are the
			// day's intervals (the invoice prints them).
			var regs []store.Register
			if err := tx.ScanRegisters(site.ID, m.ID, start.Time(), end.Time().Add(time.Second), func(r store.Register) bool {
				regs = append(regs, r)
				return true
			}); err != nil {
				t.Fatal(err)
			}
			if len(regs) != 366+1 { // midnights from the first to today's, and the end
				t.Fatalf("%s: %d register readings", m.ID, len(regs))
			}
			for k := 1; k < len(regs); k++ {
				a, b := core.SlotOf(regs[k-1].Time), core.SlotOf(regs[k].Time)
				var sum core.Energy
				for _, e := range vals[a-start : b-start] {
					sum += e
				}
				if got := regs[k].Import - regs[k-1].Import; got != sum {
					t.Fatalf("%s: registers %s..%s differ by %v, intervals sum to %v", m.ID, regs[k-1].Time, regs[k].Time, got, sum)
				}
				if k < len(regs)-1 {
					if lt := regs[k].Time.In(loc); lt.Hour() != 0 || lt.Minute() != 0 {
						t.Fatalf("%s: register reading at %s, not at local midnight", m.ID, lt)
					}
				}
			}
		}
		if consumers != 15 {
			t.Errorf("%d consumer meters, expected 12 units, common, heat pump, EV", consumers)
		}
		var production core.Energy
		for i := range prod {
			production += prod[i]
			if gridIn[i]-gridOut[i] != cons[i]-prod[i] {
				t.Fatalf("slot %s: grid %v - %v != consumers %v - PV %v", start+core.Slot(i), gridIn[i], gridOut[i], cons[i], prod[i])
			}
		}
		if production < 25_000*core.KWh || production > 36_000*core.KWh {
			t.Errorf("a year of 30 kWp produced %v", production)
		}
		// EV sessions for billing: each billed to the card holder's tenant,
		// and together they cover every kWh the charger metered.
		tenants := map[string]string{}
		for _, o := range site.Occupancies {
			tenants[o.Name] = o.Unit
		}
		ev := read(*site.Meter("EV1"), store.Import)
		covered := make([]bool, len(ev))
		var sessions int
		err = tx.ScanMeta(billing.BucketSessions, func(k string, v []byte) bool {
			var s billing.Session
			if err := json.Unmarshal(v, &s); err != nil {
				t.Fatalf("session %s: %v", k, err)
			}
			sessions++
			if u, ok := tenants[s.Person]; !ok || u != s.Unit || s.Meter != "EV1" || s.Card == "" {
				t.Errorf("session %s: %+v", k, s)
			}
			for sl := core.SlotOf(s.Start); sl.Time().Before(s.End); sl++ {
				if sl >= start && sl < end {
					covered[sl-start] = true
				}
			}
			return true
		})
		if err != nil {
			return err
		}
		if sessions < 100 {
			t.Errorf("%d EV sessions in a year", sessions)
		}
		for i, e := range ev {
			if e > 0 && !covered[i] {
				t.Fatalf("charger metered %v at %s outside every session", e, start+core.Slot(i))
			}
		}
		day := core.MustDate(2026, 11, 26)
		summaryDay, err = totals.Of(tx, site, core.Period{From: day, To: day})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "production     "+padKWh(summaryDay.Production)) ||
		!strings.Contains(out, "grid supply    "+padKWh(summaryDay.GridImport)) {
		t.Errorf("summary does not show the last day's totals %+v:\n%s", summaryDay, out)
	}
	if summaryDay.Consumption == 0 || summaryDay.Missing() != 0 ||
		summaryDay.GridImport-summaryDay.FeedIn != summaryDay.Consumption-summaryDay.Production {
		t.Errorf("last day's totals don't balance: %+v", summaryDay)
	}
}

func padKWh(e core.Energy) string {
	s := core.FormatKWh(e)
	return strings.Repeat(" ", max(0, 12-len(s))) + s
}

func TestDemoRerunIsIdempotent(t *testing.T) {
	db := filepath.Join(t.TempDir(), "z.db")
	runMain(t, "--db", db, "demo", "--no-window", "--now", demoNow)
	snapshot := func() (ids []store.SeriesID, total core.Energy, regs int) {
		st, err := bolt.Open(db, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.Check(); err != nil {
			t.Errorf("store check: %v", err)
		}
		err = st.View(func(tx store.Tx) error {
			var err error
			if ids, err = tx.SeriesIDs(DemoSiteID); err != nil {
				return err
			}
			for _, id := range ids {
				var s store.Series
				if err := tx.ReadIntervals(id, 0, core.SlotOf(time.Now().Add(48*time.Hour)), &s); err != nil {
					return err
				}
				for _, e := range s.Energy {
					total += e
				}
				if err := tx.ScanRegisters(DemoSiteID, id.Meter, time.Time{}, time.Now().Add(48*time.Hour), func(store.Register) bool {
					regs++
					return true
				}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids, total, regs
	}
	ids1, total1, regs1 := snapshot()
	// A day later: the site exists, so nothing is added or changed.
	out, _ := runMain(t, "--db", db, "demo", "--no-window", "--now", "2026-11-28T10:20:00Z")
	if !strings.Contains(out, "already exists") {
		t.Errorf("rerun does not say the demo exists:\n%s", out)
	}
	ids2, total2, regs2 := snapshot()
	if len(ids1) != 2*17 || len(ids1) != len(ids2) { // both channels of 17 meters
		t.Errorf("%d series, want 34", len(ids1))
	}
	if len(ids1) != len(ids2) || total1 != total2 || regs1 != regs2 {
		t.Errorf("rerun changed the data: %d series, %v, %d registers -> %d series, %v, %d registers",
			len(ids1), total1, regs1, len(ids2), total2, regs2)
	}
}

func TestDemoOpensTheDesktop(t *testing.T) {
	db := filepath.Join(t.TempDir(), "z.db")
	var out, errb bytes.Buffer
	d, code := Main([]string{"--db", db, "demo", "--now", demoNow}, &out, &errb)
	if code != 0 || d == nil {
		t.Fatalf("exit %d, desktop %v: %s", code, d, errb.String())
	}
	defer d.Env.Close()
	if d.SiteID != DemoSiteID {
		t.Errorf("desktop opens site %q", d.SiteID)
	}
	st, err := d.Env.Store()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.View(func(tx store.Tx) error { _, err := tx.Site(DemoSiteID); return err }); err != nil {
		t.Errorf("the open store has no demo site: %v", err)
	}
}

func TestDemoBadArguments(t *testing.T) {
	db := filepath.Join(t.TempDir(), "z.db")
	for _, args := range [][]string{{"demo", "extra"}, {"demo", "--now", "yesterday"}, {"demo", "--bogus"}} {
		var out, errb bytes.Buffer
		d, code := Main(append([]string{"--db", db}, args...), &out, &errb)
		if d != nil || code != 1 || !strings.Contains(errb.String(), "usage: zevdesk demo") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errb.String())
		}
	}
}

// TestDemoNowMovesTheApp: `demo --now` hands the desktop app a clock that
// starts at that moment and runs on, so that the window and the simulated
// gateway show the building at noon in June on a winter evening.
func TestDemoNowMovesTheApp(t *testing.T) {
	db := filepath.Join(t.TempDir(), "z.db")
	var out, errb bytes.Buffer
	d, code := Main([]string{"--db", db, "demo", "--now", "2026-06-16T12:00:00+02:00"}, &out, &errb)
	if d == nil {
		t.Fatalf("demo did not ask for the window: exit %d: %s", code, errb.String())
	}
	defer d.Env.Close()
	want := time.Date(2026, 6, 16, 10, 0, 0, 0, time.UTC)
	got := d.Env.Clock.Now()
	if got.Before(want) || got.After(want.Add(time.Minute)) {
		t.Errorf("the app's clock says %s, want %s and running on", got, want)
	}
	later := d.Env.Clock.Now()
	if later.Before(got) {
		t.Errorf("the app's clock went back: %s after %s", later, got)
	}
}
