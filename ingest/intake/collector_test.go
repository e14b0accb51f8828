package intake

import (
	"context"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core/store"
)

// TestCollectorFollowsPairings: a collector started on one pairing ingests
// a second gateway paired beside it after the next Sync, leaves a loop
// whose pairing did not change (or only moved address) alone, restarts the
// loop of a gateway paired again, and stops everything at Stop.
func TestCollectorFollowsPairings(t *testing.T) {
	g1 := newFakeGateway(t, 500)
	addr1 := g1.serve(t, "").Listener.Addr().String()
	g2 := newFakeGateway(t, 300)
	g2.id = "GW-TWO"
	addr2 := g2.serve(t, "").Listener.Addr().String()
	st := openStore(t, "")
	save := func(p Pairing) {
		t.Helper()
		if err := st.Update(func(tx store.Tx) error { return SavePairing(tx, p, testClock.Now(), "test") }); err != nil {
			t.Fatal(err)
		}
	}
	save(g1.pairing(addr1))

	states := make(chan State, 1000)
	starts := make(chan string, 10)
	c := NewCollector(st, testOptions())
	c.OnState = func(s State) { states <- s }
	c.OnStart = func(_ context.Context, p Pairing, cl *Client) { starts <- p.GatewayID + "@" + cl.Address() }
	defer c.Stop()
	sync := func() {
		t.Helper()
		if err := c.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	caughtUp := func(id string, n uint64) {
		t.Helper()
		timeout := time.After(30 * time.Second) // a hang, not a speed limit
		for {
			select {
			case s := <-states:
				if s.Gateway == id && s.Err == "" && s.Behind == 0 && s.Cursor == n {
					return
				}
			case <-timeout:
				t.Fatalf("gateway %s never caught up at record %d", id, n)
			}
		}
	}
	started := func(want string) {
		t.Helper()
		select {
		case got := <-starts:
			if got != want {
				t.Fatalf("started %s, want %s", got, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s never started", want)
		}
	}
	noStart := func(why string) {
		t.Helper()
		select {
		case got := <-starts:
			t.Fatalf("%s restarted %s", why, got)
		default:
		}
	}

	sync()
	started("GW-TEST@" + addr1)
	caughtUp("GW-TEST", 500)
	checkStored(t, st, g1, 500)

	// Paired beside the running collector (kept raw: no site yet).
	p2 := g2.pairing(addr2)
	p2.Site = ""
	save(p2)
	sync()
	started("GW-TWO@" + addr2)
	caughtUp("GW-TWO", 300)

	sync()
	noStart("a Sync without changes")
	// mDNS found GW-TWO elsewhere (the same server under another name):
	// the running loop moves, without a restart.
	if err := st.Update(func(tx store.Tx) error {
		return UpdateAddress(tx, "GW-TWO", "localhost"+addr2[len("127.0.0.1"):], testClock.Now())
	}); err != nil {
		t.Fatal(err)
	}
	sync()
	noStart("an address change")
	if got := c.Client("GW-TWO").Address(); got != "localhost"+addr2[len("127.0.0.1"):] {
		t.Errorf("GW-TWO's client is at %s after the address changed", got)
	}

	// Assigned to the site: the loop restarts with the new pairing.
	p2.Site = "S1"
	p2.Meters = map[string]string{"M0": "M0"}
	save(p2)
	sync()
	started("GW-TWO@" + addr2)

	c.Stop()
	sync()
	noStart("a Sync after Stop")
	if c.Client("GW-TEST") != nil {
		t.Error("a loop runs after Stop")
	}
}
