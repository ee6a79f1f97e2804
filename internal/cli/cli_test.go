package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// walk visits every command of the tree.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, s := range c.Commands() {
		walk(s, fn)
	}
}

// allCommands lists the path (without "baton") of every user-facing command.
func allCommands(t *testing.T) [][]string {
	a := &app{env: Env{Getenv: func(string) string { return "" }}}
	var paths [][]string
	walk(a.rootCmd(), func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		p := strings.Fields(c.CommandPath())[1:]
		paths = append(paths, p)
	})
	if len(paths) < 40 {
		t.Fatalf("only %d commands found", len(paths))
	}
	return paths
}

var upperArg = regexp.MustCompile(`\b[A-Z][A-Z_/|.]+\b`)

func TestEveryCommandHelpExitsZeroAndNamesItsArguments(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	a := &app{env: Env{Getenv: func(string) string { return "" }}}
	uses := map[string]string{}
	walk(a.rootCmd(), func(c *cobra.Command) { uses[c.CommandPath()] = c.Use })
	for _, path := range allCommands(t) {
		for _, h := range []string{"--help", "-h"} {
			code, out, errs := e.run("", append(path, h)...)
			name := "baton " + strings.Join(path, " ")
			if code != 0 || errs != "" {
				t.Errorf("%s %s: exit %d, stderr %q", name, h, code, errs)
				continue
			}
			if !strings.Contains(out, "Usage:") {
				t.Errorf("%s %s: no usage in %q", name, h, out)
			}
			// Every positional argument the command takes is named in its
			// usage line (FLOW/DEPLOYMENT, ID, NAME …).
			for _, arg := range upperArg.FindAllString(uses[strings.TrimSpace(name)], -1) {
				if !strings.Contains(out, arg) {
					t.Errorf("%s %s does not name its argument %s:\n%s", name, h, arg, out)
				}
			}
		}
	}
	// The examples, explicitly.
	for _, path := range [][]string{{"flow-run", "inspect"}, {"flow-run", "logs"}, {"flow-run", "cancel"}} {
		_, out, _ := e.run("", append(path, "--help")...)
		if !strings.Contains(out, "baton "+strings.Join(path, " ")+" ID") {
			t.Errorf("%v --help does not name the ID argument:\n%s", path, out)
		}
	}
	if code, out, _ := e.run(""); code != 0 || !strings.Contains(out, "export PREFECT_API_URL") {
		t.Errorf("bare baton: %d %q", code, out)
	}
	if code, out, _ := e.run("", "--version"); code != 0 || !strings.HasPrefix(out, "baton ") {
		t.Errorf("--version: %d %q", code, out)
	}
}

func TestEveryFlagIsDocumented(t *testing.T) {
	t.Parallel()
	a := &app{env: Env{Getenv: func(string) string { return "" }}}
	walk(a.rootCmd(), func(c *cobra.Command) {
		if c.Short == "" {
			t.Errorf("%s has no summary", c.CommandPath())
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if strings.TrimSpace(f.Usage) == "" {
				t.Errorf("%s --%s has no description", c.CommandPath(), f.Name)
			}
		})
	})
}

// Every listing and inspection takes --output table|json|yaml.
func TestEveryListingAndInspectionTakesOutput(t *testing.T) {
	t.Parallel()
	a := &app{env: Env{Getenv: func(string) string { return "" }}}
	n := 0
	walk(a.rootCmd(), func(c *cobra.Command) {
		switch c.Name() {
		case "ls", "inspect", "view", "get", "logs":
			n++
			if f := c.Flags().Lookup("output"); f == nil || f.Shorthand != "o" || !strings.Contains(f.Usage, "table, json or yaml") {
				t.Errorf("%s has no -o/--output table|json|yaml", c.CommandPath())
			}
		}
	})
	if n < 15 {
		t.Errorf("only %d listings and inspections found", n)
	}
}

func TestUsageMistakesExitTwoWithAHint(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"flow-run", "inspect"}, "missing ID"},
		{[]string{"flow-run", "inspect", "a", "b"}, "too many arguments"},
		{[]string{"flow-run", "inspect", "not-a-uuid"}, "is not a flow run id"},
		{[]string{"deployment", "run", "just-a-name"}, "is not FLOW/DEPLOYMENT"},
		{[]string{"flow-run", "ls", "--bogus"}, "unknown flag"},
		{[]string{"flow-run", "ls", "--output", "xml"}, `--output "xml" is not one of table, json, yaml`},
		{[]string{"flow-run", "ls", "--state-type", "NOPE"}, "is not one of"},
		{[]string{"flow-run", "ls", "--limit", "0"}, "--limit"},
		{[]string{"cloud", "bogus"}, `unknown command "bogus" for "baton cloud"`},
		{[]string{"deploymnt"}, "did you mean deployment"},
		{[]string{"config", "set", "NOPE=1"}, `unknown setting "NOPE"`},
		{[]string{"config", "set", "BATON_API_URL=localhost:4200"}, "must be an http:// or https:// URL"},
		{[]string{"config", "set", "BATON_PORT=http"}, "BATON_PORT must be a port number"},
		{[]string{"worker", "start"}, "--pool is required"},
		{[]string{"cloud", "login"}, "--key is required"},
		{[]string{"--profile", "nope", "flow-run", "ls"}, `--profile names profile "nope", which does not exist`},
	} {
		code, out, errs := e.run("", tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) || !strings.Contains(errs, "--help' for usage") {
			t.Errorf("baton %s: exit %d, stderr %q, stdout %q; want 2 and %q", strings.Join(tc.args, " "), code, errs, out, tc.want)
		}
	}
}

func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	marks := map[string]string{
		"bash":       "__start_baton",
		"zsh":        "#compdef baton",
		"fish":       "complete -c baton",
		"powershell": "Register-ArgumentCompleter",
	}
	for shell, mark := range marks {
		out := e.mustRun("completion", shell)
		if !strings.Contains(out, mark) {
			t.Errorf("completion %s lacks %q", shell, mark)
		}
		if shell == "bash" {
			if _, err := exec.LookPath("bash"); err == nil {
				script := filepath.Join(t.TempDir(), "baton.bash")
				if err := os.WriteFile(script, []byte(out), 0o600); err != nil {
					t.Fatal(err)
				}
				if b, err := exec.Command("bash", "-c", "source "+script+" && complete -p baton").CombinedOutput(); err != nil || !strings.Contains(string(b), "baton") {
					t.Errorf("bash cannot load the completion script: %v %s", err, b)
				}
			}
		}
	}
	// What the scripts ask the binary for: sub-commands, setting names,
	// state names, output formats.
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "flow-r"}, []string{"flow-run"}},
		{[]string{"__complete", "config", "set", ""}, []string{"BATON_API_URL=", "PREFECT_API_URL="}},
		{[]string{"__complete", "flow-run", "ls", "--state", ""}, []string{"Late", "AwaitingRetry"}},
		{[]string{"__complete", "deployment", "ls", "--output", ""}, []string{"table", "json", "yaml"}},
		{[]string{"__complete", "profile", "use", ""}, []string{"default"}},
	} {
		out := e.mustRun(tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: %q lacks %q", tc.args, out, w)
			}
		}
	}
}

func TestColourOnlyOnATerminalWithoutNoColor(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "server")
	e := newTestEnv(t)
	e.vars["BATON_API_URL"] = srv.api
	e.mustRun("work-pool", "create", "colours")
	e.width = 120
	if out := e.mustRun("work-pool", "ls"); !strings.Contains(out, "\x1b[1m") {
		t.Errorf("no colour on a terminal:\n%q", out)
	}
	e.vars["NO_COLOR"] = "1"
	if out := e.mustRun("work-pool", "ls"); strings.Contains(out, "\x1b[") {
		t.Errorf("colour under NO_COLOR:\n%q", out)
	}
	delete(e.vars, "NO_COLOR")
	e.width = 0
	if out := e.mustRun("work-pool", "ls"); strings.Contains(out, "\x1b[") {
		t.Errorf("colour into a pipe:\n%q", out)
	}
	e.width = 120
	if _, _, errs := e.run("", "flow-run", "inspect"); !strings.Contains(errs, "\x1b[31mError:") {
		t.Errorf("errors are not red on a terminal: %q", errs)
	}
}

func TestListingsAndInspectionsInEveryFormat(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "server")
	e := newTestEnv(t)
	e.vars["BATON_API_URL"] = srv.api
	e.mustRun("work-pool", "create", "pool-a")
	longName := "a-deployment-whose-name-goes-on-and-on-" + strings.Repeat("x", 60)
	e.mustRun("deployment", "create", longName, "--flow", "etl", "--pool", "pool-a", "--command", "true", "--cron", "0 3 * * *")
	e.mustRun("deployment", "create", "plain", "--flow", "etl", "--pool", "pool-a", "--command", "true")
	// An rrule schedule with a DTSTART line, as the Prefect client sends it.
	rrule := map[string]any{"schedule": map[string]any{"rrule": "DTSTART:20260101T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9,12,15,18;BYMINUTE=0,15,30,45;COUNT=5000"}, "active": true}
	var dep struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(e.mustRun("deployment", "inspect", "etl/plain", "-o", "json")), &dep); err != nil {
		t.Fatal(err)
	}
	c, _ := (&app{env: Env{Getenv: e.getenv}}).client()
	if err := c.Do(t.Context(), "POST", "/deployments/"+dep.ID+"/schedules", []any{rrule}, nil); err != nil {
		t.Fatal(err)
	}
	run := e.mustRun("deployment", "run", "etl/plain")
	if !strings.Contains(run, "View it at "+strings.TrimSuffix(srv.api, "/api")+"/runs/flow-run/") {
		t.Errorf("deployment run prints no UI link:\n%s", run)
	}

	for _, cmd := range [][]string{
		{"deployment", "ls"}, {"deployment", "inspect", "etl/plain"}, {"work-pool", "ls"}, {"work-pool", "inspect", "pool-a"},
		{"flow-run", "ls"}, {"profile", "ls"}, {"profile", "inspect"}, {"config", "view"},
	} {
		var v any
		if err := json.Unmarshal([]byte(e.mustRun(append(cmd, "--output", "json")...)), &v); err != nil {
			t.Errorf("%v -o json is not JSON: %v", cmd, err)
		}
		if err := yaml.Unmarshal([]byte(e.mustRun(append(cmd, "-o", "yaml")...)), &v); err != nil {
			t.Errorf("%v -o yaml is not YAML: %v", cmd, err)
		}
		if v == nil {
			t.Errorf("%v -o yaml is empty", cmd)
		}
		e.mustRun(cmd...)
	}
	var deps []map[string]any
	if err := json.Unmarshal([]byte(e.mustRun("deployment", "ls", "-o", "json")), &deps); err != nil || len(deps) != 2 {
		t.Fatalf("deployment ls -o json: %v %v", deps, err)
	}
	var y []map[string]any
	if err := yaml.Unmarshal([]byte(e.mustRun("deployment", "ls", "-o", "yaml")), &y); err != nil || len(y) != 2 || y[0]["name"] == nil {
		t.Fatalf("deployment ls -o yaml: %v %v", y, err)
	}

	// The table keeps one line per deployment whatever the field lengths,
	// and on an 80-column terminal no line is wider than 80.
	for _, width := range []int{0, 80} {
		e.width = width
		out := e.mustRun("deployment", "ls")
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if len(lines) != 3 || !strings.Contains(out, "rrule DTSTART:20260101T090000 RRULE:FREQ=WEEKLY") && width == 0 {
			t.Errorf("width %d: deployment ls is not a header and two rows:\n%s", width, out)
		}
		for _, l := range lines {
			if width > 0 && utf8.RuneCountInString(stripANSI(l)) > width {
				t.Errorf("line wider than %d: %q", width, l)
			}
		}
		if !strings.Contains(out, dep.ID) {
			t.Errorf("width %d: the id column was cut:\n%s", width, out)
		}
	}
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func stripANSI(s string) string { return ansi.ReplaceAllString(s, "") }

func TestTableFitsWidth(t *testing.T) {
	t.Parallel()
	tb := newTable("ID", "NAME", "NOTE")
	tb.keep[0] = true
	tb.add("0190f3a0-0000-7000-8000-000000000000", strings.Repeat("n", 70), "line one\nline two\tend")
	var b strings.Builder
	tb.render(&b, palette{}, 60)
	for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		if utf8.RuneCountInString(l) > 60 {
			t.Errorf("%q is wider than 60", l)
		}
	}
	if !strings.Contains(b.String(), "0190f3a0-0000-7000-8000-000000000000") || !strings.Contains(b.String(), "…") {
		t.Errorf("ids must stay whole and long cells end with …:\n%s", b.String())
	}
	if strings.Count(b.String(), "\n") != 2 {
		t.Errorf("a cell with newlines broke the row:\n%s", b.String())
	}
}
