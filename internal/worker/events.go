package worker

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// The events Prefect's workers emit about themselves, which automations
// can trigger on: prefect.worker.started and .stopped, and for each run
// .submitted-flow-run and .executed-flow-run (prefect/workers/base.py).

var slugUnsafe = regexp.MustCompile(`[^a-z0-9-]+`)

// workerResource is the worker as an event resource.
func (w *Worker) workerResource() map[string]string {
	slug := strings.Trim(slugUnsafe.ReplaceAllString(strings.ToLower(w.cfg.Name), "-"), "-")
	return map[string]string{"prefect.resource.id": "prefect.worker.process." + slug, "prefect.resource.name": w.cfg.Name,
		"prefect.worker-type": "process", "prefect.version": "baton"}
}

// related are the pool (always) and a run's resources (when given).
func (w *Worker) related(run *model.FlowRun, extra map[string]string) []map[string]string {
	var rel []map[string]string
	if run != nil {
		fr := map[string]string{"prefect.resource.id": "prefect.flow-run." + run.ID.String(), "prefect.resource.name": run.Name, "prefect.resource.role": "flow-run"}
		for k, v := range extra {
			fr[k] = v
		}
		rel = append(rel, fr)
		if run.DeploymentID != nil {
			rel = append(rel, map[string]string{"prefect.resource.id": "prefect.deployment." + run.DeploymentID.String(), "prefect.resource.role": "deployment"})
		}
		rel = append(rel, map[string]string{"prefect.resource.id": "prefect.flow." + run.FlowID.String(), "prefect.resource.role": "flow"})
	}
	if !w.poolID.IsNil() {
		rel = append(rel, map[string]string{"prefect.resource.id": "prefect.work-pool." + w.poolID.String(), "prefect.resource.name": w.cfg.Pool,
			"prefect.work-pool.type": w.pool.Type, "prefect.resource.role": "work-pool"})
	}
	return rel
}

// emit sends one worker event; a failure is logged (the work goes on).
func (w *Worker) emit(ctx context.Context, name string, related []map[string]string, follows *model.ID) model.ID {
	id := model.NewIDv7()
	if related == nil {
		related = []map[string]string{}
	}
	ev := model.Event{ID: id, Occurred: model.NewTime(time.Now()), Event: name, Resource: w.workerResource(), Related: related, Follows: follows}
	if err := w.c.Do(ctx, "POST", "/events", []model.Event{ev}, nil); err != nil && ctx.Err() == nil {
		w.log.Warn("worker event not sent", "event", name, "err", err)
	}
	return id
}
