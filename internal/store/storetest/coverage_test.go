package storetest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// parseDir parses the non-test Go files of dir.
func parseDir(t *testing.T, fset *token.FileSet, dir string) []*ast.File {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []*ast.File
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// TestEveryStoreMethodHasAConformanceCase fails when a method of the store
// interfaces (package store) is never called by this suite: every engine
// must be held to every method.
func TestEveryStoreMethodHasAConformanceCase(t *testing.T) {
	fset := token.NewFileSet()
	var methods []string
	for _, p := range parseDir(t, fset, "..") {
		ast.Inspect(p, func(n ast.Node) bool {
			it, ok := n.(*ast.InterfaceType)
			if !ok {
				return true
			}
			for _, m := range it.Methods.List {
				if _, isFunc := m.Type.(*ast.FuncType); isFunc {
					for _, name := range m.Names {
						methods = append(methods, name.Name)
					}
				}
			}
			return true
		})
	}
	called := map[string]bool{}
	for _, p := range parseDir(t, fset, ".") {
		ast.Inspect(p, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
					called[sel.Sel.Name] = true
				}
			}
			return true
		})
	}
	if len(methods) < 100 {
		t.Fatalf("found only %d store methods", len(methods))
	}
	slices.Sort(methods)
	for _, m := range slices.Compact(methods) {
		if !called[m] && m != "Close" {
			t.Errorf("store method %s has no conformance case in storetest", m)
		}
	}
}
