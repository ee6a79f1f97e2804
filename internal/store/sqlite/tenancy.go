package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// This file implements store.Tenancy (migration 0003).

var _ store.Tenancy = (*Store)(nil)

// conflictOr maps a UNIQUE violation to store.ErrConflict naming what.
func conflictOr(err error, what string) error {
	if isUnique(err) {
		return fmt.Errorf("%s: %w", what, store.ErrConflict)
	}
	return err
}

// mustAffect turns "no row changed" into ErrNotFound.
func mustAffect(res sql.Result, err error, what string, key any) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(what, key)
	}
	return nil
}

// AccountCreate adds an account; a taken handle is ErrConflict.
func (s *Store) AccountCreate(ctx context.Context, a model.Account) error {
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO accounts (id, name, handle, created) VALUES (?, ?, ?, ?)`,
			idv(a.ID), a.Name, a.Handle, a.Created.Micros())
		return conflictOr(err, fmt.Sprintf("account handle %q", a.Handle))
	})
	if err != nil {
		return fmt.Errorf("sqlite: create account: %w", err)
	}
	return nil
}

// AccountGet returns an account by id.
func (s *Store) AccountGet(ctx context.Context, id model.ID) (model.Account, error) {
	var a model.Account
	var created int64
	err := s.queryRow(ctx, `SELECT name, handle, created FROM accounts WHERE id = ?`, idv(id)).Scan(&a.Name, &a.Handle, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return a, notFound("account", id)
	}
	if err != nil {
		return a, fmt.Errorf("sqlite: get account: %w", err)
	}
	a.ID, a.Created = id, model.TimeFromMicros(created)
	return a, nil
}

// AccountByHandle returns an account by its handle.
func (s *Store) AccountByHandle(ctx context.Context, handle string) (model.Account, error) {
	var a model.Account
	var id []byte
	var created int64
	err := s.queryRow(ctx, `SELECT id, name, handle, created FROM accounts WHERE handle = ?`, handle).Scan(&id, &a.Name, &a.Handle, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return a, notFound("account", handle)
	}
	if err != nil {
		return a, fmt.Errorf("sqlite: account by handle: %w", err)
	}
	a.Created = model.TimeFromMicros(created)
	a.ID, err = scanID(id)
	return a, err
}

// AccountUpdate changes an account's name and handle.
func (s *Store) AccountUpdate(ctx context.Context, a model.Account) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`UPDATE accounts SET name = ?, handle = ? WHERE id = ?`, a.Name, a.Handle, idv(a.ID))
		return mustAffect(res, conflictOr(err, fmt.Sprintf("account handle %q", a.Handle)), "account", a.ID)
	})
	if err != nil {
		return fmt.Errorf("sqlite: update account: %w", err)
	}
	return nil
}

// UserCreate adds a user; a taken e-mail is ErrConflict.
func (s *Store) UserCreate(ctx context.Context, u store.UserCreate) error {
	var email any
	if u.User.Email != "" {
		email = u.User.Email
	}
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO users (id, email, name, password_hash, is_bot, bot_account_id, created) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			idv(u.User.ID), email, u.User.Name, u.PasswordHash, u.User.IsBot, optID(u.User.BotAccountID), u.User.Created.Micros())
		return conflictOr(err, fmt.Sprintf("user %q", u.User.Email))
	})
	if err != nil {
		return fmt.Errorf("sqlite: create user: %w", err)
	}
	return nil
}

const userCols = `id, COALESCE(email, ''), name, is_bot, bot_account_id, created`

func scanUser(row interface{ Scan(...any) error }, extra ...any) (model.User, error) {
	var u model.User
	var id, bot []byte
	var created int64
	dest := append([]any{&id, &u.Email, &u.Name, &u.IsBot, &bot, &created}, extra...)
	if err := row.Scan(dest...); err != nil {
		return u, err
	}
	var err error
	if u.ID, err = scanID(id); err != nil {
		return u, err
	}
	if bot != nil {
		b, err := scanID(bot)
		if err != nil {
			return u, err
		}
		u.BotAccountID = &b
	}
	u.Created = model.TimeFromMicros(created)
	return u, nil
}

// UserGet returns a user by id.
func (s *Store) UserGet(ctx context.Context, id model.ID) (model.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, idv(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return u, notFound("user", id)
	}
	if err != nil {
		return u, fmt.Errorf("sqlite: get user: %w", err)
	}
	return u, nil
}

// UserByEmail returns a person and their password hash.
func (s *Store) UserByEmail(ctx context.Context, email string) (model.User, string, error) {
	var hash string
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userCols+`, password_hash FROM users WHERE email = ? AND is_bot = 0`, email), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return u, "", notFound("user", email)
	}
	if err != nil {
		return u, "", fmt.Errorf("sqlite: user by email: %w", err)
	}
	return u, hash, nil
}

// UserDelete removes a user; keys, sessions and memberships cascade.
func (s *Store) UserDelete(ctx context.Context, id model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM users WHERE id = ?`, idv(id))
		return mustAffect(res, err, "user", id)
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete user: %w", err)
	}
	return nil
}

// MemberSet inserts or updates an account membership.
func (s *Store) MemberSet(ctx context.Context, accountID, userID model.ID, role model.Role) error {
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO account_members (account_id, user_id, role, created) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, user_id) DO UPDATE SET role = excluded.role`,
			idv(accountID), idv(userID), string(role), s.now().Micros())
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set member: %w", err)
	}
	return nil
}

// MemberRemove removes an account membership and the user's roles on the
// account's workspaces.
func (s *Store) MemberRemove(ctx context.Context, accountID, userID model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM account_members WHERE account_id = ? AND user_id = ?`, idv(accountID), idv(userID))
		if err := mustAffect(res, err, "member", userID); err != nil {
			return err
		}
		if _, err = tx.exec(`DELETE FROM workspace_members WHERE user_id = ? AND workspace_id IN (SELECT id FROM workspaces WHERE account_id = ?)`,
			idv(userID), idv(accountID)); err != nil {
			return err
		}
		_, err = tx.exec(`DELETE FROM team_members WHERE user_id = ? AND team_id IN (SELECT id FROM teams WHERE account_id = ?)`,
			idv(userID), idv(accountID))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: remove member: %w", err)
	}
	return nil
}

const memberSelect = `SELECT m.account_id, m.user_id, m.role, COALESCE(u.email, ''), u.name, u.is_bot, m.created
	FROM account_members m JOIN users u ON u.id = m.user_id`

func (s *Store) members(ctx context.Context, q string, args ...any) ([]model.AccountMember, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: members: %w", err)
	}
	defer rows.Close()
	out := []model.AccountMember{}
	for rows.Next() {
		var m model.AccountMember
		var acc, uid []byte
		var created int64
		if err := rows.Scan(&acc, &uid, &m.Role, &m.Email, &m.Name, &m.IsBot, &created); err != nil {
			return nil, fmt.Errorf("sqlite: members: %w", err)
		}
		if m.AccountID, err = scanID(acc); err != nil {
			return nil, err
		}
		if m.UserID, err = scanID(uid); err != nil {
			return nil, err
		}
		m.Created = model.TimeFromMicros(created)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: members: %w", err)
	}
	return out, nil
}

// MemberList returns an account's members, oldest first.
func (s *Store) MemberList(ctx context.Context, accountID model.ID) ([]model.AccountMember, error) {
	return s.members(ctx, memberSelect+` WHERE m.account_id = ? ORDER BY m.created, u.name`, idv(accountID))
}

// MemberGet returns one membership.
func (s *Store) MemberGet(ctx context.Context, accountID, userID model.ID) (model.AccountMember, error) {
	ms, err := s.members(ctx, memberSelect+` WHERE m.account_id = ? AND m.user_id = ?`, idv(accountID), idv(userID))
	if err != nil {
		return model.AccountMember{}, err
	}
	if len(ms) == 0 {
		return model.AccountMember{}, notFound("member", userID)
	}
	return ms[0], nil
}

// UserAccounts returns a user's account memberships.
func (s *Store) UserAccounts(ctx context.Context, userID model.ID) ([]model.AccountMember, error) {
	return s.members(ctx, memberSelect+` WHERE m.user_id = ? ORDER BY m.created`, idv(userID))
}

// WorkspaceRoleSet sets (or with an empty role removes) a workspace role.
func (s *Store) WorkspaceRoleSet(ctx context.Context, workspaceID, userID model.ID, role model.Role) error {
	err := s.write(ctx, func(tx *wtx) error {
		if role == "" {
			_, err := tx.exec(`DELETE FROM workspace_members WHERE workspace_id = ? AND user_id = ?`, idv(workspaceID), idv(userID))
			return err
		}
		_, err := tx.exec(`INSERT INTO workspace_members (workspace_id, user_id, role, created) VALUES (?, ?, ?, ?)
			ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role`,
			idv(workspaceID), idv(userID), string(role), s.now().Micros())
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set workspace role: %w", err)
	}
	return nil
}

// WorkspaceInsert adds a workspace; a handle taken in the account is
// ErrConflict.
func (s *Store) WorkspaceInsert(ctx context.Context, w model.WorkspaceDetails) error {
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO workspaces (id, account_id, name, handle, description, created) VALUES (?, ?, ?, ?, ?, ?)`,
			idv(w.ID), idv(w.AccountID), w.Name, w.Handle, w.Description, w.Created.Micros())
		return conflictOr(err, fmt.Sprintf("workspace handle %q", w.Handle))
	})
	if err != nil {
		return fmt.Errorf("sqlite: insert workspace: %w", err)
	}
	return nil
}

const wsCols = `w.id, w.account_id, w.name, w.handle, w.description, w.is_default, w.created`

func scanWorkspace(row interface{ Scan(...any) error }, extra ...any) (model.WorkspaceDetails, error) {
	var w model.WorkspaceDetails
	var id, acc []byte
	var created int64
	if err := row.Scan(append([]any{&id, &acc, &w.Name, &w.Handle, &w.Description, &w.IsDefault, &created}, extra...)...); err != nil {
		return w, err
	}
	var err error
	if w.ID, err = scanID(id); err != nil {
		return w, err
	}
	if w.AccountID, err = scanID(acc); err != nil {
		return w, err
	}
	w.Created = model.TimeFromMicros(created)
	return w, nil
}

// WorkspaceDetailsGet returns a workspace of an account.
func (s *Store) WorkspaceDetailsGet(ctx context.Context, accountID, workspaceID model.ID) (model.WorkspaceDetails, error) {
	w, err := scanWorkspace(s.queryRow(ctx, `SELECT `+wsCols+` FROM workspaces w WHERE w.id = ? AND w.account_id = ?`, idv(workspaceID), idv(accountID)))
	if errors.Is(err, sql.ErrNoRows) {
		return w, notFound("workspace", workspaceID)
	}
	if err != nil {
		return w, fmt.Errorf("sqlite: get workspace: %w", err)
	}
	return w, nil
}

// WorkspaceDetailsList returns an account's workspaces by name.
func (s *Store) WorkspaceDetailsList(ctx context.Context, accountID model.ID) ([]model.WorkspaceDetails, error) {
	rows, err := s.query(ctx, `SELECT `+wsCols+` FROM workspaces w WHERE w.account_id = ? ORDER BY w.name, w.handle`, idv(accountID))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list workspaces: %w", err)
	}
	defer rows.Close()
	out := []model.WorkspaceDetails{}
	for rows.Next() {
		w, err := scanWorkspace(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list workspaces: %w", err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list workspaces: %w", err)
	}
	return out, nil
}

// WorkspaceUpdate changes a workspace's name, handle and description.
func (s *Store) WorkspaceUpdate(ctx context.Context, w model.WorkspaceDetails) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`UPDATE workspaces SET name = ?, handle = ?, description = ? WHERE id = ? AND account_id = ?`,
			w.Name, w.Handle, w.Description, idv(w.ID), idv(w.AccountID))
		return mustAffect(res, conflictOr(err, fmt.Sprintf("workspace handle %q", w.Handle)), "workspace", w.ID)
	})
	if err != nil {
		return fmt.Errorf("sqlite: update workspace: %w", err)
	}
	return nil
}

// WorkspaceDelete removes a workspace; its rows cascade. The default
// workspace cannot be deleted (server mode serves it).
func (s *Store) WorkspaceDelete(ctx context.Context, accountID, workspaceID model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM workspaces WHERE id = ? AND account_id = ? AND is_default = 0`, idv(workspaceID), idv(accountID))
		return mustAffect(res, err, "workspace", workspaceID)
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete workspace: %w", err)
	}
	return nil
}

// accessSelect lists (workspace, account, account role, workspace role) for
// a user: every workspace of the accounts they belong to, plus workspaces
// where they only hold a workspace role.
const accessSelect = `SELECT ` + wsCols + `, a.name, a.handle, a.created, COALESCE(am.role, ''), COALESCE(wm.role, ''),
	COALESCE((SELECT tw.role FROM team_workspaces tw JOIN team_members tm ON tm.team_id = tw.team_id
		WHERE tw.workspace_id = w.id AND tm.user_id = ?1
		ORDER BY CASE tw.role WHEN 'owner' THEN 4 WHEN 'admin' THEN 3 WHEN 'developer' THEN 2 WHEN 'viewer' THEN 1 ELSE 0 END DESC LIMIT 1), '')
	FROM workspaces w
	JOIN accounts a ON a.id = w.account_id
	LEFT JOIN account_members am ON am.account_id = w.account_id AND am.user_id = ?1
	LEFT JOIN workspace_members wm ON wm.workspace_id = w.id AND wm.user_id = ?1
	WHERE (am.user_id IS NOT NULL OR wm.user_id IS NOT NULL OR EXISTS (SELECT 1 FROM team_workspaces tw
		JOIN team_members tm ON tm.team_id = tw.team_id WHERE tw.workspace_id = w.id AND tm.user_id = ?1))`

// strongest returns the higher-ranked of two roles.
func strongest(a, b model.Role) model.Role {
	if b.Rank() > a.Rank() {
		return b
	}
	return a
}

func (s *Store) access(ctx context.Context, q string, args ...any) ([]model.WorkspaceAccess, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: user workspaces: %w", err)
	}
	defer rows.Close()
	out := []model.WorkspaceAccess{}
	for rows.Next() {
		var a model.WorkspaceAccess
		var created int64
		var accRole, wsRole, teamRole string
		w, err := scanWorkspace(rows, &a.Account.Name, &a.Account.Handle, &created, &accRole, &wsRole, &teamRole)
		if err != nil {
			return nil, fmt.Errorf("sqlite: user workspaces: %w", err)
		}
		a.Workspace = w
		a.Account.ID = w.AccountID
		a.Account.Created = model.TimeFromMicros(created)
		a.Role = strongest(strongest(model.Role(accRole), model.Role(wsRole)), model.Role(teamRole))
		if a.Role.Valid() {
			out = append(out, a)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: user workspaces: %w", err)
	}
	return out, nil
}

// UserWorkspaces returns every workspace the user reaches.
func (s *Store) UserWorkspaces(ctx context.Context, userID model.ID) ([]model.WorkspaceAccess, error) {
	return s.access(ctx, accessSelect+` ORDER BY a.handle, w.handle`, idv(userID))
}

// UserWorkspaceRole returns the user's effective role on one workspace.
func (s *Store) UserWorkspaceRole(ctx context.Context, userID, workspaceID model.ID) (model.Role, error) {
	as, err := s.access(ctx, accessSelect+` AND w.id = ?2`, idv(userID), idv(workspaceID))
	if err != nil {
		return "", err
	}
	if len(as) == 0 {
		return "", notFound("workspace", workspaceID)
	}
	return as[0].Role, nil
}

// APIKeyCreate stores a key's hash and description.
func (s *Store) APIKeyCreate(ctx context.Context, k store.APIKeyCreate) error {
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO api_keys (id, user_id, name, prefix, hash, created, expires) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			idv(k.Key.ID), idv(k.Key.UserID), k.Key.Name, k.Key.Prefix, k.Hash, k.Key.Created.Micros(), optTime(k.Key.Expires))
		return conflictOr(err, "api key")
	})
	if err != nil {
		return fmt.Errorf("sqlite: create api key: %w", err)
	}
	return nil
}

const keyCols = `id, user_id, name, prefix, created, expires, last_used`

func scanKey(row interface{ Scan(...any) error }) (model.APIKey, error) {
	var k model.APIKey
	var id, uid []byte
	var created int64
	var expires, used sql.NullInt64
	if err := row.Scan(&id, &uid, &k.Name, &k.Prefix, &created, &expires, &used); err != nil {
		return k, err
	}
	var err error
	if k.ID, err = scanID(id); err != nil {
		return k, err
	}
	if k.UserID, err = scanID(uid); err != nil {
		return k, err
	}
	k.Created = model.TimeFromMicros(created)
	if expires.Valid {
		t := model.TimeFromMicros(expires.Int64)
		k.Expires = &t
	}
	if used.Valid {
		t := model.TimeFromMicros(used.Int64)
		k.LastUsed = &t
	}
	return k, nil
}

// APIKeyByHash finds a key by the hash of its secret.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (model.APIKey, error) {
	k, err := scanKey(s.queryRow(ctx, `SELECT `+keyCols+` FROM api_keys WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return k, notFound("api key", "(hash)")
	}
	if err != nil {
		return k, fmt.Errorf("sqlite: api key by hash: %w", err)
	}
	return k, nil
}

// APIKeyList returns a user's keys, newest first.
func (s *Store) APIKeyList(ctx context.Context, userID model.ID) ([]model.APIKey, error) {
	rows, err := s.query(ctx, `SELECT `+keyCols+` FROM api_keys WHERE user_id = ? ORDER BY created DESC, name`, idv(userID))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list api keys: %w", err)
	}
	defer rows.Close()
	out := []model.APIKey{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list api keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list api keys: %w", err)
	}
	return out, nil
}

// APIKeyGet returns one of a user's keys.
func (s *Store) APIKeyGet(ctx context.Context, userID, keyID model.ID) (model.APIKey, error) {
	k, err := scanKey(s.queryRow(ctx, `SELECT `+keyCols+` FROM api_keys WHERE id = ? AND user_id = ?`, idv(keyID), idv(userID)))
	if errors.Is(err, sql.ErrNoRows) {
		return k, notFound("api key", keyID)
	}
	if err != nil {
		return k, fmt.Errorf("sqlite: get api key: %w", err)
	}
	return k, nil
}

// APIKeyDelete revokes a key.
func (s *Store) APIKeyDelete(ctx context.Context, userID, keyID model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM api_keys WHERE id = ? AND user_id = ?`, idv(keyID), idv(userID))
		return mustAffect(res, err, "api key", keyID)
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete api key: %w", err)
	}
	return nil
}

// APIKeyRotate replaces a key's secret.
func (s *Store) APIKeyRotate(ctx context.Context, userID, keyID model.ID, prefix string, hash []byte) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`UPDATE api_keys SET prefix = ?, hash = ?, last_used = NULL WHERE id = ? AND user_id = ?`,
			prefix, hash, idv(keyID), idv(userID))
		return mustAffect(res, err, "api key", keyID)
	})
	if err != nil {
		return fmt.Errorf("sqlite: rotate api key: %w", err)
	}
	return nil
}

// APIKeyTouch records a key's last use.
func (s *Store) APIKeyTouch(ctx context.Context, keyID model.ID, t model.Time) error {
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`UPDATE api_keys SET last_used = ? WHERE id = ?`, t.Micros(), idv(keyID))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: touch api key: %w", err)
	}
	return nil
}

// SessionCreate stores a session under its token's hash.
func (s *Store) SessionCreate(ctx context.Context, hash []byte, se model.Session) error {
	err := s.write(ctx, func(tx *wtx) error {
		if se.ID == model.Nil {
			se.ID = model.NewID()
		}
		_, err := tx.exec(`INSERT INTO sessions (hash, user_id, created, expires, id, source_addr, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			hash, idv(se.UserID), se.Created.Micros(), se.Expires.Micros(), idv(se.ID), se.SourceAddr, se.UserAgent)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create session: %w", err)
	}
	return nil
}

// SessionGet returns a session by its token's hash.
func (s *Store) SessionGet(ctx context.Context, hash []byte) (model.Session, error) {
	var se model.Session
	var uid, sid []byte
	var created, expires int64
	err := s.queryRow(ctx, `SELECT user_id, created, expires, id, source_addr, user_agent FROM sessions WHERE hash = ?`, hash).Scan(&uid, &created, &expires, &sid, &se.SourceAddr, &se.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		return se, notFound("session", "(hash)")
	}
	if err != nil {
		return se, fmt.Errorf("sqlite: get session: %w", err)
	}
	if se.UserID, err = scanID(uid); err != nil {
		return se, err
	}
	if sid != nil {
		if se.ID, err = scanID(sid); err != nil {
			return se, err
		}
	}
	se.Created, se.Expires = model.TimeFromMicros(created), model.TimeFromMicros(expires)
	return se, nil
}

// SessionDelete ends a session (a missing one is not an error: signing out
// twice is fine).
func (s *Store) SessionDelete(ctx context.Context, hash []byte) error {
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`DELETE FROM sessions WHERE hash = ?`, hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete session: %w", err)
	}
	return nil
}
