package tenancy

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store/sqlite"
)

func TestCan(t *testing.T) {
	t.Parallel()
	want := map[model.Role][]Permission{
		model.RoleOwner:     {PermRead, PermWrite, PermManage, PermOwn},
		model.RoleAdmin:     {PermRead, PermWrite, PermManage},
		model.RoleDeveloper: {PermRead, PermWrite},
		model.RoleViewer:    {PermRead},
		"":                  nil,
		"root":              nil,
	}
	for role, perms := range want {
		for _, p := range []Permission{PermRead, PermWrite, PermManage, PermOwn, 0, 99} {
			allowed := false
			for _, q := range perms {
				allowed = allowed || q == p
			}
			if got := Can(role, p); got != allowed {
				t.Errorf("Can(%q, %v) = %v, want %v", role, p, got, allowed)
			}
		}
	}
}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("hunter22hunter")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "hunter22") {
		t.Fatalf("unexpected encoding %q", h)
	}
	h2, _ := HashPassword("hunter22hunter")
	if h == h2 {
		t.Error("two hashes of the same password are equal: no salt")
	}
	for _, tc := range []struct {
		encoded, password string
		ok                bool
		err               bool
	}{
		{h, "hunter22hunter", true, false},
		{h, "hunter22hunteR", false, false},
		{h, "", false, false},
		{"$argon2i$v=19$m=1,t=1,p=1$AAAA$AAAA", "x", false, true},
		{"plain", "plain", false, true},
		{strings.Replace(h, "v=19", "v=16", 1), "hunter22hunter", false, true},
	} {
		ok, err := CheckPassword(tc.encoded, tc.password)
		if ok != tc.ok || (err != nil) != tc.err {
			t.Errorf("CheckPassword(%.20q, %q) = %v, %v; want %v, err %v", tc.encoded, tc.password, ok, err, tc.ok, tc.err)
		}
	}
}

func TestKeyShape(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, prefix := range []string{UserKeyPrefix, BotKeyPrefix} {
		for range 50 {
			secret, display, hash, err := newKey(prefix)
			if err != nil {
				t.Fatal(err)
			}
			if len(secret) != 40 || !strings.HasPrefix(secret, prefix) || !LooksLikeKey(secret) {
				t.Fatalf("bad key %q", secret)
			}
			if display != secret[:8] || len(hash) != 32 || string(HashSecret(secret)) != string(hash) {
				t.Fatalf("bad display %q or hash", display)
			}
			if seen[secret] {
				t.Fatal("duplicate key")
			}
			seen[secret] = true
		}
	}
	for _, bad := range []string{"", "pnu_", "pnu_" + strings.Repeat("a", 35), "pnu_" + strings.Repeat("a", 37), "pcu_" + strings.Repeat("a", 36), "pnu_" + strings.Repeat("-", 36)} {
		if LooksLikeKey(bad) {
			t.Errorf("LooksLikeKey(%q) = true", bad)
		}
	}
}

func TestThrottle(t *testing.T) {
	t.Parallel()
	th := &Throttle{Free: 3, Window: 10 * time.Minute}
	now := time.Unix(1_000_000, 0)
	for i := range 2 {
		th.Fail("k", now)
		if w := th.Wait("k", now); w != 0 {
			t.Fatalf("locked after %d failures", i+1)
		}
	}
	th.Fail("k", now)
	if w := th.Wait("k", now); w != time.Minute {
		t.Fatalf("after 3 failures wait %v, want 1m", w)
	}
	th.Fail("k", now)
	if w := th.Wait("k", now); w != 2*time.Minute {
		t.Fatalf("after 4 failures wait %v, want 2m", w)
	}
	for range 10 {
		th.Fail("k", now)
	}
	if w := th.Wait("k", now); w != 10*time.Minute {
		t.Fatalf("lockout %v, want capped at the window", w)
	}
	if w := th.Wait("other", now); w != 0 {
		t.Fatal("another key is locked")
	}
	if w := th.Wait("k", now.Add(11*time.Minute)); w != 0 {
		t.Fatal("still locked after the window")
	}
	th.Fail("j", now)
	th.Succeed("j")
	if len(th.keys) != 0 {
		t.Fatalf("keys not forgotten: %v", th.keys)
	}
}

func TestValidHandle(t *testing.T) {
	t.Parallel()
	for h, ok := range map[string]bool{"acme": true, "a-1": true, "9x": true, "": false, "-a": false, "A": false, "a_b": false, "a/b": false, strings.Repeat("a", 51): false} {
		if ValidHandle(h) != ok {
			t.Errorf("ValidHandle(%q) = %v", h, !ok)
		}
	}
	if got := handleFrom("John.Smith+work"); got != "john-smith-work" {
		t.Errorf("handleFrom = %q", got)
	}
}

func newService(t *testing.T, cfg Config) *Service {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "t.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cfg.Store = st
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKeyLifecycle(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clock := func() time.Time { return now }
	s := newService(t, Config{Mode: ModeCloud, Now: clock})
	ctx := context.Background()
	res, err := s.Bootstrap(ctx, SignUp{Email: "a@example.com", Password: "password1", AccountHandle: "acme", WorkspaceHandle: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	exp := now.Add(time.Hour)
	k, err := s.CreateAPIKey(ctx, res.User.ID, "ci", &exp)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.AuthenticateKey(ctx, k.Key)
	if err != nil || p.User.ID != res.User.ID || p.KeyID == nil || *p.KeyID != k.ID {
		t.Fatalf("authenticate: %+v %v", p, err)
	}
	if err := s.AuthorizeWorkspace(ctx, p, res.Workspace.ID, PermOwn); err != nil {
		t.Fatalf("owner denied: %v", err)
	}
	keys, _ := s.ListAPIKeys(ctx, res.User.ID)
	if len(keys) != 1 || keys[0].LastUsed == nil {
		t.Fatalf("last use not recorded: %+v", keys)
	}
	// Expiry is checked even while the key is cached.
	now = exp
	if _, err := s.AuthenticateKey(ctx, k.Key); err != ErrUnauthenticated {
		t.Fatalf("expired key: %v", err)
	}
	now = exp.Add(-time.Minute)
	rot, err := s.RotateAPIKey(ctx, res.User.ID, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateKey(ctx, k.Key); err != ErrUnauthenticated {
		t.Fatalf("old secret after rotation: %v", err)
	}
	if _, err := s.AuthenticateKey(ctx, rot.Key); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if err := s.DeleteAPIKey(ctx, res.User.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateKey(ctx, rot.Key); err != ErrUnauthenticated {
		t.Fatalf("revoked key: %v", err)
	}
	if _, err := s.CreateAPIKey(ctx, res.User.ID, "old", &now); err == nil {
		t.Error("a key expiring now was accepted")
	}
	// Bots get pnb_ keys and their role.
	bot, err := s.CreateServiceAccount(ctx, res.Account.ID, "deployer", model.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	bk, err := s.CreateAPIKey(ctx, bot.ID, "deployer", nil)
	if err != nil || !strings.HasPrefix(bk.Key, BotKeyPrefix) {
		t.Fatalf("bot key %q %v", bk.Key, err)
	}
	bp, _ := s.AuthenticateKey(ctx, bk.Key)
	if err := s.AuthorizeWorkspace(ctx, bp, res.Workspace.ID, PermWrite); err == nil || err.(*Error).Kind != Forbidden {
		t.Fatalf("viewer bot write: %v", err)
	}
	if err := s.AuthorizeWorkspace(ctx, bp, res.Workspace.ID, PermRead); err != nil {
		t.Fatalf("viewer bot read: %v", err)
	}
}

func TestMembersKeepAnOwner(t *testing.T) {
	t.Parallel()
	s := newService(t, Config{Mode: ModeCloud})
	ctx := context.Background()
	a, _ := s.Bootstrap(ctx, SignUp{Email: "a@example.com", Password: "password1", AccountHandle: "acme", WorkspaceHandle: "prod"})
	b, _ := s.Bootstrap(ctx, SignUp{Email: "b@example.com", Password: "password1", AccountHandle: "bee"})
	if _, err := s.SetMember(ctx, model.RoleAdmin, a.Account.ID, "b@example.com", model.RoleOwner); err == nil {
		t.Error("an admin granted owner")
	}
	if _, err := s.SetMember(ctx, model.RoleOwner, a.Account.ID, "b@example.com", model.RoleDeveloper); err != nil {
		t.Fatal(err)
	}
	pb := Principal{User: b.User}
	if err := s.AuthorizeWorkspace(ctx, pb, a.Workspace.ID, PermWrite); err != nil {
		t.Fatalf("developer write: %v", err)
	}
	if _, err := s.SetMemberRole(ctx, model.RoleOwner, a.Account.ID, a.User.ID, model.RoleAdmin); err == nil {
		t.Error("the last owner was demoted")
	}
	if err := s.RemoveMember(ctx, model.RoleOwner, a.Account.ID, a.User.ID); err == nil {
		t.Error("the last owner was removed")
	}
	if err := s.RemoveMember(ctx, model.RoleAdmin, a.Account.ID, b.User.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.AuthorizeWorkspace(ctx, pb, a.Workspace.ID, PermRead); err == nil || err.(*Error).Kind != NotFound {
		t.Fatalf("removed member: %v, want 404", err)
	}
}

// TestOneTimeLinksNeverLogged: without an SMTP server, neither a password
// reset link nor an invitation link reaches the log (a one-time link is a
// credential; before, both were logged at WARN for the operator to pass on).
func TestOneTimeLinksNeverLogged(t *testing.T) {
	t.Parallel()
	var logged strings.Builder
	s := newService(t, Config{Mode: ModeCloud, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	ctx := context.Background()
	res, err := s.Bootstrap(ctx, SignUp{Email: "a@example.com", Password: "password1", AccountHandle: "acme", WorkspaceHandle: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RequestPasswordReset(ctx, "a@example.com", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	inv, err := s.Invite(ctx, Principal{User: res.User}, model.RoleOwner, res.Account.ID, InvitationInput{Email: "b@example.com", Role: model.RoleDeveloper})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Link == "" || !strings.Contains(inv.Link, "#token=") {
		t.Fatalf("the inviter gets the link in the answer: %+v", inv)
	}
	out := logged.String()
	if strings.Contains(out, "token=") || strings.Contains(out, inv.Link) {
		t.Fatalf("a one-time link reached the log:\n%s", out)
	}
	if !strings.Contains(out, "baton admin set-password") {
		t.Fatalf("the log should tell the operator how to help a user without e-mail:\n%s", out)
	}
}
