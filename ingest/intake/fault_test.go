package intake

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

// The fault tests run the workstation or the gateway as a separate process
// (this test binary re-executed with childEnv set), so that a SIGKILL hits a
// real process with a real bbolt file and real sockets.
const (
	childEnv = "ZEVDESK_INTAKE_CHILD" // "workstation", "gateway" or "assign"
	argEnv   = "ZEVDESK_INTAKE_ARG"   // JSON childArgs
)

type childArgs struct {
	DB      string  `json:"db,omitempty"`
	Pairing Pairing `json:"pairing"`
	Limit   int     `json:"limit,omitempty"`
	// Gateway side.
	Listen    string `json:"listen,omitempty"`
	CertFile  string `json:"cert,omitempty"`
	KeyFile   string `json:"key,omitempty"`
	N         uint64 `json:"n,omitempty"`
	DieOnPage int    `json:"die_on_page,omitempty"`
	// Assign side: records derived per transaction.
	Batch int `json:"batch,omitempty"`
}

// TestChildProcess is not a test: it is the entry point of the child
// processes, doing nothing unless childEnv is set.
func TestChildProcess(t *testing.T) {
	role := os.Getenv(childEnv)
	if role == "" {
		t.Skip("helper for the fault tests: runs only as a child process")
	}
	var a childArgs
	if err := json.Unmarshal([]byte(os.Getenv(argEnv)), &a); err != nil {
		fmt.Fprintln(os.Stderr, "child args:", err)
		os.Exit(2)
	}
	switch role {
	case "workstation":
		os.Exit(childWorkstation(a))
	case "gateway":
		os.Exit(childGateway(t, a))
	case "assign":
		os.Exit(childAssign(a))
	}
	os.Exit(2)
}

// childWorkstation catches up once and exits; the parent kills it somewhere
// along the way. After each committed transaction it prints "committed
// CURSOR", so that the parent can aim its kill at progress, not at a time.
func childWorkstation(a childArgs) int {
	st, err := bolt.Open(a.DB, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 1
	}
	defer st.Close()
	fmt.Println("ready")
	c := NewClient(&reportingStore{Store: st, gateway: a.Pairing.GatewayID}, a.Pairing, &Options{Clock: testClock, Limit: a.Limit})
	n, err := c.CatchUp(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "catch-up:", err)
		return 1
	}
	fmt.Println("done", n)
	return 0
}

// reportingStore prints the gateway's cursor on stdout after every
// committed Update: the line comes only once the commit returned, so the
// cursor it names is on disk.
type reportingStore struct {
	store.Store
	gateway string
}

func (s *reportingStore) Update(fn func(store.Tx) error) error {
	var cur uint64
	err := s.Store.Update(func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		var err error
		cur, err = tx.Cursor(s.gateway)
		return err
	})
	if err == nil {
		fmt.Println("committed", cur)
	}
	return err
}

// childGateway serves a fake gateway until killed. With DieOnPage it
// crashes in the middle of sending that page of records.
func childGateway(t *testing.T, a childArgs) int {
	cert, err := tls.LoadX509KeyPair(a.CertFile, a.KeyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cert:", err)
		return 1
	}
	g := newFakeGateway(t, a.N)
	g.cert = cert
	g.fp = a.Pairing.Fingerprint
	g.token = a.Pairing.Token
	if a.DieOnPage > 0 {
		var pages int
		var mu sync.Mutex
		g.records = func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			pages++
			p := pages
			mu.Unlock()
			if p < a.DieOnPage {
				g.serveRecords(w, r)
				return
			}
			// Half a page, then the process dies: the client sees the
			// body cut off.
			rec := &recorder{h: http.Header{}}
			g.serveRecords(rec, r)
			_, _ = w.Write(rec.buf[:len(rec.buf)/2])
			w.(http.Flusher).Flush()
			os.Exit(0)
		}
	}
	l, err := net.Listen("tcp", a.Listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		return 1
	}
	fmt.Println("listening", l.Addr())
	srv := &http.Server{Handler: g, ErrorLog: log.New(io.Discard, "", 0), TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	err = srv.ServeTLS(l, "", "")
	fmt.Fprintln(os.Stderr, "serve:", err)
	return 1
}

// recorder buffers a response (the child gateway cuts it in half).
type recorder struct {
	h   http.Header
	buf []byte
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { r.buf = append(r.buf, b...); return len(b), nil }
func (r *recorder) WriteHeader(int)             {}

// startChild starts this binary as a child process and waits for its first
// line on stdout (its "ready"/"listening" signal).
func startChild(t *testing.T, role string, a childArgs) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	b, _ := json.Marshal(a)
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$")
	cmd.Env = append(os.Environ(), childEnv+"="+role, argEnv+"="+string(b))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("%s child: no start signal: %v", role, err)
	}
	if !strings.HasPrefix(line, "ready") && !strings.HasPrefix(line, "listening") {
		t.Fatalf("%s child said %q", role, line)
	}
	return cmd, r
}

// initDB creates the office database with the test site and closes it.
func initDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "office.db")
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Update(func(tx store.Tx) error { return tx.PutSite(testSite(4)) }); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func cursorOf(t *testing.T, path, gw string) uint64 {
	t.Helper()
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatalf("reopening after kill: %v", err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Fatalf("store inconsistent after kill: %v", err)
	}
	var cur uint64
	if err := st.View(func(tx store.Tx) (err error) { cur, err = tx.Cursor(gw); return err }); err != nil {
		t.Fatal(err)
	}
	return cur
}

// TestKillDuringCatchUp kills the workstation process with SIGKILL 20 times
// during a catch-up of 100,000 records in pages of 1000, each time right
// after it reported its Nth commit (N from 0 to 3, varying per run): the
// kill lands wherever the child then is (committing the next page, fetching
// one, or starting up), on a fast machine or a busy one. Every commit the
// child reported survives the kill; afterwards every record is stored
// exactly once, the cursor is at the last, and the derived registers match
// the records.
func TestKillDuringCatchUp(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const (
		n     = 100_000
		limit = 1000
		kills = 20
	)
	g := newFakeGateway(t, n)
	addr := g.serve(t, "").Listener.Addr().String()
	path := initDB(t)
	args := childArgs{DB: path, Pairing: g.pairing(addr), Limit: limit}
	rng := rand.New(rand.NewPCG(20261127, 5))
	var last uint64
	// About 2.5 pages a kill (1.5 aimed at, and what the child commits
	// before the signal lands) leave half the catch-up to the last run.
	for i := range kills {
		aim := rng.IntN(4)
		cmd, out := startChild(t, "workstation", args)
		var reported uint64 // the cursor of the child's aim-th commit
		for range aim {
			line, err := out.ReadString('\n')
			v, ok := strings.CutPrefix(strings.TrimSpace(line), "committed ")
			if err != nil || !ok {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("kill %d: the child said %q (%v) before its commit %d: the catch-up ended early", i+1, line, err, aim)
			}
			if reported, err = strconv.ParseUint(v, 10, 64); err != nil {
				t.Fatalf("kill %d: child said %q", i+1, line)
			}
		}
		// The fault injected: SIGKILL, whatever the child is doing now.
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		cur := cursorOf(t, path, g.id)
		switch {
		case cur < last:
			t.Fatalf("kill %d: cursor went back from %d to %d", i+1, last, cur)
		case cur < reported:
			t.Fatalf("kill %d: the child reported cursor %d committed, the store has %d after the kill", i+1, reported, cur)
		case cur >= n:
			t.Fatalf("kill %d after commit %d: the catch-up was already complete; the kills are not landing during it", i+1, aim)
		}
		t.Logf("kill %2d after commit %d: cursor %d", i+1, aim, cur)
		last = cur
	}
	// The workstation finally runs to the end, from where the kills left it.
	cmd, r := startChild(t, "workstation", args)
	rest, _ := io.ReadAll(r)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("final catch-up: %v (%s)", err, rest)
	}
	lines := strings.Split(strings.TrimSpace(string(rest)), "\n")
	if want := fmt.Sprintf("done %d", n-last); lines[len(lines)-1] != want {
		t.Fatalf("the last run said %q after the kills left the cursor at %d; want %q", lines[len(lines)-1], last, want)
	}
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkStored(t, st, g, n)
}

func writeCert(t *testing.T, c tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	kb, err := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// runUntil runs c.Run with real (short) backoff until the cursor reaches n,
// failing after a generous deadline.
func runUntil(t *testing.T, c *Client, n uint64, onState func(State)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c.opt.After = func(d time.Duration) <-chan time.Time {
		if s := c.State(); s.Cursor == n && s.Err == "" {
			cancel()
		}
		return time.After(d)
	}
	if err := c.Run(ctx, onState); err != nil {
		t.Fatal(err)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("Run did not reach cursor %d: state %+v", n, c.State())
	}
}

// TestGatewayRestartMidStream: the gateway process dies in the middle of
// sending a page and is started again; the workstation reconnects and ends
// with every record exactly once.
func TestGatewayRestartMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const n = 30_000
	g := newFakeGateway(t, n)
	certFile, keyFile := writeCert(t, g.cert)
	addr := freeAddr(t)
	p := g.pairing(addr)
	ga := childArgs{Pairing: p, Listen: addr, CertFile: certFile, KeyFile: keyFile, N: n, DieOnPage: 2}
	gw, _ := startChild(t, "gateway", ga)

	st := openStore(t, "")
	c := NewClient(st, p, &Options{Clock: testClock, Limit: 5000, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Poll: 20 * time.Millisecond})
	defer c.Close()
	restarted := make(chan struct{})
	var errs []string
	go func() {
		_ = gw.Wait() // dies on page 2
		ga.DieOnPage = 0
		gw2, _ := startChild(t, "gateway", ga)
		t.Cleanup(func() { _ = gw2.Process.Kill(); _ = gw2.Wait() })
		close(restarted)
	}()
	runUntil(t, c, n, func(s State) {
		if s.Err != "" {
			errs = append(errs, s.Err)
		}
	})
	<-restarted
	if len(errs) == 0 {
		t.Error("the gateway's crash went unnoticed")
	}
	t.Logf("errors seen while the gateway was down: %q", errs)
	checkStored(t, st, g, n)
}

// stallProxy forwards TCP connections to a backend until stalled: then it
// keeps every connection open but forwards nothing, like a cable pulled
// between switches.
type stallProxy struct {
	l       net.Listener
	backend string
	mu      sync.Mutex
	stalled bool
	resume  chan struct{}
	// stallAfter stalls once this many bytes came back from the backend.
	stallAfter int64
	sent       int64
}

func newStallProxy(t *testing.T, backend string, stallAfter int64) *stallProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{l: l, backend: backend, resume: make(chan struct{}), stallAfter: stallAfter}
	go p.serve()
	t.Cleanup(func() { l.Close() })
	return p
}

func (p *stallProxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *stallProxy) gate() {
	p.mu.Lock()
	st, ch := p.stalled, p.resume
	p.mu.Unlock()
	if st {
		<-ch
	}
}

func (p *stallProxy) unstall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled {
		p.stalled = false
		close(p.resume)
	}
}

func (p *stallProxy) handle(c net.Conn) {
	defer c.Close()
	p.gate()
	b, err := net.Dial("tcp", p.backend)
	if err != nil {
		return
	}
	defer b.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn, count bool) {
		buf := make([]byte, 16<<10)
		for {
			k, err := src.Read(buf)
			if k > 0 {
				p.gate()
				if count {
					p.mu.Lock()
					p.sent += int64(k)
					if !p.stalled && p.stallAfter > 0 && p.sent >= p.stallAfter {
						p.stalled, p.stallAfter = true, 0
					}
					p.mu.Unlock()
				}
				if _, err := dst.Write(buf[:k]); err != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		done <- struct{}{}
	}
	go pipe(b, c, false)
	go pipe(c, b, true)
	<-done
}

// TestStalledConnection: the network stops forwarding in the middle of a
// page; the request times out instead of hanging, nothing partial is
// stored, and once the network is back Run completes.
func TestStalledConnection(t *testing.T) {
	const n = 20_000
	g := newFakeGateway(t, n)
	backend := g.serve(t, "").Listener.Addr().String()
	proxy := newStallProxy(t, backend, 600<<10)
	st := openStore(t, "")
	p := g.pairing(proxy.l.Addr().String())
	c := NewClient(st, p, &Options{Clock: testClock, Limit: 5000, Timeout: 300 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, Poll: 20 * time.Millisecond})
	defer c.Close()
	var stalledErr string
	runUntil(t, c, n, func(s State) {
		if s.Err != "" && stalledErr == "" {
			stalledErr = s.Err
			// Check that what was committed is whole pages only.
			_ = st.View(func(tx store.Tx) error {
				cur, _ := tx.Cursor(g.id)
				if cur%5000 != 0 {
					t.Errorf("cursor %d after a stall: not a page boundary", cur)
				}
				return nil
			})
			proxy.unstall()
		}
	})
	if !strings.Contains(stalledErr, "Timeout") && !strings.Contains(stalledErr, "deadline") && !strings.Contains(stalledErr, "timeout") {
		t.Errorf("error during the stall = %q; want a timeout", stalledErr)
	}
	checkStored(t, st, g, n)
}

// TestWeekOffline: the workstation was off for a week; the gateway buffered
// the week's readings and the workstation catches up on start, with every
// interval of the week measured (none estimated, none missing).
func TestWeekOffline(t *testing.T) {
	g := newFakeGateway(t, 96*4) // the first day
	addr := g.serve(t, "").Listener.Addr().String()
	path := filepath.Join(t.TempDir(), "office.db")
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Update(func(tx store.Tx) error { return tx.PutSite(testSite(4)) }); err != nil {
		t.Fatal(err)
	}
	p := g.pairing(addr)
	c := NewClient(st, p, &Options{Clock: core.FixedClock(testBase.Add(24 * time.Hour)), Poll: time.Hour})
	if _, err := c.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// A week passes with the workstation off.
	week := uint64(96 * 4 * 8)
	g.setN(week)
	g.setClock(func() time.Time { return testBase.Add(8 * 24 * time.Hour) })
	st2 := openStore(t, path) // switched on again
	c = NewClient(st2, p, &Options{Clock: core.FixedClock(testBase.Add(8 * 24 * time.Hour)), Poll: time.Hour})
	defer c.Close()
	runUntil(t, c, week, nil)
	checkStored(t, st2, g, week)
	err = st2.View(func(tx store.Tx) error {
		for m := 0; m < 4; m++ {
			var s store.Series
			from := core.SlotOf(testBase)
			id := store.SeriesID{Site: "S1", Meter: "M" + strconv.Itoa(m), Channel: store.Import}
			if err := tx.ReadIntervals(id, from, from+8*96-1, &s); err != nil {
				return err
			}
			for i := range s.Energy {
				if s.Quality[i] != store.Measured || s.Energy[i] != 250*core.Wh {
					t.Fatalf("%s interval %d: %v %v; want 250 Wh measured", id.Meter, i, s.Energy[i], s.Quality[i])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
