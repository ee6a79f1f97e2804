package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/store/sqlite"
	"github.com/batonhq/baton/internal/tenancy"
)

// TestAdminSetPassword: the operator's way back in for a user of an install
// without e-mail. The new password signs in, the old one no longer does, and
// the password never appears in the output.
func TestAdminSetPassword(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	if code, _, errs := e.run("first-password-long\n", "admin", "create-user", "--email", "Ops@Example.com", "--password-stdin",
		"--account", "acme"); code != 0 {
		t.Fatalf("create-user: %d %s", code, errs)
	}
	code, out, errs := e.run("second-password-long\n", "admin", "set-password", "--email", "ops@example.com", "--password-stdin")
	if code != 0 || !strings.Contains(out, "Password of ops@example.com") || strings.Contains(out+errs, "second-password") {
		t.Fatalf("set-password: %d\n%s\n%s", code, out, errs)
	}
	// Bad input: usage errors naming the problem, nothing changed.
	if code, _, errs := e.run("x\n", "admin", "set-password", "--email", "ops@example.com"); code != 2 || !strings.Contains(errs, "--password-stdin") {
		t.Fatalf("without --password-stdin: %d %s", code, errs)
	}
	if code, _, errs := e.run("third-password-long\n", "admin", "set-password", "--email", "nobody@example.com", "--password-stdin"); code == 0 || !strings.Contains(errs, "nobody@example.com") {
		t.Fatalf("unknown e-mail: %d %s", code, errs)
	}
	if code, _, errs := e.run("short\n", "admin", "set-password", "--email", "ops@example.com", "--password-stdin"); code == 0 || !strings.Contains(errs, "password") {
		t.Fatalf("short password: %d %s", code, errs)
	}

	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(e.home, "baton.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := tenancy.New(tenancy.Config{Store: st, Mode: tenancy.ModeCloud})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := svc.SignIn(ctx, "ops@example.com", "second-password-long", "127.0.0.1"); err != nil {
		t.Fatalf("sign-in with the new password: %v", err)
	}
	if _, _, err := svc.SignIn(ctx, "ops@example.com", "first-password-long", "127.0.0.2"); err == nil {
		t.Fatal("the old password still signs in")
	}
}
