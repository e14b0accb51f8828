package main

import (
	_ "embed"

	"github.com/BurntSushi/toml"

	"github.com/zevdesk/zevdesk/app/cli"
)

// fyneApp is FyneApp.toml, where the version is written once for every build:
// fyne package reads it for macOS and Linux bundles, packaging/winres for the
// Windows resource, and this file for `zevdesk --version`.
//
//go:embed FyneApp.toml
var fyneApp string

func init() { cli.Version = appVersion(fyneApp) }

// appVersion returns the Version of FyneApp.toml's [Details] table, or "dev"
// if the file has none.
func appVersion(text string) string {
	var f struct {
		Details struct{ Version string }
	}
	if _, err := toml.Decode(text, &f); err != nil || f.Details.Version == "" {
		return "dev"
	}
	return f.Details.Version
}
