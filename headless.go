//go:build !cgo

// The headless build (CGO_ENABLED=0, e.g. a Raspberry Pi running the gateway
// or `zevdesk serve`): every subcommand, no desktop window.
package main

import (
	"os"

	"github.com/zevdesk/zevdesk/app/cli"
)

func main() {
	desk, code := cli.Main(os.Args[1:], os.Stdout, os.Stderr)
	if desk != nil {
		desk.Env.Close()
		os.Stderr.WriteString("zevdesk: this build has no desktop app (built without cgo); use a subcommand, see zevdesk help\n")
		os.Exit(1)
	}
	os.Exit(code)
}
