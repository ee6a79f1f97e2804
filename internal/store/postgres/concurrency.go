package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// defaultLeaseTTL is used when ConcurrencyAcquire is given no TTL; it is
// Prefect's default lease duration.
const defaultLeaseTTL = 300 * time.Second

const limitColumns = `id, name, created, updated, active, "limit", active_slots, denied_slots, slot_decay_per_second, avg_slot_occupancy_seconds`

func scanLimit(sc interface{ Scan(...any) error }) (model.ConcurrencyLimit, error) {
	var l model.ConcurrencyLimit
	var id []byte
	var created, updated int64
	if err := sc.Scan(&id, &l.Name, &created, &updated, &l.Active, &l.Limit, &l.ActiveSlots, &l.DeniedSlots,
		&l.SlotDecayPerSecond, &l.AvgSlotOccupancySeconds); err != nil {
		return l, err
	}
	l.Created, l.Updated = model.TimeFromMicros(created), model.TimeFromMicros(updated)
	var err error
	l.ID, err = scanID(id)
	return l, err
}

// limitKey turns an id-or-name into bind values: the id (or NULL when the
// string is not a UUID) and the name.
func limitKey(idOrName string) (any, string) {
	if id, err := model.ParseID(idOrName); err == nil {
		return idv(id), idOrName
	}
	return nil, idOrName
}

// ConcurrencyLimitCreate creates a limit; a taken name is store.ErrConflict.
func (s *Store) ConcurrencyLimitCreate(ctx context.Context, ws model.ID, in model.ConcurrencyLimitCreate) (model.ConcurrencyLimit, error) {
	t := s.now()
	l := model.ConcurrencyLimit{ID: model.NewID(), Created: t, Updated: t, Active: true, Name: in.Name, Limit: in.Limit,
		ActiveSlots: in.ActiveSlots, DeniedSlots: in.DeniedSlots}
	if in.Active != nil {
		l.Active = *in.Active
	}
	if in.SlotDecayPerSecond != nil {
		l.SlotDecayPerSecond = *in.SlotDecayPerSecond
	}
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`INSERT INTO concurrency_limits (workspace_id, `+limitColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			idv(ws), idv(l.ID), l.Name, t.Micros(), t.Micros(), l.Active, l.Limit, l.ActiveSlots, l.DeniedSlots, l.SlotDecayPerSecond, 0.0)
		if isUnique(err) {
			return fmt.Errorf("concurrency limit %q: %w", in.Name, store.ErrConflict)
		}
		return err
	})
	if err != nil {
		return model.ConcurrencyLimit{}, fmt.Errorf("postgres: create concurrency limit: %w", err)
	}
	return l, nil
}

// ConcurrencyLimitGet returns the limit with that id or name.
func (s *Store) ConcurrencyLimitGet(ctx context.Context, ws model.ID, idOrName string) (model.ConcurrencyLimit, error) {
	id, name := limitKey(idOrName)
	l, err := scanLimit(s.queryRow(ctx, `SELECT `+limitColumns+` FROM concurrency_limits WHERE workspace_id = ? AND (id = ? OR name = ?)
ORDER BY (id IS NOT DISTINCT FROM ?::uuid) DESC LIMIT 1`, idv(ws), id, name, id))
	if noRows(err) {
		return l, fmt.Errorf("postgres: %w", notFound("concurrency limit", idOrName))
	}
	if err != nil {
		return l, fmt.Errorf("postgres: get concurrency limit: %w", err)
	}
	return l, nil
}

// ConcurrencyLimitList lists limits by name.
func (s *Store) ConcurrencyLimitList(ctx context.Context, ws model.ID, offset, limit int) ([]model.ConcurrencyLimit, error) {
	win, wargs := window(limit, offset)
	rows, err := s.query(ctx, `SELECT `+limitColumns+` FROM concurrency_limits WHERE workspace_id = ? ORDER BY name`+win,
		append([]any{idv(ws)}, wargs...)...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list concurrency limits: %w", err)
	}
	defer rows.Close()
	out := []model.ConcurrencyLimit{}
	for rows.Next() {
		l, err := scanLimit(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list concurrency limits: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list concurrency limits: %w", err)
	}
	return out, nil
}

// readLimitID resolves an id-or-name to the limit id inside a write.
func readLimitID(tx *wtx, ws model.ID, idOrName string) ([]byte, error) {
	id, name := limitKey(idOrName)
	var got []byte
	err := tx.queryRow(`SELECT id FROM concurrency_limits WHERE workspace_id = ? AND (id = ? OR name = ?) ORDER BY (id IS NOT DISTINCT FROM ?::uuid) DESC LIMIT 1 FOR UPDATE`,
		idv(ws), id, name, id).Scan(&got)
	if noRows(err) {
		return nil, notFound("concurrency limit", idOrName)
	}
	return got, err
}

// ConcurrencyLimitUpdate changes the given fields; renaming onto a taken
// name is store.ErrConflict.
func (s *Store) ConcurrencyLimitUpdate(ctx context.Context, ws model.ID, idOrName string, in model.ConcurrencyLimitUpdate) error {
	err := s.write(ctx, func(tx *wtx) error {
		id, err := readLimitID(tx, ws, idOrName)
		if err != nil {
			return err
		}
		_, err = tx.exec(`UPDATE concurrency_limits SET name = coalesce(?, name), "limit" = coalesce(?, "limit"),
    active = coalesce(?, active), active_slots = coalesce(?, active_slots), denied_slots = coalesce(?, denied_slots),
    slot_decay_per_second = coalesce(?, slot_decay_per_second), updated = ?
WHERE workspace_id = ? AND id = ?`,
			optVal(in.Name), optVal(in.Limit), optVal(in.Active), optVal(in.ActiveSlots), optVal(in.DeniedSlots),
			optVal(in.SlotDecayPerSecond), s.now().Micros(), idv(ws), id)
		if isUnique(err) {
			return fmt.Errorf("concurrency limit name: %w", store.ErrConflict)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: update concurrency limit: %w", err)
	}
	return nil
}

// ConcurrencyLimitDelete removes a limit (its leases simply stop counting).
func (s *Store) ConcurrencyLimitDelete(ctx context.Context, ws model.ID, idOrName string) error {
	err := s.write(ctx, func(tx *wtx) error {
		id, err := readLimitID(tx, ws, idOrName)
		if err != nil {
			return err
		}
		_, err = tx.exec(`DELETE FROM concurrency_limits WHERE workspace_id = ? AND id = ?`, idv(ws), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete concurrency limit: %w", err)
	}
	return nil
}

// ConcurrencyAcquire takes slots on every active limit named, all or
// nothing, and records a lease. A denial still commits the denied_slots
// increment before ErrSlotsBusy is returned.
func (s *Store) ConcurrencyAcquire(ctx context.Context, ws model.ID, names []string, slots int, ttl time.Duration, holder *model.LeaseHolder) (*model.ConcurrencyLease, []model.MinimalConcurrencyLimit, error) {
	if ttl <= 0 {
		ttl = defaultLeaseTTL
	}
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	var lease *model.ConcurrencyLease
	var limits []model.MinimalConcurrencyLimit
	busy := false
	// READ COMMITTED with the limits locked in name order: concurrent
	// acquisitions of the same limits queue up instead of failing, and
	// never deadlock.
	err := s.writeRC(ctx, func(tx *wtx) error {
		lease, limits, busy = nil, nil, false
		if len(names) == 0 {
			return nil
		}
		args := append([]any{idv(ws)}, anySlice(names)...)
		rows, err := tx.query(`SELECT id, name, "limit", active_slots FROM concurrency_limits
WHERE workspace_id = ? AND active AND name IN (`+placeholders(len(names))+`) ORDER BY name FOR UPDATE`, args...)
		if err != nil {
			return err
		}
		var ids [][]byte
		for rows.Next() {
			var id []byte
			var m model.MinimalConcurrencyLimit
			var active int
			if err := rows.Scan(&id, &m.Name, &m.Limit, &active); err != nil {
				rows.Close()
				return err
			}
			if m.ID, err = scanID(id); err != nil {
				rows.Close()
				return err
			}
			if active+slots > m.Limit {
				busy = true
			}
			ids = append(ids, id)
			limits = append(limits, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(limits) == 0 {
			return nil
		}
		t := s.now()
		col := "active_slots"
		if busy {
			col = "denied_slots"
		}
		for _, id := range ids {
			if _, err := tx.exec(`UPDATE concurrency_limits SET `+col+` = `+col+` + ?, updated = ? WHERE workspace_id = ? AND id = ?`,
				slots, t.Micros(), idv(ws), id); err != nil {
				return err
			}
		}
		if busy {
			return nil
		}
		l := &model.ConcurrencyLease{ID: model.NewID(), Slots: slots, Expiration: model.NewTime(t.Add(ttl)), Holder: holder}
		for _, m := range limits {
			l.ResourceIDs = append(l.ResourceIDs, m.ID)
		}
		rids, err := json.Marshal(l.ResourceIDs)
		if err != nil {
			return err
		}
		var h any
		if holder != nil {
			b, err := json.Marshal(holder)
			if err != nil {
				return err
			}
			h = string(b)
		}
		if _, err := tx.exec(`INSERT INTO concurrency_leases (workspace_id, id, created, expiration, slots, resource_ids, holder) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			idv(ws), idv(l.ID), t.Micros(), l.Expiration.Micros(), slots, string(rids), h); err != nil {
			return err
		}
		lease = l
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: acquire concurrency slots: %w", err)
	}
	if limits == nil {
		limits = []model.MinimalConcurrencyLimit{}
	}
	if busy {
		return nil, limits, fmt.Errorf("postgres: acquire concurrency slots: %w", store.ErrSlotsBusy)
	}
	return lease, limits, nil
}

// releaseLease frees the lease's slots and deletes it; reports whether the
// lease existed.
func releaseLease(tx *wtx, ws, leaseID []byte) (bool, error) {
	var slots int
	var rids []byte
	err := tx.queryRow(`SELECT slots, resource_ids FROM concurrency_leases WHERE workspace_id = ? AND id = ? FOR UPDATE`, ws, leaseID).Scan(&slots, &rids)
	if noRows(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var ids []model.ID
	if err := json.Unmarshal(rids, &ids); err != nil {
		return false, fmt.Errorf("lease resource ids: %w", err)
	}
	t := tx.s.now().Micros()
	for _, id := range ids {
		if _, err := tx.exec(`UPDATE concurrency_limits SET active_slots = greatest(0, active_slots - ?), updated = ? WHERE workspace_id = ? AND id = ?`,
			slots, t, ws, idv(id)); err != nil {
			return false, err
		}
	}
	_, err = tx.exec(`DELETE FROM concurrency_leases WHERE workspace_id = ? AND id = ?`, ws, leaseID)
	return err == nil, err
}

// ConcurrencyRelease frees a lease; unknown leases are ignored.
func (s *Store) ConcurrencyRelease(ctx context.Context, ws model.ID, leaseID model.ID) error {
	err := s.writeRC(ctx, func(tx *wtx) error {
		_, err := releaseLease(tx, idv(ws), idv(leaseID))
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: release lease: %w", err)
	}
	return nil
}

// ConcurrencyRenew moves a lease's expiration to now+ttl.
func (s *Store) ConcurrencyRenew(ctx context.Context, ws model.ID, leaseID model.ID, ttl time.Duration) error {
	if ttl <= 0 {
		ttl = defaultLeaseTTL
	}
	err := s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`UPDATE concurrency_leases SET expiration = ? WHERE workspace_id = ? AND id = ?`,
			model.NewTime(s.clock().Add(ttl)).Micros(), idv(ws), idv(leaseID))
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return notFound("lease", leaseID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: renew lease: %w", err)
	}
	return nil
}

// ConcurrencyExpire releases every lease of any workspace that expired
// before now.
// orphanLeasesSQL finds leases held by task runs whose flow run ended.
const orphanLeasesSQL = `SELECT l.workspace_id, l.id FROM concurrency_leases l
JOIN task_runs t ON t.workspace_id = l.workspace_id AND t.id = (l.holder ->> 'id')::uuid
JOIN flow_runs f ON f.workspace_id = t.workspace_id AND f.id = t.flow_run_id
WHERE l.holder ->> 'type' = 'task_run' AND f.state_type IN ('COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED')`

func (s *Store) ConcurrencyExpire(ctx context.Context, now time.Time) (int, error) {
	// A read first: the reaper runs every second, and most rounds find
	// nothing to release, which then costs no write.
	if due, err := s.leasesDue(ctx, now); err != nil || !due {
		return 0, err
	}
	n := 0
	err := s.write(ctx, func(tx *wtx) error {
		n = 0
		rows, err := tx.query(`SELECT workspace_id, id FROM concurrency_leases WHERE expiration < ? UNION `+orphanLeasesSQL, now.UnixMicro())
		if err != nil {
			return err
		}
		var keys [][2][]byte
		for rows.Next() {
			var ws, id []byte
			if err := rows.Scan(&ws, &id); err != nil {
				rows.Close()
				return err
			}
			keys = append(keys, [2][]byte{ws, id})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, k := range keys {
			ok, err := releaseLease(tx, k[0], k[1])
			if err != nil {
				return err
			}
			if ok {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: expire leases: %w", err)
	}
	return n, nil
}

// ConcurrencyIncrement takes slots on every active limit named, all or
// nothing, without a lease: the slots stay taken until
// ConcurrencyDecrement gives them back (Prefect's lease-less
// /v2/concurrency_limits/increment).
func (s *Store) ConcurrencyIncrement(ctx context.Context, ws model.ID, names []string, slots int) ([]model.MinimalConcurrencyLimit, error) {
	lease, limits, err := s.ConcurrencyAcquire(ctx, ws, names, slots, 0, nil)
	if err != nil || lease == nil {
		return limits, err
	}
	// Keep the slots, drop the lease so no reaper ever gives them back.
	err = s.write(ctx, func(tx *wtx) error {
		_, err := tx.exec(`DELETE FROM concurrency_leases WHERE workspace_id = ? AND id = ?`, idv(ws), idv(lease.ID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: increment concurrency slots: %w", err)
	}
	return limits, nil
}

// ConcurrencyDecrement gives slots back to every active limit named (never
// below zero) and returns the named limits, active or not.
func (s *Store) ConcurrencyDecrement(ctx context.Context, ws model.ID, names []string, slots int) ([]model.MinimalConcurrencyLimit, error) {
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	out := []model.MinimalConcurrencyLimit{}
	if len(names) == 0 {
		return out, nil
	}
	err := s.write(ctx, func(tx *wtx) error {
		out = out[:0]
		args := append([]any{idv(ws)}, anySlice(names)...)
		rows, err := tx.query(`SELECT id, name, "limit" FROM concurrency_limits WHERE workspace_id = ? AND name IN (`+placeholders(len(names))+`) ORDER BY name`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id []byte
			var m model.MinimalConcurrencyLimit
			if err := rows.Scan(&id, &m.Name, &m.Limit); err != nil {
				rows.Close()
				return err
			}
			if m.ID, err = scanID(id); err != nil {
				rows.Close()
				return err
			}
			out = append(out, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.exec(`UPDATE concurrency_limits SET active_slots = greatest(0, active_slots - ?), updated = ?
WHERE workspace_id = ? AND active AND name IN (`+placeholders(len(names))+`)`, append([]any{slots, s.now().Micros(), idv(ws)}, anySlice(names)...)...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: decrement concurrency slots: %w", err)
	}
	return out, nil
}

// ConcurrencyLeasesOf lists the live leases that hold slots of a limit.
func (s *Store) ConcurrencyLeasesOf(ctx context.Context, ws, limitID model.ID) ([]model.ConcurrencyLease, error) {
	rows, err := s.query(ctx, `SELECT l.id, l.slots, l.expiration, l.resource_ids, l.holder FROM concurrency_leases l
WHERE l.workspace_id = ? AND l.resource_ids @> jsonb_build_array(?::text) ORDER BY l.created, l.id`, idv(ws), limitID.String())
	if err != nil {
		return nil, fmt.Errorf("postgres: leases of limit: %w", err)
	}
	defer rows.Close()
	out := []model.ConcurrencyLease{}
	for rows.Next() {
		var id, rids, holder []byte
		var exp int64
		var l model.ConcurrencyLease
		if err := rows.Scan(&id, &l.Slots, &exp, &rids, &holder); err != nil {
			return nil, fmt.Errorf("postgres: leases of limit: %w", err)
		}
		if l.ID, err = scanID(id); err != nil {
			return nil, err
		}
		l.Expiration = model.TimeFromMicros(exp)
		if err := json.Unmarshal(rids, &l.ResourceIDs); err != nil {
			return nil, fmt.Errorf("postgres: lease resource ids: %w", err)
		}
		if len(holder) > 0 {
			var h model.LeaseHolder
			if json.Unmarshal(holder, &h) == nil {
				l.Holder = &h
			}
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// ConcurrencyReleaseWhere releases, in one transaction, every lease on the
// limit (of any holder when holder is nil, else only that holder's) and
// returns how many it released.
func (s *Store) ConcurrencyReleaseWhere(ctx context.Context, ws, limitID model.ID, holder *model.LeaseHolder) (int, error) {
	n := 0
	err := s.write(ctx, func(tx *wtx) error {
		n = 0
		q := `SELECT l.id FROM concurrency_leases l WHERE l.workspace_id = ? AND l.resource_ids @> jsonb_build_array(?::text)`
		args := []any{idv(ws), limitID.String()}
		if holder != nil {
			q += ` AND l.holder ->> 'type' = ? AND l.holder ->> 'id' = ?`
			args = append(args, holder.Type, holder.ID.String())
		}
		rows, err := tx.query(q, args...)
		if err != nil {
			return err
		}
		var ids [][]byte
		for rows.Next() {
			var id []byte
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			ok, err := releaseLease(tx, idv(ws), id)
			if err != nil {
				return err
			}
			if ok {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: release leases: %w", err)
	}
	return n, nil
}

// applySlots carries out a state change's slot change inside its
// transaction (see model.SlotChange). A grant that no longer fits or a
// renewal of a lease that is gone is store.ErrSlotsBusy, and the caller's
// transaction is rolled back.
func applySlots(tx *wtx, ws model.ID, c model.SlotChange) error {
	if c.IsZero() {
		return nil
	}
	wsb := idv(ws)
	now := tx.s.now()
	for _, r := range c.Release {
		released := false
		if r.LeaseID != nil {
			var err error
			if released, err = releaseLease(tx, wsb, idv(*r.LeaseID)); err != nil {
				return fmt.Errorf("release lease %s: %w", *r.LeaseID, err)
			}
		}
		if !released {
			for _, id := range r.Fallback {
				if _, err := tx.exec(`UPDATE concurrency_limits SET active_slots = greatest(0, active_slots - 1), updated = ? WHERE workspace_id = ? AND id = ?`,
					now.Micros(), wsb, idv(id)); err != nil {
					return err
				}
			}
		}
	}
	if h := c.ReleaseHeld; h != nil {
		for _, lid := range h.LimitIDs {
			rows, err := tx.query(`SELECT l.id FROM concurrency_leases l WHERE l.workspace_id = ? AND l.resource_ids @> jsonb_build_array(?::text)
AND l.holder ->> 'type' = ? AND l.holder ->> 'id' = ?`, wsb, lid.String(), h.Holder.Type, h.Holder.ID.String())
			if err != nil {
				return err
			}
			var ids [][]byte
			for rows.Next() {
				var id []byte
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				ids = append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, id := range ids {
				if _, err := releaseLease(tx, wsb, id); err != nil {
					return err
				}
			}
		}
	}
	if c.Revoke != nil {
		if _, err := tx.exec(`DELETE FROM concurrency_leases WHERE workspace_id = ? AND id = ?`, wsb, idv(*c.Revoke)); err != nil {
			return err
		}
	}
	if r := c.Renew; r != nil {
		res, err := tx.exec(`UPDATE concurrency_leases SET expiration = ? WHERE workspace_id = ? AND id = ?`,
			model.NewTime(now.Add(r.TTL)).Micros(), wsb, idv(r.LeaseID))
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return fmt.Errorf("lease %s to renew is gone: %w", r.LeaseID, store.ErrSlotsBusy)
		}
	}
	if g := c.Acquire; g != nil {
		for _, id := range g.LimitIDs {
			res, err := tx.exec(`UPDATE concurrency_limits SET active_slots = active_slots + 1, updated = ?
WHERE workspace_id = ? AND id = ? AND active AND active_slots + 1 <= "limit"`, now.Micros(), wsb, idv(id))
			if err != nil {
				return err
			}
			if res.RowsAffected() == 0 {
				return fmt.Errorf("concurrency limit %s has no free slot: %w", id, store.ErrSlotsBusy)
			}
		}
		rids, err := json.Marshal(g.LimitIDs)
		if err != nil {
			return err
		}
		var h any
		if g.Holder != nil {
			b, err := json.Marshal(g.Holder)
			if err != nil {
				return err
			}
			h = b
		}
		ttl := g.TTL
		if ttl <= 0 {
			ttl = defaultLeaseTTL
		}
		if _, err := tx.exec(`INSERT INTO concurrency_leases (workspace_id, id, created, expiration, slots, resource_ids, holder) VALUES (?, ?, ?, ?, 1, ?, ?)`,
			wsb, idv(g.LeaseID), now.Micros(), model.NewTime(now.Add(ttl)).Micros(), rids, h); err != nil {
			return err
		}
	}
	return nil
}

// releaseSlotsOfDeleted gives back, before runs are deleted, the slots they
// hold: a deployment run in PENDING, RUNNING or CANCELLING its deployment
// slot (its state's lease, or one slot of the deployment's limit when the
// lease is gone, as Prefect's cleanup_flow_run_concurrency_slots does), and
// every task run of theirs the tag slots it holds. runsWhere selects the
// flow runs (aliased fr) and taskWhere the task runs (aliased t), each
// bound with args.
func releaseSlotsOfDeleted(tx *wtx, ws model.ID, runsWhere string, runArgs []any, taskWhere string, taskArgs []any) error {
	wsb := idv(ws)
	if runsWhere != "" {
		rows, err := tx.query(`SELECT fr.deployment_id, fr.body -> 'state' -> 'state_details' ->> 'deployment_concurrency_lease_id'
FROM flow_runs fr JOIN concurrency_limits cl ON cl.workspace_id = fr.workspace_id AND cl.id = fr.deployment_id
WHERE fr.workspace_id = ? AND fr.state_type IN `+activeTypesSQL+` AND (`+runsWhere+`)`, append([]any{wsb}, runArgs...)...)
		if err != nil {
			return err
		}
		var rels []model.LeaseRelease
		for rows.Next() {
			var dep []byte
			var lease *string
			if err := rows.Scan(&dep, &lease); err != nil {
				rows.Close()
				return err
			}
			id, err := scanID(dep)
			if err != nil {
				rows.Close()
				return err
			}
			rel := model.LeaseRelease{Fallback: []model.ID{id}}
			if lease != nil {
				if lid, err := model.ParseID(*lease); err == nil {
					rel.LeaseID = &lid
				}
			}
			rels = append(rels, rel)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if err := applySlots(tx, ws, model.SlotChange{Release: rels}); err != nil {
			return err
		}
	}
	rows, err := tx.query(`SELECT l.id FROM concurrency_leases l WHERE l.workspace_id = ? AND l.holder ->> 'type' = 'task_run'
AND (l.holder ->> 'id')::uuid IN (SELECT t.id FROM task_runs t WHERE t.workspace_id = ? AND (`+taskWhere+`))`,
		append([]any{wsb, wsb}, taskArgs...)...)
	if err != nil {
		return err
	}
	var leases [][]byte
	for rows.Next() {
		var id []byte
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		leases = append(leases, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range leases {
		if _, err := releaseLease(tx, wsb, id); err != nil {
			return err
		}
	}
	return nil
}

// leasesDue reports, from a read, whether ConcurrencyExpire has anything
// to release.
func (s *Store) leasesDue(ctx context.Context, now time.Time) (bool, error) {
	var due bool
	err := s.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM concurrency_leases WHERE expiration < ?) OR EXISTS (`+orphanLeasesSQL+`)`,
		now.UnixMicro()).Scan(&due)
	if err != nil {
		return false, fmt.Errorf("postgres: expire leases: %w", err)
	}
	return due, nil
}
