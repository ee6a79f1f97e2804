package automations

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestRenderTemplate(t *testing.T) {
	data := map[string]any{
		"flow_run":   object{"name": "brave-otter", "id": "6d1e1c2a-0000-4000-8000-000000000001", "state": map[string]any{"name": "Failed"}, kindKey: "prefect.flow-run", "tags": []any{"a", "b"}},
		"event":      eventValue(nowEvent("prefect.flow-run.Failed", "prefect.flow-run.6d1e1c2a-0000-4000-8000-000000000001")),
		"labels":     labelDiver(map[string]string{"prefect.resource.id": "r.1"}),
		"n":          3,
		"__ui_url__": "http://baton.test",
	}
	cases := []struct{ src, want string }{
		{"plain text", "plain text"},
		{"Run {{ flow_run.name }} is {{ flow_run.state.name }}", "Run brave-otter is Failed"},
		{"{{ flow_run.missing.deeper }}|{{ nothing.at.all }}|", "||"},
		{"{{ flow_run.missing | default('n/a') }}", "n/a"},
		{"{% if flow_run.missing %}yes{% else %}no{% endif %}", "no"},
		{"{{ flow_run.tags | join(',') }}", "a,b"},
		{"{{ event.resource.id }}", "prefect.flow-run.6d1e1c2a-0000-4000-8000-000000000001"},
		{"{{ event.resource['prefect.resource.id'] }}", "prefect.flow-run.6d1e1c2a-0000-4000-8000-000000000001"},
		{"{{ labels.prefect.resource.id }} {{ labels['prefect.resource.id'] }}", "r.1 r.1"},
		{"{{ flow_run | ui_url }}", "http://baton.test/runs/flow-run/6d1e1c2a-0000-4000-8000-000000000001"},
		{"{{ event.resource | ui_resource_events_url }}", "http://baton.test/events?resource=prefect.flow-run.6d1e1c2a-0000-4000-8000-000000000001"},
		{"{% for i in range(3) %}{{ i }}{% endfor %}", "012"},
		{"{{ flow_run.name | upper }}", "BRAVE-OTTER"},
		{"{{ 'see flow-run/6d1e1c2a-0000-4000-8000-000000000001 now' | flow_run_id }}", "6d1e1c2a-0000-4000-8000-000000000001"},
	}
	for _, tc := range cases {
		got, err := RenderTemplate(context.Background(), tc.src, data)
		if err != nil {
			t.Errorf("%q: %v", tc.src, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%q rendered %q, want %q", tc.src, got, tc.want)
		}
	}
	// tojson leaves the kind marker out.
	got, err := RenderTemplate(context.Background(), "{{ flow_run | tojson }}", data)
	if err != nil || strings.Contains(got, kindKey) || !strings.Contains(got, `"name":"brave-otter"`) {
		t.Fatalf("tojson: %q %v", got, err)
	}
}

func TestTemplateSandbox(t *testing.T) {
	bad := []struct{ src, want string }{
		{"{{ flow_run.name", "expected"},
		{"{% include 'x' %}", "include"},
		{"{% import 'x' as y %}", "import"},
		{"{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "macro"},
		{"{{ 2 ** 10 }}", "**"},
		{"{{ 'a' * 3 * 3 }}", "at most once"},
		{"{{ 'a' * 100000 }}", "larger than"},
		{strings.Repeat("{% for i in range(2) %}{% endfor %}", 11), "no more than 10 for loops"},
		{"{% for a in range(2) %}{% for b in range(2) %}{% for c in range(2) %}{% endfor %}{% endfor %}{% endfor %}", "depth of 3"},
		{strings.Repeat("x", maxTemplateLength+1), "characters"},
	}
	for _, tc := range bad {
		err := ValidateTemplate(tc.src)
		var te *TemplateError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.60q: error %v, want a TemplateError mentioning %q", tc.src, err, tc.want)
		}
	}
	// range() refuses more than 100 numbers at render time.
	if _, err := RenderTemplate(context.Background(), "{% for i in range(1000) %}{% endfor %}", nil); err == nil || !strings.Contains(err.Error(), "Range too big") {
		t.Fatalf("range(1000): %v", err)
	}
	// Go methods of context values are not reachable.
	if got, err := RenderTemplate(context.Background(), "{{ flow_run.GetItem }}", map[string]any{"flow_run": map[string]any{"a": 1}}); err != nil || got != "" {
		t.Fatalf("method leaked: %q %v", got, err)
	}
}

func TestSpecValidation(t *testing.T) {
	cases := []struct {
		name, body, field string
	}{
		{"posture required", `{"name":"x","trigger":{"type":"event"},"actions":[]}`, "trigger.posture"},
		{"bad posture", `{"name":"x","trigger":{"type":"event","posture":"Metric"},"actions":[]}`, "trigger.posture"},
		{"proactive within below 10 s", `{"name":"x","trigger":{"type":"event","posture":"Proactive","within":5},"actions":[]}`, "trigger.within"},
		{"within null", `{"name":"x","trigger":{"type":"event","posture":"Reactive","within":null},"actions":[]}`, "trigger.within"},
		{"negative within", `{"name":"x","trigger":{"type":"event","posture":"Reactive","within":-1},"actions":[]}`, "trigger.within"},
		{"unknown trigger type", `{"name":"x","trigger":{"type":"nope"},"actions":[]}`, "trigger.type"},
		{"compound require too large", `{"name":"x","trigger":{"type":"compound","require":3,"triggers":[{"posture":"Reactive"}]},"actions":[]}`, "trigger.require"},
		{"nested child error path", `{"name":"x","trigger":{"type":"sequence","triggers":[{"posture":"Reactive"},{"posture":"Sideways"}]},"actions":[]}`, "trigger.triggers[1].posture"},
		{"match must be labels", `{"name":"x","trigger":{"posture":"Reactive","match":{"a":1}},"actions":[]}`, "trigger.match.a"},
		{"unknown action", `{"name":"x","trigger":{"posture":"Reactive"},"actions":[{"type":"launch-rockets"}]}`, "actions[0].type"},
		{"selected needs an id", `{"name":"x","trigger":{"posture":"Reactive"},"actions":[{"type":"run-deployment"}]}`, "actions[0].deployment_id"},
		{"inferred forbids an id", `{"name":"x","trigger":{"posture":"Reactive"},"actions":[{"type":"pause-work-pool","source":"inferred","work_pool_id":"6d1e1c2a-0000-4000-8000-000000000001"}]}`, "actions[0].work_pool_id"},
		{"template that does not parse", `{"name":"x","trigger":{"posture":"Reactive"},"actions":[{"type":"send-notification","block_document_id":"6d1e1c2a-0000-4000-8000-000000000001","body":"{{ oops"}]}`, "actions[0].body"},
		{"bad parameter placeholder", `{"name":"x","trigger":{"posture":"Reactive"},"actions":[{"type":"run-deployment","source":"inferred","parameters":{"a":{"__prefect_kind":"jinja"}}}]}`, "actions[0].parameters"},
		{"state type", `{"name":"x","trigger":{"posture":"Reactive"},"actions":[{"type":"change-flow-run-state","state":"DONE"}]}`, "actions[0].state"},
		{"metric range", `{"name":"x","trigger":{"type":"metric","metric":{"name":"duration","operator":">","threshold":1,"range":60}},"actions":[]}`, "trigger.metric.range"},
		{"run-deployment loop", `{"name":"x","trigger":{"posture":"Reactive","expect":["prefect.flow-run.Running"]},"actions":[{"type":"run-deployment","source":"inferred"}]}`, "actions[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var in Input
			if err := json.Unmarshal([]byte(tc.body), &in); err != nil {
				t.Fatal(err)
			}
			_, err := in.Spec()
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v, want a ValidationError", err)
			}
			if ve.Field != tc.field {
				t.Fatalf("field %q (%v), want %q", ve.Field, err, tc.field)
			}
		})
	}
}

func TestSpecDefaultsFollowPrefect(t *testing.T) {
	var in Input
	_ = json.Unmarshal([]byte(`{"name":"x","trigger":{"posture":"Proactive","expect":["a","a"],"within":"PT1M"},"actions":[{"type":"send-notification","block_document_id":"6d1e1c2a-0000-4000-8000-000000000001","body":"b"},{"type":"call-webhook","block_document_id":"6d1e1c2a-0000-4000-8000-000000000001","payload":{"k":"v"}}]}`), &in)
	s, err := in.Spec()
	if err != nil {
		t.Fatal(err)
	}
	if !s.Enabled || s.Trigger.Type != "event" || s.Trigger.Threshold != 1 || *s.Trigger.Within != 60 || len(s.Trigger.Expect) != 1 {
		t.Fatalf("trigger %+v", s.Trigger)
	}
	if s.Actions[0].Subject != "Prefect automated notification" || s.Actions[1].Payload != "{\n  \"k\": \"v\"\n}" {
		t.Fatalf("actions %+v", s.Actions)
	}
	in = Input{}
	_ = json.Unmarshal([]byte(`{"name":"x","trigger":{"posture":"Proactive"},"actions":[]}`), &in)
	if s, _ = in.Spec(); *s.Trigger.Within != 10 {
		t.Fatalf("proactive within defaults to %v, want 10", *s.Trigger.Within)
	}
}

func TestRenderParameters(t *testing.T) {
	data := map[string]any{"event": eventValue(nowEvent("go", "customer.42"))}
	vars := func(name string) (any, bool, error) {
		if name == "region" {
			return "eu", true, nil
		}
		return nil, false, nil
	}
	raw := json.RawMessage(`{"who":"{{ event.resource.id }}","greeting":"hi {{ event.resource.id }}","n":{"__prefect_kind":"json","value":"[1,2]"},
		"region":{"__prefect_kind":"workspace_variable","variable_name":"region"},"keep":5,"nested":{"list":["{{ event.event }}", 1]}}`)
	got, err := renderParameters(context.Background(), raw, data, vars)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	want := `{"greeting":"hi customer.42","keep":5,"n":[1,2],"nested":{"list":["go",1]},"region":"eu","who":"customer.42"}`
	if string(b) != want {
		t.Fatalf("rendered %s\nwant     %s", b, want)
	}
	if _, err := renderParameters(context.Background(), json.RawMessage(`{"r":{"__prefect_kind":"workspace_variable","variable_name":"nope"}}`), data, vars); err == nil || !strings.Contains(err.Error(), "Variable 'nope' not found") {
		t.Fatalf("missing variable: %v", err)
	}
}

func TestFnmatch(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"prefect.flow-run.*", "prefect.flow-run.Failed", true},
		{"prefect.flow-run.*", "prefect.flow-run.", true},
		{"prefect.*.Failed", "prefect.task-run.Failed", true},
		{"a?c", "abc", true},
		{"a[bc]d", "acd", true},
		{"a[!bc]d", "acd", false},
		{"abc", "abcd", false},
		{"*", "", true},
	}
	for _, tc := range cases {
		if got := fnmatch(tc.p, tc.s); got != tc.want {
			t.Errorf("fnmatch(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}
