package tenancy

// Single sign-on: the authorization-code flow with PKCE against an OpenID
// Connect provider (ID token checked by github.com/coreos/go-oidc) or
// GitHub's OAuth2 flow (e-mail from its user/emails API).
//
//  1. SSOStart makes a random state, nonce and PKCE verifier, keeps them
//     (in memory, for SSOStateTTL, once) and returns the provider's
//     authorization URL. The API also puts the state in a cookie, so the
//     callback must come back to the browser that started it.
//  2. SSOFinish takes the state out (a second use finds nothing), trades
//     the code for tokens with the verifier, verifies the ID token
//     (signature from the issuer's JWKS, issuer, audience, expiry) and its
//     nonce, and reads the e-mail, which must be verified by the provider.
//  3. The e-mail links to the existing person with that address, or a
//     new person is provisioned (into the provider's account with its
//     default role, or into an account of their own when sign-up is
//     open), and a session opens as after a password sign-in.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/outbound"
	"github.com/batonhq/baton/internal/store"
)

// SSOStateTTL is how long a started sign-in may take to come back.
const SSOStateTTL = 10 * time.Minute

// maxPendingSSO bounds the started sign-ins kept at once (oldest expire
// first; past the bound a new start is refused with 429).
const maxPendingSSO = 10000

// ssoState is one started sign-in.
type ssoState struct {
	provider    string
	verifier    string
	nonce       string
	next        string
	redirectURL string
	expires     time.Time
}

// SSOProvider returns the configured provider name.
func (s *Service) SSOProvider(name string) (OIDCProvider, bool) {
	for _, p := range s.cfg.OIDC {
		if p.Name == name {
			return p, true
		}
	}
	return OIDCProvider{}, false
}

// ValidNext reports whether next is a path on this site (an open redirect
// is refused: no scheme, no host, no "//" or "/\" that browsers read as
// another host, no control characters).
func ValidNext(next string) bool {
	if next == "" {
		return true
	}
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || len(next) > 2048 {
		return false
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(next)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("tenancy: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// stateKey is how a state is kept: its hash, so a memory dump does not
// hand out live states.
func stateKey(state string) string {
	sum := sha256.Sum256([]byte("baton-sso-state\x00" + state))
	return string(sum[:])
}

// oauthConfig is the OAuth2 client of p.
func (s *Service) oauthConfig(ctx context.Context, p OIDCProvider, redirectURL string) (*oauth2.Config, *oidc.Provider, error) {
	c := &oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, RedirectURL: redirectURL, Scopes: p.Scopes}
	if p.Kind == KindGitHub {
		c.Endpoint = oauth2.Endpoint{AuthURL: p.GitHubURL + "/login/oauth/authorize", TokenURL: p.GitHubURL + "/login/oauth/access_token",
			AuthStyle: oauth2.AuthStyleInParams}
		return c, nil, nil
	}
	op, err := s.oidcProvider(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	c.Endpoint = op.Endpoint()
	return c, op, nil
}

// oidcProvider discovers p's issuer once (a failed discovery is retried
// on the next sign-in).
func (s *Service) oidcProvider(ctx context.Context, p OIDCProvider) (*oidc.Provider, error) {
	s.mu.Lock()
	op, ok := s.discovered[p.Name]
	s.mu.Unlock()
	if ok {
		return op, nil
	}
	dctx, cancel := context.WithTimeout(outbound.OIDCContext(context.WithoutCancel(ctx)), 20*time.Second)
	defer cancel()
	op, err := oidc.NewProvider(dctx, p.Issuer)
	if err != nil {
		s.log.WarnContext(ctx, "tenancy: sso discovery failed", slog.String("provider", p.Name), slog.Any("err", err))
		return nil, fail(Upstream, "sign-in provider %q could not be reached or its discovery document is invalid", p.Name)
	}
	s.mu.Lock()
	s.discovered[p.Name] = op
	s.mu.Unlock()
	return op, nil
}

// SSOStart begins a sign-in with provider name: it returns the URL to send
// the browser to and the state to bind to the browser (a cookie). next is
// where to go afterwards (a path on this site); redirectURL is the
// callback when the provider has none configured.
func (s *Service) SSOStart(ctx context.Context, name, next, redirectURL string) (authURL, state string, err error) {
	if !s.Cloud() {
		return "", "", fail(NotFound, "sign-in is only available in cloud mode (baton server start --mode cloud)")
	}
	p, ok := s.SSOProvider(name)
	if !ok {
		return "", "", fail(NotFound, "sign-in provider %q is not configured", name)
	}
	if !ValidNext(next) {
		return "", "", fail(BadRequest, "query parameter \"next\" must be a path on this site (starting with a single /)")
	}
	if p.RedirectURL != "" {
		redirectURL = p.RedirectURL
	}
	oc, _, err := s.oauthConfig(ctx, p, redirectURL)
	if err != nil {
		return "", "", err
	}
	st := ssoState{provider: name, verifier: oauth2.GenerateVerifier(), next: next, redirectURL: redirectURL, expires: s.now().Add(SSOStateTTL)}
	if state, err = randomToken(); err != nil {
		return "", "", err
	}
	if st.nonce, err = randomToken(); err != nil {
		return "", "", err
	}
	now := s.now()
	s.mu.Lock()
	for k, v := range s.pending {
		if !now.Before(v.expires) {
			delete(s.pending, k)
		}
	}
	full := len(s.pending) >= maxPendingSSO
	if !full {
		s.pending[stateKey(state)] = st
	}
	s.mu.Unlock()
	if full {
		return "", "", &Error{Kind: Throttled, Msg: "too many sign-ins in progress; try again in a minute", RetryAfter: time.Minute}
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(st.verifier)}
	if p.Kind != KindGitHub {
		opts = append(opts, oidc.Nonce(st.nonce))
	}
	return oc.AuthCodeURL(state, opts...), state, nil
}

// SSOCallback is what the provider sent back, plus the state cookie.
type SSOCallback struct {
	Provider string
	// State and Code are the callback's query parameters; Error and
	// ErrorDescription are set when the provider refused.
	State, Code, Error, ErrorDescription string
	// BrowserState is the state cookie of the browser that came back.
	BrowserState string
	// ClientAddr is the browser's address (audit log).
	ClientAddr string
}

// SSOResult is a finished sign-in.
type SSOResult struct {
	Token string
	User  model.User
	// Next is where the browser goes now.
	Next string
	// Created is true when the person was provisioned by this sign-in.
	Created bool
}

// ssoIdentity is what a provider says about the person.
type ssoIdentity struct {
	email    string
	verified bool
	name     string
	subject  string
}

// SSOFinish completes a sign-in (see the package comment of sso.go). Every
// refusal is a 4xx naming the problem (a 502 when the provider itself
// fails) and is recorded in the audit log when an account can be told.
func (s *Service) SSOFinish(ctx context.Context, cb SSOCallback) (SSOResult, error) {
	if !s.Cloud() {
		return SSOResult{}, fail(NotFound, "sign-in is only available in cloud mode (baton server start --mode cloud)")
	}
	p, ok := s.SSOProvider(cb.Provider)
	if !ok {
		return SSOResult{}, fail(NotFound, "sign-in provider %q is not configured", cb.Provider)
	}
	refuse := func(u *model.User, email, detail string, err error) (SSOResult, error) {
		s.ssoRefused(ctx, p, u, email, cb.ClientAddr, detail)
		return SSOResult{}, err
	}
	if cb.State == "" {
		return refuse(nil, "", "missing state", fail(BadRequest, "query parameter \"state\" is required"))
	}
	// Take the state out first: whatever happens next, it is used.
	now := s.now()
	s.mu.Lock()
	st, found := s.pending[stateKey(cb.State)]
	delete(s.pending, stateKey(cb.State))
	s.mu.Unlock()
	switch {
	case !found:
		return refuse(nil, "", "unknown or replayed state",
			fail(BadRequest, "sign-in state is unknown, expired or already used; start the sign-in again"))
	case !now.Before(st.expires):
		return refuse(nil, "", "expired state", fail(BadRequest, "sign-in took longer than %s; start the sign-in again", SSOStateTTL))
	case st.provider != p.Name:
		return refuse(nil, "", "state of another provider", fail(BadRequest, "sign-in state belongs to another provider; start the sign-in again"))
	case cb.BrowserState == "" || cb.BrowserState != cb.State:
		return refuse(nil, "", "state not bound to this browser",
			fail(BadRequest, "sign-in state does not match this browser's (cookies blocked, or a link from someone else); start the sign-in again"))
	}
	if cb.Error != "" {
		msg := cb.Error
		if cb.ErrorDescription != "" {
			msg += ": " + cb.ErrorDescription
		}
		return refuse(nil, "", "provider error "+cb.Error, fail(Forbidden, "the sign-in provider refused: %s", msg))
	}
	if cb.Code == "" {
		return refuse(nil, "", "missing code", fail(BadRequest, "query parameter \"code\" is required"))
	}
	oc, op, err := s.oauthConfig(ctx, p, st.redirectURL)
	if err != nil {
		return SSOResult{}, err
	}
	hctx := outbound.OIDCContext(ctx)
	tok, err := oc.Exchange(hctx, cb.Code, oauth2.VerifierOption(st.verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
			return refuse(nil, "", "code refused: "+re.ErrorCode,
				fail(BadRequest, "the sign-in provider refused the code (expired, already used or not issued to Baton): %s", re.ErrorCode))
		}
		s.log.WarnContext(ctx, "tenancy: sso code exchange failed", slog.String("provider", p.Name), slog.Any("err", err))
		return SSOResult{}, fail(Upstream, "the sign-in provider %q did not answer the code exchange", p.Name)
	}
	var id ssoIdentity
	if p.Kind == KindGitHub {
		id, err = githubIdentity(hctx, p, tok)
	} else {
		id, err = oidcIdentity(hctx, p, op, tok, st.nonce)
	}
	if err != nil {
		return refuse(nil, "", err.Error(), err)
	}
	email, err := normalizeEmail(id.email)
	if err != nil || id.email == "" {
		return refuse(nil, "", "no e-mail", fail(Forbidden, "the sign-in provider gave no usable e-mail address"))
	}
	existing, _, uerr := s.st.UserByEmail(ctx, email)
	if uerr != nil && !errors.Is(uerr, store.ErrNotFound) {
		return SSOResult{}, uerr
	}
	var known *model.User
	if uerr == nil {
		known = &existing
	}
	if !id.verified {
		return refuse(known, email, "e-mail not verified",
			fail(Forbidden, "the sign-in provider has not verified %s; verify it there first", email))
	}
	if len(p.AllowedDomains) > 0 {
		_, domain, _ := strings.Cut(email, "@")
		allowed := false
		for _, d := range p.AllowedDomains {
			allowed = allowed || domain == d
		}
		if !allowed {
			return refuse(known, email, "domain not allowed",
				fail(Forbidden, "e-mail domain %q may not sign in with %s", domain, p.DisplayName))
		}
	}
	res := SSOResult{Next: st.next}
	if known != nil {
		res.User = *known
	} else {
		if res.User, err = s.provision(ctx, p, email, id.name); err != nil {
			if te := (*Error)(nil); errors.As(err, &te) {
				return refuse(nil, email, te.Msg, err)
			}
			return SSOResult{}, err
		}
		res.Created = true
	}
	if res.Token, err = s.openSession(ctx, res.User, cb.ClientAddr, "sso:"+p.Name); err != nil {
		return SSOResult{}, err
	}
	return res, nil
}

// oidcIdentity verifies the ID token of tok and reads its claims.
func oidcIdentity(ctx context.Context, p OIDCProvider, op *oidc.Provider, tok *oauth2.Token, nonce string) (ssoIdentity, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return ssoIdentity{}, fail(Upstream, "the sign-in provider %q returned no ID token", p.Name)
	}
	idt, err := op.Verifier(&oidc.Config{ClientID: p.ClientID}).Verify(ctx, raw)
	if err != nil {
		return ssoIdentity{}, fail(BadRequest, "the ID token was refused: %s", err.Error())
	}
	if idt.Nonce != nonce {
		return ssoIdentity{}, fail(BadRequest, "the ID token's nonce does not match this sign-in (replayed token)")
	}
	var c struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"`
		Name          string `json:"name"`
		Preferred     string `json:"preferred_username"`
	}
	if err := idt.Claims(&c); err != nil {
		return ssoIdentity{}, fail(BadRequest, "the ID token's claims are malformed")
	}
	verified := c.EmailVerified == true || c.EmailVerified == "true"
	name := c.Name
	if name == "" {
		name = c.Preferred
	}
	return ssoIdentity{email: c.Email, verified: verified, name: name, subject: idt.Subject}, nil
}

// githubIdentity reads the person from GitHub's user and user/emails APIs:
// the primary verified e-mail, else another verified one.
func githubIdentity(ctx context.Context, p OIDCProvider, tok *oauth2.Token) (ssoIdentity, error) {
	get := func(path string, out any) error {
		err := outbound.GetJSON(ctx, p.GitHubAPIURL+path, map[string]string{
			"Authorization": "Bearer " + tok.AccessToken, "Accept": "application/vnd.github+json"}, out)
		var st *outbound.StatusError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &st):
			return fail(Upstream, "GitHub API %s answered %d", path, st.Code)
		case errors.Is(err, outbound.ErrMalformed):
			return fail(Upstream, "GitHub API %s answered malformed JSON", path)
		default:
			return fail(Upstream, "GitHub API (%s) could not be reached", path)
		}
	}
	var user struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
		Name  string `json:"name"`
	}
	if err := get("/user", &user); err != nil {
		return ssoIdentity{}, err
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := get("/user/emails", &emails); err != nil {
		return ssoIdentity{}, err
	}
	id := ssoIdentity{name: user.Name, subject: fmt.Sprint(user.ID)}
	if id.name == "" {
		id.name = user.Login
	}
	for _, e := range emails {
		if e.Verified && (e.Primary || id.email == "" || !id.verified) {
			id.email, id.verified = e.Email, true
		}
		if e.Primary && id.email == "" {
			id.email = e.Email // unverified primary: refused later by name
		}
	}
	return id, nil
}

// provision creates a person on first sign-in.
func (s *Service) provision(ctx context.Context, p OIDCProvider, email, name string) (model.User, error) {
	var acct model.Account
	if p.Account != "" {
		a, err := s.st.AccountByHandle(ctx, p.Account)
		if errors.Is(err, store.ErrNotFound) {
			return model.User{}, fail(Forbidden, "sign-in provider %q provisions into account %q, which does not exist", p.Name, p.Account)
		} else if err != nil {
			return model.User{}, err
		}
		acct = a
	} else if s.cfg.SignUpDisabled {
		return model.User{}, fail(Forbidden, "no user has the e-mail %s and sign-up is disabled; ask an administrator to invite you", email)
	}
	if strings.TrimSpace(name) == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	now := model.NewTime(s.now())
	u := model.User{ID: model.NewID(), Email: email, Name: name, Created: now}
	if err := s.st.UserCreate(ctx, store.UserCreate{User: u}); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return model.User{}, fail(Conflict, "a user with this e-mail already exists")
		}
		return model.User{}, err
	}
	role := p.DefaultRole
	if acct.ID == model.Nil {
		// An account of their own, as a sign-up makes.
		base := handleFrom(strings.SplitN(email, "@", 2)[0])
		acct = model.Account{ID: model.NewID(), Name: base, Handle: base, Created: now}
		err := s.st.AccountCreate(ctx, acct)
		for i := 0; errors.Is(err, store.ErrConflict) && i < 5; i++ {
			suffix, _ := randomBase62(4)
			acct.Handle = base + "-" + strings.ToLower(suffix)
			err = s.st.AccountCreate(ctx, acct)
		}
		if err != nil {
			_ = s.st.UserDelete(ctx, u.ID)
			return model.User{}, publicStoreError(err, "account")
		}
		role = model.RoleOwner
	}
	if err := s.st.MemberSet(ctx, acct.ID, u.ID, role); err != nil {
		return model.User{}, err
	}
	s.invalidate()
	s.log.InfoContext(ctx, "tenancy: user provisioned by sso", slog.String("user_id", u.ID.String()), slog.String("provider", p.Name),
		slog.String("account", acct.Handle), slog.String("role", string(role)))
	uid := u.ID
	s.Audit(ctx, model.AuditEvent{AccountID: acct.ID, Action: "member.provisioned", ActorID: &uid, ActorName: email, TargetType: "user",
		TargetID: u.ID.String(), TargetName: email, Detail: fmt.Sprintf("sso:%s role %s", p.Name, role)})
	return u, nil
}

// ssoRefused logs a refused sign-in and records it in the audit log: of
// the person's accounts when the e-mail is known, else of the provider's
// account when it has one.
func (s *Service) ssoRefused(ctx context.Context, p OIDCProvider, u *model.User, email, addr, detail string) {
	s.log.InfoContext(ctx, "tenancy: sso sign-in refused", slog.String("provider", p.Name), slog.String("addr", addr), slog.String("reason", detail))
	e := model.AuditEvent{Action: "auth.signin_failed", Outcome: model.AuditFailure, ActorName: email, TargetType: "sso_provider",
		TargetID: p.Name, TargetName: p.DisplayName, SourceAddr: addr, Detail: "sso:" + p.Name + ": " + detail}
	if u != nil {
		s.AuditUser(ctx, u.ID, e)
		return
	}
	if p.Account != "" {
		if a, err := s.st.AccountByHandle(ctx, p.Account); err == nil {
			e.AccountID = a.ID
			s.Audit(ctx, e)
		}
	}
}
