package remote

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// echo answers a run request by echoing its arguments and directory, and
// exits with the number of arguments.
func echo(req Request, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "args %q dir %s\n", req.Args, req.Dir)
	fmt.Fprintf(stderr, "op %s\n", req.Op)
	return len(req.Args)
}

// TestRoundTripWithALongPath: a database path far longer than sun_path
// still gets a socket, in a private directory, that only the user can open,
// and a request comes back with its output and exit status.
func TestRoundTripWithALongPath(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	dir := t.TempDir()
	for range 6 {
		dir = filepath.Join(dir, strings.Repeat("d", 40))
	}
	db := filepath.Join(dir, "office.db")
	srv, err := Listen(db, echo)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if len(srv.Path()) > maxSunPath {
		t.Errorf("socket path of %d bytes: %s", len(srv.Path()), srv.Path())
	}
	fi, err := os.Stat(srv.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Mode().Type() != os.ModeSocket {
		t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	di, err := os.Stat(filepath.Dir(srv.Path()))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("socket directory mode %v, want 0700", di.Mode())
	}

	var out, errb bytes.Buffer
	code, err := Do(db, Request{Op: OpRun, Args: []string{"bill", "--json"}, Dir: "/work"}, &out, &errb)
	if err != nil || code != 2 || out.String() != "args [\"bill\" \"--json\"] dir /work\n" || errb.String() != "op run\n" {
		t.Errorf("Do: exit %d, %v, %q, %q", code, err, out.String(), errb.String())
	}
}

// TestNoOwnerAndStaleSocket: without a process nobody answers, also when a
// crashed owner left its socket file; the next owner replaces that file.
func TestNoOwnerAndStaleSocket(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	db := filepath.Join(t.TempDir(), "office.db")
	if _, err := Do(db, Request{Op: OpPing}, io.Discard, io.Discard); !errors.Is(err, ErrNoOwner) {
		t.Fatalf("Do without an owner: %v, want ErrNoOwner", err)
	}
	path, err := SocketPath(db)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no stale socket: %v", err)
	}
	if _, err := Do(db, Request{Op: OpPing}, io.Discard, io.Discard); !errors.Is(err, ErrNoOwner) {
		t.Fatalf("Do on a stale socket: %v, want ErrNoOwner", err)
	}
	srv, err := Listen(db, echo)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer srv.Close()
	if code, err := Do(db, Request{Op: OpPing}, io.Discard, io.Discard); err != nil || code != 0 {
		t.Errorf("Do after the stale socket was replaced: %d, %v", code, err)
	}
	if _, err := Listen(db, echo); err == nil {
		t.Error("a second Listen on a served database succeeded")
	}
}

// TestOwnerWithAnotherEnvironment: an owner started without
// XDG_RUNTIME_DIR (from a plain shell) is found by a command started with
// it (in a desktop session), which looks in every place an owner may use.
func TestOwnerWithAnotherEnvironment(t *testing.T) {
	db := filepath.Join(t.TempDir(), "office.db")
	t.Setenv("XDG_RUNTIME_DIR", "")
	srv, err := Listen(db, echo)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	if code, err := Do(db, Request{Op: OpPing}, io.Discard, io.Discard); err != nil || code != 0 {
		t.Errorf("owner without XDG_RUNTIME_DIR, client with it: %d, %v", code, err)
	}
	if _, err := Listen(db, echo); err == nil {
		t.Error("a second owner in another environment could listen beside the first")
	}
}
