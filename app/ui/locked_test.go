package ui

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core"
)

// lockedFormats returns the descriptions importer.CheckSiteLocks can give:
// the literal format of every fail(elem, format, …) call and the format
// that diffOccupancies, diffTariffs and diffHolidays return.
func lockedFormats(t *testing.T) map[string]string {
	t.Helper()
	const file = "../../ingest/importer/site_locks.go"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, 0)
	if err != nil {
		t.Fatalf("parsing %s: %v", file, err)
	}
	formats := map[string]string{}
	literal := func(e ast.Expr, what string) {
		pos := fset.Position(e.Pos()).String()
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			if id, ok := e.(*ast.Ident); !ok || id.Name != "format" {
				t.Errorf("%s: %s is not a literal: the window cannot know it", pos, what)
			}
			return
		}
		if s, _ := strconv.Unquote(lit.Value); s != "" {
			formats[s] = pos
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "fail" && len(n.Args) > 1 {
				literal(n.Args[1], "fail's format")
			}
		case *ast.FuncDecl:
			at := map[string]int{"diffOccupancies": 1, "diffTariffs": 1, "diffHolidays": 0} // the format's place in the results
			i, ok := at[n.Name.Name]
			if !ok {
				return true
			}
			ast.Inspect(n.Body, func(m ast.Node) bool {
				if r, ok := m.(*ast.ReturnStmt); ok && len(r.Results) > i {
					literal(r.Results[i], n.Name.Name+"'s format")
				}
				return true
			})
			return false
		}
		return true
	})
	return formats
}

// TestLockedChangesCoverImporter: every description of a change to a
// billed period has its translation, and in English the window says what
// the importer says (dates the Swiss way).
func TestLockedChangesCoverImporter(t *testing.T) {
	formats := lockedFormats(t)
	if len(formats) < 10 {
		t.Fatalf("found %d descriptions in site_locks.go: the parser misses some", len(formats))
	}
	for f, pos := range formats {
		if _, ok := lockedChanges[f]; !ok {
			t.Errorf("%s: %q has no entry in lockedChanges (app/ui/locked.go)", pos, f)
		}
	}
	for f, tr := range lockedChanges {
		if _, ok := formats[f]; !ok {
			t.Errorf("lockedChanges has %q, which the importer does not use", f)
		}
		args := sampleArgs(t, f)
		if got, want := tr(validationArgs(args)), swissDates(fmt.Sprintf(f, args...)); got != want {
			t.Errorf("%q in English:\n got  %q\n want %q", f, got, want)
		}
	}
}

// TestLockedRefusalInGerman: with June billed, moving a tenant's move-in
// into June is refused in German, what changes included.
func TestLockedRefusalInGerman(t *testing.T) {
	inLanguage(t, "de")
	st, site, clock := billingStore(t)
	lockJune(t, st, site, clock)
	m := newTestMaster(t, st, site, clock)
	tn := m.Tenants
	tn.unit.SetSelected("W02")
	tn.edit(1)
	tn.from.SetText("10.06.2026")
	test.Tap(findButton(tn.Content(), "Speichern"))
	msg := tn.fs.general.Text + tn.fs.errorAt("from")
	if !strings.HasPrefix(msg, "Nicht gespeichert: das Mietverhältnis von Ben Beispiel in Einheit W02 ändert die abgerechnete Periode") ||
		!strings.Contains(msg, "zevdesk unlock --site birkenweg --from 2026-06-01 --to 2026-06-30") {
		t.Errorf("refusal %q", msg)
	}
	if got := storedSite(t, st, "birkenweg"); got.Occupancies[1].From != core.MustDate(2026, 6, 16) {
		t.Errorf("the refused move-in was stored: %v", got.Occupancies[1].From)
	}
}
