package store

import (
	"context"

	"github.com/batonhq/baton/internal/model"
)

// UserCreate is the input of TenancyUserCreate. PasswordHash is the encoded
// KDF output (never the password); empty for service accounts.
type UserCreate struct {
	User         model.User
	PasswordHash string
}

// APIKeyCreate is the input of APIKeyCreate: the key's description and the
// SHA-256 of its secret.
type APIKeyCreate struct {
	Key  model.APIKey
	Hash []byte
}

// Tenancy manages cloud mode's accounts, users, memberships, workspaces,
// API keys and browser sessions. Secrets are never stored: keys and session
// tokens as hashes, passwords as KDF outputs.
//
// Not-found lookups wrap ErrNotFound; duplicate handles, e-mails and
// memberships wrap ErrConflict.
type Tenancy interface {
	// AccountCreate adds an account.
	AccountCreate(ctx context.Context, a model.Account) error
	// AccountGet returns an account by id.
	AccountGet(ctx context.Context, id model.ID) (model.Account, error)
	// AccountByHandle returns an account by its handle.
	AccountByHandle(ctx context.Context, handle string) (model.Account, error)
	// AccountUpdate renames an account or changes its handle.
	AccountUpdate(ctx context.Context, a model.Account) error

	// UserCreate adds a user or a service account.
	UserCreate(ctx context.Context, u UserCreate) error
	// UserGet returns a user by id.
	UserGet(ctx context.Context, id model.ID) (model.User, error)
	// UserByEmail returns a (non-bot) user and their password hash; the
	// e-mail is matched case-insensitively.
	UserByEmail(ctx context.Context, email string) (model.User, string, error)
	// UserDelete removes a user with their keys, sessions and memberships.
	UserDelete(ctx context.Context, id model.ID) error

	// MemberSet makes a user a member of an account with a role (insert or
	// change the role).
	MemberSet(ctx context.Context, accountID, userID model.ID, role model.Role) error
	// MemberRemove removes a user from an account and its workspaces.
	MemberRemove(ctx context.Context, accountID, userID model.ID) error
	// MemberList returns an account's members, oldest first.
	MemberList(ctx context.Context, accountID model.ID) ([]model.AccountMember, error)
	// MemberGet returns one membership.
	MemberGet(ctx context.Context, accountID, userID model.ID) (model.AccountMember, error)
	// UserAccounts returns the accounts a user belongs to, with their roles.
	UserAccounts(ctx context.Context, userID model.ID) ([]model.AccountMember, error)
	// WorkspaceRoleSet gives a user a role on one workspace (in addition to
	// any account role); an empty role removes it.
	WorkspaceRoleSet(ctx context.Context, workspaceID, userID model.ID, role model.Role) error

	// WorkspaceInsert adds a workspace with its description.
	WorkspaceInsert(ctx context.Context, w model.WorkspaceDetails) error
	// WorkspaceDetailsGet returns a workspace of an account.
	WorkspaceDetailsGet(ctx context.Context, accountID, workspaceID model.ID) (model.WorkspaceDetails, error)
	// WorkspaceDetailsList returns an account's workspaces by name.
	WorkspaceDetailsList(ctx context.Context, accountID model.ID) ([]model.WorkspaceDetails, error)
	// WorkspaceUpdate changes a workspace's name, handle and description.
	WorkspaceUpdate(ctx context.Context, w model.WorkspaceDetails) error
	// WorkspaceDelete removes a workspace and everything in it.
	WorkspaceDelete(ctx context.Context, accountID, workspaceID model.ID) error
	// UserWorkspaces returns every workspace a user reaches, with the
	// effective role (the stronger of account and workspace role).
	UserWorkspaces(ctx context.Context, userID model.ID) ([]model.WorkspaceAccess, error)
	// UserWorkspaceRole returns a user's effective role on a workspace, or
	// ErrNotFound when the user has none.
	UserWorkspaceRole(ctx context.Context, userID, workspaceID model.ID) (model.Role, error)

	// APIKeyCreate stores a new key's hash and description.
	APIKeyCreate(ctx context.Context, k APIKeyCreate) error
	// APIKeyByHash finds the key whose secret hashes to hash.
	APIKeyByHash(ctx context.Context, hash []byte) (model.APIKey, error)
	// APIKeyList returns a user's keys, newest first.
	APIKeyList(ctx context.Context, userID model.ID) ([]model.APIKey, error)
	// APIKeyGet returns one of a user's keys.
	APIKeyGet(ctx context.Context, userID, keyID model.ID) (model.APIKey, error)
	// APIKeyDelete revokes one of a user's keys.
	APIKeyDelete(ctx context.Context, userID, keyID model.ID) error
	// APIKeyRotate replaces a key's secret (hash and prefix) keeping its id,
	// name and expiry, so the old secret stops working at once.
	APIKeyRotate(ctx context.Context, userID, keyID model.ID, prefix string, hash []byte) error
	// APIKeyTouch records that a key was used at t.
	APIKeyTouch(ctx context.Context, keyID model.ID, t model.Time) error

	// SessionCreate stores a browser session under the hash of its token.
	SessionCreate(ctx context.Context, hash []byte, s model.Session) error
	// SessionGet returns the session whose token hashes to hash.
	SessionGet(ctx context.Context, hash []byte) (model.Session, error)
	// SessionDelete ends a session.
	SessionDelete(ctx context.Context, hash []byte) error
	// SessionList returns a user's sessions, newest first.
	SessionList(ctx context.Context, userID model.ID) ([]model.Session, error)
	// SessionDeleteByID ends one of a user's sessions by its id.
	SessionDeleteByID(ctx context.Context, userID, sessionID model.ID) error
	// SessionDeleteUser ends every session of a user but keep (a hash; nil:
	// every one).
	SessionDeleteUser(ctx context.Context, userID model.ID, keep []byte) error

	// UserPasswordSet replaces a user's password hash.
	UserPasswordSet(ctx context.Context, userID model.ID, hash string) error
	// PasswordResetCreate stores a reset token's hash for a user.
	PasswordResetCreate(ctx context.Context, hash []byte, userID model.ID, created, expires model.Time) error
	// PasswordResetConsume marks a reset token used and returns its user
	// and expiry: ErrNotFound for an unknown token, ErrConflict for one
	// already used.
	PasswordResetConsume(ctx context.Context, hash []byte, at model.Time) (model.ID, model.Time, error)

	// TOTPGet returns a user's sealed TOTP secret and whether two-factor
	// sign-in is on.
	TOTPGet(ctx context.Context, userID model.ID) (sealed []byte, enabled bool, err error)
	// TOTPReseal passes every stored TOTP secret through reseal (key
	// rotation) and stores the result, in one transaction; it answers how
	// many were resealed.
	TOTPReseal(ctx context.Context, reseal func(userID model.ID, sealed []byte) ([]byte, error)) (int, error)
	// TOTPUseStep records that a user's TOTP code of this time step was
	// accepted; store.ErrConflict when a code of this step or a later one
	// was accepted before (a replayed code).
	TOTPUseStep(ctx context.Context, userID model.ID, step int64) error
	// TOTPSet stores a sealed secret (enabled false while enrolling, true
	// once confirmed, with the recovery codes' hashes); a nil secret turns
	// two-factor sign-in off and drops the codes.
	TOTPSet(ctx context.Context, userID model.ID, sealed []byte, enabled bool, recovery [][]byte) error
	// RecoveryCodeUse deletes one of a user's recovery codes by hash
	// (ErrNotFound when it is not one).
	RecoveryCodeUse(ctx context.Context, userID model.ID, hash []byte) error

	// TeamCreate adds a team (a taken name in the account is ErrConflict).
	TeamCreate(ctx context.Context, t model.Team) error
	// TeamGet returns a team of an account with its members and grants.
	TeamGet(ctx context.Context, accountID, teamID model.ID) (model.Team, error)
	// TeamList returns an account's teams by name, with members and grants.
	TeamList(ctx context.Context, accountID model.ID) ([]model.Team, error)
	// TeamUpdate renames a team or changes its description.
	TeamUpdate(ctx context.Context, t model.Team) error
	// TeamDelete removes a team (its members lose what it granted).
	TeamDelete(ctx context.Context, accountID, teamID model.ID) error
	// TeamMemberAdd puts a user in a team (again is no error).
	TeamMemberAdd(ctx context.Context, teamID, userID model.ID) error
	// TeamMemberRemove takes a user out of a team.
	TeamMemberRemove(ctx context.Context, teamID, userID model.ID) error
	// TeamWorkspaceRoleSet gives a team a role on a workspace; an empty
	// role removes it.
	TeamWorkspaceRoleSet(ctx context.Context, teamID, workspaceID model.ID, role model.Role) error

	// InvitationCreate stores an invitation and its token's hash.
	InvitationCreate(ctx context.Context, inv model.Invitation, hash []byte) error
	// InvitationList returns an account's open invitations (neither
	// accepted nor revoked), newest first.
	InvitationList(ctx context.Context, accountID model.ID) ([]model.Invitation, error)
	// InvitationByHash returns the invitation whose token hashes to hash.
	InvitationByHash(ctx context.Context, hash []byte) (model.Invitation, error)
	// InvitationRevoke withdraws an open invitation (ErrNotFound when the
	// account has no such open invitation).
	InvitationRevoke(ctx context.Context, accountID, id model.ID, at model.Time) error
	// InvitationAccept, in one write, marks an open invitation accepted by
	// userID, makes the user a member of its account with its role (a
	// stronger existing role is kept) and of its team. An invitation that
	// is no longer open is ErrConflict.
	InvitationAccept(ctx context.Context, id, userID model.ID, at model.Time) error
}

// AuditFilter selects audit entries of one account. Zero fields match
// everything.
type AuditFilter struct {
	AccountID model.ID
	// Actions are exact action names; ActionPrefix matches "deployment."
	// and the like.
	Actions      []string
	ActionPrefix string
	ActorID      *model.ID
	TargetID     string
	WorkspaceID  *model.ID
	Outcome      string
	// Since and Until bound Occurred (inclusive, exclusive).
	Since, Until *model.Time
	// Limit (default 200) and Offset page the result, newest first.
	Limit, Offset int
}

// Audit is the append-only audit log. There is no update and no delete
// but AuditPurge, which retention calls.
type Audit interface {
	// AuditAppend adds entries.
	AuditAppend(ctx context.Context, es ...model.AuditEvent) error
	// AuditList returns an account's entries matching f, newest first.
	AuditList(ctx context.Context, f AuditFilter) ([]model.AuditEvent, error)
	// AuditPurge deletes up to limit entries (of every account) that
	// occurred before before; more reports that older ones may be left.
	AuditPurge(ctx context.Context, before model.Time, limit int) (n int, more bool, err error)
}
