package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// CopyReport is what Import moved: rows per table, in copy order.
type CopyReport struct {
	Tables []CopiedTable
}

// CopiedTable is one table's row count, equal in source and target.
type CopiedTable struct {
	Name string
	Rows int64
}

// Rows is the total number of rows copied.
func (r CopyReport) Rows() int64 {
	var n int64
	for _, t := range r.Tables {
		n += t.Rows
	}
	return n
}

// userTables are the tables whose rows mean the database has been used;
// Import refuses a target that holds any.
var userTables = []string{"flows", "flow_runs", "task_runs", "deployments", "events", "logs", "work_pools", "variables",
	"block_documents", "artifacts", "automations", "users"}

type copyColumn struct {
	name, typ string
	nullable  bool
}

// Import copies every row of an SQLite Baton database (src, opened with
// database/sql and migrated to the schema this binary embeds) into this
// store's database, which must be freshly migrated and unused: the rows the
// migrations seeded are replaced by the source's. Everything happens in one
// transaction, tables in foreign-key order, through COPY; before it commits
// the row count of every table is compared with the source's, so the
// target either holds exactly the source's rows or nothing changed.
// Identifiers, timestamps, states and event positions are kept as they are.
func (s *Store) Import(ctx context.Context, src *sql.DB) (CopyReport, error) {
	var rep CopyReport
	cols, err := s.copyColumns(ctx)
	if err != nil {
		return rep, err
	}
	order, err := s.copyOrder(ctx, cols)
	if err != nil {
		return rep, err
	}
	if err := checkSource(ctx, src, cols); err != nil {
		return rep, err
	}
	var used []string
	for _, t := range userTables {
		var n int64
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{t}.Sanitize()).Scan(&n); err != nil {
			return rep, fmt.Errorf("postgres: import: count %s: %w", t, err)
		}
		if n > 0 {
			used = append(used, fmt.Sprintf("%d %s", n, t))
		}
	}
	if len(used) > 0 {
		return rep, fmt.Errorf("postgres: import: the target database is in use (%s); copy into a freshly created, empty database", strings.Join(used, ", "))
	}

	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return rep, fmt.Errorf("postgres: import: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// No statement timeout for the copy: a big installation takes longer
	// than a request does.
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return rep, fmt.Errorf("postgres: import: %w", err)
	}
	names := make([]string, len(order))
	for i, t := range order {
		names[i] = pgx.Identifier{t}.Sanitize()
	}
	if _, err := tx.Exec(ctx, `TRUNCATE `+strings.Join(names, ", ")+` CASCADE`); err != nil {
		return rep, fmt.Errorf("postgres: import: empty the target: %w", err)
	}
	for _, t := range order {
		n, err := copyTable(ctx, tx, src, t, cols[t])
		if err != nil {
			return rep, err
		}
		var want int64
		if err := src.QueryRowContext(ctx, `SELECT count(*) FROM "`+t+`"`).Scan(&want); err != nil {
			return rep, fmt.Errorf("postgres: import: count source %s: %w", t, err)
		}
		var got int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{t}.Sanitize()).Scan(&got); err != nil {
			return rep, fmt.Errorf("postgres: import: count %s: %w", t, err)
		}
		if got != want || n != want {
			return rep, fmt.Errorf("postgres: import: %s: the source has %d rows, %d were copied and the target holds %d; nothing was changed", t, want, n, got)
		}
		rep.Tables = append(rep.Tables, CopiedTable{Name: t, Rows: got})
	}
	if err := tx.Commit(ctx); err != nil {
		return CopyReport{}, fmt.Errorf("postgres: import: commit: %w", err)
	}
	return rep, nil
}

// copyColumns lists each table's columns that take values (not generated,
// not identities), with their types. task_run_claims exists only on
// PostgreSQL (the replicas' claims of background task runs) and starts empty.
func (s *Store) copyColumns(ctx context.Context) (map[string][]copyColumn, error) {
	rows, err := s.pool.Query(ctx, `SELECT table_name, column_name, data_type, is_nullable = 'YES' FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name NOT IN ('schema_migrations', 'task_run_claims') AND is_generated = 'NEVER' AND is_identity = 'NO'
ORDER BY table_name, ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("postgres: import: read schema: %w", err)
	}
	defer rows.Close()
	out := map[string][]copyColumn{}
	for rows.Next() {
		var t string
		var c copyColumn
		if err := rows.Scan(&t, &c.name, &c.typ, &c.nullable); err != nil {
			return nil, err
		}
		out[t] = append(out[t], c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("postgres: import: the target database has no Baton schema")
	}
	return out, nil
}

// copyOrder sorts the tables so that every table comes after those its
// foreign keys reference.
func (s *Store) copyOrder(ctx context.Context, cols map[string][]copyColumn) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = current_schema()`)
	if err != nil {
		return nil, fmt.Errorf("postgres: import: read foreign keys: %w", err)
	}
	defer rows.Close()
	deps := map[string][]string{}
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			return nil, err
		}
		if from != to {
			deps[from] = append(deps[from], to)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	tables := make([]string, 0, len(cols))
	for t := range cols {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(t string) error
	visit = func(t string) error {
		switch state[t] {
		case 1:
			return fmt.Errorf("postgres: import: foreign keys form a cycle through %s", t)
		case 2:
			return nil
		}
		state[t] = 1
		for _, d := range deps[t] {
			if _, ok := cols[d]; ok {
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		state[t] = 2
		order = append(order, t)
		return nil
	}
	for _, t := range tables {
		if err := visit(t); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// sqliteDerived lists SQLite tables that hold only what other tables
// determine: the run tag tables, which SQLite's triggers fill from the runs'
// tags columns (PostgreSQL indexes the tags arrays themselves).
const sqliteDerived = `'flow_run_tags', 'task_run_tags'`

// checkSource makes sure the source has every table and column the target
// takes, and nothing the target would drop. Columns only PostgreSQL has
// and may leave NULL (events.origin) are left out of the copy, and so are
// SQLite's derived tables (sqliteDerived).
func checkSource(ctx context.Context, src *sql.DB, cols map[string][]copyColumn) error {
	rows, err := src.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'
AND name NOT IN (`+sqliteDerived+`)`)
	if err != nil {
		return fmt.Errorf("postgres: import: read the source's schema: %w", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	var problems []string
	seen := map[string]bool{}
	for _, t := range tables {
		seen[t] = true
		want, ok := cols[t]
		if !ok {
			problems = append(problems, fmt.Sprintf("table %s has no counterpart in PostgreSQL", t))
			continue
		}
		have := map[string]bool{}
		crs, err := src.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, t)
		if err != nil {
			return fmt.Errorf("postgres: import: read the source's columns of %s: %w", t, err)
		}
		for crs.Next() {
			var c string
			if err := crs.Scan(&c); err != nil {
				crs.Close()
				return err
			}
			have[c] = true
		}
		crs.Close()
		kept := want[:0:0]
		for _, c := range want {
			switch {
			case have[c.name]:
				kept = append(kept, c)
			case !c.nullable:
				problems = append(problems, fmt.Sprintf("column %s.%s is missing from the source", t, c.name))
			}
			delete(have, c.name)
		}
		cols[t] = kept
		for c := range have {
			problems = append(problems, fmt.Sprintf("column %s.%s has no counterpart in PostgreSQL", t, c))
		}
	}
	for t := range cols {
		if !seen[t] {
			problems = append(problems, fmt.Sprintf("table %s is missing from the source", t))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("postgres: import: the source's schema does not match this Baton's: %s", strings.Join(problems, "; "))
	}
	return nil
}

// copyTable streams one table through COPY, in the source's insertion
// order (state histories keep their sequence).
func copyTable(ctx context.Context, tx pgx.Tx, src *sql.DB, table string, cols []copyColumn) (int64, error) {
	quoted := make([]string, len(cols))
	names := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + c.name + `"`
		names[i] = c.name
	}
	q := `SELECT ` + strings.Join(quoted, ", ") + ` FROM "` + table + `"`
	rows, err := src.QueryContext(ctx, q+` ORDER BY rowid`)
	if err != nil {
		// WITHOUT ROWID tables keep no insertion order.
		rows, err = src.QueryContext(ctx, q)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: import: read %s: %w", table, err)
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{table}, names, pgx.CopyFromFunc(func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out := make([]any, len(cols))
		for i, c := range cols {
			v, err := convert(vals[i], c.typ)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", table, c.name, err)
			}
			out[i] = v
		}
		return out, nil
	}))
	if err != nil {
		return 0, fmt.Errorf("postgres: import: copy %s: %w", table, err)
	}
	return n, nil
}

// convert turns an SQLite value into what the PostgreSQL column takes.
func convert(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "uuid":
		b, ok := v.([]byte)
		if !ok || len(b) != 16 {
			return nil, fmt.Errorf("not a 16-byte id: %v", v)
		}
		var id [16]byte
		copy(id[:], b)
		return id, nil
	case "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		}
		return nil, fmt.Errorf("not a boolean: %v", v)
	case "json", "jsonb":
		switch x := v.(type) {
		case string:
			return []byte(x), nil
		case []byte:
			return append([]byte(nil), x...), nil
		}
		return nil, fmt.Errorf("not JSON text: %T", v)
	case "double precision", "real":
		switch x := v.(type) {
		case int64:
			return float64(x), nil
		case float64:
			return x, nil
		}
		return nil, fmt.Errorf("not a number: %v", v)
	case "text":
		if b, ok := v.([]byte); ok {
			return string(b), nil
		}
		return v, nil
	case "bytea":
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
		if b, ok := v.([]byte); ok {
			return append([]byte(nil), b...), nil
		}
		return v, nil
	}
	return v, nil
}
