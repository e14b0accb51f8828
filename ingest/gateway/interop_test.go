package gateway

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/intake"
	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// TestWorkstationInterop pairs the workstation's own client (ingest/intake)
// with this gateway and catches up: the two sides of the protocol agree.
func TestWorkstationInterop(t *testing.T) {
	gw := startGateway(t, t.TempDir(), nil)
	ctx := context.Background()
	for range 5 {
		gw.clock.Advance(15 * time.Minute)
		if _, err := gw.Poll(ctx, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := intake.Pair(ctx, gw.addr, gw.ID(), "00000000"); err == nil {
		t.Fatal("intake paired with a wrong code")
	}
	// Through a man in the middle with another certificate, pairing fails
	// even with the right code.
	if _, err := intake.Pair(ctx, mitmProxy(t, gw.addr), gw.ID(), gw.Code()); err == nil {
		t.Fatal("intake paired through a man in the middle")
	}
	p, err := intake.Pair(ctx, gw.addr, gw.ID(), gw.Code())
	if err != nil {
		t.Fatal(err)
	}
	if p.Fingerprint != gw.Fingerprint() {
		t.Fatalf("intake pinned %s, gateway has %s", p.Fingerprint, gw.Fingerprint())
	}
	st, err := bolt.Open(filepath.Join(t.TempDir(), "office.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := intake.NewClient(st, p, nil)
	defer c.Close()
	n, err := c.CatchUp(ctx)
	if err != nil || n != 15 {
		t.Fatalf("caught up %d records, %v; want 15", n, err)
	}
	var cursor uint64
	var recs []store.Record
	st.View(func(tx store.Tx) error {
		cursor, _ = tx.Cursor(gw.ID())
		return tx.ScanRecords(gw.ID(), 0, func(r store.Record) bool { recs = append(recs, r); return true })
	})
	if cursor != 15 || len(recs) != 15 || recs[14].Meter != "m3" || !recs[14].Time.Equal(t0.Add(75*time.Minute)) {
		t.Errorf("cursor %d, %d records, last %+v", cursor, len(recs), recs[len(recs)-1])
	}
	var s protocol.Status
	if s, err = c.Status(ctx); err != nil || !s.Paired || s.LastSeq != 15 {
		t.Errorf("status %+v %v", s, err)
	}
}
