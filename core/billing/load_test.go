package billing

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// Load reads intervals, boundary registers with an exchange, EV sessions
// and the utility bill from a real bbolt file; Commit numbers, stores and
// locks; an unlocked period re-commits under the same numbers.
func TestLoadBillCommit(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "z.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Check(); err != nil {
			t.Errorf("check: %v", err)
		}
		st.Close()
	})
	s := baseSite()
	s.Meters = append(s.Meters, core.Meter{ID: "EV1", Role: core.RoleEV})
	p := period("2026-01-05", "2026-01-05")
	loc := s.Location()
	from, to := p.Slots(loc)
	start, end := from.Time(), to.Time()
	ev := Session{ID: "s1", Meter: "EV1", Person: "Eva", Start: start.Add(10 * time.Hour), End: start.Add(11 * time.Hour)}
	err = st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(s); err != nil {
			return err
		}
		put := func(m string, ch store.Channel, e core.Energy) error {
			var vs []store.Value
			for sl := from; sl < to; sl++ {
				vs = append(vs, store.Value{Slot: sl, Energy: e, Quality: store.Measured})
			}
			_, err := tx.PutIntervals(store.SeriesID{Site: s.ID, Meter: m, Channel: ch}, vs, store.KeepFirst)
			return err
		}
		for _, x := range []struct {
			m  string
			ch store.Channel
			e  string
		}{{"M-W01", store.Import, "0.1"}, {"M-W02", store.Import, "0.2"}, {"EV1", store.Import, "1"}, {"PV", store.Export, "0.3"}, {"GRID", store.Import, "1"}} {
			if err := put(x.m, x.ch, kwhE(x.e)); err != nil {
				return err
			}
		}
		if _, err := tx.PutRegisters(s.ID, "M-W01", []store.Register{{Time: start, Import: kwhE("1000")}, {Time: end, Import: kwhE("6.1")}}); err != nil {
			return err
		}
		at := start.Add(10 * time.Hour)
		if err := tx.PutReplacement(s.ID, "M-W01", store.Replacement{Time: at, OldFinal: store.Register{Time: at, Import: kwhE("1004")},
			NewInitial: store.Register{Time: at, Import: kwhE("0.5")}}); err != nil {
			return err
		}
		if err := PutSessions(tx, s.ID, []Session{ev, {ID: "old", Meter: "EV1", Person: "X", Start: start.Add(-48 * time.Hour), End: start.Add(-47 * time.Hour)}}); err != nil {
			return err
		}
		return PutUtilityBill(tx, s.ID, &UtilityBill{Period: p, Lines: []UtilityLine{{Label: "all-in", Basis: BasisAll, Amount: chf("30.00")}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	var run *Run
	err = st.View(func(tx store.Tx) error {
		site, err := tx.Site(s.ID)
		if err != nil {
			return err
		}
		in, err := Load(tx, site, p)
		if err != nil {
			return err
		}
		if len(in.Sessions) != 1 || in.Sessions[0].ID != "s1" || in.Utility == nil || in.Numbers != nil {
			t.Errorf("loaded sessions %+v, utility %v, numbers %v", in.Sessions, in.Utility, in.Numbers)
		}
		r := in.Readings["M-W01"]
		if r.Start == nil || r.End == nil || len(r.Replacements) != 1 {
			t.Fatalf("readings %+v", r)
		}
		run, err = Bill(in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, &Input{Site: s}, run)
	if len(run.Warnings) != 0 {
		t.Errorf("warnings: %q", run.Warnings)
	}
	eva := invoiceOf(t, run, "ev:Eva")
	// 4 intervals × 1 kWh, solar 0.3 × 1/1.3 of each.
	wantE(t, "Eva energy", eva.KWh.Total, "4")
	var grid core.Rappen
	for _, inv := range run.Invoices {
		for _, l := range inv.Lines {
			if l.Class == KindGridHT || l.Class == KindGridNT {
				grid += l.Amount
			}
		}
	}
	wantR(t, "pass-through grid amounts", grid, "30.00")

	now := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	if err := st.Update(func(tx store.Tx) error { return Commit(tx, run, now, nil) }); err != nil {
		t.Fatal(err)
	}
	numbers := map[string]int{}
	for i, inv := range run.Invoices {
		if inv.Number != i+1 {
			t.Errorf("invoice %s number %d, want %d", inv.Key, inv.Number, i+1)
		}
		numbers[inv.Key] = inv.Number
	}
	// A second commit is refused: the period is locked.
	err = st.Update(func(tx store.Tx) error { return Commit(tx, run, now, nil) })
	if !errors.Is(err, store.ErrLocked) {
		t.Errorf("second commit: %v", err)
	}
	// Neither the utility bill nor dynamic prices of a billed period can
	// change: its invoices must stay reproducible.
	err = st.Update(func(tx store.Tx) error {
		return PutUtilityBill(tx, s.ID, &UtilityBill{Period: p, Lines: []UtilityLine{{Label: "x", Amount: 1}}})
	})
	if !errors.Is(err, store.ErrLocked) {
		t.Errorf("utility bill of a billed period: %v", err)
	}
	err = st.Update(func(tx store.Tx) error {
		_, err := PutPrices(tx, s.ID, &DynamicPrices{From: to - 1, Grid: []core.Price{100_000, 100_000}})
		return err
	})
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), "billed period "+p.String()) {
		t.Errorf("dynamic prices reaching into a billed period: %v", err)
	}
	err = st.Update(func(tx store.Tx) error {
		_, err := PutPrices(tx, s.ID, &DynamicPrices{From: to, Grid: []core.Price{100_000}})
		return err
	})
	if err != nil {
		t.Errorf("dynamic prices after the billed period: %v", err)
	}
	// Unlock and bill again: Load brings the numbers back.
	err = st.Update(func(tx store.Tx) error {
		if err := tx.UnlockPeriod(s.ID, p); err != nil {
			return err
		}
		in, err := Load(tx, s, p)
		if err != nil {
			return err
		}
		r, err := Bill(in)
		if err != nil {
			return err
		}
		for _, inv := range r.Invoices {
			if inv.Number != numbers[inv.Key] {
				t.Errorf("re-billed %s: number %d, want %d", inv.Key, inv.Number, numbers[inv.Key])
			}
		}
		if err := Commit(tx, r, now, nil); err != nil {
			return err
		}
		rec, err := StoredRun(tx, s.ID, p)
		if err != nil || len(rec.Numbers) != len(numbers) || len(rec.Run) == 0 {
			t.Errorf("stored run %+v %v", rec, err)
		}
		c, _ := tx.GetMeta(BucketCounter, s.ID)
		if string(c) != "4" {
			t.Errorf("counter %q after re-commit, want 4", c)
		}
		// A dry run of a period overlapping the billed one warns that
		// those days would be billed twice.
		wider := period("2026-01-04", "2026-01-06")
		in, err = Load(tx, s, wider)
		if err != nil {
			return err
		}
		r, err = Bill(in)
		if err != nil {
			return err
		}
		if w := strings.Join(r.Warnings, "\n"); !strings.Contains(w, "already issued for 2026-01-05..2026-01-05") {
			t.Errorf("no double-billing warning: %s", w)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A tenant moving out mid-period gets the register reading at the move-out
// midnight as the end reading; the next tenant starts with it.
func TestLoadMoveOutReadings(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "z.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := baseSite()
	s.Occupancies = []core.Occupancy{{Unit: "W01", Name: "Anna", From: date("2025-01-01"), To: date("2026-01-05")},
		{Unit: "W01", Name: "Ben", From: date("2026-01-06")}}
	p := period("2026-01-05", "2026-01-06")
	loc := s.Location()
	mid := func(d string) time.Time { return date(d).Midnight(loc) }
	err = st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(s); err != nil {
			return err
		}
		_, err := tx.PutRegisters(s.ID, "M-W01", []store.Register{
			{Time: mid("2026-01-05"), Import: kwhE("100")},
			{Time: mid("2026-01-06"), Import: kwhE("109.6")},
			{Time: mid("2026-01-07"), Import: kwhE("119.2")}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var r *Run
	err = st.View(func(tx store.Tx) error {
		in, err := Load(tx, s, p)
		if err == nil {
			r, err = Bill(in)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	anna, ben := invoiceOf(t, r, "occ:W01:Anna:2025-01-01"), invoiceOf(t, r, "occ:W01:Ben:2026-01-06")
	if len(anna.Readings) != 1 || anna.Readings[0].Start == nil || anna.Readings[0].End == nil ||
		anna.Readings[0].Start.Import != kwhE("100") || anna.Readings[0].End.Import != kwhE("109.6") {
		t.Errorf("Anna readings %+v", anna.Readings)
	}
	if len(ben.Readings) != 1 || ben.Readings[0].Start == nil || ben.Readings[0].Start.Import != kwhE("109.6") ||
		ben.Readings[0].End.Import != kwhE("119.2") {
		t.Errorf("Ben readings %+v", ben.Readings)
	}
}

// An invoice that a re-commit no longer has keeps its number as voided:
// the number is not given to anyone else, the audit log names it, and the
// invoice gets it back if it returns.
func TestCommitVoidsVanishedNumbers(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "z.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := period("2026-01-05", "2026-01-05")
	now := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	beat := "occ:W02:Beat Beispiel:2020-01-01"
	carla := "occ:W02:Carla:2020-01-01"
	// commit stores site, bills p from the store, commits and returns the
	// numbers by key and the stored record.
	commit := func(s *core.Site) (map[string]int, *Record) {
		t.Helper()
		nums := map[string]int{}
		var rec *Record
		err := st.Update(func(tx store.Tx) error {
			if err := tx.PutSite(s); err != nil {
				return err
			}
			if err := tx.UnlockPeriod(s.ID, p); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			in, err := Load(tx, s, p)
			if err != nil {
				return err
			}
			r, err := Bill(in)
			if err != nil {
				return err
			}
			// The day has no data: this test is about numbers.
			if err := Commit(tx, r, now, &CommitOptions{Accept: r.Unknown()}); err != nil {
				return err
			}
			for _, inv := range r.Invoices {
				nums[inv.Key] = inv.Number
			}
			rec, err = StoredRun(tx, s.ID, p)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return nums, rec
	}
	s := baseSite()
	nums, _ := commit(s)
	if nums[beat] != 2 {
		t.Fatalf("first commit: %v", nums)
	}
	// The W02 tenancy was entered wrongly: it is Carla's. Beat's number 2
	// is voided, Carla gets 3.
	s2 := baseSite()
	s2.Occupancies[1].Name = "Carla"
	nums, rec := commit(s2)
	if nums[carla] != 3 || nums["occ:W01:Anna Muster:2020-01-01"] != 1 || rec.Voided[beat] != 2 || len(rec.Voided) != 1 {
		t.Errorf("after the correction: numbers %v, voided %v", nums, rec.Voided)
	}
	var audit []string
	st.View(func(tx store.Tx) error {
		return tx.ScanAudit(0, func(e store.Entry) bool { audit = append(audit, e.Detail); return true })
	})
	if last := audit[len(audit)-1]; !strings.Contains(last, "voided (no longer in the run): 2 ("+beat+")") {
		t.Errorf("audit does not explain the gap: %q", last)
	}
	// Back to Beat: he gets 2 again, Carla's 3 is voided, the counter stays.
	nums, rec = commit(s)
	if nums[beat] != 2 || rec.Voided[carla] != 3 || rec.Voided[beat] != 0 {
		t.Errorf("Beat back: numbers %v, voided %v", nums, rec.Voided)
	}
	st.View(func(tx store.Tx) error {
		if c, _ := tx.GetMeta(BucketCounter, s.ID); string(c) != "3" {
			t.Errorf("counter %q, want 3", c)
		}
		return nil
	})
}

// Commit refuses a run with a meter without any value unless the office
// accepts exactly that gap; a refused commit writes nothing, an accepted one
// names the gap in the audit log.
func TestCommitUnknownGap(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "z.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := baseSite()
	p := period("2026-01-05", "2026-01-05")
	from, to := p.Slots(s.Location())
	now := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	// W01 metered all day, W02 not at all.
	var vals []store.Value
	for sl := from; sl < to; sl++ {
		vals = append(vals, store.Value{Slot: sl, Energy: kwhE("0.1"), Quality: store.Measured})
	}
	err = st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(s); err != nil {
			return err
		}
		_, err := tx.PutIntervals(store.SeriesID{Site: s.ID, Meter: "M-W01", Channel: store.Import}, vals, store.KeepFirst)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	commit := func(accept func(r *Run) []Missing) error {
		return st.Update(func(tx store.Tx) error {
			in, err := Load(tx, s, p)
			if err != nil {
				return err
			}
			r, err := Bill(in)
			if err != nil {
				return err
			}
			return Commit(tx, r, now, &CommitOptions{Actor: "office", Accept: accept(r)})
		})
	}
	written := func() (locks []store.Lock, audit []store.Entry, counter bool) {
		st.View(func(tx store.Tx) error {
			locks, _ = tx.LocksOf(s.ID)
			_, err := tx.GetMeta(BucketCounter, s.ID)
			counter = err == nil
			return tx.ScanAudit(0, func(e store.Entry) bool { audit = append(audit, e); return true })
		})
		return
	}
	const gap = "meter M-W02: no value in 96 of 96 intervals (5.1.2026), unknown amount"
	err = commit(func(*Run) []Missing { return nil })
	var ue *UnknownError
	if !errors.As(err, &ue) || len(ue.Gaps) != 1 || !strings.Contains(err.Error(), gap) {
		t.Fatalf("commit without acceptance: %v", err)
	}
	// An acceptance of what the office saw before the data changed is no
	// acceptance of the gap now.
	err = commit(func(r *Run) []Missing {
		u := r.Unknown()
		u[0].Slots--
		return u
	})
	if !errors.As(err, &ue) {
		t.Fatalf("commit with a stale acceptance: %v", err)
	}
	if locks, audit, counter := written(); len(locks) != 0 || len(audit) != 0 || counter {
		t.Fatalf("refused commits wrote: locks %+v, audit %+v, counter %v", locks, audit, counter)
	}
	if err := commit((*Run).Unknown); err != nil {
		t.Fatalf("accepted: %v", err)
	}
	locks, audit, _ := written()
	if len(locks) != 1 || len(audit) != 2 || audit[0].Action != ActionAcceptMissing || audit[0].Actor != "office" ||
		audit[0].Detail != "2026-01-05..2026-01-05: finalized without the unknown consumption, as accepted: "+gap ||
		audit[1].Action != "period.bill" {
		t.Errorf("after accepting: locks %+v, audit %+v", locks, audit)
	}
}

// PutPrices merges per interval, the newest price winning, and keeps the
// stored series from overlapping; series that an older version stored
// overlapping are merged as billing always read them (in key order, a
// later one winning), so that no billed price changes by the merge.
func TestPutPricesMerge(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "z.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := baseSite()
	p := period("2026-01-05", "2026-01-05")
	from, _ := p.Slots(s.Location())
	pr := func(rp int) core.Price { return core.Price(rp * 10_000) }
	legacy := func(tx store.Tx, d DynamicPrices) error {
		v, _ := json.Marshal(d)
		return tx.PutMeta(BucketPrices, pricesKey(s.ID, d.From), v)
	}
	// Two series as the old PutPrices stored them: 0..3 and, overlapping,
	// 2..5; where both have a price, billing read the later key's.
	err = st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(s); err != nil {
			return err
		}
		if err := legacy(tx, DynamicPrices{From: from, Grid: []core.Price{pr(10), pr(11), pr(12), pr(13)}}); err != nil {
			return err
		}
		return legacy(tx, DynamicPrices{From: from + 2, Grid: []core.Price{pr(22), 0, pr(24), pr(25)}})
	})
	if err != nil {
		t.Fatal(err)
	}
	read := func() (grid []core.Price, keys []string) {
		t.Helper()
		st.View(func(tx store.Tx) error {
			in, err := Load(tx, s, p)
			if err != nil {
				t.Fatal(err)
			}
			grid = in.Prices.Grid[:8]
			return tx.ScanMeta(BucketPrices, func(k string, _ []byte) bool { keys = append(keys, k); return true })
		})
		return grid, keys
	}
	want := []core.Price{pr(10), pr(11), pr(22), pr(13), pr(24), pr(25), 0, 0}
	if got, _ := read(); !slices.Equal(got, want) {
		t.Fatalf("legacy read %v, want %v", got, want)
	}
	put := func(d DynamicPrices) (PriceResult, error) {
		var res PriceResult
		err := st.Update(func(tx store.Tx) (err error) {
			res, err = PutPrices(tx, s.ID, &d)
			return err
		})
		return res, err
	}
	// Prices at 5 and 6, overlapping the later legacy series: both legacy
	// series are merged with it into one, the lookups otherwise unchanged.
	res, err := put(DynamicPrices{From: from + 5, Grid: []core.Price{pr(35), pr(36)}})
	if err != nil || res != (PriceResult{Prices: 2, Replaced: 1, New: 1}) {
		t.Fatalf("put: %+v %v", res, err)
	}
	want = []core.Price{pr(10), pr(11), pr(22), pr(13), pr(24), pr(35), pr(36), 0}
	got, keys := read()
	if !slices.Equal(got, want) || len(keys) != 1 || keys[0] != pricesKey(s.ID, from) {
		t.Errorf("after merging: %v under %q, want %v under one key", got, keys, want)
	}
	// The same prices again change nothing.
	if res, err := put(DynamicPrices{From: from, Grid: []core.Price{pr(10), 0, pr(22)}}); err != nil ||
		res != (PriceResult{Prices: 2, Unchanged: 2}) {
		t.Errorf("unchanged: %+v %v", res, err)
	}
	// A series that only adjoins is stored on its own.
	if _, err := put(DynamicPrices{From: from + 7, Grid: []core.Price{pr(47)}}); err != nil {
		t.Fatal(err)
	}
	want[7] = pr(47)
	if got, keys := read(); !slices.Equal(got, want) || len(keys) != 2 {
		t.Errorf("adjoining: %v under %q", got, keys)
	}
	// In a billed period only identical prices are accepted; a change
	// refuses the whole series and stores none of it.
	err = st.Update(func(tx store.Tx) error {
		return tx.LockPeriod(store.Lock{Site: s.ID, Period: p, Time: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)})
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = put(DynamicPrices{From: from + 6, Grid: []core.Price{pr(36), pr(99)}})
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), "05.01.2026 01:45 lies in the billed period 2026-01-05..2026-01-05 (billed on 01.02.2026 10:00)") {
		t.Errorf("change in a billed period: %v", err)
	}
	if got, _ := read(); !slices.Equal(got, want) {
		t.Errorf("after the refused change: %v, want %v", got, want)
	}
	if res, err := put(DynamicPrices{From: from + 6, Grid: []core.Price{pr(36), pr(47)}}); err != nil ||
		res != (PriceResult{Prices: 2, Unchanged: 2}) {
		t.Errorf("identical prices in a billed period: %+v %v", res, err)
	}
}
