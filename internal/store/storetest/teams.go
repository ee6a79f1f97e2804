package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// testTeams covers teams and the effective role they add (personal and
// team grants, the strongest wins), the "member" account role that grants
// no workspace by itself, and that leaving the account leaves its teams.
func testTeams(t *testing.T, s store.Store) {
	ctx := context.Background()
	acc := model.Account{ID: model.NewID(), Name: "Acme", Handle: "acme", Created: at(0)}
	must(t, s.AccountCreate(ctx, acc))
	prod := model.WorkspaceDetails{ID: model.NewID(), AccountID: acc.ID, Name: "Prod", Handle: "prod", Created: at(0)}
	dev := model.WorkspaceDetails{ID: model.NewID(), AccountID: acc.ID, Name: "Dev", Handle: "dev", Created: at(0)}
	must(t, s.WorkspaceInsert(ctx, prod))
	must(t, s.WorkspaceInsert(ctx, dev))
	u := model.User{ID: model.NewID(), Email: "u@example.com", Name: "U", Created: at(0)}
	must(t, s.UserCreate(ctx, store.UserCreate{User: u}))
	must(t, s.MemberSet(ctx, acc.ID, u.ID, model.RoleMember))
	if ws, err := s.UserWorkspaces(ctx, u.ID); err != nil || len(ws) != 0 {
		t.Fatalf("a member without grants reaches %+v (%v)", ws, err)
	}

	team := model.Team{ID: model.NewID(), AccountID: acc.ID, Name: "data", Description: "d", Created: at(0)}
	must(t, s.TeamCreate(ctx, team))
	wantErr(t, s.TeamCreate(ctx, model.Team{ID: model.NewID(), AccountID: acc.ID, Name: "data", Created: at(0)}), store.ErrConflict)
	ops := model.Team{ID: model.NewID(), AccountID: acc.ID, Name: "ops", Created: at(0)}
	must(t, s.TeamCreate(ctx, ops))
	must(t, s.TeamMemberAdd(ctx, team.ID, u.ID))
	must(t, s.TeamMemberAdd(ctx, team.ID, u.ID)) // again: no error
	must(t, s.TeamMemberAdd(ctx, ops.ID, u.ID))
	must(t, s.TeamWorkspaceRoleSet(ctx, team.ID, prod.ID, model.RoleViewer))
	must(t, s.TeamWorkspaceRoleSet(ctx, ops.ID, prod.ID, model.RoleDeveloper))
	must(t, s.TeamWorkspaceRoleSet(ctx, team.ID, prod.ID, model.RoleViewer)) // upsert
	ws, err := s.UserWorkspaces(ctx, u.ID)
	must(t, err)
	if len(ws) != 1 || ws[0].Workspace.ID != prod.ID || ws[0].Role != model.RoleDeveloper {
		t.Fatalf("with two teams on prod: %+v, want prod as developer (the stronger team grant)", ws)
	}
	// A personal grant stronger than the teams' wins; a weaker one does not.
	must(t, s.WorkspaceRoleSet(ctx, prod.ID, u.ID, model.RoleAdmin))
	if r, err := s.UserWorkspaceRole(ctx, u.ID, prod.ID); err != nil || r != model.RoleAdmin {
		t.Fatalf("personal admin + team developer = %q %v", r, err)
	}
	must(t, s.WorkspaceRoleSet(ctx, prod.ID, u.ID, ""))
	_, err = s.UserWorkspaceRole(ctx, u.ID, dev.ID)
	wantErr(t, err, store.ErrNotFound)

	got, err := s.TeamGet(ctx, acc.ID, team.ID)
	must(t, err)
	if got.Name != "data" || got.Description != "d" || len(got.Members) != 1 || got.Members[0].Email != "u@example.com" ||
		len(got.Workspaces) != 1 || got.Workspaces[0].WorkspaceID != prod.ID || got.Workspaces[0].Role != model.RoleViewer {
		t.Fatalf("TeamGet = %+v", got)
	}
	_, err = s.TeamGet(ctx, model.NewID(), team.ID)
	wantErr(t, err, store.ErrNotFound)
	team.Name = "analytics"
	must(t, s.TeamUpdate(ctx, team))
	ops2 := ops
	ops2.Name = "analytics"
	wantErr(t, s.TeamUpdate(ctx, ops2), store.ErrConflict)
	wantErr(t, s.TeamUpdate(ctx, model.Team{ID: model.NewID(), AccountID: acc.ID, Name: "x"}), store.ErrNotFound)
	ts, err := s.TeamList(ctx, acc.ID)
	must(t, err)
	if len(ts) != 2 || ts[0].Name != "analytics" || ts[1].Name != "ops" || len(ts[1].Workspaces) != 1 {
		t.Fatalf("TeamList = %+v", ts)
	}
	if none, err := s.TeamList(ctx, model.NewID()); err != nil || len(none) != 0 {
		t.Fatalf("TeamList of another account = %+v %v", none, err)
	}

	// Removing a grant, a member, a team.
	must(t, s.TeamWorkspaceRoleSet(ctx, ops.ID, prod.ID, ""))
	if r, err := s.UserWorkspaceRole(ctx, u.ID, prod.ID); err != nil || r != model.RoleViewer {
		t.Fatalf("after ops lost prod: %q %v", r, err)
	}
	must(t, s.TeamMemberRemove(ctx, team.ID, u.ID))
	wantErr(t, s.TeamMemberRemove(ctx, team.ID, u.ID), store.ErrNotFound)
	_, err = s.UserWorkspaceRole(ctx, u.ID, prod.ID)
	wantErr(t, err, store.ErrNotFound)
	must(t, s.TeamMemberAdd(ctx, team.ID, u.ID))
	// Leaving the account leaves its teams.
	must(t, s.MemberRemove(ctx, acc.ID, u.ID))
	if got, _ := s.TeamGet(ctx, acc.ID, team.ID); len(got.Members) != 0 {
		t.Fatalf("after leaving the account the user is still in %+v", got.Members)
	}
	must(t, s.TeamDelete(ctx, acc.ID, team.ID))
	wantErr(t, s.TeamDelete(ctx, acc.ID, team.ID), store.ErrNotFound)
}

// testInvitations covers invitations: create, list open ones, find by
// token hash, revoke, and accept in one write (membership, team, the
// stronger role kept; a second accept is ErrConflict).
func testInvitations(t *testing.T, s store.Store) {
	ctx := context.Background()
	acc := model.Account{ID: model.NewID(), Name: "Acme", Handle: "acme", Created: at(0)}
	must(t, s.AccountCreate(ctx, acc))
	team := model.Team{ID: model.NewID(), AccountID: acc.ID, Name: "data", Created: at(0)}
	must(t, s.TeamCreate(ctx, team))
	owner := model.User{ID: model.NewID(), Email: "o@example.com", Name: "O", Created: at(0)}
	must(t, s.UserCreate(ctx, store.UserCreate{User: owner}))
	inv := model.Invitation{ID: model.NewID(), AccountID: acc.ID, Email: "new@example.com", Role: model.RoleMember, TeamID: &team.ID,
		InviterID: &owner.ID, Created: at(0), Expires: at(time.Hour)}
	must(t, s.InvitationCreate(ctx, inv, []byte("hash-1")))
	wantErr(t, s.InvitationCreate(ctx, model.Invitation{ID: model.NewID(), AccountID: acc.ID, Email: "x@example.com", Role: model.RoleViewer,
		Created: at(0), Expires: at(time.Hour)}, []byte("hash-1")), store.ErrConflict)
	other := model.Invitation{ID: model.NewID(), AccountID: acc.ID, Email: "x@example.com", Role: model.RoleViewer, Created: at(time.Second), Expires: at(time.Hour)}
	must(t, s.InvitationCreate(ctx, other, []byte("hash-2")))
	got, err := s.InvitationByHash(ctx, []byte("hash-1"))
	must(t, err)
	if got.ID != inv.ID || got.Email != inv.Email || got.Role != model.RoleMember || got.TeamID == nil || *got.TeamID != team.ID ||
		got.InviterID == nil || *got.InviterID != owner.ID || !got.Expires.Equal(inv.Expires.Time) || got.Accepted != nil || got.Revoked != nil {
		t.Fatalf("InvitationByHash = %+v", got)
	}
	_, err = s.InvitationByHash(ctx, []byte("nope"))
	wantErr(t, err, store.ErrNotFound)
	list, err := s.InvitationList(ctx, acc.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != other.ID {
		t.Fatalf("InvitationList = %+v", list)
	}
	must(t, s.InvitationRevoke(ctx, acc.ID, other.ID, at(time.Minute)))
	wantErr(t, s.InvitationRevoke(ctx, acc.ID, other.ID, at(time.Minute)), store.ErrNotFound)
	wantErr(t, s.InvitationRevoke(ctx, model.NewID(), inv.ID, at(time.Minute)), store.ErrNotFound)
	wantErr(t, s.InvitationAccept(ctx, other.ID, owner.ID, at(time.Minute)), store.ErrConflict)

	u := model.User{ID: model.NewID(), Email: "new@example.com", Name: "N", Created: at(0)}
	must(t, s.UserCreate(ctx, store.UserCreate{User: u}))
	must(t, s.InvitationAccept(ctx, inv.ID, u.ID, at(time.Minute)))
	wantErr(t, s.InvitationAccept(ctx, inv.ID, u.ID, at(time.Minute)), store.ErrConflict)
	wantErr(t, s.InvitationAccept(ctx, model.NewID(), u.ID, at(time.Minute)), store.ErrNotFound)
	m, err := s.MemberGet(ctx, acc.ID, u.ID)
	must(t, err)
	if m.Role != model.RoleMember {
		t.Fatalf("after accepting: role %q", m.Role)
	}
	tm, err := s.TeamGet(ctx, acc.ID, team.ID)
	must(t, err)
	if len(tm.Members) != 1 || tm.Members[0].UserID != u.ID {
		t.Fatalf("after accepting, team members = %+v", tm.Members)
	}
	got, _ = s.InvitationByHash(ctx, []byte("hash-1"))
	if got.Accepted == nil || got.AcceptedBy == nil || *got.AcceptedBy != u.ID {
		t.Fatalf("accepted invitation = %+v", got)
	}
	if list, _ := s.InvitationList(ctx, acc.ID); len(list) != 0 {
		t.Fatalf("open invitations after accept and revoke: %+v", list)
	}
	// Accepting a weaker role keeps the stronger one.
	up := model.Invitation{ID: model.NewID(), AccountID: acc.ID, Email: "o@example.com", Role: model.RoleViewer, Created: at(0), Expires: at(time.Hour)}
	must(t, s.MemberSet(ctx, acc.ID, owner.ID, model.RoleOwner))
	must(t, s.InvitationCreate(ctx, up, []byte("hash-3")))
	must(t, s.InvitationAccept(ctx, up.ID, owner.ID, at(time.Minute)))
	if m, _ := s.MemberGet(ctx, acc.ID, owner.ID); m.Role != model.RoleOwner {
		t.Fatalf("an owner accepting a viewer invitation became %q", m.Role)
	}
}

// testAccountSecurity covers session listing and revocation by id, ending
// a user's other sessions, password reset tokens (used once), password
// change, and TOTP secrets with recovery codes (each used once).
func testAccountSecurity(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := model.User{ID: model.NewID(), Email: "s@example.com", Name: "S", Created: at(0)}
	must(t, s.UserCreate(ctx, store.UserCreate{User: u, PasswordHash: "old"}))
	other := model.User{ID: model.NewID(), Email: "o@example.com", Name: "O", Created: at(0)}
	must(t, s.UserCreate(ctx, store.UserCreate{User: other}))
	s1 := model.Session{ID: model.NewID(), UserID: u.ID, Created: at(0), Expires: at(time.Hour), SourceAddr: "192.0.2.1", UserAgent: "Firefox"}
	s2 := model.Session{ID: model.NewID(), UserID: u.ID, Created: at(time.Second), Expires: at(time.Hour)}
	must(t, s.SessionCreate(ctx, []byte("h1"), s1))
	must(t, s.SessionCreate(ctx, []byte("h2"), s2))
	must(t, s.SessionCreate(ctx, []byte("h3"), model.Session{UserID: u.ID, Created: at(2 * time.Second), Expires: at(time.Hour)}))
	must(t, s.SessionCreate(ctx, []byte("ho"), model.Session{ID: model.NewID(), UserID: other.ID, Created: at(0), Expires: at(time.Hour)}))
	got, err := s.SessionGet(ctx, []byte("h1"))
	must(t, err)
	if got.ID != s1.ID || got.SourceAddr != "192.0.2.1" || got.UserAgent != "Firefox" {
		t.Fatalf("SessionGet = %+v", got)
	}
	list, err := s.SessionList(ctx, u.ID)
	must(t, err)
	if len(list) != 3 || list[1].ID != s2.ID || list[0].ID == model.Nil {
		t.Fatalf("SessionList = %+v", list)
	}
	wantErr(t, s.SessionDeleteByID(ctx, other.ID, s1.ID), store.ErrNotFound)
	must(t, s.SessionDeleteByID(ctx, u.ID, s2.ID))
	_, err = s.SessionGet(ctx, []byte("h2"))
	wantErr(t, err, store.ErrNotFound)
	must(t, s.SessionDeleteUser(ctx, u.ID, []byte("h1")))
	if list, _ := s.SessionList(ctx, u.ID); len(list) != 1 || list[0].ID != s1.ID {
		t.Fatalf("after ending the others: %+v", list)
	}
	must(t, s.SessionDeleteUser(ctx, u.ID, nil))
	if list, _ := s.SessionList(ctx, u.ID); len(list) != 0 {
		t.Fatalf("after ending all: %+v", list)
	}
	if _, err := s.SessionGet(ctx, []byte("ho")); err != nil {
		t.Fatalf("another user's session went too: %v", err)
	}

	must(t, s.UserPasswordSet(ctx, u.ID, "new"))
	if _, h, _ := s.UserByEmail(ctx, u.Email); h != "new" {
		t.Fatalf("password hash after set: %q", h)
	}
	wantErr(t, s.UserPasswordSet(ctx, model.NewID(), "x"), store.ErrNotFound)
	must(t, s.PasswordResetCreate(ctx, []byte("r1"), u.ID, at(0), at(time.Hour)))
	uid, exp, err := s.PasswordResetConsume(ctx, []byte("r1"), at(time.Minute))
	must(t, err)
	if uid != u.ID || !exp.Equal(at(time.Hour).Time) {
		t.Fatalf("PasswordResetConsume = %v %v", uid, exp)
	}
	_, _, err = s.PasswordResetConsume(ctx, []byte("r1"), at(time.Minute))
	wantErr(t, err, store.ErrConflict)
	_, _, err = s.PasswordResetConsume(ctx, []byte("nope"), at(time.Minute))
	wantErr(t, err, store.ErrNotFound)

	sealed, on, err := s.TOTPGet(ctx, u.ID)
	must(t, err)
	if sealed != nil || on {
		t.Fatalf("a new user has TOTP %x %v", sealed, on)
	}
	must(t, s.TOTPSet(ctx, u.ID, []byte("sealed"), false, nil))
	if sealed, on, _ = s.TOTPGet(ctx, u.ID); !bytes.Equal(sealed, []byte("sealed")) || on {
		t.Fatalf("enrolling: %q %v", sealed, on)
	}
	must(t, s.TOTPSet(ctx, u.ID, []byte("sealed"), true, [][]byte{[]byte("c1"), []byte("c2")}))
	if _, on, _ = s.TOTPGet(ctx, u.ID); !on {
		t.Fatal("TOTP not on after confirming")
	}
	// Key rotation reseals every stored TOTP secret.
	n, err := s.TOTPReseal(ctx, func(uid model.ID, sealed []byte) ([]byte, error) {
		if uid != u.ID {
			t.Errorf("TOTPReseal passed user %s, which has no secret", uid)
		}
		return append([]byte("re-"), sealed...), nil
	})
	must(t, err)
	if sealed, _, _ := s.TOTPGet(ctx, u.ID); n != 1 || string(sealed) != "re-sealed" {
		t.Fatalf("TOTPReseal = %d, secret %q", n, sealed)
	}
	// A TOTP time step is accepted once, and never an older one.
	must(t, s.TOTPUseStep(ctx, u.ID, 1000))
	wantErr(t, s.TOTPUseStep(ctx, u.ID, 1000), store.ErrConflict)
	wantErr(t, s.TOTPUseStep(ctx, u.ID, 999), store.ErrConflict)
	must(t, s.TOTPUseStep(ctx, u.ID, 1001))
	must(t, s.TOTPUseStep(ctx, other.ID, 1000))
	wantErr(t, s.TOTPUseStep(ctx, model.NewID(), 5), store.ErrNotFound)
	must(t, s.RecoveryCodeUse(ctx, u.ID, []byte("c1")))
	wantErr(t, s.RecoveryCodeUse(ctx, u.ID, []byte("c1")), store.ErrNotFound)
	wantErr(t, s.RecoveryCodeUse(ctx, other.ID, []byte("c2")), store.ErrNotFound)
	must(t, s.TOTPSet(ctx, u.ID, nil, true, nil))
	if sealed, on, _ = s.TOTPGet(ctx, u.ID); sealed != nil || on {
		t.Fatalf("after turning off: %q %v", sealed, on)
	}
	wantErr(t, s.RecoveryCodeUse(ctx, u.ID, []byte("c2")), store.ErrNotFound)
	_, _, err = s.TOTPGet(ctx, model.NewID())
	wantErr(t, err, store.ErrNotFound)
}
