package tenancy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"

	batonmail "github.com/batonhq/baton/internal/mail"
	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// Mode is how the server treats identity.
type Mode string

const (
	// ModeServer is the default: one workspace, open on loopback, and an
	// optional shared API key required from other addresses.
	ModeServer Mode = "server"
	// ModeCloud requires an API key or a signed-in session with a role on
	// the addressed workspace for every request.
	ModeCloud Mode = "cloud"
)

// ParseMode validates a --mode value.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case ModeServer, ModeCloud:
		return Mode(s), nil
	case "":
		return ModeServer, nil
	}
	return "", fmt.Errorf("mode: %q is not one of server, cloud", s)
}

// Store is what the service needs from storage.
type Store interface {
	store.Tenancy
	store.Workspaces
	store.Audit
}

// Config configures New. Store is required.
type Config struct {
	// Store holds accounts, users, keys and sessions.
	Store Store
	// Mode is server (default) or cloud.
	Mode Mode
	// ServerKey, in server mode, is the key (BATON_API_KEY) that requests
	// from non-loopback addresses must present; empty leaves them open.
	ServerKey string
	// SignUpDisabled turns off self-service sign-up (accounts are then
	// created with `baton admin create-user`).
	SignUpDisabled bool
	// SessionTTL is how long a browser session lasts (default 14 days).
	SessionTTL time.Duration
	// OIDC lists the configured single-sign-on providers (see oidc.go).
	OIDC []OIDCProvider
	// WorkspaceCreated, when set, is called after a workspace is created
	// (cloud mode's workspace create, a sign-up or bootstrap): the server
	// installs in it what every workspace has (the system block types).
	// Its error is the creation's.
	WorkspaceCreated func(ctx context.Context, ws model.ID) error
	// Mail is the SMTP server invitations and password resets are sent
	// through; unset, their links are printed to the log instead.
	Mail batonmail.Config
	// PublicURL is the address people reach the UI at
	// ("https://baton.example.com"): e-mailed links point there, never at
	// a request's Host header.
	PublicURL string
	// Sealer encrypts TOTP secrets at rest (the blocks keyring); without
	// one two-factor sign-in cannot be turned on.
	Sealer Sealer
	// Logger receives security-relevant events (never secrets).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Service makes identity and access decisions. It is safe for concurrent
// use.
type Service struct {
	cfg      Config
	st       Store
	log      *slog.Logger
	now      func() time.Time
	throttle Throttle

	mu       sync.Mutex
	keyCache map[string]cachedPrincipal
	roles    map[[2]model.ID]cachedRole
	touched  map[model.ID]time.Time
	// pending holds started SSO sign-ins by state hash; discovered the
	// OIDC providers whose discovery document was read (sso.go).
	pending    map[string]ssoState
	discovered map[string]*oidc.Provider
}

type cachedPrincipal struct {
	p   Principal
	exp time.Time
}

type cachedRole struct {
	role model.Role
	ok   bool
	exp  time.Time
}

// cacheTTL bounds how long a key lookup or a role is reused without asking
// the store. Changes made through this Service clear the caches at once;
// the TTL only matters for changes made by another process (the admin CLI).
const cacheTTL = 5 * time.Second

// New builds a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("tenancy: Config.Store is required")
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeServer
	}
	if _, err := ParseMode(string(cfg.Mode)); err != nil {
		return nil, fmt.Errorf("tenancy: %w", err)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 14 * 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	seen := map[string]bool{}
	providers := make([]OIDCProvider, 0, len(cfg.OIDC))
	for i, p := range cfg.OIDC {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("tenancy: sso provider %d (%s): %w", i+1, p.Name, err)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("tenancy: sso provider %q is configured twice", p.Name)
		}
		seen[p.Name] = true
		providers = append(providers, p.withDefaults())
	}
	cfg.OIDC = providers
	return &Service{cfg: cfg, st: cfg.Store, log: cfg.Logger, now: cfg.Now,
		keyCache: map[string]cachedPrincipal{}, roles: map[[2]model.ID]cachedRole{}, touched: map[model.ID]time.Time{},
		pending: map[string]ssoState{}, discovered: map[string]*oidc.Provider{}}, nil
}

// Mode returns the configured mode.
func (s *Service) Mode() Mode { return s.cfg.Mode }

// Cloud reports whether the service runs in cloud mode.
func (s *Service) Cloud() bool { return s.cfg.Mode == ModeCloud }

// OIDCProviders returns the configured SSO providers (secrets included;
// callers must not send ClientSecret anywhere).
func (s *Service) OIDCProviders() []OIDCProvider { return s.cfg.OIDC }

// invalidate drops every cached decision; called after any change to keys,
// memberships, users or workspaces.
func (s *Service) invalidate() {
	s.mu.Lock()
	clear(s.keyCache)
	clear(s.roles)
	s.mu.Unlock()
}

// Principal is who a request acts as.
type Principal struct {
	// User is the person or service account (zero for Server).
	User model.User
	// KeyID is the API key the request presented, if any.
	KeyID *model.ID
	// Session is true when a browser session cookie authenticated the
	// request; its writes must carry the CSRF token.
	Session bool
	// Server is true in server mode (open loopback access or the shared
	// server key): it may do anything in the default workspace.
	Server bool

	sessionToken string
}

// CSRFToken returns the token browser writes of this session must send in
// the X-CSRF-Token header ("" for non-session principals).
func (p Principal) CSRFToken() string {
	if !p.Session {
		return ""
	}
	return CSRFToken(p.sessionToken)
}

// SessionToken returns the session's secret (for signing out).
func (p Principal) SessionToken() string { return p.sessionToken }

// --- validation ----------------------------------------------------------

// ValidHandle reports whether h is a usable account or workspace handle:
// 1-50 lowercase letters, digits and dashes, starting with a letter or
// digit. Handles appear in `-w account/workspace` and in URLs.
func ValidHandle(h string) bool {
	if len(h) == 0 || len(h) > 50 || h[0] == '-' {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func checkHandle(field, h string) error {
	if !ValidHandle(h) {
		return fail(Invalid, "field %q: %q must be 1-50 lowercase letters, digits or dashes, not starting with a dash", field, h)
	}
	return nil
}

func checkName(field, n string) error {
	if strings.TrimSpace(n) == "" || len(n) > 200 {
		return fail(Invalid, "field %q must be 1-200 characters", field)
	}
	return nil
}

// normalizeEmail lower-cases and validates an address.
func normalizeEmail(e string) (string, error) {
	e = strings.ToLower(strings.TrimSpace(e))
	if a, err := mail.ParseAddress(e); err != nil || a.Address != e || len(e) > 254 {
		return "", fail(Invalid, "field \"email\": not a valid e-mail address")
	}
	return e, nil
}

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 8

func checkPassword(p string) error {
	if len(p) < MinPasswordLen || len(p) > 1024 {
		return fail(Invalid, "field \"password\" must be %d-1024 characters", MinPasswordLen)
	}
	return nil
}

// --- users, sign-up, sign-in ---------------------------------------------

// SignUp is the input of SignUp and Bootstrap.
type SignUp struct {
	Email    string `json:"email" required:"true"`
	Password string `json:"password" required:"true"`
	Name     string `json:"name"`
	// AccountName and AccountHandle name the account the user will own;
	// the handle defaults to one derived from the e-mail.
	AccountName   string `json:"account_name"`
	AccountHandle string `json:"account_handle"`
	// WorkspaceHandle, when set, also creates a first workspace.
	WorkspaceHandle string `json:"workspace_handle"`
	WorkspaceName   string `json:"workspace_name"`
}

// SignUpResult is what SignUp created.
type SignUpResult struct {
	User      model.User              `json:"user"`
	Account   model.Account           `json:"account"`
	Workspace *model.WorkspaceDetails `json:"workspace"`
}

// handleFrom derives a handle from free text (an e-mail's local part).
func handleFrom(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	h := strings.Trim(b.String(), "-")
	if len(h) > 40 {
		h = h[:40]
	}
	if h == "" {
		h = "account"
	}
	return h
}

// SignUp creates a person, an account they own and optionally a first
// workspace. It is refused when sign-up is disabled or outside cloud mode.
func (s *Service) SignUp(ctx context.Context, in SignUp) (SignUpResult, error) {
	if !s.Cloud() {
		return SignUpResult{}, fail(NotFound, "sign-up is only available in cloud mode (baton server start --mode cloud)")
	}
	if s.cfg.SignUpDisabled {
		return SignUpResult{}, fail(Forbidden, "sign-up is disabled on this server; ask an administrator for an account")
	}
	return s.createOwner(ctx, in)
}

// Bootstrap is SignUp for `baton admin create-user`: it works in any mode
// and, when the account handle exists, adds the user to it as owner
// instead of failing (and likewise reuses an existing workspace).
func (s *Service) Bootstrap(ctx context.Context, in SignUp) (SignUpResult, error) {
	return s.createOwner(context.WithValue(ctx, bootstrapKey{}, true), in)
}

func (s *Service) createOwner(ctx context.Context, in SignUp) (SignUpResult, error) {
	var res SignUpResult
	email, err := normalizeEmail(in.Email)
	if err != nil {
		return res, err
	}
	if err := checkPassword(in.Password); err != nil {
		return res, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	if in.AccountHandle == "" {
		in.AccountHandle = handleFrom(strings.SplitN(email, "@", 2)[0])
	}
	if err := checkHandle("account_handle", in.AccountHandle); err != nil {
		return res, err
	}
	if in.AccountName == "" {
		in.AccountName = in.AccountHandle
	}
	if err := checkName("account_name", in.AccountName); err != nil {
		return res, err
	}
	if in.WorkspaceHandle != "" {
		if err := checkHandle("workspace_handle", in.WorkspaceHandle); err != nil {
			return res, err
		}
	}
	hash, err := HashPassword(in.Password)
	if err != nil {
		return res, err
	}
	now := model.NewTime(s.now())
	res.User = model.User{ID: model.NewID(), Email: email, Name: name, Created: now}
	if err := s.st.UserCreate(ctx, store.UserCreate{User: res.User, PasswordHash: hash}); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return res, fail(Conflict, "a user with this e-mail already exists")
		}
		return res, err
	}
	res.Account = model.Account{ID: model.NewID(), Name: in.AccountName, Handle: in.AccountHandle, Created: now}
	if err := s.st.AccountCreate(ctx, res.Account); err != nil {
		// Sign-up takes a fresh handle; only the bootstrap joins an
		// existing account.
		existing, ok := s.accountByHandle(ctx, in.AccountHandle)
		if !errors.Is(err, store.ErrConflict) || !ok || !s.bootstrapping(ctx) {
			_ = s.st.UserDelete(ctx, res.User.ID)
			return res, publicStoreError(err, fmt.Sprintf("account %q", in.AccountHandle))
		}
		res.Account = existing
	}
	if err := s.st.MemberSet(ctx, res.Account.ID, res.User.ID, model.RoleOwner); err != nil {
		return res, err
	}
	if in.WorkspaceHandle != "" {
		w, err := s.ensureWorkspace(ctx, res.Account.ID, in.WorkspaceHandle, in.WorkspaceName)
		if err != nil {
			return res, err
		}
		res.Workspace = &w
	}
	s.invalidate()
	s.log.InfoContext(ctx, "tenancy: user created", slog.String("user_id", res.User.ID.String()), slog.String("account", res.Account.Handle))
	return res, nil
}

// bootstrapKey marks a createOwner call made by Bootstrap.
type bootstrapKey struct{}

func (s *Service) bootstrapping(ctx context.Context) bool {
	v, _ := ctx.Value(bootstrapKey{}).(bool)
	return v
}

// accountByHandle finds an account by its handle.
func (s *Service) accountByHandle(ctx context.Context, handle string) (model.Account, bool) {
	a, err := s.st.AccountByHandle(ctx, handle)
	return a, err == nil
}

func (s *Service) ensureWorkspace(ctx context.Context, accountID model.ID, handle, name string) (model.WorkspaceDetails, error) {
	ws, err := s.st.WorkspaceDetailsList(ctx, accountID)
	if err != nil {
		return model.WorkspaceDetails{}, err
	}
	for _, w := range ws {
		if w.Handle == handle {
			return w, nil
		}
	}
	if name == "" {
		name = handle
	}
	w := model.WorkspaceDetails{ID: model.NewID(), AccountID: accountID, Name: name, Handle: handle, Created: model.NewTime(s.now())}
	if err := s.st.WorkspaceInsert(ctx, w); err != nil {
		return w, publicStoreError(err, fmt.Sprintf("workspace %q", handle))
	}
	return w, s.workspaceCreated(ctx, w.ID)
}

// workspaceCreated runs the WorkspaceCreated hook.
func (s *Service) workspaceCreated(ctx context.Context, ws model.ID) error {
	if s.cfg.WorkspaceCreated == nil {
		return nil
	}
	if err := s.cfg.WorkspaceCreated(ctx, ws); err != nil {
		return fmt.Errorf("tenancy: set up workspace %s: %w", ws, err)
	}
	return nil
}

// SignIn checks an e-mail and password and opens a session. Repeated
// failures for the same e-mail or client address are throttled (429 with
// RetryAfter). It returns the session token for the cookie. A user with
// two-factor sign-in needs SignInWith and a code.
func (s *Service) SignIn(ctx context.Context, email, password, clientAddr string) (string, model.User, error) {
	return s.SignInWith(ctx, SignInInput{Email: email, Password: password, ClientAddr: clientAddr})
}

// SignInInput is what a password sign-in presents.
type SignInInput struct {
	Email, Password string
	// TOTP is the current code of the authenticator app, or one of the
	// recovery codes (needed when the user turned two-factor sign-in on).
	TOTP string
	// ClientAddr and UserAgent describe the caller (throttling, the
	// session list, the audit log).
	ClientAddr, UserAgent string
}

// SignInWith is SignIn with a second factor and the caller's description.
func (s *Service) SignInWith(ctx context.Context, in SignInInput) (string, model.User, error) {
	email, password, clientAddr := in.Email, in.Password, in.ClientAddr
	if !s.Cloud() {
		return "", model.User{}, fail(NotFound, "sign-in is only available in cloud mode (baton server start --mode cloud)")
	}
	now := s.now()
	email = strings.ToLower(strings.TrimSpace(email))
	keys := []string{"email:" + email, "addr:" + clientAddr}
	for _, k := range keys {
		if wait := s.throttle.Wait(k, now); wait > 0 {
			s.log.WarnContext(ctx, "tenancy: sign-in throttled", slog.String("addr", clientAddr))
			return "", model.User{}, &Error{Kind: Throttled, Msg: "too many failed sign-in attempts; try again later", RetryAfter: wait}
		}
	}
	u, hash, err := s.st.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", model.User{}, err
	}
	if errors.Is(err, store.ErrNotFound) {
		hash = dummyHash()
	}
	ok, cerr := CheckPassword(hash, password)
	if err != nil || cerr != nil || !ok {
		for _, k := range keys {
			s.throttle.Fail(k, now)
		}
		s.log.InfoContext(ctx, "tenancy: sign-in failed", slog.String("addr", clientAddr))
		if err == nil {
			// A known user: their accounts learn of the attempt. (An
			// unknown e-mail belongs to no account; the log has it.)
			s.AuditUser(ctx, u.ID, model.AuditEvent{Action: "auth.signin_failed", Outcome: model.AuditFailure, ActorName: email,
				TargetType: "user", TargetID: u.ID.String(), TargetName: email, SourceAddr: clientAddr, Detail: "wrong password"})
		}
		return "", model.User{}, ErrBadSignIn
	}
	method := "password"
	if second, err := s.secondFactor(ctx, u, in.TOTP); err != nil {
		var te *Error
		if errors.As(err, &te) && te == ErrTOTPRequired {
			return "", model.User{}, err
		}
		for _, k := range keys {
			s.throttle.Fail(k, now)
		}
		if errors.As(err, &te) {
			s.AuditUser(ctx, u.ID, model.AuditEvent{Action: "auth.signin_failed", Outcome: model.AuditFailure, ActorName: email,
				TargetType: "user", TargetID: u.ID.String(), TargetName: email, SourceAddr: clientAddr, Detail: "wrong two-factor code"})
		}
		return "", model.User{}, err
	} else if second != "" {
		method += "+" + second
	}
	for _, k := range keys {
		s.throttle.Succeed(k)
	}
	token, err := s.openSessionFrom(ctx, u, clientAddr, in.UserAgent, method)
	if err != nil {
		return "", model.User{}, err
	}
	return token, u, nil
}

// openSession opens a browser session for u (signed in by method) and
// records the sign-in; it returns the session's secret for the cookie.
func (s *Service) openSession(ctx context.Context, u model.User, clientAddr, method string) (string, error) {
	return s.openSessionFrom(ctx, u, clientAddr, "", method)
}

// SignOut ends the session with this token.
func (s *Service) SignOut(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return s.st.SessionDelete(ctx, HashSecret(token))
}

// --- authentication ------------------------------------------------------

// AuthenticateKey resolves an API key to its user. Unknown, revoked and
// expired keys are all ErrUnauthenticated.
func (s *Service) AuthenticateKey(ctx context.Context, key string) (Principal, error) {
	if !LooksLikeKey(key) {
		return Principal{}, ErrUnauthenticated
	}
	hash := HashSecret(key)
	now := s.now()
	s.mu.Lock()
	c, ok := s.keyCache[string(hash)]
	s.mu.Unlock()
	if ok && now.Before(c.exp) {
		if k := c.p; k.KeyID != nil {
			return c.p, nil
		}
	}
	k, err := s.st.APIKeyByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	if k.Expires != nil && !now.Before(k.Expires.Time) {
		return Principal{}, ErrUnauthenticated
	}
	u, err := s.st.UserGet(ctx, k.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	p := Principal{User: u, KeyID: &k.ID}
	exp := now.Add(cacheTTL)
	if k.Expires != nil && k.Expires.Before(exp) {
		exp = k.Expires.Time
	}
	s.mu.Lock()
	s.keyCache[string(hash)] = cachedPrincipal{p: p, exp: exp}
	last, seen := s.touched[k.ID]
	touch := !seen || now.Sub(last) > time.Minute
	if touch {
		s.touched[k.ID] = now
	}
	s.mu.Unlock()
	if touch {
		if err := s.st.APIKeyTouch(ctx, k.ID, model.NewTime(now)); err != nil {
			s.log.WarnContext(ctx, "tenancy: record key use", slog.Any("err", err))
		}
	}
	return p, nil
}

// AuthenticateSession resolves a session token.
func (s *Service) AuthenticateSession(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, ErrUnauthenticated
	}
	se, err := s.st.SessionGet(ctx, HashSecret(token))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	if !s.now().Before(se.Expires.Time) {
		_ = s.st.SessionDelete(ctx, HashSecret(token))
		return Principal{}, ErrUnauthenticated
	}
	u, err := s.st.UserGet(ctx, se.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, err
	}
	return Principal{User: u, Session: true, sessionToken: token}, nil
}

// --- authorization -------------------------------------------------------

// WorkspaceRole returns p's effective role on a workspace; a workspace the
// principal cannot reach is a 404 (its existence is not revealed).
func (s *Service) WorkspaceRole(ctx context.Context, p Principal, workspaceID model.ID) (model.Role, error) {
	if p.Server {
		return model.RoleOwner, nil
	}
	key := [2]model.ID{p.User.ID, workspaceID}
	now := s.now()
	s.mu.Lock()
	c, ok := s.roles[key]
	s.mu.Unlock()
	if !ok || !now.Before(c.exp) {
		role, err := s.st.UserWorkspaceRole(ctx, p.User.ID, workspaceID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
		c = cachedRole{role: role, ok: err == nil, exp: now.Add(cacheTTL)}
		s.mu.Lock()
		s.roles[key] = c
		s.mu.Unlock()
	}
	if !c.ok {
		return "", fail(NotFound, "workspace %s not found", workspaceID)
	}
	return c.role, nil
}

// AuthorizeWorkspace checks that p may do perm in a workspace: 404 when it
// has no role there, 403 when its role is too weak.
func (s *Service) AuthorizeWorkspace(ctx context.Context, p Principal, workspaceID model.ID, perm Permission) error {
	role, err := s.WorkspaceRole(ctx, p, workspaceID)
	if err != nil {
		return err
	}
	if !Can(role, perm) {
		return fail(Forbidden, "your role %q in this workspace does not allow %s access", role, perm)
	}
	return nil
}

// AccountRole returns p's role in an account (404 for non-members).
func (s *Service) AccountRole(ctx context.Context, p Principal, accountID model.ID) (model.Role, error) {
	if p.Server {
		// The open server owns every account, but only existing ones: an
		// unknown id is a 404 here, not a foreign-key failure later.
		if _, err := s.st.AccountGet(ctx, accountID); errors.Is(err, store.ErrNotFound) {
			return "", fail(NotFound, "account %s not found", accountID)
		} else if err != nil {
			return "", err
		}
		return model.RoleOwner, nil
	}
	m, err := s.st.MemberGet(ctx, accountID, p.User.ID)
	if errors.Is(err, store.ErrNotFound) {
		return "", fail(NotFound, "account %s not found", accountID)
	}
	if err != nil {
		return "", err
	}
	return m.Role, nil
}

// AuthorizeAccount checks that p may do perm in an account.
func (s *Service) AuthorizeAccount(ctx context.Context, p Principal, accountID model.ID, perm Permission) (model.Role, error) {
	role, err := s.AccountRole(ctx, p, accountID)
	if err != nil {
		return "", err
	}
	if !Can(role, perm) && !(perm == PermRead && role == model.RoleMember) {
		return role, fail(Forbidden, "your role %q in this account does not allow %s access", role, perm)
	}
	return role, nil
}
