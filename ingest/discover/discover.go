// Package discover finds zevdesk gateways on the LAN by mDNS (DNS-SD service
// _zevgw._tcp) and lets a gateway announce itself.
//
// A gateway advertises TXT keys api=1, id, model, fw, fp (a prefix of its
// certificate fingerprint) and paired=0|1 (see docs/protocol.md).
//
// Browsing works in rounds: each round sends a fresh query and collects the
// answers for a short window, and the list changes when a round differs from
// the last. grandcat/zeroconf v1.0.0's resolver reports each instance once per
// resolver and never reports TXT changes or goodbyes, so a long-lived resolver
// could not show a gateway that became paired or went away; a fresh one per
// round can.
package discover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/grandcat/zeroconf"
)

// Service is the DNS-SD service type of a zevdesk gateway.
const Service = "_zevgw._tcp"

// Domain is the mDNS domain.
const Domain = "local."

// APIVersion is the protocol version advertised in the TXT key "api".
const APIVersion = "1"

// Info is what a gateway advertises.
type Info struct {
	ID     string // the gateway's id, also the DNS-SD instance name
	Model  string
	FW     string // firmware (software) version
	Port   int    // the HTTPS port
	FP     string // certificate fingerprint (a prefix is enough to tell gateways apart)
	Paired bool
	// Interfaces limits the announcement to these interfaces; empty means
	// every interface that is up and multicast-capable.
	Interfaces []net.Interface
	// IPs limits the announced addresses to these; empty means every
	// address of Interfaces. A gateway listening on one address must
	// announce only that one, or browsers would try addresses where nothing
	// listens.
	IPs []net.IP
}

func (in Info) txt() []string {
	paired := "0"
	if in.Paired {
		paired = "1"
	}
	return []string{
		"api=" + APIVersion,
		"id=" + in.ID,
		"model=" + in.Model,
		"fw=" + in.FW,
		"fp=" + in.FP,
		"paired=" + paired,
	}
}

// Advertiser announces one gateway until Close. It is safe for concurrent
// use.
type Advertiser struct {
	mu     sync.Mutex
	info   Info
	host   string
	ips    []string
	ifaces []net.Interface
	srv    *zeroconf.Server
	closed bool
	done   chan struct{} // closed by Close
}

// Advertise starts announcing info. The announcement ends with Close or when
// ctx is done; either sends a goodbye so that browsers drop the gateway at
// once.
func Advertise(ctx context.Context, info Info) (*Advertiser, error) {
	if info.ID == "" {
		return nil, errors.New("advertising gateway: empty id")
	}
	if info.Port <= 0 || info.Port > 65535 {
		return nil, fmt.Errorf("advertising gateway %s: invalid port %d", info.ID, info.Port)
	}
	ifaces := info.Interfaces
	if len(ifaces) == 0 {
		var err error
		if ifaces, err = multicastInterfaces(); err != nil {
			return nil, fmt.Errorf("advertising gateway %s: %w", info.ID, err)
		}
	}
	ips := interfaceIPs(ifaces)
	if len(info.IPs) > 0 {
		ips = ips[:0]
		for _, ip := range info.IPs {
			ips = append(ips, ip.String())
		}
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("advertising gateway %s: no usable IP address on %s", info.ID, ifaceNames(ifaces))
	}
	a := &Advertiser{info: info, host: hostLabel(info.ID), ips: ips, ifaces: ifaces, done: make(chan struct{})}
	if err := a.register(); err != nil {
		return nil, err
	}
	go func() {
		select {
		case <-ctx.Done():
			a.Close()
		case <-a.done:
		}
	}()
	return a, nil
}

// register (re)starts the responder with the current info; a.mu is held or
// a is not shared yet.
func (a *Advertiser) register() error {
	// RegisterProxy rather than Register: Register leaves out loopback
	// addresses, and it resolves the host name, which a gateway on a
	// bare network need not have.
	srv, err := zeroconf.RegisterProxy(a.info.ID, Service, Domain, a.info.Port, a.host, a.ips, a.info.txt(), a.ifaces)
	if err != nil {
		return fmt.Errorf("advertising gateway %s: %w", a.info.ID, err)
	}
	a.srv = srv
	return nil
}

// SetPaired changes the paired flag in the announcement.
func (a *Advertiser) SetPaired(paired bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return errors.New("advertiser closed")
	}
	if a.info.Paired == paired {
		return nil
	}
	a.info.Paired = paired
	// zeroconf's Server.SetText writes the TXT record that its receive
	// goroutines read without a lock; restarting the responder is the race-free
	// way to change it. Browsers see the new record on their next round.
	a.srv.Shutdown()
	return a.register()
}

// Close stops the announcement and sends a goodbye. Closing twice is no
// error.
func (a *Advertiser) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	close(a.done)
	a.srv.Shutdown()
	return nil
}

// Gateway is a gateway found on the LAN.
type Gateway struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	FW      string `json:"fw"`
	Address string `json:"address"` // host:port of its HTTPS API
	FP      string `json:"fp"`      // certificate fingerprint prefix as advertised
	Paired  bool   `json:"paired"`
	API     string `json:"api"` // protocol version
}

// BrowseOptions tune Browse. The zero value gives sensible defaults.
type BrowseOptions struct {
	// Interfaces to browse on; empty means every multicast interface.
	Interfaces []net.Interface
	// Window is how long a round collects answers (default 1s).
	Window time.Duration
	// Interval is the pause between rounds (default 3s).
	Interval time.Duration
	// Misses is how many rounds in a row a gateway may not answer before it
	// is dropped from the list (default 2), so that one lost packet does
	// not make it flicker.
	Misses int
}

func (o *BrowseOptions) defaults() {
	if o.Window <= 0 {
		o.Window = time.Second
	}
	if o.Interval <= 0 {
		o.Interval = 3 * time.Second
	}
	if o.Misses <= 0 {
		o.Misses = 2
	}
}

// Browse looks for gateways until ctx is done and calls fn with the whole
// list, sorted by id, whenever it changes (first after the first round, even
// when empty). fn is called from Browse's goroutine, one call at a time; it
// must not block for long. Browse returns nil when ctx ends, or an error if
// mDNS cannot be used at all (no multicast interface, port 5353 unavailable).
func Browse(ctx context.Context, opts BrowseOptions, fn func([]Gateway)) error {
	opts.defaults()
	known := map[string]Gateway{}
	missed := map[string]int{}
	first := true
	for {
		found, err := round(ctx, opts.Interfaces, opts.Window)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		changed := first
		first = false
		for id, g := range found {
			if old, ok := known[id]; !ok || old != g {
				changed = true
			}
			known[id] = g
			delete(missed, id)
		}
		for id := range known {
			if _, ok := found[id]; ok {
				continue
			}
			missed[id]++
			if missed[id] >= opts.Misses {
				delete(known, id)
				delete(missed, id)
				changed = true
			}
		}
		if changed {
			fn(sorted(known))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(opts.Interval):
		}
	}
}

// Find browses for wait and returns the gateways that answered, sorted by id.
func Find(ctx context.Context, wait time.Duration) ([]Gateway, error) {
	return FindOn(ctx, nil, wait)
}

// FindOn is Find restricted to the given interfaces (nil: all of them).
func FindOn(ctx context.Context, ifaces []net.Interface, wait time.Duration) ([]Gateway, error) {
	found, err := round(ctx, ifaces, wait)
	if err != nil {
		return nil, err
	}
	return sorted(found), nil
}

func sorted(m map[string]Gateway) []Gateway {
	gs := make([]Gateway, 0, len(m))
	for _, g := range m {
		gs = append(gs, g)
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].ID < gs[j].ID })
	return gs
}

// round sends one query and collects answers for window.
func round(ctx context.Context, ifaces []net.Interface, window time.Duration) (map[string]Gateway, error) {
	r, err := newResolver(ifaces)
	if err != nil {
		return nil, fmt.Errorf("browsing for gateways: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	entries := make(chan *zeroconf.ServiceEntry)
	if err := r.Browse(rctx, Service, Domain, entries); err != nil {
		return nil, fmt.Errorf("browsing for gateways: %w", err)
	}
	found := map[string]Gateway{}
	nets := localNets()
	// The resolver closes entries when rctx ends.
	for e := range entries {
		g, ok := parseEntry(e, nets)
		if !ok {
			slog.Debug("discover: ignoring malformed gateway announcement", "instance", e.Instance)
			continue
		}
		found[g.ID] = g
	}
	return found, nil
}

// newResolver joins the mDNS groups on both IP versions where possible and
// on one where the other is not configured (an IPv4-only LAN, a test
// namespace).
func newResolver(ifaces []net.Interface) (*zeroconf.Resolver, error) {
	var opts []zeroconf.ClientOption
	if len(ifaces) > 0 {
		opts = append(opts, zeroconf.SelectIfaces(ifaces))
	}
	var errs []error
	for _, ip := range []zeroconf.IPType{zeroconf.IPv4AndIPv6, zeroconf.IPv4, zeroconf.IPv6} {
		r, err := zeroconf.NewResolver(append(opts, zeroconf.SelectIPTraffic(ip))...)
		if err == nil {
			return r, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// localNets lists the networks of this host's addresses.
func localNets() []*net.IPNet {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var nets []*net.IPNet
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			nets = append(nets, n)
		}
	}
	return nets
}

// pickIP chooses the address to connect to: a gateway announces every
// address it has (LAN, VPN, container bridges), and the one on a network
// this host is on is the one that works.
func pickIP(ips []net.IP, nets []*net.IPNet) net.IP {
	for _, ip := range ips {
		for _, n := range nets {
			if n.Contains(ip) {
				return ip
			}
		}
	}
	return ips[0]
}

func parseEntry(e *zeroconf.ServiceEntry, nets []*net.IPNet) (Gateway, bool) {
	kv := map[string]string{}
	for _, t := range e.Text {
		k, v, _ := strings.Cut(t, "=")
		kv[strings.ToLower(k)] = v
	}
	g := Gateway{
		ID:     kv["id"],
		Model:  kv["model"],
		FW:     kv["fw"],
		FP:     kv["fp"],
		Paired: kv["paired"] == "1",
		API:    kv["api"],
	}
	if g.ID == "" {
		g.ID = e.Instance
	}
	var host string
	switch {
	case len(e.AddrIPv4) > 0:
		host = pickIP(e.AddrIPv4, nets).String()
	case len(e.AddrIPv6) > 0:
		host = pickIP(e.AddrIPv6, nets).String()
	default:
		return Gateway{}, false
	}
	if g.ID == "" || e.Port <= 0 {
		return Gateway{}, false
	}
	g.Address = net.JoinHostPort(host, strconv.Itoa(e.Port))
	return g, true
}

func multicastInterfaces() ([]net.Interface, error) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	var out []net.Interface
	for _, ifi := range all {
		if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagMulticast != 0 {
			out = append(out, ifi)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no network interface is up with multicast enabled")
	}
	return out, nil
}

// interfaceIPs lists the addresses a browser can connect to: IPv4 and
// global IPv6 (link-local addresses need a zone the browser cannot know).
// Loopback addresses are included only for a loopback interface, so that a
// gateway announced on lo (tests, a gateway and workstation on one machine)
// is reachable.
func interfaceIPs(ifaces []net.Interface) []string {
	var ips []string
	for _, ifi := range ifaces {
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip := ipn.IP
			if ip.IsLoopback() && ifi.Flags&net.FlagLoopback == 0 {
				continue
			}
			if ip.To4() == nil && ip.IsLinkLocalUnicast() {
				continue
			}
			ips = append(ips, ip.String())
		}
	}
	return ips
}

func ifaceNames(ifaces []net.Interface) string {
	names := make([]string, len(ifaces))
	for i, ifi := range ifaces {
		names[i] = ifi.Name
	}
	return strings.Join(names, ", ")
}

// hostLabel makes a DNS label from a gateway id.
func hostLabel(id string) string {
	var b strings.Builder
	b.WriteString("zevgw-")
	for _, r := range strings.ToLower(id) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// InterfacesWith returns the up, multicast-capable interfaces that hold ip,
// for a gateway that listens on one address and must announce only there.
// An error says why none qualifies (for example 127.0.0.1 on a loopback
// without multicast, the usual case outside a test's network namespace).
func InterfacesWith(ip net.IP) ([]net.Interface, error) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	var out []net.Interface
	found := false
	for _, ifi := range all {
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.Equal(ip) {
				found = true
				if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagMulticast != 0 {
					out = append(out, ifi)
				}
				break
			}
		}
	}
	switch {
	case !found:
		return nil, fmt.Errorf("no network interface has the address %s", ip)
	case len(out) == 0:
		return nil, fmt.Errorf("the interface with %s is down or has multicast disabled", ip)
	}
	return out, nil
}
