//go:build unix

package cli

import (
	"os"
	"syscall"
	"testing"
)

// interruptSelf does what a person at the terminal does with Ctrl-C: a
// SIGINT to this process, which serve stops on.
func interruptSelf(t testing.TB) {
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Errorf("interrupting: %v", err)
	}
}

// needInterrupt is for a test that stops serve with interruptSelf: it runs
// wherever Unix signals exist.
func needInterrupt(testing.TB) {}
