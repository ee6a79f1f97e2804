// Package runs is the one owner of run writes. Creating flow runs (the API,
// a deployment's create_flow_run, the scheduler), changing flow- and
// task-run states (the API and the background services: late runs, crash
// detection, the cancellation backstop) and recording task runs reported by
// client events all go through a *Service; nothing else calls
// orchestration.Propose* or the store's run writes (boundary_test.go fails
// when something does).
//
// Every state-changing operation has the same three steps:
//
//  1. gather what the orchestration decision needs before the write (the
//     flow's and deployment's names that label the events, the parent flow
//     run a task rule looks at is read by the store in the same
//     transaction), so the decider that runs inside the store's single
//     writer is pure;
//  2. write the run, its state, its events (creations included) and what
//     the change does to concurrency slots (see slots.go) in one store
//     transaction;
//  3. publish the committed events through a Publisher (the in-process
//     event bus today; a database notification for a multi-replica engine).
//
// Callers keep what is theirs: the API decodes, validates and answers; the
// services decide which runs to look at and when.
package runs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/orchestration"
	"github.com/batonhq/baton/internal/store"
)

// Publisher fans committed events out to subscribers. Publish must not
// block and is called only after the events' transaction committed.
type Publisher interface {
	Publish(ws model.ID, evs []model.Event)
}

// Config configures New.
type Config struct {
	// Store is the system of record. Required.
	Store store.Store
	// Publisher receives the events of every committed write. Required.
	Publisher Publisher
	// Now is the clock for decisions whose caller passes no time (default
	// time.Now).
	Now func() time.Time
	// Logger receives diagnostics (default: discard).
	Logger *slog.Logger
}

// Service owns run writes. It is safe for concurrent use.
type Service struct {
	st  store.Store
	pub Publisher
	now func() time.Time
	log *slog.Logger

	// names remembers, per run, the immutable names its events carry
	// (flow and deployment), so a state change does not read them again.
	names nameCache
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Publisher == nil {
		return nil, errors.New("runs: Config.Store and Config.Publisher are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{st: cfg.Store, pub: cfg.Publisher, now: cfg.Now, log: cfg.Logger, names: newNameCache()}, nil
}

// NotFoundError reports that the run a call addresses, or something a new
// run refers to, does not exist in the workspace. It wraps store.ErrNotFound
// and its message is safe to show to the client.
type NotFoundError struct {
	// What names the kind of object ("flow run", "flow").
	What string
	// ID is the missing object's id.
	ID model.ID
	// Field names the request field that referred to it ("" when the
	// object is the one the call addresses).
	Field string
}

func (e *NotFoundError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s %s not found (field %q)", e.What, e.ID, e.Field)
	}
	return fmt.Sprintf("%s %s not found", e.What, e.ID)
}

// Unwrap makes errors.Is(err, store.ErrNotFound) hold.
func (e *NotFoundError) Unwrap() error { return store.ErrNotFound }

// notFound turns a store ErrNotFound into a NotFoundError naming the object;
// other errors pass through.
func notFound(err error, what string, id model.ID, field string) error {
	if errors.Is(err, store.ErrNotFound) {
		return &NotFoundError{What: what, ID: id, Field: field}
	}
	return err
}

// Proposal is a state proposed for a flow or task run.
type Proposal struct {
	// State is the proposed state.
	State model.StateCreate
	// Force applies the minimal policy instead of the core one.
	Force bool
	// ClientVersion is the proposing Prefect client's version, parsed from
	// its User-Agent ("" for the server's own proposals).
	ClientVersion string
	// IfStateID, when set, applies the proposal only while the run is still
	// in that state: a background sweep acting on what it read leaves alone
	// a run that moved on meanwhile (Transition.Written is then false).
	IfStateID *model.ID
	// Now is the decision time; zero means the Service's clock. Services
	// pass the time of their tick so an injected clock governs them.
	Now time.Time
	// EmitEvents (task runs) asks for a prefect.task-run.<State> event per
	// written state. The server's own task-run changes set it; a client
	// reports its task runs' states itself.
	EmitEvents bool
}

// Transition is the outcome of a Proposal.
type Transition struct {
	// Result is the orchestration result returned to the client.
	Result model.OrchestrationResult
	// Written reports whether a new state was written.
	Written bool
}

// movedOn is the answer to a proposal whose IfStateID no longer names the
// run's state: ABORT (nothing is written; the proposer acted on what it read
// and must not act again) with the run's current state.
func movedOn(cur *model.State, expected model.ID) model.OrchestrationResult {
	r := model.OrchestrationResult{Status: model.StatusAbort, Details: model.OrchestrationDetails{Type: "abort_details",
		Reason: fmt.Sprintf("The run is no longer in state %s (field \"if_state_id\"); it moved on.", expected)}}
	if cur != nil {
		c := *cur
		r.State = &c
		r.Details.Reason = fmt.Sprintf("The run is no longer in state %s (field \"if_state_id\"); it is %s now.", expected, cur.Type)
	}
	return r
}

// decisionTime is p.Now or the Service's clock.
func (s *Service) decisionTime(p Proposal) time.Time {
	if !p.Now.IsZero() {
		return p.Now
	}
	return s.now()
}

// publish hands committed events to the Publisher.
func (s *Service) publish(ws model.ID, evs []model.Event) {
	if len(evs) > 0 {
		s.pub.Publish(ws, evs)
	}
}

// --- names: what events are labelled with, gathered before the write ------

// nameCacheMax bounds each map of the cache; a full map is dropped and
// refilled (entries are immutable facts, so forgetting one costs one read).
const nameCacheMax = 50_000

// runKey is what the cache knows about a run: the ids its labels name.
type runKey struct {
	flow       model.ID
	deployment *model.ID
}

// nameCache maps runs to their flow and deployment, and those to their
// names. Flow and deployment names never change (both are identities in
// Prefect's API), so entries never go stale.
type nameCache struct {
	mu    sync.Mutex
	runs  map[[2]model.ID]runKey
	names map[[2]model.ID]string
}

func newNameCache() nameCache {
	return nameCache{runs: map[[2]model.ID]runKey{}, names: map[[2]model.ID]string{}}
}

func (c *nameCache) run(ws, id model.ID) (runKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.runs[[2]model.ID{ws, id}]
	return k, ok
}

func (c *nameCache) rememberRun(ws model.ID, r *model.FlowRun) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.runs) >= nameCacheMax {
		clear(c.runs)
	}
	c.runs[[2]model.ID{ws, r.ID}] = runKey{flow: r.FlowID, deployment: r.DeploymentID}
}

func (c *nameCache) name(ws, id model.ID) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.names[[2]model.ID{ws, id}]
	return n, ok
}

func (c *nameCache) rememberName(ws, id model.ID, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.names) >= nameCacheMax {
		clear(c.names)
	}
	c.names[[2]model.ID{ws, id}] = name
}

// flowName returns a flow's name (ErrNotFound when the flow does not exist).
func (s *Service) flowName(ctx context.Context, ws, id model.ID) (string, error) {
	if n, ok := s.names.name(ws, id); ok {
		return n, nil
	}
	f, err := s.st.FlowGet(ctx, ws, id)
	if err != nil {
		return "", err
	}
	s.names.rememberName(ws, id, f.Name)
	return f.Name, nil
}

// deploymentName returns a deployment's name, "" when it no longer exists
// (its runs outlive it).
func (s *Service) deploymentName(ctx context.Context, ws, id model.ID) (string, error) {
	if n, ok := s.names.name(ws, id); ok {
		return n, nil
	}
	d, err := s.st.DeploymentGet(ctx, ws, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	s.names.rememberName(ws, id, d.Name)
	return d.Name, nil
}

// related gathers the names a flow run's events carry, reading the run only
// when the cache does not know it, and returns the run's deployment (nil:
// none). A run that does not exist is a NotFoundError.
func (s *Service) related(ctx context.Context, ws, runID model.ID) (orchestration.RelatedResources, *model.ID, error) {
	var rel orchestration.RelatedResources
	k, ok := s.names.run(ws, runID)
	if !ok {
		r, err := s.st.FlowRunGet(ctx, ws, runID)
		if err != nil {
			return rel, nil, notFound(err, "flow run", runID, "")
		}
		s.names.rememberRun(ws, &r)
		k = runKey{flow: r.FlowID, deployment: r.DeploymentID}
	}
	var err error
	rel.FlowName, err = s.flowName(ctx, ws, k.flow)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return rel, nil, err
	}
	if k.deployment != nil {
		if rel.DeploymentName, err = s.deploymentName(ctx, ws, *k.deployment); err != nil {
			return rel, nil, err
		}
	}
	return rel, k.deployment, nil
}
