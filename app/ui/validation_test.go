package ui

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core"
)

// coreFormats returns the fmt formats of core's validation messages: the
// literal format of every e(elem, format, …) and verr(format, …) call in
// core/validate.go and of every fail(err, format, …) in core/iban, whose
// messages Validate passes on.
func coreFormats(t *testing.T) map[string]string {
	t.Helper()
	formats := map[string]string{}
	fset := token.NewFileSet()
	for file, calls := range map[string]map[string]int{
		"../../core/validate.go":  {"e": 1, "verr": 0},
		"../../core/iban/iban.go": {"fail": 1},
	} {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatalf("parsing %s: %v", file, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			id, ok := call.Fun.(*ast.Ident)
			if !ok {
				return true
			}
			i, ok := calls[id.Name]
			if !ok || i >= len(call.Args) {
				return true
			}
			pos := fset.Position(call.Pos()).String()
			switch a := call.Args[i].(type) {
			case *ast.BasicLit:
				s, err := strconv.Unquote(a.Value)
				if a.Kind != token.STRING || err != nil {
					t.Errorf("%s: format %s is not a string", pos, a.Value)
					return true
				}
				formats[s] = pos
			case *ast.SelectorExpr:
				// iban's format passed on (ie.Format): its formats are read
				// from core/iban.
				if a.Sel.Name != "Format" {
					t.Errorf("%s: %s's format is not a literal: the window cannot know it", pos, id.Name)
				}
			case *ast.Ident:
				// the closure e passing its format to verr
				if a.Name != "format" {
					t.Errorf("%s: %s's format is not a literal: the window cannot know it", pos, id.Name)
				}
			default:
				t.Errorf("%s: %s's format is not a literal: the window cannot know it", pos, id.Name)
			}
			return true
		})
	}
	return formats
}

// TestValidationMessagesCoverCore: every message core's validation can
// give has its translation, so that a new rule in core cannot reach the
// window in English only; and the table has no format core no longer uses.
func TestValidationMessagesCoverCore(t *testing.T) {
	formats := coreFormats(t)
	if len(formats) < 50 {
		t.Fatalf("found %d formats in core: the parser misses calls", len(formats))
	}
	for f, pos := range formats {
		if _, ok := validationMessages[f]; !ok {
			t.Errorf("%s: %q has no entry in validationMessages (app/ui/validation.go) and no catalogue text", pos, f)
		}
	}
	for f := range validationMessages {
		if _, ok := formats[f]; !ok {
			t.Errorf("validationMessages has %q, which core does not use", f)
		}
	}
}

var isoDate = regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})\b`)

// swissDates writes core's dates and date patterns the way the window
// shows them in every language: 2026-07-01 as 01.07.2026, YYYY-MM-DD as
// DD.MM.YYYY.
func swissDates(s string) string {
	return strings.ReplaceAll(isoDate.ReplaceAllString(s, "$3.$2.$1"), "YYYY-MM-DD", "DD.MM.YYYY")
}

// sampleArgs returns arguments for format's verbs: a string for %q, a day
// for %s (every %s of core's messages prints through String), a number for
// %d.
func sampleArgs(t *testing.T, format string) []any {
	t.Helper()
	var args []any
	for _, m := range regexp.MustCompile(`%.`).FindAllString(format, -1) {
		switch m {
		case "%%":
		case "%q":
			args = append(args, fmt.Sprintf("Q%d", len(args)))
		case "%s":
			args = append(args, core.MustDate(2026, 3, len(args)+1))
		case "%d":
			args = append(args, 10+len(args))
		default:
			t.Errorf("%q: verb %s has no sample", format, m)
		}
	}
	return args
}

// TestValidationMessagesEnglish: in English the window says exactly what
// core says (dates written the Swiss way), for every message; in German
// every message is translated; and the English catalogue is the code's
// fallback (here and in art16.go), so that a missing catalogue still says
// the same.
func TestValidationMessagesEnglish(t *testing.T) {
	for f := range validationMessages {
		args := sampleArgs(t, f)
		ve := &core.ValidationError{Element: "x", Msg: fmt.Sprintf(f, args...), Format: f, Args: args}
		if got, want := validationMessage(ve), swissDates(ve.Msg); got != want {
			t.Errorf("format %q:\n got  %q\n want %q", f, got, want)
		}
	}
	if got := validationMessage(&core.ValidationError{Msg: "a rule from a newer core", Format: "a rule from a %s core", Args: []any{"newer"}}); got != "a rule from a newer core" {
		t.Errorf("an unknown format gives %q, want core's message", got)
	}
	en := map[string]string{}
	for _, c := range catalogues(t) {
		if c.area == "core" && c.lang == "en" {
			en = c.msgs
		}
	}
	n := 0
	for _, u := range langUses(t) {
		if strings.HasPrefix(u.pos, "validation.go:") || strings.HasPrefix(u.pos, "art16.go:") {
			n++
			if en[u.key] != u.fallback {
				t.Errorf("%s: core.en.json %s = %q, the code says %q", u.pos, u.key, en[u.key], u.fallback)
			}
		}
	}
	if want := len(validationMessages) + len(solarCheckTexts); n != want {
		t.Errorf("validation.go and art16.go have %d translation calls for %d formats", n, want)
	}

	english := map[string]string{}
	for f := range validationMessages {
		args := sampleArgs(t, f)
		english[f] = validationMessage(&core.ValidationError{Format: f, Args: args})
	}
	inLanguage(t, "de")
	for f := range validationMessages {
		args := sampleArgs(t, f)
		if got := validationMessage(&core.ValidationError{Format: f, Args: args}); got == english[f] {
			t.Errorf("format %q: the German text is the English one: %q", f, got)
		}
	}
}

// TestValidationArgs: days show as 31.03.2026, amounts as 1'234.50, energy
// as 12'345.6789 kWh (exact), text and other numbers as they are (the
// translation quotes text).
func TestValidationArgs(t *testing.T) {
	got := validationArgs([]any{core.MustDate(2026, 3, 31), core.Rappen(123450), `Anna "Anni" Muster`, 3, core.Energy(12_345_678_900), core.Price(237_820)})
	want := map[string]any{"A0": "31.03.2026", "A1": "1'234.50", "A2": `Anna "Anni" Muster`, "A3": "3", "A4": "12'345.6789 kWh", "A5": "0.23782"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestFormsRefuseInGerman: in German, an overlapping move-in in the Tenants
// form and a mistyped IBAN in the site form are explained in German at
// their fields, and nothing is stored.
func TestFormsRefuseInGerman(t *testing.T) {
	inLanguage(t, "de")
	st, site, clock := billingStore(t)
	audit := len(auditActions(t, st))
	m := newTestMaster(t, st, site, clock)

	tn := m.Tenants
	tn.unit.SetSelected("W01")
	tn.edit(-1)
	tn.name.SetText("Dora Doppelt")
	tn.from.SetText("01.03.2026")
	test.Tap(findButton(tn.Content(), "Speichern"))
	want := "das Mietverhältnis von «Dora Doppelt» in Einheit W01 überschneidet sich mit tenants[0] von «Anna Muster» (ab 01.01.2026, unbefristet)"
	if got := tn.fs.errorAt("from"); got != want {
		t.Errorf("at the move-in field:\n got  %q\n want %q (general %q)", got, want, tn.fs.general.Text)
	}
	tn.to.SetText("28.02.2026")
	test.Tap(findButton(tn.Content(), "Speichern"))
	want = "der letzte Tag 28.02.2026 liegt vor dem ersten Tag 01.03.2026"
	if got := tn.fs.errorAt("to"); got != want {
		t.Errorf("at the move-out field:\n got  %q\n want %q", got, want)
	}

	f := m.Sites
	f.form.Edit(site)
	f.form.iban.SetText("CH44 3199 9123 0008 8901 3")
	test.Tap(f.form.save)
	want = "IBAN «CH44 3199 9123 0008 8901 3»: die Prüfziffern stimmen nicht (Tippfehler?)"
	if got := f.form.fs.errorAt("operator.iban"); got != want {
		t.Errorf("at the IBAN field:\n got  %q\n want %q (general %q)", got, want, f.form.fs.general.Text)
	}

	got := storedSite(t, st, "birkenweg")
	if len(got.Occupancies) != len(site.Occupancies) || got.Operator.IBAN != site.Operator.IBAN || len(auditActions(t, st)) != audit {
		t.Errorf("a refused change was stored: %d tenancies, IBAN %q, audit %v", len(got.Occupancies), got.Operator.IBAN, auditActions(t, st))
	}
}

// TestErrorText: the wizard's line names the element and says the rule in
// the window's language; other errors pass as they are.
func TestErrorText(t *testing.T) {
	inLanguage(t, "de")
	s := &core.Site{ID: "linde", Name: "ZEV Linde", Operator: core.Operator{Name: "Linde AG"},
		Meters: []core.Meter{{ID: "M1", Role: core.RoleUnit}}}
	err := fmt.Errorf("saving: %w", s.Validate())
	if got, want := errorText(err), "meters[0].unit: erwartet wird die Einheit, zu der Zähler «M1» gehört"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := errorText(fmt.Errorf("disk full")); got != "disk full" {
		t.Errorf("another error: %q", got)
	}
}

// TestSiteFileErrorInGerman: a site file that breaks a rule is refused with
// its file, line and element, and the rule in the window's language.
func TestSiteFileErrorInGerman(t *testing.T) {
	inLanguage(t, "de")
	st, site, clock := billingStore(t)
	m := newTestMaster(t, st, site, clock)
	path := filepath.Join(t.TempDir(), "birkenweg.toml")
	m.Sites.exportTo(site, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), "CH44 3199 9123 0008 8901 2", "CH44 3199 9123 0008 8901 3", 1)
	if bad == string(data) {
		t.Fatal("the exported site has no IBAN to mistype")
	}
	line := strings.Count(bad[:strings.Index(bad, "8901 3")], "\n") + 1
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	other := openStore(t)
	m2 := newTestMaster(t, other, nil, clock)
	m2.Sites.importFrom(path)
	want := fmt.Sprintf("%s:%d: operator.iban: IBAN «CH44 3199 9123 0008 8901 3»: die Prüfziffern stimmen nicht (Tippfehler?)", path, line)
	if got := m2.Sites.status.Text; got != want {
		t.Errorf("status\n got  %q\n want %q", got, want)
	}
}
