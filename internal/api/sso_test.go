package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/ssotest"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/tenancy"
)

// ssoEnv is a cloud-mode Baton with an OpenID provider ("test", running
// in-process on loopback) and a GitHub-style one ("github") configured.
type ssoEnv struct {
	*cloudServer
	op    *ssotest.OIDC
	gh    *ssotest.GitHub
	skew  atomic.Int64 // added to Baton's clock, in ns
	acme  tenant
	store tenancy.Store
}

const (
	ssoClientSecret = "gh-client-secret-" + "never-logged-9f3a"
)

func newSSOEnv(t *testing.T, mod func(*tenancy.OIDCProvider)) *ssoEnv {
	t.Helper()
	op, err := ssotest.StartOIDC()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.Shutdown() })
	gh, err := ssotest.StartGitHub("gh-client", ssoClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gh.Close() })
	e := &ssoEnv{op: op, gh: gh}

	dbPath := filepath.Join(t.TempDir(), "baton.db")
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := testConfig(t, dbPath, tenancy.ModeCloud, log)
	oidcP := tenancy.OIDCProvider{Name: "test", DisplayName: "Test OP", Issuer: op.Issuer(), ClientID: op.ClientID, ClientSecret: op.ClientSecret,
		Account: "acme", DefaultRole: model.RoleDeveloper}
	ghP := tenancy.OIDCProvider{Name: "github", Kind: tenancy.KindGitHub, ClientID: "gh-client", ClientSecret: ssoClientSecret,
		GitHubURL: gh.URL, GitHubAPIURL: gh.URL + "/api", Account: "acme"}
	if mod != nil {
		mod(&oidcP)
	}
	e.store = cfg.Store.(tenancy.Store)
	ten, err := tenancy.New(tenancy.Config{Store: e.store, Mode: tenancy.ModeCloud, Logger: log, OIDC: []tenancy.OIDCProvider{oidcP, ghP},
		Now: func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Tenancy = ten
	srv, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e.cloudServer = &cloudServer{Server: hs, t: t, srv: srv, ten: ten, dbPath: dbPath, logs: logs}
	e.acme = e.bootstrap("owner@acme.test", "acme", "prod")
	return e
}

// browser is a cookie-keeping client that does not follow redirects.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// begin starts a sign-in with provider and follows the provider's
// redirect, returning Baton's callback URL (with code and state) unvisited.
func (e *ssoEnv) begin(c *http.Client, provider, next string) string {
	e.t.Helper()
	u := e.URL + "/api/auth/sso/" + provider + "/start"
	if next != "" {
		u += "?next=" + url.QueryEscape(next)
	}
	resp, body := get(e.t, c, u)
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("start: %d %s", resp.StatusCode, body)
	}
	auth := resp.Header.Get("Location")
	au, _ := url.Parse(auth)
	for _, p := range []string{"state", "code_challenge", "redirect_uri"} {
		if au.Query().Get(p) == "" {
			e.t.Fatalf("authorization URL lacks %s: %s", p, auth)
		}
	}
	if au.Query().Get("code_challenge_method") != "S256" {
		e.t.Fatalf("authorization URL without PKCE S256: %s", auth)
	}
	if provider == "test" && au.Query().Get("nonce") == "" {
		e.t.Fatalf("authorization URL without nonce: %s", auth)
	}
	resp, body = get(e.t, c, auth)
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("provider authorize: %d %s", resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

// finish visits the callback and returns the status, Location and body.
func (e *ssoEnv) finish(c *http.Client, callback string) (int, string, string) {
	e.t.Helper()
	resp, body := get(e.t, c, callback)
	return resp.StatusCode, resp.Header.Get("Location"), body
}

// me is GET /api/me with c's session.
func (e *ssoEnv) me(c *http.Client) (int, model.User) {
	resp, body := get(e.t, c, e.URL+"/api/me")
	var u model.User
	_ = json.Unmarshal([]byte(body), &u)
	return resp.StatusCode, u
}

func (e *ssoEnv) audit(action string) []model.AuditEvent {
	evs, err := e.store.AuditList(context.Background(), store.AuditFilter{AccountID: e.acme.account.ID, Actions: []string{action}, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func wantRefused(t *testing.T, what string, code int, body string, status int, words string) {
	t.Helper()
	if code != status || !strings.Contains(body, words) {
		t.Fatalf("%s: %d %s, want %d naming %q", what, code, body, status, words)
	}
}

// TestSSOSignInOIDC: the full authorization-code flow with the in-process
// OpenID provider provisions a new person into the provider's account
// with its default role, opens a session and lands on next; a second
// sign-in finds the same person; an existing password user is linked by
// their verified e-mail, not duplicated.
func TestSSOSignInOIDC(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t, nil)
	e.op.QueueVerifiedUser("sub-ada", "ada@acme.test", true)
	c := browser(t)
	code, loc, body := e.finish(c, e.begin(c, "test", "/runs?tab=1"))
	if code != http.StatusFound || loc != "/runs?tab=1" {
		t.Fatalf("callback: %d %q %s", code, loc, body)
	}
	st, u := e.me(c)
	if st != 200 || u.Email != "ada@acme.test" {
		t.Fatalf("me after sso: %d %+v", st, u)
	}
	role, err := e.store.UserWorkspaceRole(context.Background(), u.ID, e.acme.ws.ID)
	if err != nil || role != model.RoleDeveloper {
		t.Fatalf("provisioned role: %q %v, want developer", role, err)
	}
	// Again: the same person, not a second one.
	e.op.QueueVerifiedUser("sub-ada", "ADA@acme.test", true)
	c2 := browser(t)
	if code, _, body := e.finish(c2, e.begin(c2, "test", "")); code != http.StatusFound {
		t.Fatalf("second sign-in: %d %s", code, body)
	}
	if _, u2 := e.me(c2); u2.ID != u.ID {
		t.Fatalf("second sign-in made another user: %s vs %s", u2.ID, u.ID)
	}
	// The password owner, linked by verified e-mail.
	e.op.QueueVerifiedUser("sub-owner", "owner@acme.test", true)
	c3 := browser(t)
	if code, _, body := e.finish(c3, e.begin(c3, "test", "")); code != http.StatusFound {
		t.Fatalf("owner sign-in: %d %s", code, body)
	}
	if _, u3 := e.me(c3); u3.ID != e.acme.user.ID {
		t.Fatalf("owner linked to %s, want %s", u3.ID, e.acme.user.ID)
	}
	ok := 0
	for _, ev := range e.audit("auth.signin") {
		if ev.Detail == "sso:test" && ev.Outcome == model.AuditSuccess {
			ok++
		}
	}
	if ok < 3 {
		t.Fatalf("audit log has %d sso sign-ins, want 3", ok)
	}
	if len(e.audit("member.provisioned")) != 1 {
		t.Fatal("provisioning not in the audit log")
	}
	if strings.Contains(e.logs.String(), e.op.ClientSecret) || strings.Contains(e.logs.String(), ssoClientSecret) {
		t.Fatal("a client secret reached the log")
	}
}

// TestSSORefusals: each attack on the flow is a clear 4xx, leaves no
// session and is recorded in the audit log.
func TestSSORefusals(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t, nil)
	t.Run("wrong state", func(t *testing.T) {
		c := browser(t)
		cb, _ := url.Parse(e.begin(c, "test", ""))
		q := cb.Query()
		q.Set("state", q.Get("state")+"x")
		cb.RawQuery = q.Encode()
		code, _, body := e.finish(c, cb.String())
		wantRefused(t, "wrong state", code, body, 400, "state is unknown")
	})
	t.Run("replayed state", func(t *testing.T) {
		c := browser(t)
		cb := e.begin(c, "test", "")
		if code, _, body := e.finish(c, cb); code != http.StatusFound {
			t.Fatalf("first use: %d %s", code, body)
		}
		// The attacker replays the whole callback with the state cookie.
		u, _ := url.Parse(cb)
		c.Jar.SetCookies(u, []*http.Cookie{{Name: ssoStateCookie, Value: u.Query().Get("state"), Path: "/api/auth/sso/"}})
		code, _, body := e.finish(c, cb)
		wantRefused(t, "replayed state", code, body, 400, "already used")
	})
	t.Run("state of another browser", func(t *testing.T) {
		victim := browser(t)
		cb := e.begin(browser(t), "test", "") // the attacker's sign-in
		code, _, body := e.finish(victim, cb)
		wantRefused(t, "login CSRF", code, body, 400, "does not match this browser")
		if st, _ := e.me(victim); st != 401 {
			t.Fatalf("victim got a session: %d", st)
		}
	})
	t.Run("expired state", func(t *testing.T) {
		c := browser(t)
		cb := e.begin(c, "test", "")
		e.skew.Add(int64(tenancy.SSOStateTTL + time.Minute))
		defer e.skew.Add(-int64(tenancy.SSOStateTTL + time.Minute))
		code, _, body := e.finish(c, cb)
		wantRefused(t, "expired state", code, body, 400, "longer than")
	})
	t.Run("expired code", func(t *testing.T) {
		c := browser(t)
		cb := e.begin(c, "test", "")
		e.op.FastForward(ssotest.CodeTTL + time.Second)
		code, _, body := e.finish(c, cb)
		wantRefused(t, "expired code", code, body, 400, "refused the code")
	})
	t.Run("tampered code", func(t *testing.T) {
		c := browser(t)
		cb, _ := url.Parse(e.begin(c, "test", ""))
		q := cb.Query()
		q.Set("code", "forged-"+q.Get("code"))
		cb.RawQuery = q.Encode()
		code, _, body := e.finish(c, cb.String())
		wantRefused(t, "tampered code", code, body, 400, "refused the code")
	})
	t.Run("code of another sign-in", func(t *testing.T) {
		// Code injection: the attacker's code (issued for another state,
		// PKCE challenge and nonce) pasted into this browser's callback.
		attacker := browser(t)
		stolen, _ := url.Parse(e.begin(attacker, "test", ""))
		c := browser(t)
		cb, _ := url.Parse(e.begin(c, "test", ""))
		q := cb.Query()
		q.Set("code", stolen.Query().Get("code"))
		cb.RawQuery = q.Encode()
		code, _, body := e.finish(c, cb.String())
		wantRefused(t, "injected code", code, body, 400, "refused the code")
		if st, _ := e.me(c); st != 401 {
			t.Fatalf("injected code got a session: %d", st)
		}
	})
	t.Run("unverified email", func(t *testing.T) {
		e.op.QueueVerifiedUser("sub-eve", "owner@acme.test", false) // claims the owner's address
		c := browser(t)
		code, _, body := e.finish(c, e.begin(c, "test", ""))
		wantRefused(t, "unverified e-mail", code, body, 403, "not verified")
		if st, _ := e.me(c); st != 401 {
			t.Fatalf("unverified e-mail got a session: %d", st)
		}
	})
	t.Run("open redirect", func(t *testing.T) {
		c := browser(t)
		for _, next := range []string{"https://evil.test/", "//evil.test/x", "/\\evil.test", "javascript:alert(1)", "http:/evil.test"} {
			resp, body := get(t, c, e.URL+"/api/auth/sso/test/start?next="+url.QueryEscape(next))
			wantRefused(t, "next="+next, resp.StatusCode, body, 400, "path on this site")
		}
	})
	t.Run("provider error", func(t *testing.T) {
		c := browser(t)
		cb, _ := url.Parse(e.begin(c, "test", ""))
		q := cb.Query()
		q.Del("code")
		q.Set("error", "access_denied")
		cb.RawQuery = q.Encode()
		code, _, body := e.finish(c, cb.String())
		wantRefused(t, "provider error", code, body, 403, "access_denied")
	})
	t.Run("unknown provider", func(t *testing.T) {
		resp, body := get(t, browser(t), e.URL+"/api/auth/sso/nope/start")
		wantRefused(t, "unknown provider", resp.StatusCode, body, 404, "not configured")
	})
	failed := e.audit("auth.signin_failed")
	for _, want := range []string{"unknown or replayed state", "state not bound to this browser", "expired state", "code refused", "e-mail not verified"} {
		found := false
		for _, ev := range failed {
			found = found || (strings.Contains(ev.Detail, want) && ev.Outcome == model.AuditFailure)
		}
		if !found {
			t.Errorf("audit log lacks a refused sign-in %q (have %d)", want, len(failed))
		}
	}
}

// TestSSOTokenFromAnotherIssuer: an ID token that names another issuer
// (signed with the same key, so only the issuer check can catch it) is
// refused.
func TestSSOTokenFromAnotherIssuer(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t, nil)
	other, err := ssotest.StartOIDC()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Shutdown()
	e.op.ServeTokensFrom(other)
	c := browser(t)
	code, _, body := e.finish(c, e.begin(c, "test", ""))
	wantRefused(t, "token of another issuer", code, body, 400, "issued by a different provider")
	if st, _ := e.me(c); st != 401 {
		t.Fatalf("got a session: %d", st)
	}
}

// TestSSODomainRestriction: a provider limited to a domain refuses others;
// without an account to provision into, a stranger needs sign-up open.
func TestSSODomainRestriction(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t, func(p *tenancy.OIDCProvider) { p.AllowedDomains = []string{"ACME.test"} })
	e.op.QueueVerifiedUser("sub-x", "mallory@other.test", true)
	c := browser(t)
	code, _, body := e.finish(c, e.begin(c, "test", ""))
	wantRefused(t, "other domain", code, body, 403, "other.test")
	e.op.QueueVerifiedUser("sub-y", "bob@acme.test", true)
	c = browser(t)
	if code, _, body := e.finish(c, e.begin(c, "test", "")); code != http.StatusFound {
		t.Fatalf("allowed domain: %d %s", code, body)
	}
}

// TestSSOGitHub: GitHub's OAuth2 flow (PKCE, the user/emails API) against
// the GitHub-style server: the primary verified e-mail signs in; a person
// with no verified e-mail is refused.
func TestSSOGitHub(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t, nil)
	e.gh.Queue(ssotest.GitHubUser{ID: 1, Login: "octo", Emails: []ssotest.GitHubEmail{
		{Email: "octo@users.noreply.test", Verified: false}, {Email: "octo@acme.test", Primary: true, Verified: true}}})
	c := browser(t)
	code, loc, body := e.finish(c, e.begin(c, "github", "/flows"))
	if code != http.StatusFound || loc != "/flows" {
		t.Fatalf("github callback: %d %q %s", code, loc, body)
	}
	if st, u := e.me(c); st != 200 || u.Email != "octo@acme.test" || u.Name != "octo" {
		t.Fatalf("me: %d %+v", st, u)
	}
	e.gh.Queue(ssotest.GitHubUser{ID: 2, Login: "eve", Emails: []ssotest.GitHubEmail{{Email: "owner@acme.test", Primary: true, Verified: false}}})
	c = browser(t)
	code, _, body = e.finish(c, e.begin(c, "github", ""))
	wantRefused(t, "github unverified", code, body, 403, "not verified")
	// Replaying the GitHub callback: the state is spent.
	c = browser(t)
	cb := e.begin(c, "github", "")
	if code, _, _ := e.finish(c, cb); code != http.StatusFound {
		t.Fatal("github sign-in failed")
	}
	u, _ := url.Parse(cb)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: ssoStateCookie, Value: u.Query().Get("state"), Path: "/api/auth/sso/"}})
	code, _, body = e.finish(c, cb)
	wantRefused(t, "github replay", code, body, 400, "already used")
	if strings.Contains(e.logs.String(), ssoClientSecret) {
		t.Fatal("the GitHub client secret reached the log")
	}
}

// TestProvidersListed: GET /api/auth/providers lists each provider's name,
// kind and start URL, never its secret.
func TestProvidersListed(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t, nil)
	code, raw := e.call("", "GET", "/api/auth/providers", nil)
	if code != 200 || strings.Contains(string(raw), ssoClientSecret) || strings.Contains(string(raw), e.op.ClientSecret) {
		t.Fatalf("providers: %d %s", code, raw)
	}
	var ps []providerInfo
	_ = json.Unmarshal(raw, &ps)
	if len(ps) != 2 || ps[0].DisplayName != "Test OP" || ps[1].Kind != "github" || ps[1].DisplayName != "GitHub" || ps[0].StartURL != "/api/auth/sso/test/start" {
		t.Fatalf("providers: %+v", ps)
	}
}

// TestClientKeyCallback: the browser half of `prefect cloud login` hands a
// new key only to a login server on this machine.
func TestClientKeyCallback(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t, nil)
	for _, cb := range []string{"https://evil.test", "http://evil.test:8080", "http://localhost", "http://user@localhost:9/", "http://10.0.0.1:80",
		"http://localhost:9/steal", "javascript:alert(1)", "http://127.0.0.1.evil.test:80"} {
		code, raw := e.call(e.acme.key, "POST", "/api/auth/client_key", map[string]any{"callback": cb})
		wantRefused(t, "callback "+cb, code, string(raw), 400, "login server on this machine")
	}
	for _, cb := range []string{"http://localhost:41234", "http://127.0.0.1:5000/", "http://[::1]:7000"} {
		out := e.mustCall(e.acme.key, "POST", "/api/auth/client_key", map[string]any{"callback": cb, "workspace_id": e.acme.ws.ID}, 201)
		key, _ := out["key"].(string)
		if !strings.HasPrefix(key, "pnu_") || out["workspace"] != "acme/prod" {
			t.Fatalf("client key for %s: %v", cb, out)
		}
		e.mustCall(key, "GET", "/api/me/workspaces", nil, 200)
	}
	other := e.bootstrap("x@other.test", "other", "ows")
	code, raw := e.call(e.acme.key, "POST", "/api/auth/client_key", map[string]any{"callback": "http://localhost:1234", "workspace_id": other.ws.ID})
	wantRefused(t, "foreign workspace", code, string(raw), 404, "not found")
}
