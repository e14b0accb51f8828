package intake

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// bigSite is site S1 with meters M0..M<n-1>, as fakeGateway names them.
func bigSite(n int) *core.Site {
	s := &core.Site{ID: "S1", Name: "Test", Timezone: "Europe/Zurich", Allocation: core.AllocProportional}
	for m := range n {
		id := "U" + strconv.Itoa(m)
		s.Units = append(s.Units, core.Unit{ID: id})
		s.Meters = append(s.Meters, core.Meter{ID: "M" + strconv.Itoa(m), Role: core.RoleUnit, Unit: id})
	}
	return s
}

// storeBacklog stores records 1..n of g raw, as a catch-up does while the
// gateway feeds no site, with its pairing (no site) and cursor.
func storeBacklog(t testing.TB, st store.Store, g *fakeGateway, n uint64) {
	t.Helper()
	p := g.pairing("127.0.0.1:1")
	p.Site = ""
	const batch = 100_000
	recs := make([]store.Record, 0, batch)
	for from := uint64(1); from <= n; from += batch {
		recs = recs[:0]
		for seq := from; seq < from+batch && seq <= n; seq++ {
			r := g.record(seq)
			recs = append(recs, store.Record{Source: g.id, Seq: r.Seq, Meter: r.Meter, Time: r.Time, Import: r.Import, Export: r.Export})
		}
		err := st.Update(func(tx store.Tx) error {
			if from == 1 {
				if err := SavePairing(tx, p, testClock.Now(), "test"); err != nil {
					return err
				}
			}
			if _, err := tx.PutRecords(recs); err != nil {
				return err
			}
			return tx.SetCursor(g.id, recs[len(recs)-1].Seq)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// heapPeak samples the heap's live objects until stop is called and then
// returns the highest figure seen.
func heapPeak() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	quit, result := make(chan struct{}), make(chan uint64)
	go func() {
		var peak uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-quit:
				result <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(quit); return <-result }
}

// TestAssignBoundedMemory: a gateway of 50 meters waited a year to be
// assigned (1.75 million raw records). Assign derives them with a heap that
// does not grow with the backlog: the one-transaction version held every
// record in memory (about 380 MB of live heap for this backlog).
func TestAssignBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 1.75 million records")
	}
	g := newFakeGateway(t, 0)
	g.meters = 50
	n := uint64(365 * 96 * g.meters)
	// A real bbolt file, unsynced: a power cut is not what this test is
	// about, and the store is big.
	st, err := bolt.Open(filepath.Join(t.TempDir(), "office.db"), &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The site has 5 of the gateway's 50 meters: every record is read, a
	// tenth derived, which keeps the test to seconds.
	if err := st.Update(func(tx store.Tx) error { return tx.PutSite(bigSite(5)) }); err != nil {
		t.Fatal(err)
	}
	storeBacklog(t, st, g, n)

	defer debug.SetGCPercent(debug.SetGCPercent(20)) // garbage does not hide the live heap
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	stop := heapPeak()
	got, err := Assign(st, g.id, "S1", nil, testClock, "installer")
	peak := stop()
	if err != nil || uint64(got) != n {
		t.Fatalf("Assign = %d, %v; want %d records derived", got, err, n)
	}
	t.Logf("Assign of %d records: live heap %.1f MB before, peak %.1f MB", n, float64(ms.HeapAlloc)/(1<<20), float64(peak)/(1<<20))
	if limit := uint64(32 << 20); peak > limit {
		t.Errorf("Assign's live heap peaked at %.0f MB for a backlog of %d records; want under %d MB whatever the backlog",
			float64(peak)/(1<<20), n, limit>>20)
	}
	err = st.View(func(tx store.Tx) error {
		if _, err := tx.GetMeta(AssignBucket, g.id); err == nil {
			t.Error("the assignment's progress mark is still there after Assign returned")
		}
		count := 0
		if err := tx.ScanRegisters("S1", "M4", time.Time{}, testClock.Now(), func(store.Register) bool { count++; return true }); err != nil {
			return err
		}
		if count != 365*96 {
			t.Errorf("meter M4 has %d registers, want a year's %d", count, 365*96)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// childAssign assigns the gateway to site S1 in batches of a.Batch records,
// printing a line after each committed transaction (reportingStore); the
// parent kills it after some of them.
func childAssign(a childArgs) int {
	st, err := bolt.Open(a.DB, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	defer st.Close()
	assignBatch = a.Batch
	fmt.Println("ready")
	n, err := Assign(&reportingStore{Store: st, gateway: a.Pairing.GatewayID}, a.Pairing.GatewayID, "S1", nil, testClock, "installer")
	if err != nil {
		fmt.Fprintln(os.Stderr, "assign:", err)
		return 1
	}
	fmt.Println("done", n)
	return 0
}

// TestAssignKilledMidway kills the process assigning a gateway with a
// backlog, right after its Nth committed transaction, five times. Each time
// the assignment is saved and marked unfinished, the mark never goes back,
// and assigning again carries on from it; finally Run, on start, finishes
// it (ResumeAssign), and every record is derived exactly once.
func TestAssignKilledMidway(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	g := newFakeGateway(t, 0)
	const n = 20 * 96 * 4 // 20 days of the site's 4 meters
	path := initDB(t)
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	storeBacklog(t, st, g, n)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	args := childArgs{DB: path, Pairing: g.pairing(""), Batch: 200}
	var mark uint64
	for i, aim := range []int{1, 2, 3, 1, 4} {
		cmd, out := startChild(t, "assign", args)
		for range aim {
			if line, err := out.ReadString('\n'); err != nil || !strings.HasPrefix(line, "committed") {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("kill %d: the child said %q (%v) before its commit %d", i+1, line, err, aim)
			}
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		st, err := bolt.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = st.View(func(tx store.Tx) error {
			p, err := LoadPairing(tx, g.id)
			if err != nil || p.Site != "S1" {
				t.Fatalf("kill %d: pairing %+v, %v; want it assigned to S1", i+1, p, err)
			}
			prog, ok, err := loadProgress(tx, g.id)
			switch {
			case err != nil:
				return err
			case !ok:
				t.Fatalf("kill %d after commit %d: no progress mark: the unfinished assignment looks finished", i+1, aim)
			case prog.After < mark:
				t.Fatalf("kill %d: the mark went back from %d to %d", i+1, mark, prog.After)
			}
			mark = prog.After
			return nil
		})
		if cerr := st.Check(); err == nil {
			err = cerr
		}
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("kill %d after commit %d: derived through seq %d", i+1, aim, mark)
	}
	if mark == 0 || mark >= n {
		t.Fatalf("the kills left the mark at %d of %d: they did not land during the derivation", mark, n)
	}
	// The app starts again: Run finishes the assignment before it catches
	// up (nothing new here).
	office := openStore(t, path)
	g.setN(n)
	addr := g.serve(t, "").Listener.Addr().String()
	c := NewClient(office, g.pairing(addr), &Options{Clock: testClock, MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, Poll: 20 * time.Millisecond})
	defer c.Close()
	runUntil(t, c, n, nil)
	checkStored(t, office, g, n)
	if err := office.View(func(tx store.Tx) error {
		if _, ok, err := loadProgress(tx, g.id); err != nil || ok {
			t.Errorf("progress mark after the assignment finished: %v, %v", ok, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
