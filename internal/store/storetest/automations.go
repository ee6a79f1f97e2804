package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

func testAutomation(name string, created time.Duration) model.Automation {
	within := model.Duration(0)
	return model.Automation{ID: model.NewID(), Created: at(created), Updated: at(created), AutomationSpec: model.AutomationSpec{
		Name: name, Enabled: true, Tags: []string{},
		Trigger: model.Trigger{Type: model.TriggerEvent, ID: model.NewID(), Posture: model.PostureReactive, Threshold: 1, Within: &within, Expect: []string{"x"}},
		Actions: []model.Action{{Type: model.ActionDoNothing}}, ActionsOnTrigger: []model.Action{}, ActionsOnResolve: []model.Action{},
	}}
}

func lifecycle(a model.Automation, action string) model.Event {
	return model.Event{ID: model.NewID(), Occurred: at(0), Event: "prefect.automation." + action,
		Resource: map[string]string{"prefect.resource.id": "prefect.automation." + a.ID.String()}}
}

func automationEvents(t *testing.T, s store.Store, a model.Automation) []string {
	t.Helper()
	f := model.EventFilter{Order: "ASC", Resource: &model.ResourceFilter{ID: []string{"prefect.automation." + a.ID.String()}}}
	page, err := s.EventList(context.Background(), ws, f, 50, 0)
	must(t, err)
	var out []string
	for _, e := range page.Events {
		out = append(out, e.Event)
	}
	return out
}

func testAutomations(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := testAutomation("b-first", 0)
	dep := "prefect.deployment." + model.NewID().String()
	must(t, s.AutomationCreate(ctx, ws, store.AutomationWrite{Automation: a, Owner: dep, Events: []model.Event{lifecycle(a, "created")}}))
	b := testAutomation("a-second", time.Minute)
	must(t, s.AutomationCreate(ctx, ws, store.AutomationWrite{Automation: b, Related: []string{dep}}))

	got, err := s.AutomationGet(ctx, ws, a.ID)
	must(t, err)
	if got.Name != "b-first" || got.Trigger.Expect[0] != "x" || len(got.Actions) != 1 {
		t.Fatalf("read back %+v", got)
	}
	_, err = s.AutomationGet(ctx, ws, model.NewID())
	wantErr(t, err, store.ErrNotFound)
	if evs := automationEvents(t, s, a); len(evs) != 1 || evs[0] != "prefect.automation.created" {
		t.Fatalf("create wrote events %v", evs)
	}

	list, err := s.AutomationList(ctx, ws)
	must(t, err)
	if len(list) != 2 || list[0].Name != "a-second" {
		t.Fatalf("list %v", list)
	}

	related, err := s.AutomationsRelated(ctx, ws, dep, false)
	must(t, err)
	if len(related) != 2 {
		t.Fatalf("related to the deployment: %d, want 2", len(related))
	}
	owned, err := s.AutomationsRelated(ctx, ws, dep, true)
	must(t, err)
	if len(owned) != 1 || owned[0].ID != a.ID {
		t.Fatalf("owned by the deployment: %v", owned)
	}

	v1, err := s.AutomationsVersion(ctx)
	must(t, err)
	updated, err := s.AutomationUpdate(ctx, ws, a.ID, func(x *model.Automation) ([]model.Event, error) {
		x.Enabled = false
		x.Updated = at(2 * time.Minute)
		return []model.Event{lifecycle(*x, "updated")}, nil
	})
	must(t, err)
	if updated.Enabled {
		t.Fatal("update not applied")
	}
	v2, err := s.AutomationsVersion(ctx)
	must(t, err)
	if v1 == v2 {
		t.Fatal("version did not change with an update")
	}

	// Engine state: position, buckets, child firings, trigger states,
	// queued actions, events; state of an automation that does not exist
	// is not written.
	pos := int64(42)
	ghost := model.NewID()
	bucket := store.AutomationBucket{BucketKey: store.BucketKey{Workspace: ws, Automation: a.ID, Trigger: a.Trigger.ID, Key: `["r"]`},
		Start: base, End: base.Add(time.Minute), Count: 2, LastEvent: json.RawMessage(`{"id":"x"}`)}
	firing := store.AutomationChildFiring{ChildFiringKey: store.ChildFiringKey{Workspace: ws, Automation: a.ID, Parent: model.NewID(), Child: model.NewID()},
		FiringID: model.NewID(), FiredAt: base, Firing: json.RawMessage(`{"id":"f"}`)}
	action := store.AutomationAction{Workspace: ws, ID: model.NewID(), Automation: a.ID, Status: store.ActionPending, NextAttempt: base, Created: base, Body: json.RawMessage(`{"a":1}`)}
	triggered := lifecycle(a, "triggered")
	must(t, s.AutomationStateCommit(ctx, store.AutomationCommit{
		Position: &pos,
		Buckets: []store.AutomationBucket{bucket,
			{BucketKey: store.BucketKey{Workspace: ws, Automation: ghost, Trigger: model.NewID(), Key: "[]"}, Start: base, End: base}},
		ChildFirings:  []store.AutomationChildFiring{firing},
		TriggerStates: []store.AutomationTriggerState{{TriggerStateKey: store.TriggerStateKey{Workspace: ws, Automation: a.ID, Trigger: a.Trigger.ID}, State: json.RawMessage(`{"breaching":true}`)}},
		Actions:       []store.AutomationAction{action},
		Events:        []store.WorkspaceEvent{{Workspace: ws, Event: triggered}},
	}))
	st, err := s.AutomationStateLoad(ctx)
	must(t, err)
	if st.Position != 42 || len(st.Buckets) != 1 || len(st.ChildFirings) != 1 || len(st.TriggerStates) != 1 {
		t.Fatalf("state %+v", st)
	}
	if b := st.Buckets[0]; b.Count != 2 || !b.End.Equal(base.Add(time.Minute)) || string(b.LastEvent) != `{"id":"x"}` || b.Key != `["r"]` {
		t.Fatalf("bucket %+v", b)
	}
	sameSet(t, "events", automationEvents(t, s, a), []string{"prefect.automation.created", "prefect.automation.updated", "prefect.automation.triggered"})

	// The events stream: positions grow, EventsAfter pages in order. An
	// engine shared by replicas may hold back the newest positions until the
	// transactions older than them have ended (positions need not be
	// consecutive), so wait for the triggered event to show.
	var stream []store.SequencedEvent
	for deadline := time.Now().Add(10 * time.Second); ; {
		var err error
		stream, err = s.EventsAfter(ctx, 0, 1000)
		must(t, err)
		if n := len(stream); n > 0 && stream[n-1].Name == "prefect.automation.triggered" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	n := len(stream)
	if n < 2 || stream[n-1].Name != "prefect.automation.triggered" || stream[n-1].Workspace != ws {
		t.Fatalf("events stream: %+v", stream)
	}
	for i := 1; i < n; i++ {
		if stream[i-1].Seq >= stream[i].Seq {
			t.Fatalf("positions do not grow: %d then %d", stream[i-1].Seq, stream[i].Seq)
		}
	}
	head, err := s.EventsHead(ctx)
	must(t, err)
	after, err := s.EventsAfter(ctx, stream[n-2].Seq-1, 10)
	must(t, err)
	if head != stream[n-1].Seq || len(after) != 2 || after[0].Seq != stream[n-2].Seq || after[1].Seq != head {
		t.Fatalf("head %d, events after %d: %+v", head, stream[n-2].Seq-1, after)
	}

	// EventSeq finds an event's position; held events are kept by position
	// until released, without touching the engine's own position.
	seq, err := s.EventSeq(ctx, ws, triggered.ID)
	must(t, err)
	if seq != head {
		t.Fatalf("EventSeq = %d, want %d", seq, head)
	}
	_, err = s.EventSeq(ctx, ws, model.NewID())
	wantErr(t, err, store.ErrNotFound)
	must(t, s.AutomationStateCommit(ctx, store.AutomationCommit{Hold: []int64{7, 9}}))
	must(t, s.AutomationStateCommit(ctx, store.AutomationCommit{Hold: []int64{11}, Release: []int64{7}}))
	st, err = s.AutomationStateLoad(ctx)
	must(t, err)
	if fmt.Sprint(st.Held) != "[9 11]" || st.Position != 42 {
		t.Fatalf("held %v, position %d; want [9 11] and 42", st.Held, st.Position)
	}
	must(t, s.AutomationStateCommit(ctx, store.AutomationCommit{Release: []int64{9, 11}}))

	// Actions: due, saved with events, pruned once finished.
	due, err := s.AutomationActionsDue(ctx, base, 10)
	must(t, err)
	if len(due) != 1 || due[0].ID != action.ID || string(due[0].Body) != `{"a":1}` {
		t.Fatalf("due %+v", due)
	}
	action.Status, action.Attempts, action.Result = store.ActionDone, 1, json.RawMessage(`{"ok":true}`)
	must(t, s.AutomationActionSave(ctx, action, []model.Event{lifecycle(a, "action.executed")}))
	due, err = s.AutomationActionsDue(ctx, base.Add(time.Hour), 10)
	must(t, err)
	if len(due) != 0 {
		t.Fatalf("a finished action is still due: %+v", due)
	}
	hist, err := s.AutomationActionsList(ctx, ws, a.ID, 10)
	must(t, err)
	if len(hist) != 1 || hist[0].Status != store.ActionDone || hist[0].Attempts != 1 || string(hist[0].Result) != `{"ok":true}` {
		t.Fatalf("history %+v", hist)
	}
	must(t, s.AutomationActionsPrune(ctx, time.Now().Add(time.Hour), base.Add(2*time.Minute)))
	st, err = s.AutomationStateLoad(ctx)
	must(t, err)
	if len(st.Buckets) != 0 {
		t.Fatalf("a closed bucket survived pruning: %+v", st.Buckets)
	}

	// Replacing drops the old triggers' state and the non-owning
	// relations; deleting takes the state with it.
	must(t, s.AutomationStateCommit(ctx, store.AutomationCommit{Buckets: []store.AutomationBucket{bucket}}))
	a2 := a
	a2.Trigger.ID = model.NewID()
	a2.Name = "renamed"
	must(t, s.AutomationReplace(ctx, ws, store.AutomationWrite{Automation: a2}))
	st, err = s.AutomationStateLoad(ctx)
	must(t, err)
	if len(st.Buckets) != 0 || len(st.ChildFirings) != 0 || len(st.TriggerStates) != 0 {
		t.Fatalf("replace kept trigger state: %+v", st)
	}
	if owned, _ := s.AutomationsRelated(ctx, ws, dep, true); len(owned) != 1 {
		t.Fatal("replace dropped the owner")
	}
	wantErr(t, s.AutomationReplace(ctx, ws, store.AutomationWrite{Automation: testAutomation("nobody", 0)}), store.ErrNotFound)

	// Owned-by deletion honours createdBefore.
	deleted, err := s.AutomationsDeleteOwned(ctx, ws, dep, base.Add(-time.Hour), nil)
	must(t, err)
	if len(deleted) != 0 {
		t.Fatal("deleted an automation created after the cut-off")
	}
	deleted, err = s.AutomationsDeleteOwned(ctx, ws, dep, base.Add(time.Hour), func(x model.Automation) []model.Event {
		return []model.Event{lifecycle(x, "deleted")}
	})
	must(t, err)
	if len(deleted) != 1 || deleted[0].ID != a.ID {
		t.Fatalf("deleted %v", deleted)
	}
	_, err = s.AutomationGet(ctx, ws, a.ID)
	wantErr(t, err, store.ErrNotFound)
	if _, err := s.AutomationDelete(ctx, ws, b.ID, nil); err != nil {
		t.Fatal(err)
	}
	_, err = s.AutomationDelete(ctx, ws, b.ID, nil)
	wantErr(t, err, store.ErrNotFound)
	all, err := s.AutomationsAll(ctx)
	must(t, err)
	if len(all) != 0 {
		t.Fatalf("automations left: %v", all)
	}
}

func testWebhooks(t *testing.T, s store.Store) {
	ctx := context.Background()
	w := model.Webhook{ID: model.NewID(), Created: at(0), Updated: at(0), Name: "shop", Enabled: true, Template: "{}", Slug: "slug-one"}
	must(t, s.WebhookCreate(ctx, ws, w))
	dup := w
	dup.ID = model.NewID()
	wantErr(t, s.WebhookCreate(ctx, ws, dup), store.ErrConflict)
	got, err := s.WebhookGet(ctx, ws, w.ID)
	must(t, err)
	if got.Name != "shop" || got.Slug != "slug-one" {
		t.Fatalf("read back %+v", got)
	}
	gotWS, bySlug, err := s.WebhookBySlug(ctx, "slug-one")
	must(t, err)
	if gotWS != ws || bySlug.ID != w.ID {
		t.Fatalf("by slug: %v %+v", gotWS, bySlug)
	}
	_, _, err = s.WebhookBySlug(ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
	upd, err := s.WebhookUpdate(ctx, ws, w.ID, func(x *model.Webhook) error { x.Slug = "slug-two"; x.Enabled = false; return nil })
	must(t, err)
	if upd.Slug != "slug-two" || upd.Enabled {
		t.Fatalf("update %+v", upd)
	}
	_, _, err = s.WebhookBySlug(ctx, "slug-one")
	wantErr(t, err, store.ErrNotFound)
	list, err := s.WebhookList(ctx, ws)
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("list %v", list)
	}
	must(t, s.WebhookDelete(ctx, ws, w.ID))
	wantErr(t, s.WebhookDelete(ctx, ws, w.ID), store.ErrNotFound)
	_, err = s.WebhookGet(ctx, ws, w.ID)
	wantErr(t, err, store.ErrNotFound)
}
