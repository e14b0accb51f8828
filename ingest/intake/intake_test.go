package intake

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/core/vee"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

func testSite(meters int) *core.Site {
	s := &core.Site{ID: "S1", Name: "Test", Timezone: "Europe/Zurich", Allocation: core.AllocProportional}
	for m := 0; m < meters; m++ {
		id := "U" + string(rune('0'+m))
		s.Units = append(s.Units, core.Unit{ID: id})
		s.Meters = append(s.Meters, core.Meter{ID: "M" + string(rune('0'+m)), Role: core.RoleUnit, Unit: id})
	}
	return s
}

// openStore opens a real bbolt file with the test site in it and checks its
// consistency when the test ends.
func openStore(t testing.TB, path string) store.Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "office.db")
	}
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatalf("opening store: %v", err)
	}
	if err := st.Update(func(tx store.Tx) error { return tx.PutSite(testSite(4)) }); err != nil {
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

func testOptions() *Options {
	return &Options{Clock: testClock, Timeout: 5 * time.Second, MinBackoff: time.Second, MaxBackoff: 8 * time.Second}
}

// checkStored verifies that the store holds records 1..n of g exactly once,
// the cursor is n, and every meter's registers are those records.
func checkStored(t testing.TB, st store.Store, g *fakeGateway, n uint64) {
	t.Helper()
	err := st.View(func(tx store.Tx) error {
		cur, err := tx.Cursor(g.id)
		if err != nil {
			return err
		}
		if cur != n {
			t.Errorf("cursor = %d, want %d", cur, n)
		}
		var next uint64 = 1
		var bad error
		err = tx.ScanRecords(g.id, 0, func(r store.Record) bool {
			want := g.record(next)
			if r.Seq != next || r.Meter != want.Meter || !r.Time.Equal(want.Time) || r.Import != want.Import {
				bad = errors.New("record " + r.Meter + " out of place")
				t.Errorf("record at position %d: got %+v, want seq %d %+v", next, r, next, want)
				return false
			}
			next++
			return true
		})
		if err != nil {
			return err
		}
		if bad == nil && next-1 != n {
			t.Errorf("store holds records 1..%d, want 1..%d", next-1, n)
		}
		// Derived data: each meter's registers are exactly its records.
		for m := 0; m < g.meters; m++ {
			id := "M" + string(rune('0'+m))
			count := uint64(0)
			if err := tx.ScanRegisters("S1", id, time.Time{}, testClock.Now(), func(r store.Register) bool {
				want := g.record(count*uint64(g.meters) + uint64(m) + 1)
				if !r.Time.Equal(want.Time) || r.Import != want.Import {
					t.Errorf("meter %s register %d: got %v %v, want %v %v", id, count, r.Time, r.Import, want.Time, want.Import)
					return false
				}
				count++
				return true
			}); err != nil {
				return err
			}
			wantCount := n / uint64(g.meters)
			if uint64(m) < n%uint64(g.meters) {
				wantCount++
			}
			if count != wantCount {
				t.Errorf("meter %s: %d registers, want %d", id, count, wantCount)
			}
		}
		// Derived intervals: between consecutive readings of M0 every
		// interval is 250 Wh, measured, once.
		if k := int64(n / uint64(g.meters)); k > 1 && !hasLock(tx) {
			var s store.Series
			from := core.SlotOf(testBase)
			if err := tx.ReadIntervals(store.SeriesID{Site: "S1", Meter: "M0", Channel: store.Import}, from, from+core.Slot(k-1), &s); err != nil {
				return err
			}
			for i := range s.Energy {
				if s.Energy[i] != 250*core.Wh || s.Quality[i] != store.Measured {
					t.Errorf("M0 interval %d: %v %v, want 250 Wh measured", i, s.Energy[i], s.Quality[i])
					break
				}
			}
		}
		return tx.ScanFlags("S1", 0, core.SlotOf(testClock.Now()), func(f store.Flag) bool {
			if f.Kind == vee.KindDuplicate {
				t.Errorf("duplicate flagged: %+v", f)
				return false
			}
			return true
		})
	})
	if err != nil {
		t.Fatalf("reading store: %v", err)
	}
}

func hasLock(tx store.Tx) bool {
	ls, _ := tx.LocksOf("S1")
	return len(ls) > 0
}

func TestPairAndPin(t *testing.T) {
	g := newFakeGateway(t, 0)
	srv := g.serve(t, "")
	addr := srv.Listener.Addr().String()
	ctx := context.Background()

	p, err := Pair(ctx, addr, "GW-TEST", "1234-5678")
	if err != nil {
		t.Fatalf("Pair: %v", err)
	}
	if p.GatewayID != "GW-TEST" || p.Fingerprint != g.fp || p.Token != g.token || p.Address != addr {
		t.Fatalf("pairing = %+v; want id GW-TEST, fingerprint %s, the gateway's token", p, g.fp)
	}

	st := openStore(t, "")
	if err := st.Update(func(tx store.Tx) error { return SavePairing(tx, p, testClock.Now(), "installer") }); err != nil {
		t.Fatal(err)
	}
	err = st.View(func(tx store.Tx) error {
		got, err := LoadPairing(tx, "GW-TEST")
		if err != nil {
			return err
		}
		if got.Fingerprint != p.Fingerprint || got.Token != p.Token {
			t.Errorf("stored pairing %+v, want %+v", got, p)
		}
		var audit []store.Entry
		_ = tx.ScanAudit(0, func(e store.Entry) bool { audit = append(audit, e); return true })
		if len(audit) != 1 || audit[0].Action != "gateway.pair" || !strings.Contains(audit[0].Detail, g.fp) {
			t.Errorf("audit log = %+v, want one gateway.pair entry naming the certificate", audit)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The same address now serving another certificate (a man in the
	// middle, or a replaced gateway) is refused by the pinned client.
	g2 := newFakeGateway(t, 10)
	g2.token = g.token
	srv.Close()
	g2.serve(t, addr)
	_, err = NewClient(st, p, testOptions()).CatchUp(ctx)
	if !errors.Is(err, ErrCertChanged) || !strings.Contains(err.Error(), "certificate changed: possible man in the middle") {
		t.Fatalf("CatchUp against a different certificate: err = %v, want ErrCertChanged", err)
	}
}

func TestPairWrongCode(t *testing.T) {
	g := newFakeGateway(t, 0)
	addr := g.serve(t, "").Listener.Addr().String()
	ctx := context.Background()
	for i := 0; i < protocol.LockoutAfter; i++ {
		if _, err := Pair(ctx, addr, "GW-TEST", "87654321"); !errors.Is(err, ErrWrongCode) {
			t.Fatalf("attempt %d with a wrong code: err = %v, want ErrWrongCode", i+1, err)
		}
	}
	_, err := Pair(ctx, addr, "GW-TEST", "12345678")
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("after %d wrong codes: err = %v, want ErrRateLimited", protocol.LockoutAfter, err)
	}
	// The wizard tells the installer how long to wait.
	var re *RetryError
	if !errors.As(err, &re) || re.After != time.Minute || !strings.Contains(err.Error(), "retry after 60 s") {
		t.Errorf("lockout error %v: want a RetryError with After 1m saying retry after 60 s", err)
	}
}

// A gateway that lost the nonce between the two pairing steps (it restarted,
// or the installer was slow) is not reported as a wrong code.
func TestPairNonceLost(t *testing.T) {
	g := newFakeGateway(t, 0)
	g.forgetNonces = true
	addr := g.serve(t, "").Listener.Addr().String()
	_, err := Pair(context.Background(), addr, "GW-TEST", g.code)
	if err == nil || errors.Is(err, ErrWrongCode) || !strings.Contains(err.Error(), "try again") {
		t.Fatalf("Pair after the gateway lost its nonce: err = %v, want a refusal that says to try again, not a wrong code", err)
	}
}

func TestPairChecks(t *testing.T) {
	g := newFakeGateway(t, 0)
	addr := g.serve(t, "").Listener.Addr().String()
	ctx := context.Background()
	if _, err := Pair(ctx, addr, "GW-OTHER", "12345678"); err == nil || !strings.Contains(err.Error(), `"GW-TEST", not "GW-OTHER"`) {
		t.Errorf("pairing the wrong gateway: err = %v", err)
	}
	for _, code := range []string{"1234567", "123456789", "abcdefgh", ""} {
		if _, err := Pair(ctx, addr, "", code); err == nil || !strings.Contains(err.Error(), "expected 8 digits") {
			t.Errorf("code %q: err = %v, want a format error", code, err)
		}
	}
}

func TestCatchUp(t *testing.T) {
	g := newFakeGateway(t, 25_003)
	addr := g.serve(t, "").Listener.Addr().String()
	st := openStore(t, "")
	c := NewClient(st, g.pairing(addr), testOptions())
	defer c.Close()
	ctx := context.Background()

	n, err := c.CatchUp(ctx)
	if err != nil || n != 25_003 {
		t.Fatalf("CatchUp = %d, %v; want 25003 records", n, err)
	}
	checkStored(t, st, g, 25_003)

	// Caught up: nothing new.
	if n, err := c.CatchUp(ctx); err != nil || n != 0 {
		t.Fatalf("second CatchUp = %d, %v; want 0", n, err)
	}
	// New readings arrive: only they are fetched.
	g.setN(25_100)
	if n, err := c.CatchUp(ctx); err != nil || n != 97 {
		t.Fatalf("CatchUp after 97 new records = %d, %v", n, err)
	}
	checkStored(t, st, g, 25_100)

	// Derived intervals: every interval between two readings of a meter is
	// measured at 250 Wh.
	err = st.View(func(tx store.Tx) error {
		var s store.Series
		from := core.SlotOf(testBase)
		if err := tx.ReadIntervals(store.SeriesID{Site: "S1", Meter: "M1", Channel: store.Import}, from, from+96, &s); err != nil {
			return err
		}
		for i, e := range s.Energy {
			if e != 250*core.Wh || s.Quality[i] != store.Measured {
				t.Errorf("M1 interval %d: %v %v, want 250 Wh measured", i, e, s.Quality[i])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBadPages: a gateway answering garbage or oversized bodies gets a clear
// error, and nothing of the page is stored.
func TestBadPages(t *testing.T) {
	g := newFakeGateway(t, 10)
	good := func(seqs ...uint64) []byte {
		b := protocol.WriteRecordsHead(nil, g.id, 1)
		for i, s := range seqs {
			if i > 0 {
				b = append(b, ',')
			}
			b = g.record(s).AppendJSON(b)
		}
		return protocol.WriteRecordsTail(b, 10, false)
	}
	future := g.record(3)
	future.Time = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	futurePage := append(append(protocol.WriteRecordsHead(nil, g.id, 1), future.AppendJSON(nil)...), protocol.WriteRecordsTail(nil, 10, false)...)
	tests := []struct {
		name string
		h    func() []byte
		want string
	}{
		{"not JSON", func() []byte { return []byte("<html>502 Bad Gateway</html>") }, "invalid page"},
		{"truncated", func() []byte { b := good(3, 4, 5); return b[:len(b)/2] }, "invalid page"},
		{"seq going back", func() []byte { return good(3, 5, 4) }, "seq 4"},
		{"seq not after cursor", func() []byte { return good(1, 2, 3) }, "does not follow 2"},
		{"far future", func() []byte { return futurePage }, "implausible time"},
		{"another gateway", func() []byte { return []byte(strings.Replace(string(good(3)), g.id, "GW-EVIL", 1)) }, `"GW-EVIL"`},
		{"bad number", func() []byte { return []byte(strings.Replace(string(good(3)), `"import_wh":`, `"import_wh":-`, 1)) }, "invalid page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t, "")
			addr := g.serve(t, "").Listener.Addr().String()
			c := NewClient(st, g.pairing(addr), testOptions())
			defer c.Close()
			g.setRecords(nil)
			g.setN(2)
			if n, err := c.CatchUp(context.Background()); err != nil || n != 2 {
				t.Fatalf("first CatchUp = %d, %v", n, err)
			}
			g.setRecords(rawBody(tt.h()))
			defer g.setRecords(nil)
			n, err := c.CatchUp(context.Background())
			if err == nil || !errors.Is(err, ErrBadBatch) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CatchUp = %d, %v; want ErrBadBatch mentioning %q", n, err, tt.want)
			}
			g.setRecords(nil)
			checkStored(t, st, g, 2)
		})
	}

	t.Run("oversized", func(t *testing.T) {
		st := openStore(t, "")
		addr := g.serve(t, "").Listener.Addr().String()
		opt := testOptions()
		opt.MaxBody = 64 << 10
		c := NewClient(st, g.pairing(addr), opt)
		defer c.Close()
		g.setRecords(hugeBody(g, 1<<20))
		defer g.setRecords(nil)
		n, err := c.CatchUp(context.Background())
		if !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrBadBatch) {
			t.Fatalf("CatchUp = %d, %v; want ErrTooLarge", n, err)
		}
		g.setRecords(nil)
		checkStored(t, st, g, 0)
	})
}

// fakeTimer stands in for time.After in Run: it records each wait and lets
// the test act before releasing it.
type fakeTimer struct {
	mu    sync.Mutex
	waits []time.Duration
	hook  func(i int, d time.Duration)
}

func (f *fakeTimer) after(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	f.waits = append(f.waits, d)
	i := len(f.waits) - 1
	f.mu.Unlock()
	if f.hook != nil {
		f.hook(i, d)
	}
	ch := make(chan time.Time, 1)
	ch <- time.Time{}
	return ch
}

func (f *fakeTimer) all() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}

// TestRunReconnects: the gateway is down (connection refused) when Run
// starts; Run backs off exponentially, catches up once it is back, and then
// polls.
func TestRunReconnects(t *testing.T) {
	g := newFakeGateway(t, 5000)
	srv := g.serve(t, "")
	addr := srv.Listener.Addr().String()
	srv.Close() // the gateway is off: connection refused
	st := openStore(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ft := &fakeTimer{}
	ft.hook = func(i int, d time.Duration) {
		switch {
		case i == 4:
			g.serve(t, addr) // the gateway comes back
		case i > 4 && d == 7*time.Second:
			cancel() // polling: done
		}
	}
	opt := testOptions()
	opt.Poll = 7 * time.Second
	opt.After = ft.after
	c := NewClient(st, g.pairing(addr), opt)
	defer c.Close()
	var states []State
	if err := c.Run(ctx, func(s State) { states = append(states, s) }); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 7 * time.Second}
	got := ft.all()
	if len(got) != len(want) {
		t.Fatalf("waits = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits = %v, want %v (exponential backoff capped at MaxBackoff, then Poll)", got, want)
		}
	}
	checkStored(t, st, g, 5000)
	if len(states) != 2 || !strings.Contains(states[0].Err, "connection refused") || states[1].Err != "" {
		t.Errorf("states reported = %+v; want an error (connection refused) then connected", states)
	}
	err := st.View(func(tx store.Tx) error {
		s, err := LoadState(tx, g.id)
		if err != nil {
			return err
		}
		if s.Err != "" || s.Cursor != 5000 {
			t.Errorf("stored state = %+v", s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestClockSkew: a gateway whose clock is 5 minutes off is flagged.
func TestClockSkew(t *testing.T) {
	g := newFakeGateway(t, 10)
	g.setClock(func() time.Time { return testClock.Now().Add(5 * time.Minute) })
	addr := g.serve(t, "").Listener.Addr().String()
	st := openStore(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	opt := testOptions()
	opt.After = func(time.Duration) <-chan time.Time { cancel(); return nil }
	c := NewClient(st, g.pairing(addr), opt)
	defer c.Close()
	var got State
	if err := c.Run(ctx, func(s State) { got = s }); err != nil {
		t.Fatal(err)
	}
	if !got.SkewFlag || got.ClockSkew != 5*time.Minute {
		t.Fatalf("state = %+v; want a 5 min clock skew flagged", got)
	}
	_ = st.View(func(tx store.Tx) error {
		s, err := LoadState(tx, g.id)
		if err != nil || !s.SkewFlag {
			t.Errorf("stored state = %+v, %v; want the skew flag", s, err)
		}
		return nil
	})
	// 30 s is within tolerance.
	g.setClock(func() time.Time { return testClock.Now().Add(-30 * time.Second) })
	if _, err := c.cycle(context.Background()); err != nil || c.State().SkewFlag {
		t.Fatalf("30 s skew: %v, %+v; want no flag", err, c.State())
	}
}

// followLive runs c.Live in a goroutine, handing its events over a channel;
// stop ends it and returns Live's result.
func followLive(c *Client) (<-chan protocol.Live, func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan protocol.Live)
	done := make(chan error, 1)
	go func() { done <- c.Live(ctx, func(ev protocol.Live) { events <- ev }) }()
	return events, func() error { cancel(); return <-done }
}

func TestLive(t *testing.T) {
	g := newFakeGateway(t, 0)
	addr := g.serve(t, "").Listener.Addr().String()
	opt := testOptions()
	opt.After = func(time.Duration) <-chan time.Time { ch := make(chan time.Time, 1); ch <- time.Time{}; return ch }
	c := NewClient(nil, g.pairing(addr), opt)
	defer c.Close()
	events, stop := followLive(c)

	send := func(w float64) {
		ev := protocol.Live{Time: testBase, PowerW: map[string]float64{"M0": w}}
		g.mu.Lock()
		live := g.live
		g.mu.Unlock()
		live <- ev
		got := <-events
		if got.PowerW["M0"] != w || !got.Time.Equal(testBase) {
			t.Fatalf("event = %+v, want M0 %v W", got, w)
		}
	}
	send(1500)
	send(-3200)
	// The gateway drops the stream: the client reconnects by itself.
	g.mu.Lock()
	close(g.live)
	g.live = make(chan protocol.Live)
	g.mu.Unlock()
	send(42)
	if err := stop(); err != nil {
		t.Fatalf("Live: %v", err)
	}
}

// TestMeterMapping: gateway meters map to site meters by the pairing's
// table, else by id; a gateway meter with no site meter is kept raw only.
func TestMeterMapping(t *testing.T) {
	g := newFakeGateway(t, 400)
	addr := g.serve(t, "").Listener.Addr().String()
	st := openStore(t, "")
	p := g.pairing(addr)
	p.Meters = map[string]string{"M0": "M3", "M3": "SPARE"} // M0 feeds site meter M3; gateway M3 is not wired
	c := NewClient(st, p, testOptions())
	defer c.Close()
	if n, err := c.CatchUp(context.Background()); err != nil || n != 400 {
		t.Fatalf("CatchUp = %d, %v", n, err)
	}
	err := st.View(func(tx store.Tx) error {
		count := func(meter string) (n int, first store.Register) {
			_ = tx.ScanRegisters("S1", meter, time.Time{}, testClock.Now(), func(r store.Register) bool {
				if n == 0 {
					first = r
				}
				n++
				return true
			})
			return n, first
		}
		if n, first := count("M3"); n != 100 || first.Import != g.record(1).Import {
			t.Errorf("site meter M3: %d readings starting %v; want gateway M0's 100 starting %v", n, first.Import, g.record(1).Import)
		}
		if n, _ := count("M0"); n != 0 {
			t.Errorf("site meter M0 got %d readings; nothing maps to it", n)
		}
		if n, _ := count("M1"); n != 100 {
			t.Errorf("site meter M1: %d readings, want 100 (same id)", n)
		}
		raw := 0
		_ = tx.ScanRecords(g.id, 0, func(store.Record) bool { raw++; return true })
		if raw != 400 {
			t.Errorf("%d raw records kept, want all 400", raw)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLockedPeriod: readings that fall into a billed (locked) period do not
// stop the intake: they are stored, the cursor advances, and the intervals
// they would change are flagged instead of changed.
func TestLockedPeriod(t *testing.T) {
	g := newFakeGateway(t, 400)
	addr := g.serve(t, "").Listener.Addr().String()
	st := openStore(t, "")
	day := core.DateOf(testBase)
	if err := st.Update(func(tx store.Tx) error {
		return tx.LockPeriod(store.Lock{Site: "S1", Period: core.Period{From: day.AddDays(-40), To: day.AddDays(40)}, Time: testBase, Note: "billed"})
	}); err != nil {
		t.Fatal(err)
	}
	c := NewClient(st, g.pairing(addr), testOptions())
	defer c.Close()
	n, err := c.CatchUp(context.Background())
	if err != nil || n != 400 {
		t.Fatalf("CatchUp = %d, %v; want 400 records kept despite the lock", n, err)
	}
	checkStored(t, st, g, 400)
	err = st.View(func(tx store.Tx) error {
		locked := map[string]bool{}
		_ = tx.ScanFlags("S1", 0, core.SlotOf(testClock.Now()), func(f store.Flag) bool {
			if f.Kind == vee.KindLocked {
				locked[f.Meter] = true
			}
			return true
		})
		if len(locked) != 4 {
			t.Errorf("meters with %s flags: %v; want all 4", vee.KindLocked, locked)
		}
		var s store.Series
		from := core.SlotOf(testBase)
		if err := tx.ReadIntervals(store.SeriesID{Site: "S1", Meter: "M0", Channel: store.Import}, from, from+4, &s); err != nil {
			return err
		}
		for i, q := range s.Quality {
			if q != store.Missing {
				t.Errorf("interval %d of the billed period changed to %v %v", i, s.Energy[i], q)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRetentionLoss: records the gateway pruned before they were fetched
// are reported, not silently skipped.
func TestRetentionLoss(t *testing.T) {
	g := newFakeGateway(t, 100)
	g.oldest = 41
	addr := g.serve(t, "").Listener.Addr().String()
	st := openStore(t, "")
	c := NewClient(st, g.pairing(addr), testOptions())
	defer c.Close()
	if n, err := c.CatchUp(context.Background()); err != nil || n != 60 {
		t.Fatalf("CatchUp = %d, %v; want the 60 records still buffered", n, err)
	}
	if s := c.State(); !strings.Contains(s.Lost, "records 1..40 were pruned") {
		t.Errorf("state %+v; want the loss of records 1..40 reported", s)
	}
	_ = st.View(func(tx store.Tx) error {
		found := false
		_ = tx.ScanAudit(0, func(e store.Entry) bool {
			found = found || e.Action == "gateway.lost" && strings.Contains(e.Detail, "1..40")
			return true
		})
		if !found {
			t.Error("the loss is not in the audit log")
		}
		return nil
	})
}

// TestLiveStalled: a live stream that goes silent (a stalled connection) is
// dropped after Options.LiveIdle and reopened.
func TestLiveStalled(t *testing.T) {
	g := newFakeGateway(t, 0)
	g.stallLive = true
	addr := g.serve(t, "").Listener.Addr().String()
	opt := testOptions()
	opt.LiveIdle = 100 * time.Millisecond
	opt.After = func(time.Duration) <-chan time.Time { ch := make(chan time.Time, 1); ch <- time.Time{}; return ch }
	c := NewClient(nil, g.pairing(addr), opt)
	defer c.Close()
	events, stop := followLive(c)
	g.live <- protocol.Live{Time: testBase, PowerW: map[string]float64{"M0": 7}}
	if ev := <-events; ev.PowerW["M0"] != 7 {
		t.Fatalf("event %+v", ev)
	}
	g.mu.Lock()
	conns := g.liveConns
	g.mu.Unlock()
	if conns != 2 {
		t.Errorf("%d live connections, want 2 (the stalled one, then a fresh one)", conns)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// TestGatewayMoved: a paired gateway that got a new address is followed
// there (the pin still proves it is the same gateway) and the move is
// stored and logged.
func TestGatewayMoved(t *testing.T) {
	g := newFakeGateway(t, 100)
	old := g.serve(t, "")
	st := openStore(t, "")
	p := g.pairing(old.Listener.Addr().String())
	if err := st.Update(func(tx store.Tx) error { return SavePairing(tx, p, testClock.Now(), "test") }); err != nil {
		t.Fatal(err)
	}
	c := NewClient(st, p, testOptions())
	defer c.Close()
	if _, err := c.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	old.Close()
	g.setN(200)
	moved := g.serve(t, "").Listener.Addr().String()
	c.SetAddress(moved)
	if n, err := c.CatchUp(context.Background()); err != nil || n != 100 {
		t.Fatalf("CatchUp at the new address = %d, %v", n, err)
	}
	if err := st.Update(func(tx store.Tx) error { return UpdateAddress(tx, g.id, moved, testClock.Now()) }); err != nil {
		t.Fatal(err)
	}
	_ = st.View(func(tx store.Tx) error {
		got, err := LoadPairing(tx, g.id)
		if err != nil || got.Address != moved || got.Fingerprint != g.fp {
			t.Errorf("pairing after the move: %+v, %v", got, err)
		}
		logged := false
		_ = tx.ScanAudit(0, func(e store.Entry) bool {
			logged = logged || e.Action == "gateway.address" && strings.Contains(e.Detail, moved)
			return true
		})
		if !logged {
			t.Error("the move is not in the audit log")
		}
		return nil
	})
}

// TestAssign: records of a gateway not yet assigned to a site are kept raw;
// assigning it derives them.
func TestAssign(t *testing.T) {
	g := newFakeGateway(t, 400)
	addr := g.serve(t, "").Listener.Addr().String()
	st := openStore(t, "")
	p := g.pairing(addr)
	p.Site = ""
	if err := st.Update(func(tx store.Tx) error { return SavePairing(tx, p, testClock.Now(), "test") }); err != nil {
		t.Fatal(err)
	}
	c := NewClient(st, p, testOptions())
	defer c.Close()
	if n, err := c.CatchUp(context.Background()); err != nil || n != 400 {
		t.Fatalf("CatchUp = %d, %v", n, err)
	}
	_ = st.View(func(tx store.Tx) error {
		if _, err := tx.RegisterAtOrAfter("S1", "M0", time.Time{}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("registers derived before the gateway was assigned to a site: %v", err)
		}
		return nil
	})
	if _, err := Assign(st, g.id, "S1", map[string]string{"M0": "NOPE"}, testClock, "installer"); err == nil || !strings.Contains(err.Error(), "maps to NOPE, which site S1 does not have") {
		t.Fatalf("Assign to a missing meter: %v", err)
	}
	n, err := Assign(st, g.id, "S1", nil, testClock, "installer")
	if err != nil || n != 400 {
		t.Fatalf("Assign = %d, %v; want 400 records derived", n, err)
	}
	checkStored(t, st, g, 400)
	_ = st.View(func(tx store.Tx) error {
		got, _ := LoadPairing(tx, g.id)
		if got.Site != "S1" || got.Token != p.Token {
			t.Errorf("pairing after Assign: %+v", got)
		}
		return nil
	})
}

// TestLiveBacksOff: with the gateway off (connection refused), the live
// stream retries after exponentially growing waits, capped at MaxBackoff,
// and delivers events again once the gateway is back.
func TestLiveBacksOff(t *testing.T) {
	g := newFakeGateway(t, 0)
	srv := g.serve(t, "")
	addr := srv.Listener.Addr().String()
	srv.Close()
	ft := &fakeTimer{}
	ft.hook = func(i int, d time.Duration) {
		if i == 4 {
			g.serve(t, addr) // the gateway is back
		}
	}
	opt := testOptions()
	opt.After = ft.after
	c := NewClient(nil, g.pairing(addr), opt)
	defer c.Close()
	events, stop := followLive(c)
	g.live <- protocol.Live{Time: testBase, PowerW: map[string]float64{"PV": -900}}
	if ev := <-events; ev.PowerW["PV"] != -900 {
		t.Fatalf("event %+v", ev)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	if got := ft.all(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("waits between attempts = %v, want %v", got, want)
	}
}
