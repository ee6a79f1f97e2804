// Package ssotest starts identity providers on loopback for tests: a real
// OpenID provider (github.com/oauth2-proxy/mockoidc: discovery document,
// RSA signing keys, JWKS, authorization code with PKCE, ID tokens) and a
// GitHub-style OAuth2 server (authorize, access_token, /user,
// /user/emails) that answers as GitHub's documented API does. The Go tests
// and the browser tests (e2e/ssoop) use the same servers.
package ssotest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/oauth2-proxy/mockoidc"
)

// CodeTTL is how long an authorization code of the OIDC provider can be
// redeemed (mockoidc itself never expires codes; OPs do, RFC 6749 §4.1.2
// recommends at most 10 minutes).
const CodeTTL = time.Minute

// OIDC is a running OpenID provider.
type OIDC struct {
	*mockoidc.MockOIDC
	mu     sync.Mutex
	issued map[string]time.Time
	// tokenVia, when set, answers token requests instead (a provider that
	// hands out another issuer's tokens).
	tokenVia http.Handler
}

// StartOIDC starts an OpenID provider on 127.0.0.1. Stop it with Shutdown.
func StartOIDC() (*OIDC, error) {
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		return nil, err
	}
	o := &OIDC{MockOIDC: m, issued: map[string]time.Time{}}
	if err := m.AddMiddleware(o.codeExpiry); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return o, m.Start(ln, nil)
}

// ServeTokensFrom makes this provider answer token requests with other's
// token endpoint (other shares this one's sessions, keys and client), so
// the ID token it returns names other's issuer: what a provider mixing up
// tenants, or an attacker replaying a token from elsewhere, would send.
func (o *OIDC) ServeTokensFrom(other *OIDC) {
	other.SessionStore = o.SessionStore
	other.ClientID, other.ClientSecret = o.ClientID, o.ClientSecret
	other.Keypair = o.Keypair
	o.mu.Lock()
	o.tokenVia = http.HandlerFunc(other.Token)
	o.mu.Unlock()
}

// QueueVerifiedUser makes the next sign-in be this person.
func (o *OIDC) QueueVerifiedUser(subject, email string, verified bool) {
	o.QueueUser(&mockoidc.MockUser{Subject: subject, Email: email, EmailVerified: verified, PreferredUsername: strings.Split(email, "@")[0]})
}

// codeExpiry records when each code was issued and refuses it at the token
// endpoint after CodeTTL (as invalid_grant, RFC 6749 §5.2).
func (o *OIDC) codeExpiry(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case mockoidc.AuthorizationEndpoint:
			rec := &locationRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			if u, err := url.Parse(rec.Header().Get("Location")); err == nil {
				if code := u.Query().Get("code"); code != "" {
					o.mu.Lock()
					o.issued[code] = o.Now()
					o.mu.Unlock()
				}
			}
			return
		case mockoidc.TokenEndpoint:
			_ = r.ParseForm()
			o.mu.Lock()
			at, ok := o.issued[r.PostForm.Get("code")]
			via := o.tokenVia
			o.mu.Unlock()
			if ok && o.Now().Sub(at) > CodeTTL {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": "authorization code expired"})
				return
			}
			if via != nil {
				via.ServeHTTP(w, r)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

type locationRecorder struct{ http.ResponseWriter }

// GitHubUser is who the GitHub-style server signs in.
type GitHubUser struct {
	ID     int64
	Login  string
	Name   string
	Emails []GitHubEmail
}

// GitHubEmail is one item of GET /user/emails.
type GitHubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// GitHub is a GitHub-style OAuth2 server: GET /login/oauth/authorize
// approves at once (redirecting back with code and state), POST
// /login/oauth/access_token checks the client, the code (once, CodeTTL)
// and the PKCE verifier, and /api/user and /api/user/emails describe the
// token's user. Base URLs for a provider: URL (github_url) and URL+"/api"
// (github_api_url).
type GitHub struct {
	URL          string
	ClientID     string
	ClientSecret string

	srv   *http.Server
	mu    sync.Mutex
	queue []GitHubUser
	codes map[string]ghCode
	toks  map[string]GitHubUser
	n     int
}

type ghCode struct {
	user      GitHubUser
	challenge string
	redirect  string
	issued    time.Time
}

// StartGitHub starts the server on 127.0.0.1.
func StartGitHub(clientID, clientSecret string) (*GitHub, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	g := &GitHub{URL: "http://" + ln.Addr().String(), ClientID: clientID, ClientSecret: clientSecret,
		codes: map[string]ghCode{}, toks: map[string]GitHubUser{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", g.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", g.token)
	mux.HandleFunc("GET /api/user", g.user)
	mux.HandleFunc("GET /api/user/emails", g.emails)
	g.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = g.srv.Serve(ln) }()
	return g, nil
}

// Close stops the server.
func (g *GitHub) Close() error { return g.srv.Close() }

// Queue makes the next sign-in be u (default: a user with one verified
// primary e-mail, octo@example.com).
func (g *GitHub) Queue(u GitHubUser) {
	g.mu.Lock()
	g.queue = append(g.queue, u)
	g.mu.Unlock()
}

func ghError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (g *GitHub) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != g.ClientID || q.Get("state") == "" || q.Get("redirect_uri") == "" {
		ghError(w, http.StatusBadRequest, "invalid_request", "client_id, state and redirect_uri are required")
		return
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		ghError(w, http.StatusBadRequest, "invalid_request", "PKCE S256 is required")
		return
	}
	g.mu.Lock()
	u := GitHubUser{ID: 583231, Login: "octo", Name: "Octo Cat", Emails: []GitHubEmail{{Email: "octo@example.com", Primary: true, Verified: true}}}
	if len(g.queue) > 0 {
		u, g.queue = g.queue[0], g.queue[1:]
	}
	g.n++
	code := "ghc" + strings.Repeat("x", 4) + time.Now().Format("150405.000000") + string(rune('a'+g.n%26))
	g.codes[code] = ghCode{user: u, challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), issued: time.Now()}
	g.mu.Unlock()
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		ghError(w, http.StatusBadRequest, "invalid_request", "redirect_uri is not a URL")
		return
	}
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (g *GitHub) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	if f.Get("client_id") != g.ClientID || f.Get("client_secret") != g.ClientSecret {
		ghError(w, http.StatusUnauthorized, "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
		return
	}
	g.mu.Lock()
	c, ok := g.codes[f.Get("code")]
	delete(g.codes, f.Get("code"))
	g.mu.Unlock()
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	switch {
	case !ok || time.Since(c.issued) > CodeTTL:
		ghError(w, http.StatusBadRequest, "bad_verification_code", "The code passed is incorrect or expired.")
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge:
		ghError(w, http.StatusBadRequest, "invalid_grant", "The code_verifier does not match the code_challenge.")
		return
	case f.Get("redirect_uri") != c.redirect:
		ghError(w, http.StatusBadRequest, "redirect_uri_mismatch", "The redirect_uri does not match.")
		return
	}
	tok := "gho_" + strings.ReplaceAll(f.Get("code"), ".", "")
	g.mu.Lock()
	g.toks[tok] = c.user
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"access_token": tok, "token_type": "bearer", "scope": "read:user,user:email"})
}

func (g *GitHub) who(w http.ResponseWriter, r *http.Request) (GitHubUser, bool) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	g.mu.Lock()
	u, ok := g.toks[tok]
	g.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"Bad credentials"}`))
	}
	return u, ok
}

func (g *GitHub) user(w http.ResponseWriter, r *http.Request) {
	if u, ok := g.who(w, r); ok {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": u.ID, "login": u.Login, "name": u.Name})
	}
}

func (g *GitHub) emails(w http.ResponseWriter, r *http.Request) {
	if u, ok := g.who(w, r); ok {
		w.Header().Set("Content-Type", "application/json")
		es := u.Emails
		if es == nil {
			es = []GitHubEmail{}
		}
		_ = json.NewEncoder(w).Encode(es)
	}
}
