package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSelectsSpeakTheLanguage: an empty choice says "choose" in the
// window's language, not Fyne's English "(Select one)"; and every select
// of the window is made by newSelect, so that none is left out.
func TestSelectsSpeakTheLanguage(t *testing.T) {
	inLanguage(t, "de")
	st, site, clock := billingStore(t)
	m := newTestMaster(t, st, site, clock)
	u := m.Units
	u.editMeter(-1)
	u.mUnit.ClearSelected()
	if got := u.mUnit.PlaceHolder; got != "(Bitte wählen)" {
		t.Errorf("an empty unit choice says %q", got)
	}

	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "widget.NewSelect("); n > 0 && (f != "forms.go" || n > 1) {
			t.Errorf("%s makes a select with widget.NewSelect: use newSelect (the placeholder in the window's language)", f)
		}
	}
}
