package cli

import (
	"fmt"
	"io"
	"runtime/debug"
)

// Version is the program's version. main sets it from FyneApp.toml, the one
// place the version is written (fyne package and the Windows resource read it
// there too); "dev" is left for code run without main, such as tests.
var Version = "dev"

// Commit is the revision the binary was built from, when the build passed it
// with -ldflags "-X github.com/zevdesk/zevdesk/app/cli.Commit=...". Empty, the
// revision Go stamped into the binary (vcs.revision) is used.
var Commit string

// BuildCommit returns the commit the binary was built from, with "+modified"
// when the work tree had uncommitted changes, or "unknown" for a build
// without version-control information (go test, go run, a source tarball).
func BuildCommit() string {
	if Commit != "" {
		return Commit
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, modified := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if modified {
		rev += "+modified"
	}
	return rev
}

// printVersion writes the line `zevdesk --version` prints.
func printVersion(w io.Writer) {
	fmt.Fprintf(w, "zevdesk %s (commit %s)\n", Version, BuildCommit())
}
