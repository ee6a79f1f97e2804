package services

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// TestRetentionRound: one round deletes, in every workspace, what outlived
// the workspace's period (the server's, or the workspace's override, where
// 0 keeps for ever), in batches, and reports it on /metrics.
func TestRetentionRound(t *testing.T) {
	t.Parallel()
	st, ws := openStore(t)
	ctx := context.Background()
	other := model.WorkspaceDetails{ID: model.NewID(), AccountID: store.DefaultAccountID, Name: "keeper", Handle: "keeper", Created: model.NewTime(time.Now())}
	if err := st.WorkspaceInsert(ctx, other); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, w := range []model.ID{ws, other.ID} {
		var logs []model.Log
		for i := range 25 {
			logs = append(logs, model.Log{Name: "l", Level: 20, Message: "old", Timestamp: model.NewTime(now.Add(-48*time.Hour - time.Duration(i)*time.Second))})
		}
		logs = append(logs, model.Log{Name: "l", Level: 20, Message: "new", Timestamp: model.NewTime(now.Add(-time.Hour))})
		if err := st.LogCreate(ctx, w, logs); err != nil {
			t.Fatal(err)
		}
	}
	// The second workspace keeps its logs for ever.
	if err := st.SettingSet(ctx, other.ID, store.SettingRetention, json.RawMessage(`{"logs":0}`)); err != nil {
		t.Fatal(err)
	}
	r, err := NewRetention(RetentionConfig{Store: st, Policy: RetentionPolicy{store.RetainLogs: 24 * time.Hour}, Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Tick(ctx, now); err != nil {
		t.Fatal(err)
	}
	count := func(w model.ID) int {
		l, err := st.LogList(ctx, w, model.LogQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	if n := count(ws); n != 1 {
		t.Fatalf("default workspace keeps %d logs, want the 1 new line", n)
	}
	if n := count(other.ID); n != 26 {
		t.Fatalf("the workspace that keeps logs for ever has %d, want 26", n)
	}
	var m bytes.Buffer
	r.WriteMetrics(&m)
	if !strings.Contains(m.String(), `baton_retention_deleted_total{resource="logs"} 25`) || !strings.Contains(m.String(), "baton_db_reclaim_supported 1") {
		t.Fatalf("metrics:\n%s", m.String())
	}
	// A second round finds nothing more.
	if err := r.Tick(ctx, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := count(ws); n != 1 {
		t.Fatalf("after a second round: %d logs", n)
	}
}

// TestRetentionOverlay: a workspace override replaces only the periods it
// names.
func TestRetentionOverlay(t *testing.T) {
	p := DefaultRetention.Overlay(store.RetentionOverrides{store.RetainEvents: 3600, store.RetainLogs: 0})
	if p[store.RetainEvents] != time.Hour || p[store.RetainLogs] != 0 || p[store.RetainFlowRuns] != DefaultRetention[store.RetainFlowRuns] {
		t.Fatalf("overlay = %v", p)
	}
	if DefaultRetention[store.RetainEvents] != 7*24*time.Hour {
		t.Fatal("the overlay changed the defaults")
	}
}

// TestRetentionAuditLog: the audit log keeps entries for the configured
// period (server-wide, in batches) and for ever at 0.
func TestRetentionAuditLog(t *testing.T) {
	t.Parallel()
	st, _ := openStore(t)
	ctx := context.Background()
	now := time.Now()
	acc := model.NewID()
	var es []model.AuditEvent
	for i := range 7 {
		es = append(es, model.AuditEvent{ID: model.NewID(), AccountID: acc, Occurred: model.NewTime(now.Add(-400*24*time.Hour - time.Duration(i)*time.Second)),
			Action: "auth.signin", Outcome: model.AuditSuccess})
	}
	es = append(es, model.AuditEvent{ID: model.NewID(), AccountID: acc, Occurred: model.NewTime(now.Add(-time.Hour)), Action: "auth.signin", Outcome: model.AuditSuccess})
	if err := st.AuditAppend(ctx, es...); err != nil {
		t.Fatal(err)
	}
	left := func() int {
		l, err := st.AuditList(ctx, store.AuditFilter{AccountID: acc})
		if err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	keep, err := NewRetention(RetentionConfig{Store: st, Policy: RetentionPolicy{}, Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := keep.Tick(ctx, now); err != nil {
		t.Fatal(err)
	}
	if n := left(); n != 8 {
		t.Fatalf("with no audit period, %d entries left, want all 8", n)
	}
	r, err := NewRetention(RetentionConfig{Store: st, Policy: RetentionPolicy{}, AuditLog: 365 * 24 * time.Hour, Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Tick(ctx, now); err != nil {
		t.Fatal(err)
	}
	if n := left(); n != 1 {
		t.Fatalf("after a round, %d entries left, want the recent one", n)
	}
	var m bytes.Buffer
	r.WriteMetrics(&m)
	if !strings.Contains(m.String(), `baton_retention_deleted_total{resource="audit_log"} 7`) {
		t.Fatalf("metrics:\n%s", m.String())
	}
}

// TestRetentionRoundWorksOffItsBacklog: when a pass's budget runs out with
// rows past their period left, the round makes more passes (until the next
// round is due) instead of leaving the backlog for the next round, and
// every resource gets its share: the soak saw the database grow for ever
// because each 5-minute round deleted one 60-second budget's worth, most
// of it spent on the first resource.
func TestRetentionRoundWorksOffItsBacklog(t *testing.T) {
	t.Parallel()
	st, ws := openStore(t)
	ctx := context.Background()
	now := time.Now()
	var logs []model.Log
	var evs []model.Event
	for i := range 30 {
		old := model.NewTime(now.Add(-48*time.Hour - time.Duration(i)*time.Second))
		logs = append(logs, model.Log{Name: "l", Level: 20, Message: "old", Timestamp: old})
		evs = append(evs, model.Event{ID: model.NewID(), Occurred: old, Received: old, Event: "x.old", Resource: map[string]string{"prefect.resource.id": "r"}})
	}
	if err := st.LogCreate(ctx, ws, logs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.EventInsert(ctx, ws, evs); err != nil {
		t.Fatal(err)
	}
	// A budget so small that each pass deletes one batch of each resource.
	r, err := NewRetention(RetentionConfig{Store: st, Batch: 2, RoundBudget: time.Nanosecond, Interval: time.Minute,
		Policy: RetentionPolicy{store.RetainLogs: 24 * time.Hour, store.RetainEvents: 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Tick(ctx, now); err != nil {
		t.Fatal(err)
	}
	var m bytes.Buffer
	r.WriteMetrics(&m)
	for _, want := range []string{`baton_retention_deleted_total{resource="logs"} 30`, `baton_retention_deleted_total{resource="events"} 30`, "baton_retention_backlog 0"} {
		if !strings.Contains(m.String(), want) {
			t.Errorf("after one round, /metrics lacks %q:\n%s", want, m.String())
		}
	}
}
