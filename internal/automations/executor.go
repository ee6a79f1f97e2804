package automations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// ActionFailed is an action that cannot succeed by trying again (its
// target does not exist, a template does not render, the state change was
// refused): it is recorded as failed at once. Any other error is retried.
type ActionFailed struct{ Reason string }

func (e *ActionFailed) Error() string { return e.Reason }

func failed(format string, args ...any) error {
	return &ActionFailed{Reason: fmt.Sprintf(format, args...)}
}

// maxRetryDelay caps the backoff between attempts.
const maxRetryDelay = 5 * time.Minute

// executor carries out queued actions.
type executor struct {
	s        *Service
	mu       sync.Mutex
	inflight map[model.ID]bool
	// recorded remembers the attempts this process recorded, so a due list
	// read before an attempt was saved does not start it again.
	recorded map[model.ID]recordedAttempt
	sem      chan struct{}
	wg       sync.WaitGroup
	// offers are actions the engine just committed, handed over directly
	// so they start without waiting for a read of the queue (the queue in
	// the store stays the record: what is not taken here is found there).
	offers chan []store.AutomationAction
	// backlog is set when due actions were left waiting for a free slot,
	// so the next finished attempt dispatches again at once instead of at
	// the next tick.
	backlog atomic.Bool
}

type recordedAttempt struct {
	attempts int // math.MaxInt once the action finished
	at       time.Time
}

func newExecutor(s *Service) *executor {
	return &executor{s: s, inflight: map[model.ID]bool{}, recorded: map[model.ID]recordedAttempt{}, sem: make(chan struct{}, s.cfg.MaxConcurrentActions),
		offers: make(chan []store.AutomationAction, 64)}
}

// offer hands just-committed actions to the executor without blocking.
func (x *executor) offer(actions []store.AutomationAction) {
	select {
	case x.offers <- actions:
	default:
		signal(x.s.actionsQueued)
	}
}

func (x *executor) run(ctx context.Context, stopping <-chan struct{}) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	defer x.wg.Wait()
	x.dispatch(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-stopping:
			return
		case actions := <-x.offers:
			for _, a := range actions {
				if !x.start(ctx, a) {
					break
				}
			}
			continue
		case <-x.s.actionsQueued:
		case <-t.C:
		}
		x.dispatch(ctx)
	}
}

// dispatch starts every due action that is not running yet, as far as the
// concurrency bound allows.
func (x *executor) dispatch(ctx context.Context) {
	limit := 2 * x.s.cfg.MaxConcurrentActions
	due, err := x.s.st.AutomationActionsDue(ctx, x.s.now(), limit)
	if err != nil {
		if ctx.Err() == nil {
			x.s.log.Warn("automations: read due actions failed", slog.Any("err", err))
		}
		return
	}
	now := x.s.now()
	x.mu.Lock()
	for id, r := range x.recorded {
		if now.Sub(r.at) > time.Minute {
			delete(x.recorded, id)
		}
	}
	x.mu.Unlock()
	x.backlog.Store(len(due) == limit)
	for _, a := range due {
		if !x.start(ctx, a) {
			x.backlog.Store(true)
			return
		}
	}
}

// start runs an attempt of a due action unless it is running already or
// this process recorded a later attempt; false when no slot is free.
func (x *executor) start(ctx context.Context, a store.AutomationAction) bool {
	x.mu.Lock()
	busy := x.inflight[a.ID]
	if r, ok := x.recorded[a.ID]; ok && a.Attempts < r.attempts {
		busy = true // a stale read of a row this process has moved on
	}
	if !busy {
		x.inflight[a.ID] = true
	}
	x.mu.Unlock()
	if busy {
		return true
	}
	select {
	case x.sem <- struct{}{}:
	default:
		x.mu.Lock()
		delete(x.inflight, a.ID)
		x.mu.Unlock()
		x.backlog.Store(true)
		return false
	}
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		// The slot is given back once the action has run, before its
		// outcome is recorded: a store slow to commit (a writer busy with
		// big groups of events) delays the record, not the next actions.
		// The action stays in inflight until its record is saved, so it is
		// not started again meanwhile.
		released := false
		release := func() {
			if released {
				return
			}
			released = true
			<-x.sem
			if x.backlog.Load() {
				signal(x.s.actionsQueued)
			}
		}
		defer func() {
			release()
			x.mu.Lock()
			delete(x.inflight, a.ID)
			x.mu.Unlock()
			if x.backlog.Load() {
				signal(x.s.actionsQueued)
			}
		}()
		x.attempt(ctx, a, release)
	}()
	return true
}

// actionResult is what an action reports besides success or failure:
// details for the executed/failed event's payload and the resources it
// touched (its related resources).
type actionResult struct {
	details map[string]any
	related []map[string]string
	// delivered are the keys of the deliveries (one SMS to one number, one
	// alert to one responder) that succeeded in this or an earlier attempt
	// of the same invocation: a retry after a partial failure sends only
	// what did not go out (see deliverOnce).
	delivered map[string]bool
}

// deliverOnce runs send unless the delivery named key already succeeded in
// an earlier attempt of this invocation, and remembers it when it does.
func (r *actionResult) deliverOnce(key string, send func() error) error {
	if r.delivered[key] {
		return nil
	}
	if err := send(); err != nil {
		return err
	}
	if r.delivered == nil {
		r.delivered = map[string]bool{}
	}
	r.delivered[key] = true
	return nil
}

// deliveredKeys lists delivered sorted, for the recorded outcome.
func (r *actionResult) deliveredKeys() []string {
	keys := make([]string, 0, len(r.delivered))
	for k := range r.delivered {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// previousDeliveries reads the delivered keys an earlier attempt recorded
// in the action's result.
func previousDeliveries(result json.RawMessage) map[string]bool {
	var prev struct {
		Delivered []string `json:"delivered"`
	}
	if len(result) == 0 || json.Unmarshal(result, &prev) != nil || len(prev.Delivered) == 0 {
		return nil
	}
	m := make(map[string]bool, len(prev.Delivered))
	for _, k := range prev.Delivered {
		m[k] = true
	}
	return m
}

func (r *actionResult) relate(id, role string, name string) {
	m := map[string]string{"prefect.resource.id": id, "prefect.resource.role": role}
	if name != "" {
		m["prefect.resource.name"] = name
	}
	r.related = append(r.related, m)
}

// attempt runs one attempt of a queued action and records its outcome;
// release gives its concurrency slot back once the action has run.
func (x *executor) attempt(ctx context.Context, row store.AutomationAction, release func()) {
	var ta TriggeredAction
	res := &actionResult{details: map[string]any{}, delivered: previousDeliveries(row.Result)}
	var err error
	if jerr := json.Unmarshal(row.Body, &ta); jerr != nil {
		err = failed("the queued action could not be read: %v", jerr)
	} else {
		actx, cancel := context.WithTimeout(ctx, x.s.cfg.ActionTimeout)
		err = x.s.perform(actx, row.Workspace, &ta, res)
		cancel()
	}
	release()
	if ctx.Err() != nil {
		// Shutting down: the action stays queued and runs after a restart.
		return
	}
	row.Attempts++
	now := x.s.now()
	var evs []model.Event
	var fa *ActionFailed
	switch {
	case err == nil:
		row.Status = store.ActionDone
		evs = actionEvents(&ta, res, "", now)
	case errors.As(err, &fa) || row.Attempts >= x.s.cfg.ActionAttempts:
		reason := err.Error()
		if fa == nil {
			reason = fmt.Sprintf("%s (after %d attempts)", reason, row.Attempts)
		}
		row.Status = store.ActionFailed
		evs = actionEvents(&ta, res, reason, now)
		x.s.log.Warn("automations: action failed", slog.String("automation", ta.Automation.ID.String()), slog.String("action", ta.Action.Type),
			slog.String("invocation", ta.ID.String()), slog.String("reason", reason))
	default:
		delay := x.s.cfg.RetryBase << (row.Attempts - 1)
		if delay > maxRetryDelay || delay <= 0 {
			delay = maxRetryDelay
		}
		row.NextAttempt = now.Add(delay)
		x.s.log.Info("automations: action will be retried", slog.String("automation", ta.Automation.ID.String()), slog.String("action", ta.Action.Type),
			slog.Int("attempt", row.Attempts), slog.Duration("in", delay), slog.Any("err", err))
	}
	result := map[string]any{"attempts": row.Attempts, "details": res.details}
	if err != nil {
		result["error"] = err.Error()
	}
	if len(res.delivered) > 0 {
		result["delivered"] = res.deliveredKeys()
	}
	row.Result, _ = json.Marshal(result)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if serr := x.s.st.AutomationActionSave(sctx, row, evs); serr != nil {
		x.s.log.Warn("automations: record action outcome failed", slog.String("invocation", row.ID.String()), slog.Any("err", serr))
		return
	}
	rec := recordedAttempt{attempts: row.Attempts, at: now}
	if row.Status != store.ActionPending {
		rec.attempts = math.MaxInt
	}
	x.mu.Lock()
	x.recorded[row.ID] = rec
	x.mu.Unlock()
	if len(evs) > 0 {
		x.s.cfg.Publisher.Publish(row.Workspace, evs)
	}
	if row.Status == store.ActionPending {
		signal(x.s.actionsQueued)
	}
}

// actionEvents are prefect.automation.action.triggered and .executed (or
// .failed when reason is set) for one action, as Prefect's Action.succeed
// and Action.fail emit them.
func actionEvents(ta *TriggeredAction, res *actionResult, reason string, now time.Time) []model.Event {
	a := &ta.Automation
	resource := map[string]string{
		"prefect.resource.id":   "prefect.automation." + a.ID.String(),
		"prefect.resource.name": a.Name,
		"prefect.trigger-type":  a.Trigger.Type,
	}
	if a.Trigger.Type == model.TriggerEvent {
		resource["prefect.posture"] = a.Trigger.Posture
	}
	related := append([]map[string]string{}, res.related...)
	if ta.AutomationTriggeredEventID != nil {
		related = append(related, map[string]string{"prefect.resource.id": "prefect.event." + ta.AutomationTriggeredEventID.String(), "prefect.resource.role": "automation-triggered-event"})
	}
	var follows *model.ID
	if e := ta.TriggeringEvent; e != nil {
		related = append(related, map[string]string{"prefect.resource.id": "prefect.event." + e.ID.String(), "prefect.resource.role": "triggering-event"})
		if d := ta.Triggered.Sub(e.Occurred.Time); d < 5*time.Minute && d > -5*time.Minute {
			id := e.ID
			follows = &id
		}
	}
	details := map[string]any{"action_index": ta.ActionIndex, "action_type": ta.Action.Type, "invocation": ta.ID.String()}
	triggeredPayload, _ := json.Marshal(details)
	outcome := map[string]any{}
	for k, v := range details {
		outcome[k] = v
	}
	name := "prefect.automation.action.executed"
	if reason != "" {
		name = "prefect.automation.action.failed"
		outcome["reason"] = reason
	}
	for k, v := range res.details {
		outcome[k] = v
	}
	outcomePayload, _ := json.Marshal(outcome)
	triggeredID := model.NewIDv7()
	return []model.Event{
		{ID: triggeredID, Occurred: ta.Triggered, Event: "prefect.automation.action.triggered", Resource: resource, Related: related, Payload: triggeredPayload, Follows: follows},
		{ID: model.NewIDv7(), Occurred: model.NewTime(now), Event: name, Resource: resource, Related: related, Payload: outcomePayload, Follows: &triggeredID},
	}
}
