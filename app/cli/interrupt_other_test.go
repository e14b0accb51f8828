//go:build !unix

package cli

import "testing"

// needInterrupt skips the test: Windows delivers Ctrl-C only to processes
// sharing a console, which a test process may not have. The tests that stop
// serve this way run on Linux (CI); they compile everywhere.
func needInterrupt(t testing.TB) { t.Skip("stopping serve with Ctrl-C needs a Unix signal") }

func interruptSelf(t testing.TB) { t.Error("interruptSelf without needInterrupt") }
