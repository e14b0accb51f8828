package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
	"github.com/zevdesk/zevdesk/ingest/intake"
)

// ownerCase is one command run beside a running owner and without one.
type ownerCase struct {
	name string
	args []string
}

// ownerCases change the database in this order, so both databases go
// through the same states. Paths are relative to the working directory.
var ownerCases = []ownerCase{
	{"site import", []string{"site", "import", "linde.toml"}},
	{"import readings", []string{"import", "readings", "--site", "linde", "day.csv"}},
	{"import readings again", []string{"import", "readings", "--site", "linde", "day.csv"}},
	{"import of a missing file", []string{"import", "readings", "--site", "linde", "missing.csv"}},
	{"quality --json", []string{"quality", "--json", "--site", "linde", "--from", "2026-03-01", "--to", "2026-03-31"}},
	{"bill --json", []string{"bill", "--json", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31"}},
	{"bill --final", []string{"bill", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--final", "--out", "inv"}},
	{"locks", []string{"locks", "--site", "birke"}},
	{"export xlsx", []string{"export", "xlsx", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--out", "jan.xlsx"}},
	{"export property", []string{"export", "property", "--site", "birke", "--from", "2026-01-01", "--to", "2026-01-31", "--out", "jan.csv"}},
	{"backup --out", []string{"backup", "--out", "snap.db"}},
	{"backup --dir", []string{"backup", "--dir", "bak"}},
	{"check", []string{"check"}},
	{"usage error", []string{"bill", "--site", "birke"}},
	{"unknown site", []string{"locks", "--site", "nope"}},
	{"help", []string{"quality", "--help"}},
}

// ownerWorkDir is a working directory holding the files ownerCases name and
// a copy of db as office.db.
func ownerWorkDir(t *testing.T, db string) (dir, dbCopy string) {
	t.Helper()
	dir = t.TempDir()
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	dbCopy = filepath.Join(dir, "office.db")
	for name, content := range map[string][]byte{"office.db": data, "linde.toml": []byte(impSiteTOML), "day.csv": []byte(impDayCSV())} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, dbCopy
}

// ownerProcessEnv names the database a child process of the test binary
// owns (TestOwnerProcess).
const ownerProcessEnv = "ZEVDESK_TEST_OWNER_DB"

// TestOwnerProcess is the child process of startOwnerProcess: it runs
// `zevdesk serve` on the database, with a gateway paired (serve needs one)
// but assigned to no site, so that its records change nothing the commands
// print; says "ready" once serve runs, and stops serve (SIGINT, as Ctrl-C)
// when its standard input closes. It does nothing in a normal test run.
func TestOwnerProcess(t *testing.T) {
	db := os.Getenv(ownerProcessEnv)
	if db == "" {
		t.Skip("only run as a child of startOwnerProcess")
	}
	needInterrupt(t)
	gw := startTestGateway(t)
	p, err := intake.Pair(context.Background(), gw.addr, gw.g.ID(), gw.g.Code())
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx store.Tx) error { return intake.SavePairing(tx, p, time.Now(), "test") })
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	var once sync.Once
	out := &lineWriter{onLine: func(string) { once.Do(func() { close(ready) }) }}
	done := make(chan int, 1)
	var errb syncBuffer
	go func() {
		_, code := Main([]string{"--db", db, "serve", "--no-mdns"}, out, &errb)
		done <- code
	}()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("serve stopped at once: exit %d, %s", code, errb.String())
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	interruptSelf(t)
	if code := <-done; code != 0 {
		t.Errorf("serve: exit %d, %s", code, errb.String())
	}
}

// startOwnerProcess starts a child process running serve on db, with its working
// directory elsewhere (so that a relative path resolved against the
// owner's directory instead of the client's finds nothing), until the test
// ends.
func startOwnerProcess(t *testing.T, db string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestOwnerProcess$", "-test.count=1")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), ownerProcessEnv+"="+db)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("the owner process: %v", err)
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("the owner process did not start: %q, %v", line, err)
	}
	go io.Copy(io.Discard, out)
}

// startOwner opens db and answers other processes' commands on it, as the
// desktop app and serve do, until the test ends.
func startOwner(t *testing.T, db string) *Env {
	t.Helper()
	env := &Env{Stdout: io.Discard, Stderr: io.Discard, Clock: core.SystemClock{}, DBPath: db}
	if _, err := env.Store(); err != nil {
		t.Fatal(err)
	}
	stop, err := env.ServeOwner(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(); env.Close() })
	return env
}

// TestCommandsBesideOwner runs each command against a database that a
// running `zevdesk serve` (another process) owns and against one nobody has open, from a working
// directory holding the files it names by relative paths, and compares
// standard output, standard error and exit status, and the files written.
func TestCommandsBesideOwner(t *testing.T) {
	seed := billDB(t)
	alone, aloneDB := ownerWorkDir(t, seed)
	owned, ownedDB := ownerWorkDir(t, seed)
	startOwnerProcess(t, ownedDB)

	for _, c := range ownerCases {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(alone)
			code, out, errs := run(t, aloneDB, c.args...)
			t.Chdir(owned)
			rcode, rout, rerrs := run(t, ownedDB, c.args...)
			// A backup's size in bytes depends on the pages serve's raw
			// records took.
			bytesRe := regexp.MustCompile(`\(\d+ bytes\)`)
			norm := func(s, dir string) string {
				return bytesRe.ReplaceAllString(strings.ReplaceAll(s, dir, "DIR"), "(N bytes)")
			}
			if rcode != code || norm(rout, owned) != norm(out, alone) || norm(rerrs, owned) != norm(errs, alone) {
				t.Errorf("%q beside the owner: exit %d\n%s\n%s\nwithout an owner: exit %d\n%s\n%s", c.args, rcode, rout, rerrs, code, out, errs)
			}
		})
	}
	// The files the commands wrote by relative paths are in each working
	// directory, and nowhere else.
	for _, name := range []string{"jan.xlsx", "jan.csv", "snap.db", "bak", "inv"} {
		for _, dir := range []string{alone, owned} {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	a, _ := os.ReadFile(filepath.Join(alone, "jan.csv"))
	b, _ := os.ReadFile(filepath.Join(owned, "jan.csv"))
	if !bytes.Equal(a, b) || len(a) == 0 {
		t.Errorf("export property wrote %d bytes beside the owner and %d without it", len(b), len(a))
	}
	// The backup written through the owner is a database of its own.
	st, err := bolt.Open(filepath.Join(owned, "snap.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Check(); err != nil {
		t.Error(err)
	}
	st.Close()
}

// TestOwnerRefuses: commands that cannot run beside the owner say so in one
// line and change nothing; restore in particular.
func TestOwnerRefuses(t *testing.T) {
	dir, db := ownerWorkDir(t, billDB(t))
	startOwner(t, db)
	bak := filepath.Join(dir, "snap.db")
	if code, _, errs := run(t, db, "backup", "--out", bak); code != 0 {
		t.Fatalf("backup: %s", errs)
	}
	for _, args := range [][]string{{"restore", bak}, {"serve"}, {"demo", "--no-window"}} {
		code, out, errs := run(t, db, args...)
		want := fmt.Sprintf("zevdesk %s: %s is open in the desktop app or in zevdesk serve", args[0], db)
		if code != 1 || out != "" || !strings.HasPrefix(errs, want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%q beside the owner: exit %d, %q, %q; want one line starting %q", args, code, out, errs, want)
		}
	}
	if _, err := os.Stat(db + ".before-restore"); err == nil {
		t.Error("restore beside the owner replaced the database")
	}
}

// TestDemoBesideTheApp: `zevdesk demo` (make run) while the app has the
// database open brings the app's window to the front instead; a desktop
// start (OpenOrRaise) does the same.
func TestDemoBesideTheApp(t *testing.T) {
	_, db := ownerWorkDir(t, billDB(t))
	app := &Env{Stdout: io.Discard, Stderr: io.Discard, Clock: core.SystemClock{}, DBPath: db}
	defer app.Close()
	if _, err := app.Store(); err != nil {
		t.Fatal(err)
	}
	var shown int
	var mu sync.Mutex
	stop, err := app.ServeOwner(func() bool { mu.Lock(); shown++; mu.Unlock(); return true })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	code, out, errs := run(t, db, "demo")
	if code != 0 || out != "zevdesk already has "+db+" open: its window is in front\n" || errs != "" {
		t.Errorf("demo beside the app: exit %d, %q, %q", code, out, errs)
	}
	second := &Env{Stdout: io.Discard, Stderr: io.Discard, Clock: core.SystemClock{}, DBPath: db}
	st, raised, err := second.OpenOrRaise()
	if st != nil || !raised || err != nil {
		t.Errorf("a second desktop start: store %v, raised %v, %v", st, raised, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if shown != 2 {
		t.Errorf("the window was shown %d times, want 2", shown)
	}
}

// TestSecondStartBesideServe: a desktop start on a database serve has open
// says why it cannot open (serve has no window), for the window main shows.
func TestSecondStartBesideServe(t *testing.T) {
	_, db := ownerWorkDir(t, billDB(t))
	startOwner(t, db)
	second := &Env{Stdout: io.Discard, Stderr: io.Discard, Clock: core.SystemClock{}, DBPath: db}
	st, raised, err := second.OpenOrRaise()
	if st != nil || raised || err == nil || !strings.Contains(err.Error(), "zevdesk serve, which has no window") {
		t.Errorf("a desktop start beside serve: store %v, raised %v, %v", st, raised, err)
	}
}

// TestOwnerStartingUp: a command that finds no owner on the socket but the
// database held (the owner opened it a moment ago and is not listening yet)
// asks the owner again once the database's lock times out.
func TestOwnerStartingUp(t *testing.T) {
	_, db := ownerWorkDir(t, billDB(t))
	owner := &Env{Stdout: io.Discard, Stderr: io.Discard, Clock: core.SystemClock{}, DBPath: db}
	defer owner.Close()
	if _, err := owner.Store(); err != nil {
		t.Fatal(err)
	}
	missed := make(chan struct{})
	var once sync.Once
	ownerMissed = func() { once.Do(func() { close(missed) }) }
	defer func() { ownerMissed = nil }()
	type result struct {
		code      int
		out, errs string
	}
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		_, code := Main([]string{"--db", db, "locks", "--site", "birke"}, &out, &errb)
		done <- result{code, out.String(), errb.String()}
	}()
	<-missed // the command asked before the owner listened
	stop, err := owner.ServeOwner(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	r := <-done
	if r.code != 0 || r.out != "site birke has no billed period\n" || r.errs != "" {
		t.Errorf("locks while the owner started: exit %d, %q, %q", r.code, r.out, r.errs)
	}
}
