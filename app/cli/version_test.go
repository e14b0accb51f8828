package cli

import (
	"bytes"
	"testing"
)

// TestVersionFlag: --version and `version` print the version main set and
// the commit, and nothing else runs (no database is opened).
func TestVersionFlag(t *testing.T) {
	old := Version
	Version, Commit = "1.2.3", "abc123"
	defer func() { Version, Commit = old, "" }()
	for _, args := range [][]string{{"--version"}, {"version"}, {"--db", "/nonexistent/dir/x.db", "--version"}} {
		var out, errb bytes.Buffer
		d, code := Main(args, &out, &errb)
		if d != nil || code != 0 || out.String() != "zevdesk 1.2.3 (commit abc123)\n" || errb.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out.String(), errb.String())
		}
	}
}
