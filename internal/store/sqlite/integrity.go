package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/store"
)

// ErrDamaged is returned by Open for a database file that exists but is
// not an intact SQLite database: empty, truncated, or failing SQLite's own
// check. Open never replaces such a file with an empty database (which is
// what SQLite itself does with an empty file), because that would look like
// a fresh install and silently lose everything; the operator restores a
// backup instead.
var ErrDamaged = errors.New("database file is damaged")

// damaged builds the refusal: the file, what is wrong, and what to do.
func damaged(path, why string) error {
	return fmt.Errorf("%w: %s %s. Baton will not start on it, nor replace it with an empty database; "+
		"restore the last backup with `baton restore BACKUP_FILE` (the damaged file is kept beside it), "+
		"or move the file away to start with an empty database", ErrDamaged, path, why)
}

// sqliteMagic opens every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// checkFile looks at an existing database file before SQLite opens it: an
// empty file, a file too short for its header, a header that is not
// SQLite's, or a file shorter than its header's page count says (when no
// WAL holds pages beyond it) is refused. A missing file is fine: it is a new
// database.
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("sqlite: stat %s: %w", path, err)
	}
	if fi.Size() == 0 {
		if walBytes(path) > 0 {
			return nil // never checkpointed: every page is still in the WAL
		}
		return damaged(path, "is empty (0 bytes)")
	}
	var h [100]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return damaged(path, fmt.Sprintf("is %d bytes long, shorter than a database header", fi.Size()))
	}
	if string(h[:16]) != sqliteMagic {
		return damaged(path, "does not start with a SQLite header (it is not a database, or its first page was overwritten)")
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(h[28:32]))
	// The page count is valid when the version-valid-for number matches
	// the change counter; with WAL frames pending, pages may live there.
	if binary.BigEndian.Uint32(h[92:96]) == binary.BigEndian.Uint32(h[24:28]) && walBytes(path) == 0 {
		if want := pages * pageSize; fi.Size() < want {
			return damaged(path, fmt.Sprintf("is truncated: its header says %d pages of %d bytes (%d bytes) but the file holds %d", pages, pageSize, want, fi.Size()))
		}
	}
	return nil
}

// walBytes is the size of path's WAL file (0 when there is none).
func walBytes(path string) int64 {
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		return 0
	}
	return fi.Size()
}

// quickCheck runs SQLite's quick_check over the whole file and refuses it
// if any page is damaged.
func quickCheck(ctx context.Context, db *sql.DB, path string) error {
	rows, err := db.QueryContext(ctx, `PRAGMA quick_check(5)`)
	if err != nil {
		if isCorrupt(err) {
			return damaged(path, "fails SQLite's check: "+err.Error())
		}
		return fmt.Errorf("sqlite: quick_check %s: %w", path, err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return damaged(path, "fails SQLite's check: "+err.Error())
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return damaged(path, "fails SQLite's check: "+err.Error())
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return damaged(path, "fails SQLite's check: "+strings.Join(msgs, "; "))
	}
	return nil
}

// isCorrupt reports whether err is SQLite saying the file is damaged or not
// a database.
func isCorrupt(err error) bool {
	s := err.Error()
	return strings.Contains(s, "malformed") || strings.Contains(s, "not a database") || strings.Contains(s, "SQLITE_CORRUPT") ||
		strings.Contains(s, "SQLITE_NOTADB") || strings.Contains(s, "corrupt")
}

// isFull reports whether err is SQLite failing for lack of disk space.
func isFull(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "database or disk is full") || strings.Contains(s, "SQLITE_FULL") || errors.Is(err, syscall.ENOSPC)
}

// fullError marks a write that failed for lack of space, so the API can
// answer 503 (retry later) instead of 500.
func fullError(err error) error {
	return fmt.Errorf("%w: %v", store.ErrStorageFull, err)
}

// Backup writes a consistent copy of the database at path to dest, while
// the server keeps serving writes: one read transaction sees one snapshot
// (WAL mode lets writers go on), and VACUUM INTO writes it compacted. The
// copy is written beside dest and renamed into place once it is complete and
// checked, so dest never holds half a backup. dest must not exist.
func Backup(ctx context.Context, path, dest string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup: the database %s: %w", path, err)
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backup: %s already exists; choose a new file name", dest)
	}
	if err := checkFile(path); err != nil {
		return err
	}
	partial := dest + ".partial"
	_ = os.Remove(partial)
	// Read-only, but without query_only: VACUUM INTO writes the copy.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Set("mode", "ro")
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath(), RawQuery: q.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return fmt.Errorf("backup: open %s: %w", path, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, partial); err != nil {
		_ = os.Remove(partial)
		return fmt.Errorf("backup: copy %s: %w", path, err)
	}
	if err := syncFile(partial); err != nil {
		_ = os.Remove(partial)
		return err
	}
	if err := Validate(ctx, partial); err != nil {
		_ = os.Remove(partial)
		return fmt.Errorf("backup: the copy does not check out: %w", err)
	}
	if err := os.Rename(partial, dest); err != nil {
		_ = os.Remove(partial)
		return fmt.Errorf("backup: %w", err)
	}
	return syncDir(filepath.Dir(dest))
}

// Restore replaces the database at path with the backup at src. The backup
// is checked first (SQLite's integrity check and the migration history);
// the current database, with its WAL, is moved aside (its new name is
// returned) rather than deleted; the copy is written beside path and renamed
// into place. The server must not be running: callers hold Lock first.
func Restore(ctx context.Context, src, path string) (keptAs string, err error) {
	if err := checkFile(src); err != nil {
		return "", fmt.Errorf("restore: the backup: %w", err)
	}
	if _, err := os.Stat(src); err != nil {
		return "", fmt.Errorf("restore: the backup %s: %w", src, err)
	}
	if err := Validate(ctx, src); err != nil {
		return "", fmt.Errorf("restore: the backup %s is not a usable Baton database: %w", src, err)
	}
	partial := path + ".restoring"
	if err := copyFile(src, partial); err != nil {
		_ = os.Remove(partial)
		return "", fmt.Errorf("restore: %w", err)
	}
	if _, err := os.Stat(path); err == nil {
		keptAs = path + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if _, err := os.Stat(path + suffix); err == nil {
				if err := os.Rename(path+suffix, keptAs+suffix); err != nil {
					_ = os.Remove(partial)
					return "", fmt.Errorf("restore: move the current database aside: %w", err)
				}
			}
		}
	}
	if err := os.Rename(partial, path); err != nil {
		return keptAs, fmt.Errorf("restore: %w", err)
	}
	return keptAs, syncDir(filepath.Dir(path))
}

// Lock takes the exclusive lock that marks the database at path as served:
// `baton server start` holds it while it runs, so a second server on the
// same file and a restore under a running server are refused. The lock is
// an flock on path+".lock" (released by the kernel if the process dies);
// the file holds the holder's process id for the refusal message.
func Lock(path string) (unlock func(), err error) {
	lockPath := path + ".lock"
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", lockPath, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(lockPath)
		_ = f.Close()
		pid := strings.TrimSpace(string(holder))
		if pid == "" {
			pid = "unknown"
		}
		return nil, fmt.Errorf("the database %s is in use by a running Baton server (pid %s); stop it first", path, pid)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		_ = f.Truncate(0)
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync() // not every file system syncs directories
	return nil
}

// OpenRaw opens the database file read-only with database/sql, for tools
// that read its tables directly (`baton migrate copy`). The caller closes
// it; the file must exist.
func OpenRaw(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(path, true, 0))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}
