package gateway

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/ingest/gateway/driver"
)

func TestBufferRetention(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "buffer")
	b, err := OpenBuffer(dir, "gw", openBolt, 10*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// 200 days, one record per meter per hour (two meters).
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const days = 200
	for d := range days {
		var rs []driver.Reading
		for h := range 24 {
			tm := start.Add(time.Duration(d*24+h) * time.Hour)
			rs = append(rs, driver.Reading{Meter: "a", Time: tm, Import: core.Energy(d*24 + h)},
				driver.Reading{Meter: "b", Time: tm, Export: core.Energy(d)})
		}
		if _, err := b.Append(rs); err != nil {
			t.Fatal(err)
		}
	}
	total := uint64(days * 48)
	if st := b.Stats(); st.Count != total || st.LastSeq != total || st.OldestSeq != 1 || st.Segments != 20 {
		t.Fatalf("stats before pruning %+v", st)
	}
	now := start.Add(days * 24 * time.Hour)
	cutoff := now.Add(-90 * 24 * time.Hour)
	ackAll(t, b, total) // the office has fetched everything
	n, err := b.Prune(cutoff)
	if err != nil {
		t.Fatal(err)
	}
	st := b.Stats()
	if n == 0 || st.Count != total-uint64(n) || st.LastSeq != total {
		t.Fatalf("pruned %d, stats %+v", n, st)
	}
	// Everything within the retention is still there, oldest first went,
	// and at most one segment's worth older than the cutoff remains.
	recs, err := b.Scan(nil, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(recs)) != st.Count || recs[0].Seq != st.OldestSeq || recs[len(recs)-1].Seq != total {
		t.Fatalf("scan gives %d records from %d, stats %+v", len(recs), recs[0].Seq, st)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].Seq != recs[i-1].Seq+1 {
			t.Fatalf("gap after %d", recs[i-1].Seq)
		}
	}
	if recs[0].Time.After(cutoff) || recs[0].Time.Before(cutoff.Add(-10*24*time.Hour)) {
		t.Errorf("oldest kept record at %s, cutoff %s: retention not kept within one segment", recs[0].Time, cutoff)
	}
	// Pruning survives a reopen; sequence numbers continue.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b, err = OpenBuffer(dir, "gw", openBolt, 10*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if st2 := b.Stats(); st2 != st {
		t.Fatalf("after reopen %+v, want %+v", st2, st)
	}
	got, err := b.Append([]driver.Reading{{Meter: "a", Time: now}})
	if err != nil || len(got) != 1 || got[0].Seq != total+1 {
		t.Fatalf("append after reopen: %+v %v", got, err)
	}
	// Pruning never removes the newest segment, even if it is old.
	if _, err := b.Prune(now.Add(1000 * 24 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); st.Segments != 1 || st.LastSeq != total+1 {
		t.Fatalf("after pruning all %+v", st)
	}
	var r []store.Record
	if r, _ = b.Scan(nil, total, 10); len(r) != 1 {
		t.Fatalf("newest record gone: %v", r)
	}
}

// A gateway clock set back (NTP after a dead RTC) must not make Prune take a
// segment's later records for old ones.
func TestBufferClockSetBackKeepsNewestTime(t *testing.T) {
	b, err := OpenBuffer(filepath.Join(t.TempDir(), "buffer"), "gw", openBolt, 10*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	late := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tm := range []time.Time{late, late.Add(-30 * time.Minute)} {
		if _, err := b.Append([]driver.Reading{{Meter: "a", Time: tm, Import: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := b.Stats().NewestTime; !got.Equal(late) {
		t.Fatalf("newest time %s after the clock went back, want %s", got, late)
	}
}

// A segment file Prune could not delete must not stay in the list closed:
// every Scan after it would fail.
func TestBufferPruneFailureKeepsServing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "buffer")
	b, err := OpenBuffer(dir, "gw", openBolt, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for d := range 3 {
		if _, err := b.Append([]driver.Reading{{Meter: "a", Time: start.Add(time.Duration(d) * 24 * time.Hour), Import: core.Energy(d)}}); err != nil {
			t.Fatal(err)
		}
	}
	ackAll(t, b, 3)
	// Put a non-empty directory where the oldest segment's file was, so
	// that deleting it fails (the open store keeps its moved file).
	old := b.segs[0].path
	if err := os.Rename(old, old+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(old, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Prune(start.Add(12 * time.Hour)); err == nil {
		t.Fatal("Prune reported no error for a segment it could not delete")
	}
	recs, err := b.Scan(nil, 0, 100)
	if err != nil {
		t.Fatalf("Scan after a failed prune: %v", err)
	}
	if len(recs) != 2 || recs[0].Seq != 2 {
		t.Fatalf("Scan after a failed prune gives %+v, want seqs 2 and 3", recs)
	}
}
