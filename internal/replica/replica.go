// Package replica lets any number of `baton server` replicas share one
// PostgreSQL database, with no other coordinator:
//
//   - Elector runs the background services (scheduler, late runs, crash
//     detection, cancellation, pending timeout, foreman, lease reaper,
//     retention, the automation engine) on exactly one replica at a time.
//     The leader holds a session-level advisory lock on a connection of its
//     own; when its process dies the database ends the session and frees
//     the lock, and the next replica to try (every second) takes over. A
//     leader that loses its session stops its services at once.
//   - Broker carries the events each replica commits to the other
//     replicas' /events/out subscribers and automation engine: a replica
//     delivers its own events in process, NOTIFYs the others, and relays
//     theirs from the events table (woken by LISTEN, polling as the
//     fallback when a notification is lost).
//
// Everything else is shared through the database itself: runs, slots and
// leases are rows, scheduled runs carry idempotency keys, and workers' long
// polls and the UI read the database.
package replica

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/internal/events"
	"github.com/batonhq/baton/internal/lifecycle"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store/postgres"
)

// LeaderLockKey is the advisory lock the leader holds ("baton" 02; the
// migration lock is 01).
const LeaderLockKey int64 = 0x6261746f6e02

// Channel is the LISTEN/NOTIFY channel that announces committed events.
const Channel = "baton_events"

// ElectorConfig configures NewElector.
type ElectorConfig struct {
	// Store is the database the replicas share. Required.
	Store *postgres.Store
	// Services run while this replica leads, started in order.
	Services []lifecycle.Service
	// Logger receives leadership changes.
	Logger *slog.Logger
	// Interval is how often a follower tries to take the lock and a leader
	// checks its session (default 1 s).
	Interval time.Duration
	// StopTimeout bounds stopping the services when leadership ends
	// (default 15 s).
	StopTimeout time.Duration
	// TakeoverDelay is how long a replica that just took the lock waits
	// before it starts the services (default 2 × Interval + 1 s). A leader
	// whose session died learns it only at its next check, every Interval;
	// the new leader's wait covers that check, so the two never run the
	// services at the same time.
	TakeoverDelay time.Duration
}

// Elector runs its services while this replica holds the leader lock.
type Elector struct {
	cfg    ElectorConfig
	log    *slog.Logger
	base   lifecycle.Base
	leader atomic.Bool
	terms  atomic.Int64
}

// NewElector returns an Elector; Start begins contending.
func NewElector(cfg ElectorConfig) *Elector {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = 15 * time.Second
	}
	if cfg.TakeoverDelay <= 0 {
		cfg.TakeoverDelay = 2*cfg.Interval + time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Elector{cfg: cfg, log: log}
}

// Name implements lifecycle.Service.
func (e *Elector) Name() string { return "leader-election" }

// Leader reports whether this replica runs the background services now.
func (e *Elector) Leader() bool { return e.leader.Load() }

// Terms is how many times this replica became the leader.
func (e *Elector) Terms() int64 { return e.terms.Load() }

// Start implements lifecycle.Service.
func (e *Elector) Start(ctx context.Context) error {
	e.base.Start(ctx, e.run)
	return nil
}

// Stop stops the services (if leading) and gives the lock up.
func (e *Elector) Stop(ctx context.Context) error { return e.base.Stop(ctx) }

func (e *Elector) run(ctx context.Context, stopping <-chan struct{}) {
	var conn *pgx.Conn
	var group *lifecycle.Group
	closeConn := func() {
		if conn != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = conn.Close(cctx)
			cancel()
			conn = nil
		}
	}
	stopServices := func(why string) {
		if group == nil {
			return
		}
		e.leader.Store(false)
		e.log.Info("replica: stopping the background services", "reason", why)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.StopTimeout)
		if err := group.Stop(sctx); err != nil {
			e.log.Warn("replica: stopping the background services", "err", err)
		}
		cancel()
		group = nil
	}
	defer func() {
		stopServices("shutdown")
		closeConn() // ends the session: the lock is free for another replica
	}()
	var failures int
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-stopping:
			return
		case <-t.C:
		}
		t.Reset(e.cfg.Interval)
		if conn == nil {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			c, err := pgx.ConnectConfig(cctx, e.cfg.Store.Pool().Config().ConnConfig.Copy())
			cancel()
			if err != nil {
				failures++
				if failures == 1 || failures%30 == 0 {
					e.log.Warn("replica: cannot reach the database for leader election; retrying", "err", err, "attempts", failures)
				}
				continue
			}
			failures = 0
			conn = c
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if group != nil {
			// Leading: the lock lives as long as the session does.
			_, err := conn.Exec(cctx, "SELECT 1")
			cancel()
			if err != nil {
				e.log.Warn("replica: lost the database session that holds leadership", "err", err)
				closeConn()
				stopServices("leadership lost")
			}
			continue
		}
		var got bool
		err := conn.QueryRow(cctx, "SELECT pg_try_advisory_lock($1)", LeaderLockKey).Scan(&got)
		cancel()
		if err != nil {
			e.log.Warn("replica: leader election query failed", "err", err)
			closeConn()
			continue
		}
		if !got {
			continue
		}
		// Holding the lock; let a previous leader notice it lost its
		// session before this one starts the services.
		wait := time.NewTimer(e.cfg.TakeoverDelay)
		select {
		case <-stopping:
			wait.Stop()
			return
		case <-wait.C:
		}
		cctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		_, err = conn.Exec(cctx, "SELECT 1")
		cancel()
		if err != nil {
			e.log.Warn("replica: lost the database session while taking leadership", "err", err)
			closeConn()
			continue
		}
		e.terms.Add(1)
		e.log.Info("replica: this replica is the leader: starting the background services", "services", len(e.cfg.Services))
		group = &lifecycle.Group{}
		e.leader.Store(true)
		if err := group.Start(ctx, e.cfg.Services...); err != nil {
			e.log.Error("replica: starting the background services failed; giving leadership up", "err", err)
			stopServices("start failed")
			closeConn()
		}
	}
}

// Broker is the event bus of a replica: events.Bus for its own events,
// plus a relay of the events other replicas commit.
type Broker struct {
	*events.Bus
	st   *postgres.Store
	log  *slog.Logger
	poll time.Duration
	kick chan struct{}
	base lifecycle.Base
	// relayed counts events delivered from other replicas.
	relayed atomic.Int64
}

// NewBroker wraps bus. poll is the fallback interval at which the relay
// looks for other replicas' events without being notified (0: 500 ms).
func NewBroker(bus *events.Bus, st *postgres.Store, log *slog.Logger, poll time.Duration) *Broker {
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Broker{Bus: bus, st: st, log: log, poll: poll, kick: make(chan struct{}, 1)}
}

// Publish delivers committed events to this replica's subscribers and
// tells the other replicas that there are new events. It never blocks.
func (b *Broker) Publish(ws model.ID, evs []model.Event) {
	if len(evs) == 0 {
		return
	}
	b.Bus.Publish(ws, evs)
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// Relayed is how many events from other replicas were delivered here.
func (b *Broker) Relayed() int64 { return b.relayed.Load() }

// Name implements lifecycle.Service.
func (b *Broker) Name() string { return "event-relay" }

// Start runs the notifier, the listener and the relay.
func (b *Broker) Start(ctx context.Context) error {
	b.base.Start(ctx, func(ctx context.Context, stopping <-chan struct{}) {
		lctx, cancel := context.WithCancel(ctx)
		wake := make(chan struct{}, 1)
		done := make(chan struct{}, 2)
		go func() { b.notify(lctx); done <- struct{}{} }()
		go func() { b.listen(lctx, wake); done <- struct{}{} }()
		b.relay(lctx, stopping, wake)
		cancel()
		<-done
		<-done
	})
	return nil
}

// Stop implements lifecycle.Service.
func (b *Broker) Stop(ctx context.Context) error { return b.base.Stop(ctx) }

// notify sends one NOTIFY per burst of local publishes.
func (b *Broker) notify(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.kick:
		}
		nctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if _, err := b.st.Pool().Exec(nctx, "SELECT pg_notify($1, '')", Channel); err != nil && ctx.Err() == nil {
			b.log.Debug("replica: notify failed (the others poll)", "err", err)
		}
		cancel()
	}
}

// listen turns notifications into wake-ups, reconnecting as needed.
func (b *Broker) listen(ctx context.Context, wake chan<- struct{}) {
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, b.st.Pool().Config().ConnConfig.Copy())
		if err == nil {
			_, err = conn.Exec(ctx, "LISTEN "+Channel)
			for err == nil {
				_, err = conn.WaitForNotification(ctx)
				if err == nil {
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			}
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = conn.Close(cctx)
			cancel()
		}
		if ctx.Err() != nil {
			return
		}
		b.log.Debug("replica: event listener reconnects (polling meanwhile)", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

const relayPage = 1000

// relay delivers the other replicas' events to this one's subscribers.
func (b *Broker) relay(ctx context.Context, stopping <-chan struct{}, wake <-chan struct{}) {
	cursor := int64(-1)
	t := time.NewTicker(b.poll)
	defer t.Stop()
	for {
		if cursor < 0 {
			head, err := b.st.EventsHead(ctx)
			if err == nil {
				cursor = head
			}
		} else {
			cursor = b.relayOnce(ctx, cursor)
		}
		select {
		case <-stopping:
			return
		case <-wake:
		case <-t.C:
		}
	}
}

func (b *Broker) relayOnce(ctx context.Context, cursor int64) int64 {
	for {
		limit := relayPage
		if b.Bus.Subscribers() == 0 {
			// Nobody to deliver to: just move past. Watchers (the leader's
			// automation engine) read the events from the store themselves
			// and only need waking; decoding every other replica's event
			// for them cost the leader as much CPU as its own lifecycles.
			limit = 0
		}
		evs, next, err := b.st.RemoteEventsAfter(ctx, cursor, limit)
		if err != nil {
			if ctx.Err() == nil {
				b.log.Debug("replica: reading other replicas' events failed; retrying", "err", err)
			}
			return cursor
		}
		if limit == 0 && next > cursor {
			b.Bus.Wake()
		}
		cursor = next
		var ws model.ID
		var batch []model.Event
		flush := func() {
			if len(batch) > 0 {
				b.Bus.Publish(ws, batch)
				b.relayed.Add(int64(len(batch)))
				batch = nil
			}
		}
		for _, re := range evs {
			var ev model.Event
			if err := json.Unmarshal(re.Body, &ev); err != nil {
				b.log.Warn("replica: undecodable event skipped", "seq", re.Seq, "err", err)
				continue
			}
			if re.Workspace != ws {
				flush()
				ws = re.Workspace
			}
			batch = append(batch, ev)
		}
		flush()
		if len(evs) < relayPage {
			return cursor
		}
	}
}
