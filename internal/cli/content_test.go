package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestVariableVerbs(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "server")
	e := newTestEnv(t)
	e.vars["BATON_API_URL"] = srv.api

	if out := e.mustRun("variable", "ls"); !strings.Contains(out, "No variables yet") {
		t.Errorf("empty variable ls: %q", out)
	}
	// Values are read as `prefect variable set` reads them: JSON when JSON, else text.
	for name, value := range map[string]string{"answer": "42", "flag": "true", "cfg": `{"a": [1, 2]}`, "greeting": "hello world", "quoted": `"7"`} {
		if out := e.mustRun("variable", "set", name, value, "--tag", "t1,t2"); out != "Set variable "+name+".\n" {
			t.Errorf("set %s: %q", name, out)
		}
	}
	for name, want := range map[string]string{"answer": "42", "flag": "true", "cfg": `{"a":[1,2]}`, "greeting": `"hello world"`, "quoted": `"7"`} {
		if got := strings.TrimSpace(e.mustRun("variable", "get", name)); strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(want, " ", "") {
			t.Errorf("get %s = %s, want %s", name, got, want)
		}
	}
	var v struct {
		Name  string          `json:"name"`
		Value json.RawMessage `json:"value"`
		Tags  []string        `json:"tags"`
		ID    string          `json:"id"`
	}
	if err := json.Unmarshal([]byte(e.mustRun("variable", "get", "answer", "-o", "json")), &v); err != nil || v.Name != "answer" || string(v.Value) != "42" || strings.Join(v.Tags, ",") != "t1,t2" || v.ID == "" {
		t.Errorf("get -o json: %+v %v", v, err)
	}

	// A second set without --overwrite is refused and says how; with it the
	// value changes and the tags stay.
	code, _, errs := e.run("", "variable", "set", "answer", "43")
	if code != 1 || !strings.Contains(errs, `variable "answer" already exists; pass --overwrite to change it`) {
		t.Errorf("set over an existing variable: %d %q", code, errs)
	}
	e.mustRun("variable", "set", "answer", "43", "--overwrite")
	if err := json.Unmarshal([]byte(e.mustRun("variable", "get", "answer", "-o", "json")), &v); err != nil || string(v.Value) != "43" || strings.Join(v.Tags, ",") != "t1,t2" {
		t.Errorf("after --overwrite: %+v %v", v, err)
	}

	var list []map[string]any
	if err := json.Unmarshal([]byte(e.mustRun("variable", "ls", "-o", "json")), &list); err != nil || len(list) != 5 || list[0]["name"] != "answer" {
		t.Errorf("ls -o json: %v %v", list, err)
	}
	if err := yaml.Unmarshal([]byte(e.mustRun("variable", "ls", "-o", "yaml")), &list); err != nil || len(list) != 5 {
		t.Errorf("ls -o yaml: %v %v", list, err)
	}
	if out := e.mustRun("variable", "ls"); !strings.Contains(out, "NAME") || !strings.Contains(out, `"hello world"`) || strings.Count(out, "\n") != 6 {
		t.Errorf("ls table:\n%s", out)
	}

	if out := e.mustRun("variable", "unset", "greeting"); out != "Deleted variable greeting.\n" {
		t.Errorf("unset: %q", out)
	}
	for _, args := range [][]string{{"variable", "get", "greeting"}, {"variable", "unset", "greeting"}, {"variable", "delete", "greeting"}} {
		if code, _, errs := e.run("", args...); code != 1 || !strings.Contains(errs, `no variable "greeting" (baton variable ls)`) {
			t.Errorf("%v: %d %q", args, code, errs)
		}
	}
	// The server's validation comes through as its message.
	if code, _, errs := e.run("", "variable", "set", "Bad Name", "1"); code != 1 || !strings.Contains(errs, "the server refused the request") {
		t.Errorf("invalid name: %d %q", code, errs)
	}
	if code, _, errs := e.run("", "variable", "set", "only-a-name"); code != 2 || !strings.Contains(errs, "missing VALUE") {
		t.Errorf("missing value: %d %q", code, errs)
	}
}

func TestBlockVerbs(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "server")
	e := newTestEnv(t)
	e.vars["BATON_API_URL"] = srv.api
	c, err := (&app{env: Env{Getenv: e.getenv}}).client()
	if err != nil {
		t.Fatal(err)
	}
	if out := e.mustRun("block", "ls"); !strings.Contains(out, "No blocks yet") {
		t.Errorf("empty block ls: %q", out)
	}
	// A Secret block, saved the way the Prefect client saves one.
	var typ struct {
		ID string `json:"id"`
	}
	if err := c.Do(t.Context(), "GET", "/block_types/slug/secret", nil, &typ); err != nil {
		t.Fatal(err)
	}
	var schemas []struct {
		ID string `json:"id"`
	}
	if err := c.Do(t.Context(), "POST", "/block_schemas/filter", map[string]any{"block_schemas": map[string]any{"block_type_id": map[string]any{"any_": []string{typ.ID}}}}, &schemas); err != nil || len(schemas) == 0 {
		t.Fatalf("secret schema: %v %v", schemas, err)
	}
	var doc struct {
		ID string `json:"id"`
	}
	body := map[string]any{"name": "db-password", "data": map[string]any{"value": "hunter2-s3cr3t"}, "block_schema_id": schemas[0].ID, "block_type_id": typ.ID}
	if err := c.Do(t.Context(), "POST", "/block_documents", body, &doc); err != nil {
		t.Fatal(err)
	}

	out := e.mustRun("block", "ls")
	if !strings.Contains(out, "secret/db-password") || !strings.Contains(out, doc.ID) || !strings.Contains(out, "Secret") {
		t.Errorf("block ls:\n%s", out)
	}
	var docs []map[string]any
	if err := json.Unmarshal([]byte(e.mustRun("block", "ls", "-o", "json")), &docs); err != nil || len(docs) != 1 {
		t.Errorf("block ls -o json: %v %v", docs, err)
	}
	for _, ref := range []string{"secret/db-password", doc.ID} {
		out := e.mustRun("block", "inspect", ref)
		if !strings.Contains(out, "data.value") || !strings.Contains(out, "********") || !strings.Contains(out, "/blocks/block/"+doc.ID) {
			t.Errorf("block inspect %s:\n%s", ref, out)
		}
		for _, format := range []string{"table", "json", "yaml"} {
			if out := e.mustRun("block", "inspect", ref, "-o", format); strings.Contains(out, "hunter2") {
				t.Errorf("block inspect -o %s shows the secret:\n%s", format, out)
			}
		}
	}
	if strings.Contains(e.mustRun("block", "ls", "-o", "yaml"), "hunter2") {
		t.Error("block ls shows the secret")
	}
	if code, _, errs := e.run("", "block", "inspect", "secret/nope"); code != 1 || !strings.Contains(errs, `no block "secret/nope" (baton block ls)`) {
		t.Errorf("unknown block: %d %q", code, errs)
	}
	if code, _, errs := e.run("", "block", "inspect", "just-a-name"); code != 2 || !strings.Contains(errs, "is not SLUG/NAME or a block id") {
		t.Errorf("bad reference: %d %q", code, errs)
	}
}

func TestAutomationVerbs(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "server")
	e := newTestEnv(t)
	e.vars["BATON_API_URL"] = srv.api
	c, err := (&app{env: Env{Getenv: e.getenv}}).client()
	if err != nil {
		t.Fatal(err)
	}
	if out := e.mustRun("automation", "ls"); !strings.Contains(out, "No automations yet") {
		t.Errorf("empty automation ls: %q", out)
	}
	create := func(name string, trigger map[string]any) string {
		var got struct {
			ID string `json:"id"`
		}
		body := map[string]any{"name": name, "trigger": trigger, "actions": []any{map[string]any{"type": "do-nothing"}}}
		if err := c.Do(t.Context(), "POST", "/automations/", body, &got); err != nil {
			t.Fatal(err)
		}
		return got.ID
	}
	slow := create("cancel slow runs", map[string]any{"type": "event", "posture": "Proactive", "after": []string{"prefect.flow-run.Running"},
		"expect": []string{"prefect.flow-run.Completed"}, "for_each": []string{"prefect.resource.id"}, "within": 600, "threshold": 1})
	create("on failure", map[string]any{"type": "event", "posture": "Reactive", "expect": []string{"prefect.flow-run.Failed"}, "threshold": 1})
	twin1 := create("twin", map[string]any{"type": "event", "posture": "Reactive", "expect": []string{"a"}, "threshold": 1})
	twin2 := create("twin", map[string]any{"type": "event", "posture": "Reactive", "expect": []string{"b"}, "threshold": 1})

	out := e.mustRun("automation", "ls")
	for _, want := range []string{"cancel slow runs", "proactive prefect.flow-run.Completed within 600s", "reactive prefect.flow-run.Failed", "do-nothing", slow} {
		if !strings.Contains(out, want) {
			t.Errorf("automation ls lacks %q:\n%s", want, out)
		}
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(e.mustRun("automation", "ls", "-o", "json")), &list); err != nil || len(list) != 4 || list[0]["trigger"] == nil {
		t.Errorf("automation ls -o json: %v %v", list, err)
	}

	if out := e.mustRun("automation", "pause", "cancel slow runs"); !strings.Contains(out, "Paused automation cancel slow runs ("+slow+")") {
		t.Errorf("pause: %q", out)
	}
	enabled := func(id string) bool {
		var a struct {
			Enabled bool `json:"enabled"`
		}
		if err := c.Do(t.Context(), "GET", "/automations/"+id, nil, &a); err != nil {
			t.Fatal(err)
		}
		return a.Enabled
	}
	if enabled(slow) {
		t.Error("pause left the automation enabled")
	}
	var one map[string]any
	if err := json.Unmarshal([]byte(e.mustRun("automation", "inspect", slow, "-o", "json")), &one); err != nil || one["enabled"] != false || one["name"] != "cancel slow runs" {
		t.Errorf("inspect -o json: %v %v", one, err)
	}
	e.mustRun("automation", "resume", slow)
	if !enabled(slow) {
		t.Error("resume left the automation disabled")
	}
	if out := e.mustRun("automation", "inspect", "cancel slow runs"); !strings.Contains(out, "/automations/automation/"+slow) || !strings.Contains(out, "enabled") {
		t.Errorf("inspect:\n%s", out)
	}

	// A name two automations share is refused with both ids; an id picks one.
	code, _, errs := e.run("", "automation", "pause", "twin")
	if code != 1 || !strings.Contains(errs, `2 automations are named "twin"`) || !strings.Contains(errs, twin1) || !strings.Contains(errs, twin2) {
		t.Errorf("ambiguous name: %d %q", code, errs)
	}
	e.mustRun("automation", "pause", twin2)
	if enabled(twin2) == enabled(twin1) {
		t.Error("pausing by id touched the wrong automation")
	}
	if code, _, errs := e.run("", "automation", "resume", "nope"); code != 1 || !strings.Contains(errs, `no automation "nope" (baton automation ls)`) {
		t.Errorf("unknown automation: %d %q", code, errs)
	}
}
