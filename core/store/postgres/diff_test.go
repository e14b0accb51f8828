package postgres_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/store/mem"
	"github.com/zevdesk/zevdesk/core/store/storetest"
)

// TestMatchesMem applies the same random interval writes, locks and failing
// transactions to the PostgreSQL store, the bbolt store and the in-memory
// one (the bbolt store's test, extended) and expects the same results and
// the same contents: independent implementations of the rules checking each
// other on cases nobody wrote down.
func TestMatchesMem(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	b := openTemp(t)
	defer b.Close()
	bb, err := bolt.Open(filepath.Join(t.TempDir(), "zevdesk.db"), &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bb.Close()
	m := mem.New()
	stores := []store.Store{b, bb, m}
	names := []string{"postgres", "bbolt", "mem"}
	site := storetest.FullSite("s") // Europe/Zurich
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
		var outs [3]outcome
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
		for i := range 2 {
			if !reflect.DeepEqual(outs[i], outs[2]) {
				t.Fatalf("step %d: %s %+v\nmem %+v", step, names[i], outs[i], outs[2])
			}
		}
		if step%20 == 19 {
			var sers [3][]store.Series
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
			for i := range 2 {
				if !reflect.DeepEqual(sers[i], sers[2]) {
					t.Fatalf("step %d: the contents of %s and mem differ", step, names[i])
				}
			}
		}
	}
	// The random walk must have reached the interesting cases (counted
	// for all three stores).
	if locked == 0 || conflicts == 0 || replaced == 0 {
		t.Errorf("cases not reached: %d locked, %d conflicts, %d replaced", locked, conflicts, replaced)
	}
	t.Logf("%d locked calls, %d conflicts, %d replaced", locked/3, conflicts/3, replaced/3)
}
