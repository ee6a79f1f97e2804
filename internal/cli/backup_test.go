package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/internal/store/sqlite"
)

// TestBackupAndRestoreCommands: `baton backup FILE` copies the database,
// `baton restore FILE` puts it back (keeping the replaced one), and a
// restore under a running server is refused.
func TestBackupAndRestoreCommands(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	ctx := context.Background()
	db := filepath.Join(e.home, "baton.db")
	flow := func(name string) {
		st, err := sqlite.Open(ctx, sqlite.Config{Path: db})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.FlowUpsert(ctx, store.DefaultWorkspaceID, model.FlowCreate{Name: name}); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	flow("before-backup")
	backup := filepath.Join(t.TempDir(), "backup.db")
	if code, out, errs := e.run("", "backup", backup); code != 0 || !strings.Contains(out, "Backed up") {
		t.Fatalf("backup: %d %s %s", code, out, errs)
	}
	flow("after-backup")
	unlock, err := sqlite.Lock(db) // a running server
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := e.run("", "restore", backup); code == 0 || !strings.Contains(errs, "running Baton server") {
		t.Fatalf("restore under a running server: %d %s", code, errs)
	}
	unlock()
	code, out, errs := e.run("", "restore", backup)
	if code != 0 || !strings.Contains(out, "kept as") {
		t.Fatalf("restore: %d %s %s", code, out, errs)
	}
	unlock, err = sqlite.Lock(db)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := e.run("", "vacuum"); code == 0 || !strings.Contains(errs, "running Baton server") {
		t.Fatalf("vacuum under a running server: %d %s", code, errs)
	}
	unlock()
	if code, out, errs := e.run("", "vacuum"); code != 0 || !strings.Contains(out, "Vacuumed") {
		t.Fatalf("vacuum: %d %s %s", code, out, errs)
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.FlowGetByName(ctx, store.DefaultWorkspaceID, "before-backup"); err != nil {
		t.Fatalf("the restored database lacks the backed-up flow: %v", err)
	}
	if _, err := st.FlowGetByName(ctx, store.DefaultWorkspaceID, "after-backup"); err == nil {
		t.Fatal("the restored database has a flow written after the backup")
	}
	kept, _ := filepath.Glob(db + ".before-restore-*")
	if len(kept) == 0 {
		t.Fatal("the replaced database was not kept")
	}
	if _, err := os.Stat(kept[0]); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := e.run("", "restore", filepath.Join(t.TempDir(), "nope.db")); code == 0 || errs == "" {
		t.Fatalf("restore of a missing file: %d %q", code, errs)
	}
}
