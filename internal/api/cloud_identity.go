package api

// Identity endpoints: the caller's own resources (/me: workspaces, which is
// what `prefect cloud login` reads, and API keys) and the browser's sign-up,
// sign-in and session.

import (
	"net/http"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/tenancy"
)

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
	// TOTP is the authenticator's code or a recovery code, for users with
	// two-factor sign-in (without it they get 401 "two-factor code
	// required").
	TOTP string `json:"totp"`
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
	// Kind is oidc, google or github.
	Kind string `json:"kind"`
	// StartURL begins the sign-in (append ?next=/path to come back there).
	StartURL string `json:"start_url"`
}

// keyCreate is the body of API key creation.
type keyCreate struct {
	Name string `json:"name" required:"true"`
	// Expiration is when the key stops working (null: never).
	Expiration *model.Time `json:"expiration"`
}

// expiration is a key's optional expiry as a time.
func (b *keyCreate) expiration() *time.Time {
	if b.Expiration == nil {
		return nil
	}
	return &b.Expiration.Time
}

func identityRoutes() []route {
	key := idParam("id", "The key")
	return []route{
		op(authenticated, "GET", "/me/workspaces", "Cloud", "Workspaces the caller can reach (what `prefect cloud login` reads)", 200, meWorkspaces),
		op(authenticated, "GET", "/me", "Cloud", "The signed-in user", 200, func(c *call, _ *noBody) (model.User, error) {
			p, err := c.person()
			return p.User, err
		}),
		op(authenticated, "GET", "/me/accounts", "Cloud", "Accounts the caller belongs to, with roles", 200, func(c *call, _ *noBody) ([]model.AccountMember, error) {
			p, err := c.person()
			if err != nil {
				return nil, err
			}
			return c.srv.cfg.Tenancy.Accounts(c.ctx, p.User.ID)
		}),
		op(authenticated, "GET", "/me/api_keys", "Cloud", "The caller's API keys (never their secrets)", 200, func(c *call, _ *noBody) ([]model.APIKey, error) {
			p, err := c.person()
			if err != nil {
				return nil, err
			}
			return c.srv.cfg.Tenancy.ListAPIKeys(c.ctx, p.User.ID)
		}),
		op(authenticated, "POST", "/me/api_keys", "Cloud", "Create an API key; the response holds the key, shown only this once", 201, func(c *call, b *keyCreate) (tenancy.NewAPIKey, error) {
			p, err := c.person()
			if err != nil {
				return tenancy.NewAPIKey{}, err
			}
			return c.srv.cfg.Tenancy.CreateAPIKey(c.ctx, p.User.ID, b.Name, b.expiration())
		}),
		op(authenticated, "DELETE", "/me/api_keys/{id}", "Cloud", "Revoke an API key", 204, func(c *call, _ *noBody) (noContent, error) {
			p, err := c.person()
			if err != nil {
				return noContent{}, err
			}
			return noContent{}, c.srv.cfg.Tenancy.DeleteAPIKey(c.ctx, p.User.ID, c.id("id"))
		}, key),
		op(authenticated, "POST", "/me/api_keys/{id}/rotate", "Cloud", "Give a key a new secret (shown once); the old one stops working", 200, func(c *call, _ *noBody) (tenancy.NewAPIKey, error) {
			p, err := c.person()
			if err != nil {
				return tenancy.NewAPIKey{}, err
			}
			return c.srv.cfg.Tenancy.RotateAPIKey(c.ctx, p.User.ID, c.id("id"))
		}, key),

		op(anyone, "POST", "/auth/signup", "Cloud", "Create a user and the account they own, and sign in", 201, signUp),
		op(anyone, "POST", "/auth/signin", "Cloud", "Sign in with e-mail and password (sets the session cookie; throttled after repeated failures)", 200, signIn),
		op(anyone, "POST", "/auth/signout", "Cloud", "End the browser session", 204, signOut),
		op(anyone, "GET", "/auth/session", "Cloud", "The current browser session and its CSRF token (401 when signed out)", 200, session),
		op(anyone, "GET", "/auth/providers", "Cloud", "Configured single-sign-on providers", 200, func(c *call, _ *noBody) ([]providerInfo, error) {
			out := []providerInfo{}
			for _, p := range c.srv.cfg.Tenancy.OIDCProviders() {
				out = append(out, providerInfo{Name: p.Name, DisplayName: p.DisplayName, Kind: p.Kind, StartURL: "/api/auth/sso/" + p.Name + "/start"})
			}
			return out, nil
		}),
	}
}

func meWorkspaces(c *call, _ *noBody) ([]meWorkspace, error) {
	p, err := c.principal()
	if err != nil {
		return nil, err
	}
	as, err := c.srv.cfg.Tenancy.UserWorkspaces(c.ctx, p)
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
}

// setSession sets the session cookie of a new sign-in.
func setSession(c *call, token string) {
	http.SetCookie(c.w, newSessionCookie(c.r, c.srv.cfg.Tenancy, token))
}

func signUp(c *call, b *tenancy.SignUp) (signUpResponse, error) {
	t := c.srv.cfg.Tenancy
	res, err := t.SignUp(c.ctx, *b)
	if err != nil {
		return signUpResponse{}, err
	}
	token, _, err := t.SignIn(c.ctx, b.Email, b.Password, clientAddr(c.r))
	if err != nil {
		return signUpResponse{}, err
	}
	setSession(c, token)
	return signUpResponse{SignUpResult: res, CSRFToken: tenancy.CSRFToken(token)}, nil
}

func signIn(c *call, b *signInBody) (sessionInfo, error) {
	t := c.srv.cfg.Tenancy
	token, u, err := t.SignInWith(c.ctx, tenancy.SignInInput{Email: b.Email, Password: b.Password, TOTP: b.TOTP,
		ClientAddr: clientAddr(c.r), UserAgent: c.r.UserAgent()})
	if err != nil {
		return sessionInfo{}, err
	}
	setSession(c, token)
	return sessionInfo{User: u, CSRFToken: tenancy.CSRFToken(token), Mode: string(t.Mode())}, nil
}

func signOut(c *call, _ *noBody) (noContent, error) {
	t := c.srv.cfg.Tenancy
	if ck, err := c.r.Cookie(sessionCookie); err == nil {
		if p, err := t.AuthenticateSession(c.ctx, ck.Value); err == nil {
			if err := checkCSRF(c.r, p); err != nil {
				return noContent{}, err
			}
		}
		if err := t.SignOut(c.ctx, ck.Value); err != nil {
			return noContent{}, err
		}
	}
	http.SetCookie(c.w, clearSessionCookie(c.r))
	return noContent{}, nil
}

func session(c *call, _ *noBody) (sessionInfo, error) {
	t := c.srv.cfg.Tenancy
	if !t.Cloud() {
		return sessionInfo{Mode: string(tenancy.ModeServer)}, nil
	}
	ck, err := c.r.Cookie(sessionCookie)
	if err != nil {
		return sessionInfo{}, errorf(http.StatusUnauthorized, "not signed in")
	}
	p, err := t.AuthenticateSession(c.ctx, ck.Value)
	if err != nil {
		return sessionInfo{}, err
	}
	return sessionInfo{User: p.User, CSRFToken: p.CSRFToken(), Mode: string(t.Mode())}, nil
}
