package discover

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// inNetns is set in the child process that runs inside a private network
// namespace, where mDNS on lo reaches nobody but the test.
const inNetns = "ZEVDESK_DISCOVER_NETNS"

// runInNetns re-executes this test binary, running only the calling test,
// inside a new user and network namespace (unshare -rn), and reports its
// result. It returns true in the child, where the test should do its work.
func runInNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(inNetns) == "1" {
		for _, args := range [][]string{{"link", "set", "lo", "up"}, {"link", "set", "lo", "multicast", "on"}} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		return true
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("skipping: unshare (util-linux) not installed; real mDNS needs a private network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipping: ip (iproute2) not installed; needed to bring up lo in the test namespace")
	}
	if out, err := exec.Command(unshare, "-rn", "true").CombinedOutput(); err != nil {
		t.Skipf("skipping: user and network namespaces unavailable here (unshare -rn: %v: %s)", err, bytes.TrimSpace(out))
	}
	cmd := exec.Command(unshare, "-rn", os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), inNetns+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("namespace child output:\n%s", out)
	if err != nil {
		t.Fatalf("test in network namespace failed: %v", err)
	}
	return false
}

func loopback(t *testing.T) []net.Interface {
	t.Helper()
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatalf("loopback interface: %v", err)
	}
	return []net.Interface{*lo}
}

// waitFor reads lists from ch until ok accepts one, failing after a deadline
// (mDNS goes through the kernel; there is nothing to synchronise on).
func waitFor(t *testing.T, ch <-chan []Gateway, what string, ok func([]Gateway) bool) []Gateway {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case gs := <-ch:
			if ok(gs) {
				return gs
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func find(gs []Gateway, id string) (Gateway, bool) {
	for _, g := range gs {
		if g.ID == id {
			return g, true
		}
	}
	return Gateway{}, false
}

func TestMDNSAdvertiseBrowse(t *testing.T) {
	if !runInNetns(t) {
		return
	}
	ifs := loopback(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	adv, err := Advertise(ctx, Info{ID: "GW-0042", Model: "zevdesk-sim", FW: "1.4.2", Port: 8443, FP: "9f86d081884c7d65", Interfaces: ifs})
	if err != nil {
		t.Fatalf("Advertise: %v", err)
	}
	other, err := Advertise(ctx, Info{ID: "GW-0007", Model: "zevdesk-pi", FW: "1.0.0", Port: 9443, FP: "0123456789abcdef", Paired: true, Interfaces: ifs})
	if err != nil {
		t.Fatalf("Advertise: %v", err)
	}
	defer other.Close()

	// Find is what the CLI uses: one round.
	gs, err := FindOn(ctx, ifs, 2*time.Second)
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	want := Gateway{ID: "GW-0042", Model: "zevdesk-sim", FW: "1.4.2", Address: "127.0.0.1:8443", FP: "9f86d081884c7d65", Paired: false, API: "1"}
	if g, ok := find(gs, "GW-0042"); !ok || g != want {
		t.Fatalf("Find: got %+v, want an entry %+v", gs, want)
	}
	if g, ok := find(gs, "GW-0007"); !ok || !g.Paired || g.Address != "127.0.0.1:9443" {
		t.Fatalf("Find: second gateway missing or wrong in %+v", gs)
	}

	lists := make(chan []Gateway, 16)
	bctx, bcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Browse(bctx, BrowseOptions{Interfaces: ifs, Window: 400 * time.Millisecond, Interval: 100 * time.Millisecond, Misses: 1}, func(gs []Gateway) { lists <- gs })
	}()

	waitFor(t, lists, "the gateway to appear", func(gs []Gateway) bool {
		g, ok := find(gs, "GW-0042")
		return ok && g == want
	})

	if err := adv.SetPaired(true); err != nil {
		t.Fatalf("SetPaired: %v", err)
	}
	waitFor(t, lists, "paired=1", func(gs []Gateway) bool {
		g, ok := find(gs, "GW-0042")
		return ok && g.Paired
	})

	if err := adv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	gs = waitFor(t, lists, "the gateway to disappear", func(gs []Gateway) bool {
		_, ok := find(gs, "GW-0042")
		return !ok
	})
	if _, ok := find(gs, "GW-0007"); !ok {
		t.Errorf("the other gateway vanished too: %+v", gs)
	}
	bcancel()
	if err := <-done; err != nil {
		t.Errorf("Browse: %v", err)
	}
}

func TestAdvertiseRejectsBadInfo(t *testing.T) {
	ctx := context.Background()
	if _, err := Advertise(ctx, Info{Port: 8443}); err == nil {
		t.Error("Advertise accepted an empty id")
	}
	if _, err := Advertise(ctx, Info{ID: "x", Port: 0}); err == nil {
		t.Error("Advertise accepted port 0")
	}
}

func TestPickIP(t *testing.T) {
	_, lan, _ := net.ParseCIDR("192.168.1.20/24")
	ips := []net.IP{net.ParseIP("172.17.0.1"), net.ParseIP("192.168.1.50"), net.ParseIP("10.8.0.1")}
	if got := pickIP(ips, []*net.IPNet{lan}); !got.Equal(net.ParseIP("192.168.1.50")) {
		t.Errorf("pickIP = %v, want the address on our LAN", got)
	}
	if got := pickIP(ips, nil); !got.Equal(ips[0]) {
		t.Errorf("pickIP without local networks = %v, want the first", got)
	}
}

// A gateway listening on one address announces only that one: a browser
// must not be sent to an address where nothing listens.
func TestMDNSAnnouncesOnlyTheListenAddress(t *testing.T) {
	if !runInNetns(t) {
		return
	}
	if out, err := exec.Command("ip", "addr", "add", "10.9.9.9/32", "dev", "lo").CombinedOutput(); err != nil {
		t.Fatalf("ip addr add: %v\n%s", err, out)
	}
	listen := net.ParseIP("10.9.9.9")
	ifs, err := InterfacesWith(listen)
	if err != nil || len(ifs) != 1 || ifs[0].Name != "lo" {
		t.Fatalf("InterfacesWith(%v) = %v, %v; want [lo]", listen, ifs, err)
	}
	if _, err := InterfacesWith(net.ParseIP("192.0.2.77")); err == nil || !strings.Contains(err.Error(), "192.0.2.77") {
		t.Errorf("InterfacesWith(an address nobody has): err = %v, want one naming the address", err)
	}
	ctx := context.Background()
	adv, err := Advertise(ctx, Info{ID: "GW-ONE", Model: "m", FW: "1", Port: 8443, FP: "00", Interfaces: ifs, IPs: []net.IP{listen}})
	if err != nil {
		t.Fatalf("Advertise: %v", err)
	}
	defer adv.Close()
	gs, err := FindOn(ctx, ifs, 2*time.Second)
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	if g, ok := find(gs, "GW-ONE"); !ok || g.Address != "10.9.9.9:8443" {
		t.Fatalf("Find = %+v, want GW-ONE at 10.9.9.9:8443 only", gs)
	}
}
