package events

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
)

func mustFilter(t testing.TB, s string) model.EventFilter {
	t.Helper()
	var f model.EventFilter
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		t.Fatalf("decode filter %s: %v", s, err)
	}
	return f
}

func TestMatches(t *testing.T) {
	t.Parallel()
	run := model.MustID("66666666-6666-4666-8666-666666666666")
	ev := taskRunEvent(run, model.StateRunning, "Running", t0)
	ev.Resource["prefect.deployment-name"] = "etl-nightly"
	ts := func(d time.Duration) string { return `"` + t0.Add(d).Format(time.RFC3339Nano) + `"` }

	tests := []struct {
		name   string
		filter string
		want   bool
	}{
		{"empty", `{}`, true},
		{"since before", `{"occurred":{"since":` + ts(-time.Minute) + `}}`, true},
		{"since equal (inclusive)", `{"occurred":{"since":` + ts(0) + `}}`, true},
		{"since after", `{"occurred":{"since":` + ts(time.Second) + `}}`, false},
		{"until after", `{"occurred":{"until":` + ts(time.Second) + `}}`, true},
		{"until equal (inclusive)", `{"occurred":{"until":` + ts(0) + `}}`, true},
		{"until before", `{"occurred":{"until":` + ts(-time.Second) + `}}`, false},
		{"prefix hit", `{"event":{"prefix":["prefect.flow-run.","prefect.task-run."]}}`, true},
		{"prefix miss", `{"event":{"prefix":["prefect.flow-run."]}}`, false},
		{"exclude prefix", `{"event":{"exclude_prefix":["prefect.task-run"]}}`, false},
		{"exclude prefix miss", `{"event":{"exclude_prefix":["prefect.worker"]}}`, true},
		{"name exact", `{"event":{"name":["prefect.task-run.Running"]}}`, true},
		{"name is not prefix", `{"event":{"name":["prefect.task-run.Run"]}}`, false},
		{"exclude name", `{"event":{"exclude_name":["prefect.task-run.Running"]}}`, false},
		{"empty lists are no constraint", `{"event":{"prefix":[],"name":[]}}`, true},
		{"resource id", `{"resource":{"id":["prefect.task-run.` + run.String() + `"]}}`, true},
		{"resource id miss", `{"resource":{"id":["prefect.task-run.x"]}}`, false},
		{"resource id prefix", `{"resource":{"id_prefix":["prefect.task-run."]}}`, true},
		{"resource id prefix miss", `{"resource":{"id_prefix":["prefect.flow-run."]}}`, false},
		{"resource label", `{"resource":{"labels":{"prefect.state-type":["RUNNING","PENDING"]}}}`, true},
		{"resource label miss", `{"resource":{"labels":{"prefect.state-type":["COMPLETED"]}}}`, false},
		{"resource label wildcard", `{"resource":{"labels":{"prefect.deployment-name":["etl-*"]}}}`, true},
		{"resource label wildcard miss", `{"resource":{"labels":{"prefect.deployment-name":["elt-*"]}}}`, false},
		{"resource label star matches present", `{"resource":{"labels":{"prefect.deployment-name":["*"]}}}`, true},
		{"resource label star needs presence", `{"resource":{"labels":{"missing":["*"]}}}`, false},
		{"resource label negation", `{"resource":{"labels":{"prefect.state-type":["!COMPLETED"]}}}`, true},
		{"resource label negation hit", `{"resource":{"labels":{"prefect.state-type":["!RUNNING"]}}}`, false},
		{"negation of absent label", `{"resource":{"labels":{"missing":["!x"]}}}`, true},
		{"related object role", `{"related":{"role":["flow-run"]}}`, true},
		{"related object role miss", `{"related":{"role":["deployment"]}}`, false},
		{"related id", `{"related":{"id":["prefect.flow-run.` + flowRun1.String() + `"]}}`, true},
		{"related id prefix", `{"related":{"id_prefix":["prefect.tag."]}}`, true},
		{"related criteria on one resource", `{"related":{"role":["tag"],"id":["prefect.flow-run.` + flowRun1.String() + `"]}}`, false},
		{"related labels", `{"related":{"labels":{"prefect.resource.name":["crimson-*"]}}}`, true},
		{"related list all must match", `{"related":[{"role":["tag"]},{"role":["flow"]}]}`, true},
		{"related list one fails", `{"related":[{"role":["tag"]},{"role":["work-pool"]}]}`, false},
		{"related resources_in_roles", `{"related":{"resources_in_roles":[["prefect.tag.t1","tag"]]}}`, true},
		{"related resources_in_roles wrong role", `{"related":{"resources_in_roles":[["prefect.tag.t1","flow"]]}}`, false},
		{"related null", `{"related":null}`, true},
		{"any_resource primary", `{"any_resource":{"id":["prefect.task-run.` + run.String() + `"]}}`, true},
		{"any_resource related", `{"any_resource":{"id_prefix":["prefect.flow."]}}`, true},
		{"any_resource list", `{"any_resource":[{"id_prefix":["prefect.flow."]},{"id_prefix":["prefect.tag."]}]}`, true},
		{"any_resource miss", `{"any_resource":[{"id":["prefect.work-pool.x"]}]}`, false},
		{"any_resource labels", `{"any_resource":{"labels":{"prefect.orchestration":["client"]}}}`, true},
		{"id hit", `{"id":{"id":["` + ev.ID.String() + `"]}}`, true},
		{"id miss", `{"id":{"id":["` + model.NewID().String() + `"]}}`, false},
		{"id empty list", `{"id":{"id":[]}}`, true},
		{"text name", `{"text":{"query":"task-run"}}`, true},
		{"text label value case-insensitive", `{"text":{"query":"CRIMSON"}}`, true},
		{"text payload", `{"text":{"query":"b-abc123"}}`, true},
		{"text or", `{"text":{"query":"nothere running"}}`, true},
		{"text miss", `{"text":{"query":"nothere"}}`, false},
		{"text exclude", `{"text":{"query":"running -crimson"}}`, false},
		{"text bang exclude", `{"text":{"query":"!nothere"}}`, true},
		{"text required", `{"text":{"query":"+running +nothere"}}`, false},
		{"text phrase", `{"text":{"query":"\"task-run.Running\""}}`, true},
		{"text phrase miss", `{"text":{"query":"\"running task\""}}`, false},
		{"text empty", `{"text":{"query":"  "}}`, true},
		{"combined all hold", `{"event":{"prefix":["prefect.task-run."]},"related":{"role":["flow-run"]},"occurred":{"since":` + ts(-time.Hour) + `,"until":` + ts(time.Hour) + `}}`, true},
		{"combined one fails", `{"event":{"prefix":["prefect.task-run."]},"related":{"role":["deployment"]}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := mustFilter(t, tt.filter)
			if got := Matches(&f, &ev); got != tt.want {
				t.Errorf("Matches(%s) = %v, want %v", tt.filter, got, tt.want)
			}
		})
	}
	if !Matches(nil, &ev) {
		t.Error("a nil filter must match")
	}
}

func TestResourceFiltersJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{`{"related":null}`, 0, false},
		{`{}`, 0, false},
		{`{"related":{"role":["a"]}}`, 1, false},
		{`{"related":[{"role":["a"]},{"id":["b"]}]}`, 2, false},
		{`{"related":[]}`, 0, false},
		{`{"related":"flow"}`, 0, true},
		{`{"related":3}`, 0, true},
		{`{"related":[3]}`, 0, true},
	}
	for _, tt := range tests {
		var f model.EventFilter
		err := json.Unmarshal([]byte(tt.in), &f)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && len(f.Related) != tt.want {
			t.Errorf("%s: %d related filters, want %d", tt.in, len(f.Related), tt.want)
		}
	}
	// The list form survives a round trip.
	f := mustFilter(t, `{"any_resource":{"id":["x"]}}`)
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	g := mustFilter(t, string(b))
	if len(g.AnyResource) != 1 || g.AnyResource[0].ID[0] != "x" {
		t.Errorf("round trip lost any_resource: %s", b)
	}
}

func TestParseTextQuery(t *testing.T) {
	t.Parallel()
	q := parseTextQuery(`error -debug !trace +Prod "connection timeout" "say \"hi\""`)
	want := textQuery{
		include:  []string{"error", "connection timeout", `say "hi"`},
		required: []string{"prod"},
		exclude:  []string{"debug", "trace"},
	}
	if !equalStrings(q.include, want.include) || !equalStrings(q.required, want.required) || !equalStrings(q.exclude, want.exclude) {
		t.Errorf("parseTextQuery = %+v, want %+v", q, want)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzEventFilterJSON checks that any filter body either fails to decode or
// decodes into a filter that Matches can evaluate, and that a decoded filter
// re-encodes into JSON that decodes to a filter with the same verdict.
func FuzzEventFilterJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"related":{"role":["flow-run"]}}`, `{"related":[{"id":["a"]},{"labels":{"k":["v*","!w"]}}]}`,
		`{"any_resource":[{"id_prefix":["prefect."]}]}`, `{"text":{"query":"\"a b\" -c +d"}}`,
		`{"occurred":{"since":"2026-03-01T11:00:00Z","until":"2026-03-01 13:00:00+00:00"}}`,
		`{"event":{"prefix":["prefect.task-run."],"exclude_name":["x"]},"id":{"id":["66666666-6666-4666-8666-666666666666"]}}`,
		`{"resource":{"labels":{"prefect.state-type":["*"]},"distinct":true},"order":"ASC"}`,
	} {
		f.Add(s)
	}
	ev := taskRunEvent(model.MustID("66666666-6666-4666-8666-666666666666"), model.StateRunning, "Running", t0)
	f.Fuzz(func(t *testing.T, s string) {
		var flt model.EventFilter
		if err := json.Unmarshal([]byte(s), &flt); err != nil {
			return
		}
		got := Matches(&flt, &ev)
		b, err := json.Marshal(flt)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var again model.EventFilter
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("re-decode %s: %v", b, err)
		}
		if Matches(&again, &ev) != got {
			t.Fatalf("verdict changed after round trip of %q via %s", s, b)
		}
	})
}

// FuzzDecodeEvent checks that arbitrary frames never panic the decoder and
// that accepted events satisfy the validation rules and convert (or are
// rejected) by the recorder without panicking.
func FuzzDecodeEvent(f *testing.F) {
	good, _ := json.Marshal(taskRunEvent(model.NewID(), model.StateCompleted, "Completed", t0))
	f.Add(string(good))
	f.Add(`{"id":"66666666-6666-4666-8666-666666666666","occurred":"2026-03-01T12:00:00Z","event":"prefect.task-run.x","resource":{"prefect.resource.id":"prefect.task-run.1","prefect.orchestration":"client"},"payload":{"validated_state":{"type":"RUNNING"},"task_run":{"run_count":"x"}}}`)
	f.Add(`{"id":null}`)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := DecodeEvent([]byte(s))
		if err != nil {
			return
		}
		if verr := Validate(&e); verr != nil {
			t.Fatalf("DecodeEvent accepted an invalid event: %v", verr)
		}
		if e.Payload == nil || e.Related == nil {
			t.Fatal("DecodeEvent must normalise payload and related")
		}
		if IsClientTaskRunEvent(&e) {
			_, _ = TaskRunRecordFromEvent(&e)
		}
	})
}
