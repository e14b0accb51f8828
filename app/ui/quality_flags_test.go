package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/vee"
)

// qualityScreen shows testStore's site on the Data quality screen after
// prepare changed its data, on 9 June 2026 (the previous month step).
func qualityScreen(t *testing.T, prepare func(tx store.Tx, site *core.Site)) (*Quality, store.Store, *core.Site) {
	t.Helper()
	test.NewTempApp(t)
	st, clock := testStore(t)
	site := loadSite(t, st, "birkenweg")
	if err := st.Update(func(tx store.Tx) error { prepare(tx, site); return nil }); err != nil {
		t.Fatal(err)
	}
	q := NewQuality(st, clock)
	w := test.NewTempWindow(t, q.Content())
	w.Resize(fyne.NewSize(900, 700))
	q.win = w
	q.setSite(site)
	return q, st, site
}

// local is the slot of 9 June 2026 at hh:mm in Zurich.
func local(site *core.Site, hh, mm int) core.Slot {
	return core.SlotOf(time.Date(2026, 6, 9, hh, mm, 0, 0, site.Location()))
}

// rowOf returns the flag row of meter and kind.
func rowOf(t *testing.T, q *Quality, meter, kind string) int {
	t.Helper()
	for i, g := range q.groups {
		if g.Meter == meter && g.Kind == kind {
			return i
		}
	}
	t.Fatalf("no %s flag of %s in %q", kind, meter, q.flagTxt)
	return -1
}

// acted runs request (a click on an action) and waits until the action's
// transaction, which runs on a goroutine of its own, has ended and its
// outcome is shown; it fails if that is an error.
func acted(t *testing.T, q *Quality, request func()) {
	t.Helper()
	done := make(chan struct{}, 1)
	q.done = func() { done <- struct{}{} }
	request()
	<-done
	q.done = nil
	if q.failed != nil {
		t.Fatalf("the action failed: %v", q.failed)
	}
}

// TestQualityGapDetailAndEstimate: a gap of 13 intervals is one row; its
// detail gives the span in local time and the duration as people write
// it; Estimate fills it between the readings around it.
func TestQualityGapDetailAndEstimate(t *testing.T) {
	q, st, site := qualityScreen(t, func(tx store.Tx, site *core.Site) {
		if _, err := tx.PutRegisters(site.ID, "M-W02", []store.Register{
			{Time: local(site, 8, 0).Time(), Import: 100 * core.KWh},
			{Time: local(site, 11, 15).Time(), Import: 113 * core.KWh},
		}); err != nil {
			t.Fatal(err)
		}
		var fs []store.Flag
		for s := local(site, 8, 0); s < local(site, 11, 15); s++ {
			fs = append(fs, store.Flag{Site: site.ID, Meter: "M-W02", Slot: s, Kind: vee.KindGap, Reason: "import: no value for this interval"})
		}
		if err := tx.PutFlags(fs); err != nil {
			t.Fatal(err)
		}
	})
	i := rowOf(t, q, "M-W02", vee.KindGap)
	if want := "09.06.2026 08:00 – 11:15  M-W02  gap (3 h 15 min): import: no value for this interval"; q.flagTxt[i] != want {
		t.Errorf("row %q, want %q", q.flagTxt[i], want)
	}
	q.flags.Select(i)
	if q.detail == nil {
		t.Fatal("selecting a flag opened no detail")
	}
	for _, want := range []string{"Meter M-W02: gap", "09.06.2026 08:00 – 11:15 (Europe/Zurich), 3 h 15 min, 13 intervals", "10:45  import: no value", "… and 1 more"} {
		if !strings.Contains(q.detailText.Text, want) {
			t.Errorf("detail %q lacks %q", q.detailText.Text, want)
		}
	}
	if q.action.Text != "Estimate the gap" {
		t.Fatalf("action %q", q.action.Text)
	}
	acted(t, q, func() { test.Tap(q.action) })
	var s store.Series
	_ = st.View(func(tx store.Tx) error {
		return tx.ReadIntervals(store.SeriesID{Site: site.ID, Meter: "M-W02", Channel: store.Import}, local(site, 8, 0), local(site, 11, 15), &s)
	})
	var sum core.Energy
	for k, qu := range s.Quality {
		if qu != store.Estimated {
			t.Fatalf("slot %d: quality %v, want estimated", k, qu)
		}
		sum += s.Energy[k]
	}
	if sum != 13*core.KWh {
		t.Errorf("estimated %s kWh, want 13", core.FormatKWh(sum))
	}
	if a := auditActions(t, st); !strings.HasPrefix(a[len(a)-1], "intervals.estimate ") {
		t.Errorf("audit %v", a)
	}
}

// TestQualityMeterExchange: a register that went backwards is confirmed as
// an exchange from its flag, with the time in local time and the readings
// as an office writes them; energy is then continuous across it.
func TestQualityMeterExchange(t *testing.T) {
	q, st, site := qualityScreen(t, func(tx store.Tx, site *core.Site) {
		_, err := vee.AcceptRegisters(tx, site, "M-W01", []store.Register{
			{Time: local(site, 10, 0).Time(), Import: 1000 * core.KWh},
			{Time: local(site, 10, 15).Time(), Import: 1000*core.KWh + core.KWh/2},
			{Time: local(site, 10, 30).Time(), Import: 2 * core.KWh},
			{Time: local(site, 10, 45).Time(), Import: 2*core.KWh + core.KWh/2},
		}, vee.Options{Clock: core.FixedClock(time.Date(2026, 6, 11, 7, 0, 0, 0, time.UTC))})
		if err != nil {
			t.Fatal(err)
		}
	})
	q.flags.Select(rowOf(t, q, "M-W01", vee.KindRegisterBackwards))
	if q.action.Text != "Confirm meter exchange…" {
		t.Fatalf("action %q", q.action.Text)
	}
	test.Tap(q.action)
	if q.exchange == nil {
		t.Fatal("no exchange form")
	}
	if q.exTime.Text != "09.06.2026 10:30" {
		t.Errorf("time prefilled %q, want the flagged interval in local time", q.exTime.Text)
	}
	q.exTime.SetText("09.06.2026 10:20")
	test.Type(q.exOld, "1'000.6")
	test.Type(q.exNew, "1,9")
	acted(t, q, q.exchange.Submit)
	var repl []store.Replacement
	var s store.Series
	_ = st.View(func(tx store.Tx) (err error) {
		if repl, err = tx.Replacements(site.ID, "M-W01"); err != nil {
			return err
		}
		return tx.ReadIntervals(store.SeriesID{Site: site.ID, Meter: "M-W01", Channel: store.Import}, local(site, 10, 15), local(site, 10, 30), &s)
	})
	want := time.Date(2026, 6, 9, 10, 20, 0, 0, site.Location())
	if len(repl) != 1 || !repl[0].Time.Equal(want) || repl[0].OldFinal.Import != 1000*core.KWh+600*core.Wh || repl[0].NewInitial.Import != 1900*core.Wh {
		t.Errorf("replacements %+v", repl)
	}
	// 10:15–10:30: 0.1 kWh on the old meter, 0.1 on the new one.
	if s.Energy[0] != 200*core.Wh {
		t.Errorf("10:15 interval %s kWh, want 0.2", core.FormatKWh(s.Energy[0]))
	}
	for _, g := range q.groups {
		if g.Kind == vee.KindRegisterBackwards {
			t.Errorf("the flag is still listed: %+v", g)
		}
	}
}

// TestQualityAcceptValue: accepting a flagged value removes its flag from
// Data quality and from the counts the Overview shows (both vee.Quality),
// with an audit entry.
func TestQualityAcceptValue(t *testing.T) {
	q, st, site := qualityScreen(t, func(tx store.Tx, site *core.Site) {
		if err := tx.PutFlags([]store.Flag{{Site: site.ID, Meter: "M-W01", Slot: local(site, 7, 30), Kind: vee.KindMaxPower,
			Reason: "30.0 kWh in 15 minutes"}}); err != nil {
			t.Fatal(err)
		}
	})
	q.flags.Select(rowOf(t, q, "M-W01", vee.KindMaxPower))
	if q.action.Text != "Accept the values" {
		t.Fatalf("action %q", q.action.Text)
	}
	acted(t, q, func() { test.Tap(q.action) })
	if len(q.groups) != 0 {
		t.Errorf("flags still listed: %q", q.flagTxt)
	}
	var rep vee.QualityReport
	_ = st.View(func(tx store.Tx) (err error) {
		rep, err = vee.Quality(tx, site, core.Period{From: core.MustDate(2026, 6, 9), To: core.MustDate(2026, 6, 9)})
		return err
	})
	for _, m := range rep.Meters {
		if m.Flagged != 0 {
			t.Errorf("the day's quality still counts %d flagged intervals of %s", m.Flagged, m.Meter)
		}
	}
	if a := auditActions(t, st); !strings.HasPrefix(a[len(a)-1], "flag.accept ") {
		t.Errorf("audit %v", a)
	}
}

// gapScreen is Data quality with a gap of M-W02 from 08:00 to 11:15 on 9
// June, enclosed by register readings when readings is set.
func gapScreen(t *testing.T, readings bool) (*Quality, store.Store, *core.Site) {
	t.Helper()
	return qualityScreen(t, func(tx store.Tx, site *core.Site) {
		if readings {
			if _, err := tx.PutRegisters(site.ID, "M-W02", []store.Register{
				{Time: local(site, 8, 0).Time(), Import: 100 * core.KWh},
				{Time: local(site, 11, 15).Time(), Import: 113 * core.KWh},
			}); err != nil {
				t.Fatal(err)
			}
		}
		var fs []store.Flag
		for s := local(site, 8, 0); s < local(site, 11, 15); s++ {
			fs = append(fs, store.Flag{Site: site.ID, Meter: "M-W02", Slot: s, Kind: vee.KindGap, Reason: "import: no value for this interval"})
		}
		if err := tx.PutFlags(fs); err != nil {
			t.Fatal(err)
		}
	})
}

// TestQualityActionOffUIGoroutine: while another transaction holds the
// database (an import, a gateway's batch), clicking Estimate returns at
// once with the button disabled; the estimate is stored when the other
// transaction ends, and the detail closes.
func TestQualityActionOffUIGoroutine(t *testing.T) {
	q, st, site := gapScreen(t, true)
	q.flags.Select(rowOf(t, q, "M-W02", vee.KindGap))
	held, release, other := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		other <- st.Update(func(store.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	done := make(chan struct{}, 1)
	q.done = func() { done <- struct{}{} }
	tapped := make(chan struct{})
	go func() {
		test.Tap(q.action)
		close(tapped)
	}()
	select {
	case <-tapped:
	case <-time.After(30 * time.Second): // only a guard: a click returns at once
		close(release)
		t.Fatal("the click on Estimate waited for the other transaction: the window was blocked")
	}
	if !q.action.Disabled() {
		t.Error("Estimate is enabled while its transaction waits")
	}
	close(release)
	if err := <-other; err != nil {
		t.Fatal(err)
	}
	<-done
	if q.failed != nil || q.action.Disabled() {
		t.Fatalf("after the estimate: error %v, button disabled %v", q.failed, q.action.Disabled())
	}
	var s store.Series
	if err := st.View(func(tx store.Tx) error {
		return tx.ReadIntervals(store.SeriesID{Site: site.ID, Meter: "M-W02", Channel: store.Import}, local(site, 8, 0), local(site, 11, 15), &s)
	}); err != nil {
		t.Fatal(err)
	}
	for k, qu := range s.Quality {
		if qu != store.Estimated {
			t.Fatalf("slot %d: quality %v, want estimated", k, qu)
		}
	}
	if n := len(q.win.Canvas().Overlays().List()); n != 0 {
		t.Errorf("%d dialogs open after the estimate, want the detail closed", n)
	}
}

// TestQualityActionError: an action that fails (a gap without readings
// around it cannot be estimated) says why in a dialog over the detail,
// which stays open with its button enabled to try again.
func TestQualityActionError(t *testing.T) {
	q, _, _ := gapScreen(t, false)
	q.flags.Select(rowOf(t, q, "M-W02", vee.KindGap))
	overlays := len(q.win.Canvas().Overlays().List())
	done := make(chan struct{}, 1)
	q.done = func() { done <- struct{}{} }
	test.Tap(q.action)
	<-done
	if q.failed == nil || !strings.Contains(q.failed.Error(), "Nothing to estimate") {
		t.Fatalf("error %v, want nothing to estimate", q.failed)
	}
	if q.failure == nil || len(q.win.Canvas().Overlays().List()) != overlays+1 {
		t.Errorf("no error dialog over the detail (%d overlays, %d before)", len(q.win.Canvas().Overlays().List()), overlays)
	}
	if q.action.Disabled() || len(q.groups) != 1 {
		t.Errorf("after the error: button disabled %v, %d flag rows", q.action.Disabled(), len(q.groups))
	}
}
