package services

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/runs"
	"github.com/batonhq/baton/internal/schedule"
	"github.com/batonhq/baton/internal/store"
)

// RunDeps is what the run-managing services (scheduler, late runs, crash
// detection, cancellation, foreman) need.
type RunDeps struct {
	// Store is read to find the runs and deployments to act on.
	Store store.Store
	// Runs makes every run write (creation, state changes) and publishes
	// its events.
	Runs *runs.Service
	// Events records the events services emit besides run writes (the
	// event ingest: it stores and publishes them); nil emits none.
	Events EventRecorder
	// Logger receives diagnostics (slog.Default when nil).
	Logger *slog.Logger
	// Now is the clock (time.Now when nil); tests inject their own.
	Now func() time.Time
	// Rounds, when set, records the scheduler's rounds for /metrics.
	Rounds *SchedulerRounds
}

// SchedulerRounds records when the scheduler last completed a round (the
// time the round planned from) and how long it took.
type SchedulerRounds struct {
	last     atomic.Int64 // UnixNano of the last completed round's start
	duration atomic.Int64 // nanoseconds it took
}

// Last reports the start of the last completed round (zero before the
// first) and its duration.
func (r *SchedulerRounds) Last() (time.Time, time.Duration) {
	n := r.last.Load()
	if n == 0 {
		return time.Time{}, 0
	}
	return time.Unix(0, n), time.Duration(r.duration.Load())
}

func (r *SchedulerRounds) done(start time.Time, took time.Duration) {
	if r != nil {
		r.duration.Store(int64(took))
		r.last.Store(start.UnixNano())
	}
}

// EventRecorder stores and publishes events (events.Ingest).
type EventRecorder interface {
	Accept(ctx context.Context, ws model.ID, evs []model.Event) error
}

func (d RunDeps) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}

// SchedulerPolicy bounds how far ahead the scheduler creates runs: for each
// active schedule at least MinRuns runs and MinHorizon of time, and at most
// MaxRuns runs (or the schedule's max_scheduled_runs) within MaxHorizon.
type SchedulerPolicy struct {
	MinRuns    int
	MaxRuns    int
	MinHorizon time.Duration
	MaxHorizon time.Duration
	// Batch is how many deployments one tick handles at most.
	Batch int
}

// DefaultSchedulerPolicy is Prefect's: 3 runs and 1 hour at least, 100 runs
// and 100 days at most.
var DefaultSchedulerPolicy = SchedulerPolicy{MinRuns: 3, MaxRuns: 100, MinHorizon: time.Hour, MaxHorizon: 100 * 24 * time.Hour, Batch: 250}

// minRecheck keeps a deployment whose runs are all generated from being
// looked at again on every tick.
const minRecheck = 5 * time.Second

// Scheduler creates SCHEDULED runs ahead of time for the active schedules
// of unpaused deployments. Every run carries the idempotency key
// "scheduled <deployment> <schedule> <time>", and the store skips keys it
// has, so any number of scheduler loops may run at once without creating a
// run twice.
type Scheduler struct {
	deps   RunDeps
	policy SchedulerPolicy
}

// NewScheduler returns the scheduler; Tick does one round.
func NewScheduler(deps RunDeps, policy SchedulerPolicy) *Scheduler {
	if policy.MinRuns <= 0 {
		policy = DefaultSchedulerPolicy
	}
	return &Scheduler{deps: deps, policy: policy}
}

// Service wraps the scheduler in the periodic loop.
func (s *Scheduler) Service(every time.Duration) *Periodic {
	return &Periodic{ServiceName: "scheduler", Interval: every, Tick: s.Tick, Now: s.deps.Now, Logger: s.deps.logger()}
}

// Tick schedules every deployment that is due at now and returns how many
// runs it created.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) error {
	_, err := s.Run(ctx, now)
	return err
}

// Run is Tick that also reports how many runs were created.
func (s *Scheduler) Run(ctx context.Context, now time.Time) (int, error) {
	began := time.Now()
	targets, err := s.deps.Store.DeploymentsDue(ctx, now, s.policy.Batch)
	if err != nil {
		return 0, fmt.Errorf("scheduler: %w", err)
	}
	total := 0
	var errs []error
	for _, t := range targets {
		planned, next := s.plan(t, now)
		n, err := s.deps.Runs.ScheduleDeploymentRuns(ctx, t, planned, next, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("scheduler: deployment %s: %w", t.Deployment.ID, err))
			continue
		}
		total += n
	}
	if total > 0 {
		s.deps.logger().Info("scheduled flow runs", "runs", total, "deployments", len(targets))
	}
	if len(errs) == 0 {
		s.deps.Rounds.done(began, time.Since(began))
	}
	return total, errors.Join(errs...)
}

// plan computes the runs a deployment should have from now on and when to
// look at it again.
func (s *Scheduler) plan(t store.ScheduleTarget, now time.Time) ([]runs.PlannedRun, time.Time) {
	d := t.Deployment
	p := s.policy
	next := now.Add(p.MaxHorizon)
	var planned []runs.PlannedRun
	for _, sc := range d.Schedules {
		if !sc.Active {
			continue
		}
		sched, err := schedule.FromModel(sc.Schedule)
		if err != nil {
			s.deps.logger().Warn("scheduler: skipping invalid schedule", "deployment", d.ID, "schedule", sc.ID, "err", err)
			continue
		}
		maxRuns := p.MaxRuns
		if sc.MaxScheduledRuns != nil {
			maxRuns = min(maxRuns, *sc.MaxScheduledRuns)
		}
		var times []time.Time
		for _, at := range schedule.Between(sched, now, now.Add(p.MaxHorizon), maxRuns) {
			// Generate two horizons ahead and come back when one is left,
			// so a frequent schedule is revisited every MinHorizon or so
			// rather than on every tick.
			if len(times) >= p.MinRuns && at.After(now.Add(2*p.MinHorizon)) {
				break
			}
			times = append(times, at)
		}
		if len(times) == 0 {
			continue
		}
		// Regenerate before fewer than MinRuns remain or the last run
		// comes closer than MinHorizon.
		// (A minute early, so that deployments queued behind a full
		// batch are still served in time.)
		check := times[len(times)-1].Add(-p.MinHorizon - time.Minute)
		if len(times) >= p.MinRuns {
			check = minTime(check, times[len(times)-p.MinRuns])
		}
		next = minTime(next, check)
		for _, at := range times {
			planned = append(planned, runs.PlannedRun{Run: runs.AutoRun(d, sc, at, now), At: at})
		}
	}
	if next.Before(now.Add(minRecheck)) {
		next = now.Add(minRecheck)
	}
	return planned, next
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// IdempotencyKey is the key of the auto-scheduled run of a schedule at at.
func IdempotencyKey(deployment, sched model.ID, at time.Time) string {
	return runs.ScheduledRunKey(deployment, sched, at)
}

// RunServices returns the services that manage runs over time (scheduler,
// late runs, crash detection, cancellation backstop, foreman), configured
// from the environment:
//
//	BATON_CRASH_WINDOW         silence before a run is CRASHED (default 90s)
//	BATON_CANCELLING_TIMEOUT   CANCELLING before it is forced CANCELLED (default 300s)
//
// Values are Go durations ("90s", "2m") or plain seconds.
func RunServices(deps RunDeps, getenv func(string) string) ([]Service, error) {
	window, err := envDuration(getenv, "BATON_CRASH_WINDOW", DefaultCrashWindow)
	if err != nil {
		return nil, err
	}
	cancelling, err := envDuration(getenv, "BATON_CANCELLING_TIMEOUT", DefaultCancellingTimeout)
	if err != nil {
		return nil, err
	}
	pending, err := envDuration(getenv, "BATON_PENDING_TIMEOUT", DefaultPendingTimeout)
	if err != nil {
		return nil, err
	}
	return []Service{
		NewScheduler(deps, DefaultSchedulerPolicy).Service(5 * time.Second),
		NewLateRuns(deps, 5*time.Second),
		NewCrashDetector(deps, window).Service(),
		NewCancellation(deps, cancelling).Service(20 * time.Second),
		NewPendingTimeout(deps, pending).Service(),
		NewForeman(deps, 15*time.Second, 60*time.Second),
	}, nil
}

func envDuration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
		return time.Duration(secs * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("%s: %q is not a positive duration (e.g. 90s) or number of seconds", name, v)
}
