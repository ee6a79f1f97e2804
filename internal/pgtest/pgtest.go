// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb into
// a private temporary directory, pg_ctl start on a free loopback port, and
// removal when the test process is done. No Docker and no mocks: the tests
// of the Postgres engine, the replicas and the CLI run against a real server.
//
// Set BATON_TEST_POSTGRES_URL to use an existing server instead (a role that
// may CREATE DATABASE); otherwise the cluster is started from Debian's
// postgresql binaries (on PATH or under /usr/lib/postgresql/*/bin). initdb
// refuses to run as root, so as root the cluster runs as the "postgres"
// user (or "nobody"), as CI does.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names an existing server to use instead of a throwaway cluster.
const EnvURL = "BATON_TEST_POSTGRES_URL"

// Cluster is a running PostgreSQL server owned by the test process.
type Cluster struct {
	// URL connects to the "postgres" database as a superuser.
	URL  string
	dir  string
	bin  string
	run  []string // the command prefix that runs a binary as the cluster's owner
	port int
	own  bool
}

var (
	shared     *Cluster
	sharedErr  error
	sharedOnce sync.Once
	dbSeq      atomic.Int64
)

// Shared returns the cluster of this test process, starting it on first
// use. Call Stop from TestMain after m.Run (it is a no-op for a server named
// by BATON_TEST_POSTGRES_URL).
func Shared() (*Cluster, error) {
	sharedOnce.Do(func() {
		if u := os.Getenv(EnvURL); u != "" {
			shared = &Cluster{URL: u}
			return
		}
		shared, sharedErr = Start(Options{})
	})
	return shared, sharedErr
}

// StopShared stops the shared cluster if this process started one.
func StopShared() {
	if shared != nil {
		shared.Stop()
	}
}

// Options tunes a cluster.
type Options struct {
	// Durable keeps fsync and synchronous commit on (benchmarks); tests
	// turn them off for speed.
	Durable bool
	// MaxConnections defaults to 300.
	MaxConnections int
}

// findBin returns the directory of initdb and pg_ctl.
func findBin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			if real, err := filepath.EvalSymlinks(p); err == nil {
				return filepath.Dir(real), nil
			}
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("pgtest: PostgreSQL binaries not found (install Debian's postgresql package, or set " + EnvURL + ")")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Start creates and starts a new cluster in a temporary directory.
func Start(o Options) (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "baton-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: bin, own: true}
	if os.Geteuid() == 0 {
		owner := "postgres"
		if _, err := user.Lookup(owner); err != nil {
			owner = "nobody"
		}
		u, err := user.Lookup(owner)
		if err != nil {
			return nil, fmt.Errorf("pgtest: running as root and no user to run PostgreSQL as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		// The temp dir's parent must be traversable by the owner.
		c.run = []string{"runuser", "-u", owner, "--"}
	}
	data := filepath.Join(dir, "data")
	if out, err := c.cmd("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		c.remove()
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	maxConns := o.MaxConnections
	if maxConns == 0 {
		maxConns = 300
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, "listen_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nmax_connections = %d\n", dir, maxConns)
	conf.WriteString("shared_buffers = 128MB\nlog_min_messages = warning\nlogging_collector = off\n")
	if !o.Durable {
		conf.WriteString("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
	}
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		c.remove()
		return nil, err
	}
	_, _ = f.WriteString(conf.String())
	_ = f.Close()
	for attempt := 0; ; attempt++ {
		port, err := FreePort()
		if err != nil {
			c.remove()
			return nil, err
		}
		c.port = port
		out, err := c.cmd("pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l", filepath.Join(dir, "log"), "-o", "-p "+strconv.Itoa(port)).CombinedOutput()
		if err == nil {
			break
		}
		if attempt == 2 {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			c.remove()
			return nil, fmt.Errorf("pgtest: pg_ctl start: %w\n%s\n%s", err, out, log)
		}
	}
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	return c, nil
}

func (c *Cluster) cmd(name string, args ...string) *exec.Cmd {
	full := append(append(append([]string{}, c.run...), filepath.Join(c.bin, name)), args...)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Dir = c.dir
	return cmd
}

// Stop stops the cluster (fast shutdown) and removes its directory.
func (c *Cluster) Stop() {
	if c == nil || !c.own {
		return
	}
	_ = c.cmd("pg_ctl", "stop", "-m", "immediate", "-w", "-D", filepath.Join(c.dir, "data")).Run()
	c.remove()
}

// Restart stops the server (immediate) and starts it again on the same
// port, for tests of a database that goes away and comes back.
func (c *Cluster) Restart(down time.Duration) error {
	if !c.own {
		return errors.New("pgtest: cannot restart a server this process did not start")
	}
	if err := c.StopServer(); err != nil {
		return err
	}
	time.Sleep(down)
	return c.StartServer()
}

// StopServer stops the server but keeps its data.
func (c *Cluster) StopServer() error {
	if out, err := c.cmd("pg_ctl", "stop", "-m", "immediate", "-w", "-D", filepath.Join(c.dir, "data")).CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

// StartServer starts a server stopped by StopServer on its old port.
func (c *Cluster) StartServer() error {
	data := filepath.Join(c.dir, "data")
	if out, err := c.cmd("pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l", filepath.Join(c.dir, "log"), "-o", "-p "+strconv.Itoa(c.port)).CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: pg_ctl start: %w\n%s", err, out)
	}
	return nil
}

func (c *Cluster) remove() {
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
}

// Port is the cluster's TCP port.
func (c *Cluster) Port() int { return c.port }

// CreateDatabase creates a new empty database (from template, when not
// empty) and returns its URL.
func (c *Cluster) CreateDatabase(ctx context.Context, template string) (string, error) {
	name := fmt.Sprintf("baton_t%d_%d", os.Getpid(), dbSeq.Add(1))
	conn, err := pgx.Connect(ctx, c.URL)
	if err != nil {
		return "", fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	q := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		q += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	// Two CREATE DATABASE from one template at once fail ("source database
	// is being accessed by other users"); retry briefly.
	for attempt := 0; ; attempt++ {
		_, err = conn.Exec(ctx, q)
		if err == nil || attempt > 50 || !strings.Contains(err.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return "", fmt.Errorf("pgtest: %s: %w", q, err)
	}
	return c.DatabaseURL(name), nil
}

// DatabaseURL is the URL of database name on this cluster.
func (c *Cluster) DatabaseURL(name string) string {
	u, err := url.Parse(c.URL)
	if err != nil {
		return c.URL
	}
	u.Path = "/" + name
	return u.String()
}

// DropDatabase drops a database, disconnecting its sessions.
func (c *Cluster) DropDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// Log returns the server's log (for diagnosing a failed test).
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "log"))
	return string(bytes.TrimSpace(b))
}

// Postmaster returns the server's main process id (for fault tests).
func (c *Cluster) Postmaster() (int, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, "data", "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

// Signal sends sig to the postmaster.
func (c *Cluster) Signal(sig syscall.Signal) error {
	pid, err := c.Postmaster()
	if err != nil {
		return err
	}
	return syscall.Kill(pid, sig)
}
