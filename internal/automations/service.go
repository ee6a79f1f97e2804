package automations

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/batonhq/baton/internal/lifecycle"
	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/runs"
	"github.com/batonhq/baton/internal/store"
)

// Publisher fans committed events out to subscribers (the event bus).
type Publisher interface {
	Publish(ws model.ID, evs []model.Event)
}

// Waker signals that new events were committed (the event bus's Watch).
type Waker interface {
	Watch() (<-chan struct{}, func())
}

// BlockDocument is a block document with its secrets resolved, as the
// notification and webhook actions need it.
type BlockDocument struct {
	ID   model.ID
	Name string
	// TypeSlug is the block type's slug ("slack-webhook", "webhook"...).
	TypeSlug string
	// Capabilities are the block schema's capabilities ("notify"...).
	Capabilities []string
	Data         map[string]any
}

// Blocks reads block documents with their secrets (the blocks service).
type Blocks interface {
	BlockDocument(ctx context.Context, ws, id model.ID) (BlockDocument, error)
}

// Config configures New. Store, Runs and Publisher are required.
type Config struct {
	Store     store.Store
	Runs      *runs.Service
	Publisher Publisher
	// Waker wakes the engine when events are committed; without it the
	// engine polls every PollInterval.
	Waker Waker
	// Blocks resolves notification and webhook blocks; without it those
	// actions fail with a reason.
	Blocks Blocks
	// HTTPClient sends notifications and webhook calls (default: one with
	// a 15 s timeout).
	HTTPClient *http.Client
	// UIURL is the UI's address for ui_url in templates ("" leaves links
	// out).
	UIURL string
	// ServiceURLs replaces the public API root of a notification service
	// (keys: ServicePagerDuty, ServiceTwilio, ServiceOpsgenie and their
	// -eu variants); tests point them at a loopback receiver.
	ServiceURLs map[string]string
	Logger      *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time

	// PollInterval is how often the engine looks for events without being
	// woken (default 1 s).
	PollInterval time.Duration
	// MetricInterval is how often metric triggers are evaluated (default
	// 30 s).
	MetricInterval time.Duration
	// BatchSize is how many events one evaluation step reads at most
	// (default 5000: a step's commit waits for the store's writer, so a
	// bigger step lets the engine catch up when the stream outruns it).
	BatchSize int
	// ActionAttempts is how many times a failing action is tried before it
	// is recorded as failed (default 5).
	ActionAttempts int
	// RetryBase is the first retry's delay; each next one doubles, up to
	// five minutes (default 2 s).
	RetryBase time.Duration
	// ActionTimeout bounds one attempt of an action (default 30 s).
	ActionTimeout time.Duration
	// MaxConcurrentActions bounds actions running at once (default 32), so
	// a receiver that hangs delays only the actions sent to it.
	MaxConcurrentActions int
}

// Service is the automation engine and the definitions API's domain. As
// a background component it follows the lifecycle contract: Start runs the
// engine and the executor; Stop lets the actions in flight finish (until
// its deadline; an action cut short runs again after a restart).
type Service struct {
	lifecycle.Base
	cfg Config
	st  store.Store
	log *slog.Logger
	now func() time.Time

	// changed wakes the engine after a definition change.
	changed chan struct{}
	// actionsQueued wakes the executor.
	actionsQueued chan struct{}

	engine *engine
	exec   *executor

	startMu sync.Mutex
	running bool

	// evaluated is the stream position of the last event the engine has
	// evaluated (in memory; the recorded one trails it by up to a second).
	evaluated atomic.Int64
}

// Evaluated returns the stream position (store.EventsHead's scale) of the
// last event the engine has evaluated: EventsHead minus it is how many
// committed events the engine has yet to look at.
func (s *Service) Evaluated() int64 { return s.evaluated.Load() }

// New returns a Service; call Start to run the engine.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Runs == nil || cfg.Publisher == nil {
		return nil, errors.New("automations: Config.Store, Runs and Publisher are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.PollInterval, time.Second)
	def(&cfg.MetricInterval, 30*time.Second)
	def(&cfg.RetryBase, 2*time.Second)
	def(&cfg.ActionTimeout, 30*time.Second)
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 5000
	}
	if cfg.ActionAttempts <= 0 {
		cfg.ActionAttempts = 5
	}
	if cfg.MaxConcurrentActions <= 0 {
		cfg.MaxConcurrentActions = 32
	}
	s := &Service{cfg: cfg, st: cfg.Store, log: cfg.Logger, now: cfg.Now,
		changed: make(chan struct{}, 1), actionsQueued: make(chan struct{}, 1)}
	s.engine = newEngine(s)
	s.exec = newExecutor(s)
	return s, nil
}

// Name implements services.Service.
func (s *Service) Name() string { return "automations" }

// Start runs the engine (which first loads its persisted state) and the
// executor.
func (s *Service) Start(ctx context.Context) error {
	s.startMu.Lock()
	defer s.startMu.Unlock()
	if s.running {
		return nil
	}
	// Load the state before returning, so what happens after Start is
	// evaluated from the persisted position.
	if err := s.engine.reset(ctx); err != nil {
		return fmt.Errorf("automations: load state: %w", err)
	}
	s.running = true
	s.Base.Start(ctx, func(work context.Context, stopping <-chan struct{}) {
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); s.engine.run(work, stopping) }()
		go func() { defer wg.Done(); s.exec.run(work, stopping) }()
		wg.Wait()
	})
	return nil
}

// Stop stops the engine and the executor, waiting for the actions in
// flight until ctx expires.
func (s *Service) Stop(ctx context.Context) error {
	s.startMu.Lock()
	defer s.startMu.Unlock()
	s.running = false
	if err := s.Base.Stop(ctx); err != nil {
		return fmt.Errorf("automations: stop: %w", err)
	}
	return nil
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// ---- definitions -------------------------------------------------------

// lifecycleEvent is prefect.automation.created|updated|deleted.
func lifecycleEvent(a *model.Automation, action string, now time.Time) model.Event {
	payload, _ := json.Marshal(a)
	return model.Event{ID: model.NewIDv7(), Occurred: model.NewTime(now), Event: "prefect.automation." + action,
		Resource: map[string]string{"prefect.resource.id": "prefect.automation." + a.ID.String(), "prefect.resource.name": a.Name},
		Related:  []map[string]string{}, Payload: payload}
}

// checkDeployments refuses a run-deployment action whose selected
// deployment does not exist (Prefect answers 404 "Deployment not found.").
func (s *Service) checkDeployments(ctx context.Context, ws model.ID, spec *model.AutomationSpec) error {
	for _, list := range [][]model.Action{spec.Actions, spec.ActionsOnTrigger, spec.ActionsOnResolve} {
		for _, a := range list {
			if a.Type != model.ActionRunDeployment || a.DeploymentID == nil || len(a.JobVariables) == 0 || string(a.JobVariables) == "{}" {
				continue
			}
			if _, err := s.st.DeploymentGet(ctx, ws, *a.DeploymentID); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return &NotFoundError{Msg: "Deployment not found."}
				}
				return err
			}
		}
	}
	return nil
}

// NotFoundError is an automation (or what it refers to) that does not
// exist; Msg is Prefect's message for it.
type NotFoundError struct{ Msg string }

func (e *NotFoundError) Error() string { return e.Msg }

// Unwrap makes errors.Is(err, store.ErrNotFound) hold.
func (e *NotFoundError) Unwrap() error { return store.ErrNotFound }

func notFoundAutomation(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &NotFoundError{Msg: "Automation not found"}
	}
	return err
}

// Create validates and stores a new automation.
func (s *Service) Create(ctx context.Context, ws model.ID, in *Input) (model.Automation, error) {
	spec, err := in.Spec()
	if err != nil {
		return model.Automation{}, err
	}
	if err := s.checkDeployments(ctx, ws, &spec); err != nil {
		return model.Automation{}, err
	}
	now := model.NewTime(s.now())
	a := model.Automation{ID: model.NewID(), Created: now, Updated: now, AutomationSpec: spec}
	w := store.AutomationWrite{Automation: a, Related: RelatedResources(&spec), Events: []model.Event{lifecycleEvent(&a, "created", now.Time)}}
	if in.OwnerResource != nil {
		w.Owner = *in.OwnerResource
	}
	if err := s.st.AutomationCreate(ctx, ws, w); err != nil {
		return model.Automation{}, err
	}
	s.committed(ws, w.Events)
	return a, nil
}

// committed publishes events written with a definition change and wakes the
// engine to reload.
func (s *Service) committed(ws model.ID, evs []model.Event) {
	s.cfg.Publisher.Publish(ws, evs)
	signal(s.changed)
}

// Replace replaces an automation's definition (PUT).
func (s *Service) Replace(ctx context.Context, ws, id model.ID, in *Input) error {
	spec, err := in.Spec()
	if err != nil {
		return err
	}
	if err := s.checkDeployments(ctx, ws, &spec); err != nil {
		return err
	}
	cur, err := s.st.AutomationGet(ctx, ws, id)
	if err != nil {
		return notFoundAutomation(err)
	}
	now := model.NewTime(s.now())
	a := model.Automation{ID: id, Created: cur.Created, Updated: now, AutomationSpec: spec}
	w := store.AutomationWrite{Automation: a, Related: RelatedResources(&spec), Events: []model.Event{lifecycleEvent(&a, "updated", now.Time)}}
	if err := s.st.AutomationReplace(ctx, ws, w); err != nil {
		return notFoundAutomation(err)
	}
	s.committed(ws, w.Events)
	return nil
}

// SetEnabled enables or disables an automation (PATCH, and the pause and
// resume automation actions).
func (s *Service) SetEnabled(ctx context.Context, ws, id model.ID, enabled bool) (model.Automation, error) {
	var evs []model.Event
	a, err := s.st.AutomationUpdate(ctx, ws, id, func(a *model.Automation) ([]model.Event, error) {
		a.Enabled = enabled
		if enabled {
			// The whole automation must still be valid once enabled (as
			// Prefect re-validates a partial update).
			if err := checkRunDeploymentLoops(&a.AutomationSpec); err != nil {
				return nil, err
			}
		}
		a.Updated = model.NewTime(s.now())
		evs = []model.Event{lifecycleEvent(a, "updated", a.Updated.Time)}
		return evs, nil
	})
	if err != nil {
		return a, notFoundAutomation(err)
	}
	s.committed(ws, evs)
	return a, nil
}

// Delete deletes an automation.
func (s *Service) Delete(ctx context.Context, ws, id model.ID) error {
	var evs []model.Event
	_, err := s.st.AutomationDelete(ctx, ws, id, func(a model.Automation) []model.Event {
		evs = []model.Event{lifecycleEvent(&a, "deleted", s.now())}
		return evs
	})
	if err != nil {
		return notFoundAutomation(err)
	}
	s.committed(ws, evs)
	return nil
}

// Get reads one automation.
func (s *Service) Get(ctx context.Context, ws, id model.ID) (model.Automation, error) {
	a, err := s.st.AutomationGet(ctx, ws, id)
	return a, notFoundAutomation(err)
}

// Query is POST /automations/filter's body.
type Query struct {
	Sort        string                  `json:"sort"`
	Offset      int                     `json:"offset"`
	Limit       *int                    `json:"limit"`
	Automations *model.AutomationFilter `json:"automations"`
}

func matchesFilter(a *model.Automation, f *model.AutomationFilter) bool {
	if f == nil {
		return true
	}
	var conds []bool
	if f.ID != nil && f.ID.Any != nil {
		conds = append(conds, slices.Contains(f.ID.Any, a.ID))
	}
	if f.Name != nil && f.Name.Any != nil {
		conds = append(conds, slices.Contains(f.Name.Any, a.Name))
	}
	if f.Created != nil && f.Created.Before != nil {
		conds = append(conds, !a.Created.After(f.Created.Before.Time))
	}
	if t := f.Tags; t != nil {
		var tc []bool
		if t.All != nil {
			all := true
			for _, x := range t.All {
				all = all && slices.Contains(a.Tags, x)
			}
			tc = append(tc, all)
		}
		if t.Any != nil {
			hit := false
			for _, x := range t.Any {
				hit = hit || slices.Contains(a.Tags, x)
			}
			tc = append(tc, hit)
		}
		if t.IsNull != nil {
			tc = append(tc, (len(a.Tags) == 0) == *t.IsNull)
		}
		conds = append(conds, combine(t.Operator, tc))
	}
	return combine(f.Operator, conds)
}

func combine(op string, conds []bool) bool {
	if len(conds) == 0 {
		return true
	}
	if op == "or_" {
		return slices.Contains(conds, true)
	}
	return !slices.Contains(conds, false)
}

// CheckQuery validates a filter query, naming the field.
func CheckQuery(q *Query) error {
	if q.Sort != "" && !slices.Contains(model.AutomationSorts, q.Sort) {
		return invalidf("sort", "%q is not one of %s", q.Sort, strings.Join(model.AutomationSorts, ", "))
	}
	if q.Offset < 0 {
		return invalidf("offset", "must be greater than or equal to 0")
	}
	if q.Limit != nil && (*q.Limit < 0 || *q.Limit > 200) {
		return invalidf("limit", "must be between 0 and 200")
	}
	for _, f := range []*model.AutomationFilter{q.Automations} {
		if f != nil && f.Operator != "" && f.Operator != "and_" && f.Operator != "or_" {
			return invalidf("automations.operator", "%q is not one of and_, or_", f.Operator)
		}
	}
	return nil
}

// List returns the automations matching q, sorted and paged.
func (s *Service) List(ctx context.Context, ws model.ID, q Query) ([]model.Automation, error) {
	all, err := s.st.AutomationList(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := []model.Automation{}
	for i := range all {
		if matchesFilter(&all[i], q.Automations) {
			out = append(out, all[i])
		}
	}
	sortAutomations(out, q.Sort)
	if q.Offset >= len(out) {
		return []model.Automation{}, nil
	}
	out = out[q.Offset:]
	limit := 200
	if q.Limit != nil {
		limit = *q.Limit
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func sortAutomations(list []model.Automation, sort string) {
	slices.SortStableFunc(list, func(a, b model.Automation) int {
		switch sort {
		case "CREATED_DESC":
			return b.Created.Compare(a.Created.Time)
		case "UPDATED_DESC":
			return b.Updated.Compare(a.Updated.Time)
		case "NAME_DESC":
			return cmp.Compare(b.Name, a.Name)
		}
		return cmp.Compare(a.Name, b.Name)
	})
}

// Count counts the automations matching f.
func (s *Service) Count(ctx context.Context, ws model.ID, f *model.AutomationFilter) (int, error) {
	all, err := s.st.AutomationList(ctx, ws)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range all {
		if matchesFilter(&all[i], f) {
			n++
		}
	}
	return n, nil
}

// Related returns the automations related to a resource.
func (s *Service) Related(ctx context.Context, ws model.ID, resourceID string) ([]model.Automation, error) {
	return s.st.AutomationsRelated(ctx, ws, resourceID, false)
}

// DeleteOwned deletes the automations a resource owns (a deployment's
// triggers, replaced on every deploy and deleted with it).
func (s *Service) DeleteOwned(ctx context.Context, ws model.ID, resourceID string) error {
	var evs []model.Event
	_, err := s.st.AutomationsDeleteOwned(ctx, ws, resourceID, s.now(), func(a model.Automation) []model.Event {
		e := lifecycleEvent(&a, "deleted", s.now())
		evs = append(evs, e)
		return []model.Event{e}
	})
	if err != nil {
		return err
	}
	if len(evs) > 0 {
		s.committed(ws, evs)
	}
	return nil
}
