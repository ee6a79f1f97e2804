package tenancy

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// SessionCookie is the name of the browser session cookie.
const SessionCookie = "baton_session"

// CSRFHeader is the header browser writes carry the CSRF token in.
const CSRFHeader = "X-CSRF-Token"

// CSRFToken derives a session's CSRF token from its secret. A page learns it
// from the sign-in response (or GET /api/auth/session) and echoes it in
// CSRFHeader; a cross-site page can make the browser send the cookie but
// cannot read the token, so it cannot forge the header.
func CSRFToken(sessionToken string) string {
	sum := sha256.Sum256([]byte("baton-csrf\x00" + sessionToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Credential extracts what a request presents: a bearer key, or the
// secret part of a Basic credential (Prefect's PREFECT_API_AUTH_STRING is
// "user:password"; the password, or the whole string when it has no
// colon, is taken as the key).
func Credential(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, cred, ok := strings.Cut(h, " ")
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

// IsLoopback reports whether the request comes from this machine.
func IsLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ClientAddr is the address sign-in throttling counts failures against.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// AuthenticateRequest decides who r is.
//
// Server mode: everyone is the server principal, except that when a server
// key is configured a non-loopback request must present it.
//
// Cloud mode: a bearer (or Basic) API key, else the session cookie; neither
// is ErrUnauthenticated. A credential that is present but wrong fails even
// when a valid cookie is also there.
func (s *Service) AuthenticateRequest(ctx context.Context, r *http.Request) (Principal, error) {
	cred := Credential(r)
	if !s.Cloud() {
		if s.cfg.ServerKey == "" || IsLoopback(r) {
			return Principal{Server: true}, nil
		}
		if cred != "" && subtle.ConstantTimeCompare([]byte(cred), []byte(s.cfg.ServerKey)) == 1 {
			return Principal{Server: true}, nil
		}
		return Principal{}, ErrUnauthenticated
	}
	if r.Header.Get("Authorization") != "" {
		return s.AuthenticateKey(ctx, cred)
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		return s.AuthenticateSession(ctx, c.Value)
	}
	return Principal{}, ErrUnauthenticated
}

// AuthenticateToken checks a websocket auth-frame token (or the upgrade's
// header credential) the same way as a request's key.
func (s *Service) AuthenticateToken(ctx context.Context, r *http.Request, token string) (Principal, error) {
	if !s.Cloud() {
		if s.cfg.ServerKey == "" || IsLoopback(r) {
			return Principal{Server: true}, nil
		}
		if _, pass, ok := strings.Cut(token, ":"); ok {
			token = pass
		}
		if token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.ServerKey)) == 1 {
			return Principal{Server: true}, nil
		}
		return Principal{}, ErrUnauthenticated
	}
	if token != "" {
		return s.AuthenticateKey(ctx, token)
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		return s.AuthenticateSession(ctx, c.Value)
	}
	return Principal{}, ErrUnauthenticated
}

// Safe reports whether an HTTP method never changes state (so needs no
// CSRF token).
func Safe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// CheckCSRF protects session-authenticated writes: they must carry the
// session's CSRF token, and an Origin header, when present, must name this
// host. Key-authenticated requests are exempt (a browser never attaches an
// Authorization header cross-site without a CORS preflight Baton refuses).
func CheckCSRF(r *http.Request, p Principal) error {
	if !p.Session || Safe(r.Method) {
		return nil
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return fail(http.StatusForbidden, "Invalid CSRF token or origin: cross-site request refused")
		}
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.CSRFToken())) != 1 {
		return fail(http.StatusForbidden, "Invalid CSRF token: send the X-CSRF-Token header from GET /api/auth/session")
	}
	return nil
}

// Secure reports whether the client reached us over TLS (directly or
// through a proxy that says so), which decides the cookie's Secure flag.
func Secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// NewSessionCookie builds the session cookie: HttpOnly (scripts cannot read
// it), SameSite=Lax (not sent on cross-site subrequests or POSTs), Secure
// under TLS, scoped to the whole site.
func (s *Service) NewSessionCookie(r *http.Request, token string) *http.Cookie {
	return &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/",
		MaxAge: int(s.cfg.SessionTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: Secure(r),
	}
}

// ClearSessionCookie expires the session cookie.
func ClearSessionCookie(r *http.Request) *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: Secure(r)}
}
