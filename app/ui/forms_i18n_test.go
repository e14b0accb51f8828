package ui

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/template"
)

// TestFormsCatalogues: every forms.* string the screens use is in all four
// catalogues, the English one equals the fallback in the code, and each
// translation uses the fallback's template values and parses.
func TestFormsCatalogues(t *testing.T) {
	re := regexp.MustCompile(`lang\.XN?\(\s*("forms\.(?:[^"\\]|\\.)*"),\s*("(?:[^"\\]|\\.)*")`)
	used := map[string]string{}
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			k, _ := strconv.Unquote(m[1])
			v, _ := strconv.Unquote(m[2])
			used[k] = v
		}
	}
	if len(used) < 100 {
		t.Fatalf("found only %d forms strings", len(used))
	}
	vars := regexp.MustCompile(`{{\s*\.(\w+)\s*}}`)
	for _, c := range catalogues(t) {
		if c.area != "forms" {
			continue
		}
		l, cat := c.lang, c.msgs // a plural's "other" form stands for it
		for k, fallback := range used {
			tr, ok := cat[k]
			switch {
			case !ok:
				t.Errorf("forms.%s.json lacks %s", l, k)
				continue
			case l == "en" && tr != fallback:
				t.Errorf("forms.en.json %s = %q, the code says %q", k, tr, fallback)
			}
			if _, err := template.New(k).Parse(tr); err != nil {
				t.Errorf("forms.%s.json %s: %v", l, k, err)
			}
			want := vars.FindAllStringSubmatch(fallback, -1)
			for _, v := range want {
				if !strings.Contains(tr, "{{."+v[1]+"}}") {
					t.Errorf("forms.%s.json %s lacks {{.%s}}", l, k, v[1])
				}
			}
		}
		for k := range cat {
			if _, ok := used[k]; !ok {
				t.Errorf("forms.%s.json has %s, which no screen uses", l, k)
			}
		}
	}
}
