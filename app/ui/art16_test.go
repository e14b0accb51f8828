package ui

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/zevdesk/zevdesk/core"
	"github.com/zevdesk/zevdesk/core/billing"
	"github.com/zevdesk/zevdesk/core/store"
)

// solarCheckFormats returns the formats of core/billing/solarcheck.go: the
// first argument of every add(…) call and the first field of every Text{…}.
func solarCheckFormats(t *testing.T) map[string]string {
	t.Helper()
	const file = "../../core/billing/solarcheck.go"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, 0)
	if err != nil {
		t.Fatalf("parsing %s: %v", file, err)
	}
	formats := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		var first ast.Expr
		switch n := n.(type) {
		case *ast.CallExpr:
			if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "add" && len(n.Args) > 0 {
				first = n.Args[0]
			}
		case *ast.CompositeLit:
			if id, ok := n.Type.(*ast.Ident); ok && id.Name == "Text" && len(n.Elts) > 0 {
				first = n.Elts[0]
			}
		}
		if first == nil {
			return true
		}
		pos := fset.Position(first.Pos()).String()
		if lit, ok := first.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			formats[s] = pos
		} else if id, ok := first.(*ast.Ident); !ok || id.Name != "format" { // add passing its own on
			t.Errorf("%s: a format that is not a literal: the window cannot know it", pos)
		}
		return true
	})
	return formats
}

// TestSolarCheckTextsCoverBilling: every line the Art. 16 check can give is
// translated, and the table has no line billing no longer gives.
func TestSolarCheckTextsCoverBilling(t *testing.T) {
	formats := solarCheckFormats(t)
	if len(formats) < 14 {
		t.Fatalf("found %d formats in billing: the parser misses some", len(formats))
	}
	for f, pos := range formats {
		if _, ok := solarCheckTexts[f]; !ok {
			t.Errorf("%s: %q has no entry in solarCheckTexts (app/ui/art16.go)", pos, f)
		}
	}
	for f := range solarCheckTexts {
		if _, ok := formats[f]; !ok {
			t.Errorf("solarCheckTexts has %q, which billing does not use", f)
		}
	}
}

// TestSolarCheckTextsEnglish: in English each line is billing's line (as
// `tariff check` prints it); in German each is translated.
func TestSolarCheckTextsEnglish(t *testing.T) {
	sample := func(f string) billing.Text {
		var args []any
		for _, v := range strings.Split(f, "%")[1:] {
			switch {
			case strings.HasPrefix(v, "s"):
				args = append(args, core.Price(123_400+len(args)))
			case strings.HasPrefix(v, "d"):
				args = append(args, 20+len(args))
			}
		}
		return billing.Text{Format: f, Args: args}
	}
	english := map[string]string{}
	for f := range solarCheckTexts {
		x := sample(f)
		english[f] = solarCheckText(x)
		if want := fmt.Sprintf(f, x.Args...); english[f] != want {
			t.Errorf("format %q:\n got  %q\n want %q", f, english[f], want)
		}
	}
	if got := solarCheckText(billing.Text{Format: "a line from a %s billing", Args: []any{"newer"}}); got != "a line from a newer billing" {
		t.Errorf("an unknown format gives %q", got)
	}
	inLanguage(t, "de")
	for f := range solarCheckTexts {
		if got := solarCheckText(sample(f)); got == english[f] {
			t.Errorf("format %q: the German text is the English one: %q", f, got)
		}
	}
}

// TestTariffArt16InGerman: in German the Tariffs form shows the Art. 16
// check in German, its numbers in one column.
func TestTariffArt16InGerman(t *testing.T) {
	inLanguage(t, "de")
	st, site, clock := billingStore(t)
	m := newTestMaster(t, st, site, clock)
	tf := m.Tariffs
	test.Tap(findButton(tf.Content(), "Neue Version"))
	tf.from.SetText("01.01.2027")
	tf.solar.SetText("0.22")
	tf.std.SetText("0.30")
	tf.vat.SetText("8.1")
	want := "Solarstrompreis          0.22 CHF/kWh + MWST 8.1 % = 0.23782 CHF/kWh\n" +
		"Standardprodukt          0.30 CHF/kWh (inkl. MWST, Mischpreis HT/NT)\n" +
		"Grenze Pauschale         80 % × 0.30 = 0.24 CHF/kWh\n" +
		"OK: der Solarstrompreis 0.23782 CHF/kWh liegt innerhalb der Grenze von 0.24 CHF/kWh (Pauschale)"
	if tf.check.Text != want {
		t.Errorf("check:\n%s\nwant\n%s", tf.check.Text, want)
	}
	tf.solar.SetText("0.25")
	if want := "ZU HOCH: der Solarstrompreis 0.27025 CHF/kWh übersteigt die Grenze von 0.24 CHF/kWh (Pauschale) um 0.03025 CHF/kWh"; !strings.HasSuffix(tf.check.Text, "\n"+want) {
		t.Errorf("too high:\n%s\nwant the verdict %q", tf.check.Text, want)
	}
}

// TestTariffIncompleteCostsInGerman: stored solar costs without their
// depreciation period say what is missing, and how to store them, in the
// window's language.
func TestTariffIncompleteCostsInGerman(t *testing.T) {
	inLanguage(t, "de")
	st, site, clock := billingStore(t)
	costs, err := json.Marshal(billing.SolarCosts{Investment: 3_000_000, SelfConsumed: 20_000 * core.KWh})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Update(func(tx store.Tx) error { return tx.PutMeta(billing.BucketSolarCosts, site.ID, costs) }); err != nil {
		t.Fatal(err)
	}
	m := newTestMaster(t, st, site, clock)
	tf := m.Tariffs
	test.Tap(findButton(tf.Content(), "Neue Version"))
	tf.from.SetText("01.01.2027")
	tf.solar.SetText("0.22")
	tf.std.SetText("0.30")
	want := "In den gespeicherten Solarkosten fehlt die Abschreibungsdauer in Jahren: bitte mit zevdesk tariff costs --site birkenweg DATEI.toml neu speichern."
	if tf.check.Text != want {
		t.Errorf("check %q, want %q", tf.check.Text, want)
	}
}
