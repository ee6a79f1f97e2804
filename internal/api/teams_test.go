package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/batonhq/baton/internal/mail"
	"github.com/batonhq/baton/internal/mail/smtptest"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/tenancy"
)

// clock is a settable clock for expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// mailServer is a cloud server that sends through a real SMTP server on
// loopback, with a settable clock.
func mailServer(t *testing.T) (*cloudServer, *smtptest.Server, *clock) {
	t.Helper()
	smtp := smtptest.Start(t)
	clk := &clock{t: time.Now()}
	s := newModeServer(t, tenancy.ModeCloud, func(c *tenancy.Config) {
		c.Mail = mail.Config{Host: smtp.Host, Port: smtp.Port, Mode: "INSECURE", From: "baton@example.com"}
		c.Now = clk.Now
	})
	return s, smtp, clk
}

// webClient is a cookie-keeping client that sends the session's CSRF token.
type webClient struct {
	s    *cloudServer
	c    *http.Client
	csrf string
}

func (s *cloudServer) browser() *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{s: s, c: &http.Client{Jar: jar}}
}

func (b *webClient) do(method, path string, body any) (int, map[string]any, []byte) {
	b.s.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, b.s.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if b.csrf != "" {
		req.Header.Set(csrfHeader, b.csrf)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if tok, ok := out["csrf_token"].(string); ok && tok != "" {
		b.csrf = tok
	}
	return resp.StatusCode, out, raw
}

func (b *webClient) signIn(email, password, code string) int {
	st, _, _ := b.do("POST", "/api/auth/signin", map[string]any{"email": email, "password": password, "totp": code})
	return st
}

// tokenIn pulls the one-time token out of an e-mailed link to page.
func tokenIn(t *testing.T, body, page string) string {
	t.Helper()
	m := regexp.MustCompile(`http://baton\.test/` + page + `#token=([A-Za-z0-9_-]+)`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s link in the e-mail:\n%s", page, body)
	}
	return m[1]
}

// TestInvitationsAndTeams: an admin invites by e-mail (a real SMTP server
// receives it) into a team; the link, followed, creates the user, who then
// reaches only the team's workspace with the team's role. Attacks: a
// viewer inviting (403), the link used twice (409), after expiry (410),
// revoked (410), by another signed-in user (403), an existing user not
// signed in (401), a garbled token (404); every step is in the audit log.
func TestInvitationsAndTeams(t *testing.T) {
	t.Parallel()
	s, smtp, clk := mailServer(t)
	ctx := context.Background()
	own := s.bootstrap("owner@example.com", "acme", "prod")
	acc := "/api/accounts/" + own.account.ID.String()
	staging := s.mustCall(own.key, "POST", acc+"/workspaces", map[string]any{"name": "Staging", "handle": "staging"}, 201)
	team := s.mustCall(own.key, "POST", acc+"/teams", map[string]any{"name": "data", "description": "the data team"}, 201)
	s.mustCall(own.key, "PUT", acc+"/teams/"+team["id"].(string)+"/workspaces/"+staging["id"].(string), map[string]any{"role": "developer"}, 204)
	viewer := s.bootstrap("vic@example.com", "vic", "home")
	if _, err := s.ten.SetMember(ctx, model.RoleOwner, own.account.ID, "vic@example.com", model.RoleViewer); err != nil {
		t.Fatal(err)
	}

	// A viewer may not invite.
	s.mustCall(viewer.key, "POST", acc+"/invitations", map[string]any{"email": "x@example.com", "role": "viewer"}, 403)
	// Bad input.
	s.mustCall(own.key, "POST", acc+"/invitations", map[string]any{"email": "not-an-email", "role": "viewer"}, 422)
	s.mustCall(own.key, "POST", acc+"/invitations", map[string]any{"email": "x@example.com", "role": "emperor"}, 422)
	s.mustCall(own.key, "POST", acc+"/invitations", map[string]any{"email": "x@example.com", "role": "viewer", "team_id": model.NewID()}, 404)
	s.mustCall(own.key, "POST", acc+"/invitations", map[string]any{"email": "vic@example.com", "role": "viewer"}, 409)

	inv := s.mustCall(own.key, "POST", acc+"/invitations", map[string]any{"email": "Nora@Example.com", "role": "member", "team_id": team["id"]}, 201)
	if inv["email_sent"] != true || inv["link"] != nil {
		t.Fatalf("invitation with SMTP configured: %v", inv)
	}
	msg := smtp.WaitFor(t, "nora@example.com", 1)
	if !strings.Contains(msg.Subject, "Acme") && !strings.Contains(msg.Subject, "acme") {
		t.Errorf("subject %q does not name the account", msg.Subject)
	}
	token := tokenIn(t, msg.Body, "invitation")
	list := s.mustCall(own.key, "GET", acc+"/invitations", nil, 200)
	_ = list
	code, raw := s.call(own.key, "GET", acc+"/invitations", nil)
	if code != 200 || !strings.Contains(string(raw), "nora@example.com") || strings.Contains(string(raw), token) {
		t.Fatalf("open invitations: %d %s", code, raw)
	}

	nora := s.browser()
	st, info, _ := nora.do("POST", "/api/auth/invitations/inspect", map[string]any{"token": token})
	if st != 200 || info["email"] != "nora@example.com" || info["team_name"] != "data" || info["user_exists"] != false || info["role"] != "member" {
		t.Fatalf("inspect: %d %v", st, info)
	}
	if st, _, raw := nora.do("POST", "/api/auth/invitations/inspect", map[string]any{"token": token + "x"}); st != 404 {
		t.Errorf("garbled token: %d %s", st, raw)
	}
	if st, _, raw := nora.do("POST", "/api/auth/invitations/accept", map[string]any{"token": token, "password": "short"}); st != 422 {
		t.Errorf("short password: %d %s", st, raw)
	}
	st, res, raw := nora.do("POST", "/api/auth/invitations/accept", map[string]any{"token": token, "name": "Nora", "password": "nora-password-1"})
	if st != 200 || res["csrf_token"] == nil {
		t.Fatalf("accept: %d %s", st, raw)
	}
	// Nora is signed in and reaches only the team's workspace, as developer.
	st, _, raw = nora.do("GET", "/api/me/workspaces", nil)
	var ws []meWorkspace
	_ = json.Unmarshal(raw, &ws)
	if st != 200 || len(ws) != 1 || ws[0].WorkspaceID.String() != staging["id"] || ws[0].Role != model.RoleDeveloper {
		t.Fatalf("nora's workspaces: %d %s", st, raw)
	}
	base := acc + "/workspaces/" + staging["id"].(string)
	if st, _, raw := nora.do("POST", base+"/flows", map[string]any{"name": "from-nora"}); st != 201 {
		t.Errorf("nora writing in the team's workspace: %d %s", st, raw)
	}
	if st, _, _ := nora.do("GET", own.base()+"/flows/"+model.NewID().String(), nil); st != 404 {
		t.Errorf("nora reading prod (no grant): %d, want 404", st)
	}
	// The link works once.
	if st, _, raw := s.browser().do("POST", "/api/auth/invitations/accept", map[string]any{"token": token, "password": "another-password"}); st != 409 {
		t.Errorf("second use: %d %s", st, raw)
	}
	// Taking nora out of the team takes the workspace away.
	noraID := res["user"].(map[string]any)["id"].(string)
	s.mustCall(own.key, "DELETE", acc+"/teams/"+team["id"].(string)+"/members/"+noraID, nil, 204)
	if st, _, _ := nora.do("GET", base+"/flows/"+model.NewID().String(), nil); st != 404 {
		t.Errorf("after leaving the team: %d, want 404", st)
	}
	s.mustCall(own.key, "PUT", acc+"/teams/"+team["id"].(string)+"/members/"+noraID, nil, 200)
	s.mustCall(own.key, "PUT", acc+"/teams/"+team["id"].(string)+"/members/"+viewer.user.ID.String(), nil, 200)
	s.mustCall(own.key, "PUT", acc+"/teams/"+team["id"].(string)+"/members/"+model.NewID().String(), nil, 404)

	// Expired and revoked links.
	late := s.mustCall(own.key, "POST", acc+"/invitations", map[string]any{"email": "late@example.com", "role": "viewer"}, 201)
	lateToken := tokenIn(t, smtp.WaitFor(t, "late@example.com", 1).Body, "invitation")
	gone := s.mustCall(own.key, "POST", acc+"/invitations", map[string]any{"email": "gone@example.com", "role": "viewer"}, 201)
	goneToken := tokenIn(t, smtp.WaitFor(t, "gone@example.com", 1).Body, "invitation")
	s.mustCall(own.key, "DELETE", acc+"/invitations/"+gone["id"].(string), nil, 204)
	s.mustCall(own.key, "DELETE", acc+"/invitations/"+gone["id"].(string), nil, 404)
	if st, _, raw := s.browser().do("POST", "/api/auth/invitations/accept", map[string]any{"token": goneToken, "password": "password-123"}); st != 410 {
		t.Errorf("revoked link: %d %s", st, raw)
	}
	clk.Add(tenancy.InvitationTTL + time.Minute)
	if st, _, raw := s.browser().do("POST", "/api/auth/invitations/accept", map[string]any{"token": lateToken, "password": "password-123"}); st != 410 || !strings.Contains(string(raw), "expired") {
		t.Errorf("expired link: %d %s", st, raw)
	}
	_ = late

	// An existing user must accept signed in as the invited e-mail.
	clk.Add(-tenancy.InvitationTTL - time.Minute)
	s.mustCall(own.key, "POST", acc+"/invitations", map[string]any{"email": "existing@example.com", "role": "viewer"}, 201)
	exToken := tokenIn(t, smtp.WaitFor(t, "existing@example.com", 1).Body, "invitation")
	s.bootstrap("existing@example.com", "existing", "main")
	if st, _, raw := s.browser().do("POST", "/api/auth/invitations/accept", map[string]any{"token": exToken, "password": "whatever-123"}); st != 401 {
		t.Errorf("existing user not signed in: %d %s", st, raw)
	}
	if st, _, raw := nora.do("POST", "/api/auth/invitations/accept", map[string]any{"token": exToken}); st != 403 {
		t.Errorf("accepted by another signed-in user: %d %s", st, raw)
	}
	ex := s.browser()
	if ex.signIn("existing@example.com", "pw-existing@example.com", "") != 200 {
		t.Fatal("existing user sign-in failed")
	}
	if st, _, raw := ex.do("POST", "/api/auth/invitations/accept", map[string]any{"token": exToken}); st != 200 {
		t.Errorf("existing user signed in: %d %s", st, raw)
	}

	// Without SMTP the link comes back to the inviter, and never goes to the
	// log (a one-time link is a credential).
	plain := newCloudServer(t)
	po := plain.bootstrap("p@example.com", "plain", "main")
	pi := plain.mustCall(po.key, "POST", "/api/accounts/"+po.account.ID.String()+"/invitations", map[string]any{"email": "q@example.com", "role": "viewer"}, 201)
	if link, _ := pi["link"].(string); !strings.HasPrefix(link, "http://baton.test/invitation#token=") || pi["email_sent"] != false {
		t.Errorf("without SMTP: %v", pi)
	} else if strings.Contains(plain.logs.String(), link) || strings.Contains(plain.logs.String(), "token=") {
		t.Errorf("the one-time link is in the server log:\n%s", plain.logs.String())
	}

	// The audit log has each step.
	_, es := s.auditLog(own.key, own.account.ID, "?limit=1000")
	for _, a := range []string{"invitation.created", "invitation.accepted", "invitation.revoked", "team.created", "team.workspace_role_set", "team.member_removed", "team.member_added"} {
		if _, ok := findAudit(es, a, ""); !ok {
			t.Errorf("audit log has no %s", a)
		}
	}
	_, denied := s.auditLog(own.key, own.account.ID, "?outcome=denied&action=invitation.created&actor_id="+viewer.user.ID.String())
	if len(denied) != 1 {
		t.Errorf("the viewer's refused invitation is recorded %d times as denied, want 1", len(denied))
	}
}

// TestPasswordReset: the link arrives over SMTP, sets the password once
// (409 after), ends every session, expires after an hour (410), and the
// request answers the same for unknown e-mails; requests are throttled.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	s, smtp, clk := mailServer(t)
	u := s.bootstrap("rita@example.com", "rita", "main")
	old := s.browser()
	if old.signIn("rita@example.com", "pw-rita@example.com", "") != 200 {
		t.Fatal("sign-in")
	}
	anon := s.browser()
	if st, _, raw := anon.do("POST", "/api/auth/password_reset", map[string]any{"email": "nobody@example.com"}); st != 202 {
		t.Fatalf("unknown e-mail: %d %s", st, raw)
	}
	if st, _, raw := anon.do("POST", "/api/auth/password_reset", map[string]any{"email": "rita@example.com"}); st != 202 {
		t.Fatalf("reset request: %d %s", st, raw)
	}
	token := tokenIn(t, smtp.WaitFor(t, "rita@example.com", 1).Body, "reset-password")
	if n := len(smtp.Messages()); n != 1 {
		t.Errorf("%d e-mails sent, want 1 (none for the unknown address)", n)
	}
	if st, _, _ := anon.do("POST", "/api/auth/password_reset/confirm", map[string]any{"token": token, "password": "short"}); st != 422 {
		t.Errorf("short password: %d", st)
	}
	if st, _, _ := anon.do("POST", "/api/auth/password_reset/confirm", map[string]any{"token": "x" + token, "password": "brand-new-password"}); st != 404 {
		t.Errorf("garbled token: %d", st)
	}
	if st, _, raw := anon.do("POST", "/api/auth/password_reset/confirm", map[string]any{"token": token, "password": "brand-new-password"}); st != 204 {
		t.Fatalf("confirm: %d %s", st, raw)
	}
	if st, _, _ := anon.do("POST", "/api/auth/password_reset/confirm", map[string]any{"token": token, "password": "another-password"}); st != 409 {
		t.Errorf("second use: %d, want 409", st)
	}
	if st, _, _ := old.do("GET", "/api/me", nil); st != 401 {
		t.Errorf("a session from before the reset: %d, want 401", st)
	}
	if s.browser().signIn("rita@example.com", "pw-rita@example.com", "") != 401 {
		t.Error("the old password still works")
	}
	if s.browser().signIn("rita@example.com", "brand-new-password", "") != 200 {
		t.Error("the new password does not work")
	}
	// Expiry.
	anon.do("POST", "/api/auth/password_reset", map[string]any{"email": "rita@example.com"})
	late := tokenIn(t, smtp.WaitFor(t, "rita@example.com", 2).Body, "reset-password")
	clk.Add(tenancy.ResetTTL + time.Minute)
	if st, _, raw := anon.do("POST", "/api/auth/password_reset/confirm", map[string]any{"token": late, "password": "yet-another-pw"}); st != 410 {
		t.Errorf("expired link: %d %s", st, raw)
	}
	// Throttled.
	var last int
	for range 8 {
		last, _, _ = anon.do("POST", "/api/auth/password_reset", map[string]any{"email": "rita@example.com"})
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("repeated reset requests: %d, want 429", last)
	}
	_, es := s.auditLog(u.key, u.account.ID, "?action_prefix=auth.password_reset")
	if len(es) < 2 {
		t.Errorf("audit log: %d password reset entries", len(es))
	}
	if strings.Contains(s.logs.String(), token) {
		t.Error("the reset token is in the server log")
	}
}

// TestSessionsAndTOTP: a user lists and revokes sessions (a revoked one
// stops working), enrols TOTP (wrong code refused), then signs in only
// with a current code or an unused recovery code; turning it off needs a
// code. Failed codes are throttled with the password's failures.
func TestSessionsAndTOTP(t *testing.T) {
	t.Parallel()
	s := newCloudServer(t)
	u := s.bootstrap("tess@example.com", "tess", "main")
	a, b := s.browser(), s.browser()
	if a.signIn("tess@example.com", "pw-tess@example.com", "") != 200 || b.signIn("tess@example.com", "pw-tess@example.com", "") != 200 {
		t.Fatal("sign-in")
	}
	st, _, raw := a.do("GET", "/api/me/sessions", nil)
	var ss []tenancy.SessionInfo
	_ = json.Unmarshal(raw, &ss)
	if st != 200 || len(ss) != 2 || ss[0].SourceAddr != "127.0.0.1" || ss[0].UserAgent == "" {
		t.Fatalf("sessions: %d %s", st, raw)
	}
	var other model.ID
	for _, se := range ss {
		if !se.Current {
			other = se.ID
		}
	}
	if other == model.Nil {
		t.Fatal("no current session marked")
	}
	if st, _, _ := a.do("DELETE", "/api/me/sessions/"+other.String(), nil); st != 204 {
		t.Fatalf("revoke: %d", st)
	}
	if st, _, _ := b.do("GET", "/api/me", nil); st != 401 {
		t.Errorf("revoked session: %d, want 401", st)
	}
	stranger := s.bootstrap("sam@example.com", "sam", "main")
	st, _, _ = a.do("GET", "/api/me/sessions", nil)
	if code, _ := s.call(stranger.key, "DELETE", "/api/me/sessions/"+ss[0].ID.String(), nil); code != 404 {
		t.Errorf("revoking another user's session: %d, want 404", code)
	}
	_ = st

	// Enrol.
	st, enrol, raw := a.do("POST", "/api/me/totp", nil)
	if st != 201 || !strings.HasPrefix(enrol["otpauth_url"].(string), "otpauth://totp/Baton:tess@example.com") {
		t.Fatalf("enrol: %d %s", st, raw)
	}
	secret := enrol["secret"].(string)
	if st, _, _ := a.do("POST", "/api/me/totp/confirm", map[string]any{"code": "000000"}); st != 422 {
		t.Errorf("wrong confirm code: %d", st)
	}
	code, _ := totp.GenerateCode(secret, time.Now())
	st, rc, raw := a.do("POST", "/api/me/totp/confirm", map[string]any{"code": code})
	if st != 200 {
		t.Fatalf("confirm: %d %s", st, raw)
	}
	codes := rc["recovery_codes"].([]any)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes", len(codes))
	}
	if st, _, _ := a.do("POST", "/api/me/totp", nil); st != 409 {
		t.Errorf("enrolling twice: %d", st)
	}
	// Sign-in now needs the code.
	c := s.browser()
	st, _, raw = c.do("POST", "/api/auth/signin", map[string]any{"email": "tess@example.com", "password": "pw-tess@example.com"})
	if st != 401 || !strings.Contains(string(raw), "two-factor code required") {
		t.Errorf("sign-in without code: %d %s", st, raw)
	}
	if c.signIn("tess@example.com", "pw-tess@example.com", "123456") != 401 {
		t.Error("a wrong code signed in")
	}
	if c.signIn("tess@example.com", "wrong-password", code) != 401 {
		t.Error("a right code with a wrong password signed in")
	}
	code, _ = totp.GenerateCode(secret, time.Now())
	if c.signIn("tess@example.com", "pw-tess@example.com", code) != 200 {
		t.Error("the current code did not sign in")
	}
	// A code signs in once (RFC 6238 §5.2), even within its 30 s window.
	st, _, raw = s.browser().do("POST", "/api/auth/signin", map[string]any{"email": "tess@example.com", "password": "pw-tess@example.com", "totp": code})
	if st != 401 || !strings.Contains(string(raw), "already used") {
		t.Errorf("a replayed code: %d %s", st, raw)
	}
	rec := codes[0].(string)
	if s.browser().signIn("tess@example.com", "pw-tess@example.com", strings.ToUpper(rec)) != 200 {
		t.Error("a recovery code did not sign in")
	}
	if s.browser().signIn("tess@example.com", "pw-tess@example.com", rec) != 401 {
		t.Error("a recovery code worked twice")
	}
	// Turning it off needs a code.
	if st, _, _ := a.do("POST", "/api/me/totp/disable", map[string]any{"code": "999999"}); st != 403 {
		t.Errorf("disable with a wrong code: %d", st)
	}
	if st, _, raw := a.do("POST", "/api/me/totp/disable", map[string]any{"code": codes[1].(string)}); st != 204 {
		t.Errorf("disable with a recovery code: %d %s", st, raw)
	}
	if s.browser().signIn("tess@example.com", "pw-tess@example.com", "") != 200 {
		t.Error("after turning it off, the password alone does not sign in")
	}
	_, es := s.auditLog(u.key, u.account.ID, "?action_prefix=auth.")
	for _, want := range []string{"auth.totp_enabled", "auth.totp_disabled", "auth.signin", "auth.signin_failed"} {
		if _, ok := findAudit(es, want, ""); !ok {
			t.Errorf("audit log has no %s", want)
		}
	}
	if e, ok := findAudit(es, "auth.signin_failed", ""); ok && !strings.Contains(e.Detail, "two-factor") && !strings.Contains(e.Detail, "password") {
		t.Errorf("failed sign-in detail %q", e.Detail)
	}
	// Failed codes count towards the lockout.
	// With two-factor sign-in on again, wrong codes count towards the
	// lockout like wrong passwords.
	_, enrol, _ = a.do("POST", "/api/me/totp", nil)
	code, _ = totp.GenerateCode(enrol["secret"].(string), time.Now())
	if st, _, raw := a.do("POST", "/api/me/totp/confirm", map[string]any{"code": code}); st != 200 {
		t.Fatalf("re-enrol: %d %s", st, raw)
	}
	d := s.browser()
	last := 0
	for range 6 {
		last = d.signIn("tess@example.com", "pw-tess@example.com", "000000")
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("after repeated wrong codes: %d, want 429", last)
	}
	// Secrets: the TOTP secret is sealed in the database.
	raw2, _ := readDB(s.dbPath)
	if bytes.Contains(raw2, []byte(secret)) {
		t.Error("the TOTP secret is stored in clear")
	}
}

// readDB returns the SQLite file and its WAL.
func readDB(path string) ([]byte, error) {
	var out []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}
