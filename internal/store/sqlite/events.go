package sqlite

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// Events are inserted with multi-row INSERTs: one statement per chunk of
// rows instead of one per row, which is most of what the driver costs per
// event. Chunks are cut greedily from insertChunks so that only a handful of
// statement texts exist (each prepared once per process).
var insertChunks = [...]int{64, 16, 4, 1}

// eventCols and resourceCols are the bound columns of one row of each table.
const (
	eventCols    = 8
	resourceCols = 5
)

var (
	insertEventSQL    [len(insertChunks)]string
	insertResourceSQL [len(insertChunks)]string
)

func init() {
	for i, n := range insertChunks {
		insertEventSQL[i] = multiRowSQL(`INSERT INTO events (workspace_id, id, occurred, received, event, resource_id, body, seq) VALUES `, eventCols, n, ` ON CONFLICT DO NOTHING`)
		insertResourceSQL[i] = multiRowSQL(`INSERT OR IGNORE INTO event_resources (workspace_id, event_id, resource_id, role, occurred) VALUES `, resourceCols, n, ``)
	}
}

// multiRowSQL is head followed by n tuples of cols placeholders, then tail.
func multiRowSQL(head string, cols, n int, tail string) string {
	var b strings.Builder
	b.WriteString(head)
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	b.WriteString(tail)
	return b.String()
}

// chunkOf returns the index into insertChunks of the largest chunk that
// fits in left rows.
func chunkOf(left int) int {
	for i, n := range insertChunks {
		if n <= left {
			return i
		}
	}
	return len(insertChunks) - 1
}

// eventRow is an event ready to insert: defaults applied, body encoded.
type eventRow struct {
	ev   model.Event
	body []byte
}

// encodeEvents prepares events for insertEvents (outside the writer when
// possible: encoding is the costly part).
func encodeEvents(events []model.Event, received model.Time) ([]eventRow, error) {
	rows := make([]eventRow, len(events))
	// One buffer holds every body (sliced once it stops growing).
	buf := make([]byte, 0, 320*len(events))
	ends := make([]int, len(events))
	for i, ev := range events {
		if ev.Received.IsZero() {
			ev.Received = received
		}
		var err error
		if buf, err = appendEventJSON(buf, &ev); err != nil {
			return nil, fmt.Errorf("event %s: %w", ev.ID, err)
		}
		ends[i] = len(buf)
		rows[i] = eventRow{ev: ev}
	}
	start := 0
	for i := range rows {
		rows[i].body = buf[start:ends[i]:ends[i]]
		start = ends[i]
	}
	return rows, nil
}

// insertEvents stores events (dropping ids already stored in ws) with one
// event_resources row per resource, and returns the fresh ones.
//
// Positions (seq) are handed out by the one writer before the insert, so
// they grow in commit order; a duplicate or a rolled-back insert leaves a
// gap, never a reordering.
func insertEvents(tx *wtx, ws model.ID, rows []eventRow) ([]model.Event, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	wsv := idv(ws)
	fresh := make([]model.Event, 0, len(rows))
	args := make([]any, 0, insertChunks[0]*eventCols)
	var resArgs []any
	resRows := 0
	flushResources := func(final bool) error {
		for resRows > 0 && (final || resRows >= insertChunks[0]) {
			c := chunkOf(resRows)
			n := insertChunks[c]
			if _, err := tx.exec(insertResourceSQL[c], resArgs[:n*resourceCols]...); err != nil {
				return err
			}
			resArgs = append(resArgs[:0], resArgs[n*resourceCols:]...)
			resRows -= n
		}
		return nil
	}
	for left := rows; len(left) > 0; {
		c := chunkOf(len(left))
		chunk := left[:insertChunks[c]]
		left = left[len(chunk):]
		args = args[:0]
		first := tx.s.eventSeq + 1
		for i := range chunk {
			ev := &chunk[i].ev
			args = append(args, wsv, idv(ev.ID), ev.Occurred.Micros(), ev.Received.Micros(), ev.Event, ev.ResourceID(), chunk[i].body, first+int64(i))
		}
		res, err := tx.exec(insertEventSQL[c], args...)
		if err != nil {
			return nil, fmt.Errorf("events %s…: %w", chunk[0].ev.ID, err)
		}
		tx.s.eventSeq += int64(len(chunk))
		stored := func(int) bool { return true }
		if n, _ := res.RowsAffected(); n != int64(len(chunk)) {
			// Some ids were stored before (or twice in this chunk): the
			// rows carrying this chunk's positions are the fresh ones.
			mine, err := chunkSeqs(tx, ws, chunk, first)
			if err != nil {
				return nil, err
			}
			stored = func(i int) bool { return mine[first+int64(i)] }
		}
		for i := range chunk {
			if !stored(i) {
				continue
			}
			ev := &chunk[i].ev
			occurred := ev.Occurred.Micros()
			eid := idv(ev.ID)
			resArgs = append(resArgs, wsv, eid, ev.ResourceID(), "", occurred)
			resRows++
			for _, r := range ev.Related {
				resArgs = append(resArgs, wsv, eid, r["prefect.resource.id"], r["prefect.resource.role"], occurred)
				resRows++
			}
			fresh = append(fresh, *ev)
		}
		if err := flushResources(false); err != nil {
			return nil, err
		}
	}
	if err := flushResources(true); err != nil {
		return nil, err
	}
	return fresh, nil
}

// chunkSeqs returns which of the positions first.. first+len(chunk)-1 the
// chunk's ids are stored with.
func chunkSeqs(tx *wtx, ws model.ID, chunk []eventRow, first int64) (map[int64]bool, error) {
	mine := make(map[int64]bool, len(chunk))
	for i := range chunk {
		var seq int64
		err := tx.queryRow(`SELECT seq FROM events WHERE workspace_id = ? AND id = ?`, idv(ws), idv(chunk[i].ev.ID)).Scan(&seq)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", chunk[i].ev.ID, err)
		}
		if seq >= first && seq < first+int64(len(chunk)) {
			mine[seq] = true
		}
	}
	return mine, nil
}

// EventInsert stores events and returns the ones not seen before.
func (s *Store) EventInsert(ctx context.Context, ws model.ID, events []model.Event) ([]model.Event, error) {
	rows, err := encodeEvents(events, s.now())
	if err != nil {
		return nil, fmt.Errorf("sqlite: insert events: %w", err)
	}
	var fresh []model.Event
	err = s.write(ctx, func(tx *wtx) error {
		var err error
		fresh, err = insertEvents(tx, ws, rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: insert events: %w", err)
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
		parts = append(parts, expr{sql: "substr(" + col + ", 1, ?) = ?", args: []any{utf8.RuneCountInString(p), p}})
	}
	if len(parts) == 0 {
		return expr{sql: "0"}
	}
	return combine("or_", parts...)
}

// labelPath is the JSON path of a label inside a resource object; labels
// containing a double quote cannot be addressed and never match.
func labelPath(base, key string) (string, bool) {
	if strings.ContainsAny(key, `"\`) {
		return "", false
	}
	return base + `."` + key + `"`, true
}

// labels matches resource labels under a JSON object (json is the SQL
// expression of the resource object). Each label must match one of its
// values; values ending in '*' match a prefix and values starting with '!'
// exclude, as in Prefect's ResourceSpecification.
func labels(obj string, ls map[string][]string) expr {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []expr
	for _, k := range keys {
		path, ok := labelPath("$", k)
		if !ok {
			parts = append(parts, expr{sql: "0"})
			continue
		}
		v := expr{sql: "json_extract(" + obj + ", ?)", args: []any{path}}
		var pos, neg []expr
		for _, want := range ls[k] {
			not := strings.HasPrefix(want, "!")
			want = strings.TrimPrefix(want, "!")
			var m expr
			if p, ok := strings.CutSuffix(want, "*"); ok {
				m = expr{sql: "substr(" + v.sql + ", 1, ?) = ?", args: []any{path, utf8.RuneCountInString(p), p}}
			} else {
				m = expr{sql: v.sql + " = ?", args: []any{path, want}}
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
			e = append(e, expr{sql: "coalesce(NOT " + n.sql + ", 1)", args: n.args})
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
			pairs = append(pairs, expr{sql: "0"})
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
	return expr{sql: "EXISTS (SELECT 1 FROM json_each(e.body, '$.related') j WHERE " + l.sql + ")", args: l.args}
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
		parts = append(parts, resourceRows(ws, *r, primaryOnly), labels("json_extract(e.body, '$.resource')", r.Labels))
		if r.Role != nil {
			parts = append(parts, in("coalesce(json_extract(e.body, '$.resource.\"prefect.resource.role\"'), '')", r.Role, strArg, false))
		}
	}
	for _, r := range f.Related {
		parts = append(parts, resourceRows(ws, r, relatedOnly), relatedLabels(r))
	}
	for _, r := range f.AnyResource {
		parts = append(parts, resourceRows(ws, r, anyRole))
		if l := labels("json_extract(e.body, '$.resource')", r.Labels); !l.empty() {
			rl := relatedLabels(r)
			parts = append(parts, combine("or_", l, rl))
		}
	}
	if f.ID != nil {
		parts = append(parts, in("e.id", f.ID.ID, idArg, false))
	}
	if f.Text != nil && f.Text.Query != "" {
		parts = append(parts, like("e.body", &f.Text.Query))
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
	evs, err := listBodies[model.Event](ctx, s.rdb, "SELECT e.body FROM events e WHERE "+w.sql+" ORDER BY "+order+win, append(w.args, wargs...))
	if err != nil {
		return store.EventPage{}, fmt.Errorf("sqlite: list events: %w", err)
	}
	total, err := count(ctx, s.rdb, "SELECT count(*) FROM events e WHERE "+w.sql, w.args)
	if err != nil {
		return store.EventPage{}, fmt.Errorf("sqlite: count events: %w", err)
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
			col, label = "e.resource_id", `coalesce(max(json_extract(e.body, '$.resource."prefect.resource.name"')), e.resource_id)`
		}
		q := "SELECT " + col + ", " + label + ", count(*), min(e.occurred), max(e.occurred) FROM events e WHERE " + w.sql +
			" GROUP BY " + col + " ORDER BY count(*) DESC, " + col
		rows, err := s.rdb.QueryContext(ctx, q, w.args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: count events: %w", err)
		}
		defer rows.Close()
		out := []store.EventCount{}
		for rows.Next() {
			var c store.EventCount
			var lo, hi int64
			if err := rows.Scan(&c.Value, &c.Label, &c.Count, &lo, &hi); err != nil {
				return nil, fmt.Errorf("sqlite: count events: %w", err)
			}
			c.StartTime, c.EndTime = model.TimeFromMicros(lo), model.TimeFromMicros(hi)
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: count events: %w", err)
		}
		return out, nil
	case "day", "time":
	default:
		return nil, fmt.Errorf("sqlite: count events by %q: unknown countable", countable)
	}
	width := bucket
	var origin int64
	if countable == "day" {
		width = 24 * time.Hour
	}
	if width <= 0 {
		return nil, fmt.Errorf("sqlite: count events by time: bucket width must be positive")
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
	q := "SELECT b, count(*) FROM (SELECT CASE WHEN e.occurred >= ?1 THEN (e.occurred - ?1) / ?2 ELSE -(((?1 - e.occurred) + ?2 - 1) / ?2) END AS b FROM events e WHERE " +
		w.sql + ") GROUP BY b ORDER BY b"
	// ?1 and ?2 are numbered; the filter's own ? marks continue from 3.
	rows, err := s.rdb.QueryContext(ctx, q, append([]any{origin, wus}, w.args...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: count events: %w", err)
	}
	defer rows.Close()
	counts := map[int64]int{}
	var keys []int64
	for rows.Next() {
		var b int64
		var n int
		if err := rows.Scan(&b, &n); err != nil {
			return nil, fmt.Errorf("sqlite: count events: %w", err)
		}
		counts[b] = n
		keys = append(keys, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: count events: %w", err)
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
