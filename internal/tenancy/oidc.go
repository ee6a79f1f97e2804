package tenancy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/batonhq/baton/internal/model"
)

// Provider kinds.
const (
	// KindOIDC is any OpenID Connect issuer (Okta, Entra ID, Keycloak,
	// Dex, Authentik...): discovery, authorization code with PKCE, ID
	// token verified by github.com/coreos/go-oidc.
	KindOIDC = "oidc"
	// KindGoogle is KindOIDC with Google's issuer and name filled in.
	KindGoogle = "google"
	// KindGitHub is GitHub's OAuth2 flow: the e-mail comes from its
	// user/emails API (GitHub issues no ID token).
	KindGitHub = "github"
)

// GoogleIssuer is the issuer of a "google" provider.
const GoogleIssuer = "https://accounts.google.com"

// OIDCProvider configures sign-in through an external identity provider
// (see sso.go for the flow). Providers come from baton.toml's [[sso]]
// tables or BATON_SSO_* variables (config.SSOProviders).
//
// ClientSecret is a secret: it is never logged (LogValue and String redact
// it) and never sent to a client.
type OIDCProvider struct {
	// Name is the URL-safe identifier ("google", "github", "okta").
	Name string `toml:"name"`
	// Kind is oidc (default), google or github.
	Kind string `toml:"kind"`
	// DisplayName is shown on the sign-in button ("Continue with ...").
	DisplayName string `toml:"display_name"`
	// Issuer is the OIDC issuer URL (kind oidc; google's is preset).
	Issuer string `toml:"issuer"`
	// ClientID and ClientSecret are the OAuth client's credentials.
	ClientID     string `toml:"client_id"`
	ClientSecret string `toml:"client_secret"`
	// RedirectURL is Baton's callback as registered with the provider
	// ({base}/api/auth/sso/{name}/callback); empty derives it from the
	// request's host.
	RedirectURL string `toml:"redirect_url"`
	// Scopes default to openid, email, profile (github: read:user,
	// user:email).
	Scopes []string `toml:"scopes"`
	// AllowedDomains, when set, admits only e-mails of these domains.
	AllowedDomains []string `toml:"allowed_domains"`
	// Account is the handle of the account that people signing in for
	// the first time join (just-in-time provisioning) with DefaultRole.
	// Empty: a new person gets an account of their own, as a sign-up
	// does (refused when sign-up is disabled).
	Account string `toml:"account"`
	// DefaultRole is the role of people provisioned into Account
	// (default viewer).
	DefaultRole model.Role `toml:"default_role"`
	// GitHubURL and GitHubAPIURL are GitHub's web and API bases (default
	// https://github.com and https://api.github.com; GitHub Enterprise
	// or a test server elsewhere).
	GitHubURL    string `toml:"github_url"`
	GitHubAPIURL string `toml:"github_api_url"`
}

// LogValue keeps the client secret out of logs.
func (p OIDCProvider) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", p.Name), slog.String("kind", p.Kind), slog.String("issuer", p.Issuer),
		slog.String("client_id", p.ClientID), slog.String("client_secret", "[redacted]"))
}

// String describes the provider without its secret.
func (p OIDCProvider) String() string {
	return fmt.Sprintf("sso provider %s (%s, client %s, secret [redacted])", p.Name, p.Kind, p.ClientID)
}

// GoString is String, so %#v does not print the secret either.
func (p OIDCProvider) GoString() string { return p.String() }

// withDefaults fills the kind's presets.
func (p OIDCProvider) withDefaults() OIDCProvider {
	if p.Kind == "" {
		p.Kind = KindOIDC
	}
	switch p.Kind {
	case KindGoogle:
		if p.Issuer == "" {
			p.Issuer = GoogleIssuer
		}
		if p.DisplayName == "" {
			p.DisplayName = "Google"
		}
	case KindGitHub:
		if p.GitHubURL == "" {
			p.GitHubURL = "https://github.com"
		}
		if p.GitHubAPIURL == "" {
			p.GitHubAPIURL = "https://api.github.com"
		}
		if p.DisplayName == "" {
			p.DisplayName = "GitHub"
		}
		if len(p.Scopes) == 0 {
			p.Scopes = []string{"read:user", "user:email"}
		}
	}
	if len(p.Scopes) == 0 {
		p.Scopes = []string{"openid", "email", "profile"}
	}
	if p.DisplayName == "" {
		p.DisplayName = p.Name
	}
	if p.DefaultRole == "" {
		p.DefaultRole = model.RoleViewer
	}
	for i, d := range p.AllowedDomains {
		p.AllowedDomains[i] = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
	}
	p.GitHubURL = strings.TrimRight(p.GitHubURL, "/")
	p.GitHubAPIURL = strings.TrimRight(p.GitHubAPIURL, "/")
	return p
}

// Validate names the first missing or malformed field.
func (p OIDCProvider) Validate() error {
	p = p.withDefaults()
	switch {
	case !ValidHandle(p.Name):
		return errors.New("name: must be a lowercase handle")
	case p.Kind != KindOIDC && p.Kind != KindGoogle && p.Kind != KindGitHub:
		return fmt.Errorf("kind: %q is not one of oidc, google, github", p.Kind)
	case p.ClientID == "":
		return errors.New("client_id: required")
	case p.ClientSecret == "":
		return errors.New("client_secret: required")
	case p.Account != "" && !ValidHandle(p.Account):
		return errors.New("account: must be an account handle")
	case p.DefaultRole == model.RoleOwner:
		return errors.New("default_role: owner cannot be given by sign-in; use admin, developer or viewer")
	case p.DefaultRole != model.RoleAdmin && p.DefaultRole != model.RoleDeveloper && p.DefaultRole != model.RoleViewer:
		return fmt.Errorf("default_role: %q is not one of admin, developer, viewer", p.DefaultRole)
	}
	urls := map[string]string{"redirect_url": p.RedirectURL}
	if p.Kind == KindGitHub {
		urls["github_url"], urls["github_api_url"] = p.GitHubURL, p.GitHubAPIURL
	} else {
		urls["issuer"] = p.Issuer
	}
	for field, v := range urls {
		if v == "" && field == "redirect_url" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errors.New(field + ": must be an absolute http(s) URL")
		}
	}
	for _, d := range p.AllowedDomains {
		if d == "" || strings.ContainsAny(d, "@/ ") {
			return fmt.Errorf("allowed_domains: %q is not a domain", d)
		}
	}
	return nil
}
