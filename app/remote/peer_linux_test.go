package remote

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The tests below need root: they act as another user.

const nobody = 65534

func needRoot(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to act as another user")
	}
}

// TestForeignDirectoryIsNotUsed: a socket directory that another user
// created first (in a shared directory) is passed over.
func TestForeignDirectoryIsNotUsed(t *testing.T) {
	needRoot(t)
	run := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", run)
	if err := os.Mkdir(filepath.Join(run, "zevdesk"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(run, "zevdesk"), nobody, nobody); err != nil {
		t.Fatal(err)
	}
	path, err := SocketPath(filepath.Join(t.TempDir(), "office.db"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(path, run) {
		t.Errorf("socket %s in a directory another user owns", path)
	}
}

// dialEnv makes the test binary a client that connects to the socket it
// names, sends a request and prints how many bytes came back.
const dialEnv = "ZEVDESK_TEST_REMOTE_DIAL"

func TestMain(m *testing.M) {
	if path := os.Getenv(dialEnv); path != "" {
		c, err := net.Dial("unix", path)
		if err != nil {
			fmt.Println("dial:", err)
			os.Exit(2)
		}
		fmt.Fprintf(c, "{\"op\":\"run\",\"args\":[\"x\"]}\n")
		n, _ := io.Copy(io.Discard, c)
		fmt.Printf("received %d bytes\n", n)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestOtherUserRefused: even when the socket's permissions were loosened,
// another user's connection is refused by its credentials (SO_PEERCRED):
// the handler never runs and nothing comes back.
func TestOtherUserRefused(t *testing.T) {
	needRoot(t)
	if _, err := os.Stat("/proc/self"); err != nil {
		t.Skip("not Linux")
	}
	run := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", run)
	called := make(chan struct{}, 1)
	srv, err := Listen(filepath.Join(t.TempDir(), "office.db"), func(req Request, stdout, stderr io.Writer) int {
		called <- struct{}{}
		return 0
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// Open the way for another user, as a careless chmod would.
	bin := filepath.Join(run, "client")
	exe, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Dir(run), run, filepath.Dir(srv.Path())} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(srv.Path(), 0o777); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), dialEnv+"="+srv.Path())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "received 0 bytes\n" {
		t.Fatalf("another user's client: %v, %q; want it connected and refused", err, out)
	}
	select {
	case <-called:
		t.Error("the handler ran for another user")
	default:
	}
}
