package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/model"
)

// TestAuditedRoutesExist: every route the audit table names is a real
// route, so a renamed route cannot silently drop out of the audit log.
func TestAuditedRoutesExist(t *testing.T) {
	t.Parallel()
	srv := &Server{}
	have := map[string]bool{}
	for _, rt := range srv.allRoutes() {
		have[rt.muxPattern()] = true
	}
	for p := range auditedRoutes {
		if !have[p] {
			t.Errorf("auditedRoutes names %q, which is not a route", p)
		}
	}
}

// auditLog reads an account's audit log as key with the query q.
func (s *cloudServer) auditLog(key string, acc model.ID, q string) (int, []model.AuditEvent) {
	s.t.Helper()
	code, raw := s.call(key, "GET", "/api/accounts/"+acc.String()+"/audit_log"+q, nil)
	var out []model.AuditEvent
	if code == 200 {
		if err := json.Unmarshal(raw, &out); err != nil {
			s.t.Fatalf("audit log: %v: %s", err, raw)
		}
	} else {
		s.t.Logf("audit log %s: %d %s", q, code, raw)
	}
	return code, out
}

// findAudit returns the first entry with the action (and target id when
// set).
func findAudit(es []model.AuditEvent, action, target string) (model.AuditEvent, bool) {
	for _, e := range es {
		if e.Action == action && (target == "" || e.TargetID == target) {
			return e, true
		}
	}
	return model.AuditEvent{}, false
}

// TestAuditLogRecordsChanges drives real requests and reads the audit log:
// sign-ins and failed sign-ins, keys created and deleted, members and
// roles, workspaces, deployments, blocks, automations and a cancelled run
// are recorded with actor, action, target, time and source address; a
// viewer's refused attempt is recorded as denied; owners and admins read
// it with filters, a viewer gets 403 and a member of another account 404
// (and the attempt lands in the log of the account it aimed at).
func TestAuditLogRecordsChanges(t *testing.T) {
	t.Parallel()
	s := newCloudServer(t)
	ctx := context.Background()
	own := s.bootstrap("owner@example.com", "acme", "prod")
	stranger := s.bootstrap("mallory@example.com", "evil", "lair")
	viewer := s.bootstrap("vera@example.com", "vera", "home")
	if _, err := s.ten.SetMember(ctx, model.RoleOwner, own.account.ID, "vera@example.com", model.RoleViewer); err != nil {
		t.Fatal(err)
	}
	signin := func(email, pw string) int {
		raw, _ := json.Marshal(map[string]any{"email": email, "password": pw})
		resp, err := http.Post(s.URL+"/api/auth/signin", "application/json", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if signin("owner@example.com", "pw-owner@example.com") != 200 || signin("owner@example.com", "wrong-password") != 401 {
		t.Fatal("sign-ins did not answer 200 and 401")
	}
	acc := "/api/accounts/" + own.account.ID.String()
	key := s.mustCall(own.key, "POST", "/api/me/api_keys", map[string]any{"name": "ci"}, 201)
	s.mustCall(own.key, "DELETE", "/api/me/api_keys/"+key["id"].(string), nil, 204)
	s.mustCall(own.key, "POST", acc+"/members", map[string]any{"email": "mallory@example.com", "role": "developer"}, 201)
	s.mustCall(own.key, "PATCH", acc+"/members/"+stranger.user.ID.String(), map[string]any{"role": "viewer"}, 200)
	s.mustCall(own.key, "DELETE", acc+"/members/"+stranger.user.ID.String(), nil, 204)
	ws := s.mustCall(own.key, "POST", acc+"/workspaces", map[string]any{"name": "Staging", "handle": "staging"}, 201)
	flow := s.mustCall(own.key, "POST", own.base()+"/flows", map[string]any{"name": "f"}, 201)
	dep := s.mustCall(own.key, "POST", own.base()+"/deployments", map[string]any{"name": "nightly", "flow_id": flow["id"]}, 201)
	s.mustCall(own.key, "DELETE", own.base()+"/deployments/"+dep["id"].(string), nil, 204)
	bt := s.mustCall(own.key, "POST", own.base()+"/block_types", map[string]any{"name": "T", "slug": "t"}, 201)
	bs := s.mustCall(own.key, "POST", own.base()+"/block_schemas", map[string]any{"block_type_id": bt["id"], "fields": map[string]any{"title": "T", "properties": map[string]any{}}}, 201)
	blk := s.mustCall(own.key, "POST", own.base()+"/block_documents", map[string]any{"name": "doc", "block_type_id": bt["id"], "block_schema_id": bs["id"], "data": map[string]any{}}, 201)
	auto := s.mustCall(own.key, "POST", own.base()+"/automations", map[string]any{"name": "a", "trigger": map[string]any{"type": "event", "expect": []string{"x"}, "posture": "Reactive", "threshold": 1}, "actions": []map[string]any{{"type": "do-nothing"}}}, 201)
	run := s.mustCall(own.key, "POST", own.base()+"/flow_runs", map[string]any{"flow_id": flow["id"], "state": map[string]any{"type": "SCHEDULED"}}, 201)
	s.mustCall(own.key, "POST", own.base()+"/flow_runs/"+run["id"].(string)+"/set_state", map[string]any{"state": map[string]any{"type": "CANCELLED"}}, 201)
	// A viewer tries to add a member: 403, recorded as denied.
	s.mustCall(viewer.key, "POST", acc+"/members", map[string]any{"email": "x@example.com", "role": "viewer"}, 403)

	code, es := s.auditLog(own.key, own.account.ID, "")
	if code != 200 {
		t.Fatalf("owner reading the audit log: %d", code)
	}
	for _, want := range []struct{ action, target string }{
		{"auth.signin", own.user.ID.String()}, {"auth.signin_failed", own.user.ID.String()},
		{"api_key.created", key["id"].(string)}, {"api_key.deleted", key["id"].(string)},
		{"member.added", stranger.user.ID.String()}, {"member.role_changed", stranger.user.ID.String()}, {"member.removed", stranger.user.ID.String()},
		{"workspace.created", ws["id"].(string)},
		{"deployment.created", dep["id"].(string)}, {"deployment.deleted", dep["id"].(string)},
		{"block.created", blk["id"].(string)}, {"automation.created", auto["id"].(string)},
		{"flow_run.cancelled", run["id"].(string)},
	} {
		e, ok := findAudit(es, want.action, want.target)
		if !ok {
			t.Errorf("audit log has no %s of %s", want.action, want.target)
			continue
		}
		if e.Occurred.IsZero() || e.SourceAddr != "127.0.0.1" || e.AccountID != own.account.ID {
			t.Errorf("%s: time %v, source %q, account %v", want.action, e.Occurred, e.SourceAddr, e.AccountID)
		}
		if want.action == "auth.signin_failed" {
			if e.Outcome != model.AuditFailure || e.ActorID != nil {
				t.Errorf("failed sign-in recorded as %+v", e)
			}
			continue
		}
		if e.ActorID == nil || *e.ActorID != own.user.ID || e.ActorName != "owner@example.com" || e.Outcome != model.AuditSuccess {
			t.Errorf("%s: actor %v %q outcome %q", want.action, e.ActorID, e.ActorName, e.Outcome)
		}
	}
	if e, ok := findAudit(es, "deployment.created", ""); ok && (e.WorkspaceID == nil || *e.WorkspaceID != own.ws.ID || e.TargetName != "nightly") {
		t.Errorf("deployment.created: workspace %v name %q", e.WorkspaceID, e.TargetName)
	}
	if e, ok := findAudit(es, "member.added", ""); !ok || e.Outcome != model.AuditDenied || *e.ActorID != viewer.user.ID {
		// Newest first: the viewer's refused attempt comes before the
		// owner's successful add.
		t.Errorf("the viewer's refused invite is not recorded as denied: %+v", e)
	}
	// Run traffic is not audited: the run's creation is not there.
	if _, ok := findAudit(es, "flow_run.created", ""); ok {
		t.Error("run creation was audited")
	}

	// Filters.
	_, only := s.auditLog(own.key, own.account.ID, "?action=auth.signin&action=auth.signin_failed")
	if len(only) != 2 {
		t.Errorf("action filter: %d entries", len(only))
	}
	_, deps := s.auditLog(own.key, own.account.ID, "?action_prefix=deployment.&workspace_id="+own.ws.ID.String())
	if len(deps) != 2 {
		t.Errorf("prefix+workspace filter: %d entries", len(deps))
	}
	_, denied := s.auditLog(own.key, own.account.ID, "?outcome=denied&actor_id="+viewer.user.ID.String())
	if len(denied) != 1 {
		t.Errorf("outcome+actor filter: %d entries", len(denied))
	}
	_, none := s.auditLog(own.key, own.account.ID, "?until="+url.QueryEscape("2000-01-01T00:00:00+00:00"))
	if len(none) != 0 {
		t.Errorf("until filter: %d entries", len(none))
	}
	_, page := s.auditLog(own.key, own.account.ID, "?limit=2&offset=1")
	if len(page) != 2 || page[0].ID != es[1].ID {
		t.Errorf("paging: %d entries", len(page))
	}
	for _, bad := range []string{"?limit=5000", "?outcome=maybe", "?actor_id=nope", "?since=yesterday", "?limit=x"} {
		if code, _ := s.auditLog(own.key, own.account.ID, bad); code != http.StatusUnprocessableEntity {
			t.Errorf("audit log %s: %d, want 422", bad, code)
		}
	}

	// Who may read it.
	if code, _ := s.auditLog(viewer.key, own.account.ID, ""); code != http.StatusForbidden {
		t.Errorf("a viewer reading the audit log: %d, want 403", code)
	}
	if code, _ := s.auditLog(stranger.key, own.account.ID, ""); code != http.StatusNotFound {
		t.Errorf("a member of another account reading the audit log: %d, want 404", code)
	}
	_, es = s.auditLog(own.key, own.account.ID, "?action=access.denied&actor_id="+stranger.user.ID.String())
	if len(es) != 1 || !strings.Contains(es[0].TargetID, "/audit_log") {
		t.Errorf("the stranger's attempt is not in the victim's log: %+v", es)
	}
	// The stranger's own log has nothing of acme's.
	_, theirs := s.auditLog(stranger.key, stranger.account.ID, "")
	for _, e := range theirs {
		if e.AccountID != stranger.account.ID || e.TargetID == dep["id"] {
			t.Errorf("stranger's log holds %+v", e)
		}
	}
	// Append-only: the API offers no way to change or delete an entry.
	for _, m := range []string{"PUT", "PATCH", "DELETE", "POST"} {
		if code, _ := s.call(own.key, m, acc+"/audit_log", map[string]any{}); code != http.StatusMethodNotAllowed {
			t.Errorf("%s audit_log: %d, want 405", m, code)
		}
	}
}
