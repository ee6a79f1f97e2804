package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// testAudit covers store.Audit: append, every filter, account isolation,
// newest-first paging, purge by age in batches, and that an entry cannot be
// changed once written.
func testAudit(t *testing.T, s store.Store) {
	ctx := context.Background()
	acc, other := model.NewID(), model.NewID()
	alice, bob, key, ws := model.NewID(), model.NewID(), model.NewID(), model.NewID()
	ev := func(a model.ID, d time.Duration, action, outcome string, actor *model.ID) model.AuditEvent {
		return model.AuditEvent{ID: model.NewID(), AccountID: a, Occurred: at(d), Action: action, Outcome: outcome, ActorID: actor,
			ActorName: "someone@example.com", TargetType: "deployment", TargetID: "t-" + action, TargetName: "n", SourceAddr: "192.0.2.1", Detail: "d"}
	}
	e1 := ev(acc, time.Minute, "auth.signin", model.AuditSuccess, &alice)
	e1.ActorKeyID = &key
	e2 := ev(acc, 2*time.Minute, "deployment.created", model.AuditSuccess, &bob)
	e2.WorkspaceID = &ws
	e3 := ev(acc, 3*time.Minute, "deployment.deleted", model.AuditDenied, &bob)
	e4 := ev(other, 4*time.Minute, "auth.signin", model.AuditFailure, nil)
	must(t, s.AuditAppend(ctx, e1, e2))
	must(t, s.AuditAppend(ctx, e3, e4))
	must(t, s.AuditAppend(ctx))

	ids := func(f store.AuditFilter) []model.ID {
		t.Helper()
		es, err := s.AuditList(ctx, f)
		must(t, err)
		out := []model.ID{}
		for _, e := range es {
			if e.AccountID != f.AccountID {
				t.Fatalf("AuditList(%v) returned an entry of account %v", f.AccountID, e.AccountID)
			}
			out = append(out, e.ID)
		}
		return out
	}
	same := func(what string, got []model.ID, want ...model.AuditEvent) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: got %d entries, want %d", what, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i].ID {
				t.Fatalf("%s: entry %d = %v, want %v (%s)", what, i, got[i], want[i].ID, want[i].Action)
			}
		}
	}
	same("all, newest first", ids(store.AuditFilter{AccountID: acc}), e3, e2, e1)
	same("other account", ids(store.AuditFilter{AccountID: other}), e4)
	same("stranger account", ids(store.AuditFilter{AccountID: model.NewID()}))
	same("actions", ids(store.AuditFilter{AccountID: acc, Actions: []string{"auth.signin", "deployment.deleted"}}), e3, e1)
	same("prefix", ids(store.AuditFilter{AccountID: acc, ActionPrefix: "deployment."}), e3, e2)
	same("actor", ids(store.AuditFilter{AccountID: acc, ActorID: &bob}), e3, e2)
	same("target", ids(store.AuditFilter{AccountID: acc, TargetID: "t-auth.signin"}), e1)
	same("workspace", ids(store.AuditFilter{AccountID: acc, WorkspaceID: &ws}), e2)
	same("outcome", ids(store.AuditFilter{AccountID: acc, Outcome: model.AuditDenied}), e3)
	same("since/until", ids(store.AuditFilter{AccountID: acc, Since: atp(2 * time.Minute), Until: atp(3 * time.Minute)}), e2)
	same("page", ids(store.AuditFilter{AccountID: acc, Limit: 1, Offset: 1}), e2)

	es, err := s.AuditList(ctx, store.AuditFilter{AccountID: acc, Actions: []string{"auth.signin"}})
	must(t, err)
	got := es[0]
	if got.ActorID == nil || *got.ActorID != alice || got.ActorKeyID == nil || *got.ActorKeyID != key || got.WorkspaceID != nil ||
		got.ActorName != e1.ActorName || got.Outcome != model.AuditSuccess || got.TargetType != "deployment" || got.TargetName != "n" ||
		got.SourceAddr != "192.0.2.1" || got.Detail != "d" || !got.Occurred.Equal(e1.Occurred.Time) {
		t.Fatalf("round trip = %+v, want %+v", got, e1)
	}

	// Purge: entries before the cutoff go, in batches, across accounts.
	n, more, err := s.AuditPurge(ctx, at(3*time.Minute+time.Second), 2)
	must(t, err)
	if n != 2 || !more {
		t.Fatalf("first purge = %d, %v; want 2, true", n, more)
	}
	n, more, err = s.AuditPurge(ctx, at(3*time.Minute+time.Second), 2)
	must(t, err)
	if n != 1 || more {
		t.Fatalf("second purge = %d, %v; want 1, false", n, more)
	}
	same("after purge", ids(store.AuditFilter{AccountID: acc}))
	same("other after purge", ids(store.AuditFilter{AccountID: other}), e4)

	// Append-only: a duplicate id is refused (no overwrite).
	if err := s.AuditAppend(ctx, e4); err == nil {
		t.Fatal("appending an entry with an existing id succeeded")
	}
}
