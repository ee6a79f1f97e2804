package tenancy

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// Sealer encrypts small secrets at rest, bound to an owner (the blocks
// keyring: AES-256-GCM with the ids as additional data).
type Sealer interface {
	Seal(ws, doc model.ID, plain []byte) ([]byte, error)
	Open(ws, doc model.ID, sealed []byte) ([]byte, error)
}

// openSessionFrom opens a browser session for u (signed in by method, from
// clientAddr with userAgent), logs and audits the sign-in, and returns the
// session's secret for the cookie.
func (s *Service) openSessionFrom(ctx context.Context, u model.User, clientAddr, userAgent, method string) (string, error) {
	token, err := newToken()
	if err != nil {
		return "", err
	}
	now := s.now()
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	se := model.Session{ID: model.NewID(), UserID: u.ID, Created: model.NewTime(now), Expires: model.NewTime(now.Add(s.cfg.SessionTTL)),
		SourceAddr: clientAddr, UserAgent: userAgent}
	if err := s.st.SessionCreate(ctx, HashSecret(token), se); err != nil {
		return "", err
	}
	s.log.InfoContext(ctx, "tenancy: signed in", slog.String("user_id", u.ID.String()), slog.String("method", method))
	uid := u.ID
	s.AuditUser(ctx, u.ID, model.AuditEvent{Action: "auth.signin", ActorID: &uid, ActorName: u.Email, TargetType: "user",
		TargetID: u.ID.String(), TargetName: u.Email, SourceAddr: clientAddr, Detail: method})
	return token, nil
}

// --- sessions ---------------------------------------------------------------

// SessionInfo is one of a user's sessions as listed to them.
type SessionInfo struct {
	model.Session
	// Current marks the session the listing request came with.
	Current bool `json:"current"`
}

// Sessions lists a person's active sessions, newest first.
func (s *Service) Sessions(ctx context.Context, p Principal) ([]SessionInfo, error) {
	ss, err := s.st.SessionList(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	var cur model.ID
	if p.Session {
		if se, err := s.st.SessionGet(ctx, HashSecret(p.sessionToken)); err == nil {
			cur = se.ID
		}
	}
	now := s.now()
	out := []SessionInfo{}
	for _, se := range ss {
		if !now.Before(se.Expires.Time) {
			continue
		}
		out = append(out, SessionInfo{Session: se, Current: se.ID == cur})
	}
	return out, nil
}

// RevokeSession ends one of the user's sessions (it stops working at once).
func (s *Service) RevokeSession(ctx context.Context, userID, sessionID model.ID) error {
	if err := s.st.SessionDeleteByID(ctx, userID, sessionID); err != nil {
		return publicStoreError(err, "session")
	}
	return nil
}

// --- password reset ---------------------------------------------------------

// ResetTTL is how long a password reset link works.
const ResetTTL = time.Hour

// RequestPasswordReset e-mails a one-time reset link to the user with this
// e-mail, if there is one. The caller answers the same either way (so the
// endpoint does not reveal who has an account); requests are throttled per
// e-mail and per address.
func (s *Service) RequestPasswordReset(ctx context.Context, email, clientAddr string) error {
	if !s.Cloud() {
		return fail(NotFound, "password reset is only available in cloud mode")
	}
	email, err := normalizeEmail(email)
	if err != nil {
		return err
	}
	now := s.now()
	keys := []string{"reset-email:" + email, "reset-addr:" + clientAddr}
	for _, k := range keys {
		if wait := s.throttle.Wait(k, now); wait > 0 {
			return &Error{Kind: Throttled, Msg: "too many password reset requests; try again later", RetryAfter: wait}
		}
	}
	for _, k := range keys {
		s.throttle.Fail(k, now)
	}
	u, _, err := s.st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		s.log.InfoContext(ctx, "tenancy: password reset for an unknown e-mail", slog.String("addr", clientAddr))
		return nil
	}
	if err != nil {
		return err
	}
	token, err := newToken()
	if err != nil {
		return err
	}
	if err := s.st.PasswordResetCreate(ctx, HashSecret(token), u.ID, model.NewTime(now), model.NewTime(now.Add(ResetTTL))); err != nil {
		return err
	}
	link := s.link("reset-password", token)
	body := fmt.Sprintf("Someone (hopefully you) asked to reset the password of %s on Baton.\n\nChoose a new password here (the link works once, for one hour):\n\n%s\n\nIf you did not ask for this, ignore this e-mail: your password stays as it is.\n", email, link)
	_, _ = s.send(ctx, email, "Reset your Baton password", body, "password reset",
		"an operator can set a new password with `baton admin set-password --email "+email+" --password-stdin`")
	uid := u.ID
	s.AuditUser(ctx, u.ID, model.AuditEvent{Action: "auth.password_reset_requested", ActorName: email, TargetType: "user",
		TargetID: uid.String(), TargetName: email, SourceAddr: clientAddr})
	return nil
}

// ResetPassword sets a new password with a reset link's token and ends
// every session of the user. The link works once: used again it is 409,
// after an hour 410. Two-factor sign-in, when on, stays on.
func (s *Service) ResetPassword(ctx context.Context, token, password, clientAddr string) (model.User, error) {
	if strings.TrimSpace(token) == "" {
		return model.User{}, fail(Invalid, "field \"token\" is required")
	}
	if err := checkPassword(password); err != nil {
		return model.User{}, err
	}
	uid, exp, err := s.st.PasswordResetConsume(ctx, HashSecret(token), model.NewTime(s.now()))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return model.User{}, fail(NotFound, "this password reset link is not valid (check that it was copied whole)")
	case errors.Is(err, store.ErrConflict):
		return model.User{}, fail(Conflict, "this password reset link has already been used; ask for a new one")
	case err != nil:
		return model.User{}, err
	}
	if !s.now().Before(exp.Time) {
		return model.User{}, fail(Gone, "this password reset link expired; ask for a new one")
	}
	hash, err := HashPassword(password)
	if err != nil {
		return model.User{}, err
	}
	if err := s.st.UserPasswordSet(ctx, uid, hash); err != nil {
		return model.User{}, publicStoreError(err, "user")
	}
	if err := s.st.SessionDeleteUser(ctx, uid, nil); err != nil {
		return model.User{}, err
	}
	s.invalidate()
	u, err := s.st.UserGet(ctx, uid)
	if err != nil {
		return u, err
	}
	s.AuditUser(ctx, uid, model.AuditEvent{Action: "auth.password_reset", ActorID: &uid, ActorName: u.Email, TargetType: "user",
		TargetID: uid.String(), TargetName: u.Email, SourceAddr: clientAddr, Detail: "every session ended"})
	return u, nil
}

// SetPassword sets a user's password directly (the operator's command for
// an install without e-mail, or a user locked out) and ends every session of
// the user. Two-factor sign-in, when on, stays on.
func (s *Service) SetPassword(ctx context.Context, email, password string) (model.User, error) {
	email, err := normalizeEmail(email)
	if err != nil {
		return model.User{}, err
	}
	if err := checkPassword(password); err != nil {
		return model.User{}, err
	}
	u, _, err := s.st.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return model.User{}, fail(NotFound, "no user has the e-mail %q", email)
	}
	if err != nil {
		return model.User{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return model.User{}, err
	}
	if err := s.st.UserPasswordSet(ctx, u.ID, hash); err != nil {
		return model.User{}, publicStoreError(err, "user")
	}
	if err := s.st.SessionDeleteUser(ctx, u.ID, nil); err != nil {
		return model.User{}, err
	}
	s.invalidate()
	s.AuditUser(ctx, u.ID, model.AuditEvent{Action: "auth.password_set_by_operator", ActorName: "baton admin", TargetType: "user",
		TargetID: u.ID.String(), TargetName: u.Email, Detail: "every session ended"})
	return u, nil
}

// --- two-factor sign-in (TOTP) ---------------------------------------------

// ErrTOTPRequired: the password was right, and the user's second factor is
// needed (the sign-in form then asks for the code).
var ErrTOTPRequired = &Error{Kind: Unauthenticated, Msg: "two-factor code required"}

// errUsedTOTP: the code was right, and was already used to sign in.
var errUsedTOTP = &Error{Kind: Unauthenticated, Msg: "this two-factor code was already used; wait for the next one"}

// errBadTOTP: the code is neither the current one nor a recovery code.
var errBadTOTP = &Error{Kind: Unauthenticated, Msg: "Invalid two-factor code"}

// totpIssuer names Baton in authenticator apps.
const totpIssuer = "Baton"

// recoveryCodes is how many recovery codes enrolment hands out.
const recoveryCodes = 10

// secondFactor checks a sign-in's code when u has two-factor sign-in on;
// it returns how the factor was met ("totp", "recovery_code" or "").
func (s *Service) secondFactor(ctx context.Context, u model.User, code string) (string, error) {
	sealed, on, err := s.st.TOTPGet(ctx, u.ID)
	if err != nil || !on {
		return "", err
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return "", ErrTOTPRequired
	}
	secret, err := s.openTOTP(u.ID, sealed)
	if err != nil {
		return "", err
	}
	if step, ok := s.validTOTP(code, secret); ok {
		// A code is good once: replaying it (seen over a shoulder, or
		// phished) within its window is refused like a wrong one.
		switch err := s.st.TOTPUseStep(ctx, u.ID, step); {
		case errors.Is(err, store.ErrConflict):
			return "", errUsedTOTP
		case err != nil:
			return "", err
		}
		return "totp", nil
	}
	if err := s.st.RecoveryCodeUse(ctx, u.ID, HashSecret(normalizeRecovery(code))); err == nil {
		return "recovery_code", nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	return "", errBadTOTP
}

// validTOTP checks a 6-digit code against the secret, one 30 s step either
// way, and returns the time step the code belongs to.
func (s *Service) validTOTP(code, secret string) (int64, bool) {
	now := s.now().UTC()
	opts := totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	for _, skew := range []int64{0, -1, 1} {
		at := now.Add(time.Duration(skew*30) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, at, opts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return at.Unix() / 30, true
		}
	}
	return 0, false
}

func (s *Service) openTOTP(userID model.ID, sealed []byte) (string, error) {
	if s.cfg.Sealer == nil {
		return "", errors.New("tenancy: two-factor secret stored but no sealer configured")
	}
	plain, err := s.cfg.Sealer.Open(model.Nil, userID, sealed)
	if err != nil {
		return "", fmt.Errorf("tenancy: open two-factor secret: %w", err)
	}
	return string(plain), nil
}

// normalizeRecovery makes a typed recovery code comparable.
func normalizeRecovery(code string) string {
	return strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(code, " ", ""), "-", ""))
}

// TOTPStatus reports whether a user has two-factor sign-in on.
func (s *Service) TOTPStatus(ctx context.Context, userID model.ID) (bool, error) {
	_, on, err := s.st.TOTPGet(ctx, userID)
	return on, err
}

// TOTPEnrolment is a new secret to put in an authenticator app.
type TOTPEnrolment struct {
	// Secret is the base32 secret (typed by hand).
	Secret string `json:"secret"`
	// URL is the otpauth:// URL (a QR code of it is scanned).
	URL string `json:"otpauth_url"`
}

// BeginTOTP creates a secret for u; two-factor sign-in starts only when
// ConfirmTOTP sees a code made from it.
func (s *Service) BeginTOTP(ctx context.Context, u model.User) (TOTPEnrolment, error) {
	if s.cfg.Sealer == nil {
		return TOTPEnrolment{}, fail(Invalid, "two-factor sign-in needs the server's secrets key")
	}
	if on, err := s.TOTPStatus(ctx, u.ID); err != nil {
		return TOTPEnrolment{}, err
	} else if on {
		return TOTPEnrolment{}, fail(Conflict, "two-factor sign-in is already on; turn it off first to enrol a new authenticator")
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: u.Email, Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return TOTPEnrolment{}, err
	}
	sealed, err := s.cfg.Sealer.Seal(model.Nil, u.ID, []byte(key.Secret()))
	if err != nil {
		return TOTPEnrolment{}, err
	}
	if err := s.st.TOTPSet(ctx, u.ID, sealed, false, nil); err != nil {
		return TOTPEnrolment{}, err
	}
	return TOTPEnrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

// ConfirmTOTP turns two-factor sign-in on once code matches the enrolled
// secret, and returns the recovery codes (shown once; stored as hashes).
func (s *Service) ConfirmTOTP(ctx context.Context, u model.User, code, clientAddr string) ([]string, error) {
	sealed, on, err := s.st.TOTPGet(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if on {
		return nil, fail(Conflict, "two-factor sign-in is already on")
	}
	if sealed == nil {
		return nil, fail(Conflict, "no enrolment in progress: start with POST /api/me/totp")
	}
	secret, err := s.openTOTP(u.ID, sealed)
	if err != nil {
		return nil, err
	}
	if _, ok := s.validTOTP(strings.TrimSpace(code), secret); !ok {
		return nil, fail(Invalid, "field \"code\": not the current code of the authenticator (check the phone's clock)")
	}
	codes := make([]string, recoveryCodes)
	hashes := make([][]byte, recoveryCodes)
	for i := range codes {
		c, err := recoveryCode()
		if err != nil {
			return nil, err
		}
		codes[i] = c
		hashes[i] = HashSecret(normalizeRecovery(c))
	}
	if err := s.st.TOTPSet(ctx, u.ID, sealed, true, hashes); err != nil {
		return nil, err
	}
	uid := u.ID
	s.AuditUser(ctx, u.ID, model.AuditEvent{Action: "auth.totp_enabled", ActorID: &uid, ActorName: u.Email, TargetType: "user",
		TargetID: uid.String(), TargetName: u.Email, SourceAddr: clientAddr})
	return codes, nil
}

// DisableTOTP turns two-factor sign-in off; it needs a current code or a
// recovery code, so a stolen session alone cannot.
func (s *Service) DisableTOTP(ctx context.Context, u model.User, code, clientAddr string) error {
	on, err := s.TOTPStatus(ctx, u.ID)
	if err != nil {
		return err
	}
	if !on {
		// Drop an unfinished enrolment.
		return s.st.TOTPSet(ctx, u.ID, nil, false, nil)
	}
	if strings.TrimSpace(code) == "" {
		return fail(Invalid, "field \"code\" is required: a current code or a recovery code")
	}
	if _, err := s.secondFactor(ctx, u, code); err != nil {
		if errors.Is(err, errBadTOTP) || errors.Is(err, errUsedTOTP) {
			return fail(Forbidden, "field \"code\": not a current code or an unused recovery code")
		}
		return err
	}
	if err := s.st.TOTPSet(ctx, u.ID, nil, false, nil); err != nil {
		return err
	}
	uid := u.ID
	s.AuditUser(ctx, u.ID, model.AuditEvent{Action: "auth.totp_disabled", ActorID: &uid, ActorName: u.Email, TargetType: "user",
		TargetID: uid.String(), TargetName: u.Email, SourceAddr: clientAddr})
	return nil
}

// recoveryCode returns a random code like "k3x9q-7mzpw" (50 bits).
func recoveryCode() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:5]) + "-" + string(b[5:]), nil
}
