package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/store/storetest"
)

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "baton.db")
	s, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, path
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t)
		return s
	})
}

// TestGroupCommitIsolatesFailures queues a failing and a succeeding
// operation behind a blocked one so the writer commits them in one group:
// the failing one must be rolled back alone and get its own error.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	ctx := context.Background()
	release := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		_ = s.write(ctx, func(*wtx) error { close(started); <-release; return nil })
	}()
	<-started
	boom := errors.New("boom")
	var errBad, errGood error
	go func() {
		defer wg.Done()
		errBad = s.write(ctx, func(tx *wtx) error {
			if _, err := tx.exec(`INSERT INTO flows (workspace_id, id, name, created, updated, body) VALUES (?, ?, 'bad', 0, 0, '{}')`,
				idv(store.DefaultWorkspaceID), idv(model.NewID())); err != nil {
				return err
			}
			return boom
		})
	}()
	go func() {
		defer wg.Done()
		errGood = s.write(ctx, func(tx *wtx) error {
			_, err := tx.exec(`INSERT INTO flows (workspace_id, id, name, created, updated, body) VALUES (?, ?, 'good', 0, 0, '{}')`,
				idv(store.DefaultWorkspaceID), idv(model.NewID()))
			return err
		})
	}()
	for len(s.ops) < 2 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if !errors.Is(errBad, boom) || errGood != nil {
		t.Fatalf("errors: bad=%v good=%v", errBad, errGood)
	}
	var names []string
	rows, err := s.rdb.Query(`SELECT name FROM flows ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if strings.Join(names, ",") != "good" {
		t.Fatalf("flows after group = %v, want [good]", names)
	}
}

func TestWriteHonoursContextAndClose(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := s.write(ctx, func(*wtx) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Fatalf("cancelled write: err=%v ran=%v", err, ran)
	}
	// A panicking operation becomes an error and the writer survives.
	if err := s.write(context.Background(), func(*wtx) error { panic("bad op") }); err == nil {
		t.Fatal("panic not reported")
	}
	if _, _, err := s.FlowUpsert(context.Background(), store.DefaultWorkspaceID, model.FlowCreate{Name: "after-panic"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.FlowUpsert(context.Background(), store.DefaultWorkspaceID, model.FlowCreate{Name: "x"}); !errors.Is(err, errClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

func TestMigrateAndValidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, path := openTemp(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if err := Validate(ctx, path); err != nil {
		t.Fatalf("Validate fresh db: %v", err)
	}
	// Reopening applies nothing new.
	s2, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.Exec(`UPDATE schema_migrations SET checksum = 'tampered' WHERE version = 1`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := Validate(ctx, path); err == nil || !strings.Contains(err.Error(), "different content") {
		t.Fatalf("Validate tampered db: %v", err)
	}
	if _, err := Open(ctx, Config{Path: path}); err == nil {
		t.Fatal("Open accepted a tampered schema")
	}
	if err := Validate(ctx, filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Fatal("Validate accepted a missing file")
	}
}

// TestDurableAfterKill commits writes in a child process that then kills
// itself with SIGKILL (no Close, no checkpoint) and checks every committed
// write is there on reopen.
func TestDurableAfterKill(t *testing.T) {
	if path := os.Getenv("BATON_SQLITE_KILL_CHILD"); path != "" {
		ctx := context.Background()
		s, err := Open(ctx, Config{Path: path})
		if err != nil {
			os.Exit(3)
		}
		f, _, err := s.FlowUpsert(ctx, store.DefaultWorkspaceID, model.FlowCreate{Name: "durable"})
		if err != nil {
			os.Exit(4)
		}
		for i := range 100 {
			if _, _, err := s.FlowRunCreate(ctx, store.DefaultWorkspaceID, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "r" + string(rune('a'+i%26))}}); err != nil {
				os.Exit(5)
			}
		}
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "baton.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurableAfterKill$")
	cmd.Env = append(os.Environ(), "BATON_SQLITE_KILL_CHILD="+path)
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v", err)
	}
	s, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n, err := s.FlowRunCount(context.Background(), store.DefaultWorkspaceID, model.RunQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 100 {
		t.Fatalf("runs after kill -9 = %d, want 100", n)
	}
}

// TestInjectedClock: the times the store stamps itself come from
// Config.Now, so tests and callers control them.
func TestInjectedClock(t *testing.T) {
	t.Parallel()
	fixed := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	s, err := Open(context.Background(), Config{Path: filepath.Join(t.TempDir(), "baton.db"), Now: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	f, _, err := s.FlowUpsert(ctx, store.DefaultWorkspaceID, model.FlowCreate{Name: "clocked"})
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := s.FlowRunCreate(ctx, store.DefaultWorkspaceID, store.NewFlowRun{Run: model.FlowRun{FlowID: f.ID, Name: "r"}})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.EventInsert(ctx, store.DefaultWorkspaceID, []model.Event{{ID: model.NewID(), Occurred: model.NewTime(fixed), Event: "x",
		Resource: map[string]string{"prefect.resource.id": "r"}}})
	if err != nil {
		t.Fatal(err)
	}
	for what, got := range map[string]time.Time{"flow created": f.Created.Time, "run created": r.Created.Time, "run updated": r.Updated.Time,
		"event received": evs[0].Received.Time} {
		if !got.Equal(fixed) {
			t.Errorf("%s = %v, want the injected clock's %v", what, got, fixed)
		}
	}
}

// TestNarrowUpdate: an update sets only the columns whose values changed
// (every column in a SET list makes SQLite rewrite the indexes that hold it),
// and past maxUpdateShapes distinct shapes it falls back to setting them all.
func TestNarrowUpdate(t *testing.T) {
	var c updateSQLs
	cols := []string{"a", "b", "c"}
	q, args := narrowUpdate(&c, "t", cols, []any{int64(1), "x", nil}, []any{int64(1), "y", []byte{1}})
	if want := "UPDATE t SET b = ?, c = ?, body = ? WHERE workspace_id = ? AND id = ?"; q != want {
		t.Fatalf("got %q, want %q", q, want)
	}
	if len(args) != 2 || args[0] != "y" {
		t.Fatalf("args %v", args)
	}
	q, args = narrowUpdate(&c, "t", cols, []any{int64(1), "x", []byte{1}}, []any{int64(1), "x", []byte{1}})
	if want := "UPDATE t SET body = ? WHERE workspace_id = ? AND id = ?"; q != want || len(args) != 0 {
		t.Fatalf("unchanged row: got %q %v", q, args)
	}
	many := make([]string, 10)
	for i := range many {
		many[i] = fmt.Sprintf("c%d", i)
	}
	zero := make([]any, 10)
	for mask := 1; mask < 200; mask++ {
		cur := make([]any, 10)
		for i := range cur {
			if mask&(1<<i) != 0 {
				cur[i] = int64(1)
			}
		}
		narrowUpdate(&c, "t", many, zero, cur)
	}
	if len(c.m) > maxUpdateShapes+1 {
		t.Fatalf("%d shapes cached, want at most %d", len(c.m), maxUpdateShapes+1)
	}
	cur := make([]any, 10)
	cur[9] = int64(1)
	q, args = narrowUpdate(&c, "t", many, zero, cur)
	if !strings.Contains(q, "c0 = ?") || len(args) != 10 {
		t.Fatalf("past the cap: got %q with %d args, want every column set", q, len(args))
	}
}

// TestMemoryBudget: the page caches and the memory map are sized from
// Config.MemoryBytes.
func TestMemoryBudget(t *testing.T) {
	s, err := Open(context.Background(), Config{Path: filepath.Join(t.TempDir(), "baton.db"), MemoryBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var cache, mmap int64
	if err := s.rdb.QueryRow("PRAGMA cache_size").Scan(&cache); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.QueryRow("PRAGMA mmap_size").Scan(&mmap); err != nil {
		t.Fatal(err)
	}
	if cache != -2048 || mmap != 16<<20 {
		t.Errorf("reader cache_size %d, mmap_size %d; want -2048 (2 MiB) and 16 MiB", cache, mmap)
	}
	if err := s.write(context.Background(), func(tx *wtx) error { return tx.QueryRow("PRAGMA cache_size").Scan(&cache) }); err != nil {
		t.Fatal(err)
	}
	if cache != -4096 {
		t.Errorf("writer cache_size %d, want -4096 (4 MiB)", cache)
	}
}
