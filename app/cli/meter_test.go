package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/vee"
)

var meterT0 = time.Date(2026, 1, 12, 9, 0, 0, 0, time.UTC)

// meterFeed stores readings of MA across an unconfirmed exchange at 09:20.
func meterFeed(tx store.Tx, site *core.Site) error {
	at := func(m int) time.Time { return meterT0.Add(time.Duration(m) * time.Minute) }
	kwh := func(s string) core.Energy { e, _ := core.ParseKWh(s); return e }
	_, err := vee.AcceptRegisters(tx, site, "MA", []store.Register{
		{Time: at(0), Import: kwh("1000"), Export: kwh("4")}, {Time: at(15), Import: kwh("1001"), Export: kwh("4")},
		{Time: at(30), Import: kwh("2")}, {Time: at(45), Import: kwh("3")},
	}, vee.Options{Clock: core.FixedClock(at(600)), Actor: "test"})
	return err
}

func TestMeterReplace(t *testing.T) {
	db := qualityDB(t, meterFeed)
	q := func() string {
		t.Helper()
		code, out, errs := run(t, db, "quality", "--site", "eiche", "--from", "2026-01-12", "--to", "2026-01-12")
		if code != 0 {
			t.Fatalf("quality: exit %d %s", code, errs)
		}
		return out
	}
	if out := q(); !strings.Contains(out, "register-backwards: import register went backwards from 1001.000 kWh") {
		t.Fatalf("before the confirmation the quality report should show the backward step:\n%s", out)
	}
	code, out, errs := run(t, db, "meter", "replace", "--site", "eiche", "--meter", "MA", "--time", "2026-01-12T10:20:00+01:00",
		"--old-final", "1001.5", "--new-initial", "1", "--old-final-export", "4", "--new-initial-export", "0", "--note", "Zählerwechsel EKZ")
	if code != 0 {
		t.Fatalf("meter replace: exit %d %s", code, errs)
	}
	if !strings.Contains(out, "meter MA of eiche: exchange at 2026-01-12 10:20 CET confirmed (old final import 1001.500 kWh, export 4.000 kWh; new initial import 1.000 kWh, export 0.000 kWh)") {
		t.Errorf("output %q", out)
	}
	if out := q(); strings.Contains(out, "register-backwards") {
		t.Errorf("the backward step is still flagged after the confirmation:\n%s", out)
	}
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.View(func(tx store.Tx) error {
		var s store.Series
		from := core.SlotOf(meterT0)
		if err := tx.ReadIntervals(store.SeriesID{Site: "eiche", Meter: "MA", Channel: store.Import}, from, from+3, &s); err != nil {
			return err
		}
		want := []core.Energy{core.KWh, 1500 * core.Wh, core.KWh} // (1001.5 − 1001) + (2 − 1) across the exchange
		for i := range want {
			if s.Energy[i] != want[i] || s.Quality[i] != store.Measured {
				t.Errorf("slot %d: %s %v, want %s measured", i, s.Energy[i], s.Quality[i], want[i])
			}
		}
		var audit []store.Entry
		if err := tx.ScanAudit(0, func(e store.Entry) bool { audit = append(audit, e); return true }); err != nil {
			return err
		}
		if len(audit) != 1 || audit[0].Action != "meter.replace" || !strings.Contains(audit[0].Detail, "Zählerwechsel EKZ") {
			t.Errorf("audit %+v", audit)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMeterReplaceErrors(t *testing.T) {
	db := qualityDB(t, meterFeed)
	base := []string{"meter", "replace", "--site", "eiche", "--meter", "MA", "--time", "2026-01-12T10:20:00+01:00"}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{append(base[:6:6], "--old-final", "1", "--new-initial", "1"), 1, "--time is required"},
		{append(base, "--new-initial", "1"), 1, "--old-final is required"},
		{append(base, "--old-final", "1001,5", "--new-initial", "1"), 1, `--old-final: invalid kWh value "1001,5"`},
		{append(base, "--old-final", "1001.5", "--new-initial", "1", "--old-final-export", "4"), 1, "give both --old-final-export and --new-initial-export"},
		{[]string{"meter", "replace", "--site", "eiche", "--meter", "MA", "--time", "2026-01-12 10:20", "--old-final", "1", "--new-initial", "1"}, 1, "--time: expected RFC 3339"},
		{[]string{"meter", "replace", "--site", "eiche", "--meter", "XX", "--time", "2026-01-12T10:20:00Z", "--old-final", "1", "--new-initial", "1"}, 1, `site eiche has no meter "XX"`},
		{append(base, "--old-final", "1000.5", "--new-initial", "1"), 1, "the old meter's final reading (import 1000.500 kWh, export 4.000 kWh) is below its reading at 2026-01-12T09:15:00Z"},
	} {
		code, _, errs := run(t, db, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d %q, want %d and %q", c.args, code, errs, c.code, c.msg)
		}
	}
}

func TestMeterEstimate(t *testing.T) {
	// Readings stored without derivation (as a restored raw backup would
	// leave them): 09:00 and 10:00, 1 kWh apart.
	db := qualityDB(t, func(tx store.Tx, site *core.Site) error {
		_, err := tx.PutRegisters(site.ID, "MA", []store.Register{{Time: meterT0, Import: core.KWh}, {Time: meterT0.Add(time.Hour), Import: 2 * core.KWh}})
		return err
	})
	code, out, errs := run(t, db, "meter", "estimate", "--site", "eiche", "--meter", "MA", "--from", "2026-01-12", "--to", "2026-01-12")
	if code != 0 || !strings.Contains(out, "meter MA of eiche, 2026-01-12..2026-01-12: 4 import and 4 export intervals estimated") {
		t.Fatalf("exit %d %q %s", code, out, errs)
	}
	code, out, _ = run(t, db, "quality", "--site", "eiche", "--from", "2026-01-12", "--to", "2026-01-12", "--json")
	if code != 0 || !strings.Contains(out, `"meter": "MA",`) || !strings.Contains(out, `"estimated": 4,`) || !strings.Contains(out, `"estimated_kwh": 1.000,`) {
		t.Errorf("quality after the estimate:\n%s", out)
	}
	code, _, errs = run(t, db, "meter", "estimate", "--site", "eiche", "--from", "2026-01-12", "--to", "2026-01-12")
	if code != 1 || !strings.Contains(errs, "--meter is required") {
		t.Errorf("without --meter: exit %d %q", code, errs)
	}
}
