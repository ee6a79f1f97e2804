package api

// Single sign-on and the browser half of `prefect cloud login`:
//
//	GET  /api/auth/sso/{name}/start?next=/path  → 302 to the provider
//	GET  /api/auth/sso/{name}/callback          → session cookie, 302 to next
//	POST /api/auth/client_key                   → a new key for a CLI's
//	                                              loopback callback
//
// The flow's checks live in tenancy/sso.go; this file binds the state to
// the browser with a cookie and turns outcomes into redirects or 4xx.

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/tenancy"
)

// ssoStateCookie carries the state of the sign-in this browser started.
const ssoStateCookie = "baton_sso_state"

// ssoCallbackURL is the provider callback under the request's host.
func ssoCallbackURL(r *http.Request, name string) string {
	scheme := "http"
	if secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/api/auth/sso/" + url.PathEscape(name) + "/callback"
}

func ssoStart(w http.ResponseWriter, r *http.Request) {
	s := r.Context().Value(srvKey{}).(*Server)
	name := r.PathValue("name")
	authURL, state, err := s.cfg.Tenancy.SSOStart(r.Context(), name, r.URL.Query().Get("next"), ssoCallbackURL(r, name))
	if err != nil {
		writeError(w, toAPIError(err))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: ssoStateCookie, Value: state, Path: "/api/auth/sso/", MaxAge: int(tenancy.SSOStateTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r)})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, authURL, http.StatusFound)
}

func ssoCallback(w http.ResponseWriter, r *http.Request) {
	s := r.Context().Value(srvKey{}).(*Server)
	q := r.URL.Query()
	cb := tenancy.SSOCallback{Provider: r.PathValue("name"), State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"),
		ErrorDescription: q.Get("error_description"), ClientAddr: clientAddr(r)}
	if ck, err := r.Cookie(ssoStateCookie); err == nil {
		cb.BrowserState = ck.Value
	}
	// The state cookie is spent whatever the outcome.
	http.SetCookie(w, &http.Cookie{Name: ssoStateCookie, Value: "", Path: "/api/auth/sso/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: secure(r)})
	w.Header().Set("Cache-Control", "no-store")
	res, err := s.cfg.Tenancy.SSOFinish(r.Context(), cb)
	if err != nil {
		writeError(w, toAPIError(err))
		return
	}
	http.SetCookie(w, newSessionCookie(r, s.cfg.Tenancy, res.Token))
	next := res.Next
	if next == "" {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusFound)
}

// clientKeyBody is the body of POST /auth/client_key.
type clientKeyBody struct {
	// Callback is the CLI's local login server (http://localhost:PORT),
	// as `prefect cloud login` passes it to /auth/client.
	Callback string `json:"callback" required:"true"`
	// WorkspaceID is the workspace picked in the browser (it must be one
	// the caller reaches); the CLI is told its handle.
	WorkspaceID *model.ID `json:"workspace_id"`
}

// clientKeyResponse is the key to hand to the CLI.
type clientKeyResponse struct {
	tenancy.NewAPIKey
	// Callback is the validated callback the browser posts the key to.
	Callback string `json:"callback"`
	// Workspace is the picked workspace as "account/workspace" ("" when
	// none was picked).
	Workspace string `json:"workspace"`
}

// ValidCLICallback reports whether u is a login server on this machine:
// plain http to localhost, 127.0.0.1 or ::1 with a port, nothing else. A
// key is only ever handed to such an address, so a crafted link cannot
// send one elsewhere.
func ValidCLICallback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Port() == "" || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	if p := strings.TrimSuffix(u.Path, "/"); p != "" {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func clientKey(c *call, b *clientKeyBody) (clientKeyResponse, error) {
	p, err := c.person()
	if err != nil {
		return clientKeyResponse{}, err
	}
	if !ValidCLICallback(b.Callback) {
		return clientKeyResponse{}, errorf(http.StatusBadRequest,
			"field \"callback\" must be a login server on this machine (http://localhost:PORT or http://127.0.0.1:PORT), not %q", b.Callback)
	}
	out := clientKeyResponse{Callback: strings.TrimSuffix(b.Callback, "/")}
	if b.WorkspaceID != nil {
		ws, err := c.srv.cfg.Tenancy.UserWorkspaces(c.ctx, p)
		if err != nil {
			return clientKeyResponse{}, err
		}
		for _, w := range ws {
			if w.Workspace.ID == *b.WorkspaceID {
				out.Workspace = w.Account.Handle + "/" + w.Workspace.Handle
			}
		}
		if out.Workspace == "" {
			return clientKeyResponse{}, errorf(http.StatusNotFound, "workspace %s not found", *b.WorkspaceID)
		}
	}
	name := "cli login " + time.Now().UTC().Format("2006-01-02 15:04:05")
	if out.NewAPIKey, err = c.srv.cfg.Tenancy.CreateAPIKey(c.ctx, p.User.ID, name, nil); err != nil {
		return clientKeyResponse{}, err
	}
	c.status = http.StatusCreated
	return out, nil
}

func ssoRoutes() []route {
	name := param{name: "name", in: "path", typ: "string", required: true, doc: "The provider's name (GET /api/auth/providers)"}
	return []route{
		{access: anyone, method: "GET", path: "/auth/sso/{name}/start", tag: "Cloud", params: []param{name,
			{name: "next", in: "query", typ: "string", doc: "Where to go after signing in: a path on this site"}},
			summary: "Start signing in with a provider: redirects to it (authorization code with PKCE, state and nonce)", raw: ssoStart},
		{access: anyone, method: "GET", path: "/auth/sso/{name}/callback", tag: "Cloud", params: []param{name},
			summary: "The provider's redirect back: checks state, code and ID token, opens a session and redirects to next (400 on a wrong, expired or replayed state or code; 403 on an unverified or disallowed e-mail)", raw: ssoCallback},
		op(authenticated, "POST", "/auth/client_key", "Cloud", "Create an API key for `prefect cloud login` / `baton cloud login` to receive at its loopback callback (400 for any other callback)", 201, clientKey),
	}
}
