package api

// The audit log in the API: which routes are recorded (auditedRoutes), the
// one hook that records them after their handler (auditCall), the record of
// refused requests (auditDenied), and the read endpoint.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/tenancy"
)

// auditSpec says how a route's successful calls are recorded.
type auditSpec struct {
	// action is the audit action ("deployment.created").
	action string
	// target is the kind of object acted on.
	target string
	// idParam names the path parameter that identifies the target (when
	// empty: the response's id, user_id or the last path parameter).
	idParam string
	// only, when set, filters the response: nothing is recorded unless it
	// returns true (a state change is audited only when it cancels).
	only func(res map[string]any) bool
	// perUser fans the entry out to every account of the caller (their
	// own API keys belong to no one account).
	perUser bool
}

// cancels reports whether a set_state response accepted a cancellation.
func cancels(res map[string]any) bool {
	st, _ := res["state"].(map[string]any)
	typ, _ := st["type"].(string)
	return res["status"] == "ACCEPT" && (typ == "CANCELLING" || typ == "CANCELLED")
}

// auditedRoutes maps a route (its mux pattern) to how it is recorded: every
// change of cloud mode's identity and access, and the changes to a
// workspace's configuration (deployments, blocks, automations, pools,
// variables, webhooks, limits, retention) and runs cancelled or deleted.
// Run traffic (states, logs, events, task runs) is not: it is the
// workload, not a change someone made to the configuration.
// TestAuditedRoutesExist keeps every key a real route.
var auditedRoutes = map[string]auditSpec{
	"POST /accounts":                                                              {action: "account.created", target: "account"},
	"PATCH /accounts/{account_id}":                                                {action: "account.updated", target: "account", idParam: "account_id"},
	"POST /accounts/{account_id}/members":                                         {action: "member.added", target: "user"},
	"PATCH /accounts/{account_id}/members/{user_id}":                              {action: "member.role_changed", target: "user", idParam: "user_id"},
	"DELETE /accounts/{account_id}/members/{user_id}":                             {action: "member.removed", target: "user", idParam: "user_id"},
	"PUT /accounts/{account_id}/members/{user_id}/workspaces/{workspace_id}":      {action: "member.workspace_role_set", target: "user", idParam: "user_id"},
	"POST /accounts/{account_id}/workspaces":                                      {action: "workspace.created", target: "workspace"},
	"PATCH /accounts/{account_id}/workspaces/{workspace_id}":                      {action: "workspace.updated", target: "workspace", idParam: "workspace_id"},
	"DELETE /accounts/{account_id}/workspaces/{workspace_id}":                     {action: "workspace.deleted", target: "workspace", idParam: "workspace_id"},
	"POST /accounts/{account_id}/service_accounts":                                {action: "service_account.created", target: "service_account"},
	"DELETE /accounts/{account_id}/service_accounts/{user_id}":                    {action: "service_account.deleted", target: "service_account", idParam: "user_id"},
	"POST /accounts/{account_id}/service_accounts/{user_id}/api_keys":             {action: "api_key.created", target: "api_key"},
	"DELETE /accounts/{account_id}/service_accounts/{user_id}/api_keys/{id}":      {action: "api_key.deleted", target: "api_key", idParam: "id"},
	"POST /accounts/{account_id}/service_accounts/{user_id}/api_keys/{id}/rotate": {action: "api_key.rotated", target: "api_key", idParam: "id"},
	"POST /me/api_keys":                                                    {action: "api_key.created", target: "api_key", perUser: true},
	"POST /auth/client_key":                                                {action: "api_key.created", target: "api_key", perUser: true},
	"DELETE /me/api_keys/{id}":                                             {action: "api_key.deleted", target: "api_key", idParam: "id", perUser: true},
	"POST /me/api_keys/{id}/rotate":                                        {action: "api_key.rotated", target: "api_key", idParam: "id", perUser: true},
	"POST /accounts/{account_id}/teams":                                    {action: "team.created", target: "team"},
	"PATCH /accounts/{account_id}/teams/{team_id}":                         {action: "team.updated", target: "team", idParam: "team_id"},
	"DELETE /accounts/{account_id}/teams/{team_id}":                        {action: "team.deleted", target: "team", idParam: "team_id"},
	"PUT /accounts/{account_id}/teams/{team_id}/members/{user_id}":         {action: "team.member_added", target: "user", idParam: "user_id"},
	"DELETE /accounts/{account_id}/teams/{team_id}/members/{user_id}":      {action: "team.member_removed", target: "user", idParam: "user_id"},
	"PUT /accounts/{account_id}/teams/{team_id}/workspaces/{workspace_id}": {action: "team.workspace_role_set", target: "team", idParam: "team_id"},
	"POST /accounts/{account_id}/invitations":                              {action: "invitation.created", target: "invitation"},
	"DELETE /accounts/{account_id}/invitations/{id}":                       {action: "invitation.revoked", target: "invitation", idParam: "id"},
	"DELETE /me/sessions/{id}":                                             {action: "session.revoked", target: "session", idParam: "id", perUser: true},

	"POST /deployments":                                {action: "deployment.created", target: "deployment"},
	"PATCH /deployments/{id}":                          {action: "deployment.updated", target: "deployment", idParam: "id"},
	"DELETE /deployments/{id}":                         {action: "deployment.deleted", target: "deployment", idParam: "id"},
	"POST /deployments/bulk_delete":                    {action: "deployment.bulk_deleted", target: "deployment"},
	"POST /deployments/{id}/pause_deployment":          {action: "deployment.paused", target: "deployment", idParam: "id"},
	"POST /deployments/{id}/resume_deployment":         {action: "deployment.resumed", target: "deployment", idParam: "id"},
	"POST /deployments/{id}/schedules":                 {action: "deployment.schedule_created", target: "deployment", idParam: "id"},
	"PATCH /deployments/{id}/schedules/{schedule_id}":  {action: "deployment.schedule_updated", target: "deployment", idParam: "id"},
	"DELETE /deployments/{id}/schedules/{schedule_id}": {action: "deployment.schedule_deleted", target: "deployment", idParam: "id"},
	"POST /block_documents":                            {action: "block.created", target: "block_document"},
	"PATCH /block_documents/{id}":                      {action: "block.updated", target: "block_document", idParam: "id"},
	"DELETE /block_documents/{id}":                     {action: "block.deleted", target: "block_document", idParam: "id"},
	"POST /automations":                                {action: "automation.created", target: "automation"},
	"PUT /automations/{id}":                            {action: "automation.updated", target: "automation", idParam: "id"},
	"PATCH /automations/{id}":                          {action: "automation.updated", target: "automation", idParam: "id"},
	"DELETE /automations/{id}":                         {action: "automation.deleted", target: "automation", idParam: "id"},
	"DELETE /automations/owned-by/{resource_id}":       {action: "automation.deleted", target: "automation", idParam: "resource_id"},
	"POST /work_pools":                                 {action: "work_pool.created", target: "work_pool"},
	"PATCH /work_pools/{name}":                         {action: "work_pool.updated", target: "work_pool", idParam: "name"},
	"DELETE /work_pools/{name}":                        {action: "work_pool.deleted", target: "work_pool", idParam: "name"},
	"POST /variables":                                  {action: "variable.created", target: "variable"},
	"PATCH /variables/{id}":                            {action: "variable.updated", target: "variable", idParam: "id"},
	"PATCH /variables/name/{name}":                     {action: "variable.updated", target: "variable", idParam: "name"},
	"DELETE /variables/{id}":                           {action: "variable.deleted", target: "variable", idParam: "id"},
	"DELETE /variables/name/{name}":                    {action: "variable.deleted", target: "variable", idParam: "name"},
	"POST /webhooks":                                   {action: "webhook.created", target: "webhook"},
	"PUT /webhooks/{id}":                               {action: "webhook.updated", target: "webhook", idParam: "id"},
	"PATCH /webhooks/{id}":                             {action: "webhook.updated", target: "webhook", idParam: "id"},
	"DELETE /webhooks/{id}":                            {action: "webhook.deleted", target: "webhook", idParam: "id"},
	"POST /webhooks/{id}/rotate":                       {action: "webhook.rotated", target: "webhook", idParam: "id"},
	"POST /v2/concurrency_limits":                      {action: "concurrency_limit.created", target: "concurrency_limit"},
	"PATCH /v2/concurrency_limits/{id_or_name}":        {action: "concurrency_limit.updated", target: "concurrency_limit", idParam: "id_or_name"},
	"DELETE /v2/concurrency_limits/{id_or_name}":       {action: "concurrency_limit.deleted", target: "concurrency_limit", idParam: "id_or_name"},
	"PUT /admin/retention":                             {action: "retention.updated", target: "workspace"},
	"DELETE /admin/retention":                          {action: "retention.reset", target: "workspace"},
	"POST /flow_runs/{id}/set_state":                   {action: "flow_run.cancelled", target: "flow_run", idParam: "id", only: cancels},
	"DELETE /flow_runs/{id}":                           {action: "flow_run.deleted", target: "flow_run", idParam: "id"},
	"POST /flow_runs/bulk_delete":                      {action: "flow_run.bulk_deleted", target: "flow_run"},
	"DELETE /flows/{id}":                               {action: "flow.deleted", target: "flow", idParam: "id"},
}

// auditCall records a call of an audited route, in cloud mode: a success
// with its target, or a refusal (403) the handler decided.
func (s *Server) auditCall(c *call, rt *route, res any, err error) {
	t := s.cfg.Tenancy
	if !t.Cloud() {
		return
	}
	spec, ok := auditedRoutes[rt.muxPattern()]
	if !ok {
		return
	}
	p, perr := c.principal()
	if perr != nil {
		return
	}
	e := model.AuditEvent{Action: spec.action, TargetType: spec.target, SourceAddr: clientAddr(c.r)}
	p.Actor(&e)
	if err != nil {
		ae := toAPIError(err)
		if ae.Status != http.StatusForbidden {
			return
		}
		e.Outcome, e.Detail = model.AuditDenied, fmt.Sprint(ae.Detail)
	}
	var fields map[string]any
	if res != nil && err == nil {
		if raw, merr := json.Marshal(res); merr == nil {
			_ = json.Unmarshal(raw, &fields)
		}
	}
	if spec.only != nil && err == nil && !spec.only(fields) {
		return
	}
	switch {
	case spec.idParam != "":
		e.TargetID = c.r.PathValue(spec.idParam)
	case fields["id"] != nil:
		e.TargetID, _ = fields["id"].(string)
	case fields["user_id"] != nil:
		e.TargetID, _ = fields["user_id"].(string)
	}
	if u, ok := fields["user"].(map[string]any); ok && e.TargetID == "" {
		e.TargetID, _ = u["id"].(string)
	}
	for _, k := range []string{"name", "email", "handle", "key"} {
		if v, ok := fields[k].(string); ok && v != "" {
			e.TargetName = v
			break
		}
	}
	if e.TargetName == "" && spec.idParam == "name" {
		e.TargetName = e.TargetID
	}
	if r, ok := fields["role"].(string); ok && e.Detail == "" {
		e.Detail = "role " + r
	}
	if ws := c.ws; ws != model.Nil && !strings.HasPrefix(rt.path, "/accounts") && !strings.HasPrefix(rt.path, "/me") {
		w := ws
		e.WorkspaceID = &w
		e.AccountID, _ = c.ctx.Value(wsAccountKey).(model.ID)
	}
	if g, ok := c.ctx.Value(accountGrantKey{}).(accountGrant); ok {
		e.AccountID = g.id
		if wid, perr := model.ParseID(c.r.PathValue("workspace_id")); perr == nil {
			e.WorkspaceID = &wid
		}
	}
	switch {
	case spec.perUser || rt.path == "/accounts" && !p.Server:
		if rt.path == "/accounts" && e.TargetID != "" {
			// The new account's own log starts with its creation.
			if id, perr := model.ParseID(e.TargetID); perr == nil {
				e.AccountID = id
				t.Audit(c.ctx, e)
				return
			}
		}
		t.AuditUser(c.ctx, p.User.ID, e)
	case e.AccountID != model.Nil:
		t.Audit(c.ctx, e)
	}
}

// auditDenied records a request authorize refused (403, or 404 for a
// caller without a role there) from a known caller, in the log of the
// account it reached for: the attempt is what the account's owners need to
// see. Callers without a valid credential (401) are in the server log only.
func (s *Server) auditDenied(r *http.Request, rt *route, aerr *Error) {
	t := s.cfg.Tenancy
	if !t.Cloud() || aerr.Status != http.StatusForbidden && aerr.Status != http.StatusNotFound {
		return
	}
	p, err := authenticateRequest(r.Context(), t, r)
	if err != nil || p.Server {
		return
	}
	e := model.AuditEvent{Action: "access.denied", Outcome: model.AuditDenied, TargetType: "route", TargetID: rt.method + " " + rt.path,
		SourceAddr: clientAddr(r), Detail: fmt.Sprint(aerr.Detail)}
	p.Actor(&e)
	if spec, ok := auditedRoutes[rt.muxPattern()]; ok {
		e.Action = spec.action
	}
	switch rt.access {
	case accountRead, accountManage, accountOwn:
		v := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/accounts/"), "/", 2)[0]
		acc, err := model.ParseID(v)
		if err != nil {
			return
		}
		if _, err := t.Account(r.Context(), acc); err != nil {
			return // no such account: nobody to tell
		}
		e.AccountID = acc
	case wsRead, wsWrite, wsReadSecrets:
		acc, _ := r.Context().Value(wsAccountKey).(model.ID)
		if acc == model.Nil {
			return
		}
		ws := workspaceOf(r)
		e.AccountID, e.WorkspaceID = acc, &ws
	default:
		return
	}
	t.Audit(r.Context(), e)
}

// auditQuery reads the audit log's query parameters.
func auditQuery(c *call) (tenancy.AuditQuery, error) {
	q := c.r.URL.Query()
	var out tenancy.AuditQuery
	out.Actions = q["action"]
	out.ActionPrefix = q.Get("action_prefix")
	out.TargetID = q.Get("target_id")
	out.Outcome = q.Get("outcome")
	for _, f := range []struct {
		name string
		dst  **model.ID
	}{{"actor_id", &out.ActorID}, {"workspace_id", &out.WorkspaceID}} {
		if v := q.Get(f.name); v != "" {
			id, err := model.ParseID(v)
			if err != nil {
				return out, errorf(http.StatusUnprocessableEntity, "query parameter %q: %q is not a valid UUID", f.name, v)
			}
			*f.dst = &id
		}
	}
	for _, f := range []struct {
		name string
		dst  **model.Time
	}{{"since", &out.Since}, {"until", &out.Until}} {
		if v := q.Get(f.name); v != "" {
			// An unescaped "+" of a UTC offset arrives as a space.
			v = strings.ReplaceAll(v, " ", "+")
			var tm model.Time
			if err := json.Unmarshal([]byte(`"`+strings.ReplaceAll(v, `"`, ``)+`"`), &tm); err != nil {
				return out, errorf(http.StatusUnprocessableEntity, "query parameter %q: %q is not an ISO 8601 date-time", f.name, v)
			}
			*f.dst = &tm
		}
	}
	var err error
	if out.Limit, err = c.queryInt("limit", 0); err != nil {
		return out, err
	}
	if out.Offset, err = c.queryInt("offset", 0); err != nil {
		return out, err
	}
	return out, nil
}

func auditRoutes() []route {
	acc := idParam("account_id", "The account")
	q := func(name, typ, doc string) param { return param{name: name, in: "query", typ: typ, doc: doc} }
	return []route{
		op(accountManage, "GET", "/accounts/{account_id}/audit_log", "Cloud",
			"The account's audit log, newest first (owners and admins): sign-ins, keys, members, roles, workspaces, deployments, blocks, automations, cancelled runs and refused requests", 200,
			func(c *call, _ *noBody) ([]model.AuditEvent, error) {
				id, _ := c.account()
				f, err := auditQuery(c)
				if err != nil {
					return nil, err
				}
				return c.srv.cfg.Tenancy.AuditLog(c.ctx, id, f)
			}, acc,
			q("action", "string", "Only these actions (repeatable), e.g. auth.signin"),
			q("action_prefix", "string", "Only actions starting with this, e.g. deployment."),
			q("actor_id", "uuid", "Only this actor"),
			q("target_id", "string", "Only this target"),
			q("workspace_id", "uuid", "Only this workspace"),
			q("outcome", "string", "success, failure or denied"),
			q("since", "string", "From this time (ISO 8601, inclusive)"),
			q("until", "string", "Before this time (ISO 8601)"),
			q("limit", "integer", "At most this many (default 200, at most 1000)"),
			q("offset", "integer", "Skip this many")),
	}
}
