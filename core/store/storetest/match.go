package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

// Match applies the same random interval writes, locks and failing
// transactions to every store and expects the same results and the same
// contents as the first one's (the reference, usually store/mem's):
// independent implementations of the rules checking each other on cases
// nobody wrote down. names name the stores in messages. The stores must be
// empty.
func Match(t *testing.T, names []string, stores ...store.Store) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	site := FullSite("s") // Europe/Zurich
	for _, st := range stores {
		if err := st.Update(func(tx store.Tx) error { return tx.PutSite(site) }); err != nil {
			t.Fatal(err)
		}
	}
	day0 := core.MustDate(2026, 3, 27) // the days around the change to summer time
	base := day0.FirstSlot(site.Location())
	const span = 5 * 96
	ids := []store.SeriesID{{Site: "s", Meter: "A"}, {Site: "s", Meter: "A", Channel: store.Export}, {Site: "s", Meter: "B"}}
	abort := errors.New("abort")
	var locked, conflicts, replaced int
	for step := range 400 {
		// One transaction of a few operations, sometimes aborted.
		type outcome struct {
			Results []string
			Err     string
		}
		var ops []func(tx store.Tx) string
		for range 1 + rng.IntN(4) {
			switch r := rng.IntN(10); {
			case r < 7:
				id := ids[rng.IntN(len(ids))]
				mode := store.PutMode(rng.IntN(2))
				var vals []store.Value
				start := base + core.Slot(rng.IntN(span))
				for range rng.IntN(150) {
					s := start + core.Slot(rng.IntN(120)-20)
					vals = append(vals, store.Value{Slot: s, Energy: core.Energy(rng.IntN(5)) * core.Energy([]int64{1, 1000, -1000}[rng.IntN(3)]), Quality: store.Quality(rng.IntN(4))})
				}
				// One value per slot, as the contract asks.
				seen := map[core.Slot]bool{}
				uniq := vals[:0]
				for _, v := range vals {
					if !seen[v.Slot] {
						seen[v.Slot] = true
						uniq = append(uniq, v)
					}
				}
				ops = append(ops, func(tx store.Tx) string {
					res, err := tx.PutIntervals(id, uniq, mode)
					if errors.Is(err, store.ErrLocked) {
						locked++
					}
					conflicts += len(res.Conflicts)
					replaced += res.Replaced
					return fmt.Sprintf("put %+v %v", res, errors.Is(err, store.ErrLocked))
				})
			case r < 9:
				d := day0.AddDays(rng.IntN(4))
				p := core.Period{From: d, To: d.AddDays(rng.IntN(2))}
				ops = append(ops, func(tx store.Tx) string {
					return fmt.Sprint("lock ", tx.LockPeriod(store.Lock{Site: "s", Period: p}))
				})
			default:
				ops = append(ops, func(tx store.Tx) string {
					ls, _ := tx.LocksOf("s")
					if len(ls) == 0 {
						return "no locks"
					}
					return fmt.Sprint("unlock ", tx.UnlockPeriod("s", ls[0].Period))
				})
			}
		}
		fail := rng.IntN(5) == 0
		outs := make([]outcome, len(stores))
		for i, st := range stores {
			var o outcome
			err := st.Update(func(tx store.Tx) error {
				for _, op := range ops {
					o.Results = append(o.Results, op(tx))
				}
				if fail {
					return abort
				}
				return nil
			})
			if err != nil && !errors.Is(err, abort) {
				t.Fatal(err)
			}
			outs[i] = o
		}
		for i := range stores[1:] {
			if !reflect.DeepEqual(outs[i+1], outs[0]) {
				t.Fatalf("step %d: %s %+v\n%s %+v", step, names[i+1], outs[i+1], names[0], outs[0])
			}
		}
		if step%20 == 19 {
			sers := make([][]store.Series, len(stores))
			for i, st := range stores {
				err := st.View(func(tx store.Tx) error {
					for _, id := range ids {
						var s store.Series
						if err := tx.ReadIntervals(id, base-40, base+span+140, &s); err != nil {
							return err
						}
						sers[i] = append(sers[i], s)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			for i := range stores[1:] {
				if !reflect.DeepEqual(sers[i+1], sers[0]) {
					t.Fatalf("step %d: the contents of %s and %s differ", step, names[i+1], names[0])
				}
			}
		}
	}
	// The random walk must have reached the interesting cases (counted
	// for every store).
	if locked == 0 || conflicts == 0 || replaced == 0 {
		t.Errorf("cases not reached: %d locked, %d conflicts, %d replaced", locked, conflicts, replaced)
	}
	t.Logf("%d locked calls, %d conflicts, %d replaced", locked/len(stores), conflicts/len(stores), replaced/len(stores))
}
