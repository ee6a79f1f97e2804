package api

// Authorization: the one step of ServeHTTP that decides whether a caller may
// reach a route (authorize), and what the handlers learn from it (the
// principal, the account grant). The identity endpoints are in
// cloud_identity.go, account administration in cloud_accounts.go.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/tenancy"
)

// principalKey carries the authenticated tenancy.Principal in a request's
// context.
type principalKey struct{}

// accountGrantKey carries the accountGrant of an account route.
type accountGrantKey struct{}

// accountGrant is what authorize established for an account route: the
// path's account and the caller's role in it.
type accountGrant struct {
	id   model.ID
	role model.Role
}

// authorizedKey marks a request whose workspace access has been checked at
// the HTTP level (so a websocket handshake needs no second credential).
type authorizedKey struct{}

// accountLevel reports whether an /accounts/... path (relative to /api) is
// account administration rather than a workspace's API: anything that is
// not /accounts/{a}/workspaces/{w}/<more>. ServeHTTP leaves those paths
// unscoped so the account routes serve them.
func accountLevel(rest string) bool {
	parts := strings.SplitN(strings.TrimPrefix(rest, "/accounts/"), "/", 4)
	return len(parts) < 4 || parts[1] != "workspaces" || parts[3] == ""
}

// authorize is the one authorization step of ServeHTTP: it runs for every
// declared route before its handler and enforces the access the route
// declares, through the server's tenancy service (server mode's open
// authorizer or cloud mode's keys, sessions and roles; there is no server
// without one). Handlers never check permissions again: they read what
// authorize established (call.principal, call.account).
func (s *Server) authorize(r *http.Request, rt *route) (*http.Request, *Error) {
	if rt.access == anyone {
		return r, nil
	}
	if rt.access == undeclared {
		// Unreachable: TestEveryRouteDeclaresAccess keeps every route declared.
		return r, errorf(http.StatusForbidden, "%s %s declares no access level", rt.method, rt.path)
	}
	t := s.cfg.Tenancy
	ctx := r.Context()
	if rt.raw != nil && (rt.path == "/events/in" || rt.path == "/events/out" || rt.path == "/logs/out" || rt.path == "/task_runs/subscriptions/scheduled") && r.Header.Get("Authorization") == "" {
		if _, err := r.Cookie(sessionCookie); err != nil {
			// The websocket handshake authenticates (AuthenticateSocket).
			return r, nil
		}
	}
	p, err := authenticateRequest(ctx, t, r)
	if err != nil {
		return r, s.authError(r, err)
	}
	if err := checkCSRF(r, p); err != nil {
		return r, s.authError(r, err)
	}
	ctx = context.WithValue(ctx, principalKey{}, p)
	if p.KeyID != nil {
		if e := s.keyRate.check(*p.KeyID, time.Now()); e != nil {
			return r, e
		}
	}
	switch rt.access {
	case authenticated:
	case accountRead, accountManage, accountOwn:
		// Membership (404) and the role (403) are checked before the body
		// is even read.
		perm := map[access]tenancy.Permission{accountRead: tenancy.PermRead, accountManage: tenancy.PermManage, accountOwn: tenancy.PermOwn}[rt.access]
		// The mux has not matched yet (no PathValue): the account is the
		// path's second segment.
		v := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/accounts/"), "/", 2)[0]
		acc, err := model.ParseID(v)
		if err != nil {
			return r, errorf(http.StatusUnprocessableEntity, "path parameter %q: %q is not a valid UUID", "account_id", v)
		}
		role, err := t.AuthorizeAccount(ctx, p, acc, perm)
		if err != nil {
			return r, s.authError(r, err)
		}
		ctx = context.WithValue(ctx, accountGrantKey{}, accountGrant{id: acc, role: role})
	case wsRead, wsWrite, wsReadSecrets:
		perm := tenancy.PermWrite
		if rt.access == wsRead || rt.access == wsReadSecrets && !asksForSecrets(r) {
			perm = tenancy.PermRead
		}
		if err := t.AuthorizeWorkspace(ctx, p, workspaceOf(r), perm); err != nil {
			return r, s.authError(r, err)
		}
		if e := s.wsRate.check(workspaceOf(r), time.Now()); e != nil {
			return r, e
		}
		ctx = context.WithValue(ctx, authorizedKey{}, true)
	}
	return r.WithContext(ctx), nil
}

// asksForSecrets reports whether a request sets include_secrets, in its
// query or its JSON body (the body is read and put back for the handler).
func asksForSecrets(r *http.Request) bool {
	if v, _ := strconv.ParseBool(r.URL.Query().Get("include_secrets")); v {
		return true
	}
	if r.Body == nil || r.Method == http.MethodGet {
		return false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRouteBody+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	if err != nil {
		return false
	}
	var b struct {
		IncludeSecrets bool `json:"include_secrets"`
	}
	_ = json.Unmarshal(body, &b)
	return b.IncludeSecrets
}

// authError maps a tenancy decision to the API error, logging denials
// (never the credential).
func (s *Server) authError(r *http.Request, err error) *Error {
	ae := toAPIError(err)
	if ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden {
		s.log.Info("request denied", "method", r.Method, "path", r.URL.Path, "status", ae.Status)
	}
	return ae
}

// AuthenticateSocket is the eventsocket.Authenticator of the event sockets: it
// accepts a handshake already authorized at the HTTP level, and otherwise
// checks the token (auth frame, or the upgrade's Authorization header) as an
// API key with read access (/events/out) or write access (/events/in) to
// the routed workspace.
func (s *Server) AuthenticateSocket(r *http.Request, token string) error {
	if ok, _ := r.Context().Value(authorizedKey{}).(bool); ok {
		return nil
	}
	t := s.cfg.Tenancy
	p, err := authenticateToken(r.Context(), t, r, token)
	if err != nil {
		return err
	}
	perm := tenancy.PermRead
	if strings.HasSuffix(r.URL.Path, "/events/in") {
		perm = tenancy.PermWrite
	}
	return t.AuthorizeWorkspace(r.Context(), p, workspaceOf(r), perm)
}

// principal returns the caller authorize authenticated. Every route but the
// anyone ones has one; a handler of an anyone route asking is a 401.
func (c *call) principal() (tenancy.Principal, error) {
	p, ok := c.ctx.Value(principalKey{}).(tenancy.Principal)
	if !ok {
		return p, errorf(http.StatusUnauthorized, "authentication required")
	}
	return p, nil
}

// person returns the caller when it is a user (not server mode's shared
// principal), for the per-user endpoints.
func (c *call) person() (tenancy.Principal, error) {
	p, err := c.principal()
	if err != nil {
		return p, err
	}
	if p.Server {
		return p, errorf(http.StatusNotFound, "user endpoints need cloud mode (baton server start --mode cloud)")
	}
	return p, nil
}

// account returns the path's account and the caller's role in it, as
// authorize checked them for an account route.
func (c *call) account() (model.ID, model.Role) {
	g, ok := c.ctx.Value(accountGrantKey{}).(accountGrant)
	if !ok {
		// Only account routes call this, and authorize always sets it for
		// them (TestEveryRouteDeclaresAccess pins their access levels).
		panic("api: account() on a route that is not an account route")
	}
	return g.id, g.role
}

// forgetWorkspace drops a deleted workspace from the routing cache.
func (s *Server) forgetWorkspace(acc, id model.ID) {
	s.wsMu.Lock()
	delete(s.wsCache, [2]model.ID{acc, id})
	s.wsMu.Unlock()
}

// idParam declares a UUID path parameter.
func idParam(name, doc string) param {
	return param{name: name, in: "path", typ: "uuid", required: true, doc: doc}
}

// cloudRoutes are Baton's identity and account endpoints.
func cloudRoutes() []route {
	return append(append(append(identityRoutes(), accountRoutes()...), auditRoutes()...), teamRoutes()...)
}
