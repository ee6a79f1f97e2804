package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// This file implements store.Audit (migration 0014).

var _ store.Audit = (*Store)(nil)

// AuditAppend adds entries in one write.
func (s *Store) AuditAppend(ctx context.Context, es ...model.AuditEvent) error {
	if len(es) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *wtx) error {
		for _, e := range es {
			if _, err := tx.exec(`INSERT INTO audit_log (id, account_id, occurred, workspace_id, actor_id, actor_name, actor_key_id,
				action, outcome, target_type, target_id, target_name, source_addr, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				idv(e.ID), idv(e.AccountID), e.Occurred.Micros(), optID(e.WorkspaceID), optID(e.ActorID), e.ActorName, optID(e.ActorKeyID),
				e.Action, e.Outcome, e.TargetType, e.TargetID, e.TargetName, e.SourceAddr, e.Detail); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: append audit log: %w", err)
	}
	return nil
}

// auditWhere builds the WHERE clause of AuditList.
func auditWhere(f store.AuditFilter) (string, []any) {
	where := []string{"account_id = ?"}
	args := []any{idv(f.AccountID)}
	if len(f.Actions) > 0 {
		where = append(where, "action IN ("+placeholders(len(f.Actions))+")")
		for _, a := range f.Actions {
			args = append(args, a)
		}
	}
	if f.ActionPrefix != "" {
		where = append(where, "substr(action, 1, ?) = ?")
		args = append(args, len(f.ActionPrefix), f.ActionPrefix)
	}
	if f.ActorID != nil {
		where = append(where, "actor_id = ?")
		args = append(args, idv(*f.ActorID))
	}
	if f.TargetID != "" {
		where = append(where, "target_id = ?")
		args = append(args, f.TargetID)
	}
	if f.WorkspaceID != nil {
		where = append(where, "workspace_id = ?")
		args = append(args, idv(*f.WorkspaceID))
	}
	if f.Outcome != "" {
		where = append(where, "outcome = ?")
		args = append(args, f.Outcome)
	}
	if f.Since != nil {
		where = append(where, "occurred >= ?")
		args = append(args, f.Since.Micros())
	}
	if f.Until != nil {
		where = append(where, "occurred < ?")
		args = append(args, f.Until.Micros())
	}
	return strings.Join(where, " AND "), args
}

// AuditList returns an account's entries, newest first.
func (s *Store) AuditList(ctx context.Context, f store.AuditFilter) ([]model.AuditEvent, error) {
	where, args := auditWhere(f)
	limit := f.Limit
	if limit <= 0 {
		limit = 200
	}
	rows, err := s.query(ctx, `SELECT id, account_id, occurred, workspace_id, actor_id, actor_name, actor_key_id, action, outcome,
		target_type, target_id, target_name, source_addr, detail FROM audit_log WHERE `+where+
		` ORDER BY occurred DESC, id DESC LIMIT ? OFFSET ?`, append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list audit log: %w", err)
	}
	defer rows.Close()
	out := []model.AuditEvent{}
	for rows.Next() {
		var e model.AuditEvent
		var id, acc, ws, actor, key []byte
		var occurred int64
		if err := rows.Scan(&id, &acc, &occurred, &ws, &actor, &e.ActorName, &key, &e.Action, &e.Outcome,
			&e.TargetType, &e.TargetID, &e.TargetName, &e.SourceAddr, &e.Detail); err != nil {
			return nil, fmt.Errorf("sqlite: list audit log: %w", err)
		}
		if e.ID, err = scanID(id); err != nil {
			return nil, err
		}
		if e.AccountID, err = scanID(acc); err != nil {
			return nil, err
		}
		for _, p := range []struct {
			b   []byte
			dst **model.ID
		}{{ws, &e.WorkspaceID}, {actor, &e.ActorID}, {key, &e.ActorKeyID}} {
			if p.b != nil {
				v, err := scanID(p.b)
				if err != nil {
					return nil, err
				}
				*p.dst = &v
			}
		}
		e.Occurred = model.TimeFromMicros(occurred)
		out = append(out, e)
	}
	return out, rows.Err()
}

// AuditPurge deletes up to limit entries older than before.
func (s *Store) AuditPurge(ctx context.Context, before model.Time, limit int) (int, bool, error) {
	var n int64
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE occurred < ? ORDER BY occurred LIMIT ?)`,
			before.Micros(), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: purge audit log: %w", err)
	}
	return int(n), int(n) >= limit, nil
}
