package api

import (
	"encoding/json"
	"log/slog"
	"sort"
	"strings"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/store"
)

// The Prefect server emits an event when a flow, deployment, work pool or
// work queue is created, updated or deleted, and when a pool or queue is
// paused, so automations can trigger on them. The builders below give them
// Prefect's names, resources and related resources
// (prefect/server/models/events.py and events/schemas/lifecycle.py).

// emit records server events after the change they describe committed (the
// ingest persists and publishes them). The change stands if recording fails,
// so a failure is logged, not returned.
func (c *call) emit(evs ...model.Event) {
	if len(evs) == 0 {
		return
	}
	now := model.NewTime(c.srv.now())
	for i := range evs {
		if evs[i].ID.IsNil() {
			evs[i].ID = model.NewIDv7()
		}
		if evs[i].Occurred.IsZero() {
			evs[i].Occurred = now
		}
		if evs[i].Related == nil {
			evs[i].Related = []map[string]string{}
		}
	}
	if err := c.srv.cfg.Ingest.Accept(c.ctx, c.ws, evs); err != nil {
		c.srv.log.Warn("server event not recorded", slog.String("event", evs[0].Event), slog.Any("err", err))
	}
}

func mustPayload(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func flowEvent(action string, f model.Flow) model.Event {
	labels := any(f.Labels)
	if f.Labels == nil {
		labels = map[string]any{}
	}
	return model.Event{Event: "prefect.flow." + action,
		Resource: map[string]string{"prefect.resource.id": "prefect.flow." + f.ID.String(), "prefect.resource.name": f.Name},
		Payload:  mustPayload(map[string]any{"name": f.Name, "tags": nonNil(f.Tags), "labels": labels})}
}

// deploymentRelated are a deployment event's related resources: its flow,
// work queue and work pool.
func (c *call) deploymentRelated(d model.Deployment) []map[string]string {
	var rel []map[string]string
	if f, err := c.srv.cfg.Store.FlowGet(c.ctx, c.ws, d.FlowID); err == nil {
		rel = append(rel, map[string]string{"prefect.resource.id": "prefect.flow." + f.ID.String(), "prefect.resource.name": f.Name, "prefect.resource.role": "flow"})
	}
	if d.WorkQueueID != nil && d.WorkQueueName != nil {
		rel = append(rel, map[string]string{"prefect.resource.id": "prefect.work-queue." + d.WorkQueueID.String(), "prefect.resource.name": *d.WorkQueueName, "prefect.resource.role": "work-queue"})
	}
	if d.WorkPoolName != nil {
		if p, err := c.srv.cfg.Store.WorkPoolGet(c.ctx, c.ws, *d.WorkPoolName); err == nil {
			rel = append(rel, map[string]string{"prefect.resource.id": "prefect.work-pool." + p.ID.String(), "prefect.resource.name": p.Name,
				"prefect.work-pool.type": p.Type, "prefect.resource.role": "work-pool"})
		}
	}
	if d.StorageDocumentID != nil {
		rel = append(rel, map[string]string{"prefect.resource.id": "prefect.block-document." + d.StorageDocumentID.String(), "prefect.resource.role": "storage"})
	}
	if d.InfrastructureDocumentID != nil {
		rel = append(rel, map[string]string{"prefect.resource.id": "prefect.block-document." + d.InfrastructureDocumentID.String(), "prefect.resource.role": "infrastructure"})
	}
	return rel
}

// changedFields compares two objects' JSON fields (Prefect's "updates":
// {field: {from, to}}).
func changedFields(before, after any, skip ...string) map[string]map[string]any {
	var b, a map[string]any
	_ = json.Unmarshal(mustPayload(before), &b)
	_ = json.Unmarshal(mustPayload(after), &a)
	out := map[string]map[string]any{}
	ignore := map[string]bool{"updated": true, "created": true}
	for _, s := range skip {
		ignore[s] = true
	}
	for k, v := range a {
		if ignore[k] {
			continue
		}
		if string(mustPayload(v)) != string(mustPayload(b[k])) {
			out[k] = map[string]any{"from": b[k], "to": v}
		}
	}
	return out
}

func updatePayload(changes map[string]map[string]any) json.RawMessage {
	fields := make([]string, 0, len(changes))
	for k := range changes {
		fields = append(fields, k)
	}
	sort.Strings(fields)
	return mustPayload(map[string]any{"updated_fields": fields, "updates": changes})
}

func (c *call) deploymentEvent(action string, d model.Deployment, changes map[string]map[string]any) model.Event {
	e := model.Event{Event: "prefect.deployment." + action,
		Resource: map[string]string{"prefect.resource.id": "prefect.deployment." + d.ID.String(), "prefect.resource.name": d.Name},
		Related:  c.deploymentRelated(d)}
	if changes != nil {
		e.Payload = updatePayload(changes)
	}
	return e
}

func workPoolResource(p model.WorkPool) map[string]string {
	return map[string]string{"prefect.resource.id": "prefect.work-pool." + p.ID.String(), "prefect.resource.name": p.Name,
		"prefect.work-pool.type": p.Type, "prefect.resource.role": "work-pool"}
}

func workPoolEvent(action string, p model.WorkPool, changes map[string]map[string]any) model.Event {
	e := model.Event{Event: "prefect.work-pool." + action, Resource: workPoolResource(p)}
	if action != "updated" && !p.DefaultQueueID.IsNil() {
		e.Related = []map[string]string{{"prefect.resource.id": "prefect.work-queue." + p.DefaultQueueID.String(), "prefect.resource.role": "default-queue"}}
	}
	if changes != nil {
		e.Payload = updatePayload(changes)
	}
	return e
}

// kebab turns a status (NOT_READY) into an event suffix (not-ready).
func kebab(status string) string { return strings.ReplaceAll(strings.ToLower(status), "_", "-") }

func workPoolStatusEvent(p model.WorkPool) model.Event {
	res := workPoolResource(p)
	delete(res, "prefect.resource.role")
	return model.Event{Event: "prefect.work-pool." + kebab(p.Status), Resource: res}
}

func (c *call) workQueueEvent(action string, q model.WorkQueue, changes map[string]map[string]any) model.Event {
	e := model.Event{Event: "prefect.work-queue." + action,
		Resource: map[string]string{"prefect.resource.id": "prefect.work-queue." + q.ID.String(), "prefect.resource.name": q.Name, "prefect.resource.role": "work-queue"}}
	if q.WorkPoolName != nil {
		if p, err := c.srv.cfg.Store.WorkPoolGet(c.ctx, c.ws, *q.WorkPoolName); err == nil {
			rel := workPoolResource(p)
			e.Related = []map[string]string{rel}
		}
	}
	if changes != nil {
		e.Payload = updatePayload(changes)
	}
	return e
}

func (c *call) workQueueStatusEvent(q model.WorkQueue, status string) model.Event {
	e := c.workQueueEvent("", q, nil)
	e.Event = "prefect.work-queue." + kebab(status)
	return e
}

// emitBecameReady records prefect.work-queue.ready and
// prefect.deployment.ready for what a poll moved from NOT_READY to READY
// (Prefect's mark_work_queues_ready and mark_deployments_ready).
func (c *call) emitBecameReady(ch *store.ReadyChanges) {
	if ch == nil {
		return
	}
	var evs []model.Event
	for _, id := range ch.Queues {
		if q, err := c.srv.cfg.Store.WorkQueueGetByID(c.ctx, c.ws, id); err == nil {
			evs = append(evs, c.workQueueStatusEvent(q, model.PoolReady))
		}
	}
	for _, id := range ch.Deployments {
		if d, err := c.srv.cfg.Store.DeploymentGet(c.ctx, c.ws, id); err == nil {
			evs = append(evs, c.deploymentEvent("ready", d, nil))
		}
	}
	c.emit(evs...)
}
