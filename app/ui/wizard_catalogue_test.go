package ui

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"

	"github.com/zevdesk/zevdesk/assets"
)

// wizardSources are the files whose strings the wizard catalogue holds.
var wizardSources = []string{"live.go", "flow.go", "wizard.go", "welcome.go", "gateways.go", "window.go"}

// wizardAreas are the key prefixes of the wizard catalogue.
var wizardAreas = []string{"wizard.", "live.", "welcome.", "gateways."}

var (
	langCall    = regexp.MustCompile(`lang\.X\(\s*"([a-z][\w.]*)",\s*((?:"(?:[^"\\]|\\.)*"\s*\+?\s*)+)`)
	quoted      = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)
	placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)
)

// The wizard catalogue is complete in German, French, Italian and English:
// every key the screens use is in each language, with the same template
// fields, and the English text is the code's fallback.
func TestWizardCatalogueComplete(t *testing.T) {
	used := map[string]string{}
	for _, f := range wizardSources {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range langCall.FindAllStringSubmatch(string(b), -1) {
			key := m[1]
			if !slices.ContainsFunc(wizardAreas, func(a string) bool { return strings.HasPrefix(key, a) }) {
				continue
			}
			var text strings.Builder
			for _, q := range quoted.FindAllStringSubmatch(m[2], -1) {
				s, err := strconv.Unquote(`"` + q[1] + `"`)
				if err != nil {
					t.Fatalf("%s: key %s: %v", f, key, err)
				}
				text.WriteString(s)
			}
			if prev, ok := used[key]; ok && prev != text.String() {
				t.Errorf("key %s has two fallbacks: %q and %q", key, prev, text.String())
			}
			used[key] = text.String()
		}
	}
	if len(used) < 100 {
		t.Fatalf("found only %d keys in %v: the pattern no longer matches the code", len(used), wizardSources)
	}
	fields := func(s string) string {
		var fs []string
		for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
			fs = append(fs, m[1])
		}
		sort.Strings(fs)
		return strings.Join(fs, ",")
	}
	// Fyne's loader (go-i18n) accepts the files.
	if err := lang.AddTranslationsFS(assets.Translations, "translations"); err != nil {
		t.Fatalf("loading the catalogues: %v", err)
	}
	for _, l := range []string{"de", "fr", "it", "en"} {
		name := "translations/wizard." + l + ".json"
		b, err := assets.Translations.ReadFile(name)
		if err != nil {
			t.Fatalf("reading %s: %v", name, err)
		}
		var cat map[string]string
		if err := json.Unmarshal(b, &cat); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for key, en := range used {
			tr, ok := cat[key]
			switch {
			case !ok:
				t.Errorf("%s: key %s missing (English: %q)", name, key, en)
			case strings.TrimSpace(tr) == "":
				t.Errorf("%s: key %s is empty", name, key)
			case fields(tr) != fields(en):
				t.Errorf("%s: key %s has fields {%s}, the code passes {%s}", name, key, fields(tr), fields(en))
			case l == "en" && tr != en:
				t.Errorf("%s: key %s is %q, the code's fallback %q", name, key, tr, en)
			}
		}
		for key := range cat {
			if _, ok := used[key]; !ok {
				t.Errorf("%s: key %s is used nowhere", name, key)
			}
		}
	}
}
