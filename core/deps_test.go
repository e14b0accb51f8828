package core_test

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/zevdesk/zevdesk"

// TestDependencyRules enforces DESIGN.md's layout rules on the whole module
// with `go list -deps`: core is pure (standard library only, bbolt in the
// bolt store), ingest never reaches app, and Fyne stays in app/ui and main.
func TestDependencyRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath string
		Imports    []string
		Deps       []string
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	std := func(path string) bool { return !strings.Contains(strings.Split(path, "/")[0], ".") }
	under := func(path, dir string) bool {
		return path == module+"/"+dir || strings.HasPrefix(path, module+"/"+dir+"/")
	}
	for _, p := range pkgs {
		rel := strings.TrimPrefix(p.ImportPath, module)
		switch {
		case under(p.ImportPath, "core"):
			for _, d := range p.Deps {
				ok := std(d) || under(d, "core")
				if p.ImportPath == module+"/core/store/bolt" && (strings.HasPrefix(d, "go.etcd.io/bbolt") || strings.HasPrefix(d, "golang.org/x/sys/")) {
					ok = true
				}
				// The PostgreSQL store's driver and what it needs.
				if p.ImportPath == module+"/core/store/postgres" && (strings.HasPrefix(d, "github.com/jackc/") || strings.HasPrefix(d, "golang.org/x/")) {
					ok = true
				}
				if !ok {
					t.Errorf("%s depends on %s: core imports the standard library only (bbolt only in core/store/bolt, pgx only in core/store/postgres)", rel, d)
				}
			}
		case under(p.ImportPath, "ingest"):
			for _, d := range p.Deps {
				if under(d, "app") {
					t.Errorf("%s depends on %s: ingest never imports app", rel, d)
				}
			}
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, "fyne.io/") {
				continue
			}
			if imp == "fyne.io/fyne/v2/app" && p.ImportPath != module {
				t.Errorf("%s imports %s: only main.go imports Fyne's driver", rel, imp)
			}
			if p.ImportPath != module && p.ImportPath != module+"/app/ui" {
				t.Errorf("%s imports %s: only app/ui (and main) import Fyne", rel, imp)
			}
		}
	}
}
