package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// otherWorkspace adds a second workspace to the default account through
// the store's own interface, for the isolation cases (every engine can).
func otherWorkspace(t *testing.T, s store.Store, handle string) model.Workspace {
	t.Helper()
	w := model.WorkspaceDetails{ID: model.NewID(), AccountID: store.DefaultAccountID, Name: handle, Handle: handle, Created: at(0)}
	must(t, s.WorkspaceInsert(context.Background(), w))
	return model.Workspace{ID: w.ID, AccountID: w.AccountID, Name: w.Name, Handle: w.Handle}
}

// testTenancyReads covers the tenancy reads and writes testTenancy does not:
// AccountUpdate, MemberGet, UserAccounts and APIKeyGet.
func testTenancyReads(t *testing.T, s store.Store) {
	ctx := context.Background()
	acc := model.Account{ID: model.NewID(), Name: "Acme", Handle: "acme", Created: at(0)}
	must(t, s.AccountCreate(ctx, acc))
	other := model.Account{ID: model.NewID(), Name: "Other", Handle: "other", Created: at(0)}
	must(t, s.AccountCreate(ctx, other))
	acc.Name, acc.Handle = "Acme Corp", "acme-corp"
	must(t, s.AccountUpdate(ctx, acc))
	if got, err := s.AccountGet(ctx, acc.ID); err != nil || got.Name != "Acme Corp" || got.Handle != "acme-corp" {
		t.Fatalf("after AccountUpdate: %+v %v", got, err)
	}
	wantErr(t, s.AccountUpdate(ctx, model.Account{ID: acc.ID, Name: "x", Handle: "other"}), store.ErrConflict)
	wantErr(t, s.AccountUpdate(ctx, model.Account{ID: model.NewID(), Name: "x", Handle: "nobody"}), store.ErrNotFound)

	u := model.User{ID: model.NewID(), Email: "u@example.com", Name: "U", Created: at(0)}
	must(t, s.UserCreate(ctx, store.UserCreate{User: u}))
	must(t, s.MemberSet(ctx, acc.ID, u.ID, model.RoleAdmin))
	must(t, s.MemberSet(ctx, other.ID, u.ID, model.RoleViewer))
	m, err := s.MemberGet(ctx, acc.ID, u.ID)
	must(t, err)
	if m.Role != model.RoleAdmin || m.Email != "u@example.com" {
		t.Fatalf("MemberGet = %+v", m)
	}
	_, err = s.MemberGet(ctx, acc.ID, model.NewID())
	wantErr(t, err, store.ErrNotFound)
	as, err := s.UserAccounts(ctx, u.ID)
	must(t, err)
	roles := map[model.Role]bool{}
	for _, a := range as {
		roles[a.Role] = true
	}
	if len(as) != 2 || !roles[model.RoleAdmin] || !roles[model.RoleViewer] {
		t.Fatalf("UserAccounts = %+v", as)
	}
	if none, err := s.UserAccounts(ctx, model.NewID()); err != nil || len(none) != 0 {
		t.Fatalf("UserAccounts of a stranger = %+v %v", none, err)
	}

	key := model.APIKey{ID: model.NewID(), UserID: u.ID, Name: "ci", Prefix: "pnu_abcd", Created: at(0)}
	must(t, s.APIKeyCreate(ctx, store.APIKeyCreate{Key: key, Hash: []byte("0123456789abcdef0123456789abcdef")}))
	k, err := s.APIKeyGet(ctx, u.ID, key.ID)
	must(t, err)
	if k.ID != key.ID || k.Name != "ci" || k.Prefix != "pnu_abcd" {
		t.Fatalf("APIKeyGet = %+v", k)
	}
	// Another user's key is not found.
	_, err = s.APIKeyGet(ctx, model.NewID(), key.ID)
	wantErr(t, err, store.ErrNotFound)
}

// testSettings covers workspace settings, SettingDelete included.
func testSettings(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.SettingGet(ctx, ws, "k")
	wantErr(t, err, store.ErrNotFound)
	must(t, s.SettingSet(ctx, ws, "k", json.RawMessage(`{"a":1}`)))
	must(t, s.SettingSet(ctx, ws, "k", json.RawMessage(`{"a":2}`)))
	v, err := s.SettingGet(ctx, ws, "k")
	must(t, err)
	var got map[string]int
	must(t, json.Unmarshal(v, &got))
	if got["a"] != 2 {
		t.Fatalf("SettingGet = %s", v)
	}
	o := otherWorkspace(t, s, "settings")
	_, err = s.SettingGet(ctx, o.ID, "k")
	wantErr(t, err, store.ErrNotFound)
	must(t, s.SettingDelete(ctx, o.ID, "k")) // another workspace's: nothing happens
	if _, err := s.SettingGet(ctx, ws, "k"); err != nil {
		t.Fatalf("a delete in another workspace removed the setting: %v", err)
	}
	must(t, s.SettingDelete(ctx, ws, "k"))
	_, err = s.SettingGet(ctx, ws, "k")
	wantErr(t, err, store.ErrNotFound)
	must(t, s.SettingDelete(ctx, ws, "k")) // deleting an unset key is no error
}

// testPoolAndQueueReads covers WorkPoolGetByID, WorkPoolList,
// WorkPoolCount, WorkQueueGetByID and WorkQueueList.
func testPoolAndQueueReads(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, err := s.WorkPoolCreate(ctx, ws, model.WorkPool{Name: "alpha", Type: "process"})
	must(t, err)
	_, err = s.WorkPoolCreate(ctx, ws, model.WorkPool{Name: "beta", Type: "docker"})
	must(t, err)
	o := otherWorkspace(t, s, "pools")
	_, err = s.WorkPoolCreate(ctx, o.ID, model.WorkPool{Name: "gamma", Type: "process"})
	must(t, err)

	got, err := s.WorkPoolGetByID(ctx, ws, a.ID)
	must(t, err)
	if got.Name != "alpha" || got.Type != "process" {
		t.Fatalf("WorkPoolGetByID = %+v", got)
	}
	_, err = s.WorkPoolGetByID(ctx, o.ID, a.ID)
	wantErr(t, err, store.ErrNotFound)

	all, err := s.WorkPoolList(ctx, ws, model.WorkPoolQuery{})
	must(t, err)
	if len(all) != 2 {
		t.Fatalf("WorkPoolList = %d pools, want 2 (another workspace's excluded)", len(all))
	}
	byName, err := s.WorkPoolList(ctx, ws, model.WorkPoolQuery{WorkPools: &model.WorkPoolFilter{Name: &model.NameFilter{Any: []string{"beta"}}}})
	must(t, err)
	if len(byName) != 1 || byName[0].Name != "beta" {
		t.Fatalf("WorkPoolList by name = %+v", byName)
	}
	page, err := s.WorkPoolList(ctx, ws, model.WorkPoolQuery{Limit: 1})
	must(t, err)
	if len(page) != 1 {
		t.Fatalf("WorkPoolList limit 1 = %d pools", len(page))
	}
	n, err := s.WorkPoolCount(ctx, ws, model.WorkPoolQuery{})
	must(t, err)
	if n != 2 {
		t.Fatalf("WorkPoolCount = %d, want 2", n)
	}
	n, err = s.WorkPoolCount(ctx, ws, model.WorkPoolQuery{WorkPools: &model.WorkPoolFilter{Type: &model.StringsFilter{Any: []string{"docker"}}}})
	must(t, err)
	if n != 1 {
		t.Fatalf("WorkPoolCount by type = %d, want 1", n)
	}

	q, err := s.WorkQueueCreate(ctx, ws, "alpha", model.WorkQueue{Name: "urgent"})
	must(t, err)
	gq, err := s.WorkQueueGetByID(ctx, ws, q.ID)
	must(t, err)
	if gq.Name != "urgent" || gq.WorkPoolID == nil || *gq.WorkPoolID != a.ID {
		t.Fatalf("WorkQueueGetByID = %+v", gq)
	}
	_, err = s.WorkQueueGetByID(ctx, o.ID, q.ID)
	wantErr(t, err, store.ErrNotFound)
	qs, err := s.WorkQueueList(ctx, ws, "alpha", model.WorkQueueQuery{})
	must(t, err)
	names := map[string]bool{}
	for _, x := range qs {
		names[x.Name] = true
	}
	if len(qs) != 2 || !names["default"] || !names["urgent"] {
		t.Fatalf("WorkQueueList = %+v", qs)
	}
	qs, err = s.WorkQueueList(ctx, ws, "alpha", model.WorkQueueQuery{WorkQueues: &model.WorkQueueFilter{Name: &model.NameFilter{Any: []string{"urgent"}}}})
	must(t, err)
	if len(qs) != 1 || qs[0].ID != q.ID {
		t.Fatalf("WorkQueueList by name = %+v", qs)
	}
	_, err = s.WorkQueueList(ctx, ws, "nope", model.WorkQueueQuery{})
	wantErr(t, err, store.ErrNotFound)
}

// testDeploymentReads covers DeploymentGet, DeploymentsMarkPolled and
// DeploymentAdmitRuns.
func testDeploymentReads(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := flow(t, s, ws, "deployed")
	d, _, err := s.DeploymentUpsert(ctx, ws, model.Deployment{Name: "limited", FlowID: f.ID, ConcurrencyLimit: ptr(1)})
	must(t, err)
	free, _, err := s.DeploymentUpsert(ctx, ws, model.Deployment{Name: "free", FlowID: f.ID})
	must(t, err)
	got, err := s.DeploymentGet(ctx, ws, d.ID)
	must(t, err)
	if got.Name != "limited" || got.FlowID != f.ID || got.ConcurrencyLimit == nil || *got.ConcurrencyLimit != 1 {
		t.Fatalf("DeploymentGet = %+v", got)
	}
	o := otherWorkspace(t, s, "deployments")
	_, err = s.DeploymentGet(ctx, o.ID, d.ID)
	wantErr(t, err, store.ErrNotFound)

	polled := base.Add(time.Hour)
	must(t, s.DeploymentsMarkPolled(ctx, ws, []model.ID{d.ID}, polled))
	got, _ = s.DeploymentGet(ctx, ws, d.ID)
	if got.LastPolled == nil || !got.LastPolled.Equal(polled) || got.Status != "READY" {
		t.Fatalf("after DeploymentsMarkPolled: last_polled %v status %q", got.LastPolled, got.Status)
	}
	if g, _ := s.DeploymentGet(ctx, ws, free.ID); g.LastPolled != nil {
		t.Fatalf("an unpolled deployment has last_polled %v", g.LastPolled)
	}
	must(t, s.DeploymentsMarkPolled(ctx, o.ID, []model.ID{free.ID}, polled)) // another workspace's ids: no effect
	if g, _ := s.DeploymentGet(ctx, ws, free.ID); g.LastPolled != nil {
		t.Fatal("DeploymentsMarkPolled reached across workspaces")
	}

	mk := func(dep model.ID, typ model.StateType) model.FlowRun {
		st := state(typ, typ.DefaultName(), at(0))
		r, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{ID: model.NewID(), FlowID: f.ID, Name: "r", DeploymentID: &dep, State: st,
			Parameters: json.RawMessage("{}")}})
		must(t, err)
		return r
	}
	s1, s2, s3 := mk(d.ID, model.StateScheduled), mk(d.ID, model.StateScheduled), mk(free.ID, model.StateScheduled)
	admitted, err := s.DeploymentAdmitRuns(ctx, ws, []model.FlowRun{s1, s2, s3})
	must(t, err)
	if len(admitted) != 2 || admitted[0].ID != s1.ID || admitted[1].ID != s3.ID {
		t.Fatalf("with one free slot: admitted %v", runNames(admitted))
	}
	// The slot is taken (as orchestration takes it when a run moves to
	// PENDING): nothing of the limited deployment is admitted.
	_, err = s.ConcurrencyIncrement(ctx, ws, []string{model.DeploymentLimitName(d.ID)}, 1)
	must(t, err)
	admitted, err = s.DeploymentAdmitRuns(ctx, ws, []model.FlowRun{s1, s2, s3})
	must(t, err)
	if len(admitted) != 1 || admitted[0].ID != s3.ID {
		t.Fatalf("with the slot taken: admitted %d runs", len(admitted))
	}
	// Given back, but the limit made inactive: orchestration could not take
	// a slot of it, so nothing is admitted either.
	_, err = s.ConcurrencyDecrement(ctx, ws, []string{model.DeploymentLimitName(d.ID)}, 1)
	must(t, err)
	must(t, s.ConcurrencyLimitUpdate(ctx, ws, d.ID.String(), model.ConcurrencyLimitUpdate{Active: ptr(false)}))
	admitted, err = s.DeploymentAdmitRuns(ctx, ws, []model.FlowRun{s1, s2, s3})
	must(t, err)
	if len(admitted) != 1 || admitted[0].ID != s3.ID {
		t.Fatalf("with the limit inactive: admitted %d runs", len(admitted))
	}
}

// testFlowRunHistory covers FlowRunHistory: one interval per step, empty
// ones included, runs counted by state in the interval of their expected
// start time.
func testFlowRunHistory(t *testing.T, s store.Store) {
	ctx := context.Background()
	f := flow(t, s, ws, "hist")
	mk := func(typ model.StateType, expected time.Duration) {
		st := state(typ, typ.DefaultName(), at(expected))
		_, _, err := s.FlowRunCreate(ctx, ws, store.NewFlowRun{Run: model.FlowRun{ID: model.NewID(), FlowID: f.ID, Name: "h", State: st,
			ExpectedStartTime: atp(expected), Parameters: json.RawMessage("{}")}})
		must(t, err)
	}
	mk(model.StateCompleted, 10*time.Minute)
	mk(model.StateCompleted, 20*time.Minute)
	mk(model.StateFailed, 30*time.Minute)
	mk(model.StateCompleted, 150*time.Minute)
	mk(model.StateCompleted, 5*time.Hour) // outside the range
	got, err := s.FlowRunHistory(ctx, ws, model.RunQuery{}, base, base.Add(3*time.Hour), time.Hour)
	must(t, err)
	if len(got) != 3 {
		t.Fatalf("%d intervals, want 3", len(got))
	}
	count := func(iv model.HistoryInterval, typ model.StateType) int {
		n := 0
		for _, st := range iv.States {
			if st.StateType == typ {
				n += st.CountRuns
			}
		}
		return n
	}
	if !got[0].IntervalStart.Equal(base) || !got[0].IntervalEnd.Equal(base.Add(time.Hour)) {
		t.Fatalf("first interval %v-%v", got[0].IntervalStart, got[0].IntervalEnd)
	}
	if count(got[0], model.StateCompleted) != 2 || count(got[0], model.StateFailed) != 1 || len(got[1].States) != 0 || count(got[2], model.StateCompleted) != 1 {
		t.Fatalf("history = %+v", got)
	}
	o := otherWorkspace(t, s, "history")
	other, err := s.FlowRunHistory(ctx, o.ID, model.RunQuery{}, base, base.Add(3*time.Hour), time.Hour)
	must(t, err)
	for _, iv := range other {
		if len(iv.States) != 0 {
			t.Fatalf("another workspace sees runs: %+v", other)
		}
	}
}
