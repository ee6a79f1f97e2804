package api

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// Limits bounds what clients can hold of the server: time on a connection,
// connections, and memory spent decoding request bodies. Each field's zero
// value picks the default noted on it (see DefaultLimits).
type Limits struct {
	// ReadHeaderTimeout bounds reading a request's headers (10 s).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included, so a body
	// trickled a byte at a time cannot hold a connection (60 s). Websocket
	// routes are exempt once upgraded.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response, counted from the end of the
	// request's headers (60 s). Long-polling routes get their longest wait
	// on top; websocket routes are exempt.
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle that long (60 s).
	IdleTimeout time.Duration
	// MaxConnections caps open connections; past it new ones wait in the
	// kernel's accept queue until one closes (4096).
	MaxConnections int
	// MaxHeaderBytes bounds a request's headers (64 KiB).
	MaxHeaderBytes int
	// DecodeBudget is how many bytes of request bodies may be held for
	// decoding and handling at once, across all requests (32 MiB). Decoding
	// costs several times the body in memory, so this is what bounds the
	// server's memory under many large concurrent bodies.
	DecodeBudget int64
	// DecodeWait is how long a body waits for room in the budget before
	// the request is answered 503 with Retry-After (5 s).
	DecodeWait time.Duration
	// WorkspaceRate and KeyRate limit the requests of one workspace, and of
	// one API key, answering 429 with Retry-After past them (the Prefect
	// client retries it). Zero: no limit (the default).
	WorkspaceRate RateLimit
	KeyRate       RateLimit
}

// DefaultLimits returns the limits a zero Limits stands for.
func DefaultLimits() Limits {
	return Limits{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxConnections:    4096,
		MaxHeaderBytes:    64 << 10,
		DecodeBudget:      32 << 20,
		DecodeWait:        5 * time.Second,
	}
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.ReadHeaderTimeout, d.ReadHeaderTimeout)
	set(&l.ReadTimeout, d.ReadTimeout)
	set(&l.WriteTimeout, d.WriteTimeout)
	set(&l.IdleTimeout, d.IdleTimeout)
	set(&l.DecodeWait, d.DecodeWait)
	if l.MaxConnections <= 0 {
		l.MaxConnections = d.MaxConnections
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	if l.DecodeBudget <= 0 {
		l.DecodeBudget = d.DecodeBudget
	}
	// Every route's body must fit in the budget, or it could never be read.
	l.DecodeBudget = max(l.DecodeBudget, maxRouteBody)
	return l
}

// Body limits per route, sized to what Prefect's client sends. The largest
// bodies it sends are log batches (PREFECT_LOGGING_TO_API_BATCH_SIZE, 4 MB
// of messages before JSON escaping) and event batches (events up to 1.5 MB
// each); everything else carries at most a run's parameters or an
// artifact's data.
const (
	// defaultBodyLimit applies to every route that declares none.
	defaultBodyLimit = 4 << 20
	// bulkBodyLimit is for routes that take batches (logs, events).
	bulkBodyLimit = 8 << 20
	// maxRouteBody is the largest limit any route declares.
	maxRouteBody = bulkBodyLimit
)

// String limits applied to every decoded body (see checkStrings).
const (
	// maxNameLength bounds names, keys, handles, slugs and tags: generous
	// for any real name (Prefect's own task cache keys stop at 2000), small
	// enough that a 10 MB "name" is refused instead of stored and served.
	maxNameLength = 4096
	// maxStringLength bounds every other string, in bytes: Prefect's
	// largest, a log message, is cut at 1,000,000 characters by its client,
	// which UTF-8 may carry in up to four times as many bytes.
	maxStringLength = 4 << 20
)

// lifetime is how long a route's exchange may outlive the server's read
// and write timeouts. Routes declare it explicitly; the default is bounded.
type lifetime uint8

const (
	// bounded exchanges finish within the server's timeouts.
	bounded lifetime = iota
	// longPolled exchanges may wait up to longPollMax before answering.
	longPolled
	// socket exchanges upgrade to a websocket and last as long as the
	// client stays; the websocket code bounds its own reads and writes.
	socket
)

// longPolling marks a route that may hold its answer up to longPollMax.
func longPolling(rt route) route { rt.lifetime = longPolled; return rt }

// bodyLimit sets a route's request-body limit.
func bodyLimit(n int64, rt route) route { rt.maxBody = n; return rt }

// applyLifetime moves the connection's deadlines for the routes that
// declared a longer life. Deadlines are set on the connection, so the
// controller reaches through the response writer wrappers to it.
func (s *Server) applyLifetime(w http.ResponseWriter, rt *route) {
	if rt == nil || rt.lifetime == bounded {
		return
	}
	rc := http.NewResponseController(w)
	switch rt.lifetime {
	case longPolled:
		_ = rc.SetWriteDeadline(time.Now().Add(s.limits.WriteTimeout + longPollMax))
	case socket:
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
	}
}

// HTTPServer returns the http.Server that serves s under its Limits;
// errLog receives the server's own connection errors.
func (s *Server) HTTPServer(errLog *log.Logger) *http.Server {
	l := s.limits
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ErrorLog:          errLog,
	}
}

// Listener wraps ln so that at most Limits.MaxConnections connections are
// open at once: past the cap, Accept waits until one closes, and new
// clients wait in the kernel's accept queue instead of costing the server
// memory and file descriptors.
func (s *Server) Listener(ln net.Listener) net.Listener {
	return &capListener{Listener: ln, slots: make(chan struct{}, s.limits.MaxConnections), open: &s.conns}
}

// capListener is a net.Listener with a cap on open connections.
type capListener struct {
	net.Listener
	slots chan struct{}
	open  *atomic.Int64
	done  chan struct{}
	once  sync.Once
}

func (l *capListener) closed() chan struct{} {
	l.once.Do(func() { l.done = make(chan struct{}) })
	return l.done
}

func (l *capListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed():
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	l.open.Add(1)
	return &capConn{Conn: c, l: l}, nil
}

func (l *capListener) Close() error {
	ch := l.closed()
	select {
	case <-ch:
	default:
		close(ch)
	}
	return l.Listener.Close()
}

// capConn gives its slot back once, on the first Close.
type capConn struct {
	net.Conn
	l    *capListener
	once sync.Once
}

func (c *capConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.open.Add(-1)
		<-c.l.slots
	})
	return err
}

// decodeBudget is the byte budget of concurrently handled request bodies.
type decodeBudget struct {
	sem     *semaphore.Weighted
	wait    time.Duration
	waiting atomic.Int64 // requests waiting for room now
	held    atomic.Int64 // bytes reserved now
	refused atomic.Uint64
}

func newDecodeBudget(l Limits) *decodeBudget {
	return &decodeBudget{sem: semaphore.NewWeighted(l.DecodeBudget), wait: l.DecodeWait}
}

// errBudget is the answer when the budget stayed full for the whole wait:
// retryable, so the Prefect client retries it.
var errBudget = &Error{Status: http.StatusServiceUnavailable, RetryAfter: time.Second,
	Detail: "the server is decoding too many large requests at once; retry shortly"}

// acquire reserves n bytes, waiting up to the budget's wait. The caller
// must release what it acquired.
func (b *decodeBudget) acquire(ctx context.Context, n int64) error {
	if b.sem.TryAcquire(n) {
		b.held.Add(n)
		return nil
	}
	b.waiting.Add(1)
	defer b.waiting.Add(-1)
	wctx, cancel := context.WithTimeout(ctx, b.wait)
	defer cancel()
	if err := b.sem.Acquire(wctx, n); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.refused.Add(1)
		return errBudget
	}
	b.held.Add(n)
	return nil
}

func (b *decodeBudget) release(n int64) {
	if n > 0 {
		b.held.Add(-n)
		b.sem.Release(n)
	}
}

// reserveBody reserves room for r's body in the budget: its declared length
// when the client sent one (bounded by limit), otherwise the route's whole
// limit. It returns how much was reserved (to release later), or a 413 when
// the declared length is already over the limit.
func (s *Server) reserveBody(ctx context.Context, r *http.Request, limit int64) (int64, error) {
	n := r.ContentLength
	if n > limit {
		s.bodyRefused.Add(1)
		return 0, errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes, this route's limit (%d declared)", limit, n)
	}
	if n < 0 {
		n = limit
	}
	if n == 0 {
		return 0, nil
	}
	if err := s.budget.acquire(ctx, n); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return 0, errorf(http.StatusRequestTimeout, "request cancelled while waiting to be read: %v", err)
		}
		// Read the refused body off the connection (into a small buffer,
		// not memory) before answering: a server that answers and closes
		// while the client is still sending resets the connection, and the
		// client sees a broken pipe instead of the retryable 503.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, limit+1))
		return 0, err
	}
	return n, nil
}

// budgetStats is what /metrics shows of the decode budget.
func (s *Server) budgetStats() (waiting int64, refused uint64) {
	return s.budget.waiting.Load(), s.budget.refused.Load()
}

// String reports a lifetime for tests and the document.
func (l lifetime) String() string {
	switch l {
	case longPolled:
		return "long-poll"
	case socket:
		return "websocket"
	}
	return "bounded"
}

// isWebsocketUpgrade reports whether r asks to upgrade to a websocket
// (Connection: upgrade and Upgrade: websocket, in any case).
func isWebsocketUpgrade(r *http.Request) bool {
	hasToken := func(header, token string) bool {
		for _, v := range r.Header.Values(header) {
			for _, t := range strings.Split(v, ",") {
				if strings.EqualFold(strings.TrimSpace(t), token) {
					return true
				}
			}
		}
		return false
	}
	return hasToken("Connection", "upgrade") && hasToken("Upgrade", "websocket")
}
