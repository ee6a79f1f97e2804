package api

import (
	"net/http"
	"time"

	"github.com/batonhq/baton/internal/model"
)

// historyQuery is the body of POST /flow_runs/history.
type historyQuery struct {
	model.RunQuery
	HistoryStart           model.Time `json:"history_start" required:"true"`
	HistoryEnd             model.Time `json:"history_end" required:"true"`
	HistoryIntervalSeconds float64    `json:"history_interval_seconds" required:"true"`
}

// maxHistoryIntervals bounds the number of buckets one request may ask for.
const maxHistoryIntervals = 500

func historyRoutes() []route {
	h := func(c *call, b *historyQuery) ([]model.HistoryInterval, error) {
		if b.HistoryIntervalSeconds <= 0 {
			return nil, errorf(http.StatusUnprocessableEntity, "field \"history_interval_seconds\" must be > 0")
		}
		if !b.HistoryEnd.After(b.HistoryStart.Time) {
			return nil, errorf(http.StatusUnprocessableEntity, "field \"history_end\" must be after \"history_start\"")
		}
		every := time.Duration(b.HistoryIntervalSeconds * float64(time.Second))
		if n := b.HistoryEnd.Sub(b.HistoryStart.Time) / every; n > maxHistoryIntervals {
			return nil, errorf(http.StatusUnprocessableEntity, "the range holds %d intervals; at most %d are allowed (widen \"history_interval_seconds\")", n, maxHistoryIntervals)
		}
		return c.srv.cfg.Store.FlowRunHistory(c.ctx, c.ws, b.RunQuery, b.HistoryStart.Time, b.HistoryEnd.Time, every)
	}
	return []route{
		op(wsRead, "POST", "/flow_runs/history", "Flow Runs", "Counts of flow runs by state in consecutive intervals (by expected start time)", 200, h),
		optionalBody(op(wsRead, "POST", "/ui/flow_runs/history", "UI", "Matching flow runs reduced to what a history chart plots (id, state type, start, duration, lateness)", 200, uiFlowRunHistory)),
	}
}

// simpleFlowRun is Prefect's SimpleFlowRun: one dot of a run history chart.
type simpleFlowRun struct {
	ID        model.ID        `json:"id"`
	StateType model.StateType `json:"state_type"`
	// Timestamp is the start time, or the expected start time if the run
	// has not started.
	Timestamp model.Time     `json:"timestamp"`
	Duration  model.Duration `json:"duration"`
	Lateness  model.Duration `json:"lateness"`
}

// uiFlowRunHistory answers POST /ui/flow_runs/history: the runs that match
// the filters (sorted, windowed; at most 1000, EXPECTED_START_TIME_DESC by
// default as in Prefect), each reduced to a simpleFlowRun.
func uiFlowRunHistory(c *call, q *model.RunQuery) ([]simpleFlowRun, error) {
	if q.Limit == 0 {
		q.Limit = maxLimit
	}
	if q.Sort == "" {
		q.Sort = "EXPECTED_START_TIME_DESC"
	}
	if err := checkQuery(q, model.FlowRunSorts); err != nil {
		return nil, err
	}
	runs, err := c.srv.cfg.Store.FlowRunList(c.ctx, c.ws, *q)
	if err != nil {
		return nil, err
	}
	out := make([]simpleFlowRun, 0, len(runs))
	for _, r := range runs {
		d := simpleFlowRun{ID: r.ID, Duration: r.EstimatedRunTime, Lateness: r.EstimatedStartTimeDelta}
		if r.StateType != nil {
			d.StateType = *r.StateType
		}
		switch {
		case r.StartTime != nil:
			d.Timestamp = *r.StartTime
		case r.ExpectedStartTime != nil:
			d.Timestamp = *r.ExpectedStartTime
		}
		out = append(out, d)
	}
	return out, nil
}
