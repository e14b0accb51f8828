package ui

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/zevdesk/zevdesk/assets"
)

// TestMain runs the package's tests in English, whatever the machine's
// locale: their expectations are the English texts.
func TestMain(m *testing.M) {
	if err := setLanguage("en"); err != nil {
		panic(err)
	}
	code := m.Run()
	removeBenchDB()
	os.Exit(code)
}

// langUse is one call of lang.X, lang.L, lang.N or lang.XN with a constant
// key.
type langUse struct {
	key, fallback string
	pos           string
	plural        bool // lang.XN and the like: the catalogues give plural forms
}

// langUses parses every non-test Go file of this package for translation
// calls. A call whose key is not a constant string fails the test: the
// catalogue check could not see it.
func langUses(t *testing.T) []langUse {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var uses []langUse
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatalf("parsing %s: %v", name, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "lang" {
				return true
			}
			pos := fset.Position(call.Pos()).String()
			str := func(i int) (string, bool) {
				if i >= len(call.Args) {
					return "", false
				}
				lit, ok := call.Args[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					// A fallback may be a concatenation of literals.
					if b, ok := call.Args[i].(*ast.BinaryExpr); ok && b.Op == token.ADD {
						return concat(b)
					}
					return "", false
				}
				s, err := strconv.Unquote(lit.Value)
				return s, err == nil
			}
			switch sel.Sel.Name {
			case "X", "XN", "LocalizeKey", "LocalizePluralKey":
				key, ok := str(0)
				if !ok {
					t.Errorf("%s: lang.%s with a key that is not a constant string", pos, sel.Sel.Name)
					return true
				}
				fb, _ := str(1)
				uses = append(uses, langUse{key: key, fallback: fb, pos: pos, plural: sel.Sel.Name == "XN" || sel.Sel.Name == "LocalizePluralKey"})
			case "L", "N", "Localize", "LocalizePlural":
				key, ok := str(0)
				if !ok {
					t.Errorf("%s: lang.%s with a text that is not a constant string", pos, sel.Sel.Name)
					return true
				}
				uses = append(uses, langUse{key: key, fallback: key, pos: pos, plural: sel.Sel.Name != "L" && sel.Sel.Name != "Localize"})
			}
			return true
		})
	}
	return uses
}

func concat(b *ast.BinaryExpr) (string, bool) {
	part := func(e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		case *ast.BinaryExpr:
			return concat(e)
		}
		return "", false
	}
	x, ok1 := part(b.X)
	y, ok2 := part(b.Y)
	return x + y, ok1 && ok2
}

// catalogue is one translations/<area>.<lang>.json file.
type catalogue struct {
	name, area, lang string
	msgs             map[string]string // a text, or a plural's "other" form
	// plurals holds the forms of the texts given by plural category (go-i18n's
	// {"one": …, "other": …}), for lang.XN.
	plurals map[string]map[string]string
}

// pluralForms are the CLDR plural categories go-i18n reads.
var pluralForms = []string{"zero", "one", "two", "few", "many", "other"}

func catalogues(t *testing.T) []catalogue {
	t.Helper()
	ents, err := assets.Translations.ReadDir("translations")
	if err != nil {
		t.Fatal(err)
	}
	var cats []catalogue
	for _, e := range ents {
		name := e.Name()
		parts := strings.Split(name, ".")
		if len(parts) != 3 || parts[2] != "json" || !slices.Contains(Languages, parts[1]) {
			t.Errorf("assets/translations/%s: want <area>.<lang>.json with lang one of %v", name, Languages)
			continue
		}
		b, err := assets.Translations.ReadFile("translations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		c := catalogue{name: name, area: parts[0], lang: parts[1], msgs: map[string]string{}, plurals: map[string]map[string]string{}}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Errorf("assets/translations/%s: want a JSON object: %v", name, err)
			continue
		}
		for k, v := range raw {
			var text string
			var forms map[string]string
			switch {
			case json.Unmarshal(v, &text) == nil:
				c.msgs[k] = text
			case json.Unmarshal(v, &forms) == nil && forms["other"] != "":
				for f := range forms {
					if !slices.Contains(pluralForms, f) {
						t.Errorf("assets/translations/%s: %q has the plural form %q; want one of %v", name, k, f, pluralForms)
					}
				}
				c.msgs[k], c.plurals[k] = forms["other"], forms
			default:
				t.Errorf("assets/translations/%s: %q: want a text, or plural forms with \"other\"", name, k)
			}
		}
		cats = append(cats, c)
	}
	return cats
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// placeholders returns the sorted template fields of a text.
func placeholders(s string) string {
	var fs []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		fs = append(fs, m[1])
	}
	sort.Strings(fs)
	return strings.Join(slices.Compact(fs), ",")
}

// TestCatalogues checks the translations against the code: every key the
// code uses is in every language, every catalogue key is used, each area
// has its four files with the same keys, and a text's placeholders are the
// same in every language (and the same as the code's fallback). A key used
// with a count (lang.XN) has plural forms in every language, whose
// placeholders are among its "other" form's; any other key is a text.
func TestCatalogues(t *testing.T) {
	uses := langUses(t)
	cats := catalogues(t)
	if len(uses) == 0 || len(cats) == 0 {
		t.Fatalf("%d translation calls, %d catalogues: the test sees nothing", len(uses), len(cats))
	}
	// key → lang → text, and key → area.
	texts := map[string]map[string]string{}
	plural := map[string]map[string]bool{} // key → lang → has plural forms
	areaOf := map[string]string{}
	areas := map[string]map[string]bool{}
	for _, c := range cats {
		if areas[c.area] == nil {
			areas[c.area] = map[string]bool{}
		}
		areas[c.area][c.lang] = true
		for k, v := range c.msgs {
			if a, ok := areaOf[k]; ok && a != c.area {
				t.Errorf("key %q is in two areas, %s and %s", k, a, c.area)
			}
			areaOf[k] = c.area
			if texts[k] == nil {
				texts[k] = map[string]string{}
			}
			texts[k][c.lang] = v
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: %q is empty", c.name, k)
			}
			if forms, ok := c.plurals[k]; ok {
				if plural[k] == nil {
					plural[k] = map[string]bool{}
				}
				plural[k][c.lang] = true
				other := strings.Split(placeholders(v), ",")
				for f, text := range forms {
					for _, p := range strings.Split(placeholders(text), ",") {
						if p != "" && !slices.Contains(other, p) {
							t.Errorf("%s: %q: the %s form has {%s}, which the other form lacks", c.name, k, f, p)
						}
					}
				}
			}
		}
	}
	for a, ls := range areas {
		for _, l := range Languages {
			if !ls[l] {
				t.Errorf("area %s has no catalogue %s.%s.json", a, a, l)
			}
		}
	}
	used := map[string]bool{}
	for _, u := range uses {
		used[u.key] = true
		for _, l := range Languages {
			if _, ok := texts[u.key][l]; !ok {
				t.Errorf("%s: %q has no %s translation", u.pos, u.key, l)
			} else if plural[u.key][l] != u.plural {
				t.Errorf("%s: %q is used with a count: %v, but the %s catalogue gives plural forms: %v", u.pos, u.key, u.plural, l, plural[u.key][l])
			}
		}
		if en, ok := texts[u.key]["en"]; ok && u.fallback != "" && placeholders(en) != placeholders(u.fallback) {
			t.Errorf("%s: %q: the fallback's placeholders {%s} differ from the catalogue's {%s}",
				u.pos, u.key, placeholders(u.fallback), placeholders(en))
		}
	}
	for k, byLang := range texts {
		if !used[k] {
			t.Errorf("%s.*.json: %q is used nowhere in app/ui", areaOf[k], k)
		}
		want := placeholders(byLang["en"])
		for l, v := range byLang {
			if got := placeholders(v); got != want {
				t.Errorf("%s.%s.json: %q has placeholders {%s}, English has {%s}", areaOf[k], l, k, got, want)
			}
		}
	}
}

// TestCataloguesParse loads the catalogues the way fyne does, so that a
// file go-i18n cannot read fails here rather than at start-up.
func TestCataloguesParse(t *testing.T) {
	inLanguage(t, "de")
	if got := currentLanguage(); got != "de" {
		t.Errorf("after choosing German, lang speaks %q", got)
	}
}
