package tenancy

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"time"
)

// CSRFToken derives a session's CSRF token from its secret. A page learns it
// from the sign-in response (or GET /api/auth/session) and echoes it in a
// header; a cross-site page can make the browser send the cookie but cannot
// read the token, so it cannot forge the header.
func CSRFToken(sessionToken string) string {
	sum := sha256.Sum256([]byte("baton-csrf\x00" + sessionToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Credentials are what a caller presents, as its transport (the API)
// extracted them.
type Credentials struct {
	// Key is an API key (or the server key): a bearer credential or the
	// secret of a Basic one.
	Key string
	// KeyPresented reports that the caller sent a key credential at all,
	// even one that could not be parsed: a present but wrong credential
	// fails even when a valid session is also there.
	KeyPresented bool
	// Session is the session cookie's secret ("" when none).
	Session string
	// Loopback reports that the caller is on this machine.
	Loopback bool
}

// Authenticate decides who presents c.
//
// Server mode: everyone is the server principal, except that when a server
// key is configured a caller from another machine must present it.
//
// Cloud mode: an API key, else the session; neither is ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, c Credentials) (Principal, error) {
	if !s.Cloud() {
		if s.cfg.ServerKey == "" || c.Loopback {
			return Principal{Server: true}, nil
		}
		if c.Key != "" && subtle.ConstantTimeCompare([]byte(c.Key), []byte(s.cfg.ServerKey)) == 1 {
			return Principal{Server: true}, nil
		}
		return Principal{}, ErrUnauthenticated
	}
	if c.KeyPresented {
		return s.AuthenticateKey(ctx, c.Key)
	}
	if c.Session != "" {
		return s.AuthenticateSession(ctx, c.Session)
	}
	return Principal{}, ErrUnauthenticated
}

// SessionTTL is how long a new browser session lasts.
func (s *Service) SessionTTL() time.Duration { return s.cfg.SessionTTL }
