package tenancy

import (
	"errors"
	"net/url"
)

// OIDCProvider configures sign-in through an OpenID Connect provider
// (GitHub through its OIDC-compatible apps, Google, or any issuer).
//
// Status: configuration and validation only. The flow is designed as the
// standard authorization-code flow with PKCE:
//  1. GET /api/auth/oidc/{name}/start redirects to the issuer's
//     authorization endpoint (from {Issuer}/.well-known/openid-configuration)
//     with a random state and PKCE verifier kept in a short-lived,
//     HttpOnly cookie;
//  2. the issuer redirects back to RedirectURL with a code; the server
//     exchanges it (ClientID/ClientSecret), verifies the ID token's
//     signature (issuer JWKS), issuer, audience, nonce and expiry;
//  3. the verified e-mail (email_verified must be true) is matched to a
//     user (created on first sign-in when sign-up is open) and a session
//     opens exactly as after a password sign-in.
//
// Steps 1-3 are not implemented yet; GET /api/auth/providers lists the
// configured providers (name and display name, never the secret) so the UI
// can show the buttons once they are.
type OIDCProvider struct {
	// Name is the URL-safe identifier ("github", "google").
	Name string `toml:"name"`
	// DisplayName is shown on the sign-in button.
	DisplayName string `toml:"display_name"`
	// Issuer is the OIDC issuer URL (https://accounts.google.com).
	Issuer string `toml:"issuer"`
	// ClientID and ClientSecret are the OAuth client's credentials.
	ClientID     string `toml:"client_id"`
	ClientSecret string `toml:"client_secret"`
	// RedirectURL is Baton's callback as registered with the provider.
	RedirectURL string `toml:"redirect_url"`
	// Scopes default to openid, email, profile.
	Scopes []string `toml:"scopes"`
}

// Validate names the first missing or malformed field.
func (p OIDCProvider) Validate() error {
	switch {
	case !ValidHandle(p.Name):
		return errors.New("name: must be a lowercase handle")
	case p.ClientID == "":
		return errors.New("client_id: required")
	case p.ClientSecret == "":
		return errors.New("client_secret: required")
	}
	for field, v := range map[string]string{"issuer": p.Issuer, "redirect_url": p.RedirectURL} {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errors.New(field + ": must be an absolute http(s) URL")
		}
	}
	return nil
}
