package postgres

import (
	"context"
	"fmt"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// This file implements the parts of store.Tenancy added by migration 0007:
// sessions by id, password resets, TOTP, teams and invitations.

// SessionList returns a user's sessions, newest first.
func (s *Store) SessionList(ctx context.Context, userID model.ID) ([]model.Session, error) {
	rows, err := s.query(ctx, `SELECT id, created, expires, source_addr, user_agent FROM sessions WHERE user_id = ? AND id IS NOT NULL ORDER BY created DESC`, idv(userID))
	if err != nil {
		return nil, fmt.Errorf("postgres: list sessions: %w", err)
	}
	defer rows.Close()
	out := []model.Session{}
	for rows.Next() {
		se := model.Session{UserID: userID}
		var id []byte
		var created, expires int64
		if err := rows.Scan(&id, &created, &expires, &se.SourceAddr, &se.UserAgent); err != nil {
			return nil, fmt.Errorf("postgres: list sessions: %w", err)
		}
		if se.ID, err = scanID(id); err != nil {
			return nil, err
		}
		se.Created, se.Expires = model.TimeFromMicros(created), model.TimeFromMicros(expires)
		out = append(out, se)
	}
	return out, rows.Err()
}

// SessionDeleteByID ends one of a user's sessions.
func (s *Store) SessionDeleteByID(ctx context.Context, userID, sessionID model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM sessions WHERE user_id = ? AND id = ?`, idv(userID), idv(sessionID))
		return mustAffect(res, err, "session", sessionID)
	})
	if err != nil {
		return fmt.Errorf("postgres: delete session: %w", err)
	}
	return nil
}

// SessionDeleteUser ends a user's sessions but keep.
func (s *Store) SessionDeleteUser(ctx context.Context, userID model.ID, keep []byte) error {
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`DELETE FROM sessions WHERE user_id = ? AND hash <> ?`, idv(userID), append([]byte{}, keep...))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete sessions: %w", err)
	}
	return nil
}

// UserPasswordSet replaces a user's password hash.
func (s *Store) UserPasswordSet(ctx context.Context, userID model.ID, hash string) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`UPDATE users SET password_hash = ? WHERE id = ?`, hash, idv(userID))
		return mustAffect(res, err, "user", userID)
	})
	if err != nil {
		return fmt.Errorf("postgres: set password: %w", err)
	}
	return nil
}

// PasswordResetCreate stores a reset token's hash.
func (s *Store) PasswordResetCreate(ctx context.Context, hash []byte, userID model.ID, created, expires model.Time) error {
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO password_resets (hash, user_id, created, expires) VALUES (?, ?, ?, ?)`,
			hash, idv(userID), created.Micros(), expires.Micros())
		return conflictOr(err, "password reset")
	})
	if err != nil {
		return fmt.Errorf("postgres: create password reset: %w", err)
	}
	return nil
}

// PasswordResetConsume marks a token used, once.
func (s *Store) PasswordResetConsume(ctx context.Context, hash []byte, at model.Time) (model.ID, model.Time, error) {
	var uid model.ID
	var exp model.Time
	err := s.write(ctx, func(tx *wtx) error {
		var id []byte
		var expires int64
		var used *int64
		if err := tx.queryRow(`SELECT user_id, expires, used FROM password_resets WHERE hash = ?`, hash).Scan(&id, &expires, &used); err != nil {
			if isNoRows(err) {
				return notFound("password reset", "(token)")
			}
			return err
		}
		if used != nil {
			return fmt.Errorf("password reset already used: %w", store.ErrConflict)
		}
		if _, err := tx.exec(`UPDATE password_resets SET used = ? WHERE hash = ?`, at.Micros(), hash); err != nil {
			return err
		}
		var err error
		uid, err = scanID(id)
		exp = model.TimeFromMicros(expires)
		return err
	})
	if err != nil {
		return uid, exp, fmt.Errorf("postgres: use password reset: %w", err)
	}
	return uid, exp, nil
}

// TOTPGet returns a user's sealed TOTP secret and state.
func (s *Store) TOTPGet(ctx context.Context, userID model.ID) ([]byte, bool, error) {
	var sealed []byte
	var enabled bool
	err := s.queryRow(ctx, `SELECT totp_secret, totp_enabled FROM users WHERE id = ?`, idv(userID)).Scan(&sealed, &enabled)
	if isNoRows(err) {
		return nil, false, notFound("user", userID)
	}
	if err != nil {
		return nil, false, fmt.Errorf("postgres: get totp: %w", err)
	}
	return sealed, enabled, nil
}

// TOTPReseal reseals every stored TOTP secret (secrets key rotation).
func (s *Store) TOTPReseal(ctx context.Context, reseal func(userID model.ID, sealed []byte) ([]byte, error)) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *wtx) error {
		rows, err := tx.query(`SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL`)
		if err != nil {
			return fmt.Errorf("postgres: list totp secrets: %w", err)
		}
		type item struct {
			id     model.ID
			sealed []byte
		}
		var items []item
		for rows.Next() {
			var raw, sealed []byte
			if err := rows.Scan(&raw, &sealed); err != nil {
				rows.Close()
				return err
			}
			id, err := scanID(raw)
			if err != nil {
				rows.Close()
				return err
			}
			items = append(items, item{id, sealed})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, it := range items {
			out, err := reseal(it.id, it.sealed)
			if err != nil {
				return fmt.Errorf("user %s: %w", it.id, err)
			}
			if _, err := tx.exec(`UPDATE users SET totp_secret = ? WHERE id = ?`, out, idv(it.id)); err != nil {
				return fmt.Errorf("postgres: reseal totp secret: %w", err)
			}
			n++
		}
		return nil
	})
	return n, err
}

// TOTPUseStep accepts a TOTP time step once per user (later steps only).
func (s *Store) TOTPUseStep(ctx context.Context, userID model.ID, step int64) error {
	return s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`UPDATE users SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)`,
			step, idv(userID), step)
		if err != nil {
			return fmt.Errorf("postgres: use totp step: %w", err)
		}
		if res.RowsAffected() == 1 {
			return nil
		}
		var one int
		if err := tx.queryRow(`SELECT 1 FROM users WHERE id = ?`, idv(userID)).Scan(&one); isNoRows(err) {
			return notFound("user", userID)
		} else if err != nil {
			return fmt.Errorf("postgres: use totp step: %w", err)
		}
		return fmt.Errorf("%w: this two-factor code was already used", store.ErrConflict)
	})
}

// TOTPSet stores (or clears) a user's TOTP secret and recovery codes.
func (s *Store) TOTPSet(ctx context.Context, userID model.ID, sealed []byte, enabled bool, recovery [][]byte) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`UPDATE users SET totp_secret = ?, totp_enabled = ? WHERE id = ?`, sealed, enabled && sealed != nil, idv(userID))
		if err := mustAffect(res, err, "user", userID); err != nil {
			return err
		}
		if _, err := tx.exec(`DELETE FROM recovery_codes WHERE user_id = ?`, idv(userID)); err != nil {
			return err
		}
		for _, h := range recovery {
			if _, err := tx.exec(`INSERT INTO recovery_codes (user_id, hash) VALUES (?, ?)`, idv(userID), h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: set totp: %w", err)
	}
	return nil
}

// RecoveryCodeUse deletes one recovery code.
func (s *Store) RecoveryCodeUse(ctx context.Context, userID model.ID, hash []byte) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM recovery_codes WHERE user_id = ? AND hash = ?`, idv(userID), hash)
		return mustAffect(res, err, "recovery code", "(code)")
	})
	if err != nil {
		return fmt.Errorf("postgres: use recovery code: %w", err)
	}
	return nil
}

// --- teams ------------------------------------------------------------------

// TeamCreate adds a team.
func (s *Store) TeamCreate(ctx context.Context, t model.Team) error {
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO teams (id, account_id, name, description, created) VALUES (?, ?, ?, ?, ?)`,
			idv(t.ID), idv(t.AccountID), t.Name, t.Description, t.Created.Micros())
		return conflictOr(err, fmt.Sprintf("team %q", t.Name))
	})
	if err != nil {
		return fmt.Errorf("postgres: create team: %w", err)
	}
	return nil
}

// TeamGet returns one team with its members and grants.
func (s *Store) TeamGet(ctx context.Context, accountID, teamID model.ID) (model.Team, error) {
	ts, err := s.teams(ctx, accountID, &teamID)
	if err != nil {
		return model.Team{}, err
	}
	if len(ts) == 0 {
		return model.Team{}, notFound("team", teamID)
	}
	return ts[0], nil
}

// TeamList returns an account's teams.
func (s *Store) TeamList(ctx context.Context, accountID model.ID) ([]model.Team, error) {
	return s.teams(ctx, accountID, nil)
}

func (s *Store) teams(ctx context.Context, accountID model.ID, only *model.ID) ([]model.Team, error) {
	q := `SELECT id, name, description, created FROM teams WHERE account_id = ?`
	args := []any{idv(accountID)}
	if only != nil {
		q += ` AND id = ?`
		args = append(args, idv(*only))
	}
	rows, err := s.query(ctx, q+` ORDER BY name`, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list teams: %w", err)
	}
	out := []model.Team{}
	idx := map[model.ID]int{}
	for rows.Next() {
		t := model.Team{AccountID: accountID, Members: []model.TeamMember{}, Workspaces: []model.TeamWorkspace{}}
		var id []byte
		var created int64
		if err := rows.Scan(&id, &t.Name, &t.Description, &created); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgres: list teams: %w", err)
		}
		if t.ID, err = scanID(id); err != nil {
			rows.Close()
			return nil, err
		}
		t.Created = model.TimeFromMicros(created)
		idx[t.ID] = len(out)
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	mrows, err := s.query(ctx, `SELECT tm.team_id, tm.user_id, COALESCE(u.email, ''), u.name FROM team_members tm
		JOIN teams t ON t.id = tm.team_id JOIN users u ON u.id = tm.user_id WHERE t.account_id = ? ORDER BY u.email, u.name`, idv(accountID))
	if err != nil {
		return nil, fmt.Errorf("postgres: team members: %w", err)
	}
	for mrows.Next() {
		var tid, uid []byte
		var m model.TeamMember
		if err := mrows.Scan(&tid, &uid, &m.Email, &m.Name); err != nil {
			mrows.Close()
			return nil, err
		}
		t, _ := scanID(tid)
		m.UserID, _ = scanID(uid)
		if i, ok := idx[t]; ok {
			out[i].Members = append(out[i].Members, m)
		}
	}
	mrows.Close()
	wrows, err := s.query(ctx, `SELECT tw.team_id, tw.workspace_id, tw.role FROM team_workspaces tw
		JOIN teams t ON t.id = tw.team_id WHERE t.account_id = ? ORDER BY tw.workspace_id`, idv(accountID))
	if err != nil {
		return nil, fmt.Errorf("postgres: team workspaces: %w", err)
	}
	defer wrows.Close()
	for wrows.Next() {
		var tid, wid []byte
		var w model.TeamWorkspace
		if err := wrows.Scan(&tid, &wid, &w.Role); err != nil {
			return nil, err
		}
		t, _ := scanID(tid)
		w.WorkspaceID, _ = scanID(wid)
		if i, ok := idx[t]; ok {
			out[i].Workspaces = append(out[i].Workspaces, w)
		}
	}
	return out, wrows.Err()
}

// TeamUpdate renames a team.
func (s *Store) TeamUpdate(ctx context.Context, t model.Team) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`UPDATE teams SET name = ?, description = ? WHERE account_id = ? AND id = ?`, t.Name, t.Description, idv(t.AccountID), idv(t.ID))
		return mustAffect(res, conflictOr(err, fmt.Sprintf("team %q", t.Name)), "team", t.ID)
	})
	if err != nil {
		return fmt.Errorf("postgres: update team: %w", err)
	}
	return nil
}

// TeamDelete removes a team.
func (s *Store) TeamDelete(ctx context.Context, accountID, teamID model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM teams WHERE account_id = ? AND id = ?`, idv(accountID), idv(teamID))
		return mustAffect(res, err, "team", teamID)
	})
	if err != nil {
		return fmt.Errorf("postgres: delete team: %w", err)
	}
	return nil
}

// TeamMemberAdd puts a user in a team.
func (s *Store) TeamMemberAdd(ctx context.Context, teamID, userID model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO team_members (team_id, user_id, created) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			idv(teamID), idv(userID), s.now().Micros())
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: add team member: %w", err)
	}
	return nil
}

// TeamMemberRemove takes a user out of a team.
func (s *Store) TeamMemberRemove(ctx context.Context, teamID, userID model.ID) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM team_members WHERE team_id = ? AND user_id = ?`, idv(teamID), idv(userID))
		return mustAffect(res, err, "team member", userID)
	})
	if err != nil {
		return fmt.Errorf("postgres: remove team member: %w", err)
	}
	return nil
}

// TeamWorkspaceRoleSet gives a team a role on a workspace.
func (s *Store) TeamWorkspaceRoleSet(ctx context.Context, teamID, workspaceID model.ID, role model.Role) error {
	err := s.write(ctx, func(tx *wtx) error {
		if role == "" {
			_, err := tx.exec(`DELETE FROM team_workspaces WHERE team_id = ? AND workspace_id = ?`, idv(teamID), idv(workspaceID))
			return err
		}
		_, err := tx.exec(`INSERT INTO team_workspaces (team_id, workspace_id, role) VALUES (?, ?, ?)
			ON CONFLICT (team_id, workspace_id) DO UPDATE SET role = excluded.role`, idv(teamID), idv(workspaceID), string(role))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: set team workspace role: %w", err)
	}
	return nil
}

// --- invitations --------------------------------------------------------------

const invitationCols = `id, account_id, email, role, team_id, inviter_id, created, expires, accepted, accepted_by, revoked`

func scanInvitation(row interface{ Scan(...any) error }) (model.Invitation, error) {
	var inv model.Invitation
	var id, acc, team, inviter, by []byte
	var created, expires int64
	var accepted, revoked *int64
	if err := row.Scan(&id, &acc, &inv.Email, &inv.Role, &team, &inviter, &created, &expires, &accepted, &by, &revoked); err != nil {
		return inv, err
	}
	var err error
	if inv.ID, err = scanID(id); err != nil {
		return inv, err
	}
	if inv.AccountID, err = scanID(acc); err != nil {
		return inv, err
	}
	for _, p := range []struct {
		b   []byte
		dst **model.ID
	}{{team, &inv.TeamID}, {inviter, &inv.InviterID}, {by, &inv.AcceptedBy}} {
		if p.b != nil {
			v, err := scanID(p.b)
			if err != nil {
				return inv, err
			}
			*p.dst = &v
		}
	}
	inv.Created, inv.Expires = model.TimeFromMicros(created), model.TimeFromMicros(expires)
	if accepted != nil {
		t := model.TimeFromMicros(*accepted)
		inv.Accepted = &t
	}
	if revoked != nil {
		t := model.TimeFromMicros(*revoked)
		inv.Revoked = &t
	}
	return inv, nil
}

// InvitationCreate stores an invitation.
func (s *Store) InvitationCreate(ctx context.Context, inv model.Invitation, hash []byte) error {
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO invitations (id, account_id, email, role, team_id, inviter_id, hash, created, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			idv(inv.ID), idv(inv.AccountID), inv.Email, string(inv.Role), optID(inv.TeamID), optID(inv.InviterID), hash, inv.Created.Micros(), inv.Expires.Micros())
		return conflictOr(err, "invitation")
	})
	if err != nil {
		return fmt.Errorf("postgres: create invitation: %w", err)
	}
	return nil
}

// InvitationList returns an account's open invitations.
func (s *Store) InvitationList(ctx context.Context, accountID model.ID) ([]model.Invitation, error) {
	rows, err := s.query(ctx, `SELECT `+invitationCols+` FROM invitations WHERE account_id = ? AND accepted IS NULL AND revoked IS NULL ORDER BY created DESC`, idv(accountID))
	if err != nil {
		return nil, fmt.Errorf("postgres: list invitations: %w", err)
	}
	defer rows.Close()
	out := []model.Invitation{}
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list invitations: %w", err)
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// InvitationByHash finds an invitation by its token's hash.
func (s *Store) InvitationByHash(ctx context.Context, hash []byte) (model.Invitation, error) {
	inv, err := scanInvitation(s.queryRow(ctx, `SELECT `+invitationCols+` FROM invitations WHERE hash = ?`, hash))
	if isNoRows(err) {
		return inv, notFound("invitation", "(token)")
	}
	if err != nil {
		return inv, fmt.Errorf("postgres: get invitation: %w", err)
	}
	return inv, nil
}

// InvitationRevoke withdraws an open invitation.
func (s *Store) InvitationRevoke(ctx context.Context, accountID, id model.ID, at model.Time) error {
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`UPDATE invitations SET revoked = ? WHERE account_id = ? AND id = ? AND accepted IS NULL AND revoked IS NULL`,
			at.Micros(), idv(accountID), idv(id))
		return mustAffect(res, err, "invitation", id)
	})
	if err != nil {
		return fmt.Errorf("postgres: revoke invitation: %w", err)
	}
	return nil
}

// InvitationAccept marks an invitation used and applies it.
func (s *Store) InvitationAccept(ctx context.Context, id, userID model.ID, at model.Time) error {
	err := s.write(ctx, func(tx *wtx) error {
		inv, err := scanInvitation(tx.queryRow(`SELECT `+invitationCols+` FROM invitations WHERE id = ?`, idv(id)))
		if isNoRows(err) {
			return notFound("invitation", id)
		}
		if err != nil {
			return err
		}
		if inv.Accepted != nil || inv.Revoked != nil {
			return fmt.Errorf("invitation is no longer open: %w", store.ErrConflict)
		}
		if _, err := tx.exec(`UPDATE invitations SET accepted = ?, accepted_by = ? WHERE id = ?`, at.Micros(), idv(userID), idv(id)); err != nil {
			return err
		}
		var cur string
		err = tx.queryRow(`SELECT role FROM account_members WHERE account_id = ? AND user_id = ?`, idv(inv.AccountID), idv(userID)).Scan(&cur)
		switch {
		case isNoRows(err):
			if _, err := tx.exec(`INSERT INTO account_members (account_id, user_id, role, created) VALUES (?, ?, ?, ?)`,
				idv(inv.AccountID), idv(userID), string(inv.Role), at.Micros()); err != nil {
				return err
			}
		case err != nil:
			return err
		case inv.Role.Rank() > model.Role(cur).Rank():
			if _, err := tx.exec(`UPDATE account_members SET role = ? WHERE account_id = ? AND user_id = ?`, string(inv.Role), idv(inv.AccountID), idv(userID)); err != nil {
				return err
			}
		}
		if inv.TeamID != nil {
			if _, err := tx.exec(`INSERT INTO team_members (team_id, user_id, created) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
				idv(*inv.TeamID), idv(userID), at.Micros()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: accept invitation: %w", err)
	}
	return nil
}

// isNoRows reports whether a single-row query found nothing.
func isNoRows(err error) bool { return noRows(err) }
