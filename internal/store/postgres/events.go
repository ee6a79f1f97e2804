package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

const (
	// insertEventsSQL inserts a batch (arrays of equal length) and returns
	// the ids that were new. An event's position is the writing
	// transaction's id shifted left by 20 bits plus its rank in the
	// transaction (see seqHorizon).
	insertEventsSQL = `INSERT INTO events (workspace_id, id, occurred, received, event, resource_id, body, seq, origin)
SELECT $1, u.id, u.occurred, u.received, u.event, u.resource_id, u.body, (pg_current_xact_id()::text::bigint << 20) + u.n, $9
FROM unnest($2::uuid[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::json[], $8::bigint[])
    AS u(id, occurred, received, event, resource_id, body, n)
ON CONFLICT DO NOTHING RETURNING id`
	insertEventResourcesSQL = `INSERT INTO event_resources (workspace_id, event_id, resource_id, role, occurred)
SELECT $1, u.event_id, u.resource_id, u.role, u.occurred
FROM unnest($2::uuid[], $3::text[], $4::text[], $5::bigint[]) AS u(event_id, resource_id, role, occurred)
ON CONFLICT DO NOTHING`
	// seqHorizon is the lowest position a transaction still running could
	// write: every event below it is committed (or never will be), so a
	// reader that stops there never skips one.
	seqHorizon = `(pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20)`
	// maxEventsPerTx bounds the rank part of a position.
	maxEventsPerTx = 1 << 20
)

// eventRow is an event ready to insert: defaults applied, body encoded.
type eventRow struct {
	ev   model.Event
	body []byte
}

// encodeEvents prepares events for insertEvents (outside the writer when
// possible: encoding is the costly part).
func encodeEvents(events []model.Event, received model.Time) ([]eventRow, error) {
	rows := make([]eventRow, len(events))
	t := received
	for i, ev := range events {
		if ev.Received.IsZero() {
			ev.Received = t
		}
		body, err := json.Marshal(&ev)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", ev.ID, err)
		}
		rows[i] = eventRow{ev: ev, body: body}
	}
	return rows, nil
}

// insertEvents stores events (dropping ids already stored in ws) with one
// event_resources row per resource, in two multi-row statements, and
// returns the fresh ones.
func insertEvents(tx *wtx, ws model.ID, rows []eventRow) ([]model.Event, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	if tx.events+int64(len(rows)) >= maxEventsPerTx {
		return nil, fmt.Errorf("postgres: more than %d events in one transaction", maxEventsPerTx-1)
	}
	n := len(rows)
	ids := make([][16]byte, n)
	occurred := make([]int64, n)
	received := make([]int64, n)
	names := make([]string, n)
	resources := make([]string, n)
	bodies := make([]string, n)
	ranks := make([]int64, n)
	for i, row := range rows {
		ev := &row.ev
		ids[i] = [16]byte(ev.ID)
		occurred[i] = ev.Occurred.Micros()
		received[i] = ev.Received.Micros()
		names[i] = ev.Event
		resources[i] = ev.ResourceID()
		bodies[i] = string(row.body)
		ranks[i] = tx.events + int64(i) + 1
	}
	tx.events += int64(n)
	res, err := tx.tx.Query(tx.ctx, insertEventsSQL, idv(ws), ids, occurred, received, names, resources, bodies, ranks, tx.s.origin)
	if err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	fresh := map[model.ID]bool{}
	for res.Next() {
		var id []byte
		if err := res.Scan(&id); err != nil {
			res.Close()
			return nil, err
		}
		eid, err := scanID(id)
		if err != nil {
			res.Close()
			return nil, err
		}
		fresh[eid] = true
	}
	res.Close()
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	out := make([]model.Event, 0, len(fresh))
	var rEv [][16]byte
	var rID, rRole []string
	var rOcc []int64
	for _, row := range rows {
		ev := row.ev
		if !fresh[ev.ID] {
			continue
		}
		delete(fresh, ev.ID) // a repeated id in the batch counts once
		occ := ev.Occurred.Micros()
		rEv, rID, rRole, rOcc = append(rEv, [16]byte(ev.ID)), append(rID, ev.ResourceID()), append(rRole, ""), append(rOcc, occ)
		for _, r := range ev.Related {
			rEv, rID, rRole, rOcc = append(rEv, [16]byte(ev.ID)), append(rID, r["prefect.resource.id"]), append(rRole, r["prefect.resource.role"]), append(rOcc, occ)
		}
		out = append(out, ev)
	}
	if len(rEv) > 0 {
		if _, err := tx.tx.Exec(tx.ctx, insertEventResourcesSQL, idv(ws), rEv, rID, rRole, rOcc); err != nil {
			return nil, fmt.Errorf("insert event resources: %w", err)
		}
	}
	return out, nil
}

// EventInsert stores events and returns the ones not seen before.
func (s *Store) EventInsert(ctx context.Context, ws model.ID, events []model.Event) ([]model.Event, error) {
	rows, err := encodeEvents(events, s.now())
	if err != nil {
		return nil, fmt.Errorf("postgres: insert events: %w", err)
	}
	var fresh []model.Event
	err = s.writeRC(ctx, func(tx *wtx) error {
		var err error
		fresh, err = insertEvents(tx, ws, rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: insert events: %w", err)
	}
	if fresh == nil {
		fresh = []model.Event{}
	}
	return fresh, nil
}

// prefix matches col against any of the prefixes (byte-exact).
// noneIfEmpty turns an empty list into no constraint: Prefect's event
// filters test their lists for truth, so [] filters nothing out (unlike the
// run filters, where any_: [] matches nothing).
func noneIfEmpty(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

func prefix(col string, prefixes []string) expr {
	if prefixes == nil {
		return expr{}
	}
	var parts []expr
	for _, p := range prefixes {
		parts = append(parts, expr{sql: "left(" + col + ", ?::int) = ?::text", args: []any{utf8.RuneCountInString(p), p}})
	}
	if len(parts) == 0 {
		return expr{sql: "false"}
	}
	return combine("or_", parts...)
}

// labels matches resource labels under a JSON object (obj is the SQL
// expression of the resource object, of type json). Each label must match
// one of its values; values ending in '*' match a prefix and values starting
// with '!' exclude, as in Prefect's ResourceSpecification. Keys holding a
// double quote or a backslash never match (as on SQLite, where they cannot
// be addressed).
func labels(obj string, ls map[string][]string) expr {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []expr
	for _, k := range keys {
		if strings.ContainsAny(k, `"\`) {
			parts = append(parts, expr{sql: "false"})
			continue
		}
		v := "(" + obj + " ->> ?::text)"
		var pos, neg []expr
		for _, want := range ls[k] {
			not := strings.HasPrefix(want, "!")
			want = strings.TrimPrefix(want, "!")
			var m expr
			if p, ok := strings.CutSuffix(want, "*"); ok {
				m = expr{sql: "left(" + v + ", ?::int) = ?::text", args: []any{k, utf8.RuneCountInString(p), p}}
			} else {
				m = expr{sql: v + " = ?::text", args: []any{k, want}}
			}
			if not {
				neg = append(neg, m)
			} else {
				pos = append(pos, m)
			}
		}
		var e []expr
		if len(pos) > 0 {
			e = append(e, combine("or_", pos...))
		}
		for _, n := range neg {
			e = append(e, expr{sql: "coalesce(NOT " + n.sql + ", true)", args: n.args})
		}
		parts = append(parts, combine("", e...))
	}
	return combine("", parts...)
}

// Which resources of an event a resourceRows lookup considers.
const (
	anyRole     = iota // the primary resource and every related one
	primaryOnly        // the primary resource (stored with role '')
	relatedOnly        // related resources (role not empty)
)

// resourceRows matches events having an event_resources row that satisfies
// f (id, id prefix, role, [id, role] pairs) among the resources of kind.
func resourceRows(ws model.ID, f model.ResourceFilter, kind int) expr {
	var parts []expr
	switch kind {
	case primaryOnly:
		parts = append(parts, expr{sql: "er.role = ''"})
		f.Role, f.ResourcesInRoles = nil, nil
	case relatedOnly:
		parts = append(parts, expr{sql: "er.role <> ''"})
	}
	parts = append(parts, in("er.resource_id", noneIfEmpty(f.ID), strArg, false), prefix("er.resource_id", noneIfEmpty(f.IDPrefix)), in("er.role", noneIfEmpty(f.Role), strArg, false))
	if f.ResourcesInRoles != nil {
		var pairs []expr
		for _, p := range f.ResourcesInRoles {
			if len(p) == 2 {
				pairs = append(pairs, expr{sql: "(er.resource_id = ? AND er.role = ?)", args: []any{p[0], p[1]}})
			}
		}
		if len(pairs) == 0 {
			pairs = append(pairs, expr{sql: "false"})
		}
		parts = append(parts, combine("or_", pairs...))
	}
	if len(parts) == 1 && kind != anyRole {
		return expr{}
	}
	inner := combine("", parts...)
	if inner.empty() {
		return expr{}
	}
	return expr{sql: "e.id IN (SELECT er.event_id FROM event_resources er WHERE er.workspace_id = ?" + inner.and() + ")",
		args: append([]any{idv(ws)}, inner.args...)}
}

// relatedLabels matches events with one related resource carrying labels.
func relatedLabels(f model.ResourceFilter) expr {
	l := labels("j.value", f.Labels)
	if l.empty() {
		return expr{}
	}
	return expr{sql: "EXISTS (SELECT 1 FROM json_array_elements(e.body -> 'related') j WHERE " + l.sql + ")", args: l.args}
}

// eventWhere renders an EventFilter over events aliased e. Resource
// "distinct" is not applied here.
func eventWhere(ws model.ID, f model.EventFilter) expr {
	parts := []expr{{sql: "e.workspace_id = ?", args: []any{idv(ws)}}}
	if o := f.Occurred; o != nil {
		if o.Since != nil {
			parts = append(parts, expr{sql: "e.occurred >= ?", args: []any{o.Since.Micros()}})
		}
		if o.Until != nil {
			parts = append(parts, expr{sql: "e.occurred <= ?", args: []any{o.Until.Micros()}})
		}
	}
	if ev := f.Event; ev != nil {
		parts = append(parts, prefix("e.event", noneIfEmpty(ev.Prefix)), in("e.event", noneIfEmpty(ev.Name), strArg, false), in("e.event", ev.ExcludeName, strArg, true))
		if len(ev.ExcludePrefix) > 0 {
			p := prefix("e.event", ev.ExcludePrefix)
			parts = append(parts, expr{sql: "NOT " + p.sql, args: p.args})
		}
	}
	if r := f.Resource; r != nil {
		parts = append(parts, resourceRows(ws, *r, primaryOnly), labels("e.body -> 'resource'", r.Labels))
		if r.Role != nil {
			parts = append(parts, in("coalesce(e.body -> 'resource' ->> 'prefect.resource.role', '')", r.Role, strArg, false))
		}
	}
	for _, r := range f.Related {
		parts = append(parts, resourceRows(ws, r, relatedOnly), relatedLabels(r))
	}
	for _, r := range f.AnyResource {
		parts = append(parts, resourceRows(ws, r, anyRole))
		if l := labels("e.body -> 'resource'", r.Labels); !l.empty() {
			rl := relatedLabels(r)
			parts = append(parts, combine("or_", l, rl))
		}
	}
	if f.ID != nil {
		parts = append(parts, in("e.id", f.ID.ID, idArg, false))
	}
	if f.Text != nil && f.Text.Query != "" {
		parts = append(parts, like("e.body::text", &f.Text.Query))
	}
	return combine("", parts...)
}

// EventList returns one page of matching events and the total count.
func (s *Store) EventList(ctx context.Context, ws model.ID, f model.EventFilter, limit, offset int) (store.EventPage, error) {
	w := eventWhere(ws, f)
	order := "e.occurred ASC, e.id ASC"
	if strings.EqualFold(f.Order, "DESC") {
		order = "e.occurred DESC, e.id DESC"
	}
	win, wargs := window(limit, offset)
	evs, err := listBodies[model.Event](ctx, s, "SELECT e.body FROM events e WHERE "+w.sql+" ORDER BY "+order+win, append(w.args, wargs...))
	if err != nil {
		return store.EventPage{}, fmt.Errorf("postgres: list events: %w", err)
	}
	total, err := count(ctx, s, "SELECT count(*) FROM events e WHERE "+w.sql, w.args)
	if err != nil {
		return store.EventPage{}, fmt.Errorf("postgres: count events: %w", err)
	}
	return store.EventPage{Events: evs, Total: total}, nil
}

// maxTimeBuckets bounds how many empty buckets EventCountBy fills in.
const maxTimeBuckets = 1000

// EventCountBy groups matching events by event name, resource id, day or
// time bucket. Event and resource groups are ordered by count (descending);
// time groups chronologically, with empty buckets filled in between
// occurred.since and occurred.until when both are set.
func (s *Store) EventCountBy(ctx context.Context, ws model.ID, f model.EventFilter, countable string, bucket time.Duration) ([]store.EventCount, error) {
	w := eventWhere(ws, f)
	switch countable {
	case "event", "resource":
		col, label := "e.event", "e.event"
		if countable == "resource" {
			col, label = "e.resource_id", `coalesce(max(e.body -> 'resource' ->> 'prefect.resource.name'), e.resource_id)`
		}
		q := "SELECT " + col + ", " + label + ", count(*), min(e.occurred), max(e.occurred) FROM events e WHERE " + w.sql +
			" GROUP BY " + col + " ORDER BY count(*) DESC, " + col
		rows, err := s.query(ctx, q, w.args...)
		if err != nil {
			return nil, fmt.Errorf("postgres: count events: %w", err)
		}
		defer rows.Close()
		out := []store.EventCount{}
		for rows.Next() {
			var c store.EventCount
			var lo, hi int64
			if err := rows.Scan(&c.Value, &c.Label, &c.Count, &lo, &hi); err != nil {
				return nil, fmt.Errorf("postgres: count events: %w", err)
			}
			c.StartTime, c.EndTime = model.TimeFromMicros(lo), model.TimeFromMicros(hi)
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("postgres: count events: %w", err)
		}
		return out, nil
	case "day", "time":
	default:
		return nil, fmt.Errorf("postgres: count events by %q: unknown countable", countable)
	}
	width := bucket
	var origin int64
	if countable == "day" {
		width = 24 * time.Hour
	}
	if width <= 0 {
		return nil, fmt.Errorf("postgres: count events by time: bucket width must be positive")
	}
	wus := width.Microseconds()
	var since, until *model.Time
	if f.Occurred != nil {
		since, until = f.Occurred.Since, f.Occurred.Until
	}
	if since != nil {
		origin = since.Micros()
		if countable == "day" {
			origin = since.Truncate(24 * time.Hour).UnixMicro()
		}
	}
	// Floor division that is also right for instants before the origin.
	q := "SELECT b, count(*) FROM (SELECT CASE WHEN e.occurred >= ?1::bigint THEN (e.occurred - ?1::bigint) / ?2::bigint ELSE -(((?1::bigint - e.occurred) + ?2::bigint - 1) / ?2::bigint) END AS b FROM events e WHERE " +
		w.sql + ") AS t GROUP BY b ORDER BY b"
	// ?1 and ?2 are numbered; the filter's own ? marks continue from 3.
	rows, err := s.query(ctx, q, append([]any{origin, wus}, w.args...)...)
	if err != nil {
		return nil, fmt.Errorf("postgres: count events: %w", err)
	}
	defer rows.Close()
	counts := map[int64]int{}
	var keys []int64
	for rows.Next() {
		var b int64
		var n int
		if err := rows.Scan(&b, &n); err != nil {
			return nil, fmt.Errorf("postgres: count events: %w", err)
		}
		counts[b] = n
		keys = append(keys, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: count events: %w", err)
	}
	if since != nil && until != nil {
		last := (until.Micros() - origin) / wus
		if last >= 0 && last < maxTimeBuckets {
			keys = keys[:0]
			for b := int64(0); b <= last; b++ {
				keys = append(keys, b)
			}
		}
	}
	out := make([]store.EventCount, 0, len(keys))
	for _, b := range keys {
		start := model.TimeFromMicros(origin + b*wus)
		end := model.TimeFromMicros(origin + (b+1)*wus - 1)
		v := start.UTC().Format(model.TimeLayout)
		out = append(out, store.EventCount{Value: v, Label: v, Count: counts[b], StartTime: start, EndTime: end})
	}
	return out, nil
}
