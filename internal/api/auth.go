package api

// The HTTP half of authentication: which credentials a request presents
// (bearer or Basic key, session cookie, the peer's address), the session
// cookie itself and the CSRF check of cookie-authenticated writes. The
// decisions are tenancy's (tenancy.Service.Authenticate).

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/batonhq/baton/internal/tenancy"
)

// sessionCookie is the name of the browser session cookie.
const sessionCookie = "baton_session"

// csrfHeader is the header browser writes carry the CSRF token in.
const csrfHeader = "X-CSRF-Token"

// credential extracts the key a request presents: a bearer key, or the
// secret part of a Basic credential (Prefect's PREFECT_API_AUTH_STRING is
// "user:password"; the password, or the whole string when it has no colon,
// is taken as the key).
func credential(r *http.Request) string {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok {
		return ""
	}
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "bearer":
		return cred
	case "basic":
		b, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return ""
		}
		if _, pass, ok := strings.Cut(string(b), ":"); ok {
			return pass
		}
		return string(b)
	}
	return ""
}

// isLoopback reports whether the request comes from this machine.
func isLoopback(r *http.Request) bool {
	ip := net.ParseIP(clientAddr(r))
	return ip != nil && ip.IsLoopback()
}

// clientAddr is the peer's address (what sign-in throttling counts
// failures against).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// sessionOf returns the session cookie's value ("" when none).
func sessionOf(r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// authenticateRequest decides who r is: its Authorization header, else its
// session cookie, and where it comes from.
func authenticateRequest(ctx context.Context, t *tenancy.Service, r *http.Request) (tenancy.Principal, error) {
	return t.Authenticate(ctx, tenancy.Credentials{Key: credential(r), KeyPresented: r.Header.Get("Authorization") != "",
		Session: sessionOf(r), Loopback: isLoopback(r)})
}

// authenticateToken checks a websocket's token (its auth message, or the
// upgrade's decoded Authorization header) as a key. In server mode a Basic
// "user:password" token stands for its password, as over HTTP.
func authenticateToken(ctx context.Context, t *tenancy.Service, r *http.Request, token string) (tenancy.Principal, error) {
	if !t.Cloud() {
		if _, pass, ok := strings.Cut(token, ":"); ok {
			token = pass
		}
	}
	return t.Authenticate(ctx, tenancy.Credentials{Key: token, KeyPresented: token != "", Session: sessionOf(r), Loopback: isLoopback(r)})
}

// safeMethod reports whether an HTTP method never changes state (so needs
// no CSRF token).
func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// errCSRF refuses a session-authenticated write without a valid token.
var errCSRF = &tenancy.Error{Kind: tenancy.Forbidden, Msg: "Invalid CSRF token: send the X-CSRF-Token header from GET /api/auth/session"}

// checkCSRF protects session-authenticated writes: they must carry the
// session's CSRF token, and an Origin header, when present, must name this
// host. Key-authenticated requests are exempt (a browser never attaches an
// Authorization header cross-site without a CORS preflight Baton refuses).
func checkCSRF(r *http.Request, p tenancy.Principal) error {
	if !p.Session || safeMethod(r.Method) {
		return nil
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return &tenancy.Error{Kind: tenancy.Forbidden, Msg: "Invalid CSRF token or origin: cross-site request refused"}
		}
	}
	got := r.Header.Get(csrfHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.CSRFToken())) != 1 {
		return errCSRF
	}
	return nil
}

// secure reports whether the client reached us over TLS (directly or
// through a proxy that says so), which decides the cookie's Secure flag.
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// newSessionCookie builds the session cookie: HttpOnly (scripts cannot read
// it), SameSite=Lax (not sent on cross-site subrequests or POSTs), Secure
// under TLS, scoped to the whole site.
func newSessionCookie(r *http.Request, t *tenancy.Service, token string) *http.Cookie {
	return &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/",
		MaxAge: int(t.SessionTTL().Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r),
	}
}

// clearSessionCookie expires the session cookie.
func clearSessionCookie(r *http.Request) *http.Cookie {
	return &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure(r)}
}
