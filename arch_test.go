package main

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/airlock-mcp/airlock"

type goPackage struct {
	ImportPath string
	Dir        string
	Deps       []string
	Imports    []string
	GoFiles    []string
}

// listPackages runs `go list -deps` for every package of the module, with the given
// build tags.
func listPackages(t *testing.T, tags string) []goPackage {
	t.Helper()
	args := []string{"list", "-json=ImportPath,Dir,Deps,Imports,GoFiles"}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	args = append(args, "./...")
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func under(path, dir string) bool {
	return path == module+"/"+dir || strings.HasPrefix(path, module+"/"+dir+"/")
}

// TestImportEdges keeps the layering of ARCHITECTURE.md honest: only app/desktop touches
// Wails, proxy never imports app, consent imports only store, store imports nothing of ours.
func TestImportEdges(t *testing.T) {
	for _, tags := range []string{"", "production,webkit2_41"} {
		for _, p := range listPackages(t, tags) {
			for _, d := range p.Imports {
				if strings.HasPrefix(d, "github.com/wailsapp/wails") && !under(p.ImportPath, "app/desktop") {
					t.Errorf("[tags %q] %s imports Wails (%s); only app/desktop may", tags, p.ImportPath, d)
				}
			}
			for _, d := range p.Deps {
				ours := strings.HasPrefix(d, module+"/") || d == module
				switch {
				case strings.HasPrefix(d, "github.com/wailsapp/wails") && (under(p.ImportPath, "proxy") || under(p.ImportPath, "consent") || under(p.ImportPath, "store")):
					t.Errorf("[tags %q] %s depends on Wails (%s)", tags, p.ImportPath, d)
				case under(p.ImportPath, "proxy") && ours && under(d, "app"):
					t.Errorf("%s imports %s: proxy must not depend on app", p.ImportPath, d)
				case under(p.ImportPath, "consent") && ours && !under(d, "consent") && !under(d, "store"):
					t.Errorf("%s imports %s: consent may import only store", p.ImportPath, d)
				case under(p.ImportPath, "store") && ours && !under(d, "store"):
					t.Errorf("%s imports %s: store imports nothing else of ours", p.ImportPath, d)
				}
			}
		}
	}
}

// TestPackageDocs: every package has exactly one package doc comment.
func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t, "") {
		if strings.Contains(p.ImportPath, "/testdata/") || len(p.GoFiles) == 0 {
			continue // test-only packages document themselves in a _test.go file
		}
		n := 0
		for _, f := range p.GoFiles {
			file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, f), nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			if file.Doc != nil {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s has %d package doc comments, want exactly 1", p.ImportPath, n)
		}
	}
}
