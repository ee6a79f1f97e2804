package api

// Cloud mode: identity endpoints (sign-up, sign-in, sessions, API keys),
// account administration (members, workspaces, service accounts), the
// Prefect Cloud login endpoint GET /api/me/workspaces, and the
// authorization hook that ServeHTTP calls for every declared route.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// authorizedKey marks a request whose workspace access has been checked at
// the HTTP level (so a websocket handshake needs no second credential).
type authorizedKey struct{}

// accountLevel reports whether an /accounts/... path (relative to /api) is
// account administration rather than a workspace's API: anything that is
// not /accounts/{a}/workspaces/{w}/<more>. ServeHTTP leaves those paths
// unscoped so the routes below serve them.
func accountLevel(rest string) bool {
	parts := strings.SplitN(strings.TrimPrefix(rest, "/accounts/"), "/", 4)
	return len(parts) < 4 || parts[1] != "workspaces" || parts[3] == ""
}

// authorize is the one authorization step of ServeHTTP: it runs for every
// declared route before its handler and enforces the access the route
// declares. Without a tenancy service (tests of other packages) everything
// is allowed.
func (s *Server) authorize(r *http.Request, rt *route) (*http.Request, *Error) {
	if rt.access == anyone {
		return r, nil
	}
	if rt.access == undeclared {
		// Unreachable: TestEveryRouteDeclaresAccess keeps every route declared.
		return r, errorf(http.StatusForbidden, "%s %s declares no access level", rt.method, rt.path)
	}
	t := s.cfg.Tenancy
	if t == nil {
		return r, nil
	}
	ctx := r.Context()
	if rt.raw != nil && (rt.path == "/events/in" || rt.path == "/events/out") && r.Header.Get("Authorization") == "" {
		if _, err := r.Cookie(tenancy.SessionCookie); err != nil {
			// The websocket handshake authenticates (AuthenticateSocket).
			return r, nil
		}
	}
	p, err := t.AuthenticateRequest(ctx, r)
	if err != nil {
		return r, s.authError(r, err)
	}
	if err := tenancy.CheckCSRF(r, p); err != nil {
		return r, s.authError(r, err)
	}
	ctx = context.WithValue(ctx, principalKey{}, p)
	switch rt.access {
	case authenticated:
	case accountRead, accountManage:
		// Membership (404) and, for writes, an admin role (403) are checked
		// before the body is even read.
		perm := tenancy.PermManage
		if rt.access == accountRead {
			perm = tenancy.PermRead
		}
		acc, err := model.ParseID(strings.SplitN(strings.TrimPrefix(r.URL.Path, "/accounts/"), "/", 2)[0])
		if err != nil {
			return r, errorf(http.StatusNotFound, "account not found")
		}
		if _, err := t.AuthorizeAccount(ctx, p, acc, perm); err != nil {
			return r, s.authError(r, err)
		}
	case wsRead, wsWrite, wsReadSecrets:
		perm := tenancy.PermWrite
		if rt.access == wsRead || rt.access == wsReadSecrets && !asksForSecrets(r) {
			perm = tenancy.PermRead
		}
		if err := t.AuthorizeWorkspace(ctx, p, workspaceOf(r), perm); err != nil {
			return r, s.authError(r, err)
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
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
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
	var te *tenancy.Error
	if errors.As(err, &te) {
		if te.Status == http.StatusUnauthorized || te.Status == http.StatusForbidden {
			s.log.Info("request denied", "method", r.Method, "path", r.URL.Path, "status", te.Status)
		}
		return &Error{Status: te.Status, Detail: te.Msg, RetryAfter: te.RetryAfter}
	}
	return toAPIError(err)
}

// AuthenticateSocket is the events.SocketsConfig.Authenticate hook: it
// accepts a handshake already authorized at the HTTP level, and otherwise
// checks the token (auth frame, or the upgrade's Authorization header) as an
// API key with read access (/events/out) or write access (/events/in) to
// the routed workspace.
func (s *Server) AuthenticateSocket(r *http.Request, token string) error {
	t := s.cfg.Tenancy
	if t == nil {
		return nil
	}
	if ok, _ := r.Context().Value(authorizedKey{}).(bool); ok {
		return nil
	}
	p, err := t.AuthenticateToken(r.Context(), r, token)
	if err != nil {
		return err
	}
	perm := tenancy.PermRead
	if strings.HasSuffix(r.URL.Path, "/events/in") {
		perm = tenancy.PermWrite
	}
	return t.AuthorizeWorkspace(r.Context(), p, workspaceOf(r), perm)
}

// principal returns the caller, or 401 when the route was reached without
// one (cloud routes in a server without a tenancy service).
func (c *call) principal() (tenancy.Principal, *tenancy.Service, error) {
	t := c.srv.cfg.Tenancy
	if t == nil {
		return tenancy.Principal{}, nil, errorf(http.StatusNotFound, "cloud endpoints are not enabled on this server")
	}
	p, ok := c.ctx.Value(principalKey{}).(tenancy.Principal)
	if !ok {
		return p, t, errorf(http.StatusUnauthorized, "authentication required")
	}
	return p, t, nil
}

// person returns the caller when it is a user (not server mode's shared
// principal), for the per-user endpoints.
func (c *call) person() (tenancy.Principal, *tenancy.Service, error) {
	p, t, err := c.principal()
	if err != nil {
		return p, t, err
	}
	if p.Server {
		return p, t, errorf(http.StatusNotFound, "user endpoints need cloud mode (baton server start --mode cloud)")
	}
	return p, t, nil
}

// tenancyErr maps a tenancy error to an API error.
func tenancyErr(err error) error {
	var te *tenancy.Error
	if errors.As(err, &te) {
		return &Error{Status: te.Status, Detail: te.Msg, RetryAfter: te.RetryAfter}
	}
	return err
}

// accountAccess authorizes perm on the {account_id} of the path.
func (c *call) accountAccess(perm tenancy.Permission) (model.ID, model.Role, *tenancy.Service, error) {
	p, t, err := c.principal()
	if err != nil {
		return model.Nil, "", t, err
	}
	acc, err := c.pathID("account_id")
	if err != nil {
		return acc, "", t, err
	}
	role, err := t.AuthorizeAccount(c.ctx, p, acc, perm)
	return acc, role, t, tenancyErr(err)
}

// --- response shapes ------------------------------------------------------

// meWorkspace is one item of GET /api/me/workspaces, in Prefect Cloud's
// shape (the Prefect CLI parses it), plus the caller's role.
type meWorkspace struct {
	AccountID            model.ID   `json:"account_id"`
	AccountName          string     `json:"account_name"`
	AccountHandle        string     `json:"account_handle"`
	WorkspaceID          model.ID   `json:"workspace_id"`
	WorkspaceName        string     `json:"workspace_name"`
	WorkspaceDescription string     `json:"workspace_description"`
	WorkspaceHandle      string     `json:"workspace_handle"`
	Role                 model.Role `json:"role"`
}

// sessionInfo describes the signed-in caller.
type sessionInfo struct {
	User      model.User `json:"user"`
	CSRFToken string     `json:"csrf_token"`
	Mode      string     `json:"mode"`
}

// signInBody is the body of POST /auth/signin.
type signInBody struct {
	Email    string `json:"email" required:"true"`
	Password string `json:"password" required:"true"`
}

// signUpResponse is what sign-up created plus the new session's CSRF token.
type signUpResponse struct {
	tenancy.SignUpResult
	CSRFToken string `json:"csrf_token"`
}

// providerInfo is a configured single-sign-on provider (never its secret).
type providerInfo struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

// keyCreate is the body of API key creation.
type keyCreate struct {
	Name string `json:"name" required:"true"`
	// Expiration is when the key stops working (null: never).
	Expiration *model.Time `json:"expiration"`
}

// accountCreate is the body of POST /accounts.
type accountCreate struct {
	Name   string `json:"name"`
	Handle string `json:"handle" required:"true"`
}

// accountUpdate is the body of PATCH /accounts/{account_id}.
type accountUpdate struct {
	Name   *string `json:"name"`
	Handle *string `json:"handle"`
}

// memberAdd is the body of POST /accounts/{account_id}/members.
type memberAdd struct {
	Email string     `json:"email" required:"true"`
	Role  model.Role `json:"role" required:"true"`
}

// roleBody carries a role.
type roleBody struct {
	Role model.Role `json:"role" required:"true"`
}

// workspaceRoleBody is the body of PUT …/members/{user_id}/workspaces/{w}.
type workspaceRoleBody struct {
	// Role is the workspace role; empty removes it.
	Role model.Role `json:"role"`
}

// botCreate is the body of POST /accounts/{account_id}/service_accounts.
type botCreate struct {
	Name string     `json:"name" required:"true"`
	Role model.Role `json:"role" required:"true"`
}

// botWithKey is a new service account and its first key (shown once).
type botWithKey struct {
	User   model.User         `json:"user"`
	Role   model.Role         `json:"role"`
	APIKey *tenancy.NewAPIKey `json:"api_key"`
}

func setSession(c *call, t *tenancy.Service, token string) {
	http.SetCookie(c.w, t.NewSessionCookie(c.r, token))
}

var idParam = func(name, doc string) param {
	return param{name: name, in: "path", typ: "uuid", required: true, doc: doc}
}

func cloudRoutes() []route {
	acc := idParam("account_id", "The account")
	wsp := idParam("workspace_id", "The workspace")
	return []route{
		op(authenticated, "GET", "/me/workspaces", "Cloud", "Workspaces the caller can reach (what `prefect cloud login` reads)", 200, func(c *call, _ *noBody) ([]meWorkspace, error) {
			p, t, err := c.principal()
			if err != nil {
				return nil, err
			}
			as, err := t.UserWorkspaces(c.ctx, p)
			if err != nil {
				return nil, err
			}
			out := make([]meWorkspace, 0, len(as))
			for _, a := range as {
				out = append(out, meWorkspace{AccountID: a.Account.ID, AccountName: a.Account.Name, AccountHandle: a.Account.Handle,
					WorkspaceID: a.Workspace.ID, WorkspaceName: a.Workspace.Name, WorkspaceDescription: a.Workspace.Description,
					WorkspaceHandle: a.Workspace.Handle, Role: a.Role})
			}
			return out, nil
		}),
		op(authenticated, "GET", "/me", "Cloud", "The signed-in user", 200, func(c *call, _ *noBody) (model.User, error) {
			p, _, err := c.person()
			return p.User, err
		}),
		op(authenticated, "GET", "/me/accounts", "Cloud", "Accounts the caller belongs to, with roles", 200, func(c *call, _ *noBody) ([]model.AccountMember, error) {
			p, t, err := c.person()
			if err != nil {
				return nil, err
			}
			return t.Accounts(c.ctx, p.User.ID)
		}),
		op(authenticated, "GET", "/me/api_keys", "Cloud", "The caller's API keys (never their secrets)", 200, func(c *call, _ *noBody) ([]model.APIKey, error) {
			p, t, err := c.person()
			if err != nil {
				return nil, err
			}
			return t.ListAPIKeys(c.ctx, p.User.ID)
		}),
		op(authenticated, "POST", "/me/api_keys", "Cloud", "Create an API key; the response holds the key, shown only this once", 201, func(c *call, b *keyCreate) (tenancy.NewAPIKey, error) {
			p, t, err := c.person()
			if err != nil {
				return tenancy.NewAPIKey{}, err
			}
			var exp *time.Time
			if b.Expiration != nil {
				exp = &b.Expiration.Time
			}
			k, err := t.CreateAPIKey(c.ctx, p.User.ID, b.Name, exp)
			return k, tenancyErr(err)
		}),
		op(authenticated, "DELETE", "/me/api_keys/{id}", "Cloud", "Revoke an API key", 204, func(c *call, _ *noBody) (noContent, error) {
			p, t, err := c.person()
			if err != nil {
				return noContent{}, err
			}
			id, err := c.pathID("id")
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, tenancyErr(t.DeleteAPIKey(c.ctx, p.User.ID, id))
		}, idParam("id", "The key")),
		op(authenticated, "POST", "/me/api_keys/{id}/rotate", "Cloud", "Give a key a new secret (shown once); the old one stops working", 200, func(c *call, _ *noBody) (tenancy.NewAPIKey, error) {
			p, t, err := c.person()
			if err != nil {
				return tenancy.NewAPIKey{}, err
			}
			id, err := c.pathID("id")
			if err != nil {
				return tenancy.NewAPIKey{}, err
			}
			k, err := t.RotateAPIKey(c.ctx, p.User.ID, id)
			return k, tenancyErr(err)
		}, idParam("id", "The key")),

		op(anyone, "POST", "/auth/signup", "Cloud", "Create a user and the account they own, and sign in", 201, func(c *call, b *tenancy.SignUp) (signUpResponse, error) {
			t := c.srv.cfg.Tenancy
			if t == nil {
				return signUpResponse{}, errorf(http.StatusNotFound, "cloud endpoints are not enabled on this server")
			}
			res, err := t.SignUp(c.ctx, *b)
			if err != nil {
				return signUpResponse{}, tenancyErr(err)
			}
			token, _, err := t.SignIn(c.ctx, b.Email, b.Password, tenancy.ClientAddr(c.r))
			if err != nil {
				return signUpResponse{}, tenancyErr(err)
			}
			setSession(c, t, token)
			return signUpResponse{SignUpResult: res, CSRFToken: tenancy.CSRFToken(token)}, nil
		}),
		op(anyone, "POST", "/auth/signin", "Cloud", "Sign in with e-mail and password (sets the session cookie; throttled after repeated failures)", 200, func(c *call, b *signInBody) (sessionInfo, error) {
			t := c.srv.cfg.Tenancy
			if t == nil {
				return sessionInfo{}, errorf(http.StatusNotFound, "cloud endpoints are not enabled on this server")
			}
			token, u, err := t.SignIn(c.ctx, b.Email, b.Password, tenancy.ClientAddr(c.r))
			if err != nil {
				return sessionInfo{}, tenancyErr(err)
			}
			setSession(c, t, token)
			return sessionInfo{User: u, CSRFToken: tenancy.CSRFToken(token), Mode: string(t.Mode())}, nil
		}),
		op(anyone, "POST", "/auth/signout", "Cloud", "End the browser session", 204, func(c *call, _ *noBody) (noContent, error) {
			t := c.srv.cfg.Tenancy
			if t == nil {
				return noContent{}, nil
			}
			if ck, err := c.r.Cookie(tenancy.SessionCookie); err == nil {
				p, err := t.AuthenticateSession(c.ctx, ck.Value)
				if err == nil {
					if err := tenancy.CheckCSRF(c.r, p); err != nil {
						return noContent{}, tenancyErr(err)
					}
				}
				if err := t.SignOut(c.ctx, ck.Value); err != nil {
					return noContent{}, err
				}
			}
			http.SetCookie(c.w, tenancy.ClearSessionCookie(c.r))
			return noContent{}, nil
		}),
		op(anyone, "GET", "/auth/session", "Cloud", "The current browser session and its CSRF token (401 when signed out)", 200, func(c *call, _ *noBody) (sessionInfo, error) {
			t := c.srv.cfg.Tenancy
			if t == nil || !t.Cloud() {
				return sessionInfo{Mode: string(tenancy.ModeServer)}, nil
			}
			ck, err := c.r.Cookie(tenancy.SessionCookie)
			if err != nil {
				return sessionInfo{}, errorf(http.StatusUnauthorized, "not signed in")
			}
			p, err := t.AuthenticateSession(c.ctx, ck.Value)
			if err != nil {
				return sessionInfo{}, tenancyErr(err)
			}
			return sessionInfo{User: p.User, CSRFToken: p.CSRFToken(), Mode: string(t.Mode())}, nil
		}),
		op(anyone, "GET", "/auth/providers", "Cloud", "Configured single-sign-on providers", 200, func(c *call, _ *noBody) ([]providerInfo, error) {
			out := []providerInfo{}
			if t := c.srv.cfg.Tenancy; t != nil {
				for _, p := range t.OIDCProviders() {
					out = append(out, providerInfo{Name: p.Name, DisplayName: p.DisplayName})
				}
			}
			return out, nil
		}),

		op(authenticated, "POST", "/accounts", "Cloud", "Create an account owned by the caller", 201, func(c *call, b *accountCreate) (model.Account, error) {
			p, t, err := c.person()
			if err != nil {
				return model.Account{}, err
			}
			a, err := t.CreateAccount(c.ctx, p.User.ID, b.Name, b.Handle)
			return a, tenancyErr(err)
		}),
		op(accountRead, "GET", "/accounts/{account_id}", "Cloud", "Read an account", 200, func(c *call, _ *noBody) (model.Account, error) {
			id, _, t, err := c.accountAccess(tenancy.PermRead)
			if err != nil {
				return model.Account{}, err
			}
			a, err := t.Account(c.ctx, id)
			return a, tenancyErr(err)
		}, acc),
		op(accountManage, "PATCH", "/accounts/{account_id}", "Cloud", "Rename an account or change its handle (owners)", 204, func(c *call, b *accountUpdate) (noContent, error) {
			id, _, t, err := c.accountAccess(tenancy.PermOwn)
			if err != nil {
				return noContent{}, err
			}
			a, err := t.Account(c.ctx, id)
			if err != nil {
				return noContent{}, tenancyErr(err)
			}
			if b.Name != nil {
				a.Name = *b.Name
			}
			if b.Handle != nil {
				a.Handle = *b.Handle
			}
			_, err = t.UpdateAccount(c.ctx, a)
			return noContent{}, tenancyErr(err)
		}, acc),
		op(accountRead, "GET", "/accounts/{account_id}/members", "Cloud", "An account's members and their roles", 200, func(c *call, _ *noBody) ([]model.AccountMember, error) {
			id, _, t, err := c.accountAccess(tenancy.PermRead)
			if err != nil {
				return nil, err
			}
			return t.Members(c.ctx, id)
		}, acc),
		op(accountManage, "POST", "/accounts/{account_id}/members", "Cloud", "Add an existing user (by e-mail) with a role, or change their role (admins)", 201, func(c *call, b *memberAdd) (model.AccountMember, error) {
			id, role, t, err := c.accountAccess(tenancy.PermManage)
			if err != nil {
				return model.AccountMember{}, err
			}
			m, err := t.SetMember(c.ctx, role, id, b.Email, b.Role)
			return m, tenancyErr(err)
		}, acc),
		op(accountManage, "PATCH", "/accounts/{account_id}/members/{user_id}", "Cloud", "Change a member's role (admins; owners for the owner role)", 200, func(c *call, b *roleBody) (model.AccountMember, error) {
			id, role, t, err := c.accountAccess(tenancy.PermManage)
			if err != nil {
				return model.AccountMember{}, err
			}
			uid, err := c.pathID("user_id")
			if err != nil {
				return model.AccountMember{}, err
			}
			m, err := t.SetMemberRole(c.ctx, role, id, uid, b.Role)
			return m, tenancyErr(err)
		}, acc, idParam("user_id", "The member")),
		op(accountManage, "DELETE", "/accounts/{account_id}/members/{user_id}", "Cloud", "Remove a member (admins; owners for owners)", 204, func(c *call, _ *noBody) (noContent, error) {
			id, role, t, err := c.accountAccess(tenancy.PermManage)
			if err != nil {
				return noContent{}, err
			}
			uid, err := c.pathID("user_id")
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, tenancyErr(t.RemoveMember(c.ctx, role, id, uid))
		}, acc, idParam("user_id", "The member")),

		op(accountRead, "GET", "/accounts/{account_id}/workspaces", "Cloud", "An account's workspaces", 200, func(c *call, _ *noBody) ([]model.WorkspaceDetails, error) {
			id, _, t, err := c.accountAccess(tenancy.PermRead)
			if err != nil {
				return nil, err
			}
			return t.Workspaces(c.ctx, id)
		}, acc),
		op(accountManage, "POST", "/accounts/{account_id}/workspaces", "Cloud", "Create a workspace (admins)", 201, func(c *call, b *tenancy.WorkspaceInput) (model.WorkspaceDetails, error) {
			id, _, t, err := c.accountAccess(tenancy.PermManage)
			if err != nil {
				return model.WorkspaceDetails{}, err
			}
			w, err := t.CreateWorkspace(c.ctx, id, *b)
			return w, tenancyErr(err)
		}, acc),
		op(accountRead, "GET", "/accounts/{account_id}/workspaces/{workspace_id}", "Cloud", "Read a workspace", 200, func(c *call, _ *noBody) (model.WorkspaceDetails, error) {
			id, _, t, err := c.accountAccess(tenancy.PermRead)
			if err != nil {
				return model.WorkspaceDetails{}, err
			}
			wid, err := c.pathID("workspace_id")
			if err != nil {
				return model.WorkspaceDetails{}, err
			}
			w, err := t.Workspace(c.ctx, id, wid)
			return w, tenancyErr(err)
		}, acc, wsp),
		op(accountManage, "PATCH", "/accounts/{account_id}/workspaces/{workspace_id}", "Cloud", "Edit a workspace's name, handle or description (admins)", 200, func(c *call, b *tenancy.WorkspaceInput) (model.WorkspaceDetails, error) {
			id, _, t, err := c.accountAccess(tenancy.PermManage)
			if err != nil {
				return model.WorkspaceDetails{}, err
			}
			wid, err := c.pathID("workspace_id")
			if err != nil {
				return model.WorkspaceDetails{}, err
			}
			w, err := t.UpdateWorkspace(c.ctx, id, wid, *b)
			return w, tenancyErr(err)
		}, acc, wsp),
		op(accountManage, "DELETE", "/accounts/{account_id}/workspaces/{workspace_id}", "Cloud", "Delete a workspace and everything in it (admins)", 204, func(c *call, _ *noBody) (noContent, error) {
			id, _, t, err := c.accountAccess(tenancy.PermManage)
			if err != nil {
				return noContent{}, err
			}
			wid, err := c.pathID("workspace_id")
			if err != nil {
				return noContent{}, err
			}
			if err := t.DeleteWorkspace(c.ctx, id, wid); err != nil {
				return noContent{}, tenancyErr(err)
			}
			c.srv.forgetWorkspace(id, wid)
			return noContent{}, nil
		}, acc, wsp),
		op(accountManage, "PUT", "/accounts/{account_id}/members/{user_id}/workspaces/{workspace_id}", "Cloud", "Give a user a role on one workspace (admins; empty role removes it)", 204, func(c *call, b *workspaceRoleBody) (noContent, error) {
			id, _, t, err := c.accountAccess(tenancy.PermManage)
			if err != nil {
				return noContent{}, err
			}
			wid, err := c.pathID("workspace_id")
			if err != nil {
				return noContent{}, err
			}
			uid, err := c.pathID("user_id")
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, tenancyErr(t.SetWorkspaceRole(c.ctx, id, wid, uid, b.Role))
		}, acc, wsp, idParam("user_id", "The user")),

		op(accountManage, "POST", "/accounts/{account_id}/service_accounts", "Cloud", "Create a service account with a role and its first key (shown once) (admins)", 201, func(c *call, b *botCreate) (botWithKey, error) {
			id, _, t, err := c.accountAccess(tenancy.PermManage)
			if err != nil {
				return botWithKey{}, err
			}
			u, err := t.CreateServiceAccount(c.ctx, id, b.Name, b.Role)
			if err != nil {
				return botWithKey{}, tenancyErr(err)
			}
			k, err := t.CreateAPIKey(c.ctx, u.ID, b.Name, nil)
			if err != nil {
				return botWithKey{}, tenancyErr(err)
			}
			return botWithKey{User: u, Role: b.Role, APIKey: &k}, nil
		}, acc),
		op(accountRead, "GET", "/accounts/{account_id}/service_accounts/{user_id}/api_keys", "Cloud", "A service account's keys (admins)", 200, func(c *call, _ *noBody) ([]model.APIKey, error) {
			id, _, t, err := c.accountAccess(tenancy.PermManage)
			if err != nil {
				return nil, err
			}
			uid, err := c.pathID("user_id")
			if err != nil {
				return nil, err
			}
			if _, err := t.ServiceAccount(c.ctx, id, uid); err != nil {
				return nil, tenancyErr(err)
			}
			return t.ListAPIKeys(c.ctx, uid)
		}, acc, idParam("user_id", "The service account")),
		op(accountManage, "POST", "/accounts/{account_id}/service_accounts/{user_id}/api_keys", "Cloud", "Create a key for a service account (shown once) (admins)", 201, func(c *call, b *keyCreate) (tenancy.NewAPIKey, error) {
			id, _, t, err := c.accountAccess(tenancy.PermManage)
			if err != nil {
				return tenancy.NewAPIKey{}, err
			}
			uid, err := c.pathID("user_id")
			if err != nil {
				return tenancy.NewAPIKey{}, err
			}
			if _, err := t.ServiceAccount(c.ctx, id, uid); err != nil {
				return tenancy.NewAPIKey{}, tenancyErr(err)
			}
			var exp *time.Time
			if b.Expiration != nil {
				exp = &b.Expiration.Time
			}
			k, err := t.CreateAPIKey(c.ctx, uid, b.Name, exp)
			return k, tenancyErr(err)
		}, acc, idParam("user_id", "The service account")),
		op(accountManage, "DELETE", "/accounts/{account_id}/service_accounts/{user_id}/api_keys/{id}", "Cloud", "Revoke a service account's key (admins)", 204, func(c *call, _ *noBody) (noContent, error) {
			id, _, t, err := c.accountAccess(tenancy.PermManage)
			if err != nil {
				return noContent{}, err
			}
			uid, err := c.pathID("user_id")
			if err != nil {
				return noContent{}, err
			}
			kid, err := c.pathID("id")
			if err != nil {
				return noContent{}, err
			}
			if _, err := t.ServiceAccount(c.ctx, id, uid); err != nil {
				return noContent{}, tenancyErr(err)
			}
			return noContent{}, tenancyErr(t.DeleteAPIKey(c.ctx, uid, kid))
		}, acc, idParam("user_id", "The service account"), idParam("id", "The key")),
		op(accountManage, "POST", "/accounts/{account_id}/service_accounts/{user_id}/api_keys/{id}/rotate", "Cloud", "Give a service account's key a new secret (shown once); the old one stops working (admins)", 200, func(c *call, _ *noBody) (tenancy.NewAPIKey, error) {
			id, _, t, err := c.accountAccess(tenancy.PermManage)
			if err != nil {
				return tenancy.NewAPIKey{}, err
			}
			uid, err := c.pathID("user_id")
			if err != nil {
				return tenancy.NewAPIKey{}, err
			}
			kid, err := c.pathID("id")
			if err != nil {
				return tenancy.NewAPIKey{}, err
			}
			if _, err := t.ServiceAccount(c.ctx, id, uid); err != nil {
				return tenancy.NewAPIKey{}, tenancyErr(err)
			}
			k, err := t.RotateAPIKey(c.ctx, uid, kid)
			return k, tenancyErr(err)
		}, acc, idParam("user_id", "The service account"), idParam("id", "The key")),
		op(accountManage, "DELETE", "/accounts/{account_id}/service_accounts/{user_id}", "Cloud", "Delete a service account and its keys (admins)", 204, func(c *call, _ *noBody) (noContent, error) {
			id, _, t, err := c.accountAccess(tenancy.PermManage)
			if err != nil {
				return noContent{}, err
			}
			uid, err := c.pathID("user_id")
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, tenancyErr(t.DeleteServiceAccount(c.ctx, id, uid))
		}, acc, idParam("user_id", "The service account")),
	}
}

// forgetWorkspace drops a deleted workspace from the routing cache.
func (s *Server) forgetWorkspace(acc, id model.ID) {
	s.wsMu.Lock()
	delete(s.wsCache, [2]model.ID{acc, id})
	s.wsMu.Unlock()
}
