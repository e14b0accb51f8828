package vee

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
)

var t0 = time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC) // a Monday, on the grid

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func sum(vs []slotValue) core.Energy {
	var e core.Energy
	for _, v := range vs {
		e += v.e
	}
	return e
}

// TestDeriveExact feeds random readings at random instants and checks that
// the derived intervals add up exactly to the register difference, and that
// every slot between the first and the last reading is derived.
func TestDeriveExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for run := 0; run < 200; run++ {
		n := 2 + rng.IntN(50)
		ps := []point{{t0, rng.Int64N(1e12)}}
		tm := t0
		for i := 1; i < n; i++ {
			tm = tm.Add(time.Duration(1+rng.Int64N(int64(3*time.Hour/time.Millisecond))) * time.Millisecond)
			ps = append(ps, point{tm, ps[i-1].v + rng.Int64N(50_000_000)})
		}
		// End on a boundary so that the derived span is [first, last].
		end := core.SlotOf(tm) + 1
		ps = append(ps, point{end.Time(), ps[len(ps)-1].v + rng.Int64N(1_000_000)})
		from := core.SlotOf(t0)
		vals := deriveSlots(ps, from-3, end+5, time.Hour, 1<<62)
		if got, want := sum(vals), core.Energy(ps[len(ps)-1].v-ps[0].v); got != want {
			t.Fatalf("run %d: Σ intervals = %d mWh, register difference %d mWh", run, got, want)
		}
		if len(vals) != int(end-from) || vals[0].slot != from || vals[len(vals)-1].slot != end-1 {
			t.Fatalf("run %d: derived %d slots from %v, want %d from %v", run, len(vals), vals[0].slot, end-from, from)
		}
		for _, v := range vals {
			if v.e < 0 {
				t.Fatalf("run %d: negative interval %d at %v", run, v.e, v.slot)
			}
		}
	}
}

// TestDeriveApportion checks how a reading between boundaries is shared: the
// register is interpolated linearly and rounded down at each boundary.
func TestDeriveApportion(t *testing.T) {
	ps := []point{{at(5), 0}, {at(50), 100}} // 100 mWh over 45 minutes
	vals := deriveSlots(ps, core.SlotOf(t0), core.SlotOf(t0)+4, time.Hour, 1<<62)
	// E(00:15) = ⌊100·10/45⌋ = 22, E(00:30) = ⌊100·25/45⌋ = 55, E(00:45) = ⌊100·40/45⌋ = 88.
	want := []slotValue{{core.SlotOf(at(15)), 33, store.Measured}, {core.SlotOf(at(30)), 33, store.Measured}}
	if len(vals) != len(want) {
		t.Fatalf("got %v, want %v (slots not wholly covered are left out)", vals, want)
	}
	for i := range want {
		if vals[i] != want[i] {
			t.Errorf("slot %d: got %+v, want %+v", i, vals[i], want[i])
		}
	}
	// A reading inside a slot splits it between the pairs around it.
	ps = []point{{at(0), 0}, {at(10), 10_000}, {at(40), 40_000}, {at(60), 60_000}}
	vals = deriveSlots(ps, core.SlotOf(t0), core.SlotOf(t0)+4, MaxReadingSpan, MaxEstimateSpan)
	wantE := []core.Energy{15_000, 15_000, 15_000, 15_000}
	wantQ := []store.Quality{store.Estimated, store.Estimated, store.Estimated, store.Measured}
	for i, v := range vals {
		if v.e != wantE[i] || v.q != wantQ[i] {
			t.Errorf("slot %d: got %d %v, want %d %v", i, v.e, v.q, wantE[i], wantQ[i])
		}
	}
}

func TestDeriveBackwardsLeavesGap(t *testing.T) {
	ps := []point{{at(0), 1000}, {at(15), 2000}, {at(30), 5}, {at(45), 10}}
	vals := deriveSlots(ps, core.SlotOf(t0), core.SlotOf(t0)+3, MaxReadingSpan, MaxEstimateSpan)
	if len(vals) != 2 || vals[0].e != 1000 || vals[1].slot != core.SlotOf(at(30)) || vals[1].e != 5 {
		t.Fatalf("got %+v, want slot 00:00 = 1000 and 00:30 = 5, nothing across the backward step", vals)
	}
}

func TestBuildPointsReplacement(t *testing.T) {
	regs := []store.Register{{Time: at(0), Import: 1000}, {Time: at(15), Import: 1001}, {Time: at(30), Import: 2}}
	repl := []store.Replacement{{Time: at(20), OldFinal: store.Register{Import: 1001}, NewInitial: store.Register{Import: 1}}}
	ps := buildPoints(regs, repl, store.Import)
	want := []int64{1000, 1001, 1001, 1002}
	if len(ps) != len(want) {
		t.Fatalf("got %v", ps)
	}
	for i := range want {
		if ps[i].v != want[i] {
			t.Errorf("point %d: %d, want %d", i, ps[i].v, want[i])
		}
	}
}

// TestSunTimes checks the sun formula against published times for Bern
// (46.95°N 7.45°E), within five minutes.
func TestSunTimes(t *testing.T) {
	cases := []struct {
		day       time.Time
		rise, set string // UTC
	}{
		{time.Date(2026, 6, 21, 0, 0, 0, 0, time.UTC), "03:34", "19:28"},
		{time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC), "07:14", "15:45"},
		{time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC), "05:32", "17:43"},
	}
	for _, c := range cases {
		r, s, ok := SunTimes(c.day, 46.95, 7.45)
		if !ok {
			t.Fatalf("%v: no sunrise", c.day)
		}
		for _, x := range []struct {
			got  time.Time
			want string
		}{{r, c.rise}, {s, c.set}} {
			w, _ := time.Parse("2006-01-02 15:04", c.day.Format("2006-01-02 ")+x.want)
			if d := x.got.Sub(w); d > 5*time.Minute || d < -5*time.Minute {
				t.Errorf("%s: got %s, want %s ± 5 min", c.day.Format(time.DateOnly), x.got.Format("15:04"), x.want)
			}
		}
	}
}
