// Package storetest is the behaviour every store.Store implementation must
// show, as one suite: an implementation's tests call Run with a function that
// opens a fresh, empty store.
package storetest

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// Run runs the shared suite. open must return a new empty store for each
// call; Run closes it at the end of each subtest.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, st store.Store)
	}{
		{"Sites", testSites},
		{"PutSemantics", testPutSemantics},
		{"Idempotent", testIdempotent},
		{"ReadDense", testReadDense},
		{"Values", testValues},
		{"SeriesIDs", testSeriesIDs},
		{"Locked", testLocked},
		{"Locks", testLocks},
		{"Registers", testRegisters},
		{"Replacements", testReplacements},
		{"Records", testRecords},
		{"Flags", testFlags},
		{"Audit", testAudit},
		{"Meta", testMeta},
		{"ReadOnly", testReadOnly},
		{"Rollback", testRollback},
		{"RollbackOnPanic", testRollbackOnPanic},
		{"InvalidInput", testInvalidInput},
		{"Concurrent", testConcurrent},
		{"Notify", testNotify},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t)
			defer func() {
				if err := st.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
			tc.fn(t, st)
		})
	}
}

// day0 is the first slot of a UTC day, so that tests control day boundaries.
var day0 = core.MustDate(2026, 3, 2).FirstSlot(time.UTC)

const perDay = core.SlotsPerUTCDay

func update(t *testing.T, st store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := st.Update(fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, st store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := st.View(fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func vat(bp core.BasisPoints) *core.BasisPoints { return &bp }

// FullSite returns a site that uses every field of core.Site, for round
// trips.
func FullSite(id string) *core.Site {
	ht := core.Window{Start: 7 * 60, End: 20 * 60}
	for d := time.Monday; d <= time.Friday; d++ {
		ht.Days[d] = true
	}
	sat := core.Window{Start: 7 * 60, End: 13 * 60}
	sat.Days[time.Saturday] = true
	return &core.Site{
		ID:         id,
		Name:       "ZEV Birkenweg 12",
		Timezone:   "Europe/Zurich",
		Allocation: core.AllocProportional,
		VATNumber:  "CHE-123.456.789 MWST",
		Address:    core.Address{Street: "Birkenweg", Number: "12", Postcode: "3012", Town: "Bern", Country: "CH"},
		Operator: core.Operator{Name: "Immo Muster AG", Address: core.Address{Street: "Marktgasse", Number: "5",
			Postcode: "3011", Town: "Bern", Country: "CH"}, IBAN: "CH4431999123000889012", Email: "a@b.ch", Phone: "031 000 00 00"},
		Owner: "Eigentümer AG",
		Units: []core.Unit{{ID: "W01", Name: "2.5 Zimmer EG links", Area: 6250, Quota: 120, Weight: 3},
			{ID: "W02", Name: "4.5 Zimmer", Area: 10025}},
		Meters: []core.Meter{{ID: "PV", Role: core.RoleProduction, MaxPowerW: 30000},
			{ID: "GRID", Name: "EVU", Role: core.RoleGrid},
			{ID: "M-W01", Role: core.RoleUnit, Unit: "W01"},
			{ID: "ALLG", Role: core.RoleCommon, Key: core.KeyArea}},
		Occupancies: []core.Occupancy{
			{Unit: "W01", Name: "Anna Muster", From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 2, 14),
				Language: "de", Reference: "M-1001", Address: core.Address{Street: "Birkenweg", Number: "12"},
				Email: "anna@example.ch", AdvanceMonth: 4500},
			{Unit: "W01", Name: "Luc Exemple", From: core.MustDate(2026, 2, 15), Language: "fr"},
		},
		Tariffs: []core.Tariff{
			{From: core.MustDate(2026, 1, 1), Solar: 200000, GridHT: 300000, GridNT: 220000,
				HT: []core.Window{ht, sat}, BaseFeeMonth: 500, MeteringMonth: 300, VAT: vat(810), Standard: 310000},
			{From: core.MustDate(2026, 7, 1), Solar: 190000, Grid: 280000, VAT: vat(0)},
		},
		Holidays: []core.Date{core.MustDate(2026, 1, 1), core.MustDate(2026, 8, 1)},
		Settings: core.Settings{Period: "quarter", CollectSelf: true, RefuseMissing: true, RoundTo5: true,
			Redistribute: true, BalanceTolerance: 150},
	}
}

func testSites(t *testing.T, st store.Store) {
	full := FullSite("birkenweg")
	minimal := &core.Site{ID: "a-min", Name: "Minimal", Timezone: "UTC", Allocation: core.AllocEqual}
	update(t, st, func(tx store.Tx) error {
		for _, s := range []*core.Site{full, minimal} {
			if err := tx.PutSite(s); err != nil {
				return err
			}
		}
		return nil
	})
	// The caller's site is not shared with the store.
	full.Name = "changed after PutSite"
	view(t, st, func(tx store.Tx) error {
		ids, err := tx.SiteIDs()
		if err != nil {
			return err
		}
		if want := []string{"a-min", "birkenweg"}; !slices.Equal(ids, want) {
			t.Errorf("SiteIDs = %q, want %q", ids, want)
		}
		got, err := tx.Site("birkenweg")
		if err != nil {
			return err
		}
		want := FullSite("birkenweg")
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Site round trip:\n got %+v\nwant %+v", got, want)
		}
		if got.Tariffs[0].VAT == nil || *got.Tariffs[0].VAT != 810 || got.Tariffs[1].VAT == nil || *got.Tariffs[1].VAT != 0 {
			t.Errorf("tariff VAT pointers lost: %v %v", got.Tariffs[0].VAT, got.Tariffs[1].VAT)
		}
		got, err = tx.Site("a-min")
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, minimal) {
			t.Errorf("minimal site round trip:\n got %+v\nwant %+v", got, minimal)
		}
		if _, err := tx.Site("nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Site(missing) = %v, want ErrNotFound", err)
		}
		return nil
	})
	// PutSite replaces.
	update(t, st, func(tx store.Tx) error { return tx.PutSite(full) })
	view(t, st, func(tx store.Tx) error {
		got, err := tx.Site("birkenweg")
		if err != nil {
			return err
		}
		if got.Name != "changed after PutSite" {
			t.Errorf("after replacing, Name = %q", got.Name)
		}
		return nil
	})
}

// v builds a Value.
func v(slot core.Slot, e core.Energy, q store.Quality) store.Value {
	return store.Value{Slot: slot, Energy: e, Quality: q}
}

type put struct {
	vals []store.Value
	mode store.PutMode
}

func testPutSemantics(t *testing.T, st store.Store) {
	const (
		M = store.Measured
		E = store.Estimated
		D = store.Edited
		X = store.Missing
	)
	s := day0 + 10
	tests := []struct {
		name   string
		before []store.Value // stored first, in KeepFirst mode
		put    put
		want   store.PutResult
		after  []store.Value // the slots afterwards
	}{
		{"new values are written",
			nil,
			put{[]store.Value{v(s, 100, M), v(s+1, 200, M), v(s+2, 300, E)}, store.KeepFirst},
			store.PutResult{Written: 3},
			[]store.Value{v(s, 100, M), v(s+1, 200, M), v(s+2, 300, E)}},
		{"identical values change nothing",
			[]store.Value{v(s, 100, M), v(s+1, 200, E)},
			put{[]store.Value{v(s, 100, M), v(s+1, 200, E)}, store.KeepFirst},
			store.PutResult{Unchanged: 2},
			[]store.Value{v(s, 100, M), v(s+1, 200, E)}},
		{"identical values change nothing in Replace mode",
			[]store.Value{v(s, 100, M)},
			put{[]store.Value{v(s, 100, M)}, store.Replace},
			store.PutResult{Unchanged: 1},
			[]store.Value{v(s, 100, M)}},
		{"differing measured value is kept and reported",
			[]store.Value{v(s, 100, M), v(s+1, 5, M)},
			put{[]store.Value{v(s, 150, M), v(s+1, 5, M), v(s+2, 7, M)}, store.KeepFirst},
			store.PutResult{Written: 1, Unchanged: 1, Conflicts: []store.Conflict{
				{Slot: s, Stored: v(s, 100, M), Incoming: v(s, 150, M)}}},
			[]store.Value{v(s, 100, M), v(s+1, 5, M), v(s+2, 7, M)}},
		{"Replace overwrites a measured value",
			[]store.Value{v(s, 100, M), v(s+1, 5, M)},
			put{[]store.Value{v(s, 150, D), v(s+1, 6, M)}, store.Replace},
			store.PutResult{Replaced: 2},
			[]store.Value{v(s, 150, D), v(s+1, 6, M)}},
		{"measurement replaces an estimate",
			[]store.Value{v(s, 100, E), v(s+1, 100, E)},
			put{[]store.Value{v(s, 120, M), v(s+1, 100, M)}, store.KeepFirst},
			store.PutResult{Written: 2},
			[]store.Value{v(s, 120, M), v(s+1, 100, M)}},
		{"edit replaces an estimate",
			[]store.Value{v(s, 100, E)},
			put{[]store.Value{v(s, 90, D)}, store.KeepFirst},
			store.PutResult{Written: 1},
			[]store.Value{v(s, 90, D)}},
		{"measurement replaces an estimate in Replace mode and counts as written",
			[]store.Value{v(s, 100, E)},
			put{[]store.Value{v(s, 120, M)}, store.Replace},
			store.PutResult{Written: 1},
			[]store.Value{v(s, 120, M)}},
		{"a later estimate replaces an earlier one",
			[]store.Value{v(s, 100, E)},
			put{[]store.Value{v(s, 110, E)}, store.KeepFirst},
			store.PutResult{Written: 1},
			[]store.Value{v(s, 110, E)}},
		{"an estimate does not replace a measurement",
			[]store.Value{v(s, 100, M)},
			put{[]store.Value{v(s, 110, E)}, store.KeepFirst},
			store.PutResult{Conflicts: []store.Conflict{{Slot: s, Stored: v(s, 100, M), Incoming: v(s, 110, E)}}},
			[]store.Value{v(s, 100, M)}},
		{"same energy with another quality is a conflict",
			[]store.Value{v(s, 100, M)},
			put{[]store.Value{v(s, 100, D)}, store.KeepFirst},
			store.PutResult{Conflicts: []store.Conflict{{Slot: s, Stored: v(s, 100, M), Incoming: v(s, 100, D)}}},
			[]store.Value{v(s, 100, M)}},
		{"an edited value is kept like a measured one",
			[]store.Value{v(s, 100, D)},
			put{[]store.Value{v(s, 130, M)}, store.KeepFirst},
			store.PutResult{Conflicts: []store.Conflict{{Slot: s, Stored: v(s, 100, D), Incoming: v(s, 130, M)}}},
			[]store.Value{v(s, 100, D)}},
		{"Missing input is ignored",
			[]store.Value{v(s, 100, M)},
			put{[]store.Value{v(s, 0, X), v(s+1, 55, X)}, store.Replace},
			store.PutResult{},
			[]store.Value{v(s, 100, M), v(s+1, 0, X)}},
		{"any order, conflicts in slot order, across days",
			[]store.Value{v(s+perDay, 1, M), v(s, 2, M)},
			put{[]store.Value{v(s+perDay, 10, M), v(s+3, 4, M), v(s, 20, M), v(s-perDay, 7, M)}, store.KeepFirst},
			store.PutResult{Written: 2, Conflicts: []store.Conflict{
				{Slot: s, Stored: v(s, 2, M), Incoming: v(s, 20, M)},
				{Slot: s + perDay, Stored: v(s+perDay, 1, M), Incoming: v(s+perDay, 10, M)}}},
			[]store.Value{v(s-perDay, 7, M), v(s, 2, M), v(s+3, 4, M), v(s+perDay, 1, M)}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := store.SeriesID{Site: "s", Meter: fmt.Sprintf("M%02d", i), Channel: store.Import}
			if tc.before != nil {
				update(t, st, func(tx store.Tx) error {
					res, err := tx.PutIntervals(id, tc.before, store.KeepFirst)
					if err == nil && res.Written != len(tc.before) {
						t.Fatalf("setup wrote %d of %d", res.Written, len(tc.before))
					}
					return err
				})
			}
			var got store.PutResult
			update(t, st, func(tx store.Tx) error {
				var err error
				got, err = tx.PutIntervals(id, tc.put.vals, tc.put.mode)
				return err
			})
			if !reflect.DeepEqual(normResult(got), normResult(tc.want)) {
				t.Errorf("PutIntervals = %+v\nwant %+v", got, tc.want)
			}
			checkValues(t, st, id, tc.after)
		})
	}
}

func normResult(r store.PutResult) store.PutResult {
	if len(r.Conflicts) == 0 {
		r.Conflicts = nil
	}
	return r
}

// checkValues reads each value's slot and compares.
func checkValues(t *testing.T, st store.Store, id store.SeriesID, want []store.Value) {
	t.Helper()
	view(t, st, func(tx store.Tx) error {
		var ser store.Series
		for _, w := range want {
			if err := tx.ReadIntervals(id, w.Slot, w.Slot+1, &ser); err != nil {
				return err
			}
			got := v(w.Slot, ser.Energy[0], ser.Quality[0])
			if got != w {
				t.Errorf("slot %s: got %d %s, want %d %s", w.Slot, got.Energy, got.Quality, w.Energy, w.Quality)
			}
		}
		return nil
	})
}

// dayOfValues returns a realistic day: household load with noise in Wh
// resolution, some slots estimated.
func dayOfValues(from core.Slot, n int, seed int64) []store.Value {
	vals := make([]store.Value, n)
	x := uint64(seed)*2654435761 + 1
	for i := range vals {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		q := store.Measured
		if x%17 == 0 {
			q = store.Estimated
		}
		vals[i] = v(from+core.Slot(i), core.Energy(50+x%350)*core.Wh, q)
	}
	return vals
}

func testIdempotent(t *testing.T, st store.Store) {
	id := store.SeriesID{Site: "s", Meter: "M", Channel: store.Import}
	vals := dayOfValues(day0-37, 3*perDay+50, 1)
	regs := []store.Register{{Time: day0.Time(), Import: 1000, Export: 5}, {Time: day0.Time().Add(time.Hour), Import: 2000, Export: 5}}
	recs := []store.Record{{Source: "gw", Seq: 1, Meter: "m1", Time: day0.Time(), Import: 1}, {Source: "gw", Seq: 2, Meter: "m1", Time: day0.Time(), Import: 2}}
	var before string
	for round := range 2 {
		update(t, st, func(tx store.Tx) error {
			res, err := tx.PutIntervals(id, vals, store.KeepFirst)
			if err != nil {
				return err
			}
			want := store.PutResult{Written: len(vals)}
			if round == 1 {
				want = store.PutResult{Unchanged: len(vals)}
			}
			if !reflect.DeepEqual(normResult(res), want) {
				t.Errorf("round %d: PutIntervals = %+v, want %+v", round, res, want)
			}
			c, err := tx.PutRegisters("s", "M", regs)
			if err != nil {
				return err
			}
			if len(c) != 0 {
				t.Errorf("round %d: register conflicts %v", round, c)
			}
			n, err := tx.PutRecords(recs)
			if err != nil {
				return err
			}
			if want := 2 - 2*round; n != want {
				t.Errorf("round %d: PutRecords = %d new, want %d", round, n, want)
			}
			return nil
		})
		d := dump(t, st, "s")
		if round == 0 {
			before = d
		} else if d != before {
			t.Errorf("storing the same data twice changed the store:\nfirst  %s\nsecond %s", before, d)
		}
	}
}

func testReadDense(t *testing.T, st store.Store) {
	id := store.SeriesID{Site: "s", Meter: "M1", Channel: store.Export}
	// Day 0 slots 90..95, day 1 slots 0..5 without 2, nothing on day 2,
	// day 3 slots 0..3.
	var vals []store.Value
	for i := 90; i < 96; i++ {
		vals = append(vals, v(day0+core.Slot(i), core.Energy(i), store.Measured))
	}
	for i := range 6 {
		if i != 2 {
			vals = append(vals, v(day0+perDay+core.Slot(i), core.Energy(1000+i), store.Estimated))
		}
	}
	for i := range 4 {
		vals = append(vals, v(day0+3*perDay+core.Slot(i), -core.Energy(i), store.Edited))
	}
	update(t, st, func(tx store.Tx) error {
		_, err := tx.PutIntervals(id, vals, store.KeepFirst)
		if err != nil {
			return err
		}
		// Neighbours that must not leak into M1/export.
		if _, err := tx.PutIntervals(store.SeriesID{Site: "s", Meter: "M1", Channel: store.Import}, dayOfValues(day0, 4*perDay, 2), store.KeepFirst); err != nil {
			return err
		}
		if _, err := tx.PutIntervals(store.SeriesID{Site: "s", Meter: "M10", Channel: store.Export}, dayOfValues(day0, 4*perDay, 3), store.KeepFirst); err != nil {
			return err
		}
		_, err = tx.PutIntervals(store.SeriesID{Site: "s2", Meter: "M1", Channel: store.Export}, dayOfValues(day0, 4*perDay, 4), store.KeepFirst)
		return err
	})
	stored := map[core.Slot]store.Value{}
	for _, x := range vals {
		stored[x.Slot] = x
	}
	ranges := []struct {
		name     string
		from, to core.Slot
	}{
		{"across days with gaps", day0 + 88, day0 + 3*perDay + 10},
		{"not aligned to days", day0 + 93, day0 + perDay + 4},
		{"inside one day", day0 + perDay + 1, day0 + perDay + 3},
		{"a day without data", day0 + 2*perDay, day0 + 3*perDay},
		{"before any data", day0 - 500, day0 - 400},
		{"single slot", day0 + 95, day0 + 96},
		{"empty range", day0 + 95, day0 + 95},
		{"long range", day0 - 1000, day0 + 1000},
	}
	for _, r := range ranges {
		t.Run(r.name, func(t *testing.T) {
			// A reused destination with stale contents and spare capacity.
			ser := store.Series{From: 1, Energy: make([]core.Energy, 3, 4000), Quality: make([]store.Quality, 3, 4000)}
			for i := range 3 {
				ser.Energy[i], ser.Quality[i] = 99, store.Measured
			}
			ser.Energy[:4000][3999] = 99
			ser.Quality[:4000][3999] = store.Measured
			view(t, st, func(tx store.Tx) error { return tx.ReadIntervals(id, r.from, r.to, &ser) })
			if ser.From != r.from || len(ser.Energy) != int(r.to-r.from) || len(ser.Quality) != int(r.to-r.from) {
				t.Fatalf("got From %d len %d/%d, want From %d len %d", ser.From, len(ser.Energy), len(ser.Quality), r.from, r.to-r.from)
			}
			for i := range ser.Energy {
				s := r.from + core.Slot(i)
				w := stored[s]
				if ser.Energy[i] != w.Energy || ser.Quality[i] != w.Quality {
					t.Errorf("slot %s (+%d): got %d %s, want %d %s", s, s-day0, ser.Energy[i], ser.Quality[i], w.Energy, w.Quality)
				}
			}
		})
	}
	view(t, st, func(tx store.Tx) error {
		var ser store.Series
		if err := tx.ReadIntervals(store.SeriesID{Site: "none", Meter: "M1"}, day0, day0+10, &ser); err != nil {
			return err
		}
		if len(ser.Energy) != 10 || slices.ContainsFunc(ser.Quality, func(q store.Quality) bool { return q != store.Missing }) {
			t.Errorf("series of an unknown site: %+v", ser)
		}
		return nil
	})
}

func testValues(t *testing.T, st store.Store) {
	tests := []struct {
		name string
		es   []core.Energy
	}{
		{"zeros", []core.Energy{0, 0, 0, 0}},
		{"negative", []core.Energy{-1, -1000, -123456, 5, -5}},
		{"Wh multiples", []core.Energy{1000, 2000, -3000, 0, 1_000_000, 7000}},
		{"mixed resolution", []core.Energy{1000, 1, 2000, 999, 1001}},
		{"large", []core.Energy{math.MaxInt64, math.MinInt64, 0, math.MaxInt64, -1, math.MinInt64 + 1, 1_000_000_000_000_000_000}},
		{"kWh multiples", []core.Energy{9_000_000_000_000_000_000 / 1000 * 1000, -9_000_000_000_000_000_000}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := store.SeriesID{Site: "s", Meter: fmt.Sprintf("V%d", i)}
			var vals []store.Value
			for j, e := range tc.es {
				// Spread over slots 94.. so that a day boundary is crossed,
				// with a gap after the first value.
				s := day0 + 94 + core.Slot(j)
				if j > 0 {
					s++
				}
				vals = append(vals, v(s, e, store.Measured))
			}
			update(t, st, func(tx store.Tx) error {
				_, err := tx.PutIntervals(id, vals, store.KeepFirst)
				return err
			})
			checkValues(t, st, id, vals)
			checkValues(t, st, id, []store.Value{v(day0+95, 0, store.Missing)})
		})
	}
	// All four qualities in one day and one value per quality change.
	id := store.SeriesID{Site: "s", Meter: "Q"}
	var vals []store.Value
	for i := range perDay {
		vals = append(vals, v(day0+core.Slot(i), core.Energy(i*1000+i%3), store.Quality(i%4)))
	}
	update(t, st, func(tx store.Tx) error {
		_, err := tx.PutIntervals(id, vals, store.KeepFirst)
		return err
	})
	for i := range vals {
		if vals[i].Quality == store.Missing {
			vals[i].Energy = 0
		}
	}
	checkValues(t, st, id, vals)
}

func testSeriesIDs(t *testing.T, st store.Store) {
	ids := []store.SeriesID{
		{Site: "s", Meter: "B", Channel: store.Import},
		{Site: "s", Meter: "A", Channel: store.Export},
		{Site: "s", Meter: "A", Channel: store.Import},
		{Site: "s", Meter: "AB", Channel: store.Import},
		{Site: "t", Meter: "Z", Channel: store.Import},
	}
	update(t, st, func(tx store.Tx) error {
		for i, id := range ids {
			if _, err := tx.PutIntervals(id, dayOfValues(day0+core.Slot(i*500), 300, int64(i)), store.KeepFirst); err != nil {
				return err
			}
		}
		// Missing-only input stores no series.
		_, err := tx.PutIntervals(store.SeriesID{Site: "s", Meter: "C"}, []store.Value{v(day0, 0, store.Missing)}, store.KeepFirst)
		return err
	})
	view(t, st, func(tx store.Tx) error {
		got, err := tx.SeriesIDs("s")
		if err != nil {
			return err
		}
		want := []store.SeriesID{ids[2], ids[1], ids[3], ids[0]}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("SeriesIDs(s) = %v, want %v", got, want)
		}
		got, err = tx.SeriesIDs("none")
		if err != nil || len(got) != 0 {
			t.Errorf("SeriesIDs(none) = %v, %v", got, err)
		}
		return nil
	})
}

func testLocked(t *testing.T, st store.Store) {
	site := FullSite("s") // Europe/Zurich
	q1 := core.Period{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 3, 31)}
	loc := site.Location()
	from, to := q1.Slots(loc)
	if from.Time() != time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC) || to.Time() != time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC) {
		t.Fatalf("test assumption: Q1 2026 in Zurich is %s..%s", from, to)
	}
	id := store.SeriesID{Site: "s", Meter: "M"}
	update(t, st, func(tx store.Tx) error {
		if err := tx.PutSite(site); err != nil {
			return err
		}
		_, err := tx.PutIntervals(id, []store.Value{v(from, 10, store.Measured), v(from+1, 20, store.Estimated)}, store.KeepFirst)
		if err != nil {
			return err
		}
		return tx.LockPeriod(store.Lock{Site: "s", Period: q1, Time: time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC), Note: "Q1 billed"})
	})
	tests := []struct {
		name   string
		vals   []store.Value
		mode   store.PutMode
		locked bool
	}{
		{"new value inside", []store.Value{v(from+5, 1, store.Measured)}, store.KeepFirst, true},
		{"new value on the last slot", []store.Value{v(to-1, 1, store.Measured)}, store.KeepFirst, true},
		{"outside values do not excuse an inside one", []store.Value{v(to, 1, store.Measured), v(from+7, 1, store.Measured)}, store.KeepFirst, true},
		{"estimate replaced inside", []store.Value{v(from+1, 25, store.Measured)}, store.KeepFirst, true},
		{"replace inside", []store.Value{v(from, 11, store.Edited)}, store.Replace, true},
		{"identical value inside", []store.Value{v(from, 10, store.Measured)}, store.Replace, false},
		{"conflict inside changes nothing", []store.Value{v(from, 12, store.Measured)}, store.KeepFirst, false},
		{"missing inside is ignored", []store.Value{v(from+9, 0, store.Missing)}, store.KeepFirst, false},
		{"slot before local midnight", []store.Value{v(from-1, 1, store.Measured)}, store.KeepFirst, false},
		{"first slot after the period", []store.Value{v(to, 1, store.Measured)}, store.KeepFirst, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d0 := dump(t, st, "s")
			var putErr error
			err := st.Update(func(tx store.Tx) error {
				_, putErr = tx.PutIntervals(id, tc.vals, tc.mode)
				return nil // commit whatever the call left behind
			})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.locked {
				if putErr != nil {
					t.Fatalf("PutIntervals: %v", putErr)
				}
				return
			}
			if !errors.Is(putErr, store.ErrLocked) {
				t.Fatalf("PutIntervals = %v, want ErrLocked", putErr)
			}
			if msg := putErr.Error(); !strings.Contains(msg, "s") || !strings.Contains(msg, q1.String()) {
				t.Errorf("error %q does not name the site and period %s", msg, q1)
			}
			if d := dump(t, st, "s"); d != d0 {
				t.Errorf("a failed call changed the store:\nbefore %s\nafter  %s", d0, d)
			}
		})
	}
	// After unlocking, the change goes through.
	update(t, st, func(tx store.Tx) error {
		if err := tx.UnlockPeriod("s", q1); err != nil {
			return err
		}
		res, err := tx.PutIntervals(id, []store.Value{v(from+5, 1, store.Measured)}, store.KeepFirst)
		if err == nil && res.Written != 1 {
			t.Errorf("after unlock: %+v", res)
		}
		return err
	})
}

func testLocks(t *testing.T, st store.Store) {
	at := time.Date(2026, 4, 2, 8, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	p := func(m1, d1, m2, d2 int) core.Period {
		return core.Period{From: core.MustDate(2026, time.Month(m1), d1), To: core.MustDate(2026, time.Month(m2), d2)}
	}
	update(t, st, func(tx store.Tx) error {
		for _, l := range []store.Lock{
			{Site: "s", Period: p(4, 1, 6, 30), Time: at, Note: "Q2"},
			{Site: "s", Period: p(1, 1, 3, 31), Time: at, Note: "Q1"},
			{Site: "s2", Period: p(1, 1, 12, 31), Time: at},
			{Site: "s", Period: p(1, 1, 3, 31), Time: at, Note: "Q1 again"},
		} {
			if err := tx.LockPeriod(l); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, st, func(tx store.Tx) error {
		ls, err := tx.LocksOf("s")
		if err != nil {
			return err
		}
		if len(ls) != 2 || ls[0].Period != p(1, 1, 3, 31) || ls[0].Note != "Q1 again" || ls[1].Period != p(4, 1, 6, 30) ||
			!ls[0].Time.Equal(at) || ls[0].Site != "s" {
			t.Errorf("LocksOf(s) = %+v", ls)
		}
		return nil
	})
	update(t, st, func(tx store.Tx) error {
		if err := tx.UnlockPeriod("s", p(1, 1, 3, 30)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unlocking a period that is not locked = %v, want ErrNotFound", err)
		}
		return tx.UnlockPeriod("s", p(1, 1, 3, 31))
	})
	view(t, st, func(tx store.Tx) error {
		ls, err := tx.LocksOf("s")
		if err != nil {
			return err
		}
		if len(ls) != 1 || ls[0].Note != "Q2" {
			t.Errorf("after unlock: %+v", ls)
		}
		ls, err = tx.LocksOf("none")
		if err != nil || len(ls) != 0 {
			t.Errorf("LocksOf(none) = %v, %v", ls, err)
		}
		return nil
	})
}

func testRegisters(t *testing.T, st store.Store) {
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	zurich := time.FixedZone("CET", 3600)
	update(t, st, func(tx store.Tx) error {
		c, err := tx.PutRegisters("s", "A", []store.Register{
			{Time: at(30), Import: 3000, Export: 1},
			{Time: at(0).In(zurich), Import: 1000, Export: 1},
			{Time: at(15), Import: 2000, Export: 1},
			{Time: at(45).Add(500 * time.Millisecond), Import: 4000, Export: 2},
		})
		if err != nil || len(c) != 0 {
			t.Errorf("PutRegisters: %v %v", c, err)
		}
		// Meters whose ids prefix each other stay apart.
		if _, err := tx.PutRegisters("s", "AB", []store.Register{{Time: at(20), Import: 9}}); err != nil {
			return err
		}
		_, err = tx.PutRegisters("s2", "A", []store.Register{{Time: at(10), Import: 9}})
		return err
	})
	var conflicts []store.Register
	update(t, st, func(tx store.Tx) error {
		var err error
		conflicts, err = tx.PutRegisters("s", "A", []store.Register{
			{Time: at(15), Import: 2000, Export: 1},  // identical
			{Time: at(30), Import: 3001, Export: 1},  // conflict
			{Time: at(60), Import: 5000, Export: 2}}) // new
		return err
	})
	if len(conflicts) != 1 || !conflicts[0].Time.Equal(at(30)) || conflicts[0].Import != 3001 {
		t.Errorf("conflicts = %+v, want the differing reading at +30m", conflicts)
	}
	view(t, st, func(tx store.Tx) error {
		var got []int64
		err := tx.ScanRegisters("s", "A", at(0), at(60), func(r store.Register) bool {
			if r.Time.Location() != time.UTC {
				t.Errorf("reading time %v not in UTC", r.Time)
			}
			got = append(got, int64(r.Import))
			return true
		})
		if err != nil {
			return err
		}
		if want := []int64{1000, 2000, 3000, 4000}; !slices.Equal(got, want) {
			t.Errorf("ScanRegisters [0,60m) = %v, want %v", got, want)
		}
		got = got[:0]
		err = tx.ScanRegisters("s", "A", at(15), at(100), func(r store.Register) bool {
			got = append(got, int64(r.Import))
			return len(got) < 2
		})
		if err != nil {
			return err
		}
		if want := []int64{2000, 3000}; !slices.Equal(got, want) {
			t.Errorf("ScanRegisters stopping after two = %v, want %v", got, want)
		}
		cases := []struct {
			name   string
			before bool
			t      time.Time
			want   int64 // 0: ErrNotFound
		}{
			{"before exact", true, at(30), 2000},
			{"before between", true, at(31), 3000},
			{"before first", true, at(0), 0},
			{"before after last", true, at(1000), 5000},
			{"before sub-second", true, at(45).Add(time.Second), 4000},
			{"at exact", false, at(30), 3000},
			{"at between", false, at(31), 4000},
			{"at before first", false, at(-100), 1000},
			{"at after last", false, at(61), 0},
			{"at sub-second", false, at(45).Add(time.Millisecond), 4000},
		}
		for _, c := range cases {
			var r store.Register
			var err error
			if c.before {
				r, err = tx.RegisterBefore("s", "A", c.t)
			} else {
				r, err = tx.RegisterAtOrAfter("s", "A", c.t)
			}
			switch {
			case c.want == 0 && !errors.Is(err, store.ErrNotFound):
				t.Errorf("%s: got %+v, %v, want ErrNotFound", c.name, r, err)
			case c.want != 0 && (err != nil || int64(r.Import) != c.want):
				t.Errorf("%s: got %+v, %v, want import %d", c.name, r, err, c.want)
			}
		}
		r, err := tx.RegisterAtOrAfter("s", "A", at(45))
		if err != nil || !r.Time.Equal(at(45).Add(500*time.Millisecond)) || r.Export != 2 {
			t.Errorf("sub-second time: %+v %v", r, err)
		}
		if _, err := tx.RegisterBefore("s", "none", at(10)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RegisterBefore(unknown meter) = %v", err)
		}
		return nil
	})
}

func testReplacements(t *testing.T, st store.Store) {
	t1 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	t0 := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	mk := func(at time.Time, note string) store.Replacement {
		return store.Replacement{Time: at, OldFinal: store.Register{Time: at, Import: 123456, Export: 7},
			NewInitial: store.Register{Time: at, Import: 0, Export: 0}, Note: note}
	}
	update(t, st, func(tx store.Tx) error {
		for _, r := range []store.Replacement{mk(t1, "second"), mk(t0, "first")} {
			if err := tx.PutReplacement("s", "M", r); err != nil {
				return err
			}
		}
		return tx.PutReplacement("s", "MX", mk(t0, "other meter"))
	})
	view(t, st, func(tx store.Tx) error {
		rs, err := tx.Replacements("s", "M")
		if err != nil {
			return err
		}
		if want := []store.Replacement{mk(t0, "first"), mk(t1, "second")}; !reflect.DeepEqual(rs, want) {
			t.Errorf("Replacements = %+v\nwant %+v", rs, want)
		}
		rs, err = tx.Replacements("s", "none")
		if err != nil || len(rs) != 0 {
			t.Errorf("Replacements(none) = %v, %v", rs, err)
		}
		return nil
	})
}

func testRecords(t *testing.T, st store.Store) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := func(src string, seq uint64) store.Record {
		return store.Record{Source: src, Seq: seq, Meter: "m-" + src, Time: at.Add(time.Duration(seq) * time.Second),
			Import: core.Energy(seq * 1000), Export: -core.Energy(seq)}
	}
	// A batch and its cursor commit together.
	update(t, st, func(tx store.Tx) error {
		n, err := tx.PutRecords([]store.Record{rec("gw1", 3), rec("gw1", 1), rec("gw1", 2), rec("gw10", 1), rec("gw1", 300)})
		if err != nil {
			return err
		}
		if n != 5 {
			t.Errorf("PutRecords = %d new, want 5", n)
		}
		return tx.SetCursor("gw1", 300)
	})
	// A batch that fails leaves neither records nor cursor.
	boom := errors.New("boom")
	err := st.Update(func(tx store.Tx) error {
		if _, err := tx.PutRecords([]store.Record{rec("gw1", 301)}); err != nil {
			return err
		}
		if err := tx.SetCursor("gw1", 301); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	update(t, st, func(tx store.Tx) error {
		changed := rec("gw1", 2)
		changed.Import = 1
		n, err := tx.PutRecords([]store.Record{changed, rec("gw1", 4)})
		if n != 1 {
			t.Errorf("PutRecords of one stored and one new = %d, want 1", n)
		}
		return err
	})
	view(t, st, func(tx store.Tx) error {
		c, err := tx.Cursor("gw1")
		if err != nil || c != 300 {
			t.Errorf("Cursor(gw1) = %d, %v, want 300", c, err)
		}
		if c, err := tx.Cursor("gw-new"); err != nil || c != 0 {
			t.Errorf("Cursor(unknown) = %d, %v, want 0", c, err)
		}
		var got []store.Record
		err = tx.ScanRecords("gw1", 1, func(r store.Record) bool { got = append(got, r); return true })
		if err != nil {
			return err
		}
		if want := []store.Record{rec("gw1", 2), rec("gw1", 3), rec("gw1", 4), rec("gw1", 300)}; !reflect.DeepEqual(got, want) {
			t.Errorf("ScanRecords(gw1, after 1) =\n%+v\nwant\n%+v", got, want)
		}
		got = got[:0]
		err = tx.ScanRecords("gw1", 0, func(r store.Record) bool { got = append(got, r); return len(got) < 2 })
		if err != nil {
			return err
		}
		if len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 {
			t.Errorf("ScanRecords stopping after two = %+v", got)
		}
		got = got[:0]
		err = tx.ScanRecords("gw1", math.MaxUint64, func(r store.Record) bool { got = append(got, r); return true })
		if err != nil || len(got) != 0 {
			t.Errorf("ScanRecords after MaxUint64 = %v, %v", got, err)
		}
		return nil
	})
}

func testFlags(t *testing.T, st store.Store) {
	f := func(meter string, s core.Slot, kind, reason string) store.Flag {
		return store.Flag{Site: "s", Meter: meter, Slot: s, Kind: kind, Reason: reason}
	}
	update(t, st, func(tx store.Tx) error {
		return tx.PutFlags([]store.Flag{
			f("B", day0+5, "max-power", "1"),
			f("A", day0+7, "gap", "2"),
			f("A", day0+2, "max-power", "3"),
			f("A", day0+2, "gap", "4"),
			f("AB", day0+1, "gap", "5"),
			f("A", day0+900, "gap", "6"),
			{Site: "s2", Meter: "A", Slot: day0 + 3, Kind: "gap", Reason: "other site"},
		})
	})
	update(t, st, func(tx store.Tx) error {
		return tx.PutFlags([]store.Flag{f("A", day0+2, "gap", "4 replaced")})
	})
	scan := func(from, to core.Slot, limit int) []string {
		var got []string
		view(t, st, func(tx store.Tx) error {
			return tx.ScanFlags("s", from, to, func(fl store.Flag) bool {
				got = append(got, fmt.Sprintf("%s@%d/%s:%s", fl.Meter, fl.Slot-day0, fl.Kind, fl.Reason))
				return limit == 0 || len(got) < limit
			})
		})
		return got
	}
	tests := []struct {
		name     string
		from, to core.Slot
		limit    int
		want     []string
	}{
		{"all", day0 - 10, day0 + 1000, 0, []string{"A@2/gap:4 replaced", "A@2/max-power:3", "A@7/gap:2", "A@900/gap:6", "AB@1/gap:5", "B@5/max-power:1"}},
		{"range", day0 + 2, day0 + 7, 0, []string{"A@2/gap:4 replaced", "A@2/max-power:3", "B@5/max-power:1"}},
		{"stop", day0, day0 + 1000, 2, []string{"A@2/gap:4 replaced", "A@2/max-power:3"}},
		{"empty", day0 + 8, day0 + 9, 0, nil},
	}
	for _, tc := range tests {
		if got := scan(tc.from, tc.to, tc.limit); !slices.Equal(got, tc.want) {
			t.Errorf("%s: ScanFlags = %q, want %q", tc.name, got, tc.want)
		}
	}
	update(t, st, func(tx store.Tx) error { return tx.DeleteFlags("s", "A", "gap", day0, day0+8) })
	if got, want := scan(day0-10, day0+1000, 0), []string{"A@2/max-power:3", "A@900/gap:6", "AB@1/gap:5", "B@5/max-power:1"}; !slices.Equal(got, want) {
		t.Errorf("after DeleteFlags: %q, want %q", got, want)
	}
}

func testAudit(t *testing.T, st store.Store) {
	at := time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC)
	e := func(action string) store.Entry {
		return store.Entry{Time: at, Actor: "anna", Site: "s", Action: action, Detail: "detail of " + action}
	}
	var seqs []uint64
	for _, batch := range [][]string{{"site.import"}, {"intervals.replace", "period.unlock"}} {
		update(t, st, func(tx store.Tx) error {
			for _, a := range batch {
				seq, err := tx.AppendAudit(e(a))
				if err != nil {
					return err
				}
				seqs = append(seqs, seq)
			}
			return nil
		})
	}
	_ = st.Update(func(tx store.Tx) error {
		if _, err := tx.AppendAudit(e("rolled.back")); err != nil {
			return err
		}
		return errors.New("abort")
	})
	update(t, st, func(tx store.Tx) error {
		seq, err := tx.AppendAudit(e("later"))
		seqs = append(seqs, seq)
		return err
	})
	if seqs[0] == 0 || !slices.IsSorted(seqs) || len(slices.Compact(slices.Clone(seqs))) != len(seqs) {
		t.Errorf("sequence numbers %v are not increasing from 1", seqs)
	}
	view(t, st, func(tx store.Tx) error {
		var got []store.Entry
		if err := tx.ScanAudit(0, func(x store.Entry) bool { got = append(got, x); return true }); err != nil {
			return err
		}
		actions := []string{"site.import", "intervals.replace", "period.unlock", "later"}
		if len(got) != len(actions) {
			t.Fatalf("ScanAudit(0) = %+v", got)
		}
		for i, x := range got {
			want := e(actions[i])
			want.Seq = seqs[i]
			if x != want {
				t.Errorf("entry %d = %+v, want %+v", i, x, want)
			}
		}
		got = got[:0]
		if err := tx.ScanAudit(seqs[1], func(x store.Entry) bool { got = append(got, x); return len(got) < 1 }); err != nil {
			return err
		}
		if len(got) != 1 || got[0].Seq != seqs[2] {
			t.Errorf("ScanAudit(after %d) stopping after one = %+v", seqs[1], got)
		}
		return nil
	})
}

func testMeta(t *testing.T, st store.Store) {
	update(t, st, func(tx store.Tx) error {
		for _, kv := range [][3]string{{"pairing", "gw2", "b"}, {"pairing", "gw1", "a"}, {"counters", "gw1", "c"}, {"pairing", "gw3", ""}} {
			if err := tx.PutMeta(kv[0], kv[1], []byte(kv[2])); err != nil {
				return err
			}
		}
		return tx.PutMeta("pairing", "gw2", []byte("b2"))
	})
	view(t, st, func(tx store.Tx) error {
		got, err := tx.GetMeta("pairing", "gw2")
		if err != nil || string(got) != "b2" {
			t.Errorf("GetMeta(pairing, gw2) = %q, %v", got, err)
		}
		got[0] = 'X' // the copy is the caller's
		got, err = tx.GetMeta("pairing", "gw3")
		if err != nil || len(got) != 0 {
			t.Errorf("GetMeta of an empty value = %q, %v", got, err)
		}
		for _, k := range [][2]string{{"pairing", "none"}, {"none", "gw1"}} {
			if _, err := tx.GetMeta(k[0], k[1]); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetMeta(%s, %s) = %v, want ErrNotFound", k[0], k[1], err)
			}
		}
		var kvs []string
		err = tx.ScanMeta("pairing", func(k string, v []byte) bool { kvs = append(kvs, k+"="+string(v)); return true })
		if err != nil {
			return err
		}
		if want := []string{"gw1=a", "gw2=b2", "gw3="}; !slices.Equal(kvs, want) {
			t.Errorf("ScanMeta = %q, want %q", kvs, want)
		}
		kvs = kvs[:0]
		if err := tx.ScanMeta("pairing", func(k string, v []byte) bool { kvs = append(kvs, k); return false }); err != nil {
			return err
		}
		if len(kvs) != 1 {
			t.Errorf("ScanMeta did not stop: %q", kvs)
		}
		return tx.ScanMeta("none", func(string, []byte) bool { t.Error("ScanMeta(none) called fn"); return true })
	})
	update(t, st, func(tx store.Tx) error {
		if err := tx.DeleteMeta("pairing", "gw1"); err != nil {
			return err
		}
		if err := tx.DeleteMeta("pairing", "gw1"); err != nil {
			t.Errorf("deleting a missing key: %v", err)
		}
		return tx.DeleteMeta("none", "x")
	})
	view(t, st, func(tx store.Tx) error {
		if _, err := tx.GetMeta("pairing", "gw1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after delete: %v", err)
		}
		if got, err := tx.GetMeta("counters", "gw1"); err != nil || string(got) != "c" {
			t.Errorf("other bucket: %q %v", got, err)
		}
		return nil
	})
}

func testReadOnly(t *testing.T, st store.Store) {
	p := core.Period{From: core.MustDate(2026, 1, 1), To: core.MustDate(2026, 1, 31)}
	writes := map[string]func(tx store.Tx) error{
		"PutSite": func(tx store.Tx) error { return tx.PutSite(FullSite("s")) },
		"PutIntervals": func(tx store.Tx) error {
			_, err := tx.PutIntervals(store.SeriesID{Site: "s", Meter: "M"}, []store.Value{v(day0, 1, store.Measured)}, store.KeepFirst)
			return err
		},
		"PutRegisters": func(tx store.Tx) error {
			_, err := tx.PutRegisters("s", "M", []store.Register{{Time: day0.Time()}})
			return err
		},
		"PutReplacement": func(tx store.Tx) error { return tx.PutReplacement("s", "M", store.Replacement{Time: day0.Time()}) },
		"PutRecords": func(tx store.Tx) error {
			_, err := tx.PutRecords([]store.Record{{Source: "gw", Seq: 1}})
			return err
		},
		"SetCursor":       func(tx store.Tx) error { return tx.SetCursor("gw", 1) },
		"PutFlags":        func(tx store.Tx) error { return tx.PutFlags([]store.Flag{{Site: "s", Meter: "M", Kind: "k"}}) },
		"DeleteFlags":     func(tx store.Tx) error { return tx.DeleteFlags("s", "M", "k", 0, 10) },
		"AppendAudit":     func(tx store.Tx) error { _, err := tx.AppendAudit(store.Entry{Action: "x"}); return err },
		"LockPeriod":      func(tx store.Tx) error { return tx.LockPeriod(store.Lock{Site: "s", Period: p}) },
		"UnlockPeriod":    func(tx store.Tx) error { return tx.UnlockPeriod("s", p) },
		"PutMeta":         func(tx store.Tx) error { return tx.PutMeta("b", "k", []byte("v")) },
		"DeleteMeta":      func(tx store.Tx) error { return tx.DeleteMeta("b", "k") },
		"PutSite minimal": func(tx store.Tx) error { return tx.PutSite(&core.Site{ID: "x"}) },
	}
	d0 := dump(t, st, "s")
	for name, w := range writes {
		view(t, st, func(tx store.Tx) error {
			if err := w(tx); !errors.Is(err, store.ErrReadOnly) {
				t.Errorf("%s in View = %v, want ErrReadOnly", name, err)
			}
			return nil
		})
	}
	if d := dump(t, st, "s"); d != d0 {
		t.Errorf("writes in View changed the store:\n%s\n%s", d0, d)
	}
}

// fill stores some of everything for site s.
func fill(t *testing.T, tx store.Tx, tag int64) {
	t.Helper()
	at := day0.Time().Add(time.Duration(tag) * time.Hour)
	site := FullSite("s")
	site.Name = fmt.Sprint("v", tag)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tx.PutSite(site))
	_, err := tx.PutIntervals(store.SeriesID{Site: "s", Meter: "M"}, dayOfValues(day0, 3*perDay, tag), store.Replace)
	must(err)
	_, err = tx.PutIntervals(store.SeriesID{Site: "s", Meter: fmt.Sprint("N", tag), Channel: store.Export}, dayOfValues(day0, 10, tag), store.Replace)
	must(err)
	_, err = tx.PutRegisters("s", "M", []store.Register{{Time: at, Import: core.Energy(tag)}})
	must(err)
	must(tx.PutReplacement("s", "M", store.Replacement{Time: at, Note: site.Name}))
	_, err = tx.PutRecords([]store.Record{{Source: "gw", Seq: uint64(tag), Meter: "m", Time: at}})
	must(err)
	must(tx.SetCursor("gw", uint64(tag)))
	must(tx.PutFlags([]store.Flag{{Site: "s", Meter: "M", Slot: day0, Kind: "k", Reason: site.Name}, {Site: "s", Meter: "M", Slot: day0 + core.Slot(tag), Kind: "k"}}))
	_, err = tx.AppendAudit(store.Entry{Time: at, Actor: "t", Site: "s", Action: site.Name})
	must(err)
	must(tx.LockPeriod(store.Lock{Site: "s", Period: core.Period{From: core.MustDate(2020, 1, int(tag)), To: core.MustDate(2020, 1, int(tag))}, Time: at}))
	must(tx.PutMeta("b", "k", []byte(site.Name)))
	must(tx.PutMeta("b", fmt.Sprint("k", tag), []byte(site.Name)))
}

func testRollback(t *testing.T, st store.Store) {
	update(t, st, func(tx store.Tx) error { fill(t, tx, 1); return nil })
	d0 := dump(t, st, "s")
	boom := errors.New("boom")
	err := st.Update(func(tx store.Tx) error {
		fill(t, tx, 2)
		// Deletions are undone too.
		if err := tx.UnlockPeriod("s", core.Period{From: core.MustDate(2020, 1, 1), To: core.MustDate(2020, 1, 1)}); err != nil {
			return err
		}
		if err := tx.DeleteMeta("b", "k1"); err != nil {
			return err
		}
		if err := tx.DeleteFlags("s", "M", "k", day0, day0+100); err != nil {
			return err
		}
		return fmt.Errorf("importing: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the function's error", err)
	}
	if d := dump(t, st, "s"); d != d0 {
		t.Errorf("a failed Update left traces:\nbefore %s\nafter  %s", d0, d)
	}
}

func testRollbackOnPanic(t *testing.T, st store.Store) {
	d0 := dump(t, st, "s")
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not propagate")
			}
		}()
		_ = st.Update(func(tx store.Tx) error {
			fill(t, tx, 3)
			panic("bug")
		})
	}()
	if d := dump(t, st, "s"); d != d0 {
		t.Errorf("a panicking Update left traces:\nbefore %s\nafter  %s", d0, d)
	}
	// The store still works.
	update(t, st, func(tx store.Tx) error { fill(t, tx, 4); return nil })
}

func testInvalidInput(t *testing.T, st store.Store) {
	update(t, st, func(tx store.Tx) error {
		bad := []struct {
			name string
			err  error
		}{
			{"empty site id", tx.PutSite(&core.Site{})},
			{"NUL in meter id", func() error {
				_, err := tx.PutIntervals(store.SeriesID{Site: "s", Meter: "a\x00b"}, []store.Value{v(day0, 1, store.Measured)}, store.KeepFirst)
				return err
			}()},
			{"bad quality", func() error {
				_, err := tx.PutIntervals(store.SeriesID{Site: "s", Meter: "m"}, []store.Value{v(day0, 1, 7)}, store.KeepFirst)
				return err
			}()},
			{"range end before start", tx.ReadIntervals(store.SeriesID{Site: "s", Meter: "m"}, day0, day0-1, &store.Series{})},
			{"empty meta key", tx.PutMeta("b", "", nil)},
			{"invalid lock period", tx.LockPeriod(store.Lock{Site: "s", Period: core.Period{From: core.MustDate(2026, 2, 1), To: core.MustDate(2026, 1, 1)}})},
		}
		for _, b := range bad {
			if b.err == nil {
				t.Errorf("%s: no error", b.name)
			}
		}
		return nil
	})
}

// dump renders everything stored about site (and the records of source
// "gw", the audit log and meta bucket "b") for comparisons.
func dump(t *testing.T, st store.Store, site string) string {
	t.Helper()
	var b strings.Builder
	view(t, st, func(tx store.Tx) error {
		ids, err := tx.SiteIDs()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "sites %q\n", ids)
		if s, err := tx.Site(site); err == nil {
			fmt.Fprintf(&b, "site %+v\n", *s)
		}
		sids, err := tx.SeriesIDs(site)
		if err != nil {
			return err
		}
		var ser store.Series
		for _, id := range sids {
			if err := tx.ReadIntervals(id, day0-2*perDay, day0+5*perDay, &ser); err != nil {
				return err
			}
			fmt.Fprintf(&b, "series %v %v %v\n", id, ser.Energy, ser.Quality)
		}
		for _, m := range []string{"M", "A"} {
			_ = tx.ScanRegisters(site, m, time.Time{}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), func(r store.Register) bool {
				fmt.Fprintf(&b, "register %s %s %d %d\n", m, r.Time.Format(time.RFC3339Nano), r.Import, r.Export)
				return true
			})
			rs, err := tx.Replacements(site, m)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "replacements %s %+v\n", m, rs)
		}
		_ = tx.ScanRecords("gw", 0, func(r store.Record) bool { fmt.Fprintf(&b, "record %+v\n", r); return true })
		c, err := tx.Cursor("gw")
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "cursor %d\n", c)
		_ = tx.ScanFlags(site, math.MinInt64, math.MaxInt64, func(f store.Flag) bool { fmt.Fprintf(&b, "flag %+v\n", f); return true })
		_ = tx.ScanAudit(0, func(e store.Entry) bool { fmt.Fprintf(&b, "audit %+v\n", e); return true })
		ls, err := tx.LocksOf(site)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "locks %+v\n", ls)
		_ = tx.ScanMeta("b", func(k string, v []byte) bool { fmt.Fprintf(&b, "meta %s=%q\n", k, v); return true })
		return nil
	})
	return b.String()
}

// testConcurrent runs readers alongside a writer: every View sees whole
// transactions only (records, intervals, audit and cursor agree).
func testConcurrent(t *testing.T, st store.Store) {
	const batches = 40
	id := store.SeriesID{Site: "s", Meter: "M"}
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for n := uint64(1); n <= batches; n++ {
			err := st.Update(func(tx store.Tx) error {
				if _, err := tx.PutRecords([]store.Record{{Source: "gw", Seq: n, Meter: "m"}}); err != nil {
					return err
				}
				if _, err := tx.PutIntervals(id, []store.Value{v(day0+core.Slot(n), core.Energy(n), store.Measured)}, store.KeepFirst); err != nil {
					return err
				}
				if _, err := tx.AppendAudit(store.Entry{Action: "batch"}); err != nil {
					return err
				}
				return tx.SetCursor("gw", n)
			})
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ser store.Series
			for {
				select {
				case <-done:
					return
				default:
				}
				err := st.View(func(tx store.Tx) error {
					c, err := tx.Cursor("gw")
					if err != nil {
						return err
					}
					var recs, audits uint64
					if err := tx.ScanRecords("gw", 0, func(store.Record) bool { recs++; return true }); err != nil {
						return err
					}
					if err := tx.ScanAudit(0, func(store.Entry) bool { audits++; return true }); err != nil {
						return err
					}
					if err := tx.ReadIntervals(id, day0, day0+batches+1, &ser); err != nil {
						return err
					}
					var vals uint64
					for _, q := range ser.Quality {
						if q != store.Missing {
							vals++
						}
					}
					if recs != c || audits != c || vals != c {
						t.Errorf("a View saw a partial transaction: cursor %d, %d records, %d audit entries, %d intervals", c, recs, audits, vals)
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	view(t, st, func(tx store.Tx) error {
		c, err := tx.Cursor("gw")
		if err == nil && c != batches {
			t.Errorf("cursor %d after %d batches", c, batches)
		}
		return err
	})
}
