package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func varNames(vs []model.Variable) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.Name)
	}
	return out
}

func testVariables(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, err := s.VariableCreate(ctx, ws, model.VariableCreate{Name: "alpha", Value: raw(`{"k":[1,2]}`), Tags: []string{"x", "y"}})
	must(t, err)
	if a.ID.IsNil() || a.Created.IsZero() || string(a.Value) != `{"k":[1,2]}` || len(a.Tags) != 2 {
		t.Fatalf("created = %+v", a)
	}
	b, err := s.VariableCreate(ctx, ws, model.VariableCreate{Name: "beta", Value: raw(`"text"`)})
	must(t, err)
	if b.Tags == nil {
		t.Fatal("tags must be [] not nil")
	}
	_, err = s.VariableCreate(ctx, ws, model.VariableCreate{Name: "alpha", Value: raw(`1`)})
	wantErr(t, err, store.ErrConflict)

	got, err := s.VariableGet(ctx, ws, store.RefID(a.ID))
	must(t, err)
	if got.Name != "alpha" || string(got.Value) != `{"k":[1,2]}` {
		t.Fatalf("get by id = %+v", got)
	}
	got, err = s.VariableGet(ctx, ws, store.RefName("beta"))
	must(t, err)
	if got.ID != b.ID || string(got.Value) != `"text"` {
		t.Fatalf("get by name = %+v", got)
	}
	_, err = s.VariableGet(ctx, ws, store.RefName("nope"))
	wantErr(t, err, store.ErrNotFound)
	_, err = s.VariableGet(ctx, ws, store.RefID(model.NewID()))
	wantErr(t, err, store.ErrNotFound)

	list, err := s.VariableList(ctx, ws, model.VariableQuery{})
	must(t, err)
	if names := varNames(list); len(names) != 2 || names[0] != "alpha" || names[1] != "beta" {
		t.Fatalf("default sort NAME_ASC = %v", names)
	}
	list, err = s.VariableList(ctx, ws, model.VariableQuery{Sort: "NAME_DESC", Limit: 1})
	must(t, err)
	if names := varNames(list); len(names) != 1 || names[0] != "beta" {
		t.Fatalf("NAME_DESC limit 1 = %v", names)
	}
	list, err = s.VariableList(ctx, ws, model.VariableQuery{Sort: "NAME_ASC", Offset: 1})
	must(t, err)
	sameSet(t, "offset 1", varNames(list), []string{"beta"})
	for _, tc := range []struct {
		f    model.VariableFilter
		want []string
	}{
		{model.VariableFilter{Name: &model.NameFilter{Like: ptr("LPH")}}, []string{"alpha"}},
		{model.VariableFilter{Name: &model.NameFilter{Any: []string{"beta", "zzz"}}}, []string{"beta"}},
		{model.VariableFilter{ID: &model.IDFilter{Any: []model.ID{a.ID}}}, []string{"alpha"}},
		{model.VariableFilter{Tags: &model.TagsFilter{All: []string{"x", "y"}}}, []string{"alpha"}},
		{model.VariableFilter{Tags: &model.TagsFilter{IsNull: ptr(true)}}, []string{"beta"}},
		{model.VariableFilter{Operator: "or_", Tags: &model.TagsFilter{All: []string{"x"}}, Name: &model.NameFilter{Any: []string{"beta"}}}, []string{"alpha", "beta"}},
	} {
		list, err := s.VariableList(ctx, ws, model.VariableQuery{Variables: &tc.f})
		must(t, err)
		sameSet(t, "variable filter", varNames(list), tc.want)
		n, err := s.VariableCount(ctx, ws, &tc.f)
		must(t, err)
		if n != len(tc.want) {
			t.Errorf("count = %d, want %d", n, len(tc.want))
		}
	}

	// Update: only the fields set; by id and by name; rename conflicts.
	time.Sleep(2 * time.Millisecond)
	up, err := s.VariableUpdate(ctx, ws, store.RefName("beta"), model.VariableUpdate{Value: raw(`null`)})
	must(t, err)
	if string(up.Value) != "null" || up.Name != "beta" || !up.Updated.After(b.Updated.Time) {
		t.Fatalf("update value = %+v", up)
	}
	up, err = s.VariableUpdate(ctx, ws, store.RefID(b.ID), model.VariableUpdate{Name: ptr("gamma"), Tags: &[]string{"z"}})
	must(t, err)
	if up.Name != "gamma" || string(up.Value) != "null" || len(up.Tags) != 1 {
		t.Fatalf("rename = %+v", up)
	}
	_, err = s.VariableUpdate(ctx, ws, store.RefID(b.ID), model.VariableUpdate{Name: ptr("alpha")})
	wantErr(t, err, store.ErrConflict)
	_, err = s.VariableUpdate(ctx, ws, store.RefName("beta"), model.VariableUpdate{})
	wantErr(t, err, store.ErrNotFound)
	list, err = s.VariableList(ctx, ws, model.VariableQuery{Sort: "UPDATED_DESC"})
	must(t, err)
	if names := varNames(list); names[0] != "gamma" {
		t.Fatalf("UPDATED_DESC = %v", names)
	}

	must(t, s.VariableDelete(ctx, ws, store.RefName("gamma")))
	wantErr(t, s.VariableDelete(ctx, ws, store.RefName("gamma")), store.ErrNotFound)
	must(t, s.VariableDelete(ctx, ws, store.RefID(a.ID)))
	wantErr(t, s.VariableDelete(ctx, ws, store.RefID(a.ID)), store.ErrNotFound)
	n, err := s.VariableCount(ctx, ws, nil)
	must(t, err)
	if n != 0 {
		t.Fatalf("count after deletes = %d", n)
	}

	// Another workspace neither sees nor blocks the names.
	{
		other := otherWorkspace(t, s, "vars")
		mine, err := s.VariableCreate(ctx, ws, model.VariableCreate{Name: "shared", Value: raw(`1`)})
		must(t, err)
		_, err = s.VariableCreate(ctx, other.ID, model.VariableCreate{Name: "shared", Value: raw(`2`)})
		must(t, err)
		_, err = s.VariableGet(ctx, other.ID, store.RefID(mine.ID))
		wantErr(t, err, store.ErrNotFound)
		wantErr(t, s.VariableDelete(ctx, other.ID, store.RefID(mine.ID)), store.ErrNotFound)
		_, err = s.VariableUpdate(ctx, other.ID, store.RefID(mine.ID), model.VariableUpdate{Value: raw(`3`)})
		wantErr(t, err, store.ErrNotFound)
		got, err := s.VariableGet(ctx, ws, store.RefName("shared"))
		must(t, err)
		if string(got.Value) != "1" {
			t.Fatalf("other workspace changed mine: %s", got.Value)
		}
	}
}

func artifactIDs(as []model.Artifact) []model.ID {
	out := []model.ID{}
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func testArtifacts(t *testing.T, s store.Store) {
	ctx := context.Background()
	fx := newRunFixture(t, s)
	mk := func(key string, typ string, data string, fr *model.ID, tr *model.ID) model.Artifact {
		t.Helper()
		in := model.ArtifactCreate{Type: ptr(typ), Data: raw(data), FlowRunID: fr, TaskRunID: tr, Metadata: map[string]string{"m": "v"}}
		if key != "" {
			in.Key = ptr(key)
		}
		a, err := s.ArtifactCreate(ctx, ws, in)
		must(t, err)
		time.Sleep(2 * time.Millisecond) // distinct created times
		return a
	}
	r1, r2, t1 := fx.r1.ID, fx.r2.ID, fx.t1.ID
	a1 := mk("report", "markdown", `"# one"`, &r1, nil)
	a2 := mk("report", "markdown", `"# two"`, &r2, nil)
	a3 := mk("", "table", `[{"a":1}]`, &r1, &t1)
	a4 := mk("prog", "progress", `42.5`, nil, nil)

	got, err := s.ArtifactGet(ctx, ws, a1.ID)
	must(t, err)
	if *got.Key != "report" || string(got.Data) != `"# one"` || got.Metadata["m"] != "v" || *got.FlowRunID != r1 {
		t.Fatalf("get = %+v", got)
	}
	_, err = s.ArtifactGet(ctx, ws, model.NewID())
	wantErr(t, err, store.ErrNotFound)

	latest, err := s.ArtifactLatest(ctx, ws, "report")
	must(t, err)
	if latest.LatestID != a2.ID || string(latest.Data) != `"# two"` || latest.Key != "report" {
		t.Fatalf("latest = %+v", latest)
	}
	_, err = s.ArtifactLatest(ctx, ws, "nope")
	wantErr(t, err, store.ErrNotFound)

	check := func(what string, q model.ArtifactQuery, want ...model.ID) {
		t.Helper()
		list, err := s.ArtifactList(ctx, ws, q)
		must(t, err)
		g := artifactIDs(list)
		if len(g) != len(want) {
			t.Fatalf("%s: got %v, want %v", what, g, want)
		}
		for i := range g {
			if g[i] != want[i] && q.Sort != "" {
				t.Fatalf("%s: got %v, want %v (in order)", what, g, want)
			}
		}
		n, err := s.ArtifactCount(ctx, ws, q)
		must(t, err)
		if q.Limit == 0 && n != len(want) {
			t.Fatalf("%s: count %d, want %d", what, n, len(want))
		}
	}
	check("all by created", model.ArtifactQuery{Sort: "CREATED_DESC"}, a4.ID, a3.ID, a2.ID, a1.ID)
	check("key any", model.ArtifactQuery{Sort: "CREATED_DESC", Artifacts: &model.ArtifactFilter{Key: &model.ArtifactKeyFilter{Any: []string{"report"}}}}, a2.ID, a1.ID)
	check("key like", model.ArtifactQuery{Artifacts: &model.ArtifactFilter{Key: &model.ArtifactKeyFilter{Like: ptr("ROG")}}}, a4.ID)
	check("key exists false", model.ArtifactQuery{Artifacts: &model.ArtifactFilter{Key: &model.ArtifactKeyFilter{Exists: ptr(false)}}}, a3.ID)
	check("type not_any", model.ArtifactQuery{Sort: "CREATED_DESC", Artifacts: &model.ArtifactFilter{Type: &model.StringsFilter{NotAny: []string{"markdown"}}}}, a4.ID, a3.ID)
	check("flow_run_id", model.ArtifactQuery{Sort: "CREATED_DESC", Artifacts: &model.ArtifactFilter{FlowRunID: &model.IDFilter{Any: []model.ID{r1}}}}, a3.ID, a1.ID)
	check("task_run_id", model.ArtifactQuery{Artifacts: &model.ArtifactFilter{TaskRunID: &model.IDFilter{Any: []model.ID{t1}}}}, a3.ID)
	check("flow_runs filter", model.ArtifactQuery{Sort: "CREATED_DESC", FlowRuns: &model.FlowRunFilter{ID: &model.IDFilter{Any: []model.ID{r2}}}}, a2.ID)
	check("task_runs filter", model.ArtifactQuery{TaskRuns: &model.TaskRunFilter{Name: &model.NameFilter{Any: []string{fx.t1.Name}}}}, a3.ID)
	check("flows filter", model.ArtifactQuery{Sort: "CREATED_DESC", Flows: &model.FlowFilter{Name: &model.NameFilter{Any: []string{fx.f1.Name}}}}, a3.ID, a1.ID) // r1 is f1's, r2 is f2's
	check("key asc + limit", model.ArtifactQuery{Sort: "KEY_ASC", Limit: 1, Artifacts: &model.ArtifactFilter{Key: &model.ArtifactKeyFilter{Exists: ptr(true)}}}, a4.ID)
	check("key desc + offset", model.ArtifactQuery{Sort: "KEY_DESC", Limit: 5, Offset: 2, Artifacts: &model.ArtifactFilter{Key: &model.ArtifactKeyFilter{Exists: ptr(true)}}}, a4.ID)

	cols, err := s.ArtifactLatestList(ctx, ws, model.ArtifactQuery{Sort: "KEY_ASC"})
	must(t, err)
	if len(cols) != 2 || cols[0].Key != "prog" || cols[1].Key != "report" || cols[1].LatestID != a2.ID {
		t.Fatalf("latest list = %+v", cols)
	}
	n, err := s.ArtifactLatestCount(ctx, ws, model.ArtifactQuery{Artifacts: &model.ArtifactFilter{LatestID: &model.IDFilter{Any: []model.ID{a2.ID}}}})
	must(t, err)
	if n != 1 {
		t.Fatalf("latest count by latest_id = %d", n)
	}

	// Updating the latest artifact updates its collection; an older one not.
	must(t, s.ArtifactUpdate(ctx, ws, a2.ID, model.ArtifactUpdate{Data: raw(`"# two, edited"`), Description: ptr("d")}))
	latest, err = s.ArtifactLatest(ctx, ws, "report")
	must(t, err)
	if string(latest.Data) != `"# two, edited"` || *latest.Description != "d" {
		t.Fatalf("collection after update of latest = %+v", latest)
	}
	must(t, s.ArtifactUpdate(ctx, ws, a1.ID, model.ArtifactUpdate{Data: raw(`"# one, edited"`)}))
	latest, err = s.ArtifactLatest(ctx, ws, "report")
	must(t, err)
	if string(latest.Data) != `"# two, edited"` {
		t.Fatalf("older update leaked into the collection: %+v", latest)
	}
	wantErr(t, s.ArtifactUpdate(ctx, ws, model.NewID(), model.ArtifactUpdate{}), store.ErrNotFound)

	// Deleting the latest moves the collection back; deleting the last of
	// a key removes it.
	must(t, s.ArtifactDelete(ctx, ws, a2.ID))
	latest, err = s.ArtifactLatest(ctx, ws, "report")
	must(t, err)
	if latest.LatestID != a1.ID || string(latest.Data) != `"# one, edited"` {
		t.Fatalf("collection after deleting the latest = %+v", latest)
	}
	must(t, s.ArtifactDelete(ctx, ws, a1.ID))
	_, err = s.ArtifactLatest(ctx, ws, "report")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.ArtifactDelete(ctx, ws, a1.ID), store.ErrNotFound)
	must(t, s.ArtifactDelete(ctx, ws, a3.ID))

	{
		other := otherWorkspace(t, s, "arts")
		_, err = s.ArtifactGet(ctx, other.ID, a4.ID)
		wantErr(t, err, store.ErrNotFound)
		_, err = s.ArtifactLatest(ctx, other.ID, "prog")
		wantErr(t, err, store.ErrNotFound)
		wantErr(t, s.ArtifactDelete(ctx, other.ID, a4.ID), store.ErrNotFound)
		wantErr(t, s.ArtifactUpdate(ctx, other.ID, a4.ID, model.ArtifactUpdate{Data: raw(`1`)}), store.ErrNotFound)
		// The same key in another workspace is its own collection.
		_, err = s.ArtifactCreate(ctx, other.ID, model.ArtifactCreate{Key: ptr("prog"), Data: raw(`1`)})
		must(t, err)
		mine, err := s.ArtifactLatest(ctx, ws, "prog")
		must(t, err)
		if mine.LatestID != a4.ID {
			t.Fatalf("other workspace moved my collection: %+v", mine)
		}
		n, err := s.ArtifactCount(ctx, other.ID, model.ArtifactQuery{})
		must(t, err)
		if n != 1 {
			t.Fatalf("other workspace sees %d artifacts", n)
		}
	}
}
