// Package shareddata finds the third-party reference data (SDAT-CH documents,
// device answers, QR-bill payloads, real time series) that conformance tests
// read in place. The data is never copied into the project.
//
// The directory is $ZEVDESK_SHARED_DATA, or ../shared/data beside the
// repository root.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared data directory, or "" if it cannot be found.
func Dir() string {
	if d := os.Getenv("ZEVDESK_SHARED_DATA"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			cand := filepath.Join(d, "..", "shared", "data")
			if st, err := os.Stat(cand); err == nil && st.IsDir() {
				return cand
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// Path returns the path of rel inside the shared data directory, and skips
// the test with a message naming what is missing where it is absent.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	d := Dir()
	if d == "" {
		tb.Skipf("shared reference data not found: set ZEVDESK_SHARED_DATA or check out ../shared/data beside the repository (needed: %s)", rel)
	}
	p := filepath.Join(d, rel)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared reference data %s is missing: %v", rel, err)
	}
	return p
}
