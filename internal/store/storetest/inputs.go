package storetest

import (
	"context"
	"testing"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// testFlowRunInputs covers flow-run inputs (unique keys per run, prefix
// filter, cascade with the run) and saved searches (upsert by name).
func testFlowRunInputs(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := flow(t, s, ws, "inputs")
	r, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "r"}})
	must(t, err)
	for _, k := range []string{"paused-1-schema", "paused-1-response", "other"} {
		_, err := s.FlowRunInputCreate(ctx, ws, model.FlowRunInput{FlowRunID: r.ID, Key: k, Value: `{"k":"` + k + `"}`})
		must(t, err)
	}
	_, err = s.FlowRunInputCreate(ctx, ws, model.FlowRunInput{FlowRunID: r.ID, Key: "other", Value: "{}"})
	wantErr(t, err, store.ErrConflict)
	_, err = s.FlowRunInputCreate(ctx, ws, model.FlowRunInput{FlowRunID: model.NewID(), Key: "x", Value: "{}"})
	wantErr(t, err, store.ErrNotFound)
	got, err := s.FlowRunInputGet(ctx, ws, r.ID, "other")
	must(t, err)
	if got.Value != `{"k":"other"}` || got.FlowRunID != r.ID {
		t.Fatalf("get = %+v", got)
	}
	list, err := s.FlowRunInputFilter(ctx, ws, r.ID, "paused-1", 10, []string{"paused-1-schema"})
	must(t, err)
	if len(list) != 1 || list[0].Key != "paused-1-response" {
		t.Fatalf("filter = %+v", list)
	}
	_, err = s.FlowRunInputGet(ctx, model.NewID(), r.ID, "other")
	wantErr(t, err, store.ErrNotFound)
	must(t, s.FlowRunInputDelete(ctx, ws, r.ID, "other"))
	wantErr(t, s.FlowRunInputDelete(ctx, ws, r.ID, "other"), store.ErrNotFound)

	a, created, err := s.SavedSearchUpsert(ctx, ws, "late runs", []model.SavedSearchFilter{{Object: "flow_run", Property: "state", Type: "state", Operation: "any", Value: []any{"Late"}}})
	must(t, err)
	b, again, err := s.SavedSearchUpsert(ctx, ws, "late runs", nil)
	must(t, err)
	if !created || again || b.ID != a.ID || len(b.Filters) != 0 {
		t.Fatalf("upsert by name: %+v %v / %+v %v", a, created, b, again)
	}
	all, err := s.SavedSearchList(ctx, ws, 0, 10)
	must(t, err)
	if len(all) != 1 {
		t.Fatalf("list = %+v", all)
	}
	must(t, s.SavedSearchDelete(ctx, ws, a.ID))
	_, err = s.SavedSearchGet(ctx, ws, a.ID)
	wantErr(t, err, store.ErrNotFound)
}
