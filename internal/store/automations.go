package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// AutomationWrite is an automation to insert or replace with what goes with
// it in the same transaction.
type AutomationWrite struct {
	Automation model.Automation
	// Owner, when set, is the resource that owns the automation (a
	// deployment's triggers): it is deleted with DELETE /owned-by/{owner}.
	Owner string
	// Related are the resources the automation acts on (the deployments its
	// run-deployment actions select); replacing an automation replaces them.
	Related []string
	// Events are written in the same transaction (the automation's
	// lifecycle event).
	Events []model.Event
}

// WorkspaceAutomation is an automation with the workspace it belongs to,
// for the engine that evaluates every workspace's automations.
type WorkspaceAutomation struct {
	Workspace  model.ID
	Automation model.Automation
}

// Automations stores automations, the resources they relate to, the
// evaluation state of their triggers and the queue of their actions.
type Automations interface {
	// AutomationCreate inserts w.Automation with its owner, related
	// resources and events.
	AutomationCreate(ctx context.Context, ws model.ID, w AutomationWrite) error
	AutomationGet(ctx context.Context, ws, id model.ID) (model.Automation, error)
	// AutomationList returns every automation of the workspace (callers
	// filter, sort and page: a workspace has few).
	AutomationList(ctx context.Context, ws model.ID) ([]model.Automation, error)
	// AutomationReplace replaces an automation's definition (keeping its
	// id, created time and owner), replaces its related resources, and
	// drops the evaluation state of its old triggers.
	AutomationReplace(ctx context.Context, ws model.ID, w AutomationWrite) error
	// AutomationUpdate applies fn to the stored automation in a write
	// transaction and writes the events fn returns with it.
	AutomationUpdate(ctx context.Context, ws, id model.ID, fn func(*model.Automation) ([]model.Event, error)) (model.Automation, error)
	// AutomationDelete deletes an automation with its relations and trigger
	// state, writing the events built from the deleted row.
	AutomationDelete(ctx context.Context, ws, id model.ID, events func(model.Automation) []model.Event) (model.Automation, error)
	// AutomationsRelated returns the automations related to a resource
	// (ownedOnly: those it owns), oldest first.
	AutomationsRelated(ctx context.Context, ws model.ID, resourceID string, ownedOnly bool) ([]model.Automation, error)
	// AutomationsDeleteOwned deletes the automations a resource owns that
	// were created at or before createdBefore, and returns them.
	AutomationsDeleteOwned(ctx context.Context, ws model.ID, resourceID string, createdBefore time.Time, events func(model.Automation) []model.Event) ([]model.Automation, error)

	// AutomationsAll returns every automation of every workspace (for the
	// engine).
	AutomationsAll(ctx context.Context) ([]WorkspaceAutomation, error)
	// AutomationsVersion is a value that changes whenever any automation is
	// created, changed or deleted, so a replica can tell it must reload.
	AutomationsVersion(ctx context.Context) (string, error)

	// AutomationStateLoad reads the engine's persisted state: its position
	// in the event stream, the open buckets, child firings and trigger
	// states.
	AutomationStateLoad(ctx context.Context) (AutomationState, error)
	// AutomationStateCommit writes an evaluation step atomically: the new
	// stream position, state changes, the actions the step queued and the
	// events it emitted. State of automations that no longer exist is not
	// written.
	AutomationStateCommit(ctx context.Context, c AutomationCommit) error

	// AutomationActionsDue returns up to limit queued actions whose next
	// attempt is due at now, oldest first.
	AutomationActionsDue(ctx context.Context, now time.Time, limit int) ([]AutomationAction, error)
	// AutomationActionSave records the outcome of an attempt (the row's
	// Status, Attempts, NextAttempt and Result) with the events it emitted.
	AutomationActionSave(ctx context.Context, a AutomationAction, events []model.Event) error
	// AutomationActionsList returns an automation's queued and finished
	// actions, newest first (its firing history).
	AutomationActionsList(ctx context.Context, ws, automation model.ID, limit int) ([]AutomationAction, error)
	// AutomationActionsPrune deletes finished actions last updated before
	// before, and buckets that ended before bucketsBefore.
	AutomationActionsPrune(ctx context.Context, before, bucketsBefore time.Time) error
}

// Webhooks stores inbound webhooks.
type Webhooks interface {
	// WebhookCreate inserts a webhook (ErrConflict when its slug is taken).
	WebhookCreate(ctx context.Context, ws model.ID, w model.Webhook) error
	WebhookGet(ctx context.Context, ws, id model.ID) (model.Webhook, error)
	// WebhookList returns the workspace's webhooks by name.
	WebhookList(ctx context.Context, ws model.ID) ([]model.Webhook, error)
	// WebhookUpdate applies fn to the stored webhook in a write transaction.
	WebhookUpdate(ctx context.Context, ws, id model.ID, fn func(*model.Webhook) error) (model.Webhook, error)
	WebhookDelete(ctx context.Context, ws, id model.ID) error
	// WebhookBySlug finds a webhook by its slug in any workspace.
	WebhookBySlug(ctx context.Context, slug string) (model.ID, model.Webhook, error)
}

// SequencedEvent is a stored event with its position in the stream of all
// workspaces' events (positions grow in commit order).
type SequencedEvent struct {
	Seq       int64
	Workspace model.ID
	// Name is the event's name, readable before decoding Body.
	Name string
	// Body is the event's JSON.
	Body []byte
}

// EventStream reads every workspace's events in commit order (the
// automations engine consumes it).
type EventStream interface {
	// EventsAfter returns up to limit events with a position after seq, in
	// position order.
	EventsAfter(ctx context.Context, seq int64, limit int) ([]SequencedEvent, error)
	// EventsHead returns the position of the newest event (0 when none).
	EventsHead(ctx context.Context) (int64, error)
	// EventSeq returns the position of a workspace's event (ErrNotFound
	// when it is not stored).
	EventSeq(ctx context.Context, ws, id model.ID) (int64, error)
}

// BucketKey identifies an event trigger's bucket: one per trigger and
// bucketing key (the values of the trigger's for_each labels).
type BucketKey struct {
	Workspace  model.ID
	Automation model.ID
	Trigger    model.ID
	Key        string
}

// AutomationBucket is an event trigger's count of matching events in a
// window, Prefect's automation bucket.
type AutomationBucket struct {
	BucketKey
	Start, End time.Time
	Count      int
	// LastEvent is the JSON of the last event counted (nil when none).
	LastEvent json.RawMessage
}

// ChildFiringKey identifies a child trigger's latest firing under a
// composite trigger.
type ChildFiringKey struct {
	Workspace  model.ID
	Automation model.ID
	Parent     model.ID
	Child      model.ID
}

// AutomationChildFiring is the latest firing of a composite trigger's
// child, kept until the parent fires or it ages out.
type AutomationChildFiring struct {
	ChildFiringKey
	FiringID model.ID
	FiredAt  time.Time
	// Firing is the firing's JSON.
	Firing json.RawMessage
}

// TriggerStateKey identifies a trigger's own evaluation state.
type TriggerStateKey struct {
	Workspace  model.ID
	Automation model.ID
	Trigger    model.ID
}

// AutomationTriggerState is a trigger's evaluation state that is not a
// bucket (a metric trigger's breach, a proactive trigger's next run).
type AutomationTriggerState struct {
	TriggerStateKey
	// State is the state's JSON; nil deletes it.
	State json.RawMessage
}

// AutomationState is the engine's persisted state.
type AutomationState struct {
	// Position is the stream position of the last event whose effects are
	// in this state.
	Position      int64
	Buckets       []AutomationBucket
	ChildFirings  []AutomationChildFiring
	TriggerStates []AutomationTriggerState
	// Held are the positions of events held back until the event they
	// follow has been evaluated (Prefect's causal ordering).
	Held []int64
}

// AutomationCommit is one evaluation step's writes.
type AutomationCommit struct {
	// Position, when non-nil, becomes the stream position.
	Position      *int64
	Buckets       []AutomationBucket
	BucketDeletes []BucketKey
	// BucketsDropped deletes every bucket of these triggers.
	BucketsDropped     []TriggerStateKey
	ChildFirings       []AutomationChildFiring
	ChildFiringDeletes []ChildFiringKey
	TriggerStates      []AutomationTriggerState
	Actions            []AutomationAction
	Events             []WorkspaceEvent
	// Hold and Release add and remove held events (by position).
	Hold, Release []int64
}

// WorkspaceEvent is an event with its workspace.
type WorkspaceEvent struct {
	Workspace model.ID
	Event     model.Event
}

// Action statuses.
const (
	ActionPending = "pending"
	ActionDone    = "done"
	ActionFailed  = "failed"
)

// AutomationAction is one queued action of a firing (Prefect's
// TriggeredAction), carried out at least once by the action executor.
type AutomationAction struct {
	Workspace model.ID
	// ID is the invocation id, unique per firing and action: effects are
	// made idempotent on it.
	ID         model.ID
	Automation model.ID
	Status     string
	Attempts   int
	// NextAttempt is when a pending action is due.
	NextAttempt time.Time
	Created     time.Time
	// Updated is when the row last changed (its last attempt).
	Updated time.Time
	// Body is the triggered action's JSON.
	Body json.RawMessage
	// Result is the last attempt's outcome (JSON), nil before any.
	Result json.RawMessage
}
