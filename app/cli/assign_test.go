package cli

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/intake"
)

// TestAssignWithoutRepairing: a gateway paired before its site existed is
// assigned later without its pairing window (which only the gateway itself
// can open), and the records it kept raw meanwhile are derived for the site.
func TestAssignWithoutRepairing(t *testing.T) {
	gw := startTestGateway(t)
	db := filepath.Join(t.TempDir(), "office.db")
	code, out, errs := run(t, db, "pair", "--gateway", gw.g.ID(), "--code", gw.g.Code(), "--address", gw.addr)
	if code != 0 || !strings.Contains(out, "gateways assign --gateway "+gw.g.ID()) {
		t.Fatalf("pair without a site: exit %d, %q, %q; want the assign command named", code, out, errs)
	}
	n := catchUpUnassigned(t, db, gw)

	for _, bad := range [][]string{
		{"--gateway", gw.g.ID(), "--site", "nowhere"},
		{"--gateway", "zevgw-unknown", "--site", "birke"},
		{"--gateway", gw.g.ID(), "--site", "birke", "--meter", "no-equals-sign"},
		{"--gateway", gw.g.ID(), "--site", "birke", "--meter", gw.b.Meters()[0].ID + "=NOSUCH"},
	} {
		if code, _, errs := run(t, db, append([]string{"gateways", "assign"}, bad...)...); code != 1 || errs == "" {
			t.Errorf("gateways assign %v: exit %d, %q; want exit 1 with a message", bad, code, errs)
		}
	}
	code, out, errs = run(t, db, "gateways", "assign", "--gateway", gw.g.ID(), "--site", "birke")
	if code != 0 || !strings.Contains(out, "derived "+strconv.Itoa(n)+" stored records") {
		t.Fatalf("gateways assign: exit %d, %q, %q", code, out, errs)
	}
	st2 := openStore(t, db)
	_ = st2.View(func(tx store.Tx) error {
		p, err := intake.LoadPairing(tx, gw.g.ID())
		if err != nil || p.Site != "birke" {
			t.Errorf("pairing after assign: site %q, %v; want birke", p.Site, err)
		}
		m := gw.b.Meters()[0].ID
		k := 0
		_ = tx.ScanRegisters("birke", m, time.Time{}, time.Now().Add(time.Hour), func(store.Register) bool { k++; return true })
		if k != 2*96 {
			t.Errorf("meter %s: %d readings after assignment, want %d", m, k, 2*96)
		}
		return nil
	})
}

// catchUpUnassigned adds the simulated building's site to db, whose gateway
// gw is paired without a site, and fetches the gateway's records, which stay
// raw; it returns how many it fetched.
func catchUpUnassigned(t *testing.T, db string, gw *gwTest) int {
	t.Helper()
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	var p intake.Pairing
	err = st.Update(func(tx store.Tx) error {
		if err := tx.PutSite(gw.b.Site("birke")); err != nil {
			return err
		}
		p, err = intake.LoadPairing(tx, gw.g.ID())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c := intake.NewClient(st, p, nil)
	n, err := c.CatchUp(context.Background())
	c.Close()
	st.Close()
	if err != nil || n == 0 {
		t.Fatalf("CatchUp = %d, %v", n, err)
	}
	return n
}
