package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync/atomic"
)

// readGate lets the writer hold new reads back for the moment it needs the
// WAL to itself. A truncating checkpoint must wait until no reader uses an
// old snapshot, and readers arriving back to back share a WAL read slot, so
// under steady read load that moment may never come on its own: readers
// overlap forever and the checkpoint starves. While the gate is closed new
// read statements wait (up to their context) and those in flight finish,
// which takes milliseconds.
type readGate struct {
	closed atomic.Pointer[chan struct{}]
}

// wait blocks while the gate is closed.
func (g *readGate) wait(ctx context.Context) error {
	ch := g.closed.Load()
	if ch == nil {
		return nil
	}
	select {
	case <-*ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hold closes the gate and returns the function that opens it again.
func (g *readGate) hold() (release func()) {
	ch := make(chan struct{})
	g.closed.Store(&ch)
	return func() {
		g.closed.Store(nil)
		close(ch)
	}
}

// gatedConnector opens reader connections whose statements pass the gate
// before they start, so every read of the pool honours it, including reads
// added later anywhere in the package.
type gatedConnector struct {
	dsn  string
	drv  driver.Driver
	gate *readGate
}

// openGated opens a pool over dsn whose queries wait at gate.
func openGated(dsn string, gate *readGate) (*sql.DB, error) {
	probe, err := sql.Open("sqlite", "")
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	_ = probe.Close()
	return sql.OpenDB(&gatedConnector{dsn: dsn, drv: drv, gate: gate}), nil
}

func (c *gatedConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &gatedConn{inner: conn, gate: c.gate}, nil
}

func (c *gatedConnector) Driver() driver.Driver { return c.drv }

// innerConn is what the sqlite driver's connections implement.
type innerConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.QueryerContext
	driver.ExecerContext
}

// gatedConn forwards to the driver's connection, passing the gate before
// each statement runs.
type gatedConn struct {
	inner driver.Conn
	gate  *readGate
}

var errNotSupported = errors.New("sqlite: driver connection lacks a required interface")

func (c *gatedConn) full() (innerConn, error) {
	ic, ok := c.inner.(innerConn)
	if !ok {
		return nil, errNotSupported
	}
	return ic, nil
}

func (c *gatedConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *gatedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	ic, err := c.full()
	if err != nil {
		return nil, err
	}
	st, err := ic.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &gatedStmt{inner: st, gate: c.gate}, nil
}

func (c *gatedConn) Close() error { return c.inner.Close() }

func (c *gatedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *gatedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	ic, err := c.full()
	if err != nil {
		return nil, err
	}
	return ic.BeginTx(ctx, opts)
}

func (c *gatedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	ic, err := c.full()
	if err != nil {
		return nil, err
	}
	if err := c.gate.wait(ctx); err != nil {
		return nil, err
	}
	return ic.QueryContext(ctx, query, args)
}

func (c *gatedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ic, err := c.full()
	if err != nil {
		return nil, err
	}
	if err := c.gate.wait(ctx); err != nil {
		return nil, err
	}
	return ic.ExecContext(ctx, query, args)
}

func (c *gatedConn) Ping(ctx context.Context) error {
	if p, ok := c.inner.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *gatedConn) ResetSession(ctx context.Context) error {
	if r, ok := c.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *gatedConn) IsValid() bool {
	if v, ok := c.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// gatedStmt is a prepared statement that passes the gate before it runs.
type gatedStmt struct {
	inner driver.Stmt
	gate  *readGate
}

func (s *gatedStmt) Close() error  { return s.inner.Close() }
func (s *gatedStmt) NumInput() int { return s.inner.NumInput() }

func (s *gatedStmt) Exec(args []driver.Value) (driver.Result, error) {
	if err := s.gate.wait(context.Background()); err != nil {
		return nil, err
	}
	//lint:ignore SA1019 the wrapper must implement driver.Stmt; database/sql calls ExecContext below
	return s.inner.Exec(args)
}

func (s *gatedStmt) Query(args []driver.Value) (driver.Rows, error) {
	if err := s.gate.wait(context.Background()); err != nil {
		return nil, err
	}
	//lint:ignore SA1019 the wrapper must implement driver.Stmt; database/sql calls QueryContext below
	return s.inner.Query(args)
}

func (s *gatedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	ec, ok := s.inner.(driver.StmtExecContext)
	if !ok {
		return nil, errNotSupported
	}
	if err := s.gate.wait(ctx); err != nil {
		return nil, err
	}
	return ec.ExecContext(ctx, args)
}

func (s *gatedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := s.inner.(driver.StmtQueryContext)
	if !ok {
		return nil, errNotSupported
	}
	if err := s.gate.wait(ctx); err != nil {
		return nil, err
	}
	return qc.QueryContext(ctx, args)
}
