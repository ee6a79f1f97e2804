package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

const automationEngine = "automations"

func writeAutomation(tx *wtx, ws model.ID, a *model.Automation, insert bool) error {
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if insert {
		_, err = tx.exec(`INSERT INTO automations (workspace_id, id, name, enabled, created, updated, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			idv(ws), idv(a.ID), a.Name, a.Enabled, a.Created.Micros(), a.Updated.Micros(), body)
		if isUnique(err) {
			return fmt.Errorf("automation %s: %w", a.ID, store.ErrConflict)
		}
		return err
	}
	res, err := tx.exec(`UPDATE automations SET name = ?, enabled = ?, updated = ?, body = ? WHERE workspace_id = ? AND id = ?`,
		a.Name, a.Enabled, a.Updated.Micros(), body, idv(ws), idv(a.ID))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("automation", a.ID)
	}
	return nil
}

func relateAutomation(tx *wtx, ws, id model.ID, resource string, owned bool) error {
	_, err := tx.exec(`INSERT INTO automation_related_resources (workspace_id, automation_id, resource_id, owned) VALUES (?, ?, ?, ?)
ON CONFLICT (workspace_id, automation_id, resource_id) DO UPDATE SET owned = owned OR excluded.owned`, idv(ws), idv(id), resource, owned)
	return err
}

func writeWorkspaceEvents(tx *wtx, ws model.ID, evs []model.Event) error {
	if len(evs) == 0 {
		return nil
	}
	rows, err := encodeEvents(evs, tx.s.now())
	if err != nil {
		return err
	}
	_, err = insertEvents(tx, ws, rows)
	return err
}

// AutomationCreate inserts an automation with its relations and events.
func (s *Store) AutomationCreate(ctx context.Context, ws model.ID, w store.AutomationWrite) error {
	err := s.write(ctx, func(tx *wtx) error {
		if err := writeAutomation(tx, ws, &w.Automation, true); err != nil {
			return err
		}
		if w.Owner != "" {
			if err := relateAutomation(tx, ws, w.Automation.ID, w.Owner, true); err != nil {
				return err
			}
		}
		for _, r := range w.Related {
			if err := relateAutomation(tx, ws, w.Automation.ID, r, false); err != nil {
				return err
			}
		}
		return writeWorkspaceEvents(tx, ws, w.Events)
	})
	if err != nil {
		return fmt.Errorf("sqlite: create automation: %w", err)
	}
	return nil
}

// AutomationGet reads one automation.
func (s *Store) AutomationGet(ctx context.Context, ws, id model.ID) (model.Automation, error) {
	var a model.Automation
	var body []byte
	err := s.rdb.QueryRowContext(ctx, `SELECT body FROM automations WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id)).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return a, notFound("automation", id)
	}
	if err != nil {
		return a, fmt.Errorf("sqlite: get automation: %w", err)
	}
	return a, unmarshalBody(body, &a)
}

// AutomationList returns the workspace's automations by name.
func (s *Store) AutomationList(ctx context.Context, ws model.ID) ([]model.Automation, error) {
	return listBodies[model.Automation](ctx, s.rdb, `SELECT body FROM automations WHERE workspace_id = ? ORDER BY name, id`, []any{idv(ws)})
}

// AutomationReplace replaces an automation's definition and relations and
// drops its triggers' state.
func (s *Store) AutomationReplace(ctx context.Context, ws model.ID, w store.AutomationWrite) error {
	err := s.write(ctx, func(tx *wtx) error {
		if err := writeAutomation(tx, ws, &w.Automation, false); err != nil {
			return err
		}
		id := idv(w.Automation.ID)
		for _, q := range []string{
			`DELETE FROM automation_related_resources WHERE workspace_id = ? AND automation_id = ? AND owned = 0`,
			`DELETE FROM automation_buckets WHERE workspace_id = ? AND automation_id = ?`,
			`DELETE FROM automation_child_firings WHERE workspace_id = ? AND automation_id = ?`,
			`DELETE FROM automation_trigger_states WHERE workspace_id = ? AND automation_id = ?`,
		} {
			if _, err := tx.exec(q, idv(ws), id); err != nil {
				return err
			}
		}
		for _, r := range w.Related {
			if err := relateAutomation(tx, ws, w.Automation.ID, r, false); err != nil {
				return err
			}
		}
		return writeWorkspaceEvents(tx, ws, w.Events)
	})
	if err != nil {
		return fmt.Errorf("sqlite: replace automation: %w", err)
	}
	return nil
}

// AutomationUpdate applies fn to the stored automation.
func (s *Store) AutomationUpdate(ctx context.Context, ws, id model.ID, fn func(*model.Automation) ([]model.Event, error)) (model.Automation, error) {
	var a model.Automation
	err := s.write(ctx, func(tx *wtx) error {
		var body []byte
		err := tx.queryRow(`SELECT body FROM automations WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id)).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("automation", id)
		}
		if err != nil {
			return err
		}
		if err := unmarshalBody(body, &a); err != nil {
			return err
		}
		evs, err := fn(&a)
		if err != nil {
			return err
		}
		if err := writeAutomation(tx, ws, &a, false); err != nil {
			return err
		}
		return writeWorkspaceEvents(tx, ws, evs)
	})
	if err != nil {
		return model.Automation{}, fmt.Errorf("sqlite: update automation: %w", err)
	}
	return a, nil
}

func deleteAutomation(tx *wtx, ws, id model.ID) error {
	_, err := tx.exec(`DELETE FROM automations WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id))
	return err
}

// AutomationDelete deletes an automation (its relations and trigger state
// go with it).
func (s *Store) AutomationDelete(ctx context.Context, ws, id model.ID, events func(model.Automation) []model.Event) (model.Automation, error) {
	var a model.Automation
	err := s.write(ctx, func(tx *wtx) error {
		var body []byte
		err := tx.queryRow(`SELECT body FROM automations WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id)).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("automation", id)
		}
		if err != nil {
			return err
		}
		if err := unmarshalBody(body, &a); err != nil {
			return err
		}
		if err := deleteAutomation(tx, ws, id); err != nil {
			return err
		}
		if events != nil {
			return writeWorkspaceEvents(tx, ws, events(a))
		}
		return nil
	})
	if err != nil {
		return model.Automation{}, fmt.Errorf("sqlite: delete automation: %w", err)
	}
	return a, nil
}

const relatedAutomationsSQL = `SELECT a.body FROM automations a
JOIN automation_related_resources r ON r.workspace_id = a.workspace_id AND r.automation_id = a.id
WHERE a.workspace_id = ? AND r.resource_id = ?`

// AutomationsRelated returns the automations related to (or owned by) a
// resource, oldest first.
func (s *Store) AutomationsRelated(ctx context.Context, ws model.ID, resourceID string, ownedOnly bool) ([]model.Automation, error) {
	q := relatedAutomationsSQL
	if ownedOnly {
		q += ` AND r.owned = 1`
	}
	return listBodies[model.Automation](ctx, s.rdb, q+` ORDER BY a.created, a.id`, []any{idv(ws), resourceID})
}

// AutomationsDeleteOwned deletes what a resource owns, created up to
// createdBefore.
func (s *Store) AutomationsDeleteOwned(ctx context.Context, ws model.ID, resourceID string, createdBefore time.Time, events func(model.Automation) []model.Event) ([]model.Automation, error) {
	var out []model.Automation
	err := s.write(ctx, func(tx *wtx) error {
		out = out[:0]
		rows, err := tx.Query(relatedAutomationsSQL+` AND r.owned = 1 AND a.created <= ? ORDER BY a.created, a.id`, idv(ws), resourceID, model.NewTime(createdBefore).Micros())
		if err != nil {
			return err
		}
		for rows.Next() {
			var body []byte
			var a model.Automation
			if err := rows.Scan(&body); err != nil {
				rows.Close()
				return err
			}
			if err := unmarshalBody(body, &a); err != nil {
				rows.Close()
				return err
			}
			out = append(out, a)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, a := range out {
			if err := deleteAutomation(tx, ws, a.ID); err != nil {
				return err
			}
			if events != nil {
				if err := writeWorkspaceEvents(tx, ws, events(a)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: delete owned automations: %w", err)
	}
	return out, nil
}

// AutomationsAll returns every workspace's automations.
func (s *Store) AutomationsAll(ctx context.Context) ([]store.WorkspaceAutomation, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT workspace_id, body FROM automations ORDER BY workspace_id, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list automations: %w", err)
	}
	defer rows.Close()
	var out []store.WorkspaceAutomation
	for rows.Next() {
		var wsb, body []byte
		if err := rows.Scan(&wsb, &body); err != nil {
			return nil, fmt.Errorf("sqlite: list automations: %w", err)
		}
		ws, err := scanID(wsb)
		if err != nil {
			return nil, err
		}
		var a model.Automation
		if err := unmarshalBody(body, &a); err != nil {
			return nil, err
		}
		out = append(out, store.WorkspaceAutomation{Workspace: ws, Automation: a})
	}
	return out, rows.Err()
}

// AutomationsVersion summarizes every automation's update time; any
// create, change or delete changes it.
func (s *Store) AutomationsVersion(ctx context.Context) (string, error) {
	var n, maxUpdated, sum int64
	err := s.rdb.QueryRowContext(ctx, `SELECT count(*), coalesce(max(updated), 0), coalesce(sum(updated % 1000003), 0) FROM automations`).Scan(&n, &maxUpdated, &sum)
	if err != nil {
		return "", fmt.Errorf("sqlite: automations version: %w", err)
	}
	return strconv.FormatInt(n, 10) + ":" + strconv.FormatInt(maxUpdated, 10) + ":" + strconv.FormatInt(sum, 10), nil
}

// AutomationStateLoad reads the engine's state.
func (s *Store) AutomationStateLoad(ctx context.Context) (store.AutomationState, error) {
	var st store.AutomationState
	err := s.rdb.QueryRowContext(ctx, `SELECT position FROM automation_engine WHERE name = ?`, automationEngine).Scan(&st.Position)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("sqlite: load automation state: %w", err)
	}
	if st.Held, err = s.heldEvents(ctx); err != nil {
		return st, fmt.Errorf("sqlite: load automation state: %w", err)
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT workspace_id, automation_id, trigger_id, bucketing_key, start, "end", count, last_event FROM automation_buckets`)
	if err != nil {
		return st, fmt.Errorf("sqlite: load buckets: %w", err)
	}
	for rows.Next() {
		var ws, a, t []byte
		var b store.AutomationBucket
		var start, end int64
		var last sql.NullString
		if err := rows.Scan(&ws, &a, &t, &b.Key, &start, &end, &b.Count, &last); err != nil {
			rows.Close()
			return st, fmt.Errorf("sqlite: load buckets: %w", err)
		}
		b.Workspace, _ = scanID(ws)
		b.Automation, _ = scanID(a)
		b.Trigger, _ = scanID(t)
		b.Start, b.End = time.UnixMicro(start).UTC(), time.UnixMicro(end).UTC()
		if last.Valid {
			b.LastEvent = json.RawMessage(last.String)
		}
		st.Buckets = append(st.Buckets, b)
	}
	if err := rows.Close(); err != nil {
		return st, err
	}
	rows, err = s.rdb.QueryContext(ctx, `SELECT workspace_id, automation_id, parent_trigger_id, child_trigger_id, firing_id, fired_at, firing FROM automation_child_firings`)
	if err != nil {
		return st, fmt.Errorf("sqlite: load child firings: %w", err)
	}
	for rows.Next() {
		var ws, a, p, c, f []byte
		var at int64
		var cf store.AutomationChildFiring
		var body string
		if err := rows.Scan(&ws, &a, &p, &c, &f, &at, &body); err != nil {
			rows.Close()
			return st, fmt.Errorf("sqlite: load child firings: %w", err)
		}
		cf.Workspace, _ = scanID(ws)
		cf.Automation, _ = scanID(a)
		cf.Parent, _ = scanID(p)
		cf.Child, _ = scanID(c)
		cf.FiringID, _ = scanID(f)
		cf.FiredAt = time.UnixMicro(at).UTC()
		cf.Firing = json.RawMessage(body)
		st.ChildFirings = append(st.ChildFirings, cf)
	}
	if err := rows.Close(); err != nil {
		return st, err
	}
	rows, err = s.rdb.QueryContext(ctx, `SELECT workspace_id, automation_id, trigger_id, state FROM automation_trigger_states`)
	if err != nil {
		return st, fmt.Errorf("sqlite: load trigger states: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ws, a, t []byte
		var ts store.AutomationTriggerState
		var body string
		if err := rows.Scan(&ws, &a, &t, &body); err != nil {
			return st, fmt.Errorf("sqlite: load trigger states: %w", err)
		}
		ts.Workspace, _ = scanID(ws)
		ts.Automation, _ = scanID(a)
		ts.Trigger, _ = scanID(t)
		ts.State = json.RawMessage(body)
		st.TriggerStates = append(st.TriggerStates, ts)
	}
	return st, rows.Err()
}

const automationExists = ` WHERE EXISTS (SELECT 1 FROM automations WHERE workspace_id = ? AND id = ?)`

// AutomationStateCommit writes one evaluation step atomically.
func (s *Store) AutomationStateCommit(ctx context.Context, c store.AutomationCommit) error {
	// Encoding is the costly part: do it before entering the writer.
	type wsRows struct {
		ws   model.ID
		rows []eventRow
	}
	var evRows []wsRows
	for _, we := range c.Events {
		rows, err := encodeEvents([]model.Event{we.Event}, s.now())
		if err != nil {
			return fmt.Errorf("sqlite: automation commit: %w", err)
		}
		evRows = append(evRows, wsRows{we.Workspace, rows})
	}
	err := s.write(ctx, func(tx *wtx) error {
		if c.Position != nil {
			if _, err := tx.exec(`INSERT INTO automation_engine (name, position) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET position = excluded.position`, automationEngine, *c.Position); err != nil {
				return err
			}
		}
		for _, seq := range c.Hold {
			if _, err := tx.exec(`INSERT INTO automation_engine (name, position) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, heldName(seq), seq); err != nil {
				return err
			}
		}
		for _, seq := range c.Release {
			if _, err := tx.exec(`DELETE FROM automation_engine WHERE name = ?`, heldName(seq)); err != nil {
				return err
			}
		}
		for _, k := range c.BucketsDropped {
			if _, err := tx.exec(`DELETE FROM automation_buckets WHERE workspace_id = ? AND automation_id = ? AND trigger_id = ?`,
				idv(k.Workspace), idv(k.Automation), idv(k.Trigger)); err != nil {
				return err
			}
		}
		for _, k := range c.BucketDeletes {
			if _, err := tx.exec(`DELETE FROM automation_buckets WHERE workspace_id = ? AND automation_id = ? AND trigger_id = ? AND bucketing_key = ?`,
				idv(k.Workspace), idv(k.Automation), idv(k.Trigger), k.Key); err != nil {
				return err
			}
		}
		for _, b := range c.Buckets {
			var last any
			if b.LastEvent != nil {
				last = string(b.LastEvent)
			}
			if _, err := tx.exec(`INSERT INTO automation_buckets (workspace_id, automation_id, trigger_id, bucketing_key, start, "end", count, last_event)
SELECT ?, ?, ?, ?, ?, ?, ?, ?`+automationExists+`
ON CONFLICT (workspace_id, automation_id, trigger_id, bucketing_key) DO UPDATE SET start = excluded.start, "end" = excluded."end", count = excluded.count, last_event = excluded.last_event`,
				idv(b.Workspace), idv(b.Automation), idv(b.Trigger), b.Key, b.Start.UnixMicro(), b.End.UnixMicro(), b.Count, last,
				idv(b.Workspace), idv(b.Automation)); err != nil {
				return err
			}
		}
		for _, k := range c.ChildFiringDeletes {
			if _, err := tx.exec(`DELETE FROM automation_child_firings WHERE workspace_id = ? AND automation_id = ? AND parent_trigger_id = ? AND child_trigger_id = ?`,
				idv(k.Workspace), idv(k.Automation), idv(k.Parent), idv(k.Child)); err != nil {
				return err
			}
		}
		for _, f := range c.ChildFirings {
			if _, err := tx.exec(`INSERT INTO automation_child_firings (workspace_id, automation_id, parent_trigger_id, child_trigger_id, firing_id, fired_at, firing)
SELECT ?, ?, ?, ?, ?, ?, ?`+automationExists+`
ON CONFLICT (workspace_id, automation_id, parent_trigger_id, child_trigger_id) DO UPDATE SET firing_id = excluded.firing_id, fired_at = excluded.fired_at, firing = excluded.firing`,
				idv(f.Workspace), idv(f.Automation), idv(f.Parent), idv(f.Child), idv(f.FiringID), f.FiredAt.UnixMicro(), string(f.Firing),
				idv(f.Workspace), idv(f.Automation)); err != nil {
				return err
			}
		}
		for _, t := range c.TriggerStates {
			if t.State == nil {
				if _, err := tx.exec(`DELETE FROM automation_trigger_states WHERE workspace_id = ? AND automation_id = ? AND trigger_id = ?`,
					idv(t.Workspace), idv(t.Automation), idv(t.Trigger)); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.exec(`INSERT INTO automation_trigger_states (workspace_id, automation_id, trigger_id, state)
SELECT ?, ?, ?, ?`+automationExists+`
ON CONFLICT (workspace_id, automation_id, trigger_id) DO UPDATE SET state = excluded.state`,
				idv(t.Workspace), idv(t.Automation), idv(t.Trigger), string(t.State), idv(t.Workspace), idv(t.Automation)); err != nil {
				return err
			}
		}
		for _, a := range c.Actions {
			if err := insertAction(tx, a); err != nil {
				return err
			}
		}
		for _, r := range evRows {
			if _, err := insertEvents(tx, r.ws, r.rows); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: automation commit: %w", err)
	}
	return nil
}

func insertAction(tx *wtx, a store.AutomationAction) error {
	t := a.Created
	if t.IsZero() {
		t = tx.s.now().Time
	}
	var result any
	if a.Result != nil {
		result = string(a.Result)
	}
	_, err := tx.exec(`INSERT INTO automation_actions (workspace_id, id, automation_id, status, attempts, next_attempt, created, updated, body, result)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		idv(a.Workspace), idv(a.ID), idv(a.Automation), a.Status, a.Attempts, a.NextAttempt.UnixMicro(), t.UnixMicro(), t.UnixMicro(), string(a.Body), result)
	return err
}

const actionColumns = `workspace_id, id, automation_id, status, attempts, next_attempt, created, updated, body, result`

func scanActions(rows *sql.Rows) ([]store.AutomationAction, error) {
	defer rows.Close()
	var out []store.AutomationAction
	for rows.Next() {
		var ws, id, aid []byte
		var next, created, updated int64
		var body string
		var result sql.NullString
		var a store.AutomationAction
		if err := rows.Scan(&ws, &id, &aid, &a.Status, &a.Attempts, &next, &created, &updated, &body, &result); err != nil {
			return nil, err
		}
		a.Workspace, _ = scanID(ws)
		a.ID, _ = scanID(id)
		a.Automation, _ = scanID(aid)
		a.NextAttempt, a.Created, a.Updated = time.UnixMicro(next).UTC(), time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
		a.Body = json.RawMessage(body)
		if result.Valid {
			a.Result = json.RawMessage(result.String)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AutomationActionsDue returns due pending actions, oldest first.
func (s *Store) AutomationActionsDue(ctx context.Context, now time.Time, limit int) ([]store.AutomationAction, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+actionColumns+`
FROM automation_actions WHERE status = ? AND next_attempt <= ? ORDER BY next_attempt, created LIMIT ?`, store.ActionPending, now.UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: due actions: %w", err)
	}
	out, err := scanActions(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: due actions: %w", err)
	}
	return out, nil
}

// AutomationActionsList returns an automation's actions, newest first.
func (s *Store) AutomationActionsList(ctx context.Context, ws, automation model.ID, limit int) ([]store.AutomationAction, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+actionColumns+`
FROM automation_actions WHERE workspace_id = ? AND automation_id = ? ORDER BY created DESC, id DESC LIMIT ?`, idv(ws), idv(automation), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list actions: %w", err)
	}
	out, err := scanActions(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list actions: %w", err)
	}
	return out, nil
}

// AutomationActionSave records an attempt's outcome with its events.
func (s *Store) AutomationActionSave(ctx context.Context, a store.AutomationAction, events []model.Event) error {
	rows, err := encodeEvents(events, s.now())
	if err != nil {
		return fmt.Errorf("sqlite: save action: %w", err)
	}
	var result any
	if a.Result != nil {
		result = string(a.Result)
	}
	err = s.write(ctx, func(tx *wtx) error {
		res, err := tx.exec(`UPDATE automation_actions SET status = ?, attempts = ?, next_attempt = ?, updated = ?, result = ? WHERE workspace_id = ? AND id = ?`,
			a.Status, a.Attempts, a.NextAttempt.UnixMicro(), tx.s.now().Micros(), result, idv(a.Workspace), idv(a.ID))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("automation action", a.ID)
		}
		_, err = insertEvents(tx, a.Workspace, rows)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: save action: %w", err)
	}
	return nil
}

// AutomationActionsPrune deletes old finished actions and closed buckets.
func (s *Store) AutomationActionsPrune(ctx context.Context, before, bucketsBefore time.Time) error {
	err := s.write(ctx, func(tx *wtx) error {
		if _, err := tx.exec(`DELETE FROM automation_actions WHERE status <> ? AND updated < ?`, store.ActionPending, before.UnixMicro()); err != nil {
			return err
		}
		_, err := tx.exec(`DELETE FROM automation_buckets WHERE "end" < ?`, bucketsBefore.UnixMicro())
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: prune automations: %w", err)
	}
	return nil
}

// EventsAfter returns every workspace's events after position seq.
func (s *Store) EventsAfter(ctx context.Context, seq int64, limit int) ([]store.SequencedEvent, error) {
	// Through the prepared-statement cache: the engine runs this after
	// every committed group of events, and parsing it anew each time was a
	// third of its cost.
	rows, err := s.query(ctx, `SELECT seq, workspace_id, event, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, seq, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: events after: %w", err)
	}
	defer rows.Close()
	var out []store.SequencedEvent
	for rows.Next() {
		var e store.SequencedEvent
		var ws []byte
		if err := rows.Scan(&e.Seq, &ws, &e.Name, &e.Body); err != nil {
			return nil, fmt.Errorf("sqlite: events after: %w", err)
		}
		e.Workspace, _ = scanID(ws)
		out = append(out, e)
	}
	return out, rows.Err()
}

// EventsHead returns the newest event's position.
func (s *Store) EventsHead(ctx context.Context) (int64, error) {
	var n int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: events head: %w", err)
	}
	return n, nil
}

// Held events are rows of automation_engine named held:<position>.
func heldName(seq int64) string { return "held:" + strconv.FormatInt(seq, 10) }

func (s *Store) heldEvents(ctx context.Context) ([]int64, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT position FROM automation_engine WHERE name LIKE 'held:%' ORDER BY position`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return nil, err
		}
		out = append(out, seq)
	}
	return out, rows.Err()
}

// EventSeq returns the position of a workspace's event.
func (s *Store) EventSeq(ctx context.Context, ws, id model.ID) (int64, error) {
	var seq sql.NullInt64
	err := s.rdb.QueryRowContext(ctx, `SELECT seq FROM events WHERE workspace_id = ? AND id = ?`, idv(ws), idv(id)).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite: event seq: %w", notFound("event", id.String()))
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: event seq: %w", err)
	}
	return seq.Int64, nil
}
