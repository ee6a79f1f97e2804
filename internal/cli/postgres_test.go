package cli

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/internal/pgtest"
	"github.com/batonhq/baton/internal/store/sqlite"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	os.Exit(code)
}

// pgDatabase returns the URL of a fresh, empty database on the test
// cluster (started on first use).
func pgDatabase(t *testing.T) string {
	t.Helper()
	c, err := pgtest.Shared()
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.CreateDatabase(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// startServerOn runs `baton server start` with the given extra arguments
// until stop is called (or the test ends) and returns its API URL.
func startServerOn(t *testing.T, home string, args ...string) (api string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, logs := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	env := Env{Stdin: strings.NewReader(""), Stdout: out, Stderr: logs, Getenv: func(k string) string {
		return map[string]string{"BATON_HOME": home}[k]
	}}
	go func() {
		done <- Run(ctx, env, append([]string{"server", "start", "--host", "127.0.0.1", "--port", "0", "--home", home, "--log-level", "warn"}, args...))
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("server did not stop")
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := bannerAPI.FindStringSubmatch(out.String()); m != nil {
			return m[1], stop
		}
		select {
		case code := <-done:
			t.Fatalf("server exited with %d:\n%s\n%s", code, out.String(), logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no banner within 60s:\n%s\n%s", out.String(), logs.String())
	return "", nil
}

// call sends a JSON request and decodes the JSON answer into out (when not
// nil), failing the test on any status but want.
func call(t *testing.T, method, url string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s (want %d)", method, url, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
}

// Two servers on one PostgreSQL database serve the same data; one of them
// runs the background services.
func TestServerOnPostgres(t *testing.T) {
	url := pgDatabase(t)
	api1, _ := startServerOn(t, t.TempDir(), "--database-url", url)
	api2, _ := startServerOn(t, t.TempDir(), "--database-url", url)
	call(t, "GET", api1+"/ready", nil, 200, nil)
	var flow struct{ ID string }
	call(t, "POST", api1+"/flows/", map[string]any{"name": "on-postgres"}, 201, &flow)
	var got struct{ Name string }
	call(t, "GET", api2+"/flows/"+flow.ID, nil, 200, &got)
	if got.Name != "on-postgres" {
		t.Fatalf("second replica read %q", got.Name)
	}
}

// `baton migrate up` and `validate` work on PostgreSQL, and validate
// refuses a database without Baton's schema.
func TestMigrateOnPostgres(t *testing.T) {
	url := pgDatabase(t)
	e := newTestEnv(t)
	t.Setenv("BATON_HOME", e.home)
	t.Setenv("BATON_DATABASE_URL", url)
	code, _, stderr := e.run("", "migrate", "validate")
	if code == 0 || !strings.Contains(stderr, "no Baton schema") {
		t.Fatalf("validate on an empty database: %d %s", code, stderr)
	}
	if out := e.mustRun("migrate", "up"); !strings.Contains(out, "database is up to date: "+url) {
		t.Fatalf("migrate up: %s", out)
	}
	if out := e.mustRun("migrate", "validate"); !strings.Contains(out, "database is valid") {
		t.Fatalf("migrate validate: %s", out)
	}
	// An unknown migration (a newer Baton ran here) is reported.
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 'x', 0)`); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = e.run("", "migrate", "validate")
	if code == 0 || !strings.Contains(stderr, "9999_future.sql") {
		t.Fatalf("validate with an unknown migration: %d %s", code, stderr)
	}
}

// A database that does not answer at start: the server retries with
// backoff, logs each attempt (never the password), and exits non-zero once
// the bound has passed.
func TestServerStartDatabaseDown(t *testing.T) {
	port, err := pgtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEnv(t)
	t.Setenv("BATON_DATABASE_CONNECT_TIMEOUT", "2s")
	started := time.Now()
	code, _, stderr := e.run("", "server", "start", "--port", "0", "--home", e.home,
		"--database-url", fmt.Sprintf("postgres://baton:hunter2@127.0.0.1:%d/baton", port))
	if code != 1 {
		t.Fatalf("exit code %d, want 1:\n%s", code, stderr)
	}
	for _, want := range []string{"database not reachable yet; retrying", "did not answer within 2s", "baton:xxxxx@127.0.0.1"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("log lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "hunter2") {
		t.Errorf("the password was logged:\n%s", stderr)
	}
	if d := time.Since(started); d > 60*time.Second {
		t.Errorf("gave up after %s", d)
	}
}

// A URL with an unknown scheme is a usage error naming the accepted forms;
// a database that does not exist fails at once (no retrying).
func TestServerStartWrongURL(t *testing.T) {
	e := newTestEnv(t)
	code, _, stderr := e.run("", "server", "start", "--port", "0", "--home", e.home, "--database-url", "mysql://u:p@h/db")
	if code != 2 || !strings.Contains(stderr, `scheme "mysql" is not supported`) || !strings.Contains(stderr, "postgres://") {
		t.Fatalf("mysql URL: %d %s", code, stderr)
	}
	c, err := pgtest.Shared()
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	code, _, stderr = e.run("", "server", "start", "--port", "0", "--home", e.home, "--database-url", c.DatabaseURL("no_such_db"))
	if code != 1 || !strings.Contains(stderr, "no_such_db") || !strings.Contains(stderr, "does not exist (SQLSTATE 3D000)") || strings.Contains(stderr, "retrying") {
		t.Fatalf("missing database: %d %s", code, stderr)
	}
	if d := time.Since(started); d > 30*time.Second {
		t.Errorf("a missing database took %s to report", d)
	}
}

// `baton migrate copy` moves an SQLite installation used through the API
// (runs, states, task runs, logs, events, deployments, pools, variables,
// blocks, automations, artifacts, limits) into PostgreSQL with every row
// of every table equal, and a server on the copy serves it.
func TestMigrateCopy(t *testing.T) {
	home := t.TempDir()
	api, stop := startServerOn(t, home)
	var flow, run, task, pool, dep, block struct{ ID string }
	call(t, "POST", api+"/flows/", map[string]any{"name": "etl", "tags": []string{"a"}}, 201, &flow)
	call(t, "POST", api+"/work_pools/", map[string]any{"name": "pool", "type": "process"}, 201, &pool)
	call(t, "POST", api+"/deployments/", map[string]any{"name": "nightly", "flow_id": flow.ID, "work_pool_name": "pool",
		"schedules": []any{map[string]any{"schedule": map[string]any{"interval": 3600}}}, "concurrency_limit": 2}, 201, &dep)
	call(t, "POST", api+"/flow_runs/", map[string]any{"flow_id": flow.ID, "name": "r1", "tags": []string{"x"},
		"state": map[string]any{"type": "RUNNING", "name": "Running"}}, 201, &run)
	call(t, "POST", api+"/task_runs/", map[string]any{"flow_run_id": run.ID, "task_key": "t", "dynamic_key": "0", "name": "t-0",
		"state": map[string]any{"type": "RUNNING", "name": "Running"}}, 201, &task)
	call(t, "POST", api+"/task_runs/"+task.ID+"/set_state", map[string]any{"state": map[string]any{"type": "COMPLETED", "name": "Completed"}}, 201, nil)
	call(t, "POST", api+"/logs/", []any{map[string]any{"name": "l", "level": 20, "message": "héllo", "timestamp": time.Now().UTC().Format(time.RFC3339Nano), "flow_run_id": run.ID}}, 201, nil)
	call(t, "POST", api+"/events", []any{map[string]any{"id": "0b1f3d34-5d4e-4c1f-9c55-8f0d54a1b3a1", "occurred": time.Now().UTC().Format(time.RFC3339Nano),
		"event": "custom.thing", "resource": map[string]string{"prefect.resource.id": "my.resource"}, "payload": map[string]any{"k": 1.5}}}, 204, nil)
	call(t, "POST", api+"/variables/", map[string]any{"name": "answer", "value": map[string]any{"n": 42}, "tags": []string{"t"}}, 201, nil)
	call(t, "POST", api+"/artifacts/", map[string]any{"key": "report", "type": "markdown", "data": "# hi", "flow_run_id": run.ID}, 201, nil)
	call(t, "POST", api+"/v2/concurrency_limits/", map[string]any{"name": "db", "limit": 3, "slot_decay_per_second": 0.5}, 201, nil)
	var types []struct {
		ID   string
		Slug string
	}
	call(t, "POST", api+"/block_types/filter", map[string]any{}, 200, &types)
	var secretType string
	for _, bt := range types {
		if bt.Slug == "secret" {
			secretType = bt.ID
		}
	}
	var schemas []struct{ ID string }
	call(t, "POST", api+"/block_schemas/filter", map[string]any{"block_schemas": map[string]any{"block_type_id": map[string]any{"any_": []string{secretType}}}}, 200, &schemas)
	if secretType == "" || len(schemas) == 0 {
		t.Fatalf("no secret block type/schema (%q, %d)", secretType, len(schemas))
	}
	call(t, "POST", api+"/block_documents/", map[string]any{"name": "token", "block_type_id": secretType, "block_schema_id": schemas[0].ID,
		"data": map[string]any{"value": "s3cr3t"}}, 201, &block)
	call(t, "POST", api+"/automations/", map[string]any{"name": "auto", "trigger": map[string]any{"type": "event", "posture": "Reactive",
		"expect": []string{"custom.thing"}, "threshold": 1, "within": 0}, "actions": []any{map[string]any{"type": "do-nothing"}}}, 201, nil)
	stop()

	dbPath := filepath.Join(home, "baton.db")
	url := pgDatabase(t)
	e := newTestEnv(t)
	t.Setenv("BATON_HOME", home)
	out := e.mustRun("migrate", "copy", "--from", "sqlite:"+dbPath, "--to", url)
	if !strings.Contains(out, "copied ") || !strings.Contains(out, "flow_runs") {
		t.Fatalf("copy: %s", out)
	}
	compareDatabases(t, dbPath, url)

	// A second copy into the now used database is refused.
	code, _, stderr := e.run("", "migrate", "copy", "--from", "sqlite:"+dbPath, "--to", url)
	if code == 0 || !strings.Contains(stderr, "the target database is in use") {
		t.Fatalf("second copy: %d %s", code, stderr)
	}

	// The copy serves: same run, same state, the secret still opens (same
	// home, hence the same secrets key).
	api, _ = startServerOn(t, home, "--database-url", url)
	var got struct {
		Name  string
		State struct{ Type string }
	}
	call(t, "GET", api+"/flow_runs/"+run.ID, nil, 200, &got)
	if got.Name != "r1" || got.State.Type != "RUNNING" {
		t.Fatalf("copied run: %+v", got)
	}
	var doc struct{ Data map[string]any }
	call(t, "GET", api+"/block_documents/"+block.ID+"?include_secrets=true", nil, 200, &doc)
	if doc.Data["value"] != "s3cr3t" {
		t.Fatalf("copied secret block: %+v", doc.Data)
	}
}

// compareDatabases checks that every table holds the same rows in SQLite
// and in PostgreSQL (values normalized by the PostgreSQL column's type).
func compareDatabases(t *testing.T, sqlitePath, url string) {
	t.Helper()
	ctx := context.Background()
	src, err := sqlite.OpenRaw(sqlitePath)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
WHERE table_schema = 'public' AND table_name NOT IN ('schema_migrations', 'task_run_claims') AND is_generated = 'NEVER' AND is_identity = 'NO'
  AND NOT (table_name = 'events' AND column_name = 'origin') ORDER BY table_name, ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ name, typ string }
	tables := map[string][]col{}
	for rows.Next() {
		var tb string
		var c col
		if err := rows.Scan(&tb, &c.name, &c.typ); err != nil {
			t.Fatal(err)
		}
		tables[tb] = append(tables[tb], c)
	}
	rows.Close()
	total := 0
	for tb, cols := range tables {
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = `"` + c.name + `"`
		}
		q := "SELECT " + strings.Join(names, ", ") + ` FROM "` + tb + `"`
		var want, got []string
		srows, err := src.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for srows.Next() {
			if err := srows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			parts := make([]string, len(cols))
			for i, c := range cols {
				parts[i] = normalize(t, vals[i], c.typ)
			}
			want = append(want, strings.Join(parts, " | "))
		}
		srows.Close()
		prows, err := conn.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for prows.Next() {
			vs, err := prows.Values()
			if err != nil {
				t.Fatal(err)
			}
			parts := make([]string, len(cols))
			for i, c := range cols {
				parts[i] = normalize(t, vs[i], c.typ)
			}
			got = append(got, strings.Join(parts, " | "))
		}
		prows.Close()
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Errorf("table %s differs:\nsqlite:   %q\npostgres: %q", tb, want, got)
		}
		total += len(want)
	}
	if total < 50 {
		t.Fatalf("only %d rows compared: the fixture did not fill the database", total)
	}
}

func normalize(t *testing.T, v any, typ string) string {
	if v == nil {
		return "NULL"
	}
	switch typ {
	case "json", "jsonb":
		var x any
		switch s := v.(type) {
		case string:
			if err := json.Unmarshal([]byte(s), &x); err != nil {
				t.Fatalf("json %q: %v", s, err)
			}
		case []byte:
			if err := json.Unmarshal(s, &x); err != nil {
				t.Fatalf("json %q: %v", s, err)
			}
		default:
			x = v
		}
		b, _ := json.Marshal(x)
		return string(b)
	case "boolean":
		switch b := v.(type) {
		case bool:
			if b {
				return "1"
			}
			return "0"
		case int64:
			return fmt.Sprint(b)
		}
	case "double precision", "real":
		switch f := v.(type) {
		case float64:
			return fmt.Sprintf("%g", f)
		case int64:
			return fmt.Sprintf("%g", float64(f))
		}
	}
	switch x := v.(type) {
	case [16]byte:
		return hex.EncodeToString(x[:])
	case []byte:
		return hex.EncodeToString(x)
	case int32:
		return fmt.Sprint(int64(x))
	}
	return fmt.Sprint(v)
}

// The file-level commands refuse a PostgreSQL database instead of working
// on an SQLite file the server does not use; dev seed writes to PostgreSQL.
func TestSQLiteOnlyCommandsOnPostgres(t *testing.T) {
	url := pgDatabase(t)
	e := newTestEnv(t)
	e.vars["BATON_DATABASE_URL"] = url
	for _, args := range [][]string{{"backup", filepath.Join(e.home, "b.db")}, {"vacuum"}} {
		code, _, stderr := e.run("", args...)
		if code != 2 || !strings.Contains(stderr, "pg_dump") {
			t.Errorf("%v: %d %s", args, code, stderr)
		}
	}
	e.mustRun("dev", "seed", "--flow-runs", "20", "--task-runs", "50", "--flows", "2")
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM flow_runs`).Scan(&n); err != nil || n != 20 {
		t.Fatalf("seeded %d flow runs into PostgreSQL (%v)", n, err)
	}
}

// Background task runs (task.delay(), served by `prefect task serve`) go to
// exactly one task worker when the workers are connected to different
// replicas: each replica's subscription reads the scheduled runs from the
// shared database, and the claim is recorded there.
func TestBackgroundTaskRunsOnceAcrossReplicas(t *testing.T) {
	url := pgDatabase(t)
	api1, _ := startServerOn(t, t.TempDir(), "--database-url", url)
	api2, _ := startServerOn(t, t.TempDir(), "--database-url", url)
	const runs = 40
	var (
		mu    sync.Mutex
		seen  = map[string][]int{}
		total int
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	// Two workers per replica, all serving the same task key.
	for i, api := range []string{api1, api2, api1, api2} {
		conn, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(api, "http")+"/task_runs/subscriptions/scheduled", http.Header{"Sec-WebSocket-Protocol": {"prefect"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.WriteJSON(map[string]any{"type": "auth", "token": nil}); err != nil {
			t.Fatal(err)
		}
		var ack struct{ Type string }
		if err := conn.ReadJSON(&ack); err != nil || ack.Type != "auth_success" {
			t.Fatalf("auth: %v %q", err, ack.Type)
		}
		if err := conn.WriteJSON(map[string]any{"type": "subscribe", "keys": []string{"bg-task"}, "client_id": fmt.Sprintf("worker-%d", i)}); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var tr struct{ ID string }
				if err := conn.ReadJSON(&tr); err != nil {
					return
				}
				mu.Lock()
				seen[tr.ID] = append(seen[tr.ID], i)
				total++
				mu.Unlock()
				if err := conn.WriteJSON(map[string]string{"type": "ack"}); err != nil {
					return
				}
			}
		}()
	}
	// The runs are created through both replicas.
	for i := range runs {
		api := []string{api1, api2}[i%2]
		call(t, "POST", api+"/task_runs/", map[string]any{"name": fmt.Sprintf("bg-%d", i), "task_key": "bg-task", "dynamic_key": fmt.Sprint(i),
			"state": map[string]any{"type": "SCHEDULED", "name": "Scheduled"}}, 201, nil)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == runs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d background task runs delivered within 90 s", n, runs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Both replicas poll every 2 s: give a duplicate time to show up.
	time.Sleep(5 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	for id, workers := range seen {
		if len(workers) != 1 {
			t.Errorf("task run %s was delivered %d times (to workers %v)", id, len(workers), workers)
		}
	}
	if total != runs {
		t.Errorf("%d deliveries of %d runs", total, runs)
	}
}
