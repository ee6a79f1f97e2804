package runs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// runWrites are the calls only this package may make: the orchestration
// decisions and the store's run writes. Anything else that wants a run
// created, moved or recorded goes through a Service.
var runWrites = []string{
	"ProposeFlowRunState", "ProposeTaskRunState",
	"FlowRunCreate", "FlowRunSetState", "FlowRunUpdate", "FlowRunDelete",
	"TaskRunCreate", "TaskRunSetState", "TaskRunUpdate", "TaskRunDelete", "TaskRunRecord",
	"DeploymentScheduleRuns",
}

// mayWriteRuns are the packages allowed to name runWrites: this one, the
// decision core that defines the Propose functions, and the store (the
// interface, its engines and their conformance suite).
var mayWriteRuns = []string{"internal/runs", "internal/orchestration", "internal/store"}

// TestOnlyRunsWritesRuns fails when code outside mayWriteRuns calls (or
// takes the method value of) one of runWrites. Tests are exempt: they set
// up fixtures through the store directly.
func TestOnlyRunsWritesRuns(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", root, err)
	}
	if n := len(goFiles(t, root)); n < 50 {
		t.Fatalf("found only %d Go files under %s", n, root)
	}
	for _, v := range scanRunWrites(t, root) {
		t.Errorf("%s: %s is a run write; call the runs layer (internal/runs) instead", v.pos, v.name)
	}
}

// TestBoundaryCheckFindsViolations keeps the check above honest: a file
// that calls a run write through any receiver is reported, a type named
// like one (model.FlowRunCreate) is not.
func TestBoundaryCheckFindsViolations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := `package x

import "example.com/model"

func f(st interface{ FlowRunSetState() }, b *model.FlowRunCreate, r []store.TaskRunRecord) {
	st.FlowRunSetState()
	g := st.FlowRunSetState
	_ = g
	orchestration.ProposeTaskRunState(nil)
}
`
	if err := os.MkdirAll(filepath.Join(dir, "internal", "api"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "internal", "api", "x.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got := scanRunWrites(t, dir)
	var names []string
	for _, v := range got {
		names = append(names, v.name)
	}
	want := []string{"FlowRunSetState", "FlowRunSetState", "ProposeTaskRunState"}
	if !slices.Equal(names, want) {
		t.Fatalf("violations = %v, want %v", names, want)
	}
}

type violation struct {
	pos  token.Position
	name string
}

// goFiles lists the non-test Go files under root outside node_modules and
// testdata.
func goFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "node_modules" || n == "testdata" || (strings.HasPrefix(n, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func scanRunWrites(t *testing.T, root string) []violation {
	t.Helper()
	var out []violation
	fset := token.NewFileSet()
	for _, path := range goFiles(t, root) {
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if slices.ContainsFunc(mayWriteRuns, func(p string) bool { return strings.HasPrefix(rel, p+"/") }) {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok || !slices.Contains(runWrites, sel.Sel.Name) {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && (x.Name == "model" || x.Name == "store") {
				// Types named like a write (model.FlowRunCreate is a request
				// body, store.TaskRunRecord a record); neither package has
				// functions by these names.
				return true
			}
			p := fset.Position(sel.Sel.Pos())
			p.Filename = rel
			out = append(out, violation{pos: p, name: sel.Sel.Name})
			return true
		})
	}
	return out
}

// domainPackages know nothing of HTTP: transport code (handlers,
// websockets, cookies, status codes) lives in internal/api.
var domainPackages = []string{"internal/runs", "internal/orchestration", "internal/store", "internal/events", "internal/tenancy",
	"internal/services", "internal/model", "internal/blocks", "internal/schedule", "internal/lifecycle"}

// TestDomainPackagesHaveNoTransport fails when a domain package imports
// net/http or a websocket library.
func TestDomainPackagesHaveNoTransport(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	for _, path := range goFiles(t, root) {
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if !slices.ContainsFunc(domainPackages, func(p string) bool { return strings.HasPrefix(rel, p+"/") }) {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p := strings.Trim(imp.Path.Value, `"`); p == "net/http" || strings.HasPrefix(p, "net/http/") || strings.Contains(p, "websocket") {
				t.Errorf("%s imports %s: transport code belongs in internal/api", rel, p)
			}
		}
	}
}
