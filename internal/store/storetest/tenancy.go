package storetest

import (
	"bytes"
	"context"
	"testing"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// testTenancy covers store.Tenancy: accounts, users, memberships, effective
// workspace roles, workspaces, API keys and sessions.
func testTenancy(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := at(0)
	acc := model.Account{ID: model.NewID(), Name: "Acme", Handle: "acme", Created: now}
	must(t, s.AccountCreate(ctx, acc))
	wantErr(t, s.AccountCreate(ctx, model.Account{ID: model.NewID(), Name: "x", Handle: "acme", Created: now}), store.ErrConflict)
	got, err := s.AccountByHandle(ctx, "acme")
	must(t, err)
	if got.ID != acc.ID || got.Name != "Acme" {
		t.Fatalf("AccountByHandle = %+v", got)
	}
	_, err = s.AccountGet(ctx, model.NewID())
	wantErr(t, err, store.ErrNotFound)

	alice := model.User{ID: model.NewID(), Email: "alice@example.com", Name: "Alice", Created: now}
	must(t, s.UserCreate(ctx, store.UserCreate{User: alice, PasswordHash: "$argon2id$fake"}))
	wantErr(t, s.UserCreate(ctx, store.UserCreate{User: model.User{ID: model.NewID(), Email: "ALICE@example.com", Created: now}}), store.ErrConflict)
	u, hash, err := s.UserByEmail(ctx, "Alice@Example.com")
	must(t, err)
	if u.ID != alice.ID || hash != "$argon2id$fake" {
		t.Fatalf("UserByEmail = %+v %q", u, hash)
	}
	bot := model.User{ID: model.NewID(), Name: "ci", IsBot: true, BotAccountID: &acc.ID, Created: now}
	must(t, s.UserCreate(ctx, store.UserCreate{User: bot}))
	b, err := s.UserGet(ctx, bot.ID)
	must(t, err)
	if !b.IsBot || b.BotAccountID == nil || *b.BotAccountID != acc.ID || b.Email != "" {
		t.Fatalf("bot = %+v", b)
	}

	prod := model.WorkspaceDetails{ID: model.NewID(), AccountID: acc.ID, Name: "Prod", Handle: "prod", Description: "live", Created: now}
	dev := model.WorkspaceDetails{ID: model.NewID(), AccountID: acc.ID, Name: "Dev", Handle: "dev", Created: now}
	must(t, s.WorkspaceInsert(ctx, prod))
	must(t, s.WorkspaceInsert(ctx, dev))
	wantErr(t, s.WorkspaceInsert(ctx, model.WorkspaceDetails{ID: model.NewID(), AccountID: acc.ID, Name: "x", Handle: "prod", Created: now}), store.ErrConflict)
	if w, err := s.WorkspaceGet(ctx, acc.ID, prod.ID); err != nil || w.Handle != "prod" {
		t.Fatalf("WorkspaceGet after insert = %+v %v", w, err)
	}
	_, err = s.WorkspaceDetailsGet(ctx, store.DefaultAccountID, prod.ID)
	wantErr(t, err, store.ErrNotFound)

	// No membership: no workspace.
	_, err = s.UserWorkspaceRole(ctx, alice.ID, prod.ID)
	wantErr(t, err, store.ErrNotFound)
	must(t, s.MemberSet(ctx, acc.ID, alice.ID, model.RoleViewer))
	must(t, s.WorkspaceRoleSet(ctx, dev.ID, alice.ID, model.RoleDeveloper))
	for w, want := range map[model.ID]model.Role{prod.ID: model.RoleViewer, dev.ID: model.RoleDeveloper} {
		r, err := s.UserWorkspaceRole(ctx, alice.ID, w)
		must(t, err)
		if r != want {
			t.Errorf("role on %s = %q, want %q (the stronger of account and workspace role)", w, r, want)
		}
	}
	access, err := s.UserWorkspaces(ctx, alice.ID)
	must(t, err)
	if len(access) != 2 || access[0].Workspace.Handle != "dev" || access[1].Workspace.Description != "live" || access[1].Account.Handle != "acme" {
		t.Fatalf("UserWorkspaces = %+v", access)
	}
	must(t, s.MemberSet(ctx, acc.ID, alice.ID, model.RoleAdmin))
	ms, err := s.MemberList(ctx, acc.ID)
	must(t, err)
	if len(ms) != 1 || ms[0].Role != model.RoleAdmin || ms[0].Email != "alice@example.com" {
		t.Fatalf("MemberList = %+v", ms)
	}
	must(t, s.MemberRemove(ctx, acc.ID, alice.ID))
	wantErr(t, s.MemberRemove(ctx, acc.ID, alice.ID), store.ErrNotFound)
	if access, _ := s.UserWorkspaces(ctx, alice.ID); len(access) != 0 {
		t.Fatalf("after removal the user still reaches %+v", access)
	}

	prod.Description, prod.Name = "changed", "Production"
	must(t, s.WorkspaceUpdate(ctx, prod))
	if w, _ := s.WorkspaceDetailsGet(ctx, acc.ID, prod.ID); w.Description != "changed" || w.Name != "Production" {
		t.Fatalf("after update %+v", w)
	}
	must(t, s.WorkspaceDelete(ctx, acc.ID, dev.ID))
	wantErr(t, s.WorkspaceDelete(ctx, store.DefaultAccountID, store.DefaultWorkspaceID), store.ErrNotFound)
	if ws, _ := s.WorkspaceDetailsList(ctx, acc.ID); len(ws) != 1 {
		t.Fatalf("after delete %+v", ws)
	}

	hash1 := bytes.Repeat([]byte{1}, 32)
	key := model.APIKey{ID: model.NewID(), UserID: alice.ID, Name: "ci", Prefix: "pnu_abcd", Created: now, Expires: atp(3600e9)}
	must(t, s.APIKeyCreate(ctx, store.APIKeyCreate{Key: key, Hash: hash1}))
	k, err := s.APIKeyByHash(ctx, hash1)
	must(t, err)
	if k.ID != key.ID || k.Expires == nil || !k.Expires.Equal(key.Expires.Time) || k.LastUsed != nil {
		t.Fatalf("APIKeyByHash = %+v", k)
	}
	must(t, s.APIKeyTouch(ctx, key.ID, at(60e9)))
	hash2 := bytes.Repeat([]byte{2}, 32)
	must(t, s.APIKeyRotate(ctx, alice.ID, key.ID, "pnu_wxyz", hash2))
	_, err = s.APIKeyByHash(ctx, hash1)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.APIKeyDelete(ctx, bot.ID, key.ID), store.ErrNotFound)
	keys, err := s.APIKeyList(ctx, alice.ID)
	must(t, err)
	if len(keys) != 1 || keys[0].Prefix != "pnu_wxyz" {
		t.Fatalf("APIKeyList = %+v", keys)
	}
	must(t, s.APIKeyDelete(ctx, alice.ID, key.ID))
	_, err = s.APIKeyByHash(ctx, hash2)
	wantErr(t, err, store.ErrNotFound)

	must(t, s.SessionCreate(ctx, hash1, model.Session{UserID: alice.ID, Created: now, Expires: at(3600e9)}))
	se, err := s.SessionGet(ctx, hash1)
	must(t, err)
	if se.UserID != alice.ID || !se.Expires.Equal(at(3600e9).Time) {
		t.Fatalf("SessionGet = %+v", se)
	}
	// Deleting a user takes their sessions and keys along.
	must(t, s.APIKeyCreate(ctx, store.APIKeyCreate{Key: model.APIKey{ID: model.NewID(), UserID: alice.ID, Name: "x", Prefix: "pnu_x", Created: now}, Hash: hash2}))
	must(t, s.UserDelete(ctx, alice.ID))
	_, err = s.SessionGet(ctx, hash1)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.APIKeyByHash(ctx, hash2)
	wantErr(t, err, store.ErrNotFound)
	must(t, s.SessionDelete(ctx, hash1))
}
