package importer

import (
	"errors"
	"strings"
	"testing"
)

// TestParseSiteTooLarge: a file over MaxSiteFileBytes is refused before it is
// parsed, naming the file and the limit. Ten megabytes of "[" crashed the
// program with a stack overflow before.
func TestParseSiteTooLarge(t *testing.T) {
	for _, tc := range []struct{ name, src string }{
		{"a comment one byte too long", designSite + "#" + strings.Repeat("x", MaxSiteFileBytes-len(designSite))},
		{"ten megabytes of brackets", "a = " + strings.Repeat("[", 10<<20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSite("big.toml", strings.NewReader(tc.src))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			want := "big.toml: the file is larger than 1024 KiB, the most a site file may have: a site file describes one site (a few KiB); is this the right file?"
			if e.Error() != want {
				t.Errorf("err = %q\nwant  %q", e.Error(), want)
			}
		})
	}
	// Exactly at the limit the file is read (and found fine).
	src := designSite + "#" + strings.Repeat("x", MaxSiteFileBytes-len(designSite)-2) + "\n"
	if _, err := ParseSite("ok.toml", strings.NewReader(src)); err != nil {
		t.Errorf("a site file of exactly %d bytes: %v", len(src), err)
	}
}

// TestParseSiteDeepNesting: brackets nested deeper than MaxSiteNesting are
// refused with their line and column before the TOML parser, which took a
// gigabyte of stack for a megabyte of "[", sees them. Brackets inside
// strings and comments do not count, and MaxSiteNesting levels are parsed.
func TestParseSiteDeepNesting(t *testing.T) {
	tests := []struct {
		name, src string
		line, col int
	}{
		{"a megabyte of brackets", "a = " + strings.Repeat("[", MaxSiteFileBytes-5), 1, 5 + MaxSiteNesting},
		{"inline tables", designSite + "x = " + strings.Repeat("{a=", 40), strings.Count(designSite, "\n") + 1, 5 + 3*MaxSiteNesting},
		{"after a multi-line string", "a = \"\"\"\n[[[\n\"\"\"\nb = " + strings.Repeat("[", 33), 4, 5 + MaxSiteNesting},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSite("deep.toml", strings.NewReader(tc.src))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if e.Line != tc.line || e.Column != tc.col || !strings.Contains(e.Msg, "nest more than 32 deep") {
				t.Errorf("err = %q (line %d, column %d), want line %d, column %d, nesting", e.Error(), e.Line, e.Column, tc.line, tc.col)
			}
		})
	}

	deepStr := strings.Repeat("[{", 40)
	fine := strings.Replace(designSite, `name = "Anna Muster"`, `name = "Anna `+deepStr+`\"Muster"`, 1) +
		"# " + deepStr + "\n"
	fine = strings.Replace(fine, `town = "Bern"`, "town = '''Bern"+deepStr+"''' # \"\n", 1)
	fine = strings.Replace(fine, `street = "Marktgasse"`, "street = \"\"\"\nMarkt"+deepStr+"\\\n gasse\"\"\"", 1)
	s, err := ParseSite("fine.toml", strings.NewReader(fine))
	if err != nil {
		t.Fatalf("brackets inside strings and comments: %v", err)
	}
	if s.Occupancies[0].Name != "Anna "+deepStr+`"Muster` || s.Operator.Street != "Markt"+deepStr+"gasse" {
		t.Errorf("strings read as %q, %q", s.Occupancies[0].Name, s.Operator.Street)
	}

	nested := "a = " + strings.Repeat("[", MaxSiteNesting) + strings.Repeat("]", MaxSiteNesting) + "\n"
	_, err = ParseSite("nested.toml", strings.NewReader(nested))
	var e *Error
	if !errors.As(err, &e) || strings.Contains(e.Msg, "nest") {
		t.Errorf("%d levels: err = %v, want the site file's own complaint, not nesting", MaxSiteNesting, err)
	}
}
