package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// seedLogs writes n log lines of size bytes each, stamped at ts.
func seedLogs(t testing.TB, s *Store, n, size int, ts time.Time) {
	t.Helper()
	msg := strings.Repeat("x", size)
	for done := 0; done < n; {
		k := min(1000, n-done)
		logs := make([]model.Log, k)
		for i := range logs {
			logs[i] = model.Log{Name: "seed", Level: 20, Message: msg, Timestamp: model.NewTime(ts)}
		}
		if err := s.LogCreate(context.Background(), store.DefaultWorkspaceID, logs); err != nil {
			t.Fatal(err)
		}
		done += k
	}
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestReclaimShrinksTheFile: a new database has incremental auto-vacuum, so
// once retention deleted rows, RetentionReclaim returns their pages and the
// file shrinks while the store stays open (without it the file keeps its
// high-water size for ever, and only reuses the space).
func TestReclaimShrinksTheFile(t *testing.T) {
	t.Parallel()
	s, path := openTemp(t)
	ctx := context.Background()
	old := time.Now().Add(-48 * time.Hour)
	seedLogs(t, s, 400, 16000, old)
	if _, err := s.cpdb.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	full := fileSize(t, path)
	for {
		p, err := s.RetentionPurge(ctx, store.DefaultWorkspaceID, store.RetainLogs, time.Now(), 2000)
		if err != nil {
			t.Fatal(err)
		}
		if !p.More {
			break
		}
	}
	var freed int64
	for {
		r, err := s.RetentionReclaim(ctx, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Supported {
			t.Fatal("a new database does not support reclamation: auto_vacuum is not incremental")
		}
		freed += r.FreedBytes
		if r.FreedBytes == 0 {
			break
		}
		if r.FreedBytes > 1<<20 {
			t.Fatalf("one call freed %d bytes, more than the 1 MiB asked", r.FreedBytes)
		}
	}
	if _, err := s.cpdb.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	after := fileSize(t, path)
	t.Logf("database %d bytes full, %d after purge and reclaim (%d freed)", full, after, freed)
	if full < 6<<20 || after > full/4 {
		t.Fatalf("file %d bytes before, %d after: not reclaimed", full, after)
	}
}

// TestVacuumConvertsAnOldFile: a database created without incremental
// auto-vacuum (every Baton database before this change) opens and works,
// reports that it cannot reclaim, and `baton vacuum`'s conversion makes
// it reclaim, keeping its rows.
func TestVacuumConvertsAnOldFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "baton.db")
	ctx := context.Background()
	raw, err := sql.Open("sqlite", dsn(path, false, 0))
	if err != nil {
		t.Fatal(err)
	}
	// The first table fixes the mode (NONE, SQLite's default).
	if _, err := raw.Exec(`CREATE TABLE before_baton (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	s, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	seedLogs(t, s, 300, 500, time.Now())
	r, err := s.RetentionReclaim(ctx, 1<<20)
	if err != nil || r.Supported {
		t.Fatalf("an old file: reclaim %+v %v, want unsupported", r, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before, after, err := Vacuum(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("converted: %d -> %d bytes", before, after)
	s, err = Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r, err := s.RetentionReclaim(ctx, 1<<20); err != nil || !r.Supported {
		t.Fatalf("after Vacuum: reclaim %+v %v, want supported", r, err)
	}
	logs, err := s.LogList(ctx, store.DefaultWorkspaceID, model.LogQuery{Limit: 5000})
	if err != nil || len(logs) != 300 {
		t.Fatalf("after Vacuum: %d logs (%v), want 300", len(logs), err)
	}
}

// TestRetentionDoesNotStallTheWriter measures what other writers see while
// retention deletes 60,000 log lines: in batches of 500 (what the service
// does) each small write waits at most for one batch, where one unbatched
// delete of every row holds the writer for the whole of it. It compares
// timings, so it runs without the race detector (make test-go runs it on
// its own after the -race pass).
func TestRetentionDoesNotStallTheWriter(t *testing.T) {
	if testing.Short() || raceDetector {
		t.Skip("a timing comparison: run without -race and -short")
	}
	t.Parallel()
	ctx := context.Background()
	measure := func(purge func(s *Store)) (p50, p99, worst time.Duration, took time.Duration) {
		s, _ := openTemp(t)
		seedLogs(t, s, 60000, 200, time.Now().Add(-48*time.Hour))
		var lat []time.Duration
		var mu sync.Mutex
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					t0 := time.Now()
					err := s.LogCreate(ctx, store.DefaultWorkspaceID, []model.Log{{Name: "live", Level: 20, Message: "m", Timestamp: model.NewTime(time.Now())}})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					lat = append(lat, time.Since(t0))
					mu.Unlock()
					time.Sleep(2 * time.Millisecond)
				}
			}()
		}
		time.Sleep(50 * time.Millisecond)
		t0 := time.Now()
		purge(s)
		took = time.Since(t0)
		close(stop)
		wg.Wait()
		slices.Sort(lat)
		if len(lat) == 0 {
			t.Fatal("no writes measured")
		}
		return lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1], took
	}
	bp50, bp99, bmax, btook := measure(func(s *Store) {
		for {
			p, err := s.RetentionPurge(ctx, store.DefaultWorkspaceID, store.RetainLogs, time.Now().Add(-time.Hour), 500)
			if err != nil {
				t.Error(err)
				return
			}
			if !p.More {
				return
			}
		}
	})
	up50, up99, umax, utook := measure(func(s *Store) {
		err := s.write(ctx, func(tx *wtx) error {
			_, err := tx.Exec(`DELETE FROM logs WHERE workspace_id = ? AND timestamp < ?`, idv(store.DefaultWorkspaceID), time.Now().Add(-time.Hour).UnixMicro())
			return err
		})
		if err != nil {
			t.Error(err)
		}
	})
	t.Logf("other writes while retention deletes 60,000 logs in batches of 500: p50 %v p99 %v max %v (purge took %v)", bp50, bp99, bmax, btook)
	t.Logf("the same with one unbatched delete:                              p50 %v p99 %v max %v (delete took %v)", up50, up99, umax, utook)
	if bmax >= umax {
		t.Fatalf("batched purge stalled writers as long as one big delete: %v >= %v", bmax, umax)
	}
}
