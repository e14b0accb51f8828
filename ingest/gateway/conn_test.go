package gateway

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/ingest/protocol"
)

// dialFrom opens a TLS connection from the local address ip and reports
// whether the gateway took it (the handshake completed) or closed it.
func dialFrom(t *testing.T, addr, ip string) (*tls.Conn, bool) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		if errTimeout(err) != nil {
			t.Fatalf("dialing from %s: %v", ip, err)
		}
		return nil, false // reset while connecting: refused
	}
	// A bound, not a measurement: a refused connection is closed at once.
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	c := tls.Client(raw, &tls.Config{InsecureSkipVerify: true})
	if err := c.Handshake(); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("handshake from %s: neither taken nor refused within 10 s", ip)
		}
		raw.Close()
		return nil, false
	}
	raw.SetDeadline(time.Time{})
	t.Cleanup(func() { c.Close() })
	return c, true
}

// 6,000 idle connections once took the gateway from 22 MB to 240 MB. Now
// one source gets MaxConnsPerSource, all sources together MaxConns, and the
// paired office still gets through when others fill them.
func TestConnectionLimitsKeepTheOffice(t *testing.T) {
	gw := startGateway(t, t.TempDir(), func(c *Config) { c.MaxConns, c.MaxConnsPerSource = 8, 4 })
	office := newClientFrom(t, gw.addr, "127.0.0.10")
	office.pair(gw.Code())
	office.http.CloseIdleConnections()

	taken := map[string]int{}
	for _, ip := range []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		for range 3 * 4 {
			if _, ok := dialFrom(t, gw.addr, ip); ok {
				taken[ip]++
			}
		}
	}
	if taken["127.0.0.2"] != 4 || taken["127.0.0.2"]+taken["127.0.0.3"]+taken["127.0.0.4"] > 8 {
		t.Fatalf("idle connections taken per source %v: want 4 from the first, at most 8 in all", taken)
	}
	if open, _, _ := gw.conns.Load().counts(); open < 8 {
		t.Fatalf("%d connections open, want the 8 allowed filled", open)
	}
	// A new connection from the office: beyond MaxConns, in its reserve.
	fresh := newClientFrom(t, gw.addr, "127.0.0.10")
	fresh.token = office.token
	if resp, b := fresh.do("GET", protocol.PathStatus, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the office during the flood: %d %s", resp.StatusCode, b)
	}
	// Whoever else comes is refused.
	if _, ok := dialFrom(t, gw.addr, "127.0.0.5"); ok {
		t.Error("a ninth source got a connection beyond MaxConns")
	}
}

// A connection that completes the TLS handshake and then sends nothing, or
// never starts it, is closed after IdleTimeout and gives its slot back.
func TestIdleConnectionsClosed(t *testing.T) {
	gw := startGateway(t, t.TempDir(), func(c *Config) { c.IdleTimeout, c.MaxConnsPerSource = 50*time.Millisecond, 2 })
	for range 3 { // more rounds than the source's slots: each is given back
		c, ok := dialFrom(t, gw.addr, "127.0.0.2")
		if !ok {
			t.Fatal("connection refused: the idle ones were not given back")
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Fatalf("an idle connection: read %v, want the gateway to close it (EOF)", err)
		}
		c.Close()
		raw, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).Dial("tcp", gw.addr)
		if err != nil {
			t.Fatal(err)
		}
		raw.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := raw.Read(make([]byte, 1)); err == nil || errTimeout(err) != nil {
			t.Fatalf("a connection without a handshake: read %v, want it closed", err)
		}
		raw.Close()
	}
}

// errTimeout returns err if it is a timeout, else nil.
func errTimeout(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	return nil
}
