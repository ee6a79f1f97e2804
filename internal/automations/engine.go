package automations

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// bucketSweepBuffer is how long after its window ends a bucket is kept
// (Prefect's PREFECT_EVENTS_EXPIRED_BUCKET_BUFFER).
const bucketSweepBuffer = 60 * time.Second

// positionEvery is how often the engine records its stream position when
// nothing else changed (replaying events that changed nothing is harmless,
// so the position may lag that much behind).
const positionEvery = time.Second

// engine runs the evaluator over the event stream.
type engine struct {
	s  *Service
	ev *evaluator

	// position is the stream position of the last event evaluated;
	// persisted is the last one committed.
	position, persisted int64
	persistedAt         time.Time
	version             string
	versionAt           time.Time
	lastSweep           time.Time
	lastMetrics         time.Time

	// The events clock (Prefect's): how far behind real time the events
	// being evaluated are, so proactive triggers judge absences on the
	// events' time scale, not the wall clock's, when evaluation lags.
	clockEvent, clockUpdated time.Time

	// held are events evaluated only once the event they follow has been
	// (see follows.go), by position.
	held map[int64]*heldEvent
}

func newEngine(s *Service) *engine {
	return &engine{s: s, ev: newEvaluator(s.now)}
}

// reset (re)loads the persisted state and the automations: at start, and
// after a failed commit left memory ahead of the store.
func (e *engine) reset(ctx context.Context) error {
	st, err := e.s.st.AutomationStateLoad(ctx)
	if err != nil {
		return err
	}
	ev := newEvaluator(e.s.now)
	for _, b := range st.Buckets {
		nb := &bucket{ws: b.Workspace, id: bucketID{automation: b.Automation, trigger: b.Trigger, key: b.Key}, start: b.Start, end: b.End, count: b.Count}
		if len(b.LastEvent) > 0 {
			var last model.Event
			if json.Unmarshal(b.LastEvent, &last) == nil {
				nb.lastEvent = &last
			}
		}
		ev.buckets[nb.id] = nb
	}
	for _, c := range st.ChildFirings {
		var f Firing
		if err := json.Unmarshal(c.Firing, &f); err != nil {
			continue
		}
		ev.children[childKey{automation: c.Automation, parent: c.Parent, child: c.Child}] = &childFiring{ws: c.Workspace, firing: f}
	}
	for _, t := range st.TriggerStates {
		var m metricState
		if json.Unmarshal(t.State, &m) == nil {
			ev.metricSt[bucketID{automation: t.Automation, trigger: t.Trigger}] = &m
		}
	}
	e.ev = ev
	if err := e.loadHeld(ctx, st.Held); err != nil {
		return err
	}
	all, err := e.s.st.AutomationsAll(ctx)
	if err != nil {
		return err
	}
	e.version, _ = e.s.st.AutomationsVersion(ctx)
	e.versionAt = e.s.now()
	ev.load(all)
	e.position, e.persisted = st.Position, st.Position
	defer func() { e.s.evaluated.Store(e.position) }()
	if st.Position == 0 {
		// A first start evaluates what happens from now on, not history.
		head, err := e.s.st.EventsHead(ctx)
		if err != nil {
			return err
		}
		e.position = head
		p := head
		if err := e.s.st.AutomationStateCommit(ctx, store.AutomationCommit{Position: &p}); err != nil {
			return err
		}
		e.persisted = head
	}
	e.persistedAt = e.s.now()
	return nil
}

// reload re-reads the automations after a definition change.
func (e *engine) reload(ctx context.Context) error {
	all, err := e.s.st.AutomationsAll(ctx)
	if err != nil {
		return err
	}
	e.version, _ = e.s.st.AutomationsVersion(ctx)
	e.versionAt = e.s.now()
	e.ev.load(all)
	return nil
}

// minWakeGap is the least time between two evaluation steps set off by
// committed events (a definition change or the poll timer runs at once).
const minWakeGap = 10 * time.Millisecond

func (e *engine) run(ctx context.Context, stopping <-chan struct{}) {
	var wake <-chan struct{}
	if e.s.cfg.Waker != nil {
		w, stop := e.s.cfg.Waker.Watch()
		defer stop()
		wake = w
	}
	poll := time.NewTimer(0)
	defer poll.Stop()
	failures := 0
	var lastTick time.Time
	for {
		woken := false
		select {
		case <-ctx.Done():
			return
		case <-stopping:
			return
		case <-wake:
			woken = true
		case <-e.s.changed:
		case <-poll.C:
		}
		if gap := time.Since(lastTick); woken && gap < minWakeGap {
			// Under a stream of commits every one wakes the engine; gathering
			// them for a few milliseconds makes one read of the new events
			// instead of one per commit (opening a read transaction was 8%
			// of the server's CPU at 300 lifecycles/s).
			select {
			case <-ctx.Done():
				return
			case <-stopping:
				return
			case <-time.After(minWakeGap - gap):
			}
		}
		lastTick = time.Now()
		err := e.tick(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := e.s.cfg.PollInterval
		if err != nil {
			failures++
			e.s.log.Warn("automations: evaluation step failed; reloading state", slog.Any("err", err), slog.Int("failures", failures))
			wait = min(time.Duration(failures)*e.s.cfg.PollInterval, 30*time.Second)
			if rerr := e.reset(ctx); rerr != nil && ctx.Err() == nil {
				e.s.log.Warn("automations: reload state failed", slog.Any("err", rerr))
			}
		} else {
			failures = 0
			if next := e.ev.nextProactiveAt(); !next.IsZero() {
				if d := next.Sub(e.s.now()); d < wait {
					wait = max(d, 10*time.Millisecond)
				}
			}
		}
		if !poll.Stop() {
			select {
			case <-poll.C:
			default:
			}
		}
		poll.Reset(wait)
	}
}

// tick evaluates every event committed since the last step, then the
// periodic work that is due, committing as it goes.
func (e *engine) tick(ctx context.Context) error {
	if now := e.s.now(); now.Sub(e.versionAt) >= 5*time.Second {
		// Another replica (or a direct store write) may have changed the
		// definitions.
		if v, err := e.s.st.AutomationsVersion(ctx); err == nil && v != e.version {
			if err := e.reload(ctx); err != nil {
				return err
			}
		}
		e.versionAt = now
	}
	for {
		batch, err := e.s.st.EventsAfter(ctx, e.position, e.s.cfg.BatchSize)
		if err != nil {
			return err
		}
		for i := range batch {
			se := &batch[i]
			if isDefinitionChange(se.Name) {
				// Definitions change in the same transaction as their
				// lifecycle event: reloading here makes every later event
				// see the change, whenever the engine was told about it.
				if err := e.reload(ctx); err != nil {
					return err
				}
			}
			if !e.ev.interested(se.Workspace, se.Name) {
				continue
			}
			var ev model.Event
			if err := json.Unmarshal(se.Body, &ev); err != nil {
				e.s.log.Warn("automations: undecodable event skipped", slog.Int64("seq", se.Seq), slog.Any("err", err))
				continue
			}
			e.updateClock(&ev)
			if hold, err := e.mustWait(ctx, se, &ev); err != nil {
				return err
			} else if hold {
				continue
			}
			e.ev.reactive(se.Workspace, &ev)
		}
		if len(batch) > 0 {
			e.position = batch[len(batch)-1].Seq
			e.s.evaluated.Store(e.position)
		}
		if err := e.releaseFollowers(ctx); err != nil {
			return err
		}
		if err := e.periodic(ctx); err != nil {
			return err
		}
		if err := e.commit(ctx, false); err != nil {
			return err
		}
		if len(batch) < e.s.cfg.BatchSize {
			return nil
		}
	}
}

// isDefinitionChange reports an automation's lifecycle event.
func isDefinitionChange(name string) bool {
	switch name {
	case "prefect.automation.created", "prefect.automation.updated", "prefect.automation.deleted":
		return true
	}
	return false
}

func (e *engine) updateClock(ev *model.Event) {
	now := e.s.now()
	t := ev.Occurred.Time
	if t.After(now) {
		t = now
	}
	if e.clockEvent.IsZero() || !t.Before(e.clockEvent) {
		e.clockEvent = t
	}
	e.clockUpdated = now
}

// clockOffset is Prefect's get_events_clock_offset: zero or negative.
func (e *engine) clockOffset() time.Duration {
	if e.clockEvent.IsZero() {
		return 0
	}
	return e.clockEvent.Sub(e.clockUpdated)
}

// periodic runs the time-driven evaluations that are due.
func (e *engine) periodic(ctx context.Context) error {
	now := e.s.now()
	if next := e.ev.nextProactiveAt(); !next.IsZero() && !next.After(now) {
		e.ev.proactiveDue(now, now.Add(e.clockOffset()))
	}
	if len(e.ev.metrics) > 0 && now.Sub(e.lastMetrics) >= e.s.cfg.MetricInterval {
		e.lastMetrics = now
		if err := e.evaluateMetrics(ctx, now); err != nil {
			return err
		}
	}
	if now.Sub(e.lastSweep) >= time.Minute {
		e.lastSweep = now
		e.ev.sweepBuckets(now.Add(e.clockOffset()).Add(-bucketSweepBuffer))
		// Finished actions are kept a week for their history.
		if err := e.s.st.AutomationActionsPrune(ctx, now.Add(-7*24*time.Hour), now.Add(-24*time.Hour)); err != nil {
			e.s.log.Warn("automations: prune failed", slog.Any("err", err))
		}
	}
	return nil
}

// commit writes the step (and the position when it moved and is due, or
// force) in one transaction, then publishes its events and wakes the
// executor.
func (e *engine) commit(ctx context.Context, force bool) error {
	s := e.ev.takeStep()
	now := e.s.now()
	moved := e.position != e.persisted
	if s.empty() && !(moved && (force || now.Sub(e.persistedAt) >= positionEvery)) {
		// Put the (empty) step back: nothing to write yet.
		return nil
	}
	c, err := s.commit()
	if err != nil {
		return err
	}
	if moved {
		p := e.position
		c.Position = &p
	}
	if err := e.s.st.AutomationStateCommit(ctx, c); err != nil {
		return err
	}
	if moved {
		e.persisted, e.persistedAt = e.position, now
	}
	byWS := map[model.ID][]model.Event{}
	var order []model.ID
	for _, we := range c.Events {
		if _, ok := byWS[we.Workspace]; !ok {
			order = append(order, we.Workspace)
		}
		byWS[we.Workspace] = append(byWS[we.Workspace], we.Event)
	}
	for _, ws := range order {
		e.s.cfg.Publisher.Publish(ws, byWS[ws])
	}
	if len(c.Actions) > 0 {
		e.s.exec.offer(c.Actions)
	}
	return nil
}
