package main

import (
	"os"
	"path/filepath"

	"github.com/zevdesk/zevdesk/app/report"
)

// The Windows zip ships Liberation Sans (SIL OFL, with its licence) in a
// fonts folder beside zevdesk.exe: Windows has no Liberation Sans, and Arial,
// its stand-in, has other metrics, so invoices would differ from those made on
// Linux. The folder beside the executable is searched first; where it does not
// exist (the Debian package, which depends on fonts-liberation2) nothing
// changes.
func init() {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	report.FontDirs = append([]string{filepath.Join(filepath.Dir(exe), "fonts")}, report.FontDirs...)
}
