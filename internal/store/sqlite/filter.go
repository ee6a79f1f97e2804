package sqlite

import (
	"context"
	"database/sql"
	"math"
	"slices"
	"strings"

	"github.com/batonhq/baton/internal/model"
)

// expr is a SQL boolean fragment and the values bound to its placeholders.
// Filters are always built from exprs so no value is ever spliced into SQL.
type expr struct {
	sql  string
	args []any
}

func (e expr) empty() bool { return e.sql == "" }

// combine joins the non-empty parts with AND, or with OR when op is "or_"
// (the Prefect operator field); no parts means no constraint.
func combine(op string, parts ...expr) expr {
	sep := " AND "
	if op == "or_" {
		sep = " OR "
	}
	var sqls []string
	var args []any
	for _, p := range parts {
		if p.empty() {
			continue
		}
		sqls = append(sqls, p.sql)
		args = append(args, p.args...)
	}
	switch len(sqls) {
	case 0:
		return expr{}
	case 1:
		return expr{sql: sqls[0], args: args}
	}
	return expr{sql: "(" + strings.Join(sqls, sep) + ")", args: args}
}

// where renders e as a WHERE-clause continuation (" AND …") or nothing.
func (e expr) and() string {
	if e.empty() {
		return ""
	}
	return " AND " + e.sql
}

// in builds "col IN (?,…)"; an explicitly empty list matches nothing, as in
// Prefect, while a nil list is no constraint.
func in[T any](col string, vals []T, conv func(T) any, not bool) expr {
	if vals == nil {
		return expr{}
	}
	if len(vals) == 0 {
		if not {
			return expr{}
		}
		return expr{sql: "0"}
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = conv(v)
	}
	op := " IN ("
	if not {
		op = " NOT IN ("
	}
	return expr{sql: col + op + placeholders(len(vals)) + ")", args: args}
}

func idArg(id model.ID) any          { return idv(id) }
func strArg(s string) any            { return s }
func stateArg(t model.StateType) any { return string(t) }

// isNull builds "col IS [NOT] NULL" for an is_null_ flag.
func isNull(col string, v *bool) expr {
	if v == nil {
		return expr{}
	}
	if *v {
		return expr{sql: col + " IS NULL"}
	}
	return expr{sql: col + " IS NOT NULL"}
}

func idFilter(col string, f *model.IDFilter) expr {
	if f == nil {
		return expr{}
	}
	return combine("", in(col, f.Any, idArg, false), in(col, f.NotAny, idArg, true))
}

func optionalIDFilter(col string, f *model.OptionalIDFilter) expr {
	if f == nil {
		return expr{}
	}
	return combine(f.Operator, in(col, f.Any, idArg, false), isNull(col, f.IsNull))
}

// like is Prefect's like_: col ILIKE '%' || needle || '%', case-insensitive
// (for ASCII, as Prefect on SQLite) and without escaping, so '%' and '_' in
// the needle are wildcards exactly as in Prefect (its text searches use the
// same unescaped pattern). SQLite's LIKE has no escape character unless
// one is declared, so a backslash is an ordinary character.
func like(col string, needle *string) expr {
	if needle == nil {
		return expr{}
	}
	return expr{sql: "lower(" + col + ") LIKE lower('%' || ? || '%')", args: []any{*needle}}
}

func nameFilter(col string, f *model.NameFilter) expr {
	if f == nil {
		return expr{}
	}
	return combine("", in(col, f.Any, strArg, false), in(col, f.NotAny, strArg, true), like(col, f.Like), startsWith(col, f.StartsWith))
}

// startsWith is Prefect's startswith_: the name begins with any of the
// prefixes, case-insensitively (an empty list is no constraint, as
// Prefect's empty OR).
func startsWith(col string, prefixes []string) expr {
	parts := make([]expr, 0, len(prefixes))
	for _, p := range prefixes {
		parts = append(parts, expr{sql: "lower(" + col + ") LIKE lower(? || '%')", args: []any{p}})
	}
	return combine("or_", parts...)
}

func stringsFilter(col string, f *model.StringsFilter) expr {
	if f == nil {
		return expr{}
	}
	return combine(f.Operator, in(col, f.Any, strArg, false), in(col, f.NotAny, strArg, true), isNull(col, f.IsNull))
}

// tagsFilter matches a JSON-array tags column.
func tagsFilter(col string, f *model.TagsFilter) expr {
	if f == nil {
		return expr{}
	}
	var parts []expr
	if f.All != nil {
		all := slices.Clone(f.All)
		slices.Sort(all)
		all = slices.Compact(all)
		if len(all) > 0 {
			e := in("value", all, strArg, false)
			e.sql = "(SELECT count(DISTINCT value) FROM json_each(" + col + ") WHERE " + e.sql + ") = ?"
			e.args = append(e.args, len(all))
			parts = append(parts, e)
		}
	}
	if f.Any != nil {
		e := in("value", f.Any, strArg, false)
		if len(f.Any) > 0 {
			e.sql = "EXISTS (SELECT 1 FROM json_each(" + col + ") WHERE " + e.sql + ")"
		}
		parts = append(parts, e)
	}
	if f.IsNull != nil {
		if *f.IsNull {
			parts = append(parts, expr{sql: "json_array_length(" + col + ") = 0"})
		} else {
			parts = append(parts, expr{sql: "json_array_length(" + col + ") > 0"})
		}
	}
	return combine(f.Operator, parts...)
}

// runTagsFilter matches runs aliased a (fr or tr) by their tags through
// table (flow_run_tags or task_run_tags), whose primary key puts the runs of
// a tag in one index range: the runs carrying a tag are found without
// visiting the others. With scan it matches on each visited row's tags
// column instead (tagsFilter): better for a listing sorted by an index when
// the tag is common, since the walk down the sort index stops at the page's
// last run, where reading every run of a common tag and sorting them would
// not (runPlan decides).
func runTagsFilter(a, table string, ws model.ID, f *model.TagsFilter, scan bool) expr {
	if f == nil {
		return expr{}
	}
	if scan {
		return tagsFilter(a+".tags", f)
	}
	var parts []expr
	if f.All != nil {
		all := slices.Clone(f.All)
		slices.Sort(all)
		all = slices.Compact(all)
		if len(all) > 0 {
			e := in("t.tag", all, strArg, false)
			args := append([]any{idv(ws)}, e.args...)
			parts = append(parts, expr{
				sql:  a + ".id IN (SELECT t.run_id FROM " + table + " t WHERE t.workspace_id = ? AND " + e.sql + " GROUP BY t.run_id HAVING count(*) = ?)",
				args: append(args, len(all)),
			})
		}
	}
	if f.Any != nil {
		e := in("t.tag", f.Any, strArg, false)
		if len(f.Any) > 0 {
			e = expr{
				sql:  a + ".id IN (SELECT t.run_id FROM " + table + " t WHERE t.workspace_id = ? AND " + e.sql + ")",
				args: append([]any{idv(ws)}, e.args...),
			}
		}
		parts = append(parts, e)
	}
	if f.IsNull != nil {
		if *f.IsNull {
			parts = append(parts, expr{sql: "json_array_length(" + a + ".tags) = 0"})
		} else {
			parts = append(parts, expr{sql: "json_array_length(" + a + ".tags) > 0"})
		}
	}
	return combine(f.Operator, parts...)
}

// tagCount is the count of a run listing filtered by tags alone (the
// caller checks that nothing else narrows it), read from table
// (flow_run_tags or task_run_tags) without visiting the runs: those tables
// hold one row per (workspace, tag, run) of an existing run, kept by
// triggers. The general count reached each run through the IN-subquery and
// looked it up in its table, two B-tree searches per match (a tag on a third
// of 100,000 flow runs: 0.44 s at the median). ok is false for filters this
// does not cover (is_null_, any_ and all_ together, empty lists).
func tagCount(table string, ws model.ID, f *model.TagsFilter) (q string, args []any, ok bool) {
	if f == nil || f.IsNull != nil || (f.Any != nil) == (f.All != nil) {
		return "", nil, false
	}
	tags := slices.Clone(f.Any)
	if f.All != nil {
		tags = slices.Clone(f.All)
	}
	slices.Sort(tags)
	tags = slices.Compact(tags)
	if len(tags) == 0 {
		return "", nil, false
	}
	e := in("t.tag", tags, strArg, false)
	args = append([]any{idv(ws)}, e.args...)
	from := " FROM " + table + " t WHERE t.workspace_id = ? AND " + e.sql
	switch {
	case len(tags) == 1:
		return "SELECT count(*)" + from, args, true
	case f.Any != nil:
		return "SELECT count(DISTINCT t.run_id)" + from, args, true
	default:
		return "SELECT count(*) FROM (SELECT t.run_id" + from + " GROUP BY t.run_id HAVING count(*) = ?)", append(args, len(tags)), true
	}
}

// onlyNarrows reports whether where, built from a query, adds nothing to
// base (the workspace condition of an empty query).
func onlyNarrows(where, base expr) bool {
	return where.sql == base.sql && len(where.args) == len(base.args)
}

// fewRuns is the number of matching runs below which a filtered listing
// reads the matches through the filter's own index and sorts them (tens of
// milliseconds at most), rather than walking the sort's index and testing each run
// it passes. Walking the sort index is what SQLite chooses for ORDER BY …
// LIMIT when it has no statistics, and it is right for a common match (the
// page fills after a few hundred runs) but reads the whole workspace for a
// rare one: a deployment's runs among a million took seconds.
var fewRuns = 20000 // a variable so tests can lower it

// fewRunsFloor is the least threshold runPlan uses: sorting that many
// matches costs a few milliseconds whatever the table's size.
var fewRunsFloor = 1000 // a variable so tests can lower it

// fewRunsFor is the threshold of runPlan for a page ending at pageEnd
// (limit + offset; 0 when unlimited) over a table of about est runs. With
// m matches spread over the sort order, walking the sort index reads about
// pageEnd × est / m runs and sorting the matches reads m, so the walk wins
// once m² > pageEnd × est: a tag on a quarter of 30,000 runs fills a page of
// 50 after ~200 runs walked, where sorting read all 7,500 (and counting
// them first cost as much again). The threshold stays within
// [fewRunsFloor, fewRuns], so a rare match is never walked for.
func fewRunsFor(pageEnd int, est int64) int {
	if pageEnd <= 0 || est <= 0 {
		return fewRuns
	}
	t := int(math.Sqrt(float64(pageEnd) * float64(est)))
	return min(fewRuns, max(fewRunsFloor, t))
}

// runPlan decides how a filtered run listing is run. It counts the
// matching runs of where (over table, e.g. "flow_runs fr"), stopping at
// fewRunsFor(pageEnd, rows); a count without ORDER BY lets SQLite pick the
// filter's index. Below that it returns sorted(order): the order with every term behind
// a unary plus, which no index can serve, so SQLite reads the matches
// through the filter's index and sorts them. Otherwise it returns order
// unchanged and scan true: the listing should then match tags row by row
// (runTagsFilter) as it walks the sort index.
func (s *Store) runPlan(ctx context.Context, table string, where expr, unfiltered bool, order string, pageEnd int) (string, bool) {
	if unfiltered {
		return order, false
	}
	// The table's largest rowid bounds its row count (all workspaces; a
	// lookup at the B-tree's right edge, not a count).
	var est sql.NullInt64
	name, _, _ := strings.Cut(table, " ")
	_ = s.rdb.QueryRowContext(ctx, "SELECT max(rowid) FROM "+name).Scan(&est)
	few := fewRunsFor(pageEnd, est.Int64)
	var n int
	err := s.rdb.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM "+table+" WHERE "+where.sql+" LIMIT ?)",
		append(slices.Clone(where.args), few)...).Scan(&n)
	if err != nil || n >= few {
		return order, true
	}
	return sortedOrder(order), false
}

// sortedOrder puts a unary plus before each term of an ORDER BY list (terms
// are split at top-level commas; a term's ASC/DESC/NULLS suffix stays).
func sortedOrder(order string) string {
	var terms []string
	depth, last := 0, 0
	for i, c := range order {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				terms = append(terms, strings.TrimSpace(order[last:i]))
				last = i + 1
			}
		}
	}
	terms = append(terms, strings.TrimSpace(order[last:]))
	for i, t := range terms {
		terms[i] = "+" + t
	}
	return strings.Join(terms, ", ")
}

func timeFilter(col string, f *model.TimeFilter) expr {
	if f == nil {
		return expr{}
	}
	var parts []expr
	if f.Before != nil {
		parts = append(parts, expr{sql: col + " <= ?", args: []any{f.Before.Micros()}})
	}
	if f.After != nil {
		parts = append(parts, expr{sql: col + " >= ?", args: []any{f.After.Micros()}})
	}
	parts = append(parts, isNull(col, f.IsNull))
	return combine("", parts...)
}

func stateFilter(a string, f *model.StateFilter) expr {
	if f == nil {
		return expr{}
	}
	var typ expr
	if f.Type != nil {
		typ = combine("", in(a+"state_type", f.Type.Any, stateArg, false), in(a+"state_type", f.Type.NotAny, stateArg, true))
	}
	return combine(f.Operator, typ, stringsFilter(a+"state_name", f.Name))
}

// flowFilter narrows flows aliased f.
func flowFilter(ws model.ID, f *model.FlowFilter) expr {
	if f == nil {
		return expr{}
	}
	var dep expr
	if f.Deployment != nil && f.Deployment.IsNull != nil {
		dep = subquery("f.id", "d.flow_id", "deployments d", ws)
		if *f.Deployment.IsNull {
			dep.sql = "NOT " + dep.sql
		}
	}
	return combine(f.Operator, idFilter("f.id", f.ID), nameFilter("f.name", f.Name), tagsFilter("f.tags", f.Tags), dep)
}

// createdByFilter matches the created_by object of flow runs aliased fr.
func createdByFilter(f *model.CreatedByFilter) expr {
	if f == nil {
		return expr{}
	}
	idStr := func(id model.ID) any { return id.String() }
	return combine(f.Operator, in("json_extract(fr.body, '$.created_by.id')", f.ID, idStr, false),
		in("json_extract(fr.body, '$.created_by.type')", f.Type, strArg, false),
		isNull("json_extract(fr.body, '$.created_by')", f.IsNull))
}

// flowRunFilter narrows flow runs aliased fr.
func flowRunFilter(ws model.ID, f *model.FlowRunFilter) expr {
	return flowRunFilterTags(ws, f, false)
}

// flowRunFilterTags is flowRunFilter; scanTags matches tags on each row
// visited instead of through flow_run_tags (see runTagsFilter).
func flowRunFilterTags(ws model.ID, f *model.FlowRunFilter, scanTags bool) expr {
	if f == nil {
		return expr{}
	}
	var parent expr
	if p := f.ParentFlowRunID; p != nil {
		// A run's parent flow run is the flow run of its parent task run.
		var anyOf expr
		if p.Any != nil {
			anyOf = in("ptr.flow_run_id", p.Any, idArg, false)
			if len(p.Any) > 0 {
				anyOf = expr{
					sql:  "fr.parent_task_run_id IN (SELECT ptr.id FROM task_runs ptr WHERE ptr.workspace_id = ? AND " + anyOf.sql + ")",
					args: append([]any{idv(ws)}, anyOf.args...),
				}
			}
		}
		parent = combine(p.Operator, anyOf, isNull("fr.parent_task_run_id", p.IsNull))
	}
	return combine(f.Operator,
		idFilter("fr.id", f.ID),
		nameFilter("fr.name", f.Name),
		runTagsFilter("fr", "flow_run_tags", ws, f.Tags, scanTags),
		optionalIDFilter("fr.deployment_id", f.DeploymentID),
		stringsFilter("fr.work_queue_name", f.WorkQueueName),
		stateFilter("fr.", f.State),
		stringsFilter("fr.flow_version", f.FlowVersion),
		timeFilter("fr.start_time", f.StartTime),
		timeFilter("fr.end_time", f.EndTime),
		timeFilter("fr.expected_start_time", f.ExpectedStartTime),
		timeFilter("fr.next_scheduled_start_time", f.NextScheduledStartTime),
		parent,
		optionalIDFilter("fr.parent_task_run_id", f.ParentTaskRunID),
		stringsFilter("fr.idempotency_key", f.IdempotencyKey),
		createdByFilter(f.CreatedBy),
	)
}

// taskRunFilter narrows task runs aliased tr.
func taskRunFilter(ws model.ID, f *model.TaskRunFilter) expr {
	return taskRunFilterTags(ws, f, false)
}

// taskRunFilterTags is taskRunFilter; scanTags as in flowRunFilterTags.
func taskRunFilterTags(ws model.ID, f *model.TaskRunFilter, scanTags bool) expr {
	if f == nil {
		return expr{}
	}
	var sub expr
	if f.SubflowRuns != nil && f.SubflowRuns.Exists != nil {
		sub.sql = "EXISTS (SELECT 1 FROM flow_runs sfr WHERE sfr.workspace_id = tr.workspace_id AND sfr.parent_task_run_id = tr.id)"
		if !*f.SubflowRuns.Exists {
			sub.sql = "NOT " + sub.sql
		}
	}
	return combine(f.Operator,
		idFilter("tr.id", f.ID),
		nameFilter("tr.name", f.Name),
		runTagsFilter("tr", "task_run_tags", ws, f.Tags, scanTags),
		stateFilter("tr.", f.State),
		timeFilter("tr.start_time", f.StartTime),
		timeFilter("tr.end_time", f.EndTime),
		timeFilter("tr.expected_start_time", f.ExpectedStartTime),
		sub,
		optionalIDFilter("tr.flow_run_id", f.FlowRunID),
	)
}

// subquery wraps inner as "col IN (SELECT sel FROM table alias WHERE
// alias.workspace_id = ? AND …)".
func subquery(col, sel, from string, ws model.ID, inner ...expr) expr {
	e := combine("", inner...)
	alias := from[strings.LastIndexByte(from, ' ')+1:]
	return expr{
		sql:  col + " IN (SELECT " + sel + " FROM " + from + " WHERE " + alias + ".workspace_id = ?" + e.and() + ")",
		args: append([]any{idv(ws)}, e.args...),
	}
}

// flowsWhere is the WHERE clause of a flow listing: q.Flows, plus flows
// having a run that matches q.FlowRuns and q.TaskRuns.
func flowsWhere(ws model.ID, q model.RunQuery) expr {
	parts := []expr{{sql: "f.workspace_id = ?", args: []any{idv(ws)}}, flowFilter(ws, q.Flows)}
	if q.FlowRuns != nil || q.TaskRuns != nil || q.WorkPools != nil || q.WorkPoolQueues != nil || q.WorkQueues != nil {
		var trs expr
		if q.TaskRuns != nil {
			trs = subquery("fr.id", "tr.flow_run_id", "task_runs tr", ws, taskRunFilter(ws, q.TaskRuns))
		}
		inner := append([]expr{flowRunFilter(ws, q.FlowRuns), trs}, runNeighbours(ws, model.RunQuery{WorkPools: q.WorkPools, WorkPoolQueues: q.WorkPoolQueues, WorkQueues: q.WorkQueues})...)
		parts = append(parts, subquery("f.id", "fr.flow_id", "flow_runs fr", ws, inner...))
	}
	if q.Deployments != nil {
		// A flow matches when one of its deployments does (Prefect joins
		// flows to deployments, not through runs).
		parts = append(parts, subquery("f.id", "d.flow_id", "deployments d", ws, deploymentFilter(ws, q.Deployments)))
	}
	return combine("", parts...)
}

// flowRunsWhere is the WHERE clause of a flow-run listing: q.FlowRuns, runs
// of flows matching q.Flows, and runs having a task run matching q.TaskRuns.
func flowRunsWhere(ws model.ID, q model.RunQuery) expr {
	return flowRunsWhereTags(ws, q, false)
}

// flowRunsWhereTags is flowRunsWhere; scanTags as in flowRunFilterTags.
func flowRunsWhereTags(ws model.ID, q model.RunQuery, scanTags bool) expr {
	parts := []expr{{sql: "fr.workspace_id = ?", args: []any{idv(ws)}}, flowRunFilterTags(ws, q.FlowRuns, scanTags)}
	if q.Flows != nil {
		parts = append(parts, subquery("fr.flow_id", "f.id", "flows f", ws, flowFilter(ws, q.Flows)))
	}
	if q.TaskRuns != nil {
		parts = append(parts, subquery("fr.id", "tr.flow_run_id", "task_runs tr", ws, taskRunFilter(ws, q.TaskRuns)))
	}
	return combine("", append(parts, runNeighbours(ws, q)...)...)
}

// runNeighbours narrows flow runs (aliased fr) by their deployment and by
// the pool and queue they wait in, as Prefect joins them.
func runNeighbours(ws model.ID, q model.RunQuery) []expr {
	var parts []expr
	if q.Deployments != nil {
		parts = append(parts, subquery("fr.deployment_id", "d.id", "deployments d", ws, deploymentFilter(ws, q.Deployments)))
	}
	if q.WorkQueues != nil {
		parts = append(parts, subquery("fr.work_queue_ref", "json_extract(q.body, '$.id')", "work_queues q", ws, workQueueFilter(q.WorkQueues)))
	}
	if q.WorkPools != nil || q.WorkPoolQueues != nil {
		// work_queue_ref is the queue id as text (the run's JSON body).
		var pools expr
		if q.WorkPools != nil {
			pools = subquery("q.work_pool_id", "wp.id", "work_pools wp", ws, workPoolFilter(q.WorkPools))
		}
		parts = append(parts, subquery("fr.work_queue_ref", "json_extract(q.body, '$.id')", "work_queues q", ws, workQueueFilter(q.WorkPoolQueues), pools))
	}
	return parts
}

// taskRunsWhere is the WHERE clause of a task-run listing: q.TaskRuns, and
// task runs whose flow run matches q.FlowRuns and whose flow matches q.Flows.
func taskRunsWhere(ws model.ID, q model.RunQuery) expr {
	return taskRunsWhereTags(ws, q, false)
}

// taskRunsWhereTags is taskRunsWhere; scanTags as in flowRunFilterTags.
func taskRunsWhereTags(ws model.ID, q model.RunQuery, scanTags bool) expr {
	parts := []expr{{sql: "tr.workspace_id = ?", args: []any{idv(ws)}}, taskRunFilterTags(ws, q.TaskRuns, scanTags)}
	if q.FlowRuns != nil || q.Flows != nil || q.Deployments != nil || q.WorkPools != nil || q.WorkPoolQueues != nil || q.WorkQueues != nil {
		var flows expr
		if q.Flows != nil {
			flows = subquery("fr.flow_id", "f.id", "flows f", ws, flowFilter(ws, q.Flows))
		}
		inner := append([]expr{flowRunFilter(ws, q.FlowRuns), flows}, runNeighbours(ws, q)...)
		parts = append(parts, subquery("tr.flow_run_id", "fr.id", "flow_runs fr", ws, inner...))
	}
	return combine("", parts...)
}

// Sort orders per entity; every order ends on the id so pages are stable.
var (
	flowRunOrders = map[string]string{
		"ID_DESC":                       "fr.id DESC",
		"START_TIME_ASC":                "coalesce(fr.start_time, fr.expected_start_time) ASC NULLS LAST, fr.id",
		"START_TIME_DESC":               "coalesce(fr.start_time, fr.expected_start_time) DESC NULLS LAST, fr.id DESC",
		"EXPECTED_START_TIME_ASC":       "fr.expected_start_time ASC NULLS LAST, fr.id",
		"EXPECTED_START_TIME_DESC":      "fr.expected_start_time DESC NULLS LAST, fr.id DESC",
		"NAME_ASC":                      "fr.name ASC, fr.id",
		"NAME_DESC":                     "fr.name DESC, fr.id DESC",
		"NEXT_SCHEDULED_START_TIME_ASC": "fr.next_scheduled_start_time ASC NULLS LAST, fr.id",
		"END_TIME_DESC":                 "fr.end_time DESC NULLS LAST, fr.id DESC",
	}
	taskRunOrders = map[string]string{
		"ID_DESC":                       "tr.id DESC",
		"EXPECTED_START_TIME_ASC":       "tr.expected_start_time ASC NULLS LAST, tr.id",
		"EXPECTED_START_TIME_DESC":      "tr.expected_start_time DESC NULLS LAST, tr.id DESC",
		"NAME_ASC":                      "tr.name ASC, tr.id",
		"NAME_DESC":                     "tr.name DESC, tr.id DESC",
		"NEXT_SCHEDULED_START_TIME_ASC": "tr.next_scheduled_start_time ASC NULLS LAST, tr.id",
		"END_TIME_DESC":                 "tr.end_time DESC NULLS LAST, tr.id DESC",
	}
	flowOrders = map[string]string{
		"CREATED_DESC": "f.created DESC, f.id DESC",
		"UPDATED_DESC": "f.updated DESC, f.id DESC",
		"NAME_ASC":     "f.name ASC, f.id",
		"NAME_DESC":    "f.name DESC, f.id DESC",
	}
	logOrders = map[string]string{
		"TIMESTAMP_ASC":  "l.timestamp ASC, l.id",
		"TIMESTAMP_DESC": "l.timestamp DESC, l.id DESC",
	}
)

// orderBy picks the order for key, falling back to def for "" or unknown
// keys (the API validates keys against the model's sort lists).
func orderBy(orders map[string]string, key, def string) string {
	if o, ok := orders[key]; ok {
		return o
	}
	return orders[def]
}

// window renders LIMIT/OFFSET; a non-positive limit means the default 200.
// pageEnd is where the page of q ends in its listing: window's limit (200
// when none is given) plus the offset.
func pageEnd(q model.RunQuery) int {
	limit := q.Limit
	if limit <= 0 {
		limit = 200
	}
	return limit + max(q.Offset, 0)
}

func window(limit, offset int) (string, []any) {
	if limit <= 0 {
		limit = 200
	}
	return " LIMIT ? OFFSET ?", []any{limit, max(offset, 0)}
}
