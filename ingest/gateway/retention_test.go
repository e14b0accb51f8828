package gateway

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

const day = 24 * time.Hour

// logBuffer collects a gateway's log for a test to read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// fillDays appends a reading of meters m1..m3 every 15 minutes in
// [from, from+days), one commit per day, and returns the last seq.
func fillDays(t *testing.T, b *Buffer, from time.Time, days int) uint64 {
	t.Helper()
	var last uint64
	for d := range days {
		var rs []driver.Reading
		for q := range 96 {
			tm := from.Add(time.Duration(d)*day + time.Duration(q)*15*time.Minute)
			for m := range 3 {
				rs = append(rs, driver.Reading{Meter: []string{"m1", "m2", "m3"}[m], Time: tm, Import: core.Energy(d*96+q) * core.Wh})
			}
		}
		recs, err := b.Append(rs)
		if err != nil {
			t.Fatal(err)
		}
		last = recs[len(recs)-1].Seq
	}
	return last
}

// fetchAll pulls every record after `after` as the office does (pages
// until more is false) and checks that the sequence numbers run from
// after+1 to want without a gap.
func fetchAll(t *testing.T, c *client, after, want uint64) {
	t.Helper()
	next := after + 1
	for {
		recs, page := c.records(after, protocol.MaxRecordsLimit)
		for _, r := range recs {
			if r.Seq != next {
				t.Fatalf("/records gives seq %d where %d was due: records were pruned or skipped", r.Seq, next)
			}
			next++
		}
		if len(recs) > 0 {
			after = recs[len(recs)-1].Seq
		}
		if !page.More {
			break
		}
	}
	if next-1 != want {
		t.Fatalf("/records ends at seq %d, want %d", next-1, want)
	}
}

// TestClockJumpKeepsUnfetchedRecords is issue 8's incident: 40 days of
// records the office has not fetched, the gateway clock jumps a year
// ahead, the meters are read once, the buffer is pruned once. Every record
// is still served, and the jump is logged.
func TestClockJumpKeepsUnfetchedRecords(t *testing.T) {
	logs := &logBuffer{}
	gw := startGateway(t, t.TempDir(), func(c *Config) {
		c.SegmentSpan = 10 * day
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	c := newClient(t, gw.addr)
	c.pair(gw.Code())
	last := fillDays(t, gw.Buffer(), t0.Add(-40*day), 40)

	gw.clock.Advance(365 * day)
	n, err := gw.Poll(context.Background(), time.Time{})
	if err != nil || n != 3 {
		t.Fatalf("poll after the jump: %d records, %v", n, err)
	}
	gw.prune()

	if st := gw.Buffer().Stats(); st.Count != last+3 {
		t.Fatalf("after the jump and a prune the buffer holds %d records, want all %d", st.Count, last+3)
	}
	fetchAll(t, c, 0, last+3)
	if !strings.Contains(logs.String(), "clock jumped ahead") {
		t.Errorf("the jump was not logged; log:\n%s", logs.String())
	}
}

// TestClockJumpHoldsUntilFetched: records the office has fetched may go
// once past the retention, but not on the word of a clock that just jumped:
// pruning waits until the office has fetched the record stamped after the
// jump, and the hold survives a restart.
func TestClockJumpHoldsUntilFetched(t *testing.T) {
	dir := t.TempDir()
	mod := func(c *Config) { c.SegmentSpan = 10 * day }
	gw := startGateway(t, dir, mod)
	c := newClient(t, gw.addr)
	c.pair(gw.Code())
	last := fillDays(t, gw.Buffer(), t0.Add(-40*day), 40)
	fetchAll(t, c, 0, last)
	for range ackWindow { // the office's next polls: it has stored everything
		c.records(last, 1)
	}

	gw.clock.Advance(365 * day)
	if _, err := gw.Poll(context.Background(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	gw.prune()
	st := gw.Buffer().Stats()
	if st.Count != last+3 || st.HoldSeq != last+1 {
		t.Fatalf("after the jump: %d records, hold at %d; want %d kept and a hold at %d", st.Count, st.HoldSeq, last+3, last+1)
	}

	gw.stop()
	gw = startGateway(t, dir, mod)
	gw.clock.Advance(365 * day)
	gw.prune()
	if st := gw.Buffer().Stats(); st.Count != last+3 || st.HoldSeq != last+1 {
		t.Fatalf("after a restart: %d records, hold at %d; the hold was lost", st.Count, st.HoldSeq)
	}
	c2 := newClient(t, gw.addr)
	c2.token = c.token
	fetchAll(t, c2, last, last+3)
	for range ackWindow {
		c2.records(last+3, 1)
	}
	gw.prune()
	if st := gw.Buffer().Stats(); st.HoldSeq != 0 || st.Count != 3 || st.OldestSeq != last+1 {
		t.Fatalf("after the office fetched past the jump: %+v; want the hold gone and only the 3 new records kept", st)
	}
}

// TestAckSurvivesRestart: the office fetched the first 20 of 120 days; the
// gateway restarts and prunes with a 90-day retention. What the office
// fetched and is past the retention goes; what it did not fetch stays,
// however old.
func TestAckSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	mod := func(c *Config) { c.SegmentSpan = 10 * day }
	gw := startGateway(t, dir, mod)
	c := newClient(t, gw.addr)
	c.pair(gw.Code())
	start := t0.Add(-120 * day)
	acked := fillDays(t, gw.Buffer(), start, 20)
	last := fillDays(t, gw.Buffer(), start.Add(20*day), 100)
	for range ackWindow { // the office has stored up to day 20, and polls
		c.records(acked, 1)
	}

	gw.stop()
	gw = startGateway(t, dir, mod)
	gw.prune()
	st := gw.Buffer().Stats()
	if st.AckedSeq != acked {
		t.Fatalf("acknowledged seq after a restart is %d, want %d", st.AckedSeq, acked)
	}
	if st.OldestSeq > acked+1 {
		t.Fatalf("oldest record %d after pruning: records after %d, never fetched, were pruned", st.OldestSeq, acked)
	}
	if st.OldestSeq == 1 {
		t.Fatalf("nothing pruned: the fetched 20 days are past the 90-day retention and should go (%+v)", st)
	}
	c2 := newClient(t, gw.addr)
	c2.token = c.token
	fetchAll(t, c2, acked, last)
}

// ackAll acknowledges seq as an office polling with after=seq does.
func ackAll(t *testing.T, b *Buffer, seq uint64) {
	t.Helper()
	for range ackWindow {
		if err := b.Ack(seq); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAckLagsBehindPrefetch: the workstation asks for the next pages while
// it still commits earlier ones, so an after counts as stored only once two
// more requests followed it; a lower after counts at once.
func TestAckLagsBehindPrefetch(t *testing.T) {
	b, err := OpenBuffer(filepath.Join(t.TempDir(), "buffer"), "gw", openBolt, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	rs := make([]driver.Reading, 100)
	for i := range rs {
		rs[i] = driver.Reading{Meter: "a", Time: time.Date(2026, 3, 1, 0, 0, i, 0, time.UTC)}
	}
	if _, err := b.Append(rs); err != nil {
		t.Fatal(err)
	}
	for i, step := range []struct{ after, acked uint64 }{
		{10, 0}, {20, 0}, {30, 10}, {40, 20}, {40, 30}, {40, 40}, {5, 5}, {200, 5}, {200, 5}, {200, 100},
	} {
		if err := b.Ack(step.after); err != nil {
			t.Fatal(err)
		}
		if got := b.Stats().AckedSeq; got != step.acked {
			t.Fatalf("request %d (after=%d): acknowledged %d, want %d", i+1, step.after, got, step.acked)
		}
	}
}

// TestBufferRetentionRules: what Prune may take, by what the office has
// acknowledged, on real segment files.
func TestBufferRetentionRules(t *testing.T) {
	// Real bbolt files, unsynced: a power cut is not what this test is about.
	open := func(p string) (store.Store, error) { return bolt.Open(p, &bolt.Options{NoSync: true}) }
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const days = 200 // 20 segments of 10 days, 288 records a day
	perSeg := uint64(10 * 96 * 3)
	cutoff := start.Add((days - 90) * day) // 110 days, 11 segments, past the retention
	for _, tc := range []struct {
		name      string
		ack       uint64 // 0: never fetched
		cap       uint64
		wantFirst uint64 // the oldest seq kept
	}{
		{name: "never fetched", wantFirst: 1},
		{name: "fetched 5 segments", ack: 5 * perSeg, wantFirst: 5*perSeg + 1},
		{name: "fetched half a segment more", ack: 5*perSeg + 100, wantFirst: 5*perSeg + 1},
		{name: "fetched all", ack: days * 96 * 3, wantFirst: 11*perSeg + 1},
		{name: "never fetched, over the cap", cap: 15 * perSeg, wantFirst: 5*perSeg + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "buffer")
			b, err := OpenBuffer(dir, "gw", open, 10*day)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { b.Close() }()
			b.MaxRecords = tc.cap
			b.log = slog.New(slog.NewTextHandler(io.Discard, nil))
			fillDays(t, b, start, days)
			if tc.ack > 0 {
				ackAll(t, b, tc.ack)
			}
			if _, err := b.Prune(cutoff); err != nil {
				t.Fatal(err)
			}
			if st := b.Stats(); st.OldestSeq != tc.wantFirst {
				t.Fatalf("oldest seq kept %d, want %d (%+v)", st.OldestSeq, tc.wantFirst, st)
			}
			// The same after a restart: the acknowledgement is on disk.
			b.Close()
			if b, err = OpenBuffer(dir, "gw", open, 10*day); err != nil {
				t.Fatal(err)
			}
			b.MaxRecords = tc.cap
			if _, err := b.Prune(cutoff.Add(30 * day)); err != nil {
				t.Fatal(err)
			}
			if st := b.Stats(); st.AckedSeq != tc.ack || (tc.cap == 0 && tc.ack < st.LastSeq && st.OldestSeq > tc.ack+1) {
				t.Fatalf("after a restart: %+v; acknowledged %d", st, tc.ack)
			}
		})
	}
}
