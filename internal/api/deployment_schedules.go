package api

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/batonhq/baton/internal/model"
	"github.com/batonhq/baton/internal/schedule"
)

// checkScheduleUpdate validates one schedule of a PATCH body (field is its
// name in error messages) and gives an interval without anchor one at now.
func checkScheduleUpdate(s *model.DeploymentScheduleUpdate, field string, now time.Time) error {
	if s.Schedule != nil {
		if _, err := schedule.FromModel(*s.Schedule); err != nil {
			return errorf(http.StatusUnprocessableEntity, "field \"%s.schedule\": %v", field, err)
		}
		if s.Schedule.Kind() == "interval" && s.Schedule.AnchorDate == nil {
			s.Schedule.AnchorDate = model.TimePtr(now)
		}
	}
	if s.MaxScheduledRuns != nil && *s.MaxScheduledRuns < 1 {
		return errorf(http.StatusUnprocessableEntity, "field \"%s.max_scheduled_runs\" must be >= 1", field)
	}
	return checkObject(s.Parameters, field+".parameters")
}

// checkUniqueSlugs answers 409 when two schedules of one deployment share a
// slug (Prefect's unique index on deployment and slug).
func checkUniqueSlugs(scheds []model.DeploymentSchedule) error {
	seen := map[string]bool{}
	for _, s := range scheds {
		if s.Slug == nil {
			continue
		}
		if seen[*s.Slug] {
			return errorf(http.StatusConflict, "schedule slugs must be unique within a deployment: %q is used twice", *s.Slug)
		}
		seen[*s.Slug] = true
	}
	return nil
}

// newSchedule is a schedule created from a PATCH element (whose schedule
// the caller checked is present).
func newSchedule(u model.DeploymentScheduleUpdate, now time.Time) model.DeploymentSchedule {
	active := true
	if u.Active != nil {
		active = *u.Active
	}
	t := model.NewTime(now)
	return model.DeploymentSchedule{ID: model.NewID(), Created: t, Updated: t, Schedule: *u.Schedule, Active: active,
		MaxScheduledRuns: u.MaxScheduledRuns, Parameters: emptyObject(u.Parameters), Slug: u.Slug}
}

// mergeSchedules applies the schedules of PATCH /deployments/{id} to a
// deployment's existing ones as Prefect 3 does:
//
//   - when every existing schedule has a slug (and there is at least one)
//     and every sent schedule has one, the sent schedules are matched by
//     slug: a match is updated in place (keeping its id; a "replaces" slug
//     renames it), an unmatched one is created (it needs a schedule), and
//     existing schedules not mentioned are kept — so {"schedules": []}
//     keeps them all;
//   - when every existing schedule has a slug but a sent one has none, the
//     request is refused (422) rather than replacing named schedules;
//   - otherwise the sent schedules replace the existing ones (those without
//     a schedule are dropped).
func mergeSchedules(existing []model.DeploymentSchedule, sent []model.DeploymentScheduleUpdate, now time.Time) ([]model.DeploymentSchedule, error) {
	allSent := !slices.ContainsFunc(sent, func(s model.DeploymentScheduleUpdate) bool { return s.Slug == nil })
	allExisting := len(existing) > 0 && !slices.ContainsFunc(existing, func(s model.DeploymentSchedule) bool { return s.Slug == nil })
	switch {
	case allSent && allExisting:
		return mergeBySlug(existing, sent, now)
	case allExisting:
		return nil, errorf(http.StatusUnprocessableEntity,
			"field \"schedules\": please provide a slug for each schedule in your request to ensure schedules are updated correctly (every existing schedule has one)")
	}
	out := make([]model.DeploymentSchedule, 0, len(sent))
	for _, s := range sent {
		if s.Schedule != nil {
			out = append(out, newSchedule(s, now))
		}
	}
	return out, checkUniqueSlugs(out)
}

func mergeBySlug(existing []model.DeploymentSchedule, sent []model.DeploymentScheduleUpdate, now time.Time) ([]model.DeploymentSchedule, error) {
	index := map[string]int{}
	for i, s := range existing {
		index[*s.Slug] = i
	}
	replaced := map[string]bool{}
	for _, s := range sent {
		if s.Replaces == nil {
			continue
		}
		if replaced[*s.Replaces] {
			return nil, errorf(http.StatusUnprocessableEntity, "field \"schedules\": multiple schedules have 'replaces' targeting the same slug: %s", *s.Replaces)
		}
		replaced[*s.Replaces] = true
	}
	for _, s := range sent {
		if _, taken := index[*s.Slug]; s.Replaces != nil && taken && !replaced[*s.Slug] {
			return nil, errorf(http.StatusUnprocessableEntity,
				"field \"schedules\": cannot rename schedule from '%s' to '%s': a schedule with slug '%s' already exists", *s.Replaces, *s.Slug, *s.Slug)
		}
	}
	out := slices.Clone(existing)
	for k, s := range sent {
		target := *s.Slug
		if s.Replaces != nil {
			target = *s.Replaces
		}
		i, ok := index[target]
		if !ok {
			if s.Schedule == nil {
				return nil, errorf(http.StatusUnprocessableEntity,
					"field \"schedules[%d].schedule\": unable to create new deployment schedule %q without a schedule configuration", k, *s.Slug)
			}
			out = append(out, newSchedule(s, now))
			continue
		}
		// Prefect writes every field of the update that is not null; its
		// parameters default to {} and so always replace the old ones.
		cur := out[i]
		if s.Active != nil {
			cur.Active = *s.Active
		}
		if s.Schedule != nil {
			cur.Schedule = *s.Schedule
		}
		if s.MaxScheduledRuns != nil {
			cur.MaxScheduledRuns = s.MaxScheduledRuns
		}
		cur.Parameters = emptyObject(s.Parameters)
		slug := *s.Slug
		cur.Slug = &slug
		cur.Updated = model.NewTime(now)
		out[i] = cur
	}
	return out, checkUniqueSlugs(out)
}

// scheduleRunsBody is the body of POST /deployments/{id}/schedule (every
// field optional; min_time is seconds).
type scheduleRunsBody struct {
	StartTime *model.Time `json:"start_time"`
	EndTime   *model.Time `json:"end_time"`
	MinTime   *float64    `json:"min_time"`
	MinRuns   *int        `json:"min_runs"`
	MaxRuns   *int        `json:"max_runs"`
}

// scheduleDeploymentRuns creates the runs of a deployment's active
// schedules in a window, as the scheduler would (same idempotency keys, so
// neither creates a run twice): from start_time (default now) up to
// end_time (default start + 100 days), at most max_runs (default 100) per
// schedule, stopping once min_runs (default 3) runs and start + min_time
// (default 1 h) are reached. Start and end times in the past backfill.
func scheduleDeploymentRuns(c *call, b *scheduleRunsBody) (noContent, error) {
	did := c.id("id")
	now := c.srv.now()
	start := now
	if b.StartTime != nil {
		start = b.StartTime.Time
	}
	end := start.Add(100 * 24 * time.Hour)
	if b.EndTime != nil {
		end = b.EndTime.Time
	}
	minTime := time.Hour
	if b.MinTime != nil {
		if *b.MinTime < 0 {
			return noContent{}, errorf(http.StatusUnprocessableEntity, "field \"min_time\" must be >= 0 (seconds)")
		}
		minTime = time.Duration(*b.MinTime * float64(time.Second))
	}
	minRuns, maxRuns := 3, 100
	if b.MinRuns != nil {
		minRuns = *b.MinRuns
	}
	if b.MaxRuns != nil {
		maxRuns = *b.MaxRuns
	}
	if minRuns < 0 || maxRuns < 0 {
		return noContent{}, errorf(http.StatusUnprocessableEntity, "fields \"min_runs\" and \"max_runs\" must be >= 0")
	}
	target, err := c.srv.cfg.Store.DeploymentScheduleTarget(c.ctx, c.ws, did)
	if err != nil {
		return noContent{}, notFoundAs(err, "deployment", did)
	}
	_, err = c.srv.cfg.Runs.ScheduleManualRuns(c.ctx, target, start, end, minTime, minRuns, maxRuns, now)
	if err != nil {
		return noContent{}, fmt.Errorf("schedule deployment %s: %w", did, err)
	}
	dispatchSignalOf(c.srv).notify()
	return noContent{}, nil
}
