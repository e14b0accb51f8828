package bolt_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zevdesk/zevdesk/core/store"
	"github.com/zevdesk/zevdesk/core/store/bolt"
)

const crashEnv = "ZEVDESK_CRASH_CHILD_DB"

// TestCrashChild is the child process of TestCrashSafety: it commits
// batches in a loop, printing each committed sequence number, until it is
// killed. Without the environment variable it does nothing.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("child process of TestCrashSafety")
	}
	st, err := bolt.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var start uint64
	if err := st.View(func(tx store.Tx) error { start, err = tx.Cursor("gw"); return err }); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewWriter(os.Stdout)
	for n := start + 1; ; n++ {
		if err := st.Update(func(tx store.Tx) error { return writeBatch(tx, n) }); err != nil {
			t.Fatal(err)
		}
		out.WriteString("committed " + strconv.FormatUint(n, 10) + "\n")
		out.Flush()
	}
}

// TestCrashSafety kills a writing process with SIGKILL at arbitrary moments
// and checks that the file always reopens with whole transactions only:
// every batch is all there or not at all, nothing acknowledged is lost, and
// Check passes.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	var acked uint64
	for round := range 6 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let it commit a varying number of batches, then kill it in the
		// middle of whatever it is doing.
		target := acked + uint64(20+37*round)
		sc := bufio.NewScanner(stdout)
		deadline := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
		for sc.Scan() {
			n, ok := strings.CutPrefix(sc.Text(), "committed ")
			if !ok {
				continue
			}
			v, err := strconv.ParseUint(n, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			acked = v
			if acked >= target {
				break
			}
		}
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		_ = cmd.Wait()
		deadline.Stop()
		if acked < target {
			t.Fatalf("round %d: child stopped at %d before reaching %d", round, acked, target)
		}

		st, err := bolt.Open(path, nil)
		if err != nil {
			t.Fatalf("round %d: reopening after SIGKILL: %v", round, err)
		}
		if err := st.Check(); err != nil {
			t.Errorf("round %d: Check after SIGKILL: %v", round, err)
		}
		cursor := checkBatches(t, st)
		if cursor < acked {
			t.Errorf("round %d: acknowledged batch %d but the file holds only %d", round, acked, cursor)
		}
		acked = cursor
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
