package tenancy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// --- API keys -------------------------------------------------------------

// NewAPIKey is a freshly created (or rotated) key: the secret is returned
// exactly once and never stored.
type NewAPIKey struct {
	model.APIKey
	// Key is the secret.
	Key string `json:"key"`
}

// CreateAPIKey gives userID a new named key, optionally expiring. People get
// "pnu_" keys, service accounts "pnb_" keys.
func (s *Service) CreateAPIKey(ctx context.Context, userID model.ID, name string, expires *time.Time) (NewAPIKey, error) {
	if err := checkName("name", name); err != nil {
		return NewAPIKey{}, err
	}
	u, err := s.st.UserGet(ctx, userID)
	if err != nil {
		return NewAPIKey{}, publicStoreError(err, "user")
	}
	now := s.now()
	if expires != nil && !expires.After(now) {
		return NewAPIKey{}, fail(Invalid, "field \"expiration\" must be in the future")
	}
	prefix := UserKeyPrefix
	if u.IsBot {
		prefix = BotKeyPrefix
	}
	secret, display, hash, err := newKey(prefix)
	if err != nil {
		return NewAPIKey{}, err
	}
	k := model.APIKey{ID: model.NewID(), UserID: userID, Name: strings.TrimSpace(name), Prefix: display, Created: model.NewTime(now)}
	if expires != nil {
		k.Expires = model.TimePtr(*expires)
	}
	if err := s.st.APIKeyCreate(ctx, store.APIKeyCreate{Key: k, Hash: hash}); err != nil {
		return NewAPIKey{}, err
	}
	s.log.InfoContext(ctx, "tenancy: api key created", slog.String("user_id", userID.String()), slog.String("key_id", k.ID.String()), slog.String("prefix", display))
	return NewAPIKey{APIKey: k, Key: secret}, nil
}

// ListAPIKeys returns a user's keys without secrets.
func (s *Service) ListAPIKeys(ctx context.Context, userID model.ID) ([]model.APIKey, error) {
	return s.st.APIKeyList(ctx, userID)
}

// DeleteAPIKey revokes a key; it stops working at once in this process.
func (s *Service) DeleteAPIKey(ctx context.Context, userID, keyID model.ID) error {
	if err := s.st.APIKeyDelete(ctx, userID, keyID); err != nil {
		return publicStoreError(err, "api key")
	}
	s.invalidate()
	s.log.InfoContext(ctx, "tenancy: api key revoked", slog.String("user_id", userID.String()), slog.String("key_id", keyID.String()))
	return nil
}

// RotateAPIKey gives a key a new secret (same id, name and expiry); the old
// secret stops working at once.
func (s *Service) RotateAPIKey(ctx context.Context, userID, keyID model.ID) (NewAPIKey, error) {
	k, err := s.st.APIKeyGet(ctx, userID, keyID)
	if err != nil {
		return NewAPIKey{}, publicStoreError(err, "api key")
	}
	prefix := k.Prefix[:len(UserKeyPrefix)]
	secret, display, hash, err := newKey(prefix)
	if err != nil {
		return NewAPIKey{}, err
	}
	if err := s.st.APIKeyRotate(ctx, userID, keyID, display, hash); err != nil {
		return NewAPIKey{}, publicStoreError(err, "api key")
	}
	s.invalidate()
	k.Prefix, k.LastUsed = display, nil
	s.log.InfoContext(ctx, "tenancy: api key rotated", slog.String("user_id", userID.String()), slog.String("key_id", keyID.String()))
	return NewAPIKey{APIKey: k, Key: secret}, nil
}

// --- service accounts -----------------------------------------------------

// CreateServiceAccount adds a bot user to an account with a role. Keys are
// then created for it with CreateAPIKey (by an account admin).
func (s *Service) CreateServiceAccount(ctx context.Context, accountID model.ID, name string, role model.Role) (model.User, error) {
	if err := checkName("name", name); err != nil {
		return model.User{}, err
	}
	if !role.Valid() || role == model.RoleOwner {
		return model.User{}, fail(Invalid, "field \"role\": %q is not one of admin, developer, viewer", role)
	}
	acc := accountID
	u := model.User{ID: model.NewID(), Name: strings.TrimSpace(name), IsBot: true, BotAccountID: &acc, Created: model.NewTime(s.now())}
	if err := s.st.UserCreate(ctx, store.UserCreate{User: u}); err != nil {
		return model.User{}, err
	}
	if err := s.st.MemberSet(ctx, accountID, u.ID, role); err != nil {
		_ = s.st.UserDelete(ctx, u.ID)
		return model.User{}, err
	}
	s.invalidate()
	return u, nil
}

// ServiceAccount returns a bot of the account (404 for anything else).
func (s *Service) ServiceAccount(ctx context.Context, accountID, botID model.ID) (model.User, error) {
	u, err := s.st.UserGet(ctx, botID)
	if err != nil || !u.IsBot || u.BotAccountID == nil || *u.BotAccountID != accountID {
		return model.User{}, fail(NotFound, "service account %s not found", botID)
	}
	return u, nil
}

// DeleteServiceAccount removes a bot with its keys.
func (s *Service) DeleteServiceAccount(ctx context.Context, accountID, botID model.ID) error {
	if _, err := s.ServiceAccount(ctx, accountID, botID); err != nil {
		return err
	}
	if err := s.st.UserDelete(ctx, botID); err != nil {
		return publicStoreError(err, "service account")
	}
	s.invalidate()
	return nil
}

// --- members --------------------------------------------------------------

// SetMember adds the person with this e-mail to an account or changes their
// role. Only owners may grant or take away the owner role, and the last
// owner cannot be demoted.
func (s *Service) SetMember(ctx context.Context, actorRole model.Role, accountID model.ID, email string, role model.Role) (model.AccountMember, error) {
	if !role.ValidAccountRole() {
		return model.AccountMember{}, fail(Invalid, "field \"role\": %q is not one of owner, admin, developer, viewer, member", role)
	}
	email, err := normalizeEmail(email)
	if err != nil {
		return model.AccountMember{}, err
	}
	u, _, err := s.st.UserByEmail(ctx, email)
	if err != nil {
		return model.AccountMember{}, publicStoreError(err, "user "+email)
	}
	return s.setRole(ctx, actorRole, accountID, u.ID, role)
}

// SetMemberRole changes an existing member's role.
func (s *Service) SetMemberRole(ctx context.Context, actorRole model.Role, accountID, userID model.ID, role model.Role) (model.AccountMember, error) {
	if !role.ValidAccountRole() {
		return model.AccountMember{}, fail(Invalid, "field \"role\": %q is not one of owner, admin, developer, viewer, member", role)
	}
	if _, err := s.st.MemberGet(ctx, accountID, userID); err != nil {
		return model.AccountMember{}, publicStoreError(err, "member")
	}
	return s.setRole(ctx, actorRole, accountID, userID, role)
}

func (s *Service) setRole(ctx context.Context, actorRole model.Role, accountID, userID model.ID, role model.Role) (model.AccountMember, error) {
	cur, err := s.st.MemberGet(ctx, accountID, userID)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return model.AccountMember{}, err
	}
	if (role == model.RoleOwner || exists && cur.Role == model.RoleOwner) && actorRole != model.RoleOwner {
		return model.AccountMember{}, fail(Forbidden, "only an owner can grant or change the owner role")
	}
	if exists && cur.Role == model.RoleOwner && role != model.RoleOwner {
		if err := s.keepAnOwner(ctx, accountID, userID); err != nil {
			return model.AccountMember{}, err
		}
	}
	if err := s.st.MemberSet(ctx, accountID, userID, role); err != nil {
		return model.AccountMember{}, err
	}
	s.invalidate()
	return s.st.MemberGet(ctx, accountID, userID)
}

// keepAnOwner refuses a change that would leave the account without an
// owner.
func (s *Service) keepAnOwner(ctx context.Context, accountID, leaving model.ID) error {
	ms, err := s.st.MemberList(ctx, accountID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Role == model.RoleOwner && m.UserID != leaving {
			return nil
		}
	}
	return fail(Conflict, "an account needs at least one owner")
}

// RemoveMember takes a user out of an account.
func (s *Service) RemoveMember(ctx context.Context, actorRole model.Role, accountID, userID model.ID) error {
	cur, err := s.st.MemberGet(ctx, accountID, userID)
	if err != nil {
		return publicStoreError(err, "member")
	}
	if cur.Role == model.RoleOwner {
		if actorRole != model.RoleOwner {
			return fail(Forbidden, "only an owner can remove an owner")
		}
		if err := s.keepAnOwner(ctx, accountID, userID); err != nil {
			return err
		}
	}
	if err := s.st.MemberRemove(ctx, accountID, userID); err != nil {
		return publicStoreError(err, "member")
	}
	s.invalidate()
	return nil
}

// Members lists an account's members.
func (s *Service) Members(ctx context.Context, accountID model.ID) ([]model.AccountMember, error) {
	return s.st.MemberList(ctx, accountID)
}

// SetWorkspaceRole grants a member a role on one workspace of the account
// (empty role removes it).
func (s *Service) SetWorkspaceRole(ctx context.Context, accountID, workspaceID, userID model.ID, role model.Role) error {
	if role != "" && !role.Valid() {
		return fail(Invalid, "field \"role\": %q is not one of owner, admin, developer, viewer", role)
	}
	if _, err := s.st.WorkspaceDetailsGet(ctx, accountID, workspaceID); err != nil {
		return publicStoreError(err, "workspace")
	}
	if _, err := s.st.UserGet(ctx, userID); err != nil {
		return publicStoreError(err, "user")
	}
	if err := s.st.WorkspaceRoleSet(ctx, workspaceID, userID, role); err != nil {
		return err
	}
	s.invalidate()
	return nil
}

// --- accounts and workspaces ----------------------------------------------

// Accounts returns the accounts a user belongs to with their roles.
func (s *Service) Accounts(ctx context.Context, userID model.ID) ([]model.AccountMember, error) {
	return s.st.UserAccounts(ctx, userID)
}

// Account returns one account.
func (s *Service) Account(ctx context.Context, id model.ID) (model.Account, error) {
	a, err := s.st.AccountGet(ctx, id)
	return a, publicStoreError(err, "account")
}

// UpdateAccount changes an account's name and handle.
func (s *Service) UpdateAccount(ctx context.Context, a model.Account) (model.Account, error) {
	if err := checkName("name", a.Name); err != nil {
		return a, err
	}
	if err := checkHandle("handle", a.Handle); err != nil {
		return a, err
	}
	if err := s.st.AccountUpdate(ctx, a); err != nil {
		return a, publicStoreError(err, fmt.Sprintf("account %q", a.Handle))
	}
	return s.Account(ctx, a.ID)
}

// CreateAccount creates another account owned by userID.
func (s *Service) CreateAccount(ctx context.Context, userID model.ID, name, handle string) (model.Account, error) {
	if name == "" {
		name = handle
	}
	if err := checkHandle("handle", handle); err != nil {
		return model.Account{}, err
	}
	if err := checkName("name", name); err != nil {
		return model.Account{}, err
	}
	a := model.Account{ID: model.NewID(), Name: name, Handle: handle, Created: model.NewTime(s.now())}
	if err := s.st.AccountCreate(ctx, a); err != nil {
		return a, publicStoreError(err, fmt.Sprintf("account %q", handle))
	}
	if err := s.st.MemberSet(ctx, a.ID, userID, model.RoleOwner); err != nil {
		return a, err
	}
	s.invalidate()
	return a, nil
}

// UserWorkspaces lists every workspace a principal reaches (the default
// workspace alone for a server-mode principal).
func (s *Service) UserWorkspaces(ctx context.Context, p Principal) ([]model.WorkspaceAccess, error) {
	if p.Server {
		w, err := s.st.WorkspaceDefault(ctx)
		if err != nil {
			return nil, err
		}
		d, err := s.st.WorkspaceDetailsGet(ctx, w.AccountID, w.ID)
		if err != nil {
			return nil, err
		}
		a, err := s.st.AccountGet(ctx, w.AccountID)
		if err != nil {
			return nil, err
		}
		return []model.WorkspaceAccess{{Account: a, Workspace: d, Role: model.RoleOwner}}, nil
	}
	return s.st.UserWorkspaces(ctx, p.User.ID)
}

// WorkspaceInput is the body of workspace create and update.
type WorkspaceInput struct {
	Name        string  `json:"name"`
	Handle      string  `json:"handle"`
	Description *string `json:"description"`
}

// CreateWorkspace adds a workspace to an account.
func (s *Service) CreateWorkspace(ctx context.Context, accountID model.ID, in WorkspaceInput) (model.WorkspaceDetails, error) {
	if in.Handle == "" {
		in.Handle = handleFrom(in.Name)
	}
	if in.Name == "" {
		in.Name = in.Handle
	}
	if err := checkHandle("handle", in.Handle); err != nil {
		return model.WorkspaceDetails{}, err
	}
	if err := checkName("name", in.Name); err != nil {
		return model.WorkspaceDetails{}, err
	}
	w := model.WorkspaceDetails{ID: model.NewID(), AccountID: accountID, Name: in.Name, Handle: in.Handle, Created: model.NewTime(s.now())}
	if in.Description != nil {
		w.Description = *in.Description
	}
	if err := s.st.WorkspaceInsert(ctx, w); err != nil {
		return w, publicStoreError(err, fmt.Sprintf("workspace %q", in.Handle))
	}
	s.invalidate()
	return w, s.workspaceCreated(ctx, w.ID)
}

// UpdateWorkspace changes the fields of in that are set.
func (s *Service) UpdateWorkspace(ctx context.Context, accountID, workspaceID model.ID, in WorkspaceInput) (model.WorkspaceDetails, error) {
	w, err := s.st.WorkspaceDetailsGet(ctx, accountID, workspaceID)
	if err != nil {
		return w, publicStoreError(err, "workspace")
	}
	if in.Name != "" {
		if err := checkName("name", in.Name); err != nil {
			return w, err
		}
		w.Name = in.Name
	}
	if in.Handle != "" {
		if err := checkHandle("handle", in.Handle); err != nil {
			return w, err
		}
		w.Handle = in.Handle
	}
	if in.Description != nil {
		w.Description = *in.Description
	}
	if err := s.st.WorkspaceUpdate(ctx, w); err != nil {
		return w, publicStoreError(err, fmt.Sprintf("workspace %q", w.Handle))
	}
	return w, nil
}

// DeleteWorkspace removes a workspace and everything in it.
func (s *Service) DeleteWorkspace(ctx context.Context, accountID, workspaceID model.ID) error {
	if err := s.st.WorkspaceDelete(ctx, accountID, workspaceID); err != nil {
		return publicStoreError(err, "workspace")
	}
	s.invalidate()
	return nil
}

// Workspace returns one workspace of an account.
func (s *Service) Workspace(ctx context.Context, accountID, workspaceID model.ID) (model.WorkspaceDetails, error) {
	w, err := s.st.WorkspaceDetailsGet(ctx, accountID, workspaceID)
	return w, publicStoreError(err, "workspace")
}

// Workspaces lists an account's workspaces.
func (s *Service) Workspaces(ctx context.Context, accountID model.ID) ([]model.WorkspaceDetails, error) {
	return s.st.WorkspaceDetailsList(ctx, accountID)
}
