package runs

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/schedule"
	"github.com/batonhq/baton/internal/store"
)

// ScheduledRunKey is the idempotency key of the auto-scheduled run of a
// deployment's schedule at at; the scheduler and manual scheduling use the
// same key, so neither creates a run the other made.
func ScheduledRunKey(deployment, sched model.ID, at time.Time) string {
	return "scheduled " + deployment.String() + " " + sched.String() + " " + at.UTC().Format(time.RFC3339)
}

// scheduleClassNames are the names Prefect shows for a schedule without a
// slug in a run's created_by.
var scheduleClassNames = map[string]string{"interval": "IntervalSchedule", "cron": "CronSchedule", "rrule": "RRuleSchedule"}

// AutoRun builds the run of schedule sc of d at at (ScheduleDeploymentRuns
// gives it its name and its SCHEDULED state). Its parameters are the
// deployment's overlaid with the schedule's; created_by names the schedule
// by slug, else by its kind as Prefect does.
func AutoRun(d model.Deployment, sc model.DeploymentSchedule, at, now time.Time) model.FlowRun {
	params := map[string]any{}
	_ = json.Unmarshal(d.Parameters, &params)
	var extra map[string]any
	if json.Unmarshal(sc.Parameters, &extra) == nil {
		maps.Copy(params, extra)
	}
	rawParams, _ := json.Marshal(params)
	key := ScheduledRunKey(d.ID, sc.ID, at)
	labels := model.Labels{}
	maps.Copy(labels, d.Labels)
	labels["prefect.deployment.id"] = d.ID.String()
	tags := append([]string{"auto-scheduled"}, slices.DeleteFunc(slices.Clone(d.Tags), func(t string) bool { return t == "auto-scheduled" })...)
	display := scheduleClassNames[sc.Schedule.Kind()]
	if sc.Slug != nil {
		display = *sc.Slug
	}
	return model.FlowRun{
		ID: model.NewID(), Created: model.NewTime(now), Updated: model.NewTime(now), FlowID: d.FlowID,
		DeploymentID: &d.ID, DeploymentVersion: d.Version, Parameters: rawParams, Context: json.RawMessage("{}"),
		IdempotencyKey: &key, Tags: tags, Labels: labels, AutoScheduled: true, JobVariables: json.RawMessage("{}"),
		WorkQueueName: d.WorkQueueName, WorkQueueID: d.WorkQueueID, WorkPoolID: d.WorkPoolID, WorkPoolName: d.WorkPoolName,
		EmpiricalPolicy: model.FlowRunPolicy{PauseKeys: []string{}},
		CreatedBy:       &model.CreatedBy{ID: &sc.ID, Type: "SCHEDULE", DisplayValue: display},
	}
}

// ScheduleManualRuns creates, for each active schedule of target's
// deployment, the runs from start (inclusive) up to end (exclusive): at
// most maxRuns per schedule, and no more once minRuns runs and
// start+minTime are both reached (Prefect's schedule_runs). Past times
// backfill. Runs that exist already (same idempotency key) are skipped; it
// returns how many were new.
func (s *Service) ScheduleManualRuns(ctx context.Context, target store.ScheduleTarget, start, end time.Time, minTime time.Duration, minRuns, maxRuns int, now time.Time) (int, error) {
	d := target.Deployment
	var planned []PlannedRun
	for _, sc := range d.Schedules {
		if !sc.Active {
			continue
		}
		sched, err := schedule.FromModel(sc.Schedule)
		if err != nil {
			continue // refused on write; an old invalid one makes no runs
		}
		for i, at := range schedule.Between(sched, start, end, maxRuns) {
			planned = append(planned, PlannedRun{Run: AutoRun(d, sc, at, now), At: at})
			if i+1 >= minRuns && !at.Before(start.Add(minTime)) {
				break
			}
		}
	}
	target.Manual = true
	return s.ScheduleDeploymentRuns(ctx, target, planned, now, now)
}
